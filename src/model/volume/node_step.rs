//! The commonest events of a run, a node crash (its crash process firing)
//! and the node's return, on a short path of their own: the steps of
//! `apply` and `after_event` for these two events, in the same order and
//! with the same draws and schedules, without the general machinery (the
//! event match, the list of changed nodes and its loops). Whatever the
//! short path does not cover (a void firing, a node reachable only once an
//! AZ or rack returns, a flip whose passes change other nodes, a plan, an
//! observer of §1 rows) takes the general path, as before.
//!
//! In tests, [`GENERAL_ONLY`] turns the short path off, so that runs can be
//! compared event by event with the general path.

use super::Volume;
use super::fleet::CRASH_PROC;
use crate::engine::{Engine, EventQueue};
use crate::model::event::{Change, Event, Observer, Target};
use crate::model::sources::NODE_CRASH;

#[cfg(test)]
thread_local! {
    /// Tests turn the short path off to compare with the general one.
    pub(super) static GENERAL_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Events the short path took (tests check it was taken at all).
    static TAKEN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Whether node events may take the short path: always, but in tests that
/// compare it with the general path.
#[inline(always)]
fn allowed() -> bool {
    #[cfg(test)]
    return !GENERAL_ONLY.with(|f| f.get());
    #[cfg(not(test))]
    true
}

impl<'c, O: Observer> Volume<'c, O> {
    /// Applies `ev` and everything after it (the repair queue, the
    /// availability sample, the node's timers) if it is a node crash or
    /// return the short path covers, and returns its change; `None`, with
    /// nothing done, for the general path.
    #[inline(always)]
    pub(super) fn node_step<Q: EventQueue<Event>>(
        &mut self,
        ev: Event,
        eng: &mut Engine<Event, Q>,
    ) -> Option<Option<(Change, Target)>> {
        // The flip shortcuts are what makes the flip short; §1 rows and a
        // plan (SPEC §7) have their own steps after every event.
        let (n, crash) = match ev {
            Event::NodeCrashDue(n) => (n as usize, true),
            Event::NodeRecovered(n) => (n as usize, false),
            _ => return None,
        };
        if O::ENABLED || !self.flips_allowed() || self.bias.is_some() || !allowed() {
            return None;
        }
        let done = if crash {
            self.crash_step(eng, n)
        } else {
            self.return_step(eng, n)
        };
        #[cfg(test)]
        TAKEN.with(|t| t.set(t.get() + u64::from(done.is_some())));
        done
    }

    /// `apply`'s `NodeCrashDue` for an up node holding present replicas:
    /// the process fires, the node goes down for a drawn time, its replicas
    /// flip.
    #[inline(always)]
    fn crash_step<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        n: usize,
    ) -> Option<Option<(Change, Target)>> {
        // A node not up makes the firing void; one with nothing present
        // may still hold a repairing replica (`holds`): the general path.
        if !self.fleet.up(n) || self.fleet.nodes[n].present == 0 {
            return None;
        }
        self.fleet.set_armed(n, CRASH_PROC as usize, false);
        let lasts = self.draw_lasts(eng, &self.cfg.failures.node_crash, NODE_CRASH, n);
        // Up, so not crashed: the return is always (re)scheduled.
        self.schedule_return(eng, n, lasts);
        self.fleet.set_crashed(n, true);
        self.flip_node(eng, n, true);
        self.end_node_step(eng, n);
        Some(Some((Change::NodeCrash, Target::Node(n))))
    }

    /// `apply`'s `NodeRecovered` for a node down by its crash only: it is
    /// reachable again, its replicas flip.
    #[inline(always)]
    fn return_step<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        n: usize,
    ) -> Option<Option<(Change, Target)>> {
        if !self.fleet.only_crashed(n) {
            return None;
        }
        self.fleet.set_crashed(n, false);
        self.flip_node(eng, n, false);
        self.end_node_step(eng, n);
        Some(Some((Change::NodeRecover, Target::Node(n))))
    }

    /// What `step` does after `apply`, for a node event on node `n` that
    /// has not marked `n` changed yet: the repair queue, then
    /// `after_event`, which for `n` alone is the sample and `n`'s timers.
    #[inline(always)]
    fn end_node_step<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, n: usize) {
        self.run_queue(eng);
        let fleet = &self.fleet;
        if !fleet.dirty.is_empty() || fleet.azs_dirty || !fleet.dirty_racks.is_empty() {
            // The flip's passes changed more: the general `after_event`
            // (its changed nodes are sorted, so `n` may join them last).
            self.fleet.mark(n);
            return self.after_event(eng);
        }
        self.sample(eng.now());
        self.arm_one_node(eng, n);
    }
}

#[cfg(test)]
mod tests {
    use super::{GENERAL_ONLY, TAKEN};
    use crate::analysis::run::simulate;
    use crate::engine::{Engine, EventQueue, Model, SlotHeap};
    use crate::model::event::{Change, Event, NoObserver, Target};
    use crate::model::volume::Volume;
    use crate::model::volume::flip::tests::VOLUMES;
    use crate::scenario::{Assignment, Overrides, parse, parse_with};
    use crate::time::SimTime;

