//! The container lifecycle: `--init`, and (later) named and detached containers.
mod common;

use common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// --init

#[test]
fn init_makes_the_command_pid_2_under_hutchs_pid_1() {
    let fx = Fixture::new();
    let out = fx.sh(&["--init"], "echo $$; cat /proc/1/comm");
    out.ok();
    assert_eq!(out.lines(), ["2", "hutch"], "{out}");
}

#[test]
fn without_init_the_command_is_pid_1() {
    let fx = Fixture::new();
    let out = fx.sh(&[], "echo $$");
    out.ok();
    assert_eq!(out.lines(), ["1"], "{out}");
}

/// The inner sh exits at once, orphaning its background sleep to PID 1; once the sleep
/// exits it stays a zombie unless PID 1 waits for it. The outer sh (PID 2) is busy in its own
/// `sleep 1` meanwhile, and never waits for what is not its child.
#[test]
fn init_reaps_an_orphaned_grandchild() {
    let fx = Fixture::new();
    let script = r#"sh -c "sleep 0.2 &"; sleep 1.5; for s in /proc/[0-9]*/stat; do read -r l < $s && echo "$l"; done"#;
    let out = fx.sh(&["--init"], script);
    out.ok();
    let states: Vec<&str> =
        out.lines().iter().map(|l| l.rsplit_once(") ").expect("a stat line").1.split(' ').next().unwrap()).collect();
    assert!(states.len() >= 2, "{out}");
    assert!(!states.contains(&"Z"), "a zombie is left:\n{out}");
}

#[test]
fn init_passes_the_exit_status_through() {
    let fx = Fixture::new();
    for (script, code) in [("exit 0", 0), ("exit 3", 3), ("exit 255", 255), ("kill -9 $$", 137)] {
        fx.sh(&["--init"], script).assert_code(code);
    }
    let out = fx.run(&["--init"], &["/bin/nonexistent"]);
    assert_error(&out, 127, "/bin/nonexistent");
}

#[test]
fn sigterm_to_hutch_reaches_the_command_under_init() {
    let fx = Fixture::new();
    let mut r = fx.spawn(&["--init"], &["/bin/sh", "-c", r#"trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done"#]);
    r.wait_for_line("ready");
    r.signal("TERM");
    let out = r.wait();
    out.assert_code(7);
    assert!(contains(&out.lines(), "got-TERM"), "{out}");
    // Without a trap: as PID 2 the shell is not protected like a PID 1, so TERM kills it.
    let mut r = fx.spawn(&["--init"], &["/bin/sh", "-c", "echo ready; while :; do sleep 0.1; done"]);
    r.wait_for_line("ready");
    r.signal("TERM");
    r.wait().assert_code(128 + 15);
}

/// The init runs under the command's confinement and keeps only fds 0-2.
#[test]
fn init_is_confined_like_the_command_and_holds_only_fds_0_1_2() {
    let fx = Fixture::new();
    let out = fx.sh(&["--init"], "grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/1/status; echo --; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/2/status; echo --; ls /proc/1/fd");
    out.ok();
    let text = out.stdout.clone();
    let parts: Vec<&str> = text.split("--\n").collect();
    assert_eq!(parts.len(), 3, "{out}");
    assert_eq!(parts[0], parts[1], "init and command differ:\n{out}");
    assert!(parts[0].contains("Seccomp:\t2") && parts[0].contains("NoNewPrivs:\t1"), "{out}");
    assert_eq!(parts[2].split_whitespace().collect::<Vec<_>>(), ["0", "1", "2"], "{out}");
}

// ---------------------------------------------------------------------------
// Named and detached containers. Each test has a state directory of its own (--root).

/// A state directory and a rootfs for a test.
struct Lab {
    fx: Fixture,
    state: TempDir,
}

impl Lab {
    fn new() -> Lab {
        Lab { fx: Fixture::new(), state: TempDir::new() }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(HUTCH);
        c.arg("--root").arg(self.state.path()).args(args);
        c
    }

    fn hutch(&self, args: &[&str]) -> Output {
        run(self.cmd(args))
    }

    /// `hutch run -d OPTS ROOTFS CMD...`; returns the printed name.
    fn detach(&self, opts: &[&str], cmd: &[&str]) -> String {
        let mut c = self.cmd(&["run", "-d"]);
        c.args(opts).arg(&self.fx.rootfs).args(cmd);
        let out = run(c);
        out.ok();
        assert_eq!(out.lines().len(), 1, "{out}");
        out.stdout.trim().to_owned()
    }

    /// `ps` as (name, pid, status) rows.
    fn ps(&self) -> Vec<(String, u32, String)> {
        let out = self.hutch(&["ps"]);
        out.ok();
        let lines = out.lines();
        assert!(lines[0].starts_with("NAME"), "{out}");
        lines[1..]
            .iter()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let status = if f[2] == "exited" { format!("exited {}", f[3]) } else { f[2].to_owned() };
                (f[0].to_owned(), f[1].parse().unwrap(), status)
            })
            .collect()
    }

    fn status(&self, name: &str) -> String {
        self.ps().into_iter().find(|r| r.0 == name).unwrap_or_else(|| panic!("{name} not in ps")).2
    }

    fn state_entries(&self) -> Vec<String> {
        dir_names(self.state.path())
    }
}

