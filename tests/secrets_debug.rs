//! `Debug` of every public type that holds a secret (wrapping keys, data keys, signing keys,
//! content keys, plaintext) must not show it: not in hex, not as a list of numbers, not in
//! base64, and for RSA not the PEM/DER of the key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::sync::Arc;

use common::*;
use esdk::cmm::RequiredEncryptionContextMaterialsManager;
use esdk::keyring::MaterialsFuture;
use esdk::materials::{
    DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, SigningKey,
};
use esdk::stream::io::{DecryptingReader, EncryptingWriter};
use esdk::stream::{Decryptor, Encryptor};
use esdk::suite::SignatureAlgorithm;
use esdk::{
    suite, Client, DefaultMaterialsManager, EncryptionContext, Keyring, MaterialsManager,
    MultiKeyring, RawAesKeyring, RawRsaKeyring, RsaPadding,
};

fn base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
        if pad {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64_decode(text: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = STANDARD.iter().position(|x| *x == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// Every way `secret` could show up in a `Debug` string.
fn forms(secret: &[u8]) -> Vec<String> {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut forms = vec![
        hex(secret),
        hex(secret).to_uppercase(),
        base64(secret, STANDARD, true),
        base64(secret, STANDARD, false),
        base64(secret, URL_SAFE, false),
        // A stable prefix of the base64, in case only part of the key is shown.
        base64(&secret[..secret.len().min(12)], STANDARD, false),
    ];
    for w in secret.windows(4) {
        forms.push(hex(w));
        forms.push(hex(w).to_uppercase());
        // `{:?}` and `{:x?}` of bytes, with whitespace removed (covers `{:#?}`).
        forms.push(w.iter().map(u8::to_string).collect::<Vec<_>>().join(","));
        forms.push(
            w.iter()
                .map(|x| format!("{x:x}"))
                .collect::<Vec<_>>()
                .join(","),
        );
        forms.push(
            w.iter()
                .map(|x| format!("{x:#04x}"))
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    forms
}

/// The longest run of comma-separated numbers and the longest run of hex digits.
fn longest_runs(s: &str) -> (usize, usize) {
    let (mut numbers, mut best_numbers) = (0usize, 0usize);
    for token in s.split(',') {
        let digits = token
            .trim_start_matches(['[', '('])
            .trim_end_matches([']', ')']);
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_hexdigit() || c == 'x') {
            numbers += 1;
            best_numbers = best_numbers.max(numbers);
        } else {
            numbers = 0;
        }
    }
    let (mut hex, mut best_hex) = (0usize, 0usize);
    for c in s.chars() {
        if c.is_ascii_hexdigit() {
            hex += 1;
            best_hex = best_hex.max(hex);
        } else {
            hex = 0;
        }
    }
    (best_numbers, best_hex)
}

fn debug_forms(value: &impl std::fmt::Debug) -> [(String, String); 2] {
    [format!("{value:?}"), format!("{value:#?}")].map(|debug| {
        let compact: String = debug.chars().filter(|c| !c.is_whitespace()).collect();
        (debug, compact)
    })
}

/// `{:?}` and `{:#?}` of `value` show none of `secrets`.
fn assert_hides(what: &str, value: &impl std::fmt::Debug, secrets: &[&[u8]]) {
    for (debug, compact) in debug_forms(value) {
        for secret in secrets {
            for form in forms(secret) {
                assert!(
                    !compact.contains(&form),
                    "{what}: Debug shows the secret as {form:?}: {debug}"
                );
            }
        }
    }
}

/// `{:?}` and `{:#?}` of `value` show no byte dump at all (for types whose only bytes are
/// secret: a key of unknown value, such as a generated signing key, is caught this way).
fn assert_no_dump(what: &str, value: &impl std::fmt::Debug) {
    for (debug, compact) in debug_forms(value) {
        let (numbers, hex) = longest_runs(&compact);
        assert!(
            numbers < 8,
            "{what}: Debug has a list of {numbers} numbers: {debug}"
        );
        assert!(
            hex < 16,
            "{what}: Debug has a run of {hex} hex digits: {debug}"
        );
    }
}

const KEY_AB: [u8; 32] = [0xab; 32];

/// A keyring that uses a data key the test knows, so its absence from `Debug` can be checked
/// (for suites without key derivation it is also the content key).
#[derive(Debug)]
struct KnownDataKey(Vec<u8>);

impl Keyring for KnownDataKey {
    fn on_encrypt<'a>(
        &'a self,
        mut materials: EncryptionMaterials,
    ) -> MaterialsFuture<'a, esdk::Result<EncryptionMaterials>> {
        MaterialsFuture::new(async move {
            let key = self.0[..materials.suite.key_len].to_vec();
            materials.data_key = Some(DataKey::new(key));
            materials.encrypted_data_keys.push(EncryptedDataKey {
                provider_id: "known".into(),
                provider_info: b"known".to_vec(),
                ciphertext: b"not really wrapped".to_vec(),
            });
            Ok(materials)
        })
    }

    fn on_decrypt<'a>(
        &'a self,
        mut materials: DecryptionMaterials,
        _: &'a [EncryptedDataKey],
    ) -> MaterialsFuture<'a, esdk::Result<DecryptionMaterials>> {
        MaterialsFuture::new(async move {
            let key = self.0[..materials.suite.key_len].to_vec();
            materials.data_key = Some(DataKey::new(key));
            Ok(materials)
        })
    }
}

