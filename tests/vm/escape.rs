//! escape PATH: tries the classic way out of a chroot and says whether PATH is then visible.
//! chroot(2) into a subdirectory leaves the working directory outside the new root, where ".."
//! is not stopped; walking up from there and chroot(".") makes the real root the root again.
//! Prints "escaped" when PATH exists afterwards, else "confined" and why, and exits 0 either
//! way. The VM checks run it inside a container whose root hutch had to chroot into, because
//! / was an initramfs: there, PATH (a file of the initramfs) must stay out of reach.
use std::ffi::CString;
use std::io::Error;
use std::path::Path;
use std::process::exit;

extern "C" {
    fn chroot(path: *const std::ffi::c_char) -> i32;
}

fn change_root(path: &str) -> Result<(), Error> {
    let c = CString::new(path).expect("no NUL in path");
    // SAFETY: c is a valid NUL-terminated string for the duration of the call.
    match unsafe { chroot(c.as_ptr()) } {
        0 => Ok(()),
        _ => Err(Error::last_os_error()),
    }
}

fn main() {
    let Some(target) = std::env::args().nth(1) else {
        eprintln!("usage: escape PATH");
        exit(2);
    };
    let dir = "/.escape";
    let _ = std::fs::create_dir(dir);
    if let Err(e) = change_root(dir) {
        println!("confined (chroot: {e})");
        return;
    }
    for _ in 0..64 {
        let _ = std::env::set_current_dir("..");
    }
    if let Err(e) = change_root(".") {
        println!("confined (second chroot: {e})");
        return;
    }
    println!("{}", if Path::new(&target).exists() { "escaped" } else { "confined" });
}
