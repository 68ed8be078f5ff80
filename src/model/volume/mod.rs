//! [`Volume`]: protection groups whose replicas live on the nodes of a
//! storage fleet (SPEC §1 and §4). A scenario without `[volume]`/`[fleet]` is
//! one PG on a fleet of exactly V nodes, so §1 is this model's smallest case.
//!
//! Three layers, each in its own file:
//! - `fleet.rs`: nodes, racks and AZs (reachability, crash returns, losses,
//!   give-ups) and the placement of replicas on nodes;
//! - `rules.rs`: one PG's rule fixpoint over its replica slots, the §1 rules
//!   written once over bitmasks (`down` = the slot's node is unreachable);
//! - `repair.rs`: re-replication targets and repair streams;
//!   `arm.rs`: failure processes and give-up timers of the fleet.
//!
//! Replica facts are kept as per-PG bitmasks over slots (which replicas are
//! present, current, lost, repairing, …), with per replica id
//! `rid = pg × V + slot` only what a bit cannot say (a stale replica's log
//! position, a repair's source), updated only through `set_data`.

mod apply;
mod arm;
mod bias;
mod fleet;
mod flip;
mod focus;
mod node_step;
mod outer;
pub mod placement;
mod repair;
mod rows;
mod rules;
mod switch;

use super::Config;
use super::event::{Change, Event, Observer, Target};
use super::quorum::ReplicaSet;
use super::sources::{self, Sources};
use super::stats::{RunStats, VolumeStats};
use super::storage::Placement;
use crate::engine::{Class, Engine, EngineError, EventQueue, Model, Slot};
use crate::time::SimTime;
use fleet::Fleet;
use repair::RepairQueue;

pub use bias::{BiasOutcome, Biasing, KIND_NAMES, KINDS, Outer};

/// A replica's data, as `set_data` records it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Data {
    /// Holds data up to `pos` (write-clock µs), or the latest write if `current`.
    Present { current: bool, pos: u64 },
    /// Destroyed; `detected` once the detection delay has passed.
    Lost { detected: bool },
    /// Being hydrated from slot `src` of the same PG.
    Repairing { src: u16 },
}

/// Order classes at equal times: scripted, then give-ups, then the rest.
const SCRIPTED: Class = 0;
const GIVE_UP: Class = 1;
const OTHER: Class = 2;

/// No node (a replica not lost from any node).
const NONE: u32 = u32::MAX;

/// The set {0, …, n−1} (n ≤ 64).
#[inline]
fn low_bits(n: usize) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

#[inline]
fn bit(r: usize) -> ReplicaSet {
    1 << r
}

/// Indices of the set bits, ascending.
#[inline]
fn members(mut m: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if m == 0 {
            return None;
        }
        let r = m.trailing_zeros() as usize;
        m &= m - 1;
        Some(r)
    })
}

/// One protection group's slot sets and write clock. In field order: what
/// a node crash or return reads and writes of a calm PG (`flip.rs`) comes
/// first, in 44 contiguous bytes.
#[derive(Clone, Debug)]
#[repr(C)]
struct Pg {
    present: ReplicaSet,
    /// Present with the current flag (up or down).
    current: ReplicaSet,
    /// Slots whose node is unreachable.
    down: ReplicaSet,
    /// Acknowledged-write clock (µs) as of `since`; it runs while write-available.
    wclock: u64,
    since: SimTime,
    write_ok: bool,
    read_ok: bool,
    degraded: bool,
    /// Calm after its last pass, with no lost slot even queued: until its
    /// next pass, a flip of its slots' reachability needs only the quiet
    /// rules (`Volume::flip_calm`). Every change but such a flip is
    /// followed by a pass, which sets it again.
    calm: bool,
    restoring: bool,
    lost_data: bool,
    /// Slot order is node order (so the first up, current slot is the lowest bit).
    ordered: bool,
    lost_detected: ReplicaSet,
    repairing: ReplicaSet,
    catching: ReplicaSet,
    /// Lost slots holding a partial copy (`repair_progress = "resume"`).
    kept: ReplicaSet,
    /// Lost slots waiting in the repair queue.
    queued: ReplicaSet,
    /// SPEC §6 state in one word, so that the quiet pass tests it at once:
    /// the AZs whose switch is due (bits 0–31), [`NO_FULL`], and the
    /// quorum epoch above [`EPOCH_SHIFT`] (0 the scenario's, `a + 1` with AZ
    /// `a` switched out).
    special: u64,
}

