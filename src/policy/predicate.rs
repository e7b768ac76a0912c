//! Argument predicates: a JSON pointer into the call's arguments and a test on the value
//! found there.
//!
//! Numbers compare by value, whatever their spelling: `1`, `1.0` and `1e0` are equal, and
//! integers beyond 2^53 compare exactly. Strings are compared as sent, without case folding
//! or Unicode normalisation.
//!
//! How much else is read into a value depends on the rule ([`Reader`]). An `allow` rule
//! reads strictly: the value as sent, so the string `"1"` is not the number `1` (and a
//! `path` test holds only when every path the server might open matches). A `deny` or `ask`
//! rule reads leniently: it holds when any reading a lenient server could make holds (the
//! readings of `reading` and, for `glob` and `path`, the path forms of `path`), and the
//! pointer also finds values inside strings that hold JSON (`{"paths": "[\"/etc/x\"]"}`
//! has `/etc/x` at `/paths/0`). When a lenient reading could match a deny or ask, it matches.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use regex::Regex;
use serde_json::{Number, Value};

use super::matcher::Glob;
use super::path::{self, Host, PathGlob};
use super::pointer::Pointer;
use super::reading;
use super::show;

/// How far lenient readings nest: JSON inside a string inside JSON inside a string…
const DEPTH: usize = 4;

/// What a predicate asks of the value.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// Equal to this value.
    Eq(Value),
    /// Equal to one of these values.
    OneOf(Vec<Value>),
    /// A string that the glob matches as a whole.
    Glob(Glob),
    /// A path the pattern matches once normalised (see `path::PathGlob`).
    Path(PathGlob),
    /// A string in which the regex finds a match (anchors only where written).
    Regex(Regex),
    /// A number below this one.
    Lt(Number),
    /// A number above this one.
    Gt(Number),
    /// A string holding this substring, or an array holding an element equal to this value.
    Contains(Value),
}

/// How a rule reads the arguments it tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    /// The value as sent, and nothing else: for `allow` rules.
    Strict,
    /// Every reading a lenient server could make: for `deny` and `ask` rules.
    Lenient,
}

impl Test {
    pub(crate) fn glob(pattern: &str) -> Result<Test, String> {
        Glob::new(pattern).map(Test::Glob)
    }

    pub(crate) fn path(pattern: &str) -> Result<Test, String> {
        PathGlob::new(pattern).map(Test::Path)
    }

    pub(crate) fn regex(pattern: &str) -> Result<Test, String> {
        super::matcher::regex(pattern).map(Test::Regex)
    }

