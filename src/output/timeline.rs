//! The CSV timeline: one row per state change (SPEC §3, `--timeline`).

use super::secs_exact;
use crate::model::{Observer, Row};

/// The fixed columns, before one column per replica.
pub const COLUMNS: [&str; 8] = [
    "time_s",
    "event",
    "target",
    "up",
    "current",
    "write_available",
    "read_available",
    "data_loss_events",
];

/// Collects timeline rows as CSV text.
pub struct TimelineCsv {
    out: csv::Writer<Vec<u8>>,
    failed: bool,
}

impl TimelineCsv {
    /// A timeline with the header for these node names.
    pub fn new(node_names: &[String]) -> Self {
        let mut out = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<&str> = COLUMNS.to_vec();
        header.extend(node_names.iter().map(String::as_str));
        let failed = out.write_record(&header).is_err();
        TimelineCsv { out, failed }
    }

    /// The CSV bytes, or `None` if formatting failed.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        if self.failed {
            return None;
        }
        self.out.into_inner().ok()
    }
}

impl Observer for TimelineCsv {
    const ENABLED: bool = true;

    fn row(&mut self, row: &Row<'_>) {
        let b = |x: bool| if x { "true" } else { "false" };
        let mut rec: Vec<String> = vec![
            secs_exact(row.time),
            row.change.as_str().to_string(),
            row.target.to_string(),
            row.up.to_string(),
            row.current.to_string(),
            b(row.write_available).to_string(),
            b(row.read_available).to_string(),
            row.data_loss_events.to_string(),
        ];
        rec.extend(row.states.iter().map(|&c| (c as char).to_string()));
        if self.out.write_record(&rec).is_err() {
            self.failed = true;
        }
    }
}
