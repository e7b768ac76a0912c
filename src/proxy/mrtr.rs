//! Approval through the client's UI in the 2026-07-28 era, where servers (and peta) no longer
//! send requests to the client: peta answers an asked-about `tools/call` itself with
//! `resultType: "input_required"`, carrying one elicitation (`inputRequests["peta-approval"]`)
//! and a `requestState` of its own (`"peta:<token>"`). The client shows the question and
//! retries the call under a new id with `inputResponses` and that `requestState`; peta reads
//! the answer, removes its two fields, and forwards the retry — or denies it.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::approval::Answer;
use crate::approval::elicit;
use crate::audit::row::sha256_hex;

/// The key of peta's question in `inputRequests` / `inputResponses`.
pub(crate) const INPUT_KEY: &str = "peta-approval";

/// The prefix of peta's own `requestState`.
const STATE_PREFIX: &str = "peta:";

#[derive(serde::Deserialize, Default)]
struct Params<'a> {
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(rename = "requestState", default)]
    request_state: Option<String>,
    #[serde(rename = "inputResponses", borrow, default)]
    input_responses: Option<&'a RawValue>,
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<&'a RawValue>,
}

fn params(params: Option<&RawValue>) -> Params<'_> {
    params
        .and_then(|p| serde_json::from_str(p.get()).ok())
        .unwrap_or_default()
}

/// Which multi-round-trip a request continues, by its `requestState`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Round {
    /// None: a fresh request.
    Fresh,
    /// One of peta's own questions; the token after `peta:`.
    Peta(String),
    /// The server's own round (an opaque state that is not peta's).
    Server,
}

/// The round `params` continue (one read of the params).
pub(crate) fn round(p: Option<&RawValue>) -> Round {
    match params(p).request_state {
        None => Round::Fresh,
        Some(state) => match state.strip_prefix(STATE_PREFIX) {
            Some(token) => Round::Peta(token.to_owned()),
            None => Round::Server,
        },
    }
}

/// Whether the request's `_meta` declares the client can answer elicitations.
pub(crate) fn client_can_elicit(p: Option<&RawValue>) -> bool {
    params(p)
        .meta
        .and_then(|m| serde_json::from_str::<Value>(m.get()).ok())
        .is_some_and(|m| {
            m.pointer("/io.modelcontextprotocol~1clientCapabilities/elicitation")
                .is_some_and(Value::is_object)
        })
}

/// What the call does, independent of its id and of round-trip fields: the tool's name and
/// arguments as sent.
pub(crate) fn call_digest(p: Option<&RawValue>) -> String {
    let p = params(p);
    let part = |r: Option<&RawValue>| r.map_or("null", RawValue::get).to_owned();
    sha256_hex(format!("{}\n{}", part(p.name), part(p.arguments)).as_bytes())
}

/// The person's answer in the retry's `inputResponses`; `None` when dismissed or absent.
pub(crate) fn answer(p: Option<&RawValue>) -> Option<Answer> {
    let responses: Value = serde_json::from_str(params(p).input_responses?.get()).ok()?;
    let response = responses.get(INPUT_KEY)?;
    elicit::answer_from(&json!({ "result": response }))
}

/// The retry as the server must see it: peta's `requestState` and `inputResponses` removed,
/// every other member kept exactly as sent (members of the message and of `params` may be
/// reordered; their values are untouched).
pub(crate) fn strip(line: &[u8]) -> Option<Vec<u8>> {
    let mut message: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(line).ok()?;
    let mut params: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(message.get("params")?.get()).ok()?;
    params.remove("requestState");
    params.remove("inputResponses");
    let params = serde_json::to_string(&params).ok()?;
    message.insert("params".into(), RawValue::from_string(params).ok()?);
    let mut out = serde_json::to_vec(&message).ok()?;
    out.push(b'\n');
    Some(out)
}

/// peta's answer to an asked-about call: the question, to be retried with the answer.
pub(crate) fn input_required_reply(raw_id: &str, question: &Value, token: &str) -> Vec<u8> {
    let result = json!({
        "resultType": "input_required",
        "inputRequests": { INPUT_KEY: question },
        "requestState": format!("{STATE_PREFIX}{token}"),
    });
    format!("{{\"jsonrpc\":\"2.0\",\"id\":{raw_id},\"result\":{result}}}\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(v: Value) -> Box<RawValue> {
        RawValue::from_string(v.to_string()).expect("raw")
    }

    #[test]
    fn tokens_capabilities_digests_and_answers() {
        let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}});
        let first = raw(json!({"name": "echo", "arguments": {"text": "x"}, "_meta": meta}));
        assert!(client_can_elicit(Some(&first)));
        assert_eq!(round(Some(&first)), Round::Fresh);
        let retry = raw(
            json!({"name": "echo", "arguments": {"text": "x"}, "_meta": meta,
            "requestState": "peta:abc",
            "inputResponses": {"peta-approval": {"action": "accept", "content": {"decision": "allow once"}}}}),
        );
        assert_eq!(round(Some(&retry)), Round::Peta("abc".into()));
        assert_eq!(call_digest(Some(&first)), call_digest(Some(&retry)));
        assert_eq!(answer(Some(&retry)), Some(Answer::Once));
        let server_round = raw(json!({"name": "echo", "requestState": "opaque"}));
        assert_eq!(round(Some(&server_round)), Round::Server);
        let other = raw(json!({"name": "echo", "arguments": {"text": "y"}}));
        assert_ne!(call_digest(Some(&first)), call_digest(Some(&other)));
    }

    #[test]
    fn strip_keeps_everything_but_petas_fields() {
        let line = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"n":9007199254740993,"f":1e-320},"requestState":"peta:abc","inputResponses":{"peta-approval":{}},"_meta":{"k":1}}}"#;
        let out = String::from_utf8(strip(line).expect("strip")).expect("utf-8");
        assert!(out.ends_with('\n'));
        assert!(!out.contains("requestState") && !out.contains("inputResponses"));
        assert!(
            out.contains(r#""arguments":{"n":9007199254740993,"f":1e-320}"#),
            "{out}"
        );
        assert!(out.contains(r#""id":7"#) && out.contains(r#""_meta":{"k":1}"#));
    }
}
