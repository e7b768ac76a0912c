//! One audit row, its canonical bytes, and its place in the hash chain.
//!
//! `hash = SHA-256(prev_hash ‖ canonical)`, where `prev_hash` is the previous row's hash as
//! 32 raw bytes (32 zero bytes before the first row) and `canonical` is the row's fields
//! other than the two hashes as a compact JSON array in the fixed order of [`FIELDS`]
//! (serde_json's compact form: no spaces, non-ASCII as UTF-8, `\n`-style short escapes and
//! `\u00XX` for other control characters — what Python's
//! `json.dumps(fields, separators=(",", ":"), ensure_ascii=False)` also produces). `seq` is
//! inside, so reordering breaks the chain as surely as editing does.

use rusqlite::Row as SqlRow;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The chained fields, in canonical order (the columns of `events` but the hashes).
pub(crate) const FIELDS: &[&str] = &[
    "seq",
    "ts",
    "session",
    "server",
    "direction",
    "kind",
    "method",
    "rpc_id",
    "tool",
    "args",
    "args_sha256",
    "bytes_sha256",
    "decision",
    "rule",
    "channel",
    "grant_scope",
    "latency_us",
    "size",
    "is_error",
    "error",
    "detail",
];

/// The hash before the first row.
pub(crate) const GENESIS: [u8; 32] = [0; 32];

/// What happened, before it has a place in the chain.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Event {
    pub(crate) ts: String,
    pub(crate) direction: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) method: Option<String>,
    pub(crate) rpc_id: Option<String>,
    pub(crate) tool: Option<String>,
    pub(crate) args: Option<String>,
    pub(crate) args_sha256: Option<String>,
    pub(crate) bytes_sha256: Option<String>,
    pub(crate) decision: Option<&'static str>,
    pub(crate) rule: Option<String>,
    pub(crate) channel: Option<String>,
    pub(crate) grant_scope: Option<String>,
    pub(crate) latency_us: Option<i64>,
    pub(crate) size: Option<i64>,
    pub(crate) is_error: Option<bool>,
    pub(crate) error: Option<String>,
    pub(crate) detail: Option<String>,
}

/// A stored row: the event, where and by whom it was written, and its chain links.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Row {
    pub(crate) seq: i64,
    pub(crate) ts: String,
    pub(crate) session: String,
    pub(crate) server: Option<String>,
    pub(crate) direction: String,
    pub(crate) kind: String,
    pub(crate) method: Option<String>,
    pub(crate) rpc_id: Option<String>,
    pub(crate) tool: Option<String>,
    pub(crate) args: Option<String>,
    pub(crate) args_sha256: Option<String>,
    pub(crate) bytes_sha256: Option<String>,
    pub(crate) decision: Option<String>,
    pub(crate) rule: Option<String>,
    pub(crate) channel: Option<String>,
    pub(crate) grant_scope: Option<String>,
    pub(crate) latency_us: Option<i64>,
    pub(crate) size: Option<i64>,
    pub(crate) is_error: Option<bool>,
    pub(crate) error: Option<String>,
    pub(crate) detail: Option<String>,
    pub(crate) prev_hash: String,
    pub(crate) hash: String,
}

/// The SELECT list matching [`Row::from_sql`].
pub(crate) const COLUMNS: &str = "seq, ts, session, server, direction, kind, method, rpc_id, tool, args, args_sha256, bytes_sha256, decision, rule, channel, grant_scope, latency_us, size, is_error, error, detail, prev_hash, hash";

impl Row {
    /// Places `event` after `prev` (the previous row's hash) as row `seq`.
    pub(crate) fn chain(
        seq: i64,
        session: &str,
        server: Option<&str>,
        event: Event,
        prev: &[u8; 32],
    ) -> (Row, [u8; 32]) {
        let mut row = Row {
            seq,
            ts: event.ts,
            session: session.to_owned(),
            server: server.map(str::to_owned),
            direction: event.direction.to_owned(),
            kind: event.kind.to_owned(),
            method: event.method,
            rpc_id: event.rpc_id,
            tool: event.tool,
            args: event.args,
            args_sha256: event.args_sha256,
            bytes_sha256: event.bytes_sha256,
            decision: event.decision.map(str::to_owned),
            rule: event.rule,
            channel: event.channel,
            grant_scope: event.grant_scope,
            latency_us: event.latency_us,
            size: event.size,
            is_error: event.is_error,
            error: event.error,
            detail: event.detail,
            prev_hash: hex(prev),
            hash: String::new(),
        };
        let hash = row.compute_hash(prev);
        row.hash = hex(&hash);
        (row, hash)
    }

