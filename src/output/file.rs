//! Output files: every path is checked before any work, and written through a
//! temporary file in the same folder that is renamed over the target at the
//! end, so a failed or interrupted command leaves no file and damages nothing.
//!
//! Temporary files are named `.NAME.aurora-sim-PID.tmp`. They are removed when
//! the command fails (on drop), when it is interrupted by SIGINT, SIGTERM or
//! SIGHUP (see [`remove_temp_files_on_signal`]), and, after a SIGKILL, the
//! next time an output of the same name is written in that folder (the PID in
//! the name tells whether its writer is still alive).

use crate::error::{Error, InputError};
use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// What a flag writes, for the extension check.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// Text whose extension is the user's business (CSV, sweep parts).
    Any,
    /// SVG only: a `.png` or `.pdf` name would lie about the contents.
    Svg,
}

/// An output path that passed every check that can be made before writing.
#[derive(Clone, Debug)]
pub struct OutputPath {
    /// The flag that named it (`--timeline`, `--out`…), for messages.
    pub flag: &'static str,
    /// The path as given.
    pub path: PathBuf,
    /// Its folder (`.` for a bare name).
    dir: PathBuf,
    /// Its file name.
    name: OsString,
}

impl OutputPath {
    /// Checks `path` given to `flag`: its folder exists and is a folder, the
    /// path is absent or a regular file (not a directory, symlink, FIFO or
    /// device), it is none of `inputs`, and its extension fits `format`.
    /// Writability is proven by [`AtomicFile::create`], which callers run
    /// before any work too.
    pub fn check(
        flag: &'static str,
        path: &Path,
        format: Format,
        inputs: &[&Path],
    ) -> Result<OutputPath, Error> {
        let bad = |m: String| Error::Input(InputError::new(path.display().to_string(), m));
        // The text after the last `/` must be the file name: `dir/`, `dir/.`,
        // `a/..` and `/` name no file to create.
        let last = path
            .as_os_str()
            .as_encoded_bytes()
            .rsplit(|&b| b == b'/')
            .next();
        let name = match path.file_name() {
            Some(n) if Some(n.as_encoded_bytes()) == last => n.to_os_string(),
            _ => return Err(bad(format!("{flag}: not a file name"))),
        };
        if format == Format::Svg {
            let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
            if ext.as_deref() != Some("svg") {
                let got = ext.map_or("no extension".to_string(), |e| format!("`.{e}`"));
                return Err(bad(format!(
                    "{flag}: plots are written as SVG only, so the name must end in `.svg` \
                     (got {got}); convert afterwards, e.g. `rsvg-convert -o plot.png plot.svg`"
                )));
            }
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(bad(format!("{flag}: {} is not a folder", dir.display()))),
            Err(e) => {
                return Err(bad(format!(
                    "{flag}: folder {} {}",
                    dir.display(),
                    describe_io(&e)
                )));
            }
        }
        if let Ok(m) = std::fs::symlink_metadata(path) {
            let ft = m.file_type();
            let what = if ft.is_symlink() {
                Some("is a symbolic link")
            } else if ft.is_dir() {
                Some("is a directory")
            } else if !ft.is_file() {
                Some("is not a regular file (a FIFO, socket or device)")
            } else {
                None
            };
            if let Some(what) = what {
                return Err(bad(format!(
                    "{flag}: {what}; refusing to replace it (name a regular file or a new one)"
                )));
            }
            for input in inputs {
                if std::fs::metadata(input).is_ok_and(|i| same_file(&i, &m)) {
                    return Err(bad(format!(
                        "{flag}: is the input {}; refusing to overwrite it",
                        input.display()
                    )));
                }
            }
        }
        Ok(OutputPath {
            flag,
            path: path.to_path_buf(),
            dir,
            name,
        })
    }

    /// The same file, whatever the spelling: canonical folder plus name.
    fn identity(&self) -> PathBuf {
        std::fs::canonicalize(&self.dir)
            .unwrap_or_else(|_| self.dir.clone())
            .join(&self.name)
    }
}

