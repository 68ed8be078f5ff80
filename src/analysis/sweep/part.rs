//! Partial result files of sharded sweeps, and merging them back into the
//! sweep CSV, byte-identical to the unsharded run.
//!
//! A part file is untrusted input: it may be truncated, edited or forged.
//! Nothing is allocated from a count it states, every sum is checked against
//! what the trials could have produced, and all arithmetic is checked, so a
//! bad part is refused (exit 2, naming the file) and never panics or yields a
//! probability outside [0, 1].

use super::limits::MAX_SHARDS;
use super::{Axis, Plan, PointStats, Shard, dimensions, render_csv};
use crate::analysis::stats::{Moments, U256};
use crate::error::{Error, InputError};
use crate::output::plot::FileKind;
use serde::{Deserialize, Serialize};

/// A partial result file of one shard (JSON): identity of the sweep plus the
/// exact sums. Large integers are strings (hex) so no precision is lost.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Part {
    /// Format tag.
    pub format: String,
    /// Scenario file as given.
    pub scenario_path: String,
    /// Scenario `name`.
    pub scenario: String,
    /// FNV-1a of the scenario text, hex.
    pub scenario_hash: String,
    /// Base seed.
    pub seed: u64,
    /// Trials per point in the whole sweep.
    pub trials: u64,
    /// This shard, 1-based.
    pub shard: u64,
    /// Shards in all.
    pub shards: u64,
    /// `--set` assignments as `KEY=VALUE` (absent in parts without any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<String>,
    /// Varied keys and values.
    pub axes: Vec<Axis>,
    /// One entry per grid point.
    pub points: Vec<PartPoint>,
}

/// Sums of one point in a partial file.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct PartPoint {
    trials: u64,
    write_sum: String,
    write_sum_sq: String,
    read_sum: String,
    read_sum_sq: String,
    loss_trials: u64,
    loss_events: u64,
    simulated_us: String,
    first_loss_trial: Option<u64>,
    /// Volume sums (absent for one-PG sweeps, whose parts stay as they were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    volume: Option<PartVolume>,
}

/// A volume point's extra sums.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct PartVolume {
    pgs_lost: u64,
    lost_bytes: String,
}

/// A part's sums per point, with the point's horizon in µs (None: no trials).
type Checked = Vec<(PointStats, Option<u128>)>;

const PART_FORMAT: &str = "aurora-sim sweep part v1";

impl Part {
    /// The partial file of a sharded run.
    pub fn new(plan: &Plan, stats: &[PointStats]) -> Part {
        Part {
            format: PART_FORMAT.into(),
            scenario_path: plan.path.clone(),
            scenario: plan.name.clone(),
            scenario_hash: format!("{:016x}", plan.scenario_hash),
            seed: plan.seed,
            trials: plan.trials,
            shard: plan.shard.index,
            shards: plan.shard.count,
            sets: plan
                .sets
                .iter()
                .map(|a| format!("{}={}", a.key, a.text))
                .collect(),
            axes: plan.axes.clone(),
            points: stats
                .iter()
                .map(|s| PartPoint {
                    trials: s.trials,
                    write_sum: format!("{:x}", s.write.sum),
                    write_sum_sq: s.write.sum_sq.to_hex(),
                    read_sum: format!("{:x}", s.read.sum),
                    read_sum_sq: s.read.sum_sq.to_hex(),
                    loss_trials: s.loss_trials,
                    loss_events: s.loss_events,
                    simulated_us: format!("{:x}", s.simulated_us),
                    first_loss_trial: s.first_loss_trial,
                    volume: s.volume.then(|| PartVolume {
                        pgs_lost: s.pgs_lost,
                        lost_bytes: format!("{:x}", s.lost_bytes),
                    }),
                })
                .collect(),
        }
    }

