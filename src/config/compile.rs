//! Turns the raw configuration into checked values that cannot be invalid.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use std::path::PathBuf;

use super::error::ConfigError;
use super::raw::{RawAudit, RawConfig};
use crate::audit;
use crate::policy::Policy;
use crate::proxy::relay::Limits;
use crate::secrets::vault;

/// Default time a server gets to exit after its input closes, and again after SIGTERM.
pub(crate) const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// The checked configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) limits: Limits,
    pub(crate) grace: Duration,
    pub(crate) servers: Vec<Server>,
    pub(crate) audit: audit::Settings,
    /// Patterns of peta's own variables the child gets (`NAME` or `PREFIX*`).
    pub(crate) inherit_env: Vec<String>,
    pub(crate) vault: vault::Settings,
    /// `[[rules]]` and the defaults they fall back on, compiled.
    pub(crate) policy: Policy,
}

/// A configured server.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    pub(crate) name: String,
    pub(crate) command: Option<Vec<OsString>>,
    /// Declared environment entries: plain values or references.
    pub(crate) env: Vec<(String, String)>,
    /// `pin = "strict"`: a tool that first appears mid-session waits for approval too.
    pub(crate) pin_strict: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            grace: DEFAULT_GRACE,
            servers: Vec::new(),
            inherit_env: crate::secrets::env::DEFAULT_ALLOW
                .iter()
                .map(|s| s.to_string())
                .collect(),
            audit: audit::Settings {
                enabled: true,
                path: audit::db::default_path().unwrap_or_else(|| PathBuf::from("peta-audit.db")),
                sync: audit::Sync::Normal,
                retain: None,
                forward: None,
            },
            vault: vault::Settings::default(),
            policy: Policy::default(),
        }
    }
}

impl Config {
    pub(crate) fn server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.name == name)
    }
}

pub(crate) fn compile(raw: RawConfig, file: &Path) -> Result<Config, ConfigError> {
    let invalid = &|key: &str, message: String| ConfigError::Invalid {
        file: file.to_owned(),
        key: key.to_owned(),
        message,
    };
    let mut config = Config::default();
    if let Some(n) = raw.relay.max_line_bytes {
        if !(1024..=1 << 30).contains(&n) {
            return Err(invalid(
                "relay.max_line_bytes",
                format!("{n} is outside 1024..=1073741824"),
            ));
        }
        config.limits.max_line_bytes = n as usize;
    }
    if let Some(n) = raw.relay.max_in_flight {
        if !(1..=1_000_000).contains(&n) {
            return Err(invalid(
                "relay.max_in_flight",
                format!("{n} is outside 1..=1000000"),
            ));
        }
        config.limits.max_in_flight = n as usize;
    }
    if let Some(text) = raw.relay.shutdown_grace {
        config.grace = parse_duration(&text).map_err(|m| invalid("relay.shutdown_grace", m))?;
    }
    config.audit = compile_audit(raw.audit, config.audit, &invalid)?;
    if let Some(path) = raw.vault.path {
        config.vault.path = expand_home(&path)
            .ok_or_else(|| invalid("vault.path", "starts with ~ but HOME is not set".into()))?;
    }
    if let Some(identity) = raw.vault.identity {
        config.vault.identity = Some(vault::IdentitySource::parse(&identity).ok_or_else(|| {
            invalid(
                "vault.identity",
                format!("{identity:?} is neither a file path nor keyring:NAME"),
            )
        })?);
    }
    config.policy = super::policy::compile(&raw.defaults, &raw.servers, raw.rules, invalid)?;
    if let Some(allow) = raw.defaults.inherit_env {
        config.inherit_env = allow;
    }
    for (name, server) in raw.servers {
        let command = match server.command {
            Some(argv) if argv.is_empty() => {
                return Err(invalid(
                    &format!("servers.{name}.command"),
                    "is empty".into(),
                ));
            }
            other => other.map(|argv| argv.into_iter().map(OsString::from).collect()),
        };
        let pin_strict = match server.pin.as_deref() {
            None | Some("first-use") => false,
            Some("strict") => true,
            Some(other) => {
                return Err(invalid(
                    &format!("servers.{name}.pin"),
                    format!("is {other:?}; it must be \"first-use\" or \"strict\""),
                ));
            }
        };
        config.servers.push(Server {
            name,
            command,
            env: server.env.into_iter().collect(),
            pin_strict,
        });
    }
    Ok(config)
}

fn compile_audit(
    raw: RawAudit,
    mut settings: audit::Settings,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<audit::Settings, ConfigError> {
    if let Some(enabled) = raw.enabled {
        settings.enabled = enabled;
    }
    if let Some(path) = raw.path {
        settings.path = expand_home(&path)
            .ok_or_else(|| invalid("audit.path", "starts with ~ but HOME is not set".into()))?;
    }
    if let Some(sync) = raw.sync {
        settings.sync = match sync.as_str() {
            "normal" => audit::Sync::Normal,
            "full" => audit::Sync::Full,
            other => {
                return Err(invalid(
                    "audit.sync",
                    format!("is {other:?}; it must be \"normal\" or \"full\""),
                ));
            }
        };
    }
    if let Some(retain) = raw.retain {
        let age = audit::time::parse_age(&retain)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                invalid(
                    "audit.retain",
                    format!("{retain:?} is not an age like \"90d\" or \"36h\""),
                )
            })?;
        settings.retain = Some(age);
    }
    if let Some(forward) = raw.forward {
        settings.forward = super::forward::compile(forward, invalid)?;
    }
    Ok(settings)
}

/// Expands a leading `~/`.
pub(crate) fn expand_home(path: &str) -> Option<PathBuf> {
    match path.strip_prefix("~/") {
        Some(rest) => Some(PathBuf::from(std::env::var_os("HOME")?).join(rest)),
        None => Some(PathBuf::from(path)),
    }
}

/// Parses `"2s"`, `"500ms"`, `"1m"`, `"1.5s"`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like \"2s\" or \"500ms\""))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("{text:?}: the unit must be ms, s or m")),
    };
    if !(0.0..=3600.0).contains(&seconds) {
        return Err(format!("{text:?} is outside 0s..=60m"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("2").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("2h").is_err());
    }
}
