//! The state space of a protection group's background failures as a CTMC.
//!
//! A state holds, per AZ, whether it is up, in an outage, or dark after a loss,
//! and per replica one code: lost (undetected / detected), repairing, or
//! present with a *stale rank* (0 = current; k = the k-th freshest group of
//! stale replicas, which decides who becomes current after a data loss) and a
//! crashed bit. With exponential timings the identity of a repair or catch-up
//! source does not matter (a restart from another source is memoryless), so it
//! is not kept. Zero timings are applied inside [`Space::close`], the same
//! deterministic rule fixpoint as the simulator's, so no vanishing state is
//! ever stored. Nodes of an AZ, and AZs, are interchangeable: states are kept in
//! a canonical sorted form.

use super::timing::{NotExponential, Rate, Substitution, Timing, classify};
use crate::model::{Config, Dist, Quorum};
use hashbrown::HashTable;
use rayon::prelude::*;
use rustc_hash::FxBuildHasher;
use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::atomic::{AtomicU16, Ordering};

pub(super) const LU: u8 = 0;
pub(super) const LD: u8 = 1;
pub(super) const REP: u8 = 2;
const PRESENT: u8 = 3;

/// Present replica code: stale rank (0 = current) and crashed bit.
fn present(rank: u8, crashed: bool) -> u8 {
    PRESENT + 2 * rank + crashed as u8
}
fn is_present(c: u8) -> bool {
    c >= PRESENT
}
fn rank(c: u8) -> u8 {
    (c - PRESENT) / 2
}
fn crashed(c: u8) -> bool {
    is_present(c) && (c - PRESENT) % 2 == 1
}

pub(super) const AZ_UP: u8 = 0;
const AZ_OUT: u8 = 1;
const AZ_DARK: u8 = 2;

/// One transition: target state, rate (1/s), and whether it is a data loss.
pub(super) type Arc = (u32, f64, bool);

/// Moves out of one state: targets laid end to end, and their rates.
#[derive(Default)]
struct Moves {
    targets: Vec<u8>,
    rates: Vec<f64>,
}

impl Moves {
    fn push(&mut self, t: &[u8], r: Rate) {
        if let Rate::Exp(x) = r {
            self.targets.extend_from_slice(t);
            self.rates.push(x);
        }
    }
}

/// Moves out of consecutive states, closed and canonical: targets laid end
/// to end, their rates and loss flags, and where each state's moves end.
#[derive(Default)]
struct Expanded {
    targets: Vec<u8>,
    hashes: Vec<u64>,
    rates: Vec<f64>,
    lost: Vec<bool>,
    ends: Vec<usize>,
}

/// The explored chain.
pub(super) struct Space {
    pub azs: usize,
    pub per_az: usize,
    quorum: Quorum,
    /// By `Timing as usize`.
    rates: [Rate; Timing::ALL.len()],
    /// Non-exponential timings: with `approx` they become exponential; without,
    /// meeting one is an error.
    non_exp: [Option<Substitution>; Timing::ALL.len()],
    approx: bool,
    /// A probe (see `estimate`): records every timing it meets, refuses none.
    probing: bool,
    /// Timings the chain actually used, as bits by `Timing as usize` (atomic:
    /// states are expanded on several threads).
    used: AtomicU16,
    /// States laid end to end, `stride` bytes each, with their hashes.
    states: Vec<u8>,
    stride: usize,
    hashes: Vec<u64>,
    /// State numbers by hash (hashes computed where states are expanded).
    index: HashTable<u32>,
    pub arcs: Vec<Vec<Arc>>,
}

