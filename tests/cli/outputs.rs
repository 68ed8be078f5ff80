//! Output files (issue 11 items 2, 3, 7): replay lines that reproduce the run,
//! every output path checked before any work, nothing damaged or left behind.

use super::{bin, write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

pub(super) const SMALL: &str = r#"name = "small"
horizon = "30d"
seed = 3
[failures.node_crash]
every = "5d"
lasts = "1h"
"#;

/// Busy enough to run for minutes: only signals end it.
pub(super) const ENDLESS: &str = r#"name = "endless"
horizon = "1000y"
[failures.node_crash]
every = "1s"
lasts = "1s"
"#;

/// The files in `dir`, sorted.
pub(super) fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Asserts exit 2 with one `error:` line naming `path` and `flag` (and `more`).
fn refused(out: &Output, path: &Path, flag: &str, more: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&path.display().to_string()),
        "names the path: {err}"
    );
    assert!(err.contains(flag), "names {flag}: {err}");
    assert!(err.contains(more), "expected `{more}` in: {err}");
}

pub(super) fn run_with(scenario: &Path, args: &[&std::ffi::OsStr]) -> Output {
    bin().arg("run").arg(scenario).args(args).output().unwrap()
}

/// The `aurora-sim run …` command of a line, run through `sh` with the
/// binary on `PATH`, with `--json` appended.
fn replay_json(line: &str) -> Output {
    let at = line.find("aurora-sim run ").expect("a replay command");
    let exe = assert_cmd::cargo::cargo_bin("aurora-sim");
    let path = format!(
        "{}:{}",
        exe.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg("-c")
        .arg(format!("{} --json", &line[at..]))
        .env("PATH", path)
        .output()
        .unwrap()
}

#[test]
fn issue_11_run_replay_line_reproduces_the_run() {
    // See: issue 11
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "my scenario.toml", SMALL);
    let args = [
        "--horizon",
        "1y",
        "--seed",
        "11",
        "--set",
        "failures.node_crash.every=2d",
        "--set",
        "name=it's mine",
    ];
    let json = bin()
        .arg("run")
        .arg(&p)
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(json.status.success());
    let report = bin().arg("run").arg(&p).args(args).output().unwrap();
    let text = String::from_utf8(report.stdout).unwrap();
    let line = text.lines().find(|l| l.contains("replay")).unwrap();
    assert!(line.contains("--horizon 1y"), "{line}");
    let again = replay_json(line);
    assert!(
        again.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        String::from_utf8(again.stdout).unwrap(),
        String::from_utf8(json.stdout).unwrap(),
        "{line}"
    );
}

#[test]
fn issue_11_sweep_replay_hints_reproduce_the_losing_trial() {
    // See: issue 11
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "lossy.toml",
        "name = \"lossy\"\nhorizon = \"10d\"\n[cluster]\nrepair_time = \"1d\"\n\
         [failures.node_loss]\nevery = \"2d\"\n",
    );
    let out = dir.path().join("v.csv");
    let o = bin()
        .arg("sweep")
        .arg(&p)
        .args(["--trials", "8", "--vary", "horizon=20d,30d", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(o.status.success(), "{err}");
    let notes: Vec<&str> = err.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(notes.len(), 2, "{err}");
    for (note, secs) in notes.iter().zip([20 * 86_400, 30 * 86_400]) {
        let again = replay_json(note);
        assert!(again.status.success(), "{note}");
        let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(v["horizon_seconds"].as_f64(), Some(secs as f64), "{note}");
        assert!(v["data_loss_events"].as_u64().unwrap() > 0, "{note}");
    }
}

#[test]
fn issue_11_missing_folder_is_refused_before_any_work() {
    // See: issue 11
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.toml", ENDLESS);
    let bad = dir.path().join("nodir/t.csv");
    let o = run_with(&p, &["--timeline".as_ref(), bad.as_os_str()]);
    refused(&o, &bad, "--timeline", "does not exist");
    // A sweep of 10⁹ endless trials would never end: the refusal comes first.
    let bad = dir.path().join("nodir/v.csv");
    let o = bin()
        .arg("sweep")
        .arg(&p)
        .args(["--trials", "1000000000", "--out"])
        .arg(&bad)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    refused(&o, &bad, "--out", "does not exist");
    // A file where the folder should be.
    let bad = dir.path().join("s.toml/v.csv");
    let o = run_with(&p, &["--timeline".as_ref(), bad.as_os_str()]);
    refused(&o, &bad, "--timeline", "not a folder");
    assert_eq!(listing(dir.path()), ["s.toml"]);
}

#[test]
fn issue_11_an_unwritable_folder_is_refused_before_any_work() {
    // See: issue 11
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.toml", ENDLESS);
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let locked = if root {
        // Root writes anywhere a mode allows; sysfs refuses new files even to root.
        PathBuf::from("/sys/kernel")
    } else {
        use std::os::unix::fs::PermissionsExt;
        let d = dir.path().join("locked");
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o555)).unwrap();
        d
    };
    if !locked.is_dir() {
        return; // no sysfs here: nothing to test as root
    }
    let bad = locked.join("t.csv");
    let o = run_with(&p, &["--timeline".as_ref(), bad.as_os_str()]);
    refused(&o, &bad, "--timeline", "not writable");
    assert!(!bad.exists());
}

