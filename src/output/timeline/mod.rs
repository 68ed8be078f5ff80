//! The CSV timeline: one row per state change (SPEC §3, `--timeline`),
//! streamed to a writer as the run goes, so memory stays bounded however long
//! the run is.
//!
//! The simulating thread packs each row into a compact [`record`] (a few
//! fixed-size stores) and hands full chunks of records to a [`Stage`]:
//! [`CsvText`] formats them as CSV, either at once (a timeline in memory)
//! or, for `run --timeline`, on a thread of its own
//! ([`Background`]), which also writes the file, so the formatting and the
//! writes overlap the run.

mod record;
mod text;

pub use text::CsvText;

use super::background::{Background, Synced};
use super::file::AtomicFile;
use crate::model::{Change, Config, DbRow, Observer, Row, Target, VolumeRow};
use std::io::{self, Write};

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

/// Bytes of records gathered before they are handed to the stage (about
/// 4,700 rows): small, so that little is left to format when the run ends.
const CHUNK: usize = 1 << 18;

/// Bytes between syncs of a timeline file, so that the sync at commit has
/// at most this much left to wait for.
const SYNC_EVERY: usize = 4 << 20;

/// Where chunks of records go.
pub trait Stage {
    /// Takes the records `buf[..len]`; may leave another buffer of at least
    /// the same length in `buf`.
    fn take(&mut self, buf: &mut Vec<u8>, len: usize) -> io::Result<()>;
    /// Passes on everything taken so far.
    fn flush(&mut self) -> io::Result<()>;
}

impl<W: Write> Stage for CsvText<W> {
    fn take(&mut self, buf: &mut Vec<u8>, len: usize) -> io::Result<()> {
        self.consume(&buf[..len])
    }
    fn flush(&mut self) -> io::Result<()> {
        CsvText::flush(self)
    }
}

impl<W: Write + Send + 'static> Stage for Background<CsvText<W>> {
    fn take(&mut self, buf: &mut Vec<u8>, len: usize) -> io::Result<()> {
        Background::take(self, buf, len)
    }
    fn flush(&mut self) -> io::Result<()> {
        Background::flush(self)
    }
}

/// The stage of `run --timeline`: formatted and written on its own thread,
/// synced every [`SYNC_EVERY`] bytes.
pub type FileStage = Background<CsvText<Synced<AtomicFile>>>;

/// Writes timeline rows as CSV through a [`Stage`] (by default formatted
/// at once into a `Vec<u8>`).
///
/// Rows are packed into one chunk of [`CHUNK`] bytes handed over whole when
/// full, with no allocation per row; each `event,target,` is rendered once
/// per (change, target) pair and sent as a piece the rows refer to by number.
pub struct TimelineCsv<S: Stage = CsvText<Vec<u8>>> {
    stage: S,
    /// The chunk: `buf[..pos]` holds records, the rest is scratch.
    buf: Vec<u8>,
    pos: usize,
    /// Per target kind (group, node, AZ, rack, instance): index × Change::COUNT +
    /// change → 1 + the piece's number, or 0 if not rendered yet.
    index: [Vec<u32>; 5],
    pieces: u32,
    /// A piece or a database row's head being rendered.
    scratch: Vec<u8>,
    error: Option<io::Error>,
}

impl TimelineCsv {
    /// A timeline in memory with the header for these node names.
    pub fn new(node_names: &[String]) -> Self {
        TimelineCsv::to_writer(node_names, Vec::new())
    }

    /// The CSV bytes, or `None` if formatting failed.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        self.finish().ok().map(CsvText::into_inner)
    }
}

