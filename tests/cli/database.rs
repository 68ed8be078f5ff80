//! Issue 14 (SPEC §5): `[database]` input errors, `run`'s database outputs
//! and `compare`'s table, JSON and CSV.

use super::{bin, scenarios, write};

const HEAD: &str = "name = \"x\"\nhorizon = \"1d\"\n";

/// `run FILE` on `text` fails with exit 2 and one `error:` line holding `expect`.
fn rejects(text: &str, expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "bad.toml", text);
    let out = bin().arg("run").arg(&p).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}\n{text}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    for e in expect {
        assert!(err.contains(e), "expected `{e}` in: {err}");
    }
}

fn crash_event(instance: &str) -> String {
    format!(
        "[[events]]\nat = \"1h\"\nkind = \"instance-crash\"\ninstance = {instance}\nlasts = \"1h\"\n"
    )
}

// See: issue 14
#[test]
fn issue_14_bad_database_keys_name_file_line_column_and_key() {
    let db = |body: &str| format!("{HEAD}[database]\n{body}\n");
    rejects(
        &db("design = \"oracle\""),
        &["bad.toml:4:10:", "database.design", "\"aurora\""],
    );
    rejects(
        &db("colour = 1"),
        &["bad.toml:4:1:", "database.colour", "unknown key"],
    );
    rejects(
        &db("instances = [\"az-a\", \"az-q\"]"),
        &["bad.toml:4:22:", "database.instances", "unknown AZ `az-q`"],
    );
    rejects(
        &db("design = \"rds-multi-az\"\ninstances = [\"az-a\"]"),
        &[
            "bad.toml:5:13:",
            "database.instances",
            "1 instances",
            "takes 2",
        ],
    );
    rejects(
        &db("design = \"rds-multi-az-cluster\"\ninstances = [\"az-a\", \"az-b\", \"az-a\"]"),
        &["bad.toml:5:13:", "database.instances", "distinct AZs"],
    );
    rejects(
        &db("instances = []"),
        &["bad.toml:4:13:", "database.instances", "takes 1 to 16"],
    );
    rejects(
        &db("design = \"rds-single-az\"\nfailover_time = \"30s\""),
        &[
            "bad.toml:5:17:",
            "database.failover_time",
            "nothing to fail over to",
        ],
    );
    rejects(
        &db("resync_time = \"1m\""),
        &["bad.toml:4:15:", "database.resync_time", "not allowed"],
    );
    rejects(
        &db("backup_lag = \"1m\""),
        &[
            "bad.toml:4:14:",
            "database.backup_lag",
            "cluster.backup_lag",
        ],
    );
    rejects(
        &db("restart_time = \"-1m\""),
        &["bad.toml:4:16:", "database.restart_time"],
    );
    rejects(
        &db("failover_time = { dist = \"weibull\", shape = 0, scale = \"30s\" }"),
        &["bad.toml:4:17:", "database.failover_time.shape"],
    );
    rejects(
        &db("[database.rds-multi-az]\nfailover_tme = \"2m\""),
        &[
            "bad.toml:5:1:",
            "database.rds-multi-az.failover_tme",
            "unknown key",
        ],
    );
    rejects(
        &db("[database.aurora]\nfailover_time = \"2m\""),
        &[
            "bad.toml:4:1:",
            "database.aurora",
            "set its keys in [database] itself",
        ],
    );
    rejects(
        &db("[database.rds-multi-az]\ninstances = [\"az-a\", \"az-a\"]"),
        &[
            "bad.toml:5:13:",
            "database.rds-multi-az.instances",
            "distinct AZs",
        ],
    );
    // Two AZs cannot hold the cluster's three instances.
    rejects(
        &format!(
            "{HEAD}[cluster]\nazs = [\"a\", \"b\"]\nnodes_per_az = 3\nwrite_quorum = 4\n[database]\ndesign = \"rds-multi-az-cluster\"\n"
        ),
        &["bad.toml:7:1:", "database.instances", "needs 3 AZs"],
    );
}

