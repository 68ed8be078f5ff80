//! Sweep throughput in trials per second on `scenarios/baseline.toml`
//! (1 simulated year per trial): the sweep on 1 and 2 threads, and a plain
//! loop of `simulate` calls as the per-thread reference.
//!
//! After criterion, a ratio table: the three alternated 5 times, medians
//! of trials/s, so load on the machine affects them alike. A sample is
//! 200,000 trials (~0.5 s on one thread), so a thread pool's start and the
//! last trials of a run weigh on it as little as on a real sweep.

use aurora_sim::analysis::run::simulate;
use aurora_sim::analysis::sweep::{Plan, Progress, Shard, execute, trial_seed};
use aurora_sim::scenario::Scenario;
use criterion::{Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};

const TRIALS: u64 = 200_000;

fn plain_loop(plan: &Plan, sc: &Scenario) {
    for t in 0..TRIALS {
        black_box(simulate(&sc.config, trial_seed(plan.seed, t), sc.horizon).unwrap());
    }
}

fn sweep(plan: &Plan, threads: usize) {
    black_box(execute(plan, Some(threads), &Progress::new(plan, true)).unwrap());
}

/// Trials per second of one call of `f`.
fn rate(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    TRIALS as f64 / t.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(15))
        .configure_from_args();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/baseline.toml");
    let src = std::fs::read_to_string(path).unwrap();
    let plan =
        Plan::new(path, &src, vec![], vec![], TRIALS, None, Shard::ALL).expect("baseline plan");
    let sc = &plan.points[0].1;
    {
        let mut g = c.benchmark_group("sweep-baseline");
        g.throughput(Throughput::Elements(TRIALS));
        g.sample_size(10);
        g.bench_function("plain-run-loop", |b| b.iter(|| plain_loop(&plan, sc)));
        for threads in [1usize, 2] {
            g.bench_function(format!("threads-{threads}"), |b| {
                b.iter(|| sweep(&plan, threads))
            });
        }
        g.finish();
    }
    c.final_summary();

    // Criterion's name filter selects the table too.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if filter.is_some_and(|f| !"sweep-baseline".contains(f.as_str())) {
        return;
    }
    let (mut plain, mut one, mut two) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        plain.push(rate(|| plain_loop(&plan, sc)));
        one.push(rate(|| sweep(&plan, 1)));
        two.push(rate(|| sweep(&plan, 2)));
    }
    let (p, o, t) = (median(plain), median(one), median(two));
    println!("\nsweep of baseline, {TRIALS} trials, alternating, median of 5:");
    println!("{:<22} {:>12} {:>7}", "run", "trials/s", "ratio");
    println!("{:<22} {p:>12.0} {:>7}", "plain loop", "-");
    println!("{:<22} {o:>12.0} {:>7.3}", "1 thread / plain", o / p);
    println!("{:<22} {t:>12.0} {:>7.3}", "2 threads / 1 thread", t / o);
}
