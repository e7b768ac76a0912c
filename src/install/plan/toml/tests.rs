use std::collections::BTreeMap;

use super::super::{Entry, Outcome, Secrets, Store, Uninstall, Wrapping, install, uninstall};
use crate::install::clients::Format;
use crate::secrets::SecretValue;

const PETA: &str = "/opt/peta/bin/peta";
const FIXTURE: &str = include_str!("../../../../tests/fixtures/clients/codex_config.toml");

fn servers() -> Vec<String> {
    vec!["mcp_servers".to_owned()]
}

fn add_env() -> Vec<(String, String)> {
    vec![
        (
            "PETA_CONFIG".into(),
            "/home/ana/.config/peta/work.toml".into(),
        ),
        ("XDG_RUNTIME_DIR".into(), "/run/user/1000".into()),
    ]
}

fn forward() -> Vec<String> {
    vec!["DBUS_SESSION_BUS_ADDRESS".into()]
}

fn plan(text: &str, secrets: Secrets) -> super::super::Install {
    let add = add_env();
    let forward = forward();
    install(
        text,
        Format::Toml,
        &servers(),
        &Wrapping {
            peta: PETA,
            path: None,
            secrets,
            free: &|_, _| true,
            add_env: &add,
            forward: &forward,
        },
    )
    .expect("plans")
}

fn keyring() -> Secrets {
    Secrets::Move(Store::Keyring)
}

fn undo(text: &str, plan: &super::super::Install, plaintext: bool) -> Uninstall {
    let values: BTreeMap<String, String> = plan
        .wrapped
        .iter()
        .flat_map(|w| &w.moved)
        .map(|m| (m.secret.clone(), m.value.expose().to_owned()))
        .collect();
    let entries: Vec<Entry> = plan.wrapped.iter().map(Entry::from).collect();
    uninstall(
        text,
        Format::Toml,
        &servers(),
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

fn parsed(text: &str) -> toml::Table {
    toml::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn codex_servers_are_wrapped_and_given_back_byte_for_byte() {
    let plan = plan(FIXTURE, keyring());
    let names: Vec<&str> = plan.wrapped.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["sentry", "github", "postgres", "time", "docs"]);
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(plan.skipped[0].name, "figma");
    assert!(plan.skipped[0].reason.starts_with("reached over HTTP"));
    let undone = undo(&plan.text, &plan, true);
    assert!(
        undone.outcomes.iter().all(|(_, o)| *o == Outcome::Restored),
        "{:?}",
        undone.outcomes
    );
    assert_eq!(undone.text, FIXTURE);
    // Without --restore-plaintext, the entries whose credentials moved stay wrapped.
    let kept = undo(&plan.text, &plan, false);
    for (name, outcome) in &kept.outcomes {
        let moved = ["sentry", "github", "postgres"].contains(&name.as_str());
        assert_eq!(matches!(outcome, Outcome::KeptSecrets(_)), moved, "{name}");
    }
}

#[test]
fn wrapped_entries_run_peta_with_the_credentials_moved() {
    let plan = plan(FIXTURE, keyring());
    for moved in plan.wrapped.iter().flat_map(|w| &w.moved) {
        assert!(!plan.text.contains(moved.value.expose()), "{}", moved.var);
    }
    let toml = parsed(&plan.text);
    let servers = toml["mcp_servers"].as_table().expect("servers");
    let strings = |v: &toml::Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|a| a.as_str().expect("string").to_owned())
            .collect()
    };
    let github = servers["github"].as_table().expect("github");
    assert_eq!(github["command"].as_str(), Some(PETA));
    assert_eq!(
        strings(&github["args"]),
        [
            "run",
            "--server",
            "github",
            "--env",
            "GITHUB_PERSONAL_ACCESS_TOKEN=keyring:github.GITHUB_PERSONAL_ACCESS_TOKEN",
            "--env",
            "GITHUB_TOOLSETS=env:GITHUB_TOOLSETS",
            "--",
            "npx",
            "-y",
            "@modelcontextprotocol/server-github"
        ]
    );
    let env = github["env"].as_table().expect("env");
    assert!(!env.contains_key("GITHUB_PERSONAL_ACCESS_TOKEN"));
    assert_eq!(env["GITHUB_TOOLSETS"].as_str(), Some("repos,issues"));
    assert_eq!(
        env["PETA_CONFIG"].as_str(),
        Some("/home/ana/.config/peta/work.toml")
    );
    assert_eq!(env["XDG_RUNTIME_DIR"].as_str(), Some("/run/user/1000"));
    assert_eq!(strings(&github["env_vars"]), ["DBUS_SESSION_BUS_ADDRESS"]);
    assert_eq!(github["startup_timeout_sec"].as_integer(), Some(20));
    // Codex's own list of passed-on names is kept and extended.
    let time = servers["time"].as_table().expect("time");
    assert_eq!(
        strings(&time["env_vars"]),
        ["TZ", "DBUS_SESSION_BUS_ADDRESS"]
    );
    // An entry with no env gets one for peta's variables; its other keys stay.
    let docs = servers["docs"].as_table().expect("docs");
    assert_eq!(
        strings(&docs["args"]),
        ["run", "--server", "docs", "--", "node"]
    );
    assert_eq!(docs["enabled"].as_bool(), Some(false));
    assert_eq!(docs["cwd"].as_str(), Some("/opt/docs-mcp"));
    assert!(
        docs["env"]
            .as_table()
            .expect("env")
            .contains_key("PETA_CONFIG")
    );
    assert!(
        plan.text.contains(
            "env = { SENTRY_HOST = \"sentry.io\", PETA_CONFIG = \"/home/ana/.config/peta/work.toml\", XDG_RUNTIME_DIR = \"/run/user/1000\" }, env_vars"
        ),
        "{}",
        plan.text
    );
}

