//! `peta install` / `peta uninstall`: find the client's file, settle where credentials go,
//! show what changes, ask, keep a backup, move the credentials, write the file atomically,
//! and record it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{InstallArgs, UninstallArgs};
use crate::error::Error;
use crate::exit_code;
use crate::install::clients::{self, Client, Places, Scope};
use crate::install::place::{self, Place, failed};
use crate::install::plan::{self, Entry, Outcome, Secrets, Store, Wrapping};
use crate::install::record::{FileRecord, Record};
use crate::secrets::vault::Vault;
use crate::secrets::{SecretValue, keyring::Keyring};

/// Larger than any client's file (Claude Code's `~/.claude.json` grows with history).
const MAX_FILE: u64 = 64 << 20;

pub(crate) fn install(args: InstallArgs) -> Result<u8, Error> {
    let client = args.client;
    let places = Places::here().map_err(|e| Error::io("cannot read the current directory", e))?;
    let file = locate(client, args.scope, args.config_path.as_deref(), &places)?;
    let heading = heading(client, &file, args.config_path.is_some(), &places)?;
    let servers_path = clients::servers_path(client, args.scope, &places.project);
    let format = client.format();
    let (real, text) = read(&file)?;
    let peta = peta_path()?;
    let path = if client.is_desktop_app() {
        captured_path()
    } else {
        None
    };
    let add_env = values_here(client.dropped_vars());
    let forward: Vec<String> = client
        .forwarded_vars()
        .iter()
        .filter(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
        .map(|k| (*k).to_owned())
        .collect();
    let plan_with = |secrets: Secrets, free: &dyn Fn(&str, &str) -> bool| {
        let wrapping = Wrapping {
            peta: &peta,
            path: path.as_deref(),
            secrets,
            free,
            add_env: &add_env,
            forward: &forward,
        };
        plan::install(&text, format, &servers_path, &wrapping).map_err(|e| unreadable(&file, e))
    };

    // Where credentials go is settled before anything is shown or stored.
    let first = plan_with(Secrets::Move(Store::Keyring), &|_, _| true)?;
    eprintln!("{heading}");
    let holders: Vec<&str> = first
        .wrapped
        .iter()
        .filter(|w| !w.moved.is_empty())
        .map(|w| w.name.as_str())
        .collect();
    let mut place = if holders.is_empty() {
        Place::Unneeded
    } else {
        place::choose(&args, &holders)?
    };
    let secrets = place.secrets();
    let plan = plan_with(secrets.clone(), &|name, value| place.free(name, value))?;

    list(&plan);
    let stranded = match &secrets {
        Secrets::Nowhere(reason) => plan.skipped.iter().filter(|s| s.reason == *reason).count(),
        _ => 0,
    };
    if plan.wrapped.is_empty() {
        eprintln!("nothing to change");
        return Ok(if stranded > 0 && !args.dry_run {
            exit_code::CHECK_FAILED
        } else {
            exit_code::OK
        });
    }
    print_diff(
        &file,
        &text,
        &plan.text,
        &redactions(&plan),
        "after peta install",
    )?;
    if args.dry_run {
        eprintln!("dry run: nothing written");
        if stranded > 0 {
            eprintln!(
                "{stranded} server(s) would be left as they are: they hold credentials and there is no keyring here; with --secrets vault the credentials go into the age vault, with --secrets leave they stay in the file"
            );
        }
        return Ok(exit_code::OK);
    }
    if !args.yes && !confirm(&format!("Write {}?", file.display()))? {
        eprintln!("nothing written");
        return Ok(exit_code::OK);
    }

    let moved: Vec<&plan::Moved> = plan.wrapped.iter().flat_map(|w| &w.moved).collect();
    if !moved.is_empty() {
        place.store(&moved)?;
    }
    let record_path = record_path()?;
    let mut record = Record::read(&record_path).map_err(|e| record_error(&record_path, e))?;
    let entries: Vec<Entry> = plan.wrapped.iter().map(Entry::from).collect();
    let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    record.add(FileRecord {
        path: real.clone(),
        client,
        scope: args.scope,
        servers_path: servers_path.clone(),
        entries,
    });
    let backup = backup(&record_path, client, &real, &text)?;
    // The record first: a file peta changed without a record could not be undone.
    record
        .write(&record_path)
        .map_err(|e| record_error(&record_path, e))?;
    if let Err(e) = replace(&real, &text, &plan.text) {
        record.forget(&real, &servers_path, &names);
        let _ = record.write(&record_path);
        return Err(e);
    }
    eprintln!(
        "wrote {}: {} server(s) now run through peta",
        file.display(),
        plan.wrapped.len()
    );
    if !moved.is_empty() {
        eprintln!(
            "moved {} credential(s) into {}; `peta secret list` shows them",
            moved.len(),
            place.describe()
        );
    }
    let plaintext = plan
        .wrapped
        .iter()
        .any(|w| !w.moved.is_empty() || !w.left.is_empty());
    eprintln!(
        "backup of the old file: {}{}",
        backup.display(),
        if plaintext {
            " (it holds the old plaintext values: delete it once the client works)"
        } else {
            ""
        }
    );
    eprintln!(
        "next: {}",
        match heading_client(client, &file, args.config_path.is_some(), &places) {
            Some(c) => c.after_writing(args.scope).to_owned(),
            None => format!(
                "restart the client that reads {} to load the change",
                file.display()
            ),
        }
    );
    if stranded > 0 {
        eprintln!(
            "left {stranded} server(s) as they were: they hold credentials and there is no keyring here; run again with --secrets vault or --secrets leave"
        );
        return Ok(exit_code::CHECK_FAILED);
    }
    Ok(exit_code::OK)
}

/// One line per server: wrapped (and how) or skipped (and why).
fn list(plan: &plan::Install) {
    let width = plan
        .wrapped
        .iter()
        .map(|w| w.name.chars().count())
        .chain(plan.skipped.iter().map(|s| s.name.chars().count()))
        .max()
        .unwrap_or(0);
    for w in &plan.wrapped {
        let mut notes: Vec<String> = w
            .moved
            .iter()
            .map(|m| format!("{} → {}:{}", m.var, m.store.scheme(), m.secret))
            .collect();
        if !w.passed.is_empty() {
            notes.push(format!("passes on {}", w.passed.join(", ")));
        }
        if w.path_added {
            notes.push("PATH captured".into());
        }
        if !w.added.is_empty() {
            notes.push(format!("sets {} for peta", w.added.join(", ")));
        }
        if !w.forwarded.is_empty() {
            notes.push(format!("has {} passed on", w.forwarded.join(", ")));
        }
        eprintln!("  wrap  {:<width$}  {}", w.name, notes.join("; "));
        for warning in &w.warnings {
            eprintln!("        warning: {warning}");
        }
    }
    for s in &plan.skipped {
        eprintln!("  skip  {:<width$}  {}", s.name, s.reason);
    }
}

/// Each credential's literal and value in the plan, with the mark that replaces it in diffs.
fn redactions(plan: &plan::Install) -> Vec<(String, String, String)> {
    plan.wrapped
        .iter()
        .flat_map(|w| {
            let moved = w.moved.iter().map(|m| (&m.var, &m.literal, &m.value));
            let left = w.left.iter().map(|l| (&l.var, &l.literal, &l.value));
            moved.chain(left)
        })
        .map(|(var, literal, value)| {
            (
                literal.clone(),
                value.expose().to_owned(),
                format!("[REDACTED:{var}]"),
            )
        })
        .collect()
}

/// The client a file is named for: the client's own file, or `None` for one given with
/// `--config-path` that no client is known to keep.
fn heading_client(client: Client, file: &Path, explicit: bool, places: &Places) -> Option<Client> {
    (!explicit || places.keeps(client, file)).then_some(client)
}

/// The first line: whose file this is. A file given with `--config-path` that another
/// client keeps is refused (its format and needs are that client's); one no client is known
/// to keep is named by its path.
fn heading(client: Client, file: &Path, explicit: bool, places: &Places) -> Result<String, Error> {
    if heading_client(client, file, explicit, places).is_some() {
        return Ok(format!("{}: {}", client.title(), file.display()));
    }
    if let Some(other) = places.owner(file) {
        return Err(failed(
            format!(
                "{} is {}'s file, not {}'s",
                file.display(),
                other.title(),
                client.title()
            ),
            format!("use --client {}", other.name()),
            exit_code::USAGE,
        ));
    }
    let key = clients::servers_path(client, Scope::User, &places.project).join(".");
    Ok(format!("{}: servers under \"{key}\"", file.display()))
}

/// The values here of the variables named, for writing into entries: absolute paths only,
/// as the client starts servers in a directory of its own choosing.
fn values_here(names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .filter_map(|name| {
            let value = PathBuf::from(std::env::var_os(name).filter(|v| !v.is_empty())?);
            let value = if value.is_absolute() {
                value
            } else if *name == "PETA_CONFIG" {
                std::env::current_dir().ok()?.join(value)
            } else {
                // The XDG base directory spec says to ignore a relative path.
                return None;
            };
            Some((
                (*name).to_owned(),
                value.into_os_string().into_string().ok()?,
            ))
        })
        .collect()
}

pub(crate) fn uninstall(args: UninstallArgs) -> Result<u8, Error> {
    let places = Places::here().ok();
    let record_path = record_path()?;
    let mut record = Record::read(&record_path).map_err(|e| record_error(&record_path, e))?;
    let wanted = args
        .config_path
        .as_deref()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned()));
    let chosen: Vec<FileRecord> = record
        .files
        .iter()
        .filter(|f| args.client.is_none_or(|c| c == f.client))
        .filter(|f| args.scope.is_none_or(|s| s == f.scope))
        .filter(|f| wanted.as_ref().is_none_or(|w| *w == f.path))
        .cloned()
        .collect();
    if chosen.is_empty() {
        eprintln!("peta has not installed into any such file; nothing to undo");
        return Ok(exit_code::OK);
    }
    let mut keyring: Option<Keyring> = None;
    let mut vault: Option<Vault> = None;
    let mut left = false;
    for file in chosen {
        // A file no client is known to keep is named by its path alone.
        let known = places
            .as_ref()
            .is_none_or(|p| p.keeps(file.client, &file.path));
        if known {
            eprintln!("{}: {}", file.client.title(), file.path.display());
        } else {
            eprintln!("{}", file.path.display());
        }
        if !file.path.exists() {
            eprintln!("  the file no longer exists; forgetting it");
            if !args.dry_run {
                let names: Vec<String> = file.entries.iter().map(|e| e.name.clone()).collect();
                record.forget(&file.path, &file.servers_path, &names);
                record
                    .write(&record_path)
                    .map_err(|e| record_error(&record_path, e))?;
            }
            continue;
        }
        let (_, text) = read(&file.path)?;
        let mut reveal = |name: &str, store: Store| -> Result<SecretValue, String> {
            match store {
                Store::Keyring => {
                    if keyring.is_none() {
                        keyring = Some(
                            Keyring::open().map_err(|f| format!("{} ({})", f.reason, f.hint))?,
                        );
                    }
                    let keyring = keyring.as_ref().expect("opened above");
                    keyring
                        .get(name)
                        .map_err(|f| format!("keyring:{name}: {}", f.reason))
                }
                Store::Vault => {
                    if vault.is_none() {
                        let config = crate::config::load(None).map_err(|e| e.to_string())?;
                        vault = Some(
                            crate::commands::secret::open_vault(&config)
                                .map_err(|e| e.to_string())?,
                        );
                    }
                    let vault = vault.as_ref().expect("opened above");
                    vault.get(name).map_err(|e| format!("age:{name}: {e}"))
                }
            }
        };
        let undo = plan::uninstall(
            &text,
            file.client.format(),
            &file.servers_path,
            &file.entries,
            args.restore_plaintext,
            &mut reveal,
        )
        .map_err(|e| unreadable(&file.path, e))?;
        let mut done = Vec::new();
        for (name, outcome) in &undo.outcomes {
            match outcome {
                Outcome::Restored => {
                    eprintln!("  restore  {name}");
                    done.push(name.clone());
                }
                Outcome::Gone => {
                    eprintln!("  gone     {name}  no longer in the file; nothing to restore");
                    done.push(name.clone());
                }
                Outcome::Changed => {
                    left = true;
                    eprintln!(
                        "  leave    {name}  changed since peta wrote it; restore it by hand (the backups are in {})",
                        backups_dir(&record_path).display()
                    );
                }
                Outcome::KeptSecrets(vars) => {
                    left = true;
                    let in_vault = file
                        .entries
                        .iter()
                        .filter(|e| e.name == *name)
                        .flat_map(|e| e.secrets())
                        .any(|(_, _, store)| store == Store::Vault);
                    eprintln!(
                        "  keep     {name}  {} in the {}; --restore-plaintext writes them back into the file",
                        vars.join(", "),
                        if in_vault { "age vault" } else { "keyring" }
                    );
                }
            }
        }
        if undo.text == text {
            if !args.dry_run && !done.is_empty() {
                record.forget(&file.path, &file.servers_path, &done);
                record
                    .write(&record_path)
                    .map_err(|e| record_error(&record_path, e))?;
            }
            continue;
        }
        let redactions: Vec<(String, String, String)> = undo
            .restored
            .iter()
            .map(|(var, value, literal)| {
                (
                    literal.clone(),
                    value.expose().to_owned(),
                    format!("[REDACTED:{var}]"),
                )
            })
            .collect();
        print_diff(
            &file.path,
            &text,
            &undo.text,
            &redactions,
            "after peta uninstall",
        )?;
        if args.dry_run {
            continue;
        }
        if !args.yes && !confirm(&format!("Write {}?", file.path.display()))? {
            eprintln!("  nothing written");
            left = true;
            continue;
        }
        let backup = backup(&record_path, file.client, &file.path, &text)?;
        replace(&file.path, &text, &undo.text)?;
        record.forget(&file.path, &file.servers_path, &done);
        record
            .write(&record_path)
            .map_err(|e| record_error(&record_path, e))?;
        eprintln!("  wrote it; backup of the old file: {}", backup.display());
        if !undo.restored.is_empty() {
            eprintln!(
                "  the keyring (or the age vault) still holds the values written back; `peta secret rm NAME` deletes one"
            );
        }
        if known {
            eprintln!("  next: {}", file.client.after_writing(file.scope));
        } else {
            eprintln!(
                "  next: restart the client that reads {} to load the change",
                file.path.display()
            );
        }
    }
    if args.dry_run {
        eprintln!("dry run: nothing written");
    }
    Ok(if left {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    })
}

