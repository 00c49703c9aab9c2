//! What a container is to be, as decided by the command line, and the pure parsers for the
//! values options take (volume specs, tmpfs options, sizes, hostnames, resource limits).
//! Nothing here touches the system, so all of it is unit-tested on the host.
use alloc::vec::Vec;
use core::ffi::{c_int, CStr};

use crate::msg::{m, Msg};
use crate::{caps, userns};
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    /// A new network namespace holding only `lo`, brought up.
    Private,
    /// The host's network namespace.
    Host,
}

/// A bind mount of a host path into the container (`-v SRC:DST[:ro]`).
#[derive(Debug, PartialEq, Eq)]
pub struct Volume {
    pub src: &'static CStr,
    pub dst: &'static CStr,
    pub read_only: bool,
}

/// A tmpfs inside the container (`--tmpfs DST[:OPTS]`).
#[derive(Debug, PartialEq, Eq)]
pub struct Tmpfs {
    pub dst: &'static CStr,
    /// mount(2) flags (MS_RDONLY, MS_NOSUID, ...).
    pub flags: u64,
    /// tmpfs's own options, e.g. `mode=1777,size=1048576`.
    pub data: &'static CStr,
}

/// Where an environment entry comes from, in command-line order (later entries win).
#[derive(Debug, PartialEq, Eq)]
pub enum EnvArg {
    /// `-e KEY=VAL`, or `-e KEY` to copy the host's value.
    Var(&'static CStr),
    /// `--env-file FILE`.
    File(&'static CStr),
}

/// A resource limit (`--ulimit NAME=SOFT[:HARD]`), see setrlimit(2).
#[derive(Debug, PartialEq, Eq)]
pub struct Rlimit {
    pub resource: i32,
    pub soft: u64,
    pub hard: u64,
}

/// The seccomp filter the command runs under (`--seccomp`); see seccomp.rs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seccomp {
    /// hutch's own filter: what Docker's default profile refuses a container.
    Default,
    /// No filter: `--seccomp unconfined`, and what `--privileged` should imply.
    Unconfined,
    /// A program: `--seccomp FILE`'s bytes, an array of `struct sock_filter` in native byte
    /// order, read and size-checked while the command line is parsed, or compiled from an OCI
    /// profile (that file in JSON, or config.json's `linux.seccomp`, named by `path`), with
    /// its SECCOMP_FILTER_FLAG_ `flags`.
    File { path: &'static CStr, program: &'static [u8], flags: u32 },
}

/// `--memory-swap -1`: no limit on swap.
pub const UNLIMITED: u64 = u64::MAX;

/// The CFS bandwidth period `--cpus` uses, in microseconds (the kernel's default, 100 ms).
pub const CPU_PERIOD: u64 = 100_000;

/// A relative CPU share: cgroup v2's weight (1..10000) or v1's shares (2..262144); the cgroup
/// code converts one into the other where needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuShare {
    Weight(u64),
    Shares(u64),
}

/// Resource limits. All `None` (and no `--cgroup`) means no cgroup at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// `--memory`, in bytes.
    pub memory: Option<u64>,
    /// `--memory-swap`: memory plus swap in bytes, as docker counts it; [`UNLIMITED`] for -1.
    pub memory_swap: Option<u64>,
    /// `--pids`: most tasks (processes and threads) at once.
    pub pids: Option<u64>,
    /// `--cpus`: CPU time in microseconds per [`CPU_PERIOD`].
    pub cpu_quota: Option<u64>,
    /// `--cpu-weight` or `--cpu-shares`, the later one winning.
    pub cpu_share: Option<CpuShare>,
    /// `--cpuset-cpus`: a CPU list such as `0-3,6`.
    pub cpuset_cpus: Option<&'static CStr>,
    /// `--cgroup-parent`: absolute from each hierarchy's root, or relative to hutch's own cgroup.
    pub cgroup_parent: Option<&'static CStr>,
    /// `--cgroup`: a cgroup even without limits.
    pub cgroup: bool,
    // What only config.json sets (oci/spec.rs); [`UNLIMITED`] stands for its -1.
    /// A soft limit in bytes: v1's memory.soft_limit_in_bytes, v2's memory.low.
    pub memory_reservation: Option<u64>,
    /// 0 to 100 (v1 only).
    pub swappiness: Option<u64>,
    /// Processes wait for memory instead of being OOM-killed (v1 only).
    pub oom_kill_disable: bool,
    /// The CFS period in microseconds; [`CPU_PERIOD`] when unset.
    pub cpu_period: Option<u64>,
    /// Real-time scheduling budget per period, microseconds (v1 only).
    pub cpu_rt_period: Option<u64>,
    pub cpu_rt_runtime: Option<u64>,
    /// Memory nodes, in the list format of `cpuset_cpus`.
    pub cpuset_mems: Option<&'static CStr>,
    /// (page size as the kernel names it, e.g. `2MB`; bytes) for hugetlb.SIZE.limit_in_bytes or .max.
    pub hugetlb: &'static [(&'static CStr, u64)],
    /// The device rules, in order (the runtime's defaults are appended; see cgroup.rs).
    pub devices: &'static [DeviceRule],
    /// The container's cgroup's own name (the last component of linux.cgroupsPath), in
    /// place of the one the caller gives.
    pub cgroup_name: Option<&'static CStr>,
    /// An OCI container's cgroup: in every hierarchy hutch knows, with missing parents made.
    pub oci: bool,
}

