//! `peta demo`: a complete session through the real relay, narrated for a newcomer.
//!
//! A scripted client starts `peta run -- peta demo-server` exactly as an MCP client would,
//! speaks JSON-RPC to it over pipes, and says what happened at each step: calls the policy
//! allows, one it denies, one it holds until a person approves it (the demo answers through
//! `peta approve`, as you would from another terminal), and two messages peta refuses to
//! pass on. It runs with its own policy, audit log and runtime directory in a temporary
//! directory, so it touches none of yours.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cli::DemoArgs;
use crate::error::Error;

struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    verbose: bool,
}

impl Session {
    fn send(&mut self, line: &str) -> Result<(), Error> {
        if self.verbose {
            println!("    → {line}");
        }
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| Error::Demo("input already closed".into()))?;
        writeln!(stdin, "{line}").map_err(|e| Error::io("cannot write to peta run", e))
    }

    /// Reads messages until the response with `id`.
    fn response(&mut self, id: i64) -> Result<Value, Error> {
        loop {
            let mut line = String::new();
            let n = self
                .stdout
                .read_line(&mut line)
                .map_err(|e| Error::io("cannot read from peta run", e))?;
            if n == 0 {
                return Err(Error::Demo(format!(
                    "peta run ended before answering request {id}"
                )));
            }
            if self.verbose {
                println!("    ← {}", line.trim_end());
            }
            let msg: Value = serde_json::from_str(&line)
                .map_err(|e| Error::Demo(format!("peta run sent a line that is not JSON: {e}")))?;
            if msg.get("id") == Some(&json!(id))
                || (msg.get("id") == Some(&Value::Null) && msg.get("error").is_some())
            {
                return Ok(msg);
            }
        }
    }

    fn call(&mut self, id: i64, method: &str, params: Value) -> Result<Value, Error> {
        let line =
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        self.send(&line)?;
        self.response(id)
    }
}

