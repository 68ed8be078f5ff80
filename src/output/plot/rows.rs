//! A timeline CSV read as a stream, from the start as often as a plot needs
//! (a first pass fits the axes, a second draws), so memory is bounded by the
//! picture and not by the file: no line may exceed [`MAX_LINE`] bytes, and
//! one record is held at a time.

use crate::error::InputError;
use std::io::{self, Read, Seek, SeekFrom};

/// Longest line a timeline may have, bytes (a §3 row is two bytes a replica).
pub(crate) const MAX_LINE: usize = 1 << 20;

/// How much of the file's start is read to say what kind of file it is.
const PREFIX: usize = 64 * 1024;

/// A reader that fails on a line longer than [`MAX_LINE`], so one endless
/// line cannot fill memory.
struct LineCap<R> {
    inner: R,
    run: usize,
    line: usize,
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.run = 0;
                self.line += 1;
            } else {
                self.run += 1;
                if self.run > MAX_LINE {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("line {} is longer than 1 MiB", self.line),
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// The records of one pass over the file, one at a time.
pub(crate) struct Rows<'p, R: Read> {
    rd: csv::Reader<LineCap<R>>,
    rec: csv::StringRecord,
    /// Records read so far.
    count: usize,
    path: &'p str,
}

impl<'p, R: Read> Rows<'p, R> {
    /// A pass over `input` (named `path` in errors); `flexible` lets rows have
    /// another field count than the header (the caller then says so itself).
    pub(crate) fn new(input: R, path: &'p str, flexible: bool) -> Rows<'p, R> {
        let rd = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(flexible)
            .from_reader(LineCap {
                inner: input,
                run: 0,
                line: 1,
            });
        Rows {
            rd,
            rec: csv::StringRecord::new(),
            count: 0,
            path,
        }
    }

    /// The header's fields.
    pub(crate) fn header(&mut self) -> Result<Vec<String>, InputError> {
        let h = self
            .rd
            .headers()
            .map_err(|e| InputError::new(self.path, format!("not a CSV file: {e}")))?;
        Ok(h.iter().map(str::to_string).collect())
    }

    /// The next record and its line (the header is line 1), or `None` at the end.
    pub(crate) fn next(&mut self) -> Result<Option<(usize, &csv::StringRecord)>, InputError> {
        let line = self.count + 2;
        match self.rd.read_record(&mut self.rec) {
            Ok(true) => {
                self.count += 1;
                Ok(Some((line, &self.rec)))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(self.bad(line, format!("unreadable row: {e}"))),
        }
    }

    /// An error at `line`.
    pub(crate) fn bad(&self, line: usize, message: String) -> InputError {
        bad(self.path, line, message)
    }
}

/// An error about `path` at `line`.
pub(crate) fn bad(path: &str, line: usize, message: String) -> InputError {
    InputError {
        path: path.into(),
        location: Some((line, 1)),
        key: None,
        message,
    }
}

/// Back to the start of the file, for another pass.
pub(crate) fn rewind<R: Seek>(input: &mut R, path: &str) -> Result<(), InputError> {
    input
        .seek(SeekFrom::Start(0))
        .map(|_| ())
        .map_err(|e| InputError::new(path, format!("cannot read file: {e}")))
}

/// The start of the file as text (for [`super::FileKind::of`]), and rewinds.
pub(crate) fn prefix<R: Read + Seek>(input: &mut R, path: &str) -> Result<String, InputError> {
    rewind(input, path)?;
    let mut buf = Vec::with_capacity(PREFIX);
    input
        .by_ref()
        .take(PREFIX as u64)
        .read_to_end(&mut buf)
        .map_err(|e| InputError::new(path, format!("cannot read file: {e}")))?;
    rewind(input, path)?;
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    if buf.len() == PREFIX {
        // A cut multibyte character became U+FFFD: harmless for guessing.
        text.truncate(text.rfind('\n').unwrap_or(text.len()));
    }
    Ok(text)
}

/// A `true`/`false` field, or what is wrong with it.
pub(crate) fn flag(s: &str, name: &str) -> Result<bool, String> {
    match s {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("{name} `{other}` is not true/false")),
    }
}

/// Intervals during which something was unavailable, closed as the states
/// after each instant arrive (as many rows at one instant are one state).
#[derive(Default)]
pub(crate) struct Outages {
    open: Option<f64>,
}

impl Outages {
    /// The state from `t` on; an outage it ends.
    pub(crate) fn state(&mut self, t: f64, ok: bool) -> Option<(f64, f64)> {
        match (ok, self.open) {
            (false, None) => self.open = Some(t),
            (true, Some(s)) => {
                self.open = None;
                if t > s {
                    return Some((s, t));
                }
            }
            _ => {}
        }
        None
    }

    /// The outage still open at the end, `last`.
    pub(crate) fn finish(&mut self, last: f64) -> Option<(f64, f64)> {
        match self.open.take() {
            Some(s) if last > s => Some((s, last)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_refused_without_reading_it_all() {
        let text = format!("a,b\n1,{}\n", "x".repeat(MAX_LINE + 1));
        let mut rows = Rows::new(text.as_bytes(), "f.csv", false);
        assert_eq!(rows.header().unwrap(), ["a", "b"]);
        let e = rows.next().unwrap_err().to_string();
        assert!(e.contains("line 2 is longer than 1 MiB"), "{e}");
    }

    #[test]
    fn outages_close_at_recovery_and_at_the_end() {
        let mut o = Outages::default();
        let states = [
            (0.0, true),
            (5.0, false),
            (5.0, false),
            (9.0, true),
            (12.0, false),
        ];
        let closed: Vec<_> = states
            .iter()
            .filter_map(|&(t, ok)| o.state(t, ok))
            .collect();
        assert_eq!(closed, [(5.0, 9.0)]);
        assert_eq!(o.finish(20.0), Some((12.0, 20.0)));
    }
}
