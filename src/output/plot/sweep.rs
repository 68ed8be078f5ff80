//! `plot sweep`: a sweep column against one varied key, with 95 % interval
//! bands, one series per combination of the other varied keys.

use super::{Svg, esc, nice_ticks, short};
use crate::error::InputError;
use crate::time::{parse_bandwidth, parse_duration, parse_size};

const PALETTE: [&str; 8] = [
    "#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037", "#ad1457",
];

/// What to draw.
pub struct SweepPlot<'a> {
    /// Varied key on the x axis.
    pub x: &'a str,
    /// Column on the y axis.
    pub y: &'a str,
    /// Force a log (true) or linear (false) x axis; None: automatic.
    pub logx: Option<bool>,
    /// Same for y.
    pub logy: Option<bool>,
}

/// A grid value as a number: plain, or a duration (s), size (bytes), bandwidth (bit/s).
fn numeric(v: &str) -> Option<f64> {
    v.parse::<f64>()
        .ok()
        .or_else(|| parse_duration(v).ok().map(|t| t.as_secs_f64()))
        .or_else(|| parse_size(v).ok())
        .or_else(|| parse_bandwidth(v).ok())
        .filter(|x| x.is_finite())
}

struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Axis {
    /// An axis over `values`; log when forced, or when all are positive and
    /// span a factor `auto_ratio` or more.
    fn new(values: &[f64], force: Option<bool>, auto_ratio: f64) -> Axis {
        let pos: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
        let (min, max) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let pmin = pos.iter().copied().fold(f64::INFINITY, f64::min);
        let auto = !pos.is_empty() && pos.len() == values.len() && max / pmin >= auto_ratio;
        let log = force.unwrap_or(auto) && !pos.is_empty();
        if log {
            let lo = 10f64.powf(pmin.log10().floor());
            let hi = 10f64.powf(max.log10().ceil().max(pmin.log10().floor() + 1.0));
            Axis { lo, hi, log }
        } else if min.is_finite() && max > min {
            let pad = (max - min) * 0.05;
            Axis {
                lo: min - pad,
                hi: max + pad,
                log,
            }
        } else {
            let v = if min.is_finite() { min } else { 0.0 };
            Axis {
                lo: v - 1.0,
                hi: v + 1.0,
                log,
            }
        }
    }

    /// Position in [0, 1]; values outside a log axis's range are clamped.
    fn frac(&self, v: f64) -> f64 {
        if self.log {
            let v = v.max(self.lo);
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (a, b) = (
                self.lo.log10().round() as i32,
                self.hi.log10().round() as i32,
            );
            let step = ((b - a) / 8).max(1);
            (a..=b)
                .step_by(step as usize)
                .map(|k| 10f64.powi(k))
                .collect()
        } else {
            nice_ticks(self.lo, self.hi, 6)
        }
    }
}

