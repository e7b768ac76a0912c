//! Confinement through the real binary and real bubblewrap (issue 13): the hostile server
//! (`tests/fixtures/hostile_server.py`) attacks peta and the user beyond the JSON-RPC
//! stream, as a process of the same user would: it answers its own question at the approval
//! console, tampers with the audit log, grants and configuration, reads the user's secret
//! stores, connects to the session bus and abstract sockets, stops peta, and leaves an
//! escaped grandchild behind. Each attack runs confined (`--sandbox required`, so a box that
//! cannot be set up fails the test instead of running unconfined) and must fail; where the
//! test can show it, the same attack runs with `--sandbox off` and succeeds, so the test is
//! known to see it. Every attack runs as this user and again as an unprivileged uid
//! (`setpriv`, uid 65534 with a private HOME of its own), since root ignores file modes.
//!
//! Homes and state live outside `/tmp` (which is private in a box anyway), so what hides them
//! is the box's rules, not the private `/tmp`. Each test prints `confinement: <attack>:
//! <n> runs, <m> got through`, which SECURITY.md's scorecard cites.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{
    Session, alive, assert_gone_within, descendants, fixture, peta, python, visible_tempdir,
    wait_for_file,
};

/// Whose session: this user, or the unprivileged uid 65534.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Me,
    Nobody,
}

const NOBODY: u32 = 65534;

/// The users to run as: this one, and nobody when we are root and the kernel lets an
/// unprivileged user make the namespaces a box needs.
fn users() -> Vec<Who> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return vec![Who::Me];
    }
    let setpriv = Path::new("/usr/bin/setpriv").exists();
    let userns = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
        .is_ok_and(|v| v.trim() != "0")
        && std::fs::read_to_string("/proc/sys/kernel/unprivileged_userns_clone")
            .map_or(true, |v| v.trim() != "0");
    match (setpriv, userns) {
        (true, true) => vec![Who::Me, Who::Nobody],
        (false, _) => {
            assert!(
                !crate::support::required(),
                "setpriv (util-linux) is needed to run the attacks as an unprivileged uid"
            );
            eprintln!("skipping the unprivileged runs: no /usr/bin/setpriv");
            vec![Who::Me]
        }
        (true, false) => {
            eprintln!(
                "skipping the unprivileged runs: this kernel forbids unprivileged user namespaces"
            );
            vec![Who::Me]
        }
    }
}

/// One user's world: a home with secrets in it, peta's config, state, data and runtime
/// directories, and the journal the server may write. All outside `/tmp`.
struct World {
    who: Who,
    base: tempfile::TempDir,
    home: tempfile::TempDir,
    /// The canary each secret file holds.
    canary: String,
}

