//! `[[events]]`: scripted failures at exact times, checked against the fleet,
//! its racks and the horizon.

use super::raw::RawEvent;
use super::suggest::did_you_mean;
use super::validate::{V, Zero};
use crate::error::InputError;
use crate::model::{Burst, Layout, ScriptedEvent, ScriptedKind, Storage};
use crate::time::{SimTime, format_duration};
use toml::{Spanned, Value};

/// The event kinds as written.
const KINDS: [&str; 7] = [
    "node-crash",
    "node-loss",
    "az-outage",
    "az-loss",
    "rack-outage",
    "instance-crash",
    "ebs-loss",
];

/// Fleets up to this size are listed in full in an unknown-node message.
const LISTED_NODES: usize = 64;

/// Validates event `i`.
pub(super) fn event(
    v: &V<'_, '_>,
    e: &Spanned<RawEvent>,
    i: usize,
    layout: &Layout,
    storage: &Storage,
    horizon: SimTime,
    instances: Option<usize>,
) -> Result<ScriptedEvent, InputError> {
    let key = |k: &str| format!("events[{i}].{k}");
    let r = e.get_ref();
    let at = v.duration(&r.at, &key("at"), Zero::Allowed)?;
    if at >= horizon {
        return Err(v.err(
            &r.at,
            &key("at"),
            format!(
                "{} is not before the horizon ({}); events must lie in [0, horizon)",
                format_duration(at),
                format_duration(horizon)
            ),
        ));
    }
    let kind = match r.kind.get_ref().as_str() {
        "node-crash" => ScriptedKind::NodeCrash,
        "node-loss" => ScriptedKind::NodeLoss,
        "az-outage" => ScriptedKind::AzOutage,
        "az-loss" => ScriptedKind::AzLoss,
        "rack-outage" => ScriptedKind::RackOutage,
        "instance-crash" => ScriptedKind::InstanceCrash,
        "ebs-loss" => ScriptedKind::EbsLoss,
        other => {
            return Err(v.err(
                &r.kind,
                &key("kind"),
                format!(
                    "unknown event kind `{other}` (use node-crash, node-loss, az-outage, az-loss, rack-outage, instance-crash or ebs-loss){}",
                    did_you_mean(other, &KINDS)
                ),
            ));
        }
    };
    let k = kind.as_str();
    // A key the kind does not take, with what to write instead.
    let refuse = |x: Option<std::ops::Range<usize>>, name: &str, instead: &str| match x {
        Some(span) => Err(v.err(
            &Spanned::new(span, ()),
            &key(name),
            format!("not allowed for kind = \"{k}\" ({instead})"),
        )),
        None => Ok(()),
    };
    let span = |x: &Option<Spanned<String>>| x.as_ref().map(Spanned::span);
    let vspan = |x: &Option<Spanned<Value>>| x.as_ref().map(Spanned::span);
    let missing = |name: &str| {
        v.err(
            e,
            &key(name),
            format!("missing required key `{name}` for kind = \"{k}\""),
        )
    };
    let az_of = |az: &Spanned<String>| {
        layout.az_index(az.get_ref()).ok_or_else(|| {
            v.err(
                az,
                &key("az"),
                format!(
                    "unknown AZ `{}` (AZs: {}){}",
                    az.get_ref(),
                    layout.azs.join(", "),
                    did_you_mean(az.get_ref(), &names(&layout.azs))
                ),
            )
        })
    };
    if !matches!(kind, ScriptedKind::InstanceCrash | ScriptedKind::EbsLoss) {
        refuse(
            vspan(&r.instance),
            "instance",
            "`instance` is for instance-crash and ebs-loss",
        )?;
    }
    let mut burst = None;
    let target = match kind {
        ScriptedKind::InstanceCrash | ScriptedKind::EbsLoss => {
            refuse(
                span(&r.node),
                "node",
                "name the database `instance`, 1-based",
            )?;
            refuse(span(&r.az), "az", "name the database `instance`, 1-based")?;
            refuse(vspan(&r.rack), "rack", "`rack` is for rack-outage")?;
            refuse(
                vspan(&r.count),
                "count",
                "`count` is for node-crash and node-loss bursts",
            )?;
            let Some(n) = instances else {
                return Err(v.err(
                    &r.kind,
                    &key("kind"),
                    format!("kind = \"{k}\" needs a [database] table (instances to fail)"),
                ));
            };
            let x = r.instance.as_ref().ok_or_else(|| missing("instance"))?;
            let i = v.integer(x, &key("instance"))?;
            if i < 1 || i as u64 > n as u64 {
                return Err(v.err(
                    x,
                    &key("instance"),
                    format!("{i} must be between 1 and {n} (the database's instances, 1-based)"),
                ));
            }
            i as usize - 1
        }
        ScriptedKind::NodeCrash | ScriptedKind::NodeLoss => {
            refuse(vspan(&r.rack), "rack", "`rack` is for rack-outage")?;
            match (&r.count, &r.node) {
                (Some(_), Some(node)) => {
                    return Err(v.err(
                        node,
                        &key("node"),
                        "not allowed with `count` (a burst draws its nodes at random; give one or the other)",
                    ));
                }
                (Some(count), None) => {
                    let az = r.az.as_ref().map(az_of).transpose()?;
                    burst = Some(Burst {
                        count: burst_count(v, count, &key("count"), az, layout, storage)?,
                        az,
                    });
                    0
                }
                (None, _) if let Some(az) = &r.az => {
                    return Err(v.err(
                        az,
                        &key("az"),
                        format!(
                            "not allowed for kind = \"{k}\" without `count` (name the `node`, or give `count` for that many random nodes of the AZ)"
                        ),
                    ));
                }
                (None, Some(node)) => {
                    node_index(storage, layout, node.get_ref()).ok_or_else(|| {
                        v.err(
                            node,
                            &key("node"),
                            unknown_node(node.get_ref(), storage, layout),
                        )
                    })?
                }
                (None, None) => {
                    return Err(v.err(
                        e,
                        &key("node"),
                        format!("missing required key `node` (or `count`) for kind = \"{k}\""),
                    ));
                }
            }
        }
        ScriptedKind::AzOutage | ScriptedKind::AzLoss => {
            refuse(span(&r.node), "node", "name the `az`")?;
            refuse(vspan(&r.rack), "rack", "`rack` is for rack-outage")?;
            refuse(
                vspan(&r.count),
                "count",
                "`count` is for node-crash and node-loss bursts",
            )?;
            az_of(r.az.as_ref().ok_or_else(|| missing("az"))?)?
        }
        ScriptedKind::RackOutage => {
            refuse(span(&r.node), "node", "name the `az` and the `rack`")?;
            refuse(
                vspan(&r.count),
                "count",
                "`count` is for node-crash and node-loss bursts",
            )?;
            let az = az_of(r.az.as_ref().ok_or_else(|| missing("az"))?)?;
            let rack = r.rack.as_ref().ok_or_else(|| missing("rack"))?;
            let n = v.integer(rack, &key("rack"))?;
            let racks = storage.racks_per_az;
            if n < 1 || n as u64 > racks as u64 {
                let why = if racks == 1 {
                    "fleet.racks_per_az is 1: each AZ is one rack"
                } else {
                    "fleet.racks_per_az"
                };
                return Err(v.err(
                    rack,
                    &key("rack"),
                    format!("{n} must be between 1 and {racks} ({why})"),
                ));
            }
            az * racks + (n as usize - 1)
        }
    };
    let lasts = match (&r.lasts, kind) {
        (Some(l), ScriptedKind::NodeLoss | ScriptedKind::EbsLoss) => {
            return Err(v.err(
                l,
                &key("lasts"),
                format!("not allowed for kind = \"{k}\" (a loss is permanent)"),
            ));
        }
        (None, ScriptedKind::NodeLoss | ScriptedKind::EbsLoss) => SimTime::ZERO,
        (Some(l), _) => v.duration(l, &key("lasts"), Zero::Rejected)?,
        (None, _) => return Err(missing("lasts")),
    };
    Ok(ScriptedEvent {
        at,
        kind,
        target,
        lasts,
        burst,
    })
}

