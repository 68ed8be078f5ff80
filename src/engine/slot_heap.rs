//! [`SlotHeap`]: an indexed 4-ary min-heap keyed by `(time, class, seq)`.
//!
//! Every slotted event's heap position is kept in a table by slot, so
//! rescheduling a slot moves its entry in place and cancelling removes it at
//! once: the heap holds only live events (no stale entries to skip or
//! compact), which keeps it small when thousands of timers are re-armed.
//! Unslotted events share one sink position entry that is written and never
//! read, so the sift loops update positions without a branch.
//!
//! A 4-ary heap is half as deep as a binary one, and the four children of a
//! node sit in one or two cache lines.
//!
//! **Vacant top.** A pop leaves its entry's place at the root empty and
//! refills it lazily: most events schedule a new event before anything else
//! touches the queue, and that event then takes the root and sifts down once,
//! instead of the pop sifting the last entry down and the push sifting the
//! new one up. Any other operation refills the root first (as a pop would
//! have), so the live entries, and hence what pops next, are always those of
//! a plain heap.

use super::queue::{EventQueue, order_key};
use super::{Class, Slot};
use crate::time::SimTime;

/// Position-table value of a slot with no pending event.
const ABSENT: u32 = u32::MAX;
/// Position-table index of unslotted events (real slot `s` lives at `s + 1`).
const SINK: u32 = 0;
const ARITY: usize = 4;

#[derive(Clone, Copy)]
struct Node<E> {
    /// `time << 64 | class << 60 | seq`: one comparison orders two entries.
    key: u128,
    /// Index into the position table (`SINK` for unslotted events).
    slot: u32,
    ev: E,
}

/// Indexed 4-ary heap with in-place reschedule and removal (the default queue).
pub struct SlotHeap<E> {
    heap: Vec<Node<E>>,
    pos: Vec<u32>,
    seq: u64,
    /// `heap[0]` was popped and is not refilled yet (see the module docs).
    vacant_top: bool,
}

impl<E> Default for SlotHeap<E> {
    fn default() -> Self {
        SlotHeap {
            heap: Vec::new(),
            pos: vec![ABSENT],
            seq: 0,
            vacant_top: false,
        }
    }
}

#[inline]
fn key(at: SimTime, class: Class, seq: u64) -> u128 {
    ((at.0 as u128) << 64) | order_key(class, seq) as u128
}

impl<E: Copy> SlotHeap<E> {
    /// Moves `node` up from hole `i` to its place. Always inlined (as is
    /// `sift_down`): every event pops once and pushes about once, and the
    /// call would cost a fifth of the sift.
    #[inline(always)]
    fn sift_up(&mut self, mut i: usize, node: Node<E>) {
        let (heap, pos) = (&mut self.heap[..], &mut self.pos[..]);
        while i > 0 {
            let parent = (i - 1) / ARITY;
            let p = heap[parent];
            if p.key <= node.key {
                break;
            }
            heap[i] = p;
            pos[p.slot as usize] = i as u32;
            i = parent;
        }
        heap[i] = node;
        pos[node.slot as usize] = i as u32;
    }

    /// Moves `node` down from hole `i` to its place.
    #[inline(always)]
    fn sift_down(&mut self, mut i: usize, node: Node<E>) {
        let (heap, pos) = (&mut self.heap[..], &mut self.pos[..]);
        let n = heap.len();
        loop {
            let first = ARITY * i + 1;
            // `first + ARITY <= n` rather than a checked `get`: positions
            // fit in u32, so it cannot overflow, and the slice needs no
            // further test.
            let (best, child) = if first + ARITY <= n {
                let c = &heap[first..first + ARITY];
                // Four children: a branch-light tournament within one slice
                // (its indices need no bounds checks).
                let a = usize::from(c[1].key < c[0].key);
                let b = 2 + usize::from(c[3].key < c[2].key);
                let m = if c[b].key < c[a].key { b } else { a };
                (first + m, c[m])
            } else if first < n {
                let mut best = first;
                for c in first + 1..n {
                    if heap[c].key < heap[best].key {
                        best = c;
                    }
                }
                (best, heap[best])
            } else {
                break;
            };
            if node.key <= child.key {
                break;
            }
            heap[i] = child;
            pos[child.slot as usize] = i as u32;
            i = best;
        }
        heap[i] = node;
        pos[node.slot as usize] = i as u32;
    }

