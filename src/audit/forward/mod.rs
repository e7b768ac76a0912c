//! Forwarding the audit log to a team's collector (`[audit.forward]`): every row, at least
//! once and in order, to an OpenTelemetry collector (OTLP/HTTP logs) or a syslog server
//! (RFC 5424 over TCP or TLS), read back from the local log.
//!
//! **Never in the relay's way.** The relay and the audit writer know nothing of forwarding.
//! A forwarder is a thread of its own with its own read-only SQLite connection (a WAL reader
//! never blocks the writer); it reads rows after its cursor, sends them, and only then moves
//! the cursor. A collector that is down, slow or stalled makes the lag grow, never a tool
//! call wait.
//!
//! **Who forwards.** Several `peta run` processes share one log. Each starts a forwarder
//! that tries a non-blocking lock on `<db>.forward.lock`; the one that holds it forwards
//! every session's rows, the others stay idle and try again every `interval`. The lock goes
//! with its process (also on `kill -9`), so another session takes over, and `peta audit
//! forward` drains a backlog by hand with no session running. One lock rather than one
//! forwarder per session: the chain is one sequence, so one reader keeps it in order and
//! the collector gets no duplicates from two senders racing.
//!
//! **The cursor** (`<db>.forward`, see [`state`]) holds the last `seq` the collector
//! acknowledged and is replaced atomically after each acknowledged batch: a crash between
//! the send and the write means that batch goes again (at least once; receivers dedupe by
//! `peta.seq`), never that a row is skipped. Retention (`audit.retain`) never prunes a row
//! after the cursor unless `prune_unforwarded = true`.
//!
//! `settings` is the checked configuration, `state` the cursor and status file, `record`
//! what a row becomes on the wire, `otlp` and `syslog` the two protocols, `worker` the loop.

pub(crate) mod otlp;
pub(crate) mod record;
pub(crate) mod settings;
pub(crate) mod state;
pub(crate) mod syslog;
pub(crate) mod tls;
pub(crate) mod worker;

pub(crate) use settings::{Protocol, Settings};
pub(crate) use worker::{Forwarder, Handle};

use crate::audit::row::Row;

/// What a collector said about a batch it took.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Accepted {
    /// Rows it took but said it dropped (OTLP partial success). They are not sent again:
    /// the OTLP specification forbids retrying a partial success, and the same rows would
    /// be refused the same way.
    pub(crate) rejected: Option<String>,
}

/// Why a batch was not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SendError {
    pub(crate) message: String,
    /// The collector asked to be left alone this long (HTTP `Retry-After`).
    pub(crate) retry_after: Option<std::time::Duration>,
}

impl SendError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        SendError {
            message: message.into(),
            retry_after: None,
        }
    }
}

/// One way of delivering rows.
pub(crate) trait Sink: Send {
    /// Delivers `rows` (consecutive, in order) and returns once the collector acknowledged
    /// them.
    fn send(&mut self, rows: &[Row]) -> Result<Accepted, SendError>;
    /// Checks that the collector answers, without sending a row (`peta doctor`).
    fn probe(&mut self) -> Result<String, SendError>;
}

/// Opens the sink for `settings`: resolves the header references and the trust anchors.
pub(crate) fn connect(
    settings: &Settings,
    audit_path: &std::path::Path,
    backends: &mut dyn crate::secrets::env::Backends,
) -> Result<Box<dyn Sink>, SendError> {
    let resource = record::Resource::here(audit_path);
    Ok(match &settings.protocol {
        Protocol::Otlp { url } => Box::new(otlp::Otlp::new(url, settings, resource, backends)?),
        Protocol::Syslog { host, port, tls } => {
            Box::new(syslog::Syslog::new(host, *port, *tls, settings, resource)?)
        }
    })
}
