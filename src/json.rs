//! JSON (RFC 8259), hutch's own: a strict reader for config.json, process.json and seccomp
//! profiles, and a writer for the state and features documents. Malformed input is an error
//! naming line and column; a value of the wrong type is an error naming its field path
//! (`linux.resources.memory.limit: expected a number`).
//!
//! Numbers are kept as their text and converted when read as the integer a field needs, so
//! 64-bit values (seccomp arguments, byte counts) are exact. Strings are decoded; invalid
//! UTF-8 passes through as bytes (Linux paths are bytes too).
use alloc::vec::Vec;
use core::cell::Cell;
use core::ffi::CStr;

use crate::buf::Buf;
use crate::error::{Error, Result};
use crate::msg::{m, Msg};

/// Nesting deeper than this is refused rather than recursed into.
const MAX_DEPTH: u32 = 128;

/// A document's values live as long as the process (a runtime reads one or two documents,
/// once): plain slices, no drop code.
#[derive(Debug, PartialEq, Clone, Copy)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// The number's text, checked against the grammar.
    Num(&'a [u8]),
    Str(&'a [u8]),
    Arr(&'a [Value<'a>]),
    /// Members in document order, each a key (a `Str`) and its value; a repeated key's last
    /// value wins (see [`Node::get`]).
    Obj(&'a [Value<'a>]),
}

/// Parses one JSON document; `name` labels the errors (`config.json:3:14`).
pub fn parse<'a>(text: &'a [u8], name: &[u8]) -> Result<Value<'a>> {
    let mut p = Parser { text, pos: 0, error: None };
    let v = p.value(0);
    p.space();
    if p.pos != text.len() {
        p.fail(m!("unexpected text after the document"));
    }
    let Some((why, pos)) = p.error else { return Ok(v) };
    let (mut line, mut col) = (1, 1);
    for &c in &text[..pos] {
        (line, col) = if c == b'\n' { (line + 1, 1) } else { (line, col + 1) };
    }
    Err(Error::msg(m!("invalid JSON"), Buf::<160>::new().push(name).push(b":").num(line).push(b":").num(col).as_bytes(), why))
}

