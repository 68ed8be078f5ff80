//! Importance sampling of the failure processes (SPEC §7, `estimate`).
//!
//! With a [`Biasing`] plan the per-target failure timers of `arm.rs` are not
//! used. Instead one aggregate timer runs over the currently eligible
//! (process, target) pairs — a node process on each up node, an AZ process
//! on each reachable AZ, the rack process on each rack that is not down —
//! whose original total rate is Λ = Σ λᵢ. After every event the timer is
//! redrawn (exact, as every failure process is exponential) with a biased
//! total Λ′ and a target chosen with biased odds qᵢ, and the trial's
//! likelihood ratio accumulates e^{−(Λ − Λ′)·dt} over each interval and
//! λᵢ / (qᵢ Λ′) at each failure. Every other timing is sampled unchanged.
//!
//! Rates while *degraded* (some node, AZ or rack not up, or any
//! non-failure event pending): failures get the share θ of the probability
//! against the next scheduled event, Δ ahead: Λ′ = max(Λ, −ln(1 − θ)/Δ), so
//! P(failure first) = θ when that exceeds the unbiased chance; the share is
//! split equally among the eligible pairs (balanced failure biasing,
//! Shahabuddin 1994). Λ′ depends only on the state and the queue at the
//! redraw, so it is predictable and the estimator stays unbiased. All up and
//! nothing pending: the original rates, except for the first failure of a
//! `force_first` run, drawn from the exponential truncated to the horizon
//! (ratio 1 − e^{−ΛT}).

use super::fleet::{CRASH_PROC, Fleet, LOSS_PROC};
use super::focus::Focus;
pub use super::outer::Outer;
use super::{OTHER, Volume, low_bits};
use crate::engine::{Engine, EventQueue, Slot};
use crate::model::event::{Event, Observer};
use crate::model::sources::{Sources, Timing};
use crate::time::SimTime;
use rand::RngExt;

/// How `estimate` drives the failure processes.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Biasing {
    /// Share of the probability failures get while degraded (0: Λ′ = Λ).
    pub theta: f64,
    /// Split the degraded share equally among eligible failures; otherwise
    /// in proportion to their rates.
    pub balanced: bool,
    /// Draw the first failure within `[0, horizon)` (for `p_data_loss`).
    pub force_first: Option<SimTime>,
    /// A regenerative cycle: a first failure at 1 µs at the original odds,
    /// and the run ends when everything is back up and nothing is pending.
    pub cycle: bool,
    /// β of the defensive mixture: each excursion from the quiet state is
    /// drawn from the biased law with probability β, else from the original
    /// one, and weighted by p / (β q + (1 − β) p) ≤ 1/(1 − β) (1: always
    /// biased, weight p / q).
    pub mix: f64,
    /// On a volume of several PGs, bias one PG drawn uniformly per trial
    /// and leave the others' failures unbiased (the union estimator, see
    /// `focus.rs`).
    pub focus: bool,
    /// Relative odds of one eligible pair of each process kind in the
    /// biased split (`KIND_NAMES` order; all 1: balanced failure biasing),
    /// tuned by `estimate`'s pilot runs.
    pub odds: [f64; KINDS],
}

impl Biasing {
    /// Original rates and odds: the weight stays exactly 1.
    pub const NONE: Biasing = Biasing {
        theta: 0.0,
        balanced: false,
        force_first: None,
        cycle: false,
        mix: 1.0,
        focus: false,
        odds: [1.0; KINDS],
    };
}

/// Process kinds of the aggregate timer, in the order targets are chosen:
/// the storage's five, then a database's instance crashes and EBS losses.
pub const KINDS: usize = 7;
/// Their `[failures]` names.
pub use crate::model::sources::KIND_NAMES;
use crate::model::sources::{
    AZ_LOSS, AZ_OUTAGE, EBS_LOSS, INSTANCE_CRASH, NODE_CRASH, NODE_LOSS, RACK_OUTAGE as RACK,
};

