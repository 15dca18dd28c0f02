//! `esdk`: encrypt and decrypt files in the AWS Encryption SDK message format.
//!
//! A drop-in for aws-encryption-cli scripts (`esdk -e ...`, `esdk -d ...`, the same flags),
//! with raw AES/RSA keys, `esdk inspect`, bounded memory and safe output: plaintext reaches its
//! final name only after the whole message, signature included, verified.

mod args;
mod files;
mod inspect;
mod keys;
mod meta;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// A failure to report: one line, a hint, and the exit status.
#[derive(Debug)]
pub struct Failure {
    message: String,
    hint: Option<&'static str>,
    status: u8,
}

impl Failure {
    /// A usage error (exit 2).
    pub fn usage(message: String) -> Self {
        Self {
            message,
            hint: Some("see `esdk --help`"),
            status: 2,
        }
    }

    /// An input or output problem (exit 1).
    pub fn input(message: String) -> Self {
        Self {
            message,
            hint: None,
            status: 1,
        }
    }

    /// An esdk error, with its causes.
    pub fn from_esdk(error: esdk::Error) -> Self {
        Self::input(chain(&error))
    }

    /// With a hint line.
    pub fn with_hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }

    /// Prefixed with what was being done.
    pub fn context(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

/// An error and its causes on one line.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// The hint for an esdk error, by what usually causes it.
pub fn hint_for(error: &esdk::Error) -> Option<&'static str> {
    use esdk::Error as E;
    Some(match error {
        E::NoKeyringDecrypted { .. } => {
            "the message was not encrypted under any of the -w keys (`esdk inspect FILE` lists its keys)"
        }
        E::HeaderAuthentication | E::FrameAuthentication { .. } | E::BadSignature | E::CommitmentMismatch => {
            "the message was altered, or the key is wrong; nothing was written"
        }
        E::Malformed(esdk::FormatError::Base64Encoded) => {
            "the input is base64: add --decode"
        }
        E::Malformed(_) => "the input is not an AWS Encryption SDK message, or it is truncated",
        E::PolicyRefused { .. } => "see --commitment-policy",
        E::SignedSuiteRefused(_) => "the message is signed; drop --decrypt-unsigned to decrypt it",
        E::TooManyEncryptedDataKeys { .. } => "see --max-encrypted-data-keys",
        E::LimitExceeded(what) if what.contains("frame") || what.contains("non-framed") => {
            "the message's frames are larger than esdk streams by default; raise --max-length"
        }
        E::Keyring(_) => "check the key ids, AWS credentials and AWS_REGION / AWS_ENDPOINT_URL",
        _ => return None,
    })
}

fn main() -> ExitCode {
    let mut raw = Vec::new();
    for arg in std::env::args_os() {
        match arg.into_string() {
            Ok(a) => raw.push(a),
            Err(bad) => {
                return report(
                    &Failure::usage(format!("argument {bad:?} is not valid UTF-8")),
                    false,
                )
            }
        }
    }
    files::remove_temporaries_on_signals();
    let args = match args::expand_argfiles(raw) {
        Ok(a) => a,
        Err(e) => return report(&Failure::usage(e), false),
    };
    let cli = args::Cli::parse_from(args::group_wrapping_keys(args));
    let quiet = cli.common.quiet;
    let result = match cli.command {
        Some(args::Command::Encrypt(common)) => files::run(common, true),
        Some(args::Command::Decrypt(common)) => files::run(common, false),
        Some(args::Command::Inspect(inspect)) => inspect::run(&inspect),
        Some(args::Command::Completions { shell }) => {
            clap_complete::generate(
                shell,
                &mut args::Cli::command(),
                "esdk",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        None if cli.encrypt => files::run(cli.common, true),
        None if cli.decrypt || cli.common.decrypt_unsigned => files::run(cli.common, false),
        None => {
            let _ = args::Cli::command().print_help();
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(&failure, quiet),
    }
}

fn report(failure: &Failure, _quiet: bool) -> ExitCode {
    eprintln!("esdk: error: {}", failure.message);
    if let Some(hint) = failure.hint {
        eprintln!("esdk: hint: {hint}");
    }
    ExitCode::from(failure.status)
}
