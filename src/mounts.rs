//! The mounts inside the container: the ones every container gets (a table walked by one
//! loop), then the user's volumes and tmpfs mounts. All are made before the root switch,
//! through fds resolved inside the new root. See mount(2), proc(5), sysfs(5), devpts docs.
use alloc::vec::Vec;
use core::ffi::{c_int, CStr};

use crate::buf::{fd_path, Buf};
use crate::config::{Device, Mount, Tmpfs, Volume};
use crate::error::{Context, Error, Result};
use crate::msg::m;
use crate::rootfs::{self, mount_on, mount_point, Kind};
use crate::{sys, userns};

const NOSUID_NOEXEC_NODEV: u64 = libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV;

/// What docker gives every container, in mount order (/dev before what lives in it). One word
/// list, not a table (16 bytes a pointer): each word is a kind, then the path, then for a
/// link `=TARGET`. Kinds: `p` proc, `s` sysfs, or where the kernel refuses it (a user
/// namespace that does not own the network namespace: rootless with `--net host`) the host's
/// /sys bound read-only; `d` /dev's tmpfs, `m` /dev/shm's; `t` a new devpts instance; `n` a
/// node like the host's at the same path (made with mknod, or bound from the host where mknod
/// is not allowed); `l` a symlink.
const DEFAULTS: &[u8] = b"p/proc s/sys d/dev n/dev/null n/dev/zero n/dev/full n/dev/random n/dev/urandom n/dev/tty \
t/dev/pts l/dev/ptmx=pts/ptmx m/dev/shm l/dev/fd=/proc/self/fd l/dev/stdin=/proc/self/fd/0 \
l/dev/stdout=/proc/self/fd/1 l/dev/stderr=/proc/self/fd/2";

/// The table's mounts, nodes and links; `nodes_only`: only the nodes and links of /dev (a
/// bundle's own tmpfs at /dev gets those, see the runtime-spec's "Default Devices").
pub fn defaults(root: c_int, nodes_only: bool) -> Result<()> {
    for w in DEFAULTS.split(|&c| c == b' ') {
        let kind = w[0];
        let (p, target) = w[1..].split_at(w.iter().position(|&c| c == b'=').unwrap_or(w.len()) - 1);
        if nodes_only && !matches!(kind, b'n' | b'l') {
            continue;
        }
        let mut pb = Buf::<32>::new();
        let path = pb.push(p).cstr();
        let (fstype, flags, data) = match kind {
            b'p' => (c"proc", NOSUID_NOEXEC_NODEV, c""),
            b'd' => (c"tmpfs", libc::MS_NOSUID | libc::MS_STRICTATIME, c"mode=755,size=65536k"),
            b'm' => (c"tmpfs", NOSUID_NOEXEC_NODEV, c"mode=1777,size=65536k"),
            b's' => {
                sysfs(root, path, NOSUID_NOEXEC_NODEV | libc::MS_RDONLY)?;
                continue;
            }
            b't' => {
                // Its terminals belong to the tty group (gid 5) where the user namespace maps
                // that gid (the kernel refuses an unmapped one; a rootless one maps only 0).
                let data = match userns::gid_mapped(5) {
                    true => c"newinstance,ptmxmode=0666,mode=0620,gid=5",
                    false => c"newinstance,ptmxmode=0666,mode=0620",
                };
                (c"devpts", libc::MS_NOSUID | libc::MS_NOEXEC, data)
            }
            // A node of our own is much cheaper than a mount. In the fresh /dev tmpfs: no
            // symlink of ROOTFS can be in the way.
            b'n' => {
                node(root, path, sys::copy_node(path, root, &path[1..]))?;
                continue;
            }
            // Inside the fresh /dev tmpfs: no symlink of ROOTFS can be in the way.
            _ => {
                sys::symlinkat(Buf::<32>::new().push(&target[1..]).cstr(), root, &path[1..]).at(m!("creating symlink"), p)?;
                continue;
            }
        };
        mount_fs(root, p, fstype, fstype, flags, data)?.at(m!("mounting"), p)?;
    }
    Ok(())
}

