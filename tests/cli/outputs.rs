//! Output files (issue 11 items 2, 3, 7): replay lines that reproduce the run,
//! every output path checked before any work, nothing damaged or left behind.

use super::{bin, scenarios, write};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SMALL: &str = r#"name = "small"
horizon = "30d"
seed = 3
[failures.node_crash]
every = "5d"
lasts = "1h"
"#;

/// Busy enough to run for minutes: only signals end it.
const ENDLESS: &str = r#"name = "endless"
horizon = "1000y"
[failures.node_crash]
every = "1s"
lasts = "1s"
"#;

/// The files in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
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

fn run_with(scenario: &Path, args: &[&std::ffi::OsStr]) -> Output {
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

#[test]
fn issue_11_a_failed_command_leaves_no_file() {
    // See: issue 11
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.csv", "not,a,sweep\n1,2,3\n");
    let out = dir.path().join("p.svg");
    let o = bin()
        .args(["plot", "sweep"])
        .arg(&bad)
        .args(["--x", "k", "--y", "p_data_loss", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(listing(dir.path()), ["bad.csv"]);
    let o = bin()
        .arg("merge")
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("m.csv"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(listing(dir.path()), ["bad.csv"]);
}

/// Starts an endless `run --timeline out.csv` in `dir` and waits until its
/// temporary file exists; returns the child and that file.
fn start_endless(dir: &Path) -> (std::process::Child, PathBuf) {
    let p = write(dir, "s.toml", ENDLESS);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("aurora-sim"))
        .arg("run")
        .arg(&p)
        .arg("--timeline")
        .arg(dir.join("out.csv"))
        // Endless on purpose: past the default event limit (issue 11).
        .args(["--max-events", "inf"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let tmp = dir.join(format!(".out.csv.aurora-sim-{}.tmp", child.id()));
    let start = Instant::now();
    // Some rows are streamed too, so the file is being written when the signal comes.
    while !tmp.metadata().is_ok_and(|m| m.len() > 100_000) {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("no temp file {}", tmp.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, tmp)
}

/// Waits for `child` to end; kills it (and fails) if it takes over a minute,
/// so a broken handler cannot leave an endless run behind.
fn wait_briefly(child: &mut std::process::Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run did not end on the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn issue_11_sigint_and_sigterm_remove_the_temp_file() {
    // See: issue 11
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let dir = tempfile::tempdir().unwrap();
        let (mut child, _) = start_endless(dir.path());
        // SAFETY: signalling our own child.
        assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
        let status = wait_briefly(&mut child);
        assert_eq!(status.signal(), Some(sig), "dies of the signal: {status:?}");
        assert_eq!(listing(dir.path()), ["s.toml"]);
    }
}

#[test]
fn issue_11_a_temp_file_left_by_sigkill_is_swept_by_the_next_write() {
    // See: issue 11
    let dir = tempfile::tempdir().unwrap();
    let (mut child, tmp) = start_endless(dir.path());
    child.kill().unwrap(); // SIGKILL: nothing can clean up
    child.wait().unwrap();
    assert!(tmp.exists());
    // A temp file of a live process (ours) is left alone.
    let live = dir
        .path()
        .join(format!(".out.csv.aurora-sim-{}.tmp", std::process::id()));
    std::fs::write(&live, "busy").unwrap();
    let small = write(dir.path(), "small.toml", SMALL);
    let out = dir.path().join("out.csv");
    let o = run_with(&small, &["--timeline".as_ref(), out.as_os_str()]);
    assert!(o.status.success());
    assert!(!tmp.exists(), "stale temp file swept");
    assert!(live.exists());
    std::fs::remove_file(&live).unwrap();
    assert_eq!(listing(dir.path()), ["out.csv", "s.toml", "small.toml"]);
}

#[test]
fn issue_11_the_timeline_of_a_shipped_scenario_is_unchanged() {
    // See: issue 11 (streaming). The bytes the in-memory writer produced
    // before streaming (scripted events only, so no model change of the
    // background processes moves them); src/output/timeline.rs compares the
    // two writers on every shipped scenario.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.csv");
    let sc = scenarios().join("az-plus-one.toml");
    let o = run_with(&sc, &["--timeline".as_ref(), out.as_os_str()]);
    assert!(o.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), AZ_PLUS_ONE);
}

const AZ_PLUS_ONE: &str = "\
time_s,event,target,up,current,write_available,read_available,data_loss_events,az-a-1,az-a-2,az-b-1,az-b-2,az-c-1,az-c-2\n\
0,start,,6,6,true,true,0,C,C,C,C,C,C\n\
3600,az-outage,az-a,4,4,true,true,0,D,D,C,C,C,C\n\
5400,node-crash,az-b-1,3,3,false,true,0,D,D,D,C,C,C\n\
6000,node-recover,az-b-1,4,4,true,true,0,D,D,C,C,C,C\n\
10800,az-recover,az-a,6,4,true,true,0,S,S,C,C,C,C\n\
10800,catch-up,az-a-1,6,5,true,true,0,C,S,C,C,C,C\n\
10800,catch-up,az-a-2,6,6,true,true,0,C,C,C,C,C,C\n\
21600,end,,6,6,true,true,0,C,C,C,C,C,C\n";
