//! The age vault: one armored age file holding many named secrets, encrypted to one or
//! more recipients so a team can keep it in git.
//!
//! The plaintext is JSON, `{"version":1,"recipients":[…],"secrets":{NAME: value}}`. The
//! recipient list inside the encryption is the one peta encrypts to; the readable copy
//! beside the vault (`vault.recipients`) is for review only, so a recipient slipped into
//! that file in a pull request is never silently encrypted to.
//!
//! The identity that opens it is an age X25519 key kept in a file (optionally itself
//! encrypted with a passphrase typed at the terminal) or in the OS keyring.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::SecretValue;
use super::keyring::Keyring;
use crate::files::{self, FileError, Privacy};

/// The keyring account of an identity kept in the keyring.
pub(crate) const KEYRING_IDENTITY: &str = "vault-identity";

/// Where the vault and its identity are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) path: PathBuf,
    /// `None`: the default identity file if it exists, else the keyring.
    pub(crate) identity: Option<IdentitySource>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdentitySource {
    File(PathBuf),
    Keyring(String),
}

impl std::fmt::Display for IdentitySource {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            IdentitySource::File(p) => write!(f, "{}", p.display()),
            IdentitySource::Keyring(n) => write!(f, "keyring:{n}"),
        }
    }
}

impl IdentitySource {
    pub(crate) fn parse(text: &str) -> Option<IdentitySource> {
        match text.strip_prefix("keyring:") {
            Some(name) if !name.is_empty() => Some(IdentitySource::Keyring(name.to_owned())),
            Some(_) => None,
            None => crate::config::expand_home(text).map(IdentitySource::File),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            path: data_dir().join("vault.age"),
            identity: None,
        }
    }
}

impl Settings {
    /// The identity to use: the configured one, else the default file when it exists,
    /// else the keyring.
    pub(crate) fn identity(&self) -> IdentitySource {
        self.identity.clone().unwrap_or_else(|| {
            let file = default_identity_file();
            if file.exists() {
                IdentitySource::File(file)
            } else {
                IdentitySource::Keyring(KEYRING_IDENTITY.into())
            }
        })
    }

    pub(crate) fn recipients_path(&self) -> PathBuf {
        self.path.with_extension("recipients")
    }
}

/// peta's data directory: `$XDG_DATA_HOME/peta` (`~/.local/share/peta`), on macOS
/// `~/Library/Application Support/peta`, on Windows `%APPDATA%\peta`.
pub(crate) fn data_dir() -> PathBuf {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        var("APPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|h| h.join("Library").join("Application Support"))
    } else {
        var("XDG_DATA_HOME").or_else(|| var("HOME").map(|h| h.join(".local").join("share")))
    };
    base.unwrap_or_else(|| PathBuf::from(".")).join("peta")
}

pub(crate) fn default_identity_file() -> PathBuf {
    data_dir().join("identity.txt")
}

/// Why the vault could not be used. No variant holds a secret value.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VaultError {
    #[error("there is no vault at {}", path.display())]
    Missing { path: PathBuf },
    #[error(transparent)]
    File(#[from] FileError),
    #[error("the vault identity {source_name} could not be read: {reason}")]
    Identity {
        source_name: String,
        reason: String,
        hint: String,
    },
    #[error("{} is not encrypted to your identity ({public})", path.display())]
    NotARecipient { path: PathBuf, public: String },
    #[error("{} is damaged or not an age file: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("{} holds no secret named {name}", path.display())]
    NoSecret { path: PathBuf, name: String },
    #[error("{key} is not an age X25519 recipient (age1…)")]
    BadRecipient { key: String },
    #[error("{0}")]
    Refused(String, String),
}

