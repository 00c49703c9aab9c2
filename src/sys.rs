//! The only module with `unsafe`: one thin wrapper per system call, named after it,
//! returning `Result<_, Errno>`. Mostly raw `sc` syscalls: musl's wrappers bring fallbacks for
//! old kernels, cancellation points and errno, which cost bytes here; musl's are kept where
//! they do more than the call (clone's new stack) or are as small as the call itself.
//! Man pages: syscalls(2) and the page named after each wrapper.
#![allow(unsafe_code)]

use core::ffi::{c_int, c_void, CStr};
use core::mem::MaybeUninit;
use core::ptr;

pub use libc::{pid_t, sigset_t};

/// An errno value from a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub c_int);

pub type Result<T> = core::result::Result<T, Errno>;

fn errno() -> Errno {
    // SAFETY: musl returns a valid pointer to this thread's errno.
    Errno(unsafe { *libc::__errno_location() })
}

/// Decodes the libc convention: -1 and errno on failure.
fn check(ret: c_int) -> Result<c_int> {
    if ret == -1 {
        Err(errno())
    } else {
        Ok(ret)
    }
}

/// Decodes the raw syscall convention: -4095..-1 is a negated errno.
fn check_raw(ret: usize) -> Result<usize> {
    let r = ret as isize;
    if (-4095..0).contains(&r) {
        Err(Errno(-r as c_int))
    } else {
        Ok(ret)
    }
}

/// ioctl(2) as the raw call.
///
/// # Safety
/// `arg` must be what `req` wants: a valid pointer to the right type, or a plain integer.
unsafe fn ioctl(fd: c_int, req: libc::Ioctl, arg: usize) -> Result<usize> {
    // SAFETY: the caller passes the argument `req` wants.
    check_raw(unsafe { sc::syscall3(libc::SYS_ioctl as usize, fd as usize, req as usize, arg) })
}

/// write(2), retried until all of `buf` is written.
pub fn write_all(fd: c_int, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        // SAFETY: buf is a valid readable slice of buf.len() bytes.
        let n = unsafe { sc::syscall3(libc::SYS_write as usize, fd as usize, buf.as_ptr() as usize, buf.len()) };
        match check_raw(n) {
            Err(Errno(libc::EINTR)) => continue,
            Err(e) => return Err(e),
            Ok(n) => buf = &buf[n..],
        }
    }
    Ok(())
}

/// read(2), retried on EINTR; returns the byte count (0 at end of file).
pub fn read(fd: c_int, buf: &mut [u8]) -> Result<usize> {
    loop {
        // SAFETY: buf is a valid writable slice of buf.len() bytes.
        let n = unsafe { sc::syscall3(libc::SYS_read as usize, fd as usize, buf.as_mut_ptr() as usize, buf.len()) };
        match check_raw(n) {
            Err(Errno(libc::EINTR)) => continue,
            r => return r,
        }
    }
}

/// Whether the read end of the pipe whose write end is `fd` has been closed everywhere (poll(2)
/// reports POLLERR then).
pub fn reader_gone(fd: c_int) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
    let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: p is one valid pollfd; a zero timeout never blocks; no signal mask.
    let r = unsafe { sc::syscall4(libc::SYS_ppoll as usize, &mut p as *mut libc::pollfd as usize, 1, &zero as *const libc::timespec as usize, 0) };
    r == 1 && p.revents & libc::POLLERR != 0
}

/// close(2); errors are ignored since the fd is gone either way.
pub fn close(fd: c_int) {
    // SAFETY: closing an fd has no memory-safety preconditions.
    unsafe { sc::syscall1(libc::SYS_close as usize, fd as usize) };
}

/// pipe2(2) with O_CLOEXEC: returns (read end, write end).
pub fn pipe() -> Result<(c_int, c_int)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: fds is a valid array of two ints.
    check_raw(unsafe { sc::syscall2(libc::SYS_pipe2 as usize, fds.as_mut_ptr() as usize, libc::O_CLOEXEC as usize) })?;
    Ok((fds[0], fds[1]))
}

// Raw calls where musl's wrapper carries fallbacks for kernels older than hutch supports
// (SOCK_CLOEXEC, O_CLOEXEC emulation) or argument juggling it does not need: a few hundred
// bytes each.

/// socket(2), close-on-exec.
fn socket(domain: c_int, kind: c_int) -> Result<c_int> {
    // SAFETY: socket takes no pointers.
    let r = unsafe { sc::syscall3(libc::SYS_socket as usize, domain as usize, (kind | libc::SOCK_CLOEXEC) as usize, 0) };
    check_raw(r).map(|fd| fd as c_int)
}

/// fcntl(2) with an integer argument.
fn fcntl(fd: c_int, cmd: c_int, arg: c_int) -> Result<c_int> {
    // SAFETY: the commands used here take no pointers.
    check_raw(unsafe { sc::syscall3(libc::SYS_fcntl as usize, fd as usize, cmd as usize, arg as usize) }).map(|r| r as c_int)
}

/// The whole contents of a file, read with open(2) and read(2).
pub fn read_file(path: &CStr) -> Result<alloc::vec::Vec<u8>> {
    read_file_at(libc::AT_FDCWD, path)
}

/// The whole contents of a file, `path` relative to `dirfd`, see openat(2) and read(2).
pub fn read_file_at(dirfd: c_int, path: &CStr) -> Result<alloc::vec::Vec<u8>> {
    let fd = openat(dirfd, path, libc::O_RDONLY, 0)?;
    let mut text = alloc::vec::Vec::new();
    let mut chunk = [0u8; 4096];
    let r = loop {
        match read(fd, &mut chunk) {
            Ok(0) => break Ok(text),
            Ok(n) => text.extend_from_slice(&chunk[..n]),
            Err(e) => break Err(e),
        }
    };
    close(fd);
    r
}

/// Writes all of `data` to an existing file, see open(2) and write(2).
pub fn write_file(path: &CStr, data: &[u8]) -> Result<()> {
    write_file_at(libc::AT_FDCWD, path, data, 0)
}

/// Writes `data` to `path` relative to `dirfd`, opened O_WRONLY with `flags` added: one
/// write(2) for small data, as the kernel's control files (cgroupfs, procfs) want.
pub fn write_file_at(dirfd: c_int, path: &CStr, data: &[u8], flags: c_int) -> Result<()> {
    let fd = openat(dirfd, path, libc::O_WRONLY | flags, 0o644)?;
    let r = write_all(fd, data);
    close(fd);
    r
}

