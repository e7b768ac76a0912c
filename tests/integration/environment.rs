//! The server's environment as a client really starts peta: the variables servers need pass,
//! a credential inside a proxy URL is redacted like an injected secret, the dropped names are
//! shown by `peta doctor --server NAME` (never their values), and `peta run` takes the
//! server's command with or without `--`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Session, peta, peta_command};

fn text(reply: &Value) -> &str {
    reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
}

fn get_env(s: &mut Session, id: u64, name: &str) -> Value {
    s.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "get_env", "arguments": {"name": name}}}));
    s.response(json!(id))
}

/// What a client like Claude Code passes its servers, besides the basics.
const PASSED: &[(&str, &str)] = &[
    ("NODE_EXTRA_CA_CERTS", "/etc/corp/ca.pem"),
    ("SSL_CERT_FILE", "/etc/corp/bundle.pem"),
    ("SSL_CERT_DIR", "/etc/corp/certs"),
    ("REQUESTS_CA_BUNDLE", "/etc/corp/bundle.pem"),
    ("CURL_CA_BUNDLE", "/etc/corp/bundle.pem"),
    ("PIP_CERT", "/etc/corp/bundle.pem"),
    ("GIT_SSL_CAINFO", "/etc/corp/bundle.pem"),
    ("NO_PROXY", "localhost,127.0.0.1"),
    ("no_proxy", "localhost"),
    ("CLAUDE_PROJECT_DIR", "/home/someone/project"),
    ("XDG_DATA_HOME", "/home/someone/.local/share"),
    ("LC_ALL", "C.UTF-8"),
];

#[test]
fn the_variables_servers_need_pass_and_a_proxy_password_is_redacted() {
    let mut command = peta_command();
    command
        .args(["run", "--", peta(), "demo-server"])
        .env(
            "HTTPS_PROXY",
            "http://alice:correct-horse-battery@proxy.corp:3128",
        )
        .env("http_proxy", "http://bob:p%40ss-word-long@proxy.corp:3128")
        .env("PETA_TEST_UNRELATED_SECRET", "do-not-pass-this");
    for (k, v) in PASSED {
        command.env(k, v);
    }
    let mut s = Session::start_with(&mut command);
    s.initialize();
    let mut id = 1;
    for (name, value) in PASSED {
        id += 1;
        let reply = get_env(&mut s, id, name);
        assert_eq!(text(&reply), *value, "{name}: {reply}");
    }
    let proxy = get_env(&mut s, 100, "HTTPS_PROXY");
    assert_eq!(
        text(&proxy),
        "http://alice:[REDACTED:HTTPS_PROXY]@proxy.corp:3128",
        "the proxy passes, its password hidden from what flows back"
    );
    let proxy = get_env(&mut s, 101, "http_proxy");
    assert!(
        !text(&proxy).contains("p%40ss-word-long") && text(&proxy).contains("REDACTED"),
        "{proxy}"
    );
    let other = get_env(&mut s, 102, "PETA_TEST_UNRELATED_SECRET");
    assert_eq!(text(&other), "PETA_TEST_UNRELATED_SECRET is not set");
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}

#[test]
fn dropped_names_are_logged_and_shown_by_doctor_never_their_values() {
    let mut command = peta_command();
    command
        .args(["run", "--", peta(), "demo-server"])
        .env("PETA_LOG", "debug")
        .env("PETA_TEST_DROPPED_TOKEN", "value-that-must-not-show");
    let mut s = Session::start_with(&mut command);
    s.initialize();
    s.close_stdin();
    s.wait(Duration::from_secs(10));
    let log = s.stderr();
    assert!(log.contains("PETA_TEST_DROPPED_TOKEN"), "{log}");
    assert!(!log.contains("value-that-must-not-show"), "{log}");

    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("peta.toml");
    std::fs::write(
        &config,
        format!(
            "[servers.demo]\ncommand = [\"{}\", \"demo-server\"]\nenv = {{ DEMO_MODE = \"on\" }}\n",
            peta()
        ),
    )
    .expect("config");
    let out = peta_command()
        .args(["doctor", "--server", "demo", "--config"])
        .arg(&config)
        .env("PETA_TEST_DROPPED_TOKEN", "value-that-must-not-show")
        .env("NODE_EXTRA_CA_CERTS", "/etc/corp/ca.pem")
        .output()
        .expect("doctor");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("PETA_TEST_DROPPED_TOKEN"), "{said}");
    assert!(said.contains("NODE_EXTRA_CA_CERTS"), "{said}");
    assert!(said.contains("DEMO_MODE"), "{said}");
    assert!(!said.contains("value-that-must-not-show"), "{said}");
    assert!(!said.contains("/etc/corp/ca.pem"), "{said}");
}

#[test]
fn peta_run_takes_the_command_without_a_double_dash() {
    // As the Inspector passes it (it swallows `--`), and with the server's own flags that
    // look like peta's after the command.
    for args in [
        vec!["run", peta(), "demo-server"],
        vec!["run", "--server", "x", peta(), "demo-server"],
        vec!["run", "--", peta(), "demo-server"],
    ] {
        let mut s = Session::start(&args);
        s.initialize();
        s.close_stdin();
        let status = s.wait(Duration::from_secs(10));
        assert_eq!(status.code(), Some(0), "{args:?}: {}", s.stderr());
    }
    // Outside /tmp (private in the server's box), in a directory the box may write.
    let dir = crate::support::visible_tempdir();
    let seen = dir.path().join("argv");
    let script = format!("printf '%s\\n' \"$@\" > {}; cat >/dev/null", seen.display());
    let write = dir.path().display().to_string();
    let mut s = Session::start([
        "run",
        "--server",
        "x",
        "--sandbox-write",
        &write,
        "bash",
        "-c",
        &script,
        "server",
        "--server",
        "y",
        "--config",
        "z",
        "--env",
        "A=B",
        "--",
    ]);
    let argv = crate::support::wait_for_file(&seen);
    assert_eq!(
        argv.lines().collect::<Vec<_>>(),
        ["--server", "y", "--config", "z", "--env", "A=B", "--"],
        "the server's arguments are the server's"
    );
    s.close_stdin();
    s.wait(Duration::from_secs(10));
}
