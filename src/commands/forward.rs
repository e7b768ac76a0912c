//! `peta audit forward [--watch | --status]`: draining the log to the collector by hand, and
//! saying how far forwarding has got. The forwarding itself lives in `audit::forward`.

use std::path::Path;
use std::time::Duration;

use crate::audit::db;
use crate::audit::forward::state::{Holder, Lock, State};
use crate::audit::forward::worker::Control;
use crate::audit::forward::{self, Forwarder};
use crate::cli::ForwardArgs;
use crate::config::{self, Config};
use crate::error::Error;
use crate::exit_code;
use crate::secrets::reference::Source;

pub(crate) fn run(args: ForwardArgs) -> Result<u8, Error> {
    let config = config::load(args.db.config.as_deref())?;
    let path = match &args.db.db {
        Some(path) => path.clone(),
        None => config.audit.path.clone(),
    };
    let Some(settings) = config.audit.forward.clone() else {
        return Err(Error::Forward {
            message: "forwarding is not configured".into(),
            hint: "add an [audit.forward] section (peta.example.toml shows every key)".into(),
            code: exit_code::USAGE,
        });
    };
    if args.status {
        return status(&path, &settings);
    }
    // The log must exist: forwarding only reads it.
    drop(db::open_read(&path)?);
    let lock = take_lock(&path, args.watch, &settings)?;
    let mut forwarder =
        Forwarder::new(&path, settings.clone(), connect(&config, &settings, &path)?);
    if args.watch {
        eprintln!(
            "forwarding {} to {}; Ctrl-C stops",
            path.display(),
            settings.target()
        );
        forwarder.run(&Control::default());
        drop(lock);
        return Ok(exit_code::OK);
    }
    let result = forwarder.drain(&|| false);
    drop(lock);
    match result {
        Ok(progress) => {
            eprintln!(
                "forwarded {} row(s) in {} batch(es) to {}; acknowledged through row {}",
                progress.rows,
                progress.batches,
                settings.target(),
                forwarder.state().seq
            );
            Ok(exit_code::OK)
        }
        Err(e) => Err(Error::Forward {
            message: format!("cannot forward the audit log: {}", e.message),
            hint: format!(
                "the rows stay in the local log and go once the collector answers; acknowledged through row {}",
                forwarder.state().seq
            ),
            code: exit_code::FAILED,
        }),
    }
}

fn connect(
    config: &Config,
    settings: &forward::Settings,
    path: &Path,
) -> Result<Box<dyn forward::Sink>, Error> {
    let mut stores = crate::secrets::Stores::new(config.vault.clone());
    forward::connect(settings, path, &mut stores).map_err(|e| Error::Forward {
        message: e.message,
        hint: "check [audit.forward] in the configuration".into(),
        code: exit_code::CONFIG,
    })
}

/// The forwarder lock; `--watch` waits for it, a single pass does not.
fn take_lock(path: &Path, wait: bool, settings: &forward::Settings) -> Result<Lock, Error> {
    let mut said = false;
    loop {
        match Lock::try_take(path) {
            Ok(Ok(lock)) => return Ok(lock),
            Ok(Err(Holder::Other(pid))) => {
                let who = pid.map_or_else(|| "another process".into(), |p| format!("process {p}"));
                if !wait {
                    return Err(Error::Forward {
                        message: format!("{who} is forwarding this audit log now"),
                        hint: "peta audit forward --status shows how far it has got".into(),
                        code: exit_code::CHECK_FAILED,
                    });
                }
                if !said {
                    eprintln!("{who} is forwarding this audit log now; waiting to take over");
                    said = true;
                }
            }
            Ok(Err(Holder::Nobody)) => {}
            Err(e) => {
                return Err(Error::io(
                    format!("cannot lock {}", forward::state::lock_path(path).display()),
                    e,
                ));
            }
        }
        std::thread::sleep(settings.interval.max(Duration::from_millis(100)));
    }
}

fn status(path: &Path, settings: &forward::Settings) -> Result<u8, Error> {
    let state = State::load(path, &settings.target());
    println!("destination    {}", settings.target());
    if !settings.headers.is_empty() {
        let names: Vec<String> = settings
            .headers
            .iter()
            .map(|(name, written)| match Source::parse(written) {
                Source::Plain(_) => format!("{name} (a plain value)"),
                reference => format!("{name} ({})", reference.describe()),
            })
            .collect();
        println!("headers        {}", names.join(", "));
    }
    let acked = match (&state.acked_at, state.seq) {
        (_, 0) => "nothing yet".to_owned(),
        (Some(at), seq) => format!("row {seq} at {at}"),
        (None, seq) => format!("row {seq}"),
    };
    println!("acknowledged   {acked}");
    match db::open_read(path) {
        Ok(conn) => {
            let (head, waiting, oldest): (i64, i64, Option<String>) = conn
                .query_row(
                    "SELECT COALESCE(MAX(seq), 0), (SELECT COUNT(*) FROM events WHERE seq > ?1), (SELECT MIN(ts) FROM events WHERE seq > ?1) FROM events",
                    [state.seq],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .map_err(|e| crate::audit::AuditError::db(path, e))?;
            println!("log head       row {head} ({})", path.display());
            match oldest {
                None => println!("lag            none"),
                Some(ts) => println!("lag            {waiting} row(s), the oldest written {ts}"),
            }
        }
        Err(e) => println!("log head       {e}"),
    }
    if let Some(error) = &state.last_error {
        println!(
            "last error     {} ({})",
            crate::display::visible(error),
            state.last_error_at.as_deref().unwrap_or("-")
        );
        if let Some(retry) = &state.retry_at {
            println!("next retry     {retry}");
        }
    }
    if let Some(note) = &state.last_rejection {
        println!("dropped by it  {}", crate::display::visible(note));
    }
    match Lock::holder(path) {
        Holder::Other(Some(pid)) => println!("forwarder      process {pid}"),
        Holder::Other(None) => println!("forwarder      another process"),
        Holder::Nobody => println!(
            "forwarder      none running (peta run forwards while it runs; or peta audit forward)"
        ),
    }
    Ok(exit_code::OK)
}
