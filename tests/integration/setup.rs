//! `peta init`, `peta config check` and `peta doctor` through the binary.

use std::path::Path;
use std::process::Output;

use crate::support::{SecretService, peta_command};

fn peta_in(home: &Path, args: &[&str]) -> Output {
    peta_command()
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_RUNTIME_DIR", home.join("runtime"))
        .args(args)
        .output()
        .expect("peta")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn init_writes_a_starter_that_config_check_accepts() {
    let home = tempfile::tempdir().expect("home");
    let out = peta_in(home.path(), &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let file = home.path().join("config/peta/peta.toml");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&file).expect("written").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("peta.example.toml"))
            .expect("example"),
    );
    let out = peta_in(home.path(), &["config", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).starts_with(&format!("ok: {}", file.display())),
        "{}",
        text(&out)
    );
    // Never overwritten by accident.
    std::fs::write(&file, "[relay]\nmax_line_byte = 1\n").expect("edit");
    let out = peta_in(home.path(), &["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("--force"), "{}", text(&out));
    // config check reports the mistake as `peta run` would.
    let out = peta_in(home.path(), &["config", "check"]);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(
        text(&out).contains("max_line_bytes"),
        "a suggestion: {}",
        text(&out)
    );
    assert_eq!(
        peta_in(home.path(), &["init", "--force"]).status.code(),
        Some(0)
    );
}

#[test]
fn doctor_says_what_works_and_what_to_fix() {
    let home = tempfile::tempdir().expect("home");
    let config = home.path().join("peta.toml");
    std::fs::write(
        &config,
        "[servers.good]\ncommand = [\"sh\", \"-c\", \"true\"]\n[servers.missing]\ncommand = [\"/nonexistent/mcp-server\"]\n",
    )
    .expect("config");
    let config = config.to_str().expect("utf-8");
    let out = peta_in(home.path(), &["doctor", "--config", config]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    let line = |start: &str| {
        said.lines()
            .find(|l| l.contains(start))
            .unwrap_or_else(|| panic!("no line about {start}:\n{said}"))
            .split_whitespace()
            .next()
            .expect("level")
            .to_owned()
    };
    assert_eq!(line("config:"), "ok");
    assert_eq!(line("server good"), "ok");
    assert_eq!(line("server missing"), "fail");
    assert_eq!(line("approval console"), "ok");
    assert!(
        said.contains("fix: install it, or give its absolute path"),
        "{said}"
    );

    // A keyring that answers, and an audit log that does not verify.
    let Some(service) = SecretService::start() else {
        return;
    };
    let db = home.path().join("state/peta/audit.db");
    std::fs::create_dir_all(db.parent().expect("dir")).expect("dir");
    std::fs::write(&db, b"not a database").expect("junk");
    let mut command = peta_command();
    service.apply(&mut command);
    let out = command
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_RUNTIME_DIR", home.path().join("runtime"))
        .args(["doctor", "--config", config])
        .output()
        .expect("doctor");
    let said = text(&out);
    assert!(
        said.lines()
            .any(|l| l.starts_with("ok") && l.contains("keyring: answers")),
        "{said}"
    );
    assert!(
        said.lines()
            .any(|l| l.starts_with("fail") && l.contains("audit log")),
        "{said}"
    );
}
