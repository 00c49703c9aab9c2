//! config.json's cgroup sections against the real kernel, through the OCI foreground run
//! (`hutch run --bundle DIR ID`): linux.cgroupsPath, linux.resources (memory, cpu, pids,
//! hugepages, devices) and the user namespace's ID maps. Each test checks what the kernel
//! enforced inside the container, what the control files say outside, and what is left in the
//! cgroup filesystems afterwards.
//!
//! The tests run as root on a shared machine: each names its cgroups under a parent of its own
//! (`/hutch-oci-test-PID-N`), and removes that parent (which hutch, like runc, leaves) at the end.
mod common;

use common::{run, spawn, Fixture, Output, HUTCH};
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A bundle: the fixture's rootfs and a config.json next to it.
struct Bundle {
    fx: Fixture,
    /// The parent of the container's cgroup, absolute from each hierarchy's root.
    parent: String,
}

impl Bundle {
    /// A config running `script` under /bin/sh as root with CAP_MKNOD, with `resources` as
    /// linux.resources and `linux` spliced into linux (e.g. `"uidMappings": [...],`).
    fn new(script: &str, resources: &str, linux: &str) -> Bundle {
        static N: AtomicUsize = AtomicUsize::new(0);
        // With the mount points made: a container root in a user namespace may not make them.
        let fx = Fixture::with_mount_points();
        let parent = format!("/hutch-oci-test-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let caps = r#"["CAP_MKNOD", "CAP_DAC_OVERRIDE", "CAP_SETUID", "CAP_SETGID", "CAP_KILL"]"#;
        let config = format!(
            r#"{{"ociVersion": "1.0.2", "root": {{"path": "rootfs"}},
            "process": {{"args": ["/bin/sh", "-c", {script:?}], "cwd": "/", "env": ["PATH=/bin"], "user": {{"uid": 0, "gid": 0}},
                "capabilities": {{"bounding": {caps}, "effective": {caps}, "permitted": {caps}}}}},
            "mounts": [{{"destination": "/proc", "type": "proc", "source": "proc"}},
                {{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}},
                {{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}}],
            "linux": {{{linux} "resources": {resources}, "cgroupsPath": "{parent}/ctr",
                "namespaces": [{{"type": "pid"}}, {{"type": "mount"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "network"}}]}}}}"#
        );
        fs::write(fx.outside("config.json"), config).unwrap();
        Bundle { fx, parent }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(HUTCH);
        // A state directory per bundle: tests run at once, each container under the same ID.
        c.arg("--root").arg(self.fx.outside("state")).args(["run", "--bundle"]).arg(self.fx.outside("")).arg(format!("t{}", std::process::id()));
        c
    }

    fn run(&self) -> Output {
        run(self.command())
    }

    /// `hutch --root STATE ARGS...` for the lifecycle verbs, the bundle as the directory.
    fn hutch(&self, args: &[&str]) -> Output {
        let mut c = Command::new(HUTCH);
        c.arg("--root").arg(self.fx.outside("state")).args(args).current_dir(self.fx.outside(""));
        run(c)
    }

    /// Rewrites config.json.
    fn edit(&self, from: &str, to: &str) {
        let config = fs::read_to_string(self.fx.outside("config.json")).unwrap();
        assert!(config.contains(from), "{from}");
        fs::write(self.fx.outside("config.json"), config.replace(from, to)).unwrap();
    }

    /// The container's cgroup directory in each hierarchy that has it (while it runs).
    fn dirs(&self) -> Vec<PathBuf> {
        hierarchies().iter().map(|h| h.join(format!("{}/ctr", &self.parent[1..]))).filter(|d| d.exists()).collect()
    }

    /// The value of a control file of the container's cgroup, in whichever hierarchy has it.
    fn file(&self, name: &str) -> String {
        let dirs = self.dirs();
        let Some(p) = dirs.iter().map(|d| d.join(name)).find(|p| p.exists()) else { panic!("no {name} in {dirs:?}") };
        fs::read_to_string(&p).unwrap().trim().to_string()
    }
}

impl Drop for Bundle {
    /// Removes the parent hutch leaves, as runc does. Only empty directories are removed.
    fn drop(&mut self) {
        for h in hierarchies() {
            let _ = fs::remove_dir(h.join(&self.parent[1..]));
        }
    }
}

