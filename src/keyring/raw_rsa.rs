//! The raw RSA keyring: wraps data keys with a local RSA key pair.
//!
//! Spec: `framework/raw-rsa-keyring.md`. Provider info = key name; the wrapped key is the RSA
//! ciphertext of the data key.

use std::fmt;

use rand_core::OsRng;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{Oaep, Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use zeroize::Zeroizing;

use super::{ensure_no_data_key, BoxFuture, Keyring};
use crate::format::header::EncryptedDataKey;
use crate::materials::{DataKey, DecryptionMaterials, EncryptionMaterials};

/// RSA padding schemes the format defines. OAEP uses MGF1 with the same hash.
///
/// ```
/// assert_ne!(esdk::RsaPadding::OaepSha256, esdk::RsaPadding::Pkcs1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RsaPadding {
    /// PKCS #1 v1.5 (legacy; prefer OAEP).
    Pkcs1,
    /// OAEP with SHA-1 and MGF1-SHA-1.
    OaepSha1,
    /// OAEP with SHA-256 and MGF1-SHA-256.
    OaepSha256,
    /// OAEP with SHA-384 and MGF1-SHA-384.
    OaepSha384,
    /// OAEP with SHA-512 and MGF1-SHA-512.
    OaepSha512,
}

/// Wraps data keys with RSA. A keyring with only a public key can encrypt but not decrypt.
///
/// `Debug` shows the namespace, name, padding and modulus size, never the key.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// # let pem = include_str!("../../tests/data/rsa-2048-private.pem");
/// let keyring = esdk::RawRsaKeyring::from_pem("my-namespace", "my-rsa-key", pem, esdk::RsaPadding::OaepSha256)?;
/// let client = esdk::Client::default();
/// let message = esdk::blocking::encrypt(&client, &keyring, b"secret", &Default::default())?;
/// assert_eq!(esdk::blocking::decrypt(&client, &keyring, &message)?.plaintext, b"secret");
/// # Ok(()) }
/// ```
pub struct RawRsaKeyring {
    namespace: String,
    name: String,
    padding: RsaPadding,
    public: Option<RsaPublicKey>,
    private: Option<RsaPrivateKey>,
    /// The same keys on aws-lc-rs (constant-time RSA), when it accepts them (2048 to 8192 bits).
    #[cfg(feature = "aws-lc-rs")]
    aws_lc: AwsLcKeys,
}

#[cfg(feature = "aws-lc-rs")]
#[derive(Default)]
struct AwsLcKeys {
    public: Option<aws_lc_rs::rsa::PublicEncryptingKey>,
    private: Option<aws_lc_rs::rsa::PrivateDecryptingKey>,
}

#[cfg(feature = "aws-lc-rs")]
impl AwsLcKeys {
    fn new(public: Option<&RsaPublicKey>, private: Option<&RsaPrivateKey>) -> Self {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
        let public = public
            .and_then(|k| k.to_public_key_der().ok())
            .and_then(|der| aws_lc_rs::rsa::PublicEncryptingKey::from_der(der.as_bytes()).ok());
        let private = private
            .and_then(|k| k.to_pkcs8_der().ok())
            .and_then(|der| aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(der.as_bytes()).ok());
        Self { public, private }
    }

