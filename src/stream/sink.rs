//! Where the encryptor and decryptor write: a growing `Vec`, or a buffer sized up front.
//!
//! Ciphertext and plaintext are written straight into the space `grow` returns (AES-GCM reads
//! its input from one buffer and writes its output into another), so no byte is copied twice.
//! A [`Presized`] buffer comes from `vec![0; n]`, which the allocator serves with pages that
//! are zero and not yet touched: the pages are first touched by the thread that encrypts or
//! decrypts into them, so for large messages the page faults are spread over the worker
//! threads instead of being paid up front by one thread zero-filling the whole output.

/// Makes room in `v` for `additional` more bytes without leaving an unwiped copy behind: when
/// the allocation has to move, the old one is zeroed before it is freed. Buffers that may hold
/// plaintext or keys grow only through this.
pub(crate) fn reserve_wiping(v: &mut Vec<u8>, additional: usize) {
    let needed = v.len().saturating_add(additional);
    if needed <= v.capacity() {
        return;
    }
    let mut grown = Vec::with_capacity(needed.max(v.capacity().saturating_mul(2)));
    grown.extend_from_slice(v);
    // Zeroes the elements and the spare capacity, then empties the vector.
    zeroize::Zeroize::zeroize(v);
    *v = grown;
}

/// Appends `bytes` to `v` through [`reserve_wiping`].
pub(crate) fn extend_wiping(v: &mut Vec<u8>, bytes: &[u8]) {
    reserve_wiping(v, bytes.len());
    v.extend_from_slice(bytes);
}

/// An append-only output.
pub(crate) trait Sink {
    /// Bytes written so far.
    fn len(&self) -> usize;
    /// Appends `n` bytes and returns them for the caller to overwrite completely. Their
    /// contents on return are unspecified (zero for a `Vec`).
    fn grow(&mut self, n: usize) -> &mut [u8];
    /// Drops everything after the first `len` bytes.
    fn truncate(&mut self, len: usize);
    /// The bytes written from `from` on, to wipe before they are dropped.
    fn tail_mut(&mut self, from: usize) -> Option<&mut [u8]>;
    /// Wipes the bytes written from `len` on, then drops them: plaintext that must not be
    /// released after an error.
    fn discard_from(&mut self, len: usize) {
        if let Some(tail) = self.tail_mut(len) {
            zeroize::Zeroize::zeroize(tail);
        }
        self.truncate(len);
    }
    /// Appends a copy of `bytes`.
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.grow(bytes.len()).copy_from_slice(bytes);
    }
}

impl Sink for Vec<u8> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn grow(&mut self, n: usize) -> &mut [u8] {
        let start = Vec::len(self);
        reserve_wiping(self, n);
        self.resize(start.saturating_add(n), 0);
        self.get_mut(start..).unwrap_or_default()
    }

    fn truncate(&mut self, len: usize) {
        Vec::truncate(self, len);
    }

    fn tail_mut(&mut self, from: usize) -> Option<&mut [u8]> {
        self.get_mut(from..)
    }

    fn extend_from_slice(&mut self, bytes: &[u8]) {
        extend_wiping(self, bytes);
    }
}

/// A buffer allocated zeroed at its expected final size; it grows past it if need be. Also
/// the streaming writers' reusable output buffer.
pub(crate) struct Presized {
    buf: Vec<u8>,
    len: usize,
}