/// The mount points of the host's cgroup hierarchies.
fn hierarchies() -> Vec<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines()
        .filter(|l| l.contains(" - cgroup2 ") || (l.contains(" - cgroup ") && !l.contains("name=")))
        .map(|l| PathBuf::from(l.split(' ').nth(4).unwrap()))
        .collect()
}

/// Waits until the container has said "ready", checks, then lets it finish (`touch /done`).
fn while_running(b: &Bundle, check: impl FnOnce()) -> Output {
    let mut r = spawn(b.command());
    r.wait_for_line("ready");
    check();
    fs::write(b.fx.root("done"), "").unwrap();
    r.wait()
}

const WAIT: &str = "echo ready; while [ ! -e /done ]; do sleep 0.05; done";

#[test]
fn limits_are_written_enforced_and_removed_with_the_container() {
    let resources = r#"{"memory": {"limit": 33554432, "reservation": 16777216, "swap": 67108864, "swappiness": 20},
        "cpu": {"shares": 512, "quota": 20000, "period": 50000, "cpus": "0", "mems": "0"},
        "pids": {"limit": 40}, "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}"#;
    let b = Bundle::new(&format!("cat /proc/self/cgroup; {WAIT}"), resources, "");
    let out = while_running(&b, || {
        let v2 = b.dirs().iter().any(|d| d.join("cgroup.controllers").exists() && d.join("memory.max").exists());
        let expect: &[(&str, &str)] = if v2 {
            &[("memory.max", "33554432"), ("memory.low", "16777216"), ("memory.swap.max", "33554432"), ("cpu.max", "20000 50000"), ("cpu.weight", "20")]
        } else {
            &[
                ("memory.limit_in_bytes", "33554432"),
                ("memory.soft_limit_in_bytes", "16777216"),
                ("memory.memsw.limit_in_bytes", "67108864"),
                ("memory.swappiness", "20"),
                ("cpu.cfs_quota_us", "20000"),
                ("cpu.cfs_period_us", "50000"),
                ("cpu.shares", "512"),
            ]
        };
        for (file, value) in expect.iter().chain(&[("pids.max", "40"), ("cpuset.cpus", "0"), ("cpuset.mems", "0")]) {
            assert_eq!(b.file(file), *value, "{file}");
        }
        let huge = b.dirs().iter().map(|d| [d.join("hugetlb.2MB.max"), d.join("hugetlb.2MB.limit_in_bytes")]).flatten().find(|p| p.exists());
        assert_eq!(fs::read_to_string(huge.expect("no hugetlb file")).unwrap().trim(), "4194304");
        // Inside, the process is in those cgroups (no cgroup namespace here: full paths).
        assert!(b.dirs().len() >= 2, "{:?}", b.dirs());
    });
    out.ok();
    assert!(out.stdout.lines().any(|l| l.ends_with(&format!(":{}/ctr", b.parent))), "{out}");
    assert_eq!(b.dirs(), Vec::<PathBuf>::new(), "the container's cgroups were left");
    assert!(hierarchies().iter().any(|h| h.join(&b.parent[1..]).exists()), "the parent is left, as runc does");
}

#[test]
fn memory_limit_oom_kills() {
    // 16 MiB of a 64 MiB string in a shell variable: far past an 8 MiB limit with no swap.
    let b = Bundle::new(
        "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived",
        r#"{"memory": {"limit": 8388608, "swap": 8388608}}"#,
        "",
    );
    let out = b.run();
    assert_eq!(out.code(), 137, "{out}");
    assert!(!out.stdout.contains("survived"), "{out}");
}

