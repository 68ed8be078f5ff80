//! `aurora-sim analyze`: JSON contract, refusal and `--approx` listing.

use super::{bin, scenarios, write};

#[test]
fn json_has_the_spec_keys_and_closed_form_values() {
    let dir = tempfile::tempdir().unwrap();
    // One replica, crash every 30 d for 2 h: availability U/(U+D) = 720/722.
    let p = write(
        dir.path(),
        "one.toml",
        "name = \"one\"\nhorizon = \"1y\"\n[cluster]\nazs = [\"a\"]\nnodes_per_az = 1\nwrite_quorum = 1\nread_quorum = 1\n[failures.node_crash]\nevery = \"30d\"\nlasts = \"2h\"\n",
    );
    let out = bin().arg("analyze").arg(&p).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "write_availability",
        "read_availability",
        "write_unavailability",
        "read_unavailability",
        "mttdl_seconds",
        "states",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert!((v["write_availability"].as_f64().unwrap() - 720.0 / 722.0).abs() < 1e-13);
    assert_eq!(v["mttdl_seconds"], serde_json::Value::Null);
    // Two states: Gauss–Seidel is exact after one sweep and says so.
    assert!(v["solver"].as_str().unwrap().starts_with("Gauss-Seidel"));
    assert!(v["solver_sweeps"].as_u64().unwrap() <= 3);
    assert!(v["relative_error_bound"].as_f64().unwrap() <= 1e-12);
}

#[test]
fn weibull_is_refused_naming_the_timing_and_approx_lists_substitutions() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "w.toml",
        "name = \"w\"\nhorizon = \"1y\"\n[failures.node_loss]\nevery = { dist = \"weibull\", shape = 0.7, scale = \"4y\" }\n",
    );
    let out = bin().arg("analyze").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: ")
            && err.contains("failures.node_loss.every")
            && err.contains("--approx"),
        "{err}"
    );

    let out = bin()
        .arg("analyze")
        .arg(&p)
        .arg("--approx")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("approximation: failures.node_loss.every = weibull(shape 0.7, scale 4y)"),
        "{text}"
    );
    assert!(
        text.contains("approximation: cluster.repair_time"),
        "{text}"
    );
    assert!(text.contains("mean time to data loss"));
}

#[test]
fn scripted_events_are_ignored_with_a_notice() {
    let out = bin()
        .arg("analyze")
        .arg(scenarios().join("az-outage.toml"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("scripted event(s)") && text.contains("ignored"),
        "{text}"
    );
    assert!(text.contains("never (data loss is impossible"), "{text}");
}

/// Nodes down a day for every hour up on 3 × 3: the all-current start state is
/// rare, the iteration cannot converge, and 104,859 states are too many to
/// eliminate. That is a property of the input: exit 2 with advice, promptly.
#[test]
fn a_chain_too_slow_to_solve_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "slow.toml",
        "name = \"slow\"\nhorizon = \"1y\"\n[cluster]\nnodes_per_az = 3\nwrite_quorum = 6\nread_quorum = 4\n\
         repair_time = { dist = \"exponential\", mean = \"1d\" }\nrestore_time = { dist = \"exponential\", mean = \"6h\" }\n\
         [failures.node_crash]\nevery = \"1h\"\nlasts = \"1d\"\n[failures.node_loss]\nevery = \"5d\"\n\
         [failures.az_outage]\nevery = \"30d\"\nlasts = \"1d\"\n",
    );
    let out = bin().arg("analyze").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: ") && err.contains("slow.toml") && err.contains("`sweep`"),
        "{err}"
    );
}
