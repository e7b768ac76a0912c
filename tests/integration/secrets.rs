//! Secrets through the real binary: the child's environment is built from the allow-list and
//! the declared entries only; an injected canary never comes back in any encoding — not to
//! the client, not to stderr at trace level, not into the audit database, its WAL or its
//! exports; peta itself cannot be read by the server it starts.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use serde_json::json;

use crate::support::{
    ALLOW_ALL, SecretService, Session, external, peta, peta_command, required, wait_for_file,
};

/// Every encoding the redactor promises to catch, for a raw scan.
fn encodings(secret: &str) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let b = secret.as_bytes();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    vec![
        b.to_vec(),
        STANDARD.encode(b).into_bytes(),
        STANDARD_NO_PAD.encode(b).into_bytes(),
        URL_SAFE.encode(b).into_bytes(),
        URL_SAFE_NO_PAD.encode(b).into_bytes(),
        hex.to_uppercase().into_bytes(),
        hex.into_bytes(),
    ]
}

#[track_caller]
pub(crate) fn assert_no_canary(what: &str, haystack: &[u8], secret: &str) {
    for form in encodings(secret) {
        assert!(
            memchr::memmem::find(haystack, &form).is_none(),
            "{what} holds the canary as {}",
            String::from_utf8_lossy(&form)
        );
    }
}

pub(crate) fn canary() -> String {
    format!("canary-{}", uuid::Uuid::new_v4().simple())
}

/// A canary stored in one backend, and how a command reaches that backend.
struct Injected {
    reference: String,
    apply: Box<dyn Fn(&mut Command)>,
    _keep: Option<Box<dyn std::any::Any>>,
}

