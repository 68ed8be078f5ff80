//! Hand-derived replays of SPEC §5 per design, and a closed form.

use crate::analysis::run::simulate;
use crate::analysis::stats::Moments;
use crate::model::RunStats;
use crate::scenario::{Overrides, parse};

const S: f64 = 1.0;
const MIN: f64 = 60.0;
const H: f64 = 3600.0;

fn run_src(src: &str) -> RunStats {
    let sc = parse(src, "db.toml", &Overrides::default()).unwrap();
    simulate(&sc.config, sc.seed, sc.horizon).unwrap()
}

/// A one-day scenario of `design` with extra `[database]` keys and events.
fn scenario(design: &str, db_keys: &str, events: &str) -> String {
    format!(
        "name = \"t\"\nhorizon = \"1d\"\n[database]\ndesign = \"{design}\"\n{db_keys}\n{events}"
    )
}

fn crash(at: &str, instance: usize, lasts: &str) -> String {
    format!(
        "[[events]]\nat = \"{at}\"\nkind = \"instance-crash\"\ninstance = {instance}\nlasts = \"{lasts}\"\n"
    )
}

fn ebs(at: &str, instance: usize) -> String {
    format!("[[events]]\nat = \"{at}\"\nkind = \"ebs-loss\"\ninstance = {instance}\n")
}

fn down(st: &RunStats) -> f64 {
    st.write.total.as_secs_f64()
}

fn db(st: &RunStats) -> &crate::model::DbStats {
    st.database.as_ref().unwrap()
}

// See: issue 14
#[test]
fn issue_14_one_writer_crash_per_design_is_the_seeds_comparison() {
    // A 1 h crash of the writer at 3 h, longer than every timing: writes
    // are out exactly failover_time where an in-sync standby or a reader
    // is up (aurora 30 s, multi-AZ 90 s, cluster 35 s — the defaults of
    // the §5 table), restart_time (600 s) on Single-AZ, which has none.
    for (design, want, failovers, restarts) in [
        ("aurora", 30.0, 1, 0),
        ("rds-single-az", 600.0, 0, 1),
        ("rds-multi-az", 90.0, 1, 0),
        ("rds-multi-az-cluster", 35.0, 1, 0),
    ] {
        let st = run_src(&scenario(design, "", &crash("3h", 1, "1h")));
        assert_eq!(down(&st), want * S, "{design}");
        assert_eq!(st.write.count, 1, "{design}");
        assert_eq!(
            (db(&st).failovers, db(&st).restarts),
            (failovers, restarts),
            "{design}"
        );
        // Compute caused it all; storage none; no data lost.
        assert_eq!(db(&st).compute_write_unavailable.as_secs_f64(), want);
        assert_eq!(db(&st).storage_write_unavailable.0, 0);
        assert_eq!(st.data_loss_events, 0);
    }
}

// See: issue 14
#[test]
fn issue_14_restart_or_old_writer_back_whichever_first() {
    // Aurora with no reader: a 1 h crash ends at restart_time (600 s); a
    // 5 min crash ends when the old writer is back (300 s). Both restarts.
    let one = "instances = [\"az-a\"]";
    let st = run_src(&scenario("aurora", one, &crash("3h", 1, "1h")));
    assert_eq!((down(&st), db(&st).restarts), (600.0, 1));
    let st = run_src(&scenario("aurora", one, &crash("3h", 1, "5m")));
    assert_eq!((down(&st), db(&st).restarts), (300.0, 1));
}

