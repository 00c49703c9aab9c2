//! The container's root: made a mount of its own (a bind of ROOTFS, or an overlay with a
//! throwaway upper layer), then switched to with pivot_root, or MS_MOVE + chroot where
//! pivot_root cannot work. Paths inside the new root are always resolved as the container
//! will see them (openat2 RESOLVE_IN_ROOT), so a symlink in ROOTFS cannot make hutch create
//! or mount anything outside it. See pivot_root(2), mount(2), openat2(2), overlayfs docs.
use core::ffi::{c_int, CStr};

use crate::buf::{fd_path, Buf};
use crate::config::RunConfig;
use crate::error::{Context, Error, Result};
use crate::msg::m;
use crate::sys::{self, Errno};

const O_DIR: c_int = libc::O_PATH | libc::O_DIRECTORY;
const RAMFS_MAGIC: i64 = 0x858458f6;
const TMPFS_MAGIC: i64 = 0x01021994;

/// Opens `path` inside `root` with O_PATH. Kernels before 5.6 lack openat2; there the path is
/// resolved relative to `root` without the symlink confinement.
pub fn open_in(root: c_int, path: &CStr) -> sys::Result<c_int> {
    match sys::openat_in_root(root, path, libc::O_PATH, 0) {
        Err(Errno(libc::ENOSYS)) => {
            let rel = &path[path.to_bytes().iter().take_while(|&&c| c == b'/').count()..];
            sys::openat(root, if rel.is_empty() { c"." } else { rel }, libc::O_PATH, 0)
        }
        r => r,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

/// An O_PATH fd to `path` inside `root`, creating it (as `kind`) and its missing parent
/// directories first, as mount(2) needs an existing target.
pub fn mount_point(root: c_int, path: &[u8], kind: Kind) -> Result<c_int> {
    let mut a = [0u8; 4096];
    let r = match path.len() < a.len() {
        true => {
            a[..path.len()].copy_from_slice(path);
            walk(root, &mut a, path.len(), kind)
        }
        false => Err(Errno(libc::ENAMETOOLONG)),
    };
    r.map_err(|e| Error::sys(m!("creating mount point"), path, e))
}

/// An O_PATH fd to `a[..end]` inside `root`; when missing, its parent is walked to first
/// (made a directory if missing too) and the last component created in it as `kind`.
fn walk(root: c_int, a: &mut [u8; 4096], end: usize, kind: Kind) -> sys::Result<c_int> {
    let c = core::mem::replace(&mut a[end], 0);
    let mut r = open_in(root, sys::until_nul(a));
    if r == Err(Errno(libc::ENOENT)) {
        let from = a[..end].iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
        let parent = if from < 2 { root } else { walk(root, a, from - 1, Kind::Dir)? };
        let name = sys::until_nul(&a[from..]);
        let made = match kind {
            _ if name.is_empty() => Ok(()),
            Kind::File => sys::openat(parent, name, libc::O_CREAT | libc::O_WRONLY | libc::O_NOFOLLOW, 0o644).map(sys::close),
            Kind::Dir => sys::mkdirat(parent, name, 0o755),
        };
        if parent != root {
            sys::close(parent);
        }
        r = match made {
            Ok(()) | Err(Errno(libc::EEXIST)) => open_in(root, sys::until_nul(a)),
            Err(e) => Err(e),
        };
    }
    a[end] = c;
    r
}

/// Makes every mount private, so nothing mounted from here on propagates to the host, and
/// gives the container a root mount of its own. Returns an O_PATH fd to that root. In the
/// caller's mount namespace (`host_mounts`) the propagation stays as it is, and the root
/// mount with all below it is the host's until `delete`.
pub fn prepare(cfg: &RunConfig) -> Result<c_int> {
    let rootfs = cfg.rootfs;
    let rb = rootfs.to_bytes();
    // A bundle asking for slave propagation keeps receiving the host's mount events, as with
    // runc; nothing ever propagates back to the host.
    let slave = cfg.oci.as_ref().is_some_and(|o| o.propagation & libc::MS_SLAVE != 0);
    let propagation = if slave { libc::MS_SLAVE } else { libc::MS_PRIVATE };
    if !host_mounts(cfg) {
        sys::mount(None, c"/", None, libc::MS_REC | propagation, None).at(m!("making mounts private"), b"/")?;
    }
    // pivot_root needs the new root to be a mount point.
    if !cfg.overlay {
        sys::mount(Some(rootfs), rootfs, None, libc::MS_BIND | libc::MS_REC, None).at(m!("binding rootfs"), rb)?;
    }
    let fd = sys::open(rootfs, O_DIR).at(m!("opening rootfs"), rb)?;
    match cfg.overlay {
        true => overlay(rootfs, fd),
        false => Ok(fd),
    }
}

/// An overlay root: ROOTFS is the read-only lower layer, a tmpfs holds the upper and work
/// directories. The tmpfs is mounted over ROOTFS itself (in this private mount namespace
/// only), and ROOTFS stays reachable as the lower layer through `lower`, opened before.
fn overlay(rootfs: &CStr, lower: c_int) -> Result<c_int> {
    let rb = rootfs.to_bytes();
    sys::mount(Some(c"tmpfs"), rootfs, Some(c"tmpfs"), 0, Some(c"mode=755")).at(m!("mounting overlay tmpfs"), rb)?;
    let stage = sys::open(rootfs, O_DIR).at(m!("opening overlay tmpfs"), rb)?;
    for dir in [c"upper", c"work", c"root"] {
        sys::mkdirat(stage, dir, 0o755).at(m!("creating overlay directory"), dir.to_bytes())?;
    }
    let (l, s) = (fd_path(lower), fd_path(stage));
    let mut data = Buf::<128>::new();
    data.push(b"lowerdir=").push(l.as_bytes()).push(b",upperdir=").push(s.as_bytes());
    data.push(b"/upper,workdir=").push(s.as_bytes()).push(b"/work");
    let mut target = s;
    target.push(b"/root");
    sys::mount(Some(c"overlay"), target.cstr(), Some(c"overlay"), 0, Some(data.cstr())).at(m!("mounting overlay"), rb)?;
    let root = sys::openat(stage, c"root", O_DIR, 0).at(m!("opening overlay"), rb)?;
    sys::close(lower);
    sys::close(stage);
    Ok(root)
}

/// Ends the mounts of a container set up in the caller's mount namespace: its root mount
/// (the rootfs bound on itself, everything mounted below it with it) is detached, if the top
/// mount at `rootfs` is no longer the one that was there before (`before`, its mount ID).
pub fn detach_host_mounts(rootfs: &CStr, before: u64) {
    if sys::mount_id(rootfs).is_ok_and(|id| id != before) {
        let _ = sys::umount2(rootfs, libc::MNT_DETACH);
    }
}

/// Whether the container's mounts are made in the caller's mount namespace.
pub fn host_mounts(cfg: &RunConfig) -> bool {
    cfg.oci.as_ref().is_some_and(|o| o.host_mounts)
}

/// Makes `root` the process's root. pivot_root(".", ".") stacks the old root on top of the
/// new one, and the detaching umount then drops it, so no host path stays reachable.
/// pivot_root fails with EINVAL when / is the initramfs (rootfs cannot be unmounted); there,
/// and on `--no-pivot`, the root is moved over / and chrooted into instead. In the caller's
/// mount namespace neither is done to its /: chroot only, as runc does.
pub fn switch(root: c_int, no_pivot: bool, host_mounts: bool) -> Result<()> {
    sys::fchdir(root).at(m!("entering rootfs"), b"")?;
    if host_mounts {
        return enter();
    }
    if !no_pivot {
        match sys::pivot_root(c".", c".") {
            Ok(()) => {
                sys::umount2(c".", libc::MNT_DETACH).at(m!("detaching old root"), b"/")?;
                return sys::chdir(c"/").at(m!("entering rootfs"), b"/");
            }
            Err(Errno(libc::EINVAL)) if on_initramfs() => {}
            Err(e) => return Err(Error::sys(m!("pivot_root"), b".", e)),
        }
    }
    sys::mount(Some(c"."), c"/", None, libc::MS_MOVE, None).at(m!("moving rootfs to /"), b"")?;
    enter()
}

/// chroot into the working directory.
fn enter() -> Result<()> {
    sys::chroot(c".").at(m!("chroot"), b".")?;
    sys::chdir(c"/").at(m!("entering rootfs"), b"/")
}

fn on_initramfs() -> bool {
    matches!(sys::fs_type(c"/"), Ok(RAMFS_MAGIC | TMPFS_MAGIC))
}

/// Remounts the mount at `fd` read-only, keeping its other flags.
pub fn remount_read_only(fd: c_int, object: &[u8]) -> Result<()> {
    let flags = sys::mount_flags(fd).at(m!("remounting read-only"), object)?;
    let bind = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY;
    mount_on(fd, None, None, bind | flags, None).at(m!("remounting read-only"), object)
}

/// mount(2) onto what `fd` refers to, through /proc/self/fd/N (the fd was resolved inside the
/// root). One copy for every such mount.
#[inline(never)]
pub fn mount_on(fd: c_int, src: Option<&CStr>, fstype: Option<&CStr>, flags: u64, data: Option<&CStr>) -> sys::Result<()> {
    sys::mount(src, fd_path(fd).cstr(), fstype, flags, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{fs, path::PathBuf};

    #[test]
    fn mount_points_are_made_with_their_parents_in_any_spelling() {
        let dir = PathBuf::from(std::format!("/tmp/hutch-unit-mount-point-{}", std::process::id()));
        fs::create_dir_all(dir.join("have")).unwrap();
        let mut p = Buf::<256>::new();
        p.push(dir.as_os_str().as_encoded_bytes());
        let root = sys::open(p.cstr(), O_DIR).ok().unwrap();
        for (path, kind, made) in [
            (&b"/a/b/c"[..], Kind::Dir, "a/b/c"),
            (b"rel/x", Kind::File, "rel/x"),
            (b"//d//e/", Kind::Dir, "d/e"),
            (b"/have/f", Kind::File, "have/f"),
            (b"/have", Kind::Dir, "have"),
        ] {
            let fd = mount_point(root, path, kind).ok().unwrap();
            sys::close(fd);
            let m = fs::metadata(dir.join(made)).unwrap();
            assert_eq!(m.is_dir(), kind == Kind::Dir, "{made}");
        }
        let long = [b'a'; 4096];
        assert_eq!(mount_point(root, &long, Kind::Dir).err().unwrap().errno(), Some(libc::ENAMETOOLONG));
        sys::close(root);
        fs::remove_dir_all(&dir).unwrap();
    }
}
