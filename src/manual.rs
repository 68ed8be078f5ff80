//! `aurora-sim completions SHELL` and `aurora-sim man`: generated from the
//! same clap definitions as `--help`, so they cannot drift from it.

use crate::cli::Cli;
use clap::CommandFactory;

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "aurora-sim", &mut out);
    out
}

/// One man page (roff) with every subcommand's synopsis, options and example
/// in it: a single page prints to stdout and installs as one file.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build(); // gives each subcommand its full name, `aurora-sim plot sweep`
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    let mut leaves = Vec::new();
    for sub in cmd.get_subcommands() {
        if sub.has_subcommands() {
            leaves.extend(sub.get_subcommands().cloned());
        } else {
            leaves.push(sub.clone());
        }
    }
    for sub in leaves {
        let name = sub
            .get_bin_name()
            .unwrap_or(sub.get_name())
            .to_uppercase()
            .replace('-', "\\-");
        out.extend_from_slice(format!(".SH \"{name}\"\n").as_bytes());
        if let Some(about) = sub.get_about() {
            out.extend_from_slice(format!("{}\n", roff_text(&about.to_string())).as_bytes());
        }
        let man = clap_mangen::Man::new(sub.clone());
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part)?;
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut part)?;
        }
        if sub.get_after_help().is_some() {
            man.render_extra_section(&mut part)?;
        }
        // Sections of the subcommand become subsections of its own section.
        let part = String::from_utf8_lossy(&part)
            .replace(".SH SYNOPSIS", ".SS Synopsis")
            .replace(".SH OPTIONS", ".SS Options")
            .replace(".SH EXTRA\n", "");
        out.extend_from_slice(part.as_bytes());
    }
    Ok(out)
}

/// Text safe on a roff line: a leading `.` or `'` would be read as a request.
fn roff_text(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with(['.', '\'']) {
        format!("\\&{s}")
    } else {
        s
    }
}