/// Refuses two outputs that name the same file (one would overwrite the other).
pub fn check_distinct(outputs: &[&OutputPath]) -> Result<(), Error> {
    for (i, a) in outputs.iter().enumerate() {
        for b in &outputs[..i] {
            let same = a.identity() == b.identity()
                || matches!(
                    (std::fs::metadata(&a.path), std::fs::metadata(&b.path)),
                    (Ok(x), Ok(y)) if same_file(&x, &y)
                );
            if same {
                return Err(Error::Input(InputError::new(
                    a.path.display().to_string(),
                    format!("{} and {} name the same file", b.flag, a.flag),
                )));
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &Metadata, _: &Metadata) -> bool {
    false
}

/// "does not exist" rather than "No such file or directory (os error 2)".
fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "does not exist".into(),
        std::io::ErrorKind::PermissionDenied => "is not writable (permission denied)".into(),
        _ => format!("cannot be used: {e}"),
    }
}

/// Temporary files of this process, removed by the signal handler.
static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn temp_files() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic elsewhere must not stop the cleanup.
    TEMP_FILES.lock().unwrap_or_else(|e| e.into_inner())
}

/// On SIGINT, SIGTERM or SIGHUP: remove this process's temporary files, then
/// die of the signal as if it had not been caught (so shells see the usual
/// status). Called once by `main`; the library never installs it by itself.
pub fn remove_temp_files_on_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    // Held until the process is gone, so no temp file is
                    // renamed or created behind the cleanup.
                    let files = temp_files();
                    for f in files.iter() {
                        let _ = std::fs::remove_file(f);
                    }
                    let _ = signal_hook::low_level::emulate_default_handler(sig);
                    std::process::exit(128 + sig);
                }
            })?;
    }
    Ok(())
}

