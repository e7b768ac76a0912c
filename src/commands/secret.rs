//! `peta secret set|get|list|rm|import`: secrets into the keyring or the vault, so config
//! files hold references only. Values are read from the terminal or stdin, never argv, and
//! printed only by `get --reveal`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use crate::cli::{BackendArgs, SecretCommand};
use crate::config::{self, Config};
use crate::error::Error;
use crate::exit_code;
use crate::secrets::reference::Source;
use crate::secrets::vault::{Identity, Vault, VaultError};
use crate::secrets::{SecretValue, Stores, keyring, redact};

/// Longest value accepted from stdin.
const MAX_VALUE: u64 = 1 << 20;

pub(crate) fn run(command: SecretCommand) -> Result<u8, Error> {
    match command {
        SecretCommand::Set { name, backend } => set(&name, &backend),
        SecretCommand::Get {
            name,
            reveal,
            backend,
        } => get(&name, reveal, &backend),
        SecretCommand::List { config } => list(config.as_deref()),
        SecretCommand::Rm { name, backend } => rm(&name, &backend),
        SecretCommand::Import {
            file,
            server,
            force,
            backend,
        } => import(&file, server.as_deref(), force, &backend),
    }
}

/// One of the two places a secret can live, opened for reading and writing.
enum Backend {
    Keyring(keyring::Keyring),
    Vault {
        vault: Vault,
        recipients_copy: std::path::PathBuf,
    },
}

impl Backend {
    fn open(args: &BackendArgs) -> Result<(Backend, Config), Error> {
        let config = config::load(args.config.as_deref())?;
        let mut stores = Stores::new(config.vault.clone());
        let backend = if args.vault {
            let vault = open_vault(&config)?;
            Backend::Vault {
                vault,
                recipients_copy: config.vault.recipients_path(),
            }
        } else {
            Backend::Keyring(stores.keyring().map_err(keyring_error)?)
        };
        Ok((backend, config))
    }

    fn scheme(&self) -> &'static str {
        match self {
            Backend::Keyring(_) => "keyring",
            Backend::Vault { .. } => "age",
        }
    }

    fn get(&self, name: &str) -> Result<Option<SecretValue>, Error> {
        match self {
            Backend::Keyring(k) => match k.get(name) {
                Ok(v) => Ok(Some(v)),
                Err(f) if f.missing => Ok(None),
                Err(f) => Err(keyring_error(f)),
            },
            Backend::Vault { vault, .. } => Ok(vault.get(name).ok()),
        }
    }

    /// Stores the value; `true` when it replaced one.
    fn set(&mut self, name: &str, value: SecretValue) -> Result<bool, Error> {
        let existed = self.get(name)?.is_some();
        match self {
            Backend::Keyring(k) => k.set(name, &value).map_err(keyring_error)?,
            Backend::Vault { vault, .. } => {
                vault.set(name, value);
            }
        }
        Ok(existed)
    }

    fn remove(&mut self, name: &str) -> Result<bool, Error> {
        match self {
            Backend::Keyring(k) => k.remove(name).map_err(keyring_error),
            Backend::Vault { vault, .. } => Ok(vault.remove(name)),
        }
    }

    /// Writes the vault back (the keyring writes as it goes).
    fn save(&self) -> Result<(), Error> {
        match self {
            Backend::Keyring(_) => Ok(()),
            Backend::Vault {
                vault,
                recipients_copy,
            } => vault.save(recipients_copy).map_err(vault_error),
        }
    }
}

pub(crate) fn open_vault(config: &Config) -> Result<Vault, Error> {
    let identity =
        Identity::load(&config.vault.identity(), &keyring::Keyring::open).map_err(vault_error)?;
    Vault::open(&config.vault.path, &identity).map_err(vault_error)
}

pub(crate) fn keyring_error(f: keyring::Failure) -> Error {
    Error::Secret {
        message: format!("keyring: {}", f.reason),
        hint: f.hint,
        code: exit_code::FAILED,
    }
}

pub(crate) fn vault_error(e: VaultError) -> Error {
    let code = match e {
        VaultError::BadRecipient { .. } => exit_code::USAGE,
        VaultError::NoSecret { .. } => exit_code::CHECK_FAILED,
        _ => exit_code::FAILED,
    };
    Error::Secret {
        message: format!("vault: {e}"),
        hint: e.hint(),
        code,
    }
}

