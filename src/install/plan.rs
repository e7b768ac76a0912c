//! What `peta install` and `peta uninstall` change in a client's file, worked out without
//! touching anything: the new text, and for each server what was there before.
//!
//! Only the bytes of the server entries peta wraps change. Inside an entry, `command` and
//! `args` are replaced, and the env members that hold credentials are cut out; everything else
//! (other members, comments, spacing) stays. The entry's original text is recorded with each
//! credential's literal left out, so uninstall can put the exact bytes back.
//!
//! This file decides what wrapping an entry means; `json` and `toml` find the entries in
//! their format and write that decision in its syntax.

mod json;
mod toml;

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::clients::Format;
use crate::secrets::SecretValue;
use crate::secrets::reference::looks_like_credential;

/// How servers are wrapped on this machine.
pub(crate) struct Wrapping<'a> {
    /// The absolute path of the `peta` binary.
    pub(crate) peta: &'a str,
    /// The `PATH` to give servers whose entry sets none, captured where `peta install` runs,
    /// for clients started from a desktop (which have a much shorter one).
    pub(crate) path: Option<&'a str>,
    /// Where the credentials found in entries go.
    pub(crate) secrets: Secrets,
    /// Whether the store may take `name` for `value`: it is free, or holds that value.
    pub(crate) free: &'a dyn Fn(&str, &str) -> bool,
    /// Variables peta itself needs that the client does not pass on, with their values here:
    /// written into each entry's env (Codex's file only).
    pub(crate) add_env: &'a [(String, String)],
    /// Variables the client should pass on from its own environment by name (Codex's
    /// `env_vars`).
    pub(crate) forward: &'a [String],
}

/// Where the credentials found in entries go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Secrets {
    /// Into a store, and the entry refers to them.
    Move(Store),
    /// They stay in the file; peta passes them on by name.
    Leave,
    /// Nowhere: the entries that hold one are skipped, for this reason.
    Nowhere(String),
}

/// Where a moved credential lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Store {
    #[default]
    Keyring,
    Vault,
}

impl Store {
    /// The reference scheme peta run resolves (`keyring:NAME`, `age:NAME`).
    pub(crate) fn scheme(self) -> &'static str {
        match self {
            Store::Keyring => "keyring",
            Store::Vault => "age",
        }
    }

    fn is_keyring(&self) -> bool {
        *self == Store::Keyring
    }
}

/// A piece of a recorded entry: text as it was, or where a credential's literal stood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Part {
    Text(String),
    Secret {
        var: String,
        secret: String,
        #[serde(default, skip_serializing_if = "Store::is_keyring")]
        store: Store,
        /// Whether the gap is the whole literal, written back quoted in the file's syntax;
        /// otherwise the gap is the text between the quotes, and the value goes in as it is.
        #[serde(default = "quoted", skip_serializing_if = "is_quoted")]
        quoted: bool,
    },
}

fn quoted() -> bool {
    true
}

fn is_quoted(quoted: &bool) -> bool {
    *quoted
}

/// A credential taken out of an entry.
#[derive(Debug)]
pub(crate) struct Moved {
    pub(crate) var: String,
    /// Its name in the store.
    pub(crate) secret: String,
    pub(crate) store: Store,
    pub(crate) value: SecretValue,
    /// The literal it was written as (for redacting diffs).
    pub(crate) literal: String,
}

/// A credential left in the file, as asked.
#[derive(Debug)]
pub(crate) struct Left {
    pub(crate) var: String,
    pub(crate) value: SecretValue,
    /// The literal it is written as (for redacting diffs).
    pub(crate) literal: String,
}

#[derive(Debug)]
pub(crate) struct Wrapped {
    pub(crate) name: String,
    pub(crate) original: Vec<Part>,
    pub(crate) written: String,
    pub(crate) moved: Vec<Moved>,
    /// Other env entries, passed on to the server by name.
    pub(crate) passed: Vec<String>,
    /// Credentials left in the file (`Secrets::Leave`).
    pub(crate) left: Vec<Left>,
    /// Whether the captured PATH was added.
    pub(crate) path_added: bool,
    /// The variables written into the entry's env for peta itself.
    pub(crate) added: Vec<String>,
    /// The variables added to those the client passes on by name.
    pub(crate) forwarded: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Skipped {
    pub(crate) name: String,
    pub(crate) reason: String,
}

#[derive(Debug)]
pub(crate) struct Install {
    pub(crate) text: String,
    pub(crate) wrapped: Vec<Wrapped>,
    pub(crate) skipped: Vec<Skipped>,
}

/// Plans the wrapping of every stdio server under `servers_path` that does not run through
/// peta yet.
pub(crate) fn install(
    text: &str,
    format: Format,
    servers_path: &[String],
    wrapping: &Wrapping,
) -> Result<Install, String> {
    match format {
        Format::Json => json::install(text, servers_path, wrapping),
        Format::Toml => toml::install(text, servers_path, wrapping),
    }
}

/// A server entry peta wrote, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) original: Vec<Part>,
    pub(crate) written: String,
}

