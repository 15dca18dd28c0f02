//! Command-line runner for the AWS Encryption SDK test vectors.
//!
//! ```text
//! esdk-test-vectors decrypt --manifest PATH [options]
//! esdk-test-vectors decrypt --fixtures DIR [options]
//! esdk-test-vectors known-answer (--commitment FILE | --decrypt-oracle FILE) [options]
//! esdk-test-vectors encrypt --manifest PATH --output DIR [options]
//! ```
//!
//! AWS KMS is off unless `--kms` is given or `ESDK_VECTORS_KMS=1` is set: then KMS clients come
//! from the standard AWS environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials, profiles),
//! so the same manifests run against AWS KMS or a local KMS-compatible server.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use esdk_test_vectors::known_answer;
use esdk_test_vectors::{
    run_encrypt_manifest, run_fixtures, run_manifest, EncryptOptions, Report, RunOptions,
};

const USAGE: &str = "\
usage:
  esdk-test-vectors decrypt --manifest PATH [options]
      PATH: a decrypt manifest (manifest.json, decrypt-manifest.json, decrypt_message.json,
      ciphertext.manifest), a folder holding one, or a .zip of vectors (read in place)
  esdk-test-vectors decrypt --fixtures DIR [options]
      the non-framed fixtures (*.bin message + *plaintext*.bin), raw AES key aes-256
  esdk-test-vectors known-answer --commitment FILE [options]
  esdk-test-vectors known-answer --decrypt-oracle FILE [options]
  esdk-test-vectors encrypt --manifest PATH --output DIR [options]
      PATH: an awses-encrypt manifest (v1, v2 or v5), or a folder holding encrypt-manifest.json;
      encrypts every test with esdk and writes DIR/manifest.json (awses-decrypt v2 for v1/v2
      input, v5 for v5 input), DIR/keys.json, DIR/ciphertexts/ and DIR/plaintexts/.
      Passed = encrypted and written; raw ECDH, hierarchy and AWS KMS RSA/ECDH keyrings are
      skipped, and AWS KMS keyrings too unless --kms is given.

options:
  --filter TEXT         run only tests whose id contains TEXT
  --verbose             also print PASS lines
  --strict-net-4-0-0    refuse ESDK-.NET 4.0.0 messages (legacy_net_v4_0_0_retry(false)); the
                        invalid-Net-4.0.0 set is then expected to fail
  --no-streaming        decrypt one-shot only (by default also through the streaming decryptor)
  --chunk-size N        streaming decryption reads N bytes at a time (default 997)
  --jobs N              threads (default: the number of CPUs)
  --kms                 (decrypt, encrypt) use AWS KMS for the aws-kms, aws-kms-mrk-aware and
                        aws-kms-mrk-aware-discovery keys, with clients from the standard AWS
                        environment (AWS_REGION, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, profiles,
                        ...). Also turned on by ESDK_VECTORS_KMS=1. Without it, vectors that only
                        AWS KMS can decrypt or encrypt are skipped.

Prints FAIL/SKIP lines, then `N passed, M failed, K skipped`. Exit status: 0 when nothing
failed, 1 when a test failed, 2 for usage or manifest errors.";

#[derive(Debug)]
enum Target {
    Manifest(PathBuf),
    Fixtures(PathBuf),
    Commitment(PathBuf),
    DecryptOracle(PathBuf),
    Encrypt { manifest: PathBuf, output: PathBuf },
}

#[derive(Debug)]
struct Args {
    target: Target,
    options: RunOptions,
    verbose: bool,
    /// Use AWS KMS (`--kms` or `ESDK_VECTORS_KMS=1`).
    kms: bool,
}

/// The environment variable that turns AWS KMS on, as `--kms` does.
const KMS_ENV: &str = "ESDK_VECTORS_KMS";

