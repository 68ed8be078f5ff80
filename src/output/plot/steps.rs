//! Step lines of counts over time, reduced to at most four points per pixel
//! column (the value before, the least, the most and the value after), so a
//! million changes draw as a few thousand points that look the same; and the
//! log-like count axis they are drawn on.

use super::{Svg, short};
use std::fmt::Write;

/// The changes in one pixel column.
#[derive(Clone, Copy)]
struct Column {
    p: usize,
    /// x of the first change in the column.
    x: f64,
    before: u64,
    min: u64,
    max: u64,
    after: u64,
    changes: u32,
}

/// A step line being built from the changes of one count, in time order.
pub(crate) struct StepLine {
    points: Vec<(f64, u64)>,
    open: Option<Column>,
    value: u64,
    left: f64,
}

impl StepLine {
    /// A line starting at `left` with `value`.
    pub(crate) fn new(left: f64, value: u64) -> StepLine {
        StepLine {
            points: vec![(left, value)],
            open: None,
            value,
            left,
        }
    }

    /// The count is `v` from `x` on (x never decreases).
    pub(crate) fn set(&mut self, x: f64, v: u64) {
        if v == self.value {
            return;
        }
        let p = (x - self.left).max(0.0).floor() as usize;
        match &mut self.open {
            Some(c) if c.p == p => {
                c.min = c.min.min(v);
                c.max = c.max.max(v);
                c.after = v;
                c.changes += 1;
            }
            open => {
                if let Some(c) = open.take() {
                    Self::flush(&mut self.points, c);
                }
                *open = Some(Column {
                    p,
                    x,
                    before: self.value,
                    min: self.value.min(v),
                    max: self.value.max(v),
                    after: v,
                    changes: 1,
                });
            }
        }
        self.value = v;
    }

    fn flush(points: &mut Vec<(f64, u64)>, c: Column) {
        points.push((c.x, c.before));
        if c.changes > 1 {
            points.push((c.x, c.min));
            points.push((c.x, c.max));
        }
        points.push((c.x, c.after));
    }

    /// The points up to `right`, as (x, count).
    pub(crate) fn finish(mut self, right: f64) -> Vec<(f64, u64)> {
        if let Some(c) = self.open.take() {
            Self::flush(&mut self.points, c);
        }
        self.points.push((right, self.value));
        self.points
    }
}

/// A count axis on which 0 and 1 are as far apart as 1 and 10 are from 1000
/// and 10 000: y grows with log10(1 + n), so a single PG without quorum shows
/// beside thousands of degraded ones.
pub(crate) struct CountAxis {
    /// The count at the top: 1, 2 or 5 × 10^k, at least the largest count.
    pub top: u64,
    /// Pixel rows: top and bottom.
    pub y0: f64,
    pub y1: f64,
}

impl CountAxis {
    /// An axis for counts up to `max` over pixel rows `y0` (top) … `y1`.
    pub(crate) fn new(max: u64, y0: f64, y1: f64) -> CountAxis {
        let mut top = u64::MAX;
        'find: for k in 0..20u32 {
            for m in [1u64, 2, 5] {
                let t = m.saturating_mul(10u64.saturating_pow(k));
                if t >= max {
                    top = t;
                    break 'find;
                }
            }
        }
        CountAxis { top, y0, y1 }
    }

    /// y of a count.
    pub(crate) fn y(&self, n: u64) -> f64 {
        let f = (1.0 + n as f64).log10() / (1.0 + self.top as f64).log10();
        self.y1 - f.clamp(0.0, 1.0) * (self.y1 - self.y0)
    }

    /// Tick counts: 0, the powers of ten up to the top, with 2 and 5 between
    /// them when the axis spans at most two decades, and the top.
    pub(crate) fn ticks(&self) -> Vec<u64> {
        let few = self.top <= 100;
        let mut out = vec![0];
        let mut d: u64 = 1;
        loop {
            for m in [1u64, 2, 5] {
                let t = d.saturating_mul(m);
                if t <= self.top && (m == 1 || few) && out.last() != Some(&t) {
                    out.push(t);
                }
            }
            match d.checked_mul(10) {
                Some(n) if n <= self.top => d = n,
                _ => break,
            }
        }
        if out.last() != Some(&self.top) {
            out.push(self.top);
        }
        out
    }

    /// Grid lines and labels at the ticks, from `left` to `right`.
    pub(crate) fn draw(&self, svg: &mut Svg, left: f64, right: f64) {
        let mut last_y = f64::INFINITY;
        for n in self.ticks() {
            let y = self.y(n);
            if last_y - y < 12.0 && n != self.top {
                continue; // no room for its label
            }
            last_y = y;
            let (stroke, opacity) = if n == 0 {
                ("#999", "1")
            } else {
                ("#000", "0.08")
            };
            svg.line(
                left,
                y,
                right,
                y,
                stroke,
                &format!(r#"stroke-opacity="{opacity}""#),
            );
            svg.text(
                left - 6.0,
                y + 4.0,
                &short(n as f64),
                r#"class="count-tick" text-anchor="end" font-size="11""#,
            );
        }
    }
}

