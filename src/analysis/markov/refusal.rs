//! Why `analyze` refuses a scenario, and the error it becomes: a key at
//! fault is named with the `file:line:col` where the scenario writes it,
//! like the loader's own errors.

use super::{MAX_STATES, MAX_SWEEPS, Substitution, estimate};
use crate::error::{Error, InputError};

/// Why a scenario cannot be analysed.
#[derive(Debug, Clone, PartialEq)]
pub enum AnalyzeError {
    /// Timings the chain uses that are neither exponential nor zero (all
    /// that a probe of the chain found, in timing order).
    NotExponential(Vec<Substitution>),
    /// With `--approx`: a timing whose mean is infinite (a heavy tail), so
    /// there is no exponential of the same mean.
    NoMean(Substitution),
    /// The chain is too large.
    TooLarge(usize),
    /// The chain is estimated to be too large to build (see `estimate`).
    TooLargeEstimate(estimate::Estimate),
    /// Gauss–Seidel converges too slowly (failures outpace repairs) and the
    /// chain, of this many states, is too large to eliminate.
    TooSlow(usize),
    /// The solver failed (a bug or a degenerate chain).
    Numerical(String),
    /// A volume or fleet scenario (SPEC §4): the chain would be the product
    /// of every PG's and node's.
    Volume {
        /// Protection groups.
        pgs: usize,
        /// Fleet nodes.
        nodes: usize,
    },
}

impl AnalyzeError {
    /// The command's error: input problems (exit 2) name the scenario file
    /// and, where a key is at fault, the key and where `src` (the file's
    /// text) writes it (or the table it would be in); only a solver failure
    /// is internal (exit 1).
    pub fn into_error(self, path: &str, src: &str) -> Error {
        let input = |key: Option<String>, m: String| {
            let mut e = InputError::new(path, m);
            if let Some(k) = key {
                // Several keys ("a, b"): point at the first.
                e.location = locate(src, k.split(", ").next().unwrap_or(&k));
                e = e.with_key(k);
            }
            Error::Input(e)
        };
        match self {
            AnalyzeError::Volume { pgs, nodes } => input(
                Some(
                    if locate(src, "volume").is_some() {
                        "volume"
                    } else {
                        "fleet"
                    }
                    .to_string(),
                ),
                format!(
                    "analyze solves one protection group exactly, but this is a volume of {pgs} \
                     PGs on {nodes} fleet nodes, whose Markov chain is the product of all of \
                     theirs; estimate it with `sweep` (or analyze one PG: drop [volume] and \
                     [fleet])"
                ),
            ),
            AnalyzeError::NotExponential(subs) => {
                let keys: Vec<&str> = subs.iter().map(|s| s.timing.key()).collect();
                let what: Vec<String> = subs
                    .iter()
                    .map(|s| {
                        format!(
                            "{} is {} (mean {:.6} s)",
                            s.timing.key(),
                            s.was,
                            s.mean_secs
                        )
                    })
                    .collect();
                input(
                    Some(keys.join(", ")),
                    format!(
                        "not exponential or zero, so the Markov chain would not be exact: {}; \
                         pass --approx to use exponentials of the same means",
                        what.join("; ")
                    ),
                )
            }
            AnalyzeError::NoMean(s) => input(
                Some(s.timing.key().to_string()),
                format!(
                    "{} has an infinite mean (its tail is too heavy), so --approx has no \
                     exponential of the same mean to put in its place; use a lighter tail",
                    s.was
                ),
            ),
            AnalyzeError::TooLarge(n) => input(
                None,
                format!("the Markov chain has more than {n} states; use fewer AZs or nodes per AZ"),
            ),
            AnalyzeError::TooLargeEstimate(e) => input(
                None,
                format!(
                    "the Markov chain of {} replicas would have about {:.0e} states (estimated \
                     from {} states on {} AZs × {}: growing as that to the power {}/{}), more \
                     than the {MAX_STATES} it is built to; use fewer AZs or nodes per AZ, or \
                     estimate with `sweep`",
                    e.replicas,
                    e.states,
                    e.probe.2,
                    e.probe.0,
                    e.probe.1,
                    e.replicas,
                    e.probe.0 * e.probe.1
                ),
            ),
            AnalyzeError::TooSlow(n) => input(
                None,
                format!(
                    "failures outpace repairs here, so the all-replicas-current state is rare and \
                     the iterative solver did not converge in {MAX_SWEEPS} sweeps, and the chain's \
                     {n} states are too many to eliminate; estimate with `sweep` instead, or use \
                     fewer nodes"
                ),
            ),
            AnalyzeError::Numerical(m) => Error::Internal(format!("analysis failed: {m}")),
        }
    }
}

/// Where the dotted `key` is written in the TOML text `src` (1-based line
/// and column of the key, or of the value's key inside an inline table), or
/// else the innermost table header it would belong to (`[cluster]` for a
/// defaulted `cluster.repair_time`); None if neither is in the text.
pub(crate) fn locate(src: &str, key: &str) -> Option<(usize, usize)> {
    let col = |line: &str, byte: usize| line[..byte].chars().count() + 1;
    let mut table = String::new();
    let mut header = None;
    let under = |full: &str| key.strip_prefix(full).is_some_and(|r| r.starts_with('.'));
    for (i, line) in src.lines().enumerate() {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        if t.starts_with('[') {
            let name = t.trim_start_matches('[');
            let name = name.split(']').next().unwrap_or("").trim();
            table = name.to_string();
            if table == key {
                return Some((i + 1, col(line, indent)));
            }
            if under(&table) {
                header = Some((i + 1, col(line, indent)));
            }
            continue;
        }
        let Some((k, value)) = t.split_once('=') else {
            continue;
        };
        let name = k.trim().trim_matches('"');
        let full = match table.is_empty() {
            true => name.to_string(),
            false => format!("{table}.{name}"),
        };
        if full == key {
            return Some((i + 1, col(line, indent)));
        }
        if under(&full) {
            // An inline table: `node_loss = { every = "5y" }`.
            let last = key.rsplit('.').next().unwrap_or(key);
            let at = value
                .match_indices(last)
                .map(|(p, _)| p)
                .find(|&p| value[p + last.len()..].trim_start().starts_with('='));
            let byte = match at {
                Some(p) => line.len() - value.len() + p,
                None => indent,
            };
            return Some((i + 1, col(line, byte)));
        }
    }
    header
}
