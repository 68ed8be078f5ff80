//! Monte Carlo sweeps over a grid of scenario values, on all cores, split into
//! shards for many machines and merged back.
//!
//! Trial `t` of grid point `p` runs on its own seed, [`trial_seed`]`(seed, p, t)`,
//! so a trial's result depends on nothing else; per-point sums are exact
//! integers (see [`super::stats`]), so neither thread count, scheduling nor
//! sharding can change a byte of the output.

mod limits;
mod part;

pub use limits::{
    MAX_GRID_POINTS, MAX_SHARDS, MAX_THREADS_PER_CORE, grid_size, max_threads, threads,
};

pub use part::{Part, PartPoint, merge};

use super::run::simulate;
use super::stats::{Moments, wilson};
use crate::error::Error;
use crate::model::RunStats;
use crate::output::secs_exact_us;
use crate::scenario::{Assignment, Overrides, Scenario, parse_with};
use crate::time::parse_duration;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// Trials run as one unit of parallel work.
const CHUNK: u64 = 16;

/// One `--vary KEY=VALUES` axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Dotted scenario key.
    pub key: String,
    /// Values as text, in order.
    pub values: Vec<String>,
}

/// Splits `"12.5GiB"` into (12.5, "GiB").
fn split_unit(s: &str) -> Option<(f64, &str)> {
    let n = s
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(n);
    Some((num.parse().ok()?, unit))
}

/// A generated grid value as text: 6 significant digits, no exponent, no
/// trailing zeros (the text is what the trials use, so nothing is hidden).
fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        return format!("{}", v as i64);
    }
    let prec = (5 - v.abs().log10().floor() as i64).clamp(0, 15) as usize;
    let s = format!("{v:.prec$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    s.to_string()
}

/// Parses `KEY=VALUES`: a comma list, `lin:START:STOP:N` or `log:START:STOP:N`
/// (START and STOP may carry a unit, the same on both: `log:1y:100y:5`).
pub fn parse_vary(arg: &str) -> Result<Axis, Error> {
    let bad = |m: String| Error::flag("--vary", m);
    let (key, spec) = arg
        .split_once('=')
        .map(|(k, v)| (k.trim(), v.trim()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .ok_or_else(|| {
            bad(format!(
                "`{arg}` is not KEY=VALUES (e.g. failures.node_loss.every=1y,2y,5y)"
            ))
        })?;
    let values = if let Some(rest) = spec
        .strip_prefix("lin:")
        .or_else(|| spec.strip_prefix("log:"))
    {
        let log = spec.starts_with("log:");
        let parts: Vec<&str> = rest.split(':').collect();
        let [start, stop, n] = parts[..] else {
            return Err(bad(format!(
                "{key}={spec}: expected {}:START:STOP:N",
                &spec[..3]
            )));
        };
        let n: u64 = n.parse().ok().filter(|&n| n >= 1).ok_or_else(|| {
            bad(format!(
                "{key}={spec}: N = `{n}` must be a whole number ≥ 1"
            ))
        })?;
        if n > MAX_GRID_POINTS {
            return Err(bad(format!(
                "{key}={spec}: N = {n} points; a sweep has at most {MAX_GRID_POINTS} grid points"
            )));
        }
        let n = n as usize;
        let (mut a, mut ua) = split_unit(start)
            .ok_or_else(|| bad(format!("{key}={spec}: START `{start}` is not a number")))?;
        let (mut b, ub) = split_unit(stop)
            .ok_or_else(|| bad(format!("{key}={spec}: STOP `{stop}` is not a number")))?;
        if ua != ub {
            // Durations in different units (1d … 1y) are spaced in seconds.
            match (parse_duration(start), parse_duration(stop)) {
                (Ok(x), Ok(y)) => (a, b, ua) = (x.as_secs_f64(), y.as_secs_f64(), "s"),
                _ => {
                    return Err(bad(format!(
                        "{key}={spec}: START and STOP need the same unit (`{ua}` vs `{ub}`)"
                    )));
                }
            }
        }
        if log && (a <= 0.0 || b <= 0.0) {
            return Err(bad(format!(
                "{key}={spec}: log ranges need START and STOP > 0"
            )));
        }
        (0..n)
            .map(|i| {
                let f = if n == 1 {
                    0.0
                } else {
                    i as f64 / (n - 1) as f64
                };
                let v = match (i == 0, i + 1 == n, log) {
                    (true, _, _) => a,
                    (_, true, _) => b,
                    (_, _, true) => (a.ln() + f * (b.ln() - a.ln())).exp(),
                    (_, _, false) => a + f * (b - a),
                };
                format!("{}{ua}", number_text(v))
            })
            .collect()
    } else {
        let vals: Vec<String> = spec.split(',').map(|v| v.trim().to_string()).collect();
        if vals.iter().any(String::is_empty) {
            return Err(bad(format!("{key}={spec}: empty value in the list")));
        }
        vals
    };
    Ok(Axis {
        key: key.to_string(),
        values,
    })
}

/// The Cartesian product of the axes, first axis outermost.
pub fn grid(axes: &[Axis]) -> Vec<Vec<Assignment>> {
    let mut points = vec![Vec::new()];
    for axis in axes {
        points = points
            .into_iter()
            .flat_map(|p| {
                axis.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(Assignment::new(&axis.key, v));
                    q
                })
            })
            .collect();
    }
    points
}

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
        for sets in grid(&axes) {
            let sc = parse_with(src, path, &sets, "--vary", &ov)?;
            points.push((sets, sc));
        }
        let base = parse_with(
            src,
            path,
            &[],
            "--vary",
            &Overrides {
                horizon: points.first().map(|p| p.1.horizon),
                seed,
            },
        )?;
        Ok(Plan {
            path: path.to_string(),
            scenario_hash: fnv1a(src.as_bytes()),
            name: base.name,
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

/// The seed of trial `trial` of grid point `point`: `run --seed` with it
/// (and the point's values as `--set`) replays that trial exactly.
pub fn trial_seed(seed: u64, point: u64, trial: u64) -> u64 {
    mix(mix(mix(seed) ^ point) ^ trial)
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
}

impl PointStats {
    fn add(&mut self, trial: u64, st: &RunStats) {
        self.trials += 1;
        self.write.add(st.write.total.0);
        self.read.add(st.read.total.0);
        self.simulated_us += st.horizon.0 as u128;
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

/// A progress bar on stderr with trials done, rate and ETA; hidden when
/// stderr is not a terminal or `quiet`.
pub fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} trials  {rate} trials/s  ETA {eta}")
    {
        pb.set_style(style.with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}", s.per_sec());
            },
        ));
    }
    pb
}

