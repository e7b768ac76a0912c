//! Approval through the binary: a call the policy asks about waits for a person at a real
//! terminal (a pty that is peta's controlling terminal while the protocol flows over pipes);
//! other traffic flows meanwhile; the answer, a timeout or the client's cancellation decide
//! what reaches the server; what the person saw is what was forwarded.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Pty, Session, peta, peta_command};

/// A session of the demo server behind peta with `config` (TOML, the audit path appended),
/// its controlling terminal `pty`.
struct Gated {
    session: Session,
    pty: Pty,
    dir: tempfile::TempDir,
}

impl Gated {
    fn start(config: &str) -> Gated {
        Gated::start_server(config, "demo", &[peta(), "demo-server"])
    }

    fn start_server(config: &str, name: &str, server: &[&str]) -> Gated {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("peta.toml");
        std::fs::write(
            &file,
            format!(
                "{config}\n[audit]\npath = \"{}\"\n",
                dir.path().join("audit.db").display()
            ),
        )
        .expect("config");
        let pty = Pty::open();
        let mut command = peta_command();
        command
            .env("XDG_STATE_HOME", dir.path())
            .args(["run", "--server", name, "--config"])
            .arg(&file)
            .arg("--")
            .args(server);
        pty.attach(&mut command);
        let mut session = Session::start_with(&mut command);
        session.initialize();
        Gated { session, pty, dir }
    }

    fn call(&mut self, id: u64, tool: &str, arguments: Value) {
        self.session
            .send_json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments}}));
    }

    /// Every row of the audit log as JSON.
    fn rows(&self) -> Vec<Value> {
        let out = peta_command()
            .args(["audit", "export", "--db"])
            .arg(self.dir.path().join("audit.db"))
            .output()
            .expect("export");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|r: &Value| r["record"] == "event")
            .collect()
    }

    fn finish(mut self) -> Vec<Value> {
        self.session.close_stdin();
        self.session.wait(Duration::from_secs(10));
        self.rows()
    }
}

fn text(reply: &Value) -> &str {
    reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
}

