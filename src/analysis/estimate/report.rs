//! `estimate`'s outputs: the `--json` object (this struct is the contract
//! of SPEC §7) and the readable report.

use super::{Measure, Options, Prepared, Summary};
use crate::model::{KIND_NAMES, KINDS};
use crate::scenario::Scenario;
use serde::Serialize;

/// What to render.
pub struct Report<'a> {
    /// The scenario as loaded.
    pub scenario: &'a Scenario,
    /// What was run.
    pub prepared: &'a Prepared,
    /// The result.
    pub summary: &'a Summary,
    /// The options used.
    pub opts: &'a Options,
}

/// The biasing parameters used.
#[derive(Serialize)]
struct BiasingJson {
    /// `balanced_failure_biasing`, or `failure_biasing_tuned_odds` after pilots.
    method: &'static str,
    /// Failures' share of the probability while degraded.
    theta: f64,
    /// Whether the first failure was forced into the horizon.
    forced_first_failure: bool,
    /// Λ, the all-up state's total failure rate, per second (with a focus
    /// PG, of the failures that can touch it).
    all_up_failure_rate_per_second: f64,
    /// On a volume: the PGs of which one, drawn uniformly per trial, is
    /// biased (the union estimator).
    #[serde(skip_serializing_if = "Option::is_none")]
    focused_pg_of: Option<u64>,
    /// The split's odds per eligible failure of each process kind present
    /// (all 1: plain balanced failure biasing), tuned by pilot runs.
    odds: std::collections::BTreeMap<&'static str, f64>,
    /// Pilot trials run to tune the odds (not counted in `trials`).
    pilot_trials: u64,
}

/// A process replaced by `--approx`.
#[derive(Serialize)]
struct ApproxJson<'a> {
    key: &'a str,
    was: &'a str,
    mean_seconds: f64,
}

/// SPEC §7's keys first, then extras.
#[derive(Serialize)]
struct EstimateJson<'a> {
    scenario: &'a str,
    seed: u64,
    measure: &'static str,
    /// Null for `write_unavailability`.
    horizon_seconds: Option<f64>,
    estimate: f64,
    ci_low: f64,
    ci_high: f64,
    relative_error: Option<f64>,
    trials: u64,
    variance_reduction: Option<f64>,
    converged: bool,
    hits: u64,
    rel_error_target: f64,
    batch_trials: u64,
    biasing: BiasingJson,
    approximated: Vec<ApproxJson<'a>>,
    /// The `[database]` design estimated (absent: the storage alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    design: Option<&'static str>,
    /// What cannot change the measure and was left out, with why.
    left_out: &'a [String],
}

