//! The future type of the async [`Keyring`](crate::keyring::Keyring) and
//! [`MaterialsManager`](crate::cmm::MaterialsManager) traits.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What [`Keyring`](crate::keyring::Keyring) and
/// [`MaterialsManager`](crate::cmm::MaterialsManager) methods return: a `Send` future of a
/// value, either already [`ready`](Self::ready) (local keyrings: no allocation) or any future
/// boxed by [`new`](Self::new) (keyrings that call a key service). The traits stay object-safe,
/// and the type is esdk's own, so its representation can change without breaking implementors.
///
/// ```
/// use esdk::keyring::MaterialsFuture;
/// # esdk::blocking::block_on(async {
/// let ready: MaterialsFuture<'_, u32> = MaterialsFuture::ready(7);
/// assert_eq!(ready.await, 7);
/// let later = MaterialsFuture::new(async { 6 * 7 });
/// assert_eq!(later.await, 42);
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct MaterialsFuture<'a, T> {
    inner: Inner<'a, T>,
}

enum Inner<'a, T> {
    Ready(Option<T>),
    Boxed(Pin<Box<dyn Future<Output = T> + Send + 'a>>),
}

impl<'a, T> MaterialsFuture<'a, T> {
    /// Boxes `future`.
    ///
    /// ```
    /// use esdk::keyring::MaterialsFuture;
    /// let name = String::from("key");
    /// let future = MaterialsFuture::new(async { name.len() }); // may borrow
    /// assert!(format!("{future:?}").contains("ready: false"));
    /// assert_eq!(esdk::blocking::block_on(future), 3);
    /// ```
    pub fn new(future: impl Future<Output = T> + Send + 'a) -> Self {
        Self {
            inner: Inner::Boxed(Box::pin(future)),
        }
    }

    /// A future that is ready with `value` at its first poll; allocates nothing.
    ///
    /// ```
    /// use esdk::keyring::MaterialsFuture;
    /// let future: MaterialsFuture<'_, &str> = MaterialsFuture::ready("done");
    /// assert!(format!("{future:?}").contains("ready: true"));
    /// assert_eq!(esdk::blocking::block_on(future), "done");
    /// ```
    pub fn ready(value: T) -> Self {
        Self {
            inner: Inner::Ready(Some(value)),
        }
    }
}

// `T` is only ever moved out by value, never pinned in place: the future is `Unpin` whatever `T`.
impl<T> Unpin for MaterialsFuture<'_, T> {}

impl<T> Future for MaterialsFuture<'_, T> {
    type Output = T;

    /// Polled again after it returned `Ready`, it stays `Pending` (it does not panic).
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match &mut self.inner {
            Inner::Ready(value) => value.take().map_or(Poll::Pending, Poll::Ready),
            Inner::Boxed(future) => future.as_mut().poll(cx),
        }
    }
}

impl<T> fmt::Debug for MaterialsFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaterialsFuture")
            .field("ready", &matches!(self.inner, Inner::Ready(Some(_))))
            .finish_non_exhaustive()
    }
}

/// Compile-time checks that the futures esdk hands out are `Send`, so they run on any
/// multi-threaded executor.
#[allow(dead_code, clippy::let_underscore_future)]
fn _futures_are_send(
    client: &crate::Client,
    keyring: &dyn crate::keyring::Keyring,
    cmm: &dyn crate::cmm::MaterialsManager,
) {
    fn is_send<T: Send>(_: &T) {}
    is_send(&MaterialsFuture::<'static, crate::Result<()>>::ready(
        Ok(()),
    ));
    let context = crate::EncryptionContext::new();
    is_send(&client.encrypt(keyring, b"", &context));
    is_send(&client.decrypt(keyring, b""));
    is_send(
        &cmm.encryption_materials(crate::materials::EncryptionRequest::new(
            context.clone(),
            client.commitment_policy(),
        )),
    );
    let (encrypt, decrypt) = (crate::EncryptOptions::new(), crate::DecryptOptions::new());
    is_send(&client.encrypt_with(crate::KeySource::MaterialsManager(cmm), b"", &encrypt));
    is_send(&client.decrypt_with(keyring, b"", &decrypt));
    let (mut message, mut plaintext) = (Vec::new(), Vec::new());
    is_send(&client.encrypt_into(keyring, b"", &encrypt, &mut message));
    is_send(&client.decrypt_into(keyring, b"", &decrypt, &mut plaintext));
    let mut header = Vec::new();
    is_send(&crate::stream::Encryptor::new(
        client,
        keyring,
        &encrypt,
        &mut header,
    ));
    let mut decryptor = crate::stream::Decryptor::new(client);
    is_send(&decryptor.authenticate(keyring, &decrypt));
    #[cfg(feature = "tokio")]
    {
        use crate::stream::tokio::{AsyncDecryptingReader, AsyncEncryptingWriter};
        is_send(&AsyncEncryptingWriter::new(
            client,
            keyring,
            &encrypt,
            Vec::new(),
        ));
        is_send(&AsyncDecryptingReader::new(
            client,
            keyring,
            &decrypt,
            &b""[..],
        ));
    }
}

/// Polls every future in `futures` until all are done, or until one fails: the first error is
/// returned and the others are dropped (cancelled). Results keep the input order.
pub(crate) async fn try_join_all<T, E>(
    futures: Vec<MaterialsFuture<'_, Result<T, E>>>,
) -> Result<Vec<T>, E> {
    let mut pending: Vec<Option<MaterialsFuture<'_, Result<T, E>>>> =
        futures.into_iter().map(Some).collect();
    let mut done: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut all_done = true;
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(future) = slot {
                match Pin::new(future).poll(cx) {
                    Poll::Ready(Ok(value)) => {
                        *out = Some(value);
                        *slot = None;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            Poll::Ready(Ok(done.iter_mut().filter_map(Option::take).collect()))
        } else {
            Poll::Pending
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn try_join_all_keeps_order_and_stops_at_the_first_error() {
        let ok: Vec<MaterialsFuture<'_, Result<u32, &str>>> = (0..4)
            .map(|i| MaterialsFuture::new(async move { Ok(i) }))
            .collect();
        assert_eq!(
            crate::blocking::block_on(try_join_all(ok)),
            Ok(vec![0, 1, 2, 3])
        );
        let failing: Vec<MaterialsFuture<'_, Result<u32, &str>>> = vec![
            MaterialsFuture::new(std::future::pending()),
            MaterialsFuture::ready(Err("no")),
        ];
        assert_eq!(crate::blocking::block_on(try_join_all(failing)), Err("no"));
        let none: Vec<MaterialsFuture<'_, Result<u32, &str>>> = Vec::new();
        assert_eq!(crate::blocking::block_on(try_join_all(none)), Ok(vec![]));
    }
}
