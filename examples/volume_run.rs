//! Runs a crash/recover-only volume (`fleet_loop`'s model: node crash every
//! 180 d lasting 10 min, random placement) and prints node events, segment
//! updates and their rate: for profiling the volume hot path and for
//! measuring memory (`/usr/bin/time -f %M`).
//!
//! `volume_run [NODES_PER_AZ] [PGS] [HORIZON]`, default `100 6554 1000y`
//! (a 64 TiB volume of 10 GiB segments on 3 × 100 nodes); a 128 TiB volume
//! on 3 × 1,000 nodes is `volume_run 1000 13107 100y`.

use aurora_sim::analysis::run::simulate;
use aurora_sim::model::{Placement, Storage};
use aurora_sim::scenario::{Overrides, parse};
use aurora_sim::time::parse_duration;
use std::time::Instant;

const CRASH_ONLY: &str = r#"
name = "crash-only"
horizon = "1y"
[failures.node_crash]
every = "180d"
lasts = "10m"
"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, d: &str| args.get(i).cloned().unwrap_or_else(|| d.to_string());
    let per_az: usize = arg(1, "100").parse().expect("NODES_PER_AZ");
    let pgs: usize = arg(2, "6554").parse().expect("PGS");
    let horizon = parse_duration(&arg(3, "1000y")).expect("HORIZON");
    let mut cfg = parse(CRASH_ONLY, "crash-only", &Overrides::default())
        .expect("scenario")
        .config;
    cfg.storage = Storage::fleet(&cfg.layout, per_az);
    cfg.storage.pgs = pgs;
    cfg.storage.placement = Placement::Random;
    let t = Instant::now();
    let st = simulate(&cfg, 42, horizon).expect("run");
    let secs = t.elapsed().as_secs_f64();
    // Every counted event is a node crash or return; each touches the
    // node's segments (V × PGs / nodes of them on average).
    let segs_per_node = (cfg.layout.replicas() * pgs) as f64 / cfg.storage.nodes() as f64;
    let updates = st.events_processed as f64 * segs_per_node;
    println!(
        "node_events={} segment_updates={:.0} wall_s={secs:.3} segment_updates_per_s={:.0} \
         pg_write_unavailable_us={}",
        st.events_processed,
        updates,
        updates / secs,
        st.volume.map_or(0, |v| v.pg_write_unavailable_us)
    );
}
