//! Helpers shared by the fuzz targets: the fixed keyring and client the seed corpora were made
//! with, and the two ways to decrypt (one-shot and the sans-I/O `Decryptor` in chunks).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use esdk::blocking::block_on;
use esdk::stream::Decryptor;
use esdk::{Client, CommitmentPolicy, RawAesKeyring};

/// The wrapping key of [`keyring`] (the seed corpora are encrypted under it).
pub const KEY: [u8; 32] = [
    0x5e, 0x11, 0xa7, 0x3c, 0x92, 0x04, 0xd8, 0x6b, 0x2f, 0xe1, 0x47, 0x8a, 0x0d, 0xb3, 0x66, 0xc9,
    0x71, 0x1e, 0xf4, 0x58, 0x23, 0x9d, 0xaa, 0x36, 0xcc, 0x05, 0x8f, 0x62, 0xbe, 0x19, 0x7d, 0xe0,
];
/// Key namespace of [`keyring`].
pub const NAMESPACE: &str = "esdk-fuzz";
/// Key name of [`keyring`].
pub const NAME: &str = "aes-256";

/// The fixed raw AES keyring every decrypting target uses.
pub fn keyring() -> RawAesKeyring {
    RawAesKeyring::new(NAMESPACE, NAME, &KEY).unwrap()
}

/// A decrypting client that accepts every suite, on one thread.
pub fn decrypt_client() -> Client {
    Client::builder()
        .commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
        .threads(1)
        .build()
        .unwrap()
}

/// One-shot decrypt: the plaintext, or `None` on any error.
pub fn decrypt_one_shot(
    client: &Client,
    keyring: &RawAesKeyring,
    message: &[u8],
) -> Option<Vec<u8>> {
    esdk::blocking::decrypt(client, keyring, message)
        .ok()
        .map(|d| d.plaintext)
}

/// Decrypts through the sans-I/O [`Decryptor`], pushing `message` in pieces of the sizes in
/// `chunks` (used in turn, cycling; 0 counts as 1). The plaintext, or `None` on any error.
pub fn decrypt_streaming(
    client: &Client,
    keyring: &RawAesKeyring,
    message: &[u8],
    chunks: &[usize],
) -> Option<Vec<u8>> {
    let mut d = Decryptor::new(client);
    let mut out = Vec::new();
    let mut rest = message;
    let mut sizes = chunks.iter().copied().cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let (mut piece, tail) = rest.split_at(n);
        rest = tail;
        loop {
            let used = d.push(piece, &mut out).ok()?;
            if d.needs_authentication() {
                block_on(d.authenticate(keyring, &esdk::DecryptOptions::new())).ok()?;
                piece = &piece[used..];
                continue;
            }
            assert_eq!(used, piece.len(), "push consumed only part of a body chunk");
            break;
        }
    }
    d.finish().ok()?;
    Some(out)
}

/// Splits a fuzz input into chunk sizes and a message: the low 4 bits of the first byte say
/// how many chunk-size bytes follow (each gives a piece of 1..=256 bytes; none: one piece).
pub fn split_chunking(data: &[u8]) -> (Vec<usize>, &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let k = usize::from(first & 0x0f).min(rest.len());
    let (sizes, message) = rest.split_at(k);
    (sizes.iter().map(|&b| usize::from(b) + 1).collect(), message)
}
