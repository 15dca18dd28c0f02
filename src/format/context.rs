//! The encryption context and its serialization (the header's AAD field).
//!
//! Spec: `framework/structures.md#encryption-context`, `data-format/message-header.md#aad`.

use std::collections::BTreeMap;

use super::codec::{put_u16_prefixed, Reader};
use crate::error::FormatError;

/// Non-secret key-value pairs bound to a message as additional authenticated data.
///
/// A map from `String` to `String` that derefs to a `BTreeMap` (which orders keys by their
/// UTF-8 bytes, the order the format serializes). Build it from pairs of anything that turns
/// into a `String`. Keys beginning with `aws-crypto-` are reserved for the SDK: encrypt refuses
/// them, while a decrypted message's context may hold them (`aws-crypto-public-key`).
///
/// ```
/// use esdk::EncryptionContext;
/// let mut context = EncryptionContext::from([("tenant", "acme"), ("purpose", "invoice")]);
/// context.insert("region".into(), "eu".into());
/// assert_eq!(context.get("tenant").map(String::as_str), Some("acme"));
/// let keys: Vec<&str> = context.keys().map(String::as_str).collect();
/// assert_eq!(keys, ["purpose", "region", "tenant"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EncryptionContext(BTreeMap<String, String>);

impl EncryptionContext {
    /// An empty context.
    ///
    /// ```
    /// let mut context = esdk::EncryptionContext::new();
    /// assert!(context.is_empty());
    /// context.insert("tenant".into(), "acme".into());
    /// assert_eq!(context, esdk::EncryptionContext::from([("tenant", "acme")]));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The map.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// let map: BTreeMap<String, String> = esdk::EncryptionContext::from([("b", "2"), ("a", "1")]).into_inner();
    /// assert_eq!(map.into_iter().next(), Some(("a".to_owned(), "1".to_owned())));
    /// ```
    pub fn into_inner(self) -> BTreeMap<String, String> {
        self.0
    }
}

