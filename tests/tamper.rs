//! Tampered, truncated and extended messages, and the policies and limits that refuse
//! messages: every failure must be an `Err` (never `Ok`, never a panic), with the variant the
//! specification calls for where it names one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use common::*;
use esdk::blocking::{decrypt, encrypt};
use esdk::{
    suite, Client, CommitmentPolicy, EncryptionContext, Error, Keyring, MultiKeyring, RawAesKeyring,
};

/// Frame length 16, 40 bytes of plaintext: two regular frames and a final frame of 8.
const FRAME: usize = 16;
const PLAINTEXT_LEN: usize = 40;
const REGULAR_FRAME_LEN: usize = 4 + 12 + FRAME + 16;

struct Fixture {
    client: Client,
    keyring: RawAesKeyring,
    message: Vec<u8>,
    header_len: usize,
}

fn fixture(id: u16) -> Fixture {
    let suite = suite(id);
    let client = client(suite, FRAME as u32);
    let keyring = aes_keyring();
    let message = encrypt(
        &client,
        &keyring,
        &plaintext(PLAINTEXT_LEN),
        &ctx(&[("purpose", "tamper test")]),
    )
    .unwrap();
    let header_len = esdk::parse_header(&message).unwrap().len();
    assert_eq!(
        decrypt(&client, &keyring, &message).unwrap().plaintext,
        plaintext(PLAINTEXT_LEN)
    );
    Fixture {
        client,
        keyring,
        message,
        header_len,
    }
}

impl Fixture {
    /// `None` when `bytes` is rejected; otherwise a description of what went wrong.
    fn outcome(&self, bytes: &[u8]) -> Option<String> {
        match catch_unwind(AssertUnwindSafe(|| {
            decrypt(&self.client, &self.keyring, bytes)
        })) {
            Ok(Err(_)) => None,
            Ok(Ok(d)) => Some(format!("accepted ({} plaintext bytes)", d.plaintext.len())),
            Err(_) => Some("panicked".to_owned()),
        }
    }

    fn decrypt(&self, bytes: &[u8]) -> esdk::Result<esdk::Decrypted> {
        decrypt(&self.client, &self.keyring, bytes)
    }

    fn with(&self, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut m = self.message.clone();
        edit(&mut m);
        m
    }

    /// Start of the body (first frame).
    fn body(&self) -> usize {
        self.header_len
    }

    fn frame(&self, index: usize) -> std::ops::Range<usize> {
        let start = self.body() + index * REGULAR_FRAME_LEN;
        start..start + REGULAR_FRAME_LEN
    }

    fn final_frame(&self) -> std::ops::Range<usize> {
        let start = self.body() + 2 * REGULAR_FRAME_LEN;
        start..start + 4 + 4 + 12 + 4 + (PLAINTEXT_LEN - 2 * FRAME) + 16
    }
}

fn report(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} failure(s), first: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
}

