//! OCI seccomp profiles: config.json's `linux.seccomp` (runtime-spec config-linux.md,
//! "Seccomp"), which is also the JSON docker's `--security-opt seccomp=` takes, compiled to a
//! classic BPF program by hutch itself where runc and crun call libseccomp. The program does
//! what runc's does:
//!
//! - Names are resolved with the target's table only (src/seccomp/ARCH.names, packed into the
//!   binary by pack.rs: x86_64 after arch/x86/entry/syscalls/syscall_64.tbl, its common
//!   and 64-bit entries; aarch64 after include/uapi/asm-generic/unistd.h; both up to 470,
//!   listns, Linux 6.19). A name the table lacks is skipped: profiles list the calls of
//!   many kernels and architectures. A rule with the default action is skipped too, as runc
//!   does, so it cannot shadow a later rule.
//! - A call's rules are tried in profile order and the first whose conditions all hold wins;
//!   if none does, the default action. Conditions compare 64-bit arguments as two 32-bit
//!   halves. Several conditions on the same argument in one rule mean any of them (runc's
//!   reading: each becomes a rule of its own).
//! - Only the native ABI can be matched by name. A call from another ABI the profile lists
//!   (SCMP_ARCH_X86 or SCMP_ARCH_X32 on x86_64, SCMP_ARCH_ARM on aarch64) gets the default
//!   action when that refuses, so an allowlist stays one, and KILL_PROCESS when it allows or
//!   logs, so a denylist cannot be bypassed through the other ABI. A call from an ABI not
//!   listed gets KILL_PROCESS, libseccomp's bad-architecture verdict (runc keeps libseccomp's
//!   KILL_THREAD; a half-killed process helps nobody). Other machines' SCMP_ARCH_ names are
//!   accepted and change nothing.
//! - When the profile lists the native ABI and its default action refuses (not ALLOW, LOG or
//!   TRACE), calls with numbers above every call it names get ENOSYS, as in runc: a profile
//!   older than the kernel and libc then makes them fall back to the calls it knows.
//! - SCMP_ACT_NOTIFY is refused: hutch hands no listener to a seccomp agent, so
//!   `listenerPath` and `listenerMetadata` are ignored, as the spec says they are without it.
//!
//! Each call named gets a block of its rules, which the test of its number skips (with a JA
//! if it is longer than the 255 instructions jt and jf reach); a failed condition jumps to the
//! next rule in the block. A call that matches no block costs one comparison per block, as a
//! run of comparisons would, and since Linux 5.11 the kernel caches the verdicts that depend
//! on no argument anyway.
use alloc::vec::Vec;
use core::ffi::CStr;

use libc::sock_filter;

use super::{arch, header, jump, stmt, JA, JEQ, KILL, RET};
use crate::msg::{m, Msg};
use crate::config::{self, Seccomp};
use crate::error::Result;
use crate::json::{self, Node, Value};
use crate::sys;

/// The target's call names, one per line in number order (`-` for a number without a call),
/// kept packed (pack.rs).
#[cfg(target_arch = "x86_64")]
const NAMES_TEXT: &str = include_str!("x86_64.names");
#[cfg(target_arch = "aarch64")]
const NAMES_TEXT: &str = include_str!("aarch64.names");
crate::pack::packed!(NAMES = NAMES_TEXT);
const _: () = assert!(lines(NAMES_TEXT.as_bytes()) <= 512, "call numbers up to 511 only (see compile)");

const fn lines(text: &[u8]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < text.len() {
        n += (text[i] == b'\n') as usize;
        i += 1;
    }
    n
}

const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const LOG: u32 = libc::SECCOMP_RET_LOG;
const ERRNO: u32 = libc::SECCOMP_RET_ERRNO;
const TRACE: u32 = libc::SECCOMP_RET_TRACE;

// The names hutch knows, space-separated and without their prefix; also what `hutch
// features` can report.

/// `SCMP_ACT_` names and their SECCOMP_RET_ values (RETS); ERRNO and TRACE take `errnoRet`.
pub const ACTIONS: &[u8] = b"KILL KILL_THREAD KILL_PROCESS TRAP ERRNO TRACE ALLOW LOG";
const RETS: [u32; 8] = [
    libc::SECCOMP_RET_KILL_THREAD,
    libc::SECCOMP_RET_KILL_THREAD,
    libc::SECCOMP_RET_KILL_PROCESS,
    libc::SECCOMP_RET_TRAP,
    ERRNO,
    TRACE,
    ALLOW,
    LOG,
];

/// `SECCOMP_FILTER_FLAG_` names, bit 0 up, passed to seccomp(2); but WAIT_KILLABLE_RECV,
/// which only matters to a listener (SCMP_ACT_NOTIFY), is not passed on.
pub const FLAGS: &[u8] = b"TSYNC LOG SPEC_ALLOW WAIT_KILLABLE_RECV";

