//! The timeline's records: what the simulating thread packs per row (a few
//! fixed-size little-endian stores) and [`super::CsvText`] formats.
//!
//! Each record is a tag byte, then its fields:
//! - [`RAW`]: `len: u32`, bytes (text copied as is: the header);
//! - [`PIECE`]: `len: u32`, bytes (the next `event,target,` by number);
//! - [`ROW`]: time `u64`, piece `u32`, flags `u8` (write, read), losses
//!   `u64`, replicas `u8`, then the masks of [`crate::model::Replicas`]
//!   (repairing, present, reachable, current) as `u64`s;
//! - [`VOLUME_ROW`]: time `u64`, piece `u32`, flags `u8`, five counts
//!   `u64`, losses `u64`;
//! - [`DB_ROW`]: time `u64`, `len: u32` and the `event,target,` bytes,
//!   writer `u64` ([`NO_WRITER`] for none), instances up `u64`, flags `u8`
//!   (write, read, storage write), losses `u64`.

use std::io;

/// Text copied as is.
pub const RAW: u8 = 0;
/// Defines the next piece.
pub const PIECE: u8 = 1;
/// A §3 row.
pub const ROW: u8 = 2;
/// A §4 row.
pub const VOLUME_ROW: u8 = 3;
/// A §5 row.
pub const DB_ROW: u8 = 4;
/// A database row's writer when there is none.
pub const NO_WRITER: u64 = u64::MAX;

/// The error of a record that does not decode: a bug, reported, not a panic.
pub fn corrupt() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "timeline record cut short")
}

/// Reads records field by field.
pub struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Records `b`.
    pub fn new(b: &'a [u8]) -> Self {
        Reader { b }
    }

    /// The next record's tag, or `None` at the end.
    #[inline]
    pub fn next_tag(&mut self) -> Option<u8> {
        let (&t, rest) = self.b.split_first()?;
        self.b = rest;
        Some(t)
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let (a, rest) = self.b.split_first_chunk::<N>().ok_or_else(corrupt)?;
        self.b = rest;
        Ok(*a)
    }

    /// `n` bytes.
    #[inline]
    pub fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if n > self.b.len() {
            return Err(corrupt());
        }
        let (a, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(a)
    }

    /// A `u32` length, then that many bytes.
    pub fn bytes(&mut self) -> io::Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// A byte.
    #[inline]
    pub fn u8(&mut self) -> io::Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// A little-endian `u32`.
    #[inline]
    pub fn u32(&mut self) -> io::Result<u32> {
        self.array().map(u32::from_le_bytes)
    }

    /// A little-endian `u64`.
    #[inline]
    pub fn u64(&mut self) -> io::Result<u64> {
        self.array().map(u64::from_le_bytes)
    }
}
