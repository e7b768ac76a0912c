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
    #[error("{from} is {}, which must be an absolute path: a relative one names a file in the directory peta was started in, the project's", path.display())]
    Relative { path: PathBuf, from: &'static str },
    #[error("{} (from {from}) is inside the directory peta was started in ({}), so it cannot be your configuration: a repository could have put it there", file.display(), project.display())]
    InProject {
        file: PathBuf,
        from: &'static str,
        project: PathBuf,
    },
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
            ConfigError::Relative { .. } | ConfigError::InProject { .. } => Some(
                "keep your configuration outside projects and give its full path, e.g. ~/.config/peta/peta.toml; a project's own peta.toml is read by itself and may only tighten the policy".into(),
            ),
        }
    }
}
