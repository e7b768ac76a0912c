//! The forwarder's cursor and status, in one small JSON file beside the database
//! (`<db>.forward`), and the lock (`<db>.forward.lock`) that makes one process the forwarder.
//!
//! The file is replaced atomically (a temporary file renamed over it), so a crash, `kill -9`
//! included, leaves the previous cursor or the new one. The cursor only moves
//! after the collector acknowledged the rows up to it.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What the file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct State {
    /// The destination the cursor belongs to ([`super::Settings::target`]).
    pub(crate) target: String,
    /// The last row the collector acknowledged (0: none yet).
    pub(crate) seq: i64,
    /// That row's hash, to notice a log replaced under the cursor.
    pub(crate) hash: Option<String>,
    pub(crate) acked_at: Option<String>,
    /// The last failure, cleared by the next acknowledged batch.
    pub(crate) last_error: Option<String>,
    pub(crate) last_error_at: Option<String>,
    /// When the next attempt is due after a failure.
    pub(crate) retry_at: Option<String>,
    /// A collector's note on rows it took but dropped (OTLP partial success).
    pub(crate) last_rejection: Option<String>,
}

/// `<db>.forward`.
pub(crate) fn path(db: &Path) -> PathBuf {
    sibling(db, ".forward")
}

/// `<db>.forward.lock`.
pub(crate) fn lock_path(db: &Path) -> PathBuf {
    sibling(db, ".forward.lock")
}

fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    db.with_file_name(name)
}

impl State {
    /// The state for `target`: the file's, or a fresh cursor when there is none or it
    /// belongs to another destination.
    pub(crate) fn load(db: &Path, target: &str) -> State {
        match Self::read(db) {
            Some(state) if state.target == target => state,
            Some(other) => {
                tracing::info!(
                    previous = %other.target,
                    now = %target,
                    "the forwarding destination changed; every row in the log is sent to the new one"
                );
                Self::fresh(target)
            }
            None => Self::fresh(target),
        }
    }

    fn fresh(target: &str) -> State {
        State {
            target: target.to_owned(),
            ..State::default()
        }
    }

    /// The file as it is, if it can be read.
    pub(crate) fn read(db: &Path) -> Option<State> {
        let text = std::fs::read(path(db)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Replaces the file: a new 0600 file renamed over the old one. Not synced: a rename
    /// survives the process being killed, and after a power loss an older cursor (or none)
    /// only means rows sent again. An fsync per batch would make the file system's journal
    /// commit under the audit writer's feet, on the relay's path.
    pub(crate) fn save(&self, db: &Path) -> Result<(), String> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        let target = path(db);
        let temp = sibling(db, &format!(".forward.{}.tmp", std::process::id()));
        let written = (|| {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(&temp)?.write_all(&bytes)?;
            std::fs::rename(&temp, &target)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written.map_err(|e| format!("{}: {e}", target.display()))
    }
}

/// The first row `audit.retain` must keep: the one after the cursor, when forwarding is on
/// and may not lose rows.
pub(crate) fn prune_floor(db: &Path, settings: &super::Settings) -> Option<i64> {
    if settings.prune_unforwarded {
        return None;
    }
    Some(State::load(db, &settings.target()).seq + 1)
}

/// The forwarder's lock, held for as long as this value lives.
pub(crate) struct Lock {
    _file: File,
}

/// Who holds the lock, as far as can be told.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    Nobody,
    /// Another process (its pid, as it wrote it).
    Other(Option<u32>),
}

impl Lock {
    /// Takes the lock if nobody holds it; `Err` says who does.
    pub(crate) fn try_take(db: &Path) -> std::io::Result<Result<Lock, Holder>> {
        let path = lock_path(db);
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        match file.try_lock() {
            Ok(()) => {
                // The pid is for `--status` only; the lock itself is the file lock.
                file.set_len(0)?;
                file.rewind()?;
                write!(file, "{}", std::process::id())?;
                Ok(Ok(Lock { _file: file }))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                Ok(Err(Holder::Other(text.trim().parse().ok())))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// Whether some process forwards this log now (`--status`, `doctor`).
    pub(crate) fn holder(db: &Path) -> Holder {
        if !lock_path(db).exists() {
            return Holder::Nobody;
        }
        match Self::try_take(db) {
            Ok(Ok(_released_at_once)) => Holder::Nobody,
            Ok(Err(holder)) => holder,
            Err(_) => Holder::Nobody,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_survives_and_belongs_to_its_target() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("audit.db");
        let mut state = State::load(&db, "otlp http://a");
        assert_eq!(state.seq, 0);
        state.seq = 42;
        state.hash = Some("ab".into());
        state.save(&db).expect("save");
        assert_eq!(State::load(&db, "otlp http://a").seq, 42);
        assert_eq!(State::load(&db, "syslog tcp://b:1").seq, 0);
    }

    #[test]
    fn one_holder_at_a_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("audit.db");
        assert_eq!(Lock::holder(&db), Holder::Nobody);
        let held = Lock::try_take(&db).expect("io").expect("free");
        // A second open file description conflicts, as another process's would.
        assert_eq!(
            Lock::try_take(&db).expect("io").err(),
            Some(Holder::Other(Some(std::process::id())))
        );
        drop(held);
        assert!(Lock::try_take(&db).expect("io").is_ok());
    }
}
