//! Podman end to end: podman drives the runtime under test through the OCI command line
//! (create, start, state, kill, delete, exec), as it drives runc or crun.
//!
//! The runtime is the hutch binary, or the one `HUTCH_TEST_RUNTIME` names
//! (`HUTCH_TEST_RUNTIME=/usr/sbin/runc`), so the tests themselves can be checked against a
//! runtime known to work.
//!
//! Each test has a podman of its own that shares nothing with the host's:
//! - containers.conf and storage.conf in a temp dir (CONTAINERS_CONF,
//!   CONTAINERS_STORAGE_CONF): the vfs driver (no mounts of its own), graph and run roots,
//!   tmp dir, file locks, events file and CNI configuration and address leases all below
//!   that dir; cgroupfs, since the host's systemd is none of podman's business here;
//! - every podman command runs (`nsenter`) in a mount and network namespace of the test's
//!   own, held by a `sleep`: there `/run` and `/var/lib` are fresh tmpfs, so the netns
//!   files podman makes under `/run/netns`, the runtime's state under `/run/<runtime>` and
//!   CNI's cache in `/var/lib/cni` never reach the host; the bridge, its iptables rules
//!   and all traffic stay in the test's network namespace;
//! - containers go under a cgroup parent named for the test, removed at the end.
//!
//! Cleanup (also when a test fails): `podman rm -fa`, then whatever is still in the test's
//! namespace or cgroups is killed, the holder ends (the namespace and its mounts with it),
//! the cgroups are removed, and the temp dirs.

mod common;

use common::*;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// podman's own start-up (it reads its storage, takes locks, starts conmon) is slower than
/// a runtime's: a generous deadline per command.
const PODMAN_TIMEOUT: Duration = Duration::from_secs(60);

/// The runtime under test: hutch, unless HUTCH_TEST_RUNTIME names another.
fn runtime() -> String {
    std::env::var("HUTCH_TEST_RUNTIME").unwrap_or_else(|_| HUTCH.to_owned())
}

/// One private podman: its configuration and storage, its namespaces and its cgroup parent.
struct Podman {
    /// The container's rootfs (busybox and the probe), for `--rootfs`.
    fx: Fixture,
    /// Configuration, storage, run and tmp dirs.
    dir: TempDir,
    /// `sleep` in the test's mount and network namespaces.
    holder: Option<Running>,
    holder_pid: u32,
    /// `/hutch-podman-<pid>-<n>`, in every cgroup hierarchy.
    cgroup_parent: String,
    /// The host's mount table before.
    host_mounts: Vec<String>,
}

impl Podman {
    fn new() -> Podman {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let fx = Fixture::new();
        for applet in ["tty", "uname"] {
            std::os::unix::fs::symlink("busybox", fx.root(&format!("bin/{applet}"))).unwrap();
        }
        let host_mounts = host_mounts();
        let dir = TempDir::new();
        let d = as_str(dir.path()).to_owned();
        for sub in ["conf/net", "storage", "run", "tmp", "cni"] {
            fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let write = |rel: &str, text: String| fs::write(dir.path().join(rel), text).unwrap();
        write(
            "conf/containers.conf",
            format!(
                r#"[containers]
log_driver = "k8s-file"
# This machine's hard limits are lower than podman's defaults (nofile 1048576).
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[network]
network_backend = "cni"
network_config_dir = "{d}/conf/net"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{d}/events.log"
tmp_dir = "{d}/tmp"
static_dir = "{d}/storage/libpod"
volume_path = "{d}/storage/volumes"
image_copy_tmp_dir = "{d}/tmp"
lock_type = "file"
"#
            ),
        );
        write(
            "conf/storage.conf",
            format!(
                "[storage]\ndriver = \"vfs\"\ngraphroot = \"{d}/storage\"\nrunroot = \"{d}/run\"\n"
            ),
        );
        write(
            "conf/registries.conf",
            "unqualified-search-registries = []\n".to_owned(),
        );
        // Podman's default network, as Debian ships it, with the address leases kept here.
        write(
            "conf/net/podman.conflist",
            format!(
                r#"{{
  "cniVersion": "0.4.0",
  "name": "podman",
  "plugins": [
    {{ "type": "bridge", "bridge": "cni-podman0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": {{ "type": "host-local", "dataDir": "{d}/cni", "routes": [{{ "dst": "0.0.0.0/0" }}],
                "ranges": [[{{ "subnet": "10.88.0.0/16", "gateway": "10.88.0.1" }}]] }} }},
    {{ "type": "portmap", "capabilities": {{ "portMappings": true }} }},
    {{ "type": "firewall" }},
    {{ "type": "tuning" }}
  ]
}}
"#
            ),
        );

