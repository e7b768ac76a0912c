//! Tool pinning through the relay: a tool whose definition changes (in the session, after
//! `notifications/tools/list_changed`, or between sessions) disappears from the list the
//! client sees and its calls are denied until `peta tools approve`; "always" approvals bound
//! to the old definition stop applying.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{ALLOW_ALL, Session, peta, peta_command};

struct Pinned {
    dir: tempfile::TempDir,
}

impl Pinned {
    fn new() -> Pinned {
        Pinned {
            dir: tempfile::tempdir().expect("dir"),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("audit.db")
    }

    fn config(&self, policy: &str) -> PathBuf {
        let file = self.dir.path().join("peta.toml");
        std::fs::write(
            &file,
            format!("{policy}\n[audit]\npath = \"{}\"\n", self.db().display()),
        )
        .expect("config");
        file
    }

    /// `peta run --server demo` of the demo server with `flags`, initialized. The
    /// configuration binds the name to that command, so its pins are the name's.
    fn session(&self, policy: &str, flags: &[&str], runtime: Option<&Path>) -> Session {
        let config = self.config(&format!("{policy}\n{}", demo_server(flags)));
        let mut command = peta_command();
        command
            .env("XDG_STATE_HOME", self.dir.path())
            .args(["run", "--server", "demo", "--config"])
            .arg(&config)
            .args(["--", peta(), "demo-server"])
            .args(flags);
        if let Some(runtime) = runtime {
            command.env("XDG_RUNTIME_DIR", runtime);
            // SAFETY: setsid is async-signal-safe; no terminal, so questions go to the console.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                    libc::setsid();
                    Ok(())
                });
            }
        }
        let mut s = Session::start_with(&mut command);
        s.initialize();
        s
    }

    fn tools(&self, args: &[&str]) -> Output {
        peta_command()
            .arg("tools")
            .args(args)
            .arg("--db")
            .arg(self.db())
            .output()
            .expect("peta tools")
    }
}

/// `[servers.demo]` bound to the demo server with `flags`.
fn demo_server(flags: &[&str]) -> String {
    let argv: Vec<String> = [peta(), "demo-server"]
        .iter()
        .chain(flags)
        .map(|a| format!("{a:?}"))
        .collect();
    format!("[servers.demo]\ncommand = [{}]\n", argv.join(", "))
}

fn names(s: &mut Session, id: u64) -> Vec<String> {
    s.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"}));
    s.response(json!(id))["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn call(s: &mut Session, id: u64, tool: &str, arguments: Value) -> Value {
    s.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}}));
    s.response(json!(id))
}

