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

use crate::buf::Buf;
use crate::config::{parse_num, CpuShare, Limits, CPU_PERIOD, UNLIMITED};
use crate::error::{Context, Error, Result};
use crate::sys::{self, pid_t, Errno};
use crate::userns;

/// The controllers hutch uses, as bits.
const MEMORY: u8 = 1;
const PIDS: u8 = 2;
const CPU: u8 = 4;
const CPUSET: u8 = 8;
const CONTROLLERS: [(&[u8], u8); 4] = [(b"memory", MEMORY), (b"pids", PIDS), (b"cpu", CPU), (b"cpuset", CPUSET)];

/// The kernel makes a cgroup's control files itself; the unit tests' stand-in directories
/// need them made, and a write replaces the value as it does in a cgroup.
const CREATE: i32 = if cfg!(test) { libc::O_CREAT | libc::O_TRUNC } else { 0 };

/// rmdir attempts, 1 ms apart, while the last processes of a cgroup finish exiting.
const RMDIR_TRIES: u32 = 2000;

/// Room left in a parent's path for `/NAME/FILE`.
const PATH_ROOM: usize = 64;

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
}

/// A control file: its controller, its names on v1 and v2 (empty: none there), its value,
/// and whether a kernel with the controller may lack it (swap accounting, CFS bandwidth).
struct File(u8, &'static [u8], &'static [u8], Value, bool);

/// The files that set limits, in the order they must be written: v1 wants
/// memory.limit_in_bytes before memsw, which may not go below it, and the period before the
/// quota.
const FILES: [File; 7] = [
    File(MEMORY, b"memory.limit_in_bytes", b"memory.max", Value::Memory, false),
    File(MEMORY, b"memory.memsw.limit_in_bytes", b"memory.swap.max", Value::Swap, true),
    File(PIDS, b"pids.max", b"pids.max", Value::Pids, false),
    File(CPU, b"cpu.cfs_period_us", b"", Value::Period, true),
    File(CPU, b"cpu.cfs_quota_us", b"cpu.max", Value::Quota, true),
    File(CPU, b"cpu.shares", b"cpu.weight", Value::Share, false),
    File(CPUSET, b"cpuset.cpus", b"cpuset.cpus", Value::Cpus, false),
];

