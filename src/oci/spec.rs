//! config.json (runtime-spec 1.0 to 1.2) into a [`Spec`]: the `RunConfig` the setup path
//! applies, plus what only the OCI verbs use (hooks, annotations). Pure: nothing here touches
//! the system but reading the file, so the mapping is unit-tested on the host. Unknown fields
//! are ignored, as the spec asks; a known field with a bad value is an error naming its path
//! (the first one met: see json::Reader).
use alloc::vec::Vec;
use core::ffi::CStr;

use crate::msg::{m, Msg};
use crate::buf::Buf;
use core::ffi::c_int;

use crate::caps;
use crate::config::{self, cpuset_ok, leak, CpuShare, Device, DeviceRule, Limits, Mount, Net, Oci, Rlimit, RunConfig, Seccomp, UNLIMITED};
use crate::error::Result;
use crate::json::{self, Node, Value};
use crate::userns::{self, IdMap};

/// What config.json errors start with.
const STEP: Msg = m!("invalid config");

/// A hook: a host program the runtime runs at a point of the lifecycle, with the state JSON
/// on its stdin (runtime-spec config.md, "POSIX-platform Hooks").
#[derive(Debug, Default)]
pub struct Hook {
    pub path: &'static CStr,
    /// argv, including argv[0]; `[path]` when the config has none.
    pub args: Vec<&'static CStr>,
    pub env: Vec<&'static CStr>,
    /// Seconds; `None` waits for ever.
    pub timeout: Option<u32>,
}

#[derive(Debug, Default)]
pub struct Hooks {
    pub prestart: Vec<Hook>,
    pub create_runtime: Vec<Hook>,
    pub create_container: Vec<Hook>,
    pub start_container: Vec<Hook>,
    pub poststart: Vec<Hook>,
    pub poststop: Vec<Hook>,
}

#[derive(Debug)]
pub struct Spec {
    pub run: RunConfig,
    /// process.env, exactly: an OCI container gets no variables the config does not list.
    pub env: Vec<&'static CStr>,
    pub hooks: Hooks,
    pub annotations: Vec<(&'static CStr, &'static CStr)>,
}

/// The mapping itself, from the file's bytes. Leaked, as the text it points into is: it lives
/// until hutch exits or the container execs, and no drop code is made for it.
pub fn parse(text: &'static [u8], bundle: &[u8]) -> Result<&'static mut Spec> {
    let doc = json::parse(text, b"config.json")?;
    let spec = alloc::boxed::Box::leak(alloc::boxed::Box::new(Spec {
        run: RunConfig::new(c""),
        env: Vec::new(),
        hooks: Hooks::default(),
        annotations: Vec::new(),
    }));
    json::read(&doc, STEP, &mut |root| read(root, bundle, spec))?;
    Ok(spec)
}

/// `exec --process FILE`: the file is a config's `process` alone.
pub fn process_file(doc: &Value, run: &mut RunConfig, env: &mut Vec<&'static CStr>) -> Result<()> {
    json::read(doc, m!("invalid process"), &mut |p| process(p, run, env))
}

fn read(root: Node, bundle: &[u8], spec: &mut Spec) {
    let version = root.require(m!("ociVersion"));
    // Within a major version the spec only adds fields, and unknown fields are ignored: 1.3
    // configs (runtime-tools writes them) start like 1.2 ones, as with runc and crun.
    if !version.str().starts_with(b"1.") {
        version.fail(m!("unsupported version: expected 1.x"));
    }
    let root_node = root.require(m!("root"));
    let run = &mut spec.run;
    run.rootfs = in_bundle(root_node.require(m!("path")), bundle);
    // The runtime-spec's defaults, not hutch run's: only what the config asks for.
    run.hostname = c"";
    run.no_new_privs = false;
    run.seccomp = Seccomp::Unconfined;
    flag(root_node, m!("readonly"), &mut run.read_only);
    if let Some(p) = root.get(m!("process")) {
        process(p, run, &mut spec.env);
    }
    let linux = root.get(m!("linux"));
    if let Some(linux) = linux {
        namespaces(linux, run);
    }
    let Some(oci) = oci(&mut run.oci) else { return };
    // A uts namespace joined by path is the container's too: the names are set there, as runc does.
    let new_uts = oci.new_ns & libc::CLONE_NEWUTS != 0 || oci.join_ns.iter().any(|j| j.0 == libc::CLONE_NEWUTS);
    if let Some(h) = root.get(m!("hostname")) {
        run.hostname = h.cstr();
        if !new_uts && !run.hostname.is_empty() {
            h.fail(m!("needs a new uts namespace"));
        }
    }
    if let Some(d) = root.get(m!("domainname")) {
        oci.proc_writes.push((c"/proc/sys/kernel/domainname", d.cstr()));
        if !new_uts {
            d.fail(m!("needs a new uts namespace"));
        }
    }
    root.each_of(m!("mounts"), &mut |m| oci.mounts.push(mount(m, bundle)));
    if let Some(linux) = linux {
        linux_setup(linux, oci);
        if let Some(s) = linux.get(m!("seccomp")) {
            run.seccomp = crate::seccomp::from_oci(s);
        }
        linux_cgroups_and_ids(linux, run);
    }
    if let Some(hooks) = root.get(m!("hooks")) {
        let h = &mut spec.hooks;
        let lists = [&mut h.prestart, &mut h.create_runtime, &mut h.create_container, &mut h.start_container, &mut h.poststart, &mut h.poststop];
        for (i, list) in lists.into_iter().enumerate() {
            let name = [m!("prestart"), m!("createRuntime"), m!("createContainer"), m!("startContainer"), m!("poststart"), m!("poststop")][i];
            hooks.each_of(name, &mut |n| list.push(hook(n)));
        }
    }
    root.each_member_of(m!("annotations"), &mut |k, v| spec.annotations.push((leak(k), v.cstr())));
    // hutch's container setup is Linux's: without this section there would be none.
    if linux.is_none() {
        root.fail_at(Some(b"linux"), m!("required"));
    }
}

/// `run.oci` (`o`), made on first use; always `Some`. The `None` it replaces is forgotten rather
/// than dropped, so that no drop code for an `Oci` is made (get_or_insert_with has some).
fn oci(o: &mut Option<Oci>) -> Option<&mut Oci> {
    if o.is_none() {
        core::mem::forget(o.replace(Oci::default()));
    }
    o.as_mut()
}

/// The member `key` of `n`'s member `section`, or of `n` itself when `section` is empty; None
/// where either is absent.
#[inline(never)]
fn member<'v, 'a>(n: Node<'v, 'a>, section: Msg, key: Msg) -> Option<Node<'v, 'a>> {
    match section {
        s if s == m!("") => n,
        s => n.get(s)?,
    }
    .get(key)
}

/// The array of strings `key` of `n`, if present, onto `list`.
#[inline(never)]
fn strings(n: Node, key: Msg, list: &mut Vec<&'static CStr>) {
    n.each_of(key, &mut |s| list.push(s.cstr()))
}

/// The boolean `key` of `n`, if present, into `out`.
#[inline(never)]
fn flag(n: Node, key: Msg, out: &mut bool) {
    if let Some(b) = n.get(key) {
        *out = b.bool();
    }
}

/// An absolute path of the config.
#[inline(never)]
fn absolute(n: Node) -> &'static CStr {
    if n.str().first() != Some(&b'/') {
        n.fail(m!("must be an absolute path"));
    }
    n.cstr()
}

