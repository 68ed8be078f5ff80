//! Two subtraction-free solvers, so that relative accuracy survives rate
//! ratios of 10⁷ and more and probabilities far below 1e-16.
//!
//! - [`Fixpoint::gauss_seidel`]: Gauss–Seidel on a chain's regeneration-cycle
//!   equations, from below, with a verified upper bound (the default: a
//!   few dozen sweeps over the arcs when repairs outpace failures).
//! - [`stationary`] and [`mean_absorption_time`]: sparse GTH
//!   (Grassmann–Taksar–Heyman) elimination, states removed one at a time; the
//!   diagonal is never stored but re-summed from the remaining off-diagonal
//!   rates (Grassmann, Taksar & Heyman 1985; Stewart, *Introduction to the
//!   Numerical Solution of Markov Chains*, §2.7). Exact in finitely many
//!   steps whatever the rates, but fill-in makes it slow beyond a few thousand
//!   states; the fallback when Gauss–Seidel converges too slowly.

/// Off-diagonal rates by row (sorted by column), and for each column the rows
/// that ever had an entry in it (filtered lazily against `gone`).
struct Sparse {
    rows: Vec<Vec<(u32, f64)>>,
    preds: Vec<Vec<u32>>,
    gone: Vec<bool>,
    scratch: Vec<(u32, f64)>,
}

impl Sparse {
    fn new(n: usize, arcs: impl Iterator<Item = (u32, u32, f64)>) -> Sparse {
        let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
        for (i, j, r) in arcs {
            if i != j && r > 0.0 {
                rows[i as usize].push((j, r));
            }
        }
        for row in &mut rows {
            row.sort_unstable_by_key(|e| e.0);
            row.dedup_by(|b, a| {
                if a.0 == b.0 {
                    a.1 += b.1;
                    true
                } else {
                    false
                }
            });
        }
        let mut preds = vec![Vec::new(); n];
        for (i, row) in rows.iter().enumerate() {
            for &(j, _) in row {
                preds[j as usize].push(i as u32);
            }
        }
        Sparse {
            rows,
            preds,
            gone: vec![false; n],
            scratch: Vec::new(),
        }
    }

    /// Eliminates `k`: every remaining predecessor i gets k's successors,
    /// weighted by w = a_ik / s_k, by a linear merge of the two sorted rows;
    /// `also(i, w)` lets the caller carry extra columns.
    fn eliminate(&mut self, k: u32, s_k: f64, mut also: impl FnMut(u32, f64)) {
        let succ = std::mem::take(&mut self.rows[k as usize]);
        let preds = std::mem::take(&mut self.preds[k as usize]);
        self.gone[k as usize] = true;
        for i in preds {
            if self.gone[i as usize] {
                continue;
            }
            let mut row = std::mem::take(&mut self.rows[i as usize]);
            let Ok(pos) = row.binary_search_by_key(&k, |e| e.0) else {
                self.rows[i as usize] = row;
                continue;
            };
            let a_ik = row.remove(pos).1;
            let w = a_ik / s_k;
            also(i, w);
            // merged = row_i + w · row_k, dropping i's self-loop (GTH).
            let mut out = std::mem::take(&mut self.scratch);
            out.clear();
            let (mut x, mut y) = (0, 0);
            while x < row.len() || y < succ.len() {
                if y >= succ.len() || (x < row.len() && row[x].0 < succ[y].0) {
                    out.push(row[x]);
                    x += 1;
                } else if x >= row.len() || succ[y].0 < row[x].0 {
                    let (j, a_kj) = succ[y];
                    y += 1;
                    if j != i {
                        out.push((j, w * a_kj));
                        self.preds[j as usize].push(i);
                    }
                } else {
                    out.push((row[x].0, row[x].1 + w * succ[y].1));
                    x += 1;
                    y += 1;
                }
            }
            self.rows[i as usize] = out;
            self.scratch = row;
        }
    }

    fn out_rate(&self, k: u32) -> f64 {
        self.rows[k as usize].iter().map(|e| e.1).sum()
    }

    /// Eliminates `order` (which must not contain `keep`) one by one,
    /// calling `step(self, k)` for each. Returns the order used.
    fn eliminate_all(
        &mut self,
        order: &[u32],
        mut step: impl FnMut(&mut Sparse, u32) -> Result<(), String>,
    ) -> Result<Vec<u32>, String> {
        for &k in order {
            step(self, k)?;
        }
        Ok(order.to_vec())
    }
}

