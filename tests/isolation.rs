//! What the container can and cannot see: its PID namespace, its root, its
//! network, and the host's mount table, which a run must leave exactly as it
//! found it. The `--no-pivot` variants sit next to the pivot_root ones.
mod common;

use common::*;
use std::path::Path;

// ---------------------------------------------------------------------------
// Namespaces

#[test]
fn command_is_pid_1() {
    let fx = Fixture::new();
    let out = fx.sh(&[], "echo $$");
    out.ok();
    assert_eq!(out.lines(), ["1"], "{out}");
    let out = fx.run(&[], &["/bin/probe", "pid"]);
    out.ok();
    assert_eq!(out.lines(), ["1"], "{out}");
}

fn proc_pids(out: &Output) -> Vec<&str> {
    out.lines().into_iter().filter(|l| l.bytes().all(|b| b.is_ascii_digit())).collect()
}

#[test]
fn proc_shows_only_the_containers_processes() {
    let fx = Fixture::new();
    let out = fx.run(&[], &["/bin/ls", "/proc"]);
    out.ok();
    assert_eq!(proc_pids(&out), ["1"], "{out}");

    // A shell and its `ps`: two processes, the shell being 1, and no sign of
    // the test process.
    let out = fx.sh(&[], "ps -o pid,comm; exit 0");
    out.ok();
    let rows: Vec<Vec<&str>> = out.lines()[1..].iter().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(rows.contains(&vec!["1", "sh"]), "{out}");
    let me = std::process::id().to_string();
    assert!(!rows.iter().any(|r| r[0] == me), "{out}");
}

const NAMESPACES: [&str; 6] = ["mnt", "pid", "uts", "ipc", "net", "cgroup"];

/// `net:[4026531840]`-style identities of the container's namespaces,
/// paired with the test process's own.
fn namespaces(fx: &Fixture, opts: &[&str]) -> Vec<(String, String, String)> {
    let script = NAMESPACES.map(|n| format!("readlink /proc/self/ns/{n}")).join("; ");
    let out = fx.sh(opts, &script);
    out.ok();
    let lines = out.lines();
    assert_eq!(lines.len(), NAMESPACES.len(), "{out}");
    NAMESPACES
        .iter()
        .zip(lines)
        .map(|(n, inside)| {
            let host = std::fs::read_link(format!("/proc/self/ns/{n}")).unwrap();
            (n.to_string(), inside.to_string(), host.to_string_lossy().into_owned())
        })
        .collect()
}

#[test]
fn every_namespace_is_new() {
    let fx = Fixture::new();
    for (name, inside, host) in namespaces(&fx, &[]) {
        assert_ne!(inside, host, "{name} namespace is shared with the host");
    }
}

#[test]
fn net_host_shares_only_the_network_namespace() {
    let fx = Fixture::new();
    for (name, inside, host) in namespaces(&fx, &["--net", "host"]) {
        if name == "net" {
            assert_eq!(inside, host, "--net host did not share the network namespace");
        } else {
            assert_ne!(inside, host, "{name} namespace is shared with the host");
        }
    }
}

// ---------------------------------------------------------------------------
// The root

/// The container must see its rootfs and nothing of the host: a marker next
/// to ROOTFS is not found by name nor by its host path, while one inside is.
fn assert_host_unreachable(opts: &[&str]) {
    let fx = Fixture::new();
    let outside = fx.write_outside("hutch-marker-outside", "outside\n");
    fx.write_root("hutch-marker-inside", "inside\n");
    let script = format!(
        "find / -path /proc -prune -o -path /sys -prune -o -name 'hutch-marker-*' -print; \
         if test -e {host}; then echo reachable: {host}; fi; \
         if test -e {dir}; then echo reachable: {dir}; fi",
        host = outside.display(),
        dir = outside.parent().unwrap().display(),
    );
    let out = fx.sh(opts, &script);
    out.ok();
    assert_eq!(out.lines(), ["/hutch-marker-inside"], "{out}");
}

#[test]
fn host_paths_are_unreachable() {
    assert_host_unreachable(&[]);
}

#[test]
fn host_paths_are_unreachable_without_pivot() {
    assert_host_unreachable(&["--no-pivot"]);
}

