//! `aurora-sim sweep` and `merge`: determinism across threads and shards,
//! interval edges, refusals, and agreement with a closed form.

use super::{bin, scenarios, write};
use std::path::Path;

fn sweep(scenario: &Path, args: &[&str], out: &Path) -> std::process::Output {
    bin()
        .arg("sweep")
        .arg(scenario)
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .output()
        .unwrap()
}

fn rows(csv: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(csv).unwrap();
    text.lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

const GRID: [&str; 6] = [
    "--trials",
    "60",
    "--vary",
    "failures.node_loss.every=12h,5d",
    "--vary",
    "cluster.detection_delay=0s,1h",
];

#[test]
fn csv_is_identical_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenarios().join("fleet-rates.toml");
    let mut outs = Vec::new();
    for t in ["1", "2", "5"] {
        let out = dir.path().join(format!("t{t}.csv"));
        let o = sweep(&sc, &[&GRID[..], &["--threads", t]].concat(), &out);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        outs.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
    let r = rows(&dir.path().join("t1.csv"));
    assert_eq!(r.len(), 5, "header + 2×2 grid");
    // Each duration key is followed by its value in seconds (issue 11).
    assert_eq!(
        r[0][..5],
        [
            "failures.node_loss.every",
            "failures.node_loss.every_seconds",
            "cluster.detection_delay",
            "cluster.detection_delay_seconds",
            "trials"
        ]
    );
    assert_eq!(r[0].len(), 4 + 13);
    assert_eq!(r[1][..5], ["12h", "43200", "0s", "0", "60"]);
    assert_eq!(r[4][..4], ["5d", "432000", "1h", "3600"]);
}

#[test]
fn shards_merge_to_the_unsharded_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenarios().join("fleet-rates.toml");
    let whole = dir.path().join("whole.csv");
    assert!(sweep(&sc, &GRID, &whole).status.success());
    let mut parts = Vec::new();
    for k in 1..=3 {
        let part = dir.path().join(format!("part{k}.json"));
        let o = sweep(
            &sc,
            &[&GRID[..], &["--shard", &format!("{k}/3")]].concat(),
            &part,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        parts.push(part);
    }
    let merged = dir.path().join("merged.csv");
    // Parts in any order.
    bin()
        .arg("merge")
        .arg(&parts[2])
        .arg(&parts[0])
        .arg(&parts[1])
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&whole).unwrap(),
        std::fs::read(&merged).unwrap()
    );

    // Refusals: a missing shard, a duplicate, a part of another sweep.
    let check_refused = |args: Vec<&Path>, needle: &str| {
        let out = dir.path().join("bad.csv");
        let o = bin()
            .arg("merge")
            .args(&args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with("error:") && err.contains(needle),
            "expected {needle}: {err}"
        );
        assert!(!out.exists());
    };
    check_refused(vec![&parts[0], &parts[1]], "missing shard 3/3");
    check_refused(
        vec![&parts[0], &parts[0], &parts[1], &parts[2]],
        "given twice",
    );
    let other = dir.path().join("other.json");
    let grid_other_seed = [&GRID[..], &["--shard", "3/3", "--seed", "99"]].concat();
    assert!(sweep(&sc, &grid_other_seed, &other).status.success());
    check_refused(vec![&parts[0], &parts[1], &other], "seed differs");
    let other_sc = write(
        dir.path(),
        "other.toml",
        &std::fs::read_to_string(&sc)
            .unwrap()
            .replace("seed = 7", "seed = 7 # changed"),
    );
    assert!(
        sweep(
            &other_sc,
            &[&GRID[..], &["--shard", "3/3"]].concat(),
            &other
        )
        .status
        .success()
    );
    check_refused(vec![&parts[0], &parts[1], &other], "scenario differs");
    let junk = write(dir.path(), "junk.json", "{}");
    check_refused(vec![&junk], "not an aurora-sim partial sweep file");
}

