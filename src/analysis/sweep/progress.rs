//! The sweep's progress on stderr: a bar weighted by the estimated work of
//! each grid point (so the ETA holds when points differ a hundredfold), the
//! points and trials done, and a one-line summary at the end.

use super::Plan;
use crate::scenario::work;
use crate::time::{SimTime, format_duration};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The bar's length in work units: large enough that rounding is invisible,
/// small enough that no sum can overflow.
const UNITS: f64 = 1e12;

/// Progress of one sweep (this shard's trials of every point).
pub struct Progress {
    bar: ProgressBar,
    /// Bar units per trial of each point (estimated events, scaled).
    per_trial: Vec<f64>,
    /// Trials not yet run, per point.
    left: Vec<AtomicU64>,
    points_done: AtomicU64,
    trials_done: AtomicU64,
    trials: u64,
    started: Instant,
    quiet: bool,
}

impl Progress {
    /// A bar for `plan` (hidden when stderr is not a terminal or `quiet`).
    pub fn new(plan: &Plan, quiet: bool) -> Progress {
        use std::io::IsTerminal;
        let (lo, hi) = plan.shard.trials(plan.trials);
        let n = hi - lo;
        // Each trial's cost is its estimated events; a point that never
        // fails still costs its start and end, so no weight is zero.
        let events: Vec<f64> = plan
            .points
            .iter()
            .map(|(_, sc)| work::estimate(sc).events.max(1.0))
            .collect();
        let total: f64 = events.iter().map(|e| e * n as f64).sum();
        let scale = if total.is_finite() && total > 0.0 {
            UNITS / total
        } else {
            0.0
        };
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::new(UNITS as u64);
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30} {percent:>3}%  {msg}  elapsed {elapsed}  ETA {eta}",
            ) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(500));
            bar
        };
        let p = Progress {
            bar,
            per_trial: events.iter().map(|e| e * scale).collect(),
            left: plan.points.iter().map(|_| AtomicU64::new(n)).collect(),
            points_done: AtomicU64::new(if n == 0 { plan.points.len() as u64 } else { 0 }),
            trials_done: AtomicU64::new(0),
            trials: n * plan.points.len() as u64,
            started: Instant::now(),
            quiet,
        };
        p.bar.set_message(p.counts());
        p
    }

    /// `3/12 points, 1200/12000 trials`.
    fn counts(&self) -> String {
        format!(
            "{}/{} points, {}/{} trials",
            self.points_done.load(Ordering::Relaxed),
            self.left.len(),
            self.trials_done.load(Ordering::Relaxed),
            self.trials
        )
    }

    /// Records `trials` more trials of grid point `point` done.
    pub fn add(&self, point: usize, trials: u64) {
        if let Some(left) = self.left.get(point)
            && left.fetch_sub(trials, Ordering::Relaxed) == trials
        {
            self.points_done.fetch_add(1, Ordering::Relaxed);
        }
        self.trials_done.fetch_add(trials, Ordering::Relaxed);
        let units = self.per_trial.get(point).copied().unwrap_or(0.0) * trials as f64;
        self.bar.inc(units.round() as u64);
        if !self.bar.is_hidden() {
            self.bar.set_message(self.counts());
        }
    }

    /// Clears the bar; returns the one-line summary to print once the
    /// output is written (None when quiet).
    pub fn finish(&self) -> Option<String> {
        self.bar.finish_and_clear();
        (!self.quiet).then(|| self.summary(self.started.elapsed().as_secs_f64()))
    }

    /// `sweep: 12 points, 12000 trials in 4.2 s (2857 trials/s)`.
    fn summary(&self, wall: f64) -> String {
        let trials = self.trials_done.load(Ordering::Relaxed);
        let rate = if wall > 0.0 {
            format!("{:.0}", trials as f64 / wall)
        } else {
            "-".into()
        };
        let took = if wall < 60.0 {
            format!("{wall:.1} s")
        } else {
            format_duration(SimTime::from_secs_f64(wall.round()))
        };
        format!(
            "sweep: {} points, {trials} trials in {took} ({rate} trials/s)",
            self.left.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Plan, Shard, parse_vary};
    use super::*;

    #[test]
    fn weights_follow_the_work_and_points_are_counted() {
        // One point fails every hour, the other every year: the first holds
        // nearly all of the bar, so the ETA is not thrown off by the second.
        let src = "name = \"x\"\nhorizon = \"30d\"\n[failures.node_crash]\nevery = \"1d\"\nlasts = \"1m\"\n";
        let axes = vec![parse_vary("failures.node_crash.every=1h,1y").unwrap()];
        let plan = Plan::new("x.toml", src, vec![], axes, 4, None, Shard::ALL).unwrap();
        let p = Progress::new(&plan, true);
        assert!(p.per_trial[0] > 100.0 * p.per_trial[1]);
        let sum: f64 = p.per_trial.iter().map(|w| w * 4.0).sum();
        assert!((sum - UNITS).abs() < 1.0, "{sum}");
        p.add(1, 3);
        assert_eq!(p.counts(), "0/2 points, 3/8 trials");
        p.add(1, 1);
        assert_eq!(p.counts(), "1/2 points, 4/8 trials");
        p.add(0, 4);
        assert_eq!(
            p.summary(2.0),
            "sweep: 2 points, 8 trials in 2.0 s (4 trials/s)"
        );
        assert_eq!(
            p.summary(125.0),
            "sweep: 2 points, 8 trials in 2m5s (0 trials/s)"
        );
    }
}
