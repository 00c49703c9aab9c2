//! hutch's messages (the steps and causes of its errors, the reasons of its warnings) live in
//! one packed table: the text takes about half its bytes (pack.rs), and a call site passes a
//! 2-byte index instead of a pointer and a length. A message is written where it is used, as
//! `m!("creating pipe")`: build.rs collects the text of every `m!` in src/, sorted, into the
//! table, and `m!` looks its text up at compile time (a text the table lacks fails the build).
//! An index holds no pointer, so an error crosses the child's pipe as plain bytes.

include!(concat!(env!("OUT_DIR"), "/messages.rs"));

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
    /// The index of `text` in the table (binary search: the texts are sorted). Only for `m!`.
    pub const fn of(text: &str) -> Msg {
        let (mut lo, mut hi) = (0, TEXTS.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match compare(TEXTS[mid].as_bytes(), text.as_bytes()) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => return Msg(mid as u16),
            }
        }
        panic!("a message missing from the table: build.rs collects only m!(\"...\") with a plain literal");
    }

    /// The text. The table is unpacked for it and kept to exit: messages are read when an
    /// error or a warning is printed, a few times in a process's life.
    pub fn text(self) -> &'static [u8] {
        let mut all = alloc::vec::Vec::new();
        crate::pack::unpack(&PACKED, &mut all);
        all.leak().split(|&c| c == 0).nth(self.0 as usize).unwrap_or_default()
    }
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
        assert!(TEXTS.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
        for (i, t) in TEXTS.iter().enumerate() {
            assert_eq!(Msg::of(t).0 as usize, i);
            assert_eq!(Msg::of(t).text(), t.as_bytes());
        }
        assert_eq!(m!("creating pipe").text(), b"creating pipe");
    }
}
