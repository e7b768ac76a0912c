//! Forwarding the audit log (`[audit.forward]`) to real collectors: an OTLP/HTTP receiver
//! built on the official opentelemetry-proto Python package, and rsyslog from Debian's
//! packages, each started by the test on a loopback port. The chain is recomputed from what
//! arrived by `verify_forwarded.py`, independently of peta's code. Faults: a collector down
//! for the first half, `kill -9` of peta mid-batch, a collector that accepts and stalls.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{ALLOW_ALL, Session, external, fixture, peta, peta_command, python};

/// A private log, and a config that forwards it with `forward` (the `[audit.forward]` keys).
struct Log {
    dir: tempfile::TempDir,
}

impl Log {
    fn new(forward: &str) -> Log {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = Log { dir };
        log.configure(forward);
        log
    }

    fn configure(&self, forward: &str) {
        self.configure_with("", forward);
    }

    /// `audit` goes into `[audit]`, `forward` into `[audit.forward]`.
    fn configure_with(&self, audit: &str, forward: &str) {
        let mut config = format!(
            "{ALLOW_ALL}[audit]\npath = \"{}\"\n{audit}",
            self.db().display()
        );
        if !forward.is_empty() {
            config.push_str(&format!("[audit.forward]\n{forward}"));
        }
        std::fs::write(self.config(), config).expect("config");
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("audit.db")
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("peta.toml")
    }

    fn session(&self) -> Session {
        self.session_with(&[])
    }

    fn session_with(&self, env: &[(&str, &str)]) -> Session {
        let mut command = peta_command();
        command
            .args(["run", "--server", "demo", "--config"])
            .arg(self.config())
            .args(["--", peta(), "demo-server"]);
        for (k, v) in env {
            command.env(k, v);
        }
        Session::start_with(&mut command)
    }

    fn peta(&self, args: &[&str]) -> std::process::Output {
        peta_command()
            .args(args)
            .arg("--config")
            .arg(self.config())
            .output()
            .expect("run peta")
    }

    /// Every seq in the log, in order.
    fn seqs(&self) -> Vec<i64> {
        let conn = rusqlite::Connection::open(self.db()).expect("open");
        let mut stmt = conn
            .prepare("SELECT seq FROM events ORDER BY seq")
            .expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    /// The forwarding cursor, as the file says.
    fn cursor(&self) -> i64 {
        let text = std::fs::read(self.dir.path().join("audit.db.forward")).expect("cursor");
        serde_json::from_slice::<Value>(&text).expect("json")["seq"]
            .as_i64()
            .expect("seq")
    }
}

/// `n` echo calls, each answered normally; returns how long they took.
#[track_caller]
fn calls(s: &mut Session, tag: &str, n: usize) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        let id = format!("{tag}-{i}");
        s.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": format!("héllo {id} 😀")}}}));
        let reply = s.response(json!(id));
        assert!(
            reply["result"].is_object() && reply["result"]["isError"] != true,
            "{reply}"
        );
    }
    start.elapsed()
}

#[track_caller]
fn finish(mut s: Session) {
    s.close_stdin();
    let status = s.wait(Duration::from_secs(20));
    assert!(status.success(), "{}", s.stderr());
}

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[track_caller]
fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `verify_forwarded.py KIND FILE`.
fn verify(kind: &str, file: &Path) -> Value {
    let out = Command::new(python())
        .arg(fixture("verify_forwarded.py"))
        .arg(kind)
        .arg(file)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("summary")
}

/// Every row of the log arrived, first arrivals in order, and the chain verifies.
#[track_caller]
fn assert_complete(summary: &Value, log: &Log) {
    let seqs: Vec<i64> = summary["seqs"]
        .as_array()
        .expect("seqs")
        .iter()
        .map(|v| v.as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, log.seqs(), "every row arrived, in order: {summary}");
    assert_eq!(summary["in_order"], true, "{summary}");
    assert_eq!(summary["verified"], true, "{summary}");
}