fn known_key() -> Vec<u8> {
    (0..32u8).map(|i| 0xc0 ^ i.wrapping_mul(37)).collect()
}

#[test]
fn the_checker_catches_leaks() {
    // The checks must be able to fail: a derived Debug of the raw bytes is caught.
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Leaky(Vec<u8>);
    for secret in [&KEY_AB[..], &AES_KEY[..]] {
        let leaky = Leaky(secret.to_vec());
        let caught = std::panic::catch_unwind(|| assert_hides("leaky", &leaky, &[secret]));
        assert!(caught.is_err());
        let caught = std::panic::catch_unwind(|| assert_no_dump("leaky", &leaky));
        assert!(caught.is_err());
        let caught = std::panic::catch_unwind(|| {
            assert_hides("leaky hex", &format!("{:x?}", secret), &[secret])
        });
        assert!(caught.is_err());
        let caught = std::panic::catch_unwind(|| {
            assert_hides("leaky b64", &base64(secret, STANDARD, true), &[secret])
        });
        assert!(caught.is_err());
    }
    assert_eq!(base64(b"hello", STANDARD, true), "aGVsbG8=");
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert!(format!("{:?}", [0xabu8; 4]).contains("[171, 171"));
}

#[test]
fn raw_aes_keyring() {
    for key in [&KEY_AB[..], &AES_KEY[..], &AES_KEY[..16], &AES_KEY[..24]] {
        let keyring = RawAesKeyring::new("ns", "name", key).unwrap();
        assert_hides("RawAesKeyring", &keyring, &[key]);
        assert_no_dump("RawAesKeyring", &keyring);
        let debug = format!("{keyring:?}");
        assert!(debug.contains("ns") && debug.contains("name"), "{debug}");
    }
}

#[test]
fn raw_rsa_keyring() {
    let private_der = base64_decode(&pem_body(RSA_PRIVATE_PEM));
    let public_der = base64_decode(&pem_body(RSA_PUBLIC_PEM));
    let mut builders = Vec::new();
    for padding in [RsaPadding::Pkcs1, RsaPadding::OaepSha256] {
        let builder = || RawRsaKeyring::builder("ns", "rsa", padding);
        builders.push(builder().private_key_pem(RSA_PRIVATE_PEM));
        builders.push(builder().public_key_pem(RSA_PUBLIC_PEM));
        builders.push(builder().private_key_der(&private_der));
        builders.push(builder().public_key_der(&public_der));
        builders.push(
            builder()
                .public_key_pem(RSA_PUBLIC_PEM)
                .private_key_pem(RSA_PRIVATE_PEM),
        );
        builders.push(
            builder()
                .public_key_der(&public_der)
                .private_key_der(&private_der),
        );
    }
    // The builder holds the key bytes as given: its Debug must not show them either.
    for builder in &builders {
        assert_hides(
            "RawRsaKeyringBuilder",
            builder,
            &[&private_der, &public_der],
        );
        assert_no_dump("RawRsaKeyringBuilder", builder);
        for debug in [format!("{builder:?}"), format!("{builder:#?}")] {
            assert!(!debug.contains("-----"), "PEM in {debug}");
            for line in RSA_PRIVATE_PEM.lines().chain(RSA_PUBLIC_PEM.lines()) {
                if !line.starts_with("-----") && line.len() >= 16 {
                    assert!(!debug.contains(&line[..16]), "PEM body in {debug}");
                }
            }
            assert!(debug.len() < 400, "suspiciously long Debug: {debug}");
        }
    }
    let keyrings: Vec<RawRsaKeyring> = builders.into_iter().map(|b| b.build().unwrap()).collect();
    for keyring in &keyrings {
        // Windows of the DER cover the modulus, exponents and primes as stored.
        assert_hides("RawRsaKeyring", keyring, &[&private_der, &public_der]);
        assert_no_dump("RawRsaKeyring", keyring);
        for debug in [format!("{keyring:?}"), format!("{keyring:#?}")] {
            for line in RSA_PRIVATE_PEM.lines().chain(RSA_PUBLIC_PEM.lines()) {
                if !line.starts_with("-----") && line.len() >= 16 {
                    assert!(!debug.contains(&line[..16]), "PEM body in {debug}");
                }
            }
            assert!(debug.len() < 400, "suspiciously long Debug: {debug}");
        }
    }
}