/// The trial's biasing state.
pub(super) struct BiasState {
    plan: Biasing,
    /// λ per kind (per target, per second; 0 when the process is absent).
    rates: [f64; KINDS],
    /// ln of the likelihood ratio so far.
    log_w: f64,
    /// Λ and Λ′ in force since `since`.
    rate: f64,
    biased: f64,
    since: SimTime,
    /// The scheduled failure (kind, target) and ln λᵢ/(qᵢΛ′) for it under
    /// the biased law; for the first failure, its own ratio.
    pick: Option<(usize, usize)>,
    pick_ln_ratio: f64,
    first_ln_ratio: f64,
    failures: u64,
    /// The current excursion: whether it is drawn from the biased law, and
    /// ln(p/q) of its path so far (q: the biased law).
    in_excursion: bool,
    exc_biased: bool,
    exc_log_l: f64,
    /// Whether the last redraw found the quiet state (an excursion starts
    /// on entering it).
    was_quiet: bool,
    /// The pending forced first failure's (Λ, seconds left to the horizon)
    /// at its draw: if it is redrawn before it fires, the interval's
    /// survival ratio is settled from these.
    forced: Option<(f64, f64)>,
    /// The PG a volume's trial biases (drawn at the first redraw).
    pub(super) focus: Option<Focus>,
    /// The pending pick's eligible pairs per kind over the split's total
    /// odds, when the biased split drew it (for the pilot's tuning).
    pick_exposure: Option<[f64; KINDS]>,
    /// Over the fired picks of the biased split: how many of each kind,
    /// and the sum of their exposures.
    picks: [u32; KINDS],
    exposure: [f64; KINDS],
    /// A database above: its targets as last handed over (see `outer.rs`);
    /// the timer is then redrawn by [`Volume::bias_step`] after the
    /// database has settled, not at the end of the storage's own step.
    outer: Option<Outer>,
}

impl BiasState {
    /// ln p/(β q + (1 − β) p) of the current excursion, from ln(p/q) = l:
    /// −ln(β e^{−l} + 1 − β), computed without overflow.
    fn excursion_ln_weight(&self) -> f64 {
        let beta = self.plan.mix;
        if beta >= 1.0 {
            return self.exc_log_l;
        }
        let a = beta.ln() - self.exc_log_l;
        let c = (1.0 - beta).ln();
        let m = a.max(c);
        -(m + ((a - m).exp() + (c - m).exp()).ln())
    }
}

impl BiasState {
    pub(super) fn new(plan: Biasing, cfg: &crate::model::Config) -> BiasState {
        let f = &cfg.failures;
        let rate = |p: Option<&crate::model::Process>| p.map_or(0.0, |p| 1.0 / p.every.mean_secs());
        let db = cfg.database.as_ref();
        BiasState {
            plan,
            rates: [
                rate(f.node_crash.as_ref()),
                rate(f.node_loss.as_ref()),
                rate(f.az_outage.as_ref()),
                rate(f.az_loss.as_ref()),
                rate(f.rack_outage.as_ref()),
                rate(db.and_then(|d| d.instance_crash.as_ref())),
                rate(db.and_then(|d| d.ebs_process())),
            ],
            log_w: 0.0,
            rate: 0.0,
            biased: 0.0,
            since: SimTime::ZERO,
            pick: None,
            pick_ln_ratio: 0.0,
            first_ln_ratio: 0.0,
            failures: 0,
            in_excursion: false,
            exc_biased: false,
            exc_log_l: 0.0,
            was_quiet: false,
            forced: None,
            focus: None,
            pick_exposure: None,
            picks: [0; KINDS],
            exposure: [0.0; KINDS],
            outer: None,
        }
    }
}

/// What a biased trial reports besides its [`crate::model::RunStats`].
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct BiasOutcome {
    /// The likelihood ratio of the trial's path (original / biased).
    pub weight: f64,
    /// Failures the aggregate timer fired.
    pub failures: u64,
    /// With a focus PG: (PGs, whether the focus PG is among those lost at
    /// the first loss, how many PGs those are).
    pub focus: Option<(u64, bool, u64)>,
    /// Fired picks of the biased split per kind.
    pub picks: [u32; KINDS],
    /// Their summed exposures: at each, the kind's eligible pairs over the
    /// split's total odds.
    pub exposure: [f64; KINDS],
}

