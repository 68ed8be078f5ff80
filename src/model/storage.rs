//! Where a volume's protection groups live (SPEC §4): the `[volume]` and
//! `[fleet]` set-up, resolved. A scenario without either is one PG on a fleet
//! of exactly one node per replica slot, so the model has one shape.

use super::config::Layout;
use crate::engine::stream_id;

/// [`stream_id`] of each name.
fn ids(names: &[String]) -> Vec<u64> {
    names.iter().map(|n| stream_id(&[n])).collect()
}

/// How PGs are placed on the fleet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Placement {
    /// Each PG takes, per AZ, distinct nodes at random (rack-spread).
    #[default]
    Random,
    /// Nodes are cut into fixed groups; PG `j` uses group `j mod groups`.
    Copyset,
}

impl Placement {
    /// The scenario spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Placement::Random => "random",
            Placement::Copyset => "copyset",
        }
    }
}

/// The storage fleet and the volume on it.
#[derive(Clone, Debug)]
pub struct Storage {
    /// Protection groups in the volume (1 without `[volume]`).
    pub pgs: usize,
    /// `volume.size` in bytes, if given.
    pub volume_bytes: Option<u64>,
    /// `volume.placement`.
    pub placement: Placement,
    /// Storage nodes per AZ (`fleet.nodes_per_az`, default `cluster.nodes_per_az`).
    pub nodes_per_az: usize,
    /// Racks per AZ (default 1: no racks).
    pub racks_per_az: usize,
    /// Repairs a node may take part in at once (`None`: no limit).
    pub repair_streams: Option<u32>,
    /// Fleet node names in node order: `az-a-1 … az-a-N, az-b-1, …`.
    pub node_names: Vec<String>,
    /// [`stream_id`] of each node name (the node's part of its random
    /// sources' stream numbers, hashed once per scenario, not per trial).
    pub node_ids: Vec<u64>,
    /// Whether `[volume]` or `[fleet]` was given: the volume outputs and
    /// timeline are used (SPEC §4), else §3's exactly.
    pub volume_mode: bool,
}

impl Storage {
    /// The §1 case: one PG whose replicas are the whole fleet.
    pub fn single(layout: &Layout) -> Storage {
        Storage {
            pgs: 1,
            volume_bytes: None,
            placement: Placement::Random,
            nodes_per_az: layout.nodes_per_az,
            racks_per_az: 1,
            repair_streams: None,
            node_names: layout.node_names.clone(),
            node_ids: ids(&layout.node_names),
            volume_mode: false,
        }
    }

    /// A fleet of `nodes_per_az` per AZ with fleet node names.
    pub fn fleet(layout: &Layout, nodes_per_az: usize) -> Storage {
        let node_names = Layout::new(layout.azs.clone(), nodes_per_az).node_names;
        Storage {
            nodes_per_az,
            node_ids: ids(&node_names),
            node_names,
            volume_mode: true,
            ..Storage::single(layout)
        }
    }

    /// Fleet nodes in all.
    pub fn nodes(&self) -> usize {
        self.node_names.len()
    }

    /// AZ of fleet node `n`.
    #[inline]
    pub fn az_of(&self, n: usize) -> usize {
        n / self.nodes_per_az
    }

    /// Rack of fleet node `n` within its AZ (0-based; racks dealt round-robin).
    #[inline]
    pub fn rack_in_az(&self, n: usize) -> usize {
        (n % self.nodes_per_az) % self.racks_per_az
    }

    /// Global rack index of node `n`: `az × racks_per_az + rack`.
    #[inline]
    pub fn rack_of(&self, n: usize) -> usize {
        self.az_of(n) * self.racks_per_az + self.rack_in_az(n)
    }

    /// Name of global rack `g`: `az-a/rack-k`.
    pub fn rack_name(&self, azs: &[String], g: usize) -> String {
        format!(
            "{}/rack-{}",
            azs[g / self.racks_per_az],
            g % self.racks_per_az + 1
        )
    }

    /// Index of a fleet node by name.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.node_names.iter().position(|n| n == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn racks_are_dealt_round_robin() {
        // SPEC §4: node k (1-based) is in rack ((k−1) mod racks) + 1.
        let l = Layout::new(vec!["az-a".into(), "az-b".into()], 2);
        let mut s = Storage::fleet(&l, 5);
        s.racks_per_az = 2;
        assert_eq!(s.node_names[5], "az-b-1");
        let racks: Vec<usize> = (0..10).map(|n| s.rack_of(n)).collect();
        assert_eq!(racks, [0, 1, 0, 1, 0, 2, 3, 2, 3, 2]);
        assert_eq!(s.rack_name(&l.azs, 3), "az-b/rack-2");
    }
}
