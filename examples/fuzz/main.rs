//! Fuzzes the command layer in-process: `cargo run --release --example fuzz -- --inputs 1000000`.

// A supervisor process runs one worker that takes the inputs one after
// another through `Cli::try_parse_from` and `commands::dispatch`. Only an
// abort (a refused allocation, a stack overflow) or a hang ends the worker;
// the supervisor then saves that input and starts a worker at the next one,
// so one crash neither ends the campaign nor costs a process per input.

mod check;
mod estimate;
mod input;
mod limit;
mod outputs;
mod rng;
mod scenario;

use check::Outcome;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOC: limit::Capped = limit::Capped;

/// Campaign settings.
#[derive(Clone, Debug)]
struct Opts {
    inputs: u64,
    seed: u64,
    start: u64,
    findings: PathBuf,
    timeout: Duration,
    max_memory_mib: usize,
    worker: Option<PathBuf>,
}

const USAGE: &str = "usage: fuzz [--inputs N] [--seed S] [--start I] [--findings DIR] \
[--timeout SECS] [--max-memory MIB]";

fn parse_opts() -> Result<Opts, String> {
    let mut o = Opts {
        inputs: 10_000,
        seed: 1,
        start: 0,
        findings: Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-findings"),
        timeout: Duration::from_secs(20),
        max_memory_mib: 2048,
        worker: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value\n{USAGE}"));
        let num = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{a}: `{v}` is not a number"))
        };
        match a.as_str() {
            "--inputs" => o.inputs = num(val()?)?,
            "--seed" => o.seed = num(val()?)?,
            "--start" => o.start = num(val()?)?,
            "--findings" => o.findings = PathBuf::from(val()?),
            "--timeout" => o.timeout = Duration::from_secs(num(val()?)?),
            "--max-memory" => o.max_memory_mib = num(val()?)? as usize,
            "--worker" => o.worker = Some(PathBuf::from(val()?)),
            "-h" | "--help" => return Err(USAGE.into()),
            _ => return Err(format!("unknown argument `{a}`\n{USAGE}")),
        }
    }
    Ok(o)
}

fn main() {
    let o = match parse_opts() {
        Ok(o) => o,
        Err(m) => {
            eprintln!("{m}");
            std::process::exit(2);
        }
    };
    limit::MAX.store(o.max_memory_mib << 20, std::sync::atomic::Ordering::Relaxed);
    match &o.worker {
        Some(dir) => worker(&o, dir),
        None => std::process::exit(supervise(&o)),
    }
}

/// The shipped scenarios, in name order: valid starting points for mutation.
fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    names.sort();
    names.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Which optional flags the CLI of this build has.
fn flags() -> input::Flags {
    use clap::CommandFactory;
    let cmd = aurora_sim::cli::Cli::command();
    let has = |sub: &str, long: &str| {
        cmd.find_subcommand(sub)
            .is_some_and(|s| s.get_arguments().any(|a| a.get_long() == Some(long)))
    };
    input::Flags {
        sweep_set: has("sweep", "set"),
        sweep_horizon: has("sweep", "horizon"),
        max_events: has("run", "max-events") && has("sweep", "max-events"),
    }
}

/// Runs inputs `start..inputs` in this process, reporting each on stdout.
fn worker(o: &Opts, dir: &Path) {
    if let Err(e) = std::env::set_current_dir(dir) {
        eprintln!("fuzz worker: cannot enter {}: {e}", dir.display());
        std::process::exit(2);
    }
    check::install_panic_hook();
    scenario::probe_keys();
    let (corpus, flags) = (corpus(), flags());
    let mut out = std::io::stdout().lock();
    for i in o.start..o.inputs {
        let _ = writeln!(out, "b {i}");
        let _ = out.flush();
        let inp = input::generate(o.seed, i, &corpus, &flags);
        let line = match check::execute(&inp) {
            Outcome::Valid => "v".to_string(),
            Outcome::Invalid => "i".to_string(),
            Outcome::Skipped => "s".to_string(),
            Outcome::Finding(sig, details) => {
                save(o, i, &sig, &details, &inp, Path::new("."));
                format!("f {sig}")
            }
        };
        let _ = writeln!(out, "r {i} {line}");
    }
    let _ = out.flush();
}

