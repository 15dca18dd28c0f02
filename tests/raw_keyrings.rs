//! Building the raw keyrings: the raw RSA keyring builder (which keys, which encodings, what it
//! refuses, and that a private key alone never encrypts) and the namespace both raw keyrings
//! reserve for AWS KMS.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::*;
use esdk::blocking::{block_on, decrypt, encrypt};
use esdk::keyring::RawRsaKeyringBuilder;
use esdk::materials::EncryptionMaterials;
use esdk::{
    suite, EncryptionContext, Error, Keyring, MultiKeyring, RawAesKeyring, RawRsaKeyring,
    RsaPadding,
};

const PADDINGS: [RsaPadding; 5] = [
    RsaPadding::Pkcs1,
    RsaPadding::OaepSha1,
    RsaPadding::OaepSha256,
    RsaPadding::OaepSha384,
    RsaPadding::OaepSha512,
];

fn builder(padding: RsaPadding) -> RawRsaKeyringBuilder {
    RawRsaKeyring::builder("rsa-ns", "rsa-key", padding)
}

/// The `InvalidKey` message of a failed build; panics on success or another error.
fn invalid_key(what: &str, result: esdk::Result<RawRsaKeyring>) -> String {
    match result {
        Err(Error::InvalidKey(message)) => message,
        Err(other) => panic!("{what}: expected InvalidKey, got {other:?}"),
        Ok(keyring) => panic!("{what}: built {keyring:?}"),
    }
}

#[test]
fn private_only_rsa_keyring_refuses_to_encrypt() {
    let client = esdk::Client::default();
    let context = ctx(&[("tenant", "acme")]);
    for padding in PADDINGS {
        let der = pem_to_der(RSA_PRIVATE_PEM);
        let pkcs1 = pem_to_der(RSA_B_PRIVATE_PKCS1_PEM);
        let private_only = [
            builder(padding).private_key_pem(RSA_PRIVATE_PEM),
            builder(padding).private_key_pem(RSA_B_PRIVATE_PKCS1_PEM),
            builder(padding).private_key_der(&der),
            builder(padding).private_key_der(&pkcs1),
        ];
        for keyring in private_only {
            let keyring = keyring.build().unwrap();
            let debug = format!("{keyring:?}");
            assert!(debug.contains("can_encrypt: false"), "{debug}");
            assert!(debug.contains("can_decrypt: true"), "{debug}");

            // The public half is never derived from the private key.
            match encrypt(&client, &keyring, b"must not encrypt", &context) {
                Err(Error::InvalidKey(message)) => {
                    assert!(message.contains("no public key"), "{message}");
                    assert!(message.contains("only decrypt"), "{message}");
                }
                other => panic!("{padding:?}: a private-only keyring encrypted: {other:?}"),
            }
            // Nor does the keyring wrap anything when called directly...
            let materials = EncryptionMaterials::new(
                &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
                context.clone(),
            );
            assert!(matches!(
                block_on(keyring.on_encrypt(materials)),
                Err(Error::InvalidKey(_))
            ));
            // ...or as a member of a multi-keyring.
            let member: Arc<dyn Keyring> = Arc::new(keyring);
            let multi = MultiKeyring::new(Some(Arc::new(aes_keyring())), vec![member]).unwrap();
            assert!(matches!(
                encrypt(&client, &multi, b"must not encrypt", &context),
                Err(Error::InvalidKey(_))
            ));
        }
    }
    // It still decrypts what the public key encrypted.
    let message = encrypt(
        &client,
        &rsa_public_keyring(RsaPadding::OaepSha256),
        b"to the private key",
        &context,
    )
    .unwrap();
    let private = rsa_private_keyring(RsaPadding::OaepSha256);
    assert_eq!(
        decrypt(&client, &private, &message).unwrap().plaintext,
        b"to the private key"
    );
}