/// Runs this shard's trials of every point on `threads` threads (None: all cores).
pub fn execute(
    plan: &Plan,
    threads: Option<usize>,
    pb: &ProgressBar,
) -> Result<Vec<PointStats>, Error> {
    let (lo, hi) = plan.shard.trials(plan.trials);
    let per_point = (hi - lo).div_ceil(CHUNK);
    let total = per_point * plan.points.len() as u64;
    let n = plan.points.len();
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        builder = builder.num_threads(t);
    }
    let pool = builder
        .build()
        .map_err(|e| Error::Internal(format!("cannot start threads: {e}")))?;
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
                        let st = simulate(&sc.config, trial_seed(plan.seed, p, t), sc.horizon)?;
                        acc[p as usize].add(t, &st);
                    }
                    pb.inc(last - first);
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
    let mut header: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
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
        let mut rec: Vec<String> = sets.iter().map(|a| a.text.clone()).collect();
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
        w.write_record(&rec).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("cannot format CSV: {e}")))
}

/// Lines telling how to replay the first data-losing trial of each point:
/// the point's horizon and values as `--set`, shell-quoted, and its seed.
pub fn replay_hints(plan: &Plan, stats: &[PointStats]) -> String {
    let mut s = String::new();
    for (p, ((sets, sc), st)) in plan.points.iter().zip(stats).enumerate() {
        if let Some(t) = st.first_loss_trial {
            let set: Vec<String> = sets
                .iter()
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
                    trial_seed(plan.seed, p as u64, t)
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
    fn vary_lists_and_ranges() {
        assert_eq!(
            parse_vary("a.b=1y,2y, 5y").unwrap().values,
            ["1y", "2y", "5y"]
        );
        assert_eq!(parse_vary("k=lin:3:5:3").unwrap().values, ["3", "4", "5"]);
        assert_eq!(
            parse_vary("k=lin:0:1:5").unwrap().values,
            ["0", "0.25", "0.5", "0.75", "1"]
        );
        assert_eq!(
            parse_vary("k=log:1y:100y:3").unwrap().values,
            ["1y", "10y", "100y"]
        );
        assert_eq!(parse_vary("k=lin:2:2:1").unwrap().values, ["2"]);
        assert_eq!(
            parse_vary("k=lin:1d:2w:3").unwrap().values,
            ["86400s", "648000s", "1209600s"]
        );
        // 10^(1/3) = 2.15443469… → 6 significant digits.
        assert_eq!(
            parse_vary("k=log:1:10:4").unwrap().values,
            ["1", "2.15443", "4.64159", "10"]
        );
        for bad in [
            "k",
            "=1",
            "k=",
            "k=lin:1:2",
            "k=log:0:1:3",
            "k=lin:1GiB:2d:3",
            "k=lin:1:2:0",
            "k=1,,2",
        ] {
            assert!(parse_vary(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn grid_is_row_major() {
        let axes = vec![parse_vary("a=1,2").unwrap(), parse_vary("b=x,y,z").unwrap()];
        let g = grid(&axes);
        let text: Vec<String> = g.iter().map(|p| crate::scenario::describe(p)).collect();
        assert_eq!(text[0], "a=1, b=x");
        assert_eq!(text[2], "a=1, b=z");
        assert_eq!(text[3], "a=2, b=x");
        assert_eq!(g.len(), 6);
        assert_eq!(grid(&[]).len(), 1);
    }

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
