//! How a chain state is laid out in bytes, and its canonical form under the
//! layout's symmetry.
//!
//! Layout: `[restoring, az_0, reps of az_0…, az_1, reps of az_1…, …]`. A
//! replica's byte is lost (undetected / detected), repairing, or present with
//! a *stale rank* (0 = current; k = the k-th freshest group of stale
//! replicas) and a crashed bit. An AZ's byte is its reachability (up, outage,
//! dark after a loss) with two flags of the quorum switch (SPEC §6): its
//! switch is *due* (unreachable for `quorum_switch_after`), and it is the AZ
//! *switched* out (at most one). The epoch is thus carried by the AZ it
//! names, so sorting AZ blocks keeps the switched AZ apart from the others.
//!
//! Symmetry: AZs with equal blocks are interchangeable; nodes of an AZ are
//! interchangeable only when every replica is a full segment. With tail
//! segments slot 1 of each AZ is full and slot 2 a tail: the two keep their
//! places, so only like is merged with like.

pub(super) const LU: u8 = 0;
pub(super) const LD: u8 = 1;
pub(super) const REP: u8 = 2;
const PRESENT: u8 = 3;

/// Present replica code: stale rank (0 = current) and crashed bit.
pub(super) fn present(rank: u8, crashed: bool) -> u8 {
    PRESENT + 2 * rank + crashed as u8
}
pub(super) fn is_present(c: u8) -> bool {
    c >= PRESENT
}
pub(super) fn rank(c: u8) -> u8 {
    (c - PRESENT) / 2
}
pub(super) fn crashed(c: u8) -> bool {
    is_present(c) && (c - PRESENT) % 2 == 1
}

/// AZ byte: reachability in the low two bits.
pub(super) const AZ_UP: u8 = 0;
pub(super) const AZ_OUT: u8 = 1;
pub(super) const AZ_DARK: u8 = 2;
const REACH: u8 = 3;
/// AZ byte: its quorum switch is due (cleared when the AZ is reachable).
pub(super) const DUE: u8 = 4;
/// AZ byte: the PG's epoch leaves this AZ out.
pub(super) const SWITCHED: u8 = 8;

/// The reachability part of an AZ byte.
pub(super) fn reach(az: u8) -> u8 {
    az & REACH
}

/// The shape of a state and its symmetry.
#[derive(Clone, Debug)]
pub(super) struct Shape {
    pub azs: usize,
    pub per_az: usize,
    /// Full segments, as replica bits (every replica without tail segments).
    pub full: u64,
    /// Nodes of an AZ may be permuted (every replica full).
    pub sort_nodes: bool,
    /// AZs may be permuted (false when the quorum switch could have to
    /// choose among several due AZs: it takes the lowest-numbered one, a
    /// choice by label that the symmetry would blur).
    pub sort_azs: bool,
}

impl Shape {
    /// Bytes per state.
    pub fn stride(&self) -> usize {
        1 + self.azs * self.width()
    }

    /// Bytes per AZ block.
    pub fn width(&self) -> usize {
        1 + self.per_az
    }

    pub fn az_of(&self, r: usize) -> usize {
        r / self.per_az
    }

    /// Index of replica `r`'s byte.
    pub fn rep_at(&self, r: usize) -> usize {
        let (a, k) = (r / self.per_az, r % self.per_az);
        1 + a * self.width() + 1 + k
    }

    /// Index of AZ `a`'s byte.
    pub fn az_at(&self, a: usize) -> usize {
        1 + a * self.width()
    }

    pub fn reps(&self) -> usize {
        self.azs * self.per_az
    }

    /// Replica bits of AZ `a`.
    pub fn az_mask(&self, a: usize) -> u64 {
        ((1u64 << self.per_az) - 1) << (a * self.per_az)
    }

    pub fn is_full(&self, r: usize) -> bool {
        self.full & (1 << r) != 0
    }

    /// Whether AZ `a` is reachable in `s`.
    pub fn az_up(&self, s: &[u8], a: usize) -> bool {
        reach(s[self.az_at(a)]) == AZ_UP
    }

    /// The AZ switched out in `s`, if any.
    pub fn switched(&self, s: &[u8]) -> Option<usize> {
        (0..self.azs).find(|&a| s[self.az_at(a)] & SWITCHED != 0)
    }

    /// Renumber stale ranks 1…k, then sort nodes within AZs and AZs among
    /// themselves, as far as the symmetry allows.
    pub fn canonical(&self, s: &mut [u8]) {
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
        if self.sort_nodes {
            for a in 0..self.azs {
                s[1 + a * w + 1..1 + (a + 1) * w].sort_unstable();
            }
        }
        if !self.sort_azs {
            return;
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

    /// How far a state is from "all up and current": AZs not up (or
    /// flagged), replicas not up-and-current, and restoring.
    pub fn level(&self, s: &[u8]) -> usize {
        let azs = (0..self.azs).filter(|&a| s[self.az_at(a)] != AZ_UP).count();
        let reps = (0..self.reps())
            .filter(|&r| s[self.rep_at(r)] != present(0, false))
            .count();
        s[0] as usize + azs + reps
    }

    /// How many labelled states a canonical state stands for: the number of
    /// distinct ways to assign its AZ blocks to AZs and its codes to nodes,
    /// as far as the symmetry permutes them.
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
        let mut total = 1.0;
        if self.sort_azs {
            total *= arrangements(self.azs, &|a| block(a - 1) == block(a));
        }
        if self.sort_nodes {
            for a in 0..self.azs {
                let b = block(a);
                total *= arrangements(self.per_az, &|k| b[k] == b[k + 1]);
            }
        }
        total
    }
}