// See: issue 14
#[test]
fn issue_14_failover_target_down_mid_failover_starts_again() {
    // Three Aurora instances. Writer down at 3 h; failover to 2 begins; 2
    // crashes 10 s later, so the failover starts again on 3 with the full
    // 30 s: writes are back at 3 h + 40 s.
    let three = "instances = [\"az-a\", \"az-b\", \"az-c\"]";
    let ev = format!("{}{}", crash("3h", 1, "1h"), crash("3h0m10s", 2, "1h"));
    let st = run_src(&scenario("aurora", three, &ev));
    assert_eq!(down(&st), 40.0);
    assert_eq!(db(&st).failovers, 1);
    // With only two instances the aborted failover turns into a restart,
    // 600 s from the abort: 10 + 600 s.
    let ev = format!("{}{}", crash("3h", 1, "1h"), crash("3h0m10s", 2, "1h"));
    let st = run_src(&scenario("aurora", "", &ev));
    assert_eq!(
        (down(&st), db(&st).failovers, db(&st).restarts),
        (610.0, 0, 1)
    );
}

// See: issue 14
#[test]
fn issue_14_multi_az_standby_resync() {
    // Standby down 1 h → 2 h while the primary serves: out of sync at once;
    // back at 2 h, in sync at 2 h 10 m (resync_time). A primary crash at
    // 2 h 05 m finds no in-sync standby: restart, 600 s. At 2 h 15 m the
    // standby is in sync: failover, 90 s.
    let early = format!("{}{}", crash("1h", 2, "1h"), crash("2h5m", 1, "1h"));
    let st = run_src(&scenario("rds-multi-az", "", &early));
    assert_eq!(
        (down(&st), db(&st).restarts, db(&st).failovers),
        (10.0 * MIN, 1, 0)
    );
    let late = format!("{}{}", crash("1h", 2, "1h"), crash("2h15m", 1, "1h"));
    let st = run_src(&scenario("rds-multi-az", "", &late));
    assert_eq!(
        (down(&st), db(&st).restarts, db(&st).failovers),
        (90.0, 0, 1)
    );
}

// See: issue 14
#[test]
fn issue_14_multi_az_ebs_losses() {
    // The primary's volume lost with an in-sync standby up: a failover
    // (90 s), no data lost.
    let st = run_src(&scenario("rds-multi-az", "", &ebs("2h", 1)));
    assert_eq!(
        (down(&st), st.data_loss_events, db(&st).failovers),
        (90.0, 0, 1)
    );
    // Both copies lost: the standby's at 1 h (replaced empty, resyncing
    // until 1 h 10 m), the primary's at 1 h 05 m. No in-sync copy survives:
    // one data-loss event, a restore of cluster.restore_time (1 h), and
    // min(backup_lag 5 m, writes so far 1 h 05 m) = 300 s of writes lost.
    let ev = format!("{}{}", ebs("1h", 2), ebs("1h5m", 1));
    let st = run_src(&scenario("rds-multi-az", "", &ev));
    assert_eq!((down(&st), st.data_loss_events), (H, 1));
    assert_eq!(st.lost_write_us, 300_000_000);
    assert_eq!(
        st.first_data_loss.map(|t| t.as_secs_f64()),
        Some(H + 5.0 * MIN)
    );
    // The restore is storage downtime (and no writer serves: compute too).
    assert_eq!(db(&st).storage_write_unavailable.as_secs_f64(), H);
    // Single-AZ volume lost at 2 m: only 120 s of writes existed to lose.
    let st = run_src(&scenario("rds-single-az", "", &ebs("2m", 1)));
    assert_eq!(
        (down(&st), st.data_loss_events, st.lost_write_us),
        (H, 1, 120_000_000)
    );
}

// See: issue 14
#[test]
fn issue_14_single_az_az_outage_and_loss() {
    // A 2 h AZ outage stops Single-AZ for 2 h (the restart cannot run in
    // an unreachable AZ; the instance is back with the AZ).
    let outage = "[[events]]\nat = \"1h\"\nkind = \"az-outage\"\naz = \"az-a\"\nlasts = \"2h\"\n";
    let st = run_src(&scenario("rds-single-az", "", outage));
    assert_eq!((down(&st), st.data_loss_events), (2.0 * H, 0));
    // A 2 h AZ loss destroys the volume: data loss at 1 h, a restore into
    // the first reachable AZ (az-b) taking restore_time (1 h) from the loss,
    // 5 min of writes lost.
    let loss = outage.replace("az-outage", "az-loss");
    let st = run_src(&scenario("rds-single-az", "", &loss));
    assert_eq!(
        (down(&st), st.data_loss_events, st.lost_write_us),
        (H, 1, 300_000_000)
    );
}