fn assert_root_is_rootfs(opts: &[&str]) {
    let fx = Fixture::new();
    let out = fx.sh(opts, "readlink /proc/1/root; ls -A /");
    out.ok();
    let lines = out.lines();
    assert_eq!(lines.first(), Some(&"/"), "/proc/1/root is not /\n{out}");
    let mut inside: Vec<&str> = lines[1..].to_vec();
    inside.sort_unstable();
    // Read after the run: hutch may have created mount points in ROOTFS.
    assert_eq!(inside, dir_names(&fx.rootfs), "ls / differs from ROOTFS\n{out}");
}

#[test]
fn root_is_the_rootfs() {
    assert_root_is_rootfs(&[]);
}

#[test]
fn root_is_the_rootfs_without_pivot() {
    assert_root_is_rootfs(&["--no-pivot"]);
}

#[test]
fn no_pivot_still_isolates_pid_hostname_and_mounts() {
    let fx = Fixture::new();
    let out = fx.sh(&["--no-pivot", "-h", "nopivot"], "echo $$; hostname");
    out.ok();
    assert_eq!(out.lines(), ["1", "nopivot"], "{out}");

    let out = fx.run(&["--no-pivot"], &["/bin/ls", "/proc"]);
    out.ok();
    assert_eq!(proc_pids(&out), ["1"], "{out}");

    let mounts = container_mounts(&fx, &["--no-pivot"]);
    assert_eq!(mount_at(&mounts, "/proc").fstype, "proc");
    assert_eq!(mount_at(&mounts, "/sys").fstype, "sysfs");
    assert_eq!(mount_at(&mounts, "/dev").fstype, "tmpfs");
}

/// The container's mount table holds the root and what hutch mounts below
/// it, nothing of the host's: one mount at `/`, no mount point twice (the
/// old root left stacked on `/` would repeat `/`, `/proc`, `/dev`...), and
/// nothing outside /proc, /sys, /dev and the requested volume and tmpfs.
fn assert_only_container_mounts(extra: &[&str]) {
    let fx = Fixture::new();
    let vol = fx.outside("vol");
    std::fs::create_dir(&vol).unwrap();
    let spec = format!("{}:/data", vol.display());
    let mut opts = vec!["-v", spec.as_str(), "--tmpfs", "/scratch"];
    opts.extend(extra);
    let out = fx.run(&opts, &["/bin/cat", "/proc/self/mountinfo"]);
    out.ok();
    let targets: Vec<&str> = out.lines().iter().filter_map(|l| l.split(' ').nth(4)).collect();
    let under = |t: &str, p: &str| t == p || t.starts_with(&format!("{p}/"));
    for (i, t) in targets.iter().enumerate() {
        assert!(!targets[..i].contains(t), "{t} is mounted twice\n{out}");
        assert!(
            *t == "/" || ["/proc", "/sys", "/dev", "/data", "/scratch"].iter().any(|p| under(t, p)),
            "unexpected mount {t}\n{out}"
        );
    }
    for t in ["/", "/proc", "/sys", "/dev", "/data", "/scratch"] {
        assert!(targets.contains(&t), "nothing mounted at {t}\n{out}");
    }
}

#[test]
fn container_sees_only_its_own_mounts() {
    assert_only_container_mounts(&[]);
}

#[test]
fn container_sees_only_its_own_mounts_without_pivot() {
    assert_only_container_mounts(&["--no-pivot"]);
}

#[test]
fn container_sees_only_its_own_mounts_with_overlay() {
    assert_only_container_mounts(&["--overlay"]);
}

// ---------------------------------------------------------------------------
// The host's mount table

#[test]
fn host_mounts_unchanged_by_a_successful_run() {
    let fx = Fixture::new();
    assert_host_mounts_unchanged(|| fx.sh(&[], "cat /proc/mounts >/dev/null").ok().code());
}

#[test]
fn host_mounts_unchanged_by_volumes_tmpfs_and_read_only_root() {
    let fx = Fixture::new();
    let vol = fx.outside("vol");
    std::fs::create_dir(&vol).unwrap();
    let spec = format!("{}:/data", vol.display());
    let opts = ["--ro", "-v", &spec, "--tmpfs", "/scratch:size=1m"];
    assert_host_mounts_unchanged(|| fx.sh(&opts, "touch /data/x /scratch/y").ok().code());
}

#[test]
fn host_mounts_unchanged_by_a_bad_volume_source() {
    let fx = Fixture::new();
    let missing = fx.outside("no-such-dir");
    let spec = format!("{}:/data", missing.display());
    let out = assert_host_mounts_unchanged(|| fx.run(&["-v", &spec], &["/bin/true"]));
    assert_error(&out, 125, as_str(&missing));
}