impl World {
    fn new(who: Who, config_extra: &str) -> World {
        let base = visible_tempdir();
        let home = visible_tempdir();
        let canary = format!("canary-{}", uuid::Uuid::new_v4().simple());
        let b = base.path();
        for dir in [
            "state/peta",
            "config/peta",
            "data",
            "runtime",
            "journal",
            "bin",
        ] {
            std::fs::create_dir_all(b.join(dir)).expect("dir");
        }
        std::fs::set_permissions(b.join("runtime"), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        let h = home.path();
        for (file, text) in [
            (".ssh/id_rsa", canary.as_str()),
            (".ssh/known_hosts", "host ssh-ed25519 AAAA"),
            (".aws/credentials", canary.as_str()),
            (".netrc", canary.as_str()),
            (".config/gh/hosts.yml", canary.as_str()),
            ("notes/secret.txt", canary.as_str()),
            ("notes/plain.txt", "plain"),
        ] {
            std::fs::create_dir_all(h.join(file).parent().expect("parent")).expect("dir");
            std::fs::write(h.join(file), text).expect("secret");
        }
        let config = b.join("config/peta/peta.toml");
        std::fs::write(
            &config,
            format!(
                "[defaults]\ndefault_action = \"ask\"\ntimeout = \"3s\"\n\n\
                 [[rules]]\nid = \"echo-is-harmless\"\ntool = \"^echo$\"\naction = \"allow\"\n\n\
                 {config_extra}"
            ),
        )
        .expect("config");
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let peta_copy = b.join("bin/peta");
        std::fs::copy(peta(), &peta_copy).expect("copy peta");
        if who == Who::Nobody {
            for root in [b, h] {
                chown_all(root, NOBODY);
            }
        }
        World {
            who,
            base,
            home,
            canary,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.base.path().join(rel)
    }

    fn home(&self, rel: &str) -> PathBuf {
        self.home.path().join(rel)
    }

    /// The Python this world's user can run: the test run's own may live where only its
    /// owner can enter.
    fn python(&self) -> String {
        match self.who {
            Who::Me => python(),
            Who::Nobody => "/usr/bin/python3".into(),
        }
    }

    /// A command as this world's user, with its HOME and XDG directories.
    fn command(&self, program: &Path) -> Command {
        let mut command = match self.who {
            Who::Me => Command::new(program),
            Who::Nobody => {
                let mut c = Command::new("/usr/bin/setpriv");
                c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                    .arg(program);
                c
            }
        };
        // Started in the home: a configuration inside the directory peta starts in is
        // refused (a repository could have put it there), and this world's lives in the
        // test's target directory, where the test itself runs.
        command
            .current_dir(self.home.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("XDG_STATE_HOME", self.path("state"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_RUNTIME_DIR", self.path("runtime"));
        command
    }

    /// [`World::start`], then the MCP handshake.
    fn session(&self, sandbox: &str, modes: &[String]) -> Session {
        let mut s = self.start(sandbox, modes);
        s.initialize();
        s.send_json(&json!({"jsonrpc": "2.0", "id": "list", "method": "tools/list"}));
        s.response(json!("list"));
        s
    }

    /// `peta run` in front of the hostile server with `modes`, `--sandbox sandbox`, no
    /// terminal (so nobody can be asked but at the console).
    fn start(&self, sandbox: &str, modes: &[String]) -> Session {
        let mut command = self.command(&self.path("bin/peta"));
        command
            .args([
                "run",
                "--server",
                "hostile",
                "--grace",
                "300ms",
                "--sandbox",
            ])
            .arg(sandbox)
            .arg("--sandbox-write")
            .arg(self.path("journal"))
            .arg("--")
            .arg(self.python())
            .arg(fixture("hostile_server.py"))
            .arg(self.path("journal"))
            .args(modes);
        // SAFETY: setsid is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                libc::setsid();
                Ok(())
            });
        }
        Session::start_with(&mut command)
    }

    /// What the server journaled for `attack`.
    fn journal(&self, attack: &str) -> Value {
        let text = wait_for_file(&self.path("journal").join(attack));
        serde_json::from_str(&text).expect("journal json")
    }

    /// The names of the tools the server ran.
    fn executed(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("journal/executed"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["reading"] == "lines/last")
            .filter_map(|e| e["name"].as_str().map(str::to_owned))
            .collect()
    }

    /// Empties the journal for the next run.
    fn reset_journal(&self) {
        let journal = self.path("journal");
        std::fs::remove_dir_all(&journal).expect("rm journal");
        std::fs::create_dir(&journal).expect("journal");
        if self.who == Who::Nobody {
            chown_all(&journal, NOBODY);
        }
    }
}

fn chown_all(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).expect("chown");
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).expect("read_dir").flatten() {
            chown_all(&entry.path(), uid);
        }
    }
}

fn finish(mut s: Session) -> String {
    s.close_stdin();
    s.wait(Duration::from_secs(15));
    s.stderr()
}

/// Counts runs and successful attacks and prints the scorecard line.
struct Tally {
    attack: &'static str,
    runs: usize,
    through: usize,
}

impl Tally {
    fn new(attack: &'static str) -> Tally {
        Tally {
            attack,
            runs: 0,
            through: 0,
        }
    }

    fn confined(&mut self, got_through: bool) {
        self.runs += 1;
        self.through += usize::from(got_through);
    }

    fn report(&self) {
        eprintln!(
            "confinement: {}: {} confined runs, {} got through",
            self.attack, self.runs, self.through
        );
        assert_eq!(self.through, 0, "{}", self.attack);
    }
}

fn delete_call(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "delete_file", "arguments": {"path": "/"}}})
}

