//! The rows of a volume timeline (SPEC §4), checked and handed on one at a
//! time, and what a first pass over them learns for the plot's axes and facts.

use super::caption;
use super::rows::{self, Outages, Rows};
use super::timescale::Gaps;
use super::volume::{DATA_LOSS_K, MARKED};
use crate::error::InputError;
use crate::output::timeline::VOLUME_COLUMNS as COLUMNS;
use crate::time::{SimTime, US_PER_S};
use std::io::Read;

/// The state after an instant.
#[derive(Clone, Copy, Default)]
pub(super) struct State {
    pub(super) t: f64,
    pub(super) write: bool,
    pub(super) read: bool,
    /// The five counts, in column order (columns 5 …= 9).
    pub(super) counts: [u64; 5],
}

/// What a pass hands on, in file order.
pub(super) enum Item<'a> {
    /// Events of one kind at one instant: time, index into MARKED, how many,
    /// the target when there is one.
    Events(f64, usize, u64, &'a str),
    /// The state from an instant on (the last row at that instant).
    State(&'a State),
}

/// Rows of one kind at one instant, collected to be told as one.
struct Group {
    t: f64,
    k: usize,
    n: u64,
    target: String,
}

/// The latest simulated time, seconds: the end of SimTime.
fn max_secs() -> f64 {
    SimTime::MAX.0 as f64 / US_PER_S as f64
}

/// One pass: every row checked, `each` called for the marked events (those
/// of one kind at one instant together) and the state after each instant.
/// Returns the number of states.
pub(super) fn pass<R: Read>(
    input: R,
    path: &str,
    mut each: impl FnMut(Item<'_>),
) -> Result<usize, InputError> {
    let mut rd = Rows::new(input, path, true);
    if rd.header()? != COLUMNS {
        return Err(InputError::new(
            path,
            format!(
                "not a volume timeline CSV: expected exactly the columns {}",
                COLUMNS.join(",")
            ),
        ));
    }
    let mut pending: Option<State> = None;
    let mut group: Option<Group> = None;
    let mut losses: Option<u64> = None;
    let mut states = 0;
    let flush = |g: &mut Option<Group>, each: &mut dyn FnMut(Item<'_>)| {
        if let Some(g) = g.take() {
            each(Item::Events(g.t, g.k, g.n, &g.target));
        }
    };
    while let Some((line, rec)) = rd.next()? {
        let bad = |m: String| rows::bad(path, line, m);
        if rec.len() != COLUMNS.len() {
            return Err(bad(format!(
                "{} fields, expected {}",
                rec.len(),
                COLUMNS.len()
            )));
        }
        let t: f64 = rec[0]
            .parse()
            .map_err(|_| bad(format!("time_s `{}` is not a number", &rec[0])))?;
        if !t.is_finite() || t < 0.0 || pending.is_some_and(|p| t < p.t) {
            return Err(bad(format!(
                "time_s `{}` is negative or goes backwards",
                &rec[0]
            )));
        }
        if t > max_secs() {
            return Err(bad(format!(
                "time_s `{}` is past the latest time a run can reach (584,942 years)",
                &rec[0]
            )));
        }
        let flag = |k: usize| rows::flag(&rec[k], COLUMNS[k]).map_err(bad);
        let (write, read) = (flag(3)?, flag(4)?);
        let count = |k: usize| {
            rec[k]
                .parse::<u64>()
                .map_err(|_| bad(format!("{} `{}` is not a count", COLUMNS[k], &rec[k])))
        };
        let mut counts = [0u64; 5];
        for (i, c) in counts.iter_mut().enumerate() {
            *c = count(5 + i)?;
        }
        for (ok, n, k) in [(write, counts[0], 3), (read, counts[1], 4)] {
            if ok != (n == 0) {
                return Err(bad(format!(
                    "{} is `{ok}` but {} is {n} (the volume is available while no PG is not)",
                    COLUMNS[k],
                    COLUMNS[k + 2]
                )));
            }
        }
        let lost = count(10)?;
        let before = *losses.get_or_insert(lost);
        if lost < before {
            return Err(bad(format!(
                "data_loss_events goes down from {before} to {lost}"
            )));
        }
        losses = Some(lost);
        if pending.is_some_and(|p| p.t != t) {
            flush(&mut group, &mut each);
            if let Some(p) = &pending {
                each(Item::State(p));
            }
            states += 1;
        }
        pending = Some(State {
            t,
            write,
            read,
            counts,
        });
        let mut mark = |k: usize, n: u64, target: &str| match &mut group {
            Some(g) if g.k == k && g.t == t => {
                g.n += n;
                if g.target != target {
                    g.target.clear();
                }
            }
            g => {
                flush(g, &mut each);
                *g = Some(Group {
                    t,
                    k,
                    n,
                    target: target.to_string(),
                });
            }
        };
        if let Some(k) = MARKED.iter().position(|m| m.0 == &rec[1]) {
            mark(k, 1, &rec[2]);
        }
        if lost > before {
            mark(DATA_LOSS_K, lost - before, "");
        }
    }
    flush(&mut group, &mut each);
    if let Some(p) = &pending {
        each(Item::State(p));
        states += 1;
    }
    if states < 2 {
        return Err(InputError::new(
            path,
            "a timeline needs at least a start and an end row",
        ));
    }
    Ok(states)
}

/// What the first pass learns: the axis, the peaks, and the facts.
#[derive(Default)]
pub(super) struct Summary {
    pub(super) gaps: Gaps,
    pub(super) first: Option<f64>,
    pub(super) last: f64,
    pub(super) peaks: [u64; 5],
    /// (total seconds, outages) of writes and of reads.
    pub(super) down: [(f64, usize); 2],
    pub(super) outages: [Outages; 2],
    pub(super) losses: u64,
}

impl Summary {
    pub(super) fn item(&mut self, item: Item<'_>) {
        match item {
            Item::Events(_, k, n, _) if k == DATA_LOSS_K => self.losses += n,
            Item::Events(..) => {}
            Item::State(s) => {
                self.gaps.push(s.t);
                self.first.get_or_insert(s.t);
                self.last = s.t;
                for (p, &c) in self.peaks.iter_mut().zip(&s.counts) {
                    *p = (*p).max(c);
                }
                for (k, ok) in [s.write, s.read].into_iter().enumerate() {
                    if let Some((a, b)) = self.outages[k].state(s.t, ok) {
                        self.down[k].0 += b - a;
                        self.down[k].1 += 1;
                    }
                }
            }
        }
    }

    pub(super) fn finish(&mut self) {
        for k in 0..2 {
            if let Some((a, b)) = self.outages[k].finish(self.last) {
                self.down[k].0 += b - a;
                self.down[k].1 += 1;
            }
        }
    }

    pub(super) fn facts(&self) -> String {
        [
            format!(
                "horizon {}",
                caption::human(self.last - self.first.unwrap_or(0.0))
            ),
            caption::unavailable("writes", self.down[0].0, self.down[0].1),
            caption::unavailable("reads", self.down[1].0, self.down[1].1),
            caption::losses(self.losses),
        ]
        .join(" · ")
    }
}
