//! The namespaces a container gets, and what must be set up inside the new UTS and network
//! namespaces. See namespaces(7), clone(2).
use core::ffi::{c_int, CStr};

use crate::config::Net;
use crate::error::{Context, Result};
use crate::sys;

/// Whether the kernel has cgroup namespaces (since 4.6).
pub fn has_cgroup_ns() -> bool {
    sys::exists(c"/proc/self/ns/cgroup")
}

/// Mount, PID, UTS and IPC always; network unless `--net host`; cgroup when `cgroup_ns`, so
/// the container sees the cgroup it starts in as the root.
pub fn clone_flags(net: Net, cgroup_ns: bool) -> c_int {
    let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC;
    if net == Net::Private {
        flags |= libc::CLONE_NEWNET;
    }
    if cgroup_ns {
        flags |= libc::CLONE_NEWCGROUP;
    }
    flags
}

/// A cgroup namespace rooted at the cgroups the caller is in now, see cgroup_namespaces(7).
pub fn new_cgroup_ns() -> Result<()> {
    sys::unshare(libc::CLONE_NEWCGROUP).at("creating cgroup namespace", b"")
}

pub fn set_hostname(name: &CStr) -> Result<()> {
    sys::sethostname(name.to_bytes()).at("setting hostname", name.to_bytes())
}

/// A new network namespace starts with `lo` down; programs expect 127.0.0.1 to work.
pub fn loopback_up() -> Result<()> {
    sys::link_up(b"lo").at("bringing up interface", b"lo")
}
