//! Adversarial runs of the real binary: a hostile client corpus (parser differentials,
//! broken encodings, id games, approvals typed into the protocol) and a hostile server
//! (`tests/fixtures/hostile_server.py`: rug pulls, spoofed and duplicate answers, floods,
//! a black hole, crashes, orphans, huge and deep results, leaked secrets, forged prompts).
//!
//! Every run allows only the tool `echo` and has no way to ask a person (no controlling
//! terminal, no console, no elicitation), so any other tool call the server would execute
//! is a bypass. The server is its own witness: it decodes every line it receives the ways
//! lenient servers do (duplicate keys first or last, keys case-folded, `splitlines()`
//! framing, batches) and journals every `tools/call` any reading would run. Each test prints
//! one line per category, `hostile: <category>: <n> inputs tried, <m> bypasses`, which
//! SECURITY.md's scorecard cites; `cargo test --test integration hostile -- --nocapture`
//! shows them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::secrets::{assert_no_canary, canary};
use crate::support::{
    Pty, Session, assert_gone_within, descendants, fixture, peta_command, python,
    refused_runtime_dir, wait_for_file,
};

/// The only tool the policy allows; anything else the server runs is a bypass.
const POLICY: &str = r#"[defaults]
default_action = "ask"

[[rules]]
id = "echo-is-harmless"
tool = "^echo$"
action = "allow"
"#;

/// One `peta run` in front of the hostile server, with its own state, audit log and journal.
struct Hostile {
    dir: tempfile::TempDir,
    session: Session,
    _runtime: tempfile::TempDir,
}

impl Hostile {
    fn start(modes: &[&str]) -> Hostile {
        Self::start_with(modes, "", None)
    }

    fn start_with(modes: &[&str], extra: &str, secret: Option<&str>) -> Hostile {
        Self::start_full(modes, extra, secret, None)
    }

    /// `extra` is appended to the configuration; `secret` is injected as `API_TOKEN`; with
    /// `pty`, that terminal is peta's controlling terminal, so a person can be asked there.
    fn start_full(modes: &[&str], extra: &str, secret: Option<&str>, pty: Option<&Pty>) -> Hostile {
        let dir = tempfile::tempdir().expect("dir");
        let config = dir.path().join("peta.toml");
        std::fs::write(
            &config,
            format!(
                "{POLICY}{extra}\n[audit]\npath = \"{}\"\n",
                dir.path().join("audit.db").display()
            ),
        )
        .expect("config");
        let runtime = refused_runtime_dir();
        // The server's journal: the one place its box lets it write.
        let journal = dir.path().join("journal");
        std::fs::create_dir(&journal).expect("journal");
        let mut command = peta_command();
        command
            .env("XDG_STATE_HOME", dir.path())
            .env("XDG_RUNTIME_DIR", runtime.path())
            .args(["run", "--server", "hostile", "--grace", "300ms", "--config"])
            .arg(&config)
            .arg("--sandbox-write")
            .arg(&journal);
        if let Some(secret) = secret {
            command
                .env("PETA_HOSTILE_CANARY", secret)
                .args(["--env", "API_TOKEN=env:PETA_HOSTILE_CANARY"]);
        }
        command
            .arg("--")
            .arg(python())
            .arg(fixture("hostile_server.py"))
            .arg(&journal)
            .args(modes);
        match pty {
            Some(pty) => pty.attach(&mut command),
            // No controlling terminal: nobody can be asked, so an asked call is denied.
            // SAFETY: setsid is async-signal-safe.
            None => unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                    libc::setsid();
                    Ok(())
                });
            },
        }
        let session = Session::start_with(&mut command);
        Hostile {
            dir,
            session,
            _runtime: runtime,
        }
    }

    /// A file of the server's journal.
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join("journal").join(name)
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("audit.db")
    }

    fn handshake(&mut self) {
        self.session.initialize();
        self.session
            .send_json(&json!({"jsonrpc": "2.0", "id": "list", "method": "tools/list"}));
        self.session.response(json!("list"));
    }

    /// Sends a ping and collects every line that came before its answer.
    fn sync(&mut self, tag: &str) -> Vec<Vec<u8>> {
        self.session
            .send_json(&json!({"jsonrpc": "2.0", "id": tag, "method": "ping"}));
        let mut lines = Vec::new();
        loop {
            let raw = self.session.recv_raw();
            let done = serde_json::from_slice::<Value>(&raw)
                .is_ok_and(|v| v["id"] == tag && v.get("method").is_none());
            if done {
                return lines;
            }
            lines.push(raw);
        }
    }

    fn finish(&mut self) {
        self.session.close_stdin();
        self.session.wait(Duration::from_secs(15));
    }

    /// Tool calls the server would have executed with a name other than `echo`.
    fn bypasses(&self) -> Vec<Value> {
        std::fs::read_to_string(self.path("executed"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("journal line"))
            .filter(|e| e["name"] != "echo")
            .collect()
    }

    /// How many calls the server's journal holds at all: the witness is awake.
    fn executed(&self) -> usize {
        std::fs::read_to_string(self.path("executed"))
            .unwrap_or_default()
            .lines()
            .count()
    }

    /// `(direction, kind, decision)` of every audit row, after checking the chain.
    fn audit(&self) -> Vec<(String, String, Option<String>)> {
        let db = self.db();
        let out = peta_command()
            .args(["audit", "verify", "--db"])
            .arg(&db)
            .output()
            .expect("verify");
        assert_eq!(
            out.status.code(),
            Some(0),
            "the audit chain verifies: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let conn = rusqlite::Connection::open(db).expect("audit db");
        let mut stmt = conn
            .prepare("SELECT direction, kind, decision FROM events ORDER BY seq")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }
}

/// Counts inputs and bypasses of one category and prints the scorecard line.
struct Tally {
    category: &'static str,
    tried: usize,
    bypasses: usize,
}

impl Tally {
    fn report(&self) {
        eprintln!(
            "hostile: {}: {} inputs tried, {} bypasses",
            self.category, self.tried, self.bypasses
        );
    }
}

fn line(bytes: impl AsRef<[u8]>) -> Vec<u8> {
    let mut v = bytes.as_ref().to_vec();
    v.push(b'\n');
    v
}

fn call(id: impl std::fmt::Display, name: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{name}","arguments":{{"path":"/home/u/.ssh/id_rsa"}}}}}}"#
    )
}

