//! Issue 11: the sweep's summary line, `completions`, `man`, an example at
//! the end of every `--help`, and the flags `analyze` offers.

use super::interface::{SCRIPTED, ok, refused, sweep};
use super::{bin, scenarios, write};

// See: issue 11
#[test]
fn issue_11_sweep_ends_with_a_summary_line() {
    // Unless --quiet: points, trials, wall time and rate in one line (the bar
    // itself only draws on a terminal, which a test is not).
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "scripted.toml", SCRIPTED);
    let out = dir.path().join("s.csv");
    let o = sweep(
        &sc,
        &[
            "--trials",
            "5",
            "--vary",
            "cluster.detection_delay=0s,1m,1h",
        ],
        &out,
        true,
    );
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err.lines().find(|l| l.starts_with("sweep: ")).unwrap_or("");
    assert!(
        line.starts_with("sweep: 3 points, 15 trials in ") && line.ends_with(" trials/s)"),
        "{err}"
    );
    let o = sweep(&sc, &["--trials", "5"], &out, false);
    ok(&o);
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

// See: issue 11
#[test]
fn issue_11_completions_and_man_page() {
    // Generated from the clap definitions: every subcommand must appear.
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = bin().args(["completions", shell]).output().unwrap();
        ok(&o);
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(
            s.contains("aurora-sim") && s.contains("vary-together"),
            "{shell}"
        );
    }
    let o = bin().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = bin().arg("man").output().unwrap();
    ok(&o);
    let page = String::from_utf8_lossy(&o.stdout);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    for sub in [
        "RUN",
        "CHECK",
        "SWEEP",
        "MERGE",
        "ANALYZE",
        "PLOT TIMELINE",
        "PLOT SWEEP",
    ] {
        assert!(
            page.contains(&format!(".SH \"AURORA\\-SIM {sub}\"")),
            "{sub}"
        );
    }
    assert!(page.contains("vary\\-together"));
}

// See: issue 11
#[test]
fn issue_11_every_help_ends_with_an_example() {
    for sub in [
        &["run"][..],
        &["check"],
        &["sweep"],
        &["merge"],
        &["analyze"],
        &["plot", "timeline"],
        &["plot", "sweep"],
        &["completions"],
        &["man"],
    ] {
        let o = bin().args(sub).arg("--help").output().unwrap();
        ok(&o);
        let help = String::from_utf8_lossy(&o.stdout);
        let (_, example) = help
            .rsplit_once("\nExample:\n")
            .unwrap_or_else(|| panic!("{sub:?}: {help}"));
        assert!(
            example
                .trim_start()
                .starts_with(&format!("aurora-sim {}", sub.join(" "))),
            "{sub:?}: {example}"
        );
    }
}

// See: issue 11
#[test]
fn issue_11_analyze_offers_no_seed_or_horizon() {
    // A long-run exact answer depends on neither; offering them suggested
    // otherwise. A file without a horizon is fine for analyze.
    let sc = scenarios().join("fleet-rates.toml");
    for flag in [&["--seed", "3"][..], &["--horizon", "1y"]] {
        let o = bin().arg("analyze").arg(&sc).args(flag).output().unwrap();
        let err = refused(&o);
        assert!(err.contains("unexpected argument"), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "nohorizon.toml",
        "name = \"n\"\n[failures.node_loss]\nevery = \"1y\"\n",
    );
    let o = bin()
        .arg("analyze")
        .arg(&f)
        .arg("--approx")
        .output()
        .unwrap();
    ok(&o);
}
