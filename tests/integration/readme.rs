//! The README, followed to the letter: every command in its `sh` blocks runs, in order, on a
//! throwaway machine (a real keyring, a Claude Desktop config, a project), with each exit code
//! checked; `toml` blocks are added to the configuration as a reader would. The quick start's
//! `peta approve` answers a real call that a wrapped Claude Desktop entry is waiting on.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{SecretService, Session, external, fixture, peta, python};

/// Every command line of the README's `sh` blocks, in order, with the exit code it must give
/// here and what to type at its prompts. A README line missing from this list (or a line
/// here no longer in the README) fails the test.
/// A command line, its exit code, and (prompt, what to type) pairs.
type Step = (&'static str, i32, &'static [(&'static str, &'static str)]);

const STEPS: &[Step] = &[
    ("peta doctor", 0, &[]),
    ("peta install --client claude-desktop --dry-run", 0, &[]),
    ("peta install --client claude-desktop", 0, &[("[y/N]", "y")]),
    // The quick start's approval: a wrapped entry waits on a call (see `before`).
    ("peta approve", 0, &[("Answer", "j")]),
    ("peta audit tail -n 20", 0, &[]),
    ("peta audit verify", 0, &[]),
    ("peta init", 0, &[]),
    ("peta uninstall --restore-plaintext --dry-run", 0, &[]),
    ("peta uninstall --restore-plaintext", 0, &[("[y/N]", "y")]),
    (
        "peta install --client claude-code --scope project --dry-run",
        0,
        &[],
    ),
    (
        "peta install --client claude-code --scope local --yes",
        0,
        &[],
    ),
    ("peta install --client cursor --yes", 0, &[]),
    ("peta install --client vscode --scope project --yes", 0, &[]),
    (
        "peta install --client windsurf --config-path ~/.codeium/windsurf/mcp_config.json --yes",
        0,
        &[],
    ),
    ("peta install --client codex --yes", 0, &[]),
    (
        "peta install --client gemini --scope project --dry-run",
        0,
        &[],
    ),
    (
        "peta uninstall --client cursor --restore-plaintext --yes",
        0,
        &[],
    ),
    (
        "peta secret set github",
        0,
        &[("Value for github", "ghp_readmeValue0123456789abcdef")],
    ),
    (
        "peta run --env GITHUB_TOKEN=keyring:github -- npx -y @modelcontextprotocol/server-github",
        0,
        &[],
    ),
    ("peta secret list", 0, &[]),
    ("peta secret get github --reveal", 0, &[]),
    ("peta secret import claude_desktop_config.json", 0, &[]),
    ("peta secret rm github", 0, &[]),
    ("peta vault init", 0, &[]),
    (
        "peta secret set staging-db --vault",
        0,
        &[(
            "Value for staging-db",
            "postgresql://app:pw-readme-1234@db/staging",
        )],
    ),
    (
        "peta vault recipients add age1psxkq0v4a6j0xj0mlmap2pu0kany88ha4yfmgr3na2598k5w2qmscquyep",
        0,
        &[],
    ),
    ("peta vault recipients list", 0, &[]),
    (
        "peta vault recipients rm age1psxkq0v4a6j0xj0mlmap2pu0kany88ha4yfmgr3na2598k5w2qmscquyep",
        0,
        &[],
    ),
    ("peta audit verify", 0, &[]),
    ("peta audit export --format jsonl -o audit.jsonl", 0, &[]),
    (
        "peta audit export --format csv --since 7d --decision deny",
        0,
        &[],
    ),
    ("peta audit show 1", 0, &[]),
    ("peta config check", 0, &[]),
    // Asked about (the default), so 1.
    (
        "peta policy test demo write_file '{\"path\": \"/etc/hosts\"}'",
        1,
        &[],
    ),
    // The quick start's approved call would now be asked about: 1.
    ("peta policy replay --since 7d", 1, &[]),
    ("peta approve --list", 0, &[]),
    ("peta approve --list --json", 0, &[]),
    // On a terminal, with nothing waiting now.
    ("peta approve", 0, &[("Answer", "")]),
    ("peta grants list", 0, &[]),
    ("peta grants revoke --all", 0, &[]),
    ("peta tools list --server demo --connect", 0, &[]),
    ("peta tools list", 0, &[]),
    // Nothing changed since the tools were pinned: nothing to show, 1.
    ("peta tools diff demo echo", 1, &[]),
    // The new pins are confirmed.
    ("peta tools approve demo --all", 0, &[]),
    ("peta tools reset demo", 0, &[]),
    ("peta init team.toml", 0, &[]),
    ("peta config check --config team.toml", 0, &[]),
    ("peta doctor", 0, &[]),
];