/// Whether the value of [`KMS_ENV`] turns KMS on.
fn kms_env_on(value: Option<&str>) -> Result<bool, String> {
    match value.map(str::trim) {
        None | Some("" | "0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(other) => Err(format!("{KMS_ENV} must be 1 or 0, not {other:?}")),
    }
}

/// Parses the command line; `kms_env` is the value of [`KMS_ENV`].
fn parse_args(args: &[String], kms_env: Option<&str>) -> Result<Option<Args>, String> {
    let mut iter = args.iter();
    let command = match iter.next() {
        None => return Err("no command given".to_owned()),
        Some(c) if c == "-h" || c == "--help" || c == "help" => return Ok(None),
        Some(c) => c.as_str(),
    };
    if !matches!(command, "decrypt" | "known-answer" | "encrypt") {
        return Err(format!("unknown command {command:?}"));
    }
    let mut target = None;
    let mut options = RunOptions {
        jobs: std::thread::available_parallelism().map_or(1, usize::from),
        ..RunOptions::default()
    };
    let mut verbose = false;
    let mut kms = false;
    let mut encrypt_manifest: Option<PathBuf> = None;
    let mut output: Option<PathBuf> = None;
    while let Some(arg) = iter.next() {
        let mut value = |name: &str| {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let new_target = match (command, arg.as_str()) {
            ("decrypt", "--manifest") => Some(Target::Manifest(value(arg)?.into())),
            ("decrypt", "--fixtures") => Some(Target::Fixtures(value(arg)?.into())),
            ("known-answer", "--commitment") => Some(Target::Commitment(value(arg)?.into())),
            ("known-answer", "--decrypt-oracle") => Some(Target::DecryptOracle(value(arg)?.into())),
            ("encrypt", "--manifest") => {
                if encrypt_manifest.is_some() {
                    return Err("give one --manifest".to_owned());
                }
                encrypt_manifest = Some(value(arg)?.into());
                None
            }
            ("encrypt", "--output") => {
                if output.is_some() {
                    return Err("give one --output".to_owned());
                }
                output = Some(value(arg)?.into());
                None
            }
            (_, "--filter") => {
                options.filter = Some(value(arg)?);
                None
            }
            (_, "--jobs") => {
                let v = value(arg)?;
                options.jobs = v
                    .parse::<usize>()
                    .ok()
                    .filter(|j| *j > 0)
                    .ok_or_else(|| format!("--jobs needs a positive number, not {v:?}"))?;
                None
            }
            (_, "--verbose" | "-v") => {
                verbose = true;
                None
            }
            ("decrypt", "--strict-net-4-0-0") => {
                options.strict_net_4_0_0 = true;
                None
            }
            ("decrypt", "--chunk-size") => {
                let v = value(arg)?;
                options.stream_chunk =
                    v.parse::<usize>().ok().filter(|c| *c > 0).ok_or_else(|| {
                        format!("--chunk-size needs a positive number, not {v:?}")
                    })?;
                None
            }
            ("decrypt", "--no-streaming") => {
                options.streaming = false;
                None
            }
            ("decrypt" | "encrypt", "--kms") => {
                kms = true;
                None
            }
            (_, "-h" | "--help") => return Ok(None),
            (_, other) => return Err(format!("unknown option {other:?} for {command}")),
        };
        if let Some(t) = new_target {
            if target.is_some() {
                return Err(
                    "give one --manifest, --fixtures, --commitment or --decrypt-oracle".to_owned(),
                );
            }
            target = Some(t);
        }
    }
    if command == "encrypt" {
        target = Some(Target::Encrypt {
            manifest: encrypt_manifest.ok_or("encrypt needs --manifest PATH")?,
            output: output.ok_or("encrypt needs --output DIR")?,
        });
    }
    let target = target.ok_or_else(|| match command {
        "decrypt" => "decrypt needs --manifest PATH or --fixtures DIR".to_owned(),
        _ => "known-answer needs --commitment FILE or --decrypt-oracle FILE".to_owned(),
    })?;
    if matches!(command, "decrypt" | "encrypt") && kms_env_on(kms_env)? {
        kms = true;
    }
    Ok(Some(Args {
        target,
        options,
        verbose,
        kms,
    }))
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let kms_env = std::env::var(KMS_ENV).ok();
    let mut args = match parse_args(&raw, kms_env.as_deref()) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.kms {
        // One supplier for every test: one client per Region, loaded on the first KMS call.
        args.options.kms = Some(Arc::new(esdk::kms::KmsClientSupplier::from_env()));
        eprintln!("AWS KMS on: clients from the standard AWS environment");
    }
    let report = match &args.target {
        Target::Manifest(path) => run_manifest(path, &args.options),
        Target::Fixtures(dir) => run_fixtures(dir, &args.options),
        Target::Commitment(file) => {
            known_answer::run_commitment_vectors(file, args.options.jobs).map(|(r, _)| r)
        }
        Target::DecryptOracle(file) => {
            known_answer::run_decrypt_oracle_vectors(file, args.options.jobs)
        }
        Target::Encrypt { manifest, output } => {
            let options = EncryptOptions {
                filter: args.options.filter.clone(),
                jobs: args.options.jobs,
                kms: args.options.kms.clone(),
            };
            run_encrypt_manifest(manifest, output, &options).map(|r| {
                eprintln!(
                    "wrote {} ({} messages)",
                    r.manifest.display(),
                    r.report.passed()
                );
                r.report
            })
        }
    };
    let report: Report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let report = filter_report(report, args.options.filter.as_deref());
    let mut out = std::io::stdout().lock();
    let written = report
        .write_lines(&mut out, args.verbose)
        .and_then(|()| writeln!(out, "{}", report.summary()))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        eprintln!("error: writing the report: {e}");
        return ExitCode::from(2);
    }
    if report.failed() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Applies `--filter` to reports whose runner does not filter by itself (known answers).
fn filter_report(mut report: Report, filter: Option<&str>) -> Report {
    if let Some(f) = filter {
        report.results.retain(|r| r.id.contains(f));
    }
    report
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: Option<&str>) -> Result<Option<Args>, String> {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        parse_args(&args, env)
    }

    #[test]
    fn kms_is_off_unless_asked_for() {
        let args = parse(&["decrypt", "--manifest", "m"], None)
            .unwrap()
            .unwrap();
        assert!(!args.kms);
        let args = parse(&["decrypt", "--manifest", "m", "--kms"], None)
            .unwrap()
            .unwrap();
        assert!(args.kms);
        let args = parse(
            &["encrypt", "--manifest", "m", "--output", "o", "--kms"],
            None,
        )
        .unwrap()
        .unwrap();
        assert!(args.kms);
        for (env, on) in [("1", true), ("true", true), ("0", false), ("", false)] {
            let args = parse(&["decrypt", "--manifest", "m"], Some(env))
                .unwrap()
                .unwrap();
            assert_eq!(args.kms, on, "{KMS_ENV}={env:?}");
        }
        assert!(parse(&["decrypt", "--manifest", "m"], Some("maybe")).is_err());
        // known-answer vectors never use KMS.
        assert!(parse(&["known-answer", "--commitment", "f", "--kms"], None).is_err());
        let args = parse(&["known-answer", "--commitment", "f"], Some("1"))
            .unwrap()
            .unwrap();
        assert!(!args.kms);
        // Parsing never builds a supplier: main does, when KMS is on.
        assert!(args.options.kms.is_none());
    }
}
