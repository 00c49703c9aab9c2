//! User namespaces: who the container's users are on the host. A caller that is not root always
//! gets one (a rootless container: its root is the caller); root gets one with `--userns`, its
//! root then an unprivileged host id. The user namespace is created by the same clone as the
//! other namespaces (the kernel makes it first and the others owned by it), and the parent
//! writes the child's ID maps before it says "go". See user_namespaces(7), newuidmap(1),
//! newgidmap(1), subuid(5), subgid(5).
use alloc::vec::Vec;
use core::ffi::{c_int, CStr};

use crate::buf::Buf;
use crate::error::{Cause, Context, Error, Result};
use crate::msg::{m, Msg};
use crate::sys::{self, pid_t, Errno};
use crate::user;

/// Container ids `inside..inside+count` are host ids `outside..outside+count` (a line of
/// /proc/PID/uid_map).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdMap {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// No `--userns`: a user namespace for callers that are not root, none for root.
    #[default]
    Default,
    /// `--userns=host`: the host's users.
    Host,
    /// `--userns`: a new user namespace with the `--uidmap`/`--gidmap` maps, or (not root)
    /// only the caller's own uid and gid, as 0.
    New,
    /// `--userns=auto`: 0 is the caller, 1.. its ranges in /etc/subuid and /etc/subgid.
    Auto,
}

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub mode: Mode,
    pub uid_map: Vec<IdMap>,
    pub gid_map: Vec<IdMap>,
}

/// The ID maps of the container's user namespace (those hutch finds itself live until it exits).
#[derive(Debug, PartialEq, Eq)]
pub struct Maps<'a> {
    pub uid: &'a [IdMap],
    pub gid: &'a [IdMap],
}

/// `--userns[=auto|host]`; the bare option arrives as an empty value.
pub fn parse_mode(v: &[u8]) -> Result<Mode> {
    // The leading space makes "" the first word.
    match crate::config::word_index(b" auto host", v) {
        Some(i) => Ok([Mode::New, Mode::Auto, Mode::Host][i]),
        None => Err(Error::msg(m!("invalid userns"), v, m!("expected --userns, --userns=auto or --userns=host"))),
    }
}

/// `CONTAINER:HOST:COUNT`, as `--uidmap` and `--gidmap` take it.
pub fn parse_map(v: &[u8]) -> Result<IdMap> {
    let fits = |start: u32, count: u32| count > 0 && start.checked_add(count - 1).is_some();
    match three(v, b':').and_then(|(inside, outside, count)| Some((user::number(inside)?, outside, count))) {
        Some((inside, outside, count)) if fits(inside, count) && fits(outside, count) => Ok(IdMap { inside, outside, count }),
        _ => Err(Error::msg(m!("invalid id map"), v, m!("expected CONTAINER:HOST:COUNT, COUNT above 0"))),
    }
}

/// The maps the container gets, `None` for no user namespace. `euid`/`egid` are the caller's;
/// `auto` finds its subordinate ranges (only called for `--userns=auto`).
fn decide<'a>(c: &'a Config, euid: u32, egid: u32, auto: impl FnOnce() -> Result<Maps<'a>>) -> Result<Option<Maps<'a>>> {
    let root = euid == 0;
    let explicit = !c.uid_map.is_empty() || !c.gid_map.is_empty();
    let (object, why): (&[u8], Msg) = match c.mode {
        Mode::Host if explicit => (b"--uidmap/--gidmap", m!("need a user namespace, not --userns=host")),
        Mode::Auto if explicit => (b"--uidmap/--gidmap", m!("--userns=auto finds the maps itself")),
        Mode::Host if !root => (b"--userns=host", m!("needs root")),
        Mode::Host => return Ok(None),
        Mode::Default if root && !explicit => return Ok(None),
        Mode::Auto => return auto().map(Some),
        _ if explicit => {
            // One list alone serves for both.
            let uid = if c.uid_map.is_empty() { &c.gid_map } else { &c.uid_map };
            let gid = if c.gid_map.is_empty() { &c.uid_map } else { &c.gid_map };
            return Ok(Some(Maps { uid, gid }));
        }
        _ if root => (
            b"--userns",
            m!("root needs --uidmap CONTAINER:HOST:COUNT (e.g. 0:100000:65536), or --userns=auto with a range for root in /etc/subuid"),
        ),
        _ => {
            // One allocation for both.
            let (uid, gid) = Vec::from([own(euid), own(egid)]).leak().split_at(1);
            return Ok(Some(Maps { uid, gid }));
        }
    };
    Err(Error::msg(m!("invalid userns"), object, why))
}

