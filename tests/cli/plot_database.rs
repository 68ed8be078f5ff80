//! Issue 14 (SPEC §5): the database pictures — `compare --plot`'s bar
//! chart, the replay picture of `compare --trials 1 --plot`, and the
//! instance lanes of `run --plot` / `plot timeline` on a database timeline.

use super::{bin, scenarios, write};
use std::path::Path;

/// Stretches of time, seconds.
type Spans = Vec<(f64, f64)>;

/// One year in seconds (SPEC §2: `y` = 365 d).
const YEAR_S: f64 = 365.0 * 86_400.0;

/// A 6 h incident on a single PG: az-a dark from 1 h to 3 h (it holds the
/// writer / primary of every design), then instance 1 crashed for 20 min at
/// 4 h. No random failure process, so every design's timeline is fixed.
const INCIDENT: &str = r#"name = "incident"
horizon = "6h"

[database]
design = "aurora"

[[events]]
at = "1h"
kind = "az-outage"
az = "az-a"
lasts = "2h"

[[events]]
at = "4h"
kind = "instance-crash"
instance = 1
lasts = "20m"
"#;

fn parse(text: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("invalid SVG: {e}"))
}

fn num(n: &roxmltree::Node<'_, '_>, attr: &str) -> f64 {
    n.attribute(attr).unwrap().parse().unwrap()
}

/// The (data-start, data-end) of the rects of class `cls` under `parent`.
fn spans(parent: roxmltree::Node<'_, '_>, cls: &str) -> Vec<(f64, f64)> {
    parent
        .descendants()
        .filter(|n| n.attribute("class") == Some(cls))
        .map(|n| (num(&n, "data-start"), num(&n, "data-end")))
        .collect()
}

/// The group of class `cls` whose attribute `key` is `value`.
fn group<'a, 'i>(
    doc: &'a roxmltree::Document<'i>,
    cls: &str,
    key: &str,
    value: &str,
) -> roxmltree::Node<'a, 'i> {
    doc.descendants()
        .find(|n| n.attribute("class") == Some(cls) && n.attribute(key) == Some(value))
        .unwrap_or_else(|| panic!("no {cls} with {key}={value}"))
}

/// Maximal stretches where CSV column `col` is "false", read straight off a
/// database timeline (the state from an instant on is its last row's).
fn csv_outages(csv: &str, col: usize) -> Vec<(f64, f64)> {
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let (mut out, mut open) = (Vec::new(), None);
    for (i, r) in rows.iter().enumerate() {
        if rows.get(i + 1).is_some_and(|n| n[0] == r[0]) {
            continue;
        }
        let t: f64 = r[0].parse().unwrap();
        match (r[col] == "true", open) {
            (false, None) => open = Some(t),
            (true, Some(s)) => {
                out.push((s, t));
                open = None;
            }
            _ => {}
        }
    }
    if let (Some(s), Some(last)) = (open, rows.last()) {
        out.push((s, last[0].parse().unwrap()));
    }
    out
}

fn run_timeline(dir: &Path, sc: &Path, design: &str) -> String {
    let csv = dir.join(format!("{design}.csv"));
    bin()
        .arg("run")
        .arg(sc)
        .arg("--set")
        .arg(format!("database.design=\"{design}\""))
        .arg("--timeline")
        .arg(&csv)
        .assert()
        .success();
    std::fs::read_to_string(csv).unwrap()
}

