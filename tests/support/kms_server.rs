//! A real KMS-compatible server for integration tests: moto (`moto_server`) on loopback.
//!
//! Include it from an integration test with
//! `#[path = "<relative path>/kms_server.rs"] mod kms_server;`. It uses only std and aws-sdk-kms
//! (its `config` re-exports for credentials, region, timeouts and interceptors), so it fits any
//! crate that has aws-sdk-kms as a dependency; the async helpers run on the tests' tokio runtime.
//!
//! How it works:
//! - [`venv`] makes (once per machine, shared by every test process) a Python venv holding moto
//!   and the Python AWS Encryption SDK with its material providers library, pinned by
//!   [`REQUIREMENTS`]. One venv serves the KMS server and the Python-SDK interop checks
//!   (`kms_roundtrip.py`, run with [`python`]).
//! - [`KmsServer::start`] runs `moto_server -H 127.0.0.1 -p PORT` under a small Python wrapper whose
//!   stdin is a pipe from this process. When the pipe closes (the server is stopped, dropped, or
//!   this process ends in any way, panic and abort included) the wrapper stops moto. On Linux moto
//!   also gets SIGKILL if the wrapper itself dies (`PR_SET_PDEATHSIG`).
//! - [`KmsServer::shared`] is one server per test process, started on first use (it blocks the
//!   calling thread for the ~0.3 s start, or the venv install on a new machine).
//! - [`skip_reason`]: `ESDK_KMS_TESTS=skip` turns the KMS server tests off; tests call it first.
//!
//! The server serves every region on one endpoint (moto reads the region from the SigV4
//! credential scope); [`KmsServer::config_in`] gives a client for another region.
//!
//! What moto 5.2.5 does differently from AWS KMS (details in FINDINGS.md):
//! - GenerateDataKey, Encrypt and Decrypt ignore the key state: a disabled key, or one pending
//!   deletion, still works.
//! - Decrypt with the wrong (existing) KeyId, or of bytes that name no key, answers
//!   AccessDeniedException (AWS: IncorrectKeyException, InvalidCiphertextException); a wrong
//!   encryption context answers InvalidCiphertextException, as AWS does. Those two carry no message.
//! - DisableKey, EnableKey, ScheduleKeyDeletion, CancelKeyDeletion and ReplicateKey given a key
//!   ARN fail with HTTP 500: the helpers here pass the bare key id ([`key_id_of`]).
//! - Decrypt never works for multi-Region keys (the key id is cut short inside moto's blob):
//!   [`KmsServer::shared_mrk_fixed`] runs moto with [`MOTO_MRK_FIX`], which mends that.
//!
//! Proxies: with `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` set, aws-sdk's default client sends even
//! loopback calls to the proxy unless `NO_PROXY` lists `127.0.0.1`; [`KmsServer::start`] then
//! fails with that reason rather than letting every call fail.
//!
//! Counting KMS requests: moto 5.2.5 has no per-service request counter. The nearest it has is the
//! request recorder (`POST /moto-api/recorder/start-recording`, then
//! `GET /moto-api/recorder/download-recording` returns one JSON line per request received since,
//! with its headers, so `X-Amz-Target: TrentService.<Operation>` names the KMS call). It is
//! server-wide, so on the shared server it mixes the requests of all tests running at once. Count
//! per client with [`KmsCallLog`] (an aws-sdk interceptor) instead; [`KmsServer::moto_api`]
//! reaches the recorder and the rest of `/moto-api/` (e.g. `POST /moto-api/reset`) when a test
//! needs it on a private server. Each server's recording file is a temporary file removed by
//! [`KmsServer::stop`].

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::error::DisplayErrorContext;

macro_rules! moto_version {
    () => {
        "5.2.5"
    };
}
macro_rules! py_esdk_version {
    () => {
        "4.0.7"
    };
}
macro_rules! py_mpl_version {
    () => {
        "1.11.3"
    };
}

