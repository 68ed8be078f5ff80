//! Issue 11, "interface that users stumbled on": TOML values for `--set` and
//! `--vary`, `sweep --set`, keys varied together, `KEY_seconds` columns.
//! The summary line, completions, man page and help are in `help.rs`.

use super::{bin, scenarios, write};
use std::path::Path;

/// Runs `sweep SCENARIO ARGS --out OUT` (quiet unless `loud`).
pub(crate) fn sweep(
    scenario: &Path,
    args: &[&str],
    out: &Path,
    loud: bool,
) -> std::process::Output {
    let mut c = bin();
    c.arg("sweep")
        .arg(scenario)
        .args(args)
        .arg("--out")
        .arg(out);
    if !loud {
        c.arg("--quiet");
    }
    c.output().unwrap()
}

pub(crate) fn ok(o: &std::process::Output) {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

pub(crate) fn refused(o: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

/// CSV rows, parsed properly (values may hold quoted commas).
fn rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    r.records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect()
}

/// The columns from `trials` on: the results, without the varied keys.
fn results(row: &[String], header: &[String]) -> Vec<String> {
    let t = header.iter().position(|c| c == "trials").unwrap();
    row[t..].to_vec()
}

/// Scripted only (no failure process): every trial is the same whatever its
/// seed, so a grid point's results do not depend on its index in the grid.
pub(crate) const SCRIPTED: &str = r#"name = "scripted"
horizon = "6h"
[[events]]
at = "1h"
kind = "az-outage"
az = "az-a"
lasts = "2h"
[[events]]
at = "90m"
kind = "node-crash"
node = "az-b-1"
lasts = "1h"
"#;

// See: issue 11
#[test]
fn issue_11_set_takes_inline_tables_and_arrays() {
    // The issue's two examples: a distribution table and an AZ list. `check`
    // shows what was set up, so the values must be read as TOML, not text.
    let o = bin()
        .args(["check"])
        .arg(scenarios().join("baseline.toml"))
        .args([
            "--set",
            r#"cluster.repair_time={ dist = "exponential", mean = "1h" }"#,
            "--set",
            r#"cluster.azs=["a","b","c","d"]"#,
            "--set",
            "cluster.write_quorum=5",
            "--set",
            "cluster.read_quorum=4",
        ])
        .output()
        .unwrap();
    ok(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("repair time        exponential(mean 1h)"),
        "{out}"
    );
    assert!(out.contains("4 AZs × 2 nodes = 8 replicas"), "{out}");
    // A value that starts like TOML but is not: exit 2 naming flag and key.
    let o = bin()
        .arg("check")
        .arg(scenarios().join("baseline.toml"))
        .args(["--set", r#"cluster.azs=["a","b""#])
        .output()
        .unwrap();
    let err = refused(&o);
    assert!(
        err.contains("--set: cluster.azs:") && err.contains("not a TOML value"),
        "{err}"
    );
}

// See: issue 11
#[test]
fn issue_11_flags_repair_a_file_invalid_alone() {
    // Assignments apply before validation: a file without `name` and with an
    // impossible quorum (7 of 6) is refused alone, at its line, and runs
    // once flags supply both.
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "broken.toml",
        "horizon = \"1d\"\n[cluster]\nwrite_quorum = 7\n",
    );
    let alone = bin().arg("check").arg(&f).output().unwrap();
    let err = refused(&alone);
    assert!(err.contains("broken.toml"), "{err}");
    let one_fix = bin()
        .arg("check")
        .arg(&f)
        .args(["--set", "name=fixed"])
        .output()
        .unwrap();
    // The quorum error is the file's own and the flags did not touch it:
    // it keeps its position in the file.
    let err = refused(&one_fix);
    assert!(
        err.contains("broken.toml:3:") && err.contains("cluster.write_quorum"),
        "{err}"
    );
    let fixed = ["--set", "name=fixed", "--set", "cluster.write_quorum=4"];
    ok(&bin().arg("check").arg(&f).args(fixed).output().unwrap());
    let out = dir.path().join("s.csv");
    let o = sweep(
        &f,
        &[
            &fixed[..],
            &["--trials", "2", "--vary", "cluster.read_quorum=3,4"],
        ]
        .concat(),
        &out,
        false,
    );
    ok(&o);
    assert_eq!(rows(&out).len(), 3);
}

// See: issue 11
#[test]
fn issue_11_paired_sweep_equals_single_point_sweeps() {
    // Keys varied together take value i of each list at point i: with a
    // scripted scenario (results independent of the seed), each row must
    // equal a one-point sweep with the same values given as --set, byte for
    // byte in the result columns.
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "scripted.toml", SCRIPTED);
    let out = dir.path().join("paired.csv");
    let o = sweep(
        &sc,
        &[
            "--trials",
            "3",
            "--vary-together",
            "cluster.nodes_per_az=1,2",
            "--vary-together",
            "cluster.write_quorum=2,4",
            "--vary-together",
            "cluster.read_quorum=2,3",
        ],
        &out,
        false,
    );
    ok(&o);
    let paired = rows(&out);
    assert_eq!(
        paired[0][..4],
        [
            "cluster.nodes_per_az",
            "cluster.write_quorum",
            "cluster.read_quorum",
            "trials"
        ]
    );
    assert_eq!(paired.len(), 3, "two points, not four");
    for (i, (n, w, r)) in [("1", "2", "2"), ("2", "4", "3")].into_iter().enumerate() {
        let one = dir.path().join(format!("one{i}.csv"));
        let sets = [
            format!("cluster.nodes_per_az={n}"),
            format!("cluster.write_quorum={w}"),
            format!("cluster.read_quorum={r}"),
        ];
        let args = [
            "--trials", "3", "--set", &sets[0], "--set", &sets[1], "--set", &sets[2],
        ];
        ok(&sweep(&sc, &args, &one, false));
        let single = rows(&one);
        assert_eq!(paired[i + 1][..3], [n, w, r]);
        assert_eq!(
            results(&paired[i + 1], &paired[0]),
            results(&single[1], &single[0]),
            "point {i}"
        );
    }
    // The designs differ: in the hour when az-a is out and az-b-1 is down,
    // one replica of three cannot serve a read quorum of 2; three of six
    // serve one of 3 (write availability is 5/6 for both).
    let read = paired[0]
        .iter()
        .position(|c| c == "read_availability_mean")
        .unwrap();
    assert_eq!(paired[1][read], (5.0f64 / 6.0).to_string());
    assert_eq!(paired[2][read], "1");
}

// See: issue 11
#[test]
fn issue_11_paired_keys_equal_a_table_valued_axis() {
    // Random failures this time: varying three keys together must give the
    // same scenarios, at the same grid indices (so the same trial seeds), as
    // one axis whose values are whole `cluster` tables. Equal bytes in the
    // result columns show the pairing, not just its shape.
    let dir = tempfile::tempdir().unwrap();
    let sc = write(
        dir.path(),
        "random.toml",
        "name = \"r\"\nhorizon = \"30d\"\nseed = 5\n[failures.node_crash]\nevery = \"5d\"\nlasts = \"6h\"\n",
    );
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    ok(&sweep(
        &sc,
        &[
            "--trials",
            "40",
            "--vary-together",
            "cluster.nodes_per_az=1,2",
            "--vary-together",
            "cluster.write_quorum=2,4",
            "--vary-together",
            "cluster.read_quorum=2,3",
        ],
        &a,
        false,
    ));
    ok(&sweep(
        &sc,
        &[
            "--trials",
            "40",
            "--vary",
            "cluster=[{ nodes_per_az = 1, write_quorum = 2, read_quorum = 2 }, \
             { nodes_per_az = 2, write_quorum = 4, read_quorum = 3 }]",
        ],
        &b,
        false,
    ));
    let (ra, rb) = (rows(&a), rows(&b));
    assert_eq!(rb[0][0], "cluster");
    // The label is the value as TOML writes it back (keys in order).
    assert_eq!(
        rb[1][0],
        "{ nodes_per_az = 1, read_quorum = 2, write_quorum = 2 }"
    );
    for i in 1..3 {
        assert_eq!(results(&ra[i], &ra[0]), results(&rb[i], &rb[0]), "row {i}");
    }
}

// See: issue 11
#[test]
fn issue_11_together_crosses_with_vary_and_refuses_unequal_lists() {
    // The paired group is one dimension (outermost), crossed with each
    // --vary: 2 × 3 points. Unequal lists cannot be paired: exit 2.
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "scripted.toml", SCRIPTED);
    let out = dir.path().join("x.csv");
    let o = sweep(
        &sc,
        &[
            "--trials",
            "1",
            "--vary",
            "cluster.detection_delay=0s,1m,1h",
            "--vary-together",
            "cluster.nodes_per_az=1,2",
            "--vary-together",
            "cluster.write_quorum=2,4",
        ],
        &out,
        false,
    );
    ok(&o);
    let r = rows(&out);
    assert_eq!(r.len(), 7);
    let keys: Vec<String> = r[1..].iter().map(|x| x[..3].join(" ")).collect();
    assert_eq!(keys[0], "1 2 0s");
    assert_eq!(keys[2], "1 2 1h");
    assert_eq!(keys[3], "2 4 0s");
    let o = sweep(
        &sc,
        &[
            "--trials",
            "1",
            "--vary-together",
            "cluster.nodes_per_az=1,2",
            "--vary-together",
            "cluster.write_quorum=2,4,5",
        ],
        &out,
        false,
    );
    let err = refused(&o);
    assert!(
        err.contains("--vary-together") && err.contains("equal length"),
        "{err}"
    );
    // A key both set and varied: one would silently win.
    let o = sweep(
        &sc,
        &[
            "--trials",
            "1",
            "--set",
            "cluster.nodes_per_az=1",
            "--vary",
            "cluster.nodes_per_az=1,2",
        ],
        &out,
        false,
    );
    assert!(refused(&o).contains("both set and varied"));
}

