//! `[[events]]`: scripted failures at exact times, checked against the layout
//! and the horizon.

use super::raw::RawEvent;
use super::suggest::did_you_mean;
use super::validate::{V, Zero};
use crate::error::InputError;
use crate::model::{Layout, ScriptedEvent, ScriptedKind};
use crate::time::{SimTime, format_duration};
use toml::Spanned;

/// The event kinds as written.
const KINDS: [&str; 4] = ["node-crash", "node-loss", "az-outage", "az-loss"];

/// Validates event `i`.
pub(super) fn event(
    v: &V<'_, '_>,
    e: &Spanned<RawEvent>,
    i: usize,
    layout: &Layout,
    horizon: SimTime,
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
        other => {
            return Err(v.err(
                &r.kind,
                &key("kind"),
                format!(
                    "unknown event kind `{other}` (use node-crash, node-loss, az-outage or az-loss){}",
                    did_you_mean(other, &KINDS)
                ),
            ));
        }
    };
    let node_event = matches!(kind, ScriptedKind::NodeCrash | ScriptedKind::NodeLoss);
    let target = if node_event {
        if let Some(az) = &r.az {
            return Err(v.err(
                az,
                &key("az"),
                format!(
                    "not allowed for kind = \"{}\" (name the `node`)",
                    kind.as_str()
                ),
            ));
        }
        let Some(node) = &r.node else {
            return Err(v.err(
                e,
                &key("node"),
                format!(
                    "missing required key `node` for kind = \"{}\"",
                    kind.as_str()
                ),
            ));
        };
        layout.node_index(node.get_ref()).ok_or_else(|| {
            v.err(
                node,
                &key("node"),
                format!(
                    "unknown node `{}` (nodes: {}){}",
                    node.get_ref(),
                    layout.node_names.join(", "),
                    did_you_mean(node.get_ref(), &names(&layout.node_names))
                ),
            )
        })?
    } else {
        if let Some(node) = &r.node {
            return Err(v.err(
                node,
                &key("node"),
                format!(
                    "not allowed for kind = \"{}\" (name the `az`)",
                    kind.as_str()
                ),
            ));
        }
        let Some(az) = &r.az else {
            return Err(v.err(
                e,
                &key("az"),
                format!("missing required key `az` for kind = \"{}\"", kind.as_str()),
            ));
        };
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
        })?
    };
    let lasts = match (&r.lasts, kind) {
        (Some(l), ScriptedKind::NodeLoss) => {
            return Err(v.err(
                l,
                &key("lasts"),
                "not allowed for kind = \"node-loss\" (a loss is permanent)",
            ));
        }
        (None, ScriptedKind::NodeLoss) => SimTime::ZERO,
        (Some(l), _) => v.duration(l, &key("lasts"), Zero::Rejected)?,
        (None, _) => {
            return Err(v.err(
                e,
                &key("lasts"),
                format!(
                    "missing required key `lasts` for kind = \"{}\"",
                    kind.as_str()
                ),
            ));
        }
    };
    Ok(ScriptedEvent {
        at,
        kind,
        target,
        lasts,
        burst: None,
    })
}

fn names(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}
