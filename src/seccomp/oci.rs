//! OCI seccomp profiles: config.json's `linux.seccomp` (runtime-spec config-linux.md,
//! "Seccomp"), which is also the JSON docker's `--security-opt seccomp=` takes, compiled to a
//! classic BPF program by hutch itself where runc and crun call libseccomp. The program does
//! what runc's does:
//!
//! - Names are resolved with the target's table only (build.rs makes it from
//!   src/seccomp/ARCH.names, after the kernel's syscall tables). A name the table lacks is
//!   skipped: profiles list the calls of many kernels and architectures. A rule with the
//!   default action is skipped too, as runc does, so it cannot shadow a later rule.
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
//! - SCMP_ACT_NOTIFY and `listenerPath` are refused: hutch hands no listener to an agent.
//!
//! Each call named gets a block of its rules, which the test of its number skips (with a JA
//! if it is longer than the 255 instructions jt and jf reach); a failed condition jumps to the
//! next rule in the block. A call that matches no block costs one comparison per block, as a
//! run of comparisons would, and since Linux 5.11 the kernel caches the verdicts that depend
//! on no argument anyway.
use alloc::vec::Vec;
use core::ffi::CStr;

use libc::sock_filter;

use super::{arch, encode, header, jump, stmt, JA, JEQ, KILL, RET};
use crate::buf::Buf;
use crate::config::{self, Seccomp};
use crate::error::Result;
use crate::json::Node;

include!(concat!(env!("OUT_DIR"), "/syscall_names.rs"));

const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const LOG: u32 = libc::SECCOMP_RET_LOG;
const ERRNO: u32 = libc::SECCOMP_RET_ERRNO;
const TRACE: u32 = libc::SECCOMP_RET_TRACE;

/// `SCMP_ACT_` names and their SECCOMP_RET_ values; ERRNO and TRACE take `errnoRet`.
const ACTIONS: &[(&[u8], u32)] = &[
    (b"KILL", libc::SECCOMP_RET_KILL_THREAD),
    (b"KILL_THREAD", libc::SECCOMP_RET_KILL_THREAD),
    (b"KILL_PROCESS", libc::SECCOMP_RET_KILL_PROCESS),
    (b"TRAP", libc::SECCOMP_RET_TRAP),
    (b"ERRNO", ERRNO),
    (b"TRACE", TRACE),
    (b"ALLOW", ALLOW),
    (b"LOG", LOG),
];

/// `SECCOMP_FILTER_FLAG_` names, passed to seccomp(2).
const FLAGS: &[(&[u8], u32)] = &[(b"TSYNC", 1), (b"LOG", 2), (b"SPEC_ALLOW", 4)];

/// The `SCMP_ARCH_` names libseccomp knows.
const ARCHES: &[u8] = b"X86 X86_64 X32 ARM AARCH64 MIPS MIPS64 MIPS64N32 MIPSEL MIPSEL64 MIPSEL64N32 \
PPC PPC64 PPC64LE S390 S390X PARISC PARISC64 RISCV64 LOONGARCH64 M68K SH SHEB";

/// `SCMP_CMP_` names, as indexes into TESTS.
const OPS: &[(&[u8], u32)] =
    &[(b"NE", 0), (b"LT", 1), (b"LE", 2), (b"EQ", 3), (b"GE", 4), (b"GT", 5), (b"MASKED_EQ", 6)];

