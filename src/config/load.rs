//! Finding and reading the configuration: `--config`, then `$PETA_CONFIG`, then
//! `$XDG_CONFIG_HOME/peta/peta.toml` (platform equivalent elsewhere). No file is fine:
//! peta then runs with its defaults. `place` says which files may be the user's: absolute
//! paths, outside the project directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::compile::{Config, compile};
use super::error::ConfigError;
use super::host::LocalHost;
use super::place;
use super::raw::RawConfig;

/// Where the configuration comes from.
pub(crate) fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_owned());
    }
    if let Some(path) = std::env::var_os("PETA_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let default = config_dir()?.join("peta").join("peta.toml");
    default.exists().then_some(default)
}

/// Where the user's configuration directory is. A relative `$XDG_CONFIG_HOME` is ignored,
/// as the XDG Base Directory specification says.
/// Loads a configuration only to check it (`peta config check`): a relative `--config` is
/// read against the working directory and a file in the project is taken as it is, since
/// checking a file grants it nothing. Returns the file read, made absolute.
pub(crate) fn load_to_check(
    explicit: Option<&Path>,
) -> Result<(Option<PathBuf>, Config), ConfigError> {
    match explicit {
        Some(file) => {
            let file = std::path::absolute(file).map_err(|source| ConfigError::Read {
                file: file.to_owned(),
                source,
            })?;
            let config = with_project(Some(&file), load_file(&file)?)?;
            Ok((Some(file), config))
        }
        None => Ok((locate_checked(None)?, load(None)?)),
    }
}

/// Where the configuration comes from, refused when it cannot be the user's (see `place`).
fn locate_checked(explicit: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    let from = if explicit.is_some() {
        "--config"
    } else if std::env::var_os("PETA_CONFIG").is_some_and(|p| !p.is_empty()) {
        "PETA_CONFIG"
    } else {
        "the default location"
    };
    let Some(file) = locate(explicit) else {
        return Ok(None);
    };
    let file = place::absolute(file, from)?;
    place::outside_project(&file, from)?;
    Ok(Some(file))
}

pub(crate) fn config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
    {
        return Some(dir);
    }
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"))?;
    let home = PathBuf::from(home);
    Some(if cfg!(target_os = "macos") {
        home.join("Library").join("Application Support")
    } else if cfg!(windows) {
        std::env::var_os("APPDATA").map_or(home.join("AppData").join("Roaming"), PathBuf::from)
    } else {
        home.join(".config")
    })
}

/// Loads the configuration, or the defaults when there is no file, then adds the deny and
/// ask rules of a project's `peta.toml` in the current directory, if there is one.
pub(crate) fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
    let user = locate_checked(explicit)?;
    let config = match &user {
        Some(file) => load_file(file)?,
        None => Config::default(),
    };
    with_project(user.as_deref(), config)
}

/// Adds the project's layer, if there is a project file that is not `user`, and the host.
fn with_project(user: Option<&Path>, mut config: Config) -> Result<Config, ConfigError> {
    config.policy.host = Arc::new(LocalHost::here());
    let Some(project) = std::env::current_dir()
        .ok()
        .map(|dir| dir.join("peta.toml"))
        .filter(|p| p.is_file())
    else {
        return Ok(config);
    };
    let same = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b);
    if user.is_some_and(|u| same(u, &project)) {
        return Ok(config);
    }
    let text = std::fs::read_to_string(&project).map_err(|source| ConfigError::Read {
        file: project.clone(),
        source,
    })?;
    check_permissions(&project)?;
    tracing::debug!(file = %project.display(), "adding the project's deny and ask rules");
    super::project::merge_project(config, &text, &project)
}

pub(crate) fn load_file(file: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
        file: file.to_owned(),
        source,
    })?;
    check_permissions(file)?;
    parse(&text, file)
}

/// Parses configuration text; `file` names it in errors.
pub(crate) fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| parse_error(&e, text, file))?;
    compile(raw, file)
}

pub(super) fn parse_error(e: &toml::de::Error, text: &str, file: &Path) -> ConfigError {
    let start = e.span().map_or(0, |s| s.start).min(text.len());
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let message = e.message().trim().to_owned();
    ConfigError::Parse {
        file: file.to_owned(),
        line,
        column,
        suggestion: suggest(&message),
        message,
    }
}

/// For "unknown field `x`, expected one of `a`, `b`" (or "unknown variant", for a value
/// such as an action), the expected name closest to `x`.
fn suggest(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))?;
    let (unknown, expected) = rest.split_once('`')?;
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|candidate| (strsim::damerau_levenshtein(unknown, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 3))
        .min()
        .map(|(_, candidate)| candidate.to_owned())
}

