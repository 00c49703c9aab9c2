//! Resource limits: one cgroup per container (one per hierarchy on v1), made by hand on cgroup
//! v2, v1, or a hybrid of both. The hierarchies are found in /proc/self/mountinfo and
//! /proc/self/cgroup, and only when a limit is asked for; each controller is used on v2 where
//! the parent cgroup offers it there, else on the v1 hierarchy it is bound to. The container's
//! cgroups are made before the clone, the child is written into them before it takes its first
//! step, and they are removed, with anything left in them killed, once the container is gone.
//! See Documentation/admin-guide/cgroup-v2.rst, cgroup-v1/{cgroups,memory,cpusets,pids}.rst,
//! scheduler/sched-bwc.rst, cgroups(7), proc(5) for mountinfo.
use alloc::vec::Vec;
use core::ffi::CStr;
use core::mem::ManuallyDrop;

use crate::buf::Buf;
use crate::config::{after, field, parse_num, word_index, CpuShare, DeviceRule, Limits, CPU_PERIOD, UNLIMITED};
use crate::error::{Context, Error, Result};
use crate::msg::{m, Msg};
use crate::sys::{self, pid_t, Errno};
use crate::userns;

/// The controllers hutch uses, as bits: bit i is word i of CONTROLLERS.
const MEMORY: u8 = 1;
const PIDS: u8 = 2;
const CPU: u8 = 4;
const CPUSET: u8 = 8;
const HUGETLB: u8 = 16;
const DEVICES: u8 = 32;
#[cfg(test)] // only a hierarchy's own bit: nothing sets a limit with it
const FREEZER: u8 = 64;
const CONTROLLERS: &[u8] = b"memory pids cpu cpuset hugetlb devices freezer";

/// The kernel makes a cgroup's control files itself; the unit tests' stand-in directories
/// need them made, and a write replaces the value as it does in a cgroup.
const CREATE: i32 = if cfg!(test) { libc::O_CREAT | libc::O_TRUNC } else { 0 };

/// rmdir attempts, 1 ms apart, while the last processes of a cgroup finish exiting.
const RMDIR_TRIES: u32 = 2000;

/// A cgroup's directory or control file.
type Path = Buf<512>;

/// Room left in a parent's path for `/NAME/FILE`.
const PATH_ROOM: usize = 192;

/// The longest name of a container's own cgroup.
const NAME_MAX: usize = 127;

/// What a control file is set to.
#[derive(Clone, Copy)]
enum Value {
    Memory,
    Swap,
    Pids,
    Period,
    Quota,
    Share,
    Cpus,
    Mems,
    Reservation,
    Swappiness,
    OomKillDisable,
    RtPeriod,
    RtRuntime,
}

/// A control file: its controller, its value, and whether a kernel with the controller may
/// lack it (swap accounting, CFS bandwidth). Its names are the same word of V1_FILES and
/// V2_FILES (one word list each: smaller than a table of slices).
struct File(u8, Value, bool);

/// The files that set limits, in the order they must be written: v1 wants
/// memory.limit_in_bytes before memsw, which may not go below it, and periods before what
/// is spent in them. The files only v1 has (`-` in V2_FILES) are left alone on v2, as runc
/// does.
const FILES: [File; 13] = [
    File(MEMORY, Value::Memory, false),
    File(MEMORY, Value::Swap, true),
    File(MEMORY, Value::Reservation, false),
    File(MEMORY, Value::Swappiness, false),
    File(MEMORY, Value::OomKillDisable, false),
    File(PIDS, Value::Pids, false),
    File(CPU, Value::Period, true),
    File(CPU, Value::Quota, true),
    File(CPU, Value::Share, false),
    File(CPU, Value::RtPeriod, true),
    File(CPU, Value::RtRuntime, true),
    File(CPUSET, Value::Cpus, false),
    File(CPUSET, Value::Mems, false),
];
const V1_FILES: &[u8] = b"memory.limit_in_bytes memory.memsw.limit_in_bytes memory.soft_limit_in_bytes memory.swappiness memory.oom_control \
pids.max cpu.cfs_period_us cpu.cfs_quota_us cpu.shares cpu.rt_period_us cpu.rt_runtime_us cpuset.cpus cpuset.mems";
const V2_FILES: &[u8] = b"memory.max memory.swap.max memory.low - - pids.max - cpu.max cpu.weight - - cpuset.cpus cpuset.mems";

/// What `l` sets a file to on v2 or v1, onto `b`; `None` when it leaves the file alone.
/// (Written into the caller's buffer: a returned Buf is copied at every move.)
fn value(l: &Limits, value: Value, v2: bool, b: &mut Buf<128>) -> Option<()> {
    // No limit: v2 and pids.max say "max", v1 "-1".
    let unlimited: &[u8] = if v2 || matches!(value, Value::Pids) { b"max" } else { b"-1" };
    let period = l.cpu_period.unwrap_or(CPU_PERIOD);
    let n = match value {
        Value::Memory => l.memory?,
        // --memory-swap counts memory plus swap, as v1's memsw does; v2 limits swap alone.
        Value::Swap => match l.memory_swap? {
            total if v2 && total != UNLIMITED => total - l.memory?,
            total => total,
        },
        Value::Reservation => l.memory_reservation?,
        Value::Swappiness => l.swappiness?,
        Value::OomKillDisable => l.oom_kill_disable.then_some(1)?,
        Value::Pids => l.pids?,
        Value::Period => l.cpu_period.or(l.cpu_quota.and(Some(CPU_PERIOD)))?,
        // v2's cpu.max is "QUOTA PERIOD", QUOTA "max" for none.
        Value::Quota => l.cpu_quota.or(l.cpu_period.filter(|_| v2).and(Some(UNLIMITED)))?,
        Value::Share if v2 => weight(l.cpu_share?),
        Value::Share => shares(l.cpu_share?),
        Value::RtPeriod => l.cpu_rt_period?,
        Value::RtRuntime => l.cpu_rt_runtime?,
        Value::Cpus | Value::Mems => {
            b.push(if let Value::Cpus = value { l.cpuset_cpus } else { l.cpuset_mems }?.to_bytes());
            return Some(());
        }
    };
    match n {
        UNLIMITED => b.push(unlimited),
        n => b.num(n),
    };
    if let (Value::Quota, true) = (value, v2) {
        b.push(b" ").num(period);
    }
    Some(())
}

/// The OCI runtimes' mapping between v1 shares (2..262144) and v2 weight (1..10000).
fn weight(s: CpuShare) -> u64 {
    match s {
        CpuShare::Weight(w) => w,
        CpuShare::Shares(s) => 1 + (s - 2) * 9999 / 262_142,
    }
}

fn shares(s: CpuShare) -> u64 {
    match s {
        CpuShare::Shares(s) => s,
        CpuShare::Weight(w) => 2 + (w - 1) * 262_142 / 9999,
    }
}

/// The controllers `l` needs (`--memory-swap` comes only with `--memory`). Device rules need
/// none: v2 has no devices controller, and where v1 has none they are not enforced.
fn needed(l: &Limits) -> u8 {
    let mut mask = if l.hugetlb.is_empty() { 0 } else { HUGETLB };
    for f in &FILES {
        if value(l, f.1, false, &mut Buf::new()).is_some() {
            mask |= f.0;
        }
    }
    mask
}

fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&c| c == b'\n')
}

/// The number after `key` in a file of `key value` lines (memory.events, memory.oom_control).
fn lookup(text: &[u8], key: &[u8]) -> Option<u64> {
    lines(text).find(|l| field(l, b' ', 0) == key).and_then(|l| parse_num(field(l, b' ', 1)))
}

/// The controllers named in `list` (separated by `sep`) that hutch uses.
fn controllers(list: &[u8], sep: u8) -> u8 {
    let mut mask = 0;
    for name in list.split(|&c| c == sep || c == b'\n') {
        if let Some(i) = word_index(CONTROLLERS, name) {
            mask |= 1 << i;
        }
    }
    mask
}
/// `DIR/FILE`, or `DIR` for an empty file.
fn at(dir: &[u8], file: &[u8]) -> Path {
    let mut p = Path::new();
    p.push(dir);
    if !file.is_empty() {
        p.push(b"/").push(file);
    }
    p
}

fn put(dir: &[u8], file: &[u8], value: &[u8], step: Msg) -> Result<()> {
    let mut p = at(dir, file);
    sys::write_file_at(libc::AT_FDCWD, p.cstr(), value, CREATE).at(step, p.as_bytes())
}

