//! The unit parsers for durations, sizes and bandwidths used by scenario
//! files and flags: exact, checked, and telling near misses their fix.

use super::{SimTime, UNITS, US_PER_S};

/// The longest duration, in words, for messages: `u64::MAX` µs is
/// 584,942.4 years, far past the 100,000-year horizons the spec asks for.
pub const MAX_DURATION: &str = "584,942 years (2^64 µs)";

/// The message for a value past [`MAX_DURATION`].
fn too_large(s: &str) -> String {
    format!("`{s}` is too large: a duration is at most {MAX_DURATION}")
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

/// Parses a non-negative decimal `"12.5"` (ASCII digits and one `.`) times
/// `scale` into an integer, exactly and with checked arithmetic: the integer
/// part times `scale`, plus the fraction times `scale` rounded half-up to the
/// nearest unit, computed digit by digit so that any number of fraction
/// digits is exact (no float, no truncation). `None` when past `u64::MAX`.
fn decimal_times(num: &str, scale: u64) -> Result<Option<u64>, String> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
        return Err(format!("`{num}` is not a number"));
    }
    let int = int.trim_start_matches('0');
    // More than 20 significant digits is past u64::MAX before scaling.
    if int.len() > 20 {
        return Ok(None);
    }
    let int_v: u128 = if int.is_empty() {
        0
    } else {
        int.parse()
            .map_err(|_| format!("`{num}` is not a number"))?
    };
    // frac × scale as a decimal: multiplying from the last digit, the carry
    // left after all digits is ⌊frac × scale⌋ and the last digit produced (the
    // first below the unit) decides the rounding.
    let mut carry: u128 = 0;
    let mut first_below = 0;
    for d in frac.bytes().rev() {
        let p = u128::from(d - b'0') * u128::from(scale) + carry;
        first_below = p % 10;
        carry = p / 10;
    }
    let round_up = u128::from(first_below >= 5);
    let total = int_v
        .checked_mul(u128::from(scale))
        .and_then(|t| t.checked_add(carry + round_up));
    Ok(total.and_then(|t| u64::try_from(t).ok()))
}

/// Duration units and the spellings people reach for instead.
const DURATION_ALIASES: [(&str, &[&str]); 7] = [
    (
        "ms",
        &["msec", "msecs", "millisecond", "milliseconds", "millis"],
    ),
    ("s", &["sec", "secs", "second", "seconds"]),
    ("m", &["min", "mins", "minute", "minutes"]),
    ("h", &["hr", "hrs", "hour", "hours"]),
    ("d", &["day", "days"]),
    ("w", &["wk", "wks", "week", "weeks"]),
    ("y", &["yr", "yrs", "year", "years"]),
];

/// A corrected spelling of a duration that failed to parse, if one is
/// obvious: spaces dropped, unit words (`min`, `hours`) and capitals (`1H`)
/// mapped to the units, `"5"` given a unit. `M` is left alone (month or
/// minute?).
fn suggest_duration(s: &str) -> Option<String> {
    let squeezed: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if squeezed.is_empty() {
        return None;
    }
    let parts = split_parts(&squeezed).ok()?;
    let single = parts.len() == 1;
    let mut out = String::new();
    for (num, unit) in parts {
        let lower = unit.to_ascii_lowercase();
        let fixed = DURATION_ALIASES.iter().find_map(|(u, names)| {
            (*u == lower && unit != "M" || names.contains(&lower.as_str())).then_some(*u)
        });
        let fixed = match (unit, fixed) {
            ("", _) if single => "s",
            (_, Some(u)) => u,
            (_, None) => return None,
        };
        out.push_str(num);
        out.push_str(fixed);
    }
    (out != s && parse_duration_exact(&out).is_ok()).then_some(out)
}

/// [`parse_duration`] without the suggestion (so that suggesting cannot recurse).
fn parse_duration_exact(s: &str) -> Result<SimTime, String> {
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
        let v = decimal_times(num, scale)?.ok_or_else(|| too_large(s))?;
        total = total.checked_add(v).ok_or_else(|| too_large(s))?;
    }
    Ok(SimTime(total))
}

