//! `-u USER[:GROUP]`: numbers, or names looked up in the container's own /etc/passwd and
//! /etc/group (read after the root switch, so never the host's). See passwd(5), group(5).
use alloc::vec::Vec;
use core::ffi::CStr;

use crate::error::{Error, Result};
use crate::msg::m;
use crate::sys;

#[derive(Debug, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups: the primary group, then every group listing the user by name.
    pub groups: Vec<u32>,
    /// The user's home from passwd ("/" when the user has no entry, as runc does); the file
    /// is read once, by a process about to exec, and kept.
    pub home: &'static [u8],
}

/// A decimal u32, nothing else (no sign, no blanks).
pub fn number(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |n, &c| n.checked_mul(10)?.checked_add((c - b'0') as u32))
}

/// Field `n` of a colon-separated passwd or group line ("" past its end).
fn field(line: &[u8], n: usize) -> &[u8] {
    crate::config::field(line, b':', n)
}

/// The first well-formed line (at least `min_fields` fields) of a passwd or group file that
/// `want` accepts. One loop for every lookup: each iterator chain would be a copy of its own.
pub fn find<'t>(text: &'t [u8], min_fields: usize, want: &mut dyn FnMut(&'t [u8]) -> bool) -> Option<&'t [u8]> {
    for l in text.split(|&c| c == b'\n') {
        if l.is_empty() || l[0] == b'#' {
            continue;
        }
        if l.iter().filter(|&&c| c == b':').count() >= min_fields - 1 && want(l) {
            return Some(l);
        }
    }
    None
}

/// The line with id (field 2) `id`, or else named `name`.
pub fn by<'t>(text: &'t [u8], min_fields: usize, id: Option<u32>, name: &[u8]) -> Option<&'t [u8]> {
    find(text, min_fields, &mut |l| match id {
        Some(id) => number(field(l, 2)) == Some(id),
        None => field(l, 0) == name,
    })
}

/// Resolves `spec` against the texts of passwd and group files.
pub fn resolve_in(spec: &[u8], passwd: &'static [u8], group: &[u8]) -> Result<Ids> {
    let (user, grp) = match spec.iter().position(|&c| c == b':') {
        Some(i) => (&spec[..i], Some(&spec[i + 1..])),
        None => (spec, None),
    };
    // passwd: name:password:uid:gid:gecos:home:shell
    let by_uid = number(user);
    let (uid, name, mut gid, home) = match (by(passwd, 7, by_uid, user), by_uid) {
        (Some(l), _) => match (number(field(l, 2)), number(field(l, 3))) {
            (Some(u), Some(g)) => (u, field(l, 0), g, field(l, 5)),
            _ => return Err(Error::msg(m!("bad /etc/passwd entry"), user, m!("uid and gid must be numbers"))),
        },
        (None, Some(u)) => (u, &b""[..], 0, &b"/"[..]),
        (None, None) => return Err(Error::msg(m!("unknown user"), user, m!("not in the container's /etc/passwd"))),
    };
    // group: name:password:gid:member,member
    if let Some(g) = grp {
        gid = match number(g).or_else(|| by(group, 3, None, g).and_then(|l| number(field(l, 2)))) {
            Some(n) => n,
            None => return Err(Error::msg(m!("unknown group"), g, m!("not in the container's /etc/group"))),
        };
    }
    let mut groups = Vec::from([gid]);
    if !name.is_empty() {
        find(group, 4, &mut |l| {
            if let Some(n) = number(field(l, 2)) {
                if !groups.contains(&n) && field(l, 3).split(|&c| c == b',').any(|m| m == name) {
                    groups.push(n);
                }
            }
            false
        });
    }
    Ok(Ids { uid, gid, groups, home })
}

/// config.json's numeric user: its ids as given (the additional gids, or the gid alone), and
/// its home from the container's /etc/passwd.
#[inline(never)]
pub fn numeric(uid: u32, gid: u32, groups: &[u32]) -> Ids {
    let passwd = sys::read_file(c"/etc/passwd").unwrap_or_default().leak();
    let home = by(passwd, 7, Some(uid), b"").map_or(&b"/"[..], |l| field(l, 5));
    let groups = if groups.is_empty() { Vec::from([gid]) } else { groups.to_vec() };
    Ids { uid, gid, groups, home }
}

/// Resolves `spec` against the container's files; a missing file reads as empty.
pub fn resolve(spec: &CStr) -> Result<Ids> {
    let read = |p: &CStr| sys::read_file(p).unwrap_or_default();
    resolve_in(spec.to_bytes(), read(c"/etc/passwd").leak(), &read(c"/etc/group"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\n# comment\nbad line\n\
        alice:x:1000:1000:Alice:/home/alice:/bin/sh\nbob:x:1001:100::/home/bob:/bin/sh\n";
    const GROUP: &[u8] = b"root:x:0:\nusers:x:100:alice\nalice:x:1000:\nwheel:x:10:bob,alice\naudio:x:29:bob\n";

    fn ids(spec: &str) -> Result<Ids> {
        resolve_in(spec.as_bytes(), PASSWD, GROUP)
    }

    #[test]
    fn names_and_numbers() {
        let a = ids("alice").ok().unwrap();
        assert_eq!((a.uid, a.gid, a.groups.as_slice(), a.home), (1000, 1000, &[1000, 100, 10][..], &b"/home/alice"[..]));
        let b = ids("1001").ok().unwrap();
        assert_eq!((b.uid, b.gid, b.groups.as_slice()), (1001, 100, &[100, 10, 29][..]));
        let c = ids("bob:wheel").ok().unwrap();
        assert_eq!((c.uid, c.gid), (1001, 10));
        assert_eq!(c.groups, [10, 29], "the primary group first, no duplicates");
        let d = ids("4242:77").ok().unwrap();
        assert_eq!((d.uid, d.gid, d.groups.as_slice(), d.home), (4242, 77, &[77][..], &b"/"[..]));
        let e = ids("0").ok().unwrap();
        assert_eq!((e.uid, e.gid, e.home), (0, 0, &b"/root"[..]));
    }

    #[test]
    fn unknown_names_are_errors() {
        assert_eq!(ids("mallory").err().map(|e| e.step.str()), Some("unknown user"));
        assert_eq!(ids("alice:nogroup").err().map(|e| e.step.str()), Some("unknown group"));
        assert!(ids("99999999999").is_err(), "out of range is not a number, and not a name");
        assert!(resolve_in(b"alice", b"", b"").is_err());
        let short = b"short:x:7:7:gecos:/home\n";
        assert_eq!(resolve_in(b"short", short, b"").err().map(|e| e.step.str()), Some("unknown user"), "6 fields: not an entry");
        assert_eq!(resolve_in(b"7", short, b"").ok().map(|i| i.home), Some(&b"/"[..]));
        assert_eq!(field(b"a:b::d", 2), b"");
        assert_eq!(field(b"a:b", 5), b"");
        assert_eq!(resolve_in(b"5", b"", b"").ok().map(|i| i.uid), Some(5));
    }
}
