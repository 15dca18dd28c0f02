//! Running decrypt vectors and reporting the results.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::error::{Context, Result, VectorError};
use crate::keys::{self, Built, Keys, KmsSupplier};
use crate::manifest::{DecryptManifest, DecryptionMethod, Expected, TestCase};
use crate::source::VectorStore;

/// How to run vectors.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Run only tests whose ID contains this.
    pub filter: Option<String>,
    /// Build the client with `legacy_net_v4_0_0_retry(false)`, and expect every vector of the
    /// `invalid-Net-4.0.0` set to fail header authentication.
    pub strict_net_4_0_0: bool,
    /// Besides one-shot decryption, also decrypt each message through the streaming
    /// [`esdk::stream::Decryptor`], fed `stream_chunk` bytes at a time.
    pub streaming: bool,
    /// Chunk size for streaming decryption (default 997: odd, so chunks straddle every field
    /// boundary).
    pub stream_chunk: usize,
    /// How many threads run tests (at least 1).
    pub jobs: usize,
    /// Where AWS KMS keyrings get their clients (one supplier shared by every test): for
    /// example `Arc::new(esdk::kms::KmsClientSupplier::from_env())`, or one from a config that
    /// points at a local KMS-compatible server. `None` (the default): KMS is off, and tests
    /// that only AWS KMS can decrypt are skipped, saying so.
    pub kms: KmsSupplier,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            filter: None,
            strict_net_4_0_0: false,
            streaming: true,
            stream_chunk: DEFAULT_STREAM_CHUNK,
            jobs: 1,
            kms: None,
        }
    }
}

/// The result of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The test passed.
    Pass,
    /// The test failed, and why.
    Fail(String),
    /// The test could not run here, and why.
    Skip(String),
}

/// One test's ID and outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The test ID.
    pub id: String,
    /// What happened.
    pub outcome: Outcome,
}

/// The results of one vector set.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// What was run (a path).
    pub name: String,
    /// One result per test, in manifest order.
    pub results: Vec<TestResult>,
}

impl Report {
    /// How many tests passed.
    pub fn passed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Pass))
    }

    /// How many tests failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fail(_)))
    }

    /// How many tests were skipped.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skip(_)))
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.outcome)).count()
    }

    /// `N passed, M failed, K skipped`.
    pub fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed(),
            self.failed(),
            self.skipped()
        )
    }

    /// Writes `FAIL <id>: <reason>` and `SKIP <id>: <reason>` lines (and `PASS <id>` when
    /// `verbose`), without the summary.
    ///
    /// # Errors
    /// When writing fails.
    pub fn write_lines(&self, out: &mut dyn Write, verbose: bool) -> std::io::Result<()> {
        for r in &self.results {
            match &r.outcome {
                Outcome::Pass if verbose => writeln!(out, "PASS {}", r.id)?,
                Outcome::Pass => {}
                Outcome::Fail(reason) => writeln!(out, "FAIL {}: {reason}", r.id)?,
                Outcome::Skip(reason) => writeln!(out, "SKIP {}: {reason}", r.id)?,
            }
        }
        Ok(())
    }

    /// Adds the results of `other`, prefixing its test IDs with `prefix`.
    pub fn extend_prefixed(&mut self, other: Report, prefix: &str) {
        self.results
            .extend(other.results.into_iter().map(|r| TestResult {
                id: format!("{prefix}{}", r.id),
                outcome: r.outcome,
            }));
    }
}

/// Whether `path` is the `invalid-Net-4.0.0` set, whose messages only decrypt with the
/// ESDK-.NET 4.0.0 retry.
pub fn is_invalid_net_4_0_0(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().contains("invalid-Net-4.0.0"))
}

/// Runs a decrypt manifest: `path` is a manifest file, a folder holding one, or a `.zip`.
///
/// # Errors
/// When the manifest or its keys cannot be read. Problems with single tests are reported as
/// failures in the [`Report`].
pub fn run_manifest(path: &Path, options: &RunOptions) -> Result<Report> {
    let located = VectorStore::locate(path)?;
    let manifest = DecryptManifest::load(&located.store, &located.manifest)?;
    let expect_quirk_failures = options.strict_net_4_0_0 && is_invalid_net_4_0_0(path);
    Ok(run_loaded(
        &located.store,
        &manifest,
        options,
        expect_quirk_failures,
    ))
}

