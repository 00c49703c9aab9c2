//! The state directory: one subdirectory per named container, `<root>/<name>/`, holding
//! `state` (what `ps` shows and `exec` needs, `key value` lines), `exit` (the exit status, once
//! the container has ended) and `log` (a detached container's output). Files are written whole
//! under a temporary name and renamed into place, so a reader sees the old or the new file,
//! never half of one; creating and removing entries takes the flock on `<root>/lock`, so two
//! invocations cannot both take a name. A pid alone could be reused once its process is gone:
//! every pid is stored with its process's start time (/proc/PID/stat field 22, proc(5)).
use alloc::vec::Vec;
use core::ffi::{c_int, CStr};

use crate::buf::Buf;
use crate::error::{Context, Error, Result};
use crate::msg::{m, Msg};
use crate::sys::{self, Errno};

/// The state directory, open.
pub struct Root {
    pub fd: c_int,
}

/// `--root DIR`, else `/run/hutch` for root and `$XDG_RUNTIME_DIR/hutch` for others. Made
/// when missing, private to its owner.
pub fn open_root(root: Option<&CStr>, env: &[&'static CStr]) -> Result<Root> {
    let mut path = Buf::<4096>::new();
    match root {
        Some(r) => path.push(r.to_bytes()),
        None if sys::geteuid() == 0 => path.push(b"/run/hutch"),
        None => match crate::env::lookup(env, b"XDG_RUNTIME_DIR") {
            Some(v) => path.push(&v.to_bytes()[16..]).push(b"/hutch"),
            None => return Err(Error::msg(m!("state directory"), b"", m!("XDG_RUNTIME_DIR is not set: use --root DIR"))),
        },
    };
    match make_dir(path.as_bytes(), 0o700) {
        Ok(()) | Err(Errno(libc::EEXIST)) => {}
        Err(e) => return Err(Error::sys(m!("creating state directory"), path.as_bytes(), e)),
    }
    let fd = sys::open(path.cstr(), libc::O_PATH | libc::O_DIRECTORY).at(m!("opening state directory"), path.as_bytes())?;
    Ok(Root { fd })
}

/// mkdir -p: missing parents are made too (0755), as an initramfs may have no /run.
fn make_dir(path: &[u8], mode: u32) -> sys::Result<()> {
    let mut b = Buf::<4096>::new();
    match sys::mkdirat(libc::AT_FDCWD, b.push(path).cstr(), mode) {
        Err(Errno(libc::ENOENT)) => {
            let Some(slash) = path.iter().rposition(|&c| c == b'/').filter(|&i| i > 0) else { return Err(Errno(libc::ENOENT)) };
            match make_dir(&path[..slash], 0o755) {
                Ok(()) | Err(Errno(libc::EEXIST)) => sys::mkdirat(libc::AT_FDCWD, b.cstr(), mode),
                e => e,
            }
        }
        r => r,
    }
}

/// Names are path components and ps columns: a letter or digit, then letters, digits, `_.-`.
pub fn check_name(name: &CStr) -> Result<&CStr> {
    match valid(name.to_bytes()) {
        true => Ok(name),
        false => Err(Error::msg(m!("invalid name"), name.to_bytes(), NAME_RULE)),
    }
}

/// What [`valid`] wants, for the errors.
pub const NAME_RULE: Msg = m!("expected 1-64 of a-z A-Z 0-9 _ . - (first a letter or digit)");

/// [`check_name`] as a plain test.
pub fn valid(b: &[u8]) -> bool {
    (1..=64).contains(&b.len()) && b[0].is_ascii_alphanumeric() && b.iter().all(|&c| c.is_ascii_alphanumeric() || crate::config::has(b"_.-", c))
}

/// A new short id: 8 hex digits from the time and the pid.
pub fn generate_name() -> Buf<32> {
    let mut v = (sys::now() << 20 ^ sys::getpid() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
    let mut b = Buf::new();
    for _ in 0..8 {
        b.push(&[b"0123456789abcdef"[(v & 15) as usize]]);
        v >>= 4;
    }
    b
}

/// `<name>/<file>`; `<name>/`, the entry itself, for an empty `file`.
pub fn path(name: &[u8], file: &[u8]) -> Buf<128> {
    *Buf::new().push(name).push(b"/").push(file)
}

/// Runs `f` holding the state directory's lock.
fn locked(root: &Root, f: &mut dyn FnMut() -> Result<()>) -> Result<()> {
    let fd = sys::openat(root.fd, c"lock", libc::O_RDWR | libc::O_CREAT, 0o600).at(m!("opening lock"), b"lock")?;
    let r = sys::lock(fd).at(m!("locking state directory"), b"lock").and_then(|()| f());
    sys::close(fd);
    r
}

/// Claims `name` for a new container; an entry of that name, running or not, is a clash.
pub fn create(root: &Root, name: &[u8]) -> Result<()> {
    locked(root, &mut || match sys::mkdirat(root.fd, path(name, b"").cstr(), 0o700) {
        Ok(()) => Ok(()),
        Err(Errno(libc::EEXIST)) => Err(Error::msg(m!("name in use"), name, m!("choose another --name, or 'hutch rm' it"))),
        Err(e) => Err(Error::sys(m!("creating state entry"), name, e)),
    })
}

/// Removes an entry and its files.
pub fn remove(root: &Root, name: &[u8]) -> Result<()> {
    locked(root, &mut || {
        for file in b"state .state exit .exit log config.json .config.json exec.fifo".split(|&c| c == b' ') {
            let _ = sys::unlinkat(root.fd, path(name, file).cstr(), 0);
        }
        sys::unlinkat(root.fd, path(name, b"").cstr(), libc::AT_REMOVEDIR).at(m!("removing state entry"), name)
    })
}

/// Writes `<name>/<file>` whole, atomically.
pub fn write(root: &Root, name: &[u8], file: &[u8], text: &[u8]) -> Result<()> {
    let mut tmp = Buf::<128>::new();
    tmp.push(name).push(b"/.").push(file);
    let r = replace(root.fd, tmp.cstr(), path(name, file).cstr(), text);
    r.at(m!("writing state"), tmp.as_bytes())
}

/// Writes `text` to `dest` whole: to `tmp` first, then renamed over it (pid files too).
pub fn replace(dirfd: c_int, tmp: &CStr, dest: &CStr, text: &[u8]) -> sys::Result<()> {
    sys::write_file_at(dirfd, tmp, text, libc::O_CREAT | libc::O_TRUNC).and_then(|()| sys::rename_at(dirfd, tmp, dest))
}

/// One container's entry, as read back.
pub struct Entry<'a> {
    text: &'a [u8],
    pub exit: Option<i32>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Named, not yet started (or its start failed and the entry is being removed).
    Created,
    Running,
    /// Ended; the status is unknown when its supervisor was killed first.
    Exited(Option<i32>),
}

impl Entry<'_> {
    /// The value of a `key value` line of `state`.
    pub fn get<'a>(&'a self, key: &'a [u8]) -> &'a [u8] {
        self.all(key).next().unwrap_or(b"")
    }

    /// Every value of a repeated key, in order.
    pub fn all<'a>(&'a self, key: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
        self.text.split(|&c| c == b'\n').filter_map(move |l| l.strip_prefix(key).and_then(|v| v.strip_prefix(b" ")))
    }

    pub fn num(&self, key: &[u8]) -> u64 {
        crate::config::parse_num(self.get(key)).unwrap_or(0)
    }

    /// The container's init on the host; 0 before it started.
    pub fn pid(&self) -> i32 {
        self.num(b"pid") as i32
    }

    /// Whether the container's init still runs.
    pub fn alive(&self) -> bool {
        alive(self.pid(), self.num(b"start"))
    }

    pub fn status(&self) -> Status {
        match (self.exit, self.pid()) {
            (Some(code), _) => Status::Exited(Some(code)),
            (None, 0) => Status::Created,
            (None, _) if self.alive() => Status::Running,
            (None, _) => Status::Exited(None),
        }
    }

    /// Whether the supervisor still runs (and so will write `exit`).
    pub fn supervised(&self) -> bool {
        alive(self.num(b"supervisor") as i32, self.num(b"supervisor-start"))
    }
}

