//! Lifecycle through the real binary: client EOF, signals, `kill -9` of peta, a crashing
//! child, EPIPE towards the client, descriptors the child inherits, exec failures.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{
    Session, assert_gone_within, descendants, fixture, peta, peta_command, python, wait_for_file,
};

const GRACE_MS: u64 = 300;

/// Both ways a server runs: in its box (the default) and unconfined.
const SANDBOX: [&str; 2] = ["auto", "off"];

/// The stubborn server (and its grandchild), started with `--sandbox sandbox`; the session
/// and every process peta started, seen from outside (confined: bubblewrap, the box's first
/// process, the server and its grandchild; pids written inside the box would be the box's).
fn stubborn(dir: &std::path::Path, mode: &str, sandbox: &str) -> (Session, Vec<i32>) {
    let pidfile = dir.join("pids");
    let grace = format!("{GRACE_MS}ms");
    let mut args = vec![
        "run".to_owned(),
        "--grace".into(),
        grace,
        "--sandbox".into(),
        sandbox.into(),
        "--sandbox-write".into(),
        dir.display().to_string(),
        "--".into(),
        python(),
        fixture("stubborn_server.py").display().to_string(),
        pidfile.display().to_string(),
    ];
    if !mode.is_empty() {
        args.push(mode.into());
    }
    let s = Session::start(&args);
    wait_for_file(&pidfile);
    let tree = descendants(s.pid());
    let expected = if sandbox == "off" { 2 } else { 4 };
    assert!(
        tree.len() >= expected,
        "{sandbox}: {tree:?} are not the server and its grandchild"
    );
    (s, tree)
}

#[test]
fn client_eof_ends_a_well_behaved_server_at_once() {
    let mut s = Session::start(["run", "--", peta(), "demo-server"]);
    s.initialize();
    let start = Instant::now();
    s.close_stdin();
    let status = s.wait(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", s.stderr());
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn client_eof_escalates_to_sigterm_then_sigkill_for_the_whole_group() {
    for sandbox in SANDBOX {
        client_eof_escalates(sandbox);
    }
}

fn client_eof_escalates(sandbox: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut s, tree) = stubborn(dir.path(), "", sandbox);
    s.send(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n");
    s.response(json!(1));
    let start = Instant::now();
    s.close_stdin();
    let status = s.wait(Duration::from_secs(10));
    let took = start.elapsed();
    // Closed stdin (ignored) → grace → SIGTERM (ignored) → grace → SIGKILL.
    assert_eq!(
        status.code(),
        Some(128 + 9),
        "the server died of SIGKILL; {}",
        s.stderr()
    );
    assert!(
        took >= Duration::from_millis(2 * GRACE_MS),
        "escalated too early: {took:?}"
    );
    assert!(
        took < Duration::from_millis(2 * GRACE_MS + 2000),
        "took {took:?}"
    );
    assert_gone_within(&tree, Duration::from_millis(500));
}

#[test]
fn a_grandchild_left_behind_by_an_exiting_server_is_ended() {
    for sandbox in SANDBOX {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut s, tree) = stubborn(dir.path(), "exit-on-eof", sandbox);
        s.close_stdin();
        let status = s.wait(Duration::from_secs(10));
        assert_eq!(status.code(), Some(0), "{sandbox}: {}", s.stderr());
        assert_gone_within(&tree, Duration::from_millis(500));
    }
}

#[test]
fn sigterm_to_peta_shuts_down_and_reports_the_signal() {
    for (signal, name) in [
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGHUP, "SIGHUP"),
    ] {
        for sandbox in SANDBOX {
            let dir = tempfile::tempdir().expect("tempdir");
            let (mut s, tree) = stubborn(dir.path(), "", sandbox);
            // SAFETY: signalling our own child.
            unsafe { libc::kill(s.pid(), signal) };
            let status = s.wait(Duration::from_secs(10));
            assert_eq!(
                status.code(),
                Some(128 + signal),
                "{name} {sandbox}: {}",
                s.stderr()
            );
            assert_gone_within(&tree, Duration::from_millis(500));
        }
    }
}

