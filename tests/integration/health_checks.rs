//! The real clients' own health checks of the servers `peta install` wrapped: `claude mcp
//! list` and `gemini mcp list` start each server and say whether it connected; Codex's
//! `codex mcp list` only reads the file, so its app server (what a Codex session runs on)
//! starts the servers and makes a tool call. No model, no login, no network.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{SecretService, Session, external, peta};

/// A credential in one entry; it moves into the keyring, so the server connects only when
/// peta reaches the keyring from inside the client.
const TOKEN: &str = "tok_h34lth_ch3ck_c4n4ry_0123456789";

/// The three servers, as a person would have them in a client's file.
fn servers(everything: &str, memory: &str, time: &str, dir: &Path) -> Value {
    json!({
        "everything": {
            "command": "node",
            "args": [everything, "stdio"],
            "env": {"API_TOKEN": TOKEN, "LOG_LEVEL": "debug"}
        },
        "memory": {
            "command": "node",
            "args": [memory],
            "env": {"MEMORY_FILE_PATH": dir.join("memory.jsonl")}
        },
        "time": {
            "command": time,
            "args": ["--local-timezone", "UTC"]
        }
    })
}

/// The same servers in Codex's syntax.
fn codex_toml(servers: &Value) -> String {
    let mut text = String::from("# Codex settings\nmodel = \"gpt-5-codex\"\n");
    for (name, entry) in servers.as_object().expect("servers") {
        text.push_str(&format!("\n[mcp_servers.{name}]\n"));
        text.push_str(&format!("command = {}\n", entry["command"]));
        text.push_str(&format!("args = {}\n", entry["args"]));
        if let Some(env) = entry.get("env").and_then(Value::as_object) {
            text.push_str(&format!("\n[mcp_servers.{name}.env]\n"));
            for (k, v) in env {
                text.push_str(&format!("{k} = {v}\n"));
            }
        }
    }
    text
}

/// A person's desk: a HOME joined to a real keyring, peta's state, a runtime directory,
/// the rules file PETA_CONFIG names, and a project to start the clients in.
struct Desk {
    keyring: SecretService,
    state: tempfile::TempDir,
    runtime: tempfile::TempDir,
    project: tempfile::TempDir,
    rules: PathBuf,
}

impl Desk {
    fn new() -> Option<Desk> {
        let keyring = SecretService::start()?;
        let rules = keyring.home().join("rules.toml");
        // The one call the test makes is allowed by name; any other would be asked about.
        std::fs::write(
            &rules,
            "[[rules]]\nid = \"echo-through-codex\"\nserver = \"everything\"\ntool = \"echo\"\naction = \"allow\"\n",
        )
        .expect("rules");
        let runtime = tempfile::tempdir().expect("runtime");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(runtime.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        Some(Desk {
            keyring,
            state: tempfile::tempdir().expect("state"),
            runtime,
            project: tempfile::tempdir().expect("project"),
            rules,
        })
    }

    fn home(&self) -> &Path {
        self.keyring.home()
    }

    /// A command with the person's environment: their shell's, as the clients get it.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        self.keyring.apply(&mut command);
        command
            .env("PETA_CONFIG", &self.rules)
            .env("XDG_STATE_HOME", self.state.path())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .env_remove("PETA_LOG")
            .current_dir(self.project.path())
            .stdin(Stdio::null());
        command
    }

    fn install(&self, client: &str) {
        let out = self
            .command(peta())
            .args(["install", "--client", client, "--yes"])
            .output()
            .expect("peta install");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{client}: {}",
            text(&out.stderr)
        );
    }

    /// How many sessions of `server` the audit log holds.
    fn sessions(&self, server: &str) -> usize {
        let out = self
            .command(peta())
            .args(["audit", "export", "--server", server])
            .output()
            .expect("peta audit export");
        text(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|row| row["kind"] == "session_start")
            .count()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a client's own command with a bound on its time.
fn run(mut command: Command, limit: Duration) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the client");
    let pid = child.id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watch = done.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if watch.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: kill(2) on the client this test started.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    });
    let out = child.wait_with_output().expect("wait for the client");
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    out
}

/// Every server is in the file, wrapped, and its credential is not.
fn assert_wrapped(file: &Path) {
    let written = std::fs::read_to_string(file).expect("read");
    assert!(
        !written.contains(TOKEN),
        "the token left {}",
        file.display()
    );
    assert_eq!(written.matches(peta()).count(), 3, "{written}");
}

#[test]
fn claude_mcp_list_connects_to_every_server_through_peta() {
    let (Some(claude), Some(everything), Some(memory), Some(time)) = (
        external("PETA_E2E_CLAUDE"),
        external("PETA_E2E_EVERYTHING"),
        external("PETA_E2E_MEMORY"),
        external("PETA_E2E_TIME"),
    ) else {
        return;
    };
    let Some(desk) = Desk::new() else { return };
    let file = desk.home().join(".claude.json");
    let config = json!({"mcpServers": servers(&everything, &memory, &time, desk.project.path())});
    std::fs::write(&file, serde_json::to_string_pretty(&config).expect("json")).expect("write");
    desk.install("claude-code");
    assert_wrapped(&file);

    let mut command = desk.command(&claude);
    command
        .args(["mcp", "list"])
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_ERROR_REPORTING", "1");
    let out = run(command, Duration::from_secs(120));
    let listing = text(&out.stdout);
    for name in ["everything", "memory", "time"] {
        let line = listing
            .lines()
            .find(|l| l.starts_with(&format!("{name}: {}", peta())))
            .unwrap_or_else(|| panic!("{name} is not listed as run by peta:\n{listing}"));
        assert!(
            line.ends_with("✔ Connected"),
            "{line}\n{}",
            text(&out.stderr)
        );
        assert!(
            desk.sessions(name) >= 1,
            "{name}: no session in the audit log"
        );
    }
}

