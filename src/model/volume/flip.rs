//! A node crash or return on a volume: one reachability flip per PG with a
//! replica on the node. Most of those PGs are calm (`Pg::calm`), and for a
//! calm PG the flip's whole fixpoint is the quiet rules (rule 1, and rule 2
//! if catch-ups are instant) and its count update: [`Volume::flip_node`]
//! applies them in one tight loop over the node's replica list, and hands
//! any other PG to the full pass, in the same PG order.

use super::{Pg, Volume, bit, members};
use crate::engine::{Engine, EventQueue};
use crate::model::Quorum;
use crate::model::event::{Event, Observer};
use crate::time::SimTime;

#[cfg(test)]
thread_local! {
    /// Tests turn the flip shortcuts off to compare with the full passes.
    static FULL_PASSES_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether reachability flips may take the shortcuts of this file (and
/// `Volume::flip_calm`): always, but in tests that compare them with the
/// full passes.
#[inline(always)]
pub(super) fn shortcuts() -> bool {
    #[cfg(test)]
    return !FULL_PASSES_ONLY.with(|f| f.get());
    #[cfg(not(test))]
    true
}

/// Where the tight loop stopped.
enum Stop {
    /// At the end of the list.
    End,
    /// At replica `.0`, whose PG is not calm or has several slots there.
    Busy(usize),
    /// At replica `.0`, after its PG's quiet rules asked for the full loop
    /// (a catch-up with a positive `catchup_time` to start).
    Full(usize),
}

/// What the lone-flip shortcut needs of the volume.
struct Lone {
    all: u64,
    /// `Volume::lone_flip`.
    lone: u64,
    /// `Volume::instant_catchup`.
    instant: bool,
}

impl Lone {
    /// The commonest flips: one replica (bit `b`, position `pos`) of an
    /// intact, calm PG goes down, or it returns and catches up at once.
    /// With `lone_flip` its quorums hold either way, so the rules reduce to
    /// these sets (rule 1 makes it stale at the crash; rule 2 current at
    /// the return) and only the degraded count changes. False (nothing
    /// changed) for any other flip.
    #[inline(always)]
    fn flip<O: Observer>(
        &self,
        pg: &mut Pg,
        pos: &mut u64,
        b: u64,
        down: bool,
        wclock: u64,
        degraded: &mut usize,
    ) -> bool {
        let all = self.all;
        if self.lone & b == 0 || pg.present != all {
            return false;
        }
        if down && pg.down == 0 && pg.current == all {
            pg.down = b;
            pg.current = all & !b;
            *pos = wclock;
            *degraded += usize::from(O::ENABLED);
            pg.degraded |= O::ENABLED;
            return true;
        }
        if !down && self.instant && pg.down == b && pg.current == all & !b {
            pg.down = 0;
            pg.current = all;
            *pos = wclock;
            *degraded -= usize::from(O::ENABLED);
            pg.degraded &= !O::ENABLED;
            return true;
        }
        false
    }
}

/// The volume-wide counts the loop updates, held in registers meanwhile.
struct Counts {
    write_down: usize,
    read_down: usize,
    degraded: usize,
}

impl<O: Observer> Volume<'_, O> {
    /// Node `n`'s replicas became unreachable (`down`) or reachable again;
    /// PG by PG in PG order, as [`Volume::hit`] would.
    #[inline(always)]
    pub(super) fn flip_node<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        n: usize,
        down: bool,
    ) {
        // A node with one replica (every node of a single PG): its lone
        // flip is done here, inline in the node event, without the run's
        // set-up; anything else takes the general loop.
        if let [seg] = self.fleet.on_node[n][..] {
            let (j, s) = (seg.pg as usize, seg.slot as usize);
            let lone = Lone {
                all: self.all,
                lone: self.lone_flip,
                instant: self.instant_catchup,
            };
            let rid = j * self.v + s;
            if let (Some(pg), Some(pos)) = (self.pgs.get_mut(j), self.pos.get_mut(rid))
                && pg.calm
            {
                let now = eng.now();
                let wclock = if pg.write_ok {
                    pg.wclock + (now.0 - pg.since.0)
                } else {
                    pg.wclock
                };
                if lone.flip::<O>(pg, pos, bit(s), down, wclock, &mut self.pgs_degraded) {
                    return;
                }
            }
        }
        self.flip_node_run(eng, n, down);
    }

    /// [`Volume::flip_node`] in general: the tight loop, and the passes
    /// of the PGs it stops at.
    #[inline(never)]
    fn flip_node_run<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        n: usize,
        down: bool,
    ) {
        let hit = if down {
            super::apply::Hit::Down
        } else {
            super::apply::Hit::Up
        };
        let mut i = 0;
        loop {
            let stop = self.flip_calm_run(n, i, down, eng.now());
            let (at, full) = match stop {
                Stop::End => return,
                Stop::Busy(at) => (at, false),
                Stop::Full(at) => (at, true),
            };
            let list = &self.fleet.on_node[n];
            let j = list[at].pg;
            if full {
                self.full_pass(eng, j as usize);
            } else {
                let mask = list[at..]
                    .iter()
                    .take_while(|s| s.pg == j)
                    .fold(0, |m, s| m | bit(s.slot as usize));
                self.hit_pg(eng, j as usize, mask, hit);
            }
            // A pass moves replicas of its own PG only (onto or off this
            // node), so the PGs after it are where they were.
            i = self.fleet.on_node[n].partition_point(|s| s.pg <= j);
        }
    }

    /// Applies the flip to node `n`'s replicas from index `start` on while
    /// their PGs are calm and hold one slot on the node each.
    ///
    /// The write clock is read, not brought forward (`touch`): it runs at
    /// rate 1 while the PG is write-available, so `wclock + (now − since)`
    /// is its value now for as long as the PG stays so; only a flip that
    /// changes the PG's write availability stores it.
    #[inline(never)]
    fn flip_calm_run(&mut self, n: usize, start: usize, down: bool, now: SimTime) -> Stop {
        let list = &self.fleet.on_node[n][..];
        let (pgs, pos, quorum) = (&mut self.pgs[..], &mut self.pos[..], &self.quorum);
        let (v, all, instant, lone) = (self.v, self.all, self.instant_catchup, self.lone_flip);
        let lone_pg = Lone { all, lone, instant };
        let mut c = Counts {
            write_down: self.pgs_write_down,
            read_down: self.pgs_read_down,
            degraded: self.pgs_degraded,
        };
        let mut stop = Stop::End;
        let mut i = start;
        while let Some(seg) = list.get(i) {
            let j = seg.pg as usize;
            let Some(pg) = pgs.get_mut(j).filter(|pg| pg.calm) else {
                stop = Stop::Busy(i);
                break;
            };
            if list.get(i + 1).is_some_and(|t| t.pg == seg.pg) {
                stop = Stop::Busy(i);
                break;
            }
            let (s, b) = (seg.slot as usize, bit(seg.slot as usize));
            let wclock = if pg.write_ok {
                pg.wclock + (now.0 - pg.since.0)
            } else {
                pg.wclock
            };
            if lone_pg.flip::<O>(pg, &mut pos[j * v + s], b, down, wclock, &mut c.degraded) {
                i += 1;
                continue;
            }
            if down {
                pg.down |= b;
            } else {
                pg.down &= !b;
            }
            let base = j * v;
            let Some(slots) = pos.get_mut(base..base + v) else {
                unreachable!("every PG has V positions");
            };
            let clock = (wclock, now);
            if !quiet_and_count::<O>(pg, slots, clock, quorum, all, instant, &mut c) {
                stop = Stop::Full(i);
                break;
            }
            i += 1;
        }
        self.pgs_write_down = c.write_down;
        self.pgs_read_down = c.read_down;
        self.pgs_degraded = c.degraded;
        stop
    }
}

