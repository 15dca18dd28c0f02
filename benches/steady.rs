#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The steady state of a loop that encrypts or decrypts one message after another: time per
//! message and page faults per message (the process's minor faults from `/proc/self/stat`, so
//! every thread's), after a warm-up.
//!
//! ```sh
//! cargo bench --bench steady                       # 1 KiB messages, both suites, both APIs
//! cargo bench --bench steady -- 0478 decrypt into  # only the rows whose name holds every word
//! ESDK_STEADY_N=200000 cargo bench --bench steady -- 0478 1KiB  # for perf record / perf stat
//! ```
//!
//! Rows: `{encrypt,decrypt}/{suite}/{size}/{fresh,into,stream}/t{threads}`: `fresh` is
//! `blocking::encrypt` / `blocking::decrypt` (a new output per call), `into` is `encrypt_into` /
//! `decrypt_into` with one output buffer reused across calls, `stream` is `EncryptingWriter` into
//! `io::sink()` / `DecryptingReader` read through one reused 64 KiB buffer; `t1` is one thread, `tN`
//! the default (all cores). Raw AES keyring, context `{"purpose": "benchmark"}`, 4096-byte frames:
//! the workload of `../shared/bench`. Beside them, in the same run, the limits: `raw/aes-256-gcm/
//! {encrypt,decrypt}/64MiB` (aws-lc-rs over 4096-byte chunks, one core, in place) and
//! `raw/sha-384/64MiB`, and for 1 KiB the per-message floors `floor/{encrypt,decrypt}/{suite}/1KiB`
//! (see [`floor`]); the last column divides the matching limit or floor by the row's time.

use std::hint::black_box;
use std::time::Instant;

use esdk::suite::AlgorithmSuite;
use esdk::{suite, Client, CommitmentPolicy, EncryptionContext, RawAesKeyring};

fn minor_faults() -> u64 {
    // Field 10 of /proc/self/stat (after the parenthesised command name, which may hold spaces).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            rest.split_whitespace().nth(7)?.parse().ok()
        })
        .unwrap_or(0)
}

use std::io::{Read, Write};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use esdk::stream::io::{DecryptingReader, EncryptingWriter};

fn client(suite: &'static AlgorithmSuite, threads: Option<usize>) -> Client {
    let policy = if suite.is_committing() {
        CommitmentPolicy::RequireEncryptRequireDecrypt
    } else {
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    };
    let mut b = Client::builder()
        .commitment_policy(policy)
        .suite(suite)
        .frame_length(4096);
    // ESDK_STEADY_MIN_PARALLEL=<bytes> sets ClientBuilder::min_parallel_bytes (default 8 MiB).
    if let Some(n) = std::env::var("ESDK_STEADY_MIN_PARALLEL")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        b = b.min_parallel_bytes(n);
    }
    if let Some(t) = threads {
        b = b.threads(t);
    }
    b.build().unwrap()
}

/// Runs `one` `n` times after a warm-up; returns time per call and minor faults per call.
fn measure(n: u64, mut one: impl FnMut()) -> (std::time::Duration, f64) {
    for _ in 0..(n / 10).max(2) {
        one();
    }
    let faults = minor_faults();
    let start = Instant::now();
    for _ in 0..n {
        one();
    }
    let elapsed = start.elapsed();
    let faults = minor_faults().saturating_sub(faults);
    (
        elapsed / u32::try_from(n).unwrap_or(u32::MAX),
        faults as f64 / n as f64,
    )
}

fn report(
    name: &str,
    n: u64,
    per: std::time::Duration,
    faults: f64,
    limit: Option<std::time::Duration>,
) {
    let ratio = limit.map_or(String::new(), |l| {
        format!("{:>9.0}%", 100.0 * l.as_secs_f64() / per.as_secs_f64())
    });
    println!(
        "{name:<30} {n:>8} {:>12} {faults:>11.4} {ratio}",
        format!("{per:.2?}")
    );
}

