//! The `peta approve` side of the console: find the running sessions, list their questions,
//! answer one, follow a session's changes.
//!
//! A socket in the directory that nobody listens on any more (its session was killed) is
//! removed when met. A session must run as the same user; one that does not, or that does
//! not reply within five seconds, is skipped with a warning.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::dir::{ConsoleError, SocketDir};
use super::protocol::{self, Applied, Line, Listing, MAX_SESSION_LINE, Op, Reply};
use crate::approval::Answer;

/// How long a session gets to connect and reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// A running session, as it described itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    pub(crate) socket: PathBuf,
    pub(crate) listing: Listing,
}

impl Session {
    /// Whether `id` is waiting here, or can still be answered for its retry.
    pub(crate) fn holds(&self, id: &str) -> bool {
        self.listing.pending.iter().any(|p| p.request.id == id)
            || self.listing.recent.iter().any(|r| r.request.id == id)
    }
}

/// Why an answer was not applied.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AnswerError {
    #[error("no peta sessions are running")]
    NoSessions,
    #[error("no running session has a request {id}")]
    Unknown { id: String },
    #[error("{message}")]
    Refused { message: String, decided: bool },
    #[error(transparent)]
    Dir(#[from] ConsoleError),
    #[error("cannot reach the session at {}", socket.display())]
    Io {
        socket: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl AnswerError {
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            AnswerError::NoSessions => Some(
                "requests wait in the `peta run` sessions your MCP client started; none is running as your user".into(),
            ),
            AnswerError::Unknown { .. } => Some(
                "see the waiting ones with `peta approve --list`; a request is forgotten 10 minutes after it stops waiting".into(),
            ),
            AnswerError::Refused { decided: true, .. } => {
                Some("see the requests still waiting with `peta approve --list`".into())
            }
            AnswerError::Refused { .. } => Some("peta approve --list".into()),
            AnswerError::Dir(e) => e.hint(),
            AnswerError::Io { .. } => Some("the session may have just ended; try again".into()),
        }
    }
}

/// The session sockets in `dirs` (see [`SocketDir::search`]). A problem with the first
/// place (this environment's) is an error; one with another place is a warning, and that
/// place is skipped: a directory someone else made in `/tmp` must not stop the search.
pub(crate) fn sockets(dirs: &[SocketDir]) -> Result<Vec<PathBuf>, ConsoleError> {
    let mut all = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        match sockets_in(dir) {
            Ok(found) => all.extend(found),
            Err(e) if i == 0 => return Err(e),
            Err(e) => tracing::warn!("not looking for sessions there: {e}"),
        }
    }
    Ok(all)
}

/// The session sockets in `dir` (nothing when it does not exist yet).
fn sockets_in(dir: &SocketDir) -> Result<Vec<PathBuf>, ConsoleError> {
    if !dir.check_existing()? {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(dir.path()).map_err(|e| ConsoleError::io(dir.path(), e))?;
    let mut sockets: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| sys::is_socket(&t)))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sock"))
        .collect();
    sockets.sort();
    Ok(sockets)
}

/// Every running session in `dirs` with its questions, by label.
pub(crate) async fn sessions(dirs: &[SocketDir]) -> Result<Vec<Session>, ConsoleError> {
    let mut found = Vec::new();
    for socket in sockets(dirs)? {
        if let Some(listing) = list(&socket).await {
            found.push(Session { socket, listing });
        }
    }
    found.sort_by(|a, b| {
        (&a.listing.label, &a.listing.session).cmp(&(&b.listing.label, &b.listing.session))
    });
    Ok(found)
}

/// One session's listing; `None` when it is gone (then cleaned) or unreachable (warned).
pub(crate) async fn list(socket: &Path) -> Option<Listing> {
    let listed = async {
        let Some(mut conn) = Conn::open(socket).await? else {
            return Ok(None);
        };
        conn.send(&Op::List).await?;
        conn.receive_in_time::<Listing>().await
    };
    match listed.await {
        Ok(listing) => listing,
        Err(e) => {
            tracing::warn!("skipping the session at {}: {e}", socket.display());
            None
        }
    }
}

/// Answers `id` in whichever running session holds it.
pub(crate) async fn answer(
    dirs: &[SocketDir],
    id: &str,
    answer: Answer,
) -> Result<(Session, Applied), AnswerError> {
    let sessions = sessions(dirs).await?;
    if sessions.is_empty() {
        return Err(AnswerError::NoSessions);
    }
    // The listing names the holder; failing that (decided, or it arrived since), every
    // session is asked, so one that remembers deciding it can say so.
    let (holders, others): (Vec<Session>, Vec<Session>) =
        sessions.into_iter().partition(|s| s.holds(id));
    let candidates = if holders.is_empty() { others } else { holders };
    let mut refusal = None;
    for session in candidates {
        match answer_at(&session.socket, id, answer).await {
            Ok(applied) => return Ok((session, applied)),
            Err(e @ AnswerError::Refused { decided: true, .. }) => refusal = Some(e),
            Err(e) => {
                if refusal.is_none() {
                    refusal = Some(e);
                }
            }
        }
    }
    match refusal {
        Some(e @ AnswerError::Refused { decided: true, .. }) => Err(e),
        _ => Err(AnswerError::Unknown { id: id.to_owned() }),
    }
}