/// Renders a sweep CSV as SVG.
pub fn plot_sweep(text: &str, path: &str, opt: &SweepPlot<'_>) -> Result<Vec<u8>, InputError> {
    let err = |m: String| InputError::new(path, m);
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rd
        .headers()
        .map_err(|e| err(format!("not a CSV file: {e}")))?
        .iter()
        .map(String::from)
        .collect();
    let trials = header
        .iter()
        .position(|c| c == "trials")
        .ok_or_else(|| err("not a sweep CSV: no `trials` column".into()))?;
    if !header.iter().any(|c| c == "p_data_loss") {
        return Err(err("not a sweep CSV: no `p_data_loss` column".into()));
    }
    let keys = &header[..trials];
    let xi = keys.iter().position(|k| k == opt.x).ok_or_else(|| {
        err(format!(
            "--x {}: not a varied key of this sweep (varied: {})",
            opt.x,
            if keys.is_empty() {
                "none".into()
            } else {
                keys.join(", ")
            }
        ))
    })?;
    let col = |name: &str| {
        header[trials..]
            .iter()
            .position(|c| c == name)
            .map(|i| i + trials)
    };
    let yi = col(opt.y).ok_or_else(|| {
        err(format!(
            "--y {}: no such column (columns: {})",
            opt.y,
            header[trials..].join(", ")
        ))
    })?;
    let base = opt.y.strip_suffix("_mean").unwrap_or(opt.y);
    let (lo_i, hi_i) = (
        col(&format!("{base}_ci_low")),
        col(&format!("{base}_ci_high")),
    );

    // Series: one per combination of the other keys, in order of appearance.
    struct Point {
        x: f64,
        y: f64,
        lo: Option<f64>,
        hi: Option<f64>,
    }
    let mut series: Vec<(String, Vec<Point>)> = Vec::new();
    let mut x_labels: Vec<String> = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| InputError {
            path: path.into(),
            location: Some((i + 2, 1)),
            key: None,
            message: format!("unreadable row: {e}"),
        })?;
        rows.push(rec.iter().map(String::from).collect());
    }
    let categorical = rows.iter().any(|r| numeric(&r[xi]).is_none());
    for r in &rows {
        if !x_labels.contains(&r[xi]) {
            x_labels.push(r[xi].clone());
        }
    }
    for r in &rows {
        let label: Vec<String> = keys
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != xi)
            .map(|(k, name)| format!("{name}={}", r[k]))
            .collect();
        let label = if label.is_empty() {
            opt.y.to_string()
        } else {
            label.join(", ")
        };
        let Ok(y) = r[yi].parse::<f64>() else {
            continue;
        }; // empty (e.g. mttdl with no loss)
        let x = if categorical {
            x_labels.iter().position(|l| *l == r[xi]).unwrap_or(0) as f64
        } else {
            numeric(&r[xi]).unwrap_or(0.0)
        };
        let p = Point {
            x,
            y,
            lo: lo_i.and_then(|i| r[i].parse().ok()),
            hi: hi_i.and_then(|i| r[i].parse().ok()),
        };
        match series.iter_mut().find(|s| s.0 == label) {
            Some(s) => s.1.push(p),
            None => series.push((label, vec![p])),
        }
    }
    if series.iter().all(|s| s.1.is_empty()) {
        return Err(err(format!("--y {}: no numeric values to plot", opt.y)));
    }
    // Durations are shown in one human unit picked from the largest value.
    let is_duration = !categorical
        && x_labels
            .iter()
            .all(|l| l.parse::<f64>().is_err() && parse_duration(l).is_ok());
    let (x_unit, x_scale) = if is_duration {
        let max = series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.x))
            .fold(0.0, f64::max);
        [
            ("years", 365.0 * 86400.0),
            ("days", 86400.0),
            ("hours", 3600.0),
            ("minutes", 60.0),
            ("seconds", 1.0),
        ]
        .into_iter()
        .find(|(_, u)| max >= 2.0 * u)
        .unwrap_or(("seconds", 1.0))
    } else {
        ("", 1.0)
    };
    for s in &mut series {
        for p in &mut s.1 {
            p.x /= x_scale;
        }
    }
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.x))
        .collect();
    let mut ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.1.iter().flat_map(|p| [Some(p.y), p.lo, p.hi]).flatten())
        .collect();
    let logy_auto = opt.logy.unwrap_or(
        Axis::new(
            &series
                .iter()
                .flat_map(|s| s.1.iter().map(|p| p.y))
                .collect::<Vec<_>>(),
            None,
            100.0,
        )
        .log,
    );
    if logy_auto {
        ys.retain(|v| *v > 0.0);
    }
    let ax = Axis::new(&xs, if categorical { Some(false) } else { opt.logx }, 10.0);
    let ay = Axis::new(&ys, Some(logy_auto), 100.0);

    let (width, height) = (900.0, 560.0);
    let (left, right, top, bottom) = (90.0, 30.0, 50.0, 70.0 + 18.0 * series.len() as f64);
    let height = height + 18.0 * series.len() as f64;
    let (pw, ph) = (width - left - right, height - top - bottom);
    let px = |x: f64| left + ax.frac(x) * pw;
    let py = |y: f64| top + ph - ay.frac(y) * ph;
    let mut svg = Svg::new(width, height);
    svg.text(
        left,
        26.0,
        &format!("{} vs {}", opt.y, opt.x),
        r#"font-size="15" font-weight="bold""#,
    );
    svg.rect(left, top, pw, ph, "none", r##"stroke="#333""##);
    for t in ax.ticks() {
        if categorical && (t.fract() != 0.0 || t < 0.0 || t as usize >= x_labels.len()) {
            continue;
        }
        let x = px(t);
        svg.line(x, top, x, top + ph, "#000", r#"stroke-opacity="0.1""#);
        let label = if categorical {
            x_labels[t as usize].clone()
        } else {
            short(t)
        };
        svg.text(x, top + ph + 18.0, &label, r#"text-anchor="middle""#);
    }
    for t in ay.ticks() {
        let y = py(t);
        svg.line(left, y, left + pw, y, "#000", r#"stroke-opacity="0.1""#);
        svg.text(left - 6.0, y + 4.0, &short(t), r#"text-anchor="end""#);
    }
    let unit = if is_duration {
        format!(" ({x_unit})")
    } else {
        String::new()
    };
    svg.text(
        left + pw / 2.0,
        top + ph + 40.0,
        &format!("{}{unit}{}", opt.x, if ax.log { ", log scale" } else { "" }),
        r#"text-anchor="middle""#,
    );
    svg.text(
        18.0,
        top + ph / 2.0,
        &format!("{}{}", opt.y, if ay.log { ", log scale" } else { "" }),
        &format!(
            r#"text-anchor="middle" transform="rotate(-90 18 {})""#,
            top + ph / 2.0
        ),
    );
    for (k, (label, pts)) in series.iter_mut().enumerate() {
        pts.sort_by(|a, b| a.x.total_cmp(&b.x));
        let colour = PALETTE[k % PALETTE.len()];
        // 95 % interval band.
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
            svg.raw(&format!(r#"<polygon class="ci-band" points="{}" fill="{colour}" fill-opacity="0.18" stroke="none"/>"#, poly.join(" ")));
        } else {
            for p in &band {
                svg.line(
                    px(p.x),
                    py(p.lo.unwrap_or(p.y)),
                    px(p.x),
                    py(p.hi.unwrap_or(p.y)),
                    colour,
                    r#"class="ci-bar" stroke-width="1.5""#,
                );
            }
        }
        let visible: Vec<&Point> = pts.iter().filter(|p| !ay.log || p.y > 0.0).collect();
        let line: Vec<String> = visible
            .iter()
            .map(|p| format!("{:.2},{:.2}", px(p.x), py(p.y)))
            .collect();
        svg.raw(&format!(r#"<polyline class="series" data-label="{}" points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#, esc(label), line.join(" ")));
        for p in &visible {
            svg.raw(&format!(
                r#"<circle cx="{:.2}" cy="{:.2}" r="3.5" fill="{colour}"/>"#,
                px(p.x),
                py(p.y)
            ));
        }
        let ly = top + ph + 60.0 + 18.0 * k as f64;
        svg.line(
            left,
            ly - 4.0,
            left + 24.0,
            ly - 4.0,
            colour,
            r#"stroke-width="2""#,
        );
        svg.text(left + 30.0, ly, label, r#"class="legend""#);
    }
    if ay.log && series.iter().any(|s| s.1.iter().any(|p| p.y <= 0.0)) {
        svg.text(
            left + pw,
            top - 8.0,
            "points at 0 are not shown on the log scale",
            r#"text-anchor="end" font-size="11""#,
        );
    }
    Ok(svg.finish())
}