// The tests of one condition, as (opcode, operand, jt, jf). Operands: the argument's high and
// low words (loaded), `value`'s and `valueTwo`'s high and low words. F: to the next rule (a
// failed condition); other offsets stay inside the test, whose end is success.
const LD: u8 = 0x20;
const AND: u8 = (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u8;
const EQ: u8 = 0x15;
const GT: u8 = (libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K) as u8;
const GE: u8 = 0x35;
const F: u8 = 0xff;
const TESTS: [&[[u8; 4]]; 7] = [
    // NE: either half differs.
    &[[LD, 0, 0, 0], [EQ, 2, 0, 2], [LD, 1, 0, 0], [EQ, 3, F, 0]],
    // LT: high below, or high equal and low below; LE the same with low not above.
    &[[LD, 0, 0, 0], [GT, 2, F, 0], [EQ, 2, 0, 2], [LD, 1, 0, 0], [GE, 3, F, 0]],
    &[[LD, 0, 0, 0], [GT, 2, F, 0], [EQ, 2, 0, 2], [LD, 1, 0, 0], [GT, 3, F, 0]],
    // EQ: both halves equal.
    &[[LD, 0, 0, 0], [EQ, 2, 0, F], [LD, 1, 0, 0], [EQ, 3, 0, F]],
    // GE: high above, or high equal and low not below; GT the same with low above.
    &[[LD, 0, 0, 0], [GT, 2, 3, 0], [EQ, 2, 0, F], [LD, 1, 0, 0], [GE, 3, 0, F]],
    &[[LD, 0, 0, 0], [GT, 2, 3, 0], [EQ, 2, 0, F], [LD, 1, 0, 0], [GT, 3, 0, F]],
    // MASKED_EQ: (arg & value) == valueTwo, half by half.
    &[[LD, 0, 0, 0], [AND, 2, 0, 0], [EQ, 4, 0, F], [LD, 1, 0, 0], [AND, 3, 0, 0], [EQ, 5, 0, F]],
];

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
pub fn from_oci(node: &Node) -> Result<Seccomp> {
    load(node, config::leak(node.path.as_bytes()))
}

/// The filter for the profile `node`, read from `path`.
pub fn load(node: &Node, path: &'static CStr) -> Result<Seccomp> {
    let (p, flags) = compile(node)?;
    Ok(Seccomp::File { path, program: encode(&p), flags })
}

/// The call number of `name` on this architecture.
fn number(name: &[u8]) -> Option<u32> {
    let same = |n: &[u8]| {
        let mut b = Buf::<64>::new();
        n.iter().for_each(|&t| expand(t, &mut b));
        b.as_bytes() == name
    };
    NAMES.split(|&c| c == 0).position(same).map(|i| i as u32)
}

/// Appends the characters a byte of NAMES stands for (see build.rs).
fn expand(t: u8, b: &mut Buf<64>) {
    match t.checked_sub(0x80) {
        Some(i) => PAIRS[i as usize].iter().for_each(|&t| expand(t, b)),
        None => drop(b.push(&[t])),
    }
}

/// The value that the string `n` names in `table`, after `prefix`.
fn lookup(n: &Node, prefix: &[u8], table: &[(&[u8], u32)], why: &'static str) -> Result<u32> {
    let s = n.str()?;
    s.strip_prefix(prefix).and_then(|s| table.iter().find(|e| e.0 == s)).map(|e| e.1).ok_or_else(|| n.error(why))
}

/// The integer member `key` of `n`, at most `max`; `default` when absent, else required.
fn int(n: &Node, key: &str, max: u64, default: Option<u64>) -> Result<u64> {
    match (n.get(key)?, default) {
        (Some(v), _) => v.int(0, max.into()).map(|v| v as u64),
        (None, Some(d)) => Ok(d),
        (None, None) => n.require(key).and(Ok(0)),
    }
}

/// The items of the array `key` of `n`, if present.
fn each(n: &Node, key: &str, f: &mut dyn FnMut(Node) -> Result<()>) -> Result<()> {
    match n.get(key)? {
        Some(a) => a.each(f),
        None => Ok(()),
    }
}

/// The SECCOMP_RET_ value of `n`'s action `key`, with its errno `errno` (EPERM if absent).
fn action(n: &Node, key: &str, errno: &str) -> Result<u32> {
    let why = "unknown action (SCMP_ACT_NOTIFY is not supported)";
    let ret = lookup(&n.require(key)?, b"SCMP_ACT_", ACTIONS, why)?;
    let errno = int(n, errno, 0xffff, Some(libc::EPERM as u64))? as u32;
    Ok(if ret == ERRNO || ret == TRACE { ret | errno } else { ret })
}

/// The program for the profile `n` and its seccomp(2) flags.
#[inline(never)]
pub(super) fn compile(n: &Node) -> Result<(Vec<sock_filter>, u32)> {
    let default = action(n, "defaultAction", "defaultErrnoRet")?;
    if let Some(l) = n.get("listenerPath")? {
        if !l.str()?.is_empty() {
            return Err(l.error("seccomp notification is not supported"));
        }
    }
    let mut flags = 0;
    each(n, "flags", &mut |f| Ok(flags |= lookup(&f, b"SECCOMP_FILTER_FLAG_", FLAGS, "unknown flag")?))?;
    // The other ABIs listed, by AUDIT_ARCH (0: x32).
    let mut listed = Vec::new();
    each(n, "architectures", &mut |a| {
        let known = |s: &&[u8]| ARCHES.split(|&c| c == b' ').any(|k| k == *s);
        let name = a.str()?.strip_prefix(b"SCMP_ARCH_").filter(known).ok_or_else(|| a.error("unknown architecture"))?;
        for &(_, audit) in arch::COMPAT.iter().filter(|c| c.0 == name) {
            if !listed.contains(&audit) {
                listed.push(audit);
            }
        }
        Ok(())
    })?;

    let mut rules: Vec<Rule> = Vec::new();
    let mut conds: Vec<Cond> = Vec::new();
    each(n, "syscalls", &mut |s| {
        let ret = action(&s, "action", "errnoRet")?;
        let (start, mut seen, mut any) = (conds.len(), 0u32, false);
        each(&s, "args", &mut |a| {
            let index = int(&a, "index", 5, None)? as u32;
            any |= seen & 1 << index != 0;
            seen |= 1 << index;
            let op = lookup(&a.require("op")?, b"SCMP_CMP_", OPS, "unknown operator")?;
            let value = int(&a, "value", u64::MAX, None)?;
            let value2 = int(&a, "valueTwo", u64::MAX, Some(0))?;
            Ok(conds.push(Cond { index, op, value, value2 }))
        })?;
        let end = conds.len();
        s.require("names")?.each(&mut |name| {
            let nr = match name.str()? {
                b"" => return Err(name.error("empty system call name")),
                s => number(s),
            };
            match nr {
                Some(nr) if ret != default => Ok(rules.push(Rule { nr, ret, start, end, any })),
                _ => Ok(()),
            }
        })
    })?;

    let foreign = match default {
        ALLOW | LOG => KILL,
        d => d,
    };
    let mut p = Vec::with_capacity(16 + 2 * rules.len());
    header(&mut p, &listed, foreign);
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
    p.push(stmt(RET, default));
    match p.len() > libc::BPF_MAXINSNS as usize {
        true => Err(n.error("the program is longer than 4096 instructions (BPF_MAXINSNS)")),
        false => Ok((p, flags)),
    }
}

/// Appends the tests of a rule's conditions and its RET `ret`; a failed condition jumps past
/// the RET, to what follows. With `any`, each condition is a rule of its own.
#[inline(never)]
fn conditions(p: &mut Vec<sock_filter>, conds: &[Cond], any: bool, ret: u32) {
    let mut fails = Vec::new();
    for (i, c) in conds.iter().enumerate() {
        // seccomp_data.args are u64; on a little-endian machine the low word comes first.
        let low = super::ARGS + 8 * c.index + if cfg!(target_endian = "big") { 4 } else { 0 };
        let k = [low ^ 4, low, (c.value >> 32) as u32, c.value as u32, (c.value2 >> 32) as u32, c.value2 as u32];
        for &[code, operand, jt, jf] in TESTS[c.op as usize] {
            if jt == F || jf == F {
                fails.push(p.len());
            }
            p.push(jump(code.into(), k[operand as usize], jt, jf));
        }
        if any || i == conds.len() - 1 {
            p.push(stmt(RET, ret));
            // At most six conditions (one per argument) before a RET: 37 instructions.
            for &f in &fails {
                let to = (p.len() - f - 1) as u8;
                let insn = &mut p[f];
                if insn.jt == F {
                    insn.jt = to;
                } else {
                    insn.jf = to;
                }
            }
            fails.clear();
        }
    }
}
