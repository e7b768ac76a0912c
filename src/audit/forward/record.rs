//! What one audit row becomes on the wire: the attributes of an OpenTelemetry log record,
//! or the JSON of a syslog message, and the host it comes from.
//!
//! Every chained field travels with its name (`peta.<field>`, absent when null) and its
//! type (integers as integers, `is_error` as a boolean), plus `peta.prev_hash` and
//! `peta.hash`: a receiver recomputes each row's hash with the canonical form documented in
//! `row.rs` and checks the links, so it can verify each host's chain by itself.
//!
//! Where the OpenTelemetry semantic conventions for MCP name a field (open-telemetry/
//! semantic-conventions-genai, `docs/gen-ai/mcp.md`, status Development), the row also
//! carries it under that name: `mcp.method.name`, `gen_ai.tool.name` (tools/call),
//! `gen_ai.prompt.name` (prompts/get), `mcp.resource.uri` (resources/read),
//! `gen_ai.operation.name = "execute_tool"` (tools/call), `jsonrpc.request.id`,
//! `error.type = "tool_error"` (a result with `isError: true`) and `network.transport =
//! "pipe"` (peta relays stdio). peta's own session is not `mcp.session.id` (that is the
//! protocol's `Mcp-Session-Id`), so it stays `peta.session`.

use serde::Serialize;

use crate::audit::row::Row;

/// An attribute value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    Str(&'a str),
    Int(i64),
    Bool(bool),
}

/// The attributes of `row`, in a fixed order: the semantic-convention names first, then
/// every chained field, then the hashes.
pub(crate) fn attributes(row: &Row) -> Vec<(&'static str, Value<'_>)> {
    let mut out = Vec::with_capacity(32);
    let method = row.method.as_deref();
    if let Some(method) = method {
        out.push(("mcp.method.name", Value::Str(method)));
    }
    if let Some(tool) = row.tool.as_deref() {
        match method {
            Some("tools/call") => {
                out.push(("gen_ai.tool.name", Value::Str(tool)));
                if row.kind == "request" {
                    out.push(("gen_ai.operation.name", Value::Str("execute_tool")));
                }
            }
            Some("prompts/get") => out.push(("gen_ai.prompt.name", Value::Str(tool))),
            Some("resources/read") => out.push(("mcp.resource.uri", Value::Str(tool))),
            _ => {}
        }
    }
    if let Some(id) = row.rpc_id.as_deref().and_then(request_id) {
        out.push(("jsonrpc.request.id", Value::Str(id)));
    }
    if row.is_error == Some(true) {
        out.push(("error.type", Value::Str("tool_error")));
    }
    out.push(("network.transport", Value::Str("pipe")));

    macro_rules! put {
        ($name:literal, $value:expr, str) => {
            if let Some(v) = $value.as_deref() {
                out.push(($name, Value::Str(v)));
            }
        };
        ($name:literal, $value:expr, int) => {
            if let Some(v) = $value {
                out.push(($name, Value::Int(v)));
            }
        };
    }
    out.push(("peta.seq", Value::Int(row.seq)));
    out.push(("peta.ts", Value::Str(&row.ts)));
    out.push(("peta.session", Value::Str(&row.session)));
    put!("peta.server", row.server, str);
    out.push(("peta.direction", Value::Str(&row.direction)));
    out.push(("peta.kind", Value::Str(&row.kind)));
    put!("peta.method", row.method, str);
    put!("peta.rpc_id", row.rpc_id, str);
    put!("peta.tool", row.tool, str);
    put!("peta.args", row.args, str);
    put!("peta.args_sha256", row.args_sha256, str);
    put!("peta.bytes_sha256", row.bytes_sha256, str);
    put!("peta.decision", row.decision, str);
    put!("peta.rule", row.rule, str);
    put!("peta.channel", row.channel, str);
    put!("peta.grant_scope", row.grant_scope, str);
    put!("peta.latency_us", row.latency_us, int);
    put!("peta.size", row.size, int);
    if let Some(v) = row.is_error {
        out.push(("peta.is_error", Value::Bool(v)));
    }
    put!("peta.error", row.error, str);
    put!("peta.detail", row.detail, str);
    out.push(("peta.prev_hash", Value::Str(&row.prev_hash)));
    out.push(("peta.hash", Value::Str(&row.hash)));
    out
}

/// The JSON-RPC id as the conventions want it: a string id without its quotes, a number as
/// written; `null` is not recorded.
fn request_id(raw: &str) -> Option<&str> {
    if raw == "null" {
        return None;
    }
    match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        // Only an id without escapes can be borrowed; others keep their JSON form.
        Some(inner) if !inner.contains('\\') => Some(inner),
        _ => Some(raw),
    }
}

