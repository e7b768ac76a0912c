//! Secrets: references in a server's environment, the environment the child gets, and
//! redaction of injected values from everything that flows back.
//!
//! `reference` parses what a server's env entry says; `env` builds the child's environment
//! (an allow-list of peta's own variables plus the declared entries, nothing else) and
//! resolves every reference before the child starts; `redact` hides the injected values.
//! `keyring` and `vault` are the two places a secret can live.

pub(crate) mod env;
pub(crate) mod import;
pub(crate) mod keyring;
pub(crate) mod redact;
pub(crate) mod reference;
pub(crate) mod vault;

use env::Unavailable;
use keyring::Keyring;
use vault::{Identity, Vault, VaultError};

use zeroize::Zeroizing;

/// A secret's value: wiped from memory when dropped, never shown by `Debug`.
#[derive(Clone)]
pub(crate) struct SecretValue(Zeroizing<String>);

impl SecretValue {
    pub(crate) fn new(value: String) -> Self {
        SecretValue(Zeroizing::new(value))
    }

    /// The value itself, for injection and for building the redactor only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("SecretValue([redacted])")
    }
}

/// The real backends, each opened on first use and at most once per run.
pub(crate) struct Stores {
    vault_settings: vault::Settings,
    keyring: Option<Result<Keyring, keyring::Failure>>,
    vault: Option<Result<Vault, Unavailable>>,
}

impl Stores {
    pub(crate) fn new(vault_settings: vault::Settings) -> Stores {
        Stores {
            vault_settings,
            keyring: None,
            vault: None,
        }
    }

    pub(crate) fn keyring(&mut self) -> Result<Keyring, keyring::Failure> {
        self.keyring.get_or_insert_with(Keyring::open).clone()
    }

    fn open_vault(&mut self) -> Result<Vault, Unavailable> {
        let settings = self.vault_settings.clone();
        let unavailable = |e: VaultError| Unavailable {
            reason: e.to_string(),
            hint: e.hint(),
        };
        let identity = Identity::load(&settings.identity(), &Keyring::open).map_err(unavailable)?;
        Vault::open(&settings.path, &identity).map_err(unavailable)
    }
}

impl env::Backends for Stores {
    fn keyring(&mut self, name: &str) -> Result<SecretValue, Unavailable> {
        Stores::keyring(self)
            .and_then(|k| k.get(name))
            .map_err(|f| Unavailable {
                reason: f.reason,
                hint: if f.missing {
                    format!("store it with `peta secret set {name}`")
                } else {
                    f.hint
                },
            })
    }

    fn vault(&mut self, name: &str) -> Result<SecretValue, Unavailable> {
        if self.vault.is_none() {
            let opened = self.open_vault();
            self.vault = Some(opened);
        }
        match self.vault.as_ref().expect("opened above") {
            Ok(vault) => vault.get(name).map_err(|e| Unavailable {
                reason: e.to_string(),
                hint: e.hint(),
            }),
            Err(u) => Err(u.clone()),
        }
    }
}
