//! Building the raw keyrings: the namespace both raw keyrings reserve for AWS KMS.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use esdk::blocking::{decrypt, encrypt};
use esdk::{EncryptionContext, Error, Keyring, RawAesKeyring, RawRsaKeyring, RsaPadding};

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
        for pem in [RSA_PUBLIC_PEM, RSA_PRIVATE_PEM] {
            match RawRsaKeyring::from_pem(namespace, "k", pem, RsaPadding::OaepSha256) {
                Err(Error::InvalidKey(message)) => {
                    assert!(message.contains("reserved"), "{message}")
                }
                other => panic!("raw RSA accepted namespace {namespace:?}: {other:?}"),
            }
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
        let rsa = RawRsaKeyring::from_pem(namespace, "k", RSA_PRIVATE_PEM, RsaPadding::OaepSha256)
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
