//! Shared helpers for the end-to-end tests.
//!
//! Each test builds its own throwaway rootfs (`Fixture`): the host's static
//! busybox with applet symlinks, a minimal /etc, and the test probe from
//! `tests/probe/probe.rs`. Every hutch the tests start runs under a 20 s
//! deadline (`Running`), so a hang fails one test instead of blocking the suite.
//!
//! Safety rules these helpers keep, because the tests run as root on a shared
//! machine: they only touch directories they created, never cross a mount
//! point when removing them, and only signal processes they started.
#![allow(dead_code)]

use std::borrow::BorrowMut;
use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

pub const HUTCH: &str = env!("CARGO_BIN_EXE_hutch");
pub const TIMEOUT: Duration = Duration::from_secs(20);
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const BUSYBOX: &str = "/usr/bin/busybox";
const APPLETS: &[&str] = &[
    "cat", "cut", "dd", "df", "echo", "env", "false", "find", "grep", "head", "hostname", "id",
    "ifconfig", "ip", "kill", "ln", "ls", "mkdir", "mount", "ping", "printf", "ps", "pwd",
    "readlink", "rm", "sh", "sleep", "sort", "stat", "test", "touch", "tr", "true", "wc",
];

/// The devices hutch bind-mounts from the host, with their `stat -c %t:%T`
/// (hex major:minor) as the kernel defines them (Documentation/admin-guide/devices.txt).
pub const DEV_NODES: &[(&str, &str)] = &[
    ("null", "1:3"),
    ("zero", "1:5"),
    ("full", "1:7"),
    ("random", "1:8"),
    ("urandom", "1:9"),
    ("tty", "5:0"),
];

// ---------------------------------------------------------------------------
// The probe

/// Path of the probe binary, compiled once per test process.
pub fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| build_probe("probe"))
}

/// Compiles `tests/probe/NAME.rs` into a static musl binary named NAME, next to the hutch
/// binary (so it follows CARGO_TARGET_DIR and `cargo clean`); returns its path.
pub fn build_probe(name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/probe/{name}.rs"));
    let dir = Path::new(HUTCH).parent().expect("hutch has a parent dir").join("hutch-test-probe");
    // rustc writes its temporaries next to the output: a private directory keeps
    // two test binaries building at the same time out of each other's way.
    let build = dir.join(format!("build-{name}-{}", std::process::id()));
    fs::create_dir_all(&build).unwrap_or_else(|e| panic!("mkdir {}: {e}", build.display()));
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--edition", "2021", "-O", "-C", "panic=abort"])
        .args(["--target", "x86_64-unknown-linux-musl", "-C", "target-feature=+crt-static"])
        .arg(&src)
        .arg("-o")
        .arg(build.join(name))
        .output()
        .unwrap_or_else(|e| panic!("running {rustc:?}: {e}"));
    assert!(
        out.status.success(),
        "building the probe from {} failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let probe = dir.join(name);
    fs::rename(build.join(name), &probe).expect("move the probe into place");
    let _ = fs::remove_dir_all(&build);
    probe
}

// ---------------------------------------------------------------------------
// Temporary directories

/// A directory under the system temp dir, removed on drop (also when the test
/// panics). Removal stays on the directory's own filesystem and is skipped
/// entirely if anything is mounted below it, so a mount that leaked out of a
/// container can never make us delete host files through it.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let base = fs::canonicalize(std::env::temp_dir()).expect("canonical temp dir");
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!("hutch-test-{}-{n}", std::process::id()));
            match fs::create_dir(&path) {
                Ok(()) => return TempDir { path },
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("mkdir {}: {e}", path.display()),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // No panics here: this also runs while a failed test unwinds.
        match mounts_below(&self.path) {
            Some(mounted) if mounted.is_empty() => {}
            Some(mounted) => {
                let p = self.path.display();
                return eprintln!("hutch tests: NOT removing {p}: still mounted below it: {mounted:?}");
            }
            None => {
                let p = self.path.display();
                return eprintln!("hutch tests: NOT removing {p}: cannot read the mount table");
            }
        }
        let Ok(meta) = fs::symlink_metadata(&self.path) else { return };
        if let Err(e) = remove_tree(&self.path, meta.dev()) {
            eprintln!("hutch tests: removing {}: {e}", self.path.display());
        }
    }
}

