//! What the relay does with a `tools/list` result once the pins have judged it: tools whose
//! definition changed since it was pinned (or a list that is blocked) are taken out of the
//! result the client sees; everything else in the message is kept as sent.

use std::collections::{BTreeMap, HashSet};

use serde_json::value::RawValue;

/// The tools of a `tools/list` result message.
pub(crate) fn tools(line: &[u8]) -> Vec<serde_json::Value> {
    #[derive(serde::Deserialize)]
    struct Message {
        result: Option<ListResult>,
    }
    #[derive(serde::Deserialize)]
    struct ListResult {
        #[serde(default)]
        tools: Vec<serde_json::Value>,
    }
    serde_json::from_slice::<Message>(line)
        .ok()
        .and_then(|m| m.result)
        .map(|r| r.tools)
        .unwrap_or_default()
}

/// Whether a `tools/list` result says more pages follow.
pub(crate) fn has_next_page(line: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .is_some_and(|m| {
            m.pointer("/result/nextCursor")
                .is_some_and(|c| !c.is_null())
        })
}

/// The message with the tools named in `hidden` removed from `result.tools`; members of the
/// message and of `result` may be reordered, every value is kept as sent. `None` when the
/// line is not a list result (then it passes unchanged).
#[cfg(test)]
pub(crate) fn without(line: &[u8], hidden: &HashSet<String>) -> Option<Vec<u8>> {
    without_more(line, hidden, false)
}

/// As [`without`], and with `last` also without `result.nextCursor`, ending the listing.
pub(crate) fn without_more(line: &[u8], hidden: &HashSet<String>, last: bool) -> Option<Vec<u8>> {
    edit_result(line, |result| {
        let tools: Vec<Box<RawValue>> = serde_json::from_str(result.get("tools")?.get()).ok()?;
        #[derive(serde::Deserialize)]
        struct Named {
            name: Option<String>,
        }
        let kept: Vec<Box<RawValue>> = tools
            .into_iter()
            .filter(|t| {
                serde_json::from_str::<Named>(t.get())
                    .ok()
                    .and_then(|n| n.name)
                    .is_none_or(|name| !hidden.contains(&name))
            })
            .collect();
        result.insert(
            "tools".into(),
            RawValue::from_string(serde_json::to_string(&kept).ok()?).ok()?,
        );
        if last {
            result.remove("nextCursor");
        }
        Some(())
    })
}

/// Rewrites the `result` of a message with `edit`; members of the message and of `result`
/// may be reordered, every value is kept as sent. `None` when there is no result object or
/// `edit` says so.
fn edit_result(
    line: &[u8],
    edit: impl FnOnce(&mut BTreeMap<String, Box<RawValue>>) -> Option<()>,
) -> Option<Vec<u8>> {
    let mut message: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(line).ok()?;
    let mut result: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(message.get("result")?.get()).ok()?;
    edit(&mut result)?;
    message.insert(
        "result".into(),
        RawValue::from_string(serde_json::to_string(&result).ok()?).ok()?,
    );
    let mut out = serde_json::to_vec(&message).ok()?;
    out.push(b'\n');
    Some(out)
}

/// The `instructions` of an `initialize` result message, if it has a result.
pub(crate) fn instructions(line: &[u8]) -> Option<Option<String>> {
    let message: serde_json::Value = serde_json::from_slice(line).ok()?;
    let result = message.get("result")?;
    Some(
        result
            .get("instructions")
            .and_then(|i| i.as_str())
            .map(str::to_owned),
    )
}

/// The message without `result.instructions`, every other value kept as sent.
pub(crate) fn without_instructions(line: &[u8]) -> Option<Vec<u8>> {
    edit_result(line, |result| result.remove("instructions").map(drop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_tools_leave_the_list_and_nothing_else_changes() {
        let line = br#"{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"echo","description":"d","inputSchema":{"n":9007199254740993}},{"name":"rug","description":"x"}],"nextCursor":"c2"}}"#;
        assert_eq!(tools(line).len(), 2);
        let hidden = HashSet::from(["rug".to_owned()]);
        let out = String::from_utf8(without(line, &hidden).expect("a list")).expect("utf-8");
        assert!(!out.contains("rug"), "{out}");
        assert!(
            out.contains(
                r#"{"name":"echo","description":"d","inputSchema":{"n":9007199254740993}}"#
            ),
            "{out}"
        );
        assert!(out.contains(r#""nextCursor":"c2""#) && out.contains(r#""id":3"#));
        assert!(without(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#, &hidden).is_none());
        assert!(has_next_page(line));
        let ended = String::from_utf8(without_more(line, &HashSet::new(), true).expect("list"))
            .expect("utf-8");
        assert!(
            !ended.contains("nextCursor") && ended.contains("rug"),
            "{ended}"
        );
        assert!(!has_next_page(ended.as_bytes()));
    }

    #[test]
    fn instructions_can_be_read_and_withheld() {
        let line = br#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","instructions":"be nice","serverInfo":{"name":"s"}}}"#;
        assert_eq!(instructions(line), Some(Some("be nice".into())));
        let out = String::from_utf8(without_instructions(line).expect("rewritten")).expect("utf-8");
        assert!(
            !out.contains("be nice") && out.contains(r#""serverInfo":{"name":"s"}"#),
            "{out}"
        );
    }
}
