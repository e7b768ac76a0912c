use std::collections::BTreeMap;

use super::json::find;
use super::*;
use crate::install::jsonc;

const PETA: &str = "/opt/peta/bin/peta";
const PATH: &str = "/home/ana/.nvm/versions/node/v22/bin:/usr/bin:/bin";

/// Every client fixture, with where its servers are.
fn fixtures() -> Vec<(&'static str, &'static str, Vec<String>)> {
    let at = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    vec![
        (
            "claude-desktop",
            include_str!("../../../tests/fixtures/clients/claude_desktop_config.json"),
            at(&["mcpServers"]),
        ),
        (
            "claude-code user",
            include_str!("../../../tests/fixtures/clients/claude.json"),
            at(&["mcpServers"]),
        ),
        (
            "claude-code local",
            include_str!("../../../tests/fixtures/clients/claude.json"),
            at(&["projects", "/home/ana/src/shop", "mcpServers"]),
        ),
        (
            "claude-code project",
            include_str!("../../../tests/fixtures/clients/mcp.json"),
            at(&["mcpServers"]),
        ),
        (
            "cursor",
            include_str!("../../../tests/fixtures/clients/cursor_mcp.json"),
            at(&["mcpServers"]),
        ),
        (
            "vscode",
            include_str!("../../../tests/fixtures/clients/vscode_mcp.json"),
            at(&["servers"]),
        ),
        (
            "windsurf",
            include_str!("../../../tests/fixtures/clients/windsurf_mcp_config.json"),
            at(&["mcpServers"]),
        ),
    ]
}

fn wrapping() -> Wrapping<'static> {
    Wrapping {
        peta: PETA,
        path: Some(PATH),
        secrets: Secrets::Move(Store::Keyring),
        free: &|_, _| true,
        add_env: &[],
        forward: &[],
    }
}

/// Uninstalls with the moved values at hand, as the keyring would give them.
fn undo(text: &str, path: &[String], plan: &Install, plaintext: bool) -> Uninstall {
    let values: BTreeMap<String, String> = plan
        .wrapped
        .iter()
        .flat_map(|w| &w.moved)
        .map(|m| (m.secret.clone(), m.value.expose().to_owned()))
        .collect();
    let entries: Vec<Entry> = plan.wrapped.iter().map(Entry::from).collect();
    uninstall(
        text,
        Format::Json,
        path,
        &entries,
        plaintext,
        &mut |name, _| {
            values
                .get(name)
                .map(|v| SecretValue::new(v.clone()))
                .ok_or_else(|| "not in the keyring".into())
        },
    )
    .expect("uninstall plans")
}

#[test]
fn install_then_uninstall_gives_back_the_same_bytes() {
    for (client, text, path) in fixtures() {
        let plan = install(text, Format::Json, &path, &wrapping()).expect(client);
        assert!(!plan.wrapped.is_empty(), "{client}: something to wrap");
        assert_ne!(plan.text, text, "{client}");
        let undone = undo(&plan.text, &path, &plan, true);
        assert!(
            undone.outcomes.iter().all(|(_, o)| *o == Outcome::Restored),
            "{client}: {:?}",
            undone.outcomes
        );
        assert_eq!(
            undone.text, text,
            "{client}: byte-identical after uninstall"
        );
    }
}

#[test]
fn installing_twice_changes_nothing() {
    for (client, text, path) in fixtures() {
        let once = install(text, Format::Json, &path, &wrapping()).expect(client);
        let twice = install(&once.text, Format::Json, &path, &wrapping()).expect(client);
        assert!(twice.wrapped.is_empty(), "{client}: {:?}", twice.wrapped);
        assert_eq!(twice.text, once.text, "{client}");
        assert!(
            twice
                .skipped
                .iter()
                .filter(|s| s.reason == "already runs through peta")
                .count()
                == once.wrapped.len(),
            "{client}: {:?}",
            twice.skipped
        );
    }
}

#[test]
fn wrapped_files_hold_no_credentials_and_still_parse() {
    for (client, text, path) in fixtures() {
        let plan = install(text, Format::Json, &path, &wrapping()).expect(client);
        for moved in plan.wrapped.iter().flat_map(|w| &w.moved) {
            assert!(
                !plan.text.contains(moved.value.expose()),
                "{client}: {} is still in the file",
                moved.var
            );
        }
        let root = jsonc::parse(&plan.text).expect("still parses");
        if !client.starts_with("vscode") {
            serde_json::from_str::<serde_json::Value>(&plan.text)
                .unwrap_or_else(|e| panic!("{client}: strict JSON stays strict JSON: {e}"));
        }
        let servers = find(&root, &path).expect("found").expect("present");
        for wrapped in &plan.wrapped {
            let entry = &servers
                .get(&wrapped.name)
                .expect("unique")
                .expect("kept")
                .value;
            let command = entry.get("command").expect("one").expect("command");
            assert_eq!(command.value.as_str(), Some(PETA), "{client}");
        }
    }
}

