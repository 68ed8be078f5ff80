//! `plot timeline`: one swimlane per replica, grouped by AZ, coloured by
//! state, with bands where writes and reads were unavailable, labelled
//! markers for the failures, data losses and restores, and long idle
//! stretches shortened (see [`super::timescale`]).

use super::kind::FileKind;
use super::timescale::TimeScale;
use super::{Svg, esc};
use crate::error::InputError;
use crate::time::{SimTime, format_duration};

use crate::output::timeline::COLUMNS as FIXED;

/// State letters, their colours, legend text, and precedence when several
/// states fall into one pixel (the most alarming wins, so nothing brief hides).
const STATES: [(u8, &str, &str, u8); 5] = [
    (b'C', "#2e7d32", "C up, current", 0),
    (b'S', "#f9a825", "S up, stale", 1),
    (b'D', "#9e9e9e", "D down", 2),
    (b'R', "#1565c0", "R repairing", 3),
    (b'L', "#c62828", "L lost", 4),
];
const WRITE_BAND: &str = "#7b1fa2";
const READ_BAND: &str = "#ef6c00";

/// Events worth a label: (CSV name, what the label says after the target).
const MARKED: [(&str, &str); 7] = [
    ("az-outage", "outage"),
    ("az-loss", "lost"),
    ("node-crash", "crash"),
    ("node-loss", "lost"),
    ("replace", "given up"),
    ("data-loss", "data loss"),
    ("restore", "restored from backup"),
];
const DATA_LOSS: &str = "#000";
/// Above this many marked events, no tick is drawn over the lanes.
const LANE_TICKS_MAX: usize = 200;
const RESTORE: &str = "#1565c0";

/// The title the caller knows (the CSV alone has no scenario name or
/// description): `run --plot` passes the scenario's, `plot timeline` the
/// file's name.
pub struct Caption {
    /// First line, bold.
    pub title: String,
    /// The scenario's description, wrapped under the title.
    pub description: Option<String>,
}

struct Timeline {
    nodes: Vec<String>,
    /// (time s, letters, write ok, read ok, data-loss count) after each instant.
    rows: Vec<(f64, Vec<u8>, bool, bool, u64)>,
    /// Marked events: (time s, index into MARKED, target).
    events: Vec<(f64, usize, String)>,
}

fn parse(text: &str, path: &str) -> Result<Timeline, InputError> {
    let bad = |line: usize, m: String| InputError {
        path: path.into(),
        location: Some((line, 1)),
        key: None,
        message: m,
    };
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = rd
        .headers()
        .map_err(|e| InputError::new(path, format!("not a CSV file: {e}")))?
        .clone();
    let cols: Vec<&str> = header.iter().collect();
    if cols.len() <= FIXED.len() || cols[..FIXED.len()] != FIXED {
        return Err(InputError::new(
            path,
            match FileKind::of(text) {
                FileKind::Timeline | FileKind::Unknown => format!(
                    "not a timeline CSV: expected the columns {} followed by one column per replica",
                    FIXED.join(",")
                ),
                kind => format!("not a timeline CSV: {}", kind.advice()),
            },
        ));
    }
    let nodes: Vec<String> = cols[FIXED.len()..].iter().map(|s| s.to_string()).collect();
    let mut rows: Vec<(f64, Vec<u8>, bool, bool, u64)> = Vec::new();
    let mut events = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| bad(line, format!("unreadable row: {e}")))?;
        if rec.len() != cols.len() {
            return Err(bad(
                line,
                format!("{} fields, expected {}", rec.len(), cols.len()),
            ));
        }
        let t: f64 = rec[0]
            .parse()
            .map_err(|_| bad(line, format!("time_s `{}` is not a number", &rec[0])))?;
        if !t.is_finite() || t < 0.0 || rows.last().is_some_and(|r| t < r.0) {
            return Err(bad(
                line,
                format!("time_s `{}` is negative or goes backwards", &rec[0]),
            ));
        }
        let flag = |k: usize| match &rec[k] {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(bad(
                line,
                format!("{} `{other}` is not true/false", FIXED[k]),
            )),
        };
        let (w, r) = (flag(5)?, flag(6)?);
        let losses: u64 = rec[7].parse().map_err(|_| {
            bad(
                line,
                format!("data_loss_events `{}` is not a count", &rec[7]),
            )
        })?;
        let mut letters = Vec::with_capacity(nodes.len());
        for k in FIXED.len()..cols.len() {
            let c = rec[k].as_bytes();
            if c.len() != 1 || !STATES.iter().any(|s| s.0 == c[0]) {
                return Err(bad(
                    line,
                    format!(
                        "state `{}` of {} is not one of C, S, D, L, R",
                        &rec[k], cols[k]
                    ),
                ));
            }
            letters.push(c[0]);
        }
        if let Some(k) = MARKED.iter().position(|m| m.0 == &rec[1]) {
            events.push((t, k, rec[2].to_string()));
        }
        // Several rows at one instant: the last is the state from then on.
        match rows.last_mut() {
            Some(last) if last.0 == t => *last = (t, letters, w, r, losses),
            _ => rows.push((t, letters, w, r, losses)),
        }
    }
    if rows.len() < 2 {
        return Err(InputError::new(
            path,
            "a timeline needs at least a start and an end row",
        ));
    }
    Ok(Timeline {
        nodes,
        rows,
        events,
    })
}