/// openat(2), always with O_CLOEXEC.
pub fn openat(dirfd: c_int, path: &CStr, flags: c_int, mode: u32) -> Result<c_int> {
    // SAFETY: path is NUL-terminated.
    let r = unsafe { sc::syscall4(libc::SYS_openat as usize, dirfd as usize, path.as_ptr() as usize, (flags | libc::O_CLOEXEC) as usize, mode as usize) };
    check_raw(r).map(|fd| fd as c_int)
}

pub fn open(path: &CStr, flags: c_int) -> Result<c_int> {
    openat(libc::AT_FDCWD, path, flags, 0)
}

/// openat2(2) with RESOLVE_IN_ROOT: `path` is resolved as if `root` were "/", so neither
/// ".." nor an absolute symlink in the container's tree can lead outside it.
pub fn openat_in_root(root: c_int, path: &CStr, flags: c_int, mode: u32) -> Result<c_int> {
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
    const RESOLVE_IN_ROOT: u64 = 0x10;
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: mode as u64,
        resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: path is NUL-terminated and `how` is a valid open_how of the size passed.
    let r = unsafe {
        sc::syscall4(
            libc::SYS_openat2 as usize,
            root as usize,
            path.as_ptr() as usize,
            &how as *const OpenHow as usize,
            core::mem::size_of::<OpenHow>(),
        )
    };
    check_raw(r).map(|fd| fd as c_int)
}

/// mkdirat(2).
pub fn mkdirat(dirfd: c_int, path: &CStr, mode: u32) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    check_raw(unsafe { sc::syscall3(libc::SYS_mkdirat as usize, dirfd as usize, path.as_ptr() as usize, mode as usize) }).map(drop)
}

/// unlinkat(2); with AT_REMOVEDIR it removes an empty directory, as rmdir(2) does.
pub fn unlinkat(dirfd: c_int, path: &CStr, flags: c_int) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    check_raw(unsafe { sc::syscall3(libc::SYS_unlinkat as usize, dirfd as usize, path.as_ptr() as usize, flags as usize) }).map(drop)
}

/// symlinkat(2).
pub fn symlinkat(target: &CStr, dirfd: c_int, path: &CStr) -> Result<()> {
    // SAFETY: both strings are NUL-terminated.
    check_raw(unsafe { sc::syscall3(libc::SYS_symlinkat as usize, target.as_ptr() as usize, dirfd as usize, path.as_ptr() as usize) }).map(drop)
}

/// The file type bits (S_IFMT) of `path`, following symlinks, see fstatat(2); an empty path
/// means `dirfd` itself.
pub fn file_type(dirfd: c_int, path: &CStr) -> Result<u32> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    let flags = if path.is_empty() { libc::AT_EMPTY_PATH } else { 0 };
    stat_at(dirfd, path, &mut st, flags)?;
    // SAFETY: fstatat succeeded, so st is initialised.
    Ok(unsafe { st.assume_init() }.st_mode & libc::S_IFMT)
}

/// fstatat(2) as the raw call: musl's wrapper carries a statx fallback hutch does not need.
fn stat_at(dirfd: c_int, path: &CStr, st: &mut MaybeUninit<libc::stat>, flags: c_int) -> Result<()> {
    // SAFETY: st is writable and large enough for the kernel's struct stat, which libc::stat
    // mirrors on both targets; path is NUL-terminated.
    let r = unsafe {
        sc::syscall4(libc::SYS_newfstatat as usize, dirfd as usize, path.as_ptr() as usize, st.as_mut_ptr() as usize, flags as usize)
    };
    check_raw(r).map(drop)
}

/// fchmodat(2) as the raw call (no flags: musl's wrapper would bring its AT_SYMLINK_NOFOLLOW
/// emulation along).
fn chmod_at(dirfd: c_int, path: &CStr, mode: libc::mode_t) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    check_raw(unsafe { sc::syscall3(libc::SYS_fchmodat as usize, dirfd as usize, path.as_ptr() as usize, mode as usize) }).map(drop)
}

/// Makes at `path` (relative to `dirfd`) a device node like the one at `like`: its type,
/// device number and permissions (set again after mknodat(2), which applies the umask).
pub fn copy_node(like: &CStr, dirfd: c_int, path: &CStr) -> Result<()> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    stat_at(libc::AT_FDCWD, like, &mut st, 0)?;
    // SAFETY: stat succeeded, so st is initialised.
    let st = unsafe { st.assume_init() };
    // SAFETY: path is NUL-terminated.
    check_raw(unsafe { sc::syscall4(libc::SYS_mknodat as usize, dirfd as usize, path.as_ptr() as usize, st.st_mode as usize, st.st_rdev as usize) })?;
    chmod_at(dirfd, path, st.st_mode & 0o7777)
}

/// The filesystem magic number (f_type) of the filesystem holding `path`, see statfs(2).
pub fn fs_type(path: &CStr) -> Result<i64> {
    let mut st = MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: st is writable and large enough for struct statfs; path is NUL-terminated.
    check_raw(unsafe { sc::syscall2(libc::SYS_statfs as usize, path.as_ptr() as usize, st.as_mut_ptr() as usize) })?;
    // SAFETY: statfs succeeded, so st is initialised.
    Ok(unsafe { st.assume_init() }.f_type as i64)
}

/// The C string at the start of `a` (empty when `a` holds no NUL). A plain scan: core's
/// CStr::from_bytes_until_nul brings a word-at-a-time memchr (250 bytes of code).
pub fn until_nul(a: &[u8]) -> &CStr {
    match a.iter().position(|&c| c == 0) {
        // SAFETY: a[..=n] ends with its only NUL.
        Some(n) => unsafe { CStr::from_bytes_with_nul_unchecked(&a[..=n]) },
        None => c"",
    }
}

/// The ID of the mount `path` is on (statx(2)'s stx_mnt_id, Linux 5.8; 0 before).
pub fn mount_id(path: &CStr) -> Result<u64> {
    // struct statx is 256 bytes; stx_mnt_id is at byte 144.
    let mut st = [0u64; 32];
    // SAFETY: st is writable and as large as struct statx; path is NUL-terminated.
    check_raw(unsafe { sc::syscall5(libc::SYS_statx as usize, libc::AT_FDCWD as usize, path.as_ptr() as usize, 0, libc::STATX_MNT_ID as usize, st.as_mut_ptr() as usize) })?;
    Ok(st[18])
}

