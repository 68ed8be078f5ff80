//! Engine and whole-run throughput (events per second).
//!
//! - `queue/*`: the engine alone on a synthetic six-node up/down model with
//!   cancellations, once per queue implementation (std `BinaryHeap` with lazy
//!   cancellation vs the `priority-queue` crate).
//! - `run/baseline-1000y`: the full protection-group model on
//!   `scenarios/baseline.toml` stretched to 1,000 simulated years, no timeline.

use aurora_sim::analysis::run::{simulate, simulate_observed};
use aurora_sim::engine::{Engine, EventQueue, HeapQueue, IndexedQueue, Model, Slot};
use aurora_sim::model::{Event, NoObserver};
use aurora_sim::scenario::{Overrides, load};
use aurora_sim::time::{SimTime, parse_duration};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;
use std::hint::black_box;
use std::path::Path;

/// Six nodes flipping up/down; each flip also re-arms a far "watchdog" timer
/// in a slot (cancelling the previous one), exercising cancellation.
struct Flipper {
    up: [bool; 6],
}

#[derive(Clone, Copy)]
enum Ev {
    Flip(u8),
    Watchdog,
}

impl Model for Flipper {
    type Event = Ev;
    fn handle<Q: EventQueue<Ev>>(&mut self, ev: Ev, e: &mut Engine<Ev, Q>) {
        if let Ev::Flip(i) = ev {
            let i = i as usize;
            self.up[i] = !self.up[i];
            let mean = if self.up[i] { 1_000_000.0 } else { 100_000.0 };
            let d = (-mean * (1.0 - e.rng().random::<f64>()).ln()) as u64 + 1;
            let at = SimTime(e.now().0 + d);
            let _ = e.schedule(at, 2, Ev::Flip(i as u8));
            let _ = e.schedule_in(
                Slot(i as u32),
                SimTime(e.now().0 + 50_000_000),
                2,
                Ev::Watchdog,
            );
        }
    }
}

fn engine_events<Q: EventQueue<Ev>>(horizon: u64) -> u64 {
    let mut e: Engine<Ev, Q> = Engine::new(1, 0);
    for i in 0..6u8 {
        e.schedule(SimTime(i as u64), 2, Ev::Flip(i)).unwrap();
    }
    let mut m = Flipper { up: [true; 6] };
    e.run_until(&mut m, SimTime(horizon));
    e.events_processed()
}

fn bench_queue(c: &mut Criterion) {
    let horizon = 10_000_000_000u64;
    let n = engine_events::<HeapQueue<Ev>>(horizon);
    let mut g = c.benchmark_group("queue");
    g.throughput(Throughput::Elements(n));
    g.bench_function("binary-heap-lazy", |b| {
        b.iter(|| black_box(engine_events::<HeapQueue<Ev>>(horizon)))
    });
    g.bench_function("priority-queue-crate", |b| {
        b.iter(|| black_box(engine_events::<IndexedQueue<Ev>>(horizon)))
    });
    g.finish();
}

fn bench_run(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    let ov = Overrides {
        horizon: Some(parse_duration("1000y").unwrap()),
        seed: None,
    };
    let sc = load(&path, &ov).expect("baseline scenario");
    let n = simulate(&sc.config, sc.seed, sc.horizon)
        .unwrap()
        .events_processed;
    let mut g = c.benchmark_group("run");
    g.throughput(Throughput::Elements(n));
    g.sample_size(20);
    g.bench_function("baseline-1000y", |b| {
        b.iter(|| black_box(simulate(&sc.config, sc.seed, sc.horizon).unwrap()))
    });
    g.bench_function("baseline-1000y-priority-queue", |b| {
        b.iter(|| {
            black_box(
                simulate_observed::<_, IndexedQueue<Event>>(
                    &sc.config, sc.seed, 0, sc.horizon, NoObserver,
                )
                .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench_queue, bench_run);
criterion_main!(benches);
