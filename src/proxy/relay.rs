//! The relay: two pumps that carry lines between the client and the server.
//!
//! ```text
//! client ─▶ LineReader ─▶ envelope::parse ─▶ admit (ids, limits) ─▶ audit ─▶ server
//! client ◀─ (replies peta makes)        ◀─┘
//! client ◀─ admit (ids) ◀─ envelope::parse ◀─ LineReader ◀─ server
//! ```
//!
//! Every line gets an audit event. A gated request (`tools/call`) is forwarded only after
//! its decision row is committed; if the row cannot be committed the call is denied and
//! the session goes on. Other events are queued for the writer thread.
//!
//! Each pump reads one line, decides, and writes it on before reading the next, so a
//! slow reader on one side slows the other side down instead of growing a buffer: memory is
//! one line per direction (capped) plus the pipe buffers. Both pumps run at once; neither
//! waits on the other. An allowed line is written as the very bytes read.

use std::io;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Notify;

use crate::audit::row::sha256_hex;
use crate::audit::{AuditLog, Event};
use crate::proxy::inflight::{InFlight, Pending};
use crate::proxy::observe::{self, CLIENT, SERVER};
use crate::secrets::redact::Redactor;
use crate::wire::envelope::{self, Id, Kind, Message};
use crate::wire::framing::{Frame, LineReader};

/// JSON-RPC "internal error", sent for requests the server can no longer answer.
const INTERNAL_ERROR: i64 = -32603;

/// Read buffer per direction; lines longer than this are assembled across reads.
const READ_BUFFER: usize = 64 * 1024;

/// The relay's limits.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    /// Longest line accepted in either direction, terminator excluded.
    pub(crate) max_line_bytes: usize,
    /// Most requests outstanding per direction.
    pub(crate) max_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_line_bytes: 64 * 1024 * 1024,
            max_in_flight: 4096,
        }
    }
}

/// How a relay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The server's output ended; requests it had not answered were answered with errors.
    ServerClosed,
    /// Writing to the client failed (it went away): a clean shutdown, not an error.
    ClientGone,
    /// The session asked the relay to stop reading the client.
    Stopped,
}

/// What a relay runs with, besides its four streams.
pub(crate) struct Setup {
    pub(crate) limits: Limits,
    pub(crate) audit: Arc<AuditLog>,
    pub(crate) redactor: Arc<Redactor>,
    pub(crate) signals: Arc<Signals>,
}

/// Signals between the relay and the session that runs it.
#[derive(Default)]
pub(crate) struct Signals {
    /// Raised by the relay when the client closed its input and the server's input was closed.
    pub(crate) client_closed: Notify,
    /// Raised by the session to stop reading the client and close the server's input.
    pub(crate) stop_input: Notify,
}

/// Where a pump stopped.
enum Stop {
    ClientEof,
    ClientGone,
    ServerEof,
}

struct Relay<'a> {
    limits: Limits,
    audit: &'a AuditLog,
    /// Hides injected secrets in what the server sends back.
    redactor: &'a Redactor,
    /// Requests from the client the server has not answered yet.
    from_client: Mutex<InFlight>,
    /// Requests from the server (sampling, elicitation, roots, ping) the client has not answered.
    from_server: Mutex<InFlight>,
    /// Whether an `initialize` request was already passed on (B8: it may be sent once).
    initialized: Mutex<bool>,
}

/// One writer shared by the pumps; `None` once closed.
struct Outlet<W> {
    writer: tokio::sync::Mutex<Option<W>>,
}

impl<W: AsyncWrite + Unpin> Outlet<W> {
    fn new(writer: W) -> Self {
        Self {
            writer: tokio::sync::Mutex::new(Some(writer)),
        }
    }

    async fn send(&self, bytes: &[u8]) -> io::Result<()> {
        let mut guard = self.writer.lock().await;
        let w = guard.as_mut().ok_or(io::ErrorKind::BrokenPipe)?;
        w.write_all(bytes).await?;
        w.flush().await
    }

    async fn close(&self) {
        if let Some(mut w) = self.writer.lock().await.take() {
            // The peer may already be gone; closing is all that is left to do.
            let _ = w.shutdown().await;
        }
    }
}