#[test]
fn a_person_approves_at_the_terminal_while_other_traffic_flows() {
    let mut g = Gated::start("");
    g.call(1, "echo", json!({"text": "hello"}));
    let shown = g.pty.wait_for("answer within");
    assert!(
        shown.contains("demo wants to run tools/call echo"),
        "{shown}"
    );
    assert!(shown.contains("\"text\": \"hello\""), "{shown}");
    assert!(shown.contains("rule:      default"), "{shown}");
    // While the question is open, the session still answers.
    g.session
        .send_json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    assert!(g.session.response(json!(2))["result"]["tools"].is_array());
    g.pty.type_keys(b"o");
    let reply = g.session.response(json!(1));
    assert_eq!(text(&reply), "hello", "{reply}");
    let rows = g.finish();
    let decided: Vec<&Value> = rows
        .iter()
        .filter(|r| r["tool"] == "echo" && r["direction"] == "c2s")
        .collect();
    let decisions: Vec<&str> = decided
        .iter()
        .map(|r| r["decision"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(decisions, ["ask", "allow"], "{decided:?}");
    assert_eq!(decided[1]["channel"], "tty");
    let hash = decided[1]["bytes_sha256"].as_str().expect("hash");
    assert!(
        shown.contains(hash),
        "the prompt shows the hash of what was forwarded"
    );
}

#[test]
fn deny_timeout_and_cancellation_never_reach_the_server() {
    let mut g = Gated::start("[defaults]\ntimeout = \"1s\"\n");
    // Denied at the terminal.
    g.call(
        1,
        "write_file",
        json!({"path": "/tmp/peta-never-written", "content": "x"}),
    );
    g.pty.wait_for("answer within");
    g.pty.type_keys(b"d");
    let reply = g.session.response(json!(1));
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    assert!(
        text(&reply).contains("The user denied tools/call write_file"),
        "{reply}"
    );
    assert!(!std::path::Path::new("/tmp/peta-never-written").exists());

    // Nobody answers: the timeout denies, with what to do next.
    g.call(2, "echo", json!({"text": "late"}));
    let reply = g.session.response(json!(2));
    assert!(text(&reply).contains("no answer within 1 s"), "{reply}");
    assert!(text(&reply).contains("peta approve"), "{reply}");

    // Ctrl-C at the prompt denies.
    g.call(3, "echo", json!({"text": "interrupted"}));
    g.pty.wait_for("interrupted");
    g.pty.type_keys(b"\x03");
    assert!(text(&g.session.response(json!(3))).contains("The user denied"));

    // The client cancels while the question is open: withdrawn, no answer, nothing sent.
    g.call(4, "echo", json!({"text": "cancel me"}));
    g.pty.wait_for("cancel me");
    g.session.send_json(
        &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 4, "reason": "user stopped"}}),
    );
    g.pty.wait_for("answered elsewhere or timed out");
    assert!(
        g.session.quiet_for(Duration::from_millis(300)),
        "no reply to a cancelled request"
    );

    let rows = g.finish();
    let server_saw: Vec<&Value> = rows
        .iter()
        .filter(|r| r["decision"] == "allow" && r["method"] == "tools/call")
        .collect();
    assert!(server_saw.is_empty(), "nothing was allowed: {server_saw:?}");
    let channels: Vec<&str> = rows
        .iter()
        .filter(|r| r["method"] == "tools/call" && r["decision"] == "deny")
        .map(|r| r["channel"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(channels, ["tty", "timeout", "tty"], "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r["decision"] == "withdrawn" && r["channel"] == "cancelled")
    );
}

#[test]
fn arguments_are_shown_redacted_and_escaped() {
    let mut g = Gated::start("");
    let hostile = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}txt.exe";
    g.call(
        1,
        "echo",
        json!({"text": hostile, "padding": "p".repeat(2000)}),
    );
    g.pty.wait_for("answer within");
    g.pty.type_keys(b"d");
    g.session.response(json!(1));
    let transcript = g.pty.transcript();
    let shown = String::from_utf8_lossy(&transcript);
    assert!(
        shown.contains(r"\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}txt.exe"),
        "{shown}"
    );
    assert!(
        !transcript.contains(&0x1b),
        "no raw escape reaches the terminal"
    );
    assert!(!shown.contains('\u{202e}'));
    assert!(shown.contains("more bytes folded"), "{shown}");
    g.finish();
}

#[test]
fn a_session_grant_lets_the_identical_call_through() {
    let mut g = Gated::start("");
    g.call(1, "add", json!({"a": 2, "b": 3}));
    g.pty.wait_for("answer within");
    g.pty.type_keys(b"s");
    assert_eq!(text(&g.session.response(json!(1))), "5");
    g.call(2, "add", json!({"a": 2, "b": 3}));
    assert_eq!(
        text(&g.session.response(json!(2))),
        "5",
        "no second question"
    );
    // Different arguments ask again.
    g.call(3, "add", json!({"a": 2, "b": 4}));
    g.pty.wait_for("\"b\": 4");
    g.pty.type_keys(b"d");
    g.session.response(json!(3));
    let rows = g.finish();
    let second = rows
        .iter()
        .find(|r| r["rpc_id"] == "2" && r["decision"] == "allow")
        .expect("the second call's row");
    assert!(
        second["rule"]
            .as_str()
            .unwrap_or_default()
            .starts_with("grant:"),
        "{second}"
    );
}

#[test]
fn rules_allow_and_deny_without_asking() {
    let mut g = Gated::start(
        r#"
[[rules]]
id = "echo-ok"
tool = "echo"
action = "allow"

[[rules]]
id = "no-deletes"
tool = "delete_*"
action = "deny"
message = "Deleting is not allowed here."
"#,
    );
    g.call(1, "echo", json!({"text": "free"}));
    assert_eq!(text(&g.session.response(json!(1))), "free");
    g.call(2, "delete_file", json!({"path": "/tmp/x"}));
    let reply = g.session.response(json!(2));
    assert_eq!(reply["result"]["isError"], true);
    assert!(
        text(&reply).contains("rule `no-deletes`: Deleting is not allowed here."),
        "{reply}"
    );
    let transcript = g.pty.transcript();
    assert!(
        transcript.is_empty(),
        "no question was asked: {}",
        String::from_utf8_lossy(&transcript)
    );
    g.finish();
}

