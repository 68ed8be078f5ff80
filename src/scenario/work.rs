//! How much work a scenario asks for, estimated before any is done, so that a
//! run that would take days is refused in a second with the figure and the
//! flag that allows it.
//!
//! The estimate is the expected number of engine events: for each background
//! process, targets × horizon / mean time between failures (the long-run
//! renewal rate; it overcounts a little, since a target that is down is not
//! failed again), times the events each failure brings (the failure, its end,
//! the repairs and catch-ups it starts), plus the scripted events and the
//! start and end of every run.
//!
//! On a fleet (SPEC §4) the targets are the fleet's nodes, racks and AZs, and
//! a failure brings those events for every replica it touches: a node holds
//! PGs × V / nodes replicas on average, an AZ PGs × its share of V, a rack
//! its share of the AZ's. Without `[volume]` and `[fleet]` that is one
//! replica a node and the figures are §1's.

use super::Scenario;
use crate::error::InputError;
use crate::model::{Process, ScriptedKind};
use crate::time::SimTime;

/// The default limit on estimated events: at the engine's ~8 M events/s on
/// one core (README), about 20 minutes of work.
pub const DEFAULT_MAX_EVENTS: f64 = 1e10;

/// The expected events of one run of a scenario, and the process that brings
/// the most of them (its key, targets and mean time between failures).
#[derive(Clone, Debug, PartialEq)]
pub struct Work {
    /// Expected events of one run.
    pub events: f64,
    /// The largest contributor, described: `failures.node_crash (6 nodes, every 1ms)`.
    pub main: Option<(f64, String)>,
}

/// Estimates the events of one run of `sc`.
pub fn estimate(sc: &Scenario) -> Work {
    let cfg = &sc.config;
    let st = &cfg.storage;
    let horizon_s = sc.horizon.as_secs_f64();
    let pgs = st.pgs as f64;
    // Replicas in one AZ (all PGs), on one node, in one rack.
    let per_az = pgs * cfg.layout.nodes_per_az as f64;
    let (nodes, azs) = (st.nodes() as f64, cfg.layout.azs.len() as f64);
    let per_node = pgs * cfg.layout.replicas() as f64 / nodes;
    let racks = azs * st.racks_per_az as f64;
    let per_rack = per_az / st.racks_per_az as f64;
    let f = &cfg.failures;
    // (key, process, targets, what a target is, events per failure)
    let processes: [(&str, &Option<Process>, f64, &str, f64); 5] = [
        (
            "failures.node_crash",
            &f.node_crash,
            nodes,
            "nodes",
            3.0 * per_node,
        ),
        (
            "failures.node_loss",
            &f.node_loss,
            nodes,
            "nodes",
            3.0 * per_node,
        ),
        (
            "failures.az_outage",
            &f.az_outage,
            azs,
            "AZs",
            2.0 + 2.0 * per_az,
        ),
        (
            "failures.az_loss",
            &f.az_loss,
            azs,
            "AZs",
            2.0 + 3.0 * per_az,
        ),
        (
            "failures.rack_outage",
            &f.rack_outage,
            racks,
            "racks",
            2.0 + 2.0 * per_rack,
        ),
    ];
    let scripted: f64 = if st.volume_mode {
        cfg.events
            .iter()
            .map(|e| match (e.kind, e.burst) {
                (_, Some(b)) => 3.0 * per_node * f64::from(b.count),
                (ScriptedKind::NodeCrash | ScriptedKind::NodeLoss, None) => 3.0 * per_node,
                (ScriptedKind::AzOutage, None) => 2.0 + 2.0 * per_az,
                (ScriptedKind::AzLoss, None) => 2.0 + 3.0 * per_az,
                (ScriptedKind::RackOutage, None) => 2.0 + 2.0 * per_rack,
                (ScriptedKind::InstanceCrash | ScriptedKind::EbsLoss, None) => 3.0,
            })
            .sum()
    } else {
        // One PG: a flat 3 an event, as before volumes existed.
        3.0 * cfg.events.len() as f64
    };
    let mut events = 2.0 + scripted;
    let mut main: Option<(f64, String)> = None;
    for (key, p, targets, what, per_failure) in processes {
        let Some(p) = p else { continue };
        let mean = p.every.mean_secs();
        // An infinite mean (a heavy tail; the Γ or exp in it overflows to inf
        // or NaN) fails a target a few times at most.
        let failures = if mean > 0.0 && mean.is_finite() {
            targets * (horizon_s / mean).max(1.0)
        } else if mean == 0.0 {
            f64::INFINITY
        } else {
            targets
        };
        let e = failures * per_failure;
        events += e;
        if main.as_ref().is_none_or(|m| e > m.0) {
            main = Some((
                e,
                format!("{key} ({targets} {what}, every {})", p.every.describe()),
            ));
        }
    }
    // With repair streams, every event walks the waiting repairs (SPEC §4).
    // By Little's law about (loss rate × per_node) × (the time a lost
    // node's repairs take to drain through `k` streams, per_node × repair
    // time / k) wait at once, at most every replica of the volume. Ten
    // entries walked count as one event, so a volume whose nodes are lost
    // every few minutes (~10⁴ waiting, walked a million times) is refused
    // up front instead of running for minutes.
    if let (Some(k), Some(p)) = (st.repair_streams, &f.node_loss) {
        let mean = p.every.mean_secs();
        let rate = if mean > 0.0 {
            nodes / mean
        } else {
            f64::INFINITY
        };
        let drain = per_node * cfg.repair_time.mean_secs() / f64::from(k.max(1));
        let waiting = (rate * per_node * drain).min(pgs * cfg.layout.replicas() as f64);
        let walk = events * waiting / 10.0;
        if !walk.is_nan() {
            events += walk;
            if main.as_ref().is_none_or(|m| walk > m.0) {
                main = Some((
                    walk,
                    format!(
                        "the repair queue walk (fleet.repair_streams with failures.node_loss every {})",
                        p.every.describe()
                    ),
                ));
            }
        }
    }
    Work { events, main }
}

