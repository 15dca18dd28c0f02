//! Encrypt and decrypt jobs: inputs to outputs, streamed with bounded memory, plaintext and
//! ciphertext written beside the target and renamed only when complete and verified.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use esdk::cache::{CachingMaterialsManager, MaterialsCache};
use esdk::stream::io::{DecryptingReader, EncryptingWriter};
use esdk::{
    Client, CommitmentPolicy, DecryptOptions, EncryptOptions, EncryptionContext, KeySource,
    MaterialsManager,
};

use crate::args::Common;
use crate::meta::Metadata;
use crate::{chain, hint_for, keys, Failure};

/// The largest `--caching capacity=` (the cache reserves room for its capacity up front).
const MAX_CACHE_CAPACITY: u64 = 1 << 20;

/// Chunk size of the copy loop.
const CHUNK: usize = 256 * 1024;
/// Inputs at least this large get a progress bar (when stderr is a terminal).
const PROGRESS_FROM: u64 = 16 * 1024 * 1024;
/// The ciphertext kept to read its header back for metadata.
const HEADER_TAP: usize = 1024 * 1024 + 64 * 1024;

enum Input {
    Stdin,
    File(PathBuf),
}

enum Output {
    Stdout,
    File(PathBuf),
}

struct Job {
    input: Input,
    output: Output,
}

impl Input {
    fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".into(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

impl Output {
    fn name(&self) -> String {
        match self {
            Output::Stdout => "<stdout>".into(),
            Output::File(p) => p.display().to_string(),
        }
    }
}

/// What every job of one invocation shares.
struct Setup {
    encrypt: bool,
    client: Client,
    source: Source,
    context: EncryptionContext,
    /// Decrypt: keys that must be in the message's context, with the value if given.
    required: Vec<(String, Option<String>)>,
    common: Common,
    verbose: bool,
}

enum Source {
    Keyring(Arc<dyn esdk::Keyring>),
    Manager(Arc<dyn MaterialsManager>),
}

impl Source {
    fn key_source(&self) -> KeySource<'_> {
        match self {
            Source::Keyring(k) => KeySource::Keyring(k.as_ref()),
            Source::Manager(m) => KeySource::MaterialsManager(m.as_ref()),
        }
    }
}

fn parse_pairs(
    words: &[String],
    allow_bare: bool,
) -> Result<Vec<(String, Option<String>)>, Failure> {
    let mut pairs = Vec::new();
    for word in words {
        match word.split_once('=') {
            Some((k, v)) if !k.is_empty() => pairs.push((k.to_owned(), Some(v.to_owned()))),
            None if allow_bare && !word.is_empty() => pairs.push((word.clone(), None)),
            _ => {
                return Err(Failure::usage(format!(
                    "encryption context argument {word:?} is not KEY=VALUE"
                )))
            }
        }
    }
    Ok(pairs)
}

