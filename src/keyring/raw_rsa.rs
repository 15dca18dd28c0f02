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

use super::{ensure_no_data_key, Keyring};
use crate::error::{KeyringAttempt, KeyringError, KeyringErrorKind};
use crate::format::header::EncryptedDataKey;
use crate::future::MaterialsFuture;
use crate::materials::{DataKey, DecryptionMaterials, EncryptionMaterials};

/// RSA padding schemes the format defines. OAEP uses MGF1 with the same hash.
///
/// Prefer OAEP with SHA-256 or stronger. Every unwrap failure is the same error, but with
/// PKCS #1 v1.5 a tampered wrapped key can unwrap to a key of the right length that is garbage,
/// and the message then fails later (key commitment, header authentication): a caller who sees
/// those errors or their timing can tell the two apart, which may serve as a padding oracle. See
/// the README's security notes.
///
/// ```
/// assert_ne!(esdk::RsaPadding::OaepSha256, esdk::RsaPadding::Pkcs1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RsaPadding {
    /// PKCS #1 v1.5 (legacy, for reading old messages; prefer OAEP SHA-256 or stronger).
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

/// Wraps data keys with RSA. Built with [`RawRsaKeyring::builder`] from a public key (to
/// encrypt), a private key (to decrypt), or both.
///
/// A keyring with only a public key can encrypt but not decrypt; one with only a private key can
/// decrypt but not encrypt: it never derives the public key from the private key (spec:
/// `framework/raw-rsa-keyring.md`, OnEncrypt). `Debug` shows the namespace, name, padding,
/// modulus size and which operations the keyring can do, never the key.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// # let public_pem = include_str!("../../tests/data/rsa-2048-public.pem");
/// # let private_pem = include_str!("../../tests/data/rsa-2048-private.pem");
/// let keyring = esdk::RawRsaKeyring::builder("my-namespace", "my-rsa-key", esdk::RsaPadding::OaepSha256)
///     .public_key_pem(public_pem)
///     .private_key_pem(private_pem)
///     .build()?;
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
        let modulus_bits = match (&self.public, &self.private) {
            (Some(public), _) => public.size() * 8,
            (None, Some(private)) => private.size() * 8,
            (None, None) => 0,
        };
        f.debug_struct("RawRsaKeyring")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("padding", &self.padding)
            .field("modulus_bits", &modulus_bits)
            .field("can_encrypt", &self.public.is_some())
            .field("can_decrypt", &self.private.is_some())
            .finish_non_exhaustive()
    }
}

/// A public key as given to a [`RawRsaKeyringBuilder`] setter, parsed by
/// [`RawRsaKeyringBuilder::build`].
enum PublicKeyInput {
    Pem(String),
    Der(Vec<u8>),
}

/// Private key material as given; wiped when the builder is dropped.
enum PrivateKeyInput {
    Pem(Zeroizing<String>),
    Der(Zeroizing<Vec<u8>>),
}

impl PublicKeyInput {
    fn describe(&self) -> &'static str {
        match self {
            Self::Pem(_) => "PEM",
            Self::Der(_) => "DER",
        }
    }
}

impl PrivateKeyInput {
    fn describe(&self) -> &'static str {
        match self {
            Self::Pem(_) => "PEM",
            Self::Der(_) => "DER",
        }
    }
}

