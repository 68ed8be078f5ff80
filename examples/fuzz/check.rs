//! Runs an input's steps through the command layer in-process and checks
//! every answer against SPEC §3: exit class, messages, and output ranges.

use crate::estimate::{self, Plan};
use crate::input::{Input, Step};
use crate::outputs;
use crate::rng::Rng;
use aurora_sim::cli::Command;
use aurora_sim::commands::dispatch;
use aurora_sim::error::Error;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A command slower than this is a finding even if it ends. `analyze` may
/// take ~10–15 s where its iteration crawls and it falls back to elimination
/// (up to 20,000 states, see docs/model.md), which is slow but answers; a
/// hang is caught by the supervisor's `--timeout`.
pub const SLOW: Duration = Duration::from_secs(30);

/// The last panic's message, location and aurora_sim frames, set by the hook.
pub static PANIC: Mutex<Option<String>> = Mutex::new(None);

/// How an input ended.
#[derive(Debug)]
pub enum Outcome {
    /// The last command succeeded and its outputs passed every check.
    Valid,
    /// The last command was refused as bad input or usage (exit 2).
    Invalid,
    /// The work estimate was over the cap; nothing ran.
    Skipped,
    /// A check failed: (signature for grouping, details).
    Finding(String, String),
}

/// Installs a panic hook that records the panic instead of printing it.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let bt = std::backtrace::Backtrace::force_capture().to_string();
        // The first frame in the simulator's own code says where to look
        // when the panic location is inside the standard library.
        let frame = bt
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| w[0].contains("aurora_sim::") && !w[0].contains("fuzz"))
            .map(|w| format!("{} {}", w[0], w[1]))
            .unwrap_or_default();
        let text = format!("panic: {info}\n  first aurora_sim frame: {frame}\n{bt}");
        if let Ok(mut p) = PANIC.lock() {
            p.get_or_insert(text);
        }
    }));
}

/// The first line with every number replaced by `#`, cut short, so
/// findings group by kind rather than by value.
pub fn signature(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    let mut out = String::new();
    let mut in_number = false;
    for c in line.chars() {
        let part = c.is_ascii_digit() || (in_number && ".eE+-".contains(c));
        if !part {
            out.push(c);
        } else if !in_number {
            out.push('#');
        }
        in_number = part;
    }
    out.chars().take(110).collect()
}

/// Result of one command.
enum Ran {
    Ok,
    Refused,
    Skipped,
}

/// Runs and checks every step; the first finding ends the input.
pub fn execute(input: &Input) -> Outcome {
    for entry in std::fs::read_dir(".").into_iter().flatten().flatten() {
        let p = entry.path();
        let _ = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
    }
    let mut last = Outcome::Valid;
    for step in &input.steps {
        let r = match step {
            Step::Write(name, bytes) => std::fs::write(name, bytes)
                .map_err(|e| Outcome::Finding("fuzz: cannot write input".into(), e.to_string())),
            Step::Mutate(name, seed) => {
                if let Ok(mut b) = std::fs::read(name) {
                    let other = b.clone();
                    crate::scenario::mutate(&mut Rng::new(*seed), &mut b, &other);
                    let _ = std::fs::write(name, b);
                }
                Ok(())
            }
            Step::Forge(name, seed) => {
                outputs::forge(Path::new(name), &mut Rng::new(*seed));
                Ok(())
            }
            Step::Same(a, b) => match (std::fs::read(a), std::fs::read(b)) {
                (Ok(x), Ok(y)) if x != y => Err(Outcome::Finding(
                    "merge: merged shards differ from the unsharded sweep".into(),
                    format!("{a} and {b} differ"),
                )),
                _ => Ok(()),
            },
            Step::Run(args) => match run(args, input.uncapped) {
                Ok(Ran::Ok) => {
                    last = Outcome::Valid;
                    Ok(())
                }
                Ok(Ran::Refused) => {
                    last = Outcome::Invalid;
                    Ok(())
                }
                Ok(Ran::Skipped) => {
                    last = Outcome::Skipped;
                    Ok(())
                }
                Err((sig, details)) => Err(Outcome::Finding(
                    sig,
                    format!("command: aurora-sim {}\n{details}", shell_words(args)),
                )),
            },
        };
        if let Err(f) = r {
            return f;
        }
    }
    last
}

/// The arguments quoted for a POSIX shell.
pub fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Output files a command names (they must not exist after a refusal).
fn outputs_of(args: &[String]) -> Vec<String> {
    args.windows(2)
        .filter(|w| ["--out", "--timeline", "--plot"].contains(&w[0].as_str()))
        .map(|w| w[1].clone())
        .filter(|p| !p.is_empty() && p != "s.toml" && Path::new(p).parent().is_some())
        .collect()
}

