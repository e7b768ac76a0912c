//! What `peta secret import` reads: a dotenv file, or the `env` blocks of an MCP client's
//! JSON config (Claude Desktop, Claude Code, Cursor, Windsurf `mcpServers`; VS Code
//! `servers`, with comments and trailing commas).

use std::collections::BTreeMap;

use serde_json::Value;

use super::SecretValue;
use super::reference::Source;

/// One value to store.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The server whose env block held it (client configs only).
    pub(crate) server: Option<String>,
    pub(crate) key: String,
    pub(crate) value: SecretValue,
}

/// Why a file could not be imported. Never holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImportError {
    pub(crate) message: String,
    pub(crate) hint: String,
}

/// Parses `text`; `server` keeps only that server's env block of a client config.
pub(crate) fn parse(text: &str, server: Option<&str>) -> Result<Vec<Entry>, ImportError> {
    let entries = if text.trim_start().starts_with('{') {
        client_config(text, server)?
    } else {
        if server.is_some() {
            return Err(ImportError {
                message: "--server applies to client configs, and this is a dotenv file".into(),
                hint: "leave out --server".into(),
            });
        }
        dotenv(text)?
    };
    // References and client placeholders are not values.
    let entries: Vec<Entry> = entries
        .into_iter()
        .filter(|e| {
            let v = e.value.expose();
            matches!(Source::parse(v), Source::Plain(_)) && !v.contains("${")
        })
        .collect();
    let mut seen: BTreeMap<&str, (&Option<String>, &str)> = BTreeMap::new();
    for e in &entries {
        if let Some((other, value)) = seen.insert(&e.key, (&e.server, e.value.expose()))
            && value != e.value.expose()
        {
            return Err(ImportError {
                message: format!(
                    "{} has different values in servers {} and {}",
                    e.key,
                    other.as_deref().unwrap_or("?"),
                    e.server.as_deref().unwrap_or("?")
                ),
                hint: "import one server at a time with --server NAME".into(),
            });
        }
    }
    Ok(entries)
}

fn dotenv(text: &str) -> Result<Vec<Entry>, ImportError> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let bad = |what: &str| ImportError {
            message: format!("line {}: {what}", n + 1),
            hint: "dotenv lines look like NAME=value, NAME=\"value\" or NAME='value'".into(),
        };
        let (key, raw) = line.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let key = key.trim();
        let valid_key = !key.is_empty()
            && !key.starts_with(|c: char| c.is_ascii_digit())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_key {
            return Err(bad("the name is not a variable name"));
        }
        let raw = raw.trim();
        let value = if let Some(rest) = raw.strip_prefix('"') {
            let end = rest
                .rfind('"')
                .ok_or_else(|| bad("unterminated double quote"))?;
            rest[..end]
                .replace("\\n", "\n")
                .replace("\\\"", "\"")
                .replace("\\\\", "\\")
        } else if let Some(rest) = raw.strip_prefix('\'') {
            let end = rest
                .rfind('\'')
                .ok_or_else(|| bad("unterminated single quote"))?;
            rest[..end].to_owned()
        } else {
            // An unquoted value ends at ` #`.
            raw.split(" #").next().unwrap_or("").trim_end().to_owned()
        };
        if value.is_empty() {
            continue;
        }
        entries.push(Entry {
            server: None,
            key: key.to_owned(),
            value: SecretValue::new(value),
        });
    }
    Ok(entries)
}