/// `Pg::special`: the AZs whose switch is due (unreachable long enough).
const SWITCH_DUE: u64 = 0xffff_ffff;
/// `Pg::special`: a loss left no full segment present (cleared by a restore).
const NO_FULL: u64 = 1 << 47;
/// `Pg::special`: where the epoch starts.
const EPOCH_SHIFT: u32 = 48;

impl Pg {
    /// The quorum epoch: 0 the scenario's, `a + 1` with AZ `a` switched out.
    #[inline(always)]
    fn epoch(&self) -> u8 {
        (self.special >> EPOCH_SHIFT) as u8
    }
}

/// A volume of protection groups on a storage fleet, being simulated.
pub struct Volume<'c, O: Observer> {
    cfg: &'c Config,
    /// Replicas per PG (V).
    v: usize,
    /// Every repair's target is its slot's own node (copyset placement, or
    /// a fleet of one node per slot): replicas never move between nodes.
    fixed_target: bool,
    /// `catchup_time` / `detection_delay` is a fixed zero (a fixed value
    /// draws no random number, so the draw can be skipped).
    instant_catchup: bool,
    instant_detection: bool,
    all: ReplicaSet,
    /// The scenario's quorum (epoch 0), kept here to save an indirection.
    quorum: super::Quorum,
    /// Slots whose loss alone leaves an intact PG able to write and read
    /// (in the scenario's quorum): the flip loop's shortcut (`flip.rs`).
    lone_flip: ReplicaSet,
    /// Full segments (SPEC §6; all slots unless `segments = "tail"`): a
    /// PG with none left has lost its pages, and a full slot is repaired
    /// only from a full peer.
    full: ReplicaSet,
    /// Slots of each AZ (the same for every PG).
    az_slots: Vec<ReplicaSet>,
    pgs: Vec<Pg>,
    /// Log position (write-clock µs) each present replica holds; read only
    /// for stale ones (a current one holds the PG's latest write).
    pos: Vec<u64>,
    /// The source slot of each running repair.
    repair_src: Vec<u16>,
    repair_until: Vec<SimTime>,
    repair_left: Vec<SimTime>,
    catchup_src: Vec<u16>,
    /// The node each replica lives on (a lost one: its replacement node).
    node_of: Vec<u32>,
    /// The node whose loss destroyed this replica, until it is rebuilt.
    lost_from: Vec<u32>,
    fleet: Fleet,
    queue: RepairQueue,
    /// Volume-wide counts of PGs without write / read quorum, and degraded.
    pgs_write_down: usize,
    pgs_read_down: usize,
    pgs_degraded: usize,
    repairs_running: usize,
    last_t: SimTime,
    /// Process timers that fired on a node, rack or AZ that was not up.
    void_events: u64,
    stats: RunStats,
    vstats: VolumeStats,
    fault: Option<EngineError>,
    stop_at_loss: bool,
    /// The change of the current event, for §1's per-replica timeline.
    pending_row: Option<(Change, Target)>,
    /// A reusable buffer of replicas.
    scratch: Vec<fleet::Seg>,
    /// `estimate`'s importance sampling (SPEC §7), when a plan is given.
    bias: Option<Box<bias::BiasState>>,
    /// Source numbers of the random streams.
    src: Sources,
    observer: O,
}

