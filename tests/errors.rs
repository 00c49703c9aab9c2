//! Failures: 125 when hutch itself fails, 126 when the command cannot be
//! executed, 127 when it does not exist. Each prints exactly one `hutch: `
//! line on stderr naming what failed; the wording is not tested.
mod common;

use common::*;
use std::process::Command;

fn hutch(args: &[&str]) -> Output {
    run({
        let mut c = Command::new(HUTCH);
        c.args(args);
        c
    })
}

// ---------------------------------------------------------------------------
// 125: the command line and ROOTFS

#[test]
fn missing_rootfs_is_125() {
    let fx = Fixture::new();
    let missing = fx.outside("no-such-rootfs");
    assert_error(&hutch(&["run", as_str(&missing), "/bin/true"]), 125, as_str(&missing));
}

#[test]
fn rootfs_that_is_a_file_is_125() {
    let fx = Fixture::new();
    let file = fx.write_outside("not-a-dir", "");
    assert_error(&hutch(&["run", as_str(&file), "/bin/true"]), 125, as_str(&file));
}

#[test]
fn unknown_option_is_125() {
    let fx = Fixture::new();
    assert_error(&fx.run(&["--bogus-option"], &["/bin/true"]), 125, "--bogus-option");
}

#[test]
fn unknown_verb_is_125() {
    assert_error(&hutch(&["frobnicate"]), 125, "frobnicate");
}

#[test]
fn missing_rootfs_and_command_are_125() {
    let fx = Fixture::new();
    for args in [&["run"][..], &["run", fx.root_str()]] {
        let out = hutch(args);
        out.assert_code(125);
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{out}");
        assert!(lines[0].starts_with("hutch: "), "{out}");
    }
}

#[test]
fn option_without_its_value_is_125() {
    assert_error(&hutch(&["run", "--workdir"]), 125, "workdir");
    assert_error(&hutch(&["run", "--hostname"]), 125, "hostname");
}

#[test]
fn bad_volume_specs_are_125() {
    let fx = Fixture::new();
    let src = fx.outside("vol");
    std::fs::create_dir(&src).unwrap();
    let bad_mode = format!("{}:/data:bogus", src.display());
    assert_error(&fx.run(&["-v", "nocolon"], &["/bin/true"]), 125, "nocolon");
    assert_error(&fx.run(&["-v", ":/data"], &["/bin/true"]), 125, ":/data");
    assert_error(&fx.run(&["-v", &bad_mode], &["/bin/true"]), 125, "bogus");
}

#[test]
fn missing_volume_source_is_125() {
    let fx = Fixture::new();
    let missing = fx.outside("no-such-source");
    let spec = format!("{}:/data", missing.display());
    assert_error(&fx.run(&["-v", &spec], &["/bin/true"]), 125, as_str(&missing));
}

#[test]
fn bad_tmpfs_options_are_125() {
    let fx = Fixture::new();
    for (spec, object) in [
        ("/scratch:size=lots", "lots"),
        ("/scratch:size=10q", "10q"),
        ("/scratch:mode=99z", "99z"),
        ("/scratch:bogus", "bogus"),
    ] {
        assert_error(&fx.run(&["--tmpfs", spec], &["/bin/true"]), 125, object);
    }
}

#[test]
fn bad_hostnames_are_125() {
    let fx = Fixture::new();
    let too_long = "a".repeat(65);
    for name in ["bad_name", "-lead", "trail-", "a..b", ".lead", "trail.", "sp ace", too_long.as_str()] {
        let opt = format!("--hostname={name}");
        assert_error(&fx.run(&[&opt], &["/bin/true"]), 125, name);
    }
    let out = fx.run(&["--hostname="], &["/bin/true"]);
    out.assert_code(125);
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
}

#[test]
fn bad_net_value_is_125() {
    let fx = Fixture::new();
    assert_error(&fx.run(&["--net", "bogus"], &["/bin/true"]), 125, "bogus");
    assert_error(&fx.run(&["--network=bridge"], &["/bin/true"]), 125, "bridge");
}

#[test]
fn unreadable_env_file_is_125() {
    let fx = Fixture::new();
    let missing = fx.outside("no-such.env");
    assert_error(&fx.run(&["--env-file", as_str(&missing)], &["/bin/true"]), 125, as_str(&missing));
    let dir = fx.outside("a-dir.env");
    std::fs::create_dir(&dir).unwrap();
    assert_error(&fx.run(&["--env-file", as_str(&dir)], &["/bin/true"]), 125, as_str(&dir));
}

// ---------------------------------------------------------------------------
// 126 and 127: the command

#[test]
fn non_executable_file_is_126() {
    let fx = Fixture::new();
    fx.write_root("notexec", "#!/bin/sh\necho should-not-run\n");
    let out = fx.run(&[], &["/notexec"]);
    assert_error(&out, 126, "/notexec");
    assert_eq!(out.stdout, "", "{out}");
}

#[test]
fn executable_in_no_known_format_is_126() {
    let fx = Fixture::new();
    let garbage = fx.write_root("garbage", "not a program, and no #! line\n");
    std::fs::set_permissions(&garbage, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    assert_error(&fx.run(&[], &["/garbage"]), 126, "/garbage");
}

#[test]
fn directory_as_command_is_126() {
    let fx = Fixture::new();
    assert_error(&fx.run(&[], &["/etc"]), 126, "/etc");
}

#[test]
fn missing_command_is_127() {
    let fx = Fixture::new();
    assert_error(&fx.run(&[], &["/no/such/command"]), 127, "/no/such/command");
    std::os::unix::fs::symlink("/nowhere", fx.root("bin/dangling")).unwrap();
    assert_error(&fx.run(&[], &["/bin/dangling"]), 127, "/bin/dangling");
}

#[test]
fn command_not_in_path_is_127() {
    let fx = Fixture::new();
    assert_error(&fx.run(&[], &["no-such-command"]), 127, "no-such-command");
}

#[test]
fn command_is_looked_up_in_path() {
    let fx = Fixture::new();
    let out = fx.run(&[], &["sh", "-c", "echo found"]);
    out.ok();
    assert_eq!(out.lines(), ["found"], "{out}");
}
