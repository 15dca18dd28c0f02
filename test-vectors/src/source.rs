//! Where vector files are read from: a folder on disk or a `.zip` read in place.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Context, Result, VectorError};

/// File names a decrypt manifest may have, in order of preference.
pub const MANIFEST_NAMES: &[&str] = &[
    "manifest.json",
    "decrypt-manifest.json",
    "decrypt_message.json",
    "ciphertext.manifest",
];

/// A set of vector files: a folder or the members of a zip archive.
///
/// Paths are `/`-separated. In a folder they are file-system paths; in a zip they are member
/// names. Reading is thread-safe (a zip is read whole into memory when opened).
#[derive(Debug)]
pub struct VectorStore {
    label: String,
    kind: StoreKind,
}

#[derive(Debug)]
enum StoreKind {
    Dir,
    Zip(BTreeMap<String, Vec<u8>>),
}

/// A store and the path of the decrypt manifest inside it.
#[derive(Debug)]
pub struct Located {
    /// The files.
    pub store: VectorStore,
    /// The manifest's path inside the store.
    pub manifest: String,
}

impl VectorStore {
    /// Opens `path`: a manifest file, a folder holding one (directly or in `manifests/`), or a
    /// `.zip` holding one.
    ///
    /// # Errors
    /// When nothing is found there, or the zip cannot be read.
    pub fn locate(path: &Path) -> Result<Located> {
        let label = path.display().to_string();
        let meta = std::fs::metadata(path).with_context(|| format!("cannot open {label}"))?;
        if meta.is_dir() {
            let mut candidates: Vec<PathBuf> =
                MANIFEST_NAMES.iter().map(|n| path.join(n)).collect();
            candidates.push(path.join("manifests").join("ciphertext.manifest"));
            let manifest = candidates
                .into_iter()
                .find(|p| p.is_file())
                .with_context(|| {
                    format!(
                        "no decrypt manifest ({}) in folder {label}",
                        MANIFEST_NAMES.join(", ")
                    )
                })?;
            return Ok(Located {
                store: Self {
                    label,
                    kind: StoreKind::Dir,
                },
                manifest: path_string(&manifest),
            });
        }
        let is_zip = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        if is_zip {
            let files = read_zip(path).with_context(|| format!("reading zip {label}"))?;
            let manifest = files
                .keys()
                .filter(|name| {
                    let base = name.rsplit('/').next().unwrap_or(name);
                    MANIFEST_NAMES.contains(&base)
                })
                .min_by_key(|name| {
                    let base = name.rsplit('/').next().unwrap_or(name);
                    let rank = MANIFEST_NAMES.iter().position(|n| *n == base);
                    (name.matches('/').count(), rank)
                })
                .cloned()
                .with_context(|| {
                    format!(
                        "no decrypt manifest ({}) in zip {label}",
                        MANIFEST_NAMES.join(", ")
                    )
                })?;
            return Ok(Located {
                store: Self {
                    label,
                    kind: StoreKind::Zip(files),
                },
                manifest,
            });
        }
        Ok(Located {
            store: Self {
                label,
                kind: StoreKind::Dir,
            },
            manifest: path_string(path),
        })
    }

    /// A store of plain files, for callers that resolve paths themselves.
    pub fn files(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            kind: StoreKind::Dir,
        }
    }

    /// What was opened (the path given).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Reads the file at `path`.
    ///
    /// # Errors
    /// When it does not exist or cannot be read.
    pub fn read(&self, path: &str) -> Result<Vec<u8>> {
        match &self.kind {
            StoreKind::Dir => std::fs::read(path).with_context(|| format!("reading {path}")),
            StoreKind::Zip(files) => files
                .get(&normalize(path))
                .cloned()
                .with_context(|| format!("{path}: no such member in zip {}", self.label)),
        }
    }

    /// Whether a file exists at `path`.
    pub fn exists(&self, path: &str) -> bool {
        match &self.kind {
            StoreKind::Dir => Path::new(path).is_file(),
            StoreKind::Zip(files) => files.contains_key(&normalize(path)),
        }
    }
}

fn read_zip(path: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let file = std::fs::File::open(path).context("open")?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).context("zip")?;
    let mut files = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).context("zip entry")?;
        if entry.is_dir() {
            continue;
        }
        let name = normalize(entry.name());
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        entry
            .read_to_end(&mut bytes)
            .with_context(|| format!("member {name}"))?;
        files.insert(name, bytes);
    }
    Ok(files)
}

fn path_string(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The folder part of `path` (empty when there is none).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => "",
    }
}

/// Joins `rel` to the folder `base` and removes `.` and `..` segments.
pub fn join(base: &str, rel: &str) -> String {
    if rel.starts_with('/') || base.is_empty() {
        return normalize(rel);
    }
    normalize(&format!("{base}/{rel}"))
}

/// Resolves a manifest URI (`file://` relative to the folder `base`).
///
/// # Errors
/// For another URI scheme.
pub fn resolve_uri(base: &str, uri: &str) -> Result<String> {
    match uri.strip_prefix("file://") {
        Some(rel) => Ok(join(base, rel)),
        None if !uri.contains("://") => Ok(join(base, uri)),
        None => Err(VectorError::new(format!(
            "unsupported URI {uri:?} (only file:// is supported)"
        ))),
    }
}

fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_normalizes() {
        assert_eq!(join("a/b", "c"), "a/b/c");
        assert_eq!(join("a/b", "./c/../d"), "a/b/d");
        assert_eq!(
            join("/x/manifests", "../plaintext/small"),
            "/x/plaintext/small"
        );
        assert_eq!(join("", "ciphertexts/1"), "ciphertexts/1");
        assert_eq!(parent("/x/y/manifest.json"), "/x/y");
        assert_eq!(parent("manifest.json"), "");
        assert_eq!(
            resolve_uri("d", "file://keys.json").as_deref(),
            Ok("d/keys.json")
        );
        assert!(resolve_uri("d", "https://x/keys.json").is_err());
    }
}
