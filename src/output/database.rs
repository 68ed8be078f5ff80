//! Database lines of the `run` report, `check` summary and `run --json`
//! (SPEC §5).

use crate::model::{Config, Database, DesignSpec, RunStats};
use crate::time::format_duration;
use serde::Serialize;
use std::fmt::Write;

/// The keys `run --json` adds for a scenario with `[database]`.
#[derive(Serialize, Debug)]
pub struct DbJson {
    /// The design simulated.
    pub design: &'static str,
    /// Instances (writer first).
    pub instances: usize,
    /// Completed failovers.
    pub failovers: u64,
    /// Writer losses that ended in place.
    pub restarts: u64,
    /// Seconds the storage layer stopped writes.
    pub storage_write_unavailable_seconds: f64,
    /// Seconds no writer served.
    pub compute_write_unavailable_seconds: f64,
}

impl DbJson {
    /// The database keys of a run, if it had a database.
    pub fn new(cfg: &Config, st: &RunStats) -> Option<DbJson> {
        let (db, d) = (cfg.database.as_ref()?, st.database.as_ref()?);
        Some(DbJson {
            design: db.design.as_str(),
            instances: db.spec.instances.len(),
            failovers: d.failovers,
            restarts: d.restarts,
            storage_write_unavailable_seconds: d.storage_write_unavailable.as_secs_f64(),
            compute_write_unavailable_seconds: d.compute_write_unavailable.as_secs_f64(),
        })
    }
}

/// The instances as `1 az-a (writer), 2 az-b, …`.
pub fn instances(cfg: &Config, spec: &DesignSpec) -> String {
    let names: Vec<String> = spec
        .instances
        .iter()
        .enumerate()
        .map(|(i, &a)| {
            let role = if i == 0 { " (writer)" } else { "" };
            format!("{} {}{role}", i + 1, cfg.layout.azs[a])
        })
        .collect();
    names.join(", ")
}

/// The report lines of a database run: who caused the write downtime.
pub fn run_lines(s: &mut String, cfg: &Config, st: &RunStats) {
    let (Some(db), Some(d)) = (cfg.database.as_ref(), st.database.as_ref()) else {
        return;
    };
    let _ = writeln!(
        s,
        "  database            {} — {}",
        db.design.as_str(),
        instances(cfg, &db.spec)
    );
    let _ = writeln!(
        s,
        "  failovers           {}   restarts {}",
        d.failovers, d.restarts
    );
    let _ = writeln!(
        s,
        "  writes stopped by   storage {}, compute {} (an instant with both counts in both)",
        format_duration(d.storage_write_unavailable),
        format_duration(d.compute_write_unavailable)
    );
}

/// The `check` lines of `[database]`.
pub fn check_lines(s: &mut String, cfg: &Config) {
    let Some(db) = &cfg.database else { return };
    let _ = writeln!(s, "\ndatabase");
    spec_lines(s, cfg, db, &db.spec);
    if let Some(p) = &db.instance_crash {
        let lasts = p.describe_lasts();
        let _ = writeln!(
            s,
            "  instance_crash     per instance: every {}{lasts}",
            p.every.describe()
        );
    }
    if let Some(p) = &db.ebs_loss {
        let _ = writeln!(
            s,
            "  ebs_loss           per EBS volume: every {}",
            p.every.describe()
        );
    }
    let f = &cfg.failures;
    if db.design.is_rds()
        && (f.node_crash.is_some() || f.node_loss.is_some() || f.rack_outage.is_some())
    {
        let _ = writeln!(
            s,
            "  note               node and rack processes have no target in an RDS design (no storage nodes): they change nothing"
        );
    }
}

fn spec_lines(s: &mut String, cfg: &Config, db: &Database, spec: &DesignSpec) {
    let _ = writeln!(s, "  design             {}", db.design.as_str());
    let _ = writeln!(s, "  instances          {}", instances(cfg, spec));
    if db.design != crate::model::Design::RdsSingleAz {
        let _ = writeln!(s, "  failover time      {}", spec.failover_time.describe());
    }
    let _ = writeln!(s, "  restart time       {}", spec.restart_time.describe());
    if db.design.is_rds() {
        let _ = writeln!(s, "  resync time        {}", spec.resync_time.describe());
        let _ = writeln!(s, "  backup lag         {}", spec.backup_lag.describe());
        let _ = writeln!(
            s,
            "  restore time       {} (cluster.restore_time)",
            cfg.restore_time.describe()
        );
    }
}