/// Mount points of the test process's namespace at or below `dir`.
fn mounts_below(dir: &Path) -> Option<Vec<String>> {
    let prefix = dir.to_string_lossy().into_owned();
    let table = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let below = table
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|m| *m == prefix || m.starts_with(&format!("{prefix}/")))
        .map(str::to_owned)
        .collect();
    Some(below)
}

/// Like `fs::remove_dir_all`, but refuses to descend into a directory on
/// another device.
fn remove_tree(path: &Path, dev: u64) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.is_dir() {
        return fs::remove_file(path);
    }
    if meta.dev() != dev {
        return Err(io::Error::other(format!("{} is on another filesystem", path.display())));
    }
    for entry in fs::read_dir(path)? {
        remove_tree(&entry?.path(), dev)?;
    }
    fs::remove_dir(path)
}

// ---------------------------------------------------------------------------
// The fixture rootfs

/// A temp dir holding `rootfs/` and whatever a test puts next to it (marker
/// files, volume sources, env files), all removed when the fixture drops.
pub struct Fixture {
    pub rootfs: PathBuf,
    dir: TempDir,
}

impl Fixture {
    /// A rootfs with only `bin/` (busybox, applet links, probe) and `etc/`:
    /// hutch has to create every mount point itself.
    pub fn new() -> Fixture {
        let dir = TempDir::new();
        let rootfs = dir.path().join("rootfs");
        let fx = Fixture { rootfs, dir };
        fx.mkdir("bin");
        fx.mkdir("etc");
        copy_executable(Path::new(BUSYBOX), &fx.root("bin/busybox"));
        for applet in APPLETS {
            let link = fx.root(&format!("bin/{applet}"));
            symlink("busybox", &link).unwrap_or_else(|e| panic!("symlink {}: {e}", link.display()));
        }
        copy_executable(probe(), &fx.root("bin/probe"));
        fx.write_root("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
        fx.write_root("etc/group", "root:x:0:\n");
        fx
    }

    /// Like `new`, plus the mount points hutch needs, so the rootfs can be
    /// made read-only before hutch sees it.
    pub fn with_mount_points() -> Fixture {
        let fx = Fixture::new();
        for dir in ["proc", "sys", "dev", "tmp"] {
            fx.mkdir(dir);
        }
        fx
    }

    /// The rootfs path as a string, for argument lists.
    pub fn root_str(&self) -> &str {
        self.rootfs.to_str().expect("utf-8 temp path")
    }

    /// A host path inside the rootfs (`rel` may start with '/').
    pub fn root(&self, rel: &str) -> PathBuf {
        self.rootfs.join(rel.trim_start_matches('/'))
    }

    /// A host path next to the rootfs, outside it.
    pub fn outside(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let p = self.root(rel);
        fs::create_dir_all(&p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        p
    }

    pub fn write_root(&self, rel: &str, contents: &str) -> PathBuf {
        let p = self.root(rel);
        fs::write(&p, contents).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p
    }

    pub fn write_outside(&self, rel: &str, contents: &str) -> PathBuf {
        let p = self.outside(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&p, contents).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p
    }

    /// `hutch run OPTS ROOTFS CMD...`, not yet started.
    pub fn command(&self, opts: &[&str], cmd: &[&str]) -> Command {
        let mut c = Command::new(HUTCH);
        c.arg("run").args(opts).arg(&self.rootfs).args(cmd);
        c
    }

    pub fn run(&self, opts: &[&str], cmd: &[&str]) -> Output {
        run(self.command(opts, cmd))
    }

    /// `hutch run OPTS ROOTFS /bin/sh -c SCRIPT`.
    pub fn sh(&self, opts: &[&str], script: &str) -> Output {
        self.run(opts, &["/bin/sh", "-c", script])
    }

    pub fn spawn(&self, opts: &[&str], cmd: &[&str]) -> Running {
        spawn(self.command(opts, cmd))
    }

    /// `hutch ARGS...` run inside a private mount namespace in which ROOTFS
    /// is bind-mounted read-only onto itself. Only that throwaway namespace
    /// sees the read-only mount; the host's mounts are never touched.
    pub fn run_on_read_only_rootfs(&self, opts: &[&str], cmd: &[&str]) -> Output {
        const SCRIPT: &str = r#"root=$1; shift
mount --bind -o ro "$root" "$root" || exit 90
if touch "$root/.rw-check" 2>/dev/null; then echo "fixture: $root is still writable" >&2; exit 91; fi
exec "$@""#;
        let mut c = Command::new("unshare");
        c.args(["--mount", "--propagation", "private", "sh", "-c", SCRIPT, "sh"])
            .arg(&self.rootfs)
            .arg(HUTCH)
            .arg("run")
            .args(opts)
            .arg(&self.rootfs)
            .args(cmd);
        run(c)
    }
}

fn copy_executable(from: &Path, to: &Path) {
    fs::copy(from, to).unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
    fs::set_permissions(to, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Entries of a host directory, sorted.
pub fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Everything observable about a tree except timestamps: type, mode, owner,
/// size, a content hash and symlink targets, keyed by relative path.
pub fn snapshot(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let m = fs::symlink_metadata(&path).unwrap();
            let common = format!("mode={:o} uid={} gid={}", m.mode(), m.uid(), m.gid());
            let desc = if m.file_type().is_symlink() {
                format!("symlink -> {}", fs::read_link(&path).unwrap().display())
            } else if m.is_dir() {
                walk(root, &path, out);
                format!("dir {common}")
            } else {
                let data = fs::read(&path).unwrap();
                format!("file {common} size={} fnv={:016x}", data.len(), fnv1a(&data))
            };
            out.insert(rel, desc);
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

/// Lines that differ between two snapshots, for assertion messages.
pub fn snapshot_diff(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> String {
    let mut diff = String::new();
    for (k, v) in before {
        match after.get(k) {
            None => diff += &format!("  removed: {k} ({v})\n"),
            Some(w) if w != v => diff += &format!("  changed: {k}: {v} => {w}\n"),
            _ => {}
        }
    }
    for (k, v) in after {
        if !before.contains_key(k) {
            diff += &format!("  added:   {k} ({v})\n");
        }
    }
    diff
}

// ---------------------------------------------------------------------------
// Running hutch

/// The result of a finished process.
pub struct Output {
    pub label: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The exit code; a hutch that died of a signal fails the test.
    #[track_caller]
    pub fn code(&self) -> i32 {
        match self.status.code() {
            Some(c) => c,
            None => panic!("the process died of signal {:?}\n{self}", self.status.signal()),
        }
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "unexpected exit status\n{self}");
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.assert_code(0)
    }

    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Stdout lines, sorted.
    pub fn sorted_lines(&self) -> Vec<&str> {
        let mut l = self.lines();
        l.sort_unstable();
        l
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--- command: {}\n--- status: {}\n--- stdout:\n{}--- stderr:\n{}---",
            self.label, self.status, self.stdout, self.stderr
        )
    }
}

/// Checks a hutch failure: the exit code, exactly one line on stderr, the
/// `hutch: ` prefix, and that the line names the object that failed.
#[track_caller]
pub fn assert_error(out: &Output, code: i32, object: &str) {
    out.assert_code(code);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected exactly one line on stderr\n{out}");
    assert!(lines[0].starts_with("hutch: "), "stderr line lacks the `hutch: ` prefix\n{out}");
    assert!(lines[0].contains(object), "stderr line does not name {object:?}\n{out}");
}

pub fn run(cmd: impl BorrowMut<Command>) -> Output {
    spawn(cmd).wait()
}

pub fn spawn(cmd: impl BorrowMut<Command>) -> Running {
    spawn_with_timeout(cmd, TIMEOUT)
}

/// Like `run`, with `input` (a file) as stdin instead of /dev/null.
pub fn run_with_stdin(cmd: impl BorrowMut<Command>, input: &Path) -> Output {
    let file = fs::File::open(input).unwrap_or_else(|e| panic!("open {}: {e}", input.display()));
    spawn_inner(cmd, TIMEOUT, file.into()).wait()
}

pub fn spawn_with_timeout(cmd: impl BorrowMut<Command>, timeout: Duration) -> Running {
    spawn_inner(cmd, timeout, Stdio::null())
}

fn spawn_inner(mut cmd: impl BorrowMut<Command>, timeout: Duration, stdin: Stdio) -> Running {
    let cmd = cmd.borrow_mut();
    cmd.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped());
    let label = format!("{cmd:?}");
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawning {label}: {e}"));
    let stdout = read_in_background(child.stdout.take().unwrap());
    let stderr = read_in_background(child.stderr.take().unwrap());
    Running {
        child: Some(child),
        label,
        timeout,
        deadline: Instant::now() + timeout,
        stdout,
        stderr,
        out: Vec::new(),
        err: Vec::new(),
    }
}

fn read_in_background(mut pipe: impl Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n @ 1..) = pipe.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

/// A started process with its deadline. Dropping it before `wait` kills it
/// (and its container), so a failing test leaves nothing running.
pub struct Running {
    child: Option<Child>,
    label: String,
    timeout: Duration,
    deadline: Instant,
    stdout: Receiver<Vec<u8>>,
    stderr: Receiver<Vec<u8>>,
    out: Vec<u8>,
    err: Vec<u8>,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("still running").id()
    }

    /// Blocks until stdout has a line equal to `line`.
    pub fn wait_for_line(&mut self, line: &str) {
        while !String::from_utf8_lossy(&self.out).lines().any(|l| l == line) {
            let left = self.deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(chunk) => self.out.extend(chunk),
                Err(RecvTimeoutError::Timeout) => self.fail(&format!("timed out waiting for {line:?}")),
                Err(RecvTimeoutError::Disconnected) => self.fail(&format!("stdout closed before {line:?}")),
            }
        }
    }

    /// Sends `sig` (a name such as "USR1") to the process.
    pub fn signal(&self, sig: &str) {
        send_signal(self.pid(), sig);
    }

    /// Waits for the process to exit (and its output to end) and returns
    /// what it did; past the deadline it is killed and the test fails.
    pub fn wait(mut self) -> Output {
        // The pipes reach EOF once hutch and everything in the container exit.
        for (rx, buf) in [(&self.stdout, &mut self.out), (&self.stderr, &mut self.err)] {
            loop {
                let left = self.deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(chunk) => buf.extend(chunk),
                    Err(RecvTimeoutError::Disconnected) => break,
                    Err(RecvTimeoutError::Timeout) => break,
                }
            }
        }
        let status = loop {
            let child = self.child.as_mut().unwrap();
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < self.deadline => thread::sleep(Duration::from_millis(5)),
                Ok(None) => self.fail(&format!("did not exit within {:?}", self.timeout)),
                Err(e) => self.fail(&format!("waiting: {e}")),
            }
        };
        self.child = None;
        Output {
            label: std::mem::take(&mut self.label),
            status,
            stdout: String::from_utf8_lossy(&self.out).into_owned(),
            stderr: String::from_utf8_lossy(&self.err).into_owned(),
        }
    }

    fn fail(&mut self, why: &str) -> ! {
        self.kill();
        while let Ok(chunk) = self.stdout.try_recv() {
            self.out.extend(chunk);
        }
        while let Ok(chunk) = self.stderr.try_recv() {
            self.err.extend(chunk);
        }
        panic!(
            "{}: {why}\n--- stdout so far:\n{}--- stderr so far:\n{}---",
            self.label,
            String::from_utf8_lossy(&self.out),
            String::from_utf8_lossy(&self.err)
        );
    }

    /// Kills the process and its direct children (the container's init among
    /// them; the kernel takes the rest of the PID namespace down with it).
    /// The process is stopped first so it cannot reap a child while we look:
    /// an unreaped child's pid cannot be reused, so we only hit our own.
    fn kill(&mut self) {
        let Some(child) = self.child.as_mut() else { return };
        if let Ok(None) = child.try_wait() {
            let pid = child.id();
            // No assertions here: this also runs while a failed test unwinds.
            let _ = signal_quietly(pid, "STOP");
            for c in children_of(pid) {
                let _ = signal_quietly(c, "KILL");
            }
            let _ = child.kill();
        }
        let _ = child.wait();
        self.child = None;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends `sig` (a name such as "USR1") to `pid` with kill(1).
#[track_caller]
pub fn send_signal(pid: u32, sig: &str) {
    assert!(signal_quietly(pid, sig), "kill -{sig} {pid} failed");
}

fn signal_quietly(pid: u32, sig: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|st| st.success())
}