#[test]
fn kill_9_of_peta_leaves_no_server_or_grandchild_behind() {
    for sandbox in SANDBOX {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut s, tree) = stubborn(dir.path(), "", sandbox);
        // SAFETY: signalling our own child.
        unsafe { libc::kill(s.pid(), libc::SIGKILL) };
        let status = s.wait(Duration::from_secs(5));
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        // Confined, bubblewrap dies with peta and the box with it; the watchdog (in the tree
        // too) still waits out the grace time before it exits.
        let took = assert_gone_within(&tree, Duration::from_millis(GRACE_MS + 1000));
        if sandbox == "off" {
            // The server goes at once (parent-death signal); the grandchild ignores SIGTERM
            // and is killed by the watchdog once the grace time is up.
            assert!(
                took >= Duration::from_millis(GRACE_MS / 2),
                "the watchdog did not wait for the grace time: {took:?}"
            );
        }
    }
}

#[test]
fn a_crash_mid_request_answers_the_pending_request_and_passes_the_exit_code() {
    let mut s = Session::start(["run", "--", peta(), "demo-server"]);
    s.initialize();
    s.send_json(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "crash", "arguments": {}}}));
    let reply = s.response(json!(7));
    assert_eq!(reply["error"]["code"], -32603, "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("exited before answering")),
        "{reply}"
    );
    let status = s.wait(Duration::from_secs(10));
    assert_eq!(
        status.code(),
        Some(3),
        "the demo server exits with 3 when it crashes"
    );
    assert!(
        s.stderr().contains("demo-server: crashing on request"),
        "child stderr reaches peta's stderr"
    );
}