impl TimelineCsv<FileStage> {
    /// The timeline `cfg` calls for, streamed to `file` as `run --timeline`
    /// does: formatted and written on a thread of its own (overlapping the
    /// run) and, if it is to be kept (`durable`; not a scratch file), synced
    /// every [`SYNC_EVERY`] bytes.
    pub fn to_file(cfg: &Config, file: AtomicFile, durable: bool) -> io::Result<Self> {
        let handle = file.sync_handle()?;
        let every = if durable { SYNC_EVERY } else { usize::MAX };
        let text = CsvText::new(Synced::new(file, handle, every)?);
        let stage = Background::new(text, "timeline-writer")?;
        Ok(Self::with_header(header_of(cfg), stage))
    }

    /// The file with every row written, ready to commit (or the first error).
    pub fn finish_file(self) -> io::Result<AtomicFile> {
        let text = self.finish()?.into_inner()?;
        text.into_inner().into_inner()
    }
}

/// The columns `cfg` calls for: §3's per-replica columns for one PG, §4's
/// counts for a volume or fleet, §5's for a database.
fn header_of(cfg: &Config) -> Box<dyn Iterator<Item = &str> + '_> {
    if cfg.database.is_some() {
        Box::new(DB_COLUMNS.iter().copied())
    } else if cfg.storage.volume_mode {
        Box::new(VOLUME_COLUMNS.iter().copied())
    } else {
        Box::new(
            COLUMNS
                .iter()
                .copied()
                .chain(cfg.layout.node_names.iter().map(String::as_str)),
        )
    }
}

impl<W: Write> TimelineCsv<CsvText<W>> {
    /// A timeline written to `out`, starting with the header for these nodes.
    pub fn to_writer(node_names: &[String], out: W) -> Self {
        let header = COLUMNS
            .iter()
            .copied()
            .chain(node_names.iter().map(String::as_str));
        Self::with_header(header, CsvText::new(out))
    }

    /// The timeline `cfg` calls for (see [`TimelineCsv::to_file`]), formatted
    /// at once into `out`.
    pub fn for_config(cfg: &Config, out: W) -> Self {
        Self::with_header(header_of(cfg), CsvText::new(out))
    }
}