impl Entry {
    /// Each moved credential: its variable, its name in the store, and the store.
    pub(crate) fn secrets(&self) -> impl Iterator<Item = (&str, &str, Store)> {
        self.original.iter().filter_map(|p| match p {
            Part::Secret {
                var, secret, store, ..
            } => Some((var.as_str(), secret.as_str(), *store)),
            Part::Text(_) => None,
        })
    }
}

impl From<&Wrapped> for Entry {
    fn from(w: &Wrapped) -> Entry {
        Entry {
            name: w.name.clone(),
            original: w.original.clone(),
            written: w.written.clone(),
        }
    }
}

/// What uninstall does with one recorded entry.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Put back as it was.
    Restored,
    /// Changed by someone since peta wrote it: left alone.
    Changed,
    /// No longer in the file.
    Gone,
    /// Its credentials live in a store now; without `--restore-plaintext` the entry keeps
    /// running through peta.
    KeptSecrets(Vec<String>),
}

#[derive(Debug)]
pub(crate) struct Uninstall {
    pub(crate) text: String,
    pub(crate) outcomes: Vec<(String, Outcome)>,
    /// The values written back: the variable, the value, and the text it was written as
    /// (for redacting the diff).
    pub(crate) restored: Vec<(String, SecretValue, String)>,
}

/// Each server entry of a file by name, with where its text is (`None`: written in a way
/// peta does not edit, so never what peta wrote).
type EntrySpans = Vec<(String, Option<std::ops::Range<usize>>)>;

/// Gives a moved credential's value back: its name in the store, and the store.
pub(crate) type Reveal<'a> = dyn FnMut(&str, Store) -> Result<SecretValue, String> + 'a;

/// Plans putting recorded entries back. `reveal` gives a moved credential's value; it is
/// asked only when `restore_plaintext` is set.
pub(crate) fn uninstall(
    text: &str,
    format: Format,
    servers_path: &[String],
    entries: &[Entry],
    restore_plaintext: bool,
    reveal: &mut Reveal,
) -> Result<Uninstall, String> {
    // Where each recorded entry is in the file now, or why it cannot be found.
    let spans = match format {
        Format::Json => json::entry_spans(text, servers_path)?,
        Format::Toml => toml::entry_spans(text, servers_path)?,
    };
    let mut plan = Uninstall {
        text: text.to_owned(),
        outcomes: Vec::new(),
        restored: Vec::new(),
    };
    let mut edits = Vec::new();
    for entry in entries {
        let Some((_, span)) = spans.iter().find(|(name, _)| *name == entry.name) else {
            plan.outcomes.push((entry.name.clone(), Outcome::Gone));
            continue;
        };
        let Some(span) = span
            .as_ref()
            .filter(|s| text[(*s).clone()] == entry.written)
        else {
            plan.outcomes.push((entry.name.clone(), Outcome::Changed));
            continue;
        };
        let vars: Vec<String> = entry.secrets().map(|(v, _, _)| v.to_owned()).collect();
        if !vars.is_empty() && !restore_plaintext {
            plan.outcomes
                .push((entry.name.clone(), Outcome::KeptSecrets(vars)));
            continue;
        }
        let mut original = String::new();
        for part in &entry.original {
            match part {
                Part::Text(t) => original.push_str(t),
                Part::Secret {
                    var,
                    secret,
                    store,
                    quoted,
                } => {
                    let value = reveal(secret, *store)
                        .map_err(|e| format!("{}: {var}: {e}", entry.name))?;
                    let literal = match (quoted, format) {
                        (false, _) => value.expose().to_owned(),
                        (true, Format::Json) => super::jsonc::quote(value.expose()),
                        (true, Format::Toml) => toml::quote(value.expose()),
                    };
                    original.push_str(&literal);
                    plan.restored.push((var.clone(), value, literal));
                }
            }
        }
        edits.push((span.clone(), original));
        plan.outcomes.push((entry.name.clone(), Outcome::Restored));
    }
    plan.text = apply(text, 0, edits);
    Ok(plan)
}

/// Replaces `edits` (ranges in the text that starts at `base`) in `text`.
fn apply(text: &str, base: usize, mut edits: Vec<(std::ops::Range<usize>, String)>) -> String {
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut out = text.to_owned();
    for (range, with) in edits {
        out.replace_range(range.start - base..range.end - base, &with);
    }
    out
}

fn duplicate<'k>(keys: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    let mut seen = std::collections::HashSet::new();
    keys.into_iter().find(|k| !seen.insert(*k))
}

/// A server entry as the client's file states it, whatever the file's syntax.
struct Stated<'a> {
    command: &'a str,
    args: Vec<&'a str>,
    /// The env members in order: the variable, and its value when it is a string.
    env: Vec<(&'a str, Option<&'a str>)>,
    /// Variables the client passes on by name (Codex's `env_vars`).
    forwarded: Vec<&'a str>,
}

