//! Turns the raw configuration into checked values that cannot be invalid.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use std::path::PathBuf;

use super::error::ConfigError;
use super::raw::{RawAudit, RawCommand, RawConfig, RawSandbox};
use crate::audit;
use crate::policy::Policy;
use crate::proxy::relay::Limits;
use crate::sandbox;
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
    /// The approval channels to use, in order of preference (`[defaults] channels`).
    pub(crate) channels: Vec<crate::approval::Kind>,
    /// `[defaults] sandbox`: whether servers are confined.
    pub(crate) sandbox: sandbox::Mode,
}

/// A configured server.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    pub(crate) name: String,
    /// The command the name is bound to: `peta run --server NAME` runs it, and refuses to
    /// run any other under the name (DESIGN.md §11, "server names bind commands").
    pub(crate) command: Option<Vec<OsString>>,
    /// `command = "any"`: the name binds no command; whatever runs under it gets its
    /// environment and rules (grants and pins stay per command).
    pub(crate) any_command: bool,
    /// Declared environment entries: plain values or references.
    pub(crate) env: Vec<(String, String)>,
    /// `pin = "strict"`: a tool that first appears mid-session waits for approval too.
    pub(crate) pin_strict: bool,
    /// `[servers.NAME.sandbox]`: its box beyond the defaults.
    pub(crate) sandbox: sandbox::Settings,
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
            channels: crate::approval::Kind::ALL.to_vec(),
            sandbox: sandbox::Mode::default(),
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
    if let Some(mode) = raw.defaults.sandbox {
        config.sandbox = sandbox::Mode::parse(&mode).ok_or_else(|| {
            invalid(
                "defaults.sandbox",
                format!("is {mode:?}; it must be \"auto\", \"required\" or \"off\""),
            )
        })?;
    }
    if let Some(allow) = raw.defaults.inherit_env {
        config.inherit_env = allow;
    }
    if let Some(names) = raw.defaults.channels {
        config.channels = channels(&names).map_err(|m| invalid("defaults.channels", m))?;
    }
    for (name, server) in raw.servers {
        let key = format!("servers.{name}.command");
        let (command, any_command) = match server.command {
            Some(RawCommand::Argv(argv)) if argv.is_empty() => {
                return Err(invalid(&key, "is empty".into()));
            }
            Some(RawCommand::Argv(argv)) => {
                (Some(argv.into_iter().map(OsString::from).collect()), false)
            }
            Some(RawCommand::Word(word)) if word == "any" => (None, true),
            Some(RawCommand::Word(word)) => {
                return Err(invalid(
                    &key,
                    format!(
                        "is {word:?}; it must be a list (the program and its arguments), or \"any\" to let any command run under this name"
                    ),
                ));
            }
            None => (None, false),
        };
        if command.is_none()
            && !any_command
            && let Some((var, _)) = server.env.iter().find(|(k, v)| gives_secret(k, v))
        {
            return Err(invalid(
                &key,
                format!(
                    "is not set, but env.{var} gives the server a secret: set command to the server's command and arguments, so only that command gets it, or to \"any\" to hand it to whatever command runs as {name:?}"
                ),
            ));
        }
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
        let sandbox = compile_sandbox(&name, server.sandbox, invalid)?;
        config.servers.push(Server {
            name,
            command,
            any_command,
            env: server.env.into_iter().collect(),
            pin_strict,
            sandbox,
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

/// The channels named in `[defaults] channels`, each once.
fn channels(names: &[String]) -> Result<Vec<crate::approval::Kind>, String> {
    use crate::approval::Kind;
    let mut kinds = Vec::with_capacity(names.len());
    for name in names {
        let kind = Kind::parse(name).ok_or_else(|| {
            format!(
                "{name:?} is not a channel; the channels are {}",
                Kind::ALL.map(|k| format!("{:?}", k.name())).join(", ")
            )
        })?;
        if kinds.contains(&kind) {
            return Err(format!("{name:?} is listed twice"));
        }
        kinds.push(kind);
    }
    Ok(kinds)
}

/// Whether an env entry gives a server a secret: a keyring or vault reference, or a plain
/// value that looks like a credential.
fn gives_secret(key: &str, value: &str) -> bool {
    use crate::secrets::reference::{Source, looks_like_credential};
    match Source::parse(value) {
        Source::Keyring(_) | Source::Age(_) => true,
        Source::Plain(value) => looks_like_credential(key, &value),
        Source::Env(_) => false,
    }
}

/// `[servers.NAME.sandbox]`: every path absolute once `~/` is expanded. Whether the paths
/// exist and stay clear of peta's own files is checked when a box is built
/// (`sandbox::check`), by `peta run` and `peta config check` alike.
fn compile_sandbox(
    server: &str,
    raw: RawSandbox,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<sandbox::Settings, ConfigError> {
    let paths = |field: &str, list: Vec<String>| {
        list.into_iter()
            .map(|text| {
                let key = format!("servers.{server}.sandbox.{field}");
                let path = expand_home(&text).ok_or_else(|| {
                    invalid(&key, format!("{text:?} starts with ~ but HOME is not set"))
                })?;
                if path.is_absolute() {
                    Ok(path)
                } else {
                    Err(invalid(
                        &key,
                        format!("{text:?} is not an absolute path (or one starting with ~/)"),
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(sandbox::Settings {
        write: paths("write", raw.write)?,
        read: paths("read", raw.read)?,
        hide: paths("hide", raw.hide)?,
        network: raw.network.unwrap_or(true),
    })
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
    fn a_server_binds_its_command_or_says_any() {
        let parse = |text: &str| crate::config::parse(text, Path::new("peta.toml"));
        let bound =
            parse("[servers.gh]\ncommand = [\"npx\", \"x\"]\nenv = { T = \"keyring:gh\" }\n")
                .expect("bound");
        let gh = bound.server("gh").expect("gh");
        assert_eq!(gh.command.as_deref(), Some(&["npx".into(), "x".into()][..]));
        assert!(!gh.any_command);
        let any =
            parse("[servers.gh]\ncommand = \"any\"\nenv = { T = \"age:gh\" }\n").expect("any");
        assert!(any.server("gh").expect("gh").any_command);
        // Without secrets a server need not bind a command.
        assert!(parse("[servers.gh]\nenv = { LOG = \"debug\", P = \"env:PATH\" }\n").is_ok());
        for (text, reason) in [
            (
                "[servers.gh]\nenv = { T = \"keyring:gh\" }\n",
                "env.T gives the server a secret",
            ),
            (
                "[servers.gh]\nenv = { GITHUB_TOKEN = \"ghp_0123456789abcdef0123456789abcdef0123\" }\n",
                "env.GITHUB_TOKEN gives the server a secret",
            ),
            ("[servers.gh]\ncommand = \"npx x\"\n", "it must be a list"),
            ("[servers.gh]\ncommand = []\n", "is empty"),
        ] {
            match parse(text) {
                Err(ConfigError::Invalid { key, message, .. }) => {
                    assert_eq!(key, "servers.gh.command", "{text}");
                    assert!(message.contains(reason), "{message}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

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