/// A device cgroup rule (runtime-spec config-linux.md, "Allowed Device Cgroup").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceRule {
    pub allow: bool,
    /// `a` (all), `c` or `b`.
    pub kind: u8,
    /// `None`: any.
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// Some of `rwm`.
    pub access: &'static [u8],
}

impl Limits {
    /// Whether the container gets a cgroup.
    pub fn wanted(&self) -> bool {
        let Limits { memory, memory_swap, pids, cpu_quota, cpu_share, cpuset_cpus, cgroup_parent, cgroup, oci, .. } = *self;
        cgroup
            || oci
            || memory.is_some()
            || memory_swap.is_some()
            || pids.is_some()
            || cpu_quota.is_some()
            || cpu_share.is_some()
            || cpuset_cpus.is_some()
            || cgroup_parent.is_some()
    }
}

#[derive(Debug)]
pub struct RunConfig {
    pub rootfs: &'static CStr,
    /// The command and its arguments (at least one entry).
    pub command: Vec<&'static CStr>,
    pub hostname: &'static CStr,
    pub net: Net,
    pub env: Vec<EnvArg>,
    pub workdir: &'static CStr,
    pub volumes: Vec<Volume>,
    pub tmpfs: Vec<Tmpfs>,
    pub read_only: bool,
    pub overlay: bool,
    pub no_pivot: bool,
    pub caps: caps::Changes,
    /// Every capability, no seccomp filter, no masked or read-only /proc and /sys paths.
    pub privileged: bool,
    /// Set no_new_privs (off with `--new-privs`): setuid binaries cannot gain privileges.
    pub no_new_privs: bool,
    /// `-u USER[:GROUP]`, resolved inside the container.
    pub user: Option<&'static CStr>,
    pub rlimits: Vec<Rlimit>,
    pub seccomp: Seccomp,
    /// `--userns`, `--uidmap`, `--gidmap`.
    pub userns: userns::Config,
    pub limits: Limits,
    /// `--init`: hutch's own PID 1 runs the command as PID 2 (see init.rs).
    pub init: bool,
    /// `--name`: a container with a state entry (see state.rs).
    pub name: Option<&'static CStr>,
    /// `-d`: run in the background under a supervisor (see lifecycle.rs).
    pub detach: bool,
    /// `-t`: a new terminal for the container's stdio (see tty.rs).
    pub tty: bool,
    /// What only an OCI bundle's config.json sets (oci/spec.rs); `None` for `hutch run`.
    pub oci: Option<Oci>,
}

/// A config.json `mounts` entry: mount(2)'s arguments, already decoded. A bind has MS_BIND
/// in `flags` and is remounted with them when they ask for more than the bind.
#[derive(Debug, PartialEq, Eq)]
pub struct Mount {
    pub dst: &'static CStr,
    /// A host path for a bind (absolute: a relative source is taken from the bundle).
    pub src: &'static CStr,
    pub fstype: &'static CStr,
    pub flags: u64,
    /// MS_SHARED, MS_SLAVE, MS_PRIVATE or MS_UNBINDABLE, with MS_REC for the r- forms; 0: none.
    pub propagation: u64,
    /// The options mount(2) does not take as flags (`mode=755,size=65536k`).
    pub data: &'static CStr,
}

/// A `linux.devices` entry: a node made with mknod(2) inside the container.
#[derive(Debug, PartialEq, Eq)]
pub struct Device {
    pub path: &'static CStr,
    /// S_IFCHR, S_IFBLK or S_IFIFO, with the permission bits.
    pub mode: u32,
    pub dev: u64,
    pub uid: u32,
    pub gid: u32,
}

