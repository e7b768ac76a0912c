//! Entry points for the fuzz targets under `fuzz/`; not a stable API.
//!
//! They drive the wire layer the way the relay does (a [`LineReader`] over a reader that
//! hands out bytes in whatever pieces the pipe gives, [`envelope::parse`] on each line) and
//! return plain values the targets can compare.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::FutureExt;
use tokio::io::{AsyncRead, BufReader, ReadBuf};

use crate::wire::envelope::{self, Kind};
use crate::wire::framing::{Frame, LineReader};

/// One frame, as [`frames`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed {
    /// A complete line, terminator included.
    Line(Vec<u8>),
    /// A line over the cap, discarded: its length with the terminator.
    TooLong(usize),
    /// Bytes after the last newline at the end of the input.
    Unterminated(usize),
}

/// Frames `input` with a line cap of `cap`, the reader returning it in pieces of the sizes
/// in `pieces` (cycled; a zero is read as one byte) through a read buffer of `buffer` bytes.
pub fn frames(input: &[u8], cap: usize, pieces: &[usize], buffer: usize) -> Vec<Framed> {
    let reader = Pieces {
        data: input,
        pieces,
        next: 0,
    };
    let mut lines = LineReader::new(BufReader::with_capacity(buffer.max(1), reader), cap);
    let mut out = Vec::new();
    loop {
        // The reader never waits, so every call completes at once.
        let next = lines
            .next()
            .now_or_never()
            .expect("an in-memory reader never waits")
            .expect("an in-memory reader never fails");
        match next {
            None => return out,
            Some(Frame::Line(line)) => out.push(Framed::Line(line)),
            Some(Frame::TooLong { len }) => out.push(Framed::TooLong(len)),
            Some(Frame::Unterminated { len }) => out.push(Framed::Unterminated(len)),
        }
    }
}

/// An in-memory reader that returns its data in pieces of given sizes.
struct Pieces<'a> {
    data: &'a [u8],
    pieces: &'a [usize],
    next: usize,
}

impl AsyncRead for Pieces<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let want = match self.pieces {
            [] => usize::MAX,
            pieces => pieces[self.next % pieces.len()].max(1),
        };
        self.next = self.next.wrapping_add(1);
        let n = want.min(buf.remaining()).min(self.data.len());
        let (now, rest) = self.data.split_at(n);
        buf.put_slice(now);
        self.data = rest;
        Poll::Ready(Ok(()))
    }
}

/// What [`envelope::parse`] made of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Request {
        id: String,
        method: String,
        /// For `tools/call`: the tool name and the arguments' text.
        tool: Option<(String, Option<String>)>,
    },
    Notification {
        method: String,
    },
    Response {
        id: Option<String>,
        failed: bool,
    },
    /// Refused: the reason, the id a reply would go to, and whether a reply is due.
    Refused {
        why: String,
        raw_id: Option<String>,
        answer: bool,
    },
}

/// Parses one line as the relay does.
pub fn parse(line: &[u8]) -> Parsed {
    let msg = match envelope::parse(line) {
        Ok(msg) => msg,
        Err(rejected) => {
            return Parsed::Refused {
                why: rejected.why.to_string(),
                raw_id: rejected.raw_id.map(|r| r.get().to_owned()),
                answer: rejected.answer,
            };
        }
    };
    match msg.kind {
        Kind::Request { id, method } => Parsed::Request {
            id: id.to_string(),
            method: method.into_owned(),
            tool: msg
                .tool
                .map(|t| (t.name.into_owned(), t.arguments.map(|a| a.get().to_owned()))),
        },
        Kind::Notification { method } => Parsed::Notification {
            method: method.into_owned(),
        },
        Kind::Response { id, failed } => Parsed::Response {
            id: id.map(|id| id.to_string()),
            failed,
        },
    }
}

/// The id of an accepted request exactly as sent (what a reply echoes), if `line` is one.
pub fn raw_request_id(line: &[u8]) -> Option<String> {
    let msg = envelope::parse(line).ok()?;
    matches!(msg.kind, Kind::Request { .. })
        .then(|| msg.raw_id.map(|r| r.get().to_owned()))
        .flatten()
}

/// The error reply peta sends for a request with `raw_id` (`None`: `null`).
pub fn error_reply(raw_id: Option<&str>, message: &str) -> Vec<u8> {
    envelope::error_reply(raw_id, envelope::INVALID_REQUEST, message)
}

/// The denial result peta sends for a `tools/call` with `raw_id`.
pub fn tool_error_reply(raw_id: &str, text: &str, modern: bool) -> Vec<u8> {
    envelope::tool_error_reply(raw_id, text, modern)
}
