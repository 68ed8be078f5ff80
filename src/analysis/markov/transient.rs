//! The chain's transient probability of a data loss within a horizon, by
//! uniformization (an exact reference for `estimate`, SPEC §7).
//!
//! With q ≥ every state's total exit rate, P = I + Q/q is a stochastic
//! matrix and P(loss by T) = Σₖ Pois(k; qT) · aₖ, where aₖ is the mass that
//! reached a loss within k jumps of P from the start state (loss arcs are
//! made absorbing). The Poisson weights are summed until their tail is
//! below 1e-15.

use super::build::Space;
use super::{AnalyzeError, MAX_STATES};
use crate::model::Config;

/// Largest qT uniformization is run for (the cost is qT sweeps of the chain).
pub const MAX_JUMPS: f64 = 1e6;

/// P(at least one data loss in `[0, horizon_s)`) from all replicas current.
pub fn p_loss_by(cfg: &Config, horizon_s: f64, approx: bool) -> Result<f64, AnalyzeError> {
    let mut space = Space::new(cfg, approx);
    space.explore(MAX_STATES).map_err(|e| match e {
        super::BuildError::NotExp(super::NotExponential(s, true)) => AnalyzeError::NoMean(s),
        super::BuildError::NotExp(super::NotExponential(s, false)) => {
            AnalyzeError::NotExponential(vec![s])
        }
        super::BuildError::TooLarge(n) => AnalyzeError::TooLarge(n),
    })?;
    let arcs = &space.arcs;
    let n = arcs.len();
    let exit: Vec<f64> = arcs.iter().map(|o| o.iter().map(|a| a.1).sum()).collect();
    let q = exit.iter().cloned().fold(0.0, f64::max);
    let qt = q * horizon_s;
    if q <= 0.0 {
        return Ok(0.0);
    }
    if qt.is_nan() || qt > MAX_JUMPS {
        return Err(AnalyzeError::Numerical(format!(
            "uniformization would take {qt:.3e} jumps, more than {MAX_JUMPS:e}"
        )));
    }
    let mut v = vec![0.0; n];
    v[0] = 1.0;
    let mut absorbed = 0.0;
    let (mut total, mut weight_sum) = (0.0, 0.0);
    let kmax = (qt + 12.0 * qt.sqrt() + 30.0).ceil() as u64;
    let mut next = vec![0.0; n];
    for k in 0..=kmax {
        // Pois(k; qT) in logs (no underflow of e^{−qT} for large qT).
        let lw = -qt + k as f64 * qt.max(f64::MIN_POSITIVE).ln()
            - statrs::function::gamma::ln_gamma(k as f64 + 1.0);
        let w = lw.exp();
        total += w * absorbed;
        weight_sum += w;
        if k as f64 > qt && 1.0 - weight_sum < 1e-15 {
            break;
        }
        next.iter_mut().for_each(|x| *x = 0.0);
        for (i, out) in arcs.iter().enumerate() {
            let m = v[i];
            if m == 0.0 {
                continue;
            }
            next[i] += m * (1.0 - exit[i] / q);
            for &(j, rate, loses) in out {
                if loses {
                    absorbed += m * rate / q;
                } else {
                    next[j as usize] += m * rate / q;
                }
            }
        }
        std::mem::swap(&mut v, &mut next);
    }
    // The tail beyond the last term has every aₖ ≤ 1.
    Ok(total + (1.0 - weight_sum).max(0.0) * absorbed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Overrides, parse};

    #[test]
    fn issue_16_matches_the_mean_time_to_loss_when_repairs_are_fast() {
        // 3 replicas, quorum 2/3, exponential 1 h repairs, node losses every
        // 30 d: excursions last ~1 h ≪ T = 10 y, so P(loss by T) =
        // 1 − e^{−T/MTTDL} up to a relative error ~ r/T·(a few) ≈ 1e-4;
        // MTTDL comes from `analyze`'s independent solver.
        let src = "name = \"t\"\nhorizon = \"1y\"\n[cluster]\nnodes_per_az = 1\nwrite_quorum = 2\n\
                   read_quorum = 2\nrepair_time = { dist = \"exponential\", mean = \"1h\" }\n\
                   restore_time = \"0s\"\n[failures.node_loss]\nevery = \"30d\"\n";
        let sc = parse(src, "t.toml", &Overrides::default()).unwrap();
        let t = 10.0 * 365.0 * 86400.0;
        let p = p_loss_by(&sc.config, t, false).unwrap();
        let m = super::super::analyze(&sc.config, false)
            .unwrap()
            .mttdl_seconds
            .unwrap();
        let closed = -(-t / m).exp_m1();
        assert!((p / closed - 1.0).abs() < 2e-3, "{p:e} vs {closed:e}");
    }
}
