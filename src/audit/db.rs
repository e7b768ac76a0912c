//! The audit database: where it lives, how it is opened (private file modes, WAL, a busy
//! timeout for the many peta processes that share it), and its schema, migrated by
//! `PRAGMA user_version` with steps that only ever append.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::AuditError;

/// How long a writer waits for another process's write lock before giving up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Durability of a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Sync {
    /// WAL with `synchronous=NORMAL`: a committed row survives peta being killed.
    #[default]
    Normal,
    /// `synchronous=FULL`: a committed row also survives power loss.
    Full,
}

/// Schema steps; step `i` takes `user_version` from `i` to `i + 1`. Append only.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the chained event log, and sessions as a view over it. No secondary indexes: every
    // index is another page written per commit on the relay's path, and exports and
    // sessions scan in seq order anyway.
    "CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        ts TEXT NOT NULL,
        session TEXT NOT NULL,
        server TEXT,
        direction TEXT NOT NULL,
        kind TEXT NOT NULL,
        method TEXT,
        rpc_id TEXT,
        tool TEXT,
        args TEXT,
        args_sha256 TEXT,
        bytes_sha256 TEXT,
        decision TEXT,
        rule TEXT,
        channel TEXT,
        grant_scope TEXT,
        latency_us INTEGER,
        size INTEGER,
        is_error INTEGER,
        error TEXT,
        detail TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE VIEW sessions AS
        SELECT session,
               MIN(ts) AS started,
               MAX(ts) AS last_seen,
               MAX(server) AS server,
               MAX(CASE WHEN kind = 'session_start' THEN detail END) AS start_detail,
               MAX(CASE WHEN kind = 'session_end' THEN detail END) AS end_detail,
               COUNT(*) AS events
        FROM events GROUP BY session;",
    // 2: tool pinning (DESIGN.md §5), outside the chain: a pin is state that changes, the
    // chain records the events that change it. `pins` holds the trusted definition of each
    // (server, tool); `pin_changes` the latest different definition a server served, until
    // a person approves it; `pin_servers` the server's instructions and whether its last
    // list was refused as a whole.
    "CREATE TABLE pins (
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        hash TEXT NOT NULL,
        definition TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        approved_at TEXT,
        PRIMARY KEY (server, tool)
    );
    CREATE TABLE pin_changes (
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        hash TEXT NOT NULL,
        definition TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (server, tool)
    );
    CREATE TABLE pin_servers (
        server TEXT PRIMARY KEY,
        instructions_hash TEXT,
        instructions TEXT,
        first_seen TEXT NOT NULL,
        approved_at TEXT,
        pending_hash TEXT,
        pending_instructions TEXT,
        seen_at TEXT,
        blocked TEXT
    );",
];

/// The schema version that added the pin tables.
pub(crate) const PINS_VERSION: i64 = 2;

/// The default database path: `$XDG_STATE_HOME/peta/audit.db` (`~/.local/state/peta`), on
/// macOS `~/Library/Application Support/peta/audit.db`, on Windows `%LOCALAPPDATA%\peta`.
pub(crate) fn default_path() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        var("LOCALAPPDATA")?
    } else if cfg!(target_os = "macos") {
        var("HOME")?.join("Library").join("Application Support")
    } else {
        var("XDG_STATE_HOME").or_else(|| var("HOME").map(|h| h.join(".local").join("state")))?
    };
    Some(base.join("peta").join("audit.db"))
}

/// Opens (creating if needed) the database for writing.
pub(crate) fn open(path: &Path, sync: Sync) -> Result<Connection, AuditError> {
    prepare_dir(path)?;
    create_private(path)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| AuditError::db(path, e))?;
    configure(&conn, sync).map_err(|e| AuditError::db(path, e))?;
    migrate(&conn).map_err(|e| AuditError::db(path, e))?;
    Ok(conn)
}

/// Opens an existing database for reading (verify, export, tail, show).
pub(crate) fn open_read(path: &Path) -> Result<Connection, AuditError> {
    if !path.exists() {
        return Err(AuditError::Missing {
            path: path.to_owned(),
        });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| AuditError::db(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| AuditError::db(path, e))?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| AuditError::db(path, e))?;
    if version > MIGRATIONS.len() as i64 {
        return Err(AuditError::TooNew {
            path: path.to_owned(),
            version,
        });
    }
    Ok(conn)
}

fn configure(conn: &Connection, sync: Sync) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidQuery);
    }
    conn.pragma_update(
        None,
        "synchronous",
        match sync {
            Sync::Normal => "NORMAL",
            Sync::Full => "FULL",
        },
    )?;
    Ok(())
}

fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    // IMMEDIATE: two processes creating a fresh database must not both migrate it.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (step, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(version).unwrap_or(usize::MAX))
        {
            conn.execute_batch(sql)?;
            conn.pragma_update(None, "user_version", step as i64 + 1)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The directory is created 0700 whatever the umask.
fn prepare_dir(path: &Path) -> Result<(), AuditError> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.exists() {
        return Ok(());
    }
    let io = |e| AuditError::Io {
        path: dir.to_owned(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    set_mode(dir, 0o700).map_err(io)
}

/// The file is created 0600 whatever the umask; SQLite gives its `-wal` and `-shm` files
/// the database file's mode.
fn create_private(path: &Path) -> Result<(), AuditError> {
    let io = |e| AuditError::Io {
        path: path.to_owned(),
        source: e,
    };
    if !path.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(path).map_err(io)?;
    }
    set_mode(path, 0o600).map_err(io)
}

#[cfg(unix)]
pub(crate) fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
pub(crate) fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn private_modes_whatever_the_umask() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state/peta/audit.db");
        // SAFETY: umask is process-wide; this test only widens it briefly.
        let old = unsafe { libc::umask(0) };
        let conn = open(&path, Sync::Normal);
        unsafe { libc::umask(old) };
        let conn = conn.expect("open");
        conn.execute_batch("CREATE TEMP TABLE t(x); INSERT INTO events(ts,session,direction,kind,prev_hash,hash) VALUES('t','s','d','k','p','h');").expect("write");
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(path.parent().expect("dir")), 0o700);
        assert_eq!(mode(&path), 0o600);
        for suffix in ["-wal", "-shm"] {
            let side = PathBuf::from(format!("{}{suffix}", path.display()));
            assert_eq!(mode(&side), 0o600, "{suffix}");
        }
    }

    #[test]
    fn migrations_run_once_and_record_the_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.db");
        drop(open(&path, Sync::Normal).expect("first"));
        let conn = open(&path, Sync::Full).expect("again");
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, MIGRATIONS.len() as i64);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
    }
}
