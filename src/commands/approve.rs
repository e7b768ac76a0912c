//! `peta approve`: answer the questions of every running `peta run` session from any
//! terminal, through each session's console socket (see `approval::console`).
//!
//! Interactive forms ask on the terminal (`/dev/tty`), one question at a time, Deny first;
//! `--list` and `ID --answer` are for scripts and for people without a terminal.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use console::Term;
use tokio::sync::mpsc;

use crate::approval::console::SocketDir;
use crate::approval::console::client::{self, AnswerError, Session, Watch};
use crate::approval::console::protocol::{self, Applied, Listing};
use crate::approval::{Answer, Request, render};
use crate::cli::ApproveArgs;
use crate::error::Error;
use crate::exit_code;

/// How often `--watch` looks for sessions that started since.
const RESCAN: Duration = Duration::from_secs(1);
/// Longest "allow for N minutes" offered at the prompt (a day).
const MAX_MINUTES: u32 = 24 * 60;

pub(crate) fn run(args: ApproveArgs) -> Result<u8, Error> {
    // Every place a session could be: its client may have started it without the
    // variables this shell has.
    let dirs = SocketDir::search();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    if args.list {
        return runtime.block_on(list(&dirs, args.json));
    }
    if let (Some(id), Some(answer)) = (&args.id, &args.answer) {
        let answer = protocol::parse_answer(answer).map_err(Error::Usage)?;
        return runtime.block_on(answer_one(&dirs, id, answer));
    }
    let term = crate::tty::open().ok_or(Error::NoTerminal)?;
    let asked = if args.watch {
        runtime.block_on(watch(&dirs, &term))
    } else {
        ask_all(&runtime, &dirs, &term)
    };
    match asked {
        Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::Interrupted => {
            let _ = term.show_cursor();
            let _ = term.write_line("stopped");
            Ok(exit_code::OK)
        }
        other => other,
    }
}

/// One question as `peta approve` shows it.
#[derive(Debug, Clone)]
struct Item {
    socket: PathBuf,
    label: String,
    pid: u32,
    request: Request,
    when: When,
}

#[derive(Debug, Clone, Copy)]
enum When {
    /// Waiting until this Unix millisecond.
    Waiting { deadline_ms: u64 },
    /// Stopped waiting; an allow applies to the retry until this Unix millisecond.
    Stopped { withdrawn_ms: u64, until_ms: u64 },
}

/// A session's questions: the waiting ones, then those that stopped waiting.
fn items(socket: &std::path::Path, listing: &Listing) -> Vec<Item> {
    let item = |request: &protocol::WireRequest, when| Item {
        socket: socket.to_owned(),
        label: crate::display::visible(&listing.label),
        pid: listing.pid,
        request: request.to_request(),
        when,
    };
    let waiting = listing.pending.iter().map(|p| {
        item(
            &p.request,
            When::Waiting {
                deadline_ms: p.deadline_ms,
            },
        )
    });
    let stopped = listing.recent.iter().map(|r| {
        item(
            &r.request,
            When::Stopped {
                withdrawn_ms: r.withdrawn_ms,
                until_ms: r.until_ms,
            },
        )
    });
    waiting.chain(stopped).collect()
}

fn all_items(sessions: &[Session]) -> Vec<Item> {
    let mut all: Vec<Item> = sessions
        .iter()
        .flat_map(|s| items(&s.socket, &s.listing))
        .collect();
    all.sort_by_key(|item| match item.when {
        When::Waiting { deadline_ms } => (0, deadline_ms),
        When::Stopped { withdrawn_ms, .. } => (1, withdrawn_ms),
    });
    all
}

fn now_ms() -> u64 {
    protocol::unix_ms(SystemTime::now())
}

/// "38 s", "4 min".
fn span(ms: u64) -> String {
    let seconds = ms.div_ceil(1000);
    if seconds < 120 {
        format!("{seconds} s")
    } else {
        format!("{} min", seconds / 60)
    }
}

/// The line above a question: where it comes from and how long it has.
fn header(item: &Item) -> String {
    let now = now_ms();
    let whence = format!("[{}] {} (pid {})", item.request.id, item.label, item.pid);
    match item.when {
        When::Waiting { deadline_ms } => {
            format!("{whence}: {} left", span(deadline_ms.saturating_sub(now)))
        }
        When::Stopped {
            withdrawn_ms,
            until_ms,
        } => format!(
            "{whence}: stopped waiting {} ago (timed out, or answered elsewhere); allowing it lets the model's identical retry through ({} left to answer)",
            span(now.saturating_sub(withdrawn_ms)),
            span(until_ms.saturating_sub(now)),
        ),
    }
}

