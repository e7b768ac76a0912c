//! peta's own stdin and stdout as non-blocking async streams.
//!
//! tokio's `stdin()`/`stdout()` hand every read and write to a blocking thread, which adds
//! two thread hand-offs to each message. When the streams are pipes or sockets (as MCP
//! clients start servers) they are registered with the event loop directly instead.

use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

pub(crate) type Reader = Pin<Box<dyn AsyncRead + Send>>;
pub(crate) type Writer = Pin<Box<dyn AsyncWrite + Send>>;

#[cfg(unix)]
pub(crate) fn stdin() -> Reader {
    unix::reader(0).unwrap_or_else(|| Box::pin(tokio::io::stdin()))
}

#[cfg(unix)]
pub(crate) fn stdout() -> Writer {
    unix::writer(1).unwrap_or_else(|| Box::pin(tokio::io::stdout()))
}

#[cfg(not(unix))]
pub(crate) fn stdin() -> Reader {
    Box::pin(tokio::io::stdin())
}

#[cfg(not(unix))]
pub(crate) fn stdout() -> Writer {
    Box::pin(tokio::io::stdout())
}

#[cfg(unix)]
mod unix {
    use std::os::fd::{BorrowedFd, OwnedFd, RawFd};

    use super::{Reader, Writer};

    enum Kind {
        Pipe,
        Socket,
    }

    fn kind(fd: RawFd) -> Option<(Kind, libc::stat)> {
        // SAFETY: fstat fills a plain struct for a descriptor number.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return None;
        }
        match st.st_mode & libc::S_IFMT {
            libc::S_IFIFO => Some((Kind::Pipe, st)),
            libc::S_IFSOCK => Some((Kind::Socket, st)),
            _ => None,
        }
    }

    fn duplicate(fd: RawFd) -> Option<OwnedFd> {
        // SAFETY: fd 0/1 stay open for the life of the process.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        borrowed.try_clone_to_owned().ok()
    }

    pub(super) fn reader(fd: RawFd) -> Option<Reader> {
        let (kind, _) = kind(fd)?;
        let owned = duplicate(fd)?;
        match kind {
            Kind::Pipe => tokio::net::unix::pipe::Receiver::from_owned_fd(owned)
                .ok()
                .map(|r| Box::pin(r) as Reader),
            Kind::Socket => socket(owned).map(|s| Box::pin(s) as Reader),
        }
    }

    pub(super) fn writer(fd: RawFd) -> Option<Writer> {
        let (kind, st) = kind(fd)?;
        // Non-blocking mode belongs to the open file, not the descriptor: if stderr is the
        // same pipe, making stdout non-blocking would make log writes fail with EAGAIN.
        if let Some((_, err)) = kind_of_stderr()
            && err.st_dev == st.st_dev
            && err.st_ino == st.st_ino
        {
            return None;
        }
        let owned = duplicate(fd)?;
        match kind {
            Kind::Pipe => tokio::net::unix::pipe::Sender::from_owned_fd(owned)
                .ok()
                .map(|w| Box::pin(w) as Writer),
            Kind::Socket => socket(owned).map(|s| Box::pin(s) as Writer),
        }
    }

    fn kind_of_stderr() -> Option<(Kind, libc::stat)> {
        kind(2)
    }

    fn socket(owned: OwnedFd) -> Option<tokio::net::UnixStream> {
        let std = std::os::unix::net::UnixStream::from(owned);
        std.set_nonblocking(true).ok()?;
        tokio::net::UnixStream::from_std(std).ok()
    }
}
