//! The JSON-RPC envelope: a strict, borrowing parse that keeps the original bytes.
//!
//! Only the fields peta acts on are read (`jsonrpc`, `id`, `method`, `params.name`,
//! `params.arguments`, `result`, `error`); everything else stays untouched in the raw line,
//! which is what gets forwarded. Method names are compared after JSON escapes are decoded,
//! so `"tools\u002fcall"` is a `tools/call`.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::framing;
use super::strict;

/// JSON-RPC error codes peta answers with (JSON-RPC 2.0 §5.1).
pub(crate) const PARSE_ERROR: i64 = -32700;
pub(crate) const INVALID_REQUEST: i64 = -32600;

/// Methods whose requests peta may hold or deny. A method that only looks like one of these
/// (other case, doubled slash, stray space or control character) is refused, so a lenient
/// server cannot run a call the gate never saw.
pub(crate) const GATED_METHODS: &[&str] = &[
    "tools/call",
    "resources/read",
    "prompts/get",
    "sampling/createMessage",
    "elicitation/create",
    "initialize",
];

/// A request id: a string or an integer (MCP: "MUST be a string or integer", never null).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Id {
    /// An integer, as its JSON text.
    Num(Box<str>),
    /// A string, decoded (peers may re-escape, so the raw text is not a stable key).
    Str(Box<str>),
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Id::Num(n) => f.write_str(n),
            Id::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// What a line is, once it passed the envelope checks.
#[derive(Debug)]
pub(crate) enum Kind<'a> {
    Request {
        id: Id,
        method: Cow<'a, str>,
    },
    Notification {
        method: Cow<'a, str>,
    },
    /// `id` is `None` only for an error response to a message whose id could not be read;
    /// `failed`: an error response rather than a result.
    Response {
        id: Option<Id>,
        failed: bool,
    },
}

/// A parsed message, borrowing from its line.
#[derive(Debug)]
pub(crate) struct Message<'a> {
    pub(crate) kind: Kind<'a>,
    /// The `id` exactly as sent, for echoing in a reply.
    pub(crate) raw_id: Option<&'a RawValue>,
    pub(crate) params: Option<&'a RawValue>,
    pub(crate) result: Option<&'a RawValue>,
    /// For `tools/call`: the tool and its arguments, already checked.
    pub(crate) tool: Option<ToolCall<'a>>,
}

impl Message<'_> {
    pub(crate) fn method(&self) -> Option<&str> {
        match &self.kind {
            Kind::Request { method, .. } | Kind::Notification { method } => Some(method),
            Kind::Response { .. } => None,
        }
    }
}

/// Why a line was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Invalid {
    #[error("not valid UTF-8")]
    Utf8,
    #[error("a JSON-RPC batch (arrays were removed from MCP in 2025-06-18)")]
    Batch,
    #[error("not JSON: {0}")]
    Syntax(String),
    #[error("ambiguous JSON: {0}")]
    Strict(String),
    #[error("not a JSON-RPC message: {0}")]
    Shape(String),
}

impl Invalid {
    /// The JSON-RPC error code for a reply to this line.
    pub(crate) fn code(&self) -> i64 {
        match self {
            Invalid::Utf8 | Invalid::Syntax(_) => PARSE_ERROR,
            Invalid::Batch | Invalid::Strict(_) | Invalid::Shape(_) => INVALID_REQUEST,
        }
    }
}

/// A refused line, with what is needed to answer it.
#[derive(Debug)]
pub(crate) struct Rejected<'a> {
    pub(crate) why: Invalid,
    /// The request's id as sent, when the line is a request and its id could be read
    /// unambiguously; the reply then goes to that request rather than to `null`.
    pub(crate) raw_id: Option<&'a RawValue>,
    /// False when the line was clearly a notification or a response, which get no reply.
    pub(crate) answer: bool,
}

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    params: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    error: Option<&'a RawValue>,
}

/// Deserializes a field that is present, keeping `null` as a value (a plain `Option` would
/// turn `"id": null` into "no id").
fn present<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(de).map(Some)
}

