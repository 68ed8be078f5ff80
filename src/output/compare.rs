//! `compare`'s outputs (SPEC §5): the side-by-side table, `--json` and the
//! `--out` CSV, all from the same per-design figures.

use crate::analysis::compare::Entry;
use crate::analysis::stats::t95;
use crate::error::Error;
use crate::scenario::Scenario;
use crate::time::{SimTime, format_duration};
use serde::Serialize;
use std::fmt::Write;

/// The monthly SLA lines a design's mean availability is held against (%).
pub const SLA_LINES: [f64; 4] = [99.99, 99.95, 99.9, 99.5];

/// One year (SPEC §2: `y` = 365 d) in seconds.
const YEAR_S: f64 = 365.0 * 86_400.0;

/// One design's figures.
#[derive(Serialize, Debug, Clone)]
pub struct Figures {
    /// The design.
    pub design: &'static str,
    /// Trials.
    pub trials: u64,
    /// Mean write availability and its 95 % interval.
    pub write_availability_mean: f64,
    /// Low end (null for one trial).
    pub write_availability_ci_low: Option<f64>,
    /// High end.
    pub write_availability_ci_high: Option<f64>,
    /// Mean read availability.
    pub read_availability_mean: f64,
    /// Low end.
    pub read_availability_ci_low: Option<f64>,
    /// High end.
    pub read_availability_ci_high: Option<f64>,
    /// Expected write downtime per year, seconds.
    pub downtime_seconds_per_year: f64,
    /// Write outages per simulated year.
    pub outages_per_year: f64,
    /// Completed failovers per simulated year.
    pub failovers_per_year: f64,
    /// Longest write outage of any trial, seconds.
    pub longest_outage_seconds: f64,
    /// Fraction of trials with a data loss.
    pub p_data_loss: f64,
    /// Mean lost_write_seconds per trial.
    pub lost_write_seconds_mean: f64,
    /// Worst trial's lost_write_seconds.
    pub lost_write_seconds_max: f64,
    /// Mean seconds per trial the storage layer stopped writes.
    pub storage_write_unavailable_seconds_mean: f64,
    /// Mean seconds per trial no writer served.
    pub compute_write_unavailable_seconds_mean: f64,
    /// Whether the mean meets 99.99 %, 99.95 %, 99.9 %, 99.5 %.
    pub sla_met: [bool; 4],
    /// Failure sources this design has no target for.
    pub skipped: Vec<String>,
    /// Its downtime per year minus the first design's (absent for the first).
    pub difference: Option<Difference>,
}

/// A design's downtime per year minus the first design's, with the 95 %
/// interval of the per-trial differences.
#[derive(Serialize, Debug, Clone)]
pub struct Difference {
    /// The design it is measured against (the first listed).
    pub against: &'static str,
    /// Mean difference in write downtime per year, seconds.
    pub downtime_seconds_per_year: f64,
    /// Low end of the 95 % interval (null for one trial).
    pub ci_low: Option<f64>,
    /// High end.
    pub ci_high: Option<f64>,
    /// Whether both designs met the same failures (common random numbers);
    /// false with `--independent`.
    pub common_random_numbers: bool,
    /// The interval's half-width that two independent estimates with these
    /// designs' spreads would have: √(s₁² + s₂²)/√n (what pairing saves).
    pub independent_half_width: Option<f64>,
}

impl Difference {
    /// `e`'s difference from `first` over `horizon` (trial by trial).
    pub fn new(e: &Entry, first: &Entry, horizon: SimTime, crn: bool) -> Difference {
        let n = e.stats.trials;
        let per_year = YEAR_S / horizon.0 as f64;
        let (mean, var) = e.stats.diff.mean_var(n);
        let spread = |m: &crate::analysis::stats::Moments| {
            let nf = n as f64;
            let mean = m.sum as f64 / nf;
            ((m.sum_sq.to_f64() - m.sum as f64 * mean) / (nf - 1.0)).max(0.0)
        };
        let (ci, indep) = if n >= 2 {
            let t = t95(n as f64 - 1.0);
            let half = t * (var / n as f64).sqrt() * per_year;
            let vi = spread(&e.stats.write) + spread(&first.stats.write);
            let indep = t95(2.0 * n as f64 - 2.0) * (vi / n as f64).sqrt() * per_year;
            (Some(half), Some(indep))
        } else {
            (None, None)
        };
        let d = mean * per_year;
        Difference {
            against: first.design.as_str(),
            downtime_seconds_per_year: d,
            ci_low: ci.map(|h| d - h),
            ci_high: ci.map(|h| d + h),
            common_random_numbers: crn,
            independent_half_width: indep,
        }
    }
}

