//! `plot timeline` of one PG (SPEC §3): one swimlane per replica, grouped by
//! AZ, coloured by state, with bands where writes and reads were
//! unavailable, labelled markers for the failures, data losses and
//! restores, and long idle stretches shortened (see [`super::timescale`]).
//! The CSV is read twice as a stream (see [`super::replica_rows`]): once for
//! the axis and the facts, once to draw.

use super::caption::Caption;
use super::replica_rows::{Item, State, Summary, pass};
use super::rows::{Outages, rewind};
use super::{Svg, esc};
use crate::error::InputError;
use std::io::{Read, Seek};

/// State letters, their colours, legend text, and precedence when several
/// states fall into one pixel (the most alarming wins, so nothing brief hides).
pub(super) const STATES: [(u8, &str, &str, u8); 5] = [
    (b'C', "#2e7d32", "C up, current", 0),
    (b'S', "#f9a825", "S up, stale", 1),
    (b'D', "#9e9e9e", "D down", 2),
    (b'R', "#1565c0", "R repairing", 3),
    (b'L', "#c62828", "L lost", 4),
];
pub(crate) const WRITE_BAND: &str = "#7b1fa2";
pub(crate) const READ_BAND: &str = "#ef6c00";

/// Events worth a label: (CSV name, what the label says after the target).
pub(super) const MARKED: [(&str, &str); 7] = [
    ("az-outage", "outage"),
    ("az-loss", "lost"),
    ("node-crash", "crash"),
    ("node-loss", "lost"),
    ("replace", "given up"),
    ("data-loss", "data loss"),
    ("restore", "restored from backup"),
];
pub(crate) const DATA_LOSS: &str = "#000";
/// Above this many marked events, no tick is drawn over the lanes.
const LANE_TICKS_MAX: usize = 200;
pub(crate) const RESTORE: &str = "#1565c0";

