//! Interval estimates and exact accumulators for Monte Carlo results.
//!
//! Sums over trials are kept as exact integers (µs, and µs² in 256 bits), so
//! they are the same whatever order trials finish in: any thread count, any
//! split into shards, gives the same bytes.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// z for a two-sided 95 % normal interval: Φ⁻¹(0.975).
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval for `k` successes in `n` trials at 95 %:
/// (p + z²/2n ± z √(p(1−p)/n + z²/4n²)) / (1 + z²/n). Well defined at k = 0
/// (low = 0) and k = n (high = 1), unlike the normal (Wald) interval.
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // Exact ends at the edges (the formula gives them up to rounding).
    let low = if k == 0.0 {
        0.0
    } else {
        (center - half).max(0.0)
    };
    let high = if k == n {
        1.0
    } else {
        (center + half).min(1.0)
    };
    (low, high)
}

/// Two-sided 95 % Student-t quantile t_{0.975, df}.
///
/// statrs's inverse CDF is exact to ~1e-10 up to df ≈ 10⁴ but drifts above
/// (1.95985 at df = 10⁶); there the Cornish–Fisher expansion
/// t ≈ z + (z³ + z)/4ν + (5z⁵ + 16z³ + 3z)/96ν² is accurate to < 1e-12.
pub fn t95(df: f64) -> f64 {
    if df > 1e4 {
        let z = Z95;
        let (z3, z5) = (z.powi(3), z.powi(5));
        return z + (z3 + z) / (4.0 * df) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df);
    }
    StudentsT::new(0.0, 1.0, df)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

/// A 256-bit unsigned accumulator for sums of squares of µs values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct U256 {
    /// High 128 bits.
    pub hi: u128,
    /// Low 128 bits.
    pub lo: u128,
}

impl U256 {
    /// Adds a 128-bit value.
    pub fn add(&mut self, x: u128) {
        let (lo, carry) = self.lo.overflowing_add(x);
        self.lo = lo;
        self.hi = self.hi.wrapping_add(carry as u128);
    }

    /// Adds another accumulator.
    pub fn add_u256(&mut self, o: U256) {
        self.add(o.lo);
        self.hi = self.hi.wrapping_add(o.hi);
    }

    /// The value as f64 (rounded).
    pub fn to_f64(self) -> f64 {
        self.hi as f64 * 2f64.powi(128) + self.lo as f64
    }

    /// `hi:lo` in hex, for partial files.
    pub fn to_hex(self) -> String {
        format!("{:x}:{:x}", self.hi, self.lo)
    }

    /// Parses [`U256::to_hex`].
    pub fn from_hex(s: &str) -> Option<U256> {
        let (h, l) = s.split_once(':')?;
        Some(U256 {
            hi: u128::from_str_radix(h, 16).ok()?,
            lo: u128::from_str_radix(l, 16).ok()?,
        })
    }
}

/// Exact sums of one per-trial quantity (µs): count, Σx, Σx².
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Moments {
    /// Σx.
    pub sum: u128,
    /// Σx².
    pub sum_sq: U256,
}

impl Moments {
    /// Adds one observation.
    pub fn add(&mut self, x: u64) {
        self.sum += x as u128;
        self.sum_sq.add(x as u128 * x as u128);
    }

    /// Adds another set of sums.
    pub fn merge(&mut self, o: &Moments) {
        self.sum += o.sum;
        self.sum_sq.add_u256(o.sum_sq);
    }

    /// Mean and 95 % t-interval of `1 − x/scale` over `n` observations
    /// (the availability when x is unavailable µs and scale the horizon):
    /// mean ± t_{0.975,n−1} · s/√n, clamped to [0, 1]. No interval for n < 2.
    pub fn availability(&self, n: u64, scale: f64) -> (f64, Option<(f64, f64)>) {
        let nf = n as f64;
        let mean_x = self.sum as f64 / nf;
        let mean = 1.0 - mean_x / scale;
        if n < 2 {
            return (mean, None);
        }
        let var_x = ((self.sum_sq.to_f64() - self.sum as f64 * mean_x) / (nf - 1.0)).max(0.0);
        let half = t95(nf - 1.0) * var_x.sqrt() / nf.sqrt() / scale;
        (mean, Some(((mean - half).max(0.0), (mean + half).min(1.0))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_edges_by_hand() {
        // 0 of 100: low 0, high z²/(n + z²) = 3.8415/103.8415 = 0.036994…
        let (lo, hi) = wilson(0, 100);
        assert_eq!(lo, 0.0);
        assert!((hi - Z95 * Z95 / (100.0 + Z95 * Z95)).abs() < 1e-15);
        assert!((hi - 0.036_994_4).abs() < 1e-6);
        // 100 of 100: mirror image.
        let (lo, hi) = wilson(100, 100);
        assert_eq!(hi, 1.0);
        assert!((lo - 100.0 / (100.0 + Z95 * Z95)).abs() < 1e-15);
        // 10 of 100: the textbook value (Newcombe 1998, table I style) 0.0552 – 0.1744.
        let (lo, hi) = wilson(10, 100);
        assert!(
            (lo - 0.055_2).abs() < 1e-4 && (hi - 0.174_4).abs() < 1e-4,
            "{lo} {hi}"
        );
    }

    #[test]
    fn t_quantiles() {
        // Tables: t_{0.975,1} = 12.706, t_{0.975,10} = 2.228, t_{0.975,∞} → 1.960.
        assert!((t95(1.0) - 12.706_2).abs() < 1e-3);
        assert!((t95(10.0) - 2.228_1).abs() < 1e-3);
        // Large df: t_{0.975,10⁴} = 1.9602012 (tables); 10⁶ → z + 2.4e-6.
        assert!((t95(1e4) - 1.960_201_2).abs() < 1e-6);
        assert!(
            (t95(10_001.0) - 1.960_201_2).abs() < 1e-6,
            "continuous at the switch"
        );
        assert!((t95(1e6) - Z95 - 2.372e-6).abs() < 1e-8);
    }

    #[test]
    fn moments_give_mean_and_interval() {
        // x = 0, 10, 20 µs of a 100 µs scale: availabilities 1, 0.9, 0.8 → mean
        // 0.9, s = 0.1, half = t_{0.975,2} · 0.1/√3 = 4.3027 · 0.057735 = 0.24842.
        let mut m = Moments::default();
        for x in [0, 10, 20] {
            m.add(x);
        }
        let (mean, ci) = m.availability(3, 100.0);
        let (lo, hi) = ci.unwrap();
        assert!((mean - 0.9).abs() < 1e-12);
        assert!((hi - 1.0).abs() < 1e-12, "clamped at 1");
        assert!((lo - (0.9 - 0.248_42)).abs() < 1e-4, "{lo}");
    }

    #[test]
    fn u256_carries() {
        let mut a = U256 {
            hi: 0,
            lo: u128::MAX,
        };
        a.add(1);
        assert_eq!(a, U256 { hi: 1, lo: 0 });
        assert_eq!(U256::from_hex(&a.to_hex()), Some(a));
    }
}
