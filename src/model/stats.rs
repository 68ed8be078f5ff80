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
    /// Quorum switches (SPEC §6), summed over PGs.
    pub quorum_switches: u64,
    /// Volume totals (SPEC §4); always computed, reported for volume scenarios.
    pub volume: Option<VolumeStats>,
    /// Database totals (SPEC §5), for scenarios with `[database]`.
    pub database: Option<super::database::DbStats>,
}

/// Totals of a volume run beyond §3's (SPEC §4 `run --json`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VolumeStats {
    /// Protection groups.
    pub pgs: u64,
    /// Fleet nodes.
    pub nodes: u64,
    /// Distinct PGs that lost data.
    pub pgs_with_data_loss: u64,
    /// Most PGs without write quorum in a state lasting > 0.
    pub max_pgs_write_unavailable: u64,
    /// PG-µs without write quorum, summed over PGs.
    pub pg_write_unavailable_us: u128,
    /// Repairs completed.
    pub repairs: u64,
    /// Repairs running at the horizon.
    pub repairs_running: u64,
    /// Longest wait of a repair from startable to holding its streams (µs).
    pub longest_repair_wait_us: u64,
    /// `segment_size` × PG data-loss events.
    pub lost_bytes: u128,
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
    /// The [`TOP`] longest as (start, length), longest first; ties keep the
    /// earlier outage.
    pub top: [Option<(SimTime, SimTime)>; TOP],
}

/// How many of the longest outages a run keeps (for the report).
pub const TOP: usize = 5;

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
            // Insertion into a short sorted array; runs only when an outage ends.
            let at = self.top.iter().position(|e| e.is_none_or(|(_, l)| len > l));
            if let Some(i) = at {
                self.top[i..].rotate_right(1);
                self.top[i] = Some((start, len));
            }
        }
    }

    /// Closes an outage still open at the horizon.
    pub(crate) fn finish(&mut self, horizon: SimTime) {
        if let Some(start) = self.open_since.take() {
            self.close(start, horizon);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// See: issue 11 (run report: the longest outages with their times).
    #[test]
    fn issue_11_keeps_the_five_longest_outages_longest_first() {
        let mut t = OutageTracker::default();
        // Outages of lengths 3, 1, 4, 1, 5, 9, 2, 6 µs, each starting at 100·k.
        for (k, len) in [3u64, 1, 4, 1, 5, 9, 2, 6].into_iter().enumerate() {
            let start = SimTime(100 * k as u64);
            t.observe(start, false);
            t.observe(SimTime(start.0 + len), true);
        }
        let got: Vec<(u64, u64)> = t.top.iter().flatten().map(|(s, l)| (s.0, l.0)).collect();
        // Sorted by length: 9 (at 500), 6 (700), 5 (400), 4 (200), 3 (0).
        assert_eq!(got, [(500, 9), (700, 6), (400, 5), (200, 4), (0, 3)]);
        assert_eq!((t.count, t.total.0, t.longest.0), (8, 31, 9));
    }
}
