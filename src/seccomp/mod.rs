//! The seccomp filter the command runs under, built by hutch itself as a classic BPF program.
//! See seccomp(2), prctl(2) (PR_SET_SECCOMP) and the kernel's
//! Documentation/userspace-api/seccomp_filter.rst.
//!
//! A denylist, where Docker's default profile is an allowlist: Docker allows the calls it
//! knows by name and refuses the rest with EPERM. Refusing instead exactly what Docker refuses
//! a container without CAP_SYS_ADMIN (and the other capabilities Docker does not grant) is a
//! program of about 90 instructions instead of several hundred, and needs no update for each
//! harmless call the kernel adds. The price: a call added to the kernel later is allowed until
//! it is listed here, where Docker would refuse it until allowed (capabilities still guard the
//! privileged ones). Calls the kernel no longer implements (create_module, nfsservctl, ...)
//! fail with ENOSYS anyway and are not listed.
//!
//! - Refused calls fail with EPERM, as in Docker. clone3 fails with ENOSYS: its flags are in
//!   memory, out of a filter's reach, and ENOSYS makes libcs fall back to clone, whose flags
//!   the filter checks (Docker does the same).
//! - Checked by argument: clone is refused with any namespace flag (flags is the first
//!   argument on x86_64 and aarch64, unlike s390); personality takes only Docker's safe
//!   values; socket is refused for AF_VSOCK, which reaches the host or hypervisor around the
//!   network namespace (as in Docker). unshare and setns are refused whole, as in Docker.
//! - ptrace and process_vm_readv/writev are allowed on Linux 4.8 and later, as in Docker, and
//!   refused before: until 4.8 seccomp ran before the tracer's syscall-entry stop, so a
//!   tracer could rewrite a call the filter had already allowed.
//! - Only the native ABI: another AUDIT_ARCH (i386 through `int 0x80` on x86_64, arm32 on
//!   aarch64) or an x32 call kills the process, as libseccomp does for a foreign
//!   architecture. A 32-bit program would only crash later on the EPERM of its first call;
//!   SIGSYS says what happened. (Kernels before 4.14 kill the thread instead.)
//!
//! Since Linux 5.11 the kernel caches the verdicts that do not depend on arguments per call
//! number, so the linear list is not walked on every call.
//!
//! `--seccomp FILE` replaces this filter with a raw program or an OCI seccomp profile, which
//! oci.rs compiles; config.json's `linux.seccomp` goes through oci.rs too ([`from_oci`]).
use alloc::vec::Vec;
use core::ffi::CStr;
use core::mem::{offset_of, size_of};

use libc::{seccomp_data, sock_filter};

use crate::config::Seccomp;
use crate::error::{Context, Error, Result};
use crate::msg::{m, Msg};
use crate::{json, sys};

pub mod oci;
pub use oci::from_oci;

#[cfg(target_arch = "x86_64")]
#[path = "x86_64.rs"]
mod arch;
#[cfg(target_arch = "aarch64")]
#[path = "aarch64.rs"]
mod arch;

/// open_tree_attr (Linux 6.15), newer than the libc crate's tables; the same number on
/// x86_64 and in the generic table aarch64 uses.
const SYS_OPEN_TREE_ATTR: u32 = 467;

