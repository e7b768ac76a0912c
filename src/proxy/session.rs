//! One `peta run` session: the child, the relay between it and the client, its stderr, the
//! signals peta receives, and the shutdown sequence that leaves no process behind.

use std::io;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::child::Child;
use super::gate::Gate;
use super::relay::{self, Ended, Limits, Signals};
use super::{stdio, sys};
use crate::audit::AuditLog;
use crate::secrets::redact::Redactor;

/// Longest child stderr line passed on in one piece; longer lines are passed on in parts.
const STDERR_LINE: usize = 64 * 1024;

/// How a session ended.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The child's exit status.
    pub(crate) status: ExitStatus,
    /// The signal that asked peta to stop, if one did.
    pub(crate) signal: Option<i32>,
}

impl Outcome {
    /// peta's exit code: 128+signal when peta was stopped by a signal, otherwise the child's
    /// own code (or 128+signal if the child died of one).
    pub(crate) fn exit_code(&self) -> i32 {
        if let Some(sig) = self.signal {
            return 128 + sig;
        }
        self.status
            .code()
            .or_else(|| sys::signal_exit_code(&self.status))
            .unwrap_or(1)
    }
}

/// What ended the wait for the session's end.
enum Trigger {
    ChildExited(io::Result<ExitStatus>),
    RelayEnded(Ended),
    ClientClosed,
    Signal(i32),
}

/// Called once, with the first signal that asks peta to stop, before the shutdown goes on:
/// the session's end is recorded there, while peta still has the time to (a client that sent
/// the signal kills peta half a second later).
pub(crate) type OnSignal = Box<dyn FnOnce(i32) + Send>;

/// Runs the session to its end. `shutdown` is taken before the child is started, so a
/// signal that arrives while it starts asks for the orderly shutdown too.
#[allow(
    clippy::too_many_arguments,
    reason = "the session's parts, each used once"
)]
pub(crate) async fn run(
    shutdown: ShutdownSignals,
    mut child: Child,
    limits: Limits,
    grace: Duration,
    audit: Arc<AuditLog>,
    redactor: Arc<Redactor>,
    gate: Arc<Gate>,
    outbox: Option<mpsc::UnboundedReceiver<Vec<u8>>>,
    on_signal: OnSignal,
) -> io::Result<Outcome> {
    let signals = Arc::new(Signals::default());
    let stderr = tokio::spawn(forward_stderr(child.stderr, redactor.clone()));
    let setup = relay::Setup {
        limits,
        audit,
        redactor,
        signals: signals.clone(),
        gate,
        outbox,
    };
    let mut relay = tokio::spawn(relay::run(
        setup,
        stdio::stdin(),
        stdio::stdout(),
        child.stdin,
        child.stdout,
    ));
    let mut stop = Stop {
        shutdown,
        group: child.group,
        grace,
        first: None,
        on_signal: Some(on_signal),
        relay: signals.clone(),
    };
    let trigger = tokio::select! {
        status = child.process.wait() => Trigger::ChildExited(status),
        ended = &mut relay => Trigger::RelayEnded(ended.unwrap_or(Ended::ServerClosed)),
        () = signals.client_closed.notified() => Trigger::ClientClosed,
        sig = stop.shutdown.recv() => Trigger::Signal(sig),
    };
    let status = match trigger {
        Trigger::ChildExited(status) => status?,
        Trigger::RelayEnded(ended) => {
            tracing::debug!(?ended, "relay ended; stopping the server");
            stop.end(&mut child.process, false).await?
        }
        Trigger::ClientClosed => {
            tracing::debug!("client closed its input; waiting for the server to exit");
            stop.end(&mut child.process, false).await?
        }
        Trigger::Signal(sig) => {
            stop.heard(sig);
            stop.end(&mut child.process, true).await?
        }
    };
    clear_group(child.group, grace).await;
    // The server's output ends once its group is gone; let the relay pass on what is left
    // and answer what is still pending, but never wait on it past the grace time.
    if !relay.is_finished() && tokio::time::timeout(grace, &mut relay).await.is_err() {
        relay.abort();
    }
    let _ = tokio::time::timeout(Duration::from_millis(200), stderr).await;
    Ok(Outcome {
        status,
        signal: stop.first,
    })
}

/// The shutdown of a running server, and the signals peta receives meanwhile.
struct Stop {
    shutdown: ShutdownSignals,
    group: sys::Group,
    grace: Duration,
    /// The first signal that asked peta to stop.
    first: Option<i32>,
    on_signal: Option<OnSignal>,
    relay: Arc<Signals>,
}

impl Stop {
    /// A signal asked peta to stop. The server gets it at once, as it would from its client
    /// directly; the first one also stops the relay reading the client and records the end.
    fn heard(&mut self, sig: i32) {
        self.group.forward(sig);
        if self.first.is_some() {
            tracing::debug!(signal = sig, "passed on a further signal");
            return;
        }
        tracing::info!(
            signal = sig,
            "stopping on signal; passed it on to the server"
        );
        self.first = Some(sig);
        self.relay.stop_input.notify_one();
        if let Some(on_signal) = self.on_signal.take() {
            on_signal(sig);
        }
    }

