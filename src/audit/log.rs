//! The writer: one thread owns the database connection and appends rows to the chain.
//!
//! The relay hands it events through a channel. Most are queued ([`AuditLog::record`]) and
//! written in groups, one transaction per group, so the relay never waits on the disk for
//! them. A gated request's decision row is committed first ([`AuditLog::commit`] returns
//! once it is durable) and only then are its bytes forwarded. Each group takes SQLite's
//! write lock (`BEGIN IMMEDIATE`), reads the chain head, and appends after it: peta
//! processes sharing the file therefore extend one linear chain.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};

use super::db;
use super::row::{Event, GENESIS, Row, unhex};
use super::{AuditError, Settings};

/// Events waiting for the writer; a full queue makes the relay wait (backpressure).
const QUEUE: usize = 16 * 1024;
/// Most events written in one transaction.
const GROUP: usize = 2048;
/// Most unwritten events kept for a retry while the database fails.
const RETRY_LIMIT: usize = 100_000;

enum Job {
    Record(Event),
    Commit(Event, oneshot::Sender<Result<(), String>>),
    Close(oneshot::Sender<()>),
}

/// A handle on the audit log of one session.
pub(crate) struct AuditLog {
    state: State,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

enum State {
    /// Auditing is switched off in the configuration.
    Off,
    /// The database could not be opened: gated requests are denied with this reason.
    Broken(String),
    Open(mpsc::Sender<Job>),
}

impl AuditLog {
    pub(crate) fn off() -> Self {
        Self {
            state: State::Off,
            thread: Mutex::new(None),
        }
    }

    /// Opens the log for a session; a database that cannot be opened gives a log that
    /// refuses every commit, so gated requests are denied with the reason.
    pub(crate) fn open(settings: &Settings, session: &str, server: Option<&str>) -> Self {
        match Writer::open(settings, session, server) {
            Ok(writer) => {
                let (tx, rx) = mpsc::channel(QUEUE);
                let thread = std::thread::Builder::new()
                    .name("peta-audit".into())
                    .spawn(move || writer.run(rx))
                    .map_err(|e| e.to_string());
                match thread {
                    Ok(thread) => Self {
                        state: State::Open(tx),
                        thread: Mutex::new(Some(thread)),
                    },
                    Err(e) => Self::broken(format!("cannot start the audit writer: {e}")),
                }
            }
            Err(e) => {
                let reason = e.to_string();
                tracing::error!(error = %reason, "the audit log is unavailable; gated requests will be denied");
                Self::broken(reason)
            }
        }
    }

    fn broken(reason: String) -> Self {
        Self {
            state: State::Broken(reason),
            thread: Mutex::new(None),
        }
    }

    /// Queues an event; it is written with the next group.
    pub(crate) async fn record(&self, event: Event) {
        if let State::Open(tx) = &self.state
            && tx.send(Job::Record(event)).await.is_err()
        {
            tracing::error!("the audit writer has stopped; an event was not recorded");
        }
    }

    /// Writes an event and returns once it is committed. `Err` is the reason it could not be.
    pub(crate) async fn commit(&self, event: Event) -> Result<(), String> {
        match &self.state {
            State::Off => Ok(()),
            State::Broken(reason) => Err(reason.clone()),
            State::Open(tx) => {
                let (ack, done) = oneshot::channel();
                tx.send(Job::Commit(event, ack))
                    .await
                    .map_err(|_| "the audit writer has stopped".to_owned())?;
                done.await
                    .unwrap_or_else(|_| Err("the audit writer has stopped".into()))
            }
        }
    }

