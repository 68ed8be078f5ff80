//! `aurora-sim plot` and `run --plot`: valid SVG, one lane per replica, the
//! legend, and unavailability bands that match the CSV's intervals.

use super::{bin, scenarios, write};
use std::path::Path;

fn svg_doc(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("invalid SVG: {e}"));
    text
}

/// Maximal intervals where column `col` is "false", read straight off the CSV.
fn csv_outages(csv: &str, col: usize) -> Vec<(f64, f64)> {
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let mut out = Vec::new();
    let mut open: Option<f64> = None;
    for (i, r) in rows.iter().enumerate() {
        let t: f64 = r[0].parse().unwrap();
        // The state from t on is the one after the last row at t.
        if rows.get(i + 1).is_some_and(|n| n[0] == r[0]) {
            continue;
        }
        match (r[col] == "true", open) {
            (false, None) => open = Some(t),
            (true, Some(s)) => {
                out.push((s, t));
                open = None;
            }
            _ => {}
        }
    }
    out
}

#[test]
fn timeline_plot_has_lanes_legend_and_matching_bands() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, svg) = (dir.path().join("t.csv"), dir.path().join("t.svg"));
    bin()
        .arg("run")
        .arg(scenarios().join("repair-race.toml"))
        .arg("--timeline")
        .arg(&csv)
        .arg("--plot")
        .arg(&svg)
        .assert()
        .success();
    let text = svg_doc(&svg);
    let doc = roxmltree::Document::parse(&text).unwrap();
    let lanes: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("lane"))
        .filter_map(|n| n.attribute("data-node"))
        .collect();
    assert_eq!(
        lanes,
        ["az-a-1", "az-a-2", "az-b-1", "az-b-2", "az-c-1", "az-c-2"]
    );
    let legend: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("legend"))
        .filter_map(|n| n.text())
        .collect();
    for l in [
        "C up, current",
        "S up, stale",
        "D down",
        "L lost",
        "R repairing",
        "writes unavailable",
        "reads unavailable",
        "data loss",
    ] {
        assert!(legend.contains(&l), "legend lacks {l}: {legend:?}");
    }
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    for (class, col) in [("write-unavailable", 5), ("read-unavailable", 6)] {
        let bands: Vec<(f64, f64)> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some(class))
            .map(|n| {
                (
                    n.attribute("data-start").unwrap().parse().unwrap(),
                    n.attribute("data-end").unwrap().parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(bands, csv_outages(&csv_text, col), "{class}");
        assert!(!bands.is_empty());
    }
    // repair-race: writes out 4800 s → 10200 s (restore), one data-loss marker.
    assert_eq!(csv_outages(&csv_text, 5), [(4800.0, 10200.0)]);
    assert_eq!(
        doc.descendants()
            .filter(|n| n.attribute("class") == Some("data-loss"))
            .count(),
        1
    );
    // The same plot from the CSV file.
    let svg2 = dir.path().join("t2.svg");
    bin()
        .args(["plot", "timeline"])
        .arg(&csv)
        .arg("--out")
        .arg(&svg2)
        .assert()
        .success();
    svg_doc(&svg2);
}

#[test]
fn long_timelines_stay_small() {
    // 200 years of baseline: thousands of rows, but lanes are pixel-binned.
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("long.svg");
    bin()
        .arg("run")
        .arg(scenarios().join("baseline.toml"))
        .args(["--horizon", "200y", "--plot"])
        .arg(&svg)
        .assert()
        .success();
    let text = svg_doc(&svg);
    assert!(text.len() < 2_000_000, "{} bytes", text.len());
}

#[test]
fn sweep_plot_has_one_series_per_other_key_value() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("s.csv");
    bin()
        .arg("sweep")
        .arg(scenarios().join("fleet-rates.toml"))
        .args([
            "--trials",
            "40",
            "--quiet",
            "--vary",
            "failures.node_loss.every=1d,5d,30d",
            "--vary",
            "cluster.repair_time=2h,6h",
            "--out",
        ])
        .arg(&csv)
        .assert()
        .success();
    let svg = dir.path().join("s.svg");
    bin()
        .args(["plot", "sweep"])
        .arg(&csv)
        .args([
            "--x",
            "failures.node_loss.every",
            "--y",
            "write_availability_mean",
            "--out",
        ])
        .arg(&svg)
        .assert()
        .success();
    let text = svg_doc(&svg);
    let doc = roxmltree::Document::parse(&text).unwrap();
    let series: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("series"))
        .filter_map(|n| n.attribute("data-label"))
        .collect();
    assert_eq!(series, ["cluster.repair_time=2h", "cluster.repair_time=6h"]);
    assert_eq!(
        doc.descendants()
            .filter(|n| n.attribute("class") == Some("ci-band"))
            .count(),
        2
    );
    assert!(
        text.contains("(days), log scale"),
        "30× span of durations: log axis in days"
    );
}

#[test]
fn bad_plot_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.svg");
    let not_timeline = write(dir.path(), "x.csv", "a,b\n1,2\n");
    let sweep_csv = write(dir.path(), "s.csv", "k,trials,p_data_loss\n1,10,0\n");
    let bad_row = write(
        dir.path(),
        "r.csv",
        "time_s,event,target,up,current,write_available,read_available,data_loss_events,n-1\n0,start,,1,1,true,true,0,C\n5,end,,1,1,maybe,true,0,C\n",
    );
    let cases: Vec<(Vec<&str>, &Path, &str)> = vec![
        (
            vec!["plot", "timeline"],
            &not_timeline,
            "not a timeline CSV",
        ),
        (vec!["plot", "timeline"], &bad_row, "r.csv:3:1"),
        (
            vec!["plot", "sweep", "--x", "k", "--y", "p_data_loss"],
            &not_timeline,
            "not a sweep CSV",
        ),
        (
            vec!["plot", "sweep", "--x", "nope", "--y", "p_data_loss"],
            &sweep_csv,
            "--x nope",
        ),
        (
            vec!["plot", "sweep", "--x", "k", "--y", "colour"],
            &sweep_csv,
            "--y colour",
        ),
        (
            vec!["plot", "timeline"],
            Path::new("/no/such.csv"),
            "cannot read",
        ),
    ];
    for (args, file, needle) in cases {
        let o = bin()
            .args(&args[..2])
            .arg(file)
            .args(&args[2..])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("error:") && err.contains(needle),
            "{args:?}: expected {needle}: {err}"
        );
        assert!(!out.exists());
    }
}