#[test]
fn a_claude_desktop_entry_is_wrapped_as_expected() {
    let (_, text, path) = fixtures().remove(0);
    let plan = install(text, Format::Json, &path, &wrapping()).expect("plans");
    let json: serde_json::Value = serde_json::from_str(&plan.text).expect("json");
    let github = &json["mcpServers"]["github"];
    assert_eq!(
        github["args"],
        serde_json::json!([
            "run",
            "--server",
            "github",
            "--env",
            "GITHUB_PERSONAL_ACCESS_TOKEN=keyring:github.GITHUB_PERSONAL_ACCESS_TOKEN",
            "--env",
            format!("PATH={PATH}"),
            "--",
            "npx",
            "-y",
            "@modelcontextprotocol/server-github"
        ])
    );
    assert_eq!(github["env"], serde_json::json!({}));
    // The multi-line args keep their layout.
    assert!(
        plan.text
            .contains("      \"args\": [\n        \"run\",\n        \"--server\",\n"),
        "{}",
        plan.text
    );
    let postgres = &json["mcpServers"]["postgres"];
    assert_eq!(
        postgres["env"],
        serde_json::json!({"LOG_LEVEL": "info"}),
        "the connection string with a password and PGPASSWORD moved; LOG_LEVEL stayed"
    );
    let args: Vec<&str> = postgres["args"]
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a.as_str().expect("str"))
        .collect();
    assert!(args.contains(&"LOG_LEVEL=env:LOG_LEVEL"));
    assert!(args.contains(&"DATABASE_URI=keyring:postgres.DATABASE_URI"));
    assert!(args.contains(&"PGPASSWORD=keyring:postgres.PGPASSWORD"));
    // Everything outside the entries is untouched.
    assert!(
        plan.text
            .ends_with("  \"globalShortcut\": \"Ctrl+Space\"\n}\n")
    );
    assert_eq!(
        plan.skipped,
        [Skipped {
            name: "linear".into(),
            reason: "reached over HTTP/SSE; peta wraps the servers a client starts itself (stdio)"
                .into()
        }]
    );
}

#[test]
fn client_references_and_comments_are_left_in_place() {
    let (_, text, path) = fixtures().remove(5);
    let plan = install(text, Format::Json, &path, &wrapping()).expect("plans");
    assert!(plan.text.contains("// Secrets typed once"));
    assert!(plan.text.contains("/* The fetch server needs nothing. */"));
    assert!(
        plan.text
            .contains("\"PERPLEXITY_API_KEY\": \"${input:perplexity-key}\"")
    );
    let perplexity = plan
        .wrapped
        .iter()
        .find(|w| w.name == "perplexity")
        .expect("wrapped");
    assert!(perplexity.moved.is_empty());
    assert_eq!(perplexity.passed, ["PERPLEXITY_API_KEY"]);
    let github = plan
        .wrapped
        .iter()
        .find(|w| w.name == "github")
        .expect("wrapped");
    assert_eq!(github.moved.len(), 1);
    assert_eq!(github.passed, ["GITHUB_TOOLSETS"]);
    // The fetch entry had no env and a trailing comma after its args.
    assert!(
        plan.text.contains(&format!(
            "\"args\": [\"run\", \"--server\", \"fetch\", \"--env\", \"PATH={PATH}\", \"--\", \"uvx\", \"mcp-server-fetch\"],\n    }}"
        )),
        "{}",
        plan.text
    );
    assert_eq!(plan.skipped.len(), 1, "{:?}", plan.skipped);
}