impl Space {
    pub fn new(cfg: &Config, approx: bool) -> Space {
        let f = &cfg.failures;
        let pick = |t: Timing| -> Option<&Dist> {
            match t {
                Timing::CrashEvery => f.node_crash.as_ref().map(|p| &p.every),
                Timing::CrashLasts => f.node_crash.as_ref().and_then(|p| p.lasts.as_ref()),
                Timing::LossEvery => f.node_loss.as_ref().map(|p| &p.every),
                Timing::OutageEvery => f.az_outage.as_ref().map(|p| &p.every),
                Timing::OutageLasts => f.az_outage.as_ref().and_then(|p| p.lasts.as_ref()),
                Timing::AzLossEvery => f.az_loss.as_ref().map(|p| &p.every),
                Timing::AzLossLasts => f.az_loss.as_ref().and_then(|p| p.lasts.as_ref()),
                Timing::Detection => Some(&cfg.detection_delay),
                Timing::Repair => Some(&cfg.repair_time),
                Timing::Catchup => Some(&cfg.catchup_time),
                Timing::Restore => Some(&cfg.restore_time),
                Timing::GiveUp => cfg.replace_down_after.as_ref(),
            }
        };
        let mut rates = [Rate::Never; Timing::ALL.len()];
        let mut non_exp = [const { None }; Timing::ALL.len()];
        for t in Timing::ALL {
            match classify(pick(t)) {
                Ok(r) => rates[t as usize] = r,
                Err(d) => {
                    let s = Substitution {
                        timing: t,
                        was: d.describe(),
                        mean_secs: d.mean_secs(),
                    };
                    // An infinite mean (a heavy tail) has no exponential of
                    // the same mean; any rate keeps a probe exploring, and
                    // `rate` refuses it otherwise.
                    let r = 1.0 / s.mean_secs;
                    rates[t as usize] = Rate::Exp(if r.is_finite() && r > 0.0 { r } else { 1.0 });
                    non_exp[t as usize] = Some(s);
                }
            }
        }
        Space {
            azs: cfg.layout.azs.len(),
            per_az: cfg.layout.nodes_per_az,
            quorum: cfg.quorum.clone(),
            rates,
            non_exp,
            approx,
            probing: false,
            used: AtomicU16::new(0),
            states: Vec::new(),
            stride: 1 + cfg.layout.azs.len() * (1 + cfg.layout.nodes_per_az),
            hashes: Vec::new(),
            index: HashTable::new(),
            arcs: Vec::new(),
        }
    }

    /// A space that meets every timing with `--approx`'s exponentials and
    /// refuses none, to learn what a chain uses and how large it grows.
    pub fn probe(cfg: &Config) -> Space {
        let mut s = Space::new(cfg, true);
        s.probing = true;
        s
    }

    /// The rate of a timing, recording that the chain uses it.
    fn rate(&self, t: Timing) -> Result<Rate, NotExponential> {
        let r = self.rates[t as usize];
        let bit = 1u16 << t as u16;
        if r != Rate::Never && self.used.load(Ordering::Relaxed) & bit == 0 {
            if let Some(s) = &self.non_exp[t as usize]
                && !self.probing
            {
                let finite = s.mean_secs.is_finite() && s.mean_secs > 0.0;
                if !self.approx || !finite {
                    return Err(NotExponential(s.clone(), !finite));
                }
            }
            self.used.fetch_or(bit, Ordering::Relaxed);
        }
        Ok(r)
    }

    /// Substitutions made (with `--approx`), in timing order.
    pub fn substitutions(&self) -> Vec<Substitution> {
        Timing::ALL
            .iter()
            .filter(|&&t| self.used.load(Ordering::Relaxed) & (1 << t as u16) != 0)
            .filter_map(|&t| self.non_exp[t as usize].clone())
            .collect()
    }

    // State layout: [restoring, az_0, reps of az_0…, az_1, reps of az_1…, …].
    fn width(&self) -> usize {
        1 + self.per_az
    }

    fn az_of(&self, r: usize) -> usize {
        r / self.per_az
    }

    fn rep_at(&self, r: usize) -> usize {
        let (a, k) = (r / self.per_az, r % self.per_az);
        1 + a * self.width() + 1 + k
    }

    fn az_at(&self, a: usize) -> usize {
        1 + a * self.width()
    }

    fn reps(&self) -> usize {
        self.azs * self.per_az
    }