/// The `SCMP_ARCH_` names libseccomp knows (accepted; see the module comment for what they do).
pub const ARCHES: &[u8] = b"X86 X86_64 X32 ARM AARCH64 MIPS MIPS64 MIPS64N32 MIPSEL MIPSEL64 MIPSEL64N32 \
PPC PPC64 PPC64LE S390 S390X PARISC PARISC64 RISCV64 LOONGARCH64 M68K SH SHEB";

/// `SCMP_CMP_` names, in the order of TESTS.
pub const OPS: &[u8] = b"NE LT LE EQ GE GT MASKED_EQ";

// The tests of one condition, as (opcode, operand, jt, jf). Operands: the argument's high and
// low words (loaded), `value`'s and `valueTwo`'s high and low words. F: to the next rule (a
// failed condition); other offsets stay inside the test, whose end is success.
const LD: u8 = 0x20;
const AND: u8 = (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u8;
const EQ: u8 = 0x15;
const GT: u8 = (libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K) as u8;
const GE: u8 = 0x35;
const F: u8 = 0xff;
/// One after another; where each starts is in TEST_STARTS (see [`tests_of`]).
const TESTS: [[u8; 4]; 34] = [
    // NE: either half differs.
    [LD, 0, 0, 0], [EQ, 2, 0, 2], [LD, 1, 0, 0], [EQ, 3, F, 0],
    // LT: high below, or high equal and low below; LE the same with low not above.
    [LD, 0, 0, 0], [GT, 2, F, 0], [EQ, 2, 0, 2], [LD, 1, 0, 0], [GE, 3, F, 0],
    [LD, 0, 0, 0], [GT, 2, F, 0], [EQ, 2, 0, 2], [LD, 1, 0, 0], [GT, 3, F, 0],
    // EQ: both halves equal.
    [LD, 0, 0, 0], [EQ, 2, 0, F], [LD, 1, 0, 0], [EQ, 3, 0, F],
    // GE: high above, or high equal and low not below; GT the same with low above.
    [LD, 0, 0, 0], [GT, 2, 3, 0], [EQ, 2, 0, F], [LD, 1, 0, 0], [GE, 3, 0, F],
    [LD, 0, 0, 0], [GT, 2, 3, 0], [EQ, 2, 0, F], [LD, 1, 0, 0], [GT, 3, 0, F],
    // MASKED_EQ: (arg & value) == valueTwo, half by half.
    [LD, 0, 0, 0], [AND, 2, 0, 0], [EQ, 4, 0, F], [LD, 1, 0, 0], [AND, 3, 0, 0], [EQ, 5, 0, F],
];
const TEST_STARTS: [u8; 8] = [0, 4, 9, 14, 18, 23, 28, 34];

/// The tests of the operator `op` (an index into OPS).
fn tests_of(op: u32) -> &'static [[u8; 4]] {
    &TESTS[TEST_STARTS[op as usize] as usize..TEST_STARTS[op as usize + 1] as usize]
}

/// The most instructions the kernel takes (BPF_MAXINSNS).
const MAX: usize = libc::BPF_MAXINSNS as usize;
const TOO_LONG: Msg = m!("the program is longer than 4096 instructions (BPF_MAXINSNS)");

/// One `args` entry.
struct Cond {
    index: u32,
    op: u32,
    value: u64,
    value2: u64,
}

/// A rule for one call: its verdict if `conds[start..end]` hold; `any`: if one of them holds.
struct Rule {
    nr: u32,
    ret: u32,
    start: usize,
    end: usize,
    any: bool,
}

/// The filter for config.json's `linux.seccomp` (`node`); loading errors name its path.
pub fn from_oci(node: Node) -> Seccomp {
    filter(node, config::leak(node.path().as_bytes()))
}

/// The filter for the profile `doc`, read from `path`.
pub fn load(doc: &Value, path: &'static CStr) -> Result<Seccomp> {
    let mut s = Seccomp::Unconfined;
    json::read(doc, m!("invalid seccomp profile"), &mut |n| s = filter(n, path))?;
    Ok(s)
}

fn filter(node: Node, path: &'static CStr) -> Seccomp {
    let (p, flags) = compile(node);
    Seccomp::File { path, program: sys::filter_bytes(p.leak()), flags }
}

/// NAMES unpacked: the call names in number order, one per line.
fn names() -> Vec<u8> {
    let mut v = Vec::with_capacity(4096);
    crate::pack::unpack(&NAMES, &mut v);
    v
}

/// The call number of `name` in `table` (from [`names`]); `-` marks a gap, not a name.
fn number(table: &[u8], name: &[u8]) -> Option<u32> {
    table.split(|&c| c == b'\n').position(|n| !n.is_empty() && n != b"-" && n == name).map(|i| i as u32)
}

/// The index of the string `n` among the space-separated `names`, after `prefix`; 0 if it
/// is not there (an error).
#[inline(never)]
fn lookup(n: Node, prefix: &[u8], names: &[u8], why: Msg) -> usize {
    let found = n.str().strip_prefix(prefix).and_then(|s| config::word_index(names, s));
    found.unwrap_or_else(|| {
        n.fail(why);
        0
    })
}

