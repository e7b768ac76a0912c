//! The gate: what the relay does with a gated request (`tools/call`, and the methods the
//! configuration adds). The policy decides allow, deny or ask; a remembered grant can turn an
//! ask into an allow; an ask becomes a [`Request`] for the approval channels. The gate also
//! remembers what the server listed in `tools/list` (definition hashes and annotations).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use serde_json::value::RawValue;

use crate::approval::console::Console;
use crate::approval::elicit::Elicitation;
use crate::approval::{Approver, GrantKey, Grants, Request, Verdict, render};
use crate::audit::row::sha256_hex;
use crate::display::visible;
use crate::pins::{self, Pins, State};
use crate::policy::{Action, Call, Method, Policy, Subject};
use crate::proxy::pinning;
use crate::secrets::redact::Redactor;
use crate::wire::envelope::{Kind, Message};

/// Questions that may wait at once in one session; more are denied as a flood.
pub(crate) const MAX_WAITING: usize = 16;

/// What the server said about one tool in `tools/list`.
#[derive(Debug, Clone)]
struct Listed {
    /// SHA-256 of the tool's canonical definition (see `pins::ToolDef`).
    definition: String,
    annotations: Option<Value>,
    /// What the pins say of it, for people.
    pin: String,
}

/// Tool pinning for this session: the pin store (or why it could not be opened), the
/// server's identity in it, and the tools held back in this session, with the reason.
pub(crate) struct Pinning {
    pins: Result<Mutex<Pins>, String>,
    server: String,
    strict: bool,
    listed_once: std::sync::atomic::AtomicBool,
    held: Mutex<HashMap<String, String>>,
    /// The definitions of the pages of the listing in progress (pages so far).
    listing: Mutex<Vec<pins::ToolDef>>,
    pages: std::sync::atomic::AtomicUsize,
}

/// Most `tools/list` pages one listing may have; the last one allowed ends the listing.
pub(crate) const MAX_PAGES: usize = 100;

impl Pinning {
    pub(crate) fn new(pins: Result<Pins, String>, server: String, strict: bool) -> Pinning {
        Pinning {
            pins: pins.map(Mutex::new),
            server,
            strict,
            listed_once: std::sync::atomic::AtomicBool::new(false),
            held: Mutex::default(),
            listing: Mutex::default(),
            pages: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

pub(crate) struct Gate {
    pub(crate) policy: Policy,
    /// The configured name (`--server`), for rules; `None` when not given.
    pub(crate) server: Option<String>,
    /// What people see as the server's name.
    pub(crate) label: String,
    /// SHA-256 of the server's command line: grants are bound to it with the label.
    pub(crate) command: String,
    pub(crate) approver: Approver,
    pub(crate) grants: Arc<Grants>,
    pub(crate) elicitation: Option<Arc<Elicitation>>,
    /// The console, told when another channel decided a question.
    pub(crate) console: Option<Arc<Console>>,
    /// What each recent question's grant would be bound to, for late console answers.
    pub(crate) questions: Questions,
    pub(crate) pinning: Option<Pinning>,
    tools: Mutex<HashMap<String, Listed>>,
}

/// How long a question's grant key is kept for a late answer.
pub(crate) const LATE_ANSWERS: Duration = Duration::from_secs(600);

/// Question id → the grant key its answer would create, kept [`LATE_ANSWERS`] long.
pub(crate) type Questions = Arc<Mutex<HashMap<String, (GrantKey, Instant)>>>;

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("server", &self.server)
            .field("approver", &self.approver)
            .finish_non_exhaustive()
    }
}

/// The gate's judgement of one request.
pub(crate) enum Judgement {
    Allow {
        rule: String,
        /// `policy`, or the grant's scope and who gave it.
        channel: &'static str,
        grant_scope: Option<String>,
    },
    Deny {
        rule: String,
        /// For the model: who or what denied it and how to get it approved.
        text: String,
    },
    Ask {
        rule: String,
        request: Box<Request>,
        key: GrantKey,
    },
}

/// A gated request, as the gate sees it.
pub(crate) struct Gated<'m> {
    pub(crate) method: Method,
    pub(crate) name: String,
    pub(crate) arguments: Option<&'m RawValue>,
}

