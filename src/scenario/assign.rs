//! `KEY=VALUE` assignments from the command line (`--set`, `--vary`), applied
//! to the file's TOML table before anything is validated.

use super::{Overrides, Scenario, parse, toml_error};
use crate::error::InputError;
use crate::time::SimTime;

/// A `KEY=VALUE` assignment to a dotted scenario key (`--set`, `--vary`).
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// The flag it came from, for messages (`--set`, `--vary`).
    pub flag: &'static str,
    /// Dotted key, e.g. `failures.node_loss.every`.
    pub key: String,
    /// The value as typed.
    pub text: String,
    /// The value as TOML.
    pub value: toml::Value,
}

/// Reads a value as TOML would, with bare words allowed: `[…]`, `{…}` and
/// quoted strings are TOML; otherwise an integer, a finite float, a boolean,
/// or else the text itself as a string (so `1y` needs no quotes).
pub fn value_of(text: &str) -> Result<toml::Value, String> {
    if text.starts_with(['[', '{', '"', '\'']) {
        // Parsed as the right-hand side of a TOML line, so every TOML value
        // (inline tables, arrays of tables, escapes) means what it means in a file.
        let doc = format!("v = {text}");
        return match toml::from_str::<toml::Table>(&doc) {
            Ok(mut t) => t.remove("v").ok_or_else(|| "no value".to_string()),
            Err(e) => Err(format!(
                "`{text}` is not a TOML value: {}",
                e.message().trim()
            )),
        };
    }
    Ok(if let Ok(i) = text.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let Some(f) = text.parse::<f64>().ok().filter(|f| f.is_finite()) {
        toml::Value::Float(f)
    } else if text == "true" || text == "false" {
        toml::Value::Boolean(text == "true")
    } else {
        toml::Value::String(text.to_string())
    })
}

/// The text that [`value_of`] reads back as `v`: a string as itself when that
/// is unambiguous (`1y`), otherwise TOML (`"4"`, `["a", "b"]`).
pub fn value_text(v: &toml::Value) -> String {
    if let toml::Value::String(s) = v
        && value_of(s).as_ref() == Ok(v)
    {
        return s.clone();
    }
    v.to_string()
}

impl Assignment {
    /// An assignment of `text` (read by [`value_of`]; text that is not a TOML
    /// value stays a string, for values generated here) to `key`.
    pub fn new(flag: &'static str, key: &str, text: &str) -> Assignment {
        Assignment {
            flag,
            key: key.to_string(),
            text: text.to_string(),
            value: value_of(text).unwrap_or_else(|_| toml::Value::String(text.to_string())),
        }
    }

    /// Parses `KEY=VALUE` given to `flag`; the message says what is wrong.
    pub fn parse(flag: &'static str, arg: &str) -> Result<Assignment, String> {
        let (k, v) = arg
            .split_once('=')
            .ok_or_else(|| format!("`{arg}` is not KEY=VALUE"))?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() {
            return Err(format!("`{arg}` is not KEY=VALUE (no key)"));
        }
        let value = value_of(v).map_err(|m| format!("{k}: {m}"))?;
        Ok(Assignment {
            flag,
            key: k.to_string(),
            text: v.to_string(),
            value,
        })
    }
}

