//! config.json (runtime-spec 1.0 to 1.2) into a [`Spec`]: the `RunConfig` the setup path
//! applies, plus what only the OCI verbs use (hooks, annotations). Pure: nothing here touches
//! the system but reading the file, so the mapping is unit-tested on the host. Unknown fields
//! are ignored, as the spec asks; a known field with a bad value is an error naming its path.
use alloc::vec::Vec;
use core::ffi::CStr;

use crate::buf::Buf;
use core::ffi::c_int;

use crate::caps;
use crate::config::{self, leak, Device, Mount, Net, Oci, Rlimit, RunConfig, Seccomp};
use crate::error::{Context, Error, Result};
use crate::json::{self, Node};
use crate::sys;

/// What config.json errors start with.
const STEP: &str = "invalid config";

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

/// Reads `<bundle>/config.json`; a relative root.path is taken from the bundle.
pub fn load(bundle: &CStr) -> Result<Spec> {
    let mut path = Buf::<4096>::new();
    path.push(bundle.to_bytes()).push(b"/config.json");
    let text = sys::read_file(path.cstr()).at("reading config", path.as_bytes())?;
    parse(text.leak(), bundle.to_bytes())
}

/// The mapping itself, from the file's bytes.
pub fn parse(text: &'static [u8], bundle: &[u8]) -> Result<Spec> {
    let doc = json::parse(text, b"config.json")?;
    let root = Node::root(&doc, STEP);
    let version = root.require("ociVersion")?;
    let v = version.str()?;
    if !(v.starts_with(b"1.0.") || v.starts_with(b"1.1.") || v.starts_with(b"1.2.") || v == b"1.0.0-rc5") {
        return Err(version.error("unsupported version: expected 1.0.x to 1.2.x"));
    }

    let root_path = root.require("root")?.require("path")?;
    let rootfs = in_bundle(&root_path, bundle)?;
    let mut spec = Spec { run: RunConfig::new(rootfs), env: Vec::new(), hooks: Hooks::default(), annotations: Vec::new() };
    let run = &mut spec.run;
    // The runtime-spec's defaults, not hutch run's: only what the config asks for.
    run.hostname = c"";
    run.no_new_privs = false;
    run.seccomp = Seccomp::Unconfined;
    run.oci = Some(Oci::default());
    if let Some(ro) = root.require("root")?.get("readonly")? {
        run.read_only = ro.bool()?;
    }
    if let Some(p) = root.get("process")? {
        process(&p, run, &mut spec.env)?;
    }
    let linux = root.get("linux")?;
    if let Some(linux) = &linux {
        namespaces(linux, run)?;
    }
    let oci = run.oci.get_or_insert_with(Oci::default);
    let new_uts = oci.new_ns & libc::CLONE_NEWUTS != 0;
    if let Some(h) = root.get("hostname")? {
        run.hostname = h.cstr()?;
        if !new_uts && !run.hostname.is_empty() {
            return Err(h.error("needs a new uts namespace"));
        }
    }
    if let Some(d) = root.get("domainname")? {
        oci.proc_writes.push((c"/proc/sys/kernel/domainname", d.cstr()?));
        if !new_uts {
            return Err(d.error("needs a new uts namespace"));
        }
    }
    if let Some(m) = root.get("mounts")? {
        m.each(&mut |m| Ok(oci.mounts.push(mount(&m, bundle)?)))?;
    }
    if let Some(linux) = linux {
        linux_setup(&linux, oci)?;
        // linux.seccomp: wired by the lead to seccomp::from_oci (branch oci-seccomp).
        linux_cgroups_and_ids(&linux, run)?;
    }
    if let Some(hooks) = root.get("hooks")? {
        let h = &mut spec.hooks;
        for (name, list) in [
            ("prestart", &mut h.prestart),
            ("createRuntime", &mut h.create_runtime),
            ("createContainer", &mut h.create_container),
            ("startContainer", &mut h.start_container),
            ("poststart", &mut h.poststart),
            ("poststop", &mut h.poststop),
        ] {
            if let Some(n) = hooks.get(name)? {
                n.each(&mut |n| Ok(list.push(hook(&n)?)))?;
            }
        }
    }
    if let Some(a) = root.get("annotations")? {
        a.each_member(&mut |k, v| Ok(spec.annotations.push((leak(k), v.cstr()?))))?;
    }
    // Without a mount namespace of its own, the setup would change the host's mounts.
    if root.get("linux")?.is_none() {
        return Err(Error::msg(STEP, b"linux.namespaces", "hutch needs a mount namespace"));
    }
    Ok(spec)
}

