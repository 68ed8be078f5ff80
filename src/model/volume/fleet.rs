//! The storage fleet: nodes, racks and AZs, what is reachable, which
//! replicas live where, repair streams, and which nodes changed in the
//! current event (so that only they have their processes re-armed).

use crate::engine::Slot;
use crate::model::storage::Storage;
use crate::time::SimTime;

/// Per-node timer slots: crash process, loss process, return, give-up.
pub(super) const CRASH_PROC: u32 = 0;
pub(super) const LOSS_PROC: u32 = 1;
pub(super) const RETURN: u32 = 2;
pub(super) const GIVE_UP_TIMER: u32 = 3;
const SLOTS_PER_NODE: u32 = 4;
/// Per AZ: outage process, loss process, return. Per rack: outage, return.
const SLOTS_PER_AZ: u32 = 3;
const SLOTS_PER_RACK: u32 = 2;

/// Why a node is unreachable (bits of [`Node::dark`]).
const CRASHED: u8 = 1;
const AZ_DARK: u8 = 2;
const RACK_DARK: u8 = 4;

/// One storage node.
#[derive(Clone, Debug, Default)]
pub(super) struct Node {
    /// `CRASHED`, `AZ_DARK`, `RACK_DARK`: reachable when none is set. Its AZ's
    /// and rack's states are copied here so that reachability is one load.
    dark: u8,
    pub crash_until: SimTime,
    /// Whether its crash / loss process has a pending timer.
    armed: [bool; 2],
    pub giveup_armed: bool,
    /// Replaced by a new node during the current event.
    pub renewed: bool,
    dirty: bool,
    /// Up or down (`C`, `S`, `D`) replicas on it.
    pub present: u32,
    /// Replicas it lost that are not rebuilt yet.
    pub pending: u32,
    streams: u32,
}

/// A replica as (PG, slot), the order of replica ids `pg × V + slot`: a
/// node event groups its replicas by PG without dividing ids by V.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Seg {
    pub pg: u32,
    pub slot: u32,
}

/// Nodes, racks and AZs of the fleet.
pub(super) struct Fleet {
    per_az: usize,
    racks_per_az: usize,
    azs: usize,
    pub nodes: Vec<Node>,
    /// The replicas on each node, ascending (PG order).
    pub on_node: Vec<Vec<Seg>>,
    pub az_dark: u64,
    pub az_until: Vec<SimTime>,
    pub rack_dark: Vec<bool>,
    pub rack_until: Vec<SimTime>,
    /// Nodes whose crash / loss process has no pending timer.
    unarmed: [usize; 2],
    pub az_armed: [u64; 2],
    pub rack_armed: Vec<bool>,
    stream_cap: u32,
    /// The (source, target) nodes whose streams a repair holds, by replica id.
    stream_nodes: Vec<(u32, u32)>,
    /// Nodes changed in this event (see [`Fleet::mark`]).
    pub dirty: Vec<u32>,
    pub dirty_racks: Vec<u32>,
    /// An AZ changed or fired a process in this event.
    pub azs_dirty: bool,
}

impl Fleet {
    pub(super) fn new(st: &Storage, azs: usize) -> Fleet {
        let n = st.nodes();
        let racks = azs * st.racks_per_az;
        Fleet {
            per_az: st.nodes_per_az,
            racks_per_az: st.racks_per_az,
            azs,
            nodes: vec![Node::default(); n],
            on_node: vec![Vec::new(); n],
            az_dark: 0,
            az_until: vec![SimTime::ZERO; azs],
            rack_dark: vec![false; racks],
            rack_until: vec![SimTime::ZERO; racks],
            unarmed: [n; 2],
            az_armed: [0; 2],
            rack_armed: vec![false; racks],
            stream_cap: st.repair_streams.unwrap_or(u32::MAX),
            stream_nodes: Vec::new(),
            dirty: Vec::new(),
            dirty_racks: Vec::new(),
            azs_dirty: false,
        }
    }

    /// Records where each replica lives (`node_of[rid]`, `v` per PG).
    pub(super) fn attach(&mut self, node_of: &[u32], v: usize) {
        for (rid, &n) in node_of.iter().enumerate() {
            let seg = Seg {
                pg: (rid / v) as u32,
                slot: (rid % v) as u32,
            };
            self.on_node[n as usize].push(seg);
            self.nodes[n as usize].present += 1;
        }
        if self.stream_cap != u32::MAX {
            self.stream_nodes = vec![(0, 0); node_of.len()];
        }
    }

