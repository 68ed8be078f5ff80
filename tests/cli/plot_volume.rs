//! `plot timeline` and `run --plot` on a volume timeline (SPEC §4): a valid
//! SVG with one line per count, bands where the CSV says the volume was
//! unavailable, data-loss marks where `data_loss_events` grows, small for
//! long files, and every malformed CSV refused with exit 2 (issue 13).

use super::{bin, write};
use std::path::Path;

const HEADER: &str = "time_s,event,target,write_available,read_available,pgs_write_unavailable,pgs_read_unavailable,pgs_degraded,repairs_running,repairs_waiting,data_loss_events";
const SERIES: [&str; 5] = [
    "pgs_write_unavailable",
    "pgs_read_unavailable",
    "pgs_degraded",
    "repairs_running",
    "repairs_waiting",
];

/// A small copyset fleet: a burst of losses, one copyset lost whole at one
/// instant (data loss, restores), then an AZ outage with crashes inside it.
const SCENARIO: &str = r#"name = "vol"
description = "A copyset lost whole, then an AZ outage with crashes inside it."
horizon = "3d"
[volume]
size = "2TiB"
placement = "copyset"
[fleet]
nodes_per_az = 12
repair_streams = 2
[cluster]
repair_time = "2h"
[[events]]
at = "2h"
kind = "node-loss"
count = 8
[[events]]
at = "10h"
kind = "node-loss"
node = "az-a-1"
[[events]]
at = "10h"
kind = "node-loss"
node = "az-a-2"
[[events]]
at = "10h"
kind = "node-loss"
node = "az-b-1"
[[events]]
at = "10h"
kind = "node-loss"
node = "az-b-2"
[[events]]
at = "10h"
kind = "node-loss"
node = "az-c-1"
[[events]]
at = "10h"
kind = "node-loss"
node = "az-c-2"
[[events]]
at = "30h"
kind = "az-outage"
az = "az-b"
lasts = "90m"
[[events]]
at = "30h30m"
kind = "node-crash"
count = 6
lasts = "20m"
"#;

fn parse(text: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("invalid SVG: {e}"))
}

/// Elements with this class.
fn class<'a>(doc: &'a roxmltree::Document<'a>, c: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some(c))
        .collect()
}

fn num(n: &roxmltree::Node<'_, '_>, attr: &str) -> f64 {
    n.attribute(attr).unwrap().parse().unwrap()
}

/// Maximal intervals where column `col` is "false", read straight off the
/// CSV (the state from t on is the one after the last row at t).
fn csv_outages(csv: &str, col: usize) -> Vec<(f64, f64)> {
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let mut out = Vec::new();
    let mut open: Option<f64> = None;
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
    if let (Some(s), Some(r)) = (open, rows.last()) {
        out.push((s, r[0].parse().unwrap()));
    }
    out
}

/// The bands of one class: (start, end, outages).
fn bands(doc: &roxmltree::Document<'_>, c: &str) -> Vec<(f64, f64, f64)> {
    class(doc, c)
        .iter()
        .map(|n| {
            (
                num(n, "data-start"),
                num(n, "data-end"),
                num(n, "data-outages"),
            )
        })
        .collect()
}

