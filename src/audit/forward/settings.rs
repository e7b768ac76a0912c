//! `[audit.forward]` checked: where rows go and how they are paced.

use std::path::PathBuf;
use std::time::Duration;

/// Where rows go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// OTLP/HTTP with protobuf bodies, to the logs URL (`…/v1/logs`).
    Otlp { url: String },
    /// RFC 5424 messages, octet-counted (RFC 6587), over TCP or TLS (RFC 5425).
    Syslog { host: String, port: u16, tls: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    pub(crate) protocol: Protocol,
    /// HTTP headers as written: plain values or `keyring:`/`age:`/`env:` references,
    /// resolved when the forwarder starts, never logged.
    pub(crate) headers: Vec<(String, String)>,
    /// Most rows in one request.
    pub(crate) batch_size: usize,
    /// How often the log is looked at for new rows, and the first retry's wait.
    pub(crate) interval: Duration,
    /// The longest wait between retries.
    pub(crate) max_backoff: Duration,
    /// How long one send may take before it counts as failed.
    pub(crate) timeout: Duration,
    /// Extra trust anchors (PEM) for https:// and tls:// endpoints.
    pub(crate) ca_file: Option<PathBuf>,
    /// Whether `audit.retain` may prune rows the collector has not acknowledged.
    pub(crate) prune_unforwarded: bool,
    /// How long a `peta run` that is exiting keeps sending the rows still unsent.
    pub(crate) exit_flush: Duration,
}

impl Settings {
    pub(crate) const DEFAULT_BATCH: usize = 500;
    pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
    pub(crate) const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(60);
    pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    pub(crate) const DEFAULT_EXIT_FLUSH: Duration = Duration::from_secs(1);

    pub(crate) fn new(protocol: Protocol) -> Settings {
        Settings {
            protocol,
            headers: Vec::new(),
            batch_size: Self::DEFAULT_BATCH,
            interval: Self::DEFAULT_INTERVAL,
            max_backoff: Self::DEFAULT_MAX_BACKOFF,
            timeout: Self::DEFAULT_TIMEOUT,
            ca_file: None,
            prune_unforwarded: false,
            exit_flush: Self::DEFAULT_EXIT_FLUSH,
        }
    }

    /// The destination as people read it and as the cursor file records it: a different
    /// destination starts from the oldest row again.
    pub(crate) fn target(&self) -> String {
        match &self.protocol {
            Protocol::Otlp { url } => format!("otlp {url}"),
            Protocol::Syslog { host, port, tls } => {
                format!(
                    "syslog {}://{host}:{port}",
                    if *tls { "tls" } else { "tcp" }
                )
            }
        }
    }
}

/// Parses `endpoint` for `protocol` ("otlp" or "syslog"); the error says what is expected.
pub(crate) fn parse_endpoint(protocol: &str, endpoint: &str) -> Result<Protocol, String> {
    match protocol {
        "otlp" => {
            let rest = endpoint
                .strip_prefix("http://")
                .or_else(|| endpoint.strip_prefix("https://"))
                .ok_or_else(|| {
                    format!(
                        "{endpoint:?} is not an http:// or https:// URL (OTLP/HTTP logs, e.g. \"https://collector:4318/v1/logs\")"
                    )
                })?;
            if rest.is_empty() || rest.starts_with('/') {
                return Err(format!("{endpoint:?} names no host"));
            }
            // The endpoint is shown by --status and in errors; credentials go in headers.
            if rest
                .split(['/', '?', '#'])
                .next()
                .is_some_and(|a| a.contains('@'))
            {
                return Err(
                    "holds credentials (user:password@); put them in [audit.forward.headers], with a keyring: reference"
                        .into(),
                );
            }
            Ok(Protocol::Otlp {
                url: endpoint.to_owned(),
            })
        }
        "syslog" => {
            let (tls, rest) = if let Some(rest) = endpoint.strip_prefix("tcp://") {
                (false, rest)
            } else if let Some(rest) = endpoint.strip_prefix("tls://") {
                (true, rest)
            } else {
                return Err(format!(
                    "{endpoint:?} is not tcp://HOST:PORT or tls://HOST:PORT"
                ));
            };
            let (host, port) = rest
                .rsplit_once(':')
                .ok_or_else(|| format!("{endpoint:?} has no port"))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let port: u16 = port
                .parse()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("{endpoint:?} has no valid port"))?;
            if host.is_empty() {
                return Err(format!("{endpoint:?} names no host"));
            }
            Ok(Protocol::Syslog {
                host: host.to_owned(),
                port,
                tls,
            })
        }
        other => Err(format!("is {other:?}; it must be \"otlp\" or \"syslog\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            parse_endpoint("otlp", "https://c:4318/v1/logs"),
            Ok(Protocol::Otlp {
                url: "https://c:4318/v1/logs".into()
            })
        );
        assert!(parse_endpoint("otlp", "c:4318").is_err());
        assert!(parse_endpoint("otlp", "http:///v1/logs").is_err());
        assert!(parse_endpoint("otlp", "https://u:p@c/v1/logs").is_err());
        assert_eq!(
            parse_endpoint("syslog", "tls://[::1]:6514"),
            Ok(Protocol::Syslog {
                host: "::1".into(),
                port: 6514,
                tls: true
            })
        );
        assert!(parse_endpoint("syslog", "udp://h:514").is_err());
        assert!(parse_endpoint("syslog", "tcp://h").is_err());
        assert!(parse_endpoint("syslog", "tcp://h:0").is_err());
        assert!(parse_endpoint("kafka", "x").is_err());
    }
}