/// access(2) with F_OK: whether `path` exists.
pub fn exists(path: &CStr) -> bool {
    // SAFETY: path is NUL-terminated.
    check_raw(unsafe { sc::syscall3(libc::SYS_faccessat as usize, libc::AT_FDCWD as usize, path.as_ptr() as usize, libc::F_OK as usize) }).is_ok()
}

/// access(2) with W_OK: whether the caller (its real ids) may write `path`.
pub fn writable(path: &CStr) -> bool {
    // SAFETY: path is NUL-terminated.
    check_raw(unsafe { sc::syscall3(libc::SYS_faccessat as usize, libc::AT_FDCWD as usize, path.as_ptr() as usize, libc::W_OK as usize) }).is_ok()
}

/// mount(2). `data` is the filesystem-specific option string.
pub fn mount(src: Option<&CStr>, target: &CStr, fstype: Option<&CStr>, flags: u64, data: Option<&CStr>) -> Result<()> {
    let p = |s: Option<&CStr>| s.map_or(ptr::null(), CStr::as_ptr);
    // SAFETY: every pointer is null or a NUL-terminated string.
    check_raw(unsafe { sc::syscall5(libc::SYS_mount as usize, p(src) as usize, target.as_ptr() as usize, p(fstype) as usize, flags as usize, p(data) as usize) }).map(drop)
}

/// umount2(2).
pub fn umount2(target: &CStr, flags: c_int) -> Result<()> {
    // SAFETY: target is NUL-terminated.
    check_raw(unsafe { sc::syscall2(libc::SYS_umount2 as usize, target.as_ptr() as usize, flags as usize) }).map(drop)
}

/// pivot_root(2); musl has no wrapper.
pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> Result<()> {
    // SAFETY: both strings are NUL-terminated.
    let r = unsafe { sc::syscall2(libc::SYS_pivot_root as usize, new_root.as_ptr() as usize, put_old.as_ptr() as usize) };
    check_raw(r).map(drop)
}

/// chroot(2).
pub fn chroot(path: &CStr) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    check_raw(unsafe { sc::syscall1(libc::SYS_chroot as usize, path.as_ptr() as usize) }).map(drop)
}

/// chdir(2).
pub fn chdir(path: &CStr) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    check_raw(unsafe { sc::syscall1(libc::SYS_chdir as usize, path.as_ptr() as usize) }).map(drop)
}

/// fchdir(2).
pub fn fchdir(fd: c_int) -> Result<()> {
    // SAFETY: no memory is passed.
    check_raw(unsafe { sc::syscall1(libc::SYS_fchdir as usize, fd as usize) }).map(drop)
}

/// sethostname(2).
pub fn sethostname(name: &[u8]) -> Result<()> {
    // SAFETY: name is a valid slice of name.len() bytes.
    check_raw(unsafe { sc::syscall2(libc::SYS_sethostname as usize, name.as_ptr() as usize, name.len()) }).map(drop)
}

/// Brings a network interface up: SIOCGIFFLAGS then SIOCSIFFLAGS with IFF_UP, see netdevice(7).
pub fn link_up(name: &[u8]) -> Result<()> {
    let sock = socket(libc::AF_INET, libc::SOCK_DGRAM)?;
    // SAFETY: an all-zero ifreq is a valid value.
    let mut req: libc::ifreq = unsafe { core::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(name.iter().take(libc::IFNAMSIZ - 1)) {
        *d = *s as _;
    }
    // SAFETY: req is a valid ifreq for both ioctls; the kernel writes only ifr_flags.
    let r = unsafe {
        ioctl(sock, libc::SIOCGIFFLAGS as _, &mut req as *mut libc::ifreq as usize).and_then(|_| {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            ioctl(sock, libc::SIOCSIFFLAGS as _, &req as *const libc::ifreq as usize)
        })
    };
    close(sock);
    r.map(drop)
}

/// execve(2); returns only on failure.
pub fn execve(path: &CStr, argv: &[*const i8], envp: &[*const i8]) -> Errno {
    debug_assert!(argv.last() == Some(&ptr::null()) && envp.last() == Some(&ptr::null()));
    // SAFETY: argv and envp are null-terminated arrays of NUL-terminated strings.
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr().cast(), envp.as_ptr().cast()) };
    errno()
}

/// dup2(2).
pub fn dup2(old: c_int, new: c_int) -> Result<()> {
    // SAFETY: dup2 takes no pointers.
    check(unsafe { libc::dup2(old, new) }).map(drop)
}

/// _exit(2): leaves without running atexit handlers or flushing anything shared with the parent.
pub fn exit(code: c_int) -> ! {
    // SAFETY: _exit has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Marks every fd from `first` up close-on-exec, see close_range(2) (Linux 5.11); on older
/// kernels walks the fd numbers up to RLIMIT_NOFILE.
pub fn cloexec_from(first: c_int) {
    fds_in(first, c_int::MAX, 1 << 2); // CLOSE_RANGE_CLOEXEC
}

/// Closes the fds from `first` to `last`: close_range(2) (Linux 5.9), else a walk as above.
pub fn close_fds(first: c_int, last: c_int) {
    if first <= last {
        fds_in(first, last, 0);
    }
}

fn fds_in(first: c_int, last: c_int, flags: usize) {
    // SAFETY: close_range takes no pointers.
    let r = unsafe { sc::syscall3(libc::SYS_close_range as usize, first as usize, last as usize, flags) };
    if check_raw(r).is_ok() {
        return;
    }
    let mut lim = MaybeUninit::<libc::rlimit>::uninit();
    // SAFETY: lim is writable and the size of the kernel's struct rlimit64 on 64-bit targets.
    let r = unsafe { sc::syscall4(libc::SYS_prlimit64 as usize, 0, libc::RLIMIT_NOFILE as usize, 0, lim.as_mut_ptr() as usize) };
    let open_max = match check_raw(r) {
        // SAFETY: prlimit64 succeeded, so lim is initialised.
        Ok(_) => unsafe { lim.assume_init() }.rlim_cur,
        Err(_) => 1 << 20,
    };
    let max = open_max.clamp(first as _, 1 << 20) as c_int;
    for fd in first..max.min(last.saturating_add(1)) {
        // F_SETFD or close on any fd number is harmless; EBADF for closed ones is ignored.
        let _ = match flags {
            0 => Ok(close(fd)),
            _ => fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC).map(drop),
        };
    }
}

/// unshare(2).
pub fn unshare(flags: c_int) -> Result<()> {
    // SAFETY: unshare takes no pointers.
    check_raw(unsafe { sc::syscall1(libc::SYS_unshare as usize, flags as usize) }).map(drop)
}

