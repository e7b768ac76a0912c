//! The relay through the real binary: byte-exactness against a recording server, both
//! protocol eras, server→client requests, and refusals.

use serde_json::json;

use crate::support::{Session, fixture, python};

fn recording_session(dir: &std::path::Path) -> Session {
    let received = dir.join("received");
    let sent = dir.join("sent");
    Session::start([
        "run".as_ref(),
        // The journals are written from inside the box.
        "--sandbox-write".as_ref(),
        dir.as_os_str(),
        "--".as_ref(),
        python().as_ref(),
        fixture("record_server.py").as_os_str(),
        received.as_os_str(),
        sent.as_os_str(),
    ])
}

/// A varied corpus of client messages, all of which must reach the server untouched.
fn corpus() -> Vec<Vec<u8>> {
    let lines: Vec<&[u8]> = vec![
        br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"x-vendor":{"deep":{"er":[1,{"a":null}]}}},"clientInfo":{"name":"c","version":"1"}}}"#,
        br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"big":9007199254740993,"bigger":123456789012345678901234567890,"f":1.0e2,"neg":-0,"tiny":1e-320}}}"#,
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"u\":\"h\u{e9}llo \u{2713} \u{1F680} \u{2028} \u{202E}rtl\",\"esc\":\"\\u00e9\\ud83d\\ude80\\n\\t\\\"\\\\\\/\"}}}".as_bytes(),
        br#"{"jsonrpc":"2.0","id":"s-4","method":"tools/call","params":{"name":"echo","arguments":{},"_meta":{"progressToken":"p4","io.modelcontextprotocol/protocolVersion":"2026-07-28","nested":{"a":{"b":{"c":[]}}}}},"x-unknown-top":{"k":1}}"#,
        br#"  {"method":"vendor/thing","params":{"z":1,"a":2},"id":5,"jsonrpc":"2.0"}  "#,
        br#"{"jsonrpc":"2.0","id":6,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
        br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"x","progress":0.5}}"#,
    ];
    let mut out: Vec<Vec<u8>> = lines
        .into_iter()
        .map(|l| {
            let mut v = l.to_vec();
            v.push(b'\n');
            v
        })
        .collect();
    out.push(b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\r\n".to_vec());
    out
}

#[test]
fn what_the_server_receives_is_what_the_client_sent_and_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = recording_session(dir.path());
    let mut sent = Vec::new();
    let mut got = Vec::new();
    for line in corpus() {
        s.send(&line);
        sent.extend_from_slice(&line);
        if line.windows(4).any(|w| w == b"\"id\"") {
            got.extend(s.recv_raw());
        }
    }
    s.close_stdin();
    let status = s.wait(std::time::Duration::from_secs(10));
    assert!(status.success(), "{status:?}: {}", s.stderr());
    let received = std::fs::read(dir.path().join("received")).expect("journal");
    assert_eq!(
        String::from_utf8_lossy(&received),
        String::from_utf8_lossy(&sent)
    );
    assert_eq!(received, sent, "byte for byte");
    let server_sent = std::fs::read(dir.path().join("sent")).expect("journal");
    assert_eq!(
        got, server_sent,
        "the client received the server's bytes unchanged"
    );
}

#[test]
fn refused_messages_never_reach_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = recording_session(dir.path());
    let bad: Vec<&[u8]> = vec![
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"delete_file"}}"#,
        br#"[{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_file"}}]"#,
        br#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"delete_file"}}"#,
        br#"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"delete_file"}}"#,
        br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"x"}}{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"delete_file"}}"#,
        b"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"\xff\"}}",
        br#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"x","arguments":{"s":"\ud800"}}}"#,
        br#"{"jsonrpc":"2.0","id":7,"method":"TOOLS/CALL","params":{"name":"delete_file"}}"#,
        br#"{"jsonrpc":"2.0","id":8,"method":"tools/call","Params":{"name":"delete_file"},"params":{"name":"echo"}}"#,
        br#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"delete_file"},"result":{}}"#,
    ];
    for line in &bad {
        let mut l = line.to_vec();
        l.push(b'\n');
        s.send(&l);
        let reply = s.recv();
        assert!(reply["error"]["code"].is_i64(), "{reply}");
        assert!(
            reply["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("peta: ")),
            "{reply}"
        );
    }
    s.send(b"{\"jsonrpc\":\"2.0\",\"id\":100,\"method\":\"ping\"}\n");
    assert_eq!(s.response(json!(100))["result"], json!({"echo": {}}));
    s.close_stdin();
    s.wait(std::time::Duration::from_secs(10));
    let received = std::fs::read_to_string(dir.path().join("received")).expect("journal");
    assert_eq!(
        received, "{\"jsonrpc\":\"2.0\",\"id\":100,\"method\":\"ping\"}\n",
        "only the valid ping reached the server"
    );
    let log = s.stderr();
    assert_eq!(
        log.matches("refused a message from the client").count(),
        bad.len(),
        "{log}"
    );
}