impl Gate {
    pub(crate) fn new(
        policy: Policy,
        server: Option<String>,
        label: String,
        approver: Approver,
        grants: Arc<Grants>,
        elicitation: Option<Arc<Elicitation>>,
    ) -> Gate {
        Gate {
            policy,
            server,
            label,
            command: String::new(),
            approver,
            grants,
            elicitation,
            console: None,
            questions: Questions::default(),
            pinning: None,
            tools: Mutex::default(),
        }
    }

    /// Remembers what a question's approval would be bound to.
    pub(crate) fn asked(&self, request: &Request, key: &GrantKey) {
        let mut questions = self.questions.lock().expect("questions lock");
        questions.retain(|_, (_, at)| at.elapsed() < LATE_ANSWERS);
        questions.insert(request.id.clone(), (key.clone(), Instant::now()));
    }

    /// A question was decided by `by`: the console stops offering it.
    pub(crate) fn decided(&self, request: &Request, by: &str) {
        if by != "console"
            && let Some(console) = &self.console
        {
            console.settled(&request.id);
        }
    }

    /// Lets everything through (relay tests that are not about the gate).
    #[cfg(test)]
    pub(crate) fn allow_all() -> Gate {
        let mut policy = Policy::default();
        policy.default_action = Some(Action::Allow);
        Gate::new(
            policy,
            None,
            "test".into(),
            Approver::new(Vec::new()),
            Arc::new(Grants::in_memory()),
            None,
        )
    }

