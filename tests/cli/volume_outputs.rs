//! Volume outputs (SPEC §4) end to end: the JSON keys, the sweep columns,
//! and the refusals of what volumes cannot do (yet).

use super::bin;

/// `run --json` of a shipped scenario, as text.
fn run_json(scenario: &str) -> String {
    let out = bin().args(["run", scenario, "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn issue_13_repair_streams_queue_a_copyset_nodes_segments() {
    // az-a-7 is node index 6 of az-a: copyset group 3 (nodes 7 and 8). PG j
    // uses group j mod 50; 6554 = 50 × 131 + 4, so groups 0–3 have 132 PGs:
    // the node holds 132 segments. With 2 streams on its replacement they
    // are rebuilt two at a time, 8.589935 s each (10 GiB / 10 Gbps rounded to
    // the µs), so the last pair waits 65 rounds: 65 × 8.589935 = 558.345775 s,
    // and all 132 finish at 1 h + 66 rounds = 1 h 9 min 26.94 s < 2 h.
    let j = run_json("scenarios/repair-streams.toml");
    assert!(j.contains("\"repairs\": 132,"), "{j}");
    assert!(
        j.contains("\"longest_repair_wait_seconds\": 558.345775"),
        "{j}"
    );
    assert!(j.contains("\"pgs\": 6554,"), "{j}");
    assert!(j.contains("\"nodes\": 300,"), "{j}");
    // A one-PG scenario has none of the volume keys (SPEC §3 unchanged).
    let one = run_json("scenarios/az-outage.toml");
    assert!(!one.contains("\"pgs\""), "{one}");
}

#[test]
fn issue_13_sweep_of_a_volume_adds_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.csv");
    let st = bin()
        .args([
            "sweep",
            "scenarios/repair-streams.toml",
            "--trials",
            "2",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(0));
    let text = std::fs::read_to_string(&out).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.ends_with(",mttdl_seconds,pgs_with_data_loss_mean,lost_bytes_mean"),
        "{header}"
    );
}

#[test]
fn issue_13_analyze_refuses_volumes_and_plot_draws_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["analyze", "scenarios/volume-64tib.toml"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("6554 PGs on 300 fleet nodes") && err.contains("sweep"),
        "{err}"
    );
    let svg = dir.path().join("t.svg");
    let out = bin()
        .args(["run", "scenarios/rack-outages.toml", "--plot"])
        .arg(&svg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg") || text.starts_with("<?xml"),
        "{}",
        &text[..80]
    );
}

#[test]
fn issue_13_set_reaches_an_events_entry_by_index() {
    // The file has one [[events]] table: index 0 exists, index 1 does not.
    let ok = bin()
        .args([
            "check",
            "scenarios/power-event-1pct.toml",
            "--set",
            "events[0].count=60",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(ok.stdout).unwrap();
    assert_eq!(ok.status.code(), Some(0));
    assert!(text.contains("60 random nodes"), "{text}");
    let bad = bin()
        .args([
            "check",
            "scenarios/power-event-1pct.toml",
            "--set",
            "events[1].count=6",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(bad.stderr).unwrap();
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(err.contains("the file has 1 `[[events]]` tables"), "{err}");
}

#[test]
fn issue_13_volume_timeline_has_a_row_for_each_detection() {
    // 10 PGs (100 GiB / 10 GiB) on a fleet of exactly the 6 cluster nodes:
    // every PG has its az-a-1 replica there, so losing the node at 1 h
    // destroys 10 segments. Their losses are detected 10 s later, one event
    // each; each starts its repair at once (fixed target, unlimited streams),
    // so the detection rows must count 1, 2, …, 10 repairs running, and the
    // repairs (1 h each) finish at 2 h 0 min 10 s, counting down 9, …, 0.
    let dir = tempfile::tempdir().unwrap();
    let scen = dir.path().join("d.toml");
    std::fs::write(
        &scen,
        "name = \"d\"\nhorizon = \"3h\"\n[cluster]\ndetection_delay = \"10s\"\n\
         repair_time = \"1h\"\n[volume]\nsize = \"100GiB\"\n[fleet]\nnodes_per_az = 2\n\
         [[events]]\nat = \"1h\"\nkind = \"node-loss\"\nnode = \"az-a-1\"\n",
    )
    .unwrap();
    let csv = dir.path().join("t.csv");
    let out = bin()
        .arg("run")
        .arg(&scen)
        .arg("--timeline")
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let running = |kind: &str, t: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r[1] == kind && r[0] == t)
            .map(|r| r[8].to_string())
            .collect()
    };
    let up: Vec<String> = (1..=10).map(|k| k.to_string()).collect();
    assert_eq!(running("detected", "3610"), up, "{text}");
    let down: Vec<String> = (0..10).rev().map(|k| k.to_string()).collect();
    assert_eq!(running("repair-done", "7210"), down, "{text}");
    // The node-loss row itself: 10 degraded PGs, nothing running yet.
    let loss = rows.iter().find(|r| r[1] == "node-loss").unwrap();
    assert_eq!((loss[7], loss[8]), ("10", "0"), "{text}");
}
