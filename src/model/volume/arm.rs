//! After each event: sample the volume's availability, and arm or cancel the
//! failure processes and give-up timers of the nodes, racks and AZs whose
//! state changed (SPEC §1 "Failure sources": a process runs only while its
//! target is up).

use super::fleet::{CRASH_PROC, Fleet, GIVE_UP_TIMER, LOSS_PROC};
use super::{GIVE_UP, OTHER, Volume, low_bits, members};
use crate::engine::{Engine, EventQueue};
use crate::model::event::{Event, Observer};
use crate::model::sources::{AZ_OUTAGE, NODE_CRASH, Part, RACK_OUTAGE, Sources, Timing};
use crate::model::{Config, Dist, Process};
use crate::time::SimTime;

impl<'c, O: Observer> Volume<'c, O> {
    pub(super) fn after_event<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        self.sample(eng.now());
        if self.bias.is_some() {
            // `estimate` (SPEC §7): one aggregate failure timer instead.
            return self.after_event_biased(eng);
        }
        let cfg: &'c Config = self.cfg;
        let f = &cfg.failures;
        if let [n] = self.fleet.dirty[..] {
            self.arm_one_node(eng, n as usize);
            self.fleet.clear_dirty();
        } else if !self.fleet.dirty.is_empty() {
            // Timers are drawn process by process, each over the changed
            // nodes in node order.
            self.fleet.sort_dirty();
            if let Some(p) = &f.node_crash {
                self.arm_nodes(eng, CRASH_PROC, p);
            }
            if let Some(p) = &f.node_loss {
                self.arm_nodes(eng, LOSS_PROC, p);
            }
            if let Some(rda) = &cfg.replace_down_after {
                self.arm_give_ups(eng, rda);
            }
            self.fleet.clear_dirty();
        }
        if std::mem::take(&mut self.fleet.azs_dirty) {
            self.arm_azs(eng);
        }
        if !self.fleet.dirty_racks.is_empty() {
            self.arm_racks(eng);
        }
    }

    /// The volume's write and read availability from `now` on.
    #[inline(always)]
    pub(super) fn sample(&mut self, now: SimTime) {
        self.stats.write.observe(now, self.pgs_write_down == 0);
        self.stats.read.observe(now, self.pgs_read_down == 0);
    }

    /// The processes and give-up timer of node `n`, the only one changed
    /// (most events): the same steps as the loops over the changed nodes.
    #[inline(always)]
    pub(super) fn arm_one_node<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        n: usize,
    ) {
        let cfg: &'c Config = self.cfg;
        let f = &cfg.failures;
        if let Some(p) = &f.node_crash {
            self.arm_node_process(eng, n, CRASH_PROC, p);
        }
        if let Some(p) = &f.node_loss {
            self.arm_node_process(eng, n, LOSS_PROC, p);
        }
        if let Some(rda) = &cfg.replace_down_after {
            self.arm_give_up(eng, n, rda);
        }
    }

    /// Node process `k` (`p`) on the changed nodes. A memoryless
    /// (exponential) timer is left pending while its node is down: its
    /// remaining time is then distributed as a fresh draw at the return, so
    /// only a timer that fired (or was never drawn) needs a draw. Any other
    /// timer restarts from a fresh draw when its node is back, and when the
    /// node is new (replaced within this instant). Cancelling and arming
    /// node by node draws in the same order as all cancels first (cancels
    /// draw nothing).
    #[inline(always)]
    fn arm_nodes<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, k: u32, p: &Process) {
        let ki = k as usize;
        let memoryless = p.every.is_memoryless();
        if memoryless && self.fleet.all_armed(ki) {
            // Nothing to cancel, nothing to draw (a loss process, mostly).
            return;
        }
        for i in 0..self.fleet.dirty.len() {
            let n = self.fleet.dirty[i] as usize;
            self.arm_node_process(eng, n, k, p);
        }
    }

    /// [`Volume::arm_nodes`] on node `n`.
    #[inline(always)]
    fn arm_node_process<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        n: usize,
        k: u32,
        p: &Process,
    ) {
        let ki = k as usize;
        let up = self.fleet.up(n);
        if self.fleet.armed(n, ki) {
            if p.every.is_memoryless() || (up && !self.fleet.nodes[n].renewed) {
                return;
            }
            self.fleet.set_armed(n, ki, false);
            eng.cancel(Fleet::node_slot(n, k));
        }
        if up {
            self.arm_node(eng, n, k, p);
        }
    }

    /// Marks node `n`'s process `k` (`p`) armed and schedules its next
    /// firing, drawn from its own stream.
    #[inline(always)]
    pub(super) fn arm_node<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        n: usize,
        k: u32,
        p: &Process,
    ) {
        self.fleet.set_armed(n, k as usize, true);
        let ev = if k == CRASH_PROC {
            Event::NodeCrashDue(n as u32)
        } else {
            Event::NodeLossDue(n as u32)
        };
        let src = (NODE_CRASH + k as usize, n, Part::Every);
        let d = self
            .src
            .draw_process(eng, self.cfg, &p.every, src)
            .max(SimTime(1));
        self.after(eng, Fleet::node_slot(n, k), d, OTHER, ev);
    }

    /// Marks rack `g`'s outage process (`p`) armed and schedules it.
    pub(super) fn arm_rack<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        g: usize,
        p: &Process,
    ) {
        self.fleet.rack_armed[g] = true;
        let src = (RACK_OUTAGE, g, Part::Every);
        let d = self
            .src
            .draw_process(eng, self.cfg, &p.every, src)
            .max(SimTime(1));
        let slot = self.fleet.rack_slot(g, 0);
        self.after(eng, slot, d, OTHER, Event::RackOutageDue(g as u32));
    }

    /// Give-up timers: armed while a node holding replicas is unreachable.
    pub(super) fn arm_give_ups<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        rda: &Dist,
    ) {
        for i in 0..self.fleet.dirty.len() {
            let n = self.fleet.dirty[i] as usize;
            self.arm_give_up(eng, n, rda);
        }
    }

    /// [`Volume::arm_give_ups`] on node `n`.
    #[inline(always)]
    fn arm_give_up<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        n: usize,
        rda: &Dist,
    ) {
        let want = self.fleet.nodes[n].present > 0 && !self.fleet.reachable(n);
        if want == self.fleet.nodes[n].giveup_armed {
            return;
        }
        self.fleet.nodes[n].giveup_armed = want;
        let slot = Fleet::node_slot(n, GIVE_UP_TIMER);
        if want {
            let d = Sources::draw_timing(eng, rda, Timing::GiveUp).max(SimTime(1));
            self.after(eng, slot, d, GIVE_UP, Event::GiveUp(n as u32));
        } else {
            eng.cancel(slot);
        }
    }

    /// AZ processes: as the nodes', over reachable AZs.
    fn arm_azs<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        let cfg: &'c Config = self.cfg;
        let f = &cfg.failures;
        let az_up = low_bits(self.fleet.az_until.len()) & !self.fleet.az_dark;
        for (k, p) in [(0, &f.az_outage), (1, &f.az_loss)] {
            let Some(p) = p else { continue };
            if !p.every.is_memoryless() {
                for a in members(self.fleet.az_armed[k] & !az_up) {
                    self.fleet.az_armed[k] &= !(1 << a);
                    let slot = self.fleet.az_slot(a, k as u32);
                    eng.cancel(slot);
                }
            }
            for a in members(az_up & !self.fleet.az_armed[k]) {
                self.fleet.az_armed[k] |= 1 << a;
                let ev = if k == 0 {
                    Event::AzOutageDue(a as u16)
                } else {
                    Event::AzLossDue(a as u16)
                };
                let src = (AZ_OUTAGE + k, a, Part::Every);
                let d = self
                    .src
                    .draw_process(eng, cfg, &p.every, src)
                    .max(SimTime(1));
                let slot = self.fleet.az_slot(a, k as u32);
                self.after(eng, slot, d, OTHER, ev);
            }
        }
    }

    /// Rack processes, over the racks that changed.
    fn arm_racks<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        let cfg: &'c Config = self.cfg;
        let f = &cfg.failures;
        let mut racks = std::mem::take(&mut self.fleet.dirty_racks);
        if let Some(p) = &f.rack_outage {
            racks.sort_unstable();
            racks.dedup();
            for &g in &racks {
                let g = g as usize;
                let up = !self.fleet.rack_dark[g];
                let slot = self.fleet.rack_slot(g, 0);
                if !p.every.is_memoryless() && self.fleet.rack_armed[g] && !up {
                    self.fleet.rack_armed[g] = false;
                    eng.cancel(slot);
                }
                if up && !self.fleet.rack_armed[g] {
                    self.arm_rack(eng, g, p);
                }
            }
        }
        racks.clear();
        self.fleet.dirty_racks = racks;
    }
}
