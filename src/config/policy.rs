//! Compiles the policy's part of the configuration into a `Policy`: `[defaults]`
//! `default_action`, `timeout` and `gate`, each server's `default_action` and
//! `trust_annotations`, and the `[[rules]]`. Every error names its key, like
//! `rules[2].tool` or `rules[0].args."/path".glob`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Number, Value};

use super::compile::parse_duration;
use super::error::ConfigError;
use super::raw::{RawDefaults, RawRule, RawServer, RawTests};
use crate::policy::{
    Action, Method, NameMatcher, Pointer, Policy, Predicate, Rule, ServerPolicy, Test,
};

/// Builds a `ConfigError::Invalid` for a key of the file being compiled.
pub(super) type Invalid<'a> = &'a dyn Fn(&str, String) -> ConfigError;

pub(super) fn compile(
    defaults: &RawDefaults,
    servers: &BTreeMap<String, RawServer>,
    rules: Vec<RawRule>,
    invalid: Invalid,
) -> Result<Policy, ConfigError> {
    let mut policy = Policy::default();
    policy.default_action = defaults.default_action;
    if let Some(text) = &defaults.timeout {
        policy.timeout = timeout(text).map_err(|m| invalid("defaults.timeout", m))?;
    }
    for &method in defaults.gate.iter().flatten() {
        // tools/call is always gated; naming it is harmless.
        if method != Method::ToolsCall && !policy.gate.contains(&method) {
            policy.gate.push(method);
        }
    }
    for (name, server) in servers {
        if server.default_action.is_some() || server.trust_annotations.is_some() {
            policy.servers.insert(
                name.clone(),
                ServerPolicy {
                    default_action: server.default_action,
                    trust_annotations: server.trust_annotations.unwrap_or(false),
                },
            );
        }
    }
    add_rules(&mut policy, rules, invalid)?;
    Ok(policy)
}

/// Compiles `rules` and adds them to the policy's last layer; their keys are `rules[N]`,
/// counted within `rules`.
pub(super) fn add_rules(
    policy: &mut Policy,
    rules: Vec<RawRule>,
    invalid: Invalid,
) -> Result<(), ConfigError> {
    let before = policy.all_rules().count();
    for (i, raw) in rules.into_iter().enumerate() {
        let key = format!("rules[{i}]");
        let id = raw.id.clone();
        let rule = rule(raw, &key, policy, invalid)?;
        if let Err(j) = policy.add_rule(rule) {
            let other = match j.checked_sub(before) {
                Some(j) => format!("rules[{j}]"),
                None => "a rule of the user configuration".to_owned(),
            };
            return Err(invalid(
                &format!("{key}.id"),
                format!("{id:?} is also the id of {other}; ids must be unique"),
            ));
        }
    }
    Ok(())
}

fn rule(raw: RawRule, key: &str, policy: &Policy, invalid: Invalid) -> Result<Rule, ConfigError> {
    let at = |field: &str| format!("{key}.{field}");
    check_id(&raw.id).map_err(|m| invalid(&at("id"), m))?;
    let server = NameMatcher::new(raw.server.as_deref().unwrap_or("*"))
        .map_err(|m| invalid(&at("server"), m))?;
    let method = raw.method.unwrap_or(Method::ToolsCall);
    if !policy.gates(method) {
        return Err(invalid(
            &at("method"),
            format!(
                "is {:?}, which [defaults] gate does not list, so the rule could never apply",
                method.as_str()
            ),
        ));
    }
    let tool = NameMatcher::new(raw.tool.as_deref().unwrap_or("*"))
        .map_err(|m| invalid(&at("tool"), m))?;
    let mut args = Vec::new();
    for (text, tests) in raw.args {
        let key = format!("{key}.args.{}", Value::String(text.clone()));
        let pointer = Pointer::parse(&text).map_err(|m| invalid(&key, m))?;
        let tests = self::tests(tests, &key, invalid)?;
        if tests.is_empty() {
            return Err(invalid(
                &key,
                "has no test; give one of eq, one_of, glob, path, regex, lt, gt, contains".into(),
            ));
        }
        args.extend(tests.into_iter().map(|test| Predicate {
            pointer: pointer.clone(),
            test,
        }));
    }
    let timeout = match raw.timeout {
        Some(_) if raw.action != Action::Ask => {
            return Err(invalid(
                &at("timeout"),
                format!("only applies to ask rules, and this one is {}", raw.action),
            ));
        }
        Some(text) => Some(timeout(&text).map_err(|m| invalid(&at("timeout"), m))?),
        None => None,
    };
    Ok(Rule {
        id: raw.id,
        server,
        method,
        tool,
        args,
        action: raw.action,
        message: raw.message,
        timeout,
    })
}

