//! `plot timeline`: one swimlane per replica, grouped by AZ, coloured by
//! state, with bands where writes and reads were unavailable and markers where
//! data was lost.

use super::{Svg, esc, nice_ticks, short};
use crate::error::InputError;

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

struct Timeline {
    nodes: Vec<String>,
    /// (time s, letters, write ok, read ok, data-loss count) after each instant.
    rows: Vec<(f64, Vec<u8>, bool, bool, u64)>,
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
            format!(
                "not a timeline CSV: expected the columns {} followed by one column per replica",
                FIXED.join(",")
            ),
        ));
    }
    let nodes: Vec<String> = cols[FIXED.len()..].iter().map(|s| s.to_string()).collect();
    let mut rows: Vec<(f64, Vec<u8>, bool, bool, u64)> = Vec::new();
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
    Ok(Timeline { nodes, rows })
}

/// A unit to show times in: (name, seconds), picked so the axis reads well.
fn time_unit(span_s: f64) -> (&'static str, f64) {
    match span_s {
        s if s <= 180.0 => ("s", 1.0),
        s if s <= 3.0 * 3600.0 => ("min", 60.0),
        s if s <= 3.0 * 86400.0 => ("h", 3600.0),
        s if s <= 120.0 * 86400.0 => ("d", 86400.0),
        _ => ("y", 365.0 * 86400.0),
    }
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

/// Renders a timeline CSV (`text`, named `path` in errors) as SVG.
pub fn plot_timeline(text: &str, path: &str, title: &str) -> Result<Vec<u8>, InputError> {
    let tl = parse(text, path)?;
    let (t0, t1) = (tl.rows[0].0, tl.rows[tl.rows.len() - 1].0);
    let span = (t1 - t0).max(1e-6);
    let (unit, unit_s) = time_unit(span);
    let (left, right, top) = (110.0, 30.0, 44.0);
    let width = 1000.0;
    let plot_w = width - left - right;
    let lane_h = 16.0;
    let lane_gap = 4.0;
    let band_h = 12.0;
    let azs = group_by_az(&tl.nodes);
    let lanes_h = tl.nodes.len() as f64 * (lane_h + lane_gap) + azs.len() as f64 * 10.0;
    let bands_top = top;
    let lanes_top = bands_top + 2.0 * (band_h + lane_gap) + 10.0;
    let axis_y = lanes_top + lanes_h;
    let legend_y = axis_y + 44.0;
    let height = legend_y + 40.0;
    let x_of = |t: f64| left + (t - t0) / span * plot_w;
    let mut svg = Svg::new(width, height);
    svg.text(left, 22.0, title, r#"font-size="15" font-weight="bold""#);

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
    let wo = outages(&tl.rows, |r| r.2);
    let ro = outages(&tl.rows, |r| r.3);
    band(
        &mut svg,
        bands_top,
        "writes",
        WRITE_BAND,
        "write-unavailable",
        &wo,
    );
    band(
        &mut svg,
        bands_top + band_h + lane_gap,
        "reads",
        READ_BAND,
        "read-unavailable",
        &ro,
    );

    // Lanes, pixel-binned: each pixel column shows the most alarming state seen
    // in it, and equal neighbours merge, so the SVG stays small for long runs.
    let px = plot_w.ceil() as usize;
    let mut y = lanes_top;
    for (az, members) in &azs {
        svg.text(6.0, y + lane_h - 3.0, az, r#"font-weight="bold""#);
        for &n in members {
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

    // Data-loss markers.
    let mut prev = tl.rows[0].4;
    for r in &tl.rows {
        if r.4 > prev {
            let x = x_of(r.0);
            svg.line(
                x,
                bands_top,
                x,
                axis_y,
                "#000",
                r#"class="data-loss" stroke-width="1.5" stroke-dasharray="4 3""#,
            );
            svg.text(x + 3.0, lanes_top - 4.0, "data loss", r#"font-size="11""#);
        }
        prev = r.4;
    }

    // Time axis.
    svg.line(left, axis_y, left + plot_w, axis_y, "#333", "");
    for t in nice_ticks(0.0, span / unit_s, 8) {
        let x = left + t * unit_s / span * plot_w;
        svg.line(x, axis_y, x, axis_y + 5.0, "#333", "");
        svg.line(x, bands_top, x, axis_y, "#000", r#"stroke-opacity="0.08""#);
        svg.text(x, axis_y + 18.0, &short(t), r#"text-anchor="middle""#);
    }
    svg.text(
        left + plot_w / 2.0,
        axis_y + 34.0,
        &format!("time ({unit})"),
        r#"text-anchor="middle""#,
    );

    // Legend.
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
        svg.rect(x, legend_y, 12.0, 12.0, colour, "");
        svg.text(x + 16.0, legend_y + 10.5, label, r#"class="legend""#);
        x += 26.0 + label.len() as f64 * 7.0;
    }
    svg.line(
        x,
        legend_y + 6.0,
        x + 14.0,
        legend_y + 6.0,
        "#000",
        r#"stroke-width="1.5" stroke-dasharray="4 3""#,
    );
    svg.text(x + 18.0, legend_y + 10.5, "data loss", r#"class="legend""#);
    Ok(svg.finish())
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