/// Leaked: control files are short, and hutch exits soon after reading them (no drop code;
/// the most read is `pause` polling cgroup.events, at most RMDIR_TRIES times).
fn get(dir: &[u8], file: &[u8]) -> sys::Result<&'static [u8]> {
    sys::read_file(at(dir, file).cstr()).map(|v| &*v.leak())
}

fn exists(dir: &[u8], file: &[u8]) -> bool {
    sys::exists(at(dir, file).cstr())
}

/// A hierarchy the container gets a cgroup in, found in mountinfo.
#[derive(Clone, Copy)]
struct Dir {
    v2: bool,
    /// v1: the controllers bound to the hierarchy; v2: those the parent offers.
    has: u8,
    /// The controllers the container's limits use in it.
    uses: u8,
    /// The parent cgroup's directory (leaked: small, and kept till hutch exits).
    path: &'static [u8],
}

/// A line of /proc/self/mountinfo (proc(5)): `ID PARENT-ID MAJOR:MINOR ROOT MOUNT-POINT
/// OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS`, as its root, mount point, filesystem
/// type and super options.
pub fn mount_line(line: &[u8]) -> (&[u8], &[u8], &[u8], &[u8]) {
    let mut dash = 6;
    while !matches!(field(line, b' ', dash), b"-" | b"") {
        dash += 1;
    }
    (field(line, b' ', 3), field(line, b' ', 4), field(line, b' ', dash + 1), field(line, b' ', dash + 3))
}

/// If line `l` of /proc/PID/cgroup (`ID:CONTROLLERS:PATH`, proc(5)) names a cgroup of the
/// hierarchy that mountinfo line `m` mounts (`0::` the cgroup2 one; else a v1 one whose
/// options hold every controller listed, `name=` ones too): the mount point, and the
/// cgroup's path below it (a mount of a subtree, ROOT other than /, shows it there).
pub fn placed<'a>(m: &'a [u8], l: &'a [u8]) -> Option<(&'a [u8], &'a [u8])> {
    let (root, mnt, fstype, opts) = mount_line(m);
    let ctrls = field(l, b':', 1);
    let fits = match ctrls {
        b"" => fstype == b"cgroup2" && l.starts_with(b"0::"),
        _ => fstype == b"cgroup" && every(ctrls, opts, b','),
    };
    if !fits {
        return None;
    }
    let path = after(l, b':', 2);
    let below = path.strip_prefix(root).filter(|r| root != b"/" && r.first().is_none_or(|&c| c == b'/'));
    Some((mnt, below.unwrap_or(path)))
}

/// `s` up to the first `sep`, and what follows that (empty without one).
#[inline(never)]
pub fn cut(s: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match s.iter().position(|&c| c == sep) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &[]),
    }
}

/// Whether every item of the `sep`-separated `names` is in the `sep`-separated `list`.
pub fn every(mut names: &[u8], list: &[u8], sep: u8) -> bool {
    while !names.is_empty() {
        let (name, rest) = cut(names, sep);
        let mut l = list;
        loop {
            if l.is_empty() {
                return false;
            }
            let (x, r) = cut(l, sep);
            if x == name {
                break;
            }
            l = r;
        }
        names = rest;
    }
    true
}

/// The hierarchy a mountinfo line mounts, if it is cgroup2 or a cgroup v1 one with a
/// controller hutch uses, with the parent for the container's cgroup: the cgroup
/// `self_cgroup` (/proc/self/cgroup) puts hutch in, or `parent` (`--cgroup-parent`) absolute
/// from the hierarchy's root or relative to hutch's cgroup. v2's controllers are left to read.
fn hierarchy(line: &[u8], self_cgroup: &[u8], parent: Option<&[u8]>) -> Option<Dir> {
    let (_, _, fstype, super_opts) = mount_line(line);
    let (v2, has) = match fstype.strip_prefix(b"cgroup")? {
        b"2" => (true, 0),
        b"" => (false, controllers(super_opts, b',')),
        _ => return None,
    };
    // A v1 hierarchy of only named ones (name=systemd) is not hutch's.
    if !v2 && has == 0 {
        return None;
    }
    let (mnt, own) = lines(self_cgroup).find_map(|l| placed(line, l))?;
    let own = own.strip_suffix(b"/").unwrap_or(own);
    let mut path = Path::new();
    match parent {
        Some(p) if p.starts_with(b"/") => path.push(mnt).push(p.strip_suffix(b"/").unwrap_or(p)),
        Some(p) => path.push(mnt).push(own).push(b"/").push(p),
        None => path.push(mnt).push(own),
    };
    Some(Dir { v2, has, uses: 0, path: path.as_bytes().to_vec().leak() })
}

/// The hierarchies for `need` (controller bits) in `mountinfo`: v2 takes every controller
/// its parent offers (`v2_controllers` reads them), v1 hierarchies what is left. With no
/// controller (`--cgroup` alone), the v2 hierarchy, or without one every v1 hierarchy; with
/// `every` (OCI, as runc), the v2 hierarchy and every v1 hierarchy with a controller hutch
/// knows, so that pause and the device rules find theirs.
fn hierarchies(
    mountinfo: &[u8],
    self_cgroup: &[u8],
    parent: Option<&[u8]>,
    need: u8,
    every: bool,
    v2_controllers: impl Fn(&Dir) -> sys::Result<&'static [u8]>,
) -> Result<&'static [Dir]> {
    // Leaked, as the texts it points into are (no drop code on the error paths).
    let mut dirs: ManuallyDrop<Vec<Dir>> = ManuallyDrop::new(Vec::new());
    let mut left = need;
    // Why a v2 parent offers nothing, for the error when a controller is found nowhere.
    let mut v2_error = None;
    for v2 in [true, false] {
        for l in lines(mountinfo) {
            let Some(mut d) = hierarchy(l, self_cgroup, parent).filter(|d| d.v2 == v2) else { continue };
            if v2 {
                match v2_controllers(&d) {
                    Ok(text) => d.has = controllers(&text, b' '),
                    Err(e) => v2_error = Some(Error::sys(m!("reading"), at(d.path, b"cgroup.controllers").as_bytes(), e)),
                }
            }
            d.uses = d.has & left;
            left &= !d.uses;
            // A hierarchy seen twice (mounted twice) is not taken twice.
            let taken = dirs.iter().any(|x| (x.v2 && (d.v2 || !every)) || (!x.v2 && x.has & d.has != 0));
            let plain = (need == 0 || every) && !taken;
            if d.uses != 0 || plain {
                if d.path.len() > 512 - PATH_ROOM {
                    return Err(Error::sys(m!("cgroup parent"), d.path, Errno(libc::ENAMETOOLONG)));
                }
                dirs.push(d);
            }
        }
    }
    if left != 0 {
        let name = field(CONTROLLERS, b' ', left.trailing_zeros() as usize);
        return Err(v2_error.unwrap_or(Error::msg(m!("cgroup controller not available"), name, m!("not offered by the parent on v2, nor mounted on v1"))));
    }
    if dirs.is_empty() {
        return Err(Error::msg(m!("cgroup"), b"/proc/self/mountinfo", m!("no cgroup filesystem is mounted")));
    }
    Ok(ManuallyDrop::into_inner(dirs).leak())
}

/// The container's cgroups. Dropping it kills what is left in them and removes them.
pub struct Cgroup {
    /// The cgroups hutch made, `:`-separated: the form [`Cgroup::keep`] hands out.
    dirs: Vec<u8>,
    memory: Option<u64>,
}

/// Makes the container's cgroups for `l`, named `name` (or `l.cgroup_name`), and applies the
/// limits. On error, whatever was made is removed again.
#[inline(never)] // smaller out of line (measured)
pub fn create(l: &Limits, name: &[u8]) -> Result<Cgroup> {
    // Leaked: they live until hutch exits anyway, and no error path then frees them.
    let read = |path: &CStr| sys::read_file(path).map(Vec::leak).at(m!("reading"), path.to_bytes());
    let (mountinfo, own) = (read(c"/proc/self/mountinfo")?, read(c"/proc/self/cgroup")?);
    let parent = l.cgroup_parent.map(CStr::to_bytes);
    // A parent yet to be made will offer what its nearest existing ancestor does.
    // An OCI container's, what the hierarchy's root does: make() enables them on the way down.
    let offered = |d: &Dir| get(existing(d.path, l.oci), b"cgroup.controllers");
    let dirs = hierarchies(mountinfo, own, parent, needed(l), l.oci, offered)?;
    Cgroup::new(dirs, l, name)
}

