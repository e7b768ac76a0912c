//! `peta init`, `peta config check` and `peta doctor`: getting a configuration in place, and
//! finding out what works on this machine.

use std::path::{Path, PathBuf};

use crate::cli::ConfigCommand;
use crate::config;
use crate::error::Error;
use crate::exit_code;

/// The starter configuration: the documented example, every key with its default.
const STARTER: &str = include_str!("../../peta.example.toml");

pub(crate) fn init(path: Option<PathBuf>, force: bool) -> Result<u8, Error> {
    let path = match path {
        Some(path) => path,
        None => config::config_dir()
            .ok_or_else(|| {
                Error::Usage("cannot tell where the configuration goes: HOME is not set".into())
            })?
            .join("peta")
            .join("peta.toml"),
    };
    if path.exists() && !force {
        return Err(Error::Secret {
            message: format!("{} already exists", path.display()),
            hint: "peta init --force replaces it; `peta config check` checks it as it is".into(),
            code: exit_code::CHECK_FAILED,
        });
    }
    crate::files::write_atomic(&path, STARTER.as_bytes()).map_err(|e| Error::Secret {
        message: e.to_string(),
        hint: e.hint(),
        code: exit_code::FAILED,
    })?;
    eprintln!(
        "wrote {} (0600); every key is there with its default and a comment",
        path.display()
    );
    eprintln!(
        "check it with: peta config check --config {}",
        path.display()
    );
    Ok(exit_code::OK)
}

pub(crate) fn config(command: ConfigCommand) -> Result<u8, Error> {
    let ConfigCommand::Check { config: explicit } = command;
    let (file, loaded) = config::load_to_check(explicit.as_deref())?;
    for (_, request) in boxes(&loaded, file.as_deref()) {
        request.check()?;
    }
    let rules = loaded.policy.rules().len();
    match file {
        Some(file) => println!(
            "ok: {} ({} server(s), {} rule(s))",
            file.display(),
            loaded.servers.len(),
            rules
        ),
        None => {
            println!("ok: no configuration file; peta runs with the defaults ({rules} rule(s))")
        }
    }
    for layer in loaded.policy.layers() {
        println!(
            "ok: {} adds {} rule(s), which can only make decisions stricter",
            layer.source,
            layer.rules().len()
        );
    }
    Ok(exit_code::OK)
}

/// One line of `peta doctor`.
struct Line {
    level: &'static str,
    what: String,
    fix: Option<String>,
}

fn ok(what: impl Into<String>) -> Line {
    Line {
        level: "ok",
        what: what.into(),
        fix: None,
    }
}

fn warn(what: impl Into<String>, fix: impl Into<String>) -> Line {
    Line {
        level: "warn",
        what: what.into(),
        fix: Some(fix.into()),
    }
}

fn fail(what: impl Into<String>, fix: impl Into<String>) -> Line {
    Line {
        level: "fail",
        what: what.into(),
        fix: Some(fix.into()),
    }
}