/// The setup a config.json describes beyond what `hutch run`'s options do. Where a field
/// replaces one of hutch's built-in choices (mounts, masked paths, capabilities,
/// namespaces), the bundle's list wins whole, as the runtime-spec says.
#[derive(Debug, Default)]
pub struct Oci {
    /// `mounts`, in order, instead of hutch's default mounts.
    pub mounts: Vec<Mount>,
    pub masked: Vec<&'static CStr>,
    pub read_only: Vec<&'static CStr>,
    /// Bounding, effective, permitted, inheritable and ambient sets.
    pub caps: caps::Sets,
    /// `process.user`: uid, gid and the additional gids, numeric (no name lookup).
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub umask: Option<u32>,
    /// Namespaces to create (clone flags; a time namespace is unshared by the child).
    pub new_ns: c_int,
    /// Namespaces to join: (type, path).
    pub join_ns: Vec<(c_int, &'static CStr)>,
    /// No mount namespace, new or joined: the container's mounts are made in the caller's
    /// (as runc does), where `delete` removes them.
    pub host_mounts: bool,
    /// /proc files to write, (path, text), in the container's namespaces before its mounts:
    /// linux.sysctl, domainname (its UTS namespace's), oomScoreAdj and timeOffsets.
    pub proc_writes: Vec<(&'static CStr, &'static CStr)>,
    /// linux.rootfsPropagation as mount flags; 0 for none.
    pub propagation: u64,
    pub personality: Option<u32>,
    pub devices: Vec<Device>,
    /// process.consoleSize: (height, width); 0 where not given.
    pub console_size: (u16, u16),
    /// What to warn about fields hutch ignores: `FIELD[: WHAT]: why`, reported by `create`.
    pub warnings: Vec<&'static CStr>,
}

impl RunConfig {
    /// Not inlined: `run`, `exec` and config.json each start from it, and one copy is smaller.
    #[inline(never)]
    pub fn new(rootfs: &'static CStr) -> RunConfig {
        RunConfig {
            rootfs,
            command: Vec::new(),
            hostname: c"hutch",
            net: Net::Private,
            env: Vec::new(),
            workdir: c"/",
            volumes: Vec::new(),
            tmpfs: Vec::new(),
            read_only: false,
            overlay: false,
            no_pivot: false,
            caps: caps::Changes::default(),
            privileged: false,
            no_new_privs: true,
            user: None,
            rlimits: Vec::new(),
            seccomp: Seccomp::Default,
            userns: userns::Config::default(),
            limits: Limits::default(),
            init: false,
            name: None,
            detach: false,
            tty: false,
            oci: None,
        }
    }
}

/// Whether `s` holds byte `c`. A plain scan: `[u8]::contains` brings a word-at-a-time
/// memchr (200 bytes of code).
pub fn has(s: &[u8], c: u8) -> bool {
    s.iter().any(|&b| b == c)
}

/// A C string that lives as long as the process (configuration is built once per run).
pub fn leak(bytes: &[u8]) -> &'static CStr {
    // A NUL inside: not a C string.
    if has(bytes, 0) {
        return c"";
    }
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.extend_from_slice(bytes);
    v.push(0);
    crate::sys::until_nul(v.leak())
}

/// What follows the `n`th `sep` of `line` (empty when there are fewer).
pub fn after(line: &[u8], sep: u8, n: usize) -> &[u8] {
    let mut rest = line;
    for _ in 0..n {
        rest = rest.iter().position(|&c| c == sep).map_or(&b""[..], |i| &rest[i + 1..]);
    }
    rest
}

/// The `n`th (from 0) `sep`-separated field of `line` (empty past its end): passwd and
/// group lines, mountinfo, /proc/PID/cgroup, cgroup control files.
pub fn field(line: &[u8], sep: u8, n: usize) -> &[u8] {
    let rest = after(line, sep, n);
    &rest[..rest.iter().position(|&c| c == sep).unwrap_or(rest.len())]
}

/// The index of `s` among the space-separated `words`: one loop for the small name tables.
#[inline(never)]
pub fn word_index(words: &[u8], s: &[u8]) -> Option<usize> {
    words.split(|&c| c == b' ').position(|w| w == s)
}

/// RFC 1123 host names: at most 64 bytes (HOST_NAME_MAX), dot-separated labels of letters,
/// digits and '-', none empty, none starting or ending with '-'. What is wrong with `b`, if
/// anything.
pub fn hostname_fault(b: &[u8]) -> Option<Msg> {
    if b.is_empty() || b.len() > 64 {
        return Some(m!("must be 1 to 64 characters"));
    }
    for label in b.split(|&c| c == b'.') {
        if label.is_empty() || label[0] == b'-' || label[label.len() - 1] == b'-' {
            return Some(m!("labels must be non-empty and not start or end with '-'"));
        }
        if !label.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-') {
            return Some(m!("only letters, digits, '-' and '.' are allowed"));
        }
    }
    None
}

