//! Writing the log: one connection, used by the relay for gated rows and by a writer
//! thread for everything else.
//!
//! A gated request's decision row is committed on the relay's own thread
//! ([`AuditLog::commit`] returns once it is durable) and only then are its bytes forwarded;
//! a thread hop there would cost two wake-ups per call. Every other event is queued
//! ([`AuditLog::record`]) and written by the writer thread in groups, one transaction per
//! group, so the relay never waits on the disk for them; a commit also takes whatever is
//! queued into its transaction. Each transaction takes SQLite's write lock
//! (`BEGIN IMMEDIATE`), reads the chain head and appends after it: peta processes sharing
//! the file therefore extend one linear chain.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::db;
use super::row::{Event, GENESIS, Row, unhex};
use super::{AuditError, Settings};
use crate::secrets::redact::Redactor;

/// Queued events beyond which `record` writes the queue itself (backpressure).
const QUEUE_LIMIT: usize = 16 * 1024;
/// How long queued events wait for company (a commit, more events) before the writer
/// thread writes them.
const LINGER: Duration = Duration::from_millis(5);
/// Most unwritten events kept for a retry while the database fails.
const RETRY_LIMIT: usize = 100_000;

/// A handle on the audit log of one session.
pub(crate) struct AuditLog {
    state: State,
    /// Injected secrets never reach a row.
    redactor: Arc<Redactor>,
}

enum State {
    /// Auditing is switched off in the configuration.
    Off,
    /// The database could not be opened: gated requests are denied with this reason.
    Broken(String),
    Open(Arc<Shared>, Mutex<Option<std::thread::JoinHandle<()>>>),
}

struct Shared {
    writer: Mutex<Writer>,
    queue: Mutex<Queue>,
    wake: Condvar,
}