/// getpid(2).
pub fn getpid() -> pid_t {
    // SAFETY: getpid has no preconditions and cannot fail.
    unsafe { libc::getpid() }
}

/// nanosleep(2) for `ms` milliseconds; an interruption just ends the sleep early. A raw
/// syscall: musl's wrapper brings clock_nanosleep along.
pub fn sleep_ms(ms: u32) {
    let t = libc::timespec { tv_sec: (ms / 1000) as _, tv_nsec: (ms % 1000) as libc::c_long * 1_000_000 };
    // SAFETY: t is a valid timespec; a null remainder pointer is allowed.
    unsafe { sc::syscall2(libc::SYS_nanosleep as usize, &t as *const libc::timespec as usize, 0) };
}

/// prctl(2) with integer arguments; returns the call's result.
pub fn prctl(option: c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> Result<c_int> {
    // SAFETY: the options used here take integer arguments only.
    check_raw(unsafe { sc::syscall5(libc::SYS_prctl as usize, option as usize, arg2 as usize, arg3 as usize, 0, 0) }).map(|r| r as c_int)
}

/// capset(2) for this process: the three capability sets as 64-bit masks.
pub fn capset(effective: u64, permitted: u64, inheritable: u64) -> Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: c_int,
    }
    #[repr(C)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let header = Header { version: VERSION_3, pid: 0 };
    let half = |m: u64, hi: bool| (if hi { m >> 32 } else { m }) as u32;
    let data = [false, true].map(|hi| Data {
        effective: half(effective, hi),
        permitted: half(permitted, hi),
        inheritable: half(inheritable, hi),
    });
    // SAFETY: header and data are the version-3 layouts capset reads (two data entries).
    let r = unsafe { sc::syscall2(libc::SYS_capset as usize, &header as *const Header as usize, data.as_ptr() as usize) };
    check_raw(r).map(drop)
}

/// setgroups(2), setresgid(2) and setresuid(2), in that order (groups and gid need the
/// privileges that the uid change may drop); no setgroups when `groups` is empty (where a
/// user namespace denies it). Raw syscalls: musl's wrappers would broadcast the change to
/// every thread (__synccall), which a single-threaded hutch does not need.
pub fn set_ids(uid: u32, gid: u32, groups: &[u32]) -> Result<()> {
    if !groups.is_empty() {
        // SAFETY: groups is a valid slice of gid_t (u32) values.
        check_raw(unsafe { sc::syscall2(libc::SYS_setgroups as usize, groups.len(), groups.as_ptr() as usize) })?;
    }
    // SAFETY: no pointers.
    check_raw(unsafe { sc::syscall3(libc::SYS_setresgid as usize, gid as usize, gid as usize, gid as usize) })?;
    // SAFETY: no pointers.
    check_raw(unsafe { sc::syscall3(libc::SYS_setresuid as usize, uid as usize, uid as usize, uid as usize) }).map(drop)
}

/// geteuid(2).
pub fn geteuid() -> u32 {
    // SAFETY: no arguments; it cannot fail.
    unsafe { libc::geteuid() }
}

/// getegid(2).
pub fn getegid() -> u32 {
    // SAFETY: no arguments; it cannot fail.
    unsafe { libc::getegid() }
}

/// setrlimit(2), as the raw prlimit64 syscall on this process (musl's wrapper would
/// broadcast to every thread, which a single-threaded hutch does not need).
pub fn setrlimit(resource: c_int, soft: u64, hard: u64) -> Result<()> {
    let lim = [soft, hard];
    // SAFETY: lim has the layout of struct rlimit64; a null old-limit pointer is allowed.
    let r = unsafe { sc::syscall4(libc::SYS_prlimit64 as usize, 0, resource as usize, lim.as_ptr() as usize, 0) };
    check_raw(r).map(drop)
}

/// Whether the working directory lies inside the process's root: getcwd(2) fails with ENOENT
/// here when the kernel reports it "(unreachable)", as musl's wrapper does.
pub fn cwd_reachable() -> Result<()> {
    let mut buf = [0u8; 4096];
    // SAFETY: buf is writable for its length.
    check_raw(unsafe { sc::syscall2(libc::SYS_getcwd as usize, buf.as_mut_ptr() as usize, buf.len()) })?;
    // The raw call reports an unreachable directory as "(unreachable)/..." (getcwd(3)).
    if buf[0] == b'/' {
        Ok(())
    } else {
        Err(Errno(libc::ENOENT))
    }
}

/// A signal set, see sigsetops(3).
pub fn sigset(signals: &[c_int]) -> sigset_t {
    let mut set = MaybeUninit::<sigset_t>::uninit();
    // SAFETY: sigemptyset initialises set; sigaddset with valid signal numbers keeps it valid.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        for &s in signals {
            libc::sigaddset(set.as_mut_ptr(), s);
        }
        set.assume_init()
    }
}

/// Resets `sig` to its default action, see rt_sigaction(2). A raw syscall: musl's sigaction
/// brings its signal-handling machinery, which hutch does not otherwise need.
pub fn default_action(sig: c_int) {
    // The kernel's struct sigaction (handler, flags, restorer, mask), the same on x86_64 and
    // aarch64; all zero is SIG_DFL with no flags and an empty mask.
    let act = [0usize; 4];
    // SAFETY: act is a valid kernel sigaction of the size given; a null old-action pointer is
    // allowed. Setting SIG_DFL cannot fail for a catchable signal.
    unsafe { sc::syscall4(libc::SYS_rt_sigaction as usize, sig as usize, act.as_ptr() as usize, 0, 8) };
}

/// sigprocmask(2): applies `how` with `set`, returns the previous mask.
pub fn sigprocmask(how: c_int, set: &sigset_t) -> sigset_t {
    // Initialised as a copy of `set`: the kernel writes only its 8-byte mask, the start of musl's.
    let mut old = *set;
    // SAFETY: set is a valid sigset and old is writable; with a valid `how` this cannot fail.
    unsafe { libc::sigprocmask(how, set, &mut old) };
    old
}

/// sigwaitinfo(2): waits for one signal of `set` (which must be blocked), returns its number.
pub fn sigwait(set: &sigset_t) -> c_int {
    loop {
        // SAFETY: set is a valid sigset; a null siginfo pointer is allowed.
        let r = unsafe { sc::syscall4(libc::SYS_rt_sigtimedwait as usize, set as *const sigset_t as usize, 0, 0, 8) };
        if let Ok(sig @ 1..) = check_raw(r) {
            return sig as c_int;
        }
    }
}

