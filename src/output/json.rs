//! The `run --json` object: this struct *is* the contract (SPEC §3).

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