/// Rounds an estimate up to one significant digit for messages: `2e19`.
pub fn round_up(x: f64) -> String {
    if !x.is_finite() {
        return "inf".into();
    }
    let e = x.log10().floor();
    let m = (x / 10f64.powf(e)).ceil();
    if m >= 10.0 {
        format!("1e{}", e + 1.0)
    } else {
        format!("{m}e{e}")
    }
}

/// Refuses `total` expected events above `limit` (`--max-events`), naming the
/// estimate, what brings most of it, how long it would take, and the flag.
pub fn check(total: f64, limit: f64, detail: &str) -> Result<(), InputError> {
    if total <= limit {
        return Ok(());
    }
    Err(InputError::new(
        "--max-events",
        format!(
            "about {} events estimated ({detail}), more than the limit of {limit:e} \
             (about {} at 8 M events/s); pass --max-events {} to run it anyway",
            round_up(total),
            human_secs(total / 8e6),
            round_up(total)
        ),
    ))
}

/// The refusal of a run that passed `limit` events at simulated time `at`
/// (`over`), though about `estimated` were expected: a cascade the estimate
/// does not foresee.
pub fn stopped(over: Option<SimTime>, limit: f64, estimated: f64) -> Result<(), InputError> {
    let Some(at) = over else { return Ok(()) };
    Err(InputError::new(
        "--max-events",
        format!(
            "the run passed the limit of {limit:e} events at {} simulated, though about {} \
             were estimated (failures, give-ups or restores feeding each other faster than \
             the estimate foresees); nothing was written; pass a larger --max-events to run \
             it anyway",
            crate::time::format_duration(at),
            round_up(estimated)
        ),
    ))
}

