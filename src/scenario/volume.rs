//! `[volume]` and `[fleet]` (SPEC §4): how many PGs a volume has, how they are
//! placed, and the fleet of storage nodes they live on, as a [`Storage`].

use super::raw::{RawFleet, RawVolume};
use super::validate::V;
use crate::error::InputError;
use crate::model::{Layout, Placement, Storage};
use crate::time::parse_size;
use toml::{Spanned, Value};

/// Most PGs in a volume (95 PiB of 10 GiB segments): past it the per-PG
/// state of a run would not fit in memory.
pub const MAX_PGS: u64 = 10_000_000;

/// Most fleet nodes in all AZs together.
pub const MAX_FLEET_NODES: u64 = 1_000_000;

/// `cluster.segment_size` as written (absent: the default) and in bytes.
pub(super) struct Segment<'s> {
    /// The file's text, if it set the key.
    pub text: Option<&'s str>,
    /// Bytes, as validated.
    pub bytes: f64,
}

/// A size exactly, `num / den` bytes: `parse_size`'s f64 is not exact
/// (`1.1KB` is 1100.0000000000002 bytes), and a PG count must be.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Ratio {
    num: u128,
    den: u128,
}

/// The units of `parse_size`, as integers.
const UNITS: [(&str, u128); 9] = [
    ("B", 1),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
];

/// A size `parse_size` accepted, read exactly; `None` when the digits do not
/// fit in 128 bits (then the callers fall back to the f64).
fn exact(text: &str) -> Option<Ratio> {
    let n = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(n);
    let scale = UNITS.iter().find(|u| u.0 == unit)?.1;
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let frac = frac.trim_end_matches('0');
    let mut num: u128 = 0;
    for d in int.bytes().chain(frac.bytes()) {
        if !d.is_ascii_digit() {
            return None;
        }
        num = num.checked_mul(10)?.checked_add(u128::from(d - b'0'))?;
    }
    let den = 10u128.checked_pow(u32::try_from(frac.len()).ok()?)?;
    Some(Ratio {
        num: num.checked_mul(scale)?,
        den,
    })
}

impl Segment<'_> {
    /// The segment size exactly, where it can be had.
    fn exact(&self) -> Option<Ratio> {
        match self.text {
            // Zero is refused as a segment size, and must never divide.
            Some(t) => exact(t).filter(|r| r.num > 0),
            // The default (10 GiB) is a whole number of bytes.
            None => (self.bytes.fract() == 0.0 && self.bytes < 2f64.powi(53)).then_some(Ratio {
                num: self.bytes as u128,
                den: 1,
            }),
        }
    }

    /// ⌈bytes / segment⌉, exactly when the sizes are exact.
    fn pgs(&self, bytes: u64) -> u128 {
        self.exact()
            .and_then(|s| Some(u128::from(bytes).checked_mul(s.den)?.div_ceil(s.num)))
            .unwrap_or_else(|| (bytes as f64 / self.bytes).ceil() as u128)
    }

    /// Whether `bytes` is less than one segment, exactly when it can be.
    fn is_below(&self, bytes: u64) -> bool {
        self.exact()
            .and_then(|s| Some(u128::from(bytes).checked_mul(s.den)? < s.num))
            .unwrap_or((bytes as f64) < self.bytes)
    }
}

/// Whole bytes of a size (rounded half-up; a fraction of a byte means
/// nothing), or `None` past `u64::MAX`.
fn whole_bytes(text: &str, approx: f64) -> Option<u64> {
    match exact(text) {
        Some(r) => {
            let twice = r.num.checked_mul(2)?.checked_add(r.den)?;
            u64::try_from(twice / r.den.checked_mul(2)?).ok()
        }
        // Too many digits for 128 bits: the f64 is as good as it gets.
        None => (approx < 2f64.powi(64)).then(|| approx.round() as u64),
    }
}

