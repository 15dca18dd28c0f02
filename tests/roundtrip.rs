//! Round trips through the public API: every suite × frame length × plaintext size × context
//! with a raw AES keyring (checking the header and the exact message layout), raw AES key
//! sizes, raw RSA paddings, the multi-keyring, the required-encryption-context CMM,
//! `decrypt_with`, and (feature `hazmat`) non-framed messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::*;
use esdk::blocking::{decrypt, decrypt_with, encrypt, encrypt_with};
use esdk::cmm::RequiredEncryptionContextMaterialsManager;
use esdk::header::ContentType;
use esdk::suite::AlgorithmSuite;
use esdk::{
    suite, Client, CommitmentPolicy, DefaultMaterialsManager, EncryptionContext, Error, Keyring,
    MultiKeyring, RawAesKeyring, RsaPadding,
};

/// Sizes for frame length `f`: 0, 1, f-1, f, f+1, 3f+5 (duplicates removed).
fn sizes(f: usize) -> Vec<usize> {
    let mut v = vec![0, 1, f - 1, f, f + 1, 3 * f + 5];
    v.sort_unstable();
    v.dedup();
    v
}

fn matrix(suite: &'static AlgorithmSuite) {
    let keyring = aes_keyring();
    let mut checked = 0;
    for frame_length in [1u32, 17, 4096] {
        let client = client(suite, frame_length);
        for n in sizes(frame_length as usize) {
            let pt = plaintext(n);
            for (name, context) in contexts() {
                let what = format!(
                    "suite 0x{:04x}, frame {frame_length}, {n} bytes, context {name}",
                    suite.id
                );
                let message = encrypt(&client, &keyring, &pt, &context)
                    .unwrap_or_else(|e| panic!("{what}: encrypt: {e}"));

                let parsed = esdk::parse_header(&message).unwrap();
                let h = parsed.unauthenticated();
                assert_eq!(h.suite().id, suite.id, "{what}");
                assert_eq!(h.version(), suite.message_format, "{what}");
                assert_eq!(h.message_id().len(), suite.message_id_len(), "{what}");
                assert_eq!(
                    h.content_type(),
                    ContentType::Framed {
                        frame_length: frame_length.try_into().unwrap()
                    },
                    "{what}"
                );
                check_stored_context(suite, h.encryption_context(), &context);
                let edks = h.encrypted_data_keys();
                assert_eq!(edks.len(), 1, "{what}");
                assert_eq!(edks[0].provider_id, "esdk-tests", "{what}");
                // Raw AES: name ‖ tag bits (128) ‖ IV length (12) ‖ IV; wrapped key ‖ tag.
                assert_eq!(&edks[0].provider_info[..7], b"aes-256", "{what}");
                assert_eq!(
                    &edks[0].provider_info[7..15],
                    &[0, 0, 0, 128, 0, 0, 0, 12],
                    "{what}"
                );
                assert_eq!(edks[0].provider_info.len(), 7 + 8 + 12, "{what}");
                assert_eq!(edks[0].ciphertext.len(), suite.key_len + 16, "{what}");
                check_layout(&message, h, parsed.len(), n);

                let decrypted = decrypt(&client, &keyring, &message)
                    .unwrap_or_else(|e| panic!("{what}: decrypt: {e}"));
                assert_eq!(decrypted.plaintext, pt, "{what}");
                assert_eq!(decrypted.header.suite().id, suite.id, "{what}");
                assert_eq!(
                    decrypted.header.encryption_context(),
                    h.encryption_context(),
                    "{what}"
                );
                assert_eq!(
                    &decrypted.encryption_context,
                    h.encryption_context(),
                    "{what}"
                );
                assert_eq!(decrypted.header.message_id(), h.message_id(), "{what}");
                checked += 1;
            }
        }
    }
    // 3 frame lengths: 4 + 6 + 6 sizes, 4 contexts each.
    assert_eq!(checked, (4 + 6 + 6) * 4);
}

macro_rules! matrix_tests {
    ($($name:ident = $id:literal;)*) => {
        $(
            #[test]
            fn $name() {
                matrix(suite($id));
            }
        )*

        #[test]
        fn matrix_covers_all_suites() {
            let ids: Vec<u16> = suite::ALL.iter().map(|s| s.id).collect();
            assert_eq!(ids, vec![$($id),*]);
        }
    };
}