/// Runs the tests of an already loaded manifest. With `expect_quirk_failures`, every test
/// must fail header authentication (the invalid-Net-4.0.0 set under `strict_net_4_0_0`).
pub fn run_loaded(
    store: &VectorStore,
    manifest: &DecryptManifest,
    options: &RunOptions,
    expect_quirk_failures: bool,
) -> Report {
    let clients = Clients::new(options);
    let selected: Vec<_> = manifest
        .tests
        .iter()
        .filter(|t| options.filter.as_ref().is_none_or(|f| t.id.contains(f)))
        .collect();
    let results = parallel_map(&selected, options.jobs, |t| {
        let outcome = match &t.case {
            Err(e) => Outcome::Fail(format!("bad manifest entry: {e}")),
            Ok(case) => guard(|| {
                run_case(
                    store,
                    &manifest.keys,
                    case,
                    &clients,
                    options,
                    expect_quirk_failures,
                )
            }),
        };
        TestResult {
            id: t.id.clone(),
            outcome,
        }
    });
    Report {
        name: store.label().to_owned(),
        results,
    }
}

/// Runs `f`, turning a panic into a failure.
fn guard(f: impl FnOnce() -> Outcome) -> Outcome {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Outcome::Fail("panicked (a bug: see the message above)".to_owned()))
}

/// Applies `f` to every item on `jobs` threads; results stay in input order.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let jobs = jobs.clamp(1, items.len().max(1));
    if jobs == 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut indexed: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    indexed.sort_by_key(|(i, _)| *i);
    indexed.into_iter().map(|(_, r)| r).collect()
}

/// The clients tests decrypt with.
#[derive(Debug)]
pub struct Clients {
    /// `RequireEncryptAllowDecrypt`, no EDK limit, the chosen .NET 4.0.0 retry setting.
    pub normal: esdk::Client,
    /// The same, refusing signed suites.
    pub unsigned_only: esdk::Client,
}

impl Clients {
    /// The clients for `options`.
    #[allow(clippy::unwrap_used)] // only the policy and flags are set: building cannot fail
    pub fn new(options: &RunOptions) -> Self {
        let builder = || {
            esdk::Client::builder()
                .commitment_policy(esdk::CommitmentPolicy::RequireEncryptAllowDecrypt)
                .legacy_net_v4_0_0_retry(!options.strict_net_4_0_0)
        };
        Self {
            normal: builder().build().unwrap(),
            unsigned_only: builder().unsigned_only(true).build().unwrap(),
        }
    }
}

/// The default chunk size for streaming decryption: odd, so chunks straddle every field
/// boundary.
pub const DEFAULT_STREAM_CHUNK: usize = 997;

/// Decrypts in one call.
fn decrypt_one_shot(
    client: &esdk::Client,
    cmm: &dyn esdk::MaterialsManager,
    message: &[u8],
    reproduced: Option<&esdk::EncryptionContext>,
) -> esdk::Result<Vec<u8>> {
    esdk::blocking::decrypt_with(
        client,
        esdk::KeySource::MaterialsManager(cmm),
        message,
        &reproduced.map_or_else(esdk::DecryptOptions::new, |c| {
            esdk::DecryptOptions::new().reproduced_context(c.clone())
        }),
    )
    .map(|d| d.plaintext)
}

/// Decrypts through the streaming decryptor, `chunk` bytes at a time.
///
/// # Errors
/// Whatever the decryptor refuses, or a message that ends inside its header.
pub fn decrypt_streaming(
    client: &esdk::Client,
    cmm: &dyn esdk::MaterialsManager,
    message: &[u8],
    reproduced: Option<&esdk::EncryptionContext>,
    chunk: usize,
) -> esdk::Result<Vec<u8>> {
    let chunk = chunk.max(1);
    let mut decryptor = esdk::stream::Decryptor::new(client);
    let mut out = Vec::new();
    let mut pos: usize = 0;
    while !decryptor.needs_authentication() {
        let end = pos.saturating_add(chunk).min(message.len());
        let piece = message.get(pos..end).unwrap_or_default();
        if piece.is_empty() {
            return Err(esdk::FormatError::Truncated("header").into());
        }
        // Consumes everything until the header is complete, then stops at its end.
        pos += decryptor.push(piece, &mut out)?;
    }
    let rest = message.get(pos..).unwrap_or_default();
    let options = reproduced.map_or_else(esdk::DecryptOptions::new, |c| {
        esdk::DecryptOptions::new().reproduced_context(c.clone())
    });
    esdk::blocking::block_on(
        decryptor.authenticate(esdk::KeySource::MaterialsManager(cmm), &options),
    )?;
    for piece in rest.chunks(chunk) {
        decryptor.push(piece, &mut out)?;
    }
    decryptor.finish()?;
    Ok(out)
}

