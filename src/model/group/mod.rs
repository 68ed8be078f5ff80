//! [`ProtectionGroup`]: replica states and the rule fixpoint.
//!
//! Replica facts are kept twice: per replica (`data`, for log positions and
//! repair sources) and as bitmasks in node order (`present`, `current`,
//! `crashed`, …), updated only through the setters below. The rules then test
//! whole sets at once and visit only the replicas they concern, so an event
//! costs O(changes), not O(V) scans.

mod apply;
mod rules;

use super::Config;
use super::event::{Change, Event, Observer, Row, Target};
use super::quorum::ReplicaSet;
use super::stats::RunStats;
use crate::engine::{Class, Engine, EngineError, EventQueue, Model, Slot};
use crate::time::SimTime;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Data {
    /// Holds data up to `pos` (write-clock µs), or the latest write if `current`.
    Present { current: bool, pos: u64 },
    /// Destroyed; `detected` once the detection delay has passed.
    Lost { detected: bool },
    /// Being hydrated from replica `src`.
    Repairing { src: u16 },
}

/// Order classes at equal times: scripted, then give-ups, then the rest.
const SCRIPTED: Class = 0;
const GIVE_UP: Class = 1;
const OTHER: Class = 2;

/// Per-node timer slots: crash process, loss process, return, work
/// (detection / repair / catch-up), give-up. Per AZ: outage, loss, return.
const CRASH_PROC: u32 = 0;
const LOSS_PROC: u32 = 1;
const RETURN: u32 = 2;
const WORK: u32 = 3;
const GIVE_UP_TIMER: u32 = 4;
const SLOTS_PER_NODE: u32 = 5;
const SLOTS_PER_AZ: u32 = 3;

/// The set {0, …, n−1} (n ≤ 64).
#[inline]
fn low_bits(n: usize) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

#[inline]
fn bit(r: usize) -> ReplicaSet {
    1 << r
}

/// Indices of the set bits, ascending (node order).
#[inline]
fn members(mut m: ReplicaSet) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if m == 0 {
            return None;
        }
        let r = m.trailing_zeros() as usize;
        m &= m - 1;
        Some(r)
    })
}

/// One protection group being simulated.
pub struct ProtectionGroup<'c, O: Observer> {
    cfg: &'c Config,
    data: Vec<Data>,
    crash_until: Vec<SimTime>,
    /// When each running repair will finish.
    repair_until: Vec<SimTime>,
    /// Lost replicas holding a partial copy (`repair_progress = "resume"`),
    /// and how much of their repair is left.
    kept: ReplicaSet,
    repair_left: Vec<SimTime>,
    catchup_src: Vec<u16>,
    az_until: Vec<SimTime>,
    /// Replicas of each AZ.
    az_members: Vec<ReplicaSet>,
    all: ReplicaSet,
    present: ReplicaSet,
    /// Present with the current flag (up or down).
    current: ReplicaSet,
    lost_detected: ReplicaSet,
    repairing: ReplicaSet,
    catching: ReplicaSet,
    crashed: ReplicaSet,
    /// Replicas whose AZ is unreachable.
    in_dark_az: ReplicaSet,
    /// Nodes whose crash / loss process has a pending timer.
    node_armed: [ReplicaSet; 2],
    /// Replicas destroyed during the current event (their node is new).
    renewed: ReplicaSet,
    giveup_armed: ReplicaSet,
    /// AZ bitmasks.
    az_unreachable: u64,
    /// AZs whose outage / loss process has a pending timer.
    az_armed: [u64; 2],
    /// Process timers that fired on a node or AZ that was not up (ignored,
    /// and not counted as events).
    void_events: u64,
    /// Acknowledged-write clock (µs), advancing only while write-available.
    wclock: u64,
    last_t: SimTime,
    write_ok: bool,
    restoring: bool,
    stats: RunStats,
    fault: Option<EngineError>,
    letters: Vec<u8>,
    stop_at_loss: bool,
    observer: O,
}

impl<'c, O: Observer> ProtectionGroup<'c, O> {
    /// A group with every replica up and current, no failure scheduled yet.
    pub fn new(cfg: &'c Config, observer: O) -> Self {
        let v = cfg.layout.replicas();
        let n = cfg.layout.nodes_per_az;
        let all = low_bits(v);
        let az_members = (0..cfg.layout.azs.len())
            .map(|a| low_bits(n) << (a * n))
            .collect();
        ProtectionGroup {
            cfg,
            data: vec![
                Data::Present {
                    current: true,
                    pos: 0
                };
                v
            ],
            crash_until: vec![SimTime::ZERO; v],
            repair_until: vec![SimTime::ZERO; v],
            kept: 0,
            repair_left: vec![SimTime::ZERO; v],
            catchup_src: vec![0; v],
            az_until: vec![SimTime::ZERO; cfg.layout.azs.len()],
            az_members,
            all,
            present: all,
            current: all,
            lost_detected: 0,
            repairing: 0,
            catching: 0,
            crashed: 0,
            in_dark_az: 0,
            node_armed: [0; 2],
            renewed: 0,
            giveup_armed: 0,
            az_unreachable: 0,
            az_armed: [0; 2],
            void_events: 0,
            wclock: 0,
            last_t: SimTime::ZERO,
            write_ok: true,
            restoring: false,
            stats: RunStats::default(),
            fault: None,
            letters: vec![b'C'; v],
            stop_at_loss: false,
            observer,
        }
    }

    /// Ends the run at the first data loss (for time-to-first-loss estimates).
    pub fn stop_at_first_loss(mut self) -> Self {
        self.stop_at_loss = true;
        self
    }