matrix_tests! {
    matrix_0014 = 0x0014;
    matrix_0046 = 0x0046;
    matrix_0078 = 0x0078;
    matrix_0114 = 0x0114;
    matrix_0146 = 0x0146;
    matrix_0178 = 0x0178;
    matrix_0214 = 0x0214;
    matrix_0346 = 0x0346;
    matrix_0378 = 0x0378;
    matrix_0478 = 0x0478;
    matrix_0578 = 0x0578;
}

#[test]
fn default_client_uses_0578_and_4096_byte_frames() {
    let keyring = aes_keyring();
    let message = encrypt(
        &Client::default(),
        &keyring,
        b"x",
        &EncryptionContext::new(),
    )
    .unwrap();
    let header = esdk::parse_header(&message).unwrap();
    assert_eq!(header.unauthenticated().suite().id, 0x0578);
    assert_eq!(
        header.unauthenticated().content_type(),
        ContentType::Framed {
            frame_length: esdk::DEFAULT_FRAME_LENGTH.try_into().unwrap()
        }
    );
    let forbid = Client::builder()
        .commitment_policy(CommitmentPolicy::ForbidEncryptAllowDecrypt)
        .build()
        .unwrap();
    let message = encrypt(&forbid, &keyring, b"x", &EncryptionContext::new()).unwrap();
    assert_eq!(
        esdk::parse_header(&message)
            .unwrap()
            .unauthenticated()
            .suite()
            .id,
        0x0378
    );
    assert!(Client::builder().frame_length(0).build().is_err());
}

#[test]
fn same_plaintext_twice_gives_different_messages() {
    let keyring = aes_keyring();
    let client = Client::default();
    let a = encrypt(&client, &keyring, b"same", &EncryptionContext::new()).unwrap();
    let b = encrypt(&client, &keyring, b"same", &EncryptionContext::new()).unwrap();
    assert_ne!(a, b);
    let (ha, hb) = (
        esdk::parse_header(&a).unwrap(),
        esdk::parse_header(&b).unwrap(),
    );
    assert_ne!(
        ha.unauthenticated().message_id(),
        hb.unauthenticated().message_id()
    );
}

#[test]
fn raw_aes_wrapping_key_sizes() {
    for (len, other_len) in [(16usize, 32usize), (24, 16), (32, 24)] {
        let key: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(7) ^ 0xc3).collect();
        let keyring = RawAesKeyring::new("ns", "wrapping", &key).unwrap();
        for &suite in suite::ALL {
            let client = client(suite, 64);
            let pt = plaintext(100);
            let context = ctx(&[("k", "v")]);
            let message = encrypt(&client, &keyring, &pt, &context).unwrap();
            let parsed = esdk::parse_header(&message).unwrap();
            let edk = &parsed.unauthenticated().encrypted_data_keys()[0];
            assert_eq!(edk.ciphertext.len(), suite.key_len + 16);
            assert_eq!(decrypt(&client, &keyring, &message).unwrap().plaintext, pt);

            // Same namespace and name, another key: cannot unwrap.
            let other_key = vec![0x11u8; other_len];
            let other = RawAesKeyring::new("ns", "wrapping", &other_key).unwrap();
            assert!(matches!(
                decrypt(&client, &other, &message),
                Err(Error::NoKeyringDecrypted { .. })
            ));
            // Same key, another name: not its data key.
            let renamed = RawAesKeyring::new("ns", "other-name", &key).unwrap();
            assert!(matches!(
                decrypt(&client, &renamed, &message),
                Err(Error::NoKeyringDecrypted { .. })
            ));
            // Same key, another namespace.
            let moved = RawAesKeyring::new("ns2", "wrapping", &key).unwrap();
            assert!(matches!(
                decrypt(&client, &moved, &message),
                Err(Error::NoKeyringDecrypted { .. })
            ));
        }
    }
}

