//! The OCI runtime: runc's command line over the runtime-spec's config.json
//! (https://github.com/opencontainers/runtime-spec, runtime.md for the lifecycle, runc(8) for
//! the verbs). A bundle's config is turned into the same `RunConfig` that `hutch run` builds
//! from its options (spec.rs), so both start containers through one setup path.
//!
//! Lifecycle without re-exec: `create` clones the container's process as `hutch run` does; it
//! sets the container up, then blocks opening `<state>/<id>/exec.fifo` for writing, just before
//! execve. `start` opens the fifo for reading, which lets it through; the fifo then carries the
//! error of a failed exec back to `start` (it is close-on-exec, so end of file means the
//! command runs). A container is `created` while its process lives and the fifo exists.
//!
//! The state directory is hutch's own (state.rs): an OCI container is an entry like a named
//! one, with a `bundle` line and a copy of config.json (so `delete` runs the poststop hooks
//! even when the bundle is gone). `ps`, `kill`, `exec` and `list` work on both kinds.
pub mod hooks;
pub mod spec;

use alloc::vec::Vec;
use core::ffi::{c_int, CStr};
use core::mem::ManuallyDrop;

use crate::buf::{fd_path, Buf};
use crate::child::Args;
use crate::cli::{self, name, options, Opt, Value};
use crate::config::leak;
use crate::error::{Context, Error, Result};
use crate::json::Writer;
use crate::msg::{m, Msg};
use crate::state::{self, Entry, Root};
use crate::sys::{self, Errno};
use crate::{cgroup, container, lifecycle};
use spec::Spec;

/// The step of the child's request that the parent run the runtime's hooks (hooks.rs).
pub const HOOKS: Msg = m!("run hooks");

/// What the OCI lifecycle adds to a container's start; the child reads it too.
pub struct Create<'a> {
    pub id: &'static CStr,
    pub bundle: &'a [u8],
    pub spec: &'a Spec,
    /// O_PATH fd of `exec.fifo`.
    pub fifo: c_int,
    /// `--console-socket`, connected, or -1.
    pub console: c_int,
    pub preserve_fds: c_int,
    /// A new session keyring (not with `--no-new-keyring`).
    pub keyring: bool,
}

impl Create<'_> {
    /// Whether the parent has hooks to run while the child waits (prestart, createRuntime).
    pub fn runtime_hooks(&self) -> bool {
        !self.spec.hooks.prestart.is_empty() || !self.spec.hooks.create_runtime.is_empty()
    }

    /// The state JSON the hooks read on their stdin. Leaked: the process that asks execs or
    /// exits soon after, and no drop code is made.
    pub fn state(&self, status: Status, pid: c_int) -> &'static [u8] {
        let mut w = Writer::default();
        state_json(&mut w, self.id.to_bytes(), status, pid, self.bundle, &self.spec.annotations, None);
        w.out.leak()
    }
}

// --- Steps of the container's process (child.rs), each a no-op without `create`.

/// runc's default: the container gets a session keyring of its own, named after it, instead
/// of the caller's (keyrings(7)). A kernel without keyrings is no error.
pub fn join_session_keyring(oci: Option<&Create>) -> Result<()> {
    match oci.filter(|o| o.keyring).map(|o| sys::join_session_keyring(o.id)) {
        Some(Err(e)) if e != Errno(libc::ENOSYS) => Err(Error::sys(m!("joining session keyring"), b"", e)),
        _ => Ok(()),
    }
}

/// Before the root switch: the parent's prestart and createRuntime hooks (this process waits),
/// then createContainer hooks here, in the container's namespaces.
pub fn before_switch(a: &Args) -> Result<()> {
    let Some(o) = a.oci else { return Ok(()) };
    if o.runtime_hooks() {
        Error::msg(HOOKS, b"", m!("")).send(a.err_fd);
        let mut go = [0u8; 1];
        if sys::read(a.sync_fd, &mut go) != Ok(1) {
            return Err(Error::msg(m!("waiting for hooks"), b"", m!("hutch exited")));
        }
    }
    hooks::run_all(&o.spec.hooks.create_container, o.state(Status::Creating, a.pid), m!("createContainer hook"))
}

/// The first fd not passed on to the command: `--preserve-fds N` keeps 3..3+N open.
pub fn preserve_fds(n: c_int) -> c_int {
    for fd in 3..3 + n {
        let _ = sys::keep_on_exec(fd);
    }
    3 + n
}

/// The last step before execve under `create`: the container outlives `create` from here,
/// tells it that its setup is done, and waits until `start` opens the exec fifo; then the
/// startContainer hooks. Errors go to `start` through the fifo from then on.
pub fn await_start(a: &mut Args) -> Result<()> {
    let Some(o) = a.oci else { return Ok(()) };
    find_command(a.cfg.command[0], a.env)?;
    sys::prctl(libc::PR_SET_PDEATHSIG, 0, 0).at(m!("clearing parent death signal"), b"")?;
    // A `create` that died before the death signal was cleared fails: no container is left.
    if sys::reader_gone(a.err_fd) {
        return Err(Error::msg(m!("waiting for parent"), b"", m!("hutch exited")));
    }
    sys::close(a.err_fd);
    a.err_fd = -1;
    let fifo = sys::open(fd_path(o.fifo).cstr(), libc::O_WRONLY).at(m!("opening exec fifo"), b"")?;
    a.err_fd = fifo;
    sys::close(o.fifo);
    sys::write_all(fifo, b"0").at(m!("writing exec fifo"), b"")?;
    hooks::run_all(&o.spec.hooks.start_container, o.state(Status::Created, a.pid), m!("startContainer hook"))
}