fn client(common: &Common, encrypt: bool) -> Result<Client, Failure> {
    let mut builder = Client::builder();
    if let Some(policy) = &common.commitment_policy {
        builder = builder.commitment_policy(
            match policy.to_ascii_lowercase().replace('_', "-").as_str() {
                "forbid-encrypt-allow-decrypt" => CommitmentPolicy::ForbidEncryptAllowDecrypt,
                "require-encrypt-allow-decrypt" => CommitmentPolicy::RequireEncryptAllowDecrypt,
                "require-encrypt-require-decrypt" => CommitmentPolicy::RequireEncryptRequireDecrypt,
                other => {
                    return Err(Failure::usage(format!(
                        "--commitment-policy {other}: use forbid-encrypt-allow-decrypt, \
                     require-encrypt-allow-decrypt or require-encrypt-require-decrypt"
                    )))
                }
            },
        );
    }
    if let Some(name) = &common.algorithm {
        let suite = esdk::suite::ALL
            .iter()
            .find(|s| s.name == name || crate::meta::python_name(s) == name)
            .ok_or_else(|| {
                Failure::usage(format!(
                    "--algorithm {name}: use one of {}",
                    esdk::suite::ALL
                        .iter()
                        .map(|s| s.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        builder = builder.suite(suite);
    }
    if let Some(frame) = common.frame_length {
        if frame == 0 {
            return Err(Failure::usage(
                "--frame-length 0 (non-framed) is not written by esdk; it decrypts such messages"
                    .to_owned(),
            ));
        }
        builder = builder.frame_length(frame);
    }
    if let Some(limit) = common.max_encrypted_data_keys {
        builder = builder.max_encrypted_data_keys(limit);
    }
    if let Some(limit) = common.max_length {
        builder = builder
            .max_stream_frame_length(u32::try_from(limit).unwrap_or(u32::MAX))
            .max_stream_non_framed_length(limit);
    }
    if !encrypt && common.decrypt_unsigned {
        builder = builder.unsigned_only(true);
    }
    builder.build().map_err(|e| Failure::usage(chain(&e)))
}

fn source(common: &Common, encrypt: bool) -> Result<Source, Failure> {
    let keyring = keys::keyring(
        &crate::args::wrapping_key_groups(&common.wrapping_keys),
        encrypt,
    )?;
    let Some(caching) = &common.caching else {
        return Ok(Source::Keyring(keyring));
    };
    let mut capacity = None;
    let mut max_age = None;
    let mut max_messages = None;
    let mut max_bytes = None;
    for word in caching {
        let (k, v) = word.split_once('=').ok_or_else(|| {
            Failure::usage(format!("--caching argument {word:?} is not NAME=VALUE"))
        })?;
        let integer = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| Failure::usage(format!("--caching {k}={v}: not a whole number")))
        };
        match k.replace('-', "_").as_str() {
            "capacity" => {
                let c = integer(v)?;
                if c == 0 || c > MAX_CACHE_CAPACITY {
                    return Err(Failure::usage(format!(
                        "--caching capacity={v}: use 1 to {MAX_CACHE_CAPACITY}"
                    )));
                }
                capacity = Some(c as usize);
            }
            "max_age" => {
                let age = v
                    .parse::<f64>()
                    .ok()
                    .filter(|a| a.is_finite() && *a > 0.0 && *a <= 100.0 * 365.0 * 86_400.0)
                    .ok_or_else(|| {
                        Failure::usage(format!("--caching max_age={v}: seconds, above 0, at most 100 years"))
                    })?;
                max_age = Some(Duration::from_secs_f64(age));
            }
            "max_messages_encrypted" => max_messages = Some(integer(v)?),
            "max_bytes_encrypted" => max_bytes = Some(integer(v)?),
            other => {
                return Err(Failure::usage(format!(
                    "--caching {other}=: use capacity=, max_age=, max_messages_encrypted=, max_bytes_encrypted="
                )))
            }
        }
    }
    let (Some(capacity), Some(max_age)) = (capacity, max_age) else {
        return Err(Failure::usage(
            "--caching needs capacity= and max_age=".to_owned(),
        ));
    };
    let mut builder = CachingMaterialsManager::builder(MaterialsCache::new(capacity), max_age)
        .materials_manager(esdk::DefaultMaterialsManager::new(keyring));
    if let Some(m) = max_messages {
        builder = builder.max_messages(m);
    }
    if let Some(b) = max_bytes {
        builder = builder.max_bytes(b);
    }
    Ok(Source::Manager(Arc::new(
        builder.build().map_err(|e| Failure::usage(chain(&e)))?,
    )))
}

fn default_suffix(encrypt: bool) -> &'static str {
    if encrypt {
        ".encrypted"
    } else {
        ".decrypted"
    }
}

fn with_suffix(dir: &Path, relative: &Path, suffix: &str) -> PathBuf {
    let mut name = relative.as_os_str().to_owned();
    name.push(suffix);
    dir.join(name)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type()?;
        // A symbolic link to a file is processed like the file (as aws-encryption-cli does);
        // links to folders are not followed (no loops).
        let file_link = kind.is_symlink() && fs::metadata(&path).is_ok_and(|m| m.is_file());
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() || file_link {
            out.push(
                path.strip_prefix(root)
                    .map(Path::to_path_buf)
                    .unwrap_or(path),
            );
        }
    }
    Ok(())
}

fn plan(common: &Common, encrypt: bool) -> Result<Vec<Job>, Failure> {
    let input = common
        .input
        .as_deref()
        .ok_or_else(|| Failure::usage("-i/--input is required".to_owned()))?;
    let output = common
        .output
        .as_deref()
        .ok_or_else(|| Failure::usage("-o/--output is required".to_owned()))?;
    let suffix = common.suffix.as_deref().unwrap_or(default_suffix(encrypt));
    if input == "-" {
        let output = if output == "-" {
            Output::Stdout
        } else if Path::new(output).is_dir() {
            return Err(Failure::usage(
                "stdin input needs an output file or `-`, not a folder".to_owned(),
            ));
        } else {
            Output::File(output.into())
        };
        return Ok(vec![Job {
            input: Input::Stdin,
            output,
        }]);
    }
    let input_path = PathBuf::from(input);
    if !input_path.exists() && input.contains(['*', '?', '[']) {
        return plan_glob(common, encrypt, input, output, suffix);
    }
    let meta = fs::metadata(&input_path)
        .map_err(|e| Failure::input(format!("cannot read input {input}: {e}")))?;
    if meta.is_dir() {
        if !common.recursive {
            return Err(Failure::usage(format!(
                "{input} is a folder: add --recursive to process its files"
            )));
        }
        if output == "-" {
            return Err(Failure::usage("a folder cannot go to stdout".to_owned()));
        }
        let out_dir = PathBuf::from(output);
        if out_dir.exists() && !out_dir.is_dir() {
            return Err(Failure::usage(format!(
                "{output} is a file; a folder input needs an output folder"
            )));
        }
        let mut files = Vec::new();
        walk(&input_path, &input_path, &mut files)
            .map_err(|e| Failure::input(format!("cannot list {input}: {e}")))?;
        return Ok(files
            .into_iter()
            .map(|rel| Job {
                output: Output::File(with_suffix(&out_dir, &rel, suffix)),
                input: Input::File(input_path.join(&rel)),
            })
            .collect());
    }
    let output = if output == "-" {
        Output::Stdout
    } else if Path::new(output).is_dir() || output.ends_with('/') {
        let name = input_path
            .file_name()
            .map(PathBuf::from)
            .ok_or_else(|| Failure::usage(format!("{input} has no file name")))?;
        Output::File(with_suffix(Path::new(output), &name, suffix))
    } else {
        Output::File(output.into())
    };
    Ok(vec![Job {
        input: Input::File(input_path),
        output,
    }])
}

/// `-i` with a pattern (as aws-encryption-cli expands it): each matching file, or each matching
/// folder with `-r` (as its own root); one match behaves as that path given alone, several
/// need an existing output folder.
fn plan_glob(
    common: &Common,
    encrypt: bool,
    pattern: &str,
    output: &str,
    suffix: &str,
) -> Result<Vec<Job>, Failure> {
    let paths: Vec<PathBuf> = glob::glob(pattern)
        .map_err(|e| Failure::usage(format!("-i {pattern}: {e}")))?
        .filter_map(Result::ok)
        .collect();
    match paths.as_slice() {
        [] => Err(Failure::input(format!("no file matches {pattern}"))),
        [one] => {
            let mut single = common.clone();
            single.input = Some(one.display().to_string());
            plan(&single, encrypt)
        }
        many => {
            let out_dir = PathBuf::from(output);
            if !out_dir.is_dir() {
                return Err(Failure::usage(format!(
                    "{pattern} matches {} paths: the output must be an existing folder",
                    many.len()
                )));
            }
            let mut jobs = Vec::new();
            for path in many {
                if path.is_dir() {
                    if !common.recursive {
                        eprintln!(
                            "esdk: skipping {}: a folder, and --recursive is not set",
                            path.display()
                        );
                        continue;
                    }
                    let mut files = Vec::new();
                    walk(path, path, &mut files).map_err(|e| {
                        Failure::input(format!("cannot list {}: {e}", path.display()))
                    })?;
                    jobs.extend(files.into_iter().map(|rel| Job {
                        output: Output::File(with_suffix(&out_dir, &rel, suffix)),
                        input: Input::File(path.join(&rel)),
                    }));
                } else if let Some(name) = path.file_name() {
                    jobs.push(Job {
                        output: Output::File(with_suffix(&out_dir, Path::new(name), suffix)),
                        input: Input::File(path.clone()),
                    });
                }
            }
            Ok(jobs)
        }
    }
}

pub fn run(common: Common, encrypt: bool) -> Result<(), Failure> {
    if encrypt && common.decrypt_unsigned {
        return Err(Failure::usage(
            "--decrypt-unsigned decrypts; it does not go with encrypt".to_owned(),
        ));
    }
    let jobs = plan(&common, encrypt)?;
    for job in &jobs {
        if let (Input::File(input), Output::File(output)) = (&job.input, &job.output) {
            if same_file(input, output) {
                return Err(Failure::usage(format!(
                    "the output {} is the input itself",
                    output.display()
                )));
            }
        }
    }
    let context = parse_pairs(&common.encryption_context, !encrypt)?;
    let (context_map, required) = if encrypt {
        // As aws-encryption-cli: a key given twice keeps its first value.
        let mut map = EncryptionContext::new();
        for (k, v) in context {
            map.entry(k).or_insert_with(|| v.unwrap_or_default());
        }
        (map, Vec::new())
    } else {
        (EncryptionContext::new(), context)
    };
    if common.metadata_output.as_deref() == Some("-")
        && jobs.iter().any(|j| matches!(j.output, Output::Stdout))
    {
        return Err(Failure::usage(
            "--metadata-output - and -o - cannot both use stdout".to_owned(),
        ));
    }
    let setup = Setup {
        encrypt,
        client: client(&common, encrypt)?,
        source: source(&common, encrypt)?,
        context: context_map,
        required,
        verbose: common.verbose > 0 && !common.quiet,
        common,
    };
    if let Some(meta_path) = setup
        .common
        .metadata_output
        .as_deref()
        .filter(|m| *m != "-")
    {
        let meta_path = Path::new(meta_path);
        let clash = jobs.iter().any(|j| {
            matches!(&j.input, Input::File(p) if same_file(p, meta_path) || p == meta_path)
                || matches!(&j.output, Output::File(p) if same_file(p, meta_path) || p == meta_path)
        });
        if clash {
            return Err(Failure::usage(
                "--metadata-output cannot be an input or output file".to_owned(),
            ));
        }
    }
    if setup.common.interactive && jobs.iter().any(|j| matches!(j.input, Input::Stdin)) {
        return Err(Failure::usage(
            "--interactive reads answers from stdin, which is the input here".to_owned(),
        ));
    }
    // Opened (and created) only once everything else was accepted.
    let mut metadata = Metadata::open(&setup.common)?;
    for job in jobs {
        if let Output::File(target) = &job.output {
            if let Ok(meta) = fs::symlink_metadata(target) {
                if !meta.is_file() {
                    return Err(Failure::usage(format!(
                        "{} exists and is not a regular file",
                        target.display()
                    ))
                    .with_hint("write to stdout (-o -) and redirect it instead"));
                }
            }
            if target.exists() && !may_overwrite(&setup.common, target)? {
                if !setup.common.quiet {
                    eprintln!(
                        "esdk: skipping {}: {} exists",
                        job.input.name(),
                        target.display()
                    );
                }
                continue;
            }
        }
        let what = format!(
            "{} {}",
            if encrypt { "encrypting" } else { "decrypting" },
            job.input.name()
        );
        let mode = if encrypt {
            "encrypt"
        } else if setup.common.decrypt_unsigned {
            "decrypt-unsigned"
        } else {
            "decrypt"
        };
        match process(&setup, &job) {
            Ok(header) => {
                if setup.verbose {
                    eprintln!("esdk: {what} -> {}", job.output.name());
                }
                metadata.write(&crate::meta::line(
                    mode,
                    &job.input.name(),
                    &job.output.name(),
                    &header,
                ))?;
            }
            Err(Stop::Failed(f)) => return Err(f.context(&what)),
            Err(Stop::ContextMismatch {
                header,
                failure,
                missing_keys,
                missing_pairs,
            }) => {
                // As aws-encryption-cli records a skipped file, but this is an error.
                let mut line =
                    crate::meta::line(mode, &job.input.name(), &job.output.name(), &header);
                if let Some(object) = line.as_object_mut() {
                    object.insert("skipped".into(), true.into());
                    object.insert(
                        "reason".into(),
                        "Missing encryption context key or value".into(),
                    );
                    object.insert(
                        "missing_encryption_context_keys".into(),
                        missing_keys.into(),
                    );
                    object.insert(
                        "missing_encryption_context_pairs".into(),
                        missing_pairs
                            .into_iter()
                            .map(|(k, v)| serde_json::json!([k, v]))
                            .collect::<Vec<_>>()
                            .into(),
                    );
                }
                metadata.write(&line)?;
                return Err(failure.context(&what));
            }
        }
    }
    Ok(())
}

/// Whether an existing output may be replaced: `--overwrite`, or yes at the `--interactive`
/// prompt. `--no-overwrite` skips; otherwise an existing output is an error.
fn may_overwrite(common: &Common, target: &Path) -> Result<bool, Failure> {
    if common.overwrite {
        return Ok(true);
    }
    if common.no_overwrite {
        return Ok(false);
    }
    if common.interactive {
        eprint!("esdk: overwrite {}? [y/N] ", target.display());
        let mut answer = String::new();
        io::stdin()
            .read_line(&mut answer)
            .map_err(|e| Failure::input(format!("cannot read the answer: {e}")))?;
        return Ok(matches!(answer.trim(), "y" | "Y" | "yes"));
    }
    Err(
        Failure::input(format!("{} exists", target.display())).with_hint(
            "use --overwrite to replace it, --no-overwrite to skip it, or --interactive to ask",
        ),
    )
}

/// A file written beside its target under a temporary name, renamed into place by `commit`
/// and removed if dropped before.
struct Staged {
    temp: PathBuf,
    target: PathBuf,
    file: Option<File>,
    /// Folders this job created, deepest first: removed (if still empty) when it fails.
    created: Vec<PathBuf>,
}

/// Temporary outputs in progress: removed by the Ctrl-C / SIGTERM handler before exiting.
static IN_PROGRESS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// On SIGINT, SIGTERM or SIGHUP: remove every temporary output, then exit 130.
pub fn remove_temporaries_on_signals() {
    let _ = ctrlc::set_handler(|| {
        if let Ok(files) = IN_PROGRESS.lock() {
            for f in files.iter() {
                let _ = fs::remove_file(f);
            }
        }
        eprintln!("esdk: interrupted; partial output removed");
        std::process::exit(130);
    });
}

fn track(temp: &Path) {
    if let Ok(mut files) = IN_PROGRESS.lock() {
        files.push(temp.to_path_buf());
    }
}

fn untrack(temp: &Path) {
    if let Ok(mut files) = IN_PROGRESS.lock() {
        files.retain(|f| f != temp);
    }
}

/// Whether two paths name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

impl Staged {
    fn create(target: &Path) -> Result<Self, Failure> {
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let created: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .map(Path::to_path_buf)
            .collect();
        fs::create_dir_all(dir)
            .map_err(|e| Failure::input(format!("cannot create folder {}: {e}", dir.display())))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = name;
        let mut seed = [0u8; 8];
        let _ = getrandom_seed(&mut seed);
        for attempt in 0..100u32 {
            let temp = dir.join(format!(
                ".esdk-partial-{}-{:016x}-{attempt}",
                std::process::id(),
                u64::from_le_bytes(seed)
            ));
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            // Readable by the owner only, whatever the umask, while it may hold unverified
            // plaintext.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&temp) {
                Ok(file) => {
                    track(&temp);
                    return Ok(Self {
                        temp,
                        target: target.to_path_buf(),
                        file: Some(file),
                        created,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(Failure::input(format!(
                        "cannot write in {}: {e}",
                        dir.display()
                    )))
                }
            }
        }
        Err(Failure::input(format!(
            "cannot create a temporary file in {}",
            dir.display()
        )))
    }

    fn file(&mut self) -> Result<File, Failure> {
        self.file
            .take()
            .ok_or_else(|| Failure::input("internal: staged file taken twice".into()))
    }

    fn commit(mut self, file: File, overwrite: bool) -> Result<(), Failure> {
        // The final file gets the permissions of the file it replaces, or the usual ones
        // (0666 less the umask) for a new file; the temporary one was 0600.
        let permissions = match fs::metadata(&self.target) {
            Ok(old) => Some(old.permissions()),
            Err(_) => default_permissions(),
        };
        if let Some(p) = permissions {
            let _ = file.set_permissions(p);
        }
        file.sync_all()
            .map_err(|e| Failure::input(format!("cannot write {}: {e}", self.temp.display())))?;
        drop(file);
        let result = if overwrite {
            fs::rename(&self.temp, &self.target)
        } else {
            // No clobbering: a link fails if the target appeared meanwhile.
            fs::hard_link(&self.temp, &self.target).and_then(|()| fs::remove_file(&self.temp))
        };
        result.map_err(|e| {
            Failure::input(format!(
                "cannot move the output to {}: {e}",
                self.target.display()
            ))
        })?;
        untrack(&self.temp);
        self.temp = PathBuf::new();
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.temp);
            untrack(&self.temp);
            for dir in &self.created {
                // Only an empty folder goes; another job's output keeps it.
                let _ = fs::remove_dir(dir);
            }
        }
    }
}

