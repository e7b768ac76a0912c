//! Redaction: the values of injected secrets, in the encodings a server is likely to echo
//! them in, replaced by `[REDACTED:NAME]` wherever peta passes text on.
//!
//! One Aho-Corasick automaton holds every form of every secret (linear time in the input,
//! whatever the number of secrets). A JSON message is rewritten only if it holds one: each
//! string token is decoded, redacted and re-encoded, and every other byte (numbers, spacing,
//! key order) is kept as it was. A message that uses `\u` escapes is always decoded first,
//! since escapes can spell a value in a way no fixed pattern matches.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use super::SecretValue;

/// Values shorter than this are not scanned: they would match ordinary text.
pub(crate) const MIN_SCANNED: usize = 8;

/// Replaces secret values in text.
#[derive(Default)]
pub(crate) struct Redactor {
    automaton: Option<AhoCorasick>,
    /// The replacement for each pattern, by pattern index.
    replacements: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Redactor({} patterns)", self.replacements.len())
    }
}

impl Redactor {
    /// Builds the automaton for `(name, value)` pairs. Returns the names of values too short
    /// to scan, for a warning.
    pub(crate) fn new<'a>(
        secrets: impl IntoIterator<Item = (&'a str, &'a SecretValue)>,
    ) -> (Redactor, Vec<String>) {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut replacements = Vec::new();
        let mut short = Vec::new();
        for (name, value) in secrets {
            let value = value.expose().as_bytes();
            if value.len() < MIN_SCANNED {
                short.push(name.to_owned());
                continue;
            }
            let label = format!("[REDACTED:{}]", sanitize(name));
            for form in forms(value) {
                if !patterns.contains(&form) {
                    patterns.push(form);
                    replacements.push(label.clone());
                }
            }
        }
        let automaton = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .expect("literal patterns build")
        });
        (
            Redactor {
                automaton,
                replacements,
            },
            short,
        )
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.automaton.is_none()
    }

    /// Whether `bytes` holds any form of any secret.
    pub(crate) fn hit(&self, bytes: &[u8]) -> bool {
        self.automaton.as_ref().is_some_and(|ac| ac.is_match(bytes))
    }

    /// `text` with every form of every secret replaced.
    pub(crate) fn text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match &self.automaton {
            Some(ac) if ac.is_match(text) => Cow::Owned(ac.replace_all(text, &self.replacements)),
            _ => Cow::Borrowed(text),
        }
    }

    /// Raw bytes (a stderr line) with every form replaced.
    pub(crate) fn bytes<'b>(&self, bytes: &'b [u8]) -> Cow<'b, [u8]> {
        match &self.automaton {
            Some(ac) if ac.is_match(bytes) => {
                Cow::Owned(ac.replace_all_bytes(bytes, &self.replacements))
            }
            _ => Cow::Borrowed(bytes),
        }
    }

    /// A JSON line with secrets replaced inside its strings; `None` when it holds none.
    /// `line` must be valid JSON (the envelope checked it).
    pub(crate) fn json_line(&self, line: &[u8]) -> Option<Vec<u8>> {
        if self.is_empty() || !(self.hit(line) || memchr::memmem::find(line, b"\\u").is_some()) {
            return None;
        }
        let mut out = Vec::with_capacity(line.len());
        let mut changed = false;
        let mut at = 0;
        while let Some(start) = memchr::memchr(b'"', &line[at..]).map(|i| at + i) {
            out.extend_from_slice(&line[at..start]);
            let end = string_end(line, start);
            let token = &line[start..end];
            let decoded: Option<String> = std::str::from_utf8(token)
                .ok()
                .and_then(|t| serde_json::from_str(t).ok());
            match decoded.as_deref().map(|d| self.text(d)) {
                Some(Cow::Owned(redacted)) => {
                    changed = true;
                    out.extend_from_slice(
                        serde_json::to_string(&redacted)
                            .expect("strings serialize")
                            .as_bytes(),
                    );
                }
                _ => out.extend_from_slice(token),
            }
            at = end;
        }
        out.extend_from_slice(&line[at..]);
        changed.then_some(out)
    }
}