/// What `l` sets a file to on v2 or v1; `None` when it leaves the file alone.
fn value(l: &Limits, value: Value, v2: bool) -> Option<Buf<128>> {
    let mut b = Buf::new();
    match value {
        Value::Memory => b.num(l.memory?),
        // --memory-swap counts memory plus swap, as v1's memsw does; v2 limits swap alone.
        Value::Swap => match (l.memory_swap?, v2) {
            (UNLIMITED, true) => b.push(b"max"),
            (UNLIMITED, false) => b.push(b"-1"),
            (total, true) => b.num(total - l.memory?),
            (total, false) => b.num(total),
        },
        Value::Pids => b.num(l.pids?),
        Value::Period => b.num(l.cpu_quota.and(Some(CPU_PERIOD))?),
        Value::Quota if v2 => b.num(l.cpu_quota?).push(b" ").num(CPU_PERIOD),
        Value::Quota => b.num(l.cpu_quota?),
        Value::Share if v2 => b.num(weight(l.cpu_share?)),
        Value::Share => b.num(shares(l.cpu_share?)),
        Value::Cpus => b.push(l.cpuset_cpus?.to_bytes()),
    };
    Some(b)
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

/// The controllers `l` needs (`--memory-swap` comes only with `--memory`).
fn needed(l: &Limits) -> u8 {
    FILES.iter().filter(|f| value(l, f.3, false).is_some()).fold(0, |mask, f| mask | f.0)
}

/// What follows the `n`th `sep` of `line` (empty when there are fewer).
fn after(line: &[u8], sep: u8, n: usize) -> &[u8] {
    let mut rest = line;
    for _ in 0..n {
        rest = rest.iter().position(|&c| c == sep).map_or(&b""[..], |i| &rest[i + 1..]);
    }
    rest
}

/// The `n`th (from 0) `sep`-separated field of `line`.
fn field(line: &[u8], sep: u8, n: usize) -> &[u8] {
    let rest = after(line, sep, n);
    &rest[..rest.iter().position(|&c| c == sep).unwrap_or(rest.len())]
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
    let bit = |name: &[u8]| CONTROLLERS.iter().find(|c| c.0 == name).map_or(0, |c| c.1);
    list.split(|&c| c == sep || c == b'\n').fold(0, |mask, name| mask | bit(name))
}

/// The container's cgroup in one hierarchy: a directory named after the container in the
/// parent cgroup.
struct Dir {
    v2: bool,
    /// v1: the controllers bound to the hierarchy; v2: those the parent offers.
    has: u8,
    /// The controllers the container's limits use in it.
    uses: u8,
    /// Whether hutch made the cgroup (and so must remove it).
    made: bool,
    /// The parent cgroup's directory.
    path: Buf<256>,
}

impl Dir {
    /// `PARENT/file`, or with a `name`, `PARENT/NAME/file` (`PARENT/NAME` for an empty file).
    fn at(&self, name: &[u8], file: &[u8]) -> Buf<256> {
        let mut p = self.path;
        if !name.is_empty() {
            p.push(b"/").push(name);
        }
        if !file.is_empty() {
            p.push(b"/").push(file);
        }
        p
    }

    fn put(&self, name: &[u8], file: &[u8], value: &[u8], step: &'static str) -> Result<()> {
        let mut p = self.at(name, file);
        sys::write_file_at(libc::AT_FDCWD, p.cstr(), value, CREATE).at(step, p.as_bytes())
    }

    fn get(&self, name: &[u8], file: &[u8]) -> sys::Result<Vec<u8>> {
        sys::read_file(self.at(name, file).cstr())
    }
}

/// The hierarchy a mountinfo line mounts, if it is cgroup2 or a cgroup v1 one with a
/// controller hutch uses, with the parent for the container's cgroup: the cgroup
/// `self_cgroup` (/proc/self/cgroup) puts hutch in, or `parent` (`--cgroup-parent`) absolute
/// from the hierarchy's root or relative to hutch's cgroup. v2's controllers are left to read.
fn hierarchy(line: &[u8], self_cgroup: &[u8], parent: Option<&[u8]>) -> Option<Dir> {
    // ID PARENT-ID MAJOR:MINOR ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS
    let (root, mnt) = (field(line, b' ', 3), field(line, b' ', 4));
    let mut dash = 6;
    while !matches!(field(line, b' ', dash), b"-" | b"") {
        dash += 1;
    }
    let (v2, has) = match field(line, b' ', dash + 1) {
        b"cgroup2" => (true, 0),
        b"cgroup" => (false, controllers(field(line, b' ', dash + 3), b',')),
        _ => return None,
    };
    // ID:CONTROLLERS:PATH; v2's is 0::PATH.
    let ours = |l: &&[u8]| match v2 {
        true => field(l, b':', 0) == b"0" && field(l, b':', 1).is_empty(),
        false => has != 0 && controllers(field(l, b':', 1), b',') == has,
    };
    let mut own = lines(self_cgroup).find(ours).map(|l| after(l, b':', 2))?;
    // A mount of a subtree (ROOT other than /) shows that subtree at MOUNT-POINT.
    if root != b"/" && own.starts_with(root) && own.get(root.len()).is_none_or(|&c| c == b'/') {
        own = &own[root.len()..];
    }
    let own = own.strip_suffix(b"/").unwrap_or(own);
    let mut path = Buf::new();
    match parent {
        Some(p) if p.starts_with(b"/") => path.push(mnt).push(p),
        Some(p) => path.push(mnt).push(own).push(b"/").push(p),
        None => path.push(mnt).push(own),
    };
    Some(Dir { v2, has, uses: 0, made: false, path })
}

/// The hierarchies for `need` (controller bits) in `mountinfo`: v2 takes every controller
/// its parent offers (`v2_controllers` reads them), v1 hierarchies what is left. With no
/// controller (`--cgroup` alone), the v2 hierarchy, or without one every v1 hierarchy.
fn hierarchies(
    mountinfo: &[u8],
    self_cgroup: &[u8],
    parent: Option<&[u8]>,
    need: u8,
    v2_controllers: impl Fn(&Dir) -> sys::Result<Vec<u8>>,
) -> Result<Vec<Dir>> {
    let mut dirs: Vec<Dir> = Vec::new();
    let mut left = need;
    // Why a v2 parent offers nothing, for the error when a controller is found nowhere.
    let mut v2_error = None;
    for v2 in [true, false] {
        for mut d in lines(mountinfo).filter_map(|l| hierarchy(l, self_cgroup, parent)).filter(|d| d.v2 == v2) {
            if v2 {
                match v2_controllers(&d) {
                    Ok(text) => d.has = controllers(&text, b' '),
                    Err(e) => v2_error = Some(Error::sys("reading", d.at(b"", b"cgroup.controllers").as_bytes(), e)),
                }
            }
            d.uses = d.has & left;
            left &= !d.uses;
            // A hierarchy seen twice (mounted twice) is not taken twice.
            let plain = need == 0 && !dirs.iter().any(|x| x.v2 || x.has & d.has != 0);
            if d.uses != 0 || plain {
                if d.path.as_bytes().len() > 256 - PATH_ROOM {
                    return Err(Error::sys("cgroup parent", d.path.as_bytes(), Errno(libc::ENAMETOOLONG)));
                }
                dirs.push(d);
            }
        }
    }
    if let Some(&(name, _)) = CONTROLLERS.iter().find(|c| left & c.1 != 0) {
        return Err(v2_error.unwrap_or(Error::msg("cgroup controller not available", name, "not offered by the parent on v2, nor mounted on v1")));
    }
    if dirs.is_empty() {
        return Err(Error::msg("cgroup", b"/proc/self/mountinfo", "no cgroup filesystem is mounted"));
    }
    Ok(dirs)
}

/// The container's cgroups. Dropping it kills what is left in them and removes them.
pub struct Cgroup {
    dirs: Vec<Dir>,
    name: Buf<32>,
    memory: Option<u64>,
}

/// Makes the container's cgroups for `l`, named `name`, and applies the limits. On error,
/// whatever was made is removed again.
pub fn create(l: &Limits, name: &[u8]) -> Result<Cgroup> {
    let read = |path: &CStr| sys::read_file(path).at("reading", path.to_bytes());
    let (mountinfo, own) = (read(c"/proc/self/mountinfo")?, read(c"/proc/self/cgroup")?);
    let parent = l.cgroup_parent.map(CStr::to_bytes);
    let dirs = hierarchies(&mountinfo, &own, parent, needed(l), |d| d.get(b"", b"cgroup.controllers"))?;
    Cgroup::new(dirs, l, name)
}

impl Cgroup {
    fn new(dirs: Vec<Dir>, l: &Limits, name: &[u8]) -> Result<Cgroup> {
        let mut cg = Cgroup { dirs, name: *Buf::new().push(name), memory: l.memory };
        let name = cg.name;
        let name = name.as_bytes();
        // All that can be checked is, before anything is made.
        for d in &cg.dirs {
            let mut path = d.path;
            if !sys::exists(path.cstr()) {
                return Err(Error::sys("opening cgroup", path.as_bytes(), Errno(libc::ENOENT)));
            }
            userns::check_rootless_limits(true, path.cstr())?;
            // On v1 these files are in every cgroup, the root too, when the kernel has them.
            for f in FILES.iter().filter(|f| f.4 && !d.v2 && d.uses & f.0 != 0 && value(l, f.3, false).is_some()) {
                if !sys::exists(d.at(b"", f.1).cstr()) {
                    return Err(Error::msg("cgroup controller lacks", d.at(b"", f.1).as_bytes(), "this kernel has no such control file"));
                }
            }
        }
        for d in cg.dirs.iter().filter(|d| d.v2 && d.uses != 0) {
            enable(d)?;
        }
        for d in &mut cg.dirs {
            let mut path = d.at(name, b"");
            sys::mkdirat(libc::AT_FDCWD, path.cstr(), 0o755).at("creating cgroup", path.as_bytes())?;
            d.made = true;
            if !d.v2 && d.has & CPUSET != 0 {
                // A v1 cpuset starts with no CPUs and no memory nodes, and takes no task
                // until it has both: start from the parent's.
                for file in [&b"cpuset.cpus"[..], b"cpuset.mems"] {
                    let v = d.get(b"", file).at("reading", d.at(b"", file).as_bytes())?;
                    d.put(name, file, v.strip_suffix(b"\n").unwrap_or(&v), "setting cgroup limit")?;
                }
            }
            for f in FILES.iter().filter(|f| d.uses & f.0 != 0) {
                let file = if d.v2 { f.2 } else { f.1 };
                if let (false, Some(v)) = (file.is_empty(), value(l, f.3, d.v2)) {
                    d.put(name, file, v.as_bytes(), "setting cgroup limit")?;
                }
            }
        }
        Ok(cg)
    }

    /// Moves process `pid` into the container's cgroups.
    pub fn enter(&self, pid: pid_t) -> Result<()> {
        let pid = *Buf::<32>::new().num(pid as u64);
        self.dirs.iter().try_for_each(|d| d.put(self.name.as_bytes(), b"cgroup.procs", pid.as_bytes(), "joining cgroup"))
    }

    /// The line to print when the kernel's OOM killer killed a process of the container:
    /// memory.events on v2, memory.oom_control on v1 (since 4.13), else v1's count of hitting
    /// the limit.
    pub fn oom_kill(&self) -> Option<Buf<128>> {
        let (d, limit) = (self.dirs.iter().find(|d| d.uses & MEMORY != 0)?, self.memory?);
        let read = |file: &[u8]| d.get(self.name.as_bytes(), file).unwrap_or_default();
        let kills = match d.v2 {
            true => lookup(&read(b"memory.events"), b"oom_kill"),
            false => lookup(&read(b"memory.oom_control"), b"oom_kill").or_else(|| parse_num(field(&read(b"memory.failcnt"), b'\n', 0))),
        };
        if kills? == 0 {
            return None;
        }
        let units: [(u32, &[u8]); 4] = [(30, b"G"), (20, b"M"), (10, b"K"), (0, b"")];
        let (shift, unit) = units.into_iter().find(|u| limit % (1 << u.0) == 0)?;
        let mut line = Buf::new();
        line.push(b"hutch: container killed: out of memory (limit ").num(limit >> shift).push(unit).push(b")\n");
        Some(line)
    }

    /// SIGKILLs every process in the cgroup: v2's cgroup.kill (5.14) does it at once, even
    /// against racing forks; elsewhere each pid cgroup.procs lists is killed, and the caller
    /// retries until none is left. The caller runs this only once the container's init has
    /// been reaped, and so the kernel has killed its PID namespace: what is still listed is
    /// exiting, or escaped the namespace but not the cgroup.
    fn kill_all(&self, d: &Dir) {
        let name = self.name.as_bytes();
        if d.v2 && d.put(name, b"cgroup.kill", b"1", "").is_ok() {
            return;
        }
        for pid in lines(&d.get(name, b"cgroup.procs").unwrap_or_default()).filter_map(parse_num) {
            if (1..=i32::MAX as u64).contains(&pid) {
                let _ = sys::kill(pid as pid_t, libc::SIGKILL);
            }
        }
    }

    /// Removes the cgroup in one hierarchy. rmdir fails with EBUSY while processes are in it,
    /// so they are killed and rmdir retried while they finish exiting.
    fn remove(&self, d: &Dir) {
        let mut path = d.at(self.name.as_bytes(), b"");
        let mut left = Errno(libc::EBUSY);
        for _ in 0..RMDIR_TRIES {
            match sys::unlinkat(libc::AT_FDCWD, path.cstr(), libc::AT_REMOVEDIR) {
                Ok(()) | Err(Errno(libc::ENOENT)) => return,
                Err(Errno(libc::EBUSY)) => self.kill_all(d),
                Err(e) => {
                    left = e;
                    break;
                }
            }
            sys::sleep_ms(1);
        }
        Error::sys("removing cgroup", path.as_bytes(), left).print();
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        for d in self.dirs.iter().filter(|d| d.made) {
            self.remove(d);
        }
    }
}

/// Enables the controllers the container uses in the parent's cgroup.subtree_control.
fn enable(d: &Dir) -> Result<()> {
    let mut list = Buf::<64>::new();
    for (name, _) in CONTROLLERS.iter().filter(|c| d.uses & c.1 != 0) {
        list.push(b"+").push(name).push(b" ");
    }
    let list = list.as_bytes();
    match d.put(b"", b"cgroup.subtree_control", &list[..list.len() - 1], "enabling cgroup controllers") {
        // cgroup-v2.rst, "No Internal Process Constraint".
        Err(e) if e.errno() == Some(libc::EBUSY) => Err(Error::msg(
            "enabling cgroup controllers",
            d.path.as_bytes(),
            "this cgroup has processes of its own; name an empty one with --cgroup-parent",
        )),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::{format, fs, string::String, vec, vec::Vec};

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
        hs.iter().map(|h| (h.v2, h.uses, h.path.as_bytes())).collect()
    }

    const ALL: u8 = MEMORY | PIDS | CPU | CPUSET;

    /// `hierarchies` with a v2 parent offering `offers`.
    fn find(mountinfo: &[u8], own: &[u8], parent: Option<&[u8]>, need: u8, offers: &'static [u8]) -> Result<Vec<Dir>> {
        hierarchies(mountinfo, own, parent, need, |_| Ok(offers.to_vec()))
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
        assert_eq!(hs[0].path.as_bytes(), b"/sys/fs/cgroup/memory/process_api/abc/box");
        assert_eq!(hs[1].path.as_bytes(), b"/sys/fs/cgroup/pids/box");
        let hs = find(HYBRID_MOUNTINFO, HYBRID_CGROUP, Some(b"/top/box"), MEMORY, b"").ok().unwrap();
        assert_eq!(hs[0].path.as_bytes(), b"/sys/fs/cgroup/memory/top/box");
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
        assert_eq!(hs[0].path.as_bytes(), b"/sys/fs/cgroup/inner");
    }

    #[test]
    fn a_controller_found_nowhere_is_an_error() {
        let no_cpuset: Vec<u8> = HYBRID_MOUNTINFO.split(|&c| c == b'\n').filter(|l| !l.ends_with(b",cpuset")).collect::<Vec<_>>().join(&b'\n');
        let err = find(&no_cpuset, HYBRID_CGROUP, None, CPUSET | PIDS, b"").err().unwrap();
        assert_eq!((err.step, err.object.as_bytes()), ("cgroup controller not available", &b"cpuset"[..]));
        // When the v2 parent could not be read, that is the likelier cause.
        let err = hierarchies(&no_cpuset, HYBRID_CGROUP, Some(b"/nope"), CPUSET, |_| Err(Errno(libc::ENOENT))).err().unwrap();
        assert_eq!((err.step, err.object.as_bytes()), ("reading", &b"/sys/fs/cgroup/unified/nope/cgroup.controllers"[..]));
    }

    #[test]
    fn cgroup_alone_takes_v2_or_every_v1_hierarchy() {
        let hs = find(HYBRID_MOUNTINFO, HYBRID_CGROUP, None, 0, b"").ok().unwrap();
        assert_eq!(dirs(&hs), [(true, 0, &b"/sys/fs/cgroup/unified/user.slice"[..])]);
        let v1 = HYBRID_MOUNTINFO.split(|&c| c == b'\n').filter(|l| !l.windows(7).any(|w| w == b"cgroup2")).collect::<Vec<_>>().join(&b'\n');
        let twice = [&v1[..], b"\n", &v1[..]].concat();
        let hs = find(&twice, HYBRID_CGROUP, None, 0, b"").ok().unwrap();
        assert_eq!(hs.iter().map(|h| h.has).collect::<Vec<_>>(), [CPU, CPUSET, MEMORY, PIDS], "each v1 hierarchy once");
        let err = find(b"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n", b"", None, 0, b"").err().unwrap();
        assert_eq!(err.step, "cgroup");
    }

    #[test]
    fn needs_and_names() {
        assert_eq!(needed(&Limits { memory: Some(1), memory_swap: Some(2), ..Limits::default() }), MEMORY);
        assert_eq!(controllers(b"rw,cpu,cpuacct,memory", b','), CPU | MEMORY);
        assert_eq!(controllers(b"cpuset cpu io memory hugetlb pids rdma", b' '), CPU | CPUSET | MEMORY | PIDS);
        assert_eq!(controllers(b"rw,name=systemd", b','), 0);
        assert_eq!(needed(&Limits::default()), 0);
        let l = Limits { memory: Some(1), cpu_share: Some(CpuShare::Weight(5)), ..Limits::default() };
        assert_eq!(needed(&l), MEMORY | CPU);
        assert_eq!(lookup(b"low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n", b"oom_kill"), Some(2));
        assert_eq!(lookup(b"oom_kill_disable 0\nunder_oom 0\noom_kill 1\n", b"oom_kill"), Some(1));
        assert_eq!(lookup(b"oom_kill_disable 0\nunder_oom 0\n", b"oom_kill"), None);
        assert_eq!((field(b"a b  c", b' ', 1), field(b"a b  c", b' ', 3), field(b"a", b' ', 2)), (&b"b"[..], &b"c"[..], &b""[..]));
        assert_eq!(after(b"1:cpu,cpuacct:/a:b", b':', 2), b"/a:b");
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
            let mut path = Buf::new();
            path.push(self.0.join(dir).as_os_str().as_encoded_bytes());
            Dir { v2, has, uses, made: false, path }
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
        let cg = Cgroup::new(vec![h], &all_limits(), b"hutch-7").ok().unwrap();
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
        t.empty("parent/hutch-7");
        drop(cg);
        assert!(!Path::new(&t.0.join("parent/hutch-7")).exists(), "not removed");
    }

    #[test]
    fn v2_unlimited_swap_and_plain_cgroup() {
        let t = Tree::new("v2-max");
        let l = Limits { memory: Some(1 << 30), memory_swap: Some(UNLIMITED), cpu_share: Some(CpuShare::Weight(300)), ..Limits::default() };
        let h = t.hierarchy("", true, MEMORY | CPU, MEMORY | CPU);
        let cg = Cgroup::new(vec![h], &l, b"c").ok().unwrap();
        assert_eq!(t.get("cgroup.subtree_control"), "+memory +cpu");
        assert_eq!(t.get("c/memory.max"), "1073741824");
        assert_eq!(t.get("c/memory.swap.max"), "max");
        assert_eq!(t.get("c/cpu.weight"), "300");
        t.empty("c");
        drop(cg);
        // --cgroup alone: a cgroup with no controllers, nothing enabled.
        let h = t.hierarchy("", true, MEMORY, 0);
        let cg = Cgroup::new(vec![h], &Limits { cgroup: true, ..Limits::default() }, b"d").ok().unwrap();
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
        let cg = Cgroup::new(hs.into(), &all_limits(), b"hutch-9").ok().unwrap();
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
        let err = Cgroup::new(hs.into(), &l, b"z").err().unwrap();
        assert_eq!(err.step, "cgroup controller lacks");
        assert!(err.object.as_bytes().ends_with(b"memory/memory.memsw.limit_in_bytes"));
        assert!(!t.0.join("pids/z").exists() && !t.0.join("memory/z").exists());
        // Without --memory-swap the same host is fine.
        let hs = [t.hierarchy("memory", false, MEMORY, MEMORY)];
        let cg = Cgroup::new(hs.into(), &Limits { memory: Some(1 << 20), ..Limits::default() }, b"z").ok().unwrap();
        assert_eq!(t.get("memory/z/memory.limit_in_bytes"), "1048576");
        t.empty("memory/z");
        drop(cg);
    }

    #[test]
    fn a_missing_parent_fails_before_anything_is_made() {
        let t = Tree::new("missing");
        t.put("memory/memory.memsw.limit_in_bytes", "0\n");
        let hs = [t.hierarchy("memory", false, MEMORY, MEMORY), t.hierarchy("pids/nope", false, PIDS, PIDS)];
        let err = Cgroup::new(hs.into(), &all_limits(), b"x").err().unwrap();
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
        let err = Cgroup::new(hs.into(), &Limits { pids: Some(5), ..Limits::default() }, b"y").err().unwrap();
        assert_eq!(err.step, "reading");
        assert!(err.object.as_bytes().ends_with(b"pids/cpuset.cpus"));
        assert!(!t.0.join("memory/y").exists() && !t.0.join("pids/y").exists(), "left behind");
    }
}
