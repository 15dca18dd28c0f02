//! Where the tests find vectors, and when a missing folder is a failure.
//!
//! - The full public vectors: `$ESDK_TEST_VECTORS`, or `shared/test-vectors` beside the
//!   repository root (`../shared/test-vectors` from the root). When that folder is missing the
//!   tests that need it skip, saying why, unless `ESDK_REQUIRE_VECTORS` is set (to anything but
//!   empty or `0`; `.ci/run` sets it to `1`) or `ESDK_TEST_VECTORS` names the missing folder:
//!   then they fail. The generic `CI` variable plays no part, so a fork's CI without the
//!   vectors passes.
//! - The vendored subset, [`vendored_dir`]: part of the repository, always there.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Names the folder of the full public vectors.
pub const VECTORS_DIR_VAR: &str = "ESDK_TEST_VECTORS";
/// Set (to `1`) to make a missing vectors folder a test failure instead of a skip.
pub const REQUIRE_VECTORS_VAR: &str = "ESDK_REQUIRE_VECTORS";

/// `shared/test-vectors` beside the repository root (where CI and every developer have it).
pub fn default_shared_dir() -> PathBuf {
    let test_vectors = Path::new(env!("CARGO_MANIFEST_DIR"));
    match test_vectors.parent().and_then(Path::parent) {
        // The folder that holds the repository, so messages show a plain path.
        Some(beside_repo) => beside_repo.join("shared/test-vectors"),
        None => test_vectors.join("../../shared/test-vectors"),
    }
}

/// The subset of the public vectors vendored in this repository (`test-vectors/vendored`).
pub fn vendored_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vendored")
}

/// What [`locate_shared_vectors`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedVectors {
    /// The folder exists.
    Found(PathBuf),
    /// Missing and not required: skip, for this reason.
    Skip(String),
    /// Missing but required: fail, for this reason.
    Missing(String),
}

/// Whether a value of `ESDK_REQUIRE_VECTORS` turns the requirement on.
pub fn is_required(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}

/// The rule, given the values of `ESDK_TEST_VECTORS` and `ESDK_REQUIRE_VECTORS`.
pub fn locate_shared_vectors(
    dir_var: Option<&OsStr>,
    require_var: Option<&OsStr>,
) -> SharedVectors {
    let (dir, from_env) = match dir_var {
        Some(dir) if !dir.is_empty() => (PathBuf::from(dir), true),
        _ => (default_shared_dir(), false),
    };
    if dir.is_dir() {
        return SharedVectors::Found(dir.canonicalize().unwrap_or(dir));
    }
    let shown = dir.display();
    if is_required(require_var) {
        SharedVectors::Missing(format!(
            "the public test vectors are required ({REQUIRE_VECTORS_VAR} is set) but were not found at {shown}; \
             put them there, set {VECTORS_DIR_VAR}=DIR, or unset {REQUIRE_VECTORS_VAR} to skip these tests"
        ))
    } else if from_env {
        SharedVectors::Missing(format!(
            "{VECTORS_DIR_VAR} names {shown}, which is not a folder"
        ))
    } else {
        SharedVectors::Skip(format!(
            "public test vectors not found at {shown} (set {VECTORS_DIR_VAR}=DIR; \
             {REQUIRE_VECTORS_VAR}=1 makes this a failure); the vendored subset still runs"
        ))
    }
}

/// For tests: the full public vectors folder, or `None` after printing `skipped: <reason>`.
///
/// # Panics
/// When the folder is missing but required (see the module documentation).
#[allow(clippy::panic)]
pub fn shared_vectors_or_skip() -> Option<PathBuf> {
    let dir_var = std::env::var_os(VECTORS_DIR_VAR);
    let require_var = std::env::var_os(REQUIRE_VECTORS_VAR);
    match locate_shared_vectors(dir_var.as_deref(), require_var.as_deref()) {
        SharedVectors::Found(dir) => Some(dir),
        SharedVectors::Skip(reason) => {
            println!("skipped: {reason}");
            None
        }
        SharedVectors::Missing(reason) => panic!("{reason}"),
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn requirement_values() {
        assert!(!is_required(None));
        assert!(!is_required(Some(OsStr::new(""))));
        assert!(!is_required(Some(OsStr::new("0"))));
        assert!(is_required(Some(OsStr::new("1"))));
        assert!(is_required(Some(OsStr::new("true"))));
    }

    #[test]
    fn missing_folder() {
        let nowhere = OsStr::new("/nonexistent/esdk-test-vectors");
        assert!(matches!(
            locate_shared_vectors(Some(nowhere), None),
            SharedVectors::Missing(_)
        ));
        assert!(matches!(
            locate_shared_vectors(Some(nowhere), Some(OsStr::new("1"))),
            SharedVectors::Missing(m) if m.contains(REQUIRE_VECTORS_VAR)
        ));
        let here = vendored_dir();
        assert_eq!(
            locate_shared_vectors(Some(here.as_os_str()), Some(OsStr::new("1"))),
            SharedVectors::Found(here.canonicalize().unwrap_or(here))
        );
        // Without ESDK_TEST_VECTORS the answer depends on the default folder.
        match locate_shared_vectors(None, None) {
            SharedVectors::Found(dir) => assert!(dir.is_dir()),
            SharedVectors::Skip(reason) => assert!(reason.contains(VECTORS_DIR_VAR)),
            SharedVectors::Missing(m) => panic!("not required, yet: {m}"),
        }
        if !default_shared_dir().is_dir() {
            assert!(matches!(
                locate_shared_vectors(None, Some(OsStr::new("1"))),
                SharedVectors::Missing(_)
            ));
        }
    }
}
