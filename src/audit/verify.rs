//! Checking the chain: every row's hash, every link, no gaps, a start that is either the
//! genesis or a recorded pruning, and every anchor (so deleting the newest rows shows).

use std::fmt;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::row::{COLUMNS, GENESIS, Row, hex, unhex};
use super::{AuditError, log};

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    pub(crate) rows: u64,
    /// The newest row's seq and hash.
    pub(crate) head: Option<(i64, String)>,
    pub(crate) anchors_checked: u64,
    /// The first problem, if any.
    pub(crate) problem: Option<Problem>,
}

impl Report {
    pub(crate) fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// The first thing wrong with the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The database itself is damaged.
    Damaged(String),
    /// A row's content does not match its hash: it was edited.
    Edited { seq: i64 },
    /// A row does not follow the one before it: rows were removed, inserted or reordered.
    Unlinked { seq: i64 },
    /// The sequence jumps.
    Gap { after: i64, next: i64 },
    /// The first row is not the genesis and no recorded pruning explains it.
    MissingStart { first: i64 },
    /// An anchor names a row that is gone: the newest rows were deleted.
    AnchorMissing { seq: i64 },
    /// An anchor's hash differs from its row's.
    AnchorMismatch { seq: i64 },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Problem::Damaged(why) => write!(f, "the database is damaged: {why}"),
            Problem::Edited { seq } => write!(f, "row {seq} was changed after it was written"),
            Problem::Unlinked { seq } => write!(
                f,
                "row {seq} does not follow the row before it (rows removed, inserted or reordered)"
            ),
            Problem::Gap { after, next } => {
                write!(f, "rows {} to {} are missing", after + 1, next - 1)
            }
            Problem::MissingStart { first } => write!(
                f,
                "rows before {first} are missing and no pruning was recorded"
            ),
            Problem::AnchorMissing { seq } => write!(
                f,
                "row {seq}, recorded in the anchor file, is gone (the newest rows were deleted)"
            ),
            Problem::AnchorMismatch { seq } => write!(
                f,
                "row {seq} differs from the hash recorded in the anchor file"
            ),
        }
    }
}

/// A recorded pruning: rows up to `through_seq` were removed on purpose.
#[derive(serde::Deserialize)]
struct Pruned {
    through_seq: i64,
    through_hash: String,
}

/// Verifies the database at `path` and its anchor file.
pub(crate) fn verify_path(path: &Path) -> Result<Report, AuditError> {
    let conn = super::db::open_read(path)?;
    Ok(verify(&conn, &log::anchor_path(path)))
}