// See: issue 14
#[test]
fn issue_14_compare_bars_carry_the_json_figures() {
    let dir = tempfile::tempdir().unwrap();
    let (svg, out) = (dir.path().join("bars.svg"), dir.path().join("c.csv"));
    let o = bin()
        .arg("compare")
        .arg(scenarios().join("database-designs.toml"))
        .args(["--trials", "40", "--json", "--plot"])
        .arg(&svg)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = parse(&text);
    let bars: Vec<_> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("bar"))
        .collect();
    let designs = json["designs"].as_array().unwrap();
    assert_eq!(bars.len(), 4);
    let csv = std::fs::read_to_string(&out).unwrap();
    for ((bar, d), row) in bars.iter().zip(designs).zip(csv.lines().skip(1)) {
        assert_eq!(bar.attribute("data-design"), d["design"].as_str());
        // The CSV's numbers are Rust's shortest round-trip text, so they
        // equal the bar's exactly; serde_json's default parser may be an ULP
        // off, so the JSON is held to 1e-12 relative.
        let col = |k: usize| row.split(',').nth(k).unwrap().parse::<f64>().unwrap();
        let down = col(8);
        assert_eq!(num(bar, "data-downtime-seconds-per-year"), down);
        let json_down = d["downtime_seconds_per_year"].as_f64().unwrap();
        assert!(
            (json_down - down).abs() <= 1e-12 * down,
            "{json_down} {down}"
        );
        // The error bar: downtime = (1 − availability) × year, so the
        // interval's low end comes from the availability's high end
        // (columns 4 and 5: write_availability_ci_low, _high).
        let (lo, hi) = (col(3), col(4));
        assert_eq!(num(bar, "data-ci-low"), (1.0 - hi) * YEAR_S);
        assert_eq!(num(bar, "data-ci-high"), (1.0 - lo) * YEAR_S);
        assert!(num(bar, "data-ci-low") <= down && down <= num(bar, "data-ci-high"));
        assert_eq!(num(bar, "data-trials"), 40.0);
    }
    // SLA lines: 99.99 % of a year is (1 − 0.9999) × 31,536,000 s = 3,153.6 s
    // of downtime a year, labelled in whole seconds.
    let sla: Vec<_> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("sla-line"))
        .collect();
    let l = sla
        .iter()
        .find(|n| n.attribute("data-sla") == Some("99.99"))
        .expect("the 99.99 % line");
    assert!((num(l, "data-downtime-seconds-per-year") - 3153.6).abs() < 1e-6);
    let labels: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("sla-label"))
        .filter_map(|n| n.text())
        .collect();
    assert!(labels.contains(&"99.99 % SLA: 52m34s/yr"), "{labels:?}");
    // The same bytes for any thread count (the figures are exact sums).
    let svg3 = dir.path().join("bars3.svg");
    bin()
        .arg("compare")
        .arg(scenarios().join("database-designs.toml"))
        .args(["--trials", "40", "--threads", "3", "--plot"])
        .arg(&svg3)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&svg3).unwrap(), text);
    // Title from the scenario, subtitle with trials, horizon and seed.
    assert!(text.contains("database-designs — expected write downtime per year by design"));
    assert!(text.contains("40 trials of 1y each, seed 1"));
}

