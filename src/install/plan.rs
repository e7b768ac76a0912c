//! What `peta install` and `peta uninstall` change in a client's file, worked out without
//! touching anything: the new text, and for each server what was there before.
//!
//! Only the bytes of the server entries peta wraps change. Inside an entry, `command` and
//! `args` are replaced, and the env members that hold credentials are cut out; everything else
//! (other members, comments, spacing) stays. The entry's original text is recorded with each
//! credential's string literal left out, so uninstall can put the exact bytes back.

use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::jsonc::{self, Kind, Member, Node};
use crate::secrets::SecretValue;
use crate::secrets::reference::looks_like_credential;

/// How servers are wrapped on this machine.
pub(crate) struct Wrapping<'a> {
    /// The absolute path of the `peta` binary.
    pub(crate) peta: &'a str,
    /// The `PATH` to give servers whose entry sets none, captured where `peta install` runs
    /// (clients started from a desktop have a much shorter one).
    pub(crate) path: Option<&'a str>,
    /// Whether the keyring may take `name` for `value`: it is free, or holds that value.
    pub(crate) free: &'a dyn Fn(&str, &str) -> bool,
}

/// A piece of a recorded entry: text as it was, or where a credential's literal stood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Part {
    Text(String),
    Secret { var: String, secret: String },
}

/// A credential taken out of an entry.
#[derive(Debug)]
pub(crate) struct Moved {
    pub(crate) var: String,
    /// Its name in the keyring.
    pub(crate) secret: String,
    pub(crate) value: SecretValue,
    /// The JSON literal it was written as (for redacting diffs).
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
    /// Whether the captured PATH was added.
    pub(crate) path_added: bool,
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
    servers_path: &[String],
    wrapping: &Wrapping,
) -> Result<Install, String> {
    let root = jsonc::parse(text).map_err(|e| e.to_string())?;
    let mut plan = Install {
        text: text.to_owned(),
        wrapped: Vec::new(),
        skipped: Vec::new(),
    };
    let Some(servers) = find(&root, servers_path)? else {
        return Ok(plan);
    };
    let members = servers
        .members()
        .ok_or_else(|| format!("{} is not an object", servers_path.join(".")))?;
    check_unique(members)?;
    let mut edits = Vec::new();
    for member in members {
        match wrap(text, &member.key, &member.value, wrapping) {
            Ok(wrapped) => {
                edits.push((member.value.span.clone(), wrapped.written.clone()));
                plan.wrapped.push(wrapped);
            }
            Err(reason) => plan.skipped.push(Skipped {
                name: member.key.clone(),
                reason,
            }),
        }
    }
    plan.text = apply(text, 0, edits);
    Ok(plan)
}

/// A server entry peta wrote, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) original: Vec<Part>,
    pub(crate) written: String,
}

