//! [`CsvText`]: turns the timeline's records (see [`super::record`]) into
//! CSV text, formatted into one chunk of [`CHUNK`] bytes written out whole.

use super::record::{self, Reader};
use crate::model::Replicas;
use crate::output::background::Sink;
use crate::time::{SimTime, US_PER_S};
use std::io::{self, Write};

/// Bytes of text gathered before one `write_all`: large enough that the
/// file's own buffer is bypassed (its `write_all` passes a slice larger than
/// itself straight to the file), small enough to keep memory bounded.
const CHUNK: usize = 1 << 20;

/// Room kept free past the end of a row in progress, so that padded pieces
/// can be copied whole (a fixed-size copy is two stores; a variable one is a
/// `memcpy` call).
pub(super) const PAD: usize = 64;

/// A rendered `event,target,`, padded to at least [`PAD`] bytes.
struct Piece {
    bytes: Box<[u8]>,
    len: usize,
}

/// Formats timeline records as CSV and writes them to `W`.
///
/// The bytes are those of the `csv` crate's writer with its defaults
/// (fields quoted only when they hold `,`, `"`, CR or LF), which the
/// timeline used before and which the tests compare against.
pub struct CsvText<W: Write> {
    out: W,
    /// The chunk: `buf[..pos]` is formatted, the rest is scratch.
    buf: Box<[u8]>,
    pos: usize,
    /// The pieces defined so far, by number.
    pieces: Vec<Piece>,
}

impl<W: Write> CsvText<W> {
    /// Text for `out`.
    pub fn new(out: W) -> Self {
        CsvText {
            out,
            buf: vec![0; CHUNK + PAD].into_boxed_slice(),
            pos: 0,
            pieces: Vec::new(),
        }
    }

    /// The writer back (after [`CsvText::flush`]).
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Formats whole records.
    pub fn consume(&mut self, records: &[u8]) -> io::Result<()> {
        let mut r = Reader::new(records);
        while let Some(tag) = r.next_tag() {
            match tag {
                record::RAW => {
                    let b = r.bytes()?;
                    self.room(b.len())?;
                    self.put(b);
                }
                record::PIECE => {
                    let b = r.bytes()?;
                    let mut bytes = b.to_vec();
                    bytes.resize(b.len().max(PAD), 0);
                    self.pieces.push(Piece {
                        bytes: bytes.into_boxed_slice(),
                        len: b.len(),
                    });
                }
                record::ROW => self.row(&mut r)?,
                record::VOLUME_ROW => self.volume_row(&mut r)?,
                record::DB_ROW => self.db_row(&mut r)?,
                _ => return Err(record::corrupt()),
            }
        }
        Ok(())
    }

