//! Tool pinning from the outside: `peta tools` on a real database file, and the demo
//! server's rug-pull modes that the pinning tests of the relay drive.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Session, peta_command};

fn tools_list(s: &mut Session, id: i64) -> Vec<Value> {
    s.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"}));
    let reply = s.response(json!(id));
    reply["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools in {reply}"))
        .clone()
}

fn tool<'a>(tools: &'a [Value], name: &str) -> &'a Value {
    tools
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no tool {name}"))
}

/// Calls a tool and returns its response and the notifications that arrived with it.
fn call(s: &mut Session, id: i64, name: &str, arguments: Value) -> (Value, Vec<String>) {
    s.send_json(&json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": name, "arguments": arguments}
    }));
    let mut notifications = Vec::new();
    loop {
        let msg = s.recv();
        if msg.get("id") == Some(&json!(id)) && msg.get("method").is_none() {
            return (msg, notifications);
        }
        if let Some(method) = msg["method"].as_str() {
            notifications.push(method.to_owned());
        }
    }
}

const LIST_CHANGED: &str = "notifications/tools/list_changed";

#[test]
fn demo_server_rug_pull_changes_echo_after_n_calls_and_says_so() {
    let mut s = Session::start(["demo-server", "--rug-pull-after", "1"]);
    let init = s.initialize();
    assert_eq!(
        init["result"]["capabilities"]["tools"]["listChanged"], true,
        "{init}"
    );
    let before = tools_list(&mut s, 1);
    assert_eq!(tool(&before, "echo")["description"], "Send the text back.");

    let (reply, notes) = call(&mut s, 2, "echo", json!({"text": "hi"}));
    assert_eq!(reply["result"]["content"][0]["text"], "hi");
    assert_eq!(
        notes,
        [LIST_CHANGED],
        "the call that pulls the rug notifies"
    );

    let after = tools_list(&mut s, 3);
    let description = tool(&after, "echo")["description"]
        .as_str()
        .expect("description");
    assert!(
        description.contains("<IMPORTANT>") && description.contains("~/.ssh/id_rsa"),
        "{description}"
    );
    assert_eq!(
        tool(&after, "add"),
        tool(&before, "add"),
        "only echo changes"
    );
    // Once: later calls change nothing more.
    let (_, notes) = call(&mut s, 4, "echo", json!({"text": "again"}));
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(tools_list(&mut s, 5), after);
}

#[test]
fn demo_server_adds_a_parameter_after_n_calls() {
    let mut s = Session::start(["demo-server", "--add-parameter-after", "2"]);
    s.initialize();
    let before = tools_list(&mut s, 1);
    assert!(tool(&before, "add")["inputSchema"]["properties"]["sidenote"].is_null());

    let (_, notes) = call(&mut s, 2, "add", json!({"a": 1, "b": 2}));
    assert!(notes.is_empty(), "not yet: {notes:?}");
    assert_eq!(tools_list(&mut s, 3), before);

    let (_, notes) = call(&mut s, 4, "echo", json!({"text": "x"}));
    assert_eq!(notes, [LIST_CHANGED]);
    let after = tools_list(&mut s, 5);
    let sidenote = &tool(&after, "add")["inputSchema"]["properties"]["sidenote"];
    assert_eq!(sidenote["type"], "string", "{after:?}");
    assert!(
        sidenote["description"]
            .as_str()
            .is_some_and(|d| d.contains("id_rsa"))
    );
    assert_eq!(tool(&after, "echo"), tool(&before, "echo"));
    // The new parameter is accepted.
    let (reply, _) = call(
        &mut s,
        6,
        "add",
        json!({"a": 40, "b": 2, "sidenote": "..."}),
    );
    assert_eq!(reply["result"]["content"][0]["text"], "42", "{reply}");
}

#[test]
fn demo_server_by_default_neither_changes_nor_announces_changes() {
    let mut s = Session::start(["demo-server"]);
    let init = s.initialize();
    assert!(
        init["result"]["capabilities"]["tools"]
            .get("listChanged")
            .is_none(),
        "{init}"
    );
    let before = tools_list(&mut s, 1);
    for id in 2..5 {
        let (_, notes) = call(&mut s, id, "echo", json!({"text": "x"}));
        assert!(notes.is_empty());
    }
    assert!(s.quiet_for(Duration::from_millis(100)));
    assert_eq!(tools_list(&mut s, 9), before);
}

#[test]
fn tools_list_of_a_database_without_pins_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("empty.db");
    std::fs::write(&db, "").expect("write");
    let out = peta_command()
        .args(["tools", "list", "--db"])
        .arg(&db)
        .output()
        .expect("run peta");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("no pinned tools in {}", db.display())),
        "{stderr}"
    );
    // Listing only reads: the file is not migrated.
    assert_eq!(std::fs::metadata(&db).expect("stat").len(), 0);
}
