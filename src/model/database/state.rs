//! The database's state machine (SPEC §5): instances up or down, the writer,
//! failover and restart, and for the RDS designs the EBS volumes, in-sync
//! flags, resyncs and restores from backup.
//!
//! It sees the storage only through what [`Db::settle`] is handed: which AZs
//! are unreachable, and whether the storage has write and read quorum. After
//! every event `settle` reconciles the phase (serving, down, restoring) with
//! the instances until nothing changes, applies the in-sync rule, starts or
//! cancels resyncs, samples availability and arms the failure processes.

use super::{Database, DbStats, Design};
use crate::engine::{Class, Engine, EngineError, EventQueue, Slot};
use crate::model::config::Process;
use crate::model::event::{Change, DbEvent, Event};
use crate::model::sources::{EBS_LOSS, INSTANCE_CRASH, Part, Sources, Timing};
use crate::model::stats::OutageTracker;
use crate::model::{Config, ScriptedKind};
use crate::time::SimTime;

mod rds;

/// The volume's order class for events that are neither scripted (0) nor
/// give-ups (1): at equal times database events follow scripted ones.
const OTHER: Class = 2;

/// Per-instance slots: crash process, crash return, resync, EBS-loss process.
const CRASH_PROC: u32 = 0;
const RETURN: u32 = 1;
const RESYNC: u32 = 2;
const EBS_PROC: u32 = 3;
const PER_INSTANCE: u32 = 4;
/// Database-wide slots after the instances'.
const FAILOVER: u32 = 0;
const RESTART: u32 = 1;
const RESTORE: u32 = 2;
/// Slots the database uses beyond `PER_INSTANCE` per instance.
pub(super) const GLOBAL_SLOTS: u32 = 3;

/// One instance (and, for RDS, its EBS volume).
#[derive(Clone, Debug)]
pub(super) struct Inst {
    /// Its AZ (an RDS restore may move the writer).
    pub az: usize,
    /// Its own crash holds (until `crash_until`).
    pub crashed: bool,
    crash_until: SimTime,
    /// RDS: its volume holds every acknowledged write (always for Aurora).
    pub in_sync: bool,
    /// RDS: its volume exists (false from a loss until its AZ is reachable).
    pub present: bool,
    resyncing: bool,
    crash_armed: bool,
    ebs_armed: bool,
}

/// What the writer is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// The writer serves.
    Serving,
    /// The writer is lost: a failover and/or a restart is under way, or the
    /// database waits for its only in-sync copy to come back.
    Down,
    /// RDS: no in-sync copy survived; restoring from backup.
    Restoring,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Restart {
    Idle,
    /// Begun, but the writer's AZ is unreachable.
    Waiting,
    Running,
}

/// Run totals of the database layer.
#[derive(Clone, Debug, Default)]
pub(super) struct Totals {
    pub write: OutageTracker,
    pub read: OutageTracker,
    pub storage: OutageTracker,
    pub compute: OutageTracker,
    pub db: DbStats,
    pub data_loss_events: u64,
    pub first_data_loss: Option<SimTime>,
    pub lost_write_us: u64,
}

/// The database above the storage.
pub(super) struct Db<'c> {
    design: Design,
    db: &'c Database,
    cfg: &'c Config,
    pub inst: Vec<Inst>,
    pub writer: usize,
    pub phase: Phase,
    failover: Option<usize>,
    restart: Restart,
    restore_az: Option<usize>,
    az_dark: u64,
    base: u32,
    /// Source numbers of the random streams (`instance_crash:i`, `ebs_loss:i`,
    /// the database timings).
    src: Sources,
    pub write_ok: bool,
    pub read_ok: bool,
    pub storage_w: bool,
    wclock: u64,
    last: SimTime,
    pub totals: Totals,
    /// Changes of the current event for the timeline (only when `record`).
    pub changes: Vec<(Change, Option<usize>)>,
    record: bool,
    pub fault: Option<EngineError>,
    /// `estimate`: the failure processes run on the storage's aggregate
    /// timer (see [`Db::outer`]), not on their own.
    pub external: bool,
}

impl<'c> Db<'c> {
    /// Every instance up and in sync, the first one writing.
    pub fn new(cfg: &'c Config, db: &'c Database, record: bool) -> Self {
        let inst = db
            .spec
            .instances
            .iter()
            .map(|&az| Inst {
                az,
                crashed: false,
                crash_until: SimTime::ZERO,
                in_sync: true,
                present: true,
                resyncing: false,
                crash_armed: false,
                ebs_armed: false,
            })
            .collect();
        Db {
            design: db.design,
            db,
            cfg,
            inst,
            writer: 0,
            phase: Phase::Serving,
            failover: None,
            restart: Restart::Idle,
            restore_az: None,
            az_dark: 0,
            base: 0,
            src: Sources::new(cfg),
            write_ok: true,
            read_ok: true,
            storage_w: true,
            wclock: 0,
            last: SimTime::ZERO,
            totals: Totals::default(),
            changes: Vec::new(),
            record,
            fault: None,
            external: false,
        }
    }