/// A path of the config: absolute, or taken from the bundle.
fn in_bundle(n: Node, bundle: &[u8]) -> &'static CStr {
    match n.str().first() {
        Some(b'/') => n.cstr(),
        Some(_) => leak(Buf::<4096>::new().push(bundle).push(b"/").push(n.str()).as_bytes()),
        None => {
            n.fail(m!("must not be empty"));
            c""
        }
    }
}

/// `process` (also the whole of `exec --process FILE`): args, env, cwd, terminal, user,
/// capabilities, rlimits, noNewPrivileges, oomScoreAdj.
pub fn process(p: Node, run: &mut RunConfig, env: &mut Vec<&'static CStr>) {
    strings(p, m!("args"), &mut run.command);
    if run.command.is_empty() {
        p.require(m!("args")).fail(m!("must not be empty"));
    }
    strings(p, m!("env"), env);
    run.workdir = absolute(p.require(m!("cwd")));
    flag(p, m!("terminal"), &mut run.tty);
    flag(p, m!("noNewPrivileges"), &mut run.no_new_privs);
    let Some(oci) = oci(&mut run.oci) else { return };
    // Absent numbers are 0, as runc reads them.
    // Sections: 0 user, 1 consoleSize, 2 process itself.
    // Each key's section and range.
    const INTS: [(u8, i16, u32); 6] = [(0, 0, u32::MAX), (0, 0, u32::MAX), (0, -1, 0o777), (1, 0, 0xffff), (1, 0, 0xffff), (2, -1000, 1000)];
    let mut v = [0; 6];
    for (i, &(section, lo, hi)) in INTS.iter().enumerate() {
        let key = [m!("uid"), m!("gid"), m!("umask"), m!("height"), m!("width"), m!("oomScoreAdj")][i];
        v[i] = match member(p, [m!("user"), m!("consoleSize"), m!("")][section as usize], key) {
            Some(n) => n.int(lo.into(), hi.into()),
            None if i == 2 => -1,
            None => 0,
        };
    }
    (oci.uid, oci.gid, oci.console_size) = (v[0] as u32, v[1] as u32, (v[3] as u16, v[4] as u16));
    oci.umask = (v[2] >= 0).then_some(v[2] as u32);
    if v[5] != 0 {
        let adj = *Buf::<8>::new().push(if v[5] < 0 { b"-" } else { b"" }).num(v[5].unsigned_abs() as u64);
        oci.proc_writes.push((c"/proc/self/oom_score_adj", leak(adj.as_bytes())));
    }
    if let Some(g) = member(p, m!("user"), m!("additionalGids")) {
        g.each(&mut |g| oci.groups.push(g.u32()));
    }
    if let Some(c) = p.get(m!("capabilities")) {
        let Oci { caps: s, warnings, .. } = oci;
        let sets = [&mut s.bounding, &mut s.effective, &mut s.permitted, &mut s.inheritable, &mut s.ambient];
        for (i, set) in sets.into_iter().enumerate() {
            let name = [m!("bounding"), m!("effective"), m!("permitted"), m!("inheritable"), m!("ambient")][i];
            c.each_of(name, &mut |n| {
                // A capability newer than hutch's table is skipped with a warning, as runc
                // does, so a config written for a newer kernel still starts.
                let name = n.str();
                match caps::parse(name) {
                    Ok(m) if m != caps::ALL => *set |= m,
                    _ => warn(warnings, n, name, m!("unknown capability, ignored")),
                }
            });
        }
    }
    p.each_of(m!("rlimits"), &mut |r| {
        let ty = r.require(m!("type"));
        match ty.str().strip_prefix(b"RLIMIT_").and_then(config::rlimit_resource) {
            None => ty.fail(m!("unknown resource limit (RLIMIT_NOFILE, ...)")),
            Some(resource) if run.rlimits.iter().any(|l| l.resource == resource) => ty.fail(m!("repeated")),
            Some(resource) => {
                let (soft, hard) = (r.require(m!("soft")).u64(), r.require(m!("hard")).u64());
                run.rlimits.push(Rlimit { resource, soft, hard })
            }
        }
    });
    for i in 0..2 {
        let field = [m!("apparmorProfile"), m!("selinuxLabel")][i];
        if let Some(f) = p.get(field) {
            if !f.str().is_empty() {
                warn(&mut oci.warnings, f, b"", m!("ignored: hutch applies no AppArmor profile or SELinux label"));
            }
        }
    }
}

/// A warning line for a field hutch ignores: `hutch: warning: FIELD: WHAT: why`.
fn warn(warnings: &mut Vec<&'static CStr>, n: Node, what: &[u8], why: Msg) {
    let mut line = Buf::<256>::new();
    line.push(n.path().as_bytes());
    if !what.is_empty() {
        line.push(b": ").push(what);
    }
    line.push(b": ").push(why.text());
    warnings.push(leak(line.as_bytes()));
}

/// Mount options that set a mount(2) flag: ten pairs of one and the option that clears it,
/// then four that only set (`hutch features` lists them in this order).
pub const MOUNT_OPTIONS: &[u8] = b"ro rw nosuid suid nodev dev noexec exec sync async mand nomand noatime atime \
nodiratime diratime relatime norelatime strictatime nostrictatime dirsync remount bind rbind";
/// The flags of MOUNT_OPTIONS: a pair's at its first index / 2, then one each.
const MOUNT_FLAGS: [u32; 14] = [
    libc::MS_RDONLY as u32,
    libc::MS_NOSUID as u32,
    libc::MS_NODEV as u32,
    libc::MS_NOEXEC as u32,
    libc::MS_SYNCHRONOUS as u32,
    libc::MS_MANDLOCK as u32,
    libc::MS_NOATIME as u32,
    libc::MS_NODIRATIME as u32,
    libc::MS_RELATIME as u32,
    libc::MS_STRICTATIME as u32,
    libc::MS_DIRSYNC as u32,
    libc::MS_REMOUNT as u32,
    libc::MS_BIND as u32,
    (libc::MS_BIND | libc::MS_REC) as u32,
];

/// Propagation types, for mount options and linux.rootfsPropagation, and their flags; the r-
/// forms are MS_REC.
pub const PROPAGATIONS: &[u8] = b"private shared slave unbindable";
const PROPAGATION_FLAGS: [u32; 4] = [libc::MS_PRIVATE as u32, libc::MS_SHARED as u32, libc::MS_SLAVE as u32, libc::MS_UNBINDABLE as u32];

fn propagation(name: &[u8]) -> Option<u64> {
    let (rec, base) = match name.strip_prefix(b"r") {
        Some(b) => (libc::MS_REC, b),
        None => (0, name),
    };
    config::word_index(PROPAGATIONS, base).map(|i| PROPAGATION_FLAGS[i] as u64 | rec)
}

