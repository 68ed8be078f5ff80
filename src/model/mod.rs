//! The storage model: one Aurora protection group under the rules of SPEC §1.
//!
//! [`ProtectionGroup`] is an [`engine::Model`](crate::engine::Model). Each
//! event is applied, then the rules are re-applied until nothing changes:
//! passive consequences first (staleness, abandoned repairs and catch-ups),
//! then the active rules in SPEC order — catch-up, re-replication, data loss —
//! each of which may enable another. Finally the background processes and
//! give-up timers are armed or cancelled for nodes and AZs whose up-state
//! changed, and availability is sampled.
//!
//! **Equal-time order** (documented in `docs/model.md`): scripted events first
//! in file order (class 0), then give-ups (class 1, so that a give-up beats a
//! return at the same instant), then everything else in scheduling order.
//!
//! **Write clock.** Log positions are measured in seconds of acknowledged
//! writes (a clock that runs only while write-available), so a data loss adds
//! exactly the acknowledged writes it destroys to `lost_write_seconds`.

pub mod config;
pub mod database;
mod event;
pub mod quorum;
pub mod sources;
mod stats;
pub mod storage;
mod volume;

pub use config::{
    Burst, Config, Dist, Failures, Layout, Process, QuorumSwitch, RepairProgress, ScriptedEvent,
    ScriptedKind, Segments,
};
pub use database::{Database, DbModel, DbStats, Design, DesignSpec};
pub use event::{
    Change, DbEvent, DbRow, Event, NoObserver, Observer, Replicas, Row, Target, VolumeRow,
};
pub use quorum::{Quorum, QuorumError, ReplicaSet};
pub use stats::{OutageTracker, RunStats, VolumeStats};
pub use storage::{Placement, Storage};
pub use volume::placement;
pub use volume::{BiasOutcome, Biasing, KIND_NAMES, KINDS, Outer, Volume};

#[cfg(test)]
mod regressions;
#[cfg(test)]
mod tail_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod volume_tests;
