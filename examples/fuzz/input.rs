//! One fuzz input: files to write and command lines to run, all generated
//! from the input's own seed so that `--start I --inputs 1` replays it.

use crate::rng::Rng;
use crate::scenario::{self, duration_text, quote};

/// One thing an input does, in order, inside its scratch folder.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write a file.
    Write(String, Vec<u8>),
    /// Run `aurora-sim ARGS…` in-process.
    Run(Vec<String>),
    /// Byte-mutate a file written by an earlier step, with this seed.
    Mutate(String, u64),
    /// Change one field of a JSON or CSV file an earlier step wrote.
    Forge(String, u64),
    /// The two files must hold the same bytes (when both exist).
    Same(String, String),
}

/// A generated input.
#[derive(Clone, Debug)]
pub struct Input {
    /// What it does.
    pub steps: Vec<Step>,
    /// Run even if the work estimate is over the cap: these test that the
    /// tool refuses huge work quickly (a hang is a finding).
    pub uncapped: bool,
}

/// Which optional flags this build's CLI has (read from clap), so inputs
/// use flags that land on the tool rather than on the parser.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    /// `sweep --set`.
    pub sweep_set: bool,
    /// `sweep --horizon`.
    pub sweep_horizon: bool,
    /// `--max-events` on `run` and `sweep`.
    pub max_events: bool,
}

/// `--max-events N`, sometimes, when the build has it.
fn max_events(r: &mut Rng, flags: &Flags, v: &mut Vec<String>) {
    if flags.max_events && r.chance(0.1) {
        v.push("--max-events".into());
        let n = if r.odd() { 8 } else { 4 };
        v.push(
            r.pick(&["1e6", "inf", "100", "1000000", "0", "-1", "x", "nan"][..n])
                .to_string(),
        );
    }
}

/// Scenario keys for `--set` and `--vary`, with the kind of value they take.
const KEYS: [(&str, u8); 33] = [
    ("horizon", b'd'),
    ("seed", b'i'),
    ("name", b's'),
    ("description", b's'),
    ("cluster.azs", b'a'),
    ("cluster.nodes_per_az", b'n'),
    ("cluster.write_quorum", b'n'),
    ("cluster.read_quorum", b'n'),
    ("cluster.segment_size", b'z'),
    ("cluster.repair_bandwidth", b'b'),
    ("cluster.repair_time", b't'),
    ("cluster.detection_delay", b't'),
    ("cluster.catchup_time", b't'),
    ("cluster.restore_time", b't'),
    ("cluster.backup_lag", b'd'),
    ("cluster.replace_down_after", b't'),
    ("cluster.repair_progress", b'p'),
    ("failures.node_crash.every", b't'),
    ("failures.node_crash.lasts", b't'),
    ("failures.node_loss.every", b't'),
    ("failures.node_loss.lasts", b't'),
    ("failures.az_outage.every", b't'),
    ("failures.az_outage.lasts", b't'),
    ("failures.az_loss.every", b't'),
    ("failures.az_loss.lasts", b't'),
    ("cluster", b's'),
    ("events", b'a'),
    ("failures.node_crash", b't'),
    ("cluster..x", b'n'),
    (".horizon", b'd'),
    ("failures.node_crash.every.mean", b'd'),
    ("cluster.write_quorom", b'n'),
    ("failures", b'i'),
];

/// A value for `kind` as typed on a command line (no TOML quoting).
fn cli_value(r: &mut Rng, kind: u8) -> String {
    let unquote = |s: String| s.trim_matches('"').to_string();
    match kind {
        b'd' if r.odd() => unquote(scenario::duration(r, 100)),
        b'd' => duration_text(r, 100),
        b't' if r.chance(0.15) => {
            let t = scenario::timing(r, 100);
            if t.starts_with('{') { t } else { unquote(t) }
        }
        b't' => duration_text(r, 300),
        b'i' => unquote(scenario::int(r, 0, 1 << 40)),
        b'n' => unquote(scenario::int(r, 1, 6)),
        b'z' => unquote(scenario::size(r)),
        b'b' => unquote(scenario::bandwidth(r)),
        b'a' => r
            .pick(&[
                "[\"a\",\"b\",\"c\",\"d\"]",
                "[\"x\"]",
                "[]",
                "az-a",
                "[\"a\",\"a\"]",
                "[[1]]",
            ])
            .to_string(),
        b'p' => r.pick(&["restart", "resume", "both", ""]).to_string(),
        _ => r.pick(&["x", "", "fuzz run", "=", "ü"]).to_string(),
    }
}