        // The namespaces: private propagation first, so nothing mounted here reaches the host.
        let mut c = Command::new("unshare");
        c.args(["--mount", "--net", "--propagation", "private", "sh", "-c"])
            .arg(
                "ip link set lo up && mount -t tmpfs -o mode=0755 podman-run /run \
             && mount -t tmpfs -o mode=0755 podman-lib /var/lib && echo ready && exec sleep 1000",
            );
        let mut holder = spawn_with_timeout(c, PODMAN_TIMEOUT);
        holder.wait_for_line("ready");
        let holder_pid = holder.pid();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let cgroup_parent = format!("/hutch-podman-{}-{n}", std::process::id());
        Podman {
            fx,
            dir,
            holder: Some(holder),
            holder_pid,
            cgroup_parent,
            host_mounts,
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

    fn rootfs(&self) -> &str {
        self.fx.root_str()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `podman ARGS` in the test's namespaces, with its private configuration.
    fn command(&self, args: &[&str]) -> Command {
        let argv = self.argv(args);
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        self.env(&mut c);
        c
    }

    /// The command line of `podman ARGS` in the test's namespaces (its environment: `env`).
    fn argv<S: AsRef<str>>(&self, args: &[S]) -> Vec<String> {
        let mut a: Vec<String> = vec!["nsenter".into(), format!("--target={}", self.holder_pid)];
        a.extend(["--mount", "--net", "--", "podman", "--runtime"].map(String::from));
        a.push(runtime());
        a.extend(args.iter().map(|s| s.as_ref().to_owned()));
        a
    }

    fn env(&self, c: &mut Command) {
        c.env("CONTAINERS_CONF", self.path("conf/containers.conf"))
            .env("CONTAINERS_STORAGE_CONF", self.path("conf/storage.conf"))
            .env(
                "CONTAINERS_REGISTRIES_CONF",
                self.path("conf/registries.conf"),
            )
            .env("TMPDIR", self.path("tmp"));
    }

    fn podman(&self, args: &[&str]) -> Output {
        spawn_with_timeout(self.command(args), PODMAN_TIMEOUT).wait()
    }

    /// `podman run` with the options every run here takes: the test's cgroup parent.
    fn run(&self, opts: &[&str], cmd: &[&str]) -> Output {
        spawn_with_timeout(self.command_from(&self.run_args(opts, cmd)), PODMAN_TIMEOUT).wait()
    }

    fn command_from(&self, args: &[String]) -> Command {
        let strs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.command(&strs)
    }

    /// `podman run ... OPTS CMD` on a terminal of its own: script(1) runs it on a new
    /// pseudo-terminal and types `input` there.
    fn run_on_terminal(&self, opts: &[&str], cmd: &[&str], input: &str) -> Output {
        let line = self
            .argv(&self.run_args(opts, cmd))
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ");
        let file = self.path("tty-input");
        fs::write(&file, input).unwrap();
        let mut c = Command::new("script");
        c.args(["-qec", &line, "/dev/null"]);
        self.env(&mut c);
        let out = run_with_stdin(c, &file);
        Output {
            stdout: out.stdout.replace('\r', ""),
            ..out
        }
    }

    fn run_args(&self, opts: &[&str], cmd: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "run".into(),
            "--cgroup-parent".into(),
            self.cgroup_parent.clone(),
        ];
        a.extend(opts.iter().map(|s| s.to_string()));
        a.extend(cmd.iter().map(|s| s.to_string()));
        a
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        // No panics here: this also runs while a failed test unwinds.
        if self.holder.is_some() {
            let mut c = Command::new("timeout");
            c.arg("60")
                .args(self.argv(&["rm", "--all", "--force", "--time", "0"]));
            self.env(&mut c);
            let _ = c.stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        // Whatever podman left (a conmon, a container process); then the namespace, and every
        // mount in it, ends with its last process.
        kill_all_but_holder(self.holder_pid, &self.cgroup_parent, "podman tests");
        drop(self.holder.take());
        remove_cgroups(&self.cgroup_parent, "podman tests");
    }
}

/// `podman run --rm --network none --rootfs`: output, PID 1, no network but lo, and the
/// command's exit status passed through.
#[test]
fn run_rootfs_passes_output_and_exit_status() {
    let pm = Podman::new();
    let out = pm.run(
        &["--rm", "--network", "none", "--rootfs", pm.rootfs()],
        &[
            "sh",
            "-c",
            "echo pid=$$; echo to-stderr >&2; grep -c : /proc/net/dev; exit 3",
        ],
    );
    out.assert_code(3);
    // /proc/net/dev: two header lines, then one line per interface, lo only.
    assert_eq!(out.lines(), ["pid=1", "1"], "{out}");
    assert!(out.stderr.contains("to-stderr"), "{out}");

    pm.run(
        &["--rm", "--network", "none", "--rootfs", pm.rootfs()],
        &["true"],
    )
    .ok();
    // A command that does not exist, one that cannot be executed: podman's 127 and 126.
    pm.run(
        &["--rm", "--network", "none", "--rootfs", pm.rootfs()],
        &["/no/such/command"],
    )
    .assert_code(127);
    pm.run(
        &["--rm", "--network", "none", "--rootfs", pm.rootfs()],
        &["/etc/passwd"],
    )
    .assert_code(126);
    assert_eq!(
        pm.podman(&["ps", "--all", "--quiet"]).ok().stdout,
        "",
        "--rm removed every container"
    );
    pm.finish();
}

/// An image made by `podman import` from a tar of the rootfs, run twice: each container
/// gets its own copy of the image's files.
#[test]
fn imported_image_runs() {
    let pm = Podman::new();
    pm.fx.write_root("etc/marker", "from the image\n");
    let tar = pm.path("rootfs.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&pm.fx.rootfs)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success(), "tar of the rootfs");
    let out = pm.podman(&["import", as_str(&tar), "localhost/hutch-busybox:test"]);
    out.ok();
    let images = pm.podman(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(
        images.ok().lines(),
        ["localhost/hutch-busybox:test"],
        "{images}"
    );

    let image = "localhost/hutch-busybox:test";
    let out = pm.run(
        &["--rm", "--network", "none", image],
        &[
            "sh",
            "-c",
            "cat /etc/marker; echo changed > /etc/marker; cat /etc/marker",
        ],
    );
    assert_eq!(out.ok().lines(), ["from the image", "changed"], "{out}");
    let out = pm.run(
        &["--rm", "--network", "none", image],
        &["sh", "-c", "cat /etc/marker; exit 9"],
    );
    out.assert_code(9);
    assert_eq!(
        out.lines(),
        ["from the image"],
        "a new container starts from the image\n{out}"
    );
    pm.finish();
}

/// A detached container: `run -d`, `ps`, `exec` (output, exit status, same namespaces),
/// `stop` (SIGTERM, handled by the container's trap), `logs`, `inspect`, `rm`.
#[test]
fn detached_container_exec_stop_rm() {
    let pm = Podman::new();
    let script = "trap 'echo got-term; exit 7' TERM; echo started; hostname > /hostname-at-start; \
                  while :; do sleep 0.1; done";
    let out = pm.run(
        &[
            "-d",
            "--name",
            "box",
            "--hostname",
            "boxhost",
            "--network",
            "none",
            "--rootfs",
            pm.rootfs(),
        ],
        &["sh", "-c", script],
    );
    out.ok();
    let id = out.stdout.trim().to_owned();
    assert_eq!(id.len(), 64, "run -d prints the container's id\n{out}");

    let ps = pm.podman(&["ps", "--format", "{{.ID}} {{.Names}}"]);
    assert_eq!(ps.ok().lines(), [format!("{} box", &id[..12])], "{ps}");
    let out = pm.podman(&[
        "inspect",
        "--format",
        "{{.State.Status}} {{.State.Pid}}",
        "box",
    ]);
    let state = out.ok().stdout.trim().to_owned();
    let pid = state
        .strip_prefix("running ")
        .unwrap_or_else(|| panic!("{out}"));
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    assert_eq!(
        comm, "sh\n",
        "the runtime's state gives the container's pid\n{out}"
    );

    // exec: a new process in the container (its PID namespace, its hostname, its files).
    let deadline = Instant::now() + Duration::from_secs(10);
    let out = loop {
        let out = pm.podman(&["exec", "box", "sh", "-c", "cat /hostname-at-start && hostname && cat /proc/1/cmdline | tr '\\0' ' ' && echo && echo pid=$$"]);
        if out.code() == 0 || Instant::now() > deadline {
            break out;
        }
        thread::sleep(Duration::from_millis(100));
    };
    let lines = out.ok().lines();
    assert_eq!(lines[..2], ["boxhost", "boxhost"], "{out}");
    assert!(
        lines[2].starts_with("sh -c trap"),
        "PID 1 is the container's command\n{out}"
    );
    assert!(lines[3].starts_with("pid=") && lines[3] != "pid=1", "{out}");
    pm.podman(&["exec", "box", "sh", "-c", "exit 5"])
        .assert_code(5);
    let out = pm.podman(&[
        "exec",
        "-e",
        "FROM_EXEC=yes",
        "-w",
        "/etc",
        "box",
        "sh",
        "-c",
        "echo $FROM_EXEC $(pwd)",
    ]);
    assert_eq!(out.ok().lines(), ["yes /etc"], "{out}");

    pm.podman(&["stop", "--time", "10", "box"]).ok();
    let out = pm.podman(&[
        "inspect",
        "--format",
        "{{.State.Status}} {{.State.ExitCode}}",
        "box",
    ]);
    assert_eq!(
        out.ok().lines(),
        ["exited 7"],
        "the container's trap ran on SIGTERM\n{out}"
    );
    let out = pm.podman(&["logs", "box"]);
    assert_eq!(out.ok().stdout, "started\ngot-term\n", "{out}");
    // exec into a stopped container fails.
    assert_ne!(pm.podman(&["exec", "box", "true"]).code(), 0);

    pm.podman(&["rm", "box"]).ok();
    assert_eq!(pm.podman(&["ps", "--all", "--quiet"]).ok().stdout, "");

    // kill: SIGKILL through the runtime; the status is 128+9.
    pm.run(
        &[
            "-d",
            "--name",
            "k",
            "--network",
            "none",
            "--rootfs",
            pm.rootfs(),
        ],
        &["sleep", "100"],
    )
    .ok();
    pm.podman(&["kill", "k"]).ok();
    let out = pm.podman(&["wait", "k"]);
    assert_eq!(out.ok().lines(), ["137"], "{out}");
    pm.podman(&["rm", "k"]).ok();
    assert_eq!(pm.podman(&["ps", "--all", "--quiet"]).ok().stdout, "");
    pm.finish();
}

/// `podman run -it` on a terminal (script(1) gives it one): the container's stdin and
/// stdout are a terminal, what is typed reaches its shell, and the status comes back.
#[test]
fn interactive_tty() {
    let pm = Podman::new();
    let opts = ["-it", "--rm", "--network", "none", "--rootfs", pm.rootfs()];
    let input = "tty; test -t 0 && test -t 1 && echo both-terminals; echo $((6*7))\nexit 4\n";
    let out = pm.run_on_terminal(&opts, &["sh"], input);
    out.assert_code(4);
    let lines = out.lines();
    assert!(
        lines.iter().any(|l| l.starts_with("/dev/pts/")),
        "tty names a terminal\n{out}"
    );
    assert!(contains(&lines, "both-terminals"), "{out}");
    assert!(contains(&lines, "42"), "the typed command ran\n{out}");

    // Without -t the container's stdin is not a terminal, though podman's is.
    let opts = ["-i", "--rm", "--network", "none", "--rootfs", pm.rootfs()];
    let out = pm.run_on_terminal(&opts, &["sh", "-c", "tty; exit 0"], "");
    assert!(
        out.lines()
            .iter()
            .any(|l| l.trim_start_matches("^@") == "not a tty"),
        "{out}"
    );
    pm.finish();
}

/// The default network (a CNI bridge, here in the test's network namespace): the container
/// has an eth0 with an address in the bridge's subnet and a default route, and reaches the
/// bridge's address; the bridge exists in the test's namespace only.
#[test]
fn bridge_network() {
    let host_links = || fs::read_to_string("/proc/net/dev").unwrap();
    let before = host_links();
    let pm = Podman::new();
    let out = pm.run(
        &["--rm", "--rootfs", pm.rootfs()],
        &["sh", "-c", "ip -4 -o addr show dev eth0; ip route | grep ^default; ping -c 1 -W 5 10.88.0.1 >/dev/null && echo ping-ok"],
    );
    out.ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].contains("eth0") && lines[0].contains("inet 10.88."),
        "eth0 has an address\n{out}"
    );
    assert!(lines[1].starts_with("default via 10.88.0.1"), "{out}");
    assert_eq!(lines[2], "ping-ok", "{out}");

    // The bridge lives in the test's network namespace, not the host's.
    let mut c = Command::new("nsenter");
    c.arg(format!("--target={}", pm.holder_pid)).args([
        "--net",
        "--",
        "ip",
        "-o",
        "link",
        "show",
        "cni-podman0",
    ]);
    run(c).ok();
    let names = |t: &str| {
        t.lines()
            .skip(2)
            .filter_map(|l| l.split(':').next())
            .map(|n| n.trim().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&host_links()),
        names(&before),
        "the host's interfaces changed"
    );
    pm.finish();
}
