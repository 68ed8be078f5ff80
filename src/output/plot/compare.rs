//! `compare --plot` (SPEC §5): a bar per design of its expected write
//! downtime per year, with the 95 % interval as an error bar and the SLA
//! lines as horizontal references, all from the same [`Figures`] the table,
//! `--json` and `--out` print (each bar carries them as `data-*`).

use super::axis::Axis;
use super::caption::Caption;
use super::{Svg, esc};
use crate::error::Error;
use crate::output::compare::{Figures, SLA_LINES};
use crate::scenario::Scenario;
use crate::time::{SimTime, format_duration};

/// One year (SPEC §2: `y` = 365 d) in seconds, as the figures count it.
const YEAR_S: f64 = 365.0 * 86_400.0;

/// Designs whose downtimes differ by this factor or more get a log axis.
const LOG_RATIO: f64 = 100.0;

/// Bar colours by design order (colour-blind-safe Okabe–Ito hues).
const BAR: [&str; 4] = ["#0072b2", "#e69f00", "#009e73", "#cc79a7"];

/// Human-friendly durations for axis ticks, seconds: a log axis takes
/// those inside it (the coarse ones when the fine ones are too many).
const FINE: [f64; 23] = [
    0.001, 0.01, 0.1, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0,
    21600.0, 43200.0, 86400.0, 172800.0, 604800.0, 2592000.0, 8640000.0, YEAR_S,
];
const COARSE: [f64; 12] = [
    0.001, 0.01, 0.1, 1.0, 10.0, 60.0, 600.0, 3600.0, 86400.0, 864000.0, 8640000.0, YEAR_S,
];

/// The downtime per year of a design and its 95 % interval, in seconds:
/// (1 − availability) × year, the interval's ends swapped (high
/// availability is low downtime).
pub(crate) fn downtime(f: &Figures) -> (f64, Option<(f64, f64)>) {
    let ci = match (f.write_availability_ci_low, f.write_availability_ci_high) {
        (Some(lo), Some(hi)) => Some(((1.0 - hi) * YEAR_S, (1.0 - lo) * YEAR_S)),
        _ => None,
    };
    (f.downtime_seconds_per_year, ci)
}

/// The SLA line `pct` % as downtime per year, seconds.
pub(crate) fn sla_downtime(pct: f64) -> f64 {
    (1.0 - pct / 100.0) * YEAR_S
}

/// A duration label: "0s", "850ms", "1m22s", "4h22m48s" (whole seconds
/// from 10 s up, so a label stays short).
pub(crate) fn human(s: f64) -> String {
    if s.is_nan() || s <= 0.0 {
        return "0s".into();
    }
    let t = if s >= 10.0 {
        s.round()
    } else {
        (s * 1e3).round() / 1e3
    };
    format_duration(SimTime::from_secs_f64(t))
}