/// The integer member `key` of `n`, at most `max`; `default` when absent, else required.
#[inline(never)]
fn int(n: Node, key: Msg, max: u64, default: Option<u64>) -> u64 {
    match (n.get(key), default) {
        (Some(v), _) => v.int(0, max) as u64,
        (None, Some(d)) => d,
        (None, None) => n.require(key).u64(),
    }
}

/// The SECCOMP_RET_ value of `n`'s action `key`, with its errno `errno` (EPERM if absent),
/// which only ERRNO and TRACE take.
#[inline(never)]
fn action(n: Node, key: Msg, errno: Msg) -> u32 {
    let why = m!("unknown action (SCMP_ACT_NOTIFY is not supported)");
    let ret = RETS[lookup(n.require(key), b"SCMP_ACT_", ACTIONS, why)];
    let data = int(n, errno, 0xffff, Some(u64::MAX));
    match (ret == ERRNO || ret == TRACE, data) {
        (true, u64::MAX) => ret | libc::EPERM as u32,
        (true, d) => ret | d as u32,
        (false, u64::MAX) => ret,
        (false, _) => {
            n.require(errno).fail(m!("only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno"));
            ret
        }
    }
}

/// The program for the profile `n` and its seccomp(2) flags. `conditions` is not inlined:
/// the binary is smaller so.
pub(super) fn compile(n: Node) -> (Vec<sock_filter>, u32) {
    let default = action(n, m!("defaultAction"), m!("defaultErrnoRet"));
    let mut flags = 0;
    n.each_of(m!("flags"), &mut |f| flags |= 1 << lookup(f, b"SECCOMP_FILTER_FLAG_", FLAGS, m!("unknown flag")));
    // The other ABIs listed: bit i for arch::COMPAT[i].
    let (mut listed, mut native) = (0, false);
    n.each_of(m!("architectures"), &mut |a| {
        let i = lookup(a, b"SCMP_ARCH_", ARCHES, m!("unknown architecture"));
        native |= i == arch::NATIVE;
        listed |= arch::COMPAT.iter().enumerate().filter(|c| c.1 .0 == i).fold(0, |m, (j, _)| m | 1 << j)
    });

    let table = names();
    // The calls that have a rule without conditions, by number (NAMES has fewer than 512).
    let mut decided = [false; 512];
    let (mut rules, mut conds, mut last) = (Vec::<Rule>::new(), Vec::<Cond>::new(), 0);
    n.each_of(m!("syscalls"), &mut |s| {
        let ret = action(s, m!("action"), m!("errnoRet"));
        let (start, mut seen, mut any) = (conds.len(), 0u32, false);
        s.each_of(m!("args"), &mut |a| {
            let index = int(a, m!("index"), 5, None) as u32;
            any |= seen & 1 << index != 0;
            seen |= 1 << index;
            let op = lookup(a.require(m!("op")), b"SCMP_CMP_", OPS, m!("unknown operator")) as u32;
            let value = int(a, m!("value"), u64::MAX, None);
            let value2 = int(a, m!("valueTwo"), u64::MAX, Some(0));
            conds.push(Cond { index, op, value, value2 })
        });
        let end = conds.len();
        // Read directly: a Node per name would cost more than it tells.
        let names = s.require(m!("names"));
        let why = m!("expected an array of non-empty strings");
        let Value::Arr(list) = names.value else { return names.fail(why) };
        for name in *list {
            let nr = match name {
                Value::Str(s) if !s.is_empty() => number(&table, s),
                _ => return names.fail(why),
            };
            // Rules after one without conditions are never reached: not kept, so a profile
            // that repeats a call costs nothing. Every rule kept costs an instruction or more.
            last = last.max(nr.unwrap_or(0));
            match nr {
                Some(nr) if ret != default && !decided[nr as usize] => {
                    decided[nr as usize] = start == end;
                    rules.push(Rule { nr, ret, start, end, any });
                    if rules.len() > MAX {
                        return n.fail(TOO_LONG);
                    }
                }
                _ => {}
            }
        }
    });
    if !n.ok() {
        return (Vec::new(), 0);
    }

    let foreign = match default {
        ALLOW | LOG => KILL,
        d => d,
    };
    let mut p = Vec::with_capacity(16 + 2 * rules.len());
    header(&mut p, listed, foreign);
    // One block per call, from its first rule on: the rules with conditions in order, then the
    // verdict of the first without (or the default), skipped by the call's number test.
    for (i, r) in rules.iter().enumerate() {
        if rules[..i].iter().any(|q| q.nr == r.nr) {
            continue;
        }
        let start = p.len();
        let mut fallback = default;
        for q in rules[i..].iter().filter(|q| q.nr == r.nr) {
            if q.start == q.end {
                fallback = q.ret;
                break;
            }
            conditions(&mut p, &conds[q.start..q.end], q.any, q.ret);
        }
        p.push(stmt(RET, fallback));
        let len = p.len() - start;
        if len > 255 {
            p.insert(start, stmt(JA, len as u32));
        }
        p.insert(start, if len > 255 { jump(JEQ, r.nr, 1, 0) } else { jump(JEQ, r.nr, 0, len as u8) });
    }
    // As runc does: when the profile lists the native ABI and its default refuses, a call
    // newer than every call it names gets ENOSYS, so that libcs fall back to older calls.
    if native && last > 0 && !matches!(default, ALLOW | LOG) && default & !0xffff != TRACE {
        p.extend([jump(GT.into(), last, 0, 1), stmt(RET, ERRNO | libc::ENOSYS as u32)]);
    }
    p.push(stmt(RET, default));
    if p.len() > MAX {
        n.fail(TOO_LONG);
    }
    (p, flags & 7)
}