// See: issue 11
#[test]
fn issue_11_vary_takes_a_toml_array_of_values() {
    // Values with commas in them (AZ lists) cannot be a comma list; a value
    // list that starts with `[` is read as a TOML array of values.
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "scripted.toml", SCRIPTED);
    let out = dir.path().join("azs.csv");
    let o = sweep(
        &sc,
        &[
            "--trials",
            "1",
            "--set",
            "cluster.nodes_per_az=1",
            "--set",
            "cluster.write_quorum=3",
            "--set",
            "cluster.read_quorum=2",
            "--vary",
            r#"cluster.azs=[["az-a","az-b","az-c"],["az-a","az-b","az-c","az-d"]]"#,
        ],
        &out,
        false,
    );
    ok(&o);
    let r = rows(&out);
    assert_eq!(r[1][0], r#"["az-a", "az-b", "az-c"]"#);
    assert_eq!(r[2][0], r#"["az-a", "az-b", "az-c", "az-d"]"#);
    assert_eq!(r[1][1], "1", "no seconds column for an AZ list");
}

// See: issue 11
#[test]
fn issue_11_duration_keys_get_a_seconds_column() {
    // `KEY_seconds` follows each duration key and holds the value as parsed,
    // in exact seconds (90m = 5400, 1d = 86400, 0.5s = 0.5, a bare number is
    // seconds); a table value has no single duration (empty); a count key
    // (write_quorum) gets no such column.
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "scripted.toml", SCRIPTED);
    let out = dir.path().join("d.csv");
    let o = sweep(
        &sc,
        &[
            "--trials",
            "1",
            "--vary",
            r#"cluster.repair_time=["90m","1d","0.5s",120,{ dist = "fixed", value = "1h" }]"#,
            "--vary",
            "cluster.write_quorum=4,5",
        ],
        &out,
        false,
    );
    ok(&o);
    let r = rows(&out);
    assert_eq!(
        r[0][..4],
        [
            "cluster.repair_time",
            "cluster.repair_time_seconds",
            "cluster.write_quorum",
            "trials"
        ]
    );
    let secs: Vec<&str> = r[1..].iter().step_by(2).map(|x| x[1].as_str()).collect();
    assert_eq!(secs, ["5400", "86400", "0.5", "120", ""]);
    assert_eq!(r[1][0], "90m", "the label column keeps the value as typed");
    // `plot sweep` reads the seconds column as the key's numeric value.
    let svg = dir.path().join("p.svg");
    let rows_ok = dir.path().join("ok.csv");
    ok(&sweep(
        &sc,
        &["--trials", "1", "--vary", "cluster.repair_time=90m,1d,0.5s"],
        &rows_ok,
        false,
    ));
    for x in ["cluster.repair_time", "cluster.repair_time_seconds"] {
        let o = bin()
            .args(["plot", "sweep"])
            .arg(&rows_ok)
            .args(["--x", x, "--y", "write_availability_mean", "--out"])
            .arg(&svg)
            .output()
            .unwrap();
        ok(&o);
    }
}

