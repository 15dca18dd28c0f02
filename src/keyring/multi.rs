//! The multi-keyring: one generator and any number of children.
//!
//! Spec: `framework/multi-keyring.md`.

use std::sync::Arc;

use super::{ensure_no_data_key, Keyring};
use crate::error::KeyringAttempt;
use crate::format::header::EncryptedDataKey;
use crate::future::MaterialsFuture;
use crate::materials::{DecryptionMaterials, EncryptionMaterials};

/// Combines keyrings: on encrypt the generator makes the data key and every keyring wraps it;
/// on decrypt the first keyring that can open an encrypted data key wins.
///
/// On encrypt the children (after the generator) wrap **concurrently**: each gets a copy of
/// the generator's materials, and their encrypted data keys are appended in configuration
/// order, so a message for KMS keys in three Regions costs the slowest call, not the sum. This
/// differs from the specification's one-after-the-other in ways a custom keyring can notice: a
/// child does not see its siblings' encrypted data keys, the other children are still called
/// (and then cancelled) when one fails, and the error is the first to happen, not the first in
/// order. [`sequential`](Self::sequential) restores the specification's order. On decrypt the
/// keyrings are always tried one at a time.
///
/// ```
/// # fn main() -> Result<(), esdk::Error> {
/// use std::sync::Arc;
/// let a = Arc::new(esdk::RawAesKeyring::new("ns", "a", &[1u8; 32])?);
/// let b = Arc::new(esdk::RawAesKeyring::new("ns", "b", &[2u8; 16])?);
/// let multi = esdk::MultiKeyring::new(Some(a), vec![b.clone()])?;
/// let client = esdk::Client::default();
/// let message = esdk::blocking::encrypt(&client, &multi, b"hi", &Default::default())?;
/// // Either key alone can decrypt.
/// assert_eq!(esdk::blocking::decrypt(&client, b.as_ref(), &message)?.plaintext, b"hi");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MultiKeyring {
    generator: Option<Arc<dyn Keyring>>,
    children: Vec<Arc<dyn Keyring>>,
    sequential: bool,
}

impl MultiKeyring {
    /// A multi-keyring. Without a generator it can only encrypt materials that already hold a data key.
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use std::sync::Arc;
    /// let a = Arc::new(esdk::RawAesKeyring::new("ns", "a", &[1u8; 32])?);
    /// let b = Arc::new(esdk::RawAesKeyring::new("ns", "b", &[2u8; 32])?);
    /// let multi = esdk::MultiKeyring::new(Some(a), vec![b])?;
    /// let message = esdk::blocking::encrypt(&esdk::Client::default(), &multi, b"hi", &Default::default())?;
    /// assert_eq!(esdk::parse_header(&message)?.unauthenticated().encrypted_data_keys().len(), 2);
    /// assert!(matches!(esdk::MultiKeyring::new(None, vec![]), Err(esdk::Error::ApiMisuse(_))));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`crate::Error::ApiMisuse`] when there is neither a generator nor a child.
    pub fn new(
        generator: Option<Arc<dyn Keyring>>,
        children: Vec<Arc<dyn Keyring>>,
    ) -> crate::Result<Self> {
        if generator.is_none() && children.is_empty() {
            return Err(crate::Error::ApiMisuse(
                "a multi-keyring needs a generator or a child keyring",
            ));
        }
        Ok(Self {
            generator,
            children,
            sequential: false,
        })
    }

    /// Children wrap one after the other, each seeing the materials the previous one returned,
    /// as the specification describes (the default is concurrently).
    ///
    /// ```
    /// # fn main() -> Result<(), esdk::Error> {
    /// use std::sync::Arc;
    /// let a = Arc::new(esdk::RawAesKeyring::new("ns", "a", &[1u8; 32])?);
    /// let b = Arc::new(esdk::RawAesKeyring::new("ns", "b", &[2u8; 32])?);
    /// let multi = esdk::MultiKeyring::new(Some(a), vec![b])?.sequential();
    /// # let _ = multi; Ok(()) }
    /// ```
    #[must_use]
    pub fn sequential(mut self) -> Self {
        self.sequential = true;
        self
    }
}

/// Whether a child returned `base` with only encrypted data keys appended after the first
/// `before`.
fn same_but_new_keys(
    base: &EncryptionMaterials,
    returned: &EncryptionMaterials,
    before: usize,
) -> bool {
    let same_key = match (&base.data_key, &returned.data_key) {
        (Some(a), Some(b)) => bool::from(subtle::ConstantTimeEq::ct_eq(
            a.expose_secret(),
            b.expose_secret(),
        )),
        _ => false,
    };
    same_key
        && base.suite.id == returned.suite.id
        && base.encryption_context == returned.encryption_context
        && base.required_encryption_context_keys == returned.required_encryption_context_keys
        && returned.encrypted_data_keys.len() >= before
        && returned.encrypted_data_keys.get(..before) == base.encrypted_data_keys.get(..before)
}