/// What an option's value is, or what is wrong with it (the caller names option and value).
pub type Why<T> = core::result::Result<T, Msg>;

/// `SRC:DST[:ro|:rw]`; DST must be absolute.
pub fn parse_volume(b: &[u8]) -> Why<Volume> {
    let mut parts = b.split(|&c| c == b':');
    let (src, dst, mode) = (parts.next().unwrap_or_default(), parts.next(), parts.next());
    let (Some(dst), None, false) = (dst, parts.next(), src.is_empty()) else {
        return Err(m!("expected SRC:DST[:ro|rw]"));
    };
    if dst.first() != Some(&b'/') {
        return Err(m!("the container path must be absolute"));
    }
    let read_only = match mode.map(|m| word_index(b"rw ro", m)) {
        None => false,
        Some(Some(i)) => i == 1,
        Some(None) => return Err(m!("mode must be ro or rw")),
    };
    Ok(Volume { src: leak(src), dst: leak(dst), read_only })
}

/// `DST[:OPTS]`, OPTS a comma-separated list of size=N, mode=OCTAL, ro, nosuid, nodev, noexec.
/// Without options the tmpfs is like /tmp: mode 1777, nosuid, nodev.
pub fn parse_tmpfs(spec: &CStr) -> Result<Tmpfs> {
    let b = spec.to_bytes();
    let (dst, opts) = match b.iter().position(|&c| c == b':') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b""[..]),
    };
    if dst.first() != Some(&b'/') {
        return Err(Error::msg(m!("invalid tmpfs"), b, m!("the container path must be absolute")));
    }
    let mut flags = libc::MS_NOSUID | libc::MS_NODEV;
    let mut mode: &[u8] = b"1777";
    let mut size = None;
    for opt in opts.split(|&c| c == b',').filter(|o| !o.is_empty()) {
        let flag = word_index(b"ro nosuid nodev noexec rw exec", opt);
        // What is wrong with `opt`, if anything: one error line for them all.
        let why: Msg = match flag {
            // The last two clear what the first and fourth set.
            Some(i @ 0..=3) => {
                flags |= TMPFS_FLAGS[i];
                continue;
            }
            Some(i) => {
                flags &= !TMPFS_FLAGS[(i - 4) * 3];
                continue;
            }
            _ if opt.starts_with(b"size=") => match parse_size(&opt[5..]) {
                Some(n) => {
                    size = Some(n);
                    continue;
                }
                None => m!("size must be a positive number with an optional k, m or g suffix"),
            },
            _ if opt.starts_with(b"mode=") => {
                let m = &opt[5..];
                if !m.is_empty() && m.len() <= 4 && m.iter().all(|c| (b'0'..=b'7').contains(c)) {
                    mode = m;
                    continue;
                }
                m!("mode must be octal, e.g. 1777")
            }
            _ => m!("known options are size=, mode=, ro, rw, nosuid, nodev, noexec, exec"),
        };
        return Err(Error::msg(m!("invalid tmpfs option"), opt, why));
    }
    let mut data = crate::buf::Buf::<64>::new();
    data.push(b"mode=").push(mode);
    if let Some(n) = size {
        data.push(b",size=").num(n);
    }
    Ok(Tmpfs { dst: leak(dst), flags, data: leak(data.as_bytes()) })
}

const TMPFS_FLAGS: [u64; 4] = [libc::MS_RDONLY, libc::MS_NOSUID, libc::MS_NODEV, libc::MS_NOEXEC];

/// The limits `--ulimit` knows, by the names ulimit(1) and docker use, and their numbers.
const RLIMIT_NAMES: &[u8] = b"as core cpu data fsize locks memlock msgqueue nice nofile nproc rss rtprio rttime sigpending stack";
const RLIMIT_NUMS: [u8; 16] = [
    libc::RLIMIT_AS as u8,
    libc::RLIMIT_CORE as u8,
    libc::RLIMIT_CPU as u8,
    libc::RLIMIT_DATA as u8,
    libc::RLIMIT_FSIZE as u8,
    libc::RLIMIT_LOCKS as u8,
    libc::RLIMIT_MEMLOCK as u8,
    libc::RLIMIT_MSGQUEUE as u8,
    libc::RLIMIT_NICE as u8,
    libc::RLIMIT_NOFILE as u8,
    libc::RLIMIT_NPROC as u8,
    libc::RLIMIT_RSS as u8,
    libc::RLIMIT_RTPRIO as u8,
    libc::RLIMIT_RTTIME as u8,
    libc::RLIMIT_SIGPENDING as u8,
    libc::RLIMIT_STACK as u8,
];

