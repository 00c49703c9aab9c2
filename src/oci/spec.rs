//! config.json (runtime-spec 1.0 to 1.2) into a [`Spec`]: the `RunConfig` the setup path
//! applies, plus what only the OCI verbs use (hooks, annotations). Pure: nothing here touches
//! the system but reading the file, so the mapping is unit-tested on the host. Unknown fields
//! are ignored, as the spec asks; a known field with a bad value is an error naming its path.
use alloc::vec::Vec;
use core::ffi::CStr;

use crate::buf::Buf;
use crate::config::{leak, RunConfig};
use crate::error::{Context, Error, Result};
use crate::json::{self, Node};
use crate::sys;

/// What config.json errors start with.
const STEP: &str = "invalid config";

/// A hook: a host program the runtime runs at a point of the lifecycle, with the state JSON
/// on its stdin (runtime-spec config.md, "POSIX-platform Hooks").
#[derive(Debug, Default)]
pub struct Hook {
    pub path: &'static CStr,
    /// argv, including argv[0]; `[path]` when the config has none.
    pub args: Vec<&'static CStr>,
    pub env: Vec<&'static CStr>,
    /// Seconds; `None` waits for ever.
    pub timeout: Option<u32>,
}

#[derive(Debug, Default)]
pub struct Hooks {
    pub prestart: Vec<Hook>,
    pub create_runtime: Vec<Hook>,
    pub create_container: Vec<Hook>,
    pub start_container: Vec<Hook>,
    pub poststart: Vec<Hook>,
    pub poststop: Vec<Hook>,
}

#[cfg_attr(test, derive(Debug))]
pub struct Spec {
    pub run: RunConfig,
    /// process.env, exactly: an OCI container gets no variables the config does not list.
    pub env: Vec<&'static CStr>,
    pub hooks: Hooks,
    pub annotations: Vec<(&'static CStr, &'static CStr)>,
    /// Fields hutch ignores with a warning (printed by the verb, as `hutch: ignored: FIELD: why`).
    pub warnings: Vec<Error>,
}

/// Reads `<bundle>/config.json`; a relative root.path is taken from the bundle.
pub fn load(bundle: &CStr) -> Result<Spec> {
    let mut path = Buf::<4096>::new();
    path.push(bundle.to_bytes()).push(b"/config.json");
    let text = sys::read_file(path.cstr()).at("reading config", path.as_bytes())?;
    parse(text.leak(), bundle.to_bytes())
}

/// The mapping itself, from the file's bytes.
pub fn parse(text: &'static [u8], bundle: &[u8]) -> Result<Spec> {
    let doc = json::parse(text, b"config.json")?;
    let root = Node::root(&doc, STEP);
    let version = root.require("ociVersion")?;
    let v = version.str()?;
    if !(v.starts_with(b"1.0.") || v.starts_with(b"1.1.") || v.starts_with(b"1.2.") || v == b"1.0.0-rc5") {
        return Err(version.error("unsupported version: expected 1.0.x to 1.2.x"));
    }

    let root_path = root.require("root")?.require("path")?;
    let rp = root_path.str()?;
    let rootfs = match rp.first() {
        Some(b'/') => root_path.cstr()?,
        Some(_) => leak(Buf::<4096>::new().push(bundle).push(b"/").push(rp).as_bytes()),
        None => return Err(root_path.error("must not be empty")),
    };
    let mut spec = Spec { run: RunConfig::new(rootfs), env: Vec::new(), hooks: Hooks::default(), annotations: Vec::new(), warnings: Vec::new() };
    if let Some(ro) = root.require("root")?.get("readonly")? {
        spec.run.read_only = ro.bool()?;
    }
    if let Some(h) = root.get("hostname")? {
        spec.run.hostname = h.cstr()?;
    }
    if let Some(p) = root.get("process")? {
        process(&p, &mut spec.run, &mut spec.env)?;
    }
    if let Some(linux) = root.get("linux")? {
        // linux.seccomp: wired by the lead to seccomp::from_oci (branch oci-seccomp).
        linux_cgroups_and_ids(&linux, &mut spec.run)?;
    }
    if let Some(hooks) = root.get("hooks")? {
        let h = &mut spec.hooks;
        for (name, list) in [
            ("prestart", &mut h.prestart),
            ("createRuntime", &mut h.create_runtime),
            ("createContainer", &mut h.create_container),
            ("startContainer", &mut h.start_container),
            ("poststart", &mut h.poststart),
            ("poststop", &mut h.poststop),
        ] {
            if let Some(n) = hooks.get(name)? {
                n.each(&mut |n| Ok(list.push(hook(&n)?)))?;
            }
        }
    }
    if let Some(a) = root.get("annotations")? {
        a.each_member(&mut |k, v| Ok(spec.annotations.push((leak(k), v.cstr()?))))?;
    }
    Ok(spec)
}

