//! Message preparation: materials from the key source, their checks, the derived keys, and the
//! header (written and authenticated on encrypt; checked and authenticated on decrypt).
//!
//! Spec: `client-apis/encrypt.md`, `client-apis/decrypt.md`.

use crate::client::Client;
use crate::crypto::aead::Aead;
use crate::crypto::kdf;
use crate::crypto::signature::MessageHasher;
use crate::format::context::{self, EncryptionContext};
use crate::format::header::{ContentType, Header};
use crate::header_auth::{authenticate_only, header_auth_aad};
use crate::legacy_net_retry::legacy_net_v4_0_0_retry;
use crate::materials::{DecryptionRequest, EncryptionMaterials, EncryptionRequest};
use crate::options::KeySource;
use crate::suite::AlgorithmSuite;
use crate::Error;

impl Client {
    pub(crate) async fn encryption_materials(
        &self,
        source: KeySource<'_>,
        plaintext_len: Option<u64>,
        encryption_context: &EncryptionContext,
    ) -> crate::Result<EncryptionMaterials> {
        // encrypt.md: a caller's context key beginning with `aws-crypto-` MUST fail encrypt.
        if encryption_context
            .keys()
            .any(|k| k.starts_with(context::RESERVED_KEY_PREFIX))
        {
            return Err(Error::InvalidContext(
                "encryption context keys beginning with `aws-crypto-` are reserved",
            ));
        }
        let mut request =
            EncryptionRequest::new(encryption_context.clone(), self.config.commitment_policy);
        request.suite = self.config.suite;
        request.max_plaintext_length = plaintext_len;
        source.encryption_materials(request).await
    }