// See: issue 14
#[test]
fn issue_14_bad_database_processes_and_events() {
    rejects(
        &format!("{HEAD}[failures.instance_crash]\nevery = \"1y\"\nlasts = \"1h\"\n"),
        &[
            "bad.toml:3:1:",
            "failures.instance_crash",
            "needs a [database]",
        ],
    );
    rejects(
        &format!("{HEAD}[database]\n[failures.instance_crash]\nevery = \"1y\"\n"),
        &[
            "bad.toml:4:1:",
            "failures.instance_crash.lasts",
            "missing required key",
        ],
    );
    rejects(
        &format!(
            "{HEAD}[database]\ndesign = \"rds-multi-az\"\n[failures.ebs_loss]\nevery = \"700y\"\nlasts = \"1h\"\n"
        ),
        &["bad.toml:7:9:", "failures.ebs_loss.lasts", "permanent"],
    );
    rejects(
        &format!("{HEAD}[database]\n[failures.instance_crash]\nevery = \"0s\"\nlasts = \"1h\"\n"),
        &["bad.toml:5:9:", "failures.instance_crash.every", "positive"],
    );
    rejects(
        &format!("{HEAD}{}", crash_event("1")),
        &["bad.toml:5:8:", "events[0].kind", "needs a [database]"],
    );
    let db = format!("{HEAD}[database]\n");
    rejects(
        &format!("{db}{}", crash_event("3")),
        &["bad.toml:7:12:", "events[0].instance", "between 1 and 2"],
    );
    rejects(
        &format!("{db}{}", crash_event("\"1\"")),
        &["bad.toml:7:12:", "events[0].instance", "without quotes"],
    );
    rejects(
        &format!("{db}[[events]]\nat = \"1h\"\nkind = \"instance-crash\"\ninstance = 1\n"),
        &["bad.toml:4:1:", "events[0].lasts", "missing required key"],
    );
    rejects(
        &format!("{db}[[events]]\nat = \"1h\"\nkind = \"instance-crash\"\nlasts = \"1h\"\n"),
        &[
            "bad.toml:4:1:",
            "events[0].instance",
            "missing required key",
        ],
    );
    rejects(
        &format!(
            "{db}[[events]]\nat = \"1h\"\nkind = \"node-crash\"\nnode = \"az-a-1\"\ninstance = 1\nlasts = \"1h\"\n"
        ),
        &["bad.toml:8:12:", "events[0].instance", "not allowed"],
    );
    let multi = format!("{HEAD}[database]\ndesign = \"rds-multi-az\"\n");
    rejects(
        &format!(
            "{multi}[[events]]\nat = \"1h\"\nkind = \"ebs-loss\"\ninstance = 1\nlasts = \"1h\"\n"
        ),
        &["bad.toml:9:9:", "events[0].lasts", "permanent"],
    );
    // What the design has no target for: an error in `run` (compare skips it).
    rejects(
        &format!("{db}[[events]]\nat = \"1h\"\nkind = \"ebs-loss\"\ninstance = 1\n"),
        &["bad.toml:6:8:", "events[0].kind", "no EBS volumes"],
    );
    rejects(
        &format!("{db}[failures.ebs_loss]\nevery = \"700y\"\n"),
        &["bad.toml:4:1:", "failures.ebs_loss", "no EBS volumes"],
    );
    rejects(
        &format!(
            "{multi}[[events]]\nat = \"1h\"\nkind = \"node-crash\"\nnode = \"az-a-1\"\nlasts = \"1h\"\n"
        ),
        &["bad.toml:7:8:", "events[0].kind", "no storage nodes"],
    );
}