/// `p`, or its nearest ancestor that exists; with `top`, the top of its hierarchy above that
/// (the last directory up whose parent has no cgroup.controllers).
fn existing(p: &[u8], top: bool) -> &[u8] {
    let mut n = p.len();
    while n > 1 && (!exists(&p[..n], b"") || top && exists(&p[..n], b"../cgroup.controllers")) {
        n = p[..n].iter().rposition(|&c| c == b'/').unwrap_or(1).max(1);
    }
    &p[..n]
}

/// Makes directory `path` of hierarchy `d`, and with `parents` its missing ancestors (and on
/// v2 those lacking a controller) first
/// (those stay when the container goes: others may share them, and runc leaves them too).
/// On v2 each level enables the container's controllers in its parent first. A new v1
/// cpuset starts with no CPUs and no memory nodes, and takes no task until it has both: it
/// gets its parent's.
fn make(d: &Dir, path: &[u8], parents: bool) -> Result<()> {
    let slash = |end: usize| path[..end].iter().rposition(|&c| c == b'/').unwrap_or(0);
    // The level made first: below the nearest ancestor that exists and (v2) offers what the
    // container uses, or with no `parents`, the last.
    let mut from = slash(path.len());
    let lacks = |up: &[u8]| d.v2 && get(up, b"cgroup.controllers").is_ok_and(|c| controllers(&c, b' ') & d.uses != d.uses);
    while parents && from > 0 && (!exists(&path[..from], b"") || lacks(&path[..from])) {
        from = slash(from);
    }
    loop {
        let end = path[from + 1..].iter().position(|&c| c == b'/').map_or(path.len(), |i| from + 1 + i);
        let (up, dir) = (&path[..from], &path[..end]);
        if d.v2 && d.uses != 0 {
            enable(up, d.uses)?;
        }
        let mut p = at(dir, b"");
        match sys::mkdirat(libc::AT_FDCWD, p.cstr(), 0o755) {
            // A parent another container made meanwhile.
            Err(Errno(libc::EEXIST)) if parents && end <= d.path.len() => {}
            r => {
                r.at(m!("creating cgroup"), dir)?;
                let copy = |file: &[u8]| {
                    let v = get(up, file).at(m!("reading"), at(up, file).as_bytes())?;
                    put(dir, file, v.strip_suffix(b"\n").unwrap_or(v), m!("setting cgroup limit"))
                };
                if !d.v2 && d.has & CPUSET != 0 {
                    if let Err(e) = copy(b"cpuset.cpus").and_then(|()| copy(b"cpuset.mems")) {
                        let _ = sys::unlinkat(libc::AT_FDCWD, p.cstr(), libc::AT_REMOVEDIR);
                        return Err(e);
                    }
                }
            }
        }
        if end == path.len() {
            return Ok(());
        }
        from = end;
    }
}

impl Cgroup {
    fn new(dirs: &[Dir], l: &Limits, name: &[u8]) -> Result<Cgroup> {
        let name = l.cgroup_name.map_or(name, CStr::to_bytes);
        if name.len() > NAME_MAX || name.is_empty() {
            return Err(Error::sys(m!("cgroup name"), name, Errno(libc::ENAMETOOLONG)));
        }
        // All that can be checked is, before anything is made.
        for d in dirs {
            let path = d.path;
            if !l.oci && !exists(path, b"") {
                return Err(Error::sys(m!("opening cgroup"), path, Errno(libc::ENOENT)));
            }
            userns::check_rootless_limits(path)?;
            // On v1 these files are in every cgroup, the root too, when the kernel has them.
            for (i, f) in FILES.iter().enumerate() {
                if !(f.2 && !d.v2 && d.uses & f.0 != 0 && value(l, f.1, false, &mut Buf::new()).is_some()) {
                    continue;
                }
                let mut file = at(existing(path, false), field(V1_FILES, b' ', i));
                if !sys::exists(file.cstr()) {
                    return Err(Error::msg(m!("cgroup controller lacks"), file.as_bytes(), m!("this kernel has no such control file")));
                }
            }
        }
        // Device rules: v1's devices controller where it is mounted, else a v2 filter.
        let v1_devices = dirs.iter().any(|d| !d.v2 && d.has & DEVICES != 0);
        let mut cg = Cgroup { dirs: Vec::new(), memory: l.memory };
        for d in dirs {
            let dir = at(d.path, name);
            let dir = dir.as_bytes();
            make(d, dir, l.oci)?;
            if !cg.dirs.is_empty() {
                cg.dirs.push(b':');
            }
            cg.dirs.extend_from_slice(dir);
            for (i, f) in FILES.iter().enumerate() {
                let file = field(if d.v2 { V2_FILES } else { V1_FILES }, b' ', i);
                let mut v = Buf::new();
                if let (true, false, Some(())) = (d.uses & f.0 != 0, file == b"-", value(l, f.1, d.v2, &mut v)) {
                    put(dir, file, v.as_bytes(), m!("setting cgroup limit"))?;
                }
            }
            let hugetlb = if d.uses & HUGETLB != 0 { l.hugetlb } else { &[] };
            for &(size, bytes) in hugetlb {
                let mut file = Buf::<64>::new();
                file.push(b"hugetlb.").push(size.to_bytes()).push(if d.v2 { b".max" } else { b".limit_in_bytes" });
                put(dir, file.as_bytes(), Buf::<32>::new().num(bytes).as_bytes(), m!("setting cgroup limit"))?;
            }
            if !d.v2 && d.has & DEVICES != 0 && !l.devices.is_empty() {
                for k in 0..l.devices.len() + DEFAULT_DEVICES.len() {
                    let r = device_rule(l.devices, k);
                    let file: &[u8] = if r.allow { b"devices.allow" } else { b"devices.deny" };
                    put(dir, file, device_line(&r).as_bytes(), m!("setting device rule"))?;
                }
            }
            if d.v2 && !v1_devices && !l.devices.is_empty() {
                attach_device_filter(dir, l.devices)?;
            }
        }
        Ok(cg)
    }

    /// Moves process `pid` into the container's cgroups.
    pub fn enter(&self, pid: pid_t) -> Result<()> {
        let pid = *Buf::<32>::new().num(pid as u64);
        each(&self.dirs).try_for_each(|d| put(d, b"cgroup.procs", pid.as_bytes(), m!("joining cgroup")))
    }

    /// The line to print when the kernel's OOM killer killed a process of the container:
    /// memory.events on v2, memory.oom_control on v1 (since 4.13), else v1's count of hitting
    /// the limit. Only the cgroup with the memory controller has these files.
    pub fn oom_kill(&self) -> Option<Buf<128>> {
        let limit = self.memory?;
        let count = |d: &[u8], file: &[u8], key: &[u8]| {
            let text = get(d, file).ok()?;
            if key.is_empty() { parse_num(field(&text, b'\n', 0)) } else { lookup(&text, key) }
        };
        let kills = each(&self.dirs).find_map(|d| {
            count(d, b"memory.events", b"oom_kill").or_else(|| count(d, b"memory.oom_control", b"oom_kill")).or_else(|| count(d, b"memory.failcnt", b""))
        });
        if kills? == 0 {
            return None;
        }
        // The largest unit that divides the limit: G, M, K, or bytes.
        let mut shift: usize = 30;
        while limit % (1 << shift) != 0 {
            shift -= 10;
        }
        let mut line = Buf::new();
        line.push(b"hutch: container killed: out of memory (limit ").num(limit >> shift).push(&b"KMG"[(shift / 10).saturating_sub(1)..shift / 10]).push(b")\n");
        Some(line)
    }

    /// Leaves the cgroups in place when this value goes (an OCI container's outlive `hutch
    /// create`); returns their directories, `:`-separated, for the state entry: [`remove`],
    /// [`freeze`] and [`frozen`] take them.
    pub fn keep(mut self) -> Vec<u8> {
        core::mem::take(&mut self.dirs)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        each(&self.dirs).for_each(remove_one);
    }
}

/// The directories of a `:`-separated list.
fn each(dirs: &[u8]) -> impl Iterator<Item = &[u8]> {
    dirs.split(|&c| c == b':').filter(|d| !d.is_empty())
}