/// The quiet rules and the count update of one calm PG, out of line so
/// that the shortcuts' loop keeps its registers. False: the full loop
/// takes over, from a touched write clock (`clock`: the clock and now).
#[inline(never)]
fn quiet_and_count<O: Observer>(
    pg: &mut Pg,
    pos: &mut [u64],
    clock: (u64, SimTime),
    quorum: &Quorum,
    all: u64,
    instant: bool,
    c: &mut Counts,
) -> bool {
    let (wclock, now) = clock;
    if !quiet(pg, pos, wclock, quorum, all, instant) {
        pg.wclock = wclock;
        pg.since = now;
        return false;
    }
    counts::<O>(pg, quorum, all, wclock, now, c);
    true
}

/// `Volume::quiet_rules` on one calm PG (`pos`: its replicas' positions;
/// `wclock`: its write clock now).
#[inline(always)]
fn quiet(
    pg: &mut Pg,
    pos: &mut [u64],
    wclock: u64,
    quorum: &Quorum,
    all: u64,
    instant: bool,
) -> bool {
    let up = !pg.down & all;
    let mut current = pg.current;
    let mut caught_up = false;
    loop {
        // Rule 1; it never empties `current` (it needs a write quorum).
        let stale = current & !up;
        if stale != 0 && quorum.write_ok(current & up) {
            current &= !stale;
            for s in members(stale) {
                pos[s] = wclock;
            }
        }
        let waiting = pg.present & !current & up;
        if caught_up || waiting == 0 || current & up == 0 {
            break;
        }
        if !instant {
            pg.current = current;
            return false;
        }
        // Rule 2, as `set_data` would: present stays, current is set.
        current |= waiting;
        for s in members(waiting) {
            pos[s] = wclock;
        }
        caught_up = true;
        if current & !up == 0 {
            break;
        }
    }
    pg.current = current;
    true
}

