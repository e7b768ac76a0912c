//! Name patterns for a rule's `server` and `tool`: a glob, or a regex when the pattern
//! starts with `^` and ends with `$`.
//!
//! Names are matched exactly as sent: case-sensitive, no Unicode normalisation, so
//! `delete_*` matches neither `Delete_file` nor `ｄelete_file` (fullwidth). `*` also matches
//! `/`, since tool names are not paths.

use std::fmt;

use globset::{GlobBuilder, GlobMatcher};
use regex::Regex;

/// A compiled glob, remembering its text for explanations.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    text: String,
    matcher: GlobMatcher,
}

impl Glob {
    pub(crate) fn new(text: &str) -> Result<Glob, String> {
        let glob = GlobBuilder::new(text)
            .case_insensitive(false)
            .literal_separator(false)
            // The same on every platform: `\` escapes, as on Unix.
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("{:?} is not a valid glob: {}", text, e.kind()))?;
        Ok(Glob {
            text: text.to_owned(),
            matcher: glob.compile_matcher(),
        })
    }

    pub(crate) fn is_match(&self, candidate: &str) -> bool {
        self.matcher.is_match(candidate)
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }
}

/// What a rule's `server` or `tool` matches.
#[derive(Debug, Clone)]
pub(crate) enum NameMatcher {
    /// `*`: every name, and also a server run without `--server`.
    Any,
    Glob(Glob),
    /// `^…$`: the regex must match the whole name. It is compiled as `^(?:…)$`, so an
    /// alternation such as `^a|b$` cannot match only part of a name.
    Regex {
        text: String,
        regex: Regex,
    },
}

impl NameMatcher {
    pub(crate) fn new(pattern: &str) -> Result<NameMatcher, String> {
        if pattern.is_empty() {
            return Err("is empty; use \"*\" for every name".into());
        }
        if pattern == "*" {
            return Ok(NameMatcher::Any);
        }
        match (pattern.starts_with('^'), pattern.ends_with('$')) {
            (true, true) if pattern.len() >= 2 => {
                // Checked as written first, so an error points into the user's text.
                regex(pattern)?;
                Ok(NameMatcher::Regex {
                    text: pattern.to_owned(),
                    regex: regex(&format!("^(?:{pattern})$"))?,
                })
            }
            // Half an anchor is almost surely a regex with a missing end; as a glob it would
            // silently match nothing.
            (true, _) | (_, true) => Err(format!(
                "{pattern:?} is neither a glob nor a regex: a regex starts with ^ and ends with $"
            )),
            (false, false) => Glob::new(pattern).map(NameMatcher::Glob),
        }
    }

    /// Whether `name` matches; `None` is a server run without a name, which only `*` matches.
    pub(crate) fn is_match(&self, name: Option<&str>) -> bool {
        match (self, name) {
            (NameMatcher::Any, _) => true,
            (_, None) => false,
            (NameMatcher::Glob(glob), Some(name)) => glob.is_match(name),
            (NameMatcher::Regex { regex, .. }, Some(name)) => regex.is_match(name),
        }
    }

    pub(crate) fn is_any(&self) -> bool {
        matches!(self, NameMatcher::Any)
    }
}

/// Compiles a regex, with the error on one line.
pub(crate) fn regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| {
        let why = match &e {
            // The syntax error's last line names the problem; the others draw the pattern.
            regex::Error::Syntax(text) => text
                .lines()
                .last()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_owned(),
            other => other.to_string(),
        };
        format!("{pattern:?} is not a valid regex: {why}")
    })
}

impl fmt::Display for NameMatcher {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let text = match self {
            NameMatcher::Any => "*",
            NameMatcher::Glob(glob) => glob.as_str(),
            NameMatcher::Regex { text, .. } => text,
        };
        f.write_str(&super::show::text(text))
    }
}