#[test]
fn data_loss_interval_edges_match_wilson_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let z2 = 1.959_963_984_540_054f64.powi(2);
    // No failures at all: 0 of 50 trials lose data. Wilson: [0, z²/(n + z²)].
    let none = write(
        dir.path(),
        "none.toml",
        "name = \"none\"\nhorizon = \"1d\"\n",
    );
    let out = dir.path().join("none.csv");
    assert!(sweep(&none, &["--trials", "50"], &out).status.success());
    let r = &rows(&out)[1];
    assert_eq!(r[0], "50");
    assert_eq!(
        (r[1].as_str(), r[2].as_str(), r[3].as_str()),
        ("1", "1", "1"),
        "availability 1 with zero variance"
    );
    assert_eq!((r[7].as_str(), r[8].as_str()), ("0", "0"));
    assert!((r[9].parse::<f64>().unwrap() - z2 / (50.0 + z2)).abs() < 1e-15);
    assert_eq!(
        (r[10].as_str(), r[12].as_str()),
        ("0", ""),
        "no losses: empty mttdl"
    );
    assert_eq!(
        r[11],
        (50 * 86_400).to_string(),
        "simulated seconds = 50 trials × 1 d"
    );

    // All three AZs lost at 1h: every trial loses data once. Wilson: [n/(n + z²), 1];
    // mttdl = simulated seconds / losses = one horizon.
    let all = write(
        dir.path(),
        "all.toml",
        "name = \"all\"\nhorizon = \"1d\"\n[[events]]\nat = \"1h\"\nkind = \"az-loss\"\naz = \"az-a\"\nlasts = \"1m\"\n[[events]]\nat = \"1h\"\nkind = \"az-loss\"\naz = \"az-b\"\nlasts = \"1m\"\n[[events]]\nat = \"1h\"\nkind = \"az-loss\"\naz = \"az-c\"\nlasts = \"1m\"\n",
    );
    let out = dir.path().join("all.csv");
    assert!(sweep(&all, &["--trials", "40"], &out).status.success());
    let r = &rows(&out)[1];
    assert_eq!((r[7].as_str(), r[9].as_str()), ("1", "1"));
    assert!((r[8].parse::<f64>().unwrap() - 40.0 / (40.0 + z2)).abs() < 1e-15);
    assert_eq!((r[10].as_str(), r[12].as_str()), ("40", "86400"));
    // Restore takes 1 h of the 24: write availability 23/24 in every trial.
    assert!((r[1].parse::<f64>().unwrap() - 23.0 / 24.0).abs() < 1e-12);
}

/// Crash-only nodes are independent two-state chains (up mean U, down mean
/// D): writes are available iff ≥ 4 of 6 are up, so the long-run write
/// availability is Σ_{k≥4} C(6,k) aᵏ(1−a)^{6−k}, a = U/(U+D).
/// U = 1000 s, D = 100 s: a = 0.90909…, exact = 0.987050…
/// Each trial starts all-up; the start-up bias is about 1.83·τ·q³·20/H with
/// τ = 1/(1/U + 1/D) = 90.9 s (the deficit of the 3-down term), i.e. ~0.1 % of
/// the unavailability at H = 2·10⁵ s, well inside the interval's half-width.
#[test]
fn write_availability_interval_contains_the_binomial_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(
        dir.path(),
        "crash.toml",
        "name = \"crash\"\nhorizon = 200000\n[failures.node_crash]\nevery = 1000\nlasts = 100\n",
    );
    let out = dir.path().join("c.csv");
    assert!(
        sweep(&sc, &["--trials", "300", "--seed", "1"], &out)
            .status
            .success()
    );
    let r = &rows(&out)[1];
    let a = 1000.0f64 / 1100.0;
    let c = [1.0, 6.0, 15.0, 20.0, 15.0, 6.0, 1.0];
    let exact: f64 = (4..=6)
        .map(|k| c[k] * a.powi(k as i32) * (1.0 - a).powi(6 - k as i32))
        .sum();
    let (lo, hi): (f64, f64) = (r[2].parse().unwrap(), r[3].parse().unwrap());
    assert!(
        lo <= exact && exact <= hi,
        "exact {exact} outside [{lo}, {hi}]"
    );
    // The interval is informative: narrower than a tenth of the unavailability.
    assert!(hi - lo < 0.1 * (1.0 - exact), "[{lo}, {hi}]");
    // Reads need ≥ 3 up with one current: Σ_{k≥3}; it must be in its interval too.
    let exact_r: f64 = (3..=6)
        .map(|k| c[k] * a.powi(k as i32) * (1.0 - a).powi(6 - k as i32))
        .sum();
    let (lo, hi): (f64, f64) = (r[5].parse().unwrap(), r[6].parse().unwrap());
    assert!(
        lo <= exact_r && exact_r <= hi,
        "read exact {exact_r} outside [{lo}, {hi}]"
    );
}

#[test]
fn bad_sweep_input_exits_2_naming_key_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenarios().join("fleet-rates.toml");
    let out = dir.path().join("o.csv");
    let cases: [(&[&str], &str); 7] = [
        (&["--trials", "0"], "--trials"),
        (
            &["--trials", "5", "--vary", "cluster.colour=1,2"],
            "cluster.colour=1",
        ),
        (
            &[
                "--trials",
                "5",
                "--vary",
                "failures.node_loss.every=1y,soon",
            ],
            "failures.node_loss.every=soon",
        ),
        (
            &["--trials", "5", "--vary", "cluster.write_quorum=3,4"],
            "cluster.write_quorum=3",
        ),
        (
            &["--trials", "5", "--vary", "cluster.write_quorum=lin:1:x:3"],
            "cluster.write_quorum=lin:1:x:3",
        ),
        (&["--trials", "5", "--vary", "novalue"], "novalue"),
        (&["--trials", "5", "--shard", "4/3"], "--shard"),
    ];
    for (args, needle) in cases {
        let o = sweep(&sc, args, &out);
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("error:") && err.contains(needle),
            "{args:?}: expected {needle} in {err}"
        );
        assert!(!out.exists());
    }
}