/// What an answer did, in words.
fn outcome(id: &str, answer: Answer, applied: Applied) -> String {
    match applied {
        Applied::Now => format!("{id}: {}", answer.label()),
        Applied::Retry => format!(
            "{id}: {} — it had stopped waiting, so this applies when the model retries the identical call",
            answer.label()
        ),
        Applied::None => {
            format!("{id}: it had stopped waiting and was denied already; nothing changes")
        }
    }
}

const HOW_TO_ANSWER: &str =
    "answer with: peta approve ID --answer deny|once|session|for:10m|always";

async fn list(dirs: &[SocketDir], json: bool) -> Result<u8, Error> {
    let sessions = client::sessions(dirs).await?;
    if json {
        let listings: Vec<&Listing> = sessions.iter().map(|s| &s.listing).collect();
        let document = serde_json::json!({ "sessions": listings });
        println!("{document}");
        return Ok(exit_code::OK);
    }
    if sessions.is_empty() {
        println!("no peta sessions are running");
        return Ok(exit_code::OK);
    }
    let items = all_items(&sessions);
    let waiting = items
        .iter()
        .filter(|i| matches!(i.when, When::Waiting { .. }))
        .count();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    println!(
        "{} waiting, {} answerable for a retry, in {}",
        plural(waiting, "request", "requests"),
        items.len() - waiting,
        plural(sessions.len(), "running session", "running sessions"),
    );
    for item in &items {
        println!("\n{}", header(item));
        print!("{}", render::question(&item.request));
    }
    if !items.is_empty() {
        println!("\n{HOW_TO_ANSWER}");
    }
    Ok(exit_code::OK)
}

async fn answer_one(dirs: &[SocketDir], id: &str, answer: Answer) -> Result<u8, Error> {
    let (session, applied) = client::answer(dirs, id, answer).await?;
    println!(
        "{} ({}, pid {})",
        outcome(id, answer, applied),
        crate::display::visible(&session.listing.label),
        session.listing.pid
    );
    Ok(exit_code::OK)
}

/// Asks once about everything there is now.
fn ask_all(
    runtime: &tokio::runtime::Runtime,
    dirs: &[SocketDir],
    term: &Term,
) -> Result<u8, Error> {
    let sessions = runtime.block_on(client::sessions(dirs))?;
    let write = |line: &str| {
        term.write_line(line)
            .map_err(|e| Error::io("cannot write to the terminal", e))
    };
    if sessions.is_empty() {
        write("no peta sessions are running")?;
        return Ok(exit_code::OK);
    }
    let items = all_items(&sessions);
    if items.is_empty() {
        write(&format!(
            "no requests are waiting ({} running)",
            if sessions.len() == 1 {
                "1 session".to_owned()
            } else {
                format!("{} sessions", sessions.len())
            }
        ))?;
        return Ok(exit_code::OK);
    }
    for item in &items {
        let answer = ask(term, item).map_err(|e| Error::io("cannot ask on the terminal", e))?;
        let report = match answer {
            None => format!("{}: skipped", item.request.id),
            Some(answer) => runtime.block_on(send(item, answer)),
        };
        write(&report)?;
    }
    Ok(exit_code::OK)
}

/// Sends the answer to the item's session and says what came of it.
async fn send(item: &Item, answer: Answer) -> String {
    let id = &item.request.id;
    match client::answer_at(&item.socket, id, answer).await {
        Ok(applied) => outcome(id, answer, applied),
        Err(AnswerError::Io { .. }) => format!("{id}: not applied: the session has ended"),
        Err(e) => format!("{id}: not applied: {e}"),
    }
}

/// Shows one question and asks for the answer; `None` when the person skipped it (Esc).
fn ask(term: &Term, item: &Item) -> io::Result<Option<Answer>> {
    let dialog = |e: dialoguer::Error| match e {
        dialoguer::Error::IO(e) => e,
    };
    term.write_line("")?;
    term.write_line(&header(item))?;
    term.write_str(&render::question(&item.request))?;
    let prompt = match item.when {
        When::Waiting { .. } => "Answer",
        When::Stopped { .. } => "Answer (for the retry)",
    };
    let choices = [
        "Deny",
        "Allow once",
        "Allow for this session",
        "Allow for N minutes…",
        "Always allow",
    ];
    crate::tty::flush_input(term);
    let Some(choice) = dialoguer::Select::new()
        .with_prompt(prompt)
        .items(choices)
        .default(0)
        .interact_on_opt(term)
        .map_err(dialog)?
    else {
        return Ok(None);
    };
    Ok(Some(match choice {
        0 => Answer::Deny,
        1 => Answer::Once,
        2 => Answer::Session,
        3 => {
            let minutes: u32 = dialoguer::Input::new()
                .with_prompt("Minutes")
                .default(10)
                .validate_with(|n: &u32| {
                    if (1..=MAX_MINUTES).contains(n) {
                        Ok(())
                    } else {
                        Err(format!("between 1 and {MAX_MINUTES}"))
                    }
                })
                .interact_text_on(term)
                .map_err(dialog)?;
            Answer::For(Duration::from_secs(u64::from(minutes) * 60))
        }
        _ => Answer::Always,
    }))
}

