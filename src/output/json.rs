//! The `run --json` object: this struct *is* the contract (SPEC §3).

use crate::analysis::markov::{Analysis, Solver};
use crate::model::RunStats;
use crate::scenario::Scenario;
use serde::Serialize;

/// One run as JSON. Keys are the SPEC's, plus a few extras at the end.
#[derive(Serialize, Debug)]
pub struct RunJson<'a> {
    /// Scenario `name`.
    pub scenario: &'a str,
    /// Seed used.
    pub seed: u64,
    /// Simulated seconds.
    pub horizon_seconds: f64,
    /// Fraction of the horizon with writes available.
    pub write_availability: f64,
    /// Fraction of the horizon with reads available.
    pub read_availability: f64,
    /// Seconds without writes.
    pub write_unavailable_seconds: f64,
    /// Seconds without reads.
    pub read_unavailable_seconds: f64,
    /// Write outages of positive length.
    pub write_outages: u64,
    /// Read outages of positive length.
    pub read_outages: u64,
    /// Longest write outage (0 if none).
    pub longest_write_outage_seconds: f64,
    /// Longest read outage (0 if none).
    pub longest_read_outage_seconds: f64,
    /// Data-loss events.
    pub data_loss_events: u64,
    /// Time of the first data loss, or null.
    pub first_data_loss_seconds: Option<f64>,
    /// Seconds of acknowledged writes lost.
    pub lost_write_seconds: f64,
    /// Events handled.
    pub events_processed: u64,
    /// Extra: replicas in the group.
    pub replicas: usize,
    /// Extra: write quorum and read quorum, described.
    pub quorum: String,
    /// Quorum switches summed over PGs (SPEC §6), only when
    /// `cluster.quorum_switch_after` is set (so older outputs keep their bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quorum_switches: Option<u64>,
    /// SPEC §4's keys, for a volume or fleet scenario.
    #[serde(flatten)]
    pub volume: Option<VolumeJson>,
    /// SPEC §5's keys, for a scenario with `[database]`.
    #[serde(flatten)]
    pub database: Option<super::database::DbJson>,
}

/// The keys `run --json` adds for a volume (SPEC §4).
#[derive(Serialize, Debug)]
pub struct VolumeJson {
    /// Protection groups.
    pub pgs: u64,
    /// Fleet nodes.
    pub nodes: u64,
    /// Distinct PGs that lost data.
    pub pgs_with_data_loss: u64,
    /// `segment_size` × PG data-loss events.
    pub lost_bytes: u128,
    /// Most PGs without write quorum in a state lasting > 0.
    pub max_pgs_write_unavailable: u64,
    /// PG-seconds without write quorum, summed over PGs.
    pub pg_write_unavailable_seconds: f64,
    /// Repairs completed.
    pub repairs: u64,
    /// Longest wait of a repair for its streams (or a target), per attempt.
    pub longest_repair_wait_seconds: f64,
}

impl VolumeJson {
    /// The volume keys of a run of a volume or fleet scenario.
    pub fn new(st: &RunStats) -> Option<VolumeJson> {
        let v = st.volume.as_ref()?;
        Some(VolumeJson {
            pgs: v.pgs,
            nodes: v.nodes,
            pgs_with_data_loss: v.pgs_with_data_loss,
            lost_bytes: v.lost_bytes,
            max_pgs_write_unavailable: v.max_pgs_write_unavailable,
            pg_write_unavailable_seconds: v.pg_write_unavailable_us as f64 / 1e6,
            repairs: v.repairs,
            longest_repair_wait_seconds: v.longest_repair_wait_us as f64 / 1e6,
        })
    }
}

