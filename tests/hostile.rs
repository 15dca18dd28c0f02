//! Hostile input: hand-built headers and bodies that declare far more than they hold (2^32
//! frames, a 4 GiB final frame, a 2^36-byte non-framed body, 65535 encrypted data keys, a
//! 64 KiB data key, a 65535-byte context) and messages above the configured limits. Each must
//! fail with the right error, without panicking, through one-shot decrypt and through the
//! sans-I/O `Decryptor` fed one byte at a time; decrypting them must stay under 1 MiB of memory.
//!
//! Memory is measured in a child process (this test binary, re-run on one ignored test) from
//! `/proc/self/status`: the workspace forbids `unsafe_code` in every target, so a counting
//! `#[global_allocator]` cannot be written here. See `memory_probe`.
//!
//! Also: `write_fuzz_seed_corpora` (ignored) writes the seed corpora of `fuzz/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use common::*;
use esdk::blocking::{block_on, decrypt, encrypt};
use esdk::stream::Decryptor;
use esdk::{Client, CommitmentPolicy, EncryptionContext, Error, FormatError, RawAesKeyring};

// ---------------------------------------------------------------------------------------------
// Building messages by hand.

/// Suite 0x0478 (v2, unsigned) and 0x0014 (v1, unsigned, no KDF).
const V2_SUITE: u16 = 0x0478;
const V1_SUITE: u16 = 0x0014;

