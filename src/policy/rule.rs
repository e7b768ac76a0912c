//! One rule: which calls it is about (server, method, tool, argument predicates) and what
//! it does with them.

use std::time::Duration;

use serde_json::Value;

use super::action::Action;
use super::engine::Call;
use super::matcher::NameMatcher;
use super::path::Host;
use super::predicate::{Found, Outcome, Predicate, Reader};
use super::show;
use super::subject::Method;

/// A checked rule, ready to match.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// Unique among the rules; names the rule in decisions, prompts and the audit log.
    pub(crate) id: String,
    pub(crate) server: NameMatcher,
    pub(crate) method: Method,
    /// Matched against the subject's name (see `Subject::name`).
    pub(crate) tool: NameMatcher,
    /// All must hold for the rule to match.
    pub(crate) args: Vec<Predicate>,
    pub(crate) action: Action,
    /// Shown to the model with a denial, and to the person asked.
    pub(crate) message: Option<String>,
    /// How long an `ask` waits for an answer, instead of the default.
    pub(crate) timeout: Option<Duration>,
}

/// Whether a rule matches a call, and if not, why not.
pub(crate) type Verdict = Result<(), Miss>;

/// Why a rule does not match a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Miss {
    Server,
    Method,
    Tool,
    /// The predicate at this index of `args` did not hold.
    Arg(usize, Outcome),
}

impl Rule {
    /// Whether the rule is about this call, judged on all but the arguments.
    pub(crate) fn targets(&self, call: &Call) -> Verdict {
        if !self.server.is_match(call.server) {
            return Err(Miss::Server);
        }
        if self.method != call.subject.method() {
            return Err(Miss::Method);
        }
        if !self.tool.is_match(Some(call.subject.name())) {
            return Err(Miss::Tool);
        }
        Ok(())
    }

    /// How this rule reads arguments: an `allow` only as sent, a `deny` or `ask` in every
    /// way a lenient server could (see `predicate`).
    pub(crate) fn reader(&self) -> Reader {
        match self.action {
            Action::Allow => Reader::Strict,
            Action::Ask | Action::Deny => Reader::Lenient,
        }
    }

    /// Whether every predicate holds for `args`.
    ///
    /// A value that is missing never satisfies a predicate. A value of a type the test
    /// cannot examine (a number where a glob expects a string) does not satisfy an `allow`
    /// rule, but does satisfy an `ask` or `deny` rule: peta cannot tell it is harmless.
    pub(crate) fn check_args(&self, args: Option<&Value>, host: &dyn Host) -> Verdict {
        for (i, predicate) in self.args.iter().enumerate() {
            let found = predicate.check(args, self.reader(), host);
            if !self.satisfied_by(found.outcome) {
                return Err(Miss::Arg(i, found.outcome));
            }
        }
        Ok(())
    }

    fn satisfied_by(&self, outcome: Outcome) -> bool {
        match outcome {
            Outcome::Holds => true,
            Outcome::WrongType => self.action != Action::Allow,
            Outcome::Fails | Outcome::Missing => false,
        }
    }

    /// What the rule matched on, for a decision's reason.
    pub(crate) fn describe_match(&self, args: Option<&Value>, host: &dyn Host) -> String {
        let mut parts = Vec::new();
        if !self.server.is_any() {
            parts.push(format!("server {}", self.server));
        }
        if self.method != Method::ToolsCall {
            parts.push(format!("method {}", self.method));
        }
        parts.push(format!("tool {}", self.tool));
        for predicate in &self.args {
            let found = predicate.check(args, self.reader(), host);
            parts.push(match found.outcome {
                Outcome::WrongType => format!(
                    "{}, so this {} rule applies",
                    predicate.describe(&found, args),
                    self.action
                ),
                _ => predicate.describe(&found, args),
            });
        }
        parts.join(", ")
    }

    /// Why the rule did not match, for an explanation.
    pub(crate) fn describe_miss(&self, miss: Miss, call: &Call, args: Option<&Value>) -> String {
        match miss {
            Miss::Server => match call.server {
                Some(name) => format!("server {}: got {}", self.server, show::text(name)),
                None => format!("server {}: the server has no name", self.server),
            },
            Miss::Method => format!("method {}: got {}", self.method, call.subject.method()),
            Miss::Tool => format!(
                "tool {}: got {}",
                self.tool,
                show::text(call.subject.name())
            ),
            Miss::Arg(i, outcome) => self.args[i].describe(&Found { outcome, via: None }, args),
        }
    }
}