/// Entry `name`, its text kept for the rest of this short-lived process (no drop code).
pub fn read(root: &Root, name: &[u8]) -> Result<Entry<'static>> {
    let (text, exit) = load(root, name)?;
    Ok(Entry { text: text.leak(), exit })
}

/// Whether the container of entry `name` has ended and its supervisor has recorded how (or is
/// gone too); so has one whose entry is gone. Polled: what it reads is freed, not kept.
pub fn ended(root: &Root, name: &[u8]) -> bool {
    let Ok((text, exit)) = load(root, name) else { return true };
    let e = Entry { text: &text, exit };
    e.status() != Status::Running && (exit.is_some() || !e.supervised())
}

/// The text of `<name>/state` and the status in `<name>/exit`.
fn load(root: &Root, name: &[u8]) -> Result<(Vec<u8>, Option<i32>)> {
    // A name that cannot be an entry's (`..`, `a/b`, a NUL) is none, and never a path.
    let text = match valid(name).then(|| sys::read_file_at(root.fd, path(name, b"state").cstr())) {
        Some(Ok(t)) => t,
        Some(Err(Errno(libc::ENOENT))) if sys::file_type(root.fd, path(name, b"").cstr()).is_ok() => Vec::new(),
        Some(Err(e)) if e.0 != libc::ENOENT => return Err(Error::sys(m!("reading state"), name, e)),
        _ => return Err(Error::msg(m!("no such container"), name, m!("see 'hutch ps'"))),
    };
    let exit = sys::read_file_at(root.fd, path(name, b"exit").cstr())
        .ok()
        .and_then(|t| crate::config::parse_num(t.strip_suffix(b"\n").unwrap_or(&t)))
        .map(|c| c as i32);
    Ok((text, exit))
}