    /// The test's key in the config.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Test::Eq(_) => "eq",
            Test::OneOf(_) => "one_of",
            Test::Glob(_) => "glob",
            Test::Path(_) => "path",
            Test::Regex(_) => "regex",
            Test::Lt(_) => "lt",
            Test::Gt(_) => "gt",
            Test::Contains(_) => "contains",
        }
    }

    /// The test on the value exactly as it is.
    fn check(&self, value: &Value) -> Outcome {
        let holds = match (self, value) {
            (Test::Eq(expected), v) => same(expected, v),
            (Test::OneOf(options), v) => options.iter().any(|o| same(o, v)),
            (Test::Glob(glob), Value::String(s)) => glob.is_match(s),
            (Test::Path(glob), Value::String(s)) => glob.is_match(s),
            (Test::Regex(regex), Value::String(s)) => regex.is_match(s),
            (Test::Lt(bound), Value::Number(n)) => compare(n, bound) == Some(Ordering::Less),
            (Test::Gt(bound), Value::Number(n)) => compare(n, bound) == Some(Ordering::Greater),
            (Test::Contains(Value::String(needle)), Value::String(s)) => {
                s.contains(needle.as_str())
            }
            (Test::Contains(needle), Value::Array(items)) => items.iter().any(|i| same(needle, i)),
            _ => return Outcome::WrongType,
        };
        if holds {
            Outcome::Holds
        } else {
            Outcome::Fails
        }
    }

    /// The strict test: the value as sent; for `path`, every path a server might open.
    fn check_strict(&self, value: &Value, host: &dyn Host) -> Outcome {
        match (self, value) {
            (Test::Path(glob), Value::String(s)) => {
                let opened = opened(s, host);
                if !opened.is_empty() && opened.iter().all(|p| glob.is_match(p)) {
                    Outcome::Holds
                } else {
                    Outcome::Fails
                }
            }
            _ => self.check(value),
        }
    }

    /// A reading of `value`, other than the value itself, under which the test holds.
    /// `in_json`: `value` was itself read out of a string, so a list or object holds when
    /// one of its elements does (a test that cannot examine a container examines what a
    /// server would take from it).
    fn lenient(&self, value: &Value, host: &dyn Host, depth: usize, in_json: bool) -> Option<Via> {
        if in_json
            && depth > 0
            && let Some(elements) = elements(value)
        {
            for element in elements {
                if self.check(element) == Outcome::Holds {
                    return Some(Via::new(
                        element,
                        "an element of the JSON inside the string",
                    ));
                }
                if let Some(via) = self.lenient(element, host, depth - 1, true) {
                    return Some(via);
                }
            }
        }
        if let (Test::Glob(_) | Test::Path(_), Value::String(s)) = (self, value) {
            for form in path::forms(s, host) {
                let read = Value::String(form.path);
                if self.check(&read) == Outcome::Holds {
                    return Some(Via::new(&read, form.how));
                }
            }
        }
        for reading in reading::readings(value) {
            if self.check(&reading.value) == Outcome::Holds {
                return Some(Via::new(&reading.value, reading.how));
            }
            if depth > 0
                && reading.how == reading::PARSED
                && let Some(via) = self.lenient(&reading.value, host, depth - 1, true)
            {
                return Some(via);
            }
        }
        None
    }
}

/// The elements of a list, or the values of an object.
fn elements(value: &Value) -> Option<Box<dyn Iterator<Item = &Value> + '_>> {
    match value {
        Value::Array(items) => Some(Box::new(items.iter())),
        Value::Object(members) => Some(Box::new(members.values())),
        _ => None,
    }
}

/// Every absolute, normalised path a server might open for `text`.
fn opened(text: &str, host: &dyn Host) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let forms = path::forms(text, host);
    let candidates = std::iter::once(text.to_owned()).chain(forms.into_iter().map(|f| f.path));
    for candidate in candidates.filter(|p| p.starts_with('/')) {
        let clean = path::normalise(&candidate);
        if !out.contains(&clean) {
            out.push(clean);
        }
    }
    // A relative path no base makes absolute cannot be known to be inside anything.
    let relative = !text.trim().starts_with(['/', '~']) && !text.trim().starts_with("file:");
    if relative && host.bases().is_empty() {
        return Vec::new();
    }
    out
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let operand = match self {
            Test::Eq(v) | Test::Contains(v) => show::value(v),
            Test::OneOf(options) => show::value(&Value::Array(options.clone())),
            Test::Glob(glob) => show::text(glob.as_str()),
            Test::Path(glob) => show::text(glob.as_str()),
            Test::Regex(regex) => show::text(regex.as_str()),
            Test::Lt(n) | Test::Gt(n) => n.to_string(),
        };
        write!(f, "{} {operand}", self.name())
    }
}

/// How a predicate fared against a call's arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Holds,
    Fails,
    /// The pointer names nothing in the arguments.
    Missing,
    /// The value is not of a type the test can examine (a glob on a number, say).
    WrongType,
}

/// The reading under which a lenient test held.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Via {
    read: Value,
    how: &'static str,
}

impl Via {
    fn new(read: &Value, how: &'static str) -> Via {
        Via {
            read: read.clone(),
            how,
        }
    }
}

/// How a predicate fared, and through which reading when not the value as sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    pub(crate) outcome: Outcome,
    pub(crate) via: Option<Via>,
}

impl Found {
    fn plain(outcome: Outcome) -> Found {
        Found { outcome, via: None }
    }
}

/// One test on the value at one pointer.
#[derive(Debug, Clone)]
pub(crate) struct Predicate {
    pub(crate) pointer: Pointer,
    pub(crate) test: Test,
}

