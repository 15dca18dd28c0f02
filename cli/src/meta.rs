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

    pub fn is_stdout(&self) -> bool {
        matches!(self, Metadata::Stdout)
    }

    pub fn write(
        &mut self,
        encrypt: bool,
        input: &str,
        output: &str,
        header: &esdk::Header,
    ) -> Result<(), Failure> {
        let line = line(encrypt, input, output, header);
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

fn absolute(path: &str) -> String {
    if path.starts_with('<') {
        return path.to_owned();
    }
    std::path::absolute(path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_owned())
}

/// The header as aws-encryption-cli writes it.
pub fn header_json(header: &esdk::Header) -> Value {
    let suite = header.suite();
    let (content_type, frame_length) = match header.content_type() {
        esdk::header::ContentType::Framed { frame_length } => (2, frame_length.get()),
        _ => (1, 0),
    };
    let edks: Vec<Value> = header
        .encrypted_data_keys()
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
    let version = match header.version() {
        esdk::suite::MessageFormatVersion::V1 => "1.0",
        _ => "2.0",
    };
    json!({
        "algorithm": suite.name,
        "content_type": content_type,
        "encrypted_data_keys": edks,
        "encryption_context": context,
        "frame_length": frame_length,
        "message_id": b64(header.message_id()),
        "version": version,
    })
}

fn line(encrypt: bool, input: &str, output: &str, header: &esdk::Header) -> Value {
    json!({
        "header": header_json(header),
        "input": absolute(input),
        "mode": if encrypt { "encrypt" } else { "decrypt" },
        "output": absolute(output),
    })
}
