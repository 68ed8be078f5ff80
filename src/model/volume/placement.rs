//! Placement of each PG's replicas on fleet nodes (SPEC §4), drawn from a
//! stream of its own so that the same seed gives the same placement whatever
//! the failure settings; and the figures `check` prints about it.

use crate::model::Config;
use crate::model::storage::Placement;
use rand::seq::index;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

/// The node of every replica, by replica id `pg × V + slot`. Slots are in
/// AZ order, and within an AZ in node order.
pub fn place(cfg: &Config, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let st = &cfg.storage;
    let (n, big_n, azs) = (
        cfg.layout.nodes_per_az,
        st.nodes_per_az,
        cfg.layout.azs.len(),
    );
    let v = cfg.layout.replicas();
    let mut out = Vec::with_capacity(st.pgs * v);
    let groups = big_n / n;
    let want_racks = n.min(st.racks_per_az);
    let mut pick = Vec::with_capacity(n);
    let mut racks = Vec::with_capacity(n);
    for j in 0..st.pgs {
        for a in 0..azs {
            let base = a * big_n;
            if big_n == n || st.placement == Placement::Copyset {
                // Fixed groups (every PG on all nodes when the fleet is V nodes).
                let g = if big_n == n { 0 } else { j % groups };
                out.extend((0..n).map(|k| (base + g * n + k) as u32));
                continue;
            }
            // Uniform over node sets that use `want_racks` distinct racks:
            // draw uniform sets and keep the first that qualifies.
            loop {
                pick.clear();
                pick.extend(index::sample(rng, big_n, n));
                if want_racks == 1 || st.racks_per_az >= big_n {
                    break; // every set qualifies
                }
                racks.clear();
                racks.extend(pick.iter().map(|&k| k % st.racks_per_az));
                racks.sort_unstable();
                racks.dedup();
                if racks.len() == want_racks {
                    break;
                }
            }
            pick.sort_unstable();
            out.extend(pick.iter().map(|&k| (base + k) as u32));
        }
    }
    out
}

/// What `check` prints about a placement.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacementStats {
    /// Fewest segments on a node.
    pub min: usize,
    /// Mean segments per node.
    pub mean: f64,
    /// Most segments on a node.
    pub max: usize,
    /// Distinct node sets (copysets) among the PGs.
    pub copysets: usize,
}

/// The placement of `cfg` under `seed` (trial stream 0), summarised.
pub fn stats(cfg: &Config, seed: u64) -> PlacementStats {
    let mut rng = crate::engine::Streams::new(seed).detached(crate::model::sources::placement_id());
    let node_of = place(cfg, &mut rng);
    let mut per_node = vec![0usize; cfg.storage.nodes()];
    for &k in &node_of {
        per_node[k as usize] += 1;
    }
    let v = cfg.layout.replicas().max(1);
    let sets: HashSet<&[u32]> = node_of.chunks(v).collect();
    let total: usize = per_node.iter().sum();
    PlacementStats {
        min: per_node.iter().copied().min().unwrap_or(0),
        mean: total as f64 / per_node.len().max(1) as f64,
        max: per_node.iter().copied().max().unwrap_or(0),
        copysets: sets.len(),
    }
}

/// `count` distinct nodes of `scope`, ascending, from burst stream `rng`.
pub fn burst_nodes(
    rng: &mut ChaCha8Rng,
    scope: std::ops::Range<usize>,
    count: usize,
) -> Vec<usize> {
    let len = scope.len();
    let mut v: Vec<usize> = index::sample(rng, len, count.min(len))
        .into_iter()
        .map(|i| scope.start + i)
        .collect();
    v.sort_unstable();
    v
}