/// `KEY=VALUE` for `--set`.
fn set_arg(r: &mut Rng) -> String {
    let n = if r.odd() { KEYS.len() } else { 25 };
    let (key, kind) = *r.pick(&KEYS[..n]);
    if r.odd() && r.chance(0.2) {
        return r
            .pick(&["novalue", "=3", "k=", "a.b.c.d.e.f=1"])
            .to_string();
    }
    format!("{key}={}", cli_value(r, kind))
}

/// `KEY=VALUES` for `--vary`: a list or a lin/log range, some of them odd.
fn vary_arg(r: &mut Rng) -> (String, String) {
    let (key, kind) = *r.pick(&KEYS[..25]);
    let spec = match r.below(4) {
        0 | 1 => (0..r.range(1, 4))
            .map(|_| cli_value(r, kind))
            .collect::<Vec<_>>()
            .join(","),
        _ => {
            let n = match if r.odd() { r.below(5) } else { 9 } {
                0 => "0".to_string(),
                1 => "1000000000000".to_string(),
                2 => "18446744073709551616".to_string(),
                3 => "-2".to_string(),
                _ => r.range(1, 4).to_string(),
            };
            let unit = if kind == b'n' || kind == b'i' {
                ""
            } else {
                *r.pick(&["h", "d", "y", "s", "m", "GiB", ""])
            };
            let (a, b) = (r.range(1, 20), r.range(1, 40));
            let modes = if r.odd() { 5 } else { 4 };
            let mode = *r.pick(&["lin", "log", "lin", "log", "exp"][..modes]);
            format!("{mode}:{a}{unit}:{b}{unit}:{n}")
        }
    };
    (key.to_string(), format!("{key}={spec}"))
}

/// A scenario file's bytes: generated, generated and mutated, or a shipped
/// scenario mutated.
fn scenario_bytes(r: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let (text, _) = scenario::scenario(r);
    let mut bytes = text.into_bytes();
    match r.below(20) {
        0..=14 => bytes,
        15 | 16 => {
            let (other, _) = scenario::scenario(r);
            scenario::mutate(r, &mut bytes, other.as_bytes());
            bytes
        }
        _ if corpus.is_empty() => bytes,
        _ => {
            let mut b = r.pick(corpus).clone();
            if !r.chance(0.1) {
                scenario::mutate(r, &mut b, &bytes);
            }
            b
        }
    }
}

/// The scenario path argument: usually the file, sometimes not a scenario.
fn scenario_path(r: &mut Rng) -> String {
    if !r.odd() || r.chance(0.7) {
        "s.toml".into()
    } else {
        r.pick(&["missing.toml", ".", "", "/dev/null", "s.toml/x"])
            .to_string()
    }
}

/// `--seed`, `--horizon` and `--set` flags, each sometimes.
fn scenario_flags(r: &mut Rng, v: &mut Vec<String>, set: bool, horizon: bool) {
    if r.chance(0.3) {
        v.push("--seed".into());
        v.push(match if r.odd() { r.below(2) } else { 2 } {
            0 => r.pick(&["-1", "18446744073709551616", "x", ""]).to_string(),
            1 => u64::MAX.to_string(),
            _ => r.below(1000).to_string(),
        });
    }
    if horizon && r.chance(0.4) {
        v.push("--horizon".into());
        v.push(if r.odd() {
            scenario::duration(r, 1000).trim_matches('"').to_string()
        } else {
            duration_text(r, 30)
        });
    }
    if set {
        for _ in 0..if r.chance(0.4) { r.range(1, 4) } else { 0 } {
            v.push("--set".into());
            v.push(set_arg(r));
        }
    }
}

/// `sweep` arguments writing to `out`; returns the varied keys.
fn sweep_args(r: &mut Rng, flags: &Flags, out: &str, shard: Option<String>) -> Vec<String> {
    let mut v = vec!["sweep".into(), scenario_path(r), "--trials".into()];
    v.push(match r.odd() {
        true => r.pick(&["0", "-1", "9223372036854775808", "x"]).to_string(),
        false => r.range(1, 24).to_string(),
    });
    for _ in 0..r.below(3) {
        v.push("--vary".into());
        v.push(vary_arg(r).1);
    }
    if r.chance(0.3) {
        v.push("--seed".into());
        v.push(r.below(1 << 20).to_string());
    }
    if r.chance(0.5) {
        v.push("--threads".into());
        v.push(
            if r.odd() {
                "0"
            } else {
                *r.pick(&["1", "2", "3"])
            }
            .to_string(),
        );
    }
    max_events(r, flags, &mut v);
    if let Some(s) = shard {
        v.push("--shard".into());
        v.push(s);
    }
    if flags.sweep_set || flags.sweep_horizon {
        scenario_flags(r, &mut v, flags.sweep_set, flags.sweep_horizon);
    }
    v.extend(["--out".into(), out.into()]);
    if r.chance(0.9) {
        v.push("--quiet".into());
    }
    v
}

