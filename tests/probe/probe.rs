//! Test probe: a tiny static program run as the container's command when
//! busybox cannot show something cleanly. Built by `tests/common/mod.rs`.
//!
//!   probe pid            print our pid (1 when we are the container's init)
//!   probe fds            print our open fds, one per line
//!   probe args ARG...    print each argument on its own line
//!   probe loopback       TCP round trip over 127.0.0.1, print "ok"
//!   probe crash          die of SIGILL (a fault the kernel delivers even to init)
//!   probe chroot-escape  try the classic chroot escape, list the "/" it ends in
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::exit;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("pid") => println!("{}", std::process::id()),
        Some("fds") => fds(),
        Some("args") => args[1..].iter().for_each(|a| println!("{a}")),
        Some("loopback") => loopback(),
        Some("crash") => crash(),
        Some("chroot-escape") => chroot_escape(),
        _ => {
            eprintln!("probe: usage: probe pid|fds|args|loopback|crash|chroot-escape");
            exit(2);
        }
    }
}

/// Reading /proc/self/fd needs an fd of its own; it is closed again before we
/// check which of the listed fds still exist, so it drops out of the answer.
fn fds() {
    let listed: Vec<u32> = std::fs::read_dir("/proc/self/fd")
        .unwrap_or_else(|e| die("read_dir /proc/self/fd", e))
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let mut open: Vec<u32> = listed
        .into_iter()
        .filter(|fd| std::fs::symlink_metadata(format!("/proc/self/fd/{fd}")).is_ok())
        .collect();
    open.sort_unstable();
    for fd in open {
        println!("{fd}");
    }
}

fn loopback() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| die("bind 127.0.0.1", e));
    let addr = listener.local_addr().unwrap_or_else(|e| die("local_addr", e));
    let mut client = TcpStream::connect(addr).unwrap_or_else(|e| die("connect", e));
    let (mut server, _) = listener.accept().unwrap_or_else(|e| die("accept", e));
    client.write_all(b"ping").unwrap_or_else(|e| die("write", e));
    let mut buf = [0u8; 4];
    server.read_exact(&mut buf).unwrap_or_else(|e| die("read", e));
    if &buf != b"ping" {
        die("compare", std::io::Error::other("payload changed in transit"));
    }
    println!("ok");
}

/// The PID-namespace init ignores signals it has no handler for, even SIGKILL
/// sent from inside, but a fault raised by the CPU is always delivered.
fn crash() -> ! {
    // SAFETY: ud2 only raises #UD; the kernel turns it into SIGILL and kills us.
    unsafe { std::arch::asm!("ud2", options(noreturn)) }
}

/// chroot into a subdirectory without entering it, so the cwd is left outside
/// the new root; climb from there, chroot to where the climb ends, and print
/// the names in that "/". Only a root whose mount has no parent to climb to
/// (pivot_root with the old root detached) keeps the climb inside.
fn chroot_escape() {
    let jail = "/dev/shm/probe-jail";
    std::env::set_current_dir("/").unwrap_or_else(|e| die("chdir /", e));
    std::fs::create_dir_all(jail).unwrap_or_else(|e| die("mkdir", e));
    std::os::unix::fs::chroot(jail).unwrap_or_else(|e| die("chroot jail", e));
    for _ in 0..64 {
        std::env::set_current_dir("..").unwrap_or_else(|e| die("chdir ..", e));
    }
    std::os::unix::fs::chroot(".").unwrap_or_else(|e| die("chroot .", e));
    let mut names: Vec<String> = std::fs::read_dir("/")
        .unwrap_or_else(|e| die("read_dir /", e))
        .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names.iter().for_each(|n| println!("{n}"));
}

fn die(what: &str, e: std::io::Error) -> ! {
    eprintln!("probe: {what}: {e}");
    exit(1);
}