/// `1234567` as `1,234,567`, for limits in messages.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// PGs, bytes and placement of a `[volume]` table.
fn volume(
    v: &V<'_, '_>,
    vol: &Spanned<RawVolume>,
    segment: &Segment<'_>,
) -> Result<(usize, u64, Placement), InputError> {
    let r = vol.get_ref();
    let Some(size) = &r.size else {
        return Err(v.err(
            vol,
            "volume.size",
            "missing required key `size` (the volume's size, such as \"20TiB\")",
        ));
    };
    let key = "volume.size";
    let text = v.string_value(size, key, "a size like \"20TiB\"")?;
    let approx = parse_size(text).map_err(|m| v.err(size, key, m))?;
    let bytes = whole_bytes(text, approx);
    let small = match bytes {
        Some(b) => segment.is_below(b),
        None => approx < segment.bytes,
    };
    if small {
        return Err(v.err(
            size,
            key,
            format!(
                "`{text}` is less than one segment (cluster.segment_size = {:.0} bytes); a volume is at least one PG",
                segment.bytes
            ),
        ));
    }
    let pgs = match bytes {
        Some(b) => segment.pgs(b),
        None => (approx / segment.bytes).ceil() as u128,
    };
    if pgs > u128::from(MAX_PGS) {
        return Err(v.err(
            size,
            key,
            format!(
                "`{text}` is {} PGs of {:.0} bytes (cluster.segment_size); at most {} PGs are supported",
                grouped(u64::try_from(pgs).unwrap_or(u64::MAX)),
                segment.bytes,
                grouped(MAX_PGS)
            ),
        ));
    }
    // Only a segment past 2^64 / 10^7 bytes lets a volume this large through.
    let Some(bytes) = bytes else {
        return Err(v.err(
            size,
            key,
            format!(
                "`{text}` is too large: a volume is at most {} bytes",
                u64::MAX
            ),
        ));
    };
    let placement = match &r.placement {
        Some(p) => v.choice(
            p,
            "volume.placement",
            &[
                ("random", Placement::Random),
                ("copyset", Placement::Copyset),
            ],
        )?,
        None => Placement::Random,
    };
    Ok((pgs as usize, bytes, placement))
}

/// `fleet.nodes_per_az`: at least a PG's nodes per AZ, and within the limit.
fn fleet_nodes(v: &V<'_, '_>, n: &Spanned<Value>, layout: &Layout) -> Result<usize, InputError> {
    let key = "fleet.nodes_per_az";
    let k = v.integer(n, key)?;
    let per_pg = layout.nodes_per_az;
    if k < per_pg as i64 {
        return Err(v.err(
            n,
            key,
            format!(
                "{k} is fewer than cluster.nodes_per_az = {per_pg}: a PG has {per_pg} replicas on distinct nodes in each AZ"
            ),
        ));
    }
    let azs = layout.azs.len() as i128;
    let total = i128::from(k) * azs;
    if total > i128::from(MAX_FLEET_NODES) {
        return Err(v.err(
            n,
            key,
            format!(
                "{k} nodes per AZ × {azs} AZs = {} fleet nodes; at most {} are supported",
                grouped(u64::try_from(total).unwrap_or(u64::MAX)),
                grouped(MAX_FLEET_NODES)
            ),
        ));
    }
    Ok(k as usize)
}

/// `fleet.racks_per_az` (1 ..= nodes per AZ) and `fleet.repair_streams` (≥ 1).
fn racks_and_streams(
    v: &V<'_, '_>,
    f: &RawFleet,
    nodes_per_az: usize,
) -> Result<(usize, Option<u32>), InputError> {
    let racks = match &f.racks_per_az {
        Some(r) => {
            let key = "fleet.racks_per_az";
            let k = v.integer(r, key)?;
            if k < 1 || k as u64 > nodes_per_az as u64 {
                return Err(v.err(
                    r,
                    key,
                    format!("{k} must be between 1 and {nodes_per_az} (fleet.nodes_per_az)"),
                ));
            }
            k as usize
        }
        None => 1,
    };
    let streams = match &f.repair_streams {
        Some(s) => {
            let key = "fleet.repair_streams";
            let k = v.integer(s, key)?;
            if k < 1 {
                return Err(v.err(
                    s,
                    key,
                    format!("{k} must be at least 1 (leave the key out for no limit)"),
                ));
            }
            let k = u32::try_from(k)
                .map_err(|_| v.err(s, key, format!("{k} must be at most {}", u32::MAX)))?;
            Some(k)
        }
        None => None,
    };
    Ok((racks, streams))
}