    /// JSON text.
    pub fn render(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Checks this part against what its shard of the sweep could produce and
    /// returns its sums, with each point's horizon in µs (None for a point
    /// this shard ran no trial of).
    fn checked_stats(&self, path: &str) -> Result<Checked, Error> {
        let fail = |m: String| Error::Input(InputError::new(path, m));
        if self.trials == 0 {
            return Err(fail("corrupt partial file: `trials` is 0".into()));
        }
        if self.shards == 0 || self.shards > MAX_SHARDS {
            return Err(fail(format!(
                "shard {}/{}: a sweep splits into 1 to {MAX_SHARDS} shards (`merge` needs one file each)",
                self.shard, self.shards
            )));
        }
        if self.shard == 0 || self.shard > self.shards {
            return Err(fail(format!(
                "shard {}/{} is out of range",
                self.shard, self.shards
            )));
        }
        // The grid is the product of the dimensions; compare before anything
        // is built from it (render_csv builds the grid).
        if self.axes.first().is_some_and(|a| a.paired) {
            return Err(fail(
                "corrupt partial file: the first axis is paired".into(),
            ));
        }
        let dims = dimensions(&self.axes);
        if let Some(d) = dims
            .iter()
            .find(|d| d.iter().any(|a| a.values.len() != d[0].values.len()))
        {
            return Err(fail(format!(
                "corrupt partial file: {} is varied together with {} but their lists differ in length",
                d[1..]
                    .iter()
                    .map(|a| a.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                d[0].key
            )));
        }
        let grid = dims
            .iter()
            .try_fold(1usize, |n, d| n.checked_mul(d[0].values.len()));
        if grid != Some(self.points.len()) {
            return Err(fail(format!(
                "corrupt partial file: {} grid points, but its --vary axes make {}",
                self.points.len(),
                grid.map_or("more than can be counted".into(), |g| g.to_string())
            )));
        }
        let shard = Shard {
            index: self.shard,
            count: self.shards,
        };
        let (lo, hi) = shard.trials(self.trials);
        let bad = || fail("corrupt partial file (bad number)".into());
        let hex = |s: &str| u128::from_str_radix(s, 16).map_err(|_| bad());
        let sq = |s: &str| U256::from_hex(s).ok_or_else(bad);
        self.points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let st = PointStats {
                    trials: p.trials,
                    write: Moments {
                        sum: hex(&p.write_sum)?,
                        sum_sq: sq(&p.write_sum_sq)?,
                    },
                    read: Moments {
                        sum: hex(&p.read_sum)?,
                        sum_sq: sq(&p.read_sum_sq)?,
                    },
                    loss_trials: p.loss_trials,
                    loss_events: p.loss_events,
                    simulated_us: hex(&p.simulated_us)?,
                    first_loss_trial: p.first_loss_trial,
                    volume: p.volume.is_some(),
                    pgs_lost: p.volume.as_ref().map_or(0, |v| v.pgs_lost),
                    lost_bytes: match &p.volume {
                        Some(v) => hex(&v.lost_bytes)?,
                        None => 0,
                    },
                };
                let horizon = consistent(&st, lo, hi).map_err(|m| {
                    fail(format!(
                        "corrupt partial file: grid point {} ({}): {m}",
                        i + 1,
                        point_label(&self.axes, i)
                    ))
                })?;
                Ok((st, horizon))
            })
            .collect()
    }
}

/// `k=v, …` of grid point `i` (row-major, first dimension outermost).
fn point_label(axes: &[Axis], mut i: usize) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(axes.len());
    for d in dimensions(axes).iter().rev() {
        let n = d[0].values.len().max(1);
        for a in d.iter().rev() {
            parts.push(format!(
                "{}={}",
                a.key,
                a.values.get(i % n).map_or("?", String::as_str)
            ));
        }
        i /= n;
    }
    parts.reverse();
    if parts.is_empty() {
        "the only point".into()
    } else {
        parts.join(", ")
    }
}

/// a × b in 256 bits.
fn mul_wide(a: u128, b: u128) -> U256 {
    let (a1, a0) = (a >> 64, a & u64::MAX as u128);
    let (b1, b0) = (b >> 64, b & u64::MAX as u128);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    // Middle terms are < 2^128 each; their sum may carry one bit.
    let (mid, carry) = p01.overflowing_add(p10);
    let (lo, c_lo) = p00.overflowing_add(mid << 64);
    let hi = p11 + (mid >> 64) + ((carry as u128) << 64) + c_lo as u128;
    U256 { hi, lo }
}

/// a × b, or None past 256 bits.
fn mul_u256(a: U256, b: u64) -> Option<U256> {
    let lo = mul_wide(a.lo, b as u128);
    let hi = mul_wide(a.hi, b as u128);
    if hi.hi != 0 {
        return None;
    }
    Some(U256 {
        hi: lo.hi.checked_add(hi.lo)?,
        lo: lo.lo,
    })
}

/// a + b, or None past 256 bits.
fn add_u256(a: U256, b: U256) -> Option<U256> {
    let (lo, carry) = a.lo.overflowing_add(b.lo);
    let hi = a.hi.checked_add(b.hi)?.checked_add(carry as u128)?;
    Some(U256 { hi, lo })
}

fn le(a: U256, b: U256) -> bool {
    (a.hi, a.lo) <= (b.hi, b.lo)
}

