//! Helpers shared by the integration tests: clients, keyrings, contexts, and an independent
//! reading of the message layout (so size checks do not trust the library's own parser).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use esdk::cmm::PUBLIC_KEY_CONTEXT_KEY;
use esdk::header::ContentType;
use esdk::suite::AlgorithmSuite;
use esdk::suite::{MessageFormatVersion, SignatureAlgorithm};
use esdk::{
    Client, CommitmentPolicy, EncryptionContext, Header, RawAesKeyring, RawRsaKeyring, RsaPadding,
};

pub const RSA_PRIVATE_PEM: &str = include_str!("../data/rsa-2048-private.pem");
pub const RSA_PUBLIC_PEM: &str = include_str!("../data/rsa-2048-public.pem");
/// A second, unrelated key pair, in PKCS #1 PEM (`RSA PRIVATE KEY`, `RSA PUBLIC KEY`).
pub const RSA_B_PRIVATE_PKCS1_PEM: &str = include_str!("../data/rsa-2048-b-private-pkcs1.pem");
pub const RSA_B_PUBLIC_PKCS1_PEM: &str = include_str!("../data/rsa-2048-b-public-pkcs1.pem");

/// The DER inside a one-block PEM.
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// A raw RSA keyring `rsa-ns`/`rsa-key` with both halves of the test key pair.
pub fn rsa_keyring(padding: RsaPadding) -> RawRsaKeyring {
    RawRsaKeyring::builder("rsa-ns", "rsa-key", padding)
        .public_key_pem(RSA_PUBLIC_PEM)
        .private_key_pem(RSA_PRIVATE_PEM)
        .build()
        .unwrap()
}

/// [`rsa_keyring`] with the public key only: encrypts, cannot decrypt.
pub fn rsa_public_keyring(padding: RsaPadding) -> RawRsaKeyring {
    RawRsaKeyring::builder("rsa-ns", "rsa-key", padding)
        .public_key_pem(RSA_PUBLIC_PEM)
        .build()
        .unwrap()
}

/// [`rsa_keyring`] with the private key only: decrypts, cannot encrypt.
pub fn rsa_private_keyring(padding: RsaPadding) -> RawRsaKeyring {
    RawRsaKeyring::builder("rsa-ns", "rsa-key", padding)
        .private_key_pem(RSA_PRIVATE_PEM)
        .build()
        .unwrap()
}

/// The wrapping key of [`aes_keyring`]: 32 distinct bytes.
pub const AES_KEY: [u8; 32] = [
    0x5e, 0x11, 0xa7, 0x3c, 0x92, 0x04, 0xd8, 0x6b, 0x2f, 0xe1, 0x47, 0x8a, 0x0d, 0xb3, 0x66, 0xc9,
    0x71, 0x1e, 0xf4, 0x58, 0x23, 0x9d, 0xaa, 0x36, 0xcc, 0x05, 0x8f, 0x62, 0xbe, 0x19, 0x7d, 0xe0,
];

pub fn aes_keyring() -> RawAesKeyring {
    RawAesKeyring::new("esdk-tests", "aes-256", &AES_KEY).unwrap()
}

/// The policy that lets `suite` encrypt: committing suites under the default policy,
/// non-committing ones under `ForbidEncryptAllowDecrypt`.
pub fn policy_for(suite: &AlgorithmSuite) -> CommitmentPolicy {
    if suite.is_committing() {
        CommitmentPolicy::default()
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    }
}

pub fn client(suite: &'static AlgorithmSuite, frame_length: u32) -> Client {
    Client::builder()
        .commitment_policy(policy_for(suite))
        .suite(suite)
        .frame_length(frame_length)
        .build()
        .unwrap()
}

pub fn suite(id: u16) -> &'static AlgorithmSuite {
    AlgorithmSuite::from_id(id).unwrap()
}

/// Deterministic, non-repeating-looking plaintext.
pub fn plaintext(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(131).wrapping_add(i >> 8) ^ 0x5a) as u8)
        .collect()
}

pub fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Empty, one pair, 20 pairs, and non-ASCII (Cyrillic, emoji, control bytes in a key).
pub fn contexts() -> Vec<(&'static str, EncryptionContext)> {
    let many: EncryptionContext = (0..20)
        .map(|i| (format!("key-{i:02}"), format!("value number {i}")))
        .collect();
    vec![
        ("empty", EncryptionContext::new()),
        ("one pair", ctx(&[("purpose", "test")])),
        ("20 pairs", many),
        (
            "non-ASCII",
            ctx(&[
                ("ключ", "значение"),
                ("emoji 🔐", "🙂👍"),
                ("\u{0}\u{1}\u{2}", "bytes \u{7f}"),
                ("", "empty key"),
            ]),
        ),
    ]
}

fn u16_at(m: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([m[at], m[at + 1]]))
}

fn u32_at(m: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(m[at..at + 4].try_into().unwrap())
}

