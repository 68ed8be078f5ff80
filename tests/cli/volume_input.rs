//! `[volume]`, `[fleet]`, `[failures.rack_outage]`, `rack-outage` and burst
//! events (SPEC §4): every refusal is exit 2 with `error: FILE:LINE:COL: KEY:`,
//! and `check` shows the volume and the fleet. Only `check` and sweep plans:
//! `run` on a fleet is the model's (issue 13).

use super::{bin, write};

const HEAD: &str = "name = \"x\"\nhorizon = \"1d\"\n";

/// Runs `check` on `HEAD` + `text` and checks the failure shape and `expect`.
fn rejects(text: &str, expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "bad.toml", &format!("{HEAD}{text}"));
    let out = bin().arg("check").arg(&p).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for e in expect {
        assert!(err.contains(e), "expected `{e}` in: {err}");
    }
    assert!(out.stdout.is_empty());
}

/// `check`'s output for `HEAD` + `text`, which must be valid.
fn checks(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ok.toml", &format!("{HEAD}{text}"));
    let out = bin().arg("check").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    String::from_utf8(out.stdout).unwrap()
}

/// An event table after `HEAD` (so `at` is on line 4 and the next key on 5).
fn ev(body: &str) -> String {
    format!("[[events]]\nat = \"1h\"\n{body}")
}

// See: issue 13
#[test]
fn issue_13_volume_size_is_required_and_needs_a_unit() {
    rejects(
        "[volume]\nplacement = \"copyset\"\n",
        &[
            "bad.toml:3:1:",
            "volume.size",
            "missing required key `size`",
        ],
    );
    rejects(
        "[volume]\nsize = \"20\"\n",
        &["bad.toml:4:8:", "volume.size", "needs a size unit"],
    );
    rejects(
        "[volume]\nsize = 20\n",
        &["bad.toml:4:8:", "volume.size", "as a string"],
    );
}

// See: issue 13
#[test]
fn issue_13_volume_size_is_at_least_one_segment() {
    rejects(
        "[volume]\nsize = \"1GiB\"\n",
        &[
            "bad.toml:4:8:",
            "volume.size",
            "less than one segment",
            "10737418240 bytes",
        ],
    );
    // Exactly one segment is one PG (checked as the boundary).
    assert!(checks("[volume]\nsize = \"10GiB\"\n").contains("  PGs                1 "));
}

// See: issue 13
#[test]
fn issue_13_too_many_pgs_are_refused_with_the_limit() {
    // 100,000,001 GiB / 10 GiB = 10,000,000.1 → 10,000,001 PGs.
    rejects(
        "[volume]\nsize = \"100000001GiB\"\n",
        &[
            "bad.toml:4:8:",
            "volume.size",
            "10,000,001 PGs",
            "at most 10,000,000 PGs",
        ],
    );
    // 1e29 bytes, past u64 bytes, is refused by its PG count too.
    rejects(
        "[volume]\nsize = \"100000000000000000TB\"\n",
        &["bad.toml:4:8:", "volume.size", "at most 10,000,000 PGs"],
    );
}

// See: issue 13
#[test]
fn issue_13_placement_is_random_or_copyset() {
    rejects(
        "[volume]\nsize = \"1TiB\"\nplacement = \"copysets\"\n",
        &[
            "bad.toml:5:13:",
            "volume.placement",
            "expected \"random\" or \"copyset\"",
            "did you mean `copyset`?",
        ],
    );
}

// See: issue 13
#[test]
fn issue_13_unknown_keys_in_the_new_tables() {
    rejects(
        "[volume]\nsize = \"1TiB\"\nplacment = \"random\"\n",
        &[
            "bad.toml:5:1:",
            "volume.placment",
            "unknown key",
            "did you mean `placement`?",
        ],
    );
    rejects(
        "[fleet]\nrack_per_az = 2\n",
        &[
            "bad.toml:4:1:",
            "fleet.rack_per_az",
            "unknown key",
            "did you mean `racks_per_az`?",
        ],
    );
    rejects(
        "[failures.rack_outages]\nevery = \"1y\"\nlasts = \"1h\"\n",
        &[
            "bad.toml:3:11:",
            "unknown key",
            "did you mean `rack_outage`?",
        ],
    );
    rejects(
        "[volum]\nsize = \"1TiB\"\n",
        &["bad.toml:3:2:", "unknown key", "did you mean `volume`?"],
    );
    rejects(
        &ev("kind = \"node-loss\"\ncounts = 2\n"),
        &["bad.toml:6:1:", "events[0].counts", "did you mean `count`?"],
    );
}

