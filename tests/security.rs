//! Regression tests for the security and specification fixes of issue 9: each fails on the
//! code before the fix and passes after.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{self, Read, Write};
use std::sync::Arc;

use base64::Engine;
use common::*;
use esdk::blocking::{block_on, decrypt, encrypt};
use esdk::stream::io::{DecryptingReader, EncryptingWriter};
use esdk::stream::{Decryptor, Encryptor, Verification};
use esdk::{
    suite, Client, DecryptOptions, DefaultMaterialsManager, EncryptionContext, Error, FormatError,
    MaterialsManager,
};

/// A reader that hands out at most `step` bytes per call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.data.len()).min(self.step);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// A raw AES keyring, a one-thread client with 100-byte frames, and a message of `len` bytes.
fn message_of(len: usize) -> (esdk::RawAesKeyring, Client, Vec<u8>) {
    let keyring = aes_keyring();
    let client = stream_client(100);
    let message = encrypt(
        &client,
        &keyring,
        &plaintext(len),
        &EncryptionContext::new(),
    )
    .unwrap();
    (keyring, client, message)
}

fn stream_client(frame_length: u32) -> Client {
    Client::builder()
        .suite(&suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY)
        .frame_length(frame_length)
        .threads(1)
        .build()
        .unwrap()
}

/// After a reader's first error, every later read fails with the same kind, and no plaintext
/// is handed out.
fn assert_sticky(reader: &mut impl Read, kind: io::ErrorKind) {
    let mut buf = [0u8; 4096];
    for _ in 0..3 {
        match reader.read(&mut buf) {
            Ok(n) => panic!("read after the error returned Ok({n})"),
            Err(e) => {
                assert_eq!(e.kind(), kind);
                let inner = e.into_inner().unwrap().downcast::<Error>().unwrap();
                assert!(matches!(*inner, Error::StreamFailed(_)), "{inner:?}");
            }
        }
    }
}

// Defect 2: a truncated message read again after its error ended "cleanly" with Ok(0).
#[test]
fn reader_errors_are_sticky_after_truncation() {
    let (keyring, client, message) = message_of(1000);
    let cut = &message[..message.len() - 5];
    let mut r =
        DecryptingReader::new(&client, &keyring, &esdk::DecryptOptions::new(), cut).unwrap();
    let err = r.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    assert_sticky(&mut r, io::ErrorKind::UnexpectedEof);
    assert_eq!(r.verification(), Verification::Nothing);
}

