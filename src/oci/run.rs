//! `hutch run [--bundle DIR] ID`: an OCI bundle's container in the foreground, through the
//! same setup path as `hutch run ROOTFS CMD`; exits with its status. (The lifecycle verbs
//! turn this into create + start.)
use core::ffi::CStr;

use crate::error::{Error, Result};
use crate::{container, state};

/// Whether `run`'s arguments are OCI-shaped: a bundle option, or one operand and no
/// command (hutch's own `run ROOTFS CMD...` always has two or more).
pub fn shaped(args: &[&'static CStr]) -> bool {
    let mut operands = 0;
    for a in args {
        match a.to_bytes() {
            b"--" | b"--help" => return false,
            b if b.starts_with(b"--bundle") || b.starts_with(b"-b") => return true,
            b if b.first() != Some(&b'-') => operands += 1,
            _ => {}
        }
    }
    operands == 1
}

/// `[--bundle DIR | -b DIR] ID`, options before or after the ID.
pub fn main(args: &[&'static CStr]) -> Result<i32> {
    let mut bundle: &'static CStr = c".";
    let mut id = None;
    let mut i = 0;
    while i < args.len() {
        let b = args[i].to_bytes();
        i += 1;
        match b {
            b"-b" | b"--bundle" => match args.get(i) {
                Some(v) => (bundle, i) = (v, i + 1),
                None => return Err(Error::msg("option needs a value", b, "see 'hutch run --help'")),
            },
            _ if b.starts_with(b"--bundle=") => bundle = crate::config::leak(&b[9..]),
            _ if b.starts_with(b"-b") => bundle = crate::config::leak(&b[2..]),
            _ if b.first() == Some(&b'-') => return Err(Error::msg("unknown option", b, "see 'hutch run --help'")),
            _ if id.is_none() => id = Some(state::check_name(args[i - 1])?),
            _ => return Err(Error::msg("run", b, "expected one container ID")),
        }
    }
    if id.is_none() {
        return Err(Error::msg("run", b"", "missing the container ID"));
    }
    let spec = super::spec::load(bundle)?;
    for w in spec.run.oci.iter().flat_map(|o| &o.warnings) {
        let _ = crate::sys::write_all(2, w.to_bytes());
    }
    container::run(&spec.run, &spec.env, &mut |_| {})
}
