//! Monte Carlo sweeps over a grid of scenario values, on all cores, split into
//! shards for many machines and merged back.
//!
//! Trial `t` of grid point `p` runs on its own seed, [`trial_seed`]`(seed, p, t)`,
//! so a trial's result depends on nothing else; per-point sums are exact
//! integers (see [`super::stats`]), so neither thread count, scheduling nor
//! sharding can change a byte of the output.

mod axes;
mod limits;
mod part;
mod progress;

pub use axes::{Axis, dimensions, grid, parse_together, parse_vary};
pub use progress::Progress;

pub use limits::{
    MAX_GRID_POINTS, MAX_SHARDS, MAX_THREADS_PER_CORE, grid_size, max_threads, threads,
};

pub use part::{Part, PartPoint, merge};

use super::run::simulate;
use super::stats::{Moments, wilson};
use crate::error::Error;
use crate::model::RunStats;
use crate::output::{secs_exact, secs_exact_us};
use crate::scenario::{Assignment, Overrides, Scenario, parse_with};
use crate::time::{duration_from_int_secs, duration_from_secs, parse_duration};
use rayon::prelude::*;
use std::fmt::Write;

/// Trials run as one unit of parallel work.
const CHUNK: u64 = 16;

/// Shard `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, 1..=count.
    pub index: u64,
    /// How many.
    pub count: u64,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Parses `K/N`.
    pub fn parse(s: &str) -> Result<Shard, Error> {
        let bad = || {
            Error::flag(
                "--shard",
                format!("`{s}` is not K/N with 1 ≤ K ≤ N (e.g. 3/10)"),
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            k.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        if count > MAX_SHARDS {
            return Err(Error::flag(
                "--shard",
                format!("`{s}`: at most {MAX_SHARDS} shards (merge reads one file per shard)"),
            ));
        }
        Ok(Shard { index, count })
    }

    /// This shard's trials of each grid point: `[⌊(K−1)T/N⌋, ⌊KT/N⌋)`.
    pub fn trials(&self, trials: u64) -> (u64, u64) {
        let at = |k: u64| (k as u128 * trials as u128 / self.count as u128) as u64;
        (at(self.index - 1), at(self.index))
    }
}

/// What a sweep runs.
pub struct Plan {
    /// Scenario file as given.
    pub path: String,
    /// FNV-1a of the scenario text: parts of different files never merge.
    pub scenario_hash: u64,
    /// Scenario `name`.
    pub name: String,
    /// `--set` assignments, applied to every point before its `--vary` values.
    pub sets: Vec<Assignment>,
    /// Varied keys.
    pub axes: Vec<Axis>,
    /// Grid points: assignments and the scenario they give.
    pub points: Vec<(Vec<Assignment>, Scenario)>,
    /// Trials per point (whole sweep).
    pub trials: u64,
    /// Base seed.
    pub seed: u64,
    /// Which part of the work.
    pub shard: Shard,
}

/// 64-bit FNV-1a.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

impl Plan {
    /// Validates every grid point up front, so a bad value fails before any work.
    pub fn new(
        path: &str,
        src: &str,
        sets: Vec<Assignment>,
        axes: Vec<Axis>,
        trials: u64,
        seed: Option<u64>,
        shard: Shard,
    ) -> Result<Plan, Error> {
        if trials == 0 {
            return Err(Error::flag("--trials", "must be at least 1"));
        }
        for (i, a) in axes.iter().enumerate() {
            if axes[..i].iter().any(|b| b.key == a.key) {
                return Err(Error::flag("--vary", format!("{} is varied twice", a.key)));
            }
            // Both would apply and the later would win: say so instead.
            if sets.iter().any(|s| s.key == a.key) {
                return Err(Error::flag(
                    "--set",
                    format!("{} is both set and varied; drop one of them", a.key),
                ));
            }
        }
        let size = grid_size(&axes)?;
        if shard.count > trials {
            return Err(Error::flag(
                "--shard",
                format!(
                    "{} shards of {trials} trials: each shard needs at least one trial (N ≤ --trials)",
                    shard.count
                ),
            ));
        }
        if trials.checked_mul(size).is_none() {
            return Err(Error::flag(
                "--trials",
                format!("{trials} trials × {size} grid points is more than 2^64 trials in all"),
            ));
        }
        let ov = Overrides {
            horizon: None,
            seed,
        };
        let mut points = Vec::new();
        for values in grid(&axes) {
            let all = [&sets[..], &values[..]].concat();
            let sc = parse_with(src, path, &all, &ov)?;
            // SPEC §5: as in `run`, a source or event the design has no
            // target for is an error (only `compare` skips them).
            if let Some(e) = sc.config.design_mismatch() {
                return Err(e.clone().into());
            }
            points.push((values, sc));
        }
        let base = parse_with(
            src,
            path,
            &sets,
            &Overrides {
                horizon: points.first().map(|p| p.1.horizon),
                seed,
            },
        )?;
        Ok(Plan {
            path: path.to_string(),
            scenario_hash: fnv1a(src.as_bytes()),
            name: base.name,
            sets,
            axes,
            seed: seed.unwrap_or(base.seed),
            points,
            trials,
            shard,
        })
    }
}

/// SplitMix64 finaliser: a bijective 64-bit mix.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of trial `trial` (a global index: the same in every shard), the
/// same at every grid point and for every design of a `compare`, so that
/// they meet the same failures wherever they share a random source (SPEC §5,
/// common random numbers). `run --seed` with it (and a point's values as
/// `--set`) replays that trial exactly.
pub fn trial_seed(seed: u64, trial: u64) -> u64 {
    mix(mix(mix(seed)) ^ trial)
}

/// Exact sufficient statistics of one grid point's trials.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PointStats {
    /// Trials run.
    pub trials: u64,
    /// Σ and Σ² of write-unavailable µs.
    pub write: Moments,
    /// Σ and Σ² of read-unavailable µs.
    pub read: Moments,
    /// Trials with at least one data loss.
    pub loss_trials: u64,
    /// Data-loss events over all trials.
    pub loss_events: u64,
    /// Simulated µs over all trials.
    pub simulated_us: u128,
    /// Lowest trial index that lost data.
    pub first_loss_trial: Option<u64>,
    /// A volume scenario (SPEC §4): the CSV adds the volume columns.
    pub volume: bool,
    /// Σ over trials of the distinct PGs that lost data.
    pub pgs_lost: u64,
    /// Σ over trials of the bytes put at risk (`segment_size` × PG losses).
    pub lost_bytes: u128,
}

