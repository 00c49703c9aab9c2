//! A fixed-size byte buffer that builds messages, paths and mount option strings on the
//! stack, instead of core::fmt (which costs kilobytes) or the heap.
use core::ffi::CStr;

#[derive(Clone, Copy)]
pub struct Buf<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Buf<N> {
    pub const fn new() -> Self {
        Buf { bytes: [0; N], len: 0 }
    }

    /// Appends what fits; the last byte is kept for the NUL of [`Buf::cstr`]. `full()` tells
    /// whether anything was cut.
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        let room = N - 1 - self.len.min(N - 1);
        let n = s.len().min(room);
        self.bytes[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += if n < s.len() { n + 1 } else { n };
        self
    }

    pub fn num(&mut self, mut v: u64) -> &mut Self {
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
        self.push(&digits[i..])
    }

    /// True when a push did not fit (the text is truncated).
    pub fn full(&self) -> bool {
        self.len >= N
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len.min(N - 1)]
    }

    /// The contents as a C string (NUL-terminated in place). Not inlined: it is called in
    /// many places, and one copy is smaller.
    #[inline(never)]
    pub fn cstr(&mut self) -> &CStr {
        let end = self.len.min(N - 1);
        self.bytes[end] = 0;
        // A pushed slice may contain a NUL; the C string then ends there.
        CStr::from_bytes_until_nul(&self.bytes[..=end]).unwrap_or_default()
    }
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
        assert_eq!(fd_path(17).as_bytes(), b"/proc/self/fd/17");
    }
}
