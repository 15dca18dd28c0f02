//! The encryption context codec: parse ∘ serialize is the identity on contexts, and
//! serialize ∘ parse is the identity on canonical serializations (pairs sorted by key, count > 0).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use esdk::hazmat::{
    parse_encryption_context as parse_context, serialize_encryption_context as serialize_context,
};
use esdk::EncryptionContext;
use libfuzzer_sys::fuzz_target;

/// The keys of a serialized context in the order they are stored, read independently of esdk.
fn stored_keys(b: &[u8]) -> Option<Vec<&[u8]>> {
    let count = usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?]));
    let mut at = 2;
    let mut keys = Vec::new();
    let field = |at: &mut usize| -> Option<&[u8]> {
        let n = usize::from(u16::from_be_bytes([*b.get(*at)?, *b.get(*at + 1)?]));
        let f = b.get(*at + 2..*at + 2 + n)?;
        *at += 2 + n;
        Some(f)
    };
    for _ in 0..count {
        keys.push(field(&mut at)?);
        field(&mut at)?;
    }
    Some(keys)
}

fuzz_target!(|data: &[u8]| {
    // Bytes → context → bytes.
    if let Ok(context) = parse_context(data) {
        let bytes = serialize_context(&context).expect("a parsed context serializes");
        let canonical = data.is_empty()
            || stored_keys(data)
                .is_some_and(|k| !k.is_empty() && k.windows(2).all(|w| w[0] < w[1]));
        if canonical {
            assert_eq!(bytes, data, "canonical serialization not reproduced");
        }
        assert_eq!(parse_context(&bytes).expect("reparses"), context);
    }
    // Context → bytes → context.
    if let Ok(context) =
        std::collections::BTreeMap::<String, String>::arbitrary_take_rest(Unstructured::new(data))
            .map(EncryptionContext::from)
    {
        if let Ok(bytes) = serialize_context(&context) {
            assert!(bytes.len() <= usize::from(u16::MAX));
            assert_eq!(
                parse_context(&bytes).expect("serialized context parses"),
                context
            );
            if !context.is_empty() {
                assert_eq!(stored_keys(&bytes).map(|k| k.len()), Some(context.len()));
            }
        }
    }
});
