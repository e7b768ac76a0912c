//! `peta run`: start a server behind the relay and pass on its exit code.

use std::ffi::OsString;
use std::io;
use std::sync::Arc;

use serde_json::json;

use tokio::sync::mpsc;

use crate::approval::console::{Console, OnLate};
use crate::approval::elicit::Elicitation;
use crate::approval::terminal::Terminal;
use crate::approval::{Approver, Channel, Grants};
use crate::audit::{AuditLog, Event};
use crate::cli::RunArgs;
use crate::config::{self, Config};
use crate::error::Error;
use crate::pins::Pins;
use crate::proxy::gate::{Gate, LATE_ANSWERS, Pinning, Questions};
use crate::proxy::session::Outcome;
use crate::proxy::{child, session, sys};
use crate::secrets::{self, redact::Redactor};

pub(crate) fn run(args: RunArgs) -> Result<u8, Error> {
    let config = config::load(args.config.as_deref())?;
    let plan = plan(args, &config)?;
    tracing::debug!(server = plan.name.as_deref(), command = ?plan.argv, "starting");
    // Before any secret is in memory: no core dumps, no ptrace or /proc/<pid>/environ
    // reads by other processes of the user (the server included).
    sys::harden();
    // Forked while peta is still single-threaded, and before secrets are resolved, so its
    // copy of peta's memory holds none.
    let mut watchdog = sys::Watchdog::start(plan.grace)
        .map_err(|e| Error::io("cannot start the watchdog process", e))?;
    let mut stores = secrets::Stores::new(config.vault.clone());
    let env = secrets::env::build(&config.inherit_env, &plan.env, &mut stores)?;
    drop(stores);
    for warning in &env.warnings {
        tracing::warn!("{warning}");
    }
    let (redactor, short) = Redactor::new(env.secrets.iter().map(|(k, v)| (k.as_str(), v)));
    for name in short {
        tracing::warn!(
            "{name} is shorter than {} bytes, too short to find reliably in what the server sends back; it will not be redacted",
            secrets::redact::MIN_SCANNED
        );
    }
    let redactor = Arc::new(redactor);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    let session_id = uuid::Uuid::new_v4().simple().to_string();
    let audit = Arc::new(if config.audit.enabled {
        AuditLog::open(
            &config.audit,
            &session_id,
            plan.name.as_deref(),
            redactor.clone(),
        )
    } else {
        AuditLog::off()
    });
    let forwarder = start_forwarding(&config);
    let result = runtime.block_on(async {
        let shutdown = session::shutdown_signals()
            .map_err(|e| Error::io("cannot listen for shutdown signals", e))?;
        let spawned = child::spawn(&plan.argv, &env.vars);
        audit.record(session_start(
            &plan,
            spawned.as_ref().ok().and_then(|c| c.process.id()),
        ));
        let child = match spawned {
            Ok(child) => child,
            Err(e) => {
                audit.record(session_end(None, Some(&e.to_string())));
                audit.close();
                return Err(spawn_error(&plan.argv[0], e));
            }
        };
        watchdog.guard(child.group);
        let (gate, outbox) = gate(&plan, &config, &session_id);
        let outcome = session::run(
            shutdown,
            child,
            plan.limits.clone(),
            plan.grace,
            audit.clone(),
            redactor.clone(),
            gate,
            outbox,
        )
        .await;
        let error = outcome.as_ref().err().map(ToString::to_string);
        audit.record(session_end(outcome.as_ref().ok(), error.as_deref()));
        audit.close();
        outcome.map_err(|e| Error::io("the session failed", e))
    });
    // A read of a terminal stdin may still be parked on a blocking thread; don't wait for it.
    runtime.shutdown_background();
    if let Some(forwarder) = forwarder {
        forwarder.finish();
    }
    watchdog.dismiss();
    let outcome = result?;
    Ok(u8::try_from(outcome.exit_code()).unwrap_or(crate::exit_code::FAILED))
}

/// The audit forwarder's thread, when `[audit.forward]` is set: it reads the log on its
/// own and never stands in the relay's way.
fn start_forwarding(config: &Config) -> Option<crate::audit::forward::Handle> {
    let settings = config
        .audit
        .forward
        .clone()
        .filter(|_| config.audit.enabled)?;
    let (path, vault) = (config.audit.path.clone(), config.vault.clone());
    crate::audit::forward::Handle::start(
        &config.audit.path,
        settings,
        Box::new(move |settings| {
            crate::audit::forward::connect(settings, &path, &mut secrets::Stores::new(vault))
        }),
    )
}

fn session_start(plan: &Plan, child_pid: Option<u32>) -> Event {
    // Only the program's name: arguments may hold paths or tokens.
    let argv0 = plan.argv.first().map(|a| {
        std::path::Path::new(a)
            .file_name()
            .unwrap_or(a)
            .to_string_lossy()
            .into_owned()
    });
    Event {
        ts: crate::audit::time::now(),
        direction: "peta",
        kind: "session_start",
        detail: Some(
            json!({
                "argv0": argv0,
                "child_pid": child_pid,
                "peta_pid": std::process::id(),
                "peta_version": env!("CARGO_PKG_VERSION"),
            })
            .to_string(),
        ),
        ..Event::default()
    }
}

