//! `analyze` with tail segments and the quorum switch (SPEC §6, issue 15):
//! against a hand-built chain, and against simulation.

use super::refusal::locate;
use super::tests::agrees_with_simulation;
use super::{AnalyzeError, analyze};
use crate::scenario::{Overrides, parse};
use crate::time::SimTime;

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// A slot of the hand-built chain: present (hence up and current: with
/// losses only nothing is ever down, so nothing turns stale), repairing, or
/// lost and waiting for a source.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Slot {
    P,
    R,
    W,
}

/// A labelled state: restoring from backup, and slots 0–5 (az-a-1, az-a-2,
/// az-b-1, …); even slots are full, odd ones tail.
type Labelled = (bool, [Slot; 6]);

fn full(k: usize) -> bool {
    k.is_multiple_of(2)
}

/// The rules as §6 states them, on labelled slots, applied until nothing
/// changes: a repair whose last source of its kind is gone waits (a full
/// slot needs a present full peer, a tail any present peer); a waiting slot
/// with a source starts; no full segment left (or nothing left) is a data
/// loss and a restore. Returns whether it lost data.
fn settle(s: &mut Labelled) -> bool {
    let mut lost = false;
    loop {
        let before = *s;
        let has = |s: &Labelled, f: bool| (0..6).any(|k| s.1[k] == Slot::P && (!f || full(k)));
        for k in 0..6 {
            let source = has(&*s, full(k));
            match s.1[k] {
                Slot::R if !source => s.1[k] = Slot::W,
                Slot::W if source => s.1[k] = Slot::R,
                _ => {}
            }
        }
        if !s.0 && !has(&*s, true) {
            s.0 = true;
            lost = true;
        }
        if *s == before {
            return lost;
        }
    }
}

