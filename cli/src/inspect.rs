//! `esdk inspect FILE`: a message's header, without any key.

use std::io::Read;

use crate::args::Inspect;
use crate::{chain, Failure};

/// Enough bytes for any header esdk reads by default (1 MiB) and its authentication.
const MAX_HEAD: u64 = 1024 * 1024 + 64 * 1024;

pub fn run(args: &Inspect) -> Result<(), Failure> {
    let mut head = Vec::new();
    let read = if args.file == "-" {
        std::io::stdin().take(MAX_HEAD).read_to_end(&mut head)
    } else {
        std::fs::File::open(&args.file).and_then(|f| f.take(MAX_HEAD).read_to_end(&mut head))
    };
    read.map_err(|e| Failure::input(format!("cannot read {}: {e}", args.file)))?;
    let parsed = esdk::parse_header(&head).map_err(|e| {
        Failure::input(format!("{}: {}", args.file, chain(&e)))
            .with_hint("the input is not an AWS Encryption SDK message, or it is truncated")
    })?;
    let header = parsed.unauthenticated();
    let suite = header.suite();
    if args.json {
        let mut value = crate::meta::header_json(header);
        if let Some(object) = value.as_object_mut() {
            object.insert("algorithm_id".into(), format!("0x{:04x}", suite.id).into());
            object.insert("signed".into(), suite.is_signing().into());
            object.insert("committing".into(), suite.is_committing().into());
            object.insert("header_length".into(), parsed.len().into());
            object.insert("authenticated".into(), false.into());
            let keys: Vec<serde_json::Value> = header
                .encrypted_data_keys()
                .iter()
                .map(|k| match std::str::from_utf8(&k.provider_info) {
                    Ok(text) if text.chars().all(|c| !c.is_control()) => serde_json::json!({
                        "provider_id": k.provider_id,
                        "key_info": text,
                    }),
                    // Binary key info (a raw keyring's name, tag length and IV): base64.
                    _ => serde_json::json!({
                        "provider_id": k.provider_id,
                        "key_info_base64": base64::Engine::encode(
                            &base64::engine::general_purpose::STANDARD,
                            &k.provider_info
                        ),
                    }),
                })
                .collect();
            object.insert("keys".into(), keys.into());
        }
        println!("{value}");
        return Ok(());
    }
    println!("message format: {:?}", header.version());
    println!("algorithm suite: 0x{:04x} {}", suite.id, suite.name);
    println!("signed: {}", if suite.is_signing() { "yes" } else { "no" });
    println!(
        "key commitment: {}",
        if suite.is_committing() { "yes" } else { "no" }
    );
    match header.content_type() {
        esdk::header::ContentType::Framed { frame_length } => {
            println!("content: framed, frame length {frame_length}")
        }
        _ => println!("content: non-framed"),
    }
    println!("encryption context:");
    for (k, v) in header.encryption_context().iter() {
        // Unauthenticated text from the file: control characters are shown escaped, never
        // sent to the terminal.
        println!("  {} = {}", printable(k), printable(v));
    }
    println!(
        "encrypted data keys: {}",
        header.encrypted_data_keys().len()
    );
    for k in header.encrypted_data_keys() {
        let info = match std::str::from_utf8(&k.provider_info) {
            Ok(text) if text.chars().all(|c| !c.is_control()) => text.to_owned(),
            _ => format!("{} bytes (binary)", k.provider_info.len()),
        };
        println!("  {}: {}", printable(&k.provider_id), printable(&info));
    }
    println!("(unauthenticated: only a key can authenticate the header)");
    Ok(())
}

/// `text` with control characters escaped (`\u{1b}` and so on).
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}