/// sysfs, or where the kernel refuses it (a user namespace that does not own the network
/// namespace) the host's /sys bound read-only.
fn sysfs(root: c_int, path: &CStr, flags: u64) -> Result<()> {
    let p = path.to_bytes();
    match mount_fs(root, p, c"sysfs", c"sysfs", flags, c"")? {
        Err(sys::Errno(libc::EPERM)) => {
            bind(root, c"/sys", p, Kind::Dir, REC_BIND)?;
            read_only(root, path)
        }
        r => r.at(m!("mounting"), p),
    }
}

/// Mounts a filesystem at `path` inside root, creating the directory if missing; the outer
/// Result is that step's, the inner the mount's own.
fn mount_fs(root: c_int, path: &[u8], src: &CStr, fstype: &CStr, flags: u64, data: &CStr) -> Result<sys::Result<()>> {
    mount_in(root, path, Kind::Dir, src, Some(fstype), flags, data)
}

/// [`mount_fs`] and [`bind`] in one: `path` is created as `kind`; `data` only when not empty.
#[inline(never)]
fn mount_in(root: c_int, path: &[u8], kind: Kind, src: &CStr, fstype: Option<&CStr>, flags: u64, data: &CStr) -> Result<sys::Result<()>> {
    let fd = mount_point(root, path, kind)?;
    let r = mount_on(fd, Some(src), fstype, flags, (!data.is_empty()).then_some(data));
    sys::close(fd);
    Ok(r)
}

/// Kernel information a container has no business reading (Docker's masked paths): files get
/// /dev/null bound over them, directories an empty read-only tmpfs. One word list, not a table
/// of C strings (16 bytes a pointer each).
pub const MASKED: &[u8] = b"/proc/acpi /proc/asound /proc/kcore /proc/keys /proc/latency_stats \
/proc/timer_list /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware";

/// Kernel settings a container may read but not change (Docker's read-only paths).
pub const READ_ONLY: &[u8] = b"/proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger";

/// The paths of a list above, as C strings (leaked: they live until the container execs).
pub fn paths(list: &[u8]) -> &'static [&'static CStr] {
    let mut v = Vec::new();
    for p in list.split(|&c| c == b' ') {
        v.push(crate::config::leak(p));
    }
    v.leak()
}

/// Masks and write-protects paths (the lists above, or a bundle's), where they exist.
pub fn confine_proc(root: c_int, masked: &[&CStr], read_only_paths: &[&CStr]) -> Result<()> {
    for i in 0..masked.len() + read_only_paths.len() {
        let mask = i < masked.len();
        let path = if mask { masked[i] } else { read_only_paths[i - masked.len()] };
        let p = path.to_bytes();
        let Some(fd) = existing(root, path)? else { continue };
        // Masked: files get /dev/null bound over them, directories an empty read-only tmpfs.
        // Read-only: a bind of itself, that can then be remounted read-only.
        let r = match mask.then(|| sys::file_type(fd, c"")) {
            None => mount_on(fd, Some(fd_path(fd).cstr()), None, libc::MS_BIND | libc::MS_REC, None),
            Some(Ok(libc::S_IFDIR)) => mount_on(fd, Some(c"tmpfs"), Some(c"tmpfs"), libc::MS_RDONLY | NOSUID_NOEXEC_NODEV, Some(c"size=0")),
            Some(_) => mount_on(fd, Some(c"/dev/null"), None, libc::MS_BIND, None),
        };
        sys::close(fd);
        if mask {
            r.at(m!("masking"), p)?;
        } else {
            r.at(m!("binding read-only"), p)?;
            read_only(root, path)?;
        }
    }
    Ok(())
}

/// An O_PATH fd to `path` inside root, or None if it does not exist.
fn existing(root: c_int, path: &CStr) -> Result<Option<c_int>> {
    match rootfs::open_in(root, path) {
        Ok(fd) => Ok(Some(fd)),
        Err(sys::Errno(libc::ENOENT)) => Ok(None),
        Err(e) => Err(Error::sys(m!("opening"), path.to_bytes(), e)),
    }
}