/// A (framing, JSON and Unicode): inputs on which a gate and a lenient server could read
/// different methods, tools or arguments, and inputs no parser should accept.
fn framing_corpus() -> Vec<Vec<u8>> {
    let dangerous = r#"{"name":"delete_file","arguments":{"path":"/"}}"#;
    let mut c: Vec<Vec<u8>> = [
        // Duplicate keys at every level (A4), including one spelled with an escape.
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{dangerous}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","method":"tools/list","params":{dangerous}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"echo"}},"params":{dangerous}}}"#),
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","name":"delete_file"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"delete_file","name":"echo"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","na\u006de":"delete_file"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a","text":"b"}}}"#.into(),
        r#"{"jsonrpc":"2.0","id":8,"id":9,"method":"tools/call","params":{"name":"echo"}}"#.into(),
        r#"{"jsonrpc":"2.0","jsonrpc":"1.0","id":10,"method":"tools/call","params":{"name":"echo"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"echo","arguments":{"a":{"b":1,"b":2}}}}"#.into(),
        // Argument keys a case-insensitive server folds together: a policy predicate on
        // `/text` and the server would read different values.
        r#"{"jsonrpc":"2.0","id":28,"method":"tools/call","params":{"name":"echo","arguments":{"text":"ok","Text":"evil"}}}"#.into(),
        r#"{"jsonrpc":"2.0","id":29,"method":"tools/call","params":{"name":"echo","arguments":{"text":"ok","text\u0000":"evil"}}}"#.into(),
        r#"{"jsonrpc":"2.0","id":44,"method":"tools/call","params":{"name":"echo","arguments":{"o":{"path":"/tmp/x","PATH":"/etc/passwd"}}}}"#.into(),
        // Case-folded and look-alike keys (A5).
        format!(r#"{{"jsonrpc":"2.0","id":12,"method":"ping","Method":"tools/call","params":{dangerous}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":13,"method":"ping","METHOD":"tools/call","params":{dangerous}}}"#),
        r#"{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"echo","Name":"delete_file"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"echo","NAME":"delete_file"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"echo","name\u0000":"delete_file"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"echo"},"paramſ":{"name":"delete_file"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":18,"method":"tools/call","params":{"name":"echo"},"Params":{"name":"delete_file"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":19,"method":"ping","method\u0000":"tools/call","params":{"name":"delete_file"}}"#.into(),
        // Escaped method names are classified by their decoded value (A3).
        format!(r#"{{"jsonrpc":"2.0","id":20,"method":"tools\u002fcall","params":{dangerous}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":21,"method":"\u0074ools/call","params":{dangerous}}}"#),
        // Method spelling tricks (A18).
        format!(r#"{{"jsonrpc":"2.0","id":22,"method":"tools/call ","params":{dangerous}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":23,"method":" tools/call","params":{dangerous}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":24,"method":"tools//call","params":{dangerous}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":25,"method":"TOOLS/CALL","params":{dangerous}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":26,"method":"tools/call\u0000","params":{dangerous}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":27,"method":"Tools/Call","params":{dangerous}}}"#),
        // Tool-name variants against an exact policy (A1, A2).
        call(30, "Echo"),
        call(31, "ECHO"),
        call(32, "echo "),
        call(33, "echo\\t"),
        call(34, "echo\\u0000"),
        call(35, "ech\u{43e}"),
        call(36, "\u{ff45}\u{ff43}\u{ff48}\u{ff4f}"),
        call(37, "ec\u{200b}ho"),
        call(38, "ec\u{200d}ho"),
        call(39, "\u{202e}ohce"),
        call(40, "Delete_File"),
        call(41, "DELETE_FILE"),
        call(42, "d\u{435}lete_file"),
        call(43, "delete_file\\u0000"),
        // Batches (A6).
        format!("[{}]", call(50, "delete_file")),
        "[]".into(),
        format!("[[{}]]", call(51, "delete_file")),
        format!("  [{}]", call(52, "delete_file")),
        format!("\u{feff}[{}]", call(53, "delete_file")),
        format!("\u{b}[{}]", call(54, "delete_file")),
        format!("\u{c}[{}]", call(55, "delete_file")),
        // Requests disguised as notifications (A7).
        r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"delete_file"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"delete_file"}}"#.into(),
        // Two values on one line (A8).
        format!(r#"{{"jsonrpc":"2.0","id":60,"method":"ping"}}{}"#, call(61, "delete_file")),
        format!(r#"{{"jsonrpc":"2.0","id":62,"method":"ping"}} {}"#, call(63, "delete_file")),
        format!("{}\r{}", call(64, "echo"), call(65, "delete_file")),
        format!("{}\0{}", call(66, "echo"), call(67, "delete_file")),
        // BOM, NUL, non-objects and bad envelopes (A12).
        format!("\u{feff}{}", call(70, "delete_file")),
        format!("\0{}", call(71, "delete_file")),
        format!(r#"{{"jsonrpc":"2.0","id":72,"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"a{}b"}}}}}}"#, '\0'),
        r#""tools/call""#.into(),
        "42".into(),
        "true".into(),
        "null".into(),
        format!(r#"{{"jsonrpc":"2.1","id":73,"method":"tools/call","params":{dangerous}}}"#),
        format!(r#"{{"jsonrpc":2.0,"id":74,"method":"tools/call","params":{dangerous}}}"#),
        format!(r#"{{"id":75,"method":"tools/call","params":{dangerous}}}"#),
        // Wrong field types (A16) and ambiguous envelopes (A17).
        r#"{"jsonrpc":"2.0","id":80,"method":"tools/call","params":{"name":["delete_file"]}}"#.into(),
        r#"{"jsonrpc":"2.0","id":81,"method":"tools/call","params":{"name":{"delete_file":true}}}"#.into(),
        r#"{"jsonrpc":"2.0","id":82,"method":"tools/call","params":{"name":"echo","arguments":"{\"text\":1}"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":83,"method":"tools/call","params":["delete_file"]}"#.into(),
        r#"{"jsonrpc":"2.0","id":84,"method":"tools/call","params":"delete_file"}"#.into(),
        format!(r#"{{"jsonrpc":"2.0","id":85,"method":"tools/call","params":{dangerous},"result":{{}}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":86,"method":"tools/call","params":{dangerous},"error":{{"code":1,"message":"x"}}}}"#),
        r#"{"jsonrpc":"2.0","id":87,"result":{},"error":{"code":1,"message":"x"}}"#.into(),
        // Number forms survive byte for byte and are not a way around the policy (A15).
        r#"{"jsonrpc":"2.0","id":90,"method":"tools/call","params":{"name":"echo","arguments":{"a":1e2,"b":1.0,"c":-0,"d":9007199254740993}}}"#.into(),
        r#"{"jsonrpc":"2.0","id":91,"method":"tools/call","params":{"name":"echo","arguments":{"a":1e400}}}"#.into(),
        // Lone surrogates (A11).
        r#"{"jsonrpc":"2.0","id":92,"method":"tools/call","params":{"name":"echo\ud800"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":93,"method":"tools/call","params":{"name":"echo","arguments":{"t":"\udc00\ud800"}}}"#.into(),
        r#"{"jsonrpc":"2.0","id":94,"method":"tools/call","params":{"name":"delete_file\udfff"}}"#.into(),
    ]
    .into_iter()
    .map(line)
    .collect();
    // Unicode line separators and other non-`\n` terminators inside strings (A9): a server
    // framing with str.splitlines() must still see one message, and none of its pieces may
    // read as a call.
    for (id, sep) in [(100, "\u{2028}"), (101, "\u{2029}"), (102, "\u{85}")] {
        c.push(line(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"a{sep}{{\"jsonrpc\":\"2.0\",\"id\":1{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"delete_file\"}}}}{sep}b"}}}}}}"#
        )));
    }
    for (id, sep) in [
        (103, '\u{b}'),
        (104, '\u{c}'),
        (105, '\u{1c}'),
        (106, '\u{1e}'),
    ] {
        c.push(line(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"a{sep}{}"}}}}}}"#,
            call(1000 + id, "delete_file").replace('"', "")
        )));
    }
    // Invalid UTF-8 (A11): overlong, encoded surrogate, stray bytes, truncated sequences.
    for (id, bad) in [
        (110, &b"\xc0\xaf"[..]),
        (111, b"\xed\xa0\x80"),
        (112, b"\xff"),
        (113, b"\xe2\x82"),
        (114, b"\xf8\x88\x80\x80\x80"),
        (115, b"\xc3"),
    ] {
        let mut v = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"delete_file","arguments":{{"t":""#).into_bytes();
        v.extend_from_slice(bad);
        v.extend_from_slice(br#""}}}"#);
        c.push(line(v));
        let mut v = b"{\"jsonrpc\":\"2.0\",\"id\":1".to_vec();
        v.extend_from_slice(bad);
        v.extend_from_slice(b",\"method\":\"tools/call\",\"params\":{\"name\":\"delete_file\"}}");
        c.push(line(v));
    }
    // Deep nesting (A14): far beyond any recursion limit, in the arguments of both tools.
    for (id, name) in [(120, "echo"), (121, "delete_file")] {
        let deep = 100_000;
        c.push(line(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{name}","arguments":{{"x":{}{}}}}}}}"#,
            "[".repeat(deep),
            "]".repeat(deep)
        )));
    }
    // Oversize lines (A13): the limit in this run is 1 MiB; these are 2 MiB.
    let pad = "x".repeat(2 << 20);
    c.push(line(format!(
        r#"{{"jsonrpc":"2.0","id":130,"method":"tools/call","params":{{"name":"delete_file","arguments":{{"pad":"{pad}"}}}}}}"#
    )));
    c.push(line(format!(
        r#"{{"jsonrpc":"2.0","id":131,"method":"tools/call","params":{{"name":"echo","arguments":{{"pad":"{pad}"}},"name":"delete_file"}}}}"#
    )));
    c
}

/// B (ids, direction, lifecycle) and E1 (approvals typed into the protocol).
fn ids_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let mut c: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut push = |cat, s: String| c.push((cat, line(s)));
    // Reused ids in one write, so the first is still in flight (B1, D2).
    push(
        "B",
        format!("{}\n{}", call(200, "echo"), call(200, "delete_file")),
    );
    push(
        "B",
        format!(
            "{}\n{}",
            call("\"s200\"", "echo"),
            call("\"s200\"", "delete_file")
        ),
    );
    // Number and string ids that print alike (B2).
    push(
        "B",
        format!("{}\n{}", call(201, "echo"), call("\"201\"", "echo")),
    );
    push(
        "B",
        format!("{}\n{}", call(202, "echo"), call("202.0", "delete_file")),
    );
    push(
        "B",
        format!("{}\n{}", call(203, "echo"), call("2.03e2", "delete_file")),
    );
    // Ids of the wrong type.
    for id in ["{\"a\":1}", "[204]", "true", "1.5", "-0", "1e2", "\"\""] {
        push("B", call(id, "delete_file"));
    }
    // Responses to requests never made, including a forged answer to an elicitation peta
    // might have sent, and an error with a null id (B3 from the client's side).
    push("B", r#"{"jsonrpc":"2.0","id":210,"result":{}}"#.into());
    push(
        "B",
        r#"{"jsonrpc":"2.0","id":"peta-00000000000000000000000000000000","result":{"action":"accept","content":{"decision":"allow"}}}"#.into(),
    );
    push(
        "B",
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"x"}}"#.into(),
    );
    push(
        "B",
        r#"{"jsonrpc":"2.0","id":"srv-1","result":{"content":[{"type":"text","text":"y"}]}}"#
            .into(),
    );
    // Cancelling someone else's request, or one never sent (B6, B7).
    for rid in ["200", "\"list\"", "99999", "null", "{\"x\":1}"] {
        push(
            "B",
            format!(
                r#"{{"jsonrpc":"2.0","method":"notifications/cancelled","params":{{"requestId":{rid},"reason":"x"}}}}"#
            ),
        );
    }
    // Lifecycle abuse (B8): a second initialize, initialize in a batch.
    push(
        "B",
        r#"{"jsonrpc":"2.0","id":220,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}"#.into(),
    );
    push(
        "B",
        format!(
            r#"[{{"jsonrpc":"2.0","id":221,"method":"initialize","params":{{}}}},{}]"#,
            call(222, "delete_file")
        ),
    );
    // Approvals typed into the protocol stream (E1).
    for s in ["y", "yes", "Y", "a", "o", "approve", "\u{1b}[Ay"] {
        push("E", s.into());
    }
    for name in ["approve", "peta_approve", "peta/approve"] {
        push("E", call(230, name).replace("230", &format!("\"{name}\"")));
    }
    push(
        "E",
        r#"{"jsonrpc":"2.0","method":"peta/approve","params":{"id":"*","answer":"always"}}"#.into(),
    );
    push(
        "E",
        r#"{"jsonrpc":"2.0","id":231,"method":"elicitation/create","params":{"message":"approve?","requestedSchema":{}}}"#.into(),
    );
    c
}

