//! The resolved, validated set-up of one protection group: layout, quorum,
//! timings (as distributions), background failure processes and scripted events.

use super::quorum::{Quorum, ReplicaSet};
use super::storage::Storage;
use crate::time::{SimTime, format_duration};
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Weibull};

/// A random (or fixed) duration.
#[derive(Clone, Debug)]
pub enum Dist {
    /// Always this value.
    Fixed(SimTime),
    /// Exponential with this mean.
    Exponential {
        /// The mean.
        mean: SimTime,
        /// Sampler (rate per µs).
        sampler: Exp<f64>,
    },
    /// Weibull with shape k and scale λ: P(X > x) = exp(-(x/λ)^k).
    Weibull {
        /// Shape k > 0.
        shape: f64,
        /// Scale λ.
        scale: SimTime,
        /// Sampler (µs).
        sampler: Weibull<f64>,
    },
    /// Log-normal: ln X is normal with mean ln(median) and deviation sigma.
    LogNormal {
        /// The median.
        median: SimTime,
        /// Standard deviation of ln X.
        sigma: f64,
        /// Sampler (µs).
        sampler: LogNormal<f64>,
    },
}

impl Dist {
    /// Exponential with mean `mean` (> 0).
    pub fn exponential(mean: SimTime) -> Result<Dist, String> {
        let sampler = Exp::new(1.0 / mean.0 as f64).map_err(|e| e.to_string())?;
        Ok(Dist::Exponential { mean, sampler })
    }

    /// Weibull with `shape` > 0 and `scale` > 0.
    pub fn weibull(shape: f64, scale: SimTime) -> Result<Dist, String> {
        if !(shape.is_finite() && shape > 0.0) {
            return Err(format!("shape = {shape} must be a positive number"));
        }
        let sampler = Weibull::new(scale.0 as f64, shape).map_err(|e| e.to_string())?;
        Ok(Dist::Weibull {
            shape,
            scale,
            sampler,
        })
    }

    /// Log-normal with `median` > 0 and `sigma` ≥ 0.
    pub fn lognormal(median: SimTime, sigma: f64) -> Result<Dist, String> {
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(format!("sigma = {sigma} must be a number ≥ 0"));
        }
        let sampler = LogNormal::new((median.0 as f64).ln(), sigma).map_err(|e| e.to_string())?;
        Ok(Dist::LogNormal {
            median,
            sigma,
            sampler,
        })
    }

    /// Draws a duration; `Fixed` draws no random number.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimTime {
        let us = match self {
            Dist::Fixed(t) => return *t,
            Dist::Exponential { sampler, .. } => sampler.sample(rng),
            Dist::Weibull { sampler, .. } => sampler.sample(rng),
            Dist::LogNormal { sampler, .. } => sampler.sample(rng),
        };
        round_us(us)
    }

    /// As [`Dist::sample`], with the exponential case (nearly every
    /// failure process's draw) inlined at the caller: the call and the
    /// variant dispatch cost as much as the draw itself.
    #[inline(always)]
    pub fn sample_inline<R: Rng + ?Sized>(&self, rng: &mut R) -> SimTime {
        match self {
            Dist::Exponential { sampler, .. } => round_us(sampler.sample(rng)),
            _ => self.sample(rng),
        }
    }

    /// The same distribution scaled by `f` > 0 (every quantile times `f`):
    /// a tail repair's time from the segment's (SPEC §6).
    pub fn scaled(&self, f: f64) -> Result<Dist, String> {
        let t = |x: SimTime| SimTime((x.0 as f64 * f).round() as u64);
        match self {
            Dist::Fixed(x) => Ok(Dist::Fixed(t(*x))),
            Dist::Exponential { mean, .. } if t(*mean).0 == 0 => Ok(Dist::Fixed(SimTime::ZERO)),
            Dist::Exponential { mean, .. } => Dist::exponential(t(*mean)),
            Dist::Weibull { shape, scale, .. } => Dist::weibull(*shape, t(*scale).max(SimTime(1))),
            Dist::LogNormal { median, sigma, .. } => {
                Dist::lognormal(t(*median).max(SimTime(1)), *sigma)
            }
        }
    }

    /// Whether the distribution is memoryless (exponential): a pending draw's
    /// remaining time is then distributed as a fresh draw at any later instant.
    pub fn is_memoryless(&self) -> bool {
        matches!(self, Dist::Exponential { .. })
    }

    /// Whether this is always zero.
    pub fn is_zero(&self) -> bool {
        matches!(self, Dist::Fixed(t) if t.0 == 0)
    }

    /// The mean in seconds (for reports and the exponential approximation).
    pub fn mean_secs(&self) -> f64 {
        match self {
            Dist::Fixed(t) => t.as_secs_f64(),
            Dist::Exponential { mean, .. } => mean.as_secs_f64(),
            Dist::Weibull { shape, scale, .. } => scale.as_secs_f64() * gamma(1.0 + 1.0 / shape),
            Dist::LogNormal { median, sigma, .. } => {
                median.as_secs_f64() * (sigma * sigma / 2.0).exp()
            }
        }
    }

    /// Human form, e.g. `exponential(mean 180d)`, `fixed 8.589935s`.
    pub fn describe(&self) -> String {
        match self {
            Dist::Fixed(t) => format_duration(*t),
            Dist::Exponential { mean, .. } => {
                format!("exponential(mean {})", format_duration(*mean))
            }
            Dist::Weibull { shape, scale, .. } => {
                format!("weibull(shape {shape}, scale {})", format_duration(*scale))
            }
            Dist::LogNormal { median, sigma, .. } => {
                format!(
                    "lognormal(median {}, sigma {sigma})",
                    format_duration(*median)
                )
            }
        }
    }
}

