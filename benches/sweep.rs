//! Sweep throughput in trials per second on `scenarios/baseline.toml`
//! (1 simulated year per trial): the sweep on 1 and 2 threads, and a plain
//! loop of `simulate` calls as the per-thread reference.

use aurora_sim::analysis::run::simulate;
use aurora_sim::analysis::sweep::{Plan, Progress, Shard, execute, trial_seed};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const TRIALS: u64 = 20_000;

fn bench_sweep(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/baseline.toml");
    let src = std::fs::read_to_string(path).unwrap();
    let plan =
        Plan::new(path, &src, vec![], vec![], TRIALS, None, Shard::ALL).expect("baseline plan");
    let sc = &plan.points[0].1;
    let mut g = c.benchmark_group("sweep-baseline");
    g.throughput(Throughput::Elements(TRIALS));
    g.sample_size(10);
    g.bench_function("plain-run-loop", |b| {
        b.iter(|| {
            for t in 0..TRIALS {
                black_box(simulate(&sc.config, trial_seed(plan.seed, t), sc.horizon).unwrap());
            }
        })
    });
    for threads in [1usize, 2] {
        g.bench_function(format!("threads-{threads}"), |b| {
            b.iter(|| {
                black_box(execute(&plan, Some(threads), &Progress::new(&plan, true)).unwrap())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_sweep);
criterion_main!(benches);
