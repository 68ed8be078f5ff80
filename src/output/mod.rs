//! Outputs: the readable report, JSON, the CSV timeline, and atomic writes.
//! Renderers return text; only [`write_atomic`] touches the file system.

pub mod json;
pub mod plot;
pub mod report;
pub mod timeline;

use crate::error::Error;
use crate::time::{SimTime, US_PER_S};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same directory
/// and a rename, so a failed run never leaves a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let fail = |e: std::io::Error| Error::Internal(format!("cannot write {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        Error::Internal(format!("cannot write {}: not a file name", path.display()))
    })?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

/// Exact decimal seconds of a time: `8.589935`, `3600`.
pub fn secs_exact(t: SimTime) -> String {
    secs_exact_us(t.0 as u128)
}

/// Exact decimal seconds of a µs count (also sums of many runs).
pub fn secs_exact_us(total_us: u128) -> String {
    let per_s = US_PER_S as u128;
    let (s, us) = (total_us / per_s, total_us % per_s);
    if us == 0 {
        return s.to_string();
    }
    let frac = format!("{us:06}");
    format!("{s}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_seconds() {
        assert_eq!(secs_exact(SimTime(8_589_935)), "8.589935");
        assert_eq!(secs_exact(SimTime(3_600_000_000)), "3600");
        assert_eq!(secs_exact(SimTime(1_500_000)), "1.5");
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write_atomic(&dir.path().join("no/such/dir.csv"), b"x").is_err());
    }
}
