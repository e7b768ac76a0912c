//! Configuration errors, each naming the file and, where there is one, the key and line.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error("cannot read config file {}", file.display())]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", file.display())]
    Parse {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
        suggestion: Option<String>,
    },
    #[error("{}: {key} {message}", file.display())]
    Invalid {
        file: PathBuf,
        key: String,
        message: String,
    },
    #[error("{} is writable by other users, so anyone could change what peta allows", file.display())]
    Permissions { file: PathBuf },
}

impl ConfigError {
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Read { .. } => {
                Some("check the path given with --config or PETA_CONFIG".into())
            }
            ConfigError::Parse {
                suggestion: Some(s),
                ..
            } => Some(format!("did you mean `{s}`?")),
            ConfigError::Parse { .. } => {
                Some("peta.example.toml lists every key with a comment".into())
            }
            ConfigError::Invalid { .. } => {
                Some("peta.example.toml documents each key and its range".into())
            }
            ConfigError::Permissions { file } => Some(format!("chmod go-w {}", file.display())),
        }
    }
}