#[test]
fn raw_aes_rejects_bad_keys() {
    for len in [0usize, 1, 15, 17, 31, 33, 64] {
        assert!(
            matches!(
                RawAesKeyring::new("ns", "k", &vec![1u8; len]),
                Err(Error::InvalidKey(_))
            ),
            "{len}-byte key accepted"
        );
    }
    assert!(matches!(
        RawAesKeyring::new("aws-kms", "k", &[1u8; 32]),
        Err(Error::InvalidKey(_))
    ));
}

const PADDINGS: [RsaPadding; 5] = [
    RsaPadding::Pkcs1,
    RsaPadding::OaepSha1,
    RsaPadding::OaepSha256,
    RsaPadding::OaepSha384,
    RsaPadding::OaepSha512,
];

#[test]
fn raw_rsa_every_padding() {
    let context = ctx(&[("tenant", "acme")]);
    for padding in PADDINGS {
        let pair = rsa_keyring(padding);
        let public = rsa_public_keyring(padding);
        let private = rsa_private_keyring(padding);
        for suite_id in [0x0578u16, 0x0478, 0x0014, 0x0346] {
            let suite = suite(suite_id);
            let client = client(suite, 128);
            let pt = plaintext(300);
            for encryptor in [&pair, &public] {
                let message = encrypt(&client, encryptor, &pt, &context).unwrap();
                let parsed = esdk::parse_header(&message).unwrap();
                let edks = parsed.unauthenticated().encrypted_data_keys();
                assert_eq!(edks.len(), 1);
                assert_eq!(edks[0].provider_id, "rsa-ns");
                assert_eq!(edks[0].provider_info, b"rsa-key");
                assert_eq!(edks[0].ciphertext.len(), 256, "RSA-2048 ciphertext");
                check_layout(&message, parsed.unauthenticated(), parsed.len(), pt.len());

                for decryptor in [&pair, &private] {
                    let got = decrypt_with(
                        &client,
                        decryptor,
                        &message,
                        &esdk::DecryptOptions::new().reproduced_context(context.clone()),
                    )
                    .unwrap();
                    assert_eq!(got.plaintext, pt, "{padding:?} 0x{suite_id:04x}");
                }
                // A public-key-only keyring cannot decrypt.
                assert!(
                    matches!(
                        decrypt(&client, &public, &message),
                        Err(Error::NoKeyringDecrypted { .. })
                    ),
                    "public-only keyring decrypted ({padding:?})"
                );
            }
        }
    }
}

#[test]
fn raw_rsa_padding_must_match() {
    let client = Client::default();
    let enc = rsa_public_keyring(RsaPadding::OaepSha256);
    let message = encrypt(&client, &enc, b"padding", &EncryptionContext::new()).unwrap();
    for padding in [
        RsaPadding::OaepSha1,
        RsaPadding::OaepSha512,
        RsaPadding::Pkcs1,
    ] {
        let dec = rsa_private_keyring(padding);
        assert!(
            matches!(
                decrypt(&client, &dec, &message),
                Err(Error::NoKeyringDecrypted { .. })
            ),
            "{padding:?} opened an OAEP-SHA256 data key"
        );
    }
}

