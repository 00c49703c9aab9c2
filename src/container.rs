//! `hutch run`, the parent's side: create the container's first process in new namespaces
//! (and in its cgroups, when it has limits), report its setup failure or wait for it,
//! forwarding signals meanwhile.
use core::ffi::{c_int, CStr};

use crate::buf::Buf;
use crate::config::RunConfig;
use crate::error::{Context, Error, Result};
use crate::msg::m;
use crate::sys::{self, Errno, Exit};
use crate::{cgroup, child, namespaces, oci, tty, userns};

/// Signals that a user sends to hutch but means for the container (all but the last), and
/// SIGCHLD.
const WAITED: [c_int; 8] =
    [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2, libc::SIGWINCH, libc::SIGCHLD];

/// The child's setup runs on this stack until execve replaces its image.
const STACK_SIZE: usize = 256 * 1024;

/// `started` is called with the container's pid once its command runs.
pub fn run(cfg: &RunConfig, env: &[&'static CStr], started: &mut dyn FnMut(c_int)) -> Result<c_int> {
    let s = spawn(cfg, env, None, &mut |_| Ok(()))?;
    started(s.pid);
    s.wait()
}

/// A container whose setup succeeded: its command runs, or (`oci` given) it waits on its exec
/// fifo for `hutch start`.
pub struct Started {
    pub pid: c_int,
    pub cgroup: Option<cgroup::Cgroup>,
    /// hutch's end of the terminal socket (`-t`, no console socket), else -1.
    pub tty: c_int,
    pub waited: sys::sigset_t,
}

/// Creates the container's first process and sees its setup through. `born` is called with its
/// pid before it starts its setup (the OCI verbs record it there, so that no process is ever
/// left without a state entry); an error from it fails the start.
pub fn spawn(cfg: &RunConfig, env: &[&'static CStr], oci: Option<&oci::Create>, born: &mut dyn FnMut(c_int) -> Result<()>) -> Result<Started> {
    let rootfs = cfg.rootfs.to_bytes();
    match sys::file_type(libc::AT_FDCWD, cfg.rootfs).at(m!("rootfs"), rootfs)? {
        libc::S_IFDIR => {}
        _ => return Err(Error::sys(m!("rootfs"), rootfs, Errno(libc::ENOTDIR))),
    }
    // Kept to hutch's exit (no drop code).
    let ids = core::mem::ManuallyDrop::new(userns::resolve(&cfg.userns)?);
    // Blocked from before the cgroups and the clone, so none is lost, acts on hutch itself, or
    // kills it with a cgroup left behind; they are taken with sigwaitinfo below. The child
    // restores the old mask before exec. A signal hutch was started ignoring (nohup, a
    // shell's background job) would be discarded rather than queued, and the container would
    // inherit the ignoring: back to the default first.
    let (waited, sigmask) = block_forwarded();
    // Before the clone, so that a bad limit or a missing controller fails with no process
    // made. Dropping it, on every return below, kills what is left in the cgroups and
    // removes them.
    let cgroup = match cfg.limits.wanted() {
        true => Some(cgroup::create(&cfg.limits, name().as_bytes())?),
        false => None,
    };
    let (sync_r, sync_w) = sys::pipe().at(m!("creating pipe"), b"")?;
    let (err_r, err_w) = sys::pipe().at(m!("creating pipe"), b"")?;
    // A console socket (OCI) takes the terminal's master straight from the child.
    let console = oci.map_or(-1, |o| o.console);
    let (tty_r, tty_w) = match cfg.tty {
        true if console >= 0 => (-1, console),
        true => sys::socketpair().at(m!("creating socket"), b"")?,
        false => (-1, -1),
    };

    let stack = sys::Stack::new(STACK_SIZE).at(m!("mapping stack"), b"")?;
    // A cgroup namespace is rooted at the cgroups its creator is in. Made by clone, it would
    // be rooted at hutch's; with cgroups of its own, the child makes it once it is in them.
    let cgroup_ns = namespaces::has_cgroup_ns(cfg);
    let late_cgroup_ns = cgroup_ns & cgroup.is_some();
    let mut args = child::Args {
        cfg,
        env,
        sync_fd: sync_r,
        err_fd: err_w,
        parent_fds: [sync_w, err_r, tty_r],
        sigmask,
        late_cgroup_ns,
        tty_sock: tty_w,
        oci,
        pid: 0,
    };
    let flags = namespaces::clone_flags(cfg, cgroup_ns && !late_cgroup_ns) | userns::clone_flag(&ids) | libc::SIGCHLD;
    let own_pid_ns = namespaces::join_before_clone(cfg)?;
    let pid = sys::clone(child::main, &stack, flags, &mut args).map_err(|e| userns::clone_error(e, &ids))?;
    namespaces::leave_pid_ns(own_pid_ns)?;
    // While hutch holds host resources (its fds, the pipes, later cgroups), no process in the
    // container may ptrace it or read its memory through /proc (CVE-2019-5736 class). Only
    // from here on: the child, a copy, stays dumpable until "go", so that its /proc/PID files
    // belong to the caller, who writes its ID maps.
    sys::prctl(libc::PR_SET_DUMPABLE, 0, 0).at(m!("making hutch non-dumpable"), b"")?;
    sys::close(sync_r);
    sys::close(err_w);
    sys::close(tty_w);
    let placed = (|| {
        userns::map_ids(pid, &ids)?;
        // The child waits for "go" before its first step, so placing it now puts the whole
        // container in its cgroups. clone3's CLONE_INTO_CGROUP (5.7) could place it at
        // birth, but takes a single v2 cgroup (v1 and hybrid hosts need this path anyway)
        // and a stack switch of our own in place of musl's clone.
        if let Some(cg) = &cgroup {
            cg.enter(pid)?;
        }
        born(pid)
    })();
    if let Err(e) = placed {
        // End of file on the sync pipe: the child gives up.
        sys::close(sync_w);
        sys::close(err_r);
        let _ = sys::waitpid(pid, false);
        return Err(e);
    }
    // "Go" is the child's pid as the host sees it (the hooks' state JSON names it).
    let _ = sys::write_all(sync_w, &pid.to_ne_bytes());
    // Kept open while the parent has hooks to run at the child's request (oci::hooks).
    let hooks = oci.filter(|o| o.runtime_hooks()).is_some();
    if !hooks {
        sys::close(sync_w);
    }
    let report = loop {
        match Error::receive(err_r) {
            Some(e) if hooks && e.step == oci::HOOKS => match oci::hooks::runtime(oci, pid) {
                Ok(()) => drop(sys::write_all(sync_w, b"g")),
                Err(e) => break Some(e),
            },
            r => break r,
        }
    };
    if hooks {
        sys::close(sync_w);
    }
    sys::close(err_r);
    if let Some(e) = report {
        let _ = sys::waitpid(pid, false);
        return Err(userns::explain(e, ids.is_some()));
    }
    Ok(Started { pid, cgroup, tty: tty_r, waited })
}

impl Started {
    /// Proxies the terminal, forwards signals and waits for the container's end; its exit
    /// status, or 128+signal.
    pub fn wait(self) -> Result<c_int> {
        let proxy = match self.tty {
            -1 => None,
            fd => Some(tty::Proxy::start(fd)?),
        };
        sys::close(self.tty);
        let exit = wait_forwarding(self.pid, &self.waited, proxy.as_ref().map(|p| p.master));
        if let Some(p) = proxy {
            p.finish();
        }
        match exit? {
            Exit::Code(c) => Ok(c),
            Exit::Signal(s) => {
                if let Some(line) = self.cgroup.as_ref().filter(|_| s == libc::SIGKILL).and_then(cgroup::Cgroup::oom_kill) {
                    let _ = sys::write_all(2, line.as_bytes());
                }
                Ok(128 + s)
            }
        }
    }

    /// The container's cgroups, kept past its end (for `run --keep`): their directories.
    pub fn keep_cgroups(&mut self) -> alloc::vec::Vec<u8> {
        self.cgroup.take().map(cgroup::Cgroup::keep).unwrap_or_default()
    }

    /// Leaves the container to itself (`hutch create`): its cgroups stay, for `delete`, which
    /// takes the directories returned (see [`cgroup::Cgroup::keep`]).
    pub fn detach(self) -> alloc::vec::Vec<u8> {
        sys::close(self.tty);
        self.cgroup.map(cgroup::Cgroup::keep).unwrap_or_default()
    }
}

/// Blocks the signals hutch forwards, and SIGCHLD, reset to their default actions first;
/// returns that set and the previous mask.
pub fn block_forwarded() -> (sys::sigset_t, sys::sigset_t) {
    for &sig in &WAITED[..7] {
        sys::default_action(sig);
    }
    let waited = sys::sigset(&WAITED);
    let sigmask = sys::sigprocmask(libc::SIG_BLOCK, &waited);
    (waited, sigmask)
}

/// Forwards the `waited` signals to `pid` until it ends. With a terminal, SIGWINCH copies
/// hutch's window size to it instead: the kernel then signals its foreground job.
pub fn wait_forwarding(pid: c_int, waited: &sys::sigset_t, tty: Option<c_int>) -> Result<Exit> {
    loop {
        let sig = sys::sigwait(waited);
        if let (libc::SIGWINCH, Some(master)) = (sig, tty) {
            sys::copy_winsize(0, master);
            continue;
        }
        if sig != libc::SIGCHLD {
            let _ = sys::kill(pid, sig);
            continue;
        }
        if let Some(exit) = sys::waitpid(pid, true).at(m!("waiting for container"), b"")? {
            return Ok(exit);
        }
    }
}

/// The container's name, which its cgroups take: `hutch-PID` with hutch's own pid, until
/// containers have names.
fn name() -> Buf<32> {
    *Buf::new().push(b"hutch-").num(sys::getpid() as u64)
}
