//! The forwarding loop: read the rows after the cursor from the local log, send them, move
//! the cursor; on failure keep the rows, say why in the status file, and retry with backoff.
//!
//! [`Handle`] runs it in a thread of `peta run`, which forwards only while it holds the
//! forwarder lock (see the module docs of `forward`); `peta audit forward` runs
//! [`Forwarder`] in the foreground.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension};

use super::state::{Lock, State};
use super::{SendError, Settings, Sink};
use crate::audit::row::{COLUMNS, Row};
use crate::audit::time;

/// Builds the sink once the thread is the forwarder (header secrets are resolved then).
pub(crate) type Connect = Box<dyn FnOnce(&Settings) -> Result<Box<dyn Sink>, SendError> + Send>;

/// Forwards one log to one destination.
pub(crate) struct Forwarder {
    db: PathBuf,
    settings: Settings,
    sink: Box<dyn Sink>,
    conn: Option<Connection>,
    state: State,
    /// The wait before the next retry; grows while sends fail.
    backoff: Duration,
    /// The wait after the last failure.
    pending_wait: Duration,
}

/// What a pass over the log did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    pub(crate) rows: u64,
    pub(crate) batches: u64,
}

impl Forwarder {
    pub(crate) fn new(db: &Path, settings: Settings, sink: Box<dyn Sink>) -> Forwarder {
        let state = State::load(db, &settings.target());
        Forwarder {
            db: db.to_owned(),
            backoff: settings.interval,
            pending_wait: settings.interval,
            settings,
            sink,
            conn: None,
            state,
        }
    }

    pub(crate) fn state(&self) -> &State {
        &self.state
    }

    fn conn(&mut self) -> Result<&Connection, SendError> {
        if self.conn.is_none() {
            let conn =
                crate::audit::db::open_read(&self.db).map_err(|e| SendError::new(e.to_string()))?;
            self.conn = Some(conn);
            self.check_cursor()?;
        }
        Ok(self.conn.as_ref().expect("opened above"))
    }

    /// A cursor beyond the log, or at a row with another hash, belongs to a log that was
    /// replaced: everything in this one is sent.
    fn check_cursor(&mut self) -> Result<(), SendError> {
        if self.state.seq == 0 {
            return Ok(());
        }
        let conn = self.conn.as_ref().expect("the connection is open");
        let db = |e: rusqlite::Error| SendError::new(format!("{}: {e}", self.db.display()));
        let at: Option<String> = conn
            .query_row(
                "SELECT hash FROM events WHERE seq = ?1",
                [self.state.seq],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        let head: i64 = conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))
            .map_err(db)?;
        let replaced = match at {
            Some(hash) => self.state.hash.as_deref().is_some_and(|h| h != hash),
            None => head < self.state.seq,
        };
        if replaced {
            tracing::warn!(
                cursor = self.state.seq,
                head,
                "the audit log is not the one the forwarding cursor was written for; sending all of it"
            );
            self.state.seq = 0;
            self.state.hash = None;
        }
        Ok(())
    }

    /// The next rows after the cursor.
    fn batch(&mut self) -> Result<Vec<Row>, SendError> {
        // Opening the connection checks the cursor first, and may reset it.
        self.conn()?;
        let (after, limit) = (self.state.seq, self.settings.batch_size as i64);
        let path = self.db.display().to_string();
        let conn = self.conn()?;
        let db = |e: rusqlite::Error| SendError::new(format!("{path}: {e}"));
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map([after, limit], Row::from_sql)
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        Ok(rows)
    }

    /// Sends batches until the log has no row after the cursor, `stop` says so, or a send
    /// fails (the failure is recorded in the status file and returned).
    pub(crate) fn drain(&mut self, stop: &dyn Fn() -> bool) -> Result<Progress, SendError> {
        let mut progress = Progress::default();
        loop {
            if stop() {
                return Ok(progress);
            }
            let rows = self.batch().inspect_err(|e| self.failed(e))?;
            let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
                return Ok(progress);
            };
            if self.state.seq > 0 && first.seq != self.state.seq + 1 {
                tracing::warn!(
                    from = self.state.seq + 1,
                    to = first.seq - 1,
                    "audit rows were pruned before they were forwarded (prune_unforwarded = true)"
                );
            }
            let accepted = self.sink.send(&rows).inspect_err(|e| self.failed(e))?;
            self.state.seq = last.seq;
            self.state.hash = Some(last.hash.clone());
            self.state.acked_at = Some(time::now());
            self.state.last_error = None;
            self.state.last_error_at = None;
            self.state.retry_at = None;
            if let Some(note) = accepted.rejected {
                tracing::warn!(note = %note, "the collector took rows but dropped some");
                self.state.last_rejection = Some(note);
            }
            self.save();
            self.backoff = self.settings.interval;
            progress.rows += rows.len() as u64;
            progress.batches += 1;
        }
    }

    /// Records a failure and computes the wait before the next attempt.
    fn failed(&mut self, error: &SendError) {
        let wait = error
            .retry_after
            .unwrap_or(self.backoff)
            .min(self.settings.max_backoff);
        self.backoff = (self.backoff * 2).min(self.settings.max_backoff);
        tracing::debug!(error = %error.message, ?wait, "forwarding failed; retrying");
        self.state.last_error = Some(error.message.clone());
        self.state.last_error_at = Some(time::now());
        self.state.retry_at = Some(time::format(std::time::SystemTime::now() + wait));
        self.save();
        self.pending_wait = wait;
    }

    fn save(&self) {
        if let Err(e) = self.state.save(&self.db) {
            tracing::warn!(error = %e, "cannot write the forwarding cursor");
        }
    }

    /// Forwards until `control` says stop: new rows every `interval`, retries with backoff
    /// after a failure. During an exit flush it stops once caught up, at the deadline, or
    /// at the first failure.
    pub(crate) fn run(&mut self, control: &Control) {
        let mut first_failure = true;
        loop {
            let stop = || control.should_stop();
            let result = self.drain(&stop);
            let flushing = control.flushing();
            match result {
                Ok(_) if flushing => return,
                Ok(_) => {
                    first_failure = true;
                    if control.wait(self.settings.interval) {
                        return;
                    }
                }
                Err(e) => {
                    if first_failure {
                        tracing::warn!(error = %e.message, "cannot forward the audit log; its rows stay in the local log and are retried");
                        first_failure = false;
                    }
                    if flushing || control.wait(jitter(self.pending_wait)) {
                        return;
                    }
                }
            }
        }
    }
}

