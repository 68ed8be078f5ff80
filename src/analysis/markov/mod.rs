//! Exact long-run analysis: the protection group's background failures as a
//! continuous-time Markov chain (SPEC §3 `analyze`).
//!
//! [`build`] explores the state space under the rules of SPEC §1 (zero timings
//! are instantaneous and folded into the rule fixpoint; AZs and the nodes of an
//! AZ are interchangeable, so states are canonical up to that symmetry).
//! [`solve`] finds, by Gauss–Seidel, the expected time spent in each state
//! between two visits to the all-current start state (normalised: the
//! stationary distribution, hence the availabilities), and the length and loss
//! probability of such a cycle (hence, by Wald's identity, the mean time to
//! the first loss). Every figure comes with a verified bracket. When the
//! start state is too rare for that to converge (failures outpacing repairs),
//! sparse GTH elimination solves the same chain instead.

mod build;
mod estimate;
mod refusal;
mod rules;
mod solve;
mod state;
mod timing;
mod transient;

pub use refusal::AnalyzeError;
pub use timing::{Substitution, Timing};

use crate::model::Config;
pub use estimate::Estimate;
pub use transient::p_loss_by;

use build::{Arc, BuildError, Space};
use timing::NotExponential;

/// Largest chain `analyze` will build.
pub const MAX_STATES: usize = 3_000_000;

/// The exact figures of a scenario's background failures.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// Long-run fraction of time writes are available (summed over the
    /// states where they are, so that it keeps its digits however small).
    pub write_availability: f64,
    /// Long-run fraction of time reads are available (likewise).
    pub read_availability: f64,
    /// 1 − write availability, summed over the other states (no cancellation).
    pub write_unavailability: f64,
    /// 1 − read availability, likewise.
    pub read_unavailability: f64,
    /// Mean time from all-current to the first data loss; `None` if impossible.
    pub mttdl_seconds: Option<f64>,
    /// States after the symmetry reduction.
    pub states: usize,
    /// States the chain would have without it (labelled replicas and AZs).
    pub states_before_symmetry: f64,
    /// Timings replaced by exponentials of the same mean (`--approx`).
    pub substitutions: Vec<Substitution>,
    /// How it was solved.
    pub solver: Solver,
}

/// Relative width of the bracket Gauss–Seidel must reach on every state.
const TOLERANCE: f64 = 1e-12;

/// The smallest error bound claimed: below it rounding, not the iteration, dominates.
const ROUNDING_FLOOR: f64 = 1e-14;

/// Gauss–Seidel sweeps tried before falling back to elimination.
pub const MAX_SWEEPS: usize = 2_000;

/// Largest chain the elimination fallback is tried on.
const MAX_ELIMINATION: usize = 20_000;

/// Builds and solves the chain of `cfg`'s background failures.
pub fn analyze(cfg: &Config, approx: bool) -> Result<Analysis, AnalyzeError> {
    if cfg.storage.volume_mode {
        return Err(AnalyzeError::Volume {
            pgs: cfg.storage.pgs,
            nodes: cfg.storage.nodes(),
        });
    }
    estimate::screen(cfg, approx)?;
    analyze_with(cfg, approx, true)
}

/// [`analyze`], with Gauss–Seidel tried first or not at all.
fn analyze_with(cfg: &Config, approx: bool, gauss_seidel: bool) -> Result<Analysis, AnalyzeError> {
    let mut space = Space::new(cfg, approx);
    space.explore(MAX_STATES).map_err(|e| match e {
        BuildError::NotExp(NotExponential(s, true)) => AnalyzeError::NoMean(s),
        BuildError::NotExp(NotExponential(s, false)) => AnalyzeError::NotExponential(vec![s]),
        BuildError::TooLarge(n) => AnalyzeError::TooLarge(n),
    })?;
    let n = space.len();
    let (arcs, up) = in_level_order(&mut space);
    let unavailable = |ok: &dyn Fn(&[u8]) -> bool| -> Vec<bool> {
        up.iter().map(|&i| !ok(space.state(i as usize))).collect()
    };
    let (write_down, read_down) = (
        unavailable(&|s| space.write_ok(s)),
        unavailable(&|s| space.read_ok(s)),
    );
    // The three cycle systems are independent: solve them side by side.
    let (cycles, losses) = if gauss_seidel {
        rayon::join(|| cycle_times(&arcs), || cycle_losses(&arcs))
    } else {
        (None, None)
    };
    let (availability, mut solver) = match cycles {
        Some(b) => {
            let a = availability_bounds(&b, &write_down, &read_down);
            let bound = a.bound;
            (
                a,
                Solver::GaussSeidel {
                    sweeps: b.sweeps,
                    bound,
                },
            )
        }
        None => (
            eliminate_stationary(&arcs, &write_down, &read_down)?,
            Solver::Elimination,
        ),
    };
    let mttdl = match losses {
        _ if !can_lose(&arcs) => None,
        Some((p, t)) => {
            if let Solver::GaussSeidel { sweeps, bound } = &mut solver {
                *sweeps = (*sweeps).max(p.sweeps).max(t.sweeps);
                let (lo, hi) = (t.lo[0] / p.hi[0], t.hi[0] / p.lo[0]);
                *bound = bound.max(hi / lo - 1.0);
            }
            Some(t.lo[0] / p.lo[0])
        }
        _ => {
            solver = Solver::Elimination;
            Some(eliminate_mttdl(&arcs)?)
        }
    };
    if let Solver::GaussSeidel { bound, .. } = &mut solver {
        // Below ~1e-14 the bracket only measures rounding, not the error.
        *bound = bound.max(ROUNDING_FLOOR);
    }
    // Each figure is a sum of its own states' shares over the total; in
    // exact arithmetic it lies in [0, 1], but the two sums round separately
    // and may land an ulp outside (1.0000000000000002 was printed once).
    let unit = |x: f64| x.clamp(0.0, 1.0);
    Ok(Analysis {
        write_availability: unit(availability.write.0),
        read_availability: unit(availability.read.0),
        write_unavailability: unit(availability.write.1),
        read_unavailability: unit(availability.read.1),
        mttdl_seconds: mttdl,
        states: n,
        states_before_symmetry: space.states().map(|s| space.orbit(s)).sum(),
        substitutions: space.substitutions(),
        solver,
    })
}