/// Whether the row records something refused or failed: forwarded with a higher severity.
pub(crate) fn is_warning(row: &Row) -> bool {
    matches!(
        row.decision.as_deref(),
        Some("deny" | "refused" | "dropped")
    ) || row.error.is_some()
        || row.is_error == Some(true)
}

/// A one-line summary for people reading the collector: `tools/call echo allow`.
pub(crate) fn summary(row: &Row) -> String {
    let mut parts = vec![row.kind.as_str()];
    parts.extend(row.method.as_deref());
    parts.extend(row.tool.as_deref());
    parts.extend(row.decision.as_deref());
    parts.join(" ")
}

/// The row as one line of ASCII JSON (non-ASCII and control characters as `\u` escapes):
/// the fields of the `event` record of `peta audit export`, without `record`. Any syslog
/// pipeline passes it unchanged, and a JSON parser gives back the exact stored strings.
pub(crate) fn ascii_json(row: &Row) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, AsciiFormatter);
    row.serialize(&mut ser).expect("rows serialize");
    out
}

struct AsciiFormatter;

impl serde_json::ser::Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if c.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Where the rows come from: the resource of every OTLP record, the HOSTNAME of every
/// syslog message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resource {
    pub(crate) host: String,
    pub(crate) user: Option<String>,
    /// The database the chain lives in: two logs on one host are two chains.
    pub(crate) audit_path: String,
}

impl Resource {
    pub(crate) fn here(audit_path: &std::path::Path) -> Resource {
        Resource {
            host: host_name(),
            user: ["USER", "LOGNAME", "USERNAME"]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
                .or_else(user_of_process),
            audit_path: audit_path.display().to_string(),
        }
    }
}

#[cfg(unix)]
fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length, which is what is passed.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The login name of the process's user, from the user database.
#[cfg(unix)]
fn user_of_process() -> Option<String> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: passwd is plain data; getpwuid_r writes into it and into buf, whose length is
    // what is passed, and sets found to null or to &passwd.
    unsafe {
        let mut passwd: libc::passwd = std::mem::zeroed();
        let mut found = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::getuid(),
            &mut passwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        );
        if rc != 0 || found.is_null() || passwd.pw_name.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(passwd.pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

#[cfg(not(unix))]
fn user_of_process() -> Option<String> {
    None
}

#[cfg(not(unix))]
fn host_name() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::row::{Event, GENESIS};

    fn row() -> Row {
        let event = Event {
            ts: "2026-11-26T00:00:00.000000Z".into(),
            direction: "c2s",
            kind: "request",
            method: Some("tools/call".into()),
            rpc_id: Some("\"r-1\"".into()),
            tool: Some("écho".into()),
            args: Some("{\"t\":\"naïve 😀\"}".into()),
            decision: Some("allow"),
            is_error: Some(false),
            ..Event::default()
        };
        Row::chain(3, "s1", Some("gh"), event, &GENESIS).0
    }

    #[test]
    fn every_chained_field_and_the_conventions() {
        let row = row();
        let attrs = attributes(&row);
        let get = |k: &str| attrs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        assert_eq!(get("mcp.method.name"), Some(Value::Str("tools/call")));
        assert_eq!(get("gen_ai.tool.name"), Some(Value::Str("écho")));
        assert_eq!(
            get("gen_ai.operation.name"),
            Some(Value::Str("execute_tool"))
        );
        assert_eq!(get("jsonrpc.request.id"), Some(Value::Str("r-1")));
        assert_eq!(get("peta.seq"), Some(Value::Int(3)));
        assert_eq!(get("peta.is_error"), Some(Value::Bool(false)));
        assert_eq!(get("peta.rule"), None, "null fields are absent");
        for field in crate::audit::row::FIELDS {
            let name = format!("peta.{field}");
            let null = serde_json::to_value(&row).expect("json")[field].is_null();
            assert_eq!(get(&name).is_none(), null, "{name}");
        }
        assert_eq!(request_id("7"), Some("7"));
        assert_eq!(request_id("null"), None);
    }

    #[test]
    fn the_syslog_json_is_ascii_and_parses_back_to_the_row() {
        let row = row();
        let json = ascii_json(&row);
        assert!(json.is_ascii(), "{}", String::from_utf8_lossy(&json));
        let back: serde_json::Value = serde_json::from_slice(&json).expect("json");
        assert_eq!(back, serde_json::to_value(&row).expect("json"));
        assert_eq!(summary(&row), "request tools/call écho allow");
    }
}