/// The AES-256-GCM limits for `size` bytes cut into 4096-byte chunks (aws-lc-rs): encrypt in
/// place, and encrypt and decrypt from one buffer into another (what `encrypt_into` and
/// `decrypt_into` must do: read the input once, write the output once) on `threads` threads,
/// each taking a contiguous part.
/// Runs `f(first chunk index, input part, output part, tags part)` on each of `threads`
/// contiguous parts of `part` bytes, the last on this thread.
fn split<F: Fn(usize, &[u8], &mut [u8], &mut [[u8; 16]]) + Sync>(
    part: usize,
    threads: usize,
    input: &[u8],
    output: &mut [u8],
    tags: &mut [[u8; 16]],
    f: &F,
) {
    const CHUNK: usize = 4096;
    std::thread::scope(|scope| {
        let parts = input
            .chunks(part)
            .zip(output.chunks_mut(part))
            .zip(tags.chunks_mut(part / CHUNK))
            .enumerate();
        for (t, ((i, o), tg)) in parts {
            if t + 1 == threads {
                f(t * part / CHUNK, i, o, tg);
            } else {
                scope.spawn(move || f(t * part / CHUNK, i, o, tg));
            }
        }
    })
}

struct RawAes {
    in_place: std::time::Duration,
    encrypt: std::time::Duration,
    decrypt: std::time::Duration,
}

fn raw_aes(size: usize, n: u64, threads: usize) -> RawAes {
    const CHUNK: usize = 4096;
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());
    let key = &key;
    let nonce = |i: usize| {
        let mut iv = [0u8; 12];
        iv[8..].copy_from_slice(&(i as u32).to_be_bytes());
        Nonce::assume_unique_for_key(iv)
    };
    let mut buf = vec![0x42u8; size];
    let (in_place, _) = measure(n, || {
        for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
            let tag = key
                .seal_in_place_separate_tag(nonce(i), Aad::from(&[0u8; 79]), chunk)
                .unwrap();
            black_box(tag.as_ref());
        }
    });
    let plain = vec![0x42u8; size];
    let mut sealed = vec![0u8; size];
    let mut tags = vec![[0u8; 16]; size.div_ceil(CHUNK)];
    let part = size.div_ceil(threads).next_multiple_of(CHUNK);
    let seal = |first: usize, i: &[u8], o: &mut [u8], tg: &mut [[u8; 16]]| {
        for (k, ((ic, oc), t)) in i.chunks(CHUNK).zip(o.chunks_mut(CHUNK)).zip(tg).enumerate() {
            key.seal_out_of_place_scatter(nonce(first + k), Aad::from(&[0u8; 79]), ic, oc, &[], t)
                .unwrap();
        }
    };
    let (encrypt, _) = measure(n, || {
        split(part, threads, &plain, &mut sealed, &mut tags, &seal)
    });
    let mut opened = vec![0u8; size];
    let open = |first: usize, i: &[u8], o: &mut [u8], tg: &mut [[u8; 16]]| {
        for (k, ((ic, oc), t)) in i.chunks(CHUNK).zip(o.chunks_mut(CHUNK)).zip(tg).enumerate() {
            key.open_separate_gather(nonce(first + k), Aad::from(&[0u8; 79]), ic, &t[..], oc)
                .unwrap();
        }
    };
    let (decrypt, _) = measure(n, || {
        split(part, threads, &sealed, &mut opened, &mut tags, &open)
    });
    assert_eq!(opened, plain);
    RawAes {
        in_place,
        encrypt,
        decrypt,
    }
}

