//! Newline framing: turns a byte stream into lines with a size cap.
//!
//! MCP's stdio transport delimits messages with `\n` and forbids embedded newlines
//! (spec 2025-11-25 `basic/transports` §stdio). A line is handed on with its terminator
//! exactly as read, so an allowed message can be forwarded byte for byte. The result
//! does not depend on how the bytes were chunked by the pipe.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// One unit read from a stream.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A complete line, terminator included (`\n`, or `\r\n` as sent).
    Line(Vec<u8>),
    /// A line longer than the cap. Its bytes were discarded up to and including its newline,
    /// so the stream is back in step and nothing partial is passed on.
    TooLong { len: usize },
    /// Bytes after the last newline when the stream ended. Never a message: a line is complete
    /// only once its newline has arrived.
    Unterminated { len: usize },
}

/// Reads [`Frame`]s from a buffered reader. `cap` bounds the bytes held for one line, so a peer
/// that never sends a newline costs at most `cap` bytes of memory.
pub(crate) struct LineReader<R> {
    inner: R,
    cap: usize,
    line: Vec<u8>,
    /// Bytes of the current line seen so far while discarding an oversized one. Kept here,
    /// not in `next`, so `next` can be cancelled (by a `select!`) and resumed without loss.
    discarded: Option<usize>,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    pub(crate) fn new(inner: R, cap: usize) -> Self {
        Self {
            inner,
            cap,
            line: Vec::new(),
            discarded: None,
        }
    }

    /// The next frame, or `None` at a clean end of stream. Cancel-safe: every byte taken from
    /// the reader is accounted for in `self` before the next await.
    pub(crate) async fn next(&mut self) -> io::Result<Option<Frame>> {
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                return Ok(if let Some(len) = self.discarded.take() {
                    Some(Frame::TooLong { len })
                } else if self.line.is_empty() {
                    None
                } else {
                    let len = self.line.len();
                    self.line.clear();
                    Some(Frame::Unterminated { len })
                });
            }
            let (chunk, complete) = match memchr::memchr(b'\n', available) {
                Some(at) => (&available[..=at], true),
                None => (available, false),
            };
            let taken = chunk.len();
            match self.discarded.as_mut() {
                Some(len) => *len += taken,
                None => {
                    // The cap is on the message; the terminator (and a `\r` that may be
                    // its first half) does not count towards it.
                    let content = self.line.len() + taken - usize::from(complete);
                    let content = content - usize::from(ends_with_cr(&self.line, chunk, complete));
                    if content > self.cap {
                        self.discarded = Some(self.line.len() + taken);
                        self.line = Vec::new();
                    } else {
                        self.line.extend_from_slice(chunk);
                    }
                }
            }
            self.inner.consume(taken);
            if complete {
                return Ok(Some(match self.discarded.take() {
                    Some(len) => Frame::TooLong { len },
                    None => Frame::Line(std::mem::take(&mut self.line)),
                }));
            }
        }
    }
}

/// Whether the line so far (`line` then `chunk`, without a `\n` if `complete`) ends in `\r`.
fn ends_with_cr(line: &[u8], chunk: &[u8], complete: bool) -> bool {
    let chunk = if complete {
        &chunk[..chunk.len() - 1]
    } else {
        chunk
    };
    chunk.last().or(line.last()) == Some(&b'\r')
}

/// The message bytes of a line: without its `\n` or `\r\n` terminator.
pub(crate) fn content(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::BufReader;

    async fn frames(input: &[u8], cap: usize, buf: usize) -> Vec<Frame> {
        let mut reader = LineReader::new(BufReader::with_capacity(buf, input), cap);
        let mut out = Vec::new();
        while let Some(frame) = reader.next().await.expect("read") {
            out.push(frame);
        }
        out
    }

    #[tokio::test]
    async fn splits_lines_and_keeps_terminators() {
        let got = frames(b"{\"a\":1}\n{\"b\":2}\r\n\n", 100, 3).await;
        assert_eq!(
            got,
            vec![
                Frame::Line(b"{\"a\":1}\n".to_vec()),
                Frame::Line(b"{\"b\":2}\r\n".to_vec()),
                Frame::Line(b"\n".to_vec()),
            ]
        );
    }

    #[tokio::test]
    async fn cap_counts_content_not_terminator() {
        for buf in [1, 2, 5, 64] {
            let got = frames(b"12345\n12345\r\n123456\nok\n", 5, buf).await;
            assert_eq!(
                got,
                vec![
                    Frame::Line(b"12345\n".to_vec()),
                    Frame::Line(b"12345\r\n".to_vec()),
                    Frame::TooLong { len: 7 },
                    Frame::Line(b"ok\n".to_vec()),
                ],
                "buffer size {buf}"
            );
        }
    }

    #[tokio::test]
    async fn oversized_line_without_newline_is_bounded() {
        let input = vec![b'x'; 10_000];
        let got = frames(&input, 100, 64).await;
        assert_eq!(got, vec![Frame::TooLong { len: 10_000 }]);
    }

    #[tokio::test]
    async fn trailing_bytes_at_eof_are_not_a_message() {
        let got = frames(b"{}\n{\"partial\"", 100, 4).await;
        assert_eq!(
            got,
            vec![
                Frame::Line(b"{}\n".to_vec()),
                Frame::Unterminated { len: 10 }
            ]
        );
    }

    #[test]
    fn content_strips_either_terminator() {
        assert_eq!(content(b"{}\r\n"), b"{}");
        assert_eq!(content(b"{}\n"), b"{}");
        assert_eq!(content(b"{}"), b"{}");
    }
}