/// Checks one volume plot against its CSV.
fn check_plot(svg: &str, csv: &str) {
    let doc = parse(svg);
    let drawn: Vec<&str> = class(&doc, "series")
        .iter()
        .filter_map(|n| n.attribute("data-series"))
        .collect();
    let mut sorted = drawn.clone();
    sorted.sort();
    let mut want = SERIES.to_vec();
    want.sort();
    assert_eq!(sorted, want, "one line per count");
    let legend: Vec<&str> = class(&doc, "legend")
        .iter()
        .filter_map(|n| n.text())
        .collect();
    for l in [
        "without write quorum",
        "without read quorum",
        "degraded",
        "running",
        "waiting for streams",
        "writes unavailable",
        "reads unavailable",
        "data loss",
    ] {
        assert!(
            legend.iter().any(|t| t.starts_with(l)),
            "legend lacks {l}: {legend:?}"
        );
    }
    // The legend gives each count's peak over the states that last (the
    // last row at each instant), read off the CSV.
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let lasting: Vec<&Vec<&str>> = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| rows.get(i + 1).is_none_or(|n| n[0] != r[0]))
        .map(|(_, r)| r)
        .collect();
    for (i, name) in SERIES.iter().enumerate() {
        let peak = lasting
            .iter()
            .map(|r| r[5 + i].parse::<u64>().unwrap())
            .max()
            .unwrap();
        let entry = class(&doc, "legend-line")
            .into_iter()
            .find(|n| n.attribute("data-series") == Some(name))
            .and_then(|n| n.next_sibling_element())
            .and_then(|n| n.text())
            .unwrap();
        let expect = if peak == 0 {
            "(none)".to_string()
        } else {
            format!("(peak {peak})")
        };
        assert!(entry.ends_with(&expect), "{name}: {entry} vs {expect}");
    }
    for (c, col) in [("write-unavailable", 3), ("read-unavailable", 4)] {
        let want = csv_outages(csv, col);
        let got = bands(&doc, c);
        assert!(!want.is_empty(), "{c}: the scenario has outages");
        let got_iv: Vec<(f64, f64)> = got.iter().map(|b| (b.0, b.1)).collect();
        assert_eq!(got_iv, want, "{c}");
        assert!(got.iter().all(|b| b.2 == 1.0), "{c}: one outage per band");
    }
    // One dashed mark per instant at which data_loss_events grows, counting
    // the losses there.
    let mut want = Vec::new();
    let mut before = 0u64;
    for r in &rows {
        let (t, n): (f64, u64) = (r[0].parse().unwrap(), r[10].parse().unwrap());
        if n > before {
            match want.last_mut() {
                Some((wt, k)) if *wt == t => *k += n - before,
                _ => want.push((t, n - before)),
            }
        }
        before = n;
    }
    assert!(!want.is_empty(), "the scenario loses data");
    let got: Vec<(f64, u64)> = class(&doc, "data-loss")
        .iter()
        .map(|n| (num(n, "data-time"), num(n, "data-count") as u64))
        .collect();
    assert_eq!(got, want);
    assert!(!class(&doc, "restore").is_empty());
    let facts = class(&doc, "facts")[0].text().unwrap();
    assert!(
        facts.starts_with("horizon 3d · writes unavailable"),
        "{facts}"
    );
    // `run --plot` adds the acknowledged writes lost, which the CSV lacks.
    let n = format!("{before} data losses");
    assert!(
        facts.ends_with(&n) || facts.contains(&format!("{n} · acknowledged writes lost: ")),
        "{facts}"
    );
}

// See: issue 13
#[test]
fn issue_13_volume_plot_draws_the_counts_bands_and_data_losses() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "vol.toml", SCENARIO);
    let (csv, svg) = (dir.path().join("vol.csv"), dir.path().join("vol.svg"));
    bin()
        .arg("run")
        .arg(&sc)
        .arg("--timeline")
        .arg(&csv)
        .arg("--plot")
        .arg(&svg)
        .assert()
        .success();
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert!(csv_text.starts_with(HEADER));
    let text = std::fs::read_to_string(&svg).unwrap();
    check_plot(&text, &csv_text);
    let doc = parse(&text);
    // The peak of PGs without write quorum is run --json's.
    let o = bin().arg("run").arg(&sc).arg("--json").output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let peak = json["max_pgs_write_unavailable"].as_u64().unwrap();
    assert!(
        class(&doc, "legend")
            .iter()
            .any(|n| n.text() == Some(&format!("without write quorum (peak {peak})"))),
        "peak {peak}"
    );
    assert_eq!(class(&doc, "title")[0].text(), Some("vol — seed 0"));
    assert!(
        class(&doc, "description")[0]
            .text()
            .unwrap()
            .starts_with("A copyset lost")
    );
    let labels: Vec<&str> = class(&doc, "event-label")
        .iter()
        .filter_map(|n| n.text())
        .collect();
    assert!(labels.contains(&"8 nodes lost"), "{labels:?}");
    assert!(labels.contains(&"az-b outage"), "{labels:?}");

    // From the CSV alone: the file's name as the title, the same picture.
    let svg2 = dir.path().join("vol2.svg");
    bin()
        .args(["plot", "timeline"])
        .arg(&csv)
        .arg("--out")
        .arg(&svg2)
        .assert()
        .success();
    let text2 = std::fs::read_to_string(&svg2).unwrap();
    check_plot(&text2, &csv_text);
    assert_eq!(class(&parse(&text2), "title")[0].text(), Some("vol"));

    // Through a pipe (no seeking back): read into memory, the same bytes.
    let svg3 = dir.path().join("vol3.svg");
    bin()
        .args(["plot", "timeline", "/dev/stdin", "--out"])
        .arg(&svg3)
        .write_stdin(csv_text.clone())
        .assert()
        .success();
    let text3 = std::fs::read_to_string(&svg3).unwrap();
    assert_eq!(
        text3.replace(">stdin<", ">vol<"),
        text2,
        "a pipe plots as the file does"
    );
}

