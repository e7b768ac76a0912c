//! Which way peta asks, and where it can be found, as a client really starts it: never on a
//! terminal that is not its own, a client's dismissal decides at once, a question nobody can
//! see says so on stderr, and `peta approve` finds a session whatever variables the client
//! dropped.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Pty, Session, fixture, peta, peta_command, python, wait_for_file};

fn text(reply: &Value) -> &str {
    reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
}

fn call(s: &mut Session, id: u64, tool: &str) {
    s.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": {"text": "x"}}}));
}

fn config_file(dir: &Path, body: &str) -> std::path::PathBuf {
    let file = dir.join("peta.toml");
    std::fs::write(
        &file,
        format!(
            "{body}\n[audit]\npath = \"{}\"\n",
            dir.join("audit.db").display()
        ),
    )
    .expect("config");
    file
}

#[test]
fn a_terminal_in_raw_mode_belongs_to_the_program_drawing_on_it() {
    // peta is in the terminal's foreground group (as a server of a terminal client is), but
    // the terminal is in raw mode: a full-screen program (the client) reads its keys.
    let dir = tempfile::tempdir().expect("dir");
    let config = config_file(dir.path(), "[defaults]\ntimeout = \"5s\"\n");
    let runtime = crate::support::refused_runtime_dir();
    let mut pty = Pty::open();
    pty.raw();
    let mut command = peta_command();
    command
        .env("XDG_RUNTIME_DIR", runtime.path())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--", peta(), "demo-server"]);
    pty.attach(&mut command);
    let mut s = Session::start_with(&mut command);
    s.initialize();
    let start = Instant::now();
    call(&mut s, 1, "echo");
    let reply = s.response(json!(1));
    let shown = String::from_utf8_lossy(&pty.transcript()).into_owned();
    assert!(
        !shown.contains("wants to run"),
        "peta drew its question on a terminal a full-screen program owns:\n{shown}"
    );
    assert!(
        text(&reply).contains("no way to ask is available"),
        "{reply}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn a_terminal_whose_foreground_is_another_group_is_left_alone() {
    let dir = tempfile::tempdir().expect("dir");
    let config = config_file(dir.path(), "[defaults]\ntimeout = \"5s\"\n");
    let runtime = crate::support::refused_runtime_dir();
    let transcript = dir.path().join("transcript");
    let pidfile = dir.path().join("pid");
    // peta's test environment, on a python that puts it in the background of a terminal.
    let mut wrapped = Command::new(python());
    for (k, v) in peta_command().get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    wrapped
        .env("XDG_RUNTIME_DIR", runtime.path())
        .arg(fixture("background_on_tty.py"))
        .arg(&transcript)
        .arg(&pidfile)
        .arg("--")
        .arg(peta())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--", peta(), "demo-server"]);
    let mut s = Session::start_with(&mut wrapped);
    let group: i32 = wait_for_file(&pidfile).trim().parse().expect("pid");
    struct Reap(i32);
    impl Drop for Reap {
        fn drop(&mut self) {
            // SAFETY: ends the test's own process group (peta may be stopped by SIGTTOU).
            unsafe { libc::killpg(self.0, libc::SIGKILL) };
        }
    }
    let _reap = Reap(group);
    s.initialize();
    call(&mut s, 1, "echo");
    let reply = s.response(json!(1));
    let shown = std::fs::read_to_string(&transcript).unwrap_or_default();
    assert!(!shown.contains("wants to run"), "{shown}");
    assert!(
        text(&reply).contains("no way to ask is available"),
        "{reply}"
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn tty_can_be_switched_off_with_defaults_channels() {
    let dir = tempfile::tempdir().expect("dir");
    let config = config_file(
        dir.path(),
        "[defaults]\ntimeout = \"5s\"\nchannels = [\"client\", \"console\"]\n",
    );
    let runtime = crate::support::refused_runtime_dir();
    let mut pty = Pty::open();
    let mut command = peta_command();
    command
        .env("XDG_RUNTIME_DIR", runtime.path())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--", peta(), "demo-server"]);
    pty.attach(&mut command);
    let mut s = Session::start_with(&mut command);
    s.initialize();
    call(&mut s, 1, "echo");
    let reply = s.response(json!(1));
    assert!(
        text(&reply).contains("no way to ask is available"),
        "{reply}"
    );
    assert!(pty.transcript().is_empty(), "the terminal is off");
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn a_client_that_declared_elicitation_is_asked_and_the_terminal_stays_silent() {
    // A terminal client (its screen is the terminal peta also has) that declared elicitation:
    // its own dialog is the channel.
    let dir = tempfile::tempdir().expect("dir");
    let config = config_file(dir.path(), "[defaults]\ntimeout = \"5s\"\n");
    let runtime = crate::support::refused_runtime_dir();
    let mut pty = Pty::open();
    let mut command = peta_command();
    command
        .env("XDG_RUNTIME_DIR", runtime.path())
        .args(["run", "--config"])
        .arg(&config)
        .args(["--", peta(), "demo-server"]);
    pty.attach(&mut command);
    let mut s = Session::start_with(&mut command);
    s.send_json(
        &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {"elicitation": {}},
        "clientInfo": {"name": "a-terminal-client", "version": "1"}}}),
    );
    s.response(json!(0));
    s.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
    call(&mut s, 1, "echo");
    let question = s.recv();
    assert_eq!(question["method"], "elicitation/create", "{question}");
    std::thread::sleep(Duration::from_millis(300));
    // A key on the terminal (Claude's user pressing Enter in its dialog) decides nothing.
    pty.type_keys(b"\r");
    std::thread::sleep(Duration::from_millis(300));
    let shown = String::from_utf8_lossy(&pty.transcript()).into_owned();
    assert!(!shown.contains("wants to run"), "{shown}");
    s.send_json(&json!({"jsonrpc": "2.0", "id": question["id"],
        "result": {"action": "accept", "content": {"decision": "allow once"}}}));
    let reply = s.response(json!(1));
    assert_eq!(text(&reply), "x", "{reply}");
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn a_dismissal_in_the_client_decides_at_once() {
    let Some(python) = crate::support::external("PETA_E2E_PYTHON") else {
        return;
    };
    for (action, said) in [("cancel", "dismissed"), ("decline", "dismissed")] {
        let dir = tempfile::tempdir().expect("dir");
        let config = config_file(dir.path(), "[defaults]\ntimeout = \"20s\"\n");
        let runtime = tempfile::tempdir().expect("runtime");
        let start = Instant::now();
        let out = Command::new("setsid")
            .env("XDG_RUNTIME_DIR", runtime.path())
            .env("XDG_STATE_HOME", dir.path())
            .arg(&python)
            .arg(fixture("mcp_client.py"))
            .args([
                "--scenario",
                "basic",
                "--tool",
                "echo",
                "--args",
                r#"{"text": "dismiss me"}"#,
                "--peta-answer",
                action,
                "--",
            ])
            .arg(peta())
            .args(["run", "--config"])
            .arg(&config)
            .args(["--", peta(), "demo-server"])
            .output()
            .expect("python client");
        let took = start.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).expect("report");
        let result = report["steps"]["call"].to_string();
        assert!(
            result.contains(said) && result.contains("peta approve"),
            "{action}: {result}"
        );
        assert!(
            took < Duration::from_secs(10),
            "{action}: the call waited {took:?} for other channels"
        );
    }
}

#[test]
fn a_question_nobody_can_see_says_so_once_on_stderr() {
    // As the Python SDK starts servers (a session of their own, no terminal), without
    // elicitation, with the console up but nobody watching it.
    let dir = tempfile::tempdir().expect("dir");
    let config = config_file(dir.path(), "[defaults]\ntimeout = \"2s\"\n");
    let runtime = tempfile::tempdir().expect("runtime");
    let mut command = peta_command();
    command
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .args(["run", "--server", "quiet", "--config"])
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
    call(&mut s, 1, "echo");
    let deadline = Instant::now() + Duration::from_millis(1500);
    while !s.stderr().contains("peta approve") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let said = s.stderr();
    assert!(
        said.contains("quiet") && said.contains("echo") && said.contains("peta approve"),
        "nothing on stderr says a question waits:\n{said}"
    );
    let reply = s.response(json!(1));
    assert!(text(&reply).contains("no answer within 2 s"), "{reply}");
    s.close_stdin();
    s.wait(Duration::from_secs(10));
    let said = s.stderr();
    assert_eq!(
        said.matches("waits for approval").count(),
        1,
        "said once:\n{said}"
    );
}

/// A command run as the unprivileged user `tester` (uid 1001) when the tests run as root, so
/// its `/tmp/peta-<uid>` is not the one every other root session on the machine shares.
pub(crate) fn as_tester(program: &str) -> (Command, u32) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !Path::new("/usr/bin/setpriv").exists() {
        // SAFETY: as above.
        return (Command::new(program), unsafe { libc::geteuid() });
    }
    let mut command = Command::new("/usr/bin/setpriv");
    command.args([
        "--reuid=1001",
        "--regid=1001",
        "--clear-groups",
        "--",
        program,
    ]);
    (command, 1001)
}