/// `Volume::pg_done` on a calm PG (epoch 0, still calm).
#[inline(always)]
fn counts<O: Observer>(
    pg: &mut Pg,
    quorum: &Quorum,
    all: u64,
    wclock: u64,
    now: SimTime,
    c: &mut Counts,
) {
    let (up, uc) = (pg.present & !pg.down, pg.current & !pg.down);
    let w = quorum.write_ok(uc);
    let r = quorum.read_ok(up, uc);
    if w != pg.write_ok {
        // The clock changes rate here: bring it to now first.
        pg.wclock = wclock;
        pg.since = now;
        pg.write_ok = w;
        if w {
            c.write_down -= 1;
        } else {
            c.write_down += 1;
        }
    }
    if r != pg.read_ok {
        pg.read_ok = r;
        if r {
            c.read_down -= 1;
        } else {
            c.read_down += 1;
        }
    }
    // Only the volume timeline shows degraded PGs.
    let d = uc != all;
    if O::ENABLED && d != pg.degraded {
        pg.degraded = d;
        if d {
            c.degraded += 1;
        } else {
            c.degraded -= 1;
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::FULL_PASSES_ONLY;
    use crate::analysis::run::{simulate, simulate_observed};
    use crate::engine::SlotHeap;
    use crate::output::timeline::TimelineCsv;
    use crate::scenario::{Overrides, parse};

    /// Volumes whose crashes and returns meet PGs in every state: repairs
    /// running and queued behind one stream per node, lost and undetected
    /// replicas, catch-ups in progress, kept partial copies, replicas moved
    /// by re-replication (so a node can hold two slots of a PG), rack and
    /// AZ outages, tail segments and quorum switches.
    pub(in crate::model::volume) const VOLUMES: [&str; 2] = [
        r#"
name = "random"
horizon = "4y"
[cluster]
detection_delay = "10s"
repair_time = { dist = "exponential", mean = "6h" }
[volume]
size = "1TiB"
placement = "random"
[fleet]
nodes_per_az = 6
racks_per_az = 2
repair_streams = 1
[failures.node_crash]
every = "15d"
lasts = { dist = "exponential", mean = "3h" }
[failures.node_loss]
every = "1y"
[failures.rack_outage]
every = "2y"
lasts = "1h"
[failures.az_outage]
every = "2y"
lasts = "3h"
"#,
        r#"
name = "copyset"
horizon = "4y"
[cluster]
segments = "tail"
tail_size = "1GiB"
quorum_switch_after = "30m"
catchup_time = { dist = "exponential", mean = "5m" }
repair_progress = "resume"
repair_time = { dist = "exponential", mean = "12h" }
[volume]
size = "640GiB"
placement = "copyset"
[fleet]
nodes_per_az = 4
[failures.node_crash]
every = "10d"
lasts = { dist = "exponential", mean = "4h" }
[failures.node_loss]
every = "1y"
[failures.az_outage]
every = "1y"
lasts = "2h"
"#,
    ];

    /// A run's totals and volume timeline, with or without the shortcuts.
    fn run(src: &str, seed: u64, shortcuts: bool) -> (String, String, Vec<u8>) {
        let sc = parse(src, "t.toml", &Overrides::default()).unwrap();
        FULL_PASSES_ONLY.with(|f| f.set(!shortcuts));
        let plain = simulate(&sc.config, seed, sc.horizon).unwrap();
        let tl = TimelineCsv::for_config(&sc.config, Vec::new());
        let (st, tl) =
            simulate_observed::<_, SlotHeap<_>>(&sc.config, seed, sc.horizon, tl).unwrap();
        FULL_PASSES_ONLY.with(|f| f.set(false));
        (
            format!("{plain:?}"),
            format!("{st:?}"),
            tl.into_bytes().unwrap(),
        )
    }

    /// The shortcuts are the full passes, only faster: the expected values
    /// are the full passes' own (the rules as they were before the
    /// shortcuts), run by run, timeline byte by timeline byte.
    #[test]
    fn issue_13_flip_shortcuts_give_the_full_passes_results() {
        for src in VOLUMES {
            for seed in 1..=3 {
                let fast = run(src, seed, true);
                let full = run(src, seed, false);
                assert_eq!(fast.0, full.0, "{src} seed {seed}: unobserved totals");
                assert_eq!(fast.1, full.1, "{src} seed {seed}: observed totals");
                assert!(fast.2 == full.2, "{src} seed {seed}: timelines differ");
                // Something happened: node events and repairs, not a quiet run.
                assert!(fast.0.contains("repairs: ") && !fast.0.contains("repairs: 0,"));
            }
        }
    }
}