/// The OTLP receiver of `otlp_receiver.py`.
struct Otlp {
    child: Child,
    port: u16,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl Otlp {
    fn start(args: &[&str]) -> Option<Otlp> {
        Self::start_on(0, args, None)
    }

    /// On `port` (0: any), appending to `out` when given.
    fn start_on(port: u16, args: &[&str], out: Option<&Path>) -> Option<Otlp> {
        let python = external("PETA_E2E_OTLP_PYTHON")?;
        let dir = tempfile::tempdir().expect("tempdir");
        let out = out.map_or_else(|| dir.path().join("records.jsonl"), Path::to_owned);
        let port_file = dir.path().join("port");
        let child = Command::new(python)
            .arg(fixture("otlp_receiver.py"))
            .arg("--out")
            .arg(&out)
            .arg("--port-file")
            .arg(&port_file)
            .args(["--port", &port.to_string()])
            .args(args)
            .stdin(Stdio::null())
            .spawn()
            .expect("start the OTLP receiver");
        let mut otlp = Otlp {
            child,
            port: 0,
            out,
            _dir: dir,
        };
        wait_until("the OTLP receiver listens", Duration::from_secs(20), || {
            port_file.exists()
        });
        otlp.port = std::fs::read_to_string(&port_file)
            .expect("port")
            .parse()
            .expect("a port");
        Some(otlp)
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/v1/logs", self.port)
    }

    fn records(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect()
    }

    fn verify(&self) -> Value {
        verify("otlp", &self.out)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Otlp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// rsyslogd from Debian's package, unprivileged, with a private configuration: TCP on a
/// loopback port, octet-counted framing, each message's MSG written to one file.
struct Rsyslog {
    child: Child,
    port: u16,
    out: PathBuf,
    dir: tempfile::TempDir,
}

impl Rsyslog {
    fn start() -> Option<Rsyslog> {
        Self::start_with(None)
    }

    /// With `tls`, the listener speaks TLS (RFC 5425) with that server certificate.
    fn start_with(tls: Option<&Certs>) -> Option<Rsyslog> {
        let rsyslogd = external("PETA_E2E_RSYSLOG")?;
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        std::fs::create_dir(d.join("spool")).expect("spool");
        let out = d.join("out.log");
        let (driver, module) = match tls {
            Some(certs) => (
                format!(
                    r#" DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="{}" DefaultNetstreamDriverCertFile="{}" DefaultNetstreamDriverKeyFile="{}""#,
                    certs.ca().display(),
                    certs.cert().display(),
                    certs.key().display()
                ),
                r#" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon""#,
            ),
            None => (String::new(), ""),
        };
        std::fs::write(
            d.join("rsyslog.conf"),
            format!(
                r#"global(workDirectory="{spool}" maxMessageSize="1m"{driver})
module(load="imtcp"{module})
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{port}" name="peta")
template(name="row" type="string" string="%hostname% %app-name% %msgid% %msg%\n")
if $inputname == "peta" then {{
  action(type="omfile" file="{out}" template="row")
}}
"#,
                spool = d.join("spool").display(),
                port = d.join("port").display(),
                out = out.display(),
            ),
        )
        .expect("config");
        // Unprivileged when the tests run as root: rsyslog needs nothing more here.
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let mut command = if root {
            chown_tree(d, 65534);
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                &rsyslogd,
            ]);
            c
        } else {
            Command::new(&rsyslogd)
        };
        let child = command
            .arg("-n")
            .arg("-f")
            .arg(d.join("rsyslog.conf"))
            .arg("-i")
            .arg(d.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rsyslogd");
        let port_file = d.join("port");
        wait_until("rsyslog listens", Duration::from_secs(20), || {
            std::fs::read_to_string(&port_file).is_ok_and(|p| p.trim().parse::<u16>().is_ok())
        });
        let port = std::fs::read_to_string(&port_file)
            .expect("port")
            .trim()
            .parse()
            .expect("port");
        Some(Rsyslog {
            child,
            port,
            out,
            dir,
        })
    }

    fn lines(&self) -> usize {
        std::fs::read_to_string(&self.out)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = &self.dir;
    }
}

fn chown_tree(dir: &Path, uid: u32) {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: a valid C string; the ids are plain numbers.
    unsafe { libc::chown(c.as_ptr(), uid, uid) };
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            chown_tree(&entry.path(), uid);
        }
    }
}

/// A private CA and a server certificate for 127.0.0.1 and localhost it signed, made with
/// the openssl command.
struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    fn new() -> Certs {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        std::fs::write(
            d.join("ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .expect("ext");
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        for args in [
            [
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-subj",
                    "/CN=peta test CA",
                    "-days",
                    "2",
                ],
            ]
            .concat(),
            [
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    "key.pem",
                    "-out",
                    "leaf.csr",
                    "-subj",
                    "/CN=localhost",
                ],
            ]
            .concat(),
            vec![
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "cert.pem",
                "-days",
                "2",
                "-extfile",
                "ext",
            ],
        ] {
            let out = Command::new("openssl")
                .args(&args)
                .current_dir(d)
                .output()
                .expect("openssl");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // rsyslog runs as nobody and must read its key.
        chown_tree(d, 65534);
        for f in ["key.pem", "cert.pem", "ca.pem"] {
            let c = std::ffi::CString::new(d.join(f).as_os_str().as_encoded_bytes()).expect("path");
            // SAFETY: a valid C string.
            unsafe { libc::chown(c.as_ptr(), 65534, 65534) };
        }
        Certs { dir }
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }
}

