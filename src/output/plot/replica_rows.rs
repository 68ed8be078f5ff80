//! The rows of a one-PG timeline (SPEC §3), checked and handed on one at a
//! time, and what a first pass over them learns for the plot's axis and facts.

use super::caption;
use super::kind::FileKind;
use super::rows::{self, Outages, Rows};
use super::timeline::{MARKED, STATES};
use super::timescale::Gaps;
use crate::error::InputError;
use crate::output::timeline::COLUMNS as FIXED;
use std::io::Read;

/// The state after an instant: replica letters, write ok, read ok, data losses.
pub(super) struct State {
    pub(super) t: f64,
    pub(super) letters: Vec<u8>,
    pub(super) write: bool,
    pub(super) read: bool,
    pub(super) losses: u64,
}

/// What a pass over the rows hands on, in file order.
pub(super) enum Item<'a> {
    /// A marked event: time, index into MARKED, target.
    Event(f64, usize, &'a str),
    /// The state from an instant on (the last row at that instant).
    State(&'a State),
}

/// The replica names of the header, or why this is not a §3 timeline
/// (`prefix`, the file's start, says what it is instead).
fn header<R: Read>(
    rows: &mut Rows<'_, R>,
    path: &str,
    prefix: &str,
) -> Result<Vec<String>, InputError> {
    let cols = rows.header()?;
    if cols.len() <= FIXED.len() || cols[..FIXED.len()] != FIXED {
        return Err(InputError::new(
            path,
            match FileKind::of(prefix) {
                FileKind::Timeline | FileKind::Unknown => format!(
                    "not a timeline CSV: expected the columns {} followed by one column per replica, \
                     or the volume columns {}",
                    FIXED.join(","),
                    crate::output::timeline::VOLUME_COLUMNS.join(",")
                ),
                kind => format!("not a timeline CSV: {}", kind.advice()),
            },
        ));
    }
    Ok(cols[FIXED.len()..].to_vec())
}

/// One pass: every row checked, `each` called for the marked events and for
/// the state after each instant. Returns the number of states.
pub(super) fn pass<R: Read>(
    input: R,
    path: &str,
    prefix: &str,
    mut each: impl FnMut(Item<'_>),
) -> Result<(Vec<String>, usize), InputError> {
    let mut rd = Rows::new(input, path, false);
    let nodes = header(&mut rd, path, prefix)?;
    let width = FIXED.len() + nodes.len();
    let mut pending: Option<State> = None;
    let mut states = 0;
    while let Some((line, rec)) = rd.next()? {
        let bad = |m: String| rows::bad(path, line, m);
        if rec.len() != width {
            return Err(bad(format!("{} fields, expected {width}", rec.len())));
        }
        let t: f64 = rec[0]
            .parse()
            .map_err(|_| bad(format!("time_s `{}` is not a number", &rec[0])))?;
        if !t.is_finite() || t < 0.0 || pending.as_ref().is_some_and(|p| t < p.t) {
            return Err(bad(format!(
                "time_s `{}` is negative or goes backwards",
                &rec[0]
            )));
        }
        let flag = |k: usize| rows::flag(&rec[k], FIXED[k]).map_err(bad);
        let (write, read) = (flag(5)?, flag(6)?);
        let losses: u64 = rec[7]
            .parse()
            .map_err(|_| bad(format!("data_loss_events `{}` is not a count", &rec[7])))?;
        // Several rows at one instant: the last is the state from then on.
        let mut state = match pending.take() {
            Some(p) if p.t == t => p,
            Some(p) => {
                each(Item::State(&p));
                states += 1;
                p
            }
            None => State {
                t,
                letters: Vec::with_capacity(nodes.len()),
                write,
                read,
                losses,
            },
        };
        state.letters.clear();
        for k in FIXED.len()..width {
            let c = rec[k].as_bytes();
            if c.len() != 1 || !STATES.iter().any(|s| s.0 == c[0]) {
                return Err(bad(format!(
                    "state `{}` of {} is not one of C, S, D, L, R",
                    &rec[k],
                    nodes[k - FIXED.len()]
                )));
            }
            state.letters.push(c[0]);
        }
        (state.t, state.write, state.read, state.losses) = (t, write, read, losses);
        if let Some(k) = MARKED.iter().position(|m| m.0 == &rec[1]) {
            each(Item::Event(t, k, &rec[2]));
        }
        pending = Some(state);
    }
    if let Some(p) = pending {
        each(Item::State(&p));
        states += 1;
    }
    if states < 2 {
        return Err(InputError::new(
            path,
            "a timeline needs at least a start and an end row",
        ));
    }
    Ok((nodes, states))
}

/// What the first pass learns: the axis, and the facts of the caption.
#[derive(Default)]
pub(super) struct Summary {
    pub(super) gaps: Gaps,
    pub(super) events: usize,
    /// (total seconds, outages) of writes and of reads.
    pub(super) down: [(f64, usize); 2],
    /// (time, data losses) of the first state and of the last.
    pub(super) first: Option<(f64, u64)>,
    pub(super) last: (f64, u64),
    pub(super) outages: [Outages; 2],
}

impl Summary {
    pub(super) fn state(&mut self, s: &State) {
        self.gaps.push(s.t);
        self.first.get_or_insert((s.t, s.losses));
        self.last = (s.t, s.losses);
        for (k, ok) in [s.write, s.read].into_iter().enumerate() {
            if let Some((a, b)) = self.outages[k].state(s.t, ok) {
                self.down[k].0 += b - a;
                self.down[k].1 += 1;
            }
        }
    }

    pub(super) fn finish(&mut self) {
        for k in 0..2 {
            if let Some((a, b)) = self.outages[k].finish(self.last.0) {
                self.down[k].0 += b - a;
                self.down[k].1 += 1;
            }
        }
    }

    /// "horizon 12h · 6 replicas in 3 AZs · writes unavailable …": what the CSV tells.
    pub(super) fn facts(&self, replicas: usize, azs: usize) -> String {
        let first = self.first.unwrap_or(self.last);
        [
            format!("horizon {}", caption::human(self.last.0 - first.0)),
            format!(
                "{replicas} replicas in {azs} AZ{}",
                if azs == 1 { "" } else { "s" }
            ),
            caption::unavailable("writes", self.down[0].0, self.down[0].1),
            caption::unavailable("reads", self.down[1].0, self.down[1].1),
            caption::losses(self.last.1 - first.1),
        ]
        .join(" · ")
    }
}
