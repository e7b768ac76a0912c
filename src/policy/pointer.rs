//! JSON pointers (RFC 6901) into a call's arguments: `/path`, `/options/recursive`,
//! `/files/0`; `~1` stands for `/` and `~0` for `~` inside a key; `""` is the whole
//! arguments object.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::display::visible;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pointer {
    text: String,
    tokens: Vec<String>,
}

impl Pointer {
    pub(crate) fn parse(text: &str) -> Result<Pointer, String> {
        if text.is_empty() {
            return Ok(Pointer {
                text: String::new(),
                tokens: Vec::new(),
            });
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err(format!(
                "{text:?} is not a JSON pointer: it must start with / (e.g. \"/path\")"
            ));
        };
        let tokens =
            rest.split('/')
                .map(|token| {
                    unescape(token).ok_or_else(|| {
                format!("{text:?} is not a JSON pointer: ~ must be followed by 0 or 1 (RFC 6901)")
            })
                })
                .collect::<Result<_, _>>()?;
        Ok(Pointer {
            text: text.to_owned(),
            tokens,
        })
    }

    /// The value the pointer names in `root`, if there is one.
    pub(crate) fn resolve<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        self.tokens
            .iter()
            .try_fold(root, |value, token| lookup(value, token))
    }
}

impl Pointer {
    /// Every value the pointer names in `root` when a string holding a JSON list or object
    /// may also be read as that list or object, at any step (`{"a": "{\"b\": 1}"}` has 1
    /// at `/a/b`); each marked whether it was reached through such a string. The value
    /// `resolve` finds, if any, comes first.
    pub(crate) fn resolve_through_json<'v>(&self, root: &'v Value) -> Vec<(Cow<'v, Value>, bool)> {
        let mut current: Vec<(Cow<'v, Value>, bool)> = vec![(Cow::Borrowed(root), false)];
        for token in &self.tokens {
            let mut next = Vec::new();
            for (value, in_json) in current {
                let parsed = match value.as_ref() {
                    Value::String(s) => {
                        super::reading::json_inside(s).filter(|j| j.is_array() || j.is_object())
                    }
                    _ => None,
                };
                if let Some(child) = step(value, token) {
                    next.push((child, in_json));
                }
                if let Some(parsed) = parsed
                    && let Some(child) = step(Cow::Owned(parsed), token)
                {
                    next.push((child, true));
                }
            }
            current = next;
        }
        current
    }
}

/// One step of a pointer, keeping borrowed what was borrowed.
fn step<'v>(value: Cow<'v, Value>, token: &str) -> Option<Cow<'v, Value>> {
    match value {
        Cow::Borrowed(v) => lookup(v, token).map(Cow::Borrowed),
        Cow::Owned(v) => lookup(&v, token).cloned().map(Cow::Owned),
    }
}

fn lookup<'a>(value: &'a Value, token: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => map.get(token),
        Value::Array(items) => index(token).and_then(|i| items.get(i)),
        _ => None,
    }
}

fn unescape(token: &str) -> Option<String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        match c {
            '~' => match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

/// An array index as RFC 6901 writes it: `0`, or digits without a leading zero. (`-`, the
/// element after the last, never exists.)
fn index(token: &str) -> Option<usize> {
    let digits = token.bytes().all(|b| b.is_ascii_digit());
    if !digits || token.is_empty() || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.text.is_empty() {
            f.write_str("(the arguments)")
        } else {
            f.write_str(&visible(&self.text))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn resolves_as_rfc_6901_says() {
        let doc = json!({
            "foo": ["bar", "baz"], "": 0, "a/b": 1, "m~n": 8, " ": 7,
            "deep": {"x": {"y": true}}, "01": "key"
        });
        for (pointer, expected) in [
            ("", Some(&doc)),
            ("/foo", Some(&json!(["bar", "baz"]))),
            ("/foo/0", Some(&json!("bar"))),
            ("/foo/1", Some(&json!("baz"))),
            ("/", Some(&json!(0))),
            ("/a~1b", Some(&json!(1))),
            ("/m~0n", Some(&json!(8))),
            ("/ ", Some(&json!(7))),
            ("/deep/x/y", Some(&json!(true))),
            ("/01", Some(&json!("key"))),
            ("/foo/2", None),
            ("/foo/-", None),
            ("/foo/01", None),
            ("/foo/+1", None),
            ("/foo/0/x", None),
            ("/nope", None),
            ("/deep/x/y/z", None),
        ] {
            let p = Pointer::parse(pointer).expect(pointer);
            assert_eq!(p.resolve(&doc), expected, "{pointer}");
        }
    }

    #[test]
    fn resolves_through_strings_that_hold_json() {
        let doc = json!({
            "paths": "[\"/etc/shadow\", \"/tmp/x\"]",
            "settings": "{\"inner\": \"{\\\"mode\\\": 7}\"}",
            "plain": ["a"],
            "word": "hello"
        });
        let found = |pointer: &str| -> Vec<(Value, bool)> {
            Pointer::parse(pointer)
                .expect(pointer)
                .resolve_through_json(&doc)
                .into_iter()
                .map(|(v, in_json)| (v.into_owned(), in_json))
                .collect()
        };
        assert_eq!(found("/paths/0"), [(json!("/etc/shadow"), true)]);
        assert_eq!(found("/paths/1"), [(json!("/tmp/x"), true)]);
        assert_eq!(found("/paths/2"), []);
        assert_eq!(found("/settings/inner/mode"), [(json!(7), true)]);
        assert_eq!(found("/plain/0"), [(json!("a"), false)]);
        assert_eq!(found("/word/0"), []);
        assert_eq!(found("/paths"), [(doc["paths"].clone(), false)]);
    }

    #[test]
    fn refuses_what_is_not_a_pointer() {
        for bad in ["path", "#/path", "/a~2", "/a~", "/~x"] {
            assert!(Pointer::parse(bad).is_err(), "{bad}");
        }
    }
}
