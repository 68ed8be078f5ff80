//! One PG's rule fixpoint (SPEC §1 rules 1–5: staleness, abandonment,
//! catch-up, re-replication, data loss and restore), over its slot bitmasks.
//! The same code runs for §1's single PG and for every PG of a volume.

use super::{Data, NO_FULL, OTHER, Volume, bit, members};
use crate::engine::{Engine, EventQueue};
use crate::model::RepairProgress;
use crate::model::event::{Change, Event, Observer, Target};
use crate::model::sources::{Sources, Timing};
use crate::time::SimTime;

impl<O: Observer> Volume<'_, O> {
    /// Brings PG `j`'s write clock to `now` (it runs while write-available);
    /// called before anything of the PG changes.
    #[inline]
    pub(super) fn touch(&mut self, j: usize, now: SimTime) {
        let pg = &mut self.pgs[j];
        if pg.write_ok {
            pg.wclock += now.0 - pg.since.0;
        }
        pg.since = now;
    }

    /// Runs PG `j`'s rules to their fixpoint after its replicas changed, and
    /// records its new availability in the volume's counts. Each rule is a
    /// mask test inlined here, calling out only when it has work, so a pass
    /// with nothing to do costs a few instructions (a node event makes one
    /// pass per PG with a replica on the node, so it is inlined).
    #[inline(always)]
    pub(super) fn pass<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, j: usize) {
        if O::ENABLED
            && let Some((c, t)) = self.pending_row.take()
        {
            // §1's row shows the settled state before the active rules.
            self.settle(eng, j);
            self.emit(eng.now(), c, t);
        }
        if !O::ENABLED && self.quiet_pass(j) {
            self.pg_done(j);
            return;
        }
        loop {
            self.settle(eng, j);
            if self.catch_up(eng, j) {
                // Replicas that caught up are up and current. Unless a down
                // replica is still current (its staleness waited for a write
                // quorum, which they may have restored), nothing is newly
                // stale or abandoned, none is left waiting and a current
                // replica exists: only re-replication (which needed a
                // source) may newly apply, so the next round is skipped
                // unless it does.
                // The switch back waits for replicas to be current, so it
                // may apply too.
                let pg = &self.pgs[j];
                if pg.current & pg.down == 0 && !self.re_replicate(eng, j) && !self.switch(eng, j) {
                    break;
                }
                continue;
            }
            if self.re_replicate(eng, j) || self.check_data_loss(eng, j) || self.switch(eng, j) {
                continue;
            }
            break;
        }
        self.pg_done(j);
    }

    /// The rules for a PG with nothing lost and waiting, repairing, catching
    /// up, kept or being restored, no quorum switch due or in force, a
    /// current replica and a full one present: most PGs at most
    /// node events, and all of them in a crash-only run. Rules 3–5 and the
    /// abandonments then have nothing to do, so the fixpoint is rule 1
    /// (staleness), rule 2 if catch-ups are instant, and rule 1 again if
    /// those restored the write quorum (exactly what the full loop does,
    /// from one read of the PG's sets). Returns false for anything else,
    /// having applied rule 1 at most, which is where the full loop starts.
    /// Timelines take the full loop, which records the catch-up rows.
    #[inline(always)]
    fn quiet_pass(&mut self, j: usize) -> bool {
        let (all, quorum, base) = (self.all, &self.cfg.quorum, j * self.v);
        let pg = &mut self.pgs[j];
        let busy =
            pg.repairing | pg.catching | pg.kept | (pg.lost_detected & !pg.queued) | pg.special;
        if busy != 0 || pg.restoring || pg.current == 0 {
            return false;
        }
        let (up, wclock) = (!pg.down & all, pg.wclock);
        let mut current = pg.current;
        let mut caught_up = false;
        loop {
            // Rule 1; it never empties `current` (it needs a write quorum).
            let stale = current & !up;
            if stale != 0 && quorum.write_ok(current & up) {
                current &= !stale;
                for s in members(stale) {
                    self.pos[base + s] = wclock;
                }
            }
            let waiting = pg.present & !current & up;
            if caught_up || waiting == 0 || current & up == 0 {
                // Nothing (more) to catch up, or no source to catch up from.
                break;
            }
            if !self.instant_catchup {
                pg.current = current;
                return false;
            }
            // Rule 2, as `set_data` would: present stays, current is set.
            current |= waiting;
            for s in members(waiting) {
                self.pos[base + s] = wclock;
            }
            caught_up = true;
            if current & !up == 0 {
                break;
            }
        }
        pg.current = current;
        true
    }

    /// Updates the volume's counts of PGs without write / read quorum and
    /// degraded PGs from PG `j`'s settled state.
    #[inline(always)]
    fn pg_done(&mut self, j: usize) {
        let all = self.all;
        let pg = &self.pgs[j];
        let reach = all & !pg.down;
        let (up, uc) = (pg.present & reach, pg.current & reach);
        let quorum = self.quorum_of(j);
        let w = quorum.write_ok(uc);
        let r = quorum.read_ok(up, uc);
        let pg = &mut self.pgs[j];
        let d = uc != all;
        if w != pg.write_ok {
            pg.write_ok = w;
            if w {
                self.pgs_write_down -= 1;
            } else {
                self.pgs_write_down += 1;
            }
        }
        if r != pg.read_ok {
            pg.read_ok = r;
            if r {
                self.pgs_read_down -= 1;
            } else {
                self.pgs_read_down += 1;
            }
        }
        // Only the volume timeline shows degraded PGs.
        if O::ENABLED && d != pg.degraded {
            pg.degraded = d;
            if d {
                self.pgs_degraded += 1;
            } else {
                self.pgs_degraded -= 1;
            }
        }
    }

    /// Passive consequences of the current state: rule 1's staleness and the
    /// abandonment of repairs and catch-ups whose conditions no longer hold.
    #[inline(always)]
    pub(super) fn settle<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, j: usize) {
        let pg = &self.pgs[j];
        // Rule 1: replicas that are not up miss the next record. They stay
        // present, so only the current bits and positions change (what
        // `set_data` would do, without its per-node counts).
        let stale = pg.current & pg.down;
        if stale != 0 && self.quorum_of(j).write_ok(pg.current & !pg.down) {
            let pg = &mut self.pgs[j];
            pg.current &= !stale;
            let (base, wclock) = (j * self.v, pg.wclock);
            for s in members(stale) {
                self.pos[base + s] = wclock;
            }
        }
        let pg = &self.pgs[j];
        if pg.repairing | pg.catching | pg.kept != 0 {
            self.abandon(eng, j);
        }
    }

    /// Repairs and catch-ups whose source or target went away stop; a kept
    /// copy whose own node went away is dropped.
    #[inline(never)]
    fn abandon<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, j: usize) {
        let reach = self.reachable(j);
        let pg = &self.pgs[j];
        let (uc, repairing) = (pg.current & reach, pg.repairing);
        let base = j * self.v;
        for s in members(repairing) {
            let src = self.repair_src[base + s];
            if uc & bit(src as usize) == 0 || reach & bit(s) == 0 {
                self.set_data(j, s, Data::Lost { detected: true });
                self.stop_work(eng, j, s);
                if reach & bit(s) != 0 && self.cfg.repair_progress == RepairProgress::Resume {
                    // Only the source went away: keep what was copied.
                    self.pgs[j].kept |= bit(s);
                    self.repair_left[base + s] =
                        SimTime(self.repair_until[base + s].0.saturating_sub(eng.now().0));
                }
            }
        }
        // A replica whose own node or AZ is unreachable starts from zero.
        self.pgs[j].kept &= reach;
        let catching = self.pgs[j].catching;
        for s in members(catching) {
            let src = self.catchup_src[base + s] as usize;
            let cur = self.pgs[j].current;
            if reach & bit(s) == 0 || uc & bit(src) == 0 || cur & bit(s) != 0 {
                self.stop_work(eng, j, s);
            }
        }
    }

    /// Rule 2: up, stale replicas start (or, with zero `catchup_time`, finish)
    /// catching up from the first up, current peer. Returns whether one
    /// became current (only that can make another rule apply).
    #[inline(always)]
    fn catch_up<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, j: usize) -> bool {
        let pg = &self.pgs[j];
        let waiting = pg.present & !pg.current & !pg.catching & !pg.down & self.all;
        if waiting == 0 {
            return false;
        }
        if !self.instant_catchup {
            return self.start_catch_ups(eng, j, waiting);
        }
        // A fixed zero: all are current at once if there is a source (the
        // first one caught up is a source for the rest), and no draw.
        if pg.current & !pg.down == 0 {
            return false;
        }
        let (base, pos) = (j * self.v, pg.wclock);
        for s in members(waiting) {
            self.set_data(j, s, Data::Present { current: true, pos });
            let node = Target::Node(self.node_of[base + s] as usize);
            self.emit(eng.now(), Change::CatchUp, node);
        }
        true
    }

    #[inline(never)]
    fn start_catch_ups<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        j: usize,
        waiting: u64,
    ) -> bool {
        let mut changed = false;
        for s in members(waiting) {
            let Some(src) = self.first_up_current(j) else {
                return changed;
            };
            let d = Sources::draw_timing(eng, &self.cfg.catchup_time, Timing::Catchup);
            let rid = j * self.v + s;
            if d.0 == 0 {
                let pos = self.pgs[j].wclock;
                self.set_data(j, s, Data::Present { current: true, pos });
                self.emit(
                    eng.now(),
                    Change::CatchUp,
                    Target::Node(self.node_of[rid] as usize),
                );
                changed = true;
            } else {
                self.pgs[j].catching |= bit(s);
                self.catchup_src[rid] = src as u16;
                let slot = self.work_slot(rid);
                self.after(eng, slot, d, OTHER, Event::CatchupDone(rid as u32));
            }
        }
        changed
    }

    /// Rule 5: when no replica holds the latest acknowledged write, or
    /// (SPEC §6) no full segment survives, count a data loss and carry on
    /// from the freshest survivors, or restore.
    #[inline(always)]
    fn check_data_loss<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        j: usize,
    ) -> bool {
        let pg = &self.pgs[j];
        !pg.restoring && (pg.current == 0 || pg.present & self.full == 0) && self.data_loss(eng, j)
    }

    #[inline(never)]
    fn data_loss<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, j: usize) -> bool {
        let now = eng.now();
        self.stats.data_loss_events += 1;
        self.stats.first_data_loss.get_or_insert(now);
        self.pgs[j].lost_data = true;
        let base = j * self.v;
        let present = self.pgs[j].present;
        // Without a full segment the log alone cannot rebuild the pages:
        // restore from backup, however fresh the tails are.
        let freshest = if present & self.full == 0 {
            None
        } else {
            members(present).map(|s| self.pos[base + s]).max()
        };
        match freshest {
            Some(best) => {
                self.stats.lost_write_us += self.pgs[j].wclock - best;
                self.pgs[j].wclock = best;
                for s in members(present) {
                    let pos = self.pos[base + s];
                    let current = pos == best;
                    self.set_data(j, s, Data::Present { current, pos });
                }
                self.emit(now, Change::DataLoss, Target::Group);
            }
            None => {
                let pg = &mut self.pgs[j];
                let lag = self.cfg.backup_lag.0.min(pg.wclock);
                self.stats.lost_write_us += lag;
                pg.wclock -= lag;
                pg.restoring = true;
                self.emit(now, Change::DataLoss, Target::Group);
                let d = Sources::draw_timing(eng, &self.cfg.restore_time, Timing::Restore);
                if d.0 == 0 {
                    self.restore(eng, j);
                    self.emit(now, Change::Restore, Target::Group);
                } else {
                    let slot = self.restore_slot(j);
                    self.after(eng, slot, d, OTHER, Event::Restored(j as u32));
                }
            }
        }
        true
    }

    /// Every replica gets the restored data and is current, on its slot's
    /// node; the PG's pending repairs are cancelled.
    pub(super) fn restore<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, j: usize) {
        let pg = &mut self.pgs[j];
        pg.restoring = false;
        pg.kept = 0;
        pg.special &= !NO_FULL;
        let queued = std::mem::take(&mut pg.queued);
        let base = j * self.v;
        for s in members(queued) {
            self.queue.remove(base + s, eng.now(), &mut self.vstats);
        }
        let pos = self.pgs[j].wclock;
        for s in 0..self.v {
            self.stop_work(eng, j, s);
            self.rebuilt(base + s, false);
            self.set_data(j, s, Data::Present { current: true, pos });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::run::simulate_observed;
    use crate::engine::SlotHeap;
    use crate::output::timeline::TimelineCsv;
    use crate::scenario::{Overrides, parse};

    /// The pass skips its next round after a catch-up only when no down
    /// replica is still current: here az-b-1 goes down while writes are
    /// stopped (so it stays current), and the catch-ups at az-a's return
    /// restore the write quorum, which must make it stale at that instant.
    #[test]
    fn a_catch_up_that_restores_writes_makes_down_replicas_stale() {
        let src = r#"
name = "t"
horizon = "4h"
[[events]]
at = "1h"
kind = "az-outage"
az = "az-a"
lasts = "90m"
[[events]]
at = "2h"
kind = "node-crash"
node = "az-b-1"
lasts = "1h"
"#;
        let sc = parse(src, "t.toml", &Overrides::default()).unwrap();
        let tl = TimelineCsv::new(&sc.config.layout.node_names);
        let (_, tl) = simulate_observed::<_, SlotHeap<_>>(&sc.config, 0, sc.horizon, tl).unwrap();
        let text = String::from_utf8(tl.into_bytes().unwrap()).unwrap();
        let row = |event: &str, target: &str| -> Vec<String> {
            let line = text
                .lines()
                .find(|l| l.split(',').nth(1) == Some(event) && l.split(',').nth(2) == Some(target))
                .unwrap_or_else(|| panic!("no {event} {target} row in\n{text}"));
            line.split(',').map(String::from).collect()
        };
        // Columns: time, event, target, up, current, write, read, losses, then
        // a-1, a-2, b-1, b-2, c-1, c-2.
        let back = row("node-recover", "az-b-1");
        assert_eq!((back[0].as_str(), back[10].as_str()), ("10800", "S"));
        assert_eq!(row("catch-up", "az-b-1")[0], "10800");
    }
}