/// The moto version the tests run against.
pub const MOTO_VERSION: &str = moto_version!();
/// The Python AWS Encryption SDK version installed beside it, for interop tests.
pub const PY_ESDK_VERSION: &str = py_esdk_version!();
/// The Python material providers library (the ESDK's `[MPL]` extra), pinned.
pub const PY_MPL_VERSION: &str = py_mpl_version!();
/// The pip requirements installed into the venv; also the exact content of its marker file.
pub const REQUIREMENTS: &str = concat!(
    "moto[server]==",
    moto_version!(),
    " aws-encryption-sdk[MPL]==",
    py_esdk_version!(),
    " aws-cryptographic-material-providers==",
    py_mpl_version!()
);
/// The region of [`KmsServer::config`] and [`KmsServer::client`].
pub const DEFAULT_REGION: &str = "us-west-2";
/// Set to `skip` to skip the tests that need the KMS server.
pub const SKIP_ENV: &str = "ESDK_KMS_TESTS";
/// The venv path override.
pub const VENV_ENV: &str = "ESDK_KMS_VENV";
/// The file in the venv that holds [`REQUIREMENTS`] once they are installed.
const MARKER: &str = "esdk-kms-requirements.txt";

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const READY_POLL: Duration = Duration::from_millis(50);
/// A lock whose heartbeat is older than this is taken to be left by a dead process.
const LOCK_STALE: Duration = Duration::from_secs(10 * 60);
const LOCK_WAIT: Duration = Duration::from_secs(20 * 60);
const LOCK_HEARTBEAT: Duration = Duration::from_secs(10);
const STDERR_TAIL_LINES: usize = 40;

/// `Some(reason)` when the KMS server tests are to be skipped (`ESDK_KMS_TESTS=skip`). Tests call
/// it first, print the reason and return.
pub fn skip_reason() -> Option<&'static str> {
    match std::env::var(SKIP_ENV) {
        Ok(v) if v == "skip" => Some("ESDK_KMS_TESTS=skip: KMS server tests skipped"),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The venv
// ---------------------------------------------------------------------------------------------

/// The venv path: `$ESDK_KMS_VENV`, or `${TMPDIR:-/tmp}/esdk-kms-venv-moto-<MOTO_VERSION>`.
pub fn venv_path() -> PathBuf {
    if let Some(p) = std::env::var_os(VENV_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let tmp = std::env::var_os("TMPDIR")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    tmp.join(format!("esdk-kms-venv-moto-{MOTO_VERSION}"))
}

fn venv_bin(venv: &Path, name: &str) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join(format!("{name}.exe"))
    } else {
        venv.join("bin").join(name)
    }
}

/// A venv: where, what to pip-install, and what must import afterwards.
pub struct VenvSpec {
    pub path: PathBuf,
    pub requirements: &'static str,
    pub imports: &'static str,
}

/// The KMS server's venv (moto and the Python ESDK).
pub fn kms_venv_spec() -> VenvSpec {
    VenvSpec {
        path: venv_path(),
        requirements: REQUIREMENTS,
        imports: "import moto, aws_encryption_sdk, aws_cryptographic_material_providers, boto3",
    }
}

/// aws-encryption-cli, pinned; in a venv of its own because it pins the 3.x Python ESDK.
pub const AWS_CLI_REQUIREMENTS: &str = "aws-encryption-sdk-cli==4.3.0";

/// The aws-encryption-cli venv: `$ESDK_AWSCLI_VENV` or `${TMPDIR:-/tmp}/esdk-awscli-venv-4.3.0`.
pub fn awscli_venv_spec() -> VenvSpec {
    let path = std::env::var_os("ESDK_AWSCLI_VENV")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("TMPDIR")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/tmp"))
                .join("esdk-awscli-venv-4.3.0")
        });
    VenvSpec {
        path,
        requirements: AWS_CLI_REQUIREMENTS,
        imports: "import aws_encryption_sdk_cli",
    }
}

/// The `aws-encryption-cli` program of its venv, installed on first use.
pub fn aws_encryption_cli() -> Result<PathBuf, String> {
    let spec = awscli_venv_spec();
    let venv = venv_with(&spec)?;
    Ok(venv_bin(&venv, "aws-encryption-cli"))
}

fn venv_ready(spec: &VenvSpec) -> bool {
    venv_bin(&spec.path, "python").is_file()
        && fs::read_to_string(spec.path.join(MARKER)).is_ok_and(|m| m == spec.requirements)
}

/// The venv with [`REQUIREMENTS`] installed, made or updated if its marker file does not hold
/// them. Safe to call from several processes at once (a lock directory `<venv>.lock` beside it).
/// The error is one line: Python missing or older than 3.11, venv or pip failing (with the end of
/// its stderr), or the lock not freed in time.
pub fn venv() -> Result<PathBuf, String> {
    venv_with(&kms_venv_spec())
}

