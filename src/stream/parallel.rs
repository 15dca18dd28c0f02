//! Sealing and opening runs of regular frames on several threads.
//!
//! Frames are independent: each is a pure function of (key, sequence number, plaintext), so a
//! run of frames is split into contiguous groups, one per thread, each writing into its own
//! disjoint part of the output. The bytes are identical to the sequential path's.
//!
//! Streams gather at most one frame, whatever the number of threads: only a single write or
//! push of a long run is spread over threads. Streams used to gather 1 MiB per thread and
//! spread each batch; measured on two cores (`cargo bench --bench steady -- 64MiB stream`), a
//! 64 MiB stream in 64 KiB writes or reads took 13.7 ms to encrypt and 23.6 ms to decrypt that
//! way against 6.4 ms and 10.3 ms on the caller's thread alone: batches of megabytes leave the
//! caches and cross cores between the copies in and out of the stream and the AES work.

use std::sync::Mutex;

use crate::crypto::aead::Aead;
use crate::crypto::signature::MessageHasher;
use crate::format::body::{self, RawFrame, FRAME_STRING};

/// Runs shorter than this stay on the caller's thread by default
/// (`ClientBuilder::min_parallel_bytes`, which gives the measurements).
pub(crate) const DEFAULT_MIN_PARALLEL_BYTES: usize = 8 << 20;

/// Sealed bytes handed to the hashing thread at a time when hashing and sealing are pipelined.
const PIPELINE_BLOCK_BYTES: usize = 1 << 20;

/// Whether a run of `frames` frames of `frame_len` bytes is worth spreading over `threads`:
/// at least two frames and `min_bytes` of plaintext.
pub(crate) fn worth_it(frames: usize, frame_len: usize, threads: usize, min_bytes: usize) -> bool {
    threads > 1 && frames >= 2 && frames.saturating_mul(frame_len) >= min_bytes
}

