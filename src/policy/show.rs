//! Values as they appear in reasons and explanations: compact JSON, with control and
//! invisible formatting characters made visible and long values cut with a count, so a
//! name or argument cannot rewrite the terminal or hide part of itself.

use serde_json::Value;

use crate::wire::strict::is_format;

/// Longest shown value, in characters, before it is cut.
const MAX_CHARS: usize = 80;

/// A string, quoted as JSON.
pub(crate) fn text(s: &str) -> String {
    value(&Value::String(s.to_owned()))
}

/// A JSON value, compact.
pub(crate) fn value(v: &Value) -> String {
    visible(&v.to_string())
}

/// Text as is, but with controls and formatting characters escaped and a long text cut.
pub(crate) fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CHARS * 2));
    for (n, c) in text.chars().enumerate() {
        if n == MAX_CHARS {
            out.push_str(&format!("… ({} bytes in all)", text.len()));
            break;
        }
        if c.is_control() || is_format(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The JSON type of a value, for "got a number".
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_visible_and_long_values_cut() {
        assert_eq!(text("a\u{202e}b\u{85}"), r#""a\u{202e}b\u{85}""#);
        assert_eq!(text("x\u{1b}[2K"), r#""x\u001b[2K""#);
        assert_eq!(visible("/a\u{7}"), "/a\\u{7}");
        let long = text(&"a".repeat(200));
        assert_eq!(
            long,
            format!("\"{}… (202 bytes in all)", "a".repeat(MAX_CHARS - 1))
        );
    }
}