    /// Schedules the scripted events and the first background failures, and
    /// records the `start` row.
    pub fn start<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        // Every slot, plus the scripted events (unslotted).
        let slots = self.restore_slot().0 as usize + 1;
        eng.reserve(slots, slots + self.cfg.events.len());
        for (i, ev) in self.cfg.events.iter().enumerate() {
            let r = eng.schedule(ev.at, SCRIPTED, Event::Scripted(i as u32));
            self.note(r);
        }
        self.after_event(eng);
        self.emit(SimTime::ZERO, Change::Start, Target::Group);
    }

    /// Closes open outages at `horizon`, records the `end` row and returns the
    /// run's totals (or the engine fault that stopped it).
    pub fn finish(
        mut self,
        horizon: SimTime,
        events_processed: u64,
    ) -> Result<(RunStats, O), EngineError> {
        if let Some(e) = self.fault.take() {
            return Err(e);
        }
        self.stats.write.finish(horizon);
        self.stats.read.finish(horizon);
        self.stats.horizon = horizon;
        self.stats.events_processed = events_processed - self.void_events;
        self.emit(horizon, Change::End, Target::Group);
        Ok((self.stats, self.observer))
    }

    // ----- sets -----------------------------------------------------------

    /// Replicas whose node is reachable (not crashed, AZ reachable).
    #[inline]
    fn reachable(&self) -> ReplicaSet {
        self.all & !(self.crashed | self.in_dark_az)
    }

    #[inline]
    fn up_current(&self) -> ReplicaSet {
        self.current & self.reachable()
    }

    /// The first up, current replica in node order.
    #[inline]
    fn first_up_current(&self) -> Option<usize> {
        let m = self.up_current();
        (m != 0).then(|| m.trailing_zeros() as usize)
    }

    /// The only way replica data changes, so the sets stay in step.
    #[inline]
    fn set_data(&mut self, r: usize, d: Data) {
        let b = bit(r);
        if let Data::Lost { .. } = d
            && self.present & b != 0
        {
            self.renewed |= b;
        }
        self.present &= !b;
        self.current &= !b;
        self.lost_detected &= !b;
        self.repairing &= !b;
        match d {
            Data::Present { current, .. } => {
                self.present |= b;
                if current {
                    self.current |= b;
                }
            }
            Data::Lost { detected: true } => self.lost_detected |= b,
            Data::Lost { detected: false } => {}
            Data::Repairing { .. } => self.repairing |= b,
        }
        self.data[r] = d;
    }

    #[inline]
    fn stop_work<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, r: usize) {
        self.catching &= !bit(r);
        eng.cancel(Self::node_slot(r, WORK));
    }

    // ----- scheduling helpers -------------------------------------------

    #[inline]
    fn note(&mut self, r: Result<(), EngineError>) {
        if let Err(e) = r {
            self.fault.get_or_insert(e);
        }
    }

    fn node_slot(r: usize, k: u32) -> Slot {
        Slot(r as u32 * SLOTS_PER_NODE + k)
    }

    fn az_slot(&self, a: usize, k: u32) -> Slot {
        Slot(self.data.len() as u32 * SLOTS_PER_NODE + a as u32 * SLOTS_PER_AZ + k)
    }

    fn restore_slot(&self) -> Slot {
        self.az_slot(self.az_until.len(), 0)
    }

    #[inline]
    fn after<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        slot: Slot,
        delay: SimTime,
        class: Class,
        ev: Event,
    ) {
        let at = eng.now().saturating_add(delay);
        let res = eng.schedule_in(slot, at, class, ev);
        self.note(res);
    }

    // ----- timeline -------------------------------------------------------

    fn emit(&mut self, time: SimTime, change: Change, target: Target) {
        if !O::ENABLED {
            return;
        }
        let reach = self.reachable();
        let (up, cur) = (self.present & reach, self.current & reach);
        for (r, letter) in self.letters.iter_mut().enumerate() {
            *letter = match self.data[r] {
                Data::Lost { .. } => b'L',
                Data::Repairing { .. } => b'R',
                Data::Present { .. } if reach & bit(r) == 0 => b'D',
                Data::Present { current: true, .. } => b'C',
                Data::Present { .. } => b'S',
            };
        }
        let layout = &self.cfg.layout;
        let target = match target {
            Target::Group => "",
            Target::Node(r) => &layout.node_names[r],
            Target::Az(a) => &layout.azs[a],
        };
        let row = Row {
            time,
            change,
            target,
            up: up.count_ones() as usize,
            current: cur.count_ones() as usize,
            write_available: self.cfg.quorum.write_ok(cur),
            read_available: self.cfg.quorum.read_ok(up, cur),
            data_loss_events: self.stats.data_loss_events,
            states: &self.letters,
        };
        self.observer.row(&row);
    }
}

impl<O: Observer> Model for ProtectionGroup<'_, O> {
    type Event = Event;

    fn handle<Q: EventQueue<Event>>(&mut self, ev: Event, eng: &mut Engine<Event, Q>) {
        let now = eng.now();
        if now > self.last_t {
            if self.write_ok {
                self.wclock += now.0 - self.last_t.0;
            }
            self.last_t = now;
        }
        if let Some((change, target)) = self.apply(ev, eng)
            && O::ENABLED
        {
            // The row shows the settled state; settling is idempotent, so the
            // fast path leaves it to the loop below.
            self.settle(eng);
            self.emit(now, change, target);
        }
        loop {
            self.settle(eng);
            if self.catch_up(eng) || self.re_replicate(eng) || self.check_data_loss(eng) {
                continue;
            }
            break;
        }
        self.after_event(eng);
    }

    fn stopped(&self) -> bool {
        self.stop_at_loss && self.stats.data_loss_events > 0
    }
}