fn run_case(
    store: &VectorStore,
    keys: &Keys,
    case: &TestCase,
    clients: &Clients,
    options: &RunOptions,
    expect_quirk_failures: bool,
) -> Outcome {
    let message = match store.read(&case.ciphertext) {
        Ok(m) => m,
        Err(e) => return Outcome::Fail(format!("ciphertext: {e}")),
    };
    let edks = esdk::parse_header(&message)
        .map(|h| h.unauthenticated().encrypted_data_keys().to_vec())
        .unwrap_or_default();
    let expected = if expect_quirk_failures {
        Expected::Error("ESDK-.NET 4.0.0 message, refused without the legacy retry".to_owned())
    } else {
        case.expected.clone()
    };
    let cmm = match keys::build(&case.keys, keys, &edks, &options.kms) {
        Err(e) => return Outcome::Fail(format!("key description: {e}")),
        Ok(Built::Skip(reason)) => return Outcome::Skip(reason),
        Ok(Built::CannotDecrypt(reason)) => {
            return match expected {
                // Nothing listed can decrypt, so decryption must fail, as expected.
                Expected::Error(_) => Outcome::Pass,
                Expected::Plaintext(_) => {
                    Outcome::Fail(format!("no listed key can decrypt: {reason}"))
                }
            };
        }
        Ok(built) => match built.into_cmm() {
            Some(cmm) => cmm,
            None => return Outcome::Fail("internal: no materials manager".to_owned()),
        },
    };
    let attempts = attempts(case, &cmm, &message, clients, options);
    judge(store, &expected, attempts, expect_quirk_failures)
}

