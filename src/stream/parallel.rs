//! Sealing and opening runs of regular frames on several threads.
//!
//! Frames are independent: each is a pure function of (key, sequence number, plaintext), so a
//! run of frames is split into contiguous groups, one per thread, each writing into its own
//! disjoint part of the output. The bytes are identical to the sequential path's.

use crate::crypto::aead::Aead;
use crate::format::body::{self, RawFrame, FRAME_STRING};

/// Runs shorter than this stay on the caller's thread: spawning costs more than it saves.
pub(crate) const MIN_PARALLEL_BYTES: usize = 1 << 20;

/// Whether a run of `frames` frames of `frame_len` bytes is worth spreading over `threads`.
pub(crate) fn worth_it(frames: usize, frame_len: usize, threads: usize) -> bool {
    threads > 1 && frames >= 2 && frames.saturating_mul(frame_len) >= MIN_PARALLEL_BYTES
}

/// Runs `work` over `groups` items split into `threads` contiguous groups, one on the calling
/// thread and the rest on scoped threads; returns the first error.
fn run_groups<T: Send>(
    groups: Vec<T>,
    work: impl Fn(T) -> crate::Result<()> + Sync,
) -> crate::Result<()> {
    let work = &work;
    std::thread::scope(|scope| {
        let mut groups = groups.into_iter();
        let first = groups.next();
        let handles: Vec<_> = groups.map(|g| scope.spawn(move || work(g))).collect();
        let mut result = first.map_or(Ok(()), work);
        for handle in handles {
            let joined = handle.join().unwrap_or(Err(crate::Error::Internal(
                "a frame worker thread panicked",
            )));
            if result.is_ok() {
                result = joined;
            }
        }
        result
    })
}

/// Seals `plaintext` (a whole number of frames) as regular frames numbered from `first_sequence`
/// into `out`, which must be exactly `frames × regular_frame_size(frame_len)` bytes.
pub(crate) fn seal_regular_frames(
    aead: &Aead,
    message_id: &[u8],
    first_sequence: u32,
    plaintext: &[u8],
    frame_len: usize,
    out: &mut [u8],
    threads: usize,
) -> crate::Result<()> {
    let frames = plaintext.len() / frame_len;
    let per_group = frames.div_ceil(threads.max(1)).max(1);
    let frame_size = body::regular_frame_size(frame_len);
    let groups: Vec<_> = plaintext
        .chunks(per_group * frame_len)
        .zip(out.chunks_mut(per_group * frame_size))
        .enumerate()
        .map(|(g, (pt, o))| (first_sequence as usize + g * per_group, pt, o))
        .collect();
    run_groups(groups, |(first, pt, o)| {
        for (i, (frame, dst)) in pt
            .chunks(frame_len)
            .zip(o.chunks_mut(frame_size))
            .enumerate()
        {
            let sequence = u32::try_from(first + i)
                .map_err(|_| crate::Error::LimitExceeded("more than 2^32 - 1 frames"))?;
            body::seal_frame_into(aead, message_id, sequence, false, frame, dst)?;
        }
        Ok(())
    })
}

/// Opens regular `frames` of `frame_len` bytes into `out` (exactly `frames.len() × frame_len`).
/// On error, `out` may hold plaintext of other frames: the caller discards all of it.
pub(crate) fn open_regular_frames(
    aead: &Aead,
    message_id: &[u8],
    frames: &[RawFrame<'_>],
    frame_len: usize,
    out: &mut [u8],
    threads: usize,
) -> crate::Result<()> {
    let per_group = frames.len().div_ceil(threads.max(1)).max(1);
    let groups: Vec<_> = frames
        .chunks(per_group)
        .zip(out.chunks_mut(per_group * frame_len))
        .collect();
    run_groups(groups, |(fs, o)| {
        for (frame, dst) in fs.iter().zip(o.chunks_mut(frame_len)) {
            frame.open_into(aead, message_id, FRAME_STRING, dst)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocking::block_on;
    use crate::format::codec::Reader;
    use crate::{Client, RawAesKeyring};

    #[test]
    fn parallel_sealing_is_byte_identical_and_opens() {
        let aead = Aead::new(&[9u8; 32]).unwrap();
        let id = [4u8; 32];
        let frame_len = 1000;
        let plaintext: Vec<u8> = (0..frame_len * 37).map(|i| (i % 251) as u8).collect();
        let mut sequential = Vec::new();
        for (i, frame) in plaintext.chunks(frame_len).enumerate() {
            body::seal_frame(&aead, &id, 5 + i as u32, false, frame, &mut sequential).unwrap();
        }
        for threads in [1, 2, 3, 8] {
            let mut out = vec![0u8; sequential.len()];
            seal_regular_frames(&aead, &id, 5, &plaintext, frame_len, &mut out, threads).unwrap();
            assert_eq!(out, sequential, "threads = {threads}");
        }
        let mut r = Reader::new(&sequential);
        let frames: Vec<_> = (0..37)
            .map(|_| body::parse_frame(&mut r, frame_len as u32).unwrap())
            .collect();
        let mut opened = vec![0u8; plaintext.len()];
        open_regular_frames(&aead, &id, &frames, frame_len, &mut opened, 3).unwrap();
        assert_eq!(opened, plaintext);
        let mut tampered = sequential.clone();
        tampered[20 * body::regular_frame_size(frame_len) + 30] ^= 1;
        let mut r = Reader::new(&tampered);
        let frames: Vec<_> = (0..37)
            .map(|_| body::parse_frame(&mut r, frame_len as u32).unwrap())
            .collect();
        let err = open_regular_frames(&aead, &id, &frames, frame_len, &mut opened, 3).unwrap_err();
        assert!(
            matches!(err, crate::Error::FrameAuthentication { sequence: 25 }),
            "{err:?}"
        );
    }

    #[test]
    fn large_messages_cross_decrypt_between_thread_counts() {
        let keyring = RawAesKeyring::new("ns", "k", &[1u8; 32]).unwrap();
        let plaintext: Vec<u8> = (0..3 * MIN_PARALLEL_BYTES + 123)
            .map(|i| (i % 253) as u8)
            .collect();
        let one = Client::builder()
            .threads(1)
            .frame_length(4096)
            .unwrap()
            .build();
        let many = Client::builder()
            .threads(4)
            .frame_length(4096)
            .unwrap()
            .build();
        for (enc, dec) in [(&one, &many), (&many, &one), (&many, &many)] {
            let message = block_on(enc.encrypt(&keyring, &plaintext, &Default::default())).unwrap();
            assert_eq!(
                block_on(dec.decrypt(&keyring, &message)).unwrap().plaintext,
                plaintext
            );
            let mut tampered = message.clone();
            let at = tampered.len() / 2;
            tampered[at] ^= 0x10;
            assert!(block_on(dec.decrypt(&keyring, &tampered)).is_err());
        }
    }
}
