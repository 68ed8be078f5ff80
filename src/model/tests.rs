//! The rules of SPEC §1 on scripted scenarios whose answers are worked out by
//! hand in each test. Times are µs; 1 h = 3_600_000_000 µs.

use crate::analysis::run::simulate_observed;
use crate::engine::SlotHeap;
use crate::model::RunStats;
use crate::output::timeline::TimelineCsv;
use crate::scenario::{Overrides, parse};
use crate::time::SimTime;

const S: u64 = 1_000_000;
const MIN: u64 = 60 * S;
const H: u64 = 3_600 * S;
/// 10 GiB / 10 Gbps = 10 × 2^30 × 8 / 1e10 s = 8.589934592 s → 8_589_935 µs (0.408 µs off).
const REPAIR: u64 = 8_589_935;

fn run(src: &str) -> (RunStats, Vec<Vec<String>>) {
    run_seed(src, 0)
}

fn run_seed(src: &str, seed: u64) -> (RunStats, Vec<Vec<String>>) {
    let sc = parse(src, "test.toml", &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    let tl = TimelineCsv::new(&sc.config.layout.node_names);
    let (st, tl) = simulate_observed::<_, SlotHeap<_>>(&sc.config, seed, sc.horizon, tl).unwrap();
    let text = String::from_utf8(tl.into_bytes().unwrap()).unwrap();
    let rows = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (st, rows)
}

/// Rows of a given event kind (and target, if given) as (time_s, letters).
fn rows_of<'a>(rows: &'a [Vec<String>], event: &str, target: &str) -> Vec<&'a Vec<String>> {
    rows.iter()
        .filter(|r| r[1] == event && (target.is_empty() || r[2] == target))
        .collect()
}