/// The serialized length of an encryption context (empty context: zero bytes).
pub fn context_len(c: &EncryptionContext) -> usize {
    if c.is_empty() {
        0
    } else {
        2 + c.iter().map(|(k, v)| 4 + k.len() + v.len()).sum::<usize>()
    }
}

/// The header length the format requires for these parsed fields.
pub fn expected_header_len(h: &Header) -> usize {
    let edks: usize = h
        .encrypted_data_keys()
        .iter()
        .map(|e| 6 + e.provider_id.len() + e.provider_info.len() + e.ciphertext.len())
        .sum();
    let common = 2 /* suite */ + 2 + context_len(h.encryption_context()) + 2 + edks + 1 + 4 /* frame length */ + 16 /* tag */;
    match h.suite().message_format {
        MessageFormatVersion::V1 => common + 1 + 1 + 16 + 4 + 1 + 12,
        MessageFormatVersion::V2 => common + 1 + 32 + 32,
        _ => panic!("unknown message format"),
    }
}

/// Checks the body and footer of `message` byte by byte against the format, independently
/// of the library: frame count, sequence numbers, IVs, the final-frame marker and length, the
/// non-framed length, and the footer. `header_len` comes from `parse_header`.
pub fn check_layout(message: &[u8], header: &Header, header_len: usize, plaintext_len: usize) {
    assert_eq!(header_len, expected_header_len(header), "header length");
    let n = plaintext_len;
    let mut at = header_len;
    match header.content_type() {
        ContentType::Framed { frame_length } => {
            let f = frame_length.get() as usize;
            // Every full frame is regular; the final frame holds the rest, empty when n is a
            // multiple of f (as the Python SDK writes it): floor(n / f) + 1 frames.
            let frames = n / f + 1;
            let final_len = n - (frames - 1) * f;
            let body_len = (frames - 1) * (4 + 12 + f + 16) + (4 + 4 + 12 + 4 + final_len + 16);
            assert!(
                message.len() >= header_len + body_len,
                "message too short for {frames} frames"
            );
            for seq in 1..frames as u32 {
                assert_eq!(u32_at(message, at), seq, "sequence number of frame {seq}");
                let mut iv = [0u8; 12];
                iv[8..].copy_from_slice(&seq.to_be_bytes());
                assert_eq!(&message[at + 4..at + 16], &iv, "IV of frame {seq}");
                at += 4 + 12 + f + 16;
            }
            assert_eq!(u32_at(message, at), 0xFFFF_FFFF, "final frame marker");
            assert_eq!(
                u32_at(message, at + 4),
                frames as u32,
                "final frame sequence"
            );
            let mut iv = [0u8; 12];
            iv[8..].copy_from_slice(&(frames as u32).to_be_bytes());
            assert_eq!(&message[at + 8..at + 20], &iv, "final frame IV");
            assert_eq!(
                u32_at(message, at + 20) as usize,
                final_len,
                "final frame length"
            );
            at += 4 + 4 + 12 + 4 + final_len + 16;
            assert_eq!(at, header_len + body_len);
        }
        ContentType::NonFramed => {
            let len = u64::from_be_bytes(message[at + 12..at + 20].try_into().unwrap());
            assert_eq!(len, n as u64, "non-framed content length");
            at += 12 + 8 + n + 16;
        }
        _ => panic!("unknown content type"),
    }
    match header.suite().signature {
        None => assert_eq!(message.len(), at, "unsigned message has no footer"),
        Some(alg) => {
            let sig_len = u16_at(message, at);
            assert_eq!(message.len(), at + 2 + sig_len, "footer length");
            let (min, max) = match alg {
                SignatureAlgorithm::EcdsaP256Sha256 => (40, 72),
                SignatureAlgorithm::EcdsaP384Sha384 => (64, 104),
                _ => panic!("unknown signature algorithm"),
            };
            assert!(
                (min..=max).contains(&sig_len),
                "DER signature length {sig_len} outside {min}..={max}"
            );
            assert_eq!(message[at + 2], 0x30, "DER SEQUENCE");
        }
    }
}

/// The stored context a message of `suite` must carry for the caller's `context`:
/// `aws-crypto-public-key` added exactly for signed suites.
pub fn check_stored_context(
    suite: &AlgorithmSuite,
    stored: &EncryptionContext,
    given: &EncryptionContext,
) {
    let mut without_key = stored.clone();
    let public_key = without_key.remove(PUBLIC_KEY_CONTEXT_KEY);
    assert_eq!(&without_key, given, "stored context (0x{:04x})", suite.id);
    assert_eq!(
        public_key.is_some(),
        suite.is_signing(),
        "aws-crypto-public-key present iff signed (0x{:04x})",
        suite.id
    );
}

/// Position of the key commitment (v2 headers): the 32 bytes before the header tag.
pub fn commitment_range(header_len: usize) -> std::ops::Range<usize> {
    header_len - 16 - 32..header_len - 16
}