/// A length of wall time in words, roughly: `3 hours`, `2e12 years`.
fn human_secs(s: f64) -> String {
    match s {
        s if s < 120.0 => format!("{s:.0} seconds"),
        s if s < 7_200.0 => format!("{:.0} minutes", s / 60.0),
        s if s < 172_800.0 => format!("{:.0} hours", s / 3_600.0),
        s if s < 31_536_000.0 * 2.0 => format!("{:.0} days", s / 86_400.0),
        s if s < 31_536_000.0 * 1e4 => format!("{:.0} years", s / 31_536_000.0),
        s => format!("{} years", round_up(s / 31_536_000.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Overrides, parse};

    fn work(text: &str) -> Work {
        estimate(&parse(text, "w.toml", &Overrides::default()).unwrap())
    }

    #[test]
    fn issue_11_a_run_stopped_by_the_limit_is_refused_with_the_figures() {
        assert!(stopped(None, 1e10, 5.0).is_ok());
        let e = stopped(Some(SimTime(90_000_000)), 1e6, 2e3).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("--max-events"), "{text}");
        assert!(text.contains("limit of 1e6 events at 1m30s"), "{text}");
        assert!(text.contains("about 2e3 were estimated"), "{text}");
        assert!(text.contains("nothing was written"), "{text}");
    }

    // See: issue 11
    #[test]
    fn issue_11_a_failure_every_millisecond_is_counted() {
        // 6 nodes × 100,000 y / 1 ms = 6 × 3.1536e12 s / 1e-3 s = 1.89e16
        // crashes, 3 events each: 5.7e16, far past the 1e10 default.
        let w = work(
            "name = \"x\"\nhorizon = \"100000y\"\n[failures.node_crash]\nevery = \"1ms\"\nlasts = \"1ms\"\n",
        );
        assert!((w.events / 5.6764800e16 - 1.0).abs() < 1e-9, "{}", w.events);
        assert!(
            w.main
                .unwrap()
                .1
                .starts_with("failures.node_crash (6 nodes")
        );
    }

    #[test]
    fn a_quiet_scenario_is_a_handful_of_events() {
        // No processes, one scripted event: start, end and the event's 3.
        let w = work(
            "name = \"x\"\nhorizon = \"1d\"\n[[events]]\nat = \"1h\"\nkind = \"node-loss\"\nnode = \"az-a-1\"\n",
        );
        assert_eq!(w.events, 5.0);
        assert_eq!(w.main, None);
        // A heavy tail (infinite mean) still counts one failure per target.
        let w = work(
            "name = \"x\"\nhorizon = \"1d\"\n[failures.node_loss]\nevery = { dist = \"weibull\", shape = 0.001, scale = \"1h\" }\n",
        );
        assert_eq!(w.events, 2.0 + 6.0 * 3.0);
    }

    // See: issue 13
    #[test]
    fn issue_13_a_fleet_scales_the_estimate() {
        // 2048 PGs × 6 replicas on 300 nodes = 40.96 replicas a node; 300
        // nodes × (1 d / 1 d) crashes × 3 × 40.96 = 36,864 events, plus the
        // 30 racks' outages: 30 × 1 × (2 + 2 × 2048 × 2 / 10) = 24,636.
        let w = work(
            "name = \"x\"\nhorizon = \"1d\"\n[volume]\nsize = \"20TiB\"\n\
             [fleet]\nnodes_per_az = 100\nracks_per_az = 10\n\
             [failures.node_crash]\nevery = \"1d\"\nlasts = \"1m\"\n\
             [failures.rack_outage]\nevery = \"1d\"\nlasts = \"1m\"\n\
             [[events]]\nat = \"1h\"\nkind = \"node-loss\"\ncount = 10\n",
        );
        // Start and end, and the burst's 10 nodes × 3 × 40.96.
        let expect = 2.0 + 36_864.0 + 24_636.0 + 1_228.8;
        assert!((w.events / expect - 1.0).abs() < 1e-12, "{}", w.events);
        assert!(
            w.main
                .unwrap()
                .1
                .starts_with("failures.node_crash (300 nodes")
        );
    }

    #[test]
    fn estimates_round_up() {
        assert_eq!(round_up(5.6764800e16), "6e16");
        assert_eq!(round_up(1e10), "1e10");
        assert_eq!(round_up(9.5e3), "1e4");
        assert_eq!(round_up(f64::INFINITY), "inf");
        assert_eq!(human_secs(5_400.0), "90 minutes");
        assert_eq!(human_secs(1e20), "4e12 years");
    }

    #[test]
    fn the_limit_names_the_estimate_and_the_flag() {
        assert!(check(1e10, DEFAULT_MAX_EVENTS, "x").is_ok());
        let e = check(5.7e19, DEFAULT_MAX_EVENTS, "mostly y")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--max-events: about 6e19 events estimated (mostly y)"),
            "{e}"
        );
        assert!(
            e.contains("limit of 1e10") && e.ends_with("pass --max-events 6e19 to run it anyway"),
            "{e}"
        );
    }
}
