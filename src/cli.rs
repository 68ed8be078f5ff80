//! Command-line arguments (clap derive structs only; validation happens in
//! [`crate::commands`]).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Discrete-event simulator of Amazon Aurora's quorum storage.
#[derive(Parser, Debug)]
#[command(name = "aurora-sim", version, about, long_about = None)]
#[command(subcommand_required = true, arg_required_else_help = false)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Replay one run of a scenario and report availability and data loss.
    #[command(
        after_help = "Example:\n  aurora-sim run scenarios/az-plus-one.toml --seed 7 --plot run.svg"
    )]
    Run(RunArgs),
    /// Validate a scenario and print what it sets up.
    #[command(
        after_help = "Example:\n  aurora-sim check scenarios/baseline.toml --set cluster.nodes_per_az=3"
    )]
    Check(CheckArgs),
    /// Monte Carlo over a grid of scenario values; one CSV row per grid point.
    #[command(
        after_help = "Example:\n  aurora-sim sweep scenarios/fleet-rates.toml --trials 1000 \\\n    \
        --vary-together cluster.nodes_per_az=1,2 --vary-together cluster.write_quorum=2,4 \\\n    \
        --vary cluster.repair_time=1h,6h,1d --out sweep.csv"
    )]
    Sweep(SweepArgs),
    /// The scenario's failures against each database design (SPEC §5):
    /// availability, downtime, failovers, data loss side by side.
    #[command(
        after_help = "Example:\n  aurora-sim compare scenarios/database-designs.toml --trials 200 --out compare.csv"
    )]
    Compare(CompareArgs),
    /// Combine the partial files of a sharded sweep into its CSV.
    #[command(after_help = "Example:\n  aurora-sim merge part-1.json part-2.json --out sweep.csv")]
    Merge(MergeArgs),
    /// Exact long-run availability and mean time to data loss (Markov chain).
    #[command(
        after_help = "Example:\n  aurora-sim analyze scenarios/fleet-rates.toml --set failures.node_loss.every=10y"
    )]
    Analyze(AnalyzeArgs),
    /// Rare-event probabilities by importance sampling (P(data loss) ≈ 1e-9 and below).
    #[command(
        after_help = "Example:\n  aurora-sim estimate scenarios/baseline.toml --approx --rel-error 0.1"
    )]
    Estimate(EstimateArgs),
    /// Draw a timeline or sweep CSV as SVG.
    #[command(subcommand)]
    Plot(PlotCommand),
    /// Print a shell completion script to stdout.
    #[command(
        after_help = "Example:\n  aurora-sim completions bash > ~/.local/share/bash-completion/completions/aurora-sim"
    )]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) to stdout.
    #[command(after_help = "Example:\n  aurora-sim man > aurora-sim.1 && man ./aurora-sim.1")]
    Man,
}

/// `aurora-sim completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: clap_complete::Shell,
}

/// `aurora-sim plot …`.
#[derive(Subcommand, Debug)]
pub enum PlotCommand {
    /// Swimlanes per replica from a `run --timeline` CSV.
    #[command(after_help = "Example:\n  aurora-sim plot timeline timeline.csv --out timeline.svg")]
    Timeline(PlotTimelineArgs),
    /// A sweep column against a varied key, with 95 % intervals.
    #[command(
        after_help = "Example:\n  aurora-sim plot sweep sweep.csv --x cluster.repair_time --y p_data_loss --out loss.svg"
    )]
    Sweep(PlotSweepArgs),
}

/// `aurora-sim plot timeline`.
#[derive(Args, Debug)]
pub struct PlotTimelineArgs {
    /// Timeline CSV written by `run --timeline`.
    pub csv: PathBuf,
    /// Output SVG.
    #[arg(long, value_name = "FILE.svg")]
    pub out: PathBuf,
}

/// `aurora-sim plot sweep`.
#[derive(Args, Debug)]
pub struct PlotSweepArgs {
    /// Sweep CSV written by `sweep` or `merge`.
    pub csv: PathBuf,
    /// Varied key for the x axis.
    #[arg(long)]
    pub x: String,
    /// Column for the y axis (e.g. p_data_loss, write_availability_mean, mttdl_seconds).
    #[arg(long)]
    pub y: String,
    /// Log x axis (default: automatic when values span two decades or more).
    #[arg(long, conflicts_with = "linx")]
    pub logx: bool,
    /// Linear x axis.
    #[arg(long)]
    pub linx: bool,
    /// Log y axis (default: automatic).
    #[arg(long, conflicts_with = "liny")]
    pub logy: bool,
    /// Linear y axis.
    #[arg(long)]
    pub liny: bool,
    /// Output SVG.
    #[arg(long, value_name = "FILE.svg")]
    pub out: PathBuf,
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
    /// Set a dotted scenario key to a TOML value, e.g. `--set failures.node_loss.every=2y`
    /// or `--set 'cluster.azs=["a","b","c","d"]'` (repeatable; applied before validation).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
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
    /// Draw the run's timeline as SVG to this file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    pub json: bool,
    /// Refuse a run estimated to process more engine events than this
    /// (default 1e10, ~20 min; `inf` lifts the limit).
    #[arg(long, value_name = "N", value_parser = parse_limit)]
    pub max_events: Option<f64>,
}

/// `aurora-sim check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Scenario and overrides.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

