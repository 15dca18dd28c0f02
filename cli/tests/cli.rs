//! Integration tests of the `esdk` command-line tool: both command forms, output naming,
//! folders, stdin/stdout, base64, argument files, metadata lines, encryption context checks,
//! algorithm and limit options, every failure path (exit status, the one-line reason and its
//! hint, and that no output or temporary file remains), `inspect`, help, version, completions.
//!
//! Only raw AES keys (a key file or a base64 environment variable) and raw RSA keys (the
//! repository's PEM test keys) are used, so no KMS server is needed. Every test works in its
//! own folder under the system temp folder, removed at the end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::assert::Assert;
use assert_cmd::Command;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use predicates::prelude::*;
use serde_json::Value;

/// The raw AES key of every test (written to `aes.key` in each scratch folder).
const KEY: [u8; 32] = *b"0123456789abcdef0123456789ABCDEF";
/// Another 256-bit key, for the wrong-key cases.
const OTHER_KEY: [u8; 32] = *b"fedcba9876543210FEDCBA9876543210";

/// `-w` for the raw AES key in `aes.key` (paths are relative to the scratch folder, the
/// child's working folder).
const AES: [&str; 5] = [
    "-w",
    "provider=raw-aes",
    "namespace=ns",
    "key=k1",
    "key-file=aes.key",
];

/// The unsigned committing suite.
const UNSIGNED: &str = "AES_256_GCM_HKDF_SHA512_COMMIT_KEY";
/// The default suite.
const DEFAULT_SUITE: &str = "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384";

fn rsa_public() -> String {
    format!(
        "public-key={}/../tests/data/rsa-2048-public.pem",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn rsa_private() -> String {
    format!(
        "private-key={}/../tests/data/rsa-2048-private.pem",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `-w` for the raw RSA key pair (both halves).
fn rsa() -> Vec<String> {
    vec![
        "-w".into(),
        "provider=raw-rsa".into(),
        "namespace=ns".into(),
        "key=r1".into(),
        rsa_public(),
        rsa_private(),
    ]
}

/// Deterministic, incompressible-looking bytes.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A folder of its own under the system temp folder, removed on drop, with `aes.key` in it.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "esdk-cli-test-{}-{}-{name}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("aes.key"), KEY).unwrap();
        Self { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// The absolute path as the tool sees it (symbolic links in the temp folder resolved,
    /// since the child's working folder is where they point).
    fn real(&self, rel: &str) -> String {
        fs::canonicalize(&self.dir)
            .unwrap()
            .join(rel)
            .display()
            .to_string()
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, bytes).unwrap();
        path
    }

    fn mkdir(&self, rel: &str) {
        fs::create_dir_all(self.path(rel)).unwrap();
    }

    fn read(&self, rel: &str) -> Vec<u8> {
        fs::read(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    fn text(&self, rel: &str) -> String {
        String::from_utf8(self.read(rel)).unwrap()
    }

    fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    /// The names in a folder, hidden ones included, sorted.
    fn entries(&self, rel: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path(rel))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Every file under a folder, as paths relative to it with `/`, sorted.
    fn files_under(&self, rel: &str) -> Vec<String> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    let rel = path.strip_prefix(root).unwrap();
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.path(rel), &self.path(rel), &mut out);
        out.sort();
        out
    }

    /// `esdk ARGS` run in this folder.
    fn esdk<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::cargo_bin("esdk").unwrap();
        cmd.current_dir(&self.dir)
            .env_remove("ESDK_TEST_KEY")
            .args(args);
        cmd
    }

    /// Encrypts `input` to `output` under the raw AES key, with extra arguments.
    fn encrypt(&self, input: &str, output: &str, extra: &[&str]) {
        self.esdk(["encrypt", "-i", input, "-o", output, "-S"])
            .args(AES)
            .args(extra)
            .assert()
            .success();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn stderr(assert: &Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

fn stdout(assert: &Assert) -> Vec<u8> {
    assert.get_output().stdout.clone()
}

/// Checks a failure: the exit status, then stderr is exactly `esdk: error: ...` with
/// `reason` in it, followed by `esdk: hint: ...` with `hint` in it. Returns stderr.
#[track_caller]
fn failed(assert: Assert, status: i32, reason: &str, hint: &str) -> String {
    let assert = assert.code(status);
    let text = stderr(&assert);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "want an error line and a hint line:\n{text}"
    );
    assert!(
        lines[0].starts_with("esdk: error: ") && lines[0].contains(reason),
        "error line lacks {reason:?}:\n{text}"
    );
    assert!(
        lines[1].starts_with("esdk: hint: ") && lines[1].contains(hint),
        "hint line lacks {hint:?}:\n{text}"
    );
    text
}

/// The lines of a metadata file, parsed; each must end in a newline and be laid out as
/// Python's `json.dumps(sort_keys=True)` writes it.
#[track_caller]
fn metadata_lines(text: &str) -> Vec<Value> {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "unterminated: {text:?}"
    );
    text.lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            assert_eq!(python_layout(&value), line, "not in Python's json layout");
            value
        })
        .collect()
}

/// `value` written with sorted keys, `", "` and `": "` separators and ASCII-only strings.
fn python_layout(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}: {}",
                        python_layout(&Value::String(k.clone())),
                        python_layout(&map[k])
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(python_layout).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::String(s) => {
            let mut out = String::from('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    c if (' '..='~').contains(&c) => out.push(c),
                    c => {
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{u:04x}"));
                        }
                    }
                }
            }
            out.push('"');
            out
        }
        other => other.to_string(),
    }
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn unb64(value: &Value) -> Vec<u8> {
    B64.decode(value.as_str().expect("a base64 string"))
        .unwrap()
}

/// Whether `needle` occurs in `haystack`.
fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `esdk inspect FILE --json`, parsed.
fn inspect_json(s: &Scratch, file: &str) -> Value {
    let assert = s.esdk(["inspect", file, "--json"]).assert().success();
    serde_json::from_slice(&stdout(&assert)).unwrap()
}

// ---------------------------------------------------------------------------------------
// Command forms and round trips

#[test]
fn subcommands_round_trip() {
    let s = Scratch::new("subcommands");
    let plain = data(10_000, 1);
    s.write("plain.bin", &plain);
    s.esdk(["encrypt", "-i", "plain.bin", "-o", "plain.ct", "-S"])
        .args(AES)
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let ct = s.read("plain.ct");
    assert_eq!(ct[0], 2, "message format version 2");
    assert!(
        !contains_bytes(&ct, &plain[..64]),
        "plaintext in the message"
    );
    s.esdk(["decrypt", "-i", "plain.ct", "-o", "back.bin", "-S"])
        .args(AES)
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert_eq!(s.read("back.bin"), plain);
}

