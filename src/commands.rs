//! One function per subcommand: load, analyse, render, write. Each returns the
//! text for stdout; `main` prints it and maps errors to exit codes.

use crate::analysis::markov;
use crate::analysis::run;
use crate::analysis::sweep::{self, Part, Plan, Shard};
use crate::cli::{
    AnalyzeArgs, CheckArgs, Command, CompareArgs, EstimateArgs, MergeArgs, PlotCommand, RunArgs,
    ScenarioArgs, SweepArgs,
};
use crate::error::Error;
use crate::model::NoObserver;
use crate::output::file::{self, AtomicFile, Format, OutputPath};
use crate::output::plot::{self, SweepPlot};
use crate::output::{json::RunJson, progress, report, timeline::TimelineCsv};
use crate::scenario::{self, Assignment, Overrides, Scenario, work};
use crate::time::{US_PER_S, parse_duration};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Runs one command.
pub fn dispatch(cmd: Command) -> Result<String, Error> {
    match cmd {
        Command::Run(a) => run_cmd(a),
        Command::Check(a) => check_cmd(a),
        Command::Sweep(a) => sweep_cmd(a),
        Command::Merge(a) => merge_cmd(a),
        Command::Compare(a) => compare_cmd(a),
        Command::Analyze(a) => analyze_cmd(a),
        Command::Estimate(a) => estimate_cmd(a),
        Command::Plot(p) => plot_cmd(p),
        Command::Completions(a) => String::from_utf8(crate::manual::completions(a.shell))
            .map_err(|e| Error::Internal(format!("completion script: {e}"))),
        Command::Man => crate::manual::man_page()
            .map_err(|e| Error::Internal(format!("cannot render the man page: {e}")))
            .and_then(|v| {
                String::from_utf8(v).map_err(|e| Error::Internal(format!("man page: {e}")))
            }),
    }
}

/// Loads the scenario with the command-line overrides applied; an event or
/// process the `[database]` design has no target for is an error.
fn load(a: &ScenarioArgs) -> Result<Scenario, Error> {
    let sc = load_any(a)?;
    // SPEC §5: only `compare` skips them.
    if let Some(e) = sc.config.design_mismatch() {
        return Err(e.clone().into());
    }
    Ok(sc)
}

/// As [`load`], keeping what the design has no target for (`compare`).
fn load_any(a: &ScenarioArgs) -> Result<Scenario, Error> {
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
    let sets = parse_sets(&a.set)?;
    Ok(scenario::load_with(&a.scenario, &sets, &ov)?)
}

