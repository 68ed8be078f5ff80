//! The CSV timeline: one row per state change (SPEC §3, `--timeline`),
//! streamed to a writer as the run goes, so memory stays bounded however long
//! the run is.

use crate::model::{Change, Config, DbRow, Observer, Row, VolumeRow};
use crate::time::{SimTime, US_PER_S};
use std::io::Write;

/// The fixed columns, before one column per replica.
pub const COLUMNS: [&str; 8] = [
    "time_s",
    "event",
    "target",
    "up",
    "current",
    "write_available",
    "read_available",
    "data_loss_events",
];

/// The columns of a volume timeline (SPEC §4): counts instead of replicas.
pub const VOLUME_COLUMNS: [&str; 11] = [
    "time_s",
    "event",
    "target",
    "write_available",
    "read_available",
    "pgs_write_unavailable",
    "pgs_read_unavailable",
    "pgs_degraded",
    "repairs_running",
    "repairs_waiting",
    "data_loss_events",
];

/// The columns of a database timeline (SPEC §5).
pub const DB_COLUMNS: [&str; 9] = [
    "time_s",
    "event",
    "target",
    "writer",
    "instances_up",
    "write_available",
    "read_available",
    "storage_write_available",
    "data_loss_events",
];

/// Writes timeline rows as CSV to `W` (a file, or a `Vec<u8>` in tests).
///
/// Rows are formatted into one reused line buffer with no allocation per
/// row. The bytes are those of the `csv` crate's writer with its defaults
/// (fields quoted only when they hold `,`, `"`, CR or LF), which this file
/// used before and which the tests compare against.
pub struct TimelineCsv<W: Write = Vec<u8>> {
    out: W,
    line: Vec<u8>,
    error: Option<std::io::Error>,
}

impl TimelineCsv<Vec<u8>> {
    /// A timeline in memory with the header for these node names.
    pub fn new(node_names: &[String]) -> Self {
        TimelineCsv::to_writer(node_names, Vec::new())
    }

    /// The CSV bytes, or `None` if formatting failed.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        self.finish().ok()
    }
}

impl<W: Write> TimelineCsv<W> {
    /// A timeline written to `out`, starting with the header for these nodes.
    pub fn to_writer(node_names: &[String], out: W) -> Self {
        let header = COLUMNS
            .iter()
            .copied()
            .chain(node_names.iter().map(String::as_str));
        Self::with_header(header, out)
    }

    /// The timeline `cfg` calls for: §3's per-replica columns for one PG, or
    /// §4's counts for a volume or fleet.
    pub fn for_config(cfg: &Config, out: W) -> Self {
        if cfg.database.is_some() {
            Self::with_header(DB_COLUMNS.iter().copied(), out)
        } else if cfg.storage.volume_mode {
            Self::with_header(VOLUME_COLUMNS.iter().copied(), out)
        } else {
            Self::to_writer(&cfg.layout.node_names, out)
        }
    }

    fn with_header<'h>(header: impl Iterator<Item = &'h str>, out: W) -> Self {
        let mut tl = TimelineCsv {
            out,
            line: Vec::with_capacity(256),
            error: None,
        };
        for (i, h) in header.enumerate() {
            if i > 0 {
                tl.line.push(b',');
            }
            push_field(&mut tl.line, h);
        }
        tl.line.push(b'\n');
        tl.emit();
        tl
    }

    /// The writer back, or the first write error (after which nothing more
    /// was written).
    pub fn finish(mut self) -> std::io::Result<W> {
        match self.error.take() {
            Some(e) => Err(e),
            None => {
                self.out.flush()?;
                Ok(self.out)
            }
        }
    }

    fn emit(&mut self) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(&self.line)
        {
            self.error = Some(e);
        }
        self.line.clear();
    }
}

/// Appends `s` as one CSV field, quoted (quotes doubled) only if needed.
fn push_field(line: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        line.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                line.push(b'"');
            }
            line.push(b);
        }
        line.push(b'"');
    } else {
        line.extend_from_slice(s.as_bytes());
    }
}

/// Appends exact decimal seconds, as [`super::secs_exact`] formats them.
fn push_secs(line: &mut Vec<u8>, t: SimTime) {
    let (s, us) = (t.0 / US_PER_S, t.0 % US_PER_S);
    line.extend_from_slice(itoa::Buffer::new().format(s).as_bytes());
    if us != 0 {
        let mut frac = *b".000000";
        let mut rest = us;
        for d in frac[1..].iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let keep = frac.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
        line.extend_from_slice(&frac[..keep]);
    }
}

/// `true,` or `false,`.
fn flag(x: bool) -> &'static [u8] {
    if x { b"true," } else { b"false," }
}

/// Appends the columns every timeline starts with: `time_s,event,target,`.
fn push_head(line: &mut Vec<u8>, time: SimTime, change: Change, target: &str) {
    push_secs(line, time);
    line.push(b',');
    line.extend_from_slice(change.as_str().as_bytes());
    line.push(b',');
    push_field(line, target);
    line.push(b',');
}

impl<W: Write> Observer for TimelineCsv<W> {
    const ENABLED: bool = true;

    fn row(&mut self, row: &Row<'_>) {
        if self.error.is_some() {
            return;
        }
        let mut num = itoa::Buffer::new();
        let line = &mut self.line;
        push_head(line, row.time, row.change, row.target);
        line.extend_from_slice(num.format(row.up).as_bytes());
        line.push(b',');
        line.extend_from_slice(num.format(row.current).as_bytes());
        line.push(b',');
        line.extend_from_slice(flag(row.write_available));
        line.extend_from_slice(flag(row.read_available));
        line.extend_from_slice(num.format(row.data_loss_events).as_bytes());
        for &c in row.states {
            line.push(b',');
            line.push(c);
        }
        line.push(b'\n');
        self.emit();
    }

