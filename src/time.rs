//! Simulated time as integer microseconds, and the unit parsers for durations,
//! sizes and bandwidths used by scenario files and flags.

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

/// Splits `"1h30m"` into `[(1, "h"), (30, "m")]` style (number text, unit) parts.
fn split_parts(s: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut parts = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("expected a number at `{rest}`"));
        }
        let (num, tail) = rest.split_at(num_len);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        parts.push((num, unit));
        rest = tail;
    }
    Ok(parts)
}

/// Parses a non-negative decimal `"12.5"` times `scale` into an integer,
/// exactly (no float rounding), rounding the last digit half-up.
fn decimal_times(num: &str, scale: u64) -> Result<u64, String> {
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if int.is_empty() && frac.is_empty() || frac.contains('.') {
        return Err(format!("`{num}` is not a number"));
    }
    let int_v: u128 = if int.is_empty() {
        0
    } else {
        int.parse()
            .map_err(|_| format!("`{num}` is not a number"))?
    };
    let mut total = int_v * scale as u128;
    if !frac.is_empty() {
        let digits = frac.len().min(30) as u32;
        let frac_v: u128 = frac[..digits as usize]
            .parse()
            .map_err(|_| format!("`{num}` is not a number"))?;
        let denom = 10u128.pow(digits);
        total += (frac_v * scale as u128 * 2 + denom) / (2 * denom);
    }
    u64::try_from(total).map_err(|_| format!("`{num}` is too large"))
}

/// Parses a duration: `"1h30m"`, `"2.5d"`, `"100ms"` (units `ms s m h d w y`,
/// `y` = 365 d, case-sensitive, no spaces).
pub fn parse_duration(s: &str) -> Result<SimTime, String> {
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if s.starts_with('-') {
        return Err(format!("`{s}` is negative; durations must be ≥ 0"));
    }
    let mut total: u64 = 0;
    for (num, unit) in split_parts(s)? {
        let scale = match UNITS.iter().find(|(n, _)| *n == unit) {
            Some(&(_, us)) => us,
            None if unit.is_empty() => {
                return Err(format!(
                    "`{s}` needs a unit (ms, s, m, h, d, w, y); a bare number of seconds must not be quoted"
                ));
            }
            None => {
                return Err(format!(
                    "unknown duration unit `{unit}` in `{s}` (use ms, s, m, h, d, w, y)"
                ));
            }
        };
        let v = decimal_times(num, scale)?;
        total = total
            .checked_add(v)
            .ok_or_else(|| format!("`{s}` is too large"))?;
    }
    Ok(SimTime(total))
}

/// Converts a TOML number of seconds to a duration, rejecting negatives and NaN.
pub fn duration_from_secs(v: f64) -> Result<SimTime, String> {
    if !v.is_finite() {
        return Err(format!("`{v}` is not a finite number of seconds"));
    }
    if v < 0.0 {
        return Err(format!("`{v}` is negative; durations must be ≥ 0"));
    }
    if v * US_PER_S as f64 >= u64::MAX as f64 {
        return Err(format!("`{v}` seconds is too large"));
    }
    Ok(SimTime::from_secs_f64(v))
}

const SIZE_UNITS: [(&str, f64); 8] = [
    ("B", 1.0),
    ("KB", 1e3),
    ("MB", 1e6),
    ("GB", 1e9),
    ("TB", 1e12),
    ("KiB", 1024.0),
    ("MiB", 1048576.0),
    ("GiB", 1073741824.0),
];
const TIB: f64 = 1099511627776.0;

fn split_number(s: &str) -> Result<(f64, &str), String> {
    if s.starts_with('-') {
        return Err(format!("`{s}` is negative"));
    }
    let n = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(n);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` does not start with a number"))?;
    Ok((v, unit))
}

/// Parses a size such as `"10GiB"` or `"1.5TB"` into bytes (a unit is required).
pub fn parse_size(s: &str) -> Result<f64, String> {
    let (v, unit) = split_number(s)?;
    let scale = if unit == "TiB" {
        TIB
    } else {
        SIZE_UNITS
            .iter()
            .find(|(n, _)| *n == unit)
            .map(|&(_, f)| f)
            .ok_or_else(|| {
                format!("`{s}` needs a size unit: B, KB, MB, GB, TB, KiB, MiB, GiB or TiB")
            })?
    };
    Ok(v * scale)
}

/// Parses a bandwidth into bits per second: `"10Gbps"` (bits) or a size per
/// second such as `"1.25GB/s"`.
pub fn parse_bandwidth(s: &str) -> Result<f64, String> {
    if let Some(size) = s.strip_suffix("/s") {
        return parse_size(size).map(|b| b * 8.0);
    }
    let (v, unit) = split_number(s)?;
    let scale = match unit {
        "bps" => 1.0,
        "Kbps" => 1e3,
        "Mbps" => 1e6,
        "Gbps" => 1e9,
        _ => {
            return Err(format!(
                "`{s}` needs a bandwidth unit: bps, Kbps, Mbps, Gbps, or a size per second like `1.25GB/s`"
            ));
        }
    };
    Ok(v * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_exactly() {
        assert_eq!(parse_duration("1h30m").unwrap(), SimTime(5_400 * US_PER_S));
        assert_eq!(parse_duration("2.5d").unwrap(), SimTime(216_000 * US_PER_S));
        assert_eq!(parse_duration("100ms").unwrap(), SimTime(100_000));
        assert_eq!(
            parse_duration("1y").unwrap(),
            SimTime(31_536_000 * US_PER_S)
        );
        assert_eq!(parse_duration("2w").unwrap(), SimTime(1_209_600 * US_PER_S));
        // 8.589934592 s rounds half-up to 8_589_935 µs (0.408 µs off: within 1 µs).
        assert_eq!(parse_duration("8.589934592s").unwrap(), SimTime(8_589_935));
        // 100,000 years is representable.
        assert!(parse_duration("100000y").is_ok());
    }

    #[test]
    fn bad_durations_are_rejected() {
        for bad in ["", "5", "1H", "1 h", "-1s", "h", "1.2.3s", "5x", "1e3s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn sizes_and_bandwidths() {
        assert_eq!(parse_size("10GiB").unwrap(), 10.0 * 1073741824.0);
        assert_eq!(parse_size("1TB").unwrap(), 1e12);
        assert_eq!(parse_size("2TiB").unwrap(), 2.0 * TIB);
        assert!(parse_size("10").is_err());
        assert!(parse_size("10gib").is_err());
        assert_eq!(parse_bandwidth("10Gbps").unwrap(), 1e10);
        assert_eq!(parse_bandwidth("1.25GB/s").unwrap(), 1e10);
        assert!(parse_bandwidth("10GBps").is_err());
    }

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