/// Every entry's name, sorted; kept, with the directory listing they point into, for the rest
/// of this short-lived process (no drop code).
pub fn names(root: &Root) -> Result<&'static [&'static [u8]]> {
    let fd = sys::openat(root.fd, c".", libc::O_RDONLY | libc::O_DIRECTORY, 0).at(m!("reading state directory"), b"")?;
    let all = sys::dir_names(fd).at(m!("reading state directory"), b"");
    sys::close(fd);
    // An insertion sort: a few dozen names, and core's sort costs kilobytes.
    let mut names: Vec<&'static [u8]> = Vec::new();
    for n in Vec::leak(all?).split(|&c| c == 0) {
        if n.is_empty() || n == b"lock" || n[0] == b'.' {
            continue;
        }
        let at = names.iter().position(|m| *m > n).unwrap_or(names.len());
        names.insert(at, n);
    }
    Ok(names.leak())
}

/// The start time of process `pid` (clock ticks after boot), or `None` when it is gone or a
/// zombie: /proc/PID/stat field 22, after the `(comm)` that may hold spaces.
pub fn start_time(pid: i32) -> Option<u64> {
    let mut p = Buf::<32>::new();
    p.push(b"/proc/").num(pid as u64).push(b"/stat");
    let stat = sys::read_file(p.cstr()).ok()?;
    let close = stat.iter().rposition(|&c| c == b')')?;
    let mut fields = stat[close + 2..].split(|&c| c == b' ');
    if fields.next()? == b"Z" {
        return None;
    }
    crate::config::parse_num(fields.nth(18)?)
}

/// Whether `pid` is still the process that started at `start`.
pub fn alive(pid: i32, start: u64) -> bool {
    pid > 0 && start_time(pid) == Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let oks: [&CStr; 4] = [c"a", c"web-1", c"x.y_z", c"0"];
        for ok in oks {
            assert!(check_name(ok).is_ok(), "{ok:?}");
        }
        let bads: [&CStr; 7] = [c"", c"-a", c".a", c"a/b", c"..", c"a b", c"lock\n"];
        for bad in bads {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        let g = generate_name();
        assert!(g.as_bytes().len() == 8 && g.as_bytes().iter().all(u8::is_ascii_hexdigit));
    }
}
