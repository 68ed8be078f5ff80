//! The random sources of a scenario and their canonical names (SPEC §5,
//! "Common random numbers").
//!
//! Every source draws from its own stream (see [`crate::engine::Streams`]):
//! a failure process has one stream for its `every` draws and one for its
//! `lasts` draws, per target (`node_crash:az-a-1:every`,
//! `az_outage:az-b:lasts`, `rack_outage:az-a:2:every`,
//! `instance_crash:1:lasts`, `ebs_loss:2:every`); each timing key has one
//! (`timing:cluster.repair_time`, `timing:database.failover_time`, …); the
//! placement, the re-replication target choices and each burst have their own
//! (`placement`, `re-replication`, `burst:N` for `events[N]`). A run of the
//! same seed therefore meets the same failures on every target it shares
//! with another run, whatever the design, the grid point or the other
//! sources.

use super::{Config, Dist};
use crate::engine::{Engine, EventQueue, combine, stream_id};
use crate::time::SimTime;

/// A failure process kind, in the order of [`KIND_NAMES`].
pub type Kind = usize;
/// Node crash processes.
pub const NODE_CRASH: Kind = 0;
/// Node loss processes.
pub const NODE_LOSS: Kind = 1;
/// AZ outage processes.
pub const AZ_OUTAGE: Kind = 2;
/// AZ loss processes.
pub const AZ_LOSS: Kind = 3;
/// Rack outage processes.
pub const RACK_OUTAGE: Kind = 4;
/// Instance crash processes (SPEC §5).
pub const INSTANCE_CRASH: Kind = 5;
/// EBS volume loss processes (SPEC §5).
pub const EBS_LOSS: Kind = 6;
/// The `[failures.*]` names of the kinds.
pub const KIND_NAMES: [&str; 7] = [
    "node_crash",
    "node_loss",
    "az_outage",
    "az_loss",
    "rack_outage",
    "instance_crash",
    "ebs_loss",
];

/// [`stream_id`] of each kind's name.
const KIND_IDS: [u64; 7] = [
    stream_id(&[KIND_NAMES[0]]),
    stream_id(&[KIND_NAMES[1]]),
    stream_id(&[KIND_NAMES[2]]),
    stream_id(&[KIND_NAMES[3]]),
    stream_id(&[KIND_NAMES[4]]),
    stream_id(&[KIND_NAMES[5]]),
    stream_id(&[KIND_NAMES[6]]),
];

/// [`stream_id`] of `every` and `lasts`.
const PART_IDS: [u64; 2] = [stream_id(&["every"]), stream_id(&["lasts"])];

/// Which draw of a process: the time to the next failure, or its length.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// `every`.
    Every = 0,
    /// `lasts`.
    Lasts = 1,
}

/// A timing key with a stream of its own, in source-number order.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Timing {
    /// A full segment's repair (`cluster.repair_time` or size/bandwidth).
    Repair,
    /// A tail segment's repair (SPEC §6).
    TailRepair,
    /// `cluster.detection_delay`.
    Detection,
    /// `cluster.catchup_time`.
    Catchup,
    /// `cluster.restore_time` (storage restores).
    Restore,
    /// `cluster.replace_down_after`.
    GiveUp,
    /// `cluster.quorum_switch_after`.
    Switch,
    /// `database.failover_time`.
    Failover,
    /// `database.restart_time`.
    Restart,
    /// `database.resync_time`.
    Resync,
    /// `database.backup_lag`.
    BackupLag,
    /// An RDS restore (`cluster.restore_time`, drawn by the database).
    DbRestore,
    /// `estimate`'s biasing choices (SPEC §7).
    Bias,
}

/// Canonical names of the timings, in [`Timing`] order.
const TIMING_NAMES: [&str; 13] = [
    "timing:cluster.repair_time",
    "timing:cluster.repair_time:tail",
    "timing:cluster.detection_delay",
    "timing:cluster.catchup_time",
    "timing:cluster.restore_time",
    "timing:cluster.replace_down_after",
    "timing:cluster.quorum_switch_after",
    "timing:database.failover_time",
    "timing:database.restart_time",
    "timing:database.resync_time",
    "timing:database.backup_lag",
    "timing:database.restore",
    "estimate:bias",
];

/// Source numbers of a scenario's sources: timings first, then two per
/// process target, kind by kind.
#[derive(Copy, Clone, Debug)]
pub struct Sources {
    base: [usize; 7],
    count: usize,
}

impl Sources {
    /// The sources of `cfg`.
    pub fn new(cfg: &Config) -> Self {
        let st = &cfg.storage;
        let azs = cfg.layout.azs.len();
        let instances = cfg.database.as_ref().map_or(0, |d| d.spec.instances.len());
        let counts = [
            st.nodes(),
            st.nodes(),
            azs,
            azs,
            azs * st.racks_per_az,
            instances,
            instances,
        ];
        let mut base = [0; 7];
        let mut at = TIMING_NAMES.len();
        for (b, c) in base.iter_mut().zip(counts) {
            *b = at;
            at += 2 * c;
        }
        Sources { base, count: at }
    }

    /// Number of source numbers (for [`crate::engine::Engine::reserve_streams`]).
    pub fn count(&self) -> usize {
        self.count
    }

