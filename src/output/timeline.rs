//! The CSV timeline: one row per state change (SPEC §3, `--timeline`),
//! streamed to a writer as the run goes, so memory stays bounded however long
//! the run is.

use super::background::Background;
use super::file::AtomicFile;
use crate::model::{Change, Config, DbRow, Observer, Row, Target, VolumeRow};
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

/// Bytes gathered before one `write_all` to the writer: large enough that
/// the file's own buffer is bypassed (its `write_all` passes a slice larger
/// than itself straight to the file), small enough to keep memory bounded.
const CHUNK: usize = 1 << 20;

/// Room kept free past the end of a row in progress, so that padded pieces
/// can be copied whole (a fixed-size copy is two stores; a variable one is a
/// `memcpy` call).
const PAD: usize = 64;

/// The rendered `event,target,` of one (change, target) pair, padded to at
/// least [`PAD`] bytes.
struct Piece {
    bytes: Box<[u8]>,
    len: usize,
}

/// Writes timeline rows as CSV to `W` (a file, or a `Vec<u8>` in tests).
///
/// Rows are formatted straight into one output chunk of [`CHUNK`] bytes,
/// written out whole when full, with no allocation per row; each
/// `event,target,` prefix is rendered once per (change, target) pair. The
/// bytes are those of the `csv` crate's writer with its defaults (fields
/// quoted only when they hold `,`, `"`, CR or LF), which this file used
/// before and which the tests compare against.
pub struct TimelineCsv<W: Write = Vec<u8>> {
    out: W,
    /// The chunk: `buf[..pos]` is written, the rest is scratch.
    buf: Box<[u8]>,
    pos: usize,
    /// Per target kind (group, node, AZ, rack, instance): index × Change::COUNT +
    /// change → 1 + the piece's index in `pieces`, or 0 if not rendered yet.
    index: [Vec<u32>; 5],
    pieces: Vec<Piece>,
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

/// Bytes between syncs of a timeline file, so that the sync at commit has
/// at most this much left to wait for.
const SYNC_EVERY: usize = 8 << 20;

impl TimelineCsv<Background<AtomicFile>> {
    /// The timeline `cfg` calls for, streamed to `file` as `run --timeline`
    /// does: written on a thread of its own (overlapping the run) and synced
    /// every [`SYNC_EVERY`] bytes.
    pub fn to_file(cfg: &Config, file: AtomicFile) -> std::io::Result<Self> {
        let out = Background::new(file, Some((AtomicFile::sync_data, SYNC_EVERY)))?;
        Ok(Self::for_config(cfg, out))
    }

    /// The file with every row written, ready to commit (or the first error).
    pub fn finish_file(self) -> std::io::Result<AtomicFile> {
        self.finish().and_then(Background::into_inner)
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
        let mut line = Vec::new();
        for (i, h) in header.enumerate() {
            if i > 0 {
                line.push(b',');
            }
            push_field(&mut line, h);
        }
        line.push(b'\n');
        let mut tl = TimelineCsv {
            out,
            buf: vec![0; CHUNK + PAD].into_boxed_slice(),
            pos: 0,
            index: Default::default(),
            pieces: Vec::new(),
            error: None,
        };
        tl.put_var(&line);
        tl
    }

    /// The writer back, or the first write error (after which nothing more
    /// was written).
    pub fn finish(mut self) -> std::io::Result<W> {
        self.flush_chunk();
        match self.error.take() {
            Some(e) => Err(e),
            None => {
                self.out.flush()?;
                Ok(self.out)
            }
        }
    }

    /// Writes the chunk out (unless an earlier write failed) and empties it.
    fn flush_chunk(&mut self) {
        if self.error.is_none()
            && self.pos > 0
            && let Err(e) = self.out.write_all(&self.buf[..self.pos])
        {
            self.error = Some(e);
        }
        self.pos = 0;
    }

    /// Makes room for a row of at most `n` bytes (plus [`PAD`]): `false`
    /// after a write error, when nothing more is written.
    #[inline]
    fn room(&mut self, n: usize) -> bool {
        if self.pos + n > CHUNK {
            self.flush_chunk();
            if n > CHUNK {
                // Wider than a chunk (thousands of replicas): grow this once.
                let mut b = vec![0; n + PAD].into_boxed_slice();
                b[..self.pos].copy_from_slice(&self.buf[..self.pos]);
                self.buf = b;
            }
        }
        self.error.is_none()
    }

