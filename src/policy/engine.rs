//! The policy and its evaluation: which rules match a call, which of them decides, and
//! what happens when none does.
//!
//! Among the matching rules a `deny` wins, then an `ask`, then an `allow`; between rules of
//! the same action the first in the file decides. With no match the server's default
//! applies (`[servers.NAME] default_action`, else `[defaults] default_action`, else `ask`).
//! For a server marked `trust_annotations`, a tool's annotations may move that default:
//! `readOnlyHint: true` to `allow`, `destructiveHint: true` to at least `ask` (the claim of
//! destruction wins if both are made). Annotations never override a matching rule, and those
//! of other servers are ignored: they are the server's claims about itself.
//!
//! A rule matches only when every argument test holds. A missing argument never satisfies a
//! test. An argument of a type the test cannot examine (a number under `glob`, a string
//! under `gt`) does not satisfy an `allow` rule but does satisfy an `ask` or `deny` rule:
//! peta cannot tell such a value is harmless, and servers do coerce `"1000"` to `1000`.
//! A `deny` whose tests do not match simply does not apply.
//!
//! Evaluation does no I/O and cannot fail, except in reading the arguments, which happens
//! only when a rule with argument predicates is about the call. Arguments that cannot be
//! read then mean `deny`.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use serde_json::value::RawValue;

use super::action::Action;
use super::rule::{Rule, Verdict};
use super::subject::{Method, Subject};
use crate::display::visible;

/// How long a question waits for an answer when the config does not say.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(45);

/// The default action when neither the server nor `[defaults]` sets one.
pub(crate) const BUILTIN_DEFAULT: Action = Action::Ask;

/// A gated request to decide.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    /// The server's name (`peta run --server NAME`); `None` when it was not given.
    pub(crate) server: Option<&'a str>,
    pub(crate) subject: Subject<'a>,
    /// The object predicates look into: `params.arguments` for `tools/call` and
    /// `prompts/get`, `params` itself for the other methods.
    pub(crate) arguments: Option<&'a RawValue>,
    /// The tool's annotations from the server's `tools/list`, if known.
    pub(crate) annotations: Option<&'a Value>,
}

/// A server's own policy settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServerPolicy {
    pub(crate) default_action: Option<Action>,
    pub(crate) trust_annotations: bool,
}

/// The compiled policy: rules and defaults, ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    rules: Vec<Rule>,
    /// `[defaults] default_action`.
    pub(crate) default_action: Option<Action>,
    /// `[defaults] timeout`: how long an `ask` waits, unless its rule says otherwise.
    pub(crate) timeout: Duration,
    /// Methods gated besides `tools/call`.
    pub(crate) gate: Vec<Method>,
    /// Settings of the servers that have any, by name.
    pub(crate) servers: BTreeMap<String, ServerPolicy>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            rules: Vec::new(),
            default_action: None,
            timeout: DEFAULT_TIMEOUT,
            gate: Vec::new(),
            servers: BTreeMap::new(),
        }
    }
}

/// Who or what decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decider {
    /// The rule with this id.
    Rule(String),
    /// No rule matched: the server's default.
    Default,
    /// No rule matched: a trusted server's annotation moved the default.
    Annotation,
    /// The method is not gated: the request passes.
    NotGated,
    /// Evaluation failed: the request is denied.
    Error,
}

impl Decider {
    /// The decider as the audit log and prompts name it.
    pub(crate) fn label(&self) -> &str {
        match self {
            Decider::Rule(id) => id,
            Decider::Default => "default",
            Decider::Annotation => "annotation",
            Decider::NotGated => "not-gated",
            Decider::Error => "error",
        }
    }
}

/// What the policy says about a call, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    pub(crate) action: Action,
    pub(crate) decider: Decider,
    /// For people: what matched, e.g. "rule `no-rm` matched: tool "delete_*", /path glob "/etc/**"".
    pub(crate) reason: String,
    /// The deciding rule's `message`.
    pub(crate) message: Option<String>,
    /// How long an `ask` waits for an answer before it counts as a deny.
    pub(crate) timeout: Duration,
}

/// A decision with every rule's part in it, for `peta policy test`.
#[derive(Debug, Clone)]
pub(crate) struct Explanation {
    pub(crate) decision: Decision,
    /// Every rule, in order, up to the point evaluation stopped (only an unreadable
    /// argument stops it early).
    pub(crate) rules: Vec<Considered>,
}

/// How one rule fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Considered {
    pub(crate) id: String,
    pub(crate) action: Action,
    pub(crate) matched: bool,
    /// What it matched on, or the part that did not match.
    pub(crate) detail: String,
}

impl Policy {
    /// Adds a rule after the others; `Err` holds the index of the rule that has its id.
    pub(crate) fn add_rule(&mut self, rule: Rule) -> Result<(), usize> {
        match self.rules.iter().position(|r| r.id == rule.id) {
            Some(i) => Err(i),
            None => {
                self.rules.push(rule);
                Ok(())
            }
        }
    }

    pub(crate) fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Whether requests of this method are decided by the policy at all.
    pub(crate) fn gates(&self, method: Method) -> bool {
        method == Method::ToolsCall || self.gate.contains(&method)
    }

    /// Decides a call: the relay's entry point.
    pub(crate) fn evaluate(&self, call: &Call) -> Decision {
        self.decide(call, &mut |_, _, _| {})
    }

