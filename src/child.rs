//! The container's first process: the routine `clone` starts in a copy of hutch's image. It
//! sets the container up, in the order the kernel requires, and execs the command. A failure
//! is sent to the parent, which prints it; the child only exits.
use alloc::vec::Vec;
use core::convert::Infallible;
use core::mem::ManuallyDrop;
use core::ffi::{c_int, CStr};

use crate::buf::Buf;
use crate::config::{Net, Rlimit, RunConfig, Seccomp};
use crate::error::{Context, Error, Result, EXEC};
use crate::msg::m;
use crate::sys::Errno;
use crate::{caps, env, init, mounts, namespaces, oci, rootfs, seccomp, sys, tty, user, userns};

/// What the parent hands the child (the child sees its own copy of this memory).
pub struct Args<'a> {
    pub cfg: &'a RunConfig,
    pub env: &'a [&'static CStr],
    /// Read end of the parent's "go" pipe.
    pub sync_fd: c_int,
    /// Write end of the error pipe; close-on-exec, so a successful exec reads as EOF.
    pub err_fd: c_int,
    /// The parent's ends of both pipes (and of the terminal socket, or -1), closed here so
    /// that EOF means the parent is gone.
    pub parent_fds: [c_int; 3],
    /// The signal mask to restore before exec (the parent blocked the signals it forwards).
    pub sigmask: sys::sigset_t,
    /// Make the cgroup namespace here, after the parent has put the child in its cgroups.
    pub late_cgroup_ns: bool,
    /// With `-t`: the socket that takes the terminal's master side to the parent (or to the
    /// OCI console socket), else -1.
    pub tty_sock: c_int,
    /// `hutch create`: the steps the OCI lifecycle adds (hooks, exec fifo); see oci/mod.rs.
    pub oci: Option<&'a oci::Create<'a>>,
    /// The child's own pid as the host sees it, from the parent's "go".
    pub pid: c_int,
}

pub fn main(a: &mut Args) -> c_int {
    let Err(e) = setup(a);
    e.send(a.err_fd);
    1
}

