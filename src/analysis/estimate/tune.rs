//! Tuning the biased split by pilot runs: the cross-entropy method
//! (Rubinstein 1997; for Markovian reliability models, Ridder 2005).
//!
//! Balanced failure biasing gives every eligible failure the same odds, so
//! a process that never leads to a loss (crashes that heal in minutes,
//! beside AZ events that do the damage) takes as large a share as the one
//! that does. Before the estimate, a few pilot rounds run under the current
//! odds and refit one weight per process kind to the paths that lost data,
//! weighted by their scores: the categorical maximum-likelihood fit
//! w_k = Σ score·(picks of kind k) / Σ score·(Σ over picks of k's eligible
//! pairs / the split's total odds), scaled so the largest is 1, and never
//! below [`FLOOR`] (so that every path the original law can take stays
//! possible, which keeps the estimator unbiased). The pilots use their own
//! trial streams and are not counted in the estimate: its odds are fixed
//! before its first trial. A volume's pilots run on one PG of the same
//! cluster alone (its trials are thousands of times cheaper; the odds are
//! per kind, so they carry over). With one process kind the odds cancel
//! out and no pilot runs.

use super::{BATCH, Prepared, trial};
use crate::error::Error;
use crate::model::{Biasing, KINDS};
use rayon::prelude::*;

/// Pilot rounds, each refitting the odds of the one before.
pub const ROUNDS: u64 = 3;
/// Trials per pilot round.
pub const ROUND_TRIALS: u64 = 2 * BATCH;
/// The lowest odds a kind gets, relative to the largest.
pub const FLOOR: f64 = 0.05;
/// Pilot trial numbers start here, far from the estimate's (trial `t`
/// runs on `trial_seed(seed, t)`).
const PILOT_BASE: u64 = 1 << 62;
/// Weighted hits a round needs before its fit is used.
const MIN_HITS: u64 = 10;

/// The tuned odds and the pilot trials run.
#[derive(Clone, Debug, PartialEq)]
pub struct Tuning {
    /// Per-kind odds of one eligible pair (`KIND_NAMES` order).
    pub odds: [f64; KINDS],
    /// Pilot trials run (not counted in the estimate).
    pub trials: u64,
}

/// Runs the pilot rounds for `plan` and returns the odds to estimate with.
pub fn tune(p: &Prepared, plan: Biasing, seed: u64) -> Result<Tuning, Error> {
    let (cfg, focus) = match &p.pilot {
        Some(c) => (c, false),
        None => (&p.config, plan.focus),
    };
    let mut odds = plan.odds;
    let mut trials = 0;
    for round in 0..ROUNDS {
        let pilot = Biasing {
            odds,
            focus,
            ..plan
        };
        let first = PILOT_BASE + round * ROUND_TRIALS;
        let samples = (first..first + ROUND_TRIALS)
            .into_par_iter()
            .map(|t| trial(cfg, pilot, p.measure, seed, t, p.horizon))
            .collect::<Result<Vec<_>, _>>()?;
        trials += ROUND_TRIALS;
        let (mut picked, mut exposed, mut hits) = ([0.0; KINDS], [0.0; KINDS], 0u64);
        for s in samples.iter().filter(|s| s.value > 0.0) {
            hits += 1;
            for k in 0..KINDS {
                picked[k] += s.value * s.picks[k] as f64;
                exposed[k] += s.value * s.exposure[k];
            }
        }
        if hits < MIN_HITS {
            break;
        }
        let fit: Vec<f64> = (0..KINDS)
            .map(|k| {
                if exposed[k] > 0.0 {
                    picked[k] / exposed[k]
                } else {
                    0.0
                }
            })
            .collect();
        let top = fit.iter().cloned().fold(0.0, f64::max);
        if !(top.is_finite() && top > 0.0) {
            break;
        }
        for k in 0..KINDS {
            // A kind no hit was exposed to keeps its odds.
            if exposed[k] > 0.0 {
                odds[k] = (fit[k] / top).max(FLOOR);
            }
        }
    }
    Ok(Tuning { odds, trials })
}
