//! The strict envelope parse of one line.
//!
//! Checks, besides "no panic": every line peta accepts is JSON to serde_json too; an accepted
//! message reserialised by serde_json parses to the same message; and the replies peta makes
//! (an error, a tool denial) are themselves valid messages addressed to the request's id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peta::fuzz::{Parsed, error_reply, parse, raw_request_id, tool_error_reply};

fuzz_target!(|line: &[u8]| {
    let parsed = parse(line);
    match &parsed {
        Parsed::Refused { raw_id, answer, .. } => {
            if *answer {
                let reply = error_reply(raw_id.as_deref(), "refused");
                let Parsed::Response { failed: true, .. } = parse(&reply) else {
                    panic!("error reply is not an error response: {reply:?}");
                };
            }
            return;
        }
        Parsed::Request { id, .. } => {
            let raw = raw_request_id(line).expect("an accepted request has an id");
            for modern in [false, true] {
                let reply = tool_error_reply(&raw, "denied \u{2028} \"x\"\n", modern);
                assert_eq!(
                    parse(&reply),
                    Parsed::Response {
                        id: Some(id.clone()),
                        failed: false
                    },
                    "denial is not addressed to the request"
                );
            }
            let reply = error_reply(Some(&raw), "refused");
            assert_eq!(
                parse(&reply),
                Parsed::Response {
                    id: Some(id.clone()),
                    failed: true
                },
                "error reply is not addressed to the request"
            );
        }
        _ => {}
    }
    let content = line.strip_suffix(b"\n").unwrap_or(line);
    let content = content.strip_suffix(b"\r").unwrap_or(content);
    let value: serde_json::Value = serde_json::from_slice(content)
        .unwrap_or_else(|e| panic!("peta accepted what serde_json refuses: {e}"));
    let again = parse(&serde_json::to_vec(&value).expect("a Value serialises"));
    if exact_ids(&value) {
        let (a, a_args) = same(&parsed);
        let (b, b_args) = same(&again);
        assert_eq!(a, b, "reserialising changed the message");
        match (&a_args, &b_args) {
            (Some(x), Some(y)) => assert!(
                close(x, y),
                "reserialising changed the arguments: {x} / {y}"
            ),
            _ => assert_eq!(a_args, b_args),
        }
    }
});

/// Integer ids beyond 64 bits (and `-0`) become floats in a serde_json value and change their
/// text when reserialised; peta forwards the original text, so they are left out.
fn exact_ids(value: &serde_json::Value) -> bool {
    let ids = [value.get("id"), value.pointer("/params/requestId")];
    ids.into_iter().flatten().all(|id| match id {
        serde_json::Value::Number(n) => n.is_i64() || n.is_u64(),
        _ => true,
    })
}

/// A message with the arguments compared as JSON values rather than text.
fn same(p: &Parsed) -> (Parsed, Option<serde_json::Value>) {
    match p {
        Parsed::Request {
            id,
            method,
            tool: Some((name, args)),
        } => (
            Parsed::Request {
                id: id.clone(),
                method: method.clone(),
                tool: Some((name.clone(), None)),
            },
            args.as_deref()
                .map(|a| serde_json::from_str(a).expect("arguments are JSON")),
        ),
        other => (other.clone(), None),
    }
}

/// Equal JSON values, floats within a rounding step: serde_json's default float parsing is
/// not correctly rounded, so `1.2233e27` can come back one step away after a round trip.
fn close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| close(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}
