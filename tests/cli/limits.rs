//! Issue 11: every input checked and every limit stated up front. Each bad
//! input exits 2 with one `error:` line that names the flag or the file
//! position and the limit, and leaves no output file.

use super::{bin, scenarios, write};
use std::path::Path;

/// Runs `args`, expects exit 2 and a single `error:` line holding `expect`.
fn refused(args: &[&str], expect: &[&str]) -> String {
    let out = bin().args(args).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for e in expect {
        assert!(err.contains(e), "expected `{e}` in: {err}");
    }
    err
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

const HEAD: &str = "name = \"x\"\nhorizon = \"1d\"\n";

// See: issue 11
#[test]
fn issue_11_no_arguments_is_an_error_with_the_usage() {
    // clap's default printed the help with exit 2 but no `error:` line.
    let out = bin().output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.starts_with("error: a subcommand is required\n"),
        "{err}"
    );
    assert!(err.contains("Usage: aurora-sim <COMMAND>"), "{err}");
    // The same for a command that needs a subcommand (a fuzz finding).
    let out = bin().arg("plot").output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.starts_with("error: a subcommand is required\n"),
        "{err}"
    );
    assert!(err.contains("Usage: aurora-sim plot <COMMAND>"), "{err}");
}

// See: issue 11
#[test]
fn issue_11_durations_state_their_limit() {
    // `584943y` said only "is too large"; the limit is u64 µs = 584,942.4 y.
    let sc = scenarios().join("baseline.toml");
    refused(
        &["check", path(&sc), "--horizon", "584943y"],
        &[
            "error: --horizon: `584943y` is too large",
            "at most 584,942 years",
        ],
    );
    // In a file the value used to wrap (2^125 + 1 ms ran as 1 ms).
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "h.toml",
        "name = \"x\"\nhorizon = \"42535295865117307932921825928971026433ms\"\n",
    );
    refused(
        &["check", path(&p)],
        &["h.toml:2:11: horizon:", "584,942 years"],
    );
    // SPEC §1 asks for 100,000-year horizons: still fine.
    bin()
        .args(["check", path(&sc), "--horizon", "100000y"])
        .assert()
        .success();
}

// See: issue 11
#[test]
fn issue_11_near_misses_suggest_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            format!("{HEAD}[cluster]\nrestore_time = \"10 min\"\n"),
            "did you mean \"10m\"?",
        ),
        (
            format!(
                "{HEAD}[[events]]\nat = \"1h\"\nkind = \"az_outage\"\naz = \"az-a\"\nlasts = \"1h\"\n"
            ),
            "did you mean `az-outage`?",
        ),
        (
            format!("{HEAD}[cluster]\nwrite_quorum = \"4\"\n"),
            "expected an integer, found the string \"4\" (write it without quotes: 4)",
        ),
    ];
    for (text, hint) in cases {
        let p = write(dir.path(), "n.toml", &text);
        refused(&["check", path(&p)], &["n.toml:", hint]);
    }
}

// See: issue 11
#[test]
fn issue_11_deep_nesting_names_the_file_and_line() {
    // A 100,000-deep dotted header said only "recursion limit".
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEAD}[{}]\n", vec!["a"; 100_000].join("."));
    let p = write(dir.path(), "deep.toml", &text);
    refused(
        &["check", path(&p)],
        &["deep.toml:3:1:", "nested too deeply"],
    );
}

// See: issue 11
#[test]
fn issue_11_many_azs_are_refused_as_an_azs_problem() {
    // 50,000 names took a minute (a quadratic duplicate check, and node names
    // built before the cap); 100 AZs were blamed on nodes_per_az.
    let dir = tempfile::tempdir().unwrap();
    for n in [100, 50_000] {
        let names: Vec<String> = (0..n).map(|i| format!("\"z{i}\"")).collect();
        let text = format!("{HEAD}[cluster]\nazs = [{}]\n", names.join(", "));
        let p = write(dir.path(), "azs.toml", &text);
        refused(
            &["check", path(&p)],
            &[
                "azs.toml:4:7: cluster.azs:",
                &format!("{n} AZs"),
                "at most 64",
            ],
        );
    }
    // 33 AZs × the default 2 nodes: blamed on the AZ list, the key that was set.
    let names: Vec<String> = (0..33).map(|i| format!("\"z{i}\"")).collect();
    let p = write(
        dir.path(),
        "azs.toml",
        &format!("{HEAD}[cluster]\nazs = [{}]\n", names.join(", ")),
    );
    refused(
        &["check", path(&p)],
        &["cluster.azs:", "33 AZs × 2 nodes = 66"],
    );
}

