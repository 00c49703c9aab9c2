//! Capabilities: the container keeps Docker's default set (or what --cap-add/--cap-drop/
//! --privileged make of it) in its bounding, permitted, effective and inheritable sets, and
//! nothing in the ambient set. See capabilities(7), prctl(2) PR_CAPBSET_DROP, capset(2).
use crate::error::{Context, Error, Result};
use crate::msg::m;
use crate::sys;

/// Capability names by number (linux/capability.h), without the CAP_ prefix, space-separated:
/// one string, not a table of 41 string references.
pub const NAMES: &str = "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP \
    LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER \
    SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE \
    SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP \
    MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF \
    CHECKPOINT_RESTORE";

/// Every capability, including ones newer than this table that the kernel may know.
pub const ALL: u64 = !0;

/// Docker's default set: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
/// NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP.
pub const DEFAULT: u64 = bits(&[0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]);

const fn bits(caps: &[u32]) -> u64 {
    let mut m = 0;
    let mut i = 0;
    while i < caps.len() {
        m |= 1 << caps[i];
        i += 1;
    }
    m
}

/// A capability name as a mask: any case, with or without `CAP_`; `ALL` is every capability.
pub fn parse(name: &[u8]) -> Result<u64> {
    // Upper-cased once, then compared exactly (longer than any name: no name once cut).
    let mut up = crate::buf::Buf::<64>::new();
    for &c in name {
        up.push(&[c.to_ascii_uppercase()]);
    }
    let up = up.as_bytes();
    let bare = up.strip_prefix(b"CAP_").unwrap_or(up);
    if bare == b"ALL" {
        return Ok(ALL);
    }
    match crate::config::word_index(NAMES.as_bytes(), bare) {
        Some(i) => Ok(1 << i),
        None => Err(Error::msg(m!("unknown capability"), name, m!("see capabilities(7)"))),
    }
}

/// `--cap-add` and `--cap-drop` as Docker combines them, whatever their order: dropping ALL
/// starts from nothing, adding ALL from everything, then the named adds, then the named drops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub add: u64,
    pub drop: u64,
}

impl Changes {
    #[inline(never)]
    pub fn result(&self) -> u64 {
        let mut caps = if self.drop == ALL { 0 } else { DEFAULT };
        caps = if self.add == ALL { ALL } else { caps | self.add };
        if self.drop != ALL {
            caps &= !self.drop;
        }
        caps
    }
}

/// A process's five capability sets. `hutch run` gives the same mask to all but the ambient
/// set; config.json names each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sets {
    pub bounding: u64,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub ambient: u64,
}

impl Sets {
    pub fn same(keep: u64) -> Sets {
        Sets { bounding: keep, effective: keep, permitted: keep, inheritable: keep, ambient: 0 }
    }
}

/// Drops from the bounding set what `keep` lacks, and clears the ambient set. Needs
/// CAP_SETPCAP, so it runs before the capability sets are reduced. Returns the bounding set
/// left (what of `keep` the kernel knows and hutch's own bounding set still holds).
pub fn limit_bounding(keep: u64) -> Result<u64> {
    let mut bounded = 0u64;
    for cap in 0..64 {
        let (op, bit) = match keep & (1 << cap) {
            0 => (libc::PR_CAPBSET_DROP, 0),
            bit => (libc::PR_CAPBSET_READ, bit),
        };
        match sys::prctl(op, cap, 0) {
            Ok(0) => {}
            Ok(_) => bounded |= bit,
            // Past the kernel's last capability.
            Err(sys::Errno(libc::EINVAL)) => break,
            Err(e) => return Err(Error::sys(m!("dropping capability"), cap_name(cap), e)),
        }
    }
    sys::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as _, 0).at(m!("clearing ambient capabilities"), b"")?;
    Ok(bounded)
}

/// Sets the effective, permitted and inheritable sets (limited to the bounding set `bounded`
/// that [`limit_bounding`] left, since a process can only lose capabilities here), then
/// raises the ambient ones. The kernel allows those only when both permitted and
/// inheritable; others are skipped, as runc does (its default config lists ambient
/// capabilities but no inheritable ones).
pub fn set(s: &Sets, bounded: u64) -> Result<()> {
    sys::capset(s.effective & bounded, s.permitted & bounded, s.inheritable & bounded).at(m!("setting capabilities"), b"")?;
    for cap in 0..64 {
        if s.ambient & s.permitted & s.inheritable & bounded & (1 << cap) != 0 {
            sys::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE as _, cap).at(m!("raising ambient capability"), cap_name(cap))?;
        }
    }
    Ok(())
}

fn words() -> impl Iterator<Item = &'static [u8]> {
    NAMES.as_bytes().split(|&c| c == b' ')
}

/// The name of capability `i`; `None` past the table.
pub fn name(i: usize) -> Option<&'static [u8]> {
    words().nth(i)
}

fn cap_name(cap: libc::c_ulong) -> &'static [u8] {
    name(cap as usize).unwrap_or(b"?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_any_form() {
        assert_eq!(parse(b"CHOWN").ok(), Some(1));
        assert_eq!(parse(b"cap_net_raw").ok(), Some(1 << 13));
        assert_eq!(parse(b"Sys_Admin").ok(), Some(1 << 21));
        assert_eq!(parse(b"CAP_CHECKPOINT_RESTORE").ok(), Some(1 << 40));
        assert_eq!(parse(b"all").ok(), Some(ALL));
        for bad in [&b""[..], b"CAP_", b"NET", b"CAP_FOO", b"SYS_ADMIN2"] {
            assert!(parse(bad).is_err());
        }
    }

    #[test]
    fn names_by_number() {
        assert_eq!(name(0), Some(&b"CHOWN"[..]));
        assert_eq!(name(21), Some(&b"SYS_ADMIN"[..]));
        assert_eq!(name(40), Some(&b"CHECKPOINT_RESTORE"[..]));
        assert_eq!(name(41), None);
        assert_eq!(cap_name(63), b"?");
    }

    #[test]
    fn default_is_dockers() {
        let names = ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
                     "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"];
        let m = names.iter().fold(0, |m, n| m | parse(n.as_bytes()).ok().unwrap());
        assert_eq!(m, DEFAULT);
    }

    #[test]
    fn add_and_drop_combine_like_docker() {
        let c = |add: &[&str], drop: &[&str]| {
            let mask = |l: &[&str]| l.iter().fold(0, |m, n| m | parse(n.as_bytes()).ok().unwrap());
            Changes { add: mask(add), drop: mask(drop) }.result()
        };
        assert_eq!(c(&[], &[]), DEFAULT);
        assert_eq!(c(&["SYS_ADMIN"], &["CHOWN"]), (DEFAULT | 1 << 21) & !1);
        assert_eq!(c(&["NET_RAW"], &["ALL"]), 1 << 13);
        assert_eq!(c(&["ALL"], &["NET_RAW"]), ALL & !(1 << 13));
        assert_eq!(c(&[], &["ALL"]), 0);
        assert_eq!(c(&["ALL"], &[]), ALL);
    }
}
