//! The other readings a lenient server could make of an argument value, besides the value
//! as sent: a string read as a boolean or a number, a number or boolean read as a string or
//! as each other, any value read for its truth, and a string holding JSON read as that JSON.
//!
//! What is covered, and from where:
//! - booleans: pydantic's lax mode (`"true"`, `"yes"`, `"on"`, `"1"`, `"t"`, `"y"` and their
//!   `false` counterparts, any case; `1`, `1.0`, `0`), and truthiness (`if x:` in Python, `if
//!   (x)` in JavaScript: any non-empty string is true, `""`, `0` and `null` are false, an
//!   empty list is false to Python and true to JavaScript);
//! - numbers: every reading `number::readings` lists (pydantic, `float()`, `Number()`,
//!   `parseInt`, octal, radix prefixes), `true`/`false` as 1/0, a fraction cut off;
//! - strings: a number or boolean as its usual spellings (`511` as `"511"`, `true` as
//!   `"true"` and `"True"`);
//! - JSON inside a string (the Python SDK parses a string given for a list or object
//!   parameter; JavaScript servers call `JSON.parse`), read as Python and JavaScript would:
//!   `NaN`, `Infinity`, numbers beyond a double and lone surrogates do not stop them.

use serde_json::{Number, Value};

use super::number;

/// How a string's JSON is named among the readings.
pub(crate) const PARSED: &str = "the JSON inside the string";

/// One reading of a value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reading {
    pub(crate) value: Value,
    /// How a server comes to read it so, for explanations.
    pub(crate) how: &'static str,
}

/// The readings of `value` other than itself, without repeats.
pub(crate) fn readings(value: &Value) -> Vec<Reading> {
    let mut out: Vec<Reading> = Vec::new();
    let mut push = |value: Value, how: &'static str| {
        if !out.iter().any(|r| r.value == value) {
            out.push(Reading { value, how });
        }
    };
    match value {
        Value::String(s) => {
            if let Some(json) = json_inside(s) {
                push(json, PARSED);
            }
            if let Some(b) = word(s) {
                push(Value::Bool(b), "a boolean word, as pydantic reads it");
            }
            push(Value::Bool(!s.is_empty()), "its truth value");
            for n in number::readings(s) {
                push(Value::Number(n), "a number, as lenient parsers read it");
            }
        }
        Value::Number(n) => {
            let zero = n.as_f64() == Some(0.0);
            push(Value::Bool(!zero), "its truth value");
            push(Value::String(n.to_string()), "its text");
            if let Some(f) = n.as_f64().filter(|f| f.fract() != 0.0) {
                if let Some(whole) = Number::from_f64(f.trunc()) {
                    push(Value::Number(whole), "its fraction cut off");
                }
            } else if let Some(f) = n.as_f64().filter(|_| !(n.is_i64() || n.is_u64())) {
                // 511.0 is also spelt "511".
                push(Value::String(format!("{f:.0}")), "its text");
            }
        }
        Value::Bool(b) => {
            push(
                Value::from(u8::from(*b)),
                "a number, as lenient parsers read it",
            );
            for spelling in if *b {
                ["true", "True", "1"]
            } else {
                ["false", "False", "0"]
            } {
                push(Value::String(spelling.into()), "its text");
            }
        }
        Value::Null => {
            push(Value::Bool(false), "its truth value");
            push(Value::from(0), "a number, as lenient parsers read it");
        }
        Value::Array(items) => {
            push(Value::Bool(true), "its truth value in JavaScript");
            push(Value::Bool(!items.is_empty()), "its truth value in Python");
        }
        Value::Object(members) => {
            push(Value::Bool(true), "its truth value in JavaScript");
            push(
                Value::Bool(!members.is_empty()),
                "its truth value in Python",
            );
        }
    }
    out
}

/// pydantic's lax booleans: these words in any case, nothing else.
fn word(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
        "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
        _ => None,
    }
}

/// The JSON a string holds, as a lenient parser reads it: the whole string, trimmed, is one
/// JSON value. A bare word or number is left to the other readings.
pub(crate) fn json_inside(text: &str) -> Option<Value> {
    let t = text.trim();
    if !t.starts_with(['[', '{', '"']) {
        return None;
    }
    serde_json::from_str(t)
        .ok()
        .or_else(|| serde_json::from_str(&mend(t)?).ok())
}