fn setup(a: &mut Args) -> Result<Infallible> {
    let cfg = a.cfg;
    let oci = cfg.oci.as_ref();
    a.parent_fds.into_iter().for_each(sys::close);
    die_with_parent()?;
    a.pid = wait_for_parent(a.sync_fd, a.err_fd)?;
    // Dumpable only while the parent wrote the ID maps (see container.rs); from now on no
    // process may ptrace this one, which still holds host fds, until its execve.
    sys::prctl(libc::PR_SET_DUMPABLE, 0, 0).at(m!("making hutch non-dumpable"), b"")?;
    if userns::become_root()? {
        die_with_parent()?;
    }
    oci::join_session_keyring(a.oci)?;
    if let Some(o) = oci {
        // The user and PID namespaces were joined by the parent, before the clone.
        namespaces::join(&o.join_ns)?;
        if o.new_ns & libc::CLONE_NEWTIME != 0 {
            namespaces::new_time_ns()?;
        }
    }
    // Now in the container's cgroups (the parent wrote it there before "go"), so a cgroup
    // namespace made here is rooted at them: the container sees its cgroup as /.
    if a.late_cgroup_ns {
        namespaces::new_cgroup_ns()?;
    }
    if !cfg.hostname.is_empty() {
        namespaces::set_hostname(cfg.hostname)?;
    }
    if cfg.net == Net::Private {
        namespaces::loopback_up()?;
    }
    // Sysctls, domainname, oomScoreAdj and time offsets, through hutch's /proc still: each
    // file acts on the writer's namespaces, and the container's /proc/sys may be read-only.
    if let Some(o) = oci {
        for (path, text) in &o.proc_writes {
            sys::write_file(path, text.to_bytes()).at(m!("writing"), path.to_bytes())?;
        }
    }

    // Mounts go on the new root before the switch, while host paths (volume sources, device
    // nodes) are still reachable; the switch then detaches everything else of the host.
    let root = rootfs::prepare(cfg)?;
    match oci {
        // The bundle's mounts replace hutch's defaults (a tmpfs at /dev gets the standard
        // nodes), then its devices, masked and read-only paths.
        Some(o) => {
            for m in &o.mounts {
                mounts::oci(root, m)?;
            }
            mounts::devices(root, &o.devices)?;
            mounts::confine_proc(root, &o.masked, &o.read_only)?;
            // runc makes a missing cwd; made here, while the root is still writable.
            sys::close(rootfs::mount_point(root, cfg.workdir.to_bytes(), rootfs::Kind::Dir)?);
        }
        None => {
            mounts::defaults(root, false)?;
            if !cfg.privileged {
                mounts::confine_proc(root, mounts::paths(mounts::MASKED), mounts::paths(mounts::READ_ONLY))?;
            }
        }
    }
    for v in &cfg.volumes {
        mounts::volume(root, v)?;
    }
    for t in &cfg.tmpfs {
        mounts::tmpfs(root, t)?;
    }
    oci::before_switch(a)?;
    rootfs::switch(root, cfg.no_pivot, rootfs::host_mounts(cfg))?;
    sys::close(root);
    // After the switch, so it acts on the container's root mount, not on the bundle's.
    if let Some(flags) = oci.map(|o| o.propagation).filter(|&f| f != 0) {
        sys::mount(None, c"/", None, flags, None).at(m!("setting rootfsPropagation"), b"/")?;
    }
    // After every mount point was created.
    if cfg.read_only {
        let fd = sys::open(c"/", libc::O_PATH).at(m!("opening root"), b"/")?;
        rootfs::remount_read_only(fd, b"/")?;
        sys::close(fd);
    }
    // In the container's own devpts, now at /dev/pts.
    if a.tty_sock >= 0 {
        tty::attach(a.tty_sock, oci.map_or((0, 0), |o| o.console_size))?;
    }

    // From here on, paths are the container's: its /etc/passwd, its workdir.
    // Both live until the exec (no drop code).
    let mut env = ManuallyDrop::new(a.env.to_vec());
    let ids = ManuallyDrop::new(match (cfg.user, oci) {
        (Some(spec), _) => Some(user::resolve(spec)?),
        (None, Some(o)) => Some(user::numeric(o.uid, o.gid, &o.groups)),
        (None, None) => None,
    });
    // Without a user the command runs as root.
    env::set_home_if_unset(&mut env, ids.as_ref().map_or(b"/root", |i| i.home));
    if let Some(o) = oci {
        sys::umask(o.umask.unwrap_or(0o022));
        if let Some(p) = o.personality {
            sys::personality(p).at(m!("setting personality"), b"")?;
        }
    }
    let same;
    let sets = match oci {
        Some(o) => &o.caps,
        None => {
            same = caps::Sets::same(if cfg.privileged { caps::ALL } else { cfg.caps.result() });
            &same
        }
    };
    let filter = if cfg.privileged { &Seccomp::Unconfined } else { &cfg.seccomp };
    enter(cfg.workdir, &cfg.rlimits, a.oci.map_or(0, |o| o.preserve_fds), sets, filter, cfg.no_new_privs, ids.as_ref(), cfg.user.unwrap_or_default())?;
    // With --init, signals stay blocked: the init takes them with sigwaitinfo from here on.
    if !cfg.init {
        sys::sigprocmask(libc::SIG_SETMASK, &a.sigmask);
    }
    // `hutch create` returns here; the container waits for `hutch start`.
    oci::await_start(a)?;
    if cfg.no_new_privs {
        seccomp::apply(filter)?;
    }
    if cfg.init {
        // Under the same filter, capabilities and ids as the command: the init forks it.
        return Err(init::run(&cfg.command, &env, &a.sigmask, a.err_fd));
    }
    Err(exec(&cfg.command, &env))
}

