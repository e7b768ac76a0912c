//! Server entries in the JSON files (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf,
//! Gemini CLI): an entry is the object under its name, edited span by span so comments,
//! order and spacing stay.

use std::ops::Range;

use super::{
    Decision, EntrySpans, Install, Left, Moved, Part, Skipped, Stated, Wrapped, Wrapping, apply,
    decide,
};
use crate::install::jsonc::{self, Kind, Member, Node};
use crate::secrets::SecretValue;

pub(super) fn install(
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

/// Each server entry's name and span.
pub(super) fn entry_spans(text: &str, servers_path: &[String]) -> Result<EntrySpans, String> {
    let root = jsonc::parse(text).map_err(|e| e.to_string())?;
    let members = match find(&root, servers_path)? {
        Some(s) => s
            .members()
            .ok_or_else(|| format!("{} is not an object", servers_path.join(".")))?,
        None => &[],
    };
    check_unique(members)?;
    Ok(members
        .iter()
        .map(|m| (m.key.clone(), Some(m.value.span.clone())))
        .collect())
}

/// The object at `path`, `None` when a key on the way is missing.
pub(super) fn find<'n>(root: &'n Node, path: &[String]) -> Result<Option<&'n Node>, String> {
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
    match super::duplicate(members.iter().map(|m| m.key.as_str())) {
        Some(key) => Err(format!(
            "the server \"{key}\" is defined twice; clients disagree on which one counts, so peta leaves the file alone until one is removed"
        )),
        None => Ok(()),
    }
}

fn wrap(text: &str, name: &str, entry: &Node, wrapping: &Wrapping) -> Result<Wrapped, String> {
    debug_assert!(
        wrapping.add_env.is_empty() && wrapping.forward.is_empty(),
        "only Codex's file gets variables added"
    );
    entry
        .members()
        .ok_or_else(|| "its entry is not an object".to_owned())?;
    let command = entry.get("command")?;
    let kind = entry.get("type")?.and_then(|m| m.value.as_str());
    // `url`/`serverUrl`: most clients; `httpUrl`: Gemini CLI's Streamable HTTP.
    let remote = entry.get("url")?.is_some()
        || entry.get("serverUrl")?.is_some()
        || entry.get("httpUrl")?.is_some();
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
    let env = entry.get("env")?;
    let env_members: &[Member] = match env.map(|m| &m.value) {
        None => &[],
        Some(node) => node
            .members()
            .ok_or_else(|| "its env is not an object".to_owned())?,
    };
    let stated = Stated {
        command: program,
        args: arg_texts,
        env: env_members
            .iter()
            .map(|m| (m.key.as_str(), m.value.as_str()))
            .collect(),
        forwarded: Vec::new(),
    };
    let Decision {
        args: new_args,
        moved,
        passed,
        left,
        path_added,
        warnings,
        ..
    } = decide(name, &stated, wrapping)?;

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
    let removed: Vec<usize> = moved.iter().map(|(i, _, _)| *i).collect();
    if let Some(env) = env {
        edits.extend(removals(&env.value, env_members, &removed));
    }
    let span = entry.span.clone();
    let written = apply(&text[span.clone()], span.start, edits);
    let mut original = Vec::new();
    let mut taken = Vec::new();
    let mut at = span.start;
    for (i, secret, store) in moved {
        let member = &env_members[i];
        let literal = member.value.span.clone();
        original.push(Part::Text(text[at..literal.start].to_owned()));
        original.push(Part::Secret {
            var: member.key.clone(),
            secret: secret.clone(),
            store,
            quoted: true,
        });
        at = literal.end;
        taken.push(Moved {
            var: member.key.clone(),
            secret,
            store,
            value: SecretValue::new(member.value.as_str().unwrap_or_default().to_owned()),
            literal: text[literal].to_owned(),
        });
    }
    original.push(Part::Text(text[at..span.end].to_owned()));
    Ok(Wrapped {
        name: name.to_owned(),
        original,
        written,
        moved: taken,
        passed,
        left: left
            .into_iter()
            .map(|i| {
                let m = &env_members[i];
                Left {
                    var: m.key.clone(),
                    value: SecretValue::new(m.value.as_str().unwrap_or_default().to_owned()),
                    literal: text[m.value.span.clone()].to_owned(),
                }
            })
            .collect(),
        path_added,
        added: Vec::new(),
        forwarded: Vec::new(),
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
