//! The rule fixpoint of SPEC §1 (staleness, abandonment, catch-up,
//! re-replication, data loss and restore), and the re-arming of failure
//! processes and give-up timers after each event.

use super::{
    CRASH_PROC, Data, GIVE_UP, GIVE_UP_TIMER, LOSS_PROC, OTHER, ProtectionGroup, WORK, bit,
    low_bits, members,
};
use crate::engine::{Engine, EventQueue};
use crate::model::event::{Change, Event, Observer, Target};
use crate::model::{Config, RepairProgress};
use crate::time::SimTime;

impl<'c, O: Observer> ProtectionGroup<'c, O> {
    /// Passive consequences of the current state: rule 1's staleness and the
    /// abandonment of repairs and catch-ups whose conditions no longer hold.
    pub(super) fn settle<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        let reach = self.reachable();
        let uc = self.current & reach;
        if self.cfg.quorum.write_ok(uc) {
            // Rule 1: replicas that are not up miss the next record.
            for r in members(self.current & !reach) {
                self.set_data(
                    r,
                    Data::Present {
                        current: false,
                        pos: self.wclock,
                    },
                );
            }
        }
        for r in members(self.repairing) {
            let Data::Repairing { src } = self.data[r] else {
                continue;
            };
            if uc & bit(src as usize) == 0 || reach & bit(r) == 0 {
                self.set_data(r, Data::Lost { detected: true });
                self.stop_work(eng, r);
                if reach & bit(r) != 0 && self.cfg.repair_progress == RepairProgress::Resume {
                    // Only the source went away: keep what was copied.
                    self.kept |= bit(r);
                    self.repair_left[r] =
                        SimTime(self.repair_until[r].0.saturating_sub(eng.now().0));
                }
            }
        }
        // A replica whose own node or AZ is unreachable starts from zero.
        self.kept &= reach;
        for r in members(self.catching) {
            let src = self.catchup_src[r] as usize;
            if reach & bit(r) == 0 || uc & bit(src) == 0 || self.current & bit(r) != 0 {
                self.stop_work(eng, r);
            }
        }
    }

    /// Rule 2: up, stale replicas start (or, with zero `catchup_time`, finish)
    /// catching up from the first up, current peer.
    pub(super) fn catch_up<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) -> bool {
        let waiting = self.present & !self.current & !self.catching & self.reachable();
        let mut changed = false;
        for r in members(waiting) {
            let Some(src) = self.first_up_current() else {
                return changed;
            };
            let d = self.cfg.catchup_time.sample(eng.rng());
            if d.0 == 0 {
                self.set_data(
                    r,
                    Data::Present {
                        current: true,
                        pos: self.wclock,
                    },
                );
                self.emit(eng.now(), Change::CatchUp, Target::Node(r));
                changed = true;
            } else {
                self.catching |= bit(r);
                self.catchup_src[r] = src as u16;
                self.after(
                    eng,
                    Self::node_slot(r, WORK),
                    d,
                    OTHER,
                    Event::CatchupDone(r as u16),
                );
            }
        }
        changed
    }

    /// Rule 4: detected lost replicas on reachable nodes start repairing from
    /// the first up, current peer.
    pub(super) fn re_replicate<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
    ) -> bool {
        let ready = self.lost_detected & self.reachable();
        let mut changed = false;
        for r in members(ready) {
            let Some(src) = self.first_up_current() else {
                return changed;
            };
            let d = if self.kept & bit(r) != 0 {
                self.kept &= !bit(r);
                self.repair_left[r]
            } else {
                self.cfg.repair_time.sample(eng.rng())
            };
            self.repair_until[r] = eng.now().saturating_add(d);
            changed = true;
            if d.0 == 0 {
                self.set_data(
                    r,
                    Data::Present {
                        current: true,
                        pos: self.wclock,
                    },
                );
                self.emit(eng.now(), Change::RepairDone, Target::Node(r));
            } else {
                self.set_data(r, Data::Repairing { src: src as u16 });
                self.after(
                    eng,
                    Self::node_slot(r, WORK),
                    d,
                    OTHER,
                    Event::RepairDone(r as u16),
                );
                self.emit(eng.now(), Change::RepairStart, Target::Node(r));
            }
        }
        changed
    }

    /// Rule 5: when no replica holds the latest acknowledged write, count a
    /// data loss and carry on from the freshest survivors, or restore.
    pub(super) fn check_data_loss<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
    ) -> bool {
        if self.restoring || self.current != 0 {
            return false;
        }
        let now = eng.now();
        self.stats.data_loss_events += 1;
        self.stats.first_data_loss.get_or_insert(now);
        let freshest = members(self.present)
            .filter_map(|r| match self.data[r] {
                Data::Present { pos, .. } => Some(pos),
                _ => None,
            })
            .max();
        match freshest {
            Some(best) => {
                self.stats.lost_write_us += self.wclock - best;
                self.wclock = best;
                for r in members(self.present) {
                    if let Data::Present { pos, .. } = self.data[r] {
                        self.set_data(
                            r,
                            Data::Present {
                                current: pos == best,
                                pos,
                            },
                        );
                    }
                }
                self.emit(now, Change::DataLoss, Target::Group);
            }
            None => {
                let lag = self.cfg.backup_lag.0.min(self.wclock);
                self.stats.lost_write_us += lag;
                self.wclock -= lag;
                self.restoring = true;
                self.emit(now, Change::DataLoss, Target::Group);
                let d = self.cfg.restore_time.sample(eng.rng());
                if d.0 == 0 {
                    self.restore(eng);
                    self.emit(now, Change::Restore, Target::Group);
                } else {
                    let slot = self.restore_slot();
                    self.after(eng, slot, d, OTHER, Event::Restored);
                }
            }
        }
        true
    }

    /// Every replica gets the restored data and is current.
    pub(super) fn restore<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        self.restoring = false;
        self.kept = 0;
        for r in 0..self.data.len() {
            self.stop_work(eng, r);
            self.set_data(
                r,
                Data::Present {
                    current: true,
                    pos: self.wclock,
                },
            );
        }
    }

    /// Samples availability, and arms or cancels failure processes and
    /// give-up timers for nodes and AZs whose up-state changed.
    pub(super) fn after_event<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        let reach = self.reachable();
        let (up, uc) = (self.present & reach, self.current & reach);
        let now = eng.now();
        self.write_ok = self.cfg.quorum.write_ok(uc);
        self.stats.write.observe(now, self.write_ok);
        self.stats
            .read
            .observe(now, self.cfg.quorum.read_ok(up, uc));
        let cfg: &'c Config = self.cfg;
        let f = &cfg.failures;
        // Node processes run only while their node is up. A memoryless
        // (exponential) timer is left pending while its node is down: its
        // remaining time is then distributed as a fresh draw at the return,
        // so only a timer that fired (or was never drawn) needs a draw. Any
        // other timer restarts from a fresh draw when its node is back, and
        // when the node is new (its replica was destroyed, even if it was
        // replaced within this instant).
        for (k, p) in [(CRASH_PROC, &f.node_crash), (LOSS_PROC, &f.node_loss)] {
            let Some(p) = p else { continue };
            let ki = k as usize;
            if !p.every.is_memoryless() {
                for r in members(self.node_armed[ki] & (!up | self.renewed)) {
                    self.node_armed[ki] &= !bit(r);
                    eng.cancel(Self::node_slot(r, k));
                }
            }
            for r in members(up & !self.node_armed[ki]) {
                self.node_armed[ki] |= bit(r);
                let ev = if k == CRASH_PROC {
                    Event::NodeCrashDue(r as u16)
                } else {
                    Event::NodeLossDue(r as u16)
                };
                let d = p.every.sample(eng.rng()).max(SimTime(1));
                self.after(eng, Self::node_slot(r, k), d, OTHER, ev);
            }
        }
        self.renewed = 0;
        if let Some(rda) = &cfg.replace_down_after {
            let down = self.present & !reach;
            for r in members(down ^ self.giveup_armed) {
                self.giveup_armed ^= bit(r);
                if down & bit(r) != 0 {
                    let d = rda.sample(eng.rng()).max(SimTime(1));
                    self.after(
                        eng,
                        Self::node_slot(r, GIVE_UP_TIMER),
                        d,
                        GIVE_UP,
                        Event::GiveUp(r as u16),
                    );
                } else {
                    eng.cancel(Self::node_slot(r, GIVE_UP_TIMER));
                }
            }
        }
        // AZ processes: the same, over reachable AZs.
        let az_up = low_bits(self.az_until.len()) & !self.az_unreachable;
        for (k, p) in [(0, &f.az_outage), (1, &f.az_loss)] {
            let Some(p) = p else { continue };
            if !p.every.is_memoryless() {
                for a in members(self.az_armed[k] & !az_up) {
                    self.az_armed[k] &= !(1 << a);
                    let slot = self.az_slot(a, k as u32);
                    eng.cancel(slot);
                }
            }
            for a in members(az_up & !self.az_armed[k]) {
                self.az_armed[k] |= 1 << a;
                let ev = if k == 0 {
                    Event::AzOutageDue(a as u16)
                } else {
                    Event::AzLossDue(a as u16)
                };
                let d = p.every.sample(eng.rng()).max(SimTime(1));
                let slot = self.az_slot(a, k as u32);
                self.after(eng, slot, d, OTHER, ev);
            }
        }
    }
}