#[test]
fn a_vanished_client_is_a_clean_shutdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pids");
    // The client's end of peta's stdout is closed before the server says anything.
    let mut child = peta_command()
        .args([
            "run",
            "--grace",
            "300ms",
            "--sandbox-write",
            &dir.path().display().to_string(),
            "--",
            &python(),
            &fixture("stubborn_server.py").display().to_string(),
            &pidfile.display().to_string(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start");
    wait_for_file(&pidfile);
    let pids = descendants(child.id() as i32);
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().expect("stdin");
    use std::io::Write;
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        out.status.code().is_some_and(|c| c == 128 + 9 || c == 0),
        "{:?}: {stderr}",
        out.status
    );
    assert_gone_within(&pids, Duration::from_millis(500));
}

#[test]
fn the_child_gets_only_descriptors_0_to_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("fds");
    let leak = std::fs::File::open(fixture("stubborn_server.py")).expect("open");
    use std::os::fd::AsRawFd;
    let leak_fd = leak.as_raw_fd();
    // The shell lists its own descriptors (`ls` is its child, so `$$` is the shell).
    let script = format!(
        "ls /proc/$$/fd > {0}.tmp && mv {0}.tmp {0}; cat > /dev/null",
        out.display()
    );
    let mut command = peta_command();
    // bash, not dash: dash keeps a saved copy of a redirected descriptor at fd 10.
    command
        .args(["run", "--sandbox-write"])
        .arg(dir.path())
        .args(["--", "bash", "-c", &script]);
    // SAFETY: dup2 between fork and exec, so peta itself inherits fd 9 without CLOEXEC,
    // as it would inherit a descriptor its client leaked.
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(leak_fd, 9) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut s = Session::start_with(&mut command);
    let fds = wait_for_file(&out);
    let mut fds: Vec<i32> = fds
        .split_whitespace()
        .map(|f| f.parse().expect("fd"))
        .collect();
    fds.sort_unstable();
    assert_eq!(fds, [0, 1, 2], "the server inherited more than stdio");
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn the_child_has_no_controlling_terminal() {
    // peta runs on a pseudo-terminal (its controlling terminal); the server must not get it.
    let dir = tempfile::tempdir().expect("tempdir");
    let probe = |out: &std::path::Path| {
        format!(
            "if (exec 3</dev/tty) 2>/dev/null; then echo has-tty > {0}; else echo no-tty > {0}; fi",
            out.display()
        )
    };
    let on_pty = |args: &[&str]| {
        let status = Command::new(python())
            .args(["-c", "import pty, sys; pty.spawn(sys.argv[1:])"])
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("pty.spawn");
        assert!(status.success());
    };
    let direct = dir.path().join("direct");
    on_pty(&["sh", "-c", &probe(&direct)]);
    assert_eq!(
        wait_for_file(&direct).trim(),
        "has-tty",
        "the probe itself sees the terminal"
    );
    let through = dir.path().join("through");
    let writable = dir.path().display().to_string();
    on_pty(&[
        peta(),
        "run",
        "--sandbox-write",
        &writable,
        "--",
        "sh",
        "-c",
        &probe(&through),
    ]);
    assert_eq!(wait_for_file(&through).trim(), "no-tty");
}

#[test]
fn exec_failures_are_clear_and_have_their_own_exit_codes() {
    let out = peta_command()
        .args(["run", "--", "/no/such/server"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(127));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: server command \"/no/such/server\" not found\nhint: "),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-executable");
    std::fs::write(&file, "#!/bin/sh\n").expect("write");
    // /tmp is private in the box: the directory is named so the server sees it.
    let out = peta_command()
        .args(["run", "--sandbox-write"])
        .arg(dir.path())
        .arg("--")
        .arg(&file)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(126),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Claude Code's way of stopping a server, against peta: stdin closed, SIGINT at once,
/// SIGTERM 0.1 s later, SIGKILL at 0.5 s. Returns the server's log and the audit directory.
fn stopped_like_claude(server_flags: &[&str]) -> (Vec<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("peta.toml");
    std::fs::write(
        &config,
        format!(
            "{}[audit]\npath = \"{}\"\n",
            crate::support::ALLOW_ALL,
            dir.path().join("audit.db").display()
        ),
    )
    .expect("config");
    // The server's log lives outside /tmp, which is private in the server's box, and the box
    // may write it.
    let logs = crate::support::visible_tempdir();
    let log = logs.path().join("server.log");
    let mut args = vec![
        "run".to_owned(),
        "--config".into(),
        config.display().to_string(),
        "--sandbox-write".into(),
        logs.path().display().to_string(),
        "--".into(),
        python(),
        fixture("signal_server.py").display().to_string(),
        log.display().to_string(),
    ];
    args.extend(server_flags.iter().map(|f| f.to_string()));
    let mut s = Session::start(&args);
    s.initialize();
    let start = Instant::now();
    s.close_stdin();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(s.pid(), libc::SIGINT) };
    std::thread::sleep(Duration::from_millis(100));
    // SAFETY: as above; peta may be gone already, then the pid is still ours (unreaped).
    unsafe { libc::kill(s.pid(), libc::SIGTERM) };
    while start.elapsed() < Duration::from_millis(500) {
        if s.child.try_wait().expect("try_wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: as above.
    unsafe { libc::kill(s.pid(), libc::SIGKILL) };
    s.wait(Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300));
    let events = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    (events, dir)
}

/// The session's end row and the highest anchored row, from the audit log in `dir`.
fn end_and_anchor(dir: &std::path::Path) -> (Option<i64>, Option<i64>) {
    let out = peta_command()
        .args(["audit", "export", "--db"])
        .arg(dir.join("audit.db"))
        .output()
        .expect("export");
    let end = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|r| r["kind"] == "session_end")
        .and_then(|r| r["seq"].as_i64());
    let anchor = std::fs::read_to_string(dir.join("audit.db.anchors"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .max();
    (end, anchor)
}

#[test]
fn a_client_s_quick_stop_reaches_the_server_as_sigint_and_the_end_is_anchored() {
    let (events, dir) = stopped_like_claude(&[]);
    assert!(
        events.iter().any(|e| e == "SIGINT"),
        "the server never got the client's SIGINT: {events:?}"
    );
    assert_eq!(
        events.last().map(String::as_str),
        Some("exit"),
        "the server exited on its own: {events:?}"
    );
    let (end, anchor) = end_and_anchor(dir.path());
    let end = end.expect("a session_end row");
    assert!(
        anchor.is_some_and(|a| a >= end),
        "the anchor ({anchor:?}) does not cover the end (row {end})"
    );
}

#[test]
fn every_signal_of_the_sequence_is_passed_on_and_the_end_is_written_before_the_kill() {
    // A server that only notes its signals: peta must have recorded the end and forwarded
    // both signals before the client's SIGKILL at 0.5 s.
    let (events, dir) = stopped_like_claude(&["--stay"]);
    let signals: Vec<&str> = events
        .iter()
        .map(String::as_str)
        .filter(|e| e.starts_with("SIG"))
        .collect();
    assert_eq!(
        signals.get(..2),
        Some(&["SIGINT", "SIGTERM"][..]),
        "{events:?}"
    );
    let (end, anchor) = end_and_anchor(dir.path());
    let end = end.expect("a session_end row written before the SIGKILL");
    assert!(anchor.is_some_and(|a| a >= end), "{anchor:?} < {end}");
}