fn check_name(name: &str) -> Result<(), Error> {
    let fine = !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/@".contains(c));
    if fine {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{name:?} is not a secret name: use letters, digits and . _ - / @"
        )))
    }
}

fn set(name: &str, args: &BackendArgs) -> Result<u8, Error> {
    check_name(name)?;
    let (mut backend, _) = Backend::open(args)?;
    let value = read_value(name)?;
    if value.expose().len() < redact::MIN_SCANNED {
        eprintln!(
            "warning: the value is shorter than {} bytes; peta stores and injects it, but cannot reliably redact it from what a server sends back",
            redact::MIN_SCANNED
        );
    }
    let replaced = backend.set(name, value)?;
    backend.save()?;
    let reference = format!("{}:{name}", backend.scheme());
    eprintln!(
        "{} {reference}",
        if replaced { "replaced" } else { "stored" }
    );
    eprintln!("use it in a server's env: SOME_VARIABLE = \"{reference}\"");
    Ok(exit_code::OK)
}

/// The value from the terminal without echo, or from piped stdin.
fn read_value(name: &str) -> Result<SecretValue, Error> {
    let text = if std::io::stdin().is_terminal() {
        let term = crate::tty::open()
            .ok_or_else(|| Error::Usage("no terminal to read the value from".into()))?;
        crate::tty::read_secret(&term, &format!("Value for {name} (not shown)"), false)
            .map_err(|e| Error::io("cannot read the value from the terminal", e))?
    } else {
        let mut bytes = zeroize::Zeroizing::new(Vec::new());
        std::io::stdin()
            .take(MAX_VALUE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("cannot read the value from stdin", e))?;
        if bytes.len() as u64 > MAX_VALUE {
            return Err(Error::Usage(
                "the value on stdin is longer than 1 MiB".into(),
            ));
        }
        let trimmed = bytes
            .strip_suffix(b"\r\n")
            .or_else(|| bytes.strip_suffix(b"\n"))
            .unwrap_or(&bytes);
        zeroize::Zeroizing::new(
            std::str::from_utf8(trimmed)
                .map_err(|_| Error::Usage("the value on stdin is not UTF-8 text".into()))?
                .to_owned(),
        )
    };
    check_value(&text)?;
    Ok(SecretValue::new(text.to_string()))
}

fn check_value(text: &str) -> Result<(), Error> {
    if text.is_empty() {
        return Err(Error::Usage("the value is empty".into()));
    }
    if text.contains('\0') {
        return Err(Error::Usage(
            "the value contains a NUL character, which no environment variable can hold".into(),
        ));
    }
    Ok(())
}

fn missing(reference: &str) -> Error {
    Error::Secret {
        message: format!("{reference} is not set"),
        hint: "list what exists with `peta secret list`".into(),
        code: exit_code::CHECK_FAILED,
    }
}

fn get(name: &str, reveal: bool, args: &BackendArgs) -> Result<u8, Error> {
    check_name(name)?;
    let (backend, _) = Backend::open(args)?;
    let reference = format!("{}:{name}", backend.scheme());
    let value = backend.get(name)?.ok_or_else(|| missing(&reference))?;
    if reveal {
        let mut out = std::io::stdout().lock();
        let newline = if std::io::stdout().is_terminal() {
            "\n"
        } else {
            ""
        };
        write!(out, "{}{newline}", value.expose())
            .and_then(|()| out.flush())
            .map_err(|e| Error::io("cannot write to stdout", e))?;
    } else {
        eprintln!(
            "{reference} is set ({} bytes); add --reveal to print it",
            value.expose().len()
        );
    }
    Ok(exit_code::OK)
}

fn rm(name: &str, args: &BackendArgs) -> Result<u8, Error> {
    check_name(name)?;
    let (mut backend, _) = Backend::open(args)?;
    let reference = format!("{}:{name}", backend.scheme());
    if !backend.remove(name)? {
        return Err(missing(&reference));
    }
    backend.save()?;
    eprintln!("removed {reference}");
    Ok(exit_code::OK)
}

