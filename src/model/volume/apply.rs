//! Applying one event: the fleet changes first (a node, rack or AZ), then
//! every PG with a replica there, PG by PG in PG order, each running its
//! rules to their fixpoint before the next (SPEC §4 "Rules").

use super::fleet::{CRASH_PROC, Fleet, LOSS_PROC, RETURN, Seg};
use super::placement::burst_nodes;
use super::{Data, NO_FULL, NONE, OTHER, Volume, bit, members};
use crate::engine::{Engine, EventQueue};
use crate::model::event::{Change, Event, Observer, Target};
use crate::model::sources::{
    self, AZ_LOSS, AZ_OUTAGE, Kind, NODE_CRASH, Part, RACK_OUTAGE, Sources, Timing,
};
use crate::model::{Config, Process, ScriptedKind};
use crate::time::SimTime;

/// What an event does to the replicas it reaches.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(super) enum Hit {
    /// Their node became unreachable.
    Down,
    /// Their node became reachable.
    Up,
    /// Their node was lost (and replaced by an empty one).
    Lose,
    /// Their node was given up after `replace_down_after`.
    GiveUp,
}

impl<'c, O: Observer> Volume<'c, O> {
    /// Notes the change for §1's per-replica timeline, shown by the next PG
    /// pass (or by `handle` if no PG is reached).
    fn begin_row(&mut self, change: Change, target: Target) -> Option<(Change, Target)> {
        if O::ENABLED && !self.cfg.storage.volume_mode {
            self.pending_row = Some((change, target));
        }
        Some((change, target))
    }