#[test]
fn multi_keyring_each_member_decrypts() {
    let generator: Arc<dyn Keyring> = Arc::new(aes_keyring());
    let aes_child: Arc<dyn Keyring> =
        Arc::new(RawAesKeyring::new("child-ns", "aes-128", &[0x3du8; 16]).unwrap());
    let rsa_child: Arc<dyn Keyring> = Arc::new(rsa_keyring(RsaPadding::OaepSha1));
    let multi = MultiKeyring::new(
        Some(generator.clone()),
        vec![aes_child.clone(), rsa_child.clone()],
    )
    .unwrap();
    let context = ctx(&[("a", "1"), ("b", "2")]);
    for &suite in suite::ALL {
        let client = client(suite, 50);
        let pt = plaintext(123);
        let message = encrypt(&client, &multi, &pt, &context).unwrap();
        let parsed = esdk::parse_header(&message).unwrap();
        let ids: Vec<&str> = parsed
            .unauthenticated()
            .encrypted_data_keys()
            .iter()
            .map(|e| e.provider_id.as_str())
            .collect();
        assert_eq!(ids, ["esdk-tests", "child-ns", "rsa-ns"]);
        check_layout(&message, parsed.unauthenticated(), parsed.len(), pt.len());

        for (name, keyring) in [
            ("multi", &multi as &dyn Keyring),
            ("generator", generator.as_ref()),
            ("AES child", aes_child.as_ref()),
            ("RSA child", rsa_child.as_ref()),
        ] {
            let got = decrypt(&client, keyring, &message)
                .unwrap_or_else(|e| panic!("{name} on 0x{:04x}: {e}", suite.id));
            assert_eq!(got.plaintext, pt, "{name}");
        }
        let outsider = RawAesKeyring::new("esdk-tests", "aes-256", &[0x77u8; 32]).unwrap();
        assert!(matches!(
            decrypt(&client, &outsider, &message),
            Err(Error::NoKeyringDecrypted { .. })
        ));
        // A multi-keyring made only of outsiders fails too, and says what it tried.
        let outsiders = MultiKeyring::new(
            Some(Arc::new(outsider)),
            vec![Arc::new(rsa_public_keyring(RsaPadding::OaepSha1))],
        )
        .unwrap();
        match decrypt(&client, &outsiders, &message) {
            Err(Error::NoKeyringDecrypted { attempts, .. }) => assert!(attempts.len() >= 2),
            other => panic!("expected NoKeyringDecrypted, got {other:?}"),
        }
    }
}

#[test]
fn multi_keyring_needs_a_keyring_and_a_generator_to_encrypt() {
    assert!(matches!(
        MultiKeyring::new(None, vec![]),
        Err(Error::ApiMisuse(_))
    ));
    let children_only =
        MultiKeyring::new(None, vec![Arc::new(aes_keyring()) as Arc<dyn Keyring>]).unwrap();
    assert!(encrypt(
        &Client::default(),
        &children_only,
        b"x",
        &EncryptionContext::new()
    )
    .is_err());
}

#[test]
fn default_cmm_round_trip() {
    let cmm = DefaultMaterialsManager::new(Arc::new(aes_keyring()));
    for &suite in suite::ALL {
        let client = client(suite, 33);
        let pt = plaintext(70);
        let context = ctx(&[("cmm", "default")]);
        let message = encrypt_with(
            &client,
            esdk::KeySource::MaterialsManager(&cmm),
            &pt,
            &esdk::EncryptOptions::from(context.clone()),
        )
        .unwrap();
        let got = decrypt_with(
            &client,
            esdk::KeySource::MaterialsManager(&cmm),
            &message,
            &esdk::DecryptOptions::new(),
        )
        .unwrap();
        assert_eq!(got.plaintext, pt);
        check_stored_context(suite, got.header.encryption_context(), &context);
        // The same message through the keyring directly.
        assert_eq!(
            decrypt(&client, &aes_keyring(), &message)
                .unwrap()
                .plaintext,
            pt
        );
    }
}