// See: issue 11
#[test]
fn issue_11_shards_with_set_and_seconds_merge_byte_identically() {
    // The --set is part of a part file's identity (parts of sweeps with a
    // different --set refuse to merge), and merging the shards of a sweep
    // with --set, pairs and duration columns gives the unsharded bytes.
    let dir = tempfile::tempdir().unwrap();
    let sc = scenarios().join("fleet-rates.toml");
    let base = [
        "--trials",
        "30",
        "--set",
        "failures.node_loss.every=10d",
        "--vary-together",
        "cluster.detection_delay=0s,10m",
        "--vary-together",
        "failures.node_crash.lasts=10m,1h",
        "--vary",
        "horizon=30d,60d",
    ];
    let whole = dir.path().join("whole.csv");
    ok(&sweep(&sc, &base, &whole, false));
    let mut parts = Vec::new();
    for k in 1..=3 {
        let p = dir.path().join(format!("part{k}.json"));
        let shard = format!("{k}/3");
        ok(&sweep(
            &sc,
            &[&base[..], &["--shard", &shard]].concat(),
            &p,
            false,
        ));
        parts.push(p);
    }
    let merged = dir.path().join("merged.csv");
    let o = bin()
        .arg("merge")
        .args(&parts)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    ok(&o);
    assert_eq!(
        std::fs::read(&whole).unwrap(),
        std::fs::read(&merged).unwrap()
    );
    let r = rows(&whole);
    assert!(r[0].contains(&"horizon_seconds".to_string()), "{:?}", r[0]);
    // Shard 3 of a sweep with another --set.
    let other = dir.path().join("other.json");
    let mut args = base.to_vec();
    args[3] = "failures.node_loss.every=20d";
    ok(&sweep(
        &sc,
        &[&args[..], &["--shard", "3/3"]].concat(),
        &other,
        false,
    ));
    let o = bin()
        .arg("merge")
        .args(&parts[..2])
        .arg(&other)
        .arg("--out")
        .arg(dir.path().join("bad.csv"))
        .output()
        .unwrap();
    assert!(refused(&o).contains("its --set differs"));
}

