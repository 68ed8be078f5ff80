//! A tiny deterministic generator (SplitMix64): the fuzzer's inputs must not
//! change when a dependency's RNG changes its stream.

/// SplitMix64 state, and how often generators pick an odd value.
pub struct Rng(u64, f64);

/// SplitMix64 finaliser: a bijective 64-bit mix.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// The generator of input `index` of a campaign with `seed`.
    pub fn for_input(seed: u64, index: u64) -> Rng {
        Rng(mix(mix(seed) ^ index), 0.0)
    }

    /// A generator seeded directly.
    pub fn new(seed: u64) -> Rng {
        Rng(mix(seed), 0.0)
    }

    /// Sets the chance that a generator picks an odd value over a valid one.
    pub fn set_odd(&mut self, p: f64) {
        self.1 = p;
    }

    /// True when the next value should be an odd one.
    pub fn odd(&mut self) -> bool {
        let p = self.1;
        self.chance(p)
    }

    /// 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when n = 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            ((self.next() as u128 * n as u128) >> 64) as u64
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }

    /// A uniformly chosen element.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// A uniform float in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}