    /// Writes everything queued, appends the chain head to the anchor file, and stops the
    /// writer.
    pub(crate) async fn close(&self) {
        if let State::Open(tx) = &self.state {
            let (ack, done) = oneshot::channel();
            if tx.send(Job::Close(ack)).await.is_ok() {
                let _ = done.await;
            }
        }
        let thread = self.thread.lock().map(|mut t| t.take()).unwrap_or(None);
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// The writer thread's state.
struct Writer {
    conn: Connection,
    path: PathBuf,
    anchors: PathBuf,
    session: String,
    server: Option<String>,
    /// The database file's identity, to notice it being replaced under us.
    identity: Option<(u64, u64)>,
    /// Events not yet written because the database failed; retried first.
    unwritten: Vec<Event>,
    /// The newest row this writer appended.
    head: Option<(i64, String)>,
}

impl Writer {
    fn open(settings: &Settings, session: &str, server: Option<&str>) -> Result<Self, AuditError> {
        let mut conn = db::open(&settings.path, settings.sync)?;
        if let Some(age) = settings.retain {
            let cutoff = super::time::format(std::time::SystemTime::now() - age);
            match super::prune::prune(&mut conn, &cutoff, session, server) {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, %cutoff, "pruned old audit rows (audit.retain)"),
                Err(e) => tracing::warn!(error = %e, "cannot prune old audit rows"),
            }
        }
        Ok(Writer {
            conn,
            identity: identity(&settings.path),
            anchors: anchor_path(&settings.path),
            path: settings.path.clone(),
            session: session.to_owned(),
            server: server.map(str::to_owned),
            unwritten: Vec::new(),
            head: None,
        })
    }

    fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let mut batch = Vec::new();
        while let Some(first) = rx.blocking_recv() {
            batch.push(first);
            while batch.len() < GROUP {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            if let Some(close) = self.handle(std::mem::take(&mut batch)) {
                self.finish();
                let _ = close.send(());
                return;
            }
        }
        self.finish();
    }

    /// Writes one group; returns the close request if the group held one.
    fn handle(&mut self, jobs: Vec<Job>) -> Option<oneshot::Sender<()>> {
        let mut events = std::mem::take(&mut self.unwritten);
        let mut acks = Vec::new();
        let mut close = None;
        for job in jobs {
            match job {
                Job::Record(e) => events.push(e),
                Job::Commit(e, ack) => {
                    acks.push((events.len(), ack));
                    events.push(e);
                }
                Job::Close(ack) => close = Some(ack),
            }
        }
        if events.is_empty() {
            return close;
        }
        match self.write(&events) {
            Ok(()) => {
                for (_, ack) in acks {
                    let _ = ack.send(Ok(()));
                }
            }
            Err(reason) => {
                tracing::error!(error = %reason, rows = events.len(), "cannot write to the audit log");
                // The gated requests among them are denied; keep that, not the intent, for
                // when the database is writable again.
                for (at, ack) in acks {
                    let _ = ack.send(Err(reason.clone()));
                    events[at].decision = Some("deny");
                    events[at].error = Some(format!("audit log unavailable: {reason}"));
                }
                if events.len() > RETRY_LIMIT {
                    let lost = events.len() - RETRY_LIMIT;
                    tracing::error!(
                        lost,
                        "audit events dropped: the database has failed for too long"
                    );
                    events.drain(..lost);
                }
                self.unwritten = events;
            }
        }
        close
    }

    fn write(&mut self, events: &[Event]) -> Result<(), String> {
        if identity(&self.path) != self.identity {
            return Err(format!("{} was replaced or removed", self.path.display()));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| e.to_string())?;
        let (mut seq, mut prev) = head(&tx).map_err(|e| e.to_string())?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (seq, ts, session, server, direction, kind, method, rpc_id, tool, args, args_sha256, bytes_sha256, decision, rule, channel, grant_scope, latency_us, size, is_error, error, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
                )
                .map_err(|e| e.to_string())?;
            for event in events {
                seq += 1;
                let (r, hash) = Row::chain(
                    seq,
                    &self.session,
                    self.server.as_deref(),
                    event.clone(),
                    &prev,
                );
                insert
                    .execute(params![
                        r.seq,
                        r.ts,
                        r.session,
                        r.server,
                        r.direction,
                        r.kind,
                        r.method,
                        r.rpc_id,
                        r.tool,
                        r.args,
                        r.args_sha256,
                        r.bytes_sha256,
                        r.decision,
                        r.rule,
                        r.channel,
                        r.grant_scope,
                        r.latency_us,
                        r.size,
                        r.is_error,
                        r.error,
                        r.detail,
                        r.prev_hash,
                        r.hash
                    ])
                    .map_err(|e| e.to_string())?;
                prev = hash;
                self.head = Some((seq, r.hash));
            }
        }
        tx.commit().map_err(|e| e.to_string())
    }

    /// Writes what is left and anchors the chain head.
    fn finish(&mut self) {
        if !self.unwritten.is_empty() {
            let events = std::mem::take(&mut self.unwritten);
            if let Err(reason) = self.write(&events) {
                tracing::error!(error = %reason, lost = events.len(), "audit events could not be written before exit");
            }
        }
        if let Some((seq, hash)) = &self.head
            && let Err(e) = append_anchor(&self.anchors, *seq, hash, &self.session)
        {
            tracing::error!(error = %e, file = %self.anchors.display(), "cannot append to the audit anchor file");
        }
    }
}

/// The newest row's seq and hash, or the genesis.
pub(crate) fn head(conn: &Connection) -> rusqlite::Result<(i64, [u8; 32])> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(Some)
        .or_else(|e| {
            if matches!(e, rusqlite::Error::QueryReturnedNoRows) {
                Ok(None)
            } else {
                Err(e)
            }
        })?;
    match last {
        None => Ok((0, GENESIS)),
        Some((seq, hash)) => {
            let hash = unhex(&hash).ok_or(rusqlite::Error::InvalidColumnType(
                0,
                "hash".into(),
                rusqlite::types::Type::Text,
            ))?;
            Ok((seq, hash))
        }
    }
}

/// The anchor file beside the database.
pub(crate) fn anchor_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".anchors");
    db.with_file_name(name)
}

fn append_anchor(path: &Path, seq: i64, hash: &str, session: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    db::set_mode(path, 0o600)?;
    writeln!(file, "{seq} {hash} {} {session}", super::time::now())?;
    file.sync_data()
}

#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> Option<(u64, u64)> {
    path.exists().then_some((0, 0))
}