    /// Applies `hit` to the replicas `segs` (ascending), one PG at a time.
    /// Inlined into the node events, where `hit` is a constant.
    #[inline(always)]
    fn hit<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, segs: &[Seg], hit: Hit) {
        let mut i = 0;
        while let Some(first) = segs.get(i) {
            // A PG's replicas on a node are adjacent.
            let mut mask = 0u64;
            while let Some(seg) = segs.get(i).filter(|seg| seg.pg == first.pg) {
                mask |= bit(seg.slot as usize);
                i += 1;
            }
            self.hit_pg(eng, first.pg as usize, mask, hit);
        }
    }

    /// Applies `hit` to slots `mask` of PG `j` and runs its pass.
    #[inline(always)]
    pub(super) fn hit_pg<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        j: usize,
        mask: u64,
        hit: Hit,
    ) {
        if matches!(hit, Hit::Down | Hit::Up) && self.flips_allowed() && self.pgs[j].calm {
            return self.flip_calm(eng, j, mask, hit == Hit::Down);
        }
        self.touch(j, eng.now());
        match hit {
            Hit::Down => self.pgs[j].down |= mask,
            Hit::Up => self.pgs[j].down &= !mask,
            Hit::Lose => self.destroy(eng, j, mask, false),
            Hit::GiveUp => self.destroy(eng, j, mask, true),
        }
        self.pass(eng, j);
    }

    /// Destroys slots `mask` of PG `j` with their node: lost (`give_up`:
    /// given up after `replace_down_after`); the node is its replacement.
    #[inline(always)]
    fn destroy<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        j: usize,
        mask: u64,
        give_up: bool,
    ) {
        let base = j * self.v;
        for s in members(mask) {
            let n = self.node_of[base + s] as usize;
            if self.fleet.reachable(n) {
                self.pgs[j].down &= !bit(s);
            } else {
                self.pgs[j].down |= bit(s);
            }
            if !give_up {
                self.lose_replica(eng, j, s, n);
            } else if self.pgs[j].present & bit(s) != 0 {
                self.set_data(j, s, Data::Lost { detected: true });
                self.lost_by(base + s, n);
                self.note_no_full(j);
            }
        }
    }

    /// Applies `hit` to every replica on node `n`.
    #[inline(always)]
    fn hit_node<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, n: usize, hit: Hit) {
        if self.fixed_target {
            // No replica moves between nodes, and a node holds one slot of a
            // PG at most: walk the list itself, one replica at a time.
            for i in 0..self.fleet.on_node[n].len() {
                let seg = self.fleet.on_node[n][i];
                self.hit_pg(eng, seg.pg as usize, bit(seg.slot as usize), hit);
            }
        } else {
            // Passes may move replicas onto or off node `n`: walk a copy.
            let mut segs = std::mem::take(&mut self.scratch);
            segs.clear();
            segs.extend_from_slice(&self.fleet.on_node[n]);
            self.hit(eng, &segs, hit);
            self.scratch = segs;
        }
    }

    /// Node `n`'s replicas became unreachable or reachable (`hit`).
    #[inline(always)]
    fn flip<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, n: usize, hit: Hit) {
        if self.flips_allowed() {
            self.flip_node(eng, n, hit == Hit::Down);
        } else {
            self.hit_node(eng, n, hit);
        }
    }

    /// Whether node `n` holds a replica that is up, down or repairing (or,
    /// for a loss, a kept partial copy).
    #[inline]
    fn holds(&self, n: usize, kept_counts: bool) -> bool {
        // Present ones are counted; only a node without any needs a look.
        self.fleet.nodes[n].present > 0 || self.holds_other(n, kept_counts)
    }

    fn holds_other(&self, n: usize, kept_counts: bool) -> bool {
        self.fleet.on_node[n].iter().any(|seg| {
            let (j, s) = (seg.pg as usize, seg.slot as usize);
            !self.is_lost(j, s) || (kept_counts && self.pgs[j].kept & bit(s) != 0)
        })
    }

    /// After a loss: with no full segment left present, PG `j` can rebuild
    /// its pages only from backup; the flag sends it past the quiet pass to
    /// rule 5 (a full segment comes back only by a restore, which clears it).
    #[inline(always)]
    fn note_no_full(&mut self, j: usize) {
        if self.pgs[j].present & self.full == 0 {
            self.pgs[j].special |= NO_FULL;
        }
    }

    /// Replica `rid` was destroyed with node `n`: `n` waits for it.
    #[inline]
    fn lost_by(&mut self, rid: usize, n: usize) {
        let old = std::mem::replace(&mut self.lost_from[rid], n as u32);
        if old != NONE {
            self.fleet.pending_done(old as usize);
        }
        self.fleet.pending_add(n);
    }

    #[inline(always)]
    fn lose_replica<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        j: usize,
        s: usize,
        n: usize,
    ) -> bool {
        let rid = j * self.v + s;
        if self.is_lost(j, s) {
            // Still lost; only a partial copy kept for resuming is destroyed.
            let had = self.pgs[j].kept & bit(s) != 0;
            self.pgs[j].kept &= !bit(s);
            return had;
        }
        self.stop_work(eng, j, s);
        self.set_data(j, s, Data::Lost { detected: false });
        self.lost_by(rid, n);
        self.note_no_full(j);
        let d = if self.instant_detection {
            SimTime::ZERO
        } else {
            Sources::draw_timing(eng, &self.cfg.detection_delay, Timing::Detection)
        };
        if d.0 == 0 {
            self.set_data(j, s, Data::Lost { detected: true });
        } else {
            let slot = self.work_slot(rid);
            self.after(eng, slot, d, OTHER, Event::Detected(rid as u32));
        }
        true
    }

    /// Node `n` is down for `lasts`, unless it holds nothing to take down.
    fn crash<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        n: usize,
        lasts: SimTime,
    ) -> Option<(Change, Target)> {
        if !self.holds(n, false) {
            return None;
        }
        let end = eng.now().saturating_add(lasts);
        if !self.fleet.crashed(n) || end > self.fleet.nodes[n].crash_until {
            self.schedule_return(eng, n, lasts);
        }
        let was = self.fleet.reachable(n);
        self.fleet.set_crashed(n, true);
        self.fleet.mark(n);
        let row = self.begin_row(Change::NodeCrash, Target::Node(n));
        if was {
            self.flip(eng, n, Hit::Down);
        }
        row
    }

    /// Node `n`, crashed, returns in `lasts` (its return (re)scheduled).
    #[inline(always)]
    pub(super) fn schedule_return<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        n: usize,
        lasts: SimTime,
    ) {
        self.fleet.nodes[n].crash_until = eng.now().saturating_add(lasts);
        let slot = Fleet::node_slot(n, RETURN);
        self.after(eng, slot, lasts, OTHER, Event::NodeRecovered(n as u32));
    }

    /// Node `n` is lost and replaced by an empty node of the same name.
    fn lose_node<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        n: usize,
        change: Change,
    ) -> Option<(Change, Target)> {
        let give_up = change == Change::Replace;
        if !(if give_up {
            !self.fleet.reachable(n) && self.fleet.nodes[n].present > 0
        } else {
            self.holds(n, true)
        }) {
            return None;
        }
        if self.fleet.crashed(n) {
            // The replacement is a new node: the old one's return is moot.
            self.fleet.set_crashed(n, false);
            eng.cancel(Fleet::node_slot(n, RETURN));
        }
        self.fleet.nodes[n].renewed = true;
        self.fleet.mark(n);
        let row = self.begin_row(change, Target::Node(n));
        let hit = if give_up { Hit::GiveUp } else { Hit::Lose };
        self.hit_node(eng, n, hit);
        row
    }

    fn make_unreachable<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        a: usize,
        lasts: SimTime,
    ) {
        let end = eng.now().saturating_add(lasts);
        if self.fleet.az_reachable(a) || end > self.fleet.az_until[a] {
            self.fleet.az_until[a] = end;
            let slot = self.fleet.az_slot(a, RETURN);
            self.after(eng, slot, lasts, OTHER, Event::AzRecovered(a as u16));
        }
        self.fleet.set_az_dark(a, true);
        self.fleet.azs_dirty = true;
    }

    /// An AZ outage (or, with `lose`, an AZ loss): every PG, all its
    /// replicas in the AZ at once.
    fn az_down<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        a: usize,
        lasts: SimTime,
        lose: bool,
    ) -> Option<(Change, Target)> {
        let was_reachable = self.fleet.az_reachable(a);
        self.make_unreachable(eng, a, lasts);
        if was_reachable {
            self.arm_switches(eng, a);
        }
        if lose {
            // SPEC §1: losing a node whose replicas are all lost already does
            // nothing (a crashed one stays crashed until its return).
            for n in self.fleet.az_nodes(a) {
                if !self.holds(n, false) {
                    continue;
                }
                if self.fleet.crashed(n) {
                    self.fleet.set_crashed(n, false);
                    eng.cancel(Fleet::node_slot(n, RETURN));
                }
                self.fleet.nodes[n].renewed = true;
            }
        }
        let change = if lose {
            Change::AzLoss
        } else {
            Change::AzOutage
        };
        let row = self.begin_row(change, Target::Az(a));
        let (now, slots) = (eng.now(), self.az_slots[a]);
        for j in 0..self.pgs.len() {
            if !lose && self.flips_allowed() && self.pgs[j].calm {
                self.flip_calm(eng, j, slots, true);
                continue;
            }
            self.touch(j, now);
            self.pgs[j].down |= slots;
            if lose {
                let base = j * self.v;
                for s in members(slots) {
                    let n = self.node_of[base + s] as usize;
                    self.lose_replica(eng, j, s, n);
                }
            }
            self.pass(eng, j);
        }
        row
    }

    fn az_up<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, a: usize) {
        self.fleet.set_az_dark(a, false);
        self.fleet.azs_dirty = true;
        self.disarm_switches(eng, a);
        self.begin_row(Change::AzRecover, Target::Az(a));
        let (now, slots) = (eng.now(), self.az_slots[a]);
        for j in 0..self.pgs.len() {
            let base = j * self.v;
            let back = members(slots)
                .filter(|&s| self.fleet.reachable(self.node_of[base + s] as usize))
                .fold(0, |m, s| m | bit(s));
            if self.flips_allowed() && self.pgs[j].calm {
                self.flip_calm(eng, j, back, false);
                continue;
            }
            self.touch(j, now);
            self.pgs[j].down &= !back;
            self.pass(eng, j);
        }
    }

    /// A rack outage starts (`lasts`) or ends (`None`).
    fn rack<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        g: usize,
        lasts: Option<SimTime>,
    ) {
        let mut flipped = std::mem::take(&mut self.scratch);
        flipped.clear();
        let down = lasts.is_some();
        if let Some(lasts) = lasts {
            let end = eng.now().saturating_add(lasts);
            if !self.fleet.rack_dark[g] || end > self.fleet.rack_until[g] {
                self.fleet.rack_until[g] = end;
                let slot = self.fleet.rack_slot(g, 1);
                self.after(eng, slot, lasts, OTHER, Event::RackRecovered(g as u32));
            }
        }
        let nodes: Vec<usize> = self.fleet.rack_nodes(g).collect();
        let was: Vec<bool> = nodes.iter().map(|&n| self.fleet.reachable(n)).collect();
        self.fleet.set_rack_dark(g, down);
        self.fleet.dirty_racks.push(g as u32);
        for (&n, &w) in nodes.iter().zip(&was) {
            self.fleet.mark(n);
            if w != self.fleet.reachable(n) {
                flipped.extend_from_slice(&self.fleet.on_node[n]);
            }
        }
        flipped.sort_unstable();
        let hit = if down { Hit::Down } else { Hit::Up };
        self.hit(eng, &flipped, hit);
        self.scratch = flipped;
    }

    /// A node's process timer fired: it is spent; whether the node is up to
    /// be failed by it (one that fires on a node not up is void).
    #[inline]
    fn fire_node_process(&mut self, k: u32, n: usize) -> bool {
        self.fleet.set_armed(n, k as usize, false);
        self.fleet.mark(n);
        let up = self.fleet.up(n);
        self.void_events += u64::from(!up);
        up
    }

    fn fire_az_process(&mut self, k: usize, a: usize) -> bool {
        self.fleet.az_armed[k] &= !(1 << a);
        self.fleet.azs_dirty = true;
        let up = self.fleet.az_reachable(a);
        self.void_events += u64::from(!up);
        up
    }

    fn fire_rack_process(&mut self, g: usize) -> bool {
        self.fleet.rack_armed[g] = false;
        self.fleet.dirty_racks.push(g as u32);
        let up = !self.fleet.rack_dark[g];
        self.void_events += u64::from(!up);
        up
    }

    #[inline(always)]
    pub(super) fn draw_lasts<Q: EventQueue<Event>>(
        &self,
        eng: &mut Engine<Event, Q>,
        p: &Option<Process>,
        kind: Kind,
        target: usize,
    ) -> SimTime {
        match p.as_ref().and_then(|p| p.lasts.as_ref()) {
            // A zero-length failure would be invisible; 1 µs is the finest tick.
            Some(d) => {
                let src = (kind, target, Part::Lasts);
                self.src.draw_process(eng, self.cfg, d, src).max(SimTime(1))
            }
            None => SimTime(1),
        }
    }

    /// A burst: `count` random distinct nodes, one at a time in node order.
    fn burst<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, i: usize) {
        let cfg: &'c Config = self.cfg;
        let s = &cfg.events[i];
        let Some(b) = s.burst else { return };
        let scope = match b.az {
            Some(a) => self.fleet.az_nodes(a),
            None => 0..cfg.storage.nodes(),
        };
        let mut rng = eng.detached_stream(sources::burst_id(i));
        for n in burst_nodes(&mut rng, scope, b.count as usize) {
            let change = match s.kind {
                ScriptedKind::NodeCrash => self.crash(eng, n, s.lasts),
                _ => self.lose_node(eng, n, Change::NodeLoss),
            };
            if O::ENABLED
                && let Some((c, t)) = self.pending_row.take()
            {
                self.settle(eng, 0);
                self.emit(eng.now(), c, t);
            }
            self.run_queue(eng);
            if O::ENABLED
                && cfg.storage.volume_mode
                && let Some((c, t)) = change
            {
                self.emit_volume(eng.now(), c, t);
            }
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
                if s.burst.is_some() {
                    self.burst(eng, i as usize);
                    return None;
                }
                match s.kind {
                    ScriptedKind::NodeCrash => self.crash(eng, t, lasts),
                    ScriptedKind::NodeLoss => self.lose_node(eng, t, Change::NodeLoss),
                    ScriptedKind::AzOutage => self.az_down(eng, t, lasts, false),
                    ScriptedKind::AzLoss => self.az_down(eng, t, lasts, true),
                    ScriptedKind::RackOutage => {
                        self.rack(eng, t, Some(lasts));
                        Some((Change::RackOutage, Target::Rack(t)))
                    }
                    // Database events (SPEC §5) are the database's, not the storage's.
                    ScriptedKind::InstanceCrash | ScriptedKind::EbsLoss => None,
                }
            }
            Event::NodeCrashDue(n) => {
                let n = n as usize;
                if !self.fire_node_process(CRASH_PROC, n) {
                    return None;
                }
                let lasts = self.draw_lasts(eng, &f.node_crash, NODE_CRASH, n);
                self.crash(eng, n, lasts)
            }
            Event::NodeLossDue(n) => {
                let n = n as usize;
                if !self.fire_node_process(LOSS_PROC, n) {
                    return None;
                }
                self.lose_node(eng, n, Change::NodeLoss)
            }
            Event::AzOutageDue(a) => {
                if !self.fire_az_process(0, a as usize) {
                    return None;
                }
                let lasts = self.draw_lasts(eng, &f.az_outage, AZ_OUTAGE, a as usize);
                self.az_down(eng, a as usize, lasts, false)
            }
            Event::AzLossDue(a) => {
                if !self.fire_az_process(1, a as usize) {
                    return None;
                }
                let lasts = self.draw_lasts(eng, &f.az_loss, AZ_LOSS, a as usize);
                self.az_down(eng, a as usize, lasts, true)
            }
            Event::RackOutageDue(g) => {
                if !self.fire_rack_process(g as usize) {
                    return None;
                }
                let lasts = self.draw_lasts(eng, &f.rack_outage, RACK_OUTAGE, g as usize);
                self.rack(eng, g as usize, Some(lasts));
                Some((Change::RackOutage, Target::Rack(g as usize)))
            }
            Event::NodeRecovered(n) => {
                let n = n as usize;
                self.fleet.set_crashed(n, false);
                self.fleet.mark(n);
                let row = self.begin_row(Change::NodeRecover, Target::Node(n));
                if self.fleet.reachable(n) {
                    self.flip(eng, n, Hit::Up);
                }
                row
            }
            Event::AzRecovered(a) => {
                self.az_up(eng, a as usize);
                Some((Change::AzRecover, Target::Az(a as usize)))
            }
            Event::RackRecovered(g) => {
                self.rack(eng, g as usize, None);
                Some((Change::RackRecover, Target::Rack(g as usize)))
            }
            Event::Detected(rid) => {
                let rid = rid as usize;
                let (j, s) = (rid / self.v, rid % self.v);
                if self.is_lost(j, s) && self.pgs[j].lost_detected & bit(s) == 0 {
                    let node = Target::Node(self.node_of[rid] as usize);
                    self.touch(j, eng.now());
                    self.set_data(j, s, Data::Lost { detected: true });
                    self.pass(eng, j);
                    // A volume row shows the repair running or waiting (§1
                    // rows come from the repair start itself).
                    return Some((Change::Detected, node));
                }
                None
            }
            Event::RepairDone(rid) | Event::CatchupDone(rid) => {
                let rid = rid as usize;
                let (j, s) = (rid / self.v, rid % self.v);
                let repair = matches!(ev, Event::RepairDone(_));
                let change = if repair {
                    Change::RepairDone
                } else {
                    Change::CatchUp
                };
                let row = self.begin_row(change, Target::Node(self.node_of[rid] as usize));
                self.touch(j, eng.now());
                self.pgs[j].catching &= !bit(s);
                let pos = self.pgs[j].wclock;
                self.set_data(j, s, Data::Present { current: true, pos });
                if repair {
                    self.rebuilt(rid, true);
                }
                self.pass(eng, j);
                row
            }
            Event::GiveUp(n) => {
                let n = n as usize;
                self.fleet.nodes[n].giveup_armed = false;
                self.fleet.mark(n);
                self.lose_node(eng, n, Change::Replace)
            }
            Event::SwitchDue(id) => self.switch_fell_due(eng, id as usize),
            Event::Restored(j) => {
                let j = j as usize;
                let row = self.begin_row(Change::Restore, Target::Group);
                self.touch(j, eng.now());
                self.restore(eng, j);
                self.pass(eng, j);
                row
            }
            Event::Db(_) => None, // the database's (SPEC §5), never scheduled by the storage
        }
    }
}
