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
//! - `volume/*`: `fleet_loop` from the shared references, copied verbatim in
//!   [`fleet_loop`] (a 64 TiB volume, 6,554 PGs on 3 × 100 nodes, crash /
//!   recover only), and our model on the same set-up ([`volume_scenario`]),
//!   in segment updates (a node event updates each segment on the node).
//!
//! - `timeline/*`: the baseline run streaming its `--timeline` CSV into a
//!   new file in a temporary folder (atomic file, syncs and rename included, as
//!   the CLI does), against the same run without a timeline.
//!
//! After criterion, ratio tables: each run against the anchor, and the
//! volume model against `fleet_loop` over ~2 M node events, alternating them
//! 7 times and taking medians of events/s (segment updates/s), so load on
//! the machine affects both sides alike.

use aurora_sim::analysis::run::{simulate, simulate_observed};
use aurora_sim::engine::{Engine, EventQueue, HeapQueue, Model, Slot, SlotHeap};
use aurora_sim::model::{Placement, Storage};
use aurora_sim::output::file::{AtomicFile, Format, OutputPath};
use aurora_sim::output::timeline::TimelineCsv;
use aurora_sim::scenario::{Overrides, Scenario, load, parse};
use aurora_sim::time::{SimTime, parse_duration};
use criterion::{Criterion, Throughput};
use rand::RngExt;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

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