/// A drawn duration in µs rounded to the nearest µs; `as` saturates (NaN →
/// 0, huge → MAX).
#[inline(always)]
fn round_us(us: f64) -> SimTime {
    SimTime((us + 0.5) as u64)
}

/// Γ(x) for x > 0 by the Lanczos approximation (g = 7, 9 terms; ~1e-15 relative).
pub fn gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x));
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

/// How many AZs and nodes, and their names.
#[derive(Clone, Debug)]
pub struct Layout {
    /// AZ names in listed order.
    pub azs: Vec<String>,
    /// Storage nodes (replicas) per AZ.
    pub nodes_per_az: usize,
    /// Node names in node order: `az-a-1, az-a-2, az-b-1, …`.
    pub node_names: Vec<String>,
}

impl Layout {
    /// Builds the layout and its node names.
    pub fn new(azs: Vec<String>, nodes_per_az: usize) -> Layout {
        let node_names = azs
            .iter()
            .flat_map(|az| (1..=nodes_per_az).map(move |k| format!("{az}-{k}")))
            .collect();
        Layout {
            azs,
            nodes_per_az,
            node_names,
        }
    }

    /// Number of replicas, V.
    pub fn replicas(&self) -> usize {
        self.node_names.len()
    }

    /// The AZ index of replica `r`.
    #[inline]
    pub fn az_of(&self, r: usize) -> usize {
        r / self.nodes_per_az
    }

    /// Index of a node by name.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.node_names.iter().position(|n| n == name)
    }

    /// Index of an AZ by name.
    pub fn az_index(&self, name: &str) -> Option<usize> {
        self.azs.iter().position(|n| n == name)
    }
}

/// One background failure process: time between failures and (if transient
/// or an AZ loss) how long each lasts.
#[derive(Clone, Debug)]
pub struct Process {
    /// Time from the target being up to its next failure.
    pub every: Dist,
    /// Duration of the failure (`None` for `node_loss`).
    pub lasts: Option<Dist>,
}

impl Process {
    /// `, lasts D` for a process with a length, else nothing (for reports).
    pub fn describe_lasts(&self) -> String {
        self.lasts
            .as_ref()
            .map(|l| format!(", lasts {}", l.describe()))
            .unwrap_or_default()
    }
}

/// The four background processes; absent ones never fire.
#[derive(Clone, Debug, Default)]
pub struct Failures {
    /// Transient node crash, per node.
    pub node_crash: Option<Process>,
    /// Permanent node loss, per node.
    pub node_loss: Option<Process>,
    /// Transient AZ outage, per AZ.
    pub az_outage: Option<Process>,
    /// AZ loss (replicas destroyed, AZ unreachable for `lasts`), per AZ.
    pub az_loss: Option<Process>,
    /// Transient rack outage, per rack (SPEC §4).
    pub rack_outage: Option<Process>,
}

/// What a scripted event does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptedKind {
    /// Node `node` is down for `lasts`.
    NodeCrash,
    /// Node `node`'s replica is destroyed.
    NodeLoss,
    /// AZ is unreachable for `lasts`, data intact.
    AzOutage,
    /// AZ's replicas are destroyed and the AZ is unreachable for `lasts`.
    AzLoss,
    /// Every node of one rack is down for `lasts` (SPEC §4).
    RackOutage,
    /// Database instance `target` is down for `lasts` (SPEC §5).
    InstanceCrash,
    /// Instance `target`'s EBS volume is destroyed (SPEC §5).
    EbsLoss,
}

impl ScriptedKind {
    /// The scenario-file spelling (`node-crash`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptedKind::NodeCrash => "node-crash",
            ScriptedKind::NodeLoss => "node-loss",
            ScriptedKind::AzOutage => "az-outage",
            ScriptedKind::AzLoss => "az-loss",
            ScriptedKind::RackOutage => "rack-outage",
            ScriptedKind::InstanceCrash => "instance-crash",
            ScriptedKind::EbsLoss => "ebs-loss",
        }
    }
}

/// One `[[events]]` entry, resolved.
#[derive(Clone, Debug)]
pub struct ScriptedEvent {
    /// When it happens.
    pub at: SimTime,
    /// What happens.
    pub kind: ScriptedKind,
    /// Fleet node index (node events), AZ index (AZ events) or global rack
    /// index `az × racks_per_az + rack − 1` (rack events); unused for bursts.
    pub target: usize,
    /// How long it lasts (zero for `node-loss`).
    pub lasts: SimTime,
    /// `count = K` on a node event: K distinct nodes drawn at that instant.
    pub burst: Option<Burst>,
}

