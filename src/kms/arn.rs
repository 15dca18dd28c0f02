//! AWS KMS key identifiers: ARNs, alias names and key ids, multi-Region key (MRK) rules and
//! discovery filters.
//!
//! This module follows the AWS Encryption SDK specification documents
//! `framework/aws-kms/aws-kms-key-arn.md` (what a valid AWS KMS ARN is and how a multi-Region
//! key is recognised), `aws-kms-mrk-match-for-decrypt.md` ([`mrk_match`]),
//! `aws-kms-mrk-are-unique.md` ([`assert_mrks_unique`]), `aws-kms-discovery-keyring.md`
//! ([`DiscoveryFilter`]) and `aws-kms-mrk-discovery-keyring.md` ([`KmsArn::with_region`]).
//!
//! It only parses and compares strings; it never talks to AWS KMS, and it never panics,
//! whatever the input.
//!
//! ```
//! use esdk::kms::arn::{mrk_match, KmsArn, KmsKeyId, ResourceType};
//!
//! let arn: KmsArn = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234".parse()?;
//! assert_eq!(arn.resource_type(), ResourceType::Key);
//! assert!(arn.is_multi_region_key());
//!
//! let id: KmsKeyId = "alias/my-key".parse()?;
//! assert!(!id.is_multi_region_key());
//!
//! assert!(mrk_match(
//!     "arn:aws:kms:us-east-1:111122223333:key/mrk-1234",
//!     "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234",
//! ));
//! # Ok::<(), esdk::kms::arn::ArnError>(())
//! ```

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

/// The only service name a valid AWS KMS ARN may carry.
const SERVICE: &str = "kms";
/// The prefix every ARN starts with (the first `:`-separated part).
const ARN_PREFIX: &str = "arn";
/// The prefix by which a key identifier is recognised as an ARN.
const ARN_IDENTIFIER_PREFIX: &str = "arn:";
/// The prefix of an alias name (and the resource type of an alias ARN, with its `/`).
const ALIAS_PREFIX: &str = "alias/";
/// The prefix of a multi-Region key id.
const MRK_PREFIX: &str = "mrk-";
/// Number of `:`-separated parts in a valid AWS KMS ARN.
const ARN_PARTS: usize = 6;

/// Why a string is not a valid AWS KMS ARN or key identifier, or why a discovery filter was
/// rejected.
///
/// Every variant that concerns a string carries that string (`input`), and its message quotes it.
///
/// ```
/// use esdk::kms::arn::{ArnError, KmsArn};
///
/// let err = KmsArn::parse("arn:aws:s3:us-east-1:111122223333:key/1234").unwrap_err();
/// assert!(matches!(err, ArnError::WrongService { .. }));
/// assert!(err.to_string().contains("\"arn:aws:s3:us-east-1:111122223333:key/1234\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArnError {
    /// The key identifier is the empty string.
    #[error("invalid AWS KMS key identifier \"\": it is empty")]
    Empty,
    /// The ARN does not have exactly six `:`-separated parts (five `:`).
    #[error(
        "invalid AWS KMS ARN {input:?}: expected 6 ':'-separated parts \
         (arn:partition:kms:region:account:resource), found {found}"
    )]
    WrongPartCount {
        /// The rejected string.
        input: String,
        /// How many `:`-separated parts it has.
        found: usize,
    },
    /// The first part of the ARN is not `arn`.
    #[error("invalid AWS KMS ARN {input:?}: it does not start with \"arn\"")]
    MissingArnPrefix {
        /// The rejected string.
        input: String,
    },
    /// The partition (second part) is empty.
    #[error("invalid AWS KMS ARN {input:?}: the partition is empty")]
    EmptyPartition {
        /// The rejected string.
        input: String,
    },
    /// The service (third part) is not `kms`.
    #[error("invalid AWS KMS ARN {input:?}: the service is {service:?}, not \"kms\"")]
    WrongService {
        /// The rejected string.
        input: String,
        /// The service it names.
        service: String,
    },
    /// The Region (fourth part) is empty.
    #[error("invalid AWS KMS ARN {input:?}: the region is empty")]
    EmptyRegion {
        /// The rejected string.
        input: String,
    },
    /// The account (fifth part) is empty.
    #[error("invalid AWS KMS ARN {input:?}: the account is empty")]
    EmptyAccount {
        /// The rejected string.
        input: String,
    },
    /// The resource section (sixth part) is empty.
    #[error("invalid AWS KMS ARN {input:?}: the resource section is empty")]
    EmptyResource {
        /// The rejected string.
        input: String,
    },
    /// The resource section has no `/` between resource type and resource id.
    #[error(
        "invalid AWS KMS ARN {input:?}: the resource section has no '/' \
         between resource type and resource id"
    )]
    MissingResourceSlash {
        /// The rejected string.
        input: String,
    },
    /// The resource type is neither `key` nor `alias`.
    #[error(
        "invalid AWS KMS ARN {input:?}: the resource type is {resource_type:?}, \
         not \"key\" or \"alias\""
    )]
    InvalidResourceType {
        /// The rejected string.
        input: String,
        /// The resource type it names.
        resource_type: String,
    },
    /// The resource id (after the first `/` of the resource section) is empty.
    #[error("invalid AWS KMS ARN {input:?}: the resource id is empty")]
    EmptyResourceId {
        /// The rejected string.
        input: String,
    },
    /// An alias name is `alias/` with nothing after the slash.
    #[error("invalid AWS KMS alias name {input:?}: nothing follows \"alias/\"")]
    EmptyAliasName {
        /// The rejected string.
        input: String,
    },
    /// A bare key id contains a character a key id cannot contain (`:`, `/` or whitespace).
    #[error("invalid AWS KMS key id {input:?}: it contains {character:?}")]
    InvalidKeyIdCharacter {
        /// The rejected string.
        input: String,
        /// The first offending character.
        character: char,
    },
    /// A discovery filter was given an empty partition.
    #[error("invalid AWS KMS discovery filter: the partition is empty")]
    EmptyDiscoveryPartition,
    /// A discovery filter was given no account ids.
    #[error("invalid AWS KMS discovery filter for partition {partition:?}: it lists no accounts")]
    NoDiscoveryAccounts {
        /// The filter's partition.
        partition: String,
    },
    /// A discovery filter was given an empty account id.
    #[error(
        "invalid AWS KMS discovery filter for partition {partition:?}: \
         it lists an empty account id"
    )]
    EmptyDiscoveryAccount {
        /// The filter's partition.
        partition: String,
    },
}

/// The resource type of an AWS KMS ARN: the part of the resource section before the first `/`.
///
/// ```
/// use esdk::kms::arn::{KmsArn, ResourceType};
///
/// let arn = KmsArn::parse("arn:aws:kms:us-west-2:111122223333:alias/test-key")?;
/// assert_eq!(arn.resource_type(), ResourceType::Alias);
/// assert_eq!(ResourceType::Key.to_string(), "key");
/// # Ok::<(), esdk::kms::arn::ArnError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResourceType {
    /// `key`: a key ARN, whose resource id is a key id (`mrk-...` for a multi-Region key).
    Key,
    /// `alias`: an alias ARN, whose resource id is the alias name without `alias/`.
    Alias,
}

impl ResourceType {
    /// The resource type as it is spelled in an ARN.
    fn as_str(self) -> &'static str {
        match self {
            ResourceType::Key => "key",
            ResourceType::Alias => "alias",
        }
    }
}

