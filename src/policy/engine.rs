//! The policy and its evaluation: which rules match a call, which of them decides, and
//! what happens when none does.
//!
//! The policy is layered. The user's configuration decides first: among its matching rules a
//! `deny` wins, then an `ask`, then an `allow`; between rules of the same action the first in
//! the file decides. With no match the server's default
//! applies (`[servers.NAME] default_action`, else `[defaults] default_action`, else `ask`).
//! For a server marked `trust_annotations`, a tool's annotations may move that default:
//! `readOnlyHint: true` to `allow`, `destructiveHint: true` to at least `ask` (the claim of
//! destruction wins if both are made). Annotations never override a matching rule, and those
//! of other servers are ignored: they are the server's claims about itself.
//!
//! Then each further layer ([`Layer`], today a project's `peta.toml`) may only tighten that
//! decision: its strictest matching rule takes over when it is stricter (allow → ask or deny,
//! ask → deny), never otherwise, whatever the default was. An `ask` it leaves standing waits
//! no longer than the user's decision would, and a question it raises waits no longer than
//! the user's `[defaults] timeout`. A layer's rules are never consulted for a default.
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
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use serde_json::value::RawValue;

use super::action::Action;
use super::path::{Host, Lexical};
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

/// Where a layer of rules comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The user's own configuration: its rules and defaults decide.
    User,
    /// A project's `peta.toml`, this file: its rules may only tighten the user's decision.
    Project(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Source::User => f.write_str("your configuration"),
            Source::Project(file) => {
                write!(f, "the project's {}", visible(&file.display().to_string()))
            }
        }
    }
}

/// Rules applied after the user's decision, which may only make it stricter.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    pub(crate) source: Source,
    rules: Vec<Rule>,
}

impl Layer {
    pub(crate) fn rules(&self) -> &[Rule] {
        &self.rules
    }
}

/// The compiled policy: rules and defaults, ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// The user's rules.
    rules: Vec<Rule>,
    /// The layers that may only tighten the user's decision, in the order they apply.
    layers: Vec<Layer>,
    /// `[defaults] default_action`.
    pub(crate) default_action: Option<Action>,
    /// `[defaults] timeout`: how long an `ask` waits, unless its rule says otherwise.
    pub(crate) timeout: Duration,
    /// Methods gated besides `tools/call`.
    pub(crate) gate: Vec<Method>,
    /// Settings of the servers that have any, by name.
    pub(crate) servers: BTreeMap<String, ServerPolicy>,
    /// The machine the server runs on, as path tests need to know it (its working
    /// directory, homes, symlinks); knows nothing until the caller says.
    pub(crate) host: Arc<dyn Host>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            rules: Vec::new(),
            layers: Vec::new(),
            default_action: None,
            timeout: DEFAULT_TIMEOUT,
            gate: Vec::new(),
            servers: BTreeMap::new(),
            host: Arc::new(Lexical),
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
    /// The deciding rule's `message`, as `source` wrote it: a project's is not the user's
    /// word (see [`Decision::message_for_people`]).
    pub(crate) message: Option<String>,
    /// How long an `ask` waits for an answer before it counts as a deny.
    pub(crate) timeout: Duration,
    /// The layer that decided.
    pub(crate) source: Source,
}

impl Decision {
    /// The deciding rule's message, marked as the project's when a project wrote it: it is
    /// text from the repository, shown as data, never as the user's own instruction.
    pub(crate) fn message_for_people(&self) -> Option<String> {
        let message = self.message.as_ref()?;
        Some(match &self.source {
            Source::User => message.clone(),
            source => format!("({source} says:) {message}"),
        })
    }
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
    pub(crate) source: Source,
    pub(crate) id: String,
    pub(crate) action: Action,
    pub(crate) matched: bool,
    /// What it matched on, or the part that did not match.
    pub(crate) detail: String,
}

impl Policy {
    /// Adds a rule after the others of the last layer; `Err` holds the index, among all
    /// rules in order, of the rule that has its id already.
    pub(crate) fn add_rule(&mut self, rule: Rule) -> Result<(), usize> {
        if let Some(i) = self.all_rules().position(|(_, r)| r.id == rule.id) {
            return Err(i);
        }
        match self.layers.last_mut() {
            Some(layer) => layer.rules.push(rule),
            None => self.rules.push(rule),
        }
        Ok(())
    }

    /// Starts a layer whose rules (added next, with `add_rule`) may only tighten the
    /// decision of the layers before it.
    pub(crate) fn add_layer(&mut self, source: Source) {
        self.layers.push(Layer {
            source,
            rules: Vec::new(),
        });
    }

    /// The user's rules.
    pub(crate) fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The layers after the user's.
    pub(crate) fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Every rule of every layer, in the order they are considered.
    pub(crate) fn all_rules(&self) -> impl Iterator<Item = (&Source, &Rule)> {
        let user = self.rules.iter().map(|r| (&Source::User, r));
        user.chain(
            self.layers
                .iter()
                .flat_map(|l| l.rules.iter().map(move |r| (&l.source, r))),
        )
    }

