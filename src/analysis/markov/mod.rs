//! Exact long-run analysis: the protection group's background failures as a
//! continuous-time Markov chain (SPEC §3 `analyze`).
//!
//! [`build`] explores the state space under the rules of SPEC §1 (zero timings
//! are instantaneous and folded into the rule fixpoint; AZs and the nodes of an
//! AZ are interchangeable, so states are canonical up to that symmetry).
//! [`solve`] runs sparse GTH elimination: the stationary distribution gives
//! the availabilities, and the same elimination on the chain with data loss
//! made absorbing gives the mean time to the first loss.

mod build;
mod solve;

pub use build::{Substitution, Timing};

use crate::model::Config;
use build::{BuildError, Space};
use std::collections::VecDeque;

/// Largest chain `analyze` will build.
pub const MAX_STATES: usize = 3_000_000;

/// The exact figures of a scenario's background failures.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// Long-run fraction of time writes are available.
    pub write_availability: f64,
    /// Long-run fraction of time reads are available.
    pub read_availability: f64,
    /// 1 − write availability, summed directly (no cancellation).
    pub write_unavailability: f64,
    /// 1 − read availability, summed directly.
    pub read_unavailability: f64,
    /// Mean time from all-current to the first data loss; `None` if impossible.
    pub mttdl_seconds: Option<f64>,
    /// States after the symmetry reduction.
    pub states: usize,
    /// States the chain would have without it (labelled replicas and AZs).
    pub states_before_symmetry: f64,
    /// Timings replaced by exponentials of the same mean (`--approx`).
    pub substitutions: Vec<Substitution>,
}

/// Why a scenario cannot be analysed.
#[derive(Debug, Clone, PartialEq)]
pub enum AnalyzeError {
    /// A timing the chain uses is neither exponential nor zero.
    NotExponential(Substitution),
    /// The chain is too large.
    TooLarge(usize),
    /// The solver failed (a bug or a degenerate chain).
    Numerical(String),
}

/// Builds and solves the chain of `cfg`'s background failures.
pub fn analyze(cfg: &Config, approx: bool) -> Result<Analysis, AnalyzeError> {
    let build = |absorbing: bool| {
        let mut space = Space::new(cfg, approx, absorbing);
        space.explore(MAX_STATES).map_err(|e| match e {
            BuildError::NotExp(n) => AnalyzeError::NotExponential(n.0),
            BuildError::TooLarge(n) => AnalyzeError::TooLarge(n),
        })?;
        Ok::<_, AnalyzeError>(space)
    };
    let space = build(false)?;
    let n = space.states.len();
    // Most degraded states first: their fill-in stays among degraded states,
    // and the start state (index 0, level 0) is left to anchor π.
    let order = elimination_order(&space, (1..n as u32).collect());
    let arcs = || {
        space
            .arcs
            .iter()
            .enumerate()
            .flat_map(|(i, out)| out.iter().map(move |&(j, r, _)| (i as u32, j, r)))
    };
    let pi = solve::stationary(n, arcs(), &order).map_err(AnalyzeError::Numerical)?;
    let (mut wu, mut ru) = (0.0, 0.0);
    for (i, s) in space.states.iter().enumerate() {
        if !space.write_ok(s) {
            wu += pi[i];
        }
        if !space.read_ok(s) {
            ru += pi[i];
        }
    }

    Ok(Analysis {
        write_availability: 1.0 - wu,
        read_availability: 1.0 - ru,
        write_unavailability: wu,
        read_unavailability: ru,
        mttdl_seconds: mttdl(&build(true)?)?,
        states: n,
        states_before_symmetry: space.states.iter().map(|s| space.orbit(s)).sum(),
        substitutions: space.substitutions(),
    })
}

/// Mean time to the first data loss from the start state (index 0), over the
/// states reachable from it without a loss; `None` when loss is impossible.
fn mttdl(space: &Space) -> Result<Option<f64>, AnalyzeError> {
    // In the absorbing chain every state is reachable from the start without
    // a loss, and every loss arc points at `ABSORBED`.
    let n = space.states.len();
    let exit: Vec<f64> = space
        .arcs
        .iter()
        .map(|out| out.iter().filter(|a| a.2).map(|a| a.1).sum())
        .collect();
    // Which states can reach a loss (reverse search from the exits).
    let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, out) in space.arcs.iter().enumerate() {
        for &(j, _, lost) in out {
            if !lost {
                preds[j as usize].push(i as u32);
            }
        }
    }
    let mut can: Vec<bool> = exit.iter().map(|&e| e > 0.0).collect();
    let mut queue: VecDeque<u32> = (0..n as u32).filter(|&i| can[i as usize]).collect();
    while let Some(j) = queue.pop_front() {
        for &i in &preds[j as usize] {
            if !can[i as usize] {
                can[i as usize] = true;
                queue.push_back(i);
            }
        }
    }
    // Loss impossible, or avoidable forever from some reachable state: no finite mean.
    if can.iter().any(|&c| !c) {
        return Ok(None);
    }
    let order = elimination_order(space, (1..n as u32).collect());
    let arcs = space.arcs.iter().enumerate().flat_map(|(i, out)| {
        out.iter()
            .filter(|a| !a.2)
            .map(move |&(j, r, _)| (i as u32, j, r))
    });
    solve::mean_absorption_time(n, arcs, &exit, &order, 0)
        .map(Some)
        .map_err(AnalyzeError::Numerical)
}

/// `states` sorted most-degraded first (ties: later-discovered first).
fn elimination_order(space: &Space, mut states: Vec<u32>) -> Vec<u32> {
    states.sort_by_key(|&i| {
        (
            std::cmp::Reverse(space.level(&space.states[i as usize])),
            std::cmp::Reverse(i),
        )
    });
    states
}

#[cfg(test)]
mod tests;