// See: issue 14
#[test]
fn issue_14_replay_lanes_equal_each_designs_run_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "incident.toml", INCIDENT);
    let svg = dir.path().join("replay.svg");
    bin()
        .arg("compare")
        .arg(&sc)
        .args(["--trials", "1", "--plot"])
        .arg(&svg)
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = parse(&text);
    // By hand, with the design defaults: az-a holds the writer / primary.
    // Aurora fails over to the reader in az-b (30 s; reads go on: the reader
    // and 4 of 6 storage copies are up); Single-AZ is down for the whole
    // outage (2 h) and restarts after the 4 h crash (10 min < 20 min);
    // Multi-AZ fails over (90 s, no reads meanwhile); the cluster fails
    // over (35 s; its standbys serve reads). The 4 h crash hits instance 1,
    // by then a reader / standby in every design but Single-AZ.
    let hand: [(&str, Spans, Spans); 4] = [
        ("aurora", vec![(3600.0, 3630.0)], vec![]),
        (
            "rds-single-az",
            vec![(3600.0, 10800.0), (14400.0, 15000.0)],
            vec![(3600.0, 10800.0), (14400.0, 15000.0)],
        ),
        (
            "rds-multi-az",
            vec![(3600.0, 3690.0)],
            vec![(3600.0, 3690.0)],
        ),
        ("rds-multi-az-cluster", vec![(3600.0, 3635.0)], vec![]),
    ];
    for (design, writes, reads) in hand {
        let lane = group(&doc, "replay-lane", "data-design", design);
        let csv = run_timeline(dir.path(), &sc, design);
        // Independently: the stretches where run --timeline's write_available
        // (column 6) and read_available (column 7) are false.
        assert_eq!(
            spans(lane, "write-unavailable"),
            csv_outages(&csv, 5),
            "{design}"
        );
        assert_eq!(
            spans(lane, "read-unavailable"),
            csv_outages(&csv, 6),
            "{design}"
        );
        assert_eq!(spans(lane, "write-unavailable"), writes, "{design}");
        assert_eq!(spans(lane, "read-unavailable"), reads, "{design}");
    }
    // The failovers are marked on the lanes: one each but for Single-AZ.
    let failovers = doc
        .descendants()
        .filter(|n| n.attribute("data-event") == Some("failover-done"))
        .count();
    assert_eq!(failovers, 3);
    // The AZ lane shows the incident: az-a dark 1 h → 3 h.
    let az = group(&doc, "az-lane", "data-az", "az-a");
    assert_eq!(spans(az, "az-unreachable"), [(3600.0, 10800.0)]);
}

// See: issue 14
#[test]
fn issue_14_instance_lanes_equal_the_csv_and_both_paths_draw_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "t.toml", &INCIDENT.replace("incident", "t"));
    let (csv, svg) = (dir.path().join("t.csv"), dir.path().join("t.svg"));
    bin()
        .arg("run")
        .arg(&sc)
        .args([
            "--set",
            "database.design=\"rds-multi-az-cluster\"",
            "--timeline",
        ])
        .arg(&csv)
        .arg("--plot")
        .arg(&svg)
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    let doc = parse(&text);
    // The cluster's default instances are az-a, az-b, az-c. Read off the
    // CSV: instance 1 is down while az-a is dark (az-outage → az-recover)
    // and while its own crash holds (instance-crash → instance-recover).
    let at = |event: &str, target: &str| -> f64 {
        let row = csv_text
            .lines()
            .find(|l| l.split(',').nth(1) == Some(event) && l.split(',').nth(2) == Some(target))
            .unwrap_or_else(|| panic!("no {event} {target}"));
        row.split(',').next().unwrap().parse().unwrap()
    };
    let down1 = vec![
        (at("az-outage", "az-a"), at("az-recover", "az-a")),
        (
            at("instance-crash", "instance-1"),
            at("instance-recover", "instance-1"),
        ),
    ];
    // By hand: 1 h → 3 h, and 4 h → 4 h 20 min.
    assert_eq!(down1, [(3600.0, 10800.0), (14400.0, 15600.0)]);
    let lane = |i: &str| group(&doc, "instance-lane", "data-instance", i);
    assert_eq!(spans(lane("1"), "instance-down"), down1);
    assert_eq!(spans(lane("2"), "instance-down"), []);
    assert_eq!(spans(lane("3"), "instance-down"), []);
    // The writer: instance 1 until the outage, instance 2 after its 35 s
    // promotion (the writer column of the CSV), to the end at 6 h.
    assert_eq!(spans(lane("1"), "instance-writer"), [(0.0, 3600.0)]);
    assert_eq!(spans(lane("2"), "instance-promoting"), [(3600.0, 3635.0)]);
    assert_eq!(spans(lane("2"), "instance-writer"), [(3635.0, 21600.0)]);
    // The instance's AZ follows from the CSV (its writer went down with az-a).
    assert!(text.contains(">instance-1 (az-a)<"), "instance 1's AZ");
    // The database's bands are the CSV's.
    let all = doc.root_element();
    assert_eq!(spans(all, "write-unavailable"), csv_outages(&csv_text, 5));
    assert_eq!(spans(all, "read-unavailable"), csv_outages(&csv_text, 6));

    // plot timeline on the CSV draws the same picture: the same bytes but
    // for the title (run's "t — seed 0", the CSV's file name).
    let svg2 = dir.path().join("t2.svg");
    bin()
        .args(["plot", "timeline"])
        .arg(&csv)
        .arg("--out")
        .arg(&svg2)
        .assert()
        .success();
    let text2 = std::fs::read_to_string(&svg2).unwrap();
    let untitled = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.contains(r#"class="title""#))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(text.contains(">t — seed 0<") && text2.contains(">t<"));
    assert_eq!(untitled(&text), untitled(&text2));
}