/// Saves a finding (at most three per signature): the scratch folder's files,
/// what happened, and the command that replays it.
fn save(o: &Opts, index: u64, sig: &str, details: &str, inp: &input::Input, dir: &Path) {
    let slug: String = sig
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(60)
        .collect();
    let same = std::fs::read_dir(&o.findings)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{slug}--"))
        })
        .count();
    if same >= 3 {
        return;
    }
    let to = o.findings.join(format!("{slug}--{index}"));
    if std::fs::create_dir_all(&to).is_err() {
        return;
    }
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.metadata()
            .is_ok_and(|m| m.is_file() && m.len() < 10 << 20)
        {
            let _ = std::fs::copy(e.path(), to.join(e.file_name()));
        }
    }
    let steps: Vec<String> = inp
        .steps
        .iter()
        .map(|s| match s {
            input::Step::Write(n, b) => format!("write {n} ({} bytes)", b.len()),
            input::Step::Run(a) => format!("aurora-sim {}", check::shell_words(a)),
            other => format!("{other:?}"),
        })
        .collect();
    let text = format!(
        "{sig}\n\n{details}\n\ninput {index} of seed {}; steps (in this folder's files):\n  {}\n\n\
         replay: cargo run --release --example fuzz -- --seed {} --start {index} --inputs {}\n",
        o.seed,
        steps.join("\n  "),
        o.seed,
        index + 1
    );
    let _ = std::fs::write(to.join("finding.txt"), text);
}

/// Totals over the campaign.
#[derive(Default)]
struct Tally {
    counts: [u64; 4],
    findings: BTreeMap<String, (u64, u64)>,
}

impl Tally {
    fn finding(&mut self, sig: &str, index: u64) {
        self.counts[3] += 1;
        self.findings.entry(sig.to_string()).or_insert((0, index)).0 += 1;
    }
}