/// The scenario's fleet and volume: [`Storage::single`] without `[volume]`
/// and `[fleet]`, so that such a scenario is exactly SPEC §1's. Every limit
/// is checked before a node name is built.
pub(super) fn storage(
    v: &V<'_, '_>,
    vol: Option<&Spanned<RawVolume>>,
    fleet: Option<&Spanned<RawFleet>>,
    layout: &Layout,
    segment: &Segment<'_>,
) -> Result<Storage, InputError> {
    if vol.is_none() && fleet.is_none() {
        return Ok(Storage::single(layout));
    }
    let (pgs, bytes, placement) = match vol {
        Some(vol) => {
            let (pgs, bytes, placement) = volume(v, vol, segment)?;
            (pgs, Some(bytes), placement)
        }
        None => (1, None, Placement::Random),
    };
    let f = fleet.map(Spanned::get_ref);
    let given = f.and_then(|f| f.nodes_per_az.as_ref());
    let nodes_per_az = match given {
        Some(n) => fleet_nodes(v, n, layout)?,
        None => layout.nodes_per_az,
    };
    // Without `fleet.nodes_per_az` the fleet is one group: always a multiple.
    if let (Placement::Copyset, Some(n)) = (placement, given)
        && !nodes_per_az.is_multiple_of(layout.nodes_per_az)
    {
        return Err(v.err(
            n,
            "fleet.nodes_per_az",
            format!(
                "{nodes_per_az} is not a multiple of cluster.nodes_per_az = {}, which placement = \"copyset\" needs (each AZ is cut into groups of that many nodes)",
                layout.nodes_per_az
            ),
        ));
    }
    let (racks_per_az, repair_streams) = match f {
        Some(f) => racks_and_streams(v, f, nodes_per_az)?,
        None => (1, None),
    };
    Ok(Storage {
        pgs,
        volume_bytes: bytes,
        placement,
        racks_per_az,
        repair_streams,
        ..Storage::fleet(layout, nodes_per_az)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Overrides, parse};

    fn storage_of(extra: &str) -> Result<Storage, InputError> {
        let src = format!("name = \"x\"\nhorizon = \"1d\"\n{extra}");
        parse(&src, "v.toml", &Overrides::default()).map(|s| s.config.storage)
    }

    fn pgs(size: &str, segment: Option<&str>) -> usize {
        let cluster = segment.map_or(String::new(), |s| {
            format!("[cluster]\nsegment_size = \"{s}\"\n")
        });
        storage_of(&format!("{cluster}[volume]\nsize = \"{size}\"\n"))
            .unwrap()
            .pgs
    }

    // See: issue 13
    #[test]
    fn issue_13_pgs_are_size_over_segment_rounded_up() {
        // 20 × 2^40 / (10 × 2^30) = 2 × 2^10 = 2048 exactly.
        assert_eq!(pgs("20TiB", None), 2048);
        // 64 × 2^40 / (10 × 2^30) = 6553.6 → 6554 (SPEC §4: 6,554 PGs).
        assert_eq!(pgs("64TiB", None), 6554);
        // One byte past a segment is a second PG.
        assert_eq!(pgs("10737418241B", None), 2);
        assert_eq!(pgs("10GiB", None), 1);
        // 0.7 KiB is 716.8 B exactly, 1000 of them 716800 B; in f64 0.7 × 1024
        // is a hair over 716.8 and 716800 / it rounds up to 1001.
        assert_eq!(pgs("716800B", Some("0.7KiB")), 1000);
        assert_eq!(pgs("716801B", Some("0.7KiB")), 1001);
        // A fraction of a byte rounds half-up: 11000.4 B is 11000 B.
        assert_eq!(pgs("11000.4B", Some("1.1KB")), 10);
        assert_eq!(pgs("11000.5B", Some("1.1KB")), 11);
    }

    #[test]
    fn exact_sizes_agree_with_parse_size() {
        for (unit, scale) in UNITS {
            assert_eq!(parse_size(&format!("1{unit}")), Ok(scale as f64), "{unit}");
        }
        assert_eq!(
            exact("1.10KB"),
            Some(Ratio {
                num: 11_000,
                den: 10
            })
        );
        assert_eq!(exact(".5B"), Some(Ratio { num: 5, den: 10 }));
        assert_eq!(
            exact("7.GiB"),
            Some(Ratio {
                num: 7 << 30,
                den: 1
            })
        );
        // 40 digits do not fit: the f64 is used instead.
        assert_eq!(exact(&format!("{}B", "9".repeat(40))), None);
        assert_eq!(whole_bytes("2.5B", 2.5), Some(3));
        assert_eq!(whole_bytes("20000000TB", 2e19), None);
        assert_eq!(grouped(10_000_000), "10,000,000");
        assert_eq!(grouped(999), "999");
    }

    #[test]
    fn without_the_tables_the_storage_is_one_pg() {
        let s = storage_of("").unwrap();
        assert_eq!((s.pgs, s.nodes(), s.volume_mode), (1, 6, false));
        // `[fleet]` alone: one PG on the fleet, volume mode.
        let s = storage_of("[fleet]\nnodes_per_az = 4\nracks_per_az = 2\n").unwrap();
        assert_eq!((s.pgs, s.volume_bytes, s.nodes()), (1, None, 12));
        assert!(s.volume_mode);
        assert_eq!(s.node_names[4], "az-b-1");
        // `[volume]` alone: the fleet is the PG's nodes.
        let s = storage_of("[volume]\nsize = \"1TiB\"\nplacement = \"copyset\"\n").unwrap();
        assert_eq!((s.pgs, s.nodes(), s.racks_per_az), (103, 6, 1));
        assert_eq!(
            (s.volume_bytes, s.placement),
            (Some(1 << 40), Placement::Copyset)
        );
        assert!(s.volume_mode && s.repair_streams.is_none());
    }
}