/// Stationary distribution of an irreducible CTMC given as arcs (i, j, rate),
/// eliminating the states in `order` (all but one); the state left anchors π.
pub fn stationary(
    n: usize,
    arcs: impl Iterator<Item = (u32, u32, f64)>,
    order: &[u32],
) -> Result<Vec<f64>, String> {
    let mut m = Sparse::new(n, arcs);
    let mut back: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    let mut kept = vec![true; n];
    for &k in order {
        kept[k as usize] = false;
    }
    let anchor = kept
        .iter()
        .position(|&k| k)
        .ok_or("no state left to anchor the distribution")? as u32;
    let order = m.eliminate_all(order, |m, k| {
        let s = m.out_rate(k);
        if s.is_nan() || s <= 0.0 {
            return Err(format!(
                "state {k} has no way out: the chain is not irreducible"
            ));
        }
        let mut col = Vec::new();
        m.eliminate(k, s, |i, w| col.push((i, w)));
        back[k as usize] = col;
        Ok(())
    })?;
    // π_k s_k = Σ_i π_i a_ik over the states left when k was eliminated.
    let mut pi = vec![0.0; n];
    pi[anchor as usize] = 1.0;
    for &k in order.iter().rev() {
        pi[k as usize] = back[k as usize]
            .iter()
            .map(|&(i, w)| pi[i as usize] * w)
            .sum();
    }
    let total: f64 = pi.iter().sum();
    if !(total.is_finite() && total > 0.0) {
        return Err("the stationary distribution could not be normalised".into());
    }
    Ok(pi.into_iter().map(|p| p / total).collect())
}

/// Mean time to absorption from `start`: `arcs` are transitions among the
/// transient states, `exit[i]` the rate from i into absorption; `order` lists
/// every transient state but `start`, each of which must reach absorption.
pub fn mean_absorption_time(
    n: usize,
    arcs: impl Iterator<Item = (u32, u32, f64)>,
    exit: &[f64],
    order: &[u32],
    start: u32,
) -> Result<f64, String> {
    let mut m = Sparse::new(n, arcs);
    let mut exit = exit.to_vec();
    // b_i: expected time to absorption accrued per unit of i's equation.
    let mut b = vec![1.0; n];
    m.eliminate_all(order, |m, k| {
        let s = m.out_rate(k) + exit[k as usize];
        if s.is_nan() || s <= 0.0 {
            return Err(format!("state {k} cannot reach data loss"));
        }
        let (e_k, b_k) = (exit[k as usize], b[k as usize]);
        m.eliminate(k, s, |i, w| {
            exit[i as usize] += w * e_k;
            b[i as usize] += w * b_k;
        });
        Ok(())
    })?;
    let s = m.out_rate(start) + exit[start as usize];
    if s.is_nan() || s <= 0.0 {
        return Err("data loss cannot be reached from the start".into());
    }
    Ok(b[start as usize] / s)
}

/// A monotone affine map x ↦ F(x), F(x)_k = (c_k + Σ_j w_kj x_j) / d_k with
/// w, c ≥ 0 and d > 0, whose linear part has spectral radius below one: the
/// equations of a Markov chain's cycle (time spent in each state between
/// visits to a regeneration state, or the chance of an exit before returning).
pub struct Fixpoint {
    ptr: Vec<usize>,
    col: Vec<u32>,
    w: Vec<f64>,
    c: Vec<f64>,
    d: Vec<f64>,
}

/// Componentwise bounds lo ≤ x* ≤ hi on the solution of a [`Fixpoint`].
#[derive(Clone, Debug)]
pub struct Bracket {
    /// Lower bounds (the Gauss–Seidel iterate).
    pub lo: Vec<f64>,
    /// Upper bounds (a verified super-solution).
    pub hi: Vec<f64>,
    /// Sweeps used.
    pub sweeps: usize,
}

/// How far below F(y) a super-solution candidate y may fall and still pass:
/// the rounding of one evaluation of F (tens of terms at 1.1e-16 each).
const ROUNDING: f64 = 1e-14;

