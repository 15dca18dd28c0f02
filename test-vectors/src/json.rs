//! Small helpers to read JSON manifests with clear errors.

use serde_json::Value;

use crate::error::{Context, Result, VectorError};

/// Parses JSON bytes.
///
/// # Errors
/// When the bytes are not JSON.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).context("invalid JSON")
}

/// The member `name` of `v`, which must be present.
///
/// # Errors
/// When it is missing.
pub fn object_field<'a>(v: &'a Value, name: &str) -> Result<&'a Value> {
    match v.get(name) {
        Some(Value::Null) | None => Err(VectorError::new(format!("missing field {name:?}"))),
        Some(x) => Ok(x),
    }
}

/// The string member `name`.
///
/// # Errors
/// When it is missing or not a string.
pub fn str_field<'a>(v: &'a Value, name: &str) -> Result<&'a str> {
    object_field(v, name)?
        .as_str()
        .with_context(|| format!("field {name:?} is not a string"))
}

/// The string member `name`, if present.
///
/// # Errors
/// When it is present but not a string.
pub fn opt_str<'a>(v: &'a Value, name: &str) -> Result<Option<&'a str>> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(VectorError::new(format!("field {name:?} is not a string"))),
    }
}

/// The boolean member `name`, if present (`true`/`false`, or those words as strings).
///
/// # Errors
/// When it is present but not a boolean.
pub fn opt_bool(v: &Value, name: &str) -> Result<Option<bool>> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(VectorError::new(format!("field {name:?} is not a boolean"))),
    }
}

/// The non-negative integer member `name` (a number or a decimal string), if present.
///
/// # Errors
/// When it is present but not such an integer.
pub fn opt_u64(v: &Value, name: &str) -> Result<Option<u64>> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .with_context(|| format!("field {name:?} is not a non-negative integer")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .with_context(|| format!("field {name:?}")),
        Some(_) => Err(VectorError::new(format!(
            "field {name:?} is not an integer"
        ))),
    }
}

/// The non-negative integer member `name`.
///
/// # Errors
/// When it is missing or not such an integer.
pub fn u64_field(v: &Value, name: &str) -> Result<u64> {
    opt_u64(v, name)?.with_context(|| format!("missing field {name:?}"))
}

/// The list-of-strings member `name`.
///
/// # Errors
/// When it is missing or not a list of strings.
pub fn str_list(v: &Value, name: &str) -> Result<Vec<String>> {
    object_field(v, name)?
        .as_array()
        .with_context(|| format!("field {name:?} is not a list"))?
        .iter()
        .map(|s| {
            s.as_str()
                .map(str::to_owned)
                .with_context(|| format!("field {name:?} holds a non-string"))
        })
        .collect()
}

/// An encryption context: a JSON object of strings.
///
/// # Errors
/// When `v` is not an object of strings.
pub fn context(v: &Value) -> Result<esdk::EncryptionContext> {
    v.as_object()
        .context("encryption context is not an object")?
        .iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s.to_owned()))
                .with_context(|| format!("encryption context value of {k:?} is not a string"))
        })
        .collect()
}