/// A reader that, like [`Node`]s, keeps its first error and where it was: after it, every
/// step returns at once with a null or empty value, and nothing it returns is used.
struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    error: Option<(Msg, usize)>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    #[inline(never)]
    fn fail(&mut self, why: Msg) -> Value<'a> {
        if self.error.is_none() {
            self.error = Some((why, self.pos.min(self.text.len())));
        }
        Value::Null
    }

    /// Consumes the next byte if it is `c`.
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.pos += hit as usize;
        hit
    }

    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `word` (its first byte was seen).
    fn word(&mut self, word: &[u8]) {
        match self.text[self.pos..].starts_with(word) {
            true => self.pos += word.len(),
            false => {
                self.fail(m!("invalid literal"));
            }
        }
    }

    fn value(&mut self, depth: u32) -> Value<'a> {
        if depth > MAX_DEPTH {
            return self.fail(m!("nested too deeply"));
        }
        self.space();
        match self.peek() {
            None => self.fail(m!("unexpected end of input")),
            Some(c @ (b'n' | b't' | b'f')) => {
                let (word, v): (&[u8], _) = match c {
                    b'n' => (b"null", Value::Null),
                    b't' => (b"true", Value::Bool(true)),
                    _ => (b"false", Value::Bool(false)),
                };
                self.word(word);
                v
            }
            Some(b'"') => Value::Str(self.string()),
            Some(open @ (b'[' | b'{')) => {
                let object = open == b'{';
                let mut items = Vec::new();
                // `]` and `}` are two after their opening brackets.
                self.members(open + 2, &mut |p| {
                    if object {
                        p.space();
                        if p.peek() != Some(b'"') {
                            p.fail(m!("expected a string key"));
                            return;
                        }
                        items.push(Value::Str(p.string()));
                        p.space();
                        if !p.eat(b':') {
                            p.fail(m!("expected ':'"));
                            return;
                        }
                    }
                    items.push(p.value(depth + 1))
                });
                match object {
                    true => Value::Obj(items.leak()),
                    false => Value::Arr(items.leak()),
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.fail(m!("expected a value")),
        }
    }

    /// The comma-separated members of an array or object, from its opening bracket (at
    /// `pos`) to `close`; no trailing comma.
    fn members(&mut self, close: u8, member: &mut dyn FnMut(&mut Self)) {
        self.pos += 1;
        self.space();
        if self.eat(close) {
            return;
        }
        loop {
            member(self);
            if self.error.is_some() {
                return;
            }
            self.space();
            if self.eat(close) {
                return;
            }
            if !self.eat(b',') {
                self.fail(if close == b']' { m!("expected ',' or ']'") } else { m!("expected ',' or '}'") });
                return;
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Value<'a> {
        let start = self.pos;
        self.eat(b'-');
        let int_start = self.pos;
        match self.digits() {
            0 => return self.fail(m!("invalid number")),
            n if n > 1 && self.text[int_start] == b'0' => return self.fail(m!("invalid number: leading zero")),
            _ => {}
        }
        if self.eat(b'.') && self.digits() == 0 {
            return self.fail(m!("invalid number"));
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return self.fail(m!("invalid number"));
            }
        }
        Value::Num(&self.text[start..self.pos])
    }

    fn hex4(&mut self) -> u32 {
        let mut v = 0;
        for _ in 0..4 {
            let Some(d) = self.peek().and_then(|c| (c as char).to_digit(16)) else {
                self.fail(m!("invalid \\u escape"));
                return 0;
            };
            v = v * 16 + d;
            self.pos += 1;
        }
        v
    }

    /// A string from its opening quote, decoded.
    fn string(&mut self) -> &'a [u8] {
        self.pos += 1;
        let mut out = Vec::new();
        while self.error.is_none() {
            let Some(c) = self.peek() else { break };
            self.pos += 1;
            match c {
                b'"' => return out.leak(),
                0..=0x1f => {
                    self.fail(m!("control character in string"));
                }
                b'\\' => {
                    let Some(e) = self.peek() else { break };
                    self.pos += 1;
                    // The escapes and what they stand for; then \u.
                    match b"\"\\/bfnrtu".iter().position(|&x| x == e) {
                        Some(i @ 0..=7) => {
                            out.push(b"\"\\/\x08\x0c\n\r\t"[i]);
                            continue;
                        }
                        Some(_) => {}
                        None => return self.fail_str(m!("invalid escape")),
                    }
                    let mut cp = self.hex4();
                    if (0xd800..0xdc00).contains(&cp) && self.text[self.pos..].starts_with(b"\\u") {
                        self.pos += 2;
                        let low = self.hex4();
                        if !(0xdc00..0xe000).contains(&low) {
                            return self.fail_str(m!("invalid \\u escape: lone surrogate"));
                        }
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                    }
                    if (0xd800..0xe000).contains(&cp) {
                        return self.fail_str(m!("invalid \\u escape: lone surrogate"));
                    }
                    // UTF-8: a lead byte marking the length, then 6 bits a byte.
                    let n = match cp {
                        0..=0x7f => 0,
                        0x80..=0x7ff => 1,
                        0x800..=0xffff => 2,
                        _ => 3,
                    };
                    out.push([0, 0xc0, 0xe0, 0xf0][n] | (cp >> (6 * n)) as u8);
                    for i in (0..n).rev() {
                        out.push(0x80 | (cp >> (6 * i)) as u8 & 0x3f);
                    }
                }
                _ => out.push(c),
            }
        }
        self.fail_str(m!("unterminated string"))
    }

    fn fail_str(&mut self, why: Msg) -> &'a [u8] {
        self.fail(why);
        b""
    }
}

/// How a document is read: the first error met, kept while the reading goes on. Every
/// accessor returns a plain value (a default after an error), so the mapping code has no
/// `?` at each field; the one error comes out of [`read`] at the end. Nothing a reader does
/// after an error is kept: the caller gets only the error.
struct Reader<'v, 'a> {
    root: &'v Value<'a>,
    /// What is being read, the errors' first part: "invalid config".
    step: Msg,
    error: Cell<Option<Error>>,
}