    fn oaep(padding: RsaPadding) -> Option<&'static aws_lc_rs::rsa::OaepAlgorithm> {
        use aws_lc_rs::rsa::{
            OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384,
            OAEP_SHA512_MGF1SHA512,
        };
        match padding {
            RsaPadding::Pkcs1 => None,
            RsaPadding::OaepSha1 => Some(&OAEP_SHA1_MGF1SHA1),
            RsaPadding::OaepSha256 => Some(&OAEP_SHA256_MGF1SHA256),
            RsaPadding::OaepSha384 => Some(&OAEP_SHA384_MGF1SHA384),
            RsaPadding::OaepSha512 => Some(&OAEP_SHA512_MGF1SHA512),
        }
    }

    fn encrypt(&self, padding: RsaPadding, key: &[u8]) -> Option<Result<Vec<u8>, ()>> {
        use aws_lc_rs::rsa::{OaepPublicEncryptingKey, Pkcs1PublicEncryptingKey};
        let public = self.public.as_ref()?;
        let mut out = vec![0u8; public.key_size_bytes()];
        let res = match Self::oaep(padding) {
            Some(alg) => OaepPublicEncryptingKey::new(public.clone())
                .and_then(|k| k.encrypt(alg, key, &mut out, None).map(|c| c.len())),
            None => Pkcs1PublicEncryptingKey::new(public.clone())
                .and_then(|k| k.encrypt(key, &mut out).map(|c| c.len())),
        };
        Some(
            res.map(|len| {
                out.truncate(len);
                out
            })
            .map_err(drop),
        )
    }

    fn decrypt(
        &self,
        padding: RsaPadding,
        wrapped: &[u8],
    ) -> Option<Result<Zeroizing<Vec<u8>>, ()>> {
        use aws_lc_rs::rsa::{OaepPrivateDecryptingKey, Pkcs1PrivateDecryptingKey};
        let private = self.private.as_ref()?;
        let mut out = Zeroizing::new(vec![0u8; private.key_size_bytes()]);
        let res = match Self::oaep(padding) {
            Some(alg) => OaepPrivateDecryptingKey::new(private.clone())
                .and_then(|k| k.decrypt(alg, wrapped, &mut out, None).map(|p| p.len())),
            None => Pkcs1PrivateDecryptingKey::new(private.clone())
                .and_then(|k| k.decrypt(wrapped, &mut out).map(|p| p.len())),
        };
        Some(
            res.map(|len| {
                out.truncate(len);
                out
            })
            .map_err(drop),
        )
    }
}

impl fmt::Debug for RawRsaKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use rsa::traits::PublicKeyParts;
        f.debug_struct("RawRsaKeyring")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("padding", &self.padding)
            .field("modulus_bits", &self.public.as_ref().map(|k| k.size() * 8))
            .field("can_decrypt", &self.private.is_some())
            .finish_non_exhaustive()
    }
}

fn key_error(what: &str) -> crate::Error {
    crate::Error::InvalidKey(format!("could not parse the RSA {what}"))
}