impl fmt::Display for ResourceType {
    /// Writes `key` or `alias`, as in an ARN.
    ///
    /// ```
    /// use esdk::kms::arn::ResourceType;
    ///
    /// assert_eq!(ResourceType::Alias.to_string(), "alias");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed AWS KMS ARN: `arn:partition:kms:region:account:resource-type/resource-id`.
///
/// Built by [`KmsArn::parse`] (or [`str::parse`]), which accepts exactly the specification's
/// "valid AWS KMS ARN". Its [`Display`](fmt::Display) form is the parsed string again.
///
/// ```
/// use esdk::kms::arn::{KmsArn, ResourceType};
///
/// let s = "arn:aws:kms:us-east-1:2222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// let arn = KmsArn::parse(s)?;
/// assert_eq!(arn.partition(), "aws");
/// assert_eq!(arn.region(), "us-east-1");
/// assert_eq!(arn.account(), "2222222222222");
/// assert_eq!(arn.resource_type(), ResourceType::Key);
/// assert_eq!(arn.resource_id(), "1234abcd-12ab-34cd-56ef-1234567890ab");
/// assert_eq!(arn.to_string(), s);
/// # Ok::<(), esdk::kms::arn::ArnError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KmsArn {
    partition: String,
    region: String,
    account: String,
    resource_type: ResourceType,
    resource_id: String,
}

impl KmsArn {
    /// Parses a valid AWS KMS ARN.
    ///
    /// The string must have exactly five `:`, delimiting six parts: `arn`, a non-empty
    /// partition, `kms`, a non-empty Region, a non-empty account and a resource section. The
    /// resource section is split at its first `/` into a resource type, `key` or `alias`, and a
    /// non-empty resource id; any further `/` belong to the resource id. A resource id therefore
    /// may contain `/` but not `:`.
    ///
    /// # Errors
    ///
    /// An [`ArnError`] naming the first rule the string breaks, checked in the order above.
    ///
    /// ```
    /// use esdk::kms::arn::{ArnError, KmsArn};
    ///
    /// let arn = KmsArn::parse("arn:aws:kms:us-west-2:111122223333:alias/team/test-key")?;
    /// assert_eq!(arn.resource_id(), "team/test-key");
    ///
    /// assert!(matches!(
    ///     KmsArn::parse("arn:aws:kms:us-west-2:111122223333:key/"),
    ///     Err(ArnError::EmptyResourceId { .. })
    /// ));
    /// # Ok::<(), ArnError>(())
    /// ```
    pub fn parse(s: &str) -> Result<KmsArn, ArnError> {
        let input = || s.to_owned();
        let parts: Vec<&str> = s.splitn(ARN_PARTS + 1, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts[..] else {
            return Err(ArnError::WrongPartCount {
                input: input(),
                found: s.matches(':').count() + 1,
            });
        };
        if prefix != ARN_PREFIX {
            return Err(ArnError::MissingArnPrefix { input: input() });
        }
        if partition.is_empty() {
            return Err(ArnError::EmptyPartition { input: input() });
        }
        if service != SERVICE {
            return Err(ArnError::WrongService {
                input: input(),
                service: service.to_owned(),
            });
        }
        if region.is_empty() {
            return Err(ArnError::EmptyRegion { input: input() });
        }
        if account.is_empty() {
            return Err(ArnError::EmptyAccount { input: input() });
        }
        if resource.is_empty() {
            return Err(ArnError::EmptyResource { input: input() });
        }
        let Some((resource_type, resource_id)) = resource.split_once('/') else {
            return Err(ArnError::MissingResourceSlash { input: input() });
        };
        let resource_type = match resource_type {
            "key" => ResourceType::Key,
            "alias" => ResourceType::Alias,
            other => {
                return Err(ArnError::InvalidResourceType {
                    input: input(),
                    resource_type: other.to_owned(),
                })
            }
        };
        if resource_id.is_empty() {
            return Err(ArnError::EmptyResourceId { input: input() });
        }
        Ok(KmsArn {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            resource_type,
            resource_id: resource_id.to_owned(),
        })
    }

    /// The partition, such as `aws`, `aws-cn` or `aws-us-gov`.
    ///
    /// ```
    /// use esdk::kms::arn::KmsArn;
    ///
    /// let arn = KmsArn::parse("arn:aws-cn:kms:cn-north-1:111122223333:key/1234")?;
    /// assert_eq!(arn.partition(), "aws-cn");
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The Region, such as `us-east-1`.
    ///
    /// ```
    /// use esdk::kms::arn::KmsArn;
    ///
    /// let arn = KmsArn::parse("arn:aws:kms:eu-west-1:111122223333:key/1234")?;
    /// assert_eq!(arn.region(), "eu-west-1");
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The account id.
    ///
    /// ```
    /// use esdk::kms::arn::KmsArn;
    ///
    /// let arn = KmsArn::parse("arn:aws:kms:eu-west-1:111122223333:key/1234")?;
    /// assert_eq!(arn.account(), "111122223333");
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The resource type: [`ResourceType::Key`] or [`ResourceType::Alias`].
    ///
    /// ```
    /// use esdk::kms::arn::{KmsArn, ResourceType};
    ///
    /// let arn = KmsArn::parse("arn:aws:kms:eu-west-1:111122223333:key/1234")?;
    /// assert_eq!(arn.resource_type(), ResourceType::Key);
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    pub fn resource_type(&self) -> ResourceType {
        self.resource_type
    }

    /// The resource id: everything after the first `/` of the resource section (a key id for
    /// a key ARN, the alias name without `alias/` for an alias ARN).
    ///
    /// ```
    /// use esdk::kms::arn::KmsArn;
    ///
    /// let arn = KmsArn::parse("arn:aws:kms:eu-west-1:111122223333:key/mrk-1234")?;
    /// assert_eq!(arn.resource_id(), "mrk-1234");
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    pub fn resource_id(&self) -> &str {
        &self.resource_id
    }

    /// Whether this is a multi-Region key ARN: resource type `key` and a resource id that
    /// starts with `mrk-`. An alias ARN is never a multi-Region key, whatever its name.
    ///
    /// ```
    /// use esdk::kms::arn::KmsArn;
    ///
    /// assert!(KmsArn::parse("arn:aws:kms:us-east-1:111122223333:key/mrk-1234")?.is_multi_region_key());
    /// assert!(!KmsArn::parse("arn:aws:kms:us-east-1:111122223333:key/1234")?.is_multi_region_key());
    /// assert!(!KmsArn::parse("arn:aws:kms:us-east-1:111122223333:alias/mrk-1234")?.is_multi_region_key());
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    #[must_use]
    pub fn is_multi_region_key(&self) -> bool {
        self.resource_type == ResourceType::Key && self.resource_id.starts_with(MRK_PREFIX)
    }

    /// The same ARN in another Region: the Region replaced by `region`, every other part kept.
    ///
    /// This is the rewrite the MRK discovery keyring makes before it calls AWS KMS Decrypt for
    /// a multi-Region key found in a message, with `region` the AWS KMS client's Region.
    ///
    /// `region` is taken as given. It should be a valid Region name: if it is empty or
    /// contains `:`, the resulting ARN's string form is no longer a valid AWS KMS ARN and will
    /// not parse back. Validate the Region once, where the client is configured.
    ///
    /// ```
    /// use esdk::kms::arn::KmsArn;
    ///
    /// let stored = KmsArn::parse("arn:aws:kms:us-east-1:111122223333:key/mrk-1234")?;
    /// let local = stored.with_region("eu-west-1");
    /// assert_eq!(local.to_string(), "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234");
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    #[must_use]
    pub fn with_region(&self, region: &str) -> KmsArn {
        KmsArn {
            region: region.to_owned(),
            ..self.clone()
        }
    }
}

impl fmt::Display for KmsArn {
    /// Writes `arn:partition:kms:region:account:resource-type/resource-id`, the string
    /// [`KmsArn::parse`] accepted.
    ///
    /// ```
    /// use esdk::kms::arn::KmsArn;
    ///
    /// let s = "arn:aws:kms:us-west-2:111122223333:alias/test-key";
    /// assert_eq!(KmsArn::parse(s)?.to_string(), s);
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ARN_PREFIX}:{}:{SERVICE}:{}:{}:{}/{}",
            self.partition, self.region, self.account, self.resource_type, self.resource_id
        )
    }
}