/// The venv of `spec`, made or updated if its marker file does not hold its requirements.
pub fn venv_with(spec: &VenvSpec) -> Result<PathBuf, String> {
    let venv = spec.path.clone();
    if venv_ready(spec) {
        return Ok(venv);
    }
    if let Some(parent) = venv.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let lock = VenvLock::acquire(&venv)?;
    // Another process may have finished the install while this one waited.
    if venv_ready(spec) {
        return Ok(venv);
    }
    install(spec, &lock)?;
    drop(lock);
    Ok(venv)
}

/// The venv's Python (after [`venv`] has made it ready).
pub fn python() -> Result<PathBuf, String> {
    Ok(venv_bin(&venv()?, "python"))
}

fn install(spec: &VenvSpec, lock: &VenvLock) -> Result<(), String> {
    let venv = spec.path.as_path();
    let vpy = venv_bin(venv, "python");
    let works = vpy.is_file()
        && Command::new(&vpy)
            .args(["-c", "import sys"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !works {
        let base = std::env::var("PYTHON")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "python3".to_owned());
        check_python(&base)?;
        if venv.exists() {
            fs::remove_dir_all(venv)
                .map_err(|e| format!("cannot remove broken venv {}: {e}", venv.display()))?;
        }
        let out = Command::new(&base)
            .arg("-m")
            .arg("venv")
            .arg(venv)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{base} -m venv: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`{base} -m venv {}` failed ({}): {}",
                venv.display(),
                out.status,
                tail_one_line(&out.stderr, 4)
            ));
        }
    }
    let _ = fs::remove_file(venv.join(MARKER));
    let mut cmd = Command::new(&vpy);
    cmd.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
    ])
    .args(spec.requirements.split(' '));
    run_with_heartbeat(cmd, lock)
        .map_err(|e| format!("pip install {} failed: {e}", spec.requirements))?;
    let out = Command::new(&vpy)
        .args(["-c", spec.imports])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", vpy.display()))?;
    if !out.status.success() {
        return Err(format!(
            "the venv's packages do not import after pip install: {}",
            tail_one_line(&out.stderr, 3)
        ));
    }
    fs::write(venv.join(MARKER), spec.requirements)
        .map_err(|e| format!("cannot write {}: {e}", venv.join(MARKER).display()))
}

fn check_python(python: &str) -> Result<(), String> {
    let out = Command::new(python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "cannot run `{python}` ({e}): the KMS test server needs Python >= 3.11 (set PYTHON, \
                 or ESDK_KMS_TESTS=skip)"
            )
        })?;
    if !out.status.success() {
        return Err(format!(
            "`{python}` failed ({}): {}",
            out.status,
            tail_one_line(&out.stderr, 3)
        ));
    }
    let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) < (3, 11) {
        return Err(format!(
            "`{python}` is Python {v}; moto {MOTO_VERSION} with the Python ESDK's MPL needs >= 3.11 \
             (set PYTHON, or ESDK_KMS_TESTS=skip)"
        ));
    }
    Ok(())
}

/// Runs `cmd` to the end, refreshing the lock's heartbeat meanwhile; the error holds the exit
/// status and the last lines of stderr.
fn run_with_heartbeat(mut cmd: Command, lock: &VenvLock) -> Result<(), String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let mut beat = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        if beat.elapsed() >= LOCK_HEARTBEAT {
            lock.heartbeat();
            beat = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let err = reader.join().unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err(format!("{status}: {}", tail_one_line(&err, 5)))
    }
}

/// The last `n` non-empty lines of `bytes`, joined with " | ".
fn tail_one_line(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(n)..].join(" | ");
    if tail.is_empty() {
        "(no stderr)".to_owned()
    } else {
        tail
    }
}

/// `<venv>.lock`, made with an atomic `mkdir`; `heartbeat` in it is rewritten while the holder
/// works, and a lock whose heartbeat is older than [`LOCK_STALE`] is removed.
struct VenvLock {
    dir: PathBuf,
}

