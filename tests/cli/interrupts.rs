//! Output files when a run fails or is interrupted (issue 11 item 7): a
//! failed command, SIGINT, SIGTERM or SIGKILL leaves no file behind, and the
//! timeline bytes of a shipped scenario stay as they were.

use super::outputs::{ENDLESS, SMALL, listing, run_with};
use super::{bin, scenarios, write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
