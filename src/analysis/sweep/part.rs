//! Partial result files of sharded sweeps, and merging them back into the
//! sweep CSV, byte-identical to the unsharded run.

use super::{Axis, Plan, PointStats, merge_all, render_csv};
use crate::analysis::stats::{Moments, U256};
use crate::error::{Error, InputError};
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
}

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

    fn stats(&self, path: &str) -> Result<Vec<PointStats>, Error> {
        let bad = || Error::Input(InputError::new(path, "corrupt partial file (bad number)"));
        let hex = |s: &str| u128::from_str_radix(s, 16).map_err(|_| bad());
        let sq = |s: &str| U256::from_hex(s).ok_or_else(bad);
        self.points
            .iter()
            .map(|p| {
                Ok(PointStats {
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
                })
            })
            .collect()
    }
}

/// Combines the partial files of shards 1..=N of one sweep into its CSV,
/// byte-identical to the unsharded run. Refuses parts of different sweeps,
/// and missing or duplicate shards.
pub fn merge(parts: &[(String, String)]) -> Result<(Vec<u8>, Part), Error> {
    let input = |path: &str, m: String| Error::Input(InputError::new(path, m));
    let mut loaded: Vec<(String, Part)> = Vec::new();
    for (path, text) in parts {
        let part: Part = serde_json::from_str(text)
            .map_err(|e| input(path, format!("not an aurora-sim partial sweep file: {e}")))?;
        if part.format != PART_FORMAT {
            return Err(input(
                path,
                format!("unknown partial file format `{}`", part.format),
            ));
        }
        loaded.push((path.clone(), part));
    }
    let Some((first_path, first)) = loaded.first() else {
        return Err(Error::flag("merge", "no partial files given"));
    };
    for (path, p) in &loaded[1..] {
        let differs = [
            (p.scenario_hash != first.scenario_hash, "scenario"),
            (p.seed != first.seed, "seed"),
            (p.trials != first.trials, "--trials"),
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
    let n = first.shards;
    let mut seen = vec![None::<&str>; n as usize];
    for (path, p) in &loaded {
        if p.shard == 0 || p.shard > n {
            return Err(input(
                path,
                format!("shard {}/{} is out of range", p.shard, n),
            ));
        }
        if let Some(other) = seen[p.shard as usize - 1] {
            return Err(input(
                path,
                format!("shard {}/{n} is given twice (also {other})", p.shard),
            ));
        }
        seen[p.shard as usize - 1] = Some(path);
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| seen[*k as usize - 1].is_none())
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::flag(
            "merge",
            format!(
                "missing shard{} {}",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", ")
            ),
        ));
    }
    let mut total = first.stats(first_path)?;
    for (path, p) in &loaded[1..] {
        let s = p.stats(path)?;
        if s.len() != total.len() {
            return Err(input(
                path,
                "corrupt partial file (wrong number of grid points)".into(),
            ));
        }
        total = merge_all(total, s);
    }
    let csv = render_csv(&first.axes, &total)?;
    let (_, first) = loaded.swap_remove(0);
    Ok((csv, first))
}