fn tool_text(response: &Value) -> String {
    response["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or("(no text)")
        .to_owned()
}

fn refusal(response: &Value) -> String {
    response["error"]["message"]
        .as_str()
        .unwrap_or("(no message)")
        .to_owned()
}

/// The demo's policy: reading tools run, deleting is denied, anything else is asked about.
const POLICY: &str = r#"
[[rules]]
id = "harmless"
server = "demo"
tool = "^(echo|add)$"
action = "allow"

[[rules]]
id = "no-deletes"
server = "demo"
tool = "delete_*"
action = "deny"
message = "Deleting files is not allowed in this project."
"#;

/// A private temporary directory, removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, Error> {
        let dir = std::env::temp_dir().join(format!("peta-demo-{}", uuid::Uuid::new_v4().simple()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|e| Error::io("cannot create the demo's temporary directory", e))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn run(args: DemoArgs) -> Result<u8, Error> {
    let exe = std::env::current_exe().map_err(|e| Error::io("cannot find the peta binary", e))?;
    let scratch = Scratch::new()?;
    let config = scratch.0.join("peta.toml");
    std::fs::write(
        &config,
        format!(
            "{POLICY}\n[audit]\npath = \"{}\"\n",
            scratch
                .0
                .join("audit.db")
                .display()
                .to_string()
                .replace('\\', "\\\\")
        ),
    )
    .map_err(|e| Error::io("cannot write the demo's configuration", e))?;
    let runtime = scratch.0.join("runtime");
    println!("peta demo — a real session through `peta run`, with peta's demo MCP server.\n");
    println!("Starting:  peta run --server demo -- peta demo-server");
    println!("           (an MCP client such as Claude Desktop starts peta the same way)");
    println!(
        "Policy:    echo and add are allowed, delete_* is denied, anything else asks a person.\n"
    );
    let started = Instant::now();
    let mut command = Command::new(&exe);
    command
        .args(["run", "--server", "demo", "--config"])
        .arg(&config)
        .arg("--")
        .arg(&exe)
        .arg("demo-server")
        .env("PETA_LOG", "warn")
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("XDG_STATE_HOME", &scratch.0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::fs::create_dir(&runtime)
        .map_err(|e| Error::io("cannot create the runtime directory", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io("cannot protect the runtime directory", e))?;
        // Without a terminal the session asks through the console, which this demo answers;
        // your own terminal stays out of it.
        // SAFETY: setsid is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
    }
    let mut child = command
        .spawn()
        .map_err(|e| Error::io("cannot start peta run", e))?;
    let stdin = child.stdin.take();
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::Demo("no stdout".into()))?;
    let mut s = Session {
        child,
        stdin,
        stdout: BufReader::new(stdout),
        verbose: args.verbose,
    };

    let init = s.call(
        1,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "peta-demo-client", "version": "1"}}),
    )?;
    let info = &init["result"]["serverInfo"];
    println!(
        "1. initialize → the server introduced itself as {} {} (protocol {}) after {} ms.",
        info["name"].as_str().unwrap_or("?"),
        info["version"].as_str().unwrap_or("?"),
        init["result"]["protocolVersion"].as_str().unwrap_or("?"),
        started.elapsed().as_millis()
    );
    s.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)?;

    let list = s.call(2, "tools/list", json!({}))?;
    println!("2. tools/list → the server offers these tools (hints are the server's own claims):");
    for tool in list["result"]["tools"].as_array().into_iter().flatten() {
        let hints = &tool["annotations"];
        let kind = if hints["readOnlyHint"] == json!(true) {
            "read-only"
        } else if hints["destructiveHint"] == json!(true) {
            "destructive"
        } else {
            "other"
        };
        println!(
            "     {:<12} {:<12} {}",
            tool["name"].as_str().unwrap_or("?"),
            kind,
            tool["description"].as_str().unwrap_or("")
        );
    }

    let echo = s.call(
        3,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "héllo from the demo ✓"}}),
    )?;
    println!(
        "3. tools/call echo → {:?}: passed through byte for byte, both ways.",
        tool_text(&echo)
    );
    let add = s.call(
        4,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 2, "b": 40}}),
    )?;
    println!(
        "4. tools/call add 2 + 40 → {} (both allowed by the rule `harmless`).",
        tool_text(&add)
    );

    let deleted = s.call(
        5,
        "tools/call",
        json!({"name": "delete_file", "arguments": {"path": "/home/you/project"}}),
    )?;
    println!(
        "5. tools/call delete_file → denied by the rule `no-deletes`; the model reads:\n     {}",
        tool_text(&deleted)
    );

    println!(
        "6. tools/call write_file → the policy says ask: peta holds the call and asks a person."
    );
    let question = json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call",
        "params": {"name": "write_file", "arguments": {"path": "notes.txt", "content": "hello"}}});
    s.send(&question.to_string())?;
    let (id, shown) = pending(&exe, &runtime)?;
    println!("   `peta approve` (in any terminal) shows:");
    for line in shown.lines() {
        println!("     {line}");
    }
    println!("   The demo answers as you would:  peta approve {id} --answer once");
    let answered = Command::new(&exe)
        .args(["approve", &id, "--answer", "once"])
        .env("XDG_RUNTIME_DIR", &runtime)
        .output()
        .map_err(|e| Error::io("cannot run peta approve", e))?;
    if !answered.status.success() {
        return Err(Error::Demo(format!(
            "peta approve failed: {}",
            String::from_utf8_lossy(&answered.stderr).trim()
        )));
    }
    let written = s.response(6)?;
    println!(
        "   → approved; only now did the server get the call: {:?}",
        tool_text(&written)
    );

    s.send(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","name":"delete_file","arguments":{"path":"/home"}}}"#)?;
    let dup = s.response(7)?;
    println!(
        "7. A tools/call naming two tools at once (a duplicate \"name\" key, which parsers read"
    );
    println!(
        "   differently) is refused and never reaches the server:\n     {}",
        refusal(&dup)
    );
    s.send(r#"[{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/home"}}}]"#)?;
    let batch = s.response(8)?;
    println!(
        "8. A batch array smuggling a call is refused too:\n     {}",
        refusal(&batch)
    );

    let shutdown = Instant::now();
    drop(s.stdin.take());
    let status = wait_with_timeout(&mut s.child, Duration::from_secs(10))?;
    println!(
        "9. Closing peta's input ends the session: peta closed the server's input, the server\n   exited, and peta exited with its code ({}) after {} ms. No process is left behind.",
        status.code().map_or("a signal".into(), |c| c.to_string()),
        shutdown.elapsed().as_millis()
    );
    let mut log = String::new();
    if let Some(mut stderr) = s.child.stderr.take() {
        use std::io::Read;
        let _ = stderr.read_to_string(&mut log);
    }
    println!("\npeta's own log went to stderr, never into the protocol stream:");
    for line in log.lines() {
        println!("     {line}");
    }
    let verified = Command::new(&exe)
        .args(["audit", "verify", "--db"])
        .arg(scratch.0.join("audit.db"))
        .output()
        .map_err(|e| Error::io("cannot run peta audit verify", e))?;
    println!(
        "\nEvery message and decision went to a tamper-evident audit log; `peta audit verify` says:\n     {}",
        String::from_utf8_lossy(&verified.stdout).trim()
    );
    println!(
        "\nTo put peta in front of a real server:  peta run -- npx -y @modelcontextprotocol/server-everything"
    );
    Ok(if status.success() {
        0
    } else {
        crate::exit_code::FAILED
    })
}

/// Waits until the session's question is listed by `peta approve`; its id and text.
fn pending(exe: &std::path::Path, runtime: &std::path::Path) -> Result<(String, String), Error> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let listed = Command::new(exe)
            .args(["approve", "--list", "--json"])
            .env("XDG_RUNTIME_DIR", runtime)
            .output()
            .map_err(|e| Error::io("cannot run peta approve", e))?;
        let listing: Value = serde_json::from_slice(&listed.stdout).unwrap_or_default();
        let id = listing["sessions"][0]["pending"][0]["id"].as_str();
        if let Some(id) = id {
            let text = Command::new(exe)
                .args(["approve", "--list"])
                .env("XDG_RUNTIME_DIR", runtime)
                .output()
                .map_err(|e| Error::io("cannot run peta approve", e))?;
            return Ok((
                id.to_owned(),
                String::from_utf8_lossy(&text.stdout).into_owned(),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(Error::Demo(
        "the question never reached `peta approve`".into(),
    ))
}

fn wait_with_timeout(
    child: &mut Child,
    limit: Duration,
) -> Result<std::process::ExitStatus, Error> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| Error::io("cannot wait for peta run", e))?
        {
            return Ok(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(Error::Demo(
                "peta run did not exit after its input closed".into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
