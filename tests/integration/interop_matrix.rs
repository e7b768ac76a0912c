//! The interop matrix: both official MCP client SDKs — Python (PyPI `mcp`, driving
//! `tests/fixtures/mcp_client.py --scenario plan`) and TypeScript (npm
//! `@modelcontextprotocol/sdk`, driving `tests/fixtures/mcp_client.mjs`) — run the same plan
//! against five reference servers (npm server-everything, server-filesystem, server-memory;
//! PyPI mcp-server-time, mcp-server-git), once directly and once through `peta run`. The
//! two reports of one client must be identical: the initialize result, every tool
//! definition, and every result or error of the plan.
//!
//! Only values that change from one run to the next are normalised, each named where it
//! is done. Server state is rebuilt before every run, so both runs start from the same files.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::support::{external, fixture, peta, state_home};

#[derive(Clone, Copy, Debug)]
enum Sdk {
    Python,
    TypeScript,
}

impl fmt::Display for Sdk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sdk::Python => "python",
            Sdk::TypeScript => "typescript",
        })
    }
}

/// One SDK client fixture and how to start it.
struct Client {
    sdk: Sdk,
    argv: Vec<String>,
}

impl Client {
    fn python() -> Option<Client> {
        let python = external("PETA_E2E_PYTHON")?;
        Some(Client {
            sdk: Sdk::Python,
            argv: vec![
                python,
                path_str(&fixture("mcp_client.py")),
                "--scenario".into(),
                "plan".into(),
            ],
        })
    }

    fn typescript() -> Option<Client> {
        let sdk = external("PETA_E2E_TS_SDK")?;
        Some(Client {
            sdk: Sdk::TypeScript,
            argv: vec![
                "node".into(),
                path_str(&fixture("mcp_client.mjs")),
                "--sdk".into(),
                sdk,
            ],
        })
    }

    /// Runs `plan` against `server` and returns the client's JSON report.
    #[track_caller]
    fn report(&self, plan: &Value, server: &[String], env: &[(String, String)]) -> Value {
        let out = Command::new(&self.argv[0])
            .args(&self.argv[1..])
            .arg("--plan")
            .arg(plan.to_string())
            .arg("--")
            .args(server)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("PETA_LOG", "warn")
            .env("XDG_STATE_HOME", state_home())
            .env("XDG_CONFIG_HOME", state_home())
            .env_remove("PETA_CONFIG")
            .output()
            .expect("run the SDK client");
        assert!(
            out.status.success(),
            "{} client against {server:?} failed: {}\n{}",
            self.sdk,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("the client prints one JSON report")
    }
}

fn path_str(path: &Path) -> String {
    path.to_str().expect("UTF-8 path").to_owned()
}

/// One server of the matrix.
struct Server {
    /// Also the `--server` name peta runs it under (with the client's SDK appended).
    name: &'static str,
    command: Vec<String>,
    /// Environment the server needs: inherited from the client when run directly, given
    /// with `--env` through peta (peta builds the child's environment, it does not inherit).
    env: Vec<(String, String)>,
    /// What the server writes: through peta, its box lets it write there and nowhere else.
    write: Vec<String>,
    plan: Value,
    /// Rebuilds the server's files, so each run starts from the same state.
    reset: Box<dyn Fn()>,
    /// Replaces the values that differ between any two runs of this server.
    normalise: fn(&mut Value),
    /// Text that must appear in the report: proof the calls did their work.
    expect: Vec<&'static str>,
}

/// Runs `server`'s plan with every installed client, directly and through peta, and
/// asserts that each client got the same report both ways.
#[track_caller]
fn check(server: Server) {
    let clients: Vec<Client> = [Client::python(), Client::typescript()]
        .into_iter()
        .flatten()
        .collect();
    for client in clients {
        (server.reset)();
        let mut direct = client.report(&server.plan, &server.command, &server.env);
        (server.reset)();
        let name = format!("interop-{}-{}", server.name, client.sdk);
        // Confined, or not at all: a box that cannot be set up fails the run.
        let mut through_peta = vec![
            peta().to_owned(),
            "run".into(),
            "--server".into(),
            name,
            "--sandbox".into(),
            "required".into(),
        ];
        for (k, v) in &server.env {
            through_peta.extend(["--env".into(), format!("{k}={v}")]);
        }
        for path in &server.write {
            through_peta.extend(["--sandbox-write".into(), path.clone()]);
        }
        through_peta.push("--".into());
        through_peta.extend(server.command.iter().cloned());
        let before = calls_in_audit(&format!("interop-{}-{}", server.name, client.sdk));
        let mut proxied = client.report(&server.plan, &through_peta, &[]);
        let after = calls_in_audit(&format!("interop-{}-{}", server.name, client.sdk));

        (server.normalise)(&mut direct);
        (server.normalise)(&mut proxied);
        if let Some(diff) = first_difference(&direct, &proxied, String::new()) {
            panic!(
                "{} client, {}: the report through peta differs from the direct one at {diff}",
                client.sdk, server.name
            );
        }
        let text = proxied.to_string();
        for needle in &server.expect {
            assert!(
                text.contains(needle),
                "{} client, {}: {needle:?} missing from {text}",
                client.sdk,
                server.name
            );
        }
        // The proxied run went through peta's gate: each planned call has its audit row.
        let planned = server
            .plan
            .as_array()
            .expect("plan")
            .iter()
            .filter(|s| s["op"] == "tools/call")
            .count();
        assert_eq!(
            after - before,
            planned,
            "{} client, {}: allowed tools/call rows in the audit log",
            client.sdk,
            server.name
        );
    }
}

/// Where two reports first differ: the JSON path and both values.
fn first_difference(direct: &Value, proxied: &Value, path: String) -> Option<String> {
    match (direct, proxied) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<_> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|k| {
                let at = format!("{path}/{k}");
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => first_difference(x, y, at),
                    (x, y) => Some(format!("{at}:\ndirect:  {x:?}\nthrough: {y:?}")),
                }
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, format!("{path}/{i}"))),
        _ if direct == proxied => None,
        _ => Some(format!("{path}:\ndirect:  {direct}\nthrough: {proxied}")),
    }
}

