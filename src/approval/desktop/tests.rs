//! The desktop channel against a fake notification server on a private session bus: the
//! buttons, a dismissal, silence, a server without buttons, and what the server is sent.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::object_server::SignalEmitter;

use super::*;
use crate::approval::tests::request;
use crate::approval::{Approver, Verdict};

/// A private `dbus-daemon --session`, ended on drop.
struct Bus {
    daemon: Child,
    address: String,
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// A bus of this test's own, or `None` (skip) when `dbus-daemon` is missing and the run
/// allows it; `PETA_E2E_REQUIRED=1` (scripts/test.sh, CI) makes a missing one fail.
fn private_bus() -> Option<Bus> {
    let spawned = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut daemon = match spawned {
        Ok(daemon) => daemon,
        Err(e) if std::env::var("PETA_E2E_REQUIRED").is_ok_and(|v| v == "1") => {
            panic!("dbus-daemon: {e}; install the dbus-daemon package")
        }
        Err(e) => {
            eprintln!("skipping: dbus-daemon: {e} (scripts/test.sh installs it)");
            return None;
        }
    };
    let mut address = String::new();
    BufReader::new(daemon.stdout.take().expect("stdout"))
        .read_line(&mut address)
        .expect("bus address");
    let address = address.trim().to_owned();
    let bus = Bus { daemon, address };
    assert!(
        bus.address.starts_with("unix:"),
        "bus address {:?}",
        bus.address
    );
    Some(bus)
}

/// What the fake server does when a notification arrives.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Allow,
    Deny,
    Dismiss,
    Silent,
    NoActions,
}

/// One notification as the fake server received it.
#[derive(Debug, Clone)]
struct Notice {
    id: u32,
    summary: String,
    body: String,
    actions: Vec<String>,
    urgency: Option<u8>,
    expire_timeout: i32,
}

/// What the fake server was sent.
#[derive(Debug, Default)]
struct Seen {
    shown: Vec<Notice>,
    closed: Vec<u32>,
}

