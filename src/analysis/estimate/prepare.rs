//! What `estimate` refuses, and the configuration it runs: scripted events
//! are refused; failure processes must be exponential, or with `--approx`
//! become exponentials of the same mean (listed).

use super::Measure;
use crate::error::{Error, InputError};
use crate::model::database::Design;
use crate::model::storage::Storage;
use crate::model::{Config, Dist, Process};
use crate::scenario::Scenario;
use crate::time::SimTime;

/// A scenario ready to estimate.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The configuration, with `--approx` substitutions made.
    pub config: Config,
    /// What is estimated.
    pub measure: Measure,
    /// Horizon of `p_data_loss` (unused for cycles).
    pub horizon: SimTime,
    /// Whether the measure can be positive at all (else: 0, no trials).
    pub possible: bool,
    /// Λ: the total failure rate of the all-up state, per second (with a
    /// focus PG, of the failures that can touch it).
    pub all_up_rate: f64,
    /// `p_data_loss` on a volume of several PGs: their number (one PG,
    /// drawn per trial, is biased: the union estimator).
    pub focus_pgs: Option<u64>,
    /// With a focus: one PG of the same cluster alone, for the pilot runs
    /// that tune the split (see `tune.rs`).
    pub pilot: Option<Config>,
    /// `(key, was, mean seconds)` of each process replaced by `--approx`.
    pub approximated: Vec<(String, String, f64)>,
    /// The `[database]` design estimated, if any.
    pub design: Option<&'static str>,
    /// What the estimate leaves out because it cannot change the measure
    /// (with why), e.g. storage-node processes under an RDS design.
    pub left_out: Vec<String>,
}

impl Prepared {
    /// Adds what a design run (`--design`) skipped, unless already listed
    /// (by its key, the text before the first space).
    pub fn add_left_out(&mut self, skipped: Vec<String>) {
        for x in skipped {
            let key = x.split(' ').next().unwrap_or_default();
            if !self
                .left_out
                .iter()
                .any(|y| y.split(' ').next() == Some(key))
            {
                self.left_out.push(x);
            }
        }
    }
}

/// The line (1-based) of `[failures.NAME]` or `[[events]]` in `src`.
fn line_of(src: &str, header: &str) -> Option<usize> {
    src.lines()
        .position(|l| l.trim_start().starts_with(header))
        .map(|i| i + 1)
}

