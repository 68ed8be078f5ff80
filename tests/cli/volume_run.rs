//! `run` and `sweep` on volumes (SPEC §4, issue 13), against values derived
//! independently in each test: reductions to the single PG, burst
//! combinatorics, and determinism across seeds, threads and shards.

use super::{bin, scenarios, write};
use serde_json::{Map, Value};
use std::path::Path;

/// The keys `run --json` adds for a volume.
const VOLUME_KEYS: [&str; 8] = [
    "pgs",
    "nodes",
    "pgs_with_data_loss",
    "lost_bytes",
    "max_pgs_write_unavailable",
    "pg_write_unavailable_seconds",
    "repairs",
    "longest_repair_wait_seconds",
];

fn run_json(scenario: &Path, args: &[&str]) -> Map<String, Value> {
    let out = bin()
        .arg("run")
        .arg(scenario)
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout).unwrap() {
        Value::Object(m) => m,
        v => panic!("not an object: {v}"),
    }
}

// See: issue 13
#[test]
fn issue_13_shipped_scenarios_keep_their_json_on_a_v_node_fleet_or_one_segment() {
    // SPEC §4: `[fleet] nodes_per_az` equal to `cluster.nodes_per_az` (2 in
    // every shipped file) and a `[volume]` of exactly one segment (10 GiB of
    // 10 GiB segments: 1 PG) are §1's single PG: every §3 key of `run
    // --json` is the same as without them, and only the volume keys are
    // added (pgs 1, nodes 6). Long horizons (scripted events keep their
    // times), three seeds, and a harsher fleet-rates so that data is lost.
    let mut files: Vec<_> = std::fs::read_dir(scenarios())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        // The shipped volume scenarios are volumes already.
        .filter(|p| !std::fs::read_to_string(p).unwrap().contains("\n[volume]"))
        // A database scenario's keys describe the database (SPEC §5), and an
        // RDS design has no storage volume keys.
        .filter(|p| !std::fs::read_to_string(p).unwrap().contains("\n[database]"))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "{files:?}");
    let harsh = [
        "--set",
        "failures.node_loss.every=2d",
        "--set",
        "cluster.repair_progress=resume",
        "--set",
        "cluster.catchup_time=5m",
        "--set",
        "cluster.replace_down_after=5m",
    ];
    let mut cases: Vec<(&Path, &[&str])> = files.iter().map(|f| (f.as_path(), &[][..])).collect();
    let fleet_rates = scenarios().join("fleet-rates.toml");
    cases.push((&fleet_rates, &harsh));
    let (mut losses, mut outages) = (0, 0);
    for (file, extra) in cases {
        for seed in ["1", "2", "3"] {
            let base_args = [&["--seed", seed, "--horizon", "30y"][..], extra].concat();
            let base = run_json(file, &base_args);
            for k in VOLUME_KEYS {
                assert!(!base.contains_key(k), "{k} in a §3 run of {file:?}");
            }
            losses += base["data_loss_events"].as_u64().unwrap();
            outages += base["write_outages"].as_u64().unwrap();
            for set in ["fleet.nodes_per_az=2", "volume.size=10GiB"] {
                let args = [&base_args[..], &["--set", set]].concat();
                let mut v = run_json(file, &args);
                assert_eq!(
                    (v["pgs"].as_u64(), v["nodes"].as_u64()),
                    (Some(1), Some(6)),
                    "{set} on {file:?}"
                );
                for k in VOLUME_KEYS {
                    assert!(v.remove(k).is_some(), "{k} missing with {set}");
                }
                assert_eq!(v, base, "{set} on {file:?}, seed {seed}");
            }
        }
    }
    assert!(
        outages > 100 && losses > 0,
        "{outages} outages, {losses} losses"
    );
}

