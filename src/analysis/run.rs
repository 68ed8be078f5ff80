//! One simulation run of a protection group.

use crate::engine::{Engine, EventQueue, SlotHeap};
use crate::error::Error;
use crate::model::{Config, DbModel, Event, NoObserver, Observer, RunStats, Volume};
use crate::time::SimTime;

/// Events between two progress reports of a long run (~0.1 s).
const TICK_EVENTS: u64 = 1 << 20;

/// Drives a prepared group over `[0, horizon)` on the streams of `seed`.
fn drive<O: Observer, Q: EventQueue<Event>>(
    mut pg: Volume<'_, O>,
    seed: u64,
    horizon: SimTime,
    tick: Option<&mut dyn FnMut(SimTime, u64) -> bool>,
) -> Result<(RunStats, O), Error> {
    let mut eng: Engine<Event, Q> = Engine::new(seed);
    pg.start(&mut eng);
    match tick {
        None => eng.run_until(&mut pg, horizon),
        Some(t) => eng.run_until_ticking(&mut pg, horizon, TICK_EVENTS, t),
    }
    pg.finish(horizon, eng.events_processed())
        .map_err(|e| Error::Internal(format!("simulation fault: {e}")))
}

/// As [`drive`] for a scenario with `[database]` (SPEC §5).
fn drive_db<O: Observer, Q: EventQueue<Event>>(
    cfg: &Config,
    observer: O,
    seed: u64,
    horizon: SimTime,
    tick: Option<&mut dyn FnMut(SimTime, u64) -> bool>,
) -> Result<(RunStats, O), Error> {
    let Some(db) = &cfg.database else {
        return Err(Error::Internal("no [database] to simulate".into()));
    };
    let mut m = DbModel::new(cfg, db, observer);
    let mut eng: Engine<Event, Q> = Engine::new(seed);
    m.start(&mut eng);
    match tick {
        None => eng.run_until(&mut m, horizon),
        Some(t) => eng.run_until_ticking(&mut m, horizon, TICK_EVENTS, t),
    }
    m.finish(horizon, eng.events_processed())
        .map_err(|e| Error::Internal(format!("simulation fault: {e}")))
}

/// Runs `cfg` over `[0, horizon)` on the random streams of `seed`,
/// reporting every state change to `observer`.
pub fn simulate_observed<O: Observer, Q: EventQueue<Event>>(
    cfg: &Config,
    seed: u64,
    horizon: SimTime,
    observer: O,
) -> Result<(RunStats, O), Error> {
    if cfg.database.is_some() {
        return drive_db::<O, Q>(cfg, observer, seed, horizon, None);
    }
    drive::<O, Q>(Volume::new(cfg, observer), seed, horizon, None)
}

/// As [`simulate_observed`] with the default queue, calling
/// `tick(now, events)` every million or so events (for a progress bar; it
/// stops the run early by returning `false`).
pub fn simulate_ticking<O: Observer>(
    cfg: &Config,
    seed: u64,
    horizon: SimTime,
    observer: O,
    tick: &mut dyn FnMut(SimTime, u64) -> bool,
) -> Result<(RunStats, O), Error> {
    if cfg.database.is_some() {
        return drive_db::<O, SlotHeap<Event>>(cfg, observer, seed, horizon, Some(tick));
    }
    let pg = Volume::new(cfg, observer);
    drive::<O, SlotHeap<Event>>(pg, seed, horizon, Some(tick))
}

/// Runs `cfg` with no timeline (the fast path), on the streams of `seed`.
pub fn simulate(cfg: &Config, seed: u64, horizon: SimTime) -> Result<RunStats, Error> {
    simulate_observed::<_, SlotHeap<Event>>(cfg, seed, horizon, NoObserver).map(|(s, _)| s)
}

/// Time of the first data loss of a run on `seed` (stopping there), or
/// `None` if none happens before `horizon`.
pub fn first_loss(cfg: &Config, seed: u64, horizon: SimTime) -> Result<Option<SimTime>, Error> {
    let pg = Volume::new(cfg, NoObserver).stop_at_first_loss();
    drive::<_, SlotHeap<Event>>(pg, seed, horizon, None).map(|(s, _)| s.first_data_loss)
}
