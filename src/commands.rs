//! One function per subcommand: load, analyse, render, write. Each returns the
//! text for stdout; `main` prints it and maps errors to exit codes.

use crate::analysis::markov::{self, AnalyzeError};
use crate::analysis::run;
use crate::analysis::sweep::{self, Part, Plan, Shard};
use crate::cli::{AnalyzeArgs, CheckArgs, Command, MergeArgs, RunArgs, ScenarioArgs, SweepArgs};
use crate::engine::HeapQueue;
use crate::error::Error;
use crate::error::InputError;
use crate::output::{json::RunJson, report, timeline::TimelineCsv, write_atomic};
use crate::scenario::{self, Assignment, Overrides, Scenario};
use crate::time::parse_duration;
use std::time::Instant;

/// Runs one command.
pub fn dispatch(cmd: Command) -> Result<String, Error> {
    match cmd {
        Command::Run(a) => run_cmd(a),
        Command::Check(a) => check_cmd(a),
        Command::Sweep(a) => sweep_cmd(a),
        Command::Merge(a) => merge_cmd(a),
        Command::Analyze(a) => analyze_cmd(a),
    }
}

/// Loads the scenario with the command-line overrides applied.
fn load(a: &ScenarioArgs) -> Result<Scenario, Error> {
    let horizon = match &a.horizon {
        Some(h) => {
            let t = parse_duration(h).map_err(|m| Error::flag("--horizon", m))?;
            if t.0 == 0 {
                return Err(Error::flag("--horizon", "must be positive"));
            }
            Some(t)
        }
        None => None,
    };
    let ov = Overrides {
        horizon,
        seed: a.seed,
    };
    let sets = a
        .set
        .iter()
        .map(|s| {
            Assignment::parse(s)
                .ok_or_else(|| Error::flag("--set", format!("`{s}` is not KEY=VALUE")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(scenario::load_with(&a.scenario, &sets, "--set", &ov)?)
}

fn run_cmd(a: RunArgs) -> Result<String, Error> {
    let sc = load(&a.scenario)?;
    let path = a.scenario.scenario.display().to_string();
    let started = Instant::now();
    let stats = match &a.timeline {
        Some(file) => {
            let tl = TimelineCsv::new(&sc.config.layout.node_names);
            let (stats, tl) =
                run::simulate_observed::<_, HeapQueue<_>>(&sc.config, sc.seed, 0, sc.horizon, tl)?;
            let bytes = tl
                .into_bytes()
                .ok_or_else(|| Error::Internal("could not format the timeline".into()))?;
            write_atomic(file, &bytes)?;
            stats
        }
        None => run::simulate(&sc.config, sc.seed, sc.horizon)?,
    };
    let wall = report::Wall {
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok(if a.json {
        RunJson::new(&sc, sc.seed, &stats).render()
    } else {
        report::run_report(&sc, &path, sc.seed, &stats, &wall)
    })
}

fn check_cmd(a: CheckArgs) -> Result<String, Error> {
    let sc = load(&a.scenario)?;
    Ok(report::check_report(
        &sc,
        &a.scenario.scenario.display().to_string(),
    ))
}

fn sweep_cmd(a: SweepArgs) -> Result<String, Error> {
    if a.threads == Some(0) {
        return Err(Error::flag("--threads", "must be at least 1"));
    }
    let axes = a
        .vary
        .iter()
        .map(|v| sweep::parse_vary(v))
        .collect::<Result<Vec<_>, _>>()?;
    let shard = a.shard.as_deref().map(Shard::parse).transpose()?;
    let (src, label) = scenario::read(&a.scenario)?;
    let plan = Plan::new(
        &label,
        &src,
        axes,
        a.trials,
        a.seed,
        shard.unwrap_or(Shard::ALL),
    )?;
    let (lo, hi) = plan.shard.trials(plan.trials);
    let pb = sweep::progress_bar((hi - lo) * plan.points.len() as u64, a.quiet);
    let stats = sweep::execute(&plan, a.threads, &pb)?;
    pb.finish_and_clear();
    let bytes = match shard {
        Some(_) => Part::new(&plan, &stats).render(),
        None => sweep::render_csv(&plan.axes, &stats)?,
    };
    write_atomic(&a.out, &bytes)?;
    if !a.quiet {
        eprint!("{}", sweep::replay_hints(&plan, &stats));
    }
    Ok(String::new())
}

fn merge_cmd(a: MergeArgs) -> Result<String, Error> {
    let mut parts = Vec::new();
    for p in &a.parts {
        let label = p.display().to_string();
        let text = std::fs::read_to_string(p)
            .map_err(|e| Error::flag(&label, format!("cannot read file: {e}")))?;
        parts.push((label, text));
    }
    let (csv, _) = sweep::merge(&parts)?;
    write_atomic(&a.out, &csv)?;
    Ok(String::new())
}

fn analyze_cmd(a: AnalyzeArgs) -> Result<String, Error> {
    let sc = load(&a.scenario)?;
    let path = a.scenario.scenario.display().to_string();
    let started = Instant::now();
    let result = markov::analyze(&sc.config, a.approx).map_err(|e| match e {
        AnalyzeError::NotExponential(s) => Error::Input(
            InputError::new(
                &path,
                format!(
                    "{} is not exponential or zero, so the Markov chain would not be exact; \
                 pass --approx to use an exponential of the same mean ({:.6} s)",
                    s.was, s.mean_secs
                ),
            )
            .with_key(s.timing.key()),
        ),
        AnalyzeError::TooLarge(n) => Error::Input(InputError::new(
            &path,
            format!("the Markov chain has more than {n} states; use fewer AZs or nodes per AZ"),
        )),
        AnalyzeError::Numerical(m) => Error::Internal(format!("analysis failed: {m}")),
    })?;
    let wall = started.elapsed().as_secs_f64();
    Ok(if a.json {
        crate::output::json::AnalyzeJson::new(&sc, &result).render()
    } else {
        report::analyze_report(&sc, &path, &result, wall)
    })
}