    /// Decides a call, and says how every rule fared.
    pub(crate) fn explain(&self, call: &Call) -> Explanation {
        let mut rules = Vec::new();
        let decision = self.decide(call, &mut |rule, verdict, args| {
            rules.push(Considered {
                id: rule.id.clone(),
                action: rule.action,
                matched: verdict.is_ok(),
                detail: match verdict {
                    Ok(()) => rule.describe_match(args),
                    Err(miss) => rule.describe_miss(miss, call, args),
                },
            });
        });
        Explanation { decision, rules }
    }

    /// The one evaluation behind `evaluate` and `explain`; `seen` hears of every rule
    /// checked, with the arguments if they were read.
    fn decide(
        &self,
        call: &Call,
        seen: &mut dyn FnMut(&Rule, Verdict, Option<&Value>),
    ) -> Decision {
        let method = call.subject.method();
        if !self.gates(method) {
            return Decision {
                action: Action::Allow,
                decider: Decider::NotGated,
                reason: format!("{method} is not gated: [defaults] gate does not list it"),
                message: None,
                timeout: self.timeout,
            };
        }
        let args = Args::new(call.arguments);
        let mut decisive: Option<(&Rule, Option<&Value>)> = None;
        for rule in &self.rules {
            let mut verdict = rule.targets(call);
            let mut read = None;
            if verdict.is_ok() && !rule.args.is_empty() {
                match args.get() {
                    Ok(value) => {
                        read = value;
                        verdict = rule.check_args(value);
                    }
                    Err(why) => return self.unreadable(rule, why),
                }
            }
            seen(rule, verdict, read);
            if verdict.is_ok() && decisive.is_none_or(|(best, _)| rule.action > best.action) {
                decisive = Some((rule, read));
            }
        }
        match decisive {
            Some((rule, read)) => Decision {
                action: rule.action,
                decider: Decider::Rule(rule.id.clone()),
                reason: format!(
                    "rule `{}` matched: {}",
                    visible(&rule.id),
                    rule.describe_match(read)
                ),
                message: rule.message.clone(),
                timeout: rule.timeout.unwrap_or(self.timeout),
            },
            None => self.fallback(call),
        }
    }

    fn unreadable(&self, rule: &Rule, why: &str) -> Decision {
        Decision {
            action: Action::Deny,
            decider: Decider::Error,
            reason: format!(
                "the arguments cannot be read ({why}) and rule `{}` needs them, so the call is denied",
                visible(&rule.id)
            ),
            message: None,
            timeout: self.timeout,
        }
    }

    /// The decision when no rule matched: the default, perhaps moved by annotations.
    fn fallback(&self, call: &Call) -> Decision {
        let settings = call
            .server
            .and_then(|name| Some((name, self.servers.get(name)?)));
        let (default, source) = match settings {
            Some((
                name,
                ServerPolicy {
                    default_action: Some(action),
                    ..
                },
            )) => (
                *action,
                format!("[servers.{}] default_action", visible(name)),
            ),
            _ => match self.default_action {
                Some(action) => (action, "[defaults] default_action".to_owned()),
                None => (BUILTIN_DEFAULT, "peta's default".to_owned()),
            },
        };
        let decision = |action, decider, reason| Decision {
            action,
            decider,
            reason,
            message: None,
            timeout: self.timeout,
        };
        let mut reason = format!("no rule matched; the default is {default} ({source})");
        if let (Subject::Tool(_), Some(annotations)) = (call.subject, call.annotations) {
            match settings {
                Some((name, server)) if server.trust_annotations => {
                    if let Some((action, claim)) = from_annotations(annotations, default) {
                        return decision(
                            action,
                            Decider::Annotation,
                            format!(
                                "{reason}, but the tool's annotation {claim} makes it {action} ([servers.{}] trust_annotations)",
                                visible(name)
                            ),
                        );
                    }
                }
                _ => reason.push_str("; the tool's annotations are ignored: the server is not marked trust_annotations"),
            }
        }
        decision(default, Decider::Default, reason)
    }
}

/// The action a trusted server's annotations make of `default`, when they change it.
fn from_annotations(annotations: &Value, default: Action) -> Option<(Action, &'static str)> {
    let claims = |key| annotations.get(key).and_then(Value::as_bool) == Some(true);
    let (action, claim) = if claims("destructiveHint") {
        (default.max(Action::Ask), "destructiveHint: true")
    } else if claims("readOnlyHint") {
        (Action::Allow, "readOnlyHint: true")
    } else {
        return None;
    };
    (action != default).then_some((action, claim))
}

/// The call's arguments, parsed the first time a rule needs them.
struct Args<'a> {
    raw: Option<&'a RawValue>,
    parsed: OnceCell<Result<Option<Value>, String>>,
}

impl<'a> Args<'a> {
    fn new(raw: Option<&'a RawValue>) -> Self {
        Args {
            raw,
            parsed: OnceCell::new(),
        }
    }

    fn get(&self) -> Result<Option<&Value>, &str> {
        let parsed = self.parsed.get_or_init(|| {
            self.raw
                .map(|raw| serde_json::from_str(raw.get()).map_err(|e| e.to_string()))
                .transpose()
        });
        match parsed {
            Ok(value) => Ok(value.as_ref()),
            Err(why) => Err(why),
        }
    }
}
