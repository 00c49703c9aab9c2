//! The text of each errno, as musl's strerror(3) words it. Held in the message table (msg.rs)
//! instead of musl's own string table: packed with hutch's other texts it takes about half
//! the bytes, and an errno's text is only needed when hutch is about to exit with an error.
use crate::msg::{m, Msg};

/// What `errno` means; musl's wording, "No error information" for a number it does not name.
pub fn text(errno: i32) -> Msg {
    match errno {
        libc::EPERM => m!("Operation not permitted"),
        libc::ENOENT => m!("No such file or directory"),
        libc::ESRCH => m!("No such process"),
        libc::EINTR => m!("Interrupted system call"),
        libc::EIO => m!("I/O error"),
        libc::ENXIO => m!("No such device or address"),
        libc::E2BIG => m!("Argument list too long"),
        libc::ENOEXEC => m!("Exec format error"),
        libc::EBADF => m!("Bad file descriptor"),
        libc::ECHILD => m!("No child process"),
        libc::EAGAIN => m!("Resource temporarily unavailable"),
        libc::ENOMEM => m!("Out of memory"),
        libc::EACCES => m!("Permission denied"),
        libc::EFAULT => m!("Bad address"),
        libc::ENOTBLK => m!("Block device required"),
        libc::EBUSY => m!("Resource busy"),
        libc::EEXIST => m!("File exists"),
        libc::EXDEV => m!("Cross-device link"),
        libc::ENODEV => m!("No such device"),
        libc::ENOTDIR => m!("Not a directory"),
        libc::EISDIR => m!("Is a directory"),
        libc::EINVAL => m!("Invalid argument"),
        libc::ENFILE => m!("Too many open files in system"),
        libc::EMFILE => m!("No file descriptors available"),
        libc::ENOTTY => m!("Not a tty"),
        libc::ETXTBSY => m!("Text file busy"),
        libc::EFBIG => m!("File too large"),
        libc::ENOSPC => m!("No space left on device"),
        libc::ESPIPE => m!("Invalid seek"),
        libc::EROFS => m!("Read-only file system"),
        libc::EMLINK => m!("Too many links"),
        libc::EPIPE => m!("Broken pipe"),
        libc::EDOM => m!("Domain error"),
        libc::ERANGE => m!("Result not representable"),
        libc::EDEADLK => m!("Resource deadlock would occur"),
        libc::ENAMETOOLONG => m!("Filename too long"),
        libc::ENOLCK => m!("No locks available"),
        libc::ENOSYS => m!("Function not implemented"),
        libc::ENOTEMPTY => m!("Directory not empty"),
        libc::ELOOP => m!("Symbolic link loop"),
        libc::ENOMSG => m!("No message of desired type"),
        libc::EIDRM => m!("Identifier removed"),
        libc::ENOSTR => m!("Device not a stream"),
        libc::ENODATA => m!("No data available"),
        libc::ETIME => m!("Device timeout"),
        libc::ENOSR => m!("Out of streams resources"),
        libc::ENOLINK => m!("Link has been severed"),
        libc::EPROTO => m!("Protocol error"),
        libc::EMULTIHOP => m!("Multihop attempted"),
        libc::EBADMSG => m!("Bad message"),
        libc::EOVERFLOW => m!("Value too large for data type"),
        libc::EBADFD => m!("File descriptor in bad state"),
        libc::EILSEQ => m!("Illegal byte sequence"),
        libc::ENOTSOCK => m!("Not a socket"),
        libc::EDESTADDRREQ => m!("Destination address required"),
        libc::EMSGSIZE => m!("Message too large"),
        libc::EPROTOTYPE => m!("Protocol wrong type for socket"),
        libc::ENOPROTOOPT => m!("Protocol not available"),
        libc::EPROTONOSUPPORT => m!("Protocol not supported"),
        libc::ESOCKTNOSUPPORT => m!("Socket type not supported"),
        libc::EOPNOTSUPP => m!("Not supported"),
        libc::EPFNOSUPPORT => m!("Protocol family not supported"),
        libc::EAFNOSUPPORT => m!("Address family not supported by protocol"),
        libc::EADDRINUSE => m!("Address in use"),
        libc::EADDRNOTAVAIL => m!("Address not available"),
        libc::ENETDOWN => m!("Network is down"),
        libc::ENETUNREACH => m!("Network unreachable"),
        libc::ENETRESET => m!("Connection reset by network"),
        libc::ECONNABORTED => m!("Connection aborted"),
        libc::ECONNRESET => m!("Connection reset by peer"),
        libc::ENOBUFS => m!("No buffer space available"),
        libc::EISCONN => m!("Socket is connected"),
        libc::ENOTCONN => m!("Socket not connected"),
        libc::ESHUTDOWN => m!("Cannot send after socket shutdown"),
        libc::ETIMEDOUT => m!("Operation timed out"),
        libc::ECONNREFUSED => m!("Connection refused"),
        libc::EHOSTDOWN => m!("Host is down"),
        libc::EHOSTUNREACH => m!("Host is unreachable"),
        libc::EALREADY => m!("Operation already in progress"),
        libc::EINPROGRESS => m!("Operation in progress"),
        libc::ESTALE => m!("Stale file handle"),
        libc::EREMOTEIO => m!("Remote I/O error"),
        libc::EDQUOT => m!("Quota exceeded"),
        libc::ENOMEDIUM => m!("No medium found"),
        libc::EMEDIUMTYPE => m!("Wrong medium type"),
        libc::ECANCELED => m!("Operation canceled"),
        libc::ENOKEY => m!("Required key not available"),
        libc::EKEYEXPIRED => m!("Key has expired"),
        libc::EKEYREVOKED => m!("Key has been revoked"),
        libc::EKEYREJECTED => m!("Key was rejected by service"),
        libc::EOWNERDEAD => m!("Previous owner died"),
        libc::ENOTRECOVERABLE => m!("State not recoverable"),
        _ => m!("No error information"),
    }
}

#[cfg(test)]
mod tests {
    /// Every number reads as musl's strerror words it (the tests link musl).
    #[test]
    #[allow(unsafe_code)]
    fn matches_musl() {
        for e in 0..200 {
            // SAFETY: strerror returns a static, NUL-terminated string.
            let musl = unsafe { std::ffi::CStr::from_ptr(libc::strerror(e)) };
            assert_eq!(super::text(e).str(), musl.to_str().unwrap(), "errno {e}");
        }
    }
}
