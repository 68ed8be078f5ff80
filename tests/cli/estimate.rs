//! `estimate` (SPEC §7): refusals, the JSON contract, thread-count byte
//! identity. See: issue 16.

use super::{bin, write};

/// A 3-replica PG losing a node every `every`, 1 h repairs, over a year.
fn three(every: &str) -> String {
    format!(
        "name = \"three\"\nhorizon = \"1y\"\n[cluster]\nnodes_per_az = 1\nwrite_quorum = 2\n\
         read_quorum = 2\nrepair_time = \"1h\"\n[failures.node_loss]\nevery = \"{every}\"\n"
    )
}

/// Runs `estimate FILE ARGS…` on `text`; returns (status, stdout, stderr).
fn estimate(text: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.toml", text);
    let out = bin().arg("estimate").arg(&p).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn refused(text: &str, args: &[&str], expect: &[&str]) {
    let (code, out, err) = estimate(text, args);
    assert_eq!(code, Some(2), "stderr: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(out.is_empty(), "{out}");
    for e in expect {
        assert!(err.contains(e), "expected `{e}` in: {err}");
    }
}

#[test]
fn issue_16_scripted_events_are_refused() {
    let text = format!(
        "{}[[events]]\nat = \"1h\"\nkind = \"node-loss\"\nnode = \"az-a-1\"\n",
        three("1y")
    );
    // [[events]] is on line 10.
    refused(&text, &[], &["s.toml:10:1:", "events", "scripted events"]);
}

#[test]
fn issue_16_a_database_is_estimated_with_its_own_failures() {
    // RDS Single-AZ keeps one copy: its EBS volume's first loss (every
    // 700 y) destroys the data, so P(loss in a year) = 1 − e^{−1/700} =
    // 1.4276e-3 exactly; the storage nodes' losses touch nothing of it and
    // are left out (and said so).
    let text = format!(
        "{}[database]\ndesign = \"rds-single-az\"\n[failures.ebs_loss]\nevery = \"700y\"\n",
        three("1y")
    );
    let args = ["--json", "--rel-error", "0.05", "--seed", "2"];
    let (code, one, err) = estimate(&text, &[&args[..], &["--threads", "1"]].concat());
    assert_eq!(code, Some(0), "{err}");
    let (_, two, _) = estimate(&text, &[&args[..], &["--threads", "2"]].concat());
    assert_eq!(one, two, "same bytes for any --threads");
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    let exact = -(-1.0f64 / 700.0).exp_m1();
    // Every trial's forced first failure is that loss, weighted by
    // 1 − e^{−λT}: the estimator has no variance here, and the interval
    // collapses onto the exact value (to rounding).
    let (lo, hi) = (
        v["ci_low"].as_f64().unwrap(),
        v["ci_high"].as_f64().unwrap(),
    );
    let slack = 1e-12 * exact;
    assert!(
        lo - slack <= exact && exact <= hi + slack,
        "{lo} – {hi} vs {exact}: {one}"
    );
    assert_eq!(v["design"], "rds-single-az");
    assert!(
        v["left_out"][0].as_str().unwrap().contains("node_loss"),
        "{one}"
    );
    assert_eq!(v["converged"], true);
    // The text report names the design and what it left out.
    let (code, text_out, _) = estimate(&text, &["--rel-error", "0.2"]);
    assert_eq!(code, Some(0));
    assert!(text_out.contains("database  rds-single-az"), "{text_out}");
    assert!(
        text_out.contains("left out  failures.node_loss"),
        "{text_out}"
    );
}

#[test]
fn issue_16_a_database_failure_process_must_be_exponential() {
    // [failures.instance_crash] is on line 11.
    let text = format!(
        "{}[database]\n[failures.instance_crash]\nevery = {{ dist = \"fixed\", value = \"180d\" }}\n\
         lasts = \"10m\"\n",
        three("1y")
    );
    refused(
        &text,
        &["--measure", "write_unavailability"],
        &["s.toml:11:1:", "failures.instance_crash.every", "--approx"],
    );
    let (code, out, err) = estimate(
        &text,
        &[
            "--measure",
            "write_unavailability",
            "--approx",
            "--rel-error",
            "0.2",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("approx    failures.instance_crash.every"),
        "{out}"
    );
    assert!(
        out.contains("long-run database write unavailability"),
        "{out}"
    );
}

#[test]
fn issue_16_non_exponential_failures_need_approx() {
    let text = three("1y").replace(
        "every = \"1y\"",
        "every = { dist = \"weibull\", shape = 0.7, scale = \"1y\" }",
    );
    // [failures.node_loss] is on line 8.
    refused(
        &text,
        &[],
        &["s.toml:8:1:", "failures.node_loss.every", "--approx"],
    );
    // With --approx it runs and lists the substitution.
    let (code, out, err) = estimate(&text, &["--approx", "--json", "--max-trials", "1024"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("\"key\": \"failures.node_loss.every\""),
        "{out}"
    );
}

#[test]
fn issue_16_horizon_is_an_error_for_write_unavailability() {
    refused(
        &three("1y"),
        &["--measure", "write_unavailability", "--horizon", "1y"],
        &["--horizon", "no horizon"],
    );
}

#[test]
fn issue_16_bad_flag_values_are_refused() {
    refused(&three("1y"), &["--rel-error", "0"], &["--rel-error"]);
    refused(&three("1y"), &["--theta", "1"], &["--theta"]);
    refused(&three("1y"), &["--max-trials", "0"], &["--max-trials"]);
}

#[test]
fn issue_16_impossible_data_loss_is_zero_with_no_trials() {
    let text =
        "name = \"c\"\nhorizon = \"1y\"\n[failures.node_crash]\nevery = \"1d\"\nlasts = \"1h\"\n";
    let (code, out, err) = estimate(text, &["--json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["estimate"], 0.0);
    assert_eq!(v["trials"], 0);
    assert_eq!(v["converged"], true);
}

#[test]
fn issue_16_json_keys_and_thread_count_byte_identity() {
    let args = ["--json", "--max-trials", "4096", "--seed", "3"];
    let (code, one, err) = estimate(&three("1y"), &[&args[..], &["--threads", "1"]].concat());
    assert_eq!(code, Some(0), "{err}");
    let (_, three_t, _) = estimate(&three("1y"), &[&args[..], &["--threads", "3"]].concat());
    assert_eq!(one, three_t, "same bytes for any --threads");
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    for k in [
        "scenario",
        "seed",
        "measure",
        "horizon_seconds",
        "estimate",
        "ci_low",
        "ci_high",
        "relative_error",
        "trials",
        "variance_reduction",
        "converged",
        "biasing",
    ] {
        assert!(v.get(k).is_some(), "missing {k}: {one}");
    }
    assert_eq!(v["measure"], "p_data_loss");
    assert_eq!(v["seed"], 3);
    assert_eq!(v["horizon_seconds"], 31_536_000.0);
    assert_eq!(v["biasing"]["theta"], 0.5);
    // Whole batches of 1,024 only.
    assert_eq!(v["trials"].as_u64().unwrap() % 1024, 0);
}

#[test]
fn issue_16_not_converged_warns_and_exits_0() {
    // One batch cannot reach ±0.1 % on this scenario.
    let (code, out, err) = estimate(
        &three("1y"),
        &["--json", "--max-trials", "1024", "--rel-error", "0.001"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(err.starts_with("warning: not converged"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["converged"], false);
    assert_eq!(v["trials"], 1024);
}

#[test]
fn issue_16_write_unavailability_by_cycles_matches_analyze() {
    // 3 nodes, quorum 2/3, exponential 1 h repairs: the chain of `analyze`
    // is exact for the write unavailability (restore_time, fixed, only
    // matters after a data loss, which `--approx` makes exponential).
    // The estimate's 95 % interval at this fixed seed covers it, and the
    // JSON has no horizon.
    let text = "name = \"wu\"\n[cluster]\nnodes_per_az = 1\nwrite_quorum = 2\nread_quorum = 2\n\
                repair_time = { dist = \"exponential\", mean = \"1h\" }\n\
                [failures.node_loss]\nevery = \"30d\"\n";
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "wu.toml", text);
    let out = bin()
        .args(["analyze", "--approx", "--json"])
        .arg(&p)
        .output()
        .unwrap();
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let exact = a["write_unavailability"].as_f64().unwrap();
    let (code, out, err) = estimate(text, &["--measure", "write_unavailability", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["horizon_seconds"], serde_json::Value::Null);
    assert_eq!(v["converged"], true);
    let (lo, hi) = (
        v["ci_low"].as_f64().unwrap(),
        v["ci_high"].as_f64().unwrap(),
    );
    assert!(
        lo <= exact && exact <= hi,
        "{exact:e} not in [{lo:e}, {hi:e}]"
    );
}

#[test]
fn issue_16_plot_draws_the_running_estimate_and_a_failed_run_leaves_no_file() {
    // The picture holds one point per batch at the running estimate, and
    // its footnote the final figures the JSON prints.
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.toml", &three("30d"));
    let svg = dir.path().join("e.svg");
    let out = bin()
        .arg("estimate")
        .arg(&p)
        .args(["--threads", "1", "--max-trials", "3072", "--json", "--plot"])
        .arg(&svg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg") || text.starts_with("<?xml"),
        "{text}"
    );
    let est = json["estimate"].as_f64().unwrap();
    assert!(
        text.contains(&format!("final estimate {est:.4e}")),
        "{text}"
    );
    assert!(text.contains("3072 trials"), "{text}");
    // A bad --theta is refused before anything is written.
    let bad = dir.path().join("bad.svg");
    let out = bin()
        .arg("estimate")
        .arg(&p)
        .args(["--theta", "2", "--plot"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!bad.exists());
}

#[test]
fn issue_16_design_estimates_the_scenario_as_compare_runs_it() {
    // An EBS loss process on an Aurora scenario is an error for `run` and
    // `estimate`, but `--design` runs the scenario as `compare` does and
    // lists what the design has no target for. RDS Single-AZ with EBS
    // losses every 700 y and nothing else that can lose data: 1 − e^{−1/700}
    // exactly (zero variance, see above).
    let text = format!(
        "{}[database]\ndesign = \"aurora\"\n[failures.ebs_loss]\nevery = \"700y\"\n",
        three("1y")
    );
    refused(&text, &[], &["failures.ebs_loss", "no EBS volumes"]);
    let (code, out, err) = estimate(&text, &["--design", "rds-single-az", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["design"], "rds-single-az");
    let exact = -(-1.0f64 / 700.0).exp_m1();
    let est = v["estimate"].as_f64().unwrap();
    assert!((est - exact).abs() <= 1e-12 * exact, "{est} vs {exact}");
    // As Aurora it is the storage's estimate, the EBS process left out.
    let (code, out, _) = estimate(
        &text,
        &["--design", "aurora", "--json", "--max-trials", "1024"],
    );
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let left: Vec<&str> = (v["left_out"].as_array().unwrap().iter())
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(
        left.iter().any(|x| x.starts_with("failures.ebs_loss")),
        "{left:?}"
    );
    refused(
        &text,
        &["--design", "rds"],
        &["--design", "unknown design `rds`"],
    );
    refused(
        &text,
        &["--design", "aurora,rds-multi-az"],
        &["--design", "takes one design"],
    );
}
