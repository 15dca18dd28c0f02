//! The public API around encrypt and decrypt: `parse_header`, error `Display` strings, thread
//! safety of the blocking API, the async API driven by `blocking::block_on` (including a
//! keyring that really waits), the streaming adapters, and client settings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::future::Future;
use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::*;
use esdk::blocking::{block_on, decrypt, encrypt};
use esdk::cmm::RequiredEncryptionContextMaterialsManager;
use esdk::header::ContentType;
use esdk::keyring::MaterialsFuture;
use esdk::materials::{DecryptionMaterials, EncryptedDataKey, EncryptionMaterials};
use esdk::suite::AlgorithmSuite;
use esdk::{
    suite, Client, CommitmentPolicy, DefaultMaterialsManager, EncryptionContext, Error,
    FormatError, Keyring, MultiKeyring, RawAesKeyring, RawRsaKeyring, RsaPadding,
};

#[test]
fn parse_header_shows_the_message_without_a_key() {
    let aes: Arc<dyn Keyring> = Arc::new(aes_keyring());
    let rsa: Arc<dyn Keyring> = Arc::new(rsa_public_keyring(RsaPadding::OaepSha256));
    let multi = MultiKeyring::new(Some(aes), vec![rsa]).unwrap();
    let context = ctx(&[("tenant", "acme"), ("purpose", "parse")]);
    for &suite in suite::ALL {
        let client = client(suite, 100);
        let message = encrypt(&client, &multi, &plaintext(250), &context).unwrap();
        let parsed = esdk::parse_header(&message).unwrap();
        assert!(!parsed.is_empty());
        let h = parsed.unauthenticated();
        assert_eq!(h.suite().id, suite.id);
        assert_eq!(h.version(), suite.message_format);
        assert_eq!(
            h.content_type(),
            ContentType::Framed {
                frame_length: 100.try_into().unwrap()
            }
        );
        check_stored_context(suite, h.encryption_context(), &context);
        let edks = h.encrypted_data_keys();
        assert_eq!(edks.len(), 2);
        assert_eq!(edks[0].provider_id, "esdk-tests");
        assert!(edks[0].provider_info.starts_with(b"aes-256"));
        assert_eq!(edks[1].provider_id, "rsa-ns");
        assert_eq!(edks[1].provider_info, b"rsa-key");
        assert_eq!(parsed.len(), expected_header_len(h));

        // The header alone parses; any shorter prefix does not.
        let alone = esdk::parse_header(&message[..parsed.len()]).unwrap();
        assert_eq!(alone.len(), parsed.len());
        assert_eq!(alone.unauthenticated().message_id(), h.message_id());
        for cut in 0..parsed.len() {
            assert!(
                matches!(
                    esdk::parse_header(&message[..cut]),
                    Err(Error::Malformed(FormatError::Truncated(_)))
                ),
                "0x{:04x} header cut at {cut}",
                suite.id
            );
        }

        // The same fields as the authenticated header decrypt returns.
        let rsa_private = rsa_private_keyring(RsaPadding::OaepSha256);
        let decrypted = decrypt(&client, &rsa_private, &message).unwrap();
        assert_eq!(decrypted.header.message_id(), h.message_id());
        assert_eq!(decrypted.header.encrypted_data_keys(), edks);
        assert_eq!(
            decrypted.header.encryption_context(),
            h.encryption_context()
        );
    }
}

#[test]
fn parse_header_rejects_garbage() {
    assert!(matches!(
        esdk::parse_header(&[]),
        Err(Error::Malformed(FormatError::Truncated(_)))
    ));
    assert!(matches!(
        esdk::parse_header(&[0xff; 200]),
        Err(Error::Malformed(FormatError::Invalid(_)))
    ));
    assert!(matches!(
        esdk::parse_header(b"this is not an encrypted message at all, just text"),
        Err(Error::Malformed(_))
    ));
    // Right version byte, unknown suite.
    assert!(matches!(
        esdk::parse_header(&[0x02, 0x12, 0x34, 0, 0, 0]),
        Err(Error::UnknownSuite(0x1234))
    ));
    // v1 header with a bad type byte.
    assert!(matches!(
        esdk::parse_header(&[0x01, 0x81, 0x01, 0x78]),
        Err(Error::Malformed(FormatError::Invalid(_)))
    ));
    // Pseudo-random inputs never panic and never parse.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for len in [1usize, 2, 5, 50, 300, 2000] {
        for _ in 0..50 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            assert!(esdk::parse_header(&bytes).is_err());
            assert!(decrypt(&Client::default(), &aes_keyring(), &bytes).is_err());
        }
    }
}