/// Parses, estimates, dispatches and checks one command line.
fn run(args: &[String], uncapped: bool) -> Result<Ran, (String, String)> {
    let argv = std::iter::once("aurora-sim".to_string()).chain(args.iter().cloned());
    // The binary's own parse (what `main` does), not clap's alone.
    let cli = match aurora_sim::cli::parse_from(argv) {
        Ok(c) => c,
        Err(u) => {
            let text = u.text;
            if std::env::var_os("FUZZ_TRACE").is_some() {
                eprintln!("usage: {}", text.lines().next().unwrap_or(""));
            }
            if u.code == 0 {
                return Ok(Ran::Refused); // --help, --version
            }
            if u.code != 2 || !text.starts_with("error:") {
                return Err((
                    format!("usage: exit {} without an `error:` line", u.code),
                    text,
                ));
            }
            return Ok(Ran::Refused);
        }
    };
    let existed: Vec<bool> = outputs_of(args)
        .iter()
        .map(|p| Path::new(p).exists())
        .collect();
    let cmd_kind = kind(&cli.command);
    // The estimate loads the scenario with the library, as the command
    // would: a panic here is the command's panic.
    let plan = catch_unwind(AssertUnwindSafe(|| estimate::plan(&cli.command)))
        .map_err(|_| panicked(cmd_kind))?;
    if !uncapped && plan.as_ref().is_some_and(|p| p.events.is_infinite()) {
        return Ok(Ran::Skipped);
    }
    let json = matches!(&cli.command, Command::Run(a) if a.json)
        || matches!(&cli.command, Command::Analyze(a) if a.json);
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| dispatch(cli.command)));
    let took = started.elapsed();
    let leftovers = temp_files();
    if !leftovers.is_empty() {
        return Err((
            "outputs: a temporary file is left behind".into(),
            leftovers.join("\n"),
        ));
    }
    if took > SLOW {
        return Err((
            format!("slow: {cmd_kind} took over {} s", SLOW.as_secs()),
            format!("took {took:?}"),
        ));
    }
    match result {
        Err(_) => Err(panicked(cmd_kind)),
        Ok(Err(Error::Input(e))) => {
            let msg = e.to_string();
            if std::env::var_os("FUZZ_TRACE").is_some() {
                eprintln!("refused: {msg}");
            }
            if e.message.trim().is_empty() {
                return Err((format!("{cmd_kind}: empty error message"), msg));
            }
            for (p, had) in outputs_of(args).iter().zip(existed) {
                if !had && Path::new(p).exists() {
                    return Err((
                        format!("{cmd_kind}: an output exists after a refusal"),
                        format!("{p} written, yet: error: {msg}"),
                    ));
                }
            }
            Ok(Ran::Refused)
        }
        Ok(Err(Error::Internal(m))) => Err((
            format!("{cmd_kind}: exit 1 (internal) {}", signature(&m)),
            format!("error: {m}"),
        )),
        Ok(Ok(text)) => {
            let empty = Plan {
                events: 0.0,
                scenarios: Vec::new(),
            };
            outputs::check(cmd_kind, args, &text, json, plan.as_ref().unwrap_or(&empty))
                .map_err(|m| (format!("{cmd_kind}: {}", signature(&m)), m))?;
            Ok(Ran::Ok)
        }
    }
}

/// The recorded panic as a finding.
fn panicked(cmd_kind: &str) -> (String, String) {
    let text = PANIC
        .lock()
        .ok()
        .and_then(|mut p| p.take())
        .unwrap_or_else(|| "panic (no message)".into());
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let frame = lines.next().unwrap_or("").trim();
    // Group by where it panicked (message without numbers, and the frame).
    let sig = format!("{cmd_kind}: {} @ {}", signature(first), signature(frame));
    (sig, text)
}

/// Temporary files the tool left in the scratch folder.
fn temp_files() -> Vec<String> {
    std::fs::read_dir(".")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// The subcommand's name.
fn kind(cmd: &Command) -> &'static str {
    match cmd {
        Command::Run(_) => "run",
        Command::Check(_) => "check",
        Command::Sweep(a) if a.shard.is_some() => "sweep --shard",
        Command::Sweep(_) => "sweep",
        Command::Merge(_) => "merge",
        Command::Compare(_) => "compare",
        Command::Analyze(_) => "analyze",
        Command::Estimate(_) => "estimate",
        Command::Plot(aurora_sim::cli::PlotCommand::Timeline(_)) => "plot timeline",
        Command::Plot(_) => "plot sweep",
        Command::Completions(_) => "completions",
        Command::Man => "man",
    }
}
