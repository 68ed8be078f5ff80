//! Raw scenario → typed, validated [`Scenario`]; every error carries the
//! file position and dotted key of the offending value.

use super::raw::{RawCluster, RawProcess, RawScenario};
use super::suggest::did_you_mean;
use super::volume::{self, Segment};
use super::{Locator, Overrides, Scenario};
use crate::error::InputError;
use crate::model::quorum::MAX_REPLICAS;
use crate::model::{Config, Dist, Failures, Layout, Process, Quorum, QuorumError, RepairProgress};
use crate::time::{
    SimTime, duration_from_int_secs, duration_from_secs, parse_bandwidth, parse_duration,
    parse_size,
};
use std::collections::HashSet;
use toml::{Spanned, Value};

/// How a bare duration is read for a timing.
#[derive(Copy, Clone, PartialEq)]
pub(super) enum Bare {
    Exponential,
    Fixed,
}

/// Whether zero is a sensible value.
#[derive(Copy, Clone, PartialEq)]
pub(super) enum Zero {
    Allowed,
    Rejected,
}

/// The validator: a locator and the checks every value goes through.
pub(super) struct V<'a, 'b> {
    pub(super) loc: &'b Locator<'a>,
}

impl V<'_, '_> {
    pub(super) fn err<T>(&self, v: &Spanned<T>, key: &str, msg: impl Into<String>) -> InputError {
        self.loc.error(v.span().start, key, msg)
    }

    /// A plain duration: a number of seconds or a string like `"1h30m"`.
    pub(super) fn duration(
        &self,
        v: &Spanned<Value>,
        key: &str,
        zero: Zero,
    ) -> Result<SimTime, InputError> {
        let t = match v.get_ref() {
            Value::Integer(i) => duration_from_int_secs(*i),
            Value::Float(f) => duration_from_secs(*f),
            Value::String(s) => parse_duration(s),
            other => Err(format!(
                "expected a duration such as \"1h30m\" or a number of seconds, found a {}",
                other.type_str()
            )),
        }
        .map_err(|m| self.err(v, key, m))?;
        if zero == Zero::Rejected && t.0 == 0 {
            return Err(self.err(v, key, "must be positive (greater than zero)"));
        }
        Ok(t)
    }

