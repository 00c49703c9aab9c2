//! Links musl's libc.a from the Rust toolchain (no system musl needed), records the version
//! string `hutch --version` prints, and turns the target's system call names
//! (src/seccomp/ARCH.names) into the table OCI seccomp profiles are resolved with.
use std::{env, path::PathBuf, process::Command};

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    if target.contains("musl") && env::var("CARGO_CFG_TEST").is_err() {
        let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        let out = Command::new(rustc).args(["--print", "sysroot"]).output().expect("rustc --print sysroot");
        let sysroot = String::from_utf8(out.stdout).unwrap();
        let dir: PathBuf = [sysroot.trim(), "lib", "rustlib", &target, "lib", "self-contained"].iter().collect();
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=static=c");
        // No unwinding with panic = "abort", so no unwind tables: they were an eighth of the
        // binary. The script drops .eh_frame except crtbegin.o's, which its code references.
        let script = format!("{}/.cargo/no-unwind.ld", env::var("CARGO_MANIFEST_DIR").unwrap());
        for arg in ["--no-eh-frame-hdr", "-T", &script] {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
        println!("cargo:rerun-if-changed=.cargo/no-unwind.ld");
    }
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let version = env::var("CARGO_PKG_VERSION").unwrap();
    let full = if commit.is_empty() { version } else { format!("{version} ({commit})") };
    println!("cargo:rustc-env=HUTCH_VERSION={full}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
    syscall_names();
}

/// `NAMES`: the target architecture's call names in number order, each followed by a NUL (a
/// number without a call has an empty name), so the number is a name's index; packed (see
/// `pack`) with `PAIRS`, which shrinks it by a third. The source has one name per line, the
/// line index being the number, `-` or nothing for a gap.
fn syscall_names() {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap();
    let src = format!("src/seccomp/{arch}.names");
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let mut names: Vec<Vec<u8>> = Vec::new();
    for name in text.lines().map(|n| if n == "-" { "" } else { n }) {
        assert!(name.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'), "{src}: {name}");
        names.push(name.into());
    }
    assert!(names.len() <= 512, "{src}: numbers up to 511 only (see seccomp/oci.rs)");
    write_packed("syscall_names.rs", "NAMES", "PAIRS", &mut names);
}

/// Byte pair encoding: byte 0x80 + i stands for the two bytes pairs[i], each a character or
/// again a pair, most frequent pair first (up to 128; the items are 7-bit ASCII). Written to
/// OUT_DIR/`file` as `blob` (the items, each followed by a NUL) and `pairs`.
fn write_packed(file: &str, blob: &str, pairs_name: &str, items: &mut [Vec<u8>]) {
    assert!(items.iter().flatten().all(|&c| c != 0 && c < 0x80), "{file}: not 7-bit ASCII without NUL");
    let mut pairs: Vec<[u8; 2]> = Vec::new();
    while pairs.len() < 128 {
        let mut count = std::collections::BTreeMap::new();
        for n in items.iter() {
            for w in n.windows(2) {
                *count.entry([w[0], w[1]]).or_insert(0) += 1;
            }
        }
        // The most frequent pair, the first of equals (BTreeMap order), for a stable output.
        let Some((pair, n)) = count.into_iter().fold(None, |best: Option<([u8; 2], i32)>, (p, n)| match best {
            Some((_, m)) if m >= n => best,
            _ => Some((p, n)),
        }) else { break };
        if n < 3 {
            break;
        }
        let token = 0x80 + pairs.len() as u8;
        pairs.push(pair);
        for item in items.iter_mut() {
            let mut out = Vec::with_capacity(item.len());
            let mut i = 0;
            while i < item.len() {
                if item[i..].starts_with(&pair) {
                    out.push(token);
                    i += 2;
                } else {
                    out.push(item[i]);
                    i += 1;
                }
            }
            *item = out;
        }
    }
    let bytes = |b: &[u8]| b.iter().map(|c| format!("\\x{c:02x}")).collect::<String>();
    let packed: String = items.iter().map(|n| bytes(n) + "\\0").collect();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join(file);
    let table = format!("const {blob}: &[u8] = b\"{packed}\";\nconst {pairs_name}: &[[u8; 2]] = &{pairs:?};\n");
    std::fs::write(out, table).unwrap();
}