impl<'a> RunJson<'a> {
    /// Builds the JSON view of a run.
    pub fn new(sc: &'a Scenario, seed: u64, st: &RunStats) -> Self {
        let h = st.horizon.0 as f64;
        RunJson {
            scenario: &sc.name,
            seed,
            horizon_seconds: st.horizon.as_secs_f64(),
            write_availability: 1.0 - st.write.total.0 as f64 / h,
            read_availability: 1.0 - st.read.total.0 as f64 / h,
            write_unavailable_seconds: st.write.total.as_secs_f64(),
            read_unavailable_seconds: st.read.total.as_secs_f64(),
            write_outages: st.write.count,
            read_outages: st.read.count,
            longest_write_outage_seconds: st.write.longest.as_secs_f64(),
            longest_read_outage_seconds: st.read.longest.as_secs_f64(),
            data_loss_events: st.data_loss_events,
            first_data_loss_seconds: st.first_data_loss.map(|t| t.as_secs_f64()),
            lost_write_seconds: st.lost_write_us as f64 / 1e6,
            events_processed: st.events_processed,
            replicas: sc.config.layout.replicas(),
            quorum: sc.config.quorum.describe(),
            quorum_switches: sc.config.quorum_switch.as_ref().map(|_| st.quorum_switches),
            volume: VolumeJson::new(st),
            database: super::database::DbJson::new(&sc.config, st),
        }
    }

    /// Pretty JSON text with a trailing newline.
    pub fn render(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }
}

/// One substitution made by `analyze --approx`.
#[derive(Serialize, Debug)]
pub struct ApproxJson {
    /// Scenario key of the timing.
    pub key: &'static str,
    /// Its distribution.
    pub was: String,
    /// The mean of the exponential used instead.
    pub exponential_mean_seconds: f64,
}

/// `analyze --json`.
#[derive(Serialize, Debug)]
pub struct AnalyzeJson<'a> {
    /// Scenario `name`.
    pub scenario: &'a str,
    /// Long-run write availability.
    pub write_availability: f64,
    /// Long-run read availability.
    pub read_availability: f64,
    /// 1 − write availability, computed directly.
    pub write_unavailability: f64,
    /// 1 − read availability, computed directly.
    pub read_unavailability: f64,
    /// Mean time from all-current to the first data loss; null if impossible.
    pub mttdl_seconds: Option<f64>,
    /// The same in years of 365 days.
    pub mttdl_years: Option<f64>,
    /// States after symmetry reduction.
    pub states: usize,
    /// States without it.
    pub states_before_symmetry: f64,
    /// The solver used.
    pub solver: &'static str,
    /// Gauss–Seidel sweeps (null after elimination).
    pub solver_sweeps: Option<usize>,
    /// Certified relative error bound of every figure, up to rounding (null
    /// after elimination, which has no such bound).
    pub relative_error_bound: Option<f64>,
    /// Timings replaced with `--approx`.
    pub approximations: Vec<ApproxJson>,
    /// Scripted events in the file (not part of the chain).
    pub scripted_events_ignored: usize,
}

impl<'a> AnalyzeJson<'a> {
    /// Builds the JSON view of an analysis.
    pub fn new(sc: &'a Scenario, a: &Analysis) -> Self {
        AnalyzeJson {
            scenario: &sc.name,
            write_availability: a.write_availability,
            read_availability: a.read_availability,
            write_unavailability: a.write_unavailability,
            read_unavailability: a.read_unavailability,
            mttdl_seconds: a.mttdl_seconds,
            mttdl_years: a.mttdl_seconds.map(|s| s / (365.0 * 86_400.0)),
            states: a.states,
            states_before_symmetry: a.states_before_symmetry,
            solver: a.solver.describe(),
            solver_sweeps: match a.solver {
                Solver::GaussSeidel { sweeps, .. } => Some(sweeps),
                Solver::Elimination => None,
            },
            relative_error_bound: match a.solver {
                Solver::GaussSeidel { bound, .. } => Some(bound),
                Solver::Elimination => None,
            },
            approximations: a
                .substitutions
                .iter()
                .map(|s| ApproxJson {
                    key: s.timing.key(),
                    was: s.was.clone(),
                    exponential_mean_seconds: s.mean_secs,
                })
                .collect(),
            scripted_events_ignored: sc.config.events.len(),
        }
    }

    /// Pretty JSON text with a trailing newline.
    pub fn render(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }
}