/// What the followers of the sessions report.
enum Event {
    Listing(PathBuf, Listing),
    Ended(PathBuf),
}

/// Follows every session, those that start later included, and asks about each question
/// once, in the order they expire. Ends on Ctrl-C.
async fn watch(dirs: &[SocketDir], term: &Term) -> Result<u8, Error> {
    let (events, mut incoming) = mpsc::channel::<Event>(64);
    let mut followed: HashSet<PathBuf> = HashSet::new();
    let mut listings: BTreeMap<PathBuf, Listing> = BTreeMap::new();
    let mut asked: HashSet<String> = HashSet::new();
    let mut prompt: Option<tokio::task::JoinHandle<(Item, io::Result<Option<Answer>>)>> = None;
    let mut rescan = tokio::time::interval(RESCAN);
    let write = |line: &str| {
        term.write_line(line)
            .map_err(|e| Error::io("cannot write to the terminal", e))
    };
    write("watching every peta session for requests; Ctrl-C to stop")?;
    loop {
        if prompt.is_none() {
            let sessions: Vec<Session> = listings
                .iter()
                .map(|(socket, listing)| Session {
                    socket: socket.clone(),
                    listing: listing.clone(),
                })
                .collect();
            let next = all_items(&sessions)
                .into_iter()
                .find(|item| !asked.contains(&item.request.id));
            if let Some(item) = next {
                asked.insert(item.request.id.clone());
                let term = term.clone();
                prompt = Some(tokio::task::spawn_blocking(move || {
                    let answer = ask(&term, &item);
                    (item, answer)
                }));
            }
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                return Err(Error::io("interrupted", io::ErrorKind::Interrupted.into()));
            }
            _ = rescan.tick() => {
                for socket in client::sockets(dirs)? {
                    if followed.insert(socket.clone()) {
                        tokio::spawn(follow(socket, events.clone()));
                    }
                }
            }
            Some(event) = incoming.recv() => match event {
                Event::Listing(socket, listing) => {
                    listings.insert(socket, listing);
                }
                Event::Ended(socket) => {
                    listings.remove(&socket);
                }
            },
            done = async { prompt.as_mut().expect("guarded by the branch condition").await }, if prompt.is_some() => {
                prompt = None;
                let (item, answer) = done.map_err(|e| Error::io("the prompt failed", io::Error::other(e)))?;
                let report = match answer.map_err(|e| Error::io("cannot ask on the terminal", e))? {
                    None => format!("{}: skipped", item.request.id),
                    Some(answer) => send(&item, answer).await,
                };
                write(&report)?;
            }
        }
    }
}

/// Forwards one session's listings until it ends. A session that cannot be followed is not
/// tried again (it stays in the followed set); one that ended has removed its socket.
async fn follow(socket: PathBuf, events: mpsc::Sender<Event>) {
    let watch = match Watch::open(&socket).await {
        Ok(Some(watch)) => Some(watch),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!("cannot follow the session at {}: {e}", socket.display());
            None
        }
    };
    if let Some(mut watch) = watch {
        loop {
            match watch.next().await {
                Ok(Some(listing)) => {
                    if events
                        .send(Event::Listing(socket.clone(), listing))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("lost the session at {}: {e}", socket.display());
                    break;
                }
            }
        }
    }
    let _ = events.send(Event::Ended(socket)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::console::KEEP_RECENT;

    #[test]
    fn spans_and_outcomes_read_well() {
        assert_eq!(span(38_200), "39 s");
        assert_eq!(span(119_000), "119 s");
        assert_eq!(span(KEEP_RECENT.as_millis() as u64), "10 min");
        assert_eq!(
            outcome("peta-1", Answer::Once, Applied::Retry),
            "peta-1: allow once — it had stopped waiting, so this applies when the model retries the identical call"
        );
    }
}