/// Issue 13, first bullet: the server answers its own held call at the approval console.
/// Confined it cannot see the socket directory; unconfined, the console refuses it as a
/// descendant of a session's server. The same attacker started by the user (not under a
/// server) does answer, and one in another PID namespace is refused: the console is
/// reachable, and the attack works where the console lets it.
#[test]
fn a_server_cannot_answer_its_own_question_at_the_console() {
    let mut tally = Tally::new("console self-approval");
    for who in users() {
        let world = World::new(who, "");
        let console = world.path("runtime/peta").display().to_string();
        for sandbox in ["required", "off"] {
            world.reset_journal();
            let mut s = world.session(sandbox, &[format!("console={console}")]);
            s.send_json(&delete_call(7));
            let reply = s.response(json!(7));
            let answered = world.journal("console");
            let stderr = finish(s);
            let through = !world.executed().iter().all(|n| n != "delete_file");
            if sandbox == "required" {
                tally.confined(through);
                assert!(
                    answered["last"]
                        .as_str()
                        .is_some_and(|l| l.contains("ENOENT")),
                    "{who:?}: the box shows the runtime directory: {answered}"
                );
            } else {
                assert!(
                    stderr.contains("refused a connection") && stderr.contains("descends from"),
                    "{who:?}: {stderr}"
                );
                assert!(!through, "{who:?} off: the console let the server answer");
            }
            assert_eq!(
                reply["result"]["isError"], true,
                "{who:?} {sandbox}: {reply}"
            );
            assert_eq!(answered["answered"], json!([]), "{who:?} {sandbox}");
        }

        // The control: the same attacker, started by the user and not by a server, answers.
        world.reset_journal();
        let mut s = world.session("off", &[]);
        let attacker_journal = visible_tempdir();
        if who == Who::Nobody {
            chown_all(attacker_journal.path(), NOBODY);
        }
        let mut attacker = world
            .command(Path::new(&world.python()))
            .arg(fixture("hostile_server.py"))
            .arg(attacker_journal.path())
            .arg(format!("console={console}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("attacker");
        s.send_json(&delete_call(8));
        let reply = s.response(json!(8));
        let answerer = attacker.id();
        let _ = attacker.kill();
        let _ = attacker.wait();
        let rows = finish(s);
        assert_ne!(
            reply["result"]["isError"], true,
            "{who:?}: the user's own process could not answer: {reply}\n{rows}"
        );
        assert!(world.executed().iter().any(|n| n == "delete_file"));
        // The answer's audit row names the process that gave it.
        let export = world
            .command(&world.path("bin/peta"))
            .args([
                "audit",
                "export",
                "--decision",
                "allow",
                "--tool",
                "delete_file",
            ])
            .output()
            .expect("export");
        let export = String::from_utf8_lossy(&export.stdout);
        let row: Value = export
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|r| r["record"] == "event" && r["channel"] == "console")
            .unwrap_or_else(|| panic!("{who:?}: no console row in {export}"));
        let detail: Value =
            serde_json::from_str(row["detail"].as_str().expect("detail")).expect("json");
        let by = detail["answered_by"].as_str().unwrap_or_default();
        assert!(
            by.starts_with(&format!("pid {answerer} (")) && by.contains("python"),
            "{who:?}: {row}"
        );

        // And one in another PID namespace (here a bare bubblewrap box that shows it the
        // socket directory) is refused.
        world.reset_journal();
        let mut s = world.session("off", &[]);
        let boxed_journal = visible_tempdir();
        if who == Who::Nobody {
            chown_all(boxed_journal.path(), NOBODY);
        }
        let mut boxed = world
            .command(Path::new("bwrap"))
            .args([
                "--bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--unshare-pid",
                "--die-with-parent",
                "--",
            ])
            .arg(world.python())
            .arg(fixture("hostile_server.py"))
            .arg(boxed_journal.path())
            .arg(format!("console={console}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("boxed attacker");
        s.send_json(&delete_call(9));
        let reply = s.response(json!(9));
        let _ = boxed.kill();
        let _ = boxed.wait();
        let stderr = finish(s);
        assert_eq!(reply["result"]["isError"], true, "{who:?}: {reply}");
        assert!(
            stderr.contains("another PID namespace"),
            "{who:?}: {stderr}"
        );
    }
    tally.report();
}

/// Issue 13, second and third bullets: the server unlinks the audit log's WAL and shared
/// memory, overwrites the database, writes an `always` grant and the user's configuration.
#[test]
fn a_server_cannot_touch_petas_files() {
    let mut tally = Tally::new("tamper with audit log, grants and config");
    for who in users() {
        let world = World::new(who, "");
        let targets = [
            world.path("state/peta/audit.db"),
            world.path("state/peta/grants.json"),
            world.path("config/peta/peta.toml"),
            world.path("data/peta/vault.age"),
        ];
        let list = targets
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(",");
        for sandbox in ["required", "off"] {
            world.reset_journal();
            let config_before = std::fs::read(world.path("config/peta/peta.toml")).expect("cfg");
            let s = world.session(sandbox, &[format!("tamper={list}")]);
            let done = world.journal("tamper");
            finish(s);
            let done = done.as_object().expect("object");
            assert_eq!(done.len(), 3 * targets.len(), "{done:?}");
            let succeeded: Vec<_> = done
                .iter()
                .filter(|(_, v)| !v.as_str().is_some_and(|v| v.starts_with("error")))
                .collect();
            if sandbox == "required" {
                tally.confined(!succeeded.is_empty());
                assert!(succeeded.is_empty(), "{who:?}: {succeeded:?}");
                assert_eq!(
                    std::fs::read(world.path("config/peta/peta.toml")).expect("cfg"),
                    config_before
                );
                assert!(!world.path("state/peta/grants.json").exists());
                let verify = world
                    .command(&world.path("bin/peta"))
                    .args(["audit", "verify"])
                    .output()
                    .expect("verify");
                assert_eq!(
                    verify.status.code(),
                    Some(0),
                    "{who:?}: {}",
                    String::from_utf8_lossy(&verify.stdout)
                );
            } else {
                for (path, how) in [
                    ("state/peta/audit.db-wal", "unlinked"),
                    ("state/peta/grants.json", "created"),
                    ("config/peta/peta.toml", "overwritten"),
                ] {
                    assert_eq!(
                        done[&world.path(path).display().to_string()],
                        how,
                        "{who:?} off: {done:?}"
                    );
                }
                // Undo what the unconfined run did, for the next user's run.
                std::fs::write(world.path("config/peta/peta.toml"), config_before)
                    .expect("restore");
            }
        }
    }
    tally.report();
}

/// Issue 13, last bullet: the user's secret stores (and paths a server's config hides) are
/// out of reach; a path named in `read` is back.
#[test]
fn a_server_cannot_read_the_users_secrets() {
    let mut tally = Tally::new("read the user's secret stores");
    for who in users() {
        let world = World::new(
            who,
            "[servers.hostile.sandbox]\nhide = [\"~/notes/secret.txt\"]\nread = [\"~/.ssh/known_hosts\"]\n",
        );
        let secrets = [
            ".ssh/id_rsa",
            ".aws/credentials",
            ".netrc",
            ".config/gh/hosts.yml",
            "notes/secret.txt",
        ];
        let visible = [".ssh/known_hosts", "notes/plain.txt"];
        let list = secrets
            .iter()
            .chain(&visible)
            .map(|p| world.home(p).display().to_string())
            .collect::<Vec<_>>()
            .join(",");
        for sandbox in ["required", "off"] {
            world.reset_journal();
            let s = world.session(sandbox, &[format!("read={list}")]);
            let done = world.journal("read");
            finish(s);
            let outcome = |rel: &str| {
                done[&world.home(rel).display().to_string()]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            };
            let canary_bytes = format!("read {} bytes", world.canary.len());
            let leaked: Vec<_> = secrets
                .iter()
                .filter(|s| outcome(s) == canary_bytes)
                .collect();
            if sandbox == "required" {
                tally.confined(!leaked.is_empty());
                for secret in secrets {
                    let o = outcome(secret);
                    assert!(
                        o.starts_with("error") || o == "read 0 bytes",
                        "{who:?}: {secret}: {o}"
                    );
                }
            } else {
                assert_eq!(leaked.len(), secrets.len(), "{who:?} off: {done}");
            }
            for path in visible {
                assert!(
                    outcome(path).starts_with("read") && outcome(path) != "read 0 bytes",
                    "{who:?} {sandbox}: {path}: {done}"
                );
            }
        }
    }
    tally.report();
}

/// Issue 13, last bullet: no session D-Bus (a real dbus-daemon in the user's runtime
/// directory) and no abstract socket (Landlock's scope) from inside the box.
#[test]
fn a_server_cannot_reach_the_session_bus_or_abstract_sockets() {
    let mut tally = Tally::new("session bus and abstract sockets");
    for who in users() {
        let world = World::new(who, "");
        let bus_path = world.path("runtime/bus");
        let mut bus = world
            .command(Path::new("dbus-daemon"))
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!("--address=unix:path={}", bus_path.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon");
        let mut address = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(bus.stdout.take().expect("stdout")),
            &mut address,
        )
        .expect("bus address");
        let name = format!("peta-test-{}", uuid::Uuid::new_v4().simple());
        let abstract_addr = {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).expect("name")
        };
        let listener =
            std::os::unix::net::UnixListener::bind_addr(&abstract_addr).expect("abstract");
        let targets = format!("{},@{name}", bus_path.display());
        for sandbox in ["required", "off"] {
            world.reset_journal();
            let s = world.session(sandbox, &[format!("connect={targets}")]);
            let done = world.journal("connect");
            finish(s);
            let bus = done[&bus_path.display().to_string()].as_str().unwrap_or("");
            let abs = done[&format!("@{name}")].as_str().unwrap_or("");
            if sandbox == "required" {
                tally.confined(bus == "connected" || abs == "connected");
                assert!(bus.starts_with("error"), "{who:?}: the bus: {bus}");
                assert!(abs.starts_with("error"), "{who:?}: abstract: {abs}");
            } else {
                assert_eq!((bus, abs), ("connected", "connected"), "{who:?} off");
            }
        }
        drop(listener);
        let _ = bus.kill();
        let _ = bus.wait();
    }
    tally.report();
}

/// `network = false`: the box's loopback is its own, so the host's listener is out of reach;
/// by default the network is the host's.
#[test]
fn network_false_gives_the_server_a_loopback_of_its_own() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let key = format!("127.0.0.1:{port}");
    for (extra, expect_connected) in [
        ("", true),
        ("[servers.hostile.sandbox]\nnetwork = false\n", false),
    ] {
        let world = World::new(Who::Me, extra);
        let s = world.session("required", &[format!("tcp={port}")]);
        let done = world.journal("tcp");
        finish(s);
        let outcome = done[&key].as_str().unwrap_or_default();
        assert_eq!(
            outcome == "connected",
            expect_connected,
            "{extra:?}: {outcome}"
        );
    }
}

/// Whether process `pid` is stopped (state T).
fn stopped(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('T'))
    })
}

