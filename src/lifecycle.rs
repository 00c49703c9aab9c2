//! Named and detached containers, and the verbs that act on them by name: `ps`, `stop`,
//! `kill`, `rm`, `wait`, `logs`. A detached container has a supervisor: a plain fork of hutch
//! (no re-exec) in a session of its own, which does what `hutch run` does (creates the
//! container, waits for it, cleans up) with the container's output going to `<name>/log`,
//! and writes the exit status into the state entry.
use alloc::vec::Vec;
use core::ffi::{c_int, CStr};

use crate::buf::Buf;
use crate::cli::{self, name, Opt, Value, Verb};
use crate::config::parse_num;
use crate::config::RunConfig;
use crate::error::{Context, Error, Result};
use crate::msg::{m, Msg};
use crate::state::{self, Entry, Root, Status};
use crate::oci::pad;
use crate::sys;

/// `hutch run --name NAME` or `-d`: a container with a state entry.
pub fn run(cfg: &RunConfig, env: &[&'static CStr], root: &Root) -> Result<c_int> {
    let generated = state::generate_name();
    let name = match cfg.name {
        Some(n) => n.to_bytes(),
        None => generated.as_bytes(),
    };
    state::create(root, name)?;
    if !cfg.detach {
        return supervise(cfg, env, root, name, None);
    }
    let (ready_r, ready_w) = sys::pipe().at(m!("creating pipe"), b"")?;
    let stack = sys::Stack::new(256 * 1024).at(m!("mapping stack"), b"")?;
    let mut s = Supervisor { cfg, env, root, name, ready_w };
    sys::clone(supervisor, &stack, libc::SIGCHLD, &mut s).at(m!("starting supervisor"), name)?;
    sys::close(ready_w);
    // An Error when the container could not start; end of file once it runs (the supervisor
    // closes its end after writing the state).
    let report = Error::receive(ready_r);
    sys::close(ready_r);
    if let Some(e) = report {
        return Err(e);
    }
    if state::read(root, name)?.pid() == 0 {
        return Err(Error::msg(m!("starting container"), name, m!("its supervisor exited")));
    }
    let _ = sys::write_all(1, Buf::<128>::new().push(name).push(b"\n").as_bytes());
    Ok(0)
}

struct Supervisor<'a> {
    cfg: &'a RunConfig,
    env: &'a [&'static CStr],
    root: &'a Root,
    name: &'a [u8],
    ready_w: c_int,
}

/// The detached container's supervisor: no terminal, stdin from /dev/null, output to the log.
fn supervisor(s: &mut Supervisor) -> c_int {
    sys::setsid();
    let log = sys::openat(s.root.fd, state::path(s.name, b"log").cstr(), libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND, 0o600);
    let null = sys::open(c"/dev/null", libc::O_RDONLY);
    if let (Ok(log), Ok(null)) = (log, null) {
        let _ = sys::dup2(null, 0);
        let _ = sys::dup2(log, 1);
        let _ = sys::dup2(log, 2);
        sys::close(log);
        sys::close(null);
    }
    // Nothing of the caller's but the state directory and the pipe stays open.
    let (lo, hi) = (s.root.fd.min(s.ready_w), s.root.fd.max(s.ready_w));
    sys::close_fds(3, lo - 1);
    sys::close_fds(lo + 1, hi - 1);
    sys::close_fds(hi + 1, c_int::MAX);
    match supervise(s.cfg, s.env, s.root, s.name, Some(s.ready_w)) {
        Ok(code) => code,
        Err(e) => {
            e.send(s.ready_w);
            125
        }
    }
}

