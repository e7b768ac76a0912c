//! `peta policy test`: what the configured policy decides about a hypothetical call, and
//! how each rule fared, for someone writing or checking rules.

use std::fmt::Write as _;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::cli::{PolicyCommand, PolicyTestArgs};
use crate::config::{self, Config};
use crate::display::visible;
use crate::error::Error;
use crate::exit_code;
use crate::policy::{Action, Call, Decider, Explanation, Method, Source, Subject};
use crate::wire::strict;

pub(crate) fn run(command: PolicyCommand) -> Result<u8, Error> {
    match command {
        PolicyCommand::Test(args) => test(&args),
        PolicyCommand::Replay { db, since } => replay(&db, since.as_deref()),
    }
}

/// Re-decides every gated request the log recorded a final decision for.
fn replay(db: &crate::cli::DbArgs, since: Option<&str>) -> Result<u8, Error> {
    let config = config::load(db.config.as_deref())?;
    let path = db.db.clone().unwrap_or_else(|| config.audit.path.clone());
    let conn = crate::audit::db::open_read(&path)?;
    let since = since
        .map(crate::audit::time::parse_point)
        .transpose()
        .map_err(|e| Error::Usage(format!("--since: {e}")))?;
    let mut statement = conn
        .prepare(
            "SELECT seq, ts, server, method, tool, args, decision, rule FROM events
             WHERE direction = 'c2s' AND kind = 'request' AND decision IN ('allow', 'deny')
               AND tool IS NOT NULL AND (?1 IS NULL OR ts >= ?1) ORDER BY seq",
        )
        .map_err(|e| crate::audit::AuditError::db(&path, e))?;
    type Past = (
        i64,
        String,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        String,
        Option<String>,
    );
    let rows: Vec<Past> = statement
        .query_map([since], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .and_then(Iterator::collect)
        .map_err(|e| crate::audit::AuditError::db(&path, e))?;
    let (mut changed, mut uncertain) = (0, 0);
    for (seq, ts, server, method, tool, args, was, rule) in &rows {
        let method = method
            .as_deref()
            .and_then(Method::from_name)
            .unwrap_or(Method::ToolsCall);
        // The log keeps arguments up to 64 KiB; longer ones cannot be re-examined.
        let arguments = args
            .as_deref()
            .and_then(|a| RawValue::from_string(a.to_owned()).ok());
        if args.is_some() && arguments.is_none() {
            uncertain += 1;
        }
        let decision = config.policy.evaluate(&Call {
            server: server.as_deref(),
            subject: Subject::new(method, tool),
            arguments: arguments.as_deref(),
            annotations: None,
        });
        let now = decision.action.as_str();
        if now != was {
            changed += 1;
            println!(
                "#{seq} {ts} {} {}: was {was} ({}), now {now} ({})",
                visible(server.as_deref().unwrap_or("-")),
                visible(tool),
                rule.as_deref().unwrap_or("-"),
                decision.decider.label()
            );
        }
    }
    eprintln!(
        "{} past calls replayed, {changed} would be decided differently{}",
        rows.len(),
        if uncertain > 0 {
            format!("; {uncertain} had arguments too long to keep, decided without them")
        } else {
            String::new()
        }
    );
    Ok(if changed == 0 {
        exit_code::OK
    } else {
        exit_code::CHECK_FAILED
    })
}

fn test(args: &PolicyTestArgs) -> Result<u8, Error> {
    let mut config = config::load(args.config.as_deref())?;
    // Paths are read as that server would: against the directories its command names too.
    if let Some(argv) = config.server(&args.server).and_then(|s| s.command.clone()) {
        config.policy.host = std::sync::Arc::new(config::LocalHost::here().with_command(&argv));
    }
    let method = Method::from_name(&args.method)
        .ok_or_else(|| Error::Usage(format!("{:?} is not a gated method", args.method)))?;
    let arguments = args
        .args
        .as_deref()
        .map(|text| object("ARGS-JSON", text))
        .transpose()?;
    let annotations = args
        .annotations
        .as_deref()
        .map(|text| object("--annotations", text))
        .transpose()?
        .map(|raw| serde_json::from_str::<Value>(raw.get()))
        .transpose()
        .map_err(|e| Error::NotJsonObject {
            what: "--annotations",
            reason: e.to_string(),
        })?;
    if config.server(&args.server).is_none() {
        eprintln!(
            "note: the configuration has no [servers.{}]; check that the name is the one given to `peta run --server`",
            visible(&args.server)
        );
    }
    let call = Call {
        server: Some(&args.server),
        subject: Subject::new(method, &args.tool),
        arguments: arguments.as_deref(),
        annotations: annotations.as_ref(),
    };
    let explanation = config.policy.explain(&call);
    print!("{}", render(&explanation, &config));
    Ok(match explanation.decision.action {
        Action::Allow => exit_code::OK,
        Action::Ask | Action::Deny => exit_code::CHECK_FAILED,
    })
}

/// Reads a command-line JSON object as strictly as the relay reads a message: one value,
/// no duplicate keys.
fn object(what: &'static str, text: &str) -> Result<Box<RawValue>, Error> {
    let refuse = |reason: String| Error::NotJsonObject { what, reason };
    strict::check(text).map_err(|e| refuse(e.to_string()))?;
    let raw: Box<RawValue> = serde_json::from_str(text).map_err(|e| refuse(e.to_string()))?;
    if !raw.get().starts_with('{') {
        return Err(refuse(format!("it is {}", raw.get())));
    }
    Ok(raw)
}

/// The decision on its own first line, then why, then every rule of every layer.
fn render(explanation: &Explanation, config: &Config) -> String {
    let decision = &explanation.decision;
    let mut out = format!("{}\n{}\n", decision.action, decision.reason);
    if decision.source != Source::User {
        let _ = writeln!(
            out,
            "decided by {}, which can only make your configuration's decision stricter",
            decision.source
        );
    }
    if let Some(message) = &decision.message {
        match decision.source {
            Source::User => {
                let _ = writeln!(out, "message: {}", visible(message));
            }
            _ => {
                let _ = writeln!(
                    out,
                    "message (written by {}, not by you): {}",
                    decision.source,
                    visible(message)
                );
            }
        }
    }
    if decision.action == Action::Ask {
        let _ = writeln!(
            out,
            "a person is asked, and no answer within {:?} means deny",
            decision.timeout
        );
    }
    if decision.decider == Decider::NotGated {
        return out;
    }
    out.push('\n');
    let total = config.policy.all_rules().count();
    if total == 0 {
        out.push_str("no rules are configured\n");
        return out;
    }
    let width = explanation
        .rules
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(0);
    let mut heading = None;
    for rule in &explanation.rules {
        if heading != Some(&rule.source) {
            heading = Some(&rule.source);
            let _ = match &rule.source {
                Source::User => {
                    writeln!(out, "rules, in order (deny wins over ask, ask over allow):")
                }
                source => writeln!(
                    out,
                    "rules of {source}, which can only make the decision stricter:"
                ),
            };
        }
        let _ = writeln!(
            out,
            "  {:<8}  {:<width$}  {:<5}  {}",
            if rule.matched { "matched" } else { "no match" },
            rule.id,
            rule.action,
            rule.detail
        );
    }
    let unchecked = total - explanation.rules.len();
    if unchecked > 0 {
        let _ = writeln!(
            out,
            "  ({unchecked} more not checked: evaluation stopped there)"
        );
    }
    out
}