/// Allowed client→server `tools/call` rows of one server name in the test run's audit log.
fn calls_in_audit(server: &str) -> usize {
    let out = crate::support::peta_command()
        .args(["audit", "export", "--format", "jsonl", "--server", server])
        .output()
        .expect("peta audit export");
    if !out.status.success() {
        // No audit log yet: nothing has been recorded.
        return 0;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|row| {
            row["method"] == "tools/call" && row["direction"] == "c2s" && row["decision"] == "allow"
        })
        .count()
}

/// Applies `f` to every string in `value`.
fn map_strings(value: &mut Value, f: &dyn Fn(&str) -> String) {
    match value {
        Value::String(s) => *s = f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| map_strings(v, f)),
        Value::Object(map) => map.values_mut().for_each(|v| map_strings(v, f)),
        _ => {}
    }
}

fn replace_all(pattern: &str, with: &str) -> impl Fn(&str) -> String {
    let re = regex::Regex::new(pattern).expect("pattern");
    let with = with.to_owned();
    move |s: &str| re.replace_all(s, with.as_str()).into_owned()
}

fn tool_call(name: &str, arguments: Value) -> Value {
    json!({"op": "tools/call", "name": name, "arguments": arguments})
}

/// A fresh directory for one test's server state, removed at the end of the test run.
fn scratch(name: &str) -> PathBuf {
    let dir = state_home().join("interop").join(name);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn rebuild(dir: &Path, files: &[(&str, &str)]) {
    let _ = std::fs::remove_dir_all(dir);
    for (path, content) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, content).expect("file");
    }
}

#[test]
fn interop_matrix_server_everything() {
    let Some(everything) = external("PETA_E2E_EVERYTHING") else {
        return;
    };
    check(Server {
        name: "everything",
        command: vec!["node".into(), everything, "stdio".into()],
        env: vec![],
        write: vec![],
        plan: json!([
            tool_call("echo", json!({"message": "héllo ✓ 🚀"})),
            tool_call("get-sum", json!({"a": 2, "b": 3})),
            tool_call("get-tiny-image", json!({})),
            tool_call("get-annotated-message", json!({"messageType": "error", "includeImage": true})),
            tool_call("get-structured-content", json!({"location": "Chicago"})),
            tool_call("get-resource-links", json!({"count": 2})),
            tool_call("get-resource-reference", json!({"resourceType": "Text", "resourceId": 2})),
            tool_call("no-such-tool", json!({})),
            {"op": "resources/list"},
            {"op": "resources/templates/list"},
            {"op": "resources/read", "uri": "demo://resource/static/document/features.md"},
            {"op": "resources/read", "uri": "demo://resource/dynamic/text/1"},
            {"op": "prompts/list"},
            {"op": "prompts/get", "name": "simple-prompt"},
            {"op": "prompts/get", "name": "args-prompt", "arguments": {"city": "Kraków", "state": "MP"}},
        ]),
        reset: Box::new(|| {}),
        // Dynamic text resources say when the server made them ("created at 5:26:43 AM").
        normalise: |report| {
            map_strings(
                report,
                &replace_all(r"\d{1,2}:\d{2}:\d{2}\s?(AM|PM)", "<time of day>"),
            )
        },
        expect: vec![
            "Echo: héllo ✓ 🚀",
            "The sum of 2 and 3 is 5.",
            "Chicago",
            "Kraków",
        ],
    });
}

