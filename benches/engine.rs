//! Engine and whole-run throughput (events per second), and the ratio to the
//! performance anchor measured in the same process.
//!
//! - `anchor/heap-loop`: `heap_loop` from the project's shared performance
//!   references, copied verbatim in [`heap_loop`] (six nodes crash and
//!   recover, std `BinaryHeap`, up counts, unavailable time).
//! - `queue/*`: the engine alone on a synthetic six-node up/down model with a
//!   far watchdog timer re-armed at every flip, once per queue
//!   implementation (the indexed `SlotHeap` vs the lazy `BinaryHeap`).
//! - `run/*`: the full protection-group model on shipped scenarios stretched
//!   to long horizons, and a crash/recover-only scenario (the anchor's model).
//!
//! After criterion, a ratio table: each run against the anchor, alternating
//! them 7 times and taking medians of events/s, so load on the machine
//! affects both sides alike.

use aurora_sim::analysis::run::simulate;
use aurora_sim::engine::{Engine, EventQueue, HeapQueue, Model, Slot, SlotHeap};
use aurora_sim::scenario::{Overrides, Scenario, load, parse};
use aurora_sim::time::{SimTime, parse_duration};
use criterion::{Criterion, Throughput};
use rand::RngExt;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

/// `heap_loop`'s main body, unchanged but for returning instead of
/// printing: events processed per second of wall time.
fn heap_loop(n_events: u64) -> f64 {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    struct SplitMix(u64);
    impl SplitMix {
        fn next_f64(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
        }
        fn exp(&mut self, mean: f64) -> f64 {
            -mean * self.next_f64().ln()
        }
    }
    let every_s = 180.0 * 86400.0;
    let lasts_s = 600.0;
    let mut rng = SplitMix(42);
    let mut heap: BinaryHeap<Reverse<(u64, u64, usize)>> = BinaryHeap::new();
    let mut up = [true; 6];
    let mut seq = 0u64;
    for node in 0..6 {
        heap.push(Reverse((rng.exp(every_s).to_bits(), seq, node)));
        seq += 1;
    }
    let (mut n_up, mut now) = (6usize, 0.0f64);
    let (mut write_down_s, mut read_down_s) = (0.0f64, 0.0f64);
    let start = Instant::now();
    for _ in 0..n_events {
        let Reverse((t_bits, _, node)) = heap.pop().expect("queue never empties");
        let t = f64::from_bits(t_bits);
        if n_up < 4 {
            write_down_s += t - now;
        }
        if n_up < 3 {
            read_down_s += t - now;
        }
        now = t;
        up[node] = !up[node];
        let next = if up[node] {
            n_up += 1;
            rng.exp(every_s)
        } else {
            n_up -= 1;
            rng.exp(lasts_s)
        };
        heap.push(Reverse(((now + next).to_bits(), seq, node)));
        seq += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    black_box((write_down_s, read_down_s));
    n_events as f64 / secs
}

/// Six nodes flipping up/down; each flip also re-arms a far "watchdog" timer
/// in a slot (cancelling the previous one), exercising in-place reschedule.
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

/// The crash/recover-only model of the anchor, as a scenario.
const CRASH_ONLY: &str = r#"
name = "crash-only"
horizon = "100000y"
[failures.node_crash]
every = "180d"
lasts = "10m"
"#;

/// The benchmarked runs: name, scenario, horizon.
fn runs() -> Vec<(&'static str, Scenario)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let with = |file: &str, horizon: &str| {
        let ov = Overrides {
            horizon: Some(parse_duration(horizon).unwrap()),
            seed: None,
        };
        load(&dir.join(file), &ov).expect("shipped scenario")
    };
    let crash_only = parse(CRASH_ONLY, "crash-only", &Overrides::default()).unwrap();
    vec![
        ("baseline-100000y", with("baseline.toml", "100000y")),
        ("all-four-100000y", with("all-four.toml", "100000y")),
        ("fleet-rates-10000y", with("fleet-rates.toml", "10000y")),
        ("crash-only-100000y", crash_only),
    ]
}

fn events_per_s(sc: &Scenario) -> f64 {
    let t = Instant::now();
    let st = simulate(&sc.config, sc.seed, sc.horizon).unwrap();
    st.events_processed as f64 / t.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let anchor_events = 30_000_000;
    {
        let mut g = c.benchmark_group("anchor");
        g.throughput(Throughput::Elements(anchor_events));
        g.sample_size(10);
        g.bench_function("heap-loop", |b| {
            b.iter(|| black_box(heap_loop(anchor_events)))
        });
        g.finish();
    }
    {
        let horizon = 10_000_000_000u64;
        let n = engine_events::<SlotHeap<Ev>>(horizon);
        let mut g = c.benchmark_group("queue");
        g.throughput(Throughput::Elements(n));
        g.bench_function("slot-heap", |b| {
            b.iter(|| black_box(engine_events::<SlotHeap<Ev>>(horizon)))
        });
        g.bench_function("binary-heap-lazy", |b| {
            b.iter(|| black_box(engine_events::<HeapQueue<Ev>>(horizon)))
        });
        g.finish();
    }
    let runs = runs();
    {
        let mut g = c.benchmark_group("run");
        g.sample_size(10);
        for (name, sc) in &runs {
            let n = simulate(&sc.config, sc.seed, sc.horizon)
                .unwrap()
                .events_processed;
            g.throughput(Throughput::Elements(n));
            g.bench_function(*name, |b| {
                b.iter(|| black_box(simulate(&sc.config, sc.seed, sc.horizon).unwrap()))
            });
        }
        g.finish();
    }
    c.final_summary();

    println!("\nratio to the anchor (heap_loop), alternating, median of 7:");
    println!(
        "{:<22} {:>12} {:>12} {:>7}",
        "run", "events/s", "anchor ev/s", "ratio"
    );
    for (name, sc) in &runs {
        let (mut ours, mut anchor) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            anchor.push(heap_loop(anchor_events));
            ours.push(events_per_s(sc));
        }
        let (o, a) = (median(ours), median(anchor));
        println!("{name:<22} {o:>12.0} {a:>12.0} {:>7.3}", o / a);
    }
}
