//! The namespaces a container gets, and what must be set up inside the new UTS and network
//! namespaces. See namespaces(7), clone(2).
use core::ffi::{c_int, CStr};

use crate::config::Net;
use crate::error::{Context, Result};
use crate::sys;

/// Mount, PID, UTS and IPC always; network unless `--net host`; cgroup where the kernel has it
/// (since 4.6), so the container sees its own cgroup as the root.
pub fn clone_flags(net: Net) -> c_int {
    let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC;
    if net == Net::Private {
        flags |= libc::CLONE_NEWNET;
    }
    if sys::exists(c"/proc/self/ns/cgroup") {
        flags |= libc::CLONE_NEWCGROUP;
    }
    flags
}

pub fn set_hostname(name: &CStr) -> Result<()> {
    sys::sethostname(name.to_bytes()).at("setting hostname", name.to_bytes())
}

/// A new network namespace starts with `lo` down; programs expect 127.0.0.1 to work.
pub fn loopback_up() -> Result<()> {
    sys::link_up(b"lo").at("bringing up interface", b"lo")
}