/// Renders assignments as `k=v, k2=v2` for messages.
pub fn describe(sets: &[Assignment]) -> String {
    sets.iter()
        .map(|a| format!("{}={}", a.key, a.text))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `--set k=v --vary k2=v2`: the flags as typed, for errors they cause.
fn describe_flags(sets: &[Assignment]) -> String {
    sets.iter()
        .map(|a| format!("{} {}={}", a.flag, a.key, a.text))
        .collect::<Vec<_>>()
        .join(" ")
}

fn set_dotted(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().filter(|s| !s.is_empty()).ok_or("empty key")?;
    let mut t = table;
    for p in parts {
        if p.is_empty() {
            return Err(format!("`{key}` is not a dotted key"));
        }
        // `events[2]`: an entry of an array of tables that the file has.
        if let Some((name, i)) = indexed(p) {
            let n = t.get(name).and_then(|v| v.as_array()).map_or(0, Vec::len);
            t = t
                .get_mut(name)
                .and_then(|v| v.as_array_mut())
                .and_then(|a| a.get_mut(i))
                .and_then(|v| v.as_table_mut())
                .ok_or_else(|| {
                    format!("`{p}` in `{key}`: the file has {n} `[[{name}]]` tables (from 0)")
                })?;
            continue;
        }
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{p}` in `{key}` is not a table"))?;
    }
    t.insert(last.to_string(), value);
    Ok(())
}

/// `name[i]` → (`name`, i).
fn indexed(part: &str) -> Option<(&str, usize)> {
    let (name, rest) = part.split_once('[')?;
    let i = rest.strip_suffix(']')?.parse().ok()?;
    (!name.is_empty()).then_some((name, i))
}

/// Whether an error about key `a` concerns assigned key `b` (or the reverse):
/// equal, or one inside the other (`cluster.repair_time.mean`).
fn related(a: &str, b: &str) -> bool {
    let inside = |x: &str, y: &str| x.strip_prefix(y).is_some_and(|r| r.starts_with('.'));
    a == b || inside(a, b) || inside(b, a)
}

/// Byte offset of a dotted key's value in the file, if the file has it.
fn offset_of(src: &str, key: &str) -> Option<usize> {
    let root = toml::de::DeTable::parse(src).ok()?;
    let mut table = root.get_ref();
    let mut parts = key.split('.').peekable();
    while let Some(p) = parts.next() {
        let (_, v) = table.iter().find(|(k, _)| k.get_ref().as_ref() == p)?;
        match v.get_ref() {
            toml::de::DeValue::Table(t) if parts.peek().is_some() => table = t,
            _ => return Some(v.span().start),
        }
    }
    None
}

/// Validates scenario text with `sets` applied on top of it first, so flags
/// can repair a file that is invalid alone (a missing `name`, a bad quorum).
/// When the file alone is invalid too, an error about a key no assignment
/// touches is the file's and is located in it; any other is reported
/// against the flags, with their values named.
pub fn parse_with(
    src: &str,
    label: &str,
    sets: &[Assignment],
    ov: &Overrides,
) -> Result<Scenario, InputError> {
    let mut alone_ov = ov.clone();
    if sets.iter().any(|a| a.key == "horizon") && alone_ov.horizon.is_none() {
        // The horizon comes from the assignment; any value checks the rest.
        alone_ov.horizon = Some(SimTime::MAX);
    }
    if sets.is_empty() {
        return parse(src, label, ov);
    }
    // Syntax errors are the file's, located in it.
    let mut table: toml::Table = toml::from_str(src).map_err(|e| toml_error(src, label, &e))?;
    let at = || describe_flags(sets);
    for a in sets {
        set_dotted(&mut table, &a.key, a.value.clone())
            .map_err(|m| InputError::new(at(), m).with_key(&a.key))?;
    }
    let text = toml::to_string(&table).map_err(|e| InputError::new(at(), e.to_string()))?;
    parse(&text, label, ov).map_err(|e| {
        let touched = e
            .key
            .as_deref()
            .is_some_and(|k| sets.iter().any(|a| related(k, &a.key)));
        if !touched && parse(src, label, &alone_ov).is_err() {
            let location = e
                .key
                .as_deref()
                .and_then(|k| offset_of(src, k))
                .map(|at| super::line_col(src, at));
            return InputError {
                path: label.to_string(),
                location,
                ..e
            };
        }
        InputError {
            path: at(),
            location: None,
            key: e.key,
            message: e.message,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_toml_with_bare_words() {
        assert_eq!(value_of("4"), Ok(toml::Value::Integer(4)));
        assert_eq!(value_of("1y"), Ok(toml::Value::String("1y".into())));
        assert_eq!(value_of("inf"), Ok(toml::Value::String("inf".into())));
        assert_eq!(value_of("\"4\""), Ok(toml::Value::String("4".into())));
        let t = value_of(r#"{ dist = "exponential", mean = "1h" }"#).unwrap();
        assert_eq!(t["mean"].as_str(), Some("1h"));
        let a = value_of(r#"["a","b"]"#).unwrap();
        assert_eq!(a.as_array().map(Vec::len), Some(2));
        assert!(value_of("[1,").is_err());
        assert!(value_of("{ a = }").is_err());
    }

    #[test]
    fn value_text_reads_back() {
        for text in ["1y", "\"4\"", "4", r#"["a", "b"]"#, "\"true\"", "x y"] {
            let v = value_of(text).unwrap();
            assert_eq!(value_of(&value_text(&v)), Ok(v), "{text}");
        }
    }

    // See: issue 11
    #[test]
    fn issue_11_assignments_repair_the_file() {
        // Invalid alone (quorum 7 of 6); `--set` applies before validation.
        let src = "name = \"x\"\nhorizon = \"1d\"\n[cluster]\nwrite_quorum = 7\n";
        let ov = Overrides::default();
        let own = parse(src, "f.toml", &ov).unwrap_err();
        assert_eq!(own.key.as_deref(), Some("cluster.write_quorum"));
        let fix = [Assignment::parse("--set", "cluster.write_quorum=4").unwrap()];
        assert!(parse_with(src, "f.toml", &fix, &ov).is_ok());
        // An error the flags leave alone keeps its place in the file.
        let other = [Assignment::parse("--set", "seed=3").unwrap()];
        let e = parse_with(src, "f.toml", &other, &ov).unwrap_err();
        assert_eq!((e.path.as_str(), e.location), ("f.toml", Some((4, 16))));
    }
}