impl BiasOutcome {
    /// The trial's score for `p_data_loss`, given whether it lost data:
    /// W·1{loss}, or with a focus PG J of N the union estimator's
    /// N·W·1{J lost first}/(PGs lost first); and whether it is a hit.
    pub fn score(&self, lost: bool) -> (f64, bool) {
        match self.focus {
            Some((n, true, k)) if k > 0 => (self.weight * n as f64 / k as f64, true),
            Some(_) => (0.0, false),
            None => (if lost { self.weight } else { 0.0 }, lost),
        }
    }
}

impl<'c, O: Observer> Volume<'c, O> {
    /// Drives the failure processes by `plan` (SPEC §7) instead of their
    /// own timers; every failure process must be exponential.
    pub fn biased(mut self, plan: Biasing) -> Self {
        self.bias = Some(Box::new(BiasState::new(plan, self.cfg)));
        self
    }

    /// The likelihood ratio so far (None without a plan).
    pub fn bias_outcome(&self) -> Option<BiasOutcome> {
        self.bias.as_ref().map(|b| BiasOutcome {
            weight: if b.in_excursion {
                (b.log_w + b.excursion_ln_weight()).exp()
            } else {
                b.log_w.exp()
            },
            failures: b.failures,
            focus: b.focus.as_ref().map(|f| {
                let lost = self.pgs.iter().filter(|p| p.lost_data).count() as u64;
                (self.pgs.len() as u64, self.pgs[f.pg].lost_data, lost)
            }),
            picks: b.picks,
            exposure: b.exposure,
        })
    }

    /// As [`Volume::biased`] under a database whose failure processes join
    /// the aggregate timer: the database calls [`Volume::bias_step`] after
    /// every event (and after its start) with its targets.
    pub fn biased_with_outer(mut self, plan: Biasing, outer: Outer) -> Self {
        let mut b = BiasState::new(plan, self.cfg);
        b.outer = Some(outer);
        self.bias = Some(Box::new(b));
        self
    }