/// Reads `value` with `f`; the first error `f` met, if any.
pub fn read(value: &Value, step: Msg, f: &mut dyn FnMut(Node)) -> Result<()> {
    let r = Reader { root: value, step, error: Cell::new(None) };
    f(Node { value, r: &r });
    r.error.into_inner().map_or(Ok(()), Err)
}

/// A value of a document being read. Two words: the path of a value
/// (`linux.resources.memory.limit`, `mounts[2].options`) is found from the root only when
/// an error needs it.
#[derive(Clone, Copy)]
pub struct Node<'v, 'a> {
    pub value: &'v Value<'a>,
    r: &'v Reader<'v, 'a>,
}

/// What a required member that is absent reads as, after its error.
static NULL: Value = Value::Null;

/// Whether `target` is `v` or within it.
fn within(v: &Value, target: &Value) -> bool {
    core::ptr::eq(v, target)
        || match v {
            Value::Arr(items) | Value::Obj(items) => items.iter().any(|x| within(x, target)),
            _ => false,
        }
}

impl<'v, 'a> Node<'v, 'a> {
    /// `linux.resources.memory.limit`, `mounts[2].options`.
    pub fn path(self) -> Buf<128> {
        let mut b = Buf::new();
        let mut v = self.r.root;
        loop {
            match v {
                Value::Arr(items) | Value::Obj(items) => {
                    let Some(i) = items.iter().position(|x| within(x, self.value)) else { break };
                    match (v, items.get(i.wrapping_sub(1))) {
                        // A member: its key is the item before.
                        (Value::Obj(_), Some(Value::Str(key))) => dot(&mut b, key),
                        _ => {
                            b.push(b"[").num(i as u64).push(b"]");
                        }
                    }
                    v = &items[i];
                }
                _ => break,
            }
        }
        b
    }

    /// Whether no error was met so far.
    pub fn ok(self) -> bool {
        let e = self.r.error.take();
        let ok = e.is_none();
        self.r.error.set(e);
        ok
    }

    /// Notes an error about this value, unless one came first.
    #[inline(never)]
    pub fn fail(self, why: Msg) {
        self.fail_at(None, why)
    }

    /// Notes an error about this value, or its member `key`, unless one came first.
    #[cold]
    #[inline(never)]
    pub fn fail_at(self, key: Option<&[u8]>, why: Msg) {
        if self.ok() {
            let mut b = self.path();
            if let Some(k) = key {
                dot(&mut b, k);
            }
            self.r.error.set(Some(Error::msg(self.r.step, b.as_bytes(), why)));
        }
    }

    fn child(self, value: &'v Value<'a>) -> Node<'v, 'a> {
        Node { value, r: self.r }
    }

    /// The member `key` of this object; `None` when absent or null, or this is not an
    /// object (an error).
    #[inline(never)]
    pub fn get(self, key: Msg) -> Option<Node<'v, 'a>> {
        self.get_key(key.text())
    }

    /// [`Node::get`] by the key's bytes.
    #[inline(never)]
    pub fn get_key(self, key: &[u8]) -> Option<Node<'v, 'a>> {
        // A repeated key's last value wins.
        let mut found = None;
        for m in self.object().chunks_exact(2) {
            if matches!(m[0], Value::Str(k) if k == key) {
                found = Some(&m[1]);
            }
        }
        match found? {
            Value::Null => None,
            v => Some(self.child(v)),
        }
    }

    /// Like [`Node::get`], but absence is an error (and the member reads as null).
    #[inline(never)]
    pub fn require(self, key: Msg) -> Node<'v, 'a> {
        self.require_key(key.text())
    }

    /// [`Node::require`] by the key's bytes.
    pub fn require_key(self, key: &[u8]) -> Node<'v, 'a> {
        match self.get_key(key) {
            Some(n) => n,
            None => {
                self.fail_at(Some(key), m!("required"));
                self.child(&NULL)
            }
        }
    }