    fn volume_row(&mut self, row: &VolumeRow<'_>) {
        if self.error.is_some() {
            return;
        }
        let mut num = itoa::Buffer::new();
        let line = &mut self.line;
        push_head(line, row.time, row.change, row.target);
        line.extend_from_slice(flag(row.write_available));
        line.extend_from_slice(flag(row.read_available));
        for n in [
            row.pgs_write_unavailable,
            row.pgs_read_unavailable,
            row.pgs_degraded,
            row.repairs_running,
            row.repairs_waiting,
        ] {
            line.extend_from_slice(num.format(n).as_bytes());
            line.push(b',');
        }
        line.extend_from_slice(num.format(row.data_loss_events).as_bytes());
        line.push(b'\n');
        self.emit();
    }

    fn db_row(&mut self, row: &DbRow<'_>) {
        if self.error.is_some() {
            return;
        }
        let mut num = itoa::Buffer::new();
        let line = &mut self.line;
        push_head(line, row.time, row.change, row.target);
        if let Some(w) = row.writer {
            line.extend_from_slice(num.format(w).as_bytes());
        }
        line.push(b',');
        line.extend_from_slice(num.format(row.instances_up).as_bytes());
        line.push(b',');
        line.extend_from_slice(flag(row.write_available));
        line.extend_from_slice(flag(row.read_available));
        line.extend_from_slice(flag(row.storage_write_available));
        line.extend_from_slice(num.format(row.data_loss_events).as_bytes());
        line.push(b'\n');
        self.emit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::run::simulate_observed;
    use crate::engine::HeapQueue;
    use crate::output::secs_exact;
    use crate::scenario::{Overrides, load};

    /// The implementation this file had before streaming (issue 12): the
    /// `csv` crate's writer, one `Vec<String>` per row. Kept as the reference
    /// the streamed bytes must equal.
    struct OldCsv(csv::Writer<Vec<u8>>);

    impl Observer for OldCsv {
        const ENABLED: bool = true;
        fn row(&mut self, row: &Row<'_>) {
            let b = |x: bool| if x { "true" } else { "false" };
            let mut rec: Vec<String> = vec![
                secs_exact(row.time),
                row.change.as_str().to_string(),
                row.target.to_string(),
                row.up.to_string(),
                row.current.to_string(),
                b(row.write_available).to_string(),
                b(row.read_available).to_string(),
                row.data_loss_events.to_string(),
            ];
            rec.extend(row.states.iter().map(|&c| (c as char).to_string()));
            self.0.write_record(&rec).unwrap();
        }
    }

    fn old_header(names: &[String]) -> OldCsv {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<&str> = COLUMNS.to_vec();
        header.extend(names.iter().map(String::as_str));
        w.write_record(&header).unwrap();
        OldCsv(w)
    }

    #[test]
    fn streamed_bytes_equal_the_old_writer_on_every_shipped_scenario() {
        // See: issue 12. Every event kind appears in at least one of these
        // (all-four and fleet-rates run background failures of all four kinds).
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        assert!(files.len() >= 9);
        for (i, f) in files.iter().enumerate() {
            // Long enough for background failures of every kind to show up.
            let horizon = Some(SimTime(200 * 365 * 86_400 * US_PER_S));
            let ov = Overrides {
                horizon: if i % 2 == 0 { horizon } else { None },
                seed: None,
            };
            let sc = load(f, &ov).unwrap();
            if sc.config.storage.volume_mode || sc.config.database.is_some() {
                continue; // volume timelines have their own columns (SPEC §4)
            }
            let names = &sc.config.layout.node_names;
            let (_, new) = simulate_observed::<_, HeapQueue<_>>(
                &sc.config,
                sc.seed,
                sc.horizon,
                TimelineCsv::new(names),
            )
            .unwrap();
            let (_, old) = simulate_observed::<_, HeapQueue<_>>(
                &sc.config,
                sc.seed,
                sc.horizon,
                old_header(names),
            )
            .unwrap();
            let old = old.0.into_inner().unwrap();
            assert_eq!(new.into_bytes().unwrap(), old, "{}", f.display());
        }
    }

    #[test]
    fn fields_and_seconds_match_the_csv_crate() {
        let mut line = Vec::new();
        for s in ["az-a-1", "", "a,b", "say \"hi\"", "cr\rlf\n"] {
            line.clear();
            push_field(&mut line, s);
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([s, "x"]).unwrap();
            let want = w.into_inner().unwrap();
            assert_eq!([&line[..], b",x\n"].concat(), want, "{s:?}");
        }
        for us in [
            0,
            1,
            10,
            999_999,
            1_000_000,
            8_589_935,
            3_600_000_000,
            u64::MAX,
        ] {
            line.clear();
            push_secs(&mut line, SimTime(us));
            assert_eq!(
                String::from_utf8(line.clone()).unwrap(),
                secs_exact(SimTime(us))
            );
        }
    }

    #[test]
    fn a_write_error_is_kept_and_stops_writing() {
        struct Full(usize);
        impl Write for Full {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("disk full"));
                }
                self.0 -= 1;
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let tl = TimelineCsv::to_writer(&["n".to_string()], Full(0));
        assert_eq!(tl.finish().err().unwrap().to_string(), "disk full");
    }
}