/// A little randomness for temporary names (not a secret: it only makes names hard to guess).
fn getrandom_seed(seed: &mut [u8; 8]) -> Result<(), ()> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mixed = (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32);
    *seed = mixed.to_le_bytes();
    Ok(())
}

/// The permissions a newly created file gets: 0666 less the process umask (Linux reports it
/// in /proc/self/status; elsewhere 022 is assumed).
fn default_permissions() -> Option<fs::Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let umask = fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("Umask:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            })
            .unwrap_or(0o022);
        Some(fs::Permissions::from_mode(0o666 & !umask))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Keeps the first bytes written (the message header) while passing everything on.
struct Tap<W> {
    inner: W,
    head: Vec<u8>,
}

impl<W: Write> Write for Tap<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let room = HEADER_TAP.saturating_sub(self.head.len());
        self.head
            .extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The output sink: a file or stdout, optionally base64-encoded.
enum Sink {
    File(BufWriter<File>),
    Stdout(io::Stdout),
    Encoded(Box<base64::write::EncoderWriter<'static, base64::engine::GeneralPurpose, Box<Sink>>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::File(w) => w.write(buf),
            Sink::Stdout(w) => w.write(buf),
            Sink::Encoded(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::File(w) => w.flush(),
            Sink::Stdout(w) => w.flush(),
            Sink::Encoded(w) => w.flush(),
        }
    }
}

/// Drops ASCII whitespace, so `--decode` takes wrapped base64 (`base64` writes 76-column
/// lines) and a final newline, as aws-encryption-cli does.
struct SkipWhitespace<R>(R);

impl<R: Read> Read for SkipWhitespace<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.0.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            let mut kept = 0;
            for i in 0..n {
                if !buf[i].is_ascii_whitespace() {
                    buf[kept] = buf[i];
                    kept += 1;
                }
            }
            if kept > 0 {
                return Ok(kept);
            }
        }
    }
}

