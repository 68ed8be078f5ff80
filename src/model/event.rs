//! The model's events, the state changes it reports, and the observer that
//! receives timeline rows.

use super::Config;
use crate::time::SimTime;
use std::borrow::Cow;

/// One event of the volume. Node, rack and AZ payloads are fleet indices;
/// replica payloads are replica ids `pg × V + slot`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Scripted event `i` of the config.
    Scripted(u32),
    /// A node's crash process fires.
    NodeCrashDue(u32),
    /// A node's loss process fires.
    NodeLossDue(u32),
    /// An AZ's outage process fires.
    AzOutageDue(u16),
    /// An AZ's loss process fires.
    AzLossDue(u16),
    /// A rack's outage process fires.
    RackOutageDue(u32),
    /// A node's last crash cause ends.
    NodeRecovered(u32),
    /// An AZ becomes reachable again.
    AzRecovered(u16),
    /// A rack's outage ends.
    RackRecovered(u32),
    /// A lost replica's detection delay has passed.
    Detected(u32),
    /// A repair finished.
    RepairDone(u32),
    /// A catch-up finished.
    CatchupDone(u32),
    /// A node down for `replace_down_after` is given up.
    GiveUp(u32),
    /// A PG's restore from backup finished.
    Restored(u32),
    /// A PG's quorum switch for an AZ falls due (payload PG × AZs + AZ).
    SwitchDue(u32),
    /// A database event (SPEC §5).
    Db(DbEvent),
}

/// The database's own events (SPEC §5); payloads are instance indices.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DbEvent {
    /// An instance's crash process fires.
    CrashDue(u16),
    /// An instance's crash ends.
    Recovered(u16),
    /// An instance's EBS volume loss process fires.
    EbsLossDue(u16),
    /// A standby is in sync again.
    ResyncDone(u16),
    /// A failover finished.
    FailoverDone,
    /// A restart finished.
    RestartDone,
    /// A restore from backup finished.
    RestoreDone,
}

/// A state change as named in the timeline's `event` column.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// First row, at time zero.
    Start,
    /// Last row, at the horizon.
    End,
    /// A node went down.
    NodeCrash,
    /// A node came back.
    NodeRecover,
    /// A node's replica was destroyed.
    NodeLoss,
    /// An AZ became unreachable.
    AzOutage,
    /// An AZ became reachable.
    AzRecover,
    /// An AZ's replicas were destroyed.
    AzLoss,
    /// A down replica was given up after `replace_down_after`.
    Replace,
    /// A repair started.
    RepairStart,
    /// A repair finished.
    RepairDone,
    /// A stale replica caught up.
    CatchUp,
    /// No replica held the latest acknowledged write.
    DataLoss,
    /// The group was restored from backup.
    Restore,
    /// A rack's nodes went down (SPEC §4).
    RackOutage,
    /// A rack's outage ended.
    RackRecover,
    /// A database instance went down (SPEC §5).
    InstanceCrash,
    /// A database instance came back.
    InstanceRecover,
    /// A failover began.
    FailoverStart,
    /// A failover's target went down before it completed.
    FailoverAbort,
    /// A failover completed.
    FailoverDone,
    /// A restart completed.
    RestartDone,
    /// An EBS volume was destroyed.
    EbsLoss,
    /// A standby is in sync again.
    ResyncDone,
    /// A PG moved to the epoch without an unreachable AZ (SPEC §6).
    QuorumSwitch,
    /// A PG moved back to the full quorum.
    QuorumRestore,
    /// A replica's loss was detected, so its repair may start (volume
    /// timelines only; §1 rows show the repair start itself).
    Detected,
}

impl Change {
    /// The number of kinds (for tables indexed by `change as usize`).
    pub const COUNT: usize = Change::Detected as usize + 1;

    /// The timeline spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Start => "start",
            Change::End => "end",
            Change::NodeCrash => "node-crash",
            Change::NodeRecover => "node-recover",
            Change::NodeLoss => "node-loss",
            Change::AzOutage => "az-outage",
            Change::AzRecover => "az-recover",
            Change::AzLoss => "az-loss",
            Change::Replace => "replace",
            Change::RepairStart => "repair-start",
            Change::RepairDone => "repair-done",
            Change::CatchUp => "catch-up",
            Change::DataLoss => "data-loss",
            Change::Restore => "restore",
            Change::RackOutage => "rack-outage",
            Change::RackRecover => "rack-recover",
            Change::InstanceCrash => "instance-crash",
            Change::InstanceRecover => "instance-recover",
            Change::FailoverStart => "failover-start",
            Change::FailoverAbort => "failover-abort",
            Change::FailoverDone => "failover-done",
            Change::RestartDone => "restart-done",
            Change::EbsLoss => "ebs-loss",
            Change::ResyncDone => "resync-done",
            Change::QuorumSwitch => "quorum-switch",
            Change::QuorumRestore => "quorum-restore",
            Change::Detected => "detected",
        }
    }
}

/// What a change applies to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The whole group.
    Group,
    /// A node / replica by index.
    Node(usize),
    /// An AZ by index.
    Az(usize),
    /// A rack by global index.
    Rack(usize),
    /// A database instance by index (SPEC §5).
    Instance(usize),
}

impl Target {
    /// The timeline name: a node, AZ, rack or instance name, or empty for
    /// the group.
    pub fn name(self, cfg: &Config) -> Cow<'_, str> {
        match self {
            Target::Group => "".into(),
            Target::Node(n) => cfg.storage.node_names[n].as_str().into(),
            Target::Az(a) => cfg.layout.azs[a].as_str().into(),
            Target::Rack(g) => cfg.storage.rack_name(&cfg.layout.azs, g).into(),
            Target::Instance(i) => format!("instance-{}", i + 1).into(),
        }
    }
}

