//! The audit log through the real binary: inclusion against a server's own journal, kill -9
//! at random moments, tampering of every kind, 16 writers at once, a full disk, exports
//! re-verified by Python, retention, and the commands a person reads.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::support::{ALLOW_ALL, Session, fixture, peta, peta_command, python, required};

/// A private audit database and the config that points peta at it.
struct Log {
    dir: tempfile::TempDir,
}

impl Log {
    fn new() -> Log {
        Self::with("")
    }

    fn with(extra: &str) -> Log {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = format!(
            "{ALLOW_ALL}[audit]\npath = \"{}\"\n{extra}",
            dir.path().join("audit.db").display()
        );
        std::fs::write(dir.path().join("peta.toml"), config).expect("config");
        Log { dir }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("audit.db")
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("peta.toml")
    }

    /// `peta run --config … -- record_server.py` with its journals in this log's directory.
    fn record_session(&self, name: &str) -> Session {
        Session::start_with(&mut self.record_command(name))
    }

    /// The command [`Log::record_session`] starts.
    fn record_command(&self, name: &str) -> Command {
        let mut command = peta_command();
        // The server writes its journals from inside its box, beside (never into) the
        // audit log's directory, which a box may not make writable.
        let journals = self.journals();
        std::fs::create_dir_all(&journals).expect("journals");
        command.args([
            "run".as_ref(),
            "--server".as_ref(),
            name.as_ref(),
            "--config".as_ref(),
            self.config().as_os_str(),
            "--sandbox-write".as_ref(),
            journals.as_os_str(),
            "--".as_ref(),
            python().as_ref(),
            fixture("record_server.py").as_os_str(),
            journals.join("received").as_os_str(),
            journals.join("sent").as_os_str(),
        ]);
        command
    }

    fn journals(&self) -> PathBuf {
        self.dir.path().join("journals")
    }

    fn peta(&self, args: &[&str]) -> std::process::Output {
        peta_command()
            .args(args)
            .arg("--db")
            .arg(self.db())
            .output()
            .expect("run peta")
    }

    fn verify(&self) -> (bool, String) {
        let out = self.peta(&["audit", "verify"]);
        (
            out.status.code() == Some(0),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db()).expect("open audit db")
    }

