//! Refusals before the build: a small *probe* chain of the same scenario
//! tells, in a fraction of a second, which timings the chain uses (so every
//! non-exponential one is named in one refusal) and roughly how large the
//! real chain will be (so a chain past [`super::MAX_STATES`] is refused
//! before minutes of building, not after).
//!
//! The probe keeps the scenario's processes and timings on a layout of at
//! most six replicas (3 AZs × 2 nodes, or fewer AZs, or one node per AZ),
//! with the quorums scaled to it. Measured chains grow about geometrically
//! in the number of replicas V with a rate set by the process mix: over the
//! shipped scenarios on every layout up to V = 9 (and 8 × 1, 2 × 5), the
//! count lies within a factor of 15 of `P^(V/V')`, P being the probe's count
//! on V' replicas. The estimate is only used to refuse when it passes
//! [`MARGIN`] × the cap; below that the build's own counter decides. Within
//! a single AZ nodes are interchangeable and the count grows polynomially,
//! so no estimate is made there.

use super::build::Space;
use super::{AnalyzeError, MAX_STATES};
use crate::model::{Config, Layout, Quorum};

/// How far past the cap an estimate must be before it is trusted to refuse.
pub const MARGIN: f64 = 4.0;

/// The largest probe explored (probes measured so far stay under 40,000).
const PROBE_MAX: usize = 200_000;

/// A chain estimated to be too large, and where the estimate comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Estimated states of the real chain.
    pub states: f64,
    /// Replicas of the real chain.
    pub replicas: usize,
    /// The probe's layout (AZs, nodes per AZ) and its states.
    pub probe: (usize, usize, usize),
}

/// The probe's layout for `azs` × `per_az`.
fn probe_layout(azs: usize, per_az: usize) -> (usize, usize) {
    match (azs, per_az) {
        (1, n) => (1, n.min(6)),
        (a, 1) => (a.min(6), 1),
        (2, n) => (2, n.min(3)),
        (a, _) => (a.min(3), 2),
    }
}

/// The scenario on the probe layout, with the quorums scaled to it (and
/// raised to the smallest valid ones where scaling falls short).
fn probe_config(cfg: &Config) -> Config {
    let (a, n) = probe_layout(cfg.layout.azs.len(), cfg.layout.nodes_per_az);
    let v = (a * n) as u32;
    let (replicas, write, read) = (cfg.quorum.replicas(), cfg.quorum.write(), cfg.quorum.read());
    let scale = |q: u32| (u64::from(q) * u64::from(v)).div_ceil(u64::from(replicas)) as u32;
    let w = scale(write).max(v / 2 + 1).min(v);
    let r = scale(read).max(v + 1 - w).min(v);
    let mut probe = cfg.clone();
    probe.layout = Layout::new(cfg.layout.azs[..a].to_vec(), n);
    // The same layout keeps the scenario's quorum itself: its full set
    // (tail segments, SPEC §6) decides what the chain reaches (a restore
    // after the last full segment is lost, the tails' repairs).
    probe.quorum = if v == replicas {
        cfg.quorum.clone()
    } else {
        Quorum::count(v, w, r).unwrap_or_else(|_| cfg.quorum.clone())
    };
    probe.events.clear();
    probe
}