/// Issue 13, fourth bullet: the server stops peta and its watchdog.
#[test]
fn a_server_cannot_signal_peta() {
    let mut tally = Tally::new("stop peta and the watchdog");
    for who in users() {
        let world = World::new(who, "");
        for sandbox in ["required", "off"] {
            world.reset_journal();
            // The server stops what it can as it starts, before any handshake.
            let mut s = world.start(sandbox, &["stop-peta".into()]);
            let done = world.journal("stop-peta");
            let peta_pid = s.pid();
            // setpriv executes peta in place: the session's pid is peta's. A stop takes a
            // moment to show in /proc.
            let start = Instant::now();
            while !stopped(peta_pid) && start.elapsed() < Duration::from_secs(1) {
                std::thread::sleep(Duration::from_millis(10));
            }
            let was_stopped = stopped(peta_pid);
            let stopped_pids: Vec<i32> = done["stopped"]
                .as_array()
                .expect("list")
                .iter()
                .filter_map(Value::as_i64)
                .map(|p| p as i32)
                .collect();
            if sandbox == "required" {
                tally.confined(was_stopped || !stopped_pids.is_empty());
                assert!(!was_stopped, "{who:?}: peta was stopped");
                assert_eq!(stopped_pids, Vec::<i32>::new(), "{who:?}");
            } else {
                assert!(
                    was_stopped,
                    "{who:?} off: peta {peta_pid} runs on: {done}: {:?}",
                    std::fs::read_to_string(format!("/proc/{peta_pid}/stat"))
                );
                assert!(stopped_pids.contains(&peta_pid), "{done}");
                for pid in &stopped_pids {
                    // SAFETY: continuing processes this test's server stopped.
                    unsafe { libc::kill(*pid, libc::SIGCONT) };
                }
            }
            s.initialize();
            finish(s);
        }
    }
    tally.report();
}

