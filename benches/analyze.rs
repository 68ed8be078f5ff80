//! `analyze` of `scenarios/all-four.toml` (all four background processes,
//! exponential timings) on the default 3 × 2 layout and on 3 × 3 (V = 9).
//! Goals: 3 × 2 under 100 ms, 3 × 3 under 5 s.

use aurora_sim::analysis::markov::analyze;
use aurora_sim::scenario::{Assignment, Overrides, parse, parse_with};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const ALL_FOUR: &str = include_str!("../scenarios/all-four.toml");

fn bench_analyze(c: &mut Criterion) {
    let sc = parse(ALL_FOUR, "all-four.toml", &Overrides::default()).unwrap();
    let mut g = c.benchmark_group("analyze");
    g.sample_size(10);
    g.bench_function("3x2-all-four-processes", |b| {
        b.iter(|| black_box(analyze(&sc.config, false).unwrap()))
    });
    // V = 9: three AZs of three nodes, writes 6/9, reads 4/9 (110,847 states).
    let sets = [
        Assignment::new("--set", "cluster.nodes_per_az", "3"),
        Assignment::new("--set", "cluster.write_quorum", "6"),
        Assignment::new("--set", "cluster.read_quorum", "4"),
    ];
    let sc = parse_with(ALL_FOUR, "all-four.toml", &sets, &Overrides::default()).unwrap();
    g.bench_function("3x3-all-four-processes", |b| {
        b.iter(|| black_box(analyze(&sc.config, false).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench_analyze);
criterion_main!(benches);