fn client_config(text: &str, only: Option<&str>) -> Result<Vec<Entry>, ImportError> {
    let json: Value = serde_json::from_str(text)
        .or_else(|_| serde_json::from_str(&strip_jsonc(text)))
        .map_err(|e| ImportError {
            // Only the position: serde_json's message can quote the text.
            message: format!("not valid JSON (line {}, column {})", e.line(), e.column()),
            hint: "give a dotenv file or a client config such as claude_desktop_config.json".into(),
        })?;
    let mut blocks = Vec::new();
    collect_servers(&json, &mut blocks);
    if blocks.is_empty()
        && let Value::Object(map) = &json
        && map.values().all(Value::is_string)
    {
        // A bare env block.
        blocks.push((None, &json));
    }
    if blocks.is_empty() {
        return Err(ImportError {
            message: "no mcpServers or servers with an env block found".into(),
            hint:
                "give the client's config file, e.g. claude_desktop_config.json or .vscode/mcp.json"
                    .into(),
        });
    }
    if let Some(name) = only
        && !blocks.iter().any(|(s, _)| s.as_deref() == Some(name))
    {
        return Err(ImportError {
            message: format!("no server named {name} has an env block"),
            hint: format!(
                "servers found: {}",
                blocks
                    .iter()
                    .filter_map(|(s, _)| s.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let mut entries = Vec::new();
    for (server, env) in blocks {
        if only.is_some() && server.as_deref() != only {
            continue;
        }
        let Value::Object(env) = env else { continue };
        for (key, value) in env {
            if let Value::String(value) = value
                && !value.is_empty()
            {
                entries.push(Entry {
                    server: server.clone(),
                    key: key.clone(),
                    value: SecretValue::new(value.clone()),
                });
            }
        }
    }
    Ok(entries)
}

/// Finds `{"mcpServers"|"servers": {NAME: {"env": {...}}}}` at any depth (Claude Code keeps
/// per-project servers under `projects`, VS Code's settings under `mcp`).
fn collect_servers<'a>(json: &'a Value, out: &mut Vec<(Option<String>, &'a Value)>) {
    let Value::Object(map) = json else { return };
    for (key, value) in map {
        if (key == "mcpServers" || key == "servers")
            && let Value::Object(servers) = value
        {
            for (name, server) in servers {
                if let Some(env @ Value::Object(_)) = server.get("env") {
                    out.push((Some(name.clone()), env));
                }
            }
        } else {
            collect_servers(value, out);
        }
    }
}

/// Removes `//` and `/* */` comments, then trailing commas, outside strings (JSON with
/// comments, as VS Code writes it).
fn strip_jsonc(text: &str) -> String {
    let without_comments = outside_strings(text, |c, rest, out| match (c, rest.first()) {
        ('/', Some('/')) => rest.iter().position(|&n| n == '\n').unwrap_or(rest.len()),
        ('/', Some('*')) => {
            let end = rest
                .windows(2)
                .skip(1)
                .position(|w| w == ['*', '/'])
                .map_or(rest.len(), |i| i + 3);
            out.push(' ');
            end
        }
        _ => {
            out.push(c);
            0
        }
    });
    outside_strings(&without_comments, |c, rest, out| {
        let closes = rest
            .iter()
            .find(|n| !n.is_whitespace())
            .is_some_and(|n| matches!(n, '}' | ']'));
        if !(c == ',' && closes) {
            out.push(c);
        }
        0
    })
}

/// Copies `text`, giving each character outside a JSON string to `step` with the characters
/// after it; `step` pushes what it keeps and returns how many of those to skip.
fn outside_strings(
    text: &str,
    mut step: impl FnMut(char, &[char], &mut String) -> usize,
) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut in_string) = (0, false);
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(&n) = chars.get(i + 1) {
                    out.push(n);
                    i += 1;
                }
            } else if c == '"' {
                in_string = false;
            }
            i += 1;
        } else if c == '"' {
            in_string = true;
            out.push(c);
            i += 1;
        } else {
            i += 1 + step(c, &chars[i + 1..], &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(entries: &[Entry]) -> Vec<(Option<&str>, &str, &str)> {
        entries
            .iter()
            .map(|e| (e.server.as_deref(), e.key.as_str(), e.value.expose()))
            .collect()
    }

    #[test]
    fn dotenv_forms() {
        let text = "# comment\nexport GITHUB_TOKEN=ghp_abc # trailing\nA=\"x \\\"q\\\" y\"\nB='lit $x'\n\nEMPTY=\nREF=keyring:github\n";
        let entries = parse(text, None).expect("parse");
        assert_eq!(
            pairs(&entries),
            [
                (None, "GITHUB_TOKEN", "ghp_abc"),
                (None, "A", "x \"q\" y"),
                (None, "B", "lit $x"),
            ]
        );
        assert!(parse("no equals sign\n", None).is_err());
        assert!(parse("1X=a\n", None).is_err());
        let err = parse("A=\"open\n", None).expect_err("unterminated");
        assert_eq!(err.message, "line 1: unterminated double quote");
    }

    #[test]
    fn client_configs_with_comments() {
        let vscode = r#"{
  // VS Code keeps comments
  "inputs": [],
  "servers": {
    "github": { "command": "npx", "args": ["x"], "env": { "GITHUB_TOKEN": "ghp_1234567890abcdef", "PROMPTED": "${input:tok}", }, },
    "plain": { "command": "y" }, /* no env */
  },
}"#;
        let entries = parse(vscode, None).expect("parse");
        assert_eq!(
            pairs(&entries),
            [(Some("github"), "GITHUB_TOKEN", "ghp_1234567890abcdef")]
        );
        let claude = r#"{"mcpServers": {"a": {"command": "x", "env": {"TOKEN": "one-value"}},
                         "b": {"command": "y", "env": {"TOKEN": "another-value"}}}}"#;
        let err = parse(claude, None).expect_err("conflict");
        assert!(err.message.contains("different values"), "{err:?}");
        assert!(!err.message.contains("one-value"));
        let only_b = parse(claude, Some("b")).expect("only b");
        assert_eq!(pairs(&only_b), [(Some("b"), "TOKEN", "another-value")]);
        assert!(parse(claude, Some("c")).is_err());
        let code = r#"{"projects": {"/src/app": {"mcpServers": {"db": {"env": {"DB_URL": "postgres://u:p@h/db"}}}}}}"#;
        assert_eq!(
            pairs(&parse(code, None).expect("claude code")),
            [(Some("db"), "DB_URL", "postgres://u:p@h/db")]
        );
        let bare = r#"{"API_KEY": "sk-abcdefghijklmnop"}"#;
        assert_eq!(
            pairs(&parse(bare, None).expect("bare")),
            [(None, "API_KEY", "sk-abcdefghijklmnop")]
        );
        let broken =
            parse("{\"mcpServers\": {\"a\": \"secret-in-text", None).expect_err("bad json");
        assert!(!broken.message.contains("secret-in-text"));
    }
}
