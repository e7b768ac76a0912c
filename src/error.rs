//! The top-level error: what failed, the exit code it maps to, and a hint for the person.

use std::ffi::OsString;

use crate::approval::console::client::AnswerError;
use crate::config::ConfigError;
use crate::exit_code;

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("{what} is not one JSON object: {reason}")]
    NotJsonObject { what: &'static str, reason: String },
    #[error("no server command given")]
    NoCommand { server: Option<String> },
    #[error(
        "server {:?} is bound to the command configured for it; refusing to run another under its name\n  - {}\n  + {}",
        crate::display::visible(server),
        shell_line(configured),
        shell_line(given)
    )]
    BoundCommand {
        server: String,
        configured: Vec<OsString>,
        given: Vec<OsString>,
    },
    #[error("server command {program:?} not found")]
    NotFound { program: OsString },
    #[error("server command {program:?} cannot be executed")]
    NotExecutable {
        program: OsString,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start server command {program:?}")]
    Spawn {
        program: OsString,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the demo failed: {0}")]
    Demo(String),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error("cannot build the server's environment")]
    Env(#[from] crate::secrets::env::EnvError),
    #[error(transparent)]
    Console(#[from] crate::approval::console::ConsoleError),
    #[error(transparent)]
    Answer(#[from] crate::approval::console::client::AnswerError),
    #[error("no terminal to ask on")]
    NoTerminal,
    /// `peta tools`: nothing to show or change.
    #[error("{message}")]
    Tools { message: String, hint: String },
    /// `peta install` / `peta uninstall`.
    #[error("{message}")]
    Install {
        message: String,
        hint: String,
        code: u8,
    },
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    #[error("{message}")]
    Secret {
        message: String,
        hint: String,
        code: u8,
    },
    /// `peta audit forward`.
    #[error("{message}")]
    Forward {
        message: String,
        hint: String,
        code: u8,
    },
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// The exit code for this error (see `exit_code`).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Env(_) | Error::BoundCommand { .. } => exit_code::CONFIG,
            Error::Sandbox(e) => match e {
                #[cfg(target_os = "linux")]
                crate::sandbox::SandboxError::Layout(_) => exit_code::CONFIG,
                crate::sandbox::SandboxError::Unavailable { .. } => exit_code::FAILED,
            },
            Error::Secret { code, .. }
            | Error::Install { code, .. }
            | Error::Forward { code, .. } => *code,
            Error::Tools { .. } => exit_code::CHECK_FAILED,
            Error::Answer(e) => match e {
                AnswerError::NoSessions
                | AnswerError::Unknown { .. }
                | AnswerError::Refused { .. } => exit_code::CHECK_FAILED,
                AnswerError::Dir(_) | AnswerError::Io { .. } => exit_code::FAILED,
            },
            Error::Console(_) => exit_code::FAILED,
            Error::NoTerminal => exit_code::USAGE,
            Error::Usage(_) | Error::NotJsonObject { .. } | Error::NoCommand { .. } => {
                exit_code::USAGE
            }
            Error::NotFound { .. } => exit_code::NOT_FOUND,
            Error::NotExecutable { .. } => exit_code::NOT_EXECUTABLE,
            Error::Spawn { .. } | Error::Io { .. } | Error::Demo(_) | Error::Audit(_) => {
                exit_code::FAILED
            }
        }
    }

    /// What the person can do about it.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Error::Config(e) => e.hint(),
            Error::NoCommand { server: Some(name) } => Some(format!(
                "give the command after `--`, or set `command` in [servers.{name}] of the config"
            )),
            Error::BoundCommand { server, .. } => Some(format!(
                "run it under another --server name (it gets none of {server:?}'s secrets, rules, grants or pins), or set command = \"any\" in [servers.{server}] to let any command run as {server:?}",
                server = crate::display::visible(server)
            )),
            Error::NoCommand { server: None } => {
                Some("peta run -- npx -y @modelcontextprotocol/server-everything".into())
            }
            Error::NotFound { .. } => Some(
                "check the command's spelling, or give its absolute path: GUI clients often start peta with a shorter PATH".into(),
            ),
            Error::NotExecutable { program, .. } => {
                Some(format!("check the file's permissions: chmod +x {}", program.to_string_lossy()))
            }
            Error::Usage(_) => Some("see --help".into()),
            Error::NotJsonObject { .. } => Some(
                r#"quote it for the shell, e.g. '{"path": "/etc/hosts", "recursive": true}'"#.into(),
            ),
            Error::Audit(e) => e.hint(),
            Error::Env(e) => Some(e.hint()),
            Error::Sandbox(e) => Some(e.hint()),
            Error::Secret { hint, .. }
            | Error::Tools { hint, .. }
            | Error::Install { hint, .. }
            | Error::Forward { hint, .. } => {
                Some(hint.clone())
            }
            Error::Console(e) => e.hint(),
            Error::Answer(e) => e.hint(),
            Error::NoTerminal => Some(
                "peta approve --list shows the requests; peta approve ID --answer deny|once|session|for:10m|always answers one".into(),
            ),
            Error::Spawn { .. } | Error::Io { .. } | Error::Demo(_) => None,
        }
    }

    /// Renders the error, its causes and the hint, for stderr.
    pub(crate) fn render(&self) -> String {
        let mut out = format!("error: {self}");
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            out.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        if let Some(hint) = self.hint() {
            out.push_str(&format!("\nhint: {hint}"));
        }
        out
    }
}

/// A command line as a person would type it: each argument shell-quoted when it needs to
/// be, invisible characters escaped.
fn shell_line(argv: &[OsString]) -> String {
    argv.iter()
        .map(|arg| {
            let arg = crate::display::visible(&arg.to_string_lossy());
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-./:@=+,%".contains(c));
            if plain {
                arg
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_lines_are_quoted_where_needed() {
        let argv = ["npx", "-y", "@scope/pkg", "it's", "a b", "", "x\u{1b}"].map(Into::into);
        assert_eq!(
            super::shell_line(&argv),
            r"npx -y @scope/pkg 'it'\''s' 'a b' '' 'x\u{1b}'"
        );
    }
}