struct Fake {
    mode: Mode,
    last_id: u32,
    seen: Arc<Mutex<Seen>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Fake {
    fn get_capabilities(&self) -> Vec<String> {
        let mut capabilities = vec!["body".to_owned(), "body-markup".to_owned()];
        if self.mode != Mode::NoActions {
            capabilities.push("actions".to_owned());
        }
        capabilities
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        let info = ["fake", "peta tests", "1", "1.2"];
        info.map(str::to_owned).into()
    }

    #[expect(clippy::too_many_arguments, reason = "the spec's Notify signature")]
    async fn notify(
        &mut self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        _app_name: &str,
        _replaces_id: u32,
        _app_icon: &str,
        summary: &str,
        body: &str,
        actions: Vec<String>,
        hints: HashMap<String, zbus::OwnedVariant>,
        expire_timeout: i32,
    ) -> u32 {
        self.last_id += 1;
        let id = self.last_id;
        let urgency = hints.get("urgency").and_then(|v| u8::try_from(&**v).ok());
        self.seen.lock().expect("seen").shown.push(Notice {
            id,
            summary: summary.to_owned(),
            body: body.to_owned(),
            actions,
            urgency,
            expire_timeout,
        });
        // Answers before Notify returns: the channel must be listening already. A server
        // closes a notification after an action (reason 2: dismissed by the user).
        let action = match self.mode {
            Mode::Allow => Some("allow"),
            Mode::Deny => Some("deny"),
            Mode::Dismiss | Mode::Silent | Mode::NoActions => None,
        };
        if let Some(action) = action {
            emitter.action_invoked(id, action).await.expect("signal");
        }
        if self.mode != Mode::Silent && self.mode != Mode::NoActions {
            emitter.notification_closed(id, 2).await.expect("signal");
        }
        id
    }

    async fn close_notification(
        &mut self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        id: u32,
    ) {
        self.seen.lock().expect("seen").closed.push(id);
        // Reason 3: closed by a CloseNotification call.
        emitter.notification_closed(id, 3).await.expect("signal");
    }

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

/// Serves a fake notification server on `bus`; keep the connection to keep it.
async fn fake(bus: &Bus, mode: Mode) -> (zbus::Connection, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let fake = Fake {
        mode,
        last_id: 0,
        seen: seen.clone(),
    };
    let connection = Builder::address(bus.address.as_str())
        .name("org.freedesktop.Notifications")
        .serve_at("/org/freedesktop/Notifications", fake)
        .build()
        .await
        .expect("serve the fake notification server");
    (connection, seen)
}

fn run<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// Waits until the fake was asked to close `id`.
async fn closed(seen: &Mutex<Seen>, id: u32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !seen.lock().expect("seen").closed.contains(&id) {
        assert!(
            Instant::now() < deadline,
            "notification {id} was never closed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn allow_once_and_what_the_notification_says() {
    let Some(bus) = private_bus() else { return };
    run(async {
        let (_server, seen) = fake(&bus, Mode::Allow).await;
        let desktop = Desktop::connect_to(&bus.address).await.expect("found");
        let approver = Approver::new(vec![Arc::new(desktop)]);
        let mut question = request(5_000);
        question.tool = "<b>rm</b> & co".into();
        question.arguments = "{\n  \"path\": \"<i>'/tmp/x'</i>\"\n}".into();

        let started = Instant::now();
        let verdict = approver.decide(&question).await;
        eprintln!(
            "approve round trip through the fake: {:?}",
            started.elapsed()
        );
        assert_eq!(verdict, Verdict::new(Answer::Once, "desktop"));

        let seen = seen.lock().expect("seen");
        let shown = &seen.shown[0];
        assert_eq!(shown.summary, "peta: demo wants to run <b>rm</b> & co");
        assert_eq!(
            shown.body,
            "tools/call &lt;b&gt;rm&lt;/b&gt; &amp; co\n\
             rule default: no rule matched; the default is ask\n\
             {\n  &quot;path&quot;: &quot;&lt;i&gt;&#39;/tmp/x&#39;&lt;/i&gt;&quot;\n}\n\
             All of it: peta approve in a terminal"
        );
        assert_eq!(shown.actions, ["deny", "Deny", "allow", "Allow once"]);
        assert_eq!(shown.urgency, Some(2), "critical");
        assert_eq!(shown.expire_timeout, 5_000);
    });
}

#[test]
fn deny_button_denies() {
    let Some(bus) = private_bus() else { return };
    run(async {
        let (_server, _seen) = fake(&bus, Mode::Deny).await;
        let desktop = Desktop::connect_to(&bus.address).await.expect("found");
        let approver = Approver::new(vec![Arc::new(desktop)]);
        assert_eq!(
            approver.decide(&request(5_000)).await,
            Verdict::new(Answer::Deny, "desktop")
        );
    });
}

#[test]
fn a_dismissed_notification_gives_up() {
    let Some(bus) = private_bus() else { return };
    run(async {
        let (_server, _seen) = fake(&bus, Mode::Dismiss).await;
        let desktop = Desktop::connect_to(&bus.address).await.expect("found");
        let approver = Approver::new(vec![Arc::new(desktop)]);
        let started = Instant::now();
        // Given up, not timed out: the other channels would keep asking.
        assert_eq!(
            approver.decide(&request(5_000)).await,
            Verdict::denied("no-answer")
        );
        assert!(started.elapsed() < Duration::from_secs(4));
    });
}

#[test]
fn a_server_gone_since_gives_up_at_once() {
    let Some(bus) = private_bus() else { return };
    run(async {
        let (server, _seen) = fake(&bus, Mode::Allow).await;
        let desktop = Desktop::connect_to(&bus.address).await.expect("found");
        server.graceful_shutdown().await;
        let approver = Approver::new(vec![Arc::new(desktop)]);
        assert_eq!(
            approver.decide(&request(5_000)).await,
            Verdict::denied("no-answer")
        );
    });
}

#[test]
fn silence_times_out_and_closes_the_notification() {
    let Some(bus) = private_bus() else { return };
    run(async {
        let (_server, seen) = fake(&bus, Mode::Silent).await;
        let desktop = Desktop::connect_to(&bus.address).await.expect("found");
        let approver = Approver::new(vec![Arc::new(desktop)]);
        assert_eq!(
            approver.decide(&request(300)).await,
            Verdict::denied("timeout")
        );
        let id = seen.lock().expect("seen").shown[0].id;
        closed(&seen, id).await;
    });
}

#[test]
fn without_buttons_a_nudge_waits_and_is_closed() {
    let Some(bus) = private_bus() else { return };
    run(async {
        let (_server, seen) = fake(&bus, Mode::NoActions).await;
        let desktop = Desktop::connect_to(&bus.address).await.expect("found");
        let approver = Approver::new(vec![Arc::new(desktop)]);
        let mut question = request(300);
        question.tool = "<b>rm</b>".into();
        assert_eq!(approver.decide(&question).await, Verdict::denied("timeout"));
        let shown = seen.lock().expect("seen").shown[0].clone();
        assert_eq!(shown.summary, "peta is waiting for your approval");
        assert_eq!(
            shown.body,
            "demo wants to run tools/call &lt;b&gt;rm&lt;/b&gt;.\n\
             Run peta approve in a terminal to answer."
        );
        assert!(shown.actions.is_empty());
        closed(&seen, shown.id).await;
    });
}

#[test]
fn no_server_no_channel() {
    let Some(bus) = private_bus() else { return };
    run(async {
        assert!(Desktop::connect_to(&bus.address).await.is_none());
        assert!(
            Desktop::connect_to("unix:path=/nonexistent/bus")
                .await
                .is_none()
        );
    });
}

#[test]
fn long_arguments_are_cut_for_the_notification() {
    let mut question = request(1_000);
    question.arguments = (0..10)
        .map(|i| format!("line {i} {}", "x".repeat(100)))
        .collect::<Vec<_>>()
        .join("\n");
    let text = body(&question);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 + ARGUMENT_LINES + 2, "{text}");
    assert_eq!(lines[2].chars().count(), LINE_CHARS);
    assert!(lines[2].ends_with('…'));
    assert_eq!(lines[2 + ARGUMENT_LINES], "… 4 more lines");
}
