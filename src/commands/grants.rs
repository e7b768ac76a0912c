//! `peta grants list|revoke`: the approvals remembered with "always allow".

use std::io::Write;

use crate::approval::grants;
use crate::cli::GrantsCommand;
use crate::error::Error;
use crate::exit_code;

pub(crate) fn run(command: GrantsCommand) -> Result<u8, Error> {
    let file = crate::commands::run::grants_file().ok_or_else(|| {
        Error::Usage(
            "cannot tell where grants are kept: HOME (or XDG_STATE_HOME) is not set".into(),
        )
    })?;
    let failed = |message: String| Error::Secret {
        message,
        hint: format!("the grants are kept in {}", file.display()),
        code: exit_code::FAILED,
    };
    let all = grants::read(&file).map_err(failed)?;
    match command {
        GrantsCommand::List => {
            if all.is_empty() {
                eprintln!("no remembered approvals ({})", file.display());
                return Ok(exit_code::OK);
            }
            let mut out = std::io::stdout().lock();
            let mut write = |line: String| {
                writeln!(out, "{line}").map_err(|e| Error::io("cannot write to stdout", e))
            };
            write(format!(
                "{:<12}  {:<29}  {:<24}  {:<10}  {:<12}  ARGUMENTS SHA-256",
                "ID", "SERVER@COMMAND", "TOOL", "BY", "DEFINITION"
            ))?;
            for g in &all {
                let definition = if g.key.definition.is_empty() {
                    "unlisted".to_owned()
                } else {
                    g.key.definition[..12].to_owned()
                };
                // The command's hash, as `peta tools list` shows unbound servers; a grant
                // from before commands were keyed applies to none.
                let server = match g.key.command.get(..12) {
                    Some(command) => format!("{}@{command}", g.key.server),
                    None => format!("{} (no command: inert)", g.key.server),
                };
                write(format!(
                    "{:<12}  {:<29}  {:<24}  {:<10}  {:<12}  {}",
                    g.id,
                    crate::display::visible(&server),
                    crate::display::visible(&g.key.tool),
                    g.by,
                    definition,
                    g.key.arguments
                ))?;
            }
            Ok(exit_code::OK)
        }
        GrantsCommand::Revoke { id, all: every } => {
            let before = all.len();
            let kept: Vec<_> = if every {
                Vec::new()
            } else {
                let id = id.unwrap_or_default();
                all.into_iter().filter(|g| g.id != id).collect()
            };
            let revoked = before - kept.len();
            if every && revoked == 0 {
                eprintln!("no remembered approvals; nothing to revoke");
                return Ok(exit_code::OK);
            }
            if revoked == 0 {
                return Err(Error::Secret {
                    message: "no such grant".into(),
                    hint: "`peta grants list` shows the ids".into(),
                    code: exit_code::CHECK_FAILED,
                });
            }
            grants::write(&file, kept).map_err(failed)?;
            eprintln!("revoked {revoked} grant(s); running sessions stop using them too");
            Ok(exit_code::OK)
        }
    }
}