fn open_input(input: &Input) -> Result<(Box<dyn Read>, Option<u64>), Failure> {
    match input {
        Input::Stdin => Ok((Box::new(io::stdin().lock()), None)),
        Input::File(path) => {
            let file = File::open(path)
                .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
            // Only a regular file's size is its length (a pipe or device reports 0 or nothing).
            let len = file
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
            Ok((Box::new(BufReader::with_capacity(CHUNK, file)), len))
        }
    }
}

fn progress(common: &Common, len: Option<u64>) -> Option<indicatif::ProgressBar> {
    let show = match common.progress.as_str() {
        "always" => true,
        "never" => false,
        _ => !common.quiet && io::stderr().is_terminal() && len.is_none_or(|l| l >= PROGRESS_FROM),
    };
    if !show {
        return None;
    }
    let bar = match len {
        Some(l) => indicatif::ProgressBar::new(l),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bytes}/{total_bytes} {wide_bar} {binary_bytes_per_sec} {eta}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

fn copy(
    from: &mut dyn Read,
    to: &mut dyn Write,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<(), Failure> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_failure(e)),
        };
        to.write_all(&buf[..n]).map_err(io_failure)?;
        if let Some(bar) = bar {
            bar.inc(n as u64);
        }
    }
}

/// An I/O error, or the esdk error inside it, as a failure with its hint.
fn io_failure(e: io::Error) -> Failure {
    let inner = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<esdk::Error>());
    match inner {
        Some(error) => {
            let mut failure = Failure::input(chain(error));
            failure.hint = hint_for(error);
            failure
        }
        None => Failure::input(chain(&e)),
    }
}