/// SIGKILLs every process in cgroup `dir`: v2's cgroup.kill (5.14) does it at once, even
/// against racing forks; elsewhere each pid cgroup.procs lists is killed, and the caller
/// retries until none is left. The caller runs this only once the container's init has
/// been reaped, and so the kernel has killed its PID namespace: what is still listed is
/// exiting, or escaped the namespace but not the cgroup.
fn kill_all(dir: &[u8]) {
    // Not put(): on v1 this fails on every retry, and an Error is not freed.
    if sys::write_file_at(libc::AT_FDCWD, at(dir, b"cgroup.kill").cstr(), b"1", CREATE).is_ok() {
        return;
    }
    for pid in lines(&get(dir, b"cgroup.procs").unwrap_or_default()).filter_map(parse_num) {
        if (1..=i32::MAX as u64).contains(&pid) {
            let _ = sys::kill(pid as pid_t, libc::SIGKILL);
        }
    }
}

/// Removes cgroup `dir`. rmdir fails with EBUSY while processes are in it, so they are killed
/// and rmdir retried while they finish exiting.
fn remove_one(dir: &[u8]) {
    let mut path = at(dir, b"");
    let mut left = Errno(libc::EBUSY);
    for _ in 0..RMDIR_TRIES {
        match sys::unlinkat(libc::AT_FDCWD, path.cstr(), libc::AT_REMOVEDIR) {
            Ok(()) | Err(Errno(libc::ENOENT)) => return,
            Err(Errno(libc::EBUSY)) => kill_all(dir),
            Err(e) => {
                left = e;
                break;
            }
        }
        sys::sleep_ms(1);
    }
    Error::sys(m!("removing cgroup"), dir, left).print();
}

/// Kills what is left in the cgroups [`Cgroup::keep`] returned and removes them (not their
/// parents), as `hutch delete` does. A paused container is thawed first: a frozen task does
/// not act on SIGKILL until then.
pub fn remove(dirs: &[u8]) {
    let _ = freeze(dirs, false);
    each(dirs).for_each(remove_one);
}

/// The freezers, v1's and v2's: the file, and what thaws and what freezes.
const FREEZERS: [(&[u8], [&[u8]; 2]); 2] = [(b"freezer.state", [b"THAWED", b"FROZEN"]), (b"cgroup.freeze", [b"0", b"1"])];

/// Freezes (`hutch pause`) or thaws (`resume`) the cgroups [`Cgroup::keep`] returned: each
/// that has a freezer, v2's cgroup.freeze or v1's freezer.state (on a hybrid host both, as
/// the container is in both). Freezing returns once the kernel reports every task frozen
/// (cgroup.events `frozen 1`, freezer.state `FROZEN`), or fails with the cgroups thawed
/// again. cgroup-v2.rst "Core Interface Files", cgroup-v1/freezer-subsystem.rst.
pub fn freeze(dirs: &[u8], frozen: bool) -> Result<()> {
    let mut found = false;
    for d in each(dirs) {
        let v2 = exists(d, b"cgroup.controllers");
        let (file, values) = FREEZERS[v2 as usize];
        if !v2 && !exists(d, file) {
            continue;
        }
        found = true;
        let mut tries = RMDIR_TRIES;
        loop {
            // v1 may stop at FREEZING when a task cannot be frozen yet: writing again retries.
            put(d, file, values[frozen as usize], m!("freezing cgroup"))?;
            if !frozen || state(d) {
                break;
            }
            tries -= 1;
            if tries == 0 {
                let _ = freeze(dirs, false);
                return Err(Error::sys(m!("freezing cgroup"), d, Errno(libc::EBUSY)));
            }
            sys::sleep_ms(1);
        }
    }
    match found {
        true => Ok(()),
        false => Err(Error::msg(m!("freezing cgroup"), dirs, m!("no freezer: neither cgroup v2 nor a v1 freezer hierarchy"))),
    }
}

/// Whether the cgroups [`Cgroup::keep`] returned are frozen (`hutch state`: paused).
pub fn frozen(dirs: &[u8]) -> bool {
    each(dirs).any(state)
}

/// Whether one cgroup is frozen: v2's has cgroup.events, v1's freezer.state.
fn state(d: &[u8]) -> bool {
    match get(d, b"cgroup.events") {
        Ok(events) => lookup(&events, b"frozen") == Some(1),
        Err(_) => get(d, b"freezer.state").is_ok_and(|s| s.starts_with(b"FROZEN")),
    }
}

/// What every container may use whatever its config says, as runc and crun allow it:
/// mknod of any node, and the devices /dev always has (null, zero, full, random, urandom,
/// tty, ptmx, the terminals, tun).
/// As (type, major, minor), 255 for any: 3 bytes each, where a DeviceRule takes 40.
const DEFAULT_DEVICES: [(u8, u8, u8); 11] = [
    (b'c', 255, 255),
    (b'b', 255, 255),
    (b'c', 1, 3),
    (b'c', 1, 5),
    (b'c', 1, 7),
    (b'c', 1, 8),
    (b'c', 1, 9),
    (b'c', 5, 0),
    (b'c', 5, 2),
    (b'c', 10, 200),
    (b'c', 136, 255),
];

/// Rule `k` of `rules` followed by the defaults: the first two only mknod, the rest `rwm`.
fn device_rule(rules: &[DeviceRule], k: usize) -> DeviceRule {
    if k < rules.len() {
        return rules[k];
    }
    let i = k - rules.len();
    let (kind, major, minor) = DEFAULT_DEVICES[i];
    let n = |x: u8| (x != 255).then_some(x as u32);
    DeviceRule { allow: true, kind, major: n(major), minor: n(minor), access: &b"rwm"[if i < 2 { 2 } else { 0 }..] }
}

/// BPF_DEVCG_DEV_* and BPF_DEVCG_ACC_* (include/uapi/linux/bpf.h).
const BPF_DEV: [(u8, i32); 2] = [(b'b', 1), (b'c', 2)];
const BPF_ACC: [(u8, i32); 3] = [(b'm', 1), (b'r', 2), (b'w', 4)];

/// One struct bpf_insn: opcode, registers, jump offset, immediate.
fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> u64 {
    code as u64 | ((dst | src << 4) as u64) << 8 | (off as u16 as u64) << 16 | (imm as u32 as u64) << 32
}

/// The cgroup v2 device program for `rules` and the defaults after them, as runc and crun
/// make it: the last rule that matches a device and covers all the access asked for
/// decides; none matching allows, as v1's devices controller does (its rules start from
/// the parent's allow-all). The context is struct bpf_cgroup_dev_ctx: access_type (type in
/// the low 16 bits, access in the high), major, minor.
fn device_filter(rules: &[DeviceRule]) -> Vec<u64> {
    let mut p = Vec::from([
        insn(0x61, 2, 1, 0, 0), // r2 = ctx->access_type
        insn(0x57, 2, 0, 0, 0xffff), // r2 &= 0xffff: the type
        insn(0x61, 3, 1, 0, 0), // r3 = ctx->access_type
        insn(0x77, 3, 0, 0, 16), // r3 >>= 16: the access
        insn(0x61, 4, 1, 4, 0), // r4 = ctx->major
        insn(0x61, 5, 1, 8, 0), // r5 = ctx->minor
    ]);
    // Index loops: chain, rev and filter adaptors cost more code (measured).
    for k in (0..rules.len() + DEFAULT_DEVICES.len()).rev() {
        let r = device_rule(rules, k);
        let start = p.len();
        let bits = |table: &[(u8, i32)], of: &[u8]| {
            let mut m = 0;
            for t in table {
                if crate::config::has(of, t.0) {
                    m |= t.1;
                }
            }
            m
        };
        let access = bits(&BPF_ACC, r.access);
        if r.kind != b'a' {
            p.push(insn(0x55, 2, 0, 0, bits(&BPF_DEV, &[r.kind]))); // if r2 != type
        }
        if access != 7 {
            p.push(insn(0xbf, 1, 3, 0, 0)); // r1 = r3
            p.push(insn(0x57, 1, 0, 0, !access)); // r1 &= ~access
            p.push(insn(0x55, 1, 0, 0, 0)); // if r1 != 0: asks for more than the rule covers
        }
        for (reg, n) in [(4, r.major), (5, r.minor)] {
            if let Some(n) = n {
                p.push(insn(0x55, reg, 0, 0, n as i32)); // if major (minor) != n
            }
        }
        p.push(insn(0xb7, 0, 0, 0, r.allow as i32)); // r0 = allow
        p.push(insn(0x95, 0, 0, 0, 0)); // exit
        // Each test jumps past the rest of the block when the rule does not apply.
        let end = p.len();
        for i in start..end {
            if p[i] & 0xff == 0x55 {
                p[i] |= ((end - i - 1) as u64) << 16;
            }
        }
        // A rule for every device ends the program: the verifier refuses unreachable code.
        if end - start == 2 {
            return p;
        }
    }
    p.push(insn(0xb7, 0, 0, 0, 1));
    p.push(insn(0x95, 0, 0, 0, 0));
    p
}