/// A `mounts` entry. Options mount(2) has no flag for go to the filesystem as data.
#[inline(never)]
fn mount(m: Node, bundle: &[u8]) -> Mount {
    let dst = m.require(m!("destination"));
    if dst.str().is_empty() {
        dst.fail(m!("must not be empty"));
    }
    let fstype = m.get(m!("type")).map_or(c"", |t| t.cstr());
    let (mut flags, mut propagation_flags) = (0, 0);
    // Kept (no drop code): leak() below copies it.
    let mut data = core::mem::ManuallyDrop::new(Vec::new());
    m.each_of(m!("options"), &mut |o| {
        let o = o.str();
        // No name is in both columns, so one pass finds either.
        if let Some(p) = propagation(o) {
            propagation_flags = p;
        } else if let Some(i) = config::word_index(MOUNT_OPTIONS, o) {
            let (f, set) = if i < 20 { (MOUNT_FLAGS[i / 2], i % 2 == 0) } else { (MOUNT_FLAGS[i - 10], true) };
            match set {
                true => flags |= f as u64,
                false => flags &= !(f as u64),
            }
        } else {
            if !data.is_empty() {
                data.push(b',');
            }
            data.extend_from_slice(o);
        }
    });
    if fstype.to_bytes() == b"bind" {
        flags |= libc::MS_BIND;
    }
    let bind = flags & libc::MS_BIND != 0;
    let src = match m.get(m!("source")) {
        Some(s) if bind => in_bundle(s, bundle),
        Some(s) => s.cstr(),
        None if bind => m.require(m!("source")).cstr(),
        None => c"",
    };
    Mount { dst: dst.cstr(), src, fstype, flags, propagation: propagation_flags, data: leak(&data) }
}

/// The namespace types by their config.json names, and their flags in the same order; "time"
/// is unshared by the child, since clone(2) cannot take CLONE_NEWTIME.
const NAMESPACES: &[u8] = b"pid network mount ipc uts user cgroup time";
const NAMESPACE_FLAGS: [c_int; 8] = [
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWNS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWCGROUP,
    libc::CLONE_NEWTIME,
];

/// linux.namespaces: a type without a path is made new, with one it is joined; a type not
/// listed is shared with hutch (so no network entry means the host's network).
fn namespaces(linux: Node, run: &mut RunConfig) {
    let Some(oci) = oci(&mut run.oci) else { return };
    let mut seen = 0;
    linux.each_of(m!("namespaces"), &mut |n| {
        let ty = n.require(m!("type"));
        let Some(flag) = config::word_index(NAMESPACES, ty.str()).map(|i| NAMESPACE_FLAGS[i]) else {
            return ty.fail(m!("unknown namespace type (pid, network, mount, ipc, uts, user, cgroup, time)"));
        };
        if seen & flag != 0 {
            ty.fail(m!("repeated"));
        }
        seen |= flag;
        match n.get(m!("path")) {
            Some(p) => oci.join_ns.push((flag, absolute(p))),
            None => oci.new_ns |= flag,
        }
    });
    oci.host_mounts = seen & libc::CLONE_NEWNS == 0;
    if oci.new_ns & libc::CLONE_NEWUSER != 0 {
        run.userns.mode = crate::userns::Mode::New;
    }
    run.net = if oci.new_ns & libc::CLONE_NEWNET != 0 { Net::Private } else { Net::Host };
}

/// Sysctls that belong to a namespace (runc's list): kernel.* of IPC and UTS, fs.mqueue.*
/// (IPC), net.* (network). Others would change the host.
fn sysctl_namespace(key: &[u8]) -> Option<c_int> {
    const KERNEL: &[u8] = b"msgmax msgmnb msgmni sem shmall shmmax shmmni shm_rmid_forced hostname domainname";
    match key.strip_prefix(b"kernel.").and_then(|k| config::word_index(KERNEL, k)) {
        Some(8..) => Some(libc::CLONE_NEWUTS),
        Some(_) => Some(libc::CLONE_NEWIPC),
        None if key.starts_with(b"fs.mqueue.") => Some(libc::CLONE_NEWIPC),
        None if key.starts_with(b"net.") => Some(libc::CLONE_NEWNET),
        None => None,
    }
}

/// The rest of `linux` that the setup applies.
#[inline(never)]
fn linux_setup(linux: Node, oci: &mut Oci) {
    linux.each_member_of(m!("sysctl"), &mut |key, v| {
        match sysctl_namespace(key) {
            None => return v.fail(m!("not a namespaced sysctl: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*")),
            Some(ns) if oci.new_ns & ns == 0 => return v.fail(m!("needs a new namespace of its own (ipc, uts or network)")),
            _ => {}
        }
        if key.split(|&c| c == b'.').any(|c| c.is_empty() || c == b".." || config::has(c, b'/')) {
            return v.fail(m!("invalid key"));
        }
        let mut path = Buf::<256>::new();
        path.push(b"/proc/sys/");
        for &c in key {
            path.push(&[if c == b'.' { b'/' } else { c }]);
        }
        oci.proc_writes.push((leak(path.as_bytes()), v.cstr()))
    });
    strings(linux, m!("maskedPaths"), &mut oci.masked);
    strings(linux, m!("readonlyPaths"), &mut oci.read_only);
    if let Some(p) = linux.get(m!("rootfsPropagation")) {
        match propagation(p.str()) {
            Some(f) => oci.propagation = f,
            None => p.fail(m!("expected private, rprivate, shared, rshared, slave, rslave, unbindable or runbindable")),
        }
    }
    if let Some(p) = linux.get(m!("personality")) {
        // PER_LINUX and PER_LINUX32 (personality(2)).
        let d = p.require(m!("domain"));
        match config::word_index(b"LINUX LINUX32", d.str()) {
            Some(i) => oci.personality = Some(8 * i as u32),
            None => return d.fail(m!("expected LINUX or LINUX32")),
        }
    }
    if let Some(t) = linux.get(m!("timeOffsets")) {
        if oci.new_ns & libc::CLONE_NEWTIME == 0 {
            return t.fail(m!("needs a new time namespace"));
        }
        let mut text = Buf::<128>::new();
        for i in 0..2 {
            let clock = [m!("monotonic"), m!("boottime")][i];
            if let Some(c) = t.get(clock) {
                let secs = c.get(m!("secs")).map_or(0, |s| s.i64());
                let nanos = c.get(m!("nanosecs")).map_or(0, |n| n.int(0, 999_999_999));
                text.push(clock.text()).push(if secs < 0 { b" -" } else { b" " }).num(secs.unsigned_abs());
                text.push(b" ").num(nanos as u64).push(b"\n");
            }
        }
        oci.proc_writes.push((c"/proc/self/timens_offsets", leak(text.as_bytes())));
    }
    linux.each_of(m!("devices"), &mut |d| {
        let path = absolute(d.require(m!("path")));
        let ty = d.require(m!("type"));
        let kind = match ty.str() {
            b"c" | b"u" => libc::S_IFCHR,
            b"b" => libc::S_IFBLK,
            b"p" => libc::S_IFIFO,
            _ => return ty.fail(m!("expected c, b, u or p")),
        };
        // major and minor are required but for a fifo; fileMode defaults to 0666.
        let mut v = [0, 0, 0o666, 0, 0];
        for (i, v) in v.iter_mut().enumerate() {
            let key = [m!("major"), m!("minor"), m!("fileMode"), m!("uid"), m!("gid")][i];
            match d.get(key) {
                Some(n) => *v = n.u32(),
                None if i < 2 && kind != libc::S_IFIFO => drop(d.require(key)),
                None => {}
            }
        }
        let dev = libc::makedev(v[0], v[1]);
        oci.devices.push(Device { path, mode: kind | (v[2] & 0o7777), dev, uid: v[3], gid: v[4] })
    });
}

