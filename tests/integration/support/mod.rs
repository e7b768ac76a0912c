//! Test support: the peta binary, a client session driving `peta run` over pipes, fixture
//! paths, and the external peers (Python SDK, server-everything) the test script installs.

#![allow(dead_code, reason = "each test module uses a different part")]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn peta() -> &'static str {
    env!("CARGO_BIN_EXE_peta")
}

/// A state directory for this test run, so no test writes to the user's audit log. It is
/// also the configuration directory: its `peta/peta.toml` allows every call by default, so
/// tests about relaying are not stopped by the approval gate. Tests about the gate give
/// their own configuration.
pub fn state_home() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("state dir");
        std::fs::create_dir_all(dir.path().join("peta")).expect("config dir");
        std::fs::write(dir.path().join("peta/peta.toml"), ALLOW_ALL).expect("config");
        dir
    })
    .path()
}

/// A configuration that lets every gated call through.
pub const ALLOW_ALL: &str = "[defaults]\ndefault_action = \"allow\"\n";

/// A private runtime directory (0700) for this test run: sessions keep their `peta approve`
/// sockets there rather than in the machine-wide `/tmp/peta-<uid>`, which `peta approve`
/// also searches.
pub fn runtime_home() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("runtime dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        dir
    })
    .path()
}

/// `peta` with a private state directory and no user configuration.
pub fn peta_command() -> Command {
    let mut c = Command::new(peta());
    c.env("XDG_STATE_HOME", state_home())
        .env_remove("PETA_CONFIG")
        .env("XDG_CONFIG_HOME", state_home())
        .env("XDG_RUNTIME_DIR", runtime_home());
    c
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn python() -> String {
    std::env::var("PETA_E2E_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether every external peer must be present (set by the test script and CI).
pub fn required() -> bool {
    std::env::var("PETA_E2E_REQUIRED").is_ok_and(|v| v == "1")
}

/// An external peer the test script installs. Missing means skip, unless the run says
/// every peer must be there (`PETA_E2E_REQUIRED=1`, set by the test script and CI).
pub fn external(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if required() => {
            panic!("{var} is not set; run the tests through scripts/test.sh")
        }
        _ => {
            eprintln!("skipping: {var} is not set (scripts/test.sh sets it)");
            None
        }
    }
}

/// A client's view of one `peta run`: stdin to write, stdout lines to read, stderr kept.
pub struct Session {
    pub child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<Vec<u8>>,
    stderr: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Session {
    /// Starts `peta <args>` with piped stdio.
    pub fn start<I, S>(args: I) -> Session
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        Self::start_with(peta_command().args(args))
    }

    pub fn start_with(command: &mut Command) -> Session {
        if command.get_envs().all(|(k, _)| k != "XDG_STATE_HOME") {
            command.env("XDG_STATE_HOME", state_home());
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start peta");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr_pipe = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if tx.send(line).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf) {
                if n == 0 {
                    return;
                }
                sink.lock().expect("stderr").extend_from_slice(&buf[..n]);
            }
        });
        Session {
            child,
            stdin,
            lines,
            stderr,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write to peta");
        stdin.flush().expect("flush");
    }

    pub fn send_json(&mut self, value: &serde_json::Value) {
        let mut line = serde_json::to_vec(value).expect("json");
        line.push(b'\n');
        self.send(&line);
    }

    /// The next stdout line, raw.
    #[track_caller]
    pub fn recv_raw(&self) -> Vec<u8> {
        self.lines
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no line from peta within 20 s; stderr:\n{}", self.stderr()))
    }

    #[track_caller]
    pub fn recv(&self) -> serde_json::Value {
        let line = self.recv_raw();
        serde_json::from_slice(&line).unwrap_or_else(|e| {
            panic!(
                "stdout line is not JSON ({e}): {}",
                String::from_utf8_lossy(&line)
            )
        })
    }

    /// Reads messages until the response to `id`, returning it.
    #[track_caller]
    pub fn response(&self, id: serde_json::Value) -> serde_json::Value {
        loop {
            let msg = self.recv();
            if msg.get("id") == Some(&id) && msg.get("method").is_none() {
                return msg;
            }
        }
    }

    /// Whether any stdout line arrives within `wait`.
    pub fn quiet_for(&self, wait: Duration) -> bool {
        self.lines.recv_timeout(wait).is_err()
    }

    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Waits for peta to exit, failing the test after `limit`.
    #[track_caller]
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "peta did not exit within {limit:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().expect("stderr")).into_owned()
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn initialize(&mut self) -> serde_json::Value {
        self.send_json(&serde_json::json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "peta-tests", "version": "1"}}
        }));
        let reply = self.response(serde_json::json!(0));
        self.send(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
        reply
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a process with this pid still runs (a zombie counts as gone).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits until `path` exists and returns its content.
#[track_caller]
pub fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{} never appeared", path.display());
}