pub(crate) fn verify(conn: &Connection, anchors: &Path) -> Report {
    let mut report = Report {
        rows: 0,
        head: None,
        anchors_checked: 0,
        problem: None,
    };
    let damaged = |e: rusqlite::Error| Problem::Damaged(e.to_string());
    let result = (|| -> Result<(), Problem> {
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(damaged)?;
        if integrity != "ok" {
            return Err(Problem::Damaged(integrity));
        }
        let pruned: Vec<Pruned> = {
            let mut stmt = conn
                .prepare("SELECT detail FROM events WHERE kind = 'prune'")
                .map_err(damaged)?;
            let details = stmt
                .query_map([], |r| r.get::<_, Option<String>>(0))
                .map_err(damaged)?;
            details
                .filter_map(|d| d.ok().flatten())
                .filter_map(|d| serde_json::from_str(&d).ok())
                .collect()
        };
        let mut stmt = conn
            .prepare(&format!("SELECT {COLUMNS} FROM events ORDER BY seq"))
            .map_err(damaged)?;
        let mut rows = stmt.query([]).map_err(damaged)?;
        let mut prev: Option<(i64, [u8; 32])> = None;
        while let Some(r) = rows.next().map_err(damaged)? {
            let row = Row::from_sql(r).map_err(damaged)?;
            let link = match prev {
                Some((seq, hash)) => {
                    if row.seq != seq + 1 {
                        return Err(Problem::Gap {
                            after: seq,
                            next: row.seq,
                        });
                    }
                    hash
                }
                None if row.seq == 1 => GENESIS,
                None => pruned
                    .iter()
                    .find(|p| p.through_seq == row.seq - 1)
                    .and_then(|p| unhex(&p.through_hash))
                    .ok_or(Problem::MissingStart { first: row.seq })?,
            };
            if row.prev_hash != hex(&link) {
                return Err(Problem::Unlinked { seq: row.seq });
            }
            let hash = row.compute_hash(&link);
            if row.hash != hex(&hash) {
                return Err(Problem::Edited { seq: row.seq });
            }
            report.rows += 1;
            report.head = Some((row.seq, row.hash));
            prev = Some((row.seq, hash));
        }
        drop(rows);
        let first = conn
            .query_row("SELECT MIN(seq) FROM events", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map_err(damaged)?
            .unwrap_or(i64::MAX);
        for (seq, hash) in read_anchors(anchors) {
            if seq < first && report.head.is_some() {
                continue; // pruned on purpose, and the pruning is in the chain
            }
            report.anchors_checked += 1;
            let stored: Option<String> = conn
                .query_row("SELECT hash FROM events WHERE seq = ?1", [seq], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(damaged)?;
            match stored {
                None => return Err(Problem::AnchorMissing { seq }),
                Some(h) if h != hash => return Err(Problem::AnchorMismatch { seq }),
                Some(_) => {}
            }
        }
        Ok(())
    })();
    report.problem = result.err();
    report
}

/// Anchor lines: `seq hash time session`. Unreadable lines are skipped.
fn read_anchors(path: &Path) -> Vec<(i64, String)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            Some((parts.next()?.parse().ok()?, parts.next()?.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditLog, Event, Settings, Sync};

    /// A small log written by the real writer, checkpointed into one file.
    fn small_log(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("audit.db");
        let settings = Settings {
            enabled: true,
            path: path.clone(),
            sync: Sync::Normal,
            retain: None,
            forward: None,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let log = AuditLog::open(&settings, "flip", Some("srv"), Default::default());
            for i in 0..6 {
                let event = Event {
                    ts: crate::audit::time::now(),
                    direction: "c2s",
                    kind: "request",
                    method: Some("tools/call".into()),
                    tool: Some(format!("tool{i}")),
                    args: Some(format!("{{\"n\":{i}}}")),
                    decision: Some("allow"),
                    ..Event::default()
                };
                log.commit(event).expect("commit");
            }
            log.close();
        });
        let conn = Connection::open(&path).expect("open");
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .expect("checkpoint");
        path
    }

    /// Everything the log says, or `None` if it cannot be read.
    fn dump(path: &Path) -> Option<String> {
        let conn =
            Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
        let mut stmt = conn
            .prepare(&format!("SELECT {COLUMNS} FROM events ORDER BY seq"))
            .ok()?;
        let rows = stmt.query_map([], Row::from_sql).ok()?;
        let rows: Vec<Row> = rows.collect::<Result<_, _>>().ok()?;
        Some(format!("{rows:?}"))
    }

    #[test]
    fn every_single_byte_flip_that_changes_the_log_is_detected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = small_log(dir.path());
        let anchors = crate::audit::log::anchor_path(&path);
        let original = std::fs::read(&path).expect("read");
        let clean = dump(&path).expect("dump");
        assert!(verify(&Connection::open(&path).expect("open"), &anchors).ok());
        let copy = dir.path().join("flipped.db");
        let (mut material, mut detected) = (0, 0);
        for at in 0..original.len() {
            let mut bytes = original.clone();
            bytes[at] ^= 0xff;
            std::fs::write(&copy, &bytes).expect("write");
            let changed = dump(&copy).is_none_or(|d| d != clean);
            let caught = match Connection::open_with_flags(
                &copy,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            ) {
                Ok(conn) => !verify(&conn, &anchors).ok(),
                Err(_) => true,
            };
            if changed {
                material += 1;
                assert!(caught, "a flip at byte {at} changed the log but verified");
            }
            detected += usize::from(caught);
        }
        assert!(material > 500, "the flips must reach the rows ({material})");
        eprintln!(
            "{} byte flips: {material} changed the log, {detected} detected",
            original.len()
        );
    }
}