#[test]
fn required_encryption_context_cmm() {
    let underlying = Arc::new(DefaultMaterialsManager::new(Arc::new(aes_keyring())));
    let cmm = RequiredEncryptionContextMaterialsManager::new(
        underlying,
        vec!["tenant".to_owned(), "region".to_owned()],
    );
    let full = ctx(&[("tenant", "acme"), ("region", "eu"), ("purpose", "test")]);
    let required = ctx(&[("tenant", "acme"), ("region", "eu")]);
    for &suite in suite::ALL {
        let client = client(suite, 64);
        let pt = plaintext(200);
        let message = encrypt_with(
            &client,
            esdk::KeySource::MaterialsManager(&cmm),
            &pt,
            &esdk::EncryptOptions::from(full.clone()),
        )
        .unwrap();

        // Required keys are authenticated but not stored.
        let parsed = esdk::parse_header(&message).unwrap();
        let stored = parsed.unauthenticated().encryption_context();
        check_stored_context(suite, stored, &ctx(&[("purpose", "test")]));
        check_layout(&message, parsed.unauthenticated(), parsed.len(), pt.len());

        // Without them: refused.
        assert!(matches!(
            decrypt_with(
                &client,
                esdk::KeySource::MaterialsManager(&cmm),
                &message,
                &esdk::DecryptOptions::new()
            ),
            Err(Error::ContextMismatch { .. })
        ));
        assert!(matches!(
            decrypt_with(
                &client,
                esdk::KeySource::MaterialsManager(&cmm),
                &message,
                &esdk::DecryptOptions::new()
                    .reproduced_context((ctx(&[("tenant", "acme")])).clone())
            ),
            Err(Error::ContextMismatch { .. })
        ));
        // The plain keyring path cannot decrypt without them (raw AES binds the full
        // context, required keys included, to the wrapped data key).
        assert!(matches!(
            decrypt(&client, &aes_keyring(), &message),
            Err(Error::NoKeyringDecrypted { .. })
        ));

        // With them: decrypts, and the full context is returned.
        let got = decrypt_with(
            &client,
            esdk::KeySource::MaterialsManager(&cmm),
            &message,
            &esdk::DecryptOptions::new().reproduced_context(required.clone()),
        )
        .unwrap();
        assert_eq!(got.plaintext, pt);
        for (k, v) in &full {
            assert_eq!(got.encryption_context.get(k), Some(v), "{k}");
        }
        assert!(!got.header.encryption_context().contains_key("tenant"));
        // Also through decrypt_with on the keyring.
        let got = decrypt_with(
            &client,
            &aes_keyring(),
            &message,
            &esdk::DecryptOptions::new().reproduced_context(required.clone()),
        )
        .unwrap();
        assert_eq!(got.plaintext, pt);

        // With a wrong value: refused.
        let wrong = ctx(&[("tenant", "evil"), ("region", "eu")]);
        assert!(matches!(
            decrypt_with(
                &client,
                esdk::KeySource::MaterialsManager(&cmm),
                &message,
                &esdk::DecryptOptions::new().reproduced_context(wrong.clone())
            ),
            Err(Error::NoKeyringDecrypted { .. })
        ));
        // With a wrong value for a stored key: refused.
        let wrong_stored = ctx(&[("tenant", "acme"), ("region", "eu"), ("purpose", "other")]);
        assert!(matches!(
            decrypt_with(
                &client,
                esdk::KeySource::MaterialsManager(&cmm),
                &message,
                &esdk::DecryptOptions::new().reproduced_context(wrong_stored.clone())
            ),
            Err(Error::ContextMismatch { .. })
        ));
    }
}

#[test]
fn required_encryption_context_cmm_refuses_encrypt_without_the_keys() {
    let cmm = RequiredEncryptionContextMaterialsManager::new(
        Arc::new(DefaultMaterialsManager::new(Arc::new(aes_keyring()))),
        vec!["tenant".to_owned()],
    );
    assert!(matches!(
        encrypt_with(
            &Client::default(),
            esdk::KeySource::MaterialsManager(&cmm),
            b"x",
            &esdk::EncryptOptions::from((ctx(&[("other", "1")])).clone())
        ),
        Err(Error::ContextMismatch { .. })
    ));
}