fn list(config_file: Option<&Path>) -> Result<u8, Error> {
    let config = config::load(config_file)?;
    // reference -> servers.NAME.env.KEY entries that use it
    let mut used: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for server in &config.servers {
        for (key, entry) in &server.env {
            let (scheme, name) = match Source::parse(entry) {
                Source::Keyring(n) => ("keyring", n),
                Source::Age(n) => ("age", n),
                _ => continue,
            };
            used.entry((scheme.into(), name))
                .or_default()
                .push(format!("{}.{key}", server.name));
        }
    }
    let mut rows: BTreeMap<(String, String), &'static str> = BTreeMap::new();
    let mut stores = Stores::new(config.vault.clone());
    match stores.keyring().and_then(|k| k.names()) {
        Ok(Some(names)) => {
            for n in names {
                rows.insert(("keyring".into(), n), "set");
            }
        }
        Ok(None) => eprintln!(
            "note: this keyring cannot be listed; keyring secrets are shown only where the config refers to them"
        ),
        Err(f) => eprintln!("warning: keyring: {} ({})", f.reason, f.hint),
    }
    if config.vault.path.exists() {
        match open_vault(&config) {
            Ok(vault) => {
                for n in vault.names() {
                    rows.insert(("age".into(), n.to_owned()), "set");
                }
            }
            Err(e) => eprintln!("warning: {}", e.render().replace('\n', " ")),
        }
    }
    for reference in used.keys() {
        let (scheme, name) = reference;
        {
            let state = match scheme.as_str() {
                "keyring" => stores
                    .keyring()
                    .ok()
                    .map(|k| match k.get(name) {
                        Ok(_) => "set",
                        Err(f) if f.missing => "MISSING",
                        Err(_) => "unknown",
                    })
                    .unwrap_or("unknown"),
                _ => "MISSING",
            };
            rows.entry(reference.clone()).or_insert(state);
        }
    }
    let mut out = std::io::stdout().lock();
    let write = |out: &mut std::io::StdoutLock, line: String| {
        writeln!(out, "{line}").map_err(|e| Error::io("cannot write to stdout", e))
    };
    if rows.is_empty() {
        eprintln!("no secrets yet; store one with `peta secret set NAME`");
        return Ok(exit_code::OK);
    }
    let width = rows.keys().map(|(_, n)| n.len()).max().unwrap_or(4).max(4);
    write(
        &mut out,
        format!(
            "{:<width$}  {:<7}  {:<7}  USED BY",
            "NAME", "BACKEND", "STATE"
        ),
    )?;
    for ((scheme, name), state) in &rows {
        let users = used
            .get(&(scheme.clone(), name.clone()))
            .map_or_else(|| "-".to_owned(), |u| u.join(", "));
        write(
            &mut out,
            format!("{name:<width$}  {scheme:<7}  {state:<7}  {users}"),
        )?;
    }
    Ok(exit_code::OK)
}

fn import(file: &Path, server: Option<&str>, force: bool, args: &BackendArgs) -> Result<u8, Error> {
    let text =
        crate::files::read_checked(file, crate::files::Privacy::NotWritable).map_err(|e| {
            Error::Secret {
                message: e.to_string(),
                hint: e.hint(),
                code: exit_code::FAILED,
            }
        })?;
    let text = std::str::from_utf8(&text)
        .map_err(|_| Error::Usage(format!("{} is not UTF-8 text", file.display())))?;
    let entries = crate::secrets::import::parse(text, server).map_err(|e| Error::Secret {
        message: format!("{}: {}", file.display(), e.message),
        hint: e.hint,
        code: exit_code::USAGE,
    })?;
    if entries.is_empty() {
        eprintln!("{} holds no values to import", file.display());
        return Ok(exit_code::OK);
    }
    let (mut backend, _) = Backend::open(args)?;
    let scheme = backend.scheme();
    let mut snippet: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    let (mut stored, mut kept) = (0, 0);
    for entry in entries {
        check_name(&entry.key)?;
        check_value(entry.value.expose())?;
        let reference = format!("{scheme}:{}", entry.key);
        if !force && backend.get(&entry.key)?.is_some() {
            eprintln!("kept {reference}: it already exists (--force replaces it)");
            kept += 1;
        } else {
            backend.set(&entry.key, entry.value)?;
            stored += 1;
        }
        snippet
            .entry(entry.server)
            .or_default()
            .push(format!("{} = \"{reference}\"", entry.key));
    }
    backend.save()?;
    eprintln!("stored {stored}, kept {kept}; put these references in peta's config:");
    let mut out = std::io::stdout().lock();
    for (server, lines) in snippet {
        let header = match server {
            Some(name) => format!("[servers.{name}.env]"),
            None => "[servers.NAME.env]".to_owned(),
        };
        writeln!(out, "{header}\n{}\n", lines.join("\n"))
            .map_err(|e| Error::io("cannot write to stdout", e))?;
    }
    Ok(exit_code::OK)
}
