//! `peta policy test` through the binary: the decision on the first line, the explanation,
//! the exit code, and the refusals of bad input.

use std::path::PathBuf;

use crate::support::peta_command;

const CONFIG: &str = r#"
[defaults]
gate = ["resources/read"]

[servers.fs]
command = ["true"]
trust_annotations = true

[[rules]]
id = "no-etc"
tool = "^(write|delete)_file$"
action = "deny"
message = "Files under /etc are off limits."
args = { "/path" = { glob = "/etc/**" } }

[[rules]]
id = "tmp"
server = "fs"
tool = "write_file"
action = "allow"
args = { "/path" = { glob = "/tmp/**" } }

[[rules]]
id = "big"
tool = "write_file"
action = "ask"
timeout = "2m"
args = { "/size" = { gt = 1000 } }

[[rules]]
id = "ssh"
method = "resources/read"
tool = "file:///**/.ssh/**"
action = "deny"
"#;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn config(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("peta.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

fn policy_test(config: Option<&PathBuf>, args: &[&str]) -> Run {
    let mut command = peta_command();
    command.args(["policy", "test"]).args(args);
    match config {
        Some(config) => command.arg("--config").arg(config),
        // No configuration at all, not the test run's allow-all one.
        None => command.env("XDG_CONFIG_HOME", "/nonexistent"),
    };
    let out = command.output().expect("run peta");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("utf-8"),
        stderr: String::from_utf8(out.stderr).expect("utf-8"),
    }
}

