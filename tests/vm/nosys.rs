//! nosys COMMAND [ARG...]: runs COMMAND as if on a kernel older than clone3 (5.3), openat2 (5.6)
//! and close_range (5.11). A seccomp filter makes those calls fail with ENOSYS, as such kernels
//! do; COMMAND and everything it starts inherit the filter. The VM checks run hutch under it to
//! exercise its fallbacks. Built per architecture by tests/vm/run.sh; needs root (or
//! CAP_SYS_ADMIN) to install the filter. See seccomp(2) and the kernel's
//! Documentation/userspace-api/seccomp_filter.rst.
use std::ffi::c_long;
use std::io::Error;
use std::os::unix::process::CommandExt;
use std::process::{exit, Command};

// Added after the syscall tables of all architectures were unified: the same numbers everywhere.
const CLONE3: u32 = 435;
const CLOSE_RANGE: u32 = 436;
const OPENAT2: u32 = 437;

// AUDIT_ARCH_* from linux/audit.h: the ELF machine, 64BIT and LE flags.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;

const ENOSYS: u32 = 38;
const PR_SET_SECCOMP: i32 = 22;
const SECCOMP_MODE_FILTER: c_long = 2;
const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;

/// struct sock_filter: one classic BPF instruction.
#[repr(C)]
struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

/// struct sock_fprog.
#[repr(C)]
struct Prog {
    len: u16,
    filter: *const Insn,
}

const fn load(offset: u32) -> Insn {
    Insn { code: 0x20, jt: 0, jf: 0, k: offset } // BPF_LD | BPF_W | BPF_ABS
}
const fn jump_eq(k: u32, jt: u8, jf: u8) -> Insn {
    Insn { code: 0x15, jt, jf, k } // BPF_JMP | BPF_JEQ | BPF_K; jumps skip that many insns
}
const fn ret(k: u32) -> Insn {
    Insn { code: 0x06, jt: 0, jf: 0, k } // BPF_RET | BPF_K
}

// struct seccomp_data: the syscall number at offset 0, the audit arch at 4. A call from another
// ABI (32-bit compat) has other numbers, so it is killed rather than misread.
const FILTER: [Insn; 9] = [
    load(4),
    jump_eq(AUDIT_ARCH, 0, 6),
    load(0),
    jump_eq(CLONE3, 3, 0),
    jump_eq(CLOSE_RANGE, 2, 0),
    jump_eq(OPENAT2, 1, 0),
    ret(SECCOMP_RET_ALLOW),
    ret(SECCOMP_RET_ERRNO | ENOSYS),
    ret(SECCOMP_RET_KILL_PROCESS),
];

extern "C" {
    fn prctl(option: i32, ...) -> i32;
    fn syscall(number: c_long, ...) -> c_long;
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: nosys COMMAND [ARG...]");
        exit(2);
    }
    let prog = Prog { len: FILTER.len() as u16, filter: FILTER.as_ptr() };
    // SAFETY: prog points to a valid filter that outlives the call; the kernel copies it.
    if unsafe { prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog as *const Prog) } != 0 {
        eprintln!("nosys: installing the seccomp filter: {}", Error::last_os_error());
        exit(125);
    }
    // Prove the filter works before trusting the results run under it: openat2 with a null
    // path and how would be EFAULT if it reached the kernel.
    // SAFETY: the call is refused by the filter; were it not, null pointers only yield EFAULT.
    let r = unsafe { syscall(OPENAT2 as c_long, -100 as c_long, 0 as c_long, 0 as c_long, 24 as c_long) };
    let e = Error::last_os_error();
    if r != -1 || e.raw_os_error() != Some(ENOSYS as i32) {
        eprintln!("nosys: openat2 under the filter returned {r} ({e}), not ENOSYS");
        exit(125);
    }
    let e = Command::new(&args[0]).args(&args[1..]).exec();
    eprintln!("nosys: {}: {e}", args[0]);
    exit(127);
}
