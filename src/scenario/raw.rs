//! The scenario file as written: serde structs with source spans. Nothing here
//! reaches the model; `validate` turns it into a typed [`crate::model::Config`].
//! Integers are read as any TOML value so that `write_quorum = "4"` gets a
//! message of ours ("expected an integer") rather than serde's.

use serde::Deserialize;
use toml::{Spanned, Value};

/// Top level of a scenario file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Spanned<String>,
    pub description: Option<Spanned<String>>,
    pub horizon: Option<Spanned<Value>>,
    pub seed: Option<Spanned<Value>>,
    pub cluster: Option<Spanned<RawCluster>>,
    pub failures: Option<Spanned<RawFailures>>,
    pub events: Option<Vec<Spanned<RawEvent>>>,
    pub volume: Option<Spanned<RawVolume>>,
    pub fleet: Option<Spanned<RawFleet>>,
    pub database: Option<Spanned<RawDatabase>>,
}

/// `[cluster]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub azs: Option<Spanned<Vec<Spanned<String>>>>,
    pub nodes_per_az: Option<Spanned<Value>>,
    pub write_quorum: Option<Spanned<Value>>,
    pub read_quorum: Option<Spanned<Value>>,
    pub segment_size: Option<Spanned<Value>>,
    pub repair_bandwidth: Option<Spanned<Value>>,
    pub repair_time: Option<Spanned<Value>>,
    pub repair_progress: Option<Spanned<Value>>,
    pub detection_delay: Option<Spanned<Value>>,
    pub catchup_time: Option<Spanned<Value>>,
    pub restore_time: Option<Spanned<Value>>,
    pub backup_lag: Option<Spanned<Value>>,
    pub replace_down_after: Option<Spanned<Value>>,
    pub segments: Option<Spanned<Value>>,
    pub tail_size: Option<Spanned<Value>>,
    pub quorum_switch_after: Option<Spanned<Value>>,
}

/// `[failures]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailures {
    pub node_crash: Option<Spanned<RawProcess>>,
    pub node_loss: Option<Spanned<RawProcess>>,
    pub az_outage: Option<Spanned<RawProcess>>,
    pub az_loss: Option<Spanned<RawProcess>>,
    pub rack_outage: Option<Spanned<RawProcess>>,
    pub instance_crash: Option<Spanned<RawProcess>>,
    pub ebs_loss: Option<Spanned<RawProcess>>,
}

/// `[failures.X]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProcess {
    pub every: Spanned<Value>,
    pub lasts: Option<Spanned<Value>>,
}

/// One `[[events]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub at: Spanned<Value>,
    pub kind: Spanned<String>,
    pub node: Option<Spanned<String>>,
    pub az: Option<Spanned<String>>,
    pub rack: Option<Spanned<Value>>,
    pub count: Option<Spanned<Value>>,
    pub instance: Option<Spanned<Value>>,
    pub lasts: Option<Spanned<Value>>,
}

/// `[volume]`: `size` is required, checked by us so that its error has a
/// position (the table's).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVolume {
    pub size: Option<Spanned<Value>>,
    pub placement: Option<Spanned<Value>>,
}

/// `[fleet]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    pub nodes_per_az: Option<Spanned<Value>>,
    pub racks_per_az: Option<Spanned<Value>>,
    pub repair_streams: Option<Spanned<Value>>,
}

/// `[database]` (SPEC §5), with optional `[database.<design>]` overrides
/// for `compare`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub design: Option<Spanned<Value>>,
    pub instances: Option<Spanned<Vec<Spanned<String>>>>,
    pub failover_time: Option<Spanned<Value>>,
    pub restart_time: Option<Spanned<Value>>,
    pub resync_time: Option<Spanned<Value>>,
    pub backup_lag: Option<Spanned<Value>>,
    pub aurora: Option<Spanned<RawDesign>>,
    #[serde(rename = "rds-single-az")]
    pub rds_single_az: Option<Spanned<RawDesign>>,
    #[serde(rename = "rds-multi-az")]
    pub rds_multi_az: Option<Spanned<RawDesign>>,
    #[serde(rename = "rds-multi-az-cluster")]
    pub rds_multi_az_cluster: Option<Spanned<RawDesign>>,
}

/// A design's instances and timings (`[database.<design>]`).
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawDesign {
    pub instances: Option<Spanned<Vec<Spanned<String>>>>,
    pub failover_time: Option<Spanned<Value>>,
    pub restart_time: Option<Spanned<Value>>,
    pub resync_time: Option<Spanned<Value>>,
    pub backup_lag: Option<Spanned<Value>>,
}