#[test]
fn the_first_line_is_the_decision_and_the_exit_code_follows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = config(&dir, CONFIG);
    for (args, decision, code) in [
        (
            &["fs", "write_file", r#"{"path": "/etc/hosts"}"#][..],
            "deny",
            1,
        ),
        (&["fs", "write_file", r#"{"path": "/tmp/x"}"#], "allow", 0),
        (
            &["fs", "write_file", r#"{"path": "/tmp/x", "size": 5000}"#],
            "ask",
            1,
        ),
        (&["fs", "write_file", r#"{"path": "/home/x"}"#], "ask", 1),
        (&["fs", "Write_file", r#"{"path": "/tmp/x"}"#], "ask", 1),
        (&["other", "write_file", r#"{"path": "/tmp/x"}"#], "ask", 1),
        (
            &[
                "fs",
                "read_file",
                "--annotations",
                r#"{"readOnlyHint": true}"#,
            ],
            "allow",
            0,
        ),
        (
            &[
                "fs",
                "file:///home/u/.ssh/id_rsa",
                "--method",
                "resources/read",
            ],
            "deny",
            1,
        ),
        (
            &["fs", "code_review", "--method", "prompts/get"],
            "allow",
            0,
        ),
    ] {
        let run = policy_test(Some(&file), args);
        assert_eq!(
            run.code,
            Some(code),
            "{args:?}: {}{}",
            run.stdout,
            run.stderr
        );
        assert_eq!(
            run.stdout.lines().next(),
            Some(decision),
            "{args:?}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn the_explanation_names_the_deciding_rule_and_why_the_others_did_not_match() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = config(&dir, CONFIG);
    let run = policy_test(
        Some(&file),
        &["fs", "write_file", r#"{"path": "/etc/hosts"}"#],
    );
    assert_eq!(
        run.stdout,
        r#"deny
rule `no-etc` matched: tool "^(write|delete)_file$", /path glob "/etc/**"
message: Files under /etc are off limits.

rules, in order (deny wins over ask, ask over allow):
  matched   no-etc  deny   tool "^(write|delete)_file$", /path glob "/etc/**"
  no match  tmp     allow  /path glob "/tmp/**": got "/etc/hosts"
  no match  big     ask    /size gt 1000: /size is missing
  no match  ssh     deny   method resources/read: got tools/call
"#
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);

    let run = policy_test(
        Some(&file),
        &["fs", "write_file", r#"{"path": "/tmp/x", "size": "9999"}"#],
    );
    assert!(
        run.stdout.starts_with(
            "ask\nrule `big` matched: tool \"write_file\", /size gt 1000: got a string, which gt cannot test, so this ask rule applies\na person is asked, and no answer within 120s means deny\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  matched   tmp     allow  server \"fs\""),
        "{}",
        run.stdout
    );
}

#[test]
fn defaults_and_untrusted_annotations_are_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = config(&dir, CONFIG);
    let run = policy_test(
        Some(&file),
        &[
            "github",
            "read_file",
            "--annotations",
            r#"{"readOnlyHint": true}"#,
        ],
    );
    assert_eq!(run.code, Some(1));
    let second = run.stdout.lines().nth(1).expect("reason");
    assert_eq!(
        second,
        "no rule matched; the default is ask (peta's default); the tool's annotations are ignored: the server is not marked trust_annotations"
    );
    assert!(run.stderr.contains("no [servers.github]"), "{}", run.stderr);

    let run = policy_test(
        Some(&file),
        &["fs", "x", "--method", "sampling/createMessage"],
    );
    assert_eq!(
        (run.code, run.stdout.lines().next()),
        (Some(0), Some("allow"))
    );
    assert!(
        run.stdout.contains("sampling/createMessage is not gated"),
        "{}",
        run.stdout
    );
}

#[test]
fn without_a_config_every_call_is_asked_about() {
    let run = policy_test(None, &["any", "tool"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stdout,
        "ask\nno rule matched; the default is ask (peta's default)\na person is asked, and no answer within 45s means deny\n\nno rules are configured\n"
    );
}

#[test]
fn bad_input_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = config(&dir, CONFIG);
    for (args, code, expected) in [
        (&["fs", "t", "{"][..], 2, "ARGS-JSON is not one JSON object"),
        (&["fs", "t", "[1]"], 2, "it is [1]"),
        (&["fs", "t", r#"{"a": 1, "a": 2}"#], 2, "duplicate key"),
        (&["fs", "t", "{} {}"], 2, "ARGS-JSON"),
        (
            &["fs", "t", "--annotations", "true"],
            2,
            "--annotations is not one JSON object",
        ),
        (
            &["fs", "t", "--method", "tools/list"],
            2,
            "invalid value 'tools/list'",
        ),
    ] {
        let run = policy_test(Some(&file), args);
        assert_eq!(run.code, Some(code), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
    }
    let bad = config(
        &dir,
        "[[rules]]\nid = \"x\"\naction = \"deny\"\ntool = \"^oops\"\n",
    );
    let run = policy_test(Some(&bad), &["fs", "t"]);
    assert_eq!(run.code, Some(78), "{}", run.stderr);
    assert!(run.stderr.contains("rules[0].tool"), "{}", run.stderr);
}

#[test]
fn a_projects_peta_toml_adds_deny_rules_and_may_not_allow() {
    let project = tempfile::tempdir().expect("project");
    std::fs::write(
        project.path().join("peta.toml"),
        "[[rules]]\nid = \"project-no-push\"\ntool = \"push_*\"\naction = \"deny\"\n",
    )
    .expect("project config");
    let user = tempfile::tempdir().expect("user");
    let user_config = user.path().join("peta.toml");
    std::fs::write(&user_config, "[defaults]\ndefault_action = \"allow\"\n").expect("user config");
    let test = |args: &[&str]| {
        peta_command()
            .current_dir(project.path())
            .args(["policy", "test", "--config"])
            .arg(&user_config)
            .args(args)
            .output()
            .expect("policy test")
    };
    let out = test(&["gh", "push_files"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("deny\n") && stdout.contains("project-no-push"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&test(&["gh", "read_file"]).stdout).starts_with("allow\n"));

    std::fs::write(
        project.path().join("peta.toml"),
        "[[rules]]\nid = \"sneaky\"\ntool = \"*\"\naction = \"allow\"\n",
    )
    .expect("project config");
    let out = test(&["gh", "push_files"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("may only add rules that deny or ask"),
        "{stderr}"
    );
}

/// A user configuration and a project directory with its own `peta.toml`.
struct Layers {
    user: tempfile::TempDir,
    project: tempfile::TempDir,
}

impl Layers {
    fn new(user: &str, project: &str) -> Layers {
        let layers = Layers {
            user: tempfile::tempdir().expect("user"),
            project: tempfile::tempdir().expect("project"),
        };
        std::fs::write(layers.user_config(), user).expect("user config");
        std::fs::write(layers.project.path().join("peta.toml"), project).expect("project config");
        layers
    }

    fn user_config(&self) -> PathBuf {
        self.user.path().join("peta.toml")
    }

    /// `peta policy test` run in the project directory with the user's configuration.
    fn test(&self, args: &[&str]) -> Run {
        let out = peta_command()
            .current_dir(self.project.path())
            .args(["policy", "test", "--config"])
            .arg(self.user_config())
            .args(args)
            .output()
            .expect("policy test");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).expect("utf-8"),
            stderr: String::from_utf8(out.stderr).expect("utf-8"),
        }
    }
}

#[test]
fn a_projects_ask_rule_does_not_turn_the_users_deny_into_a_question() {
    let layers = Layers::new(
        "[defaults]\ndefault_action = \"deny\"\n",
        "[[rules]]\nid = \"loosen\"\ntool = \"*\"\naction = \"ask\"\n",
    );
    let calls: [&[&str]; 2] = [
        &["gh", "push_files"],
        &["fs", "write_file", r#"{"path": "/tmp/x"}"#],
    ];
    let mut asked = 0;
    for args in calls {
        let run = layers.test(args);
        println!(
            "{args:?}: {}",
            run.stdout.lines().next().unwrap_or_default()
        );
        if !run.stdout.starts_with("deny\n") {
            asked += 1;
        }
    }
    assert_eq!(
        asked,
        0,
        "{asked}/{} calls the user's policy denies were not denied",
        calls.len()
    );
}

#[test]
fn a_project_may_tighten_allow_to_ask_or_deny_and_ask_to_deny() {
    let layers = Layers::new(
        "[defaults]\ndefault_action = \"allow\"\n[[rules]]\nid = \"careful\"\ntool = \"deploy\"\naction = \"ask\"\n",
        "[[rules]]\nid = \"project-ask\"\ntool = \"write_*\"\naction = \"ask\"\nmessage = \"the project asks\"\n\
         [[rules]]\nid = \"project-deny\"\ntool = \"deploy\"\naction = \"deny\"\n",
    );
    let run = layers.test(&["fs", "write_file"]);
    assert!(run.stdout.starts_with("ask\n"), "{}", run.stdout);
    assert!(run.stdout.contains("project-ask"), "{}", run.stdout);
    let run = layers.test(&["fs", "deploy"]);
    assert!(run.stdout.starts_with("deny\n"), "{}", run.stdout);
    assert!(run.stdout.contains("project-deny"), "{}", run.stdout);
    let run = layers.test(&["fs", "read_file"]);
    assert!(run.stdout.starts_with("allow\n"), "{}", run.stdout);
}

#[test]
fn a_projects_timeout_may_only_shorten_the_users() {
    let layers = Layers::new(
        "[defaults]\ndefault_action = \"allow\"\ntimeout = \"10s\"\n",
        "[[rules]]\nid = \"slow\"\ntool = \"deploy\"\naction = \"ask\"\ntimeout = \"60m\"\n\
         [[rules]]\nid = \"quick\"\ntool = \"write_*\"\naction = \"ask\"\ntimeout = \"3s\"\n",
    );
    let run = layers.test(&["fs", "deploy"]);
    assert!(
        run.stdout.contains("no answer within 10s means deny"),
        "{}",
        run.stdout
    );
    let run = layers.test(&["fs", "write_file"]);
    assert!(
        run.stdout.contains("no answer within 3s means deny"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_relative_config_path_is_refused() {
    let layers = Layers::new(
        "",
        "[[rules]]\nid = \"project-allows\"\ntool = \"*\"\naction = \"allow\"\n",
    );
    for (env, flag) in [
        (Some("peta.toml"), None),
        (None, Some("peta.toml")),
        (None, Some("./peta.toml")),
    ] {
        let mut command = peta_command();
        command
            .current_dir(layers.project.path())
            .args(["policy", "test"]);
        if let Some(value) = env {
            command.env("PETA_CONFIG", value);
        }
        if let Some(flag) = flag {
            command.args(["--config", flag]);
        }
        let out = command
            .args(["gh", "push_files"])
            .output()
            .expect("policy test");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(78),
            "{env:?} {flag:?}: {stdout}{stderr}"
        );
        assert!(stderr.contains("must be an absolute path"), "{stderr}");
        assert!(stderr.contains("hint:"), "{stderr}");
    }
}

#[test]
fn a_config_inside_the_project_directory_is_never_the_users() {
    let layers = Layers::new(
        "",
        "[[rules]]\nid = \"project-allows\"\ntool = \"*\"\naction = \"allow\"\n",
    );
    let inside = layers.project.path().join("peta.toml");
    std::fs::create_dir_all(layers.project.path().join("conf/peta")).expect("dir");
    std::fs::write(
        layers.project.path().join("conf/peta/peta.toml"),
        "[[rules]]\nid = \"also-allows\"\ntool = \"*\"\naction = \"allow\"\n",
    )
    .expect("nested config");
    let via_proc = PathBuf::from("/proc/self/cwd/peta.toml");
    for (what, set) in [
        ("--config", inside.clone()),
        ("--config", via_proc.clone()),
        ("PETA_CONFIG", inside.clone()),
        ("XDG_CONFIG_HOME", layers.project.path().join("conf")),
    ] {
        let mut command = peta_command();
        command
            .current_dir(layers.project.path())
            .args(["policy", "test"]);
        match what {
            "--config" => {
                command.arg("--config").arg(&set);
            }
            var => {
                command.env(var, &set);
            }
        }
        let out = command
            .args(["gh", "push_files"])
            .output()
            .expect("policy test");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(78),
            "{what}={}: {stdout}{stderr}",
            set.display()
        );
        assert!(
            stderr.contains("inside the directory peta was started in"),
            "{stderr}"
        );
    }
}

/// Through `peta run`: the user denies by default, the project's `ask` rule would make the
/// call a question a person (or anything that can reach the console) could allow.
#[test]
fn a_projects_ask_rule_does_not_reach_a_person_in_a_session() {
    use serde_json::json;
    let layers = Layers::new(
        "[defaults]\ndefault_action = \"deny\"\ntimeout = \"2s\"\n",
        "[[rules]]\nid = \"loosen\"\ntool = \"*\"\naction = \"ask\"\n",
    );
    let runtime = tempfile::tempdir().expect("runtime");
    let state = tempfile::tempdir().expect("state");
    let mut command = peta_command();
    command
        .current_dir(layers.project.path())
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("XDG_STATE_HOME", state.path())
        .args(["run", "--config"])
        .arg(layers.user_config())
        .args(["--", crate::support::peta(), "demo-server"]);
    // SAFETY: setsid is async-signal-safe; no terminal, so a question goes to the console.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            libc::setsid();
            Ok(())
        });
    }
    let mut s = crate::support::Session::start_with(&mut command);
    s.initialize();
    s.send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "x"}}}));
    let reply = s.response(json!(1));
    let text = reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        text.starts_with("peta's policy denies tools/call echo (rule `default`"),
        "{reply}"
    );
    s.close_stdin();
    s.wait(std::time::Duration::from_secs(10));
}

/// `peta policy test` reads a path as the named server would: against the directories on
/// its configured command line, through symlinks, and says which reading matched.
#[test]
fn policy_test_explains_a_lenient_path_match() {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().canonicalize().expect("canonical").join("root");
    std::fs::create_dir_all(root.join("secret")).expect("mkdir");
    std::os::unix::fs::symlink(root.join("secret"), root.join("link")).expect("link");
    let file = config(
        &dir,
        &format!(
            "[servers.fs]\ncommand = [\"node\", \"server.js\", \"{r}\"]\n[[rules]]\nid = \"no-secrets\"\naction = \"deny\"\nargs = {{ \"/path\" = {{ path = \"{r}/secret/**\" }} }}\n",
            r = root.display()
        ),
    );
    let run = policy_test(
        Some(&file),
        &["fs", "read_text_file", r#"{"path": "link/key.txt"}"#],
    );
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with(&format!(
            "deny\nrule `no-secrets` matched: tool \"*\", /path path \"{r}/secret/**\": got \"link/key.txt\", which a lenient server may read as \"{r}/secret/key.txt\" (symlinks followed)\n",
            r = root.display()
        )),
        "{}",
        run.stdout
    );
}
