//! Links musl's libc.a from the Rust toolchain (no system musl needed), records the version
//! string `hutch --version` prints, and builds the message table (msg.rs).
extern crate alloc;

use std::{env, fs, path::Path, path::PathBuf, process::Command};

#[path = "src/pack.rs"]
#[allow(dead_code, unused_imports, unused_macros)]
mod pack;

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
    messages();
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

/// `$OUT_DIR/messages.rs`: TEXTS, every text written `m!("...")` in src/, sorted, with where it
/// starts in the table (for `m!`'s lookup at compile time; not in the binary), and PACKED, the
/// table packed: the texts, each ended by a NUL.
fn messages() {
    let mut texts = Vec::new();
    collect(Path::new("src"), &mut texts);
    texts.sort();
    texts.dedup();
    let all = texts.join("\0");
    let mut packed = vec![0; pack::pack_into(all.as_bytes(), &mut [])];
    pack::pack_into(all.as_bytes(), &mut packed);
    let mut at = 0;
    let mut offsets = Vec::new();
    for t in &texts {
        offsets.push((t, at));
        at += t.len() + 1;
    }
    assert!(at <= 1 << 16, "the message table outgrew its 16-bit offsets");
    let out = format!("pub const TEXTS: [(&str, u16); {}] = {offsets:?};\npub static PACKED: [u8; {}] = {packed:?};\n", texts.len(), packed.len());
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("messages.rs"), out).unwrap();
    println!("cargo:rerun-if-changed=src");
}

/// The texts of the `m!("...")` in the .rs files under `dir`.
fn collect(dir: &Path, texts: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, texts);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let src = fs::read_to_string(&path).unwrap();
        let b = src.as_bytes();
        let mut at = 0;
        while let Some(i) = src[at..].find("m!(\"") {
            let start = at + i;
            at = start + 4;
            if start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_') {
                continue;
            }
            texts.push(literal(&b[at..], &path));
        }
    }
}

/// A string literal's text, from after its opening quote.
fn literal(b: &[u8], path: &Path) -> String {
    let mut text = Vec::new();
    let mut i = 0;
    loop {
        match b.get(i) {
            Some(b'"') => break,
            Some(b'\\') => {
                text.push(match b[i + 1] {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'0' => 0,
                    c @ (b'\\' | b'"' | b'\'') => c,
                    c => panic!("{}: unsupported escape \\{} in m!", path.display(), c as char),
                });
                i += 2;
            }
            Some(&c) => {
                text.push(c);
                i += 1;
            }
            None => panic!("{}: unterminated m! literal", path.display()),
        }
    }
    String::from_utf8(text).unwrap()
}