impl FromStr for KmsArn {
    type Err = ArnError;

    /// Same as [`KmsArn::parse`].
    ///
    /// ```
    /// use esdk::kms::arn::KmsArn;
    ///
    /// let arn: KmsArn = "arn:aws:kms:us-west-2:111122223333:key/1234".parse()?;
    /// assert_eq!(arn.region(), "us-west-2");
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KmsArn::parse(s)
    }
}

/// Any AWS KMS key identifier accepted in a configuration: a key ARN, an alias ARN, an alias
/// name (`alias/...`) or a key id (including multi-Region `mrk-...` key ids).
///
/// ```
/// use esdk::kms::arn::KmsKeyId;
///
/// assert!(matches!(
///     KmsKeyId::parse("arn:aws:kms:us-east-1:111122223333:key/1234")?,
///     KmsKeyId::Arn(_)
/// ));
/// assert!(matches!(KmsKeyId::parse("alias/test-key")?, KmsKeyId::AliasName(_)));
/// assert!(matches!(KmsKeyId::parse("mrk-1234")?, KmsKeyId::KeyId(_)));
/// # Ok::<(), esdk::kms::arn::ArnError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KmsKeyId {
    /// A key ARN or an alias ARN.
    Arn(KmsArn),
    /// An alias name, including its `alias/` prefix (`alias/test-key`).
    AliasName(String),
    /// A bare key id (`1234abcd-12ab-34cd-56ef-1234567890ab` or `mrk-...`).
    KeyId(String),
}

impl KmsKeyId {
    /// Parses a key identifier.
    ///
    /// A string that starts with `arn:` must be a valid AWS KMS ARN ([`KmsArn::parse`]); one
    /// that starts with `alias/` is an alias name and must have something after the slash; any
    /// other non-empty string is a bare key id, which may not contain `:`, `/` or whitespace.
    /// Alias names and key ids are not checked further: AWS KMS is the authority on them.
    ///
    /// # Errors
    ///
    /// [`ArnError::Empty`] for the empty string, [`ArnError::EmptyAliasName`] for `alias/`,
    /// [`ArnError::InvalidKeyIdCharacter`] for a bad key id, and the [`KmsArn::parse`] errors
    /// for a bad ARN.
    ///
    /// ```
    /// use esdk::kms::arn::{ArnError, KmsKeyId};
    ///
    /// assert_eq!(KmsKeyId::parse("alias/test-key")?.to_string(), "alias/test-key");
    /// assert!(matches!(KmsKeyId::parse("alias/"), Err(ArnError::EmptyAliasName { .. })));
    /// assert!(matches!(KmsKeyId::parse("a b"), Err(ArnError::InvalidKeyIdCharacter { .. })));
    /// # Ok::<(), ArnError>(())
    /// ```
    pub fn parse(s: &str) -> Result<KmsKeyId, ArnError> {
        if s.is_empty() {
            return Err(ArnError::Empty);
        }
        if s.starts_with(ARN_IDENTIFIER_PREFIX) {
            return KmsArn::parse(s).map(KmsKeyId::Arn);
        }
        if let Some(name) = s.strip_prefix(ALIAS_PREFIX) {
            return if name.is_empty() {
                Err(ArnError::EmptyAliasName {
                    input: s.to_owned(),
                })
            } else {
                Ok(KmsKeyId::AliasName(s.to_owned()))
            };
        }
        if let Some(character) = s
            .chars()
            .find(|&c| c == ':' || c == '/' || c.is_whitespace())
        {
            return Err(ArnError::InvalidKeyIdCharacter {
                input: s.to_owned(),
                character,
            });
        }
        Ok(KmsKeyId::KeyId(s.to_owned()))
    }

    /// Whether this identifier names a multi-Region key: an ARN for which
    /// [`KmsArn::is_multi_region_key`] holds, or a key id that starts with `mrk-`. An alias
    /// (name or ARN) is never a multi-Region key, even one called `alias/mrk-...`.
    ///
    /// ```
    /// use esdk::kms::arn::KmsKeyId;
    ///
    /// assert!(KmsKeyId::parse("mrk-1234")?.is_multi_region_key());
    /// assert!(KmsKeyId::parse("arn:aws:kms:us-east-1:111122223333:key/mrk-1234")?.is_multi_region_key());
    /// assert!(!KmsKeyId::parse("alias/mrk-1234")?.is_multi_region_key());
    /// assert!(!KmsKeyId::parse("1234abcd")?.is_multi_region_key());
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    #[must_use]
    pub fn is_multi_region_key(&self) -> bool {
        match self {
            KmsKeyId::Arn(arn) => arn.is_multi_region_key(),
            KmsKeyId::AliasName(_) => false,
            KmsKeyId::KeyId(id) => id.starts_with(MRK_PREFIX),
        }
    }

    /// The Region named by the identifier: `Some` for an ARN, `None` for an alias name or a
    /// key id (those are resolved in the AWS KMS client's Region).
    ///
    /// ```
    /// use esdk::kms::arn::KmsKeyId;
    ///
    /// assert_eq!(KmsKeyId::parse("arn:aws:kms:us-east-1:111122223333:key/1234")?.region(), Some("us-east-1"));
    /// assert_eq!(KmsKeyId::parse("1234")?.region(), None);
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    pub fn region(&self) -> Option<&str> {
        self.as_arn().map(KmsArn::region)
    }

    /// The ARN, if the identifier is one.
    ///
    /// ```
    /// use esdk::kms::arn::KmsKeyId;
    ///
    /// let id = KmsKeyId::parse("arn:aws:kms:us-east-1:111122223333:key/1234")?;
    /// assert_eq!(id.as_arn().map(|arn| arn.account()), Some("111122223333"));
    /// assert!(KmsKeyId::parse("alias/test-key")?.as_arn().is_none());
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    pub fn as_arn(&self) -> Option<&KmsArn> {
        match self {
            KmsKeyId::Arn(arn) => Some(arn),
            KmsKeyId::AliasName(_) | KmsKeyId::KeyId(_) => None,
        }
    }
}

