//! `plot timeline` of a volume (SPEC §4): the counts of a volume timeline as
//! step lines over time — PGs without write quorum, without read quorum and
//! degraded in one panel, repairs running and waiting in another, on
//! log-like count axes — under the volume's unavailability bands, with the
//! failures, data losses and restores marked and long idle stretches
//! shortened. The CSV is read twice as a stream (see [`super::volume_rows`]) and
//! each line keeps at most four points per pixel column, so memory and the
//! SVG stay small however many rows the file has.

use super::caption::Caption;
use super::rows::{Outages, rewind};
use super::steps::{CountAxis, StepLine, step_path};
use super::timeline::{DATA_LOSS, READ_BAND, RESTORE, WRITE_BAND};
use super::timescale::TimeScale;
use super::volume_rows::{Item, Summary, pass};
use super::{Svg, esc};
use crate::error::InputError;
use crate::output::timeline::VOLUME_COLUMNS as COLUMNS;
use std::io::{Read, Seek};

/// The counts drawn: (column, legend text, colour, panel, dash pattern), in
/// drawing order (later lines lie on top).
const SERIES: [(usize, &str, &str, usize, &str); 5] = [
    (7, "degraded", "#c29100", 0, ""),
    (5, "without write quorum", WRITE_BAND, 0, ""),
    (6, "without read quorum", READ_BAND, 0, "5 3"),
    (9, "waiting for streams", "#00897b", 1, ""),
    (8, "running", "#1565c0", 1, ""),
];
/// The panels: heading, height px, what the axis counts.
const PANELS: [(&str, f64, &str); 2] = [("PGs", 190.0, "PGs"), ("repairs", 110.0, "repairs")];

/// Events worth a label: (CSV name, text after one target, text after a
/// count of them at one instant). `data-loss` is not a row of a volume
/// timeline: it is drawn where `data_loss_events` grows.
pub(super) const MARKED: [(&str, &str, &str); 8] = [
    ("az-outage", "outage", "AZ outages"),
    ("az-loss", "lost", "AZs lost"),
    ("rack-outage", "outage", "rack outages"),
    ("node-crash", "crash", "node crashes"),
    ("node-loss", "lost", "nodes lost"),
    ("replace", "given up", "nodes given up"),
    (
        "restore",
        "PG restored from backup",
        "PGs restored from backup",
    ),
    ("data-loss", "PG data loss", "PG data losses"),
];
const RESTORE_K: usize = 6;
pub(super) const DATA_LOSS_K: usize = 7;

/// Where things are.
struct Layout {
    left: f64,
    right: f64,
    strip_top: f64,
    label_h: f64,
    label_rows: usize,
    bands_top: f64,
    band_h: f64,
    /// (top, bottom) of each panel.
    panels: [(f64, f64); 2],
    axis_y: f64,
    legend_y: f64,
}

impl Layout {
    fn new(description_lines: usize) -> Layout {
        let (left, right) = (110.0, 970.0);
        let facts_y = 40.0 + 15.0 * description_lines as f64;
        let (label_h, label_rows, band_h) = (13.0, 3, 12.0);
        let strip_top = facts_y + 14.0;
        let bands_top = strip_top + label_rows as f64 * label_h + 10.0;
        let p0 = bands_top + 2.0 * (band_h + 4.0) + 28.0;
        let p1 = p0 + PANELS[0].1 + 34.0;
        let panels = [(p0, p0 + PANELS[0].1), (p1, p1 + PANELS[1].1)];
        let axis_y = panels[1].1;
        Layout {
            left,
            right,
            strip_top,
            label_h,
            label_rows,
            bands_top,
            band_h,
            panels,
            axis_y,
            legend_y: axis_y + 56.0,
        }
    }
}