    /// Whether requests of this method are decided by the policy at all.
    pub(crate) fn gates(&self, method: Method) -> bool {
        method == Method::ToolsCall || self.gate.contains(&method)
    }

    /// Decides a call: the relay's entry point.
    pub(crate) fn evaluate(&self, call: &Call) -> Decision {
        self.decide(call, &mut |_, _, _, _| {})
    }

    /// Decides a call, and says how every rule fared.
    pub(crate) fn explain(&self, call: &Call) -> Explanation {
        let mut rules = Vec::new();
        let decision = self.decide(call, &mut |source, rule, verdict, args| {
            rules.push(Considered {
                source: source.clone(),
                id: rule.id.clone(),
                action: rule.action,
                matched: verdict.is_ok(),
                detail: match verdict {
                    Ok(()) => rule.describe_match(args, self.host.as_ref()),
                    Err(miss) => rule.describe_miss(miss, call, args),
                },
            });
        });
        Explanation { decision, rules }
    }

    /// The one evaluation behind `evaluate` and `explain`; `seen` hears of every rule
    /// checked, with the arguments if they were read.
    fn decide(&self, call: &Call, seen: &mut Seen) -> Decision {
        let method = call.subject.method();
        if !self.gates(method) {
            return Decision {
                action: Action::Allow,
                decider: Decider::NotGated,
                reason: format!("{method} is not gated: [defaults] gate does not list it"),
                message: None,
                timeout: self.timeout,
                source: Source::User,
            };
        }
        let args = Args::new(call.arguments);
        let mut decision = match self.strictest(&Source::User, &self.rules, call, &args, seen) {
            Err(decision) => return decision,
            Ok(Some((rule, read))) => Decision {
                action: rule.action,
                decider: Decider::Rule(rule.id.clone()),
                reason: format!(
                    "rule `{}` matched: {}",
                    visible(&rule.id),
                    rule.describe_match(read, self.host.as_ref())
                ),
                message: rule.message.clone(),
                timeout: rule.timeout.unwrap_or(self.timeout),
                source: Source::User,
            },
            Ok(None) => self.fallback(call),
        };
        for layer in &self.layers {
            let (rule, read) = match self.strictest(&layer.source, &layer.rules, call, &args, seen)
            {
                Err(decision) => return decision,
                Ok(None) => continue,
                Ok(Some(found)) => found,
            };
            // Never longer than the user lets a question wait.
            let timeout = rule
                .timeout
                .unwrap_or(self.timeout)
                .min(match decision.action {
                    Action::Ask => decision.timeout,
                    _ => self.timeout,
                });
            if rule.action > decision.action {
                decision = Decision {
                    action: rule.action,
                    decider: Decider::Rule(rule.id.clone()),
                    reason: format!(
                        "rule `{}` of {} matched: {}; it tightens {} (by {}) to {}",
                        visible(&rule.id),
                        layer.source,
                        rule.describe_match(read, self.host.as_ref()),
                        decision.action,
                        decision.decider.label(),
                        rule.action,
                    ),
                    message: rule.message.clone(),
                    timeout,
                    source: layer.source.clone(),
                };
            } else if rule.action == Action::Ask && decision.action == Action::Ask {
                decision.timeout = timeout;
            }
        }
        decision
    }

    /// The strictest rule of `rules` that matches the call (the first among equals), with
    /// the arguments if they were read; `Err` is the denial when they could not be read.
    fn strictest<'p>(
        &self,
        source: &Source,
        rules: &'p [Rule],
        call: &Call,
        args: &'p Args,
        seen: &mut Seen,
    ) -> Result<Option<(&'p Rule, Option<&'p Value>)>, Decision> {
        let mut decisive: Option<(&Rule, Option<&Value>)> = None;
        for rule in rules {
            let mut verdict = rule.targets(call);
            let mut read = None;
            if verdict.is_ok() && !rule.args.is_empty() {
                match args.get() {
                    Ok(value) => {
                        read = value;
                        verdict = rule.check_args(value, self.host.as_ref());
                    }
                    Err(why) => return Err(self.unreadable(source, rule, why)),
                }
            }
            seen(source, rule, verdict, read);
            if verdict.is_ok() && decisive.is_none_or(|(best, _)| rule.action > best.action) {
                decisive = Some((rule, read));
            }
        }
        Ok(decisive)
    }

    fn unreadable(&self, source: &Source, rule: &Rule, why: &str) -> Decision {
        Decision {
            action: Action::Deny,
            decider: Decider::Error,
            reason: format!(
                "the arguments cannot be read ({why}) and rule `{}` needs them, so the call is denied",
                visible(&rule.id)
            ),
            message: None,
            timeout: self.timeout,
            source: source.clone(),
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
            source: Source::User,
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

/// Hears of every rule checked: its layer, the rule, how it fared, the arguments if read.
type Seen<'a> = dyn FnMut(&Source, &Rule, Verdict, Option<&Value>) + 'a;

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