impl Keyring for MultiKeyring {
    fn on_encrypt<'a>(
        &'a self,
        materials: EncryptionMaterials,
    ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
        MaterialsFuture::new(async move {
            let mut materials = match &self.generator {
                Some(generator) => {
                    if materials.data_key.is_some() {
                        return Err(crate::Error::ApiMisuse("materials already hold a data key, but this multi-keyring has a generator"));
                    }
                    let materials = generator.on_encrypt(materials).await?;
                    if materials.data_key.is_none() {
                        return Err(crate::Error::InvalidMaterials(
                            "the generator keyring did not produce a data key",
                        ));
                    }
                    materials
                }
                None if materials.data_key.is_none() => {
                    return Err(crate::Error::ApiMisuse(
                        "no data key, and this multi-keyring has no generator",
                    ));
                }
                None => materials,
            };
            if self.sequential {
                for child in &self.children {
                    materials = child.on_encrypt(materials).await?;
                }
                return Ok(materials);
            }
            // The children wrap the same data key concurrently (for KMS keys in several
            // Regions: the slowest call, not the sum); each gets its own copy of the materials
            // and must return them unchanged but for the encrypted data keys it appends.
            let before = materials.encrypted_data_keys.len();
            let calls = self
                .children
                .iter()
                .map(|child| child.on_encrypt(materials.clone()))
                .collect();
            for returned in crate::future::try_join_all(calls).await? {
                if !same_but_new_keys(&materials, &returned, before) {
                    return Err(crate::Error::InvalidMaterials(
                        "a child keyring changed the materials beyond appending encrypted data keys",
                    ));
                }
                materials
                    .encrypted_data_keys
                    .extend(returned.encrypted_data_keys.into_iter().skip(before));
            }
            Ok(materials)
        })
    }

    fn on_decrypt<'a>(
        &'a self,
        materials: DecryptionMaterials,
        encrypted_data_keys: &'a [EncryptedDataKey],
    ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
        MaterialsFuture::new(async move {
            ensure_no_data_key(&materials)?;
            let mut attempts = Vec::new();
            for keyring in self.generator.iter().chain(self.children.iter()) {
                match keyring
                    .on_decrypt(materials.clone(), encrypted_data_keys)
                    .await
                {
                    Ok(m) if m.data_key.is_some() => return Ok(m),
                    Ok(_) => attempts.push(KeyringAttempt::new(
                        "",
                        format!("{keyring:?}"),
                        crate::Error::InvalidMaterials("the keyring returned no data key"),
                    )),
                    Err(crate::Error::NoKeyringDecrypted { attempts: inner }) => {
                        attempts.extend(inner.into_vec())
                    }
                    // A keyring that failed outright (a key service error): kept whole.
                    Err(e) => attempts.push(KeyringAttempt::new("", format!("{keyring:?}"), e)),
                }
            }
            Err(crate::Error::NoKeyringDecrypted {
                attempts: attempts.into(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::task::{Poll, Waker};

    use super::*;
    use crate::materials::DataKey;

    /// Children that each wait until all of them have started: wrapping one after the other
    /// never finishes, wrapping concurrently does.
    #[derive(Debug)]
    struct Rendezvous {
        started: Arc<AtomicUsize>,
        wakers: Arc<Mutex<Vec<Waker>>>,
        expected: usize,
        name: &'static str,
    }

    impl Keyring for Rendezvous {
        fn on_encrypt<'a>(
            &'a self,
            mut materials: EncryptionMaterials,
        ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
            let mut counted = false;
            MaterialsFuture::new(std::future::poll_fn(move |cx| {
                if !counted {
                    counted = true;
                    self.started.fetch_add(1, Ordering::SeqCst);
                    for w in self.wakers.lock().unwrap().drain(..) {
                        w.wake();
                    }
                }
                if self.started.load(Ordering::SeqCst) < self.expected {
                    self.wakers.lock().unwrap().push(cx.waker().clone());
                    return Poll::Pending;
                }
                materials.encrypted_data_keys.push(EncryptedDataKey {
                    provider_id: "test".into(),
                    provider_info: self.name.as_bytes().to_vec(),
                    ciphertext: vec![1],
                });
                Poll::Ready(Ok(materials.clone()))
            }))
        }

        fn on_decrypt<'a>(
            &'a self,
            _materials: DecryptionMaterials,
            _edks: &'a [EncryptedDataKey],
        ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
            MaterialsFuture::ready(Err(crate::Error::ApiMisuse("not used")))
        }
    }

    #[test]
    fn children_wrap_concurrently_and_keep_their_order() {
        let started = Arc::new(AtomicUsize::new(0));
        let wakers = Arc::new(Mutex::new(Vec::new()));
        let children: Vec<Arc<dyn Keyring>> = ["a", "b", "c"]
            .into_iter()
            .map(|name| {
                Arc::new(Rendezvous {
                    started: started.clone(),
                    wakers: wakers.clone(),
                    expected: 3,
                    name,
                }) as Arc<dyn Keyring>
            })
            .collect();
        let multi = MultiKeyring::new(None, children).unwrap();
        let mut materials = EncryptionMaterials::new(
            crate::suite::AlgorithmSuite::from_id(0x0478).unwrap(),
            Default::default(),
        );
        materials.data_key = Some(DataKey::new(vec![7; 32]));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(crate::blocking::block_on(multi.on_encrypt(materials)));
        });
        let out = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the children did not run concurrently")
            .unwrap();
        let names: Vec<&[u8]> = out
            .encrypted_data_keys
            .iter()
            .map(|e| e.provider_info.as_slice())
            .collect();
        assert_eq!(names, [&b"a"[..], b"b", b"c"]);
    }

    #[derive(Debug)]
    struct ChangesKey;

    impl Keyring for ChangesKey {
        fn on_encrypt<'a>(
            &'a self,
            mut materials: EncryptionMaterials,
        ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
            materials.data_key = Some(DataKey::new(vec![9; 32]));
            MaterialsFuture::ready(Ok(materials))
        }

        fn on_decrypt<'a>(
            &'a self,
            _materials: DecryptionMaterials,
            _edks: &'a [EncryptedDataKey],
        ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
            MaterialsFuture::ready(Err(crate::Error::ApiMisuse("not used")))
        }
    }

    #[test]
    fn sequential_children_see_each_others_keys() {
        #[derive(Debug)]
        struct Counts(Arc<Mutex<Vec<usize>>>);
        impl Keyring for Counts {
            fn on_encrypt<'a>(
                &'a self,
                mut materials: EncryptionMaterials,
            ) -> MaterialsFuture<'a, crate::Result<EncryptionMaterials>> {
                self.0
                    .lock()
                    .unwrap()
                    .push(materials.encrypted_data_keys.len());
                materials.encrypted_data_keys.push(EncryptedDataKey {
                    provider_id: "t".into(),
                    provider_info: vec![],
                    ciphertext: vec![],
                });
                MaterialsFuture::ready(Ok(materials))
            }
            fn on_decrypt<'a>(
                &'a self,
                _materials: DecryptionMaterials,
                _edks: &'a [EncryptedDataKey],
            ) -> MaterialsFuture<'a, crate::Result<DecryptionMaterials>> {
                MaterialsFuture::ready(Err(crate::Error::ApiMisuse("not used")))
            }
        }
        for (sequential, seen) in [(true, vec![0, 1, 2]), (false, vec![0, 0, 0])] {
            let log = Arc::new(Mutex::new(Vec::new()));
            let children: Vec<Arc<dyn Keyring>> = (0..3)
                .map(|_| Arc::new(Counts(log.clone())) as Arc<dyn Keyring>)
                .collect();
            let mut multi = MultiKeyring::new(None, children).unwrap();
            if sequential {
                multi = multi.sequential();
            }
            let mut materials = EncryptionMaterials::new(
                crate::suite::AlgorithmSuite::from_id(0x0478).unwrap(),
                Default::default(),
            );
            materials.data_key = Some(DataKey::new(vec![7; 32]));
            let out = crate::blocking::block_on(multi.on_encrypt(materials)).unwrap();
            assert_eq!(out.encrypted_data_keys.len(), 3);
            assert_eq!(*log.lock().unwrap(), seen);
        }
    }

    #[test]
    fn a_child_that_changes_the_data_key_is_refused() {
        let multi = MultiKeyring::new(None, vec![Arc::new(ChangesKey)]).unwrap();
        let mut materials = EncryptionMaterials::new(
            crate::suite::AlgorithmSuite::from_id(0x0478).unwrap(),
            Default::default(),
        );
        materials.data_key = Some(DataKey::new(vec![7; 32]));
        let err = crate::blocking::block_on(multi.on_encrypt(materials)).unwrap_err();
        assert!(matches!(err, crate::Error::InvalidMaterials(_)), "{err:?}");
    }
}