/// One timeline row: the state right after a change.
pub struct Row<'a> {
    /// When.
    pub time: SimTime,
    /// What.
    pub change: Change,
    /// What it applies to, named by [`Target::name`] with `cfg` (observers
    /// that cache rendered names key them by the target, not the text).
    pub target: Target,
    /// The configuration the target's name comes from.
    pub cfg: &'a Config,
    /// The replicas' states.
    pub replicas: Replicas,
    /// Writes possible.
    pub write_available: bool,
    /// Reads possible.
    pub read_available: bool,
    /// Data-loss events so far.
    pub data_loss_events: u64,
}

/// The states of a PG's replicas, one bit per replica in node order (so an
/// observer that wants letters makes them, and one that does not pays
/// nothing).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Replicas {
    /// Number of replicas (at most 64; more are not shown).
    pub count: u8,
    /// Being rebuilt.
    pub repairing: u64,
    /// Holding data.
    pub present: u64,
    /// On a reachable node.
    pub reachable: u64,
    /// Holding every acknowledged write.
    pub current: u64,
}

impl Replicas {
    /// Replicas up (C or S).
    pub fn up(&self) -> usize {
        (self.present & self.reachable).count_ones() as usize
    }

    /// Replicas up and current (C).
    pub fn current(&self) -> usize {
        (self.current & self.reachable).count_ones() as usize
    }

    /// Every replica's letter, in node order.
    pub fn letters(&self) -> impl Iterator<Item = u8> + '_ {
        (0..self.count.min(64) as usize).map(|r| self.letter(r))
    }

    /// Replica `r`'s letter: R if repairing, else L if not present, else D
    /// if unreachable, else C if current, else S.
    #[inline]
    pub fn letter(&self, r: usize) -> u8 {
        const LETTER: [u8; 16] = {
            let mut t = [0u8; 16];
            let mut i = 0;
            while i < 16 {
                t[i] = if i & 1 != 0 {
                    b'R'
                } else if i & 2 == 0 {
                    b'L'
                } else if i & 4 == 0 {
                    b'D'
                } else if i & 8 != 0 {
                    b'C'
                } else {
                    b'S'
                };
                i += 1;
            }
            t
        };
        let code = (self.repairing >> r & 1)
            | (self.present >> r & 1) << 1
            | (self.reachable >> r & 1) << 2
            | (self.current >> r & 1) << 3;
        LETTER[code as usize]
    }
}

/// One row of a volume timeline (SPEC §4): counts right after an event.
pub struct VolumeRow<'a> {
    /// When.
    pub time: SimTime,
    /// What.
    pub change: Change,
    /// What it applies to, named by [`Target::name`] with `cfg`.
    pub target: Target,
    /// The configuration the target's name comes from.
    pub cfg: &'a Config,
    /// Every PG has write quorum.
    pub write_available: bool,
    /// Every PG has read quorum.
    pub read_available: bool,
    /// PGs without write quorum.
    pub pgs_write_unavailable: usize,
    /// PGs without read quorum.
    pub pgs_read_unavailable: usize,
    /// PGs with fewer than V up-and-current replicas.
    pub pgs_degraded: usize,
    /// Repairs in progress.
    pub repairs_running: usize,
    /// Repairs startable but waiting for a target or streams.
    pub repairs_waiting: usize,
    /// PG data-loss events so far.
    pub data_loss_events: u64,
}

/// One row of a database timeline (SPEC §5): the state right after an event.
pub struct DbRow<'a> {
    /// When.
    pub time: SimTime,
    /// What.
    pub change: Change,
    /// Instance, node, rack or AZ name, or empty.
    pub target: &'a str,
    /// The serving writer (1-based), or none.
    pub writer: Option<usize>,
    /// Instances up.
    pub instances_up: usize,
    /// The database takes writes.
    pub write_available: bool,
    /// The database serves reads.
    pub read_available: bool,
    /// The storage layer would take writes.
    pub storage_write_available: bool,
    /// Data-loss events so far.
    pub data_loss_events: u64,
}

/// Receives timeline rows; [`NoObserver`] compiles them away.
pub trait Observer {
    /// Whether rows are built at all.
    const ENABLED: bool;
    /// One §3 row (single-PG scenarios).
    fn row(&mut self, row: &Row<'_>);
    /// One §4 volume row (volume and fleet scenarios).
    fn volume_row(&mut self, _row: &VolumeRow<'_>) {}
    /// One §5 database row (scenarios with `[database]`).
    fn db_row(&mut self, _row: &DbRow<'_>) {}
}

/// An observer that records nothing (the fast path).
pub struct NoObserver;

impl Observer for NoObserver {
    const ENABLED: bool = false;
    fn row(&mut self, _: &Row<'_>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_letters_follow_the_precedence_r_l_d_c_s() {
        // Six replicas, by hand: 0 current and up (C); 1 up but stale (S);
        // 2 present, current, on an unreachable node (D: unreachable beats
        // current); 3 lost (L); 4 lost and being rebuilt (R); 5 present
        // and being caught up from a repair that still runs (R beats all).
        let r = Replicas {
            count: 6,
            repairing: 0b110000,
            present: 0b100111,
            reachable: 0b111011,
            current: 0b000101,
        };
        assert_eq!(r.letters().collect::<Vec<_>>(), b"CSDLRR");
        // Up: present and reachable (0, 1, 5); current among them: 0.
        assert_eq!((r.up(), r.current()), (3, 1));
    }
}
