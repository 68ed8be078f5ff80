//! [`Background`]: a [`Sink`] that takes chunks on its own thread.
//!
//! A `run --timeline` packs its rows into compact records on the simulating
//! thread and hands each full chunk to this one, which formats the CSV and
//! makes the system calls, so that the formatting, the writes and the
//! disk's write-back overlap the simulation instead of adding to it. Chunks
//! arrive in the order they were given; the first error is reported by the
//! next [`Background::take`], [`Background::flush`] or
//! [`Background::into_inner`], after which nothing more is consumed.
//! [`Synced`] makes a file's data durable as it goes.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Chunks in flight at most: memory stays bounded (a few chunks) when the
/// disk is slower than the simulation, which then waits.
const IN_FLIGHT: usize = 4;

/// The first error a thread met, kept for the owner to report once.
#[derive(Clone, Default)]
struct FirstError(Arc<Mutex<Option<io::Error>>>);

impl FirstError {
    /// Keeps `e` unless an earlier error is kept.
    fn keep(&self, e: io::Error) {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(e);
        }
    }

    /// The kept error, once.
    fn take(&self) -> io::Result<()> {
        match self.0.lock() {
            Ok(mut slot) => slot.take().map_or(Ok(()), Err),
            Err(_) => Err(stopped()),
        }
    }
}

/// What a background thread does with the chunks it is handed.
pub trait Sink: Send + 'static {
    /// Takes one chunk (whole, as it was handed over).
    fn consume(&mut self, chunk: &[u8]) -> io::Result<()>;
    /// Passes everything consumed so far on (e.g. to a file).
    fn flush(&mut self) -> io::Result<()>;
}

/// A writer whose data a thread of its own makes durable (`sync_data`)
/// after every `every` bytes, while writing goes on, so that the sync before
/// a file is renamed finds little left to wait for. While one sync runs, one
/// more may wait; any further ask is skipped (the waiting one covers it).
pub struct Synced<W> {
    /// `None` once given back.
    out: Option<W>,
    every: usize,
    unsynced: usize,
    ask: Option<SyncSender<()>>,
    error: FirstError,
    thread: Option<JoinHandle<()>>,
}

impl<W: Write> Synced<W> {
    /// `out`, synced through `handle` (another handle on the same file).
    pub fn new(out: W, handle: std::fs::File, every: usize) -> io::Result<Self> {
        let (ask, asked) = sync_channel::<()>(1);
        let error = FirstError::default();
        let err = error.clone();
        let thread = std::thread::Builder::new()
            .name("timeline-sync".into())
            .spawn(move || {
                for () in asked {
                    if let Err(e) = handle.sync_data() {
                        err.keep(e);
                        break;
                    }
                }
            })?;
        Ok(Synced {
            out: Some(out),
            every,
            unsynced: 0,
            ask: Some(ask),
            error,
            thread: Some(thread),
        })
    }

    /// Waits for the syncs, then gives the writer back (or the first error).
    pub fn into_inner(mut self) -> io::Result<W> {
        self.stop();
        self.error.take()?;
        self.out.take().ok_or_else(stopped)
    }
}

