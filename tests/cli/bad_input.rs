//! Every class of bad input: exit 2, an `error:` line with file:line:col where
//! there is one, the offending key, and no output file left behind.

use super::{bin, write};

/// Runs `run FILE --timeline out.csv` on `text` and checks the failure shape.
fn rejects(text: &str, expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "bad.toml", text);
    let csv = dir.path().join("out.csv");
    let out = bin()
        .arg("run")
        .arg(&p)
        .arg("--timeline")
        .arg(&csv)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "one line, no debug dump: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for e in expect {
        assert!(err.contains(e), "expected `{e}` in: {err}");
    }
    assert!(!csv.exists(), "no output file on failure");
    // Only the scenario remains in the folder: no temporary file either.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

const HEAD: &str = "name = \"x\"\nhorizon = \"1d\"\n";

#[test]
fn unknown_key() {
    rejects(
        &format!("{HEAD}[cluster]\nrepair_tme = \"1s\"\n"),
        &["bad.toml:4:1:", "cluster.repair_tme", "unknown key"],
    );
    rejects(&format!("{HEAD}colour = 1\n"), &["bad.toml:3:1:", "colour"]);
}

#[test]
fn unknown_node_or_az() {
    let ev = "[[events]]\nat = \"1h\"\nkind = \"node-crash\"\nnode = \"az-q-1\"\nlasts = \"1h\"\n";
    rejects(
        &format!("{HEAD}{ev}"),
        &["bad.toml:6:8:", "events[0].node", "unknown node `az-q-1`"],
    );
    let ev = "[[events]]\nat = \"1h\"\nkind = \"az-outage\"\naz = \"az-z\"\nlasts = \"1h\"\n";
    rejects(
        &format!("{HEAD}{ev}"),
        &["bad.toml:6:6:", "events[0].az", "unknown AZ"],
    );
}

#[test]
fn bad_duration_size_bandwidth_distribution() {
    rejects(
        "name = \"x\"\nhorizon = \"1x\"\n",
        &["bad.toml:2:11:", "horizon", "unit"],
    );
    rejects(
        &format!("{HEAD}[cluster]\nsegment_size = \"10\"\n"),
        &["bad.toml:4:16:", "cluster.segment_size"],
    );
    rejects(
        &format!("{HEAD}[cluster]\nrepair_bandwidth = \"10GBps\"\n"),
        &["bad.toml:4:20:", "cluster.repair_bandwidth"],
    );
    rejects(
        &format!("{HEAD}[failures.node_loss]\nevery = {{ dist = \"weibul\", shape = 1 }}\n"),
        &[
            "bad.toml:4:9:",
            "failures.node_loss.every.dist",
            "unknown distribution",
        ],
    );
    rejects(
        &format!(
            "{HEAD}[failures.node_loss]\nevery = {{ dist = \"weibull\", shape = -1, scale = \"1y\" }}\n"
        ),
        &["bad.toml:4:9:", "failures.node_loss.every.shape"],
    );
    rejects(
        &format!(
            "{HEAD}[failures.node_loss]\nevery = {{ dist = \"lognormal\", median = \"1y\" }}\n"
        ),
        &["bad.toml:4:9:", "needs `sigma`"],
    );
}

#[test]
fn zero_or_negative_durations() {
    rejects(
        &format!("{HEAD}[failures.node_crash]\nevery = \"0s\"\nlasts = \"1m\"\n"),
        &["bad.toml:4:9:", "failures.node_crash.every", "positive"],
    );
    rejects(
        "name = \"x\"\nhorizon = -5\n",
        &["bad.toml:2:11:", "horizon", "negative"],
    );
    rejects(
        &format!("{HEAD}[cluster]\nreplace_down_after = 0\n"),
        &["bad.toml:4:22:", "cluster.replace_down_after", "positive"],
    );
    rejects(
        &format!("{HEAD}[cluster]\ndetection_delay = \"-1s\"\n"),
        &["bad.toml:4:19:", "negative"],
    );
}

#[test]
fn event_at_or_past_the_horizon() {
    let ev = "[[events]]\nat = \"1d\"\nkind = \"node-loss\"\nnode = \"az-a-1\"\n";
    rejects(
        &format!("{HEAD}{ev}"),
        &["bad.toml:4:6:", "events[0].at", "horizon"],
    );
}

#[test]
fn lasts_required_or_forbidden() {
    let ev = "[[events]]\nat = \"1h\"\nkind = \"node-loss\"\nnode = \"az-a-1\"\nlasts = \"1h\"\n";
    rejects(
        &format!("{HEAD}{ev}"),
        &["bad.toml:7:9:", "events[0].lasts", "not allowed"],
    );
    let ev = "[[events]]\nat = \"1h\"\nkind = \"az-outage\"\naz = \"az-a\"\n";
    rejects(&format!("{HEAD}{ev}"), &["events[0].lasts", "missing"]);
    rejects(
        &format!("{HEAD}[failures.node_loss]\nevery = \"1y\"\nlasts = \"1h\"\n"),
        &["bad.toml:5:9:", "failures.node_loss.lasts"],
    );
    rejects(
        &format!("{HEAD}[failures.az_outage]\nevery = \"1y\"\n"),
        &["failures.az_outage.lasts", "missing"],
    );
}

#[test]
fn invalid_quorums() {
    rejects(
        &format!("{HEAD}[cluster]\nwrite_quorum = 3\nread_quorum = 3\n"),
        &["bad.toml:5:15:", "cluster.read_quorum", "must exceed"],
    );
    rejects(
        &format!("{HEAD}[cluster]\nwrite_quorum = 3\nread_quorum = 4\n"),
        &["bad.toml:4:16:", "cluster.write_quorum", "2 × write_quorum"],
    );
    // Defaults 4/3 do not fit 3 replicas: the error points at [cluster].
    rejects(
        &format!("{HEAD}[cluster]\nnodes_per_az = 1\n"),
        &["bad.toml:3:1:", "cluster.write_quorum", "defaults"],
    );
}

#[test]
fn missing_keys_name_the_file_and_key() {
    rejects(
        "horizon = \"1d\"\n",
        &["bad.toml: name: missing required key"],
    );
    rejects(
        "name = \"x\"\n",
        &["bad.toml: horizon: missing required key"],
    );
    rejects(
        &format!("{HEAD}[failures.node_crash]\nlasts = \"1m\"\n"),
        &["failures.node_crash.every", "missing"],
    );
}

#[test]
fn not_toml_and_missing_file() {
    rejects("name = \"x\nhorizon = \n", &["bad.toml:1:"]);
    rejects("\u{0}\u{1}binary", &["bad.toml:"]);
    let out = bin().args(["run", "/no/such/file.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: /no/such/file.toml: cannot read file"),
        "{err}"
    );
}

#[test]
fn bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ok.toml", HEAD);
    let out = bin()
        .arg("run")
        .arg(&p)
        .args(["--horizon", "5q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("error: --horizon:")
    );
    let out = bin()
        .arg("run")
        .arg(&p)
        .args(["--seed", "-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin().args(["frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
