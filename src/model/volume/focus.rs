//! `estimate` on a volume of many PGs (SPEC §7 on §4): the union estimator.
//!
//! A volume loses data when any of its N PGs does, and biasing every PG's
//! failures at once drowns the one path that matters in harmless ones. So
//! each trial draws one PG J uniformly, biases only the failures that can
//! touch it (its nodes' processes, its racks', every AZ's) and leaves every
//! other process on its own timer at its original rate (weight 1). With K
//! the PGs that lose data at the first loss, P(some PG loses) =
//! Σⱼ E[1{j ∈ K}/|K|], so N·W_J·1{J ∈ K}/|K| is unbiased (Owen, Maximov and
//! Chertkov 2019, "Importance sampling the union of rare events"), and its
//! variance stays that of one PG's estimate as long as J is about as likely
//! as any other PG to be the one that fails.
//!
//! J's replicas move when they are rebuilt on other nodes: after every
//! event the focus follows them, handing a node that joins it from its own
//! timers to the aggregate timer and one that leaves back to its own timers
//! (exact: every failure process is exponential).

use super::Volume;
use super::bias::{BiasState, bias_stream};
use super::fleet::{CRASH_PROC, Fleet, GIVE_UP_TIMER, LOSS_PROC, RETURN};
use crate::engine::{Engine, EventQueue, Slot};
use crate::model::event::{Event, Observer};
use crate::time::SimTime;
use rand::RngExt;

/// The PG a trial biases, and the targets whose failures can touch it.
pub(super) struct Focus {
    pub pg: usize,
    /// `node_of` of its slots, as last seen.
    slot_nodes: Vec<u32>,
    /// Those nodes, ascending and distinct.
    pub nodes: Vec<u32>,
    /// Their racks, ascending and distinct.
    pub racks: Vec<u32>,
}

impl<O: Observer> Volume<'_, O> {
    /// Draws the focus PG (at the first call) and keeps the focus on the
    /// nodes and racks that hold its replicas; then arms the own timers of
    /// the changed nodes and racks outside it.
    pub(super) fn refocus<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        b: &mut BiasState,
    ) {
        let v = self.v;
        let j = match &b.focus {
            Some(f) => f.pg,
            None => bias_stream(eng).random_range(0..self.pgs.len()),
        };
        let now_nodes = &self.node_of[j * v..(j + 1) * v];
        if b.focus.as_ref().is_none_or(|f| f.slot_nodes != now_nodes) {
            let slot_nodes = now_nodes.to_vec();
            let mut nodes = slot_nodes.clone();
            nodes.sort_unstable();
            nodes.dedup();
            let mut racks: Vec<u32> = nodes
                .iter()
                .filter_map(|&n| self.fleet.rack_of(n as usize))
                .map(|g| g as u32)
                .collect();
            racks.sort_unstable();
            racks.dedup();
            let (old_nodes, old_racks) = b
                .focus
                .take()
                .map_or((Vec::new(), Vec::new()), |f| (f.nodes, f.racks));
            for &n in old_nodes.iter().filter(|n| nodes.binary_search(n).is_err()) {
                // Back on its own timers (armed below).
                self.fleet.mark(n as usize);
            }
            for &n in nodes.iter().filter(|n| old_nodes.binary_search(n).is_err()) {
                for k in [CRASH_PROC, LOSS_PROC] {
                    if self.fleet.armed(n as usize, k as usize) {
                        self.fleet.set_armed(n as usize, k as usize, false);
                        eng.cancel(Fleet::node_slot(n as usize, k));
                    }
                }
            }
            for &g in old_racks.iter().filter(|g| racks.binary_search(g).is_err()) {
                self.fleet.dirty_racks.push(g);
            }
            for &g in racks.iter().filter(|g| old_racks.binary_search(g).is_err()) {
                if self.fleet.rack_armed[g as usize] {
                    self.fleet.rack_armed[g as usize] = false;
                    eng.cancel(self.fleet.rack_slot(g as usize, 0));
                }
            }
            b.focus = Some(Focus {
                pg: j,
                slot_nodes,
                nodes,
                racks,
            });
        }
        if let Some(f) = b.focus.take() {
            self.arm_unfocused(eng, &f);
            b.focus = Some(f);
        }
    }

    /// Own timers, at the original rates, for the changed nodes and racks
    /// outside the focus: as `arm.rs` does for exponential processes (a
    /// pending timer stays pending while its target is down).
    fn arm_unfocused<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, f: &Focus) {
        let cfg = self.cfg;
        let fl = &cfg.failures;
        for i in 0..self.fleet.dirty.len() {
            let n = self.fleet.dirty[i] as usize;
            if !self.fleet.up(n) || f.nodes.binary_search(&(n as u32)).is_ok() {
                continue;
            }
            for (k, p) in [(CRASH_PROC, &fl.node_crash), (LOSS_PROC, &fl.node_loss)] {
                let Some(p) = p else { continue };
                if !self.fleet.armed(n, k as usize) {
                    self.arm_node(eng, n, k, p);
                }
            }
        }
        let Some(p) = &fl.rack_outage else { return };
        for i in 0..self.fleet.dirty_racks.len() {
            let g = self.fleet.dirty_racks[i] as usize;
            if self.fleet.rack_dark[g]
                || self.fleet.rack_armed[g]
                || f.racks.binary_search(&(g as u32)).is_ok()
            {
                continue;
            }
            self.arm_rack(eng, g, p);
        }
    }

    /// The focus PG is at rest: every replica present, current and
    /// reachable, nothing being repaired, caught up or restored, no switch
    /// due or made.
    pub(super) fn focus_resting(&self, f: &Focus) -> bool {
        let pg = &self.pgs[f.pg];
        pg.present == self.all
            && pg.current == self.all
            && pg.down | pg.repairing | pg.catching | pg.queued == 0
            && !pg.restoring
            && pg.special == 0
    }

    /// The next pending event that concerns the focus PG: its replicas'
    /// repairs, catch-ups and detections, its restore and switches, and
    /// the returns and give-ups of its nodes, racks and AZs.
    pub(super) fn focus_next<Q: EventQueue<Event>>(
        &self,
        eng: &Engine<Event, Q>,
        f: &Focus,
    ) -> Option<SimTime> {
        let j = f.pg;
        let mut best: Option<SimTime> = None;
        let mut see = |s: Slot| {
            if let Some(t) = eng.time_of(s) {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        };
        for s in 0..self.v {
            see(self.work_slot(j * self.v + s));
        }
        see(self.restore_slot(j));
        if self.cfg.quorum_switch.is_some() {
            for a in 0..self.az_slots.len() {
                see(self.switch_slot(j, a));
            }
        }
        for &n in &f.nodes {
            see(Fleet::node_slot(n as usize, RETURN));
            see(Fleet::node_slot(n as usize, GIVE_UP_TIMER));
        }
        for a in 0..self.fleet.az_until.len() {
            see(self.fleet.az_slot(a, 2));
        }
        for &g in &f.racks {
            see(self.fleet.rack_slot(g as usize, 1));
        }
        best
    }
}