/// Issue 13, fourth bullet: a grandchild in a session and process group of its own
/// (double fork, setsid, setpgid, SIGTERM ignored) outlives a `kill -9` of peta only
/// unconfined.
#[test]
fn nothing_a_confined_server_started_outlives_peta() {
    let mut tally = Tally::new("escape cleanup with setsid, setpgid and a double fork");
    for who in users() {
        let world = World::new(who, "");
        for sandbox in ["required", "off"] {
            world.reset_journal();
            let mut s = world.session(sandbox, &["escape".into()]);
            let escaped = world.journal("escape")["pid"].as_i64().expect("pid") as i32;
            let tree = descendants(s.pid());
            // SAFETY: killing our own child.
            unsafe { libc::kill(s.pid(), libc::SIGKILL) };
            s.wait(Duration::from_secs(5));
            if sandbox == "required" {
                let start = Instant::now();
                while tree.iter().any(|&p| alive(p)) && start.elapsed() < Duration::from_secs(2) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                let left: Vec<_> = tree.iter().filter(|&&p| alive(p)).collect();
                tally.confined(!left.is_empty());
                assert_gone_within(&tree, Duration::from_millis(100));
            } else {
                // The watchdog ends the server's group; the escaped one left it.
                std::thread::sleep(Duration::from_millis(300 + 1000));
                assert!(alive(escaped), "{who:?} off: the escaped process is gone");
                // SAFETY: cleaning up the process the unconfined server left behind.
                unsafe { libc::kill(escaped, libc::SIGKILL) };
                assert_gone_within(&[escaped], Duration::from_secs(2));
            }
        }
    }
    tally.report();
}

