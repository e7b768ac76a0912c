//! `peta install` / `peta uninstall` on each client's file, with a real Secret Service, and
//! a wrapped Claude Desktop entry launched exactly as the client would launch it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::cli::snapshot;
use crate::support::{ALLOW_ALL, SecretService, Session, external, fixture, peta};

/// The credential values in the fixtures; none may stay in a wrapped file.
const CREDENTIALS: &[&str] = &[
    "ghp_R8x2Kq7WmZ4tN9vB3cL6yH1pD5sF0aJeUoIi",
    "Tr0ub4dor&3",
    "xoxb-2841937465",
    "sntrys_eyJpYXQi",
    "sk-proj-Xo9aB3kLm2",
    "BSAk3mXq9Lw2Zr8",
    "sk_live_51Hq2RtKx8",
    "github_pat_11AAAAAAA0",
    "glpat-Zx8Cv7Bn6Mq5",
    "ntn_4810293847561",
];

/// A person's machine: a HOME joined to a real keyring, a project directory, peta's state.
struct Machine {
    keyring: SecretService,
    project: tempfile::TempDir,
    state: tempfile::TempDir,
}

impl Machine {
    fn new() -> Option<Machine> {
        Some(Machine {
            keyring: SecretService::start()?,
            project: tempfile::tempdir().expect("project"),
            state: tempfile::tempdir().expect("state"),
        })
    }

    fn home(&self) -> &Path {
        self.keyring.home()
    }

    fn peta(&self, args: &[&str]) -> Output {
        let mut command = Command::new(peta());
        self.keyring.apply(&mut command);
        command
            .args(args)
            .env("XDG_STATE_HOME", self.state.path())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env_remove("PETA_CONFIG")
            .env_remove("APPDATA")
            .current_dir(self.project.path())
            .stdin(Stdio::null())
            .output()
            .expect("peta")
    }