/// Refused with EPERM on every architecture (numbers from libc, i.e. the kernel's tables).
const DENY: &[u32] = &[
    // Loading kernel code, rebooting, and host-wide switches: swap, quotas, accounting.
    libc::SYS_init_module as u32,
    libc::SYS_finit_module as u32,
    libc::SYS_delete_module as u32,
    libc::SYS_kexec_load as u32,
    libc::SYS_reboot as u32,
    libc::SYS_swapon as u32,
    libc::SYS_swapoff as u32,
    libc::SYS_quotactl as u32,
    libc::SYS_quotactl_fd as u32,
    libc::SYS_acct as u32,
    // Mounts: the container keeps the tree hutch built, old and new mount API alike.
    libc::SYS_mount as u32,
    libc::SYS_umount2 as u32,
    libc::SYS_pivot_root as u32,
    libc::SYS_fsopen as u32,
    libc::SYS_fsconfig as u32,
    libc::SYS_fsmount as u32,
    libc::SYS_fspick as u32,
    libc::SYS_move_mount as u32,
    libc::SYS_open_tree as u32,
    SYS_OPEN_TREE_ATTR,
    libc::SYS_mount_setattr as u32,
    // Namespaces (clone is checked by its flags below); the host name is hutch's to set.
    libc::SYS_unshare as u32,
    libc::SYS_setns as u32,
    libc::SYS_sethostname as u32,
    libc::SYS_setdomainname as u32,
    // The keyring, the clock and the kernel log are not namespaced.
    libc::SYS_add_key as u32,
    libc::SYS_request_key as u32,
    libc::SYS_keyctl as u32,
    libc::SYS_settimeofday as u32,
    libc::SYS_clock_settime as u32,
    libc::SYS_syslog as u32,
    libc::SYS_vhangup as u32,
    // Large kernel attack surfaces behind many container escapes; open_by_handle_at opens
    // any file of a mounted filesystem by its handle, past the container's root ("shocker").
    libc::SYS_bpf as u32,
    libc::SYS_perf_event_open as u32,
    libc::SYS_userfaultfd as u32,
    libc::SYS_io_uring_setup as u32,
    libc::SYS_io_uring_enter as u32,
    libc::SYS_io_uring_register as u32,
    libc::SYS_fanotify_init as u32,
    libc::SYS_lookup_dcookie as u32,
    libc::SYS_open_by_handle_at as u32,
    // Other processes' files and memory (CAP_SYS_PTRACE in Docker) and NUMA placement
    // (CAP_SYS_NICE in Docker).
    libc::SYS_kcmp as u32,
    libc::SYS_pidfd_getfd as u32,
    libc::SYS_process_madvise as u32,
    libc::SYS_mbind as u32,
    libc::SYS_set_mempolicy as u32,
    libc::SYS_get_mempolicy as u32,
    libc::SYS_set_mempolicy_home_node as u32,
    libc::SYS_move_pages as u32,
    libc::SYS_migrate_pages as u32,
];

/// Refused only before Linux 4.8 (see the module comment).
const PTRACE: &[u32] =
    &[libc::SYS_ptrace as u32, libc::SYS_process_vm_readv as u32, libc::SYS_process_vm_writev as u32];

const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;
const EPERM: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
const ENOSYS: u32 = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;

// The only instructions the filter uses: load a word of seccomp_data into A, compare A with
// a constant and skip jt or jf instructions, return a verdict.
const LD: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const JGE: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const JSET: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
/// Only in OCI profiles' programs: skip k instructions, for blocks too long for jt and jf.
const JA: u16 = (libc::BPF_JMP | libc::BPF_JA) as u16;

const NR: u32 = offset_of!(seccomp_data, nr) as u32;
const ARCH: u32 = offset_of!(seccomp_data, arch) as u32;
/// The low half of the first argument. The kernel reads clone's flags, personality's persona
/// and socket's domain as 32-bit values, so the high half cannot matter.
const ARG0: u32 = ARGS + if cfg!(target_endian = "big") { 4 } else { 0 };
const ARGS: u32 = offset_of!(seccomp_data, args) as u32;

const NEW_NAMESPACES: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u32;
/// <linux/socket.h>; not in the libc crate for musl.
const AF_VSOCK: u32 = 40;