impl<'c, O: Observer> Volume<'c, O> {
    /// A volume with every replica up and current, no failure scheduled yet.
    pub fn new(cfg: &'c Config, observer: O) -> Self {
        let v = cfg.layout.replicas();
        let n = cfg.layout.nodes_per_az;
        let p = cfg.storage.pgs;
        let all = low_bits(v);
        let pg = Pg {
            present: all,
            current: all,
            lost_detected: 0,
            repairing: 0,
            catching: 0,
            down: 0,
            kept: 0,
            queued: 0,
            wclock: 0,
            since: SimTime::ZERO,
            write_ok: true,
            read_ok: true,
            degraded: false,
            restoring: false,
            lost_data: false,
            ordered: true,
            calm: true,
            special: 0,
        };
        let reps = p * v;
        let st = &cfg.storage;
        Volume {
            cfg,
            v,
            fixed_target: st.placement == Placement::Copyset || st.nodes_per_az == n,
            instant_catchup: cfg.catchup_time.is_zero(),
            instant_detection: cfg.detection_delay.is_zero(),
            all,
            quorum: cfg.quorum.clone(),
            lone_flip: (0..v)
                .filter(|&s| {
                    let m = all & !bit(s);
                    cfg.quorum.write_ok(m) && cfg.quorum.read_ok(m, m)
                })
                .fold(0, |m, s| m | bit(s)),
            full: cfg.segments.as_ref().map_or(all, |t| t.full),
            az_slots: (0..cfg.layout.azs.len())
                .map(|a| low_bits(n) << (a * n))
                .collect(),
            pgs: vec![pg; p],
            pos: vec![0; reps],
            repair_src: vec![0; reps],
            repair_until: vec![SimTime::ZERO; reps],
            repair_left: vec![SimTime::ZERO; reps],
            catchup_src: vec![0; reps],
            node_of: Vec::new(),
            lost_from: vec![NONE; reps],
            fleet: Fleet::new(&cfg.storage, cfg.layout.azs.len()),
            queue: RepairQueue::new(reps),
            pgs_write_down: 0,
            pgs_read_down: 0,
            pgs_degraded: 0,
            repairs_running: 0,
            last_t: SimTime::ZERO,
            void_events: 0,
            stats: RunStats::default(),
            vstats: VolumeStats::default(),
            fault: None,
            stop_at_loss: false,
            pending_row: None,
            scratch: Vec::new(),
            bias: None,
            src: Sources::new(cfg),
            observer,
        }
    }

    /// Ends the run at the first data loss (for time-to-first-loss estimates).
    pub fn stop_at_first_loss(mut self) -> Self {
        self.stop_at_loss = true;
        self
    }

