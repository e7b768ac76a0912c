//! Server entries in Codex's `config.toml`: `[mcp_servers.NAME]` tables (with their
//! `[mcp_servers.NAME.env]` sub-tables) and inline tables `NAME = { command = … }`.
//!
//! An entry's text is one stretch of the file: a table's runs from its header to the line
//! before the next table that is not its own (comments and blank lines just above that table
//! belong to it), an inline table's is the value itself. That stretch alone is parsed with
//! `toml_edit`, changed and written back, so the rest of the file keeps every byte and the
//! stretch keeps the formatting of what peta does not change.

use std::ops::Range;

use toml_edit::{Array, Document, DocumentMut, InlineTable, Item, Key, Table, TableLike, Value};

use super::{
    Decision, EntrySpans, Install, Left, Moved, Part, Skipped, Stated, Store, Wrapped, Wrapping,
    apply, decide,
};
use crate::secrets::SecretValue;

pub(super) fn install(
    text: &str,
    servers_path: &[String],
    wrapping: &Wrapping,
) -> Result<Install, String> {
    let doc = parse(text)?;
    let mut plan = Install {
        text: text.to_owned(),
        wrapped: Vec::new(),
        skipped: Vec::new(),
    };
    let mut edits = Vec::new();
    for entry in entries(&doc, text, servers_path)? {
        let result = entry.at.and_then(|(at, table)| {
            let span = at.span.clone();
            wrap(text, &entry.name, servers_path, table, at, wrapping).map(|w| (span, w))
        });
        match result {
            Ok((span, wrapped)) => {
                edits.push((span, wrapped.written.clone()));
                plan.wrapped.push(wrapped);
            }
            Err(reason) => plan.skipped.push(Skipped {
                name: entry.name,
                reason,
            }),
        }
    }
    plan.text = apply(text, 0, edits);
    Ok(plan)
}

/// Each server entry's name and stretch of text; `None` for one written in a way peta does
/// not edit.
pub(super) fn entry_spans(text: &str, servers_path: &[String]) -> Result<EntrySpans, String> {
    let doc = parse(text)?;
    Ok(entries(&doc, text, servers_path)?
        .into_iter()
        .map(|e| (e.name, e.at.ok().map(|(at, _)| at.span)))
        .collect())
}

/// A TOML basic string for `value`.
pub(super) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn string_value(text: &str) -> Value {
    quote(text)
        .parse()
        .expect("a quoted string is a TOML value")
}

fn parse(text: &str) -> Result<Document<&str>, String> {
    Document::parse(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        let before = text.get(..at).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("line {line}, column {column}: {}", e.message())
    })
}

/// How an entry is written, and where.
#[derive(Debug, Clone)]
struct At {
    span: Range<usize>,
    inline: bool,
}

struct Found<'d> {
    name: String,
    /// Where the entry is and what it holds, or why peta leaves it alone.
    at: Result<(At, &'d dyn TableLike), String>,
}

/// The entries under `servers_path`, in the file's order.
fn entries<'d>(
    doc: &'d Document<&str>,
    text: &str,
    servers_path: &[String],
) -> Result<Vec<Found<'d>>, String> {
    let mut item = doc.as_item();
    for (i, key) in servers_path.iter().enumerate() {
        let Some(table) = item.as_table_like() else {
            return Err(format!("{} is not a table", servers_path[..i].join(".")));
        };
        match table.get(key) {
            Some(next) => item = next,
            None => return Ok(Vec::new()),
        }
    }
    let Some(servers) = item.as_table_like() else {
        return Err(format!("{} is not a table", servers_path.join(".")));
    };
    let headers = headers(doc.as_table());
    let mut found = Vec::new();
    for (name, entry) in servers.iter() {
        let mut path = servers_path.to_vec();
        path.push(name.to_owned());
        let at = match entry {
            Item::Value(Value::InlineTable(t)) => t
                .span()
                .map(|span| (At { span, inline: true }, t as &dyn TableLike))
                .ok_or_else(|| "its place in the file is unknown".to_owned()),
            Item::Table(t) if t.is_dotted() => Err(format!(
                "it is written with dotted keys ({name}.command = …); peta edits [{}] tables and inline tables",
                path.join(".")
            )),
            Item::Table(t) if t.is_implicit() => Err("it has no command".to_owned()),
            Item::Table(t) => stretch(text, &headers, &path, t).map(|at| (at, t as &dyn TableLike)),
            _ => Err("its entry is not a table".to_owned()),
        };
        found.push(Found {
            name: name.to_owned(),
            at,
        });
    }
    Ok(found)
}

