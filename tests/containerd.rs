//! containerd end to end: containerd's runc shim (containerd-shim-runc-v2, as Kubernetes
//! uses it) drives the runtime under test through the OCI command line, as it drives runc:
//! create with --pid-file and --log-format json, start, state, exec --process --detach,
//! ps --format json, pause, resume, kill, delete, and --console-socket for a terminal; on a
//! rootfs directory (`ctr run --rootfs`) and on an image imported with `ctr image import`,
//! whose rootfs the shim mounts from containerd's overlay snapshots. `ctr` is the client.
//!
//! The runtime is the hutch binary, or the one `HUTCH_TEST_RUNTIME` names
//! (`HUTCH_TEST_RUNTIME=/usr/sbin/runc`), so the tests themselves can be checked against a
//! runtime known to work.
//!
//! Each test has a containerd of its own that shares nothing with the host's: its root,
//! state and socket in a temp dir, and the whole daemon in a mount namespace of the test's
//! own with a fresh tmpfs on `/run`, where the shim puts its sockets (`/run/containerd/s`),
//! ctr its I/O fifos and the runtime its state (`/run/containerd/runc`). `ctr` runs in that
//! namespace too (nsenter). Containers go under a cgroup named for the test, removed at the
//! end; each container has its own network namespace, with lo only.
//!
//! Cleanup (also when a test fails): whatever is still in the test's namespace or cgroups is
//! killed (containerd last), which ends the namespace and its mounts; then the cgroups and
//! the temp dirs are removed.

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// containerd's namespace for the tests' containers (the daemon is private to each test).
const NS: &str = "hutch-test";

/// The runtime under test: hutch, unless HUTCH_TEST_RUNTIME names another.
fn runtime() -> String {
    std::env::var("HUTCH_TEST_RUNTIME").unwrap_or_else(|_| HUTCH.to_owned())
}

/// One private containerd, with the rootfs its containers run and their cgroup parent.
struct Containerd {
    fx: Fixture,
    dir: TempDir,
    /// containerd, in the test's mount namespace.
    daemon: Option<Running>,
    daemon_pid: u32,
    /// `/hutch-containerd-<pid>-<n>`, in every cgroup hierarchy.
    cgroup_parent: String,
    host_mounts: Vec<String>,
}

impl Containerd {
    fn new() -> Containerd {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let fx = Fixture::new();
        for applet in ["tty", "stty"] {
            std::os::unix::fs::symlink("busybox", fx.root(&format!("bin/{applet}"))).unwrap();
        }
        let host_mounts = host_mounts();
        let dir = TempDir::new();
        let d = as_str(dir.path()).to_owned();
        // Only what ctr and the runc shim need: no CRI, no snapshotters but the default.
        let config = format!(
            r#"version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
"#
        );
        fs::write(dir.path().join("config.toml"), config).unwrap();
        // Private propagation first, so nothing mounted here reaches the host.
        let mut c = Command::new("unshare");
        c.args(["--mount", "--propagation", "private", "sh", "-c"]).arg(format!(
            "mount -t tmpfs -o mode=0755 containerd-run /run && echo ready && exec containerd --config {d}/config.toml"
        ));
        let mut daemon = spawn_with_timeout(c, Duration::from_secs(600));
        daemon.wait_for_line("ready");
        let daemon_pid = daemon.pid();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let ctd = Containerd {
            fx,
            dir,
            daemon: Some(daemon),
            daemon_pid,
            cgroup_parent: format!("/hutch-containerd-{}-{n}", std::process::id()),
            host_mounts,
        };
        let deadline = Instant::now() + TIMEOUT;
        while ctd.ctr(&["version"]).code() != 0 {
            assert!(Instant::now() < deadline, "containerd did not start");
            thread::sleep(Duration::from_millis(50));
        }
        ctd
    }

    /// The command line of `ctr ARGS` in the test's mount namespace.
    fn argv<S: AsRef<str>>(&self, args: &[S]) -> Vec<String> {
        let mut a: Vec<String> = vec!["nsenter".into(), format!("--target={}", self.daemon_pid), "--mount".into(), "--".into()];
        a.extend(["ctr", "--address", &format!("{}/containerd.sock", as_str(self.dir.path())), "--namespace", NS].map(String::from));
        a.extend(args.iter().map(|s| s.as_ref().to_owned()));
        a
    }

    fn ctr(&self, args: &[&str]) -> Output {
        let argv = self.argv(args);
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        run(c)
    }