/// Loads the device program for `rules` and attaches it to the cgroup at `dir`, beside any
/// its ancestors have (BPF_F_ALLOW_MULTI: a device must pass them all).
#[inline(never)] // smaller out of line (measured)
fn attach_device_filter(dir: &[u8], rules: &[DeviceRule]) -> Result<()> {
    let step = m!("setting device rules");
    // Leaked: hutch exits soon after (no drop code).
    let prog = sys::bpf_prog_load(15, device_filter(rules).leak(), c"GPL").at(step, b"bpf")?;
    let fd = sys::open(at(dir, b"").cstr(), libc::O_RDONLY | libc::O_DIRECTORY);
    // BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI.
    let attached = fd.and_then(|fd| {
        let r = sys::bpf_prog_attach(fd, prog, 6, 2);
        sys::close(fd);
        r
    });
    sys::close(prog);
    attached.at(step, dir)
}

/// A rule as v1's devices.allow and devices.deny take it: `c 1:3 rwm`, `*` for any number.
#[inline(never)] // smaller out of line (measured)
fn device_line(r: &DeviceRule) -> Buf<48> {
    let mut b = Buf::new();
    b.push(&[r.kind, b' ']);
    for (n, sep) in [(r.major, b':'), (r.minor, b' ')] {
        match n {
            Some(n) => b.num(n as u64),
            None => b.push(b"*"),
        };
        b.push(&[sep]);
    }
    *b.push(r.access)
}