impl VaultError {
    pub(crate) fn hint(&self) -> String {
        match self {
            VaultError::Missing { .. } => "create one with `peta vault init`".into(),
            VaultError::File(e) => e.hint(),
            VaultError::Identity { hint, .. } => hint.clone(),
            VaultError::NotARecipient { public, .. } => {
                format!("ask someone who can open it to run `peta vault recipients add {public}`")
            }
            VaultError::Corrupt { .. } => {
                "restore it from git or a backup; peta never starts a server with part of a vault"
                    .into()
            }
            VaultError::NoSecret { name, .. } => {
                format!("add it with `peta secret set {name} --vault`")
            }
            VaultError::BadRecipient { .. } => {
                "give the public key printed by `peta vault init` or `age-keygen -y`".into()
            }
            VaultError::Refused(_, hint) => hint.clone(),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Plaintext {
    version: u32,
    recipients: Vec<String>,
    secrets: BTreeMap<String, String>,
}

/// An opened vault.
pub(crate) struct Vault {
    path: PathBuf,
    recipients: Vec<String>,
    secrets: BTreeMap<String, SecretValue>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("recipients", &self.recipients)
            .field("names", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// An identity that opens the vault, with its public key.
pub(crate) struct Identity {
    key: age::x25519::Identity,
}

impl Identity {
    pub(crate) fn generate() -> Identity {
        Identity {
            key: age::x25519::Identity::generate(),
        }
    }

    pub(crate) fn public(&self) -> String {
        self.key.to_public().to_string()
    }

    /// The identity in age-keygen's file format.
    fn to_file_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "# peta vault identity; keep this file private\n# public key: {}\n{}\n",
            self.public(),
            self.key.to_string().expose_secret()
        ))
    }

    fn parse(text: &str, source: &IdentitySource) -> Result<Identity, VaultError> {
        let key = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .and_then(|l| age::x25519::Identity::from_str(l).ok());
        key.map(|key| Identity { key })
            .ok_or_else(|| VaultError::Identity {
                source_name: source.to_string(),
                reason: "it holds no AGE-SECRET-KEY-1… line".into(),
                hint: "point [vault] identity at a file made by `peta vault init` or `age-keygen`"
                    .into(),
            })
    }

    /// Loads the identity from where `source` says, asking for a passphrase on `term` when
    /// the identity file is itself encrypted.
    pub(crate) fn load(
        source: &IdentitySource,
        keyring: &dyn Fn() -> Result<Keyring, super::keyring::Failure>,
    ) -> Result<Identity, VaultError> {
        match source {
            IdentitySource::Keyring(name) => {
                let fail = |f: super::keyring::Failure| VaultError::Identity {
                    source_name: source.to_string(),
                    reason: f.reason,
                    hint: if f.missing {
                        "create it with `peta vault init`, or set [vault] identity to an identity file".into()
                    } else {
                        f.hint
                    },
                };
                let value = keyring().and_then(|k| k.get(name)).map_err(fail)?;
                Identity::parse(value.expose(), source)
            }
            IdentitySource::File(path) => {
                let bytes = files::read_checked(path, Privacy::Secret).map_err(|e| match e {
                    FileError::Read { source: io, .. }
                        if io.kind() == std::io::ErrorKind::NotFound =>
                    {
                        VaultError::Identity {
                            source_name: source.to_string(),
                            reason: "the file does not exist".into(),
                            hint: "create an identity with `peta vault init`".into(),
                        }
                    }
                    other => VaultError::File(other),
                })?;
                if is_age_file(&bytes) {
                    let text = unlock_identity(&bytes, path)?;
                    Identity::parse(&text, source)
                } else {
                    let text = std::str::from_utf8(&bytes).map_err(|_| VaultError::Identity {
                        source_name: source.to_string(),
                        reason: "it is not text".into(),
                        hint: "point [vault] identity at a file made by `peta vault init`".into(),
                    })?;
                    Identity::parse(text, source)
                }
            }
        }
    }

    /// Stores the identity where `source` says (a 0600 file, or the keyring), encrypting the
    /// file with `passphrase` when one is given.
    pub(crate) fn store(
        &self,
        source: &IdentitySource,
        passphrase: Option<SecretString>,
        keyring: &dyn Fn() -> Result<Keyring, super::keyring::Failure>,
    ) -> Result<(), VaultError> {
        let text = self.to_file_text();
        match source {
            IdentitySource::Keyring(name) => {
                let fail = |f: super::keyring::Failure| VaultError::Identity {
                    source_name: source.to_string(),
                    reason: f.reason,
                    hint: f.hint,
                };
                keyring()
                    .and_then(|k| k.set(name, &SecretValue::new(text.to_string())))
                    .map_err(fail)
            }
            IdentitySource::File(path) => {
                if path.exists() {
                    return Err(VaultError::Refused(
                        format!("{} already exists", path.display()),
                        "peta never overwrites an identity; move it away first".into(),
                    ));
                }
                let bytes = match passphrase {
                    Some(passphrase) => {
                        let recipient = age::scrypt::Recipient::new(passphrase);
                        Zeroizing::new(
                            age::encrypt_and_armor(&recipient, text.as_bytes())
                                .map_err(|e| {
                                    VaultError::Refused(
                                        format!("cannot encrypt the identity: {e}"),
                                        "this is a bug in peta; please report it".into(),
                                    )
                                })?
                                .into_bytes(),
                        )
                    }
                    None => Zeroizing::new(text.as_bytes().to_vec()),
                };
                files::write_atomic(path, &bytes).map_err(VaultError::File)
            }
        }
    }
}

fn is_age_file(bytes: &[u8]) -> bool {
    bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
        || bytes.starts_with(b"age-encryption.org/v1")
}

/// Decrypts a passphrase-protected identity file, asking at the terminal.
fn unlock_identity(bytes: &[u8], path: &Path) -> Result<Zeroizing<String>, VaultError> {
    let source_name = path.display().to_string();
    let fail = |reason: String, hint: &str| VaultError::Identity {
        source_name: source_name.clone(),
        reason,
        hint: hint.into(),
    };
    let term = crate::tty::open().ok_or_else(|| {
        fail(
            "it is protected by a passphrase and there is no terminal to ask for it".into(),
            "run from a terminal, or keep the identity in the keyring (`peta vault init --identity keyring`)",
        )
    })?;
    let passphrase =
        crate::tty::read_secret(&term, &format!("Passphrase for {}", path.display()), false)
            .map_err(|e| fail(format!("reading the passphrase failed: {e}"), "try again"))?;
    let identity = age::scrypt::Identity::new(SecretString::from(passphrase.to_string()));
    let plain =
        decrypt(bytes, &identity).map_err(|e| fail(e, "check the passphrase and try again"))?;
    String::from_utf8(plain.to_vec())
        .map(Zeroizing::new)
        .map_err(|_| {
            fail(
                "its content is not text".into(),
                "recreate it with `peta vault init`",
            )
        })
}

fn decrypt(bytes: &[u8], identity: &dyn age::Identity) -> Result<Zeroizing<Vec<u8>>, String> {
    let reader = age::armor::ArmoredReader::new(bytes);
    let decryptor = age::Decryptor::new(reader).map_err(|e| e.to_string())?;
    let mut stream = decryptor
        .decrypt(std::iter::once(identity))
        .map_err(|e| e.to_string())?;
    let mut plain = Zeroizing::new(Vec::new());
    stream.read_to_end(&mut plain).map_err(|e| e.to_string())?;
    Ok(plain)
}

fn parse_recipient(key: &str) -> Result<age::x25519::Recipient, VaultError> {
    age::x25519::Recipient::from_str(key.trim()).map_err(|_| VaultError::BadRecipient {
        key: key.chars().take(80).collect(),
    })
}

impl Vault {
    /// A new, empty vault encrypted to `identity`.
    pub(crate) fn create(path: &Path, identity: &Identity) -> Vault {
        Vault {
            path: path.to_owned(),
            recipients: vec![identity.public()],
            secrets: BTreeMap::new(),
        }
    }

    pub(crate) fn open(path: &Path, identity: &Identity) -> Result<Vault, VaultError> {
        let bytes = match files::read_checked(path, Privacy::NotWritable) {
            Err(FileError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Err(VaultError::Missing {
                    path: path.to_owned(),
                });
            }
            other => other?,
        };
        let corrupt = |reason: String| VaultError::Corrupt {
            path: path.to_owned(),
            reason,
        };
        let plain = match decrypt(&bytes, &identity.key) {
            Ok(plain) => plain,
            Err(_) if !is_age_file(&bytes) => {
                return Err(corrupt("it does not start with an age header".into()));
            }
            Err(reason) if reason.contains("No matching keys") => {
                return Err(VaultError::NotARecipient {
                    path: path.to_owned(),
                    public: identity.public(),
                });
            }
            Err(reason) => return Err(corrupt(reason)),
        };
        let parsed: Plaintext = serde_json::from_slice(&plain)
            // serde_json's message may quote the content; only its position is shown.
            .map_err(|e| {
                corrupt(format!(
                    "its content is not a peta vault ({:?} error at byte line {} column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ))
            })?;
        if parsed.version != 1 {
            return Err(corrupt(format!(
                "it is vault format {}, and this peta reads format 1",
                parsed.version
            )));
        }
        if parsed.recipients.is_empty() {
            return Err(corrupt("it lists no recipients".into()));
        }
        Ok(Vault {
            path: path.to_owned(),
            recipients: parsed.recipients,
            secrets: parsed
                .secrets
                .into_iter()
                .map(|(k, v)| (k, SecretValue::new(v)))
                .collect(),
        })
    }

    /// Encrypts to every recipient and replaces the file atomically, then rewrites the
    /// readable recipient list beside it.
    pub(crate) fn save(&self, recipients_copy: &Path) -> Result<(), VaultError> {
        let keys = self
            .recipients
            .iter()
            .map(|k| parse_recipient(k))
            .collect::<Result<Vec<_>, _>>()?;
        let plain = Zeroizing::new(
            serde_json::to_vec(&Plaintext {
                version: 1,
                recipients: self.recipients.clone(),
                secrets: self
                    .secrets
                    .iter()
                    .map(|(k, v)| (k.clone(), v.expose().to_owned()))
                    .collect(),
            })
            .expect("a map of strings serializes"),
        );
        let bug = |e: String| {
            VaultError::Refused(
                format!("cannot encrypt the vault: {e}"),
                "this is a bug in peta; please report it".into(),
            )
        };
        let encryptor =
            age::Encryptor::with_recipients(keys.iter().map(|k| k as &dyn age::Recipient))
                .map_err(|e| bug(e.to_string()))?;
        let mut out = Vec::new();
        let armor =
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
                .map_err(|e| bug(e.to_string()))?;
        let mut writer = encryptor
            .wrap_output(armor)
            .map_err(|e| bug(e.to_string()))?;
        writer.write_all(&plain).map_err(|e| bug(e.to_string()))?;
        writer
            .finish()
            .and_then(|armor| armor.finish())
            .map_err(|e| bug(e.to_string()))?;
        files::write_atomic(&self.path, &out)?;
        let mut listing = String::from(
            "# Who can open the vault beside this file, for review. peta encrypts to the list kept\n\
             # inside the vault; change it with `peta vault recipients add|rm`.\n",
        );
        for key in &self.recipients {
            listing.push_str(key);
            listing.push('\n');
        }
        files::write_atomic(recipients_copy, listing.as_bytes())?;
        Ok(())
    }

    pub(crate) fn get(&self, name: &str) -> Result<SecretValue, VaultError> {
        self.secrets
            .get(name)
            .cloned()
            .ok_or_else(|| VaultError::NoSecret {
                path: self.path.clone(),
                name: name.to_owned(),
            })
    }

    /// Sets a secret; `true` when it replaced one.
    pub(crate) fn set(&mut self, name: &str, value: SecretValue) -> bool {
        self.secrets.insert(name.to_owned(), value).is_some()
    }

    pub(crate) fn remove(&mut self, name: &str) -> bool {
        self.secrets.remove(name).is_some()
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.secrets.keys().map(String::as_str)
    }

    pub(crate) fn recipients(&self) -> &[String] {
        &self.recipients
    }

    /// Adds a recipient; `false` when it was already one.
    pub(crate) fn add_recipient(&mut self, key: &str) -> Result<bool, VaultError> {
        let key = parse_recipient(key)?.to_string();
        if self.recipients.contains(&key) {
            return Ok(false);
        }
        self.recipients.push(key);
        Ok(true)
    }

    /// Removes a recipient. Never the last one, and never the caller's own key (they could
    /// not open the result).
    pub(crate) fn remove_recipient(&mut self, key: &str, own: &str) -> Result<bool, VaultError> {
        let key = key.trim();
        if !self.recipients.iter().any(|k| k == key) {
            return Ok(false);
        }
        if key == own {
            return Err(VaultError::Refused(
                "that is your own key; you could no longer open the vault".into(),
                "ask another recipient to remove it".into(),
            ));
        }
        self.recipients.retain(|k| k != key);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault_in(dir: &Path, identity: &Identity) -> (PathBuf, PathBuf) {
        let path = dir.join("vault.age");
        let copy = dir.join("vault.recipients");
        let mut vault = Vault::create(&path, identity);
        vault.set("github", SecretValue::new("ghp_canary_value_123".into()));
        vault.save(&copy).expect("save");
        (path, copy)
    }

    #[test]
    fn round_trip_with_several_recipients() {
        let dir = tempfile::tempdir().expect("dir");
        let (alice, bob, eve) = (
            Identity::generate(),
            Identity::generate(),
            Identity::generate(),
        );
        let (path, copy) = vault_in(dir.path(), &alice);
        let mut vault = Vault::open(&path, &alice).expect("alice opens");
        assert!(vault.add_recipient(&bob.public()).expect("add"));
        assert!(!vault.add_recipient(&bob.public()).expect("again"));
        vault.save(&copy).expect("save");

        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        assert!(!text.contains("ghp_canary"));
        let listing = std::fs::read_to_string(&copy).expect("copy");
        assert!(listing.contains(&alice.public()) && listing.contains(&bob.public()));

        let opened = Vault::open(&path, &bob).expect("bob opens");
        assert_eq!(
            opened.get("github").expect("get").expose(),
            "ghp_canary_value_123"
        );
        assert!(matches!(
            Vault::open(&path, &eve),
            Err(VaultError::NotARecipient { .. })
        ));

        let mut vault = Vault::open(&path, &alice).expect("alice");
        assert!(matches!(
            vault.remove_recipient(&alice.public(), &alice.public()),
            Err(VaultError::Refused(..))
        ));
        assert!(
            vault
                .remove_recipient(&bob.public(), &alice.public())
                .expect("rm")
        );
        vault.save(&copy).expect("save");
        assert!(matches!(
            Vault::open(&path, &bob),
            Err(VaultError::NotARecipient { .. })
        ));
    }

    #[test]
    fn the_list_inside_the_vault_is_the_one_encrypted_to() {
        let dir = tempfile::tempdir().expect("dir");
        let (alice, mallory) = (Identity::generate(), Identity::generate());
        let (path, copy) = vault_in(dir.path(), &alice);
        // Someone appends their key to the readable copy.
        let mut listing = std::fs::read_to_string(&copy).expect("copy");
        listing.push_str(&mallory.public());
        std::fs::write(&copy, listing).expect("write");
        let mut vault = Vault::open(&path, &alice).expect("open");
        vault.set("slack", SecretValue::new("xoxb-another-value".into()));
        vault.save(&copy).expect("save");
        assert!(Vault::open(&path, &mallory).is_err());
    }

    #[test]
    fn truncated_or_corrupt_files_fail_closed() {
        let dir = tempfile::tempdir().expect("dir");
        let alice = Identity::generate();
        let (path, _) = vault_in(dir.path(), &alice);
        let bytes = std::fs::read(&path).expect("read");
        for cut in [10, bytes.len() / 2, bytes.len() - 40] {
            std::fs::write(&path, &bytes[..cut]).expect("truncate");
            let err = Vault::open(&path, &alice).expect_err("truncated");
            assert!(matches!(err, VaultError::Corrupt { .. }), "{cut}: {err:?}");
        }
        let mut flipped = bytes.clone();
        let middle = flipped.len() - 100;
        flipped[middle] = if flipped[middle] == b'A' { b'B' } else { b'A' };
        std::fs::write(&path, &flipped).expect("flip");
        assert!(Vault::open(&path, &alice).is_err());
        std::fs::write(&path, b"not a vault").expect("junk");
        assert!(matches!(
            Vault::open(&path, &alice),
            Err(VaultError::Corrupt { .. })
        ));
    }

    #[test]
    fn identities_round_trip_through_files_and_the_keyring() {
        let dir = tempfile::tempdir().expect("dir");
        let keyring = Keyring::mock();
        let open = || Ok(keyring.clone());
        let identity = Identity::generate();
        let file = IdentitySource::File(dir.path().join("id.txt"));
        identity.store(&file, None, &open).expect("file");
        assert_eq!(
            Identity::load(&file, &open).expect("load").public(),
            identity.public()
        );
        assert!(
            identity.store(&file, None, &open).is_err(),
            "never overwritten"
        );
        let kept = IdentitySource::Keyring("vault-identity-test".into());
        identity.store(&kept, None, &open).expect("keyring");
        assert_eq!(
            Identity::load(&kept, &open).expect("load").public(),
            identity.public()
        );
        let missing = IdentitySource::Keyring("nothing-here".into());
        let err = Identity::load(&missing, &open).err().expect("missing");
        assert!(err.hint().contains("peta vault init"), "{}", err.hint());
    }

    #[cfg(unix)]
    #[test]
    fn loose_identity_or_vault_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let keyring = Keyring::mock();
        let open = || Ok(keyring.clone());
        let identity = Identity::generate();
        let id_path = dir.path().join("id.txt");
        let file = IdentitySource::File(id_path.clone());
        identity.store(&file, None, &open).expect("file");
        std::fs::set_permissions(&id_path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let err = Identity::load(&file, &open)
            .err()
            .expect("group-readable key");
        assert!(err.to_string().contains("bad permissions"), "{err}");
        let (path, _) = vault_in(dir.path(), &identity);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        let err = Vault::open(&path, &identity).expect_err("world-writable vault");
        assert!(err.hint().starts_with("chmod go-w"), "{}", err.hint());
    }
}
