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
        text.contains("(failures.node_loss.every), days, log scale"),
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

/// Elements of `doc` with this class.
fn class<'a>(doc: &'a roxmltree::Document<'a>, c: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some(c))
        .collect()
}

const SWEEP_HEADER: &str = "trials,write_availability_mean,write_availability_ci_low,write_availability_ci_high,read_availability_mean,read_availability_ci_low,read_availability_ci_high,p_data_loss,p_data_loss_ci_low,p_data_loss_ci_high,data_loss_events,simulated_seconds,mttdl_seconds";

/// One sweep CSV row for key value `k`: 100 trials of one year, the given
/// p_data_loss and mttdl text, availability `a`.
fn sweep_row(k: &str, p: &str, a: &str, mttdl: &str) -> String {
    format!("{k},100,{a},{a},{a},{a},{a},{a},{p},{p},{p},3,3153600000,{mttdl}\n")
}

fn plot_sweep_cmd(csv: &Path, y: &str, extra: &[&str], out: &Path) -> std::process::Output {
    bin()
        .args(["plot", "sweep"])
        .arg(csv)
        .args(["--x", "failures.node_loss.every", "--y", y])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn issue_11_sweep_plot_skips_extreme_values_and_says_why() {
    // See: issue 11. 5e-324 (the least subnormal) and inf overflowed the
    // log-axis ticks and tried to allocate 17 GB. Of these seven rows, three
    // are drawable on a log axis (5e-324, 1e-3, 0.5); inf and NaN are not
    // finite, -1 is ≤ 0, the empty one has no value: four notes' worth.
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("failures.node_loss.every,{SWEEP_HEADER}\n");
    for (k, p) in [
        ("1d", "5e-324"),
        ("2d", "inf"),
        ("3d", "NaN"),
        ("4d", "-1"),
        ("5d", ""),
        ("6d", "1e-3"),
        ("7d", "0.5"),
    ] {
        text.push_str(&sweep_row(k, p, "0.9", ""));
    }
    let csv = write(dir.path(), "s.csv", &text);
    let svg = dir.path().join("s.svg");
    let o = plot_sweep_cmd(&csv, "p_data_loss", &["--logy"], &svg);
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(o.status.success(), "{err}");
    let text = svg_doc(&svg);
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(class(&doc, "point").len(), 3, "three drawable points");
    // The y axis spans ~324 decades: its ticks are thinned, never one per decade.
    let ticks = class(&doc, "y-tick").len();
    assert!((2..=12).contains(&ticks), "{ticks} y ticks");
    for needle in [
        "2 of 7 rows not drawn: `p_data_loss` is infinite or NaN (at failures.node_loss.every=2d, 3d)",
        "1 of 7 rows not drawn: `p_data_loss` is ≤ 0",
        "1 of 7 rows not drawn: `p_data_loss` is empty (at failures.node_loss.every=5d)",
    ] {
        assert!(err.contains(needle), "expected {needle}: {err}");
    }
    assert!(
        err.lines()
            .all(|l| l.starts_with("note: ") || l.starts_with("wrote ")),
        "notes and the file written only: {err}"
    );
    assert_eq!(class(&doc, "footnote").len(), 1, "the picture says so too");
}

#[test]
fn issue_11_sweep_plot_is_linear_in_rows_and_bounded_in_ticks() {
    // See: issue 11. 100 k rows took 38 s: every row searched the list of x
    // labels and of series (quadratic). Rows are now looked up by hash, so
    // 20,000 distinct x values are one pass; this checks that every row is
    // drawn once, that no dot is drawn per point beyond 300 (the line alone
    // carries them), and that the tick count stays bounded.
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("failures.node_loss.every,cluster.repair_time,{SWEEP_HEADER}\n");
    for i in 1..=10_000 {
        for r in ["2h", "6h"] {
            text.push_str(&sweep_row(&format!("{i}s,{r}"), "0.25", "0.99", "100"));
        }
    }
    let csv = write(dir.path(), "big.csv", &text);
    let svg = dir.path().join("big.svg");
    let o = plot_sweep_cmd(&csv, "p_data_loss", &[], &svg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = svg_doc(&svg);
    let doc = roxmltree::Document::parse(&text).unwrap();
    let series = class(&doc, "series");
    assert_eq!(series.len(), 2);
    for s in &series {
        assert_eq!(s.attribute("data-points"), Some("10000"));
    }
    assert!(class(&doc, "point").is_empty());
    assert!(class(&doc, "x-tick").len() <= 12 && class(&doc, "y-tick").len() <= 12);
}

#[test]
fn issue_11_sweep_plot_words_units_subtitle_and_nines() {
    // See: issue 11. Duration keys in mixed units (12h, 2d, 1y) still plot;
    // mttdl in seconds is shown in years when it is years (3.15e10 s =
    // 1,000 years); the subtitle gives trials and the horizon, which is
    // simulated_seconds / trials = 3,153,600,000 / 100 = 1 y.
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("failures.node_loss.every,{SWEEP_HEADER}\n");
    text.push_str(&sweep_row("12h", "0.5", "0.9", "31536000"));
    text.push_str(&sweep_row("2d", "0.1", "0.999", "3153600000"));
    text.push_str(&sweep_row("1y", "0.01", "0.99999", "31536000000"));
    let csv = write(dir.path(), "mixed.csv", &text);
    let svg = dir.path().join("m.svg");
    let o = plot_sweep_cmd(&csv, "mttdl_seconds", &[], &svg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = svg_doc(&svg);
    assert!(text.contains("mean time to data loss (mttdl_seconds), years, log scale"));
    assert!(
        text.contains(
            "mean time between node losses per node (failures.node_loss.every), days, log scale"
        ),
        "12 h … 365 d: days, and a 730× span is a log axis"
    );
    assert!(text.contains("mixed.csv · 100 trials per point · horizon 1y per trial"));
    // Fitted x range: the first tick is not a decade far below 0.5 d.
    let doc = roxmltree::Document::parse(&text).unwrap();
    let first: f64 = class(&doc, "x-tick")[0].text().unwrap().parse().unwrap();
    assert!(first >= 0.5, "first x tick {first}");

    // Availability: unavailability on a log axis, decades labelled with nines
    // (1 − 0.99999 = 1e-5 is 5 nines).
    let o = plot_sweep_cmd(&csv, "write_availability_mean", &[], &svg);
    assert!(o.status.success());
    let text = svg_doc(&svg);
    assert!(text.contains("write unavailability (1 − write_availability_mean), log scale"));
    assert!(text.contains("1e-5 (5 nines)"), "{text}");
}

#[test]
fn issue_11_plots_name_the_command_for_other_files_and_refuse_png() {
    // See: issue 11. A file for another command is answered with that
    // command; `--out x.png` would have been SVG inside a .png name.
    let dir = tempfile::tempdir().unwrap();
    let timeline = dir.path().join("t.csv");
    bin()
        .arg("run")
        .arg(scenarios().join("az-plus-one.toml"))
        .arg("--timeline")
        .arg(&timeline)
        .assert()
        .success();
    let sweep_csv = write(
        dir.path(),
        "s.csv",
        &format!(
            "failures.node_loss.every,{SWEEP_HEADER}\n{}",
            sweep_row("1d", "0.5", "0.9", "")
        ),
    );
    let part = write(
        dir.path(),
        "p.json",
        "{\n  \"format\": \"aurora-sim sweep part v1\"\n}\n",
    );
    let out = dir.path().join("o.svg");
    let png = dir.path().join("o.png");
    let sweep_args = ["--x", "failures.node_loss.every", "--y", "p_data_loss"];
    let cases: Vec<(&str, &Path, &[&str], &Path, &str)> = vec![
        (
            "sweep",
            &timeline,
            &sweep_args,
            &out,
            "aurora-sim plot timeline",
        ),
        ("sweep", &part, &sweep_args, &out, "aurora-sim merge"),
        ("timeline", &sweep_csv, &[], &out, "aurora-sim plot sweep"),
        ("timeline", &part, &[], &out, "aurora-sim merge"),
        ("timeline", &timeline, &[], &png, "SVG only"),
        ("sweep", &sweep_csv, &sweep_args, &png, "SVG only"),
    ];
    for (cmd, file, args, o_path, needle) in cases {
        let o = bin()
            .args(["plot", cmd])
            .arg(file)
            .args(args)
            .arg("--out")
            .arg(o_path)
            .output()
            .unwrap();
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd} {file:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{needle}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!o_path.exists());
    }
}

#[test]
fn issue_11_timeline_has_title_annotations_and_a_shortened_idle_tail() {
    // See: issue 11. repair-race: six node losses 1 h … 1 h 50 min, data
    // loss at 6600 s, restore at 10200 s, then nothing until 12 h. The 9 h
    // idle tail is one 30 px break, so the data loss sits at
    // 110 + 6600 · 830/10200 ≈ 647 px, past the middle of the 860 px plot
    // (it was at 110 + 6600/43200 · 860 ≈ 241 px: the incident filled a sixth).
    let dir = tempfile::tempdir().unwrap();
    let (csv, svg) = (dir.path().join("race.csv"), dir.path().join("race.svg"));
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
    let title = class(&doc, "title")[0].text().unwrap();
    assert_eq!(title, "repair-race — seed 1");
    assert!(
        class(&doc, "description")[0]
            .text()
            .unwrap()
            .starts_with("Six node losses 10 min apart")
    );
    let facts = class(&doc, "facts")[0].text().unwrap();
    assert!(
        facts.starts_with("horizon 12h · 6 replicas in 3 AZs"),
        "{facts}"
    );
    let marks: Vec<(&str, &str)> = class(&doc, "event-marker")
        .iter()
        .map(|n| {
            (
                n.attribute("data-event").unwrap(),
                n.attribute("data-time").unwrap(),
            )
        })
        .collect();
    assert_eq!(marks.iter().filter(|m| m.0 == "node-loss").count(), 6);
    assert!(marks.contains(&("data-loss", "6600")) && marks.contains(&("restore", "10200")));
    let labels: Vec<&str> = class(&doc, "event-label")
        .iter()
        .filter_map(|n| n.text())
        .collect();
    for l in ["az-a-1 lost", "data loss", "restored from backup"] {
        assert!(labels.contains(&l), "{l}: {labels:?}");
    }
    assert_eq!(class(&doc, "time-break").len(), 1);
    let loss_x: f64 = class(&doc, "data-loss")[0]
        .attribute("x1")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (loss_x - (110.0 + 6600.0 * 830.0 / 10200.0)).abs() < 0.01,
        "{loss_x}"
    );
    assert!(text.contains("idle stretch (no change) shortened"));

    // From the CSV alone: the file's name is the title, the facts the same.
    let svg2 = dir.path().join("race2.svg");
    bin()
        .args(["plot", "timeline"])
        .arg(&csv)
        .arg("--out")
        .arg(&svg2)
        .assert()
        .success();
    let text2 = svg_doc(&svg2);
    let doc2 = roxmltree::Document::parse(&text2).unwrap();
    assert_eq!(class(&doc2, "title")[0].text(), Some("race"));
    // The run also knows what the CSV cannot say: the restore loses the
    // scenario's 5 min backup lag of acknowledged writes (issue 11: a "lost
    // writes" annotation), so `run --plot` adds exactly that to the facts.
    let facts2 = class(&doc2, "facts")[0].text().unwrap();
    assert_eq!(
        facts,
        format!("{facts2} · acknowledged writes lost: 5m"),
        "{facts2}"
    );
    assert!(facts2.ends_with("1 data loss"), "{facts2}");
}
