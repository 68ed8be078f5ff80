//! CLI tests: the real binary, one test per SPEC promise and bad-input class.

mod analyze;
mod bad_input;
mod check;
mod crn;
mod database;
mod estimate;
mod help;
mod interface;
mod interrupts;
mod limits;
mod merge;
mod outputs;
mod plot;
mod plot_database;
mod plot_volume;
mod proptests;
mod run;
mod segments;
mod sweep;
mod volume_input;
mod volume_outputs;
mod volume_run;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The binary under test.
pub fn bin() -> Command {
    Command::cargo_bin("aurora-sim").expect("binary built")
}

/// The repository's `scenarios/` folder.
pub fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Writes `text` to `name` in `dir` and returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}
