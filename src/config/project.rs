//! A project's own `peta.toml`, next to the code an MCP client works on: it may make the
//! policy stricter, never looser. So it holds only `[[rules]]` that `deny` or `ask`; an
//! `allow` rule, or any other section (servers, defaults, audit, approval), is an error
//! naming the file and the key. Servers stay out too: a checked-out repository must not be
//! able to define a server that is handed the user's secrets.
//!
//! Its rules form a layer of their own (`policy::Layer`), evaluated after the user's
//! decision and only able to tighten it; their timeouts only shorten a question, and their
//! messages are shown as the project's words, not the user's.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::compile::Config;
use super::error::ConfigError;
use super::raw::RawRule;
use crate::policy::{Action, Source};

#[derive(Deserialize)]
struct RawProject {
    #[serde(default)]
    rules: Vec<RawRule>,
    /// Everything else, to refuse by name.
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

/// Adds the rules of the project file `file` (its text is `text`) as a layer after the
/// user's.
pub(crate) fn merge_project(
    config: Config,
    text: &str,
    file: &Path,
) -> Result<Config, ConfigError> {
    let raw: RawProject =
        toml::from_str(text).map_err(|e| super::load::parse_error(&e, text, file))?;
    let invalid = |key: &str, message: String| ConfigError::Invalid {
        file: file.to_owned(),
        key: key.to_owned(),
        message,
    };
    if let Some(key) = raw.other.keys().next() {
        return Err(invalid(
            key,
            "cannot be set in a project's peta.toml, which may only add [[rules]] that deny or ask"
                .into(),
        ));
    }
    if let Some((i, rule)) = raw
        .rules
        .iter()
        .enumerate()
        .find(|(_, r)| r.action == Action::Allow)
    {
        return Err(invalid(
            &format!("rules[{i}].action"),
            format!(
                "is allow in rule {:?}: a project's peta.toml may only add rules that deny or ask",
                rule.id
            ),
        ));
    }
    let mut config = config;
    config.policy.add_layer(Source::Project(file.to_owned()));
    super::policy::add_rules(&mut config.policy, raw.rules, &invalid)?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::value::RawValue;

    use super::*;
    use crate::config::parse;
    use crate::policy::{Call, Subject};

    const USER: &str = r#"
        [audit]
        enabled = true
        [[rules]]
        id = "writes"
        tool = "write_*"
        action = "allow"
    "#;

    fn user() -> Config {
        parse(USER, Path::new("user.toml")).expect("user config")
    }

    fn merge(project: &str) -> Result<Config, ConfigError> {
        merge_project(user(), project, Path::new("/repo/peta.toml"))
    }

    #[track_caller]
    fn refused(project: &str) -> (String, String) {
        match merge(project) {
            Err(ConfigError::Invalid { file, key, message }) => {
                assert_eq!(
                    file,
                    Path::new("/repo/peta.toml"),
                    "the project file is named"
                );
                (key, message)
            }
            other => panic!("expected a refusal of\n{project}\ngot {other:?}"),
        }
    }

    #[test]
    fn deny_and_ask_rules_are_added_after_the_users() {
        let config = merge(
            r#"
            [[rules]]
            id = "no-secrets"
            tool = "write_*"
            action = "deny"
            args = { "/path" = { glob = "**/.env" } }
            [[rules]]
            id = "careful"
            tool = "write_config"
            action = "ask"
            timeout = "1m"
            "#,
        )
        .expect("merges");
        let ids: Vec<(&Source, &str)> = config
            .policy
            .all_rules()
            .map(|(source, r)| (source, r.id.as_str()))
            .collect();
        let project = Source::Project("/repo/peta.toml".into());
        assert_eq!(
            ids,
            [
                (&Source::User, "writes"),
                (&project, "no-secrets"),
                (&project, "careful")
            ]
        );
        assert_eq!(config.policy.layers().len(), 1);
        assert_eq!(config.policy.layers()[0].rules().len(), 2);
        let decide = |tool: &str, args: &str| {
            let args = RawValue::from_string(args.to_owned()).expect("json");
            config
                .policy
                .evaluate(&Call {
                    server: Some("fs"),
                    subject: Subject::Tool(tool),
                    arguments: Some(&args),
                    annotations: None,
                })
                .action
        };
        // The project's deny overrides the user's allow; its ask tightens it.
        assert_eq!(
            decide("write_file", r#"{"path": "app/.env"}"#),
            Action::Deny
        );
        assert_eq!(
            decide("write_file", r#"{"path": "app/main.rs"}"#),
            Action::Allow
        );
        assert_eq!(decide("write_config", "{}"), Action::Ask);
        // Nothing else changed.
        assert_eq!(config.audit, user().audit);
    }

    #[test]
    fn project_rules_only_tighten_whatever_the_default() {
        let user = |text: &str| parse(text, Path::new("user.toml")).expect("user config");
        let decide = |config: &Config, tool: &str| {
            config.policy.evaluate(&Call {
                server: Some("s"),
                subject: Subject::Tool(tool),
                arguments: None,
                annotations: None,
            })
        };
        let project = "[[rules]]\nid = \"p-ask\"\ntool = \"*\"\naction = \"ask\"\ntimeout = \"60m\"\nmessage = \"from the repo\"\n";
        for (user_text, tool, expected, decider) in [
            // The user's default deny stays a deny.
            (
                "[defaults]\ndefault_action = \"deny\"\n",
                "x",
                Action::Deny,
                "default",
            ),
            // So does a deny rule, and an ask stays the user's ask.
            (
                "[[rules]]\nid = \"u\"\ntool = \"x\"\naction = \"deny\"\n",
                "x",
                Action::Deny,
                "u",
            ),
            (
                "[[rules]]\nid = \"u\"\ntool = \"x\"\naction = \"ask\"\n",
                "x",
                Action::Ask,
                "u",
            ),
            // An allow, by rule or by default, becomes the project's ask.
            (
                "[[rules]]\nid = \"u\"\ntool = \"x\"\naction = \"allow\"\n",
                "x",
                Action::Ask,
                "p-ask",
            ),
            (
                "[defaults]\ndefault_action = \"allow\"\n",
                "x",
                Action::Ask,
                "p-ask",
            ),
        ] {
            let config = merge_project(user(user_text), project, Path::new("/repo/peta.toml"))
                .expect("merges");
            let d = decide(&config, tool);
            assert_eq!(
                (d.action, d.decider.label()),
                (expected, decider),
                "{user_text}"
            );
            // Never longer than the user's 45 s default.
            assert_eq!(d.timeout, std::time::Duration::from_secs(45), "{user_text}");
            if decider == "p-ask" {
                assert_eq!(d.source, Source::Project("/repo/peta.toml".into()));
                assert_eq!(
                    d.message_for_people().as_deref(),
                    Some("(the project's /repo/peta.toml says:) from the repo")
                );
            } else {
                assert_eq!(d.source, Source::User);
            }
        }
    }

    #[test]
    fn an_allow_rule_is_refused_naming_the_file_and_rule() {
        let (key, message) = refused(
            r#"
            [[rules]]
            id = "fine"
            action = "deny"
            [[rules]]
            id = "sneaky"
            tool = "*"
            action = "allow"
            "#,
        );
        assert_eq!(key, "rules[1].action");
        assert!(message.contains("\"sneaky\""), "{message}");
        assert!(
            message.contains("only add rules that deny or ask"),
            "{message}"
        );
    }

    #[test]
    fn other_sections_are_refused_by_name() {
        for (project, key) in [
            ("[audit]\nenabled = false\n", "audit"),
            ("[approval]\ntimeout = \"1h\"\n", "approval"),
            ("[defaults]\ndefault_action = \"allow\"\n", "defaults"),
            ("[servers.evil]\ncommand = [\"sh\"]\n", "servers"),
            ("[relay]\nmax_line_bytes = 2048\n", "relay"),
            ("x = 1\n", "x"),
        ] {
            let (got, message) = refused(project);
            assert_eq!(got, key, "{project}");
            assert!(message.contains("only add [[rules]]"), "{message}");
        }
    }

    #[test]
    fn project_rules_are_checked_like_the_users() {
        let (key, message) = refused("[[rules]]\nid = \"writes\"\naction = \"deny\"\n");
        assert_eq!(key, "rules[0].id");
        assert!(
            message.contains("a rule of the user configuration"),
            "{message}"
        );
        let (key, _) = refused("[[rules]]\nid = \"a\"\naction = \"deny\"\ntool = \"[\"\n");
        assert_eq!(key, "rules[0].tool");
        let (key, message) = refused(
            "[[rules]]\nid = \"a\"\naction = \"deny\"\n[[rules]]\nid = \"a\"\naction = \"ask\"\n",
        );
        assert_eq!(key, "rules[1].id");
        assert!(message.contains("rules[0]"), "{message}");
        assert!(matches!(
            merge("[[rules]]\nid = \"a\"\naction = \"deny\"\ntol = \"x\"\n"),
            Err(ConfigError::Parse { suggestion: Some(s), .. }) if s == "tool"
        ));
    }
}