/// kill(2).
pub fn kill(pid: pid_t, sig: c_int) -> Result<()> {
    // SAFETY: kill takes no pointers.
    check_raw(unsafe { sc::syscall2(libc::SYS_kill as usize, pid as usize, sig as usize) }).map(drop)
}

/// The running kernel's release, e.g. `6.1.0-18-amd64`, see uname(2); empty if uname fails.
pub fn kernel_release() -> [u8; 65] {
    let mut u = MaybeUninit::<libc::utsname>::uninit();
    let mut out = [0u8; 65];
    // SAFETY: u is writable and large enough for struct utsname.
    if check_raw(unsafe { sc::syscall1(libc::SYS_uname as usize, u.as_mut_ptr() as usize) }).is_ok() {
        // SAFETY: uname succeeded, so u is initialised.
        let release = unsafe { u.assume_init() }.release;
        for (o, c) in out.iter_mut().zip(release.iter()) {
            *o = *c as u8;
        }
    }
    out
}

/// How a waited-for child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(c_int),
    Signal(c_int),
}

/// waitpid(2) for one child. `None` when `nohang` and it has not ended yet.
pub fn waitpid(pid: pid_t, nohang: bool) -> Result<Option<Exit>> {
    wait(pid, if nohang { libc::WNOHANG } else { 0 }).map(|r| r.map(|(_, exit)| exit))
}

/// waitpid(-1, WNOHANG): any one child that has ended, and how; `None` when none has (or
/// none is left).
pub fn wait_any() -> Option<(pid_t, Exit)> {
    wait(-1, libc::WNOHANG).ok().flatten()
}

fn wait(pid: pid_t, flags: c_int) -> Result<Option<(pid_t, Exit)>> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid int to write to.
        let r = unsafe { sc::syscall4(libc::SYS_wait4 as usize, pid as usize, &mut status as *mut c_int as usize, flags as usize, 0) };
        let r = match check_raw(r) {
            Err(Errno(libc::EINTR)) => continue,
            Err(e) => return Err(e),
            Ok(r) => r as pid_t,
        };
        match r {
            0 => return Ok(None),
            _ if libc::WIFEXITED(status) => return Ok(Some((r, Exit::Code(libc::WEXITSTATUS(status))))),
            _ if libc::WIFSIGNALED(status) => return Ok(Some((r, Exit::Signal(libc::WTERMSIG(status))))),
            _ => continue,
        }
    }
}

/// A child's stack: an anonymous mapping whose lowest page is PROT_NONE, so an overflow
/// faults instead of writing over other memory (stacks grow down on every supported arch).
pub struct Stack {
    base: *mut c_void,
    len: usize,
}

impl Stack {
    pub fn new(len: usize) -> Result<Stack> {
        const GUARD: usize = 4096;
        // SAFETY: a fresh private anonymous mapping aliases no Rust memory.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(errno());
        }
        // SAFETY: the first page lies inside the mapping just made.
        if unsafe { libc::mprotect(base, GUARD, libc::PROT_NONE) } != 0 {
            return Err(errno());
        }
        Ok(Stack { base, len })
    }
}

/// clone(2) through musl's wrapper, which switches to `stack` and calls `child(arg)` there:
/// the child runs in a copy of this process image (no CLONE_VM) and exits with its return
/// value. Returns the child's pid.
pub fn clone<T>(child: fn(&mut T) -> c_int, stack: &Stack, flags: c_int, arg: &mut T) -> Result<pid_t> {
    struct Call<T> {
        child: fn(&mut T) -> c_int,
        arg: *mut T,
    }
    extern "C" fn trampoline<T>(call: *mut c_void) -> c_int {
        // SAFETY: `call` is the Call<T> below, in the child's copy of this memory, and its `arg`
        // points to the caller's T, copied likewise.
        let call = unsafe { &mut *call.cast::<Call<T>>() };
        (call.child)(unsafe { &mut *call.arg })
    }
    let mut call = Call { child, arg };
    // SAFETY: the stack top is the end of a live mapping, 16-byte aligned (mmap is page
    // aligned); without CLONE_VM the child has its own copy of `call`, `arg` and the stack.
    let top = unsafe { (stack.base as *mut u8).add(stack.len) };
    check(unsafe { libc::clone(trampoline::<T>, top.cast(), flags, (&mut call as *mut Call<T>).cast()) })
}

/// The C environment `main` was given, as a slice of NUL-terminated strings.
pub fn c_strings(mut p: *const *const core::ffi::c_char) -> impl Iterator<Item = &'static CStr> {
    core::iter::from_fn(move || {
        // SAFETY: p walks a null-terminated array of C strings that live for the whole process
        // (argv and envp from the kernel); the loop stops at the null entry.
        unsafe {
            if p.is_null() || (*p).is_null() {
                return None;
            }
            let s = CStr::from_ptr(*p);
            p = p.add(1);
            Some(s)
        }
    })
}

/// musl's malloc as Rust's global allocator, for the few growable lists (env, volumes).
pub struct Malloc;

// SAFETY: malloc/free/realloc satisfy GlobalAlloc for alignments up to 16, which musl guarantees;
// larger alignments are not used by this crate and fall back to posix_memalign.
unsafe impl core::alloc::GlobalAlloc for Malloc {
    unsafe fn alloc(&self, l: core::alloc::Layout) -> *mut u8 {
        if l.align() <= 16 {
            // SAFETY: malloc has no preconditions.
            unsafe { libc::malloc(l.size()).cast() }
        } else {
            let mut p = ptr::null_mut();
            // SAFETY: p is a valid out pointer; align is a power of two.
            unsafe { libc::posix_memalign(&mut p, l.align(), l.size()) };
            p.cast()
        }
    }
    unsafe fn dealloc(&self, p: *mut u8, _: core::alloc::Layout) {
        // SAFETY: p came from malloc or posix_memalign above.
        unsafe { libc::free(p.cast()) }
    }
}

/// Sends `v` through a pipe as its raw bytes; only for the child-to-parent error report,
/// where both ends run this same binary. A message this small is written atomically.
pub fn send<T: Copy>(fd: c_int, v: &T) -> Result<()> {
    // SAFETY: v is a live T, readable as size_of::<T>() bytes.
    let bytes = unsafe { core::slice::from_raw_parts((v as *const T).cast::<u8>(), core::mem::size_of::<T>()) };
    write_all(fd, bytes)
}

