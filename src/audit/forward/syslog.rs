//! syslog: one RFC 5424 message per row, octet-counted (RFC 6587 §3.4.1) over TCP, or over
//! TLS (RFC 5425, which uses the same framing).
//!
//! A message is `<PRI>1 TIMESTAMP HOSTNAME peta - KIND - JSON`: facility 13 ("log audit"),
//! severity 6 (informational) or 4 (warning, for refusals and errors), the row's own time,
//! no structured data, and as MSG the row as ASCII JSON (`record::ascii_json`) with every
//! chained field and both hashes, so the receiving side can recompute the chain from MSG
//! alone. Structured data would need an SD-ID under a private enterprise number peta does
//! not have; JSON survives every relay and parser on the way.
//!
//! Plain syslog has no acknowledgement. A batch goes over a connection of its own; peta
//! then closes its sending side and waits for the collector to close its side, which it
//! does once it has read everything before the close. That is the batch's
//! acknowledgement: a collector that dies, stalls or resets before then gets the batch
//! again.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use super::record::{self, Resource};
use super::{Accepted, SendError, Settings, Sink};
use crate::audit::row::Row;

/// "log audit" (RFC 5424 §6.2.1, table 1).
const FACILITY: u8 = 13;
const INFORMATIONAL: u8 = 6;
const WARNING: u8 = 4;

pub(crate) struct Syslog {
    host: String,
    port: u16,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    hostname: String,
}

/// A connection, plain or TLS.
trait Stream: Read + Write {
    /// Closes the sending side (a TLS close_notify, then a TCP FIN).
    fn finish_sending(&mut self) -> std::io::Result<()>;
}

impl Stream for TcpStream {
    fn finish_sending(&mut self) -> std::io::Result<()> {
        self.flush()?;
        self.shutdown(Shutdown::Write)
    }
}

impl Stream for rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    fn finish_sending(&mut self) -> std::io::Result<()> {
        self.conn.send_close_notify();
        self.flush()?;
        self.sock.shutdown(Shutdown::Write)
    }
}

impl Syslog {
    pub(crate) fn new(
        host: &str,
        port: u16,
        tls: bool,
        settings: &Settings,
        resource: Resource,
    ) -> Result<Syslog, SendError> {
        let tls = if tls {
            Some(super::tls::client_config(settings.ca_file.as_deref())?)
        } else {
            None
        };
        Ok(Syslog {
            host: host.to_owned(),
            port,
            tls,
            timeout: settings.timeout,
            hostname: header_field(&resource.host, 255),
        })
    }

    fn endpoint(&self) -> String {
        format!(
            "{}://{}:{}",
            if self.tls.is_some() { "tls" } else { "tcp" },
            self.host,
            self.port
        )
    }

    fn connect(&self) -> Result<Box<dyn Stream>, SendError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            SendError::new(format!("{}: {what}: {e}", self.endpoint()))
        };
        let addrs: Vec<_> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| fail("cannot resolve", &e))?
            .collect();
        let mut last = None;
        let mut sock = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(s) => {
                    sock = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let sock = sock.ok_or_else(|| match last {
            Some(e) => fail("cannot connect", &e),
            None => fail("cannot connect", &"no address"),
        })?;
        sock.set_read_timeout(Some(self.timeout))
            .and_then(|()| sock.set_write_timeout(Some(self.timeout)))
            .and_then(|()| sock.set_nodelay(true))
            .map_err(|e| fail("socket", &e))?;
        let Some(config) = &self.tls else {
            return Ok(Box::new(sock));
        };
        let name = rustls::pki_types::ServerName::try_from(self.host.clone())
            .map_err(|e| fail("not a TLS server name", &e))?;
        let conn =
            rustls::ClientConnection::new(config.clone(), name).map_err(|e| fail("TLS", &e))?;
        let mut stream = rustls::StreamOwned::new(conn, sock);
        while stream.conn.is_handshaking() {
            stream
                .conn
                .complete_io(&mut stream.sock)
                .map_err(|e| fail("TLS handshake", &e))?;
        }
        Ok(Box::new(stream))
    }

    /// Writes `frames`, closes the sending side and waits for the collector to close its
    /// side: its acknowledgement that it read everything.
    fn deliver(&self, frames: &[u8]) -> Result<(), SendError> {
        let mut stream = self.connect()?;
        let fail = |what: &str, e: std::io::Error| {
            let why = match e.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                    format!("no progress within {:?}", self.timeout)
                }
                _ => e.to_string(),
            };
            SendError::new(format!("{}: {what}: {why}", self.endpoint()))
        };
        stream
            .write_all(frames)
            .map_err(|e| fail("cannot send", e))?;
        stream
            .finish_sending()
            .map_err(|e| fail("cannot close the connection", e))?;
        let mut sink = [0u8; 512];
        loop {
            match stream.read(&mut sink) {
                Ok(0) => return Ok(()),
                Ok(_) => {} // syslog servers say nothing; whatever comes is ignored
                // A TLS peer that closes the TCP connection without close_notify has read
                // everything all the same.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(fail("no confirmation that the collector read the batch", e)),
            }
        }
    }
}

