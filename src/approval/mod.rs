//! Reaching a person about a call the policy says to ask about.
//!
//! A [`Request`] is what the person sees; every [`Channel`] (terminal, desktop notification,
//! the `peta approve` console, the client's own UI through elicitation) is asked at once and
//! the first answer wins ([`Approver::decide`]); the other channels' questions are withdrawn
//! by dropping their futures. No channel, no answer in time, or an error: deny.
//! [`Grants`] remembers "allow for this session / for N minutes / always".
//!
//! # Which channels ask
//!
//! `[defaults] channels` lists the channels to use, in order of preference ([`Kind`]); one
//! not listed is never used. Of the listed ones, every one that can reach someone now is
//! asked at once, with one exception: the client's dialog and the terminal are the same
//! screen and keyboard when peta runs inside a terminal client (Claude Code draws its
//! dialog where peta's `/dev/tty` prompt would go, and both would read the same keys), so of
//! the channels [`on the person's screen`](Channel::on_the_screen) only the first listed that
//! is available asks. With the default order the client's own dialog wins, and the terminal
//! is asked only when the client has none. The terminal also asks only when it is peta's own
//! (see `terminal.rs`).

pub(crate) mod console;
#[cfg(all(unix, not(target_os = "macos")))]
pub(crate) mod desktop;
pub(crate) mod elicit;
pub(crate) mod grants;
pub(crate) mod render;
pub(crate) mod terminal;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use grants::{GrantKey, Grants};

/// One question for a person. Everything in it is already redacted and made printable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    /// peta's own id for this question (`peta-<uuid>`); never sent to the server.
    pub(crate) id: String,
    /// The server's label (its configured name, or its program).
    pub(crate) server: String,
    /// The gated method (`tools/call`, `resources/read`, …).
    pub(crate) method: String,
    /// The tool name (resource URI, prompt name), made visible.
    pub(crate) tool: String,
    /// The rule that asked (its id, or `default`), and why.
    pub(crate) rule: String,
    pub(crate) reason: String,
    /// The rule's message for the person, if any.
    pub(crate) message: Option<String>,
    /// The arguments as canonical pretty JSON, redacted, escapes visible, long values folded.
    pub(crate) arguments: String,
    /// The tool's annotations as the server claims them, if it listed any.
    pub(crate) annotations: Option<String>,
    /// What peta knows of the tool's definition: `pinned`, `new`, `changed`, `unknown`.
    pub(crate) pin: String,
    /// SHA-256 of the exact bytes that will be forwarded if allowed.
    pub(crate) bytes_sha256: String,
    /// How long the question waits.
    pub(crate) timeout: Duration,
}

/// What the person chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Deny,
    /// This request only.
    Once,
    /// Identical calls for the rest of this peta process.
    Session,
    /// Identical calls for this long.
    For(Duration),
    /// Persisted: this server, tool, tool definition and arguments.
    Always,
    /// Closed without a choice where it was shown (the client's dialog declined or
    /// cancelled): a denial, and one nobody chose. A headless client dismisses every
    /// question, so this decides at once rather than leave the call waiting for nobody.
    Dismissed,
}

impl Answer {
    pub(crate) fn allows(self) -> bool {
        !matches!(self, Answer::Deny | Answer::Dismissed)
    }

    pub(crate) fn label(self) -> String {
        match self {
            Answer::Deny => "deny".into(),
            Answer::Once => "allow once".into(),
            Answer::Session => "allow for this session".into(),
            Answer::For(d) => format!("allow for {} min", d.as_secs().div_ceil(60)),
            Answer::Always => "always allow".into(),
            Answer::Dismissed => "dismissed".into(),
        }
    }
}

/// The outcome of asking: the answer and who or what gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) answer: Answer,
    /// `tty`, `desktop`, `console`, `elicitation`, or for a denial nobody chose: `timeout`,
    /// `no-channel`, `cancelled`, `flood`.
    pub(crate) by: String,
    /// The answering process, where the channel knows it (`Channel::answered_by`).
    pub(crate) who: Option<String>,
}

impl Verdict {
    pub(crate) fn denied(by: &str) -> Verdict {
        Verdict::new(Answer::Deny, by)
    }