const FAST: &str = "interval = \"100ms\"\nmax_backoff = \"400ms\"\ntimeout = \"2s\"\n";

#[test]
fn an_otlp_collector_receives_every_row_and_the_chain_verifies_from_the_attributes() {
    let Some(otlp) = Otlp::start(&["--require-header", "Authorization: Bearer 0tlp-t0ken-value"])
    else {
        return;
    };
    let log = Log::new(&format!(
        "protocol = \"otlp\"\nendpoint = \"{}\"\nheaders = {{ Authorization = \"env:PETA_TEST_OTLP_TOKEN\" }}\n{FAST}",
        otlp.endpoint()
    ));
    let token = [("PETA_TEST_OTLP_TOKEN", "Bearer 0tlp-t0ken-value")];
    let mut s = log.session_with(&token);
    s.initialize();
    calls(&mut s, "otlp", 20);
    let stderr = s.stderr();
    finish(s);
    let summary = otlp.verify();
    assert_complete(&summary, &log);
    assert_eq!(summary["repeats"], 0, "{summary}");
    let records = otlp.records();
    let call = records
        .iter()
        .find(|r| {
            r["attributes"]["peta.kind"] == "request"
                && r["attributes"]["mcp.method.name"] == "tools/call"
        })
        .expect("a tools/call row");
    let attrs = &call["attributes"];
    assert_eq!(attrs["gen_ai.tool.name"], "echo");
    assert_eq!(attrs["gen_ai.operation.name"], "execute_tool");
    assert_eq!(attrs["jsonrpc.request.id"], "otlp-0");
    assert_eq!(attrs["peta.server"], "demo");
    assert_eq!(attrs["peta.decision"], "allow");
    assert!(
        attrs["peta.seq"].is_i64(),
        "integers stay integers: {attrs}"
    );
    assert_eq!(call["event_name"], "peta.audit.request");
    let resource = &call["resource"];
    assert_eq!(resource["service.name"], "peta");
    assert!(
        resource["host.name"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
    assert!(
        resource["user.name"]
            .as_str()
            .is_some_and(|u| !u.is_empty())
    );
    assert_eq!(call["headers"]["content-type"], "application/x-protobuf");
    // The token reached the collector and nowhere else.
    let status = log.peta(&["audit", "forward", "--status"]);
    let said = String::from_utf8_lossy(&status.stdout);
    assert!(
        said.contains("Authorization (env:PETA_TEST_OTLP_TOKEN)"),
        "{said}"
    );
    assert!(said.contains("lag            none"), "{said}");
    for text in [&*said, &stderr] {
        assert!(!text.contains("0tlp-t0ken"), "the token leaked: {text}");
    }
    // doctor checks the endpoint with the same credentials, and says when they are wrong.
    let doctor = peta_command()
        .args(["doctor", "--config"])
        .arg(log.config())
        .env(token[0].0, token[0].1)
        .output()
        .expect("doctor");
    let said = String::from_utf8_lossy(&doctor.stdout);
    assert!(said.contains("ok    audit forwarding:"), "{said}");
    let doctor = peta_command()
        .args(["doctor", "--config"])
        .arg(log.config())
        .env(token[0].0, "Bearer wrong")
        .output()
        .expect("doctor");
    let said = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        said.contains("fail  audit forwarding:") && said.contains("HTTP 401"),
        "{said}"
    );
}

#[test]
fn rsyslog_receives_every_row_in_order_and_the_chain_verifies_from_the_messages() {
    let Some(rsyslog) = Rsyslog::start() else {
        return;
    };
    let log = Log::new(&format!(
        "protocol = \"syslog\"\nendpoint = \"tcp://127.0.0.1:{}\"\nbatch_size = 7\n{FAST}",
        rsyslog.port
    ));
    for round in 0..2 {
        let mut s = log.session();
        s.initialize();
        calls(&mut s, &format!("syslog{round}"), 15);
        finish(s);
    }
    let rows = log.seqs().len();
    // rsyslog writes what it read through its own queue: wait for it.
    wait_until("rsyslog wrote every row", Duration::from_secs(20), || {
        rsyslog.lines() >= rows
    });
    let summary = verify("syslog", &rsyslog.out);
    assert_complete(&summary, &log);
    let text = std::fs::read_to_string(&rsyslog.out).expect("out");
    let first = text.lines().next().expect("a line");
    assert!(
        first.contains(" peta session_start {"),
        "HOSTNAME APP-NAME MSGID as RFC 5424 parsed them: {first}"
    );
}

#[test]
fn a_collector_down_for_the_first_half_of_a_session_gets_every_row_after() {
    let port = free_port();
    let log = Log::new(&format!(
        "protocol = \"otlp\"\nendpoint = \"http://127.0.0.1:{port}/v1/logs\"\nbatch_size = 10\n{FAST}"
    ));
    let mut s = log.session();
    s.initialize();
    calls(&mut s, "down", 25);
    // Nothing listens yet: the forwarder is failing and retrying.
    wait_until("the failure is recorded", Duration::from_secs(20), || {
        std::fs::read_to_string(log.dir.path().join("audit.db.forward"))
            .is_ok_and(|t| t.contains("last_error\": \""))
    });
    let status = log.peta(&["audit", "forward", "--status"]);
    let said = String::from_utf8_lossy(&status.stdout);
    assert!(said.contains("last error"), "{said}");
    assert!(!said.contains("lag            none"), "{said}");
    let Some(otlp) = Otlp::start_on(port, &[], None) else {
        return;
    };
    calls(&mut s, "up", 25);
    finish(s);
    let summary = otlp.verify();
    assert_complete(&summary, &log);
    eprintln!("collector down, then up: {summary}");
}

#[test]
fn kill_9_mid_batch_then_forwarding_resumes_from_the_cursor() {
    // The receiver answers the first request, then records the second and never answers:
    // peta is killed while that batch waits for its acknowledgement.
    let Some(mut held) = Otlp::start(&["--hold-after", "1"]) else {
        return;
    };
    let port = held.port;
    let log = Log::new(&format!(
        "protocol = \"otlp\"\nendpoint = \"{}\"\nbatch_size = 20\ntimeout = \"60s\"\ninterval = \"100ms\"\n",
        held.endpoint()
    ));
    let mut s = log.session();
    s.initialize();
    calls(&mut s, "before-kill", 40);
    wait_until(
        "a second batch reached the receiver",
        Duration::from_secs(20),
        || held.records().iter().any(|r| r["request"] == 2),
    );
    // SAFETY: killing our own child.
    unsafe { libc::kill(s.pid(), libc::SIGKILL) };
    s.wait(Duration::from_secs(10));
    let acked: Vec<i64> = held
        .records()
        .iter()
        .filter(|r| r["request"] == 1)
        .map(|r| r["attributes"]["peta.seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(
        log.cursor(),
        *acked.last().expect("a first batch"),
        "the cursor stands at the last acknowledged row"
    );
    held.stop();
    let out = held.out.clone();
    let Some(otlp) = Otlp::start_on(port, &[], Some(&out)) else {
        return;
    };
    let drained = log.peta(&["audit", "forward"]);
    assert_eq!(
        drained.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&drained.stderr)
    );
    let summary = otlp.verify();
    assert_complete(&summary, &log);
    assert!(
        summary["repeats"].as_u64().is_some_and(|n| n > 0),
        "the unacknowledged batch went again: {summary}"
    );
    eprintln!("kill -9 mid-batch: {summary}");
}

#[test]
fn a_collector_that_accepts_then_stalls_leaves_tool_calls_alone() {
    for protocol in ["otlp", "syslog"] {
        let Some(stalled) = Otlp::start(&["--stall"]) else {
            return;
        };
        let endpoint = match protocol {
            "otlp" => stalled.endpoint(),
            _ => format!("tcp://127.0.0.1:{}", stalled.port),
        };
        let off = Log::new("");
        let mut s = off.session();
        s.initialize();
        let without = calls(&mut s, "off", 100);
        finish(s);
        let log = Log::new(&format!(
            "protocol = \"{protocol}\"\nendpoint = \"{endpoint}\"\nbatch_size = 5\ntimeout = \"1s\"\ninterval = \"50ms\"\nmax_backoff = \"200ms\"\n"
        ));
        let mut s = log.session();
        s.initialize();
        let with = calls(&mut s, "stalled", 100);
        s.close_stdin();
        let closing = Instant::now();
        assert!(s.wait(Duration::from_secs(20)).success(), "{}", s.stderr());
        let exit = closing.elapsed();
        eprintln!(
            "{protocol}: 100 calls {without:?} without forwarding, {with:?} with a stalled collector; exit took {exit:?}"
        );
        // The exit flush is bounded (1 s by default) whatever the collector does.
        assert!(exit < Duration::from_secs(8), "exit took {exit:?}");
        let status = log.peta(&["audit", "forward", "--status"]);
        let said = String::from_utf8_lossy(&status.stdout);
        assert!(said.contains("last error"), "{protocol}: {said}");
    }
}

#[test]
fn retention_never_prunes_rows_not_yet_forwarded_unless_told_to() {
    let port = free_port();
    let forward = format!(
        "protocol = \"syslog\"\nendpoint = \"tcp://127.0.0.1:{port}\"\nexit_flush = \"0s\"\n"
    );
    let log = Log::new("");
    log.configure_with("retain = \"1s\"\n", &forward);
    let round = |log: &Log| {
        let mut s = log.session();
        s.initialize();
        calls(&mut s, "r", 3);
        finish(s);
    };
    round(&log);
    std::thread::sleep(Duration::from_millis(1500));
    round(&log);
    let seqs = log.seqs();
    assert_eq!(
        seqs.first(),
        Some(&1),
        "nothing was forwarded, nothing pruned"
    );
    log.configure_with(
        "retain = \"1s\"\n",
        &format!("{forward}prune_unforwarded = true\n"),
    );
    std::thread::sleep(Duration::from_millis(1500));
    round(&log);
    let seqs = log.seqs();
    assert!(seqs[0] > 1, "pruned once allowed: {seqs:?}");
    let verified = log.peta(&["audit", "verify"]);
    assert_eq!(verified.status.code(), Some(0));
}

#[test]
fn sessions_sharing_a_log_forward_it_once() {
    let Some(otlp) = Otlp::start(&[]) else {
        return;
    };
    let log = Log::new(&format!(
        "protocol = \"otlp\"\nendpoint = \"{}\"\nbatch_size = 50\n{FAST}",
        otlp.endpoint()
    ));
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let mut s = log.session();
            std::thread::spawn(move || {
                s.initialize();
                calls(&mut s, &format!("shared{n}"), 30);
                s
            })
        })
        .collect();
    let sessions: Vec<Session> = threads
        .into_iter()
        .map(|t| t.join().expect("session"))
        .collect();
    for s in sessions {
        finish(s);
    }
    // The last session to exit may not be the forwarder: drain what is left.
    let drained = log.peta(&["audit", "forward"]);
    assert_eq!(
        drained.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&drained.stderr)
    );
    let summary = otlp.verify();
    assert_complete(&summary, &log);
    assert_eq!(
        summary["repeats"], 0,
        "one forwarder, no repeats: {summary}"
    );
}