    fn object(self) -> &'v [Value<'a>] {
        match self.value {
            Value::Obj(m) => m,
            _ => {
                self.fail(m!("expected an object"));
                &[]
            }
        }
    }

    /// Calls `f` with each member of this object, in document order.
    pub fn each_member(self, f: &mut dyn FnMut(&'v [u8], Node<'v, 'a>)) {
        for m in self.object().chunks_exact(2) {
            if let Value::Str(k) = m[0] {
                f(k, self.child(&m[1]));
            }
        }
    }

    /// Calls `f` with each item of this array.
    #[inline(never)]
    pub fn each(self, f: &mut dyn FnMut(Node<'v, 'a>)) {
        let Value::Arr(items) = self.value else { return self.fail(m!("expected an array")) };
        for v in *items {
            f(self.child(v));
        }
    }

    /// [`Node::each`] for the array `key` of this object, if present: one call instead of a
    /// `get` and a match at each of the many optional lists of a config.
    #[inline(never)]
    pub fn each_of(self, key: Msg, f: &mut dyn FnMut(Node<'v, 'a>)) {
        if let Some(a) = self.get(key) {
            a.each(f)
        }
    }

    /// [`Node::each_member`] for the object `key` of this object, if present.
    #[inline(never)]
    pub fn each_member_of(self, key: Msg, f: &mut dyn FnMut(&'v [u8], Node<'v, 'a>)) {
        if let Some(o) = self.get(key) {
            o.each_member(f)
        }
    }

    /// The string; empty if this is not one (an error).
    #[inline(never)]
    pub fn str(self) -> &'v [u8] {
        match self.value {
            Value::Str(s) => s,
            _ => {
                self.fail(m!("expected a string"));
                b""
            }
        }
    }

    /// The string as a C string that lives as long as the process.
    #[inline(never)]
    pub fn cstr(self) -> &'static CStr {
        let s = self.str();
        if crate::config::has(s, 0) {
            self.fail(m!("contains a NUL character"));
        }
        crate::config::leak(s)
    }

    pub fn bool(self) -> bool {
        match self.value {
            Value::Bool(b) => *b,
            _ => {
                self.fail(m!("expected true or false"));
                false
            }
        }
    }

    /// An integer in `min..=max`, or why it is not one. One above i64::MAX comes back as
    /// its bits, for [`Node::u64`].
    pub fn num(self, min: i64, max: u64) -> core::result::Result<i64, Msg> {
        let Value::Num(text) = *self.value else { return Err(m!("expected a number")) };
        let (neg, digits) = match text.strip_prefix(b"-") {
            Some(d) => (true, d),
            None => (false, text),
        };
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(m!("expected an integer"));
        }
        let v = digits.iter().try_fold(0u64, |v, &c| v.checked_mul(10)?.checked_add((c - b'0') as u64));
        let fits = match (v, neg) {
            (None, _) => false,
            // -v >= min; every max is at least 0.
            (Some(v), true) => min <= 0 && v <= min.unsigned_abs(),
            (Some(v), false) => v <= max && (min <= 0 || v >= min as u64),
        };
        let v = v.unwrap_or(0);
        match fits {
            true if neg => Ok((v as i64).wrapping_neg()),
            true => Ok(v as i64),
            false => Err(m!("number out of range")),
        }
    }

    /// An integer in `min..=max`; 0 if it is not (an error).
    #[inline(never)]
    pub fn int(self, min: i64, max: u64) -> i64 {
        self.num(min, max).unwrap_or_else(|why| {
            self.fail(why);
            0
        })
    }

    pub fn u64(self) -> u64 {
        self.int(0, u64::MAX) as u64
    }

    pub fn i64(self) -> i64 {
        self.int(i64::MIN, i64::MAX as u64)
    }

    pub fn u32(self) -> u32 {
        self.int(0, u32::MAX as u64) as u32
    }
}

/// `key` after a path: `.key`, or just `key` at the start.
fn dot(b: &mut Buf<128>, key: &[u8]) {
    if !b.as_bytes().is_empty() {
        b.push(b".");
    }
    b.push(key);
}

/// Builds a JSON text; commas are placed by the writer. Keys and values alternate inside an
/// object: `w.open(b'{'); w.key(b"id"); w.str(b"x"); w.close(b'}');`.
#[derive(Default)]
pub struct Writer {
    pub out: Vec<u8>,
    /// No comma before the next member: just after an opening bracket or a key.
    fresh: bool,
}

