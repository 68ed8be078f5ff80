//! Totals of a run: outages (maximal intervals of positive length), data loss.

use crate::time::SimTime;

/// Totals of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunStats {
    /// Simulated span.
    pub horizon: SimTime,
    /// Write outages: count, total and longest.
    pub write: OutageTracker,
    /// Read outages: count, total and longest.
    pub read: OutageTracker,
    /// Data-loss events.
    pub data_loss_events: u64,
    /// Time of the first data loss.
    pub first_data_loss: Option<SimTime>,
    /// Acknowledged write time destroyed, in µs.
    pub lost_write_us: u64,
    /// Events handled.
    pub events_processed: u64,
}

/// Tracks maximal unavailability intervals of positive length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutageTracker {
    open_since: Option<SimTime>,
    /// Outages of positive length.
    pub count: u64,
    /// Their total length.
    pub total: SimTime,
    /// The longest one.
    pub longest: SimTime,
}

impl OutageTracker {
    /// Records the availability in force from `now` on.
    #[inline]
    pub(crate) fn observe(&mut self, now: SimTime, available: bool) {
        match (available, self.open_since) {
            (false, None) => self.open_since = Some(now),
            (true, Some(start)) => {
                self.open_since = None;
                self.close(start, now);
            }
            _ => {}
        }
    }

    fn close(&mut self, start: SimTime, end: SimTime) {
        if end > start {
            let len = SimTime(end.0 - start.0);
            self.count += 1;
            self.total = SimTime(self.total.0 + len.0);
            self.longest = self.longest.max(len);
        }
    }

    /// Closes an outage still open at the horizon.
    pub(crate) fn finish(&mut self, horizon: SimTime) {
        if let Some(start) = self.open_since.take() {
            self.close(start, horizon);
        }
    }
}
