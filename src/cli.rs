//! The command line: one option table per verb, one loop that walks it, one function per verb.
use alloc::vec::Vec;
use core::ffi::CStr;

use crate::config::{self, EnvArg, LimitOpt, Net, RunConfig};
use crate::error::{Error, Result};
use crate::msg::{m, Msg};
use crate::oci::{self, O};
use crate::{caps, container, env, lifecycle, seccomp, sys, userns};

// The help texts: a tab stands for the spaces up to the description column (USAGE_COL,
// RUN_USAGE_COL; two after an option that reaches it), which would take a quarter of their
// bytes; and they are kept packed (pack.rs), which halves the rest.
const USAGE_COL: usize = 23;
const RUN_USAGE_COL: usize = 26;

crate::pack::packed!(USAGE = "\
Usage: hutch [--root DIR] COMMAND [ARG...]
       hutch --help | --version

A container runtime in one static binary. Commands:
  run [OPTIONS] ROOTFS\tCOMMAND [ARG...]
\trun COMMAND as PID 1 of a new container whose root is ROOTFS
  ps [--format json]\tlist named and detached containers (also: list)
  stop [-t SECONDS] NAME
\tSIGTERM, then SIGKILL after SECONDS (default 10)
  kill NAME [SIGNAL]\tsend SIGNAL (default KILL) to the container's PID 1
  rm [-f] NAME\tremove a stopped container (-f: kill it first)
  wait NAME\twait for the container to end, print its exit status
  logs [-f] NAME\ta detached container's output (-f: follow it)
  exec [-e KEY=VAL] [-w DIR] [-u USER] [-t] NAME COMMAND [ARG...]
\trun COMMAND in the running container NAME

  --root DIR\tthe state directory (default /run/hutch, or
\t$XDG_RUNTIME_DIR/hutch when not root)
  --log FILE, --log-format text|json
\talso write errors and warnings to FILE (OCI verbs)

As an OCI runtime, hutch takes runc's commands: create, start, state, kill,
delete, run ID, exec, list, ps ID, pause, resume, spec, features (see
'hutch create --help'). Run 'hutch run --help' for hutch's own run options.
");

crate::pack::packed!(RUN_USAGE = "\
Usage: hutch run [OPTIONS] ROOTFS COMMAND [ARG...]

Runs COMMAND as PID 1 in new mount, PID, UTS, IPC, net and cgroup namespaces (and
a user namespace when not root) with root ROOTFS; exits with its status.

  -h, --hostname NAME\thostname (default: hutch)
      --net host|none\tthe host's network, or (default) only loopback
  -e, --env KEY[=VAL]\tset a variable (KEY alone: hutch's value)*
      --env-file FILE\tKEY=VAL lines (# comments)*
  -w, --workdir DIR\tworking directory (default: /)
  -v, --volume SRC:DST[:ro|rw]\tbind-mount host path SRC at DST*
      --tmpfs DST[:OPTS]\ta tmpfs*; OPTS: size=N[k|m|g],mode=OCTAL,ro,nosuid,
\tnodev,noexec
      --ro, --read-only\tread-only root filesystem
      --overlay\twrite to a throwaway tmpfs layer; ROOTFS is unchanged
      --cap-add CAP\tadd to Docker's default set* (ALL; CAP_ optional, any
\tcase)
      --cap-drop CAP\tdrop a capability (ALL)*
      --privileged\tevery capability, no seccomp filter, no masked paths
      --new-privs\tno no_new_privs: setuid binaries may gain privileges
  -u, --user USER[:GROUP]\tname or number, names from the container's /etc/passwd
\tand /etc/group
      --ulimit NAME=SOFT[:HARD]\tnofile, nproc, core, memlock, stack, ...; a
\tnumber or unlimited*
      --userns[=auto|host]\ta user namespace whose root is an unprivileged host
\tuser (default when not root: the caller's uid and gid
\tmapped to 0); auto: 0 is the caller, 1.. its /etc/subuid
\tand /etc/subgid ranges (newuidmap, newgidmap); host: the
\thost's users (root only)
      --uidmap C:H:N\tmap uids C..C+N-1 to host H..H+N-1* (root: any; others:
\ttheir own and their /etc/subuid ranges)
      --gidmap C:H:N\tthe same for gids (default: like --uidmap)
      --no-pivot\tMS_MOVE + chroot, not pivot_root. Weaker: the host's
\troot stays mounted beneath, an unmount can uncover it.
\tAutomatic when / is an initramfs.
      --seccomp default|unconfined|FILE\tdefault: refuse what Docker's default
\tprofile refuses (modules, mount, namespaces, keyring,
\tbpf, ...) and 32-bit or x32 calls; FILE: an OCI seccomp
\tprofile (JSON) or a classic BPF program (sock_filter[])
      --name NAME\tname the container (listed by ps; unique)
  -d, --detach\trun in the background, print the name; output to a log
\t('hutch logs NAME')
  -t, --tty\ta terminal of its own, proxied to stdin/stdout (not -d)
      --init\ta minimal init as PID 1 (COMMAND is PID 2) forwards
\tsignals and reaps orphans
      --help\tthis help
  (* repeatable)

Resource limits (a cgroup of its own, v2 or v1):
      --memory SIZE\te.g. 512m (k, m, g)
      --memory-swap SIZE\tmemory plus swap; -1: no limit
      --pids N\tmost processes and threads at once
      --cpus DECIMAL\tCPU time in CPUs, e.g. 0.5
      --cpu-weight N\tCPU share, 1-10000 (or --cpu-shares 2-262144)
      --cpuset-cpus LIST\tCPUs to run on, e.g. 0-3,6
      --cgroup-parent PATH\tan existing cgroup to make it in
      --cgroup\ta cgroup even without a limit

Exit status: COMMAND's, or 128+N if killed by signal N (137: over --memory); 125
if hutch failed, 126 if COMMAND cannot be executed, 127 if not found.
");

/// How an option takes its value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// A flag: `--long`, `-s`.
    None,
    /// `--long V`, `--long=V`, `-s V`, `-sV`.
    Required,
    /// Only glued, so the next argument stays an operand: `--long` or `--long=V`.
    Optional,
}

/// An option of a verb's table; `id` is what the verb matches on.
pub struct Opt<T> {
    pub short: u8,
    pub long: Name,
    pub value: Value,
    pub id: T,
}

/// A long option's name in place, NUL-padded: the ~80 entries of the tables are 18 bytes
/// each, not 24 plus a string elsewhere.
pub type Name = [u8; 15];

pub const fn name(s: &str) -> Name {
    let mut n = [0; 15];
    let mut i = 0;
    while i < s.len() {
        n[i] = s.as_bytes()[i];
        i += 1;
    }
    n
}

/// The name without its padding.
pub fn long(n: &Name) -> &[u8] {
    &n[..n.iter().position(|&c| c == 0).unwrap_or(n.len())]
}

#[derive(Clone, Copy)]
enum RunOpt {
    Hostname,
    Net,
    Env,
    EnvFile,
    Workdir,
    Volume,
    Tmpfs,
    ReadOnly,
    Overlay,
    NoPivot,
    CapAdd,
    CapDrop,
    Privileged,
    NewPrivs,
    User,
    Ulimit,
    Seccomp,
    Userns,
    UidMap,
    GidMap,
    Limit(LimitOpt),
    Cgroup,
    Init,
    Name,
    Detach,
    Tty,
}

const RUN_OPTS: &[Opt<RunOpt>] = &[
    Opt { short: b'h', long: name("hostname"), value: Value::Required, id: RunOpt::Hostname },
    Opt { short: 0, long: name("net"), value: Value::Required, id: RunOpt::Net },
    Opt { short: 0, long: name("network"), value: Value::Required, id: RunOpt::Net },
    Opt { short: b'e', long: name("env"), value: Value::Required, id: RunOpt::Env },
    Opt { short: 0, long: name("env-file"), value: Value::Required, id: RunOpt::EnvFile },
    Opt { short: b'w', long: name("workdir"), value: Value::Required, id: RunOpt::Workdir },
    Opt { short: b'v', long: name("volume"), value: Value::Required, id: RunOpt::Volume },
    Opt { short: 0, long: name("tmpfs"), value: Value::Required, id: RunOpt::Tmpfs },
    Opt { short: 0, long: name("ro"), value: Value::None, id: RunOpt::ReadOnly },
    Opt { short: 0, long: name("read-only"), value: Value::None, id: RunOpt::ReadOnly },
    Opt { short: 0, long: name("overlay"), value: Value::None, id: RunOpt::Overlay },
    Opt { short: 0, long: name("no-pivot"), value: Value::None, id: RunOpt::NoPivot },
    Opt { short: 0, long: name("cap-add"), value: Value::Required, id: RunOpt::CapAdd },
    Opt { short: 0, long: name("cap-drop"), value: Value::Required, id: RunOpt::CapDrop },
    Opt { short: 0, long: name("privileged"), value: Value::None, id: RunOpt::Privileged },
    Opt { short: 0, long: name("new-privs"), value: Value::None, id: RunOpt::NewPrivs },
    Opt { short: b'u', long: name("user"), value: Value::Required, id: RunOpt::User },
    Opt { short: 0, long: name("ulimit"), value: Value::Required, id: RunOpt::Ulimit },
    Opt { short: 0, long: name("seccomp"), value: Value::Required, id: RunOpt::Seccomp },
    Opt { short: 0, long: name("userns"), value: Value::Optional, id: RunOpt::Userns },
    Opt { short: 0, long: name("uidmap"), value: Value::Required, id: RunOpt::UidMap },
    Opt { short: 0, long: name("gidmap"), value: Value::Required, id: RunOpt::GidMap },
    Opt { short: 0, long: name("memory"), value: Value::Required, id: RunOpt::Limit(LimitOpt::Memory) },
    Opt { short: 0, long: name("memory-swap"), value: Value::Required, id: RunOpt::Limit(LimitOpt::MemorySwap) },
    Opt { short: 0, long: name("pids"), value: Value::Required, id: RunOpt::Limit(LimitOpt::Pids) },
    Opt { short: 0, long: name("cpus"), value: Value::Required, id: RunOpt::Limit(LimitOpt::Cpus) },
    Opt { short: 0, long: name("cpu-weight"), value: Value::Required, id: RunOpt::Limit(LimitOpt::CpuWeight) },
    Opt { short: 0, long: name("cpu-shares"), value: Value::Required, id: RunOpt::Limit(LimitOpt::CpuShares) },
    Opt { short: 0, long: name("cpuset-cpus"), value: Value::Required, id: RunOpt::Limit(LimitOpt::CpusetCpus) },
    Opt { short: 0, long: name("cgroup-parent"), value: Value::Required, id: RunOpt::Limit(LimitOpt::CgroupParent) },
    Opt { short: 0, long: name("cgroup"), value: Value::None, id: RunOpt::Cgroup },
    Opt { short: 0, long: name("init"), value: Value::None, id: RunOpt::Init },
    Opt { short: 0, long: name("name"), value: Value::Required, id: RunOpt::Name },
    Opt { short: b'd', long: name("detach"), value: Value::None, id: RunOpt::Detach },
    Opt { short: b't', long: name("tty"), value: Value::None, id: RunOpt::Tty },
];

/// What the parsed command line asks for.
#[derive(Debug)]
pub enum Action {
    Help(Help),
    Version,
    /// Leaked: it lives until the command ends, and a reference moves in far less code.
    Run(&'static RunConfig),
    /// A verb acting on containers by name; its arguments follow it.
    Named(Verb),
    /// An OCI runtime verb (oci/mod.rs); its arguments follow it.
    Oci(&'static [u8]),
}

/// In `VERBS`' order; the first four have their one option in lifecycle.rs's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Ps,
    Stop,
    Rm,
    Logs,
    Wait,
    Kill,
    Exec,
}

/// `hutch ARGS...`, with the program name already removed.
#[inline(never)] // smaller out of line (measured)
pub fn parse(args: &[&'static CStr]) -> Result<Action> {
    let Some((verb, rest)) = args.split_first() else {
        return Err(Error::msg(m!("missing command"), b"", m!("try 'hutch --help'")));
    };
    let v = verb.to_bytes();
    // One walk of a word list, not one comparison per verb: the index picks the action.
    Ok(match config::word_index(VERBS, v) {
        Some(0 | 1) => Action::Help(Help::Hutch),
        Some(2 | 3) => Action::Version,
        Some(4) if oci_run(rest) => Action::Oci(b"run"),
        Some(4) => return parse_run(rest),
        Some(i @ 5..=11) => Action::Named(NAMED[i - 5]),
        Some(_) => Action::Oci(v),
        None => return Err(Error::msg(m!("unknown command"), v, m!("try 'hutch --help'"))),
    })
}

/// The verbs `parse` knows: help, version, hutch's run, the named verbs in [`NAMED`]'s order,
/// then the OCI verbs.
const VERBS: &[u8] = b"--help help --version version run ps stop rm logs wait kill exec \
create start state delete list spec features pause resume";
const NAMED: [Verb; 7] = [Verb::Ps, Verb::Stop, Verb::Rm, Verb::Logs, Verb::Wait, Verb::Kill, Verb::Exec];

/// Whether `run ARGS` is runc's `run [OPTIONS] ID` rather than hutch's `run [OPTIONS] ROOTFS
/// COMMAND`: one operand that is a container ID (options may follow it, as runc takes them), or
/// an option only runc's has.
fn oci_run(args: &[&'static CStr]) -> bool {
    match options(args, RUN_OPTS, m!(""), &mut |_, _| Ok(())) {
        Ok(Some([id, rest @ ..])) => crate::state::valid(id.to_bytes()) && rest.first().is_none_or(|a| a.to_bytes().starts_with(b"-")),
        Ok(_) => false,
        Err(_) => oci::has_run_option(args),
    }
}

/// Walks the options in front of `args` through a verb's `table`, handing each to `apply` with
/// its value (empty for a flag), up to the first operand or `--`. Returns the operands, or
/// `None` when `--help` was asked for. `hint` ends every error line.
pub fn options<'a, T: Copy>(
    args: &'a [&'static CStr],
    table: &[Opt<T>],
    hint: Msg,
    apply: &mut dyn FnMut(T, &'static CStr) -> Result<()>,
) -> Result<Option<&'a [&'static CStr]>> {
    // A thin generic shell over one walker: each table type would otherwise copy all of it.
    walk(args, table.len(), &|i| (table[i].short, &table[i].long, table[i].value), hint, &mut |i, v| apply(table[i].id, v))
}

/// [`options`]' body, for one table type: `opt(i)` is entry i's short name, long name and value
/// kind, and `apply` gets the entry's index.
pub fn walk<'a, 't>(
    args: &'a [&'static CStr],
    n: usize,
    opt: &dyn Fn(usize) -> (u8, &'t Name, Value),
    hint: Msg,
    apply: &mut dyn FnMut(usize, &'static CStr) -> Result<()>,
) -> Result<Option<&'a [&'static CStr]>> {
    let mut i = 0;
    while i < args.len() {
        let arg = args[i];
        let b = arg.to_bytes();
        match b {
            b"--" => return Ok(Some(&args[i + 1..])),
            b"--help" => return Ok(None),
            _ if b.len() < 2 || b[0] != b'-' => break,
            _ => {}
        }
        i += 1;
        // The option's name, and where a value glued to it starts: `--long=V`, `-sV`.
        let long = b[1] == b'-';
        let (name, glued) = match long {
            true => match b.iter().position(|&c| c == b'=') {
                Some(eq) => (&b[2..eq], Some(eq + 1)),
                None => (&b[2..], None),
            },
            false => (&b[1..2], (b.len() > 2).then_some(2)),
        };
        let Some(index) = (0..n).find(|&k| {
            let (short, l, _) = opt(k);
            if long { self::long(l) == name } else { short != 0 && short == name[0] }
        }) else {
            return Err(Error::msg(m!("unknown option"), b, hint));
        };
        let value = match (opt(index).2, glued) {
            (Value::None, Some(_)) => return Err(Error::msg(m!("option takes no value"), b, hint)),
            (_, Some(at)) => &arg[at..],
            (Value::Required, None) => {
                let Some(&v) = args.get(i) else {
                    return Err(Error::msg(m!("option needs a value"), b, hint));
                };
                i += 1;
                v
            }
            _ => c"",
        };
        apply(index, value)?;
    }
    Ok(Some(&args[i..]))
}

pub fn parse_run(args: &[&'static CStr]) -> Result<Action> {
    let c = alloc::boxed::Box::leak(alloc::boxed::Box::new(RunConfig::new(c"")));
    let Some(operands) = options(args, RUN_OPTS, m!("see 'hutch run --help'"), &mut |id, v| apply(c, id, v))? else {
        return Ok(Action::Help(Help::Run));
    };
    let Some((&rootfs, command)) = operands.split_first() else {
        return Err(Error::msg(m!("run"), b"", m!("missing ROOTFS and COMMAND (see 'hutch run --help')")));
    };
    if command.is_empty() {
        return Err(Error::msg(m!("run"), b"", m!("missing COMMAND (see 'hutch run --help')")));
    }
    if rootfs.to_bytes().is_empty() {
        return Err(Error::msg(m!("run"), b"", m!("ROOTFS is empty")));
    }
    config::check_limits(&c.limits)?;
    if c.tty && c.detach {
        return Err(Error::msg(m!("run"), b"", m!("-t and -d cannot be combined")));
    }
    c.rootfs = rootfs;
    c.command = command.to_vec();
    Ok(Action::Run(c))
}

/// Applies one option. The options whose checks are hutch's own only name what is wrong
/// (`why`); the one error line, `invalid <what>: <value>: <why>`, is made once, at the end.
fn apply(c: &mut RunConfig, id: RunOpt, v: &'static CStr) -> Result<()> {
    let b = v.to_bytes();
    let why: Option<Msg> = match id {
        RunOpt::Hostname => {
            c.hostname = v;
            config::hostname_fault(b)
        }
        RunOpt::Net => match config::word_index(b"host none private", b) {
            Some(i) => {
                c.net = if i == 0 { Net::Host } else { Net::Private };
                None
            }
            None => Some(m!("expected host or none")),
        },
        RunOpt::Env => fine(c.env.push(EnvArg::Var(v))),
        RunOpt::EnvFile => fine(c.env.push(EnvArg::File(v))),
        RunOpt::Workdir => {
            c.workdir = v;
            (b.first() != Some(&b'/')).then_some(m!("must be an absolute path"))
        }
        RunOpt::Volume => config::parse_volume(b).map(|vol| c.volumes.push(vol)).err(),
        RunOpt::Tmpfs => fine(c.tmpfs.push(config::parse_tmpfs(v)?)),
        RunOpt::ReadOnly => fine(c.read_only = true),
        RunOpt::Overlay => fine(c.overlay = true),
        RunOpt::NoPivot => fine(c.no_pivot = true),
        RunOpt::CapAdd => fine(c.caps.add |= caps::parse(b)?),
        RunOpt::CapDrop => fine(c.caps.drop |= caps::parse(b)?),
        RunOpt::Privileged => fine(c.privileged = true),
        RunOpt::NewPrivs => fine(c.no_new_privs = false),
        RunOpt::User => {
            c.user = Some(v);
            b.is_empty().then_some(m!("expected USER[:GROUP]"))
        }
        RunOpt::Ulimit => config::parse_ulimit(b).map(|r| c.rlimits.push(r)).err(),
        RunOpt::Seccomp => fine(c.seccomp = seccomp::from_option(v)?),
        RunOpt::Userns => fine(c.userns.mode = userns::parse_mode(b)?),
        RunOpt::UidMap => fine(c.userns.uid_map.push(userns::parse_map(b)?)),
        RunOpt::GidMap => fine(c.userns.gid_map.push(userns::parse_map(b)?)),
        RunOpt::Limit(opt) => (!config::parse_limit(&mut c.limits, opt, v)).then_some(config::LIMIT_ERRORS[opt as usize].1),
        RunOpt::Cgroup => fine(c.limits.cgroup = true),
        RunOpt::Init => fine(c.init = true),
        RunOpt::Name => {
            c.name = Some(v);
            (!crate::state::valid(b)).then_some(crate::state::NAME_RULE)
        }
        RunOpt::Detach => fine(c.detach = true),
        RunOpt::Tty => fine(c.tty = true),
    };
    let Some(why) = why else { return Ok(()) };
    let what: Msg = match id {
        RunOpt::Hostname => m!("invalid hostname"),
        RunOpt::Net => m!("invalid network"),
        RunOpt::Workdir => m!("invalid workdir"),
        RunOpt::Volume => m!("invalid volume"),
        RunOpt::User => m!("invalid user"),
        RunOpt::Ulimit => m!("invalid ulimit"),
        RunOpt::Limit(opt) => config::LIMIT_ERRORS[opt as usize].0,
        _ => m!("invalid name"),
    };
    Err(Error::msg(what, b, why))
}

/// An option that cannot be wrong (or whose errors are already out through `?`).
fn fine(_: ()) -> Option<Msg> {
    None
}

/// Runs the whole command line; returns the exit status.
#[inline(never)] // smaller out of line (measured)
pub fn main(args: &[&'static CStr], host_env: &[&'static CStr]) -> Result<i32> {
    // The global options, through the OCI verbs' table (one walker instance for both).
    let mut o = oci::Opts::default();
    let walked = options(args, oci::OPTS, m!("try 'hutch --help'"), &mut |id, v| Ok(o.0[id as usize] = Some(v)));
    let format = o.v(O::LogFormat).map_or(&b"text"[..], CStr::to_bytes);
    let json = config::word_index(b"text json", format);
    let mut g = oci::Global { root: o.v(O::Root), log: o.v(O::Log), json: json == Some(1), oci: false, debug: o.on(O::Debug) };
    let r = match walked {
        Ok(_) if json.is_none() => Err(Error::msg(m!("invalid --log-format"), format, m!("expected text or json"))),
        Ok(Some(args)) if !o.on(O::Version) => {
            let action = parse(args);
            // Errors as OCI clients look for them: with the word "error", and in the log.
            g.oci = matches!(action, Ok(Action::Oci(_)) | Ok(Action::Named(Verb::Kill | Verb::Exec)));
            if g.debug {
                debug_line(&g, args);
            }
            match o.on(O::Systemd) {
                true => Err(Error::msg(m!("--systemd-cgroup"), b"", m!("not supported: hutch manages cgroupfs itself (use the cgroupfs manager)"))),
                // A command line hutch cannot parse is its own error, never an OCI client's.
                false => dispatch(action?, args, &g, host_env),
            }
        }
        Ok(_) => {
            match o.on(O::Version) {
                true => print(VERSION.as_bytes()),
                false => help(Help::Hutch),
            }
            return Ok(0);
        }
        Err(e) => Err(e),
    };
    // With --debug too, so that the error comes before the exit status below.
    g.oci |= g.log.is_some() || g.debug;
    let r = match r {
        Err(e) if g.oci => {
            oci::report(&g, b"error", e.text().as_bytes());
            Ok(e.exit_code())
        }
        r => r,
    };
    if let (true, Ok(code)) = (g.debug, r) {
        oci::report(&g, b"debug", crate::buf::Buf::<32>::new().push(b"exit status ").num(code as u64).as_bytes());
    }
    r
}

#[inline(never)]
fn debug_line(g: &oci::Global, args: &[&'static CStr]) {
    let mut line = Vec::from(&b"command line:"[..]);
    for a in args {
        line.push(b' ');
        line.extend_from_slice(a.to_bytes());
    }
    oci::report(g, b"debug", &line);
}

const VERSION: &str = concat!("hutch ", env!("HUTCH_VERSION"), "\nspec: 1.2.0\n");

fn dispatch(action: Action, args: &[&'static CStr], g: &oci::Global, host_env: &[&'static CStr]) -> Result<i32> {
    let open_root = || crate::state::open_root(g.root, host_env);
    match action {
        Action::Help(text) => help(text),
        Action::Version => print(VERSION.as_bytes()),
        Action::Run(cfg) => {
            let envp: Vec<&'static CStr> = env::build(&cfg.env, cfg.hostname, host_env)?;
            if cfg.name.is_some() || cfg.detach {
                return lifecycle::run(&cfg, &envp, &open_root()?);
            }
            return container::run(&cfg, &envp, &mut |_| {});
        }
        Action::Oci(verb) => return oci::main(verb, &args[1..], g, host_env),
        Action::Named(verb) => {
            let root = open_root()?;
            let args = &args[1..];
            return match verb {
                Verb::Kill => oci::kill(&root, args),
                Verb::Exec => crate::exec::exec(g, &root, args),
                _ => lifecycle::named(&root, verb, args),
            };
        }
    }
    Ok(0)
}

pub fn print(text: &[u8]) {
    let _ = sys::write_all(1, text);
}

/// Which help text: hutch's commands, or `hutch run`'s options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Help {
    Hutch,
    Run,
}

pub fn help(which: Help) {
    print(&help_text(which));
}

/// A help text unpacked, with its tabs expanded to the description column.
fn help_text(which: Help) -> Vec<u8> {
    let (packed, col) = match which {
        Help::Hutch => (&USAGE[..], USAGE_COL),
        Help::Run => (&RUN_USAGE[..], RUN_USAGE_COL),
    };
    let mut text = Vec::new();
    crate::pack::unpack(packed, &mut text);
    let mut out = Vec::new();
    let mut line = 0;
    for c in text {
        match c {
            b'\t' => {
                let at = out.len() - line;
                out.resize(out.len() + if at < col { col - at } else { 2 }, b' ');
            }
            _ => {
                out.push(c);
                if c == b'\n' {
                    line = out.len();
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Seccomp;

    fn run(args: &[&'static CStr]) -> Result<&'static RunConfig> {
        match parse(args)? {
            Action::Run(c) => Ok(c),
            other => panic!("not a run: {other:?}"),
        }
    }

    fn err_of(args: &[&'static CStr]) -> (&'static str, Vec<u8>) {
        match parse(args) {
            Err(e) => (e.step.str(), e.object.as_bytes().to_vec()),
            Ok(a) => panic!("parsed: {a:?}"),
        }
    }

    #[test]
    fn defaults() {
        let c = run(&[c"run", c"/rootfs", c"/bin/sh"]).ok().unwrap();
        assert_eq!(c.rootfs, c"/rootfs");
        assert_eq!(c.command, [c"/bin/sh"]);
        assert_eq!(c.hostname, c"hutch");
        assert_eq!(c.net, Net::Private);
        assert_eq!(c.workdir, c"/");
        assert!(!c.read_only && !c.overlay && !c.no_pivot);
        assert_eq!(c.seccomp, Seccomp::Default);
        assert!(c.env.is_empty() && c.volumes.is_empty() && c.tmpfs.is_empty());
        assert!(!c.limits.wanted());
    }

    #[test]
    fn limits() {
        use crate::config::CpuShare;
        let c = run(&[
            c"run", c"--memory", c"32m", c"--memory-swap=64M", c"--pids", c"20", c"--cpus", c"0.5",
            c"--cpu-weight", c"300", c"--cpuset-cpus", c"0-1", c"--cgroup-parent", c"/box", c"--cgroup",
            c"/r", c"c",
        ])
        .ok()
        .unwrap();
        let l = c.limits;
        assert_eq!((l.memory, l.memory_swap, l.pids, l.cpu_quota), (Some(32 << 20), Some(64 << 20), Some(20), Some(50_000)));
        assert_eq!(l.cpu_share, Some(CpuShare::Weight(300)));
        assert_eq!((l.cpuset_cpus, l.cgroup_parent, l.cgroup), (Some(c"0-1"), Some(c"/box"), true));
        let c = run(&[c"run", c"--cpu-weight=5", c"--cpu-shares=512", c"--memory=1g", c"--memory-swap=-1", c"/r", c"c"]).ok().unwrap();
        assert_eq!(c.limits.cpu_share, Some(CpuShare::Shares(512)), "the later of the two wins");
        assert_eq!(c.limits.memory_swap, Some(config::UNLIMITED));
    }

    #[test]
    fn bad_limits_name_the_option() {
        let cases: &[(&[&'static CStr], &str, &[u8])] = &[
            (&[c"--memory", c"0"], "invalid --memory", b"0"),
            (&[c"--memory", c"lots"], "invalid --memory", b"lots"),
            (&[c"--memory-swap", c"-2", c"--memory", c"1m"], "invalid --memory-swap", b"-2"),
            (&[c"--memory-swap", c"1m"], "invalid --memory-swap", b""),
            (&[c"--memory", c"2m", c"--memory-swap", c"1m"], "invalid --memory-swap", b""),
            (&[c"--pids", c"0"], "invalid --pids", b"0"),
            (&[c"--pids", c"-1"], "invalid --pids", b"-1"),
            (&[c"--pids", c"4194305"], "invalid --pids", b"4194305"),
            (&[c"--cpus", c"0"], "invalid --cpus", b"0"),
            (&[c"--cpus", c"half"], "invalid --cpus", b"half"),
            (&[c"--cpu-weight", c"0"], "invalid --cpu-weight", b"0"),
            (&[c"--cpu-weight", c"10001"], "invalid --cpu-weight", b"10001"),
            (&[c"--cpu-shares", c"1"], "invalid --cpu-shares", b"1"),
            (&[c"--cpu-shares", c"262145"], "invalid --cpu-shares", b"262145"),
            (&[c"--cpuset-cpus", c"3-1"], "invalid --cpuset-cpus", b"3-1"),
            (&[c"--cgroup-parent", c"../x"], "invalid --cgroup-parent", b"../x"),
        ];
        for (opts, step, object) in cases {
            let mut args = vec![c"run"];
            args.extend_from_slice(opts);
            args.extend_from_slice(&[c"/r", c"c"]);
            assert_eq!(err_of(&args), (*step, object.to_vec()), "{opts:?}");
        }
    }

    #[test]
    fn every_value_form() {
        let c = run(&[
            c"run", c"-h", c"one", c"--hostname=two", c"-w/dir",
            c"-eA=1", c"--env", c"B=2", c"--env-file=/f", c"-v", c"/a:/b:ro", c"--volume=/c:/d",
            c"--tmpfs", c"/t:size=1k", c"--net=host", c"--ro", c"--overlay", c"--no-pivot",
            c"/r", c"cmd", c"-h", c"--ro",
        ])
        .ok()
        .unwrap();
        assert_eq!(c.hostname, c"two");
        assert_eq!(c.workdir, c"/dir");
        assert_eq!(c.env, [EnvArg::Var(c"A=1"), EnvArg::Var(c"B=2"), EnvArg::File(c"/f")]);
        assert_eq!(c.volumes.len(), 2);
        assert!(c.volumes[0].read_only && !c.volumes[1].read_only);
        assert_eq!(c.tmpfs[0].data, c"mode=1777,size=1024");
        assert_eq!(c.net, Net::Host);
        assert!(c.read_only && c.overlay && c.no_pivot);
        assert_eq!(c.rootfs, c"/r");
        assert_eq!(c.command, [c"cmd", c"-h", c"--ro"], "options after ROOTFS belong to the command");
    }

    #[test]
    fn confinement_options() {
        let c = run(&[
            c"run", c"--cap-add", c"sys_admin", c"--cap-drop=CAP_CHOWN", c"--cap-drop", c"net_raw",
            c"--new-privs", c"-u", c"1000:100", c"--ulimit", c"nofile=64", c"--privileged", c"/r", c"c",
        ])
        .ok()
        .unwrap();
        assert_eq!(c.caps, caps::Changes { add: 1 << 21, drop: 1 | 1 << 13 });
        assert!(c.privileged && !c.no_new_privs);
        assert_eq!(c.user, Some(c"1000:100"));
        assert_eq!(c.rlimits.len(), 1);
        assert!(run(&[c"run", c"/r", c"c"]).ok().unwrap().no_new_privs, "no_new_privs by default");
        assert_eq!(err_of(&[c"run", c"--cap-add", c"BOGUS", c"/r", c"c"]), ("unknown capability", b"BOGUS".to_vec()));
        assert_eq!(err_of(&[c"run", c"--ulimit", c"nofile=x", c"/r", c"c"]).0, "invalid ulimit");
        assert_eq!(err_of(&[c"run", c"-u", c"", c"/r", c"c"]).0, "invalid user");
    }

    #[test]
    fn userns_options() {
        let c = run(&[c"run", c"--userns", c"--uidmap", c"0:100000:65536", c"--gidmap=0:200000:10", c"/r", c"c"]).ok().unwrap();
        assert_eq!(c.userns.mode, userns::Mode::New);
        assert_eq!(c.userns.uid_map, [userns::IdMap { inside: 0, outside: 100000, count: 65536 }]);
        assert_eq!(c.userns.gid_map, [userns::IdMap { inside: 0, outside: 200000, count: 10 }]);
        let c = run(&[c"run", c"--userns", c"/r", c"c"]).ok().unwrap();
        assert_eq!((c.userns.mode, c.rootfs), (userns::Mode::New, c"/r"), "a bare --userns takes no value");
        assert_eq!(run(&[c"run", c"--userns=auto", c"/r", c"c"]).ok().unwrap().userns.mode, userns::Mode::Auto);
        assert_eq!(run(&[c"run", c"/r", c"c"]).ok().unwrap().userns, userns::Config::default());
        assert_eq!(err_of(&[c"run", c"--userns=maybe", c"/r", c"c"]), ("invalid userns", b"maybe".to_vec()));
        assert_eq!(err_of(&[c"run", c"--uidmap", c"0:1", c"/r", c"c"]), ("invalid id map", b"0:1".to_vec()));
    }

    #[test]
    fn double_dash_ends_options() {
        let c = run(&[c"run", c"--", c"-rootfs", c"cmd"]).ok().unwrap();
        assert_eq!(c.rootfs, c"-rootfs");
    }

    #[test]
    fn errors_name_the_offender() {
        assert_eq!(err_of(&[c"run", c"--bogus", c"/r", c"c"]), ("unknown option", b"--bogus".to_vec()));
        assert_eq!(err_of(&[c"run", c"-x", c"/r", c"c"]).0, "unknown option");
        assert_eq!(err_of(&[c"run", c"--ro=1", c"/r", c"c"]).0, "option takes no value");
        assert_eq!(err_of(&[c"run"]).0, "run");
        assert_eq!(err_of(&[c"run", c"/r"]).0, "run", "one operand, not a container ID: hutch's run");
        assert_eq!(err_of(&[c"run", c"-h"]), ("option needs a value", b"-h".to_vec()));
        assert_eq!(err_of(&[c"run", c"--net", c"bridge", c"/r", c"c"]), ("invalid network", b"bridge".to_vec()));
        assert_eq!(err_of(&[c"run", c"-w", c"rel", c"/r", c"c"]), ("invalid workdir", b"rel".to_vec()));
        assert_eq!(err_of(&[c"run", c"-h", c"a_b", c"/r", c"c"]), ("invalid hostname", b"a_b".to_vec()));
        assert_eq!(err_of(&[c"run", c"-v", c"/a", c"/r", c"c"]), ("invalid volume", b"/a".to_vec()));
        assert_eq!(err_of(&[c"nope"]), ("unknown command", b"nope".to_vec()));
        assert_eq!(err_of(&[]).0, "missing command");
    }

    #[test]
    fn seccomp_values() {
        let c = run(&[c"run", c"--seccomp", c"unconfined", c"/r", c"c"]).ok().unwrap();
        assert_eq!(c.seccomp, Seccomp::Unconfined);
        let c = run(&[c"run", c"--seccomp=unconfined", c"--seccomp=default", c"/r", c"c"]).ok().unwrap();
        assert_eq!(c.seccomp, Seccomp::Default, "the last one wins");
        let e = err_of(&[c"run", c"--seccomp", c"/nonexistent/filter", c"/r", c"c"]);
        assert_eq!(e, ("reading seccomp filter", b"/nonexistent/filter".to_vec()));
        assert_eq!(err_of(&[c"run", c"--seccomp"]), ("option needs a value", b"--seccomp".to_vec()));
    }

    #[test]
    fn lifecycle_options() {
        let c = run(&[c"run", c"--init", c"--name", c"web-1", c"-d", c"/r", c"c"]).ok().unwrap();
        assert!(c.init && c.detach && !c.tty);
        assert_eq!(c.name, Some(c"web-1"));
        let c = run(&[c"run", c"-t", c"/r", c"c"]).ok().unwrap();
        assert!(c.tty && !c.detach && !c.init && c.name.is_none());
        assert_eq!(err_of(&[c"run", c"-t", c"-d", c"/r", c"c"]).0, "run");
        assert_eq!(err_of(&[c"run", c"--name", c"a/b", c"/r", c"c"]), ("invalid name", b"a/b".to_vec()));
        assert_eq!(err_of(&[c"run", c"--name", c"-x", c"/r", c"c"]).0, "invalid name");
        assert!(matches!(parse(&[c"ps"]), Ok(Action::Named(Verb::Ps))));
        assert!(matches!(parse(&[c"list"]), Ok(Action::Oci(b"list"))));
        assert!(matches!(parse(&[c"run", c"-d", c"id"]), Ok(Action::Oci(b"run"))));
        assert!(matches!(parse(&[c"run", c"--bundle=/b", c"id"]), Ok(Action::Oci(b"run"))));
        assert!(matches!(parse(&[c"run", c"-d", c"/r", c"sh"]), Ok(Action::Run(_))));
        assert!(matches!(parse(&[c"exec", c"n", c"c"]), Ok(Action::Named(Verb::Exec))));
    }

    #[test]
    fn help_texts_expand_to_their_columns() {
        let usage = std::string::String::from_utf8(help_text(Help::Hutch)).unwrap();
        let run = std::string::String::from_utf8(help_text(Help::Run)).unwrap();
        for (text, line) in [
            (&usage, "\n  ps [--format json]   list named and detached containers (also: list)\n"),
            (&usage, "\n  stop [-t SECONDS] NAME\n                       SIGTERM, then SIGKILL"),
            (&run, "\n  -h, --hostname NAME     hostname (default: hutch)\n"),
            (&run, "\n  -u, --user USER[:GROUP] name or number, names from the container's /etc/passwd\n                          and /etc/group\n"),
            (&run, "\n      --userns[=auto|host]  a user namespace whose root"),
            (&run, "\n      --cgroup-parent PATH  an existing cgroup to make it in\n"),
        ] {
            assert!(text.contains(line), "{line:?} not in\n{text}");
        }
        for text in [&usage, &run] {
            assert!(!text.contains('\t') && text.lines().all(|l| l.len() <= 83), "{text}");
        }
        // --network: docker's spelling of --net, accepted but not listed.
        for o in RUN_OPTS.iter().map(|o| std::str::from_utf8(long(&o.long)).unwrap()).filter(|&o| o != "network") {
            assert!(run.contains(&std::format!("--{o}")), "--{o} undocumented");
        }
    }

    #[test]
    fn option_names_fill_their_slot_or_end_at_a_nul() {
        assert_eq!(long(&name("additional-gids")), b"additional-gids");
        assert_eq!(long(&name("ro")), b"ro");
    }

    #[test]
    fn help_and_version() {
        assert!(matches!(parse(&[c"--help"]), Ok(Action::Help(Help::Hutch))));
        assert!(matches!(parse(&[c"run", c"--help"]), Ok(Action::Help(Help::Run))));
        assert!(matches!(parse(&[c"run", c"-h", c"x", c"--help"]), Ok(Action::Help(Help::Run))));
        assert!(matches!(parse(&[c"--version"]), Ok(Action::Version)));
    }


    #[test]
    fn option_walker_for_any_verb() {
        const T: &[Opt<u8>] = &[
            Opt { short: b'f', long: name("force"), value: Value::None, id: 1 },
            Opt { short: b't', long: name("time"), value: Value::Required, id: 2 },
            Opt { short: 0, long: name("mode"), value: Value::Optional, id: 3 },
        ];
        let walk = |args: &'static [&'static CStr]| {
            let mut seen = Vec::new();
            let ops = options(args, T, m!("see 'hutch --help'"), &mut |id, v| {
                seen.push((id, v.to_bytes().to_vec()));
                Ok(())
            });
            ops.map(|o| (seen, o.map(|o| o.len())))
        };
        let (seen, ops) = walk(&[c"-f", c"-t", c"5", c"--mode=x", c"--mode", c"name", c"-f"]).ok().unwrap();
        assert_eq!(seen, [(1, vec![]), (2, b"5".to_vec()), (3, b"x".to_vec()), (3, vec![])]);
        assert_eq!(ops, Some(2), "an optional value is never taken from the next argument");
        assert_eq!(walk(&[c"-t7", c"--", c"-f"]).ok().unwrap(), (vec![(2, b"7".to_vec())], Some(1)));
        assert_eq!(walk(&[c"-f", c"--help", c"--bogus"]).ok().unwrap().1, None);
        assert!(walk(&[c"--force=1"]).is_err() && walk(&[c"-x"]).is_err() && walk(&[c"--time"]).is_err());
    }
}