/// A path through `points` on `axis`, with `attrs` (class, colour …). Runs
/// at zero are left out (the axis line shows them), so lines that are zero
/// most of the time do not hide one another along the bottom.
pub(crate) fn step_path(svg: &mut Svg, points: &[(f64, u64)], axis: &CountAxis, attrs: &str) {
    let mut d = String::with_capacity(points.len() * 14);
    let mut pen_down = false;
    for (i, &(x, n)) in points.iter().enumerate() {
        let next_zero = points.get(i + 1).is_none_or(|p| p.1 == 0);
        if n == 0 && next_zero {
            if pen_down {
                let _ = write!(d, " L{x:.1},{:.1}", axis.y(0));
            }
            pen_down = false;
            continue;
        }
        let cmd = if pen_down { " L" } else { " M" };
        let _ = write!(d, "{cmd}{x:.1},{:.1}", axis.y(n));
        pen_down = true;
    }
    if d.is_empty() {
        // Zero throughout: an empty path, so the line is still there to find.
        let _ = write!(
            d,
            " M{:.1},{:.1}",
            points.first().map_or(0.0, |p| p.0),
            axis.y(0)
        );
    }
    svg.raw(&format!(r#"<path d="{}" fill="none" {attrs}/>"#, &d[1..]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_changes_in_a_column_keep_their_extremes_only() {
        let mut s = StepLine::new(0.0, 0);
        s.set(10.2, 5);
        for i in 0..1000 {
            s.set(20.0 + i as f64 / 1000.0, (i % 7) as u64 * 100);
        }
        s.set(30.5, 2);
        let p = s.finish(50.0);
        assert_eq!(
            p,
            [
                (0.0, 0),
                (10.2, 0),
                (10.2, 5),
                (20.0, 5),
                (20.0, 0),
                (20.0, 600),
                (20.0, 500),
                (30.5, 500),
                (30.5, 2),
                (50.0, 2)
            ]
        );
    }

    #[test]
    fn count_axes_end_on_a_round_count() {
        let a = CountAxis::new(6554, 0.0, 100.0);
        assert_eq!(a.top, 10_000);
        assert_eq!(a.ticks(), [0, 1, 10, 100, 1000, 10_000]);
        assert_eq!(a.y(0), 100.0);
        assert_eq!(a.y(10_000), 0.0);
        let a = CountAxis::new(35, 0.0, 100.0);
        assert_eq!(a.ticks(), [0, 1, 2, 5, 10, 20, 50]);
        assert_eq!(CountAxis::new(0, 0.0, 1.0).ticks(), [0, 1]);
        assert_eq!(CountAxis::new(503, 0.0, 1.0).ticks(), [0, 1, 10, 100, 1000]);
        let a = CountAxis::new(u64::MAX, 0.0, 100.0);
        assert_eq!(a.top, u64::MAX);
        assert!(a.ticks().len() <= 22 && a.y(u64::MAX) == 0.0);
    }
}
