//! Argument predicates: a JSON pointer into the call's arguments and a test on the value
//! found there.
//!
//! Numbers compare by value, whatever their spelling: `1`, `1.0` and `1e0` are equal, and
//! integers beyond 2^53 compare exactly. Nothing else is converted: the string `"1"` is not
//! the number `1`, and strings are compared as sent, without case folding or normalisation.

use std::cmp::Ordering;
use std::fmt;

use regex::Regex;
use serde_json::{Number, Value};

use super::matcher::Glob;
use super::pointer::Pointer;
use super::show;

/// What a predicate asks of the value.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// Equal to this value.
    Eq(Value),
    /// Equal to one of these values.
    OneOf(Vec<Value>),
    /// A string that the glob matches as a whole.
    Glob(Glob),
    /// A string in which the regex finds a match (anchors only where written).
    Regex(Regex),
    /// A number below this one.
    Lt(Number),
    /// A number above this one.
    Gt(Number),
    /// A string holding this substring, or an array holding an element equal to this value.
    Contains(Value),
}

impl Test {
    pub(crate) fn glob(pattern: &str) -> Result<Test, String> {
        Glob::new(pattern).map(Test::Glob)
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
            Test::Regex(_) => "regex",
            Test::Lt(_) => "lt",
            Test::Gt(_) => "gt",
            Test::Contains(_) => "contains",
        }
    }

    fn check(&self, value: &Value) -> Outcome {
        let holds = match (self, value) {
            (Test::Eq(expected), v) => same(expected, v),
            (Test::OneOf(options), v) => options.iter().any(|o| same(o, v)),
            (Test::Glob(glob), Value::String(s)) => glob.is_match(s),
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
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let operand = match self {
            Test::Eq(v) | Test::Contains(v) => show::value(v),
            Test::OneOf(options) => show::value(&Value::Array(options.clone())),
            Test::Glob(glob) => show::text(glob.as_str()),
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

/// One test on the value at one pointer.
#[derive(Debug, Clone)]
pub(crate) struct Predicate {
    pub(crate) pointer: Pointer,
    pub(crate) test: Test,
}

impl Predicate {
    /// Checks the predicate against the arguments (`None`: the call has none).
    pub(crate) fn check(&self, args: Option<&Value>) -> Outcome {
        match args.and_then(|a| self.pointer.resolve(a)) {
            Some(value) => self.test.check(value),
            None => Outcome::Missing,
        }
    }

    /// Why the predicate does not hold for these arguments, for an explanation.
    pub(crate) fn describe(&self, outcome: Outcome, args: Option<&Value>) -> String {
        let found = args.and_then(|a| self.pointer.resolve(a));
        match (outcome, found) {
            (Outcome::Holds, _) => self.to_string(),
            (Outcome::Missing, _) | (_, None) => format!("{self}: {} is missing", self.pointer),
            (Outcome::Fails, Some(v)) => format!("{self}: got {}", show::value(v)),
            (Outcome::WrongType, Some(v)) => format!(
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