/// Renders a §3 timeline CSV (`input`, named `path` in errors; `prefix` is
/// its start, to name another kind of file) as SVG.
pub(crate) fn plot_replicas<R: Read + Seek>(
    input: &mut R,
    path: &str,
    prefix: &str,
    caption: &Caption,
) -> Result<Vec<u8>, InputError> {
    let mut sum = Summary::default();
    let (nodes, states) = pass(&mut *input, path, prefix, |item| match item {
        Item::Event(..) => sum.events += 1,
        Item::State(s) => sum.state(s),
    })?;
    sum.finish();
    let azs = group_by_az(&nodes);
    let (left, right) = (110.0, 30.0);
    let width = 1000.0;
    let plot_w = width - left - right;
    let (lane_h, lane_gap, band_h, label_h) = (16.0, 4.0, 12.0, 13.0);
    let description = caption.description_lines();
    let facts_y = 40.0 + 15.0 * description.len() as f64;
    let label_rows = 3;
    let strip_top = facts_y + 14.0;
    let bands_top = strip_top + label_rows as f64 * label_h + 10.0;
    let lanes_top = bands_top + 2.0 * (band_h + lane_gap) + 6.0;
    let lanes_h = nodes.len() as f64 * (lane_h + lane_gap) + azs.len() as f64 * 10.0;
    let axis_y = lanes_top + lanes_h;
    let legend_y = axis_y + 56.0;
    let height = legend_y + 48.0;
    let scale = sum.gaps.scale(left, plot_w);
    let x_of = |t: f64| scale.x(t);
    let mut svg = Svg::new(width, height);
    caption.draw(
        &mut svg,
        left,
        &description,
        &sum.facts(nodes.len(), azs.len()),
    );

    // Where each lane is.
    let mut lane_y: Vec<f64> = vec![0.0; nodes.len()];
    let mut y = lanes_top;
    for (_, members) in &azs {
        for &n in members {
            lane_y[n] = y;
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

    // Unavailability bands: one rect per outage, at least 1 px wide so that a
    // 9-second outage in a one-year run stays visible.
    let reads_y = bands_top + band_h + lane_gap;
    let band_start = |svg: &mut Svg, y: f64, label: &str| {
        svg.text(left - 8.0, y + band_h - 2.0, label, r#"text-anchor="end""#);
        svg.rect(left, y, plot_w, band_h, "#f5f5f5", "");
    };
    let band = |svg: &mut Svg, y: f64, colour: &str, cls: &str, (s, e): (f64, f64)| {
        let (x0, x1) = (x_of(s), x_of(e));
        svg.rect(
            x0,
            y,
            (x1 - x0).max(1.0),
            band_h,
            colour,
            &format!(r#"class="{cls}" data-start="{s}" data-end="{e}""#),
        );
    };
    let mut reads = Svg::new(width, height);
    band_start(&mut svg, bands_top, "writes");
    band_start(&mut reads, reads_y, "reads");
    let mut outages = [Outages::default(), Outages::default()];

    // Lanes, pixel-binned: each pixel column shows the most alarming state seen
    // in it, and equal neighbours merge, so the SVG stays small for long runs.
    let px = plot_w.ceil() as usize;
    let mut worst = vec![0u8; px * nodes.len()];
    let mut have = vec![false; px * nodes.len()];
    let mut prev: Option<State> = None;
    let mut marks = Svg::new(width, height);
    let mut ann = Annotator::new(&geo, sum.events);
    let mut seen = 0;
    let mut last_t = f64::NAN;
    rewind(input, path)?;
    pass(&mut *input, path, prefix, |item| match item {
        Item::Event(t, k, target) => {
            ann.event(&mut marks, &nodes, &azs, &lane_y, (x_of(t), t, k, target))
        }
        Item::State(s) => {
            seen += 1;
            last_t = s.t;
            for (k, ok) in [s.write, s.read].into_iter().enumerate() {
                if let Some(iv) = outages[k].state(s.t, ok) {
                    if k == 0 {
                        band(&mut svg, bands_top, WRITE_BAND, "write-unavailable", iv);
                    } else {
                        band(&mut reads, reads_y, READ_BAND, "read-unavailable", iv);
                    }
                }
            }
            if let Some(p) = &prev {
                let a = (((x_of(p.t) - left).floor()) as usize).min(px - 1);
                let b = (((x_of(s.t) - left).ceil()) as usize).clamp(a + 1, px);
                for (n, &letter) in p.letters.iter().enumerate() {
                    let prec = STATES.iter().find(|x| x.0 == letter).map_or(0, |x| x.3);
                    let (w, h) = (
                        &mut worst[n * px..(n + 1) * px],
                        &mut have[n * px..(n + 1) * px],
                    );
                    for q in a..b {
                        if !h[q] || prec > w[q] {
                            w[q] = prec;
                            h[q] = true;
                        }
                    }
                }
            }
            match &mut prev {
                Some(p) => {
                    p.letters.clear();
                    p.letters.extend_from_slice(&s.letters);
                    (p.t, p.write, p.read, p.losses) = (s.t, s.write, s.read, s.losses);
                }
                None => {
                    prev = Some(State {
                        t: s.t,
                        letters: s.letters.clone(),
                        write: s.write,
                        read: s.read,
                        losses: s.losses,
                    })
                }
            }
        }
    })?;
    if seen != states || last_t != sum.last.0 {
        return Err(InputError::new(
            path,
            "the file changed while it was being plotted",
        ));
    }
    if let Some(iv) = outages[0].finish(last_t) {
        band(&mut svg, bands_top, WRITE_BAND, "write-unavailable", iv);
    }
    if let Some(iv) = outages[1].finish(last_t) {
        band(&mut reads, reads_y, READ_BAND, "read-unavailable", iv);
    }
    svg.append(reads);

    let mut y = lanes_top;
    for (az, members) in &azs {
        svg.text(6.0, y + lane_h - 3.0, az, r#"font-weight="bold""#);
        for &n in members {
            svg.text(
                left - 8.0,
                y + lane_h - 4.0,
                &nodes[n],
                r#"text-anchor="end""#,
            );
            svg.raw(&format!(
                r#"<g class="lane" data-node="{}">"#,
                esc(&nodes[n])
            ));
            let (worst, have) = (&worst[n * px..(n + 1) * px], &have[n * px..(n + 1) * px]);
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
    let unlabelled = ann.unlabelled;
    svg.append(marks);
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
/// with room for it, counting the events that got no label (too crowded).
/// Markers of one kind closer than a pixel are drawn once, so a busy
/// thousand-year run stays small.
struct Annotator<'g> {
    g: &'g Geometry,
    row_end: Vec<f64>,
    last_x: [f64; MARKED.len()],
    unlabelled: usize,
    /// Marked events in the whole file.
    events: usize,
}

impl<'g> Annotator<'g> {
    fn new(g: &'g Geometry, events: usize) -> Self {
        Annotator {
            g,
            row_end: vec![f64::NEG_INFINITY; g.label_rows],
            last_x: [f64::NEG_INFINITY; MARKED.len()],
            unlabelled: 0,
            events,
        }
    }

    /// One marked event: (x, time, index into MARKED, target).
    fn event(
        &mut self,
        svg: &mut Svg,
        nodes: &[String],
        azs: &[(String, Vec<usize>)],
        lane_y: &[f64],
        (x, t, k, target): (f64, f64, usize, &str),
    ) {
        let g = self.g;
        let marker_y = g.bands_top - 4.0;
        let (kind, verb) = MARKED[k];
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
        match self.row_end.iter().position(|&e| e + 6.0 <= l) {
            Some(row) => {
                self.row_end[row] = r;
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
            None => self.unlabelled += 1,
        }
        if x - self.last_x[k] < 1.0 {
            return;
        }
        self.last_x[k] = x;
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
            return;
        }
        // The lanes the event hit: one node, or every node of an AZ. Only
        // for sparse runs: hundreds of ticks would hide the states.
        if self.events > LANE_TICKS_MAX {
            return;
        }
        let lanes: Vec<usize> = match azs.iter().find(|(az, _)| az == target) {
            Some((_, members)) => members.clone(),
            None => nodes.iter().position(|n| n == target).into_iter().collect(),
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
    let x = marks_legend(svg, left, y2, unlabelled);
    if breaks {
        break_legend(
            svg,
            x,
            y2,
            "idle stretch (no change) shortened; its length below",
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

/// The legend entries both timeline plots share, from `x` on row `y`: the
/// dashed data-loss and restore lines and the event marker (with how many
/// marks had no room for a label). Returns the x after them.
pub(super) fn marks_legend(svg: &mut Svg, mut x: f64, y: f64, unlabelled: usize) -> f64 {
    for (colour, label) in [(DATA_LOSS, "data loss"), (RESTORE, "restore from backup")] {
        svg.line(
            x,
            y + 6.0,
            x + 14.0,
            y + 6.0,
            colour,
            r#"stroke-width="1.5" stroke-dasharray="4 3""#,
        );
        svg.text(x + 18.0, y + 10.5, label, r#"class="legend""#);
        x += 30.0 + label.len() as f64 * 7.0;
    }
    svg.raw(&format!(
        r##"<path d="M{:.2},{:.2} l-3.5,-6 h7 z" fill="#333"/>"##,
        x + 4.0,
        y + 9.0
    ));
    let marks = if unlabelled > 0 {
        format!("failure, loss or restore ({unlabelled} not labelled: no room)")
    } else {
        "failure, loss or restore".to_string()
    };
    svg.text(x + 12.0, y + 10.5, &marks, r#"class="legend""#);
    x + 22.0 + marks.len() as f64 * 6.5
}

/// The legend's `//` mark for shortened idle stretches at (x, y), with `text`.
pub(super) fn break_legend(svg: &mut Svg, x: f64, y: f64, text: &str) {
    svg.line(x, y + 12.0, x + 5.0, y, "#333", r#"stroke-width="1.5""#);
    svg.line(
        x + 5.0,
        y + 12.0,
        x + 10.0,
        y,
        "#333",
        r#"stroke-width="1.5""#,
    );
    svg.text(x + 16.0, y + 10.5, text, r#"class="legend""#);
}
