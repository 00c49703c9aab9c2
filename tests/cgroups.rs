//! Resource limits against the real kernel: each test runs the hutch binary with a limit and
//! checks what the kernel enforced and what is left in the cgroup filesystems afterwards. They
//! run on whatever this host mounts (v1, v2 or hybrid) and find the container's cgroups the
//! way hutch does: under the test process's own cgroups, as `hutch-<pid of hutch>`.
//!
//! Helpers are kept in this file. The tests run as root on a shared machine: they touch only
//! their own temp dirs and the cgroups hutch made for them, and signal only processes they
//! started.
mod common;

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

const HUTCH: &str = env!("CARGO_BIN_EXE_hutch");
const TIMEOUT: Duration = Duration::from_secs(30);
const APPLETS: &[&str] = &["sh", "cat", "echo", "grep", "sleep", "read", "true"];

// ---------------------------------------------------------------------------
// The rootfs and the probe

/// A temp dir with a busybox rootfs and the probe, removed on drop.
struct Rootfs(PathBuf);

impl Rootfs {
    fn new() -> Rootfs {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("hutch-cgtest-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        let bin = dir.join("bin");
        fs::create_dir_all(&bin).unwrap();
        copy_executable(Path::new("/usr/bin/busybox"), &bin.join("busybox"));
        for a in APPLETS {
            symlink("busybox", bin.join(a)).unwrap();
        }
        copy_executable(probe(), &bin.join("probe"));
        Rootfs(dir)
    }
}

impl Drop for Rootfs {
    fn drop(&mut self) {
        // Nothing is ever mounted below it from this namespace: hutch's mounts live in the
        // container's own mount namespace.
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn copy_executable(from: &Path, to: &Path) {
    fs::copy(from, to).unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
    fs::set_permissions(to, fs::Permissions::from_mode(0o755)).unwrap();
}

/// tests/probe/cgroups.rs, compiled once per test process.
fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| common::build_probe("cgroups"))
}

// ---------------------------------------------------------------------------
// Running hutch

struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Output {
    fn code(&self) -> i32 {
        self.status.code().unwrap_or_else(|| panic!("hutch died of a signal\n{}", self.show()))
    }

    fn show(&self) -> String {
        format!("status {}\n--- stdout:\n{}--- stderr:\n{}---", self.status, self.stdout, self.stderr)
    }

    #[track_caller]
    fn expect(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "unexpected exit status\n{}", self.show());
        self
    }
}

/// A running hutch with its stdin open: the container can wait for the test with `read`.
struct Running {
    child: Child,
    stdout: std::sync::mpsc::Receiver<String>,
    seen: String,
    stderr: thread::JoinHandle<String>,
    deadline: Instant,
}

fn spawn(root: &Rootfs, opts: &[&str], cmd: &[&str]) -> Running {
    let mut child = Command::new(HUTCH)
        .arg("run")
        .args(opts)
        .arg(&root.0)
        .args(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hutch");
    let (tx, rx) = std::sync::mpsc::channel();
    let mut out = child.stdout.take().unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = out.read(&mut buf) {
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    });
    let mut err = child.stderr.take().unwrap();
    let stderr = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    Running { child, stdout: rx, seen: String::new(), stderr, deadline: Instant::now() + TIMEOUT }
}

fn run(root: &Rootfs, opts: &[&str], cmd: &[&str]) -> Output {
    let r = spawn(root, opts, cmd);
    let pid = r.pid();
    let out = r.wait();
    assert_nothing_left(pid);
    out
}

impl Running {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Blocks until the container printed `line`.
    fn wait_for(&mut self, line: &str) {
        while !self.seen.lines().any(|l| l == line) {
            let left = self.deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(s) => self.seen += &s,
                Err(e) => {
                    self.kill();
                    panic!("waiting for {line:?}: {e:?}; stdout so far:\n{}", self.seen);
                }
            }
        }
    }

    /// Lets a container that is blocked in `read` go on.
    fn release(&mut self) {
        let _ = self.child.stdin.take().unwrap().write_all(b"go\n");
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill").arg(format!("-{sig}")).arg(self.pid().to_string()).status().unwrap().success();
        assert!(ok, "kill -{sig} {}", self.pid());
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn wait(mut self) -> Output {
        drop(self.child.stdin.take());
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > self.deadline {
                self.kill();
                panic!("hutch did not exit within {TIMEOUT:?}; stdout:\n{}", self.seen);
            }
            thread::sleep(Duration::from_millis(5));
        };
        // Output ends when the container's last process is gone.
        while let Ok(s) = self.stdout.recv_timeout(Duration::from_secs(5)) {
            self.seen += &s;
        }
        Output { status, stdout: std::mem::take(&mut self.seen), stderr: self.stderr.join().unwrap() }
    }
}

// ---------------------------------------------------------------------------
// The host's cgroups