/// The client's file: the one given, or the one of the usual places that exists.
fn locate(
    client: Client,
    scope: Scope,
    explicit: Option<&Path>,
    places: &Places,
) -> Result<PathBuf, Error> {
    if let Some(path) = explicit {
        if !path.is_file() {
            return Err(failed(
                format!("{} does not exist", path.display()),
                "give the path of the client's configuration file",
                exit_code::USAGE,
            ));
        }
        return Ok(path.to_owned());
    }
    let candidates = places.candidates(client, scope).map_err(|e| {
        failed(
            e,
            "see peta install --help for the scopes",
            exit_code::USAGE,
        )
    })?;
    let existing: Vec<&PathBuf> = candidates.iter().filter(|p| p.is_file()).collect();
    let list = |paths: &[&PathBuf]| {
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match existing.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(failed(
            format!(
                "no {} configuration ({} scope) found",
                client.title(),
                clients::scope_name(scope)
            ),
            format!(
                "looked for {}; add a server in the client first, or give the file with --config-path",
                list(&candidates.iter().collect::<Vec<_>>())
            ),
            exit_code::CHECK_FAILED,
        )),
        several => Err(failed(
            format!("{} has more than one configuration file", client.title()),
            format!("choose one with --config-path: {}", list(several)),
            exit_code::USAGE,
        )),
    }
}