impl Fixpoint {
    /// F over `n` unknowns from terms (k, j, w_kj); `c`, `d` as above.
    pub fn new(
        n: usize,
        terms: impl Iterator<Item = (u32, u32, f64)>,
        c: Vec<f64>,
        d: Vec<f64>,
    ) -> Fixpoint {
        let terms: Vec<(u32, u32, f64)> = terms.filter(|t| t.2 > 0.0).collect();
        let mut ptr = vec![0usize; n + 1];
        for t in &terms {
            ptr[t.0 as usize + 1] += 1;
        }
        for k in 0..n {
            ptr[k + 1] += ptr[k];
        }
        let mut fill = ptr.clone();
        let mut col = vec![0u32; terms.len()];
        let mut w = vec![0.0; terms.len()];
        for (k, j, x) in terms {
            let at = fill[k as usize];
            col[at] = j;
            w[at] = x;
            fill[k as usize] += 1;
        }
        Fixpoint { ptr, col, w, c, d }
    }

    #[inline]
    fn eval(&self, k: usize, x: &[f64]) -> f64 {
        let (a, b) = (self.ptr[k], self.ptr[k + 1]);
        let mut sum = self.c[k];
        for (&j, &w) in self.col[a..b].iter().zip(&self.w[a..b]) {
            sum += w * x[j as usize];
        }
        sum / self.d[k]
    }

