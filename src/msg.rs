//! hutch's fixed texts (the steps and causes of its errors, the reasons of its warnings, the
//! member names of config.json) live in one packed table: the text takes about half its
//! bytes (pack.rs), and a call site passes a 2-byte offset instead of a pointer and a length.
//! A text is written where it is used, as `m!("creating pipe")`: build.rs collects the text of
//! every `m!` in src/, sorted, into the table, and `m!` looks its text up at compile time (a
//! text the table lacks fails the build). An offset holds no pointer, so an error crosses the
//! child's pipe as plain bytes.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicPtr, Ordering::Relaxed};

include!(concat!(env!("OUT_DIR"), "/messages.rs"));

/// A text, by where it starts in the unpacked table.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Msg(u16);

/// The [`Msg`] of a text, found at compile time.
macro_rules! m {
    ($text:literal) => {{
        const M: $crate::msg::Msg = $crate::msg::Msg::of($text);
        M
    }};
}
pub(crate) use m;

impl Msg {
    /// The text's place in the table (binary search: TEXTS is sorted). Only for `m!`.
    pub const fn of(text: &str) -> Msg {
        let (mut lo, mut hi) = (0, TEXTS.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match compare(TEXTS[mid].0.as_bytes(), text.as_bytes()) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => return Msg(TEXTS[mid].1),
            }
        }
        panic!("a message missing from the table: build.rs collects only m!(\"...\") with a plain literal");
    }

    /// The text.
    pub fn text(self) -> &'static [u8] {
        table()[self.0 as usize..].split(|&c| c == 0).next().unwrap_or_default()
    }
}

/// Unpacked when first used and kept to exit. A pointer to it, not a value: hutch runs no
/// threads (its clones have their own copy of memory), so a plain load and store suffice.
static TABLE: AtomicPtr<Vec<u8>> = AtomicPtr::new(core::ptr::null_mut());

#[allow(unsafe_code)]
fn table() -> &'static [u8] {
    let p = TABLE.load(Relaxed);
    if !p.is_null() {
        // SAFETY: p was stored below from a leaked Box (never freed, never written again).
        return unsafe { &*p };
    }
    let mut text = Vec::new();
    crate::pack::unpack(&PACKED, &mut text);
    let t = Box::leak(Box::new(text));
    TABLE.store(t, Relaxed);
    t
}

/// For unit tests: `assert_eq!(e.step, "creating pipe")`, `{:?}` shows the text.
#[cfg(test)]
impl PartialEq<&str> for Msg {
    fn eq(&self, other: &&str) -> bool {
        self.text() == other.as_bytes()
    }
}

#[cfg(test)]
impl core::fmt::Debug for Msg {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        write!(f, "{:?}", self.str())
    }
}

#[cfg(test)]
impl Msg {
    pub fn str(self) -> &'static str {
        core::str::from_utf8(self.text()).unwrap()
    }
}

/// Byte order, as `<[u8]>::cmp` (not const).
const fn compare(a: &[u8], b: &[u8]) -> core::cmp::Ordering {
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return if a[i] < b[i] { core::cmp::Ordering::Less } else { core::cmp::Ordering::Greater };
        }
        i += 1;
    }
    if a.len() < b.len() {
        core::cmp::Ordering::Less
    } else if a.len() > b.len() {
        core::cmp::Ordering::Greater
    } else {
        core::cmp::Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_round_trips() {
        assert!(TEXTS.windows(2).all(|w| w[0].0 < w[1].0), "sorted, no duplicates");
        for (t, at) in TEXTS {
            assert_eq!(Msg::of(t).0, at);
            assert_eq!(Msg::of(t).text(), t.as_bytes());
        }
        assert_eq!(m!("creating pipe").text(), b"creating pipe");
    }
}
