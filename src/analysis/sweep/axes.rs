//! Sweep axes: `--vary KEY=VALUES` lists and ranges, `--vary-together`
//! groups that move in step, and the grid they make.

use super::MAX_GRID_POINTS;
use crate::error::Error;
use crate::scenario::Assignment;
use crate::scenario::assign::{value_of, value_text};
use crate::time::parse_duration;
use serde::{Deserialize, Serialize};

/// One `--vary KEY=VALUES` axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Dotted scenario key.
    pub key: String,
    /// Values as text, in order.
    pub values: Vec<String>,
    /// Moves in step with the axis before it (`--vary-together`): point i
    /// takes value i of both, so the pair adds one dimension, not two.
    /// Left out of part files when false, so their format is unchanged.
    #[serde(default, skip_serializing_if = "is_false")]
    pub paired: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Splits `"12.5GiB"` into (12.5, "GiB").
fn split_unit(s: &str) -> Option<(f64, &str)> {
    let n = s
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(n);
    Some((num.parse().ok()?, unit))
}

/// A generated grid value as text: 6 significant digits, no exponent, no
/// trailing zeros (the text is what the trials use, so nothing is hidden).
fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        return format!("{}", v as i64);
    }
    let prec = (5 - v.abs().log10().floor() as i64).clamp(0, 15) as usize;
    let s = format!("{v:.prec$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    s.to_string()
}