/// An odd shard `K/N`.
fn odd_shard(r: &mut Rng) -> String {
    r.pick(&[
        "0/3",
        "4/3",
        "1/0",
        "a/b",
        "3",
        "18446744073709551615/18446744073709551615",
        "1/18446744073709551615",
        "18446744073709551616/2",
        " 1 / 2 ",
    ])
    .to_string()
}

/// Generates input `index` of the campaign `seed`.
pub fn generate(seed: u64, index: u64, corpus: &[Vec<u8>], flags: &Flags) -> Input {
    let r = &mut Rng::for_input(seed, index);
    if r.chance(1.0 / 2000.0) {
        let base = match corpus {
            [] => scenario::scenario(r).0.into_bytes(),
            c => r.pick(c).clone(),
        };
        let steps = vec![
            Step::Write("s.toml".into(), base),
            Step::Run(huge(r, flags)),
        ];
        return Input {
            steps,
            uncapped: true,
        };
    }
    // Half the inputs are clean (only the mutations and the generator's
    // choices vary), the rest carry some or many odd values.
    let odd = *r.pick(&[0.0, 0.0, 0.0, 0.0, 0.0, 0.03, 0.03, 0.03, 0.2, 0.2]);
    r.set_odd(odd);
    let mut steps = vec![Step::Write("s.toml".into(), scenario_bytes(r, corpus))];
    match r.below(100) {
        0..=34 | 92..=99 => {
            let mut v = vec!["run".to_string(), scenario_path(r)];
            scenario_flags(r, &mut v, true, true);
            if r.chance(0.75) {
                v.push("--json".into());
            }
            max_events(r, flags, &mut v);
            if r.chance(0.15) {
                v.extend(["--timeline".into(), out_path(r, "t.csv")]);
            }
            if r.chance(0.08) {
                v.extend(["--plot".into(), out_path(r, "p.svg")]);
            }
            steps.push(Step::Run(v));
        }
        35..=49 => {
            let mut v = vec!["check".to_string(), scenario_path(r)];
            scenario_flags(r, &mut v, true, true);
            steps.push(Step::Run(v));
        }
        50..=63 => {
            let shard = r.chance(0.1).then(|| match r.odd() {
                true => odd_shard(r),
                false => format!("1/{}", r.range(1, 3)),
            });
            let out = out_path(r, "out.csv");
            steps.push(Step::Run(sweep_args(r, flags, &out, shard)));
        }
        64..=66 => {
            // analyze has no --horizon (a --seed is still tried: clap refuses it).
            let mut v = vec!["analyze".to_string(), scenario_path(r)];
            scenario_flags(r, &mut v, true, false);
            for f in ["--json", "--approx"] {
                if r.chance(0.5) {
                    v.push(f.into());
                }
            }
            steps.push(Step::Run(v));
        }
        67..=75 => merge_chain(r, flags, &mut steps),
        76..=85 => plot_chain(r, flags, &mut steps),
        _ => steps.push(Step::Run(garbage(r))),
    }
    Input {
        steps,
        uncapped: false,
    }
}

/// An output path: usually `name`, sometimes one the tool must refuse.
fn out_path(r: &mut Rng, name: &str) -> String {
    if !r.odd() || r.chance(0.7) {
        name.into()
    } else {
        r.pick(&["nodir/x.csv", "s.toml", ".", "dir/", "x.png", ""])
            .to_string()
    }
}

/// Shards of one sweep, merged, and compared with the unsharded sweep.
fn merge_chain(r: &mut Rng, flags: &Flags, steps: &mut Vec<Step>) {
    let n = r.range(1, 3);
    let base = sweep_args(r, flags, "full.csv", None);
    let mut parts = Vec::new();
    for k in 1..=n {
        let mut v = base.clone();
        let at = v.iter().position(|a| a == "--out").unwrap_or(v.len());
        let p = format!("p{k}.json");
        v.splice(
            at..,
            [
                "--shard".into(),
                format!("{k}/{n}"),
                "--out".into(),
                p.clone(),
                "--quiet".into(),
            ],
        );
        steps.push(Step::Run(v));
        parts.push(p);
    }
    let tamper = r.chance(0.5);
    if tamper {
        let p = r.pick(&parts).clone();
        let s = r.next();
        steps.push(if r.chance(0.3) {
            Step::Mutate(p, s)
        } else {
            Step::Forge(p, s)
        });
    }
    let mut m = vec!["merge".to_string()];
    m.extend(parts.iter().cloned());
    if r.odd() && r.chance(0.3) {
        m.push(r.pick(&parts).clone());
    }
    if r.odd() && r.chance(0.3) && m.len() > 2 {
        m.pop();
    }
    m.extend(["--out".into(), out_path(r, "m.csv")]);
    steps.push(Step::Run(m));
    if !tamper {
        steps.push(Step::Run(base));
        steps.push(Step::Same("m.csv".into(), "full.csv".into()));
    }
}

