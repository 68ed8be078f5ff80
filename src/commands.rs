//! One function per subcommand: load, analyse, render, write. Each returns the
//! text for stdout; `main` prints it and maps errors to exit codes.

use crate::analysis::run;
use crate::cli::{CheckArgs, Command, RunArgs, ScenarioArgs};
use crate::engine::HeapQueue;
use crate::error::Error;
use crate::output::{json::RunJson, report, timeline::TimelineCsv, write_atomic};
use crate::scenario::{self, Overrides, Scenario};
use crate::time::parse_duration;
use std::time::Instant;

/// Runs one command.
pub fn dispatch(cmd: Command) -> Result<String, Error> {
    match cmd {
        Command::Run(a) => run_cmd(a),
        Command::Check(a) => check_cmd(a),
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
    Ok(scenario::load(&a.scenario, &ov)?)
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