// See: issue 14 (sweep did not refuse what a design has no target for)
#[test]
fn issue_14_sweep_refuses_sources_the_design_has_no_target_for() {
    // `ebs_loss` on Aurora would silently do nothing in every trial; `run`
    // refuses it, so `sweep` must too — also when only a grid point's
    // design (here `--vary database.design`) makes it a mismatch, and
    // before any trial runs or any file is written.
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "s.toml",
        &format!(
            "{HEAD}[database]\ndesign = \"rds-multi-az\"\n[failures.ebs_loss]\nevery = \"700y\"\n"
        ),
    );
    let out_csv = dir.path().join("s.csv");
    let sweep = |extra: &[&str]| {
        bin()
            .arg("sweep")
            .arg(&p)
            .args(["--trials", "5", "--quiet", "--out"])
            .arg(&out_csv)
            .args(extra)
            .output()
            .unwrap()
    };
    let ok = sweep(&[]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    std::fs::remove_file(&out_csv).unwrap();
    let out = sweep(&["--vary", "database.design=rds-multi-az,aurora"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    for e in ["s.toml:7:1:", "failures.ebs_loss", "no EBS volumes"] {
        assert!(err.contains(e), "expected `{e}` in: {err}");
    }
    assert!(!out_csv.exists(), "no file after a refusal");
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = bin().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

// See: issue 14
#[test]
fn issue_14_run_reports_the_database() {
    let dir = tempfile::tempdir().unwrap();
    // Multi-AZ: primary crash at 1 h (failover 90 s), then the new primary
    // (instance 2) crashes at 2 h while instance 1 is still down: restart,
    // 600 s. 690 s of writes lost to compute, none to storage.
    let src = format!(
        "{HEAD}[database]\ndesign = \"rds-multi-az\"\n{}[[events]]\nat = \"2h\"\nkind = \"instance-crash\"\ninstance = 2\nlasts = \"1h\"\n",
        crash_event("1").replace("lasts = \"1h\"", "lasts = \"3h\"")
    );
    let p = write(dir.path(), "db.toml", &src);
    let csv = dir.path().join("t.csv");
    let j = json(&[
        "run",
        p.to_str().unwrap(),
        "--json",
        "--timeline",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(j["write_unavailable_seconds"], 690.0);
    assert_eq!(j["design"], "rds-multi-az");
    assert_eq!(
        (j["failovers"].as_u64(), j["restarts"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(j["compute_write_unavailable_seconds"], 690.0);
    assert_eq!(j["storage_write_unavailable_seconds"], 0.0);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "time_s,event,target,writer,instances_up,write_available,read_available,storage_write_available,data_loss_events"
        )
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows[0], "0,start,,1,2,true,true,true,0");
    assert!(
        rows.contains(&"3690,failover-done,instance-2,2,1,true,true,true,0"),
        "{text}"
    );
    // 2 h = 7200 s: the writer (2) down, nothing in sync to fail over to.
    assert!(
        rows.contains(&"7200,instance-crash,instance-2,,0,false,false,true,0"),
        "{text}"
    );
    assert!(
        rows.contains(&"7800,restart-done,instance-2,2,1,true,true,true,0"),
        "{text}"
    );
    // check prints the design, instances and timings.
    let out = bin().arg("check").arg(&p).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "design             rds-multi-az",
        "1 az-a (writer), 2 az-b",
        "failover time      1m30s",
        "resync time        10m",
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
}

// See: issue 14
#[test]
fn issue_14_designs_meet_the_same_az_history() {
    // run --set database.design=… with one seed is compare's trial for that
    // design: the AZ outages (storage underneath, main stream) fall at the
    // same instants in every design's timeline.
    let dir = tempfile::tempdir().unwrap();
    let src = "name = \"x\"\nhorizon = \"20y\"\n[database]\n\
               [failures.instance_crash]\nevery = \"90d\"\nlasts = \"1h\"\n\
               [failures.az_outage]\nevery = \"1y\"\nlasts = \"3h\"\n";
    let p = write(dir.path(), "env.toml", src);
    let mut seen: Vec<Vec<String>> = Vec::new();
    for d in [
        "aurora",
        "rds-single-az",
        "rds-multi-az",
        "rds-multi-az-cluster",
    ] {
        let csv = dir.path().join(format!("{d}.csv"));
        let out = bin()
            .args([
                "run",
                p.to_str().unwrap(),
                "--seed",
                "5",
                "--timeline",
                csv.to_str().unwrap(),
            ])
            .args(["--set", &format!("database.design=\"{d}\"")])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&csv).unwrap();
        let az: Vec<String> = text
            .lines()
            .filter(|l| l.contains(",az-outage,") || l.contains(",az-recover,"))
            .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
            .collect();
        assert!(az.len() >= 20, "{d}: {az:?}");
        seen.push(az);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
}

// See: issue 14
#[test]
fn issue_14_compare_replays_one_writer_crash() {
    // One scripted crash (1 h) of the writer, one trial of 1 d: downtime per
    // year = outage × (365 d / 1 d): 30 s, 600 s, 90 s, 35 s × 365.
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "one.toml",
        &format!("{HEAD}[database]\n{}", crash_event("1")),
    );
    let csv = dir.path().join("c.csv");
    let j = json(&[
        "compare",
        p.to_str().unwrap(),
        "--trials",
        "1",
        "--json",
        "--out",
        csv.to_str().unwrap(),
    ]);
    let designs = j["designs"].as_array().unwrap();
    let got: Vec<(&str, f64, f64)> = designs
        .iter()
        .map(|d| {
            (
                d["design"].as_str().unwrap(),
                d["downtime_seconds_per_year"].as_f64().unwrap(),
                d["longest_outage_seconds"].as_f64().unwrap(),
            )
        })
        .collect();
    for ((name, per_year, longest), (want_name, want)) in got.iter().zip([
        ("aurora", 30.0),
        ("rds-single-az", 600.0),
        ("rds-multi-az", 90.0),
        ("rds-multi-az-cluster", 35.0),
    ]) {
        assert_eq!(*name, want_name);
        assert_eq!(*longest, want);
        assert!((per_year - want * 365.0).abs() < 1e-6, "{name}: {per_year}");
    }
    // One trial: no interval.
    assert!(designs[0]["write_availability_ci_low"].is_null());
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 5);
    assert!(text.starts_with("design,trials,write_availability_mean,"));
    // Aurora: 1 − 30 s / 1 d = 99.9653 %: below the 99.99 % line, above the other three.
    let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(&row[17..21], ["false", "true", "true", "true"]);
}

// See: issue 14
#[test]
fn issue_14_compare_is_the_same_for_any_thread_count_and_lists_skips() {
    let sc = scenarios().join("database-designs.toml");
    let mut outs = Vec::new();
    for t in ["1", "2"] {
        let out = bin()
            .args([
                "compare",
                sc.to_str().unwrap(),
                "--trials",
                "40",
                "--threads",
                t,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        outs.push(out.stdout);
    }
    assert_eq!(outs[0], outs[1]);
    let text = String::from_utf8(outs.remove(0)).unwrap();
    assert!(
        text.contains("aurora                failures.ebs_loss (no EBS volumes)"),
        "{text}"
    );
    assert!(
        text.contains("rds-multi-az          failures.node_crash (no storage nodes)"),
        "{text}"
    );
    // A subset, in the order given.
    let j = json(&[
        "compare",
        sc.to_str().unwrap(),
        "--trials",
        "3",
        "--designs",
        "rds-multi-az,aurora",
        "--json",
    ]);
    let names: Vec<&str> = j["designs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["design"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["rds-multi-az", "aurora"]);
}

// See: issue 14
#[test]
fn issue_14_compare_bad_flags() {
    let sc = scenarios().join("database-designs.toml");
    let sc = sc.to_str().unwrap();
    for (args, want) in [
        (vec!["--trials", "0"], "--trials"),
        (
            vec!["--trials", "2", "--designs", "aurora,db2"],
            "unknown design `db2`",
        ),
        (
            vec!["--trials", "2", "--designs", "aurora,aurora"],
            "listed twice",
        ),
    ] {
        let out = bin().arg("compare").arg(sc).args(&args).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.starts_with("error: ") && err.contains(want), "{err}");
    }
    // analyze refuses a database scenario cleanly; run --plot draws it
    // (instance lanes: tests/cli/plot_database.rs).
    let out = bin().args(["analyze", sc]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("x.svg");
    let out = bin()
        .args(["run", sc, "--plot", svg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(svg.exists());
}

#[test]
fn issue_14_compare_replays_an_incident_per_design() {
    // scenarios/incidents/2012-06-us-east-1-power.toml: az-a unreachable
    // for exactly 2 h, nothing else. Each design's writer (or primary) is
    // in az-a, the first AZ. Aurora fails over to its reader in az-b: writes
    // down failover_time = 30 s, reads never (the reader serves). Single-AZ
    // has nothing to fail over to and its AZ is out: down the whole 2 h.
    // Multi-AZ fails over to its in-sync standby: 90 s, reads too (only
    // the primary serves reads). The cluster: 35 s, its standbys keep reads.
    let out = bin()
        .args([
            "compare",
            "scenarios/incidents/2012-06-us-east-1-power.toml",
            "--trials",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let row = |d: &str| -> Vec<String> {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(d))
            .unwrap_or_else(|| panic!("{d}: {text}"));
        line.split_whitespace().skip(1).map(String::from).collect()
    };
    // writes down, reads down, write outages, failovers, longest, loss, lost
    assert_eq!(
        row("aurora"),
        ["30s", "0", "1", "1", "30s", "no", "0"],
        "{text}"
    );
    assert_eq!(
        row("rds-single-az"),
        ["2h", "2h", "1", "0", "2h", "no", "0"],
        "{text}"
    );
    assert_eq!(
        row("rds-multi-az"),
        ["1m30s", "1m30s", "1", "1", "1m30s", "no", "0"],
        "{text}"
    );
    assert_eq!(
        row("rds-multi-az-cluster"),
        ["35s", "0", "1", "1", "35s", "no", "0"],
        "{text}"
    );
    assert!(text.contains("writes down"), "{text}");
    assert!(!text.contains("downtime/yr"), "{text}");
}
