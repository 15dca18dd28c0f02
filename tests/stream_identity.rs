//! The streaming encrypt paths (sans-I/O `Encryptor`, `std::io` writer, `tokio` writer) write
//! byte-for-byte the message that one-shot encrypt writes, for the same materials and message
//! id, whatever the chunking of the input: 1 byte, 7 bytes, frame - 1, frame, frame + 1, and
//! random sizes. Signed messages match up to the footer (ECDSA signatures are randomized); both
//! footers must verify.
//!
//! Materials and message id are fixed with a replaying materials manager and
//! `esdk::hazmat::fixed_message_id` (feature `hazmat`).

#![cfg(feature = "hazmat")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::Arc;

use common::{aes_keyring, plaintext, policy_for, suite};
use esdk::blocking::block_on;
use esdk::keyring::MaterialsFuture;
use esdk::materials::{
    DecryptionMaterials, DecryptionRequest, EncryptionMaterials, EncryptionRequest,
};
use esdk::stream::io::EncryptingWriter;
use esdk::stream::Encryptor;
use esdk::suite::AlgorithmSuite;
use esdk::{Client, DefaultMaterialsManager, EncryptionContext, MaterialsManager};

/// Hands out the same encryption materials every time (data key, EDKs, signing key).
#[derive(Debug)]
struct Replay(EncryptionMaterials);

impl MaterialsManager for Replay {
    fn encryption_materials<'a>(
        &'a self,
        _request: EncryptionRequest,
    ) -> MaterialsFuture<'a, esdk::Result<EncryptionMaterials>> {
        let materials = self.0.clone();
        MaterialsFuture::new(async move { Ok(materials) })
    }

    fn decryption_materials<'a>(
        &'a self,
        _request: DecryptionRequest,
    ) -> MaterialsFuture<'a, esdk::Result<DecryptionMaterials>> {
        MaterialsFuture::new(async { Err(esdk::Error::ApiMisuse("the replay CMM only encrypts")) })
    }
}

fn context() -> EncryptionContext {
    common::ctx(&[("purpose", "stream identity"), ("tenant", "acme")])
}

fn replay(s: &'static AlgorithmSuite) -> Replay {
    let cmm = DefaultMaterialsManager::new(Arc::new(aes_keyring()));
    let mut request = EncryptionRequest::new(context(), policy_for(s));
    request.suite = Some(s);
    Replay(block_on(cmm.encryption_materials(request)).unwrap())
}

fn fixed_client(s: &'static AlgorithmSuite, frame: u32, threads: usize) -> Client {
    let builder = Client::builder()
        .commitment_policy(policy_for(s))
        .suite(s)
        .frame_length(frame)
        .threads(threads)
        // 2 MiB messages take the parallel path.
        .min_parallel_bytes(1 << 20);
    esdk::hazmat::dangerous_fixed_message_id(builder, vec![0xa5; s.message_id_len()])
        .build()
        .unwrap()
}

/// Feed sizes: the fixed ones, then a seeded pseudo-random sequence (1 ..= 3 frames).
/// `smallest` drops the fixed sizes below it (1-byte feeds of megabytes are slow unoptimised).
fn chunkings(frame: usize, len: usize, smallest: usize) -> Vec<(String, Vec<usize>)> {
    let mut all: Vec<(String, Vec<usize>)> = [1, 7, frame - 1, frame, frame + 1]
        .into_iter()
        .filter(|&c| c >= smallest.max(1))
        .map(|c| (format!("{c}-byte feeds"), vec![c]))
        .collect();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ len as u64;
    let random: Vec<usize> = (0..64)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            1 + (state % (3 * frame as u64)) as usize
        })
        .collect();
    all.push(("random feeds".to_owned(), random));
    // Long pushes reach the parallel path of the streaming encryptor (a pending partial piece
    // topped up to a frame, then a run sealed on several threads).
    all.push(("one push".to_owned(), vec![len.max(1)]));
    all.push(("7 bytes, then the rest".to_owned(), vec![7, len.max(1)]));
    all
}

/// `data` cut into pieces of the given sizes, cycling through them.
fn pieces<'a>(data: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < data.len() {
        let n = sizes[i % sizes.len()].min(data.len() - at);
        out.push(&data[at..at + n]);
        at += n;
        i += 1;
    }
    out
}

/// Where the footer starts (the message length for unsigned suites), from the layout alone.
fn body_end(message: &[u8], frame: usize, plaintext_len: usize) -> usize {
    let header_len = esdk::parse_header(message).unwrap().len();
    // Every full frame is regular; the final frame holds the rest (empty for a multiple).
    let frames = plaintext_len / frame + 1;
    let final_len = plaintext_len - (frames - 1) * frame;
    header_len + (frames - 1) * (4 + 12 + frame + 16) + (4 + 4 + 12 + 4 + final_len + 16)
}