/// Answers `id` in the session at `socket`.
pub(crate) async fn answer_at(
    socket: &Path,
    id: &str,
    answer: Answer,
) -> Result<Applied, AnswerError> {
    let failed = |source| AnswerError::Io {
        socket: socket.to_owned(),
        source,
    };
    let mut conn = Conn::open(socket)
        .await
        .map_err(failed)?
        .ok_or_else(|| failed(io::ErrorKind::NotFound.into()))?;
    conn.send(&Op::Answer {
        id: id.to_owned(),
        answer: protocol::answer_text(answer),
    })
    .await
    .map_err(failed)?;
    let reply: Reply = conn
        .receive_raw_in_time()
        .await
        .map_err(failed)?
        .ok_or_else(|| failed(io::ErrorKind::UnexpectedEof.into()))?;
    match (reply.ok, reply.applied) {
        (true, Some(applied)) => Ok(applied),
        _ => Err(AnswerError::Refused {
            message: reply
                .error
                .map(|e| crate::display::visible(&e))
                .unwrap_or_else(|| "the session did not take the answer".into()),
            decided: reply.decided,
        }),
    }
}

/// A `watch` connection to one session.
pub(crate) struct Watch {
    conn: Conn,
}

impl Watch {
    /// `None` when the session is gone (its stale socket is then removed).
    pub(crate) async fn open(socket: &Path) -> io::Result<Option<Watch>> {
        let Some(mut conn) = Conn::open(socket).await? else {
            return Ok(None);
        };
        conn.send(&Op::Watch).await?;
        Ok(Some(Watch { conn }))
    }

    /// The next listing; `None` when the session ended. Cancel-safe.
    pub(crate) async fn next(&mut self) -> io::Result<Option<Listing>> {
        self.conn.receive().await
    }
}

type Reader = Box<dyn AsyncRead + Unpin + Send>;
type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// One connection to a session.
struct Conn {
    reader: BufReader<Reader>,
    write: Writer,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects and checks that the session runs as us. `None` when nobody listens there:
    /// a socket left by a session that was killed is removed.
    async fn open(socket: &Path) -> io::Result<Option<Conn>> {
        let connected = tokio::time::timeout(REPLY_TIMEOUT, sys::connect(socket))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer to connect"))?;
        let (read, write) = match connected {
            Ok(halves) => halves,
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                tracing::debug!("removing the stale socket {}", socket.display());
                let _ = std::fs::remove_file(socket);
                return Ok(None);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(Conn {
            reader: BufReader::new(read),
            write,
            buf: Vec::new(),
        }))
    }

    async fn send(&mut self, op: &Op) -> io::Result<()> {
        tokio::time::timeout(REPLY_TIMEOUT, self.write.write_all(&protocol::line(op)))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the session does not read"))?
    }

    async fn receive_in_time<T: DeserializeOwned>(&mut self) -> io::Result<Option<T>> {
        tokio::time::timeout(REPLY_TIMEOUT, self.receive())
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the session did not reply"))?
    }

    async fn receive_raw_in_time<T: DeserializeOwned>(&mut self) -> io::Result<Option<T>> {
        tokio::time::timeout(REPLY_TIMEOUT, self.receive_raw())
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the session did not reply"))?
    }

    /// The next message as `T`; an error reply becomes an error.
    async fn receive<T: DeserializeOwned>(&mut self) -> io::Result<Option<T>> {
        let Some(value) = self.receive_raw::<serde_json::Value>().await? else {
            return Ok(None);
        };
        if value.get("ok") == Some(&serde_json::Value::Bool(false)) {
            let reply: Reply = serde_json::from_value(value).map_err(invalid)?;
            let error = reply.error.unwrap_or_default();
            return Err(io::Error::other(crate::display::visible(&error)));
        }
        serde_json::from_value(value).map(Some).map_err(invalid)
    }

    /// The next message as `T`, as it is. Cancel-safe: a partly read line is kept.
    async fn receive_raw<T: DeserializeOwned>(&mut self) -> io::Result<Option<T>> {
        match protocol::read_line(&mut self.reader, &mut self.buf, MAX_SESSION_LINE).await? {
            Line::End => Ok(None),
            Line::TooLong => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a reply longer than {MAX_SESSION_LINE} bytes"),
            )),
            Line::Whole => {
                let line = std::mem::take(&mut self.buf);
                serde_json::from_slice(&line).map(Some).map_err(invalid)
            }
        }
    }
}

fn invalid(e: serde_json::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

#[cfg(unix)]
mod sys {
    use std::io;
    use std::path::Path;

    use tokio::net::UnixStream;

    use super::{Reader, Writer};
    use crate::approval::console::dir::euid;

    pub(super) fn is_socket(kind: &std::fs::FileType) -> bool {
        std::os::unix::fs::FileTypeExt::is_socket(kind)
    }

    /// Connects, and refuses a session served by another user.
    pub(super) async fn connect(socket: &Path) -> io::Result<(Reader, Writer)> {
        let stream = UnixStream::connect(socket).await?;
        let uid = stream.peer_cred()?.uid();
        if uid != euid() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("it is served by another user (uid {uid})"),
            ));
        }
        let (read, write) = stream.into_split();
        Ok((Box::new(read), Box::new(write)))
    }
}

/// No Unix sockets: no sessions can be reached (see the console's module docs).
#[cfg(not(unix))]
mod sys {
    use std::io;
    use std::path::Path;

    use super::{Reader, Writer};

    pub(super) fn is_socket(_: &std::fs::FileType) -> bool {
        false
    }

    pub(super) async fn connect(_: &Path) -> io::Result<(Reader, Writer)> {
        Err(io::ErrorKind::Unsupported.into())
    }
}