/// Stores `secret` through `peta secret set` (stdin, never argv) in `backend`.
fn inject(backend: &str, secret: &str) -> Option<Injected> {
    let store = |apply: &dyn Fn(&mut Command), args: &[&str]| {
        let mut command = peta_command();
        apply(&mut command);
        let mut child = command
            .args(["secret", "set", "canary"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("secret set");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{secret}\n").as_bytes())
            .expect("value");
        let out = child.wait_with_output().expect("secret set");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    match backend {
        "env" => {
            let secret = secret.to_owned();
            Some(Injected {
                reference: "env:PETA_CANARY".into(),
                apply: Box::new(move |c| {
                    c.env("PETA_CANARY", &secret);
                }),
                _keep: None,
            })
        }
        "keyring" => {
            let service = std::rc::Rc::new(SecretService::start()?);
            let kept = service.clone();
            let apply = move |c: &mut Command| {
                service.apply(c);
            };
            store(&apply, &[]);
            Some(Injected {
                reference: "keyring:canary".into(),
                apply: Box::new(apply),
                _keep: Some(Box::new(kept)),
            })
        }
        "age" => {
            let data = std::rc::Rc::new(tempfile::tempdir().expect("data dir"));
            let kept = data.clone();
            let apply = move |c: &mut Command| {
                c.env("XDG_DATA_HOME", data.path());
            };
            let mut init = peta_command();
            apply(&mut init);
            let out = init.args(["vault", "init"]).output().expect("vault init");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            store(&apply, &["--vault"]);
            Some(Injected {
                reference: "age:canary".into(),
                apply: Box::new(apply),
                _keep: Some(Box::new(kept)),
            })
        }
        other => panic!("no backend {other}"),
    }
}

#[test]
fn a_canary_from_the_environment_never_flows_back() {
    canary_never_flows_back("env");
}

#[test]
fn a_canary_from_the_keyring_never_flows_back() {
    canary_never_flows_back("keyring");
}

#[test]
fn a_canary_from_the_vault_never_flows_back() {
    canary_never_flows_back("age");
}

pub(crate) fn canary_never_flows_back(backend: &str) {
    let secret = canary();
    let Some(injected) = inject(backend, &secret) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("audit.db");
    let config = dir.path().join("peta.toml");
    std::fs::write(
        &config,
        format!("{ALLOW_ALL}[audit]\npath = \"{}\"\n", db.display()),
    )
    .expect("config");
    // The server also prints the secret to its stderr before it starts.
    let script = format!(
        "echo \"starting with $API_TOKEN\" >&2; exec {} demo-server",
        peta()
    );
    let mut command = peta_command();
    (injected.apply)(&mut command);
    command
        .env("PETA_LOG", "trace")
        .args(["run", "--config"])
        .arg(&config)
        .args([
            "--env",
            &format!("API_TOKEN={}", injected.reference),
            "--",
            "sh",
            "-c",
            &script,
        ]);
    let mut s = Session::start_with(&mut command);
    s.initialize();
    s.send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_env", "arguments": {"name": "API_TOKEN"}}}));
    let raw = s.recv_raw();
    let reply: serde_json::Value = serde_json::from_slice(&raw).expect("json");
    assert_eq!(
        reply["result"]["content"][0]["text"], "[REDACTED:API_TOKEN]",
        "{reply}"
    );
    assert_no_canary("the client's stdout", &raw, &secret);
    // The model echoing the secret in arguments does not put it into the log either.
    s.send_json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": format!("it is {secret}")}}}));
    let echoed = s.response(json!(2));
    assert_eq!(
        echoed["result"]["content"][0]["text"],
        "it is [REDACTED:API_TOKEN]"
    );
    // While the session runs, the WAL holds the rows.
    for suffix in ["", "-wal", "-shm"] {
        let bytes = std::fs::read(format!("{}{suffix}", db.display())).unwrap_or_default();
        assert_no_canary(&format!("audit.db{suffix}"), &bytes, &secret);
    }
    s.close_stdin();
    assert!(s.wait(Duration::from_secs(10)).success());
    let stderr = s.stderr();
    assert!(
        stderr.contains("starting with [REDACTED:API_TOKEN]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "trace logging was on"
    );
    assert_no_canary("peta's stderr", stderr.as_bytes(), &secret);
    for suffix in ["", "-wal", "-shm", ".anchors"] {
        let bytes = std::fs::read(format!("{}{suffix}", db.display())).unwrap_or_default();
        assert_no_canary(&format!("audit.db{suffix}"), &bytes, &secret);
    }
    for format in ["jsonl", "csv", "json"] {
        let out = peta_command()
            .args(["audit", "export", "--format", format, "--db"])
            .arg(&db)
            .output()
            .expect("export");
        assert_eq!(out.status.code(), Some(0));
        assert_no_canary(&format!("the {format} export"), &out.stdout, &secret);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("[REDACTED:API_TOKEN]"),
            "{format}: the echo row keeps its redacted arguments"
        );
    }
    everything_get_env_is_redacted(&injected, &secret);
}

/// server-everything's get-env returns the server's whole environment.
fn everything_get_env_is_redacted(injected: &Injected, secret: &str) {
    let Some(everything) = external("PETA_E2E_EVERYTHING") else {
        return;
    };
    let mut command = peta_command();
    (injected.apply)(&mut command);
    command.args([
        "run",
        "--env",
        &format!("GITHUB_TOKEN={}", injected.reference),
        "--",
        "node",
        &everything,
        "stdio",
    ]);
    let mut s = Session::start_with(&mut command);
    s.initialize();
    s.send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get-env", "arguments": {}}}));
    let raw = loop {
        let raw = s.recv_raw();
        let v: serde_json::Value = serde_json::from_slice(&raw).expect("json");
        if v["id"] == 1 {
            break raw;
        }
    };
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("[REDACTED:GITHUB_TOKEN]"), "{text}");
    assert_no_canary("server-everything's get-env result", &raw, secret);
    s.close_stdin();
    s.wait(Duration::from_secs(10));
    assert_no_canary("peta's stderr", s.stderr().as_bytes(), secret);
}

#[test]
fn the_child_environment_is_the_allow_list_plus_declared_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("environ");
    let script = format!(
        "cat /proc/$$/environ > {0}.tmp && mv {0}.tmp {0}; cat > /dev/null",
        out.display()
    );
    let mut command = peta_command();
    command
        .env("PETA_NOT_FOR_THE_SERVER", "leak")
        .env("LC_TEST_ALLOWED", "x")
        .args(["run", "--env", "DECLARED=1", "--sandbox-write"])
        .arg(dir.path())
        .args(["--", "bash", "-c", &script]);
    let mut s = Session::start_with(&mut command);
    let environ = wait_for_file(&out);
    let mut keys: Vec<&str> = environ
        .split('\0')
        .filter(|e| !e.is_empty())
        .filter_map(|e| e.split('=').next())
        .collect();
    keys.sort_unstable();
    let allowed = [
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "LANG",
        "LANGUAGE",
        "TERM",
        "TMPDIR",
        "TZ",
        "NODE_EXTRA_CA_CERTS",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "PIP_CERT",
        "GIT_SSL_CAINFO",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "CLAUDE_PROJECT_DIR",
        "DECLARED",
    ];
    for k in &keys {
        // bash adds PWD, SHLVL and _ to its own environment before cat reads it.
        assert!(
            allowed.contains(k)
                || k.starts_with("LC_")
                || k.starts_with("XDG_")
                || ["PWD", "SHLVL", "_"].contains(k),
            "the server got {k}: {keys:?}"
        );
    }
    assert!(
        keys.contains(&"DECLARED") && keys.contains(&"LC_TEST_ALLOWED") && keys.contains(&"PATH"),
        "{keys:?}"
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn an_unresolvable_reference_stops_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("ran");
    let out = peta_command()
        .env_remove("PETA_SURELY_UNSET")
        .args(["run", "--env", "TOKEN=env:PETA_SURELY_UNSET", "--", "touch"])
        .arg(&marker)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TOKEN=env:PETA_SURELY_UNSET") && stderr.contains("hint: "),
        "{stderr}"
    );
    assert!(!marker.exists(), "the server never ran");
    let out = peta_command()
        .args(["run", "--env", "TOKEN=keyring:github", "--", "touch"])
        .arg(&marker)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(78));
    assert!(!marker.exists());
}

