//! Argument rules against servers that read arguments leniently: a deny or ask must match
//! every reading such a server could make (DESIGN.md §11, "lenient readers decide rule
//! matching"). The official Python SDK's servers coerce with pydantic and parse JSON inside
//! strings; the reference filesystem server trims, normalises, expands `~`, resolves relative
//! paths and follows symlinks. Each test counts the calls that reached the server with a
//! value the rules deny, and prints the count.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Session, external, fixture, peta_command};

/// `peta run` of `server` under `policy`, started in `cwd` with `HOME` set to `home`.
fn session(policy: &str, server: &[&str], cwd: &Path, home: &Path) -> (tempfile::TempDir, Session) {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("peta.toml");
    std::fs::write(
        &config,
        format!(
            "{policy}\n[audit]\npath = \"{}\"\n",
            dir.path().join("audit.db").display()
        ),
    )
    .expect("config");
    let runtime = crate::support::refused_runtime_dir();
    let mut command = peta_command();
    command
        .current_dir(cwd)
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .args(["run", "--config"])
        .arg(&config)
        .arg("--")
        .args(server);
    // SAFETY: setsid is async-signal-safe; no terminal, so nothing is asked at one.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            libc::setsid();
            Ok(())
        });
    }
    let mut s = Session::start_with(&mut command);
    s.initialize();
    (dir, s)
}

fn call(s: &mut Session, id: u64, tool: &str, arguments: &Value) -> Value {
    s.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}}));
    s.response(json!(id))
}

fn text(reply: &Value) -> &str {
    reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
}

fn denied_by_policy(reply: &Value) -> bool {
    text(reply).starts_with("peta's policy denies")
}

const COERCION_POLICY: &str = r#"
[defaults]
default_action = "allow"

[[rules]]
id = "no-shadow"
tool = "read_paths"
action = "deny"
args = { "/paths/0" = { glob = "/etc/**" } }

[[rules]]
id = "no-shadow-second"
tool = "read_paths"
action = "deny"
args = { "/paths/1" = { glob = "/etc/**" } }

[[rules]]
id = "safe-mode"
tool = "configure"
action = "deny"
args = { "/settings/mode" = { eq = "unsafe" } }

[[rules]]
id = "no-etc-settings"
tool = "configure"
action = "deny"
args = { "/settings/paths/0" = { glob = "/etc/**" } }

[[rules]]
id = "no-recursive"
tool = "remove"
action = "deny"
args = { "/recursive" = { eq = true } }

[[rules]]
id = "no-open-modes"
tool = "chmod"
action = "deny"
args = { "/mode" = { one_of = [511, 777] } }
"#;

/// Sends each call; returns how many reached the server and were read as `denied(parsed)`.
fn executed(
    s: &mut Session,
    id: &mut u64,
    tool: &str,
    calls: &[Value],
    denied: &dyn Fn(&Value) -> bool,
) -> usize {
    let mut through = 0;
    for arguments in calls {
        *id += 1;
        let reply = call(s, *id, tool, arguments);
        if denied_by_policy(&reply) {
            continue;
        }
        let parsed: Value = serde_json::from_str(text(&reply)).unwrap_or(Value::Null);
        if reply["result"]["isError"] != true && denied(&parsed) {
            println!("{tool} {arguments} reached the server, which read {parsed}");
            through += 1;
        }
    }
    println!(
        "lenient: {tool} (Python SDK): {} inputs tried, {through} bypasses",
        calls.len()
    );
    through
}

#[test]
fn coerced_spellings_of_a_denied_value_are_denied_for_the_python_sdk() {
    let Some(python) = external("PETA_E2E_PYTHON") else {
        return;
    };
    let here = tempfile::tempdir().expect("cwd");
    let server = fixture("lenient_server.py");
    let (_dir, mut s) = session(
        COERCION_POLICY,
        &[&python, server.to_str().expect("path")],
        here.path(),
        here.path(),
    );
    let mut id = 0;
    let shadow = json!("/etc/shadow");
    let json_strings = executed(
        &mut s,
        &mut id,
        "read_paths",
        &[
            json!({"paths": "[\"/etc/shadow\"]"}),
            json!({"paths": " [ \"/tmp/x\", \"/etc/shadow\" ] "}),
        ],
        &|p| p["paths"].as_array().is_some_and(|a| a.contains(&shadow)),
    ) + executed(
        &mut s,
        &mut id,
        "configure",
        &[
            json!({"settings": "{\"mode\": \"unsafe\"}"}),
            json!({"settings": "{\"paths\": [\"/etc/shadow\"]}"}),
        ],
        &|p| {
            p["settings"]["mode"] == "unsafe"
                || p["settings"]["paths"]
                    .as_array()
                    .is_some_and(|a| a.contains(&shadow))
        },
    );
    let booleans = executed(
        &mut s,
        &mut id,
        "remove",
        &["true", "True", "yes", "on", "1", "t", "y"]
            .map(|v| json!({"path": "/srv/x", "recursive": v}))
            .into_iter()
            .chain([
                json!({"path": "/srv/x", "recursive": 1}),
                json!({"path": "/srv/x", "recursive": 1.0}),
            ])
            .collect::<Vec<_>>(),
        &|p| p["recursive"] == true,
    );
    let modes = executed(
        &mut s,
        &mut id,
        "chmod",
        &[
            json!("511"),
            json!("0511"),
            json!("511.0"),
            json!(511.0),
            json!("+777"),
            json!(" 777 "),
            json!("7_77"),
            json!("0o777"),
        ]
        .map(|mode| json!({"path": "/srv/x", "mode": mode})),
        &|p| p["mode"] == 511 || p["mode"] == 777,
    );
    // The exact values are denied, and other values pass.
    for (tool, arguments) in [
        ("read_paths", json!({"paths": ["/etc/shadow"]})),
        ("remove", json!({"path": "/srv/x", "recursive": true})),
        ("chmod", json!({"path": "/srv/x", "mode": 511})),
    ] {
        id += 1;
        assert!(
            denied_by_policy(&call(&mut s, id, tool, &arguments)),
            "{tool} {arguments}"
        );
    }
    for (tool, arguments) in [
        ("read_paths", json!({"paths": "[\"/tmp/x\"]"})),
        ("remove", json!({"path": "/srv/x", "recursive": false})),
        ("chmod", json!({"path": "/srv/x", "mode": "0644"})),
    ] {
        id += 1;
        let reply = call(&mut s, id, tool, &arguments);
        assert!(!denied_by_policy(&reply), "{tool} {arguments}: {reply}");
    }
    s.close_stdin();
    s.wait(Duration::from_secs(10));
    assert_eq!(
        (json_strings, booleans, modes),
        (0, 0, 0),
        "calls executed with a denied value: JSON inside strings, booleans, modes"
    );
}