    /// Fills a vacant root with the last entry, as a plain pop would have.
    #[inline(always)]
    fn refill(&mut self) {
        if self.vacant_top {
            self.vacant_top = false;
            let last = self.heap.pop().expect("a vacant root is in the heap");
            if !self.heap.is_empty() {
                self.sift_down(0, last);
            }
        }
    }

    /// Adds an entry whose slot has none: into a vacant root, or at the end.
    #[inline(always)]
    fn insert(&mut self, node: Node<E>) {
        if self.vacant_top {
            self.vacant_top = false;
            self.sift_down(0, node);
        } else {
            self.heap.push(node);
            let i = self.heap.len() - 1;
            self.sift_up(i, node);
        }
    }

    /// Removes the pending entry of position-table index `si`.
    #[inline(never)]
    fn remove_slot(&mut self, si: usize) {
        self.refill();
        self.remove_at(self.pos[si] as usize);
    }

    /// Removes the entry at heap index `i`, refilling the hole with the last
    /// one (the root must not be vacant).
    #[inline]
    fn remove_at(&mut self, i: usize) -> Node<E> {
        let removed = self.heap[i];
        self.pos[removed.slot as usize] = ABSENT;
        let last = self.heap.pop().unwrap_or(removed);
        if i < self.heap.len() {
            if i > 0 && last.key < self.heap[(i - 1) / ARITY].key {
                self.sift_up(i, last);
            } else {
                self.sift_down(i, last);
            }
        }
        removed
    }

    /// The position-table index of `slot`, growing the table on first use.
    #[inline]
    fn index(&mut self, slot: Slot) -> usize {
        let i = slot.0 as usize + 1;
        if i >= self.pos.len() {
            self.pos.resize(i + 1, ABSENT);
        }
        i
    }
}

impl<E: Copy> EventQueue<E> for SlotHeap<E> {
    #[inline]
    fn push(&mut self, at: SimTime, class: Class, slot: Option<Slot>, ev: E) {
        self.seq += 1;
        let k = key(at, class, self.seq);
        let Some(s) = slot else {
            let node = Node {
                key: k,
                slot: SINK,
                ev,
            };
            self.insert(node);
            return;
        };
        let si = self.index(s);
        let node = Node {
            key: k,
            slot: si as u32,
            ev,
        };
        if self.pos[si] == ABSENT {
            self.insert(node);
        } else {
            // In place: the new key is later (`seq` grew) unless the time
            // moved earlier, so most reschedules sift down.
            self.refill();
            let i = self.pos[si] as usize;
            if node.key < self.heap[i].key {
                self.sift_up(i, node);
            } else {
                self.sift_down(i, node);
            }
        }
    }

    /// Inlined up to the test: most cancels find nothing pending.
    #[inline(always)]
    fn cancel(&mut self, slot: Slot) {
        let si = slot.0 as usize + 1;
        if self.pos.get(si).is_some_and(|&p| p != ABSENT) {
            self.remove_slot(si);
        }
    }

    #[inline]
    fn peek_time(&mut self) -> Option<SimTime> {
        self.refill();
        self.heap.first().map(|n| SimTime((n.key >> 64) as u64))
    }

    /// Takes the root's event and leaves the root vacant.
    #[inline]
    fn pop(&mut self) -> Option<(SimTime, E)> {
        self.refill();
        let top = *self.heap.first()?;
        self.pos[top.slot as usize] = ABSENT;
        self.vacant_top = true;
        Some((SimTime((top.key >> 64) as u64), top.ev))
    }