// See: issue 11
#[test]
fn issue_11_runs_past_the_event_limit_are_refused_up_front() {
    // A crash every 1 ms per node over 100,000 years ran forever: about
    // 6 × 3.15e15 crashes × 3 events = 6e16 events.
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"x\"\nhorizon = \"100000y\"\n[failures.node_crash]\nevery = \"1ms\"\nlasts = \"1ms\"\n";
    let p = write(dir.path(), "fast.toml", text);
    refused(
        &["run", path(&p)],
        &[
            "error: --max-events: about 6e16 events estimated",
            "failures.node_crash (6 nodes",
            "pass --max-events 6e16",
        ],
    );
    let out = dir.path().join("s.csv");
    refused(
        &["sweep", path(&p), "--trials", "10", "--out", path(&out)],
        &[
            "--max-events: about 6e17 events",
            "10 trials × 1 grid points",
        ],
    );
    assert!(!out.exists());
    // The flag moves the line: 1 day of a crash every hour on 6 nodes is
    // 6 × 24 × 3 + 2 = 434 events: refused under 100, run under 1e6.
    let text =
        "name = \"x\"\nhorizon = \"1d\"\n[failures.node_crash]\nevery = \"1h\"\nlasts = \"1m\"\n";
    let p = write(dir.path(), "hourly.toml", text);
    refused(
        &["run", path(&p), "--max-events", "100"],
        &["about 5e2 events"],
    );
    bin()
        .args(["run", path(&p), "--max-events", "1e6"])
        .assert()
        .success();
}

// See: issue 11
#[test]
fn issue_11_sweep_inputs_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenarios().join("baseline.toml");
    let out = dir.path().join("s.csv");
    let o = path(&out);
    let s = path(&sc);
    refused(
        &[
            "sweep",
            s,
            "--trials",
            "10",
            "--threads",
            "10000",
            "--out",
            o,
        ],
        &["error: --threads: 10000 threads; at most"],
    );
    refused(
        &[
            "sweep",
            s,
            "--trials",
            "10",
            "--shard",
            "18446744073709551615/18446744073709551615",
            "--out",
            o,
        ],
        &["error: --shard:", "at most 1000000 shards"],
    );
    refused(
        &["sweep", s, "--trials", "10", "--shard", "11/20", "--out", o],
        &["error: --shard: 20 shards of 10 trials"],
    );
    refused(
        &[
            "sweep",
            s,
            "--trials",
            "10",
            "--vary",
            "horizon=lin:1:2:1000000000000",
            "--out",
            o,
        ],
        &[
            "error: --vary:",
            "N = 1000000000000 points",
            "at most 100000",
        ],
    );
    refused(
        &[
            "sweep",
            s,
            "--trials",
            "10",
            "--vary",
            "cluster.write_quorum=lin:4:5:1000",
            "--vary",
            "cluster.read_quorum=lin:3:4:1000",
            "--out",
            o,
        ],
        &["error: --vary: 1000 × 1000 = 1e6 grid points; a sweep has at most 100000"],
    );
    // 2^63 trials over 2 points is 2^64: it wrapped to trials = 0 and NaN.
    refused(
        &[
            "sweep",
            s,
            "--trials",
            "9223372036854775808",
            "--vary",
            "cluster.write_quorum=4,5",
            "--out",
            o,
        ],
        &["error: --trials:", "more than 2^64 trials"],
    );
    // One point: the count fits, the work does not.
    refused(
        &["sweep", s, "--trials", "9223372036854775808", "--out", o],
        &[
            "error: --max-events:",
            "9223372036854775808 trials × 1 grid points",
        ],
    );
    assert!(!out.exists());
    // --threads 0 is all cores.
    bin()
        .args([
            "sweep",
            s,
            "--trials",
            "4",
            "--threads",
            "0",
            "--quiet",
            "--out",
            o,
        ])
        .assert()
        .success();
}