#[test]
fn parse_header_rejects_malformed_fields() {
    let client = client(suite(0x0478), 64);
    let message = encrypt(
        &client,
        &aes_keyring(),
        b"fields",
        &EncryptionContext::new(),
    )
    .unwrap();
    // v2: version(1) suite(2) message id(32) aad length(2) [empty context] edk count(2).
    let edk_count = 1 + 2 + 32 + 2;
    let mut zero_edks = message.clone();
    zero_edks[edk_count..edk_count + 2].copy_from_slice(&[0, 0]);
    assert!(matches!(
        esdk::parse_header(&zero_edks),
        Err(Error::Malformed(FormatError::Invalid(_)))
    ));
    // A context length that runs past the end of the header.
    let mut long_aad = message.clone();
    long_aad[35..37].copy_from_slice(&[0xff, 0xff]);
    assert!(esdk::parse_header(&long_aad).is_err());
    // A non-framed content type with a non-zero frame length.
    let h = esdk::parse_header(&message).unwrap();
    let content_type = h.len() - 16 - 32 - 4 - 1;
    assert_eq!(message[content_type], 0x02);
    let mut wrong_type = message.clone();
    wrong_type[content_type] = 0x01;
    assert!(matches!(
        esdk::parse_header(&wrong_type),
        Err(Error::Malformed(FormatError::Invalid(_)))
    ));
    wrong_type[content_type] = 0x03;
    assert!(matches!(
        esdk::parse_header(&wrong_type),
        Err(Error::Malformed(FormatError::Invalid(_)))
    ));
}

#[test]
fn error_display() {
    assert_eq!(
        Error::HeaderAuthentication.to_string(),
        "header authentication tag mismatch"
    );
    assert_eq!(
        Error::CommitmentMismatch.to_string(),
        "key commitment mismatch: the data key does not commit to this message"
    );
    assert_eq!(
        Error::BadSignature.to_string(),
        "message signature does not verify"
    );
    assert_eq!(
        Error::UnknownSuite(0x0015).to_string(),
        "unknown algorithm suite 0x0015"
    );
    assert_eq!(
        Error::from(FormatError::TrailingBytes).to_string(),
        "malformed message: trailing bytes after the end of the message"
    );

    // Errors from real calls.
    let keyring = aes_keyring();
    let legacy = client(suite(0x0178), 64);
    let message = encrypt(&legacy, &keyring, b"x", &EncryptionContext::new()).unwrap();
    let refused = decrypt(&Client::default(), &keyring, &message).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "commitment policy RequireEncryptRequireDecrypt does not allow algorithm suite 0x0178 on decrypt"
    );
    let signed = encrypt(
        &Client::default(),
        &keyring,
        b"x",
        &EncryptionContext::new(),
    )
    .unwrap();
    let unsigned_only = Client::builder().unsigned_only(true).build().unwrap();
    assert_eq!(
        decrypt(&unsigned_only, &keyring, &signed)
            .unwrap_err()
            .to_string(),
        "algorithm suite 0x0578 is signed, but only unsigned suites are allowed"
    );
    let limited = Client::builder()
        .max_encrypted_data_keys(0)
        .build()
        .unwrap();
    assert_eq!(
        decrypt(&limited, &keyring, &signed)
            .unwrap_err()
            .to_string(),
        "the message has more than 0 encrypted data keys"
    );
    let wrong = RawAesKeyring::new("other-ns", "other-key", &[1u8; 32]).unwrap();
    let err = decrypt(&Client::default(), &wrong, &signed).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no keyring could decrypt a data key of this message (1 attempt(s))"
    );
    // The attempts are the source, each with the key it tried and its own error.
    let attempts = std::error::Error::source(&err).unwrap().to_string();
    assert_eq!(
        attempts,
        "other-ns/other-key: no encrypted data key for this keyring: raw AES keyring"
    );
    let Error::NoKeyringDecrypted { attempts, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(attempts[0].provider_id, "other-ns");
    assert_eq!(attempts[0].key_name, "other-key");
    assert!(matches!(
        &attempts[0].error,
        Error::Keyring(k) if k.kind() == esdk::error::KeyringErrorKind::NoMatchingKey
    ));
    let truncated = decrypt(&Client::default(), &keyring, &signed[..10]).unwrap_err();
    assert!(
        truncated
            .to_string()
            .starts_with("malformed message: input ends inside "),
        "{truncated}"
    );
    // The format error is the source of a malformed-message error.
    let source = std::error::Error::source(&truncated).unwrap();
    assert!(source.downcast_ref::<FormatError>().is_some());
}