    /// Appends any bytes, growing the chunk if it must.
    fn put_var(&mut self, b: &[u8]) {
        if self.room(b.len()) {
            self.buf[self.pos..self.pos + b.len()].copy_from_slice(b);
            self.pos += b.len();
        }
    }

    #[inline]
    fn put_byte(&mut self, b: u8) {
        self.buf[self.pos] = b;
        self.pos += 1;
    }

    /// `true,` or `false,` (padded copies of 8 bytes).
    #[inline]
    fn put_flag(&mut self, x: bool) {
        let (bytes, n) = if x {
            (*b"true,\0\0\0", 5)
        } else {
            (*b"false,\0\0", 6)
        };
        self.buf[self.pos..self.pos + 8].copy_from_slice(&bytes);
        self.pos += n;
    }

    /// An unsigned decimal: up to eight digits at a time in 32-bit
    /// arithmetic (µs times run to 13 digits of seconds).
    #[inline]
    fn put_num(&mut self, v: u64) {
        const E8: u64 = 100_000_000;
        if v < 10 {
            self.put_byte(b'0' + v as u8);
            return;
        }
        let (top, rest) = if v < E8 {
            (v as u32, None)
        } else if v < E8 * E8 {
            ((v / E8) as u32, Some((None, (v % E8) as u32)))
        } else {
            let (hi, lo) = (v / E8, (v % E8) as u32);
            ((hi / E8) as u32, Some((Some((hi % E8) as u32), lo)))
        };
        let n = top.ilog10() as usize + 1;
        put_digits(&mut self.buf[self.pos..self.pos + n], top);
        self.pos += n;
        if let Some((mid, lo)) = rest {
            if let Some(mid) = mid {
                put_digits(&mut self.buf[self.pos..self.pos + 8], mid);
                self.pos += 8;
            }
            put_digits(&mut self.buf[self.pos..self.pos + 8], lo);
            self.pos += 8;
        }
    }

    /// Exact decimal seconds, as [`super::secs_exact`] formats them.
    #[inline]
    fn put_secs(&mut self, t: SimTime) {
        let (s, us) = (t.0 / US_PER_S, t.0 % US_PER_S);
        self.put_num(s);
        if us != 0 {
            let frac = &mut self.buf[self.pos..self.pos + 7];
            frac[0] = b'.';
            put_digits(&mut frac[1..], us as u32);
            let mut keep = 7;
            let mut rest = us;
            while rest % 10 == 0 {
                rest /= 10;
                keep -= 1;
            }
            self.pos += keep;
        }
    }

    /// The index in `pieces` of the rendered `event,target,` of this pair,
    /// rendering it the first time.
    #[inline]
    fn piece(&mut self, change: Change, target: Target, cfg: &Config) -> usize {
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
            let mut b = change.as_str().as_bytes().to_vec();
            b.push(b',');
            push_field(&mut b, &target.name(cfg));
            b.push(b',');
            let len = b.len();
            b.resize(len.max(PAD), 0);
            self.pieces.push(Piece {
                bytes: b.into_boxed_slice(),
                len,
            });
            index[slot] = self.pieces.len() as u32;
        }
        index[slot] as usize - 1
    }

    /// Makes room for `time_s,event,target,` (with this piece) and `rest`
    /// more bytes, then appends the head: `false` after a write error.
    #[inline]
    fn head(&mut self, time: SimTime, piece: usize, rest: usize) -> bool {
        // 20 digits, a point and 6 for the seconds; the separator.
        if !self.room(28 + self.pieces[piece].len + rest) {
            return false;
        }
        self.put_secs(time);
        self.put_byte(b',');
        let piece = &self.pieces[piece];
        if piece.len <= PAD {
            self.buf[self.pos..self.pos + PAD].copy_from_slice(&piece.bytes[..PAD]);
        } else {
            self.buf[self.pos..self.pos + piece.len].copy_from_slice(&piece.bytes);
        }
        self.pos += piece.len;
        true
    }
}