/// Receives a `T` sent by [`send`]; `None` at end of file, i.e. when the sender exec'd or exited
/// without sending (the pipe is close-on-exec).
///
/// # Safety
/// The writer must be [`send`] of this same binary with the same `T`, so the bytes are a valid T.
pub unsafe fn receive<T: Copy>(fd: c_int) -> Result<Option<T>> {
    let mut v = MaybeUninit::<T>::uninit();
    // SAFETY: v is writable for size_of::<T>() bytes.
    let buf = unsafe { core::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), core::mem::size_of::<T>()) };
    let n = read(fd, buf)?;
    if n < buf.len() {
        return Ok(None);
    }
    // SAFETY: all bytes were written by `send` of a valid T in this same binary.
    Ok(Some(unsafe { v.assume_init() }))
}

/// The per-mount flags (MS_RDONLY, MS_NOSUID, ...) of the mount holding `fd`, from fstatfs(2),
/// so that a bind remount keeps nosuid/nodev/noexec instead of silently dropping them.
pub fn mount_flags(fd: c_int) -> Result<u64> {
    let mut st = MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: st is writable and large enough for struct statfs.
    check_raw(unsafe { sc::syscall2(libc::SYS_fstatfs as usize, fd as usize, st.as_mut_ptr() as usize) })?;
    // SAFETY: fstatfs succeeded, so st is initialised.
    let f = unsafe { st.assume_init() }.f_flags as u64;
    // ST_* equal MS_* for these bits, except ST_RELATIME (4096) which is MS_RELATIME.
    const SAME: u64 = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_NOATIME | libc::MS_NODIRATIME;
    let relatime = if f & 4096 != 0 { libc::MS_RELATIME } else { 0 };
    Ok(f & SAME | relatime)
}

/// flock(2) LOCK_EX on `fd`, waiting for it; released when the fd is closed.
pub fn lock(fd: c_int) -> Result<()> {
    loop {
        // SAFETY: flock takes no pointers.
        match check_raw(unsafe { sc::syscall2(libc::SYS_flock as usize, fd as usize, libc::LOCK_EX as usize) }) {
            Err(Errno(libc::EINTR)) => continue,
            r => return r.map(drop),
        }
    }
}

/// setsid(2): a new session, without a controlling terminal.
pub fn setsid() {
    // SAFETY: setsid takes no pointers; it fails only for a group leader, which is harmless.
    unsafe { sc::syscall0(libc::SYS_setsid as usize) };
}

/// renameat(2) within one directory: atomically replaces `to`.
pub fn rename_at(dirfd: c_int, from: &CStr, to: &CStr) -> Result<()> {
    // SAFETY: both paths are NUL-terminated.
    check_raw(unsafe { sc::syscall4(libc::SYS_renameat as usize, dirfd as usize, from.as_ptr() as usize, dirfd as usize, to.as_ptr() as usize) }).map(drop)
}

/// The wall clock in seconds since the epoch, see clock_gettime(2). A raw syscall: musl's
/// wrapper brings its vDSO lookup along.
pub fn now() -> u64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: t is a writable timespec.
    unsafe { sc::syscall2(libc::SYS_clock_gettime as usize, libc::CLOCK_REALTIME as usize, &mut t as *mut _ as usize) };
    t.tv_sec as u64
}

/// The names in the directory `fd` refers to, except `.` and `..`, see getdents64(2). Each name
/// is followed by its NUL in the returned bytes.
pub fn dir_names(fd: c_int) -> Result<alloc::vec::Vec<u8>> {
    let mut names = alloc::vec::Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: buf is writable for its length.
        let n = check_raw(unsafe { sc::syscall3(libc::SYS_getdents64 as usize, fd as usize, buf.as_mut_ptr() as usize, buf.len()) })?;
        if n == 0 {
            return Ok(names);
        }
        let mut off = 0;
        while off + 19 < n {
            // struct linux_dirent64: u64 ino, i64 off, u16 reclen, u8 type, name[].
            let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
            let name = &buf[off + 19..off + reclen];
            let name = &name[..name.iter().position(|&c| c == 0).unwrap_or(name.len())];
            if name != b"." && name != b".." {
                names.extend_from_slice(name);
                names.push(0);
            }
            off += reclen;
        }
    }
}

/// setns(2): joins the namespace `fd` refers to (`nstype` 0 accepts any kind).
pub fn setns(fd: c_int, nstype: c_int) -> Result<()> {
    // SAFETY: setns takes no pointers.
    check_raw(unsafe { sc::syscall2(libc::SYS_setns as usize, fd as usize, nstype as usize) }).map(drop)
}

/// socketpair(2): a connected pair of close-on-exec Unix stream sockets.
pub fn socketpair() -> Result<(c_int, c_int)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    let r = unsafe {
        sc::syscall4(libc::SYS_socketpair as usize, libc::AF_UNIX as usize, (libc::SOCK_STREAM | libc::SOCK_CLOEXEC) as usize, 0, fds.as_mut_ptr() as usize)
    };
    check_raw(r)?;
    Ok((fds[0], fds[1]))
}

/// The control message buffer for one fd, aligned as cmsghdr wants.
#[repr(C, align(8))]
struct FdMsg([u8; 24]);

/// A message of one byte (`iov`) with the control buffer `buf`.
fn fd_msg(iov: &mut libc::iovec, buf: &mut FdMsg) -> libc::msghdr {
    // SAFETY: msghdr is plain data, all-zero valid; the caller keeps iov and buf alive.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = buf.0.as_mut_ptr().cast();
    msg.msg_controllen = buf.0.len() as _;
    msg
}

/// Sends `fd` over the Unix socket `sock` (SCM_RIGHTS, see unix(7)), with one byte of data.
pub fn send_fd(sock: c_int, fd: c_int) -> Result<()> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    let mut buf = FdMsg([0; 24]);
    let mut msg = fd_msg(&mut iov, &mut buf);
    // SAFETY: CMSG_SPACE is arithmetic.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(4) } as _;
    // SAFETY: the control buffer holds one cmsghdr plus an int (CMSG_SPACE(4) <= 24 bytes).
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(4) as _;
        ptr::write_unaligned(libc::CMSG_DATA(c).cast::<c_int>(), fd);
    }
    // SAFETY: msg points to live buffers.
    check_raw(unsafe { sc::syscall3(libc::SYS_sendmsg as usize, sock as usize, &msg as *const libc::msghdr as usize, 0) }).map(drop)
}