/// What wrapping one entry means, before it is written in the file's syntax.
struct Decision {
    /// The entry's new arguments: `run --server NAME … -- <command> <args>`.
    args: Vec<String>,
    /// Indexes into `Stated::env` of the credentials that move, with where they go.
    moved: Vec<(usize, String, Store)>,
    passed: Vec<String>,
    /// Indexes into `Stated::env` of the credentials left in the file.
    left: Vec<usize>,
    path_added: bool,
    /// Variables to write into the entry's env for peta itself.
    add_env: Vec<(String, String)>,
    /// Variables to add to the names the client passes on.
    forward: Vec<String>,
    warnings: Vec<String>,
}

/// Decides how to wrap the entry `name`; an `Err` is why it is skipped.
fn decide(name: &str, entry: &Stated, wrapping: &Wrapping) -> Result<Decision, String> {
    if runs_peta(entry.command, &entry.args) {
        return Err("already runs through peta".into());
    }
    let mut warnings = Vec::new();
    if entry.args.iter().any(|a| {
        looks_like_credential("", a)
            || a.split_once('=')
                .is_some_and(|(k, v)| looks_like_credential(k, v))
    }) {
        warnings.push(
            "an argument looks like a credential; peta moves only env values, so pass it through env instead".into(),
        );
    }
    if let Some(var) = duplicate(entry.env.iter().map(|(k, _)| *k)) {
        return Err(format!("its env sets {var} more than once"));
    }
    let mut args: Vec<String> = vec!["run".into(), "--server".into(), name.into()];
    let mut moved = Vec::new();
    let mut passed = Vec::new();
    let mut left = Vec::new();
    for (i, (var, value)) in entry.env.iter().enumerate() {
        if var.is_empty() || var.contains('=') {
            return Err(format!("its env has a variable named {var:?}"));
        }
        let credential =
            value.is_some_and(|v| !client_reference(v) && looks_like_credential(var, v));
        if credential {
            match &wrapping.secrets {
                Secrets::Move(store) => {
                    let value = value.unwrap_or_default();
                    let secret = secret_name(name, var, value, wrapping);
                    args.push("--env".into());
                    args.push(format!("{var}={}:{secret}", store.scheme()));
                    moved.push((i, secret, *store));
                    continue;
                }
                Secrets::Leave => {
                    warnings.push(format!("{var} stays in the file as plain text"));
                    left.push(i);
                }
                Secrets::Nowhere(reason) => return Err(reason.clone()),
            }
        }
        args.push("--env".into());
        args.push(format!("{var}=env:{var}"));
        passed.push((*var).to_owned());
    }
    let path_added = match wrapping.path {
        Some(path) if !entry.env.iter().any(|(k, _)| *k == "PATH") => {
            args.push("--env".into());
            args.push(format!("PATH={path}"));
            true
        }
        _ => false,
    };
    args.push("--".into());
    args.push(entry.command.into());
    args.extend(entry.args.iter().map(|s| (*s).to_owned()));
    let add_env = wrapping
        .add_env
        .iter()
        .filter(|(k, _)| !entry.env.iter().any(|(var, _)| var == k))
        .cloned()
        .collect();
    let forward = wrapping
        .forward
        .iter()
        .filter(|k| !entry.forwarded.contains(&k.as_str()))
        .cloned()
        .collect();
    Ok(Decision {
        args,
        moved,
        passed,
        left,
        path_added,
        add_env,
        forward,
        warnings,
    })
}

/// Whether an entry's command is already peta.
fn runs_peta(command: &str, args: &[&str]) -> bool {
    let stem = Path::new(command)
        .file_stem()
        .and_then(|s| s.to_str())
        .or_else(|| command.rsplit(['/', '\\']).next());
    stem == Some("peta") && args.first() == Some(&"run")
}

/// The store's name for a credential: `SERVER.VAR`, or `SERVER.VAR-2`, … when another value
/// already has that name (the same server name in two clients, with two tokens).
fn secret_name(server: &str, var: &str, value: &str, wrapping: &Wrapping) -> String {
    let base = clean_name(server, var);
    (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|name| (wrapping.free)(name, value))
        .expect("some name is free")
}

/// A name usable in the keyring: letters, digits and `. _ - / @`.
fn clean_name(server: &str, var: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-@".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!("{}.{}", clean(server), clean(var))
}

/// Values the client itself fills in before starting the server, which peta must not move:
/// `${VAR}` (Claude Code, VS Code, Cursor), a whole `$VAR` (Gemini CLI), `op://` references.
fn client_reference(value: &str) -> bool {
    let variable = value.strip_prefix('$').is_some_and(|name| {
        name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    variable || value.contains("${") || value.starts_with("op://")
}

#[cfg(test)]
mod tests;