/// One serialized EDK entry: provider id, provider info, ciphertext, each u16-prefixed.
fn edk(provider_id: &[u8], info: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for field in [provider_id, info, ciphertext] {
        out.extend_from_slice(&(field.len() as u16).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

/// A hand-built header; `bytes()` serializes it with zero message id, commitment, IV and tag.
#[derive(Clone)]
struct RawHeader {
    suite: u16,
    /// The declared AAD length.
    aad_len: u16,
    /// The bytes after the AAD length (may be fewer than declared).
    aad: Vec<u8>,
    edk_count: u16,
    /// The EDK entries as bytes (may be fewer or shorter than declared).
    edks: Vec<u8>,
    content_type: u8,
    frame_length: u32,
}

impl RawHeader {
    fn v2() -> Self {
        Self {
            suite: V2_SUITE,
            aad_len: 0,
            aad: Vec::new(),
            edk_count: 1,
            edks: edk(b"other", b"key", &[7; 48]),
            content_type: 2,
            frame_length: 4096,
        }
    }

    fn v1() -> Self {
        Self {
            suite: V1_SUITE,
            ..Self::v2()
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let v1 = self.suite < 0x0478;
        let mut out = Vec::new();
        if v1 {
            out.extend_from_slice(&[0x01, 0x80]);
        } else {
            out.push(0x02);
        }
        out.extend_from_slice(&self.suite.to_be_bytes());
        out.extend_from_slice(&vec![0x11; if v1 { 16 } else { 32 }]);
        out.extend_from_slice(&self.aad_len.to_be_bytes());
        out.extend_from_slice(&self.aad);
        out.extend_from_slice(&self.edk_count.to_be_bytes());
        out.extend_from_slice(&self.edks);
        out.push(self.content_type);
        if v1 {
            out.extend_from_slice(&[0, 0, 0, 0, 12]);
        }
        out.extend_from_slice(&self.frame_length.to_be_bytes());
        if v1 {
            out.extend_from_slice(&[0x22; 12]);
        } else {
            out.extend_from_slice(&[0x33; 32]);
        }
        out.extend_from_slice(&[0x44; 16]);
        out
    }
}

/// The real, authenticated header of an empty message of `suite` with `frame_length`
/// (non-framed when `None`), encrypted under `aes_keyring()`; and the body that followed it.
fn real_header(suite: u16, frame_length: Option<u32>) -> (Vec<u8>, Vec<u8>) {
    let s = common::suite(suite);
    let client = client(s, frame_length.unwrap_or(1));
    let message = match frame_length {
        Some(_) => encrypt(&client, &aes_keyring(), b"", &EncryptionContext::new()).unwrap(),
        None => block_on(esdk::hazmat::encrypt_non_framed_legacy(
            &client,
            &aes_keyring(),
            b"",
            &esdk::EncryptOptions::new(),
        ))
        .unwrap(),
    };
    let len = esdk::parse_header(&message).unwrap().len();
    let (header, body) = message.split_at(len);
    (header.to_vec(), body.to_vec())
}

// ---------------------------------------------------------------------------------------------
// Decrypting them.

fn decrypting_client() -> esdk::ClientBuilder {
    Client::builder()
        .commitment_policy(CommitmentPolicy::RequireEncryptAllowDecrypt)
        .threads(1)
}

/// As [`decrypting_client`], with the stream limits raised to what the format allows.
fn unlimited_stream_client() -> Client {
    decrypting_client()
        .max_stream_frame_length(u32::MAX)
        .max_stream_non_framed_length(u64::MAX)
        .build()
        .unwrap()
}

fn stream_limit(e: &Error) -> bool {
    matches!(e, Error::LimitExceeded(what) if what.contains("ClientBuilder::max_stream_"))
}

/// One-shot decrypt refuses `message` as `one_shot` expects; streaming with the default limits
/// refuses it at the stream limit, before buffering; streaming with no limit as `one_shot`.
fn assert_refused_at_stream_limit(message: &[u8], one_shot: impl Fn(&Error) -> bool) {
    let keyring = aes_keyring();
    let client = decrypting_client().build().unwrap();
    let e = decrypt(&client, &keyring, message).unwrap_err();
    assert!(one_shot(&e), "one-shot: {e:?}");
    let e = stream_bytewise(&client, &keyring, message).unwrap_err();
    assert!(stream_limit(&e), "streaming: {e:?}");
    let e = stream_bytewise(&unlimited_stream_client(), &keyring, message).unwrap_err();
    assert!(one_shot(&e), "streaming without limits: {e:?}");
}

/// Decrypts through the sans-I/O `Decryptor`, pushing one byte at a time.
fn stream_bytewise(
    client: &Client,
    keyring: &RawAesKeyring,
    message: &[u8],
) -> esdk::Result<Vec<u8>> {
    let mut d = Decryptor::new(client);
    let mut out = Vec::new();
    for byte in message.chunks(1) {
        let used = d.push(byte, &mut out)?;
        if d.needs_authentication() {
            block_on(d.authenticate(keyring, &esdk::DecryptOptions::new()))?;
            d.push(&byte[used..], &mut out)?;
        }
    }
    d.finish()?;
    Ok(out)
}

/// Decrypts `message` one-shot and streamed byte by byte; both must fail without panicking,
/// with an error `expected` accepts. Returns the two errors for further checks.
fn assert_refused(
    client: &Client,
    message: &[u8],
    expected: impl Fn(&Error) -> bool,
) -> (Error, Error) {
    let keyring = aes_keyring();
    let one_shot = catch_unwind(AssertUnwindSafe(|| decrypt(client, &keyring, message)))
        .expect("one-shot decrypt panicked");
    let streamed = catch_unwind(AssertUnwindSafe(|| {
        stream_bytewise(client, &keyring, message)
    }))
    .expect("streaming decrypt panicked");
    let one_shot = match one_shot {
        Ok(d) => panic!("one-shot decrypt accepted {} bytes", d.plaintext.len()),
        Err(e) => e,
    };
    let streamed = match streamed {
        Ok(p) => panic!("streaming decrypt accepted {} bytes", p.len()),
        Err(e) => e,
    };
    assert!(
        expected(&one_shot),
        "one-shot: unexpected error {one_shot:?}"
    );
    assert!(
        expected(&streamed),
        "streaming: unexpected error {streamed:?}"
    );
    (one_shot, streamed)
}

fn truncated(e: &Error) -> bool {
    matches!(e, Error::Malformed(FormatError::Truncated(_)))
}

fn oversized(field: &'static str) -> impl Fn(&Error) -> bool {
    move |e| matches!(e, Error::Malformed(FormatError::Oversized(f)) if *f == field)
}

fn invalid(field: &'static str) -> impl Fn(&Error) -> bool {
    move |e| matches!(e, Error::Malformed(FormatError::Invalid(f)) if *f == field)
}

// ---------------------------------------------------------------------------------------------
// The hostile messages (shared with the memory probe).

/// A real header of frame length 2^32 - 1, then a final frame that declares 2^32 - 1 bytes
/// of content and holds 20.
fn final_frame_of_4_gib() -> Vec<u8> {
    let (mut m, _) = real_header(V2_SUITE, Some(u32::MAX));
    m.extend_from_slice(&u32::MAX.to_be_bytes()); // final frame marker
    m.extend_from_slice(&1u32.to_be_bytes());
    m.extend_from_slice(&[0u8; 12]);
    m.extend_from_slice(&u32::MAX.to_be_bytes()); // content length
    m.extend_from_slice(&[0x5a; 20]);
    m
}

/// A real header, then a final frame numbered 2^32 - 1: it claims 2^32 - 2 frames came first.
fn claims_2_pow_32_frames(final_frame: bool) -> Vec<u8> {
    let (mut m, _) = real_header(V2_SUITE, Some(1));
    if final_frame {
        m.extend_from_slice(&u32::MAX.to_be_bytes());
        m.extend_from_slice(&u32::MAX.to_be_bytes());
        m.extend_from_slice(&[0u8; 12]);
        m.extend_from_slice(&0u32.to_be_bytes());
    } else {
        m.extend_from_slice(&(u32::MAX - 1).to_be_bytes());
        m.extend_from_slice(&[0u8; 12]);
        m.push(0);
    }
    m.extend_from_slice(&[0u8; 16]);
    m
}

/// A real non-framed header, then a body that declares `len` bytes and holds 20.
fn non_framed_of(len: u64) -> Vec<u8> {
    let (mut m, _) = real_header(V2_SUITE, None);
    m.extend_from_slice(&[0u8; 12]);
    m.extend_from_slice(&len.to_be_bytes());
    m.extend_from_slice(&[0x5a; 20]);
    m
}

/// A header whose only EDK declares a 65535-byte ciphertext and holds 3 bytes of it.
fn edk_of_64_kib_declared() -> Vec<u8> {
    let mut edks = edk(b"other", b"key", b"");
    edks.truncate(edks.len() - 2);
    edks.extend_from_slice(&u16::MAX.to_be_bytes());
    edks.extend_from_slice(&[1, 2, 3]);
    let h = RawHeader {
        edks,
        ..RawHeader::v2()
    }
    .bytes();
    // Stop right after the 3 bytes: the rest of the header is not there either.
    h[..35 + 2 + 2 + 2 + 5 + 2 + 3 + 2 + 3].to_vec()
}

/// A header declaring 65535 EDKs and holding one.
fn edk_count_65535() -> Vec<u8> {
    RawHeader {
        edk_count: u16::MAX,
        ..RawHeader::v2()
    }
    .bytes()
}

// ---------------------------------------------------------------------------------------------
// Header claims.

#[test]
fn edk_count_of_65535_with_little_data_is_truncated_or_over_the_limit() {
    let m = edk_count_65535();
    assert!(m.len() < 200);
    assert_refused(&decrypting_client().build().unwrap(), &m, truncated);
    let (a, b) = assert_refused(
        &decrypting_client()
            .max_encrypted_data_keys(8)
            .build()
            .unwrap(),
        &m,
        |e| matches!(e, Error::TooManyEncryptedDataKeys { limit: 8, .. }),
    );
    assert_eq!(a.to_string(), b.to_string());
    // Also v1, and with 65535 zero-length EDK entries present: a well-formed 393 KB header.
    let v1 = RawHeader {
        edk_count: u16::MAX,
        ..RawHeader::v1()
    }
    .bytes();
    assert_refused(&decrypting_client().build().unwrap(), &v1, truncated);
}

#[test]
fn edk_of_64_kib_declared_in_40_bytes() {
    let m = edk_of_64_kib_declared();
    assert!(m.len() < 100, "{}", m.len());
    let (one_shot, _) = assert_refused(&decrypting_client().build().unwrap(), &m, truncated);
    assert_eq!(
        one_shot.to_string(),
        "malformed message: input ends inside header"
    );
    // Under a header limit below 64 KiB it is refused as soon as the length is read.
    assert_refused(
        &decrypting_client().max_header_length(4096).build().unwrap(),
        &m,
        oversized("header"),
    );
}

#[test]
fn edk_of_64_kib_present_reaches_the_keyring_or_the_limit() {
    let edks = edk(b"other", b"key", &vec![9u8; usize::from(u16::MAX)]);
    let m = RawHeader {
        edks,
        ..RawHeader::v2()
    }
    .bytes();
    assert_refused(&decrypting_client().build().unwrap(), &m, |e| {
        matches!(e, Error::NoKeyringDecrypted { .. })
    });
    assert_refused(
        &decrypting_client()
            .max_header_length(32 * 1024)
            .build()
            .unwrap(),
        &m,
        oversized("header"),
    );
}

#[test]
fn aad_length_65535_above_the_context_limit() {
    let h = RawHeader {
        aad_len: u16::MAX,
        aad: vec![0, 1, 0, 1, b'k', 0, 1, b'v'],
        ..RawHeader::v2()
    };
    let m = h.bytes();
    assert!(m.len() < 200);
    assert_refused(
        &decrypting_client()
            .max_encryption_context_length(1024)
            .build()
            .unwrap(),
        &m,
        oversized("header.aad (encryption context)"),
    );
    // Within the context limit but above the header limit.
    assert_refused(
        &decrypting_client().max_header_length(4096).build().unwrap(),
        &m,
        oversized("header"),
    );
    // Without limits: the context is simply not there.
    assert_refused(&decrypting_client().build().unwrap(), &m, truncated);
    // v1 too.
    let m = RawHeader {
        aad_len: u16::MAX,
        ..RawHeader::v1()
    }
    .bytes();
    assert_refused(
        &decrypting_client()
            .max_encryption_context_length(100)
            .build()
            .unwrap(),
        &m,
        oversized("header.aad (encryption context)"),
    );
}

#[test]
fn max_encrypted_data_keys_exceeded_by_a_real_message() {
    let a: std::sync::Arc<dyn esdk::Keyring> = std::sync::Arc::new(aes_keyring());
    let b: std::sync::Arc<dyn esdk::Keyring> =
        std::sync::Arc::new(RawAesKeyring::new("esdk-tests", "second", &[3u8; 32]).unwrap());
    let multi = esdk::MultiKeyring::new(Some(a), vec![b]).unwrap();
    let message = encrypt(
        &Client::default(),
        &multi,
        b"two keys",
        &EncryptionContext::new(),
    )
    .unwrap();
    assert_eq!(
        esdk::parse_header(&message)
            .unwrap()
            .unauthenticated()
            .encrypted_data_keys()
            .len(),
        2
    );
    let (a, _) = assert_refused(
        &decrypting_client()
            .max_encrypted_data_keys(1)
            .build()
            .unwrap(),
        &message,
        |e| matches!(e, Error::TooManyEncryptedDataKeys { limit: 1, .. }),
    );
    assert_eq!(
        a.to_string(),
        "the message has more than 1 encrypted data keys"
    );
    assert_eq!(
        decrypt(
            &decrypting_client()
                .max_encrypted_data_keys(2)
                .build()
                .unwrap(),
            &aes_keyring(),
            &message
        )
        .unwrap()
        .plaintext,
        b"two keys"
    );
}

#[test]
fn max_header_length_far_below_the_header() {
    let message = encrypt(
        &Client::default(),
        &aes_keyring(),
        b"hi",
        &ctx(&[("purpose", "a context long enough to matter")]),
    )
    .unwrap();
    let header_len = esdk::parse_header(&message).unwrap().len();
    // Well below: refused while reading the context or the EDKs.
    for limit in [0, 10, header_len / 2, header_len - 100] {
        assert_refused(
            &decrypting_client()
                .max_header_length(limit)
                .build()
                .unwrap(),
            &message,
            oversized("header"),
        );
    }
    // Exactly the header: accepted.
    let client = decrypting_client()
        .max_header_length(header_len)
        .build()
        .unwrap();
    assert_eq!(
        decrypt(&client, &aes_keyring(), &message)
            .unwrap()
            .plaintext,
        b"hi"
    );
    assert_eq!(
        stream_bytewise(&client, &aes_keyring(), &message).unwrap(),
        b"hi"
    );
}

/// A header one byte longer than `max_header_length` must be refused. The parser checks the
/// limit only when it reads the context and the EDKs, so the fixed fields after them (content
/// type, frame length, v1 reserved/IV length/IV, v2 commitment, tag: 38 to 53 bytes) may take
/// the header past the limit.
#[test]
fn max_header_length_one_below_the_header() {
    for suite in [V1_SUITE, V2_SUITE, 0x0578] {
        let message = encrypt(
            &client(common::suite(suite), 16),
            &aes_keyring(),
            b"hi",
            &EncryptionContext::new(),
        )
        .unwrap();
        let header_len = esdk::parse_header(&message).unwrap().len();
        for limit in [header_len - 1, header_len - 16, header_len - 38] {
            assert_refused(
                &decrypting_client()
                    .max_header_length(limit)
                    .build()
                    .unwrap(),
                &message,
                oversized("header"),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Body claims, behind real (authenticated) headers.

#[test]
fn final_frame_of_4_gib_in_a_short_message() {
    let m = final_frame_of_4_gib();
    assert!(m.len() < 300, "{}", m.len());
    assert_refused_at_stream_limit(&m, truncated);
}

#[test]
fn final_frame_longer_than_the_frame_length() {
    let (mut m, _) = real_header(V2_SUITE, Some(16));
    m.extend_from_slice(&u32::MAX.to_be_bytes());
    m.extend_from_slice(&1u32.to_be_bytes());
    m.extend_from_slice(&[0u8; 12]);
    m.extend_from_slice(&u32::MAX.to_be_bytes());
    m.extend_from_slice(&[0x5a; 20]);
    assert_refused(
        &decrypting_client().build().unwrap(),
        &m,
        invalid("final_frame.content_length (longer than the frame length)"),
    );
}

#[test]
fn frame_numbered_2_pow_32_minus_1_is_out_of_order() {
    for final_frame in [true, false] {
        let m = claims_2_pow_32_frames(final_frame);
        assert!(m.len() < 300);
        assert_refused(
            &decrypting_client().build().unwrap(),
            &m,
            invalid("frame.sequence_number (out of order)"),
        );
    }
}

#[test]
fn non_framed_body_of_2_pow_36_bytes() {
    assert_refused(
        &decrypting_client().build().unwrap(),
        &non_framed_of(1 << 36),
        invalid("body.content_length (above 2^36 - 32)"),
    );
    assert_refused(
        &decrypting_client().build().unwrap(),
        &non_framed_of(u64::MAX),
        invalid("body.content_length (above 2^36 - 32)"),
    );
    // The largest length the format allows: the body is simply not there.
    assert_refused_at_stream_limit(&non_framed_of((1 << 36) - 32), truncated);
}

#[test]
fn real_headers_with_empty_bodies_decrypt() {
    // The fixtures above are only hostile in what they append: the headers themselves are good.
    for (suite, framing) in [
        (V2_SUITE, Some(1)),
        (V2_SUITE, Some(u32::MAX)),
        (V2_SUITE, None),
    ] {
        let (mut m, body) = real_header(suite, framing);
        m.extend_from_slice(&body);
        let client = decrypting_client().build().unwrap();
        assert_eq!(decrypt(&client, &aes_keyring(), &m).unwrap().plaintext, b"");
        let unlimited = unlimited_stream_client();
        assert_eq!(
            stream_bytewise(&unlimited, &aes_keyring(), &m).unwrap(),
            b""
        );
        let streamed = stream_bytewise(&client, &aes_keyring(), &m);
        if framing == Some(u32::MAX) {
            assert!(stream_limit(&streamed.unwrap_err()));
        } else {
            assert_eq!(streamed.unwrap(), b"");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CPU: a header fed in tiny pieces.

/// A well-formed header with `count` EDKs of 32 bytes each, fed to the `Decryptor` one byte
/// at a time, must take time roughly linear in its size. The `Decryptor` re-parses the whole
/// buffered header (copying every EDK read so far) on every push, so this is quadratic: a
/// 1 MiB header costs ~10^12 byte operations when its sender trickles it one byte per read.
#[test]
fn header_fed_bytewise_takes_linear_time() {
    let time = |count: u16| {
        let edks: Vec<u8> = (0..count)
            .flat_map(|_| edk(b"other", b"key", &[7; 24]))
            .collect();
        let m = RawHeader {
            edk_count: count,
            edks,
            ..RawHeader::v2()
        }
        .bytes();
        let client = decrypting_client().build().unwrap();
        let start = Instant::now();
        let mut d = Decryptor::new(&client);
        for byte in m.chunks(1) {
            d.push(byte, &mut Vec::new()).unwrap();
        }
        assert!(d.needs_authentication());
        (m.len(), start.elapsed())
    };
    let (small_len, small) = time(125);
    let (large_len, large) = time(500);
    // 4x the bytes: linear takes ~4x the time, quadratic ~16x (measured before the fix:
    // 19 KB in 7 s, 152 KB in 355 s in a debug build).
    let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-6);
    assert!(
        ratio < 9.0 || large < Duration::from_millis(20),
        "{small_len} bytes: {small:?}; {large_len} bytes: {large:?} ({ratio:.1}x)"
    );
}

// ---------------------------------------------------------------------------------------------
// Memory: measured in a child process.

/// What the probe child measured, in bytes above the baseline taken just before decrypting.
#[derive(Debug)]
struct Usage {
    /// Peak resident memory (`VmHWM`) minus the resident memory before (`VmRSS`).
    resident: u64,
    /// Peak virtual memory (`VmPeak`) minus the virtual memory before (`VmSize`): catches
    /// large allocations that are reserved but never touched (glibc maps every allocation of
    /// 128 KiB or more on its own in a fresh process).
    virtual_: u64,
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the `memory_probe_child` test of this binary in a fresh process on `case`.
/// `None` where `/proc/self/status` is not available (not Linux).
fn probe(case: &str) -> Option<Usage> {
    status_kib("VmHWM:")?;
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "memory_probe_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ESDK_HOSTILE_PROBE", case)
        // glibc: one arena (no 64 MiB reservation per thread), a fixed mmap threshold (every
        // allocation of 64 KiB or more is mapped on its own) and no top padding, so VmPeak
        // follows what is allocated. Other allocators ignore these.
        .env("MALLOC_ARENA_MAX", "1")
        .env("MALLOC_MMAP_THRESHOLD_", "65536")
        .env("MALLOC_TOP_PAD_", "0")
        .env("MALLOC_TRIM_THRESHOLD_", "0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "probe {case} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split("PROBE ").nth(1))
        .unwrap_or_else(|| panic!("probe {case} printed no result: {stdout}"));
    let mut fields = line.split_whitespace().map(|f| f.parse::<u64>().unwrap());
    Some(Usage {
        resident: fields.next().unwrap(),
        virtual_: fields.next().unwrap(),
    })
}

/// The child side of [`probe`]: does nothing unless `ESDK_HOSTILE_PROBE` names a case.
#[test]
#[ignore = "run by the memory tests in a child process"]
fn memory_probe_child() {
    let Ok(case) = std::env::var("ESDK_HOSTILE_PROBE") else {
        return;
    };
    let message = match case.as_str() {
        "final_frame_of_4_gib" => final_frame_of_4_gib(),
        "claims_2_pow_32_frames" => claims_2_pow_32_frames(true),
        "non_framed_of_2_pow_36" => non_framed_of((1 << 36) - 32),
        "edk_of_64_kib" => edk_of_64_kib_declared(),
        "edk_count_65535" => edk_count_65535(),
        "self_test_untouched" | "self_test_touched" => Vec::new(),
        other => panic!("unknown case {other}"),
    };
    let client = decrypting_client().build().unwrap();
    let keyring = aes_keyring();
    // Warm up every code path once, so lazily allocated state is in the baseline.
    let _ = decrypt(&client, &keyring, &message);
    let _ = stream_bytewise(&client, &keyring, &message);
    let rss = status_kib("VmRSS:").unwrap();
    let size = status_kib("VmSize:").unwrap();
    match case.as_str() {
        "self_test_untouched" => drop(std::hint::black_box(Vec::<u8>::with_capacity(2 << 20))),
        "self_test_touched" => drop(std::hint::black_box(vec![1u8; 2 << 20])),
        _ => {
            assert!(decrypt(&client, &keyring, &message).is_err());
            assert!(stream_bytewise(&client, &keyring, &message).is_err());
        }
    }
    let hwm = status_kib("VmHWM:").unwrap();
    let peak = status_kib("VmPeak:").unwrap();
    println!(
        "PROBE {} {}",
        hwm.saturating_sub(rss) * 1024,
        peak.saturating_sub(size) * 1024
    );
}

const MIB: u64 = 1 << 20;

#[test]
fn memory_probe_sees_a_2_mib_allocation() {
    let Some(untouched) = probe("self_test_untouched") else {
        eprintln!("no /proc/self/status: memory not measured");
        return;
    };
    assert!(untouched.virtual_ >= 2 * MIB, "{untouched:?}");
    let touched = probe("self_test_touched").unwrap();
    assert!(touched.resident >= 3 * MIB / 2, "{touched:?}");
}

#[test]
fn decrypting_hostile_claims_stays_under_1_mib() {
    for case in [
        "final_frame_of_4_gib",
        "claims_2_pow_32_frames",
        "non_framed_of_2_pow_36",
        "edk_of_64_kib",
        "edk_count_65535",
    ] {
        let Some(usage) = probe(case) else {
            eprintln!("no /proc/self/status: memory not measured");
            return;
        };
        eprintln!("{case}: {usage:?}");
        assert!(
            usage.resident < MIB && usage.virtual_ < MIB,
            "{case}: {usage:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Seed corpora for fuzz/.

/// Writes the seed corpora of `fuzz/corpus/<target>/` (valid messages of every suite under the
/// fuzz targets' fixed keyring, serialized contexts, chunking prefixes). Run with
/// `cargo test --test hostile write_fuzz_seed_corpora -- --ignored`.
#[test]
#[ignore = "writes fuzz/corpus; run by hand"]
fn write_fuzz_seed_corpora() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    // The fuzz targets' keyring (fuzz/src/lib.rs): same key bytes, namespace "esdk-fuzz".
    let keyring = RawAesKeyring::new("esdk-fuzz", "aes-256", &AES_KEY).unwrap();
    let context = ctx(&[("purpose", "fuzz"), ("z", "ü")]);
    for s in esdk::suite::ALL {
        for (len, frame) in [(0usize, 1u32), (5, 4), (33, 16)] {
            let c = client(s, frame);
            let message = encrypt(&c, &keyring, &plaintext(len), &context).unwrap();
            let name = format!("{:04x}-len{len}-frame{frame}", s.id);
            write("decrypt", &name, &message);
            if len == 5 {
                write("header", &name, &message);
                for (i, prefix) in [&[0u8][..], &[1, 0], &[3, 6, 200, 30]].iter().enumerate() {
                    write(
                        "stream_decrypt",
                        &format!("{name}-chunks{i}"),
                        &[*prefix, &message[..]].concat(),
                    );
                }
            }
        }
        if [0x0014, 0x0178, 0x0478].contains(&s.id) {
            let message = block_on(esdk::hazmat::encrypt_non_framed_legacy(
                &client(s, 1),
                &keyring,
                &plaintext(20),
                &esdk::EncryptOptions::from(context.clone()),
            ))
            .unwrap();
            let name = format!("{:04x}-non-framed", s.id);
            write("decrypt", &name, &message);
            write("header", &name, &message);
            write(
                "stream_decrypt",
                &name,
                &[&[2u8, 0, 9][..], &message].concat(),
            );
        }
    }
    for (name, c) in contexts() {
        let bytes = esdk::hazmat::serialize_encryption_context(&c).unwrap();
        write("context", &name.replace(' ', "-"), &bytes);
    }
    // Non-canonical serializations the parser accepts: unsorted keys, and a count of zero.
    write(
        "context",
        "unsorted",
        &[0, 2, 0, 1, b'b', 0, 0, 0, 1, b'a', 0, 1, b'x'],
    );
    write("context", "count-zero", &[0, 0]);
    write(
        "context",
        "duplicate",
        &[0, 2, 0, 1, b'a', 0, 0, 0, 1, b'a', 0, 0],
    );
    // roundtrip: raw bytes for `arbitrary` (suite, frame length, context, plaintext).
    for (i, seed) in [
        &b"\x00\x10\x00\x01\x03key\x05value hello"[..],
        &[0xffu8; 64],
        &plaintext(300),
    ]
    .iter()
    .enumerate()
    {
        write("roundtrip", &format!("seed{i}"), seed);
    }
}