pub(crate) fn doctor(explicit: Option<&Path>, only: Option<&str>) -> Result<u8, Error> {
    let mut lines = Vec::new();
    let file = config::locate(explicit);
    let config = match config::load(explicit) {
        Ok(config) => {
            lines.push(ok(match &file {
                Some(f) => format!("config: {} parses", f.display()),
                None => "config: none; the defaults apply (peta init writes a starter)".into(),
            }));
            config
        }
        Err(e) => {
            lines.push(fail(format!("config: {e}"), e.hint().unwrap_or_default()));
            crate::config::Config::default()
        }
    };
    lines.push(audit_line(&config.audit.path));
    if let Some(forward) = &config.audit.forward {
        lines.push(forward_line(&config, forward));
    }
    lines.push(
        match crate::secrets::keyring::Keyring::open().and_then(|k| k.names().map(|n| (k, n))) {
            Ok((_, Some(names))) => {
                ok(format!("keyring: answers ({} peta secret(s))", names.len()))
            }
            Ok((_, None)) => ok("keyring: answers"),
            Err(f) => warn(format!("keyring: {}", f.reason), f.hint),
        },
    );
    lines.push(vault_line(&config));
    lines.push(if crate::tty::open().is_some() {
        ok("terminal: /dev/tty is available for approval prompts")
    } else {
        warn(
            "terminal: none (started by a GUI client, or in CI)",
            "approve with `peta approve --watch` in a terminal, the desktop notification, or the client's own UI",
        )
    });
    lines.push(desktop_line());
    lines.push(console_line());
    lines.push(sandbox_line(config.sandbox));
    for (name, request) in boxes(&config, file.as_deref()) {
        if let Err(e) = request.check() {
            lines.push(fail(format!("server {name}: {e}"), e.hint()));
        }
    }
    let servers = config
        .servers
        .iter()
        .filter(|s| only.is_none_or(|name| s.name == name));
    for server in servers {
        lines.push(match &server.command {
            None if server.any_command => ok(format!(
                "server {}: command = \"any\": any command may run under this name",
                server.name
            )),
            None => warn(
                format!("server {}: no command in the config, so the name binds none", server.name),
                "set `command`: then only that command gets this name's secrets, rules, grants and pins",
            ),
            Some(argv) => match resolve(&argv[0]) {
                Some(path) => ok(format!("server {}: {} resolves to {}", server.name, argv[0].to_string_lossy(), path.display())),
                None => fail(
                    format!("server {}: {} is not found on PATH", server.name, argv[0].to_string_lossy()),
                    "install it, or give its absolute path: GUI clients start programs with a short PATH",
                ),
            },
        });
    }
    if let Some(name) = only {
        lines.extend(environment_lines(&config, name));
    }
    let mut failed = false;
    for line in &lines {
        failed |= line.level == "fail";
        println!("{:<5} {}", line.level, line.what);
        if let Some(fix) = &line.fix
            && !fix.is_empty()
        {
            println!("      fix: {fix}");
        }
    }
    Ok(if failed {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    })
}

fn audit_line(path: &Path) -> Line {
    if !path.exists() {
        let dir = path.parent().unwrap_or(Path::new("."));
        let writable = std::fs::create_dir_all(dir).is_ok() && tempfile_in(dir);
        return if writable {
            ok(format!(
                "audit log: {} will be created on the first session",
                path.display()
            ))
        } else {
            fail(
                format!("audit log: cannot write in {}", dir.display()),
                "set [audit] path to a writable place",
            )
        };
    }
    match crate::audit::verify::verify_path(path) {
        Ok(report) if report.problem.is_none() => ok(format!(
            "audit log: {} verifies ({} rows)",
            path.display(),
            report.rows
        )),
        Ok(report) => fail(
            format!(
                "audit log: {} does not verify: {}",
                path.display(),
                report.problem.map(|p| p.to_string()).unwrap_or_default()
            ),
            "see `peta audit verify`; keep the file for review and start a new one with [audit] path",
        ),
        Err(e) => fail(format!("audit log: {e}"), e.hint().unwrap_or_default()),
    }
}

/// `[audit.forward]`: the endpoint answers (with the configured headers and trust anchors),
/// and how far behind forwarding is.
fn forward_line(
    config: &crate::config::Config,
    settings: &crate::audit::forward::Settings,
) -> Line {
    use crate::audit::forward;
    let path = &config.audit.path;
    let mut stores = crate::secrets::Stores::new(config.vault.clone());
    let probed = forward::connect(settings, path, &mut stores).and_then(|mut sink| sink.probe());
    let state = forward::state::State::load(path, &settings.target());
    let lag = crate::audit::db::open_read(path)
        .ok()
        .and_then(|conn| {
            conn.query_row(
                "SELECT COUNT(*) FROM events WHERE seq > ?1",
                [state.seq],
                |r| r.get::<_, i64>(0),
            )
            .ok()
        })
        .map_or_else(String::new, |n| {
            format!("; {n} row(s) not yet acknowledged")
        });
    match probed {
        Ok(said) => ok(format!("audit forwarding: {said}{lag}")),
        Err(e) => fail(
            format!("audit forwarding: {}{lag}", e.message),
            "check [audit.forward] endpoint, headers and ca_file; rows wait in the local log meanwhile",
        ),
    }
}

/// Whether a file can be created (and removed) in `dir`.
fn tempfile_in(dir: &Path) -> bool {
    let probe = dir.join(format!(".peta-doctor-{}", uuid::Uuid::new_v4().simple()));
    let made = std::fs::File::create(&probe).is_ok();
    let _ = std::fs::remove_file(&probe);
    made
}

