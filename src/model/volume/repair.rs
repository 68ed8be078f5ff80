//! Re-replication (SPEC §1 rule 4, §4): when a lost replica's repair may
//! start, where it goes (its target node), and the repair streams it needs.
//!
//! A repair whose target is fixed (copyset placement, or a fleet with exactly
//! one node per slot) and that needs no streams starts inside its PG's rule
//! pass, exactly as §1 says. Any other repair joins the waiting queue,
//! ordered by (instant it became startable, PG, slot); after each event the
//! queue is walked in that order and every repair that can get a source and a
//! target, each with a free stream, starts (no head-of-line blocking).

use super::fleet::Seg;
use super::{Data, NONE, OTHER, Volume, bit, members};
use crate::engine::{Engine, EventQueue};
use crate::model::event::{Change, Event, Observer, Target};
use crate::model::sources::{Sources, Timing};
use crate::model::stats::VolumeStats;
use crate::time::SimTime;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;

/// What the queue walk does with a waiting repair.
enum Step {
    /// No longer startable: leave the queue.
    Drop,
    /// Start from source slot `.0` if a target is free.
    Try(usize),
}

/// Repairs that are startable but have no target or streams yet.
pub(super) struct RepairQueue {
    waiting: BTreeSet<(SimTime, u32)>,
    /// When each queued replica joined (by replica id).
    since: Vec<SimTime>,
    /// The re-replication stream (target choices).
    pub(super) rng: ChaCha8Rng,
}

impl RepairQueue {
    pub(super) fn new(replicas: usize) -> Self {
        RepairQueue {
            waiting: BTreeSet::new(),
            since: vec![SimTime::ZERO; replicas],
            rng: ChaCha8Rng::seed_from_u64(0),
        }
    }

    /// Repairs waiting.
    pub(super) fn len(&self) -> usize {
        self.waiting.len()
    }

    fn push(&mut self, rid: usize, now: SimTime) {
        self.since[rid] = now;
        self.waiting.insert((now, rid as u32));
    }

    /// Takes `rid` out of the queue, recording how long it waited.
    pub(super) fn remove(&mut self, rid: usize, now: SimTime, st: &mut VolumeStats) {
        let t = self.since[rid];
        if self.waiting.remove(&(t, rid as u32)) {
            st.longest_repair_wait_us = st.longest_repair_wait_us.max(now.0 - t.0);
        }
    }

    /// Waits still open at the horizon count up to it.
    pub(super) fn finish(&self, horizon: SimTime, st: &mut VolumeStats) {
        if let Some(&(t, _)) = self.waiting.first() {
            let w = horizon.0.saturating_sub(t.0);
            st.longest_repair_wait_us = st.longest_repair_wait_us.max(w);
        }
    }
}