// See: issue 11
#[test]
fn issue_11_sweep_replay_lines_carry_its_set() {
    // The note's replay command must run the system the sweep ran: with the
    // sweep's --set as well as the point's values. Run it: the trial it
    // names lost data, so the replay must report a data loss too.
    let dir = tempfile::tempdir().unwrap();
    let sc = scenarios().join("fleet-rates.toml");
    let out = dir.path().join("l.csv");
    let o = sweep(
        &sc,
        &[
            "--trials",
            "20",
            "--set",
            "failures.node_loss.every=2d",
            "--vary",
            "cluster.repair_time=1d",
        ],
        &out,
        true,
    );
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("replay the first:"))
        .unwrap_or_else(|| panic!("{err}"));
    let cmd = line.split("replay the first: ").nth(1).unwrap();
    assert!(
        cmd.contains("--set failures.node_loss.every=2d --set cluster.repair_time=1d"),
        "{cmd}"
    );
    let bin_path = assert_cmd::cargo::cargo_bin("aurora-sim");
    let replay = cmd.replacen("aurora-sim", &bin_path.display().to_string(), 1) + " --json";
    let o = std::process::Command::new("sh")
        .args(["-c", &replay])
        .output()
        .unwrap();
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["data_loss_events"].as_u64().unwrap() >= 1, "{v}");
}
