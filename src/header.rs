//! The message header, as decrypt returns it ([`Header`], authenticated) and as anyone can
//! read it without a key ([`UnauthenticatedHeader`], from [`parse_header`]).

pub use crate::client::parse_header;
pub use crate::format::header::{ContentType, EncryptedDataKey, Header, UnauthenticatedHeader};
pub use crate::suite::MessageFormatVersion;