#[test]
fn rsa_key_pair_round_trips_every_padding() {
    let client = esdk::Client::default();
    let context = ctx(&[("tenant", "acme")]);
    let (a_public_der, a_private_der) = (pem_to_der(RSA_PUBLIC_PEM), pem_to_der(RSA_PRIVATE_PEM));
    let (b_public_der, b_private_der) = (
        pem_to_der(RSA_B_PUBLIC_PKCS1_PEM),
        pem_to_der(RSA_B_PRIVATE_PKCS1_PEM),
    );
    for padding in PADDINGS {
        let pairs = [
            (
                "SPKI + PKCS #8 PEM",
                builder(padding)
                    .public_key_pem(RSA_PUBLIC_PEM)
                    .private_key_pem(RSA_PRIVATE_PEM),
                builder(padding).private_key_pem(RSA_PRIVATE_PEM),
            ),
            (
                "SPKI + PKCS #8 DER",
                builder(padding)
                    .public_key_der(&a_public_der)
                    .private_key_der(&a_private_der),
                builder(padding).private_key_der(&a_private_der),
            ),
            (
                "SPKI DER + PKCS #8 PEM",
                builder(padding)
                    .public_key_der(&a_public_der)
                    .private_key_pem(RSA_PRIVATE_PEM),
                builder(padding).private_key_pem(RSA_PRIVATE_PEM),
            ),
            (
                "PKCS #1 PEM",
                builder(padding)
                    .private_key_pem(RSA_B_PRIVATE_PKCS1_PEM)
                    .public_key_pem(RSA_B_PUBLIC_PKCS1_PEM),
                builder(padding).private_key_pem(RSA_B_PRIVATE_PKCS1_PEM),
            ),
            (
                "PKCS #1 DER",
                builder(padding)
                    .public_key_der(&b_public_der)
                    .private_key_der(&b_private_der),
                builder(padding).private_key_der(&b_private_der),
            ),
        ];
        for (what, pair, private_only) in pairs {
            let pair = pair.build().unwrap();
            let private_only = private_only.build().unwrap();
            let debug = format!("{pair:?}");
            assert!(
                debug.contains("can_encrypt: true") && debug.contains("can_decrypt: true"),
                "{debug}"
            );
            assert!(debug.contains("modulus_bits: 2048"), "{debug}");
            let pt = plaintext(200);
            let message = encrypt(&client, &pair, &pt, &context).unwrap();
            for decryptor in [&pair, &private_only] {
                let got = decrypt(&client, decryptor, &message)
                    .unwrap_or_else(|e| panic!("{what} {padding:?}: {e}"));
                assert_eq!(got.plaintext, pt, "{what} {padding:?}");
            }
        }
    }
}

#[test]
fn mismatched_rsa_key_pair_is_refused() {
    for padding in PADDINGS {
        // Different moduli (same exponent, 65537), in both directions and encodings.
        let cases = [
            builder(padding)
                .public_key_pem(RSA_B_PUBLIC_PKCS1_PEM)
                .private_key_pem(RSA_PRIVATE_PEM),
            builder(padding)
                .public_key_pem(RSA_PUBLIC_PEM)
                .private_key_pem(RSA_B_PRIVATE_PKCS1_PEM),
            builder(padding)
                .public_key_der(&pem_to_der(RSA_PUBLIC_PEM))
                .private_key_der(&pem_to_der(RSA_B_PRIVATE_PKCS1_PEM)),
        ];
        for case in cases {
            let message = invalid_key("mismatched pair", case.build());
            assert!(message.contains("does not match"), "{message}");
        }
    }
    // Same modulus, another public exponent.
    let same_modulus = {
        use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
        use rsa::traits::PublicKeyParts;
        let public = rsa::RsaPublicKey::from_public_key_pem(RSA_PUBLIC_PEM).unwrap();
        rsa::RsaPublicKey::new(public.n().clone(), rsa::BigUint::from(3u32))
            .unwrap()
            .to_public_key_der()
            .unwrap()
            .into_vec()
    };
    // The key itself is valid on its own...
    builder(RsaPadding::OaepSha256)
        .public_key_der(&same_modulus)
        .build()
        .unwrap();
    // ...but is not the private key's public half.
    let message = invalid_key(
        "same modulus, exponent 3",
        builder(RsaPadding::OaepSha256)
            .public_key_der(&same_modulus)
            .private_key_pem(RSA_PRIVATE_PEM)
            .build(),
    );
    assert!(message.contains("does not match"), "{message}");
}

