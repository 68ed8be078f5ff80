//! One simulation run of a protection group.

use crate::engine::{Engine, EventQueue, SlotHeap};
use crate::error::Error;
use crate::model::{Config, Event, NoObserver, Observer, ProtectionGroup, RunStats};
use crate::time::SimTime;

/// Drives a prepared group over `[0, horizon)` on stream `stream` of `seed`.
fn drive<O: Observer, Q: EventQueue<Event>>(
    mut pg: ProtectionGroup<'_, O>,
    seed: u64,
    stream: u64,
    horizon: SimTime,
) -> Result<(RunStats, O), Error> {
    let mut eng: Engine<Event, Q> = Engine::new(seed, stream);
    pg.start(&mut eng);
    eng.run_until(&mut pg, horizon);
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
    drive::<O, Q>(ProtectionGroup::new(cfg, observer), seed, stream, horizon)
}

/// Runs `cfg` with no timeline (the fast path), on stream 0 of `seed`.
pub fn simulate(cfg: &Config, seed: u64, horizon: SimTime) -> Result<RunStats, Error> {
    simulate_observed::<_, SlotHeap<Event>>(cfg, seed, 0, horizon, NoObserver).map(|(s, _)| s)
}

/// Time of the first data loss of a run on `seed` (stopping there), or
/// `None` if none happens before `horizon`.
pub fn first_loss(cfg: &Config, seed: u64, horizon: SimTime) -> Result<Option<SimTime>, Error> {
    let pg = ProtectionGroup::new(cfg, NoObserver).stop_at_first_loss();
    drive::<_, SlotHeap<Event>>(pg, seed, 0, horizon).map(|(s, _)| s.first_data_loss)
}