    /// Sort nodes within AZs, AZs among themselves, and renumber stale ranks 1…k.
    fn canonical(&self, s: &mut [u8]) {
        // Renumber stale ranks to 1…k (a relabelling, independent of positions):
        // a rank's new value is the number of ranks in use up to it.
        let mut used: u128 = 0;
        for r in 0..self.reps() {
            let c = s[self.rep_at(r)];
            if is_present(c) && rank(c) > 0 {
                used |= 1 << rank(c);
            }
        }
        if used != 0 && used != (1u128 << (used.count_ones() + 1)) - 2 {
            for r in 0..self.reps() {
                let i = self.rep_at(r);
                let c = s[i];
                if is_present(c) && rank(c) > 0 {
                    let new = (used & ((2u128 << rank(c)) - 1)).count_ones() as u8;
                    s[i] = present(new, crashed(c));
                }
            }
        }
        // Then sort nodes within AZ blocks, and the blocks (insertion sort:
        // a handful of short blocks, no allocation).
        let w = self.width();
        for a in 0..self.azs {
            s[1 + a * w + 1..1 + (a + 1) * w].sort_unstable();
        }
        for a in 1..self.azs {
            let mut b = a;
            while b > 0 && s[1 + (b - 1) * w..1 + b * w] > s[1 + b * w..1 + (b + 1) * w] {
                let (left, right) = s[1 + (b - 1) * w..1 + (b + 1) * w].split_at_mut(w);
                left.swap_with_slice(right);
                b -= 1;
            }
        }
    }

    /// How far a state is from "all up and current": AZs not up, replicas not
    /// up-and-current, and restoring. Used to order the elimination.
    pub(super) fn level(&self, s: &[u8]) -> usize {
        let azs = (0..self.azs).filter(|&a| s[self.az_at(a)] != AZ_UP).count();
        let reps = (0..self.reps())
            .filter(|&r| s[self.rep_at(r)] != present(0, false))
            .count();
        s[0] as usize + azs + reps
    }

    fn reachable(&self, s: &[u8], r: usize) -> bool {
        s[self.az_at(self.az_of(r))] == AZ_UP && !crashed(s[self.rep_at(r)])
    }

    /// (up, up-and-current) replica sets.
    pub(super) fn masks(&self, s: &[u8]) -> (u64, u64) {
        let (mut up, mut cur) = (0u64, 0u64);
        for r in 0..self.reps() {
            let c = s[self.rep_at(r)];
            if is_present(c) && self.reachable(s, r) {
                up |= 1 << r;
                if rank(c) == 0 {
                    cur |= 1 << r;
                }
            }
        }
        (up, cur)
    }

    pub(super) fn write_ok(&self, s: &[u8]) -> bool {
        let (_, cur) = self.masks(s);
        self.quorum.write_ok(cur)
    }

    pub(super) fn read_ok(&self, s: &[u8]) -> bool {
        let (up, cur) = self.masks(s);
        self.quorum.read_ok(up, cur)
    }

    /// A replica is lost (node or AZ loss): detected at once if detection is instant.
    fn lose(&self, s: &mut [u8], r: usize) -> Result<(), NotExponential> {
        let i = self.rep_at(r);
        if s[i] == LU || s[i] == LD {
            return Ok(());
        }
        s[i] = if self.rate(Timing::Detection)? == Rate::Instant {
            LD
        } else {
            LU
        };
        Ok(())
    }