    /// Waits for the server to exit: after its input closed (or a signal was passed on)
    /// for the grace time, then after SIGTERM for the grace time, then SIGKILL, to its whole
    /// group. A signal peta receives on the way is passed on at once, and the first one starts
    /// the grace time afresh: the server was just asked to stop in a new way.
    async fn end(
        &mut self,
        process: &mut tokio::process::Child,
        mut signalled: bool,
    ) -> io::Result<ExitStatus> {
        loop {
            let deadline = tokio::time::Instant::now() + self.grace;
            let restart = loop {
                tokio::select! {
                    status = process.wait() => return status,
                    sig = self.shutdown.recv() => {
                        let first = self.first.is_none();
                        self.heard(sig);
                        if first && !signalled {
                            break true;
                        }
                    }
                    () = tokio::time::sleep_until(deadline) => break false,
                }
            };
            if restart {
                signalled = true;
                continue;
            }
            break;
        }
        tracing::debug!("the server did not exit in its grace time; sending SIGTERM");
        self.group.terminate();
        let deadline = tokio::time::Instant::now() + self.grace;
        loop {
            tokio::select! {
                status = process.wait() => return status,
                sig = self.shutdown.recv() => self.heard(sig),
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        tracing::warn!("the server ignored SIGTERM; killing it");
        self.group.kill();
        process.wait().await
    }
}

/// Ends what is left of the group once the child has exited: processes it started that are
/// still running get SIGTERM, then SIGKILL after `grace`.
async fn clear_group(group: sys::Group, grace: Duration) {
    if !group.alive() {
        return;
    }
    tracing::debug!("processes the server started are still running; ending them");
    group.terminate();
    let deadline = tokio::time::Instant::now() + grace;
    while group.alive() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if group.alive() {
        group.kill();
    }
}

/// Passes the child's stderr to peta's stderr line by line.
async fn forward_stderr<R: AsyncRead + Unpin>(stderr: R, redactor: Arc<Redactor>) {
    let mut reader = BufReader::with_capacity(STDERR_LINE, stderr);
    let mut out = tokio::io::stderr();
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        let done = loop {
            let buf = match reader.fill_buf().await {
                Ok([]) => break true,
                Ok(buf) => buf,
                Err(_) => break true,
            };
            let room = STDERR_LINE - line.len();
            let (take, complete) = match memchr::memchr(b'\n', buf) {
                Some(at) if at < room => (at + 1, true),
                _ => (buf.len().min(room), false),
            };
            line.extend_from_slice(&buf[..take]);
            reader.consume(take);
            if complete || line.len() == STDERR_LINE {
                break false;
            }
        };
        if !line.is_empty() {
            if !line.ends_with(b"\n") {
                line.push(b'\n');
            }
            let redacted = redactor.bytes(&line);
            if out.write_all(&shown_plainly(&redacted)).await.is_err() {
                return;
            }
            let _ = out.flush().await;
        }
        if done {
            return;
        }
    }
}

/// A child's stderr line as peta passes it on: terminal controls (escape sequences, `\r`
/// overwrites, bidi overrides) become visible escapes, so a server cannot move the cursor,
/// clear lines or restyle the terminal where peta asks its questions (E2). Tabs and the
/// line's own newline stay.
fn shown_plainly(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let text = String::from_utf8_lossy(body);
    let plain = |c: char| c == '\t' || !(c.is_control() || crate::wire::strict::is_format(c));
    if text.chars().all(plain) {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if plain(c) {
            out.push(c);
        } else {
            out.extend(c.escape_unicode());
        }
    }
    out.push('\n');
    std::borrow::Cow::Owned(out.into_bytes())
}

/// SIGINT, SIGTERM and SIGHUP all ask for the same orderly shutdown.
#[cfg(unix)]
pub(crate) fn shutdown_signals() -> io::Result<ShutdownSignals> {
    use tokio::signal::unix::{SignalKind, signal};
    Ok(ShutdownSignals {
        int: signal(SignalKind::interrupt())?,
        term: signal(SignalKind::terminate())?,
        hup: signal(SignalKind::hangup())?,
    })
}

#[cfg(unix)]
pub(crate) struct ShutdownSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl ShutdownSignals {
    async fn recv(&mut self) -> i32 {
        tokio::select! {
            _ = self.int.recv() => libc::SIGINT,
            _ = self.term.recv() => libc::SIGTERM,
            _ = self.hup.recv() => libc::SIGHUP,
        }
    }
}

#[cfg(not(unix))]
pub(crate) fn shutdown_signals() -> io::Result<ShutdownSignals> {
    Ok(ShutdownSignals)
}

#[cfg(not(unix))]
pub(crate) struct ShutdownSignals;

#[cfg(not(unix))]
impl ShutdownSignals {
    async fn recv(&mut self) -> i32 {
        let _ = tokio::signal::ctrl_c().await;
        2
    }
}

#[cfg(test)]
mod tests {
    use super::shown_plainly;

    #[test]
    fn child_stderr_cannot_drive_the_terminal() {
        assert_eq!(
            &*shown_plainly(b"plain\tline \xff\n"),
            b"plain\tline \xff\n",
            "untouched"
        );
        assert_eq!(
            String::from_utf8_lossy(&shown_plainly(b"\x1b[2K\rApprove? [y/N] \xe2\x80\xaey\n")),
            "\\u{1b}[2K\\u{d}Approve? [y/N] \\u{202e}y\n"
        );
        assert_eq!(&*shown_plainly(b"no newline\x07"), b"no newline\\u{7}\n");
    }
}