const REC_BIND: u64 = libc::MS_BIND | libc::MS_REC;

/// Binds host path `src` at `dst` inside root; `flags` MS_BIND, with MS_REC for everything
/// mounted below `src` too.
fn bind(root: c_int, src: &CStr, dst: &[u8], kind: Kind, flags: u64) -> Result<()> {
    mount_in(root, dst, kind, src, None, flags, c"")?.at(m!("bind mounting"), src.to_bytes())
}

/// `-v SRC:DST[:ro]`; DST is made a directory or a file to match SRC.
pub fn volume(root: c_int, v: &Volume) -> Result<()> {
    let src = v.src.to_bytes();
    let ty = sys::file_type(libc::AT_FDCWD, v.src).at(m!("volume source"), src)?;
    bind(root, v.src, v.dst.to_bytes(), if ty == libc::S_IFDIR { Kind::Dir } else { Kind::File }, REC_BIND)?;
    if v.read_only {
        read_only(root, v.dst)?;
    }
    Ok(())
}

/// Remounts the mount at `path` inside root read-only. Opened anew: an fd opened before the
/// mount names what lies beneath it.
fn read_only(root: c_int, path: &CStr) -> Result<()> {
    let fd = rootfs::open_in(root, path).at(m!("opening"), path.to_bytes())?;
    let r = rootfs::remount_read_only(fd, path.to_bytes());
    sys::close(fd);
    r
}

/// `--tmpfs DST[:OPTS]`.
pub fn tmpfs(root: c_int, t: &Tmpfs) -> Result<()> {
    let dst = t.dst.to_bytes();
    mount_fs(root, dst, c"tmpfs", c"tmpfs", t.flags, t.data)?.at(m!("mounting tmpfs"), dst)
}

/// A config.json mount. A bind is remounted with the flags it asks for beyond the bind (the
/// kernel ignores them on the bind itself); propagation is set last, on the mount made.
#[inline(never)]
pub fn oci(root: c_int, m: &Mount) -> Result<()> {
    let dst = m.dst.to_bytes();
    let is_bind = m.flags & libc::MS_BIND != 0;
    match m.fstype.to_bytes() {
        _ if is_bind => {
            let ty = sys::file_type(libc::AT_FDCWD, m.src).at(m!("mount source"), m.src.to_bytes())?;
            bind(root, m.src, dst, if ty == libc::S_IFDIR { Kind::Dir } else { Kind::File }, m.flags & REC_BIND)?;
        }
        // cgroup v1 cannot be mounted in a user namespace: the host's hierarchies are bound.
        b"cgroup" => match cgroup(root, m) {
            Err(e) if e.errno() == Some(libc::EPERM) => {
                bind(root, c"/sys/fs/cgroup", dst, Kind::Dir, REC_BIND)?;
                if m.flags & libc::MS_RDONLY != 0 {
                    read_only(root, m.dst)?;
                }
            }
            r => r?,
        },
        b"sysfs" => sysfs(root, m.dst, m.flags)?,
        _ => {
            let src = if m.src.is_empty() { m.fstype } else { m.src };
            mount_fs(root, dst, src, m.fstype, m.flags, m.data)?.at(m!("mounting"), dst)?;
            if dst == b"/dev" && m.fstype.to_bytes() == b"tmpfs" {
                defaults(root, true)?;
            }
        }
    }
    // What the mount made is opened anew: an fd opened before it names what lies beneath.
    let rest = if is_bind { m.flags & !(REC_BIND | libc::MS_REMOUNT) } else { 0 };
    if rest == 0 && m.propagation == 0 {
        return Ok(());
    }
    let fd = rootfs::open_in(root, m.dst).at(m!("opening"), dst)?;
    let flags = libc::MS_REMOUNT | libc::MS_BIND | rest;
    let r = match rest {
        0 => Ok(()),
        // In a user namespace the kernel keeps the source's locked flags: ask for them too.
        _ => match mount_on(fd, None, None, flags, None) {
            Err(sys::Errno(libc::EPERM)) => sys::mount_flags(fd).and_then(|old| mount_on(fd, None, None, flags | old, None)),
            r => r,
        }
        .at(m!("remounting"), dst),
    };
    let r = r.and_then(|()| match m.propagation {
        0 => Ok(()),
        p => mount_on(fd, None, None, p, None).at(m!("setting propagation"), dst),
    });
    sys::close(fd);
    r
}