/// Keeps workers running until every input is done; returns the exit status.
fn supervise(o: &Opts) -> i32 {
    let scratch = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("fuzz: cannot make a scratch folder: {e}");
            return 2;
        }
    };
    // Findings of an earlier campaign would be counted against this one.
    for e in std::fs::read_dir(&o.findings)
        .into_iter()
        .flatten()
        .flatten()
    {
        if e.path().join("finding.txt").is_file() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let _ = std::fs::create_dir_all(&o.findings);
    eprintln!(
        "fuzz: seed {}, inputs {}..{}, findings in {}",
        o.seed,
        o.start,
        o.inputs,
        o.findings.display()
    );
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut next = o.start;
    let mut last_note = Instant::now();
    while next < o.inputs {
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("fuzz"));
        let child = Command::new(exe)
            .args(["--seed", &o.seed.to_string(), "--start", &next.to_string()])
            .args(["--inputs", &o.inputs.to_string(), "--worker"])
            .arg(scratch.path())
            .arg("--findings")
            .arg(&o.findings)
            .args(["--max-memory", &o.max_memory_mib.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                eprintln!("fuzz: cannot start a worker: {e}");
                return 2;
            }
        };
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take();
        std::thread::spawn(move || {
            for line in stdout
                .map(BufReader::new)
                .into_iter()
                .flat_map(|r| r.lines())
            {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take();
        let tail = std::thread::spawn(move || {
            // The worker's stderr (the tool's notes) matters only at a crash:
            // keep its last few kilobytes.
            let mut keep = Vec::new();
            let mut buf = [0u8; 8192];
            while let Some(Ok(n @ 1..)) = stderr.as_mut().map(|s| s.read(&mut buf)) {
                keep.extend_from_slice(&buf[..n]);
                if keep.len() > 64 << 10 {
                    keep.drain(..keep.len() - (16 << 10));
                }
            }
            String::from_utf8_lossy(&keep).into_owned()
        });
        let mut begun: Option<(u64, Instant)> = None;
        let mut hung = false;
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let mut it = line.splitn(3, ' ');
                    let (tag, idx, rest) = (it.next(), it.next(), it.next().unwrap_or(""));
                    let idx: u64 = idx.and_then(|s| s.parse().ok()).unwrap_or(next);
                    match tag {
                        Some("b") => begun = Some((idx, Instant::now())),
                        Some("r") => {
                            begun = None;
                            next = idx + 1;
                            match rest.split_once(' ').map_or((rest, ""), |p| p) {
                                ("v", _) => tally.counts[0] += 1,
                                ("i", _) => tally.counts[1] += 1,
                                ("s", _) => tally.counts[2] += 1,
                                (_, sig) => tally.finding(sig, idx),
                            }
                        }
                        _ => {}
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if begun.is_some_and(|(_, t)| t.elapsed() > o.timeout) {
                        hung = true;
                        let _ = child.kill();
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if last_note.elapsed() > Duration::from_secs(30) {
                last_note = Instant::now();
                let done = next - o.start;
                eprintln!(
                    "fuzz: {done} inputs, {} findings, {:.0} inputs/s",
                    tally.counts[3],
                    done as f64 / started.elapsed().as_secs_f64()
                );
            }
        }
        let status = child.wait();
        let tail = tail.join().unwrap_or_default();
        if let Some((idx, _)) = begun {
            // The line that says why, if the runtime printed one.
            let why = [
                "memory allocation of",
                "overflowed its stack",
                "fatal runtime",
            ];
            let last = tail
                .lines()
                .find(|l| why.iter().any(|w| l.contains(w)))
                .or_else(|| tail.lines().rev().find(|l| !l.trim().is_empty()))
                .unwrap_or("");
            scenario::probe_keys();
            let inp = input::generate(o.seed, idx, &corpus(), &flags());
            let cmd = inp.steps.iter().rev().find_map(|s| match s {
                input::Step::Run(a) => a.first().cloned(),
                _ => None,
            });
            let cmd = cmd.unwrap_or_default();
            let sig = if hung {
                format!("hang: {cmd}: no answer in {} s", o.timeout.as_secs())
            } else {
                // Where: the first frame of the simulator's own code.
                let frame = tail
                    .lines()
                    .map(str::trim)
                    .find(|l| l.contains("aurora_sim::") && !l.contains("fuzz"))
                    .map_or(String::new(), |f| format!(" @ {}", check::signature(f)));
                format!("abort: {cmd}: {}{frame}", check::signature(last))
            };
            let start = tail.len().saturating_sub(8192);
            let start = (start..tail.len())
                .find(|&i| tail.is_char_boundary(i))
                .unwrap_or(0);
            let details = format!(
                "worker {status:?}: {last}\nlast stderr:\n{}",
                &tail[start..]
            );
            save(o, idx, &sig, &details, &inp, scratch.path());
            tally.finding(&sig, idx);
            next = idx + 1;
        } else if next < o.inputs {
            eprintln!("fuzz: the worker ended early ({status:?}):\n{tail}");
            return 2;
        }
    }
    summary(o, &tally, started.elapsed())
}

/// Prints the totals and each kind of finding; exit 1 if anything was found.
fn summary(o: &Opts, t: &Tally, took: Duration) -> i32 {
    let n = o.inputs - o.start;
    let [valid, invalid, skipped, found] = t.counts;
    println!("fuzz: seed {}, inputs {}..{}", o.seed, o.start, o.inputs);
    println!("  inputs run      {n}");
    println!("  valid           {valid} (the last command succeeded and passed every check)");
    println!("  invalid         {invalid} (refused: exit 2 with a message)");
    println!("  skipped         {skipped} (estimated work over the per-input cap)");
    println!("  findings        {found} ({} kinds)", t.findings.len());
    for (sig, (count, first)) in &t.findings {
        println!("    {count:>7} × {sig}  (first: input {first})");
    }
    println!(
        "  time            {:.1} s, {:.0} inputs/s",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64().max(1e-9)
    );
    if found > 0 {
        println!("  saved in        {}", o.findings.display());
        1
    } else {
        0
    }
}