#[test]
fn issue_11_a_bad_plot_path_writes_no_timeline_either() {
    // See: issue 11
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.toml", SMALL);
    let ok = dir.path().join("ok.csv");
    let bad = dir.path().join("nodir/p.svg");
    let o = run_with(
        &p,
        &[
            "--timeline".as_ref(),
            ok.as_os_str(),
            "--plot".as_ref(),
            bad.as_os_str(),
        ],
    );
    refused(&o, &bad, "--plot", "does not exist");
    assert_eq!(listing(dir.path()), ["s.toml"]);
}

#[test]
fn issue_11_directories_devices_fifos_and_symlinks_are_not_replaced() {
    // See: issue 11
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.toml", SMALL);
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let o = run_with(&p, &["--timeline".as_ref(), sub.as_os_str()]);
    refused(&o, &sub, "--timeline", "is a directory");

    let null = Path::new("/dev/null");
    let o = run_with(&p, &["--timeline".as_ref(), null.as_os_str()]);
    refused(&o, null, "--timeline", "not a regular file");
    assert!(
        std::fs::metadata(null)
            .unwrap()
            .file_type()
            .is_char_device()
    );

    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let o = run_with(&p, &["--timeline".as_ref(), fifo.as_os_str()]);
    refused(&o, &fifo, "--timeline", "not a regular file");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );

    let target = write(dir.path(), "target.csv", "keep me\n");
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = run_with(&p, &["--timeline".as_ref(), link.as_os_str()]);
    refused(&o, &link, "--timeline", "symbolic link");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");
    // A dangling link is refused too (writing through it would create a file elsewhere).
    let dangling = dir.path().join("dangling.svg");
    std::os::unix::fs::symlink(dir.path().join("nowhere.svg"), &dangling).unwrap();
    let o = run_with(&p, &["--plot".as_ref(), dangling.as_os_str()]);
    refused(&o, &dangling, "--plot", "symbolic link");
    assert_eq!(
        listing(dir.path()),
        [
            "dangling.svg",
            "fifo",
            "link.csv",
            "s.toml",
            "sub",
            "target.csv"
        ]
    );
}

#[test]
fn issue_11_the_input_is_never_overwritten() {
    // See: issue 11
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.toml", SMALL);
    // The same file spelled another way, and through a hard link.
    let spelled = dir.path().join("sub/../s.toml");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let hard = dir.path().join("hard.csv");
    std::fs::hard_link(&p, &hard).unwrap();
    for out in [&p, &spelled, &hard] {
        let o = run_with(&p, &["--timeline".as_ref(), out.as_os_str()]);
        refused(&o, out, "--timeline", "is the input");
    }
    let o = bin()
        .arg("sweep")
        .arg(&p)
        .args(["--trials", "2", "--out"])
        .arg(&p)
        .output()
        .unwrap();
    refused(&o, &p, "--out", "is the input");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), SMALL);

    // plot and merge: the output is one of the inputs.
    let svg = write(dir.path(), "t.svg", "time_s\n");
    let o = bin()
        .args(["plot", "timeline"])
        .arg(&svg)
        .arg("--out")
        .arg(&svg)
        .output()
        .unwrap();
    refused(&o, &svg, "--out", "is the input");
    let part = write(dir.path(), "part.csv", "x\n");
    let o = bin()
        .arg("merge")
        .arg(&part)
        .arg("--out")
        .arg(&part)
        .output()
        .unwrap();
    refused(&o, &part, "--out", "is the input");
    assert_eq!(std::fs::read_to_string(&part).unwrap(), "x\n");
    assert_eq!(
        listing(dir.path()),
        ["hard.csv", "part.csv", "s.toml", "sub", "t.svg"]
    );
}

