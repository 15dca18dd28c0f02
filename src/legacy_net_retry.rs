//! The ESDK-.NET 4.0.0 retry: reading messages written with that release's two known bugs.
//! See [`crate::ClientBuilder::legacy_net_v4_0_0_retry`].

use crate::crypto::aead::Aead;
use crate::crypto::kdf::{self, V1Info};
use crate::format::header::Header;
use crate::header_auth::header_auth_aad;
use crate::suite::Kdf;
use crate::Error;

/// Retries header authentication the way ESDK-.NET 4.0.0 computed it; see
/// [`crate::ClientBuilder::legacy_net_v4_0_0_retry`].
pub(crate) fn legacy_net_v4_0_0_retry(
    header: &Header,
    data_key: &[u8],
    auth_only: &[u8],
) -> crate::Result<Aead> {
    let suite = header.suite;
    let hkdf_bug = matches!(suite.kdf, Kdf::HkdfSha256 | Kdf::HkdfSha384);
    let aad_bug = auth_only.is_empty();
    if !hkdf_bug && !aad_bug {
        return Err(Error::HeaderAuthentication);
    }
    let info = if hkdf_bug {
        V1Info::LegacyNetV400
    } else {
        V1Info::Spec
    };
    let key = kdf::derive_content_key(suite, data_key, &header.message_id, info)?;
    let aead = Aead::new(&key)?;
    let mut aad = header_auth_aad(header, auth_only).into_owned();
    if aad_bug {
        aad.extend_from_slice(&[0, 0]);
    }
    if aead.open(&header.header_iv, &aad, &mut [], &header.auth_tag) {
        Ok(aead)
    } else {
        Err(Error::HeaderAuthentication)
    }
}