    /// Gauss–Seidel from x = 0 in `order` (every unknown once). Starting below
    /// the solution, every iterate stays below it and rises monotonically, with
    /// no subtraction, so each component keeps its relative accuracy however
    /// small it is. After each sweep the iterate plus its extrapolated
    /// remaining rise is tried as an upper bound: y ≥ F(y) implies y ≥ x*
    /// (F is monotone and contracting), up to rounding. Stops when every
    /// component is bracketed within `tol` relative; `None` after `max_sweeps`,
    /// or from sweep 50 on as soon as the budget looks too small.
    pub fn gauss_seidel(&self, order: &[u32], tol: f64, max_sweeps: usize) -> Option<Bracket> {
        let n = self.c.len();
        let mut x = vec![0.0; n];
        let mut rise = vec![0.0; n];
        let mut prev = vec![0.0; n];
        for sweep in 1..=max_sweeps {
            std::mem::swap(&mut rise, &mut prev);
            let mut worst: f64 = 0.0;
            for &k in order {
                let k = k as usize;
                let new = self.eval(k, &x);
                rise[k] = (new - x[k]).max(0.0);
                if new > 0.0 {
                    worst = worst.max(rise[k] / new);
                }
                x[k] = new;
            }
            if worst > tol {
                // Give up early when the sweeps still needed, at the rate the
                // total rise is shrinking, would exceed the budget.
                let (now, before): (f64, f64) = (rise.iter().sum(), prev.iter().sum());
                let rho = now / before;
                if sweep >= 50 && rho < 1.0 {
                    let needed = (tol / worst).ln() / rho.ln();
                    if sweep as f64 + needed > max_sweeps as f64 {
                        return None;
                    }
                }
                continue;
            }
            if sweep < 2 {
                continue;
            }
            // Contraction factor of the last sweep, estimated from the rises.
            let mut rho: f64 = 0.0;
            for k in 0..n {
                if rise[k] > 0.0 {
                    if prev[k] <= 0.0 {
                        rho = f64::INFINITY;
                        break;
                    }
                    rho = rho.max(rise[k] / prev[k]);
                }
            }
            if rho >= 1.0 {
                continue;
            }
            let ext = rho / (1.0 - rho);
            let hi: Vec<f64> = (0..n).map(|k| x[k] + ext * rise[k]).collect();
            let within = (0..n).all(|k| hi[k] <= x[k] * (1.0 + tol));
            if within && (0..n).all(|k| hi[k] >= self.eval(k, &hi) * (1.0 - ROUNDING)) {
                return Some(Bracket {
                    lo: x,
                    hi,
                    sweeps: sweep,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_state_chain() {
        // Up → down at λ, down → up at μ: π_up = μ/(λ+μ), exactly, even at 1e-9 vs 1e3.
        let (l, mu) = (1e-9, 1e3);
        let pi = stationary(2, [(0, 1, l), (1, 0, mu)].into_iter(), &[1]).unwrap();
        assert!(
            (pi[1] - l / (l + mu)).abs() / (l / (l + mu)) < 1e-14,
            "{pi:?}"
        );
    }

    #[test]
    fn birth_death_chain_against_closed_form() {
        // 0 ⇄ 1 ⇄ 2 ⇄ 3 with up-rates a and down-rates b: π_k ∝ (a/b)^k.
        let (a, b) = (2e-7, 3.0);
        let arcs: Vec<(u32, u32, f64)> = (0..3)
            .flat_map(|k| [(k, k + 1, a), (k + 1, k, b)])
            .collect();
        let pi = stationary(4, arcs.into_iter(), &[3, 2, 1]).unwrap();
        let rho: f64 = a / b;
        let z: f64 = (0..4).map(|k| rho.powi(k)).sum();
        for (k, &p) in pi.iter().enumerate() {
            let exact = rho.powi(k as i32) / z;
            assert!((p - exact).abs() / exact < 1e-13, "π_{k} = {p} vs {exact}");
        }
    }

    #[test]
    fn mttdl_of_two_replicas_matches_closed_form() {
        // States: 0 = both up, 1 = one lost (repairing). 0 → 1 at 2l, 1 → 0 at r,
        // 1 → loss at l. MTTDL from 0 = (3l + r) / (2 l²).
        let (l, r) = (1.0 / (3.0 * 365.0 * 86400.0), 1.0 / 10.0);
        let exit = [0.0, l];
        let m = mean_absorption_time(2, [(0, 1, 2.0 * l), (1, 0, r)].into_iter(), &exit, &[1], 0)
            .unwrap();
        let exact = (3.0 * l + r) / (2.0 * l * l);
        assert!((m - exact).abs() / exact < 1e-13, "{m} vs {exact}");
    }

    /// Cycle times of a birth–death chain 0 ⇄ 1 ⇄ 2 ⇄ 3 (up a, down b) from
    /// state 0: v_k = (a/b)^k, detailed balance. At a/b = 1e-7, v_3 = 1e-21
    /// must still come out to full relative accuracy and inside the bracket.
    #[test]
    fn gauss_seidel_brackets_birth_death_cycle_times() {
        let (a, b) = (1e-7, 1.0);
        // Unknowns 1..3; v_0 = 1 enters as the constant of state 1.
        let c = vec![0.0, a, 0.0, 0.0];
        let d = vec![1.0, a + b, a + b, b];
        let terms = [(1, 2, b), (2, 1, a), (2, 3, b), (3, 2, a)];
        let f = Fixpoint::new(4, terms.into_iter(), c, d);
        let got = f.gauss_seidel(&[1, 2, 3], 1e-13, 100).unwrap();
        for k in 1..4 {
            let exact = (a / b).powi(k as i32);
            assert!(got.lo[k] <= exact * (1.0 + 1e-15), "{k}: {:?}", got.lo);
            assert!(got.hi[k] >= exact * (1.0 - 1e-15), "{k}: {:?}", got.hi);
            assert!((got.lo[k] - exact).abs() / exact < 1e-13);
        }
        assert!(got.sweeps < 10, "fast at rate ratio 1e-7: {}", got.sweeps);
    }

    /// x0 = 1 + (1 − 1e-6) x1, x1 = x0: the solution is 1e6 but each sweep
    /// closes only 1e-6 of the gap, so the budget runs out: no answer.
    #[test]
    fn gauss_seidel_gives_up_when_too_slow() {
        let terms = [(0, 1, 1.0 - 1e-6), (1, 0, 1.0)];
        let f = Fixpoint::new(2, terms.into_iter(), vec![1.0, 0.0], vec![1.0, 1.0]);
        assert!(f.gauss_seidel(&[0, 1], 1e-12, 1000).is_none());
        // A faster one converges to the closed form 1 / (1 − 0.5) = 2.
        let terms = [(0, 1, 0.5), (1, 0, 1.0)];
        let f = Fixpoint::new(2, terms.into_iter(), vec![1.0, 0.0], vec![1.0, 1.0]);
        let got = f.gauss_seidel(&[0, 1], 1e-12, 1000).unwrap();
        assert!((got.lo[0] - 2.0).abs() < 1e-11 && got.hi[0] >= 2.0 - 1e-15);
    }
}