#[test]
fn an_entry_changed_by_hand_is_left_alone() {
    let (_, text, path) = fixtures().remove(4);
    let plan = install(text, Format::Json, &path, &wrapping()).expect("plans");
    let edited = plan.text.replacen("\"--tools=all\"", "\"--tools=read\"", 1);
    assert_ne!(edited, plan.text);
    let undone = undo(&edited, &path, &plan, true);
    let outcome = |name: &str| {
        &undone
            .outcomes
            .iter()
            .find(|(n, _)| n == name)
            .expect("listed")
            .1
    };
    assert_eq!(*outcome("stripe"), Outcome::Changed);
    assert_eq!(*outcome("memory"), Outcome::Restored);
    assert!(undone.text.contains("\"--tools=read\""));
    assert!(
        !undone.text.contains("sk_live_"),
        "the changed entry keeps its reference"
    );
}

#[test]
fn without_restore_plaintext_entries_with_moved_secrets_stay_wrapped() {
    let (_, text, path) = fixtures().remove(4);
    let plan = install(text, Format::Json, &path, &wrapping()).expect("plans");
    let undone = undo(&plan.text, &path, &plan, false);
    for (name, outcome) in &undone.outcomes {
        match name.as_str() {
            "memory" => assert_eq!(*outcome, Outcome::Restored),
            "brave-search" => {
                assert_eq!(*outcome, Outcome::KeptSecrets(vec!["BRAVE_API_KEY".into()]))
            }
            "stripe" => {
                assert_eq!(
                    *outcome,
                    Outcome::KeptSecrets(vec!["STRIPE_SECRET_KEY".into()])
                )
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(!undone.text.contains("sk_live_"));
    assert!(!undone.text.contains("BSAk3m"));
}

#[test]
fn a_removed_entry_is_reported_gone() {
    let (_, text, path) = fixtures().remove(3);
    let plan = install(text, Format::Json, &path, &wrapping()).expect("plans");
    let root = jsonc::parse(&plan.text).expect("parses");
    let servers = find(&root, &path).expect("ok").expect("there");
    let members = servers.members().expect("object");
    // Cut the first server out (it is followed by another).
    let cut = members[0].span.start..members[1].span.start;
    let mut edited = plan.text.clone();
    edited.replace_range(cut, "");
    let undone = undo(&edited, &path, &plan, true);
    assert_eq!(undone.outcomes[0], ("playwright".into(), Outcome::Gone));
    assert_eq!(undone.outcomes[1], ("notion".into(), Outcome::Restored));
}

#[test]
fn ambiguous_or_broken_files_are_refused() {
    let path = vec!["mcpServers".to_owned()];
    let twice = r#"{"mcpServers": {"a": {"command": "x"}, "a": {"command": "y"}}}"#;
    let err = install(twice, Format::Json, &path, &wrapping()).expect_err("duplicate server");
    assert!(err.contains("defined twice"), "{err}");
    let dup_root = r#"{"mcpServers": {}, "mcpServers": {"a": {"command": "x"}}}"#;
    assert!(install(dup_root, Format::Json, &path, &wrapping()).is_err());
    let dup_env = r#"{"mcpServers": {"a": {"command": "x", "env": {"K": "1", "K": "2"}}}}"#;
    let plan = install(dup_env, Format::Json, &path, &wrapping()).expect("plans");
    assert!(plan.wrapped.is_empty());
    assert!(plan.skipped[0].reason.contains("more than once"));
    let err =
        install("{\"mcpServers\": [1]}", Format::Json, &path, &wrapping()).expect_err("not object");
    assert!(err.contains("not an object"), "{err}");
    let err = install("{\n  \"mcpServers\": {\n", Format::Json, &path, &wrapping())
        .expect_err("cut short");
    assert!(err.starts_with("line 3"), "{err}");
    let none = install("{\"other\": 1}", Format::Json, &path, &wrapping()).expect("no servers");
    assert!(none.wrapped.is_empty() && none.skipped.is_empty());
}

#[test]
fn odd_entries_are_skipped_with_a_reason() {
    let path = vec!["mcpServers".to_owned()];
    let text = r#"{"mcpServers": {
        "a": "npx",
        "b": {"args": ["x"]},
        "c": {"command": ["npx"]},
        "d": {"command": "npx", "args": "-y x"},
        "e": {"command": "npx", "args": [1]},
        "f": {"command": "/usr/local/bin/peta", "args": ["run", "--", "x"]},
        "g": {"type": "streamable-http", "url": "http://h"},
        "h": {"command": "npx", "env": []},
        "i": {"compact":1,"command":"npx"}
    }}"#;
    let plan = install(text, Format::Json, &path, &wrapping()).expect("plans");
    let reasons: Vec<(&str, &str)> = plan
        .skipped
        .iter()
        .map(|s| (s.name.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("a", "its entry is not an object"),
            ("b", "it has no command"),
            ("c", "its command is not a string"),
            ("d", "its args are not a list"),
            ("e", "its args are not all strings"),
            ("f", "already runs through peta"),
            (
                "g",
                "reached over HTTP/SSE; peta wraps the servers a client starts itself (stdio)"
            ),
            ("h", "its env is not an object"),
        ]
    );
    assert_eq!(plan.wrapped.len(), 1);
    assert!(
        plan.text.contains(&format!(
            r#"{{"compact":1,"command":"{PETA}", "args": ["run", "--server", "i", "--env", "PATH={PATH}", "--", "npx"]}}"#
        )),
        "{}",
        plan.text
    );
}

#[test]
fn runs_of_removed_env_members_leave_valid_json() {
    let path = vec!["mcpServers".to_owned()];
    for env in [
        r#"{"A_TOKEN": "aaaaaaaaaa", "B_TOKEN": "bbbbbbbbbb", "C": "c"}"#,
        r#"{"C": "c", "A_TOKEN": "aaaaaaaaaa", "B_TOKEN": "bbbbbbbbbb"}"#,
        r#"{"A_TOKEN": "aaaaaaaaaa", "C": "c", "B_TOKEN": "bbbbbbbbbb"}"#,
        r#"{"A_TOKEN": "aaaaaaaaaa", "B_TOKEN": "bbbbbbbbbb"}"#,
        "{\n  \"A_TOKEN\": \"aaaaaaaaaa\",\n  \"C\": \"c\",\n  \"D\": \"d\",\n  \"B_TOKEN\": \"bbbbbbbbbb\"\n}",
    ] {
        let text = format!(r#"{{"mcpServers": {{"s": {{"command": "x", "env": {env}}}}}}}"#);
        let plan = install(
            &text,
            Format::Json,
            &path,
            &Wrapping {
                path: None,
                ..wrapping()
            },
        )
        .expect("plans");
        let json: serde_json::Value = serde_json::from_str(&plan.text)
            .unwrap_or_else(|e| panic!("{env}: {e}\n{}", plan.text));
        let kept: Vec<&String> = json["mcpServers"]["s"]["env"]
            .as_object()
            .expect("env")
            .keys()
            .collect();
        assert!(kept.iter().all(|k| !k.ends_with("_TOKEN")), "{kept:?}");
        assert_eq!(undo(&plan.text, &path, &plan, true).text, text);
    }
}

#[test]
fn a_name_the_keyring_holds_for_another_value_is_not_reused() {
    let path = vec!["mcpServers".to_owned()];
    let text = r#"{"mcpServers": {"gh": {"command": "x", "env": {"GH_TOKEN": "ghp_abcdefghijklmnop1234"}}}}"#;
    let taken = |name: &str, value: &str| match name {
        "gh.GH_TOKEN" | "gh.GH_TOKEN-2" => value == "ghp_the_other_clients_token",
        _ => true,
    };
    let plan = install(
        text,
        Format::Json,
        &path,
        &Wrapping {
            path: None,
            free: &taken,
            ..wrapping()
        },
    )
    .expect("plans");
    assert_eq!(plan.wrapped[0].moved[0].secret, "gh.GH_TOKEN-3");
    assert!(plan.text.contains("GH_TOKEN=keyring:gh.GH_TOKEN-3"));
    assert_eq!(
        Entry::from(&plan.wrapped[0]).secrets().collect::<Vec<_>>(),
        [("GH_TOKEN", "gh.GH_TOKEN-3", Store::Keyring)]
    );
}

#[test]
fn variables_the_client_fills_in_stay_in_the_file() {
    let path = vec!["mcpServers".to_owned()];
    // Gemini CLI expands `$NAME` as well as `${NAME}` in env values.
    let text = r#"{"mcpServers": {"s": {"command": "x", "env": {"SLACK_BOT_TOKEN": "$SLACK_BOT_TOKEN", "API_KEY": "${API_KEY}", "DB_PASSWORD": "$ecret-Pa55"}}}}"#;
    let plan = install(text, Format::Json, &path, &wrapping()).expect("plans");
    let wrapped = &plan.wrapped[0];
    assert_eq!(wrapped.passed, ["SLACK_BOT_TOKEN", "API_KEY"]);
    let moved: Vec<&str> = wrapped.moved.iter().map(|m| m.var.as_str()).collect();
    assert_eq!(
        moved,
        ["DB_PASSWORD"],
        "a value that only starts with $ is a value"
    );
}
