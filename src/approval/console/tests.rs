//! Two sessions' consoles in one process, each in its own temporary runtime directory
//! passed explicitly, and the `peta approve` client functions against them.

use std::future::Future;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::client::{self, AnswerError, Watch};
use super::protocol::{Applied, Listing};
use super::{Console, ConsoleError, OnLate, SocketDir};
use crate::approval::{Answer, Approver, Channel, Request, Verdict, render};

fn run<F: Future>(f: F) -> F::Output {
    // Real time: the sockets are real, and a paused clock would jump past the timeouts
    // while the runtime waits on them.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn request(id: &str, timeout_ms: u64) -> Request {
    Request {
        id: id.into(),
        ..crate::approval::tests::request(timeout_ms)
    }
}

type Late = Arc<Mutex<Vec<(String, Answer)>>>;

fn recording() -> (OnLate, Late) {
    let late = Late::default();
    let seen = late.clone();
    let on_late: OnLate = Box::new(move |request: &Request, answer| {
        seen.lock()
            .expect("lock")
            .push((request.id.clone(), answer));
    });
    (on_late, late)
}

fn ignore() -> OnLate {
    Box::new(|_: &Request, _| {})
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

/// Polls the directory until `done` holds for its sessions.
async fn sessions_until(
    dir: &SocketDir,
    done: impl Fn(&[client::Session]) -> bool,
) -> Vec<client::Session> {
    for _ in 0..500 {
        let sessions = client::sessions(std::slice::from_ref(dir))
            .await
            .expect("sessions");
        if done(&sessions) {
            return sessions;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the sessions never reached the expected state");
}

async fn next(watch: &mut Watch) -> Listing {
    tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .expect("a listing in time")
        .expect("read")
        .expect("the session is there")
}

#[test]
fn two_sessions_are_listed_and_each_answer_reaches_its_request() {
    let runtime = tempfile::tempdir().expect("dir");
    let dir = SocketDir::under(runtime.path());
    run(async {
        let alpha = Arc::new(Console::start_in(&dir, "s-alpha", "alpha", ignore()).expect("alpha"));
        let beta = Arc::new(Console::start_in(&dir, "s-beta", "beta", ignore()).expect("beta"));
        assert!(alpha.available() && beta.available());
        let alpha_approver = Approver::new(vec![alpha.clone()]);
        let beta_approver = Approver::new(vec![beta.clone()]);
        let to_alpha = request("peta-a", 45_000);
        let to_beta = Request {
            tool: "push_files".into(),
            ..request("peta-b", 45_000)
        };
        let console = async {
            let sessions = sessions_until(&dir, |s| {
                s.len() == 2 && s.iter().all(|s| s.listing.pending.len() == 1)
            })
            .await;
            let labels: Vec<&str> = sessions.iter().map(|s| s.listing.label.as_str()).collect();
            assert_eq!(labels, ["alpha", "beta"]);
            assert_eq!(sessions[1].listing.pending[0].request.id, "peta-b");
            assert_eq!(sessions[1].listing.pid, std::process::id());
            let shown = render::question(&sessions[1].listing.pending[0].request.to_request());
            assert!(
                shown.contains("wants to run tools/call push_files"),
                "{shown}"
            );
            assert!(sessions[0].listing.pending[0].deadline_ms > 0);

            let (session, applied) =
                client::answer(std::slice::from_ref(&dir), "peta-b", Answer::Session)
                    .await
                    .expect("answered");
            assert_eq!(
                (session.listing.label.as_str(), applied),
                ("beta", Applied::Now)
            );
            let (session, applied) =
                client::answer(std::slice::from_ref(&dir), "peta-a", Answer::Deny)
                    .await
                    .expect("answered");
            assert_eq!(
                (session.listing.label.as_str(), applied),
                ("alpha", Applied::Now)
            );

            let again = client::answer(std::slice::from_ref(&dir), "peta-b", Answer::Always).await;
            assert!(
                matches!(&again, Err(AnswerError::Refused { decided: true, message })
                    if message.contains("already decided") && message.contains("allow for this session")),
                "{again:?}"
            );
            let unknown =
                client::answer(std::slice::from_ref(&dir), "peta-nope", Answer::Once).await;
            assert!(
                matches!(unknown, Err(AnswerError::Unknown { .. })),
                "{unknown:?}"
            );
        };
        let (a, b, ()) = tokio::join!(
            alpha_approver.decide(&to_alpha),
            beta_approver.decide(&to_beta),
            console
        );
        // The answers' audit rows name who gave them: here, this very process.
        let me = format!(
            "pid {} ({})",
            std::process::id(),
            std::env::current_exe().expect("exe").display()
        );
        assert_eq!((b.answer, b.by.as_str()), (Answer::Session, "console"));
        assert_eq!(b.who.as_deref(), Some(me.as_str()));
        assert_eq!((a.answer, a.by.as_str()), (Answer::Deny, "console"));
        assert_eq!(a.who.as_deref(), Some(me.as_str()));
    });
}

#[test]
fn dropping_the_question_withdraws_it_and_watchers_are_told() {
    let runtime = tempfile::tempdir().expect("dir");
    let dir = SocketDir::under(runtime.path());
    run(async {
        let console = Console::start_in(&dir, "s1", "demo", ignore()).expect("start");
        let socket = console.socket().to_owned();
        assert_eq!(mode(&socket), 0o600, "the socket is the user's only");
        assert_eq!(mode(dir.path()), 0o700);

        let mut watch = Watch::open(&socket).await.expect("watch").expect("there");
        assert!(next(&mut watch).await.pending.is_empty());
        let question = request("peta-w", 45_000);
        let asking = console.ask(&question);
        let listing = next(&mut watch).await;
        assert_eq!(listing.pending.len(), 1);
        assert_eq!(listing.pending[0].request.id, "peta-w");

        drop(asking);
        let listing = next(&mut watch).await;
        assert!(listing.pending.is_empty(), "withdrawn");
        assert_eq!(listing.recent.len(), 1, "kept for a late answer");
        assert!(listing.recent[0].until_ms > listing.recent[0].withdrawn_ms);

        drop(console);
        assert!(!socket.exists(), "the socket goes with the console");
        let end = tokio::time::timeout(Duration::from_secs(5), watch.next())
            .await
            .expect("the watcher is let go");
        assert!(matches!(end, Ok(None) | Err(_)), "{end:?}");
        assert!(
            client::sessions(std::slice::from_ref(&dir))
                .await
                .expect("none")
                .is_empty()
        );
    });
}

#[test]
fn a_late_allow_applies_to_the_retry_and_a_late_deny_to_nothing() {
    let runtime = tempfile::tempdir().expect("dir");
    let dir = SocketDir::under(runtime.path());
    run(async {
        let (on_late, late) = recording();
        let console = Arc::new(Console::start_in(&dir, "s1", "demo", on_late).expect("start"));
        let approver = Approver::new(vec![console.clone()]);
        for id in ["peta-late", "peta-denied", "peta-settled"] {
            assert_eq!(
                approver.decide(&request(id, 20)).await,
                Verdict::denied("timeout")
            );
        }
        let sessions = client::sessions(std::slice::from_ref(&dir))
            .await
            .expect("sessions");
        assert_eq!(sessions[0].listing.recent.len(), 3);
        assert!(sessions[0].listing.pending.is_empty());

        let (_, applied) = client::answer(std::slice::from_ref(&dir), "peta-late", Answer::Once)
            .await
            .expect("late answer");
        assert_eq!(applied, Applied::Retry);
        assert_eq!(
            *late.lock().expect("lock"),
            [("peta-late".to_owned(), Answer::Once)]
        );

        let (_, applied) = client::answer(std::slice::from_ref(&dir), "peta-denied", Answer::Deny)
            .await
            .expect("late deny");
        assert_eq!(applied, Applied::None);
        assert_eq!(
            late.lock().expect("lock").len(),
            1,
            "a deny changes nothing"
        );

        // Another channel answered it: the session says so, and it is no longer offered.
        console.settled("peta-settled");
        let refused =
            client::answer(std::slice::from_ref(&dir), "peta-settled", Answer::Always).await;
        assert!(
            matches!(&refused, Err(AnswerError::Refused { decided: true, message }) if message.contains("decided in the session")),
            "{refused:?}"
        );
        assert_eq!(late.lock().expect("lock").len(), 1);
        let sessions = client::sessions(std::slice::from_ref(&dir))
            .await
            .expect("sessions");
        assert!(sessions[0].listing.recent.is_empty());
    });
}

#[test]
fn withdrawn_questions_are_forgotten_after_a_while() {
    let runtime = tempfile::tempdir().expect("dir");
    let dir = SocketDir::under(runtime.path());
    run(async {
        let (on_late, late) = recording();
        let console = Console::start_with(&dir, "s1", "demo", on_late, Duration::from_millis(1))
            .expect("start");
        let question = request("peta-old", 45_000);
        drop(console.ask(&question));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let answered = client::answer(std::slice::from_ref(&dir), "peta-old", Answer::Once).await;
        assert!(
            matches!(answered, Err(AnswerError::Unknown { .. })),
            "{answered:?}"
        );
        assert!(late.lock().expect("lock").is_empty());
    });
}

#[test]
fn garbage_oversized_lines_and_stuck_clients_do_not_break_the_session() {
    let runtime = tempfile::tempdir().expect("dir");
    let dir = SocketDir::under(runtime.path());
    run(async {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let console = Arc::new(Console::start_in(&dir, "s1", "demo", ignore()).expect("start"));
        let approver = Approver::new(vec![console.clone()]);
        let question = request("peta-g", 45_000);
        let socket = console.socket().to_owned();

        let abuse = async {
            // A watcher that never reads, while the lists change hundreds of times with big
            // listings: the session never waits for it.
            let mut stuck = tokio::net::UnixStream::connect(&socket)
                .await
                .expect("connect");
            stuck
                .write_all(b"{\"op\":\"watch\"}\n")
                .await
                .expect("watch");
            let big = Request {
                arguments: "x".repeat(8_000),
                ..request("peta-big", 45_000)
            };
            for _ in 0..300 {
                drop(console.ask(&big));
                tokio::task::yield_now().await;
            }

            let stream = tokio::net::UnixStream::connect(&socket)
                .await
                .expect("connect");
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            for (sent, expected) in [
                (&b"not json\n"[..], "not a console request"),
                (b"{\"op\":\"list\",\"op\":\"watch\"}\n", "duplicate"),
                (b"{\"op\":\"delete\"}\n", "not a console request"),
                (b"[1,2]\n", "not a console request"),
                (b"\xff\xfe\n", "not a console request"),
                (
                    b"{\"op\":\"answer\",\"id\":\"peta-g\",\"answer\":\"yes please\"}\n",
                    "bad answer",
                ),
            ] {
                write.write_all(sent).await.expect("send");
                let reply = lines.next_line().await.expect("read").expect("a reply");
                assert!(
                    reply.starts_with("{\"ok\":false,\"error\":") && reply.contains(expected),
                    "{reply}"
                );
            }
            write
                .write_all(b"\n{\"op\":\"list\"}\n")
                .await
                .expect("send");
            let listing = lines.next_line().await.expect("read").expect("listing");
            assert!(
                listing.contains("\"pending\":[{\"id\":\"peta-g\""),
                "{listing}"
            );

            // 70 KiB without a newline: an error reply, then the connection is closed.
            let mut long = tokio::net::UnixStream::connect(&socket)
                .await
                .expect("connect");
            long.write_all(&vec![b'{'; 70 * 1024]).await.expect("send");
            let mut reply = String::new();
            long.read_to_string(&mut reply)
                .await
                .expect("read to the end");
            assert!(reply.contains("longer than 65536 bytes"), "{reply}");

            // The session still takes answers.
            client::answer(std::slice::from_ref(&dir), "peta-g", Answer::Once)
                .await
                .expect("answered")
        };
        let (verdict, (_, applied)) = tokio::join!(approver.decide(&question), abuse);
        assert_eq!(applied, Applied::Now);
        assert_eq!(verdict.answer, Answer::Once);
    });
}

#[test]
fn loose_directories_are_refused_and_nothing_is_bound_there() {
    let runtime = tempfile::tempdir().expect("dir");
    let dir = SocketDir::under(runtime.path());
    std::fs::create_dir(dir.path()).expect("mkdir");
    run(async {
        for loose in [0o777, 0o750] {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(loose))
                .expect("chmod");
            let err = Console::start_in(&dir, "s1", "demo", ignore()).expect_err("refused");
            assert!(matches!(err, ConsoleError::Loose { mode, .. } if mode == loose));
            let rendered = err.to_string();
            assert!(
                rendered.contains(&dir.path().display().to_string()),
                "names the path: {rendered}"
            );
            assert!(
                client::sessions(std::slice::from_ref(&dir)).await.is_err(),
                "the client refuses it too"
            );
            assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        let console = Console::start_in(&dir, "s1", "demo", ignore()).expect("private now");
        assert_eq!(mode(console.socket()), 0o600);
    });
}

#[test]
fn a_directory_of_another_user_is_refused() {
    if super::dir::euid() != 0 {
        eprintln!("skipping: only root can give a directory to another user");
        return;
    }
    let runtime = tempfile::tempdir().expect("dir");
    let dir = SocketDir::under(runtime.path());
    std::fs::create_dir(dir.path()).expect("mkdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::os::unix::fs::chown(dir.path(), Some(65534), None).expect("chown");
    run(async {
        let err = Console::start_in(&dir, "s1", "demo", ignore()).expect_err("refused");
        assert!(
            matches!(err, ConsoleError::Owner { uid: 65534, .. }),
            "{err}"
        );
        assert!(err.hint().is_some_and(|h| h.contains("XDG_RUNTIME_DIR")));
    });
}

#[test]
fn stale_sockets_are_cleaned_up() {
    let runtime = tempfile::tempdir().expect("dir");
    let dir = SocketDir::under(runtime.path());
    dir.prepare().expect("dir");
    let stale = dir.path().join("gone.sock");
    // Bound and never served: what a killed session leaves.
    drop(std::os::unix::net::UnixListener::bind(&stale).expect("bind"));
    std::fs::write(dir.path().join("notes.txt"), "not a socket").expect("write");
    run(async {
        let live = Console::start_in(&dir, "live", "demo", ignore()).expect("start");
        let sessions = client::sessions(std::slice::from_ref(&dir))
            .await
            .expect("sessions");
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].socket, live.socket());
        assert!(!stale.exists(), "the stale socket was removed");
        assert!(
            dir.path().join("notes.txt").exists(),
            "other files are left alone"
        );
    });
}

/// The kernel keeps credentials per thread; the raw syscalls (unlike libc's wrappers) change
/// only the calling thread's, so one thread can connect as another user while keeping root's
/// file access (fsuid 0) to reach the socket.
#[cfg(target_os = "linux")]
#[test]
fn another_users_connection_is_closed_unanswered() {
    if super::dir::euid() != 0 {
        eprintln!("skipping: only root can connect as another user");
        return;
    }
    let runtime = tempfile::tempdir().expect("dir");
    let dir = SocketDir::under(runtime.path());
    run(async {
        let console = Console::start_in(&dir, "s1", "demo", ignore()).expect("start");
        let question = request("peta-x", 45_000);
        let _asking = console.ask(&question);
        let socket = console.socket().to_owned();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            // SAFETY: plain syscalls on this thread's credentials; the thread ends after.
            let switched = unsafe {
                libc::syscall(libc::SYS_setresuid, u32::MAX, 65534u32, u32::MAX) == 0
                    && libc::syscall(libc::SYS_setfsuid, 0u32) >= 0
            };
            let as_other = switched && unsafe { libc::syscall(libc::SYS_geteuid) } == 65534;
            let read = as_other.then(|| {
                let mut stream = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .expect("timeout");
                let _ = stream.write_all(b"{\"op\":\"list\"}\n");
                let mut got = Vec::new();
                let _ = stream.read_to_end(&mut got);
                got
            });
            let _ = tx.send(read);
        });
        match rx.await.expect("the thread reports") {
            None => eprintln!("skipping: this system does not let a thread switch its uid"),
            Some(got) => assert!(
                got.is_empty(),
                "another user was answered: {}",
                String::from_utf8_lossy(&got)
            ),
        }
        // We still are.
        let sessions = client::sessions(std::slice::from_ref(&dir))
            .await
            .expect("sessions");
        assert_eq!(sessions[0].listing.pending.len(), 1);
    });
}
