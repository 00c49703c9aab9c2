//! Seccomp test probe: makes raw x86_64 system calls, so the test sees what the filter (or
//! the kernel) answers with no libc in between. Built by `tests/seccomp.rs`.
//!
//!   sprobe sys NR [ARG...]   call NR with `syscall` (numbers: decimal, 0x hex, or negative)
//!   sprobe x32 NR            the same, with the x32 bit (0x40000000) set in NR
//!   sprobe int80 NR          a 32-bit (i386 ABI) call through `int 0x80`
//!   sprobe clone FLAGS       clone(FLAGS | SIGCHLD) without a new stack, like fork; the
//!                            child exits at once and is waited for
//!
//! Prints `ok N` with the return value (0 for clone's parent), or `errno N`.
use std::arch::asm;

const SIGCHLD: i64 = 17;
const SYS_CLONE: i64 = 56;
const SYS_WAIT4: i64 = 61;
const SYS_EXIT_GROUP: i64 = 231;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| args.get(i).map_or(0, |s| parse(s));
    let ret = match args.first().map(String::as_str) {
        Some("sys") => syscall(num(1), [num(2), num(3), num(4), num(5), num(6), num(7)]),
        Some("x32") => syscall(num(1) | 0x4000_0000, [0; 6]),
        Some("int80") => int80(num(1)),
        Some("clone") => clone(num(1)),
        _ => {
            eprintln!("usage: sprobe sys|x32|int80|clone NUMBER...");
            std::process::exit(2);
        }
    };
    if (-4095..0).contains(&ret) {
        println!("errno {}", -ret);
    } else {
        println!("ok {ret}");
    }
}

fn parse(s: &str) -> i64 {
    let (sign, digits) = match s.strip_prefix('-') {
        Some(d) => (-1, d),
        None => (1, s),
    };
    let v = match digits.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16),
        None => digits.parse(),
    };
    sign * v.unwrap_or_else(|e| panic!("bad number {s:?}: {e}"))
}

fn syscall(nr: i64, a: [i64; 6]) -> i64 {
    let ret;
    // SAFETY: the test passes only numbers and null pointers; the kernel validates them.
    unsafe {
        asm!("syscall",
            inlateout("rax") nr => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2], in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack));
    }
    ret
}

fn int80(nr: i64) -> i64 {
    let ret: i32;
    // SAFETY: as above; the 32-bit entry may clobber r8-r11.
    unsafe {
        asm!("int 0x80",
            inlateout("eax") nr as i32 => ret,
            lateout("r8") _, lateout("r9") _, lateout("r10") _, lateout("r11") _,
            options(nostack));
    }
    i64::from(ret)
}

fn clone(flags: i64) -> i64 {
    // Without CLONE_VM the child runs on its own copy of this stack, as after fork.
    let pid = syscall(SYS_CLONE, [flags | SIGCHLD, 0, 0, 0, 0, 0]);
    if pid == 0 {
        syscall(SYS_EXIT_GROUP, [0; 6]);
    }
    if pid < 0 {
        return pid;
    }
    let mut status = 0i32;
    syscall(SYS_WAIT4, [pid, &mut status as *mut i32 as i64, 0, 0, 0, 0]);
    0
}