impl Writer {
    fn sep(&mut self) {
        if !self.fresh && !self.out.is_empty() {
            self.out.push(b',');
        }
        self.fresh = false;
    }

    /// `[` or `{`.
    pub fn open(&mut self, bracket: u8) -> &mut Self {
        self.sep();
        self.out.push(bracket);
        self.fresh = true;
        self
    }

    /// `]` or `}`.
    pub fn close(&mut self, bracket: u8) -> &mut Self {
        self.out.push(bracket);
        self.fresh = false;
        self
    }

    pub fn key(&mut self, k: &[u8]) -> &mut Self {
        self.str(k);
        self.out.push(b':');
        self.fresh = true;
        self
    }

    pub fn str(&mut self, s: &[u8]) -> &mut Self {
        self.sep();
        self.out.push(b'"');
        for &c in s {
            match c {
                b'"' | b'\\' => self.out.extend_from_slice(&[b'\\', c]),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                0..=0x1f => {
                    let hex = b"0123456789abcdef";
                    self.out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hex[(c >> 4) as usize], hex[(c & 15) as usize]]);
                }
                _ => self.out.push(c),
            }
        }
        self.out.push(b'"');
        self
    }

    /// A number, `true`, `false` or `null`: text that needs no quoting.
    pub fn raw(&mut self, text: &[u8]) -> &mut Self {
        self.sep();
        self.out.extend_from_slice(text);
        self
    }

    pub fn num(&mut self, n: u64) -> &mut Self {
        self.raw(Buf::<24>::new().num(n).as_bytes())
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use alloc::string::String;

    fn err(text: &str) -> String {
        let e = parse(text.as_bytes(), b"c.json").err().expect("should fail");
        let mut s = String::from_utf8_lossy(e.object.as_bytes()).into_owned();
        s.push_str(": ");
        s.push_str(why(&e));
        s
    }

    fn why(e: &Error) -> &'static str {
        match e.cause {
            crate::error::Cause::Msg(m) => m.str(),
            _ => "errno",
        }
    }

    #[test]
    fn values() {
        let v = parse(br#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d\n\u00e9\ud83d\ude00"}} "#, b"x").unwrap();
        let mut items = Vec::new();
        read(&v, m!("invalid config"), &mut |root| {
            let a = root.require_key(b"a");
            a.each(&mut |n| items.push(n.value.clone_shallow()));
            let c = root.require_key(b"b").require_key(b"c");
            assert_eq!(c.str(), "d\né😀".as_bytes());
            assert_eq!(c.path().as_bytes(), b"b.c");
        })
        .unwrap();
        assert_eq!(items, ["1", "-2.5e3", "true", "false", "null"]);
        assert_eq!(parse(b"\"plain\"", b"x").unwrap(), Value::Str(b"plain"));
        assert_eq!(parse(br#""\"\\\/\b\f\n\r\t""#, b"x").unwrap(), Value::Str(b"\"\\/\x08\x0c\n\r\t"));
        // Each length of UTF-8 an escape can need, at its edges.
        let v = parse(br#""\u0041\u007f\u0080\u07ff\u0800\u20ac\uffff\ud800\udc00\udbff\udfff""#, b"x").unwrap();
        assert_eq!(v, Value::Str("A\u{7f}\u{80}\u{7ff}\u{800}€\u{ffff}\u{10000}\u{10ffff}".as_bytes()));
    }

    impl Value<'_> {
        fn clone_shallow(&self) -> &'static str {
            match self {
                Value::Num(t) => String::leak(String::from_utf8(t.to_vec()).unwrap()),
                Value::Bool(true) => "true",
                Value::Bool(false) => "false",
                Value::Null => "null",
                _ => "other",
            }
        }
    }

    #[test]
    fn malformed_input_names_line_and_column() {
        assert_eq!(err("{\n  \"a\": 1,\n}"), "c.json:3:1: expected a string key");
        assert_eq!(err("[1 2]"), "c.json:1:4: expected ',' or ']'");
        assert_eq!(err("{\"a\" 1}"), "c.json:1:6: expected ':'");
        assert_eq!(err("[01]"), "c.json:1:4: invalid number: leading zero");
        assert_eq!(err("[1.]"), "c.json:1:4: invalid number");
        assert_eq!(err("-"), "c.json:1:2: invalid number");
        assert_eq!(err("\"a\tb\""), "c.json:1:4: control character in string");
        assert_eq!(err("\"\\x\""), "c.json:1:4: invalid escape");
        assert_eq!(err("\"\\ud800\""), "c.json:1:8: invalid \\u escape: lone surrogate");
        assert_eq!(err("\"abc"), "c.json:1:5: unterminated string");
        assert_eq!(err("tru"), "c.json:1:1: invalid literal");
        assert_eq!(err("{} {}"), "c.json:1:4: unexpected text after the document");
        assert_eq!(err(""), "c.json:1:1: unexpected end of input");
        assert_eq!(err("// comment\n{}"), "c.json:1:1: expected a value");
        assert_eq!(err("[1,]"), "c.json:1:4: expected a value");
        assert_eq!(err(&"[".repeat(1000)), "c.json:1:130: nested too deeply");
    }

    /// The error `f` meets reading `v`: (path, why).
    fn read_err(v: &Value, f: &mut dyn FnMut(Node)) -> (String, &'static str) {
        let e = read(v, m!("invalid config"), f).err().expect("should fail");
        assert_eq!(e.step, "invalid config");
        (String::from_utf8_lossy(e.object.as_bytes()).into_owned(), why(&e))
    }

    #[test]
    fn typed_access_names_the_field() {
        let v = parse(br#"{"linux": {"resources": {"memory": {"limit": "1g"}}}, "n": [1, -1, 1.5, 99999999999999999999]}"#, b"x")
            .unwrap();
        let e = read_err(&v, &mut |root| _ = root.require_key(b"linux").require_key(b"resources").require_key(b"memory").require_key(b"limit").u64());
        assert_eq!(e, ("linux.resources.memory.limit".into(), "expected a number"));
        let mut got = Vec::new();
        read(&v, m!("invalid config"), &mut |root| {
            root.require_key(b"n").each(&mut |n| got.push((String::from_utf8_lossy(n.path().as_bytes()).into_owned(), n.num(0, u64::MAX).map_err(Msg::str))))
        })
        .unwrap();
        assert_eq!(got[0], ("n[0]".into(), Ok(1)));
        assert_eq!(got[1].1, Err("number out of range"));
        assert_eq!(got[2].1, Err("expected an integer"));
        assert_eq!(got[3].1, Err("number out of range"));
        assert_eq!(read_err(&v, &mut |root| root.require_key(b"n").each(&mut |n| _ = n.u64())), ("n[1]".into(), "number out of range"));
        read(&v, m!("invalid config"), &mut |root| assert!(root.get_key(b"missing").is_none())).unwrap();
        assert_eq!(read_err(&v, &mut |root| _ = root.require_key(b"missing")), ("missing".into(), "required"));
        assert_eq!(read_err(&v, &mut |root| _ = root.require_key(b"n").get_key(b"x")), ("n".into(), "expected an object"));
        // A repeated key's last value wins; a value is never taken for a key.
        let dup = parse(br#"{"a": 1, "x": "a", "a": {"b": [true, "a"]}, "y": "b"}"#, b"x").unwrap();
        let e = read_err(&dup, &mut |root| {
            let a = root.require_key(b"a");
            assert!(a.get_key(b"a").is_none() && root.get_key(b"b").is_none());
            let b = a.require_key(b"b");
            assert_eq!(b.path().as_bytes(), b"a.b");
            b.each(&mut |n| _ = n.bool());
        });
        assert_eq!(e, ("a.b[1]".into(), "expected true or false"));
        // A path longer than its buffer keeps its start.
        let k = "k".repeat(50);
        let long = alloc::format!(r#"{{"{k}": [{{"{k}": {{"{k}": ["x"]}}}}]}}"#);
        let long = parse(long.as_bytes(), b"x").unwrap();
        let e = read_err(&long, &mut |root| root.require_key(k.as_bytes()).each(&mut |a| a.require_key(k.as_bytes()).require_key(k.as_bytes()).each(&mut |n| _ = n.u64())));
        assert_eq!(e.0, alloc::format!("{k}[0].{k}.{k}[0]")[..127]);
        // The edges of each range the configs use.
        let edges = parse(br#"[-9223372036854775808, -9223372036854775809, 18446744073709551615, 18446744073709551616, -0, 0, 1, -1, 100, 101]"#, b"x").unwrap();
        let mut got = Vec::new();
        let cases: [(usize, i64, u64, core::result::Result<i64, &str>); 14] = [
            (0, i64::MIN, i64::MAX as u64, Ok(i64::MIN)),
            (1, i64::MIN, i64::MAX as u64, Err("number out of range")),
            (2, 0, u64::MAX, Ok(-1)),
            (2, i64::MIN, i64::MAX as u64, Err("number out of range")),
            (3, 0, u64::MAX, Err("number out of range")),
            (4, 0, 5, Ok(0)),
            (4, 1, 5, Err("number out of range")),
            (5, 1, 5, Err("number out of range")),
            (6, 1, 5, Ok(1)),
            (7, -1, 5, Ok(-1)),
            (7, 0, 5, Err("number out of range")),
            (8, 0, 100, Ok(100)),
            (9, 0, 100, Err("number out of range")),
            (0, -1, u64::MAX, Err("number out of range")),
        ];
        read(&edges, m!("invalid config"), &mut |root| {
            let mut n = Vec::new();
            root.each(&mut |x| n.push(x));
            got = cases.iter().map(|&(i, min, max, _)| n[i].num(min, max).map_err(Msg::str)).collect();
        })
        .unwrap();
        for (k, (i, min, max, want)) in cases.into_iter().enumerate() {
            assert_eq!(got[k], want, "{i} in {min}..={max}");
        }
        // The first error is the one reported; what is read after it changes nothing.
        let e = read_err(&v, &mut |root| {
            root.require_key(b"n").str();
            root.require_key(b"linux").bool();
            root.require_key(b"missing");
        });
        assert_eq!(e, ("n".into(), "expected a string"));
    }

    #[test]
    fn writer_round_trips() {
        let mut w = Writer::default();
        w.open(b'{').key(b"id").str(b"a\"b\\c\n\x01").key(b"pid").num(42).key(b"list").open(b'[');
        w.str(b"x").raw(b"true").open(b'{').close(b'}').close(b']').close(b'}');
        assert_eq!(w.out, br#"{"id":"a\"b\\c\n\u0001","pid":42,"list":["x",true,{}]}"#);
        let v = parse(&w.out, b"x").unwrap();
        read(&v, m!("invalid config"), &mut |root| assert_eq!(root.require_key(b"id").str(), b"a\"b\\c\n\x01")).unwrap();
    }

    /// A repeatable pseudo-random sequence (xorshift64) for the property tests of the parsers.
    pub fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// Arbitrary bytes, and valid documents with bytes changed, never crash or hang the reader.
    #[test]
    fn arbitrary_bytes() {
        let seed = br#"{"ociVersion": "1.0.2", "process": {"args": ["sh", "-c", "e\u0041"], "user": {"uid": 0}}, "x": [1.5e-3, null, true]}"#;
        let mut next = crate::json::tests::xorshift(0x2545_f491_4f6c_dd1du64);
        const PUNCT: &[u8] = b"{}[]\",:\\0-e.";
        for _ in 0..20000 {
            let mut doc = seed.to_vec();
            for _ in 0..1 + next() % 4 {
                let i = next() as usize % doc.len();
                match next() % 3 {
                    0 => doc[i] = next() as u8,
                    1 => drop(doc.remove(i)),
                    _ => doc.insert(i, PUNCT[next() as usize % PUNCT.len()]),
                }
            }
            let _ = parse(&doc, b"fuzz");
        }
        for len in 0..64 {
            let doc: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let _ = parse(&doc, b"fuzz");
        }
    }
}