    pub(crate) fn new(answer: Answer, by: &str) -> Verdict {
        Verdict {
            answer,
            by: by.to_owned(),
            who: None,
        }
    }
}

/// The channels as `[defaults] channels` names them, in the default order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The client's own dialog: `elicitation/create`, or `input_required` (2026-07-28).
    Client,
    Desktop,
    Console,
    Tty,
}

impl Kind {
    pub(crate) const ALL: [Kind; 4] = [Kind::Client, Kind::Desktop, Kind::Console, Kind::Tty];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Client => "client",
            Kind::Desktop => "desktop",
            Kind::Console => "console",
            Kind::Tty => "tty",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A boxed future, so channels can be kept in one list.
pub(crate) type Asking<'a> = Pin<Box<dyn Future<Output = Option<Answer>> + Send + 'a>>;

/// One way of reaching a person.
pub(crate) trait Channel: Send + Sync {
    /// `tty`, `desktop`, `console`, `elicitation`.
    fn name(&self) -> &'static str;

    /// Whether this channel can reach anyone now (a terminal exists, the client declared
    /// elicitation, …). Checked before each question.
    fn available(&self) -> bool;

    /// Asks. Resolves to the person's answer, or `None` when this channel gave up (closed
    /// terminal, notification dismissed without an action). Dropping the future withdraws
    /// the question: the channel must then clean up what it showed.
    fn ask<'a>(&'a self, request: &'a Request) -> Asking<'a>;

    /// Whether this channel asks on the screen and keyboard right in front of the person
    /// (the terminal, the client's dialog), which others of its kind may share: only the
    /// first such channel that is available asks.
    fn on_the_screen(&self) -> bool {
        false
    }

    /// Whether a question asked here is in front of someone as soon as it is asked. The
    /// console is only while a `peta approve --watch` is attached; otherwise someone has to
    /// think of running `peta approve`.
    fn watched(&self) -> bool {
        true
    }

    /// Which process gave the answer to `id`, where the channel can tell (the console: the
    /// peer's pid and executable), for the answer's audit row.
    fn answered_by(&self, _id: &str) -> Option<String> {
        None
    }
}

/// A channel that is still connecting (the desktop's D-Bus probe): unavailable until
/// [`Deferred::set`] gives it the channel, so start-up never waits for it.
pub(crate) struct Deferred<C> {
    name: &'static str,
    inner: std::sync::OnceLock<C>,
}

impl<C: Channel> Deferred<C> {
    pub(crate) fn new(name: &'static str) -> Deferred<C> {
        Deferred {
            name,
            inner: std::sync::OnceLock::new(),
        }
    }

    pub(crate) fn set(&self, channel: C) {
        let _ = self.inner.set(channel);
    }
}

impl<C: Channel> Channel for Deferred<C> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn available(&self) -> bool {
        self.inner.get().is_some_and(Channel::available)
    }

    fn watched(&self) -> bool {
        self.inner.get().is_some_and(Channel::watched)
    }

    fn ask<'a>(&'a self, request: &'a Request) -> Asking<'a> {
        match self.inner.get() {
            Some(channel) => channel.ask(request),
            None => Box::pin(async { None }),
        }
    }
}

/// All channels, raced.
pub(crate) struct Approver {
    channels: Vec<Arc<dyn Channel>>,
}

impl std::fmt::Debug for Approver {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_list()
            .entries(self.channels.iter().map(|c| c.name()))
            .finish()
    }
}

impl Approver {
    pub(crate) fn new(channels: Vec<Arc<dyn Channel>>) -> Approver {
        Approver { channels }
    }

    /// The channels that would ask now: every available one, but of those on the person's
    /// screen only the first (see the module docs).
    fn asking(&self) -> Vec<&Arc<dyn Channel>> {
        let mut screen_taken = false;
        self.channels
            .iter()
            .filter(|c| c.available())
            .filter(|c| {
                if !c.on_the_screen() {
                    return true;
                }
                !std::mem::replace(&mut screen_taken, true)
            })
            .collect()
    }

