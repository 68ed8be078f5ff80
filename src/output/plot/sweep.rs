//! `plot sweep`: a sweep column against one varied key, with 95 % interval
//! bands, one series per combination of the other varied keys.
//!
//! One pass over the rows, with hash maps from x labels and series labels to
//! their index, then one sort per series: O(rows · log rows) whatever the
//! number of distinct x values or series.

use super::axis::Axis;
use super::kind::FileKind;
use super::sweep_draw::{Frame, Point, XLabel, render};
use super::words::{Measure, column_words, key_words, unit};
use crate::error::InputError;
use crate::time::{SimTime, format_duration, parse_bandwidth, parse_duration, parse_size};
use std::collections::HashMap;

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

/// A rendered sweep plot, and one note per reason some rows were not drawn.
pub struct SweepSvg {
    /// The SVG document.
    pub svg: Vec<u8>,
    /// `N of M rows not drawn: why (at …)`, for stderr.
    pub notes: Vec<String>,
}

/// A grid value as a number and how it is measured: plain, or a duration
/// (s), size (bytes), bandwidth (bit/s).
fn numeric(v: &str) -> Option<(f64, Measure)> {
    let found = if let Ok(x) = v.parse::<f64>() {
        Some((x, Measure::Plain))
    } else if let Ok(t) = parse_duration(v) {
        Some((t.as_secs_f64(), Measure::Duration))
    } else if let Ok(b) = parse_size(v) {
        Some((b, Measure::Size))
    } else {
        parse_bandwidth(v).ok().map(|b| (b, Measure::Bandwidth))
    };
    found.filter(|(x, _)| x.is_finite())
}

/// Why a row is not drawn.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Skip {
    Empty,
    NotNumber,
    NotFinite,
    NotPositive,
    XNotPositive,
}

/// The columns the plot uses.
struct Cols {
    xi: usize,
    /// A numeric companion `KEY_seconds` of the x key, if the CSV has one.
    x_secs: Option<usize>,
    /// Key columns that make series.
    series: Vec<usize>,
    yi: usize,
    lo: Option<usize>,
    hi: Option<usize>,
    trials: usize,
    simulated: Option<usize>,
}

fn columns(
    header: &[String],
    path: &str,
    text: &str,
    opt: &SweepPlot<'_>,
) -> Result<Cols, InputError> {
    let err = |m: String| InputError::new(path, m);
    let trials = header.iter().position(|c| c == "trials");
    let (Some(trials), true) = (trials, header.iter().any(|c| c == "p_data_loss")) else {
        return Err(err(match FileKind::of(text) {
            FileKind::Sweep | FileKind::Unknown => {
                "not a sweep CSV: no `trials` and `p_data_loss` columns".into()
            }
            kind => format!("not a sweep CSV: {}", kind.advice()),
        }));
    };
    let keys = &header[..trials];
    // `K_seconds` beside `K` is K in plain seconds, not a key of its own.
    let companion = |k: &str| keys.iter().position(|c| *c == format!("{k}_seconds"));
    let is_companion = |c: &str| {
        c.strip_suffix("_seconds")
            .is_some_and(|b| keys.iter().any(|k| k == b))
    };
    let xi = keys.iter().position(|k| k == opt.x).ok_or_else(|| {
        let names: Vec<&str> = keys
            .iter()
            .map(String::as_str)
            .filter(|k| !is_companion(k))
            .collect();
        err(format!(
            "--x {}: not a varied key of this sweep (varied: {})",
            opt.x,
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        ))
    })?;
    let x_base = opt
        .x
        .strip_suffix("_seconds")
        .filter(|b| keys.iter().any(|k| k == b));
    let x_secs = if x_base.is_some() {
        Some(xi)
    } else {
        companion(opt.x)
    };
    let series = (0..trials)
        .filter(|&k| k != xi && !is_companion(&keys[k]) && x_base != Some(keys[k].as_str()))
        .collect();
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
    Ok(Cols {
        xi,
        x_secs,
        series,
        yi,
        lo: col(&format!("{base}_ci_low")),
        hi: col(&format!("{base}_ci_high")),
        trials,
        simulated: col("simulated_seconds"),
    })
}