#[test]
fn the_rest_of_the_file_keeps_its_bytes() {
    let plan = plan(FIXTURE, keyring());
    let text = &plan.text;
    for kept in [
        "# Codex: ~/.codex/config.toml\nmodel = \"gpt-5-codex\"\napproval_policy = \"on-request\"\n\n[tui]\nnotifications = true\n\n[mcp_servers]\nsentry = { command = ",
        " }\n\n# GitHub's server, with a token from the settings page.\n[mcp_servers.github]\ncommand = \"/opt/peta/bin/peta\"\nargs = [",
        "\n\n# Reached over HTTP: not a server Codex starts.\n[mcp_servers.figma]\nurl = \"https://mcp.figma.com/mcp\"\nbearer_token_env_var = \"FIGMA_OAUTH_TOKEN\"\n\n[mcp_servers.docs]\n",
        "\n[profiles.fast]\nmodel = \"gpt-5-mini\"\n",
        // The multi-line args keep their layout; the comment after the token goes with it.
        "args = [\n    \"run\",\n    \"--server\",\n    \"postgres\",\n",
        "\"--access-mode=restricted\",\n]\nenv = { LOG_LEVEL = \"info\", PETA_CONFIG = ",
        "[mcp_servers.github.env]\nGITHUB_TOOLSETS = \"repos,issues\"\nPETA_CONFIG = ",
    ] {
        assert!(text.contains(kept), "{kept:?} in\n{text}");
    }
    assert!(text.ends_with("[profiles.fast]\nmodel = \"gpt-5-mini\"\n"));
}

#[test]
fn installing_twice_changes_nothing() {
    let once = plan(FIXTURE, keyring());
    let twice = plan(&once.text, keyring());
    assert!(twice.wrapped.is_empty(), "{:?}", twice.wrapped);
    assert_eq!(twice.text, once.text);
    let already = twice
        .skipped
        .iter()
        .filter(|s| s.reason == "already runs through peta")
        .count();
    assert_eq!(already, 5);
}

#[test]
fn literals_of_every_kind_come_back_exactly() {
    for env in [
        r#"{ A_TOKEN = 'lit\eral-aaaaaaaaaa', B = "b" }"#,
        r#"{ A_TOKEN = "aaaaaaaaaa", B_TOKEN = "bbbbbbbbbb" }"#,
        r#"{A_TOKEN="aaaaaaaaaa",B="b",C_TOKEN="cccccccccc"}"#,
        r#"{ B = "b", A_TOKEN = "aaaaaaaaaa" }"#,
    ] {
        let text = format!("[mcp_servers.s]\ncommand = \"x\"\nenv = {env}\n");
        let plan = plan(&text, keyring());
        let toml = parsed(&plan.text);
        let kept = toml["mcp_servers"]["s"]["env"].as_table().expect("env");
        assert!(kept.keys().all(|k| !k.ends_with("_TOKEN")), "{}", plan.text);
        assert_eq!(undo(&plan.text, &plan, true).text, text, "{env}");
    }
    // A literal written with escapes comes back as a basic string with the same value.
    for env in [
        r#"{ B = "b", A_TOKEN = "esc\"aped\u00e9-aaaaaaaaaa" }"#,
        "{ A_TOKEN = \"\"\"multi\nline-aaaaaaaaaa\"\"\" }",
    ] {
        let text = format!("[mcp_servers.s]\ncommand = \"x\"\nenv = {env}\n");
        let plan = plan(&text, keyring());
        let back = undo(&plan.text, &plan, true).text;
        assert_eq!(parsed(&back), parsed(&text), "{back}");
    }
    let text = "[mcp_servers.s]\ncommand = \"x\"\n\n[mcp_servers.s.env]\nA_TOKEN = 'aaaaaaaaaa' # the comment goes with it\nB = \"b\"\n";
    let plan = plan(text, keyring());
    assert!(!plan.text.contains("the comment"), "{}", plan.text);
    assert_eq!(undo(&plan.text, &plan, true).text, text);
}

