//! The message header, as decrypt returns it ([`Header`], authenticated) and as anyone can
//! read it without a key ([`UnauthenticatedHeader`], from [`parse_header`]).

pub use crate::format::header::{ContentType, EncryptedDataKey, Header, UnauthenticatedHeader};
pub use crate::suite::MessageFormatVersion;

use crate::format::codec::Reader;
use crate::policy::Limits;

/// Parses a message's header without any key. Nothing in it is authenticated.
///
/// # Errors
/// [`crate::Error::Malformed`] or [`crate::Error::UnknownSuite`] when the header cannot be read.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// # let keyring = esdk::RawAesKeyring::new("ns", "k", &[7u8; 32])?;
/// # let message = esdk::blocking::encrypt(&esdk::Client::default(), &keyring, b"hi", &Default::default())?;
/// let header = esdk::parse_header(&message)?;
/// assert_eq!(header.unauthenticated().suite().id, 0x0578);
/// # Ok(()) }
/// ```
pub fn parse_header(message: &[u8]) -> crate::Result<UnauthenticatedHeader> {
    let mut r = Reader::new(message);
    let header = Header::parse(
        &mut r,
        &Limits {
            max_header_length: usize::MAX,
            ..Limits::default()
        },
    )?;
    Ok(UnauthenticatedHeader {
        header,
        header_len: r.position(),
    })
}
