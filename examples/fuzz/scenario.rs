//! Structure-aware scenario text over every SPEC §2 key, with odd values
//! mixed in, and byte mutations of valid scenarios.

use crate::rng::Rng;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether this build knows `cluster.repair_progress` (added by issue 11);
/// without it the key is an unknown key, worth trying only as an odd value.
pub static REPAIR_PROGRESS: AtomicBool = AtomicBool::new(false);

/// Asks the library whether it accepts `cluster.repair_progress`.
pub fn probe_keys() {
    let src = "name = \"p\"\nhorizon = \"1h\"\n[cluster]\nrepair_progress = \"resume\"\n";
    let ok = aurora_sim::scenario::parse(src, "probe", &Default::default()).is_ok();
    REPAIR_PROGRESS.store(ok, Ordering::Relaxed);
}

/// Duration units, plus near misses that users type.
const UNITS: [&str; 7] = ["ms", "s", "m", "h", "d", "w", "y"];
const BAD_UNITS: [&str; 12] = [
    "min", "M", "H", "sec", "hours", " s", "yr", "us", "µs", "mo", "S", "",
];
/// Values that broke parsers before (overflow, rounding, odd literals).
const ODD_DURATIONS: [&str; 24] = [
    "\"0s\"",
    "0",
    "0.0",
    "\"-5m\"",
    "-3",
    "-0.0",
    "\"42535295865117307932921825928971026433ms\"",
    "\"0.999999999999999999999999999999y\"",
    "\"584943y\"",
    "\"99999999999999999999y\"",
    "1.7976931348623157e308",
    "5e-324",
    "nan",
    "inf",
    "-inf",
    "\"10 min\"",
    "\"1h30\"",
    "\"1hh\"",
    "\"\"",
    "\"h\"",
    "\"1..5h\"",
    "\"1e3s\"",
    "true",
    "[1, 2]",
];