    /// The options of `ctr run` for container `id`: the runtime under test, the container's
    /// cgroup under the test's, then `opts`; then `image`, or this rootfs without one.
    fn run_args(&self, opts: &[&str], image: Option<&str>, id: &str, cmd: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = ["run", "--runc-binary", &runtime(), "--cgroup", &format!("{}/{id}", self.cgroup_parent)].map(String::from).into();
        a.extend(opts.iter().map(|s| s.to_string()));
        match image {
            Some(image) => a.push(image.to_owned()),
            None => a.extend(["--rootfs", self.fx.root_str()].map(String::from)),
        }
        a.push(id.to_owned());
        a.extend(cmd.iter().map(|s| s.to_string()));
        a
    }

    fn run(&self, opts: &[&str], id: &str, cmd: &[&str]) -> Output {
        self.run_image(opts, None, id, cmd)
    }

    fn run_image(&self, opts: &[&str], image: Option<&str>, id: &str, cmd: &[&str]) -> Output {
        let args = self.run_args(opts, image, id, cmd);
        self.ctr(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// `ctr run ...` on a terminal of its own: script(1) runs it on a new pseudo-terminal
    /// and types `input` there.
    fn run_on_terminal(&self, opts: &[&str], id: &str, cmd: &[&str], input: &str) -> Output {
        let line = self.argv(&self.run_args(opts, None, id, cmd)).iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(" ");
        let file = self.dir.path().join("tty-input");
        fs::write(&file, input).unwrap();
        let mut c = Command::new("script");
        c.args(["-qec", &line, "/dev/null"]);
        let out = run_with_stdin(c, &file);
        Output { stdout: out.stdout.replace('\r', ""), ..out }
    }

    /// `ctr task ls` as (id, pid, status) rows.
    fn tasks(&self) -> Vec<(String, u32, String)> {
        let out = self.ctr(&["task", "ls"]);
        out.ok();
        out.lines()[1..]
            .iter()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f[0].to_owned(), f[1].parse().unwrap(), f[2].to_owned())
            })
            .collect()
    }

    fn status(&self, id: &str) -> String {
        self.tasks().into_iter().find(|t| t.0 == id).map(|t| t.2).unwrap_or_default()
    }

    /// The runtime's own view: `RUNTIME list` over the state the shim keeps for it.
    fn runtime_list(&self) -> Output {
        let mut c = Command::new("nsenter");
        c.arg(format!("--target={}", self.daemon_pid)).args(["--mount", "--"]).arg(runtime());
        c.args(["--root", &format!("/run/containerd/runc/{NS}"), "list", "--quiet"]);
        run(c)
    }

    /// The cgroup directory of container `id` in each hierarchy that has it.
    fn container_cgroups(&self, id: &str) -> Vec<PathBuf> {
        let rel = format!("{}/{id}", self.cgroup_parent.trim_start_matches('/'));
        fs::read_dir("/sys/fs/cgroup").unwrap().flatten().map(|h| h.path().join(&rel)).filter(|p| p.is_dir()).collect()
    }

    /// Whether the freezer holds container `id` (v1's freezer.state, or v2's cgroup.events).
    fn frozen(&self, id: &str) -> bool {
        let dirs = self.container_cgroups(id);
        let v1 = dirs.iter().find_map(|d| fs::read_to_string(d.join("freezer.state")).ok());
        let v2 = dirs.iter().find_map(|d| fs::read_to_string(d.join("cgroup.events")).ok());
        match (v1, v2) {
            (Some(state), _) => state.trim() == "FROZEN",
            (None, Some(events)) => events.lines().any(|l| l == "frozen 1"),
            (None, None) => panic!("container {id} has no freezer: {dirs:?}"),
        }
    }

    /// Cleans up (as a drop does) and checks that the host's mount table is as it was and
    /// that the test's cgroups are gone.
    fn finish(self) {
        let before = self.host_mounts.clone();
        let cgroups = self.cgroup_parent.clone();
        drop(self);
        assert_nothing_left(&before, &cgroups);
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        // The containers (in the test's cgroups) and the shims first, containerd last; the
        // namespace, and every mount in it, ends with it.
        kill_all_but_holder(self.daemon_pid, &self.cgroup_parent, "containerd tests");
        drop(self.daemon.take());
        remove_cgroups(&self.cgroup_parent, "containerd tests");
    }
}