/// `process` (also the whole of `exec --process FILE`): args, env, cwd, terminal.
pub fn process(p: &Node, run: &mut RunConfig, env: &mut Vec<&'static CStr>) -> Result<()> {
    p.require("args")?.each(&mut |a| Ok(run.command.push(a.cstr()?)))?;
    if run.command.is_empty() {
        return Err(p.require("args")?.error("must not be empty"));
    }
    if let Some(e) = p.get("env")? {
        e.each(&mut |e| Ok(env.push(e.cstr()?)))?;
    }
    let cwd = p.require("cwd")?;
    if cwd.str()?.first() != Some(&b'/') {
        return Err(cwd.error("must be an absolute path"));
    }
    run.workdir = cwd.cstr()?;
    if let Some(t) = p.get("terminal")? {
        run.tty = t.bool()?;
    }
    Ok(())
}

fn hook(n: &Node) -> Result<Hook> {
    let path = n.require("path")?;
    if path.str()?.first() != Some(&b'/') {
        return Err(path.error("must be an absolute path"));
    }
    let mut h = Hook { path: path.cstr()?, ..Hook::default() };
    if let Some(a) = n.get("args")? {
        a.each(&mut |a| Ok(h.args.push(a.cstr()?)))?;
    }
    if h.args.is_empty() {
        h.args.push(h.path);
    }
    if let Some(e) = n.get("env")? {
        e.each(&mut |e| Ok(h.env.push(e.cstr()?)))?;
    }
    if let Some(t) = n.get("timeout")? {
        match t.int(1, u32::MAX as i128) {
            Ok(s) => h.timeout = Some(s as u32),
            Err(_) => return Err(t.error("must be a positive number of seconds")),
        }
    }
    Ok(h)
}

/// linux.resources, linux.cgroupsPath, linux.uidMappings and linux.gidMappings (branch
/// oci-cgroups fills this in).
#[allow(unused_variables)]
fn linux_cgroups_and_ids(linux: &Node, run: &mut RunConfig) -> Result<()> { Ok(()) }

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<Spec> {
        parse(alloc::string::String::leak(text.into()).as_bytes(), b"/b")
    }

    fn why(e: Error) -> (alloc::string::String, &'static str) {
        let crate::error::Cause::Msg(m) = e.cause else { panic!("not a message") };
        (alloc::string::String::from_utf8_lossy(e.object.as_bytes()).into_owned(), m)
    }

    const MINIMAL: &str = r#"{"ociVersion": "1.0.2", "root": {"path": "rootfs"},
        "process": {"args": ["sh"], "cwd": "/", "env": ["PATH=/bin"]}}"#;

    #[test]
    fn minimal() {
        let s = spec(MINIMAL).unwrap();
        assert_eq!(s.run.rootfs, c"/b/rootfs");
        assert_eq!(s.run.command, [c"sh"]);
        assert_eq!(s.env, [c"PATH=/bin"]);
    }

    #[test]
    fn bad_values_name_the_field() {
        assert_eq!(why(spec(r#"{"ociVersion": "2.0.0", "root": {"path": "r"}}"#).unwrap_err()).0, "ociVersion");
        let e = spec(r#"{"ociVersion": "1.0.2", "root": {"path": "r"}, "process": {"args": ["sh", 1], "cwd": "/"}}"#);
        assert_eq!(why(e.unwrap_err()), ("process.args[1]".into(), "expected a string"));
        let e = spec(r#"{"ociVersion": "1.1.0", "root": {"path": "r"}, "hooks": {"prestart": [{"path": "x"}]}}"#);
        assert_eq!(why(e.unwrap_err()), ("hooks.prestart[0].path".into(), "must be an absolute path"));
    }

    #[test]
    fn hooks() {
        let s = spec(
            r#"{"ociVersion": "1.0.2", "root": {"path": "/r"}, "future": {"x": 1},
            "hooks": {"poststop": [{"path": "/bin/h", "args": ["h", "a"], "env": ["K=V"], "timeout": 5}, {"path": "/bin/g"}]}}"#,
        )
        .unwrap();
        let p = &s.hooks.poststop;
        assert_eq!((p[0].path, &p[0].args[..], &p[0].env[..], p[0].timeout), (c"/bin/h", &[c"h", c"a"][..], &[c"K=V"][..], Some(5)));
        assert_eq!((&p[1].args[..], p[1].timeout), (&[c"/bin/g"][..], None));
    }
}
