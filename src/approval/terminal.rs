//! The terminal channel: the question on `/dev/tty`, answered with one key.
//!
//! Only a terminal that is peta's to use: peta's process group must be the terminal's
//! foreground group (a job in the background, or a server a client started in a group of
//! its own, would be stopped by the first read or settings change, and the keys are not its
//! to read), and the terminal must not be in raw mode, which means a full-screen program (a
//! terminal client such as Claude Code) reads it key by key and draws on it: a prompt would
//! land in the middle of its screen and its person's keys would answer peta. Checked before
//! every question, and again just before the prompt is drawn.
//!
//! The terminal is put in a raw-ish mode while asking (no echo, no line editing, no signal
//! keys), so Ctrl-C and Ctrl-D arrive as keys and mean deny, and keys typed before the
//! question appeared are discarded. One question at a time per terminal; the others wait
//! their turn (still inside their own timeouts). Windows has no `/dev/tty`: the channel is
//! unavailable there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{Answer, Asking, Channel, Request, render};

/// How long "allow for N minutes" lasts from the terminal.
pub(crate) const FOR_MINUTES: u64 = 10;

pub(crate) struct Terminal {
    /// One question at a time on this terminal.
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Held by the prompting thread while it owns the terminal's settings: a withdrawn
    /// question's thread may still be restoring them when the next question starts.
    settings: Arc<std::sync::Mutex<()>>,
    /// Set while peta's own prompt has the terminal in raw mode: that raw mode is not a
    /// full-screen program's.
    prompting: Arc<AtomicBool>,
    present: bool,
}

impl Terminal {
    /// The controlling terminal, if peta has one.
    pub(crate) fn open() -> Terminal {
        Terminal {
            turn: Arc::default(),
            settings: Arc::default(),
            prompting: Arc::default(),
            present: cfg!(unix) && std::fs::File::open("/dev/tty").is_ok(),
        }
    }
}

/// Whether the controlling terminal is peta's to ask on now (see the module docs).
#[cfg(unix)]
fn ours(prompting: &AtomicBool) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(tty) = std::fs::File::open("/dev/tty") else {
        return false;
    };
    ours_at(tty.as_raw_fd(), prompting)
}

#[cfg(unix)]
fn ours_at(fd: i32, prompting: &AtomicBool) -> bool {
    // SAFETY: tcgetpgrp and getpgrp take no pointers; fd is an open terminal.
    let foreground = unsafe { libc::tcgetpgrp(fd) == libc::getpgrp() };
    if !foreground {
        return false;
    }
    // SAFETY: termios is plain data; tcgetattr fills it for an open terminal fd.
    let mut settings: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::tcgetattr(fd, &mut settings) } != 0 {
        return false;
    }
    settings.c_lflag & libc::ICANON != 0 || prompting.load(Ordering::SeqCst)
}

#[cfg(not(unix))]
fn ours(_prompting: &AtomicBool) -> bool {
    false
}

impl Channel for Terminal {
    fn name(&self) -> &'static str {
        "tty"
    }

    fn available(&self) -> bool {
        self.present && ours(&self.prompting)
    }

    fn on_the_screen(&self) -> bool {
        true
    }

    fn ask<'a>(&'a self, request: &'a Request) -> Asking<'a> {
        Box::pin(async move {
            let _turn = self.turn.lock().await;
            let withdrawn = Arc::new(AtomicBool::new(false));
            // Tells the prompting thread to stop when this future is dropped.
            struct Withdraw(Arc<AtomicBool>);
            impl Drop for Withdraw {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::SeqCst);
                }
            }
            let _withdraw = Withdraw(withdrawn.clone());
            let text = render::question(request);
            let timeout = request.timeout;
            let (tx, rx) = tokio::sync::oneshot::channel();
            let settings = self.settings.clone();
            let prompting = self.prompting.clone();
            std::thread::Builder::new()
                .name("peta-tty".into())
                .spawn(move || {
                    let _owner = settings.lock().unwrap_or_else(|e| e.into_inner());
                    let _ = tx.send(prompt(&text, timeout, &withdrawn, &prompting));
                })
                .ok()?;
            rx.await.ok().flatten()
        })
    }
}

