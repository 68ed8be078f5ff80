//! `[database]`, `[database.<design>]`, `[failures.instance_crash]` and
//! `[failures.ebs_loss]` (SPEC §5): designs, instances and timings, checked
//! with file positions like every other value.

use super::raw::{RawDatabase, RawDesign, RawEvent, RawFailures};
use super::validate::{Bare, V, Zero};
use crate::error::InputError;
use crate::model::{Database, Design, DesignSpec, Layout};
use std::collections::HashSet;
use toml::Spanned;

/// The named design's spec, every design's variant for `compare`, and the
/// two database processes.
pub(super) fn database(
    v: &V<'_, '_>,
    raw: Option<&Spanned<RawDatabase>>,
    failures: Option<&Spanned<RawFailures>>,
    layout: &Layout,
) -> Result<Option<Database>, InputError> {
    let f = failures.map(Spanned::get_ref);
    let ic = f.and_then(|f| f.instance_crash.as_ref());
    let el = f.and_then(|f| f.ebs_loss.as_ref());
    let Some(rd) = raw else {
        for (p, name) in [(ic, "instance_crash"), (el, "ebs_loss")] {
            if let Some(p) = p {
                return Err(v.err(
                    p,
                    &format!("failures.{name}"),
                    "needs a [database] table (instances to fail)",
                ));
            }
        }
        return Ok(None);
    };
    if let Some(p) = el
        && let Some(l) = &p.get_ref().lasts
    {
        return Err(v.err(
            l,
            "failures.ebs_loss.lasts",
            "not allowed: an EBS loss is permanent (the volume is replaced and resyncs, or restored from backup)",
        ));
    }
    let none = None;
    let f = failures.map(Spanned::get_ref);
    let instance_crash = v.process(
        f.map_or(&none, |f| &f.instance_crash),
        "instance_crash",
        true,
    )?;
    let ebs_loss = v.process(f.map_or(&none, |f| &f.ebs_loss), "ebs_loss", false)?;
    let r = rd.get_ref();
    let design = match &r.design {
        Some(d) => v.choice(d, "database.design", &Design::ALL.map(|d| (d.as_str(), d)))?,
        None => Design::Aurora,
    };
    let top = RawDesign {
        instances: r.instances.clone(),
        failover_time: r.failover_time.clone(),
        restart_time: r.restart_time.clone(),
        resync_time: r.resync_time.clone(),
        backup_lag: r.backup_lag.clone(),
    };
    let spec = spec_for(v, design, &top, "database", rd.span().start, layout)?;
    let mut variants = Vec::new();
    for d in Design::ALL {
        let sub = match d {
            Design::Aurora => &r.aurora,
            Design::RdsSingleAz => &r.rds_single_az,
            Design::RdsMultiAz => &r.rds_multi_az,
            Design::RdsMultiAzCluster => &r.rds_multi_az_cluster,
        };
        let key = format!("database.{}", d.as_str());
        let s = match sub {
            // The named design's own timings are the top-level ones; a table
            // for it would be a second place to say the same thing.
            Some(s) if d == design => {
                return Err(v.err(
                    s,
                    &key,
                    format!(
                        "`{}` is the design simulated here: set its keys in [database] itself",
                        d.as_str()
                    ),
                ));
            }
            Some(s) => spec_for(v, d, s.get_ref(), &key, s.span().start, layout)?,
            None if d == design => spec.clone(),
            None => match spec_for(v, d, &RawDesign::default(), &key, rd.span().start, layout) {
                Ok(s) => s,
                // Not possible on this cluster (too few AZs): compare says so.
                Err(_) => continue,
            },
        };
        variants.push((d, s));
    }
    Ok(Some(Database {
        design,
        spec,
        variants,
        instance_crash,
        ebs_loss,
        mismatches: Vec::new(),
    }))
}

