//! The mounts inside the container: the ones every container gets (a table walked by one
//! loop), then the user's volumes and tmpfs mounts. All are made before the root switch,
//! through fds resolved inside the new root. See mount(2), proc(5), sysfs(5), devpts docs.
use core::ffi::{c_int, CStr};

use crate::buf::fd_path;
use crate::config::{Tmpfs, Volume};
use crate::error::{Context, Result};
use crate::rootfs::{self, mount_point, Kind};
use crate::{sys, userns};

enum What {
    /// A filesystem of this type, with these flags and options.
    Fs(&'static CStr, u64, &'static CStr),
    /// sysfs, or where the kernel refuses it (a user namespace that does not own the network
    /// namespace: rootless with `--net host`), the host's /sys bound read-only.
    Sysfs,
    /// A new devpts instance; its terminals belong to the tty group (gid 5) where the user
    /// namespace maps that gid (the kernel refuses an unmapped one; a rootless one maps only 0).
    Devpts,
    /// A node like the host's at the same path: made with mknod, or bound from the host
    /// where mknod is not allowed.
    HostDevice,
    /// A symlink to this target.
    Link(&'static CStr),
}

const NOSUID_NOEXEC_NODEV: u64 = libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV;

/// What docker gives every container, in mount order (/dev before what lives in it).
const DEFAULTS: &[(&CStr, What)] = &[
    (c"/proc", What::Fs(c"proc", NOSUID_NOEXEC_NODEV, c"")),
    (c"/sys", What::Sysfs),
    (c"/dev", What::Fs(c"tmpfs", libc::MS_NOSUID | libc::MS_STRICTATIME, c"mode=755,size=65536k")),
    (c"/dev/null", What::HostDevice),
    (c"/dev/zero", What::HostDevice),
    (c"/dev/full", What::HostDevice),
    (c"/dev/random", What::HostDevice),
    (c"/dev/urandom", What::HostDevice),
    (c"/dev/tty", What::HostDevice),
    (c"/dev/pts", What::Devpts),
    (c"/dev/ptmx", What::Link(c"pts/ptmx")),
    (c"/dev/shm", What::Fs(c"tmpfs", NOSUID_NOEXEC_NODEV, c"mode=1777,size=65536k")),
    (c"/dev/fd", What::Link(c"/proc/self/fd")),
    (c"/dev/stdin", What::Link(c"/proc/self/fd/0")),
    (c"/dev/stdout", What::Link(c"/proc/self/fd/1")),
    (c"/dev/stderr", What::Link(c"/proc/self/fd/2")),
];

pub fn defaults(root: c_int) -> Result<()> {
    for (path, what) in DEFAULTS {
        let p = path.to_bytes();
        match *what {
            What::Fs(fstype, flags, data) => mount_fs(root, p, fstype, flags, data)?.at("mounting", p)?,
            What::Sysfs => match mount_fs(root, p, c"sysfs", NOSUID_NOEXEC_NODEV | libc::MS_RDONLY, c"")? {
                Err(sys::Errno(libc::EPERM)) => {
                    bind(root, path, p, Kind::Dir)?;
                    read_only(root, path)?
                }
                r => r.at("mounting", p)?,
            },
            What::Devpts => {
                let data = match userns::gid_mapped(5) {
                    true => c"newinstance,ptmxmode=0666,mode=0620,gid=5",
                    false => c"newinstance,ptmxmode=0666,mode=0620",
                };
                mount_fs(root, p, c"devpts", libc::MS_NOSUID | libc::MS_NOEXEC, data)?.at("mounting", p)?
            }
            // A node of our own is much cheaper than a mount; where mknod is not allowed (a
            // user namespace), the host's node is bound instead. In the fresh /dev tmpfs: no
            // symlink of ROOTFS can be in the way.
            What::HostDevice => match sys::copy_node(path, root, &path[1..]) {
                Err(sys::Errno(libc::EPERM)) => bind(root, path, p, Kind::File)?,
                r => r.at("creating device", p)?,
            },
            // Inside the fresh /dev tmpfs: no symlink of ROOTFS can be in the way.
            What::Link(target) => sys::symlinkat(target, root, &path[1..]).at("creating symlink", p)?,
        }
    }
    Ok(())
}

/// Mounts a filesystem at `path` inside root, creating the directory if missing; the outer
/// Result is that step's, the inner the mount's own.
fn mount_fs(root: c_int, path: &[u8], fstype: &CStr, flags: u64, data: &CStr) -> Result<sys::Result<()>> {
    let fd = mount_point(root, path, Kind::Dir)?;
    let data = (!data.is_empty()).then_some(data);
    let r = sys::mount(Some(fstype), fd_path(fd).cstr(), Some(fstype), flags, data);
    sys::close(fd);
    Ok(r)
}

/// Kernel information a container has no business reading (Docker's masked paths): files get
/// /dev/null bound over them, directories an empty read-only tmpfs.
const MASKED: [&CStr; 10] = [
    c"/proc/acpi", c"/proc/asound", c"/proc/kcore", c"/proc/keys", c"/proc/latency_stats",
    c"/proc/timer_list", c"/proc/timer_stats", c"/proc/sched_debug", c"/proc/scsi", c"/sys/firmware",
];

/// Kernel settings a container may read but not change (Docker's read-only paths).
const READ_ONLY: [&CStr; 5] = [c"/proc/bus", c"/proc/fs", c"/proc/irq", c"/proc/sys", c"/proc/sysrq-trigger"];

/// Masks and write-protects the paths above, where this kernel has them.
pub fn confine_proc(root: c_int) -> Result<()> {
    for path in MASKED {
        let p = path.to_bytes();
        let Some(fd) = existing(root, path)? else { continue };
        let r = match sys::file_type(fd, c"") {
            Ok(libc::S_IFDIR) => sys::mount(Some(c"tmpfs"), fd_path(fd).cstr(), Some(c"tmpfs"), libc::MS_RDONLY | NOSUID_NOEXEC_NODEV, Some(c"size=0")),
            _ => sys::mount(Some(c"/dev/null"), fd_path(fd).cstr(), None, libc::MS_BIND, None),
        };
        sys::close(fd);
        r.at("masking", p)?;
    }
    for path in READ_ONLY {
        let p = path.to_bytes();
        let Some(fd) = existing(root, path)? else { continue };
        let r = sys::mount(Some(fd_path(fd).cstr()), fd_path(fd).cstr(), None, libc::MS_BIND | libc::MS_REC, None);
        sys::close(fd);
        r.at("binding read-only", p)?;
        read_only(root, path)?;
    }
    Ok(())
}

/// An O_PATH fd to `path` inside root, or None if it does not exist.
fn existing(root: c_int, path: &CStr) -> Result<Option<c_int>> {
    match rootfs::open_in(root, path) {
        Ok(fd) => Ok(Some(fd)),
        Err(sys::Errno(libc::ENOENT)) => Ok(None),
        Err(e) => Err(crate::error::Error::sys("opening", path.to_bytes(), e)),
    }
}

/// Binds host path `src` at `dst` inside root, with everything mounted below `src`.
fn bind(root: c_int, src: &CStr, dst: &[u8], kind: Kind) -> Result<()> {
    let fd = mount_point(root, dst, kind)?;
    let r = sys::mount(Some(src), fd_path(fd).cstr(), None, libc::MS_BIND | libc::MS_REC, None);
    sys::close(fd);
    r.at("bind mounting", src.to_bytes())
}

/// `-v SRC:DST[:ro]`; DST is made a directory or a file to match SRC.
pub fn volume(root: c_int, v: &Volume) -> Result<()> {
    let src = v.src.to_bytes();
    let ty = sys::file_type(libc::AT_FDCWD, v.src).at("volume source", src)?;
    bind(root, v.src, v.dst.to_bytes(), if ty == libc::S_IFDIR { Kind::Dir } else { Kind::File })?;
    if v.read_only {
        read_only(root, v.dst)?;
    }
    Ok(())
}

/// Remounts the mount at `path` inside root read-only. Opened anew: an fd opened before the
/// mount names what lies beneath it.
fn read_only(root: c_int, path: &CStr) -> Result<()> {
    let fd = rootfs::open_in(root, path).at("opening", path.to_bytes())?;
    let r = rootfs::remount_read_only(fd, path.to_bytes());
    sys::close(fd);
    r
}

/// `--tmpfs DST[:OPTS]`.
pub fn tmpfs(root: c_int, t: &Tmpfs) -> Result<()> {
    let dst = t.dst.to_bytes();
    mount_fs(root, dst, c"tmpfs", t.flags, t.data)?.at("mounting tmpfs", dst)
}