    /// Checks the materials, derives keys and writes the authenticated header.
    pub(crate) fn prepare_encrypt(
        &self,
        materials: EncryptionMaterials,
        content_type: ContentType,
    ) -> crate::Result<PreparedEncrypt> {
        let config = &self.config;
        let suite = materials.suite;
        config.commitment_policy.check_encrypt(suite)?;
        if let Some(limit) = config.limits.max_encrypted_data_keys {
            if materials.encrypted_data_keys.len() > usize::from(limit) {
                return Err(Error::TooManyEncryptedDataKeys { limit });
            }
        }
        if suite.is_signing() != materials.signing_key.is_some() {
            return Err(Error::InvalidMaterials(
                "signing key present for an unsigned suite, or missing for a signed one",
            ));
        }
        let data_key = materials
            .data_key
            .as_ref()
            .ok_or_else(|| Error::InvalidMaterials("no data key in the encryption materials"))?;
        let required = &materials.required_encryption_context_keys;
        if let Some(key) = required
            .iter()
            .find(|k| !materials.encryption_context.contains_key(*k))
        {
            return Err(Error::ContextMismatch { key: key.clone() });
        }
        let message_id = self.message_id(suite)?;
        let mut content_key = kdf::ContentKey::default();
        let (content_key, commitment) = kdf::message_keys(
            suite,
            data_key.expose_secret(),
            &message_id,
            &mut content_key,
        )?;
        let aead = Aead::new(content_key)?;
        let auth_only = authenticate_only(&materials.encryption_context, required)?;
        // The stored context is the materials' context without the required keys: moved
        // when there are none (the usual case), filtered otherwise.
        let stored: EncryptionContext = if required.is_empty() {
            materials.encryption_context
        } else {
            materials
                .encryption_context
                .iter()
                .filter(|(k, _)| !required.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let mut header = Header::new(
            suite,
            message_id,
            stored,
            materials.encrypted_data_keys,
            content_type,
            commitment,
        )?;
        header.auth_tag = aead.seal(
            &header.header_iv,
            &header_auth_aad(&header, &auth_only),
            &mut [],
        )?;
        Ok(PreparedEncrypt {
            header,
            aead,
            signing_key: materials.signing_key,
        })
    }

    /// A fresh random message id of `suite`'s length (or the `hazmat` test hook's fixed one).
    fn message_id(&self, suite: &AlgorithmSuite) -> crate::Result<Vec<u8>> {
        #[cfg(feature = "hazmat")]
        if let Some(id) = &self.config.fixed_message_id {
            if id.len() != suite.message_id_len() {
                return Err(Error::ApiMisuse(
                    "the fixed message id does not have the suite's message id length",
                ));
            }
            return Ok(id.clone());
        }
        let mut message_id = vec![0u8; suite.message_id_len()];
        crate::crypto::random_bytes(&mut message_id)?;
        Ok(message_id)
    }

    /// Gets materials, checks commitment and header authentication, and derives the content key.
    pub(crate) async fn prepare_decrypt(
        &self,
        source: KeySource<'_>,
        header: Header,
        reproduced: Option<&EncryptionContext>,
    ) -> crate::Result<PreparedDecrypt> {
        let config = &self.config;
        let suite = header.suite;
        config.commitment_policy.check_decrypt(suite)?;
        if config.unsigned_only && suite.is_signing() {
            return Err(Error::SignedSuiteRefused(suite.id));
        }
        let mut request = DecryptionRequest::new(
            suite,
            config.commitment_policy,
            header.encrypted_data_keys.clone(),
            header.encryption_context.clone(),
        );
        request.reproduced_encryption_context = reproduced.cloned();
        let materials = source.decryption_materials(request).await?;
        if materials.suite.id != suite.id {
            return Err(Error::InvalidMaterials(
                "the materials manager returned another algorithm suite",
            ));
        }
        if suite.is_signing() && materials.verification_key.is_none() {
            return Err(Error::InvalidMaterials(
                "no verification key for a signed suite",
            ));
        }
        let data_key = materials
            .data_key
            .as_ref()
            .ok_or_else(|| Error::InvalidMaterials("no data key in the decryption materials"))?;
        let data_key = data_key.expose_secret();
        let mut slot = kdf::ContentKey::default();
        let (key, commitment) = kdf::message_keys(suite, data_key, &header.message_id, &mut slot)?;
        kdf::check_commitment(
            commitment.as_ref(),
            header.commitment.as_ref().map(|c| &c[..]),
        )?;
        let auth_only = authenticate_only(
            &materials.encryption_context,
            &materials.required_encryption_context_keys,
        )?;
        let aead = Aead::new(key)?;
        let aead = if aead.open(
            &header.header_iv,
            &header_auth_aad(&header, &auth_only),
            &mut [],
            &header.auth_tag,
        ) {
            aead
        } else if config.legacy_net_v4_0_0_retry {
            legacy_net_v4_0_0_retry(&header, data_key, &auth_only)?
        } else {
            return Err(Error::HeaderAuthentication);
        };
        Ok(PreparedDecrypt {
            header,
            aead,
            verification_key: materials.verification_key,
            encryption_context: materials.encryption_context,
        })
    }
}

/// State once the header of a message being encrypted is serialized and authenticated (written
/// to the output by the caller).
#[derive(Debug)]
pub(crate) struct PreparedEncrypt {
    pub(crate) header: Header,
    pub(crate) aead: Aead,
    pub(crate) signing_key: Option<crate::materials::SigningKey>,
}

impl PreparedEncrypt {
    /// The serialized header's length.
    pub(crate) fn header_len(&self) -> usize {
        self.header.serialized_parts().iter().map(|p| p.len()).sum()
    }

    /// Appends the serialized header to `out`, making room for it once.
    pub(crate) fn write_header<S: crate::stream::sink::Sink + ?Sized>(
        &self,
        out: &mut S,
    ) -> crate::Result<()> {
        let start = out.len();
        let mut dst = out.grow(self.header_len());
        for part in self.header.serialized_parts() {
            let Some((head, rest)) = dst.split_at_mut_checked(part.len()) else {
                out.truncate(start);
                return Err(Error::Internal("header length"));
            };
            head.copy_from_slice(part);
            dst = rest;
        }
        if !dst.is_empty() {
            out.truncate(start);
            return Err(Error::Internal("header length"));
        }
        Ok(())
    }

    /// For signed suites, signs `message` (header and body) and appends the footer.
    #[cfg_attr(not(feature = "hazmat"), allow(dead_code))]
    pub(crate) fn append_footer(&self, message: &mut Vec<u8>) -> crate::Result<()> {
        if let Some(key) = &self.signing_key {
            let mut hasher = MessageHasher::new(key.algorithm());
            hasher.update(message);
            crate::format::footer::write(message, &key.sign(hasher)?)?;
        }
        Ok(())
    }
}

/// State after the header of a message being decrypted is authenticated.
#[derive(Debug)]
pub(crate) struct PreparedDecrypt {
    pub(crate) header: Header,
    pub(crate) aead: Aead,
    pub(crate) verification_key: Option<crate::materials::VerificationKey>,
    pub(crate) encryption_context: EncryptionContext,
}
