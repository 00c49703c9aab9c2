//! Filesystems inside the container: volumes, tmpfs, a read-only root, the
//! overlay root, and the /dev, /proc and /sys hutch always provides.
mod common;

use common::*;
use std::fs;

/// A host directory next to the rootfs holding `a.txt`, and its `-v` spec.
fn volume_dir(fx: &Fixture, dst_and_mode: &str) -> (std::path::PathBuf, String) {
    let vol = fx.write_outside("vol/a.txt", "from-host\n").parent().unwrap().to_path_buf();
    let spec = format!("{}:{dst_and_mode}", vol.display());
    (vol, spec)
}

// ---------------------------------------------------------------------------
// Volumes

#[test]
fn volume_dir_is_visible_and_writes_reach_the_host() {
    let fx = Fixture::new();
    let (vol, spec) = volume_dir(&fx, "/data");
    let out = fx.sh(&["-v", &spec], "cat /data/a.txt && echo from-container > /data/b.txt");
    out.ok();
    assert_eq!(out.lines(), ["from-host"], "{out}");
    assert_eq!(fs::read_to_string(vol.join("b.txt")).unwrap(), "from-container\n");
    assert!(fx.root("data").is_dir(), "the missing target /data was not created in ROOTFS");
}

#[test]
fn volume_file_is_visible_and_writes_reach_the_host() {
    let fx = Fixture::new();
    let file = fx.write_outside("app.conf", "v1\n");
    let spec = format!("{}:/etc/app.conf", file.display());
    let out = fx.sh(&["-v", &spec], "cat /etc/app.conf && echo v2 > /etc/app.conf");
    out.ok();
    assert_eq!(out.lines(), ["v1"], "{out}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "v2\n");
    assert!(fx.root("etc/app.conf").is_file(), "the missing target was not created as a file in ROOTFS");
}

#[test]
fn volume_targets_are_created_with_their_parents() {
    let fx = Fixture::new();
    let (_, dir_spec) = volume_dir(&fx, "/deep/er/data");
    let file = fx.write_outside("app.conf", "conf\n");
    let file_spec = format!("{}:/opt/app/conf/app.conf", file.display());
    let out = fx.sh(&["-v", &dir_spec, "-v", &file_spec], "cat /deep/er/data/a.txt /opt/app/conf/app.conf");
    out.ok();
    assert_eq!(out.lines(), ["from-host", "conf"], "{out}");
    assert!(fx.root("deep/er/data").is_dir());
    assert!(fx.root("opt/app/conf/app.conf").is_file());
}

#[test]
fn volume_ro_refuses_writes() {
    let fx = Fixture::new();
    let (vol, spec) = volume_dir(&fx, "/data:ro");
    let out = fx.sh(&["-v", &spec], "cat /data/a.txt && touch /data/new");
    assert_ne!(out.code(), 0, "writing to a :ro volume succeeded\n{out}");
    assert_eq!(out.lines(), ["from-host"], "{out}");
    assert!(!vol.join("new").exists());
    let mounts = container_mounts(&fx, &["-v", &spec]);
    assert!(mount_at(&mounts, "/data").has_option("ro"), "{mounts:#?}");
}

#[test]
fn volume_rw_suffix_allows_writes() {
    let fx = Fixture::new();
    let (vol, spec) = volume_dir(&fx, "/data:rw");
    fx.sh(&["-v", &spec], "touch /data/new").ok();
    assert!(vol.join("new").exists());
}

#[test]
fn volume_option_in_every_form() {
    let fx = Fixture::new();
    let (_, spec) = volume_dir(&fx, "/data");
    let long_eq = format!("--volume={spec}");
    let short_joined = format!("-v{spec}");
    for opts in [&["-v", &spec][..], &["--volume", &spec], &[&long_eq], &[&short_joined]] {
        let out = fx.run(opts, &["/bin/cat", "/data/a.txt"]);
        out.ok();
        assert_eq!(out.lines(), ["from-host"], "{out}");
    }
}

// ---------------------------------------------------------------------------
// tmpfs

#[test]
fn tmpfs_option_mounts_a_tmpfs() {
    let fx = Fixture::new();
    let out = fx.run(&["--tmpfs", "/scratch"], &["/bin/stat", "-f", "-c", "%T", "/scratch"]);
    out.ok();
    assert_eq!(out.lines(), ["tmpfs"], "{out}");
    assert!(fx.root("scratch").is_dir(), "the missing target was not created in ROOTFS");
    fx.sh(&["--tmpfs", "/scratch"], "echo x > /scratch/f && cat /scratch/f").ok();
}

#[test]
fn tmpfs_size_and_mode_are_applied() {
    let fx = Fixture::new();
    for (opt, size) in [("size=1m", "size=1024k"), ("size=64k", "size=64k"), ("size=1g", "size=1048576k")] {
        // Not 1777: tmpfs lists its mode only when it differs from that default.
        let spec = format!("/scratch:{opt},mode=1770");
        let mounts = container_mounts(&fx, &["--tmpfs", &spec]);
        let m = mount_at(&mounts, "/scratch");
        assert_eq!(m.fstype, "tmpfs", "{m:?}");
        assert!(m.has_option(size) && m.has_option("mode=1770"), "{spec}: {m:?}");
    }
    let out = fx.run(&["--tmpfs", "/scratch:mode=750"], &["/bin/stat", "-c", "%a", "/scratch"]);
    out.ok();
    assert_eq!(out.lines(), ["750"], "{out}");
}

#[test]
fn tmpfs_size_limit_is_enforced() {
    let fx = Fixture::new();
    let script = "dd if=/dev/zero of=/scratch/small bs=1024 count=16 2>/dev/null || exit 10; \
                  if dd if=/dev/zero of=/scratch/big bs=1024 count=256 2>/dev/null; then exit 11; fi";
    fx.sh(&["--tmpfs", "/scratch:size=64k"], script).ok();
}

#[test]
fn tmpfs_flags_are_applied() {
    let fx = Fixture::new();
    let mounts = container_mounts(&fx, &["--tmpfs", "/scratch:ro,nosuid,nodev,noexec"]);
    let m = mount_at(&mounts, "/scratch");
    for opt in ["ro", "nosuid", "nodev", "noexec"] {
        assert!(m.has_option(opt), "{opt} missing: {m:?}");
    }
    let out = fx.sh(&["--tmpfs", "/scratch:ro"], "touch /scratch/x");
    assert_ne!(out.code(), 0, "writing to a read-only tmpfs succeeded\n{out}");
}

// ---------------------------------------------------------------------------
// Read-only root

#[test]
fn read_only_root_refuses_writes() {
    let fx = Fixture::new();
    for flag in ["--ro", "--read-only"] {
        let out = fx.sh(&[flag], "touch /written");
        assert_ne!(out.code(), 0, "{flag}: writing to / succeeded\n{out}");
        assert!(!fx.root("written").exists());
        let mounts = container_mounts(&fx, &[flag]);
        assert!(mount_at(&mounts, "/").has_option("ro"), "{flag}: {mounts:#?}");
    }
    // The host's ROOTFS itself stays writable.
    fs::write(fx.root("host-write"), "ok").unwrap();
}

#[test]
fn read_only_root_keeps_volumes_tmpfs_and_dev_shm_writable() {
    let fx = Fixture::new();
    let (vol, spec) = volume_dir(&fx, "/data");
    let out = fx.sh(
        &["--ro", "--tmpfs", "/scratch", "-v", &spec],
        "touch /scratch/a && touch /dev/shm/b && touch /data/c && echo x > /dev/null && echo ok",
    );
    out.ok();
    assert_eq!(out.lines(), ["ok"], "{out}");
    assert!(vol.join("c").exists());
}

// ---------------------------------------------------------------------------
// Overlay root

#[test]
fn overlay_writes_succeed_and_rootfs_is_unchanged() {
    let fx = Fixture::with_mount_points();
    let before = snapshot(&fx.rootfs);
    let out = fx.sh(
        &["--overlay"],
        "echo new > /new.txt && echo changed > /etc/passwd && rm /bin/true /etc/group && mkdir /newdir && \
         cat /new.txt /etc/passwd && if test -e /bin/true; then echo still-there; else echo deleted; fi",
    );
    out.ok();
    assert_eq!(out.lines(), ["new", "changed", "deleted"], "{out}");
    let after = snapshot(&fx.rootfs);
    assert!(before == after, "ROOTFS changed under --overlay:\n{}", snapshot_diff(&before, &after));
}

#[test]
fn overlay_leaves_even_a_bare_rootfs_unchanged() {
    // No mount points in ROOTFS: with --overlay they must appear in the
    // overlay, not in ROOTFS, and so must the volume and tmpfs targets.
    let fx = Fixture::new();
    let (_, spec) = volume_dir(&fx, "/data");
    let before = snapshot(&fx.rootfs);
    fx.sh(&["--overlay", "-v", &spec, "--tmpfs", "/scratch"], "touch /x && cat /data/a.txt").ok();
    let after = snapshot(&fx.rootfs);
    assert!(before == after, "ROOTFS changed under --overlay:\n{}", snapshot_diff(&before, &after));
}

#[test]
fn overlay_works_on_a_read_only_rootfs() {
    let fx = Fixture::with_mount_points();
    let out = fx.run_on_read_only_rootfs(
        &["--overlay"],
        &["/bin/sh", "-c", "echo hi > /new && cat /new && rm /bin/true"],
    );
    out.ok();
    assert_eq!(out.lines(), ["hi"], "{out}");
}

// ---------------------------------------------------------------------------
// A ROOTFS hutch cannot write to

#[test]
fn read_only_rootfs_without_mount_points_is_refused() {
    let fx = Fixture::new();
    let out = fx.run_on_read_only_rootfs(&[], &["/bin/true"]);
    out.assert_code(125);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr\n{out}");
    assert!(lines[0].starts_with("hutch: "), "{out}");
    assert!(
        ["proc", "sys", "dev", fx.root_str()].iter().any(|o| lines[0].contains(o)),
        "the error does not name the mount point or ROOTFS\n{out}"
    );
}

#[test]
fn read_only_rootfs_with_mount_points_works() {
    let fx = Fixture::with_mount_points();
    let out = fx.run_on_read_only_rootfs(&["-h", "rofs"], &["/bin/sh", "-c", "echo $$; hostname; ls /proc/1/"]);
    out.ok();
    assert_eq!(out.lines()[..2], ["1", "rofs"], "{out}");
}

// ---------------------------------------------------------------------------
// What hutch always mounts

#[test]
fn missing_mount_points_are_created_in_rootfs() {
    let fx = Fixture::new();
    fx.run(&[], &["/bin/true"]).ok();
    for dir in ["proc", "sys", "dev"] {
        assert!(fx.root(dir).is_dir(), "/{dir} was not created in ROOTFS");
    }
}

#[test]
fn dev_holds_exactly_the_documented_entries() {
    let fx = Fixture::new();
    let out = fx.run(&[], &["/bin/ls", "-A", "/dev"]);
    out.ok();
    let want = [
        "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty",
        "urandom", "zero",
    ];
    assert_eq!(out.sorted_lines(), want, "{out}");
}

#[test]
fn dev_nodes_are_the_host_devices() {
    let fx = Fixture::new();
    let mut cmd = vec!["/bin/stat", "-c", "%n %F %t:%T"];
    let paths: Vec<String> = DEV_NODES.iter().map(|(n, _)| format!("/dev/{n}")).collect();
    cmd.extend(paths.iter().map(String::as_str));
    let out = fx.run(&[], &cmd);
    out.ok();
    let want: Vec<String> =
        DEV_NODES.iter().map(|(n, dev)| format!("/dev/{n} character special file {dev}")).collect();
    assert_eq!(out.lines(), want, "{out}");
}

#[test]
fn dev_nodes_work() {
    let fx = Fixture::new();
    let out = fx.sh(
        &[],
        "echo x > /dev/null || exit 10; \
         head -c 4 /dev/zero | wc -c; \
         head -c 16 /dev/urandom | wc -c; \
         head -c 16 /dev/random | wc -c; \
         if echo x 2>/dev/null > /dev/full; then exit 11; fi; \
         echo via-stdout > /dev/stdout; \
         echo via-stderr > /dev/stderr",
    );
    out.ok();
    let lines: Vec<&str> = out.lines().iter().map(|l| l.trim()).collect();
    assert_eq!(lines, ["4", "16", "16", "via-stdout"], "{out}");
    assert_eq!(out.stderr, "via-stderr\n", "{out}");
}

#[test]
fn dev_fd_links_point_into_proc() {
    let fx = Fixture::new();
    let out = fx.sh(&[], "for l in fd stdin stdout stderr; do readlink /dev/$l; done");
    out.ok();
    assert_eq!(out.lines(), ["/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2"], "{out}");
}

#[test]
fn dev_is_tmpfs_with_devpts_and_shm() {
    let fx = Fixture::new();
    let mounts = container_mounts(&fx, &[]);
    assert_eq!(mount_at(&mounts, "/dev").fstype, "tmpfs", "{mounts:#?}");
    assert_eq!(mount_at(&mounts, "/dev/pts").fstype, "devpts", "{mounts:#?}");
    assert_eq!(mount_at(&mounts, "/dev/shm").fstype, "tmpfs", "{mounts:#?}");

    // A new devpts instance holds no pty of the host's, only its ptmx.
    let out = fx.sh(&[], "ls -A /dev/pts; test -c /dev/ptmx || test -L /dev/ptmx && echo ptmx-ok");
    out.ok();
    assert_eq!(out.lines(), ["ptmx", "ptmx-ok"], "{out}");
}

#[test]
fn sys_is_a_read_only_sysfs() {
    let fx = Fixture::new();
    let mounts = container_mounts(&fx, &[]);
    let sys = mount_at(&mounts, "/sys");
    assert_eq!(sys.fstype, "sysfs", "{sys:?}");
    assert!(sys.has_option("ro"), "{sys:?}");
    let out = fx.sh(&[], "touch /sys/x");
    assert_ne!(out.code(), 0, "{out}");
}

#[test]
fn proc_is_a_proc() {
    let fx = Fixture::new();
    let mounts = container_mounts(&fx, &[]);
    assert_eq!(mount_at(&mounts, "/proc").fstype, "proc", "{mounts:#?}");
    let out = fx.run(&[], &["/bin/stat", "-f", "-c", "%T", "/proc"]);
    out.ok();
    assert_eq!(out.lines(), ["proc"], "{out}");
}