/// The README's rule shape (a glob over a protected tree) and the example configuration's
/// parent-directory regex, against the real server-filesystem.
#[test]
fn path_spellings_of_a_protected_file_are_denied_for_server_filesystem() {
    let Some(filesystem) = external("PETA_E2E_FILESYSTEM") else {
        return;
    };
    // Outside /tmp: the box gives the server a /tmp of its own.
    let root = crate::support::visible_tempdir();
    let root = root.path().canonicalize().expect("canonical root");
    std::fs::create_dir_all(root.join("secret")).expect("secret dir");
    std::fs::create_dir_all(root.join("public")).expect("public dir");
    std::fs::write(root.join("secret/key.txt"), "TOP-SECRET-KEY").expect("secret");
    std::fs::write(root.join("public/readme.txt"), "hello").expect("public");
    std::os::unix::fs::symlink(root.join("secret"), root.join("link")).expect("dir link");
    std::os::unix::fs::symlink(root.join("secret/key.txt"), root.join("keylink.txt"))
        .expect("file link");
    let r = root.display().to_string();
    let name = root
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let policy = format!(
        r#"
[defaults]
default_action = "allow"

[[rules]]
id = "no-secrets"
tool = "read_*"
action = "deny"
args = {{ "/path" = {{ glob = "{r}/secret/**" }} }}

[[rules]]
id = "no-parent-dirs"
tool = "read_*"
action = "deny"
args = {{ "/path" = {{ regex = '(^|/)\.\.(/|$)' }} }}
"#
    );
    // Started elsewhere: the server reads relative paths against the directory it was
    // given, which peta must see too.
    let elsewhere = crate::support::visible_tempdir();
    let (_dir, mut s) = session(&policy, &["node", &filesystem, &r], elsewhere.path(), &root);
    let variants = [
        format!("{r}/secret/key.txt"),
        format!("{r}//secret/key.txt"),
        format!("{r}/./secret/key.txt"),
        format!("{r}/secret//key.txt"),
        format!("{r}/secret/./key.txt"),
        format!("/{r}/secret/key.txt"),
        format!("{r}/public/../secret/key.txt"),
        format!("{r}/secret/../secret/key.txt"),
        format!("{r}/link/key.txt"),
        format!("{r}/link//key.txt"),
        format!("{r}/keylink.txt"),
        "~/secret/key.txt".into(),
        "~//secret/key.txt".into(),
        "~/./secret/key.txt".into(),
        "secret/key.txt".into(),
        "./secret/key.txt".into(),
        "secret//key.txt".into(),
        "link/key.txt".into(),
        "keylink.txt".into(),
        format!("../{name}/secret/key.txt"),
    ];
    let mut read = 0;
    for (i, path) in variants.iter().enumerate() {
        let reply = call(
            &mut s,
            i as u64 + 1,
            "read_text_file",
            &json!({"path": path}),
        );
        if text(&reply).contains("TOP-SECRET-KEY") {
            println!("read the protected file with {path:?}");
            read += 1;
        }
    }
    println!(
        "lenient: paths (server-filesystem): {} inputs tried, {read} bypasses",
        variants.len()
    );
    // The public file is still readable, by every spelling.
    for (i, path) in [
        format!("{r}/public/readme.txt"),
        "public//readme.txt".into(),
        "~/public/readme.txt".into(),
    ]
    .iter()
    .enumerate()
    {
        let reply = call(
            &mut s,
            100 + i as u64,
            "read_text_file",
            &json!({"path": path}),
        );
        assert_eq!(text(&reply), "hello", "{path}: {reply}");
    }
    s.close_stdin();
    s.wait(Duration::from_secs(10));
    assert_eq!(read, 0, "variants that read the protected file");
}
