//! Table tests of the engine, with policies written as the user writes them (TOML), and a
//! property test that evaluation never panics and `explain` agrees with `evaluate`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::engine::{BUILTIN_DEFAULT, DEFAULT_TIMEOUT, Decider, Decision};
use super::*;

fn policy(toml: &str) -> Policy {
    crate::config::parse(toml, Path::new("peta.toml"))
        .unwrap_or_else(|e| panic!("{e}\n{toml}"))
        .policy
}

fn raw(json: &str) -> Box<RawValue> {
    RawValue::from_string(json.to_owned()).unwrap_or_else(|e| panic!("{json}: {e}"))
}

/// Decides a `tools/call` of `tool` on `server` with `args` (JSON text, "" for none).
#[track_caller]
fn decide(policy: &Policy, server: &str, tool: &str, args: &str) -> Decision {
    let args = (!args.is_empty()).then(|| raw(args));
    policy.evaluate(&Call {
        server: Some(server),
        subject: Subject::Tool(tool),
        arguments: args.as_deref(),
        annotations: None,
    })
}

#[track_caller]
fn action(policy: &Policy, server: &str, tool: &str, args: &str) -> Action {
    decide(policy, server, tool, args).action
}

#[test]
fn every_predicate_holds_or_not_as_documented() {
    // (the tests on "/x", arguments, whether an allow rule with them matches)
    let table: &[(&str, &str, bool)] = &[
        (r#"eq = "a""#, r#"{"x": "a"}"#, true),
        (r#"eq = "a""#, r#"{"x": "A"}"#, false),
        (r#"eq = "a""#, r#"{"x": ["a"]}"#, false),
        ("eq = 1", r#"{"x": 1}"#, true),
        ("eq = 1", r#"{"x": 1.0}"#, true),
        ("eq = 1", r#"{"x": 1e0}"#, true),
        ("eq = 1", r#"{"x": "1"}"#, false),
        ("eq = 1", r#"{"x": true}"#, false),
        ("eq = 1.5", r#"{"x": 1.5}"#, true),
        ("eq = 1.5", r#"{"x": 1}"#, false),
        ("eq = true", r#"{"x": true}"#, true),
        ("eq = true", r#"{"x": "true"}"#, false),
        ("eq = 9007199254740993", r#"{"x": 9007199254740993}"#, true),
        ("eq = 9007199254740993", r#"{"x": 9007199254740992}"#, false),
        (
            "eq = { a = 1, b = [1, 2] }",
            r#"{"x": {"b": [1, 2.0], "a": 1}}"#,
            true,
        ),
        ("eq = { a = 1, b = [1, 2] }", r#"{"x": {"a": 1}}"#, false),
        ("eq = { a = 1 }", r#"{"x": {"a": 1, "b": 2}}"#, false),
        ("eq = [1, 2]", r#"{"x": [2, 1]}"#, false),
        (r#"one_of = ["a", 2]"#, r#"{"x": "a"}"#, true),
        (r#"one_of = ["a", 2]"#, r#"{"x": 2.0}"#, true),
        (r#"one_of = ["a", 2]"#, r#"{"x": "b"}"#, false),
        (r#"one_of = ["a", 2]"#, r#"{"x": "2"}"#, false),
        (r#"glob = "/etc/**""#, r#"{"x": "/etc/passwd"}"#, true),
        (
            r#"glob = "/etc/**""#,
            r#"{"x": "/etc/ssh/sshd_config"}"#,
            true,
        ),
        (r#"glob = "/etc/**""#, r#"{"x": "/ETC/passwd"}"#, false),
        (r#"glob = "/etc/**""#, r#"{"x": "/tmp/etc/x"}"#, false),
        (r#"glob = "/etc/**""#, r#"{"x": ["/etc/passwd"]}"#, false),
        (r#"glob = "*.txt""#, r#"{"x": "a/b.txt"}"#, true),
        (r#"glob = "*.txt""#, r#"{"x": "a.txt.sh"}"#, false),
        (r#"regex = "rm -rf""#, r#"{"x": "sudo rm -rf /"}"#, true),
        (r#"regex = "^ls$""#, r#"{"x": "ls"}"#, true),
        (r#"regex = "^ls$""#, r#"{"x": "ls -l"}"#, false),
        (r#"regex = "^ls$""#, r#"{"x": "ls\n"}"#, false),
        (r#"regex = "^ls$""#, r#"{"x": 5}"#, false),
        ("lt = 10", r#"{"x": 9}"#, true),
        ("lt = 10", r#"{"x": 9.99}"#, true),
        ("lt = 10", r#"{"x": -1e300}"#, true),
        ("lt = 10", r#"{"x": 10}"#, false),
        ("lt = 10", r#"{"x": 10.0}"#, false),
        ("lt = 10", r#"{"x": "5"}"#, false),
        ("gt = 1.5", r#"{"x": 2}"#, true),
        ("gt = 1.5", r#"{"x": 1.5}"#, false),
        ("gt = 1.5", r#"{"x": 1}"#, false),
        // Exact beyond 2^53, where doubles would call these equal.
        ("gt = 9007199254740992", r#"{"x": 9007199254740993}"#, true),
        (
            "gt = 9007199254740992",
            r#"{"x": 18446744073709551615}"#,
            true,
        ),
        (
            "lt = -9007199254740992",
            r#"{"x": -9007199254740993}"#,
            true,
        ),
        ("lt = 0", r#"{"x": -0.0}"#, false),
        (r#"contains = "secret""#, r#"{"x": "my-secret-file"}"#, true),
        (r#"contains = "secret""#, r#"{"x": "SECRET"}"#, false),
        (r#"contains = "secret""#, r#"{"x": ["a", "secret"]}"#, true),
        (r#"contains = "secret""#, r#"{"x": ["my-secret"]}"#, false),
        (r#"contains = "secret""#, r#"{"x": 5}"#, false),
        ("contains = 2", r#"{"x": [1, 2.0]}"#, true),
        ("contains = 2", r#"{"x": [1, "2"]}"#, false),
        ("contains = 2", r#"{"x": "2"}"#, false),
        ("contains = { a = 1 }", r#"{"x": [{"a": 1}]}"#, true),
        // Several tests on one value: all must hold.
        ("gt = 0\nlt = 10", r#"{"x": 5}"#, true),
        ("gt = 0\nlt = 10", r#"{"x": 10}"#, false),
        ("gt = 0\nlt = 10", r#"{"x": -1}"#, false),
        // A missing value never holds.
        (r#"eq = "a""#, r#"{"y": "a"}"#, false),
        (r#"eq = "a""#, "{}", false),
        (r#"eq = "a""#, "", false),
    ];
    for &(tests, args, matches) in table {
        let p = policy(&format!(
            "[[rules]]\nid = \"r\"\ntool = \"t\"\naction = \"allow\"\n[rules.args.\"/x\"]\n{tests}\n"
        ));
        let expected = if matches { Action::Allow } else { Action::Ask };
        assert_eq!(action(&p, "s", "t", args), expected, "{tests} on {args}");
    }
}

/// A policy with one rule of `action` on tool `t` with `tests` on `/x`, on the pretend
/// machine of `path::tests::Fake` (working directory /srv/app, home /home/me, /srv/app/etc
/// a link to /etc).
fn one_rule(action: &str, tests: &str) -> Policy {
    let mut p = policy(&format!(
        "[defaults]\ndefault_action = \"ask\"\n[[rules]]\nid = \"r\"\ntool = \"t\"\naction = \"{action}\"\n[rules.args.\"/x\"]\n{tests}\n"
    ));
    p.host = Arc::new(super::path::tests::Fake::new());
    p
}

#[test]
fn deny_and_ask_match_every_reading_a_lenient_server_could_make() {
    // (the tests on "/x", arguments): a deny rule matches, and an allow rule with the same
    // tests does not (it reads only the value as sent).
    let table: &[(&str, &str)] = &[
        // Booleans: pydantic's words, numbers, truthiness.
        ("eq = true", r#"{"x": "true"}"#),
        ("eq = true", r#"{"x": "YES"}"#),
        ("eq = true", r#"{"x": "on"}"#),
        ("eq = true", r#"{"x": "1"}"#),
        ("eq = true", r#"{"x": "t"}"#),
        ("eq = true", r#"{"x": 1}"#),
        ("eq = true", r#"{"x": 1.0}"#),
        ("eq = true", r#"{"x": "false"}"#),
        ("eq = true", r#"{"x": [0]}"#),
        ("eq = false", r#"{"x": "off"}"#),
        ("eq = false", r#"{"x": 0}"#),
        ("eq = false", r#"{"x": ""}"#),
        ("eq = false", r#"{"x": null}"#),
        ("eq = false", r#"{"x": []}"#),
        // Numbers from strings, booleans and floats; and back.
        ("one_of = [511, 777]", r#"{"x": "511"}"#),
        ("one_of = [511, 777]", r#"{"x": "0511"}"#),
        ("one_of = [511, 777]", r#"{"x": "511.0"}"#),
        ("one_of = [511, 777]", r#"{"x": " +7_77 "}"#),
        ("one_of = [511, 777]", r#"{"x": "0777"}"#),
        ("one_of = [511, 777]", r#"{"x": "0x1ff"}"#),
        ("one_of = [511, 777]", r#"{"x": "0o777"}"#),
        ("one_of = [511, 777]", r#"{"x": "5.11e2"}"#),
        ("one_of = [511, 777]", r#"{"x": "511abc"}"#),
        ("one_of = [511, 777]", r#"{"x": 511.5}"#),
        ("eq = 1", r#"{"x": true}"#),
        ("gt = 100", r#"{"x": "[1000]"}"#),
        ("lt = 0", r#"{"x": "-1"}"#),
        ("gt = 1e300", r#"{"x": "inf"}"#),
        (r#"eq = "511""#, r#"{"x": 511}"#),
        (r#"eq = "true""#, r#"{"x": true}"#),
        ("contains = 2", r#"{"x": "[1, 2]"}"#),
        // JSON inside strings.
        (r#"eq = ["/etc/shadow"]"#, r#"{"x": "[\"/etc/shadow\"]"}"#),
        (
            r#"glob = "/etc/**""#,
            r#"{"x": "[\"/tmp/a\", \"/etc/shadow\"]"}"#,
        ),
        (
            r#"glob = "/etc/**""#,
            r#"{"x": "{\"a\": {\"b\": \"/etc/shadow\"}}"}"#,
        ),
        (r#"glob = "/etc/**""#, r#"{"x": "\"/etc/shadow\""}"#),
        (r#"glob = "/etc/**""#, r#"{"x": "[NaN, \"/etc/shadow\"]"}"#),
        (r#"regex = "^rm""#, r#"{"x": "[\"rm -rf /\"]"}"#),
        // Paths, by glob and by path.
        (r#"glob = "/etc/**""#, r#"{"x": "//etc/passwd"}"#),
        (r#"glob = "/etc/**""#, r#"{"x": "/tmp/../etc/passwd"}"#),
        (r#"glob = "/etc/**""#, r#"{"x": " /etc/passwd"}"#),
        (r#"glob = "/etc/**""#, r#"{"x": "etc/passwd"}"#),
        (r#"glob = "/etc/**""#, r#"{"x": "file:///etc/passwd"}"#),
        (r#"glob = "/home/me/.ssh/**""#, r#"{"x": "~/.ssh/id_rsa"}"#),
        (r#"glob = "/root/**""#, r#"{"x": "~root/.bashrc"}"#),
        (r#"path = "/etc/**""#, r#"{"x": "/etc"}"#),
        (r#"path = "/etc/**""#, r#"{"x": "/etc/./passwd"}"#),
        (r#"path = "/etc/**""#, r#"{"x": "../../etc/passwd"}"#),
        (r#"path = "/etc/**""#, r#"{"x": "/srv/app/etc/new.conf"}"#),
        (r#"path = "/etc/*""#, r#"{"x": "hosts"}"#),
    ];
    for &(tests, args) in table {
        let deny = decide(&one_rule("deny", tests), "s", "t", args);
        assert_eq!(
            (deny.action, &deny.decider),
            (Action::Deny, &Decider::Rule("r".into())),
            "deny {tests} on {args}"
        );
        assert!(deny.reason.contains("rule `r` matched"), "{}", deny.reason);
        assert_eq!(
            action(&one_rule("ask", tests), "s", "t", args),
            Action::Ask,
            "ask {tests} on {args}"
        );
        // (A `path` test reads paths as the server opens them under allow too; see below.)
        if !tests.starts_with("path") {
            let allow = decide(&one_rule("allow", tests), "s", "t", args);
            assert_eq!(
                allow.decider,
                Decider::Default,
                "an allow {tests} must not match {args}"
            );
        }
    }
}

#[test]
fn lenient_readings_do_not_invent_matches() {
    for (tests, args) in [
        ("eq = true", r#"{"x": false}"#),
        ("eq = true", r#"{"x": 0}"#),
        ("eq = true", r#"{"x": ""}"#),
        ("eq = false", r#"{"x": "yes"}"#),
        ("one_of = [511, 777]", r#"{"x": "0644"}"#),
        ("one_of = [511, 777]", r#"{"x": 644}"#),
        ("one_of = [511, 777]", r#"{"x": "abc"}"#),
        (r#"glob = "/etc/**""#, r#"{"x": "/tmp/etc/passwd"}"#),
        (r#"glob = "/etc/**""#, r#"{"x": "[\"/tmp/x\"]"}"#),
        (r#"glob = "/etc/**""#, r#"{"x": "{\"a\": \"/tmp/x\"}"}"#),
        (r#"path = "/etc/*""#, r#"{"x": "/etc/ssh/sshd_config"}"#),
        (r#"path = "/etc/**""#, r#"{"x": "/etcetera"}"#),
        (r#"regex = "password""#, r#"{"x": "{\"user\": \"me\"}"}"#),
        (r#"contains = "secret""#, r#"{"x": "[\"public\"]"}"#),
    ] {
        let d = decide(&one_rule("deny", tests), "s", "t", args);
        assert_eq!(
            d.decider,
            Decider::Default,
            "deny {tests} on {args}: {}",
            d.reason
        );
    }
}

#[test]
fn an_allow_path_test_holds_only_when_every_opened_path_matches() {
    for (args, allowed) in [
        (r#"{"x": "/srv/app/src/main.rs"}"#, true),
        (r#"{"x": "/srv/app//src/./main.rs"}"#, true),
        (r#"{"x": "src/main.rs"}"#, true),
        (r#"{"x": "/srv/app"}"#, true),
        (r#"{"x": "/srv/app/../etc/passwd"}"#, false),
        (r#"{"x": "/srv/app/etc/passwd"}"#, false),
        (r#"{"x": "etc/passwd"}"#, false),
        (r#"{"x": "hosts"}"#, false),
        (r#"{"x": "../x"}"#, false),
        (r#"{"x": "~/x"}"#, false),
        (r#"{"x": 5}"#, false),
        (r#"{"x": ["/srv/app/a"]}"#, false),
    ] {
        let p = one_rule("allow", r#"path = "/srv/app/**""#);
        let expected = if allowed { Action::Allow } else { Action::Ask };
        assert_eq!(action(&p, "s", "t", args), expected, "{args}");
    }
    // Without a working directory, a relative path cannot be known to be inside.
    let mut p = one_rule("allow", r#"path = "/srv/app/**""#);
    p.host = Arc::new(super::path::Lexical);
    assert_eq!(action(&p, "s", "t", r#"{"x": "src/main.rs"}"#), Action::Ask);
    assert_eq!(
        action(&p, "s", "t", r#"{"x": "/srv/app/src"}"#),
        Action::Allow
    );
}

#[test]
fn a_lenient_match_is_explained_with_the_reading() {
    for (tests, args, expected) in [
        (
            "eq = true",
            r#"{"x": "yes"}"#,
            r#"/x eq true: got "yes", which a lenient server may read as true (a boolean word, as pydantic reads it)"#,
        ),
        (
            r#"glob = "/etc/**""#,
            r#"{"x": "//etc/passwd"}"#,
            r#"/x glob "/etc/**": got "//etc/passwd", which a lenient server may read as "/etc/passwd" (normalised)"#,
        ),
        (
            r#"glob = "/etc/**""#,
            r#"{"x": "/srv/app/etc/passwd"}"#,
            r#"/x glob "/etc/**": got "/srv/app/etc/passwd", which a lenient server may read as "/etc/passwd" (symlinks followed)"#,
        ),
    ] {
        let d = decide(&one_rule("deny", tests), "s", "t", args);
        assert_eq!(
            d.reason,
            format!("rule `r` matched: tool \"t\", {expected}"),
            "{args}"
        );
    }
    let p = policy(
        "[[rules]]\nid = \"r\"\naction = \"deny\"\nargs = { \"/paths/0\" = { glob = \"/etc/**\" } }\n",
    );
    let d = decide(&p, "s", "t", r#"{"paths": "[\"/etc/shadow\"]"}"#);
    assert_eq!(
        d.reason,
        r#"rule `r` matched: tool "*", /paths/0 glob "/etc/**": found "/etc/shadow" inside a string holding JSON"#
    );
}

#[test]
fn pointers_reach_into_objects_and_arrays() {
    let p = policy(
        r#"
        [[rules]]
        id = "r"
        action = "allow"
        args = { "/options/recursive" = { eq = false }, "/files/0" = { glob = "*.rs" }, "/a~1b" = { eq = 1 } }
        "#,
    );
    let ok = r#"{"options": {"recursive": false}, "files": ["main.rs", "x.sh"], "a/b": 1}"#;
    assert_eq!(action(&p, "s", "t", ok), Action::Allow);
    for miss in [
        r#"{"options": {"recursive": true}, "files": ["main.rs"], "a/b": 1}"#,
        r#"{"options": {}, "files": ["main.rs"], "a/b": 1}"#,
        r#"{"options": {"recursive": false}, "files": ["x.sh", "main.rs"], "a/b": 1}"#,
        r#"{"options": {"recursive": false}, "files": ["main.rs"], "a": {"b": 1}}"#,
    ] {
        assert_eq!(action(&p, "s", "t", miss), Action::Ask, "{miss}");
    }
}

#[test]
fn a_value_of_the_wrong_type_satisfies_deny_and_ask_but_not_allow() {
    let rules = |action: &str| {
        policy(&format!(
            r#"
            [defaults]
            default_action = "deny"
            [[rules]]
            id = "r"
            action = "{action}"
            args = {{ "/count" = {{ gt = 100 }} }}
            "#
        ))
    };
    let deny = rules("deny");
    // A server may read "1000" as the number the rule guards against.
    let d = decide(&deny, "s", "t", r#"{"count": "1000"}"#);
    assert_eq!(
        (d.action, &d.decider),
        (Action::Deny, &Decider::Rule("r".into()))
    );
    assert!(
        d.reason.contains("got a string, which gt cannot test"),
        "{}",
        d.reason
    );
    // A number within bounds, or no value at all, does not match.
    assert_eq!(
        decide(&deny, "s", "t", r#"{"count": 5}"#).decider,
        Decider::Default
    );
    assert_eq!(decide(&deny, "s", "t", "{}").decider, Decider::Default);
    let ask = rules("ask");
    assert_eq!(action(&ask, "s", "t", r#"{"count": null}"#), Action::Ask);
    let allow = rules("allow");
    assert_eq!(
        action(&allow, "s", "t", r#"{"count": "1000"}"#),
        Action::Deny
    );
    assert_eq!(
        action(&allow, "s", "t", r#"{"count": 1000}"#),
        Action::Allow
    );
}

#[test]
fn deny_wins_over_ask_over_allow_over_the_default() {
    let text = |order: [&str; 3]| {
        let rule = |which: &str| match which {
            "allow" => "[[rules]]\nid = \"all\"\naction = \"allow\"\n",
            "ask" => "[[rules]]\nid = \"writes\"\ntool = \"write_*\"\naction = \"ask\"\n",
            _ => {
                "[[rules]]\nid = \"etc\"\ntool = \"write_*\"\naction = \"deny\"\nmessage = \"no\"\nargs = { \"/path\" = { glob = \"/etc/**\" } }\n"
            }
        };
        order.map(rule).concat()
    };
    for order in [
        ["allow", "ask", "deny"],
        ["deny", "ask", "allow"],
        ["ask", "deny", "allow"],
    ] {
        let p = policy(&text(order));
        let d = decide(&p, "s", "write_file", r#"{"path": "/etc/hosts"}"#);
        assert_eq!(d.action, Action::Deny, "{order:?}");
        assert_eq!(d.decider, Decider::Rule("etc".into()));
        assert_eq!(d.message.as_deref(), Some("no"));
        let d = decide(&p, "s", "write_file", r#"{"path": "/tmp/x"}"#);
        assert_eq!(
            (d.action, d.decider),
            (Action::Ask, Decider::Rule("writes".into()))
        );
        let d = decide(&p, "s", "read_file", r#"{"path": "/etc/hosts"}"#);
        assert_eq!(
            (d.action, d.decider),
            (Action::Allow, Decider::Rule("all".into()))
        );
    }
    let none = policy("");
    let d = decide(&none, "s", "read_file", "");
    assert_eq!((d.action, d.decider), (BUILTIN_DEFAULT, Decider::Default));
}

#[test]
fn among_rules_of_one_action_the_first_decides() {
    let p = policy(
        r#"
        [[rules]]
        id = "first"
        tool = "read_*"
        action = "allow"
        [[rules]]
        id = "second"
        action = "allow"
        "#,
    );
    let d = decide(&p, "s", "read_file", "");
    assert_eq!(d.decider, Decider::Rule("first".into()));
    assert_eq!(
        d.reason, r#"rule `first` matched: tool "read_*""#,
        "the reason names the rule and what it matched"
    );
}

#[test]
fn the_reason_names_the_rule_and_the_predicates() {
    let p = policy(
        r#"
        [[rules]]
        id = "no-rm"
        server = "fs"
        tool = "delete_*"
        action = "deny"
        args = { "/path" = { glob = "/etc/**" } }
        "#,
    );
    let d = decide(&p, "fs", "delete_file", r#"{"path": "/etc/x"}"#);
    assert_eq!(
        d.reason,
        r#"rule `no-rm` matched: server "fs", tool "delete_*", /path glob "/etc/**""#
    );
}

#[test]
fn defaults_per_server_then_defaults_then_ask() {
    let p = policy(
        r#"
        [defaults]
        default_action = "deny"
        [servers.trusted]
        default_action = "allow"
        [servers.plain]
        command = ["x"]
        "#,
    );
    let d = decide(&p, "trusted", "anything", "");
    assert_eq!((d.action, d.decider), (Action::Allow, Decider::Default));
    assert!(
        d.reason.contains("[servers.trusted] default_action"),
        "{}",
        d.reason
    );
    let d = decide(&p, "plain", "anything", "");
    assert_eq!(d.action, Action::Deny);
    assert!(
        d.reason.contains("[defaults] default_action"),
        "{}",
        d.reason
    );
    let unnamed = p.evaluate(&Call {
        server: None,
        subject: Subject::Tool("anything"),
        arguments: None,
        annotations: None,
    });
    assert_eq!(unnamed.action, Action::Deny);
    let d = decide(&policy("[servers.x]\n"), "x", "anything", "");
    assert_eq!(d.action, Action::Ask);
    assert!(d.reason.contains("peta's default"), "{}", d.reason);
}

#[test]
fn names_match_exactly() {
    let p = policy(
        r#"
        [defaults]
        default_action = "allow"
        [[rules]]
        id = "no-delete"
        tool = "delete_*"
        action = "deny"
        [[rules]]
        id = "gh"
        server = "github"
        tool = "café"
        action = "deny"
        "#,
    );
    assert_eq!(action(&p, "s", "delete_file", ""), Action::Deny);
    for lookalike in [
        "Delete_file",
        "DELETE_FILE",
        "\u{ff44}elete_file", // fullwidth d
        "de\u{200b}lete_file",
        " delete_file",
    ] {
        assert_eq!(
            action(&p, "s", lookalike, ""),
            Action::Allow,
            "{lookalike:?}"
        );
    }
    assert_eq!(action(&p, "github", "café", ""), Action::Deny);
    // The same word in decomposed form (e + combining acute) is another name.
    assert_eq!(action(&p, "github", "cafe\u{301}", ""), Action::Allow);
    assert_eq!(action(&p, "GitHub", "café", ""), Action::Allow);
    // A rule for a named server never applies to a server run without a name.
    let unnamed = p.evaluate(&Call {
        server: None,
        subject: Subject::Tool("café"),
        arguments: None,
        annotations: None,
    });
    assert_eq!(unnamed.action, Action::Allow);
}

#[test]
fn a_regex_tool_pattern_matches_the_whole_name() {
    let p = policy(
        r#"
        [[rules]]
        id = "reads"
        tool = "^(read|list)_[a-z]+$"
        action = "allow"
        [[rules]]
        id = "alternation"
        tool = "^get|put$"
        action = "allow"
        "#,
    );
    for (tool, allowed) in [
        ("read_file", true),
        ("list_dir", true),
        ("xread_file", false),
        ("read_file2", false),
        ("read_file\n", false),
        ("Read_file", false),
        ("get", true),
        ("put", true),
        ("get_secret", false),
        ("output", false),
    ] {
        let expected = if allowed { Action::Allow } else { Action::Ask };
        assert_eq!(action(&p, "s", tool, ""), expected, "{tool:?}");
    }
}

#[test]
fn annotations_move_the_default_only_for_trusted_servers() {
    let p = policy(
        r#"
        [servers.trusted]
        trust_annotations = true
        [servers.strict]
        trust_annotations = true
        default_action = "deny"
        [servers.loose]
        trust_annotations = true
        default_action = "allow"
        [servers.untrusted]
        default_action = "ask"
        [[rules]]
        id = "ask-writes"
        tool = "write_*"
        action = "ask"
        [[rules]]
        id = "no-drop"
        tool = "drop_*"
        action = "deny"
        "#,
    );
    let with = |server: &str, tool: &str, annotations: &str| {
        let annotations: Value = serde_json::from_str(annotations).expect("json");
        p.evaluate(&Call {
            server: Some(server),
            subject: Subject::Tool(tool),
            arguments: None,
            annotations: Some(&annotations),
        })
    };
    let read_only = r#"{"readOnlyHint": true}"#;
    let destructive = r#"{"destructiveHint": true}"#;
    let both = r#"{"readOnlyHint": true, "destructiveHint": true}"#;
    for (server, tool, annotations, expected, decider) in [
        (
            "trusted",
            "get",
            read_only,
            Action::Allow,
            Decider::Annotation,
        ),
        ("trusted", "get", destructive, Action::Ask, Decider::Default),
        ("trusted", "get", both, Action::Ask, Decider::Default),
        (
            "trusted",
            "get",
            r#"{"readOnlyHint": "true"}"#,
            Action::Ask,
            Decider::Default,
        ),
        (
            "trusted",
            "get",
            r#"{"readOnlyHint": false}"#,
            Action::Ask,
            Decider::Default,
        ),
        (
            "strict",
            "get",
            read_only,
            Action::Allow,
            Decider::Annotation,
        ),
        ("strict", "get", destructive, Action::Deny, Decider::Default),
        (
            "loose",
            "get",
            destructive,
            Action::Ask,
            Decider::Annotation,
        ),
        ("loose", "get", both, Action::Ask, Decider::Annotation),
        ("loose", "get", read_only, Action::Allow, Decider::Default),
        // A matching rule is never downgraded by a claim.
        (
            "trusted",
            "write_file",
            read_only,
            Action::Ask,
            Decider::Rule("ask-writes".into()),
        ),
        (
            "loose",
            "drop_table",
            read_only,
            Action::Deny,
            Decider::Rule("no-drop".into()),
        ),
        // Untrusted servers, and servers without settings, are not believed.
        ("untrusted", "get", read_only, Action::Ask, Decider::Default),
        ("unknown", "get", read_only, Action::Ask, Decider::Default),
    ] {
        let d = with(server, tool, annotations);
        assert_eq!(
            (d.action, &d.decider),
            (expected, &decider),
            "{server} {tool} {annotations}"
        );
    }
    let ignored = with("untrusted", "get", read_only);
    assert!(
        ignored.reason.contains("annotations are ignored"),
        "{}",
        ignored.reason
    );
    let moved = with("trusted", "get", read_only);
    assert!(
        moved.reason.contains("readOnlyHint: true"),
        "{}",
        moved.reason
    );
}

#[test]
fn only_gated_methods_are_decided_and_rules_name_their_method() {
    let ungated = policy("[[rules]]\nid = \"r\"\naction = \"deny\"\n");
    let resource = Call {
        server: Some("fs"),
        subject: Subject::Resource("file:///home/u/.ssh/id_rsa"),
        arguments: None,
        annotations: None,
    };
    let d = ungated.evaluate(&resource);
    assert_eq!((d.action, d.decider), (Action::Allow, Decider::NotGated));
    assert!(ungated.gates(Method::ToolsCall));
    assert!(!ungated.gates(Method::ResourcesRead));

    let gated = policy(
        r#"
        [defaults]
        gate = ["resources/read", "sampling/createMessage", "tools/call"]
        [[rules]]
        id = "all-tools"
        action = "allow"
        [[rules]]
        id = "ssh"
        method = "resources/read"
        tool = "file:///home/*/.ssh/**"
        action = "deny"
        [[rules]]
        id = "files"
        method = "resources/read"
        tool = "file:///**"
        action = "allow"
        [[rules]]
        id = "no-sampling"
        method = "sampling/createMessage"
        tool = "sampling/createMessage"
        action = "deny"
        "#,
    );
    assert!(gated.gates(Method::ResourcesRead));
    assert!(!gated.gates(Method::PromptsGet));
    let d = gated.evaluate(&resource);
    assert_eq!(
        (d.action, d.decider),
        (Action::Deny, Decider::Rule("ssh".into()))
    );
    let readme = Call {
        subject: Subject::Resource("file:///work/README.md"),
        ..resource
    };
    assert_eq!(
        gated.evaluate(&readme).decider,
        Decider::Rule("files".into())
    );
    // The allow-everything tool rule does not reach other methods.
    let other = Call {
        subject: Subject::Resource("https://example.com/"),
        ..resource
    };
    assert_eq!(gated.evaluate(&other).decider, Decider::Default);
    let sampling = Call {
        subject: Subject::new(Method::SamplingCreateMessage, "ignored"),
        ..resource
    };
    assert_eq!(sampling.subject.name(), "sampling/createMessage");
    assert_eq!(gated.evaluate(&sampling).action, Action::Deny);
    // A tool rule does not reach a tool named like a resource.
    let tool = Call {
        subject: Subject::Tool("file:///home/u/.ssh/id_rsa"),
        ..resource
    };
    assert_eq!(
        gated.evaluate(&tool).decider,
        Decider::Rule("all-tools".into())
    );
}

#[test]
fn prompts_are_matched_by_name_with_their_arguments() {
    let p = policy(
        r#"
        [defaults]
        gate = ["prompts/get"]
        [[rules]]
        id = "review"
        method = "prompts/get"
        tool = "code_review"
        action = "allow"
        args = { "/language" = { one_of = ["rust", "python"] } }
        "#,
    );
    let args = raw(r#"{"language": "rust"}"#);
    let call = Call {
        server: Some("s"),
        subject: Subject::Prompt("code_review"),
        arguments: Some(&args),
        annotations: None,
    };
    assert_eq!(p.evaluate(&call).action, Action::Allow);
    let args = raw(r#"{"language": "bash"}"#);
    assert_eq!(
        p.evaluate(&Call {
            arguments: Some(&args),
            ..call
        })
        .action,
        Action::Ask
    );
}

#[test]
fn timeouts_come_from_the_rule_then_the_defaults() {
    let p = policy(
        r#"
        [defaults]
        timeout = "30s"
        [[rules]]
        id = "slow"
        tool = "deploy"
        action = "ask"
        timeout = "2m"
        "#,
    );
    assert_eq!(
        decide(&p, "s", "deploy", "").timeout,
        Duration::from_secs(120)
    );
    assert_eq!(
        decide(&p, "s", "other", "").timeout,
        Duration::from_secs(30)
    );
    assert_eq!(decide(&policy(""), "s", "x", "").timeout, DEFAULT_TIMEOUT);
    assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(45));
}

#[test]
fn unreadable_arguments_mean_deny_when_a_rule_needs_them() {
    let p = policy(
        r#"
        [defaults]
        default_action = "allow"
        [[rules]]
        id = "small"
        tool = "add"
        action = "allow"
        args = { "/a" = { lt = 10 } }
        "#,
    );
    // 1e400 is valid JSON syntax that no double holds.
    let d = decide(&p, "s", "add", r#"{"a": 1e400}"#);
    assert_eq!((d.action, &d.decider), (Action::Deny, &Decider::Error));
    assert!(d.reason.contains("number out of range"), "{}", d.reason);
    assert_eq!(d.decider.label(), "error");
    // A rule that does not look at arguments does not need to read them.
    assert_eq!(action(&p, "s", "other", r#"{"a": 1e400}"#), Action::Allow);
}

#[test]
fn explain_says_how_every_rule_fared() {
    let p = policy(
        r#"
        [[rules]]
        id = "gh-only"
        server = "github"
        action = "allow"
        [[rules]]
        id = "reads"
        tool = "read_*"
        action = "allow"
        [[rules]]
        id = "etc"
        action = "deny"
        args = { "/path" = { glob = "/etc/**" } }
        [[rules]]
        id = "size"
        action = "ask"
        args = { "/size" = { lt = 10 } }
        [[rules]]
        id = "kind"
        action = "ask"
        args = { "/mode" = { regex = "^w" } }
        "#,
    );
    let args = raw(r#"{"path": "/tmp/\u202ex", "size": 99, "mode": 7}"#);
    let e = p.explain(&Call {
        server: Some("fs"),
        subject: Subject::Tool("write_file"),
        arguments: Some(&args),
        annotations: None,
    });
    let got: Vec<(&str, bool, &str)> = e
        .rules
        .iter()
        .map(|r| (r.id.as_str(), r.matched, r.detail.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("gh-only", false, r#"server "github": got "fs""#),
            ("reads", false, r#"tool "read_*": got "write_file""#),
            (
                "etc",
                false,
                r#"/path glob "/etc/**": got "/tmp/\u{202e}x""#
            ),
            ("size", false, "/size lt 10: got 99"),
            (
                "kind",
                true,
                r#"tool "*", /mode regex "^w": got a number, which regex cannot test, so this ask rule applies"#
            ),
        ]
    );
    assert_eq!(
        e.decision,
        p.evaluate(&Call {
            server: Some("fs"),
            subject: Subject::Tool("write_file"),
            arguments: Some(&args),
            annotations: None,
        })
    );
    assert_eq!(e.decision.decider, Decider::Rule("kind".into()));
}

/// Any JSON value, nested a few levels.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z/.\\-~ ]{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z/~]{0,4}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const FUZZ_POLICY: &str = r#"
[defaults]
gate = ["resources/read"]
[servers.t]
trust_annotations = true
[[rules]]
id = "eq"
action = "allow"
args = { "/a" = { eq = { x = [1, 2.5, "s"] } }, "" = { one_of = [1, "a"] } }
[[rules]]
id = "glob"
tool = "^[a-z]+$"
action = "deny"
args = { "/a" = { glob = "/etc/**" }, "/b/0" = { regex = "^(x|y)+$" } }
[[rules]]
id = "cmp"
server = "t*"
action = "ask"
args = { "/a" = { lt = -3.5, gt = -1e300 }, "/b" = { contains = "a" }, "/c" = { contains = 1 } }
[[rules]]
id = "res"
method = "resources/read"
action = "allow"
args = { "/uri" = { glob = "file:///**" } }
"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// No argument makes evaluation panic, `explain` decides as `evaluate` does, and the
    /// decision is at least as strict as every rule that matched.
    #[test]
    fn evaluation_never_panics_and_explain_agrees(
        args in json(),
        annotations in proptest::option::of(json()),
        server in prop_oneof![Just("t".to_owned()), "[a-z]{0,3}"],
        tool in "[a-zA-Z_]{1,8}",
        resource in any::<bool>(),
    ) {
        let p = policy(FUZZ_POLICY);
        let args = raw(&args.to_string());
        let call = Call {
            server: Some(&server),
            subject: if resource { Subject::Resource(&tool) } else { Subject::Tool(&tool) },
            arguments: Some(&args),
            annotations: annotations.as_ref(),
        };
        let decision = p.evaluate(&call);
        let explanation = p.explain(&call);
        prop_assert_eq!(&explanation.decision, &decision);
        prop_assert_eq!(explanation.rules.len(), p.rules().len());
        for rule in explanation.rules.iter().filter(|r| r.matched) {
            prop_assert!(decision.action >= rule.action, "{:?} under {:?}", decision, rule);
        }
    }

    /// Any spelling a lenient server reads as a denied number is denied, and an allow rule
    /// for that number matches only the number as sent.
    #[test]
    fn any_coerced_spelling_of_a_denied_number_is_denied(
        n in 0u32..100_000,
        zeros in 0usize..3,
        sign in any::<bool>(),
        pad in prop_oneof![Just(""), Just(" "), Just("\n"), Just("\t "), Just("  ")],
        fraction in prop_oneof![Just(""), Just(".0"), Just(".000")],
        underscore in any::<bool>(),
        form in 0u8..6,
    ) {
        let digits = n.to_string();
        let digits = if underscore && digits.len() > 1 {
            format!("{}_{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let spelled = match form {
            0 => json!(format!("{pad}{}{}{digits}{fraction}{pad}", if sign { "+" } else { "" }, "0".repeat(zeros))),
            1 => json!(f64::from(n)),
            2 => json!(format!("{pad}0x{n:x}{pad}")),
            3 => json!(format!("0o{n:o}")),
            4 => json!(format!("{}e{}", f64::from(n) / 1000.0, 3)),
            _ => json!(format!("{n}{}", "abc")),
        };
        let args = json!({"x": spelled}).to_string();
        let deny = one_rule("deny", &format!("one_of = [{n}, 1000001]"));
        prop_assert_eq!(decide(&deny, "s", "t", &args).action, Action::Deny, "{}", args);
        let allow = one_rule("allow", &format!("eq = {n}"));
        let exact = matches!(form, 1);
        prop_assert_eq!(
            decide(&allow, "s", "t", &args).action == Action::Allow,
            exact,
            "{}", args
        );
    }

    /// Any spelling pydantic reads as `true` is denied by `eq = true`.
    #[test]
    fn any_coerced_spelling_of_true_is_denied(
        word in prop_oneof![Just("true"), Just("yes"), Just("on"), Just("1"), Just("t"), Just("y")],
        upper in proptest::collection::vec(any::<bool>(), 5),
        form in 0u8..3,
    ) {
        let cased: String = word
            .chars()
            .zip(upper.iter().cycle())
            .map(|(c, &u)| if u { c.to_ascii_uppercase() } else { c })
            .collect();
        let spelled = match form {
            0 => json!(cased),
            1 => json!(1),
            _ => json!(1.0),
        };
        let args = json!({"x": spelled}).to_string();
        prop_assert_eq!(decide(&one_rule("deny", "eq = true"), "s", "t", &args).action, Action::Deny, "{}", args);
        prop_assert_eq!(decide(&one_rule("allow", "eq = true"), "s", "t", &args).action, Action::Ask, "{}", args);
    }

    /// Any spelling of a path under a denied directory (extra slashes, `.`, detours through
    /// `..`, `~`, relative to the working directory, through a symlink) is denied.
    #[test]
    fn any_spelling_of_a_denied_path_is_denied(
        name in "[a-z]{1,8}",
        detour in proptest::collection::vec(prop_oneof![Just("/"), Just("/./"), Just("//"), Just("/x/../")], 1..4),
        start in 0u8..5,
        trailing in any::<bool>(),
        test in prop_oneof![Just("glob"), Just("path")],
    ) {
        let mut rest = String::new();
        for (i, sep) in detour.iter().enumerate() {
            rest.push_str(sep);
            rest.push_str(if i + 1 == detour.len() { &name } else { "d" });
        }
        let under = format!("{}{}", match start {
            0 => "/home/me/.ssh",
            1 => "~/.ssh",
            2 => "../../home/me/.ssh",
            3 => "/srv/app/../../home/me/.ssh",
            _ => "/srv/app/home-link/.ssh",
        }, rest);
        let path = if trailing { format!("{under}/") } else { under };
        let mut p = one_rule("deny", &format!("{test} = \"/home/me/.ssh/**\""));
        let mut fake = super::path::tests::Fake::new();
        fake.links.insert("/srv/app/home-link".into(), "/home/me".into());
        p.host = Arc::new(fake);
        let args = json!({"x": path}).to_string();
        prop_assert_eq!(decide(&p, "s", "t", &args).action, Action::Deny, "{}", args);
    }

    /// A project's layer never loosens a decision, whatever the user's rules and default,
    /// and a question it leaves or raises never waits longer than the user's would.
    #[test]
    fn a_project_layer_only_tightens(
        args in json(),
        tool in "[a-z_]{1,8}",
        server in prop_oneof![Just("t".to_owned()), "[a-z]{0,3}"],
        default in prop_oneof![Just("allow"), Just("ask"), Just("deny")],
    ) {
        let user = policy(&format!("[defaults]\ndefault_action = \"{default}\"\ntimeout = \"20s\"\n{}", FUZZ_POLICY.replace("[defaults]\n", "")));
        let project = policy(
            r#"
            [[rules]]
            id = "p-ask"
            tool = "^[a-m].*$"
            action = "ask"
            timeout = "60m"
            [[rules]]
            id = "p-deny"
            action = "deny"
            args = { "/a" = { glob = "/etc/**" } }
            [[rules]]
            id = "p-quick"
            tool = "*_*"
            action = "ask"
            timeout = "1s"
            "#,
        );
        let mut layered = user.clone();
        layered.add_layer(Source::Project("/repo/peta.toml".into()));
        for rule in project.rules() {
            prop_assert!(layered.add_rule(rule.clone()).is_ok());
        }
        let args = raw(&args.to_string());
        let call = Call {
            server: Some(&server),
            subject: Subject::Tool(&tool),
            arguments: Some(&args),
            annotations: None,
        };
        let (alone, with) = (user.evaluate(&call), layered.evaluate(&call));
        prop_assert!(with.action >= alone.action, "{:?} became {:?}", alone, with);
        if with.action == Action::Ask {
            let longest = if alone.action == Action::Ask { alone.timeout } else { user.timeout };
            prop_assert!(with.timeout <= longest, "{:?} after {:?}", with, alone);
        }
        if with.action == alone.action {
            prop_assert_eq!(&with.decider, &alone.decider);
        }
    }

    /// Adding an allow rule never makes an allowed call less allowed (P7).
    #[test]
    fn an_added_allow_rule_never_tightens(args in json(), tool in "[a-z_]{1,8}") {
        let before = policy(FUZZ_POLICY);
        let after = policy(&format!(
            "{FUZZ_POLICY}\n[[rules]]\nid = \"more\"\naction = \"allow\"\nargs = {{ \"/a\" = {{ lt = 0 }} }}\n"
        ));
        let args = raw(&args.to_string());
        let call = Call {
            server: Some("t"),
            subject: Subject::Tool(&tool),
            arguments: Some(&args),
            annotations: None,
        };
        let (b, a) = (before.evaluate(&call), after.evaluate(&call));
        prop_assert!(a.action <= b.action, "{:?} became {:?}", b, a);
    }
}