/// Renders a volume timeline CSV (`input`, named `path` in errors) as SVG.
pub(crate) fn plot_volume<R: Read + Seek>(
    input: &mut R,
    path: &str,
    caption: &Caption,
) -> Result<Vec<u8>, InputError> {
    let mut sum = Summary::default();
    let states = pass(&mut *input, path, |item| sum.item(item))?;
    sum.finish();
    let description = caption.description_lines();
    let lay = Layout::new(description.len());
    let (width, height) = (1000.0, lay.legend_y + 40.0);
    let scale = sum.gaps.scale(lay.left, lay.right - lay.left);
    let axes: Vec<CountAxis> = (0..2)
        .map(|p| {
            let max = SERIES
                .iter()
                .filter(|s| s.3 == p)
                .map(|s| sum.peaks[s.0 - 5])
                .max()
                .unwrap_or(0);
            CountAxis::new(max, lay.panels[p].0, lay.panels[p].1)
        })
        .collect();
    let mut svg = Svg::new(width, height);
    caption.draw(&mut svg, lay.left, &description, &sum.facts());
    let bands_y = [lay.bands_top, lay.bands_top + lay.band_h + 4.0];
    for (y, label) in bands_y.iter().zip(["writes", "reads"]) {
        svg.text(
            lay.left - 8.0,
            y + lay.band_h - 2.0,
            label,
            r#"text-anchor="end""#,
        );
        svg.rect(
            lay.left,
            *y,
            lay.right - lay.left,
            lay.band_h,
            "#f5f5f5",
            "",
        );
    }
    for (p, ax) in axes.iter().enumerate() {
        panel_heading(&mut svg, &lay, p, &sum.peaks);
        ax.draw(&mut svg, lay.left, lay.right);
    }

    let x_of = |t: f64| scale.x(t);
    let mut bands = [Band::default(), Band::default()];
    let mut lines: Vec<StepLine> = Vec::new();
    let mut marks = Marks::new(&lay);
    let (mut seen, mut last_t) = (0, f64::NAN);
    rewind(input, path)?;
    pass(&mut *input, path, |item| match item {
        Item::Events(t, k, n, target) => marks.group(x_of(t), t, k, n, target),
        Item::State(s) => {
            seen += 1;
            last_t = s.t;
            let x = x_of(s.t);
            if lines.is_empty() {
                lines = SERIES
                    .iter()
                    .map(|c| StepLine::new(lay.left, s.counts[c.0 - 5]))
                    .collect();
            }
            for (line, c) in lines.iter_mut().zip(&SERIES) {
                line.set(x, s.counts[c.0 - 5]);
            }
            for (k, ok) in [s.write, s.read].into_iter().enumerate() {
                if let Some(iv) = bands[k].outages.state(s.t, ok) {
                    bands[k].add(iv, &x_of);
                }
            }
        }
    })?;
    if seen != states || last_t != sum.last {
        return Err(InputError::new(
            path,
            "the file changed while it was being plotted",
        ));
    }
    for (k, band) in bands.iter_mut().enumerate() {
        if let Some(iv) = band.outages.finish(last_t) {
            band.add(iv, &x_of);
        }
        let (colour, cls) = [
            (WRITE_BAND, "write-unavailable"),
            (READ_BAND, "read-unavailable"),
        ][k];
        band.draw(&mut svg, bands_y[k], lay.band_h, colour, cls, &x_of);
    }
    for (line, &(col, _, colour, p, dash)) in lines.into_iter().zip(&SERIES) {
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        step_path(
            &mut svg,
            &line.finish(lay.right),
            &axes[p],
            &format!(
                r#"class="series" data-series="{}" stroke="{colour}" stroke-width="1.8" stroke-linejoin="round"{dash}"#,
                COLUMNS[col]
            ),
        );
    }
    marks.finish(&mut svg);
    scale.draw(
        &mut svg,
        lay.strip_top + lay.label_rows as f64 * lay.label_h,
        lay.axis_y,
    );
    legend(&mut svg, &lay, &scale, marks.unlabelled);
    Ok(svg.finish())
}

