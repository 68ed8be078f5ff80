//! The work an input asks for, estimated from the scenario the tool would
//! load, so that each input stays fast (SPEC sets no limit of its own yet).

use aurora_sim::analysis::sweep::{Shard, dimensions, grid, parse_together, parse_vary};
use aurora_sim::cli::{Command, ScenarioArgs};
use aurora_sim::model::{Dist, Process};
use aurora_sim::scenario::{self, Assignment, Overrides, Scenario};
use aurora_sim::time::parse_duration;

/// Most simulated events one input may ask for.
pub const MAX_EVENTS: f64 = 300_000.0;
/// Most events when a timeline is written (every event is a CSV row).
pub const MAX_TIMELINE_EVENTS: f64 = 20_000.0;
/// Most replicas for `analyze` (its chain grows combinatorially).
pub const MAX_ANALYZE_REPLICAS: usize = 6;
/// Most grid points of one sweep.
pub const MAX_POINTS: u64 = 256;

/// What the checks need to know of the scenario(s) a command runs.
pub struct Plan {
    /// Estimated events over all runs (infinite: too large to count).
    pub events: f64,
    /// Per run (or grid point): the scenario the tool should have loaded.
    pub scenarios: Vec<Scenario>,
}

/// A short time a distribution reaches often: its median or mean, whichever
/// is smaller (a heavy-tailed Weibull has a huge mean but many short draws).
fn typical_secs(d: &Dist) -> f64 {
    let median = match d {
        Dist::Weibull { shape, scale, .. } => scale.as_secs_f64() * 2f64.ln().powf(1.0 / shape),
        Dist::LogNormal { median, .. } => median.as_secs_f64(),
        _ => f64::INFINITY,
    };
    median.min(d.mean_secs()).max(1e-6)
}

/// Events one run of `sc` is expected to process.
pub fn events(sc: &Scenario) -> f64 {
    let c = &sc.config;
    let (nodes, azs) = (c.layout.replicas() as f64, c.layout.azs.len() as f64);
    let per_s = |p: &Option<Process>, targets: f64| {
        p.as_ref().map_or(0.0, |p| targets / typical_secs(&p.every))
    };
    let f = &c.failures;
    let rate = per_s(&f.node_crash, nodes)
        + per_s(&f.node_loss, nodes)
        + per_s(&f.az_outage, azs)
        + per_s(&f.az_loss, azs);
    // Each failure brings a recovery, repairs and catch-ups: about 4 events
    // per replica it touches.
    let touched = 1.0 + c.layout.nodes_per_az as f64;
    sc.horizon.as_secs_f64() * rate * 4.0 * touched + c.events.len() as f64 * 4.0 * nodes + 8.0
}

/// `(write, read)` quorum sizes of a counting quorum (None with full/tail sets).
pub fn quorums(sc: &Scenario) -> Option<(u32, u32)> {
    let q = &sc.config.quorum;
    (q.full() == 0).then(|| (q.write(), q.read()))
}

/// Loads a scenario the way `commands::load` does (None: the tool refuses it).
fn load(a: &ScenarioArgs) -> Option<Scenario> {
    let horizon = match &a.horizon {
        Some(h) => Some(parse_duration(h).ok().filter(|t| t.0 > 0)?),
        None => None,
    };
    let sets = parse_sets(&a.set)?;
    let ov = Overrides {
        horizon,
        seed: a.seed,
    };
    scenario::load_with(&a.scenario, &sets, &ov).ok()
}

/// `--set` flags as the tool reads them (None: it refuses one).
fn parse_sets(set: &[String]) -> Option<Vec<Assignment>> {
    set.iter()
        .map(|s| Assignment::parse("--set", s).ok())
        .collect()
}

/// The plan of a command, or None when the tool should refuse it anyway
/// (then the tool's own answer is checked, not ours).
pub fn plan(cmd: &Command) -> Option<Plan> {
    let single = |a: &ScenarioArgs, cap: f64| {
        let sc = load(a)?;
        let e = events(&sc);
        Some(Plan {
            events: if e > cap { f64::INFINITY } else { e },
            scenarios: vec![sc],
        })
    };
    match cmd {
        // Not generated: its cost depends on how fast it converges.
        Command::Estimate(_) => None,
        Command::Run(a) => {
            let cap = if a.timeline.is_some() || a.plot.is_some() {
                MAX_TIMELINE_EVENTS
            } else {
                MAX_EVENTS
            };
            single(&a.scenario, cap)
        }
        Command::Compare(a) => single(&a.scenario, f64::INFINITY).map(|mut p| {
            // Every trial of up to four designs.
            p.events *= a.trials as f64 * 4.0;
            p
        }),
        Command::Check(a) => single(&a.scenario, f64::INFINITY).map(|mut p| {
            p.events = 0.0;
            p
        }),
        Command::Analyze(a) => {
            // analyze has no --seed or --horizon, and needs no horizon in the file.
            let sets = parse_sets(&a.set)?;
            let sc = match scenario::load_with(&a.scenario, &sets, &Overrides::default()) {
                Err(e)
                    if e.key.as_deref() == Some("horizon") && e.message.starts_with("missing") =>
                {
                    let ov = Overrides {
                        horizon: Some(aurora_sim::time::SimTime::MAX),
                        seed: None,
                    };
                    scenario::load_with(&a.scenario, &sets, &ov).ok()?
                }
                r => r.ok()?,
            };
            Some(Plan {
                events: 0.0,
                scenarios: vec![sc],
            })
        }
        .map(|mut p: Plan| {
            let v = p.scenarios[0].config.layout.replicas();
            p.events = if v > MAX_ANALYZE_REPLICAS {
                f64::INFINITY
            } else {
                0.0
            };
            p
        }),
        Command::Sweep(a) => {
            let mut axes = parse_together(&a.vary_together).ok()?;
            for v in &a.vary {
                axes.push(parse_vary(v).ok()?);
            }
            let sets = parse_sets(&a.set)?;
            let points = dimensions(&axes)
                .iter()
                .try_fold(1u64, |n, d| n.checked_mul(d[0].values.len() as u64));
            if points.is_none_or(|n| n > MAX_POINTS) {
                return Some(Plan {
                    events: f64::INFINITY,
                    scenarios: Vec::new(),
                });
            }
            let shard = match &a.shard {
                Some(s) => Shard::parse(s).ok()?,
                None => Shard::ALL,
            };
            let (lo, hi) = shard.trials(a.trials);
            let (src, label) = scenario::read(&a.scenario).ok()?;
            let ov = Overrides {
                horizon: None,
                seed: a.seed,
            };
            let mut plan = Plan {
                events: 0.0,
                scenarios: Vec::new(),
            };
            for values in grid(&axes) {
                let all = [&sets[..], &values[..]].concat();
                let sc = scenario::parse_with(&src, &label, &all, &ov).ok()?;
                plan.events += (hi - lo) as f64 * events(&sc);
                plan.scenarios.push(sc);
            }
            if plan.events > MAX_EVENTS {
                plan.events = f64::INFINITY;
            }
            Some(plan)
        }
        Command::Merge(_) | Command::Plot(_) | Command::Completions(_) | Command::Man => {
            Some(Plan {
                events: 0.0,
                scenarios: Vec::new(),
            })
        }
    }
}