    /// Under a database: settles the interval that just ended and redraws
    /// the aggregate timer with the database's targets as they are now.
    pub fn bias_step<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, outer: Outer) {
        let Some(mut b) = self.bias.take() else {
            return;
        };
        self.settle_bias(eng, &mut b);
        b.outer = Some(outer);
        self.redraw(eng, &mut b);
        self.bias = Some(b);
    }

    /// `after_event` under a plan: give-up timers as usual, then the
    /// aggregate failure timer (under a database, later: `bias_step`).
    #[cold]
    pub(super) fn after_event_biased<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>) {
        let Some(mut b) = self.bias.take() else {
            return;
        };
        if !self.fleet.dirty.is_empty() {
            self.fleet.sort_dirty();
            if let Some(rda) = &self.cfg.replace_down_after {
                self.arm_give_ups(eng, rda);
            }
        }
        if b.outer.is_some() {
            self.fleet.clear_dirty();
            self.fleet.azs_dirty = false;
            self.fleet.dirty_racks.clear();
            self.bias = Some(b);
            return;
        }
        self.settle_bias(eng, &mut b);
        if b.plan.focus && self.pgs.len() > 1 {
            self.refocus(eng, &mut b);
        }
        self.fleet.clear_dirty();
        self.fleet.azs_dirty = false;
        self.fleet.dirty_racks.clear();
        self.redraw(eng, &mut b);
        self.bias = Some(b);
    }

    /// The slot and event of failure `kind` on target `i`.
    fn failure_event(&self, kind: usize, i: usize, outer: Option<&Outer>) -> (Slot, Event) {
        if let (INSTANCE_CRASH | EBS_LOSS, Some(o)) = (kind, outer) {
            return o.event(kind, i);
        }
        match kind {
            NODE_CRASH => (
                Fleet::node_slot(i, CRASH_PROC),
                Event::NodeCrashDue(i as u32),
            ),
            NODE_LOSS => (Fleet::node_slot(i, LOSS_PROC), Event::NodeLossDue(i as u32)),
            AZ_OUTAGE => (self.fleet.az_slot(i, 0), Event::AzOutageDue(i as u16)),
            AZ_LOSS => (self.fleet.az_slot(i, 1), Event::AzLossDue(i as u16)),
            _ => (self.fleet.rack_slot(i, 0), Event::RackOutageDue(i as u32)),
        }
    }

    /// Whether the timer of failure `kind` on `i` is still pending (its
    /// firing clears the armed flag, in `apply.rs`).
    fn failure_armed<Q: EventQueue<Event>>(
        &self,
        eng: &Engine<Event, Q>,
        kind: usize,
        i: usize,
        outer: Option<&Outer>,
    ) -> bool {
        match kind {
            // The database's slots hold nothing else while biased.
            INSTANCE_CRASH | EBS_LOSS => {
                outer.is_some_and(|o| eng.time_of(o.event(kind, i).0).is_some())
            }
            NODE_CRASH => self.fleet.armed(i, CRASH_PROC as usize),
            NODE_LOSS => self.fleet.armed(i, LOSS_PROC as usize),
            AZ_OUTAGE => self.fleet.az_armed[0] & (1 << i) != 0,
            AZ_LOSS => self.fleet.az_armed[1] & (1 << i) != 0,
            _ => self.fleet.rack_armed[i],
        }
    }

    fn set_failure_armed(&mut self, kind: usize, i: usize, on: bool) {
        match kind {
            INSTANCE_CRASH | EBS_LOSS => {}
            NODE_CRASH | NODE_LOSS => self.fleet.set_armed(i, kind, on),
            AZ_OUTAGE | AZ_LOSS => {
                let m = &mut self.fleet.az_armed[kind - AZ_OUTAGE];
                if on { *m |= 1 << i } else { *m &= !(1 << i) }
            }
            _ => self.fleet.rack_armed[i] = on,
        }
    }

    /// Eligible targets per kind: up nodes, reachable AZs, racks not down
    /// (with a focus, only the focus PG's nodes and racks).
    fn eligible(&self, focus: Option<&Focus>, outer: Option<&Outer>) -> [usize; KINDS] {
        let azs = self.fleet.az_until.len();
        let az_up = (low_bits(azs) & !self.fleet.az_dark).count_ones() as usize;
        let (nodes, racks) = match focus {
            Some(f) => (
                f.nodes
                    .iter()
                    .filter(|&&n| self.fleet.up(n as usize))
                    .count(),
                f.racks
                    .iter()
                    .filter(|&&g| !self.fleet.rack_dark[g as usize])
                    .count(),
            ),
            None => (
                (0..self.fleet.nodes.len())
                    .filter(|&n| self.fleet.up(n))
                    .count(),
                self.fleet.rack_dark.iter().filter(|d| !**d).count(),
            ),
        };
        let (crash, ebs) = outer.map_or((0, 0), |o| (o.count(INSTANCE_CRASH), o.count(EBS_LOSS)));
        [nodes, nodes, az_up, az_up, racks, crash, ebs]
    }

    /// The `k`-th eligible target of `kind`.
    fn nth_target(
        &self,
        kind: usize,
        k: usize,
        focus: Option<&Focus>,
        outer: Option<&Outer>,
    ) -> usize {
        if let (INSTANCE_CRASH | EBS_LOSS, Some(o)) = (kind, outer) {
            return o.nth(kind, k);
        }
        let found = match (kind, focus) {
            (AZ_OUTAGE | AZ_LOSS, _) => (0..self.fleet.az_until.len())
                .filter(|&a| self.fleet.az_reachable(a))
                .nth(k),
            (NODE_CRASH | NODE_LOSS, Some(f)) => f
                .nodes
                .iter()
                .map(|&n| n as usize)
                .filter(|&n| self.fleet.up(n))
                .nth(k),
            (NODE_CRASH | NODE_LOSS, None) => (0..self.fleet.nodes.len())
                .filter(|&n| self.fleet.up(n))
                .nth(k),
            (_, Some(f)) => f
                .racks
                .iter()
                .map(|&g| g as usize)
                .filter(|&g| !self.fleet.rack_dark[g])
                .nth(k),
            (_, None) => (0..self.fleet.rack_dark.len())
                .filter(|&g| !self.fleet.rack_dark[g])
                .nth(k),
        };
        found.unwrap_or(0)
    }

    /// Settles the weight of the interval that just ended: the survival
    /// term, and the pick's ratio if it fired (else its timer is cancelled).
    fn settle_bias<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, b: &mut BiasState) {
        let now = eng.now();
        let dt = (now.0 - b.since.0) as f64 / 1e6;
        b.exc_log_l -= (b.rate - b.biased) * dt;
        if let Some((kind, i)) = b.pick.take() {
            let outer = b.outer.as_ref();
            if self.failure_armed(eng, kind, i, outer) {
                self.set_failure_armed(kind, i, false);
                eng.cancel(self.failure_event(kind, i, outer).0);
                if let Some((lambda, left)) = b.forced.take() {
                    // A truncated draw on [0, T) survived d: its survival
                    // ratio is (1 − e^{−ΛT}) / (1 − e^{−Λ(T − d)}) (d < T).
                    b.log_w += b.first_ln_ratio - (-(-lambda * (left - dt)).exp_m1()).ln();
                }
            } else {
                // It fired: the event just applied was this failure.
                if b.forced.take().is_some() {
                    b.log_w += b.first_ln_ratio;
                }
                b.exc_log_l += b.pick_ln_ratio;
                b.failures += 1;
                if let Some(e) = b.pick_exposure {
                    b.picks[kind] += 1;
                    for (sum, x) in b.exposure.iter_mut().zip(e) {
                        *sum += x;
                    }
                }
            }
        }
        b.since = now;
        b.rate = 0.0;
        b.biased = 0.0;
    }

    /// Redraws the aggregate failure timer for the state after this event.
    fn redraw<Q: EventQueue<Event>>(&mut self, eng: &mut Engine<Event, Q>, b: &mut BiasState) {
        let focus = b.focus.take();
        self.redraw_with(eng, b, focus.as_ref());
        b.focus = focus;
    }

    fn redraw_with<Q: EventQueue<Event>>(
        &mut self,
        eng: &mut Engine<Event, Q>,
        b: &mut BiasState,
        focus: Option<&Focus>,
    ) {
        let now = eng.now();
        let outer = b.outer;
        let outer = outer.as_ref();
        let counts = self.eligible(focus, outer);
        let mut total = 0.0;
        let mut pairs = 0usize;
        // Σ odds·count: the biased split's total.
        let mut odds_total = 0.0;
        for (k, (&rate, &count)) in b.rates.iter().zip(&counts).enumerate() {
            if rate > 0.0 {
                total += rate * count as f64;
                pairs += count;
                odds_total += b.plan.odds[k] * count as f64;
            }
        }
        let azs_up = counts[AZ_OUTAGE] == self.fleet.az_until.len();
        // Quiet: every target up and nothing pending (with a focus: the
        // focus PG's targets up and the PG at rest); Δ runs to the next
        // pending event (with a focus: the next that concerns the PG).
        let (quiet, next) = match focus {
            Some(f) => (
                azs_up
                    && counts[NODE_CRASH] == f.nodes.len()
                    && counts[RACK] == f.racks.len()
                    && self.focus_resting(f),
                self.focus_next(eng, f),
            ),
            None => {
                let next = eng.next_time();
                let all_up = counts[NODE_CRASH] == self.fleet.nodes.len()
                    && azs_up
                    && counts[RACK] == self.fleet.rack_dark.len()
                    && outer.is_none_or(Outer::quiet);
                (all_up && next.is_none(), next)
            }
        };
        let entering = quiet && !b.was_quiet;
        b.was_quiet = quiet;
        // An excursion runs from entering the quiet state (all up, nothing
        // pending) until entering it again: its first failure's pick, then
        // the degraded period it starts.
        if entering {
            if b.in_excursion {
                b.log_w += b.excursion_ln_weight();
            }
            if b.plan.cycle && b.failures > 0 {
                // Back to all up, all current: the cycle ends (the queue is empty).
                b.in_excursion = false;
                return;
            }
            b.in_excursion = true;
            b.exc_log_l = 0.0;
            b.exc_biased = b.plan.mix >= 1.0 || bias_stream(eng).random::<f64>() < b.plan.mix;
        }
        if pairs == 0 || total.is_nan() || total <= 0.0 {
            return;
        }
        let u: f64 = bias_stream(eng).random();
        // The biased law's rate Λ′ (Λ when quiet or unbiased).
        let mut biased_rate = total;
        let use_bias = b.exc_biased;
        b.first_ln_ratio = 0.0;
        let delay = if b.failures == 0 && b.plan.cycle {
            // The cycle starts with its first failure.
            SimTime(1)
        } else if let (0, Some(h), true) = (b.failures, b.plan.force_first, quiet) {
            // Truncated exponential on [now, h): density ratio 1 − e^{−ΛT}.
            let t = (h.0.saturating_sub(now.0)) as f64 / 1e6;
            let c = -(-total * t).exp_m1();
            let s = -(-u * c).ln_1p() / total;
            b.first_ln_ratio = c.ln();
            b.forced = Some((total, t));
            SimTime(((s * 1e6).ceil() as u64).clamp(1, (h.0 - now.0).max(2) - 1))
        } else {
            if let Some(at) = next.filter(|_| !quiet && b.plan.theta > 0.0) {
                let gap = (at.0.saturating_sub(now.0)).max(1) as f64 / 1e6;
                biased_rate = total.max(-(-b.plan.theta).ln_1p() / gap);
            }
            b.rate = total;
            b.biased = biased_rate;
            let lambda = if use_bias { biased_rate } else { total };
            SimTime(((-(1.0 - u).ln() / lambda * 1e6).ceil() as u64).max(1))
        };
        // The biased law's split: equal odds among the eligible pairs
        // (balanced failure biasing, also from the quiet state; with tuned
        // odds, each pair its kind's), else in proportion to λ.
        let balanced_law = b.plan.balanced;
        let v: f64 = bias_stream(eng).random();
        let equal = balanced_law && use_bias;
        let mut x = if equal { v * odds_total } else { v * total };
        // The last eligible pair catches a rounding overshoot.
        let mut pick = None;
        for (k, (&rate, &count)) in b.rates.iter().zip(&counts).enumerate() {
            if rate <= 0.0 || count == 0 {
                continue;
            }
            let w = if equal { b.plan.odds[k] } else { rate };
            if w <= 0.0 {
                continue;
            }
            let block = w * count as f64;
            pick = Some((k, ((x / w) as usize).min(count - 1)));
            if x < block {
                break;
            }
            x -= block;
        }
        let Some((kind, idx)) = pick else { return };
        let target = self.nth_target(kind, idx, focus, outer);
        // ln λᵢ/λ′ᵢ under the BFB law, whichever law drew it: λ′ᵢ =
        // Λ′·oddsᵢ/Σ odds (balanced) or Λ′λᵢ/Λ (exactly Λ/Λ′ = 1 when
        // unbiased).
        b.pick_ln_ratio = if balanced_law {
            (b.rates[kind] * odds_total / (biased_rate * b.plan.odds[kind])).ln()
        } else {
            (total / biased_rate).ln()
        };
        b.pick_exposure = equal.then(|| {
            let mut e = [0.0; KINDS];
            for (k, x) in e.iter_mut().enumerate() {
                if b.rates[k] > 0.0 {
                    *x = counts[k] as f64 / odds_total;
                }
            }
            e
        });
        b.pick = Some((kind, target));
        self.set_failure_armed(kind, target, true);
        let (slot, ev) = self.failure_event(kind, target, outer);
        self.after(eng, slot, delay, OTHER, ev);
    }
}

/// The stream of the biasing choices (its own, so the timings' streams see
/// the same draws as in an unbiased run).
#[inline]
pub(super) fn bias_stream<Q: EventQueue<Event>>(
    eng: &mut Engine<Event, Q>,
) -> &mut crate::engine::SourceRng {
    eng.stream(Sources::timing(Timing::Bias), || {
        Sources::timing_id(Timing::Bias)
    })
}