/// The caller's own id as the container's root.
fn own(id: u32) -> IdMap {
    IdMap { inside: 0, outside: id, count: 1 }
}

/// The user namespace `c` asks for, decided before the clone so that a missing range is
/// reported before anything is created.
pub fn resolve(c: &Config) -> Result<Option<Maps<'_>>> {
    let (euid, egid) = (sys::geteuid(), sys::getegid());
    decide(c, euid, egid, || {
        // passwd(5): name:password:uid:...
        let name = user::by(user::text(c"/etc/passwd"), 3, Some(euid), b"").map_or(&b""[..], |l| crate::config::field(l, b':', 0));
        Ok(Maps { uid: auto_maps(c"/etc/subuid", name, euid)?, gid: auto_maps(c"/etc/subgid", name, egid)? })
    })
}

fn auto_maps(file: &CStr, name: &[u8], id: u32) -> Result<&'static [IdMap]> {
    // Leaked, as the maps are (no drop code).
    let text = sys::read_file(file).at(m!("reading"), file.to_bytes())?.leak();
    let maps = auto_maps_in(text, name, id).leak();
    if maps.len() == usize::from(id != 0) {
        return Err(Error::msg(m!("--userns=auto"), file.to_bytes(), m!("no range for this user (see subuid(5))")));
    }
    Ok(maps)
}

/// The caller (not root) as 0, then each of its `OWNER:START:COUNT` ranges in `text` (subuid(5):
/// the owner is a login name or a uid), from 1 on; root's ranges from 0.
fn auto_maps_in(text: &[u8], name: &[u8], id: u32) -> Vec<IdMap> {
    let mut maps = Vec::new();
    if id != 0 {
        maps.push(own(id));
    }
    let mut next = maps.len() as u32;
    for (owner, outside, count) in text.split(|&c| c == b'\n').filter_map(|l| three(l, b':')) {
        let mine = (!name.is_empty() && owner == name) || user::number(owner) == Some(id);
        match next.checked_add(count) {
            Some(end) if mine && count > 0 => {
                maps.push(IdMap { inside: next, outside, count });
                next = end;
            }
            _ => {}
        }
    }
    maps
}

/// A line of three fields separated by runs of `sep`: the first as is, then two numbers.
fn three(line: &[u8], sep: u8) -> Option<(&[u8], u32, u32)> {
    let (mut f, mut n): ([&[u8]; 3], usize) = ([b""; 3], 0);
    for field in line.split(|&c| c == sep) {
        if field.is_empty() {
            continue;
        }
        *f.get_mut(n)? = field;
        n += 1;
    }
    if n < 3 {
        return None;
    }
    Some((f[0], user::number(f[1])?, user::number(f[2])?))
}

pub fn clone_flag(maps: &Option<Maps>) -> c_int {
    if maps.is_some() {
        libc::CLONE_NEWUSER
    } else {
        0
    }
}

/// Why clone failed: for a user namespace, the setting that forbids them, where one does.
pub fn clone_error(e: Errno, maps: &Option<Maps>) -> Error {
    let step = m!("creating user namespace");
    let err = match (maps, e.0) {
        (None, _) => return Error::sys(m!("creating namespaces"), b"clone", e),
        (Some(_), libc::ENOSPC) => Error::msg(step, b"user.max_user_namespaces", m!("limit reached (here or in an enclosing user namespace)")),
        (Some(_), _) => Error::sys(step, b"clone", e),
    };
    disabled().unwrap_or(err)
}