    /// One handled event: its time, the event and the change it made.
    type Step = (SimTime, Event, Option<(Change, Target)>);

    /// A volume run that records every event with its time and change.
    struct Traced<'c> {
        vol: Volume<'c, NoObserver>,
        log: Vec<Step>,
    }

    impl Model for Traced<'_> {
        type Event = Event;
        fn handle<Q: EventQueue<Event>>(&mut self, ev: Event, eng: &mut Engine<Event, Q>) {
            let change = self.vol.step(ev, eng);
            self.log.push((eng.now(), ev, change));
        }
    }

    /// The events of a run in order, its totals, and how many events took
    /// the short path.
    fn trace(src: &str, sets: &[&str], seed: u64, general_only: bool) -> (Vec<u8>, String, u64) {
        let sets: Vec<_> = sets
            .iter()
            .map(|a| Assignment::parse("--set", a).unwrap())
            .collect();
        let sc = parse_with(src, "t.toml", &sets, &Overrides::default()).unwrap();
        GENERAL_ONLY.with(|f| f.set(general_only));
        TAKEN.with(|t| t.set(0));
        let mut m = Traced {
            vol: Volume::new(&sc.config, NoObserver),
            log: Vec::new(),
        };
        let mut eng: Engine<Event, SlotHeap<Event>> = Engine::new(seed);
        m.vol.start(&mut eng);
        eng.run_until(&mut m, sc.horizon);
        let (stats, _) = m.vol.finish(sc.horizon, eng.events_processed()).unwrap();
        let taken = TAKEN.with(|t| t.get());
        GENERAL_ONLY.with(|f| f.set(false));
        let log = format!("{:?}", m.log).into_bytes();
        (log, format!("{stats:?}"), taken)
    }

    /// A single PG (lone flips) whose node crashes and returns meet what the
    /// short path hands back to the general one: Weibull crashes, lognormal
    /// downtimes, give-ups, AZ outages and scripted crashes on top of random
    /// ones. The volumes are `flip.rs`'s (racks, a repair queue behind one
    /// stream per node, tail segments, the quorum switch), with give-ups,
    /// more rack outages and Weibull crashes set on top.
    const PG: &str = r#"
name = "pg"
horizon = "3000y"
[cluster]
detection_delay = "10s"
replace_down_after = "20m"
[failures.node_crash]
every = { dist = "weibull", shape = 0.7, scale = "60d" }
lasts = { dist = "lognormal", median = "10m", sigma = 1.5 }
[failures.node_loss]
every = "20y"
[failures.az_outage]
every = "1y"
lasts = "2h"
[[events]]
at = "10d"
kind = "node-crash"
node = "az-a-1"
lasts = "3h"
[[events]]
at = "10d1h"
kind = "az-outage"
az = "az-a"
lasts = "1h"
"#;

    /// `--set`s for each of `flip.rs`'s volumes.
    const VOLUME_SETS: [&[&str]; 2] = [
        &[
            "cluster.replace_down_after=\"2h\"",
            "failures.rack_outage.every=\"1y\"",
        ],
        &["failures.node_crash.every={ dist = \"weibull\", shape = 1.5, scale = \"10d\" }"],
    ];

    /// The short path is the general one's steps, only shorter: the
    /// expected run is the general path's own, event by event (time, event,
    /// change) and in its totals.
    #[test]
    fn issue_12_node_short_path_gives_the_general_paths_run() {
        let runs = std::iter::once((PG, &[][..])).chain(VOLUMES.into_iter().zip(VOLUME_SETS));
        for (src, sets) in runs {
            for seed in 1..=3 {
                let fast = trace(src, sets, seed, false);
                let general = trace(src, sets, seed, true);
                assert!(
                    fast.0 == general.0,
                    "{src} seed {seed}: event traces differ"
                );
                assert_eq!(fast.1, general.1, "{src} seed {seed}: totals");
                // The comparison means something: the short path was taken
                // (most node events), and not by the general-only run.
                assert!(
                    fast.2 > 100,
                    "{src} seed {seed}: short path taken {}",
                    fast.2
                );
                assert_eq!(general.2, 0);
            }
        }
    }

    /// A database run (SPEC §5) steps its storage through the same path.
    #[test]
    fn issue_12_node_short_path_under_a_database() {
        let src = r#"
name = "db"
horizon = "500y"
[database]
design = "aurora"
[failures.instance_crash]
every = "180d"
lasts = "30m"
[failures.node_crash]
every = "20d"
lasts = "10m"
[failures.az_outage]
every = "2y"
lasts = "3h"
"#;
        let sc = parse(src, "t.toml", &Overrides::default()).unwrap();
        for seed in 1..=3 {
            TAKEN.with(|t| t.set(0));
            let fast = simulate(&sc.config, seed, sc.horizon).unwrap();
            assert!(TAKEN.with(|t| t.get()) > 1000);
            GENERAL_ONLY.with(|f| f.set(true));
            let general = simulate(&sc.config, seed, sc.horizon).unwrap();
            GENERAL_ONLY.with(|f| f.set(false));
            assert_eq!(format!("{fast:?}"), format!("{general:?}"), "seed {seed}");
        }
    }
}
