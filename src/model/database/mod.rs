//! Databases on top of the storage (SPEC §5): instances, the writer, failover
//! and restart, and the RDS designs whose data lives on EBS volumes.
//!
//! - this file: the resolved `[database]` set-up ([`Database`], [`Design`],
//!   [`DesignSpec`]) and the totals a database run adds ([`DbStats`]);
//! - `state.rs`: the instance / writer / failover / restart / restore state
//!   machine and the RDS in-sync rules, fed with AZ reachability and the
//!   storage's availability through narrow calls;
//! - `model.rs`: [`DbModel`], the engine model that runs a [`Volume`]
//!   underneath and the database state above it.
//!
//! The storage never sees the database: Aurora's database is write-available
//! when its writer serves ∧ the storage has write quorum. The RDS designs have
//! no storage nodes; the storage model still runs underneath (it holds the AZ
//! processes and scripted AZ events, drawn from the main stream exactly as in
//! an Aurora run) but its replicas count for nothing, so every design of a
//! `compare` meets the same AZ history.
//!
//! [`Volume`]: crate::model::Volume

#[cfg(test)]
pub(crate) mod markov_tests;
mod model;
mod state;
#[cfg(test)]
mod tests;

pub use model::DbModel;

use super::config::{Dist, Process};
use crate::time::SimTime;

/// The four designs users compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Design {
    /// Aurora: a writer and readers on the shared storage of §1–§4.
    Aurora,
    /// RDS Single-AZ: one instance, one EBS volume.
    RdsSingleAz,
    /// RDS Multi-AZ instance: primary and one synchronous standby.
    RdsMultiAz,
    /// RDS Multi-AZ DB cluster: writer and two semi-synchronous standbys.
    RdsMultiAzCluster,
}

impl Design {
    /// Every design, in the order `compare` prints them.
    pub const ALL: [Design; 4] = [
        Design::Aurora,
        Design::RdsSingleAz,
        Design::RdsMultiAz,
        Design::RdsMultiAzCluster,
    ];

    /// The scenario spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Design::Aurora => "aurora",
            Design::RdsSingleAz => "rds-single-az",
            Design::RdsMultiAz => "rds-multi-az",
            Design::RdsMultiAzCluster => "rds-multi-az-cluster",
        }
    }

    /// The design named `s`.
    pub fn parse(s: &str) -> Option<Design> {
        Design::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Whether the data lives on EBS volumes (every design but Aurora).
    pub fn is_rds(self) -> bool {
        self != Design::Aurora
    }

    /// How many instances the design takes (min, max).
    pub fn instance_range(self) -> (usize, usize) {
        match self {
            Design::Aurora => (1, 16),
            Design::RdsSingleAz => (1, 1),
            Design::RdsMultiAz => (2, 2),
            Design::RdsMultiAzCluster => (3, 3),
        }
    }

    /// Default `failover_time` (SPEC §5 table; none for Single-AZ).
    pub fn default_failover(self) -> Option<SimTime> {
        match self {
            Design::Aurora => Some(secs(30)),
            Design::RdsSingleAz => None,
            Design::RdsMultiAz => Some(secs(90)),
            Design::RdsMultiAzCluster => Some(secs(35)),
        }
    }
}

/// `n` whole seconds.
const fn secs(n: u64) -> SimTime {
    SimTime(n * crate::time::US_PER_S)
}

/// One design's instances and timings.
#[derive(Clone, Debug)]
pub struct DesignSpec {
    /// The AZ index of each instance: writer first, then promotion order.
    pub instances: Vec<usize>,
    /// Writer lost → an eligible instance serves writes after this.
    pub failover_time: Dist,
    /// Nothing to fail over to → a replacement writer serves after this.
    pub restart_time: Dist,
    /// RDS: a returning standby is in sync after this.
    pub resync_time: Dist,
    /// RDS: transaction logs not yet in the backup.
    pub backup_lag: Dist,
}

