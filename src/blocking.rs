//! The same calls as [`crate::Client`], for callers without an async runtime.
//!
//! Each call drives its future to completion on the calling thread. Local keyrings (raw AES,
//! raw RSA, multi) never wait, so this costs nothing; a keyring that waits on the network parks
//! the thread until woken.
//!
//! These calls work with AWS KMS keyrings too, with or without a tokio runtime on the thread,
//! and even from inside a current-thread runtime's task: KMS calls run on one process-wide
//! runtime that esdk starts on first use (see `esdk::kms`, "Runtimes"). Blocking a runtime's
//! worker thread still stalls that runtime's other tasks meanwhile; in async code, prefer
//! [`crate::Client`]'s async calls.
//!
//! ```
//! # fn main() -> Result<(), esdk::Error> {
//! let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
//! let client = esdk::Client::default();
//! let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
//! assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"hi");
//! # Ok(()) }
//! ```

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use crate::client::{Client, Decrypted, MessageInfo};
use crate::format::context::EncryptionContext;
use crate::keyring::Keyring;
use crate::options::{DecryptOptions, EncryptOptions, KeySource};

/// Wakes one `block_on` call: marks it woken and unparks its thread.
struct ThreadWaker {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// Runs a future to completion on the current thread (for the async calls of streams, the
/// `hazmat` module and custom keyrings).
///
/// ```
/// assert_eq!(esdk::blocking::block_on(async { 1 + 1 }), 2);
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    run(std::pin::pin!(future))
}

/// Polls a pinned future to completion on the current thread. The blocking calls below pin
/// their future where it is made, so it is not moved (the one-shot futures are over a KiB).
fn run<F: Future + ?Sized>(mut future: std::pin::Pin<&mut F>) -> F::Output {
    thread_local! {
        // A waker kept for the thread's next call: taken while a call runs, so a call nested in
        // a future that an outer call polls gets its own (and its own `woken` flag: the park
        // token is the thread's, and a nested call must not swallow the outer future's wake).
        static SPARE: Cell<Option<Arc<ThreadWaker>>> = const { Cell::new(None) };
    }
    let signal = SPARE
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            Arc::new(ThreadWaker {
                thread: std::thread::current(),
                woken: AtomicBool::new(false),
            })
        });
    signal.woken.store(false, Ordering::Relaxed);
    let waker = Waker::from(Arc::clone(&signal));
    let mut cx = Context::from_waker(&waker);
    let out = loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => break out,
            // Parks until this call's future is woken; other unparks of the thread are spurious.
            Poll::Pending => {
                while !signal.woken.swap(false, Ordering::Acquire) {
                    std::thread::park();
                }
            }
        }
    };
    drop(waker);
    // Kept for the next call (while the thread's locals are being destroyed: dropped).
    let _ = SPARE.try_with(|spare| spare.set(Some(signal)));
    out
}

/// Blocking [`Client::encrypt`].
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let context = esdk::EncryptionContext::from([("tenant", "acme")]);
/// let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &context)?;
/// let decrypted = esdk::blocking::decrypt(&client, &keyring, &message)?;
/// assert_eq!(decrypted.encryption_context["tenant"], "acme");
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`Client::encrypt`].
pub fn encrypt(
    client: &Client,
    keyring: &dyn Keyring,
    plaintext: &[u8],
    encryption_context: &EncryptionContext,
) -> crate::Result<Vec<u8>> {
    run(std::pin::pin!(client.encrypt(
        keyring,
        plaintext,
        encryption_context
    )))
}

/// Blocking [`Client::encrypt_with`].
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let message = esdk::blocking::encrypt_with(&client, &keyring, b"hi", &esdk::EncryptOptions::new())?;
/// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"hi");
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`Client::encrypt_with`].
pub fn encrypt_with<'a>(
    client: &Client,
    source: impl Into<KeySource<'a>>,
    plaintext: &[u8],
    options: &EncryptOptions,
) -> crate::Result<Vec<u8>> {
    run(std::pin::pin!(
        client.encrypt_with(source, plaintext, options)
    ))
}