fn rlimit(name: &[u8]) -> Option<i32> {
    word_index(RLIMIT_NAMES, name).map(|i| RLIMIT_NUMS[i] as i32)
}

/// A resource limit's number from its name (`nofile`, or `NOFILE` as config.json has it after
/// `RLIMIT_`).
pub fn rlimit_resource(name: &[u8]) -> Option<i32> {
    let mut lower = [0u8; 16];
    let n = name.len();
    if n > lower.len() {
        return None;
    }
    for (l, c) in lower.iter_mut().zip(name) {
        *l = c.to_ascii_lowercase();
    }
    rlimit(&lower[..n])
}

/// `NAME=SOFT[:HARD]`; a value is a number, or `unlimited`/`-1`; HARD defaults to SOFT.
pub fn parse_ulimit(b: &[u8]) -> Why<Rlimit> {
    let Some(eq) = b.iter().position(|&c| c == b'=') else { return Err(m!("expected NAME=SOFT[:HARD]")) };
    let Some(resource) = rlimit(&b[..eq]) else {
        return Err(m!("unknown name (as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)"));
    };
    let value = |v: &[u8]| match word_index(b"unlimited -1", v) {
        Some(_) => Some(u64::MAX),
        None => parse_num(v),
    };
    let vals = &b[eq + 1..];
    let (soft, hard) = match vals.iter().position(|&c| c == b':') {
        Some(i) => (value(&vals[..i]), value(&vals[i + 1..])),
        None => (value(vals), value(vals)),
    };
    match (soft, hard) {
        (Some(s), Some(h)) if s <= h => Ok(Rlimit { resource, soft: s, hard: h }),
        (Some(_), Some(_)) => Err(m!("the soft limit is above the hard limit")),
        _ => Err(m!("values must be numbers or unlimited")),
    }
}

/// A byte count with an optional k/m/g suffix (powers of 1024, any case, optional trailing
/// 'b'); `None` for zero, overflow, or anything else.
pub fn parse_size(s: &[u8]) -> Option<u64> {
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (num, unit) = s.split_at(digits);
    // The unit's letter ("" is b), then nothing or, after k, m or g, a b.
    let (letter, rest) = unit.split_first().map_or((b'b', &b""[..]), |(c, r)| (c.to_ascii_lowercase(), r));
    if !rest.is_empty() && (letter == b'b' || !matches!(rest, b"b" | b"B")) {
        return None;
    }
    let shift = b"bkmg".iter().position(|&c| c == letter)? * 10;
    match parse_num(num)?.checked_mul(1 << shift) {
        Some(0) | None => None,
        v => v,
    }
}

/// A decimal number of at most 19 digits (so it fits in a u64), nothing else.
pub fn parse_num(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, c| n * 10 + (c - b'0') as u64))
}

/// The options that set a [`Limits`] field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitOpt {
    Memory,
    MemorySwap,
    Pids,
    Cpus,
    CpuWeight,
    CpuShares,
    CpusetCpus,
    CgroupParent,
}

/// For each [`LimitOpt`]: the error's step and what the value should be.
pub const LIMIT_ERRORS: [(Msg, Msg); 8] = [
    (m!("invalid --memory"), m!("expected a size, e.g. 512m")),
    (m!("invalid --memory-swap"), m!("expected a size, e.g. 512m, or -1")),
    (m!("invalid --pids"), m!("expected 1 to 4194304")),
    (m!("invalid --cpus"), m!("expected 0.01 or more, e.g. 0.5")),
    (m!("invalid --cpu-weight"), m!("expected 1 to 10000")),
    (m!("invalid --cpu-shares"), m!("expected 2 to 262144")),
    (m!("invalid --cpuset-cpus"), m!("expected CPU numbers and ranges, e.g. 0-3,6")),
    (m!("invalid --cgroup-parent"), m!("expected a path without . or .. components")),
];