impl RawRsaKeyring {
    /// A keyring from key objects. Give a private key to decrypt; its public half is used to encrypt.
    ///
    /// # Errors
    /// [`crate::Error::InvalidKey`] when neither key is given, or the namespace is or starts with
    /// `aws-kms` (reserved for the AWS KMS keyrings).
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        public: Option<RsaPublicKey>,
        private: Option<RsaPrivateKey>,
        padding: RsaPadding,
    ) -> crate::Result<Self> {
        let namespace = namespace.into();
        super::check_namespace(&namespace)?;
        let public = public.or_else(|| private.as_ref().map(RsaPublicKey::from));
        if public.is_none() {
            return Err(crate::Error::InvalidKey(
                "an RSA keyring needs a public or a private key".into(),
            ));
        }
        Ok(Self {
            namespace,
            name: name.into(),
            padding,
            #[cfg(feature = "aws-lc-rs")]
            aws_lc: AwsLcKeys::new(public.as_ref(), private.as_ref()),
            public,
            private,
        })
    }

    /// A keyring from a PEM key: a private key (PKCS #8 `PRIVATE KEY` or PKCS #1 `RSA PRIVATE KEY`)
    /// or a public key only (`PUBLIC KEY` SPKI or `RSA PUBLIC KEY`).
    ///
    /// # Errors
    /// [`crate::Error::InvalidKey`] when the PEM holds no RSA key.
    pub fn from_pem(
        namespace: impl Into<String>,
        name: impl Into<String>,
        pem: &str,
        padding: RsaPadding,
    ) -> crate::Result<Self> {
        let pem = pem.trim();
        if pem.contains("PRIVATE KEY") {
            let key = RsaPrivateKey::from_pkcs8_pem(pem)
                .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
                .map_err(|_| key_error("private key PEM"))?;
            Self::new(namespace, name, None, Some(key), padding)
        } else {
            let key = RsaPublicKey::from_public_key_pem(pem)
                .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
                .map_err(|_| key_error("public key PEM"))?;
            Self::new(namespace, name, Some(key), None, padding)
        }
    }

    /// A keyring from a DER key: PKCS #8 or PKCS #1 private key, or SPKI or PKCS #1 public key.
    ///
    /// # Errors
    /// [`crate::Error::InvalidKey`] when the bytes hold no RSA key.
    pub fn from_der(
        namespace: impl Into<String>,
        name: impl Into<String>,
        der: &[u8],
        padding: RsaPadding,
    ) -> crate::Result<Self> {
        if let Ok(key) =
            RsaPrivateKey::from_pkcs8_der(der).or_else(|_| RsaPrivateKey::from_pkcs1_der(der))
        {
            return Self::new(namespace, name, None, Some(key), padding);
        }
        let key = RsaPublicKey::from_public_key_der(der)
            .or_else(|_| RsaPublicKey::from_pkcs1_der(der))
            .map_err(|_| key_error("key DER"))?;
        Self::new(namespace, name, Some(key), None, padding)
    }

    fn encrypt_key(&self, public: &RsaPublicKey, key: &[u8]) -> Result<Vec<u8>, ()> {
        #[cfg(feature = "aws-lc-rs")]
        if let Some(res) = self.aws_lc.encrypt(self.padding, key) {
            return res;
        }
        self.encrypt_key_rust_crypto(public, key).map_err(drop)
    }

    fn encrypt_key_rust_crypto(&self, public: &RsaPublicKey, key: &[u8]) -> rsa::Result<Vec<u8>> {
        let rng = &mut OsRng;
        match self.padding {
            RsaPadding::Pkcs1 => public.encrypt(rng, Pkcs1v15Encrypt, key),
            RsaPadding::OaepSha1 => public.encrypt(rng, Oaep::new::<sha1::Sha1>(), key),
            RsaPadding::OaepSha256 => public.encrypt(rng, Oaep::new::<sha2::Sha256>(), key),
            RsaPadding::OaepSha384 => public.encrypt(rng, Oaep::new::<sha2::Sha384>(), key),
            RsaPadding::OaepSha512 => public.encrypt(rng, Oaep::new::<sha2::Sha512>(), key),
        }
    }

    fn decrypt_key(
        &self,
        private: &RsaPrivateKey,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ()> {
        #[cfg(feature = "aws-lc-rs")]
        if let Some(res) = self.aws_lc.decrypt(self.padding, wrapped) {
            return res;
        }
        self.decrypt_key_rust_crypto(private, wrapped)
            .map(Zeroizing::new)
            .map_err(drop)
    }

    fn decrypt_key_rust_crypto(
        &self,
        private: &RsaPrivateKey,
        wrapped: &[u8],
    ) -> rsa::Result<Vec<u8>> {
        match self.padding {
            RsaPadding::Pkcs1 => private.decrypt(Pkcs1v15Encrypt, wrapped),
            RsaPadding::OaepSha1 => private.decrypt(Oaep::new::<sha1::Sha1>(), wrapped),
            RsaPadding::OaepSha256 => private.decrypt(Oaep::new::<sha2::Sha256>(), wrapped),
            RsaPadding::OaepSha384 => private.decrypt(Oaep::new::<sha2::Sha384>(), wrapped),
            RsaPadding::OaepSha512 => private.decrypt(Oaep::new::<sha2::Sha512>(), wrapped),
        }
    }
}

