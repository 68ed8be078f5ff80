//! Scenario files: load TOML, validate every value with its file position, and
//! produce a typed [`Scenario`] whose [`Config`] drives the model.

pub(crate) mod assign;
mod database;
mod events;
mod raw;
mod segments;
mod suggest;
mod validate;
mod volume;
pub mod work;

pub use assign::{Assignment, describe, parse_with};

use crate::error::InputError;
use crate::model::Config;
use crate::time::SimTime;
use std::path::Path;

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// `name`.
    pub name: String,
    /// `description`, if any.
    pub description: Option<String>,
    /// Simulated time of one run.
    pub horizon: SimTime,
    /// Seed (file's `seed`, 0 if absent, or `--seed`).
    pub seed: u64,
    /// The model set-up.
    pub config: Config,
}

/// Command-line values that replace the file's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--horizon`.
    pub horizon: Option<SimTime>,
    /// `--seed`.
    pub seed: Option<u64>,
}

/// Reads and validates a scenario file.
pub fn load(path: &Path, ov: &Overrides) -> Result<Scenario, InputError> {
    let (src, label) = read(path)?;
    parse(&src, &label, ov)
}

/// Validates scenario text; `label` names it in errors.
pub fn parse(src: &str, label: &str, ov: &Overrides) -> Result<Scenario, InputError> {
    let raw: raw::RawScenario = toml::from_str(src).map_err(|e| toml_error(src, label, &e))?;
    validate::validate(raw, &Locator { src, label }, ov)
}

/// Turns byte spans into `path:line:col` errors.
pub(crate) struct Locator<'a> {
    src: &'a str,
    label: &'a str,
}

