//! `--init`: a minimal PID 1 inside the container, in this same image (no re-exec). It starts
//! the command as PID 2, forwards it every signal it gets, reaps every process orphaned into
//! it (an exited orphan stays a zombie until PID 1 waits for it), and exits with the command's
//! status, or 128+N when a signal N killed it. The kernel then kills whatever is left in the
//! PID namespace. See pid_namespaces(7), sigwaitinfo(2), waitpid(2); tini does the same.
use core::ffi::{c_int, CStr};

use crate::error::{Context, Error};
use crate::msg::m;
use crate::sys::{self, Exit};

/// What the command's process needs (it runs on its own copy of this memory).
struct Command<'a> {
    command: &'a [&'static CStr],
    env: &'a [&'static CStr],
    sigmask: &'a sys::sigset_t,
    err_fd: c_int,
}

/// Runs as the container's PID 1 after its whole setup (seccomp, capabilities, ids, no_new_privs
/// already apply, and are inherited by the command). Returns only if the command could not be
/// started.
pub fn run(command: &[&'static CStr], env: &[&'static CStr], sigmask: &sys::sigset_t, err_fd: c_int) -> Error {
    // Every signal stays blocked here and is taken with sigwaitinfo: a blocked signal is queued
    // even for a PID 1 without a handler, and none can interrupt the loop below.
    let all: [c_int; 64] = core::array::from_fn(|i| i as c_int + 1);
    let all = sys::sigset(&all);
    sys::sigprocmask(libc::SIG_BLOCK, &all);
    let stack = match sys::Stack::new(64 * 1024).at(m!("starting command"), b"") {
        Ok(s) => s,
        Err(e) => return e,
    };
    // Only 0, 1 and 2 stay open in PID 1, from before the command runs; the error pipe until
    // the command has exec'd (its EOF tells hutch the command runs).
    sys::close_fds(3, err_fd - 1);
    sys::close_fds(err_fd + 1, c_int::MAX);
    let mut cmd = Command { command, env, sigmask, err_fd };
    // CLONE_VFORK (without CLONE_VM: the child has its own copy of memory): the clone returns
    // once the command has exec'd or failed to, and a failure has gone to hutch.
    let pid = match sys::clone(start, &stack, libc::CLONE_VFORK | libc::SIGCHLD, &mut cmd) {
        Ok(pid) => pid,
        Err(e) => return Error::sys(m!("starting command"), command[0].to_bytes(), e),
    };
    sys::close(err_fd);
    loop {
        let sig = sys::sigwait(&all);
        if sig != libc::SIGCHLD {
            let _ = sys::kill(pid, sig);
            continue;
        }
        while let Some((p, exit)) = sys::wait_any() {
            if p == pid {
                sys::exit(match exit {
                    Exit::Code(c) => c,
                    Exit::Signal(s) => 128 + s,
                });
            }
        }
    }
}

/// PID 2: the command, with the signal mask hutch was started with.
fn start(c: &mut Command) -> c_int {
    sys::sigprocmask(libc::SIG_SETMASK, c.sigmask);
    crate::child::exec(c.command, c.env).send(c.err_fd);
    1
}