/// The floor of one 1 KiB message: only the primitives no implementation can skip, composed
/// with the same crates esdk uses, on precomputed inputs (serialized context, header bytes).
/// Encrypt: one random draw for the data key and wrapping IV and one for the message id, the
/// AES-GCM wrap of the data key under a prepared keyring key, HKDF-SHA512 (one extract, two
/// expands: the ten SHA-512 compressions that takes and nothing around them), the content key's
/// AES key schedule, the header tag, and AES-GCM over 1 KiB; for 0578 also P-384 key
/// generation with the compressed public key, SHA-384 over the message and the signature.
/// Decrypt: the unwrap, HKDF, the constant-time commitment check, the key schedule, the header
/// tag check, AES-GCM open of 1 KiB; for 0578 also parsing the compressed public key, SHA-384
/// and the verification.
fn floor(op: &str, signed: bool) -> Box<dyn FnMut()> {
    use aws_lc_rs::digest;
    use aws_lc_rs::encoding::{AsBigEndian, EcPublicKeyCompressedBin};
    use aws_lc_rs::signature::{
        EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P384_SHA384_ASN1,
        ECDSA_P384_SHA384_ASN1_SIGNING,
    };
    let wrapping = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[0x5a; 32]).unwrap());
    let context_aad = [0u8; 22]; // {"purpose": "benchmark"} serialized
    let header = [0x11u8; 180]; // about the header body of such a message
    let frame_aad = [0u8; 32 + 28 + 4 + 8]; // message id, body string, sequence, length
    let plaintext = vec![0x42u8; 1024];
    let mut body = vec![0u8; 1024];
    let zero_nonce = || Nonce::assume_unique_for_key([0u8; 12]);
    // HKDF-SHA512 at its least: ten SHA-512 compressions (the salt's two HMAC pad blocks, the
    // extract's inner and outer block, the PRK's two pad blocks, one inner and one outer block per
    // expand), fed the inputs so none can be skipped; not a correct HKDF, a cost.
    #[allow(deprecated)] // sha2 0.10 takes generic-array 0.14 blocks
    let hkdf = |message_id: &[u8], data_key: &[u8]| {
        use sha2::digest::generic_array::GenericArray;
        let mut block = GenericArray::<u8, sha2::digest::consts::U128>::default();
        block[..32].copy_from_slice(message_id);
        block[32..64].copy_from_slice(data_key);
        let mut state = [0x6a09_e667_f3bc_c908u64; 8];
        for _ in 0..10 {
            sha2::compress512(&mut state, core::slice::from_ref(&block));
            for (chunk, word) in block[64..].chunks_exact_mut(8).zip(&state) {
                chunk.copy_from_slice(&word.to_be_bytes());
            }
        }
        let (mut key, mut commit) = ([0u8; 32], [0u8; 32]);
        key.copy_from_slice(&block[64..96]);
        commit.copy_from_slice(&block[96..128]);
        (key, commit)
    };
    if op == "encrypt" {
        return Box::new(move || {
            let mut key_iv = [0u8; 44];
            getrandom::getrandom(&mut key_iv).unwrap();
            let mut message_id = [0u8; 32];
            getrandom::getrandom(&mut message_id).unwrap();
            let mut wrapped = [0u8; 32];
            wrapped.copy_from_slice(&key_iv[..32]);
            let mut iv = [0u8; 12];
            iv.copy_from_slice(&key_iv[32..]);
            let tag = wrapping
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(iv),
                    Aad::from(&context_aad),
                    &mut wrapped,
                )
                .unwrap();
            black_box((&wrapped, tag.as_ref()));
            let (content_key, commit) = hkdf(&message_id, &key_iv[..32]);
            black_box(commit);
            let content = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &content_key).unwrap());
            let header_tag = content
                .seal_in_place_separate_tag(zero_nonce(), Aad::from(&header), &mut [])
                .unwrap();
            black_box(header_tag.as_ref());
            let mut frame_tag = [0u8; 16];
            content
                .seal_out_of_place_scatter(
                    zero_nonce(),
                    Aad::from(&frame_aad),
                    &plaintext,
                    &mut body,
                    &[],
                    &mut frame_tag,
                )
                .unwrap();
            black_box((&body, frame_tag));
            if signed {
                let pair = EcdsaKeyPair::generate(&ECDSA_P384_SHA384_ASN1_SIGNING).unwrap();
                let public: EcPublicKeyCompressedBin = pair.public_key().as_be_bytes().unwrap();
                black_box(public.as_ref());
                let mut h = digest::Context::new(&digest::SHA384);
                h.update(&header);
                h.update(&body);
                black_box(pair.sign_digest(&h.finish()).unwrap());
            }
        });
    }
    // Decrypt: a message made once, opened every time.
    let message_id = [0x33u8; 32];
    let data_key = [0x44u8; 32];
    let mut wrapped = data_key;
    let wrap_tag = wrapping
        .seal_in_place_separate_tag(zero_nonce(), Aad::from(&context_aad), &mut wrapped)
        .unwrap();
    let (content_key, commit) = hkdf(&message_id, &data_key);
    let content = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &content_key).unwrap());
    let header_tag = content
        .seal_in_place_separate_tag(zero_nonce(), Aad::from(&header), &mut [])
        .unwrap();
    let mut sealed = plaintext.clone();
    let frame_tag = content
        .seal_in_place_separate_tag(zero_nonce(), Aad::from(&frame_aad), &mut sealed)
        .unwrap();
    let pair = EcdsaKeyPair::generate(&ECDSA_P384_SHA384_ASN1_SIGNING).unwrap();
    let public: EcPublicKeyCompressedBin = pair.public_key().as_be_bytes().unwrap();
    let public = public.as_ref().to_vec();
    let mut h = digest::Context::new(&digest::SHA384);
    h.update(&header);
    h.update(&sealed);
    let signature = pair.sign_digest(&h.finish()).unwrap().as_ref().to_vec();
    Box::new(move || {
        let mut key = wrapped;
        wrapping
            .open_in_place_separate_tag(
                zero_nonce(),
                Aad::from(&context_aad),
                wrap_tag.as_ref(),
                &mut key,
            )
            .unwrap();
        let (content_key, derived_commit) = hkdf(&message_id, &key);
        assert!(bool::from(subtle::ConstantTimeEq::ct_eq(
            &derived_commit[..],
            &commit[..]
        )));
        let content = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &content_key).unwrap());
        content
            .open_in_place_separate_tag(
                zero_nonce(),
                Aad::from(&header),
                header_tag.as_ref(),
                &mut [],
            )
            .unwrap();
        content
            .open_separate_gather(
                zero_nonce(),
                Aad::from(&frame_aad),
                &sealed,
                frame_tag.as_ref(),
                &mut body,
            )
            .unwrap();
        black_box(&body);
        if signed {
            let key = UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, &public)
                .parse()
                .unwrap();
            let mut h = digest::Context::new(&digest::SHA384);
            h.update(&header);
            h.update(&sealed);
            key.verify_digest_sig(&h.finish(), &signature).unwrap();
        }
    })
}

