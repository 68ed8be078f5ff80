//! The RDS designs' rules of the state machine (SPEC §5): restores from
//! backup, the in-sync rule and resyncs; and the targets `estimate`'s
//! aggregate timer sees.

use super::{CRASH_PROC, Db, EBS_PROC, PER_INSTANCE, Phase, RESTORE, RESYNC, Restart};
use crate::engine::{Engine, EventQueue};
use crate::model::event::{Change, DbEvent, Event};
use crate::model::sources::{Sources, Timing};
use crate::model::{Config, Database, Outer};

impl<'c> Db<'c> {
    /// No in-sync copy survives: one data-loss event, the writes not yet in
    /// the backup lost, and a restore.
    pub(super) fn begin_restore<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        let now = eng.now();
        self.cancel_failover(eng);
        self.cancel_restart(eng);
        let db: &'c Database = self.db;
        let lag = Sources::draw_timing(eng, &db.spec.backup_lag, Timing::BackupLag);
        let lost = lag.0.min(self.wclock);
        self.wclock -= lost;
        let t = &mut self.totals;
        t.lost_write_us = t.lost_write_us.saturating_add(lost);
        t.data_loss_events += 1;
        t.first_data_loss.get_or_insert(now);
        self.phase = Phase::Restoring;
        self.restore_az = None;
        self.change(Change::DataLoss, Some(self.writer));
        self.drive_restore(eng);
    }

    /// A restore runs in the writer's AZ if reachable, else in the first
    /// reachable AZ of `cluster.azs`; it starts again if its AZ goes dark.
    pub(super) fn drive_restore<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        if let Some(a) = self.restore_az {
            if self.az_ok(a) {
                return;
            }
            eng.cancel(self.gslot(RESTORE));
            self.restore_az = None;
        }
        let w = self.writer;
        let azs = self.cfg.layout.azs.len();
        let pick = if self.az_ok(self.inst[w].az) {
            Some(self.inst[w].az)
        } else {
            (0..azs).find(|&a| self.az_ok(a))
        };
        if let Some(a) = pick {
            self.inst[w].az = a;
            self.restore_az = Some(a);
            let cfg: &'c Config = self.cfg;
            let d = Sources::draw_timing(eng, &cfg.restore_time, Timing::DbRestore);
            let slot = self.gslot(RESTORE);
            self.after(eng, slot, d, DbEvent::RestoreDone);
        }
    }

    /// RDS: while writes flow a standby that is down or has no volume is out
    /// of sync at once; one that is back resyncs while the writer serves.
    pub(super) fn sync_rules<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        let serving = self.phase == Phase::Serving;
        for i in 0..self.inst.len() {
            if i == self.writer {
                continue;
            }
            let up = self.up(i);
            if self.write_ok && (!up || !self.inst[i].present) {
                self.inst[i].in_sync = false;
            }
            let want = serving && up && self.inst[i].present && !self.inst[i].in_sync;
            if want && !self.inst[i].resyncing {
                self.inst[i].resyncing = true;
                let db: &'c Database = self.db;
                let d = Sources::draw_timing(eng, &db.spec.resync_time, Timing::Resync);
                let slot = self.slot(i, RESYNC);
                self.after(eng, slot, d, DbEvent::ResyncDone(i as u16));
            } else if !want && self.inst[i].resyncing {
                self.inst[i].resyncing = false;
                eng.cancel(self.slot(i, RESYNC));
            }
        }
    }

    /// The failure targets for `estimate`'s aggregate timer: up instances
    /// (crash processes run), present RDS volumes (loss processes run), and
    /// whether everything is at rest.
    pub fn outer(&self) -> Outer {
        let n = self.inst.len();
        let mut o = Outer {
            instances: n as u32,
            crash_slot: self.slot(0, CRASH_PROC).0,
            ebs_slot: self.slot(0, EBS_PROC).0,
            stride: PER_INSTANCE,
            ..Outer::default()
        };
        for (i, x) in self.inst.iter().enumerate() {
            if self.up(i) {
                o.crashable |= 1 << i;
            }
            if x.present && self.design.is_rds() {
                o.losable |= 1 << i;
            }
        }
        o.resting = self.phase == Phase::Serving
            && self.failover.is_none()
            && self.restart == Restart::Idle
            && self.restore_az.is_none()
            && self
                .inst
                .iter()
                .all(|x| !x.crashed && x.present && x.in_sync && !x.resyncing)
            && (0..n).all(|i| self.up(i));
        o
    }
}
