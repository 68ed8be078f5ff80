//! `compare` (SPEC §5): the same scenario's failures against each design.
//!
//! Trial `t` runs on [`trial_seed`]`(seed, t)` for *every* design, and every
//! random source draws from a stream of its own (common random numbers), so
//! the designs meet the same AZ outages, node failures and instance crashes
//! wherever they share the source. Each trial runs all designs side by side,
//! so the difference of each design's downtime from the first design's is
//! known per trial, and its interval is a paired one: much narrower than the
//! difference of two independent estimates (`--independent` runs each
//! design on streams of its own, to measure exactly that). Per-design sums
//! are exact integers, so no thread count changes a byte.

use super::run::simulate;
use super::stats::{Moments, U256};
use super::sweep::trial_seed;
use crate::error::Error;
use crate::model::{Config, Database, Design, RunStats, ScriptedKind};
use crate::scenario::Scenario;
use rayon::prelude::*;

/// Trials per unit of parallel work.
const CHUNK: u64 = 16;

/// Exact sums over one design's trials.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DesignStats {
    /// Trials run.
    pub trials: u64,
    /// Σ, Σ² of write-unavailable µs.
    pub write: Moments,
    /// Σ, Σ² of read-unavailable µs.
    pub read: Moments,
    /// Write outages over all trials.
    pub outages: u64,
    /// Failovers over all trials.
    pub failovers: u64,
    /// Restarts over all trials.
    pub restarts: u64,
    /// Longest write outage of any trial (µs).
    pub longest_us: u64,
    /// Trials with a data loss.
    pub loss_trials: u64,
    /// Σ of lost-write µs.
    pub lost_us: u128,
    /// Most lost-write µs in one trial.
    pub lost_max_us: u64,
    /// Σ storage-caused and compute-caused write downtime (µs).
    pub storage_us: u128,
    /// See `storage_us`.
    pub compute_us: u128,
    /// Simulated µs over all trials.
    pub simulated_us: u128,
    /// Σ, Σ² of (this design's − the first design's) write-unavailable µs,
    /// trial by trial.
    pub diff: SignedMoments,
}

/// Exact Σd and Σd² of signed µs differences.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignedMoments {
    /// Σd.
    pub sum: i128,
    /// Σd².
    pub sum_sq: U256,
}

impl SignedMoments {
    fn add(&mut self, d: i128) {
        self.sum += d;
        self.sum_sq.add(d.unsigned_abs() * d.unsigned_abs());
    }

    fn merge(&mut self, o: &SignedMoments) {
        self.sum += o.sum;
        self.sum_sq.add_u256(o.sum_sq);
    }

    /// Mean and sample variance over `n` observations (variance 0 for n < 2).
    pub fn mean_var(&self, n: u64) -> (f64, f64) {
        let nf = n.max(1) as f64;
        let mean = self.sum as f64 / nf;
        if n < 2 {
            return (mean, 0.0);
        }
        let var = ((self.sum_sq.to_f64() - self.sum as f64 * mean) / (nf - 1.0)).max(0.0);
        (mean, var)
    }
}

impl DesignStats {
    fn add(&mut self, st: &RunStats) {
        self.trials += 1;
        self.write.add(st.write.total.0);
        self.read.add(st.read.total.0);
        self.outages += st.write.count;
        self.longest_us = self.longest_us.max(st.write.longest.0);
        if st.data_loss_events > 0 {
            self.loss_trials += 1;
        }
        self.lost_us += st.lost_write_us as u128;
        self.lost_max_us = self.lost_max_us.max(st.lost_write_us);
        if let Some(d) = &st.database {
            self.failovers += d.failovers;
            self.restarts += d.restarts;
            self.storage_us += d.storage_write_unavailable.0 as u128;
            self.compute_us += d.compute_write_unavailable.0 as u128;
        }
        self.simulated_us += st.horizon.0 as u128;
    }

    fn merge(&mut self, o: &DesignStats) {
        self.trials += o.trials;
        self.write.merge(&o.write);
        self.read.merge(&o.read);
        self.outages += o.outages;
        self.failovers += o.failovers;
        self.restarts += o.restarts;
        self.longest_us = self.longest_us.max(o.longest_us);
        self.loss_trials += o.loss_trials;
        self.lost_us += o.lost_us;
        self.lost_max_us = self.lost_max_us.max(o.lost_max_us);
        self.storage_us += o.storage_us;
        self.compute_us += o.compute_us;
        self.simulated_us += o.simulated_us;
        self.diff.merge(&o.diff);
    }
}

/// One design of a comparison: its config, what it skips, and its totals.
pub struct Entry {
    /// The design.
    pub design: Design,
    /// The scenario as this design runs it.
    pub config: Config,
    /// Failure sources it has no target for (skipped).
    pub skipped: Vec<String>,
    /// Totals.
    pub stats: DesignStats,
}

/// The designs to compare: `list` (comma-separated) or all four.
pub fn parse_designs(list: Option<&str>) -> Result<Vec<Design>, Error> {
    let Some(list) = list else {
        return Ok(Design::ALL.to_vec());
    };
    let mut out = Vec::new();
    for w in list.split(',').map(str::trim) {
        let d = Design::parse(w).ok_or_else(|| {
            Error::flag(
                "--designs",
                format!(
                    "unknown design `{w}` (use aurora, rds-single-az, rds-multi-az or rds-multi-az-cluster, comma-separated)"
                ),
            )
        })?;
        if out.contains(&d) {
            return Err(Error::flag("--designs", format!("`{w}` is listed twice")));
        }
        out.push(d);
    }
    Ok(out)
}

