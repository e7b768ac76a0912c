//! `[audit.forward]` from the file to checked settings: a protocol and an endpoint that go
//! together, header names HTTP accepts, durations and sizes in range.

use super::compile::{expand_home, parse_duration};
use super::error::ConfigError;
use super::raw::RawForward;
use crate::audit::forward::settings::{Protocol, Settings, parse_endpoint};

/// `None` when forwarding is switched off (`enabled = false`).
pub(super) fn compile(
    raw: RawForward,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Option<Settings>, ConfigError> {
    let key = |k: &str| format!("audit.forward.{k}");
    let protocol_name = raw.protocol.ok_or_else(|| {
        invalid(
            &key("protocol"),
            "is missing; it must be \"otlp\" or \"syslog\"".into(),
        )
    })?;
    let endpoint = raw
        .endpoint
        .ok_or_else(|| invalid(&key("endpoint"), "is missing".into()))?;
    let protocol = match protocol_name.as_str() {
        "otlp" | "syslog" => {
            parse_endpoint(&protocol_name, &endpoint).map_err(|m| invalid(&key("endpoint"), m))?
        }
        other => {
            return Err(invalid(
                &key("protocol"),
                format!("is {other:?}; it must be \"otlp\" or \"syslog\""),
            ));
        }
    };
    let mut settings = Settings::new(protocol);
    if !raw.headers.is_empty() && !matches!(settings.protocol, Protocol::Otlp { .. }) {
        return Err(invalid(
            &key("headers"),
            "only apply to protocol = \"otlp\"".into(),
        ));
    }
    for (name, value) in raw.headers {
        // RFC 9110 §5.1: a field name is a token.
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(invalid(
                &key(&format!("headers.{name}")),
                "is not a valid HTTP header name".into(),
            ));
        }
        settings.headers.push((name, value));
    }
    if let Some(n) = raw.batch_size {
        if !(1..=10_000).contains(&n) {
            return Err(invalid(
                &key("batch_size"),
                format!("{n} is outside 1..=10000"),
            ));
        }
        settings.batch_size = n as usize;
    }
    let duration = |k: &str, text: Option<String>, min_ms: u64| -> Result<_, ConfigError> {
        let Some(text) = text else { return Ok(None) };
        let d = parse_duration(&text).map_err(|m| invalid(&key(k), m))?;
        if d.as_millis() < u128::from(min_ms) {
            return Err(invalid(
                &key(k),
                format!("{text:?} is shorter than {min_ms}ms"),
            ));
        }
        Ok(Some(d))
    };
    if let Some(d) = duration("interval", raw.interval, 10)? {
        settings.interval = d;
    }
    if let Some(d) = duration("max_backoff", raw.max_backoff, 10)? {
        settings.max_backoff = d;
    }
    if let Some(d) = duration("timeout", raw.timeout, 100)? {
        settings.timeout = d;
    }
    if let Some(d) = duration("exit_flush", raw.exit_flush, 0)? {
        settings.exit_flush = d;
    }
    if settings.max_backoff < settings.interval {
        settings.max_backoff = settings.interval;
    }
    if let Some(path) = raw.ca_file {
        settings.ca_file =
            Some(expand_home(&path).ok_or_else(|| {
                invalid(&key("ca_file"), "starts with ~ but HOME is not set".into())
            })?);
    }
    if let Some(prune) = raw.prune_unforwarded {
        settings.prune_unforwarded = prune;
    }
    Ok(if raw.enabled == Some(false) {
        None
    } else {
        Some(settings)
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::config::{ConfigError, parse};

    fn forward(text: &str) -> Result<Option<crate::audit::forward::Settings>, ConfigError> {
        parse(&format!("[audit.forward]\n{text}"), Path::new("peta.toml")).map(|c| c.audit.forward)
    }

    #[test]
    fn a_full_section() {
        let settings = forward(
            "protocol = \"otlp\"\nendpoint = \"https://c:4318/v1/logs\"\nbatch_size = 100\ninterval = \"250ms\"\nheaders = { Authorization = \"keyring:otlp-token\" }\n",
        )
        .expect("parses")
        .expect("on");
        assert_eq!(settings.batch_size, 100);
        assert_eq!(settings.interval, Duration::from_millis(250));
        assert_eq!(
            settings.headers,
            [("Authorization".to_owned(), "keyring:otlp-token".to_owned())]
        );
        assert_eq!(settings.target(), "otlp https://c:4318/v1/logs");
        assert!(!settings.prune_unforwarded);
        assert!(
            forward("enabled = false\nprotocol = \"syslog\"\nendpoint = \"tcp://h:514\"\n")
                .expect("parses")
                .is_none()
        );
    }

    #[test]
    fn mistakes_name_the_key() {
        for (text, key) in [
            ("endpoint = \"tcp://h:1\"\n", "audit.forward.protocol"),
            ("protocol = \"otlp\"\n", "audit.forward.endpoint"),
            (
                "protocol = \"otlp\"\nendpoint = \"tcp://h:1\"\n",
                "audit.forward.endpoint",
            ),
            (
                "protocol = \"syslog\"\nendpoint = \"tcp://h:1\"\nheaders = { A = \"b\" }\n",
                "audit.forward.headers",
            ),
            (
                "protocol = \"otlp\"\nendpoint = \"http://h/v1/logs\"\nheaders = { \"A B\" = \"b\" }\n",
                "audit.forward.headers.A B",
            ),
            (
                "protocol = \"otlp\"\nendpoint = \"http://h/v1/logs\"\nbatch_size = 0\n",
                "audit.forward.batch_size",
            ),
            (
                "protocol = \"otlp\"\nendpoint = \"http://h/v1/logs\"\ntimeout = \"1ms\"\n",
                "audit.forward.timeout",
            ),
        ] {
            match forward(text) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(
            forward("protocol = \"otlp\"\nendpiont = \"x\"\n"),
            Err(ConfigError::Parse { suggestion: Some(s), .. }) if s == "endpoint"
        ));
    }
}
