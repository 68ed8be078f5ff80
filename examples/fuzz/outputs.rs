//! Checks of what a successful command printed or wrote (SPEC §3), and
//! tampering with the files one command hands to the next.

use crate::estimate::{Plan, quorums};
use crate::rng::Rng;
use serde_json::Value;
use std::path::Path;

/// The keys SPEC §3 promises in `run --json`.
const RUN_KEYS: [&str; 15] = [
    "scenario",
    "seed",
    "horizon_seconds",
    "write_availability",
    "read_availability",
    "write_unavailable_seconds",
    "read_unavailable_seconds",
    "write_outages",
    "read_outages",
    "longest_write_outage_seconds",
    "longest_read_outage_seconds",
    "data_loss_events",
    "first_data_loss_seconds",
    "lost_write_seconds",
    "events_processed",
];

/// The sweep CSV's columns after the varied keys (SPEC §3).
const SWEEP_COLUMNS: [&str; 13] = [
    "trials",
    "write_availability_mean",
    "write_availability_ci_low",
    "write_availability_ci_high",
    "read_availability_mean",
    "read_availability_ci_low",
    "read_availability_ci_high",
    "p_data_loss",
    "p_data_loss_ci_low",
    "p_data_loss_ci_high",
    "data_loss_events",
    "simulated_seconds",
    "mttdl_seconds",
];

/// The value after `flag` in `args`.
fn flag<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.windows(2)
        .find(|w| w[0] == flag)
        .map(|w| w[1].as_str())
}

/// Checks a successful command's stdout and files.
pub fn check(
    kind: &str,
    args: &[String],
    text: &str,
    json: bool,
    plan: &Plan,
) -> Result<(), String> {
    let sc = plan.scenarios.first();
    let read_covers_write = sc.and_then(quorums).is_some_and(|(w, r)| w >= r);
    match kind {
        "run" if json => run_json(text, plan, read_covers_write)?,
        "analyze" if json => analyze_json(text, read_covers_write)?,
        "sweep" => sweep_csv(&read(flag(args, "--out"))?, plan, flag(args, "--trials"))?,
        "sweep --shard" => {
            let v: Value = serde_json::from_str(&read(flag(args, "--out"))?)
                .map_err(|e| format!("partial file is not JSON: {e}"))?;
            for k in ["format", "shard", "shards", "points", "axes"] {
                v.get(k).ok_or(format!("partial file lacks `{k}`"))?;
            }
        }
        "merge" => sweep_csv(
            &read(flag(args, "--out"))?,
            &Plan {
                events: 0.0,
                scenarios: Vec::new(),
            },
            None,
        )?,
        "plot timeline" | "plot sweep" => svg(flag(args, "--out"))?,
        _ if text.trim().is_empty() => return Err("printed nothing".into()),
        _ => {}
    }
    if kind == "run" {
        if let (Some(t), Some(sc)) = (flag(args, "--timeline"), sc) {
            timeline(&read(Some(t))?, sc, read_covers_write)?;
        }
        if flag(args, "--plot").is_some() {
            svg(flag(args, "--plot"))?;
        }
    }
    Ok(())
}

/// A file a successful command must have written.
fn read(path: Option<&str>) -> Result<String, String> {
    let p = path.ok_or("no output path")?;
    std::fs::read_to_string(p).map_err(|e| format!("output {p} unreadable after success: {e}"))
}

/// The output is well-formed SVG.
fn svg(path: Option<&str>) -> Result<(), String> {
    let text = read(path)?;
    let doc = roxmltree::Document::parse(&text).map_err(|e| format!("SVG is not XML: {e}"))?;
    if doc.root_element().tag_name().name() != "svg" {
        return Err("SVG root is not <svg>".into());
    }
    Ok(())
}

/// A finite number in [0, 1].
fn fraction(v: &Value, key: &str) -> Result<f64, String> {
    let x = v[key]
        .as_f64()
        .ok_or(format!("`{key}` is not a number: {}", v[key]))?;
    if !(0.0..=1.0).contains(&x) {
        return Err(format!("`{key}` = {x} is outside [0, 1]"));
    }
    Ok(x)
}