impl Sink for Syslog {
    fn send(&mut self, rows: &[Row]) -> Result<Accepted, SendError> {
        let mut frames = Vec::with_capacity(rows.len() * 700);
        for row in rows {
            let message = self.message(row);
            write!(frames, "{} ", message.len()).expect("writing to memory");
            frames.extend_from_slice(&message);
        }
        self.deliver(&frames).map(|()| Accepted::default())
    }

    fn probe(&mut self) -> Result<String, SendError> {
        self.deliver(&[])
            .map(|()| format!("{} accepts connections", self.endpoint()))
    }
}

impl Syslog {
    /// One RFC 5424 message (without its octet count).
    pub(crate) fn message(&self, row: &Row) -> Vec<u8> {
        let severity = if record::is_warning(row) {
            WARNING
        } else {
            INFORMATIONAL
        };
        // The stored form is RFC 3339 with six fraction digits, as RFC 5424 §6.2.3 allows.
        let ts = if row.ts.len() == 27 && row.ts.is_ascii() {
            row.ts.as_str()
        } else {
            "-"
        };
        let mut out = format!(
            "<{}>1 {ts} {} peta - {} - ",
            u16::from(FACILITY) * 8 + u16::from(severity),
            self.hostname,
            header_field(&row.kind, 32)
        )
        .into_bytes();
        out.extend_from_slice(&record::ascii_json(row));
        out
    }
}

/// A header field: printable US-ASCII only (RFC 5424 §6), at most `max` characters, `-`
/// when empty.
fn header_field(text: &str, max: usize) -> String {
    let field: String = text
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .take(max)
        .collect();
    if field.is_empty() { "-".into() } else { field }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::forward::Protocol;
    use crate::audit::row::{Event, GENESIS};

    #[test]
    fn an_rfc_5424_message_with_the_row_as_json() {
        let settings = Settings::new(Protocol::Syslog {
            host: "127.0.0.1".into(),
            port: 1,
            tls: false,
        });
        let resource = Resource {
            host: "dev box".into(),
            user: None,
            audit_path: "/a.db".into(),
        };
        let syslog = Syslog::new("127.0.0.1", 1, false, &settings, resource).expect("sink");
        let event = Event {
            ts: "2026-11-26T00:00:01.000002Z".into(),
            direction: "c2s",
            kind: "request",
            method: Some("tools/call".into()),
            decision: Some("deny"),
            ..Event::default()
        };
        let (row, _) = Row::chain(1, "s", None, event, &GENESIS);
        let message = String::from_utf8(syslog.message(&row)).expect("ascii");
        let (head, json) = message.split_at(message.find('{').expect("json"));
        assert_eq!(
            head,
            "<108>1 2026-11-26T00:00:01.000002Z dev_box peta - request - "
        );
        let back: serde_json::Value = serde_json::from_str(json).expect("json");
        assert_eq!(back["hash"], row.hash);
    }
}