/// Builds a [`RawRsaKeyring`]: give a public key (to encrypt), a private key (to decrypt), or
/// both, then call [`build`](Self::build).
///
/// The setters only store the bytes (private key material in memory that is wiped on drop);
/// [`build`](Self::build) parses and checks everything once. Setting the same key twice keeps
/// the last one. `Debug` shows which keys were given and in which encoding, never their bytes.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// # let public_pem = include_str!("../../tests/data/rsa-2048-public.pem");
/// # let private_pem = include_str!("../../tests/data/rsa-2048-private.pem");
/// use esdk::{RawRsaKeyring, RsaPadding};
///
/// // Encrypt-only: the party that encrypts holds the public key alone.
/// let encrypt_only = RawRsaKeyring::builder("my-namespace", "my-rsa-key", RsaPadding::OaepSha256)
///     .public_key_pem(public_pem) // SPKI `PUBLIC KEY` or PKCS #1 `RSA PUBLIC KEY`
///     .build()?;
/// // Decrypt-only: a private key alone cannot encrypt.
/// let decrypt_only = RawRsaKeyring::builder("my-namespace", "my-rsa-key", RsaPadding::OaepSha256)
///     .private_key_pem(private_pem) // PKCS #8 `PRIVATE KEY` or PKCS #1 `RSA PRIVATE KEY`
///     .build()?;
/// // DER works the same way (SPKI or PKCS #1 public, PKCS #8 or PKCS #1 private).
/// # let der = |pem: &str| {
/// #     use base64::Engine as _;
/// #     let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
/// #     base64::engine::general_purpose::STANDARD.decode(body).unwrap()
/// # };
/// # let (public_der, private_der) = (der(public_pem), der(private_pem));
/// let both = RawRsaKeyring::builder("my-namespace", "my-rsa-key", RsaPadding::OaepSha256)
///     .public_key_der(&public_der)
///     .private_key_der(&private_der)
///     .build()?;
///
/// let client = esdk::Client::default();
/// let message = esdk::blocking::encrypt(&client, &encrypt_only, b"secret", &Default::default())?;
/// assert_eq!(esdk::blocking::decrypt(&client, &decrypt_only, &message)?.plaintext, b"secret");
/// assert_eq!(esdk::blocking::decrypt(&client, &both, &message)?.plaintext, b"secret");
/// assert!(esdk::blocking::encrypt(&client, &decrypt_only, b"secret", &Default::default()).is_err());
/// # Ok(()) }
/// ```
pub struct RawRsaKeyringBuilder {
    namespace: String,
    name: String,
    padding: RsaPadding,
    public: Option<PublicKeyInput>,
    private: Option<PrivateKeyInput>,
}

impl fmt::Debug for RawRsaKeyringBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawRsaKeyringBuilder")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("padding", &self.padding)
            .field(
                "public_key",
                &self.public.as_ref().map(PublicKeyInput::describe),
            )
            .field(
                "private_key",
                &self.private.as_ref().map(PrivateKeyInput::describe),
            )
            .finish()
    }
}

fn invalid(message: impl Into<String>) -> crate::Error {
    crate::Error::InvalidKey(message.into())
}

/// The label of the first PEM block, or an error naming `which` key was not PEM.
fn pem_label<'a>(pem: &'a str, which: &str) -> crate::Result<&'a str> {
    rsa::pkcs1::pem::decode_label(pem.trim().as_bytes())
        .map_err(|_| invalid(format!("the RSA {which} key PEM is not valid PEM")))
}

fn parse_public_pem(pem: &str) -> crate::Result<RsaPublicKey> {
    let pem = pem.trim();
    match pem_label(pem, "public")? {
        "PUBLIC KEY" => RsaPublicKey::from_public_key_pem(pem).map_err(|_| {
            invalid("the RSA public key PEM (`PUBLIC KEY`) is not an RSA SubjectPublicKeyInfo")
        }),
        "RSA PUBLIC KEY" => RsaPublicKey::from_pkcs1_pem(pem).map_err(|_| {
            invalid("the RSA public key PEM (`RSA PUBLIC KEY`) is not a PKCS #1 RSAPublicKey")
        }),
        label if label.ends_with("PRIVATE KEY") => Err(invalid(format!(
            "the PEM given as the RSA public key holds a private key (`{label}`): \
             give it to `private_key_pem`"
        ))),
        label => Err(invalid(format!(
            "the RSA public key PEM has label `{label}`; expected `PUBLIC KEY` or `RSA PUBLIC KEY`"
        ))),
    }
}

fn parse_private_pem(pem: &str) -> crate::Result<RsaPrivateKey> {
    let pem = pem.trim();
    match pem_label(pem, "private")? {
        "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| {
            invalid("the RSA private key PEM (`PRIVATE KEY`) is not a valid RSA PKCS #8 key")
        }),
        "RSA PRIVATE KEY" => RsaPrivateKey::from_pkcs1_pem(pem).map_err(|_| {
            invalid("the RSA private key PEM (`RSA PRIVATE KEY`) is not a valid PKCS #1 key")
        }),
        "ENCRYPTED PRIVATE KEY" => Err(invalid(
            "the RSA private key PEM is encrypted (`ENCRYPTED PRIVATE KEY`), which is not \
             supported: decrypt it first",
        )),
        label if label.ends_with("PUBLIC KEY") => Err(invalid(format!(
            "the PEM given as the RSA private key holds a public key (`{label}`): \
             give it to `public_key_pem`"
        ))),
        label => Err(invalid(format!(
            "the RSA private key PEM has label `{label}`; expected `PRIVATE KEY` or \
             `RSA PRIVATE KEY`"
        ))),
    }
}