#[test]
fn pids_limit_stops_a_fork_bomb() {
    let bomb = "i=0; while [ $i -lt 30 ]; do sleep 5 & i=$((i+1)); echo $i; done; echo all";
    let b = Bundle::new(bomb, r#"{"pids": {"limit": 10}}"#, "");
    let out = b.run();
    assert!(!out.stdout.contains("all"), "the fork bomb was not stopped\n{out}");
    assert!(out.stderr.contains("fork"), "{out}");
    // The same without the limit.
    let b = Bundle::new(bomb, r#"{"pids": {"limit": 0}}"#, "");
    assert!(b.run().ok().stdout.contains("all"));
}

/// /dev/kmsg (c 1:11) is none of the devices every container gets, and root may open it
/// for writing without further capabilities.
const KMSG: &str = "mknod /tmp/k c 1 11 || exit 3; (: > /tmp/k) && echo open; (: > /dev/null) && echo null";

#[test]
fn device_rules_apply_in_order_after_the_defaults() {
    let deny_all = r#"{"allow": false, "access": "rwm"}"#;
    let b = Bundle::new(KMSG, &format!(r#"{{"devices": [{deny_all}]}}"#), "");
    let out = b.run();
    assert!(out.stderr.contains("Operation not permitted"), "{out}");
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), ["null"], "mknod is allowed, kmsg is not, null is\n{out}");
    let b = Bundle::new(KMSG, &format!(r#"{{"devices": [{deny_all}, {{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}}]}}"#), "");
    assert_eq!(b.run().ok().stdout, "open\nnull\n");
    let b = Bundle::new(KMSG, r#"{"devices": [{"allow": true, "access": "rwm"}, {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "w"}]}"#, "");
    let out = b.run();
    assert_eq!(out.stdout, "null\n", "all allowed, then kmsg denied\n{out}");
    // Without rules, nothing is denied.
    assert_eq!(Bundle::new(KMSG, "{}", "").run().ok().stdout, "open\nnull\n");
}

#[test]
fn a_relative_path_is_under_hutchs_own_cgroup() {
    let b = Bundle::new("cat /proc/self/cgroup", "{}", "");
    let rel = format!("{}/ctr", &b.parent[1..]);
    b.edit(&format!("\"{}/ctr\"", b.parent), &format!("\"{rel}\""));
    let out = b.run();
    out.ok();
    let own = fs::read_to_string("/proc/self/cgroup").unwrap();
    let mut checked = 0;
    for line in out.stdout.lines().filter(|l| !l.contains("name=")) {
        let (ids, path) = line.rsplit_once(':').unwrap();
        let ours = own.lines().find_map(|l| l.rsplit_once(':').filter(|(i, _)| *i == ids)).map(|(_, p)| p).unwrap();
        if path != ours {
            assert_eq!(path, format!("{}/{rel}", ours.trim_end_matches('/')), "{line}");
            checked += 1;
        }
    }
    assert!(checked >= 2, "{out}");
    // Its parent is under the test's cgroups: remove it there (only empty directories).
    for line in own.lines() {
        let path = line.rsplit(':').next().unwrap().trim_start_matches('/');
        for h in hierarchies() {
            let _ = fs::remove_dir(h.join(path).join(&b.parent[1..]));
        }
    }
}

#[test]
fn bad_values_fail_naming_the_field_before_anything_is_made() {
    for (resources, field) in [
        (r#"{"memory": {"limit": "32m"}}"#, "linux.resources.memory.limit"),
        (r#"{"memory": {"limit": 100000000, "swap": 1}}"#, "linux.resources.memory.swap"),
        (r#"{"devices": [{"allow": true, "type": "x"}]}"#, "linux.resources.devices[0].type"),
    ] {
        let b = Bundle::new("true", resources, "");
        let out = b.run();
        assert_ne!(out.code(), 0, "{out}");
        assert!(out.stderr.contains(field), "{out}");
        assert!(!hierarchies().iter().any(|h| h.join(&b.parent[1..]).exists()), "made a cgroup");
    }
    // A hugepage size the host does not have fails, and leaves no cgroup of the container.
    let b = Bundle::new("true", r#"{"hugepageLimits": [{"pageSize": "3MB", "limit": 0}]}"#, "");
    let out = b.run();
    assert_eq!(out.code(), 125, "{out}");
    assert!(out.stderr.contains("hugetlb.3MB"), "{out}");
    assert_eq!(b.dirs(), Vec::<PathBuf>::new());
}

#[test]
fn id_maps_make_the_user_namespace() {
    // The rootfs stays the host's root's: the container's root, host uid 100000, reads it as
    // anyone may.
    let maps = r#""uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
        "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],"#;
    let b = Bundle::new("cat /proc/self/uid_map /proc/self/gid_map", "{}", maps);
    b.edit(r#"{"type": "pid"}"#, r#"{"type": "pid"}, {"type": "user"}"#);
    let out = b.run();
    out.ok();
    let lines: Vec<Vec<&str>> = out.stdout.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines, [["0", "100000", "65536"], ["0", "100000", "65536"]], "{out}");
    // Without the user namespace, maps are an error; a user namespace needs them.
    let b = Bundle::new("true", "{}", maps);
    let out = b.run();
    assert!(out.stderr.contains("linux.uidMappings") && out.code() != 0, "{out}");
    let b = Bundle::new("true", "{}", "");
    b.edit(r#"{"type": "pid"}"#, r#"{"type": "pid"}, {"type": "user"}"#);
    let out = b.run();
    assert!(out.stderr.contains("linux.uidMappings") && out.code() != 0, "{out}");
}

#[test]
fn without_a_path_the_cgroup_is_the_id_under_hutchs_own() {
    let b = Bundle::new("cat /proc/self/cgroup", "{}", "");
    b.edit(&format!(r#", "cgroupsPath": "{}/ctr""#, b.parent), "");
    let out = b.run();
    out.ok();
    let own = fs::read_to_string("/proc/self/cgroup").unwrap();
    let id = format!("t{}", std::process::id());
    let mut checked = 0;
    for line in out.stdout.lines().filter(|l| !l.contains("name=")) {
        let (ids, path) = line.rsplit_once(':').unwrap();
        let ours = own.lines().find_map(|l| l.rsplit_once(':').filter(|(i, _)| *i == ids)).map(|(_, p)| p).unwrap();
        if path != ours {
            assert_eq!(path, format!("{}/{id}", ours.trim_end_matches('/')), "{line}");
            checked += 1;
        }
    }
    assert!(checked >= 2, "{out}");
}

/// pause and resume as the freezers see them: v1's freezer.state, v2's cgroup.events (on a
/// hybrid host both); the frozen shell's pid stays in its cgroup, and delete removes them all.
#[test]
fn pause_freezes_every_freezer_and_delete_removes_the_cgroups() {
    let b = Bundle::new("while :; do sleep 0.05; done", "{}", "");
    // The container keeps create's stdio: not a pipe the test would wait on.
    let mut create = Command::new(HUTCH);
    create.arg("--root").arg(b.fx.outside("state")).args(["create", "--bundle", ".", "p1"]).current_dir(b.fx.outside(""));
    assert!(create.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap().success());
    b.hutch(&["start", "p1"]).ok();
    let freezers = || -> Vec<(PathBuf, String)> {
        let read = |p: PathBuf| fs::read_to_string(&p).ok().map(|v| (p, v));
        b.dirs().into_iter().flat_map(|d| [read(d.join("freezer.state")), read(d.join("cgroup.events"))]).flatten().collect()
    };
    assert!(!freezers().is_empty(), "no freezer for the container");
    b.hutch(&["pause", "p1"]).ok();
    for (file, v) in freezers() {
        assert!(v.starts_with("FROZEN") || v.contains("frozen 1"), "{}: {v}", file.display());
    }
    assert!(b.hutch(&["state", "p1"]).ok().stdout.contains(r#""status":"paused""#));
    b.hutch(&["resume", "p1"]).ok();
    for (file, v) in freezers() {
        assert!(v.starts_with("THAWED") || v.contains("frozen 0"), "{}: {v}", file.display());
    }
    b.hutch(&["kill", "p1", "KILL"]).ok();
    b.hutch(&["delete", "--force", "p1"]).ok();
    assert_eq!(b.dirs(), Vec::<PathBuf>::new(), "delete left cgroups");
    // Deleting a paused container: its frozen processes die once thawed.
    assert!(create.status().unwrap().success());
    b.hutch(&["start", "p1"]).ok();
    b.hutch(&["pause", "p1"]).ok();
    let started = std::time::Instant::now();
    let out = b.hutch(&["delete", "--force", "p1"]);
    out.ok();
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "delete took {:?}\n{out}", started.elapsed());
    assert_eq!(b.dirs(), Vec::<PathBuf>::new(), "delete left a paused container's cgroups");
}
