//! `peta approve` through the real binary, against a stand-in session: a socket in a
//! temporary runtime directory that speaks the console protocol and records the answers.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::cli::snapshot;
use crate::support::peta_command;

/// A session's console, played by a thread: lists one waiting request and records answers.
struct FakeSession {
    answers: Arc<Mutex<Vec<(String, String)>>>,
}

impl FakeSession {
    fn start(runtime: &Path, name: &str, label: &str, pending_id: &str) -> FakeSession {
        let dir = runtime.join("peta");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let listener = UnixListener::bind(dir.join(format!("{name}.sock"))).expect("bind");
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_millis() as u64;
        let listing = json!({
            "session": name,
            "label": label,
            "pid": 4242,
            "pending": [{
                "id": pending_id,
                "server": label,
                "method": "tools/call",
                "tool": "push_files",
                "rule": "default",
                "reason": "no rule matched; the default is ask",
                "message": null,
                // A raw escape, as a careless session might send: it must show as text.
                "arguments": "{\n  \"branch\": \"main\u{1b}[2J\"\n}",
                "annotations": null,
                "pin": "pinned",
                "bytes_sha256": "ab".repeat(32),
                "timeout_ms": 45_000,
                "deadline_ms": now_ms + 45_000,
            }],
            "recent": [],
        })
        .to_string();
        let answers = Arc::new(Mutex::new(Vec::new()));
        let recorded = answers.clone();
        let pending_id = pending_id.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let reader = BufReader::new(stream.try_clone().expect("clone"));
                for line in reader.lines() {
                    let Ok(line) = line else { break };
                    let op: Value = serde_json::from_str(&line).expect("the client sends JSON");
                    let reply = match op["op"].as_str() {
                        Some("list") | Some("watch") => listing.clone(),
                        Some("answer") => {
                            let id = op["id"].as_str().expect("id").to_owned();
                            let answer = op["answer"].as_str().expect("answer").to_owned();
                            let known = id == pending_id;
                            recorded.lock().expect("lock").push((id.clone(), answer));
                            if known {
                                json!({"ok": true, "applied": "now"}).to_string()
                            } else {
                                json!({"ok": false, "error": format!("no request {id} in this session")})
                                    .to_string()
                            }
                        }
                        _ => json!({"ok": false, "error": "what?"}).to_string(),
                    };
                    if writeln!(stream, "{reply}").is_err() {
                        break;
                    }
                }
            }
        });
        FakeSession { answers }
    }

    fn answers(&self) -> Vec<(String, String)> {
        self.answers.lock().expect("lock").clone()
    }
}

fn approve(runtime: &Path, args: &[&str]) -> Output {
    peta_command()
        .arg("approve")
        .args(args)
        .env("XDG_RUNTIME_DIR", runtime)
        .output()
        .expect("run peta approve")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A socket a killed session left behind: bound, nobody listening.
fn stale_socket(runtime: &Path) -> PathBuf {
    let path = runtime.join("peta/dead.sock");
    drop(UnixListener::bind(&path).expect("bind"));
    path
}

#[test]
fn approve_lists_and_answers_through_the_sessions_socket() {
    let runtime = tempfile::tempdir().expect("runtime");
    let session = FakeSession::start(runtime.path(), "s1", "github", "peta-1");
    let stale = stale_socket(runtime.path());

    let out = approve(runtime.path(), &["--list"]);
    let listed = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for expected in [
        "1 request waiting, 0 answerable for a retry, in 1 running session",
        "[peta-1] github (pid 4242): ",
        "peta: github wants to run tools/call push_files",
        "\"branch\": \"main\\u{1b}[2J\"",
        "peta approve ID --answer deny|once|session|for:10m|always",
    ] {
        assert!(listed.contains(expected), "{expected:?} in:\n{listed}");
    }
    assert!(
        !listed.contains('\u{1b}'),
        "a raw escape reached the terminal"
    );
    assert!(!stale.exists(), "the stale socket was cleaned up");

    let out = approve(runtime.path(), &["--list", "--json"]);
    let document: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(document["sessions"][0]["label"], "github");
    assert_eq!(document["sessions"][0]["pending"][0]["id"], "peta-1");
    assert!(document["sessions"][0]["pending"][0]["deadline_ms"].is_u64());

    let out = approve(runtime.path(), &["peta-1", "--answer", "for:5m"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "peta-1: allow for 5 min (github, pid 4242)\n"
    );
    assert_eq!(
        session.answers(),
        [("peta-1".to_owned(), "for:5m".to_owned())]
    );

    let out = approve(runtime.path(), &["peta-2", "--answer", "once"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    snapshot("error-approve-unknown.txt", &text(&out.stderr));
}

#[test]
fn approve_without_sessions_or_in_a_loose_directory() {
    let runtime = tempfile::tempdir().expect("runtime");
    let out = approve(runtime.path(), &["--list"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "no peta sessions are running\n");
    let out = approve(runtime.path(), &["--list", "--json"]);
    assert_eq!(text(&out.stdout), "{\"sessions\":[]}\n");
    let out = approve(runtime.path(), &["peta-1", "--answer", "deny"]);
    assert_eq!(out.status.code(), Some(1));
    snapshot("error-approve-no-sessions.txt", &text(&out.stderr));

    let dir = runtime.path().join("peta");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = approve(runtime.path(), &["--list"]);
    assert_eq!(out.status.code(), Some(125));
    let stderr = text(&out.stderr).replace(&runtime.path().display().to_string(), "[TMP]");
    snapshot("error-approve-loose-dir.txt", &stderr);
}

#[test]
fn approve_asks_on_the_terminal_with_deny_first() {
    let runtime = tempfile::tempdir().expect("runtime");
    let session = FakeSession::start(runtime.path(), "s1", "github", "peta-1");
    // "j" moves from the default (Deny) to "Allow once"; Enter picks it.
    let out = Command::new(crate::support::python())
        .arg(crate::support::fixture("on_tty.py"))
        .args(["--expect", "Answer", "--answer", "j"])
        .arg("--")
        .arg(crate::support::peta())
        .arg("approve")
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env_remove("PETA_CONFIG")
        .output()
        .expect("on_tty.py");
    let transcript = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{transcript}");
    assert_eq!(
        session.answers(),
        [("peta-1".to_owned(), "once".to_owned())],
        "{transcript}"
    );
    for expected in [
        "peta: github wants to run tools/call push_files",
        "Deny",
        "Allow for N minutes",
        "peta-1: allow once",
    ] {
        assert!(
            transcript.contains(expected),
            "{expected:?} in:\n{transcript}"
        );
    }
    assert!(!transcript.contains("\u{1b}[2J"), "the escape was drawn");
}

#[test]
fn a_session_answering_too_slowly_does_not_hang_approve() {
    // Bound and listening (the backlog accepts the connection) but never replying.
    let runtime = tempfile::tempdir().expect("runtime");
    let dir = runtime.path().join("peta");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let _silent = UnixListener::bind(dir.join("silent.sock")).expect("bind");
    let started = std::time::Instant::now();
    let out = approve(runtime.path(), &["--list"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "no peta sessions are running\n");
    assert!(text(&out.stderr).contains("skipping the session"));
    assert!(started.elapsed() < Duration::from_secs(30));
}
