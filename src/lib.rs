//! hutch: a container runtime in one small static binary. The library holds all of it; the
//! binary (main.rs) only hands it argv and the environment. Unit tests run against the library
//! with std, so the binary can be linked without unwinding support.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;

mod buf;
mod caps;
mod cgroup;
mod child;
mod cli;
mod config;
mod container;
mod env;
mod errno;
mod error;
mod exec;
mod init;
mod json;
mod lifecycle;
mod mounts;
mod msg;
mod namespaces;
mod oci;
mod pack;
mod rootfs;
mod seccomp;
mod state;
mod sys;
mod tty;
mod user;
mod userns;

use alloc::vec::Vec;
use core::ffi::{c_char, c_int, CStr};

pub use sys::Malloc;

/// Runs the command line; returns the exit status.
pub fn main(argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // Pushed one by one: collect's specialised code costs more (measured).
    let mut args: Vec<&'static CStr> = Vec::new();
    for a in sys::c_strings(argv).skip(1) {
        args.push(a);
    }
    let mut env: Vec<&'static CStr> = Vec::new();
    for e in sys::c_strings(envp) {
        env.push(e);
    }
    match cli::main(&args, &env) {
        Ok(code) => code,
        Err(e) => {
            e.print();
            e.exit_code()
        }
    }
}

/// What a panic (unreachable by design: every failure is an Error) does: fail like hutch does.
pub fn internal_error() -> ! {
    let _ = sys::write_all(2, b"hutch: internal error\n");
    sys::exit(125)
}