/// The keys and what they mean.
fn answer_for(key: u8) -> Option<Option<Answer>> {
    Some(match key {
        b'd' | b'D' | b'n' | b'N' | b'\r' | b'\n' | 0x03 | 0x04 | 0x1b => Some(Answer::Deny),
        b'o' | b'O' | b'y' | b'Y' => Some(Answer::Once),
        b's' | b'S' => Some(Answer::Session),
        b'm' | b'M' => Some(Answer::For(Duration::from_secs(FOR_MINUTES * 60))),
        b'a' | b'A' => Some(Answer::Always),
        _ => return None,
    })
}

#[cfg(unix)]
fn prompt(
    text: &str,
    timeout: Duration,
    withdrawn: &AtomicBool,
    prompting: &AtomicBool,
) -> Option<Answer> {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;

    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let fd = tty.as_raw_fd();
    // The terminal may have changed hands since the question was raced.
    if !ours_at(fd, prompting) {
        return None;
    }
    let _raw = RawMode::enter(fd, prompting)?;
    // SAFETY: fd is an open terminal; TCIFLUSH discards input typed before the question.
    unsafe { libc::tcflush(fd, libc::TCIFLUSH) };
    // Output processing is left on, so "\n" still moves to the start of the next line.
    let menu = format!(
        "{text}  [d] deny (default)  [o] allow once  [s] this session  [m] {FOR_MINUTES} minutes  [a] always\n  answer within {} s: ",
        timeout.as_secs()
    );
    tty.write_all(menu.as_bytes()).ok()?;
    tty.flush().ok()?;
    let answer = loop {
        if withdrawn.load(Ordering::SeqCst) {
            let _ = tty.write_all(b"answered elsewhere or timed out\n");
            return None;
        }
        let mut poll = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, 100) };
        if ready < 0 {
            break None;
        }
        if ready == 0 {
            continue;
        }
        if poll.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
            // The terminal closed: nobody can answer here.
            break Some(Answer::Deny);
        }
        let mut key = [0u8; 1];
        match tty.read(&mut key) {
            Ok(0) | Err(_) => break Some(Answer::Deny),
            Ok(_) => {
                if let Some(answer) = answer_for(key[0]) {
                    break answer;
                }
            }
        }
    };
    if let Some(answer) = answer {
        let _ = tty.write_all(format!("{}\n", answer.label()).as_bytes());
    }
    answer
}

#[cfg(not(unix))]
fn prompt(
    _text: &str,
    _timeout: Duration,
    _withdrawn: &AtomicBool,
    _prompting: &AtomicBool,
) -> Option<Answer> {
    None
}

/// The terminal's settings while a question is open; restored on drop.
#[cfg(unix)]
struct RawMode<'a> {
    fd: i32,
    saved: libc::termios,
    prompting: &'a AtomicBool,
}

#[cfg(unix)]
impl RawMode<'_> {
    fn enter(fd: i32, prompting: &AtomicBool) -> Option<RawMode<'_>> {
        // SAFETY: termios is plain data; tcgetattr fills it for an open terminal fd.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return None;
        }
        let mut raw = saved;
        raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG | libc::IEXTEN);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        prompting.store(true, Ordering::SeqCst);
        // SAFETY: applying settings derived from the terminal's own.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } != 0 {
            prompting.store(false, Ordering::SeqCst);
            return None;
        }
        Some(RawMode {
            fd,
            saved,
            prompting,
        })
    }
}

#[cfg(unix)]
impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        // SAFETY: restoring the settings read in `enter` on the same fd.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
        self.prompting.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(answer_for(b'\r'), Some(Some(Answer::Deny)), "Enter is deny");
        assert_eq!(answer_for(0x03), Some(Some(Answer::Deny)), "Ctrl-C is deny");
        assert_eq!(answer_for(b'o'), Some(Some(Answer::Once)));
        assert_eq!(answer_for(b'a'), Some(Some(Answer::Always)));
        assert_eq!(answer_for(b'x'), None, "other keys are ignored");
    }
}
