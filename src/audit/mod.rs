//! The audit log: every message and decision, in a hash chain in one SQLite file.
//!
//! `db` opens and migrates the database, `row` defines a row and its hash, `log` is the
//! writer thread the relay feeds, `verify` checks the chain and its anchors, `export`
//! streams it for a reviewer, `prune` applies `audit.retain`, `forward` sends every row to a
//! team's collector.

pub(crate) mod db;
pub mod export;
pub(crate) mod forward;
pub(crate) mod log;
pub(crate) mod prune;
pub(crate) mod row;
pub(crate) mod time;
pub(crate) mod verify;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) use db::Sync;
pub(crate) use log::AuditLog;
pub(crate) use row::Event;

/// Where and how the log is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    pub(crate) enabled: bool,
    pub(crate) path: PathBuf,
    pub(crate) sync: Sync,
    /// Rows older than this are pruned when a session starts.
    pub(crate) retain: Option<Duration>,
    /// `[audit.forward]`: where every row is sent, if anywhere.
    pub(crate) forward: Option<forward::Settings>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum AuditError {
    #[error("audit database {}: {source}", path.display())]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("audit path {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no audit database at {}", path.display())]
    Missing { path: PathBuf },
    #[error("audit database {} has schema version {version}, newer than this peta understands", path.display())]
    TooNew { path: PathBuf, version: i64 },
}

impl AuditError {
    pub(crate) fn db(path: &Path, source: rusqlite::Error) -> Self {
        AuditError::Db {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            AuditError::Missing { .. } => {
                Some("the log is created by the first `peta run`; or give --db FILE".into())
            }
            AuditError::TooNew { .. } => {
                Some("use the peta version that wrote it, or a newer one".into())
            }
            AuditError::Db { .. } | AuditError::Io { .. } => None,
        }
    }
}