#[test]
fn without_any_way_to_ask_the_call_is_denied() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("peta.toml");
    std::fs::write(&config, "").expect("config");
    // No controlling terminal (a new session), a client without elicitation, and a runtime
    // directory others can write, which the `peta approve` console refuses.
    let runtime = crate::support::refused_runtime_dir();
    let mut command = peta_command();
    command
        .env("XDG_RUNTIME_DIR", runtime.path())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--", peta(), "demo-server"]);
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            libc::setsid();
            Ok(())
        });
    }
    let mut s = Session::start_with(&mut command);
    s.initialize();
    s.send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "x"}}}));
    let reply = s.response(json!(1));
    assert_eq!(reply["result"]["isError"], true);
    assert!(
        text(&reply).contains("no way to ask is available"),
        "{reply}"
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

/// The official Python SDK client, whose elicitation callback answers peta's question.
fn python_client(answer: &[&str]) -> Option<Value> {
    let python = crate::support::external("PETA_E2E_PYTHON")?;
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("peta.toml");
    std::fs::write(&config, "").expect("config");
    // Only the client's UI can be asked: no terminal, and no console (a runtime directory
    // others can write is refused).
    let runtime = crate::support::refused_runtime_dir();
    let out = std::process::Command::new("setsid")
        .env("XDG_RUNTIME_DIR", runtime.path())
        .arg(python)
        .arg(crate::support::fixture("mcp_client.py"))
        .args([
            "--scenario",
            "basic",
            "--tool",
            "echo",
            "--args",
            r#"{"text": "asked in the client"}"#,
        ])
        .args(answer)
        .arg("--")
        .arg(peta())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--", peta(), "demo-server"])
        .env("XDG_STATE_HOME", dir.path())
        .output()
        .expect("python client");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("report"))
}

#[test]
fn the_client_ui_answers_through_elicitation() {
    let Some(report) = python_client(&["--peta-answer", "accept:allow once"]) else {
        return;
    };
    let call = &report["steps"]["call"];
    assert_eq!(call["isError"], false, "{report}");
    assert!(call.to_string().contains("asked in the client"), "{report}");
    let question = &report["peta_questions"][0];
    assert!(
        question["message"]
            .as_str()
            .unwrap_or_default()
            .contains("wants to run tools/call echo")
    );
    assert_eq!(
        question["choices"][0], "deny",
        "deny comes first: {question}"
    );

    let report = python_client(&["--peta-answer", "decline"]).expect("report");
    let call = &report["steps"]["call"];
    assert_eq!(call["isError"], true, "{report}");
    assert!(
        call.to_string()
            .contains("dismissed there without a choice"),
        "{report}"
    );

    let report = python_client(&["--no-elicitation"]).expect("report");
    assert!(report.get("peta_questions").is_none());
    assert!(
        report["steps"]["call"]
            .to_string()
            .contains("no way to ask"),
        "{report}"
    );
}

#[test]
fn server_filesystem_reads_by_rule_and_a_denied_write_leaves_the_disk_alone() {
    let Some(filesystem) = crate::support::external("PETA_E2E_FILESYSTEM") else {
        return;
    };
    let root = tempfile::tempdir().expect("root");
    let root_path = root.path().canonicalize().expect("canonical root");
    let file = root_path.join("notes.txt");
    std::fs::write(&file, "original").expect("file");
    let mut g = Gated::start_server(
        &format!(
            r#"
[[rules]]
id = "reads-are-fine"
server = "filesystem"
tool = "^(read_text_file|read_file|list_allowed_directories)$"
action = "allow"

# The box: the server's root is the one place it may write.
[servers.filesystem.sandbox]
write = ["{}"]
"#,
            root_path.display()
        ),
        "filesystem",
        &["node", &filesystem, root_path.to_str().expect("utf-8")],
    );
    g.call(1, "read_text_file", json!({"path": file}));
    let reply = g.session.response(json!(1));
    assert_eq!(text(&reply), "original", "{reply}");
    g.call(
        2,
        "write_file",
        json!({"path": file, "content": "overwritten"}),
    );
    let shown = g.pty.wait_for("answer within");
    assert!(
        shown.contains("filesystem wants to run tools/call write_file"),
        "{shown}"
    );
    assert!(shown.contains("overwritten"), "{shown}");
    g.pty.type_keys(b"d");
    let reply = g.session.response(json!(2));
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    assert_eq!(std::fs::read_to_string(&file).expect("file"), "original");
    let rows = g.finish();
    assert!(
        rows.iter()
            .any(|r| r["tool"] == "read_text_file" && r["rule"] == "reads-are-fine")
    );
}