fn hook(n: Node) -> Hook {
    let mut h = Hook { path: absolute(n.require(m!("path"))), ..Hook::default() };
    strings(n, m!("args"), &mut h.args);
    if h.args.is_empty() {
        h.args.push(h.path);
    }
    strings(n, m!("env"), &mut h.env);
    if let Some(t) = n.get(m!("timeout")) {
        match t.num(1, u32::MAX as u64) {
            Ok(s) => h.timeout = Some(s as u32),
            Err(_) => t.fail(m!("must be a positive number of seconds")),
        }
    }
    h
}

/// linux.cgroupsPath, linux.resources and the user namespace's ID maps, into `run.limits`
/// and `run.userns` (config-linux.md "Control groups", "Allowed Device Cgroup", "User
/// namespace mappings"). As runc: a path without a leading `/` is under the runtime's own
/// cgroup; without a path the cgroup is the container's ID under it (the caller names it);
/// 0 leaves a limit at the kernel's default and -1 means none. What hutch cannot apply here
/// is named in a warning, not silently dropped.
fn linux_cgroups_and_ids(linux: Node, run: &mut RunConfig) {
    let l = &mut run.limits;
    l.oci = true;
    if let Some(p) = linux.get(m!("cgroupsPath")) {
        cgroups_path(p, l);
    }
    if let (Some(r), Some(oci)) = (linux.get(m!("resources")), &mut run.oci) {
        resources(r, l, oci);
    }
    ids(linux, run.oci.as_ref().map_or(0, |o| o.new_ns), &mut run.userns)
}

fn cgroups_path(n: Node, l: &mut Limits) {
    let p = n.str();
    let p = &p[..p.len() - p.iter().rev().take_while(|&&c| c == b'/').count()];
    if p.is_empty() {
        return;
    }
    // "slice:prefix:name" is systemd's form, for runtimes that ask systemd for cgroups.
    if p.len() > 255 || config::has(p, b':') || config::has(p, 0) || p.split(|&c| c == b'/').any(|c| c == b"." || c == b"..") {
        return n.fail(m!("expected a cgroupfs path without . or .. components (systemd's slice:prefix:name is not supported)"));
    }
    let slash = p.iter().rposition(|&c| c == b'/');
    l.cgroup_name = Some(leak(&p[slash.map_or(0, |i| i + 1)..]));
    l.cgroup_parent = match slash {
        Some(0) => Some(c"/"),
        Some(i) => Some(leak(&p[..i])),
        None => None,
    };
}

/// How a number of linux.resources reads: as runc has it, 0 leaves the kernel's default.
#[derive(Clone, Copy, PartialEq)]
enum Num {
    /// -1 is no limit.
    Limit,
    Count,
    /// 0 to 100, 0 included.
    Percent,
}

/// Where a field of linux.resources is: in resources itself or one of its sections.
#[derive(Clone, Copy)]
enum Section {
    Resources,
    Memory,
    Cpu,
    Pids,
}
use Section::*;

/// The numbers of linux.resources: their keys, and each one's section and kind (their order
/// is `number`'s).
const NUMBER_KEYS: [Msg; 10] = [m!("limit"), m!("reservation"), m!("swap"), m!("swappiness"), m!("shares"), m!("quota"), m!("period"), m!("realtimeRuntime"), m!("realtimePeriod"), m!("limit")];
const NUMBERS: [(Section, Num); 10] = [
    (Memory, Num::Limit),
    (Memory, Num::Limit),
    (Memory, Num::Limit),
    (Memory, Num::Percent),
    (Cpu, Num::Count),
    (Cpu, Num::Limit),
    (Cpu, Num::Count),
    (Cpu, Num::Limit),
    (Cpu, Num::Count),
    (Pids, Num::Limit),
];

/// What linux.resources has, but hutch does not apply: two of memory, two of cpu, four of
/// resources itself (see `resources` for their warnings).
const IGNORED_KEYS: [Msg; 8] = [m!("kernel"), m!("kernelTCP"), m!("burst"), m!("idle"), m!("blockIO"), m!("network"), m!("rdma"), m!("unified")];

/// The field of `l` that `NUMBERS[i]` sets (shares first into `shares`, to be converted).
#[inline(never)]
fn number<'l>(l: &'l mut Limits, shares: &'l mut Option<u64>, i: usize) -> &'l mut Option<u64> {
    match i {
        0 => &mut l.memory,
        1 => &mut l.memory_reservation,
        2 => &mut l.memory_swap,
        3 => &mut l.swappiness,
        4 => shares,
        5 => &mut l.cpu_quota,
        6 => &mut l.cpu_period,
        7 => &mut l.cpu_rt_runtime,
        8 => &mut l.cpu_rt_period,
        _ => &mut l.pids,
    }
}

