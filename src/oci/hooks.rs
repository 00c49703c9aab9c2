//! The config's hooks (runtime-spec config.md, "POSIX-platform Hooks"): each is a program run
//! with its args and env, the container's state JSON on its stdin, and killed after its
//! `timeout`. prestart and createRuntime run in the runtime's namespaces (by the parent, while
//! the child waits before its root switch), createContainer and startContainer in the
//! container's (by the child), poststart by `start`, poststop by `delete`.
use core::ffi::c_int;

use super::spec::Hook;
use super::Create;
use crate::error::{Error, Result};
use crate::msg::{m, Msg};
use crate::sys::{self, Exit};

/// Runs `hooks` in order; the first failure is the error, named after `kind`.
pub fn run_all(hooks: &[Hook], state: &[u8], kind: Msg) -> Result<()> {
    hooks.iter().try_for_each(|h| run(h, state, kind))
}

/// Runs every one of `hooks`, a failure only a warning (poststart, poststop: config.md says
/// the lifecycle goes on as if the hook had succeeded).
pub fn run_warning(g: &super::Global, hooks: &[Hook], state: &[u8], kind: Msg) {
    for h in hooks {
        if let Err(err) = run(h, state, kind) {
            super::report(g, b"warning", err.text().as_bytes());
        }
    }
}

/// The parent's share, at the child's request: prestart, then createRuntime.
pub fn runtime(oci: Option<&Create>, pid: c_int) -> Result<()> {
    let Some(o) = oci else { return Ok(()) };
    // "created", as crun passes and runtime-tools checks: the hooks see the container made.
    let state = o.state(super::Status::Created, pid);
    run_all(&o.spec.hooks.prestart, &state, m!("prestart hook"))?;
    run_all(&o.spec.hooks.create_runtime, &state, m!("createRuntime hook"))
}

struct Child<'a> {
    hook: &'a Hook,
    stdin: c_int,
}

fn run(h: &Hook, state: &[u8], kind: Msg) -> Result<()> {
    let path = h.path.to_bytes();
    match spawn_and_wait(h, state) {
        Ok(Some(Exit::Code(0))) => Ok(()),
        Ok(None) => Err(Error::msg(kind, path, m!("timed out"))),
        Ok(Some(_)) => Err(Error::msg(kind, path, m!("failed"))),
        Err(e) => Err(Error::sys(kind, path, e)),
    }
}

/// Runs the hook; how it ended, or `None` when it was killed at its timeout.
fn spawn_and_wait(h: &Hook, state: &[u8]) -> sys::Result<Option<Exit>> {
    // The state is in the pipe before the hook starts (it fits: a few hundred bytes against
    // 64 KiB), so a hook that never reads it cannot block us, nor one that exits make us
    // write to a closed pipe.
    let (r, w) = sys::pipe()?;
    let wrote = sys::write_all(w, state);
    sys::close(w);
    let mut c = Child { hook: h, stdin: r };
    let pid = wrote.and_then(|()| sys::Stack::new(64 * 1024)).and_then(|s| sys::clone(exec, &s, libc::SIGCHLD, &mut c));
    sys::close(r);
    let pid = pid?;
    let mut ms = h.timeout.map_or(u64::MAX, |s| s as u64 * 1000);
    loop {
        match sys::waitpid(pid, true)? {
            Some(exit) => return Ok(Some(exit)),
            None if ms == 0 => {
                let _ = sys::kill(pid, libc::SIGKILL);
                let _ = sys::waitpid(pid, false);
                return Ok(None);
            }
            None => {
                sys::sleep_ms(10);
                ms = ms.saturating_sub(10);
            }
        }
    }
}

/// The hook's process: the state on stdin, no other fd of ours, no blocked signal.
fn exec(c: &mut Child) -> c_int {
    let _ = sys::dup2(c.stdin, 0);
    sys::cloexec_from(3);
    sys::sigprocmask(libc::SIG_SETMASK, &sys::sigset(&[]));
    sys::execve(c.hook.path, &crate::child::pointers(&c.hook.args), &crate::child::pointers(&c.hook.env));
    127
}