#[test]
fn host_mounts_unchanged_when_the_command_is_not_found() {
    let fx = Fixture::new();
    let out = assert_host_mounts_unchanged(|| fx.run(&[], &["/no/such/command"]));
    assert_error(&out, 127, "/no/such/command");
}

#[test]
fn host_mounts_unchanged_by_overlay() {
    let fx = Fixture::new();
    assert_host_mounts_unchanged(|| fx.sh(&["--overlay"], "touch /new && rm /bin/true").ok().code());
}

#[test]
fn host_mounts_unchanged_without_pivot() {
    let fx = Fixture::new();
    assert_host_mounts_unchanged(|| fx.sh(&["--no-pivot"], "cat /proc/mounts >/dev/null").ok().code());
}

// ---------------------------------------------------------------------------
// Network

#[test]
fn default_network_has_only_lo_and_it_is_up() {
    let fx = Fixture::new();
    for opts in [&[][..], &["--net", "none"], &["--network=none"]] {
        let out = fx.run(opts, &["/bin/ls", "/sys/class/net"]);
        out.ok();
        assert_eq!(out.lines(), ["lo"], "{out}");

        let out = fx.run(opts, &["/bin/cat", "/sys/class/net/lo/flags"]);
        out.ok();
        let flags = u32::from_str_radix(out.stdout.trim().trim_start_matches("0x"), 16).expect("hex flags");
        assert!(flags & 1 != 0, "lo is not IFF_UP\n{out}");

        let out = fx.run(opts, &["/bin/ip", "addr", "show", "lo"]);
        out.ok();
        assert!(out.stdout.contains("inet 127.0.0.1/8"), "{out}");

        let out = fx.run(opts, &["/bin/probe", "loopback"]);
        out.ok();
        assert_eq!(out.lines(), ["ok"], "{out}");
    }
}

#[test]
fn net_host_sees_the_host_interfaces() {
    let host = dir_names(Path::new("/sys/class/net"));
    let fx = Fixture::new();
    for opts in [&["--net", "host"][..], &["--network=host"]] {
        let out = fx.run(opts, &["/bin/ls", "-1", "/sys/class/net"]);
        out.ok();
        assert_eq!(out.sorted_lines(), host, "{out}");
    }
}

/// This machine's / may be private, which would hide a missing MS_PRIVATE:
/// nothing propagates back from a private mount anyway. So hutch also runs
/// inside a throwaway mount namespace whose mounts are made shared (new peer
/// groups of that namespace only; the host's mounts are not touched), and
/// that namespace's table must not change.
#[test]
fn mounts_unchanged_where_the_root_is_shared() {
    const SCRIPT: &str = r#"dir=$1; shift
cat /proc/self/mountinfo > "$dir/before"
"$@"; rc=$?
cat /proc/self/mountinfo > "$dir/after"
exit $rc"#;
    let fx = Fixture::new();
    let vol = fx.outside("vol");
    std::fs::create_dir(&vol).unwrap();
    let spec = format!("{}:/data", vol.display());
    let missing = format!("{}:/data", fx.outside("missing").display());
    let cases: [(&[&str], i32); 5] = [
        (&[], 0),
        (&["--overlay"], 0),
        (&["--no-pivot"], 0),
        (&["--ro", "-v", &spec, "--tmpfs", "/scratch"], 0),
        (&["-v", &missing], 125),
    ];
    let read = |name: &str| {
        let mut l: Vec<String> =
            std::fs::read_to_string(fx.outside(name)).unwrap().lines().map(str::to_owned).collect();
        l.sort();
        l
    };
    for (opts, code) in cases {
        let mut c = std::process::Command::new("unshare");
        c.args(["--mount", "--propagation", "shared", "sh", "-c", SCRIPT, "sh"])
            .arg(fx.outside(""))
            .args([HUTCH, "run"])
            .args(opts)
            .arg(&fx.rootfs)
            .args(["/bin/true"]);
        run(c).assert_code(code);
        let (before, after) = (read("before"), read("after"));
        let root = before.iter().find(|l| l.split(' ').nth(4) == Some("/")).expect("a / mount");
        assert!(root.contains(" shared:"), "the wrapper's / is not shared: {root}");
        let added: Vec<_> = after.iter().filter(|l| !before.contains(l)).collect();
        let removed: Vec<_> = before.iter().filter(|l| !after.contains(l)).collect();
        assert!(before == after, "{opts:?}: mounts leaked out of hutch\nadded:\n{added:#?}\nremoved:\n{removed:#?}");
    }
}