    /// Places the replicas, schedules the scripted events and the first
    /// background failures, and records the `start` row.
    pub fn start<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        eng.reserve_streams(self.src.count());
        let mut rng = eng.detached_stream(sources::placement_id());
        self.node_of = placement::place(self.cfg, &mut rng);
        self.fleet.attach(&self.node_of, self.v);
        self.queue.rng = eng.detached_stream(sources::rereplication_id());
        let slots = self.restore_slot(self.pgs.len()).0 as usize + self.switch_slots();
        eng.reserve(slots, slots + self.cfg.events.len());
        for (i, ev) in self.cfg.events.iter().enumerate() {
            let r = eng.schedule(ev.at, SCRIPTED, Event::Scripted(i as u32));
            self.note(r);
        }
        self.fleet.dirty_all();
        self.after_event(eng);
        self.emit(SimTime::ZERO, Change::Start, Target::Group);
        if O::ENABLED && self.cfg.storage.volume_mode {
            self.emit_volume(SimTime::ZERO, Change::Start, Target::Group);
        }
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
        self.advance_clock(horizon);
        self.stats.write.finish(horizon);
        self.stats.read.finish(horizon);
        self.stats.horizon = horizon;
        self.stats.events_processed = events_processed - self.void_events;
        self.vstats.repairs_running = self.repairs_running as u64;
        self.queue.finish(horizon, &mut self.vstats);
        self.vstats.pgs = self.pgs.len() as u64;
        self.vstats.nodes = self.cfg.storage.nodes() as u64;
        self.vstats.pgs_with_data_loss = self.pgs.iter().filter(|p| p.lost_data).count() as u64;
        self.vstats.lost_bytes =
            self.cfg.segment_size_bytes as u128 * self.stats.data_loss_events as u128;
        // Reported for volume scenarios only, so §3's outputs stay as they were.
        self.stats.volume = self.cfg.storage.volume_mode.then(|| self.vstats.clone());
        self.emit(horizon, Change::End, Target::Group);
        if O::ENABLED && self.cfg.storage.volume_mode {
            self.emit_volume(horizon, Change::End, Target::Group);
        }
        Ok((self.stats, self.observer))
    }

    /// Accounts the time since the last event: PG-seconds without write
    /// quorum, and the most PGs without it in a state of positive length.
    #[inline]
    fn advance_clock(&mut self, now: SimTime) {
        if now > self.last_t {
            let dt = (now.0 - self.last_t.0) as u128;
            if self.pgs_write_down > 0 {
                self.vstats.pg_write_unavailable_us += dt * self.pgs_write_down as u128;
                self.vstats.max_pgs_write_unavailable = self
                    .vstats
                    .max_pgs_write_unavailable
                    .max(self.pgs_write_down as u64);
            }
            self.last_t = now;
        }
    }

    // ----- sets -----------------------------------------------------------

    /// PG `j`'s quorum in its epoch.
    #[inline(always)]
    fn quorum_of(&self, j: usize) -> &super::Quorum {
        let pg = &self.pgs[j];
        if pg.special < 1 << EPOCH_SHIFT {
            &self.quorum
        } else {
            self.cfg.quorum_at(pg.epoch())
        }
    }

    #[inline]
    fn reachable(&self, j: usize) -> ReplicaSet {
        self.all & !self.pgs[j].down
    }

    /// The first up, current slot of PG `j` in node order.
    #[inline]
    fn first_up_current(&self, j: usize) -> Option<usize> {
        self.first_up_current_in(j, self.all)
    }

    /// The slots slot `s` may be repaired from: a full one only from a full
    /// peer (pages cannot be rebuilt from the log), a tail one from any.
    #[inline]
    fn sources_for(&self, s: usize) -> ReplicaSet {
        if self.full & bit(s) != 0 {
            self.full
        } else {
            self.all
        }
    }

    /// The first up, current slot of PG `j` among `among`, in node order.
    #[inline]
    fn first_up_current_in(&self, j: usize, among: ReplicaSet) -> Option<usize> {
        let pg = &self.pgs[j];
        let m = pg.current & !pg.down & among;
        if m == 0 {
            return None;
        }
        if pg.ordered {
            return Some(m.trailing_zeros() as usize);
        }
        let base = j * self.v;
        members(m).min_by_key(|&s| self.node_of[base + s])
    }

    /// The only way replica data changes, so the sets and the fleet's
    /// per-node counts stay in step. Always inlined: callers pass a
    /// constant kind of `d`, so most of the body folds away.
    #[inline(always)]
    fn set_data(&mut self, j: usize, s: usize, d: Data) {
        let b = bit(s);
        let rid = j * self.v + s;
        let pg = &mut self.pgs[j];
        let was_present = pg.present & b != 0;
        let was_repairing = pg.repairing & b != 0;
        pg.present &= !b;
        pg.current &= !b;
        pg.lost_detected &= !b;
        pg.repairing &= !b;
        match d {
            Data::Present { current, .. } => {
                pg.present |= b;
                if current {
                    pg.current |= b;
                }
            }
            Data::Lost { detected: true } => pg.lost_detected |= b,
            Data::Lost { detected: false } => {}
            Data::Repairing { .. } => pg.repairing |= b,
        }
        match d {
            Data::Present { pos, .. } => self.pos[rid] = pos,
            Data::Repairing { src } => self.repair_src[rid] = src,
            Data::Lost { .. } => {}
        }
        let is_present = matches!(d, Data::Present { .. });
        let is_repairing = matches!(d, Data::Repairing { .. });
        if was_present != is_present {
            self.fleet
                .present_changed(self.node_of[rid] as usize, is_present);
        }
        if was_repairing != is_repairing {
            if is_repairing {
                self.repairs_running += 1;
            } else {
                self.repairs_running -= 1;
                self.fleet.release_streams(rid);
            }
        }
    }

    /// Whether slot `s` of PG `j` holds no data (lost, detected or not).
    #[inline]
    fn is_lost(&self, j: usize, s: usize) -> bool {
        let pg = &self.pgs[j];
        (pg.present | pg.repairing) & bit(s) == 0
    }

    #[inline]
    fn stop_work<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, j: usize, s: usize) {
        self.pgs[j].catching &= !bit(s);
        eng.cancel(self.work_slot(j * self.v + s));
    }

    // ----- scheduling helpers -------------------------------------------

    #[inline]
    fn note(&mut self, r: Result<(), EngineError>) {
        if let Err(e) = r {
            self.fault.get_or_insert(e);
        }
    }

    #[inline]
    fn work_slot(&self, rid: usize) -> Slot {
        Slot(self.fleet.slots() + rid as u32)
    }

    fn restore_slot(&self, j: usize) -> Slot {
        Slot(self.fleet.slots() + self.pos.len() as u32 + j as u32)
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
}

