//! config.json applied: bundles generated here run through the foreground OCI run
//! (`hutch run --bundle DIR ID`), and the container's view of itself (/proc/self/status,
//! mountinfo, limits, sysctls...) is checked against what the config asked for.
mod common;

use common::*;
use std::fs;
use std::process::Command;

/// The `KEY:\tVALUE` lines of /proc/self/status that `keys` name, as "KEY VALUE".
fn status_script(keys: &[&str]) -> String {
    format!("grep -E '^({}):' /proc/self/status | tr -s '\\t ' ' '", keys.join("|"))
}

/// The line of /proc/self/mountinfo whose mount point is `dst`.
fn mount_line<'a>(out: &'a Output, dst: &str) -> &'a str {
    out.stdout.lines().find(|l| l.split(' ').nth(4) == Some(dst)).unwrap_or_else(|| panic!("no mount at {dst}\n{out}"))
}

// ---------------------------------------------------------------------------
// root, hostname, domainname, process basics

#[test]
fn runs_the_bundle_and_passes_the_exit_status() {
    let b = Bundle::sh("hostname; exit 7", "", "", "");
    let out = b.run();
    out.assert_code(7);
    assert_eq!(out.lines(), ["runc"], "{out}");
    // The ID is an operand, options may follow it, and the bundle defaults to the cwd.
    // (A state directory and an ID, hence a cgroup name, of this test's own.)
    let mut c = Command::new(HUTCH);
    c.current_dir(b.dir()).arg("--root").arg(b.fx.outside("state")).args(["run", &format!("my-id-{}", std::process::id())]);
    let out = run(c);
    out.assert_code(7);
}