// See: issue 13
#[test]
fn issue_13_fleet_nodes_per_az_is_at_least_a_pgs() {
    rejects(
        "[cluster]\nnodes_per_az = 3\nwrite_quorum = 6\nread_quorum = 4\n[fleet]\nnodes_per_az = 2\n",
        &[
            "bad.toml:8:16:",
            "fleet.nodes_per_az",
            "fewer than cluster.nodes_per_az = 3",
        ],
    );
    rejects(
        "[fleet]\nnodes_per_az = \"100\"\n",
        &[
            "bad.toml:4:16:",
            "fleet.nodes_per_az",
            "expected an integer",
        ],
    );
}

// See: issue 13
#[test]
fn issue_13_too_many_fleet_nodes_are_refused_with_the_limit() {
    rejects(
        "[fleet]\nnodes_per_az = 333334\n",
        &[
            "bad.toml:4:16:",
            "fleet.nodes_per_az",
            "1,000,002 fleet nodes",
            "at most 1,000,000",
        ],
    );
    rejects(
        "[fleet]\nnodes_per_az = 9223372036854775807\n",
        &["bad.toml:4:16:", "fleet.nodes_per_az", "at most 1,000,000"],
    );
}

// See: issue 13
#[test]
fn issue_13_copyset_needs_a_multiple() {
    rejects(
        "[volume]\nsize = \"1TiB\"\nplacement = \"copyset\"\n[fleet]\nnodes_per_az = 5\n",
        &[
            "bad.toml:7:16:",
            "fleet.nodes_per_az",
            "not a multiple of cluster.nodes_per_az = 2",
            "copyset",
        ],
    );
    // Random placement takes any fleet size.
    checks("[volume]\nsize = \"1TiB\"\n[fleet]\nnodes_per_az = 5\n");
}

// See: issue 13
#[test]
fn issue_13_racks_per_az_between_one_and_the_nodes() {
    for bad in ["0", "6"] {
        rejects(
            &format!("[fleet]\nnodes_per_az = 5\nracks_per_az = {bad}\n"),
            &[
                "bad.toml:5:16:",
                "fleet.racks_per_az",
                "must be between 1 and 5",
            ],
        );
    }
    rejects(
        "[fleet]\nracks_per_az = 1.5\n",
        &[
            "bad.toml:4:16:",
            "fleet.racks_per_az",
            "expected an integer",
        ],
    );
}

// See: issue 13
#[test]
fn issue_13_repair_streams_at_least_one() {
    rejects(
        "[fleet]\nrepair_streams = 0\n",
        &["bad.toml:4:18:", "fleet.repair_streams", "at least 1"],
    );
    rejects(
        "[fleet]\nrepair_streams = 2.0\n",
        &[
            "bad.toml:4:18:",
            "fleet.repair_streams",
            "expected an integer",
        ],
    );
}

// See: issue 13
#[test]
fn issue_13_rack_outage_process_needs_lasts() {
    rejects(
        "[failures.rack_outage]\nevery = \"1y\"\n",
        &[
            "bad.toml:3:1:",
            "failures.rack_outage.lasts",
            "missing required key `lasts`",
        ],
    );
    rejects(
        "[failures.rack_outage]\nevery = \"1y\"\nlasts = \"-1h\"\n",
        &["bad.toml:5:9:", "failures.rack_outage.lasts", "negative"],
    );
}

// See: issue 13
#[test]
fn issue_13_events_name_fleet_nodes() {
    let fleet = "[fleet]\nnodes_per_az = 100\n";
    let text = checks(&format!(
        "{fleet}{}",
        ev("kind = \"node-crash\"\nnode = \"az-a-57\"\nlasts = \"1h\"\n")
    ));
    assert!(text.contains("1h  node-crash az-a-57 for 1h"), "{text}");
    rejects(
        &format!(
            "{fleet}{}",
            ev("kind = \"node-crash\"\nnode = \"az-a-101\"\nlasts = \"1h\"\n")
        ),
        &[
            "bad.toml:8:8:",
            "events[0].node",
            "unknown node `az-a-101`",
            "az-a-1 … az-a-100",
        ],
    );
    // Without `[fleet]` the fleet is the cluster's nodes, as before.
    rejects(
        &ev("kind = \"node-crash\"\nnode = \"az-a-57\"\nlasts = \"1h\"\n"),
        &["bad.toml:6:8:", "events[0].node", "nodes: az-a-1, az-a-2,"],
    );
}