#[inline(never)]
fn resources(r: Node, l: &mut Limits, oci: &mut Oci) {
    // The sections of linux.resources that hold numbers, by [`Section`].
    let member = |section: Section, key| member(r, [m!(""), m!("memory"), m!("cpu"), m!("pids")][section as usize], key);
    let mut shares = None;
    for (i, &(section, kind)) in NUMBERS.iter().enumerate() {
        let key = NUMBER_KEYS[i];
        let Some(n) = member(section, key) else { continue };
        let (lo, hi) = match kind {
            Num::Limit => (-1, i64::MAX as u64),
            Num::Count => (0, i64::MAX as u64),
            Num::Percent => (0, 100),
        };
        *number(l, &mut shares, i) = match n.int(lo, hi) {
            0 if kind != Num::Percent => None,
            -1 => Some(UNLIMITED),
            v => Some(v as u64),
        };
    }
    // The kernel's own bounds for v1's cpu.shares.
    l.cpu_share = shares.map(|s| CpuShare::Shares(s.clamp(2, 262_144)));
    // Memory plus swap, as docker and v1's memsw count it.
    if l.memory_swap.is_some_and(|s| s < l.memory.unwrap_or(UNLIMITED)) {
        r.fail_at(Some(b"memory.swap"), m!("counts memory plus swap: needs a memory limit, and at least as much"));
    }
    if let Some(b) = member(Memory, m!("disableOOMKiller")) {
        l.oom_kill_disable = b.bool();
    }
    for (i, list) in [&mut l.cpuset_cpus, &mut l.cpuset_mems].into_iter().enumerate() {
        let key = [m!("cpus"), m!("mems")][i];
        if let Some(n) = member(Cpu, key) {
            match n.str() {
                b"" => {}
                s if !cpuset_ok(s) => n.fail(m!("expected numbers and ranges, e.g. 0-3,6")),
                _ => *list = Some(n.cstr()),
            }
        }
    }
    let mut pages = Vec::new();
    r.each_of(m!("hugepageLimits"), &mut |h| {
        let size = h.require(m!("pageSize"));
        let s = size.str();
        let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || !matches!(&s[digits..], b"KB" | b"MB" | b"GB") {
            size.fail(m!("expected a size such as 2MB or 1GB"));
        }
        pages.push((size.cstr(), h.require(m!("limit")).u64()))
    });
    l.hugetlb = pages.leak();
    let mut rules = Vec::new();
    r.each_of(m!("devices"), &mut |d| rules.push(device(d)));
    l.devices = rules.leak();
    for i in 0..8 {
        let key = IGNORED_KEYS[i];
        let (section, why) = match i {
            0 | 1 => (Memory, m!("ignored: kernel memory limits are deprecated, as in runc")),
            2 | 3 => (Cpu, m!("not applied")),
            _ => (Resources, m!("not applied: hutch does not manage this controller")),
        };
        if let Some(n) = member(section, key) {
            warn(&mut oci.warnings, n, b"", why);
        }
    }
}

fn device(d: Node) -> DeviceRule {
    let mut r = DeviceRule { allow: d.require(m!("allow")).bool(), kind: b'a', major: None, minor: None, access: b"rwm" };
    for (i, field) in [&mut r.major, &mut r.minor].into_iter().enumerate() {
        let key = [m!("major"), m!("minor")][i];
        if let Some(n) = d.get(key) {
            // -1 is any, as runc reads it.
            *field = u32::try_from(n.int(-1, u32::MAX as u64)).ok();
        }
    }
    // Empty is the default.
    if let Some(n) = d.get(m!("type")) {
        match n.str() {
            [] => {}
            &[k @ (b'a' | b'c' | b'b')] => r.kind = k,
            _ => n.fail(m!("expected a, c or b")),
        }
    }
    if let Some(n) = d.get(m!("access")) {
        let s = n.str();
        if s.len() > 3 || !s.iter().all(|&c| config::has(b"rwm", c)) {
            n.fail(m!("expected some of r, w and m"));
        } else if !s.is_empty() {
            r.access = leak(s).to_bytes();
        }
    }
    r
}

