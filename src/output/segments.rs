//! `check`'s lines for SPEC §6: which replica is a full or a tail segment,
//! and the quorum switch's sets, in words.

use crate::model::Config;
use std::fmt::Write;

/// Appends the segment roles and the switched quorums, if the scenario has them.
pub fn describe(s: &mut String, cfg: &Config) {
    let l = &cfg.layout;
    if let Some(t) = &cfg.segments {
        // On a fleet, slots rather than nodes carry the role.
        let names = |full: bool| -> Vec<String> {
            (0..l.replicas())
                .filter(|&r| (t.full & (1 << r) != 0) == full)
                .map(|r| {
                    if cfg.storage.volume_mode {
                        format!("{} slot {}", l.azs[l.az_of(r)], r % l.nodes_per_az + 1)
                    } else {
                        l.node_names[r].clone()
                    }
                })
                .collect()
        };
        let _ = writeln!(
            s,
            "  full segments      {} (data pages and log, {:.0} bytes)",
            names(true).join(", "),
            cfg.segment_size_bytes
        );
        let _ = writeln!(
            s,
            "  tail segments      {} (log only, {:.0} bytes; repair time {})",
            names(false).join(", "),
            t.tail_size_bytes,
            t.tail_repair_time.describe()
        );
        let _ = writeln!(
            s,
            "  a full segment is repaired only from a full peer; no full segment left \
             means a restore from backup"
        );
    }
    if let Some(q) = &cfg.quorum_switch {
        let _ = writeln!(
            s,
            "  quorum switch      after an AZ is unreachable for {}, when writes are \
             available: the replicas outside it, {}",
            q.after.describe(),
            q.epochs.first().map(|e| e.describe()).unwrap_or_default()
        );
        let _ = writeln!(
            s,
            "                     back when all of that AZ's replicas are up and current"
        );
    }
}