    /// The rule fixpoint (SPEC §1 rules 1–5) with zero timings applied at once.
    /// Returns whether a data loss happened.
    fn close(&self, s: &mut [u8]) -> Result<bool, NotExponential> {
        let mut lost = false;
        loop {
            let mut changed = false;
            let (_, cur) = self.masks(s);
            // Rule 1: while write-available, replicas that are not up go stale,
            // as one new freshest stale group.
            if self.quorum.write_ok(cur) {
                let newly: Vec<usize> = (0..self.reps())
                    .filter(|&r| {
                        let c = s[self.rep_at(r)];
                        is_present(c) && rank(c) == 0 && !self.reachable(s, r)
                    })
                    .collect();
                if !newly.is_empty() {
                    for r in 0..self.reps() {
                        let c = s[self.rep_at(r)];
                        if is_present(c) && rank(c) > 0 {
                            s[self.rep_at(r)] = present(rank(c) + 1, crashed(c));
                        }
                    }
                    for &r in &newly {
                        let c = s[self.rep_at(r)];
                        s[self.rep_at(r)] = present(1, crashed(c));
                    }
                }
            }
            let (_, cur) = self.masks(s);
            // Repairs need an up, current source and a reachable AZ.
            for r in 0..self.reps() {
                let i = self.rep_at(r);
                if s[i] == REP && (cur == 0 || s[self.az_at(self.az_of(r))] != AZ_UP) {
                    s[i] = LD;
                }
            }
            // Rule 2 with zero catch-up time.
            if cur != 0 && self.rate(Timing::Catchup)? == Rate::Instant {
                for r in 0..self.reps() {
                    let c = s[self.rep_at(r)];
                    if is_present(c) && rank(c) > 0 && self.reachable(s, r) {
                        s[self.rep_at(r)] = present(0, false);
                        changed = true;
                    }
                }
            }
            // Rule 4: detected lost replicas in reachable AZs start repairing.
            let (_, cur) = self.masks(s);
            if cur != 0 {
                for r in 0..self.reps() {
                    let i = self.rep_at(r);
                    if s[i] == LD && s[self.az_at(self.az_of(r))] == AZ_UP {
                        s[i] = if self.rate(Timing::Repair)? == Rate::Instant {
                            present(0, false)
                        } else {
                            REP
                        };
                        changed = true;
                    }
                }
            }
            // Rule 5.
            let any_current = (0..self.reps()).any(|r| {
                let c = s[self.rep_at(r)];
                is_present(c) && rank(c) == 0
            });
            if s[0] == 0 && !any_current {
                lost = true;
                changed = true;
                let survivors = (0..self.reps()).any(|r| is_present(s[self.rep_at(r)]));
                if survivors {
                    // The freshest survivors (lowest stale rank) become current.
                    let best = (0..self.reps())
                        .map(|r| s[self.rep_at(r)])
                        .filter(|&c| is_present(c))
                        .map(rank)
                        .min()
                        .unwrap_or(1);
                    for r in 0..self.reps() {
                        let c = s[self.rep_at(r)];
                        if is_present(c) {
                            s[self.rep_at(r)] = present(rank(c) - best, crashed(c));
                        }
                    }
                } else {
                    s[0] = 1;
                    if self.rate(Timing::Restore)? == Rate::Instant {
                        self.restore(s);
                    }
                }
            }
            if !changed {
                return Ok(lost);
            }
        }
    }

    fn restore(&self, s: &mut [u8]) {
        s[0] = 0;
        for r in 0..self.reps() {
            s[self.rep_at(r)] = present(0, false);
        }
    }

    /// Number of states explored so far.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// State `i`.
    pub fn state(&self, i: usize) -> &[u8] {
        &self.states[i * self.stride..(i + 1) * self.stride]
    }

    /// Every state, in number order.
    pub fn states(&self) -> impl Iterator<Item = &[u8]> {
        self.states.chunks_exact(self.stride)
    }

    /// The number of state `s` (hash `h`), added if new.
    fn intern(&mut self, s: &[u8], h: u64) -> u32 {
        let (states, w) = (&self.states, self.stride);
        let same = |&i: &u32| &states[i as usize * w..(i as usize + 1) * w] == s;
        if let Some(&i) = self.index.find(h, same) {
            return i;
        }
        let i = self.hashes.len() as u32;
        let hashes = &self.hashes;
        self.index.insert_unique(h, i, |&i| hashes[i as usize]);
        self.states.extend_from_slice(s);
        self.hashes.push(h);
        self.arcs.push(Vec::new());
        i
    }