/// Intervals [start, end) during which `ok` is false.
fn outages(
    rows: &[(f64, Vec<u8>, bool, bool, u64)],
    ok: impl Fn(&(f64, Vec<u8>, bool, bool, u64)) -> bool,
) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut open: Option<f64> = None;
    for r in rows {
        match (ok(r), open) {
            (false, None) => open = Some(r.0),
            (true, Some(s)) => {
                if r.0 > s {
                    out.push((s, r.0));
                }
                open = None;
            }
            _ => {}
        }
    }
    if let (Some(s), Some(last)) = (open, rows.last())
        && last.0 > s
    {
        out.push((s, last.0));
    }
    out
}

/// Splits `text` into at most `max_lines` lines of about `width` characters,
/// at spaces; the last line ends in `…` if text is left over.
fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
            if lines.len() == max_lines {
                if let Some(l) = lines.last_mut() {
                    l.push_str(" …");
                }
                return lines;
            }
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// A span for a caption: whole seconds from a minute up (the CSV has the µs).
fn human(s: f64) -> String {
    format_duration(SimTime::from_secs_f64(if s >= 60.0 {
        s.round()
    } else {
        s
    }))
}

/// "horizon 12h · 6 replicas in 3 AZs · writes unavailable …": what the CSV tells.
fn facts(tl: &Timeline, azs: usize, wo: &[(f64, f64)], ro: &[(f64, f64)]) -> String {
    let span = tl.rows[tl.rows.len() - 1].0 - tl.rows[0].0;
    let down = |iv: &[(f64, f64)], what: &str| {
        if iv.is_empty() {
            format!("{what} always available")
        } else {
            let total: f64 = iv.iter().map(|(a, b)| b - a).sum();
            let n = iv.len();
            format!(
                "{what} unavailable {} ({n} outage{})",
                human(total),
                if n == 1 { "" } else { "s" }
            )
        }
    };
    let losses = tl.rows[tl.rows.len() - 1].4 - tl.rows[0].4;
    [
        format!("horizon {}", human(span)),
        format!(
            "{} replicas in {azs} AZ{}",
            tl.nodes.len(),
            if azs == 1 { "" } else { "s" }
        ),
        down(wo, "writes"),
        down(ro, "reads"),
        match losses {
            0 => "no data loss".to_string(),
            1 => "1 data loss".to_string(),
            n => format!("{n} data losses"),
        },
    ]
    .join(" · ")
}

