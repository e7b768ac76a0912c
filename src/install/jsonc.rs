//! A JSON reader that remembers where everything is. Client configs are edited in place, one
//! server entry's bytes at a time, so the rest of the file — comments (VS Code's JSONC),
//! trailing commas, order and spacing — stays exactly as the person wrote it.

use std::ops::Range;

/// A value and the bytes it spans.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) span: Range<usize>,
    pub(crate) kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Object(Vec<Member>),
    Array(Vec<Node>),
    String(String),
    Number,
    Bool,
    Null,
}

/// `"key": value`; `span` runs from the key's opening quote to the value's last byte.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) key: String,
    pub(crate) span: Range<usize>,
    pub(crate) value: Node,
}

/// Why a file could not be read, with the position people see in their editor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub(crate) struct ParseError {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
}

/// Deeper than any config; a bound so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 256;

impl Node {
    pub(crate) fn members(&self) -> Option<&[Member]> {
        match &self.kind {
            Kind::Object(m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The member called `key`; several with that name is an error (parsers disagree on
    /// which one counts, so peta refuses to guess).
    pub(crate) fn get(&self, key: &str) -> Result<Option<&Member>, String> {
        let mut found = self
            .members()
            .into_iter()
            .flatten()
            .filter(|m| m.key == key);
        let first = found.next();
        if found.next().is_some() {
            return Err(format!("\"{key}\" appears more than once"));
        }
        Ok(first)
    }
}

/// Parses JSON, allowing `//` and `/* */` comments and trailing commas.
pub(crate) fn parse(text: &str) -> Result<Node, ParseError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    // A UTF-8 byte order mark is tolerated, as editors write one.
    if text.starts_with('\u{feff}') {
        parser.at = 3;
    }
    parser.blank()?;
    let node = parser.value(0)?;
    parser.blank()?;
    if parser.at != parser.bytes.len() {
        return Err(parser.error("unexpected text after the end of the document"));
    }
    Ok(node)
}

/// A JSON string literal for `value`.
pub(crate) fn quote(value: &str) -> String {
    serde_json::to_string(value).expect("a string serialises")
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> ParseError {
        let before = &self.text[..self.at.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ParseError {
            line,
            column,
            message: message.to_owned(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Skips whitespace and comments.
    fn blank(&mut self) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.at += 1,
                Some(b'/') if self.bytes.get(self.at + 1) == Some(&b'/') => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.at += 1;
                    }
                }
                Some(b'/') if self.bytes.get(self.at + 1) == Some(&b'*') => {
                    let end = self.text[self.at + 2..]
                        .find("*/")
                        .ok_or_else(|| self.error("a /* comment is never closed"))?;
                    self.at += 2 + end + 2;
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        let start = self.at;
        let kind = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Kind::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                Kind::Number
            }
            Some(b't') => self.word("true", Kind::Bool)?,
            Some(b'f') => self.word("false", Kind::Bool)?,
            Some(b'n') => self.word("null", Kind::Null)?,
            Some(_) => return Err(self.error("expected a value")),
            None => return Err(self.error("the document ends where a value should be")),
        };
        Ok(Node {
            span: start..self.at,
            kind,
        })
    }

    fn word(&mut self, word: &str, kind: Kind) -> Result<Kind, ParseError> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(kind)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn number(&mut self) -> Result<(), ParseError> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        {
            self.at += 1;
        }
        let text = &self.text[start..self.at];
        serde_json::from_str::<serde_json::Number>(text)
            .map(|_| ())
            .map_err(|_| {
                self.at = start;
                self.error("not a number")
            })
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.at;
        self.at += 1;
        loop {
            match self.peek() {
                None => {
                    self.at = start;
                    return Err(self.error("a string is never closed"));
                }
                Some(b'"') => break,
                Some(b'\\') => self.at += 2,
                Some(b) if b < 0x20 => {
                    return Err(self.error("a control character inside a string"));
                }
                Some(_) => self.at += 1,
            }
        }
        self.at += 1;
        // The literal's syntax is checked above; its escapes are decoded by serde_json.
        serde_json::from_str(&self.text[start..self.at]).map_err(|e| {
            self.at = start;
            self.error(&format!("bad string: {e}"))
        })
    }

    /// Consumes `close` or a comma; `true` when the list ended.
    fn separator(&mut self, close: u8, what: &str) -> Result<bool, ParseError> {
        self.blank()?;
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                self.blank()?;
                if self.peek() == Some(close) {
                    self.at += 1;
                    return Ok(true);
                }
                Ok(false)
            }
            Some(b) if b == close => {
                self.at += 1;
                Ok(true)
            }
            _ => Err(self.error(&format!("expected , or {} in {what}", close as char))),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Kind, ParseError> {
        self.at += 1;
        let mut members = Vec::new();
        self.blank()?;
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Kind::Object(members));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a quoted key"));
            }
            let start = self.at;
            let key = self.string()?;
            self.blank()?;
            if self.peek() != Some(b':') {
                return Err(self.error("expected : after the key"));
            }
            self.at += 1;
            self.blank()?;
            let value = self.value(depth + 1)?;
            members.push(Member {
                key,
                span: start..value.span.end,
                value,
            });
            if self.separator(b'}', "an object")? {
                return Ok(Kind::Object(members));
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Kind, ParseError> {
        self.at += 1;
        let mut items = Vec::new();
        self.blank()?;
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Kind::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            if self.separator(b']', "an array")? {
                return Ok(Kind::Array(items));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_exactly_the_values() {
        let text = "// c\n{ \"a\": [1, \"x\\u0041\"], /* k */ \"b\": {\"c\": null,}, }\n";
        let root = parse(text).expect("parses");
        let members = root.members().expect("object");
        assert_eq!(members[0].key, "a");
        assert_eq!(&text[members[0].value.span.clone()], "[1, \"x\\u0041\"]");
        assert_eq!(&text[members[0].span.clone()], "\"a\": [1, \"x\\u0041\"]");
        let Kind::Array(items) = &members[0].value.kind else {
            panic!("array")
        };
        assert_eq!(items[1].as_str(), Some("xA"));
        assert_eq!(&text[members[1].value.span.clone()], "{\"c\": null,}");
    }

    #[test]
    fn mistakes_name_line_and_column() {
        let err = parse("{\n  \"a\": 1\n  \"b\": 2\n}").expect_err("missing comma");
        assert_eq!((err.line, err.column), (3, 3));
        assert!(parse("{\"a\": tru}").is_err());
        assert!(parse("{\"a\": 1} x").is_err());
        assert!(parse("{\"a\": \"unterminated}").is_err());
        assert!(parse("/* open").is_err());
        assert!(parse(&"[".repeat(10_000)).is_err(), "depth is bounded");
        assert!(parse("{\"a\": 01}").is_err());
    }

    #[test]
    fn duplicate_keys_are_refused_when_asked_for() {
        let root = parse("{\"a\": 1, \"a\": 2}").expect("parses");
        assert!(root.get("a").is_err());
        assert!(root.get("b").expect("no dup").is_none());
    }

    #[test]
    fn agrees_with_serde_json_on_plain_json() {
        for text in [
            r#"{"mcpServers": {"x": {"command": "a\"b", "args": ["-y", "é", "\ud83d\ude00"]}}}"#,
            "[1.5e3, -0, true, false, null, {}]",
        ] {
            parse(text).expect("peta parses");
            serde_json::from_str::<serde_json::Value>(text).expect("serde parses");
        }
    }
}
