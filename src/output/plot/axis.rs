//! Plot axes fitted to the data, linear or log10, with a bounded number of
//! ticks whatever the values (5e-324 and 1e308 on one log axis give ≤ 12).

use super::short;

/// Most ticks an axis draws.
pub(crate) const MAX_TICKS: usize = 12;

/// One axis. For a log axis `lo`/`hi` are log10 of the ends, so no power of
/// ten is ever computed that could underflow or overflow.
pub(crate) struct Axis {
    lo: f64,
    hi: f64,
    /// Logarithmic.
    pub log: bool,
}

/// A tick: where (an axis coordinate, see [`Axis::coord`]) and its value's
/// decade and mantissa for labelling.
pub(crate) struct Tick {
    /// Axis coordinate.
    pub at: f64,
    /// The value, when it is a normal f64 (a log tick may be below f64's range).
    pub value: Option<f64>,
    /// Label text.
    pub label: String,
    /// Log axes: the decade exponent when the tick is a power of ten.
    pub decade: Option<i32>,
}

impl Axis {
    /// An axis spanning `values` (finite, and positive for a log axis: the
    /// caller leaves out what cannot be drawn) with a small margin.
    pub(crate) fn fit(values: impl Iterator<Item = f64>, log: bool) -> Axis {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            let c = if log { v.log10() } else { v };
            if c.is_finite() {
                lo = lo.min(c);
                hi = hi.max(c);
            }
        }
        if !lo.is_finite() {
            (lo, hi) = if log { (-1.0, 1.0) } else { (0.0, 1.0) };
        }
        // Halves keep hi − lo finite for values near ±f64::MAX.
        let half_span = hi / 2.0 - lo / 2.0;
        if half_span <= 0.0 {
            let d = if log {
                0.5
            } else if lo == 0.0 {
                1.0
            } else {
                lo.abs() * 0.1
            };
            return Axis {
                lo: lo - d,
                hi: hi + d,
                log,
            };
        }
        let pad = half_span * 0.08;
        let (mut a, mut b) = (lo - pad, hi + pad);
        if !a.is_finite() {
            a = lo;
        }
        if !b.is_finite() {
            b = hi;
        }
        Axis { lo: a, hi: b, log }
    }

    /// The axis coordinate of a value: itself, or its log10.
    pub(crate) fn coord(&self, v: f64) -> f64 {
        if self.log { v.log10() } else { v }
    }

    /// Position of coordinate `c` in [0, 1] (clamped: bands may reach out).
    pub(crate) fn frac_of_coord(&self, c: f64) -> f64 {
        let f = (c / 2.0 - self.lo / 2.0) / (self.hi / 2.0 - self.lo / 2.0);
        if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) }
    }

    /// Position of value `v` in [0, 1].
    pub(crate) fn frac(&self, v: f64) -> f64 {
        self.frac_of_coord(self.coord(v))
    }

    /// Ticks inside the axis, at most [`MAX_TICKS`].
    pub(crate) fn ticks(&self) -> Vec<Tick> {
        if !(self.lo.is_finite() && self.hi.is_finite() && self.hi > self.lo) {
            return Vec::new();
        }
        if self.log {
            return self.log_ticks();
        }
        super::nice_ticks(self.lo, self.hi, 6)
            .into_iter()
            .filter(|t| *t >= self.lo && *t <= self.hi)
            .take(MAX_TICKS)
            .map(|t| Tick {
                at: t,
                value: Some(t),
                label: short(t),
                decade: None,
            })
            .collect()
    }

    /// Powers of ten (every s-th when there are many decades), with 2 and 5
    /// between them when there are few, and 1–9 when the axis is under a
    /// decade. Decades are counted in integers, so the count is bounded by the
    /// span of f64 exponents (~630) before thinning.
    fn log_ticks(&self) -> Vec<Tick> {
        let (first, last) = (self.lo.ceil() as i64, self.hi.floor() as i64);
        let decades = (last - first + 1).max(0);
        let mantissas: &[f64] = match decades {
            0 | 1 => &[1.0, 2.0, 3.0, 5.0, 7.0],
            2 => &[1.0, 2.0, 5.0],
            3 => &[1.0, 3.0],
            _ => &[1.0],
        };
        let step = (decades as usize).div_ceil(MAX_TICKS - 2).max(1) as i64;
        let mut out = Vec::new();
        let mut k = self.lo.floor() as i64;
        while k <= last && out.len() < MAX_TICKS {
            if decades > 3 && (k - first).rem_euclid(step) != 0 {
                k += 1;
                continue;
            }
            for &m in mantissas {
                let at = m.log10() + k as f64;
                if at < self.lo || at > self.hi || out.len() >= MAX_TICKS {
                    continue;
                }
                let value = (m * 10f64.powi(k as i32)).max(0.0);
                let label = if (-3..=5).contains(&k) {
                    short(value)
                } else {
                    format!("{m}e{k}")
                };
                out.push(Tick {
                    at,
                    value: (value.is_normal()).then_some(value),
                    label,
                    decade: (m == 1.0).then_some(k as i32),
                });
            }
            k += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_stay_few_over_the_whole_f64_range() {
        // 5e-324 (the least subnormal) to 1e308: ~632 decades, thinned.
        let ax = Axis::fit([5e-324, 1e308].into_iter(), true);
        let t = ax.ticks();
        assert!(!t.is_empty() && t.len() <= MAX_TICKS, "{}", t.len());
        assert!(t.iter().all(|t| t.at.is_finite()));
        assert!(t.iter().any(|t| t.label.contains("e-")));
        // Within one decade: 1-2-3-5-7 ticks.
        let ax = Axis::fit([2.0, 8.0].into_iter(), true);
        let labels: Vec<String> = ax.ticks().into_iter().map(|t| t.label).collect();
        assert_eq!(labels, ["2", "3", "5", "7"]);
        // Two decades and a bit: 1, 2, 5 per decade.
        let ax = Axis::fit([0.5, 30.0].into_iter(), true);
        let labels: Vec<String> = ax.ticks().into_iter().map(|t| t.label).collect();
        assert_eq!(labels, ["0.5", "1", "2", "5", "10", "20"]);
    }

    #[test]
    fn linear_axes_survive_extreme_and_equal_values() {
        let ax = Axis::fit([-f64::MAX, f64::MAX].into_iter(), false);
        assert!(ax.ticks().len() <= MAX_TICKS);
        assert_eq!(ax.frac(0.0), 0.5);
        let ax = Axis::fit([3.0, 3.0].into_iter(), false);
        assert!(ax.frac(3.0) == 0.5 && !ax.ticks().is_empty());
        // Fitted: 0..10 gets an 8 % margin, not a round-up to 0..100.
        let ax = Axis::fit([0.0, 10.0].into_iter(), false);
        assert!((ax.frac(0.0) - 0.4 / 10.8).abs() < 1e-12);
    }
}