/// The chain's arcs with the states renumbered least degraded first (by
/// level, then discovery), and the old number of each new one. A sweep in
/// that order gets most of a state's probability from states one failure
/// closer to all-up, already updated, and walks its arrays in order. The
/// start state, the only one at level 0, stays 0.
fn in_level_order(space: &mut Space) -> (Vec<Vec<Arc>>, Vec<u32>) {
    let n = space.len();
    let levels: Vec<usize> = space.states().map(|s| space.level(s)).collect();
    let mut up: Vec<u32> = (0..n as u32).collect();
    up.sort_unstable_by_key(|&i| (levels[i as usize], i));
    let mut rank = vec![0u32; n];
    for (p, &i) in up.iter().enumerate() {
        rank[i as usize] = p as u32;
    }
    let mut arcs = std::mem::take(&mut space.arcs);
    for out in &mut arcs {
        for a in out.iter_mut() {
            a.0 = rank[a.0 as usize];
        }
    }
    let arcs = up
        .iter()
        .map(|&i| std::mem::take(&mut arcs[i as usize]))
        .collect();
    (arcs, up)
}

/// States 1, 2, … n − 1: least degraded first.
fn ascending(n: usize) -> Vec<u32> {
    (1..n as u32).collect()
}

/// How the chain was solved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Solver {
    /// Gauss–Seidel on the cycle equations, certified: every figure lies
    /// within `bound` (relative) of the exact one, up to rounding.
    GaussSeidel {
        /// Sweeps of the slowest system.
        sweeps: usize,
        /// Largest relative width of the figures' brackets.
        bound: f64,
    },
    /// Sparse GTH elimination (when Gauss–Seidel converges too slowly).
    Elimination,
}

impl Solver {
    /// The method, in words.
    pub fn describe(&self) -> &'static str {
        match self {
            Solver::GaussSeidel { .. } => {
                "Gauss-Seidel on the regeneration-cycle equations (subtraction-free, bracketed)"
            }
            Solver::Elimination => {
                "sparse GTH elimination (subtraction-free Gaussian elimination on the generator)"
            }
        }
    }
}

/// Long-run fractions of time writes and reads are available and not, each
/// summed over its own states (so a tiny availability keeps its digits too),
/// and the relative width of their brackets.
struct Fractions {
    write: (f64, f64),
    read: (f64, f64),
    bound: f64,
}

/// (Σ of `v` over the states not in `mask`, Σ over those in it), each +0 when empty.
fn split(v: &[f64], mask: &[bool]) -> (f64, f64) {
    let pick = |down: bool| total(v.iter().zip(mask).filter(|x| *x.1 == down).map(|x| *x.0));
    (pick(false), pick(true))
}

/// Expected time spent in each state between two visits to the start state
/// (index 0), which is 1: v_k s_k = Σ_i v_i q_ik. Normalised, v is π.
fn cycle_times(arcs: &[Vec<Arc>]) -> Option<solve::Bracket> {
    let n = arcs.len();
    let mut c = vec![0.0; n];
    let mut d = vec![1.0; n];
    let mut terms = Vec::new();
    for (i, out) in arcs.iter().enumerate() {
        let mut total = 0.0;
        for &(j, r, _) in out.iter().filter(|a| a.0 as usize != i) {
            total += r;
            match (i, j) {
                (_, 0) => {}
                (0, j) => c[j as usize] += r,
                (i, j) => terms.push((j, i as u32, r)),
            }
        }
        if i != 0 {
            d[i] = total;
        }
    }
    if d.iter().any(|&x| x <= 0.0) {
        return None; // a trap: elimination reports it
    }
    solve::Fixpoint::new(n, terms.into_iter(), c, d).gauss_seidel(
        &ascending(n),
        TOLERANCE,
        MAX_SWEEPS,
    )
}