fn text(reply: &Value) -> String {
    reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_rug_pull_in_the_session_hides_the_tool_until_it_is_approved() {
    let p = Pinned::new();
    let mut s = p.session(ALLOW_ALL, &["--rug-pull-after", "1"], None);
    assert!(names(&mut s, 1).contains(&"echo".to_owned()));
    assert_eq!(
        text(&call(&mut s, 2, "echo", json!({"text": "before"}))),
        "before"
    );
    // The server changed echo's description and said so (notifications/tools/list_changed
    // came before that call's result); the client lists again.
    let listed = names(&mut s, 3);
    assert!(!listed.contains(&"echo".to_owned()), "{listed:?}");
    assert!(listed.contains(&"add".to_owned()));
    let denied = call(&mut s, 4, "echo", json!({"text": "after"}));
    assert_eq!(denied["result"]["isError"], true, "{denied}");
    assert!(
        text(&denied).contains("its definition changed since it was pinned"),
        "{denied}"
    );
    assert!(
        text(&denied).contains("peta tools diff demo echo"),
        "{denied}"
    );

    let diff = p.tools(&["diff", "demo", "echo"]);
    let shown = String::from_utf8_lossy(&diff.stdout);
    assert_eq!(diff.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("-   \"description\": \"Send the text back.\""),
        "{shown}"
    );
    assert!(shown.contains("<IMPORTANT>"), "{shown}");
    let listing =
        String::from_utf8_lossy(&p.tools(&["list", "--server", "demo"]).stdout).into_owned();
    assert!(
        listing
            .lines()
            .any(|l| l.contains("echo") && l.contains("changed")),
        "{listing}"
    );

    assert_eq!(p.tools(&["approve", "demo", "echo"]).status.code(), Some(0));
    assert!(
        names(&mut s, 5).contains(&"echo".to_owned()),
        "approved: listed again"
    );
    assert_eq!(
        text(&call(&mut s, 6, "echo", json!({"text": "again"}))),
        "again"
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn a_definition_changed_between_sessions_is_held_in_the_next() {
    let p = Pinned::new();
    let mut first = p.session(ALLOW_ALL, &[], None);
    assert!(names(&mut first, 1).contains(&"add".to_owned()));
    first.close_stdin();
    first.wait(Duration::from_secs(10));

    // The server now ships `add` with an extra parameter.
    let mut second = p.session(ALLOW_ALL, &["--add-parameter-after", "0"], None);
    let listed = names(&mut second, 1);
    assert!(
        !listed.contains(&"add".to_owned()) && listed.contains(&"echo".to_owned()),
        "{listed:?}"
    );
    let denied = call(&mut second, 2, "add", json!({"a": 1, "b": 2}));
    assert!(text(&denied).contains("definition changed"), "{denied}");
    second.close_stdin();
    second.wait(Duration::from_secs(10));
    let diff = String::from_utf8_lossy(&p.tools(&["diff", "demo", "add"]).stdout).into_owned();
    assert!(diff.contains("+") && diff.contains("sidenote"), "{diff}");
}

#[test]
fn an_always_approval_does_not_survive_a_changed_definition() {
    let p = Pinned::new();
    let runtime = tempfile::tempdir().expect("runtime");
    let answer = |id: &str, choice: &str| {
        let out = peta_command()
            .env("XDG_RUNTIME_DIR", runtime.path())
            .args(["approve", id, "--answer", choice])
            .output()
            .expect("approve");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let pending = || -> String {
        for _ in 0..200 {
            let out = peta_command()
                .env("XDG_RUNTIME_DIR", runtime.path())
                .args(["approve", "--list", "--json"])
                .output()
                .expect("list");
            let listing: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            if let Some(id) = listing["sessions"][0]["pending"][0]["id"].as_str() {
                return id.to_owned();
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("no question was asked");
    };
    let mut s = p.session("", &["--add-parameter-after", "1"], Some(runtime.path()));
    names(&mut s, 1);
    let add = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 20, "b": 22}}});
    s.send_json(&add);
    answer(&pending(), "always");
    assert_eq!(text(&s.response(json!(2))), "42");
    // That call was the first: `add` has changed now.
    assert!(!names(&mut s, 3).contains(&"add".to_owned()));
    assert_eq!(p.tools(&["approve", "demo", "add"]).status.code(), Some(0));
    assert!(names(&mut s, 4).contains(&"add".to_owned()));
    // The identical call is asked about again: the grant was for the old definition.
    let mut again = add.clone();
    again["id"] = json!(5);
    s.send_json(&again);
    answer(&pending(), "deny");
    assert!(text(&s.response(json!(5))).contains("The user denied"));
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn the_python_sdk_client_never_sees_a_changed_tool() {
    let Some(python) = crate::support::external("PETA_E2E_PYTHON") else {
        return;
    };
    let p = Pinned::new();
    let run = |flags: &[&str]| -> Value {
        let config = p.config(&format!("{ALLOW_ALL}\n{}", demo_server(flags)));
        let out = std::process::Command::new(&python)
            .arg(crate::support::fixture("mcp_client.py"))
            .args([
                "--scenario",
                "basic",
                "--tool",
                "echo",
                "--args",
                r#"{"text": "hi"}"#,
            ])
            .arg("--")
            .arg(peta())
            .args(["run", "--server", "demo", "--config"])
            .arg(&config)
            .args(["--", peta(), "demo-server"])
            .args(flags)
            .env("XDG_STATE_HOME", p.dir.path())
            .output()
            .expect("python client");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("report")
    };
    let before = run(&[]);
    assert!(before["tools"].to_string().contains("\"echo\""), "{before}");
    assert_eq!(before["steps"]["call"]["isError"], false, "{before}");
    let after = run(&["--rug-pull-after", "0"]);
    assert!(!after["tools"].to_string().contains("\"echo\""), "{after}");
    assert_eq!(after["steps"]["call"]["isError"], true, "{after}");
    assert!(
        after["steps"]["call"]
            .to_string()
            .contains("definition changed"),
        "{after}"
    );
}

#[test]
fn tools_can_be_pinned_before_any_agent_connects() {
    let p = Pinned::new();
    let connect = |flags: &str| {
        let config = p.config(&format!(
            "[servers.demo]\ncommand = [\"{}\", \"demo-server\"{flags}]\n",
            peta()
        ));
        peta_command()
            .args(["tools", "list", "--server", "demo", "--connect", "--config"])
            .arg(&config)
            .output()
            .expect("peta tools list --connect")
    };
    let out = connect("");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("7 tools listed, 7 pinned now"), "{said}");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing
            .lines()
            .any(|l| l.contains("echo") && l.contains("new")),
        "{listing}"
    );

    let out = connect(", \"--rug-pull-after\", \"0\"");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("6 unchanged, 1 changed (held back)"),
        "{said}"
    );
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing
            .lines()
            .any(|l| l.contains("echo") && l.contains("changed")),
        "{listing}"
    );
}