/// Runs a client corpus against a recording hostile server and counts bypasses.
fn run_client_corpus(category: &'static str, inputs: &[Vec<u8>]) -> (Tally, Hostile) {
    let mut h = Hostile::start_with(&[], "[relay]\nmax_line_bytes = 1048576\n", None);
    h.handshake();
    for (i, input) in inputs.iter().enumerate() {
        h.session.send(input);
        // Pace the run so each input is judged on its own; keep the reply stream drained.
        if i % 8 == 7 {
            h.sync(&format!("sync-{i}"));
        }
    }
    // The witness: an allowed call reaches the server and the server's journal.
    h.session.send_json(
        &json!({"jsonrpc": "2.0", "id": "witness", "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "witness"}}}),
    );
    // Whatever came before, the session still works and still answers.
    let before = h.sync("end");
    for raw in &before {
        serde_json::from_slice::<Value>(raw).unwrap_or_else(|e| {
            panic!(
                "peta wrote a line that is not JSON ({e}): {}",
                String::from_utf8_lossy(raw)
            )
        });
    }
    h.finish();
    let tally = Tally {
        category,
        tried: inputs.len(),
        bypasses: h.bypasses().len(),
    };
    (tally, h)
}

#[test]
fn a_hostile_client_corpus_never_gets_a_call_past_the_gate() {
    let framing = framing_corpus();
    let ids = ids_corpus();
    let ids_b: Vec<Vec<u8>> = ids
        .iter()
        .filter(|(c, _)| *c == "B")
        .map(|(_, l)| l.clone())
        .collect();
    let ids_e: Vec<Vec<u8>> = ids
        .iter()
        .filter(|(c, _)| *c == "E")
        .map(|(_, l)| l.clone())
        .collect();
    let mut failures = Vec::new();
    for (category, inputs) in [
        ("A framing, JSON and Unicode (client)", &framing),
        ("B ids, direction and lifecycle (client)", &ids_b),
        ("E1 approvals typed into the protocol (client)", &ids_e),
    ] {
        let (tally, h) = run_client_corpus(category, inputs);
        tally.report();
        assert!(
            h.executed() > 0,
            "{category}: the server's journal saw no allowed call at all"
        );
        if tally.bypasses > 0 {
            failures.push(format!("{category}: {:?}", h.bypasses()));
        }
        // Every line the client sent has at least one audit row, and the chain verifies.
        let rows = h.audit();
        let from_client = rows.iter().filter(|(d, _, _)| d == "c2s").count();
        let client_lines: usize = inputs
            .iter()
            .map(|i| i.iter().filter(|&&b| b == b'\n').count())
            .sum();
        assert!(
            from_client >= client_lines,
            "{category}: {from_client} client rows for {client_lines} lines"
        );
    }
    assert!(failures.is_empty(), "bypasses: {failures:#?}");
}

/// Every message up to and including the response to `id`, as JSON.
fn until_response(h: &Hostile, id: Value) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let msg = h.session.recv();
        let done = msg["id"] == id && msg.get("method").is_none();
        seen.push(msg);
        if done {
            return seen;
        }
    }
}

