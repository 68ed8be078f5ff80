//! Which timings the chain can use exactly, and how they are named.

use crate::model::Dist;

/// How the chain treats one timing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Rate {
    /// Never happens (process absent).
    Never,
    /// Instantaneous (zero).
    Instant,
    /// Exponential with this rate per second.
    Exp(f64),
}

/// A timing the chain may use, named as in the scenario file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timing {
    /// `failures.node_crash.every`.
    CrashEvery,
    /// `failures.node_crash.lasts`.
    CrashLasts,
    /// `failures.node_loss.every`.
    LossEvery,
    /// `failures.az_outage.every`.
    OutageEvery,
    /// `failures.az_outage.lasts`.
    OutageLasts,
    /// `failures.az_loss.every`.
    AzLossEvery,
    /// `failures.az_loss.lasts`.
    AzLossLasts,
    /// `cluster.detection_delay`.
    Detection,
    /// `cluster.repair_time`.
    Repair,
    /// A tail segment's repair: `tail_size / repair_bandwidth`, or
    /// `repair_time` × tail_size / segment_size (SPEC §6).
    TailRepair,
    /// `cluster.catchup_time`.
    Catchup,
    /// `cluster.restore_time`.
    Restore,
    /// `cluster.replace_down_after`.
    GiveUp,
    /// `cluster.quorum_switch_after`.
    SwitchAfter,
}

impl Timing {
    /// The scenario key.
    pub fn key(self) -> &'static str {
        match self {
            Timing::CrashEvery => "failures.node_crash.every",
            Timing::CrashLasts => "failures.node_crash.lasts",
            Timing::LossEvery => "failures.node_loss.every",
            Timing::OutageEvery => "failures.az_outage.every",
            Timing::OutageLasts => "failures.az_outage.lasts",
            Timing::AzLossEvery => "failures.az_loss.every",
            Timing::AzLossLasts => "failures.az_loss.lasts",
            Timing::Detection => "cluster.detection_delay",
            Timing::Repair => "cluster.repair_time",
            Timing::TailRepair => "cluster.tail_size",
            Timing::Catchup => "cluster.catchup_time",
            Timing::Restore => "cluster.restore_time",
            Timing::GiveUp => "cluster.replace_down_after",
            Timing::SwitchAfter => "cluster.quorum_switch_after",
        }
    }

    pub(super) const ALL: [Timing; 14] = [
        Timing::CrashEvery,
        Timing::CrashLasts,
        Timing::LossEvery,
        Timing::OutageEvery,
        Timing::OutageLasts,
        Timing::AzLossEvery,
        Timing::AzLossLasts,
        Timing::Detection,
        Timing::Repair,
        Timing::TailRepair,
        Timing::Catchup,
        Timing::Restore,
        Timing::GiveUp,
        Timing::SwitchAfter,
    ];
}

/// A non-exponential timing the chain met.
#[derive(Clone, Debug, PartialEq)]
pub struct Substitution {
    /// Which timing.
    pub timing: Timing,
    /// Its distribution, described.
    pub was: String,
    /// Mean in seconds (the exponential used with `--approx`).
    pub mean_secs: f64,
}

/// How the chain treats a timing; `Err` with the distribution if it is neither
/// absent, zero nor exponential.
pub(super) fn classify(d: Option<&Dist>) -> Result<Rate, &Dist> {
    match d {
        None => Ok(Rate::Never),
        Some(Dist::Fixed(t)) if t.0 == 0 => Ok(Rate::Instant),
        Some(Dist::Exponential { mean, .. }) => Ok(Rate::Exp(1.0 / mean.as_secs_f64())),
        Some(other) => Err(other),
    }
}

/// The error when the chain meets a timing it cannot treat exactly (or,
/// with `--approx`, one without a finite mean: `true`).
#[derive(Debug, Clone, PartialEq)]
pub struct NotExponential(pub Substitution, pub bool);