#[test]
fn short_flags_round_trip() {
    let s = Scratch::new("short-flags");
    let plain = data(5_000, 2);
    s.write("plain.bin", &plain);
    s.esdk(["-e", "-i", "plain.bin", "-o", "plain.ct", "-S"])
        .args(AES)
        .assert()
        .success();
    s.esdk(["-d", "-i", "plain.ct", "-o", "back.bin", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.read("back.bin"), plain);
}

#[test]
fn long_flags_round_trip_with_rsa_halves() {
    let s = Scratch::new("long-flags");
    let plain = data(7_000, 3);
    s.write("plain.bin", &plain);
    // Encrypt with the public key only, decrypt with the private key only.
    s.esdk(["--encrypt", "--input", "plain.bin", "--output", "plain.ct"])
        .args(["--suppress-metadata", "--wrapping-keys", "provider=raw-rsa"])
        .args(["namespace=ns", "key=r1", &rsa_public()])
        .assert()
        .success();
    s.esdk(["--decrypt", "--input", "plain.ct", "--output", "back.bin"])
        .args(["--suppress-metadata", "--wrapping-keys", "provider=raw-rsa"])
        .args(["namespace=ns", "key=r1", &rsa_private()])
        .assert()
        .success();
    assert_eq!(s.read("back.bin"), plain);
}

#[test]
fn empty_input_round_trips() {
    let s = Scratch::new("empty");
    s.write("empty.txt", b"");
    s.encrypt("empty.txt", "empty.ct", &[]);
    assert!(!s.read("empty.ct").is_empty());
    s.esdk(["-d", "-i", "empty.ct", "-o", "back.txt", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.read("back.txt"), b"");
}

#[test]
fn encrypt_and_decrypt_together_is_a_usage_error() {
    let s = Scratch::new("e-and-d");
    s.write("plain.txt", b"x");
    s.esdk(["-e", "-d", "-i", "plain.txt", "-o", "out", "-S"])
        .args(AES)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
    assert!(!s.exists("out"));
}

#[test]
fn decrypt_unsigned_alone_decrypts_an_unsigned_message() {
    let s = Scratch::new("decrypt-unsigned");
    let plain = data(3_000, 4);
    s.write("plain.bin", &plain);
    s.encrypt("plain.bin", "plain.ct", &["--algorithm", UNSIGNED]);
    assert_eq!(inspect_json(&s, "plain.ct")["signed"], false);
    s.mkdir("out");
    s.esdk(["--decrypt-unsigned", "-i", "plain.ct", "-o", "out"])
        .args(["--metadata-output", "meta.jsonl"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.entries("out"), ["plain.ct.decrypted"]);
    assert_eq!(s.read("out/plain.ct.decrypted"), plain);
    let lines = metadata_lines(&s.text("meta.jsonl"));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["mode"], "decrypt-unsigned");
    assert_eq!(lines[0]["header"]["algorithm"], UNSIGNED);
    assert!(lines[0].get("header_auth").is_some());
}

#[test]
fn decrypt_unsigned_refuses_a_signed_message() {
    let s = Scratch::new("decrypt-unsigned-signed");
    s.write("plain.bin", &data(3_000, 5));
    s.encrypt("plain.bin", "plain.ct", &[]);
    s.mkdir("out");
    let assert = s
        .esdk([
            "--decrypt-unsigned",
            "-i",
            "plain.ct",
            "-o",
            "out/back.bin",
            "-S",
        ])
        .args(AES)
        .assert();
    failed(
        assert,
        1,
        "is signed, but only unsigned suites are allowed",
        "drop --decrypt-unsigned",
    );
    assert!(s.entries("out").is_empty(), "{:?}", s.entries("out"));
}

// ---------------------------------------------------------------------------------------
// Output naming, folders, stdin/stdout, base64, argument files

#[test]
fn output_folder_names_outputs_after_inputs() {
    let s = Scratch::new("naming");
    let plain = data(2_000, 6);
    s.write("plain.txt", &plain);
    s.mkdir("enc");
    s.mkdir("dec");
    s.esdk(["-e", "-i", "plain.txt", "-o", "enc", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.entries("enc"), ["plain.txt.encrypted"]);
    s.esdk(["-d", "-i", "enc/plain.txt.encrypted", "-o", "dec", "-S"])
        .args(AES)
        .assert()
        .success();
    // Nothing is stripped: NAME.encrypted becomes NAME.encrypted.decrypted.
    assert_eq!(s.entries("dec"), ["plain.txt.encrypted.decrypted"]);
    assert_eq!(s.read("dec/plain.txt.encrypted.decrypted"), plain);
}

#[test]
fn suffix_is_appended_in_an_output_folder_and_ignored_for_an_output_file() {
    let s = Scratch::new("suffix");
    let plain = data(2_000, 7);
    s.write("plain.txt", &plain);
    s.mkdir("enc");
    s.mkdir("dec");
    s.esdk(["-e", "-i", "plain.txt", "-o", "enc", "--suffix", ".x", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.entries("enc"), ["plain.txt.x"]);
    s.esdk([
        "-d",
        "-i",
        "enc/plain.txt.x",
        "-o",
        "dec",
        "--suffix",
        ".y",
        "-S",
    ])
    .args(AES)
    .assert()
    .success();
    assert_eq!(s.entries("dec"), ["plain.txt.x.y"]);
    assert_eq!(s.read("dec/plain.txt.x.y"), plain);
    // With an output file, the file is the output, whatever the suffix.
    s.esdk([
        "-e",
        "-i",
        "plain.txt",
        "-o",
        "named.ct",
        "--suffix",
        ".x",
        "-S",
    ])
    .args(AES)
    .assert()
    .success();
    assert!(s.exists("named.ct"));
    assert!(!s.exists("named.ct.x"));
}

#[test]
fn bare_suffix_keeps_the_input_name() {
    let s = Scratch::new("bare-suffix");
    let plain = data(2_000, 8);
    s.write("plain.txt", &plain);
    s.mkdir("enc");
    s.mkdir("dec");
    s.esdk(["-e", "-i", "plain.txt", "-o", "enc", "-S"])
        .args(AES)
        .arg("--suffix")
        .assert()
        .success();
    assert_eq!(s.entries("enc"), ["plain.txt"]);
    assert_ne!(s.read("enc/plain.txt"), plain);
    s.esdk(["-d", "-i", "enc/plain.txt", "-o", "dec", "--suffix", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.entries("dec"), ["plain.txt"]);
    assert_eq!(s.read("dec/plain.txt"), plain);
    // Into the input's own folder the output is the input itself: refused, even with
    // --overwrite (aws-encryption-cli refuses it too).
    for extra in [None, Some("--overwrite")] {
        let assert = s
            .esdk(["-e", "-i", "plain.txt", "-o", ".", "--suffix", "-S"])
            .args(AES)
            .args(extra)
            .assert();
        failed(assert, 2, "is the input itself", "esdk --help");
        assert_eq!(s.read("plain.txt"), plain);
    }
}

#[test]
fn recursive_keeps_the_folder_layout() {
    let s = Scratch::new("recursive");
    let files = [
        ("src/a.txt", data(1_000, 9)),
        ("src/sub/b.txt", data(5_000, 10)),
        ("src/sub/deeper/c.bin", Vec::new()),
    ];
    for (name, bytes) in &files {
        s.write(name, bytes);
    }
    s.esdk(["-e", "-r", "-i", "src", "-o", "enc", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(
        s.files_under("enc"),
        [
            "a.txt.encrypted",
            "sub/b.txt.encrypted",
            "sub/deeper/c.bin.encrypted"
        ]
    );
    s.mkdir("dec");
    s.esdk(["-d", "-R", "-i", "enc", "-o", "dec", "-S"])
        .args(AES)
        .assert()
        .success();
    s.mkdir("dec2");
    s.esdk([
        "-d",
        "--recursive",
        "-i",
        "enc",
        "-o",
        "dec2",
        "--suffix",
        "-S",
    ])
    .args(AES)
    .assert()
    .success();
    assert_eq!(
        s.files_under("dec"),
        [
            "a.txt.encrypted.decrypted",
            "sub/b.txt.encrypted.decrypted",
            "sub/deeper/c.bin.encrypted.decrypted"
        ]
    );
    for (name, bytes) in &files {
        let rel = name.strip_prefix("src/").unwrap();
        assert_eq!(&s.read(&format!("dec/{rel}.encrypted.decrypted")), bytes);
        assert_eq!(&s.read(&format!("dec2/{rel}.encrypted")), bytes);
    }
}

#[test]
fn folder_without_recursive_is_an_error() {
    let s = Scratch::new("folder-no-r");
    s.write("src/a.txt", b"a");
    s.mkdir("enc");
    let assert = s
        .esdk(["-e", "-i", "src", "-o", "enc", "-S"])
        .args(AES)
        .assert();
    failed(assert, 2, "src is a folder: add --recursive", "esdk --help");
    assert!(s.entries("enc").is_empty());
}

#[test]
fn stdin_to_stdout_both_ways() {
    let s = Scratch::new("stdio");
    let plain = data(20_000, 11);
    let assert = s
        .esdk(["encrypt", "-i", "-", "-o", "-", "-S"])
        .args(AES)
        .write_stdin(plain.clone())
        .assert()
        .success()
        .stderr("");
    let ct = stdout(&assert);
    assert_eq!(ct[0], 2);
    // Signed message to stdout: plaintext leaves before the signature is checked, with a
    // warning; --buffer holds it back and needs no warning.
    let assert = s
        .esdk(["decrypt", "-i", "-", "-o", "-", "-S"])
        .args(AES)
        .write_stdin(ct.clone())
        .assert()
        .success()
        .stderr(predicate::str::contains("use --buffer"));
    assert_eq!(stdout(&assert), plain);
    let assert = s
        .esdk(["decrypt", "-i", "-", "-o", "-", "-S", "--buffer"])
        .args(AES)
        .write_stdin(ct)
        .assert()
        .success()
        .stderr("");
    assert_eq!(stdout(&assert), plain);
    // The scratch folder holds nothing new.
    assert_eq!(s.entries(""), ["aes.key"]);
}

#[test]
fn encode_and_decode_both_ways() {
    let s = Scratch::new("base64");
    let plain = data(5_000, 12);
    s.write("plain.bin", &plain);
    s.encrypt("plain.bin", "plain.b64", &["--encode"]);
    let text = s.text("plain.b64");
    assert!(!text.contains('\n'), "one line, no final newline");
    let ct = B64.decode(&text).unwrap();
    assert_eq!(ct[0], 2);
    // --decode reads it back.
    s.esdk(["-d", "-i", "plain.b64", "-o", "back.bin", "--decode", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.read("back.bin"), plain);
    // --decode --encode: base64 in, base64 plaintext out.
    let assert = s
        .esdk([
            "-d",
            "-i",
            "plain.b64",
            "-o",
            "-",
            "--decode",
            "--encode",
            "-S",
        ])
        .args(AES)
        .args(["--algorithm", UNSIGNED]) // ignored on decrypt
        .assert()
        .success();
    assert_eq!(String::from_utf8(stdout(&assert)).unwrap(), b64(&plain));
    // Encrypting base64 plaintext with --decode encrypts the decoded bytes.
    s.write("plain.txt.b64", b64(&plain).as_bytes());
    s.encrypt("plain.txt.b64", "from-b64.ct", &["--decode"]);
    s.esdk(["-d", "-i", "from-b64.ct", "-o", "from-b64.bin", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.read("from-b64.bin"), plain);
}

#[test]
fn decode_accepts_wrapped_base64_and_a_final_newline() {
    let s = Scratch::new("base64-wrapped");
    let plain = data(3_000, 13);
    s.write("plain.bin", &plain);
    s.encrypt("plain.bin", "plain.ct", &[]);
    let encoded = b64(&s.read("plain.ct"));
    // As coreutils `base64` writes it: 76-column lines, each ended by a newline.
    let wrapped: String = encoded
        .as_bytes()
        .chunks(76)
        .map(|line| format!("{}\n", std::str::from_utf8(line).unwrap()))
        .collect();
    s.write("wrapped.b64", wrapped.as_bytes());
    s.write("newline.b64", format!("{encoded}\n").as_bytes());
    for name in ["wrapped.b64", "newline.b64"] {
        let out = format!("{name}.bin");
        s.esdk(["-d", "-i", name, "-o", &out, "--decode", "-S"])
            .args(AES)
            .assert()
            .success();
        assert_eq!(s.read(&out), plain, "{name}");
    }
}

#[test]
fn base64_input_without_decode_is_named() {
    let s = Scratch::new("base64-no-decode");
    s.write("plain.bin", &data(1_000, 14));
    s.encrypt("plain.bin", "plain.b64", &["--encode"]);
    s.mkdir("out");
    let assert = s
        .esdk(["-d", "-i", "plain.b64", "-o", "out/back.bin", "-S"])
        .args(AES)
        .assert();
    failed(assert, 1, "looks base64-encoded", "--decode");
    assert!(s.entries("out").is_empty());
}

#[test]
fn argument_files_with_quotes_and_comments() {
    let s = Scratch::new("argfile");
    let plain = data(1_500, 15);
    s.write("plain.txt", &plain);
    s.write(
        "encrypt.args",
        br#"# a whole-line comment
   # an indented one
-w provider=raw-aes namespace="ns" 'key=k1' key-file=aes.key   # a trailing comment
-c "purpose=a b" 'q=it''s' "quote=p'q" label=x

-S
"#,
    );
    s.esdk([
        "encrypt",
        "-i",
        "plain.txt",
        "-o",
        "plain.ct",
        "@encrypt.args",
    ])
    .assert()
    .success();
    let context = &inspect_json(&s, "plain.ct")["encryption_context"];
    assert_eq!(context["purpose"], "a b");
    assert_eq!(context["q"], "its");
    assert_eq!(context["quote"], "p'q");
    assert_eq!(context["label"], "x");
    assert_eq!(context.as_object().unwrap().len(), 5, "{context}"); // + the public key
                                                                    // One argument per line, mixed with arguments on the command line.
    s.write(
        "decrypt.args",
        b"-i\nplain.ct\n-o\nback.txt\n-w\nprovider=raw-aes\nnamespace=ns\nkey=k1\nkey-file=aes.key\n",
    );
    s.esdk(["-d", "@decrypt.args", "-S", "-c", "purpose=a b"])
        .assert()
        .success();
    assert_eq!(s.read("back.txt"), plain);
}

#[test]
fn missing_argument_file_is_a_usage_error() {
    let s = Scratch::new("argfile-missing");
    let assert = s.esdk(["-e", "@nonexistent.args"]).assert();
    failed(
        assert,
        2,
        "cannot read argument file nonexistent.args",
        "esdk --help",
    );
}

// ---------------------------------------------------------------------------------------
// Metadata

#[test]
fn metadata_encrypt_line() {
    let s = Scratch::new("meta-encrypt");
    s.write("plain.txt", &data(9_000, 16));
    s.esdk(["-e", "-i", "plain.txt", "-o", "plain.ct"])
        .args([
            "--metadata-output",
            "meta.jsonl",
            "-c",
            "purpose=test",
            "name=café",
        ])
        .args(AES)
        .assert()
        .success()
        .stdout("");
    let text = s.text("meta.jsonl");
    let lines = metadata_lines(&text);
    assert_eq!(lines.len(), 1);
    assert!(
        text.contains(r#""name": "caf\u00e9""#),
        "ASCII only: {text}"
    );
    let line = &lines[0];
    let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "header, input, mode, output only: {text}");
    assert_eq!(line["mode"], "encrypt");
    assert_eq!(line["input"], s.real("plain.txt"));
    assert_eq!(line["output"], s.real("plain.ct"));
    assert!(line.get("header_auth").is_none(), "encrypt lines have none");

    let header = &line["header"];
    let ct = s.read("plain.ct");
    assert_eq!(header["algorithm"], DEFAULT_SUITE);
    assert_eq!(header["version"], "2.0");
    assert_eq!(header["type"], Value::Null);
    assert_eq!(header["header_iv_length"], Value::Null);
    assert_eq!(header["content_type"], 2);
    assert_eq!(header["frame_length"], 4096);
    // v2 header: version (1 byte), suite id (2), message id (32).
    let message_id = unb64(&header["message_id"]);
    assert_eq!(message_id.len(), 32);
    assert_eq!(&ct[3..35], message_id.as_slice());
    let commitment = unb64(&header["commitment_key"]);
    assert_eq!(commitment.len(), 32);
    assert!(contains_bytes(&ct[..400], &commitment));
    let context = header["encryption_context"].as_object().unwrap();
    assert_eq!(context["name"], "café");
    assert_eq!(context["purpose"], "test");
    assert!(context.contains_key("aws-crypto-public-key"));
    let edks = header["encrypted_data_keys"].as_array().unwrap();
    assert_eq!(edks.len(), 1);
    assert_eq!(edks[0]["key_provider"]["provider_id"], b64(b"ns"));
    assert!(unb64(&edks[0]["key_provider"]["key_info"]).starts_with(b"k1"));
    assert!(contains_bytes(&ct, &unb64(&edks[0]["encrypted_data_key"])));
}

#[test]
fn metadata_decrypt_line_adds_header_auth() {
    let s = Scratch::new("meta-decrypt");
    s.write("plain.txt", &data(2_000, 17));
    s.esdk(["-e", "-i", "plain.txt", "-o", "plain.ct"])
        .args(["--metadata-output", "meta.jsonl"])
        .args(AES)
        .assert()
        .success();
    s.esdk(["-d", "-i", "plain.ct", "-o", "back.txt"])
        .args(["--metadata-output", "meta.jsonl"])
        .args(AES)
        .assert()
        .success();
    let lines = metadata_lines(&s.text("meta.jsonl"));
    assert_eq!(lines.len(), 2);
    let (enc, dec) = (&lines[0], &lines[1]);
    assert_eq!(dec["mode"], "decrypt");
    assert_eq!(dec["input"], s.real("plain.ct"));
    assert_eq!(dec["output"], s.real("back.txt"));
    assert_eq!(dec["header"], enc["header"], "the same header both ways");
    assert_eq!(dec.as_object().unwrap().len(), 5);
    let auth = &dec["header_auth"];
    assert_eq!(auth["iv"], "AAAAAAAAAAAAAAAA");
    let tag = unb64(&auth["tag"]);
    assert_eq!(tag.len(), 16);
    assert!(contains_bytes(&s.read("plain.ct")[..400], &tag));
}

#[test]
fn metadata_appends_and_overwrite_metadata_truncates() {
    let s = Scratch::new("meta-append");
    s.write("plain.txt", b"some text");
    for out in ["one.ct", "two.ct"] {
        s.esdk(["-e", "-i", "plain.txt", "-o", out])
            .args(["--metadata-output", "meta.jsonl"])
            .args(AES)
            .assert()
            .success();
    }
    let lines = metadata_lines(&s.text("meta.jsonl"));
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["output"], s.real("one.ct"));
    assert_eq!(lines[1]["output"], s.real("two.ct"));
    s.esdk(["-e", "-i", "plain.txt", "-o", "three.ct"])
        .args(["--metadata-output", "meta.jsonl", "--overwrite-metadata"])
        .args(AES)
        .assert()
        .success();
    let lines = metadata_lines(&s.text("meta.jsonl"));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["output"], s.real("three.ct"));
}

#[test]
fn metadata_one_line_per_file() {
    let s = Scratch::new("meta-per-file");
    for name in ["src/a.txt", "src/b.txt", "src/sub/c.txt"] {
        s.write(name, name.as_bytes());
    }
    s.esdk(["-e", "-r", "-i", "src", "-o", "enc"])
        .args(["--metadata-output", "meta.jsonl"])
        .args(AES)
        .assert()
        .success();
    let lines = metadata_lines(&s.text("meta.jsonl"));
    let mut pairs: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["input"].as_str().unwrap().to_owned(),
                l["output"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    let want: Vec<(String, String)> = ["a.txt", "b.txt", "sub/c.txt"]
        .iter()
        .map(|n| {
            (
                s.real(&format!("src/{n}")),
                s.real(&format!("enc/{n}.encrypted")),
            )
        })
        .collect();
    assert_eq!(pairs, want);
    let ids: std::collections::HashSet<&str> = lines
        .iter()
        .map(|l| l["header"]["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "one message per file");
}

#[test]
fn metadata_names_stdin_and_stdout() {
    let s = Scratch::new("meta-stdio");
    let plain = data(1_000, 18);
    let assert = s
        .esdk([
            "-e",
            "-i",
            "-",
            "-o",
            "-",
            "--metadata-output",
            "meta.jsonl",
        ])
        .args(AES)
        .write_stdin(plain.clone())
        .assert()
        .success();
    let ct = stdout(&assert);
    s.esdk([
        "-d",
        "-i",
        "-",
        "-o",
        "back.bin",
        "--metadata-output",
        "meta.jsonl",
    ])
    .args(AES)
    .write_stdin(ct)
    .assert()
    .success();
    assert_eq!(s.read("back.bin"), plain);
    let lines = metadata_lines(&s.text("meta.jsonl"));
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["input"], "<stdin>");
    assert_eq!(lines[0]["output"], "<stdout>");
    assert_eq!(lines[1]["input"], "<stdin>");
    assert_eq!(lines[1]["output"], s.real("back.bin"));
}

#[test]
fn metadata_paths_are_absolute_and_normalised() {
    let s = Scratch::new("meta-paths");
    s.write("src/plain.txt", b"text");
    s.mkdir("work");
    s.mkdir("out");
    let mut cmd = s.esdk(["-e", "-i", "../src/./plain.txt", "-o", "../out/../plain.ct"]);
    cmd.current_dir(s.path("work"))
        .args(["--metadata-output", "../meta.jsonl"])
        .args(["-w", "provider=raw-aes", "namespace=ns", "key=k1"])
        .arg("key-file=../aes.key")
        .assert()
        .success();
    let lines = metadata_lines(&s.text("meta.jsonl"));
    assert_eq!(lines[0]["input"], s.real("src/plain.txt"));
    assert_eq!(lines[0]["output"], s.real("plain.ct"));
    assert!(s.exists("plain.ct"));
}

#[test]
fn metadata_to_stdout() {
    let s = Scratch::new("meta-dash");
    s.write("plain.txt", b"text");
    let assert = s
        .esdk([
            "-e",
            "-i",
            "plain.txt",
            "-o",
            "plain.ct",
            "--metadata-output",
            "-",
        ])
        .args(AES)
        .assert()
        .success();
    let lines = metadata_lines(&String::from_utf8(stdout(&assert)).unwrap());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["mode"], "encrypt");
    assert_eq!(lines[0]["output"], s.real("plain.ct"));
}

#[test]
fn metadata_to_stdout_with_output_to_stdout_is_a_usage_error() {
    let s = Scratch::new("meta-dash-dash");
    let assert = s
        .esdk(["-e", "-i", "-", "-o", "-", "--metadata-output", "-"])
        .args(AES)
        .write_stdin("text")
        .assert();
    assert_eq!(stdout(&assert), b"");
    failed(assert, 2, "cannot both use stdout", "esdk --help");
}

#[test]
fn suppress_metadata_writes_none() {
    let s = Scratch::new("meta-suppress");
    s.write("plain.txt", b"text");
    s.esdk(["-e", "-i", "plain.txt", "-o", "plain.ct", "-S"])
        .args(AES)
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert_eq!(s.entries(""), ["aes.key", "plain.ct", "plain.txt"]);
    let assert = s
        .esdk(["-e", "-i", "plain.txt", "-o", "other.ct", "-S"])
        .args(["--metadata-output", "meta.jsonl"])
        .args(AES)
        .assert();
    failed(assert, 2, "do not go together", "esdk --help");
    assert!(!s.exists("other.ct"));
    assert!(!s.exists("meta.jsonl"));
}

// ---------------------------------------------------------------------------------------
// Encryption context

#[test]
fn encryption_context_lands_in_the_header() {
    let s = Scratch::new("context");
    s.write("plain.txt", b"text");
    s.encrypt(
        "plain.txt",
        "plain.ct",
        &["-c", "purpose=test", "owner=a b", "k=v=w"],
    );
    let json = inspect_json(&s, "plain.ct");
    let context = json["encryption_context"].as_object().unwrap();
    assert_eq!(context["purpose"], "test");
    assert_eq!(context["owner"], "a b");
    assert_eq!(context["k"], "v=w");
    assert!(context.contains_key("aws-crypto-public-key"));
    assert_eq!(context.len(), 4);
    let text = s.esdk(["inspect", "plain.ct"]).assert().success();
    let text = String::from_utf8(stdout(&text)).unwrap();
    assert!(text.contains("  purpose = test\n"), "{text}");
    assert!(text.contains("  owner = a b\n"), "{text}");
}

#[test]
fn decrypt_with_required_context_present() {
    let s = Scratch::new("context-present");
    let plain = data(1_000, 19);
    s.write("plain.txt", &plain);
    s.encrypt("plain.txt", "plain.ct", &["-c", "purpose=test", "owner=me"]);
    // Pairs, a bare key, and the public key the suite adds.
    s.esdk(["-d", "-i", "plain.ct", "-o", "back.txt", "-S"])
        .args(["-c", "purpose=test", "owner", "aws-crypto-public-key"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.read("back.txt"), plain);
}

#[test]
fn decrypt_with_a_missing_context_pair_fails_and_writes_nothing() {
    let s = Scratch::new("context-missing-pair");
    s.write("plain.txt", b"text");
    s.encrypt("plain.txt", "plain.ct", &["-c", "purpose=test"]);
    s.mkdir("out");
    let assert = s
        .esdk(["-d", "-i", "plain.ct", "-o", "out/back.txt"])
        .args(["--metadata-output", "meta.jsonl", "-c", "purpose=wrong"])
        .args(AES)
        .assert();
    failed(
        assert,
        1,
        "encryption context lacks purpose=wrong",
        "nothing was written",
    );
    assert!(s.entries("out").is_empty(), "{:?}", s.entries("out"));
    let lines = metadata_lines(&s.text("meta.jsonl"));
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(line["skipped"], true);
    assert_eq!(line["reason"], "Missing encryption context key or value");
    assert_eq!(
        line["missing_encryption_context_pairs"],
        serde_json::json!([["purpose", "wrong"]])
    );
    assert_eq!(
        line["missing_encryption_context_keys"],
        serde_json::json!([])
    );
    assert_eq!(line["mode"], "decrypt");
    assert_eq!(line["output"], s.real("out/back.txt"));
    assert_eq!(line["header"]["encryption_context"]["purpose"], "test");
}

#[test]
fn decrypt_with_a_missing_context_key_fails_and_writes_nothing() {
    let s = Scratch::new("context-missing-key");
    s.write("plain.txt", b"text");
    s.encrypt("plain.txt", "plain.ct", &["-c", "purpose=test"]);
    s.mkdir("out");
    let assert = s
        .esdk([
            "-d",
            "-i",
            "plain.ct",
            "-o",
            "out",
            "--metadata-output",
            "meta.jsonl",
        ])
        .args(["-c", "purpose=test", "absent"])
        .args(AES)
        .assert();
    failed(
        assert,
        1,
        "encryption context lacks absent",
        "nothing was written",
    );
    assert!(s.entries("out").is_empty());
    let lines = metadata_lines(&s.text("meta.jsonl"));
    assert_eq!(lines[0]["skipped"], true);
    assert_eq!(
        lines[0]["missing_encryption_context_keys"],
        serde_json::json!(["absent"])
    );
    assert_eq!(
        lines[0]["missing_encryption_context_pairs"],
        serde_json::json!([])
    );
}

#[test]
fn decrypt_with_a_missing_context_pair_keeps_an_existing_output_and_stdout_empty() {
    let s = Scratch::new("context-missing-existing");
    s.write("plain.txt", b"text");
    s.encrypt("plain.txt", "plain.ct", &["-c", "purpose=test"]);
    s.write("back.txt", b"keep me");
    let assert = s
        .esdk([
            "-d",
            "-i",
            "plain.ct",
            "-o",
            "back.txt",
            "-S",
            "--overwrite",
        ])
        .args(["-c", "purpose=other"])
        .args(AES)
        .assert();
    failed(assert, 1, "lacks purpose=other", "nothing was written");
    assert_eq!(s.read("back.txt"), b"keep me");
    let assert = s
        .esdk([
            "-d",
            "-i",
            "plain.ct",
            "-o",
            "-",
            "-S",
            "-c",
            "purpose=other",
        ])
        .args(AES)
        .assert();
    assert_eq!(stdout(&assert), b"");
    failed(assert, 1, "lacks purpose=other", "nothing was written");
    assert_eq!(
        s.entries(""),
        ["aes.key", "back.txt", "plain.ct", "plain.txt"]
    );
}

// ---------------------------------------------------------------------------------------
// Algorithm, framing, limits, caching

#[test]
fn legacy_algorithm_with_forbid_encrypt_policy() {
    let s = Scratch::new("legacy");
    let plain = data(6_000, 20);
    s.write("plain.bin", &plain);
    let legacy = "AES_256_GCM_IV12_TAG16_HKDF_SHA256";
    s.esdk(["-e", "-i", "plain.bin", "-o", "plain.ct"])
        .args(["--commitment-policy", "forbid-encrypt-allow-decrypt"])
        .args(["--algorithm", legacy, "--metadata-output", "meta.jsonl"])
        .args(rsa())
        .assert()
        .success();
    let json = inspect_json(&s, "plain.ct");
    assert_eq!(json["algorithm_id"], "0x0178");
    assert_eq!(json["signed"], false);
    assert_eq!(json["committing"], false);
    let ct = s.read("plain.ct");
    assert_eq!(ct[0], 1, "message format version 1");
    // The default policy refuses to decrypt a non-committing message.
    s.mkdir("out");
    let assert = s
        .esdk(["-d", "-i", "plain.ct", "-o", "out/back.bin", "-S"])
        .args(rsa())
        .assert();
    failed(
        assert,
        1,
        "does not allow algorithm suite 0x0178 on decrypt",
        "--commitment-policy",
    );
    assert!(s.entries("out").is_empty());
    s.esdk(["-d", "-i", "plain.ct", "-o", "out/back.bin"])
        .args(["--commitment-policy", "require-encrypt-allow-decrypt"])
        .args(["--metadata-output", "meta.jsonl"])
        .args(rsa())
        .assert()
        .success();
    assert_eq!(s.read("out/back.bin"), plain);

    let lines = metadata_lines(&s.text("meta.jsonl"));
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let header = &line["header"];
        assert_eq!(header["algorithm"], legacy);
        assert_eq!(header["version"], "1.0");
        assert_eq!(header["type"], 128);
        assert_eq!(header["header_iv_length"], 12);
        assert_eq!(header["commitment_key"], Value::Null);
        let message_id = unb64(&header["message_id"]);
        assert_eq!(message_id.len(), 16);
        // v1 header: version, type, suite id (2), message id (16).
        assert_eq!(&ct[4..20], message_id.as_slice());
        let edks = header["encrypted_data_keys"].as_array().unwrap();
        assert_eq!(edks[0]["key_provider"]["key_info"], b64(b"r1"));
    }
    assert_eq!(lines[1]["header_auth"]["iv"], "AAAAAAAAAAAAAAAA");
}

#[test]
fn legacy_algorithm_names_without_kdf_and_the_default_policy() {
    let s = Scratch::new("legacy-names");
    s.write("plain.bin", &data(100, 21));
    s.encrypt(
        "plain.bin",
        "plain.ct",
        &[
            "--commitment-policy",
            "forbid-encrypt-allow-decrypt",
            "--algorithm",
            "AES_128_GCM_IV12_TAG16",
        ],
    );
    assert_eq!(
        inspect_json(&s, "plain.ct")["algorithm"],
        "AES_128_GCM_IV12_TAG16"
    );
    assert_eq!(inspect_json(&s, "plain.ct")["algorithm_id"], "0x0014");
    // Without the policy, a non-committing suite cannot encrypt.
    let assert = s
        .esdk(["-e", "-i", "plain.bin", "-o", "refused.ct", "-S"])
        .args(["--algorithm", "AES_256_GCM_IV12_TAG16_HKDF_SHA256"])
        .args(AES)
        .assert();
    failed(
        assert,
        2,
        "does not allow algorithm suite 0x0178 on encrypt",
        "esdk --help",
    );
    assert!(!s.exists("refused.ct"));
    // An unknown name is a usage error.
    let assert = s
        .esdk(["-e", "-i", "plain.bin", "-o", "refused.ct", "-S"])
        .args(["--algorithm", "aes_256_gcm_hkdf_sha512_commit_key"])
        .args(AES)
        .assert();
    failed(
        assert,
        2,
        "--algorithm aes_256_gcm_hkdf_sha512_commit_key: use one of",
        "esdk --help",
    );
    assert!(!s.exists("refused.ct"));
}

#[test]
fn frame_length_is_used() {
    let s = Scratch::new("frame-length");
    let plain = data(5_000, 22);
    s.write("plain.bin", &plain);
    s.esdk([
        "-e",
        "-i",
        "plain.bin",
        "-o",
        "small.ct",
        "--frame-length",
        "1024",
    ])
    .args(["--metadata-output", "meta.jsonl", "--algorithm", UNSIGNED])
    .args(AES)
    .assert()
    .success();
    s.encrypt("plain.bin", "default.ct", &["--algorithm", UNSIGNED]);
    assert_eq!(inspect_json(&s, "small.ct")["frame_length"], 1024);
    assert_eq!(inspect_json(&s, "default.ct")["frame_length"], 4096);
    let text = s.esdk(["inspect", "small.ct"]).assert().success();
    assert!(String::from_utf8(stdout(&text))
        .unwrap()
        .contains("content: framed, frame length 1024"));
    assert_eq!(
        metadata_lines(&s.text("meta.jsonl"))[0]["header"]["frame_length"],
        1024
    );
    // Five frames cost more than two: 12-byte IV, 16-byte tag and 4-byte number each.
    let (small, default) = (s.read("small.ct").len(), s.read("default.ct").len());
    assert_eq!(small - default, 3 * (4 + 12 + 16));
    s.esdk(["-d", "-i", "small.ct", "-o", "back.bin", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.read("back.bin"), plain);
}

#[test]
fn max_encrypted_data_keys() {
    let s = Scratch::new("max-edks");
    let plain = data(1_000, 23);
    s.write("plain.bin", &plain);
    s.mkdir("out");
    let assert = s
        .esdk(["-e", "-i", "plain.bin", "-o", "out/two.ct", "-S"])
        .args(["--max-encrypted-data-keys", "1"])
        .args(AES)
        .args(rsa())
        .assert();
    failed(
        assert,
        1,
        "more than 1 encrypted data keys",
        "--max-encrypted-data-keys",
    );
    assert!(s.entries("out").is_empty());
    s.esdk(["-e", "-i", "plain.bin", "-o", "out/two.ct", "-S"])
        .args(["--max-encrypted-data-keys", "2"])
        .args(AES)
        .args(rsa())
        .assert()
        .success();
    let keys = inspect_json(&s, "out/two.ct")["keys"].clone();
    assert_eq!(keys.as_array().unwrap().len(), 2);
    // Decrypting it with a limit of one is refused too; without, either key decrypts.
    let assert = s
        .esdk(["-d", "-i", "out/two.ct", "-o", "out/back.bin", "-S"])
        .args(["--max-encrypted-data-keys", "1"])
        .args(AES)
        .assert();
    failed(
        assert,
        1,
        "more than 1 encrypted data keys",
        "--max-encrypted-data-keys",
    );
    assert!(!s.exists("out/back.bin"));
    s.esdk(["-d", "-i", "out/two.ct", "-o", "out/back.bin", "-S"])
        .args(rsa())
        .assert()
        .success();
    assert_eq!(s.read("out/back.bin"), plain);
}

#[test]
fn caching_over_several_files() {
    let s = Scratch::new("caching");
    let names = ["a.bin", "b.bin", "c.bin", "d.bin"];
    for (i, name) in names.iter().enumerate() {
        s.write(&format!("src/{name}"), &data(2_000 + i, 30 + i as u64));
    }
    let edks = |meta: &str| -> Vec<Value> {
        metadata_lines(&s.text(meta))
            .iter()
            .map(|l| l["header"]["encrypted_data_keys"].clone())
            .collect()
    };
    s.esdk(["-e", "-r", "-i", "src", "-o", "cached"])
        .args(["--caching", "capacity=10", "max_age=60"])
        .args(["--metadata-output", "cached.jsonl"])
        .args(AES)
        .assert()
        .success();
    let cached = edks("cached.jsonl");
    assert_eq!(cached.len(), 4);
    assert!(
        cached.iter().all(|e| *e == cached[0]),
        "one cached data key"
    );
    s.esdk(["-e", "-r", "-i", "src", "-o", "uncached"])
        .args(["--metadata-output", "uncached.jsonl"])
        .args(AES)
        .assert()
        .success();
    let uncached = edks("uncached.jsonl");
    assert_ne!(uncached[0], uncached[1], "a data key per message");
    s.esdk(["-d", "-r", "-i", "cached", "-o", "back", "-S", "--suffix"])
        .args(["--caching", "capacity=10", "max_age=60"])
        .args(AES)
        .assert()
        .success();
    for name in names {
        assert_eq!(
            s.read(&format!("back/{name}.encrypted")),
            s.read(&format!("src/{name}"))
        );
    }
}

// ---------------------------------------------------------------------------------------
// Failure paths

#[test]
fn wrong_key_fails_and_writes_nothing() {
    let s = Scratch::new("wrong-key");
    s.write("plain.bin", &data(1_000, 40));
    s.write("other.key", &OTHER_KEY);
    s.encrypt("plain.bin", "plain.ct", &[]);
    s.mkdir("out");
    // The same name, other key bytes.
    let assert = s
        .esdk(["-d", "-i", "plain.ct", "-o", "out/back.bin", "-S"])
        .args(["-w", "provider=raw-aes", "namespace=ns", "key=k1"])
        .arg("key-file=other.key")
        .assert();
    failed(
        assert,
        1,
        "no keyring could decrypt a data key",
        "not encrypted under any of the -w keys",
    );
    // Another key name; an RSA key.
    let rsa_words = rsa();
    for key in [
        vec![
            "-w",
            "provider=raw-aes",
            "namespace=ns",
            "key=k2",
            "key-file=aes.key",
        ],
        rsa_words.iter().map(String::as_str).collect(),
    ] {
        let assert = s
            .esdk(["-d", "-i", "plain.ct", "-o", "out/back.bin", "-S"])
            .args(&key)
            .assert();
        failed(
            assert,
            1,
            "no keyring could decrypt a data key",
            "not encrypted under any of the -w keys",
        );
    }
    assert!(s.entries("out").is_empty(), "{:?}", s.entries("out"));
}

#[test]
fn tampered_body_fails_and_leaves_no_file() {
    let s = Scratch::new("tampered");
    let plain = data(200_000, 41);
    s.write("plain.bin", &plain);
    s.encrypt("plain.bin", "plain.ct", &[]);
    let mut ct = s.read("plain.ct");
    let middle = ct.len() / 2;
    ct[middle] ^= 0x01;
    s.write("tampered.ct", &ct);
    s.mkdir("out");
    let assert = s
        .esdk(["-d", "-i", "tampered.ct", "-o", "out/back.bin", "-S"])
        .args(AES)
        .assert();
    failed(
        assert,
        1,
        "authentication tag mismatch",
        "the message was altered",
    );
    assert!(s.entries("out").is_empty(), "{:?}", s.entries("out"));
    // An existing output survives a failed --overwrite.
    s.write("out/back.bin", b"previous");
    let assert = s
        .esdk([
            "-d",
            "-i",
            "tampered.ct",
            "-o",
            "out/back.bin",
            "-S",
            "--overwrite",
        ])
        .args(AES)
        .assert();
    failed(assert, 1, "authentication tag mismatch", "altered");
    assert_eq!(s.entries("out"), ["back.bin"]);
    assert_eq!(s.read("out/back.bin"), b"previous");
}

#[test]
fn tampered_signature_fails_and_leaves_no_file() {
    let s = Scratch::new("tampered-signature");
    s.write("plain.bin", &data(50_000, 42));
    s.encrypt("plain.bin", "plain.ct", &[]);
    let mut ct = s.read("plain.ct");
    let last = ct.len() - 1;
    ct[last] ^= 0x01;
    s.write("tampered.ct", &ct);
    s.mkdir("out");
    let assert = s
        .esdk(["-d", "-i", "tampered.ct", "-o", "out", "-S"])
        .args(AES)
        .assert();
    failed(assert, 1, "signature does not verify", "altered");
    // All plaintext was decrypted before the signature failed: none of it remains.
    assert!(s.entries("out").is_empty(), "{:?}", s.entries("out"));
}

#[test]
fn truncated_message_fails_and_leaves_nothing() {
    let s = Scratch::new("truncated");
    s.write("plain.bin", &data(100_000, 43));
    s.encrypt("plain.bin", "plain.ct", &[]);
    let ct = s.read("plain.ct");
    s.write("half.ct", &ct[..ct.len() / 2]);
    s.write("short.ct", &ct[..ct.len() - 1]);
    s.write("header-only.ct", &ct[..100]);
    s.mkdir("out");
    for name in ["half.ct", "short.ct", "header-only.ct"] {
        let assert = s
            .esdk(["-d", "-i", name, "-o", "out", "-S"])
            .args(AES)
            .assert();
        failed(assert, 1, "input ends inside", "truncated");
        assert!(
            s.entries("out").is_empty(),
            "{name}: {:?}",
            s.entries("out")
        );
    }
}

#[test]
fn interrupted_input_through_a_pipe_fails() {
    let s = Scratch::new("interrupted");
    s.write("plain.bin", &data(300_000, 44));
    s.encrypt("plain.bin", "plain.ct", &[]);
    let ct = s.read("plain.ct");
    s.mkdir("out");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("esdk"))
        .current_dir(&s.dir)
        .args(["-d", "-i", "-", "-o", "out/back.bin", "-S"])
        .args(AES)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        // The writer closes early: the child may have stopped reading by then.
        let _ = stdin.write_all(&ct[..ct.len() / 3]);
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("esdk: error: decrypting <stdin>: malformed message: input ends inside"),
        "{err}"
    );
    assert!(err.contains("esdk: hint: "), "{err}");
    assert!(output.stdout.is_empty());
    assert!(s.entries("out").is_empty(), "{:?}", s.entries("out"));
}

#[test]
fn nonexistent_input_fails() {
    let s = Scratch::new("nonexistent");
    s.mkdir("out");
    for mode in ["-e", "-d"] {
        s.esdk([mode, "-i", "missing.bin", "-o", "out/x", "-S"])
            .args(AES)
            .assert()
            .code(1)
            .stderr(predicate::str::starts_with(
                "esdk: error: cannot read input missing.bin: ",
            ));
    }
    assert!(s.entries("out").is_empty());
}

#[test]
fn unreadable_input_fails() {
    let s = Scratch::new("unreadable");
    s.write("plain.txt", b"text");
    s.mkdir("out");
    // A path through a file.
    s.esdk(["-e", "-i", "plain.txt/inner", "-o", "out/x", "-S"])
        .args(AES)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot read input plain.txt/inner",
        ));
    // A file without read permission (not enforced for root).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let locked = s.write("locked.txt", b"secret");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        if fs::read(&locked).is_err() {
            s.esdk(["-e", "-i", "locked.txt", "-o", "out/x", "-S"])
                .args(AES)
                .assert()
                .code(1)
                .stderr(predicate::str::contains("locked.txt"))
                .stderr(predicate::str::contains("ermission denied"));
        }
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o600)).unwrap();
    }
    assert!(s.entries("out").is_empty());
}

#[test]
fn existing_output_is_an_error_without_overwrite() {
    let s = Scratch::new("exists");
    s.write("plain.txt", b"text");
    s.write("plain.ct", b"already here");
    let assert = s
        .esdk(["-e", "-i", "plain.txt", "-o", "plain.ct", "-S"])
        .args(AES)
        .assert();
    failed(assert, 1, "plain.ct exists", "--overwrite");
    assert_eq!(s.read("plain.ct"), b"already here");
    assert_eq!(s.entries(""), ["aes.key", "plain.ct", "plain.txt"]);
}

#[test]
fn overwrite_replaces_an_existing_output() {
    let s = Scratch::new("overwrite");
    let plain = data(1_000, 45);
    s.write("plain.bin", &plain);
    s.write("plain.ct", b"already here");
    s.encrypt("plain.bin", "plain.ct", &["--overwrite"]);
    assert_ne!(s.read("plain.ct"), b"already here");
    s.write("back.bin", b"old plaintext");
    s.esdk([
        "-d",
        "-i",
        "plain.ct",
        "-o",
        "back.bin",
        "-S",
        "--overwrite",
    ])
    .args(AES)
    .assert()
    .success();
    assert_eq!(s.read("back.bin"), plain);
    assert_eq!(
        s.entries(""),
        ["aes.key", "back.bin", "plain.bin", "plain.ct"]
    );
}

#[test]
fn no_overwrite_skips_an_existing_output() {
    let s = Scratch::new("no-overwrite");
    s.write("src/a.txt", b"a");
    s.write("src/b.txt", b"b");
    s.write("enc/a.txt.encrypted", b"already here");
    s.esdk(["-e", "-r", "-i", "src", "-o", "enc", "-S", "--no-overwrite"])
        .args(AES)
        .assert()
        .success()
        .stderr(predicate::str::contains("skipping"))
        .stderr(predicate::str::contains("a.txt.encrypted exists"));
    assert_eq!(s.read("enc/a.txt.encrypted"), b"already here");
    assert_eq!(s.entries("enc"), ["a.txt.encrypted", "b.txt.encrypted"]);
    s.esdk(["-d", "-i", "enc/b.txt.encrypted", "-o", "b.txt", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.read("b.txt"), b"b");
    // --overwrite and --no-overwrite contradict each other.
    s.esdk(["-e", "-i", "src/a.txt", "-o", "b.txt", "-S"])
        .args(["--overwrite", "--no-overwrite"])
        .args(AES)
        .assert()
        .code(2);
    assert_eq!(s.read("b.txt"), b"b");
}

#[test]
fn interactive_asks_before_overwriting() {
    let s = Scratch::new("interactive");
    s.write("plain.txt", b"text");
    for answer in ["n\n", "", "maybe\n"] {
        s.write("plain.ct", b"already here");
        s.esdk([
            "-e",
            "-i",
            "plain.txt",
            "-o",
            "plain.ct",
            "-S",
            "--interactive",
        ])
        .args(AES)
        .write_stdin(answer)
        .assert()
        .success()
        .stderr(predicate::str::contains("overwrite"));
        assert_eq!(s.read("plain.ct"), b"already here", "answer {answer:?}");
    }
    s.esdk([
        "-e",
        "-i",
        "plain.txt",
        "-o",
        "plain.ct",
        "-S",
        "--interactive",
    ])
    .args(AES)
    .write_stdin("y\n")
    .assert()
    .success();
    s.esdk(["-d", "-i", "plain.ct", "-o", "back.txt", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.read("back.txt"), b"text");
    // No prompt when the output does not exist.
    s.esdk([
        "-e",
        "-i",
        "plain.txt",
        "-o",
        "new.ct",
        "-S",
        "--interactive",
    ])
    .args(AES)
    .assert()
    .success()
    .stderr("");
}

#[test]
fn raw_keys_are_never_taken_from_the_command_line() {
    let s = Scratch::new("no-raw-key-arg");
    s.write("plain.txt", b"text");
    let key = b64(&KEY);
    let cases: [(Vec<String>, &str); 4] = [
        (vec![], "needs exactly one of key-file=PATH or key-env=VAR"),
        (
            vec![format!("key-material={key}")],
            "unknown wrapping key argument key-material=",
        ),
        (vec![format!("key={key}")], "key= given more than once"),
        (
            vec!["key-file=aes.key".into(), "key-env=HOME".into()],
            "needs exactly one of key-file=PATH or key-env=VAR",
        ),
    ];
    for (extra, reason) in cases {
        let assert = s
            .esdk(["-e", "-i", "plain.txt", "-o", "plain.ct", "-S"])
            .args(["-w", "provider=raw-aes", "namespace=ns", "key=k1"])
            .args(&extra)
            .assert();
        failed(assert, 2, reason, "esdk --help");
        assert!(!s.exists("plain.ct"));
    }
}

#[test]
fn key_from_an_environment_variable() {
    let s = Scratch::new("key-env");
    let plain = data(1_000, 46);
    s.write("plain.bin", &plain);
    s.esdk(["-e", "-i", "plain.bin", "-o", "plain.ct", "-S"])
        .args(["-w", "provider=raw-aes", "namespace=ns", "key=k1"])
        .arg("key-env=ESDK_TEST_KEY")
        .env("ESDK_TEST_KEY", b64(&KEY))
        .assert()
        .success();
    // The same key from its file decrypts it.
    s.esdk(["-d", "-i", "plain.ct", "-o", "back.bin", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.read("back.bin"), plain);
    // A missing variable, and one that is not base64, are usage errors.
    let assert = s
        .esdk(["-e", "-i", "plain.bin", "-o", "other.ct", "-S"])
        .args(["-w", "provider=raw-aes", "namespace=ns", "key=k1"])
        .arg("key-env=ESDK_TEST_KEY")
        .assert();
    failed(
        assert,
        2,
        "ESDK_TEST_KEY (key-env=) is not set",
        "esdk --help",
    );
    let assert = s
        .esdk(["-e", "-i", "plain.bin", "-o", "other.ct", "-S"])
        .args(["-w", "provider=raw-aes", "namespace=ns", "key=k1"])
        .arg("key-env=ESDK_TEST_KEY")
        .env("ESDK_TEST_KEY", "not base64!")
        .assert();
    failed(assert, 2, "does not hold a base64 key", "esdk --help");
    assert!(!s.exists("other.ct"));
}

#[test]
fn unknown_wrapping_key_names_are_usage_errors() {
    let s = Scratch::new("unknown-w");
    s.write("plain.txt", b"text");
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "provider=raw-aes",
                "namespace=ns",
                "key=k1",
                "key-file=aes.key",
                "bogus=1",
            ],
            "unknown wrapping key argument bogus=",
        ),
        (
            &[
                "provider=raw-rsa",
                "namespace=ns",
                "key=r1",
                "key-file=aes.key",
            ],
            "unknown wrapping key argument key-file=",
        ),
        (&["provider=nope", "key=k1"], "provider=nope"),
        (&["just-a-word"], "is not NAME=VALUE"),
    ];
    for (words, reason) in cases {
        let assert = s
            .esdk(["-e", "-i", "plain.txt", "-o", "plain.ct", "-S", "-w"])
            .args(words)
            .assert();
        failed(assert, 2, reason, "esdk --help");
        assert!(!s.exists("plain.ct"));
    }
}

// ---------------------------------------------------------------------------------------
// inspect, help, version, completions

#[test]
fn inspect_prints_the_header() {
    let s = Scratch::new("inspect-text");
    s.write("plain.txt", b"text");
    s.esdk([
        "-e",
        "-i",
        "plain.txt",
        "-o",
        "plain.ct",
        "-S",
        "-c",
        "purpose=test",
    ])
    .args(rsa())
    .args(AES)
    .assert()
    .success();
    let assert = s
        .esdk(["inspect", "plain.ct"])
        .assert()
        .success()
        .stderr("");
    let text = String::from_utf8(stdout(&assert)).unwrap();
    for want in [
        "message format: V2\n",
        "algorithm suite: 0x0578 AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384\n",
        "signed: yes\n",
        "key commitment: yes\n",
        "content: framed, frame length 4096\n",
        "  purpose = test\n",
        "encrypted data keys: 2\n",
        "  ns: r1\n",
        "unauthenticated",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
    // From stdin too.
    let assert = s
        .esdk(["inspect", "-"])
        .write_stdin(s.read("plain.ct"))
        .assert()
        .success();
    assert_eq!(String::from_utf8(stdout(&assert)).unwrap(), text);
}

#[test]
fn inspect_json_output() {
    let s = Scratch::new("inspect-json");
    s.write("plain.txt", b"text");
    s.encrypt("plain.txt", "signed.ct", &["-c", "purpose=test"]);
    s.esdk(["-e", "-i", "plain.txt", "-o", "unsigned.ct", "-S"])
        .args(["--algorithm", UNSIGNED])
        .args(rsa())
        .assert()
        .success();
    let signed = inspect_json(&s, "signed.ct");
    assert_eq!(signed["algorithm_id"], "0x0578");
    assert_eq!(signed["algorithm"], DEFAULT_SUITE);
    assert_eq!(signed["signed"], true);
    assert_eq!(signed["committing"], true);
    assert_eq!(signed["authenticated"], false);
    assert_eq!(signed["encryption_context"]["purpose"], "test");
    let keys = signed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["provider_id"], "ns");
    let unsigned = inspect_json(&s, "unsigned.ct");
    assert_eq!(unsigned["algorithm_id"], "0x0478");
    assert_eq!(unsigned["signed"], false);
    assert_eq!(
        unsigned["keys"],
        serde_json::json!([{"key_info": "r1", "provider_id": "ns"}])
    );
    assert_eq!(
        unsigned["encrypted_data_keys"][0]["key_provider"]["provider_id"],
        b64(b"ns")
    );
    let header_length = unsigned["header_length"].as_u64().unwrap() as usize;
    assert!(header_length > 0 && header_length < s.read("unsigned.ct").len());
}

#[test]
fn inspect_refuses_a_non_message() {
    let s = Scratch::new("inspect-bad");
    s.write("plain.txt", b"hello, this is not a message");
    let assert = s.esdk(["inspect", "plain.txt"]).assert();
    assert_eq!(stdout(&assert), b"");
    failed(
        assert,
        1,
        "plain.txt: malformed message",
        "not an AWS Encryption SDK message",
    );
    s.esdk(["inspect", "missing.ct", "--json"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("cannot read missing.ct"));
}

#[test]
fn help_has_examples() {
    let s = Scratch::new("help");
    for args in [
        &["--help"][..],
        &["encrypt", "--help"],
        &["decrypt", "--help"],
    ] {
        s.esdk(args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Examples:"))
            .stdout(predicate::str::contains("--wrapping-keys"));
    }
}

#[test]
fn version_is_printed() {
    let s = Scratch::new("version");
    s.esdk(["--version"])
        .assert()
        .success()
        .stdout(format!("esdk {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn completions_for_bash() {
    let s = Scratch::new("completions");
    s.esdk(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_esdk()"))
        .stdout(predicate::str::contains("complete -F _esdk"))
        .stdout(predicate::str::contains("--wrapping-keys"));
}

// ---- fixes from the adversarial review ----

#[cfg(unix)]
#[test]
fn overwrite_keeps_the_replaced_files_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new("perms");
    s.write("plain.txt", b"secret");
    s.esdk(["-e", "-i", "plain.txt", "-o", "plain.ct", "-S"])
        .args(AES)
        .assert()
        .success();
    s.write("back.txt", b"old");
    fs::set_permissions(s.path("back.txt"), fs::Permissions::from_mode(0o600)).unwrap();
    s.esdk([
        "-d",
        "-i",
        "plain.ct",
        "-o",
        "back.txt",
        "-S",
        "--overwrite",
    ])
    .args(AES)
    .assert()
    .success();
    assert_eq!(s.read("back.txt"), b"secret");
    let mode = fs::metadata(s.path("back.txt"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn a_target_that_is_not_a_regular_file_is_refused() {
    let s = Scratch::new("devnull");
    s.write("plain.txt", b"x");
    let assert = s
        .esdk([
            "-e",
            "-i",
            "plain.txt",
            "-o",
            "/dev/null",
            "-S",
            "--overwrite",
        ])
        .args(AES)
        .assert();
    failed(assert, 2, "not a regular file", "-o -");
}

#[test]
fn buffer_holds_an_unsigned_message_too() {
    let s = Scratch::new("buffer-unsigned");
    let plain = data(300_000, 9);
    s.write("plain.bin", &plain);
    s.esdk([
        "-e",
        "-i",
        "plain.bin",
        "-o",
        "plain.ct",
        "-S",
        "--algorithm",
        "AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
    ])
    .args(AES)
    .assert()
    .success();
    let mut message = s.read("plain.ct");
    message.truncate(message.len() - 100);
    s.write("cut.ct", &message);
    let assert = s
        .esdk(["-d", "-i", "cut.ct", "-o", "-", "-S", "--buffer"])
        .args(AES)
        .assert()
        .code(1);
    assert!(
        assert.get_output().stdout.is_empty(),
        "plaintext reached stdout"
    );
}

#[test]
fn encrypting_from_a_pipe_path_works() {
    let s = Scratch::new("pipe-path");
    s.esdk(["-e", "-i", "/dev/stdin", "-o", "piped.ct", "-S"])
        .args(AES)
        .write_stdin(data(10_000, 3))
        .assert()
        .success();
    s.esdk(["-d", "-i", "piped.ct", "-o", "piped.txt", "-S"])
        .args(AES)
        .assert()
        .success();
    assert_eq!(s.read("piped.txt"), data(10_000, 3));
}

#[test]
fn glob_inputs_abbreviations_and_bundled_flags_as_aws_encryption_cli() {
    let s = Scratch::new("argparse-forms");
    s.mkdir("src");
    s.mkdir("out");
    s.write("src/a.txt", b"a");
    s.write("src/b.txt", b"b");
    s.write("src/c.bin", b"c");
    // A pattern, the abbreviated --wrap and --inp (--in is ambiguous, as in argparse), and
    // -Sew bundling.
    s.esdk([
        "-Sew",
        "provider=raw-aes",
        "namespace=ns",
        "key=k1",
        "key-file=aes.key",
        "--inp",
        "src/*.txt",
        "-o",
        "out",
    ])
    .assert()
    .success();
    assert_eq!(s.entries("out"), ["a.txt.encrypted", "b.txt.encrypted"]);
    s.esdk([
        "-d",
        "-S",
        "--wrap",
        "provider=raw-aes",
        "namespace=ns",
        "key=k1",
        "key-file=aes.key",
        "-i",
        "out/a.txt.encrypted",
        "-o",
        "a.back",
    ])
    .assert()
    .success();
    assert_eq!(s.read("a.back"), b"a");
    s.esdk([
        "-d",
        "-S",
        "--wrapping-keys=provider=raw-aes",
        "namespace=ns",
        "key=k1",
        "key-file=aes.key",
        "-i",
        "out/b.txt.encrypted",
        "-o",
        "b.back",
    ])
    .assert()
    .success();
    assert_eq!(s.read("b.back"), b"b");
}

#[test]
fn argument_files_nest_expand_variables_and_cut_comments_anywhere() {
    let s = Scratch::new("argfile-expand");
    s.write("plain.txt", b"hello");
    s.write(
        "keys.args",
        b"-w provider=raw-aes namespace=ns key=k1 key-file=aes.key\n",
    );
    s.write("main.args", b"-e -S -i plain.txt -o plain.ct @keys.args\n-c user=$ESDK_CLI_TEST_USER note=tab#comment\n");
    s.esdk(["@main.args"])
        .env("ESDK_CLI_TEST_USER", "ada")
        .assert()
        .success();
    let out = s.esdk(["inspect", "plain.ct", "--json"]).assert().success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["encryption_context"]["user"], "ada");
    assert_eq!(v["encryption_context"]["note"], "tab");
}

#[test]
fn inspect_escapes_control_characters_from_the_file() {
    let s = Scratch::new("inspect-escape");
    s.write("plain.txt", b"x");
    s.esdk([
        "-e",
        "-i",
        "plain.txt",
        "-o",
        "plain.ct",
        "-S",
        "-c",
        "evil=\u{1b}[2Jgone",
    ])
    .args(AES)
    .assert()
    .success();
    let out = s.esdk(["inspect", "plain.ct"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("\\u{1b}[2Jgone"), "{text}");
}