/// Runs `work` over `groups` items split into `threads` contiguous groups, one on the calling
/// thread and the rest on scoped threads; returns the first error. When the system refuses a
/// thread, its group runs on the calling thread instead (never a panic).
fn run_groups<T: Send>(
    groups: Vec<T>,
    work: impl Fn(T) -> crate::Result<()> + Sync,
) -> crate::Result<()> {
    let work = &work;
    let slots: Vec<Mutex<Option<T>>> = groups.into_iter().map(|g| Mutex::new(Some(g))).collect();
    let slots = &slots;
    // Takes group `i` out of its slot and works on it (each group is taken once).
    let run = move |i: usize| -> crate::Result<()> {
        let group = slots
            .get(i)
            .and_then(|slot| slot.lock().ok())
            .and_then(|mut slot| slot.take());
        group.map_or(Ok(()), work)
    };
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        let mut here = vec![0];
        for i in 1..slots.len() {
            match std::thread::Builder::new().spawn_scoped(scope, move || run(i)) {
                Ok(handle) => handles.push(handle),
                Err(_) => here.push(i),
            }
        }
        let mut result = Ok(());
        for i in here {
            let r = run(i);
            if result.is_ok() {
                result = r;
            }
        }
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

/// Runs `side` on a scoped thread while `main` runs on this one, and returns `main`'s result;
/// when the system refuses a thread, `side` runs here first.
pub(crate) fn beside<R>(
    side: impl FnOnce() + Send,
    main: impl FnOnce() -> crate::Result<R>,
) -> crate::Result<R> {
    let side = Mutex::new(Some(side));
    let take = || side.lock().ok().and_then(|mut s| s.take());
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new().spawn_scoped(scope, || {
            if let Some(f) = take() {
                f();
            }
        });
        if spawned.is_err() {
            if let Some(f) = take() {
                f();
            }
        }
        let res = main();
        match spawned {
            Ok(handle) => handle
                .join()
                .map_err(|_| crate::Error::Internal("a helper thread panicked"))
                .and(res),
            Err(_) => res,
        }
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

/// Frames per block when hashing and sealing are pipelined: about 256 KiB when one thread
/// seals (so little sealing is left outside the overlap), about 1 MiB when several do (each
/// block spawns the extra sealers).
fn block_frames(frame_len: usize, sealers: usize) -> usize {
    let bytes = if sealers > 1 {
        PIPELINE_BLOCK_BYTES
    } else {
        PIPELINE_BLOCK_BYTES / 4
    };
    (bytes / frame_len.max(1)).max(1)
}

/// As [`seal_regular_frames`], and feeds the sealed bytes to `hasher` (signed suites). With
/// two or more threads one thread hashes while the others seal: each block, once sealed, is
/// handed to the hashing thread, so the hash, the sequential part, overlaps AES.
#[allow(clippy::too_many_arguments)] // the frame-sealing inputs plus the hasher; a struct would only rename them
pub(crate) fn seal_and_hash(
    aead: &Aead,
    message_id: &[u8],
    first_sequence: u32,
    plaintext: &[u8],
    frame_len: usize,
    out: &mut [u8],
    threads: usize,
    hasher: Option<&mut MessageHasher>,
) -> crate::Result<()> {
    let Some(hasher) = hasher else {
        return seal_regular_frames(
            aead,
            message_id,
            first_sequence,
            plaintext,
            frame_len,
            out,
            threads,
        );
    };
    // Seals everything, then hashes it: on one thread, or when no thread can be had.
    let seal_then_hash = |hasher: &mut MessageHasher, out: &mut [u8], sealers: usize| {
        seal_regular_frames(
            aead,
            message_id,
            first_sequence,
            plaintext,
            frame_len,
            out,
            sealers,
        )?;
        hasher.update(out);
        Ok(())
    };
    if threads < 2 {
        return seal_then_hash(hasher, out, 1);
    }
    let sealers = threads - 1;
    let per_block = block_frames(frame_len, sealers);
    let frame_size = body::regular_frame_size(frame_len);
    let (sealed, to_hash) = std::sync::mpsc::channel::<&[u8]>();
    let hashing = Mutex::new(Some((hasher, to_hash)));
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new().spawn_scoped(scope, || {
            if let Some((hasher, to_hash)) = hashing.lock().ok().and_then(|mut h| h.take()) {
                for block in to_hash {
                    hasher.update(block);
                }
            }
        });
        let Ok(spawned) = spawned else {
            // No thread for the hash: seal, then hash, here.
            drop(sealed);
            let (hasher, _) = hashing
                .lock()
                .ok()
                .and_then(|mut h| h.take())
                .ok_or(crate::Error::Internal("the hasher was taken"))?;
            return seal_then_hash(hasher, out, sealers);
        };
        let mut result = Ok(());
        for (i, (pt, o)) in plaintext
            .chunks(per_block * frame_len)
            .zip(out.chunks_mut(per_block * frame_size))
            .enumerate()
        {
            let first = u32::try_from(i * per_block)
                .ok()
                .and_then(|n| first_sequence.checked_add(n))
                .ok_or(crate::Error::LimitExceeded("more than 2^32 - 1 frames"));
            result = first.and_then(|first| {
                seal_regular_frames(aead, message_id, first, pt, frame_len, o, sealers)
            });
            if result.is_err() {
                break;
            }
            let o: &[u8] = o;
            if sealed.send(o).is_err() {
                result = Err(crate::Error::Internal("the hashing thread stopped"));
                break;
            }
        }
        drop(sealed);
        spawned
            .join()
            .map_err(|_| crate::Error::Internal("the hashing thread panicked"))?;
        result
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
        let mut sequential: Vec<u8> = Vec::new();
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
    fn pipelined_hashing_hashes_exactly_the_sealed_bytes() {
        let aead = Aead::new(&[9u8; 32]).unwrap();
        let id = [4u8; 32];
        let frame_len = 4096;
        let plaintext: Vec<u8> = (0..frame_len * 700).map(|i| (i % 249) as u8).collect();
        let alg = crate::suite::SignatureAlgorithm::EcdsaP384Sha384;
        let key = crate::materials::SigningKey::generate(alg).unwrap();
        let public =
            crate::materials::VerificationKey::from_base64(alg, &key.public_key_base64()).unwrap();
        for threads in [1, 2, 3] {
            let mut out = vec![0u8; 700 * body::regular_frame_size(frame_len)];
            let mut hasher = MessageHasher::new(alg);
            seal_and_hash(
                &aead,
                &id,
                1,
                &plaintext,
                frame_len,
                &mut out,
                threads,
                Some(&mut hasher),
            )
            .unwrap();
            let mut expected = vec![0u8; out.len()];
            seal_regular_frames(&aead, &id, 1, &plaintext, frame_len, &mut expected, 1).unwrap();
            assert_eq!(out, expected);
            // The hash covers exactly those bytes: a signature over it verifies against them.
            let signature = key.sign(hasher).unwrap();
            let mut check = MessageHasher::new(alg);
            check.update(&expected);
            public.verify(check, &signature).unwrap();
        }
    }

    #[test]
    fn large_messages_cross_decrypt_between_thread_counts() {
        let keyring = RawAesKeyring::new("ns", "k", &[1u8; 32]).unwrap();
        let plaintext: Vec<u8> = (0..3 * PIPELINE_BLOCK_BYTES + 123)
            .map(|i| (i % 253) as u8)
            .collect();
        let suites = [
            &crate::suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
            &crate::suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
        ];
        for suite in suites {
            let build = |t| {
                Client::builder()
                    .suite(suite)
                    .threads(t)
                    .min_parallel_bytes(1 << 20)
                    .frame_length(4096)
                    .build()
                    .unwrap()
            };
            let (one, many) = (build(1), build(4));
            for (enc, dec) in [(&one, &many), (&many, &one), (&many, &many)] {
                let message =
                    block_on(enc.encrypt(&keyring, &plaintext, &Default::default())).unwrap();
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
}