// See: issue 14
#[test]
fn issue_14_cluster_writes_stop_without_an_acknowledging_standby() {
    // Standby 2 down 1 h → 2 h (out of sync at once: standby 3 still
    // acknowledges); standby 3 down at 1 h 30 m stops writes and keeps its
    // flag; at 2 h standby 2 is back but resyncs until 2 h 10 m, and 3 is
    // down until 2 h 30 m: writes stop 1 h 30 m → 2 h 10 m = 40 min, all of
    // it the storage layer's (the writer serves throughout).
    let ev = format!("{}{}", crash("1h", 2, "1h"), crash("1h30m", 3, "1h"));
    let st = run_src(&scenario("rds-multi-az-cluster", "", &ev));
    assert_eq!(down(&st), 40.0 * MIN);
    assert_eq!(db(&st).storage_write_unavailable.as_secs_f64(), 40.0 * MIN);
    assert_eq!(db(&st).compute_write_unavailable.0, 0);
    // Reads go on: an instance with a volume is up throughout.
    assert_eq!(st.read.total.0, 0);
}

// See: issue 14
#[test]
fn issue_14_aurora_database_follows_its_storage() {
    // With no instance failures the writer always serves, so the database's
    // write downtime is the storage's: two nodes of az-a down for 1 h plus
    // one of az-b leave 3 of 6 replicas — no write quorum for 1 h.
    let ev = "[[events]]\nat = \"1h\"\nkind = \"az-outage\"\naz = \"az-a\"\nlasts = \"1h\"\n\
              [[events]]\nat = \"1h\"\nkind = \"node-crash\"\nnode = \"az-b-1\"\nlasts = \"1h\"\n";
    let st = run_src(&scenario("aurora", "", ev));
    assert_eq!(down(&st), H);
    assert_eq!(db(&st).storage_write_unavailable.as_secs_f64(), H);
    // The AZ outage also takes instance 1 (az-a) down: a failover to the
    // reader in az-b, 30 s of compute downtime inside the storage's hour.
    assert_eq!(db(&st).compute_write_unavailable.as_secs_f64(), 30.0);
}

// See: issue 14
#[test]
fn issue_14_single_az_crashes_match_the_alternating_renewal_closed_form() {
    // Crashes every exp(mean 1 h) of up time, each lasting 1 d (fixed), so
    // every outage ends at restart_time r = 600 s exactly, and the crash
    // process draws afresh at each restart: an alternating renewal process
    // with unavailability λr / (1 + λr) = (1/6) / (7/6) = 1/7.
    let src = "name = \"t\"\nhorizon = \"20d\"\n[database]\ndesign = \"rds-single-az\"\n\
               [failures.instance_crash]\nevery = \"1h\"\nlasts = { dist = \"fixed\", value = \"1d\" }\n";
    let sc = parse(src, "db.toml", &Overrides::default()).unwrap();
    let trials = 40u64;
    let mut m = Moments::default();
    for t in 0..trials {
        let seed = crate::analysis::sweep::trial_seed(7, t);
        m.add(
            simulate(&sc.config, seed, sc.horizon)
                .unwrap()
                .write
                .total
                .0,
        );
    }
    let (a, ci) = m.availability(trials, sc.horizon.0 as f64);
    let (lo, hi) = ci.unwrap();
    let want = 1.0 - 1.0 / 7.0;
    assert!(lo <= want && want <= hi, "{a} [{lo}, {hi}] vs {want}");
    // The interval is narrow enough to mean something (±0.5 %).
    assert!(hi - lo < 0.01, "{lo} {hi}");
}
