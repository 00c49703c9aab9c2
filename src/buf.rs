//! A fixed-size byte buffer that builds messages, paths and mount option strings on the
//! stack, instead of core::fmt (which costs kilobytes) or the heap.
use core::ffi::CStr;
use core::mem::MaybeUninit;

/// Only `bytes[..len.min(N - 1)]` is ever read, and written before that: the rest stays
/// uninitialized, so a new Buf costs no memset (200 call sites, 1.5 KB of code).
#[derive(Clone, Copy)]
pub struct Buf<const N: usize> {
    bytes: [MaybeUninit<u8>; N],
    len: usize,
}

impl<const N: usize> Buf<N> {
    pub const fn new() -> Self {
        Buf { bytes: [MaybeUninit::uninit(); N], len: 0 }
    }

    /// Appends what fits; the last byte is kept for the NUL of [`Buf::cstr`]. `full()` tells
    /// whether anything was cut.
    #[inline]
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        push(&mut self.bytes, &mut self.len, s);
        self
    }

    #[inline]
    pub fn num(&mut self, v: u64) -> &mut Self {
        num(&mut self.bytes, &mut self.len, v);
        self
    }

    /// True when a push did not fit (the text is truncated).
    pub fn full(&self) -> bool {
        self.len >= N
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        as_bytes(&self.bytes, self.len)
    }

    /// The contents as a C string (NUL-terminated in place).
    #[inline]
    pub fn cstr(&mut self) -> &CStr {
        cstr(&mut self.bytes, self.len)
    }
}

// The bodies, once for every size N: Buf<N> only passes its array as a slice. Not inlined:
// they are called in many places, and one copy is smaller.

/// The first bytes of a Buf's array, all of them written by `push` or `cstr`.
#[allow(unsafe_code)]
fn written(bytes: &[MaybeUninit<u8>]) -> &[u8] {
    // SAFETY: callers pass only the prefix that `push` and `cstr` wrote (the invariant of
    // Buf), and MaybeUninit<u8> has u8's layout.
    unsafe { &*(bytes as *const [MaybeUninit<u8>] as *const [u8]) }
}

#[inline(never)]
fn push(bytes: &mut [MaybeUninit<u8>], len: &mut usize, s: &[u8]) {
    let last = bytes.len() - 1;
    let room = last - (*len).min(last);
    let n = s.len().min(room);
    for (b, &c) in bytes[*len..*len + n].iter_mut().zip(&s[..n]) {
        b.write(c);
    }
    // Past the end once cut, but never further: later pushes must not index beyond it.
    *len = (*len + if n < s.len() { n + 1 } else { n }).min(bytes.len());
}

#[inline(never)]
fn num(bytes: &mut [MaybeUninit<u8>], len: &mut usize, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    push(bytes, len, &digits[i..])
}

#[inline(never)]
fn as_bytes(bytes: &[MaybeUninit<u8>], len: usize) -> &[u8] {
    written(&bytes[..len.min(bytes.len() - 1)])
}

#[inline(never)]
fn cstr(bytes: &mut [MaybeUninit<u8>], len: usize) -> &CStr {
    let end = len.min(bytes.len() - 1);
    bytes[end].write(0);
    // A pushed slice may contain a NUL; the C string then ends there.
    crate::sys::until_nul(written(&bytes[..=end]))
}

/// `/proc/self/fd/N`: the path through which mount(2) acts on what fd N refers to.
pub fn fd_path(fd: i32) -> Buf<32> {
    let mut b = Buf::new();
    b.push(b"/proc/self/fd/").num(fd as u64);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_text_and_numbers() {
        let mut b = Buf::<32>::new();
        b.push(b"size=").num(65536).push(b",mode=").num(0);
        assert_eq!(b.as_bytes(), b"size=65536,mode=0");
        assert_eq!(b.cstr().to_bytes(), b"size=65536,mode=0");
        assert!(!b.full());
    }

    #[test]
    fn truncates_and_reports_it() {
        let mut b = Buf::<8>::new();
        b.push(b"abcdefghij");
        assert_eq!(b.as_bytes(), b"abcdefg");
        assert!(b.full());
        // Pushes after the cut change nothing (and never index past the end).
        b.push(b"x").num(7).push(b"y");
        assert_eq!((b.as_bytes(), b.full()), (&b"abcdefg"[..], true));
        assert_eq!(fd_path(17).as_bytes(), b"/proc/self/fd/17");
    }
}
