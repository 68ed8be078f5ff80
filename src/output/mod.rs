//! Outputs: the readable report, JSON, the CSV timeline, and atomic writes.
//! Renderers return text (the timeline streams to a writer); only [`file`]
//! touches the file system.

pub mod background;
pub mod compare;
pub mod database;
pub mod file;
pub mod json;
pub mod plot;
pub mod progress;
pub mod report;
pub mod segments;
pub mod timeline;

pub use file::write_atomic;

use crate::time::{SimTime, US_PER_S};

/// Exact decimal seconds of a time: `8.589935`, `3600`.
pub fn secs_exact(t: SimTime) -> String {
    secs_exact_us(t.0 as u128)
}

/// Exact decimal seconds of a µs count (also sums of many runs).
pub fn secs_exact_us(total_us: u128) -> String {
    let per_s = US_PER_S as u128;
    let (s, us) = (total_us / per_s, total_us % per_s);
    if us == 0 {
        return s.to_string();
    }
    let frac = format!("{us:06}");
    format!("{s}.{}", frac.trim_end_matches('0'))
}

/// A duration as the shortest exact text `parse_duration` reads back:
/// `10000y`, `90m`, `1500ms`, `8.589935s`.
pub fn duration_exact(t: SimTime) -> String {
    const UNITS: [(&str, u64); 6] = [
        ("y", 365 * 86_400 * US_PER_S),
        ("d", 86_400 * US_PER_S),
        ("h", 3_600 * US_PER_S),
        ("m", 60 * US_PER_S),
        ("s", US_PER_S),
        ("ms", 1_000),
    ];
    match UNITS
        .iter()
        .find(|(_, us)| t.0 > 0 && t.0.is_multiple_of(*us))
    {
        Some((unit, us)) => format!("{}{unit}", t.0 / us),
        None => format!("{}s", secs_exact(t)),
    }
}

/// `s` as one word for a POSIX shell: as is when it is plain, else in single
/// quotes (a `'` inside becomes `'\''`).
pub fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-+=:,./@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `aurora-sim run` command that replays a run exactly: the scenario,
/// its horizon, every `--set` (each `KEY=VALUE` as typed) and the seed.
pub fn replay_command<'a>(
    scenario: &str,
    horizon: SimTime,
    sets: impl IntoIterator<Item = &'a str>,
    seed: u64,
) -> String {
    let mut s = format!(
        "aurora-sim run {} --horizon {}",
        shell_word(scenario),
        duration_exact(horizon)
    );
    for a in sets {
        s.push_str(" --set ");
        s.push_str(&shell_word(a));
    }
    s.push_str(&format!(" --seed {seed}"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_seconds() {
        assert_eq!(secs_exact(SimTime(8_589_935)), "8.589935");
        assert_eq!(secs_exact(SimTime(3_600_000_000)), "3600");
        assert_eq!(secs_exact(SimTime(1_500_000)), "1.5");
    }

    #[test]
    fn exact_durations_read_back() {
        for us in [
            1,
            999,
            1_000,
            1_500_000,
            8_589_935,
            5_400_000_000,
            315_360_000_000_000_000,
        ] {
            let t = SimTime(us);
            assert_eq!(
                crate::time::parse_duration(&duration_exact(t)),
                Ok(t),
                "{us}"
            );
        }
        assert_eq!(duration_exact(SimTime(315_360_000_000_000_000)), "10000y");
        assert_eq!(duration_exact(SimTime(5_400_000_000)), "90m");
    }

    #[test]
    fn shell_words() {
        assert_eq!(
            shell_word("cluster.repair_time=1h"),
            "cluster.repair_time=1h"
        );
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(
            shell_word("k={ dist = \"fixed\" }"),
            "'k={ dist = \"fixed\" }'"
        );
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write_atomic(&dir.path().join("no/such/dir.csv"), b"x").is_err());
    }
}