/// The file's real path (through symlinks, which stay in place) and its text.
fn read(file: &Path) -> Result<(PathBuf, String), Error> {
    let cannot = |e: std::io::Error| Error::io(format!("cannot read {}", file.display()), e);
    let real = std::fs::canonicalize(file).map_err(cannot)?;
    let size = std::fs::metadata(&real).map_err(cannot)?.len();
    if size > MAX_FILE {
        return Err(failed(
            format!("{} is larger than 64 MiB", file.display()),
            "this is not a client configuration peta can edit; check --config-path",
            exit_code::USAGE,
        ));
    }
    let bytes = std::fs::read(&real).map_err(cannot)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        failed(
            format!("{} is not UTF-8 text", file.display()),
            "client configuration files are JSON in UTF-8; check --config-path",
            exit_code::USAGE,
        )
    })?;
    Ok((real, text))
}

fn unreadable(file: &Path, reason: String) -> Error {
    failed(
        format!("cannot edit {}: {reason}", file.display()),
        "fix the file, then run peta again; nothing was changed",
        exit_code::CONFIG,
    )
}

fn peta_path() -> Result<String, Error> {
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| Error::io("cannot tell where peta itself is", e))?;
    exe.to_str().map(str::to_owned).ok_or_else(|| {
        failed(
            format!("peta's path {} is not UTF-8", exe.display()),
            "install peta under a path a JSON file can hold",
            exit_code::FAILED,
        )
    })
}