fn echo(id: impl Into<Value>) -> Value {
    json!({"jsonrpc": "2.0", "id": id.into(), "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "hi"}}})
}

fn calls_named(h: &Hostile, name: &str) -> usize {
    std::fs::read_to_string(h.path("executed"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["reading"] == "lines/last" && e["name"] == name)
        .count()
}

/// G2: definitions that change after they were pinned hide the tool; calls to it are denied
/// and never reach the server.
#[test]
fn a_rug_pull_keeps_the_changed_tool_from_running() {
    let mut h = Hostile::start(&["rugpull"]);
    h.handshake();
    h.session.send_json(&echo(1));
    until_response(&h, json!(1));
    assert_eq!(calls_named(&h, "echo"), 1);
    h.session
        .send_json(&json!({"jsonrpc": "2.0", "id": "l2", "method": "tools/list"}));
    let listed = h.session.response(json!("l2"));
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    let mut tally = Tally {
        category: "G2 rug pull (server)",
        tried: 2,
        bypasses: 0,
    };
    if names.contains(&"echo") {
        tally.bypasses += 1;
    }
    h.session.send_json(&echo(2));
    let reply = h.session.response(json!(2));
    tally.bypasses += calls_named(&h, "echo") - 1;
    tally.report();
    assert_eq!(tally.bypasses, 0, "{names:?} {reply}");
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    h.finish();
}

/// B3, B4, B7: answers to ids never sent, second answers, answers sent before a request
/// arrived or while it waits for a person, and a server cancelling the client's request:
/// none reaches the client, and each is audited as dropped.
#[test]
fn spoofed_duplicate_and_early_answers_never_reach_the_client() {
    let mut pty = Pty::open();
    let mut h = Hostile::start_full(&["spoof", "answer-early"], "", None, Some(&pty));
    h.handshake();
    let mut tally = Tally {
        category: "B3/B4/B7 spoofed, duplicate and early answers (server)",
        tried: 50,
        bypasses: 0,
    };
    let forged = |m: &Value| {
        let text = m.to_string();
        text.contains("spoofed") || text.contains("second answer") || text.contains("forged")
    };
    // A call waiting for a person: the server, spoofing around the next ping, answers its
    // id (7) before peta forwarded anything.
    h.session
        .send_json(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "delete_file", "arguments": {"path": "/"}}}));
    pty.wait_for("answer within");
    h.session
        .send_json(&json!({"jsonrpc": "2.0", "id": 6, "method": "ping"}));
    tally.tried += 6;
    let mut seen = until_response(&h, json!(6));
    seen.extend(
        h.sync("s1")
            .into_iter()
            .map(|l| serde_json::from_slice(&l).expect("json")),
    );
    pty.type_keys(b"d");
    let denied = h.session.response(json!(7));
    assert_eq!(denied["result"]["isError"], true, "{denied}");
    for id in 100..120 {
        h.session.send_json(&echo(id));
        tally.tried += 7;
        seen.extend(until_response(&h, json!(id)));
    }
    seen.extend(
        h.sync("s2")
            .into_iter()
            .map(|l| serde_json::from_slice(&l).expect("json")),
    );
    tally.bypasses += seen.iter().filter(|m| forged(m)).count();
    let mut answers = std::collections::HashMap::new();
    for m in seen.iter().filter(|m| m.get("method").is_none()) {
        *answers.entry(m["id"].to_string()).or_insert(0) += 1;
    }
    tally.bypasses += answers.values().filter(|&&n| n > 1).count();
    tally.bypasses += calls_named(&h, "delete_file");
    tally.report();
    h.finish();
    let dropped = h
        .audit()
        .iter()
        .filter(|(d, _, decision)| d == "s2c" && decision.as_deref() == Some("dropped"))
        .count();
    assert_eq!(tally.bypasses, 0, "{seen:#?}");
    assert!(dropped >= 50 + 6 + 20 * 6, "{dropped} dropped rows");
}

