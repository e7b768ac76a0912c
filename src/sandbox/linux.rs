//! Linux: the server runs under bubblewrap, with peta's executable as the box's first
//! process (`init.rs`). peta learns that the box was set up, and that the server's command
//! could be executed, from one line the first process writes on a pipe before the client's
//! first byte is relayed; when bubblewrap fails instead, its own words say why.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::proxy::{child, sys};

/// How long bubblewrap and the first process get to report.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Options newer than some bubblewrap still in distributions (0.8.0 added
/// `--disable-userns`); left out, with a note, when bubblewrap does not know them.
const OPTIONAL: &[&str] = &["--disable-userns"];

/// How a start in the box failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The box could not be set up; bubblewrap's message.
    Setup(String),
    /// The box was set up but the server's command could not be executed.
    Exec(io::Error),
}

/// The bubblewrap executable: the first `bwrap` on peta's own PATH.
pub(crate) fn bwrap() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("bwrap"))
        .find(|p| {
            use std::os::unix::fs::PermissionsExt;
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The namespaces and limits every box gets: its own user namespace (no capabilities, no
/// further namespaces), PID namespace (it sees and signals only its own processes), IPC
/// namespace; it dies with peta. No `--new-session`: peta already made bubblewrap a session
/// leader without a terminal, and a new session would also take the box's first process
/// out of the process group peta signals.
pub(crate) fn namespaces(network: bool) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "--unshare-user",
        "--disable-userns",
        "--unshare-pid",
        "--unshare-ipc",
        "--die-with-parent",
        "--as-pid-1",
        "--cap-drop",
        "ALL",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    if !network {
        args.push("--unshare-net".into());
    }
    args
}

/// Whether a bare box (the namespaces and the base mounts, running `true`) can be set up:
/// tells a failure of this machine from a failure of one server's layout.
pub(crate) fn a_bare_box_works(bwrap: &Path) -> bool {
    let mut args = namespaces(true);
    args.retain(|a| !OPTIONAL.iter().any(|o| a.as_os_str() == *o));
    std::process::Command::new(bwrap)
        .args(args)
        .args([
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
            "--",
            "true",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts `argv` in a box made with `options`; retries once without the options an older
/// bubblewrap does not know.
pub(crate) async fn start(
    bwrap: &Path,
    options: &[OsString],
    argv: &[OsString],
    env: &[(OsString, OsString)],
) -> Result<child::Child, Failure> {
    match start_once(bwrap, options, argv, env).await {
        Err(Failure::Setup(message))
            if OPTIONAL
                .iter()
                .any(|o| message.contains(&format!("Unknown option {o}"))) =>
        {
            tracing::info!(
                "this bubblewrap is older than 0.8.0; servers can still create user namespaces inside their box"
            );
            let older: Vec<OsString> = options
                .iter()
                .filter(|o| !OPTIONAL.iter().any(|x| o.as_os_str() == *x))
                .cloned()
                .collect();
            start_once(bwrap, &older, argv, env).await
        }
        other => other,
    }
}

async fn start_once(
    bwrap: &Path,
    options: &[OsString],
    argv: &[OsString],
    env: &[(OsString, OsString)],
) -> Result<child::Child, Failure> {
    let setup = |e: io::Error| Failure::Setup(e.to_string());
    let exe = std::env::current_exe().map_err(setup)?;
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(setup(io::Error::last_os_error()));
    }
    // SAFETY: both were just created and are owned here.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let ready = write.as_raw_fd();
    let mut args = options.to_vec();
    args.push("--".into());
    args.push(exe.into_os_string());
    args.push("sandbox-init".into());
    args.push("--ready-fd".into());
    args.push(ready.to_string().into());
    args.push("--".into());
    args.extend(argv.iter().cloned());
    let mut command = child::command(bwrap.as_os_str(), &args, env);
    sys::isolate(&mut command);
    // SAFETY: runs between fork and exec, after `isolate`'s steps; signal and fcntl are
    // async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            // Only the box's first process acts on these: bubblewrap itself ignores them
            // (the box's first process sets its own), so a signal to the group reaches the
            // server through it instead of killing bubblewrap and the box with it.
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::signal(sig, libc::SIG_IGN);
            }
            let flags = libc::fcntl(ready, libc::F_GETFD);
            if flags < 0 || libc::fcntl(ready, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut started = child::start(command).map_err(setup)?;
    drop(write);
    let report = read_report(read).await;
    match report
        .as_deref()
        .map(|l| l.split_once(' ').unwrap_or((l, "")))
    {
        Some(("ok", _)) => Ok(started),
        Some(("exec", errno)) => {
            let _ = started.process.wait().await;
            Err(Failure::Exec(io::Error::from_raw_os_error(
                errno.trim().parse().unwrap_or(libc::ENOENT),
            )))
        }
        _ => {
            if report.is_none() {
                // Timed out: nothing of the box may stay behind.
                started.group.kill();
            }
            let _ = tokio::time::timeout(SETUP_TIMEOUT, started.process.wait()).await;
            let mut said = Vec::new();
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                (&mut started.stderr).take(64 * 1024).read_to_end(&mut said),
            )
            .await;
            let said = String::from_utf8_lossy(&said);
            let said = said.trim();
            Err(Failure::Setup(if said.is_empty() {
                "bubblewrap exited without setting up the box".into()
            } else {
                said.lines().collect::<Vec<_>>().join("; ")
            }))
        }
    }
}

/// The first process's one line: `ok PID` or `exec ERRNO`; `Some("")` when the pipe closed
/// without one (bubblewrap failed), `None` on timeout.
async fn read_report(read: OwnedFd) -> Option<String> {
    let receiver = match tokio::net::unix::pipe::Receiver::from_owned_fd(read) {
        Ok(r) => r,
        Err(e) => return Some(format!("error {e}")),
    };
    let mut line = String::new();
    let mut reader = BufReader::new(receiver);
    match tokio::time::timeout(SETUP_TIMEOUT, reader.read_line(&mut line)).await {
        Ok(_) => Some(line.trim().to_owned()),
        Err(_) => None,
    }
}
