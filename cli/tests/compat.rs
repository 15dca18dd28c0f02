//! `esdk` against `aws-encryption-cli` 4.3.0 (PyPI, in a venv of its own: it pins the 3.x
//! Python ESDK), both on a local KMS server (moto on 127.0.0.1, started here): files, folders
//! and stdin each way, and `--metadata-output` compared field by field.
//! `ESDK_KMS_TESTS=skip` skips these tests, saying so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../tests/support/kms_server.rs"]
mod kms_server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use kms_server::KmsServer;
use serde_json::Value;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p =
            std::env::temp_dir().join(format!("esdk-compat-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The standard AWS environment pointing at the local server, and nothing else of the
/// machine's AWS configuration.
fn aws_env(command: &mut Command, server: &KmsServer) {
    command
        .env("AWS_ENDPOINT_URL", server.endpoint_url())
        .env("AWS_REGION", server.region())
        .env("AWS_DEFAULT_REGION", server.region())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/esdk-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/esdk-test")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN");
}

fn run(program: &Path, args: &[&str], server: &KmsServer, stdin: Option<&[u8]>) -> Output {
    let mut command = Command::new(program);
    command.args(args);
    aws_env(&mut command, server);
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}):\n{}",
        program.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn esdk() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_esdk"))
}

fn setup() -> Option<(&'static KmsServer, PathBuf, String)> {
    if let Some(reason) = kms_server::skip_reason() {
        eprintln!("skipped: {reason}");
        return None;
    }
    let server = KmsServer::shared();
    let awscli = kms_server::aws_encryption_cli()
        .unwrap_or_else(|e| panic!("test setup: cannot install aws-encryption-cli: {e}"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let key = rt.block_on(kms_server::create_key(&server.client()));
    Some((server, awscli, key))
}

fn plaintexts(dir: &Dir) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::create_dir_all(dir.join("plain/sub")).unwrap();
    let files = [
        ("plain/empty.txt", Vec::new()),
        ("plain/small.txt", b"hello, compatible world\n".to_vec()),
        (
            "plain/frames.bin",
            (0..20_000u32).map(|i| (i * 31) as u8).collect(),
        ),
        ("plain/sub/exact.bin", vec![7u8; 8192]),
    ];
    files
        .into_iter()
        .map(|(name, data)| {
            let path = dir.join(name);
            std::fs::write(&path, &data).unwrap();
            (path, data)
        })
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn files_encrypted_by_either_tool_decrypt_with_the_other() {
    let Some((server, awscli, key)) = setup() else {
        return;
    };
    let dir = Dir::new("files");
    let w = format!("key={key}");
    for (plain, data) in plaintexts(&dir) {
        let name = plain.file_name().unwrap().to_str().unwrap().to_owned();
        // aws-encryption-cli -> esdk
        let ct = dir.join(&format!("{name}.aws.ct"));
        run(
            &awscli,
            &[
                "-e",
                "-i",
                s(&plain),
                "-o",
                s(&ct),
                "-w",
                &w,
                "-S",
                "-c",
                "purpose=compat",
            ],
            server,
            None,
        );
        let pt = dir.join(&format!("{name}.aws.esdk-pt"));
        run(
            &esdk(),
            &[
                "-d",
                "-i",
                s(&ct),
                "-o",
                s(&pt),
                "-w",
                &w,
                "-S",
                "-c",
                "purpose=compat",
            ],
            server,
            None,
        );
        assert_eq!(
            std::fs::read(&pt).unwrap(),
            data,
            "{name}: aws-encryption-cli -> esdk"
        );
        // esdk -> aws-encryption-cli
        let ct = dir.join(&format!("{name}.esdk.ct"));
        run(
            &esdk(),
            &[
                "-e",
                "-i",
                s(&plain),
                "-o",
                s(&ct),
                "-w",
                &w,
                "-S",
                "-c",
                "purpose=compat",
            ],
            server,
            None,
        );
        let pt = dir.join(&format!("{name}.esdk.aws-pt"));
        run(
            &awscli,
            &[
                "-d",
                "-i",
                s(&ct),
                "-o",
                s(&pt),
                "-w",
                &w,
                "-S",
                "-c",
                "purpose=compat",
            ],
            server,
            None,
        );
        assert_eq!(
            std::fs::read(&pt).unwrap(),
            data,
            "{name}: esdk -> aws-encryption-cli"
        );
    }
}

#[test]
fn folders_and_stdin_work_both_ways() {
    let Some((server, awscli, key)) = setup() else {
        return;
    };
    let dir = Dir::new("folders");
    let w = format!("key={key}");
    let files = plaintexts(&dir);
    let plain = dir.join("plain");
    for (first, second, tag) in [
        (&awscli, &esdk(), "aws-esdk"),
        (&esdk(), &awscli, "esdk-aws"),
    ] {
        let enc = dir.join(&format!("enc-{tag}"));
        let dec = dir.join(&format!("dec-{tag}"));
        std::fs::create_dir_all(&enc).unwrap();
        std::fs::create_dir_all(&dec).unwrap();
        run(
            first,
            &["-e", "-r", "-i", s(&plain), "-o", s(&enc), "-w", &w, "-S"],
            server,
            None,
        );
        run(
            second,
            &["-d", "-r", "-i", s(&enc), "-o", s(&dec), "-w", &w, "-S"],
            server,
            None,
        );
        for (path, data) in &files {
            let rel = path.strip_prefix(&plain).unwrap();
            let out = dec.join(format!("{}.encrypted.decrypted", rel.display()));
            assert_eq!(
                &std::fs::read(&out).unwrap_or_else(|e| panic!("{tag} {}: {e}", out.display())),
                data,
                "{tag} {}",
                rel.display()
            );
        }
        // stdin -> stdout, base64 in between.
        let message = run(
            first,
            &["-e", "-i", "-", "-o", "-", "--encode", "-w", &w, "-S"],
            server,
            Some(b"piped plaintext"),
        );
        let plaintext = run(
            second,
            &[
                "-d", "-i", "-", "-o", "-", "--decode", "--buffer", "-w", &w, "-S",
            ],
            server,
            Some(&message.stdout),
        );
        assert_eq!(plaintext.stdout, b"piped plaintext", "{tag} stdin");
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn metadata_output_matches_field_by_field() {
    let Some((server, awscli, key)) = setup() else {
        return;
    };
    let dir = Dir::new("metadata");
    let w = format!("key={key}");
    let plain = dir.join("in.txt");
    std::fs::write(&plain, b"metadata check").unwrap();
    // One message, decrypted by both tools: their decrypt lines describe the same header.
    let ct = dir.join("in.ct");
    let aws_meta = dir.join("aws.jsonl");
    run(
        &awscli,
        &[
            "-e",
            "-i",
            s(&plain),
            "-o",
            s(&ct),
            "-w",
            &w,
            "--metadata-output",
            s(&aws_meta),
            "-c",
            "purpose=meta",
        ],
        server,
        None,
    );
    run(
        &awscli,
        &[
            "-d",
            "-i",
            s(&ct),
            "-o",
            s(&dir.join("aws.pt")),
            "-w",
            &w,
            "--metadata-output",
            s(&aws_meta),
        ],
        server,
        None,
    );
    let esdk_meta = dir.join("esdk.jsonl");
    run(
        &esdk(),
        &[
            "-d",
            "-i",
            s(&ct),
            "-o",
            s(&dir.join("esdk.pt")),
            "-w",
            &w,
            "--metadata-output",
            s(&esdk_meta),
        ],
        server,
        None,
    );
    let aws = lines(&aws_meta);
    let ours = lines(&esdk_meta);
    assert_eq!((aws.len(), ours.len()), (2, 1));
    let (aws_decrypt, esdk_decrypt) = (&aws[1], &ours[0]);
    assert_eq!(aws_decrypt["mode"], esdk_decrypt["mode"]);
    assert_eq!(aws_decrypt["input"], esdk_decrypt["input"]);
    assert_eq!(
        aws_decrypt["header"], esdk_decrypt["header"],
        "the same message's header"
    );
    assert_eq!(aws_decrypt["header_auth"], esdk_decrypt["header_auth"]);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(aws_decrypt), keys(esdk_decrypt));
    // Encrypt lines: the same fields with the same types (values differ: another message).
    let esdk_enc_meta = dir.join("esdk-enc.jsonl");
    run(
        &esdk(),
        &[
            "-e",
            "-i",
            s(&plain),
            "-o",
            s(&dir.join("esdk.ct")),
            "-w",
            &w,
            "--metadata-output",
            s(&esdk_enc_meta),
            "-c",
            "purpose=meta",
        ],
        server,
        None,
    );
    let (aws_enc, esdk_enc) = (&aws[0], &lines(&esdk_enc_meta)[0]);
    assert_eq!(keys(aws_enc), keys(esdk_enc));
    assert_eq!(keys(&aws_enc["header"]), keys(&esdk_enc["header"]));
    for field in [
        "algorithm",
        "content_type",
        "frame_length",
        "version",
        "type",
        "header_iv_length",
        "mode",
        "input",
    ] {
        let (a, e) = (
            aws_enc["header"].get(field).or(aws_enc.get(field)),
            esdk_enc["header"].get(field).or(esdk_enc.get(field)),
        );
        assert_eq!(a, e, "{field}");
    }
    assert_eq!(
        aws_enc["header"]["encryption_context"]["purpose"],
        esdk_enc["header"]["encryption_context"]["purpose"]
    );
    assert_eq!(
        aws_enc["header"]["encrypted_data_keys"][0]["key_provider"],
        esdk_enc["header"]["encrypted_data_keys"][0]["key_provider"]
    );
    // The line layout itself: Python's json.dumps(sort_keys=True).
    let text = std::fs::read_to_string(&esdk_enc_meta).unwrap();
    assert!(text.starts_with("{\"header\": {\"algorithm\": "), "{text}");
}

/// Installs aws-encryption-cli (its own venv) and starts the KMS server: `.ci/run` calls it
/// before the tests so the installs show as their own step.
#[test]
fn aws_encryption_cli_installs() {
    if let Some(reason) = kms_server::skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let awscli = kms_server::aws_encryption_cli().unwrap();
    let out = Command::new(&awscli).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("aws-encryption-sdk-cli/4.3.0"));
}