/// Waits until none of `pids` runs, or fails after `limit`.
#[track_caller]
pub fn assert_gone_within(pids: &[i32], limit: Duration) -> Duration {
    let start = Instant::now();
    while pids.iter().any(|&p| alive(p)) {
        if start.elapsed() > limit {
            let left: Vec<_> = pids.iter().filter(|&&p| alive(p)).collect();
            for &p in pids {
                // SAFETY: cleaning up after a failed test.
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
            panic!("processes {left:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

/// A real Secret Service for one test: a private D-Bus session bus and a gnome-keyring
/// daemon with an unlocked login keyring, in a throwaway HOME. Commands join it with
/// [`SecretService::apply`].
pub struct SecretService {
    bus: Child,
    daemon: Child,
    home: tempfile::TempDir,
    address: String,
}

impl SecretService {
    /// `None` (the test skips) when gnome-keyring is not installed and the run allows it.
    pub fn start() -> Option<SecretService> {
        let daemon_path = external("PETA_E2E_KEYRING")?;
        let home = tempfile::tempdir().expect("home");
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (package dbus-daemon)");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("stdout"))
            .read_line(&mut address)
            .expect("bus address");
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "bus address {address:?}");
        let mut daemon = Command::new(daemon_path)
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", home.path())
            .env_remove("XDG_RUNTIME_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon");
        // A non-empty password: an empty one makes gnome-keyring ask a GUI prompter.
        daemon
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"test-keyring-password")
            .expect("unlock");
        let service = SecretService {
            bus,
            daemon,
            home,
            address,
        };
        service.wait_ready();
        Some(service)
    }

    /// Points a command at this bus.
    pub fn apply<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", self.home.path())
    }

    /// The HOME every command joined to this keyring gets.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Waits until the secrets interface answers on the bus.
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .output();
            if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true")) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("gnome-keyring never took org.freedesktop.secrets");
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        for child in [&mut self.daemon, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A pseudo-terminal that becomes the controlling terminal of a command whose stdio stays
/// piped: peta's `/dev/tty` is this terminal while the protocol flows over the pipes.
pub struct Pty {
    master: std::fs::File,
    slave: std::os::fd::OwnedFd,
    transcript: Vec<u8>,
}

impl Pty {
    pub fn open() -> Pty {
        use std::os::fd::FromRawFd;
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty writes two fds into the provided integers.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty failed");
        // SAFETY: both fds were just opened and are owned here alone.
        unsafe {
            libc::fcntl(master, libc::F_SETFD, libc::FD_CLOEXEC);
            libc::fcntl(master, libc::F_SETFL, libc::O_NONBLOCK);
        }
        Pty {
            // SAFETY: as above.
            master: unsafe { std::fs::File::from_raw_fd(master) },
            // SAFETY: as above.
            slave: unsafe { std::os::fd::OwnedFd::from_raw_fd(slave) },
            transcript: Vec::new(),
        }
    }

    /// Makes this terminal the controlling terminal of `command` (a new session).
    pub fn attach(&self, command: &mut Command) {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let slave = self.slave.as_raw_fd();
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                if libc::setsid() < 0 || libc::ioctl(slave, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }

    fn pump(&mut self) {
        let mut buf = [0u8; 4096];
        loop {
            match self.master.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => self.transcript.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// Waits until the terminal has shown `text`; returns everything shown so far.
    #[track_caller]
    pub fn wait_for(&mut self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            self.pump();
            let shown = String::from_utf8_lossy(&self.transcript).into_owned();
            if shown.contains(text) {
                return shown;
            }
            assert!(
                Instant::now() < deadline,
                "the terminal never showed {text:?}:\n{shown}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Puts the terminal in raw mode, as a full-screen program (a terminal client) does.
    pub fn raw(&mut self) {
        use std::os::fd::AsRawFd;
        let fd = self.slave.as_raw_fd();
        // SAFETY: termios is plain data, filled by tcgetattr on an open terminal.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(fd, &mut t), 0, "tcgetattr");
            libc::cfmakeraw(&mut t);
            assert_eq!(libc::tcsetattr(fd, libc::TCSANOW, &t), 0, "tcsetattr");
        }
    }

    /// Types on the terminal.
    pub fn type_keys(&mut self, keys: &[u8]) {
        self.master.write_all(keys).expect("type on the pty");
    }

    /// Everything the terminal showed.
    pub fn transcript(&mut self) -> Vec<u8> {
        self.pump();
        self.transcript.clone()
    }
}

/// A runtime directory other users could write, which the `peta approve` console refuses:
/// sessions started with it as `XDG_RUNTIME_DIR` have no console channel.
pub fn refused_runtime_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("runtime");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    dir
}

/// A temporary directory outside `/tmp`, so a confined server can see (not write) what is
/// in it: `/tmp` is private in the box.
pub fn visible_tempdir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir")
}

/// Every process started under `pid`, and every process in a PID namespace one of them made
/// (a confined server's box): from outside, whatever the processes did with setsid or
/// double forks.
pub fn descendants(pid: i32) -> Vec<i32> {
    let mut parent = std::collections::HashMap::new();
    let mut pidns = std::collections::HashMap::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let Some(ppid) = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        parent.insert(p, ppid);
        if let Ok(ns) = std::fs::read_link(format!("/proc/{p}/ns/pid")) {
            pidns.insert(p, ns);
        }
    }
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let at = found[i];
        found.extend(parent.iter().filter(|&(_, &pp)| pp == at).map(|(&c, _)| c));
        i += 1;
    }
    let ours = std::fs::read_link("/proc/self/ns/pid").ok();
    let boxes: Vec<_> = found
        .iter()
        .filter_map(|p| pidns.get(p))
        .filter(|ns| Some(*ns) != ours.as_ref())
        .cloned()
        .collect();
    for (&p, ns) in &pidns {
        if boxes.contains(ns) && !found.contains(&p) {
            found.push(p);
        }
    }
    found.retain(|&p| p != pid);
    found.sort_unstable();
    found
}