impl VenvLock {
    fn acquire(venv: &Path) -> Result<Self, String> {
        let mut name = venv.as_os_str().to_owned();
        name.push(".lock");
        let dir = PathBuf::from(name);
        let start = Instant::now();
        loop {
            match fs::create_dir(&dir) {
                Ok(()) => {
                    let lock = VenvLock { dir };
                    let _ = fs::write(lock.dir.join("owner"), std::process::id().to_string());
                    lock.heartbeat();
                    return Ok(lock);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(format!("cannot create lock {}: {e}", dir.display())),
            }
            let beat = fs::metadata(dir.join("heartbeat"))
                .or_else(|_| fs::metadata(&dir))
                .and_then(|m| m.modified())
                .ok();
            let age = beat.and_then(|t| SystemTime::now().duration_since(t).ok());
            if age.is_some_and(|a| a > LOCK_STALE) {
                let _ = fs::remove_dir_all(&dir);
                continue;
            }
            if start.elapsed() > LOCK_WAIT {
                let owner = fs::read_to_string(dir.join("owner")).unwrap_or_default();
                return Err(format!(
                    "timed out after {}s waiting for {} (held by pid {})",
                    LOCK_WAIT.as_secs(),
                    dir.display(),
                    owner.trim()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn heartbeat(&self) {
        let _ = fs::write(self.dir.join("heartbeat"), b"");
    }
}

impl Drop for VenvLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// Runs moto on argv[2]:argv[3] until stdin reaches EOF or a signal arrives; exits with moto's
/// status if moto stops by itself. moto's stdout goes to stderr. argv[4] is `stock` (run
/// `moto_server`, argv[1]) or `mrk-fixed` (run moto's server main after [`MOTO_MRK_FIX`]).
const WRAPPER: &str = r#"
import os, signal, subprocess, sys, threading

moto_server, host, port, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
if mode == "stock":
    argv = [moto_server, "-H", host, "-p", port]
else:
    argv = [sys.executable, "-c", sys.argv[5], "-H", host, "-p", port]

def die_with_parent():
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass

child = subprocess.Popen(
    argv,
    stdin=subprocess.DEVNULL,
    stdout=sys.stderr,
    preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
)
stopping = threading.Event()

def stop(*_):
    stopping.set()
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    os._exit(0)

def watch_stdin():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except Exception:
        pass
    stop()

signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
threading.Thread(target=watch_stdin, daemon=True).start()
rc = child.wait()
if not stopping.is_set():
    sys.stderr.write("esdk kms wrapper: moto exited with status %s\n" % rc)
    sys.stderr.flush()
    os._exit(rc if rc > 0 else 1)
stopping.wait()
"#;

/// moto 5.2.5 stores the key id in a fixed 36-byte field at the head of its ciphertext blobs; a
/// multi-Region key id (`mrk-` + a 36-character UUID) is 40 characters, is cut to 36, and so
/// Decrypt of anything a multi-Region key wrapped fails (AccessDeniedException). This widens
/// the field to 40 bytes (shorter ids are NUL-padded, and the padding is stripped on read) and
/// then runs moto's server. Blobs get 4 bytes longer; nothing else changes. It refuses to run on
/// another moto version.
pub const MOTO_MRK_FIX: &str = r#"
import sys
import moto
import moto.kms.utils as u
if moto.__version__ != "5.2.5" or u.KEY_ID_LEN != 36:
    sys.exit("esdk kms: the MRK blob fix is written for moto 5.2.5, not %s" % moto.__version__)
u.KEY_ID_LEN = 40
u.HEADER_LEN = u.KEY_ID_LEN + u.IV_LEN + u.TAG_LEN
u.CIPHERTEXT_HEADER_FORMAT = ">%ds%ds%ds" % (u.KEY_ID_LEN, u.IV_LEN, u.TAG_LEN)
_deserialize = u._deserialize_ciphertext_blob
def _deserialize_stripped(ciphertext_blob):
    c = _deserialize(ciphertext_blob=ciphertext_blob)
    return c._replace(key_id=c.key_id.rstrip("\x00"))
u._deserialize_ciphertext_blob = _deserialize_stripped
from moto.server import main
main(sys.argv[1:])
"#;

/// Which moto to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moto {
    /// The venv's `moto_server`, unchanged.
    Stock,
    /// moto with [`MOTO_MRK_FIX`]: Decrypt works for multi-Region keys.
    MrkFixed,
}

/// A moto server on 127.0.0.1, stopped when dropped (or when this process ends).
#[derive(Debug)]
pub struct KmsServer {
    port: u16,
    region: String,
    moto: Moto,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    recording: PathBuf,
}

static SHARED: OnceLock<Result<KmsServer, String>> = OnceLock::new();
static SHARED_MRK_FIXED: OnceLock<Result<KmsServer, String>> = OnceLock::new();

impl KmsServer {
    /// Starts stock moto (making the venv first if needed) and waits until it answers, up to
    /// 60 s.
    pub fn start() -> Result<KmsServer, String> {
        Self::start_with(DEFAULT_REGION, Moto::Stock)
    }

    /// [`start`](Self::start), with `region` for [`config`](Self::config) and
    /// [`client`](Self::client).
    pub fn start_in(region: &str) -> Result<KmsServer, String> {
        Self::start_with(region, Moto::Stock)
    }

    /// Starts moto with [`MOTO_MRK_FIX`] (for tests that decrypt with multi-Region keys).
    pub fn start_mrk_fixed() -> Result<KmsServer, String> {
        Self::start_with(DEFAULT_REGION, Moto::MrkFixed)
    }

    /// Starts `moto` for clients in `region`.
    pub fn start_with(region: &str, moto: Moto) -> Result<KmsServer, String> {
        if let Some(problem) = proxy_problem() {
            return Err(problem);
        }
        let venv = venv()?;
        // A free port can be taken between our probe and moto's bind: try a few.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port()?;
            match Self::spawn(&venv, port, region, moto) {
                Ok(server) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The stock moto server shared by every test in this process, started on first use. It is
    /// never stopped explicitly: it ends with the process (the wrapper's stdin pipe closes).
    ///
    /// Panics, with the reason, when the server cannot start (a test-setup failure), and when
    /// `ESDK_KMS_TESTS=skip` is set (call [`skip_reason`] first).
    pub fn shared() -> &'static KmsServer {
        Self::shared_from(&SHARED, Moto::Stock)
    }

    /// [`shared`](Self::shared), for moto with [`MOTO_MRK_FIX`] (a second server).
    pub fn shared_mrk_fixed() -> &'static KmsServer {
        Self::shared_from(&SHARED_MRK_FIXED, Moto::MrkFixed)
    }

    fn shared_from(
        cell: &'static OnceLock<Result<KmsServer, String>>,
        moto: Moto,
    ) -> &'static KmsServer {
        if let Some(reason) = skip_reason() {
            panic!(
                "{reason}; KmsServer::shared() called anyway: call kms_server::skip_reason() first"
            );
        }
        match cell.get_or_init(|| KmsServer::start_with(DEFAULT_REGION, moto)) {
            Ok(server) => server,
            Err(e) => panic!(
                "test setup: cannot start the KMS test server (moto {MOTO_VERSION}): {e}\n\
                 (set ESDK_KMS_TESTS=skip to skip the KMS server tests)"
            ),
        }
    }

    fn spawn(venv: &Path, port: u16, region: &str, moto: Moto) -> Result<KmsServer, String> {
        let vpy = venv_bin(venv, "python");
        let moto_server = venv_bin(venv, "moto_server");
        let recording = std::env::temp_dir().join(format!(
            "esdk-kms-moto-recording-{}-{port}.jsonl",
            std::process::id()
        ));
        let t0 = Instant::now();
        let mut cmd = Command::new(&vpy);
        cmd.arg("-c")
            .arg(WRAPPER)
            .arg(&moto_server)
            .arg("127.0.0.1")
            .arg(port.to_string());
        match moto {
            Moto::Stock => cmd.arg("stock"),
            Moto::MrkFixed => cmd.arg("mrk-fixed").arg(MOTO_MRK_FIX),
        };
        let mut child = cmd
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            // Where moto's request recorder (off unless started) writes; removed by stop().
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", vpy.display()))?;
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(err) = child.stderr.take() {
            let tail = Arc::clone(&stderr_tail);
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines() {
                    let Ok(line) = line else { break };
                    let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                    if t.len() == STDERR_TAIL_LINES {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            });
        }
        let stdin = child.stdin.take();
        let mut server = KmsServer {
            port,
            region: region.to_owned(),
            moto,
            child: Some(child),
            stdin,
            stderr_tail,
            recording,
        };
        loop {
            if let Some(Some(status)) = server.child.as_mut().map(|c| c.try_wait().ok().flatten()) {
                // Give the reader a moment to collect the last lines.
                std::thread::sleep(Duration::from_millis(100));
                let tail = server.stderr_tail(12);
                server.child = None;
                return Err(format!(
                    "moto_server on port {port} exited ({status}) before it was ready\n\
                     --- its stderr, last lines ---\n{tail}"
                ));
            }
            if matches!(server.http("GET", "/moto-api/"), Ok((200, _))) {
                return Ok(server);
            }
            if t0.elapsed() > READY_TIMEOUT {
                let tail = server.stderr_tail(12);
                server.stop();
                return Err(format!(
                    "moto_server on port {port} not ready (GET /moto-api/ -> 200) after {}s\n\
                     --- its stderr, last lines ---\n{tail}",
                    READY_TIMEOUT.as_secs()
                ));
            }
            std::thread::sleep(READY_POLL);
        }
    }

    /// Which moto this is.
    pub fn moto(&self) -> Moto {
        self.moto
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The region of [`config`](Self::config); `us-west-2` unless started with
    /// [`start_in`](Self::start_in).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// A KMS client config for this server in [`region`](Self::region).
    pub fn config(&self) -> aws_sdk_kms::Config {
        sdk_config(&self.endpoint_url(), &self.region)
    }

    /// A KMS client config for this server in `region` (the server serves every region).
    pub fn config_in(&self, region: &str) -> aws_sdk_kms::Config {
        sdk_config(&self.endpoint_url(), region)
    }

    /// A client for this server in [`region`](Self::region). Make one per test: a client keeps
    /// connections tied to the tokio runtime it first ran on, and each `#[tokio::test]` has its
    /// own runtime.
    pub fn client(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::from_conf(self.config())
    }

    /// A client for this server in `region`.
    pub fn client_in(&self, region: &str) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::from_conf(self.config_in(region))
    }

    /// The last `n` lines moto (and its wrapper) wrote to stderr: one line per request, errors.
    pub fn stderr_tail(&self, n: usize) -> String {
        let t = self.stderr_tail.lock().unwrap_or_else(|p| p.into_inner());
        let skip = t.len().saturating_sub(n);
        t.iter().skip(skip).cloned().collect::<Vec<_>>().join("\n")
    }

    /// A plain HTTP/1.0 request to the server (for `/moto-api/...`: reset, recorder, data.json):
    /// the status and the body.
    pub fn moto_api(&self, method: &str, path: &str) -> Result<(u16, String), String> {
        self.http(method, path)
    }

    fn http(&self, method: &str, path: &str) -> Result<(u16, String), String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1))
            .map_err(|e| format!("connect {addr}: {e}"))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        s.set_write_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\r\n",
            self.port
        )
        .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&buf);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| {
                format!(
                    "not an HTTP response: {:?}",
                    text.chars().take(80).collect::<String>()
                )
            })?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Ok((status, body))
    }

    /// Stops moto and waits for it: closes the wrapper's stdin (the wrapper stops moto, SIGTERM
    /// then SIGKILL after 5 s), and kills the wrapper if it has not exited within 10 s.
    /// Idempotent.
    pub fn stop(&mut self) {
        drop(self.stdin.take());
        if let Some(mut child) = self.child.take() {
            let t0 = Instant::now();
            let mut exited = false;
            while t0.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) | Err(_) = child.try_wait() {
                    exited = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if !exited {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = fs::remove_file(&self.recording);
    }
}

impl Drop for KmsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// aws-sdk-kms's default HTTP client (BehaviorVersion 2025-08-07 and later) sends requests
/// through `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` unless `NO_PROXY` matches the host, and
/// loopback is not exempt: with a proxy set and `127.0.0.1` not in `NO_PROXY`, every KMS call
/// to the test server would go to the proxy. Say so instead of failing obscurely.
fn proxy_problem() -> Option<String> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
    let proxy = [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .into_iter()
    .find(|n| var(n).is_some())?;
    let no_proxy = var("NO_PROXY")
        .or_else(|| var("no_proxy"))
        .unwrap_or_default();
    let exempt = no_proxy
        .split(',')
        .map(str::trim)
        .any(|r| r == "*" || r == "127.0.0.1" || r == "127.0.0.0/8");
    if exempt {
        None
    } else {
        Some(format!(
            "{proxy} is set and NO_PROXY does not list 127.0.0.1: the aws-sdk client would send the \
             test server's KMS calls to the proxy; add 127.0.0.1 to NO_PROXY (or unset {proxy})"
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind 127.0.0.1:0: {e}"))?;
    let port = l.local_addr().map_err(|e| e.to_string())?.port();
    drop(l);
    Ok(port)
}

// ---------------------------------------------------------------------------------------------
// Client config and helpers
// ---------------------------------------------------------------------------------------------

/// A KMS client config for `endpoint` in `region`: static dummy credentials (`testing` /
/// `testing`), `BehaviorVersion::latest()`, connect timeout 2 s, operation attempt timeout 10 s,
/// default (standard, 3 attempts) retries.
pub fn sdk_config(endpoint: &str, region: &str) -> aws_sdk_kms::Config {
    aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "esdk-kms-tests",
        ))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(10))
                .build(),
        )
        .build()
}

