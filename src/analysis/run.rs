//! One simulation run of a protection group.

use crate::engine::{Engine, EventQueue, SlotHeap};
use crate::error::Error;
use crate::model::{Config, Event, NoObserver, Observer, RunStats, Volume};
use crate::time::SimTime;

/// Events between two progress reports of a long run (~0.1 s).
const TICK_EVENTS: u64 = 1 << 20;

/// Drives a prepared group over `[0, horizon)` on stream `stream` of `seed`.
fn drive<O: Observer, Q: EventQueue<Event>>(
    mut pg: Volume<'_, O>,
    seed: u64,
    stream: u64,
    horizon: SimTime,
    tick: Option<&mut dyn FnMut(SimTime, u64) -> bool>,
) -> Result<(RunStats, O), Error> {
    let mut eng: Engine<Event, Q> = Engine::new(seed, stream);
    pg.start(&mut eng);
    match tick {
        None => eng.run_until(&mut pg, horizon),
        Some(t) => eng.run_until_ticking(&mut pg, horizon, TICK_EVENTS, t),
    }
    pg.finish(horizon, eng.events_processed())
        .map_err(|e| Error::Internal(format!("simulation fault: {e}")))
}

/// Runs `cfg` over `[0, horizon)` on random stream `stream` of `seed`,
/// reporting every state change to `observer`.
pub fn simulate_observed<O: Observer, Q: EventQueue<Event>>(
    cfg: &Config,
    seed: u64,
    stream: u64,
    horizon: SimTime,
    observer: O,
) -> Result<(RunStats, O), Error> {
    drive::<O, Q>(Volume::new(cfg, observer), seed, stream, horizon, None)
}

/// As [`simulate_observed`] on stream 0 with the default queue, calling
/// `tick(now, events)` every million or so events (for a progress bar; it
/// stops the run early by returning `false`).
pub fn simulate_ticking<O: Observer>(
    cfg: &Config,
    seed: u64,
    horizon: SimTime,
    observer: O,
    tick: &mut dyn FnMut(SimTime, u64) -> bool,
) -> Result<(RunStats, O), Error> {
    let pg = Volume::new(cfg, observer);
    drive::<O, SlotHeap<Event>>(pg, seed, 0, horizon, Some(tick))
}

/// Runs `cfg` with no timeline (the fast path), on stream 0 of `seed`.
pub fn simulate(cfg: &Config, seed: u64, horizon: SimTime) -> Result<RunStats, Error> {
    simulate_observed::<_, SlotHeap<Event>>(cfg, seed, 0, horizon, NoObserver).map(|(s, _)| s)
}

/// Time of the first data loss of a run on `seed` (stopping there), or
/// `None` if none happens before `horizon`.
pub fn first_loss(cfg: &Config, seed: u64, horizon: SimTime) -> Result<Option<SimTime>, Error> {
    let pg = Volume::new(cfg, NoObserver).stop_at_first_loss();
    drive::<_, SlotHeap<Event>>(pg, seed, 0, horizon, None).map(|(s, _)| s.first_data_loss)
}