type Attempt = (&'static str, esdk::Result<Vec<u8>>);

fn attempts(
    case: &TestCase,
    cmm: &Arc<dyn esdk::MaterialsManager>,
    message: &[u8],
    clients: &Clients,
    options: &RunOptions,
) -> Vec<Attempt> {
    let reproduced = case.reproduced.as_ref();
    match case.method {
        DecryptionMethod::Any => {
            let mut out = vec![(
                "one-shot",
                decrypt_one_shot(&clients.normal, cmm.as_ref(), message, reproduced),
            )];
            if options.streaming {
                out.push((
                    "streaming",
                    decrypt_streaming(
                        &clients.normal,
                        cmm.as_ref(),
                        message,
                        reproduced,
                        options.stream_chunk,
                    ),
                ));
            }
            out
        }
        DecryptionMethod::StreamingUnsignedOnly => vec![(
            "streaming unsigned-only",
            decrypt_streaming(
                &clients.unsigned_only,
                cmm.as_ref(),
                message,
                reproduced,
                options.stream_chunk,
            ),
        )],
    }
}

fn judge(
    store: &VectorStore,
    expected: &Expected,
    attempts: Vec<Attempt>,
    expect_quirk_failures: bool,
) -> Outcome {
    match expected {
        Expected::Plaintext(path) => {
            let want = match store.read(path) {
                Ok(p) => p,
                Err(e) => return Outcome::Fail(format!("expected plaintext: {e}")),
            };
            for (method, result) in attempts {
                match result {
                    Err(e) => {
                        return Outcome::Fail(format!(
                            "{method} decryption failed: {}",
                            describe(&e)
                        ))
                    }
                    Ok(got) => {
                        if let Some(diff) = compare(&got, &want) {
                            return Outcome::Fail(format!("{method} decryption: {diff}"));
                        }
                    }
                }
            }
            Outcome::Pass
        }
        Expected::Error(description) => {
            for (method, result) in attempts {
                match result {
                    Ok(_) => {
                        return Outcome::Fail(format!(
                            "{method} decryption succeeded, but an error is expected ({description})"
                        ))
                    }
                    Err(esdk::Error::HeaderAuthentication) => {}
                    Err(e) if expect_quirk_failures => {
                        return Outcome::Fail(format!(
                            "{method} decryption failed as expected, but with {e:?} instead of a header authentication failure"
                        ))
                    }
                    Err(_) => {}
                }
            }
            Outcome::Pass
        }
    }
}

/// An error with its causes (`error: cause: cause`), so a failure shows why each keyring
/// failed: every attempt of `NoKeyringDecrypted` with its own causes (for AWS KMS, the
/// operation, error code, message and request id).
pub fn describe(error: &esdk::Error) -> String {
    if let esdk::Error::NoKeyringDecrypted { attempts, .. } = error {
        let each: Vec<String> = attempts
            .iter()
            .map(|a| format!("{}/{}: {}", a.provider_id, a.key_name, describe(&a.error)))
            .collect();
        return format!("{error}: {}", each.join("; "));
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let more = cause.to_string();
        if !more.is_empty() && !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// Describes how `got` differs from `want`, or `None` when they are equal.
pub fn compare(got: &[u8], want: &[u8]) -> Option<String> {
    if got == want {
        return None;
    }
    let first = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| got.len().min(want.len()));
    Some(format!(
        "plaintext mismatch: got {} bytes, expected {}, first difference at byte {first}",
        got.len(),
        want.len()
    ))
}

/// Namespace of the non-framed fixtures' raw AES key (sic: "persistant").
pub const FIXTURE_NAMESPACE: &str = "aws-raw-vectors-persistant";
/// Name of the non-framed fixtures' raw AES key.
pub const FIXTURE_KEY_NAME: &str = "aes-256";
/// The non-framed fixtures' AES-256 key: bytes 00..09 10..19 20..29 30 31, in base64.
pub const FIXTURE_KEY_BASE64: &str = "AAECAwQFBgcICRAREhMUFRYXGBkgISIjJCUmJygpMDE=";

/// Runs the non-framed fixtures in `dir`: each `*.bin` message (a name without `plaintext`)
/// must decrypt with the fixture key to the `*plaintext*.bin` file that shares its first
/// `_`-separated word (`v1_nonframed_aes256_0178.bin` → `v1_nonframed_plaintext_small.bin`),
/// and must be non-framed.
///
/// # Errors
/// When the folder cannot be listed or holds no message.
pub fn run_fixtures(dir: &Path, options: &RunOptions) -> Result<Report> {
    let label = dir.display().to_string();
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {label}"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bin"))
        .collect();
    names.sort();
    let messages: Vec<&String> = names.iter().filter(|n| !n.contains("plaintext")).collect();
    if messages.is_empty() {
        return Err(VectorError::new(format!(
            "no fixture messages (*.bin) in {label}"
        )));
    }
    let key = keys::decode_base64(FIXTURE_KEY_BASE64)?;
    let keyring = esdk::RawAesKeyring::new(FIXTURE_NAMESPACE, FIXTURE_KEY_NAME, &key)
        .context("fixture key")?;
    let cmm: Arc<dyn esdk::MaterialsManager> =
        Arc::new(esdk::DefaultMaterialsManager::new(Arc::new(keyring)));
    let clients = Clients::new(options);
    let selected: Vec<&String> = messages
        .into_iter()
        .filter(|n| options.filter.as_ref().is_none_or(|f| n.contains(f)))
        .collect();
    let results = parallel_map(&selected, options.jobs, |name| {
        let outcome = guard(|| {
            let prefix = name.split('_').next().unwrap_or(name);
            let Some(plaintext) = names
                .iter()
                .find(|n| n.contains("plaintext") && n.starts_with(&format!("{prefix}_")))
            else {
                return Outcome::Fail(format!("no {prefix}_*plaintext*.bin beside it"));
            };
            let path = |n: &str| dir.join(n).to_string_lossy().into_owned();
            let store = VectorStore::files(label.clone());
            let message = match store.read(&path(name)) {
                Ok(m) => m,
                Err(e) => return Outcome::Fail(e.to_string()),
            };
            match esdk::parse_header(&message) {
                Ok(h)
                    if h.unauthenticated().content_type()
                        == esdk::header::ContentType::NonFramed => {}
                Ok(h) => {
                    return Outcome::Fail(format!(
                        "expected a non-framed message, the header says {:?}",
                        h.unauthenticated().content_type()
                    ))
                }
                Err(e) => return Outcome::Fail(format!("header: {e}")),
            }
            let mut attempts = vec![(
                "one-shot",
                decrypt_one_shot(&clients.normal, cmm.as_ref(), &message, None),
            )];
            if options.streaming {
                attempts.push((
                    "streaming",
                    decrypt_streaming(
                        &clients.normal,
                        cmm.as_ref(),
                        &message,
                        None,
                        options.stream_chunk,
                    ),
                ));
            }
            judge(
                &store,
                &Expected::Plaintext(path(plaintext)),
                attempts,
                false,
            )
        });
        TestResult {
            id: (*name).clone(),
            outcome,
        }
    });
    Ok(Report {
        name: label,
        results,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn summary_and_lines() {
        let report = Report {
            name: "x".into(),
            results: vec![
                TestResult {
                    id: "a".into(),
                    outcome: Outcome::Pass,
                },
                TestResult {
                    id: "b".into(),
                    outcome: Outcome::Fail("boom".into()),
                },
                TestResult {
                    id: "c".into(),
                    outcome: Outcome::Skip("kms".into()),
                },
            ],
        };
        assert_eq!(report.summary(), "1 passed, 1 failed, 1 skipped");
        let mut out = Vec::new();
        report.write_lines(&mut out, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "FAIL b: boom\nSKIP c: kms\n"
        );
    }

    #[test]
    fn parallel_map_keeps_order() {
        let items: Vec<usize> = (0..100).collect();
        assert_eq!(
            parallel_map(&items, 3, |i| i * 2),
            (0..100).map(|i| i * 2).collect::<Vec<_>>()
        );
    }

    #[test]
    fn streaming_matches_one_shot() {
        let keyring = Arc::new(esdk::RawAesKeyring::new("ns", "k", &[3u8; 32]).unwrap());
        let client = esdk::Client::default();
        let plaintext: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
        let message =
            esdk::blocking::encrypt(&client, keyring.as_ref(), &plaintext, &Default::default())
                .unwrap();
        let cmm = esdk::DefaultMaterialsManager::new(keyring);
        for chunk in [1, 7, 997, 100_000] {
            assert_eq!(
                decrypt_streaming(&client, &cmm, &message, None, chunk).unwrap(),
                plaintext
            );
        }
        assert!(
            decrypt_streaming(&client, &cmm, &message[..message.len() - 1], None, 997).is_err()
        );
    }

    #[test]
    fn compare_reports_the_first_difference() {
        assert_eq!(compare(b"abc", b"abc"), None);
        assert!(compare(b"abd", b"abc").unwrap().contains("byte 2"));
        assert!(compare(b"ab", b"abc").unwrap().contains("byte 2"));
    }

    /// Refuses to decrypt, with a cause.
    #[derive(Debug)]
    struct Refuses;

    impl esdk::Keyring for Refuses {
        fn on_encrypt<'a>(
            &'a self,
            materials: esdk::materials::EncryptionMaterials,
        ) -> esdk::keyring::MaterialsFuture<'a, esdk::Result<esdk::materials::EncryptionMaterials>>
        {
            esdk::keyring::MaterialsFuture::ready(Ok(materials))
        }

        fn on_decrypt<'a>(
            &'a self,
            _materials: esdk::materials::DecryptionMaterials,
            _edks: &'a [esdk::materials::EncryptedDataKey],
        ) -> esdk::keyring::MaterialsFuture<'a, esdk::Result<esdk::materials::DecryptionMaterials>>
        {
            use esdk::error::{KeyringError, KeyringErrorKind};
            let cause = std::io::Error::other("InvalidCiphertextException: bad blob");
            esdk::keyring::MaterialsFuture::ready(Err(esdk::Error::Keyring(
                KeyringError::new(KeyringErrorKind::UnwrapFailed, "KMS refused").with_source(cause),
            )))
        }
    }

    #[test]
    fn describe_shows_every_attempt_and_its_causes() {
        let key = Arc::new(esdk::RawAesKeyring::new("ns", "k", &[3u8; 32]).unwrap());
        let client = esdk::Client::default();
        let message =
            esdk::blocking::encrypt(&client, key.as_ref(), b"x", &Default::default()).unwrap();
        let other = Arc::new(esdk::RawAesKeyring::new("ns", "other", &[4u8; 32]).unwrap());
        let multi = esdk::MultiKeyring::new(None, vec![Arc::new(Refuses), other]).unwrap();
        let error = esdk::blocking::decrypt(&client, &multi, &message).unwrap_err();
        let text = describe(&error);
        assert!(
            text.starts_with(
                "no keyring could decrypt a data key of this message (2 attempt(s)): "
            ),
            "{text}"
        );
        assert!(
            text.contains("could not unwrap the data key: KMS refused: InvalidCiphertextException: bad blob; "),
            "{text}"
        );
        assert!(text.contains("ns/other: "), "{text}");
    }
}
