//! Common random numbers (SPEC §5): every random source has its own stream,
//! and trial seeds do not depend on the grid point or the design.

use super::{bin, scenarios};
use serde_json::Value;

/// The sweep CSV's rows as maps from column to text.
fn rows(csv: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            head.iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

// See: issue 14 (common random numbers)
#[test]
fn issue_14_sweep_points_meet_the_same_failures() {
    // Two grid points that differ only in `backup_lag`, which changes how
    // many acknowledged writes a restore would lose but no event time: with
    // the trial seed independent of the point and a stream per source,
    // trial t of both points meets the same failures, so every column but
    // the varied ones is identical, to the last digit. (Under per-point
    // seeds the two rows' availability sums differ in their last digits.)
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.csv");
    bin()
        .arg("sweep")
        .arg(scenarios().join("fleet-rates.toml"))
        .args(["--trials", "300", "--quiet", "--set", "horizon=\"20y\""])
        .args(["--vary", "cluster.backup_lag=1m,30m", "--out"])
        .arg(&out)
        .assert()
        .success();
    let r = rows(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(r.len(), 2);
    let mut same = 0;
    for (k, v) in &r[0] {
        if !k.starts_with("cluster.backup_lag") {
            assert_eq!(v, &r[1][k], "{k}");
            same += 1;
        }
    }
    assert!(same >= 12, "{same} columns compared");
    assert_ne!(
        r[0]["write_availability_mean"], "1",
        "the test needs outages"
    );
}

/// `compare --json` of database-designs over `trials`, with extra flags.
fn compare(trials: &str, extra: &[&str]) -> Value {
    let out = bin()
        .arg("compare")
        .arg(scenarios().join("database-designs.toml"))
        .args(["--trials", trials, "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn num(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"))
}

// See: issue 14 (common random numbers)
#[test]
fn issue_14_compare_differences_are_paired_and_narrower() {
    // The mean of per-trial differences is the difference of the means
    // (Σ(a_t − b_t) = Σa_t − Σb_t), so each design's `difference` must equal
    // its downtime per year minus the first design's, to rounding. With
    // common random numbers Aurora and Multi-AZ meet the same writer
    // crashes (instance_crash:1) and AZ outages, and each crash costs a
    // failover in both (30 s against 90 s), so their downtimes are
    // positively correlated and the paired interval must be narrower than
    // the √(s₁² + s₂²) of independent estimates. With `--independent` the
    // first design keeps its streams (same figures) and the others do not.
    let crn = compare("300", &[]);
    assert_eq!(crn["common_random_numbers"], Value::Bool(true));
    let d = crn["designs"].as_array().unwrap();
    assert_eq!(d[0]["design"], "aurora");
    assert!(d[0]["difference"].is_null());
    let base = num(&d[0], "downtime_seconds_per_year");
    for x in &d[1..] {
        let diff = &x["difference"];
        assert_eq!(diff["against"], "aurora");
        let want = num(x, "downtime_seconds_per_year") - base;
        let got = num(diff, "downtime_seconds_per_year");
        assert!(
            (got - want).abs() <= 1e-6 * want.abs().max(1.0),
            "{got} vs {want}"
        );
        assert!(num(diff, "ci_low") <= got && got <= num(diff, "ci_high"));
    }
    let multi = d.iter().find(|x| x["design"] == "rds-multi-az").unwrap();
    let diff = &multi["difference"];
    let paired = (num(diff, "ci_high") - num(diff, "ci_low")) / 2.0;
    let indep = num(diff, "independent_half_width");
    assert!(
        paired < 0.9 * indep,
        "paired ±{paired} vs independent ±{indep}"
    );

    let ind = compare("300", &["--independent"]);
    assert_eq!(ind["common_random_numbers"], Value::Bool(false));
    let e = ind["designs"].as_array().unwrap();
    assert_eq!(
        e[0]["write_availability_mean"],
        d[0]["write_availability_mean"]
    );
    assert_ne!(
        e[2]["write_availability_mean"],
        d[2]["write_availability_mean"]
    );
}