/// Narrow calls for a database above the storage (SPEC §5).
impl<O: Observer> Volume<'_, O> {
    /// Every PG has write quorum.
    pub fn write_available(&self) -> bool {
        self.pgs_write_down == 0
    }

    /// Every PG has read quorum.
    pub fn read_available(&self) -> bool {
        self.pgs_read_down == 0
    }

    /// The unreachable AZs, one bit per AZ index.
    pub fn unreachable_azs(&self) -> u64 {
        self.fleet.az_dark
    }

    /// PG data-loss events so far.
    pub fn data_loss_events(&self) -> u64 {
        self.stats.data_loss_events
    }

    /// The first engine slot the storage does not use.
    pub fn slots_end(&self) -> u32 {
        self.restore_slot(self.pgs.len()).0
    }

    /// Applies one storage event as the engine would and returns what it
    /// changed, if anything.
    #[inline(always)]
    pub fn step<Q: EventQueue<Event>>(
        &mut self,
        ev: Event,
        eng: &mut Engine<Event, Q>,
    ) -> Option<(Change, Target)> {
        let now = eng.now();
        self.advance_clock(now);
        if let Some(change) = self.node_step(ev, eng) {
            return change;
        }
        let change = self.apply(ev, eng);
        if O::ENABLED
            && let Some((c, t)) = self.pending_row.take()
        {
            // Nothing touched a PG's replicas: the row shows the state as is.
            self.settle(eng, 0);
            self.emit(now, c, t);
        }
        self.run_queue(eng);
        self.after_event(eng);
        if O::ENABLED
            && self.cfg.storage.volume_mode
            && let Some((c, t)) = change
        {
            self.emit_volume(now, c, t);
        }
        change
    }
}

impl<O: Observer> Model for Volume<'_, O> {
    type Event = Event;

    #[inline]
    fn handle<Q: EventQueue<Event>>(&mut self, ev: Event, eng: &mut Engine<Event, Q>) {
        self.step(ev, eng);
    }

    fn stopped(&self) -> bool {
        self.stop_at_loss && self.stats.data_loss_events > 0
    }
}
