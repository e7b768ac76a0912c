//! Where the credentials `peta install` finds go: the OS keyring, the age vault, left in the
//! file, or nowhere. Settled before anything is shown or stored: a keyring counts only when a
//! read comes back, and where none does (an SSH session, a container, WSL) the person chooses,
//! or the entries that hold a credential wait while the others are wrapped.

use std::path::PathBuf;

use crate::cli::{InstallArgs, SecretsTo};
use crate::error::Error;
use crate::exit_code;
use crate::install::plan::{Moved, Secrets, Store};
use crate::secrets::keyring::{Failure, Keyring};
use crate::secrets::vault::Vault;

/// An install error: what went wrong, what to do, and the exit code.
pub(crate) fn failed(message: impl Into<String>, hint: impl Into<String>, code: u8) -> Error {
    Error::Install {
        message: message.into(),
        hint: hint.into(),
        code,
    }
}

/// Where the credentials of this run go, opened.
pub(crate) enum Place {
    Keyring(Keyring),
    Vault {
        vault: Box<Vault>,
        recipients: PathBuf,
        path: PathBuf,
    },
    Leave,
    /// No entry holds a credential.
    Unneeded,
    /// No store: the entries that hold a credential are skipped, for this reason.
    Stranded(String),
}

impl Place {
    pub(crate) fn secrets(&self) -> Secrets {
        match self {
            Place::Keyring(_) | Place::Unneeded => Secrets::Move(Store::Keyring),
            Place::Vault { .. } => Secrets::Move(Store::Vault),
            Place::Leave => Secrets::Leave,
            Place::Stranded(reason) => Secrets::Nowhere(reason.clone()),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Place::Vault { path, .. } => format!("the age vault {}", path.display()),
            _ => "the keyring".into(),
        }
    }

    /// Whether the store may take `name` for `value`: it is free, or holds that value.
    pub(crate) fn free(&self, name: &str, value: &str) -> bool {
        match self {
            Place::Keyring(k) => match k.get(name) {
                Ok(held) => held.expose() == value,
                Err(_) => true,
            },
            Place::Vault { vault, .. } => match vault.get(name) {
                Ok(held) => held.expose() == value,
                Err(_) => true,
            },
            Place::Leave | Place::Unneeded | Place::Stranded(_) => true,
        }
    }

    /// Stores each moved credential. A name already there with the same value is fine;
    /// with another value it stops everything before the file is touched.
    pub(crate) fn store(&mut self, moved: &[&Moved]) -> Result<(), Error> {
        let place = self.describe();
        let taken = |name: &str| {
            failed(
                format!("{place} already holds a different {name}"),
                format!(
                    "nothing was changed; if the old value is stale, `peta secret rm {name}` and run again"
                ),
                exit_code::CHECK_FAILED,
            )
        };
        match self {
            Place::Keyring(keyring) => {
                // The keyring's own error and fix, and that the client's file is as it was.
                let unavailable = |f: Failure| {
                    failed(
                        format!("keyring: {}", f.reason),
                        format!("{}; the client's file was not changed", f.hint),
                        exit_code::FAILED,
                    )
                };
                for m in moved {
                    match keyring.get(&m.secret) {
                        Ok(existing) if existing.expose() == m.value.expose() => continue,
                        Ok(_) => return Err(taken(&m.secret)),
                        Err(f) if f.missing => {}
                        Err(f) => return Err(unavailable(f)),
                    }
                    keyring.set(&m.secret, &m.value).map_err(unavailable)?;
                }
                Ok(())
            }
            Place::Vault {
                vault, recipients, ..
            } => {
                let mut changed = false;
                for m in moved {
                    match vault.get(&m.secret) {
                        Ok(existing) if existing.expose() == m.value.expose() => continue,
                        Ok(_) => return Err(taken(&m.secret)),
                        Err(_) => {}
                    }
                    vault.set(&m.secret, m.value.clone());
                    changed = true;
                }
                if changed {
                    vault.save(recipients).map_err(|e| {
                        failed(
                            format!("vault: {e}"),
                            format!("{}; the client's file was not changed", e.hint()),
                            exit_code::FAILED,
                        )
                    })?;
                }
                Ok(())
            }
            Place::Leave | Place::Unneeded | Place::Stranded(_) => Ok(()),
        }
    }
}

/// Settles where the credentials of `holders` go: what `--secrets` says, else the keyring,
/// and where there is none, the person's choice (or, with --yes or --dry-run, nowhere).
pub(crate) fn choose(args: &InstallArgs, holders: &[&str]) -> Result<Place, Error> {
    match args.secrets {
        Some(SecretsTo::Leave) => return Ok(Place::Leave),
        Some(SecretsTo::Vault) => return open_vault_place(),
        Some(SecretsTo::Keyring) | None => {}
    }
    let failure = match probe_keyring() {
        Ok(keyring) => return Ok(Place::Keyring(keyring)),
        Err(f) => f,
    };
    if args.secrets == Some(SecretsTo::Keyring) {
        return Err(failed(
            format!("keyring: {}", failure.reason),
            format!(
                "{}: --secrets vault puts them there, --secrets leave leaves them in the file; the client's file was not changed",
                failure.hint
            ),
            exit_code::FAILED,
        ));
    }
    eprintln!("no keyring here: {}", failure.reason);
    let stranded = Place::Stranded(
        "it holds a credential and there is no keyring here: --secrets vault or --secrets leave"
            .into(),
    );
    let term = if args.yes || args.dry_run {
        None
    } else {
        crate::tty::open()
    };
    let Some(term) = term else {
        return Ok(stranded);
    };
    let vault = open_vault_place();
    let offer = match &vault {
        Ok(place) => format!("  v  into {}\n", place.describe()),
        Err(e) => format!("  (the age vault is not ready: {e}; `peta vault init` sets it up)\n"),
    };
    crate::tty::flush_input(&term);
    let question = format!(
        "The credentials of {} have no keyring to go into.\n{offer}  l  leave them in the file, as plain text\n  s  skip those servers (the others are wrapped)\nChoice [s]: ",
        holders.join(", ")
    );
    let answer = term
        .write_str(&question)
        .and_then(|()| term.read_line())
        .map_err(|e| Error::io("cannot read the answer from the terminal", e))?;
    Ok(match answer.trim().to_ascii_lowercase().as_str() {
        "v" | "vault" if vault.is_ok() => vault?,
        "l" | "leave" => Place::Leave,
        _ => stranded,
    })
}

/// The keyring, if one answers: connecting is not enough, a read must come back.
fn probe_keyring() -> Result<Keyring, Failure> {
    let keyring = Keyring::open()?;
    // A name no peta secret can have (they have no spaces).
    match keyring.get("peta install probe") {
        Ok(_) => Ok(keyring),
        Err(f) if f.missing => Ok(keyring),
        Err(f) => Err(f),
    }
}

/// The age vault of peta's configuration, opened.
fn open_vault_place() -> Result<Place, Error> {
    let config = crate::config::load(None)?;
    let vault = crate::commands::secret::open_vault(&config)?;
    Ok(Place::Vault {
        vault: Box::new(vault),
        recipients: config.vault.recipients_path(),
        path: config.vault.path.clone(),
    })
}
