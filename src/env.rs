//! The container's environment: docker's defaults (PATH, HOSTNAME, TERM from the host), then
//! `-e` and `--env-file` entries in command-line order, a later KEY replacing an earlier one.
//! Nothing else of the host's environment goes in. HOME, unless given, is the user's home,
//! set where the user is known (child.rs, exec.rs).
use alloc::vec::Vec;
use core::ffi::CStr;

use crate::config::{leak, EnvArg};
use crate::error::{Context, Error, Result};
use crate::msg::m;
use crate::sys;

pub const DEFAULT_PATH: &CStr = c"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The bytes before the first '=' (all of it when there is none).
pub fn key(entry: &[u8]) -> &[u8] {
    entry.split(|&c| c == b'=').next().unwrap_or_default()
}

/// Looks `name` up in an environment; returns the whole `KEY=VAL` entry.
pub fn lookup(env: &[&'static CStr], name: &[u8]) -> Option<&'static CStr> {
    // `name` has no '=': the entry is NAME=...
    env.iter().copied().find(|e| e.to_bytes().strip_prefix(name).is_some_and(|v| v.first() == Some(&b'=')))
}

/// Sets `entry` (KEY=VAL), replacing an entry with the same key in place.
pub fn set(env: &mut Vec<&'static CStr>, entry: &'static CStr) {
    let k = key(entry.to_bytes());
    match env.iter_mut().find(|e| key(e.to_bytes()) == k) {
        Some(slot) => *slot = entry,
        None => env.push(entry),
    }
}

/// Sets HOME to `home` (the user's, or root's /root without one) unless the environment has
/// one: docker's and runc's rule, for a container's first process and for `exec` alike.
#[inline(never)] // smaller out of line (measured)
pub fn set_home_if_unset(env: &mut Vec<&'static CStr>, home: &[u8]) {
    if lookup(env, b"HOME").is_none() {
        env.push(home_entry(home));
    }
}

fn home_entry(home: &[u8]) -> &'static CStr {
    let mut h = Vec::from(&b"HOME="[..]);
    h.extend_from_slice(home);
    leak(&h)
}

/// Applies one user entry: `KEY=VAL` is set as is; a bare `KEY` copies the host's value
/// and is skipped when the host has none (docker's behaviour).
fn apply(env: &mut Vec<&'static CStr>, entry: &'static CStr, host: &[&'static CStr]) -> Result<()> {
    let b = entry.to_bytes();
    let k = key(b);
    if k.is_empty() || k.iter().any(|c| c.is_ascii_whitespace()) {
        return Err(Error::msg(m!("invalid environment variable"), b, m!("expected KEY=VALUE with a non-empty KEY without spaces")));
    }
    if k.len() < b.len() {
        set(env, entry);
    } else if let Some(v) = lookup(host, k) {
        set(env, v);
    }
    Ok(())
}

/// The entries of an env file, in order, each to `each` (no list of them is kept): one per
/// line, surrounding blanks trimmed, blank lines and `#` comments skipped.
pub fn file_lines(text: &'static mut [u8], each: &mut dyn FnMut(&'static CStr) -> Result<()>) -> Result<()> {
    for line in text.split_mut(|&c| c == b'\n') {
        let start = line.iter().position(|c| !c.is_ascii_whitespace());
        let end = line.iter().rposition(|c| !c.is_ascii_whitespace());
        let (Some(s), Some(e)) = (start, end) else { continue };
        if line[s] == b'#' {
            continue;
        }
        each(leak(&line[s..=e]))?;
    }
    Ok(())
}

/// The environment the command gets.
pub fn build(args: &[EnvArg], hostname: &CStr, host: &[&'static CStr]) -> Result<Vec<&'static CStr>> {
    let mut env = Vec::new();
    env.push(DEFAULT_PATH);
    let mut h = crate::buf::Buf::<80>::new();
    h.push(b"HOSTNAME=").push(hostname.to_bytes());
    env.push(leak(h.as_bytes()));
    if let Some(term) = lookup(host, b"TERM") {
        env.push(term);
    }
    for arg in args {
        match *arg {
            EnvArg::Var(v) => apply(&mut env, v, host)?,
            EnvArg::File(path) => {
                let text = sys::read_file(path).at(m!("reading env file"), path.to_bytes())?;
                file_lines(text.leak(), &mut |line| apply(&mut env, line, host))?;
            }
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes<'a>(env: &[&'a CStr]) -> Vec<&'a [u8]> {
        env.iter().map(|e| e.to_bytes()).collect()
    }

    #[test]
    fn defaults_then_overrides_in_order() {
        let host = [c"TERM=xterm", c"SECRET=1", c"FROMHOST=yes"];
        let args = [
            EnvArg::Var(c"A=1"),
            EnvArg::Var(c"PATH=/bin"),
            EnvArg::Var(c"FROMHOST"),
            EnvArg::Var(c"MISSING"),
            EnvArg::Var(c"A=2"),
            EnvArg::Var(c"EMPTY="),
        ];
        let env = build(&args, c"box", &host).ok().unwrap();
        assert_eq!(
            bytes(&env),
            [&b"PATH=/bin"[..], b"HOSTNAME=box", b"TERM=xterm", b"A=2", b"FROMHOST=yes", b"EMPTY="]
        );
    }

    #[test]
    fn no_term_without_host_term() {
        let env = build(&[], c"hutch", &[c"LANG=C"]).ok().unwrap();
        assert_eq!(bytes(&env), [DEFAULT_PATH.to_bytes(), b"HOSTNAME=hutch"]);
    }

    #[test]
    fn home_follows_the_user_unless_set() {
        let mut env = build(&[], c"h", &[]).ok().unwrap();
        set_home_if_unset(&mut env, b"/home/alice");
        assert!(bytes(&env).contains(&&b"HOME=/home/alice"[..]));
        let mut env = build(&[EnvArg::Var(leak(b"HOME=/root"))], c"h", &[]).ok().unwrap();
        set_home_if_unset(&mut env, b"/home/alice");
        assert!(bytes(&env).contains(&&b"HOME=/root"[..]), "an explicit HOME wins, even when equal to root's");
    }

    #[test]
    fn rejects_bad_keys() {
        for bad in [c"=x", c"A B=1", c""] {
            assert!(build(&[EnvArg::Var(bad)], c"h", &[]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn env_file_lines() {
        let text = b"# comment\nA=1\n\n  B=two words  \r\n#C=3\nD\n".to_vec().leak();
        let mut lines = Vec::new();
        assert!(file_lines(text, &mut |l| Ok(lines.push(l))).is_ok());
        assert_eq!(bytes(&lines), [&b"A=1"[..], b"B=two words", b"D"]);
    }
}