/// Blocking [`Client::encrypt_into`].
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let mut message = Vec::new();
/// esdk::blocking::encrypt_into(&client, &keyring, b"hi", &Default::default(), &mut message)?;
/// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"hi");
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`Client::encrypt_into`].
pub fn encrypt_into<'a>(
    client: &Client,
    source: impl Into<KeySource<'a>>,
    plaintext: &[u8],
    options: &EncryptOptions,
    out: &mut Vec<u8>,
) -> crate::Result<()> {
    run(std::pin::pin!(
        client.encrypt_into(source, plaintext, options, out)
    ))
}

/// Blocking [`Client::decrypt`].
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
/// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"hi");
/// let other = esdk::RawAesKeyring::new("ns", "other", &[2u8; 32])?;
/// let refused = esdk::blocking::decrypt(&client, &other, &message);
/// assert!(matches!(refused, Err(esdk::Error::NoKeyringDecrypted { .. })));
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`Client::decrypt`].
pub fn decrypt(client: &Client, keyring: &dyn Keyring, message: &[u8]) -> crate::Result<Decrypted> {
    run(std::pin::pin!(client.decrypt(keyring, message)))
}

/// Blocking [`Client::decrypt_with`].
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// use esdk::{DecryptOptions, EncryptionContext};
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let context = EncryptionContext::from([("tenant", "acme")]);
/// let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &context)?;
/// let options = DecryptOptions::new().reproduced_context(context);
/// assert_eq!(esdk::blocking::decrypt_with(&client, &keyring, &message, &options)?.plaintext, b"hi");
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`Client::decrypt_with`].
pub fn decrypt_with<'a>(
    client: &Client,
    source: impl Into<KeySource<'a>>,
    message: &[u8],
    options: &DecryptOptions,
) -> crate::Result<Decrypted> {
    run(std::pin::pin!(client.decrypt_with(source, message, options)))
}

/// Blocking [`Client::decrypt_into`].
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// let keyring = esdk::RawAesKeyring::new("ns", "key", &[1u8; 32])?;
/// let client = esdk::Client::default();
/// let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
/// let mut plaintext = b"old contents".to_vec(); // cleared first
/// let info = esdk::blocking::decrypt_into(&client, &keyring, &message, &Default::default(), &mut plaintext)?;
/// assert_eq!((plaintext.as_slice(), info.header.suite().id), (&b"hi"[..], 0x0578));
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`Client::decrypt_into`].
pub fn decrypt_into<'a>(
    client: &Client,
    source: impl Into<KeySource<'a>>,
    message: &[u8],
    options: &DecryptOptions,
    out: &mut Vec<u8>,
) -> crate::Result<MessageInfo> {
    run(std::pin::pin!(
        client.decrypt_into(source, message, options, out)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A future that is ready once another thread, `after` its first poll, has woken it.
    fn woken_later(after: Duration) -> impl Future<Output = ()> {
        let fired = Arc::new(AtomicBool::new(false));
        let mut started = false;
        std::future::poll_fn(move |cx| {
            if fired.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            if !started {
                started = true;
                let (fired, waker) = (Arc::clone(&fired), cx.waker().clone());
                std::thread::spawn(move || {
                    std::thread::sleep(after);
                    fired.store(true, Ordering::Release);
                    waker.wake();
                });
            }
            Poll::Pending
        })
    }

    /// A `block_on` inside a future that an outer `block_on` polls: the outer future's wake
    /// arrives while the nested call is parked, and must not be lost to it.
    #[test]
    fn a_nested_call_does_not_swallow_the_outer_wake() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut outer = std::pin::pin!(woken_later(Duration::from_millis(20)));
            block_on(std::future::poll_fn(|cx| {
                let first = outer.as_mut().poll(cx);
                if first.is_pending() {
                    // Nested, and still parked when the outer future is woken.
                    block_on(woken_later(Duration::from_millis(150)));
                }
                first
            }));
            let _ = tx.send(());
        });
        assert!(
            rx.recv_timeout(Duration::from_secs(10)).is_ok(),
            "the outer call never saw its wake"
        );
    }

    #[test]
    fn calls_one_after_another_reuse_the_waker() {
        for _ in 0..3 {
            block_on(woken_later(Duration::from_millis(1)));
        }
        assert_eq!(block_on(async { 7 }), 7);
    }
}
