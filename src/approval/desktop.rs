//! The desktop channel: a notification with "Deny" and "Allow once" buttons from the
//! freedesktop notification server on the D-Bus session bus, or, where that server shows no
//! buttons, a nudge to answer in `peta approve`.
//!
//! It speaks the [Desktop Notifications spec] through zbus rather than notify-rust, whose
//! zbus backend always dials the session bus of the environment, starts listening for the
//! answer only after the notification is up (a server that answers at once is missed),
//! takes an `ActionInvoked` signal from any sender on the bus, and unwraps D-Bus errors while
//! waiting. Here the signal streams exist before `Notify` is sent, and zbus keeps only the
//! signals sent by the connection that owns `org.freedesktop.Notifications`.
//!
//! [Desktop Notifications spec]: https://specifications.freedesktop.org/notification-spec/latest/

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use zbus::Variant;
use zbus::connection::Builder;

use super::{Answer, Asking, Channel, Request};

/// How long finding the notification server may take before the channel counts as absent.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long closing a withdrawn notification may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How many lines of the arguments a notification shows, and how wide; `peta approve` shows
/// them all.
const ARGUMENT_LINES: usize = 6;
const LINE_CHARS: usize = 72;

/// The action keys; the spec's `default` key (a click on the notification itself) and any
/// other key deny.
const ALLOW: &str = "allow";
const DENY: &str = "deny";

/// Urgency hint values (spec: "Urgency Levels").
const NORMAL: u8 = 1;
const CRITICAL: u8 = 2;

#[zbus::proxy(
    interface = "org.freedesktop.Notifications",
    default_service = "org.freedesktop.Notifications",
    default_path = "/org/freedesktop/Notifications"
)]
trait Notifications {
    #[expect(clippy::too_many_arguments, reason = "the spec's Notify signature")]
    fn notify(
        &self,
        app_name: &str,
        replaces_id: u32,
        app_icon: &str,
        summary: &str,
        body: &str,
        actions: &[&str],
        hints: HashMap<&str, Variant<'_>>,
        expire_timeout: i32,
    ) -> zbus::Result<u32>;

    fn close_notification(&self, id: u32) -> zbus::Result<()>;

    fn get_capabilities(&self) -> zbus::Result<Vec<String>>;

    #[zbus(signal)]
    fn action_invoked(&self, id: u32, action_key: String) -> zbus::Result<()>;

    #[zbus(signal)]
    fn notification_closed(&self, id: u32, reason: u32) -> zbus::Result<()>;
}

/// The notification server of one session bus, found when peta starts.
pub(crate) struct Desktop {
    server: NotificationsProxy<'static>,
    /// Whether the server lists the `actions` capability; without it, only a nudge.
    actions: bool,
}

impl Desktop {
    /// The notification server on the session bus (`DBUS_SESSION_BUS_ADDRESS`, or the
    /// `$XDG_RUNTIME_DIR/bus` of a systemd user session), or `None` when there is no bus or no
    /// server answers within two seconds. Must run inside the tokio runtime the questions are
    /// asked on: the connection lives on it.
    pub(crate) async fn connect() -> Option<Desktop> {
        Desktop::probe(Builder::session()).await
    }

    /// As [`Desktop::connect`], on the bus at `address` (a D-Bus address such as
    /// `unix:path=/run/user/1000/bus`).
    #[cfg(test)]
    pub(crate) async fn connect_to(address: &str) -> Option<Desktop> {
        Desktop::probe(Builder::address(address)).await
    }

    /// Whether the notification server shows buttons (the `actions` capability).
    pub(crate) fn has_actions(&self) -> bool {
        self.actions
    }

    async fn probe(bus: Builder<'_>) -> Option<Desktop> {
        let found = async {
            let connection = bus.build().await?;
            let server = NotificationsProxy::new(&connection).await?;
            let capabilities = server.get_capabilities().await?;
            let actions = capabilities.iter().any(|c| c == "actions");
            Ok::<_, zbus::Error>(Desktop { server, actions })
        };
        match tokio::time::timeout(PROBE_TIMEOUT, found).await {
            Ok(Ok(desktop)) => {
                tracing::debug!(actions = desktop.actions, "desktop notifications found");
                Some(desktop)
            }
            Ok(Err(e)) => {
                tracing::debug!("no desktop notifications: {e}");
                None
            }
            Err(_) => {
                tracing::debug!("no desktop notifications: no answer within {PROBE_TIMEOUT:?}");
                None
            }
        }
    }