// See: issue 14
#[test]
fn issue_14_instance_lanes_say_what_the_csv_leaves_open() {
    // Aurora, instances in az-a (writer), az-b, az-c; az-c dark 1 h → 3 h.
    // The CSV then says: instances_up 3 → 2, the writer (1) still serving.
    // So instance 1 is not in az-c, and exactly one of instances 2 and 3
    // is: both placements fit every row and disagree, so both readers are
    // drawn "up or down" for those 2 h, and neither lane names an AZ.
    let dir = tempfile::tempdir().unwrap();
    let text = r#"name = "t"
horizon = "6h"

[database]
design = "aurora"
instances = ["az-a", "az-b", "az-c"]

[[events]]
at = "1h"
kind = "az-outage"
az = "az-c"
lasts = "2h"
"#;
    let sc = write(dir.path(), "t.toml", text);
    let svg = dir.path().join("t.svg");
    bin()
        .arg("run")
        .arg(&sc)
        .arg("--plot")
        .arg(&svg)
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = parse(&text);
    let lane = |i: &str| group(&doc, "instance-lane", "data-instance", i);
    assert_eq!(spans(lane("1"), "instance-writer"), [(0.0, 21600.0)]);
    for i in ["2", "3"] {
        assert_eq!(
            spans(lane(i), "instance-unknown"),
            [(3600.0, 10800.0)],
            "{i}"
        );
        assert_eq!(spans(lane(i), "instance-down"), [], "{i}");
    }
    assert!(text.contains(">instance-3<") && !text.contains("(az-c)"));
    assert!(text.contains("does not say which instance an AZ outage took down"));
}

// See: issue 14
#[test]
fn issue_14_database_plot_refusals_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "incident.toml", INCIDENT);
    let check = |args: &[&str], expect: &str| {
        let out = bin().args(args).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(expect), "{err}");
    };
    let s = sc.to_str().unwrap();
    let png = dir.path().join("c.png");
    check(
        &[
            "compare",
            s,
            "--trials",
            "1",
            "--plot",
            png.to_str().unwrap(),
        ],
        "must end in `.svg`",
    );
    assert!(!png.exists());
    let missing = dir.path().join("no/such/c.svg");
    check(
        &[
            "compare",
            s,
            "--trials",
            "1",
            "--plot",
            missing.to_str().unwrap(),
        ],
        "--plot",
    );
    let same = dir.path().join("same.svg");
    let same = same.to_str().unwrap();
    check(
        &["compare", s, "--trials", "1", "--plot", same, "--out", same],
        "same.svg",
    );
    assert!(!Path::new(same).exists());
    // A database timeline with a bad writer field: file, line and field named.
    let csv = write(
        dir.path(),
        "bad.csv",
        "time_s,event,target,writer,instances_up,write_available,read_available,storage_write_available,data_loss_events\n\
         0,start,,1,2,true,true,true,0\n\
         5,instance-crash,instance-1,zero,1,false,false,true,0\n\
         10,end,,1,2,true,true,true,0\n",
    );
    let out_svg = dir.path().join("bad.svg");
    check(
        &[
            "plot",
            "timeline",
            csv.to_str().unwrap(),
            "--out",
            out_svg.to_str().unwrap(),
        ],
        "bad.csv:3:1: writer `zero` is not an instance number",
    );
    assert!(!out_svg.exists());
}
