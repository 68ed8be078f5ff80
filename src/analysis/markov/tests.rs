//! `analyze` against closed forms and against simulation.

use super::{AnalyzeError, Solver, analyze, analyze_with};
use crate::analysis::run::{first_loss, simulate};
use crate::scenario::{Overrides, parse};
use crate::time::SimTime;

fn exact(src: &str) -> super::Analysis {
    let sc = parse(src, "t.toml", &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    analyze(&sc.config, false).unwrap_or_else(|e| panic!("{e:?}"))
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// P(at least m of n up), each up with probability a.
fn binomial_tail(n: u32, m: u32, a: f64) -> f64 {
    (m..=n).map(|k| binomial(n, k, a, 1.0 - a)).sum()
}

/// P(fewer than m of n up), up with probability a, down with b = 1 − a
/// (given separately so that a tiny b keeps its digits), summed directly.
fn binomial_below(n: u32, m: u32, a: f64, b: f64) -> f64 {
    (0..m).map(|k| binomial(n, k, a, b)).sum()
}

/// P(exactly k of n up).
fn binomial(n: u32, k: u32, a: f64, b: f64) -> f64 {
    let choose = (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
    choose * a.powi(k as i32) * b.powi((n - k) as i32)
}

/// Six independent nodes, each up with probability `up`: writes need 4 up,
/// reads 3, so the availabilities are binomial tails (to 1e-12 relative).
fn independent_nodes(a: &super::Analysis, up: f64) {
    for (got, m) in [(a.write_availability, 4), (a.read_availability, 3)] {
        let exact = binomial_tail(6, m, up);
        assert!(rel(got, exact) < 1e-12, "≥ {m} up: {got} vs {exact}");
    }
}

/// V crash-only nodes are independent: P(≥ m up) is a binomial tail with
/// a = U/(U+D). The unavailability is compared as the lower tail, summed
/// directly, to keep relative accuracy.
#[test]
fn crash_only_nodes_give_binomial_availability() {
    let a =
        exact("name = \"t\"\nhorizon = \"1y\"\n[failures.node_crash]\nevery = 1000\nlasts = 100\n");
    let up = 1000.0 / 1100.0;
    independent_nodes(&a, up);
    assert_eq!(a.mttdl_seconds, None, "crashes alone never lose data");
    // Crashed replicas also carry their stale rank (who crashed first), so the
    // chain is larger than the 2^6 up/down patterns; symmetry must shrink it.
    assert!(
        (a.states as f64) < a.states_before_symmetry / 10.0,
        "{} vs {}",
        a.states,
        a.states_before_symmetry
    );
}

/// The same on 3 AZs × 3 nodes (V = 9, writes 6/9, reads 4/9), with AZ
/// outages too rare to matter... no: without them, so nodes stay independent.
#[test]
fn nine_crash_only_nodes_give_binomial_availability() {
    let a = exact(
        "name = \"t\"\nhorizon = \"1y\"\n[cluster]\nnodes_per_az = 3\nwrite_quorum = 6\nread_quorum = 4\n[failures.node_crash]\nevery = \"30d\"\nlasts = \"1h\"\n",
    );
    let (up, down) = (720.0 / 721.0, 1.0 / 721.0);
    assert!(matches!(a.solver, Solver::GaussSeidel { .. }));
    let (w, r) = (
        binomial_below(9, 6, up, down),
        binomial_below(9, 4, up, down),
    );
    assert!(
        rel(a.write_unavailability, w) < 1e-12,
        "{} vs {w}",
        a.write_unavailability
    );
    assert!(
        rel(a.read_unavailability, r) < 1e-12,
        "{} vs {r}",
        a.read_unavailability
    );
}

#[test]
fn tiny_unavailability_keeps_relative_accuracy() {
    // Crash every 10 years for 10 s: q = D/(U+D) ≈ 3.2e-8. Writes fail with ≥ 3
    // of 6 down: ≈ C(6,3) q³ ≈ 6.4e-22. 1 − a would be 0 in f64; the
    // subtraction-free solver keeps it.
    let a = exact(
        "name = \"t\"\nhorizon = \"1y\"\n[failures.node_crash]\nevery = \"10y\"\nlasts = 10\n",
    );
    let (u, d) = (10.0 * 365.0 * 86400.0, 10.0f64);
    let q = d / (u + d);
    let lower = |m: u32| {
        (0..m)
            .map(|k| {
                let choose = (0..k).fold(1.0, |acc, i| acc * (6 - i) as f64 / (i + 1) as f64);
                choose * (1.0 - q).powi(k as i32) * q.powi(6 - k as i32)
            })
            .sum::<f64>()
    };
    assert!(
        rel(a.write_unavailability, lower(4)) < 1e-9,
        "{} vs {}",
        a.write_unavailability,
        lower(4)
    );
    assert!(rel(a.read_unavailability, lower(3)) < 1e-9);
    assert!(a.write_unavailability > 1e-22 && a.write_unavailability < 1e-21);
}

#[test]
fn one_replica_is_up_u_over_u_plus_d() {
    let a = exact(
        "name = \"t\"\nhorizon = \"1y\"\n[cluster]\nazs = [\"a\"]\nnodes_per_az = 1\nwrite_quorum = 1\nread_quorum = 1\n[failures.node_crash]\nevery = \"30d\"\nlasts = \"2h\"\n",
    );
    let (u, d) = (30.0 * 24.0, 2.0);
    assert!(rel(a.write_availability, u / (u + d)) < 1e-13);
    assert!(rel(a.write_unavailability, d / (u + d)) < 1e-12);
}

/// Two replicas (write quorum 2), each lost at rate l, repaired at rate r:
/// 2 → 1 at 2l, 1 → 2 at r, 1 → loss at l; MTTDL = (3l + r) / (2l²).
/// With l = 1/(3 y) and r = 1/(10 s) the rates differ by 10⁷.
#[test]
fn two_replica_mttdl_closed_form() {
    let a = exact(
        "name = \"t\"\nhorizon = \"1y\"\n[cluster]\nazs = [\"a\", \"b\"]\nnodes_per_az = 1\nwrite_quorum = 2\nread_quorum = 1\nrepair_time = { dist = \"exponential\", mean = \"10s\" }\nrestore_time = { dist = \"exponential\", mean = \"1h\" }\n[failures.node_loss]\nevery = \"3y\"\n",
    );
    let (l, r) = (1.0 / (3.0 * 365.0 * 86400.0), 0.1);
    let exact = (3.0 * l + r) / (2.0 * l * l);
    assert!(
        rel(a.mttdl_seconds.unwrap(), exact) < 1e-9,
        "{:?} vs {exact}",
        a.mttdl_seconds
    );
}

#[test]
fn non_exponential_timings_are_refused_or_approximated() {
    let src = "name = \"t\"\nhorizon = \"1y\"\n[failures.node_loss]\nevery = { dist = \"weibull\", shape = 0.7, scale = \"4y\" }\n";
    let sc = parse(src, "t.toml", &Overrides::default()).unwrap();
    match analyze(&sc.config, false) {
        Err(AnalyzeError::NotExponential(s)) => {
            assert_eq!(s[0].timing.key(), "failures.node_loss.every")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let a = analyze(&sc.config, true).unwrap();
    let keys: Vec<&str> = a.substitutions.iter().map(|s| s.timing.key()).collect();
    // The Weibull, and the fixed defaults the chain reaches: repair (8.59 s) and,
    // since all six copies can be lost, restore (1 h).
    assert_eq!(
        keys,
        [
            "failures.node_loss.every",
            "cluster.repair_time",
            "cluster.restore_time"
        ]
    );
    // Mean of Weibull(0.7, 4 y) = 4 y · Γ(1 + 1/0.7) = 4 y · 1.26582.
    assert!(
        rel(
            a.substitutions[0].mean_secs,
            4.0 * 365.0 * 86400.0 * 1.265_823
        ) < 1e-5
    );
}

/// The default layout with all four processes, accelerated (repair 1 d,
/// node loss every 5 d) so that simulation sees losses.
const ALL_FOUR_FAST: &str = r#"
name = "t"
horizon = "1y"
[cluster]
repair_time = { dist = "exponential", mean = "1d" }
restore_time = { dist = "exponential", mean = "6h" }
[failures.node_crash]
every = "20d"
lasts = "12h"
[failures.node_loss]
every = "5d"
[failures.az_outage]
every = "30d"
lasts = "1d"
[failures.az_loss]
every = "100d"
lasts = "1d"
"#;

/// Three replicas, one per AZ, with catch-up and give-up.
const CATCH_UP_3X1: &str = r#"
name = "t"
horizon = "1y"
[cluster]
azs = ["x", "y", "z"]
nodes_per_az = 1
write_quorum = 2
read_quorum = 2
catchup_time = { dist = "exponential", mean = "3h" }
replace_down_after = { dist = "exponential", mean = "1d" }
repair_time = { dist = "exponential", mean = "12h" }
restore_time = { dist = "exponential", mean = "4h" }
[failures.node_crash]
every = "4d"
lasts = "1d"
[failures.node_loss]
every = "8d"
"#;

/// Two AZs of two nodes with AZ outages.
const AZ_OUTAGES_2X2: &str = r#"
name = "t"
horizon = "1y"
[cluster]
azs = ["p", "q"]
nodes_per_az = 2
write_quorum = 3
read_quorum = 2
repair_time = { dist = "exponential", mean = "6h" }
restore_time = { dist = "exponential", mean = "2h" }
[failures.node_crash]
every = "10d"
lasts = "6h"
[failures.node_loss]
every = "10d"
[failures.az_outage]
every = "20d"
lasts = "8h"
"#;

/// Mean and 99 % normal half-width of a sample.
fn mean_ci99(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (m, 2.575_829 * sd / n.sqrt())
}

/// Simulated availability (per-trial time averages over `horizon`) and time
/// to first loss (trials stopped at their first loss) must bracket the exact
/// values within 99 % intervals. Fixed seeds: deterministic. Returns the
/// simulated write unavailability and its 99 % half-width.
pub(super) fn agrees_with_simulation(
    src: &str,
    trials: u64,
    horizon: SimTime,
    loss_trials: u64,
) -> (f64, f64) {
    let sc = parse(src, "t.toml", &Overrides::default()).unwrap();
    let a = analyze(&sc.config, false).unwrap();
    let h = horizon.0 as f64;
    let mut wu = Vec::new();
    let mut ru = Vec::new();
    for seed in 0..trials {
        let st = simulate(&sc.config, seed, horizon).unwrap();
        wu.push(st.write.total.0 as f64 / h);
        ru.push(st.read.total.0 as f64 / h);
    }
    let (m, hw) = mean_ci99(&wu);
    let write = (m, hw);
    assert!(
        (m - a.write_unavailability).abs() <= hw,
        "write: sim {m} ± {hw}, exact {}",
        a.write_unavailability
    );
    let (m, hw) = mean_ci99(&ru);
    assert!(
        (m - a.read_unavailability).abs() <= hw,
        "read: sim {m} ± {hw}, exact {}",
        a.read_unavailability
    );
    if let Some(mttdl) = a.mttdl_seconds {
        let cap = SimTime::from_secs_f64(mttdl * 200.0); // P(no loss by 200 × MTTDL) is negligible
        let times: Vec<f64> = (0..loss_trials)
            .map(|seed| {
                first_loss(&sc.config, 1_000_000 + seed, cap)
                    .unwrap()
                    .expect("a loss")
                    .as_secs_f64()
            })
            .collect();
        let (m, hw) = mean_ci99(&times);
        assert!(
            (m - mttdl).abs() <= hw,
            "mttdl: sim {m} ± {hw}, exact {mttdl}"
        );
    }
    write
}

#[test]
fn default_layout_all_four_processes_agrees_with_simulation() {
    agrees_with_simulation(
        ALL_FOUR_FAST,
        200,
        SimTime::from_secs_f64(2.0 * 365.0 * 86400.0),
        400,
    );
}

#[test]
fn three_replicas_with_catch_up_and_give_up_agree_with_simulation() {
    agrees_with_simulation(
        CATCH_UP_3X1,
        200,
        SimTime::from_secs_f64(365.0 * 86400.0),
        400,
    );
}

#[test]
fn two_by_two_with_az_outages_agrees_with_simulation() {
    agrees_with_simulation(
        AZ_OUTAGES_2X2,
        200,
        SimTime::from_secs_f64(365.0 * 86400.0),
        400,
    );
}

/// The default layout with all four processes at real rates: crash twice a
/// year for 10 min, loss every 5 y, AZ outage every 2 y for 2 h, AZ loss every
/// 100 y for 6 h; repair 8.6 s and restore 1 h (exponential).
const ALL_FOUR_REAL: &str = include_str!("../../../scenarios/all-four.toml");

/// Two independent solutions of the same chain: Gauss–Seidel on the cycle
/// equations (with Wald's identity for the MTTDL) and GTH elimination of the
/// generator (with absorption times). They share only the state space.
#[test]
fn gauss_seidel_agrees_with_elimination() {
    for src in [ALL_FOUR_REAL, ALL_FOUR_FAST, CATCH_UP_3X1, AZ_OUTAGES_2X2] {
        let sc = parse(src, "t.toml", &Overrides::default()).unwrap();
        let gs = analyze_with(&sc.config, false, true).unwrap();
        let el = analyze_with(&sc.config, false, false).unwrap();
        assert!(
            matches!(gs.solver, Solver::GaussSeidel { bound, .. } if bound < 1e-11),
            "{:?}",
            gs.solver
        );
        assert_eq!(el.solver, Solver::Elimination);
        for (a, b) in [
            (gs.write_unavailability, el.write_unavailability),
            (gs.read_unavailability, el.read_unavailability),
            (gs.mttdl_seconds.unwrap(), el.mttdl_seconds.unwrap()),
        ] {
            assert!(rel(a, b) < 1e-10, "{a} vs {b}");
        }
    }
}

/// With nodes down 24 times longer than up, the all-up start state is rare
/// and Gauss–Seidel from it converges too slowly: elimination takes over.
#[test]
fn slow_convergence_falls_back_to_elimination() {
    let a = exact(
        "name = \"t\"\nhorizon = \"1y\"\n[failures.node_crash]\nevery = \"1h\"\nlasts = \"1d\"\n",
    );
    assert_eq!(a.solver, Solver::Elimination);
    // Still independent nodes, each up 1/25 of the time.
    let up = 1.0 / 25.0;
    independent_nodes(&a, up);
}

/// No failure process: one state, always available, no loss — and the
/// unavailability prints as 0, not "-0" (an empty f64 sum is −0).
#[test]
fn no_failures_is_one_always_available_state() {
    let a = exact("name = \"t\"\nhorizon = \"1y\"\n");
    assert_eq!(a.states, 1);
    for u in [a.write_unavailability, a.read_unavailability] {
        assert!(u == 0.0 && u.is_sign_positive(), "{u}");
    }
    assert_eq!(a.mttdl_seconds, None);
}

/// States are expanded and the three cycle systems solved on several threads;
/// the numbering, and so every figure, must not depend on how many.
#[test]
fn same_figures_on_any_number_of_threads() {
    let sc = parse(ALL_FOUR_REAL, "t.toml", &Overrides::default()).unwrap();
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        format!("{:?}", pool.install(|| analyze(&sc.config, false).unwrap()))
    };
    let one = on(1);
    assert_eq!(one, on(2));
    assert_eq!(one, on(5));
}

mod random_chains {
    //! Random exponential scenarios on small layouts, every rule in play
    //! (detection, catch-up, give-up, restore), rates spread over eight orders
    //! of magnitude: the two solvers must agree wherever Gauss–Seidel answers.
    use super::*;
    use proptest::prelude::*;

    /// A mean between 10^lo and 10^hi seconds, log-uniform.
    fn mean_in(lo: f64, hi: f64) -> impl Strategy<Value = String> {
        (lo..hi).prop_map(|e| format!("\"{:.3}s\"", 10f64.powf(e)))
    }

    /// A duration: 1 s to ~1 day.
    fn mean() -> impl Strategy<Value = String> {
        mean_in(0.0, 5.0)
    }

    /// Time between failures: ~15 min to ~3 years (sometimes faster than
    /// the repairs, mostly slower).
    fn every() -> impl Strategy<Value = String> {
        mean_in(3.0, 8.0)
    }

    /// Zero (instantaneous) or exponential.
    fn cluster_timing() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("\"0s\"".to_string()),
            mean().prop_map(|m| format!("{{ dist = \"exponential\", mean = {m} }}")),
        ]
    }

    fn scenario() -> impl Strategy<Value = String> {
        let layout = prop::sample::select(vec![
            (2usize, 1usize, 2u32, 1u32),
            (3, 1, 2, 2),
            (3, 1, 3, 1),
            (2, 2, 3, 2),
            (1, 3, 2, 2),
        ]);
        (
            layout,
            (cluster_timing(), cluster_timing(), cluster_timing()),
            (mean(), mean()),
            (every(), mean(), every(), every(), mean(), every(), mean()),
        )
            .prop_map(
                |((azs, per, w, r), (detect, catchup, giveup), (repair, restore), f)| {
                    let names: Vec<String> = (0..azs).map(|a| format!("\"z{a}\"")).collect();
                    let give = match giveup.as_str() {
                        "\"0s\"" => String::new(),
                        g => format!("replace_down_after = {g}\n"),
                    };
                    format!(
                        "name = \"r\"\nhorizon = \"1y\"\n[cluster]\nazs = [{}]\nnodes_per_az = {per}\n\
                         write_quorum = {w}\nread_quorum = {r}\ndetection_delay = {detect}\n\
                         catchup_time = {catchup}\n{give}\
                         repair_time = {{ dist = \"exponential\", mean = {repair} }}\n\
                         restore_time = {{ dist = \"exponential\", mean = {restore} }}\n\
                         [failures.node_crash]\nevery = {}\nlasts = {}\n\
                         [failures.node_loss]\nevery = {}\n\
                         [failures.az_outage]\nevery = {}\nlasts = {}\n\
                         [failures.az_loss]\nevery = {}\nlasts = {}\n",
                        names.join(", "),
                        f.0,
                        f.1,
                        f.2,
                        f.3,
                        f.4,
                        f.5,
                        f.6
                    )
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn gauss_seidel_agrees_with_elimination(src in scenario()) {
            let sc = parse(&src, "r.toml", &Overrides::default()).unwrap_or_else(|e| panic!("{e}\n{src}"));
            let gs = analyze_with(&sc.config, false, true).unwrap();
            let el = analyze_with(&sc.config, false, false).unwrap();
            if let Solver::GaussSeidel { .. } = gs.solver {
                let close = |a: f64, b: f64| a == b || rel(a, b) < 1e-9;
                prop_assert!(close(gs.write_unavailability, el.write_unavailability), "{:?} vs {:?}\n{src}", gs, el);
                prop_assert!(close(gs.read_unavailability, el.read_unavailability), "{:?} vs {:?}\n{src}", gs, el);
                prop_assert!(close(gs.write_availability, el.write_availability), "{:?} vs {:?}\n{src}", gs, el);
                match (gs.mttdl_seconds, el.mttdl_seconds) {
                    (Some(a), Some(b)) => prop_assert!(close(a, b), "{a} vs {b}\n{src}"),
                    (a, b) => prop_assert_eq!(a, b),
                }
            }
        }
    }
}