/// A burst's `count`: an integer from 1 to the nodes it draws from.
fn burst_count(
    v: &V<'_, '_>,
    count: &Spanned<Value>,
    key: &str,
    az: Option<usize>,
    layout: &Layout,
    storage: &Storage,
) -> Result<u32, InputError> {
    let n = v.integer(count, key)?;
    let (scope, what) = match az {
        Some(a) => (
            storage.nodes_per_az,
            format!("the nodes of {}", layout.azs[a]),
        ),
        None => (storage.nodes(), "the nodes of the fleet".to_string()),
    };
    if n < 1 || n as u64 > scope as u64 {
        return Err(v.err(
            count,
            key,
            format!("{n} must be between 1 and {scope}, {what}"),
        ));
    }
    Ok(n as u32)
}

/// Index of fleet node `name` (`az-k`, k from 1): read off the name rather
/// than searched for, since a fleet may have a million nodes, and confirmed
/// against `storage.node_names`.
fn node_index(storage: &Storage, layout: &Layout, name: &str) -> Option<usize> {
    layout.azs.iter().enumerate().find_map(|(a, az)| {
        let k = name.strip_prefix(az.as_str())?.strip_prefix('-')?;
        // `az-a-01` is not a node name: no sign, no leading zero.
        if k.starts_with(['0', '+']) {
            return None;
        }
        let k: usize = k.parse().ok()?;
        if !(1..=storage.nodes_per_az).contains(&k) {
            return None;
        }
        let n = a * storage.nodes_per_az + k - 1;
        (storage.node_names.get(n)? == name).then_some(n)
    })
}