fn assert_send_sync<T: Send + Sync + 'static>() {}

#[test]
fn public_types_are_send_and_sync() {
    assert_send_sync::<Client>();
    assert_send_sync::<RawAesKeyring>();
    assert_send_sync::<RawRsaKeyring>();
    assert_send_sync::<esdk::keyring::RawRsaKeyringBuilder>();
    assert_send_sync::<MultiKeyring>();
    assert_send_sync::<DefaultMaterialsManager>();
    assert_send_sync::<RequiredEncryptionContextMaterialsManager>();
    assert_send_sync::<Error>();
    assert_send_sync::<esdk::Decrypted>();
    assert_send_sync::<esdk::stream::Encryptor>();
    assert_send_sync::<esdk::stream::Decryptor>();
    // Errors fit the usual boxed error type.
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Error::BadSignature);
    assert_eq!(boxed.to_string(), "message signature does not verify");
}

#[test]
fn blocking_api_from_several_threads() {
    let keyring = aes_keyring();
    let client = Client::default();
    let shared_message = encrypt(&client, &keyring, b"shared", &EncryptionContext::new()).unwrap();
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (client, keyring, shared) = (&client, &keyring, &shared_message);
                scope.spawn(move || {
                    let mut done = 0;
                    for i in 0..20 {
                        let pt = plaintext(t * 1000 + i * 37);
                        let context = ctx(&[("thread", &t.to_string())]);
                        let message = encrypt(client, keyring, &pt, &context).unwrap();
                        let got = esdk::blocking::decrypt_with(
                            client,
                            keyring,
                            &message,
                            &esdk::DecryptOptions::new().reproduced_context(context.clone()),
                        )
                        .unwrap();
                        assert_eq!(got.plaintext, pt);
                        assert_eq!(
                            decrypt(client, keyring, shared).unwrap().plaintext,
                            b"shared"
                        );
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(results, vec![20; 4]);
}

#[test]
fn async_api_through_block_on() {
    let keyring = aes_keyring();
    let context = ctx(&[("async", "yes")]);
    for &suite in suite::ALL {
        let client = client(suite, 32);
        let pt = plaintext(100);
        let decrypted = block_on(async {
            let message = client.encrypt(&keyring, &pt, &context).await?;
            let expected = ctx(&[("async", "yes")]);
            client
                .decrypt_with(
                    &keyring,
                    &message,
                    &esdk::DecryptOptions::new().reproduced_context(expected.clone()),
                )
                .await
        })
        .unwrap();
        assert_eq!(decrypted.plaintext, pt);
        assert_eq!(decrypted.header.suite().id, suite.id);

        let cmm = DefaultMaterialsManager::new(Arc::new(aes_keyring()));
        let message = block_on(client.encrypt_with(
            esdk::KeySource::MaterialsManager(&cmm),
            &pt,
            &esdk::EncryptOptions::from(context.clone()),
        ))
        .unwrap();
        let got = block_on(client.decrypt_with(
            esdk::KeySource::MaterialsManager(&cmm),
            &message,
            &esdk::DecryptOptions::new().reproduced_context(context.clone()),
        ))
        .unwrap();
        assert_eq!(got.plaintext, pt);
        let got = block_on(client.decrypt(&keyring, &message)).unwrap();
        assert_eq!(got.plaintext, pt);
    }
}

/// A future that is pending until another thread completes it and wakes the task.
struct Delay {
    state: Arc<Mutex<(bool, Option<Waker>)>>,
    started: bool,
    pendings: Arc<AtomicUsize>,
}

impl Future for Delay {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.lock().unwrap();
        if state.0 {
            return Poll::Ready(());
        }
        state.1 = Some(cx.waker().clone());
        drop(state);
        if !self.started {
            self.started = true;
            let shared = self.state.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                let mut state = shared.lock().unwrap();
                state.0 = true;
                if let Some(waker) = state.1.take() {
                    waker.wake();
                }
            });
        }
        self.pendings.fetch_add(1, Ordering::SeqCst);
        Poll::Pending
    }
}