/// A synthetic volume timeline of `n` rows: counts that walk up and down,
/// an outage every `n / 10` rows, a data loss every `n / 4`.
fn long_csv(n: usize) -> String {
    let mut s = String::with_capacity(n * 48);
    s.push_str(HEADER);
    s.push('\n');
    let (mut deg, mut wait, mut lost) = (0u64, 0u64, 0u64);
    for i in 0..n {
        let down = i % (n / 10) >= n / 10 - 5 && i + 1 < n;
        let (w, r) = if down { (7, (i % 2) as u64) } else { (0, 0) };
        deg = (deg + (i as u64 * 7919) % 13).saturating_sub(6) % 5000;
        let run = (i as u64 * 31) % 17;
        wait = (wait + (i as u64 % 5)).saturating_sub(2) % 900;
        if i > 0 && i % (n / 4) == 0 {
            lost += 2;
        }
        let event = match (i, i % 97) {
            (0, _) => "start",
            _ if i + 1 == n => "end",
            (_, 0) => "node-crash",
            _ => "repair-done",
        };
        s.push_str(&format!(
            "{},{event},az-a-{},{},{},{w},{r},{deg},{run},{wait},{lost}\n",
            i * 60,
            i % 100 + 1,
            w == 0,
            r == 0,
        ));
    }
    s
}

// See: issue 13
#[test]
fn issue_13_a_long_volume_timeline_gives_a_small_plot() {
    let dir = tempfile::tempdir().unwrap();
    let n = 300_000;
    let csv_text = long_csv(n);
    let csv = write(dir.path(), "long.csv", &csv_text);
    let svg = dir.path().join("long.svg");
    bin()
        .args(["plot", "timeline"])
        .arg(&csv)
        .arg("--out")
        .arg(&svg)
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.len() < 400_000, "{} bytes for {n} rows", text.len());
    let doc = parse(&text);
    // At most four points per pixel column of the 860 px plot, and a few more.
    for p in class(&doc, "series") {
        let points = p.attribute("d").unwrap().matches([',']).count();
        assert!(points <= 4 * 862, "{points} points");
    }
    // Ten outages, 60 000 min apart: each its own band, the counts exact.
    for (c, col) in [("write-unavailable", 3), ("read-unavailable", 4)] {
        let want = csv_outages(&csv_text, col);
        let got = bands(&doc, c);
        assert_eq!(
            got.iter().map(|b| b.2).sum::<f64>(),
            want.len() as f64,
            "{c}"
        );
    }
    assert_eq!(bands(&doc, "write-unavailable").len(), 10);
    let lost: f64 = class(&doc, "data-loss")
        .iter()
        .map(|n| num(n, "data-count"))
        .sum();
    assert_eq!(lost, 6.0);
}

/// Runs `plot timeline` on `body` (after the header unless it has one) and
/// expects exit 2 with `needle` and nothing written.
fn refused(dir: &Path, body: &str, needle: &str) {
    let text = if body.starts_with("time_s") {
        body.to_string()
    } else {
        format!("{HEADER}\n{body}")
    };
    let csv = write(dir, "bad.csv", &text);
    let out = dir.join("bad.svg");
    let o = bin()
        .args(["plot", "timeline"])
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(2), "{needle}: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "expected {needle}: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!out.exists());
}

