//! The OS keyring: macOS Keychain, Windows Credential Manager, the Secret Service on Linux
//! and the BSDs. peta's items use the service `peta` and the secret's name as the account.
//!
//! Every call is bounded in time: a Secret Service that waits on an unlock prompt nobody
//! can see must not hold a server's start forever.

use std::collections::HashMap;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use keyring_core::{CredentialStore, Entry, Error as KeyringError};

use super::SecretValue;

/// The service every peta item is stored under.
pub(crate) const SERVICE: &str = "peta";

/// How long one keyring operation may take before peta gives up on it.
const PATIENCE: Duration = Duration::from_secs(20);

/// Why a keyring operation failed: the reason and the fix, neither holding a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub(crate) struct Failure {
    pub(crate) reason: String,
    pub(crate) hint: String,
    /// The item does not exist (as opposed to the keyring not answering).
    pub(crate) missing: bool,
}

/// A connection to a credential store.
#[derive(Clone)]
pub(crate) struct Keyring {
    store: Arc<CredentialStore>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Keyring").finish_non_exhaustive()
    }
}

impl Keyring {
    /// The platform's keyring.
    pub(crate) fn open() -> Result<Keyring, Failure> {
        bounded("connecting to the keyring", || {
            platform_store().map_err(|e| failure(&e))
        })
        .map(|store| Keyring { store })
    }