/// Parses `KEY=VALUES`: a comma list, `lin:START:STOP:N` or `log:START:STOP:N`
/// (START and STOP may carry a unit, the same on both: `log:1y:100y:5`).
pub fn parse_vary(arg: &str) -> Result<Axis, Error> {
    let bad = |m: String| Error::flag("--vary", m);
    let (key, spec) = arg
        .split_once('=')
        .map(|(k, v)| (k.trim(), v.trim()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .ok_or_else(|| {
            bad(format!(
                "`{arg}` is not KEY=VALUES (e.g. failures.node_loss.every=1y,2y,5y)"
            ))
        })?;
    let values = if let Some(rest) = spec
        .strip_prefix("lin:")
        .or_else(|| spec.strip_prefix("log:"))
    {
        let log = spec.starts_with("log:");
        let parts: Vec<&str> = rest.split(':').collect();
        let [start, stop, n] = parts[..] else {
            return Err(bad(format!(
                "{key}={spec}: expected {}:START:STOP:N",
                &spec[..3]
            )));
        };
        let n: u64 = n.parse().ok().filter(|&n| n >= 1).ok_or_else(|| {
            bad(format!(
                "{key}={spec}: N = `{n}` must be a whole number ≥ 1"
            ))
        })?;
        if n > MAX_GRID_POINTS {
            return Err(bad(format!(
                "{key}={spec}: N = {n} points; a sweep has at most {MAX_GRID_POINTS} grid points"
            )));
        }
        let n = n as usize;
        let (mut a, mut ua) = split_unit(start)
            .ok_or_else(|| bad(format!("{key}={spec}: START `{start}` is not a number")))?;
        let (mut b, ub) = split_unit(stop)
            .ok_or_else(|| bad(format!("{key}={spec}: STOP `{stop}` is not a number")))?;
        if ua != ub {
            // Durations in different units (1d … 1y) are spaced in seconds.
            match (parse_duration(start), parse_duration(stop)) {
                (Ok(x), Ok(y)) => (a, b, ua) = (x.as_secs_f64(), y.as_secs_f64(), "s"),
                _ => {
                    return Err(bad(format!(
                        "{key}={spec}: START and STOP need the same unit (`{ua}` vs `{ub}`)"
                    )));
                }
            }
        }
        if log && (a <= 0.0 || b <= 0.0) {
            return Err(bad(format!(
                "{key}={spec}: log ranges need START and STOP > 0"
            )));
        }
        (0..n)
            .map(|i| {
                let f = if n == 1 {
                    0.0
                } else {
                    i as f64 / (n - 1) as f64
                };
                let v = match (i == 0, i + 1 == n, log) {
                    (true, _, _) => a,
                    (_, true, _) => b,
                    (_, _, true) => (a.ln() + f * (b.ln() - a.ln())).exp(),
                    (_, _, false) => a + f * (b - a),
                };
                format!("{}{ua}", number_text(v))
            })
            .collect()
    } else if spec.starts_with('[') {
        // A TOML array: its items may hold commas (tables, arrays, strings).
        let items = match value_of(spec).map_err(|m| bad(format!("{key}: {m}")))? {
            toml::Value::Array(items) if !items.is_empty() => items,
            _ => return Err(bad(format!("{key}={spec}: the list of values is empty"))),
        };
        items.iter().map(value_text).collect()
    } else if spec.starts_with('{') {
        return Err(bad(format!(
            "{key}={spec}: give table values as a TOML array, e.g. \
             {key}=[{{ dist = \"fixed\", value = \"1h\" }}, {{ dist = \"exponential\", mean = \"1h\" }}]"
        )));
    } else {
        let vals: Vec<String> = spec.split(',').map(|v| v.trim().to_string()).collect();
        if vals.iter().any(String::is_empty) {
            return Err(bad(format!("{key}={spec}: empty value in the list")));
        }
        vals
    };
    Ok(Axis {
        key: key.to_string(),
        values,
        paired: false,
    })
}

/// Parses the `--vary-together` flags into axes that move in step (one
/// dimension of the grid); their lists must have equal lengths.
pub fn parse_together(args: &[String]) -> Result<Vec<Axis>, Error> {
    let mut axes = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        let mut a = parse_vary(arg).map_err(|e| match e {
            Error::Input(mut ie) if ie.path == "--vary" => {
                ie.path = "--vary-together".into();
                Error::Input(ie)
            }
            e => e,
        })?;
        a.paired = i > 0;
        axes.push(a);
    }
    if let Some(first) = axes.first()
        && let Some(other) = axes.iter().find(|a| a.values.len() != first.values.len())
    {
        return Err(Error::flag(
            "--vary-together",
            format!(
                "{} has {} values but {} has {}: keys varied together take lists of equal length \
                 (value i of each goes into grid point i)",
                first.key,
                first.values.len(),
                other.key,
                other.values.len()
            ),
        ));
    }
    Ok(axes)
}

/// The axes grouped into the grid's dimensions: an axis with `paired` set
/// joins the dimension of the axis before it.
pub fn dimensions(axes: &[Axis]) -> Vec<&[Axis]> {
    let mut dims = Vec::new();
    let mut start = 0;
    for i in 1..=axes.len() {
        if i == axes.len() || !axes[i].paired {
            dims.push(&axes[start..i]);
            start = i;
        }
    }
    dims
}

/// The Cartesian product of the dimensions, first outermost; the axes of a
/// `--vary-together` group take their values in step.
pub fn grid(axes: &[Axis]) -> Vec<Vec<Assignment>> {
    let mut points = vec![Vec::new()];
    for dim in dimensions(axes) {
        let len = dim.iter().map(|a| a.values.len()).min().unwrap_or(0);
        points = points
            .into_iter()
            .flat_map(|p| {
                (0..len).map(move |i| {
                    let mut q = p.clone();
                    for axis in dim {
                        q.push(Assignment::new(flag(dim), &axis.key, &axis.values[i]));
                    }
                    q
                })
            })
            .collect();
    }
    points
}

/// The flag a dimension came from, for messages (a group of one reads the
/// same either way).
fn flag(dim: &[Axis]) -> &'static str {
    if dim.len() > 1 {
        "--vary-together"
    } else {
        "--vary"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vary_lists_and_ranges() {
        assert_eq!(
            parse_vary("a.b=1y,2y, 5y").unwrap().values,
            ["1y", "2y", "5y"]
        );
        assert_eq!(parse_vary("k=lin:3:5:3").unwrap().values, ["3", "4", "5"]);
        assert_eq!(
            parse_vary("k=lin:0:1:5").unwrap().values,
            ["0", "0.25", "0.5", "0.75", "1"]
        );
        assert_eq!(
            parse_vary("k=log:1y:100y:3").unwrap().values,
            ["1y", "10y", "100y"]
        );
        assert_eq!(parse_vary("k=lin:2:2:1").unwrap().values, ["2"]);
        assert_eq!(
            parse_vary("k=lin:1d:2w:3").unwrap().values,
            ["86400s", "648000s", "1209600s"]
        );
        // 10^(1/3) = 2.15443469… → 6 significant digits.
        assert_eq!(
            parse_vary("k=log:1:10:4").unwrap().values,
            ["1", "2.15443", "4.64159", "10"]
        );
        for bad in [
            "k",
            "=1",
            "k=",
            "k=lin:1:2",
            "k=log:0:1:3",
            "k=lin:1GiB:2d:3",
            "k=lin:1:2:0",
            "k=1,,2",
        ] {
            assert!(parse_vary(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn grid_is_row_major() {
        let axes = vec![parse_vary("a=1,2").unwrap(), parse_vary("b=x,y,z").unwrap()];
        let g = grid(&axes);
        let text: Vec<String> = g.iter().map(|p| crate::scenario::describe(p)).collect();
        assert_eq!(text[0], "a=1, b=x");
        assert_eq!(text[2], "a=1, b=z");
        assert_eq!(text[3], "a=2, b=x");
        assert_eq!(g.len(), 6);
        assert_eq!(grid(&[]).len(), 1);
    }

    #[test]
    fn toml_array_values() {
        let a = parse_vary(r#"cluster.azs=[["a","b","c"],["a","b","c","d"]]"#).unwrap();
        assert_eq!(a.values, [r#"["a", "b", "c"]"#, r#"["a", "b", "c", "d"]"#]);
        let t = parse_vary(r#"k=[{ dist = "fixed", value = "1h" }, "2h", "4"]"#).unwrap();
        assert_eq!(t.values[1..], ["2h", "\"4\""]);
        assert!(parse_vary("k=[]").is_err());
        assert!(parse_vary("k=[1,").is_err());
        let e = parse_vary(r#"k={ dist = "fixed", value = "1h" }"#).unwrap_err();
        assert!(e.to_string().contains("as a TOML array"), "{e}");
    }

    #[test]
    fn together_moves_in_step() {
        let mut axes = parse_together(&["a=1,2".into(), "b=x,y".into()]).unwrap();
        axes.push(parse_vary("c=p,q,r").unwrap());
        let g = grid(&axes);
        assert_eq!(g.len(), 6);
        let text: Vec<String> = g.iter().map(|p| crate::scenario::describe(p)).collect();
        assert_eq!(text[0], "a=1, b=x, c=p");
        assert_eq!(text[3], "a=2, b=y, c=p");
        let e = parse_together(&["a=1,2".into(), "b=x,y,z".into()]).unwrap_err();
        assert!(e.to_string().contains("equal length"), "{e}");
    }
}
