//! Timeline rows: the §1 per-replica row of a single PG and the §4 volume
//! row, built for the observer right after an event.

use super::Volume;
use crate::model::event::{Change, Observer, Replicas, Row, Target, VolumeRow};
use crate::time::SimTime;

impl<O: Observer> Volume<'_, O> {
    /// A §1 per-replica row (single-PG scenarios only).
    pub(super) fn emit(&mut self, time: SimTime, change: Change, target: Target) {
        if !O::ENABLED || self.cfg.storage.volume_mode {
            return;
        }
        let pg = &self.pgs[0];
        let reach = self.all & !pg.down;
        let (up, cur) = (pg.present & reach, pg.current & reach);
        let quorum = self.cfg.quorum_at(pg.epoch());
        let row = Row {
            time,
            change,
            target,
            cfg: self.cfg,
            replicas: Replicas {
                count: self.v as u8,
                repairing: pg.repairing,
                present: pg.present,
                reachable: reach,
                current: pg.current,
            },
            write_available: quorum.write_ok(cur),
            read_available: quorum.read_ok(up, cur),
            data_loss_events: self.stats.data_loss_events,
        };
        self.observer.row(&row);
    }

    /// A §4 volume row: counts after the event.
    pub(super) fn emit_volume(&mut self, time: SimTime, change: Change, target: Target) {
        let row = VolumeRow {
            time,
            change,
            target,
            cfg: self.cfg,
            write_available: self.pgs_write_down == 0,
            read_available: self.pgs_read_down == 0,
            pgs_write_unavailable: self.pgs_write_down,
            pgs_read_unavailable: self.pgs_read_down,
            pgs_degraded: self.pgs_degraded,
            repairs_running: self.repairs_running,
            repairs_waiting: self.queue.len(),
            data_loss_events: self.stats.data_loss_events,
        };
        self.observer.volume_row(&row);
    }
}
