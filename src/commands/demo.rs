//! `peta demo`: a complete session through the real relay, narrated for a newcomer.
//!
//! A scripted client starts `peta run -- peta demo-server` exactly as an MCP client would,
//! speaks JSON-RPC to it over pipes, and says what happened at each step, including two
//! messages peta refuses to pass on.

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

pub(crate) fn run(args: DemoArgs) -> Result<u8, Error> {
    let exe = std::env::current_exe().map_err(|e| Error::io("cannot find the peta binary", e))?;
    println!("peta demo — a real session through `peta run`, with peta's demo MCP server.\n");
    println!("Starting:  peta run -- peta demo-server");
    println!("           (an MCP client such as Claude Desktop starts peta the same way)\n");
    let started = Instant::now();
    let mut child = Command::new(&exe)
        .args(["run", "--server", "demo", "--"])
        .arg(&exe)
        .arg("demo-server")
        .env("PETA_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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
    println!("4. tools/call add 2 + 40 → {}", tool_text(&add));

    s.send(r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","name":"delete_file","arguments":{"path":"/home"}}}"#)?;
    let dup = s.response(5)?;
    println!(
        "5. A tools/call naming two tools at once (a duplicate \"name\" key, which parsers read"
    );
    println!(
        "   differently) is refused and never reaches the server:\n     {}",
        refusal(&dup)
    );
    s.send(r#"[{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"delete_file","arguments":{"path":"/home"}}}]"#)?;
    let batch = s.response(6)?;
    println!(
        "6. A batch array smuggling a call is refused too:\n     {}",
        refusal(&batch)
    );

    let shutdown = Instant::now();
    drop(s.stdin.take());
    let status = wait_with_timeout(&mut s.child, Duration::from_secs(10))?;
    println!(
        "7. Closing peta's input ends the session: peta closed the server's input, the server\n   exited, and peta exited with its code ({}) after {} ms. No process is left behind.",
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
    println!(
        "\nTo put peta in front of a real server:  peta run -- npx -y @modelcontextprotocol/server-everything"
    );
    Ok(if status.success() {
        0
    } else {
        crate::exit_code::FAILED
    })
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
