//! [`Background`]: a writer whose `write` calls run on their own thread.
//!
//! A `run --timeline` formats rows on the simulating thread and hands each
//! full chunk to this one, so the system calls (and the disk's write-back)
//! overlap the simulation instead of adding to it. Bytes arrive in the order
//! they were given; the first error is reported by the next `write_all`,
//! `flush` or [`Background::into_inner`], after which nothing more is written.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Chunks in flight at most: memory stays bounded (a few chunks) when the
/// disk is slower than the simulation, which then waits.
const IN_FLIGHT: usize = 4;

/// Makes what was written so far durable (e.g. `File::sync_data`).
pub type Sync<W> = fn(&mut W) -> io::Result<()>;

/// A message to the writing thread.
enum Job {
    Write(Vec<u8>),
    /// Flush the writer, then answer (all earlier chunks are written).
    Flush,
}

/// Writes to `W` on a thread of its own (see the module docs).
pub struct Background<W: Write + Send + 'static> {
    to: Option<SyncSender<Job>>,
    /// Emptied chunk buffers coming back for reuse, and flush answers (`None`).
    back: Receiver<Option<Vec<u8>>>,
    spare: Vec<Vec<u8>>,
    error: Arc<Mutex<Option<io::Error>>>,
    thread: Option<JoinHandle<W>>,
}

impl<W: Write + Send + 'static> Background<W> {
    /// Starts the thread. With `sync`, it also makes the data durable after
    /// every `sync_every` bytes, so that a final sync finds little left.
    pub fn new(mut out: W, sync: Option<(Sync<W>, usize)>) -> io::Result<Self> {
        let (to, jobs) = sync_channel::<Job>(IN_FLIGHT);
        let (give_back, back) = sync_channel(IN_FLIGHT + 2);
        let error = Arc::new(Mutex::new(None));
        let err = Arc::clone(&error);
        let thread = std::thread::Builder::new()
            .name("timeline-writer".into())
            .spawn(move || {
                let mut unsynced = 0usize;
                let mut failed = false;
                let fail = |e: io::Error, failed: &mut bool| {
                    *failed = true;
                    if let Ok(mut slot) = err.lock() {
                        slot.get_or_insert(e);
                    }
                };
                for job in jobs {
                    match job {
                        Job::Write(mut chunk) => {
                            if !failed {
                                match out.write_all(&chunk) {
                                    Err(e) => fail(e, &mut failed),
                                    Ok(()) => unsynced += chunk.len(),
                                }
                            }
                            if let Some((f, every)) = sync
                                && !failed
                                && unsynced >= every
                            {
                                unsynced = 0;
                                if let Err(e) = f(&mut out) {
                                    fail(e, &mut failed);
                                }
                            }
                            chunk.clear();
                            // The other side may be gone (dropped): fine.
                            let _ = give_back.try_send(Some(chunk));
                        }
                        Job::Flush => {
                            if !failed && let Err(e) = out.flush() {
                                fail(e, &mut failed);
                            }
                            if give_back.send(None).is_err() {
                                break;
                            }
                        }
                    }
                }
                out
            })?;
        Ok(Background {
            to: Some(to),
            back,
            spare: Vec::new(),
            error,
            thread: Some(thread),
        })
    }

    /// Waits for every write, then gives the writer back (or the first error).
    pub fn into_inner(mut self) -> io::Result<W> {
        drop(self.to.take());
        let out = self
            .thread
            .take()
            .expect("joined only here or on drop")
            .join()
            .map_err(|_| io::Error::other("the writing thread stopped"))?;
        self.take_error()?;
        Ok(out)
    }

    /// The first error the thread met, once.
    fn take_error(&self) -> io::Result<()> {
        match self.error.lock() {
            Ok(mut slot) => slot.take().map_or(Ok(()), Err),
            Err(_) => Err(io::Error::other("the writing thread stopped")),
        }
    }

    fn send(&self, job: Job) -> io::Result<()> {
        self.to
            .as_ref()
            .and_then(|to| to.send(job).ok())
            .ok_or_else(|| io::Error::other("the writing thread stopped"))
    }
}

impl<W: Write + Send + 'static> Write for Background<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    /// Copies `buf` into a recycled chunk and queues it.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.take_error()?;
        if buf.is_empty() {
            return Ok(());
        }
        while let Ok(Some(b)) = self.back.try_recv() {
            self.spare.push(b);
        }
        let mut chunk = self.spare.pop().unwrap_or_default();
        chunk.extend_from_slice(buf);
        self.send(Job::Write(chunk))
    }

    /// Returns once everything written so far has reached the writer and
    /// the writer has flushed.
    fn flush(&mut self) -> io::Result<()> {
        self.send(Job::Flush)?;
        loop {
            match self.back.recv() {
                Ok(Some(b)) => self.spare.push(b),
                Ok(None) => break,
                Err(_) => return Err(io::Error::other("the writing thread stopped")),
            }
        }
        self.take_error()
    }
}

impl<W: Write + Send + 'static> Drop for Background<W> {
    /// Lets the thread finish and drops the writer there (an unfinished
    /// [`super::file::AtomicFile`] then removes its temporary file).
    fn drop(&mut self) {
        drop(self.to.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that records its bytes and syncs, shared with the test.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn bytes_arrive_whole_and_in_order_and_syncs_follow_the_byte_count() {
        let sink = Shared::default();
        let sync: Sync<Shared> = |s| {
            s.0.lock().unwrap().1 += 1;
            Ok(())
        };
        let mut w = Background::new(sink.clone(), Some((sync, 1000))).unwrap();
        let mut want = Vec::new();
        // 100 writes of 0..=99 bytes: 4950 bytes in all.
        for i in 0..100u32 {
            let chunk: Vec<u8> = (0..i).map(|k| (k * 7 + i) as u8).collect();
            w.write_all(&chunk).unwrap();
            want.extend_from_slice(&chunk);
        }
        w.flush().unwrap();
        assert_eq!(
            sink.0.lock().unwrap().0,
            want,
            "flush waits for every chunk"
        );
        let back = w.into_inner().unwrap();
        let (bytes, syncs) = back.0.lock().unwrap().clone();
        assert_eq!(bytes.len(), 4950);
        // By hand: the bytes since the last sync reach 1000 with chunk 45
        // (0..=45 sum to 1035), 64 (46..=64: 1045), 78 (65..=78: 1001) and
        // 90 (79..=90: 1014); 91..=99 leave 855 unsynced: 4 syncs.
        assert_eq!(syncs, 4);
    }

    /// A writer with room for `.0` more bytes, failing a write that does not fit.
    struct Full(usize);
    impl Write for Full {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if b.len() > self.0 {
                return Err(io::Error::other("disk full"));
            }
            self.0 -= b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_first_error_is_reported_and_nothing_more_is_written() {
        let mut w = Background::new(Full(10), None).unwrap();
        w.write_all(&[1; 8]).unwrap();
        // This one fails on the thread; a later call reports it.
        let _ = w.write_all(&[2; 8]);
        let e = w.flush().unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        // Reported once; the writer keeps what fitted before the error.
        let out = w.into_inner().unwrap();
        assert_eq!(out.0, 2);
    }
}