/// This shell's PATH, absolute entries only (a relative entry would depend on the directory
/// the client starts peta in).
fn captured_path() -> Option<String> {
    let path = std::env::var_os("PATH")?;
    let mut kept: Vec<PathBuf> = Vec::new();
    for dir in std::env::split_paths(&path) {
        if dir.is_absolute() && !kept.contains(&dir) {
            kept.push(dir);
        }
    }
    std::env::join_paths(kept)
        .ok()?
        .into_string()
        .ok()
        .filter(|p| !p.is_empty())
}

fn record_path() -> Result<PathBuf, Error> {
    crate::install::record::default_path().ok_or_else(|| {
        failed(
            "cannot tell where peta keeps its state: HOME (or XDG_STATE_HOME) is not set",
            "set HOME",
            exit_code::USAGE,
        )
    })
}

fn record_error(path: &Path, e: String) -> Error {
    failed(
        e,
        format!(
            "peta records what it installed in {}; nothing was changed",
            path.display()
        ),
        exit_code::FAILED,
    )
}

fn backups_dir(record_path: &Path) -> PathBuf {
    record_path.with_file_name("backups")
}

/// A private copy of the file as it was, named by client and time.
fn backup(record_path: &Path, client: Client, file: &Path, text: &str) -> Result<PathBuf, Error> {
    let stamp = crate::audit::time::now().replace(':', "-");
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = backups_dir(record_path).join(format!("{}-{stamp}-{name}", client.name()));
    crate::files::write_atomic(&path, text.as_bytes()).map_err(|e| {
        failed(
            format!("cannot write the backup: {e}"),
            "nothing was changed; make room or fix the permissions, then run again",
            exit_code::FAILED,
        )
    })?;
    Ok(path)
}

