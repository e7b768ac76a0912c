//! `audit.retain`: removing old rows without breaking the chain's evidence.
//!
//! The oldest rows up to seq N go in one transaction that also appends a `prune` row
//! recording N and row N's hash. Verification then accepts a chain that starts at N+1 only
//! because that row's `prev_hash` equals the recorded hash, so rows removed any other way
//! still show. The newest row is never pruned: the chain always has a head to extend.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::json;

use super::row::{Event, Row};

/// Prunes rows written before `cutoff` (an RFC 3339 time), but none from `keep_from` on
/// (the rows not yet forwarded, see `forward`); returns how many went.
pub(crate) fn prune(
    conn: &mut Connection,
    cutoff: &str,
    keep_from: Option<i64>,
    session: &str,
    server: Option<&str>,
) -> rusqlite::Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let through: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM events WHERE ts < ?1 AND seq < ?2 AND seq < (SELECT MAX(seq) FROM events) ORDER BY seq DESC LIMIT 1",
            params![cutoff, keep_from.unwrap_or(i64::MAX)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((through_seq, through_hash)) = through else {
        return Ok(0);
    };
    let removed = tx.execute("DELETE FROM events WHERE seq <= ?1", [through_seq])? as u64;
    let (seq, prev) = super::log::head(&tx)?;
    let event = Event {
        ts: super::time::now(),
        direction: "peta",
        kind: "prune",
        detail: Some(json!({"through_seq": through_seq, "through_hash": through_hash, "rows": removed, "cutoff": cutoff}).to_string()),
        ..Event::default()
    };
    let (r, _) = Row::chain(seq + 1, session, server, event, &prev);
    tx.execute(
        "INSERT INTO events (seq, ts, session, server, direction, kind, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![r.seq, r.ts, r.session, r.server, r.direction, r.kind, r.detail, r.prev_hash, r.hash],
    )?;
    tx.commit()?;
    Ok(removed)
}
