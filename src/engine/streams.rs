//! Common random numbers: one random stream per named source.
//!
//! Every source of randomness a model has (a node's failure process, a
//! timing, a placement…) draws from a ChaCha8 stream of its own: the key is
//! derived from the run's seed, the ChaCha stream number is [`stream_id`] of
//! the source's canonical name. Two runs with the same seed therefore draw the
//! same numbers from every source they share, whatever else differs between
//! them (another design, another grid point, another source added), which is
//! what makes their difference precise.
//!
//! Streams are opened lazily, at a source's first draw of the run: opening
//! costs nothing but the name's hash, and a ChaCha block is generated only
//! when the stream is read.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A source not opened yet in this run.
const CLOSED: u32 = u32::MAX;

/// FNV-1a (64 bit) of `parts` joined by `:` — the ChaCha stream number of
/// the source whose canonical name that is (e.g. `node_crash:az-a-1:every`).
pub fn stream_id(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h = (h ^ u64::from(b':')).wrapping_mul(0x0100_0000_01b3);
        }
        for &b in p.as_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The run's random streams, indexed by a dense source number the model
/// chooses (the stream itself is chosen by the source's name).
pub struct Streams {
    key: [u8; 32],
    /// Source number → position in `open`, or [`CLOSED`].
    at: Vec<u32>,
    open: Vec<ChaCha8Rng>,
}

impl Streams {
    /// The streams of a run seeded with `seed` (the ChaCha8 key is
    /// `ChaCha8Rng::seed_from_u64(seed)`'s).
    pub fn new(seed: u64) -> Self {
        Streams {
            key: ChaCha8Rng::seed_from_u64(seed).get_seed(),
            at: Vec::new(),
            open: Vec::new(),
        }
    }

    /// The stream with ChaCha stream number `id`, not tracked (for a source a
    /// model keeps for itself, such as a placement).
    pub fn detached(&self, id: u64) -> ChaCha8Rng {
        let mut r = ChaCha8Rng::from_seed(self.key);
        r.set_stream(id);
        r
    }

    /// The stream of source number `source`; `id` gives its stream number the
    /// first time (so a name is hashed once per run, and only if drawn from).
    #[inline]
    pub fn get(&mut self, source: usize, id: impl FnOnce() -> u64) -> &mut ChaCha8Rng {
        match self.at.get(source) {
            Some(&p) if p != CLOSED => &mut self.open[p as usize],
            _ => self.open_source(source, id()),
        }
    }

    #[cold]
    #[inline(never)]
    fn open_source(&mut self, source: usize, id: u64) -> &mut ChaCha8Rng {
        if self.at.len() <= source {
            self.at.resize(source + 1, CLOSED);
        }
        self.at[source] = self.open.len() as u32;
        let r = self.detached(id);
        self.open.push(r);
        let last = self.open.len() - 1;
        &mut self.open[last]
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

    /// A source's draws are ChaCha8 with the run's key on its own stream
    /// number, whatever other sources were drawn from, and in whatever
    /// order they were opened.
    #[test]
    fn a_source_draws_the_same_whatever_else_is_drawn() {
        let reference = |id: u64| {
            let mut r = ChaCha8Rng::seed_from_u64(42);
            r.set_stream(id);
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