fn assert_same_message(
    what: &str,
    s: &AlgorithmSuite,
    streamed: &[u8],
    one_shot: &[u8],
    frame: usize,
    plaintext: &[u8],
) {
    let end = body_end(one_shot, frame, plaintext.len());
    if s.is_signing() {
        assert!(
            streamed.len() > end && one_shot.len() > end,
            "{what}: no footer"
        );
        assert!(
            streamed[..end] == one_shot[..end],
            "{what}: header and body differ from one-shot (0x{:04x})",
            s.id
        );
    } else {
        assert_eq!(end, one_shot.len(), "{what}: layout");
        assert!(
            streamed == one_shot,
            "{what}: message differs from one-shot (0x{:04x})",
            s.id
        );
    }
    let client = common::client(suite(s.id), frame as u32);
    let decrypted = esdk::blocking::decrypt(&client, &aes_keyring(), streamed)
        .unwrap_or_else(|e| panic!("{what}: streamed message does not decrypt: {e}"));
    assert!(decrypted.plaintext == plaintext, "{what}: plaintext");
}

fn check(s: &'static AlgorithmSuite, frame: usize, len: usize, threads: usize, smallest: usize) {
    let cmm = replay(s);
    let client = fixed_client(s, frame as u32, threads);
    let data = plaintext(len);
    let one_shot = esdk::blocking::encrypt_with(
        &client,
        esdk::KeySource::MaterialsManager(&cmm),
        &data,
        &esdk::EncryptOptions::from(context()),
    )
    .unwrap();
    for (name, sizes) in chunkings(frame, len, smallest) {
        let feeds = pieces(&data, &sizes);
        let what = format!(
            "0x{:04x}, frame {frame}, {len} bytes, {threads} threads, {name}",
            s.id
        );

        let mut message = Vec::new();
        let mut encryptor = block_on(Encryptor::new(
            &client,
            esdk::KeySource::MaterialsManager(&cmm),
            &esdk::EncryptOptions::from(context()),
            &mut message,
        ))
        .unwrap();
        for piece in &feeds {
            encryptor.push(piece, &mut message).unwrap();
        }
        encryptor.finish(&mut message).unwrap();
        assert_same_message(
            &format!("Encryptor, {what}"),
            s,
            &message,
            &one_shot,
            frame,
            &data,
        );

        let mut writer = EncryptingWriter::new(
            &client,
            esdk::KeySource::MaterialsManager(&cmm),
            &esdk::EncryptOptions::from(context()),
            Vec::new(),
        )
        .unwrap();
        for piece in &feeds {
            writer.write_all(piece).unwrap();
        }
        let message = writer.finish().unwrap();
        assert_same_message(
            &format!("EncryptingWriter, {what}"),
            s,
            &message,
            &one_shot,
            frame,
            &data,
        );

        #[cfg(feature = "tokio")]
        {
            use tokio::io::AsyncWriteExt;
            let message = block_on(async {
                let mut writer = esdk::stream::tokio::AsyncEncryptingWriter::new(
                    &client,
                    esdk::KeySource::MaterialsManager(&cmm),
                    &esdk::EncryptOptions::from(context()),
                    Vec::new(),
                )
                .await
                .unwrap();
                for piece in &feeds {
                    writer.write_all(piece).await.unwrap();
                }
                writer.shutdown().await.unwrap();
                writer.into_inner()
            });
            assert_same_message(
                &format!("AsyncEncryptingWriter, {what}"),
                s,
                &message,
                &one_shot,
                frame,
                &data,
            );
        }
    }
}

#[test]
fn streaming_encrypt_matches_one_shot_for_every_suite_and_chunking() {
    let frame = 64;
    for s in esdk::suite::ALL {
        for len in [0, 1, frame - 1, frame, frame + 1, 3 * frame + 5, 1000] {
            check(s, frame, len, 1, 1);
        }
    }
}

#[test]
fn streaming_encrypt_matches_one_shot_on_the_parallel_path() {
    // Runs of >= 1 MiB of frames are sealed on several threads; the bytes must not change.
    // 1-byte feeds are covered above for every suite; here they would take minutes unoptimised.
    for id in [0x0478, 0x0578, 0x0014] {
        for threads in [1, 2, 3] {
            check(suite(id), 4096, 2 * 1024 * 1024 + 3, threads, 7);
        }
    }
}

#[test]
fn fixed_message_id_of_the_wrong_length_is_refused() {
    let s = suite(0x0478);
    let builder = Client::builder().suite(s);
    let client = esdk::hazmat::dangerous_fixed_message_id(builder, vec![1; 16])
        .build()
        .unwrap();
    let err = esdk::blocking::encrypt(&client, &aes_keyring(), b"x", &context()).unwrap_err();
    assert!(matches!(err, esdk::Error::ApiMisuse(_)), "{err:?}");
}
