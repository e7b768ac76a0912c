//! The strict JSON check every line passes before anything else looks at it.
//!
//! serde_json accepts duplicate object keys and keeps the last one, while other parsers keep
//! the first: a gate and a server reading the same bytes would then see different values.
//! So a line is rejected when any object at any depth repeats a key (compared after escapes
//! are decoded), when a protocol key is spelled in a way a lenient peer could fold onto the
//! real one (`"Method"`, `"name\u0000"`, `"paramſ"`), when two keys of one object below
//! `params` fold together (`"path"` next to `"PATH"`: one key to a case-insensitive server,
//! two to the policy), or when it is not exactly one JSON value. serde_json itself rejects invalid UTF-8, lone surrogates, nesting deeper than 128
//! and numbers no double can hold (`1e400`, which parsers disagree on).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Keys of the JSON-RPC envelope, checked for look-alikes at the top level.
const ENVELOPE_KEYS: &[&str] = &["jsonrpc", "id", "method", "params", "result", "error"];
/// Keys of `params` that decide what a gated request does.
const PARAMS_KEYS: &[&str] = &["name", "arguments", "uri", "_meta"];

/// Checks that `text` is exactly one strict JSON value.
pub(crate) fn check(text: &str) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    Node { at: Place::Top }.deserialize(&mut de)?;
    de.end()
}

/// Where a value sits, for the look-alike key check.
#[derive(Clone, Copy)]
enum Place {
    Top,
    Params,
    /// Anywhere below `params`: the arguments a policy predicate and the server both read.
    UnderParams,
    Inside,
}

struct Node {
    at: Place,
}

impl<'de> DeserializeSeed<'de> for Node {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let at = match self.at {
            Place::Params | Place::UnderParams => Place::UnderParams,
            Place::Top | Place::Inside => Place::Inside,
        };
        while seq.next_element_seed(Node { at })?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = Keys::default();
        // Below `params`, keys that fold together (`path` and `PATH`, `text` and
        // `text\u0000`) are two keys to an exact reader such as the policy, one key to a
        // case-insensitive server (Go's encoding/json): the two would act on different values.
        let mut folded: HashMap<String, String> = HashMap::new();
        let below_params = matches!(self.at, Place::Params | Place::UnderParams);
        while let Some(Key(key)) = map.next_key()? {
            if keys.contains(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key {key:?} in one object"
                )));
            }
            if below_params {
                let folds_to = fold(&key);
                if let Some(other) = folded.get(&folds_to) {
                    return Err(de::Error::custom(format_args!(
                        "keys {other:?} and {key:?} differ only in case or invisible characters"
                    )));
                }
                folded.insert(folds_to, key.clone().into_owned());
            }
            let known = match self.at {
                Place::Top => ENVELOPE_KEYS,
                Place::Params => PARAMS_KEYS,
                Place::UnderParams | Place::Inside => &[],
            };
            if let Some(real) = lookalike(&key, known) {
                return Err(de::Error::custom(format_args!(
                    "key {key:?} looks like {real:?}"
                )));
            }
            let at = match (self.at, key.as_ref()) {
                (Place::Top, "params") => Place::Params,
                (Place::Params | Place::UnderParams, _) => Place::UnderParams,
                _ => Place::Inside,
            };
            map.next_value_seed(Node { at })?;
            keys.push(key);
        }
        Ok(())
    }
}

/// The keys of one object seen so far. A list while it is short (most objects), a hash set
/// beyond that, so an object with many keys costs linear time, not quadratic.
#[derive(Default)]
struct Keys<'de> {
    list: Vec<Cow<'de, str>>,
    set: HashSet<Cow<'de, str>>,
}

impl<'de> Keys<'de> {
    const LIST_MAX: usize = 16;

    fn contains(&self, key: &str) -> bool {
        if self.set.is_empty() {
            self.list.iter().any(|k| k == key)
        } else {
            self.set.contains(key)
        }
    }

