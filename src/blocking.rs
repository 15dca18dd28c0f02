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
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc::{channel, Receiver, Sender};
    use std::time::Duration;

    /// A future that is ready once another thread has woken it: the thread starts at the first
    /// poll, waits for `start`, marks it ready, wakes it, then tells `then`.
    fn woken_when(start: Receiver<()>, then: Option<Sender<()>>) -> impl Future<Output = ()> {
        let fired = Arc::new(AtomicBool::new(false));
        let mut start = Some(start);
        let mut then = then;
        std::future::poll_fn(move |cx| {
            if fired.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            if let Some(start) = start.take() {
                let (fired, waker, then) = (Arc::clone(&fired), cx.waker().clone(), then.take());
                std::thread::spawn(move || {
                    let _ = start.recv();
                    fired.store(true, Ordering::Release);
                    waker.wake();
                    if let Some(then) = then {
                        let _ = then.send(());
                    }
                });
            }
            Poll::Pending
        })
    }

    fn woken_soon() -> impl Future<Output = ()> {
        let (tx, rx) = channel();
        let _ = tx.send(());
        woken_when(rx, None)
    }

    /// Runs `f` on a thread of its own; fails instead of hanging.
    fn within_ten_seconds(f: impl FnOnce() + Send + 'static) {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            f();
            let _ = tx.send(());
        });
        assert!(
            rx.recv_timeout(Duration::from_secs(10)).is_ok(),
            "block_on hung (a wake was lost)"
        );
    }

    /// A `block_on` inside a future that an outer `block_on` polls: the outer future is woken
    /// while the nested call waits (the nested one is woken only after that), and the outer
    /// call must not lose that wake to the nested one.
    #[test]
    fn a_nested_call_does_not_swallow_the_outer_wake() {
        within_ten_seconds(|| {
            // A first call leaves the thread's spare waker behind, as in a long-lived thread.
            block_on(woken_soon());
            let (go_outer, outer_start) = channel();
            let (outer_woken, inner_start) = channel();
            let mut outer = std::pin::pin!(woken_when(outer_start, Some(outer_woken)));
            let mut nested = Some((go_outer, inner_start));
            block_on(std::future::poll_fn(|cx| {
                let polled = outer.as_mut().poll(cx);
                if let (Poll::Pending, Some((go_outer, inner_start))) = (&polled, nested.take()) {
                    let _ = go_outer.send(());
                    block_on(woken_when(inner_start, None));
                }
                polled
            }));
        });
    }

    /// Polled once per wake: pending until woken twice (5 ms apart), then ready after
    /// exactly three polls; a loop that polled again without a new wake would poll more.
    #[test]
    fn one_poll_per_wake() {
        within_ten_seconds(|| {
            let (polls, wakes) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
            let (counted, woken) = (Arc::clone(&polls), Arc::clone(&wakes));
            block_on(std::future::poll_fn(move |cx| {
                let n = counted.fetch_add(1, Ordering::AcqRel);
                if woken.load(Ordering::Acquire) == 2 {
                    return Poll::Ready(());
                }
                if n == 0 {
                    let (waker, woken) = (cx.waker().clone(), Arc::clone(&woken));
                    std::thread::spawn(move || {
                        for _ in 0..2 {
                            std::thread::sleep(Duration::from_millis(5));
                            woken.fetch_add(1, Ordering::AcqRel);
                            waker.wake_by_ref();
                        }
                    });
                }
                Poll::Pending
            }));
            // 1 + at most one per wake; fewer only if the two wakes came before a poll.
            assert!(polls.load(Ordering::Acquire) <= 3, "{polls:?} polls");
        });
    }

    /// Calls one after another on a thread reuse one waker, and a stale wake from an earlier
    /// call (its waker kept and fired later) is only a spurious poll for the next one.
    #[test]
    fn later_calls_reuse_the_waker_and_survive_stale_wakes() {
        within_ten_seconds(|| {
            let mut kept: Option<Waker> = None;
            block_on(std::future::poll_fn(|cx| {
                kept = Some(cx.waker().clone());
                Poll::Ready(())
            }));
            let Some(stale) = kept else {
                panic!("no waker kept");
            };
            let mut first = true;
            let (tx, rx) = channel();
            let mut later = std::pin::pin!(woken_when(rx, None));
            block_on(std::future::poll_fn(|cx| {
                assert!(
                    cx.waker().will_wake(&stale),
                    "a new waker for the second call"
                );
                if first {
                    first = false;
                    stale.wake_by_ref();
                    let _ = tx.send(());
                }
                later.as_mut().poll(cx)
            }));
            assert_eq!(block_on(async { 7 }), 7);
        });
    }
}