/// The member at a dotted `path` below `n` (`user.uid`); None where a part is absent.
#[inline(never)]
fn at<'v, 'a>(n: &Node<'v, 'a>, path: &str) -> Result<Option<Node<'v, 'a>>> {
    let mut cur = *n;
    for key in path.split('.') {
        match cur.get(key)? {
            Some(c) => cur = c,
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}

/// An absolute path of the config.
#[inline(never)]
fn absolute(n: &Node) -> Result<&'static CStr> {
    match n.str()?.first() {
        Some(b'/') => n.cstr(),
        _ => Err(n.error("must be an absolute path")),
    }
}

/// A path of the config: absolute, or taken from the bundle.
fn in_bundle(n: &Node, bundle: &[u8]) -> Result<&'static CStr> {
    match n.str()?.first() {
        Some(b'/') => n.cstr(),
        Some(_) => Ok(leak(Buf::<4096>::new().push(bundle).push(b"/").push(n.str()?).as_bytes())),
        None => Err(n.error("must not be empty")),
    }
}

/// `process` (also the whole of `exec --process FILE`): args, env, cwd, terminal, user,
/// capabilities, rlimits, noNewPrivileges, oomScoreAdj.
pub fn process(p: &Node, run: &mut RunConfig, env: &mut Vec<&'static CStr>) -> Result<()> {
    p.require("args")?.each(&mut |a| Ok(run.command.push(a.cstr()?)))?;
    if run.command.is_empty() {
        return Err(p.require("args")?.error("must not be empty"));
    }
    if let Some(e) = p.get("env")? {
        e.each(&mut |e| Ok(env.push(e.cstr()?)))?;
    }
    run.workdir = absolute(&p.require("cwd")?)?;
    if let Some(t) = p.get("terminal")? {
        run.tty = t.bool()?;
    }
    if let Some(n) = p.get("noNewPrivileges")? {
        run.no_new_privs = n.bool()?;
    }
    let oci = run.oci.get_or_insert_with(Oci::default);
    // Absent numbers are 0, as runc reads them.
    const INTS: [(&str, i128, i128); 6] = [
        ("user.uid", 0, u32::MAX as i128),
        ("user.gid", 0, u32::MAX as i128),
        ("user.umask", -1, 0o777),
        ("consoleSize.height", 0, 0xffff),
        ("consoleSize.width", 0, 0xffff),
        ("oomScoreAdj", -1000, 1000),
    ];
    let mut v = [0; 6];
    for (i, (path, lo, hi)) in INTS.into_iter().enumerate() {
        v[i] = match at(p, path)? {
            Some(n) => n.int(lo, hi)?,
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
    if let Some(g) = at(p, "user.additionalGids")? {
        g.each(&mut |g| Ok(oci.groups.push(g.u32()?)))?;
    }
    if let Some(c) = p.get("capabilities")? {
        let Oci { caps: sets, warnings, .. } = oci;
        for (name, set) in [
            ("bounding", &mut sets.bounding),
            ("effective", &mut sets.effective),
            ("permitted", &mut sets.permitted),
            ("inheritable", &mut sets.inheritable),
            ("ambient", &mut sets.ambient),
        ] {
            if let Some(list) = c.get(name)? {
                list.each(&mut |n| {
                    // A capability newer than hutch's table is skipped with a warning, as runc
                    // does, so a config written for a newer kernel still starts.
                    match caps::parse(n.str()?) {
                        Ok(m) if m != caps::ALL => *set |= m,
                        _ => warn(warnings, &n, n.str()?, "unknown capability, ignored"),
                    }
                    Ok(())
                })?;
            }
        }
    }
    if let Some(r) = p.get("rlimits")? {
        r.each(&mut |r| {
            let ty = r.require("type")?;
            let resource = ty.str()?.strip_prefix(b"RLIMIT_").and_then(config::rlimit_resource);
            let Some(resource) = resource else { return Err(ty.error("unknown resource limit (RLIMIT_NOFILE, ...)")) };
            if run.rlimits.iter().any(|l| l.resource == resource) {
                return Err(ty.error("repeated"));
            }
            let (soft, hard) = (r.require("soft")?.u64()?, r.require("hard")?.u64()?);
            Ok(run.rlimits.push(Rlimit { resource, soft, hard }))
        })?;
    }
    for field in ["apparmorProfile", "selinuxLabel"] {
        if let Some(f) = p.get(field)? {
            if !f.str()?.is_empty() {
                warn(&mut oci.warnings, &f, b"", "ignored: hutch applies no AppArmor profile or SELinux label");
            }
        }
    }
    Ok(())
}

/// A warning line for a field hutch ignores: `hutch: warning: FIELD: WHAT: why`.
fn warn(warnings: &mut Vec<&'static CStr>, n: &Node, what: &[u8], why: &str) {
    let mut line = Buf::<256>::new();
    line.push(b"hutch: warning: ").push(n.path.as_bytes());
    if !what.is_empty() {
        line.push(b": ").push(what);
    }
    line.push(b": ").push(why.as_bytes()).push(b"\n");
    warnings.push(leak(line.as_bytes()));
}

/// Mount options that set a mount(2) flag, each with the one that clears it ("" for none).
const MOUNT_FLAGS: [(&str, &str, u64); 14] = [
    ("ro", "rw", libc::MS_RDONLY),
    ("nosuid", "suid", libc::MS_NOSUID),
    ("nodev", "dev", libc::MS_NODEV),
    ("noexec", "exec", libc::MS_NOEXEC),
    ("sync", "async", libc::MS_SYNCHRONOUS),
    ("mand", "nomand", libc::MS_MANDLOCK),
    ("noatime", "atime", libc::MS_NOATIME),
    ("nodiratime", "diratime", libc::MS_NODIRATIME),
    ("relatime", "norelatime", libc::MS_RELATIME),
    ("strictatime", "nostrictatime", libc::MS_STRICTATIME),
    ("dirsync", "", libc::MS_DIRSYNC),
    ("remount", "", libc::MS_REMOUNT),
    ("bind", "", libc::MS_BIND),
    ("rbind", "", libc::MS_BIND | libc::MS_REC),
];

/// Propagation types, for mount options and linux.rootfsPropagation; the r- forms are MS_REC.
const PROPAGATION: [(&str, u64); 4] =
    [("private", libc::MS_PRIVATE), ("shared", libc::MS_SHARED), ("slave", libc::MS_SLAVE), ("unbindable", libc::MS_UNBINDABLE)];

fn propagation(name: &[u8]) -> Option<u64> {
    let (rec, base) = match name.strip_prefix(b"r") {
        Some(b) => (libc::MS_REC, b),
        None => (0, name),
    };
    PROPAGATION.iter().find(|p| p.0.as_bytes() == base).map(|p| p.1 | rec)
}

/// A `mounts` entry. Options mount(2) has no flag for go to the filesystem as data.
fn mount(m: &Node, bundle: &[u8]) -> Result<Mount> {
    let dst = m.require("destination")?;
    if dst.str()?.is_empty() {
        return Err(dst.error("must not be empty"));
    }
    let fstype = match m.get("type")? {
        Some(t) => t.cstr()?,
        None => c"",
    };
    let (mut flags, mut propagation_flags) = (0, 0);
    let mut data = Vec::new();
    if let Some(o) = m.get("options")? {
        o.each(&mut |o| {
            let o = o.str()?;
            if let Some(p) = propagation(o) {
                propagation_flags = p;
            } else if let Some(f) = MOUNT_FLAGS.iter().find(|f| f.0.as_bytes() == o) {
                flags |= f.2;
            } else if let Some(f) = MOUNT_FLAGS.iter().find(|f| f.1.as_bytes() == o && !o.is_empty()) {
                flags &= !f.2;
            } else {
                if !data.is_empty() {
                    data.push(b',');
                }
                data.extend_from_slice(o);
            }
            Ok(())
        })?;
    }
    if fstype.to_bytes() == b"bind" {
        flags |= libc::MS_BIND;
    }
    let src = match m.get("source")? {
        Some(s) if flags & libc::MS_BIND != 0 => in_bundle(&s, bundle)?,
        Some(s) => s.cstr()?,
        None if flags & libc::MS_BIND != 0 => return Err(m.require("source")?.error("required")),
        None => c"",
    };
    Ok(Mount { dst: dst.cstr()?, src, fstype, flags, propagation: propagation_flags, data: leak(&data) })
}

/// The namespace types by their config.json names; "time" is unshared by the child, since
/// clone(2) cannot take CLONE_NEWTIME.
const NAMESPACES: [(&str, c_int); 8] = [
    ("pid", libc::CLONE_NEWPID),
    ("network", libc::CLONE_NEWNET),
    ("mount", libc::CLONE_NEWNS),
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("user", libc::CLONE_NEWUSER),
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("time", libc::CLONE_NEWTIME),
];

/// linux.namespaces: a type without a path is made new, with one it is joined; a type not
/// listed is shared with hutch (so no network entry means the host's network).
fn namespaces(linux: &Node, run: &mut RunConfig) -> Result<()> {
    let oci = run.oci.get_or_insert_with(Oci::default);
    let mut seen = 0;
    if let Some(list) = linux.get("namespaces")? {
        list.each(&mut |n| {
            let ty = n.require("type")?;
            let name = ty.str()?;
            let Some(&(_, flag)) = NAMESPACES.iter().find(|t| t.0.as_bytes() == name) else {
                return Err(ty.error("unknown namespace type (pid, network, mount, ipc, uts, user, cgroup, time)"));
            };
            if seen & flag != 0 {
                return Err(ty.error("repeated"));
            }
            seen |= flag;
            match n.get("path")? {
                Some(p) => oci.join_ns.push((flag, absolute(&p)?)),
                None => oci.new_ns |= flag,
            }
            Ok(())
        })?;
    }
    if seen & libc::CLONE_NEWNS == 0 {
        return Err(linux.require("namespaces")?.error("hutch needs a mount namespace"));
    }
    if oci.new_ns & libc::CLONE_NEWUSER != 0 {
        run.userns.mode = crate::userns::Mode::New;
    }
    run.net = if oci.new_ns & libc::CLONE_NEWNET != 0 { Net::Private } else { Net::Host };
    Ok(())
}

/// Sysctls that belong to a namespace (runc's list): kernel.* of IPC and UTS, fs.mqueue.*
/// (IPC), net.* (network). Others would change the host.
fn sysctl_namespace(key: &[u8]) -> Option<c_int> {
    const IPC: [&[u8]; 8] = [
        b"kernel.msgmax", b"kernel.msgmnb", b"kernel.msgmni", b"kernel.sem",
        b"kernel.shmall", b"kernel.shmmax", b"kernel.shmmni", b"kernel.shm_rmid_forced",
    ];
    match key {
        _ if IPC.contains(&key) || key.starts_with(b"fs.mqueue.") => Some(libc::CLONE_NEWIPC),
        b"kernel.hostname" | b"kernel.domainname" => Some(libc::CLONE_NEWUTS),
        _ if key.starts_with(b"net.") => Some(libc::CLONE_NEWNET),
        _ => None,
    }
}

/// The rest of `linux` that the setup applies.
fn linux_setup(linux: &Node, oci: &mut Oci) -> Result<()> {
    if let Some(s) = linux.get("sysctl")? {
        s.each_member(&mut |key, v| {
            let Some(ns) = sysctl_namespace(key) else {
                return Err(v.error("not a namespaced sysctl: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*"));
            };
            if oci.new_ns & ns == 0 {
                return Err(v.error("needs a new namespace of its own (ipc, uts or network)"));
            }
            if key.split(|&c| c == b'.').any(|c| c.is_empty() || c == b".." || c.contains(&b'/')) {
                return Err(v.error("invalid key"));
            }
            let mut path = Buf::<256>::new();
            path.push(b"/proc/sys/");
            for &c in key {
                path.push(&[if c == b'.' { b'/' } else { c }]);
            }
            Ok(oci.proc_writes.push((leak(path.as_bytes()), v.cstr()?)))
        })?;
    }
    for (name, list) in [("maskedPaths", &mut oci.masked), ("readonlyPaths", &mut oci.read_only)] {
        if let Some(l) = linux.get(name)? {
            l.each(&mut |p| Ok(list.push(p.cstr()?)))?;
        }
    }
    if let Some(p) = linux.get("rootfsPropagation")? {
        match propagation(p.str()?) {
            Some(f) => oci.propagation = f,
            None => return Err(p.error("expected private, rprivate, shared, rshared, slave, rslave, unbindable or runbindable")),
        }
    }
    if let Some(p) = linux.get("personality")? {
        let d = p.require("domain")?;
        oci.personality = Some(match d.str()? {
            b"LINUX" => 0,
            b"LINUX32" => 8,
            _ => return Err(d.error("expected LINUX or LINUX32")),
        });
    }
    if let Some(t) = linux.get("timeOffsets")? {
        if oci.new_ns & libc::CLONE_NEWTIME == 0 {
            return Err(t.error("needs a new time namespace"));
        }
        let mut text = Buf::<128>::new();
        for clock in ["monotonic", "boottime"] {
            if let Some(c) = t.get(clock)? {
                let secs = c.get("secs")?.map_or(Ok(0), |s| s.i64())?;
                let nanos = c.get("nanosecs")?.map_or(Ok(0), |n| n.int(0, 999_999_999))?;
                text.push(clock.as_bytes()).push(if secs < 0 { b" -" } else { b" " }).num(secs.unsigned_abs());
                text.push(b" ").num(nanos as u64).push(b"\n");
            }
        }
        oci.proc_writes.push((c"/proc/self/timens_offsets", leak(text.as_bytes())));
    }
    if let Some(devs) = linux.get("devices")? {
        devs.each(&mut |d| {
            let path = absolute(&d.require("path")?)?;
            let ty = d.require("type")?;
            let kind = match ty.str()? {
                b"c" | b"u" => libc::S_IFCHR,
                b"b" => libc::S_IFBLK,
                b"p" => libc::S_IFIFO,
                _ => return Err(ty.error("expected c, b, u or p")),
            };
            // major and minor are required but for a fifo; fileMode defaults to 0666.
            let mut v = [0, 0, 0o666, 0, 0];
            for (i, key) in ["major", "minor", "fileMode", "uid", "gid"].into_iter().enumerate() {
                match d.get(key)? {
                    Some(n) => v[i] = n.u32()?,
                    None if i < 2 && kind != libc::S_IFIFO => drop(d.require(key)?),
                    None => {}
                }
            }
            let dev = libc::makedev(v[0], v[1]);
            Ok(oci.devices.push(Device { path, mode: kind | (v[2] & 0o7777), dev, uid: v[3], gid: v[4] }))
        })?;
    }
    Ok(())
}

fn hook(n: &Node) -> Result<Hook> {
    let mut h = Hook { path: absolute(&n.require("path")?)?, ..Hook::default() };
    if let Some(a) = n.get("args")? {
        a.each(&mut |a| Ok(h.args.push(a.cstr()?)))?;
    }
    if h.args.is_empty() {
        h.args.push(h.path);
    }
    if let Some(e) = n.get("env")? {
        e.each(&mut |e| Ok(h.env.push(e.cstr()?)))?;
    }
    if let Some(t) = n.get("timeout")? {
        match t.int(1, u32::MAX as i128) {
            Ok(s) => h.timeout = Some(s as u32),
            Err(_) => return Err(t.error("must be a positive number of seconds")),
        }
    }
    Ok(h)
}

/// linux.resources, linux.cgroupsPath, linux.uidMappings and linux.gidMappings (branch
/// oci-cgroups fills this in).
#[allow(unused_variables)]
fn linux_cgroups_and_ids(linux: &Node, run: &mut RunConfig) -> Result<()> { Ok(()) }

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<Spec> {
        parse(alloc::string::String::leak(text.into()).as_bytes(), b"/b")
    }

    fn why(e: Error) -> (alloc::string::String, &'static str) {
        let crate::error::Cause::Msg(m) = e.cause else { panic!("not a message") };
        (alloc::string::String::from_utf8_lossy(e.object.as_bytes()).into_owned(), m)
    }

    const MINIMAL: &str = r#"{"ociVersion": "1.0.2", "root": {"path": "rootfs"},
        "process": {"args": ["sh"], "cwd": "/", "env": ["PATH=/bin"]}, "linux": {"namespaces": [{"type": "mount"}]}}"#;

    #[test]
    fn minimal() {
        let s = spec(MINIMAL).unwrap();
        assert_eq!(s.run.rootfs, c"/b/rootfs");
        assert_eq!(s.run.command, [c"sh"]);
        assert_eq!(s.env, [c"PATH=/bin"]);
        let e = spec(r#"{"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh"], "cwd": "/"}}"#);
        assert_eq!(why(e.unwrap_err()), ("linux.namespaces".into(), "hutch needs a mount namespace"), "never the host's mounts");
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
            "linux": {"namespaces": [{"type": "mount"}, {"type": "network"}, {"type": "user"}]}}"#).unwrap();
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
        assert_eq!(base(r#", "namespaces": [{"type": "pid"}]"#, ""), e("linux.namespaces", "hutch needs a mount namespace"));
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

    /// Mutated valid configs and arbitrary bytes: an error or a spec, never a panic or a hang.
    #[test]
    fn mutated_configs_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
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
