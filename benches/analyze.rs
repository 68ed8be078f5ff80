//! `analyze` on the default 3 × 2 layout and on 3 × 3 (V = 9), with all four
//! background processes (timings made exponential with the same means, as
//! `--approx` does). Goals: 3 × 2 under 100 ms, 3 × 3 under 5 s.

use aurora_sim::analysis::markov::analyze;
use aurora_sim::scenario::{Overrides, parse};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const ALL_FOUR: &str = r#"
name = "all-four"
horizon = "1y"
[failures.node_crash]
every = "182d"
lasts = "10m"
[failures.node_loss]
every = "5y"
[failures.az_outage]
every = "2y"
lasts = "2h"
[failures.az_loss]
every = "100y"
lasts = "6h"
"#;

fn bench_analyze(c: &mut Criterion) {
    let sc = parse(ALL_FOUR, "all-four.toml", &Overrides::default()).unwrap();
    let mut g = c.benchmark_group("analyze");
    g.sample_size(10);
    g.bench_function("3x2-all-four-processes", |b| {
        b.iter(|| black_box(analyze(&sc.config, true).unwrap()))
    });
    // V = 9: three AZs of three nodes, writes 6/9, reads 4/9 (110,847 states).
    let src = ALL_FOUR.replace(
        "horizon = \"1y\"",
        "horizon = \"1y\"\n[cluster]\nnodes_per_az = 3\nwrite_quorum = 6\nread_quorum = 4",
    );
    let sc = parse(&src, "all-four-3x3.toml", &Overrides::default()).unwrap();
    g.bench_function("3x3-all-four-processes", |b| {
        b.iter(|| black_box(analyze(&sc.config, true).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench_analyze);
criterion_main!(benches);