#[test]
fn syslog_over_tls_trusts_only_the_configured_ca() {
    let certs = Certs::new();
    let Some(rsyslog) = Rsyslog::start_with(Some(&certs)) else {
        return;
    };
    let endpoint = format!("tls://127.0.0.1:{}", rsyslog.port);
    // Without the team's CA the server's certificate is not trusted: nothing is sent.
    let log = Log::new(&format!(
        "protocol = \"syslog\"\nendpoint = \"{endpoint}\"\n{FAST}"
    ));
    let doctor = log.peta(&["doctor"]);
    let said = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        said.contains("fail  audit forwarding:") && said.contains("TLS"),
        "{said}"
    );
    let mut s = log.session();
    s.initialize();
    calls(&mut s, "untrusted", 3);
    finish(s);
    assert_eq!(rsyslog.lines(), 0, "nothing reached an untrusted server");
    // With it, every row goes, the ones written before included.
    log.configure(&format!(
        "protocol = \"syslog\"\nendpoint = \"{endpoint}\"\nca_file = \"{}\"\n{FAST}",
        certs.ca().display()
    ));
    let drained = log.peta(&["audit", "forward"]);
    assert_eq!(
        drained.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&drained.stderr)
    );
    let rows = log.seqs().len();
    wait_until("rsyslog wrote every row", Duration::from_secs(20), || {
        rsyslog.lines() >= rows
    });
    assert_complete(&verify("syslog", &rsyslog.out), &log);
}