#[test]
fn rsa_key_given_to_the_wrong_setter_is_refused() {
    let cases = [
        (
            "PKCS #8 private PEM as public",
            builder(RsaPadding::OaepSha256).public_key_pem(RSA_PRIVATE_PEM),
            "`private_key_pem`",
        ),
        (
            "PKCS #1 private PEM as public",
            builder(RsaPadding::OaepSha256).public_key_pem(RSA_B_PRIVATE_PKCS1_PEM),
            "`private_key_pem`",
        ),
        (
            "private PEM as public next to the private key",
            builder(RsaPadding::OaepSha256)
                .public_key_pem(RSA_PRIVATE_PEM)
                .private_key_pem(RSA_PRIVATE_PEM),
            "`private_key_pem`",
        ),
        (
            "SPKI public PEM as private",
            builder(RsaPadding::OaepSha256).private_key_pem(RSA_PUBLIC_PEM),
            "`public_key_pem`",
        ),
        (
            "PKCS #1 public PEM as private",
            builder(RsaPadding::OaepSha256).private_key_pem(RSA_B_PUBLIC_PKCS1_PEM),
            "`public_key_pem`",
        ),
        (
            "PKCS #8 private DER as public",
            builder(RsaPadding::OaepSha256).public_key_der(&pem_to_der(RSA_PRIVATE_PEM)),
            "`private_key_der`",
        ),
        (
            "PKCS #1 private DER as public",
            builder(RsaPadding::OaepSha256).public_key_der(&pem_to_der(RSA_B_PRIVATE_PKCS1_PEM)),
            "`private_key_der`",
        ),
        (
            "SPKI public DER as private",
            builder(RsaPadding::OaepSha256).private_key_der(&pem_to_der(RSA_PUBLIC_PEM)),
            "`public_key_der`",
        ),
        (
            "PKCS #1 public DER as private",
            builder(RsaPadding::OaepSha256).private_key_der(&pem_to_der(RSA_B_PUBLIC_PKCS1_PEM)),
            "`public_key_der`",
        ),
    ];
    for (what, case, hint) in cases {
        let message = invalid_key(what, case.build());
        assert!(message.contains(hint), "{what}: {message}");
    }
}

#[test]
fn rsa_builder_errors_are_invalid_key_and_say_why() {
    let pem = |label: &str| format!("-----BEGIN {label}-----\nMIIB\n-----END {label}-----\n");
    let truncated_private = &RSA_PRIVATE_PEM[..RSA_PRIVATE_PEM.len() / 2];
    let p = RsaPadding::OaepSha256;
    let cases: Vec<(&str, esdk::Result<RawRsaKeyring>, &str)> = vec![
        ("no key", builder(p).build(), "needs a public key"),
        (
            "public PEM not PEM",
            builder(p).public_key_pem("not a pem").build(),
            "public key PEM is not valid PEM",
        ),
        (
            "private PEM not PEM",
            builder(p).private_key_pem("not a pem").build(),
            "private key PEM is not valid PEM",
        ),
        (
            "truncated private PEM",
            builder(p).private_key_pem(truncated_private).build(),
            "private key PEM",
        ),
        (
            "certificate as public",
            builder(p).public_key_pem(&pem("CERTIFICATE")).build(),
            "label `CERTIFICATE`",
        ),
        (
            "EC key as private",
            builder(p).private_key_pem(&pem("EC PRIVATE KEY")).build(),
            "label `EC PRIVATE KEY`",
        ),
        (
            "encrypted private key",
            builder(p)
                .private_key_pem(&pem("ENCRYPTED PRIVATE KEY"))
                .build(),
            "encrypted",
        ),
        (
            "corrupt SPKI PEM",
            builder(p).public_key_pem(&pem("PUBLIC KEY")).build(),
            "not an RSA SubjectPublicKeyInfo",
        ),
        (
            "corrupt PKCS #1 public PEM",
            builder(p).public_key_pem(&pem("RSA PUBLIC KEY")).build(),
            "not a PKCS #1 RSAPublicKey",
        ),
        (
            "corrupt PKCS #8 PEM",
            builder(p).private_key_pem(&pem("PRIVATE KEY")).build(),
            "not a valid RSA PKCS #8 key",
        ),
        (
            "corrupt PKCS #1 private PEM",
            builder(p).private_key_pem(&pem("RSA PRIVATE KEY")).build(),
            "not a valid PKCS #1 key",
        ),
        (
            "garbage public DER",
            builder(p).public_key_der(&[0x30, 0x03, 1, 2, 3]).build(),
            "public key DER",
        ),
        (
            "garbage private DER",
            builder(p).private_key_der(&[0x30, 0x03, 1, 2, 3]).build(),
            "private key DER",
        ),
        (
            "empty private DER",
            builder(p).private_key_der(&[]).build(),
            "private key DER",
        ),
        (
            "good public key, bad private key",
            builder(p)
                .public_key_pem(RSA_PUBLIC_PEM)
                .private_key_der(&[0x30, 0x03, 1, 2, 3])
                .build(),
            "private key DER",
        ),
        (
            "reserved namespace",
            RawRsaKeyring::builder("aws-kms", "k", p)
                .public_key_pem(RSA_PUBLIC_PEM)
                .private_key_pem(RSA_PRIVATE_PEM)
                .build(),
            "reserved",
        ),
    ];
    let secret_line = RSA_PRIVATE_PEM.lines().nth(1).unwrap();
    for (what, result, expected) in cases {
        let message = invalid_key(what, result);
        assert!(
            message.contains(expected),
            "{what}: {message:?} does not say {expected:?}"
        );
        assert!(
            !message.contains(&secret_line[..16]),
            "{what}: key in {message}"
        );
    }
}