    /// One notification with the buttons; resolves when one is pressed or the notification
    /// goes away.
    async fn ask_with_buttons(&self, request: &Request) -> zbus::Result<Option<Answer>> {
        // Listen before showing, so an answer that comes at once is not missed.
        let mut invoked = self.server.receive_action_invoked().await?;
        let mut closed = self.server.receive_notification_closed().await?;
        let mut shown = self
            .show(
                &summary(request),
                &body(request),
                // Deny first: the safe choice leads.
                &[DENY, "Deny", ALLOW, "Allow once"],
                CRITICAL,
                request.timeout,
            )
            .await?;
        loop {
            tokio::select! {
                // A server closes a notification after an action; the action counts.
                biased;
                Some(signal) = invoked.next() => {
                    let Ok(args) = signal.args() else { continue };
                    if args.id == shown.id {
                        shown.open = false;
                        return Ok(Some(answer(&args.action_key)));
                    }
                }
                Some(signal) = closed.next() => {
                    if signal.args().is_ok_and(|args| args.id == shown.id) {
                        shown.open = false;
                        return Ok(None);
                    }
                }
                else => return Ok(None),
            }
        }
    }

    /// A notification without buttons that points to `peta approve`; never answers.
    async fn nudge(&self, request: &Request) -> zbus::Result<Option<Answer>> {
        let body = format!(
            "{} wants to run {} {}.\nRun peta approve in a terminal to answer.",
            request.server, request.method, request.tool
        );
        let _shown = self
            .show(
                "peta is waiting for your approval",
                &escape(&body),
                &[],
                NORMAL,
                request.timeout,
            )
            .await?;
        std::future::pending().await
    }

    async fn show(
        &self,
        summary: &str,
        body: &str,
        actions: &[&str],
        urgency: u8,
        timeout: Duration,
    ) -> zbus::Result<Shown> {
        let hints = HashMap::from([("urgency", Variant::U8(urgency))]);
        // 0 would mean "never expires".
        let expire = i32::try_from(timeout.as_millis()).map_or(i32::MAX, |ms| ms.max(1));
        let id = self
            .server
            .notify("peta", 0, "", summary, body, actions, hints, expire)
            .await?;
        Ok(Shown {
            server: self.server.clone(),
            id,
            open: true,
        })
    }
}

impl Channel for Desktop {
    fn name(&self) -> &'static str {
        "desktop"
    }

    /// A `Desktop` exists only once a notification server answered, so it is always worth
    /// asking; a server that went away since makes [`Channel::ask`] give up at once.
    fn available(&self) -> bool {
        true
    }

    fn ask<'a>(&'a self, request: &'a Request) -> Asking<'a> {
        Box::pin(async move {
            let asked = if self.actions {
                self.ask_with_buttons(request).await
            } else {
                self.nudge(request).await
            };
            asked.unwrap_or_else(|e| {
                tracing::warn!("desktop notification failed: {e}");
                None
            })
        })
    }
}

/// A notification on screen. Dropping it while still open (the question was withdrawn or
/// timed out) closes it.
struct Shown {
    server: NotificationsProxy<'static>,
    id: u32,
    /// False once the server said it closed the notification itself.
    open: bool,
}

impl Drop for Shown {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let (server, id) = (self.server.clone(), self.id);
        // Drop cannot wait for D-Bus: the close runs as a task on the runtime, which gets to
        // it as soon as the current task yields.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    match tokio::time::timeout(CLOSE_TIMEOUT, server.close_notification(id)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => tracing::debug!("closing notification {id}: {e}"),
                        Err(_) => tracing::debug!("closing notification {id}: no answer"),
                    }
                });
            }
            Err(_) => tracing::debug!("notification {id} left open: no runtime to close it on"),
        }
    }
}

/// What a pressed button means.
fn answer(action_key: &str) -> Answer {
    if action_key == ALLOW {
        Answer::Once
    } else {
        Answer::Deny
    }
}

/// The notification's title. The spec makes the summary plain text (servers escape it
/// themselves), so it is not escaped here; the body repeats the tool, escaped.
fn summary(request: &Request) -> String {
    format!("peta: {} wants to run {}", request.server, request.tool)
}

/// The notification's text, escaped: the call, the rule and why, the first lines of the
/// arguments, and where to see everything.
fn body(request: &Request) -> String {
    let mut lines = vec![
        format!("{} {}", request.method, request.tool),
        format!("rule {}: {}", request.rule, request.reason),
    ];
    lines.extend(request.message.clone());
    let arguments: Vec<&str> = request.arguments.lines().collect();
    for line in arguments.iter().take(ARGUMENT_LINES) {
        if line.chars().count() > LINE_CHARS {
            lines.push(format!(
                "{}…",
                line.chars().take(LINE_CHARS - 1).collect::<String>()
            ));
        } else {
            lines.push((*line).to_owned());
        }
    }
    if arguments.len() > ARGUMENT_LINES {
        lines.push(format!("… {} more lines", arguments.len() - ARGUMENT_LINES));
    }
    lines.push("All of it: peta approve in a terminal".to_owned());
    escape(&lines.join("\n"))
}

/// Escapes text for a notification body, which many servers read as a small subset of HTML
/// (spec: "Markup"): a server's tool names and arguments must show as typed, not as markup.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
