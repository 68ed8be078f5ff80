//! Each instance's state over a database timeline (SPEC §5), read off the
//! CSV: serving writer (the `writer` column), being promoted (between its
//! `failover-start` and the failover's end), down or up.
//!
//! An instance is down while its own crash holds (`instance-crash` to
//! `instance-recover`, or to a `restart-done` / `restore` that replaced it)
//! or while its AZ is unreachable. The CSV names the AZ of an outage but not
//! the AZ of each instance, so that is inferred: every way of placing the
//! instances in the AZs the CSV names (or in one it never names) is checked
//! against every row — the `instances_up` count, a serving writer up, a
//! writer that stopped serving with no volume lost down — and the lanes
//! show what all the fitting placements agree on; where they disagree the
//! instance's state is drawn as unknown, and with none fitting AZ outages
//! are left off the instance lanes. The picture's legend says which.

use super::db_rows::{DbRecord, instance_of, pass};
use crate::error::InputError;
use std::io::Read;

/// Most placements tried: (AZs + 1)^instances beyond this are not searched.
const MAX_PLACEMENTS: usize = 4096;

/// The state letters of an instance lane.
pub(super) const WRITER: u8 = b'W';
pub(super) const PROMOTING: u8 = b'F';
pub(super) const UP: u8 = b'U';
pub(super) const DOWN: u8 = b'D';
/// Up under some placements that fit the CSV and down under others.
pub(super) const UNKNOWN: u8 = b'?';

/// How sure the lanes are about the AZ-caused downs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Placement {
    /// No AZ was ever unreachable, or exactly one placement fits.
    Certain,
    /// Several placements fit and differ at some instant, drawn as unknown.
    Ambiguous,
    /// None fits (or too many to try): AZ outages are left off the lanes.
    Unknown,
}

/// One instance's lane: its AZ (if inferred) and its states as
/// (start, end, letter), consecutive equal letters merged.
pub(super) struct Lane {
    pub(super) az: Option<usize>,
    pub(super) spans: Vec<(f64, f64, u8)>,
}

/// What is known independently of the placement, row by row.
struct Facts {
    crashed: Vec<bool>,
    dark: Vec<bool>,
    promoting: Option<usize>,
}

impl Facts {
    fn new(n: usize, azs: usize) -> Facts {
        Facts {
            crashed: vec![false; n],
            dark: vec![false; azs],
            promoting: None,
        }
    }

    /// Applies a row's event; returns the instance a `restore` brought up.
    fn apply(&mut self, r: &DbRecord<'_>, az_names: &[String]) -> Option<usize> {
        let inst = instance_of(r.target).filter(|&i| i < self.crashed.len());
        match (r.event, inst) {
            ("instance-crash", Some(i)) => self.crashed[i] = true,
            ("instance-recover" | "restart-done", Some(i)) => self.crashed[i] = false,
            ("restore", Some(i)) => {
                self.crashed[i] = false;
                return Some(i);
            }
            ("failover-start", Some(i)) => self.promoting = Some(i),
            ("failover-done" | "failover-abort", _) => self.promoting = None,
            ("az-outage" | "az-loss" | "az-recover", _) => {
                if let Some(a) = az_names.iter().position(|n| n == r.target) {
                    self.dark[a] = r.event != "az-recover";
                }
            }
            _ => {}
        }
        if r.event == "restart-done" {
            self.promoting = None;
        }
        None
    }
}

/// Placement `k` as each instance's AZ index (`azs` = "an AZ never named"),
/// the first instance the most significant digit: in order of `k`, the
/// first instances try the first AZs first.
fn decode(mut k: usize, n: usize, azs: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..n)
        .map(|_| {
            let a = k % (azs + 1);
            k /= azs + 1;
            a
        })
        .collect();
    out.reverse();
    out
}

fn up(f: &Facts, place: &[usize], i: usize) -> bool {
    !f.crashed[i] && !f.dark.get(place[i]).copied().unwrap_or(false)
}