fn vault_line(config: &crate::config::Config) -> Line {
    if !config.vault.path.exists() {
        return ok(format!(
            "vault: none at {} (optional; peta vault init)",
            config.vault.path.display()
        ));
    }
    match crate::commands::secret::open_vault(config) {
        Ok(vault) => ok(format!(
            "vault: {} opens ({} secret(s))",
            config.vault.path.display(),
            vault.names().count()
        )),
        Err(e) => warn(format!("vault: {e}"), e.hint().unwrap_or_default()),
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
fn desktop_line() -> Line {
    let found = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()
        .and_then(|rt| rt.block_on(crate::approval::desktop::Desktop::connect()));
    match found {
        Some(desktop) if desktop.has_actions() => {
            ok("desktop notifications: a server with Allow / Deny buttons")
        }
        Some(_) => warn(
            "desktop notifications: the server shows no buttons; peta only points to `peta approve`",
            "use a notification daemon with actions (GNOME, KDE, dunst, mako) to answer from the desktop",
        ),
        None => warn(
            "desktop notifications: no notification server on the session bus",
            "approve in a terminal, with `peta approve`, or in the client's own UI",
        ),
    }
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn desktop_line() -> Line {
    warn(
        "desktop notifications: not on this platform",
        "approve in a terminal, with `peta approve`, or in the client's own UI",
    )
}

/// Each configured server's box, as `peta run --server NAME` would build it.
fn boxes(
    config: &crate::config::Config,
    file: Option<&Path>,
) -> Vec<(String, crate::sandbox::Request)> {
    config
        .servers
        .iter()
        .map(|server| {
            (
                server.name.clone(),
                crate::sandbox::Request::for_server(config, file, server),
            )
        })
        .collect()
}

fn sandbox_line(mode: crate::sandbox::Mode) -> Line {
    use crate::sandbox::Mode;
    if mode == Mode::Off {
        return warn(
            "confinement: off (defaults.sandbox); servers run with all of your powers",
            "set [defaults] sandbox = \"auto\" to confine them where bubblewrap works",
        );
    }
    match crate::sandbox::probe::check() {
        Ok(what) => ok(format!("confinement: {what}")),
        Err((what, fix)) if mode == Mode::Required => fail(
            format!("confinement: {what}; sandbox = \"required\" refuses to start servers"),
            fix,
        ),
        Err((what, fix)) => warn(
            format!("confinement: {what}; servers run unconfined (sandbox = \"auto\")"),
            fix,
        ),
    }
}

fn console_line() -> Line {
    let dir = crate::approval::console::dir::SocketDir::from_env();
    match dir.check_existing() {
        Ok(_) => ok(format!(
            "approval console: {} is private",
            dir.path().display()
        )),
        Err(e) => fail(
            format!("approval console: {e}"),
            e.hint().unwrap_or_default(),
        ),
    }
}

/// The environment `peta run --server NAME` gives the server: names only, never values.
fn environment_lines(config: &crate::config::Config, name: &str) -> Vec<Line> {
    let configured = config.server(name);
    let declared: Vec<&str> = configured
        .map(|s| s.env.iter().map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    let (mut passed, mut dropped) = (Vec::new(), Vec::new());
    for (key, _) in std::env::vars_os() {
        let shown = key.to_string_lossy().into_owned();
        if declared.contains(&shown.as_str()) {
            continue;
        }
        if crate::secrets::env::allowed(&config.inherit_env, &key) {
            passed.push(shown);
        } else {
            dropped.push(shown);
        }
    }
    passed.sort();
    dropped.sort();
    let mut lines = Vec::new();
    if configured.is_none() {
        lines.push(warn(
            format!("server {name}: not in the config; it gets peta's defaults"),
            format!("add [servers.{name}] to give it a command, env entries or rules of its own"),
        ));
    }
    lines.push(ok(format!(
        "server {name}: gets {} variable(s) of this environment: {}",
        passed.len(),
        passed.join(" ")
    )));
    if !declared.is_empty() {
        lines.push(ok(format!(
            "server {name}: declares {} variable(s): {}",
            declared.len(),
            declared.join(" ")
        )));
    }
    if !dropped.is_empty() {
        lines.push(warn(
            format!(
                "server {name}: does not get {} variable(s) of this environment: {}",
                dropped.len(),
                dropped.join(" ")
            ),
            format!(
                "if it needs one, add its name to [defaults] inherit_env, or give it as NAME = \"env:NAME\" in [servers.{name}] env (then it is redacted as a secret); a client may start peta with fewer variables than this shell has"
            ),
        ));
    }
    lines
}

/// The program `program` runs as: a path as given, else the first match on PATH.
fn resolve(program: &std::ffi::OsStr) -> Option<PathBuf> {
    let program = Path::new(program);
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_owned());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