impl Locator<'_> {
    /// An error at byte offset `at`, about `key`.
    pub(crate) fn error(&self, at: usize, key: &str, message: impl Into<String>) -> InputError {
        InputError {
            path: self.label.to_string(),
            location: Some(line_col(self.src, at)),
            key: Some(key.to_string()),
            message: message.into(),
        }
    }

    /// An error about a missing key (no position).
    pub(crate) fn missing(&self, key: &str, message: impl Into<String>) -> InputError {
        InputError::new(self.label, message).with_key(key)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, at: usize) -> (usize, usize) {
    let at = at.min(src.len());
    let before = &src.as_bytes()[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// The dotted key at a byte offset, read off the text: the enclosing table
/// header (`[cluster]`, `[[events]]` → `events[i]`) and the key left of `=`.
fn key_at(src: &str, at: usize) -> Option<String> {
    let at = at.min(src.len());
    let line_start = src[..at].rfind('\n').map_or(0, |p| p + 1);
    let line_end = src[at..].find('\n').map_or(src.len(), |p| at + p);
    let mut table = String::new();
    let mut events = 0usize;
    // Table context from every header up to and including this line.
    for l in src[..line_end].lines() {
        let t = l.trim();
        if let Some(name) = t.strip_prefix("[[").and_then(|t| t.split("]]").next()) {
            let name = name.trim();
            table = if name == "events" {
                events += 1;
                format!("events[{}]", events - 1)
            } else {
                name.to_string()
            };
        } else if let Some(name) = t.strip_prefix('[').and_then(|t| t.split(']').next()) {
            table = name.trim().to_string();
        }
    }
    let line = src[line_start..line_end].trim();
    let key = match line.split_once('=') {
        Some((k, _)) if !line.starts_with('[') => k.trim().trim_matches('"'),
        _ => "",
    };
    match (table.is_empty(), key.is_empty()) {
        (true, true) => None,
        (true, false) => Some(key.to_string()),
        (false, true) => Some(table),
        (false, false) => Some(format!("{table}.{key}")),
    }
}

/// A TOML syntax, type or unknown-key error, located.
pub(crate) fn toml_error(src: &str, label: &str, e: &toml::de::Error) -> InputError {
    let message = e.message().trim().to_string();
    let message = message
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing required key");
    let message = match unknown_key_hint(&message) {
        Some(hint) => format!("{message}{hint}"),
        None => message,
    };
    match e.span() {
        // A missing key is reported with the file and the key, not a position.
        Some(span) if message.starts_with("missing required key") => {
            let key = message.split('`').nth(1).unwrap_or("?");
            let table = if span.end > 0 {
                key_at(src, span.start)
            } else {
                None
            };
            let full = match table {
                Some(t) => format!("{t}.{key}"),
                None => key.to_string(),
            };
            InputError::new(label, message.clone()).with_key(full)
        }
        Some(span) => {
            let mut err = InputError::new(label, message);
            err.location = Some(line_col(src, span.start));
            err.key = key_at(src, span.start);
            err
        }
        // The reader gives no position for nesting past its recursion limit
        // (`[a.a.a.…]` 100,000 deep): point at the most deeply nested line.
        None if message.contains("recursion") => {
            let at = deepest_line(src);
            let mut err = InputError::new(
                label,
                "nested too deeply for the TOML reader (its recursion limit); \
                 a scenario needs at most three levels, as in `[failures.node_loss]`",
            );
            err.location = Some(line_col(src, at));
            err
        }
        None => InputError::new(label, message),
    }
}

/// `; did you mean `x`?` for serde's "unknown key `x`, expected one of `a`, `b`".
fn unknown_key_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown key `")?;
    let (word, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let hint = suggest::did_you_mean(word, &expected);
    (!hint.is_empty()).then_some(hint)
}

/// Byte offset of the line with the most nesting marks (`.`, `[`, `{`).
fn deepest_line(src: &str) -> usize {
    let mut best = (0, 0);
    let mut at = 0;
    for line in src.split_inclusive('\n') {
        let marks = line
            .bytes()
            .filter(|b| matches!(b, b'.' | b'[' | b'{'))
            .count();
        if marks > best.0 {
            best = (marks, at);
        }
        at += line.len();
    }
    best.1
}

/// Reads a scenario file and applies `sets` (see [`parse_with`]).
pub fn load_with(path: &Path, sets: &[Assignment], ov: &Overrides) -> Result<Scenario, InputError> {
    let (src, label) = read(path)?;
    parse_with(&src, &label, sets, ov)
}

/// The file's text and its label for messages.
pub fn read(path: &Path) -> Result<(String, String), InputError> {
    let label = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| InputError::new(&label, format!("cannot read file: {e}")))?;
    let src = String::from_utf8(bytes).map_err(|_| InputError::new(&label, "not UTF-8 text"))?;
    Ok((src, label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let src = "a = 1\nbb = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, 11), (2, 6));
    }

    // See: issue 11
    #[test]
    fn issue_11_deep_nesting_is_located() {
        // 100,000 dotted parts pass the reader's recursion limit; the error
        // used to carry no position. The header is on line 3.
        let src = format!(
            "name = \"x\"\nhorizon = \"1d\"\n[{}]\n",
            vec!["a"; 100_000].join(".")
        );
        let e = parse(&src, "deep.toml", &Overrides::default()).unwrap_err();
        assert_eq!(e.location, Some((3, 1)), "{e}");
        assert!(e.message.contains("nested too deeply"), "{e}");
    }

    #[test]
    fn unknown_keys_suggest_the_known_one() {
        let src = "name = \"x\"\nhorizon = \"1d\"\n[cluster]\nrepair_tme = \"1s\"\n";
        let e = parse(src, "k.toml", &Overrides::default()).unwrap_err();
        assert!(e.message.ends_with("did you mean `repair_time`?"), "{e}");
    }

    #[test]
    fn keys_are_read_off_the_text() {
        let src = "name = \"x\"\n[cluster]\nwrite_quorum = 9\n[[events]]\nat = 1\n[[events]]\nnode = \"q\"\n";
        assert_eq!(
            key_at(src, src.find("9").unwrap()).as_deref(),
            Some("cluster.write_quorum")
        );
        assert_eq!(
            key_at(src, src.find("\"q\"").unwrap()).as_deref(),
            Some("events[1].node")
        );
        assert_eq!(key_at(src, 0).as_deref(), Some("name"));
        assert_eq!(
            key_at(src, src.rfind("[[events]]").unwrap()).as_deref(),
            Some("events[1]")
        );
        assert_eq!(
            key_at(src, src.find("[cluster]").unwrap()).as_deref(),
            Some("cluster")
        );
    }
}