/// personality(2) as Docker allows it: PER_LINUX, PER_LINUX32, either with UNAME26, and
/// 0xffffffff, which only queries. Flags such as ADDR_NO_RANDOMIZE or READ_IMPLIES_EXEC
/// weaken the kernel's protections and are refused.
const PERSONALITY: [sock_filter; 8] = [
    stmt(LD, ARG0),
    jump(JEQ, 0x0, 5, 0),
    jump(JEQ, 0x8, 4, 0),
    jump(JEQ, 0x20000, 3, 0),
    jump(JEQ, 0x20008, 2, 0),
    jump(JEQ, 0xffff_ffff, 1, 0),
    stmt(RET, EPERM),
    stmt(RET, ALLOW),
];

/// The size of one instruction in a `--seccomp FILE`, and the most the kernel takes.
const INSN: usize = size_of::<sock_filter>();
const MAX_BYTES: usize = libc::BPF_MAXINSNS as usize * INSN;

/// The value of `--seccomp`: `default`, `unconfined`, or a file, read now, while host paths
/// are reachable: an OCI profile (JSON, see oci.rs) when it starts with `{`, else a program.
pub fn from_option(v: &'static CStr) -> Result<Seccomp> {
    let path = v.to_bytes();
    match crate::config::word_index(b"default unconfined", path) {
        Some(0) => Ok(Seccomp::Default),
        Some(_) => Ok(Seccomp::Unconfined),
        None => {
            // Read once per run: kept to the end (no drop code).
            let bytes = sys::read_file(v).at(m!("reading seccomp filter"), path)?.leak();
            if bytes.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{') {
                let doc = core::mem::ManuallyDrop::new(json::parse(bytes, path)?);
                return oci::load(&doc, v);
            }
            if let Some(why) = size_problem(bytes.len()) {
                return Err(Error::msg(m!("invalid seccomp filter"), path, why));
            }
            Ok(Seccomp::File { path: v, program: bytes, flags: 0 })
        }
    }
}

fn size_problem(len: usize) -> Option<Msg> {
    match len {
        0 => Some(m!("the file is empty")),
        _ if len > MAX_BYTES => Some(m!("more than 4096 instructions (BPF_MAXINSNS)")),
        _ if !len.is_multiple_of(INSN) => Some(m!("size is not a multiple of 8 bytes (struct sock_filter)")),
        _ => None,
    }
}

/// Installs the filter. The last step before exec: from here on it judges hutch's own calls.
pub fn apply(s: &Seccomp) -> Result<()> {
    let (object, prog, flags) = match *s {
        Seccomp::Unconfined => return Ok(()),
        Seccomp::Default => (&b"default"[..], sys::filter_bytes(program(&denied(ptrace_is_safe(&sys::kernel_release()))).leak()), 0),
        Seccomp::File { path, program, flags } => (path.to_bytes(), program, flags),
    };
    sys::seccomp_load(prog, flags).at(m!("loading seccomp filter"), object)
}

/// The lists of calls the default filter refuses with EPERM.
fn denied(ptrace_safe: bool) -> [&'static [u32]; 3] {
    [DENY, arch::DENY, if ptrace_safe { &[] } else { PTRACE }]
}

/// Whether `release` (as uname reports it, e.g. `6.1.0-18-amd64`) is Linux 4.8 or later.
fn ptrace_is_safe(release: &[u8]) -> bool {
    let number = |p: &[u8]| {
        p.iter().take_while(|c| c.is_ascii_digit()).fold(0u32, |n, c| n.saturating_mul(10).saturating_add(u32::from(c - b'0')))
    };
    let mut parts = release.split(|&c| c == b'.').map(number);
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (4, 8)
}

/// The default filter, refusing the calls in `deny` with EPERM. Every jump goes forward, and
/// every path ends in a RET, as the kernel requires.
fn program(deny: &[&[u32]]) -> Vec<sock_filter> {
    let mut p = Vec::with_capacity(128);
    header(&mut p, 0, KILL);
    for list in deny {
        runs(&mut p, list, EPERM);
    }
    when(&mut p, libc::SYS_clone3 as u32, &const { [stmt(RET, ENOSYS)] });
    when(&mut p, libc::SYS_clone as u32, &const { refuse_arg0(JSET, NEW_NAMESPACES) });
    when(&mut p, libc::SYS_socket as u32, &const { refuse_arg0(JEQ, AF_VSOCK) });
    when(&mut p, libc::SYS_personality as u32, &PERSONALITY);
    p.push(stmt(RET, ALLOW));
    p
}

