//! The server process: started in a session and process group of its own, with piped stdio
//! and no descriptors of peta's beyond 0–2. The session ends it (`session.rs`).

use std::ffi::OsString;
use std::io;
use std::process::Stdio;

use tokio::process::{ChildStderr, ChildStdin, ChildStdout, Command};

use super::sys;

/// A started server.
pub(crate) struct Child {
    pub(crate) process: tokio::process::Child,
    /// The process group (and session) the child leads.
    pub(crate) group: sys::Group,
    pub(crate) stdin: ChildStdin,
    pub(crate) stdout: ChildStdout,
    pub(crate) stderr: ChildStderr,
}

/// Starts `argv` with piped stdin, stdout and stderr.
pub(crate) fn spawn(argv: &[OsString], env: &[(OsString, OsString)]) -> io::Result<Child> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no command"))?;
    let mut command = command(program.as_ref(), args, env);
    sys::isolate(&mut command);
    start(command)
}

/// The command for `program` with its arguments, the built environment and piped stdio;
/// the caller isolates it (`sys::isolate`) and may add its own steps before `exec`.
pub(crate) fn command(
    program: &std::ffi::OsStr,
    args: &[OsString],
    env: &[(OsString, OsString)],
) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        // Built, not inherited (secrets/env.rs).
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // The group is ended explicitly; a dropped handle must not kill it half-way.
        .kill_on_drop(false);
    command
}

/// Starts a command made by [`command`].
pub(crate) fn start(mut command: Command) -> io::Result<Child> {
    let mut process = command.spawn()?;
    let group = sys::Group::of(&process);
    let (Some(stdin), Some(stdout), Some(stderr)) = (
        process.stdin.take(),
        process.stdout.take(),
        process.stderr.take(),
    ) else {
        unreachable!("all three streams were requested as pipes");
    };
    Ok(Child {
        process,
        group,
        stdin,
        stdout,
        stderr,
    })
}