#[test]
fn always_allow_is_remembered_across_sessions_until_revoked() {
    let state = tempfile::tempdir().expect("state");
    // All three sessions share one state directory, where grants are kept.
    let grants = |args: &[&str]| {
        let out = peta_command()
            .env("XDG_STATE_HOME", state.path())
            .arg("grants")
            .args(args)
            .output()
            .expect("grants");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let start = || {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("peta.toml");
        std::fs::write(&file, "").expect("config");
        let pty = Pty::open();
        let mut command = peta_command();
        command
            .env("XDG_STATE_HOME", state.path())
            .args(["run", "--server", "demo", "--config"])
            .arg(&file)
            .args(["--", peta(), "demo-server"]);
        pty.attach(&mut command);
        let mut s = Session::start_with(&mut command);
        s.initialize();
        s.send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": 40, "b": 2}}}));
        (s, pty, dir)
    };
    let (mut s, mut pty, _dir) = start();
    pty.wait_for("answer within");
    pty.type_keys(b"a");
    assert_eq!(text(&s.response(json!(1))), "42");
    s.close_stdin();
    s.wait(Duration::from_secs(10));
    let (code, listing) = grants(&["list"]);
    assert_eq!(code, Some(0));
    assert!(
        listing.contains("demo") && listing.contains("add"),
        "{listing}"
    );
    let id = listing
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .expect("grant id")
        .to_owned();

    // A later session: the same call goes through without a question.
    let (mut s, mut pty, _dir) = start();
    assert_eq!(text(&s.response(json!(1))), "42");
    assert!(pty.transcript().is_empty(), "no question");
    s.close_stdin();
    s.wait(Duration::from_secs(10));

    assert_eq!(grants(&["revoke", &id]).0, Some(0));
    assert_eq!(grants(&["revoke", &id]).0, Some(1), "already gone");
    let (mut s, mut pty, _dir) = start();
    pty.wait_for("answer within");
    pty.type_keys(b"d");
    assert!(text(&s.response(json!(1))).contains("The user denied"));
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn replay_lists_past_calls_the_current_policy_decides_differently() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("audit.db");
    let write = |name: &str, body: &str| {
        let file = dir.path().join(name);
        std::fs::write(
            &file,
            format!("{body}\n[audit]\npath = \"{}\"\n", db.display()),
        )
        .expect("config");
        file
    };
    let before = write("before.toml", crate::support::ALLOW_ALL);
    let mut s = Session::start_with(
        peta_command()
            .args(["run", "--server", "demo", "--config"])
            .arg(&before)
            .args(["--", peta(), "demo-server"]),
    );
    s.initialize();
    for (id, tool, args) in [
        (1, "echo", json!({"text": "fine"})),
        (
            2,
            "delete_file",
            json!({"path": "/tmp/peta-replay-example"}),
        ),
    ] {
        s.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": args}}));
        s.response(json!(id));
    }
    s.close_stdin();
    s.wait(Duration::from_secs(10));
    let after = write(
        "after.toml",
        "[defaults]\ndefault_action = \"allow\"\n[[rules]]\nid = \"no-deletes\"\ntool = \"delete_*\"\naction = \"deny\"\n",
    );
    let replay = |config: &std::path::Path| {
        peta_command()
            .args(["policy", "replay", "--config"])
            .arg(config)
            .output()
            .expect("replay")
    };
    let out = replay(&after);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{listing}");
    assert_eq!(listing.lines().count(), 1, "{listing}");
    assert!(
        listing.contains("demo delete_file: was allow (default), now deny (no-deletes)"),
        "{listing}"
    );
    assert_eq!(
        replay(&before).status.code(),
        Some(0),
        "nothing changes under the old policy"
    );
}

#[test]
fn a_gated_server_request_is_denied_before_it_reaches_the_client() {
    let Some(everything) = crate::support::external("PETA_E2E_EVERYTHING") else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("peta.toml");
    std::fs::write(
        &config,
        r#"
[defaults]
default_action = "allow"
gate = ["sampling/createMessage"]

[[rules]]
id = "no-sampling"
method = "sampling/createMessage"
action = "deny"
"#,
    )
    .expect("config");
    let mut s = Session::start_with(peta_command().args(["run", "--config"]).arg(&config).args([
        "--",
        "node",
        &everything,
        "stdio",
    ]));
    s.send_json(
        &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {"sampling": {}},
        "clientInfo": {"name": "peta-tests", "version": "1"}}}),
    );
    s.response(json!(0));
    s.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
    s.send_json(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "trigger-sampling-request", "arguments": {"prompt": "hi", "maxTokens": 5}}}),
    );
    let reply = loop {
        let message = s.recv();
        assert_ne!(
            message["method"], "sampling/createMessage",
            "the denied request reached the client: {message}"
        );
        if message["id"] == 1 {
            break message;
        }
    };
    assert!(
        reply.to_string().contains("no-sampling"),
        "the server got the denial and passed it on: {reply}"
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

/// A gated session with no terminal, reachable by `peta approve` through `runtime`.
fn console_session(
    runtime: &std::path::Path,
    name: &str,
    config: &str,
) -> (Session, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("peta.toml");
    std::fs::write(&file, config).expect("config");
    let mut command = peta_command();
    command
        .env("XDG_RUNTIME_DIR", runtime)
        .env("XDG_STATE_HOME", dir.path())
        .args(["run", "--server", name, "--config"])
        .arg(&file)
        .args(["--", peta(), "demo-server"]);
    // SAFETY: setsid is async-signal-safe; the session gets no controlling terminal.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            libc::setsid();
            Ok(())
        });
    }
    let mut s = Session::start_with(&mut command);
    s.initialize();
    (s, dir)
}