/// The scenario as `design` runs it, and what it skips there.
pub fn entry(sc: &Scenario, design: Design) -> Result<Entry, Error> {
    let cfg = &sc.config;
    let base = cfg
        .database
        .clone()
        .unwrap_or_else(|| Database::defaults(cfg.layout.azs.len()));
    if !base.variants.iter().any(|(d, _)| *d == design) {
        return Err(Error::flag(
            "--designs",
            format!(
                "design `{}` needs more AZs than cluster.azs has ({})",
                design.as_str(),
                cfg.layout.azs.len()
            ),
        ));
    }
    let db = base.as_design(design);
    let n = db.spec.instances.len();
    let mut skipped = Vec::new();
    let f = &cfg.failures;
    if design.is_rds() {
        for (p, name) in [
            (&f.node_crash, "node_crash"),
            (&f.node_loss, "node_loss"),
            (&f.rack_outage, "rack_outage"),
        ] {
            if p.is_some() {
                skipped.push(format!("failures.{name} (no storage nodes)"));
            }
        }
    } else if db.ebs_loss.is_some() {
        skipped.push("failures.ebs_loss (no EBS volumes)".into());
    }
    for (i, e) in cfg.events.iter().enumerate() {
        let why = match e.kind {
            ScriptedKind::NodeCrash | ScriptedKind::NodeLoss | ScriptedKind::RackOutage
                if design.is_rds() =>
            {
                Some("no storage nodes".to_string())
            }
            ScriptedKind::EbsLoss if !design.is_rds() => Some("no EBS volumes".into()),
            ScriptedKind::InstanceCrash | ScriptedKind::EbsLoss if e.target >= n => {
                Some(format!("instance {} of {n}", e.target + 1))
            }
            _ => None,
        };
        if let Some(why) = why {
            skipped.push(format!("events[{i}] {} ({why})", e.kind.as_str()));
        }
    }
    let mut config = cfg.clone();
    config.database = Some(db);
    Ok(Entry {
        design,
        config,
        skipped,
        stats: DesignStats::default(),
    })
}

/// The seed of design `d`'s trial `t`: the same for every design (common
/// random numbers), or with `independent` one stream family per design.
pub fn design_trial_seed(seed: u64, d: usize, t: u64, independent: bool) -> u64 {
    if independent && d > 0 {
        // Trial indices never reach 2^64 − d, so no design shares a family.
        trial_seed(trial_seed(seed, u64::MAX - d as u64), t)
    } else {
        trial_seed(seed, t)
    }
}

/// Runs `trials` trials of every entry on `threads` threads (None: all
/// cores); `independent` gives each design its own random streams.
pub fn execute(
    entries: &mut [Entry],
    sc: &Scenario,
    trials: u64,
    seed: u64,
    threads: Option<usize>,
    independent: bool,
) -> Result<(), Error> {
    let n = entries.len();
    let per = trials.div_ceil(CHUNK);
    let pool = super::thread_pool(threads)?;
    let cfgs: Vec<&Config> = entries.iter().map(|e| &e.config).collect();
    let sums = pool.install(|| {
        (0..per)
            .into_par_iter()
            .try_fold(
                || vec![DesignStats::default(); n],
                |mut acc, idx| {
                    let first = idx * CHUNK;
                    for t in first..(first + CHUNK).min(trials) {
                        // Every design on trial t, side by side, for the paired difference.
                        let mut reference = 0i128;
                        for (d, cfg) in cfgs.iter().enumerate() {
                            let s = design_trial_seed(seed, d, t, independent);
                            let st = simulate(cfg, s, sc.horizon)?;
                            let w = i128::from(st.write.total.0);
                            if d == 0 {
                                reference = w;
                            }
                            acc[d].diff.add(w - reference);
                            acc[d].add(&st);
                        }
                    }
                    Ok::<_, Error>(acc)
                },
            )
            .try_reduce(
                || vec![DesignStats::default(); n],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(&b) {
                        x.merge(y);
                    }
                    Ok(a)
                },
            )
    })?;
    for (e, s) in entries.iter_mut().zip(sums) {
        e.stats = s;
    }
    Ok(())
}

/// The database timeline CSV of trial 0 of `entry`, design `d` of the
/// comparison (the replay form's one trial, on the seed [`execute`] gives
/// it), for the replay picture.
pub fn replay_timeline(
    entry: &Entry,
    d: usize,
    sc: &Scenario,
    seed: u64,
    independent: bool,
) -> Result<Vec<u8>, Error> {
    use crate::engine::SlotHeap;
    use crate::output::timeline::TimelineCsv;
    let tl = TimelineCsv::for_config(&entry.config, Vec::new());
    let (_, tl) = super::run::simulate_observed::<_, SlotHeap<crate::model::Event>>(
        &entry.config,
        design_trial_seed(seed, d, 0, independent),
        sc.horizon,
        tl,
    )?;
    tl.into_bytes()
        .ok_or_else(|| Error::Internal("formatting a replay timeline".into()))
}
