//! A generic discrete-event engine: a future-event queue, the clock, and the
//! run's random streams (one per named source, [`Streams`]).
//!
//! The engine knows nothing about storage, quorums or Aurora; a [`Model`]
//! receives its events one at a time and schedules new ones through the
//! [`Engine`] it is handed.
//!
//! **Equal-time order.** Events are ordered by `(time, class, seq)`: at the
//! same instant a lower [`Class`] pops first, and within a class events pop in
//! the order they were scheduled (`seq` is a global insertion counter). This is
//! a documented key, not luck, so a run is reproducible bit for bit.
//!
//! **Cancellation.** An event may be scheduled into a [`Slot`]: a slot holds at
//! most one pending event, scheduling into it again replaces that event, and
//! [`Engine::cancel`] drops it. The default queue, [`SlotHeap`], keeps each
//! slot's heap position, so both are done in place in O(log n) and the heap
//! holds live events only; nothing allocates once the heap has grown.

mod queue;
mod slot_heap;
mod streams;

pub use queue::{EventQueue, HeapQueue};
pub use slot_heap::SlotHeap;
pub use streams::{SourceRng, Streams, combine, stream_id};

use crate::time::SimTime;

/// The order class of an event among those at the same instant (lower first).
pub type Class = u8;

/// A cancellation handle: at most one pending event per slot.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slot(pub u32);

/// A simulation model driven by the engine.
pub trait Model {
    /// The model's event type (kept small and `Copy`: no allocation per event).
    type Event: Copy;
    /// Applies one event at `engine.now()`.
    fn handle<Q: EventQueue<Self::Event>>(
        &mut self,
        ev: Self::Event,
        engine: &mut Engine<Self::Event, Q>,
    );

    /// Whether the run should end early (checked after every event).
    fn stopped(&self) -> bool {
        false
    }
}

/// Errors the engine reports instead of panicking.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EngineError {
    /// A model tried to schedule an event before the current time.
    #[error("event scheduled in the past: at {at:?} < now {now:?}")]
    InThePast {
        /// The requested time.
        at: SimTime,
        /// The engine's clock.
        now: SimTime,
    },
}

/// The clock, the future-event queue and the run's random streams.
pub struct Engine<E, Q: EventQueue<E> = SlotHeap<E>> {
    now: SimTime,
    queue: Q,
    streams: Streams,
    processed: u64,
    _ev: std::marker::PhantomData<E>,
}