/// A `cgroup` mount: the container's own cgroups (its cgroup namespace's). On cgroup v2 that
/// is cgroup2 itself; on v1 and hybrid hosts, as runc does, a tmpfs holding each hierarchy
/// of /proc/self/cgroup (and cgroup2 as `unified`), with links for co-mounted controllers.
fn cgroup(root: c_int, m: &Mount) -> Result<()> {
    let dst = m.dst.to_bytes();
    // Leaked: the container process execs soon after (no drop code).
    let text = sys::read_file(c"/proc/self/cgroup").at(m!("reading"), b"/proc/self/cgroup")?.leak();
    // Lines `ID:CONTROLLERS:PATH`; v2's has no controllers.
    let lines = || text.split(|&c| c == b'\n').filter_map(|l| l.split(|&c| c == b':').nth(1));
    let v2 = lines().all(|c| c.is_empty());
    let (fstype, flags, data) = match v2 {
        true => (c"cgroup2", m.flags, c""),
        false => (c"tmpfs", m.flags & !libc::MS_RDONLY, c"mode=755"),
    };
    mount_fs(root, dst, fstype, fstype, flags, data)?.at(m!("mounting"), dst)?;
    if v2 {
        return Ok(());
    }
    for ctrl in lines() {
        let name = ctrl.strip_prefix(b"name=").unwrap_or(if ctrl.is_empty() { b"unified" } else { ctrl });
        let mut sub = Buf::<256>::new();
        sub.push(dst).push(b"/").push(name);
        let fstype = if ctrl.is_empty() { c"cgroup2" } else { c"cgroup" };
        mount_fs(root, sub.as_bytes(), c"cgroup", fstype, m.flags, Buf::<64>::new().push(ctrl).cstr())?.at(m!("mounting"), sub.as_bytes())?;
        if crate::config::has(ctrl, b',') {
            let dir = rootfs::open_in(root, m.dst).at(m!("opening"), dst)?;
            let mut target = Buf::<64>::new();
            target.push(name);
            for part in ctrl.split(|&c| c == b',') {
                let _ = sys::symlinkat(target.cstr(), dir, Buf::<64>::new().push(part).cstr());
            }
            sys::close(dir);
        }
    }
    if m.flags & libc::MS_RDONLY != 0 {
        read_only(root, m.dst)?;
    }
    Ok(())
}

/// `linux.devices`: nodes made with mknod, replacing a node already there (one of the
/// defaults); where mknod is not allowed (a user namespace), the host's node at the same path
/// is bound instead, as runc does.
#[inline(never)]
pub fn devices(root: c_int, devices: &[Device]) -> Result<()> {
    for d in devices {
        let p = d.path.to_bytes();
        let slash = p.iter().rposition(|&c| c == b'/').unwrap_or(0);
        let dir = mount_point(root, if slash == 0 { b"/" } else { &p[..slash] }, Kind::Dir)?;
        // The last component: the C string's own tail.
        let name = sys::until_nul(&d.path.to_bytes_with_nul()[slash + 1..]);
        if matches!(sys::file_type(dir, name), Ok(libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO)) {
            let _ = sys::unlinkat(dir, name, 0);
        }
        let r = sys::mknodat(dir, name, d.mode, d.dev, d.uid, d.gid);
        sys::close(dir);
        node(root, d.path, r)?;
    }
    Ok(())
}

/// The outcome of making device node `path`: where mknod is not allowed (a user namespace),
/// the host's node at the same path is bound instead.
fn node(root: c_int, path: &CStr, made: sys::Result<()>) -> Result<()> {
    match made {
        Err(sys::Errno(libc::EPERM)) => bind(root, path, path.to_bytes(), Kind::File, REC_BIND),
        r => r.at(m!("creating device"), path.to_bytes()),
    }
}