impl PointStats {
    fn add(&mut self, trial: u64, st: &RunStats) {
        self.trials += 1;
        self.write.add(st.write.total.0);
        self.read.add(st.read.total.0);
        self.simulated_us += st.horizon.0 as u128;
        if let Some(v) = &st.volume {
            self.volume = true;
            self.pgs_lost += v.pgs_with_data_loss;
            self.lost_bytes += v.lost_bytes;
        }
        if st.data_loss_events > 0 {
            self.loss_trials += 1;
            self.loss_events += st.data_loss_events;
            self.first_loss_trial = Some(self.first_loss_trial.map_or(trial, |t| t.min(trial)));
        }
    }

    /// Adds another part's sums (order does not matter: all exact).
    pub fn merge(&mut self, o: &PointStats) {
        self.trials += o.trials;
        self.write.merge(&o.write);
        self.read.merge(&o.read);
        self.loss_trials += o.loss_trials;
        self.loss_events += o.loss_events;
        self.simulated_us += o.simulated_us;
        self.volume |= o.volume;
        self.pgs_lost += o.pgs_lost;
        self.lost_bytes += o.lost_bytes;
        self.first_loss_trial = match (self.first_loss_trial, o.first_loss_trial) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

pub(crate) fn merge_all(mut a: Vec<PointStats>, b: Vec<PointStats>) -> Vec<PointStats> {
    for (x, y) in a.iter_mut().zip(&b) {
        x.merge(y);
    }
    a
}

/// Runs this shard's trials of every point on `threads` threads (None: all cores).
pub fn execute(
    plan: &Plan,
    threads: Option<usize>,
    progress: &Progress,
) -> Result<Vec<PointStats>, Error> {
    let (lo, hi) = plan.shard.trials(plan.trials);
    let per_point = (hi - lo).div_ceil(CHUNK);
    let total = per_point * plan.points.len() as u64;
    let n = plan.points.len();
    let pool = super::thread_pool(threads)?;
    pool.install(|| {
        (0..total)
            .into_par_iter()
            .try_fold(
                || vec![PointStats::default(); n],
                |mut acc, idx| {
                    let p = idx / per_point;
                    let first = lo + (idx % per_point) * CHUNK;
                    let sc = &plan.points[p as usize].1;
                    let last = (first + CHUNK).min(hi);
                    for t in first..last {
                        let st = simulate(&sc.config, trial_seed(plan.seed, t), sc.horizon)?;
                        acc[p as usize].add(t, &st);
                    }
                    progress.add(p as usize, last - first);
                    Ok::<_, Error>(acc)
                },
            )
            .try_reduce(
                || vec![PointStats::default(); n],
                |a, b| Ok(merge_all(a, b)),
            )
    })
}

/// The sweep CSV: the varied keys, then the SPEC's columns, one row per point.
pub fn render_csv(axes: &[Axis], stats: &[PointStats]) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // A duration key's column keeps the values as typed and is followed by
    // `KEY_seconds`, the same values as exact numbers of seconds.
    let seconds: Vec<bool> = axes.iter().map(|a| is_duration_key(&a.key)).collect();
    let mut header: Vec<String> = Vec::new();
    for (a, &secs) in axes.iter().zip(&seconds) {
        header.push(a.key.clone());
        if secs {
            header.push(format!("{}_seconds", a.key));
        }
    }
    for c in [
        "trials",
        "write_availability_mean",
        "write_availability_ci_low",
        "write_availability_ci_high",
        "read_availability_mean",
        "read_availability_ci_low",
        "read_availability_ci_high",
        "p_data_loss",
        "p_data_loss_ci_low",
        "p_data_loss_ci_high",
        "data_loss_events",
        "simulated_seconds",
        "mttdl_seconds",
    ] {
        header.push(c.to_string());
    }
    let volume = stats.iter().any(|s| s.volume);
    if volume {
        header.push("pgs_with_data_loss_mean".into());
        header.push("lost_bytes_mean".into());
    }
    let fail = |e: csv::Error| Error::Internal(format!("cannot format CSV: {e}"));
    w.write_record(&header).map_err(fail)?;
    for (sets, st) in grid(axes).iter().zip(stats) {
        let n = st.trials;
        let horizon_us = st.simulated_us as f64 / n as f64;
        let ci = |m: &Moments| {
            let (mean, ci) = m.availability(n, horizon_us);
            let (lo, hi) = ci.map_or((String::new(), String::new()), |(l, h)| {
                (l.to_string(), h.to_string())
            });
            [mean.to_string(), lo, hi]
        };
        let (plo, phi) = wilson(st.loss_trials, n);
        let mut rec: Vec<String> = Vec::new();
        for (a, &secs) in sets.iter().zip(&seconds) {
            rec.push(a.text.clone());
            if secs {
                rec.push(seconds_of(&a.value).unwrap_or_default());
            }
        }
        rec.push(n.to_string());
        rec.extend(ci(&st.write));
        rec.extend(ci(&st.read));
        rec.push((st.loss_trials as f64 / n as f64).to_string());
        rec.push(plo.to_string());
        rec.push(phi.to_string());
        rec.push(st.loss_events.to_string());
        rec.push(secs_exact_us(st.simulated_us));
        rec.push(if st.loss_events == 0 {
            String::new()
        } else {
            (st.simulated_us as f64 / 1e6 / st.loss_events as f64).to_string()
        });
        if volume {
            rec.push((st.pgs_lost as f64 / n as f64).to_string());
            rec.push((st.lost_bytes as f64 / n as f64).to_string());
        }
        w.write_record(&rec).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("cannot format CSV: {e}")))
}