    /// `(rpc_id, method, decision)` of every client request in the log.
    fn requests(&self) -> HashSet<(String, String, String)> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT rpc_id, method, decision FROM events WHERE direction = 'c2s' AND kind = 'request'")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    /// `(raw id, method)` of every request the server journalled.
    fn received(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.journals().join("received")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m.get("id").is_some() && m.get("method").is_some())
            .map(|m| {
                (
                    m["id"].to_string(),
                    m["method"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

fn call(id: &str, tool: &str) -> serde_json::Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": {"n": id}}})
}

#[test]
fn every_request_the_server_received_has_an_audit_row() {
    let log = Log::new();
    for round in 0..3 {
        let mut s = log.record_session("journal");
        s.initialize();
        for i in 0..20 {
            let id = format!("r{round}-{i}");
            s.send_json(&call(&id, "echo"));
            s.send_json(
                &json!({"jsonrpc": "2.0", "id": format!("p{round}-{i}"), "method": "ping"}),
            );
            s.response(json!(id));
        }
        s.send(b"{\"jsonrpc\":\"2.0\",\"id\":\"dup\",\"method\":\"tools/call\",\"params\":{\"name\":\"a\",\"name\":\"b\"}}\n");
        s.recv();
        s.close_stdin();
        assert!(s.wait(Duration::from_secs(10)).success(), "{}", s.stderr());
    }
    let logged = log.requests();
    let received = log.received();
    assert_eq!(
        received.len(),
        3 * (1 + 40),
        "initialize and 40 requests per session reached the server"
    );
    for (id, method) in &received {
        let decision = if method == "tools/call" {
            "allow"
        } else {
            "pass"
        };
        assert!(
            logged.contains(&(id.clone(), method.clone(), decision.to_owned())),
            "{method} {id} reached the server without an audit row"
        );
    }
    let (ok, said) = log.verify();
    assert!(ok, "{said}");
    assert!(said.contains("3 anchors checked"), "{said}");
}

#[test]
fn kill_9_at_random_moments_never_corrupts_or_loses_a_gated_row() {
    let log = Log::new();
    let rounds: u64 = std::env::var("PETA_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut random = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..rounds {
        let mut s = log.record_session("crash");
        if round % 2 == 0 {
            // Half the kills land in a session that is already up and busy, half during start-up.
            s.initialize();
        }
        // A busy session: calls written without waiting for answers.
        let calls = 5 + random(40);
        let mut batch = Vec::new();
        for i in 0..calls {
            batch
                .extend(serde_json::to_vec(&call(&format!("c{round}-{i}"), "echo")).expect("json"));
            batch.push(b'\n');
        }
        s.send(&batch);
        std::thread::sleep(Duration::from_micros(random(20_000)));
        // SAFETY: killing our own child.
        unsafe { libc::kill(s.pid(), libc::SIGKILL) };
        s.wait(Duration::from_secs(10));
    }
    let conn = log.conn();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity");
    assert_eq!(integrity, "ok");
    drop(conn);
    let (ok, said) = log.verify();
    assert!(ok, "{said}");
    let logged = log.requests();
    let received = log.received();
    let calls = received.iter().filter(|(_, m)| m == "tools/call").count();
    assert!(calls > 0, "the campaign must have let some calls through");
    for (id, method) in received.iter().filter(|(_, m)| m == "tools/call") {
        assert!(
            logged.contains(&(id.clone(), method.clone(), "allow".to_owned())),
            "call {id} ran without an audit row"
        );
    }
    eprintln!(
        "crash campaign: {rounds} kills, {calls} calls executed, all audited; chain verified"
    );
}

/// A finished log to tamper with, with the WAL folded into the main file.
fn small_log() -> Log {
    let log = Log::new();
    for round in 0..2 {
        let mut s = log.record_session("tamper");
        s.initialize();
        for i in 0..4 {
            let id = format!("t{round}-{i}");
            s.send_json(&call(&id, "echo"));
            s.response(json!(id));
        }
        s.close_stdin();
        s.wait(Duration::from_secs(10));
    }
    log.conn()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    log
}

#[test]
fn tampering_of_every_kind_is_detected() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "edit a value",
            "UPDATE events SET tool = 'delete_file' WHERE seq = 5",
            "row 5 was changed",
        ),
        (
            "edit a decision",
            "UPDATE events SET decision = 'deny' WHERE kind = 'request' AND method = 'tools/call' AND seq = (SELECT MIN(seq) FROM events WHERE method = 'tools/call')",
            "was changed",
        ),
        (
            "delete a middle row",
            "DELETE FROM events WHERE seq = 6",
            "rows 6 to 6 are missing",
        ),
        (
            "reorder two rows",
            "UPDATE events SET seq = -1 WHERE seq = 4; UPDATE events SET seq = 4 WHERE seq = 5; UPDATE events SET seq = 5 WHERE seq = -1",
            "row 4 does not follow",
        ),
        (
            "delete the newest rows",
            "DELETE FROM events WHERE seq > (SELECT MAX(seq) - 3 FROM events)",
            "anchor file",
        ),
        (
            "delete the oldest rows",
            "DELETE FROM events WHERE seq < 3",
            "rows before 3 are missing",
        ),
        (
            "rewrite a row and its hash",
            "UPDATE events SET args = '{}', hash = '00' || substr(hash, 3) WHERE seq = 7",
            "row 7",
        ),
    ];
    for (what, sql, expected) in cases {
        let log = small_log();
        let (ok, said) = log.verify();
        assert!(ok, "the untouched log verifies: {said}");
        log.conn().execute_batch(sql).expect(what);
        let (ok, said) = log.verify();
        assert!(!ok, "{what}: not detected");
        assert!(said.contains(expected), "{what}: {said}");
    }
}

#[test]
fn a_rechained_log_still_fails_against_its_anchors() {
    // An attacker who edits a row and recomputes every hash after it produces a valid-looking
    // chain; the anchors written at session close still catch it.
    let log = small_log();
    let conn = log.conn();
    conn.execute("UPDATE events SET tool = 'delete_file' WHERE seq = 5", [])
        .expect("edit");
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT seq, hash FROM events ORDER BY seq")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    // Recompute with the documented canonical form, via the Python reference.
    drop(conn);
    let out = peta_command()
        .args(["audit", "export", "--db"])
        .arg(log.db())
        .output()
        .expect("export");
    let script = r#"
import hashlib, json, sqlite3, sys
F = ["seq","ts","session","server","direction","kind","method","rpc_id","tool","args","args_sha256","bytes_sha256","decision","rule","channel","grant_scope","latency_us","size","is_error","error","detail"]
db = sqlite3.connect(sys.argv[1])
db.row_factory = sqlite3.Row
prev = bytes(32)
for r in db.execute("SELECT * FROM events ORDER BY seq").fetchall():
    vals = [r[k] for k in F]
    vals[F.index("is_error")] = None if r["is_error"] is None else bool(r["is_error"])
    c = json.dumps(vals, separators=(",", ":"), ensure_ascii=False).encode()
    h = hashlib.sha256(prev + c).hexdigest()
    db.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", (prev.hex(), h, r["seq"]))
    prev = bytes.fromhex(h)
db.commit()
"#;
    assert!(!out.stdout.is_empty());
    let status = Command::new(python())
        .args(["-c", script])
        .arg(log.db())
        .status()
        .expect("python");
    assert!(status.success());
    let conn = log.conn();
    let changed: i64 = conn
        .query_row("SELECT COUNT(*) FROM events WHERE seq >= 5", [], |r| {
            r.get(0)
        })
        .expect("count");
    assert!(changed > 0 && rows.len() > 5);
    drop(conn);
    let (ok, said) = log.verify();
    assert!(!ok, "a rechained log passed");
    assert!(said.contains("anchor file"), "{said}");
}

#[test]
fn sixteen_processes_write_one_chain_without_losing_a_row() {
    let log = Log::new();
    let calls = 50;
    let handles: Vec<_> = (0..16)
        .map(|p| {
            let mut s = log.record_session(&format!("p{p}"));
            std::thread::spawn(move || {
                s.initialize();
                for i in 0..calls {
                    let id = format!("w{p}-{i}");
                    s.send_json(&call(&id, "echo"));
                    let reply = s.response(json!(id));
                    assert!(
                        reply["result"]["isError"].is_null(),
                        "call {id} was denied: {reply}"
                    );
                }
                s.close_stdin();
                let status = s.wait(Duration::from_secs(60));
                let stderr = s.stderr();
                assert!(status.success(), "{stderr}");
                assert!(
                    !stderr.contains("audit") && !stderr.to_lowercase().contains("locked"),
                    "{stderr}"
                );
            })
        })
        .collect();
    for h in handles {
        h.join().expect("writer session");
    }
    let (ok, said) = log.verify();
    assert!(ok, "{said}");
    let conn = log.conn();
    for p in 0..16 {
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM events WHERE server = ?1 AND method = 'tools/call'",
                [format!("p{p}")],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(
            n,
            2 * calls,
            "session p{p}: a request and a response row per call"
        );
    }
    let (max, count): (i64, i64) = conn
        .query_row("SELECT MAX(seq), COUNT(*) FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("seq");
    assert_eq!(max, count, "one chain, no gaps");
}

/// A commit the file system refuses (here: RLIMIT_FSIZE at the audit files' size, reachable
/// without root) denies the call, and the rows that never committed are not anchored: the
/// log must still verify afterwards instead of reporting its newest rows as deleted.
#[test]
fn a_commit_refused_by_the_file_size_limit_denies_and_the_log_still_verifies() {
    use std::os::unix::process::CommandExt;
    let log = Log::new();
    let mut first = log.record_session("fsize-first");
    first.initialize();
    first.send_json(&call("first", "echo"));
    first.response(json!("first"));
    first.close_stdin();
    first.wait(Duration::from_secs(20));
    let limit = std::fs::read_dir(log.dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("audit.db"))
        .map(|e| e.metadata().expect("metadata").len())
        .max()
        .expect("audit files");
    let mut command = log.record_command("fsize");
    // SAFETY: signal and setrlimit are async-signal-safe; nothing is allocated.
    unsafe {
        command.pre_exec(move || {
            // Ignored, SIGXFSZ turns a write past the limit into EFBIG instead of a kill.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let cap = libc::rlimit {
                rlim_cur: limit,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &cap) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut s = Session::start_with(&mut command);
    s.initialize();
    let mut denied = 0;
    for i in 0..100 {
        let id = format!("capped-{i}");
        s.send_json(&call(&id, "echo"));
        let reply = s.response(json!(id));
        if reply["result"]["isError"] == true {
            let text = reply["result"]["content"][0]["text"].to_string();
            assert!(
                text.contains("could not be recorded in the audit log"),
                "{text}"
            );
            denied += 1;
        }
    }
    assert!(denied > 0, "the file size limit must deny gated calls");
    s.close_stdin();
    s.wait(Duration::from_secs(20));
    let (ok, out) = log.verify();
    assert!(ok, "the log must verify after refused commits: {out}");
    let allowed: HashSet<String> = log
        .requests()
        .into_iter()
        .filter(|(_, method, decision)| method == "tools/call" && decision == "allow")
        .map(|(id, _, _)| id)
        .collect();
    for (id, method) in log.received() {
        if method == "tools/call" {
            assert!(allowed.contains(&id), "{id} ran without an allow row");
        }
    }
}

#[test]
fn a_full_disk_denies_calls_with_a_reason_and_the_log_verifies_after() {
    if !nix_root() {
        assert!(
            !required(),
            "the disk-full test needs root to mount a tmpfs"
        );
        eprintln!("skipping: mounting a tmpfs needs root");
        return;
    }
    let log = Log::new();
    let mount = log.dir.path().join("small");
    std::fs::create_dir(&mount).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=512k", "tmpfs"])
        .arg(&mount)
        .status()
        .expect("mount");
    assert!(mounted.success(), "mount a tmpfs");
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount.clone());
    let db = mount.join("audit.db");
    std::fs::write(
        log.config(),
        format!("{ALLOW_ALL}[audit]\npath = \"{}\"\n", db.display()),
    )
    .expect("config");
    let mut s = log.record_session("full");
    s.initialize();
    s.send_json(&call("before", "echo"));
    assert!(s.response(json!("before"))["result"]["isError"].is_null());
    // Fill the rest of the file system.
    let filler = mount.join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=4k"])
        .arg(format!("of={}", filler.display()))
        .output();
    let mut denied = 0;
    for i in 0..50 {
        let id = format!("full-{i}");
        s.send_json(&call(&id, "delete_file"));
        let reply = s.response(json!(id));
        if reply["result"]["isError"] == true {
            let text = reply["result"]["content"][0]["text"]
                .as_str()
                .unwrap_or_default();
            assert!(
                text.contains("could not be recorded in the audit log"),
                "{text}"
            );
            denied += 1;
        }
    }
    assert!(denied > 0, "a full disk must deny gated calls");
    let received = log.received();
    for (id, _) in &received {
        let Ok(id) = serde_json::from_str::<String>(id) else {
            continue;
        };
        if id.starts_with("full-") {
            let conn = rusqlite::Connection::open(&db).expect("open");
            let n: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM events WHERE rpc_id = ?1 AND decision = 'allow'",
                    [format!("\"{id}\"")],
                    |r| r.get(0),
                )
                .unwrap_or(0);
            assert_eq!(n, 1, "{id} reached the server without an audit row");
        }
    }
    std::fs::remove_file(&filler).expect("free space");
    s.send_json(&call("after", "echo"));
    assert!(
        s.response(json!("after"))["result"]["isError"].is_null(),
        "calls go through once space returns"
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
    let out = peta_command()
        .args(["audit", "verify", "--db"])
        .arg(&db)
        .output()
        .expect("verify");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let conn = rusqlite::Connection::open(&db).expect("open");
    let recorded_denials: i64 = conn
        .query_row("SELECT COUNT(*) FROM events WHERE decision = 'deny' AND error LIKE 'audit log unavailable%'", [], |r| r.get(0))
        .expect("count");
    assert!(
        recorded_denials > 0,
        "the denials are recorded once the disk has room again"
    );
}

fn nix_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn exports_round_trip_through_pythons_parsers_and_reverify() {
    let log = small_log();
    let jsonl = log.dir.path().join("export.jsonl");
    let csv = log.dir.path().join("export.csv");
    for (format, file) in [("jsonl", &jsonl), ("csv", &csv)] {
        let out = log.peta(&[
            "audit",
            "export",
            "--format",
            format,
            "-o",
            &file.display().to_string(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("the whole chain verified"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(file).expect("stat").permissions().mode() & 0o777,
            0o600
        );
    }
    let out = Command::new(python())
        .arg(fixture("verify_export.py"))
        .arg(&jsonl)
        .arg(&csv)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(summary["verified"], true);
    assert!(summary["events"].as_u64().is_some_and(|n| n > 10));
    let out = log.peta(&["audit", "export", "--format", "json"]);
    let whole: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json export parses");
    assert_eq!(whole["export"]["verified"], true);
    assert_eq!(
        whole["events"].as_array().map(Vec::len),
        summary["events"].as_u64().map(|n| n as usize)
    );
}

#[test]
fn a_broken_log_is_exported_with_the_verdict_in_it() {
    let log = small_log();
    log.conn()
        .execute("UPDATE events SET tool = 'x' WHERE seq = 3", [])
        .expect("edit");
    let out = log.peta(&["audit", "export"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("FAILED verification: row 3 was changed")
    );
    let first: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().expect("line"))
            .expect("json");
    assert_eq!(first["verified"], false);
    assert_eq!(first["problem"], "row 3 was changed after it was written");
}

#[test]
fn export_filters_select_rows() {
    let log = small_log();
    let lines = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut all = vec!["audit", "export"];
        all.extend_from_slice(args);
        let out = log.peta(&all);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .skip(1)
            .map(|l| serde_json::from_slice(l).expect("json"))
            .collect()
    };
    let all = lines(&[]);
    let tool = lines(&["--tool", "echo"]);
    assert!(!tool.is_empty() && tool.iter().all(|e| e["tool"] == "echo"));
    let allowed = lines(&["--decision", "allow"]);
    assert_eq!(allowed.len(), 8);
    let session = all[0]["session"].as_str().expect("session");
    let one = lines(&["--session", session]);
    assert!(one.iter().all(|e| e["session"] == session) && one.len() < all.len());
    assert!(
        lines(&[
            "--since",
            "1d",
            "--until",
            "2999-01-01",
            "--server",
            "tamper"
        ])
        .len()
            == all.len()
    );
    assert!(lines(&["--until", "2000-01-01"]).is_empty());
    let out = log.peta(&["audit", "export", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn export_schema_is_stable() {
    let log = small_log();
    let out = log.peta(&["audit", "export", "--session", "none"]);
    let header = String::from_utf8_lossy(&out.stdout);
    let out = log.peta(&["audit", "export", "--tool", "echo", "--decision", "allow"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let event = text.lines().nth(1).expect("an event");
    let csv = log.peta(&["audit", "export", "--format", "csv", "--session", "none"]);
    let csv_header = String::from_utf8_lossy(&csv.stdout);
    let mask = |s: &str| -> String {
        let mut v: serde_json::Value = serde_json::from_str(s).expect("json");
        for k in [
            "generated_at",
            "database",
            "chain_head_hash",
            "ts",
            "session",
            "prev_hash",
            "hash",
            "bytes_sha256",
            "rpc_id",
            "args",
            "args_sha256",
            "chain_head_seq",
            "rows_in_log",
            "seq",
            "size",
        ] {
            if let Some(x) = v.get_mut(k)
                && !x.is_null()
            {
                *x = json!(format!("<{k}>"));
            }
        }
        serde_json::to_string_pretty(&v).expect("json")
    };
    // serde_json without preserve_order sorts keys when pretty-printing; the key order of
    // the raw lines is checked separately by verify_export.py.
    let snapshot = format!(
        "{}\n{}\n{}\n",
        mask(header.lines().next().expect("header")),
        mask(event),
        csv_header.lines().next().expect("csv header")
    );
    crate::cli::snapshot("export-schema.txt", &snapshot);
}

#[test]
fn retention_prunes_old_rows_and_records_it_in_the_chain() {
    let log = Log::with("retain = \"1s\"\n");
    for round in 0..2 {
        let mut s = log.record_session("retain");
        s.initialize();
        s.close_stdin();
        s.wait(Duration::from_secs(10));
        if round == 0 {
            std::thread::sleep(Duration::from_millis(1500));
        }
    }
    let conn = log.conn();
    let (first, prunes): (i64, i64) = conn
        .query_row(
            "SELECT MIN(seq), (SELECT COUNT(*) FROM events WHERE kind = 'prune') FROM events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("query");
    assert!(first > 1, "old rows are gone");
    assert_eq!(prunes, 1);
    drop(conn);
    let (ok, said) = log.verify();
    assert!(ok, "a recorded pruning verifies: {said}");
    // Deleting more without recording it is still caught.
    log.conn()
        .execute(
            "DELETE FROM events WHERE seq = (SELECT MIN(seq) FROM events)",
            [],
        )
        .expect("delete");
    let (ok, said) = log.verify();
    assert!(!ok && said.contains("missing"), "{said}");
}

#[test]
fn full_sync_is_accepted_and_used() {
    let log = Log::with("sync = \"full\"\n");
    let mut s = log.record_session("full-sync");
    s.initialize();
    s.send_json(&call("x", "echo"));
    s.response(json!("x"));
    s.close_stdin();
    assert!(s.wait(Duration::from_secs(10)).success());
    assert!(log.verify().0);
}

#[test]
fn tail_and_show_are_readable() {
    let log = small_log();
    let out = log.peta(&["audit", "tail", "-n", "5"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "a header and five rows:\n{text}");
    assert!(lines[0].starts_with("SEQ") || lines[0].trim_start().starts_with("SEQ"));
    // Aligned: the DECISION column starts at the same place on every line.
    let col = lines[0].find("DECISION").expect("DECISION column");
    for l in &lines[1..] {
        let prefix: String = l.chars().take(lines[0][..col].chars().count()).collect();
        assert!(
            prefix.chars().count() == lines[0][..col].chars().count(),
            "{l}"
        );
    }
    assert!(text.contains("session_end"));
    let out = log.peta(&["audit", "show", "5"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("         seq  5\n"), "{text}");
    assert!(text.contains("        hash  "), "{text}");
    let out = log.peta(&["audit", "show", "99999"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn files_are_private_and_the_default_location_is_the_state_dir() {
    let home = tempfile::tempdir().expect("home");
    let mut command = peta_command();
    command
        .env("XDG_STATE_HOME", home.path().join("state"))
        .args(["run", "--", peta(), "demo-server"]);
    let mut s = Session::start_with(&mut command);
    s.initialize();
    s.send_json(&call("x", "echo"));
    s.response(json!("x"));
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    let dir = home.path().join("state/peta");
    assert_eq!(mode(&dir), 0o700);
    for f in ["audit.db", "audit.db-wal", "audit.db-shm"] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    s.close_stdin();
    assert!(s.wait(Duration::from_secs(10)).success());
    assert_eq!(mode(&dir.join("audit.db.anchors")), 0o600);
}
