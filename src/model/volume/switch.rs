//! The 4/6 → 3/4 quorum switch (SPEC §6): a PG whose AZ has been unreachable
//! for `quorum_switch_after` moves, by a quorum write, to an epoch in which
//! only the replicas outside that AZ count, and moves back when all of that
//! AZ's replicas are up and current again. Per PG, `epoch` is 0 (the
//! scenario's quorum) or `a + 1` (AZ `a` switched out), and `switch_due` the
//! AZs whose switch is due; the switch itself is a rule of the PG's fixpoint.

use super::{EPOCH_SHIFT, SWITCH_DUE, Volume};
use crate::engine::{Class, Engine, EventQueue, Slot};
use crate::model::event::{Change, Event, Observer, Target};
use crate::model::sources::{Sources, Timing};

/// Equal-time class of a due switch: after every other event at that
/// instant, so that an AZ returning at that very instant wins.
const SWITCH: Class = 3;

impl<O: Observer> Volume<'_, O> {
    /// The timer slot of PG `j`'s switch for AZ `a` (after the restore slots).
    pub(super) fn switch_slot(&self, j: usize, a: usize) -> Slot {
        let first = self.restore_slot(self.pgs.len()).0 as usize;
        Slot((first + j * self.az_slots.len() + a) as u32)
    }

    /// Timer slots the switch needs (none without `quorum_switch_after`).
    pub(super) fn switch_slots(&self) -> usize {
        match self.cfg.quorum_switch {
            Some(_) => self.pgs.len() * self.az_slots.len(),
            None => 0,
        }
    }

    /// AZ `a` has just become unreachable: each PG's switch for it falls due
    /// `quorum_switch_after` (drawn per PG) from now.
    pub(super) fn arm_switches<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        a: usize,
    ) {
        let Some(qs) = &self.cfg.quorum_switch else {
            return;
        };
        let azs = self.az_slots.len();
        for j in 0..self.pgs.len() {
            let d = Sources::draw_timing(eng, &qs.after, Timing::Switch);
            let slot = self.switch_slot(j, a);
            let id = (j * azs + a) as u32;
            self.after(eng, slot, d, SWITCH, Event::SwitchDue(id));
        }
    }

    /// AZ `a` is reachable again: its switches not yet due are void, and
    /// those due but waiting for a write quorum are no longer due.
    pub(super) fn disarm_switches<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        a: usize,
    ) {
        if self.cfg.quorum_switch.is_none() {
            return;
        }
        for j in 0..self.pgs.len() {
            eng.cancel(self.switch_slot(j, a));
            self.pgs[j].special &= !(1 << a);
        }
    }

    /// PG `j`'s switch for AZ `a` fell due (`id` = j × AZs + a): it is
    /// noted and the PG's rules decide. Reported if the PG switched.
    pub(super) fn switch_fell_due<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        id: usize,
    ) -> Option<(Change, Target)> {
        let azs = self.az_slots.len();
        let (j, a) = (id / azs, id % azs);
        if j >= self.pgs.len() || self.fleet.az_reachable(a) {
            return None;
        }
        self.touch(j, eng.now());
        self.pgs[j].special |= 1 << a;
        let before = self.stats.quorum_switches;
        self.pass(eng, j);
        (self.stats.quorum_switches != before).then_some((Change::QuorumSwitch, Target::Az(a)))
    }

    /// The switch rule inside PG `j`'s fixpoint; whether the epoch changed.
    #[inline(always)]
    pub(super) fn switch<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        j: usize,
    ) -> bool {
        let pg = &self.pgs[j];
        pg.special & !super::NO_FULL != 0 && self.switch_epoch(eng, j)
    }

    #[inline(never)]
    fn switch_epoch<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, j: usize) -> bool {
        let reach = self.reachable(j);
        let pg = &mut self.pgs[j];
        let up_current = pg.current & reach;
        if pg.epoch() != 0 {
            // Back, with no quorum condition, once every replica of the
            // switched AZ is up and current.
            let a = pg.epoch() as usize - 1;
            let m = self.az_slots[a];
            if up_current & m != m {
                return false;
            }
            pg.special &= !(0xff << EPOCH_SHIFT);
            self.emit(eng.now(), Change::QuorumRestore, Target::Az(a));
            return true;
        }
        // The epoch change is itself a quorum write: it waits for one.
        let due = pg.special & SWITCH_DUE;
        if due == 0 || !self.cfg.quorum.write_ok(up_current) {
            return false;
        }
        let a = due.trailing_zeros() as usize;
        pg.special |= (a as u64 + 1) << EPOCH_SHIFT;
        self.stats.quorum_switches += 1;
        self.emit(eng.now(), Change::QuorumSwitch, Target::Az(a));
        true
    }
}
