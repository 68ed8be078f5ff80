//! `estimate` on a database (SPEC §7 on §5): the failure processes above the
//! storage — each instance's crash, each RDS EBS volume's loss — join the
//! storage's on the one aggregate timer of `bias.rs`.
//!
//! The storage never sees the database, so the database hands the timer a
//! snapshot of its targets after every event ([`Outer`]): which instances
//! are up (their crash process runs), which volumes exist (their loss
//! process runs), and whether the database is at rest. Its own timers stay
//! unarmed; a pick on one of its targets is scheduled in the database's own
//! slot as the event its own timer would have fired.

use crate::engine::Slot;
use crate::model::event::{DbEvent, Event};
use crate::model::sources::{EBS_LOSS, INSTANCE_CRASH};

/// The database's failure targets, as the aggregate timer sees them.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Outer {
    /// Instances whose crash process runs (up), one bit each.
    pub crashable: u32,
    /// RDS volumes whose loss process runs (present), one bit each.
    pub losable: u32,
    /// All up, every volume present and in sync, the writer serving and
    /// nothing under way (no failover, restart, restore or resync).
    pub resting: bool,
    /// Instances (a full `crashable` has this many bits).
    pub instances: u32,
    /// Engine slot of instance 0's crash process.
    pub crash_slot: u32,
    /// Engine slot of instance 0's EBS-loss process.
    pub ebs_slot: u32,
    /// Slots from one instance's to the next's.
    pub stride: u32,
}

impl Outer {
    /// Eligible targets of `kind` (0 for the storage's kinds).
    pub(super) fn count(&self, kind: usize) -> usize {
        match kind {
            INSTANCE_CRASH => self.crashable.count_ones() as usize,
            EBS_LOSS => self.losable.count_ones() as usize,
            _ => 0,
        }
    }

    /// The instance index of the `k`-th eligible target of `kind`.
    pub(super) fn nth(&self, kind: usize, k: usize) -> usize {
        let mask = if kind == INSTANCE_CRASH {
            self.crashable
        } else {
            self.losable
        };
        (0..32)
            .filter(|&i| mask & (1 << i) != 0)
            .nth(k)
            .unwrap_or(0)
    }

    /// The slot and event of failure `kind` on instance `i`.
    pub(super) fn event(&self, kind: usize, i: usize) -> (Slot, Event) {
        let at = i as u32 * self.stride;
        if kind == INSTANCE_CRASH {
            (
                Slot(self.crash_slot + at),
                Event::Db(DbEvent::CrashDue(i as u16)),
            )
        } else {
            (
                Slot(self.ebs_slot + at),
                Event::Db(DbEvent::EbsLossDue(i as u16)),
            )
        }
    }

    /// Every target up and the database at rest.
    pub(super) fn quiet(&self) -> bool {
        self.resting && self.crashable.count_ones() == self.instances
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_found_by_rank_in_instance_order() {
        let o = Outer {
            crashable: 0b101,
            losable: 0b110,
            resting: false,
            instances: 3,
            crash_slot: 100,
            ebs_slot: 103,
            stride: 4,
        };
        assert_eq!(
            (o.count(INSTANCE_CRASH), o.count(EBS_LOSS), o.count(0)),
            (2, 2, 0)
        );
        assert_eq!((o.nth(INSTANCE_CRASH, 0), o.nth(INSTANCE_CRASH, 1)), (0, 2));
        assert_eq!((o.nth(EBS_LOSS, 0), o.nth(EBS_LOSS, 1)), (1, 2));
        assert_eq!(o.event(INSTANCE_CRASH, 2).0, Slot(108));
        assert_eq!(o.event(EBS_LOSS, 1).0, Slot(107));
        assert!(!o.quiet());
        assert!(
            Outer {
                crashable: 0b111,
                resting: true,
                ..o
            }
            .quiet()
        );
    }
}