impl Keyring for RawRsaKeyring {
    fn on_encrypt<'a>(
        &'a self,
        mut materials: EncryptionMaterials,
    ) -> BoxFuture<'a, crate::Result<EncryptionMaterials>> {
        Box::pin(async move {
            let public = self.public.as_ref().ok_or(crate::Error::ApiMisuse(
                "this RSA keyring has no public key",
            ))?;
            let data_key = match materials.data_key.take() {
                Some(key) => key,
                None => DataKey::random(materials.suite.key_len)?,
            };
            let ciphertext = self
                .encrypt_key(public, data_key.expose_secret())
                .map_err(|_| {
                    crate::Error::Keyring(
                        "RSA encryption of the data key failed (key too small?)".into(),
                    )
                })?;
            materials.data_key = Some(data_key);
            materials.encrypted_data_keys.push(EncryptedDataKey {
                provider_id: self.namespace.clone(),
                provider_info: self.name.as_bytes().to_vec(),
                ciphertext,
            });
            Ok(materials)
        })
    }

    fn on_decrypt<'a>(
        &'a self,
        mut materials: DecryptionMaterials,
        encrypted_data_keys: &'a [EncryptedDataKey],
    ) -> BoxFuture<'a, crate::Result<DecryptionMaterials>> {
        Box::pin(async move {
            ensure_no_data_key(&materials)?;
            let who = format!("raw RSA {}/{}", self.namespace, self.name);
            let Some(private) = &self.private else {
                return Err(crate::Error::NoKeyringDecrypted {
                    attempts: vec![format!("{who}: no private key")],
                });
            };
            let mut attempts = Vec::new();
            for edk in encrypted_data_keys {
                if edk.provider_id != self.namespace || edk.provider_info != self.name.as_bytes() {
                    continue;
                }
                // One message for every failure: no padding oracle.
                match self
                    .decrypt_key(private, &edk.ciphertext)
                    .map(Zeroizing::new)
                {
                    Ok(mut key) if key.len() == materials.suite.key_len => {
                        materials.data_key = Some(DataKey::new(std::mem::take(&mut *key)));
                        return Ok(materials);
                    }
                    _ => attempts.push(format!("{who}: could not unwrap")),
                }
            }
            if attempts.is_empty() {
                attempts.push(format!("{who}: no encrypted data key for this key"));
            }
            Err(crate::Error::NoKeyringDecrypted { attempts })
        })
    }
}

#[cfg(all(test, feature = "aws-lc-rs"))]
mod tests {
    use super::*;
    use crate::blocking::block_on;
    use crate::suite;

    #[test]
    fn aws_lc_and_rust_crypto_open_each_others_keys() {
        let pem = include_str!("../../tests/data/rsa-2048-private.pem");
        for padding in [
            RsaPadding::Pkcs1,
            RsaPadding::OaepSha1,
            RsaPadding::OaepSha256,
            RsaPadding::OaepSha384,
            RsaPadding::OaepSha512,
        ] {
            let lc = RawRsaKeyring::from_pem("ns", "k", pem, padding).unwrap();
            assert!(lc.aws_lc.private.is_some() && lc.aws_lc.public.is_some());
            let mut rc = RawRsaKeyring::from_pem("ns", "k", pem, padding).unwrap();
            rc.aws_lc = AwsLcKeys::default();
            for (enc, dec) in [(&lc, &rc), (&rc, &lc)] {
                let s = &suite::AES_256_GCM_HKDF_SHA512_COMMIT_KEY;
                let m = block_on(enc.on_encrypt(EncryptionMaterials::new(s, Default::default())))
                    .unwrap();
                let d = block_on(dec.on_decrypt(
                    DecryptionMaterials::new(s, Default::default()),
                    &m.encrypted_data_keys,
                ))
                .unwrap();
                assert_eq!(
                    d.data_key.unwrap().expose_secret(),
                    m.data_key.unwrap().expose_secret()
                );
            }
        }
    }
}
