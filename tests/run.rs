//! `hutch run` end to end: the command line, hostname, environment, working
//! directory, exit status, file descriptors and signal forwarding.
mod common;

use common::*;
use std::process::Command;

// ---------------------------------------------------------------------------
// Command line

#[test]
fn help_prints_usage_and_exits_0() {
    let out = run(Command::new(HUTCH).arg("--help"));
    out.ok();
    assert!(out.stdout.contains("hutch"), "{out}");
}

#[test]
fn run_help_prints_usage_and_exits_0() {
    let out = run(Command::new(HUTCH).args(["run", "--help"]));
    out.ok();
    assert!(out.stdout.contains("hutch"), "{out}");
}

#[test]
fn version_prints_name_and_version() {
    let out = run(Command::new(HUTCH).arg("--version"));
    out.ok();
    assert!(out.stdout.starts_with("hutch "), "{out}");
    assert!(out.stdout.contains(env!("CARGO_PKG_VERSION")), "{out}");
}

#[test]
fn arguments_after_rootfs_belong_to_the_command() {
    let fx = Fixture::new();
    let args = ["-h", "x", "--net", "host", "--", "", "two words", "--ro"];
    let mut cmd = vec!["/bin/probe", "args"];
    cmd.extend(args);
    let out = fx.run(&[], &cmd);
    out.ok();
    assert_eq!(out.lines(), args, "{out}");
}

#[test]
fn double_dash_ends_options() {
    let fx = Fixture::new();
    let out = fx.run(&["-h", "dashes", "--"], &["/bin/hostname"]);
    out.ok();
    assert_eq!(out.lines(), ["dashes"], "{out}");
}

// ---------------------------------------------------------------------------
// Hostname

#[test]
fn default_hostname_is_hutch() {
    let fx = Fixture::new();
    let out = fx.run(&[], &["/bin/hostname"]);
    out.ok();
    assert_eq!(out.lines(), ["hutch"], "{out}");
}

#[test]
fn hostname_option_in_every_form() {
    let fx = Fixture::new();
    let forms: [(&[&str], &str); 4] = [
        (&["-h", "box1"], "box1"),
        (&["-hbox2"], "box2"),
        (&["--hostname", "box3"], "box3"),
        (&["--hostname=box4"], "box4"),
    ];
    for (opts, want) in forms {
        let out = fx.run(opts, &["/bin/hostname"]);
        out.ok();
        assert_eq!(out.lines(), [want], "{out}");
    }
}

#[test]
fn hostnames_at_the_edges_of_the_rules_are_accepted() {
    let fx = Fixture::new();
    let longest = format!("{}.{}", "a".repeat(31), "b-9".repeat(10) + "zz");
    assert_eq!(longest.len(), 64);
    for name in ["a", "7", "a-b.c-d.e", "Node-01.Example", longest.as_str()] {
        let out = fx.run(&["--hostname", name], &["/bin/hostname"]);
        out.ok();
        assert_eq!(out.lines(), [name], "{out}");
    }
}

#[test]
fn host_hostname_is_unchanged() {
    let read = || std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let before = read();
    let fx = Fixture::new();
    fx.run(&["-h", "not-the-host"], &["/bin/hostname"]).ok();
    fx.run(&[], &["/bin/hostname"]).ok();
    assert_eq!(read(), before);
}

// ---------------------------------------------------------------------------
// Environment

fn env_of(fx: &Fixture, opts: &[&str], configure: impl FnOnce(&mut Command)) -> Output {
    let mut c = fx.command(opts, &["/bin/env"]);
    c.env_remove("TERM");
    configure(&mut c);
    let out = run(c);
    out.ok();
    out
}

#[test]
fn default_environment_is_exactly_path_home_hostname() {
    let fx = Fixture::new();
    let out = env_of(&fx, &[], |c| {
        c.env("HUTCH_TEST_LEAK", "leaked");
    });
    let path = format!("PATH={DEFAULT_PATH}");
    assert_eq!(out.sorted_lines(), ["HOME=/root", "HOSTNAME=hutch", path.as_str()], "{out}");
}

#[test]
fn hostname_variable_follows_the_hostname_option() {
    let fx = Fixture::new();
    let out = env_of(&fx, &["-h", "envbox"], |_| {});
    assert!(contains(&out.lines(), "HOSTNAME=envbox"), "{out}");
}

#[test]
fn term_is_passed_through() {
    let fx = Fixture::new();
    let out = env_of(&fx, &[], |c| {
        c.env("TERM", "xterm-hutch-test");
    });
    let path = format!("PATH={DEFAULT_PATH}");
    assert_eq!(
        out.sorted_lines(),
        ["HOME=/root", "HOSTNAME=hutch", path.as_str(), "TERM=xterm-hutch-test"],
        "{out}"
    );
}

