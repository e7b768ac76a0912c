//! The client's own UI: an `elicitation/create` request peta sends to the client (form mode,
//! 2025-06-18 and later) when the client declared the `elicitation` capability.
//!
//! peta's requests carry ids `"peta-<uuid>"`; the relay hands the client's answers to them
//! back here ([`Elicitation::deliver`]) and never passes them to the server, which never
//! sees peta's questions at all. Dropping a question sends `notifications/cancelled` so the
//! client can close its dialog.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::{Answer, Asking, Channel, Request, render, terminal::FOR_MINUTES};

/// The choices offered, in the order shown; the first is the default.
const CHOICES: [&str; 5] = [
    "deny",
    "allow once",
    "allow for this session",
    "allow for 10 minutes",
    "always allow",
];

pub(crate) struct Elicitation {
    /// Set when the client's `initialize` declared `capabilities.elicitation`.
    capable: AtomicBool,
    /// Lines for the client, written by the relay.
    outbox: mpsc::UnboundedSender<Vec<u8>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Value>>>,
}

impl Elicitation {
    /// A channel and the receiver of the lines it wants sent to the client.
    pub(crate) fn new() -> (Elicitation, mpsc::UnboundedReceiver<Vec<u8>>) {
        let (outbox, lines) = mpsc::unbounded_channel();
        (
            Elicitation {
                capable: AtomicBool::new(false),
                outbox,
                waiting: Mutex::default(),
            },
            lines,
        )
    }

    /// Reads the client's `initialize` params.
    pub(crate) fn client_initialized(&self, params: Option<&str>) {
        let capable = params
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .is_some_and(|p| {
                p.pointer("/capabilities/elicitation")
                    .is_some_and(Value::is_object)
            });
        self.capable.store(capable, Ordering::SeqCst);
    }

    /// Whether `id` is one of peta's questions awaiting an answer.
    pub(crate) fn owns(&self, id: &str) -> bool {
        self.waiting
            .lock()
            .expect("elicitation lock")
            .contains_key(id)
    }

    /// Hands the client's response (the whole message) to the question it answers.
    pub(crate) fn deliver(&self, id: &str, response: Value) {
        if let Some(tx) = self.waiting.lock().expect("elicitation lock").remove(id) {
            let _ = tx.send(response);
        }
    }
}

/// The `elicitation/create` request (method and params) asking about `request`.
pub(crate) fn question(request: &Request) -> Value {
    json!({
        "method": "elicitation/create",
        "params": {
            "message": render::question(request),
            "requestedSchema": {
                "type": "object",
                "properties": {
                    "decision": {
                        "type": "string",
                        "title": "peta: allow this call?",
                        "enum": CHOICES,
                        "default": CHOICES[0],
                    }
                },
                "required": ["decision"],
            },
        },
    })
}

/// What an elicitation response means.
pub(crate) fn answer_from(response: &Value) -> Option<Answer> {
    let result = response.get("result")?;
    match result.get("action").and_then(Value::as_str)? {
        "accept" => Some(
            match result.pointer("/content/decision").and_then(Value::as_str) {
                Some("allow once") => Answer::Once,
                Some("allow for this session") => Answer::Session,
                Some("allow for 10 minutes") => Answer::For(Duration::from_secs(FOR_MINUTES * 60)),
                Some("always allow") => Answer::Always,
                // "deny", anything else, or nothing chosen.
                _ => Answer::Deny,
            },
        ),
        // Closed without a choice: it decides, as a denial nobody chose. Left to other
        // channels, it would wait the whole timeout behind a client that answers every
        // question this way (`claude -p` does, within milliseconds).
        "decline" | "cancel" => Some(Answer::Dismissed),
        _ => None,
    }
}

impl Channel for Elicitation {
    fn name(&self) -> &'static str {
        "elicitation"
    }

    fn available(&self) -> bool {
        self.capable.load(Ordering::SeqCst)
    }

    /// A terminal client draws its dialog on the terminal peta would ask on.
    fn on_the_screen(&self) -> bool {
        true
    }

    fn ask<'a>(&'a self, request: &'a Request) -> Asking<'a> {
        Box::pin(async move {
            let id = request.id.clone();
            let (tx, rx) = oneshot::channel();
            self.waiting
                .lock()
                .expect("elicitation lock")
                .insert(id.clone(), tx);
            let mut question = question(request);
            question["jsonrpc"] = "2.0".into();
            question["id"] = id.clone().into();
            let mut line = question.to_string().into_bytes();
            line.push(b'\n');
            self.outbox.send(line).ok()?;
            // Withdraws the dialog when this future is dropped unanswered.
            struct Withdraw<'a>(&'a Elicitation, String);
            impl Drop for Withdraw<'_> {
                fn drop(&mut self) {
                    let pending = self
                        .0
                        .waiting
                        .lock()
                        .expect("elicitation lock")
                        .remove(&self.1);
                    if pending.is_some() {
                        let cancel = json!({
                            "jsonrpc": "2.0",
                            "method": "notifications/cancelled",
                            "params": {"requestId": self.1, "reason": "answered elsewhere or timed out"},
                        });
                        let mut line = cancel.to_string().into_bytes();
                        line.push(b'\n');
                        let _ = self.0.outbox.send(line);
                    }
                }
            }
            let _withdraw = Withdraw(self, id);
            let response = rx.await.ok()?;
            answer_from(&response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses() {
        let accept = |d: &str| json!({"result": {"action": "accept", "content": {"decision": d}}});
        assert_eq!(answer_from(&accept("allow once")), Some(Answer::Once));
        assert_eq!(answer_from(&accept("always allow")), Some(Answer::Always));
        assert_eq!(answer_from(&accept("deny")), Some(Answer::Deny));
        assert_eq!(answer_from(&accept("something else")), Some(Answer::Deny));
        assert_eq!(
            answer_from(&json!({"result": {"action": "decline"}})),
            Some(Answer::Dismissed)
        );
        assert_eq!(
            answer_from(&json!({"result": {"action": "cancel"}})),
            Some(Answer::Dismissed)
        );
        assert_eq!(answer_from(&json!({"result": {"action": "other"}})), None);
        assert_eq!(
            answer_from(&json!({"error": {"code": -1, "message": "no"}})),
            None
        );
    }
}
