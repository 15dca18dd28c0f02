//! The runner's error type: a message with its context, never a panic.

use std::fmt;

/// Why a manifest, key or vector file could not be used.
///
/// The message carries its context, outermost first (`reading keys.json: line 3: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorError {
    message: String,
}

impl VectorError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The same error with `context` put in front.
    #[must_use]
    pub fn context(self, context: impl fmt::Display) -> Self {
        Self {
            message: format!("{context}: {}", self.message),
        }
    }
}

impl fmt::Display for VectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for VectorError {}

/// `Result` with [`VectorError`].
pub type Result<T, E = VectorError> = std::result::Result<T, E>;

/// Adds context to any displayable error.
pub trait Context<T> {
    /// Converts the error into a [`VectorError`] prefixed with `context`.
    ///
    /// # Errors
    /// When `self` is an error.
    fn context(self, context: impl fmt::Display) -> Result<T>;

    /// As [`Context::context`], building the context only on error.
    ///
    /// # Errors
    /// When `self` is an error.
    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.map_err(|e| VectorError::new(format!("{context}: {e}")))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| VectorError::new(format!("{}: {e}", context())))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.ok_or_else(|| VectorError::new(context.to_string()))
    }

    fn with_context<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.ok_or_else(|| VectorError::new(context().to_string()))
    }
}