/// `run --json`: SPEC keys, ranges and the identities between them.
fn run_json(text: &str, plan: &Plan, read_covers_write: bool) -> Result<(), String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("JSON does not parse: {e}"))?;
    for k in RUN_KEYS {
        v.get(k).ok_or(format!("JSON lacks `{k}`"))?;
    }
    let num = |k: &str| {
        v[k].as_f64()
            .ok_or(format!("`{k}` is not a number: {}", v[k]))
    };
    let h = num("horizon_seconds")?;
    for side in ["write", "read"] {
        let a = fraction(&v, &format!("{side}_availability"))?;
        let u = num(&format!("{side}_unavailable_seconds"))?;
        let longest = num(&format!("longest_{side}_outage_seconds"))?;
        let outages = num(&format!("{side}_outages"))?;
        if !(0.0..=h).contains(&u) {
            return Err(format!(
                "{side}_unavailable_seconds = {u} outside [0, horizon {h}]"
            ));
        }
        if (1.0 - u / h - a).abs() > 1e-9 {
            return Err(format!("{side}_availability {a} ≠ 1 − {u}/{h}"));
        }
        if longest > u || (outages == 0.0) != (u == 0.0) {
            return Err(format!(
                "{side}: {outages} outages, longest {longest} s, total {u} s"
            ));
        }
    }
    if read_covers_write && num("read_unavailable_seconds")? > num("write_unavailable_seconds")? {
        return Err("reads unavailable longer than writes with write quorum ≥ read quorum".into());
    }
    let losses = num("data_loss_events")?;
    match v["first_data_loss_seconds"].as_f64() {
        None if losses > 0.0 => return Err("data loss without first_data_loss_seconds".into()),
        Some(t) if losses == 0.0 || !(0.0..h).contains(&t) => {
            return Err(format!(
                "first_data_loss_seconds = {t} with {losses} losses, horizon {h}"
            ));
        }
        _ => {}
    }
    let lost = num("lost_write_seconds")?;
    if !(lost >= 0.0 && lost.is_finite()) {
        return Err(format!("lost_write_seconds = {lost}"));
    }
    if let Some(sc) = plan.scenarios.first() {
        if v["scenario"].as_str() != Some(sc.name.as_str()) || v["seed"].as_u64() != Some(sc.seed) {
            return Err(format!(
                "scenario/seed {} {} ≠ {} {}",
                v["scenario"], v["seed"], sc.name, sc.seed
            ));
        }
        if h != sc.horizon.as_secs_f64() {
            return Err(format!(
                "horizon_seconds {h} ≠ the scenario's {}",
                sc.horizon.as_secs_f64()
            ));
        }
    }
    Ok(())
}

/// `analyze --json`: fractions, their complements, read ≥ write.
fn analyze_json(text: &str, read_covers_write: bool) -> Result<(), String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("JSON does not parse: {e}"))?;
    let mut u = [0.0; 2];
    for (i, side) in ["write", "read"].iter().enumerate() {
        let a = fraction(&v, &format!("{side}_availability"))?;
        u[i] = fraction(&v, &format!("{side}_unavailability"))?;
        if (a + u[i] - 1.0).abs() > 1e-9 {
            return Err(format!(
                "{side}: availability {a} + unavailability {} ≠ 1",
                u[i]
            ));
        }
    }
    if read_covers_write && u[1] > u[0] * (1.0 + 1e-9) + 1e-300 {
        return Err(format!(
            "read unavailability {} > write unavailability {}",
            u[1], u[0]
        ));
    }
    match &v.get("mttdl_seconds") {
        None => Err("JSON lacks `mttdl_seconds`".into()),
        Some(Value::Null) => Ok(()),
        Some(m) => match m.as_f64() {
            Some(x) if x > 0.0 => Ok(()),
            _ => Err(format!("mttdl_seconds = {m}")),
        },
    }
}

/// The columns a volume sweep adds at the end (SPEC §4).
const VOLUME_SWEEP_COLUMNS: [&str; 2] = ["pgs_with_data_loss_mean", "lost_bytes_mean"];