/// Every `[table]` and `[[array]]` header: where it is and the key path it opens.
fn headers(root: &Table) -> Vec<(Range<usize>, Vec<String>)> {
    fn walk(table: &Table, path: &mut Vec<String>, out: &mut Vec<(Range<usize>, Vec<String>)>) {
        for (key, item) in table.iter() {
            let tables: Vec<&Table> = match item {
                Item::Table(t) => vec![t],
                Item::ArrayOfTables(a) => a.iter().collect(),
                _ => continue,
            };
            path.push(key.to_owned());
            for t in tables {
                if !t.is_implicit()
                    && !t.is_dotted()
                    && let Some(span) = t.span().filter(|s| !s.is_empty())
                {
                    out.push((span, path.clone()));
                }
                walk(t, path, out);
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(root, &mut Vec::new(), &mut out);
    out.sort_by_key(|(span, _)| span.start);
    out
}

/// The stretch of a `[table]` entry: from its header line to the end of its last line of
/// content before the next table that is not one of its own.
fn stretch(
    text: &str,
    headers: &[(Range<usize>, Vec<String>)],
    path: &[String],
    table: &Table,
) -> Result<At, String> {
    let header = table
        .span()
        .ok_or_else(|| "its place in the file is unknown".to_owned())?;
    let own = |p: &[String]| p.len() > path.len() && p.starts_with(path);
    let line_start = |at: usize| text[..at].rfind('\n').map_or(0, |i| i + 1);
    let start = line_start(header.start);
    let next = headers
        .iter()
        .find(|(span, p)| span.start > header.start && !own(p))
        .map_or(text.len(), |(span, _)| line_start(span.start));
    let header_end = text[header.end..]
        .find('\n')
        .map_or(text.len(), |i| header.end + i + 1);
    let mut end = next.max(header_end);
    // Comments and blank lines just above the next table are that table's.
    while end > header_end {
        let content_end = if text[..end].ends_with('\n') {
            end - 1
        } else {
            end
        };
        let line = line_start(content_end).max(header_end);
        let trimmed = text[line..content_end].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            end = line;
        } else {
            break;
        }
    }
    if headers
        .iter()
        .any(|(span, p)| own(p) && (span.start < start || span.end > end))
    {
        return Err(format!(
            "its tables are apart in the file; peta edits a [{}] entry whose tables follow each other",
            path.join(".")
        ));
    }
    Ok(At {
        span: start..end,
        inline: false,
    })
}

/// The entry as the file states it.
fn stated<'t>(table: &'t dyn TableLike) -> Result<Stated<'t>, String> {
    let command = table.get("command");
    if command.is_none() && table.contains_key("url") {
        return Err(
            "reached over HTTP/SSE; peta wraps the servers a client starts itself (stdio)".into(),
        );
    }
    let command = command
        .ok_or_else(|| "it has no command".to_owned())?
        .as_str()
        .ok_or_else(|| "its command is not a string".to_owned())?;
    let args = match table.get("args") {
        None => Vec::new(),
        Some(item) => item
            .as_array()
            .ok_or_else(|| "its args are not a list".to_owned())?
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()
            .ok_or_else(|| "its args are not all strings".to_owned())?,
    };
    let env = match table.get("env") {
        None => Vec::new(),
        Some(item) => item
            .as_table_like()
            .ok_or_else(|| "its env is not a table".to_owned())?
            .iter()
            .map(|(k, v)| (k, v.as_str()))
            .collect(),
    };
    let forwarded = match table.get("env_vars") {
        None => Vec::new(),
        Some(item) => item
            .as_array()
            .and_then(|a| a.iter().map(Value::as_str).collect::<Option<_>>())
            .ok_or_else(|| "its env_vars are not a list of names".to_owned())?,
    };
    Ok(Stated {
        command,
        args,
        env,
        forwarded,
    })
}