impl Figures {
    /// The figures of one entry run over `horizon`.
    pub fn new(e: &Entry, horizon: SimTime) -> Figures {
        let s = &e.stats;
        let n = s.trials.max(1) as f64;
        let h = horizon.0 as f64;
        let (wa, wci) = s.write.availability(s.trials, h);
        let (ra, rci) = s.read.availability(s.trials, h);
        let years = s.simulated_us as f64 / 1e6 / YEAR_S;
        let per_year = |k: u64| if years > 0.0 { k as f64 / years } else { 0.0 };
        Figures {
            design: e.design.as_str(),
            trials: s.trials,
            write_availability_mean: wa,
            write_availability_ci_low: wci.map(|c| c.0),
            write_availability_ci_high: wci.map(|c| c.1),
            read_availability_mean: ra,
            read_availability_ci_low: rci.map(|c| c.0),
            read_availability_ci_high: rci.map(|c| c.1),
            downtime_seconds_per_year: (1.0 - wa) * YEAR_S,
            outages_per_year: per_year(s.outages),
            failovers_per_year: per_year(s.failovers),
            longest_outage_seconds: s.longest_us as f64 / 1e6,
            p_data_loss: s.loss_trials as f64 / n,
            lost_write_seconds_mean: s.lost_us as f64 / 1e6 / n,
            lost_write_seconds_max: s.lost_max_us as f64 / 1e6,
            storage_write_unavailable_seconds_mean: s.storage_us as f64 / 1e6 / n,
            compute_write_unavailable_seconds_mean: s.compute_us as f64 / 1e6 / n,
            sla_met: SLA_LINES.map(|l| wa * 100.0 >= l),
            skipped: e.skipped.clone(),
            difference: None,
        }
    }
}

/// `compare --json`.
#[derive(Serialize, Debug)]
pub struct CompareJson<'a> {
    /// Scenario `name`.
    pub scenario: &'a str,
    /// Base seed.
    pub seed: u64,
    /// Trials per design.
    pub trials: u64,
    /// Simulated seconds per trial.
    pub horizon_seconds: f64,
    /// Whether every design met the same failures (false: `--independent`).
    pub common_random_numbers: bool,
    /// The SLA lines, in `sla_met` order.
    pub sla_lines: [f64; 4],
    /// One object per design.
    pub designs: Vec<Figures>,
}

impl CompareJson<'_> {
    /// Pretty JSON with a trailing newline.
    pub fn render(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }
}

/// A percentage with four decimals.
fn pct(a: f64) -> String {
    format!("{:.4}", a * 100.0)
}

fn with_ci(a: f64, lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(l), Some(h)) => format!("{}% [{}, {}]", pct(a), pct(l), pct(h)),
        _ => format!("{}%", pct(a)),
    }
}

/// A duration for the table: whole seconds from 10 s up, ms below.
fn secs(s: f64) -> String {
    if s <= 0.0 {
        return "0".into();
    }
    let t = if s >= 10.0 {
        s.round()
    } else {
        (s * 1e3).round() / 1e3
    };
    format_duration(SimTime::from_secs_f64(t))
}

/// The replay form (`--trials 1` on scripted events): what the incident did
/// to each design, in time over the horizon rather than per year.
fn replay(s: &mut String, sc: &Scenario, figs: &[Figures]) {
    let h = sc.horizon.as_secs_f64();
    // One trial of the horizon: a per-year rate times the years is the count.
    let count = |per_year: f64| (per_year * h / YEAR_S).round() as u64;
    let _ = writeln!(
        s,
        "{:<21} {:>14} {:>14} {:>13} {:>9} {:>14} {:>9} {:>12}",
        "design",
        "writes down",
        "reads down",
        "write outages",
        "failovers",
        "longest outage",
        "data loss",
        "lost writes"
    );
    for f in figs {
        let _ = writeln!(
            s,
            "{:<21} {:>14} {:>14} {:>13} {:>9} {:>14} {:>9} {:>12}",
            f.design,
            secs((1.0 - f.write_availability_mean) * h),
            secs((1.0 - f.read_availability_mean) * h),
            count(f.outages_per_year),
            count(f.failovers_per_year),
            secs(f.longest_outage_seconds),
            if f.p_data_loss > 0.0 { "yes" } else { "no" },
            secs(f.lost_write_seconds_max)
        );
    }
}

/// The readable table.
pub fn table(sc: &Scenario, seed: u64, trials: u64, figs: &[Figures]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} — {} trial{} of {} each, seed {seed}; the same failures in every design",
        sc.name,
        trials,
        if trials == 1 { "" } else { "s" },
        format_duration(sc.horizon)
    );
    if let Some(d) = &sc.description {
        let _ = writeln!(s, "  {}", d.trim());
    }
    s.push('\n');
    if trials == 1 && !sc.config.events.is_empty() {
        replay(&mut s, sc, figs);
        skipped_lines(&mut s, figs);
        return s;
    }
    let _ = writeln!(
        s,
        "{:<21} {:<37} {:<37} {:>12} {:>10} {:>12} {:>11} {:>9} {:>21}  SLA lines met",
        "design",
        "write availability [95 % interval]",
        "read availability [95 % interval]",
        "downtime/yr",
        "outages/yr",
        "failovers/yr",
        "longest",
        "P(loss)",
        "lost writes mean/max"
    );
    for f in figs {
        let sla: Vec<String> = SLA_LINES
            .iter()
            .zip(f.sla_met)
            .filter(|(_, m)| *m)
            .map(|(l, _)| format!("{l}"))
            .collect();
        let _ = writeln!(
            s,
            "{:<21} {:<37} {:<37} {:>12} {:>10.3} {:>12.3} {:>11} {:>9.4} {:>21}  {}",
            f.design,
            with_ci(
                f.write_availability_mean,
                f.write_availability_ci_low,
                f.write_availability_ci_high
            ),
            with_ci(
                f.read_availability_mean,
                f.read_availability_ci_low,
                f.read_availability_ci_high
            ),
            secs(f.downtime_seconds_per_year),
            f.outages_per_year,
            f.failovers_per_year,
            secs(f.longest_outage_seconds),
            f.p_data_loss,
            format!(
                "{} / {}",
                secs(f.lost_write_seconds_mean),
                secs(f.lost_write_seconds_max)
            ),
            if sla.is_empty() {
                "none".into()
            } else {
                sla.join(" ")
            }
        );
    }
    differences(&mut s, figs);
    skipped_lines(&mut s, figs);
    s
}