#[test]
fn environment_is_exactly_process_env_plus_home() {
    let b = Bundle::new(&oci_config(&["env"], "", "", ""));
    let out = b.run();
    out.ok();
    assert_eq!(out.sorted_lines(), ["HOME=/root", &format!("PATH={DEFAULT_PATH}"), "TERM=xterm"], "{out}");
    let b = Bundle::new(&oci_config(&["/bin/env"], r#", "env": ["HOME=/h", "A=b"]"#, "", ""));
    let out = b.run();
    assert_eq!(out.sorted_lines(), ["A=b", "HOME=/h"], "{out}");
}

#[test]
fn cwd_is_created_and_entered() {
    let b = Bundle::sh("pwd", r#", "cwd": "/work/dir""#, "", "");
    let out = b.run();
    out.ok();
    assert_eq!(out.lines(), ["/work/dir"], "{out}");
    assert!(b.fx.root("work/dir").is_dir());
}

#[test]
fn domainname_is_set() {
    let out = Bundle::sh("cat /proc/sys/kernel/domainname", "", "", r#", "domainname": "example.org""#).run();
    out.ok();
    assert_eq!(out.lines(), ["example.org"], "{out}");
}

#[test]
fn read_only_root() {
    let out = Bundle::sh("touch /x && echo wrote", "", "", r#", "root": {"path": "rootfs", "readonly": true}"#).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(out.stderr.contains("Read-only file system"), "{out}");
}

// ---------------------------------------------------------------------------
// user, capabilities, rlimits, no_new_privs, oomScoreAdj, personality

#[test]
fn numeric_user_with_umask_and_additional_gids() {
    let user = r#", "user": {"uid": 1000, "gid": 1001, "umask": 63, "additionalGids": [5, 7]}"#;
    let out = Bundle::sh(&status_script(&["Uid", "Gid", "Groups", "Umask"]), user, "", "").run();
    out.ok();
    assert_eq!(out.lines(), ["Umask: 0077", "Uid: 1000 1000 1000 1000", "Gid: 1001 1001 1001 1001", "Groups: 5 7 "], "{out}");
}

#[test]
fn root_gets_the_bounding_set_and_no_ambient_without_inheritable() {
    // runc's default config: ambient capabilities without inheritable ones cannot be raised.
    let out = Bundle::sh(&status_script(&["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]), "", "", "").run();
    out.ok();
    assert_eq!(
        out.lines(),
        ["CapInh: 0000000000000000", "CapPrm: 0000000020000420", "CapEff: 0000000020000420", "CapBnd: 0000000020000420", "CapAmb: 0000000000000000"],
        "{out}"
    );
}

#[test]
fn five_capability_sets_for_a_user() {
    // For a non-root user the exec keeps only the ambient set as permitted and effective.
    let caps = r#", "user": {"uid": 1000, "gid": 1000}, "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"],
        "effective": ["CAP_KILL"], "permitted": ["CAP_KILL", "CAP_CHOWN"], "inheritable": ["CAP_KILL"],
        "ambient": ["CAP_KILL", "CAP_FROM_THE_FUTURE"]}"#;
    let out = Bundle::sh(&status_script(&["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]), caps, "", "").run();
    out.ok();
    assert_eq!(
        out.lines(),
        ["CapInh: 0000000000000020", "CapPrm: 0000000000000020", "CapEff: 0000000000000020", "CapBnd: 0000000000200021", "CapAmb: 0000000000000020"],
        "{out}"
    );
    assert!(
        out.stderr.contains("warning: process.capabilities.ambient[1]: CAP_FROM_THE_FUTURE: unknown capability, ignored"),
        "{out}"
    );
}

#[test]
fn rlimits_and_no_new_privileges() {
    let extra = r#", "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 512}, {"type": "RLIMIT_NPROC", "hard": 100, "soft": 50}]"#;
    let script = format!("grep -E 'open files|processes' /proc/self/limits | tr -s ' '; {}", status_script(&["NoNewPrivs"]));
    let out = Bundle::sh(&script, extra, "", "").run();
    out.ok();
    assert_eq!(out.lines(), ["Max processes 50 100 processes ", "Max open files 512 2048 files ", "NoNewPrivs: 1"], "{out}");
    // OCI's default is off.
    let out = Bundle::sh(&status_script(&["NoNewPrivs"]), r#", "noNewPrivileges": false"#, "", "").run();
    assert_eq!(out.lines(), ["NoNewPrivs: 0"], "{out}");
}

#[test]
fn oom_score_adj_and_personality() {
    let script = "cat /proc/self/oom_score_adj /proc/self/personality";
    let out = Bundle::sh(script, r#", "oomScoreAdj": 500"#, r#", "personality": {"domain": "LINUX32"}"#, "").run();
    out.ok();
    assert_eq!(out.lines(), ["500", "00000008"], "{out}");
}

#[test]
fn apparmor_and_selinux_are_ignored_with_a_warning() {
    let extra = r#", "apparmorProfile": "docker-default", "selinuxLabel": "system_u:system_r:container_t:s0""#;
    let out = Bundle::sh("echo ran", extra, "", "").run();
    out.ok();
    assert_eq!(out.lines(), ["ran"]);
    assert!(out.stderr.contains("hutch: warning: process.apparmorProfile: ignored"), "{out}");
    assert!(out.stderr.contains("hutch: warning: process.selinuxLabel: ignored"), "{out}");
}

// ---------------------------------------------------------------------------
// mounts, devices, masked and read-only paths, propagation

const DEFAULT_MOUNTS: &str = r#"{"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}"#;

#[test]
fn mounts_are_the_configs_with_their_flags() {
    let script = "cat /proc/self/mountinfo; cat /data/a.txt /etc/app.conf; touch /data/new 2>/dev/null || echo ro-data; echo rw >> /etc/app.conf && echo rw-file";
    let b = Bundle::sh(script, "", "", "");
    let vol = b.fx.write_outside("vol/a.txt", "from-host\n").parent().unwrap().to_path_buf();
    let file = b.fx.write_outside("app.conf", "conf\n");
    let mounts = format!(
        r#", "mounts": [{DEFAULT_MOUNTS},
        {{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["noexec", "nosuid", "size=1m", "mode=700"]}},
        {{"destination": "/data", "type": "bind", "source": "{}", "options": ["rbind", "ro", "nodev"]}},
        {{"destination": "/etc/app.conf", "source": "app.conf", "options": ["bind", "rprivate"]}}]"#,
        vol.display()
    );
    // The file's source is relative: taken from the bundle.
    b.fx.write_outside("config.json", &oci_config(&["sh", "-c", script], "", "", &mounts));
    let out = b.run();
    out.ok();
    let scratch = mount_line(&out, "/scratch");
    assert!(scratch.contains(" rw,nosuid,noexec") && scratch.contains("size=1024k") && scratch.contains("mode=700"), "{scratch}");
    let data = mount_line(&out, "/data");
    assert!(data.split(' ').nth(5).unwrap().starts_with("ro,nodev"), "{data}");
    let _ = mount_line(&out, "/etc/app.conf");
    // Only what the config lists: no /sys, no /dev/pts.
    assert!(!out.stdout.lines().any(|l| matches!(l.split(' ').nth(4), Some("/sys" | "/dev/pts"))), "{out}");
    assert!(out.stdout.ends_with("from-host\nconf\nro-data\nrw-file\n"), "{out}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "conf\nrw\n");
    assert!(!vol.join("new").exists());
}

#[test]
fn dev_tmpfs_gets_the_default_devices_and_links() {
    let out = Bundle::sh("ls /dev | sort | tr '\\n' ' '; echo; readlink /dev/ptmx; readlink /dev/fd; echo x > /dev/null && echo null-ok", "", "", "").run();
    out.ok();
    assert_eq!(
        out.lines(),
        ["fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero ", "pts/ptmx", "/proc/self/fd", "null-ok"],
        "{out}"
    );
}

#[test]
fn cgroup_mount_is_read_only() {
    let out = Bundle::sh("cat /proc/self/mountinfo", "", "", "").run();
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().filter(|l| l.split(' ').nth(4).is_some_and(|p| p.starts_with("/sys/fs/cgroup"))).collect();
    assert!(!lines.is_empty(), "{out}");
    assert!(lines.iter().all(|l| l.split(' ').nth(5).unwrap().starts_with("ro")), "{out}");
    assert!(lines.iter().any(|l| l.contains(" - cgroup")), "{out}");
}

#[test]
fn devices_are_made_with_mode_and_owner() {
    // /dev/null again: a node of the config replaces the default one.
    let dev = r#", "devices": [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 384, "uid": 1, "gid": 2},
        {"path": "/dev/sub/fifo", "type": "p", "fileMode": 420}, {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 3}]"#;
    let script = "stat -c '%t:%T %a %u %g %F' /dev/mynull; stat -c '%a %F' /dev/sub/fifo; stat -c '%a %u' /dev/null; echo x > /dev/null && echo ok";
    let out = Bundle::sh(script, "", dev, "").run();
    out.ok();
    assert_eq!(out.lines(), ["1:3 600 1 2 character special file", "644 fifo", "666 3", "ok"], "{out}");
}

#[test]
fn masked_and_read_only_paths_are_the_configs() {
    let b = Bundle::sh(
        "cat /etc/secret; echo masked; cat /proc/self/mountinfo | grep -c timer_list; echo 1 > /proc/sys/kernel/shmmax || echo ro-sys; touch /srv/x || echo ro-srv",
        "",
        r#", "maskedPaths": ["/etc/secret", "/proc/kcore", "/does/not/exist"], "readonlyPaths": ["/proc/sys", "/srv"]"#,
        "",
    );
    b.fx.write_root("etc/secret", "password\n");
    b.fx.mkdir("srv");
    let out = b.run();
    out.ok();
    // The config's lists replace hutch's: /proc/timer_list is no longer masked.
    assert_eq!(out.lines(), ["masked", "0", "ro-sys", "ro-srv"], "{out}");
}

#[test]
fn rootfs_propagation() {
    let script = "grep -E '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / ' /proc/self/mountinfo";
    let out = Bundle::sh(script, "", r#", "rootfsPropagation": "shared""#, "").run();
    out.ok();
    assert!(out.stdout.contains(" shared:"), "{out}");
    let out = Bundle::sh(script, "", r#", "rootfsPropagation": "private""#, "").run();
    out.ok();
    assert!(!out.stdout.contains(" shared:") && !out.stdout.contains(" master:"), "{out}");
}

// ---------------------------------------------------------------------------
// sysctl

#[test]
fn namespaced_sysctls_are_set_inside_only() {
    let host_forward = fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let host_shmmax = fs::read_to_string("/proc/sys/kernel/shmmax").unwrap();
    let sysctl = r#", "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"}"#;
    let out = Bundle::sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax", "", sysctl, "").run();
    out.ok();
    assert_eq!(out.lines(), ["1", "123456789"], "{out}");
    assert_eq!(fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(), host_forward);
    assert_eq!(fs::read_to_string("/proc/sys/kernel/shmmax").unwrap(), host_shmmax);
}

#[test]
fn host_sysctls_are_refused() {
    let out = Bundle::sh("true", "", r#", "sysctl": {"kernel.panic": "1"}"#, "").run();
    assert_error(&out, 125, "linux.sysctl.kernel.panic");
    // A net sysctl needs a network namespace of the container's own.
    let ns = r#", "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "ipc"}], "sysctl": {"net.ipv4.ip_forward": "1"}"#;
    let out = Bundle::sh("true", "", ns, "").run();
    assert_error(&out, 125, "linux.sysctl.net.ipv4.ip_forward");
}

// ---------------------------------------------------------------------------
// namespaces

/// A `sleep` in new namespaces of `kinds` (unshare flags), for the container to join.
struct Holder(Running);

impl Holder {
    fn new(args: &[&str], ns: &str) -> Holder {
        let mine = fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        let r = spawn(Command::new("unshare").args(args));
        let path = format!("/proc/{}/ns/{ns}", r.pid());
        for _ in 0..200 {
            if fs::read_link(&path).is_ok_and(|l| l != mine) {
                return Holder(r);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("unshare {args:?} did not make a {ns} namespace");
    }

    fn ns(&self, ns: &str) -> String {
        format!("/proc/{}/ns/{ns}", self.0.pid())
    }
}

#[test]
fn absent_namespaces_are_shared_with_the_host() {
    let host_net = fs::read_link("/proc/self/ns/net").unwrap();
    let ns = r#", "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "ipc"}]"#;
    let out = Bundle::sh("readlink /proc/self/ns/net", "", ns, "").run();
    out.ok();
    assert_eq!(out.lines(), [host_net.to_str().unwrap()], "{out}");
    // Without a PID namespace the command is not PID 1.
    let ns = r#", "namespaces": [{"type": "mount"}, {"type": "uts"}]"#;
    let out = Bundle::new(&oci_config(&["probe", "pid"], "", ns, "")).run();
    out.ok();
    assert_ne!(out.lines(), ["1"], "{out}");
}

/// No mount namespace in the config: the container's mounts are made in the caller's (as
/// runc makes them), its root is entered by chroot, and `delete` (or a failed `create`)
/// removes them again. The caller here is a throwaway mount namespace of the test's, so
/// that the host's mount table is never at stake.
#[test]
fn without_a_mount_namespace_the_callers_is_used_and_emptied_again() {
    let no_mnt = r#", "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}]"#;
    let fg = Bundle::sh("readlink /proc/self/ns/mnt; echo pid=$$", "", no_mnt, "");
    // A mount that fails after the rootfs was bound: create fails and leaves nothing.
    let bad = Bundle::new(&oci_config(&["true"], "", no_mnt, r#", "mounts": [{"destination": "/tmp", "type": "tmpfs", "source": "t"}, {"destination": "/x", "type": "nosuchfs", "source": "x"}]"#));
    // No namespace at all (runtime-tools' linux_ns_itype): `ps` and `kill --all` see its
    // init alone, not every process of the host's namespaces.
    let none = Bundle::new(&oci_config(&["sleep", "100"], "", r#", "namespaces": []"#, r#", "hostname": """#));
    let h = |b: &Bundle| format!("{HUTCH} --root {}", as_str(&b.fx.outside("state")));
    let script = format!(
        r#"cat /proc/self/mountinfo > {tmp}/before
readlink /proc/self/ns/mnt
{run_h} run -b {run_b} nomnt-{pid}; echo run=$?
cat /proc/self/mountinfo > {tmp}/after; cmp -s {tmp}/before {tmp}/after && echo restored
{bad_h} run -b {bad_b} bad-{pid} 2>/dev/null; echo bad=$?
cat /proc/self/mountinfo > {tmp}/after; cmp -s {tmp}/before {tmp}/after && echo restored
{none_h} create -b {none_b} none-{pid} && {none_h} start none-{pid} || echo create failed
grep -c " {none_root}/" /proc/self/mountinfo
{none_h} ps none-{pid} | wc -l
{none_h} delete --force none-{pid}; echo delete=$?
cat /proc/self/mountinfo > {tmp}/after; cmp -s {tmp}/before {tmp}/after && echo restored
"#,
        tmp = as_str(&fg.fx.outside("")),
        run_h = h(&fg),
        run_b = as_str(&fg.dir()),
        bad_h = h(&bad),
        bad_b = as_str(&bad.dir()),
        none_h = h(&none),
        none_b = as_str(&none.dir()),
        none_root = none.fx.root_str(),
        pid = std::process::id(),
    );
    let mut c = Command::new("unshare");
    c.args(["--mount", "--propagation", "slave", "sh", "-c", &script]);
    let out = run(c);
    let lines = out.lines();
    assert_eq!(lines.len(), 11, "{out}");
    let (caller, container) = (lines[0], lines[1]);
    assert!(caller.starts_with("mnt:[") && container == caller, "the caller's mount namespace: {out}");
    assert_eq!(lines[2..5], ["pid=1", "run=0", "restored"], "{out}");
    assert_eq!(lines[5..7], ["bad=125", "restored"], "{out}");
    // /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, its cgroups and the masked and
    // read-only paths: more than ten mounts below the rootfs, in the caller's table.
    assert!(lines[7].parse::<u32>().unwrap() > 10, "{out}");
    assert_eq!(lines[8..], ["2", "delete=0", "restored"], "a header and the init: {out}");
}

#[test]
fn namespaces_are_joined_by_path() {
    let net = Holder::new(&["--net", "sleep", "20"], "net");
    let uts = Holder::new(&["--uts", "sh", "-c", "hostname joined-uts && exec sleep 20"], "uts");
    let want_net = fs::read_link(net.ns("net")).unwrap();
    let ns = format!(
        r#", "namespaces": [{{"type": "pid"}}, {{"type": "mount"}}, {{"type": "ipc"}}, {{"type": "network", "path": "{}"}}, {{"type": "uts", "path": "{}"}}]"#,
        net.ns("net"),
        uts.ns("uts")
    );
    // Poll for the hostname: the holder sets it just after its unshare.
    let mut out = None;
    for _ in 0..100 {
        let o = Bundle::sh("readlink /proc/self/ns/net; hostname", "", &ns, r#", "hostname": """#).run();
        if o.stdout.ends_with("joined-uts\n") {
            out = Some(o);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = out.expect("the container never saw the joined hostname");
    out.ok();
    assert_eq!(out.lines(), [want_net.to_str().unwrap(), "joined-uts"], "{out}");
}

#[test]
fn pid_namespace_is_joined_by_path() {
    let holder = Holder::new(&["--pid", "--fork", "--kill-child", "sleep", "20"], "pid_for_children");
    let ns = format!(r#", "namespaces": [{{"type": "pid", "path": "{}"}}, {{"type": "mount"}}, {{"type": "uts"}}]"#, holder.ns("pid_for_children"));
    // The holder's sleep is PID 1 of the namespace the container's /proc shows.
    let out = Bundle::sh("cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$", "", &ns, "").run();
    out.ok();
    let lines = out.lines();
    assert_eq!(lines[0], "sleep 20 ", "{out}");
    assert!(lines[1].parse::<u32>().unwrap() < 100, "not the joined namespace's pid: {out}");
}

#[test]
fn user_namespace_is_joined_by_path() {
    let holder = Holder::new(&["--user", "--map-root-user", "sleep", "20"], "user");
    let want = fs::read_link(holder.ns("user")).unwrap();
    let ns = format!(
        r#", "namespaces": [{{"type": "user", "path": "{}"}}, {{"type": "pid"}}, {{"type": "mount"}}, {{"type": "uts"}}, {{"type": "ipc"}}, {{"type": "network"}}]"#,
        holder.ns("user")
    );
    // Without gid=5 for devpts, which this namespace does not map; /sys/fs/cgroup (v1 cannot
    // be mounted in a user namespace) and the device nodes (no mknod) come from the host.
    let mounts = r#", "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "ro"]}]"#;
    let out = Bundle::sh("readlink /proc/self/ns/user; cat /proc/self/uid_map | tr -s ' '; echo x > /dev/null && echo null-ok", "", &ns, mounts).run();
    out.ok();
    assert_eq!(out.lines(), [want.to_str().unwrap(), " 0 0 1", "null-ok"], "{out}");
}

#[test]
fn time_namespace_with_offsets() {
    if !std::path::Path::new("/proc/self/ns/time").exists() {
        eprintln!("skipped: no time namespaces on this kernel");
        return;
    }
    let linux = r#", "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "time"}],
        "timeOffsets": {"boottime": {"secs": 1000000, "nanosecs": 5}, "monotonic": {"secs": -3600}}"#;
    let out = Bundle::sh("cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime", "", linux, r#", "hostname": """#).run();
    out.ok();
    let lines: Vec<String> = out.lines().iter().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(&lines[..2], ["monotonic -3600 0", "boottime 1000000 5"], "{out}");
    assert!(lines[2].parse::<u64>().unwrap() >= 1_000_000, "{out}");
}

// ---------------------------------------------------------------------------
// errors

#[test]
fn bad_values_name_the_field() {
    let ns = r#", "namespaces": [{"type": "pid"}, {"type": "pid"}, {"type": "mount"}]"#;
    let out = Bundle::sh("true", "", ns, "").run();
    assert_error(&out, 125, "linux.namespaces[1].type: repeated");
    let out = Bundle::sh("true", "", r#", "namespaces": [{"type": "mount"}]"#, "").run();
    assert_error(&out, 125, "hostname: needs a new uts namespace");
    let out = Bundle::sh("true", r#", "rlimits": [{"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}]"#, "", "").run();
    assert_error(&out, 125, "process.rlimits[0].type");
    let out = Bundle::sh("true", r#", "user": {"uid": -1, "gid": 0}"#, "", "").run();
    assert_error(&out, 125, "process.user.uid");
    let out = Bundle::new("{\"ociVersion\": \"1.0.2\",\n  \"root\": {\"path\": \"rootfs\"}, }").run();
    assert_error(&out, 125, "config.json:2:");
}