/// Timing and duration keys (the last part of a dotted key, or the part
/// before a distribution's own duration: `cluster.repair_time.mean`).
const DURATION_KEYS: [&str; 9] = [
    "horizon",
    "repair_time",
    "detection_delay",
    "catchup_time",
    "restore_time",
    "backup_lag",
    "replace_down_after",
    "every",
    "lasts",
];

/// Whether a varied key holds a duration, so its column gets `KEY_seconds`.
pub fn is_duration_key(key: &str) -> bool {
    let mut parts = key.rsplit('.');
    let last = parts.next().unwrap_or("");
    DURATION_KEYS.contains(&last)
        || (["mean", "value", "scale", "median"].contains(&last)
            && parts.next().is_some_and(|p| DURATION_KEYS.contains(&p)))
}

/// Exact seconds of a duration value as the scenario reads it (a number of
/// seconds or a string such as `"1h30m"`); None for a distribution table.
fn seconds_of(v: &toml::Value) -> Option<String> {
    let t = match v {
        toml::Value::Integer(i) => duration_from_int_secs(*i),
        toml::Value::Float(f) => duration_from_secs(*f),
        toml::Value::String(s) => parse_duration(s),
        _ => return None,
    };
    t.ok().map(secs_exact)
}

/// Lines telling how to replay the first data-losing trial of each point:
/// the point's horizon, the sweep's `--set` and the point's values as
/// `--set`, shell-quoted, and its seed.
pub fn replay_hints(plan: &Plan, stats: &[PointStats]) -> String {
    let mut s = String::new();
    for ((sets, sc), st) in plan.points.iter().zip(stats) {
        if let Some(t) = st.first_loss_trial {
            let set: Vec<String> = plan
                .sets
                .iter()
                .chain(sets)
                .map(|a| format!("{}={}", a.key, a.text))
                .collect();
            let _ = writeln!(
                s,
                "note: {} of {} trials lost data{}; replay the first: {}",
                st.loss_trials,
                st.trials,
                if sets.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", crate::scenario::describe(sets))
                },
                crate::output::replay_command(
                    &plan.path,
                    sc.horizon,
                    set.iter().map(String::as_str),
                    trial_seed(plan.seed, t)
                )
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_trial_once() {
        for (t, n) in [(10, 3), (1, 4), (1_000_003, 7)] {
            let mut next = 0;
            for k in 1..=n {
                let (lo, hi) = Shard { index: k, count: n }.trials(t);
                assert_eq!(lo, next);
                next = hi;
            }
            assert_eq!(next, t);
        }
        assert!(
            Shard::parse("0/3").is_err()
                && Shard::parse("4/3").is_err()
                && Shard::parse("x").is_err()
        );
    }
}
