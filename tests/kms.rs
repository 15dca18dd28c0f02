//! AWS KMS keyrings against a real KMS-compatible server: moto on 127.0.0.1, started by
//! `tests/support/kms_server.rs` (a venv it makes on first use; `ESDK_KMS_TESTS=skip` skips).
//!
//! What moto cannot do is not claimed here: stock moto 5.2.5 cannot decrypt under multi-Region
//! keys, and it does not refuse disabled keys. The MRK rules are table tests in
//! `src/kms/arn.rs` and `src/kms/keyring.rs`; here the MRK-aware keyrings run with single-Region
//! keys, which moto serves. Real multi-Region keys and their replicas run in
//! `test-vectors/tests/kms.rs` against moto with the harness's 4-byte key-id fix
//! (`KmsServer::shared_mrk_fixed`, described in `tests/support/kms_server.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/kms_server.rs"]
mod kms_server;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use esdk::error::{KeyringError, KeyringErrorKind};
use esdk::kms::{
    AwsKmsDiscoveryKeyring, AwsKmsKeyring, DiscoveryFilter, KmsClientSupplier, KmsServiceError,
};
use esdk::{
    Client, DecryptOptions, EncryptOptions, EncryptionContext, Error, Keyring, MultiKeyring,
};
use kms_server::{KmsCallLog, KmsServer};

/// moto's account id.
const ACCOUNT: &str = "123456789012";

macro_rules! server_or_skip {
    () => {{
        if let Some(reason) = kms_server::skip_reason() {
            eprintln!("skipped: {reason}");
            return;
        }
        KmsServer::shared()
    }};
}

fn context() -> EncryptionContext {
    EncryptionContext::from([("tenant", "acme"), ("purpose", "kms-test")])
}

/// A supplier whose clients log every call.
fn logged_supplier(server: &KmsServer, log: &KmsCallLog) -> KmsClientSupplier {
    KmsClientSupplier::from_config(log.attach(&server.config()))
}

fn logged_client(server: &KmsServer, log: &KmsCallLog) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::from_conf(log.attach(&server.config()))
}

/// The kinds of every keyring error inside an error.
fn kinds(error: &Error) -> Vec<KeyringErrorKind> {
    match error {
        Error::Keyring(e) => vec![e.kind()],
        Error::NoKeyringDecrypted { attempts, .. } => {
            attempts.iter().flat_map(|a| kinds(&a.error)).collect()
        }
        _ => vec![],
    }
}