fn private_from_der(der: &[u8]) -> Option<RsaPrivateKey> {
    RsaPrivateKey::from_pkcs8_der(der)
        .or_else(|_| RsaPrivateKey::from_pkcs1_der(der))
        .ok()
}

fn public_from_der(der: &[u8]) -> Option<RsaPublicKey> {
    RsaPublicKey::from_public_key_der(der)
        .or_else(|_| RsaPublicKey::from_pkcs1_der(der))
        .ok()
}

fn parse_public_der(der: &[u8]) -> crate::Result<RsaPublicKey> {
    if let Some(key) = public_from_der(der) {
        return Ok(key);
    }
    if private_from_der(der).is_some() {
        return Err(invalid(
            "the DER given as the RSA public key holds a private key: give it to \
             `private_key_der`",
        ));
    }
    Err(invalid(
        "the RSA public key DER is neither an RSA SubjectPublicKeyInfo nor a PKCS #1 \
         RSAPublicKey",
    ))
}

fn parse_private_der(der: &[u8]) -> crate::Result<RsaPrivateKey> {
    if let Some(key) = private_from_der(der) {
        return Ok(key);
    }
    if public_from_der(der).is_some() {
        return Err(invalid(
            "the DER given as the RSA private key holds a public key: give it to \
             `public_key_der`",
        ));
    }
    Err(invalid(
        "the RSA private key DER is neither an RSA PKCS #8 PrivateKeyInfo nor a PKCS #1 \
         RSAPrivateKey",
    ))
}

impl RawRsaKeyringBuilder {
    /// Sets the public key, which encrypts, from PEM: SPKI (`PUBLIC KEY`) or PKCS #1
    /// (`RSA PUBLIC KEY`). Parsed by [`build`](Self::build); see the
    /// [type-level example](RawRsaKeyringBuilder).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let public_pem = include_str!("../../tests/data/rsa-2048-public.pem");
    /// use esdk::{RawRsaKeyring, RsaPadding};
    /// let keyring = RawRsaKeyring::builder("ns", "rsa", RsaPadding::OaepSha256).public_key_pem(public_pem).build()?;
    /// let client = esdk::Client::default();
    /// let message = esdk::blocking::encrypt(&client, &keyring, b"hi", &Default::default())?;
    /// assert_eq!(esdk::parse_header(&message)?.unauthenticated().encrypted_data_keys()[0].provider_id, "ns");
    /// assert!(esdk::blocking::decrypt(&client, &keyring, &message).is_err()); // no private key
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn public_key_pem(mut self, pem: &str) -> Self {
        self.public = Some(PublicKeyInput::Pem(pem.to_owned()));
        self
    }