// Defect 2: frames that verified earlier in the read that then failed were handed out after
// the error. Here one read takes the whole message: frames 1-9 verify, frame 10 does not.
#[test]
fn reader_hands_out_nothing_after_a_failed_read() {
    let keyring = aes_keyring();
    let client = stream_client(100);
    let mut message = encrypt(
        &client,
        &keyring,
        &plaintext(20_000),
        &EncryptionContext::new(),
    )
    .unwrap();
    let last = message.len() - 1;
    message[last] ^= 1;
    for step in [usize::MAX, 7] {
        let mut r = DecryptingReader::new(
            &client,
            &keyring,
            &esdk::DecryptOptions::new(),
            Trickle {
                data: &message,
                step,
            },
        )
        .unwrap();
        let mut buf = [0u8; 10];
        let mut got = Vec::new();
        let err = loop {
            match r.read(&mut buf) {
                Ok(0) => panic!("a tampered message ended cleanly"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(got, plaintext(20_000)[..got.len()]);
        if step == 7 {
            // Every regular frame verified in a push of its own and was read before the push
            // holding the (empty) final frame failed: exactly the 200 regular frames.
            assert_eq!(got.len(), 20_000);
        } else {
            // The reads that came whole: the constructor's 4096 bytes, then the reader's buffer
            // of 4096, doubled to 8192 as each read filled it (16,384 bytes in all); every
            // frame inside them was released. The failing read (the remaining 10 KiB, with the
            // tampered final frame) released nothing.
            let header_len = esdk::parse_header(&message).unwrap().len();
            assert!(message.len() > 16_384 && message.len() < 32_768);
            assert_eq!(got.len(), (16_384 - header_len) / 132 * 100);
        }
        assert_sticky(&mut r, io::ErrorKind::InvalidData);
    }
}

/// A writer that fails its `fail_at`-th write (counting from 1) and accepts everything else.
struct FailOnce {
    writes: usize,
    fail_at: usize,
    data: Vec<u8>,
}

impl Write for FailOnce {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes += 1;
        if self.writes == self.fail_at {
            return Err(io::Error::other("disk full"));
        }
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn writer_errors_are_sticky() {
    let keyring = aes_keyring();
    let client = stream_client(10);
    let inner = FailOnce {
        writes: 0,
        fail_at: 2,
        data: Vec::new(),
    };
    let mut w =
        EncryptingWriter::new(&client, &keyring, &esdk::EncryptOptions::new(), inner).unwrap();
    // The header was the first write; the first frames are the second: it fails.
    let err = w.write(&[1u8; 100]).unwrap_err();
    assert_eq!(err.to_string(), "disk full");
    // The inner writer would accept more now, but the message already has a hole.
    for _ in 0..3 {
        let e = w.write(&[1u8; 100]).unwrap_err();
        assert!(e.to_string().contains("already failed"), "{e}");
    }
    assert!(w.flush().is_err());
    assert!(matches!(w.finish(), Err(Error::StreamFailed(m)) if m.contains("disk full")));
}

// Defect 4: every encrypt path refuses context keys beginning with `aws-crypto-`.
#[test]
fn reserved_context_prefix_is_refused_on_every_path() {
    let keyring = Arc::new(aes_keyring());
    let cmm = DefaultMaterialsManager::new(keyring.clone());
    let client = Client::default();
    let refused = |r: esdk::Result<()>, path: &str, key: &str| match r {
        Err(Error::InvalidContext(why)) => assert!(why.contains("aws-crypto-"), "{why}"),
        other => panic!("{path} with key {key:?}: {other:?}"),
    };
    for key in [
        "aws-crypto-",
        "aws-crypto-public-key",
        "aws-crypto-anything",
    ] {
        let context = ctx(&[("tenant", "a"), (key, "x")]);
        refused(
            encrypt(&client, keyring.as_ref(), b"pt", &context).map(drop),
            "one-shot",
            key,
        );
        refused(
            esdk::blocking::encrypt_with(
                &client,
                esdk::KeySource::MaterialsManager(&cmm),
                b"pt",
                &esdk::EncryptOptions::from(context.clone()),
            )
            .map(drop),
            "one-shot with a CMM",
            key,
        );
        refused(
            block_on(Encryptor::new(
                &client,
                keyring.as_ref(),
                &esdk::EncryptOptions::from(context.clone()),
                &mut Vec::new(),
            ))
            .map(drop),
            "Encryptor",
            key,
        );
        refused(
            block_on(Encryptor::new(
                &client,
                esdk::KeySource::MaterialsManager(&cmm),
                &esdk::EncryptOptions::from(context.clone()),
                &mut Vec::new(),
            ))
            .map(drop),
            "Encryptor with a CMM",
            key,
        );
        refused(
            EncryptingWriter::new(
                &client,
                keyring.as_ref(),
                &esdk::EncryptOptions::from(context.clone()),
                Vec::new(),
            )
            .map(drop),
            "EncryptingWriter",
            key,
        );
        refused(
            EncryptingWriter::new(
                &client,
                esdk::KeySource::MaterialsManager(&cmm),
                &esdk::EncryptOptions::from(context.clone()),
                Vec::new(),
            )
            .map(drop),
            "EncryptingWriter with a CMM",
            key,
        );
        #[cfg(feature = "hazmat")]
        refused(
            block_on(esdk::hazmat::encrypt_non_framed_legacy(
                &client,
                keyring.as_ref(),
                b"pt",
                &esdk::EncryptOptions::from(context.clone()),
            ))
            .map(drop),
            "non-framed",
            key,
        );
        // A materials manager called directly still refuses the public-key entry itself.
        let request =
            esdk::materials::EncryptionRequest::new(context.clone(), client.commitment_policy());
        let direct = block_on(cmm.encryption_materials(request));
        if key == esdk::cmm::PUBLIC_KEY_CONTEXT_KEY {
            assert!(direct.is_err());
        }
    }
    // Keys that only contain the prefix elsewhere are fine.
    for key in ["aws-cryptox", "my-aws-crypto-key", "AWS-CRYPTO-upper"] {
        let context = ctx(&[(key, "x")]);
        let m = encrypt(&client, keyring.as_ref(), b"pt", &context).unwrap();
        assert_eq!(
            decrypt(&client, keyring.as_ref(), &m).unwrap().plaintext,
            b"pt"
        );
    }
}

// Defect 7: a stream refuses, before buffering anything, a frame longer than its limit.
#[test]
fn streams_refuse_frames_above_the_limit_one_shot_accepts_them() {
    let keyring = aes_keyring();
    let big = 17 << 20;
    let client = stream_client(big);
    let message = encrypt(
        &client,
        &keyring,
        &plaintext(1000),
        &EncryptionContext::new(),
    )
    .unwrap();
    // One-shot holds the whole message anyway.
    assert_eq!(
        decrypt(&client, &keyring, &message).unwrap().plaintext,
        plaintext(1000)
    );
    let err = DecryptingReader::new(
        &client,
        &keyring,
        &esdk::DecryptOptions::new(),
        message.as_slice(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::LimitExceeded(m) if m.contains("max_stream_frame_length")),
        "{err:?}"
    );
    // The header alone is enough: the limit is checked before any keyring is called.
    let counting = Counting(aes_keyring(), std::sync::atomic::AtomicUsize::new(0));
    let err = DecryptingReader::new(
        &client,
        &counting,
        &DecryptOptions::new(),
        message.as_slice(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::LimitExceeded(_)), "{err:?}");
    assert_eq!(counting.calls(), 0, "the keyring was called");
    let mut d = Decryptor::new(&client);
    let err = d.push(&message, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, Error::LimitExceeded(_)), "{err:?}");
    // Raised, it streams.
    let raised = Client::builder()
        .max_stream_frame_length(big)
        .build()
        .unwrap();
    let mut r = DecryptingReader::new(
        &raised,
        &keyring,
        &esdk::DecryptOptions::new(),
        message.as_slice(),
    )
    .unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    assert_eq!(out, plaintext(1000));
    assert_eq!(esdk::DEFAULT_MAX_STREAM_FRAME_LENGTH, 16 << 20);
}

#[cfg(feature = "hazmat")]
#[test]
fn streams_refuse_non_framed_bodies_above_the_limit() {
    let keyring = aes_keyring();
    let client = Client::builder()
        .max_stream_non_framed_length(1000)
        .build()
        .unwrap();
    for (len, ok) in [(1000, true), (1001, false)] {
        let message = block_on(esdk::hazmat::encrypt_non_framed_legacy(
            &client,
            &keyring,
            &plaintext(len),
            &esdk::EncryptOptions::new(),
        ))
        .unwrap();
        assert_eq!(
            decrypt(&client, &keyring, &message).unwrap().plaintext,
            plaintext(len)
        );
        // The limit is known from the body's length field, before the body is buffered.
        let read = DecryptingReader::new(
            &client,
            &keyring,
            &esdk::DecryptOptions::new(),
            message.as_slice(),
        )
        .and_then(|mut r| {
            let mut out = Vec::new();
            r.read_to_end(&mut out)?;
            Ok(out)
        });
        match read {
            Ok(out) if ok => assert_eq!(out, plaintext(len)),
            Err(Error::LimitExceeded(m)) if !ok => {
                assert!(m.contains("max_stream_non_framed_length"), "{m}")
            }
            other => panic!("{len}: {other:?}"),
        }
    }
}

// Defect 11: a message that was base64-encoded by mistake gets its own error.
#[test]
fn base64_encoded_messages_are_recognised() {
    let keyring = aes_keyring();
    for suite_id in [0x0578u16, 0x0478, 0x0378, 0x0014] {
        let client = client(suite(suite_id), 4096);
        let message = encrypt(&client, &keyring, b"pt", &EncryptionContext::new()).unwrap();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&message);
        let expected = if suite_id >= 0x0478 { "Ag" } else { "AY" };
        assert!(encoded.starts_with(expected), "{encoded}");
        let err = decrypt(&client, &keyring, encoded.as_bytes()).unwrap_err();
        assert!(
            matches!(err, Error::Malformed(FormatError::Base64Encoded)),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "malformed message: input looks base64-encoded; decode it first"
        );
        assert!(matches!(
            esdk::parse_header(encoded.as_bytes()),
            Err(Error::Malformed(FormatError::Base64Encoded))
        ));
        // Streamed one byte at a time: the first byte alone does not decide, the second does.
        let mut d = Decryptor::new(&client);
        assert_eq!(
            d.push(&encoded.as_bytes()[..1], &mut Vec::new()).unwrap(),
            1
        );
        assert!(matches!(
            d.push(&encoded.as_bytes()[1..2], &mut Vec::new()),
            Err(Error::Malformed(FormatError::Base64Encoded))
        ));
    }
    // Other garbage is still just an invalid version.
    let client = Client::default();
    for garbage in [&b"Ax"[..], b"xyz", b"\x03\x00"] {
        assert!(matches!(
            decrypt(&client, &keyring, garbage),
            Err(Error::Malformed(FormatError::Invalid("header.version")))
        ));
    }
}

/// A keyring that counts its decrypt calls.
#[derive(Debug)]
struct Counting(esdk::RawAesKeyring, std::sync::atomic::AtomicUsize);

impl Counting {
    fn calls(&self) -> usize {
        self.1.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl esdk::Keyring for Counting {
    fn on_encrypt<'a>(
        &'a self,
        materials: esdk::materials::EncryptionMaterials,
    ) -> esdk::keyring::MaterialsFuture<'a, esdk::Result<esdk::materials::EncryptionMaterials>>
    {
        self.0.on_encrypt(materials)
    }

    fn on_decrypt<'a>(
        &'a self,
        materials: esdk::materials::DecryptionMaterials,
        encrypted_data_keys: &'a [esdk::materials::EncryptedDataKey],
    ) -> esdk::keyring::MaterialsFuture<'a, esdk::Result<esdk::materials::DecryptionMaterials>>
    {
        self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.0.on_decrypt(materials, encrypted_data_keys)
    }
}

/// A reader whose first read is interrupted.
struct InterruptedOnce<'a>(bool, &'a [u8]);

impl Read for InterruptedOnce<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.0 {
            self.0 = true;
            return Err(io::ErrorKind::Interrupted.into());
        }
        self.1.read(buf)
    }
}

// An `Interrupted` read is retried, in the constructor and in `read`: it is not an error of
// the stream.
#[test]
fn interrupted_reads_are_retried() {
    let (keyring, client, message) = message_of(1000);
    let mut r = DecryptingReader::new(
        &client,
        &keyring,
        &DecryptOptions::new(),
        InterruptedOnce(false, &message),
    )
    .unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    assert_eq!(out, plaintext(1000));
}

// Misuse fails the stream too: `authenticate` before the header is complete.
#[test]
fn authenticate_too_early_fails_the_decryptor() {
    let keyring = aes_keyring();
    let client = stream_client(100);
    let message = encrypt(
        &client,
        &keyring,
        &plaintext(100),
        &EncryptionContext::new(),
    )
    .unwrap();
    let mut d = Decryptor::new(&client);
    d.push(&message[..10], &mut Vec::new()).unwrap();
    let err = block_on(d.authenticate(&keyring, &DecryptOptions::new())).unwrap_err();
    assert!(matches!(err, Error::ApiMisuse(_)), "{err:?}");
    assert!(matches!(
        d.push(&message[10..], &mut Vec::new()),
        Err(Error::StreamFailed(_))
    ));
}