/// As an unprivileged user (root may read any process), the server cannot read peta's
/// environment or memory: peta is not dumpable.
#[test]
fn the_server_cannot_read_peta() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        // Already unprivileged: run as we are.
        return check_unreadable(&mut peta_command());
    }
    if !Path::new("/usr/bin/setpriv").exists() {
        assert!(
            !required(),
            "setpriv (util-linux) is needed to run this test as root"
        );
        return;
    }
    // The build directory may not be reachable for that user: run a copy of the binary.
    let dir = open_dir();
    let copy = dir.path().join("peta");
    std::fs::copy(peta(), &copy).expect("copy peta");
    let mut command = Command::new("/usr/bin/setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&copy);
    check_unreadable(&mut command);
}

/// A temporary directory any user may enter and write.
fn open_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    dir
}

fn check_unreadable(command: &mut Command) {
    // The state directory and the directory the server writes its finding to: apart, since
    // a box never makes peta's state writable.
    let dir = open_dir();
    let out_dir = open_dir();
    let out = out_dir.path().join("result");
    let script = format!(
        "if cat /proc/$PPID/environ >/dev/null 2>&1; then r=readable; else r=denied; fi; \
         if cat /proc/self/environ >/dev/null 2>&1; then s=own-ok; else s=own-denied; fi; \
         echo $r $s > {0}.tmp && mv {0}.tmp {0}; cat >/dev/null",
        out.display()
    );
    command
        .env("XDG_STATE_HOME", dir.path())
        .env("PETA_CANARY", "secret-value-123")
        .args([
            "run",
            "--env",
            "T=env:PETA_CANARY",
            "--sandbox-write",
            &out_dir.path().display().to_string(),
            "--",
            "sh",
            "-c",
            &script,
        ]);
    let mut s = Session::start_with(command);
    let said = wait_for_file(&out);
    assert_eq!(
        said.trim(),
        "denied own-ok",
        "the server read peta's environment"
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}