/// Creates a symmetric encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT); returns its ARN.
pub async fn create_key(client: &aws_sdk_kms::Client) -> String {
    create_key_with(client, false).await
}

/// Creates a multi-Region symmetric encryption key; returns its ARN. moto's is
/// `arn:aws:kms:REGION:123456789012:key/mrk-<UUID with dashes>` (AWS's is `mrk-<32 hex>`).
/// Stock moto 5.2.5 cannot Decrypt what such a key wrapped: use [`KmsServer::shared_mrk_fixed`].
pub async fn create_mrk(client: &aws_sdk_kms::Client) -> String {
    create_key_with(client, true).await
}

async fn create_key_with(client: &aws_sdk_kms::Client, multi_region: bool) -> String {
    use aws_sdk_kms::types::{KeySpec, KeyUsageType};
    let out = client
        .create_key()
        .key_spec(KeySpec::SymmetricDefault)
        .key_usage(KeyUsageType::EncryptDecrypt)
        .multi_region(multi_region)
        .description("esdk integration test key")
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "test setup: KMS CreateKey failed: {}",
                DisplayErrorContext(&e)
            )
        });
    match out.key_metadata().and_then(|m| m.arn()) {
        Some(arn) => arn.to_owned(),
        None => panic!("test setup: KMS CreateKey returned no key ARN: {out:?}"),
    }
}

