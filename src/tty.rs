//! The person's terminal, opened directly (`/dev/tty`) so prompts work with stdin and
//! stdout piped and never mix with the protocol stream.

use console::Term;
use zeroize::Zeroizing;

/// The controlling terminal, or `None` when there is none (started by a GUI client, in CI).
#[cfg(unix)]
pub(crate) fn open() -> Option<Term> {
    let read = std::fs::File::open("/dev/tty").ok()?;
    let write = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/tty")
        .ok()?;
    Some(Term::read_write_pair(read, write))
}

#[cfg(not(unix))]
pub(crate) fn open() -> Option<Term> {
    let term = Term::stderr();
    term.is_term().then_some(term)
}

/// Reads a secret without echo; `confirm` asks for it twice.
pub(crate) fn read_secret(
    term: &Term,
    prompt: &str,
    confirm: bool,
) -> std::io::Result<Zeroizing<String>> {
    let mut password = dialoguer::Password::new().with_prompt(prompt);
    if confirm {
        password = password.with_confirmation("Repeat it", "The two entries differ; try again");
    }
    password
        .interact_on(term)
        .map(Zeroizing::new)
        .map_err(|dialoguer::Error::IO(e)| e)
}

/// Drops what was typed ahead, so keys pressed before a question was shown cannot answer it.
#[cfg(unix)]
pub(crate) fn flush_input(term: &Term) {
    use std::os::fd::AsRawFd;
    // SAFETY: tcflush only reads the descriptor, which the Term keeps open; a failure (not a
    // terminal) means there was nothing to flush.
    unsafe {
        libc::tcflush(term.as_raw_fd(), libc::TCIFLUSH);
    }
}

#[cfg(not(unix))]
pub(crate) fn flush_input(_: &Term) {}