#[cfg(unix)]
fn check_permissions(file: &Path) -> Result<(), ConfigError> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(file).map_err(|source| ConfigError::Read {
        file: file.to_owned(),
        source,
    })?;
    if meta.mode() & 0o022 != 0 {
        return Err(ConfigError::Permissions {
            file: file.to_owned(),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_file: &Path) -> Result<(), ConfigError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> ConfigError {
        parse(text, Path::new("peta.toml")).expect_err(text)
    }

    #[test]
    fn unknown_keys_name_the_line_and_a_suggestion() {
        let e = err("[relay]\nmax_line_bytes = 2048\nshutdown_grase = \"1s\"\n");
        let ConfigError::Parse {
            line, suggestion, ..
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!(*line, 3);
        assert_eq!(suggestion.as_deref(), Some("shutdown_grace"));
        assert!(e.to_string().starts_with("peta.toml:3:"), "{e}");

        let e = err("[relays]\n");
        let ConfigError::Parse { suggestion, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(suggestion.as_deref(), Some("relay"));

        let e = err("[servers.x]\ncommnd = [\"a\"]\n");
        let ConfigError::Parse {
            line, suggestion, ..
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!((*line, suggestion.as_deref()), (2, Some("command")));
    }

    #[test]
    fn values_are_checked() {
        assert!(matches!(
            err("[relay]\nmax_line_bytes = 1\n"),
            ConfigError::Invalid { .. }
        ));
        assert!(matches!(
            err("[relay]\nshutdown_grace = \"soon\"\n"),
            ConfigError::Invalid { .. }
        ));
        assert!(matches!(
            err("[servers.x]\ncommand = []\n"),
            ConfigError::Invalid { .. }
        ));
        for (text, key) in [
            ("[defaults]\nsandbox = \"on\"\n", "defaults.sandbox"),
            (
                "[servers.x.sandbox]\nwrite = [\"notes\"]\n",
                "servers.x.sandbox.write",
            ),
            (
                "[servers.x.sandbox]\nhide = [\"~\"]\n",
                "servers.x.sandbox.hide",
            ),
        ] {
            let e = err(text);
            assert!(
                matches!(&e, ConfigError::Invalid { key: k, .. } if k == key),
                "{text}: {e}"
            );
        }
        let e = err("[servers.x.sandbox]\nwrtie = []\n");
        assert!(
            matches!(&e, ConfigError::Parse { suggestion: Some(s), .. } if s == "write"),
            "{e}"
        );
        let config = parse(
            "[defaults]\nsandbox = \"required\"\n[servers.x.sandbox]\nwrite = [\"/srv\"]\nnetwork = false\n",
            Path::new("peta.toml"),
        )
        .expect("parses");
        assert_eq!(config.sandbox, crate::sandbox::Mode::Required);
        let x = config.server("x").expect("x");
        assert_eq!(x.sandbox.write, [std::path::PathBuf::from("/srv")]);
        assert!(!x.sandbox.network);
    }

    #[test]
    fn channels_are_named_once_each() {
        use crate::approval::Kind;
        let config = parse(
            "[defaults]\nchannels = [\"console\", \"client\"]\n",
            Path::new("p"),
        )
        .expect("config");
        assert_eq!(config.channels, [Kind::Console, Kind::Client]);
        let config = parse("[defaults]\nchannels = []\n", Path::new("p")).expect("config");
        assert!(
            config.channels.is_empty(),
            "no channel: every question is denied"
        );
        for bad in ["[\"tty\", \"tty\"]", "[\"elicitation\"]"] {
            let err = parse(&format!("[defaults]\nchannels = {bad}\n"), Path::new("p"))
                .expect_err(bad)
                .to_string();
            assert!(err.contains("defaults.channels"), "{err}");
        }
    }

    #[test]
    fn the_example_config_parses_and_means_what_it_says() {
        let text = include_str!("../../peta.example.toml");
        let config = parse(text, Path::new("peta.example.toml")).expect("example config");
        assert_eq!(config.limits.max_line_bytes, 64 * 1024 * 1024);
        assert_eq!(config.grace, std::time::Duration::from_secs(2));
        let demo = config.server("demo").expect("demo server");
        assert!(demo.command.is_some());
        assert_eq!(demo.env, [("DEMO_GREETING".to_owned(), "hello".to_owned())]);
        assert!(config.inherit_env.iter().any(|p| p == "LC_*"));
        #[cfg(not(windows))]
        assert_eq!(
            config.inherit_env,
            crate::secrets::env::DEFAULT_ALLOW,
            "the example shows the default"
        );
        assert_eq!(config.channels, crate::approval::Kind::ALL);
        assert_eq!(config.sandbox, crate::sandbox::Mode::Auto);
        assert_eq!(demo.sandbox, crate::sandbox::Settings::default());
        assert_eq!(config.audit.forward, None, "the example forwards nowhere");

        use crate::policy::{Action, Call, Subject};
        let policy = &config.policy;
        assert_eq!(policy.rules().len(), 4);
        assert_eq!(policy.timeout, std::time::Duration::from_secs(45));
        let decide = |tool: &str, args: &str| {
            let args = serde_json::value::RawValue::from_string(args.into()).expect("json");
            policy.evaluate(&Call {
                server: Some("demo"),
                subject: Subject::Tool(tool),
                arguments: Some(&args),
                annotations: None,
            })
        };
        for (tool, args, action) in [
            ("write_file", r#"{"path": "/etc/hosts"}"#, Action::Deny),
            (
                "delete_file",
                r#"{"path": "notes/../../etc/hosts"}"#,
                Action::Deny,
            ),
            ("write_file", r#"{"path": "notes/a..b"}"#, Action::Ask),
            ("add", r#"{"a": 1, "b": 2}"#, Action::Allow),
            ("slow", r#"{"seconds": 1}"#, Action::Ask),
        ] {
            assert_eq!(decide(tool, args).action, action, "{tool} {args}");
        }
        let slow = decide("slow", r#"{"seconds": 30}"#);
        assert_eq!(slow.timeout, std::time::Duration::from_secs(120));
        assert!(slow.message.is_some());
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_config_others_can_write() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("peta.toml");
        std::fs::write(&file, "").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        assert!(matches!(
            load_file(&file),
            Err(ConfigError::Permissions { .. })
        ));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        load_file(&file).expect("private file loads");
    }
}
