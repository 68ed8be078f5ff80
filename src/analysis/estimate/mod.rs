//! `estimate` (SPEC §7): rare-event probabilities by importance sampling.
//!
//! Each trial runs the ordinary model with its failure processes driven by
//! a [`Biasing`] plan (balanced failure biasing; see `model/volume/bias.rs`)
//! and is weighted by its exact likelihood ratio. Trials run in batches of
//! [`BATCH`] in trial order, each on its own random stream (the sweep's
//! `trial_seed(seed, trial)`), and batch sums are reduced in trial order,
//! so the result is the same for any thread count. After each whole batch
//! the run stops once the 95 % interval's half-width is within the
//! requested relative error, or at the trial limit.

mod prepare;
mod report;
mod stats;
pub mod tune;

pub use prepare::{Prepared, prepare};
pub use report::Report;
pub use stats::{Summary, Sums};

use crate::analysis::sweep::trial_seed;
use crate::engine::{Engine, SlotHeap};
use crate::error::Error;
use crate::model::{Biasing, Config, DbModel, Event, KINDS, NoObserver, Volume};
use crate::time::SimTime;
use rayon::prelude::*;

/// One batch's running figures: trials so far, estimate, 95 % interval.
pub type Step = (u64, f64, f64, f64);

/// Trials per batch: the stopping rule is checked between batches only.
pub const BATCH: u64 = 1024;

/// Default share of the probability failures get while degraded.
pub const DEFAULT_THETA: f64 = 0.5;

/// Horizon of one regenerative cycle: a safety net, never reached in practice.
const CYCLE_HORIZON: SimTime = SimTime(100_000 * 365 * 86_400 * 1_000_000);

/// What is estimated.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Measure {
    /// P(at least one data loss in `[0, horizon)`), starting all current.
    DataLoss,
    /// Long-run fraction of time without write quorum.
    WriteUnavailability,
}

impl Measure {
    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::DataLoss => "p_data_loss",
            Measure::WriteUnavailability => "write_unavailability",
        }
    }
}

/// One trial's result: its weighted value and, for cycles, the weighted
/// cycle length after the first failure (seconds).
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct Sample {
    /// w·1{data loss} or w·(write-unavailable seconds in the cycle).
    pub value: f64,
    /// w·(seconds from the first failure back to all up), cycles only.
    pub length: f64,
    /// The likelihood ratio.
    pub weight: f64,
    /// Whether the trial lost data (or, for cycles, lost write quorum).
    pub hit: bool,
    /// Fired picks of the biased split per process kind (for the pilot's
    /// tuning of the odds).
    pub picks: [u32; KINDS],
    /// Their summed exposures (see [`crate::model::BiasOutcome`]).
    pub exposure: [f64; KINDS],
}

/// The plan `estimate` uses for `measure` over `horizon`, with Λ the
/// all-up failure rate. For `p_data_loss` a trial makes about 1 + ΛT
/// excursions from the all-up state; each is biased with probability
/// β = 1/(1 + ΛT) (a defensive mixture), so about one per trial is, and the
/// weight of the others stays below 1/(1 − β) each (biasing them all would
/// multiply the weight's second moment by ~2 per degraded interval of every
/// excursion). A cycle is one excursion, always biased. With `focus`
/// (`p_data_loss` on a volume of several PGs) one PG is biased per trial
/// (the union estimator) and Λ is that PG's all-up rate.
pub fn plan(
    measure: Measure,
    horizon: SimTime,
    theta: f64,
    all_up_rate: f64,
    focus: bool,
) -> Biasing {
    let mix = match measure {
        Measure::DataLoss => 1.0 / (1.0 + all_up_rate * horizon.as_secs_f64()),
        Measure::WriteUnavailability => 1.0,
    };
    Biasing {
        theta,
        balanced: theta > 0.0,
        force_first: (measure == Measure::DataLoss).then_some(horizon),
        cycle: measure == Measure::WriteUnavailability,
        mix: if mix.is_finite() && mix > 0.0 {
            mix
        } else {
            1.0
        },
        focus: focus && measure == Measure::DataLoss,
        odds: [1.0; KINDS],
    }
}

/// Which failure process kinds the scenario has (`KIND_NAMES` order).
pub fn kinds_present(cfg: &Config) -> [bool; KINDS] {
    let f = &cfg.failures;
    let db = cfg.database.as_ref();
    [
        f.node_crash.is_some(),
        f.node_loss.is_some(),
        f.az_outage.is_some(),
        f.az_loss.is_some(),
        f.rack_outage.is_some(),
        db.is_some_and(|d| d.instance_crash.is_some()),
        db.is_some_and(|d| d.ebs_process().is_some()),
    ]
}

/// Runs one biased trial to `horizon` on `eng`: the storage alone, or a
/// database above it; returns the run's totals and the bias outcome.
fn run_biased(
    cfg: &Config,
    plan: Biasing,
    stop_at_loss: bool,
    eng: &mut Engine<Event, SlotHeap<Event>>,
    horizon: SimTime,
) -> Result<(crate::model::RunStats, Option<crate::model::BiasOutcome>), Error> {
    let fault = |e| Error::Internal(format!("simulation fault: {e}"));
    let end = |eng: &Engine<Event, SlotHeap<Event>>| horizon.min(eng.now().max(SimTime(1)));
    match &cfg.database {
        Some(db) => {
            let mut m = DbModel::new(cfg, db, NoObserver).biased(plan);
            if stop_at_loss {
                m = m.stop_at_first_loss();
            }
            m.start(eng);
            eng.run_until(&mut m, horizon);
            let o = m.bias_outcome();
            let st = m.finish(end(eng), eng.events_processed()).map_err(fault)?.0;
            Ok((st, o))
        }
        None => {
            let mut v = Volume::new(cfg, NoObserver).biased(plan);
            if stop_at_loss {
                v = v.stop_at_first_loss();
            }
            v.start(eng);
            eng.run_until(&mut v, horizon);
            let o = v.bias_outcome();
            let st = v.finish(end(eng), eng.events_processed()).map_err(fault)?.0;
            Ok((st, o))
        }
    }
}

