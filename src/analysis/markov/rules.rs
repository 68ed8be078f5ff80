//! The chain's rule fixpoint: SPEC §1 rules 1–5 with zero timings applied
//! at once, §6's loss of every full segment, and the quorum switch, in the
//! simulator's order (`src/model/volume/rules.rs`), re-implemented on the
//! abstract state so that the agreement tests compare two implementations.

use super::build::Space;
use super::state::{DUE, LD, REP, SWITCHED, crashed, is_present, present, rank};
use super::timing::{NotExponential, Rate, Timing};

impl Space {
    /// The AZ flag a newly unreachable AZ gets: due at once with a zero
    /// `quorum_switch_after` (the switch rule then decides, last in the
    /// fixpoint, as the simulator's class-3 timer does at that instant).
    pub(super) fn due_at_once(&self) -> Result<u8, NotExponential> {
        Ok(match self.rate(Timing::SwitchAfter)? {
            Rate::Instant => DUE,
            _ => 0,
        })
    }

    /// The rule fixpoint (SPEC §1 rules 1–5, §6's data loss and switch) with
    /// zero timings applied at once. Returns whether a data loss happened.
    pub(super) fn close(&self, s: &mut [u8]) -> Result<bool, NotExponential> {
        let mut lost = false;
        loop {
            let mut changed = false;
            let (_, cur) = self.masks(s);
            // Rule 1: while write-available (in the state's epoch), replicas
            // that are not up go stale, as one new freshest stale group.
            if self.quorum_of(s).write_ok(cur) {
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
            // Repairs need an up, current source of their kind and a reachable AZ.
            for r in 0..self.reps() {
                let i = self.rep_at(r);
                if s[i] == REP
                    && (cur & self.sources(r) == 0 || !self.shape.az_up(s, self.az_of(r)))
                {
                    s[i] = LD;
                }
            }
            // Rule 2 with zero catch-up time (a stale full catches up from
            // any current peer: the log is all it misses).
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
            for r in 0..self.reps() {
                let i = self.rep_at(r);
                if s[i] == LD && self.shape.az_up(s, self.az_of(r)) && cur & self.sources(r) != 0 {
                    s[i] = if self.rate(self.repair_timing(r))? == Rate::Instant {
                        present(0, false)
                    } else {
                        REP
                    };
                    changed = true;
                }
            }
            // Rule 5, and §6: no full segment left is a loss too.
            let any_current = (0..self.reps()).any(|r| {
                let c = s[self.rep_at(r)];
                is_present(c) && rank(c) == 0
            });
            let full_left = |s: &[u8]| {
                (0..self.reps()).any(|r| self.shape.is_full(r) && is_present(s[self.rep_at(r)]))
            };
            // Without tails a current replica is a full one left: only the
            // first test is needed then.
            let tails = !self.shape.sort_nodes;
            if s[0] == 0 && (!any_current || tails && !full_left(s)) {
                lost = true;
                changed = true;
                if full_left(s) {
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
                    // Nothing survives, or only tails: pages come from backup.
                    s[0] = 1;
                    if self.rate(Timing::Restore)? == Rate::Instant {
                        self.restore(s);
                    }
                }
            }
            // The switch, last (as in the simulator's pass): only once
            // nothing else applies.
            if !changed && !self.epochs.is_empty() {
                changed = self.switch(s);
            }
            if !changed {
                return Ok(lost);
            }
        }
    }

    /// The quorum switch rule (SPEC §6): back to the scenario's quorum once
    /// the switched AZ's replicas are all up and current; otherwise, with an
    /// AZ due and a write quorum under the current epoch (the change is
    /// itself a quorum write), switch it out. Whether the epoch changed.
    fn switch(&self, s: &mut [u8]) -> bool {
        let (_, cur) = self.masks(s);
        if let Some(a) = self.shape.switched(s) {
            let m = self.shape.az_mask(a);
            if cur & m != m {
                return false;
            }
            s[self.az_at(a)] &= !SWITCHED;
            return true;
        }
        let due = (0..self.shape.azs).find(|&a| s[self.az_at(a)] & DUE != 0);
        match due {
            Some(a) if self.quorum.write_ok(cur) => {
                s[self.az_at(a)] |= SWITCHED;
                true
            }
            _ => false,
        }
    }

    /// Every replica gets the restored data and is current; one whose node
    /// is down stays down (it turns stale once writes resume).
    pub(super) fn restore(&self, s: &mut [u8]) {
        s[0] = 0;
        for r in 0..self.reps() {
            let i = self.rep_at(r);
            s[i] = present(0, crashed(s[i]));
        }
    }
}