#[test]
fn interop_matrix_server_filesystem() {
    let Some(filesystem) = external("PETA_E2E_FILESYSTEM") else {
        return;
    };
    let dir = scratch("filesystem");
    let root = dir.join("root");
    let r = |p: &str| path_str(&root.join(p));
    let reset_root = root.clone();
    check(Server {
        name: "filesystem",
        command: vec!["node".into(), filesystem, r("")],
        env: vec![],
        write: vec![r("")],
        plan: json!([
            tool_call("list_allowed_directories", json!({})),
            tool_call("list_directory", json!({"path": r("")})),
            tool_call("directory_tree", json!({"path": r("")})),
            tool_call("read_text_file", json!({"path": r("notes.txt")})),
            tool_call("read_text_file", json!({"path": r("notes.txt"), "head": 2})),
            tool_call(
                "read_multiple_files",
                json!({"paths": [r("notes.txt"), r("docs/a.md")]})
            ),
            tool_call(
                "write_file",
                json!({"path": r("new.txt"), "content": "written through ✓\n"})
            ),
            tool_call(
                "edit_file",
                json!({"path": r("notes.txt"), "edits": [{"oldText": "beta", "newText": "BETA"}], "dryRun": true})
            ),
            tool_call("search_files", json!({"path": r(""), "pattern": "**/*.md"})),
            tool_call("get_file_info", json!({"path": r("docs/a.md")})),
            tool_call(
                "list_directory_with_sizes",
                json!({"path": r(""), "sortBy": "size"})
            ),
            tool_call("read_text_file", json!({"path": "/etc/hostname"})),
        ]),
        reset: Box::new(move || {
            rebuild(
                &reset_root,
                &[
                    ("notes.txt", "alpha\nbeta\ngamma\n"),
                    ("docs/a.md", "# A ✓\n"),
                    ("docs/b.md", "# B\n"),
                ],
            )
        }),
        // get_file_info reports the file's times, and the tree is rebuilt for each run.
        normalise: |report| {
            map_strings(
                report,
                &replace_all(r"(?m)^(created|modified|accessed): .*$", "$1: <time>"),
            )
        },
        expect: vec!["gamma", "+BETA", "written through", "docs/b.md", "# A ✓"],
    });
}

#[test]
fn interop_matrix_server_memory() {
    let Some(memory) = external("PETA_E2E_MEMORY") else {
        return;
    };
    let file = scratch("memory").join("memory.jsonl");
    let reset_file = file.clone();
    check(Server {
        name: "memory",
        command: vec!["node".into(), memory],
        env: vec![("MEMORY_FILE_PATH".into(), path_str(&file))],
        write: vec![path_str(file.parent().expect("dir"))],
        plan: json!([
            tool_call("create_entities", json!({"entities": [
                {"name": "peta", "entityType": "project", "observations": ["a proxy", "written in Rust"]},
                {"name": "Ada", "entityType": "person", "observations": ["reviews code ✓"]},
            ]})),
            tool_call("create_relations", json!({"relations": [{"from": "Ada", "to": "peta", "relationType": "reviews"}]})),
            tool_call("add_observations", json!({"observations": [{"entityName": "peta", "contents": ["audits every call"]}]})),
            tool_call("search_nodes", json!({"query": "Rust"})),
            tool_call("open_nodes", json!({"names": ["Ada"]})),
            tool_call("read_graph", json!({})),
            tool_call("delete_observations", json!({"deletions": [{"entityName": "peta", "observations": ["a proxy"]}]})),
            tool_call("delete_relations", json!({"relations": [{"from": "Ada", "to": "peta", "relationType": "reviews"}]})),
            tool_call("delete_entities", json!({"entityNames": ["Ada"]})),
            tool_call("read_graph", json!({})),
            {"op": "resources/list"},
        ]),
        reset: Box::new(move || {
            let _ = std::fs::remove_file(&reset_file);
        }),
        // Nothing in a memory graph depends on the time or on chance.
        normalise: |_| {},
        expect: vec!["audits every call", "reviews code ✓", "reviews"],
    });
}