/// Replaces the file, unless it changed since it was read (the client may write it too).
fn replace(real: &Path, before: &str, after: &str) -> Result<(), Error> {
    let now =
        std::fs::read(real).map_err(|e| Error::io(format!("cannot read {}", real.display()), e))?;
    if now != before.as_bytes() {
        return Err(failed(
            format!("{} changed while peta was working on it", real.display()),
            "nothing was written; run the command again",
            exit_code::FAILED,
        ));
    }
    let mode = std::fs::metadata(real).map(|m| m.permissions()).ok();
    crate::files::write_atomic(real, after.as_bytes()).map_err(|e| {
        failed(
            format!("cannot write {}: {e}", real.display()),
            e.hint(),
            exit_code::FAILED,
        )
    })?;
    if let Some(mode) = mode {
        // The file keeps the permissions it had.
        let _ = std::fs::set_permissions(real, mode);
    }
    Ok(())
}

/// A unified diff on stdout, with each credential replaced by `[REDACTED:VAR]` on both sides.
fn print_diff(
    file: &Path,
    before: &str,
    after: &str,
    redactions: &[(String, String, String)],
    label: &str,
) -> Result<(), Error> {
    let redact = |text: &str| {
        let mut text = text.to_owned();
        for (literal, value, mark) in redactions {
            text = text.replace(literal, &format!("\"{mark}\""));
            if !value.is_empty() {
                text = text.replace(value.as_str(), mark);
            }
        }
        text
    };
    let (before, after) = (redact(before), redact(after));
    let name = file.display().to_string();
    let diff = similar::TextDiff::from_lines(&before, &after);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&name, &format!("{name} ({label})"))
        .to_string();
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("cannot write to stdout", e))
}

/// Asks on the terminal; anything but y/yes is no.
fn confirm(question: &str) -> Result<bool, Error> {
    let term = crate::tty::open().ok_or_else(|| {
        failed(
            "no terminal to ask on",
            "look first with --dry-run, then write with --yes",
            exit_code::USAGE,
        )
    })?;
    crate::tty::flush_input(&term);
    term.write_str(&format!("{question} [y/N] "))
        .and_then(|()| term.read_line())
        .map(|answer| matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
        .map_err(|e| Error::io("cannot read the answer from the terminal", e))
}