/// Sets the field of `l` that `opt` names from its value `v`; false when `v` is not valid
/// ([`LIMIT_ERRORS`] says why).
pub fn parse_limit(l: &mut Limits, opt: LimitOpt, v: &'static CStr) -> bool {
    let b = v.to_bytes();
    let ranged = |lo: u64, hi: u64| parse_num(b).filter(|n| (lo..=hi).contains(n));
    let n = match opt {
        LimitOpt::MemorySwap if b == b"-1" => Some(UNLIMITED),
        LimitOpt::Memory | LimitOpt::MemorySwap => parse_size(b),
        // The kernel's pids.max takes up to PID_MAX_LIMIT, 4M on 64-bit machines.
        LimitOpt::Pids => ranged(1, 1 << 22),
        LimitOpt::Cpus => parse_cpus(b),
        LimitOpt::CpuWeight => ranged(1, 10_000),
        LimitOpt::CpuShares => ranged(2, 262_144),
        LimitOpt::CpusetCpus => cpuset_ok(b).then_some(0),
        // Without . or .. components, a parent stays inside the cgroup filesystem.
        LimitOpt::CgroupParent => {
            (!b.is_empty() && b.len() <= 200 && !b.split(|&c| c == b'/').any(|c| c == b"." || c == b"..")).then_some(0)
        }
    };
    let Some(n) = n else { return false };
    match opt {
        LimitOpt::Memory => l.memory = Some(n),
        LimitOpt::MemorySwap => l.memory_swap = Some(n),
        LimitOpt::Pids => l.pids = Some(n),
        LimitOpt::Cpus => l.cpu_quota = Some(n),
        LimitOpt::CpuWeight => l.cpu_share = Some(CpuShare::Weight(n)),
        LimitOpt::CpuShares => l.cpu_share = Some(CpuShare::Shares(n)),
        LimitOpt::CpusetCpus => l.cpuset_cpus = Some(v),
        LimitOpt::CgroupParent => l.cgroup_parent = Some(v),
    }
    true
}

/// `--memory-swap` as docker has it: it needs a memory limit and counts memory plus swap,
/// so it cannot be below the memory limit.
pub fn check_limits(l: &Limits) -> Result<()> {
    match (l.memory_swap, l.memory) {
        (Some(swap), m) if swap < m.unwrap_or(u64::MAX) => {
            Err(Error::msg(m!("invalid --memory-swap"), b"", m!("counts memory plus swap: needs --memory, and at least as much")))
        }
        _ => Ok(()),
    }
}

/// `--cpus 1.5`: the CFS quota in microseconds per [`CPU_PERIOD`]. Digits past the fifth
/// decimal are below the kernel's microsecond resolution and dropped; the kernel's smallest
/// quota is 1 ms, so at least 0.01.
#[inline(never)] // smaller out of line (measured)
fn parse_cpus(b: &[u8]) -> Option<u64> {
    // All the digits as one number, `frac` of them after the point (later ones dropped).
    let (mut q, mut frac, mut int_digits) = (0u64, None, 0);
    for &c in b {
        match (c, frac) {
            (b'.', None) => frac = Some(0),
            (b'0'..=b'9', Some(5..)) => {}
            (b'0'..=b'9', f) => {
                q = q.checked_mul(10)?.checked_add((c - b'0') as u64)?;
                int_digits += f.is_none() as usize;
                frac = f.map(|k| k + 1);
            }
            _ => return None,
        }
    }
    if int_digits > 19 || (int_digits == 0 && frac.unwrap_or(0) == 0) {
        return None;
    }
    // In 1/100000 CPUs: microseconds per CPU_PERIOD.
    q.checked_mul(10u64.pow(5 - frac.unwrap_or(0))).filter(|&q| q >= 1000)
}