/// README commands that are not peta's, and where they are exercised.
const OTHERS: &[(&str, &str)] = &[
    (
        "cargo run --release -- demo",
        "cli::the_demo_runs_end_to_end runs `peta demo`",
    ),
    ("scripts/test.sh", "CI runs it (.ci/run)"),
    (
        "cargo install --path .",
        "this test runs the binary cargo built from the same tree",
    ),
];

enum Block {
    Sh(String),
    Toml(String),
}

/// The README's `sh` lines (comments dropped) and `toml` blocks, in order.
fn readme() -> Vec<Block> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let mut blocks = Vec::new();
    let mut inside: Option<&str> = None;
    let mut toml = String::new();
    for line in text.lines() {
        match (inside, line.strip_prefix("```")) {
            (None, Some(kind)) => {
                inside = Some(kind.trim());
                toml.clear();
            }
            (Some(kind), Some(_)) => {
                if kind == "toml" {
                    blocks.push(Block::Toml(std::mem::take(&mut toml)));
                }
                inside = None;
            }
            (Some("sh"), None) => {
                let command = line.find("  #").map_or(line, |i| &line[..i]).trim();
                if !command.is_empty() && !command.starts_with('#') {
                    blocks.push(Block::Sh(command.to_owned()));
                }
            }
            (Some("toml"), None) => {
                toml.push_str(line);
                toml.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

struct Machine {
    keyring: SecretService,
    project: tempfile::TempDir,
    runtime: tempfile::TempDir,
    bin: tempfile::TempDir,
}

impl Machine {
    fn home(&self) -> &Path {
        self.keyring.home()
    }

    fn config(&self) -> PathBuf {
        self.home().join(".config/peta/peta.toml")
    }

    /// The environment of a terminal on this machine: `peta` and an `npx` stand-in first on
    /// PATH (only the registries are reachable here, and the tests run offline).
    fn env(&self, command: &mut Command) {
        let path = format!(
            "{}:{}",
            self.bin.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        self.keyring.apply(command);
        command
            .env("PATH", path)
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_STATE_HOME", self.home().join(".local/state"))
            .env("XDG_DATA_HOME", self.home().join(".local/share"))
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .env_remove("PETA_CONFIG")
            .env_remove("PETA_LOG")
            .current_dir(self.project.path());
    }

    /// Runs one README line in bash, on a terminal when there is something to type.
    fn run(&self, line: &str, answers: &[(&str, &str)]) -> (Option<i32>, String) {
        let mut command = if answers.is_empty() {
            let mut c = Command::new("bash");
            c.args(["-c", line]).stdin(Stdio::null());
            // No controlling terminal, as in CI.
            // SAFETY: setsid is async-signal-safe.
            unsafe {
                c.pre_exec(|| {
                    libc::setsid();
                    Ok(())
                });
            }
            c
        } else {
            let mut c = Command::new(python());
            c.arg(fixture("on_tty.py"));
            for (expect, answer) in answers {
                c.args(["--expect", expect, "--answer", answer]);
            }
            c.args(["--", "bash", "-c", line]);
            c
        };
        self.env(&mut command);
        let out = command.output().expect("bash");
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), shown)
    }

    /// Starts the wrapped `everything` entry of Claude Desktop's file as the client would,
    /// with no terminal, and makes a call that needs approval.
    fn wrapped_session(&self) -> Session {
        let file = self
            .home()
            .join(".config/Claude/claude_desktop_config.json");
        let config: Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("json");
        let entry = &config["mcpServers"]["everything"];
        let mut command = Command::new(entry["command"].as_str().expect("command"));
        command.env_clear();
        for a in entry["args"].as_array().expect("args") {
            command.arg(a.as_str().expect("string"));
        }
        self.keyring.apply(&mut command);
        // The state directory a desktop session would default to (HOME/.local/state), given
        // explicitly so the test harness does not supply its own.
        command
            .env("PATH", "/usr/bin:/bin")
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .env("XDG_STATE_HOME", self.home().join(".local/state"));
        // SAFETY: setsid is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let mut s = Session::start_with(&mut command);
        s.initialize();
        s.send_json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "hello from the README"}}}));
        s
    }

    fn wait_for_question(&self) {
        for _ in 0..400 {
            let (_, shown) = self.run("peta approve --list --json", &[]);
            if shown.contains("\"pending\":[{") {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the call never showed up in peta approve --list");
    }
}

#[test]
fn every_command_in_the_readme_runs_as_shown() {
    let Some(everything) = external("PETA_E2E_EVERYTHING") else {
        return;
    };
    let Some(keyring) = SecretService::start() else {
        return;
    };
    let m = Machine {
        keyring,
        project: tempfile::tempdir().expect("project"),
        runtime: tempfile::tempdir().expect("runtime"),
        // Outside /tmp, which is private in a server's box: the `npx` stand-in runs there.
        bin: crate::support::visible_tempdir(),
    };
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(m.runtime.path(), std::fs::Permissions::from_mode(0o700))
        .expect("chmod");
    std::os::unix::fs::symlink(peta(), m.bin.path().join("peta")).expect("link peta");
    let npx = m.bin.path().join("npx");
    // `npx -y PACKAGE` would download PACKAGE; here it runs server-everything instead.
    std::fs::write(&npx, format!("#!/bin/sh\nexec node '{everything}' stdio\n")).expect("npx");
    std::fs::set_permissions(&npx, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    // What the person has before starting: Claude Desktop with two servers, one with a token.
    let token = format!("tok_{}", "r34dm3".repeat(6));
    let claude = m.home().join(".config/Claude/claude_desktop_config.json");
    std::fs::create_dir_all(claude.parent().expect("dir")).expect("mkdir");
    let config = json!({"mcpServers": {
        "everything": {"command": "node", "args": [everything, "stdio"], "env": {"API_TOKEN": token}},
        "remote": {"url": "https://mcp.example.com/sse"}
    }});
    let original = serde_json::to_string_pretty(&config).expect("json") + "\n";
    std::fs::write(&claude, &original).expect("write");
    let project = m.project.path().display().to_string();
    let place = |name: &str, at: PathBuf| {
        let text = std::fs::read_to_string(fixture(&format!("clients/{name}")))
            .expect("fixture")
            .replace("/home/ana/src/shop", &project);
        std::fs::create_dir_all(at.parent().expect("dir")).expect("mkdir");
        std::fs::write(at, text).expect("write");
    };
    place("claude.json", m.home().join(".claude.json"));
    place("mcp.json", m.project.path().join(".mcp.json"));
    place("cursor_mcp.json", m.home().join(".cursor/mcp.json"));
    place("vscode_mcp.json", m.project.path().join(".vscode/mcp.json"));
    place(
        "windsurf_mcp_config.json",
        m.home().join(".codeium/windsurf/mcp_config.json"),
    );
    place("codex_config.toml", m.home().join(".codex/config.toml"));
    place(
        "gemini_settings.json",
        m.project.path().join(".gemini/settings.json"),
    );
    place(
        "claude_desktop_config.json",
        m.project.path().join("claude_desktop_config.json"),
    );

    let mut steps = STEPS.iter();
    let mut session: Option<Session> = None;
    let mut approvals = 0;
    for block in readme() {
        let line = match block {
            Block::Toml(toml) => {
                // The reader adds the snippet to their configuration.
                let mut file = std::fs::OpenOptions::new()
                    .append(true)
                    .open(m.config())
                    .expect("the quick start's peta init wrote the config");
                writeln!(file, "\n{toml}").expect("append");
                continue;
            }
            Block::Sh(line) => line,
        };
        if let Some((_, why)) = OTHERS.iter().find(|(other, _)| *other == line) {
            eprintln!("not run here: {line} ({why})");
            continue;
        }
        let (expected, code, answers) = steps
            .next()
            .unwrap_or_else(|| panic!("README line {line:?} is not in STEPS"));
        assert_eq!(line, *expected, "the README and STEPS disagree");
        if line == "peta approve" {
            approvals += 1;
            if approvals == 1 {
                let s = m.wrapped_session();
                m.wait_for_question();
                session = Some(s);
            }
        }
        let (got, shown) = m.run(&line, answers);
        eprintln!("$ {line}\n{shown}");
        assert_eq!(got, Some(*code), "{line}:\n{shown}");
        assert!(!shown.contains(&token), "{line} showed the token:\n{shown}");
        if let Some(mut s) = session.take() {
            let reply = s.response(json!(2));
            assert!(reply["result"]["isError"] != json!(true), "{reply}");
            assert!(
                reply.to_string().contains("hello from the README"),
                "{reply}"
            );
            s.close_stdin();
            s.wait(Duration::from_secs(10));
        }
        if line == "peta install --client claude-desktop" {
            let text = std::fs::read_to_string(&claude).expect("read");
            assert!(!text.contains(&token), "the token left the file");
        }
        if line == "peta uninstall --restore-plaintext" {
            assert_eq!(std::fs::read_to_string(&claude).expect("read"), original);
        }
    }
    assert!(
        steps.next().is_none(),
        "STEPS has lines the README no longer shows"
    );
}