/// Enables controllers `uses` in cgroup.subtree_control of `parent`.
fn enable(parent: &[u8], uses: u8) -> Result<()> {
    let mut list = Buf::<64>::new();
    for i in 0..8 {
        if uses & 1 << i != 0 {
            list.push(b"+").push(field(CONTROLLERS, b' ', i)).push(b" ");
        }
    }
    let list = list.as_bytes();
    match put(parent, b"cgroup.subtree_control", &list[..list.len() - 1], m!("enabling cgroup controllers")) {
        // cgroup-v2.rst, "No Internal Process Constraint".
        Err(e) if e.errno() == Some(libc::EBUSY) => Err(Error::msg(
            m!("enabling cgroup controllers"),
            parent,
            m!("this cgroup has processes of its own; name an empty one with --cgroup-parent"),
        )),
        r => r,
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::{format, fs, string::String, vec::Vec};

    const HYBRID_MOUNTINFO: &[u8] = b"\
25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const HYBRID_CGROUP: &[u8] = b"\
9:name=systemd:/user.slice
8:pids:/
5:devices:/
4:memory:/process_api/abc
3:cpuset:/
2:cpu,cpuacct:/
0::/user.slice
";

    fn dirs(hs: &[Dir]) -> Vec<(bool, u8, &[u8])> {
        hs.iter().map(|h| (h.v2, h.uses, h.path)).collect()
    }

    const ALL: u8 = MEMORY | PIDS | CPU | CPUSET;

    /// `hierarchies` with a v2 parent offering `offers`.
    fn find(mountinfo: &[u8], own: &[u8], parent: Option<&[u8]>, need: u8, offers: &'static [u8]) -> Result<&'static [Dir]> {
        hierarchies(mountinfo, own, parent, need, false, |_| Ok(offers))
    }

    #[test]
    fn hybrid_uses_v1_hierarchies_under_our_cgroups() {
        let hs = find(HYBRID_MOUNTINFO, HYBRID_CGROUP, None, ALL, b"hugetlb\n").ok().unwrap();
        assert_eq!(
            dirs(&hs),
            [
                (false, CPU, &b"/sys/fs/cgroup/cpu,cpuacct"[..]),
                (false, CPUSET, b"/sys/fs/cgroup/cpuset"),
                (false, MEMORY, b"/sys/fs/cgroup/memory/process_api/abc"),
                (false, PIDS, b"/sys/fs/cgroup/pids"),
            ]
        );
        let hs = find(HYBRID_MOUNTINFO, HYBRID_CGROUP, Some(b"box"), MEMORY | PIDS, b"").ok().unwrap();
        assert_eq!(hs[0].path, b"/sys/fs/cgroup/memory/process_api/abc/box");
        assert_eq!(hs[1].path, b"/sys/fs/cgroup/pids/box");
        let hs = find(HYBRID_MOUNTINFO, HYBRID_CGROUP, Some(b"/top/box"), MEMORY, b"").ok().unwrap();
        assert_eq!(hs[0].path, b"/sys/fs/cgroup/memory/top/box");
    }

    #[test]
    fn v2_wins_what_its_parent_offers() {
        let hs = find(HYBRID_MOUNTINFO, HYBRID_CGROUP, None, MEMORY | CPU, b"memory hugetlb\n").ok().unwrap();
        assert_eq!(dirs(&hs), [(true, MEMORY, &b"/sys/fs/cgroup/unified/user.slice"[..]), (false, CPU, b"/sys/fs/cgroup/cpu,cpuacct")]);
        let mountinfo = b"\
30 24 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate
99 30 0:26 / /mnt/again rw - cgroup2 cgroup2 rw
";
        let hs = find(mountinfo, b"0::/system.slice/ssh.service\n", None, ALL, b"cpuset cpu io memory pids\n").ok().unwrap();
        assert_eq!(dirs(&hs), [(true, ALL, &b"/sys/fs/cgroup/system.slice/ssh.service"[..])], "a second mount is not used again");
        // Inside another container: its cgroup mounted at /sys/fs/cgroup.
        let mountinfo = b"50 40 0:26 /docker/ab /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n";
        let hs = find(mountinfo, b"0::/docker/ab/inner\n", None, PIDS, b"pids").ok().unwrap();
        assert_eq!(hs[0].path, b"/sys/fs/cgroup/inner");
    }

    #[test]
    fn a_controller_found_nowhere_is_an_error() {
        let no_cpuset: Vec<u8> = HYBRID_MOUNTINFO.split(|&c| c == b'\n').filter(|l| !l.ends_with(b",cpuset")).collect::<Vec<_>>().join(&b'\n');
        let err = find(&no_cpuset, HYBRID_CGROUP, None, CPUSET | PIDS, b"").err().unwrap();
        assert_eq!((err.step.str(), err.object.as_bytes()), ("cgroup controller not available", &b"cpuset"[..]));
        // When the v2 parent could not be read, that is the likelier cause.
        let err = hierarchies(&no_cpuset, HYBRID_CGROUP, Some(b"/nope"), CPUSET, false, |_| Err(Errno(libc::ENOENT))).err().unwrap();
        assert_eq!((err.step.str(), err.object.as_bytes()), ("reading", &b"/sys/fs/cgroup/unified/nope/cgroup.controllers"[..]));
    }

    #[test]
    fn cgroup_alone_takes_v2_or_every_v1_hierarchy() {
        let hs = find(HYBRID_MOUNTINFO, HYBRID_CGROUP, None, 0, b"").ok().unwrap();
        assert_eq!(dirs(&hs), [(true, 0, &b"/sys/fs/cgroup/unified/user.slice"[..])]);
        let v1 = HYBRID_MOUNTINFO.split(|&c| c == b'\n').filter(|l| !l.windows(7).any(|w| w == b"cgroup2")).collect::<Vec<_>>().join(&b'\n');
        let twice = [&v1[..], b"\n", &v1[..]].concat();
        let hs = find(&twice, HYBRID_CGROUP, None, 0, b"").ok().unwrap();
        assert_eq!(hs.iter().map(|h| h.has).collect::<Vec<_>>(), [CPU, CPUSET, MEMORY, DEVICES, PIDS], "each v1 hierarchy once");
        let err = find(b"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n", b"", None, 0, b"").err().unwrap();
        assert_eq!(err.step, "cgroup");
    }

    #[test]
    fn needs_and_names() {
        assert_eq!(needed(&Limits { memory: Some(1), memory_swap: Some(2), ..Limits::default() }), MEMORY);
        assert_eq!(controllers(b"rw,cpu,cpuacct,memory", b','), CPU | MEMORY);
        assert_eq!(controllers(b"cpuset cpu io memory hugetlb pids rdma", b' '), CPU | CPUSET | MEMORY | PIDS | HUGETLB);
        assert_eq!(controllers(b"rw,name=systemd", b','), 0);
        assert_eq!(needed(&Limits::default()), 0);
        let l = Limits { memory: Some(1), cpu_share: Some(CpuShare::Weight(5)), ..Limits::default() };
        assert_eq!(needed(&l), MEMORY | CPU);
        assert_eq!(lookup(b"low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n", b"oom_kill"), Some(2));
        assert_eq!(lookup(b"oom_kill_disable 0\nunder_oom 0\noom_kill 1\n", b"oom_kill"), Some(1));
        assert_eq!(lookup(b"oom_kill_disable 0\nunder_oom 0\n", b"oom_kill"), None);
        assert_eq!((field(b"a b  c", b' ', 1), field(b"a b  c", b' ', 3), field(b"a", b' ', 2)), (&b"b"[..], &b"c"[..], &b""[..]));
        assert_eq!(after(b"1:cpu,cpuacct:/a:b", b':', 2), b"/a:b");
        let line = b"36 25 0:31 /sub /sys/fs/cgroup/memory rw,nosuid shared:14 master:1 - cgroup cgroup rw,memory";
        assert_eq!(mount_line(line), (&b"/sub"[..], &b"/sys/fs/cgroup/memory"[..], &b"cgroup"[..], &b"rw,memory"[..]));
        assert_eq!(mount_line(b"30 1 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw"), (&b"/"[..], &b"/sys/fs/cgroup/unified"[..], &b"cgroup2"[..], &b"rw"[..]));
    }

    #[test]
    fn share_conversions_keep_the_ends() {
        assert_eq!(weight(CpuShare::Shares(2)), 1);
        assert_eq!(weight(CpuShare::Shares(262_144)), 10_000);
        assert_eq!(weight(CpuShare::Shares(1024)), 39);
        assert_eq!(shares(CpuShare::Weight(1)), 2);
        assert_eq!(shares(CpuShare::Weight(10_000)), 262_144);
        assert_eq!(shares(CpuShare::Shares(512)), 512);
        assert_eq!(weight(CpuShare::Weight(100)), 100);
    }

    /// A temp dir standing in for a cgroup filesystem; removed on drop.
    struct Tree(PathBuf);

    impl Tree {
        fn new(tag: &str) -> Tree {
            let p = std::env::temp_dir().join(format!("hutch-unit-cgroup-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            Tree(p)
        }
        fn put(&self, rel: &str, text: &str) {
            let p = self.0.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        fn get(&self, rel: &str) -> String {
            fs::read_to_string(self.0.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
        }
        fn hierarchy(&self, dir: &str, v2: bool, has: u8, uses: u8) -> Dir {
            let path = self.0.join(dir).as_os_str().as_encoded_bytes().to_vec().leak();
            Dir { v2, has, uses, path }
        }
        /// Empties the container's cgroup, as the kernel does when its last process exits,
        /// so that dropping the Cgroup can remove it.
        fn empty(&self, rel: &str) {
            for e in fs::read_dir(self.0.join(rel)).unwrap() {
                fs::remove_file(e.unwrap().path()).unwrap();
            }
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn all_limits() -> Limits {
        Limits {
            memory: Some(32 << 20),
            memory_swap: Some(96 << 20),
            pids: Some(20),
            cpu_quota: Some(50_000),
            cpu_share: Some(CpuShare::Shares(1024)),
            cpuset_cpus: Some(c"0-1"),
            ..Limits::default()
        }
    }

    #[test]
    fn v2_enables_controllers_and_writes_limits() {
        let t = Tree::new("v2");
        t.put("parent/cgroup.controllers", "cpuset cpu io memory pids\n");
        let h = t.hierarchy("parent", true, MEMORY | PIDS | CPU | CPUSET, MEMORY | PIDS | CPU | CPUSET);
        let cg = Cgroup::new(&[h], &all_limits(), b"hutch-7").ok().unwrap();
        assert_eq!(t.get("parent/cgroup.subtree_control"), "+memory +pids +cpu +cpuset");
        for (file, value) in [
            ("memory.max", "33554432"),
            ("memory.swap.max", "67108864"),
            ("pids.max", "20"),
            ("cpu.max", "50000 100000"),
            ("cpu.weight", "39"),
            ("cpuset.cpus", "0-1"),
        ] {
            assert_eq!(t.get(&format!("parent/hutch-7/{file}")), value, "{file}");
        }
        assert!(cg.enter(4242).is_ok());
        assert_eq!(t.get("parent/hutch-7/cgroup.procs"), "4242");
        assert!(cg.oom_kill().is_none(), "no memory.events yet");
        t.put("parent/hutch-7/memory.events", "low 0\nhigh 0\nmax 9\noom 1\noom_kill 0\n");
        assert!(cg.oom_kill().is_none());
        t.put("parent/hutch-7/memory.events", "low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n");
        let line = cg.oom_kill().unwrap();
        assert_eq!(line.as_bytes(), b"hutch: container killed: out of memory (limit 32M)\n");
        // The largest unit that divides the limit.
        for (limit, text) in [(3 << 30, "3G"), (5 << 10, "5K"), (1025, "1025"), (3 << 20 | 1 << 10, "3073K"), (1 << 40, "1024G")] {
            let c = core::mem::ManuallyDrop::new(Cgroup { dirs: cg.dirs.clone(), memory: Some(limit) });
            let line = c.oom_kill().unwrap();
            assert_eq!(line.as_bytes(), format!("hutch: container killed: out of memory (limit {text})\n").as_bytes());
        }
        t.empty("parent/hutch-7");
        drop(cg);
        assert!(!Path::new(&t.0.join("parent/hutch-7")).exists(), "not removed");
    }

    #[test]
    fn v2_unlimited_swap_and_plain_cgroup() {
        let t = Tree::new("v2-max");
        let l = Limits { memory: Some(1 << 30), memory_swap: Some(UNLIMITED), cpu_share: Some(CpuShare::Weight(300)), ..Limits::default() };
        let h = t.hierarchy("", true, MEMORY | CPU, MEMORY | CPU);
        let cg = Cgroup::new(&[h], &l, b"c").ok().unwrap();
        assert_eq!(t.get("cgroup.subtree_control"), "+memory +cpu");
        assert_eq!(t.get("c/memory.max"), "1073741824");
        assert_eq!(t.get("c/memory.swap.max"), "max");
        assert_eq!(t.get("c/cpu.weight"), "300");
        t.empty("c");
        drop(cg);
        // --cgroup alone: a cgroup with no controllers, nothing enabled.
        let h = t.hierarchy("", true, MEMORY, 0);
        let cg = Cgroup::new(&[h], &Limits { cgroup: true, ..Limits::default() }, b"d").ok().unwrap();
        assert!(!t.0.join("d").read_dir().unwrap().any(|_| true), "wrote into a plain cgroup");
        drop(cg);
        assert!(!t.0.join("d").exists());
    }

    #[test]
    fn v1_writes_each_hierarchy_and_copies_the_cpuset() {
        let t = Tree::new("v1");
        t.put("cpuset/cpuset.cpus", "0-3\n");
        t.put("cpuset/cpuset.mems", "0\n");
        for f in ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"] {
            t.put(&format!("memory/a/{f}"), "9223372036854771712\n");
        }
        for f in ["cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.shares"] {
            t.put(&format!("cpu/{f}"), "0\n");
        }
        t.put("pids/pids.max", "max\n");
        let hs = [
            t.hierarchy("memory/a", false, MEMORY, MEMORY),
            t.hierarchy("cpu", false, CPU, CPU),
            t.hierarchy("cpuset", false, CPUSET, CPUSET),
            t.hierarchy("pids", false, PIDS, PIDS),
        ];
        let cg = Cgroup::new(&hs, &all_limits(), b"hutch-9").ok().unwrap();
        for (file, value) in [
            ("memory/a/hutch-9/memory.limit_in_bytes", "33554432"),
            ("memory/a/hutch-9/memory.memsw.limit_in_bytes", "100663296"),
            ("cpu/hutch-9/cpu.cfs_period_us", "100000"),
            ("cpu/hutch-9/cpu.cfs_quota_us", "50000"),
            ("cpu/hutch-9/cpu.shares", "1024"),
            ("cpuset/hutch-9/cpuset.cpus", "0-1"),
            ("cpuset/hutch-9/cpuset.mems", "0"),
            ("pids/hutch-9/pids.max", "20"),
        ] {
            assert_eq!(t.get(file), value, "{file}");
        }
        assert!(!t.0.join("memory/a/cgroup.subtree_control").exists(), "v1 has no subtree_control");
        assert!(!t.0.join("cpu/hutch-9/memory.limit_in_bytes").exists(), "a limit in the wrong hierarchy");
        cg.enter(77).ok().unwrap();
        for h in ["memory/a", "cpu", "cpuset", "pids"] {
            assert_eq!(t.get(&format!("{h}/hutch-9/cgroup.procs")), "77");
        }
        t.put("memory/a/hutch-9/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        assert!(cg.oom_kill().is_none());
        t.put("memory/a/hutch-9/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
        assert!(cg.oom_kill().is_some());
        // Before 4.13: no oom_kill count, but the limit was hit.
        t.put("memory/a/hutch-9/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
        t.put("memory/a/hutch-9/memory.failcnt", "0\n");
        assert!(cg.oom_kill().is_none());
        t.put("memory/a/hutch-9/memory.failcnt", "12\n");
        assert!(cg.oom_kill().is_some());
        for h in ["memory/a", "cpu", "cpuset", "pids"] {
            t.empty(&format!("{h}/hutch-9"));
        }
        drop(cg);
        for h in ["memory/a", "cpu", "cpuset", "pids"] {
            assert!(!t.0.join(h).join("hutch-9").exists(), "{h} not removed");
        }
    }

    #[test]
    fn a_missing_v1_file_fails_before_anything_is_made() {
        let t = Tree::new("memsw");
        t.put("pids/.keep", "");
        // Swap accounting off: no memsw files.
        t.put("memory/memory.limit_in_bytes", "9223372036854771712\n");
        let hs = [t.hierarchy("pids", false, PIDS, PIDS), t.hierarchy("memory", false, MEMORY, MEMORY)];
        let l = Limits { memory: Some(1 << 20), memory_swap: Some(2 << 20), pids: Some(3), ..Limits::default() };
        let err = Cgroup::new(&hs, &l, b"z").err().unwrap();
        assert_eq!(err.step, "cgroup controller lacks");
        assert!(err.object.as_bytes().ends_with(b"memory/memory.memsw.limit_in_bytes"));
        assert!(!t.0.join("pids/z").exists() && !t.0.join("memory/z").exists());
        // Without --memory-swap the same host is fine.
        let hs = [t.hierarchy("memory", false, MEMORY, MEMORY)];
        let cg = Cgroup::new(&hs, &Limits { memory: Some(1 << 20), ..Limits::default() }, b"z").ok().unwrap();
        assert_eq!(t.get("memory/z/memory.limit_in_bytes"), "1048576");
        t.empty("memory/z");
        drop(cg);
    }

    #[test]
    fn a_missing_parent_fails_before_anything_is_made() {
        let t = Tree::new("missing");
        t.put("memory/memory.memsw.limit_in_bytes", "0\n");
        let hs = [t.hierarchy("memory", false, MEMORY, MEMORY), t.hierarchy("pids/nope", false, PIDS, PIDS)];
        let err = Cgroup::new(&hs, &all_limits(), b"x").err().unwrap();
        assert_eq!(err.step, "opening cgroup");
        assert!(err.object.as_bytes().ends_with(b"pids/nope"));
        assert!(!t.0.join("memory/x").exists());
    }

    #[test]
    fn a_failed_step_removes_what_was_made() {
        let t = Tree::new("fail");
        t.put("memory/.keep", "");
        t.put("pids/pids.max", "max\n");
        // The parent of a hierarchy with cpuset has no cpuset.cpus to copy: that step fails
        // after both cgroups were made, and both must go again.
        let hs = [t.hierarchy("memory", false, MEMORY, 0), t.hierarchy("pids", false, PIDS | CPUSET, PIDS)];
        let err = Cgroup::new(&hs, &Limits { pids: Some(5), ..Limits::default() }, b"y").err().unwrap();
        assert_eq!(err.step, "reading");
        assert!(err.object.as_bytes().ends_with(b"pids/cpuset.cpus"));
        assert!(!t.0.join("memory/y").exists() && !t.0.join("pids/y").exists(), "left behind");
    }

    #[test]
    fn kept_cgroups_stay_and_are_found_again() {
        let t = Tree::new("keep");
        t.put("v1/freezer.state", "THAWED\n");
        t.put("v2/cgroup.controllers", "\n");
        let hs = [t.hierarchy("v2", true, 0, 0), t.hierarchy("v1/a", false, FREEZER, 0)];
        let l = Limits { oci: true, cgroup_name: Some(c"ctr"), ..Limits::default() };
        let cg = Cgroup::new(&hs, &l, b"ignored").ok().unwrap();
        let dirs = cg.keep();
        let (v2, v1) = (t.0.join("v2/ctr"), t.0.join("v1/a/ctr"));
        assert_eq!(dirs, [v2.as_os_str().as_encoded_bytes(), b":", v1.as_os_str().as_encoded_bytes()].concat());
        assert!(v2.exists() && v1.exists(), "kept cgroups were removed");
        assert!(t.0.join("v1/a").exists(), "a parent was not made");
        t.put("v2/ctr/cgroup.controllers", "");
        t.put("v2/ctr/cgroup.events", "populated 0\nfrozen 0\n");
        t.put("v1/a/ctr/freezer.state", "THAWED\n");
        assert!(!frozen(&dirs));
        // The stand-in kernel reports v2 frozen at once; v1's file reads back what was written.
        t.put("v2/ctr/cgroup.events", "populated 0\nfrozen 1\n");
        freeze(&dirs, true).ok().unwrap();
        assert_eq!((t.get("v2/ctr/cgroup.freeze"), t.get("v1/a/ctr/freezer.state")), ("1".into(), "FROZEN".into()));
        assert!(frozen(&dirs));
        freeze(&dirs, false).ok().unwrap();
        assert_eq!((t.get("v2/ctr/cgroup.freeze"), t.get("v1/a/ctr/freezer.state")), ("0".into(), "THAWED".into()));
        t.empty("v2/ctr");
        t.empty("v1/a/ctr");
        remove(&dirs);
        assert!(!v2.exists() && !v1.exists(), "not removed");
        assert!(t.0.join("v1/a").exists(), "a parent was removed");
        assert!(freeze(b"", true).is_err(), "no freezer");
    }

    #[test]
    fn each_file_has_a_name_on_v1_and_v2() {
        assert_eq!(V1_FILES.split(|&c| c == b' ').count(), FILES.len());
        assert_eq!(V2_FILES.split(|&c| c == b' ').count(), FILES.len());
        assert_eq!(field(V1_FILES, b' ', 5), field(V2_FILES, b' ', 5), "pids.max");
        assert_eq!(field(CONTROLLERS, b' ', FREEZER.trailing_zeros() as usize), b"freezer");
    }

    #[test]
    fn device_rules_as_v1_writes_them() {
        let r = DeviceRule { allow: false, kind: b'c', major: Some(1), minor: Some(3), access: b"rwm" };
        assert_eq!(device_line(&r).as_bytes(), b"c 1:3 rwm");
        assert_eq!(device_line(&device_rule(&[], 0)).as_bytes(), b"c *:* m");
        assert_eq!(device_line(&device_rule(&[], 1)).as_bytes(), b"b *:* m");
        assert_eq!(device_line(&device_rule(&[], 9)).as_bytes(), b"c 10:200 rwm");
        assert_eq!(device_line(&device_rule(&[], 10)).as_bytes(), b"c 136:* rwm");
        assert_eq!(device_rule(&[r], 0), r);
        assert_eq!(device_line(&device_rule(&[r], 3)).as_bytes(), b"c 1:3 rwm");
        let all = DeviceRule { allow: false, kind: b'a', major: None, minor: None, access: b"rwm" };
        assert_eq!(device_line(&all).as_bytes(), b"a *:* rwm");
        let t = Tree::new("devices");
        let rules = [all, DeviceRule { allow: true, kind: b'c', major: Some(1), minor: Some(11), access: b"w" }];
        let l = Limits { devices: Vec::leak(rules.to_vec()), ..Limits::default() };
        let cg = Cgroup::new(&[t.hierarchy("", false, DEVICES, 0)], &l, b"d").ok().unwrap();
        // The stand-in files keep only the last write; the real order is checked end to end.
        assert_eq!(t.get("d/devices.deny"), "a *:* rwm");
        assert_eq!(t.get("d/devices.allow"), "c 136:* rwm");
        t.empty("d");
        drop(cg);
    }

    /// The real kernel's freezers, v2 and (where mounted) v1, on a process that spins.
    #[test]
    fn freezing_stops_a_process() {
        let tag = format!("hutch-unit-freeze-{}", std::process::id());
        let mut dirs = Vec::new();
        for h in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup/freezer", "/sys/fs/cgroup"] {
            let probe = if h.ends_with("freezer") { "freezer.state" } else { "cgroup.freeze" };
            let d = format!("{h}/{tag}");
            if fs::create_dir(&d).is_ok() {
                if Path::new(&format!("{d}/{probe}")).exists() {
                    dirs.push(d);
                } else {
                    fs::remove_dir(&d).unwrap();
                }
            }
        }
        assert!(!dirs.is_empty(), "no freezer on this host");
        let mut spin = std::process::Command::new("/bin/sh").args(["-c", "while :; do :; done"]).spawn().unwrap();
        for d in &dirs {
            fs::write(format!("{d}/cgroup.procs"), spin.id().to_string()).unwrap();
        }
        let joined = dirs.join(":");
        let cpu = || {
            let stat = fs::read_to_string(format!("/proc/{}/stat", spin.id())).unwrap();
            let f: Vec<u64> = stat.rsplit(") ").next().unwrap().split(' ').skip(11).take(2).map(|v| v.parse().unwrap()).collect();
            f[0] + f[1]
        };
        let spent = |ms| {
            let before = cpu();
            std::thread::sleep(std::time::Duration::from_millis(ms));
            cpu() - before
        };
        let result = std::panic::catch_unwind(|| {
            freeze(joined.as_bytes(), true).ok().unwrap();
            assert!(frozen(joined.as_bytes()));
            assert_eq!(spent(300), 0, "a frozen process ran");
            freeze(joined.as_bytes(), false).ok().unwrap();
            assert!(!frozen(joined.as_bytes()));
            assert!(spent(300) > 0, "a thawed process did not run");
        });
        let _ = freeze(joined.as_bytes(), false);
        let _ = spin.kill();
        let _ = spin.wait();
        remove(joined.as_bytes());
        assert!(dirs.iter().all(|d| !Path::new(d).exists()), "left behind");
        result.unwrap();
    }

    /// The v2 device program on the real kernel: a cgroup2 hierarchy's cgroup with it, and a
    /// shell moved in that then opens devices.
    #[test]
    fn the_v2_device_filter_enforces_rules_in_order() {
        let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
        let v2 = info.lines().find(|l| l.contains(" - cgroup2 ")).map(|l| l.split(' ').nth(4).unwrap().to_string());
        let v2 = v2.expect("no cgroup2 mount on this host");
        let kmsg = |rules: &[DeviceRule]| {
            let path = v2.as_bytes().to_vec().leak();
            let l = Limits { devices: Vec::leak(rules.to_vec()), ..Limits::default() };
            let name = format!("hutch-unit-devices-{}", std::process::id());
            let cg = Cgroup::new(&[Dir { v2: true, has: 0, uses: 0, path }], &l, name.as_bytes());
            let cg = cg.unwrap_or_else(|e| {
                e.print();
                panic!("creating the cgroup")
            });
            let mut sh = std::process::Command::new("/bin/sh")
                .args(["-c", "read x; (: > /dev/kmsg) 2>/dev/null && echo kmsg; (: > /dev/null) && echo null; true"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            fs::write(format!("{v2}/{name}/cgroup.procs"), sh.id().to_string()).unwrap();
            std::io::Write::write_all(sh.stdin.as_mut().unwrap(), b"\n").unwrap();
            let out = sh.wait_with_output().unwrap();
            drop(cg);
            assert!(!Path::new(&format!("{v2}/{name}")).exists(), "left behind");
            String::from_utf8(out.stdout).unwrap()
        };
        let rule = |allow, kind, major, minor, access| DeviceRule { allow, kind, major, minor, access };
        let deny_all = rule(false, b'a', None, None, &b"rwm"[..]);
        assert_eq!(kmsg(&[deny_all]), "null\n", "denied all, the defaults allow null");
        assert_eq!(kmsg(&[deny_all, rule(true, b'c', Some(1), Some(11), b"w")]), "kmsg\nnull\n");
        assert_eq!(kmsg(&[deny_all, rule(true, b'c', Some(1), Some(11), b"r")]), "null\n", "w asked, r allowed");
        assert_eq!(kmsg(&[deny_all, rule(true, b'b', Some(1), Some(11), b"rwm")]), "null\n", "a block device of that number");
        assert_eq!(kmsg(&[rule(false, b'c', Some(1), None, b"w")]), "null\n", "1:* denied, null allowed again by the defaults");
        assert_eq!(kmsg(&[rule(false, b'c', Some(1), Some(11), b"rw")]), "null\n");
        assert_eq!(kmsg(&[rule(false, b'c', Some(1), Some(12), b"rwm")]), "kmsg\nnull\n", "only the rules' devices are denied");
    }

    #[test]
    fn device_programs_are_assembled_right() {
        let p = device_filter(&[]);
        // The prologue, one block of two tests per default rule with numbers, the default.
        assert_eq!(p[0], 0x0000_0000_0000_1261, "r2 = *(u32 *)(r1 + 0)");
        assert_eq!(p[4], 0x0000_0000_0004_1461, "r4 = *(u32 *)(r1 + 4)");
        assert_eq!(p[p.len() - 2..], [0x0000_0001_0000_00b7, 0x95]);
        // c 136:* rwm, the last default, is tested first: type, major, then allow.
        assert_eq!(p[6..10], [insn(0x55, 2, 0, 3, 2), insn(0x55, 4, 0, 2, 136), insn(0xb7, 0, 0, 0, 1), 0x95]);
        // c *:* m, the first, is tested last: type, then the access asked for within mknod's.
        let c_mknod = [insn(0x55, 2, 0, 5, 2), insn(0xbf, 1, 3, 0, 0), insn(0x57, 1, 0, 0, !1), insn(0x55, 1, 0, 2, 0), insn(0xb7, 0, 0, 0, 1), 0x95];
        assert_eq!(p[p.len() - 8..p.len() - 2], c_mknod);
        // A deny of everything: no test at all.
        let all = DeviceRule { allow: false, kind: b'a', major: None, minor: None, access: b"rwm" };
        let q = device_filter(&[all, all]);
        assert_eq!(q[q.len() - 2..], [insn(0xb7, 0, 0, 0, 0), 0x95], "no default after it");
        assert_eq!(q.len(), p.len(), "nor the rule before it");
    }

    #[test]
    fn oci_parents_are_made_and_given_the_controllers_on_the_way_down() {
        let t = Tree::new("parents");
        t.put("r/cgroup.controllers", "memory pids\n");
        // An existing parent that does not offer memory, and a missing one below it.
        t.put("r/a/cgroup.controllers", "pids\n");
        let l = Limits { memory: Some(1 << 20), oci: true, ..Limits::default() };
        let cg = Cgroup::new(&[t.hierarchy("r/a/b", true, MEMORY | PIDS, MEMORY)], &l, b"c").ok().unwrap();
        for dir in ["r", "r/a", "r/a/b"] {
            assert_eq!(t.get(&format!("{dir}/cgroup.subtree_control")), "+memory", "{dir}");
        }
        assert_eq!(t.get("r/a/b/c/memory.max"), "1048576");
        let dirs = cg.keep();
        t.empty("r/a/b/c");
        remove(&dirs);
        assert!(!t.0.join("r/a/b/c").exists() && t.0.join("r/a/b").exists(), "the container's cgroup goes, its parents stay");
        // Without OCI, a missing parent is an error, before anything is made.
        let l = Limits { memory: Some(1 << 20), ..Limits::default() };
        let err = Cgroup::new(&[t.hierarchy("r/x/y", true, MEMORY, MEMORY)], &l, b"c").err().unwrap();
        assert_eq!(err.step, "opening cgroup");
        assert!(!t.0.join("r/x").exists());
    }
}