/// A setup step refused with EPERM in a user namespace: where a sysctl restricts user
/// namespaces (AppArmor's lets them be created, then denies every capability in them), that
/// setting is the error.
pub fn explain(e: Error, in_userns: bool) -> Error {
    match e.cause {
        Cause::Errno(Errno(libc::EPERM)) if in_userns => disabled().unwrap_or(e),
        _ => e,
    }
}

/// The sysctls that turn user namespaces off, each as its /proc/sys path and the value that
/// means off (one word list, not a table of structs); the first binds root too.
const SWITCHES: &[u8] = b"user/max_user_namespaces 0 kernel/unprivileged_userns_clone 0 \
kernel/apparmor_restrict_unprivileged_userns 1";

/// The sysctl that disables user namespaces for this caller, if one does.
fn disabled() -> Option<Error> {
    let root = sys::geteuid() == 0;
    let fixes = [
        m!("set it above 0 (sysctl -w user.max_user_namespaces=15000)"),
        m!("set it to 1, or run as root"),
        m!("set it to 0, or allow userns in an AppArmor profile for hutch, or run as root"),
    ];
    let mut words = SWITCHES.split(|&c| c == b' ');
    for (i, fix) in fixes.into_iter().enumerate() {
        let (name, off) = (words.next()?, words.next()?);
        let mut file = Buf::<64>::new();
        // The texts are leaked: short, and no drop code.
        if (i == 0 || !root) && user::text(file.push(b"/proc/sys/").push(name).cstr()).trim_ascii() == off {
            // As sysctl(8) names it: `user.max_user_namespaces is 0`.
            let mut setting = Buf::<64>::new();
            for &c in name {
                setting.push(&[if c == b'/' { b'.' } else { c }]);
            }
            return Some(Error::msg(m!("user namespaces are disabled"), setting.push(b" is ").push(off).as_bytes(), fix));
        }
    }
    None
}

/// Writes the child's ID maps (gid_map after setgroups, see user_namespaces(7)). The kernel
/// lets a caller that is not root write only its own id, once; any other map goes through the
/// setuid newuidmap/newgidmap, which check it against /etc/subuid and /etc/subgid.
pub fn map_ids(pid: pid_t, maps: &Option<Maps>) -> Result<()> {
    let Some(maps) = maps else { return Ok(()) };
    write_map(pid, c"uid_map", c"newuidmap", &maps.uid, sys::geteuid())?;
    write_map(pid, c"gid_map", c"newgidmap", &maps.gid, sys::getegid())
}

fn write_map(pid: pid_t, file: &CStr, tool: &CStr, maps: &[IdMap], own_id: u32) -> Result<()> {
    let root = sys::geteuid() == 0;
    if !root && maps != [own(own_id)] {
        return run_tool(tool, pid, maps);
    }
    let mut path = Buf::<64>::new();
    path.push(b"/proc/").num(pid as u64).push(b"/");
    // Without CAP_SETGID, a gid map is allowed only once setgroups(2) is denied for good, so
    // that nobody can drop a group that a permission check denies access by.
    if !root && file == c"gid_map" {
        let mut setgroups = path;
        setgroups.push(b"setgroups");
        sys::write_file(setgroups.cstr(), b"deny").at(m!("denying setgroups"), setgroups.as_bytes())?;
    }
    path.push(file.to_bytes());
    let mut text = Buf::<512>::new();
    push_maps(&mut text, maps, b" ", b"\n");
    // The whole map in one write: the kernel takes a map once.
    sys::write_file(path.cstr(), text.as_bytes()).map_err(|e| explain(Error::sys(m!("writing id map"), path.as_bytes(), e), true))
}