/// `fleet_loop`'s main body, unchanged but for taking its arguments and
/// returning instead of printing: segment updates per second of wall time.
fn fleet_loop(n_events: u64, per_az: usize, pgs: usize) -> f64 {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    struct SplitMix(u64);
    impl SplitMix {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn next_f64(&mut self) -> f64 {
            ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next_u64() % n as u64) as usize
        }
        fn exp(&mut self, mean: f64) -> f64 {
            -mean * self.next_f64().ln()
        }
    }
    let every_s = 180.0 * 86400.0;
    let lasts_s = 600.0;
    let mut rng = SplitMix(42);
    let nodes = 3 * per_az;
    // Random placement: 2 distinct nodes per AZ per PG.
    let mut on_node: Vec<Vec<u32>> = vec![Vec::new(); nodes];
    for pg in 0..pgs {
        for az in 0..3 {
            let a = rng.below(per_az);
            let mut b = rng.below(per_az - 1);
            if b >= a {
                b += 1;
            }
            on_node[az * per_az + a].push(pg as u32);
            on_node[az * per_az + b].push(pg as u32);
        }
    }
    let mut up_count = vec![6u8; pgs];
    let (mut below_w, mut below_r) = (0usize, 0usize);
    let mut up = vec![true; nodes];
    let mut heap: BinaryHeap<Reverse<(u64, u64, u32)>> = BinaryHeap::new();
    let mut seq = 0u64;
    for node in 0..nodes {
        heap.push(Reverse((rng.exp(every_s).to_bits(), seq, node as u32)));
        seq += 1;
    }
    let mut now = 0.0f64;
    let (mut w_down, mut r_down) = (0.0f64, 0.0f64);
    let mut seg_updates = 0u64;
    let start = Instant::now();
    for _ in 0..n_events {
        let Reverse((t_bits, _, node)) = heap.pop().expect("queue never empties");
        let t = f64::from_bits(t_bits);
        if below_w > 0 {
            w_down += t - now;
        }
        if below_r > 0 {
            r_down += t - now;
        }
        now = t;
        let node = node as usize;
        up[node] = !up[node];
        for &pg in &on_node[node] {
            let c = &mut up_count[pg as usize];
            if up[node] {
                *c += 1;
                if *c == 4 {
                    below_w -= 1;
                }
                if *c == 3 {
                    below_r -= 1;
                }
            } else {
                if *c == 4 {
                    below_w += 1;
                }
                if *c == 3 {
                    below_r += 1;
                }
                *c -= 1;
            }
        }
        seg_updates += on_node[node].len() as u64;
        let next = if up[node] {
            rng.exp(every_s)
        } else {
            rng.exp(lasts_s)
        };
        heap.push(Reverse(((now + next).to_bits(), seq, node as u32)));
        seq += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    black_box((w_down, r_down, now));
    seg_updates as f64 / secs
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
            let d = (-mean * (1.0 - e.stream(i, || i as u64).random::<f64>()).ln()) as u64 + 1;
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
    let mut e: Engine<Ev, Q> = Engine::new(1);
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

/// `fleet_loop`'s set-up in our model: the crash/recover-only scenario on a
/// 64 TiB volume (6,554 PGs) placed at random on 3 × 100 nodes, over a
/// horizon of about `node_events` node events (300 nodes, each crashing
/// every 180 d: 300 × 2 / 180 d).
fn volume_scenario(node_events: u64) -> Scenario {
    let mut sc = parse(CRASH_ONLY, "crash-only", &Overrides::default()).unwrap();
    let st = &mut sc.config.storage;
    *st = Storage::fleet(&sc.config.layout, 100);
    st.pgs = 6554;
    st.placement = Placement::Random;
    let years = node_events as f64 / (300.0 * 2.0 * 365.0 / 180.0);
    sc.horizon = parse_duration(&format!("{}y", years.round())).unwrap();
    sc
}

/// Segments per node on average: each node event updates the node's.
fn segments_per_node(sc: &Scenario) -> f64 {
    let st = &sc.config.storage;
    (sc.config.layout.replicas() * st.pgs) as f64 / st.nodes() as f64
}

/// Our segment updates per second: node events (every counted event is a
/// node crash or return) × segments per node.
fn segment_updates_per_s(sc: &Scenario) -> f64 {
    let t = Instant::now();
    let st = simulate(&sc.config, sc.seed, sc.horizon).unwrap();
    st.events_processed as f64 * segments_per_node(sc) / t.elapsed().as_secs_f64()
}

fn events_per_s(sc: &Scenario) -> f64 {
    let t = Instant::now();
    let st = simulate(&sc.config, sc.seed, sc.horizon).unwrap();
    st.events_processed as f64 / t.elapsed().as_secs_f64()
}

/// Seconds for one run of `sc` writing its timeline to `dir/timeline.csv`
/// as `run --timeline` does. The previous run's file is removed first,
/// untimed: renaming over a file of 28 MB costs the file system ~6 ms to
/// drop the old one, a cost of the old file, not of the timeline.
fn timeline_run_s(sc: &Scenario, dir: &Path) -> f64 {
    let _ = std::fs::remove_file(dir.join("timeline.csv"));
    let t = Instant::now();
    let target = OutputPath::check("--timeline", &dir.join("timeline.csv"), Format::Any, &[])
        .expect("temp folder");
    let file = AtomicFile::create(&target).expect("temp file");
    let tl = TimelineCsv::to_file(&sc.config, file, true).expect("writer thread");
    let (_, tl) = simulate_observed::<_, SlotHeap<_>>(&sc.config, sc.seed, sc.horizon, tl).unwrap();
    tl.finish_file()
        .expect("written")
        .commit()
        .expect("renamed");
    t.elapsed().as_secs_f64()
}

fn plain_run_s(sc: &Scenario) -> f64 {
    let t = Instant::now();
    black_box(simulate(&sc.config, sc.seed, sc.horizon).unwrap());
    t.elapsed().as_secs_f64()
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
    {
        // 200 k node events per sample here; the ratio table below uses 2 M.
        let events = 200_000;
        let sc = volume_scenario(events);
        let n = simulate(&sc.config, sc.seed, sc.horizon)
            .unwrap()
            .events_processed;
        let mut g = c.benchmark_group("volume");
        g.sample_size(10);
        let per_node = segments_per_node(&sc);
        g.throughput(Throughput::Elements((events as f64 * per_node) as u64));
        g.bench_function("fleet-loop", |b| {
            b.iter(|| black_box(fleet_loop(events, 100, 6554)))
        });
        g.throughput(Throughput::Elements((n as f64 * per_node) as u64));
        g.bench_function("run-64tib", |b| {
            b.iter(|| black_box(simulate(&sc.config, sc.seed, sc.horizon).unwrap()))
        });
        g.finish();
    }
    let tl_dir = tempfile::tempdir().expect("temp folder");
    // 10,000 years of baseline: ~275 k events, ~28 MB of CSV per run.
    let tl_scenario = runs
        .iter()
        .find(|(name, _)| *name == "baseline-100000y")
        .map(|(_, sc)| {
            let mut sc = sc.clone();
            sc.horizon = parse_duration("10000y").unwrap();
            sc
        })
        .expect("baseline run");
    {
        let sc = &tl_scenario;
        let mut g = c.benchmark_group("timeline");
        g.sample_size(10);
        g.bench_function("baseline-10000y-plain", |b| {
            b.iter(|| black_box(simulate(&sc.config, sc.seed, sc.horizon).unwrap()))
        });
        g.bench_function("baseline-10000y-file", |b| {
            // Timed by the run itself (the old file's removal is not).
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| Duration::from_secs_f64(timeline_run_s(sc, tl_dir.path())))
                    .sum()
            })
        });
        g.finish();
    }
    c.final_summary();

    println!("\nratio to the anchor (heap_loop), alternating, median of 7:");
    println!(
        "{:<22} {:>12} {:>12} {:>7}",
        "run", "events/s", "anchor ev/s", "ratio"
    );
    // Criterion's name filter (`cargo bench --bench engine -- volume`)
    // selects the table rows too.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    for (name, sc) in runs.iter().filter(|(name, _)| wanted(name)) {
        let (mut ours, mut anchor) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            anchor.push(heap_loop(anchor_events));
            ours.push(events_per_s(sc));
        }
        let (o, a) = (median(ours), median(anchor));
        println!("{name:<22} {o:>12.0} {a:>12.0} {:>7.3}", o / a);
    }

    if wanted("baseline-10000y") {
        println!(
            "\ntimeline: a run writing --timeline to a file against the plain run, alternating, median of 7:"
        );
        println!(
            "{:<22} {:>12} {:>12} {:>7}",
            "run", "timeline s", "plain s", "ratio"
        );
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            without.push(plain_run_s(&tl_scenario));
            with.push(timeline_run_s(&tl_scenario, tl_dir.path()));
        }
        let (w, p) = (median(with), median(without));
        println!(
            "{:<22} {w:>12.4} {p:>12.4} {:>7.2}",
            "baseline-10000y",
            w / p
        );
    }

    if !wanted("volume-64tib") {
        return;
    }
    println!("\nvolume: segment updates/s against fleet_loop, ~2 M node events, median of 7:");
    println!(
        "{:<22} {:>12} {:>12} {:>7}",
        "run", "updates/s", "fleet ups/s", "ratio"
    );
    let sc = volume_scenario(2_000_000);
    let (mut ours, mut anchor) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        anchor.push(fleet_loop(2_000_000, 100, 6554));
        ours.push(segment_updates_per_s(&sc));
    }
    let (o, a) = (median(ours), median(anchor));
    println!("{:<22} {o:>12.0} {a:>12.0} {:>7.3}", "volume-64tib", o / a);
}
