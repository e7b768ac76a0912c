//! The `peta approve` console, session side: each `peta run` listens on its own Unix socket,
//! `<runtime>/peta/<session>.sock` (see [`SocketDir`] for where and the permission rules),
//! lists its pending questions to whoever connects, and takes their answers.
//!
//! # Who may connect
//!
//! The directory is 0700 and the socket 0600, and every accepted connection's peer uid
//! (`SO_PEERCRED` on Linux, `getpeereid` on macOS and the BSDs) must be peta's effective uid;
//! on Linux the peer must also live in the console's PID namespace and must not descend from
//! the server of a `peta run` session ([`peer`]). Any other connection is closed without a
//! word, and logged. The audit row of an answer names the answering process (pid and
//! executable).
//!
//! # Wire protocol
//!
//! Newline-delimited JSON, one object per line, both ways. A client sends:
//!
//! - `{"op":"list"}` → the listing, once:
//!   `{"session":"<id>","label":"<server>","pid":1234,"pending":[…],"recent":[…]}`.
//!   Each `pending` entry has the [`Request`] fields (`id`, `server`, `method`, `tool`,
//!   `rule`, `reason`, `message`, `arguments`, `annotations`, `pin`, `bytes_sha256`,
//!   `timeout_ms`) and `deadline_ms`, when it stops waiting (Unix milliseconds). `recent`
//!   holds the questions withdrawn without an answer from here in the last ten minutes
//!   (timed out, or answered elsewhere), with `withdrawn_ms` and `until_ms`.
//! - `{"op":"watch"}` → the listing now and again after every change, until either side
//!   closes. Other ops may still be sent on the same connection.
//! - `{"op":"answer","id":"peta-…","answer":"deny|once|session|for:10m|always"}` →
//!   `{"ok":true,"applied":"now"}` when it decided a waiting question;
//!   `{"ok":true,"applied":"retry"}` when the question had stopped waiting and the allow
//!   applies to the model's identical retry; `{"ok":true,"applied":"none"}` for a late deny
//!   (it was denied already); `{"ok":false,"error":"…"}` for an unknown id or a bad answer,
//!   and `{"ok":false,"error":"…","decided":true}` for an id that was decided already.
//!
//! A line that is not a JSON object with a known `op` gets `{"ok":false,"error":"…"}` and
//! the connection stays open; blank lines are ignored. A line longer than 64 KiB gets the
//! error reply and the connection is closed. Unknown fields are ignored.
//!
//! # Never in the relay's way
//!
//! The relay only touches a mutex-guarded list and a change signal; every client has its own
//! task. A watcher is sent the newest listing when it can take one (changes in between fold
//! into one), and a client that does not read its replies for five seconds is dropped. At
//! most 16 clients are served at once and 64 questions are listed; past that the console
//! stays out of the question and the other channels (or the timeout) decide.
//!
//! On platforms without Unix sockets (Windows) the console is never available.

pub(crate) mod client;
pub(crate) mod dir;
pub(crate) mod peer;
pub(crate) mod protocol;
#[cfg(all(test, unix))]
mod tests;

pub(crate) use dir::{ConsoleError, SocketDir};

use super::{Answer, Request};

/// How long a question withdrawn without an answer can still be answered for its retry.
pub(crate) const KEEP_RECENT: std::time::Duration = std::time::Duration::from_secs(600);

/// Called with a question that had stopped waiting and the allowing answer the console user
/// then gave; the session makes the model's identical retry go through without asking
/// (`Grants::allow_retry`). It runs on the console's task, so it must not block.
pub(crate) type OnLate = Box<dyn Fn(&Request, Answer) + Send + Sync>;

#[cfg(unix)]
pub(crate) use unix::Console;

#[cfg(not(unix))]
pub(crate) use unsupported::Console;