/// A node event on K random distinct nodes (SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Burst {
    /// How many nodes.
    pub count: u32,
    /// Drawn from this AZ only, or (None) from the whole fleet.
    pub az: Option<usize>,
}

/// Everything the protection-group model needs to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// AZs and nodes.
    pub layout: Layout,
    /// Write/read rule.
    pub quorum: Quorum,
    /// Segment size in bytes (reported; defines the default repair time).
    pub segment_size_bytes: f64,
    /// Repair bandwidth in bits per second.
    pub repair_bandwidth_bits_per_s: f64,
    /// Time to hydrate a replacement replica.
    pub repair_time: Dist,
    /// What a repair keeps when its source goes away.
    pub repair_progress: RepairProgress,
    /// From a loss until re-replication may start.
    pub detection_delay: Dist,
    /// Time for an up, stale replica to copy missing records.
    pub catchup_time: Dist,
    /// Time to restore from backup when every copy is lost.
    pub restore_time: Dist,
    /// Acknowledged writes missing from the backup.
    pub backup_lag: SimTime,
    /// Give up on a replica down this long (None: never).
    pub replace_down_after: Option<Dist>,
    /// Background failure processes.
    pub failures: Failures,
    /// Scripted events in file order.
    pub events: Vec<ScriptedEvent>,
    /// The fleet and volume the PGs live on (one PG on V nodes by default).
    pub storage: Storage,
    /// The database above the storage (SPEC §5), if `[database]` is given.
    pub database: Option<super::database::Database>,
    /// Full and tail segments (SPEC §6); None: every replica is full (§1).
    pub segments: Option<Segments>,
    /// The 4/6 → 3/4 quorum switch (SPEC §6); None: never.
    pub quorum_switch: Option<QuorumSwitch>,
}

/// `cluster.segments = "tail"`: which slots are full, and what a tail holds.
#[derive(Clone, Debug)]
pub struct Segments {
    /// Full slots (slot 1 of each AZ); the others are tail.
    pub full: ReplicaSet,
    /// What a tail replica holds (bytes).
    pub tail_size_bytes: f64,
    /// A tail replica's repair time (`repair_time` × tail_size / segment_size).
    pub tail_repair_time: Dist,
}

/// `cluster.quorum_switch_after`: when an unreachable AZ is switched out.
#[derive(Clone, Debug)]
pub struct QuorumSwitch {
    /// How long an AZ must be unreachable before its PGs switch.
    pub after: Dist,
    /// The switched quorum of each AZ (the replicas outside it).
    pub epochs: Vec<Quorum>,
}

impl Config {
    /// The first failure source or event the `[database]` design has no
    /// target for (SPEC §5: an error everywhere but in `compare`).
    pub fn design_mismatch(&self) -> Option<&crate::error::InputError> {
        self.database.as_ref().and_then(|d| d.mismatches.first())
    }

    /// The quorum of epoch `e`: 0 the scenario's, `a + 1` with AZ `a` switched out.
    #[inline(never)]
    #[cold]
    pub fn quorum_at(&self, e: u8) -> &Quorum {
        if e == 0 {
            return &self.quorum;
        }
        let switched = self.quorum_switch.as_ref();
        switched
            .and_then(|q| q.epochs.get(e as usize - 1))
            .unwrap_or(&self.quorum)
    }

    /// Whether slot `s` is a tail segment.
    #[inline]
    pub fn is_tail(&self, s: usize) -> bool {
        self.segments
            .as_ref()
            .is_some_and(|t| t.full & (1 << s) == 0)
    }
}

/// What a repair keeps when its *source* goes down or is lost (SPEC §1
/// rule 4, `cluster.repair_progress`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RepairProgress {
    /// Start again from zero when a source is back (the default).
    #[default]
    Restart,
    /// Keep what was copied and finish the rest from another up, current peer.
    Resume,
}

impl RepairProgress {
    /// The scenario spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RepairProgress::Restart => "restart",
            RepairProgress::Resume => "resume",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn gamma_known_values() {
        // Γ(5) = 4! = 24; Γ(1/2) = √π; tolerance 1e-12 relative.
        assert!((gamma(5.0) - 24.0).abs() < 24.0 * 1e-12);
        assert!((gamma(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn means_match_formulas_and_samples() {
        let w = Dist::weibull(0.7, SimTime(1_000_000)).unwrap();
        // mean = λ Γ(1 + 1/k) = 1 s × Γ(2.428571…) ≈ 1.2658
        assert!((w.mean_secs() - 1.265_823_1).abs() < 1e-6);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let n = 200_000;
        let avg: f64 = (0..n)
            .map(|_| w.sample(&mut rng).as_secs_f64())
            .sum::<f64>()
            / n as f64;
        // sd of Weibull(0.7) ≈ 1.85 s; 5 standard errors = 5 × 1.85 / √200000 ≈ 0.021.
        assert!((avg - w.mean_secs()).abs() < 0.021, "sample mean {avg}");
        assert_eq!(Dist::Fixed(SimTime(7)).sample(&mut rng), SimTime(7));
    }
}