    /// Writes out what is formatted and flushes the writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.write_out()?;
        self.out.flush()
    }

    fn write_out(&mut self) -> io::Result<()> {
        let n = std::mem::take(&mut self.pos);
        self.out.write_all(&self.buf[..n])
    }

    /// Makes room for a row of at most `n` bytes (plus [`PAD`]).
    #[inline]
    fn room(&mut self, n: usize) -> io::Result<()> {
        if self.pos + n > CHUNK {
            self.write_out()?;
            if n + PAD > self.buf.len() {
                // Wider than a chunk (a header or a name of a megabyte).
                self.buf = vec![0; n + PAD].into_boxed_slice();
            }
        }
        Ok(())
    }

    fn put(&mut self, b: &[u8]) {
        self.buf[self.pos..self.pos + b.len()].copy_from_slice(b);
        self.pos += b.len();
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

    /// An unsigned decimal; one digit (most counts) inline.
    #[inline(always)]
    pub(super) fn put_num(&mut self, v: u64) {
        if v < 10 {
            self.put_byte(b'0' + v as u8);
        } else {
            self.put_long(v);
        }
    }

    /// Up to eight digits at a time in 32-bit arithmetic (µs times run to
    /// 13 digits of seconds).
    #[inline]
    fn put_long(&mut self, v: u64) {
        const E8: u64 = 100_000_000;
        let (top, rest) = if v < E8 {
            (v as u32, None)
        } else if v < E8 * E8 {
            ((v / E8) as u32, Some((None, (v % E8) as u32)))
        } else {
            let (hi, lo) = (v / E8, (v % E8) as u32);
            ((hi / E8) as u32, Some((Some((hi % E8) as u32), lo)))
        };
        let n = top.checked_ilog10().unwrap_or(0) as usize + 1;
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

    /// Exact decimal seconds, as [`crate::output::secs_exact`] formats them.
    #[inline]
    pub(super) fn put_secs(&mut self, t: SimTime) {
        let (s, us) = (t.0 / US_PER_S, t.0 % US_PER_S);
        self.put_num(s);
        if us != 0 {
            let frac = &mut self.buf[self.pos..self.pos + 7];
            frac[0] = b'.';
            put_digits(&mut frac[1..], us as u32);
            let keep = 7 - zeros10(us);
            self.pos += keep;
        }
    }

    /// `time_s,event,target,` with piece `id`, room made for `rest` more.
    #[inline]
    fn head(&mut self, time: SimTime, id: u32, rest: usize) -> io::Result<()> {
        let len = self.piece(id)?.len;
        // 20 digits, a point and 6 for the seconds; the separator.
        self.room(28 + len + rest)?;
        self.put_secs(time);
        self.put_byte(b',');
        let piece = &self.pieces[id as usize];
        if piece.len <= PAD {
            self.buf[self.pos..self.pos + PAD].copy_from_slice(&piece.bytes[..PAD]);
        } else {
            self.buf[self.pos..self.pos + piece.len].copy_from_slice(&piece.bytes);
        }
        self.pos += piece.len;
        Ok(())
    }

    fn piece(&self, id: u32) -> io::Result<&Piece> {
        self.pieces.get(id as usize).ok_or_else(record::corrupt)
    }

    /// A §3 row: `…,up,current,write,read,losses,X,X,…`.
    #[inline]
    fn row(&mut self, r: &mut Reader<'_>) -> io::Result<()> {
        let (time, id, flags, losses) = (r.u64()?, r.u32()?, r.u8()?, r.u64()?);
        let reps = Replicas {
            count: r.u8()?.min(64),
            repairing: r.u64()?,
            present: r.u64()?,
            reachable: r.u64()?,
            current: r.u64()?,
        };
        let n2 = 2 * reps.count as usize;
        self.head(SimTime(time), id, 2 * 21 + 12 + 21 + n2 + 1)?;
        self.put_num(reps.up() as u64);
        self.put_byte(b',');
        self.put_num(reps.current() as u64);
        self.put_byte(b',');
        self.put_flag(flags & 1 != 0);
        self.put_flag(flags & 2 != 0);
        self.put_num(losses);
        let out = &mut self.buf[self.pos..self.pos + n2];
        for (pair, letter) in out.chunks_exact_mut(2).zip(reps.letters()) {
            pair[0] = b',';
            pair[1] = letter;
        }
        self.pos += n2;
        self.put_byte(b'\n');
        Ok(())
    }

    /// A §4 row: `…,write,read,5 counts,losses`.
    fn volume_row(&mut self, r: &mut Reader<'_>) -> io::Result<()> {
        let (time, id, flags) = (r.u64()?, r.u32()?, r.u8()?);
        self.head(SimTime(time), id, 12 + 6 * 21 + 1)?;
        self.put_flag(flags & 1 != 0);
        self.put_flag(flags & 2 != 0);
        for _ in 0..5 {
            let v = r.u64()?;
            self.put_num(v);
            self.put_byte(b',');
        }
        let losses = r.u64()?;
        self.put_num(losses);
        self.put_byte(b'\n');
        Ok(())
    }

    /// A §5 row: `time,event,target,writer,instances_up,3 flags,losses`.
    fn db_row(&mut self, r: &mut Reader<'_>) -> io::Result<()> {
        let time = r.u64()?;
        let head = r.bytes()?;
        let (writer, instances, flags, losses) = (r.u64()?, r.u64()?, r.u8()?, r.u64()?);
        self.room(28 + head.len() + 2 * 21 + 18 + 21 + 1)?;
        self.put_secs(SimTime(time));
        self.put_byte(b',');
        self.put(head);
        if writer != record::NO_WRITER {
            self.put_num(writer);
        }
        self.put_byte(b',');
        self.put_num(instances);
        self.put_byte(b',');
        for bit in 0..3 {
            self.put_flag(flags >> bit & 1 != 0);
        }
        self.put_num(losses);
        self.put_byte(b'\n');
        Ok(())
    }
}

/// Trailing decimal zeros of `us` (0 < us < 10⁶), at most 5.
#[inline]
fn zeros10(mut us: u64) -> usize {
    let mut z = 0;
    while us.is_multiple_of(10) && z < 5 {
        us /= 10;
        z += 1;
    }
    z
}

impl<W: Write + Send + 'static> Sink for CsvText<W> {
    fn consume(&mut self, chunk: &[u8]) -> io::Result<()> {
        CsvText::consume(self, chunk)
    }
    fn flush(&mut self) -> io::Result<()> {
        CsvText::flush(self)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::secs_exact;

    #[test]
    fn seconds_and_numbers_match_std_formatting() {
        for us in [
            0,
            1,
            10,
            120,
            999_999,
            1_000_000,
            8_589_935,
            3_600_000_000,
            u64::MAX,
        ] {
            let mut t = CsvText::new(Vec::new());
            t.put_secs(SimTime(us));
            assert_eq!(&t.buf[..t.pos], secs_exact(SimTime(us)).as_bytes());
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
            let mut t = CsvText::new(Vec::new());
            t.put_num(v);
            assert_eq!(&t.buf[..t.pos], v.to_string().as_bytes());
        }
    }

    #[test]
    fn a_cut_or_unknown_record_is_an_error_not_a_panic() {
        let mut t = CsvText::new(Vec::new());
        assert!(t.consume(&[record::ROW, 1, 2]).is_err());
        assert!(t.consume(&[200]).is_err());
        // A row naming a piece never defined.
        let mut rec = vec![record::VOLUME_ROW];
        rec.extend_from_slice(&[0; 8 + 4 + 1 + 6 * 8]);
        assert!(t.consume(&rec).is_err());
    }
}