fn approve(runtime: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let out = peta_command()
        .env("XDG_RUNTIME_DIR", runtime)
        .arg("approve")
        .args(args)
        .output()
        .expect("peta approve");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The id of the one pending request of session `label`, once `peta approve` lists it.
fn pending_id(runtime: &std::path::Path, label: &str) -> String {
    for _ in 0..200 {
        let out = peta_command()
            .env("XDG_RUNTIME_DIR", runtime)
            .args(["approve", "--list", "--json"])
            .output()
            .expect("list");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let listing: Value = serde_json::from_str(&text).unwrap_or_default();
        if let Some(id) = listing["sessions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["label"] == label)
            .find_map(|s| s["pending"][0]["id"].as_str().map(str::to_owned))
        {
            return id;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("no pending request of {label} was ever listed");
}

#[test]
fn two_sessions_one_console_each_answer_reaches_its_own_request() {
    let runtime = tempfile::tempdir().expect("runtime");
    let (mut a, _da) = console_session(runtime.path(), "alpha", "");
    let (mut b, _db) = console_session(runtime.path(), "beta", "");
    for s in [&mut a, &mut b] {
        s.send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "from the console"}}}));
    }
    let (alpha, beta) = (
        pending_id(runtime.path(), "alpha"),
        pending_id(runtime.path(), "beta"),
    );
    assert_ne!(alpha, beta);
    let (code, said) = approve(runtime.path(), &[&beta, "--answer", "deny"]);
    assert_eq!(code, Some(0), "{said}");
    let (code, said) = approve(runtime.path(), &[&alpha, "--answer", "once"]);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(text(&a.response(json!(1))), "from the console");
    let denied = b.response(json!(1));
    assert!(
        text(&denied).contains("answered at the console"),
        "{denied}"
    );
    // Already decided: a second answer is refused.
    assert_eq!(
        approve(runtime.path(), &[&alpha, "--answer", "once"]).0,
        Some(1)
    );
    for s in [&mut a, &mut b] {
        s.close_stdin();
        s.wait(Duration::from_secs(10));
    }
}