fn esdk_failure(error: esdk::Error) -> Failure {
    let hint = hint_for(&error);
    let mut failure = Failure::input(chain(&error));
    failure.hint = hint;
    failure
}

/// Why a job stopped.
enum Stop {
    Failed(Failure),
    /// Decrypt: the message lacks a required context pair (nothing was written).
    ContextMismatch {
        header: Box<esdk::Header>,
        failure: Failure,
        missing_keys: Vec<String>,
        missing_pairs: Vec<(String, String)>,
    },
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Self {
        Stop::Failed(f)
    }
}

/// Runs one job; returns the message header for metadata.
fn process(setup: &Setup, job: &Job) -> Result<esdk::Header, Stop> {
    let (raw_input, len) = open_input(&job.input)?;
    let bar = progress(&setup.common, len);
    let mut input: Box<dyn Read> = if setup.common.decode {
        Box::new(base64::read::DecoderReader::new(
            SkipWhitespace(raw_input),
            &base64::engine::general_purpose::STANDARD,
        ))
    } else {
        raw_input
    };
    let mut staged = match &job.output {
        Output::File(target) => Some(Staged::create(target)?),
        Output::Stdout => None,
    };
    let base = match &mut staged {
        Some(s) => Sink::File(BufWriter::with_capacity(CHUNK, s.file()?)),
        None => Sink::Stdout(io::stdout()),
    };
    let header;
    let file;
    if setup.encrypt {
        let mut options = EncryptOptions::new().encryption_context(setup.context.clone());
        if let (Some(len), false) = (len, setup.common.decode) {
            options = options.plaintext_length(len);
        }
        let (sink, head) = encrypt_stream(setup, &options, &mut input, base, bar.as_ref())?;
        header = esdk::parse_header(&head)
            .map_err(esdk_failure)?
            .unauthenticated()
            .clone();
        file = sink;
    } else {
        let (sink, h) = decrypt_stream(
            setup,
            &mut input,
            base,
            bar.as_ref(),
            matches!(job.output, Output::Stdout),
        )?;
        header = h;
        file = sink;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let (Some(staged), Some(file)) = (staged, file) {
        staged.commit(file, setup.common.overwrite || setup.common.interactive)?;
    }
    Ok(header)
}

fn encoded(base: Sink, encode: bool) -> Sink {
    if encode {
        Sink::Encoded(Box::new(base64::write::EncoderWriter::new(
            Box::new(base),
            &base64::engine::general_purpose::STANDARD,
        )))
    } else {
        base
    }
}

/// Finishes a sink, including a base64 layer, and returns the file if it is one.
fn finish_sink(sink: Sink) -> Result<Option<File>, Failure> {
    match sink {
        Sink::Encoded(mut w) => {
            let inner: Box<Sink> = w.finish().map_err(io_failure)?;
            finish_sink(*inner)
        }
        Sink::File(w) => w
            .into_inner()
            .map(Some)
            .map_err(|e| io_failure(e.into_error())),
        Sink::Stdout(mut w) => w.flush().map(|()| None).map_err(io_failure),
    }
}

fn encrypt_stream(
    setup: &Setup,
    options: &EncryptOptions,
    input: &mut dyn Read,
    base: Sink,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<(Option<File>, Vec<u8>), Failure> {
    let tap = Tap {
        inner: encoded(base, setup.common.encode),
        head: Vec::new(),
    };
    let mut writer = EncryptingWriter::new(&setup.client, setup.source.key_source(), options, tap)
        .map_err(esdk_failure)?;
    copy(input, &mut writer, bar)?;
    let tap = writer.finish().map_err(esdk_failure)?;
    let file = finish_sink(tap.inner)?;
    Ok((file, tap.head))
}

fn decrypt_stream(
    setup: &Setup,
    input: &mut dyn Read,
    base: Sink,
    bar: Option<&indicatif::ProgressBar>,
    to_stdout: bool,
) -> Result<(Option<File>, esdk::Header), Stop> {
    let mut reader = DecryptingReader::new(
        &setup.client,
        setup.source.key_source(),
        &DecryptOptions::new(),
        input,
    )
    .map_err(esdk_failure)?;
    let header = reader
        .header()
        .cloned()
        .ok_or_else(|| Failure::input("the message header did not authenticate".into()))?;
    let mut missing_keys = Vec::new();
    let mut missing_pairs = Vec::new();
    for (key, value) in &setup.required {
        match (header.encryption_context().get(key), value) {
            (Some(found), Some(want)) if found == want => {}
            (Some(_), None) => {}
            (_, Some(want)) => missing_pairs.push((key.clone(), want.clone())),
            (None, None) => missing_keys.push(key.clone()),
        }
    }
    if !missing_keys.is_empty() || !missing_pairs.is_empty() {
        let listed: Vec<String> = missing_keys
            .iter()
            .cloned()
            .chain(missing_pairs.iter().map(|(k, v)| format!("{k}={v}")))
            .collect();
        return Err(Stop::ContextMismatch {
            header: Box::new(header),
            failure: Failure::input(format!(
                "the message's encryption context lacks {}",
                listed.join(", ")
            ))
            .with_hint("the message is not the one expected; nothing was written"),
            missing_keys,
            missing_pairs,
        });
    }
    let mut sink = encoded(base, setup.common.encode);
    if to_stdout && header.suite().is_signing() && !setup.common.buffer {
        if !setup.common.quiet {
            eprintln!(
                "esdk: warning: plaintext goes to stdout before the message's signature is \
                 verified (at its end); use --buffer to hold it until then"
            );
        }
        copy(&mut reader, &mut sink, bar)?;
    } else if to_stdout && setup.common.buffer {
        // --buffer: nothing reaches stdout until the whole message (and its signature)
        // verified.
        let mut all = Vec::new();
        copy(&mut reader, &mut all, bar)?;
        sink.write_all(&all).map_err(io_failure)?;
    } else {
        copy(&mut reader, &mut sink, bar)?;
    }
    let file = finish_sink(sink)?;
    Ok((file, header))
}