/// Rule ids appear in prompts, denials and the audit log, so they stay plain.
fn check_id(id: &str) -> Result<(), String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if id.is_empty() || !id.chars().all(plain) {
        return Err(format!(
            "{id:?} must be non-empty and hold only ASCII letters, digits, '-', '_' and '.'"
        ));
    }
    Ok(())
}

/// How long a question waits: a duration above zero.
fn timeout(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration.is_zero() {
        return Err(format!(
            "{text:?} would deny every question at once; give a duration above 0"
        ));
    }
    Ok(duration)
}

fn tests(raw: RawTests, key: &str, invalid: Invalid) -> Result<Vec<Test>, ConfigError> {
    let at = |test: &str| format!("{key}.{test}");
    let mut tests = Vec::new();
    if let Some(value) = raw.eq {
        tests.push(Test::Eq(json(value).map_err(|m| invalid(&at("eq"), m))?));
    }
    if let Some(values) = raw.one_of {
        if values.is_empty() {
            return Err(invalid(
                &at("one_of"),
                "is empty, so it could never hold".into(),
            ));
        }
        let values = values.into_iter().map(json).collect::<Result<_, _>>();
        tests.push(Test::OneOf(values.map_err(|m| invalid(&at("one_of"), m))?));
    }
    if let Some(pattern) = raw.glob {
        tests.push(Test::glob(&pattern).map_err(|m| invalid(&at("glob"), m))?);
    }
    if let Some(pattern) = raw.path {
        let expanded = super::compile::expand_home(&pattern)
            .ok_or_else(|| invalid(&at("path"), "starts with ~ but HOME is not set".into()))?;
        tests.push(Test::path(&expanded.to_string_lossy()).map_err(|m| invalid(&at("path"), m))?);
    }
    if let Some(pattern) = raw.regex {
        tests.push(Test::regex(&pattern).map_err(|m| invalid(&at("regex"), m))?);
    }
    if let Some(bound) = raw.lt {
        tests.push(Test::Lt(number(bound).map_err(|m| invalid(&at("lt"), m))?));
    }
    if let Some(bound) = raw.gt {
        tests.push(Test::Gt(number(bound).map_err(|m| invalid(&at("gt"), m))?));
    }
    if let Some(value) = raw.contains {
        tests.push(Test::Contains(
            json(value).map_err(|m| invalid(&at("contains"), m))?,
        ));
    }
    Ok(tests)
}

fn number(value: toml::Value) -> Result<Number, String> {
    match json(value)? {
        Value::Number(n) => Ok(n),
        other => Err(format!("is {other}; it must be a number")),
    }
}