/// One design's spec: its defaults with the table's keys applied.
fn spec_for(
    v: &V<'_, '_>,
    design: Design,
    raw: &RawDesign,
    key: &str,
    table_at: usize,
    layout: &Layout,
) -> Result<DesignSpec, InputError> {
    let name = design.as_str();
    let mut s = DesignSpec::defaults(design, layout.azs.len());
    let (min, max) = design.instance_range();
    let ikey = format!("{key}.instances");
    match &raw.instances {
        Some(list) => {
            let n = list.get_ref().len();
            if n < min || n > max {
                let want = if min == max {
                    format!("{min}")
                } else {
                    format!("{min} to {max}")
                };
                return Err(v.err(
                    list,
                    &ikey,
                    format!("{n} instances; design \"{name}\" takes {want}"),
                ));
            }
            s.instances.clear();
            for a in list.get_ref() {
                let idx = layout.az_index(a.get_ref().trim()).ok_or_else(|| {
                    v.err(
                        a,
                        &ikey,
                        format!(
                            "unknown AZ `{}` (AZs: {})",
                            a.get_ref(),
                            layout.azs.join(", ")
                        ),
                    )
                })?;
                s.instances.push(idx);
            }
        }
        None => {
            if layout.azs.len() < s.instances.len() && design.is_rds() {
                return Err(v.loc.error(
                    table_at,
                    &ikey,
                    format!(
                        "design \"{name}\" needs {} AZs; cluster.azs has {}",
                        s.instances.len(),
                        layout.azs.len()
                    ),
                ));
            }
        }
    }
    if matches!(design, Design::RdsMultiAz | Design::RdsMultiAzCluster) {
        let distinct: HashSet<usize> = s.instances.iter().copied().collect();
        if distinct.len() != s.instances.len() {
            let at = raw.instances.as_ref().map_or(table_at, |l| l.span().start);
            return Err(v.loc.error(
                at,
                &ikey,
                format!("design \"{name}\" needs its instances in distinct AZs"),
            ));
        }
    }
    let refuse = |x: &Option<Spanned<toml::Value>>, k: &str, why: &str| match x {
        Some(x) => Err(v.err(
            x,
            &format!("{key}.{k}"),
            format!("not allowed for design \"{name}\" ({why})"),
        )),
        None => Ok(()),
    };
    if design == Design::RdsSingleAz {
        refuse(
            &raw.failover_time,
            "failover_time",
            "one instance: nothing to fail over to",
        )?;
    }
    if design == Design::Aurora {
        refuse(
            &raw.resync_time,
            "resync_time",
            "readers share the storage and need no resync",
        )?;
        refuse(
            &raw.backup_lag,
            "backup_lag",
            "Aurora's is cluster.backup_lag",
        )?;
    }
    let timing = |x: &Option<Spanned<toml::Value>>, k: &str, d: &mut crate::model::Dist| {
        if let Some(x) = x {
            *d = v.timing(x, &format!("{key}.{k}"), Bare::Fixed, Zero::Allowed)?;
        }
        Ok::<(), InputError>(())
    };
    timing(&raw.failover_time, "failover_time", &mut s.failover_time)?;
    timing(&raw.restart_time, "restart_time", &mut s.restart_time)?;
    timing(&raw.resync_time, "resync_time", &mut s.resync_time)?;
    timing(&raw.backup_lag, "backup_lag", &mut s.backup_lag)?;
    Ok(s)
}

/// What the named design has no target for: errors for `run` and `check`,
/// skipped (and listed) by `compare`.
pub(super) fn mismatches(
    v: &V<'_, '_>,
    db: &Database,
    failures: Option<&Spanned<RawFailures>>,
    events: &[Spanned<RawEvent>],
) -> Vec<InputError> {
    let mut out = Vec::new();
    let name = db.design.as_str();
    if !db.design.is_rds()
        && let Some(p) = failures.and_then(|f| f.get_ref().ebs_loss.as_ref())
    {
        out.push(v.err(
            p,
            "failures.ebs_loss",
            format!("design \"{name}\" has no EBS volumes (its data is the storage); `compare` skips it for Aurora"),
        ));
    }
    for (i, e) in events.iter().enumerate() {
        let kind = e.get_ref().kind.get_ref().as_str();
        let bad = match kind {
            "ebs-loss" => !db.design.is_rds(),
            "node-crash" | "node-loss" | "rack-outage" => db.design.is_rds(),
            _ => false,
        };
        if bad {
            let what = if db.design.is_rds() {
                "has no storage nodes or racks (its data is on EBS volumes)"
            } else {
                "has no EBS volumes (its data is the storage)"
            };
            out.push(v.err(
                &e.get_ref().kind,
                &format!("events[{i}].kind"),
                format!("`{kind}`: design \"{name}\" {what}; `compare` skips it for this design"),
            ));
        }
    }
    out
}