/// Availabilities from bracketed cycle times (v_0 = 1 exactly).
fn availability_bounds(b: &solve::Bracket, write_down: &[bool], read_down: &[bool]) -> Fractions {
    let with_start = |v: &[f64]| {
        let mut v = v.to_vec();
        v[0] = 1.0;
        v
    };
    let (lo, hi) = (with_start(&b.lo), with_start(&b.hi));
    let (lo_total, hi_total) = (total(lo.iter().copied()), total(hi.iter().copied()));
    let mut bound: f64 = 0.0;
    let mut fractions = |mask: &[bool]| {
        let (l, h) = (split(&lo, mask), split(&hi, mask));
        for (l, h) in [(l.0, h.0), (l.1, h.1)] {
            if l > 0.0 {
                bound = bound.max((h / lo_total) / (l / hi_total) - 1.0);
            }
        }
        (l.0 / lo_total, l.1 / lo_total)
    };
    let (write, read) = (fractions(write_down), fractions(read_down));
    Fractions { write, read, bound }
}

/// The stationary distribution by sparse GTH elimination, most degraded first.
fn eliminate_stationary(
    arcs: &[Vec<Arc>],
    write_down: &[bool],
    read_down: &[bool],
) -> Result<Fractions, AnalyzeError> {
    let n = arcs.len();
    can_eliminate(n)?;
    // Most degraded first: fill-in stays among degraded states, and the
    // start state (level 0, never eliminated) anchors π.
    let order: Vec<u32> = ascending(n).into_iter().rev().collect();
    let arcs = arcs
        .iter()
        .enumerate()
        .flat_map(|(i, out)| out.iter().map(move |&(j, r, _)| (i as u32, j, r)));
    let pi = solve::stationary(n, arcs, &order).map_err(AnalyzeError::Numerical)?;
    Ok(Fractions {
        write: split(&pi, write_down),
        read: split(&pi, read_down),
        bound: 0.0,
    })
}

/// Whether any transition loses data.
fn can_lose(arcs: &[Vec<Arc>]) -> bool {
    arcs.iter().flatten().any(|a| a.2)
}

/// Rates of the arcs that lose data, by state.
fn loss_rates(arcs: &[Vec<Arc>]) -> Vec<f64> {
    arcs.iter()
        .map(|out| total(out.iter().filter(|a| a.2).map(|a| a.1)))
        .collect()
}

/// For the mean time from the start state (index 0) to the first data loss.
/// A cycle runs from the start until the chain is back there or loses data;
/// the number of cycles until a loss is geometric, so by Wald's identity
/// MTTDL = E[cycle length] / P(a cycle ends in loss). Returns the brackets of
/// (P(the cycle from here ends in loss), E[time left in the cycle]) by state.
fn cycle_losses(arcs: &[Vec<Arc>]) -> Option<(solve::Bracket, solve::Bracket)> {
    if !can_lose(arcs) {
        return None;
    }
    let n = arcs.len();
    let up: Vec<u32> = (0..n as u32).collect();
    let down: Vec<u32> = up.iter().rev().copied().collect();
    let d: Vec<f64> = arcs
        .iter()
        .map(|out| total(out.iter().map(|a| a.1)))
        .collect();
    let terms = || {
        arcs.iter().enumerate().flat_map(|(i, out)| {
            out.iter()
                .filter(|a| !a.2 && a.0 != 0)
                .map(move |&(j, r, _)| (i as u32, j, r))
        })
    };
    let loss = solve::Fixpoint::new(n, terms(), loss_rates(arcs), d.clone());
    let time = solve::Fixpoint::new(n, terms(), vec![1.0; n], d);
    // The loss chance flows down from the most degraded states; the time to
    // get back accrues on the way down to the start: opposite orders.
    let (p, t) = rayon::join(
        || loss.gauss_seidel(&down, TOLERANCE, MAX_SWEEPS),
        || time.gauss_seidel(&up, TOLERANCE, MAX_SWEEPS),
    );
    Some((p?, t?))
}

/// The mean time to the first loss by elimination: absorption times of the
/// chain with its loss arcs as exits.
fn eliminate_mttdl(arcs: &[Vec<Arc>]) -> Result<f64, AnalyzeError> {
    let n = arcs.len();
    can_eliminate(n)?;
    let order: Vec<u32> = ascending(n).into_iter().rev().collect();
    let kept = arcs.iter().enumerate().flat_map(|(i, out)| {
        out.iter()
            .filter(|a| !a.2)
            .map(move |&(j, r, _)| (i as u32, j, r))
    });
    solve::mean_absorption_time(n, kept, &loss_rates(arcs), &order, 0)
        .map_err(AnalyzeError::Numerical)
}

/// Elimination fills in too much beyond `MAX_ELIMINATION` states.
fn can_eliminate(n: usize) -> Result<(), AnalyzeError> {
    if n > MAX_ELIMINATION {
        return Err(AnalyzeError::TooSlow(n));
    }
    Ok(())
}

/// A sum that is +0 when empty (`Iterator::sum` of f64 gives −0, which
/// prints as "-0").
fn total(xs: impl Iterator<Item = f64>) -> f64 {
    xs.fold(0.0, |a, x| a + x)
}

#[cfg(test)]
mod tail_tests;
#[cfg(test)]
mod tests;