/// The start of every filter: a call from another ABI gets `foreign` if bit i of `listed`
/// says the profile lists arch::COMPAT[i], else KILL; a native call goes on with its number
/// in A.
fn header(p: &mut Vec<sock_filter>, listed: u32, foreign: u32) {
    let mut x32 = KILL;
    p.push(stmt(LD, ARCH));
    for (i, &(_, audit)) in arch::COMPAT.iter().enumerate() {
        match audit {
            _ if listed >> i & 1 == 0 => {}
            0 => x32 = foreign,
            a => p.extend([jump(JEQ, a, 0, 1), stmt(RET, foreign)]),
        }
    }
    p.extend([jump(JEQ, arch::AUDIT_ARCH, 1, 0), stmt(RET, KILL), stmt(LD, NR)]);
    if let Some(bit) = arch::X32_SYSCALL_BIT {
        // Except -1, which is no call (the kernel answers ENOSYS): a tracer cancels a call by
        // setting it, and since 4.8 the filter sees that. libseccomp lets it through too.
        p.extend([jump(JGE, bit, 0, 2), jump(JEQ, u32::MAX, 1, 0), stmt(RET, x32)]);
    }
}

/// Appends tests that return `ret` for the calls in `nrs` (A holds the number). A jump skips
/// at most 255 instructions, so the list is cut into runs of at most 256 comparisons, each
/// followed by its own RET, which the run's last comparison skips when it fails.
fn runs(p: &mut Vec<sock_filter>, nrs: &[u32], ret: u32) {
    for run in nrs.chunks(usize::from(u8::MAX) + 1) {
        let last = run.len() - 1;
        for (i, &nr) in run.iter().enumerate() {
            p.push(jump(JEQ, nr, (last - i) as u8, u8::from(i == last)));
        }
        p.push(stmt(RET, ret));
    }
}

/// Appends `block`, run only when the call number (still in A) is `nr`; it must return.
fn when(p: &mut Vec<sock_filter>, nr: u32, block: &[sock_filter]) {
    p.push(jump(JEQ, nr, 0, block.len() as u8));
    p.extend_from_slice(block);
}

/// EPERM when the first argument passes `test` (JEQ or JSET) against `k`, else ALLOW.
const fn refuse_arg0(test: u16, k: u32) -> [sock_filter; 4] {
    [stmt(LD, ARG0), jump(test, k, 0, 1), stmt(RET, EPERM), stmt(RET, ALLOW)]
}

const fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter { code, jt: 0, jf: 0, k }
}

