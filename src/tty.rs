//! `-t/--tty`: the container's stdio is a terminal of its own. The child opens it in the
//! container's devpts instance (so `tty` inside names /dev/pts/0, which the container can
//! see), makes it its controlling terminal, and sends the master side to hutch over a socket
//! (SCM_RIGHTS). hutch puts its own terminal in raw mode, so keys (^C included) go to the
//! container's terminal, which turns them into signals for its foreground job; a pump process
//! copies bytes both ways; SIGWINCH copies the window size over; the mode is restored at the
//! end. See pty(7), ioctl_tty(2), termios(3), unix(7).
use core::ffi::c_int;

use crate::buf::Buf;
use crate::error::{Context, Result};
use crate::msg::m;
use crate::sys;

/// In the child, after the switch to the container's root: the new terminal becomes stdin,
/// stdout and stderr, and the session's controlling terminal; its master goes to `sock`.
/// `size` (rows, columns: OCI's consoleSize) is set in place of hutch's own.
pub fn attach(sock: c_int, size: Option<(u16, u16)>) -> Result<()> {
    let master = sys::open(c"/dev/ptmx", libc::O_RDWR | libc::O_NOCTTY).at(m!("opening terminal"), b"/dev/ptmx")?;
    let n = sys::pty_unlock(master).at(m!("opening terminal"), b"/dev/ptmx")?;
    let mut path = Buf::<32>::new();
    path.push(b"/dev/pts/").num(n as u64);
    let slave = sys::open(path.cstr(), libc::O_RDWR | libc::O_NOCTTY).at(m!("opening terminal"), path.as_bytes())?;
    // hutch's window size, from before the command runs (hutch itself gets the master later).
    match size {
        Some((rows, cols)) => sys::set_winsize(slave, rows, cols),
        None => sys::copy_winsize(0, slave),
    }
    sys::setsid();
    sys::set_controlling_tty(slave).at(m!("setting controlling terminal"), path.as_bytes())?;
    for fd in 0..3 {
        sys::dup2(slave, fd).at(m!("setting controlling terminal"), path.as_bytes())?;
    }
    sys::close(slave);
    sys::send_fd(sock, master).at(m!("sending terminal"), path.as_bytes())?;
    sys::close(master);
    sys::close(sock);
    Ok(())
}

/// The host side, while the container runs.
pub struct Proxy {
    pub master: c_int,
    pump: c_int,
    saved: Option<libc::termios>,
}

impl Proxy {
    pub fn start(sock: c_int) -> Result<Proxy> {
        let master = sys::recv_fd(sock).at(m!("receiving terminal"), b"")?;
        sys::copy_winsize(0, master);
        let saved = sys::make_raw(0);
        let stack = sys::Stack::new(64 * 1024).at(m!("mapping stack"), b"")?;
        let mut m = master;
        let pump = sys::clone(pump, &stack, libc::SIGCHLD, &mut m).at(m!("starting terminal pump"), b"")?;
        Ok(Proxy { master, pump, saved })
    }

    /// After the container's end: the pump has copied the last output once the master reads
    /// end of file (every terminal fd of the container is closed).
    pub fn finish(self) {
        let _ = sys::waitpid(self.pump, false);
        if let Some(t) = &self.saved {
            sys::restore_tty(0, t);
        }
        sys::close(self.master);
    }
}

/// Copies stdin to the terminal and the terminal to stdout until the terminal is closed.
fn pump(master: &mut c_int) -> c_int {
    let master = *master;
    let mut input = 0;
    let mut buf = [0u8; 4096];
    loop {
        let [r_in, r_master] = sys::poll_in([input, master]);
        if r_master != 0 {
            match sys::read(master, &mut buf) {
                Ok(n @ 1..) => {
                    let _ = sys::write_all(1, &buf[..n]);
                }
                _ => return 0, // EIO: the container's side is closed
            }
        }
        if r_in != 0 {
            match sys::read(0, &mut buf) {
                Ok(n @ 1..) => {
                    let _ = sys::write_all(master, &buf[..n]);
                }
                _ => input = -1, // end of input: keep copying output
            }
        }
    }
}
