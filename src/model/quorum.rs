//! Quorum rules as predicates over sets of replicas.
//!
//! A rule looks at *which* replicas are up and current (a bitmask in node
//! order), not only how many: Aurora's quorum sets (SPEC §6: 3 full + 3 tail
//! segments; writes need 4/6 of any or 3/3 of the full ones, reads 3/6 of
//! any and 1/3 of the full ones) and the switched epoch of a long AZ loss
//! (only the replicas outside that AZ count) are the same predicate with
//! other masks, so the simulator and the chain never branch on the kind.

/// A set of replicas as a bitmask: bit `i` is replica `i` in node order.
pub type ReplicaSet = u64;

/// The largest number of replicas a protection group may have.
pub const MAX_REPLICAS: usize = 64;

/// When writes and reads are possible: counts over `members`, and (with
/// full segments marked) the full-set clauses of §6.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quorum {
    /// Replicas in the group (V).
    replicas: u32,
    /// The replicas that count (all of them, or those outside a switched AZ).
    members: ReplicaSet,
    /// Full segments among the members; 0 when every replica is full and
    /// only counts matter (§1).
    full: ReplicaSet,
    /// Write quorum: up-and-current members needed (Vw, or Vw′).
    write: u32,
    /// Read quorum: up members needed, one of them current (Vr, or Vr′).
    read: u32,
    /// What the full-set write clause needs of the up-and-current full
    /// members: all of `full`, or (without full segments) the impossible
    /// `u64::MAX`, so that the predicates need no test of `full`.
    write_full: ReplicaSet,
    /// A read needs one of these up: the full members, or (without full
    /// segments) any member, which a current one already is.
    read_full: ReplicaSet,
    /// With at most [`TABLE_REPLICAS`] replicas, both predicates as tables
    /// over the 64 sets (bit `m`: the answer for set `m`; the read table
    /// tests the up set, the current clause stays a mask test): one shift
    /// instead of counting bits and testing the full-set clause, which
    /// every quorum pays whether or not it has tail segments.
    write_tab: u64,
    read_tab: u64,
}

/// The most replicas the predicate tables cover (64 sets of 6 slots).
const TABLE_REPLICAS: u32 = 6;