#[test]
fn decrypt_with_checks_the_context() {
    let keyring = aes_keyring();
    let context = ctx(&[("a", "1"), ("b", "2"), ("c", "3")]);
    for &suite in suite::ALL {
        let client = client(suite, 16);
        let pt = plaintext(40);
        let message = encrypt(&client, &keyring, &pt, &context).unwrap();

        for expected in [
            EncryptionContext::new(),
            ctx(&[("a", "1")]),
            ctx(&[("c", "3"), ("a", "1")]),
            context.clone(),
        ] {
            let got = decrypt_with(
                &client,
                &keyring,
                &message,
                &esdk::DecryptOptions::new().reproduced_context(expected.clone()),
            )
            .unwrap_or_else(|e| panic!("{expected:?}: {e}"));
            assert_eq!(got.plaintext, pt);
        }
        match decrypt_with(
            &client,
            &keyring,
            &message,
            &esdk::DecryptOptions::new().reproduced_context((ctx(&[("b", "two")])).clone()),
        ) {
            Err(Error::ContextMismatch { key, .. }) => assert_eq!(key, "b"),
            other => panic!("expected ContextMismatch, got {other:?}"),
        }
        // A key the message does not hold. The raw AES keyring binds the whole context to
        // the wrapped data key, so it cannot unwrap it...
        let extra = ctx(&[("a", "1"), ("d", "4")]);
        assert!(matches!(
            decrypt_with(
                &client,
                &keyring,
                &message,
                &esdk::DecryptOptions::new().reproduced_context(extra.clone())
            ),
            Err(Error::NoKeyringDecrypted { .. })
        ));
        // ...and with a keyring that does not (raw RSA) the header does not authenticate it.
        let rsa = rsa_keyring(RsaPadding::OaepSha256);
        let message = encrypt(&client, &rsa, &pt, &context).unwrap();
        assert_eq!(
            decrypt_with(
                &client,
                &rsa,
                &message,
                &esdk::DecryptOptions::new().reproduced_context(context.clone())
            )
            .unwrap()
            .plaintext,
            pt
        );
        assert!(matches!(
            decrypt_with(
                &client,
                &rsa,
                &message,
                &esdk::DecryptOptions::new().reproduced_context(extra.clone())
            ),
            Err(Error::HeaderAuthentication)
        ));
        // The reserved key with another value.
        if suite.is_signing() {
            assert!(matches!(
                decrypt_with(
                    &client,
                    &keyring,
                    &message,
                    &esdk::DecryptOptions::new().reproduced_context(
                        (ctx(&[(esdk::cmm::PUBLIC_KEY_CONTEXT_KEY, "AAAA")])).clone()
                    )
                ),
                Err(Error::ContextMismatch { .. })
            ));
        }
    }
}

#[cfg(feature = "hazmat")]
mod non_framed {
    use super::*;
    use esdk::blocking::block_on;
    use esdk::hazmat::encrypt_non_framed_legacy;

    #[test]
    fn every_suite_and_size() {
        let keyring = aes_keyring();
        for &suite in suite::ALL {
            let client = client(suite, 4096);
            for n in [0usize, 1, 1000] {
                for (name, context) in contexts() {
                    let what = format!("non-framed 0x{:04x}, {n} bytes, context {name}", suite.id);
                    let pt = plaintext(n);
                    let message = block_on(encrypt_non_framed_legacy(
                        &client,
                        &keyring,
                        &pt,
                        &esdk::EncryptOptions::from(context.clone()),
                    ))
                    .unwrap();
                    let parsed = esdk::parse_header(&message).unwrap();
                    let h = parsed.unauthenticated();
                    assert_eq!(h.suite().id, suite.id, "{what}");
                    assert_eq!(h.content_type(), ContentType::NonFramed, "{what}");
                    check_stored_context(suite, h.encryption_context(), &context);
                    check_layout(&message, h, parsed.len(), n);
                    let got = decrypt_with(
                        &client,
                        &keyring,
                        &message,
                        &esdk::DecryptOptions::new().reproduced_context(context.clone()),
                    )
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_eq!(got.plaintext, pt, "{what}");
                    assert_eq!(got.header.content_type(), ContentType::NonFramed);

                    // Truncated or extended non-framed messages fail.
                    assert!(decrypt(&client, &keyring, &message[..message.len() - 1]).is_err());
                    let mut longer = message.clone();
                    longer.push(0);
                    assert!(decrypt(&client, &keyring, &longer).is_err(), "{what}");
                }
            }
        }
    }

    #[test]
    fn policy_applies_to_non_framed_encrypt() {
        // A client with a suite its policy refuses cannot be built at all.
        assert!(matches!(
            Client::builder()
                .suite(&suite::AES_256_GCM_IV12_TAG16_HKDF_SHA256)
                .build(),
            Err(Error::PolicyRefused { .. })
        ));
        // A materials manager choosing such a suite is refused by non-framed encrypt too.
        let keyring = std::sync::Arc::new(aes_keyring());
        let cmm = ForceSuite(esdk::DefaultMaterialsManager::new(keyring));
        assert!(matches!(
            block_on(encrypt_non_framed_legacy(
                &Client::default(),
                esdk::KeySource::MaterialsManager(&cmm),
                b"x",
                &esdk::EncryptOptions::new()
            )),
            Err(Error::PolicyRefused { .. })
        ));
    }