/// A keyring that waits (as one calling a key service would) before each operation.
#[derive(Debug)]
struct WaitingKeyring {
    inner: RawAesKeyring,
    pendings: Arc<AtomicUsize>,
}

impl WaitingKeyring {
    fn delay(&self) -> Delay {
        Delay {
            state: Arc::new(Mutex::new((false, None))),
            started: false,
            pendings: self.pendings.clone(),
        }
    }
}

impl Keyring for WaitingKeyring {
    fn on_encrypt<'a>(
        &'a self,
        materials: EncryptionMaterials,
    ) -> MaterialsFuture<'a, esdk::Result<EncryptionMaterials>> {
        MaterialsFuture::new(async move {
            self.delay().await;
            self.inner.on_encrypt(materials).await
        })
    }

    fn on_decrypt<'a>(
        &'a self,
        materials: DecryptionMaterials,
        encrypted_data_keys: &'a [EncryptedDataKey],
    ) -> MaterialsFuture<'a, esdk::Result<DecryptionMaterials>> {
        MaterialsFuture::new(async move {
            self.delay().await;
            self.inner.on_decrypt(materials, encrypted_data_keys).await
        })
    }
}

#[test]
fn block_on_waits_for_a_keyring_that_is_pending() {
    let keyring = WaitingKeyring {
        inner: aes_keyring(),
        pendings: Arc::new(AtomicUsize::new(0)),
    };
    let client = Client::default();
    let message = encrypt(&client, &keyring, b"waited", &EncryptionContext::new()).unwrap();
    assert!(keyring.pendings.load(Ordering::SeqCst) >= 1);
    let got = decrypt(&client, &keyring, &message).unwrap();
    assert_eq!(got.plaintext, b"waited");
    assert!(keyring.pendings.load(Ordering::SeqCst) >= 2);
    // Also inside a multi-keyring, and from several threads.
    let multi = MultiKeyring::new(Some(Arc::new(keyring)), vec![]).unwrap();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let m = encrypt(&client, &multi, b"threads", &EncryptionContext::new()).unwrap();
                assert_eq!(decrypt(&client, &multi, &m).unwrap().plaintext, b"threads");
            });
        }
    });
    assert_eq!(block_on(async { 40 + 2 }), 42);
}