/// Host pids whose parent is `pid`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut kids = Vec::new();
    let Ok(dir) = fs::read_dir("/proc") else { return kids };
    for entry in dir.flatten() {
        let Some(p) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(stat) = fs::read_to_string(format!("/proc/{p}/stat")) else { continue };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { continue };
        if rest.split_whitespace().nth(1).and_then(|s| s.parse::<u32>().ok()) == Some(pid) {
            kids.push(p);
        }
    }
    kids
}

/// The host pid of the container's init: the descendant of `hutch_pid` that
/// is pid 1 in its own PID namespace.
pub fn container_init(hutch_pid: u32) -> Option<u32> {
    let mut todo = children_of(hutch_pid);
    while let Some(p) = todo.pop() {
        let status = fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
        let nspid: Vec<&str> = status
            .lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .map(|l| l.split_whitespace().collect())
            .unwrap_or_default();
        if nspid.len() > 1 && nspid.last() == Some(&"1") {
            return Some(p);
        }
        todo.extend(children_of(p));
    }
    None
}

// ---------------------------------------------------------------------------
// Mount tables

/// The test process's /proc/self/mountinfo, sorted: compared as a multiset.
pub fn host_mounts() -> Vec<String> {
    let text = fs::read_to_string("/proc/self/mountinfo").expect("read /proc/self/mountinfo");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// Runs `f` and fails if the host's mount table changed meanwhile.
#[track_caller]
pub fn assert_host_mounts_unchanged<T>(f: impl FnOnce() -> T) -> T {
    let before = host_mounts();
    let result = f();
    let after = host_mounts();
    let added: Vec<_> = after.iter().filter(|l| !before.contains(l)).collect();
    let removed: Vec<_> = before.iter().filter(|l| !after.contains(l)).collect();
    assert!(
        before == after,
        "the host mount table changed\nadded:\n{added:#?}\nremoved:\n{removed:#?}"
    );
    result
}

/// One line of /proc/mounts.
#[derive(Debug)]
pub struct Mount {
    pub source: String,
    pub target: String,
    pub fstype: String,
    pub options: Vec<String>,
}

impl Mount {
    pub fn has_option(&self, opt: &str) -> bool {
        self.options.iter().any(|o| o == opt)
    }
}

pub fn parse_mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f.len() >= 4).then(|| Mount {
                source: f[0].to_owned(),
                target: f[1].to_owned(),
                fstype: f[2].to_owned(),
                options: f[3].split(',').map(str::to_owned).collect(),
            })
        })
        .collect()
}