    fn push(&mut self, key: Cow<'de, str>) {
        if self.set.is_empty() && self.list.len() < Self::LIST_MAX {
            self.list.push(key);
        } else {
            self.set.extend(self.list.drain(..));
            self.set.insert(key);
        }
    }
}

/// An object key, borrowed from the input unless it held escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        de.deserialize_str(KeyVisitor)
    }
}

/// The known name `text` would become under a lenient peer's folding (case, Unicode case
/// folds such as `ſ`→`s` and `K`→`k`, dropped control and format characters, doubled
/// slashes, surrounding space), if it is not that name already.
pub(crate) fn lookalike<'k>(text: &str, known: &[&'k str]) -> Option<&'k str> {
    if known.is_empty() || known.contains(&text) {
        return None;
    }
    let folded = fold(text);
    known.iter().copied().find(|real| fold(real) == folded)
}

pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if c.is_control() || c.is_whitespace() || is_format(c) => {}
            'ſ' => out.push('s'),
            '\u{212A}' => out.push('k'),
            '/' if out.ends_with('/') => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Invisible formatting characters (zero-width, bidi controls, BOM).
pub(crate) fn is_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_json() {
        for ok in [
            r#"{"a":1,"b":{"a":2},"c":[{"a":1},{"a":1}]}"#,
            r#"{"n":9007199254740993,"f":1e2,"z":-0,"big":123456789012345678901234567890}"#,
            r#"{"s":"\ud83d\ude80 \u00e9"}"#,
            r#"{"result":{"Path":1,"path":2},"params":{"a":{"x":1},"b":{"x":2}}}"#,
            r#"{"Method":1}"#.replace("Method", "methods").as_str(),
        ] {
            check(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn rejects_ambiguous_json() {
        for (bad, why) in [
            (r#"{"a":1,"a":2}"#, "duplicate"),
            (r#"{"x":{"a":1,"\u0061":2}}"#, "duplicate"),
            (r#"{"x":[{"k":1,"k":1}]}"#, "duplicate"),
            (r#"{"s":"\ud800"}"#, "hex escape"),
            (r#"{"s":"\udc00x"}"#, "surrogate"),
            (r#"{} {}"#, "trailing"),
            (r#"{}{}"#, "trailing"),
            (r#"{"n":1e400}"#, "out of range"),
            (r#"{"Method":"x"}"#, "looks like"),
            (r#"{"params":{"Name":"x"}}"#, "looks like"),
            (r#"{"params":{"name\u0000":"x"}}"#, "looks like"),
            (r#"{"paramſ":{}}"#, "looks like"),
            (r#"{"id ":1}"#, "looks like"),
            (
                r#"{"params":{"arguments":{"path":"/tmp","PATH":"/etc"}}}"#,
                "differ only",
            ),
            (
                r#"{"params":{"arguments":{"o":[{"text":1,"text\u0000":2}]}}}"#,
                "differ only",
            ),
            (
                r#"{"params":{"arguments":{"a b":1,"ab":2}}}"#,
                "differ only",
            ),
        ] {
            let err = check(bad).expect_err(bad).to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(check(&deep).is_err());
    }

    #[test]
    fn many_keys_are_checked_in_linear_time() {
        let n = 200_000;
        let mut text: String = (0..n).map(|i| format!("\"k{i}\":{i},")).collect();
        text.insert(0, '{');
        text.push_str("\"end\":0}");
        check(&text).expect("distinct keys");
        text.insert_str(1, "\"k7\":0,");
        let err = check(&text).expect_err("k7 twice").to_string();
        assert!(err.contains("duplicate"), "{err}");
    }

    #[test]
    fn lookalikes_of_methods() {
        let gated = ["tools/call"];
        for m in [
            "TOOLS/CALL",
            "tools//call",
            " tools/call",
            "tools/call ",
            "tools/call\0",
            "tools/\u{200B}call",
        ] {
            assert_eq!(lookalike(m, &gated), Some("tools/call"), "{m:?}");
        }
        assert_eq!(lookalike("tools/call", &gated), None);
        assert_eq!(lookalike("tools/list", &gated), None);
    }
}