/// A panel's name and the legend of its lines, above it, and what its axis
/// counts, beside it.
fn panel_heading(svg: &mut Svg, lay: &Layout, p: usize, peaks: &[u64; 5]) {
    let (top, bottom) = lay.panels[p];
    let y = top - 12.0;
    svg.text(lay.left, y, PANELS[p].0, r#"font-weight="bold""#);
    let mut x = lay.left + 14.0 + 8.0 * PANELS[p].0.len() as f64;
    let mut order: Vec<_> = SERIES.iter().filter(|s| s.3 == p).collect();
    order.sort_by_key(|s| s.0);
    for &&(col, label, colour, _, dash) in &order {
        let text = match peaks[col - 5] {
            0 => format!("{label} (none)"),
            n => format!("{label} (peak {n})"),
        };
        svg.line(
            x,
            y - 4.0,
            x + 18.0,
            y - 4.0,
            colour,
            &format!(
                r#"class="legend-line" data-series="{}" stroke-width="2" stroke-dasharray="{}""#,
                COLUMNS[col],
                if dash.is_empty() { "none" } else { dash }
            ),
        );
        svg.text(x + 23.0, y, &text, r#"class="legend""#);
        x += 46.0 + 6.9 * text.chars().count() as f64;
    }
    let mid = (top + bottom) / 2.0;
    svg.text(
        40.0,
        mid,
        &format!("{} (log scale)", PANELS[p].2),
        &format!(
            r##"text-anchor="middle" fill="#555" font-size="11" transform="rotate(-90 40 {mid:.2})""##
        ),
    );
}

/// One band's outages, drawn as one rect per outage; outages closer than a
/// pixel share a rect (`data-outages` says how many), so the SVG stays small.
#[derive(Default)]
struct Band {
    outages: Outages,
    /// Drawn so far: the open rect (start, end, outages) and the closed ones.
    open: Option<(f64, f64, usize)>,
    done: Vec<(f64, f64, usize)>,
}

impl Band {
    fn add(&mut self, (s, e): (f64, f64), x_of: &impl Fn(f64) -> f64) {
        match &mut self.open {
            Some(o) if x_of(s) < (x_of(o.0) + 1.0).max(x_of(o.1)) + 1.0 => {
                o.1 = e;
                o.2 += 1;
            }
            open => {
                if let Some(o) = open.replace((s, e, 1)) {
                    self.done.push(o);
                }
            }
        }
    }

    fn draw(
        &mut self,
        svg: &mut Svg,
        y: f64,
        h: f64,
        colour: &str,
        cls: &str,
        x_of: &impl Fn(f64) -> f64,
    ) {
        self.done.extend(self.open.take());
        for &(s, e, n) in &self.done {
            let (x0, x1) = (x_of(s), x_of(e));
            svg.rect(
                x0,
                y,
                (x1 - x0).max(1.0),
                h,
                colour,
                &format!(r#"class="{cls}" data-start="{s}" data-end="{e}" data-outages="{n}""#),
            );
        }
    }
}

/// Labels of one kind closer than this (px) are told as one ("6 nodes lost").
const LABEL_JOIN: f64 = 12.0;

/// Events told by one label or one marker: (first x, last x, first time,
/// count, target: empty when they were not all on one).
type Told = (f64, f64, f64, u64, String);

/// The markers and labels of the events, drawn over everything else: a
/// triangle above the bands, a label in the first of the strip's rows with
/// room, and a dashed line through the plot at each data loss and restore.
/// Markers of one kind closer than a pixel become one that counts them all;
/// labels of one kind closer than [`LABEL_JOIN`], one label.
struct Marks<'l> {
    lay: &'l Layout,
    row_end: Vec<f64>,
    /// Per kind, the marker and the label not drawn yet.
    marker: [Option<Told>; MARKED.len()],
    label: [Option<Told>; MARKED.len()],
    out: Svg,
    /// Labels left out (too crowded).
    unlabelled: usize,
}

/// Adds `n` events at `x` to `slot` if they are within `join` px of its first;
/// otherwise returns what was there and starts anew.
fn join(
    slot: &mut Option<Told>,
    join: f64,
    (x, t, n, target): (f64, f64, u64, &str),
) -> Option<Told> {
    match slot {
        Some(p) if x - p.0 < join => {
            p.1 = x;
            p.3 += n;
            if p.4 != target {
                p.4.clear();
            }
            None
        }
        slot => slot.replace((x, x, t, n, target.to_string())),
    }
}

impl<'l> Marks<'l> {
    fn new(lay: &'l Layout) -> Self {
        Marks {
            lay,
            row_end: vec![f64::NEG_INFINITY; lay.label_rows],
            marker: Default::default(),
            label: Default::default(),
            out: Svg::new(0.0, 0.0),
            unlabelled: 0,
        }
    }

    /// `n` events of kind `k` at time `t` (at `x`), on `target` if one.
    fn group(&mut self, x: f64, t: f64, k: usize, n: u64, target: &str) {
        // Labels that nothing can join any more, in time order.
        self.place_labels(|l| l.1 + LABEL_JOIN <= x);
        if let Some(l) = join(&mut self.label[k], LABEL_JOIN, (x, t, n, target)) {
            self.place(k, l);
        }
        if let Some(m) = join(&mut self.marker[k], 1.0, (x, t, n, target)) {
            draw_marker(&mut self.out, self.lay, k, m);
        }
    }

    /// Places the pending labels that `done` says are complete, leftmost first.
    fn place_labels(&mut self, done: impl Fn(&Told) -> bool) {
        let mut ready: Vec<usize> = (0..MARKED.len())
            .filter(|&k| self.label[k].as_ref().is_some_and(&done))
            .collect();
        ready.sort_by(|&a, &b| {
            let x = |k: usize| self.label[k].as_ref().map_or(0.0, |l| l.0);
            x(a).total_cmp(&x(b))
        });
        for k in ready {
            if let Some(l) = self.label[k].take() {
                self.place(k, l);
            }
        }
    }

    /// A label in the first row with room for it, with a thin line down to
    /// the markers.
    fn place(&mut self, k: usize, (x, _, _, n, target): Told) {
        let (_, one, many) = MARKED[k];
        let text = match (n, target.as_str()) {
            (1, "") => one.to_string(),
            (1, _) => format!("{target} {one}"),
            _ => format!("{n} {many}"),
        };
        let lay = self.lay;
        let w = 6.3 * text.chars().count() as f64;
        let anchor_end = x + 4.0 + w > lay.right;
        let (l, r) = if anchor_end {
            (x - 4.0 - w, x)
        } else {
            (x, x + 4.0 + w)
        };
        let Some(row) = self.row_end.iter().position(|&e| e + 6.0 <= l) else {
            self.unlabelled += 1;
            return;
        };
        self.row_end[row] = r;
        let ty = lay.strip_top + lay.label_h * (row as f64 + 1.0) - 3.0;
        self.out.text(
            if anchor_end { x - 3.0 } else { x + 3.0 },
            ty,
            &text,
            &format!(
                r#"class="event-label" data-event="{}" font-size="11"{}"#,
                MARKED[k].0,
                if anchor_end {
                    r#" text-anchor="end""#
                } else {
                    ""
                }
            ),
        );
        self.out.line(
            x,
            ty + 2.0,
            x,
            lay.bands_top - 4.0,
            "#999",
            r#"stroke-width="0.5""#,
        );
    }

    /// Draws what is still pending, and everything onto `svg`.
    fn finish(&mut self, svg: &mut Svg) {
        self.place_labels(|_| true);
        for k in 0..MARKED.len() {
            if let Some(m) = self.marker[k].take() {
                draw_marker(&mut self.out, self.lay, k, m);
            }
        }
        svg.append(std::mem::replace(&mut self.out, Svg::new(0.0, 0.0)));
    }
}

fn draw_marker(svg: &mut Svg, lay: &Layout, k: usize, (x, _, t, n, target): Told) {
    let kind = MARKED[k].0;
    svg.raw(&format!(
        r##"<path class="event-marker" data-event="{kind}" data-time="{t}" data-count="{n}" data-target="{}" d="M{x:.2},{:.2} l-3.5,-6 h7 z" fill="#333"/>"##,
        esc(&target),
        lay.bands_top - 4.0
    ));
    if k == DATA_LOSS_K || k == RESTORE_K {
        let (colour, cls) = if k == DATA_LOSS_K {
            (DATA_LOSS, "data-loss")
        } else {
            (RESTORE, "restore")
        };
        // Through the bands and the panels, not the panels' headings.
        let bands_bottom = lay.bands_top + 2.0 * lay.band_h + 4.0;
        let d: Vec<String> = [(lay.bands_top, bands_bottom), lay.panels[0], lay.panels[1]]
            .iter()
            .map(|(a, b)| format!("M{x:.2},{a:.2} V{b:.2}"))
            .collect();
        svg.raw(&format!(
            r#"<path class="{cls}" data-time="{t}" data-count="{n}" d="{}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 3"/>"#,
            d.join(" ")
        ));
    }
}

fn legend(svg: &mut Svg, lay: &Layout, scale: &TimeScale, unlabelled: usize) {
    let y = lay.legend_y;
    let mut x = lay.left;
    for (colour, label) in [
        (WRITE_BAND, "writes unavailable"),
        (READ_BAND, "reads unavailable"),
    ] {
        svg.rect(x, y, 12.0, 12.0, colour, "");
        svg.text(x + 16.0, y + 10.5, label, r#"class="legend""#);
        x += 26.0 + label.len() as f64 * 7.0;
    }
    super::timeline::marks_legend(svg, x, y, unlabelled);
    if scale.has_breaks() {
        let (x, y2) = (lay.left, y + 20.0);
        super::timeline::break_legend(
            svg,
            x,
            y2,
            "idle stretch (no change) shortened; its length below",
        );
    }
}
