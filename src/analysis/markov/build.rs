//! The state space of a protection group's background failures as a CTMC.
//!
//! A state (laid out in `state.rs`) holds, per AZ, whether it is up, in an
//! outage, or dark after a loss, with the quorum switch's flags (due, and
//! switched out: the epoch), and per replica one code: lost (undetected /
//! detected), repairing, or present with a *stale rank* (0 = current; k = the
//! k-th freshest group of stale replicas, which decides who becomes current
//! after a data loss) and a crashed bit. With exponential timings the identity
//! of a repair or catch-up source does not matter (a restart from another
//! source is memoryless), so it is not kept; only whether a source of the
//! right kind exists (a full segment repairs from a full peer, SPEC §6).
//! Zero timings are applied inside [`Space::close`], the same deterministic
//! rule fixpoint as the simulator's, so no vanishing state is ever stored.
//! States are kept in the canonical form of [`Shape::canonical`].

use super::state::{
    AZ_DARK, AZ_OUT, AZ_UP, DUE, LD, LU, REP, SWITCHED, Shape, crashed, is_present, present, rank,
    reach,
};
use super::timing::{NotExponential, Rate, Substitution, Timing, classify};
use crate::model::{Config, Dist, Quorum};
use hashbrown::HashTable;
use rayon::prelude::*;
use rustc_hash::FxBuildHasher;
use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::atomic::{AtomicU16, Ordering};

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
    pub(super) shape: Shape,
    /// The scenario's quorum (with its full set, SPEC §6).
    pub(super) quorum: Quorum,
    /// With `quorum_switch_after`: the quorum of each AZ's switched epoch
    /// (the replicas outside it); empty without.
    pub(super) epochs: Vec<Quorum>,
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
                Timing::TailRepair => cfg.segments.as_ref().map(|s| &s.tail_repair_time),
                Timing::Catchup => Some(&cfg.catchup_time),
                Timing::Restore => Some(&cfg.restore_time),
                Timing::GiveUp => cfg.replace_down_after.as_ref(),
                Timing::SwitchAfter => cfg.quorum_switch.as_ref().map(|q| &q.after),
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
        let (azs, per_az) = (cfg.layout.azs.len(), cfg.layout.nodes_per_az);
        let v = azs * per_az;
        let all = if v >= 64 { u64::MAX } else { (1u64 << v) - 1 };
        let switching = cfg.quorum_switch.is_some();
        // Two AZs due at once with a write quorum under the scenario's
        // quorum: the switch takes the lowest-numbered, so AZs are labelled.
        let two_due = switching && cfg.quorum.write() as usize + 2 * per_az <= v;
        let shape = Shape {
            azs,
            per_az,
            full: cfg.segments.as_ref().map_or(all, |s| s.full & all),
            sort_nodes: cfg.segments.is_none(),
            sort_azs: !two_due,
        };
        // The switched quorums from the scenario's own, so that a probe on
        // a smaller layout gets its own (`estimate.rs`).
        let epochs = if switching {
            (0..azs)
                .map(|a| cfg.quorum.without(shape.az_mask(a)))
                .collect()
        } else {
            Vec::new()
        };
        Space {
            stride: shape.stride(),
            shape,
            quorum: cfg.quorum.clone(),
            epochs,
            rates,
            non_exp,
            approx,
            probing: false,
            used: AtomicU16::new(0),
            states: Vec::new(),
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
    pub(super) fn rate(&self, t: Timing) -> Result<Rate, NotExponential> {
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

    pub(super) fn az_of(&self, r: usize) -> usize {
        self.shape.az_of(r)
    }

    pub(super) fn rep_at(&self, r: usize) -> usize {
        self.shape.rep_at(r)
    }

    pub(super) fn az_at(&self, a: usize) -> usize {
        self.shape.az_at(a)
    }

    pub(super) fn reps(&self) -> usize {
        self.shape.reps()
    }

    /// How far a state is from "all up and current" (see [`Shape::level`]).
    pub(super) fn level(&self, s: &[u8]) -> usize {
        self.shape.level(s)
    }

    /// Labelled states a canonical state stands for (see [`Shape::orbit`]).
    pub fn orbit(&self, s: &[u8]) -> f64 {
        self.shape.orbit(s)
    }

    pub(super) fn reachable(&self, s: &[u8], r: usize) -> bool {
        self.shape.az_up(s, self.az_of(r)) && !crashed(s[self.rep_at(r)])
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

    /// The quorum of the state's epoch (SPEC §6).
    pub(super) fn quorum_of(&self, s: &[u8]) -> &Quorum {
        if self.epochs.is_empty() {
            return &self.quorum;
        }
        match self.shape.switched(s) {
            Some(a) => &self.epochs[a],
            None => &self.quorum,
        }
    }

    pub(super) fn write_ok(&self, s: &[u8]) -> bool {
        let (_, cur) = self.masks(s);
        self.quorum_of(s).write_ok(cur)
    }

    pub(super) fn read_ok(&self, s: &[u8]) -> bool {
        let (up, cur) = self.masks(s);
        self.quorum_of(s).read_ok(up, cur)
    }

    /// The replicas replica `r` may be repaired from: a full segment only
    /// from a full peer (pages are not rebuilt from the log), a tail from any.
    pub(super) fn sources(&self, r: usize) -> u64 {
        if self.shape.is_full(r) {
            self.shape.full
        } else {
            u64::MAX
        }
    }

    /// How long replica `r`'s repair takes: a tail copies `tail_size`.
    pub(super) fn repair_timing(&self, r: usize) -> Timing {
        if self.shape.is_full(r) {
            Timing::Repair
        } else {
            Timing::TailRepair
        }
    }

    /// A replica is lost (node or AZ loss): detected at once if detection is instant.
    pub(super) fn lose(&self, s: &mut [u8], r: usize) -> Result<(), NotExponential> {
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
        let mut start = vec![AZ_UP; self.stride];
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
                self.shape.canonical(t);
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
        for a in 0..self.shape.azs {
            let ai = self.az_at(a);
            let (b, kept) = (s[ai], s[ai] & SWITCHED);
            match reach(b) {
                AZ_UP => {
                    let r = self.rate(Timing::OutageEvery)?;
                    if r != Rate::Never {
                        self.rate(Timing::OutageLasts)?;
                        t.copy_from_slice(s);
                        t[ai] = kept | AZ_OUT | self.due_at_once()?;
                        out.push(&t, r);
                    }
                    let r = self.rate(Timing::AzLossEvery)?;
                    if r != Rate::Never {
                        self.rate(Timing::AzLossLasts)?;
                        t.copy_from_slice(s);
                        t[ai] = kept | AZ_DARK | self.due_at_once()?;
                        for k in 0..self.shape.per_az {
                            self.lose(&mut t, a * self.shape.per_az + k)?;
                        }
                        out.push(&t, r);
                    }
                }
                AZ_OUT | AZ_DARK => {
                    let timing = if reach(b) == AZ_OUT {
                        Timing::OutageLasts
                    } else {
                        Timing::AzLossLasts
                    };
                    // Reachable again: no longer due (an epoch stays).
                    t.copy_from_slice(s);
                    t[ai] = kept;
                    let r = self.rate(timing)?;
                    out.push(&t, r);
                    if b & DUE == 0 {
                        // The pending switch timer (memoryless: only
                        // whether it has fired is kept).
                        let r = self.rate(Timing::SwitchAfter)?;
                        t.copy_from_slice(s);
                        t[ai] = b | DUE;
                        out.push(&t, r);
                    }
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
            // Nodes of an AZ with the same code have the same moves: one
            // each (only when they are interchangeable: not full and tail).
            let twins = if self.shape.sort_nodes {
                if seen.contains(&(self.az_of(r), c)) {
                    continue;
                }
                seen.push((self.az_of(r), c));
                (0..self.shape.per_az)
                    .filter(|&k| s[self.rep_at(self.az_of(r) * self.shape.per_az + k)] == c)
                    .count() as f64
            } else {
                1.0
            };
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
                let r = self.rate(self.repair_timing(r))?;
                out.push(&t, scaled(r));
            }
        }
        Ok(())
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