impl Predicate {
    /// Checks the predicate against the arguments (`None`: the call has none).
    pub(crate) fn check(&self, args: Option<&Value>, reader: Reader, host: &dyn Host) -> Found {
        let exact = args.and_then(|a| self.pointer.resolve(a));
        if reader == Reader::Strict {
            return Found::plain(match exact {
                Some(value) => self.test.check_strict(value, host),
                None => Outcome::Missing,
            });
        }
        if let Some(value) = exact {
            let outcome = self.test.check(value);
            if matches!(outcome, Outcome::Holds | Outcome::WrongType) {
                return Found::plain(outcome);
            }
        }
        let reached: Vec<(Cow<Value>, bool)> = args
            .map(|a| self.pointer.resolve_through_json(a))
            .unwrap_or_default();
        if reached.is_empty() {
            return Found::plain(Outcome::Missing);
        }
        for (value, in_json) in &reached {
            if *in_json && self.test.check(value) == Outcome::Holds {
                return Found {
                    outcome: Outcome::Holds,
                    via: Some(Via::new(value, reading::PARSED)),
                };
            }
            if let Some(via) = self.test.lenient(value, host, DEPTH, *in_json) {
                return Found {
                    outcome: Outcome::Holds,
                    via: Some(via),
                };
            }
        }
        Found::plain(Outcome::Fails)
    }

    /// What the predicate matched, or why it does not hold, for an explanation.
    pub(crate) fn describe(&self, found: &Found, args: Option<&Value>) -> String {
        let got = args.and_then(|a| self.pointer.resolve(a));
        match (found.outcome, got, &found.via) {
            (Outcome::Holds, Some(v), Some(via)) => format!(
                "{self}: got {}, which a lenient server may read as {} ({})",
                show::value(v),
                show::value(&via.read),
                via.how
            ),
            (Outcome::Holds, None, Some(via)) => format!(
                "{self}: found {} inside a string holding JSON",
                show::value(&via.read)
            ),
            (Outcome::Holds, _, _) => self.to_string(),
            (Outcome::Missing, _, _) | (_, None, _) => {
                format!("{self}: {} is missing", self.pointer)
            }
            (Outcome::Fails, Some(v), _) => format!("{self}: got {}", show::value(v)),
            (Outcome::WrongType, Some(v), _) => format!(
                "{self}: got {}, which {} cannot test",
                show::kind(v),
                self.test.name()
            ),
        }
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} {}", self.pointer, self.test)
    }
}

/// JSON equality with numbers compared by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare(x, y) == Some(Ordering::Equal),
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(k, x)| ys.get(k).is_some_and(|y| same(x, y)))
        }
        _ => a == b,
    }
}

/// A JSON number, as an exact integer when it is one.
enum Num {
    Int(i128),
    Float(f64),
}

fn num(n: &Number) -> Option<Num> {
    if let Some(i) = n.as_i64() {
        Some(Num::Int(i.into()))
    } else if let Some(u) = n.as_u64() {
        Some(Num::Int(u.into()))
    } else {
        n.as_f64().map(Num::Float)
    }
}

/// Compares two JSON numbers exactly, without rounding an integer through a double.
pub(crate) fn compare(a: &Number, b: &Number) -> Option<Ordering> {
    match (num(a)?, num(b)?) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
        (Num::Int(x), Num::Float(y)) => int_vs_float(x, y),
        (Num::Float(x), Num::Int(y)) => int_vs_float(y, x).map(Ordering::reverse),
    }
}

fn int_vs_float(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // Every i64 and u64 lies strictly inside ±2^127.
    const LIMIT: f64 = 1.7014118346046923e38; // 2^127
    if f >= LIMIT {
        return Some(Ordering::Less);
    }
    if f < -LIMIT {
        return Some(Ordering::Greater);
    }
    let floor = f.floor();
    // Exact: a double below 2^127 in magnitude with no fraction is an integer i128 holds.
    let whole = floor as i128;
    Some(match i.cmp(&whole) {
        Ordering::Equal if floor == f => Ordering::Equal,
        Ordering::Equal => Ordering::Less,
        other => other,
    })
}