/// The process's last steps once its root, environment and ids are known (`hutch exec` takes
/// them too): its workdir, resource limits and fds, then its privileges, except the seccomp
/// filter that follows no_new_privs (the caller loads it last, after restoring the signal
/// mask).
#[allow(clippy::too_many_arguments)]
pub fn enter(workdir: &CStr, rlimits: &[Rlimit], preserve_fds: c_int, sets: &caps::Sets, filter: &Seccomp, nnp: bool, ids: Option<&user::Ids>, user: &CStr) -> Result<()> {
    sys::chdir(workdir).at(m!("changing to workdir"), workdir.to_bytes())?;
    // A workdir reached through an inherited host fd (/proc/self/fd/N) would leave the
    // container's cwd on the host (CVE-2024-21626); the kernel then reports it unreachable.
    sys::cwd_reachable().at(m!("checking workdir"), workdir.to_bytes())?;
    // Raising a hard limit needs CAP_SYS_RESOURCE, so before capabilities go.
    for r in rlimits {
        sys::setrlimit(r.resource, r.soft, r.hard).at(m!("setting ulimit"), b"")?;
    }
    // Only 0, 1 and 2 cross into the container (and what `--preserve-fds` names), whatever
    // hutch was started with.
    sys::cloexec_from(oci::preserve_fds(preserve_fds));

    // Privileges, last: the bounding set needs CAP_SETPCAP, the id switch CAP_SETUID/SETGID
    // (kept across it with KEEPCAPS), then the sets are reduced for good. The seccomp filter
    // goes last, after no_new_privs, so it judges none of hutch's own setup; without
    // no_new_privs loading it needs CAP_SYS_ADMIN, so then it goes before capabilities are
    // reduced (the filter allows every call of the steps after it).
    if !nnp {
        seccomp::apply(filter)?;
    }
    let bounded = caps::limit_bounding(sets.bounding)?;
    if let Some(ids) = ids {
        sys::prctl(libc::PR_SET_KEEPCAPS, 1, 0).at(m!("keeping capabilities"), b"")?;
        let groups = userns::check_mapped(ids)?;
        sys::set_ids(ids.uid, ids.gid, groups).at(m!("switching user"), user.to_bytes())?;
        die_with_parent()?;
    }
    caps::set(sets, bounded)?;
    if nnp {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0).at(m!("setting no_new_privs"), b"")?;
    }
    Ok(())
}

/// The container must not outlive hutch: if hutch dies, its PID 1 (and so every process of the
/// PID namespace) is killed. A change of ids clears this (prctl(2)), so it is set again after one.
pub fn die_with_parent() -> Result<()> {
    sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as _, 0).at(m!("setting parent death signal"), b"").map(drop)
}

/// Blocks until the parent says go (with the child's pid); end of file means it died before
/// that. A parent that died after its go but before the death signal was armed would go
/// unnoticed: it held the only read end of the error pipe, so look there too.
fn wait_for_parent(fd: c_int, err_fd: c_int) -> Result<c_int> {
    let mut go = [0u8; 4];
    match sys::read(fd, &mut go) {
        Ok(4) if !sys::reader_gone(err_fd) => Ok(c_int::from_ne_bytes(go)),
        Err(e) => Err(Error::sys(m!("waiting for parent"), b"", e)),
        _ => Err(Error::msg(m!("waiting for parent"), b"", m!("hutch exited"))),
    }
}

/// execve the command, searching the container's PATH as execvp(3) does.
pub fn exec(command: &[&'static CStr], envp: &[&'static CStr]) -> Error {
    let (argv, envv) = (pointers(command), pointers(envp));
    Error::sys(EXEC, command[0].to_bytes(), search(command[0], envp, &mut |path| sys::execve(path, argv, envv)))
}

/// Tries `command` as execvp(3) does: the name itself when it has a '/', else in each
/// directory of the container's PATH; `attempt` returns the errno of one try, and any
/// other than these "not here" ones ends the search. EACCES from any candidate wins over
/// ENOENT.
pub fn search(command: &CStr, envp: &[&'static CStr], attempt: &mut dyn FnMut(&CStr) -> Errno) -> Errno {
    let name = command.to_bytes();
    if crate::config::has(name, b'/') {
        return attempt(command);
    }
    let path = env::lookup(envp, b"PATH").map_or(&b""[..], |p| &p.to_bytes()[5..]);
    let mut denied = false;
    for dir in path.split(|&c| c == b':') {
        let mut full = Buf::<4096>::new();
        full.push(if dir.is_empty() { b"." } else { dir }).push(b"/").push(name);
        match attempt(full.cstr()) {
            Errno(libc::EACCES) => denied = true,
            Errno(libc::ENOENT | libc::ENOTDIR | libc::ENAMETOOLONG) => {}
            e => return e,
        }
    }
    Errno(if denied { libc::EACCES } else { libc::ENOENT })
}

/// execve(2)'s NULL-terminated array of string pointers; leaked, as the process execs or
/// exits next (no drop code).
pub fn pointers(list: &[&CStr]) -> &'static [*const i8] {
    let mut v = Vec::with_capacity(list.len() + 1);
    for s in list {
        v.push(s.as_ptr().cast());
    }
    v.push(core::ptr::null());
    v.leak()
}