/// Whether a process with this id exists (`kill(pid, 0)`).
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true; // not a PID we could have written: leave it alone
    };
    if pid <= 0 {
        return true;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn alive(_: u32) -> bool {
    true
}

/// Removes `.NAME.aurora-sim-PID.tmp` files in `dir` left by dead processes
/// (a SIGKILL leaves them; nothing else can).
fn sweep_stale(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.aurora-sim-");
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|f| f.strip_suffix(".tmp"))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let regular = e.file_type().is_ok_and(|t| t.is_file());
        if regular && pid != std::process::id() && !alive(pid) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A file being written: a buffered temporary file beside the target, renamed
/// over it by [`AtomicFile::commit`]; dropped uncommitted, it is removed.
pub struct AtomicFile {
    out: Option<BufWriter<File>>,
    tmp: PathBuf,
    target: OutputPath,
}

impl AtomicFile {
    /// Creates the temporary file for `target` (proving the folder writable)
    /// after removing stale ones of the same name.
    pub fn create(target: &OutputPath) -> Result<AtomicFile, Error> {
        Self::create_named(target, &target.name.to_string_lossy())
    }

    /// A scratch file beside `target` that is never committed (e.g. the
    /// timeline a plot is drawn from): `.NAME.SUFFIX.aurora-sim-PID.tmp`.
    pub fn scratch(target: &OutputPath, suffix: &str) -> Result<AtomicFile, Error> {
        Self::create_named(
            target,
            &format!("{}.{suffix}", target.name.to_string_lossy()),
        )
    }

    fn create_named(target: &OutputPath, name: &str) -> Result<AtomicFile, Error> {
        sweep_stale(&target.dir, name);
        let tmp = target
            .dir
            .join(format!(".{name}.aurora-sim-{}.tmp", std::process::id()));
        let mut files = temp_files();
        // Ours by PID: only a dead process with our PID can have left it.
        let _ = std::fs::remove_file(&tmp);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| {
                Error::Input(InputError::new(
                    target.path.display().to_string(),
                    format!(
                        "{}: cannot create a file in folder {}: {}",
                        target.flag,
                        target.dir.display(),
                        match e.kind() {
                            std::io::ErrorKind::PermissionDenied => {
                                "it is not writable (permission denied)".to_string()
                            }
                            std::io::ErrorKind::ReadOnlyFilesystem => {
                                "it is on a read-only file system".to_string()
                            }
                            _ => e.to_string(),
                        }
                    ),
                ))
            })?;
        files.push(tmp.clone());
        Ok(AtomicFile {
            out: Some(BufWriter::with_capacity(1 << 16, file)),
            tmp,
            target: target.clone(),
        })
    }

    /// Another handle on the temporary file, so that another thread can make
    /// what was written so far durable (then the sync at
    /// [`AtomicFile::commit`] has little left to wait for).
    pub fn sync_handle(&self) -> std::io::Result<File> {
        match &self.out {
            Some(w) => w.get_ref().try_clone(),
            None => Err(std::io::Error::other("file already closed")),
        }
    }

    /// The temporary file's path (to read back what was written so far).
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// The output this file will become.
    pub fn target(&self) -> &OutputPath {
        &self.target
    }

    /// Flushes, syncs and renames the temporary file over the target.
    pub fn commit(mut self) -> Result<(), Error> {
        let fail = |m: String| {
            Error::Internal(format!(
                "cannot write {} ({}): {m}",
                self.target.path.display(),
                self.target.flag
            ))
        };
        let out = self
            .out
            .take()
            .ok_or_else(|| fail("already closed".into()))?;
        let file = out.into_inner().map_err(|e| fail(e.error().to_string()))?;
        file.sync_all().map_err(|e| fail(e.to_string()))?;
        drop(file);
        // Checked again: something may have been put there during the work.
        let target = OutputPath::check(self.target.flag, &self.target.path, Format::Any, &[])?;
        let mut files = temp_files();
        std::fs::rename(&self.tmp, &target.path).map_err(|e| fail(e.to_string()))?;
        files.retain(|f| f != &self.tmp);
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.out {
            Some(w) => w.write(buf),
            None => Err(std::io::Error::other("file already closed")),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match &mut self.out {
            Some(w) => w.write_all(buf),
            None => Err(std::io::Error::other("file already closed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.out {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.is_some() || self.tmp.exists() {
            let mut files = temp_files();
            drop(self.out.take());
            let _ = std::fs::remove_file(&self.tmp);
            files.retain(|f| f != &self.tmp);
        }
    }
}

/// Commits every file in order and says `wrote FILE` on stderr for each
/// (unless `quiet`).
pub fn commit_all(files: Vec<AtomicFile>, quiet: bool) -> Result<(), Error> {
    for f in files {
        let path = f.target.path.clone();
        f.commit()?;
        if !quiet {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// Checks `path`, then writes `bytes` to it atomically (tests and one-shot
/// callers; commands check all their outputs first and use [`AtomicFile`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let target = OutputPath::check("output", path, Format::Any, &[])?;
    let mut f = AtomicFile::create(&target)?;
    f.write_all(bytes)
        .map_err(|e| Error::Internal(format!("cannot write {}: {e}", target.path.display())))?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_that_end_in_a_file_name_are_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        for p in [
            format!("{d}/"),
            format!("{d}/."),
            format!("{d}/.."),
            "/".into(),
        ] {
            let e = OutputPath::check("--out", Path::new(&p), Format::Any, &[]).unwrap_err();
            assert!(e.to_string().contains("not a file name"), "{p}: {e}");
        }
        let ok = OutputPath::check("--out", &dir.path().join("x.csv"), Format::Any, &[]).unwrap();
        assert_eq!(ok.name, "x.csv");
        let bare = OutputPath::check("--out", Path::new("x.csv"), Format::Any, &[]).unwrap();
        assert_eq!(bare.dir, Path::new("."));
    }

    #[test]
    fn a_dropped_file_leaves_nothing_and_a_committed_one_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputPath::check("--out", &dir.path().join("a.csv"), Format::Any, &[]).unwrap();
        let mut f = AtomicFile::create(&out).unwrap();
        f.write_all(b"half").unwrap();
        assert!(f.temp_path().exists());
        drop(f);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut f = AtomicFile::create(&out).unwrap();
        f.write_all(b"whole").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.csv")).unwrap(), b"whole");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(temp_files().iter().all(|t| !t.starts_with(dir.path())));
    }

    #[test]
    fn stale_temp_files_of_dead_writers_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        // Above any pid_max (2^22 on Linux), so no such process can exist.
        let dead = dir.path().join(".a.csv.aurora-sim-2147483646.tmp");
        let other = dir.path().join(".b.csv.aurora-sim-2147483646.tmp");
        let live = dir.path().join(".a.csv.aurora-sim-1.tmp"); // init never dies
        for p in [&dead, &other, &live] {
            std::fs::write(p, "x").unwrap();
        }
        write_atomic(&dir.path().join("a.csv"), b"new").unwrap();
        assert!(!dead.exists(), "dead writer's temp swept");
        assert!(other.exists(), "another output's temp is left alone");
        assert!(live.exists(), "a live writer's temp is left alone");
    }
}
