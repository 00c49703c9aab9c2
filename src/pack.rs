//! Long fixed texts (the default config of `spec`, the features document, usage texts) are
//! kept packed in the binary and expanded when printed: half the bytes, and the packing runs
//! at compile time (`packed!`), so the binary holds only the packed text and `unpack`.
//!
//! The format is LZ77 over ASCII text: a byte below 0x80 stands for itself; a byte
//! `0x80 | (n - 3) << 4 | (d - 1) >> 8` and a byte `(d - 1) & 0xff` stand for the n bytes
//! (3 to 10) found d bytes (1 to 4096) back in the expanded text.
use alloc::vec::Vec;

const MAX_LEN: usize = 10;
const MAX_DIST: usize = 4096;

/// `const NAME: [u8; _] = <TEXT packed>;` for a `&str` constant TEXT.
macro_rules! packed {
    ($(#[$doc:meta])* $vis:vis $name:ident = $text:expr) => {
        $(#[$doc])*
        $vis const $name: [u8; $crate::pack::packed_len($text.as_bytes())] = $crate::pack::pack($text.as_bytes());
    };
}
pub(crate) use packed;

/// The size of `text` packed.
pub const fn packed_len(text: &[u8]) -> usize {
    pack_into(text, &mut [])
}

/// `text` packed (N is its `packed_len`).
pub const fn pack<const N: usize>(text: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    pack_into(text, &mut out);
    out
}

/// Packs `text` into `out`, or only counts when `out` is empty; returns the packed size.
/// The smallest packing this format allows: first the longest earlier match at every point
/// (earlier positions are chained by the hash of the 3 bytes there, `head` and `prev`, so only
/// those that may match are tried: the compiler's evaluator is slow); then, from the end, the
/// cheapest way on from each point (a literal, 1 byte, or a match of 3 bytes up to the longest
/// there, 2 bytes); then that way, from the start.
pub const fn pack_into(text: &[u8], out: &mut [u8]) -> usize {
    assert!(text.len() <= CAP, "packed texts are at most 16 KiB");
    let n = text.len();
    let mut head = [usize::MAX; 4096];
    let mut prev = [usize::MAX; CAP];
    let mut longest = [0u8; CAP];
    let mut dist = [0u16; CAP];
    let mut i = 0;
    while i < n {
        assert!(text[i] < 0x80, "packed texts are ASCII");
        if i + 2 < n {
            let h = hash(text, i);
            let mut j = head[h];
            while j != usize::MAX && i - j <= MAX_DIST {
                let mut len = 0;
                while len < MAX_LEN && i + len < n && text[j + len] == text[i + len] {
                    len += 1;
                }
                if len > longest[i] as usize {
                    (longest[i], dist[i]) = (len as u8, (i - j) as u16);
                }
                j = prev[j];
            }
            (prev[i], head[h]) = (head[h], i);
        }
        i += 1;
    }
    // cost[i]: the packed size of text[i..]; step[i]: the length taken there (1: a literal).
    let mut cost = [0u16; CAP + 1];
    let mut step = [0u8; CAP];
    let mut i = n;
    while i > 0 {
        i -= 1;
        (cost[i], step[i]) = (cost[i + 1] + 1, 1);
        let mut len = 3;
        while len <= longest[i] as usize {
            if cost[i + len] + 2 < cost[i] {
                (cost[i], step[i]) = (cost[i + len] + 2, len as u8);
            }
            len += 1;
        }
    }
    if !out.is_empty() {
        let (mut i, mut o) = (0, 0);
        while i < n {
            let len = step[i] as usize;
            if len == 1 {
                out[o] = text[i];
                o += 1;
            } else {
                let d = dist[i] as usize - 1;
                out[o] = 0x80 | ((len - 3) << 4) as u8 | (d >> 8) as u8;
                out[o + 1] = d as u8;
                o += 2;
            }
            i += len;
        }
    }
    cost[0] as usize
}

const CAP: usize = 16384;

const fn hash(text: &[u8], i: usize) -> usize {
    ((text[i] as usize) << 6 ^ (text[i + 1] as usize) << 3 ^ text[i + 2] as usize) & 4095
}

/// The text `packed` stands for, appended to `out`.
#[inline(never)]
pub fn unpack(packed: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(&c) = packed.get(i) {
        i += 1;
        if c < 0x80 {
            out.push(c);
            continue;
        }
        let dist = ((c as usize & 15) << 8 | packed[i] as usize) + 1;
        i += 1;
        for _ in 0..(c as usize >> 4 & 7) + 3 {
            out.push(out[out.len() - dist]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "abcabcabcabc, a text that repeats: a text that repeats itself\n";
    packed!(PACKED = TEXT);

    #[test]
    fn round_trip() {
        assert!(PACKED.len() < TEXT.len());
        let mut out = b"kept ".to_vec();
        unpack(&PACKED, &mut out);
        assert_eq!(out, [&b"kept "[..], TEXT.as_bytes()].concat());
        let long: Vec<u8> = (0..5000u32).map(|i| b"abcdefghij klmnop\n"[(i * i % 18) as usize]).collect();
        let mut packed = alloc::vec![0; packed_len(&long)];
        pack_into(&long, &mut packed);
        let mut out = Vec::new();
        unpack(&packed, &mut out);
        assert_eq!(out, long);
    }
}
