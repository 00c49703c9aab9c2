//! User namespaces end to end: rootless containers (hutch run by an ordinary user, created
//! for the test by switching to an unused uid with setpriv, no /etc/passwd entry needed),
//! subordinate id ranges through newuidmap, root with `--userns --uidmap`, and the error when
//! user namespaces are disabled.
//!
//! Nothing here changes the host: /etc/passwd, /etc/subuid and /etc/subgid are replaced by
//! private copies only inside a throwaway mount namespace, and the user namespace limit is
//! lowered only inside a throwaway user namespace.
mod common;

use common::*;
use std::fs;
use std::os::unix::fs::{chown, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The unprivileged user the rootless tests run hutch as.
const USER: u32 = 61000;

/// `setpriv` options that make the program run as USER, with only that group and no capabilities.
fn setpriv_args() -> [String; 4] {
    [format!("--reuid={USER}"), format!("--regid={USER}"), "--clear-groups".into(), "--inh-caps=-all".into()]
}

/// A fixture USER can read (but not write): every directory the test made is opened to
/// others, whatever the umask, and the mount points hutch needs exist already. It holds a copy
/// of hutch, which USER may not reach where cargo built it.
fn rootless_fixture(extra_dirs: &[&str]) -> Fixture {
    let fx = Fixture::with_mount_points();
    for d in extra_dirs {
        fx.mkdir(d);
    }
    fs::copy(HUTCH, fx.outside("hutch")).unwrap();
    open_dirs(&fx.outside(""));
    for dir in fx.outside("").ancestors().skip(1) {
        let mode = fs::metadata(dir).unwrap().mode();
        assert!(mode & 0o001 != 0, "{} must be searchable by others for the rootless tests (set TMPDIR)", dir.display());
    }
    fx
}

/// The copy of hutch that USER runs.
fn hutch(fx: &Fixture) -> String {
    as_str(&fx.outside("hutch")).to_owned()
}

fn open_dirs(dir: &Path) {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            open_dirs(&entry.path());
        }
    }
}

/// `hutch run OPTS ROOTFS CMD...` as USER.
fn rootless_command(fx: &Fixture, opts: &[&str], cmd: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    c.args(setpriv_args()).arg(hutch(fx)).arg("run").args(opts).arg(&fx.rootfs).args(cmd);
    c
}

/// Each stdout line split into its words.
fn words(out: &Output) -> Vec<Vec<&str>> {
    out.lines().iter().map(|l| l.split_whitespace().collect()).collect()
}

fn rootless(fx: &Fixture, opts: &[&str], cmd: &[&str]) -> Output {
    run(rootless_command(fx, opts, cmd))
}

fn rootless_sh(fx: &Fixture, opts: &[&str], script: &str) -> Output {
    rootless(fx, opts, &["/bin/sh", "-c", script])
}

/// The `Uid:` and `Gid:` lines (real, effective, saved, filesystem) of a host process.
fn host_ids(pid: u32) -> (String, String) {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in {status}"));
        line.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
    };
    (field("Uid:"), field("Gid:"))
}

/// The host's view of the container's init: starts `command`, waits for "ready" on its
/// stdout, returns the init's host ids, then stops the container.
fn ids_seen_by_the_host(command: Command) -> (String, String) {
    let mut r = spawn(command);
    r.wait_for_line("ready");
    let init = container_init(r.pid()).expect("the container's init among hutch's descendants");
    host_ids(init)
}

/// A host directory owned by USER, and its `-v` spec for /data.
fn callers_volume(fx: &Fixture) -> (PathBuf, String) {
    let vol = fx.outside("vol");
    fs::create_dir(&vol).unwrap();
    chown(&vol, Some(USER), Some(USER)).unwrap();
    let spec = format!("{}:/data", vol.display());
    (vol, spec)
}

const WAIT: &str = "echo ready; exec sleep 30";

// ---------------------------------------------------------------------------
// Rootless: one id mapped

