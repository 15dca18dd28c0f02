//! `parse_header` on arbitrary bytes: never panics; a header it accepts is self-consistent.
#![no_main]

use esdk::header::ContentType;
use esdk::suite::MessageFormatVersion;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = esdk::parse_header(data) else {
        return;
    };
    let h = parsed.unauthenticated();
    let len = parsed.len();
    assert!(len <= data.len() && !parsed.is_empty());
    assert!(esdk::suite::ALL.iter().any(|s| s.id == h.suite().id));
    assert_eq!(h.message_id().len(), h.suite().message_id_len());
    assert!(!h.encrypted_data_keys().is_empty());
    // The length the format requires for the parsed fields (AAD bytes as stored, since the
    // parser accepts non-canonical contexts, are re-derived from the input).
    let edks: usize = h
        .encrypted_data_keys()
        .iter()
        .map(|e| 6 + e.provider_id.len() + e.provider_info.len() + e.ciphertext.len())
        .sum();
    let v1 = h.version() == MessageFormatVersion::V1;
    let aad_at = if v1 { 2 + 2 + 16 } else { 1 + 2 + 32 };
    let aad_len = usize::from(u16::from_be_bytes([data[aad_at], data[aad_at + 1]]));
    let fixed = if v1 {
        2 + 2 + 16 + 2 + 2 + 1 + 4 + 1 + 4 + 12 + 16
    } else {
        1 + 2 + 32 + 2 + 2 + 1 + 4 + 32 + 16
    };
    assert_eq!(len, fixed + aad_len + edks, "header length");
    match h.content_type() {
        ContentType::Framed { frame_length } => assert!(frame_length.get() > 0),
        ContentType::NonFramed => {}
        _ => {}
    }
    // The header is a prefix property: the same bytes alone parse the same, one fewer fails.
    let again = esdk::parse_header(&data[..len]).expect("header alone parses");
    assert_eq!(again.len(), len);
    assert_eq!(
        again.unauthenticated().encryption_context(),
        h.encryption_context()
    );
    assert_eq!(
        again.unauthenticated().encrypted_data_keys(),
        h.encrypted_data_keys()
    );
    assert!(esdk::parse_header(&data[..len - 1]).is_err());
    // The stored context is a valid context: it serializes, and parses back to itself.
    let bytes =
        esdk::hazmat::serialize_encryption_context(h.encryption_context()).expect("serializes");
    assert_eq!(
        &esdk::hazmat::parse_encryption_context(&bytes).expect("parses"),
        h.encryption_context()
    );
});
