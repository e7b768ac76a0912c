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