/// A cgroup hierarchy mounted on the host: its mount point, its controllers (empty for v2),
/// and the test process's cgroup in it, which hutch inherits and creates under.
struct Hierarchy {
    mount: PathBuf,
    controllers: Vec<String>,
    own: PathBuf,
}

fn hierarchies() -> Vec<Hierarchy> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let own = fs::read_to_string("/proc/self/cgroup").unwrap();
    let mut found = Vec::new();
    for line in mountinfo.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let Some(dash) = f.iter().position(|x| *x == "-") else { continue };
        let (fstype, opts) = (f[dash + 1], f.get(dash + 3).copied().unwrap_or(""));
        let controllers: Vec<String> = match fstype {
            "cgroup2" => Vec::new(),
            "cgroup" => opts.split(',').filter(|o| !matches!(*o, "rw" | "ro") && !o.starts_with("name=")).map(String::from).collect(),
            _ => continue,
        };
        if fstype == "cgroup" && controllers.is_empty() {
            continue;
        }
        let path = own.lines().find_map(|l| {
            let mut p = l.splitn(3, ':');
            let (id, names, path) = (p.next()?, p.next()?, p.next()?);
            let mut names: Vec<&str> = names.split(',').filter(|n| !n.is_empty() && !n.starts_with("name=")).collect();
            names.sort();
            let mut want: Vec<&str> = controllers.iter().map(String::as_str).collect();
            want.sort();
            ((fstype == "cgroup2" && id == "0") || (fstype == "cgroup" && names == want)).then(|| path.to_string())
        });
        let Some(path) = path else { continue };
        found.push(Hierarchy { mount: PathBuf::from(f[4]), controllers, own: PathBuf::from(path.trim_start_matches('/')) });
    }
    found
}

/// The container's cgroup directory for `controller` ("" for the v2 hierarchy), whether or
/// not it exists.
fn container_cgroup(hutch: u32, controller: &str) -> PathBuf {
    let hs = hierarchies();
    let h = hs
        .iter()
        .find(|h| if controller.is_empty() { h.controllers.is_empty() } else { h.controllers.iter().any(|c| c == controller) })
        .unwrap_or_else(|| panic!("no hierarchy with {controller:?} on this host"));
    h.mount.join(&h.own).join(format!("hutch-{hutch}"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).trim_end().to_string()
}

/// The number on a `key N` line of a cgroup stat file.
fn stat(text: &str, key: &str) -> u64 {
    text.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.parse().ok()).unwrap_or_else(|| panic!("no {key} in {text}"))
}

/// Directories named `hutch-<pid>` anywhere in the mounted cgroup hierarchies.
fn leftovers(hutch: u32) -> Vec<PathBuf> {
    fn walk(dir: &Path, name: &str, depth: u32, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            if !e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            if e.file_name() == name {
                out.push(e.path());
            }
            if depth > 0 {
                walk(&e.path(), name, depth - 1, out);
            }
        }
    }
    let mut out = Vec::new();
    for h in hierarchies() {
        walk(&h.mount, &format!("hutch-{hutch}"), 8, &mut out);
    }
    out
}

#[track_caller]
fn assert_nothing_left(hutch: u32) {
    let left = leftovers(hutch);
    assert!(left.is_empty(), "hutch left cgroups behind: {left:?}");
}

// ---------------------------------------------------------------------------
// Limits

#[test]
fn pids_limit_makes_forks_fail_with_eagain() {
    let root = Rootfs::new();
    let out = run(&root, &["--pids", "20"], &["/bin/probe", "spawn", "200"]);
    out.expect(0);
    // The probe is one of the 20.
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), ["spawned 19", "error 11"], "{}", out.show());
    // The host itself still forks.
    assert!(Command::new("true").status().unwrap().success());
}

#[test]
fn without_a_pids_limit_the_probe_spawns_them_all() {
    // The control for the test above: the probe's count comes from the limit.
    let root = Rootfs::new();
    let out = run(&root, &[], &["/bin/probe", "spawn", "30"]);
    out.expect(0);
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), ["spawned 30", "no error"], "{}", out.show());
}

#[test]
fn memory_limit_oom_kills_with_137_and_says_so() {
    let root = Rootfs::new();
    let out = run(&root, &["--memory", "32m"], &["/bin/probe", "alloc", "64"]);
    out.expect(137);
    assert!(!out.stdout.contains("survived"), "{}", out.show());
    assert_eq!(out.stderr, "hutch: container killed: out of memory (limit 32M)\n", "{}", out.show());
}

#[test]
fn memory_within_the_limit_is_fine() {
    let root = Rootfs::new();
    let out = run(&root, &["--memory", "64m"], &["/bin/probe", "alloc", "16"]);
    out.expect(0);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("survived\n", ""), "{}", out.show());
}