/// Each design's downtime per year against the first design's.
fn differences(s: &mut String, figs: &[Figures]) {
    let Some(first) = figs.iter().find_map(|f| f.difference.as_ref()) else {
        return;
    };
    let signed = |x: f64| {
        if x < 0.0 {
            format!("−{}", secs(-x))
        } else {
            format!("+{}", secs(x))
        }
    };
    let _ = writeln!(
        s,
        "\ndowntime per year against {}{}",
        first.against,
        if first.common_random_numbers {
            " (trial by trial over the same failures: common random numbers)"
        } else {
            " (--independent: every design on random streams of its own)"
        }
    );
    for f in figs {
        let Some(d) = &f.difference else { continue };
        let ci = match (d.ci_low, d.ci_high) {
            (Some(lo), Some(hi)) => format!(
                " [{}, {}], ±{}",
                signed(lo),
                signed(hi),
                secs((hi - lo) / 2.0)
            ),
            _ => String::new(),
        };
        let indep = match (d.common_random_numbers, d.independent_half_width) {
            (true, Some(h)) => format!("; independent estimates would give ±{}", secs(h)),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "  {:<21} {}{ci}{indep}",
            f.design,
            signed(d.downtime_seconds_per_year)
        );
    }
}

/// The failure sources each design had no target for.
fn skipped_lines(s: &mut String, figs: &[Figures]) {
    let skipped: Vec<&Figures> = figs.iter().filter(|f| !f.skipped.is_empty()).collect();
    if !skipped.is_empty() {
        let _ = writeln!(s, "\nskipped (no target in that design)");
        for f in skipped {
            let _ = writeln!(s, "  {:<21} {}", f.design, f.skipped.join("; "));
        }
    }
}

/// The `--out` CSV: one row per design.
pub fn csv(figs: &[Figures]) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::Internal(format!("compare CSV: {e}"));
    w.write_record([
        "design",
        "trials",
        "write_availability_mean",
        "write_availability_ci_low",
        "write_availability_ci_high",
        "read_availability_mean",
        "read_availability_ci_low",
        "read_availability_ci_high",
        "downtime_seconds_per_year",
        "outages_per_year",
        "failovers_per_year",
        "longest_outage_seconds",
        "p_data_loss",
        "lost_write_seconds_mean",
        "lost_write_seconds_max",
        "storage_write_unavailable_seconds_mean",
        "compute_write_unavailable_seconds_mean",
        "sla_99_99",
        "sla_99_95",
        "sla_99_9",
        "sla_99_5",
        "skipped",
        "downtime_difference_against",
        "downtime_difference_seconds_per_year",
        "downtime_difference_ci_low",
        "downtime_difference_ci_high",
    ])
    .map_err(err)?;
    let opt = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
    for f in figs {
        let mut row = vec![
            f.design.to_string(),
            f.trials.to_string(),
            f.write_availability_mean.to_string(),
            opt(f.write_availability_ci_low),
            opt(f.write_availability_ci_high),
            f.read_availability_mean.to_string(),
            opt(f.read_availability_ci_low),
            opt(f.read_availability_ci_high),
            f.downtime_seconds_per_year.to_string(),
            f.outages_per_year.to_string(),
            f.failovers_per_year.to_string(),
            f.longest_outage_seconds.to_string(),
            f.p_data_loss.to_string(),
            f.lost_write_seconds_mean.to_string(),
            f.lost_write_seconds_max.to_string(),
            f.storage_write_unavailable_seconds_mean.to_string(),
            f.compute_write_unavailable_seconds_mean.to_string(),
        ];
        row.extend(f.sla_met.iter().map(|m| m.to_string()));
        row.push(f.skipped.join("; "));
        match &f.difference {
            Some(d) => row.extend([
                d.against.to_string(),
                d.downtime_seconds_per_year.to_string(),
                opt(d.ci_low),
                opt(d.ci_high),
            ]),
            None => row.extend([String::new(), String::new(), String::new(), String::new()]),
        }
        w.write_record(&row).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("compare CSV: {e}")))
}