/// The topmost mount at `target` in a /proc/mounts dump (later lines are
/// mounted on top of earlier ones).
#[track_caller]
pub fn mount_at<'a>(mounts: &'a [Mount], target: &str) -> &'a Mount {
    mounts
        .iter()
        .rev()
        .find(|m| m.target == target)
        .unwrap_or_else(|| panic!("nothing mounted at {target}: {mounts:#?}"))
}

/// The container's mount table, as `cat /proc/mounts` inside shows it.
#[track_caller]
pub fn container_mounts(fx: &Fixture, opts: &[&str]) -> Vec<Mount> {
    let out = fx.run(opts, &["/bin/cat", "/proc/mounts"]);
    out.ok();
    parse_mounts(&out.stdout)
}

pub fn as_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

pub fn contains(haystack: &[&str], needle: &str) -> bool {
    haystack.iter().any(|h| *h == needle)
}

// ---------------------------------------------------------------------------
// OCI bundles

/// An OCI bundle: a Fixture's rootfs next to a config.json, run with
/// `hutch run --bundle DIR ID` (the foreground OCI run).
pub struct Bundle {
    pub fx: Fixture,
}

/// The runtime-spec members of a default config, as `runc spec` writes them
/// (minus the terminal), for tests to extend: each `*_extra` is spliced into
/// its object after the defaults, and a repeated key's last value wins, so a
/// test replaces a default by naming it again.
pub fn oci_config(args: &[&str], process_extra: &str, linux_extra: &str, top_extra: &str) -> String {
    let args: Vec<String> = args.iter().map(|a| json_str(a)).collect();
    let caps = r#"["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]"#;
    format!(
        r#"{{"ociVersion": "1.0.2",
  "process": {{"terminal": false, "user": {{"uid": 0, "gid": 0}}, "args": [{args}],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/", "capabilities": {{"bounding": {caps}, "effective": {caps}, "permitted": {caps}, "ambient": {caps}}},
    "rlimits": [{{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}}], "noNewPrivileges": true{process_extra}}},
  "root": {{"path": "rootfs", "readonly": false}},
  "hostname": "runc",
  "mounts": [
    {{"destination": "/proc", "type": "proc", "source": "proc"}},
    {{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}},
    {{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}},
    {{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}},
    {{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}},
    {{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}},
    {{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}}
  ],
  "linux": {{"namespaces": [{{"type": "pid"}}, {{"type": "network"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "mount"}}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
      "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]{linux_extra}}}{top_extra}}}
"#,
        args = args.join(", ")
    )
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Bundle {
    /// A bundle whose config.json is `config`.
    pub fn new(config: &str) -> Bundle {
        let b = Bundle { fx: Fixture::new() };
        b.fx.write_outside("config.json", config);
        b
    }

    /// The default config running `sh -c SCRIPT`, extended as [`oci_config`] describes.
    pub fn sh(script: &str, process_extra: &str, linux_extra: &str, top_extra: &str) -> Bundle {
        Bundle::new(&oci_config(&["sh", "-c", script], process_extra, linux_extra, top_extra))
    }

    pub fn dir(&self) -> PathBuf {
        self.fx.outside("")
    }

    /// `hutch run --bundle DIR ID`, not yet started; with a state directory of the bundle's
    /// own, as tests run at once and reuse IDs.
    pub fn command(&self, id: &str) -> Command {
        let mut c = Command::new(HUTCH);
        c.arg("--root").arg(self.fx.outside("state")).arg("run").arg("--bundle").arg(self.dir()).arg(id);
        c
    }

    /// Under an ID of the bundle's own: an OCI container's cgroup is named after its ID.
    pub fn run(&self) -> Output {
        run(self.command(&self.dir().file_name().unwrap().to_string_lossy()))
    }
}

// ---------------------------------------------------------------------------
// A private client's namespace and cgroups (podman.rs, containerd.rs): each test runs its
// client in a mount namespace held by one process (`holder`), its containers under a cgroup
// parent of its own, and removes both at the end, also when the test fails.

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// Host pids of every process in the mount namespace of `holder`, the holder included.
pub fn processes_in_mount_ns(holder: u32) -> Vec<u32> {
    let Ok(ns) = fs::read_link(format!("/proc/{holder}/ns/mnt")) else { return Vec::new() };
    let mut pids = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if fs::read_link(format!("/proc/{p}/ns/mnt")).is_ok_and(|l| l == ns) {
            pids.push(p);
        }
    }
    pids
}

/// The directories of cgroup `parent` (`/name`) and below it, deepest first, in every
/// hierarchy.
pub fn cgroup_dirs(parent: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&entry.path(), out);
            }
        }
        out.push(dir.to_owned());
    }
    let mut dirs = Vec::new();
    for h in fs::read_dir(CGROUP_ROOT).into_iter().flatten().flatten() {
        let top = h.path().join(parent.trim_start_matches('/'));
        if top.is_dir() {
            walk(&top, &mut dirs);
        }
    }
    dirs
}