/// Refuses, from the probe, a chain that uses non-exponential timings (all
/// of them named; unless `approx`), one with an infinite-mean timing (with
/// `approx`), or one estimated past [`MARGIN`] × [`MAX_STATES`].
pub(super) fn screen(cfg: &Config, approx: bool) -> Result<(), AnalyzeError> {
    let probe_cfg = probe_config(cfg);
    let mut space = Space::probe(&probe_cfg);
    if space.explore(PROBE_MAX).is_err() {
        return Ok(()); // no estimate; the build decides
    }
    let subs = space.substitutions();
    if let Some(s) = subs
        .iter()
        .find(|s| !(s.mean_secs.is_finite() && s.mean_secs > 0.0))
        && approx
    {
        return Err(AnalyzeError::NoMean(s.clone()));
    }
    if !approx && !subs.is_empty() {
        return Err(AnalyzeError::NotExponential(subs));
    }
    let (azs, per_az) = (cfg.layout.azs.len(), cfg.layout.nodes_per_az);
    let (v, vp) = (azs * per_az, probe_cfg.layout.replicas());
    if azs == 1 || v <= vp {
        return Ok(());
    }
    let p = space.len();
    let states = (p as f64).powf(v as f64 / vp as f64);
    if states > MARGIN * MAX_STATES as f64 {
        return Err(AnalyzeError::TooLargeEstimate(Estimate {
            states,
            replicas: v,
            probe: (probe_cfg.layout.azs.len(), probe_cfg.layout.nodes_per_az, p),
        }));
    }
    Ok(())
}

/// The estimated states of `cfg`'s chain (for tests and calibration).
#[cfg(test)]
fn estimated_states(cfg: &Config) -> f64 {
    let probe_cfg = probe_config(cfg);
    let mut space = Space::probe(&probe_cfg);
    space.explore(PROBE_MAX).unwrap();
    let v = cfg.layout.replicas() as f64;
    (space.len() as f64).powf(v / probe_cfg.layout.replicas() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Overrides, parse};

    fn config(file: &str, azs: usize, per_az: usize, w: u32, r: u32) -> Config {
        let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
        let src = std::fs::read_to_string(path).unwrap();
        let names: Vec<String> = (0..azs).map(|i| format!("\"z{i}\"")).collect();
        let cluster = format!(
            "[cluster]\nazs = [{}]\nnodes_per_az = {per_az}\nwrite_quorum = {w}\nread_quorum = {r}\n",
            names.join(", ")
        );
        let src = src.replacen("[cluster]\n", &cluster, 1);
        parse(&src, file, &Overrides::default()).unwrap().config
    }

    // See: issue 11
    #[test]
    fn issue_11_big_layouts_are_refused_from_the_estimate() {
        // 3 × 4 and 4 × 3 took 37 s and 124 s to pass 3,000,000 states and be
        // refused. The probe (3 × 2, 4,653 states for all-four) gives
        // 4653^(12/6) = 2.2e7, past 4 × 3e6.
        for (a, n) in [(3, 4), (4, 3)] {
            let cfg = config("all-four.toml", a, n, 7, 6);
            match screen(&cfg, false) {
                Err(AnalyzeError::TooLargeEstimate(e)) => {
                    assert!(e.states > 2e7 && e.replicas == 12, "{e:?}")
                }
                other => panic!("{a} × {n}: expected a refusal, got {other:?}"),
            }
        }
    }

    #[test]
    fn chains_that_fit_are_not_refused() {
        // (file, AZs, nodes per AZ, quorums, states counted by a full build):
        // each estimate must stay under the refusal line, 4 × 3e6.
        for (file, a, n, w, r, counted) in [
            ("all-four.toml", 3, 3, 5, 5, 452_106.0),
            ("all-four.toml", 3, 3, 6, 4, 110_847.0),
            ("all-four.toml", 4, 2, 5, 4, 105_743.0),
            ("all-four.toml", 2, 5, 6, 5, 153_356.0),
            ("all-four.toml", 8, 1, 5, 4, 114_102.0),
            ("fleet-rates.toml", 3, 3, 5, 5, 437_180.0),
            ("baseline.toml", 3, 3, 5, 5, 1_848_705.0),
            ("baseline.toml", 4, 2, 5, 4, 479_580.0),
        ] {
            let est = estimated_states(&config(file, a, n, w, r));
            assert!(
                est < MARGIN * MAX_STATES as f64,
                "{file} {a} × {n}: estimate {est:e}"
            );
            // The calibration the module doc states: within a factor of 15.
            assert!(
                est / counted < 15.0 && counted / est < 15.0,
                "{file} {a} × {n}: estimate {est:e} vs {counted}"
            );
        }
    }
}
