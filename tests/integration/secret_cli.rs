//! `peta secret` and `peta vault` through the binary: a real Secret Service (gnome-keyring on
//! a private D-Bus session), a vault shared by two people, and the ways a vault or an
//! identity can be wrong — each stopping the server's start.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{SecretService, peta_command};

/// Runs `peta args` with `stdin` and the environment `setup` gives.
fn peta_with(setup: &dyn Fn(&mut Command), args: &[&str], stdin: &[u8]) -> Output {
    let mut command = peta_command();
    setup(&mut command);
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("peta");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("stdin");
    child.wait_with_output().expect("peta")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn keyring_set_get_list_rm_against_a_real_secret_service() {
    let Some(service) = SecretService::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("peta.toml");
    std::fs::write(
        &config,
        "[servers.gh]\ncommand = [\"true\"]\n[servers.gh.env]\nGITHUB_TOKEN = \"keyring:github\"\nOTHER = \"keyring:not-stored\"\n",
    )
    .expect("config");
    let setup = |c: &mut Command| {
        service.apply(c);
    };
    let value = "ghp_keyring_value_0123456789";
    let out = peta_with(
        &setup,
        &["secret", "set", "github"],
        format!("{value}\n").as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("stored keyring:github"));

    let out = peta_with(&setup, &["secret", "get", "github"], b"");
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "get without --reveal prints no value"
    );
    assert!(text(&out.stderr).contains(&format!("is set ({} bytes)", value.len())));
    assert!(!text(&out.stderr).contains(value));

    let out = peta_with(&setup, &["secret", "get", "github", "--reveal"], b"");
    assert_eq!(
        text(&out.stdout),
        value,
        "stdin's trailing newline is dropped"
    );

    let config_arg = config.to_str().expect("utf-8");
    let out = peta_with(&setup, &["secret", "list", "--config", config_arg], b"");
    let listing = text(&out.stdout);
    assert!(!listing.contains(value));
    let line = |name: &str| {
        listing
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing from {listing}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("github"), "github keyring set gh.GITHUB_TOKEN");
    assert_eq!(line("not-stored"), "not-stored keyring MISSING gh.OTHER");

    let replaced = peta_with(
        &setup,
        &["secret", "set", "github"],
        b"ghp_second_value_0123456789",
    );
    assert!(text(&replaced.stderr).contains("replaced keyring:github"));
    let out = peta_with(&setup, &["secret", "rm", "github"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = peta_with(&setup, &["secret", "get", "github"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("hint: "));

    // Nothing usable on stdin: refused, nothing stored.
    for bad in [&b""[..], b"\n", b"a\0b"] {
        let out = peta_with(&setup, &["secret", "set", "bad"], bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out.stderr));
    }
    let out = peta_with(&setup, &["secret", "get", "bad"], b"");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn an_unreachable_keyring_stops_the_start_at_once() {
    let dir = tempfile::tempdir().expect("dir");
    let marker = dir.path().join("ran");
    let started = Instant::now();
    let out = peta_command()
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", dir.path().join("no-bus").display()),
        )
        .args(["run", "--env", "TOKEN=keyring:github", "--", "touch"])
        .arg(&marker)
        .output()
        .expect("run");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("TOKEN=keyring:github"), "{stderr}");
    assert!(stderr.contains("hint: "), "{stderr}");
    assert!(!marker.exists(), "the server never ran");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no waiting loop"
    );
}

/// One person: their own data directory (identity) and a config naming the shared vault.
struct Person {
    data: tempfile::TempDir,
    config: PathBuf,
}

impl Person {
    fn new(vault: &Path) -> Person {
        let data = tempfile::tempdir().expect("data");
        let config = data.path().join("peta.toml");
        std::fs::write(
            &config,
            format!("[vault]\npath = \"{}\"\n", vault.display()),
        )
        .expect("config");
        Person { data, config }
    }

