//! What the person reads: a call's arguments as canonical, pretty JSON in which secrets are
//! redacted, control, ANSI and bidi characters appear as visible escapes, and long strings are
//! folded with a count of what was left out; and the whole question as text.

use std::fmt::Write;

use serde_json::Value;

use super::Request;
use crate::display::visible;
use crate::secrets::redact::Redactor;

/// Strings longer than this many characters are folded.
pub(crate) const FOLD_AT: usize = 300;
/// How many characters of a folded string are shown.
const FOLD_KEEP: usize = 200;

/// The arguments as the person sees them. `None` (no arguments) shows as `{}`.
pub(crate) fn arguments(arguments: Option<&Value>, redactor: &Redactor) -> String {
    let mut out = String::new();
    match arguments {
        Some(value) => write_value(&mut out, value, redactor, 0),
        None => out.push_str("{}"),
    }
    out
}

/// Canonical JSON (sorted keys, no spaces) of the arguments, for grant keys and hashes.
pub(crate) fn canonical(arguments: Option<&Value>) -> String {
    // serde_json's map is ordered by key without the preserve_order feature.
    arguments.map_or_else(|| "{}".to_owned(), Value::to_string)
}

fn write_value(out: &mut String, value: &Value, redactor: &Redactor, depth: usize) {
    let pad = |out: &mut String, depth: usize| {
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    match value {
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(map) => {
            out.push_str("{\n");
            for (i, (key, item)) in map.iter().enumerate() {
                pad(out, depth + 1);
                write_string(out, key, redactor);
                out.push_str(": ");
                write_value(out, item, redactor, depth + 1);
                if i + 1 < map.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(out, depth);
            out.push('}');
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                pad(out, depth + 1);
                write_value(out, item, redactor, depth + 1);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(out, depth);
            out.push(']');
        }
        Value::String(s) => write_string(out, s, redactor),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

fn write_string(out: &mut String, text: &str, redactor: &Redactor) {
    let text = redactor.text(text);
    let shown = visible(&text);
    out.push('"');
    let chars = shown.chars().count();
    if chars > FOLD_AT {
        let kept: String = shown.chars().take(FOLD_KEEP).collect();
        let left = shown.len() - kept.len();
        out.push_str(&kept.replace('"', "\\\""));
        let _ = write!(out, "…\" [{left} more bytes folded]");
        return;
    }
    out.push_str(&shown.replace('"', "\\\""));
    out.push('"');
}

/// The question as lines of text, for a terminal or the console.
pub(crate) fn question(request: &Request) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "peta: {} wants to run {} {}",
        request.server, request.method, request.tool
    );
    let _ = writeln!(out, "  rule:      {} ({})", request.rule, request.reason);
    if let Some(message) = &request.message {
        let _ = writeln!(out, "  note:      {message}");
    }
    let _ = writeln!(out, "  tool pin:  {}", request.pin);
    if let Some(annotations) = &request.annotations {
        let _ = writeln!(out, "  the server claims: {annotations}");
    }
    let _ = writeln!(out, "  arguments:");
    for line in request.arguments.lines() {
        let _ = writeln!(out, "    {line}");
    }
    let _ = writeln!(
        out,
        "  sha256 of what will be sent: {}",
        request.bytes_sha256
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretValue;

    #[test]
    fn redacted_visible_folded_and_sorted() {
        let token = SecretValue::new("ghp_secret_value_123".into());
        let (redactor, _) = Redactor::new([("GITHUB_TOKEN", &token)]);
        let long = "x".repeat(1000);
        let value: Value = serde_json::from_str(&format!(
            r#"{{"z": 1, "a": "\u001b[2J\u202egnp.exe ghp_secret_value_123", "long": "{long}", "list": [true, null, 1.5]}}"#
        ))
        .expect("json");
        let shown = arguments(Some(&value), &redactor);
        assert!(shown.starts_with("{\n  \"a\": "), "keys sorted: {shown}");
        assert!(
            shown.contains(r#""\u{1b}[2J\u{202e}gnp.exe [REDACTED:GITHUB_TOKEN]""#),
            "{shown}"
        );
        assert!(!shown.contains('\u{1b}') && !shown.contains('\u{202e}'));
        assert!(shown.contains("[800 more bytes folded]"), "{shown}");
        assert!(
            shown.contains("\"list\": [\n    true,\n    null,\n    1.5\n  ]"),
            "{shown}"
        );
        assert_eq!(canonical(Some(&value)).find("\"a\""), Some(1));
    }
}