#[test]
fn an_approval_after_the_timeout_lets_the_retry_through() {
    let runtime = tempfile::tempdir().expect("runtime");
    let (mut s, _d) = console_session(runtime.path(), "gamma", "[defaults]\ntimeout = \"1s\"\n");
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 20, "b": 22}}});
    s.send_json(&call);
    let id = pending_id(runtime.path(), "gamma");
    assert!(text(&s.response(json!(1))).contains("no answer within 1 s"));
    let (code, said) = approve(runtime.path(), &[&id, "--answer", "once"]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("retries the identical call"), "{said}");
    let mut retry = call.clone();
    retry["id"] = json!(2);
    s.send_json(&retry);
    assert_eq!(
        text(&s.response(json!(2))),
        "42",
        "the identical retry needs no second question"
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn a_2026_client_is_asked_through_input_required_and_answers_in_its_retry() {
    let runtime = tempfile::tempdir().expect("runtime");
    let (mut s, _d) = {
        // A stateless session: no initialize, every request carries its version.
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("peta.toml");
        std::fs::write(&file, "").expect("config");
        let mut command = peta_command();
        command
            .env("XDG_RUNTIME_DIR", runtime.path())
            .env("XDG_STATE_HOME", dir.path())
            .args(["run", "--config"])
            .arg(&file)
            .args(["--", peta(), "demo-server"]);
        (Session::start_with(&mut command), dir)
    };
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}});
    let call = |id: u64, text: &str, extra: Value| {
        let mut params = json!({"name": "echo", "arguments": {"text": text}, "_meta": meta});
        if let Value::Object(extra) = extra {
            params.as_object_mut().expect("object").extend(extra);
        }
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
    };
    let ask = |s: &mut Session, id: u64, text: &str| {
        s.send_json(&call(id, text, Value::Null));
        let first = s.response(json!(id));
        assert_eq!(first["result"]["resultType"], "input_required", "{first}");
        let question = &first["result"]["inputRequests"]["peta-approval"];
        assert_eq!(question["method"], "elicitation/create");
        assert!(
            question["params"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("tools/call echo")
        );
        first["result"]["requestState"].clone()
    };
    let answer = |decision: &str| json!({"peta-approval": {"action": "accept", "content": {"decision": decision}}});

    // Approved in the retry: the server gets the call without peta's fields.
    let state = ask(&mut s, 1, "modern approval");
    s.send_json(&call(
        2,
        "modern approval",
        json!({"requestState": state, "inputResponses": answer("allow once")}),
    ));
    let done = s.response(json!(2));
    assert_eq!(text(&done), "modern approval", "{done}");

    // Denied in the retry.
    let state = ask(&mut s, 3, "denied");
    s.send_json(&call(
        4,
        "denied",
        json!({"requestState": state, "inputResponses": answer("deny")}),
    ));
    assert!(text(&s.response(json!(4))).contains("The user denied"));

    // Dismissed in the client's dialog: denied, saying so.
    let state = ask(&mut s, 40, "dismissed");
    s.send_json(&call(
        41,
        "dismissed",
        json!({"requestState": state, "inputResponses": {"peta-approval": {"action": "cancel"}}}),
    ));
    assert!(text(&s.response(json!(41))).contains("dismissed there without a choice"));

    // A retry that changed the arguments after the question is denied, and the question is
    // spent: replaying its state gets nothing either.
    let state = ask(&mut s, 5, "harmless");
    s.send_json(&call(
        6,
        "something else",
        json!({"requestState": state, "inputResponses": answer("allow once")}),
    ));
    assert!(text(&s.response(json!(6))).contains("changed the tool or its arguments"));
    s.send_json(&call(
        7,
        "harmless",
        json!({"requestState": state, "inputResponses": answer("allow once")}),
    ));
    assert!(text(&s.response(json!(7))).contains("unknown, expired or already answered"));
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}