/// Runs the relay until the server's output ends or the client goes away.
pub(crate) async fn run<CI, CO, SI, SO>(
    setup: Setup,
    client_in: CI,
    client_out: CO,
    server_in: SI,
    server_out: SO,
) -> Ended
where
    CI: AsyncRead + Unpin,
    CO: AsyncWrite + Unpin,
    SI: AsyncWrite + Unpin,
    SO: AsyncRead + Unpin,
{
    let Setup {
        limits,
        audit,
        redactor,
        signals,
    } = setup;
    let relay = Relay {
        audit: &audit,
        redactor: &redactor,
        from_client: Mutex::new(InFlight::new(limits.max_in_flight)),
        from_server: Mutex::new(InFlight::new(limits.max_in_flight)),
        initialized: Mutex::new(false),
        limits,
    };
    let to_client = Outlet::new(client_out);
    let to_server = Outlet::new(server_in);
    let upstream = relay.client_to_server(client_in, &to_client, &to_server);
    let downstream = relay.server_to_client(server_out, &to_client);
    tokio::pin!(upstream, downstream);
    let mut reading_client = true;
    loop {
        tokio::select! {
            stop = &mut upstream, if reading_client => {
                reading_client = false;
                match stop {
                    Stop::ClientGone => return Ended::ClientGone,
                    Stop::ClientEof | Stop::ServerEof => {
                        tracing::debug!("client closed its input; closing the server's input");
                        to_server.close().await;
                        signals.client_closed.notify_one();
                    }
                }
            }
            () = signals.stop_input.notified(), if reading_client => {
                to_server.close().await;
                // Keep relaying what the server still says until its output ends.
                return match (&mut downstream).await {
                    Stop::ClientGone => Ended::ClientGone,
                    Stop::ClientEof | Stop::ServerEof => {
                        relay.fail_pending(&to_client).await;
                        Ended::Stopped
                    }
                };
            }
            stop = &mut downstream => {
                return match stop {
                    Stop::ClientGone => Ended::ClientGone,
                    _ => {
                        relay.fail_pending(&to_client).await;
                        Ended::ServerClosed
                    }
                };
            }
        }
    }
}