/// A `PATH` with the programs a session needs but no bubblewrap.
fn path_without_bwrap() -> tempfile::TempDir {
    let bin = visible_tempdir();
    for program in ["true", "sh", "touch"] {
        let real = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(program))
            .find(|p| p.exists())
            .expect("program on PATH");
        std::os::unix::fs::symlink(real, bin.path().join(program)).expect("link");
    }
    bin
}

/// Without bubblewrap, `auto` runs the server unconfined and says so in one line;
/// `required` refuses with the reason and the fix, and the server never runs.
#[test]
fn without_bubblewrap_auto_warns_once_and_required_refuses() {
    let bin = path_without_bwrap();
    let marker_dir = tempfile::tempdir().expect("dir");
    let marker = marker_dir.path().join("ran");
    let run = |mode: &str| {
        crate::support::peta_command()
            .env("PATH", bin.path())
            .args(["run", "--sandbox", mode, "--", "sh", "-c"])
            .arg(format!("touch {}", marker.display()))
            .stdin(Stdio::null())
            .output()
            .expect("run")
    };
    let out = run("auto");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(marker.exists(), "auto ran the server");
    let warnings: Vec<_> = stderr.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("the server runs unconfined: bubblewrap (bwrap) is not installed")
            && warnings[0].contains("apt-get install bubblewrap"),
        "{stderr}"
    );
    std::fs::remove_file(&marker).expect("rm");
    let out = run("required");
    assert_eq!(out.status.code(), Some(125));
    assert!(!marker.exists(), "required never ran the server");
    assert!(out.stdout.is_empty());
    crate::cli::snapshot(
        "error-sandbox-required.txt",
        &String::from_utf8_lossy(&out.stderr),
    );
}

/// bubblewrap that cannot set up a box (here: peta itself runs in a box that forbids new
/// user namespaces, as in a nested sandbox): `auto` falls back with bubblewrap's own words,
/// `required` refuses; nothing the client sent reaches the failed attempt.
#[test]
fn a_box_that_cannot_be_set_up_falls_back_or_refuses() {
    let dir = visible_tempdir();
    let log = dir.path().join("received");
    for (mode, code) in [("auto", 0), ("required", 125)] {
        let _ = std::fs::remove_file(&log);
        let mut command = Command::new("bwrap");
        command
            .args([
                "--bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--unshare-user",
                "--disable-userns",
                "--unshare-pid",
                "--die-with-parent",
                "--",
            ])
            .arg(peta())
            .args(["run", "--sandbox", mode, "--", "sh", "-c"])
            .arg(format!("cat > {}", log.display()))
            .env("XDG_STATE_HOME", crate::support::state_home())
            .env("XDG_CONFIG_HOME", crate::support::state_home());
        let mut s = Session::start_with(&mut command);
        s.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
        s.close_stdin();
        let status = s.wait(Duration::from_secs(15));
        let stderr = s.stderr();
        assert_eq!(status.code(), Some(code), "{mode}: {stderr}");
        assert!(
            stderr.contains("bubblewrap cannot set up a box: bwrap:"),
            "{mode}: {stderr}"
        );
        if mode == "auto" {
            assert!(stderr.contains("the server runs unconfined"), "{stderr}");
            assert_eq!(
                std::fs::read_to_string(&log).expect("the server ran unconfined"),
                "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n",
                "the line reached the unconfined server once"
            );
        } else {
            assert!(!log.exists(), "required never started the server");
        }
    }
}