#[test]
fn gemini_mcp_list_connects_to_every_server_through_peta() {
    let (Some(gemini), Some(everything), Some(memory), Some(time)) = (
        external("PETA_E2E_GEMINI"),
        external("PETA_E2E_EVERYTHING"),
        external("PETA_E2E_MEMORY"),
        external("PETA_E2E_TIME"),
    ) else {
        return;
    };
    let Some(desk) = Desk::new() else { return };
    let file = desk.home().join(".gemini/settings.json");
    std::fs::create_dir_all(file.parent().expect("dir")).expect("mkdir");
    let config = json!({
        "ui": {"theme": "GitHub"},
        "mcpServers": servers(&everything, &memory, &time, desk.project.path())
    });
    std::fs::write(&file, serde_json::to_string_pretty(&config).expect("json")).expect("write");
    desk.install("gemini");
    assert_wrapped(&file);

    let mut command = desk.command(&gemini);
    // Gemini CLI runs no server of a folder the person has not trusted.
    command
        .args(["mcp", "list"])
        .env("GEMINI_CLI_TRUST_WORKSPACE", "true");
    let out = run(command, Duration::from_secs(120));
    // Gemini CLI writes the listing to stderr.
    let listing = text(&out.stderr);
    for name in ["everything", "memory", "time"] {
        let line = listing
            .lines()
            .find(|l| l.contains(&format!("{name}: {}", peta())))
            .unwrap_or_else(|| panic!("{name} is not listed as run by peta:\n{listing}"));
        assert!(
            line.starts_with("✓") && line.ends_with("- Connected"),
            "{line}\n{listing}"
        );
        assert!(
            desk.sessions(name) >= 1,
            "{name}: no session in the audit log"
        );
    }
}

#[test]
fn codex_starts_every_server_through_peta_and_calls_a_tool() {
    let (Some(codex), Some(everything), Some(memory), Some(time)) = (
        external("PETA_E2E_CODEX"),
        external("PETA_E2E_EVERYTHING"),
        external("PETA_E2E_MEMORY"),
        external("PETA_E2E_TIME"),
    ) else {
        return;
    };
    let Some(desk) = Desk::new() else { return };
    let file = desk.home().join(".codex/config.toml");
    std::fs::create_dir_all(file.parent().expect("dir")).expect("mkdir");
    let config = codex_toml(&servers(&everything, &memory, &time, desk.project.path()));
    std::fs::write(&file, config).expect("write");
    desk.install("codex");
    assert_wrapped(&file);

    // `codex mcp list` reads the file: every server, enabled, started by peta.
    let mut command = desk.command(&codex);
    command.args(["mcp", "list", "--json"]);
    let out = run(command, Duration::from_secs(60));
    let listed: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    let listed = listed.as_array().expect("a list");
    assert_eq!(listed.len(), 3, "{listed:?}");
    for server in listed {
        assert_eq!(server["enabled"], true, "{server}");
        assert_eq!(server["transport"]["command"], peta(), "{server}");
    }

    // Its app server starts them as a Codex session does, with Codex's short environment.
    let mut command = desk.command(&codex);
    command.arg("app-server");
    let mut app = Session::start_with(&mut command);
    app.send_json(&json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "peta-tests", "version": "1"}}}));
    app.response(json!(1));
    app.send_json(&json!({"method": "initialized"}));
    app.send_json(&json!({"id": 2, "method": "thread/start", "params": {"ephemeral": true}}));
    let mut thread = None;
    let mut status = std::collections::BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while thread.is_none() || status.values().filter(|s| *s != "starting").count() < 3 {
        assert!(
            Instant::now() < deadline,
            "servers: {status:?}\n{}",
            app.stderr()
        );
        let msg = app.recv();
        if msg["id"] == 2 {
            thread = Some(
                msg["result"]["thread"]["id"]
                    .as_str()
                    .expect("thread id")
                    .to_owned(),
            );
        } else if msg["method"] == "mcpServer/startupStatus/updated" {
            let p = &msg["params"];
            status.insert(
                p["name"].as_str().expect("name").to_owned(),
                p["status"].as_str().expect("status").to_owned(),
            );
            assert_ne!(p["status"], "failed", "{p}\n{}", app.stderr());
        }
    }
    for name in ["everything", "memory", "time"] {
        assert_eq!(status[name], "ready", "{status:?}");
        assert!(
            desk.sessions(name) >= 1,
            "{name}: no session in the audit log"
        );
    }
    // A real call: allowed by the rule in the file PETA_CONFIG names, which Codex does not
    // pass on, so it reaches peta only through the entry's env.
    app.send_json(
        &json!({"id": 3, "method": "mcpServer/tool/call", "params": {
            "threadId": thread, "server": "everything", "tool": "echo",
            "arguments": {"message": "through peta"}
        }}),
    );
    let reply = app.response(json!(3));
    assert_eq!(
        reply["result"]["content"][0]["text"], "Echo: through peta",
        "{reply}"
    );
    app.close_stdin();
    app.wait(Duration::from_secs(30));
}