impl Report<'_> {
    /// The odds per process kind present in the scenario.
    fn odds(&self) -> std::collections::BTreeMap<&'static str, f64> {
        let present = super::kinds_present(&self.prepared.config);
        let odds = self
            .summary
            .tuning
            .as_ref()
            .map_or([1.0; KINDS], |t| t.odds);
        (0..KINDS)
            .filter(|&k| present[k])
            .map(|k| (KIND_NAMES[k], odds[k]))
            .collect()
    }

    fn horizon_seconds(&self) -> Option<f64> {
        (self.prepared.measure == Measure::DataLoss).then(|| self.prepared.horizon.as_secs_f64())
    }

    /// What is estimated, in words: `P(data loss within 1y)`, or the
    /// long-run write unavailability.
    pub fn what(&self) -> String {
        match (self.prepared.measure, self.horizon_seconds()) {
            (Measure::DataLoss, Some(h)) => format!(
                "P(data loss within {})",
                crate::time::format_duration(crate::time::SimTime((h * 1e6) as u64))
            ),
            _ if self.prepared.design.is_some() => "long-run database write unavailability".into(),
            _ => "long-run write unavailability".into(),
        }
    }

    /// One JSON object and a newline (no wall-clock figures).
    pub fn json(&self) -> String {
        let (p, s) = (self.prepared, self.summary);
        let j = EstimateJson {
            scenario: &self.scenario.name,
            seed: self.opts.seed,
            measure: p.measure.as_str(),
            horizon_seconds: self.horizon_seconds(),
            estimate: s.estimate,
            ci_low: s.ci_low,
            ci_high: s.ci_high,
            relative_error: s.relative_error,
            trials: s.trials,
            variance_reduction: s.variance_reduction,
            converged: s.converged,
            hits: s.hits,
            rel_error_target: self.opts.rel_error,
            batch_trials: super::BATCH,
            biasing: BiasingJson {
                method: if s.tuning.is_some() {
                    "failure_biasing_tuned_odds"
                } else {
                    "balanced_failure_biasing"
                },
                theta: self.opts.theta,
                forced_first_failure: p.measure == Measure::DataLoss,
                all_up_failure_rate_per_second: p.all_up_rate,
                focused_pg_of: p.focus_pgs,
                odds: self.odds(),
                pilot_trials: s.tuning.as_ref().map_or(0, |t| t.trials),
            },
            approximated: p
                .approximated
                .iter()
                .map(|(k, w, m)| ApproxJson {
                    key: k,
                    was: w,
                    mean_seconds: *m,
                })
                .collect(),
            design: p.design,
            left_out: &p.left_out,
        };
        let mut out = serde_json::to_string_pretty(&j).unwrap_or_else(|_| "{}".into());
        out.push('\n');
        out
    }

    /// The readable report (may show the wall time).
    pub fn text(&self, path: &str, wall_s: f64) -> String {
        let (p, s) = (self.prepared, self.summary);
        let mut o = String::new();
        let what = self.what();
        o += &format!(
            "scenario  {} ({path}), seed {}\n",
            self.scenario.name, self.opts.seed
        );
        if let Some(d) = p.design {
            o += &format!("database  {d}\n");
        }
        for (k, w, m) in &p.approximated {
            o += &format!("approx    {k}: {w} replaced by exponential(mean {m:.6} s)\n");
        }
        for x in &p.left_out {
            o += &format!("left out  {x}\n");
        }
        if !p.possible {
            o += &format!("{what}: 0 (impossible: no failure process can cause it), no trials\n");
            return o;
        }
        o += &format!(
            "biasing   {} failure biasing, θ = {} while degraded{}; Λ = {:.6e}/s all up\n",
            if s.tuning.is_some() {
                "tuned"
            } else {
                "balanced"
            },
            self.opts.theta,
            if p.measure == Measure::DataLoss {
                ", first failure forced into the horizon"
            } else {
                ", regenerative cycles from all up"
            },
            p.all_up_rate
        );
        if let Some(t) = &s.tuning {
            let odds: Vec<String> = self
                .odds()
                .iter()
                .map(|(k, w)| format!("{k} {w:.3}"))
                .collect();
            o += &format!(
                "          odds per failure, tuned by {} pilot trials: {}\n",
                t.trials,
                odds.join(", ")
            );
        }
        if let Some(n) = p.focus_pgs {
            o += &format!(
                "          on one PG of {n} a trial, drawn uniformly; the others' failures \
                 unbiased (union estimator)\n"
            );
        }
        match s.relative_error {
            Some(r) => {
                o += &format!(
                    "{what}: {:.4e}  (95 % CI {:.4e} – {:.4e}, ±{:.1} %)\n",
                    s.estimate,
                    s.ci_low,
                    s.ci_high,
                    r * 100.0
                )
            }
            None => {
                o += &format!(
                    "{what}: no weighted hit in {} trials; 95 % upper bound {:.3e} (rule of three)\n",
                    s.trials, s.ci_high
                )
            }
        }
        o += &format!(
            "trials    {} ({} hits), variance reduction {}, {}\n",
            s.trials,
            s.hits,
            s.variance_reduction
                .map_or("n/a".into(), |v| format!("{v:.3e}")),
            if s.converged {
                "converged"
            } else {
                "not converged"
            }
        );
        o += &format!("wall      {wall_s:.2} s\n");
        o
    }
}