    #[inline]
    fn pop_before(&mut self, horizon: SimTime) -> Option<(SimTime, E)> {
        self.refill();
        let top = self.heap.first()?;
        if (top.key >> 64) as u64 >= horizon.0 {
            return None;
        }
        self.pop()
    }

    fn reserve(&mut self, slots: usize, events: usize) {
        if self.pos.len() < slots + 1 {
            self.pos.resize(slots + 1, ABSENT);
        }
        self.heap.reserve(events);
    }

    fn time_of(&self, slot: Slot) -> Option<SimTime> {
        let i = *self.pos.get(slot.0 as usize + 1)?;
        // A popped entry's slot is ABSENT at once, so `i` is a live entry.
        (i != ABSENT).then(|| SimTime((self.heap[i as usize].key >> 64) as u64))
    }

    fn len(&self) -> usize {
        self.heap.len() - usize::from(self.vacant_top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::HeapQueue;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Push {
            at: u64,
            class: u8,
            slot: Option<u32>,
        },
        Cancel(u32),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..50u64, 0..3u8, proptest::option::of(0..8u32))
                .prop_map(|(at, class, slot)| Op::Push { at, class, slot }),
            1 => (0..8u32).prop_map(Op::Cancel),
            3 => Just(Op::Pop),
        ]
    }

    /// Applies `ops` and records every pop, and the live count and each
    /// slot's due time (`time_of`) after every operation (so a vacant root is never counted); times never go
    /// backwards relative to the last pop (as in the engine).
    fn replay<Q: EventQueue<u32>>(ops: &[Op]) -> Vec<(u64, u32)> {
        let mut q = Q::default();
        let (mut now, mut out, mut id) = (0u64, Vec::new(), 0u32);
        for o in ops {
            match *o {
                Op::Push { at, class, slot } => {
                    id += 1;
                    q.push(SimTime(now + at), class, slot.map(Slot), id);
                }
                Op::Cancel(s) => q.cancel(Slot(s)),
                Op::Pop => {
                    if let Some((t, e)) = q.pop() {
                        now = t.0;
                        out.push((t.0, e));
                    }
                }
            }
            out.push((u64::MAX, q.len() as u32));
            for s in 0..8 {
                let due = q.time_of(Slot(s)).map_or(u64::MAX - 1, |t| t.0);
                out.push((due, 1000 + s));
            }
        }
        while let Some((t, e)) = q.pop() {
            out.push((t.0, e));
        }
        assert!(q.is_empty());
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The indexed heap pops exactly what the lazy binary heap (an
        /// independent implementation of the same `(time, class, seq)` order
        /// and slot rules) pops, for any mix of pushes, reschedules, cancels.
        #[test]
        fn same_order_as_the_lazy_heap(ops in proptest::collection::vec(op(), 0..200)) {
            prop_assert_eq!(replay::<SlotHeap<u32>>(&ops), replay::<HeapQueue<u32>>(&ops));
        }
    }

    #[test]
    fn cancel_and_reschedule_keep_only_live_entries() {
        let mut q: SlotHeap<u32> = SlotHeap::default();
        for i in 0..1000u32 {
            q.push(SimTime(1_000_000 + i as u64), 1, Some(Slot(i)), i);
        }
        for i in 0..1000u32 {
            q.push(SimTime(10 + i as u64), 1, Some(Slot(i)), i); // reschedule earlier
        }
        assert_eq!(q.len(), 1000);
        for i in (0..1000u32).step_by(2) {
            q.cancel(Slot(i));
        }
        assert_eq!(q.len(), 500);
        assert_eq!(q.heap.len(), 500, "no stale entries");
        let popped: Vec<u32> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(popped, (1..1000u32).step_by(2).collect::<Vec<_>>());
        q.cancel(Slot(5)); // already popped: nothing happens
        q.cancel(Slot(70_000)); // never used: nothing happens
        assert!(q.pop().is_none());
    }
}