    /// Whether `msg` is a request this gate decides, and what it is about.
    pub(crate) fn gated<'m>(&self, msg: &Message<'m>) -> Option<Gated<'m>> {
        let Kind::Request { method, .. } = &msg.kind else {
            return None;
        };
        let method = Method::from_name(method)?;
        if !self.policy.gates(method) {
            return None;
        }
        if let Some(call) = &msg.tool {
            return Some(Gated {
                method,
                name: call.name.to_string(),
                arguments: call.arguments,
            });
        }
        let params: Option<Value> = msg.params.and_then(|p| serde_json::from_str(p.get()).ok());
        let field = |k: &str| {
            params
                .as_ref()
                .and_then(|p| p.get(k))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (name, arguments) = match method {
            Method::ResourcesRead => (field("uri"), msg.params),
            Method::PromptsGet => (field("name"), None),
            _ => (method.as_str().to_owned(), msg.params),
        };
        Some(Gated {
            method,
            name,
            arguments,
        })
    }

    /// Decides a gated request whose exact bytes are `line`.
    pub(crate) fn judge(&self, gated: &Gated, line: &[u8], redactor: &Redactor) -> Judgement {
        let listed = self
            .tools
            .lock()
            .expect("tools lock")
            .get(&gated.name)
            .cloned();
        let subject = Subject::new(gated.method, &gated.name);
        let decision = self.policy.evaluate(&Call {
            server: self.server.as_deref(),
            subject,
            arguments: gated.arguments,
            annotations: listed.as_ref().and_then(|l| l.annotations.as_ref()),
        });
        let rule = decision.decider.label().to_owned();
        let shown = visible(&gated.name);
        if gated.method == Method::ToolsCall
            && let Some(pinning) = &self.pinning
            && let Some(reason) = pinning.held.lock().expect("held lock").get(&gated.name)
        {
            let server = visible(&pinning.server);
            return Judgement::Deny {
                rule: "pin".into(),
                text: format!(
                    "peta blocked tools/call {shown}: {reason}. Nothing was sent to the server. Do not call it again until the user has reviewed it (`peta tools diff {server} {shown}`) and approved it (`peta tools approve {server} {shown}`)."
                ),
            };
        }
        match decision.action {
            Action::Allow => Judgement::Allow {
                rule,
                channel: "policy",
                grant_scope: None,
            },
            Action::Deny => {
                let why = decision
                    .message_for_people()
                    .unwrap_or(decision.reason.clone());
                Judgement::Deny {
                    text: format!(
                        "peta's policy denies {} {shown} (rule `{rule}`: {why}). Nothing was sent to the server. Do not retry this call; if it is needed, ask the user to change the rule in peta's configuration.",
                        gated.method.as_str()
                    ),
                    rule,
                }
            }
            Action::Ask => {
                let arguments: Option<Value> = gated
                    .arguments
                    .and_then(|a| serde_json::from_str(a.get()).ok());
                let key = GrantKey {
                    server: self.label.clone(),
                    command: self.command.clone(),
                    tool: gated.name.clone(),
                    definition: listed
                        .as_ref()
                        .map(|l| l.definition.clone())
                        .unwrap_or_default(),
                    arguments: sha256_hex(render::canonical(arguments.as_ref()).as_bytes()),
                };
                if let Some(grant) = self.grants.check(&key) {
                    return Judgement::Allow {
                        rule: format!("grant:{}", grant.id),
                        channel: "grant",
                        grant_scope: Some(
                            format!("{:?} by {}", grant.scope, grant.by).to_lowercase(),
                        ),
                    };
                }
                let request = Request {
                    id: format!("peta-{}", uuid::Uuid::new_v4().simple()),
                    server: visible(&self.label),
                    method: gated.method.as_str().to_owned(),
                    tool: shown,
                    rule: rule.clone(),
                    reason: decision.reason.clone(),
                    message: decision.message_for_people(),
                    arguments: render::arguments(arguments.as_ref(), redactor),
                    annotations: listed
                        .as_ref()
                        .and_then(|l| l.annotations.as_ref())
                        .map(|a| visible(&redactor.text(&a.to_string()))),
                    pin: listed.as_ref().map_or_else(
                        || "not listed by the server in this session".into(),
                        |l| l.pin.clone(),
                    ),
                    bytes_sha256: sha256_hex(line),
                    timeout: decision.timeout,
                };
                Judgement::Ask {
                    rule,
                    request: Box::new(request),
                    key,
                }
            }
        }
    }

    /// Judges the server's `instructions` in an `initialize` result against their pin: changed
    /// instructions are withheld from the client until approved (`peta tools approve SERVER
    /// --all`). Returns the message to send instead, if any, and an event when not pinned.
    pub(crate) fn initialized(
        &self,
        line: &[u8],
    ) -> (Option<Vec<u8>>, Option<crate::audit::Event>) {
        let (Some(pinning), Some(instructions)) = (&self.pinning, pinning::instructions(line))
        else {
            return (None, None);
        };
        let state = match &pinning.pins {
            Ok(store) => store
                .lock()
                .expect("pins lock")
                .observe_instructions(&pinning.server, instructions.as_deref())
                .map_err(|e| e.to_string()),
            Err(why) => Err(why.clone()),
        };
        let (label, withhold) = match state {
            Ok(State::Pinned) => return (None, None),
            Ok(State::New) => ("new: pinned now, on first sight".to_owned(), false),
            Ok(State::Changed { .. }) => ("changed since pinned: withheld".to_owned(), true),
            Ok(State::Blocked { reason }) => (format!("withheld: {reason}"), true),
            Err(why) => (
                format!("withheld: the pins could not be checked ({why})"),
                true,
            ),
        };
        if withhold {
            tracing::warn!(
                "the server's instructions changed since they were pinned; withheld from the client"
            );
        }
        let event = crate::audit::Event {
            ts: crate::audit::time::now(),
            direction: "peta",
            kind: "pin",
            tool: Some("(instructions)".into()),
            decision: Some(if withhold { "held" } else { "pinned" }),
            detail: Some(
                serde_json::json!({
                    "state": label,
                    "hash": pins::instructions_hash(instructions.as_deref()),
                })
                .to_string(),
            ),
            ..crate::audit::Event::default()
        };
        let rewritten = if withhold {
            pinning::without_instructions(line)
        } else {
            None
        };
        (rewritten, Some(event))
    }

    /// Judges a `tools/list` result message against the pins: remembers each tool's
    /// definition and annotations, holds back tools whose definition changed (or a list
    /// refused as a whole), and returns the message the client should see instead when some
    /// were held back, with an audit event for each tool that is new, changed or blocked.
    pub(crate) fn tools_listed(&self, line: &[u8]) -> (Option<Vec<u8>>, Vec<crate::audit::Event>) {
        let tools = pinning::tools(line);
        let defs = pins::definitions(&tools);
        let annotations: HashMap<&str, &Value> = tools
            .iter()
            .filter_map(|t| Some((t.get("name")?.as_str()?, t.get("annotations")?)))
            .collect();
        let Some(pinning) = &self.pinning else {
            let mut known = self.tools.lock().expect("tools lock");
            for def in &defs {
                known.insert(
                    def.name.clone(),
                    Listed {
                        definition: def.hash.clone(),
                        annotations: annotations.get(def.name.as_str()).map(|a| (*a).clone()),
                        pin: "not pinned (pinning is off)".into(),
                    },
                );
            }
            return (None, Vec::new());
        };
        // Names must be told apart across every page of one listing, not only within a page.
        let more = pinning::has_next_page(line);
        let pages = pinning
            .pages
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let (mut flags, whole_list) = {
            let mut listing = pinning.listing.lock().expect("listing lock");
            if pages == 1 {
                listing.clear();
            }
            listing.extend(defs.iter().cloned());
            let verdict = pins::hygiene(&listing);
            if !more || pages >= MAX_PAGES {
                pinning.pages.store(0, std::sync::atomic::Ordering::SeqCst);
            }
            (
                verdict.0,
                verdict.1.map(|reason| {
                    // The earlier pages' tools were already passed on: hold them back too.
                    let names: Vec<String> = listing.iter().map(|d| d.name.clone()).collect();
                    (reason, names)
                }),
            )
        };
        if let Ok(store) = &pinning.pins
            && let Ok(shadows) = store
                .lock()
                .expect("pins lock")
                .shadowing(&pinning.server, &defs)
        {
            flags.extend(shadows);
        }
        let states = match &pinning.pins {
            Ok(store) => store
                .lock()
                .expect("pins lock")
                .observe(&pinning.server, &defs)
                .map_err(|e| e.to_string()),
            Err(why) => Err(why.clone()),
        };
        let states: Vec<(String, State)> = states.unwrap_or_else(|why| {
            tracing::error!("tool pins unavailable, holding back every tool: {why}");
            defs.iter()
                .map(|d| {
                    let reason = format!("peta could not check it against its pins ({why})");
                    (d.name.clone(), State::Blocked { reason })
                })
                .collect()
        });
        if let Some((reason, names)) = &whole_list {
            let mut held = pinning.held.lock().expect("held lock");
            for name in names {
                held.insert(name.clone(), reason.clone());
            }
        }
        let states: Vec<(String, State)> = match whole_list.map(|(reason, _)| reason) {
            Some(reason) => states
                .into_iter()
                .map(|(name, _)| {
                    (
                        name,
                        State::Blocked {
                            reason: reason.clone(),
                        },
                    )
                })
                .collect(),
            None => states,
        };
        let first_list = !pinning
            .listed_once
            .swap(true, std::sync::atomic::Ordering::SeqCst);
        let mut hidden = HashSet::new();
        let mut events = Vec::new();
        let mut held = pinning.held.lock().expect("held lock");
        let mut known = self.tools.lock().expect("tools lock");
        for (def, (name, state)) in defs.iter().zip(&states) {
            const APPEARED: &str =
                "it appeared in the middle of a session, and this server is pinned strictly";
            let hold = match state {
                State::Changed { pinned } if pinned.is_empty() => Some(APPEARED.to_owned()),
                State::Changed { .. } => {
                    Some("its definition changed since it was pinned".to_owned())
                }
                State::Blocked { reason } => Some(reason.clone()),
                State::New if pinning.strict && !first_list => {
                    if let Ok(store) = &pinning.pins
                        && let Err(e) = store
                            .lock()
                            .expect("pins lock")
                            .hold_new(&pinning.server, name)
                    {
                        tracing::error!(
                            "could not keep {} waiting for approval: {e}",
                            visible(name)
                        );
                    }
                    Some(APPEARED.to_owned())
                }
                State::New | State::Pinned => None,
            };
            let label = match (state, &hold) {
                (_, Some(reason)) => format!("held back: {reason}"),
                (State::New, None) => "new: pinned now, on first sight".into(),
                _ => "pinned".into(),
            };
            if !matches!(state, State::Pinned) || hold.is_some() {
                let tool_flags: Vec<&str> = flags
                    .iter()
                    .filter(|f| &f.tool == name)
                    .map(|f| f.what.as_str())
                    .collect();
                for flag in &tool_flags {
                    tracing::warn!(tool = %visible(name), "pinned with a warning: {}", visible(flag));
                }
                events.push(crate::audit::Event {
                    ts: crate::audit::time::now(),
                    direction: "peta",
                    kind: "pin",
                    tool: Some(name.clone()),
                    decision: Some(if hold.is_some() { "held" } else { "pinned" }),
                    detail: Some(
                        serde_json::json!({"state": label, "hash": def.hash, "flags": tool_flags})
                            .to_string(),
                    ),
                    ..crate::audit::Event::default()
                });
            }
            match hold {
                Some(reason) => {
                    tracing::warn!(tool = %visible(name), "{reason}; hidden from the client");
                    hidden.insert(name.clone());
                    held.insert(name.clone(), reason);
                }
                None => {
                    held.remove(name);
                }
            }
            known.insert(
                name.clone(),
                Listed {
                    definition: def.hash.clone(),
                    annotations: annotations.get(name.as_str()).map(|a| (*a).clone()),
                    pin: label,
                },
            );
        }
        let ended = more && pages >= MAX_PAGES;
        if ended {
            tracing::warn!("the server's tool list ran past {MAX_PAGES} pages; ended it there");
        }
        let rewritten = if hidden.is_empty() && !ended {
            None
        } else {
            pinning::without_more(line, &hidden, ended)
        };
        (rewritten, events)
    }
}