    // ----- slots ------------------------------------------------------------

    pub(super) fn node_slot(n: usize, k: u32) -> Slot {
        Slot(n as u32 * SLOTS_PER_NODE + k)
    }

    pub(super) fn az_slot(&self, a: usize, k: u32) -> Slot {
        Slot(self.nodes.len() as u32 * SLOTS_PER_NODE + a as u32 * SLOTS_PER_AZ + k)
    }

    pub(super) fn rack_slot(&self, g: usize, k: u32) -> Slot {
        let base = self.nodes.len() as u32 * SLOTS_PER_NODE + self.azs as u32 * SLOTS_PER_AZ;
        Slot(base + g as u32 * SLOTS_PER_RACK + k)
    }

    /// Slots used by the fleet (the model's own slots follow).
    pub(super) fn slots(&self) -> u32 {
        self.rack_slot(self.rack_dark.len(), 0).0
    }

    // ----- geometry and reachability ----------------------------------------

    /// Nodes of AZ `a`.
    pub(super) fn az_nodes(&self, a: usize) -> std::ops::Range<usize> {
        a * self.per_az..(a + 1) * self.per_az
    }

    /// Nodes of global rack `g`, ascending.
    pub(super) fn rack_nodes(&self, g: usize) -> impl Iterator<Item = usize> + use<> {
        let (a, r) = (g / self.racks_per_az, g % self.racks_per_az);
        (a * self.per_az + r..(a + 1) * self.per_az).step_by(self.racks_per_az)
    }

    /// The global rack of node `n` (None without racks).
    pub(super) fn rack_of(&self, n: usize) -> Option<usize> {
        if self.racks_per_az == 0 || self.per_az == 0 {
            return None;
        }
        let (a, i) = (n / self.per_az, n % self.per_az);
        Some(a * self.racks_per_az + i % self.racks_per_az)
    }

    #[inline]
    pub(super) fn az_reachable(&self, a: usize) -> bool {
        self.az_dark & (1 << a) == 0
    }

    /// Not crashed, and its AZ and rack are reachable.
    #[inline]
    pub(super) fn reachable(&self, n: usize) -> bool {
        self.nodes[n].dark == 0
    }

    #[inline]
    pub(super) fn crashed(&self, n: usize) -> bool {
        self.nodes[n].dark & CRASHED != 0
    }

    /// Whether node `n` is unreachable by its own crash only (no AZ or
    /// rack outage): its return makes it reachable.
    #[inline]
    pub(super) fn only_crashed(&self, n: usize) -> bool {
        self.nodes[n].dark == CRASHED
    }

    #[inline]
    pub(super) fn set_crashed(&mut self, n: usize, crashed: bool) {
        set_bit(&mut self.nodes[n].dark, CRASHED, crashed);
    }

    /// AZ `a` becomes unreachable (`dark`) or reachable; its nodes are marked.
    pub(super) fn set_az_dark(&mut self, a: usize, dark: bool) {
        if dark {
            self.az_dark |= 1 << a;
        } else {
            self.az_dark &= !(1 << a);
        }
        for n in self.az_nodes(a) {
            set_bit(&mut self.nodes[n].dark, AZ_DARK, dark);
            self.mark(n);
        }
    }

    /// Rack `g` goes down (`dark`) or comes back (its nodes are not marked).
    pub(super) fn set_rack_dark(&mut self, g: usize, dark: bool) {
        self.rack_dark[g] = dark;
        for n in self.rack_nodes(g) {
            set_bit(&mut self.nodes[n].dark, RACK_DARK, dark);
        }
    }

    /// Up for its own failure processes: reachable, and everything it lost
    /// has been rebuilt.
    #[inline]
    pub(super) fn up(&self, n: usize) -> bool {
        self.nodes[n].pending == 0 && self.reachable(n)
    }

    /// Whether node `n`'s process `k` has a pending timer.
    #[inline]
    pub(super) fn armed(&self, n: usize, k: usize) -> bool {
        self.nodes[n].armed[k]
    }

