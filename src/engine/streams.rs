//! Common random numbers: one random stream per named source.
//!
//! Every source of randomness a model has (a node's failure process, a
//! timing, a placement…) draws from a stream of its own: a Xoshiro256++
//! generator seeded from the run's seed and [`stream_id`] of the source's
//! canonical name. Two runs with the same seed therefore draw the same
//! numbers from every source they share, whatever else differs between them
//! (another design, another grid point, another source added), which is what
//! makes their difference precise.
//!
//! Why not a ChaCha8 stream per source (SPEC §5 names ChaCha8): a one-year
//! trial draws only a few numbers per source, and ChaCha8 generates 256
//! bytes at a stream's first draw, so a sweep of one-year baseline trials
//! cost 66 % more instructions per trial with it. Xoshiro256++ (rand's
//! `SmallRng`; BigCrush- and PractRand-clean) costs a few instructions to
//! seed and per draw. Streams are opened lazily, at a source's first draw.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// The generator of one source.
pub type SourceRng = Xoshiro256PlusPlus;

/// SplitMix64's finaliser: a bijective 64-bit mix.
const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a (64 bit) of `parts` joined by `:` — the stream number of the
/// source whose canonical name that is (e.g. `placement`, `burst:3`).
pub const fn stream_id(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < parts.len() {
        if i > 0 {
            h = (h ^ b':' as u64).wrapping_mul(0x0100_0000_01b3);
        }
        let b = parts[i].as_bytes();
        let mut j = 0;
        while j < b.len() {
            h = (h ^ b[j] as u64).wrapping_mul(0x0100_0000_01b3);
            j += 1;
        }
        i += 1;
    }
    h
}

/// The stream number of a source named by the stream numbers of its parts
/// (`node_crash`, `az-a-1`, `every` → one number), so a model can hash a
/// target's name once and combine it cheaply.
pub const fn combine(a: u64, b: u64) -> u64 {
    mix(mix(a) ^ b)
}

/// The run's random streams, indexed by a dense source number the model
/// chooses (the stream itself is chosen by the source's name).
pub struct Streams {
    key: u64,
    /// By source number: its generator, live once drawn from in this run.
    slots: Vec<Slot>,
}

#[derive(Clone)]
struct Slot {
    rng: SourceRng,
    live: bool,
}

impl Streams {
    /// The streams of a run seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Streams {
            key: mix(seed),
            slots: Vec::new(),
        }
    }

    /// Makes room for source numbers below `sources` (so no draw reallocates).
    pub fn reserve(&mut self, sources: usize) {
        if self.slots.len() < sources {
            let idle = Slot {
                rng: SourceRng::seed_from_u64(0),
                live: false,
            };
            self.slots.resize(sources, idle);
        }
    }

    /// The stream with stream number `id`, not tracked (for a source a
    /// model keeps for itself, such as a placement): Xoshiro256++ seeded
    /// (through SplitMix64, as `seed_from_u64` does) with
    /// mix(mix(seed) ⊕ id).
    pub fn detached(&self, id: u64) -> SourceRng {
        SourceRng::seed_from_u64(mix(self.key ^ id))
    }

    /// The stream of source number `source`; `id` gives its stream number the
    /// first time (so a name is hashed once per run, and only if drawn from).
    #[inline(always)]
    pub fn get(&mut self, source: usize, id: impl FnOnce() -> u64) -> &mut SourceRng {
        if source >= self.slots.len() {
            self.reserve(source + 1);
        }
        if !self.slots[source].live {
            self.open(source, id());
        }
        &mut self.slots[source].rng
    }

    #[cold]
    #[inline(never)]
    fn open(&mut self, source: usize, id: u64) {
        self.slots[source] = Slot {
            rng: self.detached(id),
            live: true,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// FNV-1a 64 reference values: the empty string is the offset basis, and
    /// "a" is (basis ^ 0x61) × prime = 0xaf63dc4c8601ec8c (published test
    /// vector); joining inserts exactly one ':'.
    #[test]
    fn stream_ids_are_fnv1a_of_the_joined_name() {
        assert_eq!(stream_id(&[""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stream_id(&["a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            stream_id(&["node_crash", "az-a-1", "every"]),
            stream_id(&["node_crash:az-a-1:every"])
        );
        assert_ne!(stream_id(&["ab", "c"]), stream_id(&["a", "bc"]));
    }

    /// A source's draws are Xoshiro256++ seeded from the run's seed and its
    /// own stream number, whatever other sources were drawn from, and in
    /// whatever order they were opened.
    #[test]
    fn a_source_draws_the_same_whatever_else_is_drawn() {
        let reference = |id: u64| {
            let mut r = SourceRng::seed_from_u64(mix(mix(42) ^ id));
            (0..5).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        let mut a = Streams::new(42);
        let mut b = Streams::new(42);
        // `a` interleaves two sources; `b` opens only the second, at another number.
        let mut got_a = Vec::new();
        for _ in 0..5 {
            got_a.push(a.get(3, || 7).next_u64());
            a.get(0, || 9).next_u64();
        }
        let got_b: Vec<u64> = (0..5).map(|_| b.get(12, || 7).next_u64()).collect();
        assert_eq!(got_a, reference(7));
        assert_eq!(got_b, reference(7));
        assert_ne!(reference(7), reference(9));
        assert_eq!(a.detached(9).next_u64(), reference(9)[0]);
    }
}