#[test]
fn env_option_sets_and_overrides() {
    let fx = Fixture::new();
    let opts = [
        "-e", "FOO=bar", "--env", "BAZ=qux", "--env=ONE=1", "-eTWO=2", "-e", "PATH=/bin", "-e",
        "HOME=/home/x", "-e", "SPACED=a=b c", "-e", "EMPTY=",
    ];
    let out = env_of(&fx, &opts, |_| {});
    assert_eq!(
        out.sorted_lines(),
        [
            "BAZ=qux",
            "EMPTY=",
            "FOO=bar",
            "HOME=/home/x",
            "HOSTNAME=hutch",
            "ONE=1",
            "PATH=/bin",
            "SPACED=a=b c",
            "TWO=2"
        ],
        "{out}"
    );
}

#[test]
fn env_key_alone_copies_the_host_value_if_set() {
    let fx = Fixture::new();
    let out = env_of(&fx, &["-e", "HUTCH_TEST_COPY", "-e", "HUTCH_TEST_UNSET"], |c| {
        c.env("HUTCH_TEST_COPY", "copied value").env_remove("HUTCH_TEST_UNSET");
    });
    let lines = out.lines();
    assert!(contains(&lines, "HUTCH_TEST_COPY=copied value"), "{out}");
    assert!(!lines.iter().any(|l| l.starts_with("HUTCH_TEST_UNSET")), "{out}");
}

#[test]
fn env_file_is_read_skipping_comments_and_blank_lines() {
    let fx = Fixture::new();
    let file = fx.write_outside(
        "app.env",
        "# a comment\nFOO=from-file\n\nPATH=/bin:/usr/bin\n#HIDDEN=1\nSPACED=a b = c\n",
    );
    let file = as_str(&file);
    for opts in [&["--env-file", file][..], &[&format!("--env-file={file}")]] {
        let out = env_of(&fx, opts, |_| {});
        assert_eq!(
            out.sorted_lines(),
            ["FOO=from-file", "HOME=/root", "HOSTNAME=hutch", "PATH=/bin:/usr/bin", "SPACED=a b = c"],
            "{out}"
        );
    }
}

// ---------------------------------------------------------------------------
// Working directory

#[test]
fn default_workdir_is_root() {
    let fx = Fixture::new();
    let out = fx.run(&[], &["/bin/pwd"]);
    out.ok();
    assert_eq!(out.lines(), ["/"], "{out}");
}

#[test]
fn workdir_option_in_every_form() {
    let fx = Fixture::new();
    fx.mkdir("srv/app");
    let forms: [&[&str]; 4] = [&["-w", "/etc"], &["-w/bin"], &["--workdir", "/srv/app"], &["--workdir=/srv"]];
    for (opts, want) in forms.iter().zip(["/etc", "/bin", "/srv/app", "/srv"]) {
        let out = fx.run(opts, &["/bin/pwd"]);
        out.ok();
        assert_eq!(out.lines(), [want], "{out}");
    }
}

// ---------------------------------------------------------------------------
// Exit status

#[test]
fn exit_status_is_the_commands() {
    let fx = Fixture::new();
    for (cmd, code) in [
        (&["/bin/sh", "-c", "exit 3"][..], 3),
        (&["/bin/sh", "-c", "exit 255"], 255),
        (&["/bin/true"], 0),
        (&["/bin/false"], 1),
    ] {
        fx.run(&[], cmd).assert_code(code);
    }
}

/// `sh -c 'kill -9 $$'` cannot be used here: the init of a PID namespace
/// never receives a signal sent from inside without a handler, SIGKILL
/// included (pid_namespaces(7)), so the shell survives it. A CPU fault is
/// always delivered.
#[test]
fn death_by_signal_is_128_plus_the_signal() {
    let fx = Fixture::new();
    fx.run(&[], &["/bin/probe", "crash"]).assert_code(128 + 4); // SIGILL
}

#[test]
fn init_killed_from_the_host_gives_137() {
    let fx = Fixture::new();
    let mut r = fx.spawn(&[], &["/bin/sh", "-c", "echo ready; while :; do sleep 1; done"]);
    r.wait_for_line("ready");
    let init = container_init(r.pid()).expect("the container's init among hutch's descendants");
    send_signal(init, "KILL");
    r.wait().assert_code(128 + 9);
}

