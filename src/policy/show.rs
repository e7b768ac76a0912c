//! Values as they appear in reasons and explanations: compact JSON, with control and
//! invisible formatting characters made visible (`display::visible`) and long values cut
//! with a count, so a name or argument cannot rewrite the terminal or hide part of itself.

use serde_json::Value;

use crate::display::visible;

/// Longest shown value, in characters, before it is cut.
const MAX_CHARS: usize = 80;

/// A string, quoted as JSON.
pub(crate) fn text(s: &str) -> String {
    value(&Value::String(s.to_owned()))
}

/// A JSON value, compact.
pub(crate) fn value(v: &Value) -> String {
    brief(&v.to_string())
}

/// Text with invisible characters escaped and, when long, cut with a count.
fn brief(text: &str) -> String {
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}… ({} bytes in all)", visible(&text[..cut]), text.len()),
        None => visible(text),
    }
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
        let long = text(&"a".repeat(200));
        assert_eq!(
            long,
            format!("\"{}… (202 bytes in all)", "a".repeat(MAX_CHARS - 1))
        );
    }
}