#[test]
fn az_outage_alone_costs_nothing() {
    // 2 of 6 down leaves 4 up and current: 4 ≥ Vw = 4 and 4 ≥ Vr = 3.
    let (st, _) = run(r#"
name = "t"
horizon = "4h"
[[events]]
at = "1h"
kind = "az-outage"
az = "az-a"
lasts = "2h"
"#);
    assert_eq!(st.write.total, SimTime(0));
    assert_eq!(st.read.total, SimTime(0));
    assert_eq!(
        (st.write.count, st.read.count, st.data_loss_events),
        (0, 0, 0)
    );
}

#[test]
fn az_outage_plus_one_loss_stops_writes_for_one_repair() {
    // At 100 s az-a goes down (4 current up); at 200 s az-b-1 is lost: 3 current
    // up < 4, writes stop. Detection 0 and az-b reachable: repair from az-b-2
    // starts at once and takes 8.589934592 s. Reads: 3 up, all current, always.
    let (st, rows) = run(r#"
name = "t"
horizon = "2h"
[[events]]
at = 100
kind = "az-outage"
az = "az-a"
lasts = "1h"
[[events]]
at = 200
kind = "node-loss"
node = "az-b-1"
"#);
    assert!((st.write.total.0 as i64 - 8_589_934.592f64.round() as i64).abs() <= 1);
    assert_eq!(st.write.total, SimTime(REPAIR));
    assert_eq!(st.write.count, 1);
    assert_eq!(st.read.total, SimTime(0));
    let done = rows_of(&rows, "repair-done", "az-b-1");
    assert_eq!(done[0][0], "208.589935");
}

#[test]
fn overlapping_az_outages_stop_both_for_the_overlap() {
    // az-a down [1h, 3h), az-b down [2h30m, 4h): overlap 30 min with 2 up.
    let (st, _) = run(r#"
name = "t"
horizon = "6h"
[[events]]
at = "1h"
kind = "az-outage"
az = "az-a"
lasts = "2h"
[[events]]
at = "2h30m"
kind = "az-outage"
az = "az-b"
lasts = "1h30m"
"#);
    assert_eq!(st.write.total, SimTime(30 * MIN));
    assert_eq!(st.read.total, SimTime(30 * MIN));
    assert_eq!((st.write.count, st.read.count), (1, 1));
    assert_eq!(st.write.longest, SimTime(30 * MIN));
}

#[test]
fn crash_that_ends_writes_keeps_its_current_flag() {
    // az-a down from 1h (a-1, a-2 stale). At 2h az-b-1 crashes: 3 current up,
    // writes stop at that very event, so b-1 keeps its current flag. Then the
    // three up current replicas are lost (repairs take 10 h, so none finishes).
    // b-1 still holds the latest write: no data loss. It returns at 3h as C.
    let (st, rows) = run(r#"
name = "t"
horizon = "5h"
[cluster]
repair_time = "10h"
[[events]]
at = "1h"
kind = "az-outage"
az = "az-a"
lasts = "3h"
[[events]]
at = "2h"
kind = "node-crash"
node = "az-b-1"
lasts = "1h"
[[events]]
at = "2h10m"
kind = "node-loss"
node = "az-b-2"
[[events]]
at = "2h20m"
kind = "node-loss"
node = "az-c-1"
[[events]]
at = "2h30m"
kind = "node-loss"
node = "az-c-2"
"#);
    assert_eq!(st.data_loss_events, 0);
    assert_eq!(st.lost_write_us, 0);
    let back = rows_of(&rows, "node-recover", "az-b-1");
    assert_eq!(back[0][0], "10800");
    assert_eq!(
        back[0][10], "C",
        "az-b-1 is current after its return: {:?}",
        back[0]
    );
}

#[test]
fn losing_every_current_replica_promotes_the_freshest_survivor() {
    // b-1 crashes at 2h while 5 stay current: writes go on, b-1 is stale from
    // write-clock 7200 s. Losses at 2h10m (4 current: still writing) and 2h20m
    // (3: writes stop, write clock 8400 s), then 2h30m, 2h40m, 2h50m lose the
    // rest. At 2h50m no replica is current: one data loss; b-1 (down) is the
    // freshest survivor and becomes current; 8400 − 7200 = 1200 s of
    // acknowledged writes are lost.
    let (st, rows) = run(r#"
name = "t"
horizon = "5h"
[cluster]
repair_time = "10h"
[[events]]
at = "2h"
kind = "node-crash"
node = "az-b-1"
lasts = "2h"
[[events]]
at = "2h10m"
kind = "node-loss"
node = "az-a-1"
[[events]]
at = "2h20m"
kind = "node-loss"
node = "az-a-2"
[[events]]
at = "2h30m"
kind = "node-loss"
node = "az-b-2"
[[events]]
at = "2h40m"
kind = "node-loss"
node = "az-c-1"
[[events]]
at = "2h50m"
kind = "node-loss"
node = "az-c-2"
"#);
    assert_eq!(st.data_loss_events, 1);
    assert_eq!(st.first_data_loss, Some(SimTime(2 * H + 50 * MIN)));
    assert_eq!(st.lost_write_us, 1_200 * S);
    // When b-1 returns at 4h it is up and current, so repairs can start from it.
    let back = rows_of(&rows, "node-recover", "az-b-1");
    assert_eq!(back[0][10], "C");
    let restarts = rows_of(&rows, "repair-start", "")
        .iter()
        .filter(|r| r[0] == "14400")
        .count();
    assert_eq!(restarts, 5, "{rows:?}");
}

/// All three AZs lost at 1h; az-c stays unreachable for `c_lasts`.
fn three_az_losses(c_lasts: &str) -> String {
    let mut src = String::from("name = \"t\"\nhorizon = \"4h\"\n");
    for (az, lasts) in [("az-a", "10m"), ("az-b", "10m"), ("az-c", c_lasts)] {
        src.push_str(&format!(
            "[[events]]\nat = \"1h\"\nkind = \"az-loss\"\naz = \"{az}\"\nlasts = \"{lasts}\"\n"
        ));
    }
    src
}

#[test]
fn losing_all_six_restores_from_backup() {
    // Three AZ losses at 1h destroy all six copies: data loss at 1h, nothing
    // survives, restore after restore_time = 1h, losing backup_lag = 5 min.
    // The AZs are reachable again at 1h10m but no current source exists, so
    // nothing is repaired; writes and reads are out exactly [1h, 2h).
    let (st, rows) = run(&three_az_losses("10m"));
    assert_eq!(st.data_loss_events, 1);
    assert_eq!(st.first_data_loss, Some(SimTime(H)));
    assert_eq!(st.lost_write_us, 300 * S);
    assert_eq!(st.write.total, SimTime(H));
    assert_eq!(st.read.total, SimTime(H));
    let restore = rows_of(&rows, "restore", "");
    assert_eq!(restore[0][0], "7200");
    assert_eq!(restore[0][8..].join(""), "CCCCCC");
}

#[test]
fn restore_leaves_unreachable_replicas_down() {
    // As above, but az-c stays unreachable until 3h: at the 2h restore its two
    // replicas are down (D); with 4 current up, writes resume at 2h.
    let (st, rows) = run(&three_az_losses("2h"));
    let restore = rows_of(&rows, "restore", "");
    assert_eq!(restore[0][8..].join(""), "CCCCDD");
    assert_eq!(st.write.total, SimTime(H));
}

#[test]
fn repair_whose_source_is_lost_restarts_from_zero() {
    // repair_time 1h. a-1 lost at 1h: repair from a-2 (first up current) due at
    // 2h. a-2 lost at 1h30m: the repair is abandoned and restarts at once from
    // b-1, due 2h30m; a-2's own repair also runs 1h30m → 2h30m.
    let (_, rows) = run(r#"
name = "t"
horizon = "4h"
[cluster]
repair_time = "1h"
[[events]]
at = "1h"
kind = "node-loss"
node = "az-a-1"
[[events]]
at = "1h30m"
kind = "node-loss"
node = "az-a-2"
"#);
    let starts: Vec<&str> = rows_of(&rows, "repair-start", "az-a-1")
        .iter()
        .map(|r| r[0].as_str())
        .collect();
    assert_eq!(starts, ["3600", "5400"]);
    let done: Vec<&str> = rows_of(&rows, "repair-done", "")
        .iter()
        .map(|r| r[0].as_str())
        .collect();
    assert_eq!(done, ["9000", "9000"]);
}

#[test]
fn repair_whose_source_goes_down_restarts_when_another_is_up() {
    // a-1 lost at 1h, repair 1h from a-2; a-2 crashes at 1h20m for 5 min: the
    // repair restarts at once from b-1 and completes at 2h20m.
    let (_, rows) = run(r#"
name = "t"
horizon = "4h"
[cluster]
repair_time = "1h"
[[events]]
at = "1h"
kind = "node-loss"
node = "az-a-1"
[[events]]
at = "1h20m"
kind = "node-crash"
node = "az-a-2"
lasts = "5m"
"#);
    let done = rows_of(&rows, "repair-done", "az-a-1");
    assert_eq!(done[0][0], "8400");
}

#[test]
fn replace_down_after_gives_up_and_ignores_the_return() {
    // a-1 crashes at 1h for 1h; replace_down_after = 15m: given up at 1h15m,
    // repaired at once (no second detection delay although detection_delay =
    // 10m) in 8.589935 s; its node's return at 2h is ignored.
    let (st, rows) = run(r#"
name = "t"
horizon = "3h"
[cluster]
replace_down_after = "15m"
detection_delay = "10m"
[[events]]
at = "1h"
kind = "node-crash"
node = "az-a-1"
lasts = "1h"
"#);
    let rep = rows_of(&rows, "replace", "az-a-1");
    assert_eq!(rep[0][0], "4500");
    assert_eq!(rows_of(&rows, "repair-done", "az-a-1")[0][0], "4508.589935");
    assert!(rows_of(&rows, "node-recover", "").is_empty());
    assert_eq!(st.write.total, SimTime(0));
}

#[test]
fn give_up_beats_a_return_at_the_same_instant() {
    // Crash lasts exactly replace_down_after: give-up (class 1) pops before the
    // return scheduled earlier (class 2), so the replica is replaced.
    let (_, rows) = run(r#"
name = "t"
horizon = "3h"
[cluster]
replace_down_after = "15m"
[[events]]
at = "1h"
kind = "node-crash"
node = "az-a-1"
lasts = "15m"
"#);
    assert_eq!(rows_of(&rows, "replace", "az-a-1").len(), 1);
    assert!(rows_of(&rows, "node-recover", "").is_empty());
}

#[test]
fn catch_up_takes_catchup_time_and_needs_a_source() {
    // a-1 down 1h–1h10m while writes go on: stale on return, current 1 min later.
    let (_, rows) = run(r#"
name = "t"
horizon = "2h"
[cluster]
catchup_time = "1m"
[[events]]
at = "1h"
kind = "node-crash"
node = "az-a-1"
lasts = "10m"
"#);
    assert_eq!(rows_of(&rows, "node-recover", "az-a-1")[0][8], "S");
    let cu = rows_of(&rows, "catch-up", "az-a-1");
    assert_eq!(cu[0][0], "4260");
    assert_eq!(cu[0][8], "C");
}

#[test]
fn crash_of_a_repairing_node_waits_for_its_return() {
    // a-1 lost at 1h, repair 1h; its (replacement) node crashes at 1h30m for 1h:
    // the repair is abandoned and restarts from zero at 2h30m, done 3h30m.
    let (_, rows) = run(r#"
name = "t"
horizon = "5h"
[cluster]
repair_time = "1h"
[[events]]
at = "1h"
kind = "node-loss"
node = "az-a-1"
[[events]]
at = "1h30m"
kind = "node-crash"
node = "az-a-1"
lasts = "1h"
"#);
    let crash = rows_of(&rows, "node-crash", "az-a-1");
    assert_eq!(crash[0][8], "L");
    let starts: Vec<&str> = rows_of(&rows, "repair-start", "az-a-1")
        .iter()
        .map(|r| r[0].as_str())
        .collect();
    assert_eq!(starts, ["3600", "9000"]);
    assert_eq!(rows_of(&rows, "repair-done", "az-a-1")[0][0], "12600");
}

#[test]
fn loss_of_a_down_node_cancels_its_return() {
    // a-1 crashes at 1h for 2h, is lost at 1h30m: no node-recover at 3h; repaired
    // at 1h30m + 8.589935 s.
    let (_, rows) = run(r#"
name = "t"
horizon = "4h"
[[events]]
at = "1h"
kind = "node-crash"
node = "az-a-1"
lasts = "2h"
[[events]]
at = "1h30m"
kind = "node-loss"
node = "az-a-1"
"#);
    assert!(rows_of(&rows, "node-recover", "").is_empty());
    assert_eq!(rows_of(&rows, "repair-done", "az-a-1")[0][0], "5408.589935");
}

#[test]
fn crash_of_a_lost_node_changes_nothing() {
    // With a 1h detection delay a-1 stays L; a crash of its node is ignored
    // (no row), and the repair still starts at 2h.
    let (_, rows) = run(r#"
name = "t"
horizon = "4h"
[cluster]
detection_delay = "1h"
[[events]]
at = "1h"
kind = "node-loss"
node = "az-a-1"
[[events]]
at = "1h10m"
kind = "node-crash"
node = "az-a-1"
lasts = "2h"
"#);
    assert!(rows_of(&rows, "node-crash", "").is_empty());
    assert_eq!(rows_of(&rows, "repair-start", "az-a-1")[0][0], "7200");
}

#[test]
fn repairs_into_an_unreachable_az_wait_for_it() {
    // az-a lost at 1h for 2h: its replicas are repaired from 3h on, and the
    // detection delay (30 min) ran while it was unreachable.
    let (st, rows) = run(r#"
name = "t"
horizon = "4h"
[cluster]
detection_delay = "30m"
[[events]]
at = "1h"
kind = "az-loss"
az = "az-a"
lasts = "2h"
"#);
    let starts: Vec<&str> = rows_of(&rows, "repair-start", "")
        .iter()
        .map(|r| r[0].as_str())
        .collect();
    assert_eq!(starts, ["10800", "10800"]);
    assert_eq!(st.write.total, SimTime(0));
}

#[test]
fn overlapping_crashes_keep_the_node_down_until_the_last_ends() {
    // Crash [1h, 2h) and crash [1h30m, 3h) on a-1: down until 3h, one return.
    let (_, rows) = run(r#"
name = "t"
horizon = "4h"
[[events]]
at = "1h"
kind = "node-crash"
node = "az-a-1"
lasts = "1h"
[[events]]
at = "1h30m"
kind = "node-crash"
node = "az-a-1"
lasts = "1h30m"
"#);
    let back: Vec<&str> = rows_of(&rows, "node-recover", "")
        .iter()
        .map(|r| r[0].as_str())
        .collect();
    assert_eq!(back, ["10800"]);
}

#[test]
fn outage_open_at_the_horizon_is_cut_there() {
    // Two AZs down from 3h for 5h, horizon 4h: one outage of 1h each.
    let (st, rows) = run(r#"
name = "t"
horizon = "4h"
[[events]]
at = "3h"
kind = "az-outage"
az = "az-a"
lasts = "5h"
[[events]]
at = "3h"
kind = "az-outage"
az = "az-b"
lasts = "5h"
"#);
    assert_eq!((st.write.count, st.write.total), (1, SimTime(H)));
    assert_eq!((st.read.count, st.read.total), (1, SimTime(H)));
    let end = rows.last().unwrap();
    assert_eq!((end[0].as_str(), end[1].as_str()), ("14400", "end"));
}

#[test]
fn equal_time_scripted_events_apply_in_file_order() {
    // Both at 1h: file order az-b then az-a, so the rows come in that order,
    // and the first (3 of 6 down? no: 2) leaves writes on; the second stops them.
    let (_, rows) = run(r#"
name = "t"
horizon = "2h"
[[events]]
at = "1h"
kind = "az-outage"
az = "az-b"
lasts = "10m"
[[events]]
at = "1h"
kind = "az-outage"
az = "az-a"
lasts = "10m"
"#);
    assert_eq!(rows[1][2], "az-b");
    assert_eq!(rows[1][5], "true");
    assert_eq!(rows[2][2], "az-a");
    assert_eq!(rows[2][5], "false");
}

#[test]
fn zero_length_unavailability_is_not_an_outage() {
    // az-b down [1h, 2h); az-a goes down at exactly 2h, after az-b's return was
    // scheduled (FIFO): the return pops first, so there is no instant with 2 up.
    // Scripted events pop first at equal times, though: the az-a outage (class 0)
    // is applied before az-b's return, giving a zero-length outage, not counted.
    let (st, _) = run(r#"
name = "t"
horizon = "4h"
[[events]]
at = "1h"
kind = "az-outage"
az = "az-b"
lasts = "1h"
[[events]]
at = "2h"
kind = "az-outage"
az = "az-a"
lasts = "1h"
"#);
    assert_eq!((st.write.count, st.write.total), (0, SimTime(0)));
    assert_eq!((st.read.count, st.read.total), (0, SimTime(0)));
}

/// Binomial closed form: with only exponential node crashes (mean up U, mean
/// down D) the nodes are independent two-state chains, each up with
/// probability a = U/(U+D), and writes are available iff ≥ Vw of V are up.
#[test]
fn crash_only_availability_matches_the_binomial_closed_form() {
    let (u, d) = (1_000.0f64, 100.0f64);
    let a = u / (u + d);
    let choose = |n: u32, k: u32| (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
    let p_ge = |m: u32| {
        (m..=6)
            .map(|k| choose(6, k) * a.powi(k as i32) * (1.0 - a).powi(6 - k as i32))
            .sum::<f64>()
    };
    let exact_write_unavail = 1.0 - p_ge(4); // ≈ 0.01295
    let src = r#"
name = "t"
horizon = 2000000
[failures.node_crash]
every = 1000
lasts = 100
"#;
    // 20 independent replications (seeds 0..20); the exact value must lie
    // within 4 standard errors of their mean (a fixed-seed, deterministic check;
    // 4σ would fail by chance with probability 6e-5).
    let xs: Vec<f64> = (0..20)
        .map(|seed| {
            let (st, _) = run_seed(src, seed);
            st.write.total.0 as f64 / st.horizon.0 as f64
        })
        .collect();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let se = sd / n.sqrt();
    assert!(
        (mean - exact_write_unavail).abs() < 4.0 * se,
        "simulated {mean} ± {se}, exact {exact_write_unavail}"
    );
    assert!(
        se < 0.05 * exact_write_unavail,
        "too noisy to mean anything: se {se}"
    );
}
