//! `aurora-sim merge` on untrusted part files: counts are checked before
//! anything is sized by them, sums against what the trials could produce.

use super::{bin, scenarios, write};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Shard `k` of 2 of a small sweep that loses data (node loss every 2 d, 6 h
/// repairs, 30 d per trial), as parsed JSON.
fn part(dir: &Path, k: u64) -> (PathBuf, Value) {
    let sc = write(
        dir,
        "loss.toml",
        "name = \"loss\"\nhorizon = \"30d\"\n[cluster]\nrepair_time = \"6h\"\n[failures.node_loss]\nevery = \"2d\"\n",
    );
    let out = dir.join(format!("part{k}.json"));
    bin()
        .arg("sweep")
        .arg(&sc)
        .args([
            "--trials",
            "20",
            "--quiet",
            "--vary",
            "cluster.write_quorum=4,5",
        ])
        .args(["--shard", &format!("{k}/2"), "--out"])
        .arg(&out)
        .assert()
        .success();
    let v = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    (out, v)
}

/// Runs merge on `files`; asserts exit 2, one `error: FILE: …` line naming
/// `blamed` and containing `needle`, and no output.
fn refused(dir: &Path, files: &[&Path], blamed: &Path, needle: &str) {
    let out = dir.join("merged.csv");
    let o = bin()
        .arg("merge")
        .args(files)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(2), "{needle}: {err}");
    let head = format!("error: {}: ", blamed.display());
    assert!(
        err.starts_with(&head) && err.contains(needle),
        "{needle}: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!out.exists());
}

fn forged(dir: &Path, name: &str, v: &Value) -> PathBuf {
    write(dir, name, &serde_json::to_string_pretty(v).unwrap())
}

#[test]
fn issue_11_merge_refuses_shard_counts_it_cannot_have_been_given() {
    // See: issue 11. `shards` = 1e12 allocated terabytes; a part of
    // `--shard 18446744073709551615/18446744073709551615` panicked with
    // "capacity overflow". Both are refused from the header, before any
    // table is sized.
    let dir = tempfile::tempdir().unwrap();
    let (_, mut v) = part(dir.path(), 1);
    v["shards"] = Value::from(1_000_000_000_000u64);
    let big = forged(dir.path(), "big.json", &v);
    refused(dir.path(), &[&big], &big, "1 to 1000000 shards");
    v["shards"] = Value::from(u64::MAX);
    v["shard"] = Value::from(u64::MAX);
    let max = forged(dir.path(), "max.json", &v);
    refused(
        dir.path(),
        &[&max],
        &max,
        "shard 18446744073709551615/18446744073709551615",
    );
    // The sweep itself no longer writes such a part.
    let o = bin()
        .arg("sweep")
        .arg(scenarios().join("fleet-rates.toml"))
        .args([
            "--trials",
            "1",
            "--shard",
            "18446744073709551615/18446744073709551615",
        ])
        .arg("--out")
        .arg(dir.path().join("x.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    // A plausible count with too few files: the missing ones are listed, a
    // few. With 5e6 trials, shard 3 of 500,000 runs trials 20..30: ten per
    // point, as in the part, whose first losing trials move up by 20.
    v["shards"] = Value::from(500_000u64);
    v["shard"] = Value::from(3u64);
    v["trials"] = Value::from(5_000_000u64);
    for p in v["points"].as_array_mut().unwrap() {
        if let Some(t) = p["first_loss_trial"].as_u64() {
            p["first_loss_trial"] = Value::from(t + 20);
        }
    }
    let few = forged(dir.path(), "few.json", &v);
    refused(
        dir.path(),
        &[&few],
        &few,
        "missing shards 1/500000, 2/500000, 4/500000",
    );
}

#[test]
fn issue_11_merge_refuses_forged_or_overflowing_sums() {
    // See: issue 11. An edited part gave p_data_loss = 16.5. Each point's
    // sums must be what its trials could give: losses ≤ trials, events ≥
    // losing trials, unavailable time ≤ trials × horizon, Σx² ≤ horizon · Σx.
    let dir = tempfile::tempdir().unwrap();
    let (p1, v1) = part(dir.path(), 1);
    let (p2, v2) = part(dir.path(), 2);
    // Unedited parts merge.
    let ok = dir.path().join("ok.csv");
    bin()
        .arg("merge")
        .arg(&p1)
        .arg(&p2)
        .arg("--out")
        .arg(&ok)
        .assert()
        .success();

    let point = |v: &Value, f: &dyn Fn(&mut Value)| {
        let mut v = v.clone();
        f(&mut v["points"][0]);
        v
    };
    let trials = v1["points"][0]["trials"].as_u64().unwrap();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "losses.json",
            point(&v1, &|p| p["loss_trials"] = Value::from(33 * trials)),
            "more than the 10 trials run",
        ),
        (
            "events.json",
            point(&v1, &|p| {
                p["loss_trials"] = Value::from(2u64);
                p["loss_events"] = Value::from(1u64);
            }),
            "1 data-loss events in 2 trials",
        ),
        (
            "trials.json",
            point(&v1, &|p| p["trials"] = Value::from(11u64)),
            "11 trials, but this shard of the sweep runs 10",
        ),
        (
            "unavail.json",
            point(&v1, &|p| {
                let sim = p["simulated_us"].as_str().unwrap().to_string();
                let more = u128::from_str_radix(&sim, 16).unwrap() + 1;
                p["write_sum"] = Value::from(format!("{more:x}"));
            }),
            "write-unavailable sums are impossible",
        ),
        (
            "horizon.json",
            point(&v1, &|p| p["simulated_us"] = Value::from("7")),
            "is not 10 equal positive horizons",
        ),
        (
            "hex.json",
            point(&v1, &|p| p["read_sum"] = Value::from("zz")),
            "bad number",
        ),
    ];
    for (name, v, needle) in cases {
        let f = forged(dir.path(), name, &v);
        refused(dir.path(), &[&f, &p2], &f, needle);
    }
    // Each part alone plausible, together past u64: refused, not wrapped.
    let huge = |v: &Value| {
        point(v, &|p| {
            p["loss_trials"] = Value::from(1u64);
            p["loss_events"] = Value::from(u64::MAX - 1);
            p["first_loss_trial"] = p["first_loss_trial"].clone();
        })
    };
    let (mut h1, mut h2) = (huge(&v1), huge(&v2));
    h1["points"][0]["first_loss_trial"] = Value::from(0u64);
    h2["points"][0]["first_loss_trial"] = Value::from(trials);
    let (f1, f2) = (
        forged(dir.path(), "h1.json", &h1),
        forged(dir.path(), "h2.json", &h2),
    );
    refused(dir.path(), &[&f1, &f2], &f2, "overflow");
}

#[test]
fn issue_11_merge_names_the_command_for_other_files() {
    // See: issue 11. A sweep CSV or a timeline given to merge: say what it is for.
    let dir = tempfile::tempdir().unwrap();
    let (p1, _) = part(dir.path(), 1);
    let (p2, _) = part(dir.path(), 2);
    let csv = dir.path().join("s.csv");
    bin()
        .arg("merge")
        .arg(&p1)
        .arg(&p2)
        .arg("--out")
        .arg(&csv)
        .assert()
        .success();
    refused(dir.path(), &[&csv], &csv, "aurora-sim plot sweep");
    let tl = dir.path().join("t.csv");
    bin()
        .arg("run")
        .arg(scenarios().join("az-plus-one.toml"))
        .arg("--timeline")
        .arg(&tl)
        .assert()
        .success();
    refused(dir.path(), &[&p1, &tl], &tl, "aurora-sim plot timeline");
    let sc = scenarios().join("az-plus-one.toml");
    refused(dir.path(), &[&sc], &sc, "scenario file");
}