/// Parses a duration: `"1h30m"`, `"2.5d"`, `"100ms"` (units `ms s m h d w y`,
/// `y` = 365 d, case-sensitive, no spaces), exactly to the microsecond
/// (finer digits round half-up). Past [`MAX_DURATION`] is an error, never a
/// wrap; a near miss (`"10 min"`) is told its fix.
pub fn parse_duration(s: &str) -> Result<SimTime, String> {
    parse_duration_exact(s).map_err(|m| match suggest_duration(s) {
        Some(fix) => format!("{m}; did you mean \"{fix}\"?"),
        None => m,
    })
}

/// Converts a TOML integer number of seconds to a duration, exactly.
pub fn duration_from_int_secs(v: i64) -> Result<SimTime, String> {
    if v < 0 {
        return Err(format!("`{v}` is negative; durations must be ≥ 0"));
    }
    (v as u64)
        .checked_mul(US_PER_S)
        .map(SimTime)
        .ok_or_else(|| too_large(&format!("{v} s")))
}

/// Converts a TOML number of seconds to a duration, rejecting negatives and NaN.
pub fn duration_from_secs(v: f64) -> Result<SimTime, String> {
    if !v.is_finite() {
        return Err(format!("`{v}` is not a finite number of seconds"));
    }
    if v < 0.0 {
        return Err(format!("`{v}` is negative; durations must be ≥ 0"));
    }
    // u64::MAX as f64 rounds up to 2^64, so `>=` refuses everything past it.
    if v * US_PER_S as f64 >= u64::MAX as f64 {
        return Err(too_large(&format!("{v} s")));
    }
    Ok(SimTime::from_secs_f64(v))
}

const SIZE_UNITS: [(&str, f64); 9] = [
    ("B", 1.0),
    ("KB", 1e3),
    ("MB", 1e6),
    ("GB", 1e9),
    ("TB", 1e12),
    ("KiB", 1024.0),
    ("MiB", 1048576.0),
    ("GiB", 1073741824.0),
    ("TiB", 1099511627776.0),
];

/// The largest size or bandwidth accepted: far past any segment or link, and
/// small enough that the repair time it gives is a finite number.
pub const MAX_SIZE_BYTES: f64 = 1e30;

/// Splits a leading decimal (digits and one `.`) from its unit.
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

/// A unit that matches one of `units` but for case or spaces, as `"10GiB"`.
fn suggest_unit(s: &str, units: &[&str]) -> Option<String> {
    let squeezed: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let n = squeezed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(squeezed.len());
    let (num, unit) = squeezed.split_at(n);
    let mut hits = units.iter().filter(|u| u.eq_ignore_ascii_case(unit));
    match (hits.next(), hits.next()) {
        (Some(u), None) if !num.is_empty() && format!("{num}{u}") != s => Some(format!("{num}{u}")),
        _ => None,
    }
}

/// `v` if finite and at most `limit`, else a message stating the limit.
fn bounded(s: &str, v: f64, limit: f64, what: &str) -> Result<f64, String> {
    if v.is_finite() && v <= limit {
        Ok(v)
    } else {
        Err(format!("`{s}` is too large (at most {limit:e} {what})"))
    }
}