    /// Puts a fixture where the client keeps it, with `edit` applied.
    fn place(&self, fixture_name: &str, at: &Path, edit: impl Fn(String) -> String) -> String {
        let text = edit(
            std::fs::read_to_string(fixture(&format!("clients/{fixture_name}"))).expect("fixture"),
        );
        std::fs::create_dir_all(at.parent().expect("dir")).expect("mkdir");
        std::fs::write(at, &text).expect("write");
        text
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Where each client's fixture goes, and the arguments that pick it.
fn cases(home: &Path, project: &Path) -> Vec<(&'static str, Vec<&'static str>, PathBuf)> {
    vec![
        (
            "claude_desktop_config.json",
            vec!["--client", "claude-desktop"],
            home.join(".config/Claude/claude_desktop_config.json"),
        ),
        (
            "claude.json",
            vec!["--client", "claude-code"],
            home.join(".claude.json"),
        ),
        (
            "claude.json",
            vec!["--client", "claude-code", "--scope", "local"],
            home.join(".claude.json"),
        ),
        (
            "mcp.json",
            vec!["--client", "claude-code", "--scope", "project"],
            project.join(".mcp.json"),
        ),
        (
            "cursor_mcp.json",
            vec!["--client", "cursor"],
            home.join(".cursor/mcp.json"),
        ),
        (
            "vscode_mcp.json",
            vec!["--client", "vscode", "--scope", "project"],
            project.join(".vscode/mcp.json"),
        ),
        (
            "windsurf_mcp_config.json",
            vec!["--client", "windsurf"],
            home.join(".codeium/windsurf/mcp_config.json"),
        ),
        (
            "codex_config.toml",
            vec!["--client", "codex"],
            home.join(".codex/config.toml"),
        ),
        (
            "codex_config.toml",
            vec!["--client", "codex", "--scope", "project"],
            project.join(".codex/config.toml"),
        ),
        (
            "gemini_settings.json",
            vec!["--client", "gemini"],
            home.join(".gemini/settings.json"),
        ),
        (
            "gemini_settings.json",
            vec!["--client", "gemini", "--scope", "project"],
            project.join(".gemini/settings.json"),
        ),
    ]
}

#[test]
fn each_clients_file_is_wrapped_and_put_back_byte_for_byte() {
    let count = cases(Path::new("/"), Path::new("/")).len();
    for index in 0..count {
        // A fresh machine per client: the fixtures reuse server names with other tokens.
        let Some(m) = Machine::new() else { return };
        let (name, selector, at) = cases(m.home(), m.project.path()).remove(index);
        let project = m.project.path().display().to_string();
        let original = m.place(name, &at, |t| t.replace("/home/ana/src/shop", &project));
        let args = |extra: &[&'static str]| {
            let mut a = vec!["install"];
            a.extend(&selector);
            a.extend(extra);
            a
        };

        let dry = m.peta(&args(&["--dry-run"]));
        assert_eq!(dry.status.code(), Some(0), "{name}: {}", stderr(&dry));
        let diff = String::from_utf8_lossy(&dry.stdout);
        assert!(
            diff.contains("[REDACTED:"),
            "{name}: the diff marks the moved values\n{diff}"
        );
        for c in CREDENTIALS {
            assert!(!diff.contains(c), "{name}: the diff shows {c}");
        }
        assert_eq!(
            std::fs::read_to_string(&at).expect("read"),
            original,
            "{name}: dry run"
        );

        let out = m.peta(&args(&["--yes"]));
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let wrapped = std::fs::read_to_string(&at).expect("read");
        assert_ne!(wrapped, original, "{name}");
        assert!(
            wrapped.contains(peta()),
            "{name}: runs peta by its absolute path"
        );
        // Claude Code's file holds both scopes; the other scope's entries are not touched.
        let other_scope = match selector.get(3) {
            Some(&"local") => "sntrys_eyJpYXQi",
            _ => "sk-proj-Xo9aB3kLm2",
        };
        for c in CREDENTIALS {
            if name == "claude.json" && *c == other_scope {
                assert!(wrapped.contains(c), "{name}: the other scope is left alone");
                continue;
            }
            assert!(!wrapped.contains(c), "{name}: {c} is still in the file");
        }
        assert!(stderr(&out).contains("backup of the old file"), "{name}");

        let again = m.peta(&args(&["--yes"]));
        assert_eq!(again.status.code(), Some(0), "{name}: {}", stderr(&again));
        assert!(
            stderr(&again).contains("nothing to change"),
            "{name}: {}",
            stderr(&again)
        );
        assert!(again.stdout.is_empty(), "{name}: no diff the second time");
        assert_eq!(
            std::fs::read_to_string(&at).expect("read"),
            wrapped,
            "{name}: twice is once"
        );

        let mut undo = vec!["uninstall", "--restore-plaintext", "--yes"];
        undo.extend(&selector[..2]);
        let out = m.peta(&undo);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert_eq!(
            std::fs::read_to_string(&at).expect("read"),
            original,
            "{name}: byte-identical after uninstall"
        );
        let record: serde_json::Value = serde_json::from_slice(
            &std::fs::read(m.state.path().join("peta/installs.json")).expect("record"),
        )
        .expect("json");
        assert_eq!(record["files"], json!([]), "{name}: nothing left to undo");

        use std::os::unix::fs::PermissionsExt;
        let backups: Vec<_> = std::fs::read_dir(m.state.path().join("peta/backups"))
            .expect("backups")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(backups.len(), 2, "{name}: one per write");
        for b in &backups {
            let mode = std::fs::metadata(b).expect("stat").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name}: backups hold plaintext; private");
        }
    }
}

#[test]
fn uninstall_leaves_hand_edited_entries_and_keyring_credentials_alone() {
    let Some(m) = Machine::new() else { return };
    let at = m.home().join(".cursor/mcp.json");
    let original = m.place("cursor_mcp.json", &at, |t| t);
    let out = m.peta(&["install", "--client", "cursor", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let wrapped = std::fs::read_to_string(&at).expect("read");

    // Without --restore-plaintext the entries whose credentials moved stay wrapped.
    let out = m.peta(&["uninstall", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("restore  memory"), "{err}");
    assert!(
        err.contains("keep     stripe  STRIPE_SECRET_KEY in the keyring; --restore-plaintext writes them back"),
        "{err}"
    );
    let now = std::fs::read_to_string(&at).expect("read");
    assert!(
        !now.contains("sk_live_"),
        "no plaintext without asking for it"
    );
    assert!(
        now.contains("\"--server\", \"stripe\""),
        "stripe still wrapped"
    );
    assert!(now.contains("\"MEMORY_FILE_PATH\""), "memory restored");

    // A person changes the stripe entry by hand: uninstall explains and leaves it.
    let edited = now.replacen("\"--tools=all\"", "\"--tools=read\"", 1);
    std::fs::write(&at, &edited).expect("edit");
    let out = m.peta(&["uninstall", "--restore-plaintext", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("leave    stripe  changed since peta wrote it"),
        "{err}"
    );
    assert!(err.contains("restore  brave-search"), "{err}");
    let after = std::fs::read_to_string(&at).expect("read");
    assert!(after.contains("\"--tools=read\""), "the hand edit survives");
    assert!(
        after.contains("BSAk3mXq9Lw2Zr8Tn5Vy7Pb4Hc6Jd1Fg0"),
        "brave's key written back"
    );
    assert!(!after.contains("sk_live_"), "stripe's entry untouched");
    assert_ne!(after, original);

    // Undoing the hand edit makes the entry peta's again, and it comes back exactly.
    std::fs::write(
        &at,
        after.replacen("\"--tools=read\"", "\"--tools=all\"", 1),
    )
    .expect("edit");
    let out = m.peta(&["uninstall", "--restore-plaintext", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&at).expect("read"), original);
    assert_ne!(wrapped, original);
}

#[test]
fn a_wrapped_claude_desktop_entry_runs_as_the_client_launches_it() {
    let Some(everything) = external("PETA_E2E_EVERYTHING") else {
        return;
    };
    let Some(m) = Machine::new() else { return };
    let token = format!("tok_{}", "c4n4ry".repeat(6));
    let at = m.home().join(".config/Claude/claude_desktop_config.json");
    let config = json!({
        "mcpServers": {
            "everything": {
                "command": "node",
                "args": [everything, "stdio"],
                "env": {"API_TOKEN": token, "LOG_LEVEL": "debug"}
            }
        }
    });
    std::fs::create_dir_all(at.parent().expect("dir")).expect("mkdir");
    std::fs::write(&at, serde_json::to_string_pretty(&config).expect("json")).expect("write");
    // The person's peta config, which approves the calls this test makes.
    std::fs::create_dir_all(m.home().join(".config/peta")).expect("mkdir");
    std::fs::write(m.home().join(".config/peta/peta.toml"), ALLOW_ALL).expect("config");

    let out = m.peta(&["install", "--client", "claude-desktop", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&at).expect("read");
    assert!(!text.contains(&token), "the token left the file");

    // Launch the entry as Claude Desktop does: its command, its args, its env, on top of the
    // bare environment of a desktop session (no PATH to node).
    let file: serde_json::Value = serde_json::from_str(&text).expect("json");
    let entry = &file["mcpServers"]["everything"];
    let args: Vec<String> = entry["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string").to_owned())
        .collect();
    let mut command = Command::new(entry["command"].as_str().expect("command"));
    command.env_clear().args(&args);
    m.keyring.apply(&mut command);
    command.env("PATH", "/nonexistent");
    for (k, v) in entry["env"].as_object().expect("env") {
        command.env(k, v.as_str().expect("string"));
    }
    let mut s = Session::start_with(&mut command);
    s.initialize();
    s.send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get-env", "arguments": {}}}));
    let reply = loop {
        let raw = s.recv_raw();
        let v: serde_json::Value = serde_json::from_slice(&raw).expect("json");
        if v["id"] == 1 {
            break String::from_utf8_lossy(&raw).into_owned();
        }
    };
    // The server had the token (peta redacts exactly that value) and LOG_LEVEL.
    assert!(
        reply.contains("API_TOKEN") && reply.contains("[REDACTED:API_TOKEN]"),
        "{reply}"
    );
    assert!(
        reply.contains("LOG_LEVEL") && reply.contains("debug"),
        "{reply}"
    );
    assert!(!reply.contains(&token), "{reply}");
    s.close_stdin();
    s.wait(Duration::from_secs(10));
    assert!(!s.stderr().contains(&token));
}

#[test]
fn install_errors_say_what_to_do() {
    let Some(m) = Machine::new() else { return };
    let home = m.home().display().to_string();
    let project = m.project.path().display().to_string();
    let tidy = |out: &Output| {
        stderr(out)
            .replace(&home, "[HOME]")
            .replace(&project, "[PROJECT]")
    };
    let check = |name: &str, args: &[&str], code: i32| {
        let out = m.peta(args);
        assert_eq!(out.status.code(), Some(code), "{name}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{name}");
        snapshot(name, &tidy(&out));
    };
    check(
        "error-install-no-config.txt",
        &["install", "--client", "cursor"],
        1,
    );
    check(
        "error-install-no-scope.txt",
        &["install", "--client", "windsurf", "--scope", "project"],
        2,
    );
    for at in [
        ".codeium/windsurf/mcp_config.json",
        ".codeium/mcp_config.json",
    ] {
        m.place("windsurf_mcp_config.json", &m.home().join(at), |t| t);
    }
    check(
        "error-install-several.txt",
        &["install", "--client", "windsurf"],
        2,
    );
    let broken = m.home().join(".cursor/mcp.json");
    m.place("cursor_mcp.json", &broken, |t| {
        t.replacen("},\n    \"memory\"", "}\n    \"memory\"", 1)
    });
    check(
        "error-install-broken.txt",
        &["install", "--client", "cursor"],
        78,
    );
    m.place("cursor_mcp.json", &broken, |t| t);
    let twice = m.project.path().join(".mcp.json");
    std::fs::write(
        &twice,
        r#"{"mcpServers": {"a": {"command": "x"}, "a": {"command": "y"}}}"#,
    )
    .expect("write");
    check(
        "error-install-duplicate.txt",
        &["install", "--client", "claude-code", "--scope", "project"],
        78,
    );
    // No terminal to ask on and no --yes: nothing is written.
    let before = std::fs::read_to_string(&broken).expect("read");
    let mut command = Command::new("setsid");
    m.keyring.apply(&mut command);
    let out = command
        .args(["-w", peta(), "install", "--client", "cursor"])
        .env("XDG_STATE_HOME", m.state.path())
        .stdin(Stdio::null())
        .output()
        .expect("setsid");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!out.stdout.is_empty(), "the diff is shown");
    let err = stderr(&out);
    let tail = &err[err.find("error:").expect("an error")..];
    snapshot(
        "error-install-no-terminal.txt",
        &tail.replace(&home, "[HOME]"),
    );
    assert_eq!(std::fs::read_to_string(&broken).expect("read"), before);
    assert!(!m.state.path().join("peta/installs.json").exists());
}

#[test]
fn two_clients_with_the_same_server_name_keep_both_tokens() {
    let Some(m) = Machine::new() else { return };
    let desktop = m.home().join(".config/Claude/claude_desktop_config.json");
    let desktop_text = m.place("claude_desktop_config.json", &desktop, |t| t);
    let vscode = m.project.path().join(".vscode/mcp.json");
    let vscode_text = m.place("vscode_mcp.json", &vscode, |t| t);
    for args in [
        &["install", "--client", "claude-desktop", "--yes"][..],
        &[
            "install", "--client", "vscode", "--scope", "project", "--yes",
        ],
    ] {
        let out = m.peta(args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let wrapped = std::fs::read_to_string(&vscode).expect("read");
    assert!(
        wrapped
            .contains("GITHUB_PERSONAL_ACCESS_TOKEN=keyring:github.GITHUB_PERSONAL_ACCESS_TOKEN-2"),
        "{wrapped}"
    );
    for (name, token) in [
        (
            "github.GITHUB_PERSONAL_ACCESS_TOKEN",
            "ghp_R8x2Kq7WmZ4tN9vB3cL6yH1pD5sF0aJeUoIi",
        ),
        (
            "github.GITHUB_PERSONAL_ACCESS_TOKEN-2",
            "github_pat_11AAAAAAA0",
        ),
    ] {
        let out = m.peta(&["secret", "get", name, "--reveal"]);
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with(token),
            "{name}"
        );
    }
    let out = m.peta(&["uninstall", "--restore-plaintext", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&desktop).expect("read"),
        desktop_text
    );
    assert_eq!(std::fs::read_to_string(&vscode).expect("read"), vscode_text);
}

/// A machine with no Secret Service: no D-Bus session, and nothing where one would be.
struct NoKeyring {
    home: tempfile::TempDir,
    state: tempfile::TempDir,
    runtime: tempfile::TempDir,
}

impl NoKeyring {
    fn new() -> NoKeyring {
        NoKeyring {
            home: tempfile::tempdir().expect("home"),
            state: tempfile::tempdir().expect("state"),
            runtime: tempfile::tempdir().expect("runtime"),
        }
    }

    fn peta(&self, args: &[&str]) -> Output {
        Command::new(peta())
            .args(args)
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("PETA_CONFIG")
            .env("HOME", self.home.path())
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .env("XDG_STATE_HOME", self.state.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .env("XDG_DATA_HOME", self.home.path().join(".local/share"))
            .current_dir(self.home.path())
            .stdin(Stdio::null())
            .output()
            .expect("peta")
    }
}

#[test]
fn without_a_secret_service_the_entries_without_credentials_are_still_wrapped() {
    let m = NoKeyring::new();
    let at = m.home.path().join(".cursor/mcp.json");
    std::fs::create_dir_all(at.parent().expect("dir")).expect("mkdir");
    let original = std::fs::read_to_string(fixture("clients/cursor_mcp.json")).expect("fixture");
    std::fs::write(&at, &original).expect("write");

    let out = m.peta(&["install", "--client", "cursor", "--yes"]);
    let err = stderr(&out);
    assert_ne!(out.status.code(), Some(125), "{err}");
    assert_eq!(out.status.code(), Some(1), "some entries were left: {err}");
    let now = std::fs::read_to_string(&at).expect("read");
    let json: serde_json::Value = serde_json::from_str(&now).expect("json");
    assert_eq!(
        json["mcpServers"]["memory"]["command"],
        json!(peta()),
        "the entry without a credential is wrapped\n{now}"
    );
    for (name, value) in [
        ("brave-search", "BSAk3mXq9Lw2Zr8Tn5Vy7Pb4Hc6Jd1Fg0"),
        ("stripe", "sk_live_51Hq2RtKx8Wm3Zp7Yn4Vb6Lc9Jd0Fg2Ah5Sk1Qe"),
    ] {
        assert_eq!(json["mcpServers"][name]["command"], json!("npx"), "{name}");
        assert!(now.contains(value), "{name} keeps its value, unwrapped");
        assert!(err.contains(&format!("skip  {name}")), "{err}");
    }
    assert!(
        err.contains("--secrets vault") && err.contains("--secrets leave"),
        "{err}"
    );

    // Leaving the values in the file wraps the rest, with a warning per value.
    let out = m.peta(&[
        "install",
        "--client",
        "cursor",
        "--secrets",
        "leave",
        "--yes",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let now = std::fs::read_to_string(&at).expect("read");
    let json: serde_json::Value = serde_json::from_str(&now).expect("json");
    for name in ["brave-search", "stripe"] {
        assert_eq!(json["mcpServers"][name]["command"], json!(peta()), "{name}");
    }
    assert!(now.contains("BSAk3mXq9Lw2Zr8Tn5Vy7Pb4Hc6Jd1Fg0"), "{now}");
    assert!(
        err.contains("BRAVE_API_KEY stays in the file as plain text")
            && err.contains("STRIPE_SECRET_KEY stays in the file as plain text"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("BSAk3mXq9Lw2Zr8"));
    let out = m.peta(&["uninstall", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&at).expect("read"), original);

    // The age vault takes them instead of the keyring.
    let dry = m.peta(&[
        "install",
        "--client",
        "cursor",
        "--secrets",
        "vault",
        "--dry-run",
    ]);
    assert_eq!(
        dry.status.code(),
        Some(125),
        "no vault yet: {}",
        stderr(&dry)
    );
    assert!(stderr(&dry).contains("peta vault init"), "{}", stderr(&dry));
    let init = m.peta(&["vault", "init"]);
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    let out = m.peta(&[
        "install",
        "--client",
        "cursor",
        "--secrets",
        "vault",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let now = std::fs::read_to_string(&at).expect("read");
    assert!(
        now.contains("BRAVE_API_KEY=age:brave-search.BRAVE_API_KEY"),
        "{now}"
    );
    assert!(!now.contains("BSAk3mXq9Lw2Zr8") && !now.contains("sk_live_"));
    let get = m.peta(&[
        "secret",
        "get",
        "--vault",
        "stripe.STRIPE_SECRET_KEY",
        "--reveal",
    ]);
    assert!(
        String::from_utf8_lossy(&get.stdout).starts_with("sk_live_51Hq2RtKx8"),
        "{}",
        stderr(&get)
    );
    let out = m.peta(&["uninstall", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("keep     stripe  STRIPE_SECRET_KEY in the age vault"),
        "{}",
        stderr(&out)
    );
    let out = m.peta(&["uninstall", "--restore-plaintext", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&at).expect("read"), original);

    // Asking for the keyring by name, where there is none, changes nothing.
    let out = m.peta(&[
        "install",
        "--client",
        "cursor",
        "--secrets",
        "keyring",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    snapshot(
        "error-install-no-keyring.txt",
        &stderr(&out)
            .replace(&m.home.path().display().to_string(), "[HOME]")
            .replace(&m.runtime.path().display().to_string(), "[RUNTIME]"),
    );
    assert_eq!(std::fs::read_to_string(&at).expect("read"), original);
}

/// The `--env PATH=…` peta install adds to a wrapped entry, if any.
fn captured_path(args: &serde_json::Value) -> Option<String> {
    args.as_array()
        .expect("args")
        .iter()
        .filter_map(|a| a.as_str())
        .find_map(|a| a.strip_prefix("PATH=").map(str::to_owned))
}

#[test]
fn path_is_captured_only_for_clients_started_from_a_desktop() {
    let Some(m) = Machine::new() else { return };
    let project = m.project.path().display().to_string();
    for (fixture_name, selector, at, from_desktop) in [
        (
            "claude_desktop_config.json",
            &["--client", "claude-desktop"][..],
            m.home().join(".config/Claude/claude_desktop_config.json"),
            true,
        ),
        (
            "cursor_mcp.json",
            &["--client", "cursor"][..],
            m.home().join(".cursor/mcp.json"),
            true,
        ),
        (
            "mcp.json",
            &["--client", "claude-code", "--scope", "project"][..],
            m.project.path().join(".mcp.json"),
            false,
        ),
        (
            "gemini_settings.json",
            &["--client", "gemini"][..],
            m.home().join(".gemini/settings.json"),
            false,
        ),
    ] {
        m.place(fixture_name, &at, |t| {
            t.replace("/home/ana/src/shop", &project)
        });
        let mut args = vec!["install", "--yes"];
        args.extend(selector);
        let out = m.peta(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{fixture_name}: {}",
            stderr(&out)
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&at).expect("read")).expect("json");
        let servers = json["mcpServers"].as_object().expect("servers");
        let mut wrapped = 0;
        for (name, entry) in servers {
            if entry["command"] != json!(peta()) {
                continue;
            }
            wrapped += 1;
            let path = captured_path(&entry["args"]);
            if from_desktop {
                assert!(
                    path.is_some_and(|p| p.split(':').any(|d| d == "/usr/bin")),
                    "{fixture_name}: {name} gets this shell's PATH"
                );
            } else {
                assert_eq!(
                    path, None,
                    "{fixture_name}: {name} is started from a terminal"
                );
            }
        }
        assert!(wrapped > 0, "{fixture_name}");
        let err = stderr(&out);
        assert_eq!(err.contains("PATH captured"), from_desktop, "{err}");
    }
}

#[test]
fn a_file_given_with_config_path_is_named_for_what_it_is() {
    let Some(m) = Machine::new() else { return };
    // Gemini CLI's own file, given to `--client cursor`: peta says whose it is.
    let gemini = m.home().join(".gemini/settings.json");
    let text = m.place("gemini_settings.json", &gemini, |t| t);
    let path = gemini.display().to_string();
    let out = m.peta(&[
        "install",
        "--client",
        "cursor",
        "--config-path",
        &path,
        "--yes",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("Gemini CLI"), "{err}");
    assert!(err.contains("--client gemini"), "{err}");
    snapshot(
        "error-install-other-client.txt",
        &err.replace(&m.home().display().to_string(), "[HOME]"),
    );
    assert_eq!(std::fs::read_to_string(&gemini).expect("read"), text);

    // A file no client is known to keep: named by its path, not as Cursor's.
    let other = m.project.path().join("zed/settings.json");
    m.place("cursor_mcp.json", &other, |t| t);
    let path = other.display().to_string();
    let out = m.peta(&[
        "install",
        "--client",
        "cursor",
        "--config-path",
        &path,
        "--yes",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("Cursor"), "{err}");
    assert!(err.lines().next().expect("a line").contains(&path), "{err}");
    let out = m.peta(&[
        "uninstall",
        "--config-path",
        &path,
        "--restore-plaintext",
        "--yes",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("Cursor"), "{err}");
    assert!(
        err.contains(&format!("restart the client that reads {path}")),
        "{err}"
    );
}

#[test]
fn codex_entries_get_the_variables_codex_does_not_pass_on() {
    let Some(m) = Machine::new() else { return };
    let at = m.home().join(".codex/config.toml");
    let original = m.place("codex_config.toml", &at, |t| t);
    let config = m.home().join("peta.toml");
    let runtime = tempfile::tempdir().expect("runtime");
    let mut command = Command::new(peta());
    m.keyring.apply(&mut command);
    let out = command
        .args(["install", "--client", "codex", "--yes"])
        .env("PETA_CONFIG", &config)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("XDG_STATE_HOME", m.state.path())
        .env("XDG_CONFIG_HOME", m.home().join(".config"))
        .stdin(Stdio::null())
        .output()
        .expect("peta");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&at).expect("read");
    // Comments and the settings around the servers stay as they were.
    for kept in [
        "# Codex: ~/.codex/config.toml\nmodel = \"gpt-5-codex\"\n",
        "# GitHub's server, with a token from the settings page.\n[mcp_servers.github]\n",
        "[profiles.fast]\nmodel = \"gpt-5-mini\"\n",
        "# Reached over HTTP: not a server Codex starts.\n[mcp_servers.figma]\nurl = \"https://mcp.figma.com/mcp\"\n",
    ] {
        assert!(text.contains(kept), "{kept:?}\n{text}");
    }
    let parsed: toml::Table = toml::from_str(&text).expect("still TOML");
    let servers = parsed["mcp_servers"].as_table().expect("servers");
    for name in ["sentry", "github", "postgres", "time", "docs"] {
        let entry = servers[name].as_table().expect("entry");
        assert_eq!(entry["command"].as_str(), Some(peta()), "{name}\n{text}");
        let env = entry["env"].as_table().expect("env");
        assert_eq!(
            env["PETA_CONFIG"].as_str(),
            config.to_str(),
            "{name}\n{text}"
        );
        assert_eq!(env["XDG_RUNTIME_DIR"].as_str(), runtime.path().to_str());
        assert_eq!(env["XDG_STATE_HOME"].as_str(), m.state.path().to_str());
        let args: Vec<&str> = entry["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("string"))
            .collect();
        assert!(
            !args.iter().any(|a| a.starts_with("PATH=")),
            "Codex passes its own PATH: {args:?}"
        );
    }
    // Codex passes the session bus on by name (it changes with each login), next to the
    // names the entry had.
    let time = servers["time"].as_table().expect("time");
    assert_eq!(
        time["env_vars"],
        toml::Value::Array(vec!["TZ".into(), "DBUS_SESSION_BUS_ADDRESS".into()]),
        "{text}"
    );
    assert_eq!(
        servers["figma"]["url"].as_str(),
        Some("https://mcp.figma.com/mcp")
    );
    assert!(servers["docs"].get("cwd").is_some(), "cwd kept");

    let out = m.peta(&[
        "uninstall",
        "--client",
        "codex",
        "--restore-plaintext",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&at).expect("read"), original);
}

#[test]
fn without_a_secret_service_peta_asks_where_credentials_go() {
    let m = NoKeyring::new();
    let at = m.home.path().join(".cursor/mcp.json");
    std::fs::create_dir_all(at.parent().expect("dir")).expect("mkdir");
    let original = std::fs::read_to_string(fixture("clients/cursor_mcp.json")).expect("fixture");
    std::fs::write(&at, &original).expect("write");
    let mut pty = crate::support::Pty::open();
    let mut command = Command::new(peta());
    pty.attach(&mut command);
    let child = command
        .args(["install", "--client", "cursor"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("PETA_CONFIG")
        .env("HOME", m.home.path())
        .env("XDG_RUNTIME_DIR", m.runtime.path())
        .env("XDG_STATE_HOME", m.state.path())
        .env("XDG_CONFIG_HOME", m.home.path().join(".config"))
        .env("XDG_DATA_HOME", m.home.path().join(".local/share"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("peta");
    let shown = pty.wait_for("Choice [s]: ");
    assert!(shown.contains("brave-search, stripe"), "{shown}");
    assert!(shown.contains("peta vault init"), "no vault yet: {shown}");
    pty.type_keys(b"l\n");
    pty.wait_for("[y/N] ");
    pty.type_keys(b"y\n");
    let out = child.wait_with_output().expect("wait");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("STRIPE_SECRET_KEY stays in the file as plain text"),
        "{err}"
    );
    let now = std::fs::read_to_string(&at).expect("read");
    let json: serde_json::Value = serde_json::from_str(&now).expect("json");
    for name in ["brave-search", "memory", "stripe"] {
        assert_eq!(json["mcpServers"][name]["command"], json!(peta()), "{name}");
    }
}