#[test]
fn data_key() {
    for key in [&KEY_AB[..], &AES_KEY[..], &AES_KEY[..16]] {
        let data_key = DataKey::new(key.to_vec());
        assert_hides("DataKey", &data_key, &[key]);
        assert_hides("DataKey clone", &data_key.clone(), &[key]);
        assert_no_dump("DataKey", &data_key);
        assert_hides("Option<DataKey>", &Some(data_key), &[key]);
    }
}

#[test]
fn signing_key() {
    for alg in [
        SignatureAlgorithm::EcdsaP256Sha256,
        SignatureAlgorithm::EcdsaP384Sha384,
    ] {
        let key = SigningKey::generate(alg).unwrap();
        assert_no_dump("SigningKey", &key);
        assert_no_dump("SigningKey clone", &key.clone());
        let debug = format!("{key:?}");
        assert!(debug.len() < 200, "{debug}");
    }
}

#[test]
fn materials() {
    let suite = &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384;
    let mut enc = EncryptionMaterials::new(suite, ctx(&[("a", "b")]));
    enc.data_key = Some(DataKey::new(KEY_AB.to_vec()));
    enc.signing_key = Some(SigningKey::generate(SignatureAlgorithm::EcdsaP384Sha384).unwrap());
    assert_hides("EncryptionMaterials", &enc, &[&KEY_AB]);
    assert_no_dump("EncryptionMaterials", &enc);

    let mut dec = DecryptionMaterials::new(suite, ctx(&[("a", "b")]));
    dec.data_key = Some(DataKey::new(AES_KEY.to_vec()));
    assert_hides("DecryptionMaterials", &dec, &[&AES_KEY]);
    assert_no_dump("DecryptionMaterials", &dec);
}

#[test]
fn materials_produced_by_keyrings_and_cmms() {
    let aes: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("ns", "k", &KEY_AB).unwrap());
    let known = known_key();
    let cmm = DefaultMaterialsManager::new(Arc::new(KnownDataKey(known.clone())));
    for &suite in suite::ALL {
        let request =
            esdk::materials::EncryptionRequest::new(EncryptionContext::new(), policy_for(suite));
        let mut request = request;
        request.suite = Some(suite);
        let materials = esdk::blocking::block_on(cmm.encryption_materials(request)).unwrap();
        assert_hides(
            "EncryptionMaterials from a CMM",
            &materials,
            &[&known[..suite.key_len]],
        );

        let materials = EncryptionMaterials::new(suite, EncryptionContext::new());
        let materials = esdk::blocking::block_on(aes.on_encrypt(materials)).unwrap();
        let data_key = materials.data_key.clone().unwrap();
        assert_hides(
            "EncryptionMaterials from a keyring",
            &materials,
            &[&KEY_AB, data_key.expose_secret()],
        );
    }
}

#[test]
fn multi_keyring_and_cmms() {
    let aes: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("ns", "aes", &KEY_AB).unwrap());
    let aes2: Arc<dyn Keyring> = Arc::new(RawAesKeyring::new("ns", "aes2", &AES_KEY).unwrap());
    let rsa: Arc<dyn Keyring> = Arc::new(
        RawRsaKeyring::builder("ns", "rsa", RsaPadding::OaepSha256)
            .public_key_pem(RSA_PUBLIC_PEM)
            .private_key_pem(RSA_PRIVATE_PEM)
            .build()
            .unwrap(),
    );
    let private_der = base64_decode(&pem_body(RSA_PRIVATE_PEM));
    let secrets: [&[u8]; 3] = [&KEY_AB, &AES_KEY, &private_der];

    let multi = Arc::new(MultiKeyring::new(Some(aes), vec![aes2, rsa]).unwrap());
    assert_hides("MultiKeyring", &multi, &secrets);
    assert_no_dump("MultiKeyring", &multi);

    let default = Arc::new(DefaultMaterialsManager::new(multi));
    assert_hides("DefaultMaterialsManager", &default, &secrets);
    assert_no_dump("DefaultMaterialsManager", &default);

    let required = RequiredEncryptionContextMaterialsManager::new(default, vec!["t".into()]);
    assert_hides(
        "RequiredEncryptionContextMaterialsManager",
        &required,
        &secrets,
    );
    let as_dyn: &dyn MaterialsManager = &required;
    assert_hides("dyn MaterialsManager", &as_dyn, &secrets);
    assert_no_dump("RequiredEncryptionContextMaterialsManager", &as_dyn);
}