/// Renders a sweep CSV as SVG.
pub fn plot_sweep(text: &str, path: &str, opt: &SweepPlot<'_>) -> Result<SweepSvg, InputError> {
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rd
        .headers()
        .map_err(|e| InputError::new(path, format!("not a CSV file: {e}")))?
        .iter()
        .map(String::from)
        .collect();
    let c = columns(&header, path, text, opt)?;
    let (y_words, y_measure) = column_words(opt.y);
    // Availability near 1 reads as its unavailability 1 − a on a log axis
    // (each decade one "nine"), unless a linear axis is asked for.
    let unavailability = y_measure == Measure::Availability && opt.logy != Some(false);

    let mut x_ids: HashMap<String, usize> = HashMap::new();
    let mut x_labels: Vec<XLabel> = Vec::new();
    let mut series_ids: HashMap<String, usize> = HashMap::new();
    let mut series: Vec<(String, Vec<(usize, Point)>)> = Vec::new();
    let mut skipped: Vec<(Skip, usize)> = Vec::new();
    let (mut trials_min, mut trials_max) = (u64::MAX, 0u64);
    let mut horizons: Option<(f64, f64)> = None;
    let mut rows = 0usize;
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| InputError {
            path: path.into(),
            location: Some((i + 2, 1)),
            key: None,
            message: format!("unreadable row: {e}"),
        })?;
        rows += 1;
        let x_text = &rec[c.xi];
        let x_id = match x_ids.get(x_text) {
            Some(&id) => id,
            None => {
                let num = match c.x_secs {
                    Some(k) => rec[k]
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .map(|v| (v, Measure::Duration)),
                    None => numeric(x_text),
                };
                x_labels.push((x_text.to_string(), num));
                x_ids.insert(x_text.to_string(), x_labels.len() - 1);
                x_labels.len() - 1
            }
        };
        if let Ok(n) = rec[c.trials].parse::<u64>() {
            (trials_min, trials_max) = (trials_min.min(n), trials_max.max(n));
            let h = c
                .simulated
                .and_then(|k| rec[k].parse::<f64>().ok())
                .map(|s| s / n as f64);
            if let Some(h) = h.filter(|h| h.is_finite() && *h > 0.0) {
                horizons = Some(horizons.map_or((h, h), |(a, b)| (a.min(h), b.max(h))));
            }
        }
        let label: Vec<String> = c
            .series
            .iter()
            .map(|&k| format!("{}={}", header[k], &rec[k]))
            .collect();
        let label = if label.is_empty() {
            opt.y.to_string()
        } else {
            label.join(", ")
        };
        let sid = match series_ids.get(&label) {
            Some(&id) => id,
            None => {
                series.push((label.clone(), Vec::new()));
                series_ids.insert(label, series.len() - 1);
                series.len() - 1
            }
        };
        let parse = |k: Option<usize>| {
            k.and_then(|k| rec[k].parse::<f64>().ok())
                .filter(|v| v.is_finite())
        };
        let raw = &rec[c.yi];
        let y = if raw.trim().is_empty() {
            Err(Skip::Empty)
        } else {
            match raw.parse::<f64>() {
                Err(_) => Err(Skip::NotNumber),
                Ok(v) if !v.is_finite() => Err(Skip::NotFinite),
                Ok(v) => Ok(v),
            }
        };
        match y {
            Err(why) => skipped.push((why, x_id)),
            Ok(y) => {
                let (lo, hi) = (parse(c.lo), parse(c.hi));
                let p = if unavailability {
                    Point {
                        x: 0.0,
                        y: 1.0 - y,
                        lo: hi.map(|h| 1.0 - h),
                        hi: lo.map(|l| 1.0 - l),
                    }
                } else {
                    Point { x: 0.0, y, lo, hi }
                };
                series[sid].1.push((x_id, p));
            }
        }
    }

    // The x axis: numbers in one human unit, or categories in file order.
    let categorical = x_labels.iter().any(|l| l.1.is_none());
    let x_measure = match x_labels.first().and_then(|l| l.1) {
        Some((_, m)) if !categorical && x_labels.iter().all(|l| l.1.is_some_and(|v| v.1 == m)) => m,
        _ => Measure::Plain,
    };
    let x_max = x_labels
        .iter()
        .filter_map(|l| l.1)
        .fold(0.0, |a: f64, v| a.max(v.0.abs()));
    let (x_unit, x_scale) = unit(x_measure, x_max);
    let x_of = |id: usize| -> f64 {
        if categorical {
            id as f64
        } else {
            x_labels[id].1.map_or(0.0, |v| v.0 / x_scale)
        }
    };
    let pos_x = !categorical && x_labels.iter().all(|l| l.1.is_some_and(|v| v.0 > 0.0));
    let logx = !categorical
        && opt.logx.unwrap_or_else(|| {
            let (lo, hi) = x_labels
                .iter()
                .filter_map(|l| l.1)
                .fold((f64::INFINITY, 0.0f64), |(a, b), v| {
                    (a.min(v.0), b.max(v.0))
                });
            pos_x && hi / lo >= 10.0
        });

    // The y axis: a log axis when asked, for unavailability, or when every
    // value is positive and they span a factor of 100.
    let (y_lo, y_hi) = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1.y))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    let logy = unavailability || opt.logy.unwrap_or(y_lo > 0.0 && y_hi / y_lo >= 100.0);
    let (y_unit, y_scale) = unit(y_measure, y_hi.abs().max(y_lo.abs()));
    let mut kept: Vec<(String, Vec<Point>)> = Vec::with_capacity(series.len());
    for (label, pts) in series {
        let mut out = Vec::with_capacity(pts.len());
        for (id, mut p) in pts {
            if logy && p.y <= 0.0 {
                skipped.push((Skip::NotPositive, id));
            } else if logx && x_labels[id].1.is_some_and(|v| v.0 <= 0.0) {
                skipped.push((Skip::XNotPositive, id));
            } else {
                p.x = x_of(id);
                p.y /= y_scale;
                p.lo = p.lo.map(|v| v / y_scale);
                p.hi = p.hi.map(|v| v / y_scale);
                out.push(p);
            }
        }
        out.sort_by(|a, b| a.x.total_cmp(&b.x));
        if !out.is_empty() {
            kept.push((label, out));
        }
    }
    let notes = skip_notes(&skipped, rows, opt, &x_labels, unavailability);
    let drawn: usize = kept.iter().map(|s| s.1.len()).sum();
    if drawn == 0 {
        return Err(InputError::new(
            path,
            format!(
                "--y {}: nothing to draw ({})",
                opt.y,
                notes.first().map_or("no rows".to_string(), |n| n.clone())
            ),
        ));
    }
    let ax = Axis::fit(kept.iter().flat_map(|s| s.1.iter().map(|p| p.x)), logx);
    let ay = Axis::fit(
        kept.iter().flat_map(|s| {
            s.1.iter()
                .flat_map(|p| [Some(p.y), p.lo, p.hi])
                .flatten()
                .filter(|v| !logy || *v > 0.0)
        }),
        logy,
    );

    let x_title = format!(
        "{} ({}){}{}",
        key_words(opt.x),
        opt.x,
        if x_unit.is_empty() {
            String::new()
        } else {
            format!(", {x_unit}")
        },
        if logx { ", log scale" } else { "" }
    );
    let y_title = if unavailability {
        format!(
            "{} (1 − {}), log scale",
            y_words.replace("availability", "unavailability"),
            opt.y
        )
    } else {
        format!(
            "{y_words} ({}){}{}",
            opt.y,
            if y_unit.is_empty() {
                String::new()
            } else {
                format!(", {y_unit}")
            },
            if logy { ", log scale" } else { "" }
        )
    };
    let subtitle = subtitle(
        path,
        trials_min,
        trials_max,
        horizons,
        opt.x == "horizon",
        c.lo.is_some(),
    );
    let footnote = skip_footnote(&skipped, opt.y, unavailability);
    Ok(SweepSvg {
        svg: render(
            &Frame {
                title: &format!(
                    "{} vs {}",
                    first_upper(&y_words_axis(&y_words, unavailability)),
                    key_words(opt.x)
                ),
                subtitle: &subtitle,
                x_title: &x_title,
                y_title: &y_title,
                footnote: &footnote,
                ax: &ax,
                ay: &ay,
                categorical: categorical.then_some(&x_labels[..]),
                nines: unavailability,
            },
            &kept,
        ),
        notes,
    })
}