impl Relay<'_> {
    async fn client_to_server<R, CO, SI>(
        &self,
        input: R,
        to_client: &Outlet<CO>,
        to_server: &Outlet<SI>,
    ) -> Stop
    where
        R: AsyncRead + Unpin,
        CO: AsyncWrite + Unpin,
        SI: AsyncWrite + Unpin,
    {
        let mut lines = LineReader::new(
            BufReader::with_capacity(READ_BUFFER, input),
            self.limits.max_line_bytes,
        );
        loop {
            let frame = match lines.next().await {
                Ok(Some(frame)) => frame,
                Ok(None) => return Stop::ClientEof,
                Err(e) => {
                    tracing::warn!(error = %e, "reading from the client failed");
                    return Stop::ClientEof;
                }
            };
            let reply = match frame {
                Frame::Line(line) => self.on_client_line(line, to_server).await,
                Frame::TooLong { len } => {
                    tracing::warn!(
                        len,
                        limit = self.limits.max_line_bytes,
                        "refused a client line over the size limit"
                    );
                    Some(envelope::error_reply(
                        None,
                        envelope::INVALID_REQUEST,
                        &format!(
                            "message of {len} bytes is over the limit of {} bytes (relay.max_line_bytes)",
                            self.limits.max_line_bytes
                        ),
                    ))
                }
                Frame::Unterminated { len } => {
                    tracing::warn!(
                        len,
                        "discarded an unterminated line at the end of the client's input"
                    );
                    None
                }
            };
            if let Some(reply) = reply
                && to_client.send(&reply).await.is_err()
            {
                return Stop::ClientGone;
            }
        }
    }

    /// Handles one line from the client; returns a reply for the client if peta answers it.
    async fn on_client_line<SI: AsyncWrite + Unpin>(
        &self,
        line: Vec<u8>,
        to_server: &Outlet<SI>,
    ) -> Option<Vec<u8>> {
        let msg = match envelope::parse(&line) {
            Ok(msg) => msg,
            Err(rejected) => {
                let why = rejected.why.to_string();
                tracing::warn!(reason = %why, "refused a message from the client");
                let raw_id = rejected.raw_id.map(|r| r.get());
                self.audit
                    .record(observe::refused(CLIENT, line.len(), raw_id, None, &why));
                return rejected
                    .answer
                    .then(|| envelope::error_reply(raw_id, rejected.why.code(), &why));
            }
        };
        if let Err(why) = self.admit_from_client(&msg) {
            tracing::warn!(reason = %why, method = msg.method(), "refused a message from the client");
            let raw_id = msg.raw_id.map(|r| r.get());
            self.audit.record(observe::refused(
                CLIENT,
                line.len(),
                raw_id,
                msg.method(),
                &why,
            ));
            return match msg.kind {
                Kind::Request { .. } => Some(envelope::error_reply(
                    raw_id,
                    envelope::INVALID_REQUEST,
                    &why,
                )),
                _ => None,
            };
        }
        let mut event = observe::message(CLIENT, &msg, &line);
        let request = match &msg.kind {
            Kind::Request { id, method } => {
                tracing::debug!(%id, %method, tool = msg.tool.as_ref().map(|t| t.name.as_ref()), "client request");
                Some((
                    id.clone(),
                    msg.raw_id
                        .map_or_else(|| "null".to_owned(), |r| r.get().to_owned()),
                ))
            }
            _ => None,
        };
        if let (Some(call), Some((id, raw_id))) = (&msg.tool, &request) {
            // Gated: the decision row is durable before the server sees a byte.
            event.decision = Some("allow");
            event.rule = Some("default".into());
            event.bytes_sha256 = Some(sha256_hex(&line));
            if let Err(reason) = self.audit.commit(event) {
                self.from_client.lock().expect("in-flight lock").answer(id);
                tracing::error!(tool = %call.name, error = %reason, "denied a tool call that could not be audited");
                let text = format!(
                    "peta denied this call to {}: it could not be recorded in the audit log ({reason}), and peta runs nothing it cannot record. Nothing was sent to the server. Check the log with `peta audit verify` and free disk space if it is full, then try again.",
                    call.name
                );
                return Some(envelope::tool_error_reply(raw_id, &text, call.modern));
            }
        } else {
            self.audit.record(event);
        }
        drop(msg);
        if let Err(e) = to_server.send(&line).await {
            tracing::warn!(error = %e, "the server is not accepting input");
            if let Some((id, raw_id)) = request {
                self.from_client.lock().expect("in-flight lock").answer(&id);
                return Some(envelope::error_reply(
                    Some(&raw_id),
                    INTERNAL_ERROR,
                    "the server is no longer accepting requests",
                ));
            }
        }
        None
    }

    /// Decides whether a valid client message may go on, recording what it starts or ends.
    fn admit_from_client(&self, msg: &Message) -> Result<(), String> {
        match &msg.kind {
            Kind::Request { id, method } => {
                if method == "initialize" {
                    let mut seen = self.initialized.lock().expect("initialized lock");
                    if *seen {
                        return Err("initialize was already sent in this session".into());
                    }
                    *seen = true;
                }
                let raw = msg.raw_id.map_or("null", |r| r.get());
                let tool = msg.tool.as_ref().map(|t| t.name.as_ref());
                self.from_client
                    .lock()
                    .expect("in-flight lock")
                    .admit(id.clone(), raw, method, tool)
                    .map_err(|e| e.to_string())
            }
            Kind::Notification { method } => {
                if method == "notifications/cancelled"
                    && let Some(id) = envelope::cancelled_request(msg.params)
                {
                    // The client will ignore a late answer (spec: cancellation), so stop
                    // holding a place for it.
                    self.from_client.lock().expect("in-flight lock").answer(&id);
                }
                Ok(())
            }
            Kind::Response { id: Some(id), .. } => {
                match self.from_server.lock().expect("in-flight lock").answer(id) {
                    Some(_) => Ok(()),
                    None => Err(format!(
                        "response to {id}, which the server never asked or was already answered"
                    )),
                }
            }
            Kind::Response { id: None, .. } => Err("error response without an id".into()),
        }
    }

    async fn server_to_client<R, CO>(&self, output: R, to_client: &Outlet<CO>) -> Stop
    where
        R: AsyncRead + Unpin,
        CO: AsyncWrite + Unpin,
    {
        let mut lines = LineReader::new(
            BufReader::with_capacity(READ_BUFFER, output),
            self.limits.max_line_bytes,
        );
        loop {
            let line = match lines.next().await {
                Ok(Some(Frame::Line(line))) => line,
                Ok(Some(Frame::TooLong { len })) => {
                    tracing::warn!(
                        len,
                        limit = self.limits.max_line_bytes,
                        "dropped a server line over the size limit"
                    );
                    continue;
                }
                Ok(Some(Frame::Unterminated { len })) => {
                    tracing::warn!(
                        len,
                        "dropped an unterminated line at the end of the server's output"
                    );
                    continue;
                }
                Ok(None) => return Stop::ServerEof,
                Err(e) => {
                    tracing::warn!(error = %e, "reading from the server failed");
                    return Stop::ServerEof;
                }
            };
            let pass = match envelope::parse(&line) {
                Ok(msg) => match self.admit_from_server(&msg) {
                    Ok(answered) => {
                        let mut event = observe::message(SERVER, &msg, &line);
                        if let Some(request) = answered {
                            event.method = Some(request.method.to_string());
                            event.tool = request.tool.as_deref().map(str::to_owned);
                            event.latency_us =
                                i64::try_from(request.since.elapsed().as_micros()).ok();
                            if request.tool.is_some()
                                && let Some(result) = msg.result
                            {
                                event.is_error = Some(envelope::result_is_error(result));
                            }
                        }
                        Ok(event)
                    }
                    Err(why) => Err((
                        why,
                        msg.raw_id.map(|r| r.get().to_owned()),
                        msg.method().map(str::to_owned),
                    )),
                },
                Err(rejected) => Err((rejected.why.to_string(), None, None)),
            };
            match pass {
                Ok(event) => {
                    self.audit.record(event);
                    // Only a message that holds a secret is rewritten; the rest pass as read.
                    let redacted = self.redactor.json_line(&line);
                    if redacted.is_some() {
                        tracing::info!("redacted an injected secret from a server message");
                    }
                    if to_client
                        .send(redacted.as_deref().unwrap_or(&line))
                        .await
                        .is_err()
                    {
                        return Stop::ClientGone;
                    }
                }
                Err((why, raw_id, method)) => {
                    tracing::warn!(reason = %why, "dropped a message from the server");
                    self.audit.record(observe::refused(
                        SERVER,
                        line.len(),
                        raw_id.as_deref(),
                        method.as_deref(),
                        &why,
                    ));
                }
            }
        }
    }

    /// Decides whether a valid server message may reach the client; for a response,
    /// returns the request it answers.
    fn admit_from_server(&self, msg: &Message) -> Result<Option<Pending>, String> {
        match &msg.kind {
            Kind::Response { id: Some(id), .. } => {
                match self.from_client.lock().expect("in-flight lock").answer(id) {
                    Some(request) => Ok(Some(request)),
                    None => Err(format!(
                        "response to {id}, which the client never asked, already had answered, or cancelled"
                    )),
                }
            }
            Kind::Response { id: None, .. } => {
                tracing::warn!("the server reported an error it could not tie to a request");
                Ok(None)
            }
            Kind::Request { id, method } => {
                let raw = msg.raw_id.map_or("null", |r| r.get());
                self.from_server
                    .lock()
                    .expect("in-flight lock")
                    .admit(id.clone(), raw, method, None)
                    .map(|()| None)
                    .map_err(|e| e.to_string())
            }
            Kind::Notification { method } if method == "notifications/cancelled" => {
                self.admit_server_cancel(msg).map(|()| None)
            }
            Kind::Notification { .. } => Ok(None),
        }
    }

    /// A server may cancel its own requests, and (2026-07-28) a client's
    /// `subscriptions/listen` stream; never another client request (B7).
    fn admit_server_cancel(&self, msg: &Message) -> Result<(), String> {
        let id: Id = envelope::cancelled_request(msg.params)
            .ok_or("cancellation without a readable requestId")?;
        if self
            .from_server
            .lock()
            .expect("in-flight lock")
            .answer(&id)
            .is_some()
        {
            return Ok(());
        }
        let mut from_client = self.from_client.lock().expect("in-flight lock");
        match from_client.get(&id) {
            Some(p) if &*p.method == "subscriptions/listen" => {
                from_client.answer(&id);
                Ok(())
            }
            _ => Err(format!(
                "cancellation of {id}, which is not the server's own request"
            )),
        }
    }

    /// Answers every request the server will no longer answer.
    async fn fail_pending<CO: AsyncWrite + Unpin>(&self, to_client: &Outlet<CO>) {
        let pending = self.from_client.lock().expect("in-flight lock").drain();
        for p in pending {
            tracing::warn!(id = %p.raw_id, method = %p.method, "the server ended without answering");
            self.audit.record(Event {
                ts: crate::audit::time::now(),
                direction: "peta",
                kind: "response",
                method: Some(p.method.to_string()),
                rpc_id: Some(p.raw_id.to_string()),
                tool: p.tool.as_deref().map(str::to_owned),
                latency_us: i64::try_from(p.since.elapsed().as_micros()).ok(),
                is_error: Some(true),
                error: Some("server_exited: the server ended without answering".into()),
                ..Event::default()
            });
            let reply = envelope::error_reply(
                Some(&p.raw_id),
                INTERNAL_ERROR,
                &format!("the server exited before answering {}", p.method),
            );
            if to_client.send(&reply).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