/// runc's check before the wait: the command exists (PATH searched as execvp does), so that
/// a missing one fails `create` (status 127, the message clients look for) and not `start`.
fn find_command(cmd: &CStr, env: &[&'static CStr]) -> Result<()> {
    // The exec's own search (child.rs), with "exists" as the attempt: Errno(0) when found.
    match crate::child::search(cmd, env, &mut |p| Errno(if sys::exists(p) { 0 } else { libc::ENOENT })) {
        Errno(0) => Ok(()),
        e => Err(Error::sys(crate::error::EXEC, cmd.to_bytes(), e)),
    }
}

// --- The verbs.

/// The global options (before the verb), as runc's.
#[derive(Default)]
pub struct Global {
    pub root: Option<&'static CStr>,
    pub log: Option<&'static CStr>,
    pub json: bool,
    /// Report errors as OCI clients expect: `hutch: error: ...`, and in the log.
    pub oci: bool,
    /// `--debug`: the command line and its outcome at level debug.
    pub debug: bool,
}

/// Writes `text` at `level` to `--log` (text or JSON lines, as logrus writes them: conmon and
/// containerd's shim parse them) and to stderr; debug lines to one of them, the log if any,
/// as runc's do (a client reading hutch's stderr sees no more than without `--debug`).
pub fn report(g: &Global, level: &[u8], text: &[u8]) {
    if g.log.is_none() || level != b"debug" {
        let mut line = Buf::<640>::new();
        line.push(b"hutch: ").push(level).push(b": ").push(text).push(b"\n");
        let _ = sys::write_all(2, line.as_bytes());
    }
    let Some(path) = g.log else { return };
    let mut time = Buf::<32>::new();
    rfc3339(&mut time, sys::now());
    // Kept to exit (no drop code).
    let mut w = ManuallyDrop::new(Writer::default());
    if g.json {
        w.open(b'{').key(b"level").str(level).key(b"msg").str(text).key(b"time").str(time.as_bytes()).close(b'}');
    } else {
        let msg = &*core::mem::replace(&mut w.str(text).out, Vec::from(&b"time=\""[..])).leak();
        let out = &mut w.out;
        out.extend_from_slice(time.as_bytes());
        out.extend_from_slice(b"\" level=");
        out.extend_from_slice(level);
        out.extend_from_slice(b" msg=");
        out.extend_from_slice(msg);
    }
    w.out.push(b'\n');
    let _ = sys::write_file_at(libc::AT_FDCWD, path, &w.out, libc::O_CREAT | libc::O_APPEND);
}

crate::pack::packed!(USAGE = "\
OCI runtime (runc's commands and options):
  create [-b DIR] [--pid-file F] [--console-socket S] [--preserve-fds N] ID
  run [create's options] [-d] ID | start ID | state ID | kill [-a] ID [SIG]
  delete [-f] ID | exec [-p FILE] [-d] ID [CMD...] | list | ps ID
  pause ID | resume ID | spec [--rootless] [-b DIR] | features
");

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum O {
    Bundle,
    PidFile,
    Console,
    NoPivot,
    NoKeyring,
    PreserveFds,
    Detach,
    Keep,
    Force,
    All,
    Format,
    Quiet,
    Rootless,
    Ignored,
    // The global ones (cli.rs walks them before the verb with this same table).
    Root,
    Log,
    LogFormat,
    Systemd,
    Debug,
    Version,
    // `exec`'s own (exec.rs has its table).
    Env,
    Workdir,
    User,
    Tty,
    Process,
    Cap,
    NoNewPrivs,
    Gids,
    Mac,
}

/// One table for every verb and the global options (runc's names); a verb ignores what it
/// does not use. The first seven are only runc's `run`'s, not hutch's.
pub const OPTS: &[Opt<O>] = &[
    Opt { short: b'b', long: name("bundle"), value: Value::Required, id: O::Bundle },
    Opt { short: 0, long: name("pid-file"), value: Value::Required, id: O::PidFile },
    Opt { short: 0, long: name("console-socket"), value: Value::Required, id: O::Console },
    Opt { short: 0, long: name("no-new-keyring"), value: Value::None, id: O::NoKeyring },
    Opt { short: 0, long: name("preserve-fds"), value: Value::Required, id: O::PreserveFds },
    Opt { short: 0, long: name("keep"), value: Value::None, id: O::Keep },
    // hutch's run never makes itself a subreaper: what --no-subreaper asks already.
    Opt { short: 0, long: name("no-subreaper"), value: Value::None, id: O::Ignored },
    Opt { short: 0, long: name("no-pivot"), value: Value::None, id: O::NoPivot },
    Opt { short: b'd', long: name("detach"), value: Value::None, id: O::Detach },
    Opt { short: b'f', long: name("force"), value: Value::None, id: O::Force },
    Opt { short: b'a', long: name("all"), value: Value::None, id: O::All },
    Opt { short: 0, long: name("format"), value: Value::Required, id: O::Format },
    Opt { short: b'q', long: name("quiet"), value: Value::None, id: O::Quiet },
    Opt { short: 0, long: name("rootless"), value: Value::Optional, id: O::Rootless },
    Opt { short: 0, long: name("root"), value: Value::Required, id: O::Root },
    Opt { short: 0, long: name("log"), value: Value::Required, id: O::Log },
    Opt { short: 0, long: name("log-format"), value: Value::Required, id: O::LogFormat },
    Opt { short: 0, long: name("debug"), value: Value::None, id: O::Debug },
    Opt { short: 0, long: name("systemd-cgroup"), value: Value::None, id: O::Systemd },
    Opt { short: b'v', long: name("version"), value: Value::None, id: O::Version },
    Opt { short: 0, long: name("criu"), value: Value::Required, id: O::Ignored },
];

/// The options' values, by `O` (exec's own are not stored here, but have a slot: no index
/// is out of bounds); a flag's is empty.
pub struct Opts(pub [Option<&'static CStr>; O::Mac as usize + 1]);

impl Default for Opts {
    #[inline(never)] // one copy of the zeroing, not one per caller (measured)
    fn default() -> Self {
        Opts([None; O::Mac as usize + 1])
    }
}

impl Opts {
    pub fn v(&self, id: O) -> Option<&'static CStr> {
        self.0[id as usize]
    }

    pub fn on(&self, id: O) -> bool {
        self.v(id).is_some()
    }

    /// `--format json` (else table).
    fn json(&self) -> bool {
        self.v(O::Format).is_some_and(|f| f.to_bytes() == b"json")
    }
}

/// Options before, between and after the operands, as runc takes them (`delete ID --force`).
/// Returns the operands, or `None` after printing the usage for `--help`.
fn parse(args: &[&'static CStr], o: &mut Opts) -> Result<Option<&'static [&'static CStr]>> {
    // Kept to hutch's exit (no drop code).
    let mut ops = ManuallyDrop::new(Vec::new());
    let mut rest = args;
    loop {
        let Some(walked) = options(rest, OPTS, m!("see 'hutch --help'"), &mut |id, v| Ok(o.0[id as usize] = Some(v)))? else {
            cli::print(&unpacked(&USAGE));
            return Ok(None);
        };
        let Some((&op, tail)) = walked.split_first() else { break };
        ops.push(op);
        rest = tail;
    }
    if let Some(f) = o.v(O::Format).filter(|f| crate::config::word_index(b"json table", f.to_bytes()).is_none()) {
        return Err(Error::msg(m!("invalid format"), f.to_bytes(), m!("expected table or json")));
    }
    Ok(Some(ManuallyDrop::into_inner(ops).leak()))
}

/// Whether `args` hold an option only runc's `run` has (`-b`, `--bundle`, `--pid-file`...).
pub fn has_run_option(args: &[&'static CStr]) -> bool {
    args.iter().any(|a| {
        let a = a.to_bytes();
        a == b"-b" || OPTS[..7].iter().any(|o| a.strip_prefix(b"--").is_some_and(|l| l.starts_with(cli::long(&o.long))))
    })
}

/// The verbs `main` runs, in the order of their indexes below.
const VERBS: &[u8] = b"spec features list create run delete start state pause resume";
const SPEC: usize = 0;
const FEATURES: usize = 1;
const LIST: usize = 2;
const CREATE: usize = 3;
const RUN: usize = 4;
const DELETE: usize = 5;
const START: usize = 6;
const STATE: usize = 7;
const PAUSE: usize = 8;

/// Runs an OCI verb (`verb` is known to be one).
#[inline(never)] // smaller out of line (measured)
pub fn main(verb: &[u8], args: &[&'static CStr], g: &Global, env: &[&'static CStr]) -> Result<c_int> {
    let mut o = Opts::default();
    let Some(ops) = parse(args, &mut o)? else { return Ok(0) };
    let v = crate::config::word_index(VERBS, verb);
    match v {
        Some(SPEC) => return spec(&o),
        Some(FEATURES) => {
            cli::print(&features());
            return Ok(0);
        }
        None => return Err(Error::msg(m!("unknown command"), verb, m!("try 'hutch --help'"))),
        _ => {}
    }
    let root = state::open_root(g.root, env)?;
    if v == Some(LIST) {
        return list(&root, &o);
    }
    let [id] = ops[..] else {
        return Err(Error::msg(m!("usage"), verb, m!("expected one container ID (see 'hutch --help')")));
    };
    let id = id.to_bytes();
    match v {
        Some(CREATE | RUN) => return create(g, &root, &o, id, v == Some(RUN)),
        Some(DELETE) => return delete(g, &root, id, o.on(O::Force)),
        Some(START) => return start(g, &root, id),
        _ => {}
    }
    // state, pause, resume: pausing needs a running container.
    let (e, status) = find(&root, id, if v >= Some(PAUSE) { Status::Running } else { Status::Stopped })?;
    match v {
        Some(STATE) => {
            let (_, mut t) = described(&root, id, &e, status, true);
            t.push(b'\n');
            sys::write_all(1, &t).at(m!("writing"), b"stdout").map(|()| 0)
        }
        _ => match e.get(b"cgroups") {
            b"" => Err(Error::msg(m!("pausing"), id, m!("the container has no cgroup of its own"))),
            dirs => cgroup::freeze(dirs, v == Some(PAUSE)).map(|()| 0),
        },
    }
}

/// `create` and `run`.
fn create(g: &Global, root: &Root, o: &Opts, id: &[u8], run: bool) -> Result<c_int> {
    let idc = state::check_name(leak(id))?;
    // The bundle as an absolute path (the state JSON shows it): `-b`, else the working directory.
    let b = o.v(O::Bundle).map_or(&b""[..], CStr::to_bytes);
    let mut bundle = Buf::<4096>::new();
    if b.first() != Some(&b'/') {
        bundle.push(sys::readlink(c"/proc/self/cwd").at(m!("finding bundle"), b)?.as_bytes());
        if !b.is_empty() && b != b"." {
            bundle.push(b"/").push(b);
        }
    } else {
        bundle.push(b);
    }
    let mut path = bundle;
    // Leaked, as the spec that points into it is (no drop code).
    let text = &*sys::read_file(path.push(b"/config.json").cstr()).at(m!("reading config"), path.as_bytes())?.leak();
    let spec = spec::parse(leak(text).to_bytes(), bundle.as_bytes())?;
    spec.run.no_pivot |= o.on(O::NoPivot);
    // runc's default cgroup: the container's ID, under the runtime's own.
    spec.run.limits.cgroup_name.get_or_insert(idc);
    for w in spec.run.oci.as_ref().map_or(&[][..], |o| &o.warnings) {
        report(g, b"warning", w.to_bytes());
    }
    let foreground = run && !o.on(O::Detach);
    let preserve_fds = match o.v(O::PreserveFds).map(|n| crate::config::parse_num(n.to_bytes())) {
        None => 0,
        Some(Some(n @ 0..=65536)) => n as c_int,
        Some(_) => return Err(Error::msg(m!("invalid --preserve-fds"), b"", m!("expected a number of fds"))),
    };
    match (spec.run.tty, o.on(O::Console)) {
        (true, false) if !foreground => return Err(Error::msg(m!("create"), id, m!("process.terminal needs --console-socket"))),
        (false, true) => return Err(Error::msg(m!("create"), id, m!("--console-socket needs process.terminal"))),
        _ => {}
    }
    // Without a mount namespace, which mount the rootfs is on before the container's own.
    let host_mounts = crate::rootfs::host_mounts(&spec.run);
    let rootfs = spec.run.rootfs;
    let before = if host_mounts { sys::mount_id(rootfs).at(m!("reading mount"), rootfs.to_bytes())? } else { 0 };
    state::create(root, id)?;
    // Kept to hutch's exit (no drop code).
    let mut entry = ManuallyDrop::new(Vec::new());
    let made = (|| {
        state::write(root, id, b"config.json", text)?;
        let fifo = state::path(id, b"exec.fifo");
        sys::mkfifoat(root.fd, fifo.clone().cstr(), 0o622).at(m!("creating exec fifo"), fifo.as_bytes())?;
        let fifo = sys::openat(root.fd, fifo.clone().cstr(), libc::O_PATH, 0).at(m!("opening exec fifo"), fifo.as_bytes())?;
        let console = match o.v(O::Console) {
            Some(s) => sys::connect_unix(s).at(m!("connecting to console socket"), s.to_bytes())?,
            None => -1,
        };
        let c = Create { id: idc, bundle: bundle.as_bytes(), spec: &spec, fifo, console, preserve_fds, keyring: !o.on(O::NoKeyring) };
        let mut born = |pid| {
            entry = ManuallyDrop::new(lifecycle::entry(&spec.run, &spec.env, pid));
            lifecycle::line(&mut entry, b"bundle", bundle.as_bytes());
            if host_mounts {
                lifecycle::line_num(&mut entry, b"rootmnt", before);
            }
            state::write(root, id, b"state", &entry)
        };
        let started = container::spawn(&spec.run, &spec.env, Some(&c), &mut born);
        sys::close(fifo);
        sys::close(console);
        let started = started?;
        let written = o.v(O::PidFile).map_or(Ok(()), |f| pid_dir(f).and_then(|d| write_pid_file(d, started.pid)));
        if written.is_err() {
            let _ = sys::kill(started.pid, libc::SIGKILL);
        }
        written.map(|()| started)
    })();
    let mut started = match made {
        Ok(s) => s,
        Err(e) => {
            if host_mounts {
                crate::rootfs::detach_host_mounts(rootfs, before);
            }
            let _ = state::remove(root, id);
            return Err(e);
        }
    };
    // The container outlives `create` (and `run -d`), its cgroups too: `delete` removes them.
    // Their directories are leaked (no drop code).
    let mut record = |dirs: &[u8]| {
        if dirs.is_empty() {
            return Ok(0);
        }
        lifecycle::line(&mut entry, b"cgroups", dirs);
        state::write(root, id, b"state", &entry).map(|()| 0)
    };
    if run {
        if let Err(e) = start(g, root, id) {
            let _ = delete(g, root, id, true);
            return Err(e);
        }
    }
    if !foreground {
        return record(started.detach().leak());
    }
    // runc's `run --keep`: the stopped container stays for `state` and `delete`.
    let keep = o.on(O::Keep);
    if keep {
        record(started.keep_cgroups().leak())?;
    }
    let code = started.wait()?;
    if !keep {
        delete(g, root, id, true)?;
    }
    Ok(code)
}

/// `--pid-file`: whole or not at all, as runc writes it (its readers poll for it). The
/// directory is opened first (`exec` joins the container's mount namespace before the pid is
/// known): the fd, and the file's name in it.
pub fn pid_dir(f: &CStr) -> Result<(c_int, &CStr)> {
    let b = f.to_bytes();
    let split = b.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
    let mut dir = Buf::<4096>::new();
    dir.push(if split == 0 { b"." } else { &b[..split] });
    let fd = sys::open(dir.cstr(), libc::O_PATH | libc::O_DIRECTORY).at(m!("opening pid file directory"), dir.as_bytes())?;
    Ok((fd, &f[split..]))
}

pub fn write_pid_file((dir, name): (c_int, &CStr), pid: c_int) -> Result<()> {
    let mut tmp = Buf::<4096>::new();
    tmp.push(b".").push(name.to_bytes());
    let r = state::replace(dir, tmp.cstr(), name, Buf::<16>::new().num(pid as u64).as_bytes()).at(m!("writing pid file"), name.to_bytes());
    sys::close(dir);
    r
}

/// `start`: lets the created container's process through its exec fifo, then the poststart
/// hooks.
fn start(g: &Global, root: &Root, id: &[u8]) -> Result<c_int> {
    let (e, status) = find(root, id, Status::Stopped)?;
    match status {
        Status::Created => {}
        Status::Stopped => return Err(Error::msg(m!("cannot start a stopped container"), id, m!("delete it"))),
        _ => return Err(Error::msg(m!("cannot start a running container"), id, m!("it was started already"))),
    }
    let mut path = state::path(id, b"exec.fifo");
    // Not blocking: a process that died before opening its end would keep `start` waiting.
    let fd = sys::openat(root.fd, path.cstr(), libc::O_RDONLY | libc::O_NONBLOCK, 0).at(m!("opening exec fifo"), path.as_bytes())?;
    let mut zero = [0u8; 1];
    let r = loop {
        match sys::read(fd, &mut zero) {
            Ok(1) => break sys::set_blocking(fd).at(m!("reading exec fifo"), path.as_bytes()),
            Err(Errno(libc::EAGAIN)) | Ok(_) if e.alive() => sys::sleep_ms(5),
            _ => break Err(Error::msg(m!("starting container"), id, m!("its process has exited"))),
        }
    };
    let failed = r.map(|()| Error::receive(fd));
    sys::close(fd);
    let _ = sys::unlinkat(root.fd, path.cstr(), 0);
    if let Some(err) = failed? {
        return Err(err);
    }
    post_hooks(g, root, id, &e, Status::Running);
    Ok(0)
}

/// `delete [--force]`: removes a stopped container (kills it first when forced), runs the
/// poststop hooks and removes its state.
pub fn delete(g: &Global, root: &Root, id: &[u8], force: bool) -> Result<c_int> {
    let (e, status) = match find(root, id, Status::Stopped) {
        Err(_) if force => return Ok(0),
        r => r?,
    };
    // runtime.md: deleting a container that is not stopped (created included) is an error;
    // podman and containerd's shim pass --force where they mean it.
    match status {
        Status::Stopped => {}
        _ if force => {
            // A paused container's frozen init would not act on SIGKILL until thawed.
            let _ = cgroup::freeze(e.get(b"cgroups"), false);
            // SIGKILL to its init (the kernel then kills its PID namespace), and a wait, up to
            // 10 s, for it to be gone: its parent (a subreaper, or init) reaps it.
            lifecycle::kill_and_wait(root, id, &e);
        }
        _ => return Err(Error::msg(m!("cannot delete a container that is not stopped"), id, m!("kill it first, or use delete --force"))),
    }
    cgroup::remove(e.get(b"cgroups"));
    if let Some(before) = crate::config::parse_num(e.get(b"rootmnt")) {
        crate::rootfs::detach_host_mounts(leak(e.get(b"rootfs")), before);
    }
    post_hooks(g, root, id, &e, Status::Stopped);
    state::remove(root, id)?;
    Ok(0)
}

/// A container's status (runtime-spec runtime.md), in the order `find` compares them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Stopped,
    Created,
    Running,
    Paused,
    /// Only the hooks see it, during `create`.
    Creating,
}

/// Their names, by `Status`.
const STATUS: [&[u8]; 5] = [b"stopped", b"created", b"running", b"paused", b"creating"];

/// Every verb's first step: the entry of container `id` and its status, which must be at
/// least `least` (else the container "is not running").
fn find(root: &Root, id: &[u8], least: Status) -> Result<(Entry<'static>, Status)> {
    let e = state::read(root, id)?;
    let status = match () {
        _ if !e.alive() => Status::Stopped,
        _ if sys::file_type(root.fd, state::path(id, b"exec.fifo").cstr()).is_ok() => Status::Created,
        _ if cgroup::frozen(e.get(b"cgroups")) => Status::Paused,
        _ => Status::Running,
    };
    if status < least {
        return Err(Error::msg(m!("container is not running"), id, m!("see 'hutch list'")));
    }
    Ok((e, status))
}

/// The config.json copied into an OCI entry; `None` for hutch's own containers. Kept for the
/// rest of this short-lived process, as the text it points into is.
pub fn stored_spec(root: &Root, id: &[u8], e: &Entry) -> Option<&'static Spec> {
    let text = sys::read_file_at(root.fd, state::path(id, b"config.json").cstr()).ok()?.leak();
    spec::parse(leak(text).to_bytes(), e.get(b"bundle")).ok().map(|s| &*s)
}

/// The state JSON of entry `e` at `status`, with its config's annotations (and runc's own
/// fields when `full`); and that config, for its hooks.
fn described(root: &Root, id: &[u8], e: &Entry, status: Status, full: bool) -> (Option<&'static Spec>, ManuallyDrop<Vec<u8>>) {
    let spec = stored_spec(root, id, e);
    let ann = spec.as_ref().map_or(&[][..], |s| &s.annotations[..]);
    let mut w = Writer::default();
    state_json(&mut w, id, status, e.pid(), e.get(b"bundle"), ann, full.then_some(e));
    (spec, ManuallyDrop::new(w.out))
}

/// The poststart hooks once `status` is running, the poststop ones once stopped: a failure is
/// only a warning (config.md).
fn post_hooks(g: &Global, root: &Root, id: &[u8], e: &Entry, status: Status) {
    if let (Some(spec), st) = described(root, id, e, status, false) {
        let (hooks, kind) = match status {
            Status::Running => (&spec.hooks.poststart, m!("poststart hook")),
            _ => (&spec.hooks.poststop, m!("poststop hook")),
        };
        hooks::run_warning(g, hooks, &st, kind);
    }
}

/// The state of runtime.md, plus what runc adds (rootfs, created, owner) when `e` is given,
/// onto `w`; the pid is 0 once stopped.
fn state_json(w: &mut Writer, id: &[u8], status: Status, pid: c_int, bundle: &[u8], ann: &[(&CStr, &CStr)], e: Option<&Entry>) {
    let pid = if status == Status::Stopped { 0 } else { pid };
    w.open(b'{').key(b"ociVersion").str(b"1.2.0").key(b"id").str(id).key(b"status").str(STATUS[status as usize]);
    w.key(b"pid").num(pid as u64).key(b"bundle").str(bundle);
    if let Some(e) = e {
        let mut t = Buf::<32>::new();
        rfc3339(&mut t, e.num(b"created"));
        w.key(b"rootfs").str(e.get(b"rootfs")).key(b"created").str(t.as_bytes()).key(b"owner").str(b"");
    }
    if !ann.is_empty() {
        w.key(b"annotations").open(b'{');
        for (k, v) in ann {
            w.key(k.to_bytes()).str(v.to_bytes());
        }
        w.close(b'}');
    }
    w.close(b'}');
}

/// `2026-11-29T06:53:00Z`, from seconds since the epoch (days to a civil date as in Howard
/// Hinnant's `civil_from_days`).
pub fn rfc3339(b: &mut Buf<32>, secs: u64) {
    let z = (secs / 86400) as i64 + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let (d, m) = (doy - (153 * mp + 2) / 5 + 1, if mp < 10 { mp + 3 } else { mp - 9 });
    let y = yoe + era * 400 + (m <= 2) as i64;
    let s = secs % 86400;
    b.num(y as u64);
    for (sep, n) in [(b'-', m as u64), (b'-', d as u64), (b'T', s / 3600), (b':', s / 60 % 60), (b':', s % 60)] {
        b.push(&[sep, b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]);
    }
    b.push(b"Z");
}

/// `list [--format table|json] [-q]`: every container of the state directory.
#[inline(never)] // smaller out of line (measured)
fn list(root: &Root, o: &Opts) -> Result<c_int> {
    // One buffer for either form, kept to exit (no drop code).
    let mut w = ManuallyDrop::new(Writer::default());
    let (json, quiet) = (o.json(), o.on(O::Quiet));
    if json {
        w.open(b'[');
    } else if !quiet {
        w.out.extend_from_slice(b"ID                 PID       STATUS    BUNDLE    CREATED                OWNER\n");
    }
    for &id in state::names(root)? {
        let Ok((e, status)) = find(root, id, Status::Stopped) else { continue };
        let out = &mut w.out;
        if json {
            state_json(&mut w, id, status, e.pid(), e.get(b"bundle"), &[], Some(&e));
        } else if quiet {
            out.extend_from_slice(id);
            out.push(b'\n');
        } else {
            let mut t = Buf::<32>::new();
            rfc3339(&mut t, e.num(b"created"));
            let pid = if status == Status::Stopped { 0 } else { e.pid() };
            pad(out, id, 19);
            pad(out, Buf::<16>::new().num(pid as u64).as_bytes(), 10);
            pad(out, STATUS[status as usize], 10);
            pad(out, e.get(b"bundle"), 10);
            pad(out, t.as_bytes(), 23);
            out.extend_from_slice(b"root\n");
        }
    }
    if json {
        w.close(b']');
        w.out.push(b'\n');
    }
    sys::write_all(1, &w.out).at(m!("writing"), b"stdout")?;
    Ok(0)
}

/// A table column: `text`, then spaces up to `width` (one at least).
pub fn pad(out: &mut Vec<u8>, text: &[u8], width: usize) {
    out.extend_from_slice(text);
    out.resize(out.len() + width.saturating_sub(text.len()).max(1), b' ');
}

/// The host pids of the container's processes: those in the PID and mount namespaces of its
/// init (hutch always makes a mount namespace; `exec` joins both). Leaked, with the listing
/// of /proc (no drop code).
pub fn pids(init: c_int) -> &'static [c_int] {
    // A process's two namespaces, as their links read: `pid:[...]mnt:[...]`; into `key`,
    // whether both could be read.
    let ns = |pid: u64, key: &mut Buf<128>| {
        [&b"pid"[..], b"mnt"].iter().all(|which| match sys::readlink(Buf::<64>::new().push(b"/proc/").num(pid).push(b"/ns/").push(which).cstr()) {
            Ok(l) => {
                key.push(l.as_bytes());
                true
            }
            Err(_) => false,
        })
    };
    let mut found = ManuallyDrop::new(Vec::new());
    let (mut want, mut own) = (Buf::<128>::new(), Buf::<128>::new());
    if !ns(init as u64, &mut want) {
        return &[];
    }
    // A container in hutch's own PID and mount namespaces (a config with neither): its
    // init alone, never every process of the host.
    if ns(sys::getpid() as u64, &mut own) && own.as_bytes() == want.as_bytes() {
        found.push(init);
        return ManuallyDrop::into_inner(found).leak();
    }
    let Ok(fd) = sys::open(c"/proc", libc::O_RDONLY | libc::O_DIRECTORY) else { return &[] };
    let names = sys::dir_names(fd).unwrap_or_default().leak();
    sys::close(fd);
    for n in names.split(|&c| c == 0) {
        if let Some(pid) = crate::config::parse_num(n) {
            let mut key = Buf::<128>::new();
            if ns(pid, &mut key) && key.as_bytes() == want.as_bytes() {
                found.push(pid as c_int);
            }
        }
    }
    ManuallyDrop::into_inner(found).leak()
}

/// `kill [-a] ID [SIGNAL]`, for both kinds of entry: the signal (a name or number) to the
/// container's init, or with `-a` to all its processes. The default is runc's TERM for an OCI
/// container, KILL for hutch's own (its init ignores TERM unless it handles it).
pub fn kill(root: &Root, args: &[&'static CStr]) -> Result<c_int> {
    let mut o = Opts::default();
    let Some(ops) = parse(args, &mut o)? else { return Ok(0) };
    let (id, sig) = match ops[..] {
        [id] => (id.to_bytes(), None),
        [id, s] => (id.to_bytes(), Some(lifecycle::signal(s.to_bytes())?)),
        _ => return Err(Error::msg(m!("kill"), b"", m!("usage: hutch kill [-a] ID [SIGNAL]"))),
    };
    let (e, _) = find(root, id, Status::Created)?;
    let sig = sig.unwrap_or(if e.get(b"bundle").is_empty() { libc::SIGKILL } else { libc::SIGTERM });
    let init = [e.pid()];
    let all = if o.on(O::All) { pids(e.pid()) } else { &init[..] };
    for &pid in all {
        match sys::kill(pid, sig) {
            Err(Errno(libc::ESRCH)) if o.on(O::All) => {}
            r => r.at(m!("sending signal"), id)?,
        }
    }
    Ok(0)
}

/// `ps [--format table|json] ID`: the container's processes, as their pids (JSON, what
/// containerd reads) or a table of pids and command lines (runc's runs the host's `ps -ef`,
/// which a bare host may not have).
pub fn ps(root: &Root, id: &[u8], json: bool) -> Result<c_int> {
    let (e, _) = find(root, id, Status::Created)?;
    // Kept to exit (no drop code).
    let mut w = ManuallyDrop::new(Writer::default());
    w.open(b'[');
    let mut out = ManuallyDrop::new(Vec::from(&b"PID      COMMAND\n"[..]));
    for &pid in pids(e.pid()) {
        w.num(pid as u64);
        let mut proc = Buf::<32>::new();
        proc.push(b"/proc/").num(pid as u64);
        pad(&mut out, &proc.as_bytes()[6..], 9);
        // The arguments, NUL-separated; a process that has just ended has none.
        let mut args = sys::read_file(proc.push(b"/cmdline").cstr()).unwrap_or_default();
        args.pop();
        for c in &mut args {
            *c = if *c == 0 { b' ' } else { *c };
        }
        args.push(b'\n');
        out.extend_from_slice(&args);
    }
    w.close(b']').out.push(b'\n');
    sys::write_all(1, if json { &w.out } else { &out }).at(m!("writing"), b"stdout")?;
    Ok(0)
}

/// `spec [--rootless] [-b BUNDLE]`: a default config.json running `sh`, as runc writes it;
/// an existing one is not overwritten.
fn spec(o: &Opts) -> Result<c_int> {
    let mut path = Buf::<4096>::new();
    if let Some(b) = o.v(O::Bundle) {
        path.push(b.to_bytes()).push(b"/");
    }
    path.push(b"config.json");
    let text = spec_text(o.v(O::Rootless).is_some_and(|v| v.to_bytes() != b"false"));
    match sys::write_file_at(libc::AT_FDCWD, path.cstr(), &text, libc::O_CREAT | libc::O_EXCL) {
        Err(Errno(libc::EEXIST)) => Err(Error::msg(m!("spec"), path.as_bytes(), m!("exists already: remove it first"))),
        r => r.at(m!("writing"), path.as_bytes()).map(|()| 0),
    }
}

/// runc's default config: with `rootless`, a user namespace mapping the caller's ids to 0 in
/// place of the network namespace. Kept to exit (no drop code).
fn spec_text(rootless: bool) -> ManuallyDrop<Vec<u8>> {
    let doc = unpacked(&SPEC_DOC);
    let mut text = ManuallyDrop::new(Vec::new());
    for (i, part) in doc.split(|&c| c == 0).enumerate() {
        // Parts 1 to 3 are the user namespace's, 4 the network namespace's.
        if matches!(i, 1..=3) != rootless && matches!(i, 1..=4) {
            continue;
        }
        text.extend_from_slice(part);
        match i {
            1 | 2 => drop(text.extend_from_slice(Buf::<16>::new().num(if i == 1 { sys::geteuid() } else { sys::getegid() } as u64).as_bytes())),
            5 | 6 => strings(&mut text, [crate::mounts::MASKED, crate::mounts::READ_ONLY][i - 5], b""),
            _ => {}
        }
    }
    text
}

crate::pack::packed!(
/// runc's default config (`runc spec`) in parts, at the NULs: up to the namespace list; a user
/// namespace's end of it, around the uid and the gid it maps; the network namespace's end of
/// it; the keys of the masked and read-only paths; the end.
SPEC_DOC = concat!(r#"{"ociVersion":"1.2.0","process":{"terminal":true,"user":{"uid":0,"gid":0},"args":["sh"],"env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"],"cwd":"/","capabilities":{"bounding":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"effective":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"permitted":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true},"root":{"path":"rootfs","readonly":true},"hostname":"hutch","mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},{"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},{"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},{"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]}],"linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}]},"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"cgroup"},"#,
    "\0",
    r#"{"type":"user"}],"uidMappings":[{"containerID":0,"hostID":"#,
    "\0",
    r#","size":1}],"gidMappings":[{"containerID":0,"hostID":"#,
    "\0",
    r#","size":1}]"#,
    "\0",
    r#"{"type":"network"}]"#,
    "\0",
    r#","maskedPaths":["#,
    "\0",
    r#"],"readonlyPaths":["#,
    "\0",
    "]}}\n"
));


/// runtime-spec features.md: what this runtime implements; the lists of mount options and
/// capabilities are the tables hutch applies.
fn features() -> ManuallyDrop<Vec<u8>> {
    let doc = unpacked(&FEATURES_DOC);
    let mut parts = doc.split(|&c| c == 0);
    let mut t = ManuallyDrop::new(Vec::from(parts.next().unwrap_or_default()));
    strings(&mut t, spec::MOUNT_OPTIONS, b"");
    // Propagation types, each also recursive (`r` prefixed).
    for prefix in [&b""[..], b"r"] {
        t.push(b',');
        strings(&mut t, spec::PROPAGATIONS, prefix);
    }
    t.extend_from_slice(parts.next().unwrap_or_default());
    strings(&mut t, crate::caps::NAMES.as_bytes(), b"CAP_");
    t.extend_from_slice(parts.next().unwrap_or_default());
    t
}

/// A packed text, expanded; kept to hutch's exit (no drop code).
fn unpacked(packed: &[u8]) -> ManuallyDrop<Vec<u8>> {
    let mut t = ManuallyDrop::new(Vec::new());
    crate::pack::unpack(packed, &mut t);
    t
}

/// `"a","b"` from the words of `list` (empty ones left out), each after `prefix`.
fn strings(t: &mut Vec<u8>, list: &[u8], prefix: &[u8]) {
    let mut first = true;
    for s in list.split(|&c| c == b' ') {
        if s.is_empty() {
            continue;
        }
        t.extend_from_slice(if first { b"\"" } else { b",\"" });
        t.extend_from_slice(prefix);
        t.extend_from_slice(s);
        t.push(b'"');
        first = false;
    }
}

crate::pack::packed!(
/// The features document around its generated lists (mount options, then capabilities), which
/// go where the NULs are.
FEATURES_DOC = concat!(
    r#"{"ociVersionMin":"1.0.0","ociVersionMax":"1.2.0","hooks":["prestart","createRuntime","createContainer","startContainer","poststart","poststop"],"mountOptions":["#,
    "\0",
    r#"],"linux":{"namespaces":["cgroup","ipc","mount","network","pid","time","user","uts"],"capabilities":["#,
    "\0",
    r#"],"cgroup":{"v1":true,"v2":true,"systemd":false,"systemdUser":false,"rdma":false},"seccomp":{"enabled":true,"actions":["SCMP_ACT_ALLOW","SCMP_ACT_ERRNO","SCMP_ACT_KILL","SCMP_ACT_KILL_PROCESS","SCMP_ACT_KILL_THREAD","SCMP_ACT_LOG","SCMP_ACT_TRAP"],"operators":["SCMP_CMP_EQ","SCMP_CMP_GE","SCMP_CMP_GT","SCMP_CMP_LE","SCMP_CMP_LT","SCMP_CMP_MASKED_EQ","SCMP_CMP_NE"],"archs":["SCMP_ARCH_AARCH64","SCMP_ARCH_X86_64"]},"apparmor":{"enabled":false},"selinux":{"enabled":false}}}
"#
));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let mut b = Buf::<32>::new();
        rfc3339(&mut b, 0);
        assert_eq!(b.as_bytes(), b"1970-01-01T00:00:00Z");
        let mut b = Buf::<32>::new();
        rfc3339(&mut b, 1_795_935_180);
        assert_eq!(b.as_bytes(), b"2026-11-29T06:53:00Z");
        let mut b = Buf::<32>::new();
        rfc3339(&mut b, 951_782_400); // a leap day
        assert_eq!(b.as_bytes(), b"2000-02-29T00:00:00Z");
    }

    #[test]
    fn options_anywhere() {
        let mut o = Opts::default();
        let ops = parse(&[c"kill", c"-a", c"id", c"KILL"], &mut o).unwrap().unwrap();
        assert!(o.on(O::All));
        assert_eq!(ops, [c"kill", c"id", c"KILL"]);
        let mut o = Opts::default();
        let ops = parse(&[c"id", c"--force", c"--bundle=/b", c"--pid-file", c"/p"], &mut o).unwrap().unwrap();
        assert!(o.on(O::Force) && o.v(O::Bundle) == Some(c"/b") && o.v(O::PidFile) == Some(c"/p"));
        assert_eq!(ops, [c"id"]);
        assert!(parse(&[c"id", c"--format", c"x"], &mut Opts::default()).is_err());
    }

    #[test]
    fn documents_are_json() {
        for text in [features(), spec_text(false), spec_text(true)].map(ManuallyDrop::into_inner) {
            let text: &'static [u8] = alloc::vec::Vec::leak(text.to_vec());
            assert!(crate::json::parse(text, b"x").is_ok(), "{}", alloc::string::String::from_utf8_lossy(text));
        }
        let mut w = Writer::default();
        state_json(&mut w, b"c1", Status::Created, 42, b"/b", &[(c"k", c"v")], None);
        assert_eq!(w.out, br#"{"ociVersion":"1.2.0","id":"c1","status":"created","pid":42,"bundle":"/b","annotations":{"k":"v"}}"#);
    }
}
