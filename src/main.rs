//! hutch: a container runtime in one small static binary. `main` collects argv and the
//! environment, runs the command line, and turns the outcome into the exit status.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
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
mod error;
mod exec;
mod init;
mod lifecycle;
mod mounts;
mod namespaces;
mod rootfs;
mod seccomp;
mod state;
mod sys;
mod tty;
mod user;
mod userns;

use alloc::vec::Vec;
use core::ffi::{c_char, c_int, CStr};

#[cfg(not(test))]
#[global_allocator]
static ALLOC: sys::Malloc = sys::Malloc;

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // Unreachable by design (every failure is an Error); if it happens, fail like hutch does.
    let _ = sys::write_all(2, b"hutch: internal error\n");
    sys::exit(125)
}

#[allow(unsafe_code)] // no_mangle: this is the C entry point musl's startup code calls.
#[cfg_attr(not(test), no_mangle)]
pub extern "C" fn main(_argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    let args: Vec<&'static CStr> = sys::c_strings(argv).skip(1).collect();
    let env: Vec<&'static CStr> = sys::c_strings(envp).collect();
    match cli::main(&args, &env) {
        Ok(code) => code,
        Err(e) => {
            e.print();
            e.exit_code()
        }
    }
}