/// Creates the alias `alias_name` (`alias/` is added when missing) for `key_id`; returns the
/// alias ARN (`arn:aws:kms:REGION:ACCOUNT:alias/NAME`, as ListAliases reports it).
pub async fn create_alias(client: &aws_sdk_kms::Client, alias_name: &str, key_id: &str) -> String {
    let name = if alias_name.starts_with("alias/") {
        alias_name.to_owned()
    } else {
        format!("alias/{alias_name}")
    };
    client
        .create_alias()
        .alias_name(&name)
        .target_key_id(key_id)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "test setup: KMS CreateAlias {name} failed: {}",
                DisplayErrorContext(&e)
            )
        });
    let aliases = client
        .list_aliases()
        .key_id(key_id)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "test setup: KMS ListAliases failed: {}",
                DisplayErrorContext(&e)
            )
        });
    aliases
        .aliases()
        .iter()
        .find(|a| a.alias_name() == Some(name.as_str()))
        .and_then(|a| a.alias_arn())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("test setup: alias {name} not listed after CreateAlias"))
}

/// The key id in a key ARN (`arn:...:key/ID` -> `ID`); anything else is returned as it is.
///
/// moto 5.2.5 answers DisableKey, EnableKey, ScheduleKeyDeletion, CancelKeyDeletion and
/// ReplicateKey given a key ARN with HTTP 500 (a KeyError inside moto): pass the bare key id, as
/// the helpers below do. The data-plane calls (GenerateDataKey, Encrypt, Decrypt, DescribeKey)
/// take ARNs.
pub fn key_id_of(key: &str) -> &str {
    match key.split_once(":key/") {
        Some((_, id)) if key.starts_with("arn:") => id,
        _ => key,
    }
}

