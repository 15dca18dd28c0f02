//! Streaming encryption and decryption with memory bounded by the frame length.
//!
//! [`Encryptor`] and [`Decryptor`] are sans-I/O: the caller pushes bytes in and takes bytes
//! out, in any chunking, as rustls separates its state machine from sockets. [`io`] adapts them
//! to `std::io::Write` and `std::io::Read`.

mod decryptor;
mod encryptor;
pub mod io;
pub(crate) mod parallel;
pub(crate) mod sink;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

pub use decryptor::{Decryptor, Verification};
pub use encryptor::Encryptor;

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::io::{DecryptingReader, EncryptingWriter};
    use super::*;
    use crate::blocking::block_on;
    use crate::{suite, Client, CommitmentPolicy, EncryptionContext, RawAesKeyring};

    fn clients() -> Vec<Client> {
        suite::ALL
            .iter()
            .map(|s| {
                let policy = if s.is_committing() {
                    CommitmentPolicy::RequireEncryptRequireDecrypt
                } else {
                    CommitmentPolicy::ForbidEncryptAllowDecrypt
                };
                Client::builder()
                    .commitment_policy(policy)
                    .suite(s)
                    .frame_length(17)
                    .build()
                    .unwrap()
            })
            .collect()
    }

    fn feed(
        client: &Client,
        keyring: &RawAesKeyring,
        message: &[u8],
        chunk: usize,
    ) -> crate::Result<Vec<u8>> {
        let mut d = Decryptor::new(client);
        let mut out = Vec::new();
        for piece in message.chunks(chunk) {
            let mut piece = piece;
            loop {
                let used = d.push(piece, &mut out)?;
                if d.needs_authentication() {
                    block_on(d.authenticate(keyring, &crate::DecryptOptions::new()))?;
                    piece = &piece[used..];
                    continue;
                }
                break;
            }
        }
        d.finish()?;
        Ok(out)
    }

    #[test]
    fn any_chunking_decrypts_and_truncation_never_finishes() {
        let keyring = RawAesKeyring::new("ns", "k", &[5u8; 32]).unwrap();
        let context = EncryptionContext::from([("a".to_owned(), "b".to_owned())]);
        for client in clients() {
            for len in [0usize, 1, 16, 17, 18, 100] {
                let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let message = block_on(client.encrypt(&keyring, &plaintext, &context)).unwrap();
                for chunk in [1, 7, 16, 18, 1000] {
                    assert_eq!(feed(&client, &keyring, &message, chunk).unwrap(), plaintext);
                }
                for cut in [message.len() - 1, message.len() / 2] {
                    assert!(feed(&client, &keyring, &message[..cut], 5).is_err());
                }
                let mut longer = message.clone();
                longer.push(0);
                assert!(feed(&client, &keyring, &longer, 9).is_err());
            }
        }
    }

    #[test]
    fn streaming_encrypt_in_any_chunking_decrypts() {
        let keyring = RawAesKeyring::new("ns", "k", &[5u8; 32]).unwrap();
        for client in clients() {
            let plaintext: Vec<u8> = (0..200u32).map(|i| (i * 7) as u8).collect();
            for chunk in [1, 7, 16, 17, 18, 500] {
                let mut w = EncryptingWriter::new(
                    &client,
                    &keyring,
                    &crate::EncryptOptions::new(),
                    Vec::new(),
                )
                .unwrap();
                for piece in plaintext.chunks(chunk) {
                    w.write_all(piece).unwrap();
                }
                let message = w.finish().unwrap();
                // 200 bytes in 17-byte frames: 11 regular frames and a final frame of 13.
                let mut r = DecryptingReader::new(
                    &client,
                    &keyring,
                    &crate::DecryptOptions::new(),
                    message.as_slice(),
                )
                .unwrap();
                let mut out = Vec::new();
                r.read_to_end(&mut out).unwrap();
                assert_eq!(out, plaintext);
                let one_shot = block_on(client.decrypt(&keyring, &message)).unwrap();
                assert_eq!(one_shot.plaintext, plaintext);
            }
        }
    }

    #[test]
    fn signed_final_frame_is_held_until_the_signature_verifies() {
        let keyring = RawAesKeyring::new("ns", "k", &[5u8; 32]).unwrap();
        let client = Client::builder().frame_length(10).build().unwrap();
        let plaintext = [9u8; 25];
        let message =
            block_on(client.encrypt(&keyring, &plaintext, &EncryptionContext::new())).unwrap();
        let mut d = Decryptor::new(&client);
        let mut out = Vec::new();
        let used = d.push(&message, &mut out).unwrap();
        block_on(d.authenticate(&keyring, &crate::DecryptOptions::new())).unwrap();
        assert_eq!(d.verification(), Verification::SignaturePending);
        // Everything but the last footer byte: two regular frames released, the final one held.
        d.push(&message[used..message.len() - 1], &mut out).unwrap();
        assert_eq!(out.len(), 20);
        assert_eq!(d.verification(), Verification::SignaturePending);
        d.push(&message[message.len() - 1..], &mut out).unwrap();
        assert_eq!(out, plaintext);
        assert_eq!(d.verification(), Verification::Complete);
        d.finish().unwrap();
    }

    /// A reader that hands out at most 7 bytes per call.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn verification_follows_the_message() {
        let keyring = RawAesKeyring::new("ns", "k", &[5u8; 32]).unwrap();
        for (suite, during) in [
            (
                &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
                Verification::FramesAuthenticated,
            ),
            (
                &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
                Verification::SignaturePending,
            ),
        ] {
            let client = Client::builder()
                .suite(suite)
                .frame_length(10)
                .build()
                .unwrap();
            let message =
                block_on(client.encrypt(&keyring, &[3u8; 45], &EncryptionContext::new())).unwrap();
            let mut r = DecryptingReader::new(
                &client,
                &keyring,
                &crate::DecryptOptions::new(),
                Trickle(&message),
            )
            .unwrap();
            assert_eq!(r.verification(), during);
            let mut first = [0u8; 10];
            r.read_exact(&mut first).unwrap();
            assert_eq!(r.verification(), during);
            let mut rest = Vec::new();
            r.read_to_end(&mut rest).unwrap();
            assert_eq!(r.verification(), Verification::Complete);
            // A tampered tail: the reader fails and never claims completeness.
            let mut tampered = message.clone();
            let last = tampered.len() - 1;
            tampered[last] ^= 1;
            let mut r = DecryptingReader::new(
                &client,
                &keyring,
                &crate::DecryptOptions::new(),
                Trickle(&tampered),
            )
            .unwrap();
            assert!(r.read_to_end(&mut Vec::new()).is_err());
            assert_ne!(r.verification(), Verification::Complete);
        }
    }

    #[test]
    fn truncated_stream_is_an_unexpected_eof() {
        let keyring = RawAesKeyring::new("ns", "k", &[5u8; 32]).unwrap();
        let client = Client::default();
        let message =
            block_on(client.encrypt(&keyring, &[1u8; 5000], &EncryptionContext::new())).unwrap();
        let mut r = DecryptingReader::new(
            &client,
            &keyring,
            &crate::DecryptOptions::new(),
            &message[..message.len() - 3],
        )
        .unwrap();
        let err = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    }
}