impl fmt::Display for KmsKeyId {
    /// Writes the identifier as it was parsed: the ARN, the alias name with its `alias/`
    /// prefix, or the key id.
    ///
    /// ```
    /// use esdk::kms::arn::KmsKeyId;
    ///
    /// for s in ["arn:aws:kms:us-east-1:111122223333:key/1234", "alias/test-key", "mrk-1234"] {
    ///     assert_eq!(KmsKeyId::parse(s)?.to_string(), s);
    /// }
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KmsKeyId::Arn(arn) => fmt::Display::fmt(arn, f),
            KmsKeyId::AliasName(s) | KmsKeyId::KeyId(s) => f.write_str(s),
        }
    }
}

impl FromStr for KmsKeyId {
    type Err = ArnError;

    /// Same as [`KmsKeyId::parse`].
    ///
    /// ```
    /// use esdk::kms::arn::KmsKeyId;
    ///
    /// let id: KmsKeyId = "mrk-1234".parse()?;
    /// assert!(id.is_multi_region_key());
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KmsKeyId::parse(s)
    }
}

/// The specification's "identifying an AWS KMS multi-Region identifier" on a raw string.
///
/// An identifier that starts with `arn:` but is not a valid AWS KMS ARN (where the specification
/// says the check errors) is treated as not multi-Region: no function here can name an MRK by it.
fn is_mrk_identifier(s: &str) -> bool {
    mrk_resource_id(s).is_some()
}

/// The resource id of a multi-Region key identifier, `None` if `s` does not name one.
fn mrk_resource_id(s: &str) -> Option<String> {
    if s.starts_with(ARN_IDENTIFIER_PREFIX) {
        KmsArn::parse(s)
            .ok()
            .filter(KmsArn::is_multi_region_key)
            .map(|arn| arn.resource_id)
    } else if s.starts_with(ALIAS_PREFIX) {
        None
    } else if s.starts_with(MRK_PREFIX) {
        Some(s.to_owned())
    } else {
        None
    }
}

/// The specification's "AWS KMS MRK Match for Decrypt": whether a configured key identifier
/// matches the key identifier stored in a message.
///
/// Identical strings match. Otherwise both must be multi-Region key identifiers and both must
/// be ARNs that agree on everything but the Region (partition, service, account, resource type
/// and resource id). A bare `mrk-...` key id matches only itself: without an ARN there is no
/// account or partition to compare. Single-Region keys and aliases match only themselves.
///
/// ```
/// use esdk::kms::arn::mrk_match;
///
/// // the same multi-Region key, replicated to another Region
/// assert!(mrk_match(
///     "arn:aws:kms:us-east-1:111122223333:key/mrk-1234",
///     "arn:aws:kms:us-west-2:111122223333:key/mrk-1234",
/// ));
/// // a single-Region key exists in one Region only
/// assert!(!mrk_match(
///     "arn:aws:kms:us-east-1:111122223333:key/1234",
///     "arn:aws:kms:us-west-2:111122223333:key/1234",
/// ));
/// ```
#[must_use]
pub fn mrk_match(configured: &str, stored: &str) -> bool {
    if configured == stored {
        return true;
    }
    if !is_mrk_identifier(configured) || !is_mrk_identifier(stored) {
        return false;
    }
    match (KmsArn::parse(configured), KmsArn::parse(stored)) {
        (Ok(a), Ok(b)) => {
            // The service is `kms` in both: parse accepts nothing else.
            a.partition == b.partition
                && a.account == b.account
                && a.resource_type == b.resource_type
                && a.resource_id == b.resource_id
        }
        _ => false,
    }
}

/// The error of [`assert_mrks_unique`]: the key identifiers, in the order given, that name a
/// multi-Region key whose resource id is named more than once.
///
/// ```
/// use esdk::kms::arn::assert_mrks_unique;
///
/// let err = assert_mrks_unique([
///     "arn:aws:kms:us-east-1:111122223333:key/mrk-1234",
///     "arn:aws:kms:us-west-2:111122223333:key/mrk-1234",
/// ])
/// .unwrap_err();
/// assert_eq!(err.identifiers().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "AWS KMS multi-Region keys configured more than once (same resource id in several \
     identifiers; choose one Region per key): {}",
    quote_all(.identifiers)
)]
pub struct DuplicateMrkError {
    identifiers: Vec<String>,
}

impl DuplicateMrkError {
    /// Every identifier whose multi-Region resource id is duplicated, in the order given (an
    /// identifier given twice is listed twice).
    ///
    /// ```
    /// use esdk::kms::arn::assert_mrks_unique;
    ///
    /// let err = assert_mrks_unique([
    ///     "mrk-1234",
    ///     "arn:aws:kms:us-east-1:111122223333:key/1234",
    ///     "arn:aws:kms:us-west-2:111122223333:key/mrk-1234",
    /// ])
    /// .unwrap_err();
    /// assert_eq!(
    ///     err.identifiers(),
    ///     ["mrk-1234", "arn:aws:kms:us-west-2:111122223333:key/mrk-1234"]
    /// );
    /// ```
    pub fn identifiers(&self) -> &[String] {
        &self.identifiers
    }
}

/// `"a", "b", "c"`: each string quoted (escaped as [`fmt::Debug`] does), comma-separated.
fn quote_all(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The specification's "Assert AWS KMS MRK are unique": fails if two or more of the key
/// identifiers name multi-Region keys with the same resource id.
///
/// Multi-Region key ARNs and bare `mrk-...` key ids count; their resource ids are compared
/// (`key/mrk-1234` in any Region, account or partition, and `mrk-1234`, are the same). Aliases,
/// single-Region keys and strings that are not valid identifiers are ignored.
///
/// # Errors
///
/// A [`DuplicateMrkError`] listing every identifier involved in a duplicate, not only the
/// first pair found.
///
/// ```
/// use esdk::kms::arn::assert_mrks_unique;
///
/// assert!(assert_mrks_unique([
///     "arn:aws:kms:us-east-1:111122223333:key/mrk-1234",
///     "arn:aws:kms:us-east-1:111122223333:key/mrk-5678",
///     "alias/mrk-1234",
/// ])
/// .is_ok());
/// assert!(assert_mrks_unique([
///     "arn:aws:kms:us-east-1:111122223333:key/mrk-1234",
///     "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234",
/// ])
/// .is_err());
/// ```
pub fn assert_mrks_unique<'a>(
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<(), DuplicateMrkError> {
    let mrks: Vec<(&str, String)> = ids
        .into_iter()
        .filter_map(|id| mrk_resource_id(id).map(|resource_id| (id, resource_id)))
        .collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (_, resource_id) in &mrks {
        *counts.entry(resource_id.as_str()).or_insert(0) += 1;
    }
    let identifiers: Vec<String> = mrks
        .iter()
        .filter(|(_, resource_id)| counts.get(resource_id.as_str()).is_some_and(|&n| n > 1))
        .map(|(id, _)| (*id).to_owned())
        .collect();
    if identifiers.is_empty() {
        Ok(())
    } else {
        Err(DuplicateMrkError { identifiers })
    }
}

/// A discovery filter: the AWS KMS keys of a discovery keyring are limited to one partition
/// and a non-empty set of account ids.
///
/// ```
/// use esdk::kms::arn::{DiscoveryFilter, KmsArn};
///
/// let filter = DiscoveryFilter::new("aws", ["111122223333"])?;
/// assert!(filter.matches(&KmsArn::parse("arn:aws:kms:us-east-1:111122223333:key/1234")?));
/// assert!(!filter.matches(&KmsArn::parse("arn:aws:kms:us-east-1:444455556666:key/1234")?));
/// # Ok::<(), esdk::kms::arn::ArnError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveryFilter {
    partition: String,
    accounts: BTreeSet<String>,
}

