//! The OCI lifecycle as runc's clients drive it: create/start/state/kill/delete, run, exec,
//! list, ps, spec, features, hooks, --console-socket, --preserve-fds, --pid-file and the
//! global --log options, on bundles the tests write.
mod common;

use common::*;
use std::fs;
use std::os::unix::io::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A bundle (tests/common's, runc's default config) and a state directory next to it, with
/// the container's stdio in files. Dropping it deletes every container it made (`delete
/// A container ID of this test process's own: an OCI container without cgroupsPath gets the
/// cgroup `/<ID>` (as with runc), which another run of the suite or the host may hold.
fn id(name: &str) -> &'static str {
    Box::leak(format!("{name}-{}", std::process::id()).into_boxed_str())
}

/// --force`), so a failing test leaves no process behind.
struct Lab {
    b: Bundle,
    state: PathBuf,
}

impl Lab {
    fn new(args: &[&str]) -> Lab {
        Self::with(args, "", "")
    }

    /// `process_extra` and `top_extra` extend the config as `oci_config` does.
    fn with(args: &[&str], process_extra: &str, top_extra: &str) -> Lab {
        let b = Bundle::new(&oci_config(args, process_extra, "", top_extra));
        let state = b.fx.outside("state");
        Lab { b, state }
    }

    fn config(&self, args: &[&str], process_extra: &str, top_extra: &str) {
        self.b.fx.write_outside("config.json", &oci_config(args, process_extra, "", top_extra));
    }

    fn fx(&self) -> &Fixture {
        &self.b.fx
    }

    fn dir(&self) -> PathBuf {
        self.fx().outside("")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(HUTCH);
        c.arg("--root").arg(&self.state).args(args).current_dir(self.dir());
        c
    }

    /// A verb whose stdio no container keeps open.
    fn hutch(&self, args: &[&str]) -> Output {
        run(self.cmd(args))
    }

    /// A verb that leaves a container running with its stdio: that goes to `out` and `err`
    /// files, so that nothing waits for the container to close a pipe. Returns the exit code
    /// and hutch's own stderr.
    fn detached(&self, args: &[&str], setup: impl FnOnce(&mut Command)) -> (i32, String) {
        let out = fs::OpenOptions::new().create(true).append(true).open(self.fx().outside("out")).unwrap();
        let errf = self.fx().outside(&format!("err-{}", args.join("_").replace('/', "")));
        let err = fs::File::create(&errf).unwrap();
        let mut c = self.cmd(args);
        c.stdin(Stdio::null()).stdout(out).stderr(err);
        setup(&mut c);
        let mut child = c.spawn().unwrap();
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{args:?} did not exit in time");
            }
            thread::sleep(Duration::from_millis(5));
        };
        (status.code().unwrap_or(-1), fs::read_to_string(errf).unwrap())
    }

    fn create(&self, id: &str, opts: &[&str]) {
        let mut args = vec!["create"];
        args.extend_from_slice(opts);
        args.push(id);
        let (code, err) = self.detached(&args, |_| {});
        assert_eq!(code, 0, "create failed: {err}");
    }

    /// The container's output so far.
    fn out(&self) -> String {
        fs::read_to_string(self.fx().outside("out")).unwrap_or_default()
    }

    fn wait_out(&self, line: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while !self.out().lines().any(|l| l == line) {
            assert!(Instant::now() < deadline, "no line {line:?} in the container's output: {:?}", self.out());
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// `state ID`: (status, pid, the whole JSON).
    fn state(&self, id: &str) -> (String, u32, String) {
        let out = self.hutch(&["state", id]);
        out.ok();
        let s = out.stdout.trim().to_string();
        (field(&s, "status").trim_matches('"').to_string(), field(&s, "pid").parse().unwrap(), s)
    }

    fn wait_status(&self, id: &str, want: &str) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let (status, ..) = self.state(id);
            if status == want {
                return;
            }
            assert!(Instant::now() < deadline, "{id} stays {status}, expected {want}");
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn ids(&self) -> Vec<String> {
        let out = self.hutch(&["list", "-q"]);
        out.ok();
        out.lines().iter().map(|s| s.to_string()).collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Ok(out) = self.cmd(&["list", "-q"]).output() {
            for id in String::from_utf8_lossy(&out.stdout).lines() {
                let _ = self.cmd(&["delete", "--force", id]).output();
            }
        }
    }
}

/// The raw value of `"key":` in compact JSON (up to the next `,` or `}`).
fn field<'a>(json: &'a str, key: &str) -> &'a str {
    let at = json.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("no {key} in {json}")) + key.len() + 3;
    let rest = &json[at..];
    let end = if rest.starts_with('"') { rest[1..].find('"').unwrap() + 2 } else { rest.find([',', '}']).unwrap() };
    &rest[..end]
}