    /// Asks its inner materials manager for a non-committing suite whatever the policy.
    #[derive(Debug)]
    struct ForceSuite(esdk::DefaultMaterialsManager);

    impl esdk::MaterialsManager for ForceSuite {
        fn encryption_materials<'a>(
            &'a self,
            mut request: esdk::materials::EncryptionRequest,
        ) -> esdk::keyring::MaterialsFuture<'a, esdk::Result<esdk::materials::EncryptionMaterials>>
        {
            request.suite = Some(&suite::AES_256_GCM_IV12_TAG16_HKDF_SHA256);
            request.commitment_policy = esdk::CommitmentPolicy::ForbidEncryptAllowDecrypt;
            self.0.encryption_materials(request)
        }

        fn decryption_materials<'a>(
            &'a self,
            request: esdk::materials::DecryptionRequest,
        ) -> esdk::keyring::MaterialsFuture<'a, esdk::Result<esdk::materials::DecryptionMaterials>>
        {
            self.0.decryption_materials(request)
        }
    }
}

#[test]
fn required_encryption_context_is_enforced_by_header_authentication() {
    // Raw RSA does not bind the context to the data key: only header authentication
    // protects the required (unstored) pairs.
    let rsa = Arc::new(rsa_keyring(RsaPadding::OaepSha256));
    let cmm = RequiredEncryptionContextMaterialsManager::new(
        Arc::new(DefaultMaterialsManager::new(rsa.clone())),
        vec!["tenant".to_owned()],
    );
    let full = ctx(&[("tenant", "acme"), ("purpose", "test")]);
    for &suite in suite::ALL {
        let client = client(suite, 64);
        let pt = plaintext(65);
        let message = encrypt_with(
            &client,
            esdk::KeySource::MaterialsManager(&cmm),
            &pt,
            &esdk::EncryptOptions::from(full.clone()),
        )
        .unwrap();
        assert!(!esdk::parse_header(&message)
            .unwrap()
            .unauthenticated()
            .encryption_context()
            .contains_key("tenant"));
        assert!(matches!(
            decrypt(&client, rsa.as_ref(), &message),
            Err(Error::HeaderAuthentication)
        ));
        assert!(matches!(
            decrypt_with(
                &client,
                esdk::KeySource::MaterialsManager(&cmm),
                &message,
                &esdk::DecryptOptions::new()
                    .reproduced_context((ctx(&[("tenant", "evil")])).clone())
            ),
            Err(Error::HeaderAuthentication)
        ));
        let got = decrypt_with(
            &client,
            esdk::KeySource::MaterialsManager(&cmm),
            &message,
            &esdk::DecryptOptions::new().reproduced_context((ctx(&[("tenant", "acme")])).clone()),
        )
        .unwrap();
        assert_eq!(got.plaintext, pt);
        assert_eq!(
            got.encryption_context.get("tenant").map(String::as_str),
            Some("acme")
        );
    }
}

#[test]
fn layout_check_can_fail() {
    // The layout checker must notice a wrong plaintext length, including the choice between
    // "last full frame is final" and "extra empty final frame".
    let keyring = aes_keyring();
    for (frame, n) in [(17u32, 34usize), (17, 35), (1, 0), (4096, 1)] {
        let client = client(suite(0x0478), frame);
        let message = encrypt(&client, &keyring, &plaintext(n), &EncryptionContext::new()).unwrap();
        let parsed = esdk::parse_header(&message).unwrap();
        check_layout(&message, parsed.unauthenticated(), parsed.len(), n);
        for wrong in [n + 1, n.saturating_sub(1), n + frame as usize] {
            if wrong == n {
                continue;
            }
            let caught = std::panic::catch_unwind(|| {
                check_layout(&message, parsed.unauthenticated(), parsed.len(), wrong)
            });
            assert!(
                caught.is_err(),
                "frame {frame}, {n} bytes checked as {wrong}"
            );
        }
        let mut longer = message.clone();
        longer.push(0);
        let caught = std::panic::catch_unwind(|| {
            check_layout(&longer, parsed.unauthenticated(), parsed.len(), n)
        });
        assert!(caught.is_err());
    }
}
