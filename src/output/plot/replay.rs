//! The replay picture (`compare --trials 1 --plot` on scripted events, SPEC
//! §5): what one incident did to each design, a lane per design over the
//! incident's time axis with its write- and read-unavailable stretches and
//! its failovers, restarts, restores and data losses. Each design's lane is
//! read off that design's own database timeline (the rows `run --timeline`
//! writes), so the picture and the CSVs cannot disagree.

use super::caption::{Caption, human};
use super::database::{AZ_DARK, GAP, LANE_H, LEFT, RIGHT, WIDTH, band_row, spans_row};
use super::db_rows::{DB_MARKED, Trace, total};
use super::timeline::{READ_BAND, WRITE_BAND};
use super::timescale::{Gaps, TimeScale};
use super::{Svg, esc};
use crate::error::InputError;

/// Space for a design's heading line above its two bands.
const HEAD_H: f64 = 24.0;

/// Renders the replay of `designs`: (design name, its timeline CSV bytes).
pub fn plot_replay(
    caption: &Caption,
    subtitle: &str,
    designs: &[(&str, Vec<u8>)],
) -> Result<Vec<u8>, InputError> {
    let mut traces = Vec::with_capacity(designs.len());
    for (name, csv) in designs {
        let label = format!("{name} timeline");
        let prefix = String::from_utf8_lossy(&csv[..csv.len().min(4096)]).into_owned();
        traces.push(Trace::read(&csv[..], &label, &prefix)?);
    }
    // One time axis for every design: the instants of all of them.
    let mut all: Vec<f64> = traces.iter().flat_map(|t| t.instants.clone()).collect();
    all.sort_by(f64::total_cmp);
    all.dedup();
    let mut gaps = Gaps::default();
    for &t in &all {
        gaps.push(t);
    }
    let plot_w = WIDTH - LEFT - RIGHT;
    let scale = gaps.scale(LEFT, plot_w);
    // The environment lane: the AZs' unreachable stretches, the same in
    // every design (the same trial seed); the design that names most AZs
    // (Aurora's storage sees them all) is drawn.
    let env = traces.iter().max_by_key(|t| t.azs.len());
    let env_azs = env.map_or(0, |t| t.azs.len());
    let description = caption.description_lines();
    let top = 40.0 + 15.0 * description.len() as f64 + 22.0;
    let designs_top = top + env_azs as f64 * (LANE_H + GAP) + if env_azs > 0 { 14.0 } else { 0.0 };
    let group_h = HEAD_H + 2.0 * (LANE_H + GAP) + 10.0;
    let axis_y = designs_top + group_h * traces.len() as f64;
    let legend_y = axis_y + 56.0;
    let height = legend_y + 30.0;
    let mut svg = Svg::new(WIDTH, height);
    caption.draw(&mut svg, LEFT, &description, subtitle);

    // Headings and lengths go over the axis's break gaps, drawn last.
    let mut over = Svg::new(WIDTH, height);
    if let Some(env) = env.filter(|e| !e.azs.is_empty()) {
        svg.text(6.0, top + LANE_H - 3.0, "AZs", r#"font-weight="bold""#);
        for (k, (az, ivs)) in env.azs.iter().enumerate() {
            let y = top + k as f64 * (LANE_H + GAP);
            svg.text(LEFT - 8.0, y + LANE_H - 4.0, az, r#"text-anchor="end""#);
            svg.rect(LEFT, y, plot_w, LANE_H, "#e8f5e9", "");
            svg.raw(&format!(r#"<g class="az-lane" data-az="{}">"#, esc(az)));
            spans_row(&mut svg, &scale, y, ivs, AZ_DARK, "az-unreachable");
            for &iv in ivs {
                label_length(&mut over, &scale, y, iv);
            }
            svg.raw("</g>");
        }
    }

    for (k, ((name, _), tr)) in designs.iter().zip(&traces).enumerate() {
        let y0 = designs_top + k as f64 * group_h;
        over.text(6.0, y0 + 13.0, name, r#"font-weight="bold" class="design""#);
        over.text(
            LEFT,
            y0 + 13.0,
            &summary(tr),
            r##"class="design-summary" fill="#444" font-size="11""##,
        );
        let (yw, yr) = (y0 + HEAD_H, y0 + HEAD_H + LANE_H + GAP);
        svg.raw(&format!(
            r#"<g class="replay-lane" data-design="{}">"#,
            esc(name)
        ));
        band_row(
            &mut svg,
            &scale,
            yw,
            "writes",
            WRITE_BAND,
            "write-unavailable",
            &tr.write,
        );
        band_row(
            &mut svg,
            &scale,
            yr,
            "reads",
            READ_BAND,
            "read-unavailable",
            &tr.read,
        );
        svg.raw("</g>");
        let mut last_end = f64::NEG_INFINITY;
        for &iv in &tr.write {
            last_end = label_after(&mut over, &scale, yw, iv, last_end);
        }
        let mut last_end = f64::NEG_INFINITY;
        for &iv in &tr.read {
            last_end = label_after(&mut over, &scale, yr, iv, last_end);
        }
        design_marks(&mut svg, &scale, tr, yw, yw + LANE_H);
    }
    scale.draw(&mut svg, top, axis_y);
    svg.append(over);
    legend(&mut svg, legend_y, scale.has_breaks());
    Ok(svg.finish())
}

/// "writes down 20m30s (2 outages) · reads down 0s · 1 failover · no data loss".
fn summary(tr: &Trace) -> String {
    let (w, wn) = total(&tr.write);
    let (r, _) = total(&tr.read);
    let mut parts = vec![
        format!(
            "writes down {}{}",
            human(w),
            match wn {
                0 | 1 => String::new(),
                n => format!(" ({n} outages)"),
            }
        ),
        format!("reads down {}", human(r)),
        format!(
            "{} failover{}",
            tr.failovers,
            if tr.failovers == 1 { "" } else { "s" }
        ),
    ];
    if tr.restarts > 0 {
        parts.push(format!(
            "{} restart{}",
            tr.restarts,
            if tr.restarts == 1 { "" } else { "s" }
        ));
    }
    let losses = tr.losses.1 - tr.losses.0.min(tr.losses.1);
    parts.push(super::caption::losses(losses));
    parts.join(" · ")
}

/// The length of `iv` just right of its rect (or inside it when it is wide
/// and `inside`), if it does not run into the previous label; returns where
/// this label ends.
fn label_after(svg: &mut Svg, scale: &TimeScale, y: f64, iv: (f64, f64), last: f64) -> f64 {
    let text = human(iv.1 - iv.0);
    let w = 6.0 * text.chars().count() as f64;
    let (x0, x1) = (scale.x(iv.0), scale.x(iv.1));
    if x1 - x0 >= w + 8.0 {
        label_length(svg, scale, y, iv);
        return x1;
    }
    let x = x0.max(x1) + 3.0;
    if x < last + 4.0 || x + w > WIDTH - 2.0 {
        return last;
    }
    svg.text(
        x,
        y + LANE_H - 4.0,
        &text,
        r##"class="outage-length" font-size="10" fill="#222""##,
    );
    x + w
}

/// The length of `iv` inside its rect, when it fits.
fn label_length(svg: &mut Svg, scale: &TimeScale, y: f64, iv: (f64, f64)) {
    let text = human(iv.1 - iv.0);
    let (x0, x1) = (scale.x(iv.0), scale.x(iv.1));
    if x1 - x0 >= 6.0 * text.chars().count() as f64 + 8.0 {
        svg.text(
            x0 + 4.0,
            y + LANE_H - 4.0,
            &text,
            r#"class="outage-length" font-size="10" fill="white""#,
        );
    }
}

/// A design's failovers, restarts, restores and data losses: a coloured
/// tick across its writes band with a triangle above (see the legend).
fn design_marks(svg: &mut Svg, scale: &TimeScale, tr: &Trace, y0: f64, y1: f64) {
    let mut last_x = [f64::NEG_INFINITY; DB_MARKED.len()];
    for (t, k, target) in &tr.marks {
        let (kind, _, colour) = DB_MARKED[*k];
        let x = scale.x(*t);
        if x - last_x[*k] < 1.0 {
            continue;
        }
        last_x[*k] = x;
        svg.raw(&format!(
            r#"<path class="event-marker" data-event="{kind}" data-time="{t}" data-target="{}" d="M{x:.2},{:.2} l-3.5,-6 h7 z" fill="{colour}"/>"#,
            esc(target),
            y0 - 1.0
        ));
        svg.line(x, y0, x, y1, colour, r#"stroke-width="1.2""#);
    }
}

fn legend(svg: &mut Svg, y: f64, breaks: bool) {
    let mut x = LEFT;
    for (colour, label) in [
        (AZ_DARK, "AZ unreachable"),
        (WRITE_BAND, "writes unavailable"),
        (READ_BAND, "reads unavailable"),
    ] {
        svg.rect(x, y, 12.0, 12.0, colour, "");
        svg.text(x + 16.0, y + 10.5, label, r#"class="legend""#);
        x += 22.0 + label.len() as f64 * 6.2;
    }
    // One entry per mark colour: failover (start, done, abort share one).
    for (colour, label) in [
        (DB_MARKED[0].2, "failover"),
        (DB_MARKED[3].2, "restart done"),
        (DB_MARKED[4].2, "restore"),
        (DB_MARKED[5].2, "data loss"),
    ] {
        svg.raw(&format!(
            r#"<path d="M{:.2},{:.2} l-3.5,-6 h7 z" fill="{colour}"/>"#,
            x + 4.0,
            y + 9.0
        ));
        svg.text(x + 12.0, y + 10.5, label, r#"class="legend""#);
        x += 22.0 + label.len() as f64 * 6.2;
    }
    if breaks {
        svg.text(
            x,
            y + 10.5,
            "// idle stretch shortened",
            r#"class="legend""#,
        );
    }
}
