//! The rows of a database timeline (SPEC §5), checked, and what the
//! database pictures need of them: the write, read and storage outages, the
//! AZs' unreachable stretches, the marked events and the instants.

use super::kind::FileKind;
use super::rows::{self, Outages, Rows};
use crate::error::InputError;
use crate::output::timeline::DB_COLUMNS;
use std::io::Read;

/// One row of a database timeline.
pub(super) struct DbRecord<'a> {
    pub(super) t: f64,
    pub(super) event: &'a str,
    pub(super) target: &'a str,
    /// The serving writer, 0-based.
    pub(super) writer: Option<usize>,
    pub(super) up: usize,
    pub(super) write: bool,
    pub(super) read: bool,
    pub(super) storage: bool,
    pub(super) losses: u64,
}

/// Whether `cols` is a database timeline's header.
pub(super) fn is_db_header(cols: &[&str]) -> bool {
    cols == DB_COLUMNS
}

/// One pass: every row checked and handed to `each` with whether it is the
/// last row at its instant (its state is the state from then on).
pub(super) fn pass<R: Read>(
    input: R,
    path: &str,
    prefix: &str,
    mut each: impl FnMut(&DbRecord<'_>, bool),
) -> Result<usize, InputError> {
    let mut rd = Rows::new(input, path, false);
    let cols = rd.header()?;
    if cols != DB_COLUMNS {
        return Err(InputError::new(
            path,
            match FileKind::of(prefix) {
                FileKind::Timeline | FileKind::Unknown => format!(
                    "not a database timeline CSV: expected the columns {}",
                    DB_COLUMNS.join(",")
                ),
                kind => format!("not a timeline CSV: {}", kind.advice()),
            },
        ));
    }
    // Rows are handed on one late, so each knows whether the next shares its instant.
    let mut held: Option<(usize, csv::StringRecord)> = None;
    let mut last_t = f64::NEG_INFINITY;
    let mut count = 0;
    let mut emit = |line: usize, rec: &csv::StringRecord, last: bool| -> Result<(), InputError> {
        let bad = |m: String| rows::bad(path, line, m);
        let num = |k: usize| -> Result<u64, InputError> {
            rec[k]
                .parse()
                .map_err(|_| bad(format!("{} `{}` is not a count", DB_COLUMNS[k], &rec[k])))
        };
        let flag = |k: usize| rows::flag(&rec[k], DB_COLUMNS[k]).map_err(bad);
        let t: f64 = rec[0]
            .parse()
            .map_err(|_| bad(format!("time_s `{}` is not a number", &rec[0])))?;
        let writer = match &rec[3] {
            "" => None,
            w => match w.parse::<usize>() {
                Ok(k) if k >= 1 => Some(k - 1),
                _ => {
                    return Err(bad(format!(
                        "writer `{w}` is not an instance number (1, 2 …)"
                    )));
                }
            },
        };
        let r = DbRecord {
            t,
            event: &rec[1],
            target: &rec[2],
            writer,
            up: num(4)? as usize,
            write: flag(5)?,
            read: flag(6)?,
            storage: flag(7)?,
            losses: num(8)?,
        };
        each(&r, last);
        Ok(())
    };
    while let Some((line, rec)) = rd.next()? {
        let t: f64 = rec[0]
            .parse()
            .map_err(|_| rows::bad(path, line, format!("time_s `{}` is not a number", &rec[0])))?;
        if !t.is_finite() || t < 0.0 || t < last_t {
            return Err(rows::bad(
                path,
                line,
                format!("time_s `{}` is negative or goes backwards", &rec[0]),
            ));
        }
        if let Some((l, h)) = held.take() {
            emit(l, &h, t != last_t)?;
        }
        last_t = t;
        held = Some((line, rec.clone()));
        count += 1;
    }
    if let Some((l, h)) = held {
        emit(l, &h, true)?;
    }
    if count < 2 {
        return Err(InputError::new(
            path,
            "a timeline needs at least a start and an end row",
        ));
    }
    Ok(count)
}

/// Events marked on the database pictures: (CSV name, label, colour).
pub(super) const DB_MARKED: [(&str, &str, &str); 7] = [
    ("failover-start", "failover to", "#6a1b9a"),
    ("failover-done", "writes", "#6a1b9a"),
    ("failover-abort", "aborted failover to", "#6a1b9a"),
    ("restart-done", "restarted", "#00695c"),
    ("restore", "restored from backup", "#1565c0"),
    ("data-loss", "data loss", "#000"),
    ("ebs-loss", "EBS volume lost", "#c62828"),
];

/// What a pass over a database timeline learns, in memory (a database
/// timeline has a row per instance or AZ event, not per storage change).
#[derive(Default)]
pub(super) struct Trace {
    /// Every instant, in order (repeats removed).
    pub(super) instants: Vec<f64>,
    /// Write, read and storage-write outages.
    pub(super) write: Vec<(f64, f64)>,
    pub(super) read: Vec<(f64, f64)>,
    pub(super) storage: Vec<(f64, f64)>,
    /// AZ names in order of appearance, with their unreachable stretches.
    pub(super) azs: Vec<(String, Vec<(f64, f64)>)>,
    /// Marked events: time, index into DB_MARKED, target.
    pub(super) marks: Vec<(f64, usize, String)>,
    /// Instances: the start row's count, or more if a target names more.
    pub(super) instances: usize,
    pub(super) failovers: usize,
    pub(super) restarts: usize,
    /// Data losses at the start and at the end.
    pub(super) losses: (u64, u64),
    open: [Outages; 3],
    az_open: Vec<Option<f64>>,
}

/// The instance a target names (`instance-3` → 2).
pub(super) fn instance_of(target: &str) -> Option<usize> {
    target
        .strip_prefix("instance-")
        .and_then(|k| k.parse::<usize>().ok())
        .filter(|&k| k >= 1)
        .map(|k| k - 1)
}

impl Trace {
    /// Reads a whole database timeline.
    pub(super) fn read<R: Read>(input: R, path: &str, prefix: &str) -> Result<Trace, InputError> {
        let mut tr = Trace::default();
        pass(input, path, prefix, |r, last| tr.row(r, last))?;
        tr.finish();
        Ok(tr)
    }

    fn row(&mut self, r: &DbRecord<'_>, last: bool) {
        if self.instants.is_empty() {
            self.instances = r.up;
            self.losses.0 = r.losses;
        }
        if self.instants.last() != Some(&r.t) {
            self.instants.push(r.t);
        }
        self.losses.1 = r.losses;
        if let Some(i) = instance_of(r.target) {
            self.instances = self.instances.max(i + 1);
        }
        if let Some(w) = r.writer {
            self.instances = self.instances.max(w + 1);
        }
        match r.event {
            "failover-done" => self.failovers += 1,
            "restart-done" => self.restarts += 1,
            "az-outage" | "az-loss" | "az-recover" => {
                let k = match self.azs.iter().position(|(a, _)| a == r.target) {
                    Some(k) => k,
                    None => {
                        self.azs.push((r.target.to_string(), Vec::new()));
                        self.az_open.push(None);
                        self.azs.len() - 1
                    }
                };
                match (r.event, self.az_open[k]) {
                    ("az-recover", Some(s)) => {
                        self.az_open[k] = None;
                        if r.t > s {
                            self.azs[k].1.push((s, r.t));
                        }
                    }
                    ("az-recover", None) => {}
                    (_, None) => self.az_open[k] = Some(r.t),
                    _ => {}
                }
            }
            _ => {}
        }
        if let Some(k) = DB_MARKED.iter().position(|m| m.0 == r.event) {
            self.marks.push((r.t, k, r.target.to_string()));
        }
        if last {
            for (k, ok) in [r.write, r.read, r.storage].into_iter().enumerate() {
                if let Some(iv) = self.open[k].state(r.t, ok) {
                    [&mut self.write, &mut self.read, &mut self.storage][k].push(iv);
                }
            }
        }
    }

    fn finish(&mut self) {
        let end = self.instants.last().copied().unwrap_or(0.0);
        for k in 0..3 {
            if let Some(iv) = self.open[k].finish(end) {
                [&mut self.write, &mut self.read, &mut self.storage][k].push(iv);
            }
        }
        for (k, open) in self.az_open.iter_mut().enumerate() {
            if let Some(s) = open.take()
                && end > s
            {
                self.azs[k].1.push((s, end));
            }
        }
    }

    /// (start, end) of the timeline.
    pub(super) fn span(&self) -> (f64, f64) {
        (
            self.instants.first().copied().unwrap_or(0.0),
            self.instants.last().copied().unwrap_or(0.0),
        )
    }
}

/// Total length and count of `ivs`.
pub(super) fn total(ivs: &[(f64, f64)]) -> (f64, usize) {
    (ivs.iter().map(|(a, b)| b - a).sum(), ivs.len())
}