#[test]
fn interop_matrix_mcp_server_time() {
    let Some(time) = external("PETA_E2E_TIME") else {
        return;
    };
    check(Server {
        name: "time",
        command: vec![time, "--local-timezone".into(), "UTC".into()],
        env: vec![],
        write: vec![],
        plan: json!([
            tool_call("get_current_time", json!({"timezone": "Europe/Warsaw"})),
            tool_call("convert_time", json!({"source_timezone": "UTC", "time": "14:30", "target_timezone": "Asia/Tokyo"})),
            tool_call("convert_time", json!({"source_timezone": "UTC", "time": "25:99", "target_timezone": "Asia/Tokyo"})),
            tool_call("get_current_time", json!({"timezone": "Not/AZone"})),
            {"op": "prompts/list"},
            {"op": "resources/list"},
        ]),
        reset: Box::new(|| {}),
        // get_current_time is the clock itself; convert_time dates its answer today.
        normalise: |report| {
            for step in report["steps"].as_array_mut().expect("steps") {
                if step["step"]["name"] == "get_current_time" {
                    map_strings(
                        step,
                        &replace_all(r"T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2})", "T<now>$1"),
                    );
                }
            }
            map_strings(report, &replace_all(r"\d{4}-\d{2}-\d{2}T", "<today>T"));
        },
        expect: vec!["Europe/Warsaw", "23:30", "+9.0h"],
    });
}

#[test]
fn interop_matrix_mcp_server_git() {
    let Some(git_server) = external("PETA_E2E_GIT") else {
        return;
    };
    let repo = scratch("git").join("repo");
    let repo_s = path_str(&repo);
    // Fixed identities and dates make commit hashes the same in every run, including the
    // commit the server itself makes (GitPython reads the same variables).
    let git_env: Vec<(String, String)> = [
        ("GIT_AUTHOR_NAME", "Peta Tester"),
        ("GIT_AUTHOR_EMAIL", "tester@example.com"),
        ("GIT_COMMITTER_NAME", "Peta Tester"),
        ("GIT_COMMITTER_EMAIL", "tester@example.com"),
        ("GIT_AUTHOR_DATE", "1767323045 +0000"),
        ("GIT_COMMITTER_DATE", "1767323045 +0000"),
        ("GIT_CONFIG_GLOBAL", "/dev/null"),
        ("GIT_CONFIG_NOSYSTEM", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let setup_env = git_env.clone();
    let reset_repo = repo.clone();
    let reset = move || {
        rebuild(
            &reset_repo,
            &[("README.md", "# repo\n"), ("src/lib.rs", "fn a() {}\n")],
        );
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .args(args)
                .current_dir(&reset_repo)
                .envs(setup_env.iter().map(|(k, v)| (k, v)))
                .output()
                .expect("git");
            assert!(out.status.success(), "git {args:?}: {out:?}");
        };
        git(&["init", "-q", "-b", "main"]);
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "first"]);
        std::fs::write(reset_repo.join("src/lib.rs"), "fn a() {}\nfn b() {}\n").expect("edit");
        git(&["commit", "-q", "-am", "second ✓"]);
        std::fs::write(reset_repo.join("README.md"), "# repo\n\nchanged\n").expect("edit");
        std::fs::write(reset_repo.join("new.txt"), "new\n").expect("new");
    };
    check(Server {
        name: "git",
        command: vec![git_server, "--repository".into(), repo_s.clone()],
        env: git_env,
        write: vec![repo_s.clone()],
        plan: json!([
            tool_call("git_status", json!({"repo_path": repo_s})),
            tool_call("git_diff_unstaged", json!({"repo_path": repo_s})),
            tool_call("git_add", json!({"repo_path": repo_s, "files": ["new.txt"]})),
            tool_call("git_diff_staged", json!({"repo_path": repo_s})),
            tool_call("git_commit", json!({"repo_path": repo_s, "message": "third"})),
            tool_call("git_log", json!({"repo_path": repo_s, "max_count": 5})),
            tool_call("git_show", json!({"repo_path": repo_s, "revision": "HEAD~1"})),
            tool_call("git_diff", json!({"repo_path": repo_s, "target": "HEAD~2"})),
            tool_call("git_create_branch", json!({"repo_path": repo_s, "branch_name": "feature"})),
            tool_call("git_checkout", json!({"repo_path": repo_s, "branch_name": "feature"})),
            tool_call("git_branch", json!({"repo_path": repo_s, "branch_type": "local"})),
            tool_call("git_show", json!({"repo_path": repo_s, "revision": "no-such-rev"})),
            {"op": "prompts/list"},
        ]),
        reset: Box::new(reset),
        // Identities and dates are fixed above, so nothing varies between runs.
        normalise: |_| {},
        expect: vec![
            "second ✓",
            "+fn b() {}",
            "+changed",
            "Changes committed successfully",
            "feature",
        ],
    });
}
