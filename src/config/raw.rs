//! The configuration file as written: a serde mirror of the TOML, unknown keys refused.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::policy::{Action, Method};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub(crate) relay: RawRelay,
    #[serde(default)]
    pub(crate) servers: BTreeMap<String, RawServer>,
    #[serde(default)]
    pub(crate) audit: RawAudit,
    #[serde(default)]
    pub(crate) defaults: RawDefaults,
    #[serde(default)]
    pub(crate) rules: Vec<RawRule>,
    #[serde(default)]
    pub(crate) vault: RawVault,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVault {
    pub(crate) path: Option<String>,
    pub(crate) identity: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDefaults {
    pub(crate) inherit_env: Option<Vec<String>>,
    pub(crate) default_action: Option<Action>,
    pub(crate) timeout: Option<String>,
    pub(crate) gate: Option<Vec<Method>>,
    pub(crate) channels: Option<Vec<String>>,
    /// "auto", "required" or "off" (`sandbox::Mode`).
    pub(crate) sandbox: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAudit {
    pub(crate) enabled: Option<bool>,
    pub(crate) path: Option<String>,
    pub(crate) sync: Option<String>,
    pub(crate) retain: Option<String>,
    pub(crate) forward: Option<RawForward>,
}

/// `[audit.forward]`: sending every row to a team's collector.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawForward {
    pub(crate) enabled: Option<bool>,
    pub(crate) protocol: Option<String>,
    pub(crate) endpoint: Option<String>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) batch_size: Option<u64>,
    pub(crate) interval: Option<String>,
    pub(crate) max_backoff: Option<String>,
    pub(crate) timeout: Option<String>,
    pub(crate) ca_file: Option<String>,
    pub(crate) prune_unforwarded: Option<bool>,
    pub(crate) exit_flush: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRelay {
    pub(crate) max_line_bytes: Option<u64>,
    pub(crate) max_in_flight: Option<u64>,
    pub(crate) shutdown_grace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub(crate) command: Option<RawCommand>,
    #[serde(default)]
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) default_action: Option<Action>,
    pub(crate) trust_annotations: Option<bool>,
    pub(crate) pin: Option<String>,
    #[serde(default)]
    pub(crate) sandbox: RawSandbox,
}

/// `[servers.NAME.sandbox]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSandbox {
    #[serde(default)]
    pub(crate) write: Vec<String>,
    #[serde(default)]
    pub(crate) read: Vec<String>,
    #[serde(default)]
    pub(crate) hide: Vec<String>,
    pub(crate) network: Option<bool>,
}

/// A server's `command`: the program and its arguments, or `"any"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawCommand {
    Argv(Vec<String>),
    Word(String),
}

/// One `[[rules]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub(crate) id: String,
    pub(crate) server: Option<String>,
    pub(crate) method: Option<Method>,
    pub(crate) tool: Option<String>,
    /// JSON pointer → tests on the value there.
    #[serde(default)]
    pub(crate) args: BTreeMap<String, RawTests>,
    pub(crate) action: Action,
    pub(crate) message: Option<String>,
    pub(crate) timeout: Option<String>,
}

/// The tests on one argument; each one given must hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTests {
    pub(crate) eq: Option<toml::Value>,
    pub(crate) one_of: Option<Vec<toml::Value>>,
    pub(crate) glob: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) regex: Option<String>,
    pub(crate) lt: Option<toml::Value>,
    pub(crate) gt: Option<toml::Value>,
    pub(crate) contains: Option<toml::Value>,
}