#[test]
fn reserved_namespaces_are_refused_by_both_raw_keyrings() {
    for namespace in [
        "aws-kms",
        "aws-kms-mrk",
        "aws-kmsfoo",
        "aws-kms-rsa",
        "aws-kms-hierarchy",
    ] {
        match RawAesKeyring::new(namespace, "k", &[1u8; 32]) {
            Err(Error::InvalidKey(message)) => assert!(message.contains("reserved"), "{message}"),
            other => panic!("raw AES accepted namespace {namespace:?}: {other:?}"),
        }
        for keyring in [
            RawRsaKeyring::builder(namespace, "k", RsaPadding::OaepSha256)
                .public_key_pem(RSA_PUBLIC_PEM),
            RawRsaKeyring::builder(namespace, "k", RsaPadding::OaepSha256)
                .private_key_pem(RSA_PRIVATE_PEM),
        ] {
            let message = invalid_key(namespace, keyring.build());
            assert!(message.contains("reserved"), "{message}");
        }
    }
    // Only the prefix is reserved: these are ordinary namespaces.
    let client = esdk::Client::default();
    for namespace in [
        "my-aws-kms",
        "aws",
        "aws-km",
        "awskms",
        "aws_kms",
        "raw-aws-kms",
    ] {
        let aes = RawAesKeyring::new(namespace, "k", &[1u8; 32]).unwrap();
        let rsa = RawRsaKeyring::builder(namespace, "k", RsaPadding::OaepSha256)
            .public_key_pem(RSA_PUBLIC_PEM)
            .private_key_pem(RSA_PRIVATE_PEM)
            .build()
            .unwrap();
        for keyring in [&aes as &dyn Keyring, &rsa] {
            let message = encrypt(&client, keyring, b"ok", &EncryptionContext::new()).unwrap();
            assert_eq!(
                decrypt(&client, keyring, &message).unwrap().plaintext,
                b"ok"
            );
        }
    }
}

#[test]
fn rsa_keyring_debug_says_what_it_can_do() {
    for (keyring, encrypt, decrypt) in [
        (rsa_public_keyring(RsaPadding::OaepSha256), true, false),
        (rsa_private_keyring(RsaPadding::OaepSha256), false, true),
        (rsa_keyring(RsaPadding::OaepSha256), true, true),
    ] {
        let debug = format!("{keyring:?}");
        for needle in [
            "namespace: \"rsa-ns\"".to_owned(),
            "name: \"rsa-key\"".to_owned(),
            "padding: OaepSha256".to_owned(),
            "modulus_bits: 2048".to_owned(),
            format!("can_encrypt: {encrypt}"),
            format!("can_decrypt: {decrypt}"),
        ] {
            assert!(debug.contains(&needle), "{needle} not in {debug}");
        }
    }
    let builder = builder(RsaPadding::Pkcs1).private_key_pem(RSA_PRIVATE_PEM);
    let debug = format!("{builder:?}");
    assert!(
        debug.contains("public_key: None") && debug.contains("private_key: Some(\"PEM\")"),
        "{debug}"
    );
}
