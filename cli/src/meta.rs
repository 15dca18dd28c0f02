//! `--metadata-output`: one JSON line per file, with aws-encryption-cli's field names and
//! encodings where the information is the same.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};

use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::args::Common;
use crate::Failure;

pub enum Metadata {
    None,
    Stdout,
    File(File),
}

impl Metadata {
    pub fn open(common: &Common) -> Result<Self, Failure> {
        match (&common.metadata_output, common.suppress_metadata) {
            (Some(_), true) => Err(Failure::usage(
                "--metadata-output and -S/--suppress-metadata do not go together".to_owned(),
            )),
            (None, _) => Ok(Metadata::None),
            (Some(path), false) if path == "-" => Ok(Metadata::Stdout),
            (Some(path), false) => {
                let mut options = OpenOptions::new();
                options.create(true);
                if common.overwrite_metadata {
                    options.write(true).truncate(true);
                } else {
                    options.append(true);
                }
                options
                    .open(path)
                    .map(Metadata::File)
                    .map_err(|e| Failure::input(format!("cannot open metadata file {path}: {e}")))
            }
        }
    }

    pub fn write(&mut self, line: &Value) -> Result<(), Failure> {
        let line = python_json(line);
        let result = match self {
            Metadata::None => return Ok(()),
            Metadata::Stdout => writeln!(io::stdout(), "{line}"),
            Metadata::File(f) => writeln!(f, "{line}"),
        };
        result.map_err(|e| Failure::input(format!("cannot write metadata: {e}")))
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The path made absolute and normalised as Python's `os.path.abspath` does (what
/// aws-encryption-cli writes): `.` and `..` resolved by name, symbolic links not followed.
/// `std::path::absolute` keeps `..` on Unix.
fn absolute(path: &str) -> String {
    if path.starts_with('<') {
        return path.to_owned();
    }
    let Ok(full) = std::path::absolute(path) else {
        return path.to_owned();
    };
    let mut normal = std::path::PathBuf::new();
    for part in full.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal.display().to_string()
}

/// The algorithm name as the Python SDK spells it (no `_NO_KDF` on the legacy suites).
pub fn python_name(suite: &esdk::suite::AlgorithmSuite) -> &'static str {
    suite.name.strip_suffix("_NO_KDF").unwrap_or(suite.name)
}

/// The header as aws-encryption-cli writes it.
pub fn header_json(header: &esdk::Header) -> Value {
    let suite = header.suite();
    let v1 = header.version() == esdk::suite::MessageFormatVersion::V1;
    let (content_type, frame_length) = match header.content_type() {
        esdk::header::ContentType::Framed { frame_length } => (2, frame_length.get()),
        _ => (1, 0),
    };
    // aws-encryption-cli lists encrypted data keys sorted by provider id, then key info.
    let mut keys: Vec<&esdk::materials::EncryptedDataKey> =
        header.encrypted_data_keys().iter().collect();
    keys.sort_by(|a, b| {
        (a.provider_id.as_bytes(), a.provider_info.as_slice())
            .cmp(&(b.provider_id.as_bytes(), b.provider_info.as_slice()))
    });
    let edks: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "encrypted_data_key": b64(&k.ciphertext),
                "key_provider": {
                    "key_info": b64(&k.provider_info),
                    "provider_id": b64(k.provider_id.as_bytes()),
                },
            })
        })
        .collect();
    let context: Map<String, Value> = header
        .encryption_context()
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "algorithm": python_name(suite),
        "commitment_key": header.commitment_key().map(b64),
        "content_type": content_type,
        "encrypted_data_keys": edks,
        "encryption_context": context,
        "frame_length": frame_length,
        "header_iv_length": if v1 { Some(12) } else { None },
        "message_id": b64(header.message_id()),
        "type": if v1 { Some(128) } else { None },
        "version": if v1 { "1.0" } else { "2.0" },
    })
}

/// One metadata line, as aws-encryption-cli writes it.
pub fn line(mode: &str, input: &str, output: &str, header: &esdk::Header) -> Value {
    let mut value = json!({
        "header": header_json(header),
        "input": absolute(input),
        "mode": mode,
        "output": absolute(output),
    });
    if mode != "encrypt" {
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "header_auth".into(),
                json!({"iv": b64(header.header_iv()), "tag": b64(header.auth_tag())}),
            );
        }
    }
    value
}

/// JSON as Python's `json.dumps(sort_keys=True)` writes it: keys sorted, `", "` and `": "`
/// separators, non-ASCII escaped as `\uXXXX`.
pub fn python_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(key, out);
                out.push_str(": ");
                if let Some(v) = map.get(key) {
                    write_value(v, out);
                }
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_are_normalised() {
        let cwd = std::env::current_dir().unwrap_or_default();
        let parent = cwd.parent().unwrap_or(&cwd).to_path_buf();
        assert_eq!(
            absolute("a/./b/../c"),
            cwd.join("a/c").display().to_string()
        );
        assert_eq!(absolute("../x"), parent.join("x").display().to_string());
        assert_eq!(absolute("/a/../../b/./c"), "/b/c");
        assert_eq!(absolute("<stdin>"), "<stdin>");
    }

    #[test]
    fn writes_json_as_python_does() {
        let v = json!({"b": [1, null, "é\u{1F600}"], "a": {"y": "q\"\\\n", "x": true}});
        assert_eq!(
            python_json(&v),
            r#"{"a": {"x": true, "y": "q\"\\\n"}, "b": [1, null, "\u00e9\ud83d\ude00"]}"#
        );
    }
}