#[test]
fn errors_from_failed_decryption() {
    let client = Client::default();
    let right = RawAesKeyring::new("ns", "k", &KEY_AB).unwrap();
    let wrong = RawAesKeyring::new("ns", "k", &AES_KEY).unwrap();
    let message =
        esdk::blocking::encrypt(&client, &right, b"x", &EncryptionContext::new()).unwrap();
    let err = esdk::blocking::decrypt(&client, &wrong, &message).unwrap_err();
    assert_hides("Error", &err, &[&KEY_AB, &AES_KEY]);
    assert_no_dump("Error", &err);
    let shown = err.to_string();
    assert!(!shown.contains("171") && !shown.contains("ab"), "{shown}");
}

#[test]
fn streaming_encryptor_and_decryptor() {
    let known = known_key();
    // 0x0078 derives no key: the data key is the content key the encryptor holds.
    for &suite in suite::ALL {
        let key = &known[..suite.key_len];
        let keyring = KnownDataKey(known.clone());
        let client = client(suite, 64);
        let mut message = Vec::new();
        let mut encryptor = esdk::blocking::block_on(Encryptor::new(
            &client,
            &keyring,
            &esdk::EncryptOptions::new(),
            &mut message,
        ))
        .unwrap();
        assert_hides("Encryptor", &encryptor, &[key]);
        encryptor.push(&plaintext(100), &mut message).unwrap();
        assert_hides("Encryptor after push", &encryptor, &[key]);
        encryptor.finish(&mut message).unwrap();

        let mut decryptor = Decryptor::new(&client);
        let mut out = Vec::new();
        let used = decryptor.push(&message, &mut out).unwrap();
        esdk::blocking::block_on(decryptor.authenticate(&keyring, &esdk::DecryptOptions::new()))
            .unwrap();
        assert_hides("Decryptor", &decryptor, &[key]);
        decryptor
            .push(&message[used..], &mut out)
            .unwrap_or_else(|e| panic!("0x{:04x}: {e}", suite.id));
        assert_hides("Decryptor at the end", &decryptor, &[key]);
        decryptor.finish().unwrap();
        assert_eq!(out, plaintext(100));
    }
}

/// Plaintext with a pattern no header or tag would contain by chance.
fn secret_plaintext() -> Vec<u8> {
    (0..100u8).map(|i| 0xd1 ^ i.wrapping_mul(29)).collect()
}

#[test]
fn streaming_buffers_do_not_show_plaintext() {
    let keyring = RawAesKeyring::new("ns", "k", &KEY_AB).unwrap();
    for suite in [
        &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
        &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
    ] {
        let client = client(suite, 4096);
        let pt = secret_plaintext();

        let mut message = Vec::new();
        let mut encryptor = esdk::blocking::block_on(Encryptor::new(
            &client,
            &keyring,
            &esdk::EncryptOptions::new(),
            &mut message,
        ))
        .unwrap();
        encryptor.push(&pt, &mut message).unwrap();
        assert_hides("Encryptor holding plaintext", &encryptor, &[&pt, &KEY_AB]);
        encryptor.finish(&mut message).unwrap();

        let mut writer =
            EncryptingWriter::new(&client, &keyring, &esdk::EncryptOptions::new(), Vec::new())
                .unwrap();
        writer.write_all(&pt).unwrap();
        assert_hides("EncryptingWriter", &writer, &[&pt, &KEY_AB]);
        let _ = writer.finish().unwrap();

        // Signed suites hold the final frame's plaintext until the signature verifies.
        let mut decryptor = Decryptor::new(&client);
        let mut out = Vec::new();
        let used = decryptor.push(&message, &mut out).unwrap();
        esdk::blocking::block_on(decryptor.authenticate(&keyring, &esdk::DecryptOptions::new()))
            .unwrap();
        decryptor
            .push(&message[used..message.len() - 1], &mut out)
            .unwrap();
        assert_hides("Decryptor holding plaintext", &decryptor, &[&pt, &KEY_AB]);
    }
}

#[test]
fn decrypting_reader_does_not_show_plaintext() {
    let keyring = RawAesKeyring::new("ns", "k", &KEY_AB).unwrap();
    let client = Client::default();
    let pt = secret_plaintext();
    let message =
        esdk::blocking::encrypt(&client, &keyring, &pt, &EncryptionContext::new()).unwrap();
    let mut reader = DecryptingReader::new(
        &client,
        &keyring,
        &esdk::DecryptOptions::new(),
        message.as_slice(),
    )
    .unwrap();
    let mut first = [0u8; 10];
    reader.read_exact(&mut first).unwrap();
    assert_hides("DecryptingReader", &reader, &[&pt, &KEY_AB]);
}