/// I3: a storm of notifications and a line over the size limit neither stop the session nor
/// lose the answer.
#[test]
fn a_flood_and_an_oversized_line_do_not_stop_the_session() {
    let n = 20_000;
    let mut h = Hostile::start_with(
        &[&format!("flood={n}"), "hugeline=2000000"],
        "[relay]\nmax_line_bytes = 1048576\n",
        None,
    );
    h.handshake();
    let start = Instant::now();
    h.session.send_json(&echo(1));
    let seen = until_response(&h, json!(1));
    let took = start.elapsed();
    let notes = seen
        .iter()
        .filter(|m| m["method"] == "notifications/message")
        .count();
    assert_eq!(notes, n, "every notification passed, the huge line did not");
    assert_eq!(
        seen.last().expect("answer")["result"]["content"][0]["type"],
        "text"
    );
    h.session.send_json(&echo(2));
    until_response(&h, json!(2));
    h.finish();
    assert!(
        h.session.stderr().contains("over the size limit"),
        "{}",
        h.session.stderr()
    );
    eprintln!(
        "hostile: I3 flood (server): {} inputs tried, 0 bypasses ({n} notifications and one 2 MB line in {took:?})",
        n + 1
    );
}

/// I2, J6: a server that never answers and ignores the end of its input: when the client
/// leaves, the session ends within the grace periods and the open call gets an error.
#[test]
fn a_black_hole_server_is_ended_and_its_open_call_answered() {
    let mut h = Hostile::start(&["blackhole"]);
    h.session.send_json(&echo(1));
    assert!(h.session.quiet_for(Duration::from_millis(300)));
    let start = Instant::now();
    h.session.close_stdin();
    let answer = h.session.response(json!(1));
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("exited")),
        "{answer}"
    );
    let status = h.session.wait(Duration::from_secs(10));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(!status.success());
    eprintln!(
        "hostile: I2 black hole (server): 1 inputs tried, 0 bypasses (ended in {:?})",
        start.elapsed()
    );
}