#[test]
fn rootless_root_inside_is_the_caller_outside() {
    let fx = rootless_fixture(&[]);
    let out = rootless_sh(&fx, &[], "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups");
    out.ok();
    let own = USER.to_string();
    assert_eq!(words(&out), [vec!["0"], vec!["0"], vec!["0", &own, "1"], vec!["0", &own, "1"], vec!["deny"]], "{out}");
    let (uid, gid) = ids_seen_by_the_host(rootless_command(&fx, &[], &["/bin/sh", "-c", WAIT]));
    assert_eq!(uid, format!("{USER} {USER} {USER} {USER}"));
    assert_eq!(gid, format!("{USER} {USER} {USER} {USER}"));
}

#[test]
fn rootless_files_in_a_volume_belong_to_the_caller() {
    let fx = rootless_fixture(&["data"]);
    let (vol, spec) = callers_volume(&fx);
    rootless_sh(&fx, &["-v", &spec], "echo hi > /data/file && mkdir /data/dir").ok();
    for name in ["file", "dir"] {
        let m = fs::metadata(vol.join(name)).unwrap();
        assert_eq!((m.uid(), m.gid()), (USER, USER), "{name}");
    }
}

#[test]
fn rootless_root_cannot_read_a_host_root_file() {
    let fx = rootless_fixture(&[]);
    fx.write_root("secret", "");
    let secret = fx.write_outside("secret", "host root only\n");
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    let spec = format!("{}:/secret", secret.display());
    // Every capability in the user namespace does not help: the file's owner is not mapped.
    for opts in [&["-v", &spec][..], &["-v", &spec, "--privileged"]] {
        let out = rootless_sh(&fx, opts, "cat /secret; echo status=$?");
        out.ok();
        assert_eq!(out.lines(), ["status=1"], "{out}");
        assert!(out.stderr.contains("Permission denied"), "{out}");
    }
}

#[test]
fn rootless_hostname_pid_1_private_mounts_and_loopback() {
    let fx = rootless_fixture(&[]);
    // The mounts are hutch's, made in the container's user and mount namespaces: they are
    // there inside and nowhere on the host.
    let script = "hostname; echo $$; /bin/probe loopback; \
                  grep -E '^(proc /proc|devpts /dev/pts|tmpfs /tmp) ' /proc/mounts | cut -d' ' -f1-3";
    let out = assert_host_mounts_unchanged(|| rootless_sh(&fx, &["-h", "box", "--tmpfs", "/tmp"], script));
    out.ok();
    assert_eq!(out.lines(), ["box", "1", "ok", "proc /proc proc", "devpts /dev/pts devpts", "tmpfs /tmp tmpfs"], "{out}");
}

#[test]
fn rootless_overlay_read_only_root_and_devices() {
    let fx = rootless_fixture(&[]);
    let before = snapshot(&fx.rootfs);
    let out = rootless_sh(&fx, &["--overlay"], "echo x > /new && cat /new && echo y > /dev/null && head -c 3 /dev/zero | wc -c");
    out.ok();
    assert_eq!(out.lines(), ["x", "3"], "{out}");
    let after = snapshot(&fx.rootfs);
    assert!(before == after, "ROOTFS changed under --overlay:\n{}", snapshot_diff(&before, &after));
    let out = rootless_sh(&fx, &["--ro"], "touch /new; echo status=$?");
    out.ok();
    assert_eq!(out.lines(), ["status=1"], "{out}");
}

#[test]
fn rootless_net_host_binds_sys_read_only() {
    // sysfs belongs to the network namespace, which hutch's user namespace does not own
    // here: /sys is the host's, bound read-only.
    let fx = rootless_fixture(&[]);
    let out = rootless_sh(&fx, &["--net", "host"], "grep ' /sys ' /proc/mounts; ls /sys/class/net | grep -c .");
    out.ok();
    let mounts = parse_mounts(&out.stdout);
    assert_eq!(mounts.len(), 1, "{out}");
    assert!(mounts[0].has_option("ro"), "{out}");
    let host_ifaces = fs::read_dir("/sys/class/net").unwrap().count();
    assert_eq!(out.lines()[1], host_ifaces.to_string(), "{out}");
}