// See: issue 11
#[test]
fn issue_11_analyze_refuses_big_chains_from_an_estimate() {
    // 3 × 4 and 4 × 3 took 37 s and 124 s (and over 600 MB) to be refused.
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(scenarios().join("all-four.toml")).unwrap();
    for (azs, n) in [
        ("[\"a\", \"b\", \"c\"]", 4),
        ("[\"a\", \"b\", \"c\", \"d\"]", 3),
    ] {
        let cluster = format!(
            "[cluster]\nazs = {azs}\nnodes_per_az = {n}\nwrite_quorum = 7\nread_quorum = 6\n"
        );
        let p = write(
            dir.path(),
            "big.toml",
            &src.replacen("[cluster]\n", &cluster, 1),
        );
        refused(
            &["analyze", path(&p)],
            &[
                "big.toml: the Markov chain of 12 replicas would have about",
                "estimated from",
            ],
        );
    }
}

// See: issue 11
#[test]
fn issue_11_analyze_names_every_non_exponential_timing() {
    // baseline.toml has a lognormal AZ outage and the fixed default repair
    // and restore times: all three in one refusal, not the first alone.
    let sc = scenarios().join("baseline.toml");
    refused(
        &["analyze", path(&sc)],
        &[
            "failures.az_outage.lasts, cluster.detection_delay, cluster.repair_time, cluster.restore_time:",
            "pass --approx",
        ],
    );
}

// See: issue 11
#[test]
fn issue_11_approx_refuses_infinite_means() {
    // exp(700²/2) and Γ(1 + 1/0.001) overflow: there is no exponential of
    // the same mean. This exited 1 ("state N has no way out") and printed NaN.
    let dir = tempfile::tempdir().unwrap();
    for (key, dist) in [
        (
            "failures.node_crash.lasts",
            "lasts = { dist = \"lognormal\", median = \"1h\", sigma = 700 }\nevery = \"1y\"",
        ),
        (
            "failures.node_crash.every",
            "every = { dist = \"weibull\", shape = 0.001, scale = \"1y\" }\nlasts = \"1h\"",
        ),
    ] {
        let text = format!("{HEAD}[failures.node_crash]\n{dist}\n");
        let p = write(dir.path(), "tail.toml", &text);
        refused(
            &["analyze", path(&p), "--approx"],
            &[&format!("tail.toml:4:1: {key}:"), "infinite mean"],
        );
    }
}

// See: issue 13 (a fuzz input ran for minutes: a queue walked at every event)
#[test]
fn issue_13_repair_queue_walks_are_estimated_and_refused() {
    // 6,554 PGs on 3 × 100 nodes: 131 segments a node. Nodes lost every
    // 13 min each (0.385 losses/s in all), 2 streams, 8.59 s repairs: a
    // lost node's repairs drain in 131 × 8.59 / 2 ≈ 563 s, so by Little's
    // law ~0.385 × 131 × 563 ≈ 28,000 repairs wait at once, walked at each
    // of ~10⁶ events: ~3e9 event-equivalents a trial, refused up front
    // (exit 2, naming the walk) rather than run for minutes. The shipped
    // 64 TiB volume (losses every 50 y) is not: its queue is empty.
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "q.toml",
        "name = \"q\"\nhorizon = \"2h\"\n[volume]\nsize = \"64TiB\"\nplacement = \"copyset\"\n\
         [fleet]\nnodes_per_az = 100\nrepair_streams = 2\n[failures.node_loss]\nevery = \"13m\"\n",
    );
    let q = p.to_str().unwrap();
    refused(
        &[
            "sweep",
            q,
            "--trials",
            "11",
            "--quiet",
            "--out",
            &format!("{q}.csv"),
        ],
        &[
            "--max-events",
            "repair queue walk",
            "failures.node_loss every",
        ],
    );
    bin()
        .arg("run")
        .arg(scenarios().join("volume-64tib.toml"))
        .arg("--json")
        .assert()
        .success();
}