/// Renders the bar chart of `figs` under `caption` (its facts line is the
/// subtitle: trials, horizon, seed).
pub fn plot_compare(caption: &Caption, subtitle: &str, figs: &[Figures]) -> Vec<u8> {
    let bars: Vec<(f64, Option<(f64, f64)>)> = figs.iter().map(downtime).collect();
    let positive: Vec<f64> = bars.iter().map(|b| b.0).filter(|v| *v > 0.0).collect();
    let (lo, hi) = positive
        .iter()
        .fold((f64::INFINITY, 0f64), |(l, h), &v| (l.min(v), h.max(v)));
    let log = !positive.is_empty() && hi / lo >= LOG_RATIO;
    // The axis spans the bars, their intervals, the SLA lines among them and
    // the first SLA line above them, so a reader sees the nearest line a
    // design would cross.
    let top = bars
        .iter()
        .map(|b| b.1.map_or(b.0, |c| c.1.max(b.0)))
        .fold(0f64, f64::max);
    let slas: Vec<(f64, f64)> = {
        let mut v: Vec<(f64, f64)> = SLA_LINES.iter().map(|&p| (p, sla_downtime(p))).collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1));
        let above = v.iter().position(|l| l.1 > top).map_or(v.len(), |i| i + 1);
        v.truncate(above);
        v
    };
    let mut span: Vec<f64> = slas.iter().map(|l| l.1).collect();
    span.push(top);
    let axis = if log {
        // The lowest end: the smallest positive bar or interval end.
        let low = bars
            .iter()
            .flat_map(|b| [Some(b.0), b.1.map(|c| c.0)])
            .flatten()
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        span.retain(|v| *v >= low);
        span.push(low);
        Axis::fit(span.into_iter(), true)
    } else {
        span.push(0.0);
        Axis::fit(span.into_iter(), false)
    };

    let description = caption.description_lines();
    let (left, right, width) = (100.0, 190.0, 980.0);
    let plot_top = 40.0 + 15.0 * description.len() as f64 + 36.0;
    let plot_h = 340.0;
    let base = plot_top + plot_h;
    let height = base + 100.0;
    let plot_w = width - left - right;
    let y_of = |v: f64| {
        let f = if log && v <= 0.0 { 0.0 } else { axis.frac(v) };
        base - f * plot_h
    };
    // A linear axis starts a little below 0 (Axis::fit's margin): bars
    // start at 0 itself.
    let zero_y = if log { base } else { y_of(0.0) };
    let mut svg = Svg::new(width, height);
    caption.draw(&mut svg, left, &description, subtitle);

    // The value axis: ticks at human durations, labelled as such.
    svg.line(left, plot_top, left, base, "#333", "");
    svg.line(left, base, left + plot_w, base, "#333", "");
    for (v, label) in ticks(&axis, log, &slas, top) {
        let y = y_of(v);
        svg.line(left - 5.0, y, left, y, "#333", "");
        svg.line(
            left,
            y,
            left + plot_w,
            y,
            "#000",
            r#"stroke-opacity="0.08""#,
        );
        svg.text(
            left - 8.0,
            y + 4.0,
            &label,
            r#"class="value-tick" text-anchor="end""#,
        );
    }
    svg.text(
        18.0,
        plot_top + plot_h / 2.0,
        &format!(
            "write downtime per year{}",
            if log { " (log scale)" } else { "" }
        ),
        &format!(
            r#"text-anchor="middle" transform="rotate(-90 18 {:.2})""#,
            plot_top + plot_h / 2.0
        ),
    );

    // The SLA lines, dashed, named at the right.
    for &(pct, d) in &slas {
        let y = y_of(d);
        svg.line(
            left,
            y,
            left + plot_w,
            y,
            "#c62828",
            &format!(
                r#"class="sla-line" data-sla="{pct}" data-downtime-seconds-per-year="{d}" stroke-width="1.2" stroke-dasharray="6 4""#
            ),
        );
        svg.text(
            left + plot_w + 6.0,
            y + 4.0,
            &format!("{pct} % SLA: {}/yr", human(d)),
            r##"class="sla-label" fill="#c62828""##,
        );
    }

    // The bars.
    let n = figs.len().max(1) as f64;
    let slot = plot_w / n;
    let bar_w = (slot * 0.5).min(110.0);
    for (i, (f, &(d, ci))) in figs.iter().zip(&bars).enumerate() {
        let cx = left + slot * (i as f64 + 0.5);
        let y = y_of(d).min(zero_y);
        let (lo_attr, hi_attr) = ci.map_or((String::new(), String::new()), |c| {
            (c.0.to_string(), c.1.to_string())
        });
        svg.rect(
            cx - bar_w / 2.0,
            y,
            bar_w,
            (zero_y - y).max(0.0),
            BAR[i % BAR.len()],
            &format!(
                r#"class="bar" data-design="{}" data-downtime-seconds-per-year="{d}" data-ci-low="{lo_attr}" data-ci-high="{hi_attr}" data-trials="{}""#,
                esc(f.design),
                f.trials
            ),
        );
        let mut label_y = y;
        if let Some((a, b)) = ci {
            let (ya, yb) = (y_of(a).min(zero_y), y_of(b));
            let e = r#"class="error-bar" stroke-width="1.5""#;
            svg.line(cx, ya, cx, yb, "#222", e);
            for yy in [ya, yb] {
                svg.line(cx - 8.0, yy, cx + 8.0, yy, "#222", e);
            }
            label_y = label_y.min(yb);
        }
        svg.text(
            cx,
            label_y - 6.0,
            &human(d),
            r#"class="bar-label" text-anchor="middle" font-weight="bold""#,
        );
        svg.text(
            cx,
            base + 18.0,
            f.design,
            r#"class="design" text-anchor="middle""#,
        );
        let met = SLA_LINES
            .iter()
            .zip(f.sla_met)
            .filter(|(_, m)| *m)
            .map(|(l, _)| format!("{l}"))
            .collect::<Vec<_>>();
        svg.text(
            cx,
            base + 34.0,
            &if met.is_empty() {
                "meets no SLA line".to_string()
            } else {
                format!("meets {} %", met.join(" / "))
            },
            r##"class="design-sla" text-anchor="middle" font-size="10" fill="#555""##,
        );
    }

    // Legend.
    let ly = base + 62.0;
    let mut x = left;
    svg.line(
        x + 6.0,
        ly,
        x + 6.0,
        ly + 12.0,
        "#222",
        r#"stroke-width="1.5""#,
    );
    for yy in [ly, ly + 12.0] {
        svg.line(x, yy, x + 12.0, yy, "#222", r#"stroke-width="1.5""#);
    }
    let interval = if bars.iter().any(|b| b.1.is_some()) {
        "95 % interval of the mean"
    } else {
        "one trial: no interval"
    };
    svg.text(x + 18.0, ly + 10.5, interval, r#"class="legend""#);
    x += 40.0 + interval.len() as f64 * 6.5;
    svg.line(
        x,
        ly + 6.0,
        x + 18.0,
        ly + 6.0,
        "#c62828",
        r#"stroke-width="1.2" stroke-dasharray="6 4""#,
    );
    let sla = "monthly SLA line as downtime per year: (1 − SLA) × 365 d";
    svg.text(x + 24.0, ly + 10.5, sla, r#"class="legend""#);
    svg.finish()
}

/// Ticks of the value axis, at human durations: the nice values of a
/// linear axis in a unit that fits its top, or the [`FINE`] / [`COARSE`]
/// durations inside a log axis.
fn ticks(axis: &Axis, log: bool, slas: &[(f64, f64)], top: f64) -> Vec<(f64, String)> {
    if log {
        let fine: Vec<f64> = FINE
            .iter()
            .copied()
            .filter(|&v| in_log_range(axis, v))
            .collect();
        let pick = if fine.len() <= 10 {
            fine
        } else {
            COARSE
                .iter()
                .copied()
                .filter(|&v| in_log_range(axis, v))
                .collect()
        };
        return pick.into_iter().map(|v| (v, human(v))).collect();
    }
    let max = slas.iter().map(|l| l.1).fold(top, f64::max);
    let unit = [(86400.0, "d"), (3600.0, "h"), (60.0, "m"), (1.0, "s")]
        .into_iter()
        .find(|(u, _)| max >= 2.0 * u)
        .map_or(1.0, |(u, _)| u);
    super::nice_ticks(0.0, max / unit, 6)
        .into_iter()
        .map(|t| t * unit)
        .filter(|&v| axis.frac(v) > 0.0 && axis.frac(v) < 1.0 || v == 0.0)
        .map(|v| (v, if v == 0.0 { "0".into() } else { human(v) }))
        .collect()
}

/// Whether `v` lies strictly inside the log axis (not clamped to an end).
fn in_log_range(axis: &Axis, v: f64) -> bool {
    let f = axis.frac(v);
    f > 0.0 && f < 1.0
}

/// `compare --plot`: the bar chart of `figs`, or, for the replay form, the
/// lanes of each design's `timelines` (design name, timeline CSV).
pub fn compare_svg(
    sc: &Scenario,
    trials: u64,
    figs: &[Figures],
    timelines: Option<&[(&str, Vec<u8>)]>,
) -> Result<Vec<u8>, Error> {
    let horizon = format_duration(sc.horizon);
    match timelines {
        Some(tls) => {
            let caption = Caption {
                title: format!("{} — what this incident did to each design", sc.name),
                description: sc.description.clone(),
                note: None,
            };
            let sub = format!(
                "replay: one trial of {horizon}, seed {} · the same scripted events in every design",
                sc.seed
            );
            super::plot_replay(&caption, &sub, tls)
                .map_err(|e| Error::Internal(format!("plotting the replay: {e}")))
        }
        None => {
            let caption = Caption {
                title: format!("{} — expected write downtime per year by design", sc.name),
                description: sc.description.clone(),
                note: None,
            };
            let sub = format!(
                "{trials} trial{} of {horizon} each, seed {} · the same failures in every design",
                if trials == 1 { "" } else { "s" },
                sc.seed
            );
            Ok(plot_compare(&caption, &sub, figs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sla_lines_as_downtime_per_year() {
        // (1 − 0.9999) × 31,536,000 s = 3,153.6 s = 52 min 33.6 s, shown as
        // whole seconds; 99.5 % is 0.005 × 365 d = 1.825 d = 1 d 19 h 48 min.
        assert!((sla_downtime(99.99) - 3153.6).abs() < 1e-6);
        assert_eq!(human(sla_downtime(99.99)), "52m34s");
        assert_eq!(human(sla_downtime(99.5)), "1d19h48m");
        assert_eq!(human(82.4), "1m22s");
        assert_eq!(human(0.25), "250ms");
        assert_eq!(human(0.0), "0s");
    }

    fn figures(design: &'static str, downtime_s: f64) -> Figures {
        let a = 1.0 - downtime_s / YEAR_S;
        Figures {
            design,
            trials: 10,
            write_availability_mean: a,
            write_availability_ci_low: Some(a - 1e-6),
            write_availability_ci_high: Some((a + 1e-6).min(1.0)),
            read_availability_mean: a,
            read_availability_ci_low: None,
            read_availability_ci_high: None,
            downtime_seconds_per_year: downtime_s,
            outages_per_year: 1.0,
            failovers_per_year: 0.0,
            longest_outage_seconds: downtime_s,
            p_data_loss: 0.0,
            lost_write_seconds_mean: 0.0,
            lost_write_seconds_max: 0.0,
            storage_write_unavailable_seconds_mean: 0.0,
            compute_write_unavailable_seconds_mean: 0.0,
            sla_met: SLA_LINES.map(|l| a * 100.0 >= l),
            skipped: Vec::new(),
            difference: None,
        }
    }

    #[test]
    fn a_log_axis_from_a_hundredfold_difference_on() {
        let cap = Caption {
            title: "t".into(),
            description: None,
            note: None,
        };
        let svg = |b: f64| {
            let figs = [figures("aurora", 30.0), figures("rds-single-az", b)];
            String::from_utf8(plot_compare(&cap, "s", &figs)).unwrap()
        };
        // 30 s against 2,999 s is 99.97×: linear; against 3,000 s, 100×: log.
        assert!(!svg(2999.0).contains("(log scale)"));
        let log = svg(3000.0);
        assert!(log.contains("(log scale)"));
        assert!(roxmltree::Document::parse(&log).is_ok());
        // A log axis labels human durations: 1m, 10m, 1h lie within 30 s … 1 h
        // (the axis reaches the 99.99 % line, 52m34s, and a margin beyond).
        for label in [">1m<", ">10m<", ">1h<"] {
            assert!(log.contains(label), "{label}");
        }
    }
}