/// Writes the decimal digits of `v` to fill `dst` exactly (two at a time).
#[inline]
fn put_digits(dst: &mut [u8], mut v: u32) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut i = dst.len();
    while i >= 2 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        dst[i - 2..i].copy_from_slice(&PAIRS[d..d + 2]);
        i -= 2;
    }
    if i == 1 {
        dst[0] = b'0' + (v % 10) as u8;
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

impl<W: Write> Observer for TimelineCsv<W> {
    const ENABLED: bool = true;

    fn row(&mut self, row: &Row<'_>) {
        let piece = self.piece(row.change, row.target, row.cfg);
        let states = row.states.len();
        if !self.head(row.time, piece, 2 * 21 + 12 + 21 + 2 * states + 1) {
            return;
        }
        self.put_num(row.up as u64);
        self.put_byte(b',');
        self.put_num(row.current as u64);
        self.put_byte(b',');
        self.put_flag(row.write_available);
        self.put_flag(row.read_available);
        self.put_num(row.data_loss_events);
        // `,X` per replica, four at a time: each letter moved to the high
        // byte of a 16-bit lane whose low byte is the comma. The last group
        // is padded; its excess lands in the free room past the row.
        for (k, four) in row.states.chunks(4).enumerate() {
            let mut w = [0u8; 4];
            w[..four.len()].copy_from_slice(four);
            let mut x = u32::from_le_bytes(w) as u64;
            x = (x | x << 16) & 0x0000_FFFF_0000_FFFF;
            x = (x | x << 8) & 0x00FF_00FF_00FF_00FF;
            x = x << 8 | 0x002C_002C_002C_002C;
            let at = self.pos + 8 * k;
            self.buf[at..at + 8].copy_from_slice(&x.to_le_bytes());
        }
        self.pos += 2 * states;
        self.put_byte(b'\n');
    }

    fn volume_row(&mut self, row: &VolumeRow<'_>) {
        let piece = self.piece(row.change, row.target, row.cfg);
        if !self.head(row.time, piece, 12 + 6 * 21 + 1) {
            return;
        }
        self.put_flag(row.write_available);
        self.put_flag(row.read_available);
        for v in [
            row.pgs_write_unavailable,
            row.pgs_read_unavailable,
            row.pgs_degraded,
            row.repairs_running,
            row.repairs_waiting,
        ] {
            self.put_num(v as u64);
            self.put_byte(b',');
        }
        self.put_num(row.data_loss_events);
        self.put_byte(b'\n');
    }

    fn db_row(&mut self, row: &DbRow<'_>) {
        let n = 30 + 17 + 2 * row.target.len() + 3 + 2 * 21 + 18 + 21 + 1;
        if !self.room(n) {
            return;
        }
        self.put_secs(row.time);
        self.put_byte(b',');
        let mut head = Vec::with_capacity(64);
        head.extend_from_slice(row.change.as_str().as_bytes());
        head.push(b',');
        push_field(&mut head, row.target);
        head.push(b',');
        self.buf[self.pos..self.pos + head.len()].copy_from_slice(&head);
        self.pos += head.len();
        if let Some(w) = row.writer {
            self.put_num(w as u64);
        }
        self.put_byte(b',');
        self.put_num(row.instances_up as u64);
        self.put_byte(b',');
        self.put_flag(row.write_available);
        self.put_flag(row.read_available);
        self.put_flag(row.storage_write_available);
        self.put_num(row.data_loss_events);
        self.put_byte(b'\n');
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
    fn issue_12_a_file_written_by_the_writer_thread_holds_the_same_bytes() {
        // Several chunks and several syncs: baseline over 20,000 years is
        // ~55 MB of rows, written through the thread with a sync each 8 MiB;
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
            TimelineCsv::to_file(&sc.config, file).unwrap(),
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
        let tl = TimelineCsv::to_file(&sc.config, file).unwrap();
        let (_, tl) =
            simulate_observed::<_, HeapQueue<_>>(&sc.config, sc.seed, sc.horizon, tl).unwrap();
        drop(tl);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
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
            let mut tl = TimelineCsv::new(&[]);
            tl.pos = 0;
            tl.put_secs(SimTime(us));
            assert_eq!(&tl.buf[..tl.pos], secs_exact(SimTime(us)).as_bytes());
        }
        for v in [
            0,
            9,
            10,
            99,
            100,
            99_999_999,
            100_000_000,
            1_000_000_007,
            u64::MAX,
        ] {
            let mut tl = TimelineCsv::new(&[]);
            tl.pos = 0;
            tl.put_num(v);
            assert_eq!(&tl.buf[..tl.pos], v.to_string().as_bytes());
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