/// The end (exclusive) of the JSON string token starting at `start` (a `"`).
fn string_end(line: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < line.len() {
        match line[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    line.len()
}

/// Names go into `[REDACTED:NAME]` inside JSON strings and terminals: keep them plain.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Every form of a value that is scanned for.
fn forms(value: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![value.to_vec()];
    if let Ok(text) = std::str::from_utf8(value) {
        let escaped = serde_json::to_string(text).expect("strings serialize");
        out.push(escaped.as_bytes()[1..escaped.len() - 1].to_vec());
    }
    // base64 at each of the three alignments it can have inside a longer encoded blob: encode
    // with 0-2 bytes in front, then keep only the characters that depend on the value alone.
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        out.push(engine.encode(value).into_bytes());
        for lead in 1..3usize {
            let mut padded = vec![0u8; lead];
            padded.extend_from_slice(value);
            let encoded = STANDARD_NO_PAD.encode(&padded);
            let skip = (lead * 8).div_ceil(6);
            let keep = (padded.len() * 8) / 6;
            if keep > skip + MIN_SCANNED {
                let core = &encoded.as_bytes()[skip..keep];
                let core: Vec<u8> =
                    if std::ptr::eq(engine, &URL_SAFE) || std::ptr::eq(engine, &URL_SAFE_NO_PAD) {
                        core.iter()
                            .map(|&b| match b {
                                b'+' => b'-',
                                b'/' => b'_',
                                b => b,
                            })
                            .collect()
                    } else {
                        core.to_vec()
                    };
                out.push(core);
            }
        }
    }
    let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
    out.push(hex.to_uppercase().into_bytes());
    out.push(hex.into_bytes());
    // Percent-encoding, its hex digits in either case; the unreserved characters keep theirs
    // (lowercasing the whole string would miss a value with capitals in it).
    let percent = |upper: bool| -> String {
        value
            .iter()
            .map(|&b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect()
    };
    let (upper, lower) = (percent(true), percent(false));
    if upper.as_bytes() != value {
        out.push(lower.into_bytes());
        out.push(upper.into_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn redactor(pairs: &[(&str, &str)]) -> Redactor {
        let values: Vec<(String, SecretValue)> = pairs
            .iter()
            .map(|(n, v)| (n.to_string(), SecretValue::new((*v).to_owned())))
            .collect();
        Redactor::new(values.iter().map(|(n, v)| (n.as_str(), v))).0
    }

    #[test]
    fn every_form_is_replaced() {
        let secret = "s3cr3t/value+with spaces&\"quotes\"";
        let r = redactor(&[("GITHUB_TOKEN", secret)]);
        let b = secret.as_bytes();
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        for form in [
            secret.to_owned(),
            STANDARD.encode(b),
            STANDARD_NO_PAD.encode(b),
            URL_SAFE.encode(b),
            URL_SAFE_NO_PAD.encode(b),
            hex.clone(),
            hex.to_uppercase(),
            format!(
                "prefix {} suffix",
                STANDARD.encode([b"xy".as_slice(), b].concat())
            ),
            STANDARD.encode([b"x".as_slice(), b, b"tail"].concat()),
            "s3cr3t%2Fvalue%2Bwith%20spaces%26%22quotes%22".to_owned(),
            "s3cr3t%2fvalue%2bwith%20spaces%26%22quotes%22".to_owned(),
        ] {
            let out = r.text(&form);
            assert!(out.contains("[REDACTED:GITHUB_TOKEN]"), "{form} -> {out}");
        }
        assert_eq!(r.text("nothing here"), "nothing here");
    }

    #[test]
    fn json_lines_keep_everything_but_the_secret() {
        let r = redactor(&[("K", "abcdefgh1234")]);
        let line = br#"{"jsonrpc":"2.0","id":1,"result":{"n":123456789012345678901234567890, "t":"key=abcdefgh1234;","k":"ok"}}"#;
        let out = r.json_line(line).expect("redacted");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            r#"{"jsonrpc":"2.0","id":1,"result":{"n":123456789012345678901234567890, "t":"key=[REDACTED:K];","k":"ok"}}"#
        );
        // Spelled with escapes only: still found.
        let escaped =
            br#"{"t":"\u0061\u0062\u0063\u0064\u0065\u0066\u0067\u0068\u0031\u0032\u0033\u0034"}"#;
        assert_eq!(
            r.json_line(escaped).as_deref(),
            Some(br#"{"t":"[REDACTED:K]"}"#.as_slice())
        );
        assert!(r.json_line(br#"{"t":"clean"}"#).is_none());
    }

    #[test]
    fn short_values_are_not_scanned_and_reported() {
        let values = [
            ("A".to_owned(), SecretValue::new("short".into())),
            ("B".to_owned(), SecretValue::new("long enough".into())),
        ];
        let (r, short) = Redactor::new(values.iter().map(|(n, v)| (n.as_str(), v)));
        assert_eq!(short, ["A"]);
        assert_eq!(r.text("short and long enough"), "short and [REDACTED:B]");
    }

    proptest! {
        /// No encoding of a canary survives redaction of a message that embeds it.
        #[test]
        fn canaries_never_pass(secret in "[ -~]{8,40}", pre in "[a-z ]{0,10}", post in "[a-z ]{0,10}", which in 0usize..7) {
            let r = redactor(&[("CANARY", &secret)]);
            let b = secret.as_bytes();
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            let form = match which {
                0 => secret.clone(),
                1 => STANDARD.encode(b),
                2 => URL_SAFE_NO_PAD.encode(b),
                3 => hex,
                4 => serde_json::to_string(&secret).expect("json"),
                5 => STANDARD.encode([pre.as_bytes(), b].concat()),
                _ => STANDARD_NO_PAD.encode([b"!".as_slice(), b, post.as_bytes()].concat()),
            };
            let text = format!("{pre}{form}{post}");
            let line = serde_json::to_vec(&serde_json::json!({"r": text})).expect("json");
            let out = r.json_line(&line).unwrap_or(line);
            let decoded: serde_json::Value = serde_json::from_slice(&out).expect("still JSON");
            let s = decoded["r"].as_str().expect("string");
            prop_assert!(!s.contains(&secret), "{s}");
            prop_assert!(!s.contains(&STANDARD_NO_PAD.encode(b)[..]), "{s}");
        }

        /// Any secret (any Unicode, not only ASCII) in any supported form, written anywhere in
        /// a server message (a value, a key, deep inside, every character `\u`-escaped, or
        /// percent-encoded in either case) leaves no form of itself in the line the client
        /// gets, nor in a stderr line.
        #[test]
        fn no_form_of_any_canary_passes_anywhere(
            secret in "\\PC{8,24}",
            pad in "[a-z0-9 ]{0,12}",
            which in 0usize..10,
            place in 0usize..4,
        ) {
            let r = redactor(&[("CANARY", &secret)]);
            let b = secret.as_bytes();
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            // Percent-encoding as URLs carry it: unreserved characters stay, hex in either case.
            let percent: String = b
                .iter()
                .map(|&x| {
                    if x.is_ascii_alphanumeric() || b"-._~".contains(&x) {
                        (x as char).to_string()
                    } else {
                        format!("%{x:02X}")
                    }
                })
                .collect();
            let percent_lower: String = b
                .iter()
                .map(|&x| {
                    if x.is_ascii_alphanumeric() || b"-._~".contains(&x) {
                        (x as char).to_string()
                    } else {
                        format!("%{x:02x}")
                    }
                })
                .collect();
            let escaped: String = secret
                .encode_utf16()
                .map(|u| format!("\\u{u:04x}"))
                .collect();
            let (form, raw_json) = match which {
                0 => (secret.clone(), false),
                1 => (STANDARD.encode(b), false),
                2 => (URL_SAFE.encode(b), false),
                3 => (URL_SAFE_NO_PAD.encode([pad.as_bytes(), b].concat()), false),
                4 => (hex.clone(), false),
                5 => (hex.to_uppercase(), false),
                6 => (percent.clone(), false),
                7 => (percent_lower, false),
                8 => (escaped, true),
                _ => (serde_json::to_string(&secret).expect("json"), true),
            };
            // The form as a JSON string token (escaped forms are already one, minus quotes).
            let token = if raw_json {
                // Exactly one quote off each end: the form may end in an escaped quote.
                let inner = form
                    .strip_prefix('"')
                    .and_then(|f| f.strip_suffix('"'))
                    .unwrap_or(&form);
                format!("\"{pad}{inner}{pad}\"")
            } else {
                serde_json::to_string(&format!("{pad}{form}{pad}")).expect("json")
            };
            let line = match place {
                0 => format!(r#"{{"jsonrpc":"2.0","id":1,"result":{{"t":{token}}}}}"#),
                1 => format!(r#"{{"jsonrpc":"2.0","id":1,"result":{{{token}:1}}}}"#),
                2 => format!(r#"{{"jsonrpc":"2.0","method":"notifications/message","params":{{"data":[[{{"d":[{token}]}}]]}}}}"#),
                _ => format!(r#"{{"jsonrpc":"2.0","id":1,"error":{{"code":1,"message":{token},"data":{token}}}}}"#),
            };
            let out = r.json_line(line.as_bytes()).unwrap_or_else(|| line.clone().into_bytes());
            let decoded: serde_json::Value = serde_json::from_slice(&out).expect("still JSON");
            let text = decoded.to_string();
            for shown in [String::from_utf8_lossy(&out).into_owned(), text] {
                prop_assert!(!shown.contains(&secret), "{}", shown);
                let encodings = [STANDARD_NO_PAD.encode(b), hex.clone(), hex.to_uppercase()];
                for encoded in encodings.iter().chain((percent.as_bytes() != b).then_some(&percent)) {
                    prop_assert!(!shown.contains(encoded.as_str()), "{}", shown);
                }
            }
            if !raw_json {
                let stderr = r.text(&format!("log: {pad}{form}{pad}\n")).into_owned();
                prop_assert!(!stderr.contains(&secret) && !stderr.contains(&form), "{}", stderr);
            }
        }
    }
}
