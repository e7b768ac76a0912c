//! What the relay tells the audit log about each line: one [`Event`] per message, built from
//! the parsed envelope. Arguments are kept (up to a cap) with the hash of all of them; the
//! bytes of a forwarded gated request are hashed so the row is bound to exactly what the
//! server received.

use crate::audit::Event;
use crate::audit::row::sha256_hex;
use crate::audit::time;
use crate::wire::envelope::{Kind, Message};

/// Longest arguments text kept in a row; the hash always covers all of it.
const ARGS_KEPT: usize = 64 * 1024;

pub(crate) const CLIENT: &str = "c2s";
pub(crate) const SERVER: &str = "s2c";

/// A line that was refused (from the client) or dropped (from the server).
pub(crate) fn refused(
    direction: &'static str,
    len: usize,
    raw_id: Option<&str>,
    method: Option<&str>,
    why: &str,
) -> Event {
    Event {
        ts: time::now(),
        direction,
        kind: "invalid",
        method: method.map(str::to_owned),
        rpc_id: raw_id.map(str::to_owned),
        decision: Some(if direction == CLIENT {
            "refused"
        } else {
            "dropped"
        }),
        size: Some(len as i64),
        error: Some(why.to_owned()),
        ..Event::default()
    }
}

/// A valid message passing through.
pub(crate) fn message(direction: &'static str, msg: &Message, line: &[u8]) -> Event {
    let kind = match msg.kind {
        Kind::Request { .. } => "request",
        Kind::Notification { .. } => "notification",
        Kind::Response { .. } => "response",
    };
    let mut event = Event {
        ts: time::now(),
        direction,
        kind,
        method: msg.method().map(str::to_owned),
        rpc_id: msg.raw_id.map(|r| r.get().to_owned()),
        decision: Some("pass"),
        size: Some(line.len() as i64),
        ..Event::default()
    };
    if let Kind::Response { failed, .. } = msg.kind {
        event.is_error = Some(failed);
    }
    if let Some(call) = &msg.tool {
        event.tool = Some(call.name.to_string());
        if let Some(args) = call.arguments {
            let text = args.get();
            event.args_sha256 = Some(sha256_hex(text.as_bytes()));
            event.args = Some(truncate(text, ARGS_KEPT));
        }
    }
    event
}

/// Cuts `text` to at most `max` bytes on a character boundary, saying how much was cut.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[{} more bytes]", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_a_character_boundary() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("héllo", 2), "h…[5 more bytes]");
    }
}
