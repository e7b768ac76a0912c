//! OTLP/HTTP logs: each batch is one `ExportLogsServiceRequest` (protobuf) POSTed to the
//! logs URL, one log record per row (see `record.rs` for its attributes).
//!
//! Replies, as the OTLP specification (`otlp.md`, "OTLP/HTTP Response") defines them: a 2xx
//! acknowledges the batch; a partial success is acknowledged too (the client must not
//! retry it) and its note kept for `--status`. 429, 502, 503 and 504 are retried after
//! `Retry-After` or the backoff. Any other status would make an OTLP exporter drop the
//! data; an audit forwarder must not lose rows, so it keeps them and retries at the
//! longest backoff until someone fixes the token or the URL.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost::Message;

use super::record::{self, Resource, Value};
use super::{Accepted, SendError, Settings, Sink};
use crate::audit::row::Row;
use crate::secrets::SecretValue;
use crate::secrets::env::Backends;
use crate::secrets::reference::Source;

/// Messages of opentelemetry-proto v1 (`opentelemetry/proto/collector/logs/v1/
/// logs_service.proto`, `logs/v1/logs.proto`, `common/v1/common.proto`,
/// `resource/v1/resource.proto`), with the field numbers of those files. Only the fields
/// peta writes or reads; a decoder skips the rest.
pub(crate) mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct ExportLogsServiceRequest {
        #[prost(message, repeated, tag = "1")]
        pub(crate) resource_logs: Vec<ResourceLogs>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct ExportLogsServiceResponse {
        #[prost(message, optional, tag = "1")]
        pub(crate) partial_success: Option<ExportLogsPartialSuccess>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct ExportLogsPartialSuccess {
        #[prost(int64, tag = "1")]
        pub(crate) rejected_log_records: i64,
        #[prost(string, tag = "2")]
        pub(crate) error_message: String,
    }

    /// `google.rpc.Status`, the body of an OTLP/HTTP error reply.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Status {
        #[prost(int32, tag = "1")]
        pub(crate) code: i32,
        #[prost(string, tag = "2")]
        pub(crate) message: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct ResourceLogs {
        #[prost(message, optional, tag = "1")]
        pub(crate) resource: Option<Resource>,
        #[prost(message, repeated, tag = "2")]
        pub(crate) scope_logs: Vec<ScopeLogs>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Resource {
        #[prost(message, repeated, tag = "1")]
        pub(crate) attributes: Vec<KeyValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct ScopeLogs {
        #[prost(message, optional, tag = "1")]
        pub(crate) scope: Option<InstrumentationScope>,
        #[prost(message, repeated, tag = "2")]
        pub(crate) log_records: Vec<LogRecord>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct InstrumentationScope {
        #[prost(string, tag = "1")]
        pub(crate) name: String,
        #[prost(string, tag = "2")]
        pub(crate) version: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct LogRecord {
        #[prost(fixed64, tag = "1")]
        pub(crate) time_unix_nano: u64,
        #[prost(fixed64, tag = "11")]
        pub(crate) observed_time_unix_nano: u64,
        /// `SeverityNumber`: 9 INFO, 13 WARN.
        #[prost(int32, tag = "2")]
        pub(crate) severity_number: i32,
        #[prost(string, tag = "3")]
        pub(crate) severity_text: String,
        #[prost(message, optional, tag = "5")]
        pub(crate) body: Option<AnyValue>,
        #[prost(message, repeated, tag = "6")]
        pub(crate) attributes: Vec<KeyValue>,
        #[prost(string, tag = "12")]
        pub(crate) event_name: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct KeyValue {
        #[prost(string, tag = "1")]
        pub(crate) key: String,
        #[prost(message, optional, tag = "2")]
        pub(crate) value: Option<AnyValue>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct AnyValue {
        #[prost(oneof = "Value", tags = "1, 2, 3")]
        pub(crate) value: Option<Value>,
    }

    /// `AnyValue.value`: `string_value`, `bool_value`, `int_value`.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(crate) enum Value {
        #[prost(string, tag = "1")]
        String(String),
        #[prost(bool, tag = "2")]
        Bool(bool),
        #[prost(int64, tag = "3")]
        Int(i64),
    }
}

const SEVERITY_INFO: i32 = 9;
const SEVERITY_WARN: i32 = 13;
/// The most of a reply's body read back (error texts; acknowledgements are tiny).
const REPLY_LIMIT: u64 = 64 * 1024;

pub(crate) struct Otlp {
    agent: ureq::Agent,
    url: String,
    headers: Vec<(String, SecretValue)>,
    resource: proto::Resource,
}

impl Otlp {
    pub(crate) fn new(
        url: &str,
        settings: &Settings,
        resource: Resource,
        backends: &mut dyn Backends,
    ) -> Result<Otlp, SendError> {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(settings.timeout))
            .max_redirects(0)
            .user_agent(concat!("peta/", env!("CARGO_PKG_VERSION")))
            .tls_config(super::tls::http_config(settings.ca_file.as_deref())?)
            .build();
        Ok(Otlp {
            agent: config.new_agent(),
            url: url.to_owned(),
            headers: resolve_headers(&settings.headers, backends)?,
            resource: resource_of(&resource),
        })
    }

    pub(crate) fn request(&self, rows: &[Row]) -> proto::ExportLogsServiceRequest {
        let observed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let log_records = rows
            .iter()
            .map(|row| {
                let warn = record::is_warning(row);
                proto::LogRecord {
                    time_unix_nano: crate::audit::time::unix_micros(&row.ts)
                        .and_then(|us| u64::try_from(us).ok())
                        .map_or(0, |us| us.saturating_mul(1000)),
                    observed_time_unix_nano: observed,
                    severity_number: if warn { SEVERITY_WARN } else { SEVERITY_INFO },
                    severity_text: if warn { "WARN" } else { "INFO" }.into(),
                    body: Some(string(record::summary(row))),
                    attributes: record::attributes(row)
                        .into_iter()
                        .map(|(k, v)| key_value(k, v))
                        .collect(),
                    event_name: format!("peta.audit.{}", row.kind),
                }
            })
            .collect();
        proto::ExportLogsServiceRequest {
            resource_logs: vec![proto::ResourceLogs {
                resource: Some(self.resource.clone()),
                scope_logs: vec![proto::ScopeLogs {
                    scope: Some(proto::InstrumentationScope {
                        name: "peta.audit".into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                    }),
                    log_records,
                }],
            }],
        }
    }

    fn post(&self, body: Vec<u8>) -> Result<Accepted, SendError> {
        let mut request = self
            .agent
            .post(&self.url)
            .header("content-type", "application/x-protobuf");
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.expose());
        }
        let mut reply = request
            .send(&body[..])
            .map_err(|e| SendError::new(format!("POST {}: {e}", self.url)))?;
        let status = reply.status().as_u16();
        let retry_after = reply
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = reply
            .body_mut()
            .with_config()
            .limit(REPLY_LIMIT)
            .read_to_vec()
            .unwrap_or_default();
        if (200..300).contains(&status) {
            let answer = proto::ExportLogsServiceResponse::decode(&body[..]).unwrap_or_default();
            let rejected = answer
                .partial_success
                .filter(|p| p.rejected_log_records > 0 || !p.error_message.is_empty())
                .map(|p| {
                    format!(
                        "the collector dropped {} of the rows: {}",
                        p.rejected_log_records,
                        crate::display::visible(&p.error_message)
                    )
                });
            return Ok(Accepted { rejected });
        }
        let said = proto::Status::decode(&body[..])
            .ok()
            .map(|s| s.message)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned());
        let said = crate::display::visible(said.trim());
        Err(SendError {
            message: format!(
                "{} answered HTTP {status}{}{said}",
                self.url,
                if said.is_empty() { "" } else { ": " }
            ),
            retry_after,
        })
    }
}

impl Sink for Otlp {
    fn send(&mut self, rows: &[Row]) -> Result<Accepted, SendError> {
        self.post(self.request(rows).encode_to_vec())
    }

    fn probe(&mut self) -> Result<String, SendError> {
        // An empty export is a valid request: it checks the URL, TLS and the token.
        self.post(proto::ExportLogsServiceRequest::default().encode_to_vec())
            .map(|_| format!("{} accepts OTLP logs", self.url))
    }
}

fn string(s: String) -> proto::AnyValue {
    proto::AnyValue {
        value: Some(proto::Value::String(s)),
    }
}

fn key_value(key: &str, value: Value) -> proto::KeyValue {
    proto::KeyValue {
        key: key.to_owned(),
        value: Some(proto::AnyValue {
            value: Some(match value {
                Value::Str(s) => proto::Value::String(s.to_owned()),
                Value::Int(i) => proto::Value::Int(i),
                Value::Bool(b) => proto::Value::Bool(b),
            }),
        }),
    }
}

/// `service.name`, `service.version`, `host.name`, `user.name` (OpenTelemetry resource
/// conventions) and `peta.audit.path`.
fn resource_of(resource: &Resource) -> proto::Resource {
    let mut attributes = vec![
        key_value("service.name", Value::Str("peta")),
        key_value("service.version", Value::Str(env!("CARGO_PKG_VERSION"))),
        key_value("host.name", Value::Str(&resource.host)),
    ];
    if let Some(user) = &resource.user {
        attributes.push(key_value("user.name", Value::Str(user)));
    }
    attributes.push(key_value(
        "peta.audit.path",
        Value::Str(&resource.audit_path),
    ));
    proto::Resource { attributes }
}

/// Resolves each header's value (a plain value or a secret reference). A reference that
/// cannot be resolved stops the forwarder: rows are never sent without their credentials.
pub(crate) fn resolve_headers(
    headers: &[(String, String)],
    backends: &mut dyn Backends,
) -> Result<Vec<(String, SecretValue)>, SendError> {
    headers
        .iter()
        .map(|(name, written)| {
            let source = Source::parse(written);
            let value = match &source {
                Source::Plain(v) => SecretValue::new(v.clone()),
                Source::Env(var) => std::env::var(var).map(SecretValue::new).map_err(|_| {
                    SendError::new(format!(
                        "header {name}={}: peta's environment has no {var}",
                        source.describe()
                    ))
                })?,
                Source::Keyring(key) | Source::Age(key) => {
                    let found = if matches!(source, Source::Keyring(_)) {
                        backends.keyring(key)
                    } else {
                        backends.vault(key)
                    };
                    found.map_err(|u| {
                        SendError::new(format!(
                            "header {name}={}: {} (hint: {})",
                            source.describe(),
                            u.reason,
                            u.hint
                        ))
                    })?
                }
            };
            if value.expose().contains(['\r', '\n', '\0']) {
                return Err(SendError::new(format!(
                    "header {name}={}: the value holds a line break or NUL",
                    source.describe()
                )));
            }
            Ok((name.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::forward::Protocol;
    use crate::audit::row::{Event, GENESIS};
    use crate::secrets::env::Unavailable;

    struct Keys;
    impl Backends for Keys {
        fn keyring(&mut self, name: &str) -> Result<SecretValue, Unavailable> {
            match name {
                "otlp-token" => Ok(SecretValue::new("Bearer s3cr3t-t0ken".into())),
                _ => Err(Unavailable {
                    reason: "there is no such item".into(),
                    hint: format!("store it with `peta secret set {name}`"),
                }),
            }
        }
        fn vault(&mut self, _: &str) -> Result<SecretValue, Unavailable> {
            Err(Unavailable {
                reason: "no vault".into(),
                hint: "peta vault init".into(),
            })
        }
    }

    #[test]
    fn headers_resolve_without_showing_their_values() {
        let ok = resolve_headers(
            &[("Authorization".into(), "keyring:otlp-token".into())],
            &mut Keys,
        )
        .expect("resolves");
        assert_eq!(ok[0].1.expose(), "Bearer s3cr3t-t0ken");
        let err = resolve_headers(&[("X-Key".into(), "keyring:missing".into())], &mut Keys)
            .expect_err("missing");
        assert!(err.message.contains("X-Key=keyring:missing"), "{err:?}");
        assert!(err.message.contains("peta secret set missing"), "{err:?}");
    }

    #[test]
    fn a_request_round_trips_through_the_protobuf_encoding() {
        let settings = Settings::new(Protocol::Otlp {
            url: "http://127.0.0.1:1/v1/logs".into(),
        });
        let resource = Resource {
            host: "h".into(),
            user: Some("u".into()),
            audit_path: "/a.db".into(),
        };
        let otlp =
            Otlp::new("http://127.0.0.1:1/v1/logs", &settings, resource, &mut Keys).expect("sink");
        let event = Event {
            ts: "2026-11-26T00:00:01.000002Z".into(),
            direction: "c2s",
            kind: "request",
            method: Some("tools/call".into()),
            decision: Some("deny"),
            ..Event::default()
        };
        let (row, _) = Row::chain(1, "s", None, event, &GENESIS);
        let request = otlp.request(&[row]);
        let bytes = request.encode_to_vec();
        let back = proto::ExportLogsServiceRequest::decode(&bytes[..]).expect("decodes");
        assert_eq!(back, request);
        let record = &back.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(record.severity_number, SEVERITY_WARN);
        assert_eq!(record.time_unix_nano, 1_795_651_201_000_002_000);
        assert_eq!(record.event_name, "peta.audit.request");
    }
}