    /// Source number of `part` of process `kind` on `target`.
    #[inline]
    pub fn process(&self, kind: Kind, target: usize, part: Part) -> usize {
        self.base[kind] + 2 * target + part as usize
    }

    /// Source number of a timing.
    #[inline]
    pub fn timing(t: Timing) -> usize {
        t as usize
    }

    /// Stream number of `part` of process `kind` on `target`: the parts of
    /// its canonical name (`node_crash`, `az-a-1`, `every`), each hashed by
    /// [`stream_id`], folded by [`combine`]. A rack's target is its AZ's
    /// name and its number in the AZ, an instance's its number (1-based).
    pub fn process_id(cfg: &Config, kind: Kind, target: usize, part: Part) -> u64 {
        let target_id = match kind {
            NODE_CRASH | NODE_LOSS => cfg.storage.node_ids[target],
            AZ_OUTAGE | AZ_LOSS => stream_id(&[&cfg.layout.azs[target]]),
            RACK_OUTAGE => {
                let r = cfg.storage.racks_per_az;
                combine(
                    stream_id(&[&cfg.layout.azs[target / r]]),
                    (target % r + 1) as u64,
                )
            }
            _ => (target + 1) as u64,
        };
        combine(combine(KIND_IDS[kind], target_id), PART_IDS[part as usize])
    }

    /// Stream number of a timing.
    pub fn timing_id(t: Timing) -> u64 {
        stream_id(&[TIMING_NAMES[t as usize]])
    }

    /// Draws `d` for `part` of process `kind` on `target`.
    #[inline(always)]
    pub fn draw_process<E, Q: EventQueue<E>>(
        &self,
        eng: &mut Engine<E, Q>,
        cfg: &Config,
        d: &Dist,
        (kind, target, part): (Kind, usize, Part),
    ) -> SimTime {
        draw(eng, d, self.process(kind, target, part), || {
            Self::process_id(cfg, kind, target, part)
        })
    }

    /// Draws timing `t` from `d`.
    #[inline(always)]
    pub fn draw_timing<E, Q: EventQueue<E>>(
        eng: &mut Engine<E, Q>,
        d: &Dist,
        t: Timing,
    ) -> SimTime {
        draw(eng, d, Self::timing(t), || Self::timing_id(t))
    }
}

/// Draws `d` from source `source` (stream `id()`); a fixed timing draws
/// nothing and opens no stream.
#[inline(always)]
fn draw<E, Q: EventQueue<E>>(
    eng: &mut Engine<E, Q>,
    d: &Dist,
    source: usize,
    id: impl FnOnce() -> u64,
) -> SimTime {
    match d {
        Dist::Fixed(t) => *t,
        _ => d.sample_inline(eng.stream(source, id)),
    }
}

/// Stream number of the placement (SPEC §4).
pub fn placement_id() -> u64 {
    stream_id(&["placement"])
}

/// Stream number of the re-replication target choices (SPEC §4).
pub fn rereplication_id() -> u64 {
    stream_id(&["re-replication"])
}

/// Stream number of the burst of scripted event `i` (`events[i]`).
pub fn burst_id(i: usize) -> u64 {
    stream_id(&["burst", &i.to_string()])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Source numbers never collide: timings, then each kind's targets × 2.
    #[test]
    fn source_numbers_are_distinct_and_dense() {
        let sc = crate::scenario::parse(
            "name = \"t\"\nhorizon = \"1d\"\n[volume]\nsize = \"20GiB\"\n[fleet]\nnodes_per_az = 3\nracks_per_az = 2\n\
             [database]\ndesign = \"aurora\"\n",
            "t.toml",
            &crate::scenario::Overrides::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let s = Sources::new(&sc.config);
        let mut seen = std::collections::HashSet::new();
        for t in 0..TIMING_NAMES.len() {
            assert!(seen.insert(t));
        }
        // 9 nodes, 3 AZs, 6 racks, 2 instances (Aurora's default).
        for (kind, n) in [(0, 9), (1, 9), (2, 3), (3, 3), (4, 6), (5, 2), (6, 2)] {
            for t in 0..n {
                for part in [Part::Every, Part::Lasts] {
                    assert!(seen.insert(s.process(kind, t, part)));
                }
            }
        }
        assert_eq!(seen.len(), 13 + 2 * (9 + 9 + 3 + 3 + 6 + 2 + 2));
        assert_eq!(*seen.iter().max().unwrap(), seen.len() - 1);
        // Names are hashed part by part: rack 2 of az-b, node az-b-2.
        let name = |parts: [u64; 3]| combine(combine(parts[0], parts[1]), parts[2]);
        let h = |s: &str| stream_id(&[s]);
        let rack = combine(h("az-b"), 2);
        assert_eq!(
            Sources::process_id(&sc.config, RACK_OUTAGE, 3, Part::Lasts),
            name([h("rack_outage"), rack, h("lasts")])
        );
        assert_eq!(
            Sources::process_id(&sc.config, NODE_CRASH, 4, Part::Every),
            name([h("node_crash"), h("az-b-2"), h("every")])
        );
        assert_ne!(
            Sources::process_id(&sc.config, NODE_CRASH, 4, Part::Every),
            Sources::process_id(&sc.config, NODE_LOSS, 4, Part::Every)
        );
    }
}