/// J3: the server crashes on reading a call; every open call is answered with an error and
/// recorded, and peta passes the exit code on.
#[test]
fn a_crash_answers_every_open_call() {
    // initialize, notifications/initialized, tools/list, then the first call crashes it.
    let mut h = Hostile::start(&["crash=4"]);
    h.handshake();
    let mut batch = Vec::new();
    for id in 1..=3 {
        batch.extend(line(echo(id).to_string()));
    }
    h.session.send(&batch);
    // The answers come in any order: a call written after the crash is refused at once, the
    // one the server was reading is answered when its output ends.
    let mut answered = std::collections::BTreeSet::new();
    while answered.len() < 3 {
        let answer = h.session.recv();
        if answer.get("method").is_some() {
            continue;
        }
        assert!(answer["error"].is_object(), "{answer}");
        answered.insert(answer["id"].as_i64().expect("an id"));
    }
    assert_eq!(answered.into_iter().collect::<Vec<_>>(), [1, 2, 3]);
    h.session.close_stdin();
    let status = h.session.wait(Duration::from_secs(10));
    assert_eq!(status.code(), Some(3));
    let rows = h.audit();
    let exited = rows
        .iter()
        .filter(|(d, k, _)| d == "peta" && k == "response")
        .count();
    assert!(exited >= 1, "{rows:?}");
    eprintln!("hostile: J3 crash mid-call (server): 3 inputs tried, 0 bypasses");
}

