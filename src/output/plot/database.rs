//! `plot timeline` of a database (SPEC §5): a lane per instance (serving
//! writer, being promoted, up, down) above the storage and AZ lanes, with
//! the bands where the database could not take writes or serve reads, and
//! marks for failovers, restarts, restores and data losses. The same picture
//! from `run --plot` (which plots the CSV it wrote) and `plot timeline`.

use super::caption::{self, Caption};
use super::db_rows::{DB_MARKED, Trace, total};
use super::instances::{self, DOWN, Lane, PROMOTING, Placement, UNKNOWN, UP, WRITER};
use super::rows::rewind;
use super::timeline::{READ_BAND, WRITE_BAND};
use super::timescale::{Gaps, TimeScale};
use super::{Svg, esc};
use crate::error::InputError;
use std::io::{Read, Seek};

/// Instance states: letter, colour, legend text.
pub(super) const INSTANCE_STATES: [(u8, &str, &str); 5] = [
    (WRITER, "#1b5e20", "writer, serving"),
    (PROMOTING, "#1e88e5", "being promoted (failover)"),
    (UP, "#81c784", "up"),
    (DOWN, "#9e9e9e", "down"),
    (UNKNOWN, "#fff176", "up or down (CSV does not say)"),
];
/// An AZ while unreachable, and the storage layer while it stops writes.
pub(super) const AZ_DARK: &str = "#37474f";
pub(super) const STORAGE_BAND: &str = "#ad1457";

/// Above this many marked events, no line is drawn down through the lanes.
const LINES_MAX: usize = 200;

/// Geometry every database picture shares.
pub(super) const LEFT: f64 = 180.0;
pub(super) const WIDTH: f64 = 1000.0;
pub(super) const RIGHT: f64 = 30.0;
pub(super) const LANE_H: f64 = 16.0;
pub(super) const GAP: f64 = 4.0;