fn wrap(
    text: &str,
    name: &str,
    servers_path: &[String],
    table: &dyn TableLike,
    at: At,
    wrapping: &Wrapping,
) -> Result<Wrapped, String> {
    let entry = stated(table)?;
    let decision = decide(name, &entry, wrapping)?;
    let stretch = &text[at.span.clone()];
    let written = if at.inline {
        let mut value: Value = stretch
            .parse()
            .map_err(|e| format!("peta cannot read it on its own: {e}"))?;
        let table = value
            .as_inline_table_mut()
            .ok_or_else(|| "its entry is not a table".to_owned())?;
        edit(Tab::Inline(table), &decision, &entry, wrapping);
        value.to_string()
    } else {
        let mut doc: DocumentMut = stretch
            .parse()
            .map_err(|e| format!("peta cannot read its tables on their own: {e}"))?;
        let mut item = doc.as_item_mut();
        for key in servers_path.iter().chain([&name.to_owned()]) {
            item = item
                .get_mut(key)
                .ok_or_else(|| "its tables are not where they were".to_owned())?;
        }
        let tab = Tab::of(item).ok_or_else(|| "its entry is not a table".to_owned())?;
        edit(tab, &decision, &entry, wrapping);
        doc.to_string()
    };

    // The original, with a gap where each moved credential's literal was.
    let env = table.get("env").and_then(Item::as_table_like);
    let literal_span = |var: &str| -> Result<Range<usize>, String> {
        env.and_then(|e| e.get(var))
            .and_then(Item::as_value)
            .and_then(Value::span)
            .filter(|s| at.span.start <= s.start && s.end <= at.span.end)
            .ok_or_else(|| format!("its env member {var} is outside its table"))
    };
    let mut original = Vec::new();
    let mut moved = Vec::new();
    let mut cursor = at.span.start;
    let mut holes: Vec<(Range<usize>, &str, &str, String, Store)> = Vec::new();
    for (i, secret, store) in &decision.moved {
        let (var, value) = entry.env[*i];
        holes.push((
            literal_span(var)?,
            var,
            value.unwrap_or_default(),
            secret.clone(),
            *store,
        ));
    }
    holes.sort_by_key(|(span, ..)| span.start);
    for (span, var, value, secret, store) in holes {
        let literal = &text[span.clone()];
        // A literal without escapes gives its exact bytes back with the value between its
        // quotes; one with escapes is written back as a basic string.
        let bare = [('"', '"'), ('\'', '\'')]
            .iter()
            .any(|(open, close)| literal == format!("{open}{value}{close}"));
        let gap = if bare {
            span.start + 1..span.end - 1
        } else {
            span.clone()
        };
        original.push(Part::Text(text[cursor..gap.start].to_owned()));
        original.push(Part::Secret {
            var: var.to_owned(),
            secret: secret.clone(),
            store,
            quoted: !bare,
        });
        cursor = gap.end;
        moved.push(Moved {
            var: var.to_owned(),
            secret,
            store,
            value: SecretValue::new(value.to_owned()),
            literal: literal.to_owned(),
        });
    }
    original.push(Part::Text(text[cursor..at.span.end].to_owned()));
    let left = decision
        .left
        .iter()
        .map(|&i| {
            let (var, value) = entry.env[i];
            Ok(Left {
                var: var.to_owned(),
                value: SecretValue::new(value.unwrap_or_default().to_owned()),
                literal: text[literal_span(var)?].to_owned(),
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Wrapped {
        name: name.to_owned(),
        original,
        written,
        moved,
        passed: decision.passed,
        left,
        path_added: decision.path_added,
        added: decision.add_env.iter().map(|(k, _)| k.clone()).collect(),
        forwarded: decision.forward.clone(),
        warnings: decision.warnings,
    })
}

/// A table written either way: under a `[header]` or `{ inline }`.
enum Tab<'a> {
    Header(&'a mut Table),
    Inline(&'a mut InlineTable),
}

impl Tab<'_> {
    fn of(item: &mut Item) -> Option<Tab<'_>> {
        match item {
            Item::Table(t) => Some(Tab::Header(t)),
            Item::Value(Value::InlineTable(t)) => Some(Tab::Inline(t)),
            _ => None,
        }
    }

    fn value_mut(&mut self, key: &str) -> Option<&mut Value> {
        match self {
            Tab::Header(t) => t.get_mut(key).and_then(Item::as_value_mut),
            Tab::Inline(t) => t.get_mut(key),
        }
    }

    fn child(&mut self, key: &str) -> Option<Tab<'_>> {
        match self {
            Tab::Header(t) => t.get_mut(key).and_then(Tab::of),
            Tab::Inline(t) => t
                .get_mut(key)
                .and_then(Value::as_inline_table_mut)
                .map(Tab::Inline),
        }
    }

    fn keys(&self) -> Vec<String> {
        match self {
            Tab::Header(t) => t.iter().map(|(k, _)| k.to_owned()).collect(),
            Tab::Inline(t) => t.iter().map(|(k, _)| k.to_owned()).collect(),
        }
    }

    fn remove(&mut self, key: &str) {
        match self {
            Tab::Header(t) => {
                t.remove(key);
            }
            Tab::Inline(t) => {
                let last = t.iter().last().map(|(k, _)| k.to_owned());
                if let Some(gone) = t.remove(key)
                    && last.as_deref() == Some(key)
                {
                    // The space before the closing brace stays.
                    let suffix = gone.decor().suffix().cloned();
                    if let (Some(suffix), Some((_, v))) = (suffix, t.iter_mut().last()) {
                        v.decor_mut().set_suffix(suffix);
                    }
                }
            }
        }
    }

    fn append(&mut self, key: &str, value: Value) {
        match self {
            Tab::Header(t) => {
                t.insert(key, Item::Value(value));
            }
            Tab::Inline(t) => {
                let mut value = value;
                // The space before the closing brace moves to the new last member.
                if let Some((_, last)) = t.iter_mut().last()
                    && let Some(suffix) = last.decor().suffix().cloned()
                {
                    last.decor_mut().set_suffix("");
                    value.decor_mut().set_suffix(suffix);
                }
                t.insert(key, value);
            }
        }
    }

    /// Puts `key` right after `after`, keeping the order and formatting of the others.
    fn insert_after(&mut self, after: &str, key: &str, value: Value) {
        let tail: Vec<String> = self
            .keys()
            .into_iter()
            .skip_while(|k| k != after)
            .skip(1)
            .collect();
        if tail.is_empty() {
            self.append(key, value);
            return;
        }
        match self {
            Tab::Header(t) => {
                let moved: Vec<(Key, Item)> =
                    tail.iter().filter_map(|k| t.remove_entry(k)).collect();
                t.insert(key, Item::Value(value));
                for (k, item) in moved {
                    t.insert_formatted(&k, item);
                }
            }
            Tab::Inline(t) => {
                let moved: Vec<(Key, Value)> =
                    tail.iter().filter_map(|k| t.remove_entry(k)).collect();
                t.insert(key, value);
                for (k, v) in moved {
                    t.insert_formatted(&k, v);
                }
            }
        }
    }
}

/// Writes the decision into the entry's table.
fn edit(mut tab: Tab, decision: &Decision, entry: &Stated, wrapping: &Wrapping) {
    if let Some(command) = tab.value_mut("command") {
        replace(command, string_value(wrapping.peta));
    }
    let args: Vec<Value> = decision.args.iter().map(|a| string_value(a)).collect();
    match tab.value_mut("args") {
        Some(old) => {
            let new = laid_out_like(old.as_array(), args);
            replace(old, Value::Array(new));
        }
        None => tab.insert_after("command", "args", Value::Array(laid_out_like(None, args))),
    }
    let removed: Vec<&str> = decision
        .moved
        .iter()
        .map(|(i, ..)| entry.env[*i].0)
        .collect();
    if let Some(mut env) = tab.child("env") {
        for var in removed {
            env.remove(var);
        }
        for (var, value) in &decision.add_env {
            env.append(var, string_value(value));
        }
    } else if !decision.add_env.is_empty() {
        let mut env = InlineTable::new();
        for (var, value) in &decision.add_env {
            env.insert(var, string_value(value));
        }
        tab.append("env", Value::InlineTable(env));
    }
    if !decision.forward.is_empty() {
        match tab.value_mut("env_vars").and_then(Value::as_array_mut) {
            Some(names) => {
                for name in &decision.forward {
                    names.push(name.as_str());
                }
            }
            None => {
                let names: Array = decision.forward.iter().map(String::as_str).collect();
                tab.append("env_vars", Value::Array(names));
            }
        }
    }
}

/// Replaces a value, keeping the spacing and comments around it.
fn replace(old: &mut Value, new: Value) {
    let decor = old.decor().clone();
    *old = new;
    *old.decor_mut() = decor;
}

/// A new array of `items`, one per line if `old` had its items one per line.
fn laid_out_like(old: Option<&Array>, items: Vec<Value>) -> Array {
    let mut new = Array::new();
    let Some(old) = old.filter(|a| {
        a.iter()
            .next()
            .and_then(|v| v.decor().prefix())
            .and_then(|p| p.as_str())
            .is_some_and(|p| p.contains('\n'))
    }) else {
        new.extend(items);
        return new;
    };
    let prefix = old
        .iter()
        .next()
        .and_then(|v| v.decor().prefix())
        .cloned()
        .unwrap_or_default();
    for mut item in items {
        item.decor_mut().set_prefix(prefix.clone());
        item.decor_mut().set_suffix("");
        new.push_formatted(item);
    }
    new.set_trailing_comma(old.trailing_comma());
    new.set_trailing(old.trailing().clone());
    new
}

#[cfg(test)]
mod tests;