impl DesignSpec {
    /// The defaults of `design` on a cluster with `azs` AZs (SPEC §5:
    /// aurora the first two AZs, single-AZ the first, multi-AZ the first
    /// two, the cluster the first three; fewer if there are fewer AZs).
    pub fn defaults(design: Design, azs: usize) -> DesignSpec {
        let n = match design {
            Design::Aurora | Design::RdsMultiAz => 2,
            Design::RdsSingleAz => 1,
            Design::RdsMultiAzCluster => 3,
        };
        let min = secs(60);
        DesignSpec {
            instances: (0..n).map(|i| i.min(azs.saturating_sub(1))).collect(),
            failover_time: Dist::Fixed(design.default_failover().unwrap_or(SimTime::ZERO)),
            restart_time: Dist::Fixed(SimTime(10 * min.0)),
            resync_time: Dist::Fixed(SimTime(10 * min.0)),
            backup_lag: Dist::Fixed(SimTime(5 * min.0)),
        }
    }
}

/// The resolved `[database]` table.
#[derive(Clone, Debug)]
pub struct Database {
    /// The design simulated by `run`.
    pub design: Design,
    /// Its instances and timings.
    pub spec: DesignSpec,
    /// Every design's set-up for `compare`, in [`Design::ALL`] order: the
    /// named design's is `spec`, the others' their defaults with any
    /// `[database.<design>]` overrides.
    pub variants: Vec<(Design, DesignSpec)>,
    /// `[failures.instance_crash]`: per instance, down for `lasts`.
    pub instance_crash: Option<Process>,
    /// `[failures.ebs_loss]`: per RDS volume, its data destroyed.
    pub ebs_loss: Option<Process>,
    /// What the named design has no target for (an `ebs_loss` on Aurora, a
    /// node event on RDS): errors for `run`, skipped by `compare`.
    pub mismatches: Vec<crate::error::InputError>,
}

impl Database {
    /// Every design on its defaults (a scenario without `[database]`, for
    /// `compare`); designs that need more AZs than `azs` are left out.
    pub fn defaults(azs: usize) -> Database {
        let variants: Vec<(Design, DesignSpec)> = Design::ALL
            .into_iter()
            .filter(|d| !d.is_rds() || DesignSpec::defaults(*d, azs).instances.len() <= azs)
            .map(|d| (d, DesignSpec::defaults(d, azs)))
            .collect();
        Database {
            design: Design::Aurora,
            spec: DesignSpec::defaults(Design::Aurora, azs),
            variants,
            instance_crash: None,
            ebs_loss: None,
            mismatches: Vec::new(),
        }
    }

    /// The EBS-loss process where it has a target (the RDS designs).
    pub fn ebs_process(&self) -> Option<&Process> {
        self.ebs_loss.as_ref().filter(|_| self.design.is_rds())
    }

    /// This database run as `design` (for `compare`): its variant's
    /// instances and timings.
    pub fn as_design(&self, design: Design) -> Database {
        let spec = self
            .variants
            .iter()
            .find(|(d, _)| *d == design)
            .map_or_else(|| self.spec.clone(), |(_, s)| s.clone());
        Database {
            design,
            spec,
            variants: self.variants.clone(),
            instance_crash: self.instance_crash.clone(),
            ebs_loss: self.ebs_loss.clone(),
            mismatches: Vec::new(),
        }
    }
}

/// Totals a database run adds to [`RunStats`](crate::model::RunStats).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DbStats {
    /// Completed failovers.
    pub failovers: u64,
    /// Writer losses that ended in place (a replacement, or the old writer back).
    pub restarts: u64,
    /// Time the storage layer stopped writes (Aurora storage without write
    /// quorum, an RDS restore, the cluster without an acknowledging standby).
    pub storage_write_unavailable: SimTime,
    /// Time no writer served.
    pub compute_write_unavailable: SimTime,
}
