#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Extra memory per call: peak resident memory during one call minus the resident memory just
//! before it, for 64 MiB messages (Linux: the peak is reset through `/proc/self/clear_refs`,
//! as `../shared/bench` measures its peers).
//!
//! ```sh
//! cargo bench --bench memory
//! GLIBC_TUNABLES=glibc.malloc.hugetlb=1 cargo bench --bench memory   # glibc's transparent huge pages
//! ```

use std::io::{Read, Write};

use esdk::stream::io::{DecryptingReader, EncryptingWriter};
use esdk::{suite, Client, EncryptionContext, RawAesKeyring};

const MIB: usize = 1 << 20;

fn status_kib(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `f` and returns its result and the peak resident memory it added, in bytes.
fn extra<T>(f: impl FnOnce() -> T) -> Option<(T, usize)> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let before = status_kib("VmRSS:")?;
    let out = f();
    let peak = status_kib("VmHWM:")?;
    Some((out, peak.saturating_sub(before) * 1024))
}

fn main() {
    // cargo bench passes `--bench`; any other argument is a filter we do not need.
    let keyring = RawAesKeyring::new("esdk-bench", "aes-256-key", &[0x5a; 32]).unwrap();
    let context = EncryptionContext::from([("purpose".to_owned(), "benchmark".to_owned())]);
    let size = 64 * MIB;
    let plaintext = vec![0x42u8; size];
    println!(
        "extra memory per call, {} MiB plaintext, 4096-byte frames, default threads",
        size / MIB
    );
    println!("| suite | call | extra | extra / message |");
    println!("|---|---|---:|---:|");
    for s in [
        &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
        &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
    ] {
        let client = Client::builder().suite(s).build().unwrap();
        // Warm up every path once so lazily allocated state is in the baseline.
        let warm = esdk::blocking::encrypt(&client, &keyring, &plaintext[..MIB], &context).unwrap();
        drop(esdk::blocking::decrypt(&client, &keyring, &warm).unwrap());
        let report = |call: &str, bytes: usize, message: usize| {
            println!(
                "| {:04x} | {call} | {:.1} MiB | {:.2}x |",
                s.id,
                bytes as f64 / MIB as f64,
                bytes as f64 / message as f64
            );
        };
        let Some((message, enc)) =
            extra(|| esdk::blocking::encrypt(&client, &keyring, &plaintext, &context).unwrap())
        else {
            println!("no /proc/self/status or clear_refs: memory not measured");
            return;
        };
        report("one-shot encrypt", enc, message.len());
        let (decrypted, dec) =
            extra(|| esdk::blocking::decrypt(&client, &keyring, &message).unwrap()).unwrap();
        assert!(decrypted.plaintext == plaintext);
        drop(decrypted);
        report("one-shot decrypt", dec, message.len());
        let ((), senc) = extra(|| {
            let mut w = EncryptingWriter::new(
                &client,
                &keyring,
                &esdk::EncryptOptions::from(context.clone()),
                std::io::sink(),
            )
            .unwrap();
            for chunk in plaintext.chunks(64 * 1024) {
                w.write_all(chunk).unwrap();
            }
            w.finish().unwrap();
        })
        .unwrap();
        report("streaming encrypt (to io::sink)", senc, message.len());
        let (n, sdec) = extra(|| {
            let mut r = DecryptingReader::new(
                &client,
                &keyring,
                &esdk::DecryptOptions::new(),
                message.as_slice(),
            )
            .unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            let mut total = 0;
            loop {
                match r.read(&mut buf).unwrap() {
                    0 => break total,
                    n => total += n,
                }
            }
        })
        .unwrap();
        assert_eq!(n, size);
        report("streaming decrypt (64 KiB reads)", sdec, message.len());
    }
}