    fn peta(&self, args: &[&str], stdin: &[u8]) -> Output {
        let setup = |c: &mut Command| {
            c.env("XDG_DATA_HOME", self.data.path())
                .env("PETA_CONFIG", &self.config);
        };
        peta_with(&setup, args, stdin)
    }

    fn identity_file(&self) -> PathBuf {
        self.data.path().join("peta/identity.txt")
    }
}

#[test]
fn a_vault_shared_by_two_people() {
    let repo = tempfile::tempdir().expect("repo");
    let vault = repo.path().join("team/vault.age");
    let (alice, bob) = (Person::new(&vault), Person::new(&vault));

    let out = alice.peta(&["vault", "init"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let alice_key = text(&out.stdout).trim().to_owned();
    assert!(alice_key.starts_with("age1"), "{alice_key}");
    let out = alice.peta(
        &["secret", "set", "db", "--vault"],
        b"postgres://team-canary-value",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = bob.peta(&["vault", "init"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bob_key = text(&out.stdout).trim().to_owned();
    assert!(
        text(&out.stderr).contains("not encrypted to you"),
        "{}",
        text(&out.stderr)
    );
    let out = bob.peta(&["secret", "get", "db", "--vault", "--reveal"], b"");
    assert_eq!(out.status.code(), Some(125));
    assert!(
        text(&out.stderr).contains(&format!("peta vault recipients add {bob_key}")),
        "{}",
        text(&out.stderr)
    );

    let out = alice.peta(&["vault", "recipients", "add", &bob_key], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = bob.peta(&["secret", "get", "db", "--vault", "--reveal"], b"");
    assert_eq!(text(&out.stdout), "postgres://team-canary-value");
    let out = bob.peta(&["vault", "recipients", "list"], b"");
    let listing = text(&out.stdout);
    assert!(listing.contains(&format!("{bob_key}  (you)")), "{listing}");
    assert!(listing.contains(&alice_key));
    let copy = std::fs::read_to_string(vault.with_extension("recipients")).expect("copy");
    assert!(copy.contains(&alice_key) && copy.contains(&bob_key));
    let armored = std::fs::read_to_string(&vault).expect("vault");
    assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    assert!(!armored.contains("team-canary"));

    // Alice cannot remove herself; she can remove Bob, who then cannot open it.
    let out = alice.peta(&["vault", "recipients", "rm", &alice_key], b"");
    assert_eq!(out.status.code(), Some(125));
    let out = alice.peta(&["vault", "recipients", "rm", &bob_key], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("rotate"));
    let out = bob.peta(&["secret", "get", "db", "--vault"], b"");
    assert_eq!(out.status.code(), Some(125));
    let out = alice.peta(&["vault", "recipients", "add", "age1-not-a-key"], b"");
    assert_eq!(out.status.code(), Some(2));
}

/// Runs a server with `DB=age:db` for `person` and returns (exit code, stderr, whether the
/// server ran).
fn start_with_vault(person: &Person) -> (Option<i32>, String, bool) {
    // Not beside the vault: a box never makes peta's data directory writable.
    let writable = tempfile::tempdir().expect("dir");
    let marker = writable.path().join("ran");
    let out = peta_command()
        .env("XDG_DATA_HOME", person.data.path())
        .env("PETA_CONFIG", &person.config)
        .args(["run", "--env", "DB=age:db", "--sandbox-write"])
        .arg(writable.path())
        .args(["--", "touch"])
        .arg(&marker)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    (out.status.code(), text(&out.stderr), marker.exists())
}

#[test]
fn a_bad_vault_or_identity_stops_the_start() {
    use std::os::unix::fs::PermissionsExt;
    let repo = tempfile::tempdir().expect("repo");
    let vault = repo.path().join("vault.age");
    let alice = Person::new(&vault);
    assert!(alice.peta(&["vault", "init"], b"").status.success());
    assert!(
        alice
            .peta(
                &["secret", "set", "db", "--vault"],
                b"postgres://value-1234"
            )
            .status
            .success()
    );
    let (code, stderr, ran) = start_with_vault(&alice);
    assert_eq!((code, ran), (Some(0), true), "{stderr}");

    // Someone who is not a recipient.
    let carol = Person::new(&vault);
    assert!(carol.peta(&["vault", "init"], b"").status.success());
    let (code, stderr, ran) = start_with_vault(&carol);
    assert_eq!((code, ran), (Some(78), false));
    assert!(
        stderr.contains("DB=age:db") && stderr.contains("not encrypted to your identity"),
        "{stderr}"
    );

    // A name the vault does not hold.
    let missing = peta_command()
        .env("XDG_DATA_HOME", alice.data.path())
        .env("PETA_CONFIG", &alice.config)
        .args(["run", "--env", "X=age:nope", "--", "true"])
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(78));
    assert!(text(&missing.stderr).contains("peta secret set nope --vault"));

    // Group- or world-writable vault, readable identity: refused like ssh's StrictModes.
    let chmod = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod")
    };
    for mode in [0o620, 0o602] {
        chmod(&vault, mode);
        let (code, stderr, ran) = start_with_vault(&alice);
        assert_eq!((code, ran), (Some(78), false), "{mode:o}");
        assert!(
            stderr.contains("bad permissions") && stderr.contains("writable by other users"),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("hint: chmod go-w {}", vault.display())),
            "{stderr}"
        );
    }
    chmod(&vault, 0o644);
    assert_eq!(
        start_with_vault(&alice).0,
        Some(0),
        "a readable vault is fine"
    );
    chmod(&alice.identity_file(), 0o644);
    let (code, stderr, ran) = start_with_vault(&alice);
    assert_eq!((code, ran), (Some(78), false));
    assert!(
        stderr.contains("readable by other users") && stderr.contains("chmod go-rwx"),
        "{stderr}"
    );
    chmod(&alice.identity_file(), 0o600);

    // Truncated or corrupted: the child never starts with part of a vault.
    let good = std::fs::read(&vault).expect("vault");
    for damaged in [good[..good.len() / 2].to_vec(), {
        let mut v = good.clone();
        let i = v.len() - 60;
        v[i] = if v[i] == b'Q' { b'R' } else { b'Q' };
        v
    }] {
        std::fs::write(&vault, &damaged).expect("damage");
        let (code, stderr, ran) = start_with_vault(&alice);
        assert_eq!((code, ran), (Some(78), false), "{stderr}");
        assert!(
            stderr.contains("damaged") || stderr.contains("not an age file"),
            "{stderr}"
        );
    }
    std::fs::write(&vault, &good).expect("restore");
    assert_eq!(start_with_vault(&alice).0, Some(0));
}

#[test]
fn import_a_client_config_into_the_vault() {
    let repo = tempfile::tempdir().expect("repo");
    let person = Person::new(&repo.path().join("vault.age"));
    assert!(person.peta(&["vault", "init"], b"").status.success());
    let client = repo.path().join("claude_desktop_config.json");
    std::fs::write(
        &client,
        r#"{"mcpServers": {
            "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                       "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_imported_0123456789abcdef"}},
            "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]},
            "db": {"command": "db-server", "env": {"DATABASE_URL": "postgres://u:imported@h/db", "ALREADY": "keyring:x"}}
        }}"#,
    )
    .expect("client config");
    let file = client.to_str().expect("utf-8");
    let out = person.peta(&["secret", "import", file, "--vault"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let snippet = text(&out.stdout);
    assert!(
        snippet.contains(
            "[servers.github.env]\nGITHUB_PERSONAL_ACCESS_TOKEN = \"age:GITHUB_PERSONAL_ACCESS_TOKEN\""
        ),
        "{snippet}"
    );
    assert!(snippet.contains("[servers.db.env]\nDATABASE_URL = \"age:DATABASE_URL\""));
    assert!(!snippet.contains("ALREADY"), "references are not imported");
    assert!(!snippet.contains("imported_0123") && !text(&out.stderr).contains("imported_0123"));
    let out = person.peta(
        &[
            "secret",
            "get",
            "GITHUB_PERSONAL_ACCESS_TOKEN",
            "--vault",
            "--reveal",
        ],
        b"",
    );
    assert_eq!(text(&out.stdout), "ghp_imported_0123456789abcdef");

    // Again: existing secrets are kept unless --force.
    let dotenv = repo.path().join(".env");
    std::fs::write(
        &dotenv,
        "# a dotenv file\nDATABASE_URL=\"postgres://u:changed@h/db\"\n",
    )
    .expect("dotenv");
    let dotenv = dotenv.to_str().expect("utf-8");
    let out = person.peta(&["secret", "import", dotenv, "--vault"], b"");
    assert!(
        text(&out.stderr).contains("kept age:DATABASE_URL"),
        "{}",
        text(&out.stderr)
    );
    let reveal = |p: &Person| {
        text(
            &p.peta(
                &["secret", "get", "DATABASE_URL", "--vault", "--reveal"],
                b"",
            )
            .stdout,
        )
    };
    assert_eq!(reveal(&person), "postgres://u:imported@h/db");
    assert!(
        person
            .peta(&["secret", "import", dotenv, "--vault", "--force"], b"")
            .status
            .success()
    );
    assert_eq!(reveal(&person), "postgres://u:changed@h/db");
}

#[test]
fn a_passphrase_protected_identity_asks_at_the_terminal_only() {
    let repo = tempfile::tempdir().expect("repo");
    let person = Person::new(&repo.path().join("vault.age"));
    let on_tty = |script: &[(&str, &str)], args: &[&str]| {
        let mut command = Command::new(crate::support::python());
        command.arg(crate::support::fixture("on_tty.py"));
        for (expect, answer) in script {
            command.args(["--expect", expect, "--answer", answer]);
        }
        command
            .arg("--")
            .arg(crate::support::peta())
            .args(args)
            .env("XDG_DATA_HOME", person.data.path())
            .env("PETA_CONFIG", &person.config)
            .env("XDG_STATE_HOME", person.data.path())
            .output()
            .expect("on_tty.py")
    };
    let passphrase = "correct horse battery";
    let out = on_tty(
        &[
            ("Passphrase for the new identity", passphrase),
            ("Repeat it", passphrase),
        ],
        &["vault", "init", "--passphrase"],
    );
    let transcript = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{transcript}");
    assert!(
        !transcript.contains(passphrase),
        "the passphrase was echoed: {transcript}"
    );
    let identity = std::fs::read_to_string(person.identity_file()).expect("identity");
    assert!(identity.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    assert!(!identity.contains("AGE-SECRET-KEY"));

    let value = "typed-at-the-terminal-0123";
    let out = on_tty(
        &[("Passphrase for", passphrase), ("Value for typed", value)],
        &["secret", "set", "typed", "--vault"],
    );
    let transcript = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{transcript}");
    assert!(
        !transcript.contains(value) && !transcript.contains(passphrase),
        "{transcript}"
    );

    // A wrong passphrase opens nothing.
    let out = on_tty(
        &[("Passphrase for", "wrong guess")],
        &["secret", "get", "typed", "--vault", "--reveal"],
    );
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stdout));
    assert!(!text(&out.stdout).contains(value));

    // With no terminal (as under a GUI client) the start stops with a reason, no prompt.
    let marker = person.data.path().join("ran");
    let out = Command::new("setsid")
        .arg(crate::support::peta())
        .args(["run", "--env", "T=age:typed", "--", "touch"])
        .arg(&marker)
        .env("XDG_DATA_HOME", person.data.path())
        .env("PETA_CONFIG", &person.config)
        .env("XDG_STATE_HOME", person.data.path())
        .stdin(Stdio::null())
        .output()
        .expect("setsid");
    assert_eq!(out.status.code(), Some(78));
    assert!(
        text(&out.stderr).contains("no terminal"),
        "{}",
        text(&out.stderr)
    );
    assert!(!marker.exists());
}