/// Kills (SIGKILL, for up to 10 s) every process but the holder in its mount namespace or in
/// cgroup `parent`: only the test's own are there. Never panics (it runs while a failed test
/// unwinds); `who` names the tests in what it prints.
pub fn kill_all_but_holder(holder: u32, parent: &str, who: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut left: Vec<u32> = processes_in_mount_ns(holder).into_iter().filter(|p| *p != holder).collect();
        for dir in cgroup_dirs(parent) {
            let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            left.extend(procs.lines().filter_map(|l| l.parse::<u32>().ok()));
        }
        if left.is_empty() || Instant::now() > deadline {
            if !left.is_empty() {
                eprintln!("{who}: processes still running: {left:?}");
            }
            return;
        }
        for p in left {
            let _ = Command::new("kill").args(["-KILL", &p.to_string()]).stderr(Stdio::null()).status();
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Removes cgroup `parent` and all below it, retrying for up to 5 s while their last
/// processes exit. Never panics.
pub fn remove_cgroups(parent: &str, who: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cgroup_dirs(parent).iter().all(|d| fs::remove_dir(d).is_ok()) {
        if Instant::now() > deadline {
            eprintln!("{who}: cannot remove cgroups: {:?}", cgroup_dirs(parent));
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Fails unless the host's mount table is `before` again and cgroup `parent` is gone.
pub fn assert_nothing_left(before: &[String], parent: &str) {
    let added: Vec<_> = host_mounts().into_iter().filter(|l| !before.contains(l)).collect();
    assert!(added.is_empty(), "mounts left on the host: {added:#?}");
    let left = cgroup_dirs(parent);
    assert!(left.is_empty(), "cgroups left behind: {left:?}");
}
