//! Remembered approvals. "This session" and "for N minutes" live in memory; "always" is kept
//! in a 0600 JSON file and is bound to the server's name and the SHA-256 of its command
//! line, the tool, the SHA-256 of the tool's definition as listed, and the SHA-256 of the
//! exact canonical arguments shown: another command under the same name, a changed
//! definition or different arguments ask again. A grant written before commands were part
//! of the key has an empty command and applies to none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::Answer;

/// What a grant is bound to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct GrantKey {
    pub(crate) server: String,
    /// SHA-256 of the server's command line (see `commands::run`); empty in grants written
    /// by older versions, which therefore match no session.
    #[serde(default)]
    pub(crate) command: String,
    pub(crate) tool: String,
    /// SHA-256 of the tool's listed definition; empty when peta has not seen it listed.
    pub(crate) definition: String,
    /// SHA-256 of the canonical arguments.
    pub(crate) arguments: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Scope {
    Session,
    /// Until this many seconds after the Unix epoch.
    Until(u64),
    Always,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Grant {
    pub(crate) id: String,
    pub(crate) key: GrantKey,
    pub(crate) scope: Scope,
    /// Unix seconds.
    pub(crate) created: u64,
    /// Who gave it: `tty`, `console`, …
    pub(crate) by: String,
}

/// The grants of this peta process, and the persisted ones.
#[derive(Debug)]
pub(crate) struct Grants {
    file: Option<PathBuf>,
    live: Mutex<BTreeMap<GrantKey, Grant>>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Grants {
    /// In memory only.
    pub(crate) fn in_memory() -> Grants {
        Grants {
            file: None,
            live: Mutex::default(),
        }
    }

    /// With the persisted "always" grants of `file` (missing file: none yet).
    pub(crate) fn load(file: &Path) -> Result<Grants, String> {
        let grants = read(file)?;
        Ok(Grants {
            file: Some(file.to_owned()),
            live: Mutex::new(grants.into_iter().map(|g| (g.key.clone(), g)).collect()),
        })
    }

    /// The grant that allows `key` now, if any.
    pub(crate) fn check(&self, key: &GrantKey) -> Option<Grant> {
        let mut live = self.live.lock().expect("grants lock");
        let grant = live.get(key)?.clone();
        let gone = match grant.scope {
            Scope::Until(t) => t <= now(),
            // Revoked with `peta grants revoke` since this session loaded it?
            Scope::Always => self.file.as_ref().is_some_and(|file| {
                read(file).map_or(true, |all| !all.iter().any(|g| g.id == grant.id))
            }),
            Scope::Session => false,
        };
        if gone {
            live.remove(key);
            return None;
        }
        Some(grant)
    }

    /// Remembers an answer; `Deny` and `Once` remember nothing.
    pub(crate) fn remember(&self, key: GrantKey, answer: Answer, by: &str) -> Result<(), String> {
        let scope = match answer {
            Answer::Deny | Answer::Once | Answer::Dismissed => return Ok(()),
            Answer::Session => Scope::Session,
            Answer::For(d) => Scope::Until(now() + d.as_secs()),
            Answer::Always => Scope::Always,
        };
        self.insert(key, scope, by)
    }

    /// Allows identical calls for `ttl` (a late answer from the console).
    pub(crate) fn allow_retry(&self, key: GrantKey, ttl: Duration, by: &str) -> Result<(), String> {
        self.insert(key, Scope::Until(now() + ttl.as_secs()), by)
    }

    fn insert(&self, key: GrantKey, scope: Scope, by: &str) -> Result<(), String> {
        let grant = Grant {
            id: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
            key: key.clone(),
            scope,
            created: now(),
            by: by.to_owned(),
        };
        let mut live = self.live.lock().expect("grants lock");
        live.insert(key, grant);
        if scope == Scope::Always {
            self.save(&live)?;
        }
        Ok(())
    }

    fn save(&self, live: &BTreeMap<GrantKey, Grant>) -> Result<(), String> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        // Merge with what other sessions persisted since this one started.
        let mut all: BTreeMap<String, Grant> =
            read(file)?.into_iter().map(|g| (g.id.clone(), g)).collect();
        for grant in live.values().filter(|g| g.scope == Scope::Always) {
            all.retain(|_, g| g.key != grant.key);
            all.insert(grant.id.clone(), grant.clone());
        }
        write(file, all.into_values().collect())
    }
}

/// The persisted grants in `file`.
pub(crate) fn read(file: &Path) -> Result<Vec<Grant>, String> {
    match crate::files::read_checked(file, crate::files::Privacy::NotWritable) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is not a grants file: {e}", file.display())),
        Err(crate::files::FileError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(Vec::new())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Replaces the persisted grants.
pub(crate) fn write(file: &Path, grants: Vec<Grant>) -> Result<(), String> {
    let mut text = serde_json::to_vec_pretty(&grants).expect("grants serialize");
    text.push(b'\n');
    crate::files::write_atomic(file, &text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(args: &str) -> GrantKey {
        GrantKey {
            server: "demo".into(),
            command: "c1".into(),
            tool: "delete_file".into(),
            definition: "d1".into(),
            arguments: args.into(),
        }
    }

    #[test]
    fn scopes_and_persistence() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("grants.json");
        let grants = Grants::load(&file).expect("load");
        grants
            .remember(key("a"), Answer::Once, "tty")
            .expect("once");
        assert!(grants.check(&key("a")).is_none(), "once is not remembered");
        grants
            .remember(key("a"), Answer::Session, "tty")
            .expect("session");
        assert!(grants.check(&key("a")).is_some());
        assert!(
            grants.check(&key("b")).is_none(),
            "other arguments ask again"
        );
        grants
            .remember(key("c"), Answer::For(Duration::ZERO), "tty")
            .expect("expired at once");
        assert!(grants.check(&key("c")).is_none());
        grants
            .remember(key("d"), Answer::Always, "console")
            .expect("always");
        let again = Grants::load(&file).expect("reload");
        assert!(
            again.check(&key("d")).is_some(),
            "always survives the process"
        );
        assert!(again.check(&key("a")).is_none(), "session grants do not");
        let changed = GrantKey {
            definition: "d2".into(),
            ..key("d")
        };
        assert!(
            again.check(&changed).is_none(),
            "a changed definition asks again"
        );
        let other = GrantKey {
            command: "c2".into(),
            ..key("d")
        };
        assert!(
            again.check(&other).is_none(),
            "another command under the same name asks again"
        );
    }

    #[test]
    fn a_grant_from_before_commands_were_keyed_applies_to_none() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("grants.json");
        let old = r#"[{"id": "abc123def456", "key": {"server": "demo", "tool": "delete_file",
            "definition": "d1", "arguments": "a"}, "scope": "always", "created": 1, "by": "tty"}]"#;
        crate::files::write_atomic(&file, old.as_bytes()).expect("write");
        let grants = Grants::load(&file).expect("an older file loads");
        assert!(grants.check(&key("a")).is_none());
        assert_eq!(read(&file).expect("read")[0].key.command, "");
    }
}