/// Appends the tests of a rule's conditions and its RET `ret`; a failed condition jumps past
/// the RET, to what follows. With `any`, each condition is a rule of its own. Conditions
/// that must all hold are on different arguments: at most 6, 37 instructions with the RET.
#[inline(never)]
fn conditions(p: &mut Vec<sock_filter>, conds: &[Cond], any: bool, ret: u32) {
    for rule in conds.chunks(if any { 1 } else { conds.len() }) {
        let end = p.len() + rule.iter().map(|c| tests_of(c.op).len()).sum::<usize>();
        for c in rule {
            // seccomp_data.args are u64; on a little-endian machine the low word comes first.
            let low = super::ARGS + 8 * c.index + if cfg!(target_endian = "big") { 4 } else { 0 };
            let k = [low ^ 4, low, (c.value >> 32) as u32, c.value as u32, (c.value2 >> 32) as u32, c.value2 as u32];
            for &[code, operand, jt, jf] in tests_of(c.op) {
                let to = |j| if j == F { (end - p.len()) as u8 } else { j };
                let insn = jump(code.into(), k[operand as usize], to(jt), to(jf));
                p.push(insn);
            }
        }
        p.push(stmt(RET, ret));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, eval};
    use super::*;
    use std::format;
    use std::string::String;
    use std::vec;

    const EPERM: u32 = ERRNO | 1;
    const KILL_PROCESS: u32 = libc::SECCOMP_RET_KILL_PROCESS;
    const I386: u32 = 0x4000_0003;

    fn number(name: &[u8]) -> Option<u32> {
        super::number(&names(), name)
    }

    fn nr(name: &str) -> u32 {
        number(name.as_bytes()).unwrap_or_else(|| panic!("{name} not in the table"))
    }

    /// The checked program for `profile`, and its flags.
    /// The program and flags compiled from `doc`, or the error.
    fn try_compile(doc: &Value) -> Result<(Vec<sock_filter>, u32)> {
        let mut out = (Vec::new(), 0);
        json::read(doc, m!("invalid seccomp profile"), &mut |n| out = compile(n)).map(|()| out)
    }

    fn compiled(profile: &str) -> (Vec<sock_filter>, u32) {
        let doc = json::parse(profile.as_bytes(), b"p.json").unwrap();
        let (p, flags) = try_compile(&doc).unwrap();
        check(&p);
        (p, flags)
    }

    fn program(profile: &str) -> Vec<sock_filter> {
        compiled(profile).0
    }

    /// The error line (without `hutch: `) for `profile`.
    fn error(profile: &str) -> String {
        let doc = json::parse(profile.as_bytes(), b"p.json").unwrap();
        let Err(e) = try_compile(&doc) else { panic!("accepted {profile}") };
        format!("{e:?}")
    }

    fn call(p: &[sock_filter], name: &str, args: [u64; 6]) -> u32 {
        eval(p, arch::AUDIT_ARCH, nr(name), args)
    }

    #[test]
    fn the_table_has_the_kernels_numbers() {
        #[cfg(target_arch = "x86_64")]
        let known = [("read", 0), ("write", 1), ("execve", 59), ("clone", 56), ("mkdir", 83), ("personality", 135),
            ("uretprobe", 335), ("clone3", 435), ("mseal", 462), ("listns", 470)];
        #[cfg(target_arch = "aarch64")]
        let known = [("io_setup", 0), ("openat", 56), ("execve", 221), ("clone", 220), ("personality", 92),
            ("kexec_file_load", 294), ("clone3", 435), ("mseal", 462), ("listns", 470)];
        for (name, n) in known {
            assert_eq!(number(name.as_bytes()), Some(n), "{name}");
        }
        // Against the libc crate's numbers.
        for (name, n) in [
            ("openat", libc::SYS_openat), ("mount", libc::SYS_mount), ("socket", libc::SYS_socket),
            ("rt_sigaction", libc::SYS_rt_sigaction), ("exit_group", libc::SYS_exit_group),
            ("landlock_create_ruleset", libc::SYS_landlock_create_ruleset), ("futex_waitv", libc::SYS_futex_waitv),
            ("set_mempolicy_home_node", libc::SYS_set_mempolicy_home_node), ("process_mrelease", libc::SYS_process_mrelease),
        ] {
            assert_eq!(number(name.as_bytes()), Some(n as u32), "{name}");
        }
        for missing in ["", "nosuchcall", "rea", "readx", "s390_pci_mmio_read"] {
            assert_eq!(number(missing.as_bytes()), None, "{missing}");
        }
        #[cfg(target_arch = "aarch64")]
        assert_eq!(number(b"open"), None, "aarch64 has only openat");
        // The names expand to what the source lists, at the same numbers.
        #[cfg(target_arch = "x86_64")]
        let source = include_str!("x86_64.names");
        #[cfg(target_arch = "aarch64")]
        let source = include_str!("aarch64.names");
        for (n, name) in source.lines().enumerate().filter(|(_, l)| *l != "-") {
            assert_eq!(number(name.as_bytes()), Some(n as u32), "{name}");
        }
    }

    #[test]
    fn errno_trap_kill_and_the_default() {
        let p = program(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95},
                {"names": ["getpid"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"},
                {"names": ["gettid"], "action": "SCMP_ACT_KILL"},
                {"names": ["getuid"], "action": "SCMP_ACT_TRAP"},
                {"names": ["getgid"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
                {"names": ["geteuid"], "action": "SCMP_ACT_LOG"},
                {"names": ["getegid"], "action": "SCMP_ACT_KILL_THREAD"},
                {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
        );
        let z = [0; 6];
        assert_eq!(call(&p, "mkdirat", z), ERRNO | 95);
        assert_eq!(call(&p, "getpid", z), EPERM);
        assert_eq!(call(&p, "getppid", z), KILL_PROCESS);
        assert_eq!(call(&p, "gettid", z), libc::SECCOMP_RET_KILL_THREAD);
        assert_eq!(call(&p, "getuid", z), libc::SECCOMP_RET_TRAP);
        assert_eq!(call(&p, "getgid", z), TRACE | 7);
        assert_eq!(call(&p, "geteuid", z), LOG);
        assert_eq!(call(&p, "getegid", z), 0);
        assert_eq!(call(&p, "read", z), ALLOW);
        assert_eq!(call(&p, "write", z), ALLOW);
        assert_eq!(eval(&p, arch::AUDIT_ARCH, u32::MAX, z), ALLOW, "-1 is no call");

        let p = program(r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#);
        assert_eq!(call(&p, "read", z), ALLOW);
        assert_eq!(call(&p, "write", z), ERRNO | 38);
        assert_eq!(eval(&p, arch::AUDIT_ARCH, 999, z), ERRNO | 38);
        let p = program(r#"{"defaultAction": "SCMP_ACT_ERRNO"}"#);
        assert_eq!(call(&p, "read", z), EPERM);
        assert_eq!(p.len(), header_len() + 1);
    }

    fn header_len() -> usize {
        let mut p = Vec::new();
        header(&mut p, 0, 0);
        p.len()
    }

    /// Each comparison against its meaning in Rust, on values that differ in either half.
    #[test]
    fn comparisons_are_64_bit() {
        let edges = [0u64, 1, 2, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0001, 0x2_0000_0000, 0x7fff_ffff_ffff_ffff, u64::MAX - 1, u64::MAX];
        let ops: [(&str, fn(u64, u64, u64) -> bool); 7] = [
            ("NE", |a, v, _| a != v),
            ("LT", |a, v, _| a < v),
            ("LE", |a, v, _| a <= v),
            ("EQ", |a, v, _| a == v),
            ("GE", |a, v, _| a >= v),
            ("GT", |a, v, _| a > v),
            ("MASKED_EQ", |a, v, w| a & v == w),
        ];
        for (op, holds) in ops {
            for &v in &edges {
                for &w in &[0u64, 1, 0x1_0000_0000, v] {
                    for index in [0u64, 3, 5] {
                        let profile = format!(
                            r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO",
                                "args": [{{"index": {index}, "value": {v}, "valueTwo": {w}, "op": "SCMP_CMP_{op}"}}]}}]}}"#
                        );
                        let p = program(&profile);
                        for &a in edges.iter().chain(&[v, v.wrapping_add(1), v.wrapping_sub(1), v ^ 0x1_0000_0000]) {
                            let mut args = [0x5555_5555_5555_5555; 6];
                            args[index as usize] = a;
                            let want = if holds(a, v, w) { EPERM } else { ALLOW };
                            assert_eq!(call(&p, "ioctl", args), want, "{op} arg{index}={a:#x} value={v:#x} valueTwo={w:#x}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn conditions_and_rules_in_order() {
        let p = program(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                 "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 3, "op": "SCMP_CMP_EQ"}]},
                {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 2,
                 "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
                {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 3,
                 "args": [{"index": 2, "value": 10, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 20, "op": "SCMP_CMP_EQ"}]},
                {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4},
                {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5, "args": [{"index": 0, "value": 9, "op": "SCMP_CMP_EQ"}]}
            ]}"#,
        );
        let s = |a: u64, b: u64, c: u64| call(&p, "socket", [a, b, c, 0, 0, 0]);
        assert_eq!(s(2, 3, 0), ERRNO | 1, "both conditions of the first rule");
        assert_eq!(s(2, 1, 0), ERRNO | 2, "the second rule");
        assert_eq!(s(1, 1, 10), ERRNO | 3, "two conditions on one argument: either (as runc)");
        assert_eq!(s(1, 1, 20), ERRNO | 3);
        assert_eq!(s(1, 1, 30), ERRNO | 4, "the rule without conditions");
        assert_eq!(s(9, 0, 0), ERRNO | 4, "rules after one without conditions are never reached");
        assert_eq!(call(&p, "bind", [2, 3, 0, 0, 0, 0]), ALLOW);

        // Without a rule that always matches, the default.
        let p = program(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 4, "op": "SCMP_CMP_EQ"}]},
                {"names": ["personality", "getpid"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4, "op": "SCMP_CMP_LE"}]},
                {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
        );
        let pers = |a: u64| call(&p, "personality", [a, 0, 0, 0, 0, 0]);
        assert_eq!((pers(0), pers(8), pers(9), pers(0xffff_ffff)), (ALLOW, ALLOW, EPERM, EPERM));
        assert_eq!(pers(4), ALLOW, "a rule with the default action is skipped, as runc does");
        assert_eq!(call(&p, "getpid", [3, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(call(&p, "getpid", [5, 0, 0, 0, 0, 0]), EPERM);
        assert_eq!(call(&p, "read", [5, 0, 0, 0, 0, 0]), ALLOW);
    }

    #[test]
    fn architectures() {
        let z = [0; 6];
        let deny = |arches: &str, default: &str| {
            program(&format!(
                r#"{{"defaultAction": "{default}", "architectures": [{arches}],
                    "syscalls": [{{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}}, {{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}}]}}"#
            ))
        };
        let (native, listed, other) = (arch::AUDIT_ARCH, arch::COMPAT[0].1, 0xc000_0028 /* PPC64 */);
        // A denylist: a listed foreign ABI could bypass it, so its calls are killed.
        let p = deny(r#""SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM""#, "SCMP_ACT_ALLOW");
        assert_eq!(call(&p, "mount", z), EPERM);
        assert_eq!(call(&p, "read", z), ALLOW);
        assert_eq!(eval(&p, listed, 21, z), KILL_PROCESS);
        assert_eq!(eval(&p, other, 21, z), KILL_PROCESS);
        // An allowlist: the listed foreign ABI gets the default, an unlisted one is killed.
        let p = deny(r#""SCMP_ARCH_X86", "SCMP_ARCH_ARM", "SCMP_ARCH_X32""#, "SCMP_ACT_ERRNO");
        assert_eq!(call(&p, "getpid", z), ALLOW);
        assert_eq!(call(&p, "read", z), EPERM);
        assert_eq!(eval(&p, listed, nr("getpid"), z), EPERM);
        assert_eq!(eval(&p, other, 21, z), KILL_PROCESS);
        assert_eq!(eval(&p, 0, 21, z), KILL_PROCESS);
        // None listed: only the native ABI.
        let p = deny("", "SCMP_ACT_ERRNO");
        assert_eq!(eval(&p, listed, nr("getpid"), z), KILL_PROCESS);
        assert_eq!(eval(&p, native, nr("getpid"), z), ALLOW);
        assert_eq!(eval(&p, native, u32::MAX, z), EPERM, "-1 gets the default");
        if let Some(x32) = arch::X32_SYSCALL_BIT {
            let getpid = x32 | nr("getpid");
            assert_eq!(eval(&p, native, getpid, z), KILL_PROCESS, "x32 not listed");
            let p = deny(r#""SCMP_ARCH_X32""#, "SCMP_ACT_ERRNO");
            assert_eq!(eval(&p, native, getpid, z), EPERM, "x32 listed, allowlist");
            assert_eq!(eval(&p, I386, nr("getpid"), z), KILL_PROCESS, "i386 not listed");
            let p = deny(r#""SCMP_ARCH_X32""#, "SCMP_ACT_LOG");
            assert_eq!(eval(&p, native, getpid, z), KILL_PROCESS, "x32 listed, denylist");
            assert_eq!(eval(&p, native, u32::MAX, z), LOG, "-1 is not x32");
        }
    }

    /// Calls newer than the profile get ENOSYS, as runc makes them, when it lists the native
    /// ABI and refuses by default.
    #[test]
    fn calls_newer_than_the_profile_get_enosys() {
        #[cfg(target_arch = "x86_64")]
        let native = "SCMP_ARCH_X86_64";
        #[cfg(target_arch = "aarch64")]
        let native = "SCMP_ARCH_AARCH64";
        let profile = |default: &str, arches: &str| {
            program(&format!(
                r#"{{"defaultAction": "{default}", "architectures": [{arches}], "syscalls": [
                    {{"names": ["read", "openat"], "action": "SCMP_ACT_ALLOW"}}, {{"names": ["close_range"], "action": "{default}"}}]}}"#
            ))
        };
        let (last, z) = (nr("close_range"), [0; 6]);
        let native = format!("\"{native}\"");
        let p = profile("SCMP_ACT_ERRNO", &format!("{native}, \"SCMP_ARCH_X86\""));
        assert_eq!(call(&p, "openat", z), ALLOW);
        assert_eq!(call(&p, "write", z), EPERM);
        assert_eq!(eval(&p, arch::AUDIT_ARCH, last, z), EPERM, "named, though with the default action");
        assert_eq!(eval(&p, arch::AUDIT_ARCH, last + 1, z), ERRNO | libc::ENOSYS as u32);
        assert_eq!(eval(&p, arch::AUDIT_ARCH, u32::MAX, z), ERRNO | libc::ENOSYS as u32);
        for (default, arches) in
            [("SCMP_ACT_ERRNO", "\"SCMP_ARCH_X86\""), ("SCMP_ACT_ERRNO", ""), ("SCMP_ACT_TRACE", &native), ("SCMP_ACT_LOG", &native)]
        {
            let p = profile(default, arches);
            assert_ne!(eval(&p, arch::AUDIT_ARCH, last + 1, z), ERRNO | libc::ENOSYS as u32, "{default} {arches}");
        }
        let p = profile("SCMP_ACT_KILL_PROCESS", &native);
        assert_eq!(eval(&p, arch::AUDIT_ARCH, last + 1, z), ERRNO | libc::ENOSYS as u32);
        assert_eq!(call(&p, "write", z), KILL_PROCESS);
    }

    /// Every name of the table in one rule and long blocks of conditions: the jumps must
    /// still land.
    #[test]
    fn big_profiles() {
        let table = names();
        let names: Vec<String> =
            table.split(|&c| c == b'\n').filter(|b| !b.is_empty() && b != b"-").map(|b| String::from_utf8(b.to_vec()).unwrap()).collect();
        assert!(names.len() > 300, "{}", names.len());
        let list = names.iter().filter(|n| *n != "getpid").map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(",");
        // Conditional rules for one call, longer than a jump reaches, before and after the rest.
        let cond = |v: u32, errno: u32| {
            format!(r#"{{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": {errno}, "args": [{{"index": 1, "value": {v}, "op": "SCMP_CMP_EQ"}}]}}"#)
        };
        let rules: Vec<String> = (0..80).map(|i| cond(1000 + i, 100 + i)).collect();
        let profile = format!(
            r#"{{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [{}, {{"names": [{list}], "action": "SCMP_ACT_ALLOW"}}, {}]}}"#,
            rules.join(","),
            cond(7, 7)
        );
        let p = program(&profile);
        assert!(p.len() > 700, "{}", p.len());
        assert!(p.iter().any(|i| i.code == JA), "a block longer than 255");
        for (n, name) in names.iter().enumerate() {
            let want = if name == "getpid" { ERRNO | 38 } else { ALLOW };
            if name != "ioctl" {
                assert_eq!(call(&p, name, [0; 6]), want, "{name} ({n})");
            }
        }
        for i in 0..80 {
            assert_eq!(call(&p, "ioctl", [0, 1000 + i, 0, 0, 0, 0]), ERRNO | (100 + i as u32), "ioctl rule {i}");
        }
        assert_eq!(call(&p, "ioctl", [0, 7, 0, 0, 0, 0]), ALLOW, "the unconditional ALLOW comes first");
        assert_eq!(eval(&p, arch::AUDIT_ARCH, 999, [0; 6]), ERRNO | 38);

        // More than the kernel takes.
        let rules: Vec<String> = (0..1000).map(|i| cond(i, 1)).collect();
        let e = error(&format!(r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{}]}}"#, rules.join(",")));
        assert!(e.contains("longer than 4096"), "{e}");
        // Repeats cost nothing, and a flood of rules is refused as it is read.
        let list = vec!["\"read\""; 100_000].join(",");
        let p = program(&format!(r#"{{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{{"names": [{list}], "action": "SCMP_ACT_ALLOW"}}, {}]}}"#, cond(1, 1)));
        assert_eq!(p.len(), header_len() + 3);
        let list = vec!["\"ioctl\""; 100_000].join(",");
        let flood = format!(r#"{{"names": [{list}], "action": "SCMP_ACT_ERRNO", "args": [{{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}}]}}"#);
        let e = error(&format!(r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{flood}]}}"#));
        assert!(e.contains("longer than 4096"), "{e}");
    }

    #[test]
    fn unknown_names_are_skipped_and_flags_read() {
        let (p, flags) = compiled(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC",
                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"], "listenerPath": "/run/agent.sock", "listenerMetadata": "x", "unknownField": {"a": [1]},
                "syscalls": [{"names": ["s390_pci_mmio_write", "no_such_call", "mount", "NOT_A_CALL"], "action": "SCMP_ACT_ERRNO"}]}"#,
        );
        assert_eq!(flags, 7);
        assert_eq!(call(&p, "mount", [0; 6]), EPERM);
        assert_eq!(p.len(), header_len() + 3);
        assert_eq!(compiled(r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": []}"#).1, 0);
    }

    #[test]
    fn bad_values_name_the_field() {
        let cases = [
            (r#"{}"#, "invalid seccomp profile: defaultAction: required"),
            (r#"{"defaultAction": "ALLOW"}"#, "defaultAction: unknown action"),
            (r#"{"defaultAction": 1}"#, "defaultAction: expected a string"),
            (r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1}"#, "defaultErrnoRet: number out of range"),
            (r#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#, "defaultAction: unknown action (SCMP_ACT_NOTIFY is not supported)"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1}"#, "defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_KILL", "errnoRet": 1}]}"#,
                "syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]}"#, "flags[0]: unknown flag"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "x86"]}"#, "architectures[1]: unknown architecture"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}}"#, "syscalls: expected an array"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO"}, {"names": ["read"], "action": "KILL"}]}"#,
                "syscalls[1].action: unknown action"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"]}]}"#, "syscalls[0].action: required"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]}"#, "syscalls[0].names: required"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read", ""], "action": "SCMP_ACT_ERRNO"}]}"#, "syscalls[0].names: expected an array of non-empty strings"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "read", "action": "SCMP_ACT_ERRNO"}]}"#, "syscalls[0].names: expected an array of non-empty strings"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read", 1], "action": "SCMP_ACT_ERRNO"}]}"#, "syscalls[0].names: expected an array of non-empty strings"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 65536}]}"#,
                "syscalls[0].errnoRet: number out of range"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
                "syscalls[0].args[0].index: number out of range"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_FOO"}]}]}"#,
                "syscalls[0].args[0].op: unknown operator"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "op": "SCMP_CMP_EQ"}]}]}"#,
                "syscalls[0].args[0].value: required"),
            (r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}]}"#,
                "syscalls[0].args[0].value: number out of range"),
        ];
        for (profile, want) in cases {
            let got = error(profile);
            assert!(got.starts_with("invalid seccomp profile: ") && got.contains(want), "{profile}\n got {got}\nwant {want}");
        }
    }

    #[test]
    fn config_json_section_is_named_by_its_path() {
        let doc = json::parse(br#"{"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG"]}}}"#, b"config.json").unwrap();
        let mut s = Seccomp::Default;
        json::read(&doc, m!("invalid config"), &mut |root| s = from_oci(root.require_key(b"linux").require_key(b"seccomp"))).unwrap();
        let Seccomp::File { path, program, flags } = s else { panic!() };
        assert_eq!((path.to_bytes(), flags), (&b"linux.seccomp"[..], 2));
        let p = super::super::tests::decode(program);
        check(&p);
        assert_eq!(call(&p, "mount", [0; 6]), ALLOW);
        let doc = json::parse(br#"{"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "x"}]}}}"#, b"c").unwrap();
        let Err(e) = json::read(&doc, m!("invalid config"), &mut |root| _ = from_oci(root.require_key(b"linux").require_key(b"seccomp"))) else { panic!() };
        assert_eq!(format!("{e:?}"), "invalid config: linux.seccomp.syscalls[0].action: unknown action (SCMP_ACT_NOTIFY is not supported)");
    }

    /// Profiles with bytes changed never crash the compiler, and what it accepts passes the
    /// kernel's checks.
    #[test]
    fn arbitrary_profiles() {
        let seed = br#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_ARM"],
            "flags": ["SECCOMP_FILTER_FLAG_LOG"], "syscalls": [{"names": ["read", "write", "ioctl"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["ioctl", "mmap"], "action": "SCMP_ACT_TRACE", "errnoRet": 3, "args": [{"index": 1, "value": 5, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"},
            {"index": 1, "value": 9, "op": "SCMP_CMP_LE"}, {"index": 5, "value": 18446744073709551615, "op": "SCMP_CMP_GT"}]}]}"#;
        let mut next = crate::json::tests::xorshift(0x9e37_79b9_7f4a_7c15u64);
        const PUNCT: &[u8] = b"{}[]\",:0123456789_SCMPAT";
        let mut accepted = 0;
        for _ in 0..3000 {
            let mut doc = seed.to_vec();
            for _ in 0..1 + next() % 3 {
                let i = next() as usize % doc.len();
                match next() % 3 {
                    0 => doc[i] = PUNCT[next() as usize % PUNCT.len()],
                    1 => drop(doc.remove(i)),
                    _ => doc.insert(i, PUNCT[next() as usize % PUNCT.len()]),
                }
            }
            let Ok(v) = json::parse(&doc, b"fuzz") else { continue };
            if let Ok((p, _)) = try_compile(&v) {
                check(&p);
                accepted += 1;
            }
        }
        assert!(accepted > 100, "{accepted}");
    }
}