/// What the model reads when a question ends in a denial nobody chose explicitly, or one a
/// person chose.
pub(crate) fn denial_text(request: &Request, verdict: &Verdict) -> String {
    let what = format!("{} {}", request.method, request.tool);
    if verdict.answer == crate::approval::Answer::Dismissed {
        return format!(
            "peta asked the user to approve {what} in the client's own dialog, and it was dismissed there without a choice (declined or cancelled; a client without a screen, such as `claude -p`, dismisses every question), so it was denied; nothing was sent to the server. If the call is needed, ask the user to allow it with `peta approve` in a terminal (it stays answerable for 10 minutes), then retry the same call."
        );
    }
    match verdict.by.as_str() {
        "timeout" => format!(
            "peta asked the user to approve {what} and got no answer within {} s, so it was denied; nothing was sent to the server. Ask the user to approve it (at the terminal prompt, the desktop notification, or with `peta approve` in a terminal), then retry the same call.",
            request.timeout.as_secs()
        ),
        "no-channel" => format!(
            "peta needs the user to approve {what}, and no way to ask is available (no terminal, no desktop notifications, no `peta approve` console, and the client does not offer elicitation), so it was denied; nothing was sent to the server. Ask the user to run `peta approve --watch` in a terminal, then retry the same call."
        ),
        "no-answer" => format!(
            "peta asked the user to approve {what}; every prompt was dismissed without an answer, so it was denied and nothing was sent to the server. Ask the user whether to retry."
        ),
        "flood" => format!(
            "peta denied {what}: too many calls are already waiting for the user's approval. Wait for those to be answered, then retry."
        ),
        "audit" => format!(
            "peta denied {what}: the approval could not be recorded in the audit log, and peta runs nothing it cannot record. Nothing was sent to the server."
        ),
        by => format!(
            "The user denied {what} (answered at the {by}). Nothing was sent to the server. Do not retry it unless the user asks you to."
        ),
    }
}