#[test]
fn rootless_user_must_be_mapped() {
    let fx = rootless_fixture(&[]);
    let out = rootless(&fx, &["-u", "1000"], &["/bin/id", "-u"]);
    assert_error(&out, 125, "uid 1000 (mapped: 0)");
    let out = rootless(&fx, &["-u", "0:0"], &["/bin/id", "-u"]);
    out.ok();
    assert_eq!(out.lines(), ["0"], "{out}");
}

#[test]
fn rootless_userns_host_is_refused() {
    let fx = rootless_fixture(&[]);
    assert_error(&rootless(&fx, &["--userns=host"], &["/bin/true"]), 125, "--userns=host");
}

// ---------------------------------------------------------------------------
// Root with a user namespace

#[test]
fn root_with_uidmap_is_an_unprivileged_host_user() {
    // Its root, host uid 100000, must reach ROOTFS like any other user.
    let fx = rootless_fixture(&[]);
    let opts = ["--userns", "--uidmap", "0:100000:65536"];
    let out = fx.sh(&opts, "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map");
    out.ok();
    assert_eq!(words(&out), [vec!["0"], vec!["0"], vec!["0", "100000", "65536"], vec!["0", "100000", "65536"]], "{out}");
    let (uid, gid) = ids_seen_by_the_host(fx.command(&opts, &["/bin/sh", "-c", WAIT]));
    assert_eq!(uid, "100000 100000 100000 100000");
    assert_eq!(gid, "100000 100000 100000 100000");
    // Separate group maps; without --userns the container's root is the host's.
    let out = fx.run(&["--uidmap", "0:100000:10", "--gidmap", "0:200000:10"], &["/bin/cat", "/proc/self/gid_map"]);
    out.ok();
    assert_eq!(out.stdout.split_whitespace().collect::<Vec<_>>(), ["0", "200000", "10"], "{out}");
    let out = fx.run(&[], &["/bin/cat", "/proc/self/uid_map"]);
    out.ok();
    assert_eq!(out.stdout.split_whitespace().collect::<Vec<_>>(), ["0", "0", "4294967295"], "{out}");
}

#[test]
fn userns_option_errors() {
    let fx = Fixture::with_mount_points();
    assert_error(&fx.run(&["--userns=sometimes"], &["/bin/true"]), 125, "sometimes");
    assert_error(&fx.run(&["--uidmap", "0:100000"], &["/bin/true"]), 125, "0:100000");
    assert_error(&fx.run(&["--userns=host", "--uidmap", "0:1:1"], &["/bin/true"]), 125, "--uidmap");
    // Root must say what to map to.
    assert_error(&fx.run(&["--userns"], &["/bin/true"]), 125, "--userns");
    // A map without the container's root.
    assert_error(&fx.run(&["--uidmap", "1:100000:10"], &["/bin/true"]), 125, "uid 0 (mapped: 1-10)");
}

// ---------------------------------------------------------------------------
// Subordinate ranges

/// Runs `hutch run OPTS ROOTFS /bin/sh -c SCRIPT` as USER in a private mount namespace where
/// /etc/passwd names USER and /etc/subuid and /etc/subgid give it ranges: copies bound over
/// the real files in that namespace only.
fn with_subids(fx: &Fixture, opts: &[&str], script: &str) -> Output {
    for tool in ["/usr/bin/newuidmap", "/usr/bin/newgidmap"] {
        assert!(Path::new(tool).exists(), "{tool} is missing: install Debian's uidmap (make deps-test)");
    }
    let etc = fx.outside("etc");
    fs::create_dir_all(&etc).unwrap();
    let mut passwd = fs::read_to_string("/etc/passwd").unwrap();
    passwd += &format!("hutchtest:x:{USER}:{USER}::/nonexistent:/usr/sbin/nologin\n");
    fs::write(etc.join("passwd"), passwd).unwrap();
    fs::write(etc.join("subuid"), "hutchtest:200000:65536\n").unwrap();
    fs::write(etc.join("subgid"), format!("{USER}:300000:65536\n")).unwrap();
    for f in ["passwd", "subuid", "subgid"] {
        fs::set_permissions(etc.join(f), fs::Permissions::from_mode(0o644)).unwrap();
    }
    open_dirs(&fx.outside(""));
    let mut c = Command::new("unshare");
    c.args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"etc=$1; shift
for f in passwd subuid subgid; do mount --bind "$etc/$f" "/etc/$f" || exit 90; done
exec "$@""#)
        .arg("sh")
        .arg(&etc)
        .arg("setpriv")
        .args(setpriv_args())
        .arg(hutch(fx))
        .arg("run")
        .args(opts)
        .arg(&fx.rootfs)
        .args(["/bin/sh", "-c", script]);
    run(c)
}

