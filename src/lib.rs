//! aurora-sim: a discrete-event simulator of Amazon Aurora's quorum storage.
//!
//! Layers, each knowing only the ones below it:
//! - [`engine`]: a generic event engine (queue, clock, seeded RNG); knows no Aurora.
//! - [`model`]: one protection group under the rules of SPEC §1.
//! - [`scenario`]: TOML scenario files → validated [`model::Config`].
//! - [`analysis`]: single runs (and, later, sweeps and exact analysis).
//! - [`output`]: report, JSON, CSV timeline, atomic file writes.
//!
//! ```
//! use aurora_sim::{analysis::run, scenario};
//! let src = r#"
//! name = "doc"
//! horizon = "3h"
//! [[events]]
//! at = "1h"
//! kind = "az-outage"
//! az = "az-a"
//! lasts = "1h"
//! "#;
//! let sc = scenario::parse(src, "doc.toml", &Default::default()).unwrap();
//! let stats = run::simulate(&sc.config, sc.seed, sc.horizon).unwrap();
//! // One AZ down leaves 4 of 6 replicas: writes and reads stay available.
//! assert_eq!(stats.write.total.0, 0);
//! ```
#![warn(missing_docs)]

pub mod analysis;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod error;
pub mod manual;
pub mod model;
pub mod output;
pub mod scenario;
pub mod time;