fn compare_cmd(a: CompareArgs) -> Result<String, Error> {
    use crate::analysis::compare;
    use crate::output::compare::{CompareJson, Difference, Figures, csv, table};
    let threads = sweep::threads(a.threads)?;
    if a.trials == 0 {
        return Err(Error::flag("--trials", "must be at least 1"));
    }
    let designs = compare::parse_designs(a.designs.as_deref())?;
    let outputs: Vec<(&'static str, &Path, Format)> = (a.out.iter())
        .map(|p| ("--out", p.as_path(), Format::Any))
        .chain(a.plot.iter().map(|p| ("--plot", p.as_path(), Format::Svg)))
        .collect();
    let mut files = open_outputs(&outputs, &[a.scenario.scenario.as_path()])?;
    let sc = load_any(&a.scenario)?;
    let per_run = work::estimate(&sc).events;
    let total = per_run * a.trials as f64 * designs.len() as f64;
    work::check(
        total,
        work::DEFAULT_MAX_EVENTS,
        "the trials of every design",
    )?;
    let mut entries = designs
        .iter()
        .map(|&d| compare::entry(&sc, d))
        .collect::<Result<Vec<_>, _>>()?;
    compare::execute(&mut entries, &sc, a.trials, sc.seed, threads, a.independent)?;
    let crn = !a.independent;
    let mut figs: Vec<Figures> = entries
        .iter()
        .map(|e| Figures::new(e, sc.horizon))
        .collect();
    for (f, e) in figs.iter_mut().zip(&entries).skip(1) {
        f.difference = Some(Difference::new(e, &entries[0], sc.horizon, crn));
    }
    if a.out.is_some() {
        fill(&mut files[0], &csv(&figs)?)?;
    }
    if a.plot.is_some() {
        // The replay form draws each design's own timeline of its one trial.
        let replay = a.trials == 1 && !sc.config.events.is_empty();
        let timelines = (entries.iter().enumerate().filter(|_| replay))
            .map(|(d, e)| {
                let tl = compare::replay_timeline(e, d, &sc, sc.seed, a.independent)?;
                Ok((e.design.as_str(), tl))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let svg = plot::compare_svg(&sc, a.trials, &figs, replay.then_some(&timelines[..]))?;
        let k = files.len() - 1;
        fill(&mut files[k], &svg)?;
    }
    file::commit_all(files, a.json)?;
    Ok(if a.json {
        CompareJson {
            scenario: &sc.name,
            seed: sc.seed,
            trials: a.trials,
            horizon_seconds: sc.horizon.as_secs_f64(),
            common_random_numbers: crn,
            sla_lines: crate::output::compare::SLA_LINES,
            designs: figs,
        }
        .render()
    } else {
        table(&sc, sc.seed, a.trials, &figs)
    })
}

/// `--set KEY=VALUE` flags, each checked (a bad TOML value names the key).
fn parse_sets(args: &[String]) -> Result<Vec<Assignment>, Error> {
    args.iter()
        .map(|s| Assignment::parse("--set", s).map_err(|m| Error::flag("--set", m)))
        .collect()
}

/// Checks the outputs, creates their temporary files (proving each folder
/// writable) and returns them in order: all before any work, so a bad path
/// costs nothing and leaves nothing.
fn open_outputs(
    outputs: &[(&'static str, &Path, Format)],
    inputs: &[&Path],
) -> Result<Vec<AtomicFile>, Error> {
    let checked = outputs
        .iter()
        .map(|&(flag, path, format)| OutputPath::check(flag, path, format, inputs))
        .collect::<Result<Vec<_>, _>>()?;
    file::check_distinct(&checked.iter().collect::<Vec<_>>())?;
    checked.iter().map(AtomicFile::create).collect()
}

/// Writes `bytes` into `f` (a write error names the file).
fn fill(f: &mut AtomicFile, bytes: &[u8]) -> Result<(), Error> {
    f.write_all(bytes)
        .map_err(|e| Error::Internal(format!("cannot write {}: {e}", f.target().path.display())))
}

fn run_cmd(a: RunArgs) -> Result<String, Error> {
    let input = a.scenario.scenario.as_path();
    let mut outputs = Vec::new();
    if let Some(p) = &a.timeline {
        outputs.push(("--timeline", p.as_path(), Format::Any));
    }
    if let Some(p) = &a.plot {
        outputs.push(("--plot", p.as_path(), Format::Svg));
    }
    let mut files = open_outputs(&outputs, &[input])?;
    let sc = load(&a.scenario)?;
    let w = work::estimate(&sc);
    let detail = w
        .main
        .map_or("start and end".into(), |m| format!("mostly {}", m.1));
    let limit = a.max_events.unwrap_or(work::DEFAULT_MAX_EVENTS);
    work::check(w.events, limit, &detail)?;
    let path = input.display().to_string();
    let started = Instant::now();
    let bar = progress::run_progress(sc.horizon);
    // The estimate cannot foresee every cascade (a give-up or restore
    // feeding the next at millisecond rates): the limit also holds while the
    // run goes, and a run stopped by it writes nothing.
    let mut over = None;
    let mut tick = |now: crate::time::SimTime, events: u64| {
        bar.set_position(now.0 / US_PER_S);
        if events as f64 > limit {
            over = Some(now);
            return false;
        }
        true
    };
    let stats = if files.is_empty() {
        let st = run::simulate_ticking(&sc.config, sc.seed, sc.horizon, NoObserver, &mut tick)?.0;
        work::stopped(over, limit, w.events)?;
        st
    } else {
        // The timeline streams into its own temporary file, or, when only
        // the plot wants it, into a scratch file beside the plot.
        let plot = a.plot.is_some().then(|| files.pop()).flatten();
        let scratch = match (&a.timeline, &plot) {
            (None, Some(p)) => Some(AtomicFile::scratch(p.target(), "timeline")?),
            _ => None,
        };
        let durable = scratch.is_none();
        let tl_file = match scratch {
            Some(f) => f,
            None => files
                .pop()
                .ok_or_else(|| Error::Internal("no timeline file".into()))?,
        };
        let cannot = |e: std::io::Error| Error::Internal(format!("cannot write the timeline: {e}"));
        let tl = TimelineCsv::to_file(&sc.config, tl_file, durable).map_err(cannot)?;
        let (stats, tl) = run::simulate_ticking(&sc.config, sc.seed, sc.horizon, tl, &mut tick)?;
        work::stopped(over, limit, w.events)?;
        let tl_file = tl.finish_file().map_err(cannot)?;
        if let Some(mut svg_file) = plot {
            // Read back from the file as a stream: neither the run nor the
            // plot holds the timeline in memory.
            let mut text = std::fs::File::open(tl_file.temp_path())
                .map(std::io::BufReader::new)
                .map_err(|e| Error::Internal(format!("cannot read back the timeline: {e}")))?;
            // The CSV says where data was lost, not how many acknowledged
            // writes went with it: the run does.
            let note = (stats.data_loss_events > 0).then(|| {
                let lost = crate::time::SimTime(stats.lost_write_us);
                if lost.0 == 0 {
                    "no acknowledged writes lost".to_string()
                } else {
                    format!(
                        "acknowledged writes lost: {}",
                        crate::time::format_duration(lost)
                    )
                }
            });
            let caption = plot::Caption {
                title: format!("{} — seed {}", sc.name, sc.seed),
                description: sc.description.clone(),
                note,
            };
            let svg = plot::plot_timeline(&mut text, &path, &caption)
                .map_err(|e| Error::Internal(format!("plotting the timeline: {e}")))?;
            drop(text);
            fill(&mut svg_file, &svg)?;
            if a.timeline.is_some() {
                files.push(tl_file);
            }
            files.push(svg_file);
        } else {
            files.push(tl_file);
        }
        // Everything is rendered: only renames are left, so a failure before
        // this point leaves no file at all.
        file::commit_all(files, false)?;
        stats
    };
    bar.finish_and_clear();
    let wall = report::Wall {
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok(if a.json {
        RunJson::new(&sc, sc.seed, &stats).render()
    } else {
        report::run_report(&sc, &path, &a.scenario.set, sc.seed, &stats, &wall)
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
    let threads = sweep::threads(a.threads)?;
    let mut files = open_outputs(&[("--out", &a.out, Format::Any)], &[&a.scenario])?;
    // The paired group is the outermost dimension, then each --vary.
    let mut axes = sweep::parse_together(&a.vary_together)?;
    for v in &a.vary {
        axes.push(sweep::parse_vary(v)?);
    }
    let sets = parse_sets(&a.set)?;
    let shard = a.shard.as_deref().map(Shard::parse).transpose()?;
    let (src, label) = scenario::read(&a.scenario)?;
    let plan = Plan::new(
        &label,
        &src,
        sets,
        axes,
        a.trials,
        a.seed,
        shard.unwrap_or(Shard::ALL),
    )?;
    plan.check_work(a.max_events.unwrap_or(work::DEFAULT_MAX_EVENTS))?;
    let progress = sweep::Progress::new(&plan, a.quiet);
    let stats = sweep::execute(&plan, threads, &progress)?;
    let summary = progress.finish();
    let bytes = match shard {
        Some(_) => Part::new(&plan, &stats).render(),
        None => sweep::render_csv(&plan.axes, &stats)?,
    };
    fill(&mut files[0], &bytes)?;
    file::commit_all(files, a.quiet)?;
    if let Some(line) = summary {
        eprintln!("{line}");
        eprint!("{}", sweep::replay_hints(&plan, &stats));
    }
    Ok(String::new())
}

fn merge_cmd(a: MergeArgs) -> Result<String, Error> {
    let inputs: Vec<&Path> = a.parts.iter().map(|p| p.as_path()).collect();
    let mut files = open_outputs(&[("--out", &a.out, Format::Any)], &inputs)?;
    let mut parts = Vec::new();
    for p in &a.parts {
        let label = p.display().to_string();
        let text = std::fs::read_to_string(p)
            .map_err(|e| Error::flag(&label, format!("cannot read file: {e}")))?;
        parts.push((label, text));
    }
    let (csv, _) = sweep::merge(&parts)?;
    fill(&mut files[0], &csv)?;
    file::commit_all(files, false)?;
    Ok(String::new())
}

fn analyze_cmd(a: AnalyzeArgs) -> Result<String, Error> {
    let args = ScenarioArgs {
        scenario: a.scenario.clone(),
        seed: None,
        horizon: None,
        set: a.set.clone(),
    };
    // The answer is for the long run: a file's horizon is checked when it
    // has one, and not required (analyze offers no --horizon to supply it).
    let sc = match load(&args) {
        Err(Error::Input(e))
            if e.key.as_deref() == Some("horizon") && e.message.starts_with("missing") =>
        {
            let sets = parse_sets(&a.set)?;
            let ov = Overrides {
                horizon: Some(crate::time::SimTime::MAX),
                seed: None,
            };
            scenario::load_with(&a.scenario, &sets, &ov)?
        }
        r => r?,
    };
    let path = a.scenario.display().to_string();
    if sc.config.database.is_some() {
        // The chain is the storage's; instances, failovers and restores are
        // not in it (SPEC §5 adds nothing to §3's analyze).
        return Err(Error::Input(crate::error::InputError::new(
            &path,
            "analyze solves the storage's Markov chain only; a scenario with [database] \
             is simulated: use `run`, `sweep` or `compare` (or drop [database] to analyze its storage)",
        ).with_key("database")));
    }
    let started = Instant::now();
    let spinner = progress::analyze_spinner();
    // A refusal names the key and where the file writes it.
    let src = std::fs::read_to_string(&a.scenario).unwrap_or_default();
    let result = markov::analyze(&sc.config, a.approx).map_err(|e| e.into_error(&path, &src));
    spinner.finish_and_clear();
    let result = result?;
    let wall = started.elapsed().as_secs_f64();
    Ok(if a.json {
        crate::output::json::AnalyzeJson::new(&sc, &result).render()
    } else {
        report::analyze_report(&sc, &path, &result, wall)
    })
}

/// `estimate` (SPEC §7): thin over `analysis::estimate`.
fn estimate_cmd(a: EstimateArgs) -> Result<String, Error> {
    use crate::analysis::compare;
    use crate::analysis::estimate::{self, Measure};
    let measure = match a.measure.as_str() {
        "write_unavailability" => Measure::WriteUnavailability,
        _ => Measure::DataLoss,
    };
    if measure == Measure::WriteUnavailability && a.scenario.horizon.is_some() {
        return Err(Error::flag(
            "--horizon",
            "write_unavailability is a long-run fraction over regenerative cycles, which has \
             no horizon; drop --horizon (or estimate --measure p_data_loss)",
        ));
    }
    if !(a.theta > 0.0 && a.theta < 1.0) {
        return Err(Error::flag("--theta", "must lie in (0, 1), e.g. 0.5"));
    }
    if !(a.rel_error > 0.0 && a.rel_error < 1.0) {
        return Err(Error::flag("--rel-error", "must lie in (0, 1), e.g. 0.1"));
    }
    let sc = match load_any(&a.scenario) {
        // A long-run measure needs no horizon in the file.
        Err(Error::Input(e))
            if measure == Measure::WriteUnavailability
                && e.key.as_deref() == Some("horizon")
                && e.message.starts_with("missing") =>
        {
            let ov = Overrides {
                horizon: Some(crate::time::SimTime::MAX),
                seed: a.scenario.seed,
            };
            scenario::load_with(&a.scenario.scenario, &parse_sets(&a.scenario.set)?, &ov)?
        }
        r => r?,
    };
    // As `compare` runs a design: what it has no target for is skipped.
    let (sc, skipped) = match a.design.as_deref() {
        Some(d) => {
            // compare's messages name its --designs.
            let ours = |e: Error| match e {
                Error::Input(mut i) if i.path == "--designs" => {
                    i.path = "--design".into();
                    i.message = i.message.replace(", comma-separated", "");
                    Error::Input(i)
                }
                e => e,
            };
            let design = match compare::parse_designs(Some(d)).map_err(ours)?.as_slice() {
                [one] => *one,
                _ => return Err(Error::flag("--design", "takes one design")),
            };
            let e = compare::entry(&sc, design).map_err(ours)?;
            let mut sc = sc;
            sc.config = e.config;
            (sc, e.skipped)
        }
        None => {
            if let Some(e) = sc.config.design_mismatch() {
                return Err(e.clone().into());
            }
            (sc, Vec::new())
        }
    };
    let path = a.scenario.scenario.display().to_string();
    let src = std::fs::read_to_string(&a.scenario.scenario).unwrap_or_default();
    let mut prepared = estimate::prepare(&sc, &path, &src, measure, a.approx)?;
    prepared.add_left_out(skipped);
    let outputs: Vec<(&'static str, &Path, Format)> =
        (a.plot.iter().map(|p| ("--plot", p.as_path(), Format::Svg))).collect();
    let mut files = open_outputs(&outputs, &[a.scenario.scenario.as_path()])?;
    let max_trials = if a.max_trials.is_finite() {
        a.max_trials.min(u64::MAX as f64) as u64
    } else {
        u64::MAX
    };
    if prepared.possible {
        let mut one = sc.clone();
        if measure == Measure::WriteUnavailability {
            one.horizon = crate::time::SimTime(365 * 86_400 * 1_000_000);
        }
        let w = work::estimate(&one);
        let batch = w.events * estimate::BATCH.min(max_trials) as f64;
        let detail = format!("one batch of {} trials", estimate::BATCH.min(max_trials));
        work::check(
            batch,
            a.max_events.unwrap_or(work::DEFAULT_MAX_EVENTS),
            &detail,
        )?;
    }
    let threads = sweep::threads(a.threads)?;
    let opts = estimate::Options {
        rel_error: a.rel_error,
        max_trials,
        seed: sc.seed,
        theta: a.theta,
        tune: !a.no_tune,
    };
    let started = Instant::now();
    let (summary, steps) = estimate::run(&prepared, &opts, threads, a.quiet)?;
    let wall = started.elapsed().as_secs_f64();
    let out = estimate::Report {
        scenario: &sc,
        prepared: &prepared,
        summary: &summary,
        opts: &opts,
    };
    if let Some(f) = files.first_mut() {
        let what = out.what();
        let title = format!("{}: {what} by importance sampling", sc.name);
        let subtitle = format!(
            "seed {}: the estimate and its 95 % interval after each batch of {} trials; \
             target ±{:.0} %",
            sc.seed,
            estimate::BATCH,
            a.rel_error * 100.0
        );
        fill(f, &plot::estimate_svg(&title, &subtitle, &what, &steps))?;
    }
    file::commit_all(files, a.quiet || a.json)?;
    if !summary.converged {
        eprintln!(
            "warning: not converged after {} trials (relative error {}, asked {}); raise \
             --max-trials or loosen --rel-error",
            summary.trials,
            summary
                .relative_error
                .map_or("unknown: no weighted hit".into(), |r| format!("{r:.3}")),
            a.rel_error
        );
    }
    Ok(if a.json {
        out.json()
    } else {
        out.text(&path, wall)
    })
}

fn plot_cmd(p: PlotCommand) -> Result<String, Error> {
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).map_err(|e| {
            Error::flag(
                &path.display().to_string(),
                format!("cannot read file: {e}"),
            )
        })
    };
    match p {
        PlotCommand::Timeline(a) => {
            let label = a.csv.display().to_string();
            let title = a
                .csv
                .file_stem()
                .map_or(label.clone(), |s| s.to_string_lossy().into_owned());
            let mut files = open_outputs(&[("--out", &a.out, Format::Svg)], &[&a.csv])?;
            let caption = plot::Caption {
                title,
                description: None,
                note: None,
            };
            let svg = plot::plot_timeline(&mut open_seekable(&a.csv)?, &label, &caption)?;
            fill(&mut files[0], &svg)?;
            file::commit_all(files, false)?;
        }
        PlotCommand::Sweep(a) => {
            let pick = |log: bool, lin: bool| {
                if log {
                    Some(true)
                } else if lin {
                    Some(false)
                } else {
                    None
                }
            };
            let opt = SweepPlot {
                x: &a.x,
                y: &a.y,
                logx: pick(a.logx, a.linx),
                logy: pick(a.logy, a.liny),
            };
            let mut files = open_outputs(&[("--out", &a.out, Format::Svg)], &[&a.csv])?;
            let label = a.csv.display().to_string();
            let plotted = plot::plot_sweep(&read(&a.csv)?, &label, &opt)?;
            fill(&mut files[0], &plotted.svg)?;
            file::commit_all(files, false)?;
            for n in &plotted.notes {
                eprintln!("note: {label}: {n}");
            }
        }
    }
    Ok(String::new())
}

/// Most bytes read from a pipe, which is held in memory to be read twice.
const PIPE_MAX: u64 = 256 << 20;

/// A file to read from the start more than once: the file itself, or, when
/// it is not a regular file (a pipe), its contents in memory, at most
/// [`PIPE_MAX`] bytes.
fn open_seekable(path: &Path) -> Result<SeekableInput, Error> {
    use std::io::Read;
    let label = path.display().to_string();
    let err = |e: std::io::Error| Error::flag(&label, format!("cannot read file: {e}"));
    let f = std::fs::File::open(path).map_err(err)?;
    if f.metadata().is_ok_and(|m| m.is_file()) {
        return Ok(SeekableInput::File(std::io::BufReader::new(f)));
    }
    let mut bytes = Vec::new();
    f.take(PIPE_MAX + 1).read_to_end(&mut bytes).map_err(err)?;
    if bytes.len() as u64 > PIPE_MAX {
        return Err(Error::flag(
            &label,
            "not a regular file and over 256 MiB (a pipe is held in memory to be read twice): \
             give a regular file, which is read as a stream",
        ));
    }
    Ok(SeekableInput::Memory(std::io::Cursor::new(bytes)))
}

/// What [`open_seekable`] gives.
enum SeekableInput {
    File(std::io::BufReader<std::fs::File>),
    Memory(std::io::Cursor<Vec<u8>>),
}

impl std::io::Read for SeekableInput {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            SeekableInput::File(f) => f.read(buf),
            SeekableInput::Memory(m) => m.read(buf),
        }
    }
}

impl std::io::Seek for SeekableInput {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        match self {
            SeekableInput::File(f) => f.seek(pos),
            SeekableInput::Memory(m) => m.seek(pos),
        }
    }
}