/// The volume timeline's columns (SPEC §4), listed here independently.
const VOLUME_TIMELINE: [&str; 11] = [
    "time_s",
    "event",
    "target",
    "write_available",
    "read_available",
    "pgs_write_unavailable",
    "pgs_read_unavailable",
    "pgs_degraded",
    "repairs_running",
    "repairs_waiting",
    "data_loss_events",
];

/// A sweep or merge CSV: columns, ranges, interval order, mttdl rule.
fn sweep_csv(text: &str, plan: &Plan, trials: Option<&str>) -> Result<(), String> {
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rd
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(String::from)
        .collect();
    let first = header
        .iter()
        .position(|h| h == "trials")
        .ok_or("no `trials` column")?;
    let cols = header[first..].iter().map(String::as_str);
    let plain = cols.clone().eq(SWEEP_COLUMNS.iter().copied());
    let volume = cols.eq(SWEEP_COLUMNS
        .iter()
        .chain(VOLUME_SWEEP_COLUMNS.iter())
        .copied());
    if !(plain || volume) {
        return Err(format!("columns {header:?}"));
    }
    let mut rows = 0;
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| e.to_string())?;
        rows += 1;
        let cell = |c: &str| {
            rec.get(first + SWEEP_COLUMNS.iter().position(|x| *x == c).unwrap_or(0))
                .unwrap_or("")
        };
        let f = |c: &str| {
            cell(c)
                .parse::<f64>()
                .map_err(|_| format!("row {i}: {c} = `{}`", cell(c)))
        };
        let n = f("trials")?;
        if n < 1.0 || trials.is_some_and(|t| t.parse::<f64>().ok() != Some(n)) {
            return Err(format!("row {i}: trials = {n}, asked {trials:?}"));
        }
        for m in ["write_availability", "read_availability", "p_data"] {
            let (mean, lo, hi) = if m == "p_data" {
                (
                    "p_data_loss".to_string(),
                    "p_data_loss_ci_low".to_string(),
                    "p_data_loss_ci_high".to_string(),
                )
            } else {
                (
                    format!("{m}_mean"),
                    format!("{m}_ci_low"),
                    format!("{m}_ci_high"),
                )
            };
            let x = f(&mean)?;
            if !(0.0..=1.0).contains(&x) {
                return Err(format!("row {i}: {mean} = {x} outside [0, 1]"));
            }
            if !cell(&lo).is_empty() || !cell(&hi).is_empty() {
                let (l, h) = (f(&lo)?, f(&hi)?);
                if !(0.0 <= l && l <= x && x <= h && h <= 1.0) {
                    return Err(format!("row {i}: {mean}: not 0 ≤ {l} ≤ {x} ≤ {h} ≤ 1"));
                }
            }
        }
        let events = f("data_loss_events")?;
        if (events == 0.0) != cell("mttdl_seconds").is_empty()
            || f("p_data_loss")? * n > events + 1e-6
        {
            return Err(format!(
                "row {i}: {events} losses, p = {}, mttdl `{}`",
                cell("p_data_loss"),
                cell("mttdl_seconds")
            ));
        }
        if let Some(sc) = plan.scenarios.get(i) {
            let want = n * sc.horizon.as_secs_f64();
            if (f("simulated_seconds")? - want).abs() > 1e-9 * want {
                return Err(format!(
                    "row {i}: simulated_seconds {} ≠ {n} × horizon",
                    cell("simulated_seconds")
                ));
            }
            if quorums(sc).is_some_and(|(w, r)| w >= r)
                && f("read_availability_mean")? < f("write_availability_mean")?
            {
                return Err(format!(
                    "row {i}: read availability below write availability"
                ));
            }
        }
    }
    if !plan.scenarios.is_empty() && rows != plan.scenarios.len() {
        return Err(format!(
            "{rows} rows for {} grid points",
            plan.scenarios.len()
        ));
    }
    Ok(())
}