/// A `TMPDIR` the box would not let the server write becomes the box's own `/tmp`.
#[test]
fn a_tmpdir_outside_the_writable_paths_becomes_the_boxs_tmp() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("tmpdir");
    let status = crate::support::peta_command()
        .env("TMPDIR", "/var/tmp/peta-test-elsewhere")
        .args(["run", "--sandbox", "required", "--sandbox-write"])
        .arg(dir.path())
        .args(["--", "sh", "-c"])
        .arg(format!(
            "echo \"$TMPDIR\" > {0}; touch \"$TMPDIR/x\" && echo writable >> {0}",
            out.display()
        ))
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(status.status.success(), "{status:?}");
    assert_eq!(
        std::fs::read_to_string(&out).expect("out"),
        "/tmp\nwritable\n"
    );
}

/// `peta tools list --connect` starts the configured server like `peta run` does: in its box
/// (its PID 1 is peta's first process, not the machine's init).
#[test]
fn tools_list_connect_starts_the_server_in_its_box() {
    let dir = tempfile::tempdir().expect("dir");
    let out_dir = tempfile::tempdir().expect("out");
    let seen = out_dir.path().join("pid1");
    let config = dir.path().join("peta.toml");
    std::fs::write(
        &config,
        format!(
            "[servers.probe]\ncommand = [\"sh\", \"-c\", \"tr '\\\\0' ' ' < /proc/1/cmdline > {seen}; exec {peta} demo-server\"]\n\
             [servers.probe.sandbox]\nwrite = [\"{out}\"]\n[audit]\npath = \"{db}\"\n",
            seen = seen.display(),
            peta = peta(),
            out = out_dir.path().display(),
            db = dir.path().join("audit.db").display(),
        ),
    )
    .expect("config");
    let out = crate::support::peta_command()
        .args([
            "tools",
            "list",
            "--server",
            "probe",
            "--connect",
            "--config",
        ])
        .arg(&config)
        .output()
        .expect("tools list --connect");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("tools listed"), "{said}");
    let pid1 = std::fs::read_to_string(&seen).expect("the server wrote what it saw");
    assert!(pid1.contains("sandbox-init"), "{pid1}");
}

/// The contract with the session's shutdown: a signal peta sends to the server's group
/// (`sys::Group`, here bubblewrap's group) reaches the confined server as that very signal,
/// passed on by the box's first process; bubblewrap itself ignores it.
#[test]
fn a_signal_to_the_group_reaches_the_confined_server_as_itself() {
    for (sig, name) in [
        (libc::SIGINT, "INT"),
        (libc::SIGTERM, "TERM"),
        (libc::SIGHUP, "HUP"),
    ] {
        let dir = tempfile::tempdir().expect("dir");
        let (got, ready) = (dir.path().join("got"), dir.path().join("ready"));
        let script = format!(
            "for s in INT TERM HUP; do trap \"echo $s > {got}; exit 0\" $s; done; \
             echo > {ready}; while :; do sleep 0.05; done",
            got = got.display(),
            ready = ready.display()
        );
        let mut s = Session::start_with(
            crate::support::peta_command()
                .args(["run", "--sandbox", "required", "--sandbox-write"])
                .arg(dir.path())
                .args(["--", "sh", "-c", &script]),
        );
        wait_for_file(&ready);
        let bwrap = descendants(s.pid())
            .into_iter()
            .find(|&p| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.trim() == "bwrap")
            })
            .expect("bubblewrap");
        // SAFETY: signalling the group of our own session's bubblewrap, as peta does.
        unsafe { libc::killpg(bwrap, sig) };
        assert_eq!(wait_for_file(&got).trim(), name);
        s.close_stdin();
        let status = s.wait(Duration::from_secs(10));
        assert_eq!(status.code(), Some(0), "{name}: {}", s.stderr());
    }
}