/// Renders a database timeline CSV as SVG.
pub(crate) fn plot_database<R: Read + Seek>(
    input: &mut R,
    path: &str,
    prefix: &str,
    caption: &Caption,
) -> Result<Vec<u8>, InputError> {
    let tr = Trace::read(&mut *input, path, prefix)?;
    rewind(input, path)?;
    let names: Vec<String> = tr.azs.iter().map(|a| a.0.clone()).collect();
    let (lanes, how) = instances::lanes(input, path, prefix, tr.instances, &names)?;
    let plot_w = WIDTH - LEFT - RIGHT;
    let description = caption.description_lines();
    let strip_top = 40.0 + 15.0 * description.len() as f64 + 14.0;
    let label_rows = 3;
    let bands_top = strip_top + label_rows as f64 * 13.0 + 10.0;
    let inst_top = bands_top + 3.0 * (LANE_H + GAP) + 12.0;
    let az_top = inst_top + lanes.len() as f64 * (LANE_H + GAP) + 12.0;
    let axis_y = az_top + tr.azs.len() as f64 * (LANE_H + GAP) + 4.0;
    let legend_y = axis_y + 56.0;
    let height = legend_y + 68.0;
    let mut gaps = Gaps::default();
    for &t in &tr.instants {
        gaps.push(t);
    }
    let scale = gaps.scale(LEFT, plot_w);
    let mut svg = Svg::new(WIDTH, height);
    caption.draw(&mut svg, LEFT, &description, &facts(&tr, lanes.len()));

    let rows = [
        ("writes", WRITE_BAND, "write-unavailable", &tr.write),
        ("reads", READ_BAND, "read-unavailable", &tr.read),
        (
            "storage writes",
            STORAGE_BAND,
            "storage-write-unavailable",
            &tr.storage,
        ),
    ];
    for (k, (label, colour, cls, ivs)) in rows.into_iter().enumerate() {
        let y = bands_top + k as f64 * (LANE_H + GAP);
        band_row(&mut svg, &scale, y, label, colour, cls, ivs);
    }
    // Text over the lanes goes on top of the axis's break gaps.
    let mut over = Svg::new(WIDTH, height);
    draw_instances(&mut svg, &mut over, &scale, inst_top, &lanes, &names);
    for (k, (az, ivs)) in tr.azs.iter().enumerate() {
        let y = az_top + k as f64 * (LANE_H + GAP);
        svg.text(LEFT - 8.0, y + LANE_H - 4.0, az, r#"text-anchor="end""#);
        svg.rect(LEFT, y, plot_w, LANE_H, "#e8f5e9", "");
        svg.raw(&format!(r#"<g class="az-lane" data-az="{}">"#, esc(az)));
        spans_row(&mut svg, &scale, y, ivs, AZ_DARK, "az-unreachable");
        svg.raw("</g>");
    }
    if !tr.azs.is_empty() {
        svg.text(6.0, az_top + LANE_H - 3.0, "AZs", r#"font-weight="bold""#);
    }
    let unlabelled = marks(
        &mut svg,
        &scale,
        &tr,
        strip_top,
        label_rows,
        (bands_top, axis_y),
    );
    scale.draw(&mut svg, strip_top + label_rows as f64 * 13.0, axis_y);
    svg.append(over);
    legend(&mut svg, legend_y, scale.has_breaks(), unlabelled, how);
    Ok(svg.finish())
}

/// "horizon 1y · 2 instances · writes unavailable 3m (2 outages) · …".
fn facts(tr: &Trace, n: usize) -> String {
    let (t0, t1) = tr.span();
    let (w, wn) = total(&tr.write);
    let (r, rn) = total(&tr.read);
    [
        format!("horizon {}", caption::human(t1 - t0)),
        format!("{n} instance{}", if n == 1 { "" } else { "s" }),
        caption::unavailable("writes", w, wn),
        caption::unavailable("reads", r, rn),
        format!(
            "{} failover{}, {} restart{}",
            tr.failovers,
            if tr.failovers == 1 { "" } else { "s" },
            tr.restarts,
            if tr.restarts == 1 { "" } else { "s" }
        ),
        caption::losses(tr.losses.1 - tr.losses.0.min(tr.losses.1)),
    ]
    .join(" · ")
}

/// Draws `ivs` (in time order) as rects at least a pixel wide, with their
/// times as data; stretches closer than a pixel merge into one rect
/// (`data-spans` says how many), so a thousand-year run stays small.
/// Returns the pixel extent of each rect drawn.
pub(super) fn spans_row(
    svg: &mut Svg,
    scale: &TimeScale,
    y: f64,
    ivs: &[(f64, f64)],
    colour: &str,
    cls: &str,
) -> Vec<(f64, f64)> {
    let mut drawn = Vec::new();
    let mut k = 0;
    while k < ivs.len() {
        let (s, mut e) = ivs[k];
        let mut n = 1;
        while k + n < ivs.len() && scale.x(ivs[k + n].0) < scale.x(e).max(scale.x(s) + 1.0) + 1.0 {
            e = e.max(ivs[k + n].1);
            n += 1;
        }
        let (x0, x1) = (scale.x(s), scale.x(e));
        let merged = if n > 1 {
            format!(r#" data-spans="{n}""#)
        } else {
            String::new()
        };
        svg.rect(
            x0,
            y,
            (x1 - x0).max(1.0),
            LANE_H,
            colour,
            &format!(r#"class="{cls}" data-start="{s}" data-end="{e}"{merged}"#),
        );
        drawn.push((x0, x0 + (x1 - x0).max(1.0)));
        k += n;
    }
    drawn
}

/// A labelled band row: light background, one rect per interval.
pub(super) fn band_row(
    svg: &mut Svg,
    scale: &TimeScale,
    y: f64,
    label: &str,
    colour: &str,
    cls: &str,
    ivs: &[(f64, f64)],
) {
    svg.text(LEFT - 8.0, y + LANE_H - 4.0, label, r#"text-anchor="end""#);
    svg.rect(LEFT, y, WIDTH - LEFT - RIGHT, LANE_H, "#f5f5f5", "");
    spans_row(svg, scale, y, ivs, colour, cls);
}

/// The instance lanes from `top`, labelled with their inferred AZ.
pub(super) fn draw_instances(
    svg: &mut Svg,
    over: &mut Svg,
    scale: &TimeScale,
    top: f64,
    lanes: &[Lane],
    az_names: &[String],
) {
    if !lanes.is_empty() {
        svg.text(
            6.0,
            top + LANE_H - 3.0,
            "instances",
            r#"font-weight="bold""#,
        );
    }
    for (i, lane) in lanes.iter().enumerate() {
        let y = top + i as f64 * (LANE_H + GAP);
        let label = match lane.az.and_then(|a| az_names.get(a)) {
            Some(az) => format!("instance-{} ({az})", i + 1),
            None => format!("instance-{}", i + 1),
        };
        svg.text(LEFT - 8.0, y + LANE_H - 4.0, &label, r#"text-anchor="end""#);
        svg.raw(&format!(
            r#"<g class="instance-lane" data-instance="{}">"#,
            i + 1
        ));
        // Up is the background; the other states on top, the most alarming
        // last so that a brief down is never hidden by a neighbour.
        svg.rect(
            LEFT,
            y,
            WIDTH - LEFT - RIGHT,
            LANE_H,
            INSTANCE_STATES[2].1,
            "",
        );
        for (letter, colour, cls) in [
            (WRITER, INSTANCE_STATES[0].1, "instance-writer"),
            (PROMOTING, INSTANCE_STATES[1].1, "instance-promoting"),
            (DOWN, INSTANCE_STATES[3].1, "instance-down"),
            (UNKNOWN, INSTANCE_STATES[4].1, "instance-unknown"),
        ] {
            let ivs: Vec<(f64, f64)> = (lane.spans.iter())
                .filter(|s| s.2 == letter)
                .map(|s| (s.0, s.1))
                .collect();
            for (x0, x1) in spans_row(svg, scale, y, &ivs, colour, cls) {
                if letter == WRITER && x1 - x0 >= 48.0 {
                    // Centred: a break's gap sits near a piece's ends.
                    over.text(
                        (x0 + x1) / 2.0,
                        y + LANE_H - 4.0,
                        "writer",
                        r#"font-size="10" fill="white" text-anchor="middle""#,
                    );
                }
            }
        }
        svg.raw("</g>");
    }
}

/// Marks each failover, restart, restore and data loss (a triangle above the
/// bands, a thin line down to the axis) and labels it in the first strip
/// row with room. Returns how many got no label.
pub(super) fn marks(
    svg: &mut Svg,
    scale: &TimeScale,
    tr: &Trace,
    strip_top: f64,
    label_rows: usize,
    (bands_top, axis_y): (f64, f64),
) -> usize {
    let right_edge = WIDTH - RIGHT;
    let mut row_end = vec![f64::NEG_INFINITY; label_rows];
    let mut last_x = [f64::NEG_INFINITY; DB_MARKED.len()];
    let mut unlabelled = 0;
    for (t, k, target) in &tr.marks {
        let (kind, verb, colour) = DB_MARKED[*k];
        let x = scale.x(*t);
        let text = mark_label(kind, verb, target);
        let w = 6.3 * text.chars().count() as f64;
        let anchor_end = x + 4.0 + w > right_edge;
        let (l, r) = if anchor_end {
            (x - 4.0 - w, x)
        } else {
            (x, x + 4.0 + w)
        };
        match row_end.iter().position(|&e| e + 6.0 <= l) {
            Some(row) => {
                row_end[row] = r;
                let ty = strip_top + 13.0 * (row as f64 + 1.0) - 3.0;
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
                svg.line(
                    x,
                    ty + 2.0,
                    x,
                    bands_top - 4.0,
                    "#999",
                    r#"stroke-width="0.5""#,
                );
            }
            None => unlabelled += 1,
        }
        if x - last_x[*k] < 1.0 {
            continue;
        }
        last_x[*k] = x;
        svg.raw(&format!(
            r#"<path class="event-marker" data-event="{kind}" data-time="{t}" data-target="{}" d="M{x:.2},{:.2} l-3.5,-6 h7 z" fill="{colour}"/>"#,
            esc(target),
            bands_top - 4.0
        ));
        // A line down through the lanes, for sparse runs only: hundreds
        // would hide the states.
        if tr.marks.len() <= LINES_MAX {
            svg.line(
                x,
                bands_top,
                x,
                axis_y,
                colour,
                r#"stroke-width="0.8" stroke-opacity="0.6" stroke-dasharray="3 3""#,
            );
        }
    }
    unlabelled
}

/// "failover to instance-2", "instance-2 writes", "data loss" …
pub(super) fn mark_label(kind: &str, verb: &str, target: &str) -> String {
    match kind {
        "failover-start" | "failover-abort" => format!("{verb} {target}"),
        "data-loss" => verb.to_string(),
        _ => format!("{target} {verb}"),
    }
}

fn legend(svg: &mut Svg, y: f64, breaks: bool, unlabelled: usize, how: Placement) {
    // The unknown state only when drawn; instances first, then the bands.
    let states = INSTANCE_STATES
        .iter()
        .filter(|s| s.0 != UNKNOWN || how == Placement::Ambiguous)
        .map(|s| (s.1, s.2));
    let first_row: Vec<(&str, &str)> = states.chain([(AZ_DARK, "AZ unreachable")]).collect();
    let second_row = [
        (WRITE_BAND, "writes unavailable"),
        (READ_BAND, "reads unavailable"),
        (STORAGE_BAND, "storage stops writes"),
    ];
    for (row_y, items) in [(y, &first_row[..]), (y + 20.0, &second_row[..])] {
        let mut x = LEFT;
        for &(colour, label) in items {
            svg.rect(x, row_y, 12.0, 12.0, colour, "");
            svg.text(x + 16.0, row_y + 10.5, label, r#"class="legend""#);
            x += 24.0 + label.len() as f64 * 6.3;
        }
    }
    let y2 = y + 40.0;
    let mut x = LEFT;
    svg.raw(&format!(
        r##"<path d="M{:.2},{:.2} l-3.5,-6 h7 z" fill="#333"/>"##,
        x + 4.0,
        y2 + 9.0
    ));
    let mut text = if unlabelled > 0 {
        format!("failover, restart, restore or data loss ({unlabelled} not labelled: no room)")
    } else {
        "failover, restart, restore or data loss".to_string()
    };
    match how {
        Placement::Certain => {}
        Placement::Ambiguous => text.push_str(
            " · the CSV does not say which instance an AZ outage took down",
        ),
        Placement::Unknown => text.push_str(
            " · the instances' AZs do not follow from the CSV: AZ outages not shown on instance lanes",
        ),
    }
    svg.text(x + 12.0, y2 + 10.5, &text, r#"class="legend""#);
    x += 22.0 + text.len() as f64 * 6.3;
    if breaks {
        super::timeline::break_legend(svg, x, y2, "idle stretch shortened");
    }
}