#[inline]
fn low_bits(n: u32) -> ReplicaSet {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

impl Quorum {
    /// A counting quorum, validated: `1 ≤ Vr ≤ V`, `1 ≤ Vw ≤ V`, `Vr + Vw > V`
    /// (every read overlaps the last write) and `2·Vw > V` (two writes overlap).
    pub fn count(replicas: u32, write: u32, read: u32) -> Result<Quorum, QuorumError> {
        let v = replicas;
        if write < 1 || write > v {
            return Err(QuorumError::Write(format!(
                "write_quorum = {write} must be between 1 and the {v} replicas"
            )));
        }
        if read < 1 || read > v {
            return Err(QuorumError::Read(format!(
                "read_quorum = {read} must be between 1 and the {v} replicas"
            )));
        }
        if read + write <= v {
            return Err(QuorumError::Read(format!(
                "read_quorum + write_quorum = {read} + {write} = {} must exceed the {v} replicas, \
                 or a read could miss the latest write",
                read + write
            )));
        }
        if 2 * write <= v {
            return Err(QuorumError::Write(format!(
                "2 × write_quorum = {} must exceed the {v} replicas, or two writes could \
                 succeed on disjoint replicas",
                2 * write
            )));
        }
        let members = low_bits(replicas);
        let q = Quorum {
            replicas,
            members,
            full: 0,
            write,
            read,
            write_full: u64::MAX,
            read_full: members,
            write_tab: 0,
            read_tab: 0,
        };
        Ok(q.tabulated())
    }

    /// This quorum with its predicate tables filled in (if it has few
    /// enough replicas), from the counting and full-set clauses.
    fn tabulated(mut self) -> Quorum {
        if self.replicas <= TABLE_REPLICAS {
            (self.write_tab, self.read_tab) = (0, 0);
            for m in 0..64u64 {
                self.write_tab |= u64::from(self.write_ok_counted(m)) << m;
                // The current clause is left to the caller's mask test.
                self.read_tab |= u64::from(self.read_ok_counted(m, self.members)) << m;
            }
        }
        self
    }

    /// This counting quorum with the replicas in `full` marked as the full
    /// segments (SPEC §6): writes also succeed on every full member up and
    /// current; reads also need a full member up.
    pub fn with_full(self, full: ReplicaSet) -> Quorum {
        let members = self.members;
        self.with_sets(members, full)
    }

    /// This quorum's counts and full set restricted to `members`.
    fn with_sets(mut self, members: ReplicaSet, full: ReplicaSet) -> Quorum {
        self.members = members;
        self.full = full & members;
        (self.write_full, self.read_full) = if self.full == 0 {
            (u64::MAX, members)
        } else {
            (self.full, self.full)
        };
        self.tabulated()
    }

    /// The switched epoch that leaves out the replicas in `az` (SPEC §6):
    /// V′ = the members outside it, Vw′ = ⌊V′/2⌋ + 1, Vr′ = V′ − Vw′ + 1,
    /// and the full set shrunk to the full members outside it.
    pub fn without(&self, az: ReplicaSet) -> Quorum {
        let members = self.members & !az;
        let v = members.count_ones();
        let write = v / 2 + 1;
        let q = Quorum {
            write,
            read: v + 1 - write,
            ..self.clone()
        };
        q.with_sets(members, self.full)
    }

    /// Replicas in the group (V).
    pub fn replicas(&self) -> u32 {
        self.replicas
    }

    /// Up-and-current members a write needs by count (Vw).
    pub fn write(&self) -> u32 {
        self.write
    }

    /// Up members a read needs by count (Vr).
    pub fn read(&self) -> u32 {
        self.read
    }

    /// The full segments (0 when every replica is full).
    pub fn full(&self) -> ReplicaSet {
        self.full
    }

    /// Whether a write can be acknowledged with these replicas up and current.
    #[inline]
    pub fn write_ok(&self, up_current: ReplicaSet) -> bool {
        if self.replicas <= TABLE_REPLICAS {
            // Bits beyond the replicas are not members: the low six decide.
            return (self.write_tab >> (up_current & 63)) & 1 != 0;
        }
        self.write_ok_counted(up_current)
    }

    /// Whether a read can be served with these replicas up (and these of them current).
    #[inline]
    pub fn read_ok(&self, up: ReplicaSet, up_current: ReplicaSet) -> bool {
        if self.replicas <= TABLE_REPLICAS {
            return (self.read_tab >> (up & 63)) & 1 != 0 && up_current & self.members != 0;
        }
        self.read_ok_counted(up, up_current)
    }

    /// [`Quorum::write_ok`] by its clauses.
    #[inline]
    fn write_ok_counted(&self, up_current: ReplicaSet) -> bool {
        let m = up_current & self.members;
        m.count_ones() >= self.write || m & self.full == self.write_full
    }

    /// [`Quorum::read_ok`] by its clauses.
    #[inline]
    fn read_ok_counted(&self, up: ReplicaSet, up_current: ReplicaSet) -> bool {
        let u = up & self.members;
        u.count_ones() >= self.read && up_current & self.members != 0 && u & self.read_full != 0
    }

    /// A one-line description in words, e.g. `write 4/6, read 3/6 (any replicas)`.
    pub fn describe(&self) -> String {
        let (v, w, r) = (self.members.count_ones(), self.write, self.read);
        if self.full == 0 {
            return format!("write {w}/{v}, read {r}/{v} (any replicas)");
        }
        let f = self.full.count_ones();
        format!(
            "write {w}/{v} of any or {f}/{f} of the full segments, \
             read {r}/{v} of any (one current) and 1/{f} of the full segments"
        )
    }
}

/// Why a quorum was rejected, and which key is at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumError {
    /// `write_quorum` is at fault.
    Write(String),
    /// `read_quorum` is at fault.
    Read(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aurora_default_is_valid_and_counts() {
        let q = Quorum::count(6, 4, 3).unwrap();
        assert!(q.write_ok(0b001111));
        assert!(!q.write_ok(0b000111));
        // 3 up, one of them current: readable; 3 up, none current: not.
        assert!(q.read_ok(0b000111, 0b000001));
        assert!(!q.read_ok(0b000111, 0));
        assert!(!q.read_ok(0b000011, 0b000011));
    }

    #[test]
    fn invalid_quorums_say_why() {
        // 3 + 3 = 6 does not exceed 6: a read may miss the last write.
        assert!(matches!(Quorum::count(6, 3, 3), Err(QuorumError::Read(_))));
        // 2·3 = 6 does not exceed 6 (with read 4 so that the overlap rule passes).
        assert!(matches!(Quorum::count(6, 3, 4), Err(QuorumError::Write(_))));
        assert!(matches!(Quorum::count(6, 7, 3), Err(QuorumError::Write(_))));
        assert!(matches!(Quorum::count(6, 4, 0), Err(QuorumError::Read(_))));
        assert!(Quorum::count(1, 1, 1).is_ok());
    }

    /// SPEC §6 on the 3 AZ × 2 layout: slots 0, 2, 4 (az-a-1, az-b-1,
    /// az-c-1) are full, 1, 3, 5 tail.
    const FULL: ReplicaSet = 0b010101;

    #[test]
    fn tail_sets_write_on_four_of_six_or_the_three_full() {
        let q = Quorum::count(6, 4, 3).unwrap().with_full(FULL);
        // Any 4 of 6, e.g. the three tails and one full (slots 0, 1, 3, 5).
        assert!(q.write_ok(0b101011));
        // The three full alone (3 < 4, but 3/3 of the full set).
        assert!(q.write_ok(FULL));
        // Two full and one tail: neither clause.
        assert!(!q.write_ok(0b000111));
        // Reads: 3 up with one current and a full up.
        assert!(q.read_ok(0b001011, 0b000010));
        // 3 up, one current, but all three tails: no pages, no read.
        assert!(!q.read_ok(0b101010, 0b101010));
    }

    /// The tables answer as the clauses do, for every valid counting
    /// quorum of 1–6 replicas, with and without full sets and switched
    /// epochs, over every pair of (up, current) sets (bits beyond the
    /// replicas included, which the clauses ignore).
    #[test]
    fn issue_12_predicate_tables_answer_as_the_clauses() {
        let mut checked = 0;
        for v in 1..=6u32 {
            for w in 1..=v {
                for r in 1..=v {
                    let Ok(q) = Quorum::count(v, w, r) else {
                        continue;
                    };
                    let all = low_bits(v);
                    let mut qs = vec![q.clone(), q.clone().with_full(0b010101 & all)];
                    if v == 6 {
                        qs.push(q.without(0b000011));
                        qs.push(q.clone().with_full(0b010101).without(0b001100));
                    }
                    for q in &qs {
                        for up in 0..128u64 {
                            for cur in [0, up, up & 0b101, up & 0b1000010] {
                                let up = up | 0b1100_0000;
                                assert_eq!(q.write_ok(cur), q.write_ok_counted(cur));
                                assert_eq!(q.read_ok(up, cur), q.read_ok_counted(up, cur));
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000);
    }

    #[test]
    fn a_switched_epoch_counts_only_the_other_azs() {
        // Without az-a (slots 0, 1): V′ = 4, Vw′ = 3, Vr′ = 2.
        let q = Quorum::count(6, 4, 3).unwrap().without(0b000011);
        assert_eq!((q.write(), q.read()), (3, 2));
        assert!(q.write_ok(0b011100));
        // az-a's replicas count for nothing: slots 0, 1 and 3 are 1 outside.
        assert!(!q.write_ok(0b001011));
        assert!(q.read_ok(0b110000, 0b010000));
        assert!(!q.read_ok(0b010011, 0b010011));
        // With tail segments: 3 of the 4, or both full outside az-a
        // (slots 2 and 4); reads also need a full one outside az-a up.
        let t = Quorum::count(6, 4, 3)
            .unwrap()
            .with_full(FULL)
            .without(0b000011);
        assert_eq!(t.full(), 0b010100);
        assert!(t.write_ok(0b010100));
        assert!(!t.write_ok(0b011000 | 0b000011));
        assert!(t.read_ok(0b001100, 0b001000));
        assert!(!t.read_ok(0b101000, 0b101000));
    }
}
