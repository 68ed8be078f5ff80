//! `compare` (SPEC §5): the same scenario's failures against each design.
//!
//! Trial `t` runs on [`trial_seed`]`(seed, 0, t)` for *every* design, so the
//! storage underneath (which draws from the main stream and never sees the
//! database) meets the same AZ outages and node failures in every design;
//! the database's own draws come from substreams per instance. Per-design
//! sums are exact integers, so no thread count changes a byte.

use super::run::simulate;
use super::stats::Moments;
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

/// Runs `trials` trials of every entry on `threads` threads (None: all cores).
pub fn execute(
    entries: &mut [Entry],
    sc: &Scenario,
    trials: u64,
    seed: u64,
    threads: Option<usize>,
) -> Result<(), Error> {
    let n = entries.len();
    let per = trials.div_ceil(CHUNK);
    let pool = super::thread_pool(threads)?;
    let cfgs: Vec<&Config> = entries.iter().map(|e| &e.config).collect();
    let sums = pool.install(|| {
        (0..per * n as u64)
            .into_par_iter()
            .try_fold(
                || vec![DesignStats::default(); n],
                |mut acc, idx| {
                    let d = (idx / per) as usize;
                    let first = (idx % per) * CHUNK;
                    for t in first..(first + CHUNK).min(trials) {
                        // The same seed for every design: the same storage history.
                        let st = simulate(cfgs[d], trial_seed(seed, 0, t), sc.horizon)?;
                        acc[d].add(&st);
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

/// The database timeline CSV of `entry`'s trial 0 (the replay form's one
/// trial, on the seed [`execute`] gives it), for the replay picture.
pub fn replay_timeline(entry: &Entry, sc: &Scenario, seed: u64) -> Result<Vec<u8>, Error> {
    use crate::engine::SlotHeap;
    use crate::output::timeline::TimelineCsv;
    let tl = TimelineCsv::for_config(&entry.config, Vec::new());
    let (_, tl) = super::run::simulate_observed::<_, SlotHeap<crate::model::Event>>(
        &entry.config,
        trial_seed(seed, 0, 0),
        0,
        sc.horizon,
        tl,
    )?;
    tl.into_bytes()
        .ok_or_else(|| Error::Internal("formatting a replay timeline".into()))
}