/// `ctr run --rm`: the command's output and exit status come back through the shim, as
/// PID 1 of the container, in the cgroup containerd named, with only fds 0-2 and its own
/// network namespace; nothing is left in the runtime's state afterwards.
#[test]
fn run_passes_output_and_exit_status() {
    let c = Containerd::new();
    let script = "echo pid=$$; echo to-stderr >&2; grep -c : /proc/net/dev; grep -q \"$CG\" /proc/self/cgroup && echo in-cgroup; ls /proc/self/fd; exit 3";
    let cg = format!(":{}/c1", c.cgroup_parent);
    let out = c.run(&["--rm", "--env", "PATH=/bin", "--env", &format!("CG={cg}")], "c1", &["sh", "-c", script]);
    out.assert_code(3);
    // /proc/net/dev: two header lines, then one line per interface, lo only; ls's own
    // directory fd is 3.
    assert_eq!(out.lines(), ["pid=1", "1", "in-cgroup", "0", "1", "2", "3"], "{out}");
    assert!(out.stderr.contains("to-stderr"), "{out}");
    // A command that does not exist fails the task's creation, with the runtime's message.
    let out = c.run(&["--rm"], "c2", &["/no/such/command"]);
    assert!(out.code() != 0 && out.stderr.to_lowercase().contains("no such file or directory"), "{out}");
    assert!(c.tasks().is_empty() && c.ctr(&["container", "ls", "--quiet"]).ok().stdout.is_empty());
    assert_eq!(c.runtime_list().ok().stdout, "", "the runtime's state is empty");
    c.finish();
}

/// `ctr run -d`, then `task exec` (runtime exec --process --detach), `task ps` (ps --format
/// json), `task pause` and `task resume` (the freezer), `task kill`, `task delete`: each as
/// containerd expects it.
#[test]
fn detached_task_exec_ps_pause_resume_kill_delete() {
    let c = Containerd::new();
    c.run(&["-d", "--env", "PATH=/bin"], "d1", &["sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.05; done"]).ok();
    let (_, pid, status) = c.tasks().into_iter().find(|t| t.0 == "d1").expect("task d1");
    assert_eq!(status, "RUNNING");
    assert!(c.container_cgroups("d1").iter().any(|d| fs::read_to_string(d.join("cgroup.procs")).unwrap().lines().any(|l| l == pid.to_string())), "the init is in the container's cgroup");

    let out = c.ctr(&["task", "exec", "--exec-id", "x1", "d1", "sh", "-c", "echo in-exec; cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $HOME; exit 4"]);
    out.assert_code(4);
    assert_eq!(out.lines(), ["in-exec", "sh -c trap 'exit 7' TERM; while :; do sleep 0.05; done ", "/root"], "{out}");
    // A long-running exec shows in `task ps` (the runtime's ps --format json) next to init.
    let sleeper = c.argv(&["task", "exec", "--exec-id", "x2", "d1", "sleep", "100"]);
    let mut cmd = Command::new(&sleeper[0]);
    cmd.args(&sleeper[1..]);
    let exec = spawn(cmd);
    let deadline = Instant::now() + TIMEOUT;
    let pids = loop {
        let out = c.ctr(&["task", "ps", "d1"]);
        out.ok();
        let pids: Vec<u32> = out.lines()[1..].iter().filter_map(|l| l.split_whitespace().next()?.parse().ok()).collect();
        if pids.len() >= 3 || Instant::now() > deadline {
            break pids;
        }
        thread::sleep(Duration::from_millis(50));
    };
    assert!(pids.contains(&pid) && pids.iter().any(|p| fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c == "sleep\n")), "{pids:?}");
    c.ctr(&["task", "kill", "--exec-id", "x2", "--signal", "SIGKILL", "d1"]).ok();
    let out = exec.wait();
    assert_eq!(out.code(), 137, "{out}");

    c.ctr(&["task", "pause", "d1"]).ok();
    assert_eq!(c.status("d1"), "PAUSED");
    assert!(c.frozen("d1"), "the container's cgroup is frozen");
    c.ctr(&["task", "resume", "d1"]).ok();
    assert_eq!(c.status("d1"), "RUNNING");
    assert!(!c.frozen("d1"), "thawed");

    // SIGTERM (ctr's default), which the script traps: its exit status reaches containerd.
    c.ctr(&["task", "kill", "d1"]).ok();
    let deadline = Instant::now() + TIMEOUT;
    while c.status("d1") != "STOPPED" {
        assert!(Instant::now() < deadline, "the task did not stop: {:?}", c.tasks());
        thread::sleep(Duration::from_millis(50));
    }
    let out = c.ctr(&["task", "delete", "d1"]);
    out.ok();
    assert!(out.stderr.contains("exit code 7"), "the exit status: {out}");
    c.ctr(&["container", "delete", "d1"]).ok();
    assert!(c.tasks().is_empty());
    assert_eq!(c.runtime_list().ok().stdout, "", "the runtime's state is empty");
    assert!(c.container_cgroups("d1").is_empty(), "the runtime removed the container's cgroups");
    c.finish();
}