fn session_end(outcome: Option<&Outcome>, error: Option<&str>) -> Event {
    Event {
        ts: crate::audit::time::now(),
        direction: "peta",
        kind: "session_end",
        error: error.map(str::to_owned),
        detail: Some(
            json!({
                "exit_code": outcome.map(Outcome::exit_code),
                "signal": outcome.and_then(|o| o.signal),
            })
            .to_string(),
        ),
        ..Event::default()
    }
}

/// The gate with every approval channel this session can reach, and the lines the
/// elicitation channel sends the client.
fn gate(
    plan: &Plan,
    config: &Config,
    session: &str,
) -> (Arc<Gate>, Option<mpsc::UnboundedReceiver<Vec<u8>>>) {
    let (elicitation, outbox) = Elicitation::new();
    let elicitation = Arc::new(elicitation);
    let mut channels: Vec<Arc<dyn Channel>> = vec![Arc::new(Terminal::open()), elicitation.clone()];
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        use crate::approval::desktop::Desktop;
        let desktop = Arc::new(crate::approval::Deferred::<Desktop>::new("desktop"));
        channels.push(desktop.clone());
        tokio::spawn(async move {
            if let Some(found) = Desktop::connect().await {
                desktop.set(found);
            }
        });
    }
    let grants = match grants_file() {
        Some(file) => Grants::load(&file).unwrap_or_else(|e| {
            tracing::warn!("ignoring remembered approvals: {e}");
            Grants::in_memory()
        }),
        None => Grants::in_memory(),
    };
    let grants = Arc::new(grants);
    // A late "allow" from `peta approve` lets the model's identical retry through.
    let questions = Questions::default();
    let on_late: OnLate = {
        let (questions, grants) = (questions.clone(), grants.clone());
        Box::new(move |request, answer| {
            let key = questions
                .lock()
                .expect("questions lock")
                .get(&request.id)
                .map(|(key, _)| key.clone());
            if let Some(key) = key
                && answer.allows()
                && let Err(e) = grants.allow_retry(key, LATE_ANSWERS, "console")
            {
                tracing::warn!(error = %e, "could not remember a late approval");
            }
        })
    };
    let console = match Console::start(session, &plan.label(), on_late) {
        Ok(console) => {
            tracing::debug!(socket = %console.socket().display(), "`peta approve` can reach this session");
            let console = Arc::new(console);
            channels.push(console.clone());
            Some(console)
        }
        Err(e) => {
            tracing::warn!(
                "no `peta approve` console for this session: {e} ({})",
                e.hint().unwrap_or_default()
            );
            None
        }
    };
    let approver = Approver::new(channels);
    tracing::debug!(reachable = ?approver.reachable(), "approval channels");
    let mut gate = Gate::new(
        config.policy.clone(),
        plan.name.clone(),
        plan.label(),
        approver,
        grants,
        Some(elicitation),
    );
    gate.console = console;
    gate.questions = questions;
    // Pins live beside the audit log (in the same database file), even with auditing off.
    let identity = plan.name.clone().unwrap_or_else(|| {
        plan.argv
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    });
    let strict = plan
        .name
        .as_deref()
        .and_then(|n| config.server(n))
        .is_some_and(|s| s.pin_strict);
    gate.pinning = Some(Pinning::new(
        Pins::open(&config.audit.path).map_err(|e| e.to_string()),
        identity,
        strict,
    ));
    (Arc::new(gate), Some(outbox))
}

/// Where "always" approvals are kept: beside the default audit database.
pub(crate) fn grants_file() -> Option<std::path::PathBuf> {
    Some(crate::audit::db::default_path()?.with_file_name("grants.json"))
}

/// What `run` will do, from the arguments and the configuration.
struct Plan {
    name: Option<String>,
    argv: Vec<OsString>,
    /// Declared environment entries: the config's, then `--env`.
    env: Vec<(String, String)>,
    limits: crate::proxy::relay::Limits,
    grace: std::time::Duration,
}

impl Plan {
    /// The server as people see it: its configured name, else its program's name.
    fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.argv.first().map_or_else(String::new, |a| {
                std::path::Path::new(a)
                    .file_name()
                    .unwrap_or(a)
                    .to_string_lossy()
                    .into_owned()
            })
        })
    }
}

fn plan(args: RunArgs, config: &Config) -> Result<Plan, Error> {
    let configured = args.server.as_deref().and_then(|name| config.server(name));
    let argv = if args.command.is_empty() {
        configured
            .and_then(|s| s.command.clone())
            .ok_or_else(|| Error::NoCommand {
                server: args.server.clone(),
            })?
    } else {
        args.command
    };
    let grace = match args.grace {
        Some(text) => {
            config::parse_duration(&text).map_err(|m| Error::Usage(format!("--grace: {m}")))?
        }
        None => config.grace,
    };
    let mut limits = config.limits.clone();
    if let Some(n) = args.max_line_bytes {
        limits.max_line_bytes = n;
    }
    let mut env = configured.map(|s| s.env.clone()).unwrap_or_default();
    env.extend(args.env);
    Ok(Plan {
        name: args.server,
        argv,
        env,
        limits,
        grace,
    })
}

fn spawn_error(program: &OsString, e: io::Error) -> Error {
    let program = program.clone();
    match e.kind() {
        io::ErrorKind::NotFound => Error::NotFound { program },
        io::ErrorKind::PermissionDenied => Error::NotExecutable { program, source: e },
        _ => Error::Spawn { program, source: e },
    }
}
