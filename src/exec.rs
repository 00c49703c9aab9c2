//! `hutch exec NAME COMMAND`: a new process in a running container. hutch joins the
//! container's cgroups (through cgroup.procs, from the host, first), then its namespaces with
//! setns(2), the user namespace first so that its capabilities count for the others; a PID
//! namespace takes only children, so the command is forked after the joins. The child takes
//! the container's root, and the same privilege steps as its first process (the capability
//! set, no_new_privs, seccomp filter and user recorded in the state entry). hutch stays
//! non-dumpable throughout, and only fds 0-2 reach the command. See setns(2), nsenter(1).
use alloc::vec::Vec;
use core::mem::ManuallyDrop;
use core::ffi::{c_int, CStr};

use crate::buf::Buf;
use crate::cli::{name, options, Opt, Value};
use crate::config::{self, RunConfig, Seccomp};
use crate::json;
use crate::oci::{spec, O};
use crate::error::{Context, Error, Result};
use crate::msg::{m, Msg};
use crate::state::{Root, Status};
use crate::sys::{self, Errno};
use crate::cgroup::{self, cut, every};
use crate::{caps, child, container, env, seccomp, state, tty, user};

/// In setns order: user first, mount last (it changes what paths mean).
const NAMESPACES: [c_int; 7] =
    [libc::CLONE_NEWUSER, libc::CLONE_NEWCGROUP, libc::CLONE_NEWIPC, libc::CLONE_NEWUTS, libc::CLONE_NEWNET, libc::CLONE_NEWPID, libc::CLONE_NEWNS];
/// Their files in /proc/PID/ns/, in the same order (one word list: smaller than a table).
const NS_NAMES: &[u8] = b"user cgroup ipc uts net pid mnt";

const USAGE: Msg = m!("usage: hutch exec [-e KEY=VAL] [-w|--cwd DIR] [-u USER] [-t] [-p process.json] [-d] [--pid-file F] [--console-socket S] [--cap CAP] [--no-new-privs] [--preserve-fds N] NAME [COMMAND [ARG...]]");

struct Child<'a> {
    command: &'a [&'static CStr],
    /// The command's environment (the child's own copy of the parent's list: its HOME is set
    /// in place).
    env: &'a mut Vec<&'static CStr>,
    workdir: &'a [u8],
    user: &'a [u8],
    caps: caps::Sets,
    nnp: bool,
    filter: &'a Seccomp,
    root_fd: c_int,
    err_fd: c_int,
    sigmask: &'a sys::sigset_t,
    /// With `-t`: the socket for the terminal's master side, else -1.
    tty_sock: c_int,
    opts: &'a Opts,
    /// What `--process` read (its rlimits and consoleSize); without one, empty.
    pc: &'a RunConfig,
}

/// hutch's options and runc's (`--cwd`, `--process`, ...; runc's LSM labels are ignored), with
/// the OCI verbs' ids (one option-walker instance for both).
const EXEC_OPTS: &[Opt<O>] = &[
    Opt { short: b'e', long: name("env"), value: Value::Required, id: O::Env },
    Opt { short: b'w', long: name("workdir"), value: Value::Required, id: O::Workdir },
    Opt { short: 0, long: name("cwd"), value: Value::Required, id: O::Workdir },
    Opt { short: b'u', long: name("user"), value: Value::Required, id: O::User },
    Opt { short: b't', long: name("tty"), value: Value::None, id: O::Tty },
    Opt { short: b'p', long: name("process"), value: Value::Required, id: O::Process },
    Opt { short: b'd', long: name("detach"), value: Value::None, id: O::Detach },
    Opt { short: 0, long: name("pid-file"), value: Value::Required, id: O::PidFile },
    Opt { short: 0, long: name("console-socket"), value: Value::Required, id: O::Console },
    Opt { short: b'c', long: name("cap"), value: Value::Required, id: O::Cap },
    Opt { short: 0, long: name("no-new-privs"), value: Value::None, id: O::NoNewPrivs },
    Opt { short: 0, long: name("preserve-fds"), value: Value::Required, id: O::PreserveFds },
    Opt { short: b'g', long: name("additional-gids"), value: Value::Required, id: O::Gids },
    Opt { short: 0, long: name("apparmor"), value: Value::Required, id: O::Mac },
    Opt { short: 0, long: name("process-label"), value: Value::Required, id: O::Mac },
    Opt { short: 0, long: name("ignore-paused"), value: Value::None, id: O::Ignored },
];