/// `ctr run -t`: the shim passes --console-socket and gets the terminal's master back; the
/// container's stdin and stdout are that terminal, and what is typed reaches the shell.
#[test]
fn run_with_a_terminal() {
    let c = Containerd::new();
    let input = "tty; [ -t 0 ] && [ -t 1 ] && echo both-terminals; echo $((6*7)); exit 4\n";
    let out = c.run_on_terminal(&["-t", "--rm", "--env", "PATH=/bin"], "t1", &["sh"], input);
    out.assert_code(4);
    let lines = out.lines();
    assert!(lines.iter().any(|l| l.starts_with("/dev/pts/")), "tty names a terminal\n{out}");
    assert!(contains(&lines, "both-terminals"), "{out}");
    assert!(contains(&lines, "42"), "the typed command ran\n{out}");
    c.finish();
}

/// An OCI image layout in `dir`, packed as `dir/image.tar` for `ctr image import`: one
/// uncompressed layer (a tar of `rootfs`) and an image config giving PATH and a default
/// command; the image is named `name`.
fn oci_image(dir: &Path, rootfs: &Path, name: &str) -> PathBuf {
    let layout = dir.join("layout");
    let blobs = layout.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    // A blob under its digest; its digest and size.
    let blob = |bytes: &[u8]| -> (String, usize) {
        let tmp = dir.join("blob");
        fs::write(&tmp, bytes).unwrap();
        let out = Command::new("sha256sum").arg(&tmp).output().unwrap();
        let sum = String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned();
        fs::rename(&tmp, blobs.join(&sum)).unwrap();
        (format!("sha256:{sum}"), bytes.len())
    };
    let layer_tar = dir.join("layer.tar");
    assert!(Command::new("tar").arg("-C").arg(rootfs).arg("-cf").arg(&layer_tar).arg(".").status().unwrap().success());
    let (layer, layer_size) = blob(&fs::read(&layer_tar).unwrap());
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let (config, config_size) = blob(
        format!(
            r#"{{"architecture": "{arch}", "os": "linux", "config": {{"Env": ["PATH=/bin", "FROM_IMAGE=yes"], "Cmd": ["sh", "-c", "echo default-command"]}},
                "rootfs": {{"type": "layers", "diff_ids": ["{layer}"]}}}}"#
        )
        .as_bytes(),
    );
    let (manifest, manifest_size) = blob(
        format!(
            r#"{{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "{config}", "size": {config_size}}},
                "layers": [{{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "{layer}", "size": {layer_size}}}]}}"#
        )
        .as_bytes(),
    );
    fs::write(
        layout.join("index.json"),
        format!(
            r#"{{"schemaVersion": 2, "manifests": [{{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "{manifest}",
                "size": {manifest_size}, "platform": {{"architecture": "{arch}", "os": "linux"}},
                "annotations": {{"io.containerd.image.name": "{name}", "org.opencontainers.image.ref.name": "1"}}}}]}}"#
        ),
    )
    .unwrap();
    fs::write(layout.join("oci-layout"), r#"{"imageLayoutVersion": "1.0.0"}"#).unwrap();
    let image = dir.join("image.tar");
    assert!(Command::new("tar").arg("-C").arg(&layout).arg("-cf").arg(&image).arg(".").status().unwrap().success());
    image
}

/// An image made here, imported with `ctr image import` and run from containerd's overlay
/// snapshots: the runtime gets a bundle whose rootfs the shim mounted, the image's
/// environment, and each container a writable snapshot of its own.
#[test]
fn imported_image_runs_on_overlay_snapshots() {
    let c = Containerd::new();
    c.fx.write_root("etc/marker", "from the image\n");
    let name = "docker.io/library/hutch-test:1";
    let image = oci_image(c.dir.path(), &c.fx.rootfs, name);
    c.ctr(&["image", "import", as_str(&image)]).ok();
    assert!(c.ctr(&["image", "ls", "--quiet"]).ok().lines().contains(&name), "imported");
    let script = "cat /etc/marker; echo changed > /etc/marker; cat /etc/marker; echo $FROM_IMAGE; grep -cE '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / .* - overlay ' /proc/self/mountinfo";
    for id in ["i1", "i2"] {
        let out = c.run_image(&["--rm"], Some(name), id, &["sh", "-c", script]);
        out.ok();
        assert_eq!(out.lines(), ["from the image", "changed", "yes", "1"], "{id}: each container starts from the image: {out}");
    }
    // The image's default command, with its PATH.
    let out = c.run_image(&["--rm"], Some(name), "i3", &[]);
    assert_eq!(out.ok().stdout, "default-command\n", "{out}");
    assert!(c.ctr(&["snapshot", "ls"]).ok().lines().len() <= 2, "only the image's own snapshot is left");
    c.finish();
}
