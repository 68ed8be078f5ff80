//! The storage model: one Aurora protection group under the rules of SPEC §1.
//!
//! [`ProtectionGroup`] is an [`engine::Model`](crate::engine::Model). Each
//! event is applied, then the rules are re-applied until nothing changes:
//! passive consequences first (staleness, abandoned repairs and catch-ups),
//! then the active rules in SPEC order — catch-up, re-replication, data loss —
//! each of which may enable another. Finally the background processes and
//! give-up timers are armed or cancelled for nodes and AZs whose up-state
//! changed, and availability is sampled.
//!
//! **Equal-time order** (documented in `docs/model.md`): scripted events first
//! in file order (class 0), then give-ups (class 1, so that a give-up beats a
//! return at the same instant), then everything else in scheduling order.
//!
//! **Write clock.** Log positions are measured in seconds of acknowledged
//! writes (a clock that runs only while write-available), so a data loss adds
//! exactly the acknowledged writes it destroys to `lost_write_seconds`.

pub mod config;
pub mod quorum;

pub use config::{Config, Dist, Failures, Layout, Process, ScriptedEvent, ScriptedKind};
pub use quorum::{Quorum, QuorumError, ReplicaSet};

use crate::engine::{Class, Engine, EngineError, EventQueue, Model, Slot};
use crate::time::SimTime;

/// One event of the protection group.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Scripted event `i` of the config.
    Scripted(u32),
    /// A node's crash process fires.
    NodeCrashDue(u16),
    /// A node's loss process fires.
    NodeLossDue(u16),
    /// An AZ's outage process fires.
    AzOutageDue(u16),
    /// An AZ's loss process fires.
    AzLossDue(u16),
    /// A node's last crash cause ends.
    NodeRecovered(u16),
    /// An AZ becomes reachable again.
    AzRecovered(u16),
    /// A lost replica's detection delay has passed.
    Detected(u16),
    /// A repair finished.
    RepairDone(u16),
    /// A catch-up finished.
    CatchupDone(u16),
    /// A replica down for `replace_down_after` is given up.
    GiveUp(u16),
    /// The restore from backup finished.
    Restored,
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
}

impl Change {
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
}

/// One timeline row: the state right after a change.
pub struct Row<'a> {
    /// When.
    pub time: SimTime,
    /// What.
    pub change: Change,
    /// Node or AZ name, or empty for the group.
    pub target: &'a str,
    /// Replicas up (C or S).
    pub up: usize,
    /// Replicas up and current (C).
    pub current: usize,
    /// Writes possible.
    pub write_available: bool,
    /// Reads possible.
    pub read_available: bool,
    /// Data-loss events so far.
    pub data_loss_events: u64,
    /// One state letter per replica (C, S, D, L, R) in node order.
    pub states: &'a [u8],
}

/// Receives timeline rows; [`NoObserver`] compiles them away.
pub trait Observer {
    /// Whether rows are built at all.
    const ENABLED: bool;
    /// One row.
    fn row(&mut self, row: &Row<'_>);
}

/// An observer that records nothing (the fast path).
pub struct NoObserver;

impl Observer for NoObserver {
    const ENABLED: bool = false;
    fn row(&mut self, _: &Row<'_>) {}
}

/// Totals of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunStats {
    /// Simulated span.
    pub horizon: SimTime,
    /// Write outages: count, total and longest.
    pub write: OutageTracker,
    /// Read outages: count, total and longest.
    pub read: OutageTracker,
    /// Data-loss events.
    pub data_loss_events: u64,
    /// Time of the first data loss.
    pub first_data_loss: Option<SimTime>,
    /// Acknowledged write time destroyed, in µs.
    pub lost_write_us: u64,
    /// Events handled.
    pub events_processed: u64,
}

/// Tracks maximal unavailability intervals of positive length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutageTracker {
    open_since: Option<SimTime>,
    /// Outages of positive length.
    pub count: u64,
    /// Their total length.
    pub total: SimTime,
    /// The longest one.
    pub longest: SimTime,
}

impl OutageTracker {
    /// Records the availability in force from `now` on.
    #[inline]
    fn observe(&mut self, now: SimTime, available: bool) {
        match (available, self.open_since) {
            (false, None) => self.open_since = Some(now),
            (true, Some(start)) => {
                self.open_since = None;
                self.close(start, now);
            }
            _ => {}
        }
    }