/// linux.uidMappings and gidMappings, which a new user namespace (in `new_ns`, from
/// linux.namespaces) needs and nothing else takes: one joined by path has its maps.
fn ids(linux: Node, new_ns: c_int, c: &mut userns::Config) {
    let user = new_ns & libc::CLONE_NEWUSER != 0;
    for (i, maps) in [&mut c.uid_map, &mut c.gid_map].into_iter().enumerate() {
        let key = [m!("uidMappings"), m!("gidMappings")][i];
        match linux.get(key) {
            Some(list) if user => list.each(&mut |m| {
                let n = |k: Msg| m.require(k).u32();
                let (inside, outside, count) = (n(m!("containerID")), n(m!("hostID")), n(m!("size")));
                if count == 0 || inside.checked_add(count - 1).is_none() || outside.checked_add(count - 1).is_none() {
                    return m.fail(m!("expected a size above 0 that fits the ID range"));
                }
                maps.push(IdMap { inside, outside, count })
            }),
            Some(list) => list.fail(m!("only for a new user namespace in linux.namespaces")),
            None => {}
        }
        if user && maps.is_empty() {
            linux.fail_at(Some(key.text()), m!("required by a new user namespace"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn spec(text: &str) -> Result<&'static mut Spec> {
        parse(alloc::string::String::leak(text.into()).as_bytes(), b"/b")
    }

    fn why(e: Error) -> (alloc::string::String, &'static str) {
        let crate::error::Cause::Msg(m) = e.cause else { panic!("not a message") };
        (alloc::string::String::from_utf8_lossy(e.object.as_bytes()).into_owned(), m.str())
    }

    const MINIMAL: &str = r#"{"ociVersion": "1.0.2", "root": {"path": "rootfs"},
        "process": {"args": ["sh"], "cwd": "/", "env": ["PATH=/bin"]}, "linux": {"namespaces": [{"type": "mount"}]}}"#;

    #[test]
    fn minimal() {
        let s = spec(MINIMAL).unwrap();
        assert_eq!(s.run.rootfs, c"/b/rootfs");
        assert_eq!(s.run.command, [c"sh"]);
        assert_eq!(s.env, [c"PATH=/bin"]);
        assert!(!s.run.oci.as_ref().unwrap().host_mounts);
        let e = spec(r#"{"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "/"}}"#);
        assert_eq!(why(e.unwrap_err()), ("linux".into(), "required"));
        // No mount namespace: the caller's.
        let s = spec(&MINIMAL.replace(r#"{"type": "mount"}"#, r#"{"type": "pid"}"#)).unwrap();
        assert!(s.run.oci.as_ref().unwrap().host_mounts);
    }

    #[test]
    fn bad_values_name_the_field() {
        assert_eq!(why(spec(r#"{"ociVersion": "2.0.0", "root": {"path": "r"}}"#).unwrap_err()).0, "ociVersion");
        let e = spec(r#"{"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh", 1], "cwd": "/"}}"#);
        assert_eq!(why(e.unwrap_err()), ("process.args[1]".into(), "expected a string"));
        let e = spec(r#"{"ociVersion": "1.1.0", "root": {"path": "r"}, "hooks": {"prestart": [{"path": "x"}]}}"#);
        assert_eq!(why(e.unwrap_err()), ("hooks.prestart[0].path".into(), "must be an absolute path"));
    }

    #[test]
    fn hooks() {
        let s = spec(
            r#"{"ociVersion": "1.0.2", "root": {"path": "/r"}, "future": {"x": 1}, "linux": {"namespaces": [{"type": "mount"}]},
            "hooks": {"poststop": [{"path": "/bin/h", "args": ["h", "a"], "env": ["K=V"], "timeout": 5}, {"path": "/bin/g"}]}}"#,
        )
        .unwrap();
        let p = &s.hooks.poststop;
        assert_eq!((p[0].path, &p[0].args[..], &p[0].env[..], p[0].timeout), (c"/bin/h", &[c"h", c"a"][..], &[c"K=V"][..], Some(5)));
        assert_eq!((&p[1].args[..], p[1].timeout), (&[c"/bin/g"][..], None));
    }

    fn linux(text: &str) -> Result<RunConfig> {
        let doc = json::parse(alloc::string::String::leak(text.into()).as_bytes(), b"config.json")?;
        let mut run = RunConfig::new(c"/r");
        run.oci = Some(Oci::default());
        json::read(&doc, STEP, &mut |root| {
            let linux = root.require_key(b"linux");
            if linux.get_key(b"namespaces").is_some() {
                namespaces(linux, &mut run);
            }
            linux_cgroups_and_ids(linux, &mut run);
        })?;
        Ok(run)
    }

    #[test]
    fn cgroups_path_splits_into_parent_and_name() {
        let l = linux(r#"{"linux": {"cgroupsPath": "/libpod_parent/libpod-abc"}}"#).ok().unwrap().limits;
        assert_eq!((l.cgroup_parent, l.cgroup_name, l.oci), (Some(c"/libpod_parent"), Some(c"libpod-abc"), true));
        let l = linux(r#"{"linux": {"cgroupsPath": "/top/"}}"#).ok().unwrap().limits;
        assert_eq!((l.cgroup_parent, l.cgroup_name), (Some(c"/"), Some(c"top")));
        let l = linux(r#"{"linux": {"cgroupsPath": "a/b/c"}}"#).ok().unwrap().limits;
        assert_eq!((l.cgroup_parent, l.cgroup_name), (Some(c"a/b"), Some(c"c")));
        let l = linux(r#"{"linux": {"cgroupsPath": "c"}}"#).ok().unwrap().limits;
        assert_eq!((l.cgroup_parent, l.cgroup_name), (None, Some(c"c")));
        let l = linux(r#"{"linux": {}}"#).ok().unwrap().limits;
        assert_eq!((l.cgroup_parent, l.cgroup_name, l.wanted()), (None, None, true), "the caller names it after the ID");
        for bad in ["/a/../b", "system.slice:runc:x", "./a"] {
            let e = linux(&format!(r#"{{"linux": {{"cgroupsPath": "{bad}"}}}}"#)).err().unwrap();
            assert_eq!(why(e).0, "linux.cgroupsPath", "{bad}");
        }
    }

    #[test]
    fn resources_map_to_limits() {
        let run = linux(
            r#"{"linux": {"resources": {
                "memory": {"limit": 33554432, "reservation": 16777216, "swap": -1, "swappiness": 10, "disableOOMKiller": true, "kernel": 5},
                "cpu": {"shares": 1024, "quota": 50000, "period": 200000, "realtimeRuntime": -1, "realtimePeriod": 1000000, "cpus": "0-1", "mems": "0"},
                "pids": {"limit": 32},
                "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
                "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": -1, "access": "w"}],
                "blockIO": {"weight": 10}}}}"#,
        )
        .ok()
        .unwrap();
        let l = run.limits;
        let warned: Vec<&[u8]> = run.oci.as_ref().unwrap().warnings.iter().map(|w| w.to_bytes()).collect();
        assert!(warned[0].starts_with(b"linux.resources.memory.kernel: ignored"), "{warned:?}");
        assert!(warned[1].starts_with(b"linux.resources.blockIO: not applied"), "{warned:?}");
        assert_eq!((l.memory, l.memory_reservation, l.memory_swap), (Some(32 << 20), Some(16 << 20), Some(UNLIMITED)));
        assert_eq!((l.swappiness, l.oom_kill_disable), (Some(10), true));
        assert_eq!((l.cpu_share, l.cpu_quota, l.cpu_period), (Some(CpuShare::Shares(1024)), Some(50_000), Some(200_000)));
        assert_eq!((l.cpu_rt_runtime, l.cpu_rt_period), (Some(UNLIMITED), Some(1_000_000)));
        assert_eq!((l.cpuset_cpus, l.cpuset_mems, l.pids), (Some(c"0-1"), Some(c"0"), Some(32)));
        assert_eq!(l.hugetlb, [(c"2MB", 4 << 20)]);
        assert_eq!(
            l.devices,
            [
                DeviceRule { allow: false, kind: b'a', major: None, minor: None, access: b"rwm" },
                DeviceRule { allow: true, kind: b'c', major: Some(1), minor: None, access: b"w" }
            ]
        );
        // 0 leaves the default; -1 is no limit.
        let l = linux(r#"{"linux": {"resources": {"memory": {"limit": 0}, "pids": {"limit": -1}, "cpu": {"shares": 0, "cpus": ""}}}}"#)
            .ok()
            .unwrap()
            .limits;
        assert_eq!((l.memory, l.pids, l.cpu_share, l.cpuset_cpus), (None, Some(UNLIMITED), None, None));
    }

    #[test]
    fn bad_resources_name_the_field() {
        for (text, field) in [
            (r#"{"memory": {"limit": "1g"}}"#, "linux.resources.memory.limit"),
            (r#"{"memory": {"limit": -2}}"#, "linux.resources.memory.limit"),
            (r#"{"memory": {"limit": 100, "swap": 50}}"#, "linux.resources.memory.swap"),
            (r#"{"memory": {"swap": 50}}"#, "linux.resources.memory.swap"),
            (r#"{"memory": {"swappiness": 101}}"#, "linux.resources.memory.swappiness"),
            (r#"{"cpu": {"cpus": "3-1"}}"#, "linux.resources.cpu.cpus"),
            (r#"{"cpu": {"quota": 1.5}}"#, "linux.resources.cpu.quota"),
            (r#"{"pids": {"limit": -5}}"#, "linux.resources.pids.limit"),
            (r#"{"cpu": {"period": -1}}"#, "linux.resources.cpu.period"),
            (r#"{"hugepageLimits": [{"pageSize": "2M", "limit": 1}]}"#, "linux.resources.hugepageLimits[0].pageSize"),
            (r#"{"devices": [{"access": "rwm"}]}"#, "linux.resources.devices[0].allow"),
            (r#"{"devices": [{"allow": true, "type": "x"}]}"#, "linux.resources.devices[0].type"),
            (r#"{"devices": [{"allow": true, "type": "cb"}]}"#, "linux.resources.devices[0].type"),
            (r#"{"devices": [{"allow": true, "access": "rwx"}]}"#, "linux.resources.devices[0].access"),
            (r#"{"devices": [{"allow": true, "major": -2}]}"#, "linux.resources.devices[0].major"),
        ] {
            let e = linux(&format!(r#"{{"linux": {{"resources": {text}}}}}"#)).err().unwrap();
            assert_eq!(why(e).0, field, "{text}");
        }
    }

    #[test]
    fn id_maps_need_a_new_user_namespace_and_it_them() {
        let uid = r#""uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]"#;
        let gid = r#""gidMappings": [{"containerID": 0, "hostID": 200000, "size": 1}, {"containerID": 1, "hostID": 300000, "size": 10}]"#;
        let maps = format!("{uid}, {gid}");
        let u = linux(&format!(r#"{{"linux": {{"namespaces": [{{"type": "mount"}}, {{"type": "user"}}], {maps}}}}}"#)).ok().unwrap().userns;
        assert_eq!(u.mode, userns::Mode::New);
        assert_eq!(u.uid_map, [IdMap { inside: 0, outside: 100000, count: 65536 }]);
        assert_eq!(u.gid_map[1], IdMap { inside: 1, outside: 300000, count: 10 });
        let u = linux(r#"{"linux": {"namespaces": [{"type": "mount"}]}}"#).ok().unwrap().userns;
        assert_eq!(u, userns::Config::default());
        let e = linux(&format!(r#"{{"linux": {{"namespaces": [{{"type": "mount"}}], {maps}}}}}"#)).err().unwrap();
        assert_eq!(why(e).0, "linux.uidMappings");
        let e = linux(r#"{"linux": {"namespaces": [{"type": "mount"}, {"type": "user"}], "uidMappings": []}}"#).err().unwrap();
        assert_eq!(why(e).0, "linux.uidMappings");
        let e = linux(&format!(r#"{{"linux": {{"namespaces": [{{"type": "mount"}}, {{"type": "user"}}], {}}}}}"#, uid)).err().unwrap();
        assert_eq!(why(e).0, "linux.gidMappings");
        let e = linux(r#"{"linux": {"namespaces": [{"type": "mount"}, {"type": "user"}], "uidMappings": [{"containerID": 0, "hostID": 1, "size": 0}], "gidMappings": []}}"#);
        assert_eq!(why(e.err().unwrap()).0, "linux.uidMappings[0]");
        // Joining an existing user namespace: its maps are already made.
        let u = linux(r#"{"linux": {"namespaces": [{"type": "mount"}, {"type": "user", "path": "/proc/1/ns/user"}]}}"#).ok().unwrap().userns;
        assert_eq!(u.mode, userns::Mode::Default);
    }

    /// Every section this module maps, with values that differ from every default.
    const FULL: &str = r#"{"ociVersion": "1.2.0", "root": {"path": "/r", "readonly": true},
        "hostname": "h", "domainname": "d.example",
        "process": {"args": ["sh"], "cwd": "/w", "env": ["A=1"], "terminal": true, "consoleSize": {"height": 25, "width": 80},
            "user": {"uid": 1000, "gid": 100, "umask": 18, "additionalGids": [5, 6]},
            "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"],
                "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL", "CAP_NEWER_THAN_HUTCH"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 20}],
            "noNewPrivileges": true, "oomScoreAdj": -500, "apparmorProfile": "p"},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=700", "ro", "rw", "size=1m", "rslave"]},
            {"destination": "/b", "type": "none", "source": "rel/dir", "options": ["rbind", "ro", "noatime", "atime"]}],
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "ipc"}, {"type": "time"},
                {"type": "network", "path": "/proc/1/ns/net"}],
            "sysctl": {"kernel.shmmax": "1", "fs.mqueue.msg_max": "20"},
            "maskedPaths": ["/m"], "readonlyPaths": ["/ro1", "/ro2"], "rootfsPropagation": "rshared",
            "personality": {"domain": "LINUX32", "flags": []},
            "timeOffsets": {"monotonic": {"secs": -5, "nanosecs": 7}, "boottime": {"secs": 9}},
            "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 1, "gid": 2},
                {"path": "/dev/p", "type": "p"}]}}"#;

    #[test]
    fn every_section_maps() {
        let s = spec(FULL).unwrap();
        let r = &s.run;
        assert_eq!((r.rootfs, r.read_only, r.hostname, r.workdir, r.tty, r.no_new_privs), (c"/r", true, c"h", c"/w", true, true));
        assert_eq!((r.net, r.seccomp), (Net::Host, Seccomp::Unconfined), "a joined network is not hutch's to set up");
        assert_eq!(r.rlimits, [Rlimit { resource: libc::RLIMIT_NOFILE as i32, soft: 10, hard: 20 }]);
        let o = r.oci.as_ref().unwrap();
        assert_eq!((o.uid, o.gid, &o.groups[..], o.umask), (1000, 100, &[5, 6][..], Some(0o22)));
        assert_eq!(o.caps, caps::Sets { bounding: 0b100001, effective: 0b100000, permitted: 0b100000, inheritable: 0b100000, ambient: 0b100000 });
        assert_eq!((o.console_size, o.personality), ((25, 80), Some(8)));
        assert_eq!(o.warnings.len(), 2, "the unknown capability and apparmorProfile");
        assert_eq!(o.mounts[0], Mount { dst: c"/proc", src: c"proc", fstype: c"proc", flags: 0, propagation: 0, data: c"" });
        let t = &o.mounts[1];
        assert_eq!((t.flags, t.propagation, t.data), (libc::MS_NOSUID, libc::MS_SLAVE | libc::MS_REC, c"mode=700,size=1m"));
        let b = &o.mounts[2];
        assert_eq!((b.src, b.flags), (c"/b/rel/dir", libc::MS_BIND | libc::MS_REC | libc::MS_RDONLY), "a relative bind source is the bundle's");
        let new = libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC | libc::CLONE_NEWTIME;
        assert_eq!((o.new_ns, &o.join_ns[..]), (new, &[(libc::CLONE_NEWNET, c"/proc/1/ns/net")][..]));
        let writes = [
            (c"/proc/self/oom_score_adj", c"-500"),
            (c"/proc/sys/kernel/domainname", c"d.example"),
            (c"/proc/sys/kernel/shmmax", c"1"),
            (c"/proc/sys/fs/mqueue/msg_max", c"20"),
            (c"/proc/self/timens_offsets", c"monotonic -5 7\nboottime 9 0\n"),
        ];
        assert_eq!(o.proc_writes, writes);
        assert_eq!((&o.masked[..], &o.read_only[..]), (&[c"/m"][..], &[c"/ro1", c"/ro2"][..]));
        assert_eq!(o.propagation, libc::MS_SHARED | libc::MS_REC);
        let fuse = Device { path: c"/dev/fuse", mode: libc::S_IFCHR | 0o666, dev: libc::makedev(10, 229), uid: 1, gid: 2 };
        assert_eq!(o.devices, [fuse, Device { path: c"/dev/p", mode: libc::S_IFIFO | 0o666, dev: 0, uid: 0, gid: 0 }]);
    }

    #[test]
    fn oci_defaults_are_the_specs() {
        let s = spec(r#"{"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "/"},
            "linux": {"namespaces": [{"type": "mount"}, {"type": "network"}, {"type": "user"}],
                "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}}"#).unwrap();
        let o = s.run.oci.as_ref().unwrap();
        assert_eq!((s.run.hostname, s.run.no_new_privs, s.run.net), (c"", false, Net::Private));
        assert_eq!((o.uid, o.gid, o.caps, o.umask), (0, 0, caps::Sets::default(), None), "no capabilities unless listed");
        assert!(o.mounts.is_empty() && o.masked.is_empty() && o.read_only.is_empty());
        assert_eq!(s.run.userns.mode, crate::userns::Mode::New);
    }

    #[test]
    fn setup_errors_name_the_field() {
        let base = |linux: &str, top: &str| {
            let text = alloc::format!(
                r#"{{"ociVersion": "1.0.2", "root": {{"path": "r"}}, "process": {{"args": ["sh"], "cwd": "/"}}{top},
                "linux": {{"namespaces": [{{"type": "mount"}}, {{"type": "ipc"}}]{linux}}}}}"#
            );
            why(spec(&text).unwrap_err())
        };
        let e = |o: &str, w: &'static str| (alloc::string::String::from(o), w);
        assert_eq!(base(r#", "namespaces": [{"type": "mount"}, {"type": "mount"}]"#, ""), e("linux.namespaces[1].type", "repeated"));
        assert_eq!(base(r#", "namespaces": [{"type": "mount", "path": "x"}]"#, "").1, "must be an absolute path");
        assert_eq!(base(r#", "namespaces": [{"type": "box"}]"#, "").0, "linux.namespaces[0].type");
        assert_eq!(base(r#", "sysctl": {"vm.swappiness": "1"}"#, "").0, "linux.sysctl.vm.swappiness");
        assert_eq!(base(r#", "sysctl": {"net.ipv4.ip_forward": "1"}"#, ""), e("linux.sysctl.net.ipv4.ip_forward", "needs a new namespace of its own (ipc, uts or network)"));
        assert_eq!(base(r#", "sysctl": {"kernel.sem": 1}"#, ""), e("linux.sysctl.kernel.sem", "expected a string"));
        assert_eq!(base(r#", "rootfsPropagation": "sideways""#, "").0, "linux.rootfsPropagation");
        assert_eq!(base(r#", "timeOffsets": {}"#, ""), e("linux.timeOffsets", "needs a new time namespace"));
        assert_eq!(base(r#", "devices": [{"path": "/dev/x", "type": "q", "major": 1, "minor": 1}]"#, "").0, "linux.devices[0].type");
        assert_eq!(base(r#", "devices": [{"path": "/dev/x", "type": "c", "minor": 1}]"#, "").0, "linux.devices[0].major");
        assert_eq!(base(r#", "personality": {"domain": "BSD"}"#, "").0, "linux.personality.domain");
        assert_eq!(base("", r#", "hostname": "h""#), e("hostname", "needs a new uts namespace"));
        assert_eq!(base("", r#", "mounts": [{"destination": "/x", "options": ["bind"]}]"#), e("mounts[0].source", "required"));
        assert_eq!(base("", r#", "mounts": [{"destination": "/x", "options": [1]}]"#), e("mounts[0].options[0]", "expected a string"));
        let p = |process: &str| {
            let text = alloc::format!(r#"{{"ociVersion": "1.0.2", "root": {{"path": "r"}}, "process": {{"args": ["sh"], "cwd": "/"{process}}}}}"#);
            why(spec(&text).unwrap_err())
        };
        assert_eq!(p(r#", "user": {"uid": 4294967296, "gid": 0}"#), e("process.user.uid", "number out of range"));
        assert_eq!(p(r#", "capabilities": {"bounding": "CAP_KILL"}"#), e("process.capabilities.bounding", "expected an array"));
        assert_eq!(p(r#", "rlimits": [{"type": "RLIMIT_CORE", "soft": 1, "hard": 1}, {"type": "RLIMIT_CORE", "soft": 1, "hard": 1}]"#), e("process.rlimits[1].type", "repeated"));
        assert_eq!(p(r#", "oomScoreAdj": 1001"#), e("process.oomScoreAdj", "number out of range"));
        assert_eq!(p(r#", "noNewPrivileges": "yes""#), e("process.noNewPrivileges", "expected true or false"));
    }

    /// Text longer than the buffers it goes through is cut, never a panic.
    #[test]
    fn long_names_are_cut() {
        let long = "X".repeat(300);
        let text = alloc::format!(
            r#"{{"ociVersion": "1.0.2", "root": {{"path": "r"}}, "process": {{"args": ["sh"], "cwd": "/", "capabilities": {{"ambient": ["CAP_{long}"]}}}},
            "linux": {{"namespaces": [{{"type": "mount"}}], "sysctl": {{"net.{long}.{long}": 1}}}}}}"#
        );
        let e = why(spec(&text).unwrap_err());
        assert!(e.0.starts_with("linux.sysctl.net.XXX") && e.0.len() < 160, "{e:?}");
    }

    #[test]
    fn mount_option_names_are_distinct() {
        let names: Vec<&[u8]> = MOUNT_OPTIONS.split(|&c| c == b' ').collect();
        assert_eq!((names.len(), MOUNT_FLAGS.len()), (24, 14), "ten pairs, then four");
        for (i, n) in names.iter().enumerate() {
            assert!(!names[..i].contains(n), "{n:?}");
        }
        // Each name with its flag, set or cleared.
        let flags = |opts: &str| {
            let text = alloc::format!(r#"{{"destination": "/x", "source": "/s", "options": {opts}}}"#);
            let doc = json::parse(alloc::string::String::leak(text).as_bytes(), b"x").unwrap();
            let mut m = None;
            json::read(&doc, STEP, &mut |n| m = Some(mount(n, b"/b"))).unwrap();
            m.unwrap().flags
        };
        assert_eq!(flags(r#"["dirsync", "remount", "strictatime", "mand"]"#), libc::MS_DIRSYNC | libc::MS_REMOUNT | libc::MS_STRICTATIME | libc::MS_MANDLOCK);
        assert_eq!(flags(r#"["sync", "relatime", "nodiratime", "nodev", "noexec", "async", "norelatime", "diratime", "dev", "exec"]"#), 0);
        assert_eq!(flags(r#"["nostrictatime", "nomand", "suid", "rw", "bind"]"#), libc::MS_BIND);
    }

    /// Mutated valid configs and arbitrary bytes: an error or a spec, never a panic or a hang.
    #[test]
    fn mutated_configs_never_panic() {
        let mut next = crate::json::tests::xorshift(0x9e37_79b9_7f4a_7c15u64);
        // Values that are each field's wrong type or edge: swapped in for a value of FULL.
        const VALUES: [&[u8]; 12] =
            [b"null", b"true", b"-1", b"0", b"18446744073709551616", b"\"\"", b"\"/\"", b"[]", b"{}", b"[1]", b"\"a\\u0000b\"", b"1.5"];
        const PUNCT: &[u8] = b"{}[]\",:\\0-e./";
        let seed = FULL.as_bytes();
        for _ in 0..6000 {
            let mut doc = seed.to_vec();
            for _ in 0..1 + next() % 3 {
                let i = next() as usize % doc.len();
                match next() % 4 {
                    0 => doc[i] = next() as u8,
                    1 => drop(doc.remove(i)),
                    2 => doc.insert(i, PUNCT[next() as usize % PUNCT.len()]),
                    // Replace the value after a ':' with another JSON value.
                    _ => {
                        if let Some(colon) = doc[i..].iter().position(|&c| c == b':').map(|p| i + p + 1) {
                            let end = doc[colon..].iter().position(|&c| c == b',' || c == b'}').map_or(doc.len(), |p| colon + p);
                            let v = VALUES[next() as usize % VALUES.len()];
                            doc.splice(colon..end, v.iter().copied());
                        }
                    }
                }
            }
            let _ = parse(doc.leak(), b"/b");
        }
        for len in 0..200 {
            let doc: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let _ = parse(doc.leak(), b"/b");
        }
    }

}