impl<E, Q: EventQueue<E>> Engine<E, Q> {
    /// A new engine at time zero whose random streams are keyed by `seed`
    /// (one run, or one trial of many: see [`Streams`]).
    pub fn new(seed: u64) -> Self {
        Engine {
            now: SimTime::ZERO,
            queue: Q::default(),
            streams: Streams::new(seed),
            processed: 0,
            _ev: std::marker::PhantomData,
        }
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of events handed to the model so far (cancelled ones excluded).
    pub fn events_processed(&self) -> u64 {
        self.processed
    }

    /// The random stream of the model's source number `source`; `id` names
    /// it (its ChaCha stream number, see [`stream_id`]) the first time.
    #[inline]
    pub fn stream(&mut self, source: usize, id: impl FnOnce() -> u64) -> &mut SourceRng {
        self.streams.get(source, id)
    }

    /// Makes room for the model's source numbers below `sources`.
    pub fn reserve_streams(&mut self, sources: usize) {
        self.streams.reserve(sources);
    }

    /// A stream the model keeps for itself (e.g. a placement), by stream number.
    pub fn detached_stream(&self, id: u64) -> SourceRng {
        self.streams.detached(id)
    }

    /// Schedules `ev` at `at` (not before now) in order class `class`.
    #[inline]
    pub fn schedule(&mut self, at: SimTime, class: Class, ev: E) -> Result<(), EngineError> {
        self.check(at)?;
        self.queue.push(at, class, None, ev);
        Ok(())
    }

    /// Schedules `ev` into `slot`, replacing the slot's pending event if any.
    #[inline]
    pub fn schedule_in(
        &mut self,
        slot: Slot,
        at: SimTime,
        class: Class,
        ev: E,
    ) -> Result<(), EngineError> {
        self.check(at)?;
        self.queue.push(at, class, Some(slot), ev);
        Ok(())
    }

    /// Makes room in the queue for `slots` slots and `events` pending events.
    pub fn reserve(&mut self, slots: usize, events: usize) {
        self.queue.reserve(slots, events);
    }

    /// The time of the next pending event, if any.
    pub fn next_time(&mut self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// When `slot`'s pending event is due, if it has one.
    #[inline]
    pub fn time_of(&self, slot: Slot) -> Option<SimTime> {
        self.queue.time_of(slot)
    }

    /// Drops the pending event of `slot`, if any.
    #[inline]
    pub fn cancel(&mut self, slot: Slot) {
        self.queue.cancel(slot);
    }

    #[inline]
    fn check(&self, at: SimTime) -> Result<(), EngineError> {
        if at < self.now {
            return Err(EngineError::InThePast { at, now: self.now });
        }
        Ok(())
    }

    /// Runs the model until the queue is empty, the next event is at or after
    /// `horizon` (the run covers `[0, horizon)`), or the model says it has
    /// stopped; the clock stops at the last event handled.
    pub fn run_until<M: Model<Event = E>>(&mut self, model: &mut M, horizon: SimTime) {
        self.run_until_ticking(model, horizon, u64::MAX, |_, _| true);
    }

    /// As [`Engine::run_until`], calling `tick(now, events processed)` after
    /// every `every` events (a progress report; it cannot change the run,
    /// only stop it early by returning `false`).
    pub fn run_until_ticking<M: Model<Event = E>>(
        &mut self,
        model: &mut M,
        horizon: SimTime,
        every: u64,
        mut tick: impl FnMut(SimTime, u64) -> bool,
    ) {
        let every = every.max(1);
        let mut left = every;
        while let Some((at, ev)) = self.queue.pop_before(horizon) {
            self.now = at;
            self.processed += 1;
            model.handle(ev, self);
            if model.stopped() {
                break;
            }
            left -= 1;
            if left == 0 {
                left = every;
                if !tick(self.now, self.processed) {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    /// Records the order events arrive in; event `n` re-schedules itself once.
    struct Recorder {
        seen: Vec<(u64, u32)>,
    }

    impl Model for Recorder {
        type Event = u32;
        fn handle<Q: EventQueue<u32>>(&mut self, ev: u32, e: &mut Engine<u32, Q>) {
            self.seen.push((e.now().0, ev));
            if ev == 100 {
                // Scheduled "now": must come after everything already queued at this time.
                e.schedule(e.now(), 1, 101).unwrap();
            }
        }
    }

    fn order_with<Q: EventQueue<u32>>() -> Vec<(u64, u32)> {
        let mut e: Engine<u32, Q> = Engine::new(1);
        e.schedule(SimTime(10), 1, 1).unwrap();
        e.schedule(SimTime(10), 0, 2).unwrap(); // class 0 beats class 1 at equal time
        e.schedule(SimTime(5), 1, 100).unwrap();
        e.schedule(SimTime(5), 1, 3).unwrap();
        e.schedule_in(Slot(0), SimTime(7), 1, 4).unwrap();
        e.schedule_in(Slot(0), SimTime(8), 1, 5).unwrap(); // replaces 4
        e.schedule_in(Slot(1), SimTime(9), 1, 6).unwrap();
        e.cancel(Slot(1)); // drops 6
        e.schedule(SimTime(20), 1, 7).unwrap(); // at the horizon: not run
        let mut m = Recorder { seen: vec![] };
        e.run_until(&mut m, SimTime(20));
        assert_eq!(e.events_processed(), 6);
        m.seen
    }

    #[test]
    fn equal_time_order_is_class_then_fifo_and_cancel_works() {
        let expected = vec![(5, 100), (5, 3), (5, 101), (8, 5), (10, 2), (10, 1)];
        assert_eq!(order_with::<HeapQueue<u32>>(), expected);
        assert_eq!(order_with::<SlotHeap<u32>>(), expected);
    }

    /// See: issue 11 (progress on long runs): ticking reports every `every`
    /// events and changes nothing about the run.
    #[test]
    fn ticking_reports_progress_without_changing_the_run() {
        struct Chain(Vec<u64>);
        impl Model for Chain {
            type Event = u8;
            fn handle<Q: EventQueue<u8>>(&mut self, _: u8, e: &mut Engine<u8, Q>) {
                self.0.push(e.now().0);
                let next = SimTime(e.now().0 + 1 + e.stream(0, || 1).random::<u64>() % 10);
                e.schedule(next, 0, 0).unwrap();
            }
        }
        let run = |tick: bool| {
            let mut e: Engine<u8> = Engine::new(3);
            e.schedule(SimTime(0), 0, 0).unwrap();
            let mut m = Chain(Vec::new());
            let mut ticks = Vec::new();
            if tick {
                e.run_until_ticking(&mut m, SimTime(10_000), 100, |t, _| {
                    ticks.push(t.0);
                    true
                });
            } else {
                e.run_until(&mut m, SimTime(10_000));
            }
            (m.0, e.events_processed(), ticks)
        };
        let (plain, n, _) = run(false);
        let (ticked, n2, ticks) = run(true);
        assert_eq!((plain.clone(), n), (ticked.clone(), n2));
        // One tick after events 100, 200, …: at the time of each 100th event.
        assert_eq!(ticks.len() as u64, n / 100);
        assert!(
            ticks
                .iter()
                .enumerate()
                .all(|(i, &t)| t == ticked[100 * i + 99])
        );
        // A tick that says stop ends the run right after that event: the
        // third tick comes after event 300, so exactly 300 are handled, the
        // same first 300 as in the full run.
        let mut e: Engine<u8> = Engine::new(3);
        e.schedule(SimTime(0), 0, 0).unwrap();
        let mut m = Chain(Vec::new());
        e.run_until_ticking(&mut m, SimTime(10_000), 100, |_, done| done < 300);
        assert_eq!(e.events_processed(), 300);
        assert_eq!(m.0[..], plain[..300]);
    }

    #[test]
    fn scheduling_in_the_past_is_an_error() {
        struct Past;
        impl Model for Past {
            type Event = u8;
            fn handle<Q: EventQueue<u8>>(&mut self, _: u8, e: &mut Engine<u8, Q>) {
                assert!(e.schedule(SimTime(1), 0, 0).is_err());
            }
        }
        let mut e: Engine<u8> = Engine::new(0);
        e.schedule(SimTime(5), 0, 0).unwrap();
        e.run_until(&mut Past, SimTime(10));
    }
}