#[test]
fn subordinate_ranges_through_newuidmap() {
    let fx = rootless_fixture(&["data"]);
    let (vol, spec) = callers_volume(&fx);
    let script = "cat /proc/self/uid_map /proc/self/gid_map; \
                  touch /data/f && chown 1000:2000 /data/f && stat -c %u:%g /data/f";
    let out = assert_host_mounts_unchanged(|| with_subids(&fx, &["--userns=auto", "-v", &spec], script));
    out.ok();
    let own = USER.to_string();
    let want = [
        vec!["0", &own, "1"],
        vec!["1", "200000", "65536"],
        vec!["0", &own, "1"],
        vec!["1", "300000", "65536"],
        vec!["1000:2000"],
    ];
    assert_eq!(words(&out), want, "{out}");
    // Container id N is host id START+N-1.
    let m = fs::metadata(vol.join("f")).unwrap();
    assert_eq!((m.uid(), m.gid()), (200999, 301999));
    // Other users exist inside now.
    let out = with_subids(&fx, &["--userns=auto", "-u", "1000:2000"], "id -u; id -g");
    out.ok();
    assert_eq!(out.lines(), ["1000", "2000"], "{out}");
}

#[test]
fn subordinate_ranges_are_checked() {
    let fx = rootless_fixture(&[]);
    // Outside the caller's range: newuidmap refuses, and hutch says so in one line.
    let out = with_subids(&fx, &["--uidmap", "0:61000:1", "--uidmap", "1:500000:10"], "true");
    assert_error(&out, 125, "newuidmap");
    // No range at all: nothing to map automatically.
    let out = rootless(&fx, &["--userns=auto"], &["/bin/true"]);
    assert_error(&out, 125, "/etc/subuid");
}

// ---------------------------------------------------------------------------
// User namespaces disabled

/// Runs SCRIPT as root of a new user namespace that maps the host's root and USER to
/// themselves: the test writes the maps (which needs root on the host), the script then
/// re-execs itself to gain its capabilities there.
fn in_user_namespace(script: &str) -> Output {
    let wait = "until [ -n \"$(cat /proc/self/uid_map)\" ] && [ -n \"$(cat /proc/self/gid_map)\" ]; do sleep 0.01; done";
    let mut c = Command::new("unshare");
    c.args(["--user", "sh", "-c", &format!("{wait}; exec sh -c \"$0\""), script]);
    let r = spawn(c);
    let own = fs::read_link("/proc/self/ns/user").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while fs::read_link(format!("/proc/{}/ns/user", r.pid())).is_ok_and(|ns| ns == own) {
        assert!(Instant::now() < deadline, "unshare --user did not create a user namespace");
        std::thread::sleep(Duration::from_millis(5));
    }
    let map = format!("0 0 1\n{USER} {USER} 1\n");
    for file in ["uid_map", "gid_map"] {
        fs::write(format!("/proc/{}/{file}", r.pid()), &map).unwrap();
    }
    r.wait()
}

#[test]
fn disabled_user_namespaces_are_named() {
    let fx = rootless_fixture(&[]);
    let before = fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap();
    // max_user_namespaces is per user namespace: this 0 limits only the one made here.
    let script = format!(
        "echo 0 > /proc/sys/user/max_user_namespaces || exit 90\n\
         exec setpriv {} {} run {} /bin/true",
        setpriv_args().join(" "),
        hutch(&fx),
        fx.root_str()
    );
    let out = in_user_namespace(&script);
    assert_error(&out, 125, "user namespaces are disabled: user.max_user_namespaces is 0");
    assert_eq!(fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap(), before, "the host's limit changed");
}