fn alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.rsplit_once(") ").unwrap().1.starts_with('Z'))
}

/// Processes whose root is the fixture's rootfs (the container's), by their /proc/PID/root.
fn processes_in(root: &std::path::Path) -> Vec<u32> {
    let mut found = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() {
            if fs::read_link(format!("/proc/{pid}/root")).is_ok_and(|r| r == root) && alive(pid) {
                found.push(pid);
            }
        }
    }
    found
}

const LOOP: &[&str] = &["sh", "-c", "trap 'echo got-TERM; exit 0' TERM; echo started; while :; do sleep 0.05; done"];

#[test]
fn create_start_state_kill_delete() {
    let b = Lab::new(LOOP);
    let pid_file = b.fx().outside("pid");
    b.create(id("c1"), &["--pid-file", pid_file.to_str().unwrap()]);
    let (status, pid, json) = b.state(id("c1"));
    assert_eq!(status, "created", "{json}");
    assert_eq!(fs::read_to_string(&pid_file).unwrap(), pid.to_string(), "the pid file holds the host pid");
    assert!(alive(pid), "a created container's process lives");
    assert!(json.contains(&format!(r#""bundle":"{}""#, b.dir().to_str().unwrap().trim_end_matches('/'))), "{json}");
    assert_eq!(field(&json, "id"), format!("\"{}\"", id("c1")));
    thread::sleep(Duration::from_millis(100));
    assert_eq!(b.out(), "", "the command must not run before start");

    b.hutch(&["start", id("c1")]).ok();
    b.wait_out("started");
    assert_eq!(b.state(id("c1")).0, "running");
    let out = b.hutch(&["start", id("c1")]);
    assert!(out.code() != 0 && out.stderr.contains("error"), "a second start fails\n{out}");

    b.hutch(&["kill", id("c1")]).ok(); // TERM by default
    b.wait_out("got-TERM");
    b.wait_status(id("c1"), "stopped");
    assert_eq!(b.state(id("c1")).1, 0, "a stopped container has no pid");
    b.hutch(&["delete", id("c1")]).ok();
    assert!(!alive(pid));
    let out = b.hutch(&["state", id("c1")]);
    assert!(out.code() != 0 && out.stderr.contains("error"), "{out}");
    assert!(b.ids().is_empty());
    assert_eq!(dir_names(&b.state), ["lock"], "the entry is gone");
}

#[test]
fn delete_refuses_a_container_not_stopped_unless_forced() {
    let b = Lab::new(LOOP);
    b.create(id("c2"), &[]);
    let pid = b.state(id("c2")).1;
    // runtime.md: deleting a container that is not stopped is an error, created included.
    let out = b.hutch(&["delete", id("c2")]);
    assert!(out.code() != 0 && out.stderr.contains("error"), "{out}");
    assert_eq!((b.state(id("c2")).0.as_str(), alive(pid)), ("created", true), "no effect");
    b.hutch(&["delete", "--force", id("c2")]).ok();
    assert!(!alive(pid), "a created container's process is killed, not left blocked");

    b.create(id("c3"), &[]);
    b.hutch(&["start", id("c3")]).ok();
    let pid = b.state(id("c3")).1;
    let out = b.hutch(&["delete", id("c3")]);
    assert!(out.code() != 0 && out.stderr.contains("error"), "{out}");
    assert!(alive(pid));
    b.hutch(&["delete", id("c3"), "--force"]).ok(); // options after the ID, as runc takes them
    assert!(!alive(pid));
    b.hutch(&["delete", "--force", "never-was"]).ok();
    // hutch's own rm takes OCI containers too, the way delete does.
    b.create(id("c4"), &[]);
    let pid = b.state(id("c4")).1;
    b.hutch(&["rm", "-f", id("c4")]).ok();
    assert!(!alive(pid) && b.ids().is_empty());
    assert!(processes_in(&b.fx().rootfs).is_empty());
}

#[test]
fn run_in_the_foreground_exits_with_the_status_and_leaves_nothing() {
    let b = Lab::new(&["sh", "-c", "echo in-$(hostname); exit 3"]);
    let out = b.hutch(&["run", id("r1")]);
    out.assert_code(3);
    assert_eq!(out.stdout, "in-runc\n");
    assert!(b.ids().is_empty(), "run deletes its container");
    let out = b.hutch(&["run", "--bundle", b.dir().to_str().unwrap(), id("r1")]);
    out.assert_code(3);

    // --keep: the stopped container and its cgroups stay until delete.
    b.hutch(&["run", "--keep", id("r2")]).assert_code(3);
    assert_eq!(b.state(id("r2")).0, "stopped");
    let entry = fs::read_to_string(b.state.join(id("r2")).join("state")).unwrap();
    let dirs: Vec<String> = entry.lines().find_map(|l| l.strip_prefix("cgroups ")).expect("cgroups recorded").split(':').map(String::from).collect();
    assert!(dirs.iter().all(|d| Path::new(d).is_dir()), "{dirs:?}");
    b.hutch(&["delete", id("r2")]).ok();
    assert!(b.ids().is_empty() && dirs.iter().all(|d| !Path::new(d).exists()), "{dirs:?}");
}

#[test]
fn run_detached_returns_once_started() {
    let b = Lab::new(LOOP);
    let pid_file = b.fx().outside("pid");
    let (code, err) = b.detached(&["run", "-d", "--pid-file", pid_file.to_str().unwrap(), id("d1")], |_| {});
    assert_eq!(code, 0, "{err}");
    b.wait_out("started");
    let (status, pid, _) = b.state(id("d1"));
    assert_eq!((status.as_str(), fs::read_to_string(&pid_file).unwrap()), ("running", pid.to_string()));
    b.hutch(&["kill", id("d1"), "KILL"]).ok();
    b.wait_status(id("d1"), "stopped");
    b.hutch(&["delete", id("d1")]).ok();
}

#[test]
fn exec_with_args_options_and_a_process_file() {
    let b = Lab::with(&["sleep", "100"], r#", "env": ["PATH=/bin", "FROM=config"]"#, "");
    b.detached(&["run", "-d", id("e1")], |_| {});
    let out = b.hutch(&["exec", "--cwd", "/etc", "-e", "X=1", id("e1"), "sh", "-c", "echo $FROM $X $(pwd) $(hostname)"]);
    out.ok();
    assert_eq!(out.stdout, "config 1 /etc runc\n");
    let out = b.hutch(&["exec", "--user", "1000:1000", id("e1"), "sh", "-c", "echo $(id -u):$(id -g)"]);
    assert_eq!(out.stdout, "1000:1000\n", "{out}");
    let out = b.hutch(&["exec", "-u", "1000:1000", "-g", "7,8", "--additional-gids", "9", id("e1"), "sh", "-c", "grep ^Groups: /proc/self/status"]);
    assert_eq!(out.stdout.split_whitespace().collect::<Vec<_>>(), ["Groups:", "7", "8", "9", "1000"], "{out}");
    let out = b.hutch(&["exec", "--process-label", "x", id("e1"), "true"]);
    assert!(out.code() == 0 && out.stderr.contains("warning"), "{out}");
    let out = b.hutch(&["exec", "-g", "x", id("e1"), "true"]);
    assert!(out.code() != 0 && out.stderr.contains("additional-gids"), "{out}");
    b.hutch(&["exec", id("e1"), "sh", "-c", "exit 5"]).assert_code(5);

    let p = b.fx().write_outside("process.json", r#"{"args": ["sh", "-c", "echo $ONLY $FROM; pwd; exit 4"], "cwd": "/bin", "env": ["PATH=/bin", "ONLY=this"]}"#);
    let out = b.hutch(&["exec", "--process", p.to_str().unwrap(), id("e1")]);
    out.assert_code(4);
    assert_eq!(out.stdout, "this\n/bin\n", "the process file's env replaces the config's");
    // Its capabilities (CAP_KILL only: bit 5), rlimits and additional groups are applied.
    let p = b.fx().write_outside(
        "process2.json",
        r#"{"args": ["sh", "-c", "grep -E '^(CapEff|Groups)' /proc/self/status; ulimit -n"], "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": 0, "gid": 0, "additionalGids": [5]}, "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 77, "hard": 88}],
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}}"#,
    );
    let out = b.hutch(&["exec", "--process", p.to_str().unwrap(), id("e1")]);
    out.ok();
    assert_eq!(out.stdout.split_whitespace().collect::<Vec<_>>(), ["Groups:", "0", "5", "CapEff:", "0000000000000020", "77"], "{out}");
    // Each of the five sets as the file gives it (CHOWN bit 0, KILL 5, NET_RAW 13): uid 1000
    // keeps after exec only its ambient set, and the inheritable and bounding ones as given;
    // its noNewPrivileges is the file's, absent meaning off.
    let sets = r#""capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"], "effective": ["CAP_KILL"],
        "permitted": ["CAP_CHOWN", "CAP_KILL"], "inheritable": ["CAP_CHOWN"], "ambient": ["CAP_CHOWN"]}"#;
    let status = r#""args": ["sh", "-c", "grep -E '^(Cap|NoNewPrivs)' /proc/self/status"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 1000, "gid": 1000}"#;
    for (nnp, want) in [(r#", "noNewPrivileges": true"#, "1"), ("", "0")] {
        let p = b.fx().write_outside("process3.json", &format!("{{{status}, {sets}{nnp}}}"));
        let out = b.hutch(&["exec", "--process", p.to_str().unwrap(), id("e1")]);
        out.ok();
        let got: Vec<&str> = out.stdout.split_whitespace().collect();
        let caps = ["CapInh:", "0000000000000001", "CapPrm:", "0000000000000001", "CapEff:", "0000000000000001", "CapBnd:", "0000000000002021", "CapAmb:", "0000000000000001"];
        assert_eq!(got, [&caps[..], &["NoNewPrivs:", want]].concat(), "{out}");
    }
    // Without HOME in its env, the user's home from the container's passwd (runc's rule).
    b.fx().write_root("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n");
    let p = b.fx().write_outside("process5.json", r#"{"args": ["sh", "-c", "echo $HOME"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 1000, "gid": 1000}}"#);
    let out = b.hutch(&["exec", "--process", p.to_str().unwrap(), id("e1")]);
    assert_eq!(out.stdout, "/home/u\n", "{out}");
    let p = b.fx().write_outside("process6.json", r#"{"args": ["sh", "-c", "echo $HOME"], "cwd": "/", "env": ["PATH=/bin", "HOME=/mine"], "user": {"uid": 1000, "gid": 1000}}"#);
    let out = b.hutch(&["exec", "--process", p.to_str().unwrap(), id("e1")]);
    assert_eq!(out.stdout, "/mine\n", "{out}");
    let out = b.hutch(&["exec", id("e1"), "sh", "-c", "echo $HOME"]);
    assert_eq!(out.stdout, "/root\n", "{out}");
    // A field it ignores is warned about, as create warns about a config's.
    let p = b.fx().write_outside("process4.json", r#"{"args": ["true"], "cwd": "/", "env": ["PATH=/bin"], "capabilities": {"bounding": ["CAP_BOGUS"]}}"#);
    let out = b.hutch(&["exec", "--process", p.to_str().unwrap(), id("e1")]);
    out.ok();
    assert!(out.stderr.contains("hutch: warning: capabilities.bounding[0]: CAP_BOGUS: unknown capability, ignored"), "{out}");

    let pid_file = b.fx().outside("exec-pid");
    let (code, err) = b.detached(&["exec", "-d", "--pid-file", pid_file.to_str().unwrap(), id("e1"), "sleep", "100"], |_| {});
    assert_eq!(code, 0, "{err}");
    let pid: u32 = fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert!(alive(pid), "exec -d leaves its command running");
    let ps = b.hutch(&["ps", "--format", "json", id("e1")]);
    ps.ok();
    let init = b.state(id("e1")).1;
    assert!(ps.stdout.contains(&pid.to_string()) && ps.stdout.contains(&init.to_string()), "{ps}");
    let ps = b.hutch(&["ps", id("e1")]);
    assert!(ps.lines().contains(&format!("{pid:<9}sleep 100").as_str()), "{ps}");
    // --all signals every process of the container (the option after the operands, as runc).
    b.hutch(&["kill", id("e1"), "STOP", "--all"]).ok();
    let stopped = |pid: u32| fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.rsplit_once(") ").unwrap().1.starts_with('T'));
    let deadline = Instant::now() + TIMEOUT;
    while !(stopped(pid) && stopped(init)) {
        assert!(Instant::now() < deadline, "kill --all STOP did not reach both");
        thread::sleep(Duration::from_millis(10));
    }
    b.hutch(&["kill", "-a", id("e1"), "CONT"]).ok();
    b.hutch(&["delete", "-f", id("e1")]).ok();
    assert!(!alive(pid));
}

#[test]
fn list_shows_every_container() {
    let b = Lab::new(LOOP);
    b.create(id("l1"), &[]);
    b.create(id("l2"), &[]);
    b.hutch(&["start", id("l2")]).ok();
    assert_eq!(b.ids(), [id("l1"), id("l2")]);
    let out = b.hutch(&["list", "--format", "json"]);
    out.ok();
    let s = out.stdout.trim();
    assert!(s.starts_with('[') && s.ends_with(']'), "{out}");
    let (l1, l2) = (id("l1"), id("l2"));
    assert!(s.contains(&format!(r#""id":"{l1}","status":"created""#)) && s.contains(&format!(r#""id":"{l2}","status":"running""#)), "{out}");
    let table = b.hutch(&["list"]);
    assert!(table.stdout.starts_with("ID ") && table.lines().len() == 3, "{table}");
}

#[test]
fn spec_writes_a_config_that_runs() {
    let b = Lab::new(LOOP);
    fs::remove_file(b.fx().outside("config.json")).unwrap();
    b.hutch(&["spec"]).ok();
    let out = b.hutch(&["spec"]);
    assert!(out.code() != 0 && out.stderr.contains("error"), "spec does not overwrite\n{out}");
    let text = fs::read_to_string(b.fx().outside("config.json")).unwrap();
    assert!(text.contains(r#""args":["sh"]"#) && text.contains(r#""terminal":true"#));
    let text = text.replace(r#""terminal":true"#, r#""terminal":false"#).replace(r#""args":["sh"]"#, r#""args":["sh","-c","echo from-spec"]"#);
    fs::write(b.fx().outside("config.json"), text).unwrap();
    let out = b.hutch(&["run", id("s1")]);
    out.ok();
    assert_eq!(out.stdout, "from-spec\n");
    let dir = b.fx().outside("rootless");
    fs::create_dir(&dir).unwrap();
    b.hutch(&["spec", "--rootless", "--bundle", dir.to_str().unwrap()]).ok();
    assert!(fs::read_to_string(dir.join("config.json")).unwrap().contains(r#""uidMappings""#));
}

#[test]
fn features_is_json_with_the_expected_keys() {
    let out = run(Command::new(HUTCH).arg("features"));
    out.ok();
    for key in ["ociVersionMin", "ociVersionMax", "hooks", "mountOptions", "namespaces", "capabilities", "cgroup", "seccomp", "apparmor", "selinux"] {
        assert!(out.stdout.contains(&format!("\"{key}\":")), "{key} missing\n{out}");
    }
    assert!(out.stdout.contains(r#""systemd":false"#) && out.stdout.contains("CAP_SYS_ADMIN"));
    let depth = out.stdout.chars().fold(0i32, |d, c| d + (c == '{' || c == '[') as i32 - (c == '}' || c == ']') as i32);
    assert_eq!(depth, 0, "balanced");
}

/// A hook that saves its stdin (the state JSON) as `file`.
fn saver(file: &str) -> String {
    format!(r#"{{"path": "/bin/sh", "args": ["sh", "-c", "cat > {file}"], "env": ["PATH=/bin:/usr/bin"]}}"#)
}

#[test]
fn every_hook_gets_the_state_on_stdin() {
    let b = Lab::new(LOOP);
    let dir = b.fx().outside("hooks");
    fs::create_dir(&dir).unwrap();
    let d = dir.to_str().unwrap();
    // startContainer runs in the container, after the root switch: its path and file are the
    // container's.
    let hooks = format!(
        r#", "hooks": {{"prestart": [{}], "createRuntime": [{}], "createContainer": [{}], "startContainer": [{}], "poststart": [{}], "poststop": [{}]}}"#,
        saver(&format!("{d}/prestart")),
        saver(&format!("{d}/createRuntime")),
        saver(&format!("{d}/createContainer")),
        saver("/startContainer"),
        saver(&format!("{d}/poststart")),
        saver(&format!("{d}/poststop")),
    );
    b.config(LOOP, "", &hooks);
    b.create(id("h1"), &[]);
    let pid = b.state(id("h1")).1;
    for (hook, status) in [("prestart", "created"), ("createRuntime", "created"), ("createContainer", "creating")] {
        let s = fs::read_to_string(dir.join(hook)).unwrap_or_else(|e| panic!("{hook}: {e}"));
        assert_eq!((field(&s, "id"), field(&s, "status"), field(&s, "pid")), (&*format!("\"{}\"", id("h1")), &*format!("\"{status}\""), &*pid.to_string()), "{hook}: {s}");
    }
    assert!(!dir.join("poststart").exists() && !b.fx().root("startContainer").exists(), "not before start");
    b.hutch(&["start", id("h1")]).ok();
    let s = fs::read_to_string(b.fx().root("startContainer")).unwrap();
    assert_eq!(field(&s, "pid"), pid.to_string(), "{s}");
    let s = fs::read_to_string(dir.join("poststart")).unwrap();
    assert_eq!((field(&s, "status"), field(&s, "pid")), ("\"running\"", &*pid.to_string()), "{s}");
    b.hutch(&["kill", id("h1"), "KILL"]).ok();
    b.wait_status(id("h1"), "stopped");
    assert!(!dir.join("poststop").exists());
    b.hutch(&["delete", id("h1")]).ok();
    let s = fs::read_to_string(dir.join("poststop")).unwrap();
    assert_eq!((field(&s, "id"), field(&s, "status")), (&*format!("\"{}\"", id("h1")), "\"stopped\""), "{s}");
}

#[test]
fn failing_poststart_and_poststop_hooks_only_warn() {
    let b = Lab::new(LOOP);
    let dir = b.fx().outside("hooks");
    fs::create_dir(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let fail = r#"{"path": "/bin/false"}"#;
    let hooks = format!(
        r#", "hooks": {{"poststart": [{fail}, {}], "poststop": [{fail}, {}]}}"#,
        saver(&format!("{d}/poststart")),
        saver(&format!("{d}/poststop")),
    );
    b.config(LOOP, "", &hooks);
    b.create(id("w1"), &[]);
    let out = b.hutch(&["start", id("w1")]);
    assert!(out.code() == 0 && out.stderr.contains("warning") && out.stderr.contains("poststart"), "{out}");
    assert!(dir.join("poststart").exists(), "the hooks after the failed one run");
    assert_eq!(b.state(id("w1")).0, "running");
    b.hutch(&["kill", id("w1"), "KILL"]).ok();
    b.wait_status(id("w1"), "stopped");
    let out = b.hutch(&["delete", id("w1")]);
    assert!(out.code() == 0 && out.stderr.contains("warning") && out.stderr.contains("poststop"), "{out}");
    assert!(dir.join("poststop").exists() && b.ids().is_empty());
}

#[test]
fn a_failing_prestart_hook_fails_create_and_leaves_nothing() {
    let b = Lab::with(LOOP, "", r#", "hooks": {"prestart": [{"path": "/bin/false"}]}"#);
    let (code, err) = b.detached(&["create", id("f1")], |_| {});
    assert!(code != 0 && err.contains("error") && err.contains("prestart"), "{code}: {err}");
    assert!(b.ids().is_empty(), "no state entry");
    assert!(processes_in(&b.fx().rootfs).is_empty(), "no process");
    assert_eq!(dir_names(&b.state), ["lock"]);
}

#[test]
fn a_hook_past_its_timeout_is_killed() {
    let b = Lab::with(LOOP, "", r#", "hooks": {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}"#);
    let t = Instant::now();
    let (code, err) = b.detached(&["create", id("t1")], |_| {});
    assert!(code != 0 && err.contains("timed out"), "{code}: {err}");
    assert!(t.elapsed() < Duration::from_secs(10));
    assert!(b.ids().is_empty() && processes_in(&b.fx().rootfs).is_empty());
}

#[test]
fn a_console_socket_receives_the_terminal() {
    // With process.consoleSize, the terminal's window size (rows, columns) as stty reads it.
    let b = Lab::with(&["sh", "-c", "tty; stty size; echo done"], r#", "terminal": true, "consoleSize": {"height": 33, "width": 111}"#, "");
    let sock = b.fx().outside("console.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let (code, err) = b.detached(&["create", id("t1")], |_| {});
    assert!(code != 0 && err.contains("console-socket"), "terminal needs a console socket: {err}");
    let accept = thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        receive_fd(conn.as_raw_fd())
    });
    b.create(id("t1"), &["--console-socket", sock.to_str().unwrap()]);
    let master = accept.join().unwrap();
    // SAFETY: isatty on an fd we own.
    assert_eq!(unsafe { libc::isatty(master) }, 1, "a terminal");
    b.hutch(&["start", id("t1")]).ok();
    let mut f = unsafe { fs::File::from_raw_fd(master) };
    let mut text = Vec::new();
    let mut buf = [0u8; 256];
    use std::io::Read;
    while let Ok(n @ 1..) = f.read(&mut buf) {
        text.extend_from_slice(&buf[..n]);
    }
    assert_eq!(String::from_utf8_lossy(&text), "/dev/pts/0\r\n33 111\r\ndone\r\n");
}

/// One fd by SCM_RIGHTS.
fn receive_fd(sock: RawFd) -> RawFd {
    let mut data = [0u8; 64];
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
    let mut cmsg = [0u64; 8];
    // SAFETY: plain recvmsg into buffers that live across the call.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cmsg.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&cmsg) as _;
        assert!(libc::recvmsg(sock, &mut msg, 0) > 0, "recvmsg");
        let c = libc::CMSG_FIRSTHDR(&msg);
        assert!(!c.is_null() && (*c).cmsg_type == libc::SCM_RIGHTS);
        std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<RawFd>())
    }
}

#[test]
fn preserve_fds_passes_fd_3() {
    let b = Lab::new(&["sh", "-c", "echo through-3 >&3; ls /proc/self/fd"]);
    let target = b.fx().outside("fd3");
    let file = fs::File::create(&target).unwrap();
    // Above 3, so that the dup2 below always makes a new fd 3, without close-on-exec.
    // SAFETY: fcntl on an fd this test owns.
    let fd = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 100) };
    let mut c = b.cmd(&["run", "--preserve-fds", "1", id("p1")]);
    // SAFETY: dup2 between fds of this process, in the forked child before exec.
    unsafe {
        c.pre_exec(move || {
            libc::dup2(fd, 3);
            Ok(())
        });
    }
    let out = run(c);
    out.ok();
    assert_eq!(fs::read_to_string(&target).unwrap(), "through-3\n");
    // 4 is ls's own directory fd.
    assert_eq!(out.sorted_lines(), ["0", "1", "2", "3", "4"], "fd 3 and no other: {out}");
}

#[test]
fn errors_say_error_and_go_to_the_log() {
    let b = Lab::new(LOOP);
    let log = b.fx().outside("log.json");
    let out = b.hutch(&["--log", log.to_str().unwrap(), "--log-format", "json", "start", "missing"]);
    assert!(out.code() != 0 && out.stderr.starts_with("hutch: error: ") && out.stderr.contains("missing"), "{out}");
    let line = fs::read_to_string(&log).unwrap();
    assert!(line.starts_with(r#"{"level":"error","msg":"#) && line.contains("missing") && line.contains(r#""time":"20"#), "{line}");
    let out = b.hutch(&["--systemd-cgroup", "create", "x"]);
    assert!(out.code() != 0 && out.stderr.contains("error") && out.stderr.contains("cgroupfs"), "{out}");
    let out = b.hutch(&["create", "--bundle", "/nonexistent", "x"]);
    assert!(out.code() != 0 && out.stderr.contains("error"), "{out}");
    let out = b.hutch(&["kill", "missing", "TERM"]);
    assert!(out.code() != 0 && out.stderr.contains("error"), "{out}");
    let out = b.hutch(&["--version"]);
    assert!(out.stdout.starts_with("hutch ") && out.stdout.contains("spec: 1.2"), "{out}");
}

/// `--debug`: the command line and its exit status at level debug, in the log when there is
/// one (stderr then carries only what it would without `--debug`), else on stderr.
#[test]
fn debug_logs_the_command_and_its_outcome() {
    let b = Lab::new(LOOP);
    let log = b.fx().outside("debug.json");
    let out = b.hutch(&["--debug", "--log", log.to_str().unwrap(), "--log-format", "json", "state", "missing"]);
    assert!(out.code() == 125 && !out.stderr.contains("debug"), "{out}");
    let lines: Vec<String> = fs::read_to_string(&log).unwrap().lines().map(String::from).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with(r#"{"level":"debug","msg":"command line: state missing""#), "{lines:?}");
    assert!(lines[1].starts_with(r#"{"level":"error","msg":"#), "{lines:?}");
    assert!(lines[2].starts_with(r#"{"level":"debug","msg":"exit status 125""#), "{lines:?}");
    let out = b.hutch(&["--debug", "features"]);
    out.ok();
    assert!(out.stdout.starts_with('{'), "{out}");
    assert_eq!(out.stderr, "hutch: debug: command line: features\nhutch: debug: exit status 0\n", "{out}");
    assert_eq!(b.hutch(&["features"]).stderr, "", "no debug lines without --debug");
}

#[test]
fn pause_and_resume_freeze_the_container_and_delete_removes_its_cgroups() {
    let b = Lab::new(&["sh", "-c", "while :; do echo tick; sleep 0.02; done"]);
    b.create(id("z1"), &[]);
    let entry = fs::read_to_string(b.state.join(id("z1")).join("state")).unwrap();
    let dirs: Vec<PathBuf> = entry.lines().find_map(|l| l.strip_prefix("cgroups ")).expect("a cgroups line").split(':').map(PathBuf::from).collect();
    assert!(!dirs.is_empty() && dirs.iter().all(|d| d.is_dir()), "{dirs:?}");
    let out = b.hutch(&["pause", id("z1")]);
    assert!(out.code() != 0 && out.stderr.contains("error"), "a created container cannot be paused\n{out}");
    b.hutch(&["start", id("z1")]).ok();
    b.wait_out("tick");
    b.hutch(&["pause", id("z1")]).ok();
    assert_eq!(b.state(id("z1")).0, "paused");
    let ticks = b.out().lines().count();
    thread::sleep(Duration::from_millis(300));
    assert_eq!(b.out().lines().count(), ticks, "a paused container runs nothing");
    b.hutch(&["resume", id("z1")]).ok();
    assert_eq!(b.state(id("z1")).0, "running");
    thread::sleep(Duration::from_millis(300));
    assert!(b.out().lines().count() > ticks, "resumed");
    b.hutch(&["delete", "--force", id("z1")]).ok();
    assert!(dirs.iter().all(|d| !d.exists()), "cgroups left: {dirs:?}");
}

/// As runc: a missing command fails `create` (clients map its message to status 127), not
/// `start`, and leaves nothing behind.
#[test]
fn a_missing_command_fails_create() {
    let b = Lab::new(&["/no/such/command"]);
    let (code, err) = b.detached(&["create", id("m1")], |_| {});
    assert!(code == 127 && err.contains("error") && err.contains("No such file or directory"), "{code}: {err}");
    assert!(b.ids().is_empty() && processes_in(&b.fx().rootfs).is_empty());
}

/// What clients parse stays byte for byte: list's columns (runc's widths), `list -q`, `ps
/// --format json`, `state`'s pid, and the text log line (logrus's `time="..." level=... msg="..."`).
#[test]
fn list_columns_ps_json_and_the_text_log_keep_their_layout() {
    let b = Lab::new(LOOP);
    b.create(id("layout-1"), &[]);
    let table = b.hutch(&["list"]);
    table.ok();
    let lines = table.lines();
    assert_eq!(lines[0], "ID                 PID       STATUS    BUNDLE    CREATED                OWNER", "{table}");
    let (_, pid, _) = b.state(id("layout-1"));
    let pid = pid.to_string();
    let row = format!("{:<19}{pid}{}created   ", id("layout-1"), " ".repeat(10 - pid.len()));
    assert!(lines[1].starts_with(&row) && lines[1].ends_with("Z   root"), "{table}");
    assert_eq!(b.hutch(&["list", "-q"]).stdout, format!("{}\n", id("layout-1")));
    b.hutch(&["start", id("layout-1")]).ok();
    let ps = b.hutch(&["ps", "--format", "json", id("layout-1")]);
    let inner = ps.stdout.strip_prefix('[').and_then(|s| s.strip_suffix("]\n")).unwrap_or_else(|| panic!("{ps}"));
    assert!(inner.split(',').any(|p| p == pid), "{ps}");
    // The table: pids and command lines.
    let ps = b.hutch(&["ps", id("layout-1")]);
    let init_row = format!("{pid:<9}{}", LOOP.join(" "));
    assert!(ps.lines()[0] == "PID      COMMAND" && ps.lines().contains(&init_row.as_str()), "{ps}");
    let log = b.fx().outside("log.txt");
    let out = b.hutch(&["--log", log.to_str().unwrap(), "state", "missing"]);
    assert!(out.code() != 0, "{out}");
    let line = fs::read_to_string(&log).unwrap();
    assert!(line.starts_with("time=\"20") && line.ends_with("Z\" level=error msg=\"no such container: missing: see 'hutch ps'\"\n"), "{line}");
}

#[test]
fn the_container_gets_a_session_keyring_named_after_it() {
    // As runc: a new session keyring (keyrings(7)) whose description is the container's ID,
    // which the container sees in /proc/keys (unmasked here); --no-new-keyring keeps the
    // caller's.
    let b = Bundle::new(&oci_config(&["cat", "/proc/keys"], "", r#", "maskedPaths": []"#, ""));
    let state = b.fx.outside("state");
    let b = Lab { b, state };
    for (opts, name, named) in [(&[][..], id("k1"), true), (&["--no-new-keyring"][..], id("k2"), false)] {
        let out = b.hutch(&[&["run"][..], opts, &[name]].concat());
        out.ok();
        let own = format!(" {name}: ");
        assert_eq!(out.stdout.lines().any(|l| l.contains(" keyring ") && l.contains(&own)), named, "{opts:?}: {out}");
    }
}
