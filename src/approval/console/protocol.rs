//! The console's messages as JSON, shared by the session side and `peta approve`, and the
//! text form of an answer (`deny`, `once`, `session`, `for:10m`, `always`).

use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use super::super::{Answer, Request};
use crate::display::visible;

/// Longest line a client may send to a session, newline included.
pub(crate) const MAX_CLIENT_LINE: usize = 64 * 1024;
/// Longest line a client accepts from a session (a listing of many folded requests).
pub(crate) const MAX_SESSION_LINE: usize = 16 * 1024 * 1024;

/// What a console client asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Op {
    /// The session's listing, once.
    List,
    /// The listing now and again on every change.
    Watch,
    /// Answer a pending (or recently withdrawn) request.
    Answer { id: String, answer: String },
}

/// A session's description of itself and its questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Listing {
    /// The session's id (also the socket's file name).
    pub(crate) session: String,
    /// The server's label.
    pub(crate) label: String,
    /// The `peta run` process.
    pub(crate) pid: u32,
    /// Questions waiting now, oldest first.
    pub(crate) pending: Vec<Pending>,
    /// Questions withdrawn without an answer from the console in the last ten minutes;
    /// an allowing answer applies to the model's identical retry.
    pub(crate) recent: Vec<Recent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pending {
    #[serde(flatten)]
    pub(crate) request: WireRequest,
    /// When the question stops waiting, in Unix milliseconds.
    pub(crate) deadline_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Recent {
    #[serde(flatten)]
    pub(crate) request: WireRequest,
    /// When it was withdrawn, in Unix milliseconds.
    pub(crate) withdrawn_ms: u64,
    /// Until when a late answer is still taken, in Unix milliseconds.
    pub(crate) until_ms: u64,
}

/// A [`Request`] as it travels: the same fields, the timeout in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireRequest {
    pub(crate) id: String,
    pub(crate) server: String,
    pub(crate) method: String,
    pub(crate) tool: String,
    pub(crate) rule: String,
    pub(crate) reason: String,
    pub(crate) message: Option<String>,
    pub(crate) arguments: String,
    pub(crate) annotations: Option<String>,
    pub(crate) pin: String,
    pub(crate) bytes_sha256: String,
    pub(crate) timeout_ms: u64,
}