const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    const JGT: u16 = (libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K) as u16;
    const AND: u16 = (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u16;

    /// The kernel's checks on a classic BPF program (bpf_check_classic, seccomp_check_filter)
    /// for the instructions used here: known opcodes, aligned loads inside seccomp_data,
    /// jumps that stay inside the program, a RET at the end.
    pub(super) fn check(p: &[sock_filter]) {
        assert!(!p.is_empty() && p.len() <= libc::BPF_MAXINSNS as usize, "length {}", p.len());
        for (pc, i) in p.iter().enumerate() {
            match i.code {
                LD => assert!(i.k % 4 == 0 && (i.k as usize) < size_of::<seccomp_data>(), "load {} at {pc}", i.k),
                JEQ | JGE | JGT | JSET => {
                    assert!(pc + 1 + usize::from(i.jt.max(i.jf)) < p.len(), "jump out of the program at {pc}")
                }
                JA => assert!(pc + 1 + (i.k as usize) < p.len(), "jump out of the program at {pc}"),
                RET | AND => {}
                c => panic!("opcode {c:#x} at {pc}"),
            }
        }
        assert_eq!(p[p.len() - 1].code, RET, "the program must end in RET");
    }

    /// A program kept as bytes (a `--seccomp FILE`, a compiled profile) as instructions: each
    /// is code (u16), jt, jf (u8), k (u32) in native byte order.
    pub(super) fn decode(bytes: &[u8]) -> Vec<sock_filter> {
        bytes
            .chunks_exact(INSN)
            .map(|b| sock_filter {
                code: u16::from_ne_bytes([b[0], b[1]]),
                jt: b[2],
                jf: b[3],
                k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
            })
            .collect()
    }

    /// A classic BPF interpreter for the opcodes above: the verdict for one call.
    pub(super) fn eval(p: &[sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let mut data = [0u8; size_of::<seccomp_data>()];
        data[NR as usize..][..4].copy_from_slice(&nr.to_ne_bytes());
        data[ARCH as usize..][..4].copy_from_slice(&arch.to_ne_bytes());
        for (i, a) in args.iter().enumerate() {
            data[ARGS as usize + 8 * i..][..8].copy_from_slice(&a.to_ne_bytes());
        }
        let (mut a, mut pc) = (0u32, 0usize);
        loop {
            let i = p[pc];
            pc += 1;
            let taken = match i.code {
                LD => {
                    a = u32::from_ne_bytes(data[i.k as usize..][..4].try_into().unwrap());
                    continue;
                }
                AND => {
                    a &= i.k;
                    continue;
                }
                JA => {
                    pc += i.k as usize;
                    continue;
                }
                RET => return i.k,
                JEQ => a == i.k,
                JGE => a >= i.k,
                JGT => a > i.k,
                JSET => a & i.k != 0,
                c => panic!("opcode {c:#x}"),
            };
            pc += usize::from(if taken { i.jt } else { i.jf });
        }
    }

    fn verdict(p: &[sock_filter], arch: u32, nr: u32, arg0: u64) -> u32 {
        eval(p, arch, nr, [arg0, 0, 0, 0, 0, 0])
    }

    fn default_program() -> Vec<sock_filter> {
        let p = program(&denied(true));
        check(&p);
        p
    }

    fn native(p: &[sock_filter], nr: i64, arg0: u64) -> u32 {
        verdict(p, arch::AUDIT_ARCH, nr as u32, arg0)
    }

    #[test]
    fn ordinary_calls_are_allowed() {
        let p = default_program();
        for nr in [libc::SYS_read, libc::SYS_write, libc::SYS_getpid, libc::SYS_execve, libc::SYS_openat, libc::SYS_chroot] {
            assert_eq!(native(&p, nr, 0), ALLOW, "call {nr}");
        }
        // fork() and pthread_create() as musl and glibc make them.
        let fork = (libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID | libc::SIGCHLD) as u64;
        let thread = (libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_FILES | libc::CLONE_SIGHAND | libc::CLONE_THREAD)
            as u64
            | (libc::CLONE_SYSVSEM | libc::CLONE_SETTLS | libc::CLONE_PARENT_SETTID | libc::CLONE_CHILD_CLEARTID) as u64;
        assert_eq!(native(&p, libc::SYS_clone, fork), ALLOW);
        assert_eq!(native(&p, libc::SYS_clone, thread), ALLOW);
        assert_eq!(native(&p, libc::SYS_socket, libc::AF_INET as u64), ALLOW);
        assert_eq!(native(&p, libc::SYS_socket, libc::AF_UNIX as u64), ALLOW);
        assert_eq!(native(&p, libc::SYS_ptrace, 0), ALLOW, "ptrace on a kernel >= 4.8");
    }

    /// What hutch itself may still do after loading the filter, wherever the setup puts it:
    /// drop capabilities, switch ids, set no_new_privs and limits, restore signals, exec.
    #[test]
    fn hutch_can_finish_its_setup_under_the_filter() {
        let p = default_program();
        for nr in [
            libc::SYS_prctl,
            libc::SYS_capset,
            libc::SYS_setresuid,
            libc::SYS_setresgid,
            libc::SYS_setgroups,
            libc::SYS_prlimit64,
            libc::SYS_rt_sigprocmask,
            libc::SYS_close_range,
            libc::SYS_fcntl,
            libc::SYS_chdir,
            libc::SYS_write,
            libc::SYS_execve,
            libc::SYS_exit_group,
        ] {
            assert_eq!(native(&p, nr, 0), ALLOW, "call {nr}");
        }
    }

    #[test]
    fn every_listed_call_gets_eperm() {
        let p = default_program();
        let list = denied(true).concat();
        assert!(list.len() > 50);
        for &nr in &list {
            assert_eq!(native(&p, nr as i64, 0), EPERM, "call {nr}");
        }
    }

    /// The numbers from the kernel's own tables, against which libc's are checked.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn numbers_match_the_kernel_table_x86_64() {
        // arch/x86/entry/syscalls/syscall_64.tbl
        let p = default_program();
        for nr in [165, 166, 155, 169, 175, 313, 176, 246, 320, 250, 272, 308, 321, 298, 323, 304, 172, 173, 103, 163] {
            assert_eq!(native(&p, nr, 0), EPERM, "call {nr}");
        }
        assert_eq!(native(&p, 435, 0), libc::SECCOMP_RET_ERRNO | 38, "clone3");
        assert_eq!(native(&p, 56, libc::CLONE_NEWNS as u64), EPERM, "clone");
        assert_eq!(native(&p, 135, 0x40000), EPERM, "personality");
    }

    #[test]
    #[cfg(target_arch = "aarch64")]
    fn numbers_match_the_kernel_table_aarch64() {
        // include/uapi/asm-generic/unistd.h
        let p = default_program();
        for nr in [40, 39, 41, 142, 105, 273, 106, 104, 294, 219, 97, 268, 280, 241, 282, 265, 116, 89] {
            assert_eq!(native(&p, nr, 0), EPERM, "call {nr}");
        }
        assert_eq!(native(&p, 435, 0), libc::SECCOMP_RET_ERRNO | 38, "clone3");
        assert_eq!(native(&p, 220, libc::CLONE_NEWNS as u64), EPERM, "clone");
        assert_eq!(native(&p, 92, 0x40000), EPERM, "personality");
    }

    #[test]
    fn arguments_decide_clone_personality_and_socket() {
        let p = default_program();
        assert_eq!(native(&p, libc::SYS_clone3, 0), ENOSYS);
        for ns in [
            libc::CLONE_NEWNS,
            libc::CLONE_NEWUTS,
            libc::CLONE_NEWIPC,
            libc::CLONE_NEWUSER,
            libc::CLONE_NEWPID,
            libc::CLONE_NEWNET,
            libc::CLONE_NEWCGROUP,
        ] {
            assert_eq!(native(&p, libc::SYS_clone, (ns | libc::SIGCHLD) as u64), EPERM, "clone flag {ns:#x}");
        }
        for ok in [0, 0x8, 0x20000, 0x20008, 0xffff_ffff, 1 << 32] {
            assert_eq!(native(&p, libc::SYS_personality, ok), ALLOW, "personality {ok:#x}");
        }
        for bad in [0x40000, 0x400000, 0x1, 0x20009] {
            assert_eq!(native(&p, libc::SYS_personality, bad), EPERM, "personality {bad:#x}");
        }
        assert_eq!(native(&p, libc::SYS_socket, 40), EPERM, "AF_VSOCK");
    }

    #[test]
    fn foreign_abis_are_killed() {
        let p = default_program();
        const AUDIT_ARCH_I386: u32 = 0x4000_0003;
        const AUDIT_ARCH_ARM: u32 = 0x4000_0028;
        for arch in [AUDIT_ARCH_I386, AUDIT_ARCH_ARM, 0] {
            assert_eq!(verdict(&p, arch, 20, 0), KILL, "arch {arch:#x}");
        }
        if let Some(x32) = arch::X32_SYSCALL_BIT {
            assert_eq!(native(&p, (x32 | 39) as i64, 0), KILL, "x32 getpid");
            assert_eq!(native(&p, (x32 | libc::SYS_mount as u32) as i64, 0), KILL, "x32 mount");
        }
        assert_eq!(native(&p, u32::MAX as i64, 0), ALLOW, "-1 is left to the kernel (ENOSYS)");
    }

    #[test]
    fn ptrace_depends_on_the_kernel() {
        let old = program(&denied(false));
        check(&old);
        for nr in PTRACE {
            assert_eq!(native(&old, *nr as i64, 0), EPERM);
            assert_eq!(native(&default_program(), *nr as i64, 0), ALLOW);
        }
        for (release, safe) in [
            (&b"4.8.0"[..], true),
            (b"4.10.0-42-generic", true),
            (b"6.18.44-fc-v657\0\0\0", true),
            (b"5.4", true),
            (b"4.7.10", false),
            (b"3.10.0-1160.el7.x86_64", false),
            (b"", false),
            (b"99999999999999999999.1", true),
        ] {
            assert_eq!(ptrace_is_safe(release), safe, "{:?}", core::str::from_utf8(release));
        }
    }

    #[test]
    fn long_lists_are_split_where_jumps_reach() {
        for n in [1, 255, 256, 257, 600] {
            let deny: Vec<u32> = (1000..1000 + n).collect();
            let p = program(&[&deny]);
            check(&p);
            for &nr in &deny {
                assert_eq!(native(&p, nr as i64, 0), EPERM, "{nr} of {n}");
            }
            assert_eq!(native(&p, 999, 0), ALLOW);
            assert_eq!(native(&p, 1000 + n as i64, 0), ALLOW);
        }
        check(&program(&[]));
        check(&program(&[&[], &[1]]));
    }

    #[test]
    fn file_sizes() {
        assert!(size_problem(0).is_some());
        assert!(size_problem(7).is_some());
        assert!(size_problem(12).is_some());
        assert!(size_problem(MAX_BYTES + 1).is_some());
        assert!(size_problem(MAX_BYTES + 8).is_some());
        assert_eq!(size_problem(8), None);
        assert_eq!(size_problem(MAX_BYTES), None);
    }

    #[test]
    fn files_are_read_and_decoded() {
        let p = default_program();
        let bytes: Vec<u8> = p
            .iter()
            .flat_map(|i| {
                let mut b = [0u8; 8];
                b[..2].copy_from_slice(&i.code.to_ne_bytes());
                b[2] = i.jt;
                b[3] = i.jf;
                b[4..].copy_from_slice(&i.k.to_ne_bytes());
                b
            })
            .collect();
        let path = std::env::temp_dir().join(format!("hutch-unit-seccomp-{}", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let cpath = crate::config::leak(path.to_str().unwrap().as_bytes());
        let parsed = from_option(cpath);
        std::fs::remove_file(&path).unwrap();
        let Ok(Seccomp::File { path: got, program, flags: 0 }) = parsed else { panic!("not a file program") };
        assert_eq!(got, cpath);
        assert_eq!(program, &bytes[..]);
        assert_eq!(sys::filter_bytes(p.leak()), &bytes[..], "the bytes of a compiled program are the file's");

        assert!(matches!(from_option(c"default"), Ok(Seccomp::Default)));
        assert!(matches!(from_option(c"unconfined"), Ok(Seccomp::Unconfined)));
        let Err(e) = from_option(c"/nonexistent/hutch-filter") else { panic!("read a missing file") };
        assert_eq!((e.step.str(), e.object.as_bytes()), ("reading seccomp filter", &b"/nonexistent/hutch-filter"[..]));
    }
}