fn y_words_axis(w: &str, unavailability: bool) -> String {
    if unavailability {
        w.replace("availability", "unavailability")
    } else {
        w.to_string()
    }
}

fn first_upper(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// "FILE · 1000 trials per point · horizon 1y per trial · shaded: 95 % interval".
fn subtitle(
    path: &str,
    tmin: u64,
    tmax: u64,
    h: Option<(f64, f64)>,
    h_varied: bool,
    bands: bool,
) -> String {
    let name = std::path::Path::new(path)
        .file_name()
        .map_or(path.into(), |n| n.to_string_lossy().into_owned());
    let mut parts = vec![name];
    if tmin == tmax {
        parts.push(format!("{tmin} trials per point"));
    } else if tmin <= tmax {
        parts.push(format!("{tmin}–{tmax} trials per point"));
    }
    // simulated_seconds / trials is each trial's horizon (SPEC §3).
    if let Some((_, b)) = h.filter(|(a, b)| !h_varied && (b - a) <= 1e-9 * b) {
        parts.push(format!(
            "horizon {} per trial",
            format_duration(SimTime::from_secs_f64(b))
        ));
    }
    if bands {
        parts.push("shaded: 95 % interval".into());
    }
    parts.join(" · ")
}

fn reason(why: Skip, y: &str, unavailability: bool) -> String {
    match why {
        Skip::Empty if y == "mttdl_seconds" => {
            "`mttdl_seconds` is empty (no trial lost data, so there is no time to data loss)".into()
        }
        Skip::Empty => format!("`{y}` is empty"),
        Skip::NotNumber => format!("`{y}` is not a number"),
        Skip::NotFinite => format!("`{y}` is infinite or NaN"),
        Skip::NotPositive if unavailability => {
            format!(
                "`{y}` is 1 (no unavailability seen), which a log axis of 1 − availability cannot show; --liny plots it"
            )
        }
        Skip::NotPositive => format!("`{y}` is ≤ 0, which a log axis cannot show; --liny plots it"),
        Skip::XNotPositive => "the x value is ≤ 0, which a log axis cannot show".into(),
    }
}

/// One note per reason: how many rows, why, and the first few x values.
fn skip_notes(
    skipped: &[(Skip, usize)],
    rows: usize,
    opt: &SweepPlot<'_>,
    x_labels: &[XLabel],
    unavailability: bool,
) -> Vec<String> {
    let mut by: Vec<(Skip, Vec<usize>)> = Vec::new();
    for &(why, x) in skipped {
        match by.iter_mut().find(|b| b.0 == why) {
            Some(b) => b.1.push(x),
            None => by.push((why, vec![x])),
        }
    }
    by.sort_by_key(|b| b.0);
    by.into_iter()
        .map(|(why, xs)| {
            let mut at: Vec<&str> = Vec::new();
            for &x in &xs {
                let l = x_labels[x].0.as_str();
                if at.len() < 4 && !at.contains(&l) {
                    at.push(l);
                }
            }
            format!(
                "{} of {rows} rows not drawn: {} (at {}={}{})",
                xs.len(),
                reason(why, opt.y, unavailability),
                opt.x,
                at.join(", "),
                if xs.len() > at.len() { ", …" } else { "" }
            )
        })
        .collect()
}

/// The same, short, for the picture.
fn skip_footnote(skipped: &[(Skip, usize)], y: &str, unavailability: bool) -> String {
    let mut kinds: Vec<Skip> = skipped.iter().map(|s| s.0).collect();
    kinds.sort();
    kinds.dedup();
    let parts: Vec<String> = kinds
        .iter()
        .map(|&k| {
            let n = skipped.iter().filter(|s| s.0 == k).count();
            let why = match k {
                Skip::Empty if y == "mttdl_seconds" => "no data loss, so no mttdl",
                Skip::Empty => "empty",
                Skip::NotNumber => "not a number",
                Skip::NotFinite => "infinite or NaN",
                Skip::NotPositive if unavailability => "availability 1",
                Skip::NotPositive => "≤ 0 on a log axis",
                Skip::XNotPositive => "x ≤ 0 on a log axis",
            };
            format!("{n} ({why})")
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("points not drawn: {}", parts.join(", "))
    }
}
