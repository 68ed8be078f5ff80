//! Quorum rules as predicates over sets of replicas.
//!
//! A rule looks at *which* replicas are up and current (a bitmask in node
//! order), not only how many, so that Aurora's quorum sets (3 full + 3 tail
//! segments: writes need 4/6 of any or 3/3 of the full ones) can be added as
//! another variant without touching the simulator.

/// A set of replicas as a bitmask: bit `i` is replica `i` in node order.
pub type ReplicaSet = u64;

/// The largest number of replicas a protection group may have.
pub const MAX_REPLICAS: usize = 64;

/// When writes and reads are possible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Quorum {
    /// Vote counting: writes need `write` up-and-current replicas; reads need
    /// `read` up replicas of which at least one is current.
    Count {
        /// Replicas in the group (V).
        replicas: u32,
        /// Write quorum (Vw).
        write: u32,
        /// Read quorum (Vr).
        read: u32,
    },
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
        Ok(Quorum::Count {
            replicas,
            write,
            read,
        })
    }

    /// Whether a write can be acknowledged with these replicas up and current.
    #[inline]
    pub fn write_ok(&self, up_current: ReplicaSet) -> bool {
        match *self {
            Quorum::Count { write, .. } => up_current.count_ones() >= write,
        }
    }

    /// Whether a read can be served with these replicas up (and these of them current).
    #[inline]
    pub fn read_ok(&self, up: ReplicaSet, up_current: ReplicaSet) -> bool {
        match *self {
            Quorum::Count { read, .. } => up.count_ones() >= read && up_current != 0,
        }
    }

    /// A one-line description, e.g. `write 4/6, read 3/6`.
    pub fn describe(&self) -> String {
        match *self {
            Quorum::Count {
                replicas,
                write,
                read,
            } => format!("write {write}/{replicas}, read {read}/{replicas} (any replicas)"),
        }
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
}
