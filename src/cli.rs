//! Command-line arguments (clap derive structs only; validation happens in
//! [`crate::commands`]).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Discrete-event simulator of Amazon Aurora's quorum storage.
#[derive(Parser, Debug)]
#[command(name = "aurora-sim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Replay one run of a scenario and report availability and data loss.
    Run(RunArgs),
    /// Validate a scenario and print what it sets up.
    Check(CheckArgs),
}

/// `--seed` and `--horizon`, shared by commands that load a scenario.
#[derive(Args, Debug)]
pub struct ScenarioArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Seed (overrides the file's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Simulated time of one run, e.g. 30d (overrides the file's `horizon`).
    #[arg(long)]
    pub horizon: Option<String>,
}

/// `aurora-sim run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario and overrides.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Write the state timeline as CSV to this file.
    #[arg(long, value_name = "FILE.csv")]
    pub timeline: Option<PathBuf>,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    pub json: bool,
}

/// `aurora-sim check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Scenario and overrides.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}