/// Whether one point's sums could come from `hi - lo` trials (indices
/// `lo..hi`) of one horizon h each: Σx ≤ n·h, Σx² ≤ h·Σx (every x ≤ h),
/// (Σx)² ≤ n·Σx² (Cauchy–Schwarz), losses within the trials. Returns h in µs.
fn consistent(st: &PointStats, lo: u64, hi: u64) -> Result<Option<u128>, String> {
    let n = hi - lo;
    if st.trials != n {
        return Err(format!(
            "{} trials, but this shard of the sweep runs {n}",
            st.trials
        ));
    }
    if st.loss_trials > n {
        return Err(format!(
            "{} trials lost data, more than the {n} trials run",
            st.loss_trials
        ));
    }
    if st.loss_events < st.loss_trials {
        return Err(format!(
            "{} data-loss events in {} trials that lost data",
            st.loss_events, st.loss_trials
        ));
    }
    if st.pgs_lost > st.loss_events {
        return Err(format!(
            "{} PGs lost data in {} data-loss events",
            st.pgs_lost, st.loss_events
        ));
    }
    if (st.loss_trials > 0) != st.first_loss_trial.is_some()
        || st.first_loss_trial.is_some_and(|t| t < lo || t >= hi)
    {
        return Err("the first data-losing trial does not match the trial counts".into());
    }
    if n == 0 {
        let empty = Moments::default();
        return if st.write == empty && st.read == empty && st.simulated_us == 0 {
            Ok(None)
        } else {
            Err("sums without trials".into())
        };
    }
    // Every trial of a point runs the same horizon: at most u64 µs (SimTime).
    let h = st.simulated_us / n as u128;
    if h == 0 || h * n as u128 != st.simulated_us || h > u64::MAX as u128 {
        return Err(format!(
            "simulated time {} µs is not {n} equal positive horizons",
            st.simulated_us
        ));
    }
    for (what, m) in [("write", &st.write), ("read", &st.read)] {
        let sound = m.sum <= st.simulated_us
            && le(m.sum_sq, mul_wide(h, m.sum))
            && mul_u256(m.sum_sq, n).is_some_and(|nsq| le(mul_wide(m.sum, m.sum), nsq));
        if !sound {
            return Err(format!(
                "{what}-unavailable sums are impossible for {n} trials of {h} µs"
            ));
        }
    }
    Ok(Some(h))
}

/// Adds `o` into `a`, or None on overflow (only forged parts get there).
fn checked_merge(a: &mut PointStats, o: &PointStats) -> Option<()> {
    a.trials = a.trials.checked_add(o.trials)?;
    for (x, y) in [(&mut a.write, &o.write), (&mut a.read, &o.read)] {
        x.sum = x.sum.checked_add(y.sum)?;
        x.sum_sq = add_u256(x.sum_sq, y.sum_sq)?;
    }
    a.loss_trials = a.loss_trials.checked_add(o.loss_trials)?;
    a.loss_events = a.loss_events.checked_add(o.loss_events)?;
    a.simulated_us = a.simulated_us.checked_add(o.simulated_us)?;
    a.volume |= o.volume;
    a.pgs_lost = a.pgs_lost.checked_add(o.pgs_lost)?;
    a.lost_bytes = a.lost_bytes.checked_add(o.lost_bytes)?;
    a.first_loss_trial = match (a.first_loss_trial, o.first_loss_trial) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    };
    Some(())
}

/// Reads one part, saying which command a file of another kind is for.
fn load(path: &str, text: &str) -> Result<Part, Error> {
    let input = |m: String| Error::Input(InputError::new(path, m));
    let part: Part = serde_json::from_str(text).map_err(|e| match FileKind::of(text) {
        FileKind::Part | FileKind::Unknown => {
            input(format!("not an aurora-sim partial sweep file: {e}"))
        }
        kind => input(format!(
            "{}; `merge` takes the partial files written by `sweep --shard K/N`",
            kind.advice()
        )),
    })?;
    if part.format != PART_FORMAT {
        return Err(input(format!(
            "unknown partial file format `{}`",
            part.format
        )));
    }
    Ok(part)
}

/// `k/n, …` for the first few shards of 1..=n not in `given` (sorted), and
/// how many are missing in all: O(files), whatever n says.
fn missing_shards(given: &[u64], n: u64) -> (String, u64) {
    const SHOWN: usize = 10;
    let mut shown = Vec::new();
    let mut next = 1;
    for &k in given.iter().chain(std::iter::once(&(n + 1))) {
        while next < k && shown.len() < SHOWN {
            shown.push(format!("{next}/{n}"));
            next += 1;
        }
        next = k + 1;
    }
    let count = n - given.len() as u64;
    let mut text = shown.join(", ");
    if count > shown.len() as u64 {
        text.push_str(&format!(" and {} more", count - shown.len() as u64));
    }
    (text, count)
}

