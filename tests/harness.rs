//! The test harness itself, without hutch: the fixture rootfs, the probe,
//! temp-dir cleanup and the timeout guard. If these fail, every other
//! failure is suspect.
mod common;

use common::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;
use std::time::Duration;

#[test]
fn fixture_rootfs_runs_busybox_and_the_probe() {
    let fx = Fixture::new();
    // chroot(8) mounts nothing; it only proves the rootfs is self-contained.
    let out = run({
        let mut c = Command::new("chroot");
        c.arg(&fx.rootfs).args(["/bin/sh", "-c", "echo $((6*7)); /bin/probe args a 'b c'; ls /bin/busybox"]);
        c
    });
    out.ok();
    assert_eq!(out.lines(), ["42", "a", "b c", "/bin/busybox"], "{out}");
}

#[test]
fn probe_is_pid_1_and_sees_only_0_1_2_in_a_pid_namespace() {
    let out = run({
        let mut c = Command::new("unshare");
        c.args(["--pid", "--fork", "--mount-proc"]).arg(probe()).arg("pid");
        c
    });
    out.ok();
    assert_eq!(out.lines(), ["1"], "{out}");
    let out = run({
        let mut c = Command::new(probe());
        c.arg("fds");
        c
    });
    out.ok();
    assert!(out.lines().starts_with(&["0", "1", "2"]), "{out}");
}

#[test]
fn fixture_is_removed_on_drop_even_after_a_panic() {
    let mut seen = None;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let fx = Fixture::new();
        seen = Some(fx.rootfs.clone());
        panic!("test failure inside a fixture");
    }));
    assert!(result.is_err());
    let rootfs = seen.unwrap();
    assert!(!rootfs.exists() && !rootfs.parent().unwrap().exists(), "{} was left behind", rootfs.display());
}

#[test]
fn timeout_guard_kills_a_hang_and_its_children() {
    let fx = Fixture::new();
    let pidfile = fx.outside("child.pid");
    let script = format!("sleep 30 & echo $! > {}; echo ready; wait", pidfile.display());
    let mut r = spawn_with_timeout(
        {
            let mut c = Command::new("sh");
            c.args(["-c", &script]);
            c
        },
        Duration::from_secs(2),
    );
    r.wait_for_line("ready");
    let pid = r.pid();
    let sleeper = std::fs::read_to_string(&pidfile).unwrap().trim().to_string();
    let result = catch_unwind(AssertUnwindSafe(move || r.wait()));
    let msg = result.err().and_then(|e| e.downcast::<String>().ok()).expect("wait() should panic");
    assert!(msg.contains("did not exit"), "{msg}");
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "the hung process is still there");
    // SIGKILL takes effect when the process next runs, and init reaps it
    // later still: give it a while to be gone or a zombie.
    let state = || {
        let stat = std::fs::read_to_string(format!("/proc/{sleeper}/stat")).unwrap_or_default();
        stat.rsplit_once(')').and_then(|(_, r)| r.trim_start().chars().next())
    };
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    while !matches!(state(), None | Some('Z')) && std::time::Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(matches!(state(), None | Some('Z')), "its child {sleeper} is still running: {:?}", state());
}