/// ±20 %, so many hosts that lost one collector do not all come back at the same instant.
fn jitter(wait: Duration) -> Duration {
    let r = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 1000.0;
    wait.mul_f64(0.8 + 0.4 * r)
}

/// Tells a forwarding thread when to stop.
#[derive(Default)]
pub(crate) struct Control {
    state: Mutex<ControlState>,
    wake: Condvar,
}

#[derive(Default)]
struct ControlState {
    stop: bool,
    /// Set when the process exits: send what is left until then.
    flush_until: Option<Instant>,
}

impl Control {
    fn lock(&self) -> std::sync::MutexGuard<'_, ControlState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn should_stop(&self) -> bool {
        let state = self.lock();
        state.stop || state.flush_until.is_some_and(|t| Instant::now() >= t)
    }

    fn flushing(&self) -> bool {
        self.lock().flush_until.is_some()
    }

    /// Waits up to `timeout`; `true` when the thread should stop instead of going on.
    /// A flush request ends the wait early (and returns `false`: there is work to do).
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .wake
            .wait_timeout_while(state, timeout, |s| !s.stop && s.flush_until.is_none())
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.stop || state.flush_until.is_some_and(|t| Instant::now() >= t)
    }

    fn set(&self, f: impl FnOnce(&mut ControlState)) {
        f(&mut self.lock());
        self.wake.notify_all();
    }
}

/// The forwarding thread of a `peta run`.
pub(crate) struct Handle {
    control: Arc<Control>,
    done: mpsc::Receiver<()>,
    exit_flush: Duration,
}

impl Handle {
    /// Starts the thread. It becomes the forwarder when it gets the lock, and builds its
    /// sink (resolving header secrets with `connect`) only then.
    pub(crate) fn start(db: &Path, settings: Settings, connect: Connect) -> Option<Handle> {
        let control = Arc::new(Control::default());
        let (tx, done) = mpsc::channel();
        let exit_flush = settings.exit_flush;
        let (db, for_thread) = (db.to_owned(), control.clone());
        let spawned = std::thread::Builder::new()
            .name("peta-forward".into())
            .spawn(move || {
                background(&db, settings, connect, &for_thread);
                let _ = tx.send(());
            });
        match spawned {
            Ok(_) => Some(Handle {
                control,
                done,
                exit_flush,
            }),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the audit forwarder; rows stay in the local log");
                None
            }
        }
    }

    /// At exit: lets the thread send what is left for up to `exit_flush`, then leaves it.
    pub(crate) fn finish(self) {
        let deadline = Instant::now() + self.exit_flush;
        self.control.set(|s| s.flush_until = Some(deadline));
        // A send in progress is bounded by its own timeout; exit does not wait for it.
        let _ = self
            .done
            .recv_timeout(self.exit_flush + Duration::from_millis(50));
        self.control.set(|s| s.stop = true);
    }
}