    /// An in-memory store (unit tests and `peta doctor`-style probes).
    #[cfg(test)]
    pub(crate) fn mock() -> Keyring {
        Keyring {
            store: keyring_core::mock::Store::new().expect("the mock store"),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Result<SecretValue, Failure> {
        let entry = self.entry(name)?;
        bounded("reading from the keyring", move || {
            entry
                .get_password()
                .map(SecretValue::new)
                .map_err(|e| failure(&e))
        })
    }

    pub(crate) fn set(&self, name: &str, value: &SecretValue) -> Result<(), Failure> {
        let entry = self.entry(name)?;
        let value = value.clone();
        bounded("writing to the keyring", move || {
            entry.set_password(value.expose()).map_err(|e| failure(&e))
        })
    }

    /// Removes an item; `Ok(false)` when there was none.
    pub(crate) fn remove(&self, name: &str) -> Result<bool, Failure> {
        let entry = self.entry(name)?;
        bounded("removing from the keyring", move || {
            match entry.delete_credential() {
                Ok(()) => Ok(true),
                Err(KeyringError::NoEntry) => Ok(false),
                Err(e) => Err(failure(&e)),
            }
        })
    }

    /// The names of peta's items, or `None` when the store cannot be searched.
    pub(crate) fn names(&self) -> Result<Option<Vec<String>>, Failure> {
        let store = self.store.clone();
        bounded("listing the keyring", move || {
            let spec = HashMap::from([("service", SERVICE)]);
            match store.search(&spec) {
                Ok(entries) => {
                    let mut names: Vec<String> = entries
                        .iter()
                        .filter_map(Entry::get_specifiers)
                        // The search matches substrings on some stores; keep exact matches.
                        .filter(|(service, _)| service == SERVICE)
                        .map(|(_, user)| user)
                        .collect();
                    names.sort();
                    names.dedup();
                    Ok(Some(names))
                }
                Err(KeyringError::NotSupportedByStore(_)) => Ok(None),
                Err(e) => Err(failure(&e)),
            }
        })
    }

    fn entry(&self, name: &str) -> Result<Entry, Failure> {
        Entry::new_in_store(&self.store, SERVICE, name).map_err(|e| failure(&e))
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(windows)]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

/// Runs a keyring call on its own thread and stops waiting after [`PATIENCE`].
fn bounded<T: Send + 'static>(
    what: &str,
    call: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("peta-keyring".into())
        .spawn(move || {
            let _ = tx.send(call());
        })
        .map_err(|e| Failure {
            reason: format!("cannot start a thread for the keyring: {e}"),
            hint: "the system is out of threads or memory".into(),
            missing: false,
        })?;
    rx.recv_timeout(PATIENCE).unwrap_or_else(|_| {
        Err(Failure {
            reason: format!(
                "the keyring did not answer within {} s while {what}",
                PATIENCE.as_secs()
            ),
            hint: "the keyring may be locked and waiting for an unlock prompt; unlock it and retry"
                .into(),
            missing: false,
        })
    })
}

/// Turns the store's error into words for a person. Values never appear: `BadEncoding`
/// and `BadDataFormat` carry the raw bytes and are described, not printed.
fn failure(error: &KeyringError) -> Failure {
    let (reason, hint, missing) = match error {
        KeyringError::NoEntry => (
            "there is no such item (service \"peta\")".to_owned(),
            "store it with `peta secret set NAME`".to_owned(),
            true,
        ),
        KeyringError::NoStorageAccess(e) => (
            format!("the keyring refused access: {e}"),
            "unlock the login keyring (or the collection peta writes to) and retry".to_owned(),
            false,
        ),
        KeyringError::PlatformFailure(e) => (
            format!("no keyring answered: {e}"),
            unreachable_hint().to_owned(),
            false,
        ),
        KeyringError::NoDefaultStore => (
            "no keyring is available on this system".to_owned(),
            unreachable_hint().to_owned(),
            false,
        ),
        KeyringError::BadEncoding(_) => (
            "the stored value is not UTF-8 text".to_owned(),
            "store it again with `peta secret set NAME`".to_owned(),
            false,
        ),
        KeyringError::BadDataFormat(_, e) => (
            format!("the stored value is malformed: {e}"),
            "store it again with `peta secret set NAME`".to_owned(),
            false,
        ),
        KeyringError::Ambiguous(items) => (
            format!(
                "{} keyring items claim service \"peta\" and this name; another program may have made a look-alike",
                items.len()
            ),
            "remove the extra items (Seahorse, `secret-tool search service peta`, or Keychain Access) and set it again".to_owned(),
            false,
        ),
        other => (
            format!("the keyring failed: {other}"),
            unreachable_hint().to_owned(),
            false,
        ),
    };
    Failure {
        reason,
        hint,
        missing,
    }
}

fn unreachable_hint() -> &'static str {
    if cfg!(target_os = "macos") {
        "check that the login keychain exists and is unlocked (Keychain Access)"
    } else if cfg!(windows) {
        "check that the Credential Manager service is running"
    } else {
        "peta uses the Secret Service over the D-Bus session bus: run inside a desktop session or start gnome-keyring-daemon (or KeePassXC's Secret Service), or keep secrets in an age vault (`peta vault init`)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_list_remove() {
        let keyring = Keyring::mock();
        let value = SecretValue::new("s3cret-value".into());
        keyring.set("github", &value).expect("set");
        keyring.set("slack", &value).expect("set");
        assert_eq!(keyring.get("github").expect("get").expose(), "s3cret-value");
        assert_eq!(
            keyring.names().expect("names"),
            Some(vec!["github".to_owned(), "slack".to_owned()])
        );
        assert!(keyring.remove("github").expect("rm"));
        assert!(!keyring.remove("github").expect("rm again"));
        let missing = keyring.get("github").expect_err("gone");
        assert!(missing.missing, "{missing:?}");
        assert!(missing.hint.contains("peta secret set"));
    }

    #[test]
    fn a_failing_store_is_an_error_without_the_value() {
        let keyring = Keyring::mock();
        let entry = keyring.entry("locked").expect("entry");
        entry.set_password("hidden-canary").expect("set");
        let cred: &keyring_core::mock::Cred = entry.as_any().downcast_ref().expect("mock cred");
        cred.set_error(KeyringError::BadEncoding(b"hidden-canary".to_vec()));
        let err = keyring.get("locked").expect_err("bad encoding");
        assert!(!err.missing);
        assert!(!format!("{err:?} {err}").contains("hidden-canary"));
    }
}