#[test]
fn entries_peta_cannot_edit_are_skipped_with_a_reason() {
    let text = r#"[mcp_servers]
dotted.command = "npx"
number = 3

[mcp_servers.apart]
command = "npx"

[other]
x = 1

[mcp_servers.apart.env]
A = "1"

[mcp_servers.onlyenv.env]
A = "1"

[mcp_servers.list]
command = "npx"
args = "-y x"

[mcp_servers.vars]
command = "npx"
env_vars = [1]
"#;
    let plan = plan(text, keyring());
    assert!(plan.wrapped.is_empty(), "{:?}", plan.wrapped);
    assert_eq!(plan.text, text);
    let reasons: Vec<(&str, &str)> = plan
        .skipped
        .iter()
        .map(|s| (s.name.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "dotted",
                "it is written with dotted keys (dotted.command = …); peta edits [mcp_servers.dotted] tables and inline tables"
            ),
            ("number", "its entry is not a table"),
            (
                "apart",
                "its tables are apart in the file; peta edits a [mcp_servers.apart] entry whose tables follow each other"
            ),
            ("onlyenv", "it has no command"),
            ("list", "its args are not a list"),
            ("vars", "its env_vars are not a list of names"),
        ]
    );
    let err = install(
        "mcp_servers = 1\n",
        Format::Toml,
        &servers(),
        &Wrapping {
            peta: PETA,
            path: None,
            secrets: keyring(),
            free: &|_, _| true,
            add_env: &[],
            forward: &[],
        },
    )
    .expect_err("not a table");
    assert!(err.contains("not a table"), "{err}");
}

#[test]
fn a_broken_file_is_refused_with_its_line() {
    let err = install(
        "model = \"x\"\n[mcp_servers.a]\ncommand = \n",
        Format::Toml,
        &servers(),
        &Wrapping {
            peta: PETA,
            path: None,
            secrets: keyring(),
            free: &|_, _| true,
            add_env: &[],
            forward: &[],
        },
    )
    .expect_err("broken");
    assert!(err.starts_with("line 3, column "), "{err}");
}

#[test]
fn servers_written_inline_are_wrapped_in_place() {
    let text = "mcp_servers = { a = { command = \"npx\", args = [\"x\"] }, b = { url = \"http://h\" } }\nmodel = \"m\"\n";
    let plan = plan(text, keyring());
    assert_eq!(plan.wrapped.len(), 1);
    let toml = parsed(&plan.text);
    assert_eq!(toml["mcp_servers"]["a"]["command"].as_str(), Some(PETA));
    assert_eq!(toml["mcp_servers"]["b"]["url"].as_str(), Some("http://h"));
    assert_eq!(undo(&plan.text, &plan, true).text, text);
}

#[test]
fn without_a_store_only_the_entries_with_credentials_wait() {
    let reason = "no keyring".to_owned();
    let plan = plan(FIXTURE, Secrets::Nowhere(reason.clone()));
    let wrapped: Vec<&str> = plan.wrapped.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(wrapped, ["time", "docs"]);
    let waiting: Vec<&str> = plan
        .skipped
        .iter()
        .filter(|s| s.reason == reason)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(waiting, ["sentry", "github", "postgres"]);
    assert!(
        plan.text
            .contains("ghp_R8x2Kq7WmZ4tN9vB3cL6yH1pD5sF0aJeUoIi")
    );
}

#[test]
fn credentials_left_in_the_file_are_passed_on_with_a_warning() {
    let plan = plan(FIXTURE, Secrets::Leave);
    assert_eq!(plan.wrapped.len(), 5);
    assert!(plan.wrapped.iter().all(|w| w.moved.is_empty()));
    let github = plan
        .wrapped
        .iter()
        .find(|w| w.name == "github")
        .expect("wrapped");
    assert_eq!(github.left.len(), 1);
    assert_eq!(github.left[0].var, "GITHUB_PERSONAL_ACCESS_TOKEN");
    assert!(
        github
            .warnings
            .contains(&"GITHUB_PERSONAL_ACCESS_TOKEN stays in the file as plain text".to_owned())
    );
    assert!(
        github
            .passed
            .contains(&"GITHUB_PERSONAL_ACCESS_TOKEN".to_owned())
    );
    assert!(
        plan.text
            .contains("ghp_R8x2Kq7WmZ4tN9vB3cL6yH1pD5sF0aJeUoIi")
    );
    // Nothing moved, so uninstall gives everything back without asking for plaintext.
    assert_eq!(undo(&plan.text, &plan, false).text, FIXTURE);
}
