//! Simulated time as integer microseconds, and the unit parsers for durations,
//! sizes and bandwidths used by scenario files and flags.

mod parse;

pub use parse::{
    MAX_DURATION, MAX_SIZE_BYTES, duration_from_int_secs, duration_from_secs, parse_bandwidth,
    parse_duration, parse_size,
};
use std::fmt;

/// Microseconds in one second.
pub const US_PER_S: u64 = 1_000_000;

/// A point in (or span of) simulated time, in whole microseconds.
///
/// `u64` µs covers about 584,000 years, well past the 100,000-year horizon the
/// spec asks for, and keeps ordering exact (no float epsilon in the queue).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    /// Time zero.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable time, used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Builds a time from seconds, rounding to the nearest microsecond and
    /// saturating (negative and NaN inputs give zero).
    pub fn from_secs_f64(s: f64) -> SimTime {
        let us = (s * US_PER_S as f64).round();
        if us.is_nan() || us <= 0.0 {
            SimTime(0)
        } else if us >= u64::MAX as f64 {
            SimTime::MAX
        } else {
            SimTime(us as u64)
        }
    }

    /// Whole seconds as `f64` (exact below 2^53 µs ≈ 285 years, within 1 µs above).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / US_PER_S as f64
    }

    /// Adds a span, saturating at [`SimTime::MAX`].
    pub fn saturating_add(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl fmt::Display for SimTime {
    /// Human form with the largest fitting unit, e.g. `2h`, `8.589935s`, `1.5y`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(*self))
    }
}

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 86_400 * US_PER_S),
    ("w", 7 * 86_400 * US_PER_S),
    ("d", 86_400 * US_PER_S),
    ("h", 3_600 * US_PER_S),
    ("m", 60 * US_PER_S),
    ("s", US_PER_S),
    ("ms", 1_000),
];

/// Formats a span for people: up to three units from the largest that fits,
/// seconds with up to six decimals: `"2h"`, `"1h50m"`, `"8.589935s"`, `"1y3d4h"`.
/// Exact values belong in JSON and CSV; this is for reports.
pub fn format_duration(t: SimTime) -> String {
    if t.0 == 0 {
        return "0s".to_string();
    }
    if t.0 < US_PER_S {
        return if t.0.is_multiple_of(1_000) {
            format!("{}ms", t.0 / 1_000)
        } else {
            format!("{}µs", t.0)
        };
    }
    let mut out = String::new();
    let mut rest = t.0;
    let mut parts = 0;
    for &(name, us) in UNITS.iter().filter(|(n, _)| *n != "w" && *n != "ms") {
        if parts == 3 || rest == 0 {
            break;
        }
        if name == "s" {
            let s = format!("{:.6}", rest as f64 / us as f64);
            let s = s.trim_end_matches('0').trim_end_matches('.');
            out.push_str(s);
            out.push('s');
            break;
        }
        if rest >= us || parts > 0 {
            let n = rest / us;
            rest %= us;
            if n > 0 {
                out.push_str(&format!("{n}{name}"));
            }
            parts += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_picks_the_largest_unit() {
        assert_eq!(format_duration(SimTime(7_200 * US_PER_S)), "2h");
        assert_eq!(format_duration(SimTime(8_589_935)), "8.589935s");
        assert_eq!(format_duration(SimTime(0)), "0s");
        assert_eq!(format_duration(SimTime(5)), "5µs");
        assert_eq!(format_duration(SimTime(5_400 * US_PER_S)), "1h30m");
        assert_eq!(format_duration(SimTime(6_600 * US_PER_S)), "1h50m");
        assert_eq!(format_duration(SimTime(250_000)), "250ms");
    }
}