#[test]
fn streaming_adapters_round_trip() {
    let keyring = aes_keyring();
    let context = ctx(&[("stream", "io")]);
    for &suite in suite::ALL {
        let client = client(suite, 50);
        let pt = plaintext(1234);
        let mut writer = esdk::stream::io::EncryptingWriter::new(
            &client,
            &keyring,
            &esdk::EncryptOptions::from(context.clone()),
            Vec::new(),
        )
        .unwrap();
        for chunk in pt.chunks(77) {
            writer.write_all(chunk).unwrap();
        }
        let message = writer.finish().unwrap();
        let parsed = esdk::parse_header(&message).unwrap();
        check_layout(&message, parsed.unauthenticated(), parsed.len(), pt.len());
        // The one-shot API reads what the writer wrote, and the other way round.
        assert_eq!(decrypt(&client, &keyring, &message).unwrap().plaintext, pt);
        let one_shot = encrypt(&client, &keyring, &pt, &context).unwrap();
        for m in [&message, &one_shot] {
            let mut reader = esdk::stream::io::DecryptingReader::new(
                &client,
                &keyring,
                &esdk::DecryptOptions::new().reproduced_context(context.clone()),
                m.as_slice(),
            )
            .unwrap();
            let mut out = Vec::new();
            reader.read_to_end(&mut out).unwrap();
            assert_eq!(out, pt);
        }
        // A truncated message is an error from the reader, not a short plaintext.
        let mut reader = esdk::stream::io::DecryptingReader::new(
            &client,
            &keyring,
            &esdk::DecryptOptions::new(),
            &message[..message.len() - 1],
        )
        .unwrap();
        let mut out = Vec::new();
        assert!(reader.read_to_end(&mut out).is_err());
    }
}

#[test]
fn client_settings() {
    let client = Client::builder()
        .commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
        .build()
        .unwrap();
    assert_eq!(
        client.commitment_policy(),
        CommitmentPolicy::RequireEncryptAllowDecrypt
    );
    assert_eq!(
        client.clone().commitment_policy(),
        CommitmentPolicy::RequireEncryptAllowDecrypt
    );
    assert_eq!(
        Client::default().commitment_policy(),
        CommitmentPolicy::RequireEncryptRequireDecrypt
    );
    // The builder checks everything once, at build.
    for (builder, what) in [
        (Client::builder().frame_length(0), "frame length"),
        (Client::builder().threads(0), "thread count"),
        (Client::builder().max_stream_frame_length(0), "stream limit"),
    ] {
        assert!(
            matches!(builder.build(), Err(Error::ApiMisuse(m)) if m.contains(what)),
            "{what}"
        );
    }
    assert!(matches!(
        Client::builder().suite(suite(0x0178)).build(),
        Err(Error::PolicyRefused { suite: 0x0178, .. })
    ));

    // Strict mode (no ESDK-.NET 4.0.0 retry) reads every suite esdk writes.
    let keyring = aes_keyring();
    for &suite in suite::ALL {
        let writer = client_for_suite(suite);
        let strict = Client::builder()
            .commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt)
            .legacy_net_v4_0_0_retry(false)
            .build()
            .unwrap();
        for context in [EncryptionContext::new(), ctx(&[("a", "b")])] {
            let message = encrypt(&writer, &keyring, b"strict", &context).unwrap();
            assert_eq!(
                decrypt(&strict, &keyring, &message).unwrap().plaintext,
                b"strict"
            );
        }
    }
}

fn client_for_suite(suite: &'static AlgorithmSuite) -> Client {
    client(suite, 4096)
}

#[test]
fn suite_table() {
    assert_eq!(suite::ALL.len(), 11);
    for &s in suite::ALL {
        assert_eq!(AlgorithmSuite::from_id(s.id).unwrap().id, s.id);
        assert_eq!(s.is_committing(), s.id >= 0x0478);
        assert_eq!(s.message_id_len(), if s.is_committing() { 32 } else { 16 });
        assert!(matches!(s.key_len, 16 | 24 | 32));
    }
    let signed: Vec<u16> = suite::ALL
        .iter()
        .filter(|s| s.is_signing())
        .map(|s| s.id)
        .collect();
    assert_eq!(signed, [0x0214, 0x0346, 0x0378, 0x0578]);
    assert!(matches!(
        AlgorithmSuite::from_id(0x0000),
        Err(Error::UnknownSuite(0))
    ));
    assert_eq!(esdk::VERSION, env!("CARGO_PKG_VERSION"));
}