#[test]
fn a_strictly_pinned_server_cannot_slip_in_a_new_tool_mid_session() {
    let p = Pinned::new();
    let session = |strict: bool| {
        let policy = if strict {
            format!("{ALLOW_ALL}[servers.growing]\npin = \"strict\"\n")
        } else {
            format!("{ALLOW_ALL}[servers.growing]\n")
        };
        growing(&p, &policy, "")
    };
    let mut s = session(true);
    assert_eq!(names(&mut s, 1), ["read_notes"]);
    assert_eq!(
        text(&call(&mut s, 2, "read_notes", json!({}))),
        "read_notes done"
    );
    // The server now lists send_notes too; strict pinning holds it back.
    assert_eq!(names(&mut s, 3), ["read_notes"]);
    let denied = call(&mut s, 4, "send_notes", json!({}));
    assert!(
        text(&denied).contains("appeared in the middle of a session"),
        "{denied}"
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
    // It stays held in later sessions, even without strict pinning, until approved.
    let mut s = session(false);
    call(&mut s, 1, "read_notes", json!({}));
    assert_eq!(names(&mut s, 2), ["read_notes"]);
    assert_eq!(
        p.tools(&["approve", "growing", "send_notes"]).status.code(),
        Some(0)
    );
    assert_eq!(names(&mut s, 3), ["read_notes", "send_notes"]);
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn without_strict_pinning_a_new_tool_is_trusted_on_first_sight() {
    let p = Pinned::new();
    let mut s = growing(&p, ALLOW_ALL, "");
    assert_eq!(names(&mut s, 1), ["read_notes"]);
    call(&mut s, 2, "read_notes", json!({}));
    assert_eq!(names(&mut s, 3), ["read_notes", "send_notes"]);
    assert_eq!(
        text(&call(&mut s, 4, "send_notes", json!({}))),
        "send_notes done"
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

/// A session of `growing_server.py MODE` with `policy`.
/// The growing server under the name `growing`. A `policy` with a `[servers.growing]`
/// section (last) gets the server's command there, binding the name to it.
fn growing(p: &Pinned, policy: &str, mode: &str) -> Session {
    let argv: Vec<String> = [
        "python3".to_owned(),
        crate::support::fixture("growing_server.py")
            .display()
            .to_string(),
    ]
    .into_iter()
    .chain((!mode.is_empty()).then(|| mode.to_owned()))
    .map(|a| format!("{a:?}"))
    .collect();
    let policy = policy.replace(
        "[servers.growing]\n",
        &format!("[servers.growing]\ncommand = [{}]\n", argv.join(", ")),
    );
    let config = p.config(&policy);
    let mut s = Session::start_with(
        peta_command()
            .env("XDG_STATE_HOME", p.dir.path())
            .args(["run", "--server", "growing", "--config"])
            .arg(&config)
            .args(["--", "python3"])
            .arg(crate::support::fixture("growing_server.py"))
            .args((!mode.is_empty()).then_some(mode)),
    );
    s.initialize();
    s
}

/// Follows `nextCursor` until the list ends (at most `limit` pages); the pages' tools.
fn all_pages(s: &mut Session, limit: usize) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor = Value::Null;
    for id in 100..100 + limit as u64 {
        let params = if cursor.is_null() {
            json!({})
        } else {
            json!({"cursor": cursor})
        };
        s.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": params}));
        let result = s.response(json!(id))["result"].clone();
        pages.push(
            result["tools"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| t["name"].as_str().unwrap_or_default().to_owned())
                .collect(),
        );
        cursor = result["nextCursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    pages
}

#[test]
fn an_endless_tool_list_is_ended_after_a_bounded_number_of_pages() {
    let p = Pinned::new();
    let mut s = growing(&p, ALLOW_ALL, "endless");
    let pages = all_pages(&mut s, 150);
    assert_eq!(pages.len(), 100, "peta ends the listing at its page limit");
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn look_alike_names_on_different_pages_hold_the_list_back() {
    let p = Pinned::new();
    let mut s = growing(&p, ALLOW_ALL, "lookalike");
    let pages = all_pages(&mut s, 5);
    assert_eq!(pages.len(), 2);
    assert!(
        pages[1].is_empty(),
        "the look-alike page is held back: {pages:?}"
    );
    let denied = call(&mut s, 1, "read_notes", json!({}));
    assert_eq!(
        denied["result"]["isError"], true,
        "the earlier page's tool is held too: {denied}"
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}
