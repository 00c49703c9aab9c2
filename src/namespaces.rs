//! The namespaces a container gets, and what must be set up inside the new UTS and network
//! namespaces. A config.json may name namespaces to join by path instead: the user and PID
//! ones are joined by hutch before the clone (a user namespace owns the namespaces the clone
//! makes; a PID namespace applies to children only), the others by the child. See
//! namespaces(7), clone(2), setns(2), time_namespaces(7).
use core::ffi::{c_int, CStr};

use crate::config::{Net, RunConfig};
use crate::error::{Context, Result};
use crate::msg::m;
use crate::sys;

/// Whether the container gets a cgroup namespace: the bundle's choice, else wherever the
/// kernel has them (since 4.6).
pub fn has_cgroup_ns(cfg: &RunConfig) -> bool {
    match &cfg.oci {
        Some(o) => o.new_ns & libc::CLONE_NEWCGROUP != 0,
        None => sys::exists(c"/proc/self/ns/cgroup"),
    }
}

/// Mount, PID, UTS and IPC always; network unless `--net host`; cgroup when `cgroup_ns`, so
/// the container sees the cgroup it starts in as the root. A bundle lists its own; user
/// namespaces are userns.rs's, time namespaces the child's.
pub fn clone_flags(cfg: &RunConfig, cgroup_ns: bool) -> c_int {
    let mut flags = match &cfg.oci {
        Some(o) => o.new_ns & !(libc::CLONE_NEWUSER | libc::CLONE_NEWTIME | libc::CLONE_NEWCGROUP),
        None => libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC,
    };
    if cfg.net == Net::Private {
        flags |= libc::CLONE_NEWNET;
    }
    if cgroup_ns {
        flags |= libc::CLONE_NEWCGROUP;
    }
    flags
}

/// Joins the user and PID namespaces the bundle names, in that order, before the clone.
/// Returns an fd to hutch's own PID namespace, to go back to after the clone (-1: none
/// joined). A joined user namespace is not left: the kernel lets no process back into an
/// ancestor's.
pub fn join_before_clone(cfg: &RunConfig) -> Result<c_int> {
    let Some(o) = &cfg.oci else { return Ok(-1) };
    let mut own_pid = -1;
    for ty in [libc::CLONE_NEWUSER, libc::CLONE_NEWPID] {
        for &(_, path) in o.join_ns.iter().filter(|j| j.0 == ty) {
            if ty == libc::CLONE_NEWPID {
                own_pid = sys::open(c"/proc/self/ns/pid", libc::O_RDONLY).at(m!("opening namespace"), b"/proc/self/ns/pid")?;
            }
            setns_path(path, ty)?;
        }
    }
    Ok(own_pid)
}

/// Back to hutch's own PID namespace for its later children.
pub fn leave_pid_ns(own_pid: c_int) -> Result<()> {
    if own_pid >= 0 {
        sys::setns(own_pid, libc::CLONE_NEWPID).at(m!("joining namespace"), b"/proc/self/ns/pid")?;
        sys::close(own_pid);
    }
    Ok(())
}

fn setns_path(path: &CStr, ty: c_int) -> Result<()> {
    let fd = sys::open(path, libc::O_RDONLY).at(m!("opening namespace"), path.to_bytes())?;
    let r = sys::setns(fd, ty).at(m!("joining namespace"), path.to_bytes());
    sys::close(fd);
    r
}

/// The child's joins: every namespace but user and PID, the mount namespace last, since
/// joining it changes what the other paths name.
pub fn join(list: &[(c_int, &'static CStr)]) -> Result<()> {
    for mount in [false, true] {
        for &(ty, path) in list {
            if ty != libc::CLONE_NEWUSER && ty != libc::CLONE_NEWPID && (ty == libc::CLONE_NEWNS) == mount {
                setns_path(path, ty)?;
            }
        }
    }
    Ok(())
}

/// A new time namespace. unshare(2) makes it for the children only, so that its clock
/// offsets (/proc/self/timens_offsets) can still be written: they can only until a process is
/// in it. The exec that follows moves this process in.
pub fn new_time_ns() -> Result<()> {
    sys::unshare(libc::CLONE_NEWTIME).at(m!("creating time namespace"), b"")
}

/// A cgroup namespace rooted at the cgroups the caller is in now, see cgroup_namespaces(7).
pub fn new_cgroup_ns() -> Result<()> {
    sys::unshare(libc::CLONE_NEWCGROUP).at(m!("creating cgroup namespace"), b"")
}

pub fn set_hostname(name: &CStr) -> Result<()> {
    sys::sethostname(name.to_bytes()).at(m!("setting hostname"), name.to_bytes())
}

/// A new network namespace starts with `lo` down; programs expect 127.0.0.1 to work.
pub fn loopback_up() -> Result<()> {
    sys::link_up(b"lo").at(m!("bringing up interface"), b"lo")
}

