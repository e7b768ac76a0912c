//! The relay: two pumps that carry lines between the client and the server.
//!
//! ```text
//! client ─▶ LineReader ─▶ envelope::parse ─▶ admit (ids, limits) ─▶ audit ─▶ server
//! client ◀─ (replies peta makes)        ◀─┘
//! client ◀─ admit (ids) ◀─ envelope::parse ◀─ LineReader ◀─ server
//! ```
//!
//! Every line gets an audit event. A gated request (`tools/call`, and what the configuration
//! adds) goes through the [`Gate`]: allowed, it is forwarded only after its decision row is
//! committed (if the row cannot be committed the call is denied and the session goes on);
//! denied, the model gets a result saying who denied it and how to get it approved; asked,
//! it waits for a person while every other message flows on, and is forwarded or denied when
//! the answer comes. Other events are queued for the writer thread.
//!
//! Each pump reads one line, decides, and writes it on before reading the next, so a
//! slow reader on one side slows the other side down instead of growing a buffer: memory is
//! one line per direction (capped) plus the pipe buffers. Both pumps run at once; neither
//! waits on the other. An allowed line is written as the very bytes read.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::approval::{GrantKey, Request, Verdict};
use crate::proxy::gate::{self, Gate, Judgement};
use crate::proxy::mrtr;
use std::time::Instant;

use crate::audit::row::sha256_hex;
use crate::audit::{AuditLog, Event};
use crate::proxy::inflight::{InFlight, Pending};
use crate::proxy::observe::{self, CLIENT, SERVER};
use crate::secrets::redact::Redactor;
use crate::wire::envelope::{self, Id, Kind, Message};
use crate::wire::framing::{Frame, LineReader};
use serde_json::value::RawValue;

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
    pub(crate) gate: Arc<Gate>,
    /// Lines peta itself sends the client (elicitation questions), if any.
    pub(crate) outbox: Option<mpsc::UnboundedReceiver<Vec<u8>>>,
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
    gate: &'a Gate,
    /// Requests waiting for a person, by id: sending withdraws the question.
    cancels: Mutex<HashMap<Id, oneshot::Sender<()>>>,
    /// Questions put to a 2026-07-28 client as `input_required`, by peta's token.
    parked: Mutex<HashMap<String, Parked>>,
    /// Calls approved lately (by their digest): a server's own multi-round-trip retry of
    /// one continues it and is not asked about twice.
    approved: Mutex<HashMap<String, Instant>>,
}

/// A question answered in the client's retry (see [`mrtr`]).
struct Parked {
    request: Box<Request>,
    key: GrantKey,
    rule: String,
    digest: String,
    since: Instant,
}

/// A question being asked, resolving to its outcome.
type Waiting<'a> = FuturesUnordered<Pin<Box<dyn Future<Output = Asked> + Send + 'a>>>;