impl Drop for Lab {
    /// Leaves nothing running, also when a test fails.
    fn drop(&mut self) {
        for name in self.state_entries() {
            if name != "lock" {
                let _ = Command::new(HUTCH).arg("--root").arg(self.state.path()).args(["rm", "-f", &name]).output();
            }
        }
    }
}

fn gone(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z')),
    }
}

const LOOP: &str = r#"echo started-$0; trap "echo bye; exit 3" TERM; while :; do sleep 0.1; done"#;

#[test]
fn detached_containers_run_list_log_stop_kill_wait_and_rm() {
    let lab = Lab::new();
    let a = lab.detach(&["--name", "a"], &["/bin/sh", "-c", LOOP, "a"]);
    let b = lab.detach(&["--name", "b", "-h", "bee"], &["/bin/sh", "-c", "hostname; echo $$; exec sleep 100"]);
    let c = lab.detach(&[], &["/bin/sh", "-c", "sleep 0.5; exit 5"]);
    assert_eq!((a.as_str(), b.as_str()), ("a", "b"));
    assert!(c.len() == 8 && c.bytes().all(|ch| ch.is_ascii_hexdigit()), "a generated short id: {c}");

    let rows = lab.ps();
    assert_eq!(rows.len(), 3, "{rows:?}");
    for (name, pid, status) in &rows {
        assert_eq!(status, "running", "{name}: {rows:?}");
        assert!(!gone(*pid), "{name}'s pid {pid} is not alive");
    }
    // The log has what the container wrote, and the pid is the container's PID 1.
    let deadline = Instant::now() + TIMEOUT;
    while !lab.hutch(&["logs", "b"]).stdout.contains("bee\n1\n") {
        assert!(Instant::now() < deadline, "{}", lab.hutch(&["logs", "b"]));
        thread::sleep(Duration::from_millis(20));
    }

    let out = lab.hutch(&["stop", "a"]);
    out.ok();
    assert_eq!(out.lines(), ["a"], "{out}");
    assert_eq!(lab.status("a"), "exited (3)");
    assert_eq!(lab.hutch(&["logs", "a"]).stdout, "started-a\nbye\n");

    let pid_b = lab.ps().into_iter().find(|r| r.0 == "b").unwrap().1;
    lab.hutch(&["kill", "b", "TERM"]).ok(); // PID 1 without a handler: ignored
    thread::sleep(Duration::from_millis(200));
    assert_eq!(lab.status("b"), "running");
    lab.hutch(&["kill", "b"]).ok(); // KILL by default
    let out = lab.hutch(&["wait", "b"]);
    out.ok();
    assert_eq!(out.lines(), ["137"], "{out}");
    assert!(gone(pid_b));

    let out = lab.hutch(&["wait", &c]);
    assert_eq!(out.lines(), ["5"], "{out}");
    assert_eq!(lab.status(&c), "exited (5)");

    for name in ["a", "b", c.as_str()] {
        lab.hutch(&["rm", name]).ok();
    }
    assert_eq!(lab.state_entries(), ["lock"]);
    assert_eq!(lab.ps(), []);
}