/// `text` with what Python's and JavaScript's JSON parsers accept and serde_json does not
/// made acceptable: `NaN`, `Infinity` and numbers beyond a double become `0` (a number they
/// are, whatever its value), a lone surrogate escape becomes U+FFFD. `None` when there was
/// nothing to mend.
fn mend(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let end = (i + 1).min(bytes.len());
                let (mended, fixed) = mend_surrogates(&text[start..end]);
                changed |= fixed;
                out.push_str(&mended);
                i = end;
            }
            b'-' | b'0'..=b'9' | b'N' | b'I' => {
                let start = i;
                while i < bytes.len()
                    && !matches!(
                        bytes[i],
                        b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r' | b':'
                    )
                {
                    i += 1;
                }
                let token = &text[start..i];
                let finite = token.parse::<f64>().is_ok_and(f64::is_finite)
                    && !token.contains(['N', 'I', 'n', 'i']);
                if finite {
                    out.push_str(token);
                } else {
                    out.push('0');
                    changed = true;
                }
            }
            _ => {
                let c = text[i..].chars().next()?;
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    changed.then_some(out)
}

/// A JSON string literal with its unpaired surrogate escapes replaced by `\ufffd`.
fn mend_surrogates(literal: &str) -> (String, bool) {
    let mut out = String::with_capacity(literal.len());
    let mut changed = false;
    let mut rest = literal;
    let escape = |s: &str| -> Option<u16> {
        let hex = s.strip_prefix("\\u")?.get(..4)?;
        u16::from_str_radix(hex, 16).ok()
    };
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match escape(rest) {
            Some(high @ 0xD800..=0xDBFF) => {
                let low = escape(&rest[6..]).filter(|l| (0xDC00..=0xDFFF).contains(l));
                if low.is_some() {
                    out.push_str(&rest[..12]);
                    rest = &rest[12..];
                } else {
                    let _ = high;
                    out.push_str("\\ufffd");
                    rest = &rest[6..];
                    changed = true;
                }
            }
            Some(0xDC00..=0xDFFF) => {
                out.push_str("\\ufffd");
                rest = &rest[6..];
                changed = true;
            }
            _ => {
                // Any other escape: copy it whole, so `\\u` is not mistaken for one.
                let len = rest[1..].chars().next().map_or(1, |c| 1 + c.len_utf8());
                out.push_str(&rest[..len]);
                rest = &rest[len..];
            }
        }
    }
    out.push_str(rest);
    (out, changed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn values(v: Value) -> Vec<Value> {
        readings(&v).into_iter().map(|r| r.value).collect()
    }

    #[test]
    fn strings_read_as_booleans_numbers_and_json() {
        for yes in [
            "true", "True", "TRUE", "yes", "on", "1", "t", "y", "Y", " true ",
        ] {
            assert!(values(json!(yes)).contains(&json!(true)), "{yes}");
        }
        for no in ["false", "no", "off", "0", "f", "n"] {
            assert!(values(json!(no)).contains(&json!(false)), "{no}");
        }
        // Truthiness: any non-empty string is true to JavaScript and Python.
        assert!(values(json!("false")).contains(&json!(true)));
        assert!(values(json!("")).contains(&json!(false)));
        assert!(values(json!("0511")).contains(&json!(511)));
        assert!(values(json!("[\"/etc/shadow\"]")).contains(&json!(["/etc/shadow"])));
        assert!(values(json!(" {\"a\": [1]} ")).contains(&json!({"a": [1]})));
        assert!(values(json!("\"/etc/shadow\"")).contains(&json!("/etc/shadow")));
        // What Python and JavaScript parse and serde_json would not.
        assert!(
            values(json!("[NaN, \"/etc/shadow\", Infinity, -Infinity, 1e400]")).contains(&json!([
                0,
                "/etc/shadow",
                0,
                0,
                0
            ]))
        );
        assert!(
            values(json!(
                "[\"\\ud800\", \"/etc/shadow\", \"\\udc00x\", \"\\\\ud800\"]"
            ))
            .contains(&json!(["\u{fffd}", "/etc/shadow", "\u{fffd}x", "\\ud800"]))
        );
        // Plain words are no JSON.
        assert!(!values(json!("hello")).iter().any(Value::is_array));
    }

    #[test]
    fn numbers_booleans_and_null_read_as_each_other() {
        assert_eq!(
            values(json!(1)),
            [json!(true), json!("1")],
            "1 is true and \"1\""
        );
        assert!(values(json!(511.0)).contains(&json!("511")));
        assert!(values(json!(511.9)).contains(&json!(511.0)));
        assert!(values(json!(0)).contains(&json!(false)));
        assert_eq!(
            values(json!(true)),
            [json!(1), json!("true"), json!("True"), json!("1")]
        );
        assert!(values(json!(false)).contains(&json!(0)));
        assert!(values(json!(null)).contains(&json!(false)));
        assert_eq!(values(json!([])), [json!(true), json!(false)]);
        assert_eq!(values(json!({"a": 1})), [json!(true)]);
    }
}
