//! Turns the raw configuration into checked values that cannot be invalid.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use super::error::ConfigError;
use super::raw::RawConfig;
use crate::proxy::relay::Limits;

/// Default time a server gets to exit after its input closes, and again after SIGTERM.
pub(crate) const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// The checked configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) limits: Limits,
    pub(crate) grace: Duration,
    pub(crate) servers: Vec<Server>,
}

/// A configured server.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    pub(crate) name: String,
    pub(crate) command: Option<Vec<OsString>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            grace: DEFAULT_GRACE,
            servers: Vec::new(),
        }
    }
}

impl Config {
    pub(crate) fn server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.name == name)
    }
}

pub(crate) fn compile(raw: RawConfig, file: &Path) -> Result<Config, ConfigError> {
    let invalid = |key: &str, message: String| ConfigError::Invalid {
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
        config.servers.push(Server { name, command });
    }
    Ok(config)
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