    /// The names of the channels that would ask now.
    pub(crate) fn reachable(&self) -> Vec<&'static str> {
        self.asking().into_iter().map(|c| c.name()).collect()
    }

    /// Asks every channel that can ask now at once; the first answer wins. A channel that
    /// gives up leaves the others asking. Deny when none is available, all give up, or time
    /// runs out.
    pub(crate) async fn decide(&self, request: &Request) -> Verdict {
        let channels = self.asking();
        let what = format!("{}'s {} {}", request.server, request.method, request.tool);
        if channels.is_empty() {
            tracing::warn!(
                "{what} needs approval and nothing here can ask anyone (no terminal of peta's, no client dialog, no desktop notification, no `peta approve` console): denied"
            );
            return Verdict::denied("no-channel");
        }
        if !channels.iter().any(|c| c.watched()) {
            // Said once per question, where the client shows its servers' logs.
            tracing::warn!(
                "{what} waits for approval, and nothing shows it to anyone (no terminal of peta's, no client dialog, no desktop notification): answer it with `peta approve` in a terminal within {} s",
                request.timeout.as_secs()
            );
        }
        let mut asking: Vec<(&Arc<dyn Channel>, Asking<'_>)> =
            channels.into_iter().map(|c| (c, c.ask(request))).collect();
        let race = std::future::poll_fn(|cx| {
            let mut i = 0;
            while i < asking.len() {
                match asking[i].1.as_mut().poll(cx) {
                    std::task::Poll::Ready(Some(answer)) => {
                        let channel = asking[i].0;
                        return std::task::Poll::Ready(Some(Verdict {
                            answer,
                            by: channel.name().to_owned(),
                            who: channel.answered_by(&request.id),
                        }));
                    }
                    std::task::Poll::Ready(None) => {
                        drop(asking.swap_remove(i));
                    }
                    std::task::Poll::Pending => i += 1,
                }
            }
            if asking.is_empty() {
                std::task::Poll::Ready(None)
            } else {
                std::task::Poll::Pending
            }
        });
        match tokio::time::timeout(request.timeout, race).await {
            Ok(Some(verdict)) => verdict,
            Ok(None) => Verdict::denied("no-answer"),
            Err(_) => Verdict::denied("timeout"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Answers after `after`, or gives up (`None`), and records whether it was withdrawn.
    struct Scripted {
        name: &'static str,
        after: Duration,
        answer: Option<Answer>,
        withdrawn: Arc<std::sync::atomic::AtomicBool>,
        present: bool,
        screen: bool,
        asked: AtomicU32,
    }

    struct Withdraw(Arc<std::sync::atomic::AtomicBool>);
    impl Drop for Withdraw {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    impl Channel for Scripted {
        fn name(&self) -> &'static str {
            self.name
        }
        fn available(&self) -> bool {
            self.present
        }
        fn on_the_screen(&self) -> bool {
            self.screen
        }
        fn ask<'a>(&'a self, _: &'a Request) -> Asking<'a> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let guard = Withdraw(self.withdrawn.clone());
            Box::pin(async move {
                tokio::time::sleep(self.after).await;
                // Answered: not a withdrawal.
                std::mem::forget(guard);
                self.answer
            })
        }
    }

    fn scripted(name: &'static str, after_ms: u64, answer: Option<Answer>) -> Arc<Scripted> {
        Arc::new(Scripted {
            name,
            after: Duration::from_millis(after_ms),
            answer,
            withdrawn: Arc::default(),
            present: true,
            screen: false,
            asked: AtomicU32::new(0),
        })
    }

    fn on_screen(name: &'static str, after_ms: u64, answer: Option<Answer>) -> Arc<Scripted> {
        Arc::new(Scripted {
            screen: true,
            ..Arc::into_inner(scripted(name, after_ms, answer)).expect("sole owner")
        })
    }

    pub(crate) fn request(timeout_ms: u64) -> Request {
        Request {
            id: "peta-test".into(),
            server: "demo".into(),
            method: "tools/call".into(),
            tool: "delete_file".into(),
            rule: "default".into(),
            reason: "no rule matched; the default is ask".into(),
            message: None,
            arguments: "{\n  \"path\": \"/tmp/x\"\n}".into(),
            annotations: None,
            pin: "unknown".into(),
            bytes_sha256: "00".repeat(32),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    fn run<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn the_first_answer_wins_and_the_rest_are_withdrawn() {
        let fast = scripted("console", 10, Some(Answer::Once));
        let slow = scripted("tty", 1000, Some(Answer::Deny));
        let approver = Approver::new(vec![slow.clone(), fast.clone()]);
        let verdict = run(approver.decide(&request(45_000)));
        assert_eq!(verdict, Verdict::new(Answer::Once, "console"));
        assert!(slow.withdrawn.load(std::sync::atomic::Ordering::SeqCst));
        assert!(!fast.withdrawn.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn a_channel_giving_up_leaves_the_others() {
        let gone = scripted("tty", 5, None);
        let later = scripted("desktop", 50, Some(Answer::Session));
        let approver = Approver::new(vec![gone, later]);
        assert_eq!(
            run(approver.decide(&request(45_000))).answer,
            Answer::Session
        );
    }

    #[test]
    fn silence_no_channel_and_giving_up_all_deny() {
        let slow = scripted("tty", 60_000, Some(Answer::Always));
        let approver = Approver::new(vec![slow.clone()]);
        assert_eq!(
            run(approver.decide(&request(1_000))),
            Verdict::denied("timeout")
        );
        assert!(slow.withdrawn.load(std::sync::atomic::Ordering::SeqCst));

        let absent = Arc::new(Scripted {
            present: false,
            ..Arc::into_inner(scripted("tty", 1, Some(Answer::Once))).expect("sole owner")
        });
        let approver = Approver::new(vec![absent.clone()]);
        assert_eq!(
            run(approver.decide(&request(1_000))),
            Verdict::denied("no-channel")
        );
        assert_eq!(
            absent.asked.load(Ordering::SeqCst),
            0,
            "an unavailable channel is not asked"
        );

        let approver = Approver::new(vec![scripted("tty", 1, None), scripted("desktop", 2, None)]);
        assert_eq!(
            run(approver.decide(&request(1_000))),
            Verdict::denied("no-answer")
        );
    }

    #[test]
    fn of_the_channels_on_the_screen_only_the_first_available_asks() {
        // The client's dialog listed first: the terminal stays silent, the console still asks.
        let client = on_screen("elicitation", 100, Some(Answer::Once));
        let tty = on_screen("tty", 10, Some(Answer::Deny));
        let console = scripted("console", 1000, None);
        let approver = Approver::new(vec![client.clone(), console.clone(), tty.clone()]);
        assert_eq!(approver.reachable(), ["elicitation", "console"]);
        let verdict = run(approver.decide(&request(45_000)));
        assert_eq!(verdict.by, "elicitation");
        assert_eq!(
            tty.asked.load(Ordering::SeqCst),
            0,
            "the terminal was not asked"
        );
        assert_eq!(console.asked.load(Ordering::SeqCst), 1);

        // No dialog in this client: the terminal asks.
        let absent = Arc::new(Scripted {
            present: false,
            ..Arc::into_inner(on_screen("elicitation", 1, Some(Answer::Once))).expect("owner")
        });
        let tty = on_screen("tty", 10, Some(Answer::Session));
        let approver = Approver::new(vec![absent, tty.clone()]);
        assert_eq!(approver.reachable(), ["tty"]);
        assert_eq!(
            run(approver.decide(&request(45_000))).answer,
            Answer::Session
        );

        // The terminal preferred: it asks, the dialog does not.
        let client = on_screen("elicitation", 1, Some(Answer::Once));
        let tty = on_screen("tty", 10, Some(Answer::Deny));
        let approver = Approver::new(vec![tty, client.clone()]);
        assert_eq!(run(approver.decide(&request(45_000))).by, "tty");
        assert_eq!(client.asked.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn kinds_by_name() {
        assert_eq!(Kind::parse("client"), Some(Kind::Client));
        assert_eq!(Kind::parse("tty"), Some(Kind::Tty));
        assert_eq!(Kind::parse("elicitation"), None);
        assert!(Kind::ALL.iter().all(|k| Kind::parse(k.name()) == Some(*k)));
    }
}
