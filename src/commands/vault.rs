//! `peta vault init` and `peta vault recipients add|list|rm`.

use std::io::Write;
use std::path::Path;

use age::secrecy::SecretString;

use crate::cli::{IdentityStore, RecipientsCommand, VaultCommand};
use crate::commands::secret::{open_vault, vault_error};
use crate::config::{self, Config};
use crate::error::Error;
use crate::exit_code;
use crate::secrets::vault::{self, Identity, IdentitySource, Vault, VaultError};

pub(crate) fn run(command: VaultCommand) -> Result<u8, Error> {
    match command {
        VaultCommand::Init {
            identity,
            passphrase,
            config,
        } => init(identity, passphrase, config.as_deref()),
        VaultCommand::Recipients(RecipientsCommand::Add { key, config }) => {
            change(config.as_deref(), |vault, _| {
                let added = vault.add_recipient(&key).map_err(vault_error)?;
                Ok(added.then(|| {
                    format!(
                        "the vault is now encrypted to {} recipients",
                        vault.recipients().len()
                    )
                }))
            })
        }
        VaultCommand::Recipients(RecipientsCommand::Rm { key, config }) => {
            change(config.as_deref(), |vault, own| {
                let removed = vault.remove_recipient(&key, own).map_err(vault_error)?;
                if !removed {
                    return Err(Error::Secret {
                        message: format!("{} is not a recipient of the vault", key.trim()),
                        hint: "`peta vault recipients list` shows them".into(),
                        code: exit_code::CHECK_FAILED,
                    });
                }
                Ok(Some(
                    "removed; that key can still open older copies (git history, backups), so rotate the secrets it could read".into(),
                ))
            })
        }
        VaultCommand::Recipients(RecipientsCommand::List { config }) => {
            let config = config::load(config.as_deref())?;
            let own = own_identity(&config)?.public();
            let vault = open_vault(&config)?;
            let mut out = std::io::stdout().lock();
            for key in vault.recipients() {
                let you = if *key == own { "  (you)" } else { "" };
                writeln!(out, "{key}{you}").map_err(|e| Error::io("cannot write to stdout", e))?;
            }
            Ok(exit_code::OK)
        }
    }
}

fn own_identity(config: &Config) -> Result<Identity, Error> {
    Identity::load(
        &config.vault.identity(),
        &crate::secrets::keyring::Keyring::open,
    )
    .map_err(vault_error)
}

/// Opens the vault, applies `edit`, and re-encrypts it when `edit` reports a change.
fn change(
    config_file: Option<&Path>,
    edit: impl FnOnce(&mut Vault, &str) -> Result<Option<String>, Error>,
) -> Result<u8, Error> {
    let config = config::load(config_file)?;
    let own = own_identity(&config)?.public();
    let mut vault = open_vault(&config)?;
    match edit(&mut vault, &own)? {
        Some(message) => {
            vault
                .save(&config.vault.recipients_path())
                .map_err(vault_error)?;
            eprintln!("{message}");
        }
        None => eprintln!("nothing to change"),
    }
    Ok(exit_code::OK)
}

fn init(store: IdentityStore, passphrase: bool, config_file: Option<&Path>) -> Result<u8, Error> {
    let config = config::load(config_file)?;
    let target = match (store, &config.vault.identity) {
        (IdentityStore::File, Some(source @ IdentitySource::File(_)))
        | (IdentityStore::Keyring, Some(source @ IdentitySource::Keyring(_))) => source.clone(),
        (IdentityStore::File, _) => IdentitySource::File(vault::default_identity_file()),
        (IdentityStore::Keyring, _) => IdentitySource::Keyring(vault::KEYRING_IDENTITY.into()),
    };
    if passphrase && store == IdentityStore::Keyring {
        return Err(Error::Usage(
            "--passphrase protects an identity file; the keyring protects its own items".into(),
        ));
    }
    let keyring = crate::secrets::keyring::Keyring::open;
    let identity = match Identity::load(&target, &keyring) {
        Ok(identity) => {
            eprintln!("using the identity in {target}");
            identity
        }
        Err(VaultError::Identity { reason, .. })
            if reason.contains("does not exist") || reason.contains("no such item") =>
        {
            let identity = Identity::generate();
            let secret = if passphrase {
                let term = crate::tty::open().ok_or_else(|| {
                    Error::Usage("--passphrase needs a terminal to type the passphrase".into())
                })?;
                let typed = crate::tty::read_secret(&term, "Passphrase for the new identity", true)
                    .map_err(|e| Error::io("cannot read the passphrase", e))?;
                Some(SecretString::from(typed.to_string()))
            } else {
                None
            };
            identity
                .store(&target, secret, &keyring)
                .map_err(vault_error)?;
            eprintln!("created an identity in {target}");
            identity
        }
        Err(other) => return Err(vault_error(other)),
    };
    if config.vault.identity() != target {
        eprintln!(
            "note: peta will look for the identity in {}; add to the config's [vault]: identity = \"{target}\"",
            config.vault.identity()
        );
    }
    let path = &config.vault.path;
    if path.exists() {
        match Vault::open(path, &identity) {
            Ok(_) => eprintln!(
                "the vault at {} exists and opens with this identity",
                path.display()
            ),
            Err(VaultError::NotARecipient { .. }) => eprintln!(
                "the vault at {} exists but is not encrypted to you yet; ask someone who can open it to run:\n  peta vault recipients add {}",
                path.display(),
                identity.public()
            ),
            Err(e) => return Err(vault_error(e)),
        }
    } else {
        Vault::create(path, &identity)
            .save(&config.vault.recipients_path())
            .map_err(vault_error)?;
        eprintln!("created the vault {}", path.display());
        eprintln!("add secrets with `peta secret set NAME --vault`, use them as age:NAME");
    }
    println!("{}", identity.public());
    Ok(exit_code::OK)
}
