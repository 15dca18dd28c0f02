//! Command-line arguments: `esdk encrypt|decrypt|inspect|completions`, and the
//! aws-encryption-cli form `esdk -e|-d ...` with the same flag names.

use clap::{ArgAction, Args, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  # Encrypt a file under a KMS key, then decrypt it (the key ARN is stored in the message)
  esdk encrypt -i secret.txt -o secret.txt.encrypted -w key=arn:aws:kms:us-west-2:111122223333:key/KEY-ID -S
  esdk decrypt -i secret.txt.encrypted -o secret.txt -w key=arn:aws:kms:us-west-2:111122223333:key/KEY-ID -S

  # The aws-encryption-cli form works too
  esdk -e -i secret.txt -o out/ -w key=$KEY_ARN --metadata-output meta.jsonl -c purpose=backup

  # A raw AES key from a file (never from the command line), stdin to stdout, base64 output
  esdk encrypt -i - -o - --encode -S -w provider=raw-aes namespace=ns key=k1 key-file=key.bin < in > out.b64

  # Look at a message's header without any key
  esdk inspect secret.txt.encrypted --json";

/// Encrypt and decrypt files in the AWS Encryption SDK message format.
#[derive(Parser, Debug)]
#[command(
    name = "esdk",
    version,
    about,
    long_about = "Encrypt and decrypt files in the AWS Encryption SDK message format, with AWS KMS, \
                  raw AES or raw RSA keys. Accepts aws-encryption-cli's flags: `esdk -e ...` / \
                  `esdk -d ...` behave as `esdk encrypt ...` / `esdk decrypt ...`. Arguments can \
                  come from files: `@FILE` is replaced by the arguments in FILE (shell-like \
                  quoting, one or more per line, `#` comments).",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Encrypt (aws-encryption-cli form).
    #[arg(short = 'e', long = "encrypt", conflicts_with = "decrypt")]
    pub encrypt: bool,

    /// Decrypt (aws-encryption-cli form).
    #[arg(short = 'd', long = "decrypt")]
    pub decrypt: bool,

    #[command(flatten)]
    pub common: Common,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Encrypt files or stdin.
    #[command(after_help = EXAMPLES)]
    Encrypt(Common),
    /// Decrypt files or stdin; the output is written only once the whole message (and its
    /// signature) verified.
    #[command(after_help = EXAMPLES)]
    Decrypt(Common),
    /// Print a message's header (suite, context, encrypted data keys, frame length) without
    /// any key. The header is not authenticated without the key.
    Inspect(Inspect),
    /// Print a shell completion script.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Debug)]
pub struct Inspect {
    /// The message file (`-` for stdin).
    pub file: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Default, Clone)]
pub struct Common {
    /// Input file, folder (with --recursive), or `-` for stdin.
    #[arg(short = 'i', long = "input")]
    pub input: Option<String>,

    /// Output file, folder, or `-` for stdout.
    #[arg(short = 'o', long = "output")]
    pub output: Option<String>,

    /// A wrapping key: `key=ID` (AWS KMS; repeat key= for more), `provider=aws-kms|raw-aes|raw-rsa`,
    /// `region=`, `discovery=true`, `discovery-account=`, `discovery-partition=`; raw keys:
    /// `namespace=`, `key-file=PATH` or `key-env=VAR` (AES, raw bytes or base64),
    /// `public-key=PEM`, `private-key=PEM`, `padding=oaep-sha256|oaep-sha1|oaep-sha384|oaep-sha512|pkcs1`.
    /// Repeat -w for more keys; on encrypt the first key generates the data key.
    #[arg(short = 'w', long = "wrapping-keys", action = ArgAction::Append, value_name = "KEY=VALUE")]
    pub wrapping_keys: Vec<String>,

    /// Encryption context pairs `key=value`. On decrypt: pairs that must be in the message
    /// (a bare `key` requires only the key).
    #[arg(short = 'c', long = "encryption-context", num_args = 1.., action = ArgAction::Append, value_name = "KEY=VALUE")]
    pub encryption_context: Vec<String>,

    /// forbid-encrypt-allow-decrypt, require-encrypt-allow-decrypt or
    /// require-encrypt-require-decrypt (default).
    #[arg(long = "commitment-policy")]
    pub commitment_policy: Option<String>,

    /// Algorithm suite name, e.g. AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 (default) or
    /// AES_256_GCM_HKDF_SHA512_COMMIT_KEY.
    #[arg(long = "algorithm")]
    pub algorithm: Option<String>,