fn main() {
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n_override: Option<u64> = std::env::var("ESDK_STEADY_N")
        .ok()
        .and_then(|v| v.parse().ok());
    let selected = |name: &str, size: usize| {
        if words.is_empty() {
            size == 1024
        } else {
            words.iter().all(|w| name.contains(w.as_str()))
        }
    };
    let keyring = RawAesKeyring::new("esdk-bench", "aes-256-key", &[0x5a; 32]).unwrap();
    let context = EncryptionContext::from([("purpose".to_owned(), "benchmark".to_owned())]);
    let options = esdk::EncryptOptions::from(context);
    let decrypt_options = esdk::DecryptOptions::new();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "{:<30} {:>8} {:>12} {:>11} {:>10}",
        "row", "messages", "time/msg", "faults/msg", "of limit"
    );
    // The limits first, so every esdk row of the same size can be set against them.
    let big = 64usize << 20;
    let mut aes_limits = Vec::new();
    let mut sha_limit = None;
    // ESDK_STEADY_NO_LIMITS=1 leaves the limits out (for a profile of the esdk rows alone).
    let wants_big =
        words.iter().any(|w| w == "64MiB") && std::env::var_os("ESDK_STEADY_NO_LIMITS").is_none();
    if wants_big {
        let n = n_override.unwrap_or(10);
        for threads in [1, cores] {
            let raw = raw_aes(big, n, threads);
            if threads == 1 {
                report(
                    "raw/aes-256-gcm/in-place/64MiB/t1",
                    n,
                    raw.in_place,
                    0.0,
                    None,
                );
            }
            report(
                &format!("raw/aes-256-gcm/encrypt/64MiB/t{threads}"),
                n,
                raw.encrypt,
                0.0,
                None,
            );
            report(
                &format!("raw/aes-256-gcm/decrypt/64MiB/t{threads}"),
                n,
                raw.decrypt,
                0.0,
                None,
            );
            aes_limits.push((threads, raw));
        }
        let data = vec![0x42u8; big];
        let (sha, _) = measure(n, || {
            black_box(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA384,
                black_box(&data),
            ));
        });
        report("raw/sha-384/64MiB", n, sha, 0.0, None);
        sha_limit = Some(sha);
    }
    // The per-message floors, when 1 KiB rows are wanted: each 1 KiB row is set against them.
    let mut floors = Vec::new();
    for (id, signed) in [(0x0478u16, false), (0x0578, true)] {
        for op in ["encrypt", "decrypt"] {
            let name = format!("floor/{op}/{id:04x}/1KiB");
            let row = format!("{op}/{id:04x}/1KiB");
            if !(selected(&row, 1024) || selected(&name, 1024)) {
                continue;
            }
            let n = n_override.unwrap_or(if signed { 1_000 } else { 20_000 });
            let (per, faults) = measure(n, floor(op, signed));
            report(&name, n, per, faults, None);
            floors.push((row, per));
        }
    }
    // Every 64 MiB row is set against the one-thread limit: t1 rows should come near 100 %,
    // two-thread rows near the two-thread limit's share.
    let aes_limit = aes_limits
        .iter()
        .find(|(t, _)| *t == 1)
        .map(|(_, r)| (r.encrypt, r.decrypt));
    for s in [
        &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
        &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
    ] {
        for threads in [1, cores] {
            let client = client(s, Some(threads));
            for (size, size_name) in [
                (1024usize, "1KiB"),
                (1 << 20, "1MiB"),
                (4 << 20, "4MiB"),
                (16 << 20, "16MiB"),
                (big, "64MiB"),
            ] {
                let name =
                    |op: &str, api: &str| format!("{op}/{:04x}/{size_name}/{api}/t{threads}", s.id);
                let rows: Vec<(&str, &str)> = ["encrypt", "decrypt"]
                    .into_iter()
                    .flat_map(|op| ["fresh", "into", "stream"].map(|api| (op, api)))
                    .filter(|(op, api)| selected(&name(op, api), size))
                    // Small messages run on one thread whatever the setting: one row is enough.
                    .filter(|_| size > 1024 || threads == cores)
                    .collect();
                if rows.is_empty() {
                    continue;
                }
                let plaintext = vec![0x42u8; size];
                let message =
                    esdk::blocking::encrypt_with(&client, &keyring, &plaintext, &options).unwrap();
                let mut out = Vec::new();
                let mut buf = vec![0u8; 64 << 10];
                for (op, api) in rows {
                    let n = n_override.unwrap_or(match (size, s.is_signing()) {
                        (1024, false) => 20_000,
                        (1024, true) => 1_000,
                        (n, true) if n <= 4 << 20 => 20,
                        (n, false) if n <= 4 << 20 => 500,
                        (n, false) if n <= 8 << 20 => 200,
                        (n, false) if n <= 16 << 20 => 50,
                        _ => 10,
                    });
                    let (per, faults) = measure(n, || match (op, api) {
                        ("encrypt", "fresh") => {
                            black_box(
                                esdk::blocking::encrypt_with(
                                    &client,
                                    &keyring,
                                    black_box(&plaintext),
                                    &options,
                                )
                                .unwrap(),
                            );
                        }
                        ("encrypt", "into") => {
                            esdk::blocking::encrypt_into(
                                &client,
                                &keyring,
                                black_box(&plaintext),
                                &options,
                                &mut out,
                            )
                            .unwrap();
                        }
                        ("encrypt", _) => {
                            let mut w =
                                EncryptingWriter::new(&client, &keyring, &options, std::io::sink())
                                    .unwrap();
                            for chunk in plaintext.chunks(64 << 10) {
                                w.write_all(chunk).unwrap();
                            }
                            black_box(w.finish().unwrap());
                        }
                        (_, "fresh") => {
                            black_box(
                                esdk::blocking::decrypt(&client, &keyring, black_box(&message))
                                    .unwrap(),
                            );
                        }
                        (_, "into") => {
                            esdk::blocking::decrypt_into(
                                &client,
                                &keyring,
                                black_box(&message),
                                &decrypt_options,
                                &mut out,
                            )
                            .unwrap();
                        }
                        _ => {
                            let mut r = DecryptingReader::new(
                                &client,
                                &keyring,
                                &decrypt_options,
                                black_box(message.as_slice()),
                            )
                            .unwrap();
                            while r.read(&mut buf).unwrap() > 0 {}
                        }
                    });
                    let small = format!("{op}/{:04x}/1KiB", s.id);
                    let limit = match (size, s.is_signing(), op) {
                        (1024, ..) => floors.iter().find(|(r, _)| *r == small).map(|f| f.1),
                        (n, ..) if n < big => None,
                        (_, true, _) => sha_limit,
                        (_, false, "encrypt") => aes_limit.map(|l| l.0),
                        (_, false, _) => aes_limit.map(|l| l.1),
                    };
                    report(&name(op, api), n, per, faults, limit);
                }
            }
        }
    }
}