fn background(db: &Path, settings: Settings, connect: Connect, control: &Control) {
    let mut warned = false;
    let _lock = loop {
        match Lock::try_take(db) {
            Ok(Ok(lock)) => break lock,
            Ok(Err(holder)) => {
                tracing::debug!(?holder, "another peta forwards this audit log");
            }
            Err(e) if !warned => {
                tracing::warn!(error = %e, "cannot take the audit forwarding lock");
                warned = true;
            }
            Err(_) => {}
        }
        // An exiting session that is not the forwarder leaves its rows to the one that is.
        if control.flushing() || control.wait(settings.interval) {
            return;
        }
    };
    let sink = match connect(&settings) {
        Ok(sink) => sink,
        Err(e) => {
            tracing::error!(error = %e.message, "the audit log is not forwarded");
            let mut state = State::load(db, &settings.target());
            state.last_error = Some(e.message);
            state.last_error_at = Some(time::now());
            state.retry_at = None;
            let _ = state.save(db);
            return;
        }
    };
    Forwarder::new(db, settings, sink).run(control);
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::audit::forward::{Accepted, Protocol};
    use crate::audit::{AuditLog, Event, Sync};

    /// A log of `n` rows written by the real writer.
    fn log_with(dir: &Path, n: usize) -> PathBuf {
        let path = dir.join("audit.db");
        let settings = crate::audit::Settings {
            enabled: true,
            path: path.clone(),
            sync: Sync::Normal,
            retain: None,
            forward: None,
        };
        let log = AuditLog::open(&settings, "s", Some("srv"), Default::default());
        for i in 0..n {
            log.commit(Event {
                ts: time::now(),
                direction: "c2s",
                kind: "request",
                method: Some("tools/call".into()),
                tool: Some(format!("t{i}")),
                ..Event::default()
            })
            .expect("commit");
        }
        log.close();
        path
    }

    /// Fails the first `failures` sends, then takes everything; records what it took.
    struct Flaky {
        failures: usize,
        calls: Arc<AtomicUsize>,
        took: Arc<Mutex<Vec<i64>>>,
        retry_after: Option<Duration>,
    }

    impl Sink for Flaky {
        fn send(&mut self, rows: &[Row]) -> Result<Accepted, SendError> {
            if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
                return Err(SendError {
                    message: "collector down".into(),
                    retry_after: self.retry_after,
                });
            }
            self.took
                .lock()
                .expect("took")
                .extend(rows.iter().map(|r| r.seq));
            Ok(Accepted::default())
        }
        fn probe(&mut self) -> Result<String, SendError> {
            Ok("fine".into())
        }
    }

    fn settings() -> Settings {
        let mut s = Settings::new(Protocol::Syslog {
            host: "x".into(),
            port: 1,
            tls: false,
        });
        s.batch_size = 4;
        s.interval = Duration::from_millis(100);
        s.max_backoff = Duration::from_millis(350);
        s
    }

    #[test]
    fn the_cursor_moves_only_past_acknowledged_rows_and_backoff_grows_to_its_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = log_with(dir.path(), 10);
        let took = Arc::new(Mutex::new(Vec::new()));
        let sink = Flaky {
            failures: 3,
            calls: Arc::default(),
            took: took.clone(),
            retry_after: None,
        };
        let mut f = Forwarder::new(&db, settings(), Box::new(sink));
        let mut waits = Vec::new();
        for _ in 0..3 {
            let e = f.drain(&|| false).expect_err("down");
            assert_eq!(e.message, "collector down");
            assert_eq!(f.state().seq, 0, "nothing acknowledged, nothing skipped");
            waits.push(f.pending_wait);
        }
        assert_eq!(
            waits,
            [100, 200, 350].map(Duration::from_millis),
            "doubling, capped at max_backoff"
        );
        let saved = State::read(&db).expect("status written");
        assert_eq!(saved.last_error.as_deref(), Some("collector down"));
        let progress = f.drain(&|| false).expect("up");
        assert_eq!(
            progress,
            Progress {
                rows: 10,
                batches: 3
            }
        );
        assert_eq!(*took.lock().expect("took"), (1..=10).collect::<Vec<_>>());
        let saved = State::read(&db).expect("state");
        assert_eq!((saved.seq, saved.last_error), (10, None));
        assert_eq!(f.pending_wait, Duration::from_millis(350));
        assert_eq!(f.backoff, Duration::from_millis(100), "reset after success");
        // A new forwarder (a restart) starts after the cursor.
        let mut again = Forwarder::new(
            &db,
            settings(),
            Box::new(Flaky {
                failures: 0,
                calls: Arc::default(),
                took: took.clone(),
                retry_after: None,
            }),
        );
        assert_eq!(
            again.drain(&|| false).expect("nothing"),
            Progress::default()
        );
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = log_with(dir.path(), 2);
        let mut f = Forwarder::new(
            &db,
            settings(),
            Box::new(Flaky {
                failures: 2,
                calls: Arc::default(),
                took: Arc::default(),
                retry_after: Some(Duration::from_secs(30)),
            }),
        );
        f.drain(&|| false).expect_err("down");
        assert_eq!(f.pending_wait, Duration::from_millis(350));
    }

    #[test]
    fn a_replaced_log_is_sent_from_its_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = log_with(dir.path(), 3);
        let mut state = State::load(&db, &settings().target());
        state.seq = 50;
        state.hash = Some("ab".repeat(32));
        state.save(&db).expect("save");
        let took = Arc::new(Mutex::new(Vec::new()));
        let mut f = Forwarder::new(
            &db,
            settings(),
            Box::new(Flaky {
                failures: 0,
                calls: Arc::default(),
                took: took.clone(),
                retry_after: None,
            }),
        );
        f.drain(&|| false).expect("sent");
        assert_eq!(*took.lock().expect("took"), [1, 2, 3]);
    }
}
