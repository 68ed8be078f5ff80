//! Applying one event to the group: crashes, losses, outages, returns and
//! timers (the rules that follow are in `rules.rs`).

use super::{CRASH_PROC, Data, LOSS_PROC, OTHER, ProtectionGroup, RETURN, WORK, bit, members};
use crate::engine::{Engine, EventQueue};
use crate::model::event::{Change, Event, Observer, Target};
use crate::model::{Config, Process, ScriptedKind};
use crate::time::SimTime;

impl<'c, O: Observer> ProtectionGroup<'c, O> {
    fn crash<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        r: usize,
        lasts: SimTime,
    ) -> bool {
        match self.data[r] {
            // SPEC: a crash of a lost replica's node leaves it unaffected.
            Data::Lost { .. } => return false,
            Data::Repairing { .. } => {
                self.set_data(r, Data::Lost { detected: true });
                self.stop_work(eng, r);
            }
            Data::Present { .. } => {
                if self.catching & bit(r) != 0 {
                    self.stop_work(eng, r);
                }
            }
        }
        let end = eng.now().saturating_add(lasts);
        if self.crashed & bit(r) == 0 || end > self.crash_until[r] {
            self.crash_until[r] = end;
            self.after(
                eng,
                Self::node_slot(r, RETURN),
                lasts,
                OTHER,
                Event::NodeRecovered(r as u16),
            );
        }
        self.crashed |= bit(r);
        true
    }

    fn lose<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, r: usize) -> bool {
        if let Data::Lost { .. } = self.data[r] {
            // Still lost; only a partial copy kept for resuming is destroyed.
            let had = self.kept & bit(r) != 0;
            self.kept &= !bit(r);
            return had;
        }
        self.stop_work(eng, r);
        self.set_data(r, Data::Lost { detected: false });
        if self.crashed & bit(r) != 0 {
            // The replacement is a new node: the old one's return is moot.
            self.crashed &= !bit(r);
            eng.cancel(Self::node_slot(r, RETURN));
        }
        let d = self.cfg.detection_delay.sample(eng.rng());
        if d.0 == 0 {
            self.set_data(r, Data::Lost { detected: true });
        } else {
            self.after(
                eng,
                Self::node_slot(r, WORK),
                d,
                OTHER,
                Event::Detected(r as u16),
            );
        }
        true
    }

    fn make_unreachable<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        a: usize,
        lasts: SimTime,
    ) {
        let end = eng.now().saturating_add(lasts);
        if self.az_unreachable & (1 << a) == 0 || end > self.az_until[a] {
            self.az_until[a] = end;
            let slot = self.az_slot(a, RETURN);
            self.after(eng, slot, lasts, OTHER, Event::AzRecovered(a as u16));
        }
        self.az_unreachable |= 1 << a;
        self.in_dark_az |= self.az_members[a];
    }

    fn lose_az<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        a: usize,
        lasts: SimTime,
    ) {
        self.make_unreachable(eng, a, lasts);
        for r in members(self.az_members[a]) {
            self.lose(eng, r);
        }
    }

    /// A node's process timer fired: it is spent; whether the node is up to
    /// be failed by it (a memoryless timer is left running while its node is
    /// down, and one that fires then is void: see `after_event`).
    fn fire_node_process(&mut self, k: u32, r: usize) -> bool {
        self.node_armed[k as usize] &= !bit(r);
        let up = self.present & self.reachable() & bit(r) != 0;
        self.void_events += u64::from(!up);
        up
    }

    /// As [`Self::fire_node_process`], for an AZ's process.
    fn fire_az_process(&mut self, k: usize, a: usize) -> bool {
        self.az_armed[k] &= !(1 << a);
        let up = self.az_unreachable & (1 << a) == 0;
        self.void_events += u64::from(!up);
        up
    }

    fn draw_lasts<Q: EventQueue<Event>>(
        eng: &mut Engine<Event, Q>,
        p: &Option<Process>,
    ) -> SimTime {
        match p.as_ref().and_then(|p| p.lasts.as_ref()) {
            // A zero-length failure would be invisible; 1 µs is the finest tick.
            Some(d) => d.sample(eng.rng()).max(SimTime(1)),
            None => SimTime(1),
        }
    }

    /// Applies one event; returns the change to record, if any.
    pub(super) fn apply<Q: EventQueue<Event>>(
        &mut self,
        ev: Event,
        eng: &mut Engine<Event, Q>,
    ) -> Option<(Change, Target)> {
        let cfg: &'c Config = self.cfg;
        let f = &cfg.failures;
        match ev {
            Event::Scripted(i) => {
                let s = &cfg.events[i as usize];
                let (t, lasts) = (s.target, s.lasts);
                match s.kind {
                    ScriptedKind::NodeCrash => self
                        .crash(eng, t, lasts)
                        .then_some((Change::NodeCrash, Target::Node(t))),
                    ScriptedKind::NodeLoss => self
                        .lose(eng, t)
                        .then_some((Change::NodeLoss, Target::Node(t))),
                    ScriptedKind::AzOutage => {
                        self.make_unreachable(eng, t, lasts);
                        Some((Change::AzOutage, Target::Az(t)))
                    }
                    ScriptedKind::AzLoss => {
                        self.lose_az(eng, t, lasts);
                        Some((Change::AzLoss, Target::Az(t)))
                    }
                    // Not produced by validation yet (issue 13 in progress).
                    ScriptedKind::RackOutage => None,
                }
            }
            Event::NodeCrashDue(r) => {
                let r = r as usize;
                if !self.fire_node_process(CRASH_PROC, r) {
                    return None;
                }
                let lasts = Self::draw_lasts(eng, &f.node_crash);
                self.crash(eng, r, lasts)
                    .then_some((Change::NodeCrash, Target::Node(r)))
            }
            Event::NodeLossDue(r) => {
                let r = r as usize;
                if !self.fire_node_process(LOSS_PROC, r) {
                    return None;
                }
                self.lose(eng, r)
                    .then_some((Change::NodeLoss, Target::Node(r)))
            }
            Event::AzOutageDue(a) => {
                if !self.fire_az_process(0, a as usize) {
                    return None;
                }
                let lasts = Self::draw_lasts(eng, &f.az_outage);
                self.make_unreachable(eng, a as usize, lasts);
                Some((Change::AzOutage, Target::Az(a as usize)))
            }
            Event::AzLossDue(a) => {
                if !self.fire_az_process(1, a as usize) {
                    return None;
                }
                let lasts = Self::draw_lasts(eng, &f.az_loss);
                self.lose_az(eng, a as usize, lasts);
                Some((Change::AzLoss, Target::Az(a as usize)))
            }
            Event::NodeRecovered(r) => {
                self.crashed &= !bit(r as usize);
                Some((Change::NodeRecover, Target::Node(r as usize)))
            }
            Event::AzRecovered(a) => {
                self.az_unreachable &= !(1 << a);
                self.in_dark_az &= !self.az_members[a as usize];
                Some((Change::AzRecover, Target::Az(a as usize)))
            }
            Event::Detected(r) => {
                if self.data[r as usize] == (Data::Lost { detected: false }) {
                    self.set_data(r as usize, Data::Lost { detected: true });
                }
                None
            }
            Event::RepairDone(r) => {
                self.set_data(
                    r as usize,
                    Data::Present {
                        current: true,
                        pos: self.wclock,
                    },
                );
                Some((Change::RepairDone, Target::Node(r as usize)))
            }
            Event::CatchupDone(r) => {
                let r = r as usize;
                self.catching &= !bit(r);
                self.set_data(
                    r,
                    Data::Present {
                        current: true,
                        pos: self.wclock,
                    },
                );
                Some((Change::CatchUp, Target::Node(r)))
            }
            Event::GiveUp(r) => {
                let r = r as usize;
                self.giveup_armed &= !bit(r);
                if self.present & !self.reachable() & bit(r) == 0 {
                    return None;
                }
                self.set_data(r, Data::Lost { detected: true });
                if self.crashed & bit(r) != 0 {
                    // SPEC: the node's later return is ignored.
                    self.crashed &= !bit(r);
                    eng.cancel(Self::node_slot(r, RETURN));
                }
                Some((Change::Replace, Target::Node(r)))
            }
            Event::Restored => {
                self.restore(eng);
                Some((Change::Restore, Target::Group))
            }
        }
    }
}
