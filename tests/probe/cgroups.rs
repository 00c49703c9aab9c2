//! Probe for tests/cgroups.rs: a tiny static program run as the container's command to push
//! against a limit. Built by that test file; no dependencies.
//!
//!   probe alloc MIB   allocate MIB MiB and touch every page, then print "survived"
//!   probe spawn MAX   start up to MAX `sleep` children, stop at the first failure; print
//!                     "spawned N" and "error ERRNO" (or "no error")
//!   probe spin MS     busy-loop until it has had MS milliseconds of CPU time, then print
//!                     "spun CPU_MS WALL_MS"
use std::process::{exit, Command};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = || args.get(1).and_then(|s| s.parse::<usize>().ok()).unwrap_or_else(|| usage());
    match args.first().map(String::as_str) {
        Some("alloc") => alloc(n()),
        Some("spawn") => spawn(n()),
        Some("spin") => spin(n()),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("probe: usage: probe alloc MIB | spawn MAX | spin MS");
    exit(2);
}

/// Writes one byte per page: memory is only charged to a cgroup once it is touched.
fn alloc(mib: usize) {
    let mut v: Vec<u8> = Vec::with_capacity(mib << 20);
    let p = v.as_mut_ptr();
    for i in (0..mib << 20).step_by(4096) {
        // SAFETY: i is inside the capacity just allocated.
        unsafe { p.add(i).write_volatile(1) };
    }
    println!("survived");
}

fn spawn(max: usize) {
    let mut children = Vec::new();
    let mut error = None;
    while children.len() < max {
        match Command::new("/bin/sleep").arg("100").spawn() {
            Ok(c) => children.push(c),
            Err(e) => {
                error = Some(e.raw_os_error().unwrap_or(-1));
                break;
            }
        }
    }
    println!("spawned {}", children.len());
    match error {
        Some(e) => println!("error {e}"),
        None => println!("no error"),
    }
    // The children die with this PID 1, killed by the kernel with the PID namespace.
}

fn spin(ms: usize) {
    let start = Instant::now();
    let mut x = 0u64;
    let used = loop {
        for _ in 0..100_000 {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let used = cpu_ms();
        if used >= ms as u64 {
            break used;
        }
    };
    println!("spun {used} {}", start.elapsed().as_millis());
}

/// This process's CPU time (user + system) so far, from /proc/self/stat (proc(5): fields 14
/// and 15, in clock ticks of 10 ms).
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_else(|e| {
        eprintln!("probe: /proc/self/stat: {e}");
        exit(1)
    });
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |r| r.1).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) * 10
}