/// "unknown node" with the fleet's names: all of a small fleet, the ranges
/// of a large one.
fn unknown_node(name: &str, storage: &Storage, layout: &Layout) -> String {
    let n = storage.nodes_per_az;
    let listed = if storage.nodes() <= LISTED_NODES {
        storage.node_names.join(", ")
    } else {
        let ranges: Vec<String> = layout
            .azs
            .iter()
            .map(|az| format!("{az}-1 … {az}-{n}"))
            .collect();
        ranges.join(", ")
    };
    format!(
        "unknown node `{name}` (nodes: {listed}){}",
        did_you_mean(name, &names(&storage.node_names))
    )
}

fn names(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use crate::model::{Burst, ScriptedKind};
    use crate::scenario::{Overrides, parse};

    const HEAD: &str =
        "name = \"x\"\nhorizon = \"1d\"\n[fleet]\nnodes_per_az = 100\nracks_per_az = 10\n";

    fn event(ev: &str) -> crate::model::ScriptedEvent {
        let src = format!("{HEAD}[[events]]\nat = \"1h\"\n{ev}");
        let sc = parse(&src, "e.toml", &Overrides::default()).unwrap();
        sc.config.events[0].clone()
    }

    // See: issue 13
    #[test]
    fn issue_13_rack_target_is_the_global_rack_index() {
        // az-b is AZ 1: 1 × 10 racks + rack 3 − 1 = 12.
        let e = event("kind = \"rack-outage\"\naz = \"az-b\"\nrack = 3\nlasts = \"1h\"\n");
        assert_eq!(
            (e.kind, e.target, e.burst),
            (ScriptedKind::RackOutage, 12, None)
        );
        let e = event("kind = \"rack-outage\"\naz = \"az-a\"\nrack = 1\nlasts = \"1h\"\n");
        assert_eq!(e.target, 0);
        let e = event("kind = \"rack-outage\"\naz = \"az-c\"\nrack = 10\nlasts = \"1h\"\n");
        assert_eq!(e.target, 29);
    }

    // See: issue 13
    #[test]
    fn issue_13_fleet_nodes_and_bursts() {
        // az-b-57 is node 100 + 56 of the fleet.
        let e = event("kind = \"node-crash\"\nnode = \"az-b-57\"\nlasts = \"1h\"\n");
        assert_eq!((e.target, e.burst), (156, None));
        let e = event("kind = \"node-loss\"\ncount = 3\n");
        assert_eq!((e.target, e.burst), (0, Some(Burst { count: 3, az: None })));
        let e = event("kind = \"node-crash\"\ncount = 100\naz = \"az-c\"\nlasts = \"1m\"\n");
        assert_eq!(
            e.burst,
            Some(Burst {
                count: 100,
                az: Some(2)
            })
        );
    }

    #[test]
    fn node_names_are_read_exactly() {
        let sc = parse(HEAD, "e.toml", &Overrides::default()).unwrap();
        let (st, l) = (&sc.config.storage, &sc.config.layout);
        for (n, name) in st.node_names.iter().enumerate() {
            assert_eq!(super::node_index(st, l, name), Some(n));
        }
        for bad in [
            "az-a-0", "az-a-01", "az-a-101", "az-a-+1", "az-a", "az-d-1", "az-a-1x",
        ] {
            assert_eq!(super::node_index(st, l, bad), None, "{bad}");
        }
    }
}