#[test]
fn cpus_set_quota_and_period_and_throttle_a_busy_loop() {
    let root = Rootfs::new();
    // 300 ms of CPU time at half a CPU spans at least six 100 ms periods, each cut short.
    // The highest share makes the spinner win the CPU it asks for however busy the machine
    // is, up to its quota, which keeps it at half a CPU.
    let opts = ["--cpus", "0.5", "--cpu-shares", "262144"];
    let mut r = spawn(&root, &opts, &["/bin/sh", "-c", "/bin/probe spin 300; echo done; read x"]);
    r.wait_for("done");
    let dir = container_cgroup(r.pid(), "cpu");
    let (quota, period, stat_text) = (read(&dir.join("cpu.cfs_quota_us")), read(&dir.join("cpu.cfs_period_us")), read(&dir.join("cpu.stat")));
    r.release();
    let pid = r.pid();
    let out = r.wait();
    out.expect(0);
    assert_nothing_left(pid);
    assert_eq!((quota.as_str(), period.as_str()), ("50000", "100000"));
    assert!(stat(&stat_text, "nr_throttled") >= 3 && stat(&stat_text, "throttled_time") > 0, "not throttled:\n{stat_text}");
    // At most half of the wall-clock time, give or take a period: a bound that a loaded
    // machine cannot break, only a missing limit.
    let spun: Vec<u64> = out.stdout.lines().next().unwrap().split(' ').skip(1).map(|n| n.parse().unwrap()).collect();
    let (cpu, wall) = (spun[0], spun[1]);
    assert!(cpu <= wall / 2 + 120, "{cpu} ms of CPU in {wall} ms: more than half a CPU\n{}", out.show());
}

#[test]
fn cpu_shares_and_weight() {
    let root = Rootfs::new();
    for (opt, value, want) in [("--cpu-shares", "512", "512"), ("--cpu-weight", "100", "2597")] {
        let mut r = spawn(&root, &[opt, value], &["/bin/sh", "-c", "echo ready; read x"]);
        r.wait_for("ready");
        let shares = read(&container_cgroup(r.pid(), "cpu").join("cpu.shares"));
        r.release();
        let pid = r.pid();
        r.wait().expect(0);
        assert_nothing_left(pid);
        assert_eq!(shares, want, "{opt} {value}");
    }
}

#[test]
fn cpuset_pins_the_container() {
    let root = Rootfs::new();
    let out = run(&root, &["--cpuset-cpus", "0"], &["/bin/grep", "Cpus_allowed_list", "/proc/self/status"]);
    out.expect(0);
    assert_eq!(out.stdout, "Cpus_allowed_list:\t0\n", "{}", out.show());
}

#[test]
fn memory_swap_sets_memsw_where_the_host_accounts_swap() {
    let root = Rootfs::new();
    let mut r = spawn(&root, &["--memory", "32m", "--memory-swap", "64m"], &["/bin/sh", "-c", "echo ready; read x"]);
    let parent = container_cgroup(r.pid(), "memory").parent().unwrap().to_path_buf();
    if !parent.join("memory.memsw.limit_in_bytes").exists() {
        // v1 without swap accounting: hutch must refuse, leaving nothing.
        let pid = r.pid();
        let out = r.wait();
        out.expect(125);
        assert!(out.stderr.contains("memory.memsw.limit_in_bytes"), "{}", out.show());
        return assert_nothing_left(pid);
    }
    r.wait_for("ready");
    let dir = container_cgroup(r.pid(), "memory");
    let (mem, memsw) = (read(&dir.join("memory.limit_in_bytes")), read(&dir.join("memory.memsw.limit_in_bytes")));
    r.release();
    let pid = r.pid();
    r.wait().expect(0);
    assert_nothing_left(pid);
    assert_eq!((mem.as_str(), memsw.as_str()), ("33554432", "67108864"));
}

// ---------------------------------------------------------------------------
// The container's view and its place

#[test]
fn container_is_in_its_cgroups_from_the_start_and_sees_them_as_root() {
    let root = Rootfs::new();
    let opts = ["--pids", "20", "--memory", "64m", "--cpus", "1", "--cpuset-cpus", "0"];
    // The command's first act is to look: the cgroups must already be its own.
    let mut r = spawn(&root, &opts, &["/bin/sh", "-c", "cat /proc/self/cgroup; echo ready; read x"]);
    r.wait_for("ready");
    let init = container_init(r.pid());
    let mut limits = Vec::new();
    for (controller, file) in [("pids", "pids.max"), ("memory", "memory.limit_in_bytes"), ("cpu", "cpu.cfs_quota_us"), ("cpuset", "cpuset.cpus")] {
        let dir = container_cgroup(r.pid(), controller);
        let procs = read(&dir.join("cgroup.procs"));
        assert!(procs.lines().any(|p| p == init.to_string()), "init {init} not in {}: {procs}", dir.display());
        limits.push(read(&dir.join(file)));
    }
    r.release();
    let pid = r.pid();
    let out = r.wait();
    out.expect(0);
    assert_nothing_left(pid);
    assert_eq!(limits, ["20", "67108864", "100000", "0"]);
    let lines: Vec<&str> = out.stdout.lines().take_while(|l| *l != "ready").collect();
    assert!(!lines.is_empty() && lines.iter().all(|l| l.ends_with(":/")), "not / inside:\n{}", out.stdout);
}