#[test]
fn issue_11_two_outputs_naming_one_file_are_refused() {
    // See: issue 11
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.toml", SMALL);
    let a = dir.path().join("a.svg");
    let b = dir.path().join("sub/../a.svg");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let o = run_with(
        &p,
        &[
            "--timeline".as_ref(),
            a.as_os_str(),
            "--plot".as_ref(),
            b.as_os_str(),
        ],
    );
    refused(&o, &b, "--plot", "same file");
    assert_eq!(listing(dir.path()), ["s.toml", "sub"]);
}

#[test]
fn issue_11_svg_writers_refuse_other_extensions() {
    // See: issue 11
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.toml", SMALL);
    let csv = dir.path().join("t.csv");
    assert!(
        run_with(&p, &["--timeline".as_ref(), csv.as_os_str()])
            .status
            .success()
    );
    for name in ["x.png", "x", "x.svg.pdf"] {
        let out = dir.path().join(name);
        let o = bin()
            .args(["plot", "timeline"])
            .arg(&csv)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        refused(&o, &out, "--out", ".svg");
        let o = run_with(&p, &["--plot".as_ref(), out.as_os_str()]);
        refused(&o, &out, "--plot", ".svg");
    }
    assert_eq!(listing(dir.path()), ["s.toml", "t.csv"]);
    // Any case of `.svg` is fine.
    let out = dir.path().join("x.SVG");
    let o = bin()
        .args(["plot", "timeline"])
        .arg(&csv)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn issue_11_every_written_file_is_named_on_stderr() {
    // See: issue 11
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.toml", SMALL);
    let (csv, svg) = (dir.path().join("t.csv"), dir.path().join("t.svg"));
    let o = run_with(
        &p,
        &[
            "--timeline".as_ref(),
            csv.as_os_str(),
            "--plot".as_ref(),
            svg.as_os_str(),
        ],
    );
    assert!(o.status.success());
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(
        err,
        format!("wrote {}\nwrote {}\n", csv.display(), svg.display())
    );
    // --plot alone: its scratch timeline is gone afterwards.
    let only = dir.path().join("only.svg");
    let o = run_with(&p, &["--plot".as_ref(), only.as_os_str()]);
    assert_eq!(
        String::from_utf8(o.stderr).unwrap(),
        format!("wrote {}\n", only.display())
    );
    assert_eq!(std::fs::read(&only).unwrap(), std::fs::read(&svg).unwrap());

    let part = dir.path().join("p1.part");
    let o = bin()
        .arg("sweep")
        .arg(&p)
        .args(["--trials", "4", "--shard", "1/1", "--out"])
        .arg(&part)
        .output()
        .unwrap();
    assert!(
        String::from_utf8(o.stderr)
            .unwrap()
            .contains(&format!("wrote {}\n", part.display()))
    );
    let quiet = dir.path().join("q.csv");
    let o = bin()
        .arg("sweep")
        .arg(&p)
        .args(["--trials", "4", "--quiet", "--out"])
        .arg(&quiet)
        .output()
        .unwrap();
    assert!(o.status.success() && o.stderr.is_empty());
    let merged = dir.path().join("m.csv");
    let o = bin()
        .arg("merge")
        .arg(&part)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(o.stderr).unwrap(),
        format!("wrote {}\n", merged.display())
    );
    let plot = dir.path().join("tl.svg");
    let o = bin()
        .args(["plot", "timeline"])
        .arg(&csv)
        .arg("--out")
        .arg(&plot)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(o.stderr).unwrap(),
        format!("wrote {}\n", plot.display())
    );
    assert_eq!(
        listing(dir.path()),
        [
            "m.csv", "only.svg", "p1.part", "q.csv", "s.toml", "t.csv", "t.svg", "tl.svg"
        ]
    );
}
