//! What a sweep may ask for, checked before any work: grid points, shards,
//! threads, trials × points, and the estimated events.

use super::{Axis, Plan, dimensions};
use crate::error::Error;
use crate::scenario::work;

/// Most grid points a sweep takes (one axis or the product of all). Each
/// point is a validated scenario held in memory and a CSV row; 10^5 is far
/// more than a plot can show, and the plan for it is built in seconds.
pub const MAX_GRID_POINTS: u64 = 100_000;

/// Most shards a sweep splits into: `merge` reads one file per shard.
pub const MAX_SHARDS: u64 = 1_000_000;

/// Most worker threads, as a multiple of the available cores: more only
/// costs memory and switching (the output does not depend on the count).
pub const MAX_THREADS_PER_CORE: usize = 4;

/// The thread limit never drops below this, so that a one- or two-core
/// container still takes the small counts scripts use.
const MIN_THREAD_LIMIT: usize = 8;

/// The most `--threads` accepted here: 4 × the cores, at least 8.
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (MAX_THREADS_PER_CORE * cores).max(MIN_THREAD_LIMIT)
}

/// `--threads`: 0 means all cores (like absent); above [`max_threads`] is
/// refused rather than clamped, so a typo (`10000` for `10`) is caught
/// instead of silently changed.
pub fn threads(t: Option<usize>) -> Result<Option<usize>, Error> {
    let max = max_threads();
    match t {
        None | Some(0) => Ok(None),
        Some(t) if t > max => Err(Error::flag(
            "--threads",
            format!(
                "{t} threads; at most {max} ({MAX_THREADS_PER_CORE} × the {} cores, at least \
                 {MIN_THREAD_LIMIT}) are allowed, and the output is the same for any count \
                 (0 = all cores)",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            ),
        )),
        Some(t) => Ok(Some(t)),
    }
}

/// The number of grid points, refused above [`MAX_GRID_POINTS`] before any
/// is built (the product is computed with checked arithmetic). A
/// `--vary-together` group counts once: its axes move in step.
pub fn grid_size(axes: &[Axis]) -> Result<u64, Error> {
    let dims: Vec<u64> = dimensions(axes)
        .iter()
        .map(|d| d[0].values.len() as u64)
        .collect();
    let mut size: u64 = 1;
    for &len in &dims {
        size = size
            .checked_mul(len)
            .filter(|&n| n <= MAX_GRID_POINTS)
            .ok_or_else(|| {
                let estimate = dims.iter().map(|&n| n as f64).product::<f64>();
                let sizes: Vec<String> = dims.iter().map(u64::to_string).collect();
                Error::flag(
                    "--vary",
                    format!(
                        "{} = {estimate:e} grid points; a sweep has at most {MAX_GRID_POINTS}",
                        sizes.join(" × ")
                    ),
                )
            })?;
    }
    Ok(size)
}

impl Plan {
    /// Refuses the plan if its estimated events (this shard's trials of every
    /// point) pass `limit`; see [`crate::scenario::work`].
    pub fn check_work(&self, limit: f64) -> Result<(), Error> {
        let (lo, hi) = self.shard.trials(self.trials);
        let runs = (hi - lo) as f64;
        let mut total = 0.0;
        let mut main: Option<(f64, String)> = None;
        for (_, sc) in &self.points {
            let w = work::estimate(sc);
            total += w.events * runs;
            if let Some((e, what)) = w.main
                && main.as_ref().is_none_or(|m| e > m.0)
            {
                main = Some((e, what));
            }
        }
        let mut detail = format!("{} trials × {} grid points", hi - lo, self.points.len());
        if let Some((_, what)) = main {
            detail.push_str(&format!("; mostly {what}"));
        }
        Ok(work::check(total, limit, &detail)?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Shard, parse_together, parse_vary};
    use super::*;

    // See: issue 11
    #[test]
    fn issue_11_shard_counts_are_bounded() {
        // u64::MAX shards was accepted and its part file then panicked merge.
        let e = Shard::parse("18446744073709551615/18446744073709551615").unwrap_err();
        assert!(e.to_string().contains("at most 1000000 shards"), "{e}");
        assert!(Shard::parse("1000000/1000000").is_ok());
        // More shards than trials: some shard would have no trial.
        let src = "name = \"x\"\nhorizon = \"1d\"\n";
        let shard = Shard {
            index: 1,
            count: 10,
        };
        let e = Plan::new("x.toml", src, vec![], vec![], 5, None, shard)
            .err()
            .unwrap();
        assert!(e.to_string().contains("N ≤ --trials"), "{e}");
    }

    // See: issue 11
    #[test]
    fn issue_11_grids_are_capped_before_they_are_built() {
        // lin:1:2:10^12 used to allocate 10^12 strings.
        let e = parse_vary("k=lin:1:2:1000000000000").unwrap_err();
        assert!(e.to_string().contains("at most 100000 grid points"), "{e}");
        // 1,000 × 1,000 points: each axis is fine, the product is not.
        let axes = vec![
            parse_vary("a=lin:1:2:1000").unwrap(),
            parse_vary("b=lin:1:2:1000").unwrap(),
        ];
        let e = grid_size(&axes).unwrap_err().to_string();
        assert!(e.contains("1000 × 1000 = 1e6 grid points"), "{e}");
        assert_eq!(grid_size(&axes[..1]).unwrap(), 1000);
    }

    // See: issue 11
    #[test]
    fn issue_11_trials_times_points_cannot_wrap() {
        // 2^63 trials × 2 points = 2^64: past u64, so the total wrapped to 0
        // and the CSV held trials = 0 and NaN.
        let src = "name = \"x\"\nhorizon = \"1d\"\n";
        let axes = vec![parse_vary("cluster.write_quorum=4,5").unwrap()];
        let e = Plan::new("x.toml", src, vec![], axes, 1 << 63, None, Shard::ALL)
            .err()
            .unwrap();
        assert!(e.to_string().contains("more than 2^64 trials"), "{e}");
    }

    // See: issue 11
    #[test]
    fn issue_11_threads_are_bounded() {
        // 10,000 threads used to be started (and the run ended in exit 1).
        let max = max_threads();
        assert!(max >= 8);
        assert_eq!(threads(Some(0)).unwrap(), None);
        assert_eq!(threads(Some(max)).unwrap(), Some(max));
        assert!(threads(Some(max + 1)).is_err());
        assert!(
            threads(Some(10_000))
                .unwrap_err()
                .to_string()
                .contains("at most")
        );
    }

    // See: issue 11
    #[test]
    fn issue_11_paired_axes_count_once_against_the_cap() {
        // Two 1,000-value lists varied together are 1,000 points, not 10^6;
        // with a third ordinary axis of 1,000 the product passes the cap.
        let mut axes = parse_together(&["a=lin:1:2:1000".into(), "b=lin:1:2:1000".into()]).unwrap();
        assert_eq!(grid_size(&axes).unwrap(), 1000);
        axes.push(parse_vary("c=lin:1:2:1000").unwrap());
        let e = grid_size(&axes).unwrap_err().to_string();
        assert!(e.contains("1000 × 1000 = 1e6 grid points"), "{e}");
    }
}
