//! Secrets: references in a server's environment, the environment the child gets, and
//! redaction of injected values from everything that flows back.
//!
//! `reference` parses what a server's env entry says; `env` builds the child's environment
//! (an allow-list of peta's own variables plus the declared entries, nothing else) and
//! resolves every reference before the child starts; `redact` hides the injected values.

pub(crate) mod env;
pub(crate) mod redact;
pub(crate) mod reference;

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