/// `aurora-sim sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Trials (independent runs) per grid point.
    #[arg(long)]
    pub trials: u64,
    /// A key and its values: `KEY=1y,2y,5y`, `KEY=lin:START:STOP:N`,
    /// `KEY=log:START:STOP:N`, or a TOML array for values with commas in
    /// them: `cluster.azs=[["a","b","c"],["a","b","c","d"]]` (repeatable:
    /// the grid is their product).
    #[arg(long, value_name = "KEY=VALUES")]
    pub vary: Vec<String>,
    /// Keys that move in step: lists of equal length, value i of each in
    /// grid point i (repeatable; the group is one dimension of the grid,
    /// outermost, crossed with every --vary).
    #[arg(long, value_name = "KEY=VALUES")]
    pub vary_together: Vec<String>,
    /// Set a dotted scenario key at every grid point, e.g.
    /// `--set cluster.repair_progress=resume` (repeatable; TOML values).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Base seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (0 or absent: all cores; at most 4 × the cores, or 8).
    /// The output does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Refuse a sweep estimated to process more engine events than this
    /// (default 1e10, ~20 min on one core; `inf` lifts the limit).
    #[arg(long, value_name = "N", value_parser = parse_limit)]
    pub max_events: Option<f64>,
    /// Run only shard K of N and write a partial file for `merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Output CSV (or partial file with --shard).
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
    /// No progress bar and no notes on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `aurora-sim compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Scenario and overrides.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Designs to compare, comma-separated (default: all four):
    /// aurora, rds-single-az, rds-multi-az, rds-multi-az-cluster.
    #[arg(long, value_name = "LIST")]
    pub designs: Option<String>,
    /// Trials per design (each design meets the same failures in trial t).
    #[arg(long)]
    pub trials: u64,
    /// Run every design on random streams of its own instead of the same
    /// failures (to measure what common random numbers buy).
    #[arg(long)]
    pub independent: bool,
    /// Worker threads (0 or absent: all cores). The output does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also write one CSV row per design to this file.
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<PathBuf>,
    /// Also draw an SVG: downtime per year per design with 95 % intervals,
    /// or for a replay (--trials 1 on scripted events) a lane per design.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `aurora-sim merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Partial files written by `sweep --shard K/N`, one per shard.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Output CSV.
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
}

/// `aurora-sim analyze`: no `--seed` or `--horizon`, which a long-run exact
/// answer does not depend on.
#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Scenario file (TOML); its `horizon` and `seed` are not used.
    pub scenario: PathBuf,
    /// Set a dotted scenario key to a TOML value, e.g. `--set failures.node_loss.every=2y`
    /// (repeatable; applied before validation).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    pub json: bool,
    /// Replace non-exponential timings by exponentials of the same mean (listed).
    #[arg(long)]
    pub approx: bool,
}

/// `aurora-sim estimate`.
#[derive(Args, Debug)]
pub struct EstimateArgs {
    /// Scenario and overrides.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// What to estimate: `p_data_loss` (P(a data loss within the horizon))
    /// or `write_unavailability` (long-run fraction without write quorum).
    #[arg(long, default_value = "p_data_loss", value_parser = ["p_data_loss", "write_unavailability"])]
    pub measure: String,
    /// Stop once the 95 % interval's half-width is within this fraction of
    /// the estimate (checked after each batch of 1,024 trials).
    #[arg(long, default_value_t = 0.1)]
    pub rel_error: f64,
    /// Stop after this many trials at most (then `converged: false`).
    #[arg(long, value_name = "N", default_value = "1e7", value_parser = parse_limit)]
    pub max_trials: f64,
    /// Replace non-exponential failure processes (`every`) by exponentials
    /// of the same mean (listed).
    #[arg(long)]
    pub approx: bool,
    /// Failures' share of the probability against the next scheduled event
    /// while degraded (balanced failure biasing), in (0, 1).
    #[arg(long, default_value_t = 0.5)]
    pub theta: f64,
    /// Plain balanced failure biasing (equal odds for every eligible
    /// failure), without the pilot runs that tune the odds per process kind.
    #[arg(long)]
    pub no_tune: bool,
    /// Estimate the scenario as this database design runs it, as `compare`
    /// does (aurora, rds-single-az, rds-multi-az, rds-multi-az-cluster):
    /// its `[database.<design>]` timings or the defaults; what it has no
    /// target for is left out and listed.
    #[arg(long, value_name = "DESIGN")]
    pub design: Option<String>,
    /// Also draw an SVG of the running estimate and its 95 % interval after
    /// each batch.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Worker threads (0 or absent: all cores). The output does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Refuse an estimate whose first batch is estimated to process more
    /// engine events than this (default 1e10; `inf` lifts the limit).
    #[arg(long, value_name = "N", value_parser = parse_limit)]
    pub max_events: Option<f64>,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A limit such as `1e12`, `5000000` or `inf`: a number ≥ 1.
fn parse_limit(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v >= 1.0 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a number ≥ 1 (e.g. 1e12, or inf for no limit)"
        )),
    }
}

/// How a command line that is not a command ends: the text to print (on
/// stdout when `code` is 0, as for `--help`, else on stderr) and the status.
#[derive(Debug)]
pub struct Usage {
    /// What to print.
    pub text: String,
    /// Exit status: 0 for help and version, 2 for a usage error.
    pub code: i32,
}

/// Parses a command line (the program name first). A missing subcommand is a
/// usage error with an `error:` line first and the help after it, exit 2;
/// clap alone prints only the help.
pub fn parse_from<I, T>(args: I) -> Result<Cli, Usage>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::CommandFactory;
    use clap::error::ErrorKind;
    Cli::try_parse_from(args).map_err(|e| match e.kind() {
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => Usage {
            text: format!("error: a subcommand is required\n\n{}", e.render()),
            code: 2,
        },
        ErrorKind::MissingSubcommand => Usage {
            text: format!(
                "error: a subcommand is required\n\n{}",
                Cli::command().render_help()
            ),
            code: 2,
        },
        _ => Usage {
            text: e.render().to_string(),
            code: e.exit_code(),
        },
    })
}
