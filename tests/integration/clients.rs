//! peta inside a real Claude Code (`@anthropic-ai/claude-code`, installed by the test script),
//! with a loopback stand-in for the Messages API instead of a model
//! (`fixtures/messages_api.py`): `claude -p` drives a real tool call through peta and stops it
//! the way it stops every server; Claude's interactive screen, in tmux, asks peta's question
//! in its own dialog while peta keeps off the terminal.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{external, fixture, peta, peta_command, python, wait_for_file};

/// The stand-in model, a HOME for Claude, and the places peta writes to.
struct Claude {
    binary: String,
    api: Child,
    port: String,
    dir: tempfile::TempDir,
}

impl Drop for Claude {
    fn drop(&mut self) {
        let _ = self.api.kill();
        let _ = self.api.wait();
    }
}

impl Claude {
    /// `None` (skip) when the test script did not install Claude Code. The stand-in answers
    /// the first turn by calling `mcp__sig__echo` with `{"text": "hi"}`.
    fn start() -> Option<Claude> {
        let binary = external("PETA_E2E_CLAUDE")?;
        let dir = tempfile::tempdir().expect("dir");
        for sub in ["home", "project", "state", "config", "runtime", "logs"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("dir");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.path().join("runtime"),
                std::fs::Permissions::from_mode(0o700),
            )
            .expect("chmod");
        }
        let project = dir.path().join("project");
        // First start done, the project trusted, the key approved: straight to the prompt.
        std::fs::write(
            dir.path().join("home/.claude.json"),
            serde_json::json!({
                "hasCompletedOnboarding": true,
                "theme": "dark",
                "customApiKeyResponses": {"approved": ["sk-ant-peta-tests"], "rejected": []},
                "projects": {project.to_str().expect("utf-8"): {"hasTrustDialogAccepted": true, "allowedTools": []}},
            })
            .to_string(),
        )
        .expect("claude.json");
        let port_file = dir.path().join("port");
        let api = Command::new(python())
            .arg(fixture("messages_api.py"))
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(dir.path().join("api.log"))
            .args(["--tool", "mcp__sig__echo", "--input", r#"{"text": "hi"}"#])
            .stdin(Stdio::null())
            .spawn()
            .expect("the Messages API stand-in");
        let port = wait_for_file(&port_file);
        Some(Claude {
            binary,
            api,
            port,
            dir,
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes peta's configuration (`extra` TOML, then the audit path) and Claude's MCP config
    /// with one server, `sig`: peta in front of `signal_server.py`.
    fn configure(&self, extra: &str, server_flags: &[&str]) {
        let config = self.path("peta.toml");
        std::fs::write(
            &config,
            format!(
                "{extra}\n[audit]\npath = \"{}\"\n",
                self.path("state/audit.db").display()
            ),
        )
        .expect("peta.toml");
        let mut args: Vec<String> = vec![
            "run".into(),
            "--server".into(),
            "sig".into(),
            "--config".into(),
            config.display().to_string(),
            // The server's own log, in the one directory its box may write.
            "--sandbox-write".into(),
            self.path("logs").display().to_string(),
            "--".into(),
            python(),
            fixture("signal_server.py").display().to_string(),
            self.path("logs/server.log").display().to_string(),
        ];
        args.extend(server_flags.iter().map(|f| f.to_string()));
        std::fs::write(
            self.path("mcp.json"),
            serde_json::json!({"mcpServers": {"sig": {"command": peta(), "args": args}}})
                .to_string(),
        )
        .expect("mcp.json");
    }

    /// The environment Claude runs in (and passes on to the servers it starts).
    fn environment(&self) -> Vec<(String, String)> {
        let dir = self.dir.path();
        [
            ("HOME", dir.join("home").display().to_string()),
            ("XDG_STATE_HOME", dir.join("state").display().to_string()),
            ("XDG_CONFIG_HOME", dir.join("config").display().to_string()),
            ("XDG_RUNTIME_DIR", dir.join("runtime").display().to_string()),
            (
                "ANTHROPIC_BASE_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("ANTHROPIC_API_KEY", "sk-ant-peta-tests".into()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            ("DISABLE_TELEMETRY", "1".into()),
            ("DISABLE_AUTOUPDATER", "1".into()),
            // MCP tools would otherwise hide behind a ToolSearch tool the stand-in never calls.
            ("ENABLE_TOOL_SEARCH", "false".into()),
            ("PETA_LOG", "info".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// `claude -p PROMPT` with the `sig` server, in a session of its own (no terminal, as
    /// under an IDE or a CI job), to its end.
    fn print(&self, prompt: &str) -> std::process::Output {
        let mut command = Command::new(&self.binary);
        command
            .arg("-p")
            .arg(prompt)
            .arg("--mcp-config")
            .arg(self.path("mcp.json"))
            .args(["--strict-mcp-config", "--allowedTools", "mcp__sig__echo"])
            .current_dir(self.path("project"))
            .envs(self.environment())
            .env_remove("PETA_CONFIG")
            .stdin(Stdio::null());
        // SAFETY: setsid is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                libc::setsid();
                Ok(())
            });
        }
        let out = command.output().expect("claude -p");
        assert!(
            out.status.success(),
            "claude -p failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The `tool_result` blocks the model was sent: (text, is_error).
    fn tool_results(&self) -> Vec<(String, bool)> {
        let log = std::fs::read_to_string(self.path("api.log")).unwrap_or_default();
        let mut found = Vec::new();
        for line in log.lines() {
            let Ok(request) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            for message in request["body"]["messages"].as_array().into_iter().flatten() {
                for block in message["content"].as_array().into_iter().flatten() {
                    if block["type"] == "tool_result" {
                        let text = match &block["content"] {
                            Value::String(s) => s.clone(),
                            Value::Array(parts) => parts
                                .iter()
                                .filter_map(|p| p["text"].as_str())
                                .collect::<String>(),
                            other => other.to_string(),
                        };
                        let entry = (text, block["is_error"] == true);
                        if !found.contains(&entry) {
                            found.push(entry);
                        }
                    }
                }
            }
        }
        found
    }

    /// What the server wrote down, as (event, unix time).
    fn server_log(&self) -> Vec<(String, f64)> {
        std::fs::read_to_string(self.path("logs/server.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (event, time) = l.split_once(' ')?;
                Some((event.to_owned(), time.parse().ok()?))
            })
            .collect()
    }

    fn rows(&self) -> Vec<Value> {
        audit_rows(&self.path("state/audit.db"))
    }
}

/// Every event row of the audit database at `db`.
fn audit_rows(db: &Path) -> Vec<Value> {
    let out = peta_command()
        .args(["audit", "export", "--db"])
        .arg(db)
        .output()
        .expect("export");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|r: &Value| r["record"] == "event")
        .collect()
}

/// The highest row the anchor file beside `db` vouches for.
fn anchored(db: &Path) -> Option<i64> {
    let mut name = db.as_os_str().to_owned();
    name.push(".anchors");
    std::fs::read_to_string(PathBuf::from(name))
        .ok()?
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .max()
}

/// Waits until no process runs `peta run` for this test's config any more (Claude may exit
/// before the processes it signalled are gone).
fn wait_for_peta_to_end(config: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let needle = config.display().to_string();
    while Instant::now() < deadline {
        let running = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .any(|cmdline| {
                let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                text.contains(" run ") && text.contains(&needle)
            });
        if !running {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("peta for {needle} still runs 10 s after Claude exited");
}

#[test]
fn claude_p_calls_a_tool_through_peta_and_stops_it_as_it_stops_any_server() {
    let Some(claude) = Claude::start() else {
        return;
    };
    claude.configure(
        "[[rules]]\nid = \"echo-is-fine\"\nserver = \"sig\"\ntool = \"echo\"\naction = \"allow\"\n",
        &[],
    );
    let out = claude.print("call the echo tool");
    wait_for_peta_to_end(&claude.path("peta.toml"));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("The tool's result: echo: hi"), "{said}");
    assert_eq!(
        claude.tool_results(),
        [("echo: hi".to_owned(), false)],
        "the model got the server's answer"
    );

    let rows = claude.rows();
    let call = rows
        .iter()
        .find(|r| r["method"] == "tools/call" && r["direction"] == "c2s")
        .expect("the call's row");
    assert_eq!(call["decision"], "allow", "{call}");
    assert_eq!(call["rule"], "echo-is-fine", "{call}");
    let end = rows
        .iter()
        .find(|r| r["kind"] == "session_end")
        .unwrap_or_else(|| panic!("no session_end row: Claude killed peta first\n{rows:#?}"));
    let end_seq = end["seq"].as_i64().expect("seq");
    let anchor = anchored(&claude.path("state/audit.db"));
    assert!(
        anchor.is_some_and(|a| a >= end_seq),
        "the anchor ({anchor:?}) does not cover the session's end (row {end_seq})"
    );

    // Directly, Claude's SIGINT reaches the server, which exits; through peta too.
    let events: Vec<String> = claude.server_log().into_iter().map(|(e, _)| e).collect();
    assert!(
        events.iter().any(|e| e == "SIGINT"),
        "the server never got SIGINT: {events:?}"
    );
    assert!(
        !events.iter().any(|e| e == "SIGTERM"),
        "the server was terminated, not interrupted: {events:?}"
    );
    assert_eq!(
        events.last().map(String::as_str),
        Some("exit"),
        "{events:?}"
    );
}

#[test]
fn claude_p_dismissing_peta_s_question_denies_at_once_and_the_model_reads_why() {
    let Some(claude) = Claude::start() else {
        return;
    };
    // No rule: the call is asked about. Headless Claude declares elicitation and answers
    // every question with "cancel" within milliseconds.
    claude.configure("[defaults]\ntimeout = \"20s\"\n", &[]);
    let start = Instant::now();
    claude.print("call the echo tool");
    let took = start.elapsed();
    wait_for_peta_to_end(&claude.path("peta.toml"));
    let results = claude.tool_results();
    assert_eq!(results.len(), 1, "{results:?}");
    let (text, is_error) = &results[0];
    assert!(is_error, "{text}");
    assert!(
        text.contains("dismissed") && text.contains("peta approve"),
        "the model is told the question was dismissed and how to get it approved: {text}"
    );
    assert!(
        took < Duration::from_secs(15),
        "the dismissal did not decide at once: claude -p took {took:?}"
    );
    let rows = claude.rows();
    let decided = rows
        .iter()
        .find(|r| r["method"] == "tools/call" && r["decision"] == "deny")
        .expect("the denial's row");
    assert_eq!(decided["channel"], "elicitation", "{decided}");
    assert!(
        !claude.server_log().iter().any(|(event, _)| event == "call"),
        "the server never saw the call"
    );
}

/// A tmux server of this test's own.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(script: &Path) -> Tmux {
        let socket = format!("peta-test-{}", uuid_like());
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "150",
                "-y",
                "45",
            ])
            .arg(format!("bash {}", script.display()))
            .status()
            .expect("tmux");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-J", "-S", "-"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            let status = Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", key])
                .status()
                .expect("send-keys");
            assert!(status.success());
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn text(&self, text: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-l", text])
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    #[track_caller]
    fn wait_for(&self, text: &str, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: the screen never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    )
}

#[test]
fn claude_s_own_dialog_decides_and_peta_reads_no_key() {
    let Some(claude) = Claude::start() else {
        return;
    };
    claude.configure("", &[]);
    let mut script = String::from("set -e\n");
    for (k, v) in claude.environment() {
        script.push_str(&format!("export {k}='{v}'\n"));
    }
    script.push_str("unset PETA_CONFIG\n");
    script.push_str(&format!(
        "cd '{}'\nexec '{}' --mcp-config '{}' --strict-mcp-config --allowedTools mcp__sig__echo\n",
        claude.path("project").display(),
        claude.binary,
        claude.path("mcp.json").display()
    ));
    let file = claude.path("claude.sh");
    std::fs::write(&file, script).expect("script");
    let tmux = Tmux::start(&file);
    // Interactive Claude sends the first prompt without waiting for its servers: wait until
    // peta's server has listed its tools.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !claude
        .rows()
        .iter()
        .any(|r| r["method"] == "tools/list" && r["kind"] == "response")
    {
        assert!(
            Instant::now() < deadline,
            "the server was never listed:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.wait_for("❯", "Claude's prompt");
    std::thread::sleep(Duration::from_millis(500));
    tmux.text("call the echo tool");
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys(&["Enter"]);
    let dialog = tmux.wait_for("allow this call?", "Claude's dialog with peta's question");
    assert!(
        !dialog.contains("answer within") && !dialog.contains("[o] allow once"),
        "peta drew its own prompt on Claude's screen:\n{dialog}"
    );
    // In Claude's form: open the choices, move to "allow once", select it, go down to
    // Accept, and take it.
    tmux.keys(&["Right"]);
    tmux.wait_for("◯ allow once", "the choices");
    tmux.keys(&["Down", "Space"]);
    let chosen = tmux.wait_for("▸ allow once", "the chosen answer");
    tmux.keys(&["Down", "Enter"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let decided = loop {
        let rows = claude.rows();
        if let Some(row) = rows
            .iter()
            .find(|r| {
                r["method"] == "tools/call" && (r["decision"] == "allow" || r["decision"] == "deny")
            })
            .cloned()
        {
            break row;
        }
        assert!(
            Instant::now() < deadline,
            "the question was never decided; after choosing:\n{chosen}\nnow:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        (decided["decision"].as_str(), decided["channel"].as_str()),
        (Some("allow"), Some("elicitation")),
        "decided by the answer in Claude's dialog: {decided}\n{}",
        tmux.screen()
    );
    tmux.wait_for("The tool's result: echo: hi", "the model's last turn");
    assert!(
        claude.server_log().iter().any(|(event, _)| event == "call"),
        "the server ran the call"
    );
}

#[test]
fn the_inspector_starts_peta_without_its_variables_and_peta_approve_finds_the_call() {
    let Some(inspector) = external("PETA_E2E_INSPECTOR") else {
        return;
    };
    // The Inspector CLI swallows a `--` after the server's command and gives the server only
    // a handful of variables: no XDG_RUNTIME_DIR, XDG_STATE_HOME, XDG_CONFIG_HOME or
    // PETA_CONFIG. Run as an unprivileged user, so the session's socket is not in the
    // /tmp/peta-<uid> every root session on the machine shares.
    let home = tempfile::tempdir().expect("home");
    let (mut command, uid) = crate::channels::as_tester(&inspector);
    let runtime = home.path().join("runtime");
    let config = home.path().join("peta.toml");
    std::fs::create_dir(&runtime).expect("runtime");
    std::fs::write(&config, "[defaults]\ntimeout = \"30s\"\n").expect("config");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        for entry in [home.path(), &runtime, &config] {
            std::os::unix::fs::chown(entry, Some(uid), Some(uid)).expect("chown");
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let inspected = command
        .env_clear()
        .env("PATH", &path)
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", &runtime)
        .arg("--cli")
        .arg(peta())
        .args(["run", "--server", "inspected", "--config"])
        .arg(&config)
        .args([
            "--",
            peta(),
            "demo-server",
            "--method",
            "tools/call",
            "--tool-name",
            "echo",
            "--tool-arg",
            "text=through the inspector",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the Inspector");
    let approve = |args: &[&str]| {
        let (mut command, _) = crate::channels::as_tester(peta());
        command
            .env_clear()
            .env("PATH", &path)
            .env("HOME", home.path())
            .env("XDG_RUNTIME_DIR", &runtime)
            .arg("approve")
            .args(args)
            .output()
            .expect("peta approve")
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let id = loop {
        let out = approve(&["--list", "--json"]);
        let listing: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if let Some(id) = listing["sessions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["label"] == "inspected")
            .find_map(|s| s["pending"][0]["id"].as_str().map(str::to_owned))
        {
            break id;
        }
        assert!(
            Instant::now() < deadline,
            "peta approve never listed the Inspector's call: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = approve(&[&id, "--answer", "once"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = inspected
        .wait_with_output()
        .expect("the Inspector's result");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("through the inspector"),
        "{said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