/// A run or sweep whose output is then plotted, sometimes tampered with.
fn plot_chain(r: &mut Rng, flags: &Flags, steps: &mut Vec<Step>) {
    let timeline = r.chance(0.5);
    let (csv, mut plot) = if timeline {
        let mut v = vec!["run".to_string(), "s.toml".into()];
        scenario_flags(r, &mut v, true, true);
        v.extend(["--timeline".into(), "t.csv".into()]);
        steps.push(Step::Run(v));
        (
            "t.csv",
            vec!["plot".into(), "timeline".into(), "t.csv".into()],
        )
    } else {
        let v = sweep_args(r, flags, "s.csv", None);
        let x = v
            .iter()
            .skip_while(|a| *a != "--vary")
            .nth(1)
            .and_then(|a| a.split('=').next())
            .unwrap_or("horizon")
            .to_string();
        steps.push(Step::Run(v));
        let y = *r.pick(&[
            "p_data_loss",
            "write_availability_mean",
            "read_availability_mean",
            "mttdl_seconds",
            "data_loss_events",
            "trials",
            "nope",
        ]);
        let mut p: Vec<String> = ["plot", "sweep", "s.csv", "--x", &x, "--y", y]
            .map(String::from)
            .to_vec();
        for f in ["--logx", "--linx", "--logy", "--liny"] {
            if r.chance(0.15) {
                p.push(f.into());
            }
        }
        ("s.csv", p)
    };
    if r.chance(0.4) {
        let s = r.next();
        steps.push(if r.chance(0.4) {
            Step::Mutate(csv.into(), s)
        } else {
            Step::Forge(csv.into(), s)
        });
    }
    plot.extend(["--out".into(), out_path(r, "plot.svg")]);
    steps.push(Step::Run(plot));
}

/// Command lines of random tokens: the parser must refuse them cleanly.
fn garbage(r: &mut Rng) -> Vec<String> {
    const TOKENS: [&str; 30] = [
        "run",
        "check",
        "sweep",
        "merge",
        "analyze",
        "plot",
        "timeline",
        "help",
        "--help",
        "-h",
        "--version",
        "--json",
        "--set",
        "--vary",
        "--seed",
        "--horizon",
        "--trials",
        "--out",
        "--shard",
        "--threads",
        "s.toml",
        "out.csv",
        "1",
        "-1",
        "x=y",
        "--",
        "-",
        "--quiet",
        "--approx",
        "--logx",
    ];
    (0..r.below(7))
        .map(|_| {
            if r.chance(0.1) {
                quote(&duration_text(r, 10))
            } else {
                r.pick(&TOKENS).to_string()
            }
        })
        .collect()
}

/// Inputs that ask for far too much: the tool must refuse them quickly.
fn huge(r: &mut Rng, flags: &Flags) -> Vec<String> {
    let base = ["run", "s.toml", "--json"].map(String::from).to_vec();
    let with = |mut v: Vec<String>, extra: &[&str]| {
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    match r.below(6) {
        0 => with(
            base,
            &[
                "--horizon",
                "100000y",
                "--set",
                "failures.node_crash.every=1ms",
                "--set",
                "failures.node_crash.lasts=1ms",
            ],
        ),
        1 => with(
            sweep_args(r, flags, "out.csv", None),
            &["--threads", "10000"],
        ),
        2 => with(
            vec![
                "sweep".into(),
                "s.toml".into(),
                "--trials".into(),
                "1".into(),
            ],
            &[
                "--vary",
                "cluster.backup_lag=lin:1:2:1000000000000",
                "--out",
                "out.csv",
                "--quiet",
            ],
        ),
        3 => with(
            vec![
                "sweep".into(),
                "s.toml".into(),
                "--trials".into(),
                "18446744073709551615".into(),
            ],
            &["--out", "out.csv", "--quiet"],
        ),
        4 => with(
            vec!["analyze".into(), "s.toml".into()],
            &[
                "--set",
                "cluster.nodes_per_az=4",
                "--set",
                "cluster.write_quorum=7",
                "--set",
                "cluster.read_quorum=6",
                "--set",
                "failures.node_crash.every=1d",
                "--set",
                "failures.node_crash.lasts=1h",
            ],
        ),
        _ => with(
            vec![
                "sweep".into(),
                "s.toml".into(),
                "--trials".into(),
                "1".into(),
            ],
            &[
                "--vary",
                "cluster.backup_lag=lin:1:1000:1000",
                "--vary",
                "cluster.restore_time=lin:1:1000:1000",
                "--out",
                "out.csv",
                "--quiet",
            ],
        ),
    }
}