    /// A timing: a duration (read as `bare`) or a distribution table.
    pub(super) fn timing(
        &self,
        v: &Spanned<Value>,
        key: &str,
        bare: Bare,
        zero: Zero,
    ) -> Result<Dist, InputError> {
        let Value::Table(t) = v.get_ref() else {
            let d = self.duration(v, key, zero)?;
            return Ok(match bare {
                Bare::Fixed => Dist::Fixed(d),
                Bare::Exponential => {
                    if d.0 == 0 {
                        Dist::Fixed(d)
                    } else {
                        Dist::exponential(d).map_err(|m| self.err(v, key, m))?
                    }
                }
            });
        };
        let Some(dist) = t.get("dist") else {
            return Err(self.err(
                v,
                key,
                "a distribution table needs `dist` = \"exponential\", \"fixed\", \"weibull\" or \"lognormal\"",
            ));
        };
        let Value::String(dist) = dist else {
            return Err(self.err(v, &format!("{key}.dist"), "must be a string"));
        };
        let allowed: &[&str] = match dist.as_str() {
            "exponential" => &["mean"],
            "fixed" => &["value"],
            "weibull" => &["shape", "scale"],
            "lognormal" => &["median", "sigma"],
            other => {
                return Err(self.err(
                    v,
                    &format!("{key}.dist"),
                    format!(
                        "unknown distribution `{other}` (use exponential, fixed, weibull or lognormal){}",
                        did_you_mean(other, &["exponential", "fixed", "weibull", "lognormal"])
                    ),
                ));
            }
        };
        for k in t.keys() {
            if k != "dist" && !allowed.contains(&k.as_str()) {
                return Err(self.err(
                    v,
                    &format!("{key}.{k}"),
                    format!(
                        "unknown key for dist = \"{dist}\" (expected {})",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        let field = |name: &str| -> Result<Spanned<Value>, InputError> {
            let val = t
                .get(name)
                .ok_or_else(|| self.err(v, key, format!("dist = \"{dist}\" needs `{name}`")))?;
            Ok(Spanned::new(v.span(), val.clone()))
        };
        let number = |name: &str| -> Result<f64, InputError> {
            match field(name)?.into_inner() {
                Value::Integer(i) => Ok(i as f64),
                Value::Float(f) => Ok(f),
                _ => Err(self.err(v, &format!("{key}.{name}"), "must be a number")),
            }
        };
        let sub = |name: &str| format!("{key}.{name}");
        let d = match dist.as_str() {
            "exponential" => {
                let mean = self.duration(&field("mean")?, &sub("mean"), Zero::Rejected)?;
                Dist::exponential(mean)
            }
            "fixed" => Ok(Dist::Fixed(self.duration(
                &field("value")?,
                &sub("value"),
                zero,
            )?)),
            "weibull" => {
                let shape = number("shape")?;
                let scale = self.duration(&field("scale")?, &sub("scale"), Zero::Rejected)?;
                if !(shape.is_finite() && shape > 0.0) {
                    return Err(self.err(
                        v,
                        &sub("shape"),
                        format!("{shape} must be a positive number"),
                    ));
                }
                Dist::weibull(shape, scale)
            }
            _ => {
                let median = self.duration(&field("median")?, &sub("median"), Zero::Rejected)?;
                let sigma = number("sigma")?;
                if !(sigma.is_finite() && sigma >= 0.0) {
                    return Err(self.err(
                        v,
                        &sub("sigma"),
                        format!("{sigma} must be a number ≥ 0"),
                    ));
                }
                Dist::lognormal(median, sigma)
            }
        };
        d.map_err(|m| self.err(v, key, m))
    }

    /// A value that must be a string, such as a size.
    pub(super) fn string_value<'s>(
        &self,
        v: &'s Spanned<Value>,
        key: &str,
        what: &str,
    ) -> Result<&'s str, InputError> {
        match v.get_ref() {
            Value::String(s) => Ok(s),
            other => Err(self.err(
                v,
                key,
                format!("expected {what} as a string, found a {}", other.type_str()),
            )),
        }
    }

    /// A TOML integer; a quoted or fractional number is told what to write.
    pub(super) fn integer(&self, v: &Spanned<Value>, key: &str) -> Result<i64, InputError> {
        match v.get_ref() {
            Value::Integer(i) => Ok(*i),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => Err(self.err(
                v,
                key,
                format!(
                    "expected an integer, found the string \"{s}\" (write it without quotes: {})",
                    s.trim()
                ),
            )),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Err(self.err(
                v,
                key,
                format!(
                    "expected an integer, found {f:?} (write it as {})",
                    *f as i64
                ),
            )),
            other => Err(self.err(
                v,
                key,
                format!("expected an integer, found a {}", other.type_str()),
            )),
        }
    }

    /// One of the `options` words; anything else is told the choices.
    pub(super) fn choice<T: Copy>(
        &self,
        v: &Spanned<Value>,
        key: &str,
        options: &[(&str, T)],
    ) -> Result<T, InputError> {
        if let Value::String(s) = v.get_ref()
            && let Some(&(_, t)) = options.iter().find(|(w, _)| w == s)
        {
            return Ok(t);
        }
        let words: Vec<&str> = options.iter().map(|o| o.0).collect();
        let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
        let (last, rest) = quoted.split_last().expect("at least one option");
        let list = if rest.is_empty() {
            last.clone()
        } else {
            format!("{} or {last}", rest.join(", "))
        };
        let other = v.get_ref();
        let text = other
            .as_str()
            .map_or_else(|| other.to_string(), str::to_string);
        Err(self.err(
            v,
            key,
            format!(
                "expected {list}, found {other}{}",
                did_you_mean(&text, &words)
            ),
        ))
    }

    fn count(&self, v: &Spanned<Value>, key: &str, min: i64, max: i64) -> Result<u32, InputError> {
        let n = self.integer(v, key)?;
        if n < min || n > max {
            return Err(self.err(v, key, format!("{n} must be between {min} and {max}")));
        }
        Ok(n as u32)
    }

    pub(super) fn process(
        &self,
        p: &Option<Spanned<RawProcess>>,
        name: &str,
        has_lasts: bool,
    ) -> Result<Option<Process>, InputError> {
        let Some(p) = p else { return Ok(None) };
        let key = format!("failures.{name}");
        let raw = p.get_ref();
        let every = self.timing(
            &raw.every,
            &format!("{key}.every"),
            Bare::Exponential,
            Zero::Rejected,
        )?;
        let lasts = match (&raw.lasts, has_lasts) {
            (Some(l), true) => Some(self.timing(
                l,
                &format!("{key}.lasts"),
                Bare::Exponential,
                Zero::Rejected,
            )?),
            (None, true) => {
                return Err(self.err(
                    p,
                    &format!("{key}.lasts"),
                    "missing required key `lasts` (how long each failure lasts)",
                ));
            }
            (Some(l), false) => {
                return Err(self.err(
                    l,
                    &format!("{key}.lasts"),
                    "not allowed: a node loss is permanent (the replica is re-replicated)",
                ));
            }
            (None, false) => None,
        };
        Ok(Some(Process { every, lasts }))
    }
}

pub(super) fn validate(
    raw: RawScenario,
    loc: &Locator<'_>,
    ov: &Overrides,
) -> Result<Scenario, InputError> {
    let v = V { loc };
    let name = raw.name.get_ref().trim().to_string();
    if name.is_empty() {
        return Err(v.err(&raw.name, "name", "must not be empty"));
    }
    let seed = match (ov.seed, &raw.seed) {
        (Some(s), _) => s,
        (None, Some(s)) => match v.integer(s, "seed")? {
            n if n < 0 => return Err(v.err(s, "seed", "must be ≥ 0")),
            n => n as u64,
        },
        (None, None) => 0,
    };
    let horizon = match (ov.horizon, &raw.horizon) {
        (Some(h), _) => h,
        (None, Some(h)) => v.duration(h, "horizon", Zero::Rejected)?,
        (None, None) => {
            return Err(loc.missing("horizon", "missing required key (or pass --horizon)"));
        }
    };
    let default_cluster = Spanned::new(0..0, RawCluster::default());
    let cluster = raw.cluster.as_ref().unwrap_or(&default_cluster);
    let config_span = cluster.span();
    let c = cluster.get_ref();

    let azs: Vec<String> = match &c.azs {
        Some(list) => {
            if list.get_ref().is_empty() {
                return Err(v.err(list, "cluster.azs", "needs at least one AZ"));
            }
            // The cap first: each AZ holds at least one replica, and checking
            // 50,000 names (or building their nodes) before refusing is waste.
            let n = list.get_ref().len();
            if n > MAX_REPLICAS {
                return Err(v.err(
                    list,
                    "cluster.azs",
                    format!(
                        "{n} AZs; at most {MAX_REPLICAS} replicas are supported, so at most {MAX_REPLICAS} AZs"
                    ),
                ));
            }
            let mut seen = HashSet::new();
            let mut names: Vec<String> = Vec::with_capacity(n);
            for a in list.get_ref() {
                let n = a.get_ref().trim();
                if n.is_empty() || n.contains(char::is_whitespace) {
                    return Err(v.err(a, "cluster.azs", format!("`{n}` is not a usable AZ name")));
                }
                if !seen.insert(n) {
                    return Err(v.err(a, "cluster.azs", format!("AZ `{n}` is listed twice")));
                }
                names.push(n.to_string());
            }
            names
        }
        None => vec!["az-a".into(), "az-b".into(), "az-c".into()],
    };
    let nodes_per_az = match &c.nodes_per_az {
        Some(n) => v.count(n, "cluster.nodes_per_az", 1, MAX_REPLICAS as i64)? as usize,
        None => 2,
    };
    // Checked before the node names are built; blamed on what the file set
    // (nodes_per_az if given, else the AZ list).
    let replicas = azs.len() * nodes_per_az;
    if replicas > MAX_REPLICAS {
        let (key, at) = match (&c.nodes_per_az, &c.azs) {
            (Some(n), _) => ("cluster.nodes_per_az", n.span().start),
            (None, Some(a)) => ("cluster.azs", a.span().start),
            (None, None) => ("cluster.nodes_per_az", config_span.start),
        };
        return Err(loc.error(
            at,
            key,
            format!(
                "{} AZs × {nodes_per_az} nodes = {replicas} replicas; at most {MAX_REPLICAS} are supported",
                azs.len()
            ),
        ));
    }
    let layout = Layout::new(azs, nodes_per_az);
    let wq = match &c.write_quorum {
        Some(q) => v.count(q, "cluster.write_quorum", 0, i64::from(u32::MAX))?,
        None => 4,
    };
    let rq = match &c.read_quorum {
        Some(q) => v.count(q, "cluster.read_quorum", 0, i64::from(u32::MAX))?,
        None => 3,
    };
    let quorum = Quorum::count(replicas as u32, wq, rq).map_err(|e| {
        let (key, msg, first, second) = match e {
            QuorumError::Write(m) => ("cluster.write_quorum", m, &c.write_quorum, &c.read_quorum),
            QuorumError::Read(m) => ("cluster.read_quorum", m, &c.read_quorum, &c.write_quorum),
        };
        let at = first.as_ref().or(second.as_ref()).map(|q| q.span().start);
        let defaults = if c.write_quorum.is_none() || c.read_quorum.is_none() {
            " (defaults: write_quorum = 4, read_quorum = 3)"
        } else {
            ""
        };
        let msg = format!("{msg}{defaults}");
        match at {
            Some(at) => loc.error(at, key, msg),
            None if raw.cluster.is_some() => loc.error(config_span.start, key, msg),
            None => loc.missing(key, msg),
        }
    })?;

    let segment_size_bytes = match &c.segment_size {
        Some(s) => {
            let text = v.string_value(s, "cluster.segment_size", "a size like \"10GiB\"")?;
            let b = parse_size(text).map_err(|m| v.err(s, "cluster.segment_size", m))?;
            if b <= 0.0 {
                return Err(v.err(s, "cluster.segment_size", "must be positive"));
            }
            b
        }
        None => 10.0 * 1024.0 * 1024.0 * 1024.0,
    };
    let repair_bandwidth_bits_per_s = match &c.repair_bandwidth {
        Some(s) => {
            let text =
                v.string_value(s, "cluster.repair_bandwidth", "a bandwidth like \"10Gbps\"")?;
            let b = parse_bandwidth(text).map_err(|m| v.err(s, "cluster.repair_bandwidth", m))?;
            if b <= 0.0 {
                return Err(v.err(s, "cluster.repair_bandwidth", "must be positive"));
            }
            b
        }
        None => 1e10,
    };
    let timing =
        |x: &Option<Spanned<Value>>, key: &str, default: SimTime| -> Result<Dist, InputError> {
            match x {
                Some(x) => v.timing(x, key, Bare::Fixed, Zero::Allowed),
                None => Ok(Dist::Fixed(default)),
            }
        };
    let repair_time = match &c.repair_time {
        Some(x) => v.timing(x, "cluster.repair_time", Bare::Fixed, Zero::Allowed)?,
        None => {
            // size / bandwidth must give a representable time (a 1e30-byte
            // segment over 1 bps would not).
            let secs = segment_size_bytes * 8.0 / repair_bandwidth_bits_per_s;
            let t = duration_from_secs(secs).map_err(|m| {
                let (key, at) = match (&c.segment_size, &c.repair_bandwidth) {
                    (Some(s), _) => ("cluster.segment_size", s.span().start),
                    (None, Some(b)) => ("cluster.repair_bandwidth", b.span().start),
                    (None, None) => ("cluster.segment_size", config_span.start),
                };
                loc.error(
                    at,
                    key,
                    format!(
                        "segment_size / repair_bandwidth gives a repair time that is too long: {m}"
                    ),
                )
            })?;
            Dist::Fixed(t)
        }
    };
    let repair_progress = match &c.repair_progress {
        None => RepairProgress::Restart,
        Some(x) => v.choice(
            x,
            "cluster.repair_progress",
            &[
                ("restart", RepairProgress::Restart),
                ("resume", RepairProgress::Resume),
            ],
        )?,
    };
    let detection_delay = timing(&c.detection_delay, "cluster.detection_delay", SimTime::ZERO)?;
    let catchup_time = timing(&c.catchup_time, "cluster.catchup_time", SimTime::ZERO)?;
    let restore_time = timing(
        &c.restore_time,
        "cluster.restore_time",
        SimTime(3_600_000_000),
    )?;
    let backup_lag = match &c.backup_lag {
        Some(x) => v.duration(x, "cluster.backup_lag", Zero::Allowed)?,
        None => SimTime(300_000_000),
    };
    let super::segments::Resolved {
        quorum,
        segments,
        quorum_switch,
    } = super::segments::resolve(
        &v,
        c,
        &layout,
        quorum,
        segment_size_bytes,
        repair_bandwidth_bits_per_s,
        &repair_time,
    )?;
    let replace_down_after = match &c.replace_down_after {
        Some(x) => Some(v.timing(x, "cluster.replace_down_after", Bare::Fixed, Zero::Rejected)?),
        None => None,
    };

    let failures = match &raw.failures {
        Some(f) => {
            let f = f.get_ref();
            Failures {
                node_crash: v.process(&f.node_crash, "node_crash", true)?,
                node_loss: v.process(&f.node_loss, "node_loss", false)?,
                az_outage: v.process(&f.az_outage, "az_outage", true)?,
                az_loss: v.process(&f.az_loss, "az_loss", true)?,
                rack_outage: v.process(&f.rack_outage, "rack_outage", true)?,
            }
        }
        None => Failures::default(),
    };

    let segment = Segment {
        text: c.segment_size.as_ref().and_then(|s| s.get_ref().as_str()),
        bytes: segment_size_bytes,
    };
    let storage = volume::storage(
        &v,
        raw.volume.as_ref(),
        raw.fleet.as_ref(),
        &layout,
        &segment,
    )?;
    let mut database =
        super::database::database(&v, raw.database.as_ref(), raw.failures.as_ref(), &layout)?;
    let instances = database.as_ref().map(|d| d.spec.instances.len());
    let mut events = Vec::new();
    for (i, e) in raw.events.iter().flatten().enumerate() {
        events.push(super::events::event(
            &v, e, i, &layout, &storage, horizon, instances,
        )?);
    }
    if let Some(db) = &mut database {
        let evs = raw.events.as_deref().unwrap_or(&[]);
        db.mismatches = super::database::mismatches(&v, db, raw.failures.as_ref(), evs);
    }

    Ok(Scenario {
        name,
        description: raw.description.map(|d| d.into_inner()),
        horizon,
        seed,
        config: Config {
            layout,
            quorum,
            segment_size_bytes,
            repair_bandwidth_bits_per_s,
            repair_time,
            repair_progress,
            detection_delay,
            catchup_time,
            restore_time,
            backup_lag,
            replace_down_after,
            failures,
            events,
            storage,
            database,
            segments,
            quorum_switch,
        },
    })
}