/// Runs trial `t` of `seed` under `plan`.
pub fn trial(
    cfg: &Config,
    plan: Biasing,
    measure: Measure,
    seed: u64,
    t: u64,
    horizon: SimTime,
) -> Result<Sample, Error> {
    let horizon = match measure {
        Measure::DataLoss => horizon,
        Measure::WriteUnavailability => CYCLE_HORIZON,
    };
    let mut eng: Engine<Event, SlotHeap<Event>> = Engine::new(trial_seed(seed, t));
    let stop = measure == Measure::DataLoss;
    let (st, outcome) = run_biased(cfg, plan, stop, &mut eng, horizon)?;
    let end = eng.now();
    let w = outcome.map_or(1.0, |o| o.weight);
    Ok(match measure {
        Measure::DataLoss => {
            let lost = st.data_loss_events > 0;
            let (value, hit) =
                outcome.map_or((if lost { w } else { 0.0 }, lost), |o| o.score(lost));
            Sample {
                value,
                length: 0.0,
                weight: w,
                hit,
                picks: outcome.map_or([0; KINDS], |o| o.picks),
                exposure: outcome.map_or([0.0; KINDS], |o| o.exposure),
            }
        }
        Measure::WriteUnavailability => {
            let u = st.write.total.as_secs_f64();
            // The cycle's failure came at 1 µs; its all-up sojourn before
            // that is accounted exactly (mean 1/Λ) by the caller.
            let d = end.0.saturating_sub(1) as f64 / 1e6;
            Sample {
                value: w * u,
                length: w * d,
                weight: w,
                hit: u > 0.0,
                ..Sample::default()
            }
        }
    })
}

/// Runs trials `first..first + n` on the current rayon pool, in trial order.
pub fn batch(
    p: &Prepared,
    plan: Biasing,
    seed: u64,
    first: u64,
    n: u64,
) -> Result<Vec<Sample>, Error> {
    (first..first + n)
        .into_par_iter()
        .map(|t| trial(&p.config, plan, p.measure, seed, t, p.horizon))
        .collect()
}

/// Options of one estimate.
#[derive(Clone, Debug)]
pub struct Options {
    /// Stop once the 95 % half-width is within this fraction of the estimate.
    pub rel_error: f64,
    /// Stop after this many trials at most (rounded up to whole batches).
    pub max_trials: u64,
    /// Base seed.
    pub seed: u64,
    /// Degraded-state failure share θ.
    pub theta: f64,
    /// Tune the split's odds per process kind by pilot runs first.
    pub tune: bool,
}

/// Runs batches until the stopping rule holds; `progress(trials, sums)` is
/// called after each batch.
pub fn execute(
    p: &Prepared,
    o: &Options,
    progress: &mut dyn FnMut(&Sums),
) -> Result<Summary, Error> {
    let mut plan = plan(
        p.measure,
        p.horizon,
        o.theta,
        p.all_up_rate,
        p.focus_pgs.is_some(),
    );
    let mut sums = Sums::default();
    if !p.possible {
        return Ok(sums.summary(p, o.rel_error));
    }
    // With one process kind the odds cancel out: nothing to tune.
    let kinds = kinds_present(&p.config).iter().filter(|&&k| k).count();
    let tuning = if plan.balanced && p.measure == Measure::DataLoss && o.tune && kinds > 1 {
        let t = tune::tune(p, plan, o.seed)?;
        plan.odds = t.odds;
        Some(t)
    } else {
        None
    };
    let done = |sums: &Sums| {
        let mut s = sums.summary(p, o.rel_error);
        s.tuning = tuning.clone();
        s
    };
    while sums.trials < o.max_trials {
        let n = BATCH.min(o.max_trials - sums.trials);
        for s in batch(p, plan, o.seed, sums.trials, n)? {
            sums.add(&s);
        }
        progress(&sums);
        if sums.summary(p, o.rel_error).converged {
            break;
        }
    }
    Ok(done(&sums))
}

#[cfg(test)]
mod db_tests;
#[cfg(test)]
mod tests;

/// [`execute`] on `threads` threads (None: all cores) with a progress bar
/// on stderr when it is a terminal (and not `quiet`); also returns the
/// running (trials, estimate, ci_low, ci_high) after each batch.
pub fn run(
    p: &Prepared,
    o: &Options,
    threads: Option<usize>,
    quiet: bool,
) -> Result<(Summary, Vec<Step>), Error> {
    use indicatif::{ProgressBar, ProgressStyle};
    use std::io::IsTerminal;
    let pool = super::thread_pool(threads)?;
    let bar = if quiet || !p.possible || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}  elapsed {elapsed}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(500));
        bar
    };
    let mut steps = Vec::new();
    let mut tick = |s: &Sums| {
        let sm = s.summary(p, o.rel_error);
        steps.push((s.trials, sm.estimate, sm.ci_low, sm.ci_high));
        let rel = sm
            .relative_error
            .map_or("no weighted hit yet".to_string(), |r| {
                format!("±{:.1} %", r * 100.0)
            });
        bar.set_message(format!(
            "{} trials, estimate {:.3e} {rel} (target ±{:.1} %)",
            s.trials,
            sm.estimate,
            o.rel_error * 100.0
        ));
    };
    let out = pool.install(|| execute(p, o, &mut tick));
    bar.finish_and_clear();
    Ok((out?, steps))
}
