//! Future-event queues ordered by `(time, class, seq)` with per-slot cancellation.
//!
//! The trait [`EventQueue`] and [`HeapQueue`] (std `BinaryHeap` with lazy
//! cancellation by slot generation), the reference that the default
//! [`super::SlotHeap`] is tested and benchmarked against.

use super::{Class, Slot};
use crate::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A future-event queue: what [`super::Engine`] needs from one.
pub trait EventQueue<E>: Default {
    /// Adds an event; with a slot, replaces that slot's pending event.
    fn push(&mut self, at: SimTime, class: Class, slot: Option<Slot>, ev: E);
    /// Drops the pending event of `slot`, if any.
    fn cancel(&mut self, slot: Slot);
    /// Time of the earliest live event.
    fn peek_time(&mut self) -> Option<SimTime>;
    /// Removes and returns the earliest live event.
    fn pop(&mut self) -> Option<(SimTime, E)>;
    /// Removes and returns the earliest live event if it is before `horizon`.
    fn pop_before(&mut self, horizon: SimTime) -> Option<(SimTime, E)> {
        match self.peek_time() {
            Some(at) if at < horizon => self.pop(),
            _ => None,
        }
    }
    /// Makes room for `slots` slots and `events` pending events, so a run
    /// that knows its size does not grow the queue event by event.
    fn reserve(&mut self, _slots: usize, _events: usize) {}
    /// When `slot`'s pending event is due (None: nothing pending there).
    fn time_of(&self, slot: Slot) -> Option<SimTime>;
    /// Number of live events.
    fn len(&self) -> usize;
    /// Whether no live event is pending.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Packs class (top 4 bits) and insertion counter (low 60 bits) into one key.
#[inline]
pub(super) fn order_key(class: Class, seq: u64) -> u64 {
    ((class as u64) << 60) | (seq & ((1 << 60) - 1))
}

const NO_SLOT: u32 = u32::MAX;

struct Entry<E> {
    at: SimTime,
    order: u64,
    slot: u32,
    generation: u32,
    ev: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        self.at == o.at && self.order == o.order
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed so that `BinaryHeap` (a max-heap) pops the earliest first.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.order).cmp(&(self.at, self.order))
    }
}

#[derive(Clone, Copy, Default)]
struct SlotState {
    generation: u32,
    live: bool,
    /// Due time of the live entry (for `time_of`).
    at: SimTime,
}

/// `BinaryHeap` queue with lazy cancellation: a cancelled entry stays in the
/// heap, marked stale by its slot's generation, and is skipped when popped.
/// The heap is compacted when stale entries outnumber live ones.
pub struct HeapQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    slots: Vec<SlotState>,
    seq: u64,
    stale: usize,
}

impl<E> Default for HeapQueue<E> {
    fn default() -> Self {
        HeapQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            seq: 0,
            stale: 0,
        }
    }
}

impl<E> HeapQueue<E> {
    #[inline]
    fn is_stale(slots: &[SlotState], e: &Entry<E>) -> bool {
        e.slot != NO_SLOT && slots[e.slot as usize].generation != e.generation
    }

    #[inline]
    fn drop_stale_top(&mut self) {
        while let Some(top) = self.heap.peek() {
            if !Self::is_stale(&self.slots, top) {
                break;
            }
            self.heap.pop();
            self.stale -= 1;
        }
    }

    fn invalidate(&mut self, slot: Slot) {
        let i = slot.0 as usize;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, SlotState::default());
        }
        let s = &mut self.slots[i];
        if s.live {
            self.stale += 1;
            s.live = false;
        }
        s.generation = s.generation.wrapping_add(1);
        // Far-future timers cancelled by failures would otherwise pile up.
        if self.stale > 16 && self.stale * 2 > self.heap.len() {
            let slots = &self.slots;
            self.heap.retain(|e| !Self::is_stale(slots, e));
            self.stale = 0;
        }
    }
}

impl<E> EventQueue<E> for HeapQueue<E> {
    #[inline]
    fn push(&mut self, at: SimTime, class: Class, slot: Option<Slot>, ev: E) {
        let (slot, generation) = match slot {
            Some(s) => {
                self.invalidate(s);
                let st = &mut self.slots[s.0 as usize];
                st.live = true;
                st.at = at;
                (s.0, st.generation)
            }
            None => (NO_SLOT, 0),
        };
        self.seq += 1;
        self.heap.push(Entry {
            at,
            order: order_key(class, self.seq),
            slot,
            generation,
            ev,
        });
    }

    fn cancel(&mut self, slot: Slot) {
        self.invalidate(slot);
    }

    #[inline]
    fn peek_time(&mut self) -> Option<SimTime> {
        self.drop_stale_top();
        self.heap.peek().map(|e| e.at)
    }

    #[inline]
    fn pop(&mut self) -> Option<(SimTime, E)> {
        self.drop_stale_top();
        let e = self.heap.pop()?;
        if e.slot != NO_SLOT {
            self.slots[e.slot as usize].live = false;
        }
        Some((e.at, e.ev))
    }

    fn time_of(&self, slot: Slot) -> Option<SimTime> {
        let s = self.slots.get(slot.0 as usize)?;
        s.live.then_some(s.at)
    }

    fn len(&self) -> usize {
        self.heap.len() - self.stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_compacts_cancelled_entries() {
        let mut q: HeapQueue<u32> = HeapQueue::default();
        for i in 0..1000u32 {
            q.push(SimTime(1_000_000 + i as u64), 1, Some(Slot(i)), i);
        }
        for i in 0..1000u32 {
            q.cancel(Slot(i));
        }
        assert_eq!(q.len(), 0);
        assert!(q.heap.len() < 100, "stale entries kept: {}", q.heap.len());
        assert!(q.pop().is_none());
    }
}