/// The lanes of `n` instances over a database timeline whose AZ events name
/// `az_names` (one more pass over `input`, or two when AZs are involved).
pub(super) fn lanes<R: Read + std::io::Seek>(
    input: &mut R,
    path: &str,
    prefix: &str,
    n: usize,
    az_names: &[String],
) -> Result<(Vec<Lane>, Placement), InputError> {
    let m = az_names.len();
    let count = (m + 1)
        .checked_pow(n as u32)
        .filter(|&c| c <= MAX_PLACEMENTS);
    let fitting: Vec<Vec<usize>> = match count {
        _ if m == 0 => vec![vec![0; n]],
        Some(count) => {
            let fit = fit(&mut *input, path, prefix, n, az_names, count)?;
            super::rows::rewind(input, path)?;
            fit
        }
        None => Vec::new(),
    };
    let mut how = if fitting.is_empty() {
        Placement::Unknown
    } else {
        Placement::Certain
    };
    // With none fitting, every instance "elsewhere": only its crashes show.
    let mut places = if fitting.is_empty() {
        vec![vec![m; n]]
    } else {
        fitting
    };
    // An instance's AZ is named when every fitting placement agrees on it.
    let mut lanes: Vec<Lane> = (0..n)
        .map(|i| {
            let a = places[0][i];
            let agreed = places.iter().all(|p| p[i] == a) && a < m && how == Placement::Certain;
            Lane {
                az: agreed.then_some(a),
                spans: Vec::new(),
            }
        })
        .collect();
    // The drawing pass: the states from each instant on, under every fitting
    // placement; where they disagree the state is unknown.
    let mut facts = Facts::new(n, m);
    let mut end = 0.0;
    pass(&mut *input, path, prefix, |r, last| {
        if let Some(i) = facts.apply(r, az_names) {
            for place in places.iter_mut() {
                if facts.dark.get(place[i]).copied().unwrap_or(false) {
                    place[i] = m;
                }
            }
        }
        end = r.t;
        if !last {
            return;
        }
        for (i, lane) in lanes.iter_mut().enumerate() {
            let ups = places.iter().filter(|p| up(&facts, p, i)).count();
            let letter = if r.writer == Some(i) {
                WRITER
            } else if ups == 0 {
                DOWN
            } else if ups < places.len() {
                UNKNOWN
            } else if facts.promoting == Some(i) {
                PROMOTING
            } else {
                UP
            };
            if letter == UNKNOWN {
                how = Placement::Ambiguous;
            }
            match lane.spans.last_mut() {
                Some(s) if s.2 == letter => {}
                Some(s) => {
                    s.1 = r.t;
                    lane.spans.push((r.t, r.t, letter));
                }
                None => lane.spans.push((r.t, r.t, letter)),
            }
        }
    })?;
    for lane in &mut lanes {
        if let Some(s) = lane.spans.last_mut() {
            s.1 = end;
        }
        lane.spans.retain(|s| s.1 > s.0);
    }
    Ok((lanes, how))
}

/// The placements (as at the start) that fit every row: the `instances_up`
/// count, a serving writer that is up, and a writer that stopped serving
/// with no volume lost (the only other way a serving writer stops) down.
fn fit<R: Read>(
    input: R,
    path: &str,
    prefix: &str,
    n: usize,
    az_names: &[String],
    count: usize,
) -> Result<Vec<Vec<usize>>, InputError> {
    let m = az_names.len();
    // (placement index, placement now: a restore may move an instance).
    let mut alive: Vec<(usize, Vec<usize>)> = (0..count).map(|k| (k, decode(k, n, m))).collect();
    let mut facts = Facts::new(n, m);
    let (mut was_writer, mut volume_lost) = (None, false);
    pass(input, path, prefix, |r, last| {
        let restored = facts.apply(r, az_names);
        volume_lost |= matches!(r.event, "ebs-loss" | "data-loss" | "az-loss");
        if let Some(i) = restored {
            for (_, place) in alive.iter_mut() {
                // A restore in an unreachable AZ moved the instance elsewhere.
                if facts.dark.get(place[i]).copied().unwrap_or(false) {
                    place[i] = m;
                }
            }
        }
        if !last {
            return;
        }
        let lost = was_writer.filter(|_| r.writer.is_none() && !volume_lost);
        alive.retain(|(_, place)| {
            let count = (0..n).filter(|&i| up(&facts, place, i)).count();
            count == r.up
                && r.writer.is_none_or(|w| w < n && up(&facts, place, w))
                && lost.is_none_or(|w: usize| w >= n || !up(&facts, place, w))
        });
        was_writer = r.writer;
        volume_lost = false;
    })?;
    Ok(alive.into_iter().map(|(k, _)| decode(k, n, m)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_are_enumerated_instance_by_instance() {
        // Base 3 (two named AZs and "elsewhere"): 5 = 1·3 + 2 → [1, 2].
        assert_eq!(decode(5, 2, 2), [1, 2]);
        assert_eq!(decode(1, 3, 1), [0, 0, 1]);
        assert_eq!(decode(0, 3, 2), [0, 0, 0]);
    }
}