/// Writes a TOML basic string.
pub fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(q, "\\u{:04x}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// A plain duration as the user would type it (no quotes): `2h`, `1h30m`.
pub fn duration_text(r: &mut Rng, scale: u64) -> String {
    if r.odd() {
        return format!("{}{}", r.range(1, 99), r.pick(&BAD_UNITS));
    }
    match r.below(5) {
        0 => format!("{}{}", r.range(1, scale.max(1)), r.pick(&UNITS)),
        1 => format!("{}.{}{}", r.below(100), r.below(1000), r.pick(&UNITS)),
        2 => format!("{}h{}m", r.below(48), r.range(1, 59)),
        3 => format!("{}m{}s", r.below(90), r.range(1, 59)),
        _ => format!("{}s", r.range(1, 3600 * scale.max(1))),
    }
}

/// A duration value as TOML text: mostly valid, sometimes odd.
pub fn duration(r: &mut Rng, scale: u64) -> String {
    if r.odd() {
        return r.pick(&ODD_DURATIONS).to_string();
    }
    match r.below(10) {
        0 => format!("{}", r.range(1, 100_000)),
        1 => format!("{:.3}", 0.001 + r.unit() * 1000.0),
        _ => quote(&duration_text(r, scale)),
    }
}

/// A timing: a bare duration or one of the four distributions (or a broken one).
pub fn timing(r: &mut Rng, scale: u64) -> String {
    if r.chance(0.6) {
        return duration(r, scale);
    }
    let d = |r: &mut Rng| duration(r, scale);
    let num = |r: &mut Rng| -> String {
        if !r.odd() {
            return format!("{:.3}", 0.2 + r.unit() * 3.0);
        }
        match r.below(8) {
            0 => "0".into(),
            1 => "-1.5".into(),
            2 => "1e-300".into(),
            3 => "700".into(),
            4 => "0.001".into(),
            5 => "nan".into(),
            6 => "\"0.7\"".into(),
            _ => "1e308".into(),
        }
    };
    let kinds = if r.odd() { 5 } else { 4 };
    let body = match r.below(kinds) {
        0 => format!("dist = \"exponential\", mean = {}", d(r)),
        1 => format!("dist = \"fixed\", value = {}", d(r)),
        2 => format!("dist = \"weibull\", shape = {}, scale = {}", num(r), d(r)),
        3 => format!(
            "dist = \"lognormal\", median = {}, sigma = {}",
            d(r),
            num(r)
        ),
        _ => match r.below(6) {
            0 => format!("dist = \"normal\", mean = {}", d(r)),
            1 => format!("dist = \"Exponential\", mean = {}", d(r)),
            2 => "dist = \"weibull\", shape = 0.7".into(),
            3 => format!("mean = {}", d(r)),
            4 => format!("dist = \"fixed\", value = {}, mean = {}", d(r), d(r)),
            _ => format!("dist = 3, value = {}", d(r)),
        },
    };
    format!("{{ {body} }}")
}

/// An integer-valued key: small valid values, edges, wrong types.
pub fn int(r: &mut Rng, lo: u64, hi: u64) -> String {
    if !r.odd() {
        return format!("{}", r.range(lo, hi));
    }
    match r.below(6) {
        0 => "0".into(),
        1 => "-1".into(),
        2 => "9223372036854775807".into(),
        3 => format!("{}.0", r.range(lo, hi)),
        4 => format!("\"{}\"", r.range(lo, hi)),
        _ => format!("{}", r.range(hi, hi * 20 + 70)),
    }
}

/// A size value: `10GiB` and friends, or near misses.
pub fn size(r: &mut Rng) -> String {
    let units = ["B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"];
    let bad = ["gib", "Gi", "", " GiB", "0", "-1GB", "1e30TiB"];
    match r.odd() {
        true if r.chance(0.3) => r.pick(&["0", "10", "nan", "\"\""]).to_string(),
        true => quote(&format!("{}{}", r.range(1, 2000), r.pick(&bad))),
        false => quote(&format!("{}{}", r.range(1, 2000), r.pick(&units))),
    }
}

/// A bandwidth value: `10Gbps`, `1.25GB/s`, or near misses.
pub fn bandwidth(r: &mut Rng) -> String {
    let units = ["bps", "Kbps", "Mbps", "Gbps", "GB/s", "MiB/s"];
    let bad = ["gbps", "Gb", "/s", "", "e-300bps", "0bps"];
    match r.odd() {
        true if r.chance(0.3) => r.pick(&["0", "\"-5Gbps\"", "10", "inf"]).to_string(),
        true => quote(&format!("{}{}", r.range(1, 100), r.pick(&bad))),
        false => quote(&format!("{}{}", r.range(1, 100), r.pick(&units))),
    }
}

/// AZ names: usually `az-a…`, sometimes duplicates, empties or many.
fn azs(r: &mut Rng) -> Vec<String> {
    let n = match r.odd() {
        true if r.chance(0.5) => 0,
        true => r.range(6, 70),
        false => r.range(1, 4),
    };
    let mut v: Vec<String> = (0..n)
        .map(|i| format!("az-{}", (b'a' + (i % 26) as u8) as char))
        .collect();
    if n > 26 {
        for (i, name) in v.iter_mut().enumerate().skip(26) {
            name.push_str(&i.to_string());
        }
    }
    if !v.is_empty() && r.odd() {
        let k = r.below(v.len() as u64) as usize;
        v[k] = r
            .pick(&["", "az-a", "a b", "ä\u{0}z", "az-a-1"])
            .to_string();
    }
    v
}

/// A value generator for one key.
type Gen = fn(&mut Rng) -> String;

/// The scenario's layout as generated (to name nodes in events).
pub struct Shape {
    /// AZ names written.
    pub azs: Vec<String>,
    /// Nodes per AZ written (or the default).
    pub nodes_per_az: u64,
}

/// One whole scenario as TOML text.
pub fn scenario(r: &mut Rng) -> (String, Shape) {
    let mut s = String::new();
    let horizon_h = r.range(1, 24 * 60);
    if !r.odd() || r.chance(0.7) {
        let names = ["fuzz", "a", "ünï", "x\ty", "", "\u{0}"];
        let n = if r.odd() { names.len() } else { 4 };
        let _ = writeln!(s, "name = {}", quote(r.pick::<&str>(&names[..n])));
    }
    if r.chance(0.3) {
        let _ = writeln!(s, "description = \"generated\"");
    }
    if !r.odd() || r.chance(0.5) {
        let h = if !r.odd() {
            quote(&format!("{horizon_h}h"))
        } else {
            duration(r, 1000)
        };
        let _ = writeln!(s, "horizon = {h}");
    }
    if r.chance(0.5) {
        let _ = writeln!(s, "seed = {}", int(r, 0, 1_000_000));
    }
    let mut shape = Shape {
        azs: ["az-a", "az-b", "az-c"].map(String::from).to_vec(),
        nodes_per_az: 2,
    };
    if r.chance(0.6) {
        s.push_str("\n[cluster]\n");
        if r.chance(0.3) {
            shape.azs = azs(r);
            let list: Vec<String> = shape.azs.iter().map(|a| quote(a)).collect();
            let _ = writeln!(s, "azs = [{}]", list.join(", "));
        }
        if r.chance(0.3) {
            let v = int(r, 1, 4);
            shape.nodes_per_az = v.parse().unwrap_or(2);
            let _ = writeln!(s, "nodes_per_az = {v}");
        }
        let v = shape.azs.len() as u64 * shape.nodes_per_az;
        // A valid pair: 2·w > V and r + w > V (SPEC §1), unless odd.
        let w = r.range(v / 2 + 1, v.max(1));
        let rq = r.range((v + 1).saturating_sub(w).max(1), v.max(1));
        let layout_changed = v != 6;
        for (key, q) in [("write_quorum", w), ("read_quorum", rq)] {
            if r.chance(if layout_changed { 0.9 } else { 0.3 }) {
                let text = if r.odd() {
                    int(r, 1, v.max(1))
                } else {
                    q.to_string()
                };
                let _ = writeln!(s, "{key} = {text}");
            }
        }
        let keys: [(&str, Gen); 10] = [
            ("segment_size", size),
            ("repair_bandwidth", bandwidth),
            ("repair_time", |r| timing(r, 100)),
            ("detection_delay", |r| timing(r, 60)),
            ("catchup_time", |r| timing(r, 60)),
            ("restore_time", |r| timing(r, 10)),
            ("backup_lag", |r| duration(r, 30)),
            ("replace_down_after", |r| timing(r, 60)),
            ("repair_progress", |r| {
                let n = if r.odd() { 4 } else { 2 };
                r.pick(&["\"restart\"", "\"resume\"", "\"Resume\"", "1"][..n])
                    .to_string()
            }),
            ("write_quorom", |r| int(r, 1, 6)),
        ];
        for (k, f) in keys {
            let known = match k {
                "write_quorom" => false,
                "repair_progress" => REPAIR_PROGRESS.load(Ordering::Relaxed),
                _ => true,
            };
            if (known || r.odd()) && r.chance(0.2) {
                let _ = writeln!(s, "{k} = {}", f(r));
            }
        }
    }
    for p in [
        "node_crash",
        "node_loss",
        "az_outage",
        "az_loss",
        "node_crahs",
    ] {
        if (p == "node_crahs" && !r.odd()) || !r.chance(0.35) {
            continue;
        }
        let _ = writeln!(s, "\n[failures.{p}]");
        if !r.odd() || r.chance(0.7) {
            let _ = writeln!(s, "every = {}", timing(r, 500));
        }
        let wants_lasts = p != "node_loss";
        if wants_lasts != r.odd() {
            let _ = writeln!(s, "lasts = {}", timing(r, 10));
        }
    }
    let events = if r.chance(0.4) { r.range(1, 6) } else { 0 };
    for _ in 0..events {
        s.push_str("\n[[events]]\n");
        let at = if r.chance(0.9) {
            quote(&format!("{}m", r.below(horizon_h * 60)))
        } else {
            duration(r, 1000)
        };
        let _ = writeln!(s, "at = {at}");
        let kinds = [
            "node-crash",
            "node-loss",
            "az-outage",
            "az-loss",
            "az_outage",
            "crash",
        ];
        let n = if r.odd() { 6 } else { 4 };
        let kind = *r.pick(&kinds[..n]);
        let _ = writeln!(s, "kind = {}", quote(kind));
        let az = if shape.azs.is_empty() || r.odd() {
            "az-z".to_string()
        } else {
            r.pick(&shape.azs).clone()
        };
        let node_az = kind.starts_with("node") != r.odd();
        if node_az {
            let k = if r.odd() {
                9
            } else {
                r.range(1, shape.nodes_per_az.max(1))
            };
            let _ = writeln!(s, "node = {}", quote(&format!("{az}-{k}")));
        } else {
            let _ = writeln!(s, "az = {}", quote(&az));
        }
        if (kind != "node-loss") != r.odd() {
            let _ = writeln!(s, "lasts = {}", duration(r, 10));
        }
    }
    if r.odd() && r.chance(0.1) {
        deep(r, &mut s);
    }
    (s, shape)
}

/// Deeply nested tables and arrays (parsers recurse on them).
fn deep(r: &mut Rng, s: &mut String) {
    let n = if r.chance(0.05) {
        100_000
    } else {
        r.range(2, 300)
    } as usize;
    match r.below(3) {
        0 => {
            let _ = writeln!(s, "\n[{}]", vec!["t"; n].join("."));
        }
        1 => {
            let _ = writeln!(s, "deep = {}1{}", "[".repeat(n), "]".repeat(n));
        }
        _ => {
            let _ = writeln!(s, "deep = {}{}", "{ a = ".repeat(n), " }".repeat(n));
        }
    }
}

/// Byte mutations: flip, insert, delete, splice, overwrite with a token.
pub fn mutate(r: &mut Rng, bytes: &mut Vec<u8>, other: &[u8]) {
    const TOKENS: [&str; 16] = [
        "=",
        "\"",
        "[",
        "]]",
        "{",
        "}",
        "\n",
        "#",
        ".",
        "-",
        "e99",
        "0",
        "\\u",
        "nan",
        "\u{7f}",
        "[[events]]\n",
    ];
    for _ in 0..r.range(1, 8) {
        let len = bytes.len() as u64;
        let at = r.below(len + 1) as usize;
        match r.below(6) {
            0 if len > 0 => {
                // Mostly ASCII-preserving flips: invalid UTF-8 is refused
                // before any parsing, so it reaches little.
                let i = r.below(len) as usize;
                let bits = if r.chance(0.1) { 8 } else { 7 };
                bytes[i] ^= 1 << r.below(bits);
            }
            1 => {
                let b = r.below(256) as u8;
                bytes.insert(at, b);
            }
            2 if len > 0 => {
                let i = r.below(len) as usize;
                let n = (r.range(1, 16) as usize).min(bytes.len() - i);
                bytes.drain(i..i + n);
            }
            3 if !other.is_empty() => {
                let from = r.below(other.len() as u64) as usize;
                let n = r.range(1, 80).min((other.len() - from) as u64) as usize;
                let piece = other[from..from + n].to_vec();
                bytes.splice(at..at, piece);
            }
            4 => {
                let t = r.pick(&TOKENS).as_bytes().to_vec();
                bytes.splice(at..at, t);
            }
            _ if len > 0 => {
                // Cut at a random point and append the other text's tail.
                let from = r.below(other.len() as u64 + 1) as usize;
                bytes.truncate(at);
                bytes.extend_from_slice(&other[from.min(other.len())..]);
            }
            _ => {}
        }
    }
}