    /// The canonical bytes (see the module docs).
    pub(crate) fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.push(b'[');
        macro_rules! put {
            ($($field:expr),*) => {{
                let mut first = true;
                $(
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    serde_json::to_writer(&mut out, &$field).expect("strings and numbers serialize");
                )*
                let _ = first;
            }};
        }
        put!(
            self.seq,
            self.ts,
            self.session,
            self.server,
            self.direction,
            self.kind,
            self.method,
            self.rpc_id,
            self.tool,
            self.args,
            self.args_sha256,
            self.bytes_sha256,
            self.decision,
            self.rule,
            self.channel,
            self.grant_scope,
            self.latency_us,
            self.size,
            self.is_error,
            self.error,
            self.detail
        );
        out.push(b']');
        out
    }

    pub(crate) fn compute_hash(&self, prev: &[u8; 32]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(prev);
        h.update(self.canonical());
        h.finalize().into()
    }

    pub(crate) fn from_sql(r: &SqlRow) -> rusqlite::Result<Row> {
        Ok(Row {
            seq: r.get(0)?,
            ts: r.get(1)?,
            session: r.get(2)?,
            server: r.get(3)?,
            direction: r.get(4)?,
            kind: r.get(5)?,
            method: r.get(6)?,
            rpc_id: r.get(7)?,
            tool: r.get(8)?,
            args: r.get(9)?,
            args_sha256: r.get(10)?,
            bytes_sha256: r.get(11)?,
            decision: r.get(12)?,
            rule: r.get(13)?,
            channel: r.get(14)?,
            grant_scope: r.get(15)?,
            latency_us: r.get(16)?,
            size: r.get(17)?,
            is_error: r.get(18)?,
            error: r.get(19)?,
            detail: r.get(20)?,
            prev_hash: r.get(21)?,
            hash: r.get(22)?,
        })
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Parses 64 hex digits.
pub(crate) fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// SHA-256 of `bytes`, hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        Event {
            ts: "2026-11-26T00:00:00.000000Z".into(),
            direction: "c2s",
            kind: "request",
            method: Some("tools/call".into()),
            args: Some("{\"p\":\"[x]\\\"]\"}".into()),
            is_error: Some(false),
            detail: Some("[1,[2]]".into()),
            ..Event::default()
        }
    }

    #[test]
    fn canonical_is_a_flat_array_of_every_field() {
        let (row, _) = Row::chain(7, "s1", Some("gh"), event(), &GENESIS);
        let v: serde_json::Value = serde_json::from_slice(&row.canonical()).expect("json");
        let a = v.as_array().expect("array");
        assert_eq!(a.len(), FIELDS.len());
        assert_eq!(a[0], 7);
        assert_eq!(
            a[FIELDS.iter().position(|f| *f == "is_error").expect("field")],
            false
        );
        assert_eq!(a[FIELDS.len() - 1], "[1,[2]]");
    }

    #[test]
    fn any_change_changes_the_hash() {
        let (row, hash) = Row::chain(1, "s", None, event(), &GENESIS);
        assert_eq!(row.hash, hex(&hash));
        let mut other = row.clone();
        other.tool = Some("x".into());
        assert_ne!(other.compute_hash(&GENESIS), hash);
        let mut other = row.clone();
        other.seq = 2;
        assert_ne!(other.compute_hash(&GENESIS), hash);
        assert_ne!(row.compute_hash(&[1; 32]), hash);
        assert_eq!(unhex(&row.hash), Some(hash));
    }
}