fn kms_code(error: &Error) -> Option<String> {
    fn of(e: &KeyringError) -> Option<String> {
        use std::error::Error as _;
        e.source()?
            .downcast_ref::<KmsServiceError>()?
            .code()
            .map(str::to_owned)
    }
    match error {
        Error::Keyring(e) => of(e),
        Error::NoKeyringDecrypted { attempts, .. } => {
            attempts.iter().find_map(|a| kms_code(&a.error))
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_keyring_with_one_and_three_keys_round_trips() {
    let server = server_or_skip!();
    let admin = server.client();
    let keys = [
        kms_server::create_key(&admin).await,
        kms_server::create_key(&admin).await,
        kms_server::create_key(&admin).await,
    ];
    let client = Client::default();
    let options = EncryptOptions::new().encryption_context(context());

    // One key.
    let log = KmsCallLog::new();
    let one = AwsKmsKeyring::new(&keys[0], logged_client(server, &log)).unwrap();
    let message = client
        .encrypt_with(&one, b"one key", &options)
        .await
        .unwrap();
    assert_eq!(log.count("GenerateDataKey"), 1);
    let header = esdk::parse_header(&message).unwrap();
    let edks = header.unauthenticated().encrypted_data_keys();
    assert_eq!(edks.len(), 1);
    assert_eq!(edks[0].provider_id, "aws-kms");
    assert_eq!(edks[0].provider_info, keys[0].as_bytes());
    assert_eq!(
        client.decrypt(&one, &message).await.unwrap().plaintext,
        b"one key"
    );
    assert_eq!(log.count("Decrypt"), 1);

    // A generator and two more keys: one GenerateDataKey, two Encrypt.
    let log = KmsCallLog::new();
    let three = esdk::kms::multi_keyring(
        Some(&keys[0]),
        [&keys[1], &keys[2]],
        logged_supplier(server, &log),
    )
    .unwrap();
    let message = client
        .encrypt_with(&three, b"three keys", &options)
        .await
        .unwrap();
    assert_eq!((log.count("GenerateDataKey"), log.count("Encrypt")), (1, 2));
    let header = esdk::parse_header(&message).unwrap();
    let infos: Vec<&[u8]> = header
        .unauthenticated()
        .encrypted_data_keys()
        .iter()
        .map(|e| e.provider_info.as_slice())
        .collect();
    assert_eq!(infos, keys.iter().map(|k| k.as_bytes()).collect::<Vec<_>>());
    // Each key alone decrypts.
    for key in &keys {
        let alone = AwsKmsKeyring::new(key, server.client()).unwrap();
        let out = client
            .decrypt_with(
                &alone,
                &message,
                &DecryptOptions::new().reproduced_context(context()),
            )
            .await
            .unwrap();
        assert_eq!(out.plaintext, b"three keys");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_filtered_and_mrk_aware_keyrings_decrypt() {
    let server = server_or_skip!();
    let key = kms_server::create_key(&server.client()).await;
    let client = Client::default();
    let keyring = AwsKmsKeyring::new(&key, server.client()).unwrap();
    let message = client
        .encrypt(&keyring, b"discover me", &context())
        .await
        .unwrap();

    let discovery = AwsKmsDiscoveryKeyring::new(server.client()).unwrap();
    let filtered = AwsKmsDiscoveryKeyring::builder()
        .client(server.client())
        .filter(DiscoveryFilter::new("aws", [ACCOUNT]).unwrap())
        .build()
        .unwrap();
    let mrk_strict = AwsKmsKeyring::builder(&key)
        .client(server.client())
        .multi_region_aware(true)
        .build()
        .unwrap();
    let mrk_discovery = AwsKmsDiscoveryKeyring::builder()
        .client(server.client())
        .region(server.region())
        .build()
        .unwrap();
    let supplier = KmsClientSupplier::from_config(server.config());
    let discovery_multi =
        esdk::kms::discovery_multi_keyring([server.region()], None, supplier).unwrap();
    let supplier = KmsClientSupplier::from_config(server.config());
    let mrk_discovery_multi = esdk::kms::mrk_discovery_multi_keyring(
        ["eu-central-1", server.region()],
        Some(DiscoveryFilter::new("aws", [ACCOUNT]).unwrap()),
        supplier,
    )
    .unwrap();
    let keyrings: [(&str, &dyn Keyring); 6] = [
        ("discovery", &discovery),
        ("filtered discovery", &filtered),
        ("MRK-aware strict", &mrk_strict),
        ("MRK-aware discovery", &mrk_discovery),
        ("discovery multi-keyring", &discovery_multi),
        ("MRK-aware discovery multi-keyring", &mrk_discovery_multi),
    ];
    for (name, keyring) in keyrings {
        let out = client.decrypt(keyring, &message).await;
        assert_eq!(
            out.map(|d| d.plaintext)
                .unwrap_or_else(|e| panic!("{name}: {e:?}")),
            b"discover me"
        );
    }
    // Discovery cannot encrypt.
    let err = client
        .encrypt(&discovery, b"x", &context())
        .await
        .unwrap_err();
    assert_eq!(kinds(&err), [KeyringErrorKind::Configuration], "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_that_excludes_the_account_fails_without_calling_kms() {
    let server = server_or_skip!();
    let key = kms_server::create_key(&server.client()).await;
    let client = Client::default();
    let keyring = AwsKmsKeyring::new(&key, server.client()).unwrap();
    let message = client.encrypt(&keyring, b"x", &context()).await.unwrap();

    for filter in [
        DiscoveryFilter::new("aws", ["111122223333"]).unwrap(),
        DiscoveryFilter::new("aws-cn", [ACCOUNT]).unwrap(),
    ] {
        let log = KmsCallLog::new();
        let keyring = AwsKmsDiscoveryKeyring::builder()
            .client(logged_client(server, &log))
            .filter(filter.clone())
            .build()
            .unwrap();
        let err = client.decrypt(&keyring, &message).await.unwrap_err();
        assert_eq!(
            kinds(&err),
            [KeyringErrorKind::Configuration],
            "{filter:?}: {err:?}"
        );
        assert!(format!("{err:?}").contains("discovery filter"), "{err:?}");
        assert_eq!(log.total(), 0, "{:?}", log.calls());
    }
    // A discovery keyring bound to another Region skips single-Region keys of this one.
    let log = KmsCallLog::new();
    let elsewhere = AwsKmsDiscoveryKeyring::builder()
        .client(logged_client(server, &log))
        .region("ap-southeast-2")
        .build()
        .unwrap();
    let err = client.decrypt(&elsewhere, &message).await.unwrap_err();
    assert_eq!(kinds(&err), [KeyringErrorKind::Configuration], "{err:?}");
    assert_eq!(log.total(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_the_keyring_does_not_hold_is_never_sent_to_kms() {
    let server = server_or_skip!();
    let admin = server.client();
    let (a, b, c) = (
        kms_server::create_key(&admin).await,
        kms_server::create_key(&admin).await,
        kms_server::create_key(&admin).await,
    );
    let client = Client::default();
    let wrap = esdk::kms::multi_keyring(
        Some(&a),
        [&b],
        KmsClientSupplier::from_config(server.config()),
    )
    .unwrap();
    let message = client.encrypt(&wrap, b"x", &context()).await.unwrap();

    // Key c wrapped nothing: no call at all.
    let log = KmsCallLog::new();
    let other = AwsKmsKeyring::new(&c, logged_client(server, &log)).unwrap();
    let err = client.decrypt(&other, &message).await.unwrap_err();
    assert_eq!(kinds(&err), [KeyringErrorKind::NoMatchingKey], "{err:?}");
    assert_eq!(log.total(), 0, "{:?}", log.calls());

    // Key b: exactly one Decrypt, for key b.
    let log = KmsCallLog::new();
    let holder = AwsKmsKeyring::new(&b, logged_client(server, &log)).unwrap();
    client.decrypt(&holder, &message).await.unwrap();
    assert_eq!(log.requests(), [format!("Decrypt {b}")]);
    assert_eq!(log.calls(), ["Decrypt"]);

    // An alias names the key on encrypt, but a strict keyring decrypts only by key ARN.
    let alias = kms_server::create_alias(&admin, "esdk-strict-alias", &a).await;
    let by_alias = AwsKmsKeyring::new(&alias, server.client()).unwrap();
    let message = client
        .encrypt(&by_alias, b"via alias", &context())
        .await
        .unwrap();
    let header = esdk::parse_header(&message).unwrap();
    assert_eq!(
        header.unauthenticated().encrypted_data_keys()[0].provider_info,
        a.as_bytes()
    );
    let err = client.decrypt(&by_alias, &message).await.unwrap_err();
    assert_eq!(kinds(&err), [KeyringErrorKind::NoMatchingKey], "{err:?}");
    let by_arn = AwsKmsKeyring::new(&a, server.client()).unwrap();
    assert_eq!(
        client.decrypt(&by_arn, &message).await.unwrap().plaintext,
        b"via alias"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_and_raw_aes_in_one_multi_keyring_each_decrypt_alone() {
    let server = server_or_skip!();
    let key = kms_server::create_key(&server.client()).await;
    let kms: Arc<dyn Keyring> = Arc::new(AwsKmsKeyring::new(&key, server.client()).unwrap());
    let aes: Arc<dyn Keyring> =
        Arc::new(esdk::RawAesKeyring::new("ns", "aes", &[3u8; 32]).unwrap());
    let client = Client::default();
    for (generator, child) in [(kms.clone(), aes.clone()), (aes.clone(), kms.clone())] {
        let multi = MultiKeyring::new(Some(generator), vec![child]).unwrap();
        let message = client.encrypt(&multi, b"mixed", &context()).await.unwrap();
        assert_eq!(
            esdk::parse_header(&message)
                .unwrap()
                .unauthenticated()
                .encrypted_data_keys()
                .len(),
            2
        );
        for alone in [&kms, &aes] {
            assert_eq!(
                client.decrypt(alone, &message).await.unwrap().plaintext,
                b"mixed"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_errors_map_to_kinds_with_the_kms_error_as_source() {
    let server = server_or_skip!();
    let admin = server.client();
    let (a, b) = (
        kms_server::create_key(&admin).await,
        kms_server::create_key(&admin).await,
    );
    let client = Client::default();
    let keyring_a = AwsKmsKeyring::new(&a, server.client()).unwrap();
    let message = client.encrypt(&keyring_a, b"x", &context()).await.unwrap();

    // A key that does not exist.
    let missing =
        a.rsplit_once('/').unwrap().0.to_owned() + "/00000000-0000-0000-0000-000000000000";
    let keyring = AwsKmsKeyring::new(&missing, server.client()).unwrap();
    let err = client
        .encrypt(&keyring, b"x", &context())
        .await
        .unwrap_err();
    assert_eq!(kinds(&err), [KeyringErrorKind::KeyUnavailable], "{err:?}");
    assert_eq!(kms_code(&err).as_deref(), Some("NotFoundException"));
    assert!(!err.is_retryable());

    // Another encryption context: KMS refuses to unwrap (InvalidCiphertextException).
    let edk = esdk::parse_header(&message)
        .unwrap()
        .unauthenticated()
        .encrypted_data_keys()[0]
        .clone();
    let suite = esdk::suite::AlgorithmSuite::from_id(0x0578).unwrap();
    let other_context = EncryptionContext::from([("tenant", "other")]);
    let materials = esdk::materials::DecryptionMaterials::new(suite, other_context);
    let err = keyring_a
        .on_decrypt(materials, std::slice::from_ref(&edk))
        .await
        .unwrap_err();
    assert_eq!(
        kms_code(&err).as_deref(),
        Some("InvalidCiphertextException"),
        "{err:?}"
    );
    assert_eq!(kinds(&err), [KeyringErrorKind::UnwrapFailed], "{err:?}");

    // The EDK of key a presented as key b's: KMS says the ciphertext is not b's.
    let mut edk = esdk::parse_header(&message)
        .unwrap()
        .unauthenticated()
        .encrypted_data_keys()[0]
        .clone();
    edk.provider_info = b.clone().into_bytes();
    let keyring_b = AwsKmsKeyring::new(&b, server.client()).unwrap();
    let suite = esdk::suite::AlgorithmSuite::from_id(0x0578).unwrap();
    let materials = esdk::materials::DecryptionMaterials::new(suite, context());
    let err = keyring_b
        .on_decrypt(materials, std::slice::from_ref(&edk))
        .await
        .unwrap_err();
    let code = kms_code(&err);
    assert!(
        matches!(
            code.as_deref(),
            Some("AccessDeniedException")
                | Some("IncorrectKeyException")
                | Some("InvalidCiphertextException")
        ),
        "{code:?} {err:?}"
    );
    assert!(
        kinds(&err).iter().all(|k| matches!(
            k,
            KeyringErrorKind::AccessDenied | KeyringErrorKind::UnwrapFailed
        )),
        "{err:?}"
    );
    // Debug shows the KMS error, never a response body.
    let debug = format!("{err:?}");
    assert!(
        debug.contains("KmsServiceError") && !debug.contains("Plaintext"),
        "{debug}"
    );
}

/// A server that accepts connections and never answers: the call ends at the configured
/// timeout with an Unreachable (retryable) error, not a hang.
#[test]
fn a_silent_server_is_unreachable_at_the_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::thread::spawn(move || {
        // Hold every connection open without a byte of answer.
        let mut held = Vec::new();
        listener.set_nonblocking(true).unwrap();
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            match listener.accept() {
                Ok((conn, _)) => held.push(conn),
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    let config = kms_server::sdk_config(&endpoint, "us-west-2")
        .to_builder()
        .timeout_config(
            aws_sdk_kms::config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(500))
                .operation_timeout(Duration::from_secs(2))
                .build(),
        )
        .build();
    let keyring = AwsKmsKeyring::builder(
        "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    .client_supplier(KmsClientSupplier::from_config(config))
    .build()
    .unwrap();
    let started = Instant::now();
    let err = esdk::blocking::encrypt(&Client::default(), &keyring, b"x", &context()).unwrap_err();
    let took = started.elapsed();
    assert_eq!(kinds(&err), [KeyringErrorKind::Unreachable], "{err:?}");
    assert!(err.is_retryable());
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(10),
        "took {took:?}"
    );
    drop(accepted);
}

#[test]
fn a_stopped_server_is_unreachable_within_the_timeout() {
    if let Some(reason) = kms_server::skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let mut server = KmsServer::start().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let key = rt.block_on(kms_server::create_key(&server.client()));
    let client = Client::default();
    // The supplier's own defaults (3.1 s connect, 10 s attempt, 30 s per call), not the
    // test config's timeouts.
    let config = server
        .config()
        .to_builder()
        .timeout_config(aws_sdk_kms::config::timeout::TimeoutConfig::disabled())
        .build();
    let keyring = AwsKmsKeyring::builder(&key)
        .client_supplier(KmsClientSupplier::from_config(config))
        .build()
        .unwrap();
    let message = esdk::blocking::encrypt(&client, &keyring, b"x", &context()).unwrap();
    server.stop();
    let started = Instant::now();
    let err = esdk::blocking::decrypt(&client, &keyring, &message).unwrap_err();
    let took = started.elapsed();
    assert_eq!(kinds(&err), [KeyringErrorKind::Unreachable], "{err:?}");
    assert!(err.is_retryable());
    assert!(took < Duration::from_secs(35), "took {took:?}");
}

/// The same keyring from every front end: async on both runtime flavours, blocking without a
/// runtime and inside a current-thread runtime's task, `std::io` and tokio adapters.
#[test]
fn every_front_end_works_with_a_kms_keyring() {
    if let Some(reason) = kms_server::skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let server = KmsServer::shared();
    let setup = tokio::runtime::Runtime::new().unwrap();
    let key = setup.block_on(kms_server::create_key(&server.client()));
    drop(setup);
    let keyring = AwsKmsKeyring::builder(&key)
        .client_supplier(KmsClientSupplier::from_config(server.config()))
        .build()
        .unwrap();
    let client = Client::builder().frame_length(1024).build().unwrap();
    let plaintext: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();

    // Blocking, no runtime anywhere.
    let message = esdk::blocking::encrypt(&client, &keyring, &plaintext, &context()).unwrap();
    assert_eq!(
        esdk::blocking::decrypt(&client, &keyring, &message)
            .unwrap()
            .plaintext,
        plaintext
    );

    // std::io adapters, no runtime.
    let mut writer = esdk::stream::io::EncryptingWriter::new(
        &client,
        &keyring,
        &EncryptOptions::new().encryption_context(context()),
        Vec::new(),
    )
    .unwrap();
    writer.write_all(&plaintext).unwrap();
    let streamed = writer.finish().unwrap();
    let mut reader = esdk::stream::io::DecryptingReader::new(
        &client,
        &keyring,
        &DecryptOptions::new(),
        &streamed[..],
    )
    .unwrap();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    assert_eq!(out, plaintext);

    // Inside a current-thread runtime: async inline, and blocking (which must not hang).
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    current.block_on(async {
        let m = client
            .encrypt(&keyring, &plaintext, &context())
            .await
            .unwrap();
        assert_eq!(
            client.decrypt(&keyring, &m).await.unwrap().plaintext,
            plaintext
        );
        let m = esdk::blocking::encrypt(&client, &keyring, &plaintext, &context()).unwrap();
        assert_eq!(
            esdk::blocking::decrypt(&client, &keyring, &m)
                .unwrap()
                .plaintext,
            plaintext
        );
    });

    // A current-thread runtime entered but not running, and another executor (esdk's own
    // block_on) polling: must not hang.
    {
        let idle = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _entered = idle.enter();
        let m = esdk::blocking::encrypt(&client, &keyring, &plaintext, &context()).unwrap();
        assert_eq!(
            esdk::blocking::decrypt(&client, &keyring, &m)
                .unwrap()
                .plaintext,
            plaintext
        );
    }

    // Multi-thread runtime, from a task and from spawn_blocking.
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let keyring = Arc::new(keyring);
    let (k, c, p) = (keyring.clone(), client.clone(), plaintext.clone());
    multi.block_on(async move {
        let m = c.encrypt(&*k, &p, &context()).await.unwrap();
        assert_eq!(c.decrypt(&*k, &m).await.unwrap().plaintext, p);
        let (k2, c2, p2) = (k.clone(), c.clone(), p.clone());
        tokio::task::spawn_blocking(move || {
            let m = esdk::blocking::encrypt(&c2, &*k2, &p2, &context()).unwrap();
            assert_eq!(
                esdk::blocking::decrypt(&c2, &*k2, &m).unwrap().plaintext,
                p2
            );
        })
        .await
        .unwrap();
    });

    // tokio adapters.
    #[cfg(feature = "tokio")]
    multi.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut writer = esdk::stream::tokio::AsyncEncryptingWriter::new(
            &client,
            &*keyring,
            &EncryptOptions::new().encryption_context(context()),
            Vec::new(),
        )
        .await
        .unwrap();
        writer.write_all(&plaintext).await.unwrap();
        writer.shutdown().await.unwrap();
        let streamed = writer.into_inner();
        let mut reader = esdk::stream::tokio::AsyncDecryptingReader::new(
            &client,
            &*keyring,
            &DecryptOptions::new(),
            &streamed[..],
        )
        .await
        .unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, plaintext);
    });
}

/// A fresh folder under the system temp dir, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!("esdk-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn kms_roundtrip_py(server: &KmsServer, key: &str, args: &[&str]) -> std::process::Output {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test-vectors/python/kms_roundtrip.py"
    );
    let python = kms_server::python().unwrap();
    let mut command = std::process::Command::new(python);
    command
        .arg(script)
        .arg(args[0])
        .args([
            "--endpoint",
            &server.endpoint_url(),
            "--region",
            server.region(),
            "--key-arn",
            key,
        ])
        .args(&args[1..]);
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "kms_roundtrip.py {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The Python AWS Encryption SDK (4.x, MPL AWS KMS keyring) decrypts what esdk wrapped with a
/// key on the local server, and esdk decrypts what the Python SDK wrapped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_esdk_and_esdk_decrypt_each_others_kms_messages() {
    let server = server_or_skip!();
    let key = kms_server::create_key(&server.client()).await;
    let keyring = AwsKmsKeyring::new(&key, server.client()).unwrap();

    // esdk -> Python.
    let dir = TempDir::new("kms-to-python");
    let context = EncryptionContext::from([("purpose", "interop"), ("from", "esdk")]);
    let mut files = Vec::new();
    for (suite, frame, len) in [
        (0x0578u16, 4096u32, 0usize),
        (0x0578, 4096, 1),
        (0x0578, 4096, 8192),
        (0x0478, 1024, 10_000),
    ] {
        let policy = if esdk::suite::AlgorithmSuite::from_id(suite)
            .unwrap()
            .is_committing()
        {
            esdk::CommitmentPolicy::RequireEncryptRequireDecrypt
        } else {
            esdk::CommitmentPolicy::ForbidEncryptAllowDecrypt
        };
        let client = Client::builder()
            .commitment_policy(policy)
            .suite(esdk::suite::AlgorithmSuite::from_id(suite).unwrap())
            .frame_length(frame)
            .build()
            .unwrap();
        let plaintext: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let message = client
            .encrypt(&keyring, &plaintext, &context)
            .await
            .unwrap();
        let name = format!("esdk-{suite:04x}-{frame}-{len}");
        std::fs::write(dir.0.join(format!("{name}.ct")), &message).unwrap();
        std::fs::write(dir.0.join(format!("{name}.pt")), &plaintext).unwrap();
        files.push((name, plaintext));
    }
    let mut args = vec!["decrypt", "--context", "from=esdk"];
    let paths: Vec<String> = files
        .iter()
        .map(|(name, _)| dir.0.join(format!("{name}.ct")).display().to_string())
        .collect();
    args.extend(paths.iter().map(String::as_str));
    kms_roundtrip_py(server, &key, &args);
    for (name, plaintext) in &files {
        let decrypted = std::fs::read(dir.0.join(format!("{name}.ct.py-decrypted"))).unwrap();
        assert_eq!(&decrypted, plaintext, "{name}");
    }

    // Python -> esdk, with a strict and a discovery keyring.
    let dir = TempDir::new("kms-from-python");
    let out = dir.0.display().to_string();
    kms_roundtrip_py(server, &key, &["encrypt", "--out", &out]);
    let discovery = AwsKmsDiscoveryKeyring::new(server.client()).unwrap();
    let client = Client::default();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("ct") {
            continue;
        }
        let message = std::fs::read(&path).unwrap();
        let expected = std::fs::read(path.with_extension("pt")).unwrap();
        for keyring in [&keyring as &dyn Keyring, &discovery] {
            let out = client.decrypt(keyring, &message).await.unwrap();
            assert_eq!(out.plaintext, expected, "{}", path.display());
            assert_eq!(
                out.encryption_context.get("purpose").map(String::as_str),
                Some("interop")
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 4, "the Python SDK wrote 4 messages");
}

/// Installs and starts the KMS test server once: `.ci/run` calls it before the tests so the
/// install shows as its own step.
#[test]
fn kms_server_starts() {
    if let Some(reason) = kms_server::skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let server = KmsServer::shared();
    let (status, _) = server.moto_api("GET", "/moto-api/").unwrap();
    assert_eq!(status, 200);
}

/// A caching materials manager in front of a KMS keyring: 10,000 messages with at most 100 per
/// data key make 100 GenerateDataKey calls, and decrypting them makes at most 100 Decrypt calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_makes_kms_calls_rare() {
    use esdk::cache::{CachingMaterialsManager, MaterialsCache};
    use esdk::KeySource;
    let server = server_or_skip!();
    let key = kms_server::create_key(&server.client()).await;
    let log = KmsCallLog::new();
    let keyring = AwsKmsKeyring::new(&key, logged_client(server, &log)).unwrap();
    let cache = MaterialsCache::new(1000);
    let cmm = CachingMaterialsManager::builder(cache.clone(), Duration::from_secs(600))
        .keyring(keyring)
        .max_messages(100)
        .build()
        .unwrap();
    let client = Client::builder()
        .suite(esdk::suite::AlgorithmSuite::from_id(0x0478).unwrap())
        .build()
        .unwrap();
    let options = EncryptOptions::new().encryption_context(context());
    let mut messages = Vec::with_capacity(10_000);
    for i in 0..10_000u32 {
        let message = client
            .encrypt_with(
                KeySource::MaterialsManager(&cmm),
                &i.to_be_bytes(),
                &options,
            )
            .await
            .unwrap();
        messages.push(message);
    }
    assert_eq!(log.count("GenerateDataKey"), 100, "{:?}", cache.metrics());
    assert_eq!(log.total(), 100);
    for (i, message) in messages.iter().enumerate() {
        let out = client
            .decrypt_with(
                KeySource::MaterialsManager(&cmm),
                message,
                &DecryptOptions::new(),
            )
            .await
            .unwrap();
        assert_eq!(out.plaintext, (i as u32).to_be_bytes());
    }
    assert!(
        log.count("Decrypt") <= 100,
        "{} Decrypt calls",
        log.count("Decrypt")
    );
    assert_eq!(log.count("Decrypt"), 100);
}

/// Every `aws-kms` encrypted data key is checked before any call: one whose provider info is
/// not a key ARN fails the whole decrypt, even after a good one, and KMS is never called.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_aws_kms_key_fails_decrypt_before_any_call() {
    let server = server_or_skip!();
    let key = kms_server::create_key(&server.client()).await;
    let client = Client::default();
    let keyring = AwsKmsKeyring::new(&key, server.client()).unwrap();
    let message = client.encrypt(&keyring, b"x", &context()).await.unwrap();
    let header = esdk::parse_header(&message).unwrap();
    let good = header.unauthenticated().encrypted_data_keys()[0].clone();
    let mut bad = good.clone();
    bad.provider_info = b"arn:aws:kms:us-west-2:123456789012:alias/not-a-key".to_vec();
    let log = KmsCallLog::new();
    let suite = esdk::suite::AlgorithmSuite::from_id(0x0578).unwrap();
    let discovery = AwsKmsDiscoveryKeyring::new(logged_client(server, &log)).unwrap();
    let strict = AwsKmsKeyring::new(&key, logged_client(server, &log)).unwrap();
    for keyring in [&discovery as &dyn Keyring, &strict] {
        let materials = esdk::materials::DecryptionMaterials::new(suite, context());
        let err = keyring
            .on_decrypt(materials, &[good.clone(), bad.clone()])
            .await
            .unwrap_err();
        assert!(format!("{err}").contains("KMS key ARN"), "{err}");
    }
    assert_eq!(log.total(), 0, "{:?}", log.calls());
}

/// 32 concurrent cold encrypts through a caching manager in front of a KMS keyring make exactly
/// one GenerateDataKey call (single flight), counted at the client.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cold_encrypts_make_one_generate_data_key_call() {
    use esdk::cache::{CachingMaterialsManager, MaterialsCache};
    use esdk::KeySource;
    let server = server_or_skip!();
    let key = kms_server::create_key(&server.client()).await;
    let log = KmsCallLog::new();
    let keyring = AwsKmsKeyring::new(&key, logged_client(server, &log)).unwrap();
    let cache = MaterialsCache::new(10);
    let cmm = Arc::new(
        CachingMaterialsManager::builder(cache.clone(), Duration::from_secs(600))
            .keyring(keyring)
            .build()
            .unwrap(),
    );
    let client = Client::default();
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let (cmm, client) = (cmm.clone(), client.clone());
            tokio::spawn(async move {
                let options = EncryptOptions::new().encryption_context(context());
                client
                    .encrypt_with(
                        KeySource::MaterialsManager(&*cmm),
                        format!("message {i}").as_bytes(),
                        &options,
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(log.count("GenerateDataKey"), 1, "{:?}", cache.metrics());
    let m = cache.metrics();
    assert_eq!((m.misses, m.hits), (1, 31));
}

/// A client the caller built without timeouts still cannot hang a keyring: each KMS request
/// gets the default timeouts; a client with its own keeps them (seen by an interceptor).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyrings_bound_calls_of_clients_without_timeouts() {
    use aws_sdk_kms::config::timeout::TimeoutConfig;
    let server = server_or_skip!();
    let key = kms_server::create_key(&server.client()).await;
    let client = Client::default();
    for (timeouts, expected) in [
        (None, Some(Duration::from_secs(30))),
        (
            Some(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(1))
                    .build(),
            ),
            Some(Duration::from_secs(30)),
        ),
        (
            Some(
                TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(5))
                    .build(),
            ),
            Some(Duration::from_secs(5)),
        ),
        (Some(TimeoutConfig::disabled()), None),
    ] {
        let mut builder = aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .region(aws_sdk_kms::config::Region::new(server.region().to_owned()))
            .endpoint_url(server.endpoint_url())
            .credentials_provider(aws_sdk_kms::config::Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "esdk-kms-tests",
            ));
        if let Some(t) = timeouts.clone() {
            builder = builder.timeout_config(t);
        }
        let log = KmsCallLog::new();
        let kms = aws_sdk_kms::Client::from_conf(log.attach(&builder.build()));
        let keyring = AwsKmsKeyring::new(&key, kms).unwrap();
        let message = client.encrypt(&keyring, b"x", &context()).await.unwrap();
        client.decrypt(&keyring, &message).await.unwrap();
        assert_eq!(
            log.operation_timeouts(),
            [expected, expected],
            "{timeouts:?}"
        );
    }
}