#[test]
fn a_state_directory_is_made_with_its_parents() {
    let lab = Lab::new();
    let deep = lab.state.path().join("a/b/state");
    let mut c = Command::new(HUTCH);
    c.arg("--root").arg(&deep).args(["run", "--name", "deep"]).arg(&lab.fx.rootfs).args(["true"]);
    run(c).ok();
    let mode = fs::metadata(&deep).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the state directory itself is private");
    let mut c = Command::new(HUTCH);
    c.arg("--root").arg(&deep).args(["rm", "deep"]);
    run(c).ok();
}

#[test]
fn ps_format_json() {
    let lab = Lab::new();
    lab.detach(&["--name", "j"], &["/bin/sh", "-c", "exec sleep 100", "quote\"back\\slash"]);
    let out = lab.hutch(&["ps", "--format", "json"]);
    out.ok();
    let text = out.stdout.trim();
    assert!(text.starts_with("[{\"name\":\"j\",\"pid\":") && text.ends_with("}]"), "{out}");
    assert!(text.contains("\"status\":\"running\",\"exit_code\":null"), "{out}");
    assert!(text.contains(r#""command":"/bin/sh -c exec sleep 100 quote\"back\\slash""#), "{out}");
    lab.hutch(&["stop", "-t", "0", "j"]).ok();
    let out = lab.hutch(&["ps", "--format=json"]);
    assert!(out.stdout.contains("\"status\":\"exited\",\"exit_code\":137"), "{out}");
}

#[test]
fn a_named_foreground_run_is_listed_with_its_exit_status() {
    let lab = Lab::new();
    let mut c = lab.cmd(&["run", "--name", "fg"]);
    c.arg(&lab.fx.rootfs).args(["/bin/sh", "-c", "echo out; exit 4"]);
    let out = run(c);
    out.assert_code(4);
    assert_eq!(out.lines(), ["out"], "in the foreground, output is hutch's");
    assert_eq!(lab.status("fg"), "exited (4)");
}

#[test]
fn names_are_unique_and_unknown_names_are_clear_errors() {
    let lab = Lab::new();
    lab.detach(&["--name", "x"], &["/bin/sleep", "100"]);
    let mut c = lab.cmd(&["run", "-d", "--name", "x"]);
    c.arg(&lab.fx.rootfs).arg("/bin/true");
    assert_error(&run(c), 125, "x");
    for args in [&["stop", "nope"][..], &["kill", "nope"], &["rm", "nope"], &["wait", "nope"], &["logs", "nope"]] {
        let out = lab.hutch(args);
        assert_error(&out, 125, "nope");
        assert!(out.stderr.contains("no such container"), "{out}");
    }
    let mut c = lab.cmd(&["run", "--name", "../up"]);
    c.arg(&lab.fx.rootfs).arg("/bin/true");
    assert_error(&run(c), 125, "../up");
    assert_error(&lab.hutch(&["kill", "x", "BOGUS"]), 125, "BOGUS");
    // A running container is not removed without -f.
    assert_error(&lab.hutch(&["rm", "x"]), 125, "x");
    lab.hutch(&["rm", "-f", "x"]).ok();
    assert_eq!(lab.state_entries(), ["lock"]);
    // A failed start leaves no entry, and the error is the run's.
    let mut c = lab.cmd(&["run", "-d", "--name", "bad"]);
    c.arg(&lab.fx.rootfs).arg("/bin/nonexistent");
    assert_error(&run(c), 127, "/bin/nonexistent");
    assert_eq!(lab.state_entries(), ["lock"]);
}

#[test]
fn stop_kills_after_the_timeout() {
    let lab = Lab::new();
    // PID 1 without a handler ignores SIGTERM: stop must fall back to SIGKILL.
    lab.detach(&["--name", "deaf"], &["/bin/sh", "-c", "while :; do sleep 0.1; done"]);
    let t = Instant::now();
    lab.hutch(&["stop", "-t", "1", "deaf"]).ok();
    assert!(t.elapsed() >= Duration::from_millis(900), "stopped before the timeout");
    assert_eq!(lab.status("deaf"), "exited (137)");
}

/// The container dies with its supervisor; the entry then shows as exited, never as running,
/// and can still be stopped and removed.
#[test]
fn a_killed_supervisor_leaves_an_exited_removable_entry() {
    let lab = Lab::new();
    lab.detach(&["--name", "orphan"], &["/bin/sleep", "100"]);
    let state = fs::read_to_string(lab.state.path().join("orphan/state")).unwrap();
    let field = |k: &str| -> u32 { state.lines().find_map(|l| l.strip_prefix(&format!("{k} "))).unwrap().parse().unwrap() };
    let (pid, sup) = (field("pid"), field("supervisor"));
    send_signal(sup, "KILL");
    let deadline = Instant::now() + TIMEOUT;
    while !gone(pid) {
        assert!(Instant::now() < deadline, "the container outlived its supervisor");
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(lab.status("orphan"), "exited (?)");
    lab.hutch(&["stop", "orphan"]).ok();
    assert_error(&lab.hutch(&["wait", "orphan"]), 125, "orphan");
    lab.hutch(&["rm", "orphan"]).ok();
    assert_eq!(lab.state_entries(), ["lock"]);
}

#[test]
fn twenty_parallel_detached_runs_leave_a_consistent_state_dir() {
    let lab = Lab::new();
    let names: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
    let outs: Vec<Output> = thread::scope(|s| {
        let hs: Vec<_> = names
            .iter()
            .map(|n| {
                let lab = &lab;
                s.spawn(move || {
                    let mut c = lab.cmd(&["run", "-d", "--name", n]);
                    c.arg(&lab.fx.rootfs).args(["/bin/sh", "-c", LOOP, n]);
                    run(c)
                })
            })
            .collect();
        // ps meanwhile must never fail nor show a half-written entry.
        for _ in 0..5 {
            lab.hutch(&["ps"]).ok();
        }
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for o in &outs {
        o.ok();
    }
    let rows = lab.ps();
    assert_eq!(rows.iter().map(|r| r.0.clone()).collect::<std::collections::BTreeSet<_>>(), names.iter().cloned().collect());
    assert!(rows.iter().all(|r| r.2 == "running"), "{rows:?}");
    let pids: Vec<u32> = rows.iter().map(|r| r.1).collect();
    thread::scope(|s| {
        for n in &names {
            let lab = &lab;
            s.spawn(move || lab.hutch(&["stop", n]).ok().stdout.clone());
        }
    });
    assert!(lab.ps().iter().all(|r| r.2 == "exited (3)"), "{:?}", lab.ps());
    assert!(pids.iter().all(|&p| gone(p)));
    thread::scope(|s| {
        for n in &names {
            let lab = &lab;
            s.spawn(move || lab.hutch(&["rm", n]).ok().stdout.clone());
        }
    });
    assert_eq!(lab.state_entries(), ["lock"]);
}

// ---------------------------------------------------------------------------
// exec

/// exec's command is in the container: its hostname, its PID namespace (PID 1 is the
/// container's), its mounts (a file on its private tmpfs), its cgroups and its confinement.
#[test]
fn exec_sees_the_containers_hostname_pids_mounts_cgroup_and_capabilities() {
    let lab = Lab::new();
    let script = "echo secret > /tmp/marker; echo ready; exec sleep 100";
    lab.detach(&["--name", "box", "-h", "boxhost", "--tmpfs", "/tmp", "--cgroup", "--cap-drop", "chown", "-e", "FROM_RUN=1"], &["/bin/sh", "-c", script]);
    let deadline = Instant::now() + TIMEOUT;
    while !lab.hutch(&["logs", "box"]).stdout.contains("ready") {
        assert!(Instant::now() < deadline, "the container did not start");
        thread::sleep(Duration::from_millis(20));
    }
    let check = r#"hostname; echo pid=$$; cat /proc/1/comm; cat /tmp/marker; echo FROM_RUN=$FROM_RUN X=$X
pat='^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):'
if [ "$(grep -E "$pat" /proc/self/status)" = "$(grep -E "$pat" /proc/1/status)" ]; then echo same-confinement; fi
if [ "$(cat /proc/self/cgroup)" = "$(cat /proc/1/cgroup)" ]; then echo same-cgroups; fi
if [ "$(cat /proc/self/mountinfo)" = "$(cat /proc/1/mountinfo)" ]; then echo same-mounts; fi
grep CapEff /proc/self/status; ls /proc/self/fd"#;
    let out = lab.hutch(&["exec", "-e", "X=y", "box", "/bin/sh", "-c", check]);
    out.ok();
    let lines = out.lines();
    assert_eq!(lines[..8], ["boxhost", "pid=2", "sleep", "secret", "FROM_RUN=1 X=y", "same-confinement", "same-cgroups", "same-mounts"], "{out}");
    assert_eq!(lines[8], "CapEff:\t00000000a80425fa", "Docker's default set less CAP_CHOWN\n{out}");
    assert_eq!(lines[9..], ["0", "1", "2", "3"], "only 0-2 (and ls's own directory fd)\n{out}");
    // The host's view is unchanged: it is not the host's hostname or mounts that exec saw.
    let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_ne!(host.trim(), "boxhost");
}

#[test]
fn exec_status_user_workdir_and_errors() {
    let lab = Lab::new();
    lab.detach(&["--name", "e"], &["/bin/sleep", "100"]);
    let out = lab.hutch(&["exec", "-u", "1:1", "-w", "/bin", "e", "/bin/sh", "-c", "id -u; id -g; pwd; exit 7"]);
    out.assert_code(7);
    assert_eq!(out.lines(), ["1", "1", "/bin"], "{out}");
    // HOME: the exec user's home, as `run -u` gives (docker exec's rule), unless set.
    lab.fx.write_root("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
    for (args, home) in [(&[][..], "/root"), (&["-u", "alice"], "/home/alice"), (&["-u", "77"], "/"), (&["-u", "alice", "-e", "HOME=/x"], "/x")] {
        let out = lab.hutch(&[&["exec"], args, &["e", "/bin/sh", "-c", "echo $HOME"]].concat());
        assert_eq!(out.stdout, format!("{home}\n"), "{args:?}: {out}");
    }
    lab.detach(&["--name", "h", "-e", "HOME=/given"], &["/bin/sleep", "100"]);
    let out = lab.hutch(&["exec", "-u", "alice", "h", "/bin/sh", "-c", "echo $HOME"]);
    assert_eq!(out.stdout, "/given\n", "the container's own HOME stays: {out}");
    lab.hutch(&["rm", "-f", "h"]).ok();
    assert_error(&lab.hutch(&["exec", "e", "/bin/nonexistent"]), 127, "/bin/nonexistent");
    assert_error(&lab.hutch(&["exec", "nope", "/bin/true"]), 125, "nope");
    assert_error(&lab.hutch(&["exec", "e"]), 125, "exec");
    lab.hutch(&["stop", "-t", "0", "e"]).ok();
    let out = lab.hutch(&["exec", "e", "/bin/true"]);
    assert_error(&out, 125, "e");
    assert!(out.stderr.contains("not running"), "{out}");
}

// ---------------------------------------------------------------------------
// -t: a terminal for the container, driven here through script(1), which runs hutch on a
// pseudo-terminal of its own and passes the test's input to it.

/// A fixture with busybox's tty and stty too.
fn tty_fixture() -> Fixture {
    let fx = Fixture::new();
    for applet in ["tty", "stty"] {
        std::os::unix::fs::symlink("busybox", fx.root(&format!("bin/{applet}"))).unwrap();
    }
    fx
}

fn under_script(fx: &Fixture, shell_line: &str, input: &str) -> Output {
    let stdin = fx.write_outside("tty-input", input);
    let mut c = Command::new("script");
    c.args(["-qec", shell_line, "/dev/null"]);
    let out = run_with_stdin(c, &stdin);
    Output { stdout: out.stdout.replace('\r', ""), ..out }
}

#[test]
fn tty_gives_the_container_a_terminal_of_its_own() {
    let fx = tty_fixture();
    let line = format!("{HUTCH} run -t {} /bin/sh", fx.root_str());
    let out = under_script(&fx, &line, "tty; echo $((6*7)); echo pgid=$(cut -d' ' -f8 /proc/$$/stat) sid=$(cut -d' ' -f6 /proc/$$/stat)\nexit 3\n");
    out.assert_code(3);
    let lines = out.lines();
    assert!(contains(&lines, "/dev/pts/0"), "tty inside names the container's /dev/pts/0\n{out}");
    assert!(contains(&lines, "42"), "the typed command ran\n{out}");
    // The shell is a session leader on it: the terminal is its controlling one.
    assert!(contains(&lines, "pgid=1 sid=1"), "{out}");
    // Without -t the container has hutch's stdio (here /dev/null), no terminal.
    let out = fx.sh(&[], "tty");
    assert_eq!(out.lines(), ["not a tty"], "{out}");
}

#[test]
fn tty_mode_is_restored_and_a_window_size_is_passed() {
    let fx = tty_fixture();
    let line = format!("stty cols 91 rows 33; stty -g; {HUTCH} run -t {} /bin/stty size; stty -g", fx.root_str());
    let out = under_script(&fx, &line, "");
    out.ok();
    // script(1) passes the end of its (empty) input on as a NUL, echoed as ^@.
    let lines: Vec<&str> = out.lines().into_iter().map(|l| l.trim_start_matches("^@")).filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[1], "33 91", "{out}");
    assert_eq!(lines[0], lines[2], "the terminal's mode after hutch differs\n{out}");
}

#[test]
fn tty_and_detach_do_not_combine() {
    let fx = Fixture::new();
    let state = TempDir::new();
    let mut c = Command::new(HUTCH);
    c.arg("--root").arg(state.path()).args(["run", "-t", "-d"]).arg(&fx.rootfs).arg("/bin/true");
    assert_error(&run(c), 125, "-d");
}

#[test]
fn exec_tty_gives_the_command_a_terminal_in_the_container() {
    let lab = Lab { fx: tty_fixture(), state: TempDir::new() };
    lab.detach(&["--name", "t"], &["/bin/sleep", "100"]);
    let line = format!("{HUTCH} --root {} exec -t t /bin/sh", as_str(lab.state.path()));
    let out = under_script(&lab.fx, &line, "tty; echo pid=$$; echo $((6*7))\nexit 4\n");
    out.assert_code(4);
    let lines = out.lines();
    assert!(contains(&lines, "/dev/pts/0") && contains(&lines, "pid=2") && contains(&lines, "42"), "{out}");
}

#[test]
fn logs_follow_returns_when_the_container_ends() {
    let lab = Lab::new();
    lab.detach(&["--name", "f"], &["/bin/sh", "-c", "echo one; sleep 0.5; echo two >&2; sleep 0.3; echo three; exit 2"]);
    let out = lab.hutch(&["logs", "-f", "f"]);
    out.ok();
    assert_eq!(out.stdout, "one\ntwo\nthree\n", "stdout and stderr, in order, to the end\n{out}");
    assert_eq!(lab.status("f"), "exited (2)");
}