impl<S: Stage> TimelineCsv<S> {
    fn with_header<'h>(header: impl Iterator<Item = &'h str>, stage: S) -> Self {
        let mut line = Vec::new();
        for (i, h) in header.enumerate() {
            if i > 0 {
                line.push(b',');
            }
            push_field(&mut line, h);
        }
        line.push(b'\n');
        let mut tl = TimelineCsv {
            stage,
            buf: vec![0; CHUNK],
            pos: 0,
            index: Default::default(),
            pieces: 0,
            scratch: Vec::new(),
            error: None,
        };
        tl.put_bytes(record::RAW, &line);
        tl
    }

    /// The stage back, everything passed on, or the first error (after
    /// which nothing more was handed over).
    pub fn finish(mut self) -> io::Result<S> {
        self.hand();
        match self.error.take() {
            Some(e) => Err(e),
            None => {
                self.stage.flush()?;
                Ok(self.stage)
            }
        }
    }

    /// Hands the chunk over (unless an earlier step failed) and empties it.
    fn hand(&mut self) {
        if self.error.is_none()
            && self.pos > 0
            && let Err(e) = self.stage.take(&mut self.buf, self.pos)
        {
            self.error = Some(e);
        }
        self.pos = 0;
    }

    /// Makes room for a record of at most `n` bytes: `false` after an
    /// error, when nothing more is handed over.
    #[inline]
    fn room(&mut self, n: usize) -> bool {
        if self.pos + n > CHUNK {
            self.hand();
        }
        if self.buf.len() < n {
            // Wider than a chunk (a header or a name of a megabyte): grow.
            self.buf.resize(n, 0);
        }
        self.error.is_none()
    }

    #[inline(always)]
    fn put<const N: usize>(&mut self, b: [u8; N]) {
        self.buf[self.pos..self.pos + N].copy_from_slice(&b);
        self.pos += N;
    }

    /// A record `tag`, `len: u32`, `b`.
    fn put_bytes(&mut self, tag: u8, b: &[u8]) {
        if self.room(5 + b.len()) {
            self.put([tag]);
            self.put((b.len() as u32).to_le_bytes());
            self.buf[self.pos..self.pos + b.len()].copy_from_slice(b);
            self.pos += b.len();
        }
    }

    /// The number of the rendered `event,target,` of this pair, rendering
    /// it (and sending it as a piece) the first time.
    #[inline]
    fn piece(&mut self, change: Change, target: Target, cfg: &Config) -> u32 {
        let (kind, i) = match target {
            Target::Group => (0, 0),
            Target::Node(n) => (1, n),
            Target::Az(a) => (2, a),
            Target::Rack(g) => (3, g),
            Target::Instance(i) => (4, i),
        };
        let slot = i * Change::COUNT + change as usize;
        let index = &mut self.index[kind];
        if index.len() <= slot {
            index.resize(slot + 1, 0);
        }
        if index[slot] == 0 {
            let mut b = std::mem::take(&mut self.scratch);
            b.clear();
            b.extend_from_slice(change.as_str().as_bytes());
            b.push(b',');
            push_field(&mut b, &target.name(cfg));
            b.push(b',');
            self.put_bytes(record::PIECE, &b);
            self.scratch = b;
            self.pieces += 1;
            self.index[kind][slot] = self.pieces;
        }
        self.index[kind][slot] - 1
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

/// Two flags in the low bits.
#[inline]
fn flags(write: bool, read: bool) -> u8 {
    u8::from(write) | u8::from(read) << 1
}

impl<S: Stage> Observer for TimelineCsv<S> {
    const ENABLED: bool = true;

    #[inline]
    fn row(&mut self, row: &Row<'_>) {
        let piece = self.piece(row.change, row.target, row.cfg);
        if !self.room(1 + 8 + 4 + 1 + 8 + 1 + 4 * 8) {
            return;
        }
        let r = &row.replicas;
        self.put([record::ROW]);
        self.put(row.time.0.to_le_bytes());
        self.put(piece.to_le_bytes());
        self.put([flags(row.write_available, row.read_available)]);
        self.put(row.data_loss_events.to_le_bytes());
        self.put([r.count]);
        for mask in [r.repairing, r.present, r.reachable, r.current] {
            self.put(mask.to_le_bytes());
        }
    }

    fn volume_row(&mut self, row: &VolumeRow<'_>) {
        let piece = self.piece(row.change, row.target, row.cfg);
        if !self.room(1 + 8 + 4 + 1 + 6 * 8) {
            return;
        }
        self.put([record::VOLUME_ROW]);
        self.put(row.time.0.to_le_bytes());
        self.put(piece.to_le_bytes());
        self.put([flags(row.write_available, row.read_available)]);
        for v in [
            row.pgs_write_unavailable,
            row.pgs_read_unavailable,
            row.pgs_degraded,
            row.repairs_running,
            row.repairs_waiting,
        ] {
            self.put((v as u64).to_le_bytes());
        }
        self.put(row.data_loss_events.to_le_bytes());
    }

    fn db_row(&mut self, row: &DbRow<'_>) {
        let mut head = std::mem::take(&mut self.scratch);
        head.clear();
        head.extend_from_slice(row.change.as_str().as_bytes());
        head.push(b',');
        push_field(&mut head, row.target);
        head.push(b',');
        if self.room(1 + 8 + 4 + head.len() + 3 * 8 + 1) {
            self.put([record::DB_ROW]);
            self.put(row.time.0.to_le_bytes());
            self.put((head.len() as u32).to_le_bytes());
            self.buf[self.pos..self.pos + head.len()].copy_from_slice(&head);
            self.pos += head.len();
            let writer = row.writer.map_or(record::NO_WRITER, |w| w as u64);
            self.put(writer.to_le_bytes());
            self.put((row.instances_up as u64).to_le_bytes());
            let f = flags(row.write_available, row.read_available)
                | u8::from(row.storage_write_available) << 2;
            self.put([f]);
            self.put(row.data_loss_events.to_le_bytes());
        }
        self.scratch = head;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::run::simulate_observed;
    use crate::engine::HeapQueue;
    use crate::output::file::{Format, OutputPath};
    use crate::output::secs_exact;
    use crate::scenario::{Overrides, load};
    use crate::time::{SimTime, US_PER_S};

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
                row.target.name(row.cfg).to_string(),
                // Up: present and reachable; current: also current.
                (row.replicas.present & row.replicas.reachable)
                    .count_ones()
                    .to_string(),
                (row.replicas.current & row.replicas.reachable)
                    .count_ones()
                    .to_string(),
                b(row.write_available).to_string(),
                b(row.read_available).to_string(),
                row.data_loss_events.to_string(),
            ];
            // The letters rebuilt here from the masks by SPEC §3's rule,
            // independently of `Replicas::letter`.
            let r = &row.replicas;
            for i in 0..r.count as usize {
                let has = |m: u64| m >> i & 1 == 1;
                let c = if has(r.repairing) {
                    "R"
                } else if !has(r.present) {
                    "L"
                } else if !has(r.reachable) {
                    "D"
                } else if has(r.current) {
                    "C"
                } else {
                    "S"
                };
                rec.push(c.to_string());
            }
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
    fn issue_12_a_file_written_by_the_writer_thread_holds_the_same_bytes() {
        // Several chunks and several syncs: baseline over 20,000 years is
        // ~55 MB of rows, written through the thread with a sync each 4 MiB;
        // the file must equal the timeline formatted in memory.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
        let ov = Overrides {
            horizon: Some(SimTime(20_000 * 365 * 86_400 * US_PER_S)),
            seed: Some(3),
        };
        let sc = load(&path, &ov).unwrap();
        let run = |tl| simulate_observed::<_, HeapQueue<_>>(&sc.config, sc.seed, sc.horizon, tl);
        let (_, mem) = run(TimelineCsv::for_config(&sc.config, Vec::new())).unwrap();
        let mem = mem.into_bytes().unwrap();
        assert!(mem.len() > 6 * SYNC_EVERY, "{} bytes", mem.len());
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.csv");
        let target = OutputPath::check("--timeline", &out, Format::Any, &[]).unwrap();
        let file = AtomicFile::create(&target).unwrap();
        let (_, tl) = simulate_observed::<_, HeapQueue<_>>(
            &sc.config,
            sc.seed,
            sc.horizon,
            TimelineCsv::to_file(&sc.config, file, true).unwrap(),
        )
        .unwrap();
        tl.finish_file().unwrap().commit().unwrap();
        assert!(std::fs::read(&out).unwrap() == mem, "file differs");
    }

    #[test]
    fn a_dropped_timeline_file_leaves_no_file() {
        // A run that fails after rows were written drops the timeline
        // unfinished: the thread finishes, the temporary file goes.
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.csv");
        let target = OutputPath::check("--timeline", &out, Format::Any, &[]).unwrap();
        let file = AtomicFile::create(&target).unwrap();
        let sc = load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml"),
            &Overrides::default(),
        )
        .unwrap();
        let tl = TimelineCsv::to_file(&sc.config, file, true).unwrap();
        let (_, tl) =
            simulate_observed::<_, HeapQueue<_>>(&sc.config, sc.seed, sc.horizon, tl).unwrap();
        drop(tl);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn fields_match_the_csv_crate() {
        let mut line = Vec::new();
        for s in ["az-a-1", "", "a,b", "say \"hi\"", "cr\rlf\n"] {
            line.clear();
            push_field(&mut line, s);
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([s, "x"]).unwrap();
            let want = w.into_inner().unwrap();
            assert_eq!([&line[..], b",x\n"].concat(), want, "{s:?}");
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