/// Receives an fd sent by [`send_fd`], close-on-exec.
pub fn recv_fd(sock: c_int) -> Result<c_int> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    let mut buf = FdMsg([0; 24]);
    let mut msg = fd_msg(&mut iov, &mut buf);
    // SAFETY: msg points to live, writable buffers of the sizes given.
    let r = unsafe { sc::syscall3(libc::SYS_recvmsg as usize, sock as usize, &mut msg as *mut libc::msghdr as usize, libc::MSG_CMSG_CLOEXEC as usize) };
    check_raw(r)?;
    // SAFETY: the kernel filled the control buffer; a header is checked before its data is read.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null() || (*c).cmsg_type != libc::SCM_RIGHTS {
            return Err(Errno(libc::EBADMSG));
        }
        Ok(ptr::read_unaligned(libc::CMSG_DATA(c).cast::<c_int>()))
    }
}

/// Unlocks the pty master `fd` and returns its number N (/dev/pts/N), see pty(7), ioctl_tty(2).
pub fn pty_unlock(fd: c_int) -> Result<u32> {
    let (mut unlock, mut n) = (0 as c_int, 0 as libc::c_uint);
    // SAFETY: TIOCSPTLCK reads an int, TIOCGPTN writes an unsigned int; both live.
    unsafe { ioctl(fd, libc::TIOCSPTLCK, &mut unlock as *mut c_int as usize) }?;
    // SAFETY: as above.
    unsafe { ioctl(fd, libc::TIOCGPTN, &mut n as *mut libc::c_uint as usize) }?;
    Ok(n)
}

/// Makes the terminal `fd` this session's controlling terminal (TIOCSCTTY).
pub fn set_controlling_tty(fd: c_int) -> Result<()> {
    // SAFETY: TIOCSCTTY takes an int argument, no pointer.
    unsafe { ioctl(fd, libc::TIOCSCTTY, 0) }.map(drop)
}

/// Copies the window size of terminal `from` to terminal `to`; nothing if `from` is none.
pub fn copy_winsize(from: c_int, to: c_int) {
    let mut ws = MaybeUninit::<libc::winsize>::uninit();
    // SAFETY: ws is writable for a winsize; it is used only if TIOCGWINSZ filled it.
    unsafe {
        if ioctl(from, libc::TIOCGWINSZ, ws.as_mut_ptr() as usize).is_ok() {
            let _ = ioctl(to, libc::TIOCSWINSZ, ws.as_ptr() as usize);
        }
    }
}

/// Puts terminal `fd` in raw mode (cfmakeraw(3)); returns its settings to restore, `None`
/// when it is not a terminal.
pub fn make_raw(fd: c_int) -> Option<libc::termios> {
    let mut t = MaybeUninit::<libc::termios>::uninit();
    // SAFETY: t is writable; it is read only after TCGETS (tcgetattr(3)) filled it; TCSETSW
    // (tcsetattr(3) with TCSADRAIN) reads a termios.
    unsafe {
        ioctl(fd, libc::TCGETS, t.as_mut_ptr() as usize).ok()?;
        let saved = t.assume_init();
        let mut raw = saved;
        libc::cfmakeraw(&mut raw);
        let _ = ioctl(fd, libc::TCSETSW, &raw as *const libc::termios as usize);
        Some(saved)
    }
}

/// Restores settings saved by [`make_raw`].
pub fn restore_tty(fd: c_int, t: &libc::termios) {
    // SAFETY: t is a valid termios (TCSETSW: tcsetattr(3) with TCSADRAIN).
    let _ = unsafe { ioctl(fd, libc::TCSETSW, t as *const libc::termios as usize) };
}

/// poll(2) for input on `fds` (a negative fd is skipped); returns each one's revents.
pub fn poll_in<const N: usize>(fds: [c_int; N]) -> [i16; N] {
    let mut p = fds.map(|fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 });
    // SAFETY: p is a writable array of N pollfds.
    if check_raw(unsafe { sc::syscall4(libc::SYS_ppoll as usize, p.as_mut_ptr() as usize, N, 0, 0) }).is_err() {
        return [0; N];
    }
    p.map(|p| p.revents)
}

/// A filter program as the bytes of its instructions, e.g. to keep a compiled program in a
/// `Seccomp::File`.
pub fn filter_bytes(prog: &'static [libc::sock_filter]) -> &'static [u8] {
    // SAFETY: sock_filter is plain data (u16, u8, u8, u32) without padding, so its 8 bytes
    // are all initialised; u8 needs no alignment, and the slice lives as long as `prog`.
    unsafe { core::slice::from_raw_parts(prog.as_ptr().cast::<u8>(), core::mem::size_of_val(prog)) }
}

// --- The OCI lifecycle (oci/, container.rs): the exec fifo, the console socket, keyrings.

/// mkfifoat(3) with exactly `mode` (the umask is not applied: the container's user, whoever it
/// is, must be able to open the fifo for writing), see fchmodat(2).
pub fn mkfifoat(dirfd: c_int, path: &CStr, mode: u32) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    check_raw(unsafe { sc::syscall4(libc::SYS_mknodat as usize, dirfd as usize, path.as_ptr() as usize, (mode | libc::S_IFIFO) as usize, 0) })?;
    chmod_at(dirfd, path, mode)
}

/// Turns O_NONBLOCK off on `fd`, see fcntl(2) F_SETFL.
pub fn set_blocking(fd: c_int) -> Result<()> {
    let flags = fcntl(fd, libc::F_GETFL, 0)?;
    fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK).map(drop)
}

/// Clears FD_CLOEXEC on `fd` (an fd the caller passes on to the container on purpose).
pub fn keep_on_exec(fd: c_int) -> Result<()> {
    fcntl(fd, libc::F_SETFD, 0).map(drop)
}