impl<O: Observer> Volume<'_, O> {
    /// Lost, detected slots of PG `j` whose repair may start as far as the
    /// PG can tell: the slot's node (fixed target) or its AZ is reachable.
    #[inline]
    fn ready_slots(&self, j: usize) -> u64 {
        let pg = &self.pgs[j];
        let lost = pg.lost_detected & !pg.queued;
        if lost == 0 {
            return 0;
        }
        if self.fixed_target {
            return lost & !pg.down & self.all;
        }
        let mut dark = 0;
        for (a, m) in self.az_slots.iter().enumerate() {
            if !self.fleet.az_reachable(a) {
                dark |= m;
            }
        }
        lost & !dark
    }

    /// Rule 4 within PG `j`'s pass: ready lost replicas start repairing from
    /// the first up, current peer, or join the queue. Returns whether one
    /// became current (an instant repair): only that can make another rule
    /// apply (a repair that runs needs and changes nothing the rules test
    /// but its own slot, which is left alone while its source and target
    /// stay up).
    #[inline(always)]
    pub(super) fn re_replicate<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        j: usize,
    ) -> bool {
        let pg = &self.pgs[j];
        pg.lost_detected & !pg.queued != 0 && self.start_repairs(eng, j)
    }

    #[inline(never)]
    fn start_repairs<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        j: usize,
    ) -> bool {
        let ready = self.ready_slots(j);
        if ready == 0 {
            return false;
        }
        let direct = self.fleet.unlimited_streams();
        let mut changed = false;
        for s in members(ready) {
            let Some(src) = self.first_up_current_in(j, self.sources_for(s)) else {
                // A full slot may wait for a full peer while a tail goes on.
                continue;
            };
            let rid = j * self.v + s;
            if direct && let Some(target) = self.target(j, s) {
                changed |= self.start_repair(eng, j, s, src, target);
                continue;
            }
            self.pgs[j].queued |= bit(s);
            self.queue.push(rid, eng.now());
        }
        changed
    }

    /// Starts waiting repairs in queue order, each that can get a source and
    /// a target with free streams; drops those no longer startable.
    #[inline(always)]
    pub(super) fn run_queue<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        if self.queue.len() > 0 {
            self.run_waiting(eng);
        }
    }

    #[inline(never)]
    fn run_waiting<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        let now = eng.now();
        // Per AZ, whether some reachable node has a free stream (None: not
        // yet known this walk). Without one no random target exists, so a
        // long queue behind saturated streams costs a few bit tests per
        // entry instead of a scan of the AZ each (a 64 TiB volume after an
        // AZ loss and a burst queues thousands of repairs).
        let mut open = [None::<bool>; 64];
        // Entries that need nothing done are passed over by one iterator;
        // the walk looks its place up again only after acting on an entry.
        let mut found = self.scan(self.queue.waiting.iter(), &mut open);
        while let Some((key, step)) = found {
            let rid = key.1 as usize;
            let (j, s) = (rid / self.v, rid % self.v);
            match step {
                Step::Drop => {
                    self.queue.remove(rid, now, &mut self.vstats);
                    self.pgs[j].queued &= !bit(s);
                }
                Step::Try(src) => {
                    if let Some(target) = self.target(j, s) {
                        // The start takes streams and its pass may release others.
                        open = [None; 64];
                        self.queue.remove(rid, now, &mut self.vstats);
                        self.pgs[j].queued &= !bit(s);
                        self.touch(j, now);
                        self.start_repair(eng, j, s, src, target);
                        self.pass(eng, j);
                    }
                }
            }
            let rest = self
                .queue
                .waiting
                .range((std::ops::Bound::Excluded(key), std::ops::Bound::Unbounded));
            found = self.scan(rest, &mut open);
        }
    }

    /// The first waiting repair in `it` that must be dropped (no longer
    /// startable) or may start (a source with a free stream and, as far as
    /// `open` tells, a target), and which.
    #[inline(always)]
    fn scan<'q>(
        &self,
        it: impl Iterator<Item = &'q (SimTime, u32)>,
        open: &mut [Option<bool>; 64],
    ) -> Option<((SimTime, u32), Step)> {
        for &key in it {
            let rid = key.1 as usize;
            let (j, s) = (rid / self.v, rid % self.v);
            let az = s / self.cfg.layout.nodes_per_az;
            let startable = self.pgs[j].lost_detected & bit(s) != 0
                && self.fleet.az_reachable(az)
                && (!self.fixed_target || self.pgs[j].down & bit(s) == 0);
            let among = self.sources_for(s);
            let Some(src) = self.first_up_current_in(j, among).filter(|_| startable) else {
                return Some((key, Step::Drop));
            };
            // The cheaper test first: a target AZ without free streams.
            if !self.fixed_target
                && az < open.len()
                && !*open[az].get_or_insert_with(|| self.fleet.az_has_free_stream(az))
            {
                continue;
            }
            let Some(src) = self.stream_source(j, src, among) else {
                continue;
            };
            return Some((key, Step::Try(src)));
        }
        None
    }

    /// The first up, current slot of PG `j` in node order whose node has a
    /// free stream, among `among` (`first` is the first regardless of streams).
    fn stream_source(&self, j: usize, first: usize, among: u64) -> Option<usize> {
        if self.fleet.unlimited_streams() {
            return Some(first);
        }
        let base = j * self.v;
        let pg = &self.pgs[j];
        members(pg.current & !pg.down & among)
            .filter(|&s| self.fleet.stream_free(self.node_of[base + s] as usize))
            .min_by_key(|&s| self.node_of[base + s])
    }

    /// The target node of slot `s` of PG `j`, with a free stream, if any.
    #[inline(always)]
    fn target(&mut self, j: usize, s: usize) -> Option<usize> {
        if self.fixed_target {
            let n = self.node_of[j * self.v + s] as usize;
            return (self.fleet.reachable(n) && self.fleet.stream_free(n)).then_some(n);
        }
        self.random_target(j, s)
    }

    /// A target for slot `s` of PG `j` under random placement: a reachable
    /// node of the slot's AZ that the PG does not use.
    fn random_target(&mut self, j: usize, s: usize) -> Option<usize> {
        let base = j * self.v;
        // Nodes and racks PG j holds an up, down or repairing replica on.
        let pg = &self.pgs[j];
        let holders = (pg.present | pg.repairing) & self.all;
        let mut held = [0u32; 64];
        let mut k = 0;
        for t in members(holders) {
            held[k] = self.node_of[base + t];
            k += 1;
        }
        let held = &held[..k];
        let st = &self.cfg.storage;
        let az = s / self.cfg.layout.nodes_per_az;
        let nodes = az * st.nodes_per_az..(az + 1) * st.nodes_per_az;
        let rack_used = |n: usize| {
            held.iter()
                .any(|&h| st.rack_of(h as usize) == st.rack_of(n))
        };
        // Rank: an unused rack first, then a free stream; draw among the best.
        let rank = |n: usize| 2 * u8::from(!rack_used(n)) + u8::from(self.fleet.stream_free(n));
        let candidates = nodes
            .filter(|&n| self.fleet.reachable(n) && !held.contains(&(n as u32)))
            .collect::<Vec<_>>();
        let best = candidates.iter().map(|&n| rank(n)).max()?;
        if best & 1 == 0 {
            return None;
        }
        let top: Vec<usize> = candidates
            .into_iter()
            .filter(|&n| rank(n) == best)
            .collect();
        if top.len() == 1 {
            return Some(top[0]);
        }
        let i = self.queue.rng.random_range(0..top.len());
        Some(top[i])
    }

    /// Starts repairing slot `s` of PG `j` onto `target` from slot `src`;
    /// whether it finished at once.
    #[inline(always)]
    fn start_repair<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        j: usize,
        s: usize,
        src: usize,
        target: usize,
    ) -> bool {
        let rid = j * self.v + s;
        if self.node_of[rid] as usize != target {
            self.move_replica(j, s, target);
        }
        let d = if self.pgs[j].kept & bit(s) != 0 {
            self.pgs[j].kept &= !bit(s);
            self.repair_left[rid]
        } else {
            // A tail segment copies tail_size (SPEC §6).
            match &self.cfg.segments {
                Some(t) if t.full & bit(s) == 0 => {
                    Sources::draw_timing(eng, &t.tail_repair_time, Timing::TailRepair)
                }
                _ => Sources::draw_timing(eng, &self.cfg.repair_time, Timing::Repair),
            }
        };
        self.repair_until[rid] = eng.now().saturating_add(d);
        let node = Target::Node(target);
        if d.0 == 0 {
            let pos = self.pgs[j].wclock;
            self.set_data(j, s, Data::Present { current: true, pos });
            self.rebuilt(rid, true);
            self.emit(eng.now(), Change::RepairDone, node);
            true
        } else {
            self.fleet
                .take_streams(self.node_of[j * self.v + src] as usize, target, rid);
            self.set_data(j, s, Data::Repairing { src: src as u16 });
            let slot = self.work_slot(rid);
            self.after(eng, slot, d, OTHER, Event::RepairDone(rid as u32));
            self.emit(eng.now(), Change::RepairStart, node);
            false
        }
    }

    /// Moves slot `s` of PG `j` (lost) to node `to`.
    fn move_replica(&mut self, j: usize, s: usize, to: usize) {
        let rid = j * self.v + s;
        let from = self.node_of[rid] as usize;
        let seg = Seg {
            pg: j as u32,
            slot: s as u32,
        };
        self.fleet.move_replica(seg, from, to);
        self.node_of[rid] = to as u32;
        let down = !self.fleet.reachable(to);
        let pg = &mut self.pgs[j];
        if down {
            pg.down |= bit(s);
        } else {
            pg.down &= !bit(s);
        }
        let base = j * self.v;
        let nodes = &self.node_of[base..base + self.v];
        self.pgs[j].ordered = nodes.windows(2).all(|w| w[0] < w[1]);
    }

    /// Replica `rid` holds data again (repaired if `repaired`, or restored):
    /// the node it was lost from may fail again once all it lost is back.
    #[inline]
    pub(super) fn rebuilt(&mut self, rid: usize, repaired: bool) {
        self.vstats.repairs += u64::from(repaired);
        let from = std::mem::replace(&mut self.lost_from[rid], NONE);
        if from != NONE {
            self.fleet.pending_done(from as usize);
        }
    }
}