impl Presized {
    /// Room for `capacity` bytes; the memory is not touched until written.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            buf: vec![0; capacity],
            len: 0,
        }
    }

    /// Room for `capacity` bytes in a caller's buffer, reused: its initialized bytes are kept
    /// (to be overwritten), so a buffer as large as the last message costs no zero-fill and no
    /// page fault.
    pub(crate) fn reuse(buf: Vec<u8>, capacity: usize) -> Self {
        let mut reused = Self { buf, len: 0 };
        reused.make_room(capacity);
        reused
    }

    /// Makes the buffer at least `capacity` bytes long (zero pages not yet touched for a fresh
    /// buffer), keeping what was written.
    pub(crate) fn make_room(&mut self, capacity: usize) {
        if self.buf.len() < capacity {
            // A fresh buffer comes zeroed from the allocator, pages untouched; an existing one
            // is grown in place or moved through `reserve_wiping`, never freed unwiped.
            if self.buf.capacity() == 0 {
                self.buf = vec![0; capacity];
            } else {
                let more = capacity - self.buf.len();
                reserve_wiping(&mut self.buf, more);
                self.buf.resize(capacity, 0);
            }
        }
    }

    /// The bytes written, keeping the whole allocation for the next [`reuse`](Self::reuse).
    pub(crate) fn into_reusable_vec(self) -> Vec<u8> {
        let mut buf = self.buf;
        Vec::truncate(&mut buf, self.len);
        buf
    }

    /// The bytes written so far.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Empties it, keeping the memory (and its stale bytes) for the next writes.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// Overwrites all the memory with zeros (for buffers that held plaintext).
    pub(crate) fn zeroize(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.buf);
        self.len = 0;
    }

    /// The bytes written, without the unused tail.
    ///
    /// Slack of up to an eighth (or 4 KiB) is kept. More is given back by copying into an
    /// exact-size buffer and wiping the old one: `shrink_to_fit` may move the allocation and
    /// free the old block unwiped, and the buffer may hold plaintext.
    pub(crate) fn into_vec(self) -> Vec<u8> {
        let mut buf = self.buf;
        Vec::truncate(&mut buf, self.len);
        let slack = buf.capacity() - buf.len();
        if slack > 4096 && slack > buf.len() / 8 {
            let exact = buf.clone();
            zeroize::Zeroize::zeroize(&mut buf);
            return exact;
        }
        buf
    }
}

impl Sink for Presized {
    fn len(&self) -> usize {
        self.len
    }

    fn grow(&mut self, n: usize) -> &mut [u8] {
        let start = self.len;
        let end = start.saturating_add(n);
        self.make_room(end);
        self.len = end;
        self.buf.get_mut(start..end).unwrap_or_default()
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    fn tail_mut(&mut self, from: usize) -> Option<&mut [u8]> {
        self.buf.get_mut(from..self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presized_and_vec_sinks_agree() {
        let mut v: Vec<u8> = Vec::new();
        let mut p = Presized::new(10);
        for sink in [&mut v as &mut dyn Sink, &mut p] {
            sink.extend_from_slice(b"abc");
            sink.grow(4).copy_from_slice(b"defg");
            sink.truncate(5);
            sink.extend_from_slice(b"XYZ0123456789");
            assert_eq!(sink.len(), 18);
        }
        assert_eq!(p.into_vec(), v);
        assert_eq!(v, b"abcdeXYZ0123456789");
        let mut small = Presized::new(1 << 20);
        small.extend_from_slice(b"hi");
        let out = small.into_vec();
        assert_eq!(out, b"hi");
        assert!(out.capacity() < 1 << 20);
        // Little slack is kept as is.
        let mut nearly = Presized::new(100_000);
        nearly.grow(99_000).fill(7);
        let out = nearly.into_vec();
        assert_eq!((out.len(), out.capacity()), (99_000, 100_000));
    }

    #[test]
    fn growth_moves_into_a_new_allocation_and_keeps_the_bytes() {
        let mut v = Vec::with_capacity(4);
        v.extend_from_slice(b"abcd");
        let before = v.as_ptr();
        extend_wiping(&mut v, b"efgh");
        assert_eq!(v, b"abcdefgh");
        assert_ne!(v.as_ptr(), before);
        assert!(v.capacity() >= 8);
        // No move when it fits.
        let mut w = Vec::with_capacity(64);
        w.extend_from_slice(b"xy");
        let at = w.as_ptr();
        reserve_wiping(&mut w, 10);
        assert_eq!(w.as_ptr(), at);
        let mut p = Presized::new(2);
        p.extend_from_slice(b"0123456789");
        assert_eq!(p.bytes(), b"0123456789");
    }
}
