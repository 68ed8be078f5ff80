//! Drawing a sweep plot: frame, ticks, bands, series and legend, from data
//! already placed and filtered by [`super::sweep`].

use super::axis::{Axis, Tick};
use super::words::{Measure, key_words};
use super::{Svg, esc};

const PALETTE: [&str; 8] = [
    "#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037", "#ad1457",
];
/// Series listed in the legend; the rest are counted.
const LEGEND_MAX: usize = 12;
/// Above this many points a series is drawn as a line without dots.
const DOTS_MAX: usize = 300;

/// An x value as written, and as a number with its measure (None: a category).
pub(crate) type XLabel = (String, Option<(f64, Measure)>);

/// One drawn point, in axis units.
pub(crate) struct Point {
    pub x: f64,
    pub y: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

/// `cluster.repair_time=2h, …` → `repair time = 2h, …` (the keys are in the
/// data-label attribute for scripts).
fn legend_text(label: &str) -> String {
    label
        .split(", ")
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if k.contains('.') || k == "horizon" => format!("{} = {v}", key_words(k)),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Everything but the data.
pub(crate) struct Frame<'a> {
    pub title: &'a str,
    pub subtitle: &'a str,
    pub x_title: &'a str,
    pub y_title: &'a str,
    pub footnote: &'a str,
    pub ax: &'a Axis,
    pub ay: &'a Axis,
    pub categorical: Option<&'a [XLabel]>,
    /// Label decade ticks of unavailability with their nines.
    pub nines: bool,
}

fn tick_label(t: &Tick, nines: bool) -> String {
    match t.decade {
        Some(k) if nines && k < 0 => {
            format!(
                "{} ({} nine{})",
                t.label,
                -k,
                if k == -1 { "" } else { "s" }
            )
        }
        _ => t.label.clone(),
    }
}

pub(crate) fn render(f: &Frame<'_>, series: &[(String, Vec<Point>)]) -> Vec<u8> {
    let legend_rows = series.len().min(LEGEND_MAX) + usize::from(series.len() > LEGEND_MAX);
    let (width, left, right, top) = (900.0, 120.0, 30.0, 62.0);
    let ph = 430.0;
    let bottom = 64.0 + 18.0 * legend_rows as f64 + 22.0;
    let height = top + ph + bottom;
    let pw = width - left - right;
    let px = |x: f64| left + f.ax.frac(x) * pw;
    let py = |y: f64| top + ph - f.ay.frac(y) * ph;
    let mut svg = Svg::new(width, height);
    svg.text(left, 24.0, f.title, r#"font-size="15" font-weight="bold""#);
    svg.text(left, 42.0, f.subtitle, r##"class="subtitle" fill="#555""##);
    svg.rect(left, top, pw, ph, "none", r##"stroke="#333""##);
    for t in f.ax.ticks() {
        let label = match f.categorical {
            Some(labels) => match t.value {
                Some(v) if v.fract() == 0.0 && v >= 0.0 && (v as usize) < labels.len() => {
                    labels[v as usize].0.clone()
                }
                _ => continue,
            },
            None => tick_label(&t, false),
        };
        let x = left + f.ax.frac_of_coord(t.at) * pw;
        svg.line(x, top, x, top + ph, "#000", r#"stroke-opacity="0.1""#);
        svg.text(
            x,
            top + ph + 18.0,
            &label,
            r#"class="x-tick" text-anchor="middle""#,
        );
    }
    for t in f.ay.ticks() {
        let y = top + ph - f.ay.frac_of_coord(t.at) * ph;
        svg.line(left, y, left + pw, y, "#000", r#"stroke-opacity="0.1""#);
        svg.text(
            left - 6.0,
            y + 4.0,
            &tick_label(&t, f.nines),
            r#"class="y-tick" text-anchor="end""#,
        );
    }
    svg.text(
        left + pw / 2.0,
        top + ph + 40.0,
        f.x_title,
        r#"text-anchor="middle""#,
    );
    svg.text(
        16.0,
        top + ph / 2.0,
        f.y_title,
        &format!(
            r#"text-anchor="middle" transform="rotate(-90 16 {})""#,
            top + ph / 2.0
        ),
    );
    for (k, (label, pts)) in series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let band: Vec<&Point> = pts
            .iter()
            .filter(|p| p.lo.is_some() && p.hi.is_some())
            .collect();
        if band.len() >= 2 {
            let mut poly: Vec<String> = band
                .iter()
                .map(|p| format!("{:.2},{:.2}", px(p.x), py(p.hi.unwrap_or(p.y))))
                .collect();
            poly.extend(
                band.iter()
                    .rev()
                    .map(|p| format!("{:.2},{:.2}", px(p.x), py(p.lo.unwrap_or(p.y)))),
            );
            svg.raw(&format!(
                r#"<polygon class="ci-band" points="{}" fill="{colour}" fill-opacity="0.18" stroke="none"/>"#,
                poly.join(" ")
            ));
        } else {
            for p in &band {
                let (a, b) = (py(p.lo.unwrap_or(p.y)), py(p.hi.unwrap_or(p.y)));
                svg.line(
                    px(p.x),
                    a,
                    px(p.x),
                    b,
                    colour,
                    r#"class="ci-bar" stroke-width="1.5""#,
                );
            }
        }
        let line: Vec<String> = pts
            .iter()
            .map(|p| format!("{:.2},{:.2}", px(p.x), py(p.y)))
            .collect();
        svg.raw(&format!(
            r#"<polyline class="series" data-label="{}" data-points="{}" points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            esc(label),
            pts.len(),
            line.join(" ")
        ));
        if pts.len() <= DOTS_MAX {
            for p in pts {
                svg.raw(&format!(
                    r#"<circle class="point" cx="{:.2}" cy="{:.2}" r="3.5" fill="{colour}"/>"#,
                    px(p.x),
                    py(p.y)
                ));
            }
        }
        if k < LEGEND_MAX {
            let ly = top + ph + 64.0 + 18.0 * k as f64;
            svg.line(
                left,
                ly - 4.0,
                left + 24.0,
                ly - 4.0,
                colour,
                r#"stroke-width="2""#,
            );
            svg.text(left + 30.0, ly, &legend_text(label), r#"class="legend""#);
        }
    }
    let mut y = top + ph + 64.0 + 18.0 * series.len().min(LEGEND_MAX) as f64;
    if series.len() > LEGEND_MAX {
        svg.text(
            left + 30.0,
            y,
            &format!("… and {} more series", series.len() - LEGEND_MAX),
            r#"class="legend""#,
        );
        y += 18.0;
    }
    if !f.footnote.is_empty() {
        svg.text(
            left,
            y + 4.0,
            f.footnote,
            r##"class="footnote" font-size="11" fill="#555""##,
        );
    }
    svg.finish()
}