    /// Slots needed from `base` on.
    pub fn slots(&self) -> u32 {
        self.inst.len() as u32 * PER_INSTANCE + GLOBAL_SLOTS
    }

    /// Takes the slots from `base` (its draws use the engine's streams).
    pub fn start<Q: EventQueue<Event>>(&mut self, _eng: &mut Engine<Event, Q>, base: u32) {
        self.base = base;
        self.changes.reserve(16);
    }

    fn slot(&self, i: usize, k: u32) -> Slot {
        Slot(self.base + i as u32 * PER_INSTANCE + k)
    }

    fn gslot(&self, k: u32) -> Slot {
        Slot(self.base + self.inst.len() as u32 * PER_INSTANCE + k)
    }

    fn note(&mut self, r: Result<(), EngineError>) {
        if let Err(e) = r {
            self.fault.get_or_insert(e);
        }
    }

    fn after<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        slot: Slot,
        delay: SimTime,
        ev: DbEvent,
    ) {
        let at = eng.now().saturating_add(delay);
        let r = eng.schedule_in(slot, at, OTHER, Event::Db(ev));
        self.note(r);
    }

    fn change(&mut self, c: Change, i: Option<usize>) {
        if self.record {
            self.changes.push((c, i));
        }
    }

    // ----- facts ----------------------------------------------------------

    fn az_ok(&self, a: usize) -> bool {
        self.az_dark & (1 << a) == 0
    }

    /// Not crashed and in a reachable AZ.
    pub fn up(&self, i: usize) -> bool {
        !self.inst[i].crashed && self.az_ok(self.inst[i].az)
    }

    /// Can take over as writer.
    fn eligible(&self, i: usize) -> bool {
        if i == self.writer || !self.up(i) {
            return false;
        }
        match self.design {
            Design::Aurora => true,
            Design::RdsSingleAz => false,
            _ => self.inst[i].present && self.inst[i].in_sync,
        }
    }

    /// Cluster: some standby up and in sync acknowledges commits.
    fn acknowledged(&self) -> bool {
        (0..self.inst.len())
            .any(|i| i != self.writer && self.up(i) && self.inst[i].present && self.inst[i].in_sync)
    }

    /// The writer in `instances` order (1-based) while it serves.
    pub fn serving_writer(&self) -> Option<usize> {
        (self.phase == Phase::Serving).then_some(self.writer)
    }

    /// Instances up.
    pub fn instances_up(&self) -> usize {
        (0..self.inst.len()).filter(|&i| self.up(i)).count()
    }

    // ----- clocks ---------------------------------------------------------

    /// Runs the write clock up to `now` (it advances only while writes flow).
    pub fn advance(&mut self, now: SimTime) {
        if now > self.last {
            if self.write_ok {
                self.wclock += now.0 - self.last.0;
            }
            self.last = now;
        }
    }

    // ----- events ---------------------------------------------------------

    /// A database event of the engine.
    pub fn on_event<Q: EventQueue<Event>>(&mut self, ev: DbEvent, eng: &mut Engine<Event, Q>) {
        let f = self.db;
        match ev {
            DbEvent::CrashDue(i) => {
                let i = i as usize;
                self.inst[i].crash_armed = false;
                let lasts = match f.instance_crash.as_ref().and_then(|p| p.lasts.as_ref()) {
                    Some(d) => {
                        let src = (INSTANCE_CRASH, i, Part::Lasts);
                        self.src.draw_process(eng, self.cfg, d, src)
                    }
                    None => SimTime::ZERO,
                };
                self.crash(eng, i, lasts);
            }
            DbEvent::Recovered(i) => {
                let i = i as usize;
                self.inst[i].crashed = false;
                self.change(Change::InstanceRecover, Some(i));
            }
            DbEvent::EbsLossDue(i) => {
                let i = i as usize;
                self.inst[i].ebs_armed = false;
                self.ebs_loss(i);
            }
            DbEvent::ResyncDone(i) => {
                let i = i as usize;
                self.inst[i].resyncing = false;
                self.inst[i].in_sync = true;
                self.change(Change::ResyncDone, Some(i));
            }
            DbEvent::FailoverDone => {
                let Some(t) = self.failover.take() else {
                    return;
                };
                self.writer = t;
                self.inst[t].in_sync = true;
                self.phase = Phase::Serving;
                self.totals.db.failovers += 1;
                self.cancel_restart(eng);
                self.change(Change::FailoverDone, Some(t));
            }
            DbEvent::RestartDone => {
                let w = self.writer;
                self.restart = Restart::Idle;
                // A replacement in the writer's slot: the rest of the old
                // crash is void and the slot's crash process draws afresh.
                self.inst[w].crashed = false;
                eng.cancel(self.slot(w, RETURN));
                if self.inst[w].crash_armed {
                    self.inst[w].crash_armed = false;
                    eng.cancel(self.slot(w, CRASH_PROC));
                }
                self.cancel_failover(eng);
                self.phase = Phase::Serving;
                self.totals.db.restarts += 1;
                self.change(Change::RestartDone, Some(w));
            }
            DbEvent::RestoreDone => {
                let w = self.writer;
                self.restore_az = None;
                self.inst[w].crashed = false;
                eng.cancel(self.slot(w, RETURN));
                self.inst[w].present = true;
                self.inst[w].in_sync = true;
                for i in 0..self.inst.len() {
                    if i != w {
                        self.inst[i].in_sync = false;
                    }
                }
                self.phase = Phase::Serving;
                self.change(Change::Restore, Some(w));
            }
        }
    }

    /// A scripted `instance-crash` or `ebs-loss` on instance `i`.
    pub fn scripted<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        kind: ScriptedKind,
        i: usize,
        lasts: SimTime,
    ) {
        if i >= self.inst.len() {
            return; // compare: this design has no such instance
        }
        match kind {
            ScriptedKind::InstanceCrash => self.crash(eng, i, lasts),
            ScriptedKind::EbsLoss if self.design.is_rds() => self.ebs_loss(i),
            _ => {}
        }
    }

    /// Instance `i` down for `lasts` (overlapping crashes: until the later end).
    fn crash<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        i: usize,
        lasts: SimTime,
    ) {
        if self.phase == Phase::Restoring {
            return; // SPEC §5: instance failures during a restore are ignored
        }
        let until = eng.now().saturating_add(lasts);
        let inst = &mut self.inst[i];
        if inst.crashed && inst.crash_until >= until {
            return;
        }
        inst.crashed = true;
        inst.crash_until = until;
        let r = eng.schedule_in(
            self.slot(i, RETURN),
            until,
            OTHER,
            Event::Db(DbEvent::Recovered(i as u16)),
        );
        self.note(r);
        self.change(Change::InstanceCrash, Some(i));
    }

    /// Instance `i`'s EBS volume destroyed; replaced by an empty one at once
    /// if its AZ is reachable (else when it is).
    fn ebs_loss(&mut self, i: usize) {
        if self.phase == Phase::Restoring {
            return;
        }
        let ok = self.az_ok(self.inst[i].az);
        let inst = &mut self.inst[i];
        inst.in_sync = false;
        inst.present = ok;
        self.change(Change::EbsLoss, Some(i));
    }

    /// The AZs unreachable after a storage event, and the AZ lost by it.
    pub fn az_changed(&mut self, dark: u64, lost: Option<usize>) {
        let back = self.az_dark & !dark;
        self.az_dark = dark;
        if !self.design.is_rds() {
            return;
        }
        for inst in &mut self.inst {
            if Some(inst.az) == lost {
                inst.present = false;
                inst.in_sync = false;
            } else if back & (1 << inst.az) != 0 && !inst.present {
                inst.present = true; // a replacement volume, empty
            }
        }
    }

    // ----- after every event ------------------------------------------------

    /// Brings the database up to date with the instances and the storage's
    /// write / read quorum, then samples availability and arms processes.
    pub fn settle<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        storage_w: bool,
        storage_r: bool,
    ) {
        let now = eng.now();
        self.reconcile(eng);
        let rds = self.design.is_rds();
        let restoring = self.phase == Phase::Restoring;
        let serving = self.phase == Phase::Serving;
        let storage_ok = match self.design {
            Design::Aurora => storage_w,
            Design::RdsMultiAzCluster => !restoring && self.acknowledged(),
            _ => !restoring,
        };
        self.write_ok = serving && storage_ok;
        self.storage_w = storage_ok;
        self.read_ok = match self.design {
            Design::Aurora => self.instances_up() > 0 && storage_r,
            Design::RdsMultiAzCluster => {
                !restoring && (0..self.inst.len()).any(|i| self.up(i) && self.inst[i].present)
            }
            _ => serving,
        };
        if rds {
            self.sync_rules(eng);
        }
        let t = &mut self.totals;
        t.write.observe(now, self.write_ok);
        t.read.observe(now, self.read_ok);
        t.storage.observe(now, storage_ok);
        t.compute.observe(now, serving);
        self.arm(eng);
    }

    /// The phase against the instances, until nothing changes.
    fn reconcile<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        for _ in 0..8 {
            let w = self.writer;
            match self.phase {
                Phase::Serving => {
                    if self.up(w) && self.inst[w].in_sync {
                        return;
                    }
                    self.phase = Phase::Down;
                }
                Phase::Down => {
                    if self.design.is_rds() && !self.inst.iter().any(|x| x.in_sync) {
                        self.begin_restore(eng);
                        continue;
                    }
                    if let Some(t) = self.failover
                        && !self.eligible(t)
                    {
                        self.cancel_failover(eng);
                        self.change(Change::FailoverAbort, Some(t));
                    }
                    if self.failover.is_none() && self.up(w) && self.inst[w].in_sync {
                        // The old writer is back first.
                        self.cancel_restart(eng);
                        self.phase = Phase::Serving;
                        self.totals.db.restarts += 1;
                        continue;
                    }
                    if self.failover.is_none()
                        && let Some(t) = (0..self.inst.len()).find(|&i| self.eligible(i))
                    {
                        self.failover = Some(t);
                        let db: &'c Database = self.db;
                        let d = Sources::draw_timing(eng, &db.spec.failover_time, Timing::Failover);
                        let slot = self.gslot(FAILOVER);
                        self.after(eng, slot, d, DbEvent::FailoverDone);
                        self.change(Change::FailoverStart, Some(t));
                    }
                    self.drive_restart(eng);
                    return;
                }
                Phase::Restoring => {
                    self.drive_restore(eng);
                    return;
                }
            }
        }
    }

    /// A restart begins when nothing can be failed over to, and needs the
    /// writer's AZ reachable (RDS: and the writer's volume intact).
    fn drive_restart<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        let w = self.writer;
        if !self.inst[w].in_sync {
            self.cancel_restart(eng);
            return; // RDS: a replacement would have no data; wait or fail over
        }
        if self.restart == Restart::Idle && self.failover.is_none() {
            self.restart = Restart::Waiting;
        }
        let ok = self.az_ok(self.inst[w].az);
        match self.restart {
            Restart::Running if !ok => {
                eng.cancel(self.gslot(RESTART));
                self.restart = Restart::Waiting;
            }
            Restart::Waiting if ok => {
                let db: &'c Database = self.db;
                let d = Sources::draw_timing(eng, &db.spec.restart_time, Timing::Restart);
                let slot = self.gslot(RESTART);
                self.after(eng, slot, d, DbEvent::RestartDone);
                self.restart = Restart::Running;
            }
            _ => {}
        }
    }

    fn cancel_restart<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        if self.restart == Restart::Running {
            eng.cancel(self.gslot(RESTART));
        }
        self.restart = Restart::Idle;
    }

    fn cancel_failover<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        if self.failover.take().is_some() {
            eng.cancel(self.gslot(FAILOVER));
        }
    }

    /// Crash processes run while their instance is up, EBS processes while
    /// the volume exists; a timer is drawn afresh each time its target is back.
    fn arm<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        if self.external {
            return;
        }
        let db: &'c Database = self.db;
        let ebs = db.ebs_process();
        for i in 0..self.inst.len() {
            if let Some(p) = &db.instance_crash {
                let want = self.up(i);
                self.arm_one(eng, i, want, p, CRASH_PROC);
            }
            if let Some(p) = ebs {
                let want = self.inst[i].present;
                self.arm_one(eng, i, want, p, EBS_PROC);
            }
        }
    }

    fn arm_one<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        i: usize,
        want: bool,
        p: &Process,
        k: u32,
    ) {
        let armed = if k == CRASH_PROC {
            &mut self.inst[i].crash_armed
        } else {
            &mut self.inst[i].ebs_armed
        };
        if want == *armed {
            return;
        }
        *armed = want;
        let slot = self.slot(i, k);
        if !want {
            eng.cancel(slot);
            return;
        }
        let kind = if k == CRASH_PROC {
            INSTANCE_CRASH
        } else {
            EBS_LOSS
        };
        let src = (kind, i, Part::Every);
        let d = self
            .src
            .draw_process(eng, self.cfg, &p.every, src)
            .max(SimTime(1));
        let ev = if k == CRASH_PROC {
            DbEvent::CrashDue(i as u16)
        } else {
            DbEvent::EbsLossDue(i as u16)
        };
        self.after(eng, slot, d, ev);
    }
}