/// The container must not outlive hutch, even when hutch cannot clean up.
#[test]
fn killing_hutch_kills_the_container() {
    let fx = Fixture::new();
    let mut r = fx.spawn(&[], &["/bin/sh", "-c", "echo ready; while :; do sleep 1; done"]);
    r.wait_for_line("ready");
    let init = container_init(r.pid()).expect("the container's init among hutch's descendants");
    send_signal(r.pid(), "KILL");
    r.wait();
    // The kernel delivers the parent-death signal as hutch exits; reaping by the host's init
    // may take a moment, so allow it a generous while (this bounds a hang, it times nothing).
    let dead = || {
        let stat = std::fs::read_to_string(format!("/proc/{init}/stat")).unwrap_or_default();
        stat.split(") ").nth(1).is_none_or(|rest| rest.starts_with('Z'))
    };
    for _ in 0..200 {
        if dead() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the container's init {init} outlived hutch");
}

// ---------------------------------------------------------------------------
// File descriptors

#[test]
fn container_sees_only_fds_0_1_2() {
    let fx = Fixture::new();
    let out = fx.run(&[], &["/bin/probe", "fds"]);
    out.ok();
    assert_eq!(out.lines(), ["0", "1", "2"], "{out}");
}

#[test]
fn stdin_stdout_and_stderr_are_hutchs() {
    let fx = Fixture::new();
    let input = fx.write_outside("input.txt", "line one\nline two\n");
    let out = run_with_stdin(fx.command(&[], &["/bin/sh", "-c", "cat; echo to-stderr >&2"]), &input);
    out.ok();
    assert_eq!(out.lines(), ["line one", "line two"], "{out}");
    assert_eq!(out.stderr, "to-stderr\n", "{out}");
}

#[test]
fn extra_fds_of_hutch_do_not_reach_the_container() {
    // std opens everything close-on-exec, so a shell hands the extra fds over.
    const WRAP: &str = r#"exec 5</dev/null 7>&2; exec "$@""#;
    let mut control = Command::new("sh");
    control.args(["-c", WRAP, "sh"]).arg(probe()).arg("fds");
    let control = run(control);
    control.ok();
    let lines = control.lines();
    assert!(contains(&lines, "5") && contains(&lines, "7"), "the wrapper did not pass fds 5 and 7\n{control}");

    let fx = Fixture::new();
    let mut c = Command::new("sh");
    c.args(["-c", WRAP, "sh", HUTCH, "run", fx.root_str(), "/bin/probe", "fds"]);
    let out = run(c);
    out.ok();
    assert_eq!(out.lines(), ["0", "1", "2"], "{out}");
}

// ---------------------------------------------------------------------------
// Signals

/// Sends `sig` to hutch and expects the container's PID 1 to run its trap.
fn assert_forwarded(sig: &str) {
    let fx = Fixture::new();
    let script = format!(r#"trap "echo got-{sig}; exit 7" {sig}; echo ready; while :; do sleep 0.1; done"#);
    // Started with the signal ignored, as a background job of a script gets
    // SIGINT and SIGQUIT and nohup SIGHUP: an ignored signal would be
    // discarded, never delivered, and sh may not trap one ignored on entry,
    // so hutch must reset the signals it forwards, for itself and the command.
    let mut c = Command::new("env");
    c.arg(format!("--ignore-signal={sig}")).arg(HUTCH).arg("run").arg(&fx.rootfs).args(["/bin/sh", "-c", &script]);
    let mut r = spawn(c);
    r.wait_for_line("ready");
    r.signal(sig);
    let out = r.wait();
    out.assert_code(7);
    assert!(contains(&out.lines(), &format!("got-{sig}")), "{out}");
}

#[test]
fn sigusr1_is_forwarded_to_pid_1() {
    assert_forwarded("USR1");
}

#[test]
fn sigterm_is_forwarded_to_pid_1() {
    assert_forwarded("TERM");
}

#[test]
fn int_hup_quit_usr2_winch_are_forwarded_to_pid_1() {
    for sig in ["INT", "HUP", "QUIT", "USR2", "WINCH"] {
        assert_forwarded(sig);
    }
}

/// Forwarding usually means hutch blocks or catches signals; none of that may
/// leak into the command: it must start with the blocked and ignored sets a
/// plain exec from the same parent gets.
#[test]
fn command_starts_with_a_clean_signal_state() {
    let pattern = "^Sig(Blk|Ign):";
    let host = run({
        let mut c = Command::new("/usr/bin/busybox");
        c.args(["grep", "-E", pattern, "/proc/self/status"]);
        c
    });
    host.ok();
    let fx = Fixture::new();
    let out = fx.run(&[], &["/bin/grep", "-E", pattern, "/proc/self/status"]);
    out.ok();
    assert_eq!(out.lines(), host.lines(), "container:\n{out}\nhost control:\n{host}");
}