/// J2/J6: a detached grandchild that ignores SIGTERM does not outlive the session.
#[test]
fn an_orphaned_grandchild_does_not_outlive_the_session() {
    let mut h = Hostile::start(&["orphan"]);
    wait_for_file(&h.path("orphan"));
    // The pid the server wrote is its box's; seen from outside, the orphan is one of the
    // processes peta started.
    let tree = descendants(h.session.pid());
    assert!(tree.len() >= 3, "{tree:?}");
    h.handshake();
    h.finish();
    assert_gone_within(&tree, Duration::from_secs(3));
    eprintln!("hostile: J orphaned grandchild (server): 1 inputs tried, 0 survivors");
}

/// A13, A14 (server side), I7: a 16 MiB result reaches the client with the secret in it
/// redacted; a result nested 100,000 levels deep is dropped without a crash.
#[test]
fn huge_and_deep_results_are_handled() {
    let secret = canary();
    let mut h = Hostile::start_with(&["huge=16777216", "deep=100000"], "", Some(&secret));
    h.handshake();
    h.session.send_json(
        &json!({"jsonrpc": "2.0", "id": "big", "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "big"}}}),
    );
    let raw = h.session.recv_raw();
    assert!(
        memchr::memmem::find(&raw, b"\"id\":\"big\"").is_some(),
        "not the answer: {}",
        String::from_utf8_lossy(&raw[..raw.len().min(400)])
    );
    assert!(raw.len() > 16 << 20, "{} bytes", raw.len());
    assert_no_canary("the 16 MiB result", &raw, &secret);
    assert!(memchr::memmem::find(&raw, b"[REDACTED:API_TOKEN]").is_some());
    h.session.send_json(
        &json!({"jsonrpc": "2.0", "id": "deep", "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "deep"}}}),
    );
    let after = h.sync("after-deep");
    assert!(after.is_empty(), "the deep answer was not passed on");
    h.session.close_stdin();
    let answer = h.session.response(json!("deep"));
    assert!(answer["error"].is_object(), "{answer}");
    h.session.wait(Duration::from_secs(10));
    assert!(
        h.session
            .stderr()
            .contains("dropped a message from the server")
    );
    eprintln!("hostile: A13/A14 huge and deep results (server): 2 inputs tried, 0 bypasses");
}

/// B9, C9, F2: a secret the server puts into error messages and data, log notifications,
/// progress messages and its stderr, raw and encoded, reaches no sink.
#[test]
fn secrets_in_errors_logs_and_stderr_never_reach_a_sink() {
    let secret = canary();
    let mut h = Hostile::start_with(&["leak"], "", Some(&secret));
    h.handshake();
    let mut sinks = 0;
    let mut messages = 0;
    for id in 1..=5 {
        h.session.send_json(&echo(id));
        loop {
            let raw = h.session.recv_raw();
            assert_no_canary("the client's stdout", &raw, &secret);
            messages += 1;
            let msg: Value = serde_json::from_slice(&raw).expect("json");
            if msg["id"] == id {
                assert!(
                    msg["error"]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("[REDACTED:API_TOKEN]")),
                    "{msg}"
                );
                break;
            }
        }
    }
    sinks += 1;
    h.finish();
    let stderr = h.session.stderr();
    assert_no_canary("peta's stderr", stderr.as_bytes(), &secret);
    assert!(
        stderr.contains("API_TOKEN=[REDACTED:API_TOKEN]"),
        "{stderr}"
    );
    sinks += 1;
    for suffix in ["", "-wal", "-shm", ".anchors"] {
        let bytes = std::fs::read(format!("{}{suffix}", h.db().display())).unwrap_or_default();
        assert_no_canary(&format!("audit.db{suffix}"), &bytes, &secret);
        sinks += 1;
    }
    eprintln!(
        "hostile: F canary (server): {messages} messages over {sinks} sinks scanned in 7 encodings, 0 canary hits"
    );
}

/// E2, E3: a server forging a prompt on its stderr, writing "y" to its stdout and trying to
/// open the terminal approves nothing; the question on the real terminal still waits.
#[test]
fn a_forged_prompt_approves_nothing() {
    let mut pty = Pty::open();
    let mut h = Hostile::start_full(&["fakeprompt"], "", None, Some(&pty));
    h.handshake();
    h.session
        .send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "delete_file", "arguments": {"path": "/"}}}));
    pty.wait_for("answer within");
    h.session
        .send_json(&json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}));
    h.session.response(json!(2));
    assert!(
        h.session.quiet_for(Duration::from_millis(500)),
        "call 1 still waits for a person"
    );
    pty.type_keys(b"d");
    let denied = h.session.response(json!(1));
    assert_eq!(denied["result"]["isError"], true, "{denied}");
    h.finish();
    let bypasses = calls_named(&h, "delete_file");
    let tty = std::fs::read_to_string(h.path("tty")).expect("tty outcome");
    assert!(
        tty.starts_with("refused"),
        "the server opened the terminal: {tty}"
    );
    let stderr = h.session.stderr();
    assert!(
        !stderr.contains('\u{1b}'),
        "a raw escape reached peta's stderr: {stderr:?}"
    );
    assert!(stderr.contains("\\u{1b}"), "{stderr}");
    let transcript = pty.transcript();
    assert!(
        memchr::memmem::find(&transcript, b"Approve? [y/N]").is_none(),
        "the forged prompt reached the terminal"
    );
    eprintln!("hostile: E2/E3 forged prompt (server): 4 inputs tried, {bypasses} bypasses");
    assert_eq!(bypasses, 0);
}