    #[inline]
    pub(super) fn set_armed(&mut self, n: usize, k: usize, armed: bool) {
        let a = &mut self.nodes[n].armed[k];
        if *a != armed {
            *a = armed;
            if armed {
                self.unarmed[k] -= 1;
            } else {
                self.unarmed[k] += 1;
            }
        }
    }

    /// Whether every node's process `k` has a pending timer.
    #[inline]
    pub(super) fn all_armed(&self, k: usize) -> bool {
        self.unarmed[k] == 0
    }

    // ----- replicas ---------------------------------------------------------

    #[inline]
    pub(super) fn present_changed(&mut self, n: usize, present: bool) {
        let node = &mut self.nodes[n];
        if present {
            node.present += 1;
        } else {
            node.present -= 1;
        }
        self.mark(n);
    }

    /// A lost replica's home moves from node `from` to `to`.
    pub(super) fn move_replica(&mut self, seg: Seg, from: usize, to: usize) {
        if let Ok(i) = self.on_node[from].binary_search(&seg) {
            self.on_node[from].remove(i);
        }
        let list = &mut self.on_node[to];
        let i = list.binary_search(&seg).unwrap_or_else(|i| i);
        list.insert(i, seg);
    }

    /// Node `n` lost a replica that now waits to be rebuilt.
    #[inline]
    pub(super) fn pending_add(&mut self, n: usize) {
        self.nodes[n].pending += 1;
        self.mark(n);
    }

    /// One replica node `n` lost is back.
    #[inline]
    pub(super) fn pending_done(&mut self, n: usize) {
        self.nodes[n].pending -= 1;
        self.mark(n);
    }

    // ----- repair streams ---------------------------------------------------

    #[inline]
    pub(super) fn unlimited_streams(&self) -> bool {
        self.stream_cap == u32::MAX
    }

    #[inline]
    pub(super) fn stream_free(&self, n: usize) -> bool {
        self.nodes[n].streams < self.stream_cap
    }

    /// Whether some reachable node of AZ `az` has a free stream.
    pub(super) fn az_has_free_stream(&self, az: usize) -> bool {
        let per = self.nodes.len() / self.azs;
        (az * per..(az + 1) * per).any(|n| self.reachable(n) && self.stream_free(n))
    }

    /// Repair `rid` takes a stream on its source and target nodes.
    pub(super) fn take_streams(&mut self, src: usize, target: usize, rid: usize) {
        if self.unlimited_streams() {
            return;
        }
        self.nodes[src].streams += 1;
        self.nodes[target].streams += 1;
        self.stream_nodes[rid] = (src as u32, target as u32);
    }

    /// Repair `rid` ended (done, abandoned or cancelled).
    pub(super) fn release_streams(&mut self, rid: usize) {
        if self.unlimited_streams() {
            return;
        }
        let (s, t) = self.stream_nodes[rid];
        self.nodes[s as usize].streams -= 1;
        self.nodes[t as usize].streams -= 1;
    }

    // ----- nodes changed in this event --------------------------------------

    /// Node `n` changed in a way that may concern its processes.
    #[inline]
    pub(super) fn mark(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        if !node.dirty {
            node.dirty = true;
            self.dirty.push(n as u32);
        }
    }

    /// Every node (at the start).
    pub(super) fn dirty_all(&mut self) {
        for n in 0..self.nodes.len() {
            self.mark(n);
        }
        self.dirty_racks = (0..self.rack_dark.len() as u32).collect();
        self.azs_dirty = true;
    }

    /// Puts the changed nodes in node order (the order their timers are
    /// drawn in); most events change one node.
    #[inline]
    pub(super) fn sort_dirty(&mut self) {
        if self.dirty.len() > 1 {
            self.dirty.sort_unstable();
        }
    }

    /// Ends the event: no node is changed or renewed any more.
    #[inline]
    pub(super) fn clear_dirty(&mut self) {
        for &n in &self.dirty {
            let node = &mut self.nodes[n as usize];
            node.dirty = false;
            node.renewed = false;
        }
        self.dirty.clear();
    }
}

#[inline]
fn set_bit(flags: &mut u8, b: u8, on: bool) {
    if on {
        *flags |= b;
    } else {
        *flags &= !b;
    }
}