/// Runs the container of entry `name`, recording it in the state directory; `ready` is
/// closed once it runs. A container that could not start leaves no entry.
fn supervise(cfg: &RunConfig, env: &[&'static CStr], root: &Root, name: &[u8], mut ready: Option<c_int>) -> Result<c_int> {
    let me = sys::getpid();
    let result = crate::container::run(cfg, env, &mut |pid| {
        // Kept to exit (no drop code).
        let mut t = core::mem::ManuallyDrop::new(entry(cfg, env, pid));
        line_num(&mut t, b"supervisor", me as u64);
        line_num(&mut t, b"supervisor-start", state::start_time(me).unwrap_or(0));
        let _ = state::write(root, name, b"state", &t);
        if let Some(fd) = ready.take() {
            sys::close(fd);
        }
    });
    match result {
        Ok(code) => {
            state::write(root, name, b"exit", Buf::<32>::new().num(code as u64).push(b"\n").as_bytes())?;
            Ok(code)
        }
        Err(e) => {
            let _ = state::remove(root, name);
            Err(e)
        }
    }
}

/// The `state` lines of a container whose init is `pid`: what `ps` shows and `exec` needs.
pub fn entry(cfg: &RunConfig, env: &[&'static CStr], pid: c_int) -> Vec<u8> {
    let mut t = Vec::new();
    line_num(&mut t, b"pid", pid as u64);
    line_num(&mut t, b"start", state::start_time(pid).unwrap_or(0));
    line_num(&mut t, b"created", sys::now());
    line(&mut t, b"rootfs", cfg.rootfs.to_bytes());
    // Kept to exit (no drop code).
    let mut command = core::mem::ManuallyDrop::new(Vec::new());
    for a in &cfg.command {
        command.extend_from_slice(a.to_bytes());
        command.push(b' ');
    }
    command.pop();
    line(&mut t, b"command", &command);
    // What `hutch exec` needs to confine its command as the container's.
    let privileged = cfg.privileged;
    match (privileged, &cfg.oci) {
        (true, _) => line(&mut t, b"caps", b"all"),
        // An OCI container's exec gets its effective set (runc: the config's process's).
        (false, Some(o)) => line_num(&mut t, b"caps", o.caps.effective),
        (false, None) => line_num(&mut t, b"caps", cfg.caps.result()),
    }
    line_num(&mut t, b"nnp", cfg.no_new_privs as u64);
    line(&mut t, b"seccomp", match cfg.seccomp {
        _ if privileged => b"unconfined",
        crate::config::Seccomp::Default => b"default",
        crate::config::Seccomp::Unconfined => b"unconfined",
        crate::config::Seccomp::File { path, .. } => path.to_bytes(),
    });
    line(&mut t, b"workdir", cfg.workdir.to_bytes());
    match (cfg.user, &cfg.oci) {
        (Some(u), _) => line(&mut t, b"user", u.to_bytes()),
        (None, Some(o)) => line(&mut t, b"user", Buf::<32>::new().num(o.uid as u64).push(b":").num(o.gid as u64).as_bytes()),
        (None, None) => {}
    }
    for e in env {
        line(&mut t, b"env", e.to_bytes());
    }
    t
}

/// Appends the line `key value` to a state text; a newline in the value becomes a space.
pub fn line(t: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    t.extend_from_slice(key);
    t.push(b' ');
    let at = t.len();
    t.extend_from_slice(value);
    for c in &mut t[at..] {
        if *c == b'\n' {
            *c = b' ';
        }
    }
    t.push(b'\n');
}

pub fn line_num(t: &mut Vec<u8>, key: &[u8], n: u64) {
    line(t, key, Buf::<32>::new().num(n).as_bytes());
}

/// The named verbs' options, one each, in [`Verb`]'s order (`wait` takes none).
const OPTS: [Opt<()>; 4] = [
    Opt { short: 0, long: name("format"), value: Value::Required, id: () },
    Opt { short: b't', long: name("time"), value: Value::Required, id: () },
    Opt { short: b'f', long: name("force"), value: Value::None, id: () },
    Opt { short: b'f', long: name("follow"), value: Value::None, id: () },
];

/// `hutch ps [--format json]`, `stop [-t SECONDS] NAME`, `rm [-f] NAME`, `logs [-f] NAME`,
/// `wait NAME`: one front end (the verb's one option, its one NAME, its entry) for them all.
pub fn named(root: &Root, verb: Verb, args: &[&'static CStr]) -> Result<c_int> {
    let i = verb as usize;
    let mut opt: Option<&'static CStr> = None;
    let mut json = false;
    let mut ops = args;
    if verb != Verb::Wait {
        let hint = if verb == Verb::Ps { m!("usage: hutch ps [--format json]") } else { m!("see 'hutch --help'") };
        let o = &OPTS[i];
        let walked = cli::walk(args, 1, &|_| (o.short, &o.long, o.value), hint, &mut |_, v| {
            let b = v.to_bytes();
            match verb {
                Verb::Ps => match crate::config::word_index(b"table json", b) {
                    Some(i) => json = i == 1,
                    None => return Err(Error::msg(m!("invalid format"), b, m!("expected json or table"))),
                },
                Verb::Stop if parse_num(b).is_none() => return Err(Error::msg(m!("invalid timeout"), b, m!("expected whole seconds"))),
                _ => opt = Some(v),
            }
            Ok(())
        })?;
        let Some(walked) = walked else {
            cli::help(cli::Help::Hutch);
            return Ok(0);
        };
        ops = walked;
    }
    let on = opt.is_some();
    if verb == Verb::Ps {
        return ps(root, ops, json);
    }
    let [name] = ops else {
        const STEPS: [Msg; 5] = [m!(""), m!("stop"), m!("rm"), m!("logs"), m!("wait")];
        return Err(Error::msg(STEPS[i], b"", m!("expected one NAME (see 'hutch --help')")));
    };
    let name = name.to_bytes();
    let e = state::read(root, name)?;
    let mut out = Buf::<128>::new();
    match verb {
        Verb::Stop => {
            // SIGTERM, then SIGKILL after the timeout (default 10 s).
            let secs = opt.map_or(10, |v| parse_num(v.to_bytes()).unwrap_or(0));
            if e.status() == Status::Running {
                let _ = sys::kill(e.pid(), libc::SIGTERM);
                if !await_end(root, name, secs * 1000) {
                    kill_and_wait(root, name, &e);
                }
            }
            out.push(name);
        }
        Verb::Rm => {
            // A stopped container's entry goes; -f kills a running one first.
            match e.status() {
                // An OCI container's end is `delete`'s: its cgroups and poststop hooks too.
                _ if !e.get(b"bundle").is_empty() => drop(crate::oci::delete(&crate::oci::Global::default(), root, name, on)?),
                Status::Running if !on => return Err(Error::msg(m!("container is running"), name, m!("stop it first, or use rm -f"))),
                Status::Running => kill_and_wait(root, name, &e),
                _ => {}
            }
            let _ = state::remove(root, name);
            out.push(name);
        }
        Verb::Wait => {
            while !await_end(root, name, 1_000) {}
            let Some(code) = state::read(root, name)?.exit else {
                return Err(Error::msg(m!("exit status unknown"), name, m!("its supervisor was killed")));
            };
            out.num(code as u64);
        }
        _ => return logs(root, name, on),
    }
    let _ = sys::write_all(1, out.push(b"\n").as_bytes());
    Ok(0)
}

/// `hutch ps`: every named container; `ps ID` is runc's (the container's processes).
fn ps(root: &Root, ops: &[&'static CStr], json: bool) -> Result<c_int> {
    match ops {
        [] => {}
        [id] => return crate::oci::ps(root, id.to_bytes(), json),
        _ => return Err(Error::msg(m!("ps"), b"", m!("usage: hutch ps [--format json] [ID]"))),
    }
    let now = sys::now();
    // One buffer for either form, kept to exit (no drop code).
    let mut w = core::mem::ManuallyDrop::new(crate::json::Writer::default());
    match json {
        true => drop(w.open(b'[')),
        false => w.out.extend_from_slice(b"NAME             PID      STATUS       UPTIME   COMMAND\n"),
    }
    for &name in state::names(root)? {
        let Ok(e) = state::read(root, &name) else { continue };
        let st = e.status();
        let (word, up): (&[u8], u64) = match st {
            Status::Created => (b"created", 0),
            Status::Running => (b"running", now.saturating_sub(e.num(b"created"))),
            Status::Exited(_) => (b"exited", 0),
        };
        if json {
            w.open(b'{').key(b"name").str(&name).key(b"pid").num(e.pid() as u64).key(b"status").str(word).key(b"exit_code");
            match st {
                Status::Exited(Some(c)) => w.num(c as u64),
                _ => w.raw(b"null"),
            };
            w.key(b"created").num(e.num(b"created")).key(b"uptime").num(up);
            w.key(b"rootfs").str(e.get(b"rootfs")).key(b"command").str(e.get(b"command")).close(b'}');
        } else {
            let out = &mut w.out;
            pad(out, &name, 17);
            pad(out, Buf::<32>::new().num(e.pid() as u64).as_bytes(), 9);
            let mut b = Buf::<32>::new();
            b.push(word);
            match st {
                Status::Exited(Some(c)) => drop(b.push(b" (").num(c as u64).push(b")")),
                Status::Exited(None) => drop(b.push(b" (?)")),
                _ => {}
            }
            pad(out, b.as_bytes(), 13);
            b = Buf::new();
            match st {
                Status::Running => duration(&mut b, up),
                _ => drop(b.push(b"-")),
            }
            pad(out, b.as_bytes(), 9);
            out.extend_from_slice(e.get(b"command"));
            out.push(b'\n');
        }
    }
    if json {
        w.close(b']').out.push(b'\n');
    }
    sys::write_all(1, &w.out).at(m!("writing"), b"stdout")?;
    Ok(0)
}

/// `42s`, `5m`, `3h`, `2d`.
fn duration(b: &mut Buf<32>, secs: u64) {
    const UNITS: [u32; 4] = [1, 60, 3600, 86400];
    let mut i = 0;
    while i < 3 && secs >= UNITS[i + 1] as u64 {
        i += 1;
    }
    b.num(secs / UNITS[i] as u64).push(&[b"smhd"[i]]);
}

/// Polls until the container has ended and its supervisor has recorded how (or is gone too),
/// or `ms` milliseconds have passed; returns whether it ended.
fn await_end(root: &Root, name: &[u8], ms: u64) -> bool {
    let mut waited = 0;
    loop {
        if state::ended(root, name) {
            return true;
        }
        if waited >= ms {
            return false;
        }
        sys::sleep_ms(20);
        waited += 20;
    }
}

/// SIGKILL to a running container's init, and a wait, up to 10 s, for its end (an OCI
/// container's entry has no supervisor: its init's end is its end).
pub fn kill_and_wait(root: &Root, name: &[u8], e: &Entry) {
    if e.status() == Status::Running {
        let _ = sys::kill(e.pid(), libc::SIGKILL);
    }
    await_end(root, name, 10_000);
}

/// A signal by number or name, with or without SIG, any case.
pub fn signal(s: &[u8]) -> Result<c_int> {
    const NAMES: &[u8] = b"HUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH";
    const NUMS: [u8; 10] = [
        libc::SIGHUP as u8, libc::SIGINT as u8, libc::SIGQUIT as u8, libc::SIGKILL as u8, libc::SIGUSR1 as u8,
        libc::SIGUSR2 as u8, libc::SIGTERM as u8, libc::SIGCONT as u8, libc::SIGSTOP as u8, libc::SIGWINCH as u8,
    ];
    let mut up = [0u8; 31];
    for (u, c) in up.iter_mut().zip(s) {
        *u = c.to_ascii_uppercase();
    }
    let u = &up[..s.len().min(31)];
    let u = u.strip_prefix(b"SIG").unwrap_or(u);
    let n = parse_num(u).map(|n| n as c_int).or_else(|| crate::config::word_index(NAMES, u).map(|i| NUMS[i] as c_int));
    match n {
        Some(n @ 1..=64) => Ok(n),
        _ => Err(Error::msg(m!("invalid signal"), s, m!("expected a number or a name such as TERM"))),
    }
}

/// `hutch logs [-f] NAME`: the detached container's output; `-f` follows it until it ends.
fn logs(root: &Root, name: &[u8], follow: bool) -> Result<c_int> {
    let fd = sys::openat(root.fd, state::path(name, b"log").cstr(), libc::O_RDONLY, 0).at(m!("opening log"), name)?;
    let mut chunk = [0u8; 4096];
    let r = loop {
        match sys::read(fd, &mut chunk) {
            Ok(0) if follow && !await_end(root, name, 0) => sys::sleep_ms(50),
            // Once it has ended, one more read finds whatever it wrote last.
            Ok(0) => match sys::read(fd, &mut chunk) {
                Ok(n @ 1..) => sys::write_all(1, &chunk[..n]).at(m!("writing"), b"stdout")?,
                _ => break Ok(0),
            },
            Ok(n) => sys::write_all(1, &chunk[..n]).at(m!("writing"), b"stdout")?,
            Err(e) => break Err(Error::sys(m!("reading log"), name, e)),
        }
    };
    sys::close(fd);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        for (s, n) in [("9", 9), ("kill", 9), ("SIGTERM", 15), ("sigwinch", 28), ("Hup", 1), ("64", 64), ("usr2", 12)] {
            assert_eq!(signal(s.as_bytes()).ok(), Some(n), "{s}");
        }
        for s in ["0", "65", "", "SIG", "BOGUS", "TERM ", "-9", "SIGSIGKILL"] {
            assert!(signal(s.as_bytes()).is_err(), "{s}");
        }
    }

    #[test]
    fn durations() {
        for (secs, text) in [(0, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"), (3600, "1h"), (86399, "23h"), (86400, "1d"), (10 * 86400 + 5, "10d")] {
            let mut b = Buf::<32>::new();
            duration(&mut b, secs);
            assert_eq!(b.as_bytes(), text.as_bytes(), "{secs}");
        }
    }

    #[test]
    fn entry_lines() {
        let mut cfg = RunConfig::new(c"/r");
        cfg.command = alloc::vec![c"sh", c"-c", c"echo a\necho b", c""];
        cfg.user = Some(c"1:2");
        let t = entry(&cfg, &[c"A=1", c"B=x\ny"], 0);
        let lines: Vec<&[u8]> = t.split(|&c| c == b'\n').filter(|l| !l.starts_with(b"created ")).collect();
        let caps = std::format!("caps {}", cfg.caps.result());
        let want: [&[u8]; 12] = [
            b"pid 0", b"start 0", b"rootfs /r", b"command sh -c echo a echo b ", caps.as_bytes(), b"nnp 1",
            b"seccomp default", b"workdir /", b"user 1:2", b"env A=1", b"env B=x y", b"",
        ];
        assert_eq!(lines, want, "{:?}", std::string::String::from_utf8_lossy(&t));
        cfg.privileged = true;
        cfg.user = None;
        cfg.oci = Some(Default::default());
        let t = entry(&cfg, &[], 0);
        for l in [&b"caps all\n"[..], b"seccomp unconfined\n", b"user 0:0\n"] {
            assert!(t.windows(l.len()).any(|w| w == l), "{l:?}");
        }
    }
}