    /// Sets the public key, which encrypts, from DER: SPKI or PKCS #1 `RSAPublicKey`. Parsed by
    /// [`build`](Self::build); see the [type-level example](RawRsaKeyringBuilder).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let public_pem = include_str!("../../tests/data/rsa-2048-public.pem");
    /// # let public_der = {
    /// #     use base64::Engine as _;
    /// #     let body: String = public_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    /// #     base64::engine::general_purpose::STANDARD.decode(body).unwrap()
    /// # };
    /// use esdk::{RawRsaKeyring, RsaPadding};
    /// let keyring = RawRsaKeyring::builder("ns", "rsa", RsaPadding::OaepSha256).public_key_der(&public_der).build()?;
    /// assert!(esdk::blocking::encrypt(&esdk::Client::default(), &keyring, b"hi", &Default::default()).is_ok());
    /// let junk = RawRsaKeyring::builder("ns", "rsa", RsaPadding::OaepSha256).public_key_der(b"junk").build();
    /// assert!(matches!(junk, Err(esdk::Error::InvalidKey(_))));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn public_key_der(mut self, der: &[u8]) -> Self {
        self.public = Some(PublicKeyInput::Der(der.to_vec()));
        self
    }

    /// Sets the private key, which decrypts, from PEM: PKCS #8 (`PRIVATE KEY`) or PKCS #1
    /// (`RSA PRIVATE KEY`). The copy is wiped on drop. Parsed by [`build`](Self::build); see the
    /// [type-level example](RawRsaKeyringBuilder).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let public_pem = include_str!("../../tests/data/rsa-2048-public.pem");
    /// # let private_pem = include_str!("../../tests/data/rsa-2048-private.pem");
    /// use esdk::{RawRsaKeyring, RsaPadding};
    /// let encrypt_only = RawRsaKeyring::builder("ns", "rsa", RsaPadding::OaepSha256).public_key_pem(public_pem).build()?;
    /// let decrypt_only = RawRsaKeyring::builder("ns", "rsa", RsaPadding::OaepSha256).private_key_pem(private_pem).build()?;
    /// let client = esdk::Client::default();
    /// let message = esdk::blocking::encrypt(&client, &encrypt_only, b"hi", &Default::default())?;
    /// assert_eq!(esdk::blocking::decrypt(&client, &decrypt_only, &message)?.plaintext, b"hi");
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn private_key_pem(mut self, pem: &str) -> Self {
        self.private = Some(PrivateKeyInput::Pem(Zeroizing::new(pem.to_owned())));
        self
    }

    /// Sets the private key, which decrypts, from DER: PKCS #8 `PrivateKeyInfo` or PKCS #1
    /// `RSAPrivateKey`. The copy is wiped on drop. Parsed by [`build`](Self::build); see the
    /// [type-level example](RawRsaKeyringBuilder).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let private_pem = include_str!("../../tests/data/rsa-2048-private.pem");
    /// # let other_public_pem = include_str!("../../tests/data/rsa-2048-b-public-pkcs1.pem");
    /// # let private_der = {
    /// #     use base64::Engine as _;
    /// #     let body: String = private_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    /// #     base64::engine::general_purpose::STANDARD.decode(body).unwrap()
    /// # };
    /// use esdk::{RawRsaKeyring, RsaPadding};
    /// let keyring = RawRsaKeyring::builder("ns", "rsa", RsaPadding::OaepSha256).private_key_der(&private_der).build()?;
    /// assert!(format!("{keyring:?}").contains("can_decrypt: true"));
    /// // `build` refuses a public key that is not this private key's.
    /// let mismatched = RawRsaKeyring::builder("ns", "rsa", RsaPadding::OaepSha256)
    ///     .public_key_pem(other_public_pem)
    ///     .private_key_der(&private_der)
    ///     .build();
    /// assert!(matches!(mismatched, Err(esdk::Error::InvalidKey(_))));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn private_key_der(mut self, der: &[u8]) -> Self {
        self.private = Some(PrivateKeyInput::Der(Zeroizing::new(der.to_vec())));
        self
    }

    /// Parses and checks the keys and builds the keyring.
    ///
    /// # Errors
    /// [`crate::Error::InvalidKey`], saying what is wrong, when:
    /// - the namespace starts with `aws-kms` (reserved for the AWS KMS keyrings);
    /// - neither a public nor a private key was given;
    /// - a key does not parse in the formats its setter accepts, or a PEM or DER holds the other
    ///   half of the pair (a private key given to a public-key setter, or the reverse);
    /// - both keys are given and the public key is not the private key's public half (modulus
    ///   or public exponent differ).
    ///
    /// ```
    /// # let private_pem = include_str!("../../tests/data/rsa-2048-private.pem");
    /// use esdk::{Error, RawRsaKeyring, RsaPadding};
    /// let no_key = RawRsaKeyring::builder("ns", "key", RsaPadding::OaepSha256).build();
    /// assert!(matches!(no_key, Err(Error::InvalidKey(_))));
    /// let wrong_setter = RawRsaKeyring::builder("ns", "key", RsaPadding::OaepSha256)
    ///     .public_key_pem(private_pem)
    ///     .build();
    /// assert!(matches!(wrong_setter, Err(Error::InvalidKey(m)) if m.contains("private key")));
    /// ```
    pub fn build(self) -> crate::Result<RawRsaKeyring> {
        super::check_namespace(&self.namespace)?;
        if self.public.is_none() && self.private.is_none() {
            return Err(invalid(
                "a raw RSA keyring needs a public key (to encrypt), a private key (to decrypt), \
                 or both",
            ));
        }
        let public = match &self.public {
            None => None,
            Some(PublicKeyInput::Pem(pem)) => Some(parse_public_pem(pem)?),
            Some(PublicKeyInput::Der(der)) => Some(parse_public_der(der)?),
        };
        let private = match &self.private {
            None => None,
            Some(PrivateKeyInput::Pem(pem)) => Some(parse_private_pem(pem)?),
            Some(PrivateKeyInput::Der(der)) => Some(parse_private_der(der)?),
        };
        if let (Some(public), Some(private)) = (&public, &private) {
            use rsa::traits::PublicKeyParts;
            if public.n() != private.n() || public.e() != private.e() {
                return Err(invalid(
                    "the RSA public key does not match the private key (their modulus or public \
                     exponent differ)",
                ));
            }
        }
        Ok(RawRsaKeyring {
            namespace: self.namespace,
            name: self.name,
            padding: self.padding,
            #[cfg(feature = "aws-lc-rs")]
            aws_lc: AwsLcKeys::new(public.as_ref(), private.as_ref()),
            public,
            private,
        })
    }
}