/// Checks `sc` for `estimate` and builds what it runs.
pub fn prepare(
    sc: &Scenario,
    path: &str,
    src: &str,
    measure: Measure,
    approx: bool,
) -> Result<Prepared, Error> {
    let at = |header: &str, key: &str, m: String| {
        let mut e = InputError::new(path, m).with_key(key);
        e.location = line_of(src, header).map(|l| (l, 1));
        Error::Input(e)
    };
    let mut cfg = sc.config.clone();
    if !cfg.events.is_empty() {
        return Err(at(
            "[[events]]",
            "events",
            "estimate samples background failures only; scripted events (an incident's \
             replay) have no rate to bias: remove the [[events]] tables, or replay them with \
             `run`"
                .into(),
        ));
    }
    let mut left_out = Vec::new();
    let design = cfg.database.as_ref().map(|d| d.design);
    match design {
        Some(Design::Aurora) if measure == Measure::DataLoss => {
            // Aurora's data is its storage, which never sees the instances.
            cfg.database = None;
            left_out.push(
                "the [database] instances: Aurora's data is its storage, which no instance \
                 failure touches, so P(data loss) is the storage's"
                    .to_string(),
            );
        }
        Some(d) if d.is_rds() => {
            // The storage underneath holds nothing of an RDS database's data
            // and serves none of its writes (SPEC §5): only its AZs matter.
            let f = &mut cfg.failures;
            for (p, name) in [
                (&mut f.node_crash, "node_crash"),
                (&mut f.node_loss, "node_loss"),
                (&mut f.rack_outage, "rack_outage"),
            ] {
                if p.take().is_some() {
                    left_out.push(format!(
                        "failures.{name} (no storage nodes in {})",
                        d.as_str()
                    ));
                }
            }
            if cfg.replace_down_after.take().is_some() {
                left_out.push(format!(
                    "replace_down_after (no storage nodes in {})",
                    d.as_str()
                ));
            }
            cfg.storage = Storage::single(&cfg.layout);
        }
        _ => {}
    }
    let mut approximated = Vec::new();
    let f = &mut cfg.failures;
    let procs: [(&str, &mut Option<Process>); 5] = [
        ("node_crash", &mut f.node_crash),
        ("node_loss", &mut f.node_loss),
        ("az_outage", &mut f.az_outage),
        ("az_loss", &mut f.az_loss),
        ("rack_outage", &mut f.rack_outage),
    ];
    let mut procs: Vec<(&str, &mut Option<Process>)> = procs.into_iter().collect();
    if let Some(db) = cfg.database.as_mut() {
        procs.push(("instance_crash", &mut db.instance_crash));
        procs.push(("ebs_loss", &mut db.ebs_loss));
    }
    for (name, p) in procs {
        let Some(p) = p.as_mut() else { continue };
        if p.every.is_memoryless() {
            continue;
        }
        let key = format!("failures.{name}.every");
        let header = format!("[failures.{name}]");
        let mean = p.every.mean_secs();
        if !approx {
            return Err(at(
                &header,
                &key,
                format!(
                    "is {} (mean {mean:.6} s), not exponential: importance sampling changes \
                     failure rates, which needs memoryless failure times; pass --approx to use \
                     an exponential of the same mean",
                    p.every.describe()
                ),
            ));
        }
        let us = mean * 1e6;
        let exp = if us.is_finite() && us >= 1.0 && us < u64::MAX as f64 {
            Dist::exponential(SimTime(us.round() as u64)).ok()
        } else {
            None
        };
        let Some(exp) = exp else {
            return Err(at(
                &header,
                &key,
                format!(
                    "{} has no finite mean in range, so --approx has no exponential to put \
                     in its place",
                    p.every.describe()
                ),
            ));
        };
        approximated.push((key, p.every.describe(), mean));
        p.every = exp;
    }
    let f = &cfg.failures;
    let rate = |p: &Option<Process>| p.as_ref().map_or(0.0, |p| 1.0 / p.every.mean_secs());
    let st = &cfg.storage;
    let (nodes, azs) = (st.nodes() as f64, cfg.layout.azs.len() as f64);
    let focus_pgs = (measure == Measure::DataLoss && st.pgs > 1).then_some(st.pgs as u64);
    let racks = azs * st.racks_per_az as f64;
    // With a focus, the PG's V nodes and at most V of the racks.
    let v = cfg.layout.replicas() as f64;
    let (nodes, racks) = match focus_pgs {
        Some(_) => (v, racks.min(v)),
        None => (nodes, racks),
    };
    // A database's instances crash while up, its RDS volumes are lost
    // while present: all of them in the all-up state.
    let db_rate = cfg.database.as_ref().map_or(0.0, |d| {
        let ebs = d.ebs_process().map_or(0.0, |p| 1.0 / p.every.mean_secs());
        d.spec.instances.len() as f64 * (rate(&d.instance_crash) + ebs)
    });
    let all_up_rate = nodes * (rate(&f.node_crash) + rate(&f.node_loss))
        + azs * (rate(&f.az_outage) + rate(&f.az_loss))
        + racks * rate(&f.rack_outage)
        + db_rate;
    // Only a node loss, an AZ loss or a give-up destroys the storage's
    // data; an RDS database's, an EBS loss or an AZ loss. Without any
    // failure nothing is ever unavailable.
    let possible = match (measure, &cfg.database) {
        (Measure::DataLoss, Some(d)) => d.ebs_loss.is_some() || f.az_loss.is_some(),
        (Measure::DataLoss, None) => {
            f.node_loss.is_some() || f.az_loss.is_some() || cfg.replace_down_after.is_some()
        }
        (Measure::WriteUnavailability, _) => all_up_rate > 0.0,
    } && all_up_rate > 0.0;
    let pilot = focus_pgs.map(|_| {
        let mut one = cfg.clone();
        let racks = cfg.storage.racks_per_az.min(cfg.layout.nodes_per_az);
        one.storage = Storage::single(&cfg.layout);
        // Its replicas rack-spread, as a random placement puts them.
        one.storage.racks_per_az = racks.max(1);
        one
    });
    Ok(Prepared {
        config: cfg,
        measure,
        horizon: sc.horizon,
        possible,
        all_up_rate,
        focus_pgs,
        pilot,
        approximated,
        design: design.map(Design::as_str),
        left_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::markov::analyze;
    use crate::scenario::{Overrides, parse};

    /// See: issue 15. SPEC §7: "data loss impossible (`analyze` would say
    /// `null`): estimate 0, no trials". With tail segments a loss also comes
    /// from losing the three full segments while tails are current; both
    /// answers must still agree. Only a destroying process (node loss, AZ
    /// loss, give-up) can remove a full segment, so the probe's answer is
    /// the same as without tails, and the chain confirms it per scenario.
    #[test]
    fn issue_15_tail_segments_impossibility_matches_analyze() {
        let head = "name = \"t\"\nhorizon = \"1y\"\n[cluster]\nsegments = \"tail\"\n\
                    tail_size = \"1GiB\"\nreplace_down_after_KEY\
                    repair_time = { dist = \"exponential\", mean = \"10h\" }\n\
                    restore_time = { dist = \"exponential\", mean = \"2h\" }\n";
        let crash = "[failures.node_crash]\nevery = \"5d\"\nlasts = { dist = \"exponential\", mean = \"6h\" }\n";
        let loss = "[failures.node_loss]\nevery = \"20d\"\n";
        let give_up = "replace_down_after = { dist = \"exponential\", mean = \"3h\" }\n";
        for (give, procs, possible) in
            [("", crash, false), ("", loss, true), (give_up, crash, true)]
        {
            let src = format!("{}{procs}", head.replace("replace_down_after_KEY", give));
            let sc = parse(&src, "t.toml", &Overrides::default()).unwrap();
            let p = prepare(&sc, "t.toml", &src, Measure::DataLoss, false).unwrap();
            let exact = analyze(&sc.config, false).unwrap();
            assert_eq!(p.possible, possible, "{src}");
            assert_eq!(exact.mttdl_seconds.is_some(), possible, "{src}");
        }
    }
}