#[test]
fn input_required_retries_and_server_requests_pass_both_ways() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = recording_session(dir.path());
    // 2026-07-28: no initialize; the call comes back input_required; the retry carries
    // inputResponses and the opaque requestState under a new id.
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}});
    s.send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "needs_input", "arguments": {}, "_meta": meta}}));
    let first = s.response(json!(1));
    assert_eq!(first["result"]["resultType"], "input_required");
    let retry = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "needs_input", "arguments": {}, "_meta": meta,
        "inputResponses": {"confirm": {"action": "accept", "content": {}}},
        "requestState": first["result"]["requestState"],
    }});
    s.send_json(&retry);
    let second = s.response(json!(2));
    assert_eq!(second["result"]["echo"]["requestState"], "opaque-state-1");
    assert_eq!(
        second["result"]["echo"]["inputResponses"]["confirm"]["action"],
        "accept"
    );

    // 2025-11-25: the server asks the client (sampling) in the middle of a tool call.
    s.send_json(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "ask_client"}}));
    let ask = s.recv();
    assert_eq!(ask["method"], "sampling/createMessage");
    s.send_json(&json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"role": "assistant", "content": {"type": "text", "text": "from the client"}}}));
    let done = s.response(json!(3));
    assert!(
        done["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("from the client")),
        "{done}"
    );
    s.close_stdin();
    assert!(s.wait(std::time::Duration::from_secs(10)).success());
}

#[test]
fn both_eras_against_the_demo_server() {
    // Legacy: the initialize handshake.
    let mut s = Session::start(["run", "--", crate::support::peta(), "demo-server"]);
    let init = s.initialize();
    assert_eq!(init["result"]["serverInfo"]["name"], "peta-demo");
    s.send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 2, "b": 3}}}));
    assert_eq!(s.response(json!(1))["result"]["content"][0]["text"], "5");
    s.close_stdin();
    assert!(s.wait(std::time::Duration::from_secs(10)).success());

    // 2026-07-28: probe with server/discover, then a stateless call.
    let mut s = Session::start(["run", "--", crate::support::peta(), "demo-server"]);
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    s.send_json(&json!({"jsonrpc": "2.0", "id": "d", "method": "server/discover", "params": {"_meta": meta}}));
    let discover = s.response(json!("d"));
    assert!(
        discover["result"]["supportedVersions"]
            .as_array()
            .is_some_and(|v| v.contains(&json!("2026-07-28"))),
        "{discover}"
    );
    s.send_json(&json!({"jsonrpc": "2.0", "id": "c", "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "modern"}, "_meta": meta}}));
    let call = s.response(json!("c"));
    assert_eq!(call["result"]["content"][0]["text"], "modern", "{call}");
    s.close_stdin();
    assert!(s.wait(std::time::Duration::from_secs(10)).success());
}

#[test]
fn progress_and_cancellation_pass_through() {
    let mut s = Session::start(["run", "--", crate::support::peta(), "demo-server"]);
    s.initialize();
    s.send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "slow", "arguments": {"seconds": 0.3}, "_meta": {"progressToken": "tok"}}}));
    let mut progress = 0;
    loop {
        let msg = s.recv();
        if msg["method"] == "notifications/progress" {
            assert_eq!(msg["params"]["progressToken"], "tok");
            progress += 1;
        } else if msg["id"] == 1 {
            break;
        }
    }
    assert_eq!(progress, 10);
    s.send_json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "slow", "arguments": {"seconds": 30}}}));
    std::thread::sleep(std::time::Duration::from_millis(200));
    s.send_json(&json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2, "reason": "test"}}));
    s.send_json(&json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}));
    let pong = s.response(json!(3));
    assert_eq!(pong["result"], json!({}));
    assert!(
        s.quiet_for(std::time::Duration::from_millis(300)),
        "no answer for the cancelled call"
    );
    s.close_stdin();
    assert!(s.wait(std::time::Duration::from_secs(10)).success());
}