// See: issue 13
#[test]
fn issue_13_burst_count_excludes_node_and_is_in_range() {
    rejects(
        &ev("kind = \"node-loss\"\nnode = \"az-a-1\"\ncount = 2\n"),
        &[
            "bad.toml:6:8:",
            "events[0].node",
            "not allowed with `count`",
        ],
    );
    rejects(
        &ev("kind = \"node-loss\"\ncount = 7\n"),
        &[
            "bad.toml:6:9:",
            "events[0].count",
            "between 1 and 6, the nodes of the fleet",
        ],
    );
    rejects(
        &ev("kind = \"node-loss\"\ncount = 0\n"),
        &["bad.toml:6:9:", "events[0].count", "between 1 and 6"],
    );
    rejects(
        &ev("kind = \"node-crash\"\naz = \"az-b\"\ncount = 3\nlasts = \"1h\"\n"),
        &[
            "bad.toml:7:9:",
            "events[0].count",
            "between 1 and 2, the nodes of az-b",
        ],
    );
    rejects(
        &ev("kind = \"node-loss\"\ncount = \"2\"\n"),
        &["bad.toml:6:9:", "events[0].count", "expected an integer"],
    );
    rejects(
        &ev("kind = \"node-loss\"\ncount = 2\naz = \"az-q\"\n"),
        &["bad.toml:7:6:", "events[0].az", "unknown AZ `az-q`"],
    );
}

// See: issue 13
#[test]
fn issue_13_az_on_a_node_event_needs_count() {
    rejects(
        &ev("kind = \"node-crash\"\naz = \"az-a\"\nlasts = \"1h\"\n"),
        &["bad.toml:6:6:", "events[0].az", "without `count`"],
    );
    rejects(
        &ev("kind = \"node-crash\"\nlasts = \"1h\"\n"),
        &[
            "bad.toml:3:1:",
            "events[0].node",
            "missing required key `node` (or `count`)",
        ],
    );
}

// See: issue 13
#[test]
fn issue_13_rack_outage_needs_az_rack_in_range_and_lasts() {
    let fleet = "[fleet]\nnodes_per_az = 10\nracks_per_az = 5\n";
    rejects(
        &format!(
            "{fleet}{}",
            ev("kind = \"rack-outage\"\naz = \"az-a\"\nrack = 6\nlasts = \"1h\"\n")
        ),
        &[
            "bad.toml:10:8:",
            "events[0].rack",
            "between 1 and 5 (fleet.racks_per_az)",
        ],
    );
    rejects(
        &format!(
            "{fleet}{}",
            ev("kind = \"rack-outage\"\naz = \"az-a\"\nlasts = \"1h\"\n")
        ),
        &[
            "bad.toml:6:1:",
            "events[0].rack",
            "missing required key `rack`",
        ],
    );
    rejects(
        &format!(
            "{fleet}{}",
            ev("kind = \"rack-outage\"\naz = \"az-a\"\nrack = 2\n")
        ),
        &[
            "bad.toml:6:1:",
            "events[0].lasts",
            "missing required key `lasts`",
        ],
    );
    rejects(
        &format!(
            "{fleet}{}",
            ev("kind = \"rack-outage\"\nrack = 2\nlasts = \"1h\"\n")
        ),
        &["bad.toml:6:1:", "events[0].az", "missing required key `az`"],
    );
    rejects(
        &format!(
            "{fleet}{}",
            ev("kind = \"rack-outage\"\naz = \"az-a\"\nrack = \"2\"\nlasts = \"1h\"\n")
        ),
        &["bad.toml:10:8:", "events[0].rack", "expected an integer"],
    );
    rejects(
        &format!(
            "{fleet}{}",
            ev("kind = \"rack-outage\"\naz = \"az-a\"\nrack = 2\ncount = 2\nlasts = \"1h\"\n")
        ),
        &["bad.toml:11:9:", "events[0].count", "not allowed"],
    );
    // `rack` belongs to rack-outage only; the kind itself is suggested.
    rejects(
        &ev("kind = \"az-outage\"\naz = \"az-a\"\nrack = 1\nlasts = \"1h\"\n"),
        &["bad.toml:7:8:", "events[0].rack", "not allowed"],
    );
    rejects(
        &ev("kind = \"rack_outage\"\naz = \"az-a\"\nrack = 1\nlasts = \"1h\"\n"),
        &[
            "bad.toml:5:8:",
            "events[0].kind",
            "did you mean `rack-outage`?",
        ],
    );
}