    /// Explores every state reachable from "all up and current", breadth
    /// first. Batches of states are expanded (moves, rule fixpoint, canonical
    /// form) on all cores, then their targets are numbered in order on one, so
    /// the numbering is the same as a sequential search's.
    pub fn explore(&mut self, max_states: usize) -> Result<(), BuildError> {
        const BATCH: usize = 8192;
        const CHUNK: usize = 256;
        let mut start = vec![0u8; self.stride];
        for r in 0..self.reps() {
            let i = self.rep_at(r);
            start[i] = present(0, false);
        }
        let w = start.len();
        self.intern(&start, FxBuildHasher.hash_one(&start[..]));
        let mut next = 0usize;
        while next < self.len() {
            if self.len() > max_states {
                return Err(BuildError::TooLarge(max_states));
            }
            let end = self.len().min(next + BATCH);
            let chunks: Vec<Range<usize>> = (next..end)
                .step_by(CHUNK)
                .map(|a| a..(a + CHUNK).min(end))
                .collect();
            let expanded: Vec<Result<Expanded, NotExponential>> =
                chunks.into_par_iter().map(|r| self.expand(r)).collect();
            for e in expanded {
                let e = e.map_err(BuildError::NotExp)?;
                let mut from = 0;
                for &to in &e.ends {
                    let mut out: Vec<Arc> = Vec::new();
                    for k in from..to {
                        let j = self.intern(&e.targets[k * w..(k + 1) * w], e.hashes[k]);
                        let (rate, lost) = (e.rates[k], e.lost[k]);
                        match out.iter_mut().find(|(i, _, l)| *i == j && *l == lost) {
                            Some(a) => a.1 += rate,
                            None => out.push((j, rate, lost)),
                        }
                    }
                    out.retain(|&(j, _, lost)| j as usize != next || lost);
                    self.arcs[next] = out;
                    next += 1;
                    from = to;
                }
            }
        }
        Ok(())
    }

    /// The moves out of `states`, each closed under the rules and canonical.
    fn expand(&self, states: Range<usize>) -> Result<Expanded, NotExponential> {
        let w = self.stride;
        let mut e = Expanded::default();
        let mut moves = Moves::default();
        for i in states {
            moves.targets.clear();
            moves.rates.clear();
            self.moves(self.state(i), &mut moves)?;
            for (k, &rate) in moves.rates.iter().enumerate() {
                let t = &mut moves.targets[k * w..(k + 1) * w];
                let lost = self.close(t)?;
                self.canonical(t);
                e.targets.extend_from_slice(t);
                e.hashes.push(FxBuildHasher.hash_one(&*t));
                e.rates.push(rate);
                e.lost.push(lost);
            }
            e.ends.push(e.rates.len());
        }
        Ok(e)
    }