/// Parses a size such as `"10GiB"` or `"1.5TB"` into bytes (a unit is required).
pub fn parse_size(s: &str) -> Result<f64, String> {
    let names: Vec<&str> = SIZE_UNITS.iter().map(|u| u.0).collect();
    let fail = |m: String| match suggest_unit(s, &names) {
        Some(fix) => format!("{m}; did you mean \"{fix}\"?"),
        None => m,
    };
    let (v, unit) = split_number(s).map_err(fail)?;
    let scale = SIZE_UNITS
        .iter()
        .find(|(n, _)| *n == unit)
        .map(|&(_, f)| f)
        .ok_or_else(|| {
            fail(format!(
                "`{s}` needs a size unit: B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"
            ))
        })?;
    bounded(s, v * scale, MAX_SIZE_BYTES, "bytes")
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
            let hint = match unit.strip_suffix("Bps") {
                // `GBps`: bytes per second, written the way SPEC spells it.
                Some(prefix) if ["", "K", "M", "G", "T"].contains(&prefix) => {
                    format!(
                        "; did you mean \"{}{prefix}B/s\"?",
                        &s[..s.len() - unit.len()]
                    )
                }
                _ => suggest_unit(s, &["bps", "Kbps", "Mbps", "Gbps"])
                    .map_or(String::new(), |f| format!("; did you mean \"{f}\"?")),
            };
            return Err(format!(
                "`{s}` needs a bandwidth unit: bps, Kbps, Mbps, Gbps, or a size per second like `1.25GB/s`{hint}"
            ));
        }
    };
    bounded(s, v * scale, MAX_SIZE_BYTES * 8.0, "bits per second")
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
        assert_eq!(parse_size("2TiB").unwrap(), 2.0 * 1099511627776.0);
        assert!(parse_size("10").is_err());
        assert!(parse_size("10gib").is_err());
        assert_eq!(parse_bandwidth("10Gbps").unwrap(), 1e10);
        assert_eq!(parse_bandwidth("1.25GB/s").unwrap(), 1e10);
        assert!(parse_bandwidth("10GBps").is_err());
    }

    // See: issue 11
    #[test]
    fn issue_11_overflowing_durations_are_refused_not_wrapped() {
        // 42535295865117307932921825928971026433 ms × 1,000 wraps u128 to
        // 1,000 µs exactly (2^125 × 1000 ≡ 0 mod 2^128, plus the 1 ms): it used
        // to run as 1 ms. It is ~1.3e30 years: refused, naming the limit.
        let e = parse_duration("42535295865117307932921825928971026433ms").unwrap_err();
        assert!(e.contains("at most 584,942 years"), "{e}");
        // One year past the limit is refused with the limit in years; the year
        // below it is exact (584,942 y = 18,446,529,312,000,000,000 µs < 2^64).
        let e = parse_duration("584943y").unwrap_err();
        assert!(
            e.contains("too large") && e.contains("584,942 years"),
            "{e}"
        );
        assert_eq!(
            parse_duration("584942y").unwrap(),
            SimTime(584_942 * 31_536_000 * US_PER_S)
        );
        // Sums of parts overflow too: each part fits, the total does not.
        assert!(parse_duration("584942y584942y").is_err());
        assert!(parse_duration("18446744073709551616ms").is_err());
    }

    // See: issue 11
    #[test]
    fn issue_11_long_fractions_are_exact() {
        // 0.999…9 y (30 nines) is 1 y minus 1e-30 y = 31,536,000 s − 3.2e-17 µs:
        // to the nearest µs exactly one year (it used to overflow to 2m41s).
        assert_eq!(
            parse_duration("0.999999999999999999999999999999y").unwrap(),
            SimTime(31_536_000 * US_PER_S)
        );
        // Half-up at the µs, decided by the first digit past it, whatever follows.
        assert_eq!(parse_duration("0.0000005s").unwrap(), SimTime(1));
        assert_eq!(
            parse_duration("0.00000049999999999999999999s").unwrap(),
            SimTime(0)
        );
        assert_eq!(
            parse_duration("1.0000015000000000000000001s").unwrap(),
            SimTime(1_000_002)
        );
        // 1/3 y to the µs: 31,536,000 / 3 = 10,512,000 s exactly, and
        // 0.333…3 (40 threes) y is 1e-40 y short of it: rounds to 10,512,000 s.
        assert_eq!(
            parse_duration("0.3333333333333333333333333333333333333333y").unwrap(),
            SimTime(10_512_000 * US_PER_S)
        );
        // Leading zeros do not count against the size.
        assert_eq!(
            parse_duration("0000000000000000000000000000000000000000001s").unwrap(),
            SimTime(US_PER_S)
        );
    }

    // See: issue 11
    #[test]
    fn issue_11_near_misses_suggest_the_fix() {
        let hint = |s: &str| parse_duration(s).unwrap_err();
        assert!(
            hint("10 min").ends_with("did you mean \"10m\"?"),
            "{}",
            hint("10 min")
        );
        assert!(hint("2 hours").ends_with("did you mean \"2h\"?"));
        assert!(hint("1H30M").contains("unknown duration unit"));
        assert!(hint("1H").ends_with("did you mean \"1h\"?"));
        assert!(hint("5").ends_with("did you mean \"5s\"?"));
        // No guess where there is none to make.
        assert!(!hint("5x").contains("did you mean"));
        assert!(!hint("1h30").contains("did you mean"));
        assert!(
            parse_size("10gib")
                .unwrap_err()
                .ends_with("did you mean \"10GiB\"?")
        );
        assert!(
            parse_size("10 GiB")
                .unwrap_err()
                .ends_with("did you mean \"10GiB\"?")
        );
        let e = parse_bandwidth("10GBps").unwrap_err();
        assert!(e.ends_with("did you mean \"10GB/s\"?"), "{e}");
        assert!(
            parse_bandwidth("10gbps")
                .unwrap_err()
                .ends_with("did you mean \"10Gbps\"?")
        );
    }

    #[test]
    fn toml_numbers_of_seconds() {
        assert_eq!(duration_from_int_secs(5).unwrap(), SimTime(5 * US_PER_S));
        assert!(duration_from_int_secs(-1).is_err());
        // i64::MAX s is past 2^64 µs: refused, not wrapped or rounded.
        assert!(
            duration_from_int_secs(i64::MAX)
                .unwrap_err()
                .contains("584,942 years")
        );
        assert!(
            duration_from_secs(1e300)
                .unwrap_err()
                .contains("584,942 years")
        );
        assert!(duration_from_secs(f64::NAN).is_err());
    }

    #[test]
    fn huge_sizes_are_refused() {
        let nines = "9".repeat(400);
        assert!(
            parse_size(&format!("{nines}B"))
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            parse_bandwidth(&format!("{nines}Gbps"))
                .unwrap_err()
                .contains("too large")
        );
        assert!(parse_size("1e3B").is_err());
    }

    mod props {
        use super::super::*;
        use crate::time::UNITS;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            /// No string makes a parser panic (the result may be an error).
            #[test]
            fn parsers_never_panic(s in "\\PC{0,40}") {
                let _ = parse_duration(&s);
                let _ = parse_size(&s);
                let _ = parse_bandwidth(&s);
            }

            /// Strings made of the parsers' own alphabet, where the edge cases are.
            #[test]
            fn parsers_never_panic_on_near_misses(s in "[0-9.]{0,45}(ms|s|m|h|d|w|y|B|GiB|Gbps|/s| |M|H)?[0-9.]{0,5}") {
                let _ = parse_duration(&s);
                let _ = parse_size(&s);
                let _ = parse_bandwidth(&s);
            }

            /// Every µs count round-trips through `SECONDS.MICROSs`.
            #[test]
            fn durations_round_trip(us in any::<u64>()) {
                let text = format!("{}.{:06}s", us / US_PER_S, us % US_PER_S);
                prop_assert_eq!(parse_duration(&text).unwrap(), SimTime(us));
            }

            /// Whole numbers of any unit give the exact product, or an error
            /// exactly when that product passes u64::MAX.
            #[test]
            fn whole_units_are_exact(n in any::<u64>(), u in 0usize..7) {
                let (name, us) = UNITS[u];
                let exact = u128::from(n) * u128::from(us);
                match parse_duration(&format!("{n}{name}")) {
                    Ok(t) => prop_assert_eq!(u128::from(t.0), exact),
                    Err(_) => prop_assert!(exact > u128::from(u64::MAX)),
                }
            }

            /// Sizes and bandwidths read back what was written.
            #[test]
            fn sizes_round_trip(n in 0u64..(1 << 53), u in 0usize..9) {
                let (name, scale) = SIZE_UNITS[u];
                prop_assert_eq!(parse_size(&format!("{n}{name}")).unwrap(), n as f64 * scale);
                prop_assert_eq!(parse_bandwidth(&format!("{n}bps")).unwrap(), n as f64);
                prop_assert_eq!(parse_bandwidth(&format!("{n}{name}/s")).unwrap(), n as f64 * scale * 8.0);
            }
        }
    }
}