impl std::ops::Deref for EncryptionContext {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for EncryptionContext {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for EncryptionContext {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl From<BTreeMap<String, String>> for EncryptionContext {
    fn from(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }
}

impl From<EncryptionContext> for BTreeMap<String, String> {
    fn from(context: EncryptionContext) -> Self {
        context.0
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for EncryptionContext {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl<K: Into<String>, V: Into<String>> Extend<(K, V)> for EncryptionContext {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, pairs: I) {
        self.0
            .extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into())));
    }
}

impl IntoIterator for EncryptionContext {
    type Item = (String, String);
    type IntoIter = std::collections::btree_map::IntoIter<String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a EncryptionContext {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The key under which signed suites store the base64 public verification key.
pub const PUBLIC_KEY_CONTEXT_KEY: &str = "aws-crypto-public-key";

/// The prefix reserved for the AWS Encryption SDK's own context keys: encrypt refuses a
/// caller's context holding a key that begins with it.
pub(crate) const RESERVED_KEY_PREFIX: &str = "aws-crypto-";

/// The length of a context's serialization (saturating; an over-long context fails to serialize).
pub(crate) fn serialized_len(context: &EncryptionContext) -> usize {
    if context.is_empty() {
        return 0;
    }
    context.iter().fold(2usize, |n, (k, v)| {
        n.saturating_add(4)
            .saturating_add(k.len())
            .saturating_add(v.len())
    })
}

/// Serializes a context: empty bytes for an empty context, else count ‖ (key, value)* sorted by key.
pub(crate) fn serialize(context: &EncryptionContext) -> crate::Result<Vec<u8>> {
    // One allocation of the exact size (appending through the wiping sink would move it).
    let mut out = Vec::with_capacity(serialized_len(context).min(usize::from(u16::MAX) + 1));
    serialize_into(context, &mut out)?;
    Ok(out)
}

/// Appends a context's serialization to `out`; on error `out` is left as it was.
pub(crate) fn serialize_into(context: &EncryptionContext, out: &mut Vec<u8>) -> crate::Result<()> {
    if context.is_empty() {
        return Ok(());
    }
    let start = out.len();
    let res = (|| {
        let count = u16::try_from(context.len()).map_err(|_| {
            crate::Error::LimitExceeded("encryption context has more than 65535 pairs")
        })?;
        out.extend_from_slice(&count.to_be_bytes());
        let too_long =
            || crate::Error::LimitExceeded("serialized encryption context longer than 65535 bytes");
        for (k, v) in context {
            put_u16_prefixed(
                out,
                k.as_bytes(),
                "encryption context key longer than 65535 bytes",
            )?;
            put_u16_prefixed(
                out,
                v.as_bytes(),
                "encryption context value longer than 65535 bytes",
            )?;
            // Stops at the first pair past the limit instead of copying the rest.
            if out.len() - start > usize::from(u16::MAX) {
                return Err(too_long());
            }
        }
        Ok(())
    })();
    if res.is_err() {
        out.truncate(start);
    }
    res
}

/// Parses a serialized context (all of `bytes`). Duplicate keys and non-UTF-8 text are errors.
pub(crate) fn parse(bytes: &[u8]) -> Result<EncryptionContext, FormatError> {
    let mut context = EncryptionContext::new();
    if bytes.is_empty() {
        return Ok(context);
    }
    let mut r = Reader::new(bytes);
    // A count of 0 (AAD `00 00`) is read as an empty context although writers must emit no
    // bytes for one: header authentication covers the bytes as read, so accepting it is safe,
    // and the Python ESDK accepts it too.
    let count = r.u16("encryption_context.count")?;
    for _ in 0..count {
        let k = r.u16_prefixed("encryption_context.key")?;
        let v = r.u16_prefixed("encryption_context.value")?;
        let k = std::str::from_utf8(k)
            .map_err(|_| FormatError::Invalid("encryption_context.key (not UTF-8)"))?;
        let v = std::str::from_utf8(v)
            .map_err(|_| FormatError::Invalid("encryption_context.value (not UTF-8)"))?;
        if context.insert(k.to_owned(), v.to_owned()).is_some() {
            return Err(FormatError::Invalid("encryption_context (duplicate key)"));
        }
    }
    r.finish()?;
    Ok(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `serialized_len` is the length `serialize` writes; a failed `serialize_into` leaves the
    /// buffer it appends to as it was.
    #[test]
    fn serialized_len_and_failed_appends() {
        let contexts = [
            EncryptionContext::new(),
            EncryptionContext::from([("a", "")]),
            EncryptionContext::from([("purpose", "benchmark"), ("tenant", "ünïcode")]),
        ];
        for context in &contexts {
            assert_eq!(serialized_len(context), serialize(context).unwrap().len());
        }
        // Exactly 65535 bytes (2 + 2 + 1 + 2 + 65528) serializes, behind other bytes too; one
        // more does not.
        let mut out = b"kept".to_vec();
        let limit = EncryptionContext::from([("a", "x".repeat(65_528).as_str())]);
        serialize_into(&limit, &mut out).unwrap();
        assert_eq!(out.len(), 4 + 65_535);
        assert_eq!(serialized_len(&limit), 65_535);
        out.truncate(4);
        let over = EncryptionContext::from([("a", "x".repeat(65_529).as_str())]);
        assert!(serialize_into(&over, &mut out).is_err());
        let long = EncryptionContext::from([("a", "x".repeat(70_000).as_str())]);
        assert!(serialize_into(&long, &mut out).is_err());
        let many: EncryptionContext = (0..7_000)
            .map(|i| (format!("{i:05}"), "v".to_owned()))
            .collect();
        assert!(serialize_into(&many, &mut out).is_err());
        assert_eq!(out, b"kept");
    }

    #[test]
    fn round_trip_and_order() {
        let mut c = EncryptionContext::new();
        c.insert("b".into(), "2".into());
        c.insert("a".into(), "1".into());
        c.insert("ключ".into(), "значение".into());
        let bytes = serialize(&c).unwrap();
        assert_eq!(&bytes[..9], &[0, 3, 0, 1, b'a', 0, 1, b'1', 0]);
        assert_eq!(parse(&bytes).unwrap(), c);
        assert!(serialize(&EncryptionContext::new()).unwrap().is_empty());
    }

    #[test]
    fn rejects_duplicates_and_trailing_bytes() {
        let dup = [0, 2, 0, 1, b'a', 0, 0, 0, 1, b'a', 0, 0];
        assert_eq!(
            parse(&dup),
            Err(FormatError::Invalid("encryption_context (duplicate key)"))
        );
        let trailing = [0, 1, 0, 1, b'a', 0, 0, 7];
        assert_eq!(parse(&trailing), Err(FormatError::TrailingBytes));
        assert!(parse(&[0, 2, 0, 1, b'a', 0, 0]).is_err());
    }
}
