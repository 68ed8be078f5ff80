//! The time axis of a timeline plot: linear, except that long stretches in
//! which nothing changes are shortened to a fixed width and marked `//`, so a
//! 2 h incident in a 12 h horizon fills the picture instead of a sixth of it.

use super::{Svg, nice_ticks, short};
use crate::time::{SimTime, format_duration};

/// Width of a shortened stretch, px.
const BREAK_W: f64 = 30.0;
/// A stretch is shortened only if it is at least this fraction of the span …
const MIN_GAP_FRACTION: f64 = 0.10;
/// … and the shortened stretches together save at least this fraction.
const MIN_SAVED_FRACTION: f64 = 0.25;
/// Most stretches shortened (the longest ones).
const MAX_BREAKS: usize = 8;

/// One piece of the axis: times [t0, t1] drawn over pixels [x0, x1].
#[derive(Clone, Copy, Debug)]
struct Seg {
    t0: f64,
    t1: f64,
    x0: f64,
    x1: f64,
    shortened: bool,
}

/// A piecewise-linear, increasing map from time to x.
pub(crate) struct TimeScale {
    segs: Vec<Seg>,
    /// Display unit: name and seconds.
    pub unit: (&'static str, f64),
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

/// The instants of a timeline, seen one at a time: what a [`TimeScale`]
/// needs of them in bounded memory (the ends and the longest stretches).
#[derive(Default)]
pub(crate) struct Gaps {
    ends: Option<(f64, f64)>,
    /// The longest stretches so far, longest first (earlier first on ties),
    /// at most [`MAX_BREAKS`]: the only ones that can be shortened.
    longest: Vec<(f64, f64)>,
}

impl Gaps {
    /// The next instant (not before the last).
    pub(crate) fn push(&mut self, t: f64) {
        let Some((first, last)) = self.ends else {
            self.ends = Some((t, t));
            return;
        };
        self.ends = Some((first, t));
        let len = t - last;
        let at = self.longest.partition_point(|g| g.1 - g.0 >= len);
        if at < MAX_BREAKS {
            self.longest.insert(at, (last, t));
            self.longest.truncate(MAX_BREAKS);
        }
    }

    /// The scale onto `[left, left + width]`, shortening the stretches that
    /// are long enough (see the constants). Needs at least one instant.
    pub(crate) fn scale(&self, left: f64, width: f64) -> TimeScale {
        let (t0, t1) = self.ends.unwrap_or((0.0, 0.0));
        TimeScale::from_gaps(t0, t1, self.longest.clone(), left, width)
    }
}

impl TimeScale {
    /// A scale over `[times[0], last]` onto `[left, left + width]`. `times`
    /// are the instants where something changes, increasing; the stretches
    /// between them that are long enough are shortened (see the constants).
    #[cfg(test)]
    pub(crate) fn new(times: &[f64], left: f64, width: f64) -> TimeScale {
        let mut gaps = Gaps::default();
        for &t in times {
            gaps.push(t);
        }
        gaps.scale(left, width)
    }

    fn from_gaps(t0: f64, t1: f64, mut gaps: Vec<(f64, f64)>, left: f64, width: f64) -> TimeScale {
        let span = (t1 - t0).max(1e-6);
        gaps.retain(|(a, b)| b - a >= MIN_GAP_FRACTION * span);
        let saved: f64 = gaps.iter().map(|g| g.1 - g.0).sum();
        // Nothing left to draw linearly (every stretch long: a timeline of
        // a few rows) would leave the axis all breaks and the width unused.
        if saved < MIN_SAVED_FRACTION * span
            || saved >= span
            || width <= BREAK_W * (gaps.len() as f64 + 2.0)
        {
            gaps.clear();
        }
        gaps.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Linear pieces share what the breaks leave, in proportion to time.
        let linear_t = span - gaps.iter().map(|g| g.1 - g.0).sum::<f64>();
        let linear_w = width - BREAK_W * gaps.len() as f64;
        let per_s = if linear_t > 0.0 {
            linear_w / linear_t
        } else {
            0.0
        };
        let mut segs = Vec::with_capacity(2 * gaps.len() + 1);
        let (mut t, mut x) = (t0, left);
        for &(a, b) in gaps.iter().chain(std::iter::once(&(t1, t1))) {
            if a > t {
                let w = (a - t) * per_s;
                segs.push(Seg {
                    t0: t,
                    t1: a,
                    x0: x,
                    x1: x + w,
                    shortened: false,
                });
                x += w;
            }
            if b > a {
                segs.push(Seg {
                    t0: a,
                    t1: b,
                    x0: x,
                    x1: x + BREAK_W,
                    shortened: true,
                });
                x += BREAK_W;
            }
            t = b;
        }
        if segs.is_empty() {
            segs.push(Seg {
                t0,
                t1: t0 + span,
                x0: left,
                x1: left + width,
                shortened: false,
            });
        }
        TimeScale {
            segs,
            unit: time_unit(span),
        }
    }

    /// x of time `t` (clamped to the axis).
    pub(crate) fn x(&self, t: f64) -> f64 {
        let i = self
            .segs
            .partition_point(|s| s.t1 < t)
            .min(self.segs.len() - 1);
        let s = &self.segs[i];
        if t <= s.t0 {
            return s.x0;
        }
        let f = if s.t1 > s.t0 {
            (t - s.t0) / (s.t1 - s.t0)
        } else {
            0.0
        };
        s.x0 + f.min(1.0) * (s.x1 - s.x0)
    }

    /// Whether any stretch was shortened.
    pub(crate) fn has_breaks(&self) -> bool {
        self.segs.iter().any(|s| s.shortened)
    }

    /// Draws the axis line, ticks and labels at `axis_y`, grid lines up to
    /// `top`, and a `//` mark with the stretch's length at each break.
    pub(crate) fn draw(&self, svg: &mut Svg, top: f64, axis_y: f64) {
        let (name, unit_s) = self.unit;
        let mut last_label = f64::NEG_INFINITY;
        let label = |svg: &mut Svg, x: f64, t: f64, last: &mut f64| {
            if x - *last < 34.0 {
                return;
            }
            *last = x;
            svg.line(x, axis_y, x, axis_y + 5.0, "#333", "");
            svg.line(x, top, x, axis_y, "#000", r#"stroke-opacity="0.08""#);
            svg.text(
                x,
                axis_y + 18.0,
                // Two decimals at most: a piece after a break starts anywhere.
                &short((t / unit_s * 100.0).round() / 100.0),
                r#"class="time-tick" text-anchor="middle""#,
            );
        };
        let mut last_break_label = f64::NEG_INFINITY;
        for s in &self.segs {
            if s.shortened {
                self.draw_break(svg, s, top, axis_y, &mut last_break_label);
                continue;
            }
            svg.line(s.x0, axis_y, s.x1, axis_y, "#333", "");
            let n = ((s.x1 - s.x0) / 80.0).round().max(1.0) as usize;
            let ticks = nice_ticks(s.t0 / unit_s, s.t1 / unit_s, n);
            // A piece that follows a break starts with its own time.
            if s.t0 > self.segs[0].t0 && s.x1 - s.x0 >= 34.0 {
                label(svg, s.x0, s.t0, &mut last_label);
            }
            for t in ticks {
                let ts = t * unit_s;
                if ts >= s.t0 - 1e-9 * unit_s && ts <= s.t1 + 1e-9 * unit_s {
                    label(svg, self.x(ts), ts, &mut last_label);
                }
            }
        }
        // The end of the axis is the horizon: always labelled.
        if let Some(s) = self.segs.last()
            && s.x1 - last_label >= 34.0
        {
            label(svg, s.x1, s.t1, &mut last_label);
        }
        svg.text(
            (self.segs[0].x0 + self.segs[self.segs.len() - 1].x1) / 2.0,
            axis_y + 44.0,
            &format!("time ({name})"),
            r#"text-anchor="middle""#,
        );
    }

    fn draw_break(&self, svg: &mut Svg, s: &Seg, top: f64, axis_y: f64, last_label: &mut f64) {
        let mid = (s.x0 + s.x1) / 2.0;
        // A white gap through everything drawn above the axis, then `//`.
        svg.rect(
            mid - 4.0,
            top - 2.0,
            8.0,
            axis_y - top + 4.0,
            "white",
            r#"class="time-break""#,
        );
        for dx in [-4.0, 2.0] {
            svg.line(
                mid + dx - 3.0,
                axis_y + 6.0,
                mid + dx + 3.0,
                axis_y - 6.0,
                "#333",
                r#"stroke-width="1.5""#,
            );
        }
        svg.line(s.x0, axis_y, mid - 7.0, axis_y, "#333", "");
        svg.line(mid + 7.0, axis_y, s.x1, axis_y, "#333", "");
        // Lengths of breaks closer than a label's width: the first says it.
        if mid - *last_label < 48.0 {
            return;
        }
        *last_label = mid;
        let len = format_duration(SimTime::from_secs_f64((s.t1 - s.t0).round()));
        svg.text(
            mid,
            axis_y + 30.0,
            &format!("+{len}"),
            r##"font-size="10" fill="#555" text-anchor="middle""##,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_tail_is_shortened_and_the_incident_gets_the_width() {
        // repair-race: changes from 1 h to 2 h 50 min, then nothing until 12 h.
        let times = [0.0, 3600.0, 4200.0, 6600.0, 10200.0, 43200.0];
        let s = TimeScale::new(&times, 0.0, 830.0);
        assert!(s.has_breaks());
        // 0 … 10200 s is linear over 830 − 30 px; the 9 h tail is the 30 px break.
        assert!((s.x(10200.0) - 800.0).abs() < 1e-9);
        assert!((s.x(43200.0) - 830.0).abs() < 1e-9);
        assert!((s.x(5100.0) - 400.0).abs() < 1e-9);
        // The 1 h lead-in is 8 % of the span: kept linear.
        assert!((s.x(3600.0) - 3600.0 * 800.0 / 10200.0).abs() < 1e-9);
    }

    /// The scale as it was built before it was streamed (issue 13): from
    /// all the instants at once. Kept as the reference the streamed one
    /// must equal exactly.
    fn from_all_times(times: &[f64], left: f64, width: f64) -> TimeScale {
        let (t0, t1) = (times[0], times[times.len() - 1]);
        let span = (t1 - t0).max(1e-6);
        let mut gaps: Vec<(f64, f64)> = times
            .windows(2)
            .map(|w| (w[0], w[1]))
            .filter(|(a, b)| b - a >= MIN_GAP_FRACTION * span)
            .collect();
        gaps.sort_by(|a, b| (b.1 - b.0).total_cmp(&(a.1 - a.0)));
        gaps.truncate(MAX_BREAKS);
        TimeScale::from_gaps(t0, t1, gaps, left, width)
    }

    #[test]
    fn streamed_gaps_give_the_scale_all_the_times_give() {
        // See: issue 13. Ties (equal stretches) and more long stretches than
        // MAX_BREAKS are where a streamed top-k could differ.
        let (mut x, mut shortened) = (7u64, 0);
        for case in 0..300 {
            let mut times = vec![0.0];
            for _ in 0..(case % 40 + 1) {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let step = match (x >> 60) % 4 {
                    0 => 100.0,
                    1 => ((x >> 20) % 1000) as f64,
                    2 => ((x >> 30) % 7) as f64 * 250.0,
                    _ => 1.5,
                };
                times.push(times[times.len() - 1] + step);
            }
            let a = TimeScale::new(&times, 110.0, 860.0);
            let b = from_all_times(&times, 110.0, 860.0);
            assert_eq!(
                format!("{:?}", a.segs),
                format!("{:?}", b.segs),
                "{times:?}"
            );
            shortened += usize::from(a.has_breaks());
        }
        assert!(shortened > 50, "{shortened} of 300 cases have breaks");
    }

    #[test]
    fn a_timeline_of_long_stretches_only_stays_linear() {
        // 0, 1 h, 3 h, 6 h: every stretch is over a tenth of the span, so
        // shortening them all would leave no linear piece to spread over
        // the width; the axis stays linear instead.
        let s = TimeScale::new(&[0.0, 3600.0, 10800.0, 21600.0], 0.0, 600.0);
        assert!(!s.has_breaks());
        assert!((s.x(10800.0) - 300.0).abs() < 1e-9);
    }

    #[test]
    fn evenly_busy_runs_stay_linear() {
        let times: Vec<f64> = (0..=100).map(|i| i as f64 * 10.0).collect();
        let s = TimeScale::new(&times, 10.0, 500.0);
        assert!(!s.has_breaks());
        assert!((s.x(500.0) - 260.0).abs() < 1e-9);
        // Monotone and clamped.
        assert_eq!(s.x(-5.0), 10.0);
        assert_eq!(s.x(5000.0), 510.0);
    }
}