/// Each map as INSIDE sep OUTSIDE sep COUNT end.
fn push_maps(out: &mut Buf<512>, maps: &[IdMap], sep: &[u8], end: &[u8]) {
    for m in maps {
        out.num(m.inside as u64).push(sep).num(m.outside as u64).push(sep).num(m.count as u64).push(end);
    }
}

/// Where newuidmap and newgidmap are looked for: system directories only, not the caller's PATH.
const TOOL_DIRS: [&[u8]; 4] = [b"/usr/bin/", b"/bin/", b"/usr/sbin/", b"/usr/local/bin/"];

/// Runs `tool PID INSIDE OUTSIDE COUNT...` and waits for it. What it says on stderr becomes
/// part of hutch's one error line.
fn run_tool(tool: &CStr, pid: pid_t, maps: &[IdMap]) -> Result<()> {
    let name = tool.to_bytes();
    let mut path = Buf::<64>::new();
    if !TOOL_DIRS.iter().any(|dir| {
        path = Buf::new();
        sys::exists(path.push(dir).push(name).cstr())
    }) {
        return Err(Error::msg(m!("mapping ids"), name, m!("not found (Debian: install uidmap), or map only your own ids")));
    }
    // The arguments, each NUL-terminated in place.
    let mut args = Buf::<512>::new();
    args.push(name).push(b"\0").num(pid as u64).push(b"\0");
    push_maps(&mut args, maps, b"\0", b"\0");
    if args.full() {
        return Err(Error::msg(m!("mapping ids"), name, m!("too many maps")));
    }
    // At most one argument per two bytes, and the null after them.
    let mut argv = [core::ptr::null(); 257];
    let mut n = 0;
    for a in args.as_bytes().split(|&c| c == 0).filter(|a| !a.is_empty()) {
        argv[n] = a.as_ptr().cast();
        n += 1;
    }
    let (r, w) = sys::pipe().at(m!("creating pipe"), b"")?;
    // Started like the container's child (musl's fork would add kilobytes of locking); the
    // pipe is its stderr, and everything else it inherits is close-on-exec.
    struct Exec<'a> {
        path: &'a CStr,
        argv: &'a [*const i8],
        stderr: c_int,
    }
    fn exec(e: &mut Exec) -> c_int {
        if sys::dup2(e.stderr, 2).is_ok() {
            sys::execve(e.path, e.argv, &[core::ptr::null()]);
        }
        127
    }
    let stack = sys::Stack::new(64 * 1024).at(m!("mapping stack"), b"")?;
    let mut e = Exec { path: path.cstr(), argv: &argv, stderr: w };
    let child = sys::clone(exec, &stack, libc::SIGCHLD, &mut e).at(m!("starting"), name)?;
    sys::close(w);
    let mut said = [0u8; 160];
    let mut len = 0;
    while let Ok(n @ 1..) = sys::read(r, &mut said[len..]) {
        len = (len + n).min(said.len() - 1);
    }
    sys::close(r);
    if let Some(sys::Exit::Code(0)) = sys::waitpid(child, false).at(m!("waiting for"), name)? {
        return Ok(());
    }
    let said = said[..len].split(|&c| c == b'\n').next().unwrap_or_default();
    Err(Error::msg(m!("mapping ids"), if said.is_empty() { name } else { said }, m!("refused (see subuid(5), subgid(5))")))
}

/// In the child: the groups to give the user, after checking that its ids are mapped in the
/// container's user namespace (setresuid fails with a bare EINVAL otherwise). Empty where
/// setgroups is denied (a user namespace that maps only the caller's own ids): the process
/// keeps the groups it has, as the kernel requires.
pub fn check_mapped(ids: &user::Ids) -> Result<&[u32]> {
    let read = user::text;
    let (uid_map, gid_map) = (read(c"/proc/self/uid_map"), read(c"/proc/self/gid_map"));
    require(b"uid ", uid_map, ids.uid)?;
    require(b"gid ", gid_map, ids.gid)?;
    if read(c"/proc/self/setgroups").trim_ascii() == b"deny" {
        return Ok(&[]);
    }
    for &g in &ids.groups {
        require(b"group ", gid_map, g)?;
    }
    Ok(&ids.groups[..])
}

