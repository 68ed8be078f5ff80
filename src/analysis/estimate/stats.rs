//! The estimator's running sums and its 95 % interval.
//!
//! `p_data_loss`: the mean of the weighted indicators, p̂ = Σx/n, with the
//! CLT interval p̂ ± 1.96·s/√n. `write_unavailability` (regenerative
//! cycles): r̂ = ū / (1/Λ + d̄), where u is a cycle's weighted unavailable
//! time and d its weighted length after the first failure (the all-up
//! sojourn before it is exponential with mean 1/Λ, so it is added exactly),
//! with the delta-method interval r̂ ± 1.96·s_z/(√n·c̄), z = u − r̂·d.

use super::{Measure, Prepared, Sample};

/// z of the two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Weighted hits needed before the interval is trusted for stopping: with
/// fewer, the sample variance of a heavy-tailed weight is unreliable.
pub const MIN_HITS: u64 = 10;

/// Exact-order sums over trials (added in trial order only).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sums {
    /// Trials run.
    pub trials: u64,
    /// Trials with a hit (data loss, or a write outage in the cycle).
    pub hits: u64,
    sx: f64,
    sxx: f64,
    sd: f64,
    sdd: f64,
    sxd: f64,
}

/// The estimate after some trials.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The estimate (0 without hits).
    pub estimate: f64,
    /// 95 % interval (without hits: 0 and the rule-of-three bound 3/n).
    pub ci_low: f64,
    /// Upper end of the interval.
    pub ci_high: f64,
    /// Half-width over the estimate (None without hits).
    pub relative_error: Option<f64>,
    /// Trials run.
    pub trials: u64,
    /// Trials with a hit.
    pub hits: u64,
    /// p(1 − p) over the per-trial variance (None when it is zero).
    pub variance_reduction: Option<f64>,
    /// Whether the stopping rule held (or nothing needed estimating).
    pub converged: bool,
    /// The split's tuned odds and the pilot trials, when tuned.
    pub tuning: Option<super::tune::Tuning>,
}

impl Sums {
    /// Adds one trial.
    pub fn add(&mut self, s: &Sample) {
        self.trials += 1;
        self.hits += u64::from(s.hit && s.value > 0.0);
        self.sx += s.value;
        self.sxx += s.value * s.value;
        self.sd += s.length;
        self.sdd += s.length * s.length;
        self.sxd += s.value * s.length;
    }

    /// The estimate, its interval and whether it meets `rel_error`.
    pub fn summary(&self, p: &Prepared, rel_error: f64) -> Summary {
        let n = self.trials as f64;
        if !p.possible || self.trials == 0 || self.hits == 0 {
            return Summary {
                estimate: 0.0,
                ci_low: 0.0,
                ci_high: if self.trials == 0 { 0.0 } else { 3.0 / n },
                relative_error: None,
                trials: self.trials,
                hits: self.hits,
                variance_reduction: None,
                converged: !p.possible,
                tuning: None,
            };
        }
        let xbar = self.sx / n;
        let (est, var, scale) = match p.measure {
            Measure::DataLoss => {
                let var = (self.sxx / n - xbar * xbar).max(0.0) * n / (n - 1.0).max(1.0);
                (xbar, var, 1.0)
            }
            Measure::WriteUnavailability => {
                let c = 1.0 / p.all_up_rate + self.sd / n;
                let r = xbar / c;
                // Var(u − r d) from the sums, about the means.
                let dbar = self.sd / n;
                let vu = self.sxx / n - xbar * xbar;
                let vd = self.sdd / n - dbar * dbar;
                let cud = self.sxd / n - xbar * dbar;
                let vz = (vu - 2.0 * r * cud + r * r * vd).max(0.0) * n / (n - 1.0).max(1.0);
                (r, vz, c * c)
            }
        };
        let per_trial = var / scale;
        let half = Z95 * (per_trial / n).sqrt();
        let rel = half / est;
        Summary {
            estimate: est,
            ci_low: (est - half).max(0.0),
            ci_high: est + half,
            relative_error: Some(rel),
            trials: self.trials,
            hits: self.hits,
            variance_reduction: (per_trial > 0.0).then(|| est * (1.0 - est) / per_trial),
            converged: self.hits >= MIN_HITS && rel <= rel_error,
            tuning: None,
        }
    }
}