#[test]
fn peta_approve_finds_a_session_started_without_the_runtime_variables() {
    // As Codex and the Inspector start servers: without PETA_CONFIG and XDG_*. The session
    // keeps its socket in the user's /run/user/<uid> when there is one, else /tmp/peta-<uid>;
    // the person's terminal has XDG_RUNTIME_DIR set to somewhere else.
    let home = tempfile::tempdir().expect("home");
    let (mut command, uid) = as_tester(peta());
    let config = config_file(home.path(), "[defaults]\ntimeout = \"20s\"\n");
    let runtime = home.path().join("runtime");
    std::fs::create_dir(&runtime).expect("runtime");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        for entry in [home.path(), &runtime, &config] {
            std::os::unix::fs::chown(entry, Some(uid), Some(uid)).expect("chown");
        }
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .args(["run", "--server", "dropped-vars", "--config"])
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
    call(&mut s, 1, "echo");
    let approve = |args: &[&str]| {
        let (mut command, _) = as_tester(peta());
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("XDG_RUNTIME_DIR", &runtime)
            .arg("approve")
            .args(args)
            .output()
            .expect("approve")
    };
    let mut found = None;
    for _ in 0..100 {
        let out = approve(&["--list", "--json"]);
        let listing: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        found = listing["sessions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["label"] == "dropped-vars")
            .find_map(|s| s["pending"][0]["id"].as_str().map(str::to_owned));
        if found.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let id = found.unwrap_or_else(|| {
        panic!(
            "peta approve --list never found the waiting call; the session said:\n{}",
            s.stderr()
        )
    });
    let out = approve(&[&id, "--answer", "once"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text(&s.response(json!(1))), "x");
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}