fn require(what: &[u8], map: &[u8], id: u32) -> Result<()> {
    if map.is_empty() || mapped(map, id) {
        return Ok(());
    }
    let mut object = Buf::<512>::new();
    object.push(what).num(id as u64).push(b" (mapped: ");
    for (i, (inside, count)) in extents(map).enumerate() {
        object.push(if i > 0 { b"," } else { b"" }).num(inside as u64);
        if count > 1 {
            object.push(b"-").num(inside as u64 + count as u64 - 1);
        }
    }
    object.push(b")");
    Err(Error::msg(m!("switching user"), object.as_bytes(), m!("not in the user namespace (see --userns=auto, --uidmap)")))
}

/// In the child: where hutch's own ids are not mapped in its user namespace (root with
/// `--uidmap`), it becomes that namespace's root, which owns what it creates (an unmapped
/// process cannot create files: EOVERFLOW). Returns whether its ids changed.
pub fn become_root() -> Result<bool> {
    if sys::geteuid() == 0 {
        return Ok(false);
    }
    // Kept to the exec (no drop code).
    let root = core::mem::ManuallyDrop::new(user::Ids { uid: 0, gid: 0, groups: Vec::from([0]), home: b"" });
    let groups = check_mapped(&root)?;
    sys::set_ids(0, 0, groups).at(m!("switching user"), b"0")?;
    Ok(true)
}

/// Whether the child's user namespace maps `gid` (always true outside one).
pub fn gid_mapped(gid: u32) -> bool {
    let map = user::text(c"/proc/self/gid_map");
    map.is_empty() || mapped(map, gid)
}

/// The (inside, count) extents of a /proc/PID/{uid,gid}_map text.
fn extents(map: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    map.split(|&c| c == b'\n').filter_map(|l| three(l, b' ')).filter_map(|(inside, _, count)| Some((user::number(inside)?, count)))
}

fn mapped(map: &[u8], id: u32) -> bool {
    extents(map).any(|(inside, count)| id >= inside && (id - inside) < count)
}