impl From<&Request> for WireRequest {
    fn from(r: &Request) -> WireRequest {
        WireRequest {
            id: r.id.clone(),
            server: r.server.clone(),
            method: r.method.clone(),
            tool: r.tool.clone(),
            rule: r.rule.clone(),
            reason: r.reason.clone(),
            message: r.message.clone(),
            arguments: r.arguments.clone(),
            annotations: r.annotations.clone(),
            pin: r.pin.clone(),
            bytes_sha256: r.bytes_sha256.clone(),
            timeout_ms: u64::try_from(r.timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

impl WireRequest {
    /// The request for showing to a person. The session made every field printable already;
    /// this does it again, line by line, so that whatever answers on a socket can never draw
    /// on the console user's terminal.
    pub(crate) fn to_request(&self) -> Request {
        let lines = |text: &str| text.split('\n').map(visible).collect::<Vec<_>>().join("\n");
        Request {
            id: visible(&self.id),
            server: visible(&self.server),
            method: visible(&self.method),
            tool: visible(&self.tool),
            rule: visible(&self.rule),
            reason: visible(&self.reason),
            message: self.message.as_deref().map(visible),
            arguments: lines(&self.arguments),
            annotations: self.annotations.as_deref().map(visible),
            pin: visible(&self.pin),
            bytes_sha256: visible(&self.bytes_sha256),
            timeout: Duration::from_millis(self.timeout_ms),
        }
    }
}

/// A session's reply to `answer`, or to a line it could not take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Reply {
    pub(crate) ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) applied: Option<Applied>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// On an error: the id is known and was decided already (not merely unknown).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) decided: bool,
}

impl Reply {
    pub(crate) fn applied(applied: Applied) -> Reply {
        Reply {
            ok: true,
            applied: Some(applied),
            error: None,
            decided: false,
        }
    }

    pub(crate) fn error(error: impl Into<String>) -> Reply {
        Reply {
            ok: false,
            applied: None,
            error: Some(error.into()),
            decided: false,
        }
    }

    pub(crate) fn decided(error: impl Into<String>) -> Reply {
        Reply {
            decided: true,
            ..Reply::error(error)
        }
    }
}

/// What an accepted answer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Applied {
    /// It decided the waiting request.
    Now,
    /// The request had stopped waiting; the allow applies to the model's identical retry.
    Retry,
    /// A late deny: the request was denied when it stopped waiting, and the retry will be
    /// asked about as usual.
    None,
}

/// Longest grant `for:` accepts; longer is what `always` is for.
const MAX_FOR: Duration = Duration::from_secs(24 * 3600);

/// Reads an answer: `deny`, `once`, `session`, `always`, or `for:DURATION` where DURATION is
/// a whole number of seconds, minutes or hours (`90s`, `10m`, `2h`; a bare number is minutes).
pub(crate) fn parse_answer(text: &str) -> Result<Answer, String> {
    let expected = "expected deny, once, session, for:10m or always";
    match text {
        "deny" => return Ok(Answer::Deny),
        "once" => return Ok(Answer::Once),
        "session" => return Ok(Answer::Session),
        "always" => return Ok(Answer::Always),
        _ => {}
    }
    let Some(length) = text.strip_prefix("for:") else {
        return Err(format!("{:?}: {expected}", visible(text)));
    };
    let split = length
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(length.len());
    let (number, unit) = length.split_at(split);
    let scale = match unit {
        "s" => 1,
        "m" | "" => 60,
        "h" => 3600,
        _ => return Err(format!("{:?}: the unit must be s, m or h", visible(text))),
    };
    let seconds = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{:?}: {expected}", visible(text)))?;
    let duration = Duration::from_secs(seconds);
    if duration.is_zero() || duration > MAX_FOR {
        return Err(format!(
            "{:?}: the length must be between 1s and 24h (for longer, answer always)",
            visible(text)
        ));
    }
    Ok(Answer::For(duration))
}

/// The text form [`parse_answer`] reads.
pub(crate) fn answer_text(answer: Answer) -> String {
    match answer {
        Answer::Deny | Answer::Dismissed => "deny".into(),
        Answer::Once => "once".into(),
        Answer::Session => "session".into(),
        Answer::Always => "always".into(),
        Answer::For(d) if d.as_secs() % 3600 == 0 => format!("for:{}h", d.as_secs() / 3600),
        Answer::For(d) if d.as_secs() % 60 == 0 => format!("for:{}m", d.as_secs() / 60),
        Answer::For(d) => format!("for:{}s", d.as_secs()),
    }
}

/// Now in Unix milliseconds.
pub(crate) fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What [`read_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    /// A whole line (newline included) is in the buffer.
    Whole,
    /// The line grew past the cap; the buffer holds its start.
    TooLong,
    /// The peer closed (a partial last line is dropped).
    End,
}

/// Reads one line into `buf` (cleared by the caller between lines), at most `max` bytes
/// plus one read's worth. Cancel-safe: bytes read before a cancellation stay in `buf`, and
/// the next call goes on from there.
pub(crate) async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Line> {
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Line::End);
        }
        let (used, whole) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        buf.extend_from_slice(&available[..used]);
        reader.consume(used);
        if buf.len() > max {
            return Ok(Line::TooLong);
        }
        if whole {
            return Ok(Line::Whole);
        }
    }
}

/// One JSON line.
pub(crate) fn line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec(value).expect("console messages serialize");
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_and_write_back() {
        for (text, answer) in [
            ("deny", Answer::Deny),
            ("once", Answer::Once),
            ("session", Answer::Session),
            ("always", Answer::Always),
            ("for:10m", Answer::For(Duration::from_secs(600))),
            ("for:90s", Answer::For(Duration::from_secs(90))),
            ("for:2h", Answer::For(Duration::from_secs(7200))),
        ] {
            assert_eq!(parse_answer(text), Ok(answer), "{text}");
            assert_eq!(answer_text(answer), text);
        }
        assert_eq!(
            parse_answer("for:15"),
            Ok(Answer::For(Duration::from_secs(900)))
        );
        for bad in [
            "", "yes", "Deny", "for:", "for:0m", "for:25h", "for:1d", "for:-1m", "for:1.5m",
        ] {
            assert!(parse_answer(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_wire_shapes_are_the_documented_ones() {
        let op: Op = serde_json::from_str(r#"{"op":"answer","id":"peta-1","answer":"once"}"#)
            .expect("answer op");
        assert_eq!(
            op,
            Op::Answer {
                id: "peta-1".into(),
                answer: "once".into()
            }
        );
        assert_eq!(
            serde_json::from_str::<Op>(r#"{"op":"list"}"#).expect("list"),
            Op::List
        );
        assert_eq!(
            serde_json::from_str::<Op>(r#"{"op":"watch","since":3}"#).expect("unknown fields"),
            Op::Watch
        );
        assert_eq!(
            String::from_utf8(line(&Reply::applied(Applied::Retry))).expect("utf-8"),
            "{\"ok\":true,\"applied\":\"retry\"}\n"
        );
        assert_eq!(
            String::from_utf8(line(&Reply::error("no"))).expect("utf-8"),
            "{\"ok\":false,\"error\":\"no\"}\n"
        );
    }

    #[test]
    fn lines_are_capped_and_resume_after_a_partial_read() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let input = format!("{{\"op\":\"list\"}}\n{}\nrest", "x".repeat(100));
            let mut reader = tokio::io::BufReader::with_capacity(7, input.as_bytes());
            let mut buf = Vec::new();
            assert_eq!(
                read_line(&mut reader, &mut buf, 50).await.ok(),
                Some(Line::Whole)
            );
            assert_eq!(buf, b"{\"op\":\"list\"}\n");
            buf.clear();
            assert_eq!(
                read_line(&mut reader, &mut buf, 50).await.ok(),
                Some(Line::TooLong)
            );
            assert!(buf.len() <= 57, "bounded by the cap plus one read");
        });
    }

    #[test]
    fn what_arrives_is_made_visible_again() {
        let mut wire = WireRequest::from(&crate::approval::tests::request(1000));
        wire.tool = "rm\u{1b}[2K".into();
        wire.arguments = "{\n  \"a\": \"\u{202e}x\"\n}".into();
        let request = wire.to_request();
        assert_eq!(request.tool, "rm\\u{1b}[2K");
        assert_eq!(request.arguments, "{\n  \"a\": \"\\u{202e}x\"\n}");
        assert_eq!(request.timeout, Duration::from_secs(1));
    }
}
