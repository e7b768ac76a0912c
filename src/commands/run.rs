//! `peta run`: start a server behind the relay and pass on its exit code.

use std::ffi::OsString;
use std::io;

use crate::cli::RunArgs;
use crate::config::{self, Config};
use crate::error::Error;
use crate::proxy::{child, session, sys};

pub(crate) fn run(args: RunArgs) -> Result<u8, Error> {
    let config = config::load(args.config.as_deref())?;
    let plan = plan(args, &config)?;
    tracing::debug!(server = plan.name.as_deref(), command = ?plan.argv, "starting");
    // Forked while peta is still single-threaded: it must exist before the runtime does.
    let mut watchdog = sys::Watchdog::start(plan.grace)
        .map_err(|e| Error::io("cannot start the watchdog process", e))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    let result = runtime.block_on(async {
        let child = child::spawn(&plan.argv).map_err(|e| spawn_error(&plan.argv[0], e))?;
        watchdog.guard(child.group);
        session::run(child, plan.limits.clone(), plan.grace)
            .await
            .map_err(|e| Error::io("the session failed", e))
    });
    // A read of a terminal stdin may still be parked on a blocking thread; don't wait for it.
    runtime.shutdown_background();
    watchdog.dismiss();
    let outcome = result?;
    Ok(u8::try_from(outcome.exit_code()).unwrap_or(crate::exit_code::FAILED))
}

/// What `run` will do, from the arguments and the configuration.
struct Plan {
    name: Option<String>,
    argv: Vec<OsString>,
    limits: crate::proxy::relay::Limits,
    grace: std::time::Duration,
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
    Ok(Plan {
        name: args.server,
        argv,
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