/// Cgroup limits without root: only where the caller's cgroup v2 subtree is delegated to it
/// (cgroups(7), "Delegation"), i.e. it may write `dir`, the cgroup the container's would go
/// into, and its cgroup.procs and cgroup.subtree_control. Otherwise a clear error, never a
/// silent no-op. Called by the cgroup code for each parent cgroup it would use.
pub fn check_rootless_limits(dir: &[u8]) -> Result<()> {
    if sys::geteuid() == 0 {
        return Ok(());
    }
    let delegated = [&b""[..], b"/cgroup.procs", b"/cgroup.subtree_control"].iter().all(|f| {
        let mut p = Buf::<4096>::new();
        p.push(dir).push(f);
        !p.full() && sys::writable(p.cstr())
    });
    if delegated {
        Ok(())
    } else {
        Err(Error::msg(m!("cgroup limits"), dir, m!("cgroup limits need root or a delegated cgroup v2 subtree")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(mode: Mode, uid: &[&str], gid: &[&str]) -> Config {
        let maps = |l: &[&str]| l.iter().map(|s| parse_map(s.as_bytes()).ok().unwrap()).collect();
        Config { mode, uid_map: maps(uid), gid_map: maps(gid) }
    }

    fn m(inside: u32, outside: u32, count: u32) -> IdMap {
        IdMap { inside, outside, count }
    }

    fn no_auto<'a>() -> Result<Maps<'a>> {
        panic!("auto maps looked up")
    }

    #[test]
    fn maps_and_modes_parse() {
        assert_eq!(parse_map(b"0:100000:65536").ok(), Some(m(0, 100000, 65536)));
        assert_eq!(parse_map(b"4294967295:0:1").ok(), Some(m(u32::MAX, 0, 1)));
        for bad in ["", "0:1", "0:1:0", "0:1:2:3", "a:1:2", "4294967295:0:2", "0:4294967295:2", "-1:0:1"] {
            assert!(parse_map(bad.as_bytes()).is_err(), "{bad}");
        }
        assert_eq!(parse_mode(b"").ok(), Some(Mode::New));
        assert_eq!(parse_mode(b"auto").ok(), Some(Mode::Auto));
        assert_eq!(parse_mode(b"host").ok(), Some(Mode::Host));
        assert!(parse_mode(b"keep-id").is_err());
    }

    #[test]
    fn who_gets_which_namespace() {
        let own = Maps { uid: &[m(0, 1000, 1)], gid: &[m(0, 100, 1)] };
        // Not root: always a user namespace, mapping the caller's own ids by default.
        assert_eq!(decide(&cfg(Mode::Default, &[], &[]), 1000, 100, no_auto).ok(), Some(Some(own)));
        // Root: none unless asked, and then with maps.
        assert_eq!(decide(&cfg(Mode::Default, &[], &[]), 0, 0, no_auto).ok(), Some(None));
        assert_eq!(decide(&cfg(Mode::Host, &[], &[]), 0, 0, no_auto).ok(), Some(None));
        assert!(decide(&cfg(Mode::New, &[], &[]), 0, 0, no_auto).is_err());
        let both = Maps { uid: &[m(0, 100000, 65536)], gid: &[m(0, 100000, 65536)] };
        assert_eq!(decide(&cfg(Mode::New, &["0:100000:65536"], &[]), 0, 0, no_auto).ok(), Some(Some(both)));
        let c = cfg(Mode::Default, &["0:1:2"], &["0:3:4", "4:9:1"]);
        let split = decide(&c, 0, 0, no_auto).ok().unwrap().unwrap();
        assert_eq!((split.uid, split.gid), (&[m(0, 1, 2)][..], &[m(0, 3, 4), m(4, 9, 1)][..]));
        assert!(decide(&cfg(Mode::Host, &["0:1:1"], &[]), 0, 0, no_auto).is_err());
        assert!(decide(&cfg(Mode::Auto, &["0:1:1"], &[]), 0, 0, no_auto).is_err());
        let auto = || Ok(Maps { uid: &[], gid: &[] });
        assert!(decide(&cfg(Mode::Auto, &[], &[]), 1000, 100, auto).ok().unwrap().is_some());
    }

    #[test]
    fn subordinate_ranges_by_name_or_uid() {
        let text = b"alice:100000:65536\n# comment\n1000:300000:10\nbob:200000:65536\nalice:400000:5\nalice:x:1\nalice:9:0\n";
        let alice = [m(0, 1000, 1), m(1, 100000, 65536), m(65537, 300000, 10), m(65547, 400000, 5)];
        assert_eq!(auto_maps_in(text, b"alice", 1000), alice);
        assert_eq!(auto_maps_in(text, b"", 1000), [m(0, 1000, 1), m(1, 300000, 10)], "no passwd entry: by uid only");
        assert_eq!(auto_maps_in(text, b"carol", 1002), [m(0, 1002, 1)]);
        assert_eq!(auto_maps_in(b"root:100000:65536\n", b"root", 0), [m(0, 100000, 65536)], "root is not mapped");
    }

    #[test]
    fn proc_maps_are_read() {
        let map = b"         0      61000          1\n         1     200000      65536\n";
        assert!(mapped(map, 0) && mapped(map, 1) && mapped(map, 65536));
        assert!(!mapped(map, 65537));
        assert!(!mapped(b"0 61000 1\n", 5));
        let e = require(b"uid ", map, 70000).err().unwrap();
        assert_eq!(e.object.as_bytes(), b"uid 70000 (mapped: 0,1-65536)");
        assert!(require(b"uid ", b"", 70000).is_ok(), "no map to read: nothing to check");
    }
}