    fn close(&mut self, start: SimTime, end: SimTime) {
        if end > start {
            let len = SimTime(end.0 - start.0);
            self.count += 1;
            self.total = SimTime(self.total.0 + len.0);
            self.longest = self.longest.max(len);
        }
    }

    /// Closes an outage still open at the horizon.
    fn finish(&mut self, horizon: SimTime) {
        if let Some(start) = self.open_since.take() {
            self.close(start, horizon);
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Data {
    /// Holds data up to `pos` (write-clock µs), or the latest write if `current`.
    Present { current: bool, pos: u64 },
    /// Destroyed; `detected` once the detection delay has passed.
    Lost { detected: bool },
    /// Being hydrated from replica `src`.
    Repairing { src: u16 },
}

#[derive(Clone, Debug)]
struct Replica {
    az: usize,
    data: Data,
    /// Its own crash cause holds (until `crash_until`).
    crashed: bool,
    crash_until: SimTime,
    /// Catching up from this replica.
    catchup_src: Option<u16>,
    /// Failure processes are scheduled (node is up).
    procs_on: bool,
    /// A give-up timer is pending (replica is down).
    giveup_armed: bool,
}

#[derive(Clone, Debug)]
struct AzState {
    reachable: bool,
    until: SimTime,
    procs_on: bool,
}

const SCRIPTED: Class = 0;
const GIVE_UP: Class = 1;
const OTHER: Class = 2;
const SLOTS_PER_NODE: u32 = 5;
const SLOTS_PER_AZ: u32 = 3;

/// One protection group being simulated.
pub struct ProtectionGroup<'c, O: Observer = NoObserver> {
    cfg: &'c Config,
    rep: Vec<Replica>,
    az: Vec<AzState>,
    /// Acknowledged-write clock (µs), advancing only while write-available.
    wclock: u64,
    last_t: SimTime,
    write_ok: bool,
    restoring: bool,
    stats: RunStats,
    fault: Option<EngineError>,
    letters: Vec<u8>,
    observer: O,
}

impl<'c, O: Observer> ProtectionGroup<'c, O> {
    /// A group with every replica up and current, no failure scheduled yet.
    pub fn new(cfg: &'c Config, observer: O) -> Self {
        let v = cfg.layout.replicas();
        let rep = (0..v)
            .map(|r| Replica {
                az: cfg.layout.az_of(r),
                data: Data::Present {
                    current: true,
                    pos: 0,
                },
                crashed: false,
                crash_until: SimTime::ZERO,
                catchup_src: None,
                procs_on: false,
                giveup_armed: false,
            })
            .collect();
        let az = cfg
            .layout
            .azs
            .iter()
            .map(|_| AzState {
                reachable: true,
                until: SimTime::ZERO,
                procs_on: false,
            })
            .collect();
        ProtectionGroup {
            cfg,
            rep,
            az,
            wclock: 0,
            last_t: SimTime::ZERO,
            write_ok: true,
            restoring: false,
            stats: RunStats::default(),
            fault: None,
            letters: vec![b'C'; v],
            observer,
        }
    }

    /// Schedules the scripted events and the first background failures, and
    /// records the `start` row.
    pub fn start<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        for (i, ev) in self.cfg.events.iter().enumerate() {
            let r = eng.schedule(ev.at, SCRIPTED, Event::Scripted(i as u32));
            self.note(r);
        }
        self.settle(eng);
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
        self.stats.events_processed = events_processed;
        self.emit(horizon, Change::End, Target::Group);
        Ok((self.stats, self.observer))
    }

    // ----- queries -------------------------------------------------------

    #[inline]
    fn reachable(&self, r: usize) -> bool {
        let x = &self.rep[r];
        !x.crashed && self.az[x.az].reachable
    }

    #[inline]
    fn is_up_current(&self, r: usize) -> bool {
        matches!(self.rep[r].data, Data::Present { current: true, .. }) && self.reachable(r)
    }

    /// (up, up-and-current) replica sets.
    #[inline]
    fn masks(&self) -> (ReplicaSet, ReplicaSet) {
        let (mut up, mut cur) = (0u64, 0u64);
        for (r, x) in self.rep.iter().enumerate() {
            if let Data::Present { current, .. } = x.data
                && self.reachable(r)
            {
                up |= 1 << r;
                if current {
                    cur |= 1 << r;
                }
            }
        }
        (up, cur)
    }

    fn first_up_current(&self) -> Option<usize> {
        (0..self.rep.len()).find(|&r| self.is_up_current(r))
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
        Slot(self.rep.len() as u32 * SLOTS_PER_NODE + a as u32 * SLOTS_PER_AZ + k)
    }
    fn restore_slot(&self) -> Slot {
        self.az_slot(self.az.len(), 0)
    }

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
        let (up, cur) = self.masks();
        for r in 0..self.rep.len() {
            self.letters[r] = match self.rep[r].data {
                Data::Lost { .. } => b'L',
                Data::Repairing { .. } => b'R',
                Data::Present { .. } if !self.reachable(r) => b'D',
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

    // ----- events -----------------------------------------------------------

    fn crash<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        r: usize,
        lasts: SimTime,
    ) -> bool {
        match self.rep[r].data {
            // SPEC: a crash of a lost replica's node leaves it unaffected.
            Data::Lost { .. } => return false,
            Data::Repairing { .. } => {
                self.rep[r].data = Data::Lost { detected: true };
                eng.cancel(Self::node_slot(r, 3));
            }
            Data::Present { .. } => {
                if self.rep[r].catchup_src.take().is_some() {
                    eng.cancel(Self::node_slot(r, 3));
                }
            }
        }
        let end = eng.now().saturating_add(lasts);
        let x = &mut self.rep[r];
        if !x.crashed || end > x.crash_until {
            x.crash_until = end;
            self.after(
                eng,
                Self::node_slot(r, 2),
                lasts,
                OTHER,
                Event::NodeRecovered(r as u16),
            );
        }
        self.rep[r].crashed = true;
        true
    }

    fn lose<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, r: usize) -> bool {
        if let Data::Lost { .. } = self.rep[r].data {
            return false;
        }
        eng.cancel(Self::node_slot(r, 3));
        let x = &mut self.rep[r];
        x.catchup_src = None;
        x.data = Data::Lost { detected: false };
        if x.crashed {
            // The replacement is a new node: the old one's return is moot.
            x.crashed = false;
            eng.cancel(Self::node_slot(r, 2));
        }
        let d = self.cfg.detection_delay.sample(eng.rng());
        if d.0 == 0 {
            self.rep[r].data = Data::Lost { detected: true };
        } else {
            self.after(
                eng,
                Self::node_slot(r, 3),
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
        let z = &mut self.az[a];
        if z.reachable || end > z.until {
            z.until = end;
            let slot = self.az_slot(a, 2);
            self.after(eng, slot, lasts, OTHER, Event::AzRecovered(a as u16));
        }
        self.az[a].reachable = false;
    }

    fn lose_az<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        a: usize,
        lasts: SimTime,
    ) {
        self.make_unreachable(eng, a, lasts);
        let n = self.cfg.layout.nodes_per_az;
        for r in a * n..(a + 1) * n {
            self.lose(eng, r);
        }
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
    fn apply<Q: EventQueue<Event>>(
        &mut self,
        ev: Event,
        eng: &mut Engine<Event, Q>,
    ) -> Option<(Change, Target)> {
        let cfg: &'c Config = self.cfg;
        let f = &cfg.failures;
        match ev {
            Event::Scripted(i) => {
                let s = &cfg.events[i as usize];
                let (kind, t, lasts) = (s.kind, s.target, s.lasts);
                match kind {
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
                }
            }
            Event::NodeCrashDue(r) => {
                let lasts = Self::draw_lasts(eng, &f.node_crash);
                let r = r as usize;
                self.crash(eng, r, lasts)
                    .then_some((Change::NodeCrash, Target::Node(r)))
            }
            Event::NodeLossDue(r) => {
                let r = r as usize;
                self.lose(eng, r)
                    .then_some((Change::NodeLoss, Target::Node(r)))
            }
            Event::AzOutageDue(a) => {
                let lasts = Self::draw_lasts(eng, &f.az_outage);
                self.make_unreachable(eng, a as usize, lasts);
                Some((Change::AzOutage, Target::Az(a as usize)))
            }
            Event::AzLossDue(a) => {
                let lasts = Self::draw_lasts(eng, &f.az_loss);
                self.lose_az(eng, a as usize, lasts);
                Some((Change::AzLoss, Target::Az(a as usize)))
            }
            Event::NodeRecovered(r) => {
                self.rep[r as usize].crashed = false;
                Some((Change::NodeRecover, Target::Node(r as usize)))
            }
            Event::AzRecovered(a) => {
                self.az[a as usize].reachable = true;
                Some((Change::AzRecover, Target::Az(a as usize)))
            }
            Event::Detected(r) => {
                if let Data::Lost { detected } = &mut self.rep[r as usize].data {
                    *detected = true;
                }
                None
            }
            Event::RepairDone(r) => {
                self.rep[r as usize].data = Data::Present {
                    current: true,
                    pos: self.wclock,
                };
                Some((Change::RepairDone, Target::Node(r as usize)))
            }
            Event::CatchupDone(r) => {
                let x = &mut self.rep[r as usize];
                x.catchup_src = None;
                if let Data::Present { current, .. } = &mut x.data {
                    *current = true;
                }
                Some((Change::CatchUp, Target::Node(r as usize)))
            }
            Event::GiveUp(r) => {
                let r = r as usize;
                self.rep[r].giveup_armed = false;
                if !matches!(self.rep[r].data, Data::Present { .. }) || self.reachable(r) {
                    return None;
                }
                self.rep[r].data = Data::Lost { detected: true };
                if self.rep[r].crashed {
                    // SPEC: the node's later return is ignored.
                    self.rep[r].crashed = false;
                    eng.cancel(Self::node_slot(r, 2));
                }
                Some((Change::Replace, Target::Node(r)))
            }
            Event::Restored => {
                self.restore(eng);
                Some((Change::Restore, Target::Group))
            }
        }
    }

    // ----- rules ----------------------------------------------------------------

    /// Passive consequences of the current state: rule 1's staleness and the
    /// abandonment of repairs and catch-ups whose conditions no longer hold.
    fn settle<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        let (_, cur) = self.masks();
        let write_ok = self.cfg.quorum.write_ok(cur);
        for r in 0..self.rep.len() {
            let reachable = self.reachable(r);
            match self.rep[r].data {
                Data::Present { current: true, .. } if write_ok && !reachable => {
                    // Rule 1: it misses the next record.
                    self.rep[r].data = Data::Present {
                        current: false,
                        pos: self.wclock,
                    };
                }
                Data::Repairing { src } => {
                    let a = self.rep[r].az;
                    if !self.is_up_current(src as usize)
                        || !self.az[a].reachable
                        || self.rep[r].crashed
                    {
                        self.rep[r].data = Data::Lost { detected: true };
                        eng.cancel(Self::node_slot(r, 3));
                    }
                }
                _ => {}
            }
            if let Some(src) = self.rep[r].catchup_src {
                let still = reachable
                    && self.is_up_current(src as usize)
                    && matches!(self.rep[r].data, Data::Present { current: false, .. });
                if !still {
                    self.rep[r].catchup_src = None;
                    eng.cancel(Self::node_slot(r, 3));
                }
            }
        }
    }

    /// Rule 2: up, stale replicas start (or, with zero `catchup_time`, finish)
    /// catching up from the first up, current peer.
    fn catch_up<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) -> bool {
        let mut changed = false;
        for r in 0..self.rep.len() {
            let waiting = matches!(self.rep[r].data, Data::Present { current: false, .. })
                && self.rep[r].catchup_src.is_none()
                && self.reachable(r);
            if !waiting {
                continue;
            }
            let Some(src) = self.first_up_current() else {
                return changed;
            };
            let d = self.cfg.catchup_time.sample(eng.rng());
            if d.0 == 0 {
                self.rep[r].data = Data::Present {
                    current: true,
                    pos: self.wclock,
                };
                self.emit(eng.now(), Change::CatchUp, Target::Node(r));
                changed = true;
            } else {
                self.rep[r].catchup_src = Some(src as u16);
                self.after(
                    eng,
                    Self::node_slot(r, 3),
                    d,
                    OTHER,
                    Event::CatchupDone(r as u16),
                );
            }
        }
        changed
    }

    /// Rule 4: detected lost replicas in reachable AZs start repairing from the
    /// first up, current peer.
    fn re_replicate<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) -> bool {
        let mut changed = false;
        for r in 0..self.rep.len() {
            let x = &self.rep[r];
            let ready = matches!(x.data, Data::Lost { detected: true })
                && !x.crashed
                && self.az[x.az].reachable;
            if !ready {
                continue;
            }
            let Some(src) = self.first_up_current() else {
                return changed;
            };
            let d = self.cfg.repair_time.sample(eng.rng());
            changed = true;
            if d.0 == 0 {
                self.rep[r].data = Data::Present {
                    current: true,
                    pos: self.wclock,
                };
                self.emit(eng.now(), Change::RepairDone, Target::Node(r));
            } else {
                self.rep[r].data = Data::Repairing { src: src as u16 };
                self.after(
                    eng,
                    Self::node_slot(r, 3),
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
    fn check_data_loss<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) -> bool {
        if self.restoring
            || self
                .rep
                .iter()
                .any(|x| matches!(x.data, Data::Present { current: true, .. }))
        {
            return false;
        }
        let now = eng.now();
        self.stats.data_loss_events += 1;
        self.stats.first_data_loss.get_or_insert(now);
        let freshest = self
            .rep
            .iter()
            .filter_map(|x| match x.data {
                Data::Present { pos, .. } => Some(pos),
                _ => None,
            })
            .max();
        match freshest {
            Some(best) => {
                self.stats.lost_write_us += self.wclock - best;
                self.wclock = best;
                for x in &mut self.rep {
                    if let Data::Present { pos, current } = &mut x.data {
                        *current = *pos == best;
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
    fn restore<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        self.restoring = false;
        for r in 0..self.rep.len() {
            eng.cancel(Self::node_slot(r, 3));
            self.rep[r].catchup_src = None;
            self.rep[r].data = Data::Present {
                current: true,
                pos: self.wclock,
            };
        }
    }

    /// Arms or cancels failure processes and give-up timers for nodes and AZs
    /// whose up-state changed, and samples availability.
    fn after_event<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        let (up, cur) = self.masks();
        let now = eng.now();
        self.write_ok = self.cfg.quorum.write_ok(cur);
        self.stats.write.observe(now, self.write_ok);
        self.stats
            .read
            .observe(now, self.cfg.quorum.read_ok(up, cur));
        let cfg: &'c Config = self.cfg;
        let f = &cfg.failures;
        for r in 0..self.rep.len() {
            let node_up = up & (1 << r) != 0;
            if node_up != self.rep[r].procs_on {
                self.rep[r].procs_on = node_up;
                for (k, p, ev) in [
                    (0, &f.node_crash, Event::NodeCrashDue(r as u16)),
                    (1, &f.node_loss, Event::NodeLossDue(r as u16)),
                ] {
                    if let Some(p) = p {
                        if node_up {
                            let d = p.every.sample(eng.rng()).max(SimTime(1));
                            self.after(eng, Self::node_slot(r, k), d, OTHER, ev);
                        } else {
                            eng.cancel(Self::node_slot(r, k));
                        }
                    }
                }
            }
            if let Some(rda) = &cfg.replace_down_after {
                let down = !node_up && matches!(self.rep[r].data, Data::Present { .. });
                if down != self.rep[r].giveup_armed {
                    self.rep[r].giveup_armed = down;
                    if down {
                        let d = rda.sample(eng.rng()).max(SimTime(1));
                        self.after(
                            eng,
                            Self::node_slot(r, 4),
                            d,
                            GIVE_UP,
                            Event::GiveUp(r as u16),
                        );
                    } else {
                        eng.cancel(Self::node_slot(r, 4));
                    }
                }
            }
        }
        for a in 0..self.az.len() {
            let az_up = self.az[a].reachable;
            if az_up != self.az[a].procs_on {
                self.az[a].procs_on = az_up;
                for (k, p, ev) in [
                    (0, &f.az_outage, Event::AzOutageDue(a as u16)),
                    (1, &f.az_loss, Event::AzLossDue(a as u16)),
                ] {
                    if let Some(p) = p {
                        let slot = self.az_slot(a, k);
                        if az_up {
                            let d = p.every.sample(eng.rng()).max(SimTime(1));
                            self.after(eng, slot, d, OTHER, ev);
                        } else {
                            eng.cancel(slot);
                        }
                    }
                }
            }
        }
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
        if let Some((change, target)) = self.apply(ev, eng) {
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
}

#[cfg(test)]
mod tests;