impl DiscoveryFilter {
    /// A filter for `partition` and `accounts`. Duplicate account ids are kept once.
    ///
    /// # Errors
    ///
    /// [`ArnError::EmptyDiscoveryPartition`] if the partition is empty,
    /// [`ArnError::EmptyDiscoveryAccount`] if an account id is empty, and
    /// [`ArnError::NoDiscoveryAccounts`] if there are no account ids.
    ///
    /// ```
    /// use esdk::kms::arn::{ArnError, DiscoveryFilter};
    ///
    /// assert!(DiscoveryFilter::new("aws", ["111122223333", "444455556666"]).is_ok());
    /// assert!(matches!(
    ///     DiscoveryFilter::new("aws", Vec::<String>::new()),
    ///     Err(ArnError::NoDiscoveryAccounts { .. })
    /// ));
    /// assert!(matches!(
    ///     DiscoveryFilter::new("", ["111122223333"]),
    ///     Err(ArnError::EmptyDiscoveryPartition)
    /// ));
    /// ```
    pub fn new(
        partition: impl Into<String>,
        accounts: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<Self, ArnError> {
        let partition = partition.into();
        if partition.is_empty() {
            return Err(ArnError::EmptyDiscoveryPartition);
        }
        let mut set = BTreeSet::new();
        for account in accounts {
            let account = account.into();
            if account.is_empty() {
                return Err(ArnError::EmptyDiscoveryAccount { partition });
            }
            set.insert(account);
        }
        if set.is_empty() {
            return Err(ArnError::NoDiscoveryAccounts { partition });
        }
        Ok(DiscoveryFilter {
            partition,
            accounts: set,
        })
    }

    /// The partition.
    ///
    /// ```
    /// use esdk::kms::arn::DiscoveryFilter;
    ///
    /// assert_eq!(DiscoveryFilter::new("aws-cn", ["111122223333"])?.partition(), "aws-cn");
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The account ids, each once, in sorted order.
    ///
    /// ```
    /// use esdk::kms::arn::DiscoveryFilter;
    ///
    /// let filter = DiscoveryFilter::new("aws", ["444455556666", "111122223333", "111122223333"])?;
    /// assert_eq!(filter.accounts().collect::<Vec<_>>(), ["111122223333", "444455556666"]);
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    pub fn accounts(&self) -> impl Iterator<Item = &str> {
        self.accounts.iter().map(String::as_str)
    }

    /// Whether `arn` passes the filter: its partition is the filter's and its account is one
    /// of the filter's accounts. (The resource type is not checked here.)
    ///
    /// ```
    /// use esdk::kms::arn::{DiscoveryFilter, KmsArn};
    ///
    /// let filter = DiscoveryFilter::new("aws", ["111122223333"])?;
    /// assert!(filter.matches(&KmsArn::parse("arn:aws:kms:us-east-1:111122223333:key/1234")?));
    /// assert!(!filter.matches(&KmsArn::parse("arn:aws-cn:kms:cn-north-1:111122223333:key/1234")?));
    /// # Ok::<(), esdk::kms::arn::ArnError>(())
    /// ```
    #[must_use]
    pub fn matches(&self, arn: &KmsArn) -> bool {
        arn.partition == self.partition && self.accounts.contains(&arn.account)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const MRK_USE1: &str =
        "arn:aws:kms:us-east-1:111122223333:key/mrk-80bd8ecdcd4342aebd84b7dc9da498a7";
    const MRK_USW2: &str =
        "arn:aws:kms:us-west-2:111122223333:key/mrk-80bd8ecdcd4342aebd84b7dc9da498a7";
    const MRK_ID: &str = "mrk-80bd8ecdcd4342aebd84b7dc9da498a7";
    const SRK_USE1: &str =
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const SRK_USW2: &str =
        "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    /// The variant name of an error, to compare against a table without spelling out inputs.
    fn kind(err: &ArnError) -> String {
        let debug = format!("{err:?}");
        debug
            .split(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn valid_arns_parse_into_their_parts() {
        // (input, partition, region, account, type, id)
        let table: &[(&str, &str, &str, &str, ResourceType, &str)] = &[
            (
                "arn:aws:kms:us-east-1:2222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "aws",
                "us-east-1",
                "2222222222222",
                ResourceType::Key,
                "1234abcd-12ab-34cd-56ef-1234567890ab",
            ),
            (
                "arn:aws:kms:us-east-1:2222222222222:key/mrk-4321abcd12ab34cd56ef1234567890ab",
                "aws",
                "us-east-1",
                "2222222222222",
                ResourceType::Key,
                "mrk-4321abcd12ab34cd56ef1234567890ab",
            ),
            (
                "arn:aws:kms:us-west-2:111122223333:alias/test-key",
                "aws",
                "us-west-2",
                "111122223333",
                ResourceType::Alias,
                "test-key",
            ),
            // further '/' belong to the resource id
            (
                "arn:aws:kms:us-west-2:111122223333:alias/aws/s3",
                "aws",
                "us-west-2",
                "111122223333",
                ResourceType::Alias,
                "aws/s3",
            ),
            (
                "arn:aws:kms:us-west-2:111122223333:key/a/b/",
                "aws",
                "us-west-2",
                "111122223333",
                ResourceType::Key,
                "a/b/",
            ),
            (
                "arn:aws:kms:us-west-2:111122223333:key//",
                "aws",
                "us-west-2",
                "111122223333",
                ResourceType::Key,
                "/",
            ),
            // any non-empty partition, region and account: the spec checks nothing more
            (
                "arn:aws-cn:kms:cn-north-1:1:key/k",
                "aws-cn",
                "cn-north-1",
                "1",
                ResourceType::Key,
                "k",
            ),
            (
                "arn:p:kms:r:a:alias/mrk-x",
                "p",
                "r",
                "a",
                ResourceType::Alias,
                "mrk-x",
            ),
            (
                "arn:é:kms:🦀:ü:key/ключ",
                "é",
                "🦀",
                "ü",
                ResourceType::Key,
                "ключ",
            ),
        ];
        for &(input, partition, region, account, resource_type, resource_id) in table {
            let arn = KmsArn::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(arn.partition(), partition, "{input}");
            assert_eq!(arn.region(), region, "{input}");
            assert_eq!(arn.account(), account, "{input}");
            assert_eq!(arn.resource_type(), resource_type, "{input}");
            assert_eq!(arn.resource_id(), resource_id, "{input}");
            assert_eq!(arn.to_string(), input, "round trip");
            assert_eq!(input.parse::<KmsArn>().as_ref(), Ok(&arn), "FromStr");
        }
    }

    #[test]
    fn invalid_arns_are_rejected_with_the_rule_they_break() {
        let table: &[(&str, &str)] = &[
            // too few / too many ':'
            ("", "WrongPartCount"),
            (":", "WrongPartCount"),
            (":::::::", "WrongPartCount"),
            ("arn:aws:kms:us-east-1:111122223333", "WrongPartCount"),
            ("arn:aws:kms:us-east-1:key/1234", "WrongPartCount"),
            (
                "arn:aws:kms:us-east-1:111122223333:key/1234:extra",
                "WrongPartCount",
            ),
            (
                "arn:aws:kms:us-east-1:111122223333:key/mrk-1:2",
                "WrongPartCount",
            ),
            ("key/1234", "WrongPartCount"),
            // prefix must be exactly "arn"
            (
                ":aws:kms:us-east-1:111122223333:key/1234",
                "MissingArnPrefix",
            ),
            (
                "ARN:aws:kms:us-east-1:111122223333:key/1234",
                "MissingArnPrefix",
            ),
            (
                "arnx:aws:kms:us-east-1:111122223333:key/1234",
                "MissingArnPrefix",
            ),
            (
                " arn:aws:kms:us-east-1:111122223333:key/1234",
                "MissingArnPrefix",
            ),
            (
                "aws:aws:kms:us-east-1:111122223333:key/1234",
                "MissingArnPrefix",
            ),
            // empty parts
            ("arn::kms:us-east-1:111122223333:key/1234", "EmptyPartition"),
            ("arn:aws:kms::111122223333:key/1234", "EmptyRegion"),
            ("arn:aws:kms:us-east-1::key/1234", "EmptyAccount"),
            ("arn:aws:kms:us-east-1:111122223333:", "EmptyResource"),
            ("arn:::::", "EmptyPartition"),
            // service must be exactly "kms"
            ("arn:aws:s3:us-east-1:111122223333:key/1234", "WrongService"),
            ("arn:aws::us-east-1:111122223333:key/1234", "WrongService"),
            (
                "arn:aws:KMS:us-east-1:111122223333:key/1234",
                "WrongService",
            ),
            (
                "arn:aws:kms :us-east-1:111122223333:key/1234",
                "WrongService",
            ),
            // resource section
            (
                "arn:aws:kms:us-east-1:111122223333:key",
                "MissingResourceSlash",
            ),
            (
                "arn:aws:kms:us-east-1:111122223333:1234",
                "MissingResourceSlash",
            ),
            (
                "arn:aws:kms:us-east-1:111122223333:/1234",
                "InvalidResourceType",
            ),
            (
                "arn:aws:kms:us-east-1:111122223333:Key/1234",
                "InvalidResourceType",
            ),
            (
                "arn:aws:kms:us-east-1:111122223333:keys/1234",
                "InvalidResourceType",
            ),
            (
                "arn:aws:kms:us-east-1:111122223333:grant/1234",
                "InvalidResourceType",
            ),
            ("arn:aws:kms:us-east-1:111122223333:key/", "EmptyResourceId"),
            (
                "arn:aws:kms:us-east-1:111122223333:alias/",
                "EmptyResourceId",
            ),
        ];
        for &(input, expected) in table {
            let err = KmsArn::parse(input).expect_err(input);
            assert_eq!(kind(&err), expected, "{input}: {err}");
            assert!(
                err.to_string().contains(&format!("{input:?}")),
                "message quotes the input: {err}"
            );
        }
    }

    #[test]
    fn error_messages_say_what_is_wrong() {
        let err = KmsArn::parse("arn:aws:s3:us-east-1:1:key/1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid AWS KMS ARN \"arn:aws:s3:us-east-1:1:key/1\": the service is \"s3\", not \"kms\""
        );
        let err = KmsArn::parse("a:b").unwrap_err();
        assert!(err.to_string().contains("found 2"), "{err}");
        let err = KmsArn::parse("arn:aws:kms:r:a:grant/x").unwrap_err();
        assert!(err.to_string().contains("\"grant\""), "{err}");
        let err = KmsKeyId::parse("ab\ncd").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid AWS KMS key id \"ab\\ncd\": it contains '\\n'"
        );
    }

    #[test]
    fn key_ids_parse_by_prefix() {
        // (input, expected variant or error kind)
        let table: &[(&str, Result<&str, &str>)] = &[
            (SRK_USE1, Ok("Arn")),
            (MRK_USE1, Ok("Arn")),
            (
                "arn:aws:kms:us-west-2:111122223333:alias/test-key",
                Ok("Arn"),
            ),
            ("alias/test-key", Ok("AliasName")),
            ("alias/mrk-1234", Ok("AliasName")),
            ("alias/aws/s3", Ok("AliasName")),
            ("1234abcd-12ab-34cd-56ef-1234567890ab", Ok("KeyId")),
            ("mrk-4321abcd12ab34cd56ef1234567890ab", Ok("KeyId")),
            ("mrk-", Ok("KeyId")),
            ("alias", Ok("KeyId")),
            ("", Err("Empty")),
            ("alias/", Err("EmptyAliasName")),
            ("arn:", Err("WrongPartCount")),
            (
                "arn:aws:kms:us-east-1:111122223333:key/",
                Err("EmptyResourceId"),
            ),
            (
                "arn:aws:sns:us-east-1:111122223333:key/1",
                Err("WrongService"),
            ),
            ("key/1234", Err("InvalidKeyIdCharacter")),
            (
                "ARN:aws:kms:us-east-1:111122223333:key/1234",
                Err("InvalidKeyIdCharacter"),
            ),
            ("aws:kms", Err("InvalidKeyIdCharacter")),
            ("12 34", Err("InvalidKeyIdCharacter")),
            (" 1234", Err("InvalidKeyIdCharacter")),
            ("1234\t", Err("InvalidKeyIdCharacter")),
            ("\u{3000}", Err("InvalidKeyIdCharacter")),
        ];
        for &(input, expected) in table {
            match (KmsKeyId::parse(input), expected) {
                (Ok(id), Ok(variant)) => {
                    let debug = format!("{id:?}");
                    assert!(debug.starts_with(variant), "{input}: {debug}");
                    assert_eq!(id.to_string(), input, "round trip");
                    assert_eq!(input.parse::<KmsKeyId>().as_ref(), Ok(&id), "FromStr");
                }
                (Err(err), Err(expected)) => assert_eq!(kind(&err), expected, "{input}: {err}"),
                (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn multi_region_identification() {
        // (identifier, is MRK) — the spec's examples and its alias caveat
        let table: &[(&str, bool)] = &[
            (
                "arn:aws:kms:us-east-1:2222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                false,
            ),
            (
                "arn:aws:kms:us-east-1:2222222222222:key/mrk-4321abcd12ab34cd56ef1234567890ab",
                true,
            ),
            ("arn:aws:kms:us-west-2:111122223333:alias/test-key", false),
            (
                "arn:aws:kms:us-west-2:111122223333:alias/mrk-test-key",
                false,
            ),
            ("1234abcd-12ab-34cd-56ef-1234567890ab", false),
            ("mrk-4321abcd12ab34cd56ef1234567890ab", true),
            ("alias/test-key", false),
            ("alias/mrk-4321abcd12ab34cd56ef1234567890ab", false),
            ("arn:aws:kms:us-east-1:2222222222222:key/Mrk-1", false),
            ("arn:aws:kms:us-east-1:2222222222222:key/xmrk-1", false),
            ("MRK-1234", false),
        ];
        for &(input, expected) in table {
            let id = KmsKeyId::parse(input).unwrap();
            assert_eq!(id.is_multi_region_key(), expected, "{input}");
            assert_eq!(is_mrk_identifier(input), expected, "{input} (string rule)");
            if let Some(arn) = id.as_arn() {
                assert_eq!(arn.is_multi_region_key(), expected, "{input} (ARN rule)");
                assert_eq!(id.region(), Some(arn.region()));
            } else {
                assert_eq!(id.region(), None);
            }
        }
        // invalid ARNs are not MRK identifiers
        assert!(!is_mrk_identifier("arn:aws:kms:us-east-1::key/mrk-1"));
        assert!(!is_mrk_identifier("arn:mrk-1"));
    }

    #[test]
    fn mrk_match_table() {
        // (configured, stored, match)
        let table: &[(&str, &str, bool)] = &[
            // identical strings, whatever they are
            (MRK_USE1, MRK_USE1, true),
            (SRK_USE1, SRK_USE1, true),
            ("alias/test-key", "alias/test-key", true),
            (MRK_ID, MRK_ID, true),
            ("", "", true),
            ("not an identifier", "not an identifier", true),
            // the same MRK in another Region
            (MRK_USE1, MRK_USW2, true),
            (MRK_USW2, MRK_USE1, true),
            (
                "arn:aws:kms:eu-west-1:111122223333:key/mrk-1",
                "arn:aws:kms:ap-south-1:111122223333:key/mrk-1",
                true,
            ),
            // different account, partition or key
            (
                MRK_USE1,
                "arn:aws:kms:us-west-2:444455556666:key/mrk-80bd8ecdcd4342aebd84b7dc9da498a7",
                false,
            ),
            (
                MRK_USE1,
                "arn:aws-cn:kms:us-west-2:111122223333:key/mrk-80bd8ecdcd4342aebd84b7dc9da498a7",
                false,
            ),
            (
                MRK_USE1,
                "arn:aws:kms:us-west-2:111122223333:key/mrk-00000000000000000000000000000000",
                false,
            ),
            // a single-Region key in two Regions is two keys
            (SRK_USE1, SRK_USW2, false),
            // aliases are never MRKs, even ones named mrk-...
            (
                "arn:aws:kms:us-east-1:111122223333:alias/mrk-1",
                "arn:aws:kms:us-west-2:111122223333:alias/mrk-1",
                false,
            ),
            (
                "arn:aws:kms:us-east-1:111122223333:alias/test",
                "arn:aws:kms:us-west-2:111122223333:alias/test",
                false,
            ),
            (
                "alias/mrk-1",
                "arn:aws:kms:us-west-2:111122223333:key/mrk-1",
                false,
            ),
            // MRK against SRK (same id after the prefix or not)
            (MRK_USE1, SRK_USE1, false),
            (
                "arn:aws:kms:us-east-1:111122223333:key/mrk-1",
                "arn:aws:kms:us-east-1:111122223333:key/1",
                false,
            ),
            // a bare mrk- id has no account or partition to compare: it matches only itself
            (MRK_ID, MRK_USE1, false),
            (MRK_USE1, MRK_ID, false),
            // invalid stored ARNs never match a configured one
            (
                MRK_USE1,
                "arn:aws:kms:us-west-2::key/mrk-80bd8ecdcd4342aebd84b7dc9da498a7",
                false,
            ),
            (MRK_USE1, "", false),
        ];
        for &(configured, stored, expected) in table {
            assert_eq!(
                mrk_match(configured, stored),
                expected,
                "{configured} vs {stored}"
            );
            assert_eq!(
                mrk_match(stored, configured),
                expected,
                "symmetric: {stored} vs {configured}"
            );
        }
    }

    #[test]
    fn mrk_uniqueness_table() {
        // (identifiers, Ok or the identifiers the error lists)
        let table: &[(&[&str], Option<&[&str]>)] = &[
            (&[], None),
            (&[SRK_USE1, "alias/test-key", "1234"], None),
            // duplicated single-Region keys and aliases are not this function's business
            (&[SRK_USE1, SRK_USW2, SRK_USE1], None),
            (
                &[
                    "alias/mrk-1",
                    "alias/mrk-1",
                    "arn:aws:kms:us-east-1:1:alias/mrk-1",
                ],
                None,
            ),
            // distinct MRKs
            (
                &[
                    MRK_USE1,
                    "arn:aws:kms:us-west-2:111122223333:key/mrk-2",
                    "mrk-3",
                ],
                None,
            ),
            // alias named like an MRK next to that MRK
            (
                &[MRK_USE1, "alias/mrk-80bd8ecdcd4342aebd84b7dc9da498a7"],
                None,
            ),
            // one MRK, two Regions
            (&[MRK_USE1, SRK_USE1, MRK_USW2], Some(&[MRK_USE1, MRK_USW2])),
            // an MRK ARN and its bare id
            (&[MRK_ID, MRK_USE1], Some(&[MRK_ID, MRK_USE1])),
            // three duplicates, all listed; an unrelated MRK is not
            (
                &[MRK_USE1, "mrk-other", MRK_USW2, "alias/x", MRK_ID],
                Some(&[MRK_USE1, MRK_USW2, MRK_ID]),
            ),
            // two separate duplicated MRKs, all four listed in input order
            (
                &[
                    "mrk-a",
                    "mrk-b",
                    "arn:aws:kms:r:1:key/mrk-a",
                    "arn:aws:kms:r:1:key/mrk-b",
                ],
                Some(&[
                    "mrk-a",
                    "mrk-b",
                    "arn:aws:kms:r:1:key/mrk-a",
                    "arn:aws:kms:r:1:key/mrk-b",
                ]),
            ),
            // the same identifier twice
            (&[MRK_USE1, MRK_USE1], Some(&[MRK_USE1, MRK_USE1])),
            // resource ids are compared, whatever the account
            (
                &["arn:aws:kms:r:1:key/mrk-a", "arn:aws:kms:r:2:key/mrk-a"],
                Some(&["arn:aws:kms:r:1:key/mrk-a", "arn:aws:kms:r:2:key/mrk-a"]),
            ),
            // invalid identifiers are ignored
            (
                &["arn:aws:kms:r::key/mrk-a", "arn:aws:kms:r:1:key/mrk-a"],
                None,
            ),
        ];
        for &(ids, expected) in table {
            let result = assert_mrks_unique(ids.iter().copied());
            match (result, expected) {
                (Ok(()), None) => {}
                (Err(err), Some(listed)) => {
                    assert_eq!(err.identifiers(), listed, "{ids:?}");
                    let message = err.to_string();
                    for id in listed {
                        assert!(message.contains(&format!("{id:?}")), "{message}");
                    }
                }
                (got, want) => panic!("{ids:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn with_region_rewrites_only_the_region() {
        let table: &[(&str, &str, &str)] = &[
            (MRK_USE1, "us-west-2", MRK_USW2),
            (MRK_USE1, "us-east-1", MRK_USE1),
            (
                "arn:aws-cn:kms:cn-north-1:111122223333:key/mrk-1/x",
                "cn-northwest-1",
                "arn:aws-cn:kms:cn-northwest-1:111122223333:key/mrk-1/x",
            ),
            (
                "arn:aws:kms:us-east-1:111122223333:alias/a",
                "eu-west-1",
                "arn:aws:kms:eu-west-1:111122223333:alias/a",
            ),
        ];
        for &(input, region, expected) in table {
            let original = KmsArn::parse(input).unwrap();
            let rewritten = original.with_region(region);
            assert_eq!(rewritten.to_string(), expected);
            assert_eq!(KmsArn::parse(expected).unwrap(), rewritten);
            assert_eq!(rewritten.region(), region);
            assert_eq!(rewritten.partition(), original.partition());
            assert_eq!(rewritten.account(), original.account());
            assert_eq!(rewritten.resource_type(), original.resource_type());
            assert_eq!(rewritten.resource_id(), original.resource_id());
            assert!(mrk_match(input, expected) || !original.is_multi_region_key());
        }
        // an invalid region is kept as given (documented): the result no longer parses
        let odd = KmsArn::parse(MRK_USE1).unwrap().with_region("");
        assert_eq!(odd.region(), "");
        assert!(KmsArn::parse(&odd.to_string()).is_err());
    }

    #[test]
    fn discovery_filter_table() {
        let filter = DiscoveryFilter::new("aws", ["111122223333", "444455556666"]).unwrap();
        assert_eq!(filter.partition(), "aws");
        assert_eq!(
            filter.accounts().collect::<Vec<_>>(),
            ["111122223333", "444455556666"]
        );
        let table: &[(&str, bool)] = &[
            ("arn:aws:kms:us-east-1:111122223333:key/1234", true),
            ("arn:aws:kms:eu-west-1:444455556666:key/mrk-1", true),
            ("arn:aws:kms:us-east-1:111122223333:alias/a", true),
            // account mismatch
            ("arn:aws:kms:us-east-1:777788889999:key/1234", false),
            ("arn:aws:kms:us-east-1:11112222333:key/1234", false),
            // partition mismatch
            ("arn:aws-cn:kms:cn-north-1:111122223333:key/1234", false),
            (
                "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/1234",
                false,
            ),
            ("arn:AWS:kms:us-east-1:111122223333:key/1234", false),
        ];
        for &(input, expected) in table {
            assert_eq!(
                filter.matches(&KmsArn::parse(input).unwrap()),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn discovery_filter_construction() {
        let none: [&str; 0] = [];
        let table: &[(&str, &[&str], Result<usize, &str>)] = &[
            ("aws", &["1"], Ok(1)),
            ("aws", &["2", "1", "2"], Ok(2)),
            ("", &["1"], Err("EmptyDiscoveryPartition")),
            ("aws", &none, Err("NoDiscoveryAccounts")),
            ("aws", &["1", ""], Err("EmptyDiscoveryAccount")),
            ("", &none, Err("EmptyDiscoveryPartition")),
        ];
        for &(partition, accounts, expected) in table {
            match (
                DiscoveryFilter::new(partition, accounts.iter().copied()),
                expected,
            ) {
                (Ok(filter), Ok(n)) => assert_eq!(filter.accounts().count(), n),
                (Err(err), Err(kind_name)) => assert_eq!(kind(&err), kind_name, "{err}"),
                (got, want) => panic!("{partition:?} {accounts:?}: got {got:?}, want {want:?}"),
            }
        }
        // owned Strings work too
        let owned = DiscoveryFilter::new(String::from("aws"), vec![String::from("1")]).unwrap();
        assert_eq!(owned.partition(), "aws");
    }

    /// A tiny deterministic generator (xorshift64*), so the test needs no extra dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }
    }

    fn fragments() -> &'static [&'static str] {
        &[
            "arn",
            "arn:",
            "kms",
            ":",
            "::",
            "/",
            "//",
            "key",
            "key/",
            "alias",
            "alias/",
            "mrk-",
            "aws",
            "aws-cn",
            "us-east-1",
            "111122223333",
            "1234",
            "",
            " ",
            "\t",
            "\n",
            "\0",
            "é",
            "🦀",
            "\u{200b}",
            "\u{3000}",
            "-",
            "a",
            "Z",
            "%",
            "\\",
            "\"",
        ]
    }

    /// Checks every function on one input (and a partner) for consistency; panics only on a
    /// broken invariant.
    fn exercise(s: &str, other: &str) {
        match KmsArn::parse(s) {
            Ok(arn) => {
                assert_eq!(arn.to_string(), s);
                assert_eq!(KmsArn::parse(&arn.to_string()).as_ref(), Ok(&arn));
                assert_eq!(KmsKeyId::parse(s), Ok(KmsKeyId::Arn(arn.clone())));
                let moved = arn.with_region("xx-test-1");
                assert_eq!(KmsArn::parse(&moved.to_string()), Ok(moved.clone()));
                assert_eq!(
                    mrk_match(s, &moved.to_string()),
                    arn.is_multi_region_key() || moved == arn
                );
            }
            Err(err) => {
                let _ = err.to_string();
            }
        }
        match KmsKeyId::parse(s) {
            Ok(id) => {
                assert_eq!(id.to_string(), s);
                assert_eq!(KmsKeyId::parse(&id.to_string()).as_ref(), Ok(&id));
                assert_eq!(id.is_multi_region_key(), is_mrk_identifier(s));
                assert_eq!(id.region().is_some(), id.as_arn().is_some());
            }
            Err(err) => {
                let _ = err.to_string();
            }
        }
        assert!(mrk_match(s, s));
        assert_eq!(mrk_match(s, other), mrk_match(other, s));
        let _ = assert_mrks_unique([s, other, s]);
        if is_mrk_identifier(s) {
            assert!(assert_mrks_unique([s, s]).is_err());
        }
        if let Ok(filter) = DiscoveryFilter::new(s, [other]) {
            if let Ok(arn) = KmsArn::parse(s) {
                let _ = filter.matches(&arn);
            }
        }
    }

    #[test]
    fn never_panics_and_round_trips_on_random_and_edge_inputs() {
        let long_colons = ":".repeat(100_000);
        let long_arn = format!("arn:aws:kms:us-east-1:1:key/mrk-{}", "x/".repeat(50_000));
        let long_id = "a".repeat(100_000);
        let edges = [
            "",
            ":",
            "/",
            "arn",
            "arn:",
            "arn::::",
            "arn:::::",
            "arn::::::",
            "alias/",
            "alias",
            "mrk-",
            "mrk",
            "arn:aws:kms:us-east-1:1:key/",
            "arn:aws:kms:us-east-1:1:key//",
            "🦀:🦀:🦀:🦀:🦀:🦀",
            "arn:🦀:kms:🦀:🦀:key/mrk-🦀",
            long_colons.as_str(),
            long_arn.as_str(),
            long_id.as_str(),
        ];
        for a in edges {
            for b in edges {
                exercise(a, b);
            }
        }
        let fragments = fragments();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let generate = |rng: &mut Rng| {
            let n = rng.below(14);
            (0..n)
                .map(|_| fragments[rng.below(fragments.len())])
                .collect::<String>()
        };
        for _ in 0..20_000 {
            let a = generate(&mut rng);
            let b = generate(&mut rng);
            exercise(&a, &b);
        }
        // ARN-shaped inputs with random parts reach the deeper rules
        for _ in 0..20_000 {
            let parts: Vec<String> = (0..6)
                .map(|_| generate(&mut rng).replace(':', ""))
                .collect();
            let shaped = format!(
                "arn:{}:kms:{}:{}:{}/{}",
                parts[0],
                parts[1],
                parts[2],
                ["key", "alias", "mrk-"][rng.below(3)],
                parts[3]
            );
            let other = format!(
                "arn:{}:kms:{}:{}:key/{}",
                parts[0], parts[4], parts[2], parts[3]
            );
            exercise(&shaped, &other);
        }
    }
}