/// A Unix stream socket connected to `path`, close-on-exec, see unix(7), connect(2).
pub fn connect_unix(path: &CStr) -> Result<c_int> {
    // SAFETY: sockaddr_un is plain data, all-zero valid.
    let mut addr: libc::sockaddr_un = unsafe { core::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as _;
    let p = path.to_bytes();
    if p.len() >= addr.sun_path.len() {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    for (d, &s) in addr.sun_path.iter_mut().zip(p) {
        *d = s as _;
    }
    let fd = socket(libc::AF_UNIX, libc::SOCK_STREAM)?;
    // SAFETY: addr is a valid sockaddr_un of the size given.
    let r = unsafe { sc::syscall3(libc::SYS_connect as usize, fd as usize, &addr as *const libc::sockaddr_un as usize, core::mem::size_of_val(&addr)) };
    let r = check_raw(r);
    match r {
        Ok(_) => Ok(fd),
        Err(e) => {
            close(fd);
            Err(e)
        }
    }
}

/// keyctl(2) KEYCTL_JOIN_SESSION_KEYRING: a new session keyring named `name`, so the container
/// does not share the caller's keys.
pub fn join_session_keyring(name: &CStr) -> Result<()> {
    // SAFETY: name is NUL-terminated; the other arguments are unused.
    let r = unsafe { sc::syscall2(libc::SYS_keyctl as usize, 1, name.as_ptr() as usize) };
    check_raw(r).map(drop)
}

/// readlink(2): namespace links such as `pid:[4026531836]`, /proc/self/cwd.
pub fn readlink(path: &CStr) -> Result<crate::buf::Buf<4096>> {
    let mut b = [0u8; 4096];
    // SAFETY: path is NUL-terminated; b is writable for its length.
    let n = unsafe { sc::syscall4(libc::SYS_readlinkat as usize, libc::AT_FDCWD as usize, path.as_ptr() as usize, b.as_mut_ptr() as usize, b.len()) };
    let n = check_raw(n)?;
    let mut out = crate::buf::Buf::new();
    out.push(&b[..n]);
    Ok(out)
}

/// Sets the window size of terminal `fd`, see ioctl_tty(2) TIOCSWINSZ.
pub fn set_winsize(fd: c_int, rows: u16, cols: u16) {
    let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: ws is a valid winsize.
    let _ = unsafe { ioctl(fd, libc::TIOCSWINSZ, &ws as *const libc::winsize as usize) };
}

// --- OCI setup (config.json): umask, personality, device nodes.

/// umask(2); returns the previous mask.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask takes no pointers.
    unsafe { sc::syscall1(libc::SYS_umask as usize, mask as usize) as u32 }
}

/// personality(2): sets the execution domain.
pub fn personality(persona: u32) -> Result<()> {
    // SAFETY: personality takes no pointers.
    check_raw(unsafe { sc::syscall1(libc::SYS_personality as usize, persona as usize) }).map(drop)
}

/// mknodat(2) and then fchownat(2) and fchmodat(2) (mknod applies the umask) on the new node.
pub fn mknodat(dirfd: c_int, path: &CStr, mode: u32, dev: u64, uid: u32, gid: u32) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    check_raw(unsafe { sc::syscall4(libc::SYS_mknodat as usize, dirfd as usize, path.as_ptr() as usize, mode as usize, dev as usize) })?;
    // SAFETY: path is NUL-terminated.
    check_raw(unsafe { sc::syscall5(libc::SYS_fchownat as usize, dirfd as usize, path.as_ptr() as usize, uid as usize, gid as usize, libc::AT_SYMLINK_NOFOLLOW as usize) })?;
    chmod_at(dirfd, path, mode & 0o7777)
}

// --- cgroup v2 device filters: bpf(2) to load a BPF_PROG_TYPE_CGROUP_DEVICE program and
// attach it to a cgroup (Documentation/bpf, include/uapi/linux/bpf.h).

/// bpf(BPF_PROG_LOAD) of a program of `prog_type` made of `insns` (struct bpf_insn, native
/// byte order); returns its fd.
pub fn bpf_prog_load(prog_type: u32, insns: &[u64], license: &CStr) -> Result<c_int> {
    // union bpf_attr, the BPF_PROG_LOAD member: prog_type, insn_cnt, insns, license; the rest
    // (log, flags, name) zero, which the kernel requires of what it does not use.
    let mut attr = [0u64; 16];
    attr[0] = prog_type as u64 | (insns.len() as u64) << 32;
    attr[1] = insns.as_ptr() as u64;
    attr[2] = license.as_ptr() as u64;
    // SAFETY: attr is 128 readable bytes; the pointers in it are valid for the call.
    let r = unsafe { sc::syscall3(libc::SYS_bpf as usize, 5, attr.as_ptr() as usize, core::mem::size_of_val(&attr)) };
    check_raw(r).map(|fd| fd as c_int)
}

/// bpf(BPF_PROG_ATTACH): attaches program `prog_fd` to `target_fd` (a cgroup directory).
pub fn bpf_prog_attach(target_fd: c_int, prog_fd: c_int, attach_type: u32, flags: u32) -> Result<()> {
    let attr = [target_fd as u32, prog_fd as u32, attach_type, flags, 0, 0, 0, 0];
    // SAFETY: attr is 32 readable bytes, the BPF_PROG_ATTACH member of union bpf_attr.
    let r = unsafe { sc::syscall3(libc::SYS_bpf as usize, 8, attr.as_ptr() as usize, core::mem::size_of_val(&attr)) };
    check_raw(r).map(drop)
}

// --- seccomp (seccomp/mod.rs): loading a program kept as its instructions' bytes.

/// Installs a seccomp filter on this thread, inherited by everything it execs or forks; its
/// instructions are the bytes `prog` (struct sock_filter in native byte order, as a
/// `--seccomp FILE` holds them). prctl(2) PR_SET_SECCOMP with SECCOMP_MODE_FILTER (Linux 3.5)
/// without `flags`, else seccomp(2) SECCOMP_SET_MODE_FILTER (Linux 3.17), for the
/// SECCOMP_FILTER_FLAG_* `flags` prctl cannot pass. The kernel checks the program and copies
/// it. Needs no_new_privs or CAP_SYS_ADMIN.
pub fn seccomp_load(prog: &[u8], flags: u32) -> Result<()> {
    let len = u16::try_from(prog.len() / core::mem::size_of::<libc::sock_filter>()).map_err(|_| Errno(libc::EINVAL))?;
    let fprog = libc::sock_fprog { len, filter: prog.as_ptr().cast::<libc::sock_filter>().cast_mut() };
    let op = libc::SECCOMP_SET_MODE_FILTER as usize;
    match flags {
        // SAFETY: fprog points to the bytes of `len` instructions, which outlive the call; the
        // kernel only copies them in, so their alignment does not matter.
        0 => check_raw(unsafe {
            sc::syscall3(libc::SYS_prctl as usize, libc::PR_SET_SECCOMP as usize, libc::SECCOMP_MODE_FILTER as usize, &fprog as *const _ as usize)
        })
        .map(drop),
        // SAFETY: as above.
        f => check_raw(unsafe { sc::syscall3(libc::SYS_seccomp as usize, op, f as usize, &fprog as *const _ as usize) }).map(drop),
    }
}