/// DisableKey (by bare key id, see [`key_id_of`]).
pub async fn disable_key(client: &aws_sdk_kms::Client, key: &str) {
    client
        .disable_key()
        .key_id(key_id_of(key))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "test setup: KMS DisableKey failed: {}",
                DisplayErrorContext(&e)
            )
        });
}

/// EnableKey (by bare key id, see [`key_id_of`]).
pub async fn enable_key(client: &aws_sdk_kms::Client, key: &str) {
    client
        .enable_key()
        .key_id(key_id_of(key))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "test setup: KMS EnableKey failed: {}",
                DisplayErrorContext(&e)
            )
        });
}

/// ScheduleKeyDeletion in 7 days (by bare key id, see [`key_id_of`]): the key goes to
/// PendingDeletion.
pub async fn schedule_key_deletion(client: &aws_sdk_kms::Client, key: &str) {
    client
        .schedule_key_deletion()
        .key_id(key_id_of(key))
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "test setup: KMS ScheduleKeyDeletion failed: {}",
                DisplayErrorContext(&e)
            )
        });
}

/// Replicates the multi-Region key `key` (ARN or id) into `replica_region`; returns the
/// replica's ARN (the same key id, in `replica_region`).
pub async fn replicate_key(
    client: &aws_sdk_kms::Client,
    key: &str,
    replica_region: &str,
) -> String {
    let out = client
        .replicate_key()
        .key_id(key_id_of(key))
        .replica_region(replica_region)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "test setup: KMS ReplicateKey failed: {}",
                DisplayErrorContext(&e)
            )
        });
    match out.replica_key_metadata().and_then(|m| m.arn()) {
        Some(arn) => arn.to_owned(),
        None => panic!("test setup: KMS ReplicateKey returned no replica ARN: {out:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Counting requests
// ---------------------------------------------------------------------------------------------

/// An interceptor that records the KMS operation of every HTTP attempt a client makes (retries
/// included), from its `X-Amz-Target` header (`TrentService.GenerateDataKey` -> `GenerateDataKey`).
/// Clones share one log. Add it with
/// `config.to_builder().interceptor(log.clone()).build()`.
#[derive(Debug, Clone, Default)]
pub struct KmsCallLog {
    calls: Arc<Mutex<Vec<String>>>,
    requests: Arc<Mutex<Vec<String>>>,
    timeouts: Arc<Mutex<Vec<Option<Duration>>>>,
}

impl KmsCallLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// The operations attempted, in order.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many attempts of `operation` (e.g. "Decrypt").
    pub fn count(&self, operation: &str) -> usize {
        self.calls().iter().filter(|c| *c == operation).count()
    }

    /// How many attempts in all.
    pub fn total(&self) -> usize {
        self.calls().len()
    }

    pub fn clear(&self) {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The operation timeout each call ran with (after per-request overrides).
    pub fn operation_timeouts(&self) -> Vec<Option<Duration>> {
        self.timeouts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Each GenerateDataKey, Encrypt and Decrypt call (once per call, not per attempt) as
    /// `"Operation KeyId"` (`-` when the request has no KeyId).
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `config` with this log's interceptor added.
    pub fn attach(&self, config: &aws_sdk_kms::Config) -> aws_sdk_kms::Config {
        config.to_builder().interceptor(self.clone()).build()
    }
}

impl aws_sdk_kms::config::Intercept for KmsCallLog {
    fn name(&self) -> &'static str {
        "KmsCallLog"
    }

    fn read_before_execution(
        &self,
        context: &aws_sdk_kms::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut aws_sdk_kms::config::ConfigBag,
    ) -> Result<(), aws_sdk_kms::error::BoxError> {
        use aws_sdk_kms::operation::{
            decrypt::DecryptInput, encrypt::EncryptInput, generate_data_key::GenerateDataKeyInput,
        };
        let input = context.input();
        let entry = if let Some(i) = input.downcast_ref::<DecryptInput>() {
            Some(("Decrypt", i.key_id()))
        } else if let Some(i) = input.downcast_ref::<EncryptInput>() {
            Some(("Encrypt", i.key_id()))
        } else {
            input
                .downcast_ref::<GenerateDataKeyInput>()
                .map(|i| ("GenerateDataKey", i.key_id()))
        };
        if let Some((op, key)) = entry {
            self.requests
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(format!("{op} {}", key.unwrap_or("-")));
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_kms::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_kms::config::RuntimeComponents,
        cfg: &mut aws_sdk_kms::config::ConfigBag,
    ) -> Result<(), aws_sdk_kms::error::BoxError> {
        let timeout = cfg
            .load::<TimeoutConfig>()
            .and_then(|t| t.operation_timeout());
        self.timeouts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(timeout);
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("?");
        let op = target.rsplit('.').next().unwrap_or(target).to_owned();
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(op);
        Ok(())
    }
}