/// Renders a timeline CSV (`text`, named `path` in errors) as SVG.
pub fn plot_timeline(text: &str, path: &str, caption: &Caption) -> Result<Vec<u8>, InputError> {
    let tl = parse(text, path)?;
    let azs = group_by_az(&tl.nodes);
    let wo = outages(&tl.rows, |r| r.2);
    let ro = outages(&tl.rows, |r| r.3);
    let (left, right) = (110.0, 30.0);
    let width = 1000.0;
    let plot_w = width - left - right;
    let (lane_h, lane_gap, band_h, label_h) = (16.0, 4.0, 12.0, 13.0);
    let description = caption
        .description
        .as_deref()
        .map_or(Vec::new(), |d| wrap(d, 140, 2));
    let facts_y = 40.0 + 15.0 * description.len() as f64;
    let label_rows = 3;
    let strip_top = facts_y + 14.0;
    let bands_top = strip_top + label_rows as f64 * label_h + 10.0;
    let lanes_top = bands_top + 2.0 * (band_h + lane_gap) + 6.0;
    let lanes_h = tl.nodes.len() as f64 * (lane_h + lane_gap) + azs.len() as f64 * 10.0;
    let axis_y = lanes_top + lanes_h;
    let legend_y = axis_y + 56.0;
    let height = legend_y + 48.0;
    let times: Vec<f64> = tl.rows.iter().map(|r| r.0).collect();
    let scale = TimeScale::new(&times, left, plot_w);
    let x_of = |t: f64| scale.x(t);
    let mut svg = Svg::new(width, height);
    svg.text(
        left,
        22.0,
        &caption.title,
        r#"class="title" font-size="15" font-weight="bold""#,
    );
    for (i, line) in description.iter().enumerate() {
        svg.text(left, 40.0 + 15.0 * i as f64, line, r#"class="description""#);
    }
    svg.text(
        left,
        facts_y,
        &facts(&tl, azs.len(), &wo, &ro),
        r##"class="facts" fill="#555""##,
    );

    // Unavailability bands: one rect per outage, at least 1 px wide so that a
    // 9-second outage in a one-year run stays visible.
    let band = |svg: &mut Svg, y: f64, label: &str, colour: &str, cls: &str, iv: &[(f64, f64)]| {
        svg.text(left - 8.0, y + band_h - 2.0, label, r#"text-anchor="end""#);
        svg.rect(left, y, plot_w, band_h, "#f5f5f5", "");
        for &(s, e) in iv {
            let (x0, x1) = (x_of(s), x_of(e));
            svg.rect(
                x0,
                y,
                (x1 - x0).max(1.0),
                band_h,
                colour,
                &format!(r#"class="{cls}" data-start="{s}" data-end="{e}""#),
            );
        }
    };
    band(
        &mut svg,
        bands_top,
        "writes",
        WRITE_BAND,
        "write-unavailable",
        &wo,
    );
    let reads_y = bands_top + band_h + lane_gap;
    band(
        &mut svg,
        reads_y,
        "reads",
        READ_BAND,
        "read-unavailable",
        &ro,
    );

    // Lanes, pixel-binned: each pixel column shows the most alarming state seen
    // in it, and equal neighbours merge, so the SVG stays small for long runs.
    let px = plot_w.ceil() as usize;
    let mut y = lanes_top;
    let mut lane_y: Vec<f64> = vec![0.0; tl.nodes.len()];
    for (az, members) in &azs {
        svg.text(6.0, y + lane_h - 3.0, az, r#"font-weight="bold""#);
        for &n in members {
            lane_y[n] = y;
            svg.text(
                left - 8.0,
                y + lane_h - 4.0,
                &tl.nodes[n],
                r#"text-anchor="end""#,
            );
            svg.raw(&format!(
                r#"<g class="lane" data-node="{}">"#,
                esc(&tl.nodes[n])
            ));
            let mut worst = vec![0u8; px];
            let mut have = vec![false; px];
            for (i, r) in tl.rows[..tl.rows.len() - 1].iter().enumerate() {
                let (s, e) = (r.0, tl.rows[i + 1].0);
                let prec = STATES.iter().find(|x| x.0 == r.1[n]).map_or(0, |x| x.3);
                let a = (((x_of(s) - left).floor()) as usize).min(px - 1);
                let b = (((x_of(e) - left).ceil()) as usize).clamp(a + 1, px);
                for p in a..b {
                    if !have[p] || prec > worst[p] {
                        worst[p] = prec;
                        have[p] = true;
                    }
                }
            }
            let mut p = 0;
            while p < px {
                let q = (p..px)
                    .find(|&q| worst[q] != worst[p] || have[q] != have[p])
                    .unwrap_or(px);
                if have[p] {
                    let (_, colour, _, _) = STATES
                        .iter()
                        .find(|x| x.3 == worst[p])
                        .copied()
                        .unwrap_or(STATES[0]);
                    svg.rect(left + p as f64, y, (q - p) as f64, lane_h, colour, "");
                }
                p = q;
            }
            svg.raw("</g>");
            y += lane_h + lane_gap;
        }
        y += 10.0;
    }

    let geo = Geometry {
        strip_top,
        label_h,
        label_rows,
        bands_top,
        lane_h,
        axis_y,
        right_edge: left + plot_w,
    };
    let unlabelled = annotate(&mut svg, &tl, &azs, &lane_y, &geo, &x_of);
    scale.draw(&mut svg, strip_top + label_rows as f64 * label_h, axis_y);
    legend(&mut svg, left, legend_y, scale.has_breaks(), unlabelled);
    Ok(svg.finish())
}

/// Where things are, for the annotations.
struct Geometry {
    strip_top: f64,
    label_h: f64,
    label_rows: usize,
    bands_top: f64,
    lane_h: f64,
    axis_y: f64,
    right_edge: f64,
}

/// Marks each failure, data loss and restore: a triangle above the bands, a
/// tick over the lanes it hit, and a label in the first of the strip's rows
/// with room for it. Returns how many events got no label (too crowded).
/// Markers of one kind closer than a pixel are drawn once, so a busy
/// thousand-year run stays small.
fn annotate(
    svg: &mut Svg,
    tl: &Timeline,
    azs: &[(String, Vec<usize>)],
    lane_y: &[f64],
    g: &Geometry,
    x_of: &impl Fn(f64) -> f64,
) -> usize {
    let mut row_end = vec![f64::NEG_INFINITY; g.label_rows];
    let mut last_x = [f64::NEG_INFINITY; MARKED.len()];
    let mut unlabelled = 0;
    let marker_y = g.bands_top - 4.0;
    for (t, k, target) in &tl.events {
        let x = x_of(*t);
        let (kind, verb) = MARKED[*k];
        let whole_pg = kind == "data-loss" || kind == "restore";
        let text = if whole_pg {
            verb.to_string()
        } else {
            format!("{target} {verb}")
        };
        let w = 6.3 * text.chars().count() as f64;
        let anchor_end = x + 4.0 + w > g.right_edge;
        let (l, r) = if anchor_end {
            (x - 4.0 - w, x)
        } else {
            (x, x + 4.0 + w)
        };
        match row_end.iter().position(|&e| e + 6.0 <= l) {
            Some(row) => {
                row_end[row] = r;
                let ty = g.strip_top + g.label_h * (row as f64 + 1.0) - 3.0;
                svg.text(
                    if anchor_end { x - 3.0 } else { x + 3.0 },
                    ty,
                    &text,
                    &format!(
                        r#"class="event-label" font-size="11"{}"#,
                        if anchor_end {
                            r#" text-anchor="end""#
                        } else {
                            ""
                        }
                    ),
                );
                svg.line(x, ty + 2.0, x, marker_y, "#999", r#"stroke-width="0.5""#);
            }
            None => unlabelled += 1,
        }
        if x - last_x[*k] < 1.0 {
            continue;
        }
        last_x[*k] = x;
        svg.raw(&format!(
            r##"<path class="event-marker" data-event="{kind}" data-time="{t}" data-target="{}" d="M{:.2},{:.2} l-3.5,-6 h7 z" fill="#333"/>"##,
            esc(target),
            x,
            marker_y
        ));
        if whole_pg {
            let (colour, cls) = if kind == "data-loss" {
                (DATA_LOSS, "data-loss")
            } else {
                (RESTORE, "restore")
            };
            svg.line(
                x,
                g.bands_top,
                x,
                g.axis_y,
                colour,
                &format!(r#"class="{cls}" stroke-width="1.5" stroke-dasharray="4 3""#),
            );
            continue;
        }
        // The lanes the event hit: one node, or every node of an AZ. Only
        // for sparse runs: hundreds of ticks would hide the states.
        if tl.events.len() > LANE_TICKS_MAX {
            continue;
        }
        let lanes: Vec<usize> = match azs.iter().find(|(az, _)| az == target) {
            Some((_, members)) => members.clone(),
            None => tl
                .nodes
                .iter()
                .position(|n| n == target)
                .into_iter()
                .collect(),
        };
        if let (Some(&a), Some(&b)) = (lanes.first(), lanes.last()) {
            svg.line(
                x,
                lane_y[a] - 2.0,
                x,
                lane_y[b] + g.lane_h + 2.0,
                "#111",
                r#"class="event-tick" stroke-width="1.2""#,
            );
        }
    }
    unlabelled
}

fn legend(svg: &mut Svg, left: f64, y: f64, breaks: bool, unlabelled: usize) {
    let mut x = left;
    let items: Vec<(&str, &str)> = STATES
        .iter()
        .map(|s| (s.1, s.2))
        .chain([
            (WRITE_BAND, "writes unavailable"),
            (READ_BAND, "reads unavailable"),
        ])
        .collect();
    for (colour, label) in items {
        svg.rect(x, y, 12.0, 12.0, colour, "");
        svg.text(x + 16.0, y + 10.5, label, r#"class="legend""#);
        x += 26.0 + label.len() as f64 * 7.0;
    }
    let y2 = y + 20.0;
    let mut x = left;
    for (colour, label) in [(DATA_LOSS, "data loss"), (RESTORE, "restore from backup")] {
        svg.line(
            x,
            y2 + 6.0,
            x + 14.0,
            y2 + 6.0,
            colour,
            r#"stroke-width="1.5" stroke-dasharray="4 3""#,
        );
        svg.text(x + 18.0, y2 + 10.5, label, r#"class="legend""#);
        x += 30.0 + label.len() as f64 * 7.0;
    }
    svg.raw(&format!(
        r##"<path d="M{:.2},{:.2} l-3.5,-6 h7 z" fill="#333"/>"##,
        x + 4.0,
        y2 + 9.0
    ));
    let marks = if unlabelled > 0 {
        format!("failure, loss or restore ({unlabelled} not labelled: no room)")
    } else {
        "failure, loss or restore".to_string()
    };
    svg.text(x + 12.0, y2 + 10.5, &marks, r#"class="legend""#);
    x += 22.0 + marks.len() as f64 * 6.5;
    if breaks {
        svg.line(x, y2 + 12.0, x + 5.0, y2, "#333", r#"stroke-width="1.5""#);
        svg.line(
            x + 5.0,
            y2 + 12.0,
            x + 10.0,
            y2,
            "#333",
            r#"stroke-width="1.5""#,
        );
        svg.text(
            x + 16.0,
            y2 + 10.5,
            "idle stretch (no change) shortened; its length below",
            r#"class="legend""#,
        );
    }
}

/// Nodes grouped by AZ (the name without its last `-k`), in column order.
fn group_by_az(nodes: &[String]) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let az = n
            .rsplit_once('-')
            .map_or(n.as_str(), |(a, _)| a)
            .to_string();
        match out.last_mut() {
            Some((a, v)) if *a == az => v.push(i),
            _ => out.push((az, vec![i])),
        }
    }
    out
}
