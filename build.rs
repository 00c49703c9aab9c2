//! Links musl's libc.a from the Rust toolchain (no system musl needed) and records the version
//! string `hutch --version` prints.
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
}