// See: issue 13
#[test]
fn issue_13_check_shows_the_volume_and_the_fleet() {
    let text = checks(
        "[volume]\nsize = \"20TiB\"\nplacement = \"copyset\"\n\
         [fleet]\nnodes_per_az = 100\nracks_per_az = 10\nrepair_streams = 4\n\
         [failures.rack_outage]\nevery = \"1y\"\nlasts = \"1h\"\n\
         [[events]]\nat = \"1h\"\nkind = \"rack-outage\"\naz = \"az-b\"\nrack = 3\nlasts = \"2h\"\n\
         [[events]]\nat = \"2h\"\nkind = \"node-loss\"\ncount = 3\n\
         [[events]]\nat = \"3h\"\nkind = \"node-crash\"\ncount = 5\naz = \"az-c\"\nlasts = \"30m\"\n",
    );
    // 20 TiB = 20 × 2^40 bytes; / 10 GiB = 2048 PGs; × 6 replicas = 12288.
    for line in [
        "  3 AZs × 2 nodes = 6 replicas per PG\n",
        "  size               21990232555520 bytes (20.000 TiB)\n",
        "  PGs                2048 (size / segment size, rounded up)\n",
        "  placement          copyset\n",
        "  segments           12288 (2048 PGs × 6 replicas)\n",
        "  nodes              100 per AZ × 3 AZs = 300\n",
        "  az-b: az-b-1 … az-b-100\n",
        "  racks              10 per AZ × 3 AZs = 30 (az-a/rack-1 … az-a/rack-10;",
        "  repair streams     4 per node\n",
        "  rack_outage  per rack: every exponential(mean 1y), lasts exponential(mean 1h)\n",
        "          1h  rack-outage az-b/rack-3 for 2h\n",
        "          2h  node-loss  3 random nodes\n",
        "          3h  node-crash 5 random nodes of az-c for 30m\n",
    ] {
        assert!(text.contains(line), "expected {line:?} in:\n{text}");
    }
    // The PG's slots are not listed as if they were the fleet.
    assert!(!text.contains("az-a: az-a-1, az-a-2\n"), "{text}");
    // `[fleet]` alone is one PG on that fleet.
    let text = checks("[fleet]\nnodes_per_az = 4\n");
    assert!(
        text.contains("  PGs                1 (no [volume])\n"),
        "{text}"
    );
    assert!(text.contains("  repair streams     no limit\n"), "{text}");
    assert!(text.contains("  az-c: az-c-1 … az-c-4\n"), "{text}");
    // Without either table nothing new is printed.
    let text = checks("");
    assert!(
        !text.contains("volume") && !text.contains("fleet"),
        "{text}"
    );
    assert!(text.contains("  az-a: az-a-1, az-a-2\n"), "{text}");
}

// See: issue 13
#[test]
fn issue_13_sweep_and_set_take_the_new_keys() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "s.toml",
        &format!("{HEAD}[failures.node_crash]\nevery = \"180d\"\nlasts = \"10m\"\n"),
    );
    let out = dir.path().join("o.csv");
    // Every grid point validates; the tiny event limit then stops the sweep
    // before it runs (the volume model is not part of this test).
    let o = bin()
        .arg("sweep")
        .arg(&p)
        .args(["--trials", "2", "--quiet", "--max-events", "1"])
        .args(["--vary", "volume.size=1TiB,20TiB"])
        .args(["--vary", "fleet.nodes_per_az=10,100"])
        .args(["--vary", "volume.placement=random,copyset"])
        .args(["--set", "fleet.repair_streams=2"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: --max-events:"), "{err}");
    assert!(err.contains("2 trials × 8 grid points"), "{err}");
    assert!(!out.exists());
    // `--set` creates the tables; a misspelt key is told the right one.
    let o = bin()
        .arg("check")
        .arg(&p)
        .args(["--set", "volume.size=1TiB", "--set", "fleet.racks_per_az=2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("  PGs                103 "), "{text}");
    for (set, hint) in [
        ("volume.sise=1TiB", "did you mean `size`?"),
        ("fleet.repair_stream=2", "did you mean `repair_streams`?"),
        ("flet.nodes_per_az=4", "did you mean `fleet`?"),
    ] {
        let o = bin()
            .arg("check")
            .arg(&p)
            .args(["--set", set])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with(&format!("error: --set {set}: ")) && err.contains(hint),
            "{err}"
        );
    }
}