/// `sweep --trials T` of `text`; the one data row as (header → value).
fn sweep_row(dir: &Path, text: &str, trials: u32) -> Map<String, Value> {
    let sc = write(dir, "burst.toml", text);
    let out = dir.join("burst.csv");
    bin()
        .arg("sweep")
        .arg(&sc)
        .args(["--trials", &trials.to_string(), "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert!(lines.next().is_none());
    head.iter()
        .zip(row)
        .map(|(h, v)| (h.to_string(), Value::from(v.parse::<f64>().unwrap())))
        .collect()
}

fn f(row: &Map<String, Value>, k: &str) -> f64 {
    row[k].as_f64().unwrap()
}

fn choose(n: u64, k: u64) -> f64 {
    if k > n {
        return 0.0;
    }
    (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64)
}

/// A volume of `pgs` PGs on N = 10 nodes per AZ with a burst at 1 s; repairs
/// take 10 d and the run 1 h, so nothing is rebuilt: a PG loses data iff
/// all six of its replicas are among the burst's nodes (then the restore,
/// 1 h, is past the horizon, so one data-loss event per PG at most).
fn burst_scenario(pgs: u32, placement: &str, bursts: &[(&str, u32)]) -> String {
    let mut s = format!(
        "name = \"burst\"\nhorizon = \"1h\"\n[cluster]\nrepair_time = \"10d\"\n\
         [volume]\nsize = \"{}GiB\"\nplacement = \"{placement}\"\n[fleet]\nnodes_per_az = 10\n",
        10 * pgs
    );
    for (az, count) in bursts {
        s.push_str(&format!(
            "[[events]]\nat = \"1s\"\nkind = \"node-loss\"\ncount = {count}\n"
        ));
        if !az.is_empty() {
            s.push_str(&format!("az = \"{az}\"\n"));
        }
    }
    s
}

/// Checks the sweep's p_data_loss lies within 4 binomial standard errors of
/// the exact `p_volume`, and its total data-loss events within 4 standard
/// deviations of `mean` ± `sd` per trial. (Not "the 95 % interval holds the
/// exact value": that fails for one random stream in twenty by design.)
fn check_burst(row: &Map<String, Value>, trials: f64, p_volume: f64, mean: f64, sd: f64) {
    let p_hat = f(row, "p_data_loss");
    let se = (p_volume * (1.0 - p_volume) / trials).sqrt();
    assert!(
        (p_hat - p_volume).abs() < 4.0 * se,
        "p̂ = {p_hat}, exact {p_volume} ± {se}"
    );
    let events = f(row, "data_loss_events");
    let (m, s) = (trials * mean, trials.sqrt() * sd);
    assert!(
        (events - m).abs() < 4.0 * s,
        "events {events}, expected {m} ± {s}"
    );
}

const N: u64 = 10;
const F: u64 = 6;
const PGS: u32 = 20;
const TRIALS: u32 = 2000;

// See: issue 13
#[test]
fn issue_13_burst_in_each_az_random_placement_loses_the_binomial_share() {
    // Random placement, n = 2, N = 10: each PG independently holds 2 of the
    // 10 nodes of each AZ, uniformly; a burst takes f = 6 distinct nodes of
    // each AZ, uniformly and independently of the placement. A PG loses
    // data iff both its nodes in every AZ are among the burst:
    // p = (C(6,2)/C(10,2))³ = (15/45)³ = 1/27. Given the bursts, PGs are
    // independent Bernoulli(p), so the data-loss events of a trial are
    // Binomial(P, p) and P(volume loss) = 1 − (1 − p)^P; P = 20 gives 0.530.
    let dir = tempfile::tempdir().unwrap();
    let p = (choose(F, 2) / choose(N, 2)).powi(3);
    assert!((p - 1.0 / 27.0).abs() < 1e-15);
    let pgs = PGS as f64;
    let p_volume = 1.0 - (1.0 - p).powi(PGS as i32);
    assert!((0.3..0.7).contains(&p_volume), "{p_volume}");
    let text = burst_scenario(PGS, "random", &[("az-a", 6), ("az-b", 6), ("az-c", 6)]);
    let row = sweep_row(dir.path(), &text, TRIALS);
    let sd = (pgs * p * (1.0 - p)).sqrt();
    check_burst(&row, TRIALS as f64, p_volume, pgs * p, sd);
}

// See: issue 13
#[test]
fn issue_13_burst_in_each_az_copyset_placement_by_inclusion_exclusion() {
    // Copyset, n = 2, N = 10: G = 5 groups per AZ; copyset g is group g of
    // every AZ, and PG j uses copyset j mod 5, so P = 20 ≥ G uses all five,
    // each by m = 4 PGs. Copyset g is lost iff its 2 nodes in every AZ are
    // among that AZ's 6 burst nodes. For k given groups of one AZ,
    // P(all 2k nodes in the burst) = q_k = C(N−2k, f−2k)/C(N, f) (0 if
    // 2k > f), independently per AZ, so by inclusion–exclusion
    //   P(no copyset lost) = Σ_k (−1)^k C(G,k) q_k³
    //   = 1 − 5/27 + 10/14³ − 10/210³ = 0.8185,
    // P(volume loss) = 0.1815 (random placement: 0.530). Cross-check: the
    // same by enumerating the C(10,6) = 210 bursts of one AZ into the mask
    // of groups they cover, then all triples of masks. Events per trial:
    // m × (copysets lost), mean m·G·q_1³, variance
    // m²·(G·q_1³ + G(G−1)·q_2³ − (G·q_1³)²).
    let dir = tempfile::tempdir().unwrap();
    let g = (N / 2) as usize;
    let q = |k: u64| {
        if 2 * k > F {
            0.0
        } else {
            choose(N - 2 * k, F - 2 * k) / choose(N, F)
        }
    };
    let none: f64 = (0..=g as u64)
        .map(|k| (-1f64).powi(k as i32) * choose(g as u64, k) * q(k).powi(3))
        .sum();
    let p_volume = 1.0 - none;
    // Enumeration of one AZ's bursts → histogram of covered-group masks.
    let mut hist = vec![0.0; 1 << g];
    for burst in 0u32..1 << N {
        if burst.count_ones() as u64 != F {
            continue;
        }
        let covered = (0..g).filter(|&i| burst >> (2 * i) & 3 == 3);
        hist[covered.fold(0, |m, i| m | 1 << i)] += 1.0 / choose(N, F);
    }
    let mut lost = 0.0;
    for (a, pa) in hist.iter().enumerate() {
        for (b, pb) in hist.iter().enumerate() {
            for (c, pc) in hist.iter().enumerate() {
                if a & b & c != 0 {
                    lost += pa * pb * pc;
                }
            }
        }
    }
    assert!((lost - p_volume).abs() < 1e-12, "{lost} vs {p_volume}");
    assert!((p_volume - 0.181_54).abs() < 1e-4, "{p_volume}");
    let m = PGS as f64 / g as f64;
    let (gf, q1, q2) = (g as f64, q(1).powi(3), q(2).powi(3));
    let var = m * m * (gf * q1 + gf * (gf - 1.0) * q2 - (gf * q1).powi(2));
    let text = burst_scenario(PGS, "copyset", &[("az-a", 6), ("az-b", 6), ("az-c", 6)]);
    let row = sweep_row(dir.path(), &text, TRIALS);
    check_burst(&row, TRIALS as f64, p_volume, m * gf * q1, var.sqrt());
}

// See: issue 13
#[test]
fn issue_13_burst_over_the_whole_fleet_random_placement() {
    // `count = 18` without `az`: 18 distinct nodes of all 30, uniformly, so
    // the numbers (fa, fb, fc) hit in each AZ are multivariate
    // hypergeometric: C(10,fa)C(10,fb)C(10,fc)/C(30,18). Given them, PGs
    // (random placement) independently lose data with probability
    // p(f) = Π_a C(f_a,2)/C(10,2), so
    //   P(volume loss) = Σ_f P(f) (1 − (1 − p(f))^P),
    //   E[events] = P·Σ_f P(f) p(f),
    //   Var[events] = E[P p(1−p)] + Var[P p] (total variance).
    let dir = tempfile::tempdir().unwrap();
    let (k, pgs) = (18u64, PGS as f64);
    let (mut pv, mut e1, mut e2, mut within) = (0.0, 0.0, 0.0, 0.0);
    for fa in 0..=N {
        for fb in 0..=N {
            let Some(fc) = k.checked_sub(fa + fb).filter(|&c| c <= N) else {
                continue;
            };
            let w = choose(N, fa) * choose(N, fb) * choose(N, fc) / choose(3 * N, k);
            let p: f64 = [fa, fb, fc]
                .iter()
                .map(|&x| choose(x, 2) / choose(N, 2))
                .product();
            pv += w * (1.0 - (1.0 - p).powi(PGS as i32));
            e1 += w * pgs * p;
            e2 += w * (pgs * p).powi(2);
            within += w * pgs * p * (1.0 - p);
        }
    }
    let var = within + e2 - e1 * e1;
    assert!((0.3..0.7).contains(&pv), "{pv}");
    let text = burst_scenario(PGS, "random", &[("", k as u32)]);
    let row = sweep_row(dir.path(), &text, TRIALS);
    check_burst(&row, TRIALS as f64, pv, e1, var.sqrt());
}

// See: issue 13
#[test]
fn issue_13_waiting_repairs_go_in_order_of_the_instant_they_became_startable() {
    // Copyset, N = 4 (groups {1,2}, {3,4}), P = 4: PGs 0 and 2 use group 0.
    // One stream per node, repair 1 h. az-a-1 lost at 1 h: both PGs' slot-0
    // repairs target az-a-1; PG 0 starts (source az-a-2), PG 2 waits from
    // 1 h. az-a-2 crashes at 1 h 30 m (10 m): PG 0's repair loses its source
    // and becomes startable again at 1 h 30 m, freeing az-a-1's stream. The
    // queue is ordered by (instant startable, PG, slot), so PG 2 (1 h) goes
    // first, from az-b-1, done 2 h 30 m; PG 0 (1 h 30 m) waits for the target
    // until then, done 3 h 30 m. Longest wait: PG 0's 1 h (PG order first
    // would make PG 2 wait 1 h 30 m).
    let dir = tempfile::tempdir().unwrap();
    let sc = write(
        dir.path(),
        "queue.toml",
        "name = \"queue\"\nhorizon = \"5h\"\n[cluster]\nrepair_time = \"1h\"\n\
         [volume]\nsize = \"40GiB\"\nplacement = \"copyset\"\n\
         [fleet]\nnodes_per_az = 4\nrepair_streams = 1\n\
         [[events]]\nat = \"1h\"\nkind = \"node-loss\"\nnode = \"az-a-1\"\n\
         [[events]]\nat = \"1h30m\"\nkind = \"node-crash\"\nnode = \"az-a-2\"\nlasts = \"10m\"\n",
    );
    let tl = dir.path().join("tl.csv");
    let v = run_json(&sc, &["--timeline", tl.to_str().unwrap()]);
    assert_eq!(v["repairs"], 2);
    assert_eq!(v["longest_repair_wait_seconds"], 3600.0);
    assert_eq!(v["write_unavailable_seconds"], 0.0);
    let rows = std::fs::read_to_string(&tl).unwrap();
    let done: Vec<&str> = rows
        .lines()
        .filter(|l| l.contains(",repair-done,"))
        .collect();
    assert_eq!(done.len(), 2, "{rows}");
    assert!(done[0].starts_with("9000,repair-done,az-a-1,"), "{rows}");
    assert!(done[1].starts_with("12600,repair-done,az-a-1,"), "{rows}");
}

/// A volume scenario with every §4 mechanism: random placement over racks,
/// repair streams, rack outages, bursts and background failures.
const BUSY: &str = r#"name = "busy"
horizon = "60d"
seed = 11
[cluster]
repair_time = { dist = "exponential", mean = "6h" }
detection_delay = "1m"
[volume]
size = "400GiB"
placement = "random"
[fleet]
nodes_per_az = 8
racks_per_az = 4
repair_streams = 2
[failures.node_crash]
every = "20d"
lasts = "30m"
[failures.node_loss]
every = "15d"
[failures.rack_outage]
every = "30d"
lasts = "2h"
[[events]]
at = "1d"
kind = "node-loss"
count = 3
az = "az-b"
[[events]]
at = "2d"
kind = "rack-outage"
az = "az-a"
rack = 2
lasts = "6h"
"#;

// See: issue 13
#[test]
fn issue_13_volume_runs_and_sweeps_are_deterministic() {
    // The same seed gives the same bytes (`run --json`, `--timeline`); a
    // sweep's CSV does not depend on the thread count; shards 1/2 and 2/2
    // merged are the unsharded CSV byte for byte.
    let dir = tempfile::tempdir().unwrap();
    let sc = write(dir.path(), "busy.toml", BUSY);
    let mut outs = Vec::new();
    for i in 0..2 {
        let tl = dir.path().join(format!("tl{i}.csv"));
        let o = bin()
            .arg("run")
            .arg(&sc)
            .args(["--json", "--timeline"])
            .arg(&tl)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        outs.push((o.stdout, std::fs::read(&tl).unwrap()));
    }
    assert_eq!(outs[0], outs[1]);
    let v: Value = serde_json::from_slice(&outs[0].0).unwrap();
    assert!(v["repairs"].as_u64().unwrap() > 0, "{v}");
    let rows = String::from_utf8(outs[0].1.clone()).unwrap();
    assert!(rows.contains(",rack-outage,az-a/rack-2,"), "{rows}");
    // A different seed gives a different run.
    let other = run_json(&sc, &["--seed", "12"]);
    assert_ne!(Value::Object(other), v);

    let grid = [
        "--trials",
        "24",
        "--quiet",
        "--vary",
        "volume.placement=random,copyset",
    ];
    let sweep = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let o = bin()
            .arg("sweep")
            .arg(&sc)
            .args(grid)
            .args(extra)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let one = std::fs::read(sweep("t1.csv", &["--threads", "1"])).unwrap();
    let two = std::fs::read(sweep("t2.csv", &["--threads", "2"])).unwrap();
    assert_eq!(one, two);
    assert_eq!(String::from_utf8_lossy(&one).lines().count(), 3);
    let p1 = sweep("p1.json", &["--shard", "1/2", "--threads", "2"]);
    let p2 = sweep("p2.json", &["--shard", "2/2", "--threads", "1"]);
    let merged = dir.path().join("merged.csv");
    bin()
        .arg("merge")
        .arg(&p2)
        .arg(&p1)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_eq!(std::fs::read(&merged).unwrap(), one);
}