impl Entry {
    pub(crate) fn secrets(&self) -> impl Iterator<Item = (&str, &str)> {
        self.original.iter().filter_map(|p| match p {
            Part::Secret { var, secret } => Some((var.as_str(), secret.as_str())),
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
    /// Its credentials live in the keyring now; without `--restore-plaintext` the entry keeps
    /// running through peta.
    KeptSecrets(Vec<String>),
}

#[derive(Debug)]
pub(crate) struct Uninstall {
    pub(crate) text: String,
    pub(crate) outcomes: Vec<(String, Outcome)>,
    /// The values written back, for redacting the diff.
    pub(crate) restored_literals: Vec<(String, String)>,
}

/// Plans putting recorded entries back. `reveal` gives a moved credential's value; it is
/// asked only when `restore_plaintext` is set.
pub(crate) fn uninstall(
    text: &str,
    servers_path: &[String],
    entries: &[Entry],
    restore_plaintext: bool,
    reveal: &mut dyn FnMut(&str) -> Result<SecretValue, String>,
) -> Result<Uninstall, String> {
    let root = jsonc::parse(text).map_err(|e| e.to_string())?;
    let servers = find(&root, servers_path)?;
    let members = match servers {
        Some(s) => s
            .members()
            .ok_or_else(|| format!("{} is not an object", servers_path.join(".")))?,
        None => &[],
    };
    check_unique(members)?;
    let mut plan = Uninstall {
        text: text.to_owned(),
        outcomes: Vec::new(),
        restored_literals: Vec::new(),
    };
    let mut edits = Vec::new();
    for entry in entries {
        let Some(member) = members.iter().find(|m| m.key == entry.name) else {
            plan.outcomes.push((entry.name.clone(), Outcome::Gone));
            continue;
        };
        if text[member.value.span.clone()] != entry.written {
            plan.outcomes.push((entry.name.clone(), Outcome::Changed));
            continue;
        }
        let vars: Vec<String> = entry.secrets().map(|(v, _)| v.to_owned()).collect();
        if !vars.is_empty() && !restore_plaintext {
            plan.outcomes
                .push((entry.name.clone(), Outcome::KeptSecrets(vars)));
            continue;
        }
        let mut original = String::new();
        for part in &entry.original {
            match part {
                Part::Text(t) => original.push_str(t),
                Part::Secret { var, secret } => {
                    let value =
                        reveal(secret).map_err(|e| format!("{}: {var}: {e}", entry.name))?;
                    let literal = jsonc::quote(value.expose());
                    plan.restored_literals.push((var.clone(), literal.clone()));
                    original.push_str(&literal);
                }
            }
        }
        edits.push((member.value.span.clone(), original));
        plan.outcomes.push((entry.name.clone(), Outcome::Restored));
    }
    plan.text = apply(text, 0, edits);
    Ok(plan)
}

/// The object at `path`, `None` when a key on the way is missing.
fn find<'n>(root: &'n Node, path: &[String]) -> Result<Option<&'n Node>, String> {
    let mut node = root;
    for (i, key) in path.iter().enumerate() {
        if node.members().is_none() {
            return Err(format!(
                "{} is not an object",
                if i == 0 {
                    "the file".to_owned()
                } else {
                    path[..i].join(".")
                }
            ));
        }
        match node.get(key)? {
            Some(member) => node = &member.value,
            None => return Ok(None),
        }
    }
    Ok(Some(node))
}

fn check_unique(members: &[Member]) -> Result<(), String> {
    match duplicate(members) {
        Some(key) => Err(format!(
            "the server \"{key}\" is defined twice; clients disagree on which one counts, so peta leaves the file alone until one is removed"
        )),
        None => Ok(()),
    }
}

fn duplicate(members: &[Member]) -> Option<&str> {
    members
        .iter()
        .enumerate()
        .find(|(i, m)| members[..*i].iter().any(|o| o.key == m.key))
        .map(|(_, m)| m.key.as_str())
}

/// Replaces `edits` (ranges in the text that starts at `base`) in `text`.
fn apply(text: &str, base: usize, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut out = text.to_owned();
    for (range, with) in edits {
        out.replace_range(range.start - base..range.end - base, &with);
    }
    out
}

/// Whether an entry's command is already peta.
fn runs_peta(command: &str, args: &[&str]) -> bool {
    let stem = Path::new(command)
        .file_stem()
        .and_then(|s| s.to_str())
        .or_else(|| command.rsplit(['/', '\\']).next());
    stem == Some("peta") && args.first() == Some(&"run")
}

/// The keyring name for a credential: `SERVER.VAR`, or `SERVER.VAR-2`, … when another value
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

/// Values the client itself fills in before starting the server, which peta must not move.
fn client_reference(value: &str) -> bool {
    value.contains("${") || value.starts_with("op://")
}

fn wrap(text: &str, name: &str, entry: &Node, wrapping: &Wrapping) -> Result<Wrapped, String> {
    entry
        .members()
        .ok_or_else(|| "its entry is not an object".to_owned())?;
    let command = entry.get("command")?;
    let kind = entry.get("type")?.and_then(|m| m.value.as_str());
    let remote = entry.get("url")?.is_some() || entry.get("serverUrl")?.is_some();
    if kind.is_some_and(|k| k != "stdio") || (command.is_none() && remote) {
        return Err(
            "reached over HTTP/SSE; peta wraps the servers a client starts itself (stdio)".into(),
        );
    }
    let command = command.ok_or_else(|| "it has no command".to_owned())?;
    let program = command
        .value
        .as_str()
        .ok_or_else(|| "its command is not a string".to_owned())?;
    let args = entry.get("args")?;
    let arg_items: Vec<&Node> = match args.map(|m| &m.value.kind) {
        None => Vec::new(),
        Some(Kind::Array(items)) => items.iter().collect(),
        Some(_) => return Err("its args are not a list".into()),
    };
    let arg_texts: Vec<&str> = arg_items
        .iter()
        .map(|n| n.as_str())
        .collect::<Option<_>>()
        .ok_or_else(|| "its args are not all strings".to_owned())?;
    if runs_peta(program, &arg_texts) {
        return Err("already runs through peta".into());
    }
    let mut warnings = Vec::new();
    if arg_texts.iter().any(|a| {
        looks_like_credential("", a)
            || a.split_once('=')
                .is_some_and(|(k, v)| looks_like_credential(k, v))
    }) {
        warnings.push(
            "an argument looks like a credential; peta moves only env values, so pass it through env instead".into(),
        );
    }

    let mut new_args: Vec<String> = vec!["run".into(), "--server".into(), name.into()];
    let mut moved = Vec::new();
    let mut passed = Vec::new();
    let mut removed = Vec::new();
    let env = entry.get("env")?;
    let env_members: &[Member] = match env.map(|m| &m.value) {
        None => &[],
        Some(node) => node
            .members()
            .ok_or_else(|| "its env is not an object".to_owned())?,
    };
    if let Some(var) = duplicate(env_members) {
        return Err(format!("its env sets {var} more than once"));
    }
    for (i, member) in env_members.iter().enumerate() {
        let var = &member.key;
        if var.is_empty() || var.contains('=') {
            return Err(format!("its env has a variable named {var:?}"));
        }
        match member.value.as_str() {
            Some(value) if !client_reference(value) && looks_like_credential(var, value) => {
                let secret = secret_name(name, var, value, wrapping);
                new_args.push("--env".into());
                new_args.push(format!("{var}=keyring:{secret}"));
                moved.push(Moved {
                    var: var.clone(),
                    secret,
                    value: SecretValue::new(value.to_owned()),
                    literal: text[member.value.span.clone()].to_owned(),
                });
                removed.push(i);
            }
            _ => {
                new_args.push("--env".into());
                new_args.push(format!("{var}=env:{var}"));
                passed.push(var.clone());
            }
        }
    }
    let path_added = match wrapping.path {
        Some(path) if !env_members.iter().any(|m| m.key == "PATH") => {
            new_args.push("--env".into());
            new_args.push(format!("PATH={path}"));
            true
        }
        _ => false,
    };
    new_args.push("--".into());
    new_args.push(program.into());
    new_args.extend(arg_texts.iter().map(|s| (*s).to_owned()));

    let mut edits = vec![(command.value.span.clone(), jsonc::quote(wrapping.peta))];
    match args {
        Some(member) => edits.push((
            member.value.span.clone(),
            array_text(text, &member.value, &arg_items, &new_args),
        )),
        None => {
            let at = command.value.span.end;
            let separator = space_before(text, command.span.start);
            edits.push((
                at..at,
                format!(",{separator}\"args\": {}", one_line(&new_args)),
            ));
        }
    }
    if let Some(env) = env {
        edits.extend(removals(&env.value, env_members, &removed));
    }
    let span = entry.span.clone();
    let written = apply(&text[span.clone()], span.start, edits);
    let mut original = Vec::new();
    let mut at = span.start;
    for (&i, m) in removed.iter().zip(&moved) {
        let literal = env_members[i].value.span.clone();
        original.push(Part::Text(text[at..literal.start].to_owned()));
        original.push(Part::Secret {
            var: m.var.clone(),
            secret: m.secret.clone(),
        });
        at = literal.end;
    }
    original.push(Part::Text(text[at..span.end].to_owned()));
    Ok(Wrapped {
        name: name.to_owned(),
        original,
        written,
        moved,
        passed,
        path_added,
        warnings,
    })
}

/// The whitespace before the byte at `at` back to the previous token, or one space.
fn space_before(text: &str, at: usize) -> String {
    let before = &text[..at];
    let trimmed = before.trim_end_matches([' ', '\t', '\n', '\r']);
    match &before[trimmed.len()..] {
        "" => " ".into(),
        space => space.into(),
    }
}

fn one_line(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| jsonc::quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The new args array, laid out like the old one: one item per line if it had that.
fn array_text(text: &str, old: &Node, items: &[&Node], new: &[String]) -> String {
    let old_text = &text[old.span.clone()];
    let Some(first) = items.first() else {
        return one_line(new);
    };
    if !old_text.contains('\n') {
        return one_line(new);
    }
    let indent = |at: usize| {
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let leading = &text[line_start..at];
        if leading.trim().is_empty() {
            Some(leading.to_owned())
        } else {
            None
        }
    };
    let (Some(item_indent), Some(close_indent)) =
        (indent(first.span.start), indent(old.span.end - 1))
    else {
        return one_line(new);
    };
    let lines: Vec<String> = new
        .iter()
        .map(|s| format!("{item_indent}{}", jsonc::quote(s)))
        .collect();
    format!("[\n{}\n{close_indent}]", lines.join(",\n"))
}

/// Edits cutting the members at `removed` (ascending indexes) out of `object`, commas and
/// all, so what remains is still valid.
fn removals(object: &Node, members: &[Member], removed: &[usize]) -> Vec<(Range<usize>, String)> {
    if removed.is_empty() {
        return Vec::new();
    }
    if removed.len() == members.len() {
        return vec![(object.span.clone(), "{}".into())];
    }
    let mut edits = Vec::new();
    let mut i = 0;
    while i < removed.len() {
        // A run of neighbouring members goes in one cut.
        let first = removed[i];
        let mut last = first;
        while i + 1 < removed.len() && removed[i + 1] == last + 1 {
            i += 1;
            last = removed[i];
        }
        let range = if last + 1 < members.len() {
            members[first].span.start..members[last + 1].span.start
        } else {
            members[first - 1].span.end..members[last].span.end
        };
        edits.push((range, String::new()));
        i += 1;
    }
    edits
}

#[cfg(test)]
mod tests;