/// `--cpuset-cpus`: the kernel's list format, comma-separated CPU numbers and ranges `N-M`
/// with N <= M (cpusets(7)), short enough for one write.
pub fn cpuset_ok(b: &[u8]) -> bool {
    let item_ok = |item: &[u8]| {
        let (lo, hi) = match item.iter().position(|&c| c == b'-') {
            Some(i) => (&item[..i], &item[i + 1..]),
            None => (item, item),
        };
        matches!((parse_num(lo), parse_num(hi)), (Some(lo), Some(hi)) if lo <= hi && hi < 1 << 16)
    };
    !b.is_empty() && b.len() <= 100 && b.split(|&c| c == b',').all(item_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size(b"4096"), Some(4096));
        assert_eq!(parse_size(b"64k"), Some(65536));
        assert_eq!(parse_size(b"32M"), Some(32 << 20));
        assert_eq!(parse_size(b"1g"), Some(1 << 30));
        assert_eq!(parse_size(b"2gb"), Some(2 << 30));
        assert_eq!((parse_size(b"7b"), parse_size(b"7B"), parse_size(b"3KB"), parse_size(b"3mB")), (Some(7), Some(7), Some(3 << 10), Some(3 << 20)));
        for bad in [&b""[..], b"0", b"k", b"12x", b"-1", b"1.5m", b"99999999999999999999", b"17179869184g", b"1bb", b"1kbb", b"1kx", b"1xb"] {
            assert_eq!(parse_size(bad), None, "{:?}", core::str::from_utf8(bad));
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_num(b"0"), Some(0));
        assert_eq!(parse_num(b"9999999999999999999"), Some(9999999999999999999));
        for bad in [&b""[..], b"-1", b"+1", b"1 ", b"1.0", b"99999999999999999999"] {
            assert_eq!(parse_num(bad), None, "{:?}", core::str::from_utf8(bad));
        }
    }

    fn limit(opt: LimitOpt, v: &'static CStr) -> Option<Limits> {
        let mut l = Limits::default();
        parse_limit(&mut l, opt, v).then_some(l)
    }

    #[test]
    fn limit_values() {
        assert_eq!(limit(LimitOpt::CpuShares, c"2").unwrap().cpu_share, Some(CpuShare::Shares(2)));
        assert_eq!(limit(LimitOpt::CpuShares, c"262144").unwrap().cpu_share, Some(CpuShare::Shares(262144)));
        assert_eq!(limit(LimitOpt::CpuWeight, c"10000").unwrap().cpu_share, Some(CpuShare::Weight(10000)));
        assert_eq!(limit(LimitOpt::Pids, c"4194304").unwrap().pids, Some(4194304));
        assert_eq!(limit(LimitOpt::MemorySwap, c"-1").unwrap().memory_swap, Some(UNLIMITED));
        assert_eq!(limit(LimitOpt::Memory, c"32m").unwrap().memory, Some(32 << 20));
        let bad = [
            (LimitOpt::CpuShares, c"1"),
            (LimitOpt::CpuShares, c"262145"),
            (LimitOpt::CpuWeight, c"0"),
            (LimitOpt::Pids, c"0"),
            (LimitOpt::Pids, c"ten"),
            (LimitOpt::Memory, c"-1"),
            (LimitOpt::MemorySwap, c"-2"),
        ];
        for (opt, v) in bad {
            assert!(limit(opt, v).is_none(), "{v:?}");
        }
    }

    #[test]
    fn cpus() {
        assert_eq!(parse_cpus(b"0.5"), Some(50_000));
        assert_eq!(parse_cpus(b"1"), Some(100_000));
        assert_eq!(parse_cpus(b"1.5"), Some(150_000));
        assert_eq!(parse_cpus(b".25"), Some(25_000));
        assert_eq!(parse_cpus(b"2."), Some(200_000));
        assert_eq!(parse_cpus(b"0.01"), Some(1_000));
        assert_eq!(parse_cpus(b"0.3333339"), Some(33_333), "digits past microseconds are dropped");
        assert_eq!(parse_cpus(b"0000000000000000001"), Some(100_000), "19 digits");
        assert_eq!(parse_cpus(b"1.0000000000000000000000001"), Some(100_000));
        for bad in ["", ".", "0", "0.0", "0.009", "-1", "1,5", "1.5x", "x", "1e3", "1.2.3", "99999999999999999", ".000000", "00000000000000000001", "1.123456x", "1.."] {
            assert_eq!(parse_cpus(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn cpusets() {
        for ok in ["0", "0-3", "0,2,4-7", "1-1", "65535"] {
            assert!(cpuset_ok(ok.as_bytes()), "{ok:?}");
        }
        for bad in ["", "a", "3-1", "0,", ",0", "0-", "-1", "0 1", "1-2-3", "65536"] {
            assert!(!cpuset_ok(bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn cgroup_parents() {
        for ok in [c"/hutch", c"box", c"a/b", c"/a/b/"] {
            assert!(limit(LimitOpt::CgroupParent, ok).is_some(), "{ok:?}");
        }
        for bad in [c"", c"..", c"/a/../b", c"./a", c"a/."] {
            assert!(limit(LimitOpt::CgroupParent, bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn swap_needs_memory_and_counts_it() {
        let mut l = Limits { memory_swap: Some(64 << 20), ..Limits::default() };
        assert!(check_limits(&l).is_err(), "swap without memory");
        l.memory = Some(128 << 20);
        assert!(check_limits(&l).is_err(), "swap below memory");
        l.memory = Some(64 << 20);
        assert!(check_limits(&l).is_ok());
        l.memory_swap = Some(UNLIMITED);
        assert!(check_limits(&l).is_ok());
        assert!(check_limits(&Limits::default()).is_ok());
    }

    #[test]
    fn any_limit_wants_a_cgroup() {
        assert!(!Limits::default().wanted());
        assert!(Limits { pids: Some(1), ..Limits::default() }.wanted());
        assert!(Limits { cgroup: true, ..Limits::default() }.wanted());
        assert!(Limits { cpuset_cpus: Some(c"0"), ..Limits::default() }.wanted());
    }

    #[test]
    fn hostnames() {
        for ok in [c"hutch", c"a", c"web-1.example.com", c"0"] {
            assert_eq!(hostname_fault(ok.to_bytes()), None);
        }
        let long = leak(&[b'a'; 65]);
        for bad in [c"", c"-a", c"a-", c"a..b", c".a", c"a_b", c"a b", c"é", long] {
            assert!(hostname_fault(bad.to_bytes()).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn leaked_c_strings() {
        assert_eq!((leak(b"abc"), leak(b""), leak(b"a\0b")), (c"abc", c"", c""), "a NUL inside reads as empty");
    }

    #[test]
    fn volumes() {
        let v = parse_volume(b"/src:/dst").ok().unwrap();
        assert_eq!((v.src, v.dst, v.read_only), (c"/src", c"/dst", false));
        let v = parse_volume(b"rel/dir:/data:ro").ok().unwrap();
        assert_eq!((v.src, v.dst, v.read_only), (c"rel/dir", c"/data", true));
        assert!(!parse_volume(b"/a:/b:rw").ok().unwrap().read_only);
        for bad in [&b""[..], b"/a", b":/b", b"/a:", b"/a:b", b"/a:/b:rx", b"/a:/b:ro:x"] {
            assert!(parse_volume(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ulimits() {
        let r = parse_ulimit(b"nofile=64").ok().unwrap();
        assert_eq!(r, Rlimit { resource: libc::RLIMIT_NOFILE as i32, soft: 64, hard: 64 });
        let r = parse_ulimit(b"core=0:unlimited").ok().unwrap();
        assert_eq!((r.soft, r.hard), (0, u64::MAX));
        assert_eq!(parse_ulimit(b"stack=-1").ok().map(|r| r.soft), Some(u64::MAX));
        assert_eq!((rlimit_resource(b"NOFILE"), rlimit_resource(b"Stack")), (Some(libc::RLIMIT_NOFILE as i32), Some(libc::RLIMIT_STACK as i32)));
        assert_eq!(rlimit_resource(b"AS"), Some(libc::RLIMIT_AS as i32));
        for bad in [&b""[..], b"bogus", b"no file", b"nofilenofilenofilenofilenofilenofilenofile"] {
            assert_eq!(rlimit_resource(bad), None);
        }
        assert!(parse_ulimit(b"NOFILE=1").err().is_some_and(|why| why.str().starts_with("unknown name")), "names are lower case");
        for bad in [&b"nofile"[..], b"nofile=", b"bogus=1", b"nofile=10:5", b"nofile=1x", b"nofile=1:2:3", b"=5"] {
            assert!(parse_ulimit(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tmpfs() {
        let t = parse_tmpfs(c"/tmp").ok().unwrap();
        assert_eq!(t.dst, c"/tmp");
        assert_eq!(t.data, c"mode=1777");
        assert_eq!(t.flags, libc::MS_NOSUID | libc::MS_NODEV);
        let t = parse_tmpfs(c"/run:size=1m,mode=755,ro,noexec").ok().unwrap();
        assert_eq!(t.data, c"mode=755,size=1048576");
        assert_eq!(t.flags, libc::MS_NOSUID | libc::MS_NODEV | libc::MS_RDONLY | libc::MS_NOEXEC);
        for bad in [c"tmp", c"/t:size=0", c"/t:size=1x", c"/t:mode=9", c"/t:mode=17777", c"/t:uid=0"] {
            assert!(parse_tmpfs(bad).is_err(), "{bad:?}");
        }
        let e = parse_tmpfs(c"tmp:ro").err().unwrap();
        assert_eq!((e.step.str(), e.object.as_bytes()), ("invalid tmpfs", &b"tmp:ro"[..]));
        for (spec, opt) in [(c"/t:ro,size=1x", &b"size=1x"[..]), (c"/t:mode=9", b"mode=9"), (c"/t:uid=0,ro", b"uid=0")] {
            let e = parse_tmpfs(spec).err().unwrap();
            assert_eq!((e.step.str(), e.object.as_bytes()), ("invalid tmpfs option", opt), "{spec:?}");
        }
    }
}