/// A database timeline (SPEC §5): start/end rows, time order, a writer
/// among the `n` instances (or none), at most `n` up, writes only with a
/// writer serving, booleans, and data losses that never go down.
fn database_timeline(text: &str, n: usize) -> Result<(), String> {
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header = rd.headers().map_err(|e| e.to_string())?.clone();
    if header.iter().ne(aurora_sim::output::timeline::DB_COLUMNS) {
        return Err(format!("database timeline header {header:?}"));
    }
    let (mut prev, mut rows, mut last, mut losses) = (0.0f64, 0, String::new(), 0u64);
    let flag = |s: &str| match s {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("boolean `{s}`")),
    };
    for rec in rd.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let t: f64 = rec[0].parse().map_err(|_| format!("time `{}`", &rec[0]))?;
        if t < prev || (rows == 0) != (&rec[1] == "start") {
            return Err(format!("row {rows}: {t} s {} after {prev} s", &rec[1]));
        }
        let writer = match &rec[3] {
            "" => None,
            w => Some(w.parse::<usize>().map_err(|_| format!("writer `{w}`"))?),
        };
        if writer.is_some_and(|w| w == 0 || w > n) {
            return Err(format!("row {rows}: writer {writer:?} of {n} instances"));
        }
        let up: usize = rec[4]
            .parse()
            .map_err(|_| format!("instances_up `{}`", &rec[4]))?;
        if up > n {
            return Err(format!("row {rows}: {up} of {n} instances up"));
        }
        let (w, _r, _s) = (flag(&rec[5])?, flag(&rec[6])?, flag(&rec[7])?);
        if w && writer.is_none() {
            return Err(format!("row {rows}: write-available with no writer"));
        }
        let l: u64 = rec[8]
            .parse()
            .map_err(|_| format!("data_loss_events `{}`", &rec[8]))?;
        if l < losses {
            return Err(format!("row {rows}: data_loss_events went down"));
        }
        (prev, losses, last) = (t, l, rec[1].to_string());
        rows += 1;
    }
    if last != "end" {
        return Err(format!("last row `{last}`, not end"));
    }
    Ok(())
}

/// The timeline CSV: start/end rows, time order, letters, and the quorum
/// definitions of SPEC §1 on every row.
fn timeline(
    text: &str,
    sc: &aurora_sim::scenario::Scenario,
    read_covers_write: bool,
) -> Result<(), String> {
    if let Some(db) = &sc.config.database {
        return database_timeline(text, db.spec.instances.len());
    }
    if sc.config.storage.volume_mode {
        return volume_timeline(text, sc);
    }
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let v = sc.config.layout.replicas();
    let header = rd.headers().map_err(|e| e.to_string())?.clone();
    if header.len() != 8 + v || &header[1] != "event" {
        return Err(format!("timeline header {header:?}"));
    }
    let q = quorums(sc);
    let (mut prev, mut n, mut last) = (0.0f64, 0, String::new());
    for rec in rd.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let t: f64 = rec[0].parse().map_err(|_| format!("time `{}`", &rec[0]))?;
        if t < prev || (n == 0) != (&rec[1] == "start") {
            return Err(format!("row {n}: {t} s {} after {prev} s", &rec[1]));
        }
        let letters = rec.iter().skip(8).collect::<String>();
        if letters.len() != v || !letters.chars().all(|c| "CSDLR".contains(c)) {
            return Err(format!("row {n}: replica states `{letters}`"));
        }
        let count = |s: &str| letters.chars().filter(|c| s.contains(*c)).count() as u32;
        let (wa, ra) = (&rec[5] == "true", &rec[6] == "true");
        if let Some((w, r)) = q
            && (wa != (count("C") >= w) || ra != (count("CS") >= r && count("C") >= 1))
        {
            return Err(format!(
                "row {n} at {t} s: `{letters}` with write {wa}, read {ra} (quorums {w}/{r})"
            ));
        }
        if read_covers_write && wa && !ra {
            return Err(format!("row {n}: writes available, reads not"));
        }
        (prev, n, last) = (t, n + 1, rec[1].to_string());
    }
    if last != "end" || (prev - sc.horizon.as_secs_f64()).abs() > 1e-6 {
        return Err(format!(
            "timeline ends with `{last}` at {prev} s, horizon {} s",
            sc.horizon.as_secs_f64()
        ));
    }
    Ok(())
}