#[cfg(unix)]
mod unix {
    use std::collections::VecDeque;
    use std::future::Future;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};
    use std::pin::Pin;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
    use std::task::{Context, Poll};
    use std::time::{Duration, Instant, SystemTime};

    use tokio::io::{AsyncWriteExt, BufReader};
    use tokio::net::unix::OwnedWriteHalf;
    use tokio::net::{UnixListener, UnixStream};
    use tokio::sync::{oneshot, watch};
    use tokio::task::{JoinHandle, JoinSet};

    use super::dir::{ConsoleError, SocketDir};
    use super::peer::{self, Peer};
    use super::protocol::{
        self, Applied, Line, Listing, MAX_CLIENT_LINE, Op, Pending, Recent, Reply, WireRequest,
    };
    use super::{KEEP_RECENT, OnLate};
    use crate::approval::{Answer, Asking, Channel, Request};

    /// At most this many withdrawn questions are kept for late answers; the oldest go first.
    const MAX_RECENT: usize = 64;
    /// Decided ids remembered, to tell a second answer that it comes too late.
    const MAX_DECIDED: usize = 256;
    /// Questions listed at once; past this the console stays out of new ones.
    const MAX_PENDING: usize = 64;
    /// Console clients served at once; more are closed at once.
    const MAX_CLIENTS: usize = 16;
    /// A client that does not take a reply within this long is dropped.
    const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

    /// One session's console: its socket, its questions, its clients.
    ///
    /// Start it inside the session's tokio runtime (it spawns its accept loop there). Dropping
    /// it stops serving and removes the socket.
    pub(crate) struct Console {
        shared: Arc<Shared>,
        serving: JoinHandle<()>,
        socket: PathBuf,
        /// The socket file's (device, inode), so dropping removes ours and nothing else.
        identity: (u64, u64),
    }

    impl std::fmt::Debug for Console {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.debug_struct("Console")
                .field("socket", &self.socket)
                .finish_non_exhaustive()
        }
    }

    struct Shared {
        /// Who answered each question decided here, for its audit row.
        answerers: Mutex<std::collections::HashMap<String, String>>,
        session: String,
        label: String,
        on_late: OnLate,
        keep_recent: Duration,
        state: Mutex<State>,
        /// Bumped on every change of the lists; each watcher holds a receiver.
        changed: watch::Sender<()>,
        listening: AtomicBool,
    }

    #[derive(Default)]
    struct State {
        pending: Vec<Waiting>,
        recent: VecDeque<Withdrawn>,
        decided: VecDeque<Decided>,
    }

    struct Waiting {
        request: Request,
        deadline_ms: u64,
        answer: oneshot::Sender<Answer>,
    }

    struct Withdrawn {
        request: Request,
        withdrawn_ms: u64,
        until: Instant,
        until_ms: u64,
    }

    struct Decided {
        id: String,
        how: String,
        until: Instant,
    }

    impl State {
        fn prune(&mut self, now: Instant) {
            self.recent.retain(|w| w.until > now);
            self.decided.retain(|d| d.until > now);
        }

        fn decided(&mut self, id: &str, how: String, until: Instant) {
            if self.decided.len() >= MAX_DECIDED {
                self.decided.pop_front();
            }
            self.decided.push_back(Decided {
                id: id.to_owned(),
                how,
                until,
            });
        }
    }

    impl Console {
        /// Listens in the user's socket directory ([`SocketDir::from_env`]). `session` is the
        /// session's id (the socket's name), `label` the server's name for people.
        pub(crate) fn start(
            session: &str,
            label: &str,
            on_late: OnLate,
        ) -> Result<Console, ConsoleError> {
            Console::start_in(&SocketDir::from_env(), session, label, on_late)
        }

        /// Listens in `dir`.
        pub(crate) fn start_in(
            dir: &SocketDir,
            session: &str,
            label: &str,
            on_late: OnLate,
        ) -> Result<Console, ConsoleError> {
            Console::start_with(dir, session, label, on_late, KEEP_RECENT)
        }

        pub(super) fn start_with(
            dir: &SocketDir,
            session: &str,
            label: &str,
            on_late: OnLate,
            keep_recent: Duration,
        ) -> Result<Console, ConsoleError> {
            let socket = dir.socket(session)?;
            dir.prepare()?;
            let failed = |e| ConsoleError::io(&socket, e);
            let listener = UnixListener::bind(&socket).map_err(failed)?;
            // The directory already keeps others out; the mode says so on the socket too.
            let identity = (|| {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))?;
                let meta = std::fs::symlink_metadata(&socket)?;
                Ok((meta.dev(), meta.ino()))
            })()
            .map_err(|e| {
                let _ = std::fs::remove_file(&socket);
                failed(e)
            })?;
            let shared = Arc::new(Shared {
                answerers: Mutex::default(),
                session: session.to_owned(),
                label: label.to_owned(),
                on_late,
                keep_recent,
                state: Mutex::default(),
                changed: watch::Sender::new(()),
                listening: AtomicBool::new(true),
            });
            let serving = tokio::spawn(serve(listener, shared.clone()));
            Ok(Console {
                shared,
                serving,
                socket,
                identity,
            })
        }

        /// The socket's path.
        pub(crate) fn socket(&self) -> &Path {
            &self.socket
        }

        /// The session calls this when another channel decided `id`, so the console stops
        /// offering it for a late answer.
        pub(crate) fn settled(&self, id: &str) {
            let shared = &self.shared;
            {
                let mut state = shared.lock();
                let before = state.recent.len();
                state.recent.retain(|w| w.request.id != id);
                if state.recent.len() == before {
                    return;
                }
                let until = Instant::now() + shared.keep_recent;
                state.decided(id, "it was decided in the session".into(), until);
            }
            shared.notify();
        }
    }

    impl Drop for Console {
        fn drop(&mut self) {
            self.shared.listening.store(false, Ordering::SeqCst);
            // Aborting the accept loop drops its set of client tasks, which aborts them.
            self.serving.abort();
            if let Ok(meta) = std::fs::symlink_metadata(&self.socket)
                && (meta.dev(), meta.ino()) == self.identity
            {
                let _ = std::fs::remove_file(&self.socket);
            }
        }
    }

    impl Channel for Console {
        fn name(&self) -> &'static str {
            "console"
        }

        /// While the socket is listening and still in place.
        fn available(&self) -> bool {
            self.shared.listening.load(Ordering::SeqCst)
                && !self.serving.is_finished()
                && self.socket.exists()
        }

        /// While a `peta approve --watch` follows this session.
        fn watched(&self) -> bool {
            self.shared.changed.receiver_count() > 0
        }

        fn answered_by(&self, id: &str) -> Option<String> {
            self.shared
                .answerers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(id)
        }

        fn ask<'a>(&'a self, request: &'a Request) -> Asking<'a> {
            match self.shared.register(request) {
                Some(answer) => Box::pin(Asked {
                    shared: &self.shared,
                    request,
                    answer,
                    settled: false,
                }),
                None => Box::pin(std::future::ready(None)),
            }
        }
    }

    /// A question being asked; dropping it before it resolved withdraws it.
    struct Asked<'a> {
        shared: &'a Shared,
        request: &'a Request,
        answer: oneshot::Receiver<Answer>,
        settled: bool,
    }

    impl Future for Asked<'_> {
        type Output = Option<Answer>;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Answer>> {
            let this = &mut *self;
            match Pin::new(&mut this.answer).poll(cx) {
                Poll::Ready(answer) => {
                    this.settled = true;
                    Poll::Ready(answer.ok())
                }
                Poll::Pending => Poll::Pending,
            }
        }
    }

    impl Drop for Asked<'_> {
        fn drop(&mut self) {
            if !self.settled {
                // An answer can arrive after the last poll and before the drop; it is then a
                // late answer like any other.
                let unconsumed = self.answer.try_recv().ok();
                self.shared.withdraw(self.request, unconsumed);
            }
        }
    }

    impl Shared {
        fn lock(&self) -> MutexGuard<'_, State> {
            // The state stays consistent across a panic elsewhere: every change is one push
            // or one removal.
            self.state.lock().unwrap_or_else(PoisonError::into_inner)
        }

        fn notify(&self) {
            self.changed.send_replace(());
        }

        fn register(&self, request: &Request) -> Option<oneshot::Receiver<Answer>> {
            let (tx, rx) = oneshot::channel();
            {
                let mut state = self.lock();
                if state.pending.len() >= MAX_PENDING {
                    tracing::warn!(
                        "the approval console already lists {MAX_PENDING} questions; {} is not shown there",
                        request.id
                    );
                    return None;
                }
                state.pending.push(Waiting {
                    request: request.clone(),
                    deadline_ms: protocol::unix_ms(SystemTime::now() + request.timeout),
                    answer: tx,
                });
            }
            self.notify();
            Some(rx)
        }

        fn withdraw(&self, request: &Request, unconsumed: Option<Answer>) {
            let late = {
                let mut state = self.lock();
                match state
                    .pending
                    .iter()
                    .position(|w| w.request.id == request.id)
                {
                    Some(i) => {
                        let waiting = state.pending.remove(i);
                        if state.recent.len() >= MAX_RECENT {
                            state.recent.pop_front();
                        }
                        let now = SystemTime::now();
                        state.recent.push_back(Withdrawn {
                            request: waiting.request,
                            withdrawn_ms: protocol::unix_ms(now),
                            until: Instant::now() + self.keep_recent,
                            until_ms: protocol::unix_ms(now + self.keep_recent),
                        });
                        None
                    }
                    None => unconsumed.filter(|a| a.allows()),
                }
            };
            match late {
                Some(answer) => (self.on_late)(request, answer),
                None => self.notify(),
            }
        }

        fn answer(&self, id: &str, answer: Answer, peer: &Peer) -> Reply {
            let until = Instant::now() + self.keep_recent;
            let (reply, late) = {
                let mut state = self.lock();
                state.prune(Instant::now());
                if let Some(i) = state.pending.iter().position(|w| w.request.id == id) {
                    let waiting = state.pending.remove(i);
                    self.answerers
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(id.to_owned(), peer.to_string());
                    tracing::info!(question = id, by = %peer, "answered at the console");
                    // The receiver lives as long as the entry is listed (withdrawing removes
                    // it first), so this reaches the asking future.
                    let _ = waiting.answer.send(answer);
                    let how = format!("it was answered here ({})", answer.label());
                    state.decided(id, how, until);
                    (Reply::applied(Applied::Now), None)
                } else if let Some(i) = state.recent.iter().position(|w| w.request.id == id) {
                    let withdrawn = state.recent.remove(i).expect("found above");
                    let how = format!(
                        "it was answered here after it stopped waiting ({})",
                        answer.label()
                    );
                    state.decided(id, how, until);
                    if answer.allows() {
                        (Reply::applied(Applied::Retry), Some(withdrawn.request))
                    } else {
                        (Reply::applied(Applied::None), None)
                    }
                } else if let Some(decided) = state.decided.iter().find(|d| d.id == id) {
                    (
                        Reply::decided(format!("{id} is already decided: {}", decided.how)),
                        None,
                    )
                } else {
                    (
                        Reply::error(format!(
                            "no request {id} in this session: unknown, or decided more than {} minutes ago",
                            self.keep_recent.as_secs().div_ceil(60)
                        )),
                        None,
                    )
                }
            };
            if reply.ok {
                self.notify();
            }
            if let Some(request) = late {
                (self.on_late)(&request, answer);
            }
            reply
        }

        fn listing(&self) -> Listing {
            let mut state = self.lock();
            state.prune(Instant::now());
            Listing {
                session: self.session.clone(),
                label: self.label.clone(),
                pid: std::process::id(),
                pending: state
                    .pending
                    .iter()
                    .map(|w| Pending {
                        request: WireRequest::from(&w.request),
                        deadline_ms: w.deadline_ms,
                    })
                    .collect(),
                recent: state
                    .recent
                    .iter()
                    .map(|w| Recent {
                        request: WireRequest::from(&w.request),
                        withdrawn_ms: w.withdrawn_ms,
                        until_ms: w.until_ms,
                    })
                    .collect(),
            }
        }

        /// The reply to one line from a client, and whether it asked to watch.
        fn handle(&self, text: &[u8], peer: &Peer) -> (Vec<u8>, bool) {
            let op = std::str::from_utf8(text)
                .map_err(|e| e.to_string())
                .and_then(|t| crate::wire::strict::check(t).map_err(|e| e.to_string()))
                .and_then(|()| serde_json::from_slice::<Op>(text).map_err(|e| e.to_string()));
            let reply = match op {
                Ok(Op::List) => return (protocol::line(&self.listing()), false),
                Ok(Op::Watch) => return (protocol::line(&self.listing()), true),
                Ok(Op::Answer { id, answer }) => match protocol::parse_answer(&answer) {
                    Ok(answer) => self.answer(&id, answer, peer),
                    Err(e) => Reply::error(format!("bad answer: {e}")),
                },
                Err(e) => Reply::error(format!(
                    "not a console request ({{\"op\":\"list\"}}, {{\"op\":\"watch\"}} or {{\"op\":\"answer\",…}}): {e}"
                )),
            };
            (protocol::line(&reply), false)
        }
    }

    async fn serve(listener: UnixListener, shared: Arc<Shared>) {
        let mut clients = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let peer = match peer::admit(&stream) {
                            Ok(peer) => peer,
                            Err((why, pid)) => {
                                tracing::warn!("approval console: refused a connection from pid {pid:?}: {why}");
                                continue;
                            }
                        };
                        if clients.len() >= MAX_CLIENTS {
                            tracing::warn!("approval console: {MAX_CLIENTS} clients already connected; closing a new one");
                            continue;
                        }
                        clients.spawn(client(stream, shared.clone(), peer));
                    }
                    Err(e) => {
                        // Out of descriptors and the like: wait rather than spin.
                        tracing::warn!("approval console: cannot accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = clients.join_next() => {}
            }
        }
    }

    async fn client(stream: UnixStream, shared: Arc<Shared>, peer: Peer) {
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        let mut buf = Vec::new();
        let mut watching: Option<watch::Receiver<()>> = None;
        loop {
            let out = tokio::select! {
                line = protocol::read_line(&mut reader, &mut buf, MAX_CLIENT_LINE) => match line {
                    Ok(Line::Whole) => {
                        let text = std::mem::take(&mut buf);
                        if text.trim_ascii().is_empty() {
                            continue;
                        }
                        let (out, watch) = shared.handle(&text, &peer);
                        if watch && watching.is_none() {
                            watching = Some(shared.changed.subscribe());
                        }
                        out
                    }
                    Ok(Line::TooLong) => {
                        let reply = Reply::error(format!(
                            "line longer than {MAX_CLIENT_LINE} bytes; closing"
                        ));
                        let _ = send(&mut write, &protocol::line(&reply)).await;
                        return;
                    }
                    Ok(Line::End) | Err(_) => return,
                },
                () = changed(&mut watching) => protocol::line(&shared.listing()),
            };
            if send(&mut write, &out).await.is_err() {
                return;
            }
        }
    }

    /// Resolves on the next change for a watcher; never for anyone else.
    async fn changed(watching: &mut Option<watch::Receiver<()>>) {
        if let Some(rx) = watching
            && rx.changed().await.is_ok()
        {
            return;
        }
        std::future::pending().await
    }

    async fn send(write: &mut OwnedWriteHalf, bytes: &[u8]) -> std::io::Result<()> {
        match tokio::time::timeout(WRITE_TIMEOUT, write.write_all(bytes)).await {
            Ok(written) => written,
            Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
        }
    }
}

/// Windows has no Unix sockets here (a named pipe would be the way); the console is never
/// available there, and the other channels or the timeout decide.
#[cfg(not(unix))]
mod unsupported {
    use super::{ConsoleError, OnLate, SocketDir};
    use crate::approval::{Asking, Channel, Request};

    #[derive(Debug)]
    pub(crate) struct Console;

    impl Console {
        pub(crate) fn start(_: &str, _: &str, _: OnLate) -> Result<Console, ConsoleError> {
            Ok(Console)
        }

        pub(crate) fn start_in(
            _: &SocketDir,
            _: &str,
            _: &str,
            _: OnLate,
        ) -> Result<Console, ConsoleError> {
            Ok(Console)
        }

        pub(crate) fn settled(&self, _: &str) {}
    }

    impl Channel for Console {
        fn name(&self) -> &'static str {
            "console"
        }

        fn available(&self) -> bool {
            false
        }

        fn ask<'a>(&'a self, _: &'a Request) -> Asking<'a> {
            Box::pin(std::future::ready(None))
        }
    }
}
