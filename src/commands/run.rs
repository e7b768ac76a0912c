//! `peta run`: start a server behind the relay and pass on its exit code.

use std::ffi::OsString;
use std::io;
use std::sync::Arc;

use serde_json::json;

use tokio::sync::mpsc;

use crate::approval::console::{Console, OnLate};
use crate::approval::elicit::Elicitation;
use crate::approval::terminal::Terminal;
use crate::approval::{Approver, Channel, Grants, Kind};
use crate::audit::{AuditLog, Event};
use crate::cli::RunArgs;
use crate::config::{self, Config};
use crate::error::Error;
use crate::pins::Pins;
use crate::proxy::gate::{Gate, LATE_ANSWERS, Pinning, Questions};
use crate::proxy::session::Outcome;
use crate::proxy::{session, sys};
use crate::sandbox::{self, StartError};
use crate::secrets::{self, redact::Redactor};

pub(crate) fn run(args: RunArgs) -> Result<u8, Error> {
    let config_file = config::locate(args.config.as_deref());
    let mut config = config::load(args.config.as_deref())?;
    let plan = plan(args, &config, config_file.as_deref())?;
    config.policy.host = Arc::new(config::LocalHost::here().with_command(&plan.argv));
    plan.sandbox.check()?;
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
    if !env.dropped.is_empty() {
        tracing::debug!(
            dropped = %env.dropped.join(" "),
            "variables of peta's environment the server does not get (pass one with [defaults] inherit_env, or NAME=env:NAME in the server's env)"
        );
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
        let spawned = plan.sandbox.start(&plan.argv, &env.vars).await;
        audit.record(session_start(
            &plan,
            spawned
                .as_ref()
                .ok()
                .map(|s| (s.child.process.id(), s.confined)),
            &redactor,
        ));
        let child = match spawned {
            Ok(started) => started.child,
            Err(e) => {
                let error = match e {
                    StartError::Server(e) => spawn_error(&plan.argv[0], e),
                    StartError::Refused(e) => Error::Sandbox(e),
                };
                audit.record(session_end(None, None, Some(&error.to_string())));
                audit.close();
                return Err(error);
            }
        };
        watchdog.guard(child.group);
        let (gate, outbox) = gate(&plan, &config, &session_id);
        // A client that signals peta kills it soon after (Claude Code: SIGKILL half a second
        // after SIGINT): the session's end is made durable and anchored at the first signal,
        // not when the server is finally gone.
        let on_signal: session::OnSignal = {
            let audit = audit.clone();
            Box::new(
                move |sig| match audit.end(session_end(None, Some(sig), None)) {
                    Ok(()) => tracing::debug!("the session's end is recorded and anchored"),
                    Err(e) => tracing::error!(error = %e, "could not record the session's end"),
                },
            )
        };
        let outcome = session::run(
            shutdown,
            child,
            plan.limits.clone(),
            plan.grace,
            audit.clone(),
            redactor.clone(),
            gate,
            outbox,
            on_signal,
        )
        .await;
        let error = outcome.as_ref().err().map(ToString::to_string);
        match outcome.as_ref().ok() {
            // The end was recorded at the signal; what remains is how the server went.
            Some(o) if o.signal.is_some() => audit.record(server_exit(o)),
            o => audit.record(session_end(o, o.and_then(|o| o.signal), error.as_deref())),
        }
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

/// `started`: the child's pid and whether it runs in a box.
fn session_start(plan: &Plan, started: Option<(Option<u32>, bool)>, redactor: &Redactor) -> Event {
    let argv0 = plan.argv.first().map(|a| {
        std::path::Path::new(a)
            .file_name()
            .unwrap_or(a)
            .to_string_lossy()
            .into_owned()
    });
    // The whole command line, which names the server's identity; arguments may hold
    // tokens, so each passes through the redactor. Its hash is over the exact bytes.
    let command: Vec<String> = plan
        .argv
        .iter()
        .map(|a| redactor.text(&a.to_string_lossy()).into_owned())
        .collect();
    Event {
        ts: crate::audit::time::now(),
        direction: "peta",
        kind: "session_start",
        detail: Some(
            json!({
                "argv0": argv0,
                "command": command,
                "command_sha256": plan.command_sha256,
                "child_pid": started.and_then(|(pid, _)| pid),
                "confined": started.map(|(_, confined)| confined),
                "peta_pid": std::process::id(),
                "peta_version": env!("CARGO_PKG_VERSION"),
            })
            .to_string(),
        ),
        ..Event::default()
    }
}

/// The session's end: when the server exited (`outcome`), or when a signal asked peta to
/// stop (`signal`, no outcome yet; [`server_exit`] follows if peta lives to see it).
fn session_end(outcome: Option<&Outcome>, signal: Option<i32>, error: Option<&str>) -> Event {
    Event {
        ts: crate::audit::time::now(),
        direction: "peta",
        kind: "session_end",
        error: error.map(str::to_owned),
        detail: Some(
            json!({
                "exit_code": outcome.map(Outcome::exit_code),
                "signal": signal,
            })
            .to_string(),
        ),
        ..Event::default()
    }
}

/// How the server went, after a signal ended the session.
fn server_exit(outcome: &Outcome) -> Event {
    Event {
        ts: crate::audit::time::now(),
        direction: "peta",
        kind: "server_exit",
        detail: Some(
            json!({
                "exit_code": outcome.exit_code(),
                "server_exit_code": outcome.status.code(),
                "signal": outcome.signal,
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
    let wanted = |kind: Kind| config.channels.contains(&kind);
    let (elicitation, outbox) = if wanted(Kind::Client) {
        let (elicitation, outbox) = Elicitation::new();
        (Some(Arc::new(elicitation)), Some(outbox))
    } else {
        (None, None)
    };
    #[cfg(all(unix, not(target_os = "macos")))]
    let desktop = wanted(Kind::Desktop).then(|| {
        use crate::approval::desktop::Desktop;
        let desktop = Arc::new(crate::approval::Deferred::<Desktop>::new("desktop"));
        let found = desktop.clone();
        tokio::spawn(async move {
            if let Some(connected) = Desktop::connect().await {
                found.set(connected);
            }
        });
        desktop
    });
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
    let console = if wanted(Kind::Console) {
        match Console::start(session, &plan.label(), on_late) {
            Ok(console) => {
                tracing::debug!(socket = %console.socket().display(), "`peta approve` can reach this session");
                Some(Arc::new(console))
            }
            Err(e) => {
                tracing::warn!(
                    "no `peta approve` console for this session: {e} ({})",
                    e.hint().unwrap_or_default()
                );
                None
            }
        }
    } else {
        None
    };
    // In the order of preference: it settles which of the channels on the person's screen
    // asks (see approval/mod.rs).
    let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
    for kind in &config.channels {
        match kind {
            Kind::Client => channels.extend(elicitation.clone().map(|e| e as Arc<dyn Channel>)),
            #[cfg(all(unix, not(target_os = "macos")))]
            Kind::Desktop => channels.extend(desktop.clone().map(|d| d as Arc<dyn Channel>)),
            #[cfg(not(all(unix, not(target_os = "macos"))))]
            Kind::Desktop => {}
            Kind::Console => channels.extend(console.clone().map(|c| c as Arc<dyn Channel>)),
            Kind::Tty => channels.push(Arc::new(Terminal::open())),
        }
    }
    let approver = Approver::new(channels);
    tracing::debug!(reachable = ?approver.reachable(), "approval channels");
    let mut gate = Gate::new(
        config.policy.clone(),
        plan.name.clone(),
        plan.label(),
        approver,
        grants,
        elicitation,
    );
    gate.console = console;
    gate.questions = questions;
    gate.command = plan.command_sha256.clone();
    // Pins live beside the audit log (in the same database file), even with auditing off.
    let identity = plan.pin_identity();
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
    (Arc::new(gate), outbox)
}

/// Where "always" approvals are kept: beside the default audit database.
pub(crate) fn grants_file() -> Option<std::path::PathBuf> {
    Some(crate::audit::db::default_path()?.with_file_name("grants.json"))
}

/// What `run` will do, from the arguments and the configuration.
struct Plan {
    name: Option<String>,
    argv: Vec<OsString>,
    /// SHA-256 of the command line (each argument's bytes and a NUL): with the name, the
    /// server's identity for grants and pins.
    command_sha256: String,
    /// Whether the configuration binds the name to this command (`[servers.NAME] command`).
    bound: bool,
    /// Declared environment entries: the config's, then `--env`.
    env: Vec<(String, String)>,
    limits: crate::proxy::relay::Limits,
    grace: std::time::Duration,
    /// The server's box.
    sandbox: sandbox::Request,
}

impl Plan {
    /// Whose pins this session uses: a name the configuration binds to this command is the
    /// name alone (editing the configured command keeps its pins, so a changed tool is
    /// still held for review); any other server is its name, or its program's, with the
    /// command's hash, so another command under the same name neither uses nor overwrites
    /// them. Pins written by older versions under a bare name of an unbound server apply to
    /// no command; `peta tools reset NAME` removes them.
    fn pin_identity(&self) -> String {
        match &self.name {
            Some(name) if self.bound => name.clone(),
            _ => format!("{}@{}", self.label(), &self.command_sha256[..12]),
        }
    }

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

fn plan(
    args: RunArgs,
    config: &Config,
    config_file: Option<&std::path::Path>,
) -> Result<Plan, Error> {
    let configured = args.server.as_deref().and_then(|name| config.server(name));
    let bound = configured.and_then(|s| s.command.as_ref());
    let argv = match bound {
        _ if args.command.is_empty() => bound.cloned().ok_or_else(|| Error::NoCommand {
            server: args.server.clone(),
        })?,
        // A configured name gives its secrets, rules, grants and pins only to its command.
        Some(configured) if *configured != args.command => {
            return Err(Error::BoundCommand {
                server: args.server.clone().unwrap_or_default(),
                configured: configured.clone(),
                given: args.command,
            });
        }
        _ => args.command,
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
    let mut settings = configured.map(|s| s.sandbox.clone()).unwrap_or_default();
    let key = |field: &str| {
        configured.map_or_else(String::new, |s| {
            format!("servers.{}.sandbox.{field}", s.name)
        })
    };
    let (mut write_key, read_key) = (key("write"), key("read"));
    if !args.sandbox_write.is_empty() {
        write_key = if write_key.is_empty() {
            "--sandbox-write".into()
        } else {
            format!("{write_key} or --sandbox-write")
        };
    }
    for path in args.sandbox_write {
        settings
            .write
            .push(std::path::absolute(&path).unwrap_or(path));
    }
    let sandbox = sandbox::Request {
        mode: args.sandbox.unwrap_or(config.sandbox),
        settings,
        places: sandbox::Places::of(config, config_file),
        write_key,
        read_key,
    };
    Ok(Plan {
        name: args.server,
        command_sha256: command_sha256(&argv),
        bound: bound.is_some(),
        argv,
        env,
        limits,
        grace,
        sandbox,
    })
}

/// SHA-256 over each argument's bytes followed by a NUL, which no argument can hold.
fn command_sha256(argv: &[OsString]) -> String {
    let mut bytes = Vec::new();
    for arg in argv {
        bytes.extend_from_slice(arg.as_encoded_bytes());
        bytes.push(0);
    }
    crate::audit::row::sha256_hex(&bytes)
}

fn spawn_error(program: &OsString, e: io::Error) -> Error {
    let program = program.clone();
    match e.kind() {
        io::ErrorKind::NotFound => Error::NotFound { program },
        io::ErrorKind::PermissionDenied => Error::NotExecutable { program, source: e },
        _ => Error::Spawn { program, source: e },
    }
}