// See: issue 13
#[test]
fn issue_13_bad_volume_timelines_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ok0 = "0,start,,true,true,0,0,0,0,0,0\n";
    let end = "9,end,,true,true,0,0,0,0,0,0\n";
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{ok0}5,x,,true,true,0,0,0,0,0\n{end}"),
            "bad.csv:3:1: 10 fields, expected 11",
        ),
        (
            format!("{ok0}5,x,,true,true,0,0,0,0,0,0,0\n{end}"),
            "bad.csv:3:1: 12 fields",
        ),
        (
            format!("{ok0}5,x,,true,true,0,0,0,0,0,0\n4,x,,true,true,0,0,0,0,0,0\n"),
            "bad.csv:4:1: time_s `4` is negative or goes backwards",
        ),
        (format!("{ok0}-1,x,,true,true,0,0,0,0,0,0\n"), "time_s `-1`"),
        (
            format!("{ok0}NaN,x,,true,true,0,0,0,0,0,0\n"),
            "time_s `NaN`",
        ),
        (
            format!("{ok0}inf,x,,true,true,0,0,0,0,0,0\n"),
            "time_s `inf`",
        ),
        (
            format!("{ok0}soon,x,,true,true,0,0,0,0,0,0\n"),
            "time_s `soon` is not a number",
        ),
        (
            format!("{ok0}1e300,x,,true,true,0,0,0,0,0,0\n"),
            "past the latest time a run can reach",
        ),
        (
            format!("{ok0}5,x,,yes,true,0,0,0,0,0,0\n{end}"),
            "bad.csv:3:1: write_available `yes` is not true/false",
        ),
        (
            format!("{ok0}5,x,,true,TRUE,0,0,0,0,0,0\n{end}"),
            "read_available `TRUE` is not true/false",
        ),
        (
            format!("{ok0}5,x,,true,true,0,0,-3,0,0,0\n{end}"),
            "pgs_degraded `-3` is not a count",
        ),
        (
            format!("{ok0}5,x,,true,true,0,0,0,0,99999999999999999999,0\n{end}"),
            "repairs_waiting `99999999999999999999` is not a count",
        ),
        (
            format!("{ok0}5,x,,true,true,0,0,0,1.5,0,0\n{end}"),
            "repairs_running `1.5` is not a count",
        ),
        (
            format!("{ok0}5,x,,true,true,3,0,0,0,0,0\n{end}"),
            "write_available is `true` but pgs_write_unavailable is 3",
        ),
        (
            format!("{ok0}5,x,,true,false,0,0,0,0,0,0\n{end}"),
            "read_available is `false` but pgs_read_unavailable is 0",
        ),
        (
            format!("{ok0}5,x,,true,true,0,0,0,0,0,4\n6,x,,true,true,0,0,0,0,0,3\n"),
            "bad.csv:4:1: data_loss_events goes down from 4 to 3",
        ),
        (ok0.to_string(), "needs at least a start and an end row"),
        (
            format!("{ok0}0,end,,true,true,0,0,0,0,0,0\n"),
            "needs at least a start and an end row",
        ),
        (String::new(), "needs at least a start and an end row"),
        (
            format!("{HEADER},extra\n{ok0}{end}"),
            "expected exactly the columns",
        ),
        (
            format!("{}\n{ok0}{end}", HEADER.replace("pgs_degraded", "pgs_sad")),
            "expected exactly the columns",
        ),
        (
            format!("{ok0}5,x,\"unclosed,true,true,0,0,0,0,0,0\n{end}"),
            "bad.csv:3:1",
        ),
        (
            format!(
                "{ok0}5,x,{},true,true,0,0,0,0,0,0\n{end}",
                "n".repeat(2 << 20)
            ),
            "longer than 1 MiB",
        ),
    ];
    for (body, needle) in &cases {
        refused(d, body, needle);
    }
    // Not UTF-8.
    let mut bytes = format!("{HEADER}\n{ok0}5,x,").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe,true,true,0,0,0,0,0,0\n");
    let csv = d.join("bin.csv");
    std::fs::write(&csv, bytes).unwrap();
    let o = bin()
        .args(["plot", "timeline"])
        .arg(&csv)
        .arg("--out")
        .arg(d.join("bin.svg"))
        .output()
        .unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("bin.csv:3:1"),
        "{err}"
    );
}
