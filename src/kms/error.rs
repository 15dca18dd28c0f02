//! AWS KMS errors, mapped to [`KeyringErrorKind`]s.
//!
//! The SDK's error is never kept whole: its `Debug` can show the raw HTTP response, and a
//! response body may hold a plaintext data key. What is kept is [`KmsServiceError`]: the
//! operation, the error code and message KMS sent, the request id, and for transport failures
//! the cause chain.

use std::fmt;

use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};

use crate::error::{KeyringError, KeyringErrorKind};

/// What an AWS KMS call failed with: the source of a [`KeyringError`] from a KMS keyring.
///
/// ```
/// use esdk::kms::KmsServiceError;
/// fn code_of(error: &esdk::error::KeyringError) -> Option<&str> {
///     use std::error::Error as _;
///     error.source()?.downcast_ref::<KmsServiceError>()?.code()
/// }
/// # let _ = code_of;
/// ```
#[derive(Clone)]
pub struct KmsServiceError {
    operation: &'static str,
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    detail: Option<String>,
}

impl KmsServiceError {
    /// The KMS operation: `GenerateDataKey`, `Encrypt` or `Decrypt`.
    ///
    /// ```
    /// # fn f(e: &esdk::kms::KmsServiceError) -> &str {
    /// e.operation()
    /// # }
    /// ```
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The error code KMS returned (`AccessDeniedException`, `NotFoundException`, ...), if
    /// the service answered.
    ///
    /// ```
    /// # fn f(e: &esdk::kms::KmsServiceError) -> bool {
    /// e.code() == Some("NotFoundException")
    /// # }
    /// ```
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The error message KMS returned, if the service answered.
    ///
    /// ```
    /// # fn f(e: &esdk::kms::KmsServiceError) -> Option<&str> {
    /// e.message()
    /// # }
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The request id, if the service answered with one.
    ///
    /// ```
    /// # fn f(e: &esdk::kms::KmsServiceError) -> Option<&str> {
    /// e.request_id()
    /// # }
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl fmt::Display for KmsServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KMS {}", self.operation)?;
        match (&self.code, &self.message) {
            (Some(code), Some(message)) => write!(f, ": {code}: {message}")?,
            (Some(code), None) => write!(f, ": {code}")?,
            (None, Some(message)) => write!(f, ": {message}")?,
            (None, None) => {}
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KmsServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsServiceError")
            .field("operation", &self.operation)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("request_id", &self.request_id)
            .field("detail", &self.detail)
            .finish()
    }
}

impl std::error::Error for KmsServiceError {}

/// The kind a KMS error code maps to.
fn kind_of_code(code: &str) -> KeyringErrorKind {
    match code {
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignature"
        | "InvalidClientTokenId"
        | "ExpiredTokenException"
        | "InvalidGrantTokenException"
        | "InvalidGrantIdException" => KeyringErrorKind::AccessDenied,
        "NotFoundException"
        | "DisabledException"
        | "KMSInvalidStateException"
        | "KeyUnavailableException"
        | "InvalidKeyUsageException"
        | "UnsupportedOperationException" => KeyringErrorKind::KeyUnavailable,
        "InvalidCiphertextException" | "IncorrectKeyException" => KeyringErrorKind::UnwrapFailed,
        "ThrottlingException"
        | "Throttling"
        | "ThrottledException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException" => KeyringErrorKind::Throttled,
        "DependencyTimeoutException"
        | "KMSInternalException"
        | "InternalFailure"
        | "ServiceUnavailable" => KeyringErrorKind::Unreachable,
        "ValidationException" | "InvalidArnException" | "InvalidAliasNameException" => {
            KeyringErrorKind::Configuration
        }
        _ => KeyringErrorKind::Other,
    }
}

/// Maps an SDK error to a keyring error, keeping only what is safe to show.
pub(crate) fn from_sdk<E, R>(operation: &'static str, error: SdkError<E, R>) -> KeyringError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug,
{
    let mut service = KmsServiceError {
        operation,
        code: None,
        message: None,
        request_id: None,
        detail: None,
    };
    let (kind, what) = match &error {
        SdkError::ServiceError(context) => {
            let err = context.err();
            service.code = err.code().map(str::to_owned);
            service.message = err.message().map(str::to_owned);
            service.request_id = err.meta().extra("aws_request_id").map(str::to_owned);
            let kind = service.code.as_deref().map_or(
                // An HTTP 5xx without a code is the service failing; otherwise unknown.
                KeyringErrorKind::Other,
                kind_of_code,
            );
            (kind, "AWS KMS refused the request")
        }
        SdkError::TimeoutError(_) => (KeyringErrorKind::Unreachable, "AWS KMS timed out"),
        SdkError::DispatchFailure(failure) => {
            service.detail =
                Some(aws_smithy_types::error::display::DisplayErrorContext(&error).to_string());
            // A request the client could not even send is a configuration error; anything on
            // the way (connect, I/O, a cut-off response, a timeout) is the service unreachable.
            let kind = if failure.is_user() {
                KeyringErrorKind::Configuration
            } else {
                KeyringErrorKind::Unreachable
            };
            (kind, "AWS KMS could not be reached")
        }
        // The response could not be read: its body (which may hold key material) is not kept.
        SdkError::ResponseError(_) => (
            KeyringErrorKind::InvalidResponse,
            "AWS KMS sent a response that could not be read",
        ),
        SdkError::ConstructionFailure(_) => {
            service.detail =
                Some(aws_smithy_types::error::display::DisplayErrorContext(&error).to_string());
            (
                KeyringErrorKind::Configuration,
                "the AWS KMS request could not be built",
            )
        }
        _ => (KeyringErrorKind::Other, "the AWS KMS call failed"),
    };
    KeyringError::new(kind, what).with_source(service)
}

/// A response that does not match the request (wrong key id, wrong plaintext length, missing
/// field).
pub(crate) fn invalid_response(message: impl Into<std::borrow::Cow<'static, str>>) -> KeyringError {
    KeyringError::new(KeyringErrorKind::InvalidResponse, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        for (code, kind) in [
            ("AccessDeniedException", KeyringErrorKind::AccessDenied),
            ("NotFoundException", KeyringErrorKind::KeyUnavailable),
            ("DisabledException", KeyringErrorKind::KeyUnavailable),
            ("KMSInvalidStateException", KeyringErrorKind::KeyUnavailable),
            ("InvalidCiphertextException", KeyringErrorKind::UnwrapFailed),
            ("IncorrectKeyException", KeyringErrorKind::UnwrapFailed),
            ("ThrottlingException", KeyringErrorKind::Throttled),
            ("DependencyTimeoutException", KeyringErrorKind::Unreachable),
            ("SomethingNew", KeyringErrorKind::Other),
        ] {
            assert_eq!(kind_of_code(code), kind, "{code}");
        }
        assert!(KeyringErrorKind::Throttled.is_retryable());
        assert!(!KeyringErrorKind::AccessDenied.is_retryable());
    }
}
