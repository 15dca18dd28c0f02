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
    subcommand_negates_reqs = true,
    infer_long_args = true
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
    #[command(after_help = EXAMPLES, infer_long_args = true)]
    Encrypt(Common),
    /// Decrypt files or stdin; the output is written only once the whole message (and its
    /// signature) verified.
    #[command(after_help = EXAMPLES, infer_long_args = true)]
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
    /// `namespace=`, `key-file=PATH` (16/24/32 raw bytes, else base64; or say
    /// `key-encoding=raw|base64`) or `key-env=VAR` (base64),
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

/// The short flags that take no value (for bundles such as `-Sew`).
const SHORT_SWITCHES: &str = "edSrRbvq";

/// If `arg` starts a `-w` group, the group's first word when it is part of `arg`
/// (`--wrapping-keys=X`, `-wX`, `-SewX`), as `Some(Some(X))`, or `Some(None)` when the words
/// follow; `None` when `arg` is not `-w`. Also the flags bundled before `w`.
fn wrapping_key_flag(arg: &str) -> Option<(Option<String>, Option<String>)> {
    if let Some(long) = arg.strip_prefix("--") {
        let (name, value) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (long, None),
        };
        // Long options may be abbreviated (as argparse allows): --w, --wrap, ...
        if !name.is_empty() && "wrapping-keys".starts_with(name) {
            return Some((None, value));
        }
        return None;
    }
    let short = arg.strip_prefix('-')?;
    let w = short.find('w')?;
    let (before, after) = short.split_at(w);
    if !before.chars().all(|c| SHORT_SWITCHES.contains(c)) {
        return None;
    }
    let bundled = (!before.is_empty()).then(|| format!("-{before}"));
    let value = after.get(1..).filter(|v| !v.is_empty()).map(str::to_owned);
    Some((bundled, value))
}

/// Joins the words after each `-w`/`--wrapping-keys` (up to the next flag) into one value, so
/// each `-w` stays one group, as aws-encryption-cli reads them.
pub fn group_wrapping_keys(args: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter().peekable();
    if let Some(program) = iter.next() {
        out.push(program);
    }
    while let Some(arg) = iter.next() {
        let Some((bundled, first)) = wrapping_key_flag(&arg) else {
            out.push(arg);
            continue;
        };
        out.extend(bundled);
        out.push("-w".to_owned());
        let mut words: Vec<String> = first.into_iter().collect();
        while let Some(next) = iter.peek() {
            if next.starts_with('-') && next.len() > 1 {
                break;
            }
            words.extend(iter.next());
        }
        out.push(words.join(&GROUP_SEPARATOR.to_string()));
    }
    out
}

/// The groups of `-w` values, split back into words.
pub fn wrapping_key_groups(values: &[String]) -> Vec<Vec<String>> {
    values
        .iter()
        .map(|v| {
            v.split(GROUP_SEPARATOR)
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// Replaces each `@FILE` argument by the arguments in FILE, as aws-encryption-cli reads them:
/// each line split shell-like, `#` starting a comment anywhere outside quotes, then `~` at the
/// start of a word and `$VAR`/`${VAR}` expanded (unset variables stay as written); argument
/// files may name further argument files.
pub fn expand_argfiles(args: Vec<String>) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter();
    out.extend(iter.next());
    expand_into(iter.collect(), 0, &mut out)?;
    Ok(out)
}

fn expand_into(args: Vec<String>, depth: usize, out: &mut Vec<String>) -> Result<(), String> {
    for arg in args {
        match arg.strip_prefix('@') {
            Some(path) if !path.is_empty() => {
                if depth >= 16 {
                    return Err(format!("argument files nested too deep at {path}"));
                }
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read argument file {path}: {e}"))?;
                let mut words = Vec::new();
                for line in text.lines() {
                    let line = strip_comment(line);
                    if line.trim().is_empty() {
                        continue;
                    }
                    let split = shlex::split(line)
                        .ok_or_else(|| format!("unbalanced quotes in {path}: {line}"))?;
                    words.extend(split.into_iter().map(|w| expand_vars(&expand_user(&w))));
                }
                expand_into(words, depth + 1, out)?;
            }
            _ => out.push(arg),
        }
    }
    Ok(())
}

/// The line up to its first `#` outside quotes.
fn strip_comment(line: &str) -> &str {
    let (mut single, mut double, mut escaped) = (false, false, false);
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if !single => escaped = true,
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double => return &line[..i],
            _ => {}
        }
    }
    line
}

fn expand_user(word: &str) -> String {
    match (word.strip_prefix('~'), std::env::var("HOME")) {
        (Some(rest), Ok(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => word.to_owned(),
    }
}

/// `$NAME` and `${NAME}` replaced by the environment's value; unset names stay as written.
fn expand_vars(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        match (name.is_empty(), std::env::var(name)) {
            (false, Ok(value)) => {
                out.push_str(&value);
                rest = &after[consumed..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn wrapping_key_forms_become_groups() {
        let sep = GROUP_SEPARATOR.to_string();
        let joined = |w: &[&str]| w.join(&sep);
        for (input, want) in [
            (
                vec!["esdk", "-w", "key=a", "key=b", "-S"],
                vec!["esdk", "-w", &joined(&["key=a", "key=b"]) as &str, "-S"],
            ),
            (
                vec!["esdk", "--wrapping-keys=key=a", "key=b"],
                vec!["esdk", "-w", &joined(&["key=a", "key=b"])],
            ),
            (vec!["esdk", "--wrap", "key=a"], vec!["esdk", "-w", "key=a"]),
            (vec!["esdk", "-wkey=a"], vec!["esdk", "-w", "key=a"]),
            (
                vec!["esdk", "-Sew", "key=a", "-i", "x"],
                vec!["esdk", "-Se", "-w", "key=a", "-i", "x"],
            ),
            (
                vec!["esdk", "-i", "-", "-o", "-"],
                vec!["esdk", "-i", "-", "-o", "-"],
            ),
        ] {
            assert_eq!(
                group_wrapping_keys(words(&input)),
                words(&want),
                "{input:?}"
            );
        }
    }

    #[test]
    fn comments_and_expansion_as_aws_encryption_cli() {
        assert_eq!(strip_comment("a=1 b='x#y' d=a#b"), "a=1 b='x#y' d=a");
        assert_eq!(strip_comment("# all"), "");
        std::env::set_var("ESDK_ARGS_TEST", "v");
        assert_eq!(
            expand_vars("k=$ESDK_ARGS_TEST,${ESDK_ARGS_TEST}x"),
            "k=v,vx"
        );
        assert_eq!(expand_vars("k=$ESDK_UNSET_XYZ $"), "k=$ESDK_UNSET_XYZ $");
        let home = std::env::var("HOME").unwrap_or_default();
        assert_eq!(expand_user("~/x"), format!("{home}/x"));
        assert_eq!(expand_user("b=~/x"), "b=~/x");
    }
}