/// Combines the partial files of shards 1..=N of one sweep into its CSV,
/// byte-identical to the unsharded run. Refuses parts of different sweeps,
/// missing or duplicate shards, and parts whose sums are impossible.
pub fn merge(parts: &[(String, String)]) -> Result<(Vec<u8>, Part), Error> {
    let input = |path: &str, m: String| Error::Input(InputError::new(path, m));
    let mut loaded: Vec<(String, Part, Checked)> = Vec::new();
    for (path, text) in parts {
        let part = load(path, text)?;
        let stats = part.checked_stats(path)?;
        loaded.push((path.clone(), part, stats));
    }
    let Some((first_path, first, _)) = loaded.first() else {
        return Err(Error::flag("merge", "no partial files given"));
    };
    for (path, p, _) in &loaded[1..] {
        let differs = [
            (p.scenario_hash != first.scenario_hash, "scenario"),
            (p.seed != first.seed, "seed"),
            (p.trials != first.trials, "--trials"),
            (p.sets != first.sets, "--set"),
            (p.axes != first.axes, "--vary grid"),
            (p.shards != first.shards, "shard count"),
        ];
        if let Some((_, what)) = differs.iter().find(|(d, _)| *d) {
            return Err(input(
                path,
                format!("belongs to a different sweep than {first_path} (its {what} differs)"),
            ));
        }
    }
    // Duplicates and gaps from the files given, sorted: nothing is sized by
    // the shard count a file states.
    let n = first.shards;
    let mut order: Vec<usize> = (0..loaded.len()).collect();
    order.sort_by_key(|&i| loaded[i].1.shard);
    for w in order.windows(2) {
        let (a, b) = (&loaded[w[0]], &loaded[w[1]]);
        if a.1.shard == b.1.shard {
            return Err(input(
                &b.0,
                format!("shard {}/{n} is given twice (also {})", b.1.shard, a.0),
            ));
        }
    }
    if loaded.len() as u64 != n {
        let given: Vec<u64> = order.iter().map(|&i| loaded[i].1.shard).collect();
        let (list, count) = missing_shards(&given, n);
        return Err(input(
            first_path,
            format!(
                "missing shard{} {list} ({n} shards, {} file{} given)",
                if count > 1 { "s" } else { "" },
                loaded.len(),
                if loaded.len() > 1 { "s" } else { "" }
            ),
        ));
    }
    let mut total: Vec<PointStats> = vec![PointStats::default(); first.points.len()];
    let mut horizon: Vec<Option<u128>> = vec![None; first.points.len()];
    for (path, p, stats) in &loaded {
        for (i, (s, h)) in stats.iter().enumerate() {
            if let (Some(a), Some(b)) = (horizon[i], *h)
                && a != b
            {
                return Err(input(
                    path,
                    format!(
                        "corrupt partial file: grid point {} ({}) ran {b} µs per trial, other shards {a} µs",
                        i + 1,
                        point_label(&p.axes, i)
                    ),
                ));
            }
            horizon[i] = horizon[i].or(*h);
            checked_merge(&mut total[i], s).ok_or_else(|| {
                input(
                    path,
                    "corrupt partial file: its sums overflow when added to the other shards'"
                        .into(),
                )
            })?;
        }
    }
    let csv = render_csv(&first.axes, &total)?;
    let (_, first, _) = loaded.swap_remove(0);
    Ok((csv, first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_arithmetic_by_hand() {
        // (2^128 − 1)² = 2^256 − 2^129 + 1: high half 2^128 − 2, low half 1.
        let m = mul_wide(u128::MAX, u128::MAX);
        assert_eq!((m.hi, m.lo), (u128::MAX - 1, 1));
        assert_eq!(mul_wide(3 << 64, 5 << 64), U256 { hi: 15, lo: 0 });
        // × 2 of a value ≥ 2^255 leaves 256 bits.
        assert!(
            mul_u256(
                U256 {
                    hi: 1 << 127,
                    lo: 0
                },
                2
            )
            .is_none()
        );
        assert_eq!(
            mul_u256(
                U256 {
                    hi: 1,
                    lo: u128::MAX
                },
                2
            ),
            Some(U256 {
                hi: 3,
                lo: u128::MAX - 1
            })
        );
        assert!(
            add_u256(
                U256 {
                    hi: u128::MAX,
                    lo: u128::MAX
                },
                U256 { hi: 0, lo: 1 }
            )
            .is_none()
        );
    }

    #[test]
    fn missing_shards_are_listed_from_the_files_given() {
        assert_eq!(missing_shards(&[1, 3], 4), ("2/4, 4/4".to_string(), 2));
        // A count of 10^6 with one file: ten listed, the rest counted.
        let (text, n) = missing_shards(&[5], 1_000_000);
        assert_eq!(n, 999_999);
        assert!(text.starts_with("1/1000000, 2/1000000, 3/1000000, 4/1000000, 6/1000000"));
        assert!(text.ends_with("and 999989 more"));
    }
}