#[test]
fn without_limits_there_is_no_cgroup() {
    let root = Rootfs::new();
    let mut r = spawn(&root, &[], &["/bin/sh", "-c", "cat /proc/self/cgroup; echo ready; read x"]);
    r.wait_for("ready");
    let made = leftovers(r.pid());
    r.release();
    let out = r.wait();
    out.expect(0);
    assert!(made.is_empty(), "a cgroup without limits: {made:?}");
    // The cgroup namespace still hides the host's cgroup paths.
    assert!(out.stdout.lines().take_while(|l| *l != "ready").all(|l| l.ends_with(":/")), "{}", out.stdout);
}

#[test]
fn cgroup_flag_alone_makes_a_cgroup_without_controllers() {
    let root = Rootfs::new();
    let mut r = spawn(&root, &["--cgroup"], &["/bin/sh", "-c", "echo ready; read x"]);
    r.wait_for("ready");
    let made = leftovers(r.pid());
    r.release();
    let pid = r.pid();
    r.wait().expect(0);
    assert_nothing_left(pid);
    assert!(!made.is_empty(), "--cgroup made no cgroup");
    // On a host with cgroup2 mounted (v2 or hybrid), it is the v2 hierarchy alone.
    if hierarchies().iter().any(|h| h.controllers.is_empty()) {
        assert_eq!(made, [container_cgroup(pid, "")]);
    }
}

/// The host pid of the container's init: hutch's child.
fn container_init(hutch: u32) -> u32 {
    let children = fs::read_to_string(format!("/proc/{hutch}/task/{hutch}/children")).unwrap();
    children.split_whitespace().next().and_then(|p| p.parse().ok()).expect("hutch has a child")
}

// ---------------------------------------------------------------------------
// Nothing left behind

#[test]
fn nothing_is_left_after_a_failed_start() {
    let root = Rootfs::new();
    // run() checks for leftovers after each.
    run(&root, &["--pids", "20", "--memory", "64m"], &["/nonexistent"]).expect(127);
    let out = run(&root, &["--pids", "20", "-v", "/nonexistent-hutch-source:/x"], &["/bin/true"]);
    out.expect(125);
    assert!(out.stderr.contains("/nonexistent-hutch-source"), "{}", out.show());
}

#[test]
fn nothing_is_left_after_sigterm_or_sigint_to_hutch() {
    let root = Rootfs::new();
    for sig in ["TERM", "INT"] {
        // A handler, so PID 1 takes the forwarded signal; a background child is left for
        // hutch to see killed.
        let script = format!("trap 'exit 7' {sig}; sleep 1000 & echo ready; wait");
        let mut r = spawn(&root, &["--pids", "20", "--memory", "64m"], &["/bin/sh", "-c", &script]);
        r.wait_for("ready");
        let made = leftovers(r.pid());
        assert_eq!(made.len(), 2, "expected pids and memory cgroups: {made:?}");
        r.signal(sig);
        let pid = r.pid();
        r.wait().expect(7);
        assert_nothing_left(pid);
    }
}

#[test]
fn bad_values_fail_before_anything_is_made() {
    let root = Rootfs::new();
    let missing = format!("/hutch-test-missing-{}", std::process::id());
    let cases: &[(&[&str], &str)] = &[
        (&["--memory", "0"], "invalid --memory"),
        (&["--memory", "32q"], "invalid --memory"),
        (&["--memory-swap", "64m"], "invalid --memory-swap"),
        (&["--pids", "0"], "invalid --pids"),
        (&["--cpus", "half"], "invalid --cpus"),
        (&["--cpu-weight", "0"], "invalid --cpu-weight"),
        (&["--cpu-shares", "1"], "invalid --cpu-shares"),
        (&["--cpuset-cpus", "3-1"], "invalid --cpuset-cpus"),
        (&["--cgroup-parent", "../up", "--pids", "5"], "invalid --cgroup-parent"),
        (&["--cgroup-parent", &missing, "--pids", "5"], &missing),
    ];
    for (opts, message) in cases {
        let out = run(&root, opts, &["/bin/true"]);
        out.expect(125);
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert!(lines.len() == 1 && lines[0].starts_with("hutch: ") && lines[0].contains(message), "{opts:?}\n{}", out.show());
    }
}