/// A gated request that waited for a person, and what came of it.
struct Asked {
    line: Vec<u8>,
    id: Id,
    raw_id: String,
    rule: String,
    request: Box<Request>,
    key: GrantKey,
    event: Event,
    modern: bool,
    tool_call: bool,
    /// What the call does (see [`mrtr::call_digest`]).
    digest: String,
    /// `None`: the client cancelled the request while it waited.
    verdict: Option<Verdict>,
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
        gate,
        mut outbox,
    } = setup;
    let relay = Relay {
        audit: &audit,
        redactor: &redactor,
        from_client: Mutex::new(InFlight::new(limits.max_in_flight)),
        from_server: Mutex::new(InFlight::new(limits.max_in_flight)),
        initialized: Mutex::new(false),
        gate: &gate,
        cancels: Mutex::default(),
        parked: Mutex::default(),
        approved: Mutex::default(),
        limits,
    };
    let to_client = Outlet::new(client_out);
    let to_server = Outlet::new(server_in);
    let upstream = relay.client_to_server(client_in, &to_client, &to_server);
    let downstream = relay.server_to_client(server_out, &to_client, &to_server);
    tokio::pin!(upstream, downstream);
    let mut reading_client = true;
    loop {
        tokio::select! {
            Some(line) = async { outbox.as_mut()?.recv().await }, if outbox.is_some() => {
                if to_client.send(&line).await.is_err() {
                    return Ended::ClientGone;
                }
            }
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
        let mut waiting: Waiting<'_> = FuturesUnordered::new();
        loop {
            let next = tokio::select! {
                next = lines.next() => next,
                Some(asked) = waiting.next(), if !waiting.is_empty() => {
                    if let Some(reply) = self.on_answer(asked, to_server).await
                        && to_client.send(&reply).await.is_err()
                    {
                        return Stop::ClientGone;
                    }
                    continue;
                }
            };
            let frame = match next {
                Ok(Some(frame)) => frame,
                Ok(None) => return Stop::ClientEof,
                Err(e) => {
                    tracing::warn!(error = %e, "reading from the client failed");
                    return Stop::ClientEof;
                }
            };
            let reply = match frame {
                Frame::Line(line) => self.on_client_line(line, to_server, &mut waiting).await,
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
    /// A gated request that needs a person is pushed onto `waiting` instead.
    async fn on_client_line<'w, SI: AsyncWrite + Unpin>(
        &'w self,
        line: Vec<u8>,
        to_server: &Outlet<SI>,
        waiting: &mut Waiting<'w>,
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
        // The client answering one of peta's own questions: it never reaches the server.
        if let (
            Kind::Response {
                id: Some(Id::Str(id)),
                ..
            },
            Some(elicitation),
        ) = (&msg.kind, &self.gate.elicitation)
            && elicitation.owns(id)
        {
            let mut event = observe::message(CLIENT, &msg, &line);
            event.method = Some("elicitation/create".into());
            event.decision = Some("peta");
            self.audit.record(event);
            if let Ok(value) = serde_json::from_slice(&line) {
                elicitation.deliver(id, value);
            }
            return None;
        }
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
        // A cancellation of a request still waiting for a person: withdraw the question;
        // the server never saw the request, so it does not see the cancellation either.
        if let Kind::Notification { method } = &msg.kind
            && *method == "notifications/cancelled"
            && let Some(id) = envelope::cancelled_request(msg.params)
            && let Some(cancel) = self.cancels.lock().expect("cancels lock").remove(&id)
        {
            let _ = cancel.send(());
            event.decision = Some("withdrawn");
            self.audit.record(event);
            return None;
        }
        let request = match &msg.kind {
            Kind::Request { id, method } => {
                tracing::debug!(%id, %method, tool = msg.tool.as_ref().map(|t| t.name.as_ref()), "client request");
                if *method == "initialize"
                    && let Some(elicitation) = &self.gate.elicitation
                {
                    elicitation.client_initialized(msg.params.map(RawValue::get));
                }
                Some((
                    id.clone(),
                    msg.raw_id
                        .map_or_else(|| "null".to_owned(), |r| r.get().to_owned()),
                ))
            }
            _ => None,
        };
        let gated = self.gate.gated(&msg);
        if let (Some(gated), Some((id, raw_id))) = (gated, &request) {
            event.bytes_sha256 = Some(sha256_hex(&line));
            let tool_call = msg.tool.is_some();
            let modern = msg.tool.as_ref().is_some_and(|t| t.modern);
            // The digest (a hash of the arguments) is computed only where a round needs it.
            let round = mrtr::round(msg.params);
            if tool_call && let mrtr::Round::Peta(token) = round {
                let answer = mrtr::answer(msg.params);
                let digest = mrtr::call_digest(msg.params);
                drop(msg);
                return self
                    .on_retry(
                        token,
                        answer,
                        line,
                        (id.clone(), raw_id.clone()),
                        digest,
                        event,
                        modern,
                        to_server,
                    )
                    .await;
            }
            let judgement = if round == mrtr::Round::Server
                && self.approved_lately(&mrtr::call_digest(msg.params))
            {
                Judgement::Allow {
                    rule: "continues-an-approved-call".into(),
                    channel: "grant",
                    grant_scope: None,
                }
            } else {
                self.gate.judge(&gated, &line, self.redactor)
            };
            match judgement {
                Judgement::Allow {
                    rule,
                    channel,
                    grant_scope,
                } => {
                    decided(&mut event, "allow", rule, channel, grant_scope);
                    // The decision row is durable before the server sees a byte.
                    if let Err(reason) = self.audit.commit(event) {
                        self.from_client.lock().expect("in-flight lock").answer(id);
                        tracing::error!(name = %gated.name, error = %reason, "denied a request that could not be audited");
                        let text = format!(
                            "peta denied this call to {}: it could not be recorded in the audit log ({reason}), and peta runs nothing it cannot record. Nothing was sent to the server. Check the log with `peta audit verify` and free disk space if it is full, then try again.",
                            gated.name
                        );
                        return Some(deny_reply(raw_id, &text, tool_call, modern));
                    }
                }
                Judgement::Deny { rule, text } => {
                    decided(&mut event, "deny", rule, "policy", None);
                    self.from_client.lock().expect("in-flight lock").answer(id);
                    tracing::info!(name = %gated.name, "the policy denied a request");
                    // Nothing runs either way, so a failed commit changes nothing.
                    if let Err(reason) = self.audit.commit(event) {
                        tracing::error!(error = %reason, "could not record a denial");
                    }
                    return Some(deny_reply(raw_id, &text, tool_call, modern));
                }
                Judgement::Ask { rule, request, key } => {
                    let digest = mrtr::call_digest(msg.params);
                    let waiting_now = self.cancels.lock().expect("cancels lock").len();
                    let mut asked = event.clone();
                    asked.decision = Some("ask");
                    asked.rule = Some(rule.clone());
                    self.audit.record(asked);
                    if waiting_now >= gate::MAX_WAITING {
                        let verdict = Verdict::denied("flood");
                        let text = gate::denial_text(&request, &verdict);
                        decided(&mut event, "deny", rule, "flood", None);
                        self.from_client.lock().expect("in-flight lock").answer(id);
                        let _ = self.audit.commit(event);
                        return Some(deny_reply(raw_id, &text, tool_call, modern));
                    }
                    if tool_call
                        && modern
                        && self.gate.elicitation.is_some()
                        && mrtr::client_can_elicit(msg.params)
                    {
                        // 2026-07-28: ask in the client's UI through input_required.
                        let token = uuid::Uuid::new_v4().simple().to_string();
                        let reply = mrtr::input_required_reply(
                            raw_id,
                            &crate::approval::elicit::question(&request),
                            &token,
                        );
                        self.from_client.lock().expect("in-flight lock").answer(id);
                        let mut parked = self.parked.lock().expect("parked lock");
                        parked.retain(|_, p| p.since.elapsed() < gate::LATE_ANSWERS);
                        parked.insert(
                            token,
                            Parked {
                                request,
                                key,
                                rule,
                                digest,
                                since: Instant::now(),
                            },
                        );
                        tracing::info!(name = %gated.name, "asking in the client's UI (input_required)");
                        return Some(reply);
                    }
                    tracing::info!(name = %gated.name, question = %request.id, "asking a person");
                    self.gate.asked(&request, &key);
                    let (cancel, cancelled) = oneshot::channel();
                    self.cancels
                        .lock()
                        .expect("cancels lock")
                        .insert(id.clone(), cancel);
                    let gate = self.gate;
                    let (id, raw_id) = (id.clone(), raw_id.clone());
                    drop(msg);
                    let mut asked = Asked {
                        line,
                        id,
                        raw_id,
                        rule,
                        request,
                        key,
                        event,
                        modern,
                        tool_call,
                        digest,
                        verdict: None,
                    };
                    waiting.push(Box::pin(async move {
                        asked.verdict = tokio::select! {
                            verdict = gate.approver.decide(&asked.request) => Some(verdict),
                            _ = cancelled => None,
                        };
                        asked
                    }));
                    return None;
                }
            }
        } else {
            self.audit.record(event);
        }
        drop(msg);
        self.forward(line, request, to_server).await
    }

    /// A 2026-07-28 client retried a call peta answered with `input_required`: the answer is
    /// in the retry. Allowed, the retry goes on without peta's fields; otherwise it is denied.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site, each part distinct"
    )]
    async fn on_retry<SI: AsyncWrite + Unpin>(
        &self,
        token: String,
        answer: Option<crate::approval::Answer>,
        line: Vec<u8>,
        (id, raw_id): (Id, String),
        digest: String,
        mut event: Event,
        modern: bool,
        to_server: &Outlet<SI>,
    ) -> Option<Vec<u8>> {
        let parked = self.parked.lock().expect("parked lock").remove(&token);
        let deny = |text: &str| {
            self.from_client.lock().expect("in-flight lock").answer(&id);
            Some(deny_reply(&raw_id, text, true, modern))
        };
        let Some(parked) = parked.filter(|p| p.since.elapsed() < gate::LATE_ANSWERS) else {
            return deny(
                "peta denied this call: it continues an approval question that is unknown, expired or already answered. Call the tool again to be asked afresh.",
            );
        };
        event.rule = Some(parked.rule.clone());
        event.channel = Some("elicitation".into());
        if parked.digest != digest {
            event.decision = Some("deny");
            let _ = self.audit.commit(event);
            return deny(
                "peta denied this call: the retry changed the tool or its arguments after the user was asked. Call the tool again to be asked about the new call.",
            );
        }
        let verdict = match answer {
            Some(answer) => Verdict::new(answer, "elicitation"),
            None => Verdict::denied("no-answer"),
        };
        event.grant_scope = Some(verdict.answer.label());
        let forwarded = if verdict.answer.allows() {
            mrtr::strip(&line)
        } else {
            None
        };
        let Some(forwarded) = forwarded else {
            event.decision = Some("deny");
            let _ = self.audit.commit(event);
            let verdict = if verdict.answer.allows() {
                Verdict::denied("audit")
            } else {
                verdict
            };
            return deny(&gate::denial_text(&parked.request, &verdict));
        };
        event.decision = Some("allow");
        event.bytes_sha256 = Some(sha256_hex(&forwarded));
        if let Err(e) = self
            .gate
            .grants
            .remember(parked.key, verdict.answer, "elicitation")
        {
            tracing::warn!(error = %e, "could not remember the grant");
        }
        if self.audit.commit(event).is_err() {
            return deny(&gate::denial_text(
                &parked.request,
                &Verdict::denied("audit"),
            ));
        }
        self.approve_lately(digest);
        self.forward(forwarded, Some((id, raw_id)), to_server).await
    }

    /// Remembers that a call was approved, for the server's own retries of it.
    fn approve_lately(&self, digest: String) {
        let mut approved = self.approved.lock().expect("approved lock");
        approved.retain(|_, at| at.elapsed() < gate::LATE_ANSWERS);
        approved.insert(digest, Instant::now());
    }

    fn approved_lately(&self, digest: &str) -> bool {
        self.approved
            .lock()
            .expect("approved lock")
            .get(digest)
            .is_some_and(|at| at.elapsed() < gate::LATE_ANSWERS)
    }

    /// Sends a client line on to the server; answers its request with an error if the server
    /// no longer takes input.
    async fn forward<SI: AsyncWrite + Unpin>(
        &self,
        line: Vec<u8>,
        request: Option<(Id, String)>,
        to_server: &Outlet<SI>,
    ) -> Option<Vec<u8>> {
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

    /// A question came back: record the decision, then forward the very bytes that were
    /// shown (and hashed), or answer with the denial.
    async fn on_answer<SI: AsyncWrite + Unpin>(
        &self,
        asked: Asked,
        to_server: &Outlet<SI>,
    ) -> Option<Vec<u8>> {
        let Asked {
            line,
            id,
            raw_id,
            rule,
            request,
            key,
            mut event,
            modern,
            tool_call,
            digest,
            verdict,
        } = asked;
        self.cancels.lock().expect("cancels lock").remove(&id);
        let Some(mut verdict) = verdict else {
            // Cancelled by the client: nothing to answer, nothing to forward.
            decided(&mut event, "withdrawn", rule, "cancelled", None);
            self.audit.record(event);
            return None;
        };
        event.ts = crate::audit::time::now();
        event.rule = Some(rule);
        event.channel = Some(verdict.by.clone());
        event.detail = answered_by(&verdict);
        event.decision = Some(if verdict.answer.allows() {
            "allow"
        } else {
            "deny"
        });
        event.grant_scope = Some(verdict.answer.label());
        debug_assert_eq!(
            event.bytes_sha256.as_deref(),
            Some(request.bytes_sha256.as_str())
        );
        if verdict.answer.allows() {
            if let Err(e) = self.gate.grants.remember(key, verdict.answer, &verdict.by) {
                tracing::warn!(error = %e, "could not remember the grant");
            }
            if self.audit.commit(event).is_ok() {
                tracing::info!(question = %request.id, by = %verdict.by, "approved");
                self.approve_lately(digest);
                return self.forward(line, Some((id, raw_id)), to_server).await;
            }
            verdict = Verdict::denied("audit");
        } else {
            let _ = self.audit.commit(event);
        }
        tracing::info!(question = %request.id, by = %verdict.by, "denied");
        self.from_client.lock().expect("in-flight lock").answer(&id);
        let text = gate::denial_text(&request, &verdict);
        Some(deny_reply(&raw_id, &text, tool_call, modern))
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

    async fn server_to_client<R, CO, SI>(
        &self,
        output: R,
        to_client: &Outlet<CO>,
        to_server: &Outlet<SI>,
    ) -> Stop
    where
        R: AsyncRead + Unpin,
        CO: AsyncWrite + Unpin,
        SI: AsyncWrite + Unpin,
    {
        let mut lines = LineReader::new(
            BufReader::with_capacity(READ_BUFFER, output),
            self.limits.max_line_bytes,
        );
        let mut waiting: Waiting<'_> = FuturesUnordered::new();
        loop {
            let next = tokio::select! {
                next = lines.next() => next,
                Some(asked) = waiting.next(), if !waiting.is_empty() => {
                    if self.on_server_answer(asked, to_client, to_server).await.is_err() {
                        return Stop::ClientGone;
                    }
                    continue;
                }
            };
            let line = match next {
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
                    let answered = (event.kind == "response")
                        .then(|| event.method.clone())
                        .flatten();
                    let line = match self
                        .gate_server_request(line, event, to_server, &mut waiting)
                        .await
                    {
                        Some((line, event)) => {
                            self.audit.record(event);
                            line
                        }
                        None => continue,
                    };
                    // A tool list goes through the pins: changed tools are held back.
                    // Server instructions too.
                    let line = match answered.as_deref() {
                        Some("tools/list") => {
                            let (rewritten, events) = self.gate.tools_listed(&line);
                            for event in events {
                                self.audit.record(event);
                            }
                            rewritten.unwrap_or(line)
                        }
                        Some("initialize") => {
                            let (rewritten, event) = self.gate.initialized(&line);
                            if let Some(event) = event {
                                self.audit.record(event);
                            }
                            rewritten.unwrap_or(line)
                        }
                        _ => line,
                    };
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

    /// A server request the configuration gates (`sampling/createMessage`,
    /// `elicitation/create`): passes it back with its event when it may go on now; otherwise
    /// answers the server with the denial, or queues the question, and returns `None`.
    async fn gate_server_request<'w, SI: AsyncWrite + Unpin>(
        &'w self,
        line: Vec<u8>,
        mut event: Event,
        to_server: &Outlet<SI>,
        waiting: &mut Waiting<'w>,
    ) -> Option<(Vec<u8>, Event)> {
        // Only a request can be gated; a response (most of what a server says, and the big
        // part) is not parsed a second time.
        if event.kind != "request" {
            return Some((line, event));
        }
        let Ok(msg) = envelope::parse(&line) else {
            return Some((line, event));
        };
        let (Kind::Request { id, .. }, Some(gated)) = (&msg.kind, self.gate.gated(&msg)) else {
            drop(msg);
            return Some((line, event));
        };
        let id = id.clone();
        let raw_id = msg
            .raw_id
            .map_or_else(|| "null".to_owned(), |r| r.get().to_owned());
        drop(msg);
        event.bytes_sha256 = Some(sha256_hex(&line));
        let deny =
            |text: &str| envelope::error_reply(Some(&raw_id), envelope::INVALID_REQUEST, text);
        match self.gate.judge(&gated, &line, self.redactor) {
            Judgement::Allow {
                rule,
                channel,
                grant_scope,
            } => {
                decided(&mut event, "allow", rule, channel, grant_scope);
                Some((line, event))
            }
            Judgement::Deny { rule, text } => {
                decided(&mut event, "deny", rule, "policy", None);
                self.audit.record(event);
                self.from_server.lock().expect("in-flight lock").answer(&id);
                let _ = to_server.send(&deny(&text)).await;
                None
            }
            Judgement::Ask { rule, request, key } => {
                let mut asked = event.clone();
                asked.decision = Some("ask");
                asked.rule = Some(rule.clone());
                self.audit.record(asked);
                self.gate.asked(&request, &key);
                let gate = self.gate;
                let mut asked = Asked {
                    line,
                    id,
                    raw_id,
                    rule,
                    request,
                    key,
                    event,
                    modern: false,
                    tool_call: false,
                    digest: String::new(),
                    verdict: None,
                };
                waiting.push(Box::pin(async move {
                    asked.verdict = Some(gate.approver.decide(&asked.request).await);
                    asked
                }));
                None
            }
        }
    }

    /// A question about a server request came back: pass the request to the client, or
    /// answer the server with the denial. `Err` when the client is gone.
    async fn on_server_answer<CO: AsyncWrite + Unpin, SI: AsyncWrite + Unpin>(
        &self,
        asked: Asked,
        to_client: &Outlet<CO>,
        to_server: &Outlet<SI>,
    ) -> Result<(), ()> {
        let Asked {
            line,
            id,
            raw_id,
            rule,
            request,
            key,
            mut event,
            verdict,
            ..
        } = asked;
        let verdict = verdict.unwrap_or_else(|| Verdict::denied("cancelled"));
        self.gate.decided(&request, &verdict.by);
        event.ts = crate::audit::time::now();
        event.rule = Some(rule);
        event.channel = Some(verdict.by.clone());
        event.detail = answered_by(&verdict);
        event.grant_scope = Some(verdict.answer.label());
        if verdict.answer.allows() {
            event.decision = Some("allow");
            self.audit.record(event);
            if let Err(e) = self.gate.grants.remember(key, verdict.answer, &verdict.by) {
                tracing::warn!(error = %e, "could not remember the grant");
            }
            return to_client.send(&line).await.map_err(drop);
        }
        event.decision = Some("deny");
        self.audit.record(event);
        self.from_server.lock().expect("in-flight lock").answer(&id);
        let text = gate::denial_text(&request, &verdict);
        let _ = to_server
            .send(&envelope::error_reply(
                Some(&raw_id),
                envelope::INVALID_REQUEST,
                &text,
            ))
            .await;
        Ok(())
    }

    /// Decides whether a valid server message may reach the client; for a response,
    /// returns the request it answers.
    fn admit_from_server(&self, msg: &Message) -> Result<Option<Pending>, String> {
        match &msg.kind {
            Kind::Response { id: Some(id), .. } => {
                // A request still waiting for a person was never forwarded: an answer to its
                // id is made up by a server guessing ids (B4), and it would also free the id.
                if self.cancels.lock().expect("cancels lock").contains_key(id) {
                    return Err(format!(
                        "response to {id}, which waits for approval and was never forwarded"
                    ));
                }
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

/// Marks an event with the gate's decision.
fn decided(
    event: &mut Event,
    decision: &'static str,
    rule: String,
    channel: &str,
    grant_scope: Option<String>,
) {
    event.decision = Some(decision);
    event.rule = Some(rule);
    event.channel = Some(channel.to_owned());
    event.grant_scope = grant_scope;
}

/// A denial the model understands: a tool result with `isError` for `tools/call`, a JSON-RPC
/// error for the other gated methods (which have no error result).
fn deny_reply(raw_id: &str, text: &str, tool_call: bool, modern: bool) -> Vec<u8> {
    if tool_call {
        envelope::tool_error_reply(raw_id, text, modern)
    } else {
        envelope::error_reply(Some(raw_id), envelope::INVALID_REQUEST, text)
    }
}

/// The answer's audit detail: which process answered, where the channel knows it.
fn answered_by(verdict: &Verdict) -> Option<String> {
    verdict
        .who
        .as_ref()
        .map(|who| serde_json::json!({ "answered_by": who }).to_string())
}

#[cfg(test)]
mod tests;
