//! The same calls as [`crate::Client`], for callers without an async runtime.
//!
//! Each call drives its future to completion on the calling thread. Local keyrings (raw AES,
//! raw RSA, multi) never wait, so this costs nothing; a keyring that waits on the network parks
//! the thread until woken.
//!
//! ```
//! # fn main() -> Result<(), esdk::Error> {
//! let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
//! let client = esdk::Client::default();
//! let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
//! assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"hi");
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use crate::client::{Client, Decrypted};
use crate::cmm::MaterialsManager;
use crate::format::context::EncryptionContext;
use crate::keyring::Keyring;

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on the current thread (for the async calls of [`crate::hazmat`] and custom keyrings).
///
/// ```
/// assert_eq!(esdk::blocking::block_on(async { 1 + 1 }), 2);
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// Blocking [`Client::encrypt`].
///
/// # Errors
/// As [`Client::encrypt`].
pub fn encrypt(
    client: &Client,
    keyring: &dyn Keyring,
    plaintext: &[u8],
    encryption_context: &EncryptionContext,
) -> crate::Result<Vec<u8>> {
    block_on(client.encrypt(keyring, plaintext, encryption_context))
}

/// Blocking [`Client::encrypt_with_cmm`].
///
/// # Errors
/// As [`Client::encrypt_with_cmm`].
pub fn encrypt_with_cmm(
    client: &Client,
    cmm: &dyn MaterialsManager,
    plaintext: &[u8],
    encryption_context: &EncryptionContext,
) -> crate::Result<Vec<u8>> {
    block_on(client.encrypt_with_cmm(cmm, plaintext, encryption_context))
}

/// Blocking [`Client::decrypt`].
///
/// # Errors
/// As [`Client::decrypt`].
pub fn decrypt(client: &Client, keyring: &dyn Keyring, message: &[u8]) -> crate::Result<Decrypted> {
    block_on(client.decrypt(keyring, message))
}

/// Blocking [`Client::decrypt_with_context`].
///
/// # Errors
/// As [`Client::decrypt_with_context`].
pub fn decrypt_with_context(
    client: &Client,
    keyring: &dyn Keyring,
    message: &[u8],
    expected: &EncryptionContext,
) -> crate::Result<Decrypted> {
    block_on(client.decrypt_with_context(keyring, message, expected))
}

/// Blocking [`Client::decrypt_with_cmm`].
///
/// # Errors
/// As [`Client::decrypt_with_cmm`].
pub fn decrypt_with_cmm(
    client: &Client,
    cmm: &dyn MaterialsManager,
    message: &[u8],
    reproduced: Option<&EncryptionContext>,
) -> crate::Result<Decrypted> {
    block_on(client.decrypt_with_cmm(cmm, message, reproduced))
}