/// Solves A x = b by Gaussian elimination with partial pivoting.
fn dense_solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, p);
        b.swap(c, p);
        let (top, rest) = a.split_at_mut(c + 1);
        let pivot = &top[c];
        for (r, row) in rest.iter_mut().enumerate() {
            let f = row[c] / pivot[c];
            for (x, p) in row[c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            b[c + 1 + r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x
}

/// See: issue 15. Three AZs × (1 full + 1 tail), node losses only: each
/// present slot is lost at rate l = 1/5 d; a full repair takes 10 h, a tail
/// repair 10 h × 1 GiB / 10 GiB = 1 h, a restore 2 h (all exponential);
/// detection and catch-up are instant. The hand-built chain keeps every slot
/// labelled (no symmetry) and is solved densely; `analyze` must agree.
///
/// States: not restoring, every slot P or R with a full one P:
/// 2³ tail patterns × (2³ − 1) full patterns = 56; restoring (every full
/// waiting), tails P/R with one P (7) or all waiting (1): 8. 64 labelled
/// states. Under AZ permutations (AZ type = (full, tail) slot pair, the two
/// never swapped): multisets of 3 from {PP, PR, RP, RR} (20) minus those
/// with no full P ({RP, RR}: 4) = 16, plus restoring {WP, WR} with a WP (3)
/// and all waiting (1): 20 canonical states.
#[test]
fn issue_15_tail_layout_with_node_losses_matches_a_hand_built_chain() {
    let src = r#"
name = "t"
horizon = "1y"
[cluster]
segments = "tail"
tail_size = "1GiB"
repair_time = { dist = "exponential", mean = "10h" }
restore_time = { dist = "exponential", mean = "2h" }
[failures.node_loss]
every = "5d"
"#;
    let (l, rf, rt, rho) = (
        1.0 / 432_000.0,
        1.0 / 36_000.0,
        1.0 / 3_600.0,
        1.0 / 7_200.0,
    );
    // Enumerate the labelled chain from all present.
    let start: Labelled = (false, [Slot::P; 6]);
    let mut states = vec![start];
    let mut arcs: Vec<Vec<(usize, f64, bool)>> = Vec::new();
    let mut i = 0;
    while i < states.len() {
        let s = states[i];
        let mut out = Vec::new();
        let go = |mut t: Labelled, rate: f64, out: &mut Vec<(Labelled, f64, bool)>| {
            let lost = settle(&mut t);
            out.push((t, rate, lost));
        };
        let mut moves = Vec::new();
        for k in 0..6 {
            let mut t = s;
            match s.1[k] {
                Slot::P => {
                    t.1[k] = Slot::W;
                    go(t, l, &mut moves);
                }
                Slot::R => {
                    t.1[k] = Slot::P;
                    go(t, if full(k) { rf } else { rt }, &mut moves);
                }
                Slot::W => {}
            }
        }
        if s.0 {
            go((false, [Slot::P; 6]), rho, &mut moves);
        }
        for (t, rate, lost) in moves {
            let j = match states.iter().position(|x| *x == t) {
                Some(j) => j,
                None => {
                    states.push(t);
                    states.len() - 1
                }
            };
            out.push((j, rate, lost));
        }
        arcs.push(out);
        i += 1;
    }
    let n = states.len();
    assert_eq!(n, 64, "labelled states, as counted in the doc comment");
    // Stationary π: πQ = 0 with Σπ = 1 in place of the last balance equation.
    let mut a = vec![vec![0.0; n]; n];
    for (i, out) in arcs.iter().enumerate() {
        for &(j, r, _) in out {
            a[j][i] += r;
            a[i][i] -= r;
        }
    }
    a[n - 1] = vec![1.0; n];
    let mut b = vec![0.0; n];
    b[n - 1] = 1.0;
    let pi = dense_solve(a, b);
    let count = |s: &Labelled, f: bool| {
        (0..6)
            .filter(|&k| s.1[k] == Slot::P && (!f || full(k)))
            .count()
    };
    // §6: writes on ≥ 4 present (all current) or all three full present;
    // reads on ≥ 3 present with a full one among them.
    let write = |s: &Labelled| count(s, false) >= 4 || count(s, true) == 3;
    let read = |s: &Labelled| count(s, false) >= 3 && count(s, true) >= 1;
    let down = |ok: &dyn Fn(&Labelled) -> bool| -> f64 {
        (0..n).filter(|&i| !ok(&states[i])).map(|i| pi[i]).sum()
    };
    let (wu, ru) = (down(&write), down(&read));
    // MTTDL: mean absorption time from the start with loss arcs as exits:
    // for each state i, Σ_j q_ij (m_j − m_i) − (loss rate) m_i = −1, over
    // the states reachable before a loss (all not restoring).
    let live: Vec<usize> = (0..n).filter(|&i| !states[i].0).collect();
    let at = |j: usize| live.iter().position(|&x| x == j);
    let m = live.len();
    let mut a = vec![vec![0.0; m]; m];
    for (p, &i) in live.iter().enumerate() {
        for &(j, r, lost) in &arcs[i] {
            a[p][p] -= r;
            if let (false, Some(q)) = (lost, at(j)) {
                a[p][q] += r;
            }
        }
    }
    let times = dense_solve(a, vec![-1.0; m]);
    let mttdl = times[at(0).unwrap()];

    let sc = parse(src, "t.toml", &Overrides::default()).unwrap();
    let got = analyze(&sc.config, false).unwrap();
    assert_eq!(
        got.states, 20,
        "canonical states, as counted in the doc comment"
    );
    assert_eq!(got.states_before_symmetry, 64.0);
    for (what, g, e) in [
        ("write unavailability", got.write_unavailability, wu),
        ("read unavailability", got.read_unavailability, ru),
        ("write availability", got.write_availability, 1.0 - wu),
        ("read availability", got.read_availability, 1.0 - ru),
        ("mttdl", got.mttdl_seconds.unwrap(), mttdl),
    ] {
        // Dense elimination on rates within a factor of 300: ~1e-12.
        assert!(rel(g, e) < 1e-9, "{what}: analyze {g} vs hand-built {e}");
    }
    // Had the symmetry merged full and tail slots, a lost tail and a lost
    // full would be one state, and the 3/3-full clause could not be told.
    assert!(wu > 0.0 && ru > 0.0);
}

/// Tail segments under all four processes, accelerated.
const TAIL_FAST: &str = r#"
name = "t"
horizon = "1y"
[cluster]
segments = "tail"
tail_size = "1GiB"
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

/// Tail segments with the switch after an exponential 2 h, long AZ outages
/// (2 d every 10 d) and crashes: writes during an outage hinge on it.
const SWITCH_FAST: &str = r#"
name = "t"
horizon = "1y"
[cluster]
segments = "tail"
tail_size = "1GiB"
quorum_switch_after = { dist = "exponential", mean = "2h" }
repair_time = { dist = "exponential", mean = "1d" }
restore_time = { dist = "exponential", mean = "6h" }
[failures.node_crash]
every = "5d"
lasts = "6h"
[failures.node_loss]
every = "20d"
[failures.az_outage]
every = "10d"
lasts = "2d"
[failures.az_loss]
every = "60d"
lasts = "2d"
"#;

/// Six full segments with an instant switch (a zero `quorum_switch_after`).
const SWITCH_NOW_FULL: &str = r#"
name = "t"
horizon = "1y"
[cluster]
quorum_switch_after = "0s"
repair_time = { dist = "exponential", mean = "1d" }
restore_time = { dist = "exponential", mean = "6h" }
[failures.node_crash]
every = "5d"
lasts = "6h"
[failures.node_loss]
every = "10d"
[failures.az_outage]
every = "10d"
lasts = "2d"
"#;

/// Tail segments with the rules that keep sources apart: timed catch-up
/// (a stale full catches up from any current peer), give-up of replicas
/// down too long (AZ outages), and the switch after an exponential 1 h.
const TAIL_CATCH_UP_SWITCH: &str = r#"
name = "t"
horizon = "1y"
[cluster]
segments = "tail"
tail_size = "2GiB"
quorum_switch_after = { dist = "exponential", mean = "1h" }
catchup_time = { dist = "exponential", mean = "3h" }
replace_down_after = { dist = "exponential", mean = "1d" }
repair_time = { dist = "exponential", mean = "12h" }
restore_time = { dist = "exponential", mean = "4h" }
[failures.node_loss]
every = "12d"
[failures.az_outage]
every = "15d"
lasts = "1d"
"#;

fn year() -> SimTime {
    SimTime::from_secs_f64(365.0 * 86400.0)
}

#[test]
fn issue_15_tail_segments_agree_with_simulation() {
    agrees_with_simulation(TAIL_FAST, 200, year(), 400);
    // Trials start all current, so a trial's time average leans towards
    // that state by about (relaxation time / horizon); with day-long
    // outages and give-ups, 1-year trials of variants of this scenario sat
    // +1.5e-4 to +1.7e-4 above the exact write availability in 10,000-trial
    // sweeps (≈ 2 standard errors), 20-year ones within 3e-5 of it: 5-year
    // trials keep that lean well inside the interval.
    let five_years = SimTime::from_secs_f64(5.0 * 365.0 * 86400.0);
    agrees_with_simulation(TAIL_CATCH_UP_SWITCH, 200, five_years, 400);
}

/// The switch's exact write unavailability lies in the simulation's 99 %
/// interval, and the one without the switch does not (so the agreement
/// tells the epoch apart from its absence).
#[test]
fn issue_15_quorum_switch_agrees_with_simulation() {
    for src in [SWITCH_FAST, SWITCH_NOW_FULL] {
        let (m, hw) = agrees_with_simulation(src, 200, year(), 400);
        let without: String = src
            .lines()
            .filter(|l| !l.starts_with("quorum_switch_after"))
            .map(|l| format!("{l}\n"))
            .collect();
        let sc = parse(&without, "t.toml", &Overrides::default()).unwrap();
        let no_switch = analyze(&sc.config, false).unwrap().write_unavailability;
        assert!(
            (m - no_switch).abs() > hw,
            "without the switch {no_switch} is also within {m} ± {hw}"
        );
    }
}

/// The chain's timings for §6: the default tail repair time is fixed
/// (tail_size / bandwidth), so it is refused by its key, located at the
/// `[cluster]` table that would hold it; `--approx` replaces it.
#[test]
fn issue_15_fixed_tail_repairs_are_refused_with_a_location() {
    let src = "name = \"t\"\nhorizon = \"1y\"\n[cluster]\nsegments = \"tail\"\ntail_size = \"1GiB\"\n[failures.node_loss]\nevery = \"5d\"\n";
    let sc = parse(src, "t.toml", &Overrides::default()).unwrap();
    let e = analyze(&sc.config, false).unwrap_err();
    let keys = match &e {
        AnalyzeError::NotExponential(s) => s.iter().map(|s| s.timing.key()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        keys,
        [
            "cluster.repair_time",
            "cluster.tail_size",
            "cluster.restore_time"
        ]
    );
    let text = e.into_error("t.toml", src).to_string();
    assert!(
        text.starts_with(
            "t.toml:3:1: cluster.repair_time, cluster.tail_size, cluster.restore_time: "
        ),
        "{text}"
    );
    let a = analyze(&sc.config, true).unwrap();
    assert_eq!(a.substitutions.len(), 3);
}

#[test]
fn keys_are_located_in_tables_inline_tables_and_headers() {
    let src = "name = \"t\"\n[cluster]\n  repair_time = \"1h\"\n[failures]\nnode_loss = { every = \"5y\" }\n[failures.az_loss]\nlasts = \"1d\"\n[volume]\n";
    assert_eq!(locate(src, "cluster.repair_time"), Some((3, 3)));
    assert_eq!(locate(src, "failures.node_loss.every"), Some((5, 15)));
    // Absent from its table: the table's header.
    assert_eq!(locate(src, "failures.az_loss.every"), Some((6, 1)));
    assert_eq!(locate(src, "cluster.restore_time"), Some((2, 1)));
    assert_eq!(locate(src, "volume"), Some((8, 1)));
    assert_eq!(locate(src, "failures.node_crash.every"), Some((4, 1)));
    assert_eq!(locate("name = \"t\"\n", "cluster.repair_time"), None);
}

/// Five AZs of one node, writes 3/5: two AZs out leave a write quorum, so
/// two switches can be due at once and the simulator takes the
/// lowest-numbered AZ, a choice by label. The chain then keeps AZs
/// labelled (no symmetry: as many states as labelled ones), and still
/// agrees with simulation. The switched epoch (reads 2/4 instead of 3/5)
/// is what makes reads differ from writes here.
#[test]
fn issue_15_several_due_switches_keep_azs_labelled() {
    let src = r#"
name = "t"
horizon = "1y"
[cluster]
azs = ["a", "b", "c", "d", "e"]
nodes_per_az = 1
write_quorum = 3
read_quorum = 3
quorum_switch_after = { dist = "exponential", mean = "4h" }
[failures.az_outage]
every = "8d"
lasts = "2d"
"#;
    let sc = parse(src, "t.toml", &Overrides::default()).unwrap();
    let a = analyze(&sc.config, false).unwrap();
    assert_eq!(a.states as f64, a.states_before_symmetry);
    assert!(
        a.read_unavailability < a.write_unavailability / 2.0,
        "{a:?}"
    );
    agrees_with_simulation(src, 200, year(), 0);
}