/// Values that have broken readers of numbers before.
const ODD: [&str; 14] = [
    "5e-324",
    "inf",
    "-inf",
    "NaN",
    "1e308",
    "-1",
    "",
    "0",
    "x",
    "1e-300",
    "18446744073709551616",
    "1000000000000",
    "1.5",
    "ffffffffffffffffffffffffffffffffffffffff",
];

/// Changes one field of a part file (JSON) or one cell of a CSV.
pub fn forge(path: &Path, r: &mut Rng) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let out = if let Ok(mut v) = serde_json::from_str::<Value>(&text) {
        let odd = *r.pick(&ODD);
        let new = match (odd.parse::<u64>(), odd.parse::<f64>()) {
            _ if r.chance(0.3) => Value::String(odd.into()),
            (Ok(u), _) => Value::from(u),
            (_, Ok(f)) if f.is_finite() => Value::from(f),
            _ => Value::from(u64::MAX),
        };
        let top = [
            "shards",
            "shard",
            "trials",
            "seed",
            "scenario_hash",
            "format",
            "axes",
        ];
        let pt = [
            "trials",
            "write_sum",
            "write_sum_sq",
            "read_sum",
            "loss_trials",
            "loss_events",
            "simulated_us",
            "first_loss_trial",
        ];
        if r.chance(0.5) {
            v[*r.pick(&top)] = new;
        } else if let Some(ps) = v["points"].as_array_mut().filter(|p| !p.is_empty()) {
            let i = r.below(ps.len() as u64) as usize;
            ps[i][*r.pick(&pt)] = new;
        }
        serde_json::to_string(&v).unwrap_or(text)
    } else {
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        if lines.len() > 1 {
            let i = r.range(1, lines.len() as u64 - 1) as usize;
            let mut cells: Vec<String> = lines[i].split(',').map(String::from).collect();
            let j = r.below(cells.len() as u64) as usize;
            cells[j] = r.pick(&ODD).to_string();
            lines[i] = cells.join(",");
            if r.chance(0.2) {
                let row = lines[i].clone();
                lines.extend(std::iter::repeat_n(row, r.range(1, 5) as usize));
            }
        }
        lines.join("\n") + "\n"
    };
    let _ = std::fs::write(path, out);
}

/// A volume timeline: columns, time order, start/end rows, and
/// availability consistent with the counts of PGs without quorum.
fn volume_timeline(text: &str, sc: &aurora_sim::scenario::Scenario) -> Result<(), String> {
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header = rd.headers().map_err(|e| e.to_string())?.clone();
    if !header.iter().eq(VOLUME_TIMELINE.iter().copied()) {
        return Err(format!("volume timeline header {header:?}"));
    }
    let pgs = sc.config.storage.pgs as u64;
    let (mut prev, mut n, mut last) = (0.0f64, 0, String::new());
    for rec in rd.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let t: f64 = rec[0].parse().map_err(|_| format!("time `{}`", &rec[0]))?;
        if t < prev || (n == 0) != (&rec[1] == "start") {
            return Err(format!("row {n}: {t} s {} after {prev} s", &rec[1]));
        }
        let num = |i: usize| {
            rec[i]
                .parse::<u64>()
                .map_err(|_| format!("row {n}: `{}`", &rec[i]))
        };
        let (w, r, d) = (num(5)?, num(6)?, num(7)?);
        if w > pgs || r > pgs || d > pgs {
            return Err(format!("row {n}: counts {w}/{r}/{d} above {pgs} PGs"));
        }
        if (&rec[3] == "true") != (w == 0) || (&rec[4] == "true") != (r == 0) {
            return Err(format!(
                "row {n}: availability {}/{} with {w}/{r} PGs down",
                &rec[3], &rec[4]
            ));
        }
        if w > d {
            return Err(format!(
                "row {n}: {w} PGs without write quorum but {d} degraded"
            ));
        }
        (prev, n, last) = (t, n + 1, rec[1].to_string());
    }
    if last != "end" || (prev - sc.horizon.as_secs_f64()).abs() > 1e-6 {
        return Err(format!("volume timeline ends with `{last}` at {prev} s"));
    }
    Ok(())
}