impl RawRsaKeyring {
    /// Starts building a keyring with this key namespace, key name and padding. Give it a
    /// public key, a private key or both, then call [`RawRsaKeyringBuilder::build`].
    ///
    /// Prefer OAEP with SHA-256 or stronger: see [`RsaPadding`].
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// # let public_pem = include_str!("../../tests/data/rsa-2048-public.pem");
    /// let keyring = esdk::RawRsaKeyring::builder("my-namespace", "my-rsa-key", esdk::RsaPadding::OaepSha256)
    ///     .public_key_pem(public_pem)
    ///     .build()?;
    /// assert!(format!("{keyring:?}").contains("can_decrypt: false"));
    /// # Ok(()) }
    /// ```
    pub fn builder(
        namespace: impl Into<String>,
        name: impl Into<String>,
        padding: RsaPadding,
    ) -> RawRsaKeyringBuilder {
        RawRsaKeyringBuilder {
            namespace: namespace.into(),
            name: name.into(),
            padding,
            public: None,
            private: None,
        }
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
    ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
        // Local work: the future is ready at once, nothing is boxed.
        MaterialsFuture::ready((move || {
            // Spec: OnEncrypt fails without a public key, which is never derived from the
            // private key.
            let Some(public) = self.public.as_ref() else {
                return Err(crate::Error::InvalidKey(
                    "this raw RSA keyring has no public key: it can only decrypt".into(),
                ));
            };
            let data_key = match materials.data_key.take() {
                Some(key) => key,
                None => DataKey::random(materials.suite.key_len)?,
            };
            let ciphertext = self
                .encrypt_key(public, data_key.expose_secret())
                .map_err(|_| {
                    crate::Error::Keyring(KeyringError::new(
                        KeyringErrorKind::Configuration,
                        "RSA encryption of the data key failed (key too small?)",
                    ))
                })?;
            materials.data_key = Some(data_key);
            materials.encrypted_data_keys.push(EncryptedDataKey {
                provider_id: self.namespace.clone(),
                provider_info: self.name.as_bytes().to_vec(),
                ciphertext,
            });
            Ok(materials)
        })())
    }

    fn on_decrypt<'a>(
        &'a self,
        mut materials: DecryptionMaterials,
        encrypted_data_keys: &'a [EncryptedDataKey],
    ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
        // Local work: the future is ready at once, nothing is boxed.
        MaterialsFuture::ready((move || {
            ensure_no_data_key(&materials)?;
            let attempt =
                |kind, message| KeyringAttempt::keyring(&self.namespace, &self.name, kind, message);
            let Some(private) = &self.private else {
                return Err(crate::Error::NoKeyringDecrypted {
                    attempts: vec![attempt(
                        KeyringErrorKind::Configuration,
                        "raw RSA keyring without a private key",
                    )]
                    .into(),
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
                    _ => attempts.push(attempt(KeyringErrorKind::UnwrapFailed, "raw RSA")),
                }
            }
            if attempts.is_empty() {
                attempts.push(attempt(KeyringErrorKind::NoMatchingKey, "raw RSA keyring"));
            }
            Err(crate::Error::NoKeyringDecrypted {
                attempts: attempts.into(),
            })
        })())
    }
}

#[cfg(all(test, feature = "aws-lc-rs"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::blocking::block_on;
    use crate::suite;

    #[test]
    fn aws_lc_and_rust_crypto_open_each_others_keys() {
        let private = include_str!("../../tests/data/rsa-2048-private.pem");
        let public = include_str!("../../tests/data/rsa-2048-public.pem");
        let keyring = |padding| {
            RawRsaKeyring::builder("ns", "k", padding)
                .public_key_pem(public)
                .private_key_pem(private)
                .build()
                .unwrap()
        };
        for padding in [
            RsaPadding::Pkcs1,
            RsaPadding::OaepSha1,
            RsaPadding::OaepSha256,
            RsaPadding::OaepSha384,
            RsaPadding::OaepSha512,
        ] {
            let lc = keyring(padding);
            assert!(lc.aws_lc.private.is_some() && lc.aws_lc.public.is_some());
            let mut rc = keyring(padding);
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