/// The command line's choices (one struct: the option closure captures one pointer).
#[derive(Default)]
struct Opts {
    vars: Vec<&'static CStr>,
    /// `--additional-gids`: supplementary groups on top of the user's.
    gids: Vec<u32>,
    workdir: Option<&'static [u8]>,
    user: Option<&'static [u8]>,
    tty: bool,
    process: Option<&'static CStr>,
    /// `-d`: the command outlives hutch.
    detach: bool,
    pid_file: Option<&'static CStr>,
    console: Option<&'static CStr>,
    add_caps: u64,
    nnp: bool,
    preserve_fds: c_int,
}

#[inline(never)] // inlined into cli::dispatch it costs more bytes (measured)
pub fn exec(g: &crate::oci::Global, root: &Root, args: &[&'static CStr]) -> Result<c_int> {
    // What is read and built here lives until hutch exits: never dropped (no drop code).
    let mut o = ManuallyDrop::new(Opts::default());
    let operands = options(args, EXEC_OPTS, USAGE, &mut |id, v| {
        let b = v.to_bytes();
        match id {
            O::Env => o.vars.push(v),
            O::Workdir => o.workdir = Some(b),
            O::User => o.user = Some(b),
            O::Tty => o.tty = true,
            O::Process => o.process = Some(v),
            O::Detach => o.detach = true,
            O::PidFile => o.pid_file = Some(v),
            O::Console => o.console = Some(v),
            O::Cap => o.add_caps |= caps::parse(b)?,
            O::NoNewPrivs => o.nnp = true,
            // As config.json's apparmorProfile and selinuxLabel: hutch applies neither.
            O::Mac => {
                let _ = sys::write_all(2, b"hutch: warning: --apparmor and --process-label are ignored: hutch applies neither AppArmor nor SELinux\n");
            }
            // runc's -g: repeatable, each a gid or a comma-separated list.
            O::Gids => {
                for g in b.split(|&c| c == b',') {
                    o.gids.push(user::number(g).ok_or_else(|| Error::msg(m!("invalid --additional-gids"), b, m!("expected group numbers")))?);
                }
            }
            O::PreserveFds => o.preserve_fds = config::parse_num(b).ok_or_else(|| Error::msg(m!("invalid --preserve-fds"), b, m!("expected a number")))? as c_int,
            _ => {}
        }
        Ok(())
    })?;
    let Some(operands) = operands else {
        let _ = sys::write_all(1, USAGE.text());
        let _ = sys::write_all(1, b"\n");
        return Ok(0);
    };
    let [name, command @ ..] = operands else { return Err(Error::msg(m!("exec command line"), b"", USAGE)) };
    // runc's --process: the whole process (args, env, cwd, terminal, user) from a JSON file.
    let mut pc = ManuallyDrop::new(RunConfig::new(c""));
    pc.no_new_privs = false;
    let mut envp = ManuallyDrop::new(Vec::new());
    if let Some(f) = o.process {
        let text = ManuallyDrop::new(sys::read_file(f).at(m!("reading process"), f.to_bytes())?);
        let doc = ManuallyDrop::new(json::parse(config::leak(&text).to_bytes(), f.to_bytes())?);
        spec::process_file(&doc, &mut pc, &mut envp)?;
        o.tty |= pc.tty;
        // The fields it ignores, reported as create reports a config's.
        if let Some(p) = &pc.oci {
            for w in &p.warnings {
                crate::oci::report(g, b"warning", w.to_bytes());
            }
        }
    }
    let command = if command.is_empty() { &pc.command[..] } else { command };
    if command.is_empty() {
        return Err(Error::msg(m!("exec command line"), name.to_bytes(), USAGE));
    }
    let name = name.to_bytes();
    let e = state::read(root, name)?;
    if e.status() != Status::Running {
        return Err(Error::msg(m!("container is not running"), name, m!("see 'hutch ps'")));
    }
    let pid = e.pid();

    // The process file's environment, or else the container's; then -e (KEY alone copies
    // hutch's own value). Pushed one by one: a collect costs more code (measured).
    if o.process.is_none() {
        for v in e.all(b"env") {
            envp.push(config::leak(v));
        }
    }
    for &v in o.vars.iter() {
        env::set(&mut envp, v);
    }
    // An OCI container's filter is compiled again from its config (kept in its entry).
    // A named one's is what --seccomp took: `default`, `unconfined` or a file.
    let named;
    let filter = match crate::oci::stored_spec(root, name, &e) {
        Some(spec) => &spec.run.seccomp,
        None => {
            named = seccomp::from_option(config::leak(e.get(b"seccomp")))?;
            &named
        }
    };
    // A process file (its settings are pc.oci) brings its own capabilities (its five sets;
    // none if it lists none), groups, cwd and user; else the entry's. Options override both.
    let mut puser = Buf::<32>::new();
    let (mut sets, workdir, user) = match &pc.oci {
        Some(p) => {
            o.gids.extend_from_slice(&p.groups);
            (p.caps, pc.workdir.to_bytes(), puser.num(p.uid as u64).push(b":").num(p.gid as u64).as_bytes())
        }
        None => {
            let caps = match e.get(b"caps") {
                b"all" => caps::ALL,
                _ => e.num(b"caps"),
            };
            (caps::Sets::same(caps), e.get(b"workdir"), e.get(b"user"))
        }
    };
    // --cap adds to every set but the ambient one.
    for set in [&mut sets.bounding, &mut sets.effective, &mut sets.permitted, &mut sets.inheritable] {
        *set |= o.add_caps;
    }
    let (workdir, user) = (o.workdir.unwrap_or(workdir), o.user.unwrap_or(user));

    // Host paths, before the container's mount namespace is joined.
    let pid_dir = o.pid_file.map(crate::oci::pid_dir).transpose()?;
    let (tty_r, tty_w) = match (o.tty, o.console) {
        (true, Some(s)) => (-1, sys::connect_unix(s).at(m!("connecting to console socket"), s.to_bytes())?),
        (true, None) => sys::socketpair().at(m!("creating socket"), b"")?,
        (false, _) => (-1, -1),
    };
    sys::prctl(libc::PR_SET_DUMPABLE, 0, 0).at(m!("making hutch non-dumpable"), b"")?;
    let mut proc = Buf::<128>::new();
    proc.push(b"/proc/").num(pid as u64).push(b"/");
    // Index loops here and below: zip and filter adaptors cost more code (measured).
    let mut fds = [-1; NAMESPACES.len()];
    for i in 0..NAMESPACES.len() {
        let mut p = proc;
        match sys::open(p.push(b"ns/").push(config::field(NS_NAMES, b' ', i)).cstr(), libc::O_RDONLY) {
            Ok(f) => fds[i] = f,
            Err(Errno(libc::ENOENT)) => {} // a kernel without cgroup namespaces
            Err(err) => return Err(Error::sys(m!("opening namespace"), p.as_bytes(), err)),
        }
    }
    let mut p = proc;
    let root_fd = sys::open(p.push(b"root").cstr(), libc::O_PATH | libc::O_DIRECTORY).at(m!("opening root"), p.as_bytes())?;
    // The same check as every verb's, now that the files are open: still the same process.
    if !e.alive() {
        return Err(Error::msg(m!("container is not running"), name, m!("see 'hutch ps'")));
    }
    join_cgroups(proc)?;
    for i in 0..NAMESPACES.len() {
        let (flag, fd) = (NAMESPACES[i], fds[i]);
        if fd < 0 {
            continue;
        }
        match sys::setns(fd, flag) {
            // Its user namespace is hutch's own (a container of root's without --userns).
            Err(Errno(libc::EINVAL)) if flag == libc::CLONE_NEWUSER => {}
            r => r.at(m!("joining namespace"), config::field(NS_NAMES, b' ', i))?,
        }
        sys::close(fd);
    }

    let sigmask = container::block_forwarded();
    let (err_r, err_w) = sys::pipe().at(m!("creating pipe"), b"")?;
    // A process file says itself whether no_new_privs is set (absent: not), as runc reads it.
    let nnp = o.nnp || if o.process.is_some() { pc.no_new_privs } else { e.num(b"nnp") == 1 };
    let mut c = Child { command, env: &mut envp, workdir, user, caps: sets, nnp, filter, root_fd, err_fd: err_w, sigmask: &sigmask, tty_sock: tty_w, opts: &o, pc: &pc };
    let stack = sys::Stack::new(256 * 1024).at(m!("mapping stack"), b"")?;
    let child = sys::clone(start, &stack, libc::SIGCHLD, &mut c).at(m!("starting command"), command[0].to_bytes())?;
    sys::close(err_w);
    sys::close(tty_w);
    let report = Error::receive(err_r);
    sys::close(err_r);
    if let Some(err) = report {
        let _ = sys::waitpid(child, false);
        return Err(err);
    }
    if let Some(d) = pid_dir {
        crate::oci::write_pid_file(d, child)?;
    }
    if o.detach {
        return Ok(0);
    }
    // As `hutch run` waits for its container (no cgroup of its own: no OOM report).
    container::Started { pid: child, cgroup: None, tty: tty_r }.wait()
}

/// Joins the container's cgroups where they differ from hutch's. /proc/PID/cgroup (`p` is
/// /proc/PID/) names them (as seen from the host), relative to the root of their hierarchy's
/// mount, found in /proc/self/mountinfo: the cgroup2 mount for `0::`, else the cgroup mount
/// whose options hold the controllers (proc(5), cgroups(7)).
#[inline(never)] // smaller out of line (measured)
fn join_cgroups(mut p: Buf<128>) -> Result<()> {
    let theirs = sys::read_file(p.push(b"cgroup").cstr()).at(m!("reading cgroups"), p.as_bytes())?.leak();
    let ours = sys::read_file(c"/proc/self/cgroup").at(m!("reading cgroups"), b"/proc/self/cgroup")?.leak();
    let mounts = sys::read_file(c"/proc/self/mountinfo").at(m!("reading mounts"), b"/proc/self/mountinfo")?.leak();
    let mut rest = &*theirs;
    while !rest.is_empty() {
        let (line, r) = cut(rest, b'\n');
        rest = r;
        // Also an empty line: nothing to join.
        if every(line, ours, b'\n') {
            continue;
        }
        let mut procs = Buf::<512>::new();
        if !cgroup_dir(mounts, line, &mut procs) {
            return Err(Error::msg(m!("joining cgroup"), line, m!("hierarchy not mounted")));
        }
        procs.push(b"/cgroup.procs");
        // "0": the writer itself, in v1 and v2 alike (the kernel's cgroup_procs_write_start).
        sys::write_file(procs.cstr(), b"0").at(m!("joining cgroup"), procs.as_bytes())?;
    }
    Ok(())
}

/// The directory of the cgroup that `line` of /proc/PID/cgroup (`ID:CONTROLLERS:PATH`)
/// names, under its hierarchy's mount in `mountinfo`, appended to `dir`; false if none is
/// mounted.
fn cgroup_dir(mountinfo: &[u8], line: &[u8], dir: &mut Buf<512>) -> bool {
    let mut ms = mountinfo;
    while !ms.is_empty() {
        let (m, r) = cut(ms, b'\n');
        ms = r;
        if let Some((at, path)) = cgroup::placed(m, line) {
            dir.push(at).push(path);
            return true;
        }
    }
    false
}

/// The command's process, now in the container's PID namespace.
fn start(c: &mut Child) -> c_int {
    let Err(e) = setup(c);
    e.send(c.err_fd);
    1
}

fn setup(c: &mut Child) -> Result<core::convert::Infallible> {
    child::die_with_parent()?;
    sys::fchdir(c.root_fd).at(m!("entering root"), b"")?;
    sys::chroot(c".").at(m!("entering root"), b"")?;
    sys::close(c.root_fd);
    if c.tty_sock >= 0 {
        tty::attach(c.tty_sock, c.pc.oci.as_ref().map_or((0, 0), |p| p.console_size))?;
    }
    // Lives until the exec (no drop code).
    let (gids, user) = (&c.opts.gids[..], config::leak(c.user));
    let mut ids = ManuallyDrop::new(match (c.user, gids) {
        (b"", []) => None,
        // No user recorded: the container runs as root, and so does the command.
        (b"", _) => Some(user::resolve(c"0")?),
        _ => Some(user::resolve(user)?),
    });
    if let Some(ids) = &mut *ids {
        ids.groups.extend_from_slice(gids);
    }
    // The user's home unless the environment has a HOME (as for the container's first
    // process); without a user the command runs as root.
    env::set_home_if_unset(c.env, ids.as_ref().map_or(b"/root", |i| i.home));
    child::enter(config::leak(c.workdir), &c.pc.rlimits, c.opts.preserve_fds, &c.caps, c.filter, c.nnp, ids.as_ref(), user)?;
    if c.opts.detach {
        sys::prctl(libc::PR_SET_PDEATHSIG, 0, 0).at(m!("clearing parent death signal"), b"")?;
    }
    sys::sigprocmask(libc::SIG_SETMASK, c.sigmask);
    if c.nnp {
        seccomp::apply(c.filter)?;
    }
    Err(child::exec(c.command, c.env))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_lines_find_their_hierarchy_mounts() {
        let mountinfo = b"35 25 0:30 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755
36 35 0:31 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
40 35 0:35 / /sys/fs/cgroup/cpu,cpuacct rw shared:14 master:3 - cgroup cgroup rw,cpu,cpuacct
41 35 0:36 /sub /mnt/mem rw - cgroup cgroup rw,memory
";
        let dir = |line: &[u8]| {
            let mut b = Buf::new();
            cgroup_dir(mountinfo, line, &mut b).then(|| String::from_utf8(b.as_bytes().to_vec()).unwrap())
        };
        assert_eq!(dir(b"0::/user.slice/x").as_deref(), Some("/sys/fs/cgroup/unified/user.slice/x"));
        assert_eq!(dir(b"4:cpu,cpuacct:/hutch/box").as_deref(), Some("/sys/fs/cgroup/cpu,cpuacct/hutch/box"));
        assert_eq!(dir(b"4:cpu:/a").as_deref(), Some("/sys/fs/cgroup/cpu,cpuacct/a"), "a controller of a co-mounted hierarchy");
        assert_eq!(dir(b"5:memory:/sub/box").as_deref(), Some("/mnt/mem/box"), "a mount of a subtree");
        assert_eq!(dir(b"6:pids:/x"), None, "not mounted");
        assert_eq!(dir(b"7:cpu,blkio:/x"), None, "every controller must be in the mount's options");
    }

    #[test]
    fn fields_and_lists() {
        assert_eq!(cut(b"a:b:c", b':'), (&b"a"[..], &b"b:c"[..]));
        assert_eq!(cut(b"abc", b':'), (&b"abc"[..], &b""[..]));
        assert!(every(b"y", b"x\ny\n", b'\n') && !every(b"z", b"x\ny\n", b'\n'));
        assert!(every(b"", b"x\n", b'\n'), "an empty line is nothing to join");
        assert!(every(b"cpu,cpuacct", b"rw,cpuacct,cpu", b',') && !every(b"cpu,io", b"rw,cpu", b','));
    }
}