impl<W> Synced<W> {
    /// Ends the thread once its last sync is done.
    fn stop(&mut self) {
        drop(self.ask.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl<W> Drop for Synced<W> {
    fn drop(&mut self) {
        self.stop();
    }
}

impl<W: Write> Write for Synced<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // A failed sync is the first error: report it before any later one
        // (the thread has stopped; asks to it are then dropped).
        self.error.take()?;
        let n = self.out.as_mut().ok_or_else(stopped)?.write(buf)?;
        self.unsynced += n;
        if self.unsynced >= self.every {
            self.unsynced = 0;
            if let Some(ask) = &self.ask {
                let _ = ask.try_send(());
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.as_mut().ok_or_else(stopped)?.flush()
    }
}

/// A message to the thread.
enum Job {
    /// Consume `chunk[..len]`.
    Take(Vec<u8>, usize),
    /// Flush the sink, then answer (all earlier chunks are consumed).
    Flush,
}

/// Runs a [`Sink`] on a thread of its own (see the module docs).
pub struct Background<S: Sink> {
    to: Option<SyncSender<Job>>,
    /// Consumed chunk buffers coming back for reuse, and flush answers (`None`).
    back: Receiver<Option<Vec<u8>>>,
    spare: Vec<Vec<u8>>,
    error: FirstError,
    /// Set when dropped unfinished: chunks still queued are not consumed.
    abandoned: Arc<AtomicBool>,
    thread: Option<JoinHandle<S>>,
}

impl<S: Sink> Background<S> {
    /// Starts the thread, named `name`.
    pub fn new(mut sink: S, name: &str) -> io::Result<Self> {
        let (to, jobs) = sync_channel::<Job>(IN_FLIGHT);
        let (give_back, back) = sync_channel(IN_FLIGHT + 2);
        let error = FirstError::default();
        let err = error.clone();
        let abandoned = Arc::new(AtomicBool::new(false));
        let gone = Arc::clone(&abandoned);
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let mut failed = false;
                for job in jobs {
                    match job {
                        Job::Take(chunk, len) => {
                            if gone.load(Ordering::Relaxed) {
                                failed = true;
                            }
                            if !failed && let Err(e) = sink.consume(&chunk[..len]) {
                                failed = true;
                                err.keep(e);
                            }
                            // The other side may be gone (dropped): fine.
                            let _ = give_back.try_send(Some(chunk));
                        }
                        Job::Flush => {
                            if !failed && let Err(e) = sink.flush() {
                                failed = true;
                                err.keep(e);
                            }
                            if give_back.send(None).is_err() {
                                break;
                            }
                        }
                    }
                }
                sink
            })?;
        Ok(Background {
            to: Some(to),
            back,
            spare: Vec::new(),
            error,
            abandoned,
            thread: Some(thread),
        })
    }

    /// Hands `buf[..len]` to the thread, leaving in `buf` a recycled buffer
    /// of at least the same length (contents unspecified): no copy, and no
    /// allocation once a few chunks are in circulation.
    pub fn take(&mut self, buf: &mut Vec<u8>, len: usize) -> io::Result<()> {
        self.error.take()?;
        while let Ok(Some(b)) = self.back.try_recv() {
            self.spare.push(b);
        }
        let want = buf.len();
        let mut next = self.spare.pop().unwrap_or_default();
        if next.len() < want {
            next.resize(want, 0);
        }
        let chunk = std::mem::replace(buf, next);
        self.send(Job::Take(chunk, len.min(want)))
    }

    /// Returns once every chunk handed over so far is consumed and the sink
    /// has flushed.
    pub fn flush(&mut self) -> io::Result<()> {
        self.send(Job::Flush)?;
        loop {
            match self.back.recv() {
                Ok(Some(b)) => self.spare.push(b),
                Ok(None) => break,
                Err(_) => return Err(stopped()),
            }
        }
        self.error.take()
    }

    /// Waits for every chunk, then gives the sink back (or the first error).
    pub fn into_inner(mut self) -> io::Result<S> {
        drop(self.to.take());
        let out = self
            .thread
            .take()
            .expect("joined only here or on drop")
            .join()
            .map_err(|_| stopped())?;
        self.error.take()?;
        Ok(out)
    }

    fn send(&self, job: Job) -> io::Result<()> {
        self.to
            .as_ref()
            .and_then(|to| to.send(job).ok())
            .ok_or_else(stopped)
    }
}

fn stopped() -> io::Error {
    io::Error::other("the writing thread stopped")
}

impl<S: Sink> Drop for Background<S> {
    /// Tells the thread to skip what is still queued, joins it and drops
    /// the sink (an unfinished [`super::file::AtomicFile`] then removes its
    /// temporary file). After [`Background::into_inner`] there is nothing
    /// left to do.
    fn drop(&mut self) {
        self.abandoned.store(true, Ordering::Relaxed);
        drop(self.to.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that records its chunks, shared with the test.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Sink for Shared {
        fn consume(&mut self, chunk: &[u8]) -> io::Result<()> {
            self.0.lock().unwrap().push(chunk.to_vec());
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn chunks_arrive_whole_and_in_order_and_buffers_come_back() {
        let sink = Shared::default();
        let mut w = Background::new(sink.clone(), "test").unwrap();
        let mut want = Vec::new();
        let mut buf = vec![0u8; 100];
        // 100 chunks of 0..=99 bytes, each filled in the buffer handed back.
        for i in 0..100u32 {
            for k in 0..i {
                buf[k as usize] = (k * 7 + i) as u8;
            }
            want.push(buf[..i as usize].to_vec());
            w.take(&mut buf, i as usize).unwrap();
            assert!(buf.len() >= 100, "a recycled buffer is as long");
        }
        w.flush().unwrap();
        assert_eq!(*sink.0.lock().unwrap(), want, "flush waits for every chunk");
        w.into_inner().unwrap();
    }

    #[test]
    fn synced_writes_pass_through_whole_while_syncs_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let file = std::fs::File::create(&path).unwrap();
        let handle = file.try_clone().unwrap();
        // A sync asked for after every 1000 bytes: several run (or are
        // skipped while one runs) during 100 writes of 0..=99 bytes.
        let mut w = Synced::new(file, handle, 1000).unwrap();
        let mut want = Vec::new();
        for i in 0..100u32 {
            let chunk: Vec<u8> = (0..i).map(|k| (k * 7 + i) as u8).collect();
            w.write_all(&chunk).unwrap();
            want.extend_from_slice(&chunk);
        }
        w.flush().unwrap();
        drop(w.into_inner().unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), want);
    }

    /// A sink with room for `.0` more bytes, failing a chunk that does not fit.
    struct Full(usize);
    impl Sink for Full {
        fn consume(&mut self, b: &[u8]) -> io::Result<()> {
            if b.len() > self.0 {
                return Err(io::Error::other("disk full"));
            }
            self.0 -= b.len();
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_first_error_is_reported_and_nothing_more_is_consumed() {
        let mut w = Background::new(Full(10), "test").unwrap();
        let mut buf = vec![1u8; 8];
        w.take(&mut buf, 8).unwrap();
        // This one fails on the thread; a later call reports it.
        let _ = w.take(&mut buf, 8);
        let e = w.flush().unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        // Reported once; nothing after the error reached the sink.
        let _ = w.take(&mut buf, 1);
        let out = w.into_inner().unwrap();
        assert_eq!(out.0, 2);
    }
}
