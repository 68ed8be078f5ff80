//! `cluster.segments`, `cluster.tail_size` and `cluster.quorum_switch_after`
//! (SPEC §6), validated into the config's [`Segments`] and [`QuorumSwitch`].

use super::raw::RawCluster;
use super::validate::{Bare, V, Zero};
use crate::error::InputError;
use crate::model::{Dist, Layout, Quorum, QuorumSwitch, Segments};
use crate::time::{duration_from_secs, parse_size};
use toml::Spanned;

/// What the §6 keys resolve to.
pub(super) struct Resolved {
    pub quorum: Quorum,
    pub segments: Option<Segments>,
    pub quorum_switch: Option<QuorumSwitch>,
}

/// Checks the §6 keys against the layout and quorum and resolves them.
/// `repair_time` is the full segment's; `segment_size_bytes` its size.
pub(super) fn resolve(
    v: &V,
    c: &RawCluster,
    layout: &Layout,
    quorum: Quorum,
    segment_size_bytes: f64,
    repair_bandwidth_bits_per_s: f64,
    repair_time: &Dist,
) -> Result<Resolved, InputError> {
    let tail = match &c.segments {
        None => false,
        Some(x) => v.choice(x, "cluster.segments", &[("full", false), ("tail", true)])?,
    };
    let segments = if let (true, Some(seg)) = (tail, &c.segments) {
        let key = "cluster.segments";
        if layout.azs.len() != 3 {
            return Err(v.err(
                seg,
                key,
                format!(
                    "\"tail\" needs three AZs (one full and one tail segment in each), \
                     found {}",
                    layout.azs.len()
                ),
            ));
        }
        if layout.nodes_per_az != 2 {
            let at = c.nodes_per_az.as_ref().map_or(seg.span(), |n| n.span());
            return Err(v.err(
                &Spanned::new(at, ()),
                "cluster.nodes_per_az",
                format!(
                    "segments = \"tail\" needs nodes_per_az = 2 (a full and a tail segment per AZ), \
                     found {}",
                    layout.nodes_per_az
                ),
            ));
        }
        if quorum.write() != 4 || quorum.read() != 3 {
            let (k, at) = match (&c.write_quorum, &c.read_quorum) {
                (Some(w), _) if quorum.write() != 4 => ("cluster.write_quorum", w),
                (_, Some(r)) => ("cluster.read_quorum", r),
                (Some(w), None) => ("cluster.write_quorum", w),
                (None, None) => ("cluster.segments", seg),
            };
            return Err(v.err(
                at,
                k,
                "segments = \"tail\" sets its own quorum sets (write 4/6 or 3/3 full, read 3/6 \
                 and 1/3 full): leave write_quorum and read_quorum out or set them to 4 and 3",
            ));
        }
        let Some(ts) = &c.tail_size else {
            return Err(v.err(
                seg,
                "cluster.tail_size",
                "segments = \"tail\" needs tail_size, what a tail segment holds (e.g. \"1GiB\")",
            ));
        };
        let text = v.string_value(ts, "cluster.tail_size", "a size like \"1GiB\"")?;
        let bytes = parse_size(text).map_err(|m| v.err(ts, "cluster.tail_size", m))?;
        if !(bytes > 0.0 && bytes <= segment_size_bytes) {
            return Err(v.err(
                ts,
                "cluster.tail_size",
                format!(
                    "must be positive and at most segment_size ({segment_size_bytes} bytes), \
                     found {bytes} bytes"
                ),
            ));
        }
        // tail_size / repair_bandwidth, rounded once (as the segment's is),
        // unless repair_time is given: then scaled by tail_size / segment_size.
        let tail_repair_time = match &c.repair_time {
            None => duration_from_secs(bytes * 8.0 / repair_bandwidth_bits_per_s).map(Dist::Fixed),
            Some(_) => repair_time.scaled(bytes / segment_size_bytes),
        }
        .map_err(|m| v.err(ts, "cluster.tail_size", m))?;
        // Slot 1 of each AZ (the first of its two) is full.
        let full = (0..layout.azs.len()).fold(0u64, |m, a| m | 1 << (a * layout.nodes_per_az));
        Some(Segments {
            full,
            tail_size_bytes: bytes,
            tail_repair_time,
        })
    } else {
        // With full segments tail_size has no use; it is accepted (and
        // ignored) so that a sweep can vary segments = full,tail.
        None
    };
    let quorum = match &segments {
        Some(s) => quorum.with_full(s.full),
        None => quorum,
    };
    let quorum_switch = match &c.quorum_switch_after {
        None => None,
        Some(x) => {
            let key = "cluster.quorum_switch_after";
            let after = v.timing(x, key, Bare::Fixed, Zero::Allowed)?;
            if layout.azs.len() < 2 {
                return Err(v.err(x, key, "needs at least two AZs (one is switched out)"));
            }
            if layout.azs.len() > 32 {
                return Err(v.err(x, key, "supports at most 32 AZs"));
            }
            let n = layout.nodes_per_az;
            let epochs = (0..layout.azs.len())
                .map(|a| quorum.without(((1u64 << n) - 1) << (a * n)))
                .collect();
            Some(QuorumSwitch { after, epochs })
        }
    };
    Ok(Resolved {
        quorum,
        segments,
        quorum_switch,
    })
}