/// A TOML value as the JSON value it stands for.
fn json(value: toml::Value) -> Result<Value, String> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| format!("{f} is not a number JSON can hold"))?,
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => {
            return Err(format!(
                "{d} is a TOML date-time, which JSON has not; quote it to compare text"
            ));
        }
        toml::Value::Array(items) => {
            Value::Array(items.into_iter().map(json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(k, v)| Ok((k, json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{ConfigError, parse};

    /// The key and message of the error `text` gets.
    #[track_caller]
    fn invalid(text: &str) -> (String, String) {
        match parse(text, Path::new("peta.toml")) {
            Err(ConfigError::Invalid { key, message, .. }) => (key, message),
            other => panic!("expected an invalid key for\n{text}\ngot {other:?}"),
        }
    }

    #[track_caller]
    fn suggestion(text: &str) -> Option<String> {
        match parse(text, Path::new("peta.toml")) {
            Err(ConfigError::Parse { suggestion, .. }) => suggestion,
            other => panic!("expected a parse error for\n{text}\ngot {other:?}"),
        }
    }

    const OK: &str = "[[rules]]\nid = \"ok\"\naction = \"allow\"\n";

    #[test]
    fn each_mistake_names_its_key_and_reason() {
        let rule = |body: &str| format!("{OK}[[rules]]\nid = \"r\"\naction = \"deny\"\n{body}\n");
        for (text, key, reason) in [
            (rule(r#"tool = "[a""#), "rules[1].tool", "not a valid glob"),
            (
                rule(r#"tool = "^(a$""#),
                "rules[1].tool",
                "not a valid regex: unclosed group",
            ),
            (
                rule(r#"tool = "^delete_.*""#),
                "rules[1].tool",
                "a regex starts with ^ and ends with $",
            ),
            (
                rule(r#"tool = "delete_.*$""#),
                "rules[1].tool",
                "a regex starts with ^ and ends with $",
            ),
            (rule(r#"tool = """#), "rules[1].tool", "is empty"),
            (
                rule(r#"server = "{a""#),
                "rules[1].server",
                "not a valid glob",
            ),
            (
                rule(r#"args = { "path" = { eq = 1 } }"#),
                r#"rules[1].args."path""#,
                "must start with /",
            ),
            (
                rule(r#"args = { "/a~2" = { eq = 1 } }"#),
                r#"rules[1].args."/a~2""#,
                "~ must be followed by 0 or 1",
            ),
            (
                rule(r#"args = { "/p" = { glob = "[" } }"#),
                r#"rules[1].args."/p".glob"#,
                "not a valid glob",
            ),
            (
                rule(r#"args = { "/p" = { path = "etc/**" } }"#),
                r#"rules[1].args."/p".path"#,
                "not an absolute path pattern",
            ),
            (
                rule(r#"args = { "/p" = { path = "/etc/[" } }"#),
                r#"rules[1].args."/p".path"#,
                "not a valid glob",
            ),
            (
                rule(r#"args = { "/p" = { regex = "(" } }"#),
                r#"rules[1].args."/p".regex"#,
                "not a valid regex",
            ),
            (
                rule(r#"args = { "/p" = { lt = "ten" } }"#),
                r#"rules[1].args."/p".lt"#,
                "must be a number",
            ),
            (
                rule(r#"args = { "/p" = { gt = [1] } }"#),
                r#"rules[1].args."/p".gt"#,
                "must be a number",
            ),
            (
                rule(r#"args = { "/p" = { gt = nan } }"#),
                r#"rules[1].args."/p".gt"#,
                "not a number JSON can hold",
            ),
            (
                rule(r#"args = { "/p" = { eq = 1979-05-27 } }"#),
                r#"rules[1].args."/p".eq"#,
                "TOML date-time",
            ),
            (
                rule(r#"args = { "/p" = { one_of = [] } }"#),
                r#"rules[1].args."/p".one_of"#,
                "could never hold",
            ),
            (
                rule(r#"args = { "/p" = {} }"#),
                r#"rules[1].args."/p""#,
                "has no test",
            ),
            (
                "[[rules]]\nid = \"a\"\naction = \"ask\"\ntimeout = \"soon\"\n".into(),
                "rules[0].timeout",
                "not a duration",
            ),
            (
                rule(r#"timeout = "10s""#),
                "rules[1].timeout",
                "only applies to ask rules, and this one is deny",
            ),
            (
                rule(r#"method = "resources/read""#),
                "rules[1].method",
                "[defaults] gate does not list",
            ),
            (
                format!("{OK}{OK}"),
                "rules[1].id",
                r#""ok" is also the id of rules[0]"#,
            ),
            (
                "[[rules]]\nid = \"a b\"\naction = \"deny\"\n".into(),
                "rules[0].id",
                "only ASCII letters",
            ),
            (
                "[[rules]]\nid = \"\"\naction = \"deny\"\n".into(),
                "rules[0].id",
                "non-empty",
            ),
            (
                "[[rules]]\nid = \"a\"\naction = \"ask\"\ntimeout = \"0s\"\n".into(),
                "rules[0].timeout",
                "above 0",
            ),
            (
                "[defaults]\ntimeout = \"61m\"\n".into(),
                "defaults.timeout",
                "outside 0s..=60m",
            ),
        ] {
            let (got_key, message) = invalid(&text);
            assert_eq!(got_key, key, "{text}");
            assert!(
                message.contains(reason),
                "{key}: {message:?} lacks {reason:?}"
            );
        }
    }

    #[test]
    fn misspelt_keys_and_values_get_a_suggestion() {
        for (text, expected) in [
            (
                "[[rules]]\nid = \"a\"\ntol = \"x\"\naction = \"deny\"\n",
                "tool",
            ),
            ("[[rules]]\nid = \"a\"\naction = \"alow\"\n", "allow"),
            (
                "[[rules]]\nid = \"a\"\naction = \"deny\"\nargs = { \"/p\" = { glb = \"x\" } }\n",
                "glob",
            ),
            (
                "[[rules]]\nid = \"a\"\naction = \"deny\"\nmethod = \"resource/read\"\n",
                "resources/read",
            ),
            ("[defaults]\ngate = [\"prompt/get\"]\n", "prompts/get"),
            ("[defaults]\ndefault_acton = \"deny\"\n", "default_action"),
            (
                "[servers.x]\ntrust_annotation = true\n",
                "trust_annotations",
            ),
            ("[servers.x]\ndefault_action = \"Deny\"\n", "deny"),
        ] {
            assert_eq!(suggestion(text).as_deref(), Some(expected), "{text}");
        }
        // A rule needs an id and an action.
        suggestion("[[rules]]\naction = \"deny\"\n");
        suggestion("[[rules]]\nid = \"a\"\n");
    }

    #[test]
    fn gate_settings_compile() {
        use crate::policy::Method;
        let config = parse(
            "[defaults]\ngate = [\"tools/call\", \"elicitation/create\", \"elicitation/create\"]\n",
            Path::new("peta.toml"),
        )
        .expect("parses");
        assert_eq!(config.policy.gate, [Method::ElicitationCreate]);
        assert!(config.policy.gates(Method::ToolsCall));
    }
}