/// Parses one line (terminator included or not).
pub(crate) fn parse(line: &[u8]) -> Result<Message<'_>, Rejected<'_>> {
    let refuse = |why| Rejected {
        why,
        raw_id: None,
        answer: true,
    };
    let text = std::str::from_utf8(framing::content(line)).map_err(|_| refuse(Invalid::Utf8))?;
    if text
        .trim_start_matches([' ', '\t', '\r', '\n'])
        .starts_with('[')
    {
        return Err(refuse(Invalid::Batch));
    }
    if let Err(e) = strict::check(text) {
        let why = match e.classify() {
            serde_json::error::Category::Data => Invalid::Strict(e.to_string()),
            _ => Invalid::Syntax(e.to_string()),
        };
        return Err(Rejected {
            answer: true,
            raw_id: None,
            why,
        });
    }
    // The text is now known to be one well-formed JSON value without duplicate keys.
    let env: RawEnvelope = serde_json::from_str(text)
        .map_err(|e| refuse(Invalid::Shape(format!("expected an object ({e})"))))?;
    classify(&env).map_err(|why| Rejected {
        why: Invalid::Shape(why),
        // A reply goes to the request's id when it can be read; otherwise to `null`.
        raw_id: env.id.filter(|raw| matches!(read_id(raw), Ok(Some(_)))),
        // A response is never answered: that would start a reply loop between peers.
        answer: env.method.is_some() || (env.result.is_none() && env.error.is_none()),
    })
}

