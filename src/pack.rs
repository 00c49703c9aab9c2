//! Long fixed texts (the default config of `spec`, the features document, usage texts) are
//! kept packed in the binary and expanded when printed: half the bytes, and the packing runs
//! at compile time (`packed!`), so the binary holds only the packed text and `unpack`.
//!
//! The format is LZ77 over ASCII text: a byte below 0x80 stands for itself; a byte
//! `0x80 | (n - 3) << 3 | (d - 1) >> 8` and a byte `(d - 1) & 0xff` stand for the n bytes
//! (3 to 18) found d bytes (1 to 2048) back in the expanded text.
use alloc::vec::Vec;

const MAX_LEN: usize = 18;
const MAX_DIST: usize = 2048;

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
/// Greedy: at each point the longest earlier match, if it is 3 bytes or more. Earlier
/// positions are chained by the hash of the 3 bytes there (`head`, `prev`), so only those
/// that may match are tried: the compiler's evaluator is slow.
pub const fn pack_into(text: &[u8], out: &mut [u8]) -> usize {
    assert!(text.len() <= CAP, "packed texts are at most 16 KiB");
    let mut head = [usize::MAX; 4096];
    let mut prev = [usize::MAX; CAP];
    let (mut i, mut n, mut chained) = (0, 0, 0);
    while i < text.len() {
        assert!(text[i] < 0x80, "packed texts are ASCII");
        while chained < i && chained + 2 < text.len() {
            let h = hash(text, chained);
            (prev[chained], head[h]) = (head[h], chained);
            chained += 1;
        }
        let (mut best, mut dist) = (0, 0);
        let mut j = if i + 2 < text.len() { head[hash(text, i)] } else { usize::MAX };
        while j != usize::MAX && i - j <= MAX_DIST {
            let mut len = 0;
            while len < MAX_LEN && i + len < text.len() && text[j + len] == text[i + len] {
                len += 1;
            }
            if len > best {
                (best, dist) = (len, i - j);
            }
            j = prev[j];
        }
        if best >= 3 {
            if !out.is_empty() {
                out[n] = 0x80 | ((best - 3) << 3) as u8 | ((dist - 1) >> 8) as u8;
                out[n + 1] = (dist - 1) as u8;
            }
            (n, i) = (n + 2, i + best);
        } else {
            if !out.is_empty() {
                out[n] = text[i];
            }
            (n, i) = (n + 1, i + 1);
        }
    }
    n
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
        let dist = ((c as usize & 7) << 8 | packed[i] as usize) + 1;
        i += 1;
        for _ in 0..(c as usize >> 3 & 15) + 3 {
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