    /// Exponential moves out of a state, before the rule fixpoint.
    fn moves(&self, s: &[u8], out: &mut Moves) -> Result<(), NotExponential> {
        let mut t = s.to_vec();
        let (_, cur) = self.masks(s);
        for a in 0..self.azs {
            let ai = self.az_at(a);
            match s[ai] {
                AZ_UP => {
                    let r = self.rate(Timing::OutageEvery)?;
                    if r != Rate::Never {
                        self.rate(Timing::OutageLasts)?;
                        t.copy_from_slice(s);
                        t[ai] = AZ_OUT;
                        out.push(&t, r);
                    }
                    let r = self.rate(Timing::AzLossEvery)?;
                    if r != Rate::Never {
                        self.rate(Timing::AzLossLasts)?;
                        t.copy_from_slice(s);
                        t[ai] = AZ_DARK;
                        for k in 0..self.per_az {
                            self.lose(&mut t, a * self.per_az + k)?;
                        }
                        out.push(&t, r);
                    }
                }
                AZ_OUT | AZ_DARK => {
                    let timing = if s[ai] == AZ_OUT {
                        Timing::OutageLasts
                    } else {
                        Timing::AzLossLasts
                    };
                    t.copy_from_slice(s);
                    t[ai] = AZ_UP;
                    let r = self.rate(timing)?;
                    out.push(&t, r);
                }
                _ => {}
            }
        }
        if s[0] == 1 {
            t.copy_from_slice(s);
            self.restore(&mut t);
            let r = self.rate(Timing::Restore)?;
            out.push(&t, r);
        }
        let mut seen: Vec<(usize, u8)> = Vec::new();
        for r in 0..self.reps() {
            let i = self.rep_at(r);
            let c = s[i];
            // Nodes of an AZ with the same code have the same moves: one each.
            if seen.contains(&(self.az_of(r), c)) {
                continue;
            }
            let twins = (0..self.per_az)
                .filter(|&k| s[self.rep_at(self.az_of(r) * self.per_az + k)] == c)
                .count() as f64;
            seen.push((self.az_of(r), c));
            let scaled = |r: Rate| match r {
                Rate::Exp(x) => Rate::Exp(x * twins),
                other => other,
            };
            let reach = self.reachable(s, r);
            if is_present(c) && reach {
                let rc = self.rate(Timing::CrashEvery)?;
                if rc != Rate::Never {
                    self.rate(Timing::CrashLasts)?;
                    t.copy_from_slice(s);
                    t[i] = present(rank(c), true);
                    out.push(&t, scaled(rc));
                }
                let rl = self.rate(Timing::LossEvery)?;
                if rl != Rate::Never {
                    t.copy_from_slice(s);
                    self.lose(&mut t, r)?;
                    out.push(&t, scaled(rl));
                }
                if rank(c) > 0 && cur != 0 {
                    let rk = self.rate(Timing::Catchup)?;
                    t.copy_from_slice(s);
                    t[i] = present(0, false);
                    out.push(&t, scaled(rk));
                }
            }
            if crashed(c) {
                t.copy_from_slice(s);
                t[i] = present(rank(c), false);
                let r = self.rate(Timing::CrashLasts)?;
                out.push(&t, scaled(r));
            }
            if is_present(c) && !reach {
                let rg = self.rate(Timing::GiveUp)?;
                if rg != Rate::Never {
                    t.copy_from_slice(s);
                    t[i] = LD;
                    out.push(&t, scaled(rg));
                }
            }
            if c == LU {
                t.copy_from_slice(s);
                t[i] = LD;
                let r = self.rate(Timing::Detection)?;
                out.push(&t, scaled(r));
            }
            if c == REP {
                t.copy_from_slice(s);
                t[i] = present(0, false);
                let r = self.rate(Timing::Repair)?;
                out.push(&t, scaled(r));
            }
        }
        Ok(())
    }

    /// How many labelled states a canonical state stands for: the number of
    /// distinct ways to assign its AZ blocks to AZs and its codes to nodes.
    pub fn orbit(&self, s: &[u8]) -> f64 {
        let w = self.width();
        let fact = |n: usize| (1..=n).map(|x| x as f64).product::<f64>();
        // n! / Π (run length)! over runs of equal neighbours (canonical states
        // are sorted, so equal items are adjacent).
        let arrangements = |n: usize, same: &dyn Fn(usize) -> bool| {
            let mut total = fact(n);
            let mut run = 1;
            for i in 1..n {
                if same(i) {
                    run += 1;
                } else {
                    total /= fact(run);
                    run = 1;
                }
            }
            total / fact(run)
        };
        let block = |a: usize| &s[1 + a * w..1 + (a + 1) * w];
        let mut total = arrangements(self.azs, &|a| block(a - 1) == block(a));
        for a in 0..self.azs {
            let b = block(a);
            total *= arrangements(self.per_az, &|k| b[k] == b[k + 1]);
        }
        total
    }
}

/// Why a chain could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// A timing is not exponential or zero (and `--approx` was not given).
    NotExp(NotExponential),
    /// More states than the limit.
    TooLarge(usize),
}