    /// Frame length in bytes (default 4096).
    #[arg(long = "frame-length")]
    pub frame_length: Option<u32>,

    /// Refuse messages with more encrypted data keys than this.
    #[arg(long = "max-encrypted-data-keys")]
    pub max_encrypted_data_keys: Option<u16>,

    /// Cache data keys: `capacity=N max_age=SECONDS [max_messages_encrypted=N]
    /// [max_bytes_encrypted=N]`.
    #[arg(long = "caching", num_args = 1.., value_name = "KEY=VALUE")]
    pub caching: Option<Vec<String>>,

    /// Write one JSON line per file to FILE (`-` for stdout); appends unless
    /// --overwrite-metadata.
    #[arg(long = "metadata-output", value_name = "FILE")]
    pub metadata_output: Option<String>,

    /// Truncate the metadata file instead of appending.
    #[arg(long = "overwrite-metadata")]
    pub overwrite_metadata: bool,

    /// Write no metadata.
    #[arg(short = 'S', long = "suppress-metadata")]
    pub suppress_metadata: bool,

    /// Suffix of output files named from their input (default `.encrypted` / `.decrypted`;
    /// a bare `--suffix` keeps the input's name).
    #[arg(long = "suffix", num_args = 0..=1, default_missing_value = "")]
    pub suffix: Option<String>,

    /// Ask before overwriting an existing file.
    #[arg(long = "interactive")]
    pub interactive: bool,

    /// Skip files whose output exists (exit 0).
    #[arg(long = "no-overwrite", conflicts_with = "overwrite")]
    pub no_overwrite: bool,

    /// Replace existing output files (otherwise an existing output is an error).
    #[arg(long = "overwrite")]
    pub overwrite: bool,

    /// Process a folder's files, into an output folder of the same layout.
    #[arg(short = 'r', short_alias = 'R', long = "recursive")]
    pub recursive: bool,

    /// Base64-encode the output.
    #[arg(long = "encode")]
    pub encode: bool,

    /// Base64-decode the input.
    #[arg(long = "decode")]
    pub decode: bool,

    /// Decrypt: hold all plaintext until the signature verified (for stdout).
    #[arg(short = 'b', long = "buffer")]
    pub buffer: bool,

    /// Decrypt, and only unsigned messages (alone, it selects decrypt, as in aws-encryption-cli).
    #[arg(long = "decrypt-unsigned")]
    pub decrypt_unsigned: bool,

    /// Decrypt: refuse frames (or a non-framed body) longer than this many bytes.
    #[arg(long = "max-length")]
    pub max_length: Option<u64>,

    /// More output on stderr (repeatable).
    #[arg(short = 'v', action = ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// Progress bar on stderr: auto (large inputs, stderr a terminal), always, never.
    #[arg(long = "progress", default_value = "auto")]
    pub progress: String,
}

/// Separates the words of one `-w` group once [`group_wrapping_keys`] joined them.
pub const GROUP_SEPARATOR: char = '\u{1f}';

/// Joins the words after each `-w`/`--wrapping-keys` (up to the next flag) into one value, so
/// each `-w` stays one group, as aws-encryption-cli reads them.
pub fn group_wrapping_keys(args: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter().peekable();
    while let Some(arg) = iter.next() {
        let is_w = arg == "-w" || arg == "--wrapping-keys";
        out.push(arg);
        if is_w {
            let mut words = Vec::new();
            while let Some(next) = iter.peek() {
                if next.starts_with('-') && next.len() > 1 {
                    break;
                }
                words.extend(iter.next());
            }
            if !words.is_empty() {
                out.push(words.join(&GROUP_SEPARATOR.to_string()));
            }
        }
    }
    out
}

/// The groups of `-w` values, split back into words.
pub fn wrapping_key_groups(values: &[String]) -> Vec<Vec<String>> {
    values
        .iter()
        .map(|v| v.split(GROUP_SEPARATOR).map(str::to_owned).collect())
        .collect()
}

/// Replaces each `@FILE` argument by the arguments in FILE (shell-like quoting, `#` comments).
pub fn expand_argfiles(args: Vec<String>) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(args.len());
    for (i, arg) in args.into_iter().enumerate() {
        match arg.strip_prefix('@') {
            Some(path) if i > 0 && !path.is_empty() => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read argument file {path}: {e}"))?;
                for line in text.lines() {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    let words = shlex::split(line)
                        .ok_or_else(|| format!("unbalanced quotes in {path}: {line}"))?;
                    out.extend(words);
                }
            }
            _ => out.push(arg),
        }
    }
    Ok(out)
}