#[derive(Default)]
struct Queue {
    events: Vec<Event>,
    closing: bool,
    /// The writer thread waits for work (rather than lingering) and must be woken.
    idle: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep going with it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AuditLog {
    pub(crate) fn off() -> Self {
        Self {
            state: State::Off,
            redactor: Arc::default(),
        }
    }

    /// Opens the log for a session; a database that cannot be opened gives a log that
    /// refuses every commit, so gated requests are denied with the reason.
    pub(crate) fn open(
        settings: &Settings,
        session: &str,
        server: Option<&str>,
        redactor: Arc<Redactor>,
    ) -> Self {
        let writer = match Writer::open(settings, session, server) {
            Ok(writer) => writer,
            Err(e) => {
                let reason = e.to_string();
                tracing::error!(error = %reason, "the audit log is unavailable; gated requests will be denied");
                return Self::broken(reason, redactor);
            }
        };
        let shared = Arc::new(Shared {
            writer: Mutex::new(writer),
            queue: Mutex::default(),
            wake: Condvar::new(),
        });
        let for_thread = shared.clone();
        match std::thread::Builder::new()
            .name("peta-audit".into())
            .spawn(move || for_thread.run())
        {
            Ok(thread) => Self {
                state: State::Open(shared, Mutex::new(Some(thread))),
                redactor,
            },
            Err(e) => Self::broken(format!("cannot start the audit writer: {e}"), redactor),
        }
    }

    fn broken(reason: String, redactor: Arc<Redactor>) -> Self {
        Self {
            state: State::Broken(reason),
            redactor,
        }
    }

    /// Every text field of a row with injected secrets replaced.
    fn redact(&self, mut event: Event) -> Event {
        if self.redactor.is_empty() {
            return event;
        }
        for field in [
            &mut event.method,
            &mut event.rpc_id,
            &mut event.tool,
            &mut event.args,
            &mut event.error,
            &mut event.detail,
            &mut event.rule,
        ] {
            if let Some(text) = field.as_mut()
                && let std::borrow::Cow::Owned(clean) = self.redactor.text(text)
            {
                *text = clean;
            }
        }
        event
    }

    /// Queues an event; it is written with the next group or the next commit.
    pub(crate) fn record(&self, event: Event) {
        let State::Open(shared, _) = &self.state else {
            return;
        };
        let event = self.redact(event);
        let mut queue = lock(&shared.queue);
        queue.events.push(event);
        if queue.idle {
            queue.idle = false;
            shared.wake.notify_one();
        }
        match queue.events.len() {
            n if n >= QUEUE_LIMIT => {
                // The writer is behind: write the queue here rather than grow it.
                drop(queue);
                // A failure is logged and its events kept for the next write.
                let _ = shared.write(None);
            }
            _ => {}
        }
    }

    /// Writes an event, with everything queued before it, and returns once it is
    /// committed. `Err` is the reason it could not be.
    pub(crate) fn commit(&self, event: Event) -> Result<(), String> {
        match &self.state {
            State::Off => Ok(()),
            State::Broken(reason) => Err(reason.clone()),
            State::Open(shared, _) => shared.write(Some(self.redact(event))),
        }
    }

    /// Commits `event` with everything queued, then appends the chain head to the anchor file,
    /// both durably, and returns: for the session's end when peta may be killed any moment.
    /// The log stays open.
    pub(crate) fn end(&self, event: Event) -> Result<(), String> {
        self.commit(event)?;
        if let State::Open(shared, _) = &self.state {
            lock(&shared.writer).anchor()?;
        }
        Ok(())
    }

    /// Writes everything queued, appends the chain head to the anchor file, and stops the
    /// writer thread.
    pub(crate) fn close(&self) {
        let State::Open(shared, thread) = &self.state else {
            return;
        };
        {
            let mut queue = lock(&shared.queue);
            queue.closing = true;
            queue.idle = false;
        }
        shared.wake.notify_one();
        if let Some(thread) = lock(thread).take() {
            let _ = thread.join();
        }
        let _ = shared.write(None);
        lock(&shared.writer).finish();
    }
}

impl Shared {
    /// The writer thread: waits for queued events, lets them gather for a moment, writes.
    fn run(&self) {
        loop {
            let mut queue = lock(&self.queue);
            while queue.events.is_empty() && !queue.closing {
                queue.idle = true;
                queue = self
                    .wake
                    .wait(queue)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            queue.idle = false;
            if queue.closing {
                return;
            }
            // Linger: a commit arriving meanwhile takes the queue into its transaction.
            let (queue, _) = self
                .wake
                .wait_timeout_while(queue, LINGER, |q| {
                    !q.closing && q.events.len() < QUEUE_LIMIT / 2
                })
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            drop(queue);
            // A failure is logged and its events kept for the next write.
            let _ = self.write(None);
        }
    }

    /// Writes the queue and `gated` (last) in one transaction.
    fn write(&self, gated: Option<Event>) -> Result<(), String> {
        let mut writer = lock(&self.writer);
        let mut events = std::mem::take(&mut lock(&self.queue).events);
        let gated_at = gated.map(|e| {
            events.push(e);
            events.len() - 1
        });
        writer.write_all(events, gated_at)
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
    /// The newest row recorded in the anchor file by this writer.
    anchored: Option<i64>,
}

impl Writer {
    fn open(settings: &Settings, session: &str, server: Option<&str>) -> Result<Self, AuditError> {
        let mut conn = db::open(&settings.path, settings.sync)?;
        if let Some(age) = settings.retain {
            let cutoff = super::time::format(std::time::SystemTime::now() - age);
            let keep_from = settings
                .forward
                .as_ref()
                .and_then(|f| super::forward::state::prune_floor(&settings.path, f));
            match super::prune::prune(&mut conn, &cutoff, keep_from, session, server) {
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
            anchored: None,
        })
    }

    /// Writes `events` after any left from a failure; on failure keeps them for the next
    /// try, with the gated one (at `gated_at`) turned into the denial it became.
    fn write_all(&mut self, mut events: Vec<Event>, gated_at: Option<usize>) -> Result<(), String> {
        let offset = self.unwritten.len();
        if offset > 0 {
            let mut all = std::mem::take(&mut self.unwritten);
            all.append(&mut events);
            events = all;
        }
        if events.is_empty() {
            return Ok(());
        }
        // SQLite can answer "busy" at once, without waiting in its busy handler, while another
        // process opens or closes the WAL; that moment passes, so try again briefly first.
        let mut written = self.write(&events);
        for _ in 0..20 {
            match &written {
                Err(reason) if reason.contains("database is locked") => {
                    std::thread::sleep(std::time::Duration::from_millis(25));
                    written = self.write(&events);
                }
                _ => break,
            }
        }
        match written {
            Ok(()) => Ok(()),
            Err(reason) => {
                tracing::error!(error = %reason, rows = events.len(), "cannot write to the audit log");
                if let Some(at) = gated_at {
                    let gated = &mut events[offset + at];
                    gated.decision = Some("deny");
                    gated.error = Some(format!("audit log unavailable: {reason}"));
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
                Err(reason)
            }
        }
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
        let mut newest = None;
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
                newest = Some((seq, r.hash));
            }
        }
        tx.commit().map_err(|e| e.to_string())?;
        // Only a committed row may become the head the anchor file records: anchoring a
        // row whose commit failed (disk full) would make the log fail verification forever.
        if newest.is_some() {
            self.head = newest;
        }
        Ok(())
    }

    /// Anchors the chain head; says what could not be written.
    fn finish(&mut self) {
        if !self.unwritten.is_empty() {
            tracing::error!(
                lost = self.unwritten.len(),
                "audit events could not be written before exit"
            );
        }
        if let Err(e) = self.anchor() {
            tracing::error!("{e}");
        }
    }

    /// Appends the chain head to the anchor file, unless it is there already.
    fn anchor(&mut self) -> Result<(), String> {
        let Some((seq, hash)) = &self.head else {
            return Ok(());
        };
        if self.anchored == Some(*seq) {
            return Ok(());
        }
        append_anchor(&self.anchors, *seq, hash, &self.session).map_err(|e| {
            format!(
                "cannot append to the audit anchor file {}: {e}",
                self.anchors.display()
            )
        })?;
        self.anchored = Some(*seq);
        Ok(())
    }
}

/// The newest row's seq and hash, or the genesis.
pub(crate) fn head(conn: &Connection) -> rusqlite::Result<(i64, [u8; 32])> {
    let last: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
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
