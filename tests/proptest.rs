//! Property tests: round trips over arbitrary plaintext, context, frame length and suite; and
//! every single-bit flip and every truncation of a valid message is refused, for every suite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use esdk::blocking::{block_on, decrypt, decrypt_with, encrypt};
use esdk::stream::Decryptor;
use esdk::{Client, CommitmentPolicy, EncryptionContext};
use proptest::prelude::*;

const CASES: u32 = 64;

fn any_suite() -> impl Strategy<Value = &'static esdk::suite::AlgorithmSuite> {
    (0..esdk::suite::ALL.len()).prop_map(|i| esdk::suite::ALL[i])
}

fn any_context() -> impl Strategy<Value = EncryptionContext> {
    proptest::collection::btree_map(any::<String>(), any::<String>(), 0..5).prop_map(|mut c| {
        // Encrypt refuses the reserved prefix.
        c.retain(|k, _| !k.starts_with("aws-crypto-"));
        EncryptionContext::from(c)
    })
}

/// A decrypting client that accepts every suite.
fn reader() -> Client {
    Client::builder()
        .commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
        .build()
        .unwrap()
}

/// Decrypts through the `Decryptor` in pieces of `chunk` bytes.
fn stream(client: &Client, message: &[u8], chunk: usize) -> esdk::Result<Vec<u8>> {
    let keyring = aes_keyring();
    let mut d = Decryptor::new(client);
    let mut out = Vec::new();
    for piece in message.chunks(chunk) {
        let used = d.push(piece, &mut out)?;
        if d.needs_authentication() {
            block_on(d.authenticate(&keyring, &esdk::DecryptOptions::new()))?;
            d.push(&piece[used..], &mut out)?;
        }
    }
    d.finish()?;
    Ok(out)
}

/// A valid message of `suite`: 3 frames of 16 bytes and a final one of 7, with a context.
fn message(suite: &'static esdk::suite::AlgorithmSuite) -> Vec<u8> {
    encrypt(
        &client(suite, 16),
        &aes_keyring(),
        &plaintext(55),
        &ctx(&[("purpose", "proptest"), ("b", "2")]),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn round_trip(
        suite in any_suite(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..3000),
        context in any_context(),
        frame_length in 1u32..600,
        chunk in 1usize..2000,
    ) {
        let client = client(suite, frame_length);
        let keyring = aes_keyring();
        let message = encrypt(&client, &keyring, &plaintext, &context).unwrap();
        let header = esdk::parse_header(&message).unwrap();
        check_layout(&message, header.unauthenticated(), header.len(), plaintext.len());
        let decrypted = decrypt_with(&client, &keyring, &message, &esdk::DecryptOptions::new().reproduced_context(context.clone())).unwrap();
        prop_assert_eq!(&decrypted.plaintext, &plaintext);
        prop_assert_eq!(decrypted.header.suite().id, suite.id);
        check_stored_context(suite, decrypted.header.encryption_context(), &context);
        prop_assert_eq!(stream(&reader(), &message, chunk).unwrap(), plaintext);
    }

    #[test]
    fn any_bit_flip_is_refused(suite in any_suite(), position in any::<prop::sample::Index>()) {
        let mut m = message(suite);
        let bit = position.index(m.len() * 8);
        m[bit / 8] ^= 1 << (bit % 8);
        let result = decrypt(&reader(), &aes_keyring(), &m);
        prop_assert!(result.is_err(), "suite 0x{:04x}: bit {} accepted", suite.id, bit);
        prop_assert!(stream(&reader(), &m, 7).is_err());
    }

    #[test]
    fn any_truncation_is_refused(suite in any_suite(), position in any::<prop::sample::Index>()) {
        let m = message(suite);
        let cut = position.index(m.len());
        let result = decrypt(&reader(), &aes_keyring(), &m[..cut]);
        prop_assert!(result.is_err(), "suite 0x{:04x}: prefix of {} bytes accepted", suite.id, cut);
        prop_assert!(stream(&reader(), &m[..cut], 5).is_err());
    }

    #[test]
    fn any_appended_bytes_are_refused(
        suite in any_suite(),
        extra in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let mut m = message(suite);
        m.extend_from_slice(&extra);
        prop_assert!(decrypt(&reader(), &aes_keyring(), &m).is_err());
        prop_assert!(stream(&reader(), &m, 9).is_err());
    }
}

/// Every suite, every bit: exhaustive over one message per suite (a complement to the sampled
/// property above; ~1,700 bytes x 8 bits per signed suite, so only the first and last 64 bytes
/// and every 7th byte in between).
#[test]
fn bit_flips_exhaustive_at_the_edges() {
    for &suite in esdk::suite::ALL {
        let m = message(suite);
        let positions = (0..m.len()).filter(|&i| i < 64 || i + 64 >= m.len() || i % 7 == 0);
        for i in positions {
            for bit in 0..8 {
                let mut t = m.clone();
                t[i] ^= 1 << bit;
                assert!(
                    decrypt(&reader(), &aes_keyring(), &t).is_err(),
                    "suite 0x{:04x}: byte {i} bit {bit} accepted",
                    suite.id
                );
            }
        }
    }
}
