//! [`DbModel`]: the engine model of a scenario with `[database]` — the
//! storage [`Volume`] underneath, the database state machine above, coupled
//! only through the storage's write / read quorum and AZ reachability.

use super::state::Db;
use super::{Database, DbStats};
use crate::engine::{Engine, EngineError, EventQueue, Model};
use crate::model::event::{Change, DbRow, Event, NoObserver, Observer, Target};
use crate::model::{Config, RunStats, ScriptedKind, Volume};
use crate::time::SimTime;
use std::fmt::Write;

/// A database above its storage, being simulated.
pub struct DbModel<'c, O: Observer> {
    cfg: &'c Config,
    vol: Volume<'c, NoObserver>,
    db: Db<'c>,
    observer: O,
    name: String,
    /// `estimate`: the database's failures join the storage's biased timer.
    biased: bool,
    stop_at_loss: bool,
}

impl<'c, O: Observer> DbModel<'c, O> {
    /// The database of `cfg` (which must have one) on its storage.
    pub fn new(cfg: &'c Config, database: &'c Database, observer: O) -> Self {
        DbModel {
            cfg,
            vol: Volume::new(cfg, NoObserver),
            db: Db::new(cfg, database, O::ENABLED),
            observer,
            name: String::new(),
            biased: false,
            stop_at_loss: false,
        }
    }

    /// Drives every failure process, the storage's and the database's, by
    /// `plan` on one aggregate timer (SPEC §7; see `volume/outer.rs`).
    pub fn biased(mut self, plan: crate::model::Biasing) -> Self {
        self.db.external = true;
        self.vol = self.vol.biased_with_outer(plan, self.db.outer());
        self.biased = true;
        self
    }

    /// Ends the run at the database's first data loss.
    pub fn stop_at_first_loss(mut self) -> Self {
        self.stop_at_loss = true;
        self
    }

    /// The likelihood ratio so far (None when not biased).
    pub fn bias_outcome(&self) -> Option<crate::model::BiasOutcome> {
        self.vol.bias_outcome()
    }

    /// Starts the storage, then the database on the slots after the storage's.
    pub fn start<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        self.vol.start(eng);
        let base = self.vol.slots_end();
        eng.reserve((base + self.db.slots()) as usize, 0);
        self.db.start(eng, base);
        self.db.az_changed(self.vol.unreachable_azs(), None);
        self.db
            .settle(eng, self.vol.write_available(), self.vol.read_available());
        if self.biased {
            self.vol.bias_step(eng, self.db.outer());
        }
        self.emit(SimTime::ZERO, Change::Start, None);
    }

    /// Closes open outages at `horizon` and returns the database's totals.
    pub fn finish(
        mut self,
        horizon: SimTime,
        events_processed: u64,
    ) -> Result<(RunStats, O), EngineError> {
        if let Some(e) = self.db.fault.take() {
            return Err(e);
        }
        let rds = self.db_design().is_rds();
        self.db.advance(horizon);
        self.emit(horizon, Change::End, None);
        let (mut st, _) = self.vol.finish(horizon, events_processed)?;
        let t = &mut self.db.totals;
        for tr in [&mut t.write, &mut t.read, &mut t.storage, &mut t.compute] {
            tr.finish(horizon);
        }
        st.write = t.write.clone();
        st.read = t.read.clone();
        if rds {
            // No storage nodes: the data is the EBS volumes.
            st.data_loss_events = t.data_loss_events;
            st.first_data_loss = t.first_data_loss;
            st.lost_write_us = t.lost_write_us;
            st.volume = None;
        }
        st.database = Some(DbStats {
            storage_write_unavailable: t.storage.total,
            compute_write_unavailable: t.compute.total,
            ..t.db.clone()
        });
        Ok((st, self.observer))
    }

    fn db_design(&self) -> super::Design {
        self.cfg
            .database
            .as_ref()
            .map_or(super::Design::Aurora, |d| d.design)
    }

    fn data_loss_events(&self) -> u64 {
        if self.db_design().is_rds() {
            self.db.totals.data_loss_events
        } else {
            self.vol.data_loss_events()
        }
    }

    /// One timeline row: the state after the event.
    fn emit(&mut self, time: SimTime, change: Change, instance: Option<usize>) {
        if !O::ENABLED {
            return;
        }
        self.name.clear();
        if let Some(i) = instance {
            let _ = write!(self.name, "instance-{}", i + 1);
        }
        self.emit_named(time, change);
    }

    fn emit_named(&mut self, time: SimTime, change: Change) {
        let row = DbRow {
            time,
            change,
            target: &self.name,
            writer: self.db.serving_writer().map(|w| w + 1),
            instances_up: self.db.instances_up(),
            write_available: self.db.write_ok,
            read_available: self.db.read_ok,
            storage_write_available: self.db.storage_w,
            data_loss_events: self.data_loss_events(),
        };
        self.observer.db_row(&row);
    }
}

impl<O: Observer> Model for DbModel<'_, O> {
    type Event = Event;

    fn handle<Q: EventQueue<Event>>(&mut self, ev: Event, eng: &mut Engine<Event, Q>) {
        let now = eng.now();
        self.db.advance(now);
        self.db.changes.clear();
        let cfg: &Config = self.cfg;
        let mut storage = None;
        match ev {
            Event::Db(d) => self.db.on_event(d, eng),
            Event::Scripted(i)
                if matches!(
                    cfg.events[i as usize].kind,
                    ScriptedKind::InstanceCrash | ScriptedKind::EbsLoss
                ) =>
            {
                let s = &cfg.events[i as usize];
                self.db.scripted(eng, s.kind, s.target, s.lasts);
            }
            _ => {
                storage = self.vol.step(ev, eng);
                let lost = match storage {
                    Some((Change::AzLoss, Target::Az(a))) => Some(a),
                    _ => None,
                };
                self.db.az_changed(self.vol.unreachable_azs(), lost);
            }
        }
        self.db
            .settle(eng, self.vol.write_available(), self.vol.read_available());
        if self.biased {
            self.vol.bias_step(eng, self.db.outer());
        }
        if O::ENABLED {
            if let Some((c, t)) = storage {
                // RDS: only the AZ events of the storage underneath matter.
                let shown = !self.db_design().is_rds() || matches!(t, Target::Az(_));
                if shown {
                    self.name.clear();
                    self.name.push_str(&t.name(self.cfg));
                    self.emit_named(now, c);
                }
            }
            for k in 0..self.db.changes.len() {
                let (c, i) = self.db.changes[k];
                self.emit(now, c, i);
            }
        }
    }

    fn stopped(&self) -> bool {
        self.stop_at_loss && self.data_loss_events() > 0
    }
}
