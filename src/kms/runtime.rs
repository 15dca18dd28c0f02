//! The runtime boundary: where an AWS KMS call runs.
//!
//! aws-sdk-kms futures need a tokio runtime (its reactor for sockets, its timer for timeouts
//! and retries). esdk's futures, though, may be polled by anything: a tokio task, another
//! executor, or [`crate::blocking::block_on`] on a plain thread (which the `std::io` adapters
//! use). So every KMS call runs on one process-wide multi-thread runtime that esdk starts on
//! first use (2 worker threads named `esdk-kms`), and the caller's future waits for its result
//! through a join handle, which any executor can poll.
//!
//! Awaiting inline on the caller's runtime was tried first and refused by review: "a runtime
//! is entered" does not mean "a tokio task polls us" (a current-thread runtime entered but not
//! running, polled by another executor, never completes), and a pooled HTTP connection opened
//! on the caller's runtime stalls until its timeout when later used while that runtime is
//! parked (esdk::blocking inside a current-thread task after async use). One runtime that is
//! always running owns every connection esdk's clients open. The cost is one task hand-off per
//! KMS call, microseconds against a network round trip.
//!
//! Dropping the future cancels the call (the spawned task is aborted).

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use crate::error::{KeyringError, KeyringErrorKind};

static SHARED: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

fn shared_runtime() -> Result<&'static tokio::runtime::Runtime, KeyringError> {
    SHARED
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("esdk-kms")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|why| {
            KeyringError::new(
                KeyringErrorKind::Configuration,
                format!("cannot start the runtime for AWS KMS calls: {why}"),
            )
        })
}

/// Runs `future` on the shared runtime and waits for it (see the module documentation).
pub(crate) async fn drive<F, T>(future: F) -> Result<T, KeyringError>
where
    F: Future<Output = Result<T, KeyringError>> + Send + 'static,
    T: Send + 'static,
{
    let handle = shared_runtime()?.spawn(future);
    AbortOnDrop(handle).await
}

/// A spawned task's handle that aborts the task when dropped before it finished.
struct AbortOnDrop<T>(tokio::task::JoinHandle<Result<T, KeyringError>>);

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, KeyringError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|joined| match joined {
            Ok(result) => result,
            Err(e) => Err(KeyringError::new(
                KeyringErrorKind::Other,
                if e.is_panic() {
                    "the AWS KMS call panicked"
                } else {
                    "the AWS KMS call was cancelled"
                },
            )),
        })
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_runtime_the_call_runs_on_the_shared_runtime() {
        let out = crate::blocking::block_on(drive(async {
            // A tokio timer: needs a runtime, which only the shared one can provide here.
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            Ok::<_, KeyringError>(std::thread::current().name().map(str::to_owned))
        }));
        assert_eq!(out.unwrap().as_deref(), Some("esdk-kms"));
    }

    #[test]
    fn inside_a_current_thread_runtime_block_on_still_completes() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let out = rt.block_on(async {
            // esdk::blocking inside the runtime's only thread: inline would hang.
            crate::blocking::block_on(drive(async {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                Ok::<_, KeyringError>(std::thread::current().name().map(str::to_owned))
            }))
        });
        assert_eq!(out.unwrap().as_deref(), Some("esdk-kms"));
    }

    #[test]
    fn a_runtime_entered_but_not_running_does_not_hang_another_executor() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _entered = rt.enter();
        let out = crate::blocking::block_on(drive(async {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            Ok::<_, KeyringError>(std::thread::current().name().map(str::to_owned))
        }));
        assert_eq!(out.unwrap().as_deref(), Some("esdk-kms"));
    }

    #[test]
    fn a_tokio_task_waits_for_the_shared_runtime() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let ran_on = rt
            .block_on(drive(async {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                Ok::<_, KeyringError>(std::thread::current().name().map(str::to_owned))
            }))
            .unwrap();
        assert_eq!(ran_on.as_deref(), Some("esdk-kms"));
    }

    #[test]
    fn dropping_the_future_aborts_the_spawned_call() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        struct SendOnDrop(std::sync::mpsc::Sender<()>);
        impl Drop for SendOnDrop {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        let guard = SendOnDrop(tx);
        let mut future = Box::pin(drive(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
            Ok::<_, KeyringError>(())
        }));
        // Poll once without a runtime: the call is spawned on the shared runtime.
        let waker = std::task::Waker::noop();
        assert!(future
            .as_mut()
            .poll(&mut Context::from_waker(waker))
            .is_pending());
        drop(future);
        // The aborted task drops its state, guard included.
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    }
}