fn every_bit_flip_is_rejected(id: u16) {
    let f = fixture(id);
    // Spread the bytes over the cores: with the pure-Rust backend, P-384 verification of a
    // flipped footer is slow.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = f.message.len().div_ceil(threads);
    let tried = std::sync::atomic::AtomicUsize::new(0);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..f.message.len())
            .step_by(chunk)
            .map(|start| {
                let (f, tried) = (&f, &tried);
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for byte in start..(start + chunk).min(f.message.len()) {
                        for bit in 0..8 {
                            let m = f.with(|m| m[byte] ^= 1 << bit);
                            tried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if let Some(why) = f.outcome(&m) {
                                failures.push(format!("byte {byte} bit {bit}: {why}"));
                            }
                        }
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(tried.into_inner(), f.message.len() * 8);
    report(&format!("bit flips of 0x{id:04x}"), &failures);
}

fn every_truncation_is_rejected(id: u16) {
    let f = fixture(id);
    let mut failures = Vec::new();
    for cut in 0..f.message.len() {
        if let Some(why) = f.outcome(&f.message[..cut]) {
            failures.push(format!("cut at {cut}: {why}"));
        }
    }
    report(&format!("truncations of 0x{id:04x}"), &failures);
}

fn every_extension_is_rejected(id: u16) {
    let f = fixture(id);
    for extra in [&[0u8][..], &[0xff], &[0, 0], &f.message] {
        let m = f.with(|m| m.extend_from_slice(extra));
        assert_eq!(f.outcome(&m), None, "0x{id:04x} + {} bytes", extra.len());
        assert!(matches!(
            f.decrypt(&m),
            Err(Error::Malformed(esdk::FormatError::TrailingBytes))
        ));
    }
}

macro_rules! per_suite {
    ($($test:ident: $($name:ident = $id:literal),*;)*) => {
        $($(
            #[test]
            fn $name() {
                $test($id);
            }
        )*)*
    };
}

per_suite! {
    every_bit_flip_is_rejected: bit_flips_0578 = 0x0578, bit_flips_0378 = 0x0378,
        bit_flips_0478 = 0x0478, bit_flips_0178 = 0x0178, bit_flips_0014 = 0x0014,
        bit_flips_0214 = 0x0214;
    every_truncation_is_rejected: truncations_0578 = 0x0578, truncations_0378 = 0x0378,
        truncations_0478 = 0x0478, truncations_0178 = 0x0178, truncations_0014 = 0x0014,
        truncations_0214 = 0x0214;
    every_extension_is_rejected: extensions_0578 = 0x0578, extensions_0378 = 0x0378,
        extensions_0478 = 0x0478, extensions_0178 = 0x0178;
}

const SUITES: [u16; 4] = [0x0578, 0x0378, 0x0478, 0x0178];

#[test]
fn fixture_layout_is_as_expected() {
    for id in SUITES {
        let f = fixture(id);
        let parsed = esdk::parse_header(&f.message).unwrap();
        check_layout(
            &f.message,
            parsed.unauthenticated(),
            f.header_len,
            PLAINTEXT_LEN,
        );
        assert_eq!(&f.message[f.final_frame().start..][..4], &[0xff; 4]);
    }
}

#[test]
fn wrong_key_is_no_keyring_decrypted() {
    for id in SUITES {
        let f = fixture(id);
        let wrong = RawAesKeyring::new("esdk-tests", "aes-256", &[0x42u8; 32]).unwrap();
        match decrypt(&f.client, &wrong, &f.message) {
            Err(Error::NoKeyringDecrypted { attempts, .. }) => assert!(!attempts.is_empty()),
            other => panic!("0x{id:04x}: expected NoKeyringDecrypted, got {other:?}"),
        }
    }
}

#[test]
fn changed_commitment_is_commitment_mismatch() {
    // The commitment is checked before header authentication (spec: decrypt, "verify the
    // commit key before the header"), so the error names the commitment.
    for id in [0x0578, 0x0478] {
        let f = fixture(id);
        for i in commitment_range(f.header_len) {
            let m = f.with(|m| m[i] ^= 0x01);
            assert!(
                matches!(f.decrypt(&m), Err(Error::CommitmentMismatch)),
                "0x{id:04x} commitment byte {i}"
            );
        }
    }
}

#[test]
fn changed_header_tag_is_header_authentication() {
    for id in SUITES {
        let f = fixture(id);
        for i in f.header_len - 16..f.header_len {
            let m = f.with(|m| m[i] ^= 0x80);
            assert!(
                matches!(f.decrypt(&m), Err(Error::HeaderAuthentication)),
                "0x{id:04x} header tag byte {i}"
            );
        }
    }
    // v1 headers: the header IV too.
    for id in [0x0378, 0x0178] {
        let f = fixture(id);
        let iv = f.header_len - 16 - 12;
        let m = f.with(|m| m[iv] ^= 1);
        assert!(matches!(f.decrypt(&m), Err(Error::HeaderAuthentication)));
    }
}

#[test]
fn changed_frame_is_frame_authentication() {
    for id in SUITES {
        let f = fixture(id);
        for (sequence, range) in [(1u32, f.frame(0)), (2, f.frame(1)), (3, f.final_frame())] {
            // The first ciphertext byte, and the last tag byte.
            let content = if sequence == 3 { 24 } else { 16 };
            for i in [range.start + content, range.end - 1] {
                let m = f.with(|m| m[i] ^= 0x04);
                match f.decrypt(&m) {
                    Err(Error::FrameAuthentication { sequence: s, .. }) => assert_eq!(s, sequence),
                    other => panic!("0x{id:04x} byte {i}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn reordered_dropped_or_repeated_frames_are_rejected() {
    for id in SUITES {
        let f = fixture(id);
        let (a, b) = (f.frame(0), f.frame(1));
        let swapped = f.with(|m| {
            let first = m[a.clone()].to_vec();
            let second = m[b.clone()].to_vec();
            m[a.clone()].copy_from_slice(&second);
            m[b.clone()].copy_from_slice(&first);
        });
        let dropped = f.with(|m| {
            m.drain(b.clone());
        });
        let repeated = f.with(|m| {
            let first = m[a.clone()].to_vec();
            m.splice(b.start..b.start, first);
        });
        for (what, m) in [
            ("swapped", swapped),
            ("dropped", dropped),
            ("repeated", repeated),
        ] {
            assert_eq!(f.outcome(&m), None, "0x{id:04x} {what}");
            assert!(
                matches!(f.decrypt(&m), Err(Error::Malformed(_))),
                "0x{id:04x} {what}: {:?}",
                f.decrypt(&m).err()
            );
        }
    }
}

#[test]
fn frames_from_another_message_are_rejected() {
    for id in SUITES {
        let f = fixture(id);
        let other = encrypt(
            &f.client,
            &f.keyring,
            &plaintext(PLAINTEXT_LEN),
            &ctx(&[("purpose", "tamper test")]),
        )
        .unwrap();
        let other_header_len = esdk::parse_header(&other).unwrap().len();
        // This header with the other message's body (same lengths, other data key).
        let mut m = f.message[..f.header_len].to_vec();
        m.extend_from_slice(&other[other_header_len..]);
        assert!(
            matches!(
                f.decrypt(&m),
                Err(Error::FrameAuthentication { sequence: 1, .. })
            ),
            "0x{id:04x}"
        );
    }
}

#[test]
fn changed_signature_is_bad_signature() {
    for id in [0x0578, 0x0378] {
        let f = fixture(id);
        // The last byte of the DER signature is the low byte of `s`: still valid DER.
        let last = f.message.len() - 1;
        let m = f.with(|m| m[last] ^= 0x01);
        assert!(
            matches!(f.decrypt(&m), Err(Error::BadSignature)),
            "0x{id:04x}"
        );
        // A signature from another message (other key, other hash).
        let other = encrypt(&f.client, &f.keyring, b"other", &EncryptionContext::new()).unwrap();
        let sig_start = f.final_frame().end;
        // `other` is one final frame of 5 bytes, then its footer.
        let parsed = esdk::parse_header(&other).unwrap();
        let other_body_end = parsed.len() + 4 + 4 + 12 + 4 + 5 + 16;
        let m = f.with(|m| {
            m.truncate(sig_start);
            m.extend_from_slice(&other[other_body_end..]);
        });
        assert!(
            matches!(f.decrypt(&m), Err(Error::BadSignature)),
            "0x{id:04x}"
        );
        // Without the footer at all.
        assert!(matches!(
            f.decrypt(&f.message[..sig_start]),
            Err(Error::Malformed(esdk::FormatError::Truncated(_)))
        ));
    }
}

#[test]
fn non_committing_message_refused_under_require_decrypt() {
    let f = fixture(0x0178);
    let strict = Client::builder()
        .commitment_policy(CommitmentPolicy::RequireEncryptRequireDecrypt)
        .build()
        .unwrap();
    match decrypt(&strict, &f.keyring, &f.message) {
        Err(Error::PolicyRefused {
            policy,
            suite,
            operation,
            ..
        }) => {
            assert_eq!(policy, CommitmentPolicy::RequireEncryptRequireDecrypt);
            assert_eq!(suite, 0x0178);
            assert_eq!(operation, "decrypt");
        }
        other => panic!("expected PolicyRefused, got {other:?}"),
    }
    // The migration policy accepts it.
    let migrating = Client::builder()
        .commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
        .build()
        .unwrap();
    assert_eq!(
        decrypt(&migrating, &f.keyring, &f.message)
            .unwrap()
            .plaintext,
        plaintext(PLAINTEXT_LEN)
    );
}

/// Asks its inner materials manager for one suite, whatever the caller's policy allows.
#[derive(Debug)]
struct PickSuite(
    &'static esdk::suite::AlgorithmSuite,
    esdk::DefaultMaterialsManager,
);

impl esdk::MaterialsManager for PickSuite {
    fn encryption_materials<'a>(
        &'a self,
        mut request: esdk::materials::EncryptionRequest,
    ) -> esdk::keyring::MaterialsFuture<'a, esdk::Result<esdk::materials::EncryptionMaterials>>
    {
        request.suite = Some(self.0);
        request.commitment_policy = CommitmentPolicy::RequireEncryptAllowDecrypt;
        if !self.0.is_committing() {
            request.commitment_policy = CommitmentPolicy::ForbidEncryptAllowDecrypt;
        }
        self.1.encryption_materials(request)
    }

    fn decryption_materials<'a>(
        &'a self,
        request: esdk::materials::DecryptionRequest,
    ) -> esdk::keyring::MaterialsFuture<'a, esdk::Result<esdk::materials::DecryptionMaterials>>
    {
        self.1.decryption_materials(request)
    }
}

#[test]
fn encrypt_policy_refuses_the_wrong_kind_of_suite() {
    for &s in suite::ALL {
        for policy in [
            CommitmentPolicy::ForbidEncryptAllowDecrypt,
            CommitmentPolicy::RequireEncryptAllowDecrypt,
            CommitmentPolicy::RequireEncryptRequireDecrypt,
        ] {
            let allowed =
                (policy == CommitmentPolicy::ForbidEncryptAllowDecrypt) != s.is_committing();
            // The client refuses the combination when it is built; encrypt through a
            // materials manager that picks the suite itself still meets the policy check.
            let built = Client::builder().commitment_policy(policy).suite(s).build();
            assert_eq!(built.is_ok(), allowed, "{policy:?} 0x{:04x}", s.id);
            let client = Client::builder().commitment_policy(policy).build().unwrap();
            let cmm = PickSuite(
                s,
                esdk::DefaultMaterialsManager::new(std::sync::Arc::new(aes_keyring())),
            );
            let result = esdk::blocking::encrypt_with(
                &client,
                esdk::KeySource::MaterialsManager(&cmm),
                b"x",
                &esdk::EncryptOptions::new(),
            );
            if allowed {
                assert!(result.is_ok(), "{policy:?} 0x{:04x}", s.id);
            } else {
                match result {
                    Err(Error::PolicyRefused {
                        suite, operation, ..
                    }) => assert_eq!((suite, operation), (s.id, "encrypt")),
                    other => panic!("{policy:?} 0x{:04x}: {other:?}", s.id),
                }
            }
        }
    }
}

#[test]
fn unsigned_only_refuses_signed_messages() {
    let only_unsigned = |policy| {
        Client::builder()
            .commitment_policy(policy)
            .unsigned_only(true)
            .build()
            .unwrap()
    };
    for id in SUITES {
        let f = fixture(id);
        let client = only_unsigned(if id & 0x0400 != 0 {
            CommitmentPolicy::RequireEncryptRequireDecrypt
        } else {
            CommitmentPolicy::ForbidEncryptAllowDecrypt
        });
        let result = decrypt(&client, &f.keyring, &f.message);
        if suite(id).is_signing() {
            assert!(
                matches!(result, Err(Error::SignedSuiteRefused(s)) if s == id),
                "0x{id:04x}: {result:?}"
            );
        } else {
            assert_eq!(result.unwrap().plaintext, plaintext(PLAINTEXT_LEN));
        }
    }
    // Even the header alone is enough to refuse.
    let f = fixture(0x0578);
    let client = only_unsigned(CommitmentPolicy::RequireEncryptRequireDecrypt);
    let mut decryptor = esdk::stream::Decryptor::new(&client);
    let mut out = Vec::new();
    decryptor
        .push(&f.message[..f.header_len], &mut out)
        .unwrap();
    assert!(matches!(
        esdk::blocking::block_on(decryptor.authenticate(&f.keyring, &esdk::DecryptOptions::new())),
        Err(Error::SignedSuiteRefused(0x0578))
    ));
}

#[test]
fn max_encrypted_data_keys() {
    let a: Arc<dyn Keyring> = Arc::new(aes_keyring());
    let b: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("ns", "second", &[9u8; 16]).unwrap());
    let multi = MultiKeyring::new(Some(a), vec![b]).unwrap();
    let open = Client::default();
    let message = encrypt(&open, &multi, b"two keys", &EncryptionContext::new()).unwrap();
    assert_eq!(
        esdk::parse_header(&message)
            .unwrap()
            .unauthenticated()
            .encrypted_data_keys()
            .len(),
        2
    );

    let limited = Client::builder()
        .max_encrypted_data_keys(1)
        .build()
        .unwrap();
    assert!(matches!(
        decrypt(&limited, &multi, &message),
        Err(Error::TooManyEncryptedDataKeys { limit: 1, .. })
    ));
    assert!(matches!(
        encrypt(&limited, &multi, b"two keys", &EncryptionContext::new()),
        Err(Error::TooManyEncryptedDataKeys { limit: 1, .. })
    ));
    // One key is within the limit; two are within a limit of two.
    let single = encrypt(&limited, &aes_keyring(), b"one", &EncryptionContext::new()).unwrap();
    assert_eq!(
        decrypt(&limited, &aes_keyring(), &single)
            .unwrap()
            .plaintext,
        b"one"
    );
    let two = Client::builder()
        .max_encrypted_data_keys(2)
        .build()
        .unwrap();
    assert_eq!(
        decrypt(&two, &multi, &message).unwrap().plaintext,
        b"two keys"
    );
    assert!(encrypt(&two, &multi, b"x", &EncryptionContext::new()).is_ok());
}

#[test]
fn reserved_context_key_is_refused_on_encrypt() {
    let keyring = aes_keyring();
    for &s in suite::ALL {
        let client = client(s, 64);
        let context = ctx(&[(esdk::cmm::PUBLIC_KEY_CONTEXT_KEY, "AAAA"), ("other", "x")]);
        assert!(
            matches!(
                encrypt(&client, &keyring, b"x", &context),
                Err(Error::InvalidContext(_))
            ),
            "0x{:04x}",
            s.id
        );
    }
}

#[test]
fn unknown_suite_and_version_are_rejected() {
    let f = fixture(0x0178);
    // v1: version 01, type 80, suite id at 2..4.
    let m = f.with(|m| m[2..4].copy_from_slice(&0x0015u16.to_be_bytes()));
    assert!(matches!(f.decrypt(&m), Err(Error::UnknownSuite(0x0015))));
    let m = f.with(|m| m[0] = 0x03);
    assert!(matches!(f.decrypt(&m), Err(Error::Malformed(_))));
    // A v2 suite id in a v1 header.
    let m = f.with(|m| m[2..4].copy_from_slice(&0x0478u16.to_be_bytes()));
    assert!(matches!(f.decrypt(&m), Err(Error::Malformed(_))));
}