fn classify<'a>(env: &RawEnvelope<'a>) -> Result<Message<'a>, String> {
    match env.jsonrpc.map(string) {
        Some(Ok(v)) if v == "2.0" => {}
        _ => return Err(r#""jsonrpc" must be "2.0""#.into()),
    }
    if let Some(params) = env.params
        && !params.get().starts_with('{')
    {
        return Err(r#""params" must be an object"#.into());
    }
    let id = env.id.map(read_id).transpose()?;
    let kind = match (env.method, env.result, env.error) {
        (Some(method), None, None) => {
            let method = string(method).map_err(|_| r#""method" must be a string"#)?;
            if let Some(real) = strict::lookalike(&method, GATED_METHODS) {
                return Err(format!("method {method:?} looks like {real:?}"));
            }
            match id {
                Some(Some(id)) => Kind::Request { id, method },
                Some(None) => return Err(r#""id" must not be null"#.into()),
                None if GATED_METHODS.contains(&method.as_ref()) => {
                    return Err(format!("{method} must be a request with an id"));
                }
                None => Kind::Notification { method },
            }
        }
        (Some(_), _, _) => return Err(r#""method" with "result" or "error""#.into()),
        (None, Some(_), Some(_)) => return Err(r#""result" and "error" together"#.into()),
        (None, result, error) => {
            if let Some(error) = error {
                check_error(error)?;
            } else if result.is_none() {
                return Err(r#"no "method", "result" or "error""#.into());
            }
            match id {
                Some(Some(id)) => Kind::Response {
                    id: Some(id),
                    failed: error.is_some(),
                },
                Some(None) if error.is_some() => Kind::Response {
                    id: None,
                    failed: true,
                },
                _ => return Err(r#"a response needs an "id""#.into()),
            }
        }
    };
    let tool = match &kind {
        Kind::Request { method, .. } if method == "tools/call" => Some(ToolCall::read(env.params)?),
        _ => None,
    };
    Ok(Message {
        kind,
        raw_id: env.id,
        params: env.params,
        result: env.result,
        tool,
    })
}

/// Reads an id: `Ok(None)` for `null`.
pub(crate) fn read_id(raw: &RawValue) -> Result<Option<Id>, String> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => Ok(Some(Id::Str(string(raw)?.into()))),
        Some(b'-' | b'0'..=b'9') if !text.contains(['.', 'e', 'E']) => {
            Ok(Some(Id::Num(text.into())))
        }
        _ if text == "null" => Ok(None),
        _ => Err(r#""id" must be a string or an integer"#.into()),
    }
}

fn string(raw: &RawValue) -> Result<Cow<'_, str>, String> {
    #[derive(Deserialize)]
    struct S<'a>(#[serde(borrow)] Cow<'a, str>);
    serde_json::from_str::<S>(raw.get())
        .map(|s| s.0)
        .map_err(|_| "expected a string".into())
}

fn check_error(raw: &RawValue) -> Result<(), String> {
    #[derive(Deserialize)]
    struct ErrorObject<'a> {
        #[expect(dead_code, reason = "read only to check its type")]
        code: i64,
        #[serde(borrow)]
        #[expect(dead_code, reason = "read only to check its type")]
        message: Cow<'a, str>,
    }
    serde_json::from_str::<ErrorObject>(raw.get())
        .map(drop)
        .map_err(|e| format!(r#""error" must have an integer "code" and a string "message" ({e})"#))
}

/// The request a `notifications/cancelled` names (`params.requestId`), if readable.
pub(crate) fn cancelled_request(params: Option<&RawValue>) -> Option<Id> {
    #[derive(Deserialize)]
    struct Params<'a> {
        #[serde(rename = "requestId", borrow)]
        request_id: &'a RawValue,
    }
    let p: Params = serde_json::from_str(params?.get()).ok()?;
    read_id(p.request_id).ok().flatten()
}

/// A JSON-RPC error response peta makes itself, newline-terminated. `raw_id` is the
/// request's id exactly as its sender wrote it, or `None` for `null`.
pub(crate) fn error_reply(raw_id: Option<&str>, code: i64, message: &str) -> Vec<u8> {
    let message = serde_json::Value::String(format!("peta: {message}"));
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{},\"error\":{{\"code\":{code},\"message\":{message}}}}}\n",
        raw_id.unwrap_or("null")
    )
    .into_bytes()
}

/// A `tools/call` result peta makes itself: a normal result with `isError: true`, so the
/// model reads why the call did not run (spec: tool execution errors are results).
pub(crate) fn tool_error_reply(raw_id: &str, text: &str, modern: bool) -> Vec<u8> {
    let mut result = serde_json::json!({
        "content": [{"type": "text", "text": text}],
        "isError": true,
    });
    if modern {
        result["resultType"] = "complete".into();
    }
    format!("{{\"jsonrpc\":\"2.0\",\"id\":{raw_id},\"result\":{result}}}\n").into_bytes()
}

/// Whether a `tools/call` result reports a tool error (`"isError": true`).
pub(crate) fn result_is_error(result: &RawValue) -> bool {
    #[derive(Deserialize)]
    struct R {
        #[serde(rename = "isError", default)]
        is_error: Option<bool>,
    }
    serde_json::from_str::<R>(result.get())
        .ok()
        .and_then(|r| r.is_error)
        .unwrap_or(false)
}

/// The parts of `tools/call` params that decide what the call does.
#[derive(Debug)]
pub(crate) struct ToolCall<'a> {
    pub(crate) name: Cow<'a, str>,
    pub(crate) arguments: Option<&'a RawValue>,
    /// Whether the request speaks 2026-07-28 or later (its `_meta` carries the version):
    /// a reply peta makes must then carry `resultType`.
    pub(crate) modern: bool,
}

impl<'a> ToolCall<'a> {
    pub(crate) fn read(params: Option<&'a RawValue>) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Params<'a> {
            #[serde(borrow)]
            name: Option<&'a RawValue>,
            #[serde(default, borrow, deserialize_with = "present")]
            arguments: Option<&'a RawValue>,
            #[serde(rename = "_meta", default, borrow)]
            meta: Option<Meta<'a>>,
        }
        #[derive(Deserialize)]
        struct Meta<'a> {
            #[serde(rename = "io.modelcontextprotocol/protocolVersion", default, borrow)]
            version: Option<Cow<'a, str>>,
        }
        let params = params.ok_or("tools/call needs params")?;
        let p: Params = serde_json::from_str(params.get()).map_err(|e| e.to_string())?;
        let name = p
            .name
            .ok_or(r#"tools/call needs "params.name""#)
            .and_then(|n| string(n).map_err(|_| r#""params.name" must be a string"#))?;
        if name.is_empty() || name.chars().any(|c| c.is_control() || strict::is_format(c)) {
            return Err(format!(
                "tool name {name:?} is empty or holds control or invisible characters"
            ));
        }
        if let Some(args) = p.arguments
            && !args.get().starts_with('{')
        {
            return Err(r#""params.arguments" must be an object"#.into());
        }
        let modern = p
            .meta
            .and_then(|m| m.version)
            .is_some_and(|v| v.as_ref() >= "2026-07-28");
        Ok(ToolCall {
            name,
            arguments: p.arguments,
            modern,
        })
    }
}

#[cfg(test)]
mod tests;
