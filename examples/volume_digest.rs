//! Prints a digest of volume runs (totals and every timeline row) for a set of
//! volume and fleet set-ups, so that two builds can be byte-compared on the
//! volume model: scenario files cannot express volumes, racks, streams or
//! bursts yet, so the shipped scenarios do not cover those paths.
//!
//! `cargo run --release --example volume_digest > a.txt`, then the same on
//! the other build, and `cmp` the outputs.

use aurora_sim::analysis::run::{first_loss, simulate, simulate_observed};
use aurora_sim::engine::SlotHeap;
use aurora_sim::model::{
    Burst, Config, Dist, Event, Observer, Placement, Process, Row, ScriptedEvent, ScriptedKind,
    Storage, VolumeRow,
};
use aurora_sim::scenario::{Overrides, parse};
use aurora_sim::time::{SimTime, parse_duration};

/// FNV-1a over every row's fields.
struct Digest {
    h: u64,
    rows: u64,
}

impl Digest {
    fn eat(&mut self, s: &str) {
        for b in s.bytes() {
            self.h = (self.h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        self.rows += 1;
    }
}

impl Observer for Digest {
    const ENABLED: bool = true;
    fn row(&mut self, r: &Row<'_>) {
        let s = format!(
            "{} {} {} {} {} {} {} {} {}",
            r.time.0,
            r.change.as_str(),
            r.target.name(r.cfg),
            r.replicas.up(),
            r.replicas.current(),
            r.write_available,
            r.read_available,
            r.data_loss_events,
            String::from_utf8_lossy(&r.replicas.letters().collect::<Vec<_>>())
        );
        self.eat(&s);
    }
    fn volume_row(&mut self, r: &VolumeRow<'_>) {
        let s = format!(
            "{} {} {} {} {} {} {} {} {} {} {}",
            r.time.0,
            r.change.as_str(),
            r.target.name(r.cfg),
            r.write_available,
            r.read_available,
            r.pgs_write_unavailable,
            r.pgs_read_unavailable,
            r.pgs_degraded,
            r.repairs_running,
            r.repairs_waiting,
            r.data_loss_events
        );
        self.eat(&s);
    }
}

fn d(s: &str) -> SimTime {
    parse_duration(s).unwrap()
}

fn exp(s: &str) -> Dist {
    Dist::exponential(d(s)).unwrap()
}

/// A scenario's config on a fleet of `per_az` nodes per AZ holding `pgs` PGs.
fn on_fleet(src: &str, per_az: usize, pgs: usize, f: impl FnOnce(&mut Config)) -> Config {
    let mut c = parse(src, "digest", &Overrides::default()).unwrap().config;
    c.storage = Storage::fleet(&c.layout, per_az);
    c.storage.pgs = pgs;
    f(&mut c);
    c
}

const BUSY: &str = r#"
name = "busy"
horizon = "1y"
[cluster]
detection_delay = "10m"
catchup_time = { dist = "exponential", mean = "1m" }
repair_time = { dist = "exponential", mean = "6h" }
restore_time = "2h"
replace_down_after = "1h"
[failures.node_crash]
every = "20d"
lasts = "30m"
[failures.node_loss]
every = "60d"
[failures.az_outage]
every = "1y"
lasts = "2h"
[failures.az_loss]
every = "20y"
lasts = "6h"
"#;

const HARSH: &str = r#"
name = "harsh"
horizon = "1y"
[cluster]
repair_time = "1d"
restore_time = { dist = "exponential", mean = "2h" }
repair_progress = "resume"
[failures.node_crash]
every = { dist = "weibull", shape = 0.7, scale = "5d" }
lasts = { dist = "lognormal", median = "1h", sigma = 1.0 }
[failures.node_loss]
every = "5d"
[failures.az_outage]
every = { dist = "fixed", value = "90d" }
lasts = "1d"
"#;

const INSTANT: &str = r#"
name = "instant"
horizon = "1y"
[cluster]
repair_time = "0s"
restore_time = "0s"
detection_delay = "0s"
[failures.node_crash]
every = "3d"
lasts = "2h"
[failures.node_loss]
every = "4d"
[failures.az_loss]
every = "1y"
lasts = "1d"
"#;

const CRASH_ONLY: &str = r#"
name = "crash-only"
horizon = "1y"
[failures.node_crash]
every = "180d"
lasts = "10m"
"#;

fn cases() -> Vec<(&'static str, Config, SimTime)> {
    let rack = |c: &mut Config, racks: usize, every: &str, lasts: &str| {
        c.storage.racks_per_az = racks;
        c.failures.rack_outage = Some(Process {
            every: exp(every),
            lasts: Some(Dist::Fixed(d(lasts))),
        });
    };
    let ev = |at: &str, kind, target, lasts: &str, burst| ScriptedEvent {
        at: d(at),
        kind,
        target,
        lasts: d(lasts),
        burst,
    };
    vec![
        ("busy-random", on_fleet(BUSY, 10, 40, |_| {}), d("5y")),
        (
            "busy-racks-streams",
            on_fleet(BUSY, 12, 60, |c| {
                rack(c, 3, "200d", "1h");
                c.storage.repair_streams = Some(1);
            }),
            d("5y"),
        ),
        (
            "busy-copyset",
            on_fleet(BUSY, 6, 10, |c| c.storage.placement = Placement::Copyset),
            d("5y"),
        ),
        (
            "harsh-random-streams",
            on_fleet(HARSH, 8, 20, |c| {
                rack(c, 2, "100d", "3h");
                c.storage.repair_streams = Some(2);
            }),
            d("3y"),
        ),
        (
            "harsh-copyset-streams",
            on_fleet(HARSH, 4, 12, |c| {
                c.storage.placement = Placement::Copyset;
                c.storage.repair_streams = Some(1);
            }),
            d("3y"),
        ),
        ("instant-random", on_fleet(INSTANT, 5, 30, |_| {}), d("5y")),
        (
            "instant-copyset-racks",
            on_fleet(INSTANT, 4, 16, |c| {
                c.storage.placement = Placement::Copyset;
                rack(c, 2, "60d", "1h");
            }),
            d("5y"),
        ),
        (
            "scripted-bursts",
            on_fleet(BUSY, 10, 50, |c| {
                c.storage.racks_per_az = 2;
                c.events = vec![
                    ev(
                        "1d",
                        ScriptedKind::NodeCrash,
                        0,
                        "2h",
                        Some(Burst { count: 6, az: None }),
                    ),
                    ev("1d", ScriptedKind::RackOutage, 3, "3h", None),
                    ev(
                        "2d",
                        ScriptedKind::NodeLoss,
                        0,
                        "0s",
                        Some(Burst {
                            count: 3,
                            az: Some(1),
                        }),
                    ),
                    ev("2d", ScriptedKind::NodeCrash, 12, "1h", None),
                    ev("3d", ScriptedKind::AzOutage, 2, "5h", None),
                    ev("3d", ScriptedKind::NodeLoss, 25, "0s", None),
                    ev("4d", ScriptedKind::AzLoss, 0, "2h", None),
                ];
            }),
            d("1y"),
        ),
        (
            "single-pg-on-fleet",
            on_fleet(HARSH, 3, 1, |c| rack(c, 3, "50d", "2h")),
            d("10y"),
        ),
        (
            "bench-64tib",
            on_fleet(CRASH_ONLY, 100, 6554, |_| {}),
            d("3y"),
        ),
    ]
}

fn main() {
    for (name, cfg, horizon) in cases() {
        for seed in 1..=3 {
            let (st, dg) = simulate_observed::<_, SlotHeap<Event>>(
                &cfg,
                seed,
                horizon,
                Digest {
                    h: 0xcbf2_9ce4_8422_2325,
                    rows: 0,
                },
            )
            .unwrap();
            println!("{name} seed {seed}: rows {} digest {:016x}", dg.rows, dg.h);
            println!("  {st:?}");
        }
        // The fast path (no observer) as well.
        let st = simulate(&cfg, 1, horizon).unwrap();
        println!("{name} unobserved: {st:?}");
        let fl = first_loss(&cfg, 1, horizon).unwrap();
        println!("{name} first loss: {fl:?}");
    }
}
