//! What a decision does with a call: let it through, ask a person, or refuse it.

use std::fmt;

use serde::Deserialize;

/// The outcome of a rule or a default. Ordered by strictness: `Allow < Ask < Deny`, so
/// the strictest of several is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Action {
    Allow,
    Ask,
    Deny,
}

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Ask => "ask",
            Action::Deny => "deny",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        // `pad`, so `{:<5}` aligns a column.
        f.pad(self.as_str())
    }
}
