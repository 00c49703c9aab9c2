//! `hutch run`, the parent's side: create the container's first process in new namespaces,
//! report its setup failure or wait for it, forwarding signals meanwhile.
use core::ffi::{c_int, CStr};

use crate::child;
use crate::config::RunConfig;
use crate::error::{Context, Error, Result};
use crate::{namespaces, userns};
use crate::sys::{self, Errno, Exit};

/// Signals that a user sends to hutch but means for the container.
const FORWARDED: [c_int; 7] =
    [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2, libc::SIGWINCH];

/// The child's setup runs on this stack until execve replaces its image.
const STACK_SIZE: usize = 256 * 1024;

pub fn run(cfg: &RunConfig, env: &[&'static CStr]) -> Result<c_int> {
    let rootfs = cfg.rootfs.to_bytes();
    match sys::file_type(libc::AT_FDCWD, cfg.rootfs).at("rootfs", rootfs)? {
        libc::S_IFDIR => {}
        _ => return Err(Error::sys("rootfs", rootfs, Errno(libc::ENOTDIR))),
    }
    let ids = userns::resolve(&cfg.userns)?;
    let (sync_r, sync_w) = sys::pipe().at("creating pipe", b"")?;
    let (err_r, err_w) = sys::pipe().at("creating pipe", b"")?;
    // Blocked from before the clone, so none is lost or acts on hutch itself; they are taken
    // with sigwaitinfo below. The child restores the old mask before exec. A signal hutch was
    // started ignoring (nohup, a shell's background job) would be discarded rather than
    // queued, and the container would inherit the ignoring: back to the default first.
    for sig in FORWARDED {
        sys::default_action(sig);
    }
    let mut waited = [0; FORWARDED.len() + 1];
    waited[..FORWARDED.len()].copy_from_slice(&FORWARDED);
    waited[FORWARDED.len()] = libc::SIGCHLD;
    let waited = sys::sigset(&waited);
    let sigmask = sys::sigprocmask(libc::SIG_BLOCK, &waited);

    let stack = sys::Stack::new(STACK_SIZE).at("mapping stack", b"")?;
    let mut args = child::Args { cfg, env, sync_fd: sync_r, err_fd: err_w, parent_fds: [sync_w, err_r], sigmask };
    let flags = namespaces::clone_flags(cfg.net) | userns::clone_flag(&ids) | libc::SIGCHLD;
    let pid = sys::clone(child::main, &stack, flags, &mut args).map_err(|e| userns::clone_error(e, &ids))?;
    // While hutch holds host resources (its fds, the pipes, later cgroups), no process in the
    // container may ptrace it or read its memory through /proc (CVE-2019-5736 class). Only
    // from here on: the child, a copy, stays dumpable until "go", so that its /proc/PID files
    // belong to the caller, who writes its ID maps.
    sys::prctl(libc::PR_SET_DUMPABLE, 0, 0).at("making hutch non-dumpable", b"")?;
    userns::map_ids(pid, &ids)?;
    sys::close(sync_r);
    sys::close(err_w);
    let _ = sys::write_all(sync_w, b"g");
    sys::close(sync_w);

    let report = Error::receive(err_r);
    sys::close(err_r);
    if let Some(e) = report {
        let _ = sys::waitpid(pid, false);
        return Err(userns::explain(e, ids.is_some()));
    }

    loop {
        let sig = sys::sigwait(&waited);
        if sig != libc::SIGCHLD {
            let _ = sys::kill(pid, sig);
            continue;
        }
        match sys::waitpid(pid, true).at("waiting for container", b"")? {
            Some(Exit::Code(c)) => return Ok(c),
            Some(Exit::Signal(s)) => return Ok(128 + s),
            None => {}
        }
    }
}
