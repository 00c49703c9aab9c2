//! hutch's one error type: which step failed, on what object, and why. Its detail holds no
//! pointers (messages are indexes, msg.rs), so the container's child process can send it to
//! the parent through a pipe as plain bytes. Printed once, by `main`, as
//! `hutch: <step>: <object>: <cause>`.
use alloc::boxed::Box;

use crate::buf::Buf;
use crate::msg::{m, Msg};
use crate::sys::{self, Errno};

/// The step name for execve failures; it selects the 126/127 exit statuses.
pub const EXEC: Msg = m!("exec");

#[derive(Clone, Copy)]
pub enum Cause {
    Errno(Errno),
    Msg(Msg),
}

impl Cause {
    /// What the cause says: an errno's text or the message.
    fn text(self) -> Msg {
        match self {
            Cause::Errno(e) => crate::errno::text(e.0),
            Cause::Msg(m) => m,
        }
    }
}

/// What an [`Error`] says; plain bytes, so it crosses the pipe from the child as they are.
#[derive(Clone, Copy)]
pub struct Detail {
    pub step: Msg,
    pub object: Buf<160>,
    pub cause: Cause,
}

/// Boxed: every `Result` in hutch carries one, and a pointer moves through the `?`s in far
/// less code than the 200-byte detail (23 KB less binary once the OCI runtime was in). The
/// box is leaked: errors are few and hutch exits soon after one, and an `Error` that is Copy
/// has no drop code wherever a `Result` goes out of scope.
#[derive(Clone, Copy)]
pub struct Error(&'static Detail);

impl core::ops::Deref for Error {
    type Target = Detail;
    fn deref(&self) -> &Detail {
        self.0
    }
}

pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    pub fn new(step: Msg, object: &[u8], cause: Cause) -> Error {
        let mut b = Buf::new();
        b.push(object);
        if b.full() {
            b = Buf::new();
            b.push(&object[..140]).push(b"...");
        }
        Error(Box::leak(Box::new(Detail { step, object: b, cause })))
    }

    pub fn sys(step: Msg, object: &[u8], e: Errno) -> Error {
        Error::new(step, object, Cause::Errno(e))
    }

    pub fn msg(step: Msg, object: &[u8], why: Msg) -> Error {
        Error::new(step, object, Cause::Msg(why))
    }

    /// The errno of a failed system call.
    pub fn errno(&self) -> Option<i32> {
        match self.cause {
            Cause::Errno(Errno(e)) => Some(e),
            Cause::Msg(_) => None,
        }
    }

    /// docker's convention: 127 command not found, 126 found but not executable, 125 hutch failed.
    pub fn exit_code(&self) -> i32 {
        match self.cause {
            Cause::Errno(Errno(libc::ENOENT)) if self.step == EXEC => 127,
            _ if self.step == EXEC => 126,
            _ => 125,
        }
    }

    pub fn print(&self) {
        let mut line = Buf::<512>::new();
        line.push(b"hutch: ");
        self.write(&mut line);
        let _ = sys::write_all(2, line.push(b"\n").as_bytes());
    }

    /// `<step>: <object>: <cause>`, the line without `hutch: ` (the OCI verbs log it).
    pub fn text(&self) -> Buf<512> {
        let mut line = Buf::<512>::new();
        self.write(&mut line);
        line
    }

    fn write(&self, line: &mut Buf<512>) {
        line.push(self.step.text());
        if !self.object.as_bytes().is_empty() {
            line.push(b": ").push(self.object.as_bytes());
        }
        line.push(b": ").push(self.cause.text().text());
    }
}

impl Error {
    /// Sends the error to the parent; nothing is left to do if that fails.
    pub fn send(&self, fd: i32) {
        let _ = sys::send(fd, self.0);
    }

    /// The error sent by the child, or `None` when the pipe reached end of file first (the
    /// child exec'd, or died without a word).
    #[allow(unsafe_code)]
    pub fn receive(fd: i32) -> Option<Error> {
        // SAFETY: the only writer of this pipe is `send` above, in a copy of this same process
        // image, so the bytes are a valid Detail (indexes into the same message table).
        unsafe { sys::receive::<Detail>(fd) }.ok().flatten().map(|d| Error(Box::leak(Box::new(d))))
    }
}

/// Attaches the step and object to a failed system call.
pub trait Context<T> {
    fn at(self, step: Msg, object: &[u8]) -> Result<T>;
}

impl<T> Context<T> for sys::Result<T> {
    fn at(self, step: Msg, object: &[u8]) -> Result<T> {
        self.map_err(|e| Error::sys(step, object, e))
    }
}

/// For unit tests' `unwrap`: the line `print` would write.
#[cfg(test)]
impl core::fmt::Debug for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        let cause = self.cause.text().text();
        let o = self.object.as_bytes();
        let step = std::string::String::from_utf8_lossy(self.step.text());
        write!(f, "{}: {}: {}", step, std::string::String::from_utf8_lossy(o), std::string::String::from_utf8_lossy(cause))
    }
}
