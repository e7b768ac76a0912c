//! `peta completions SHELL`: completion scripts generated from the CLI definition. The
//! committed copies under `completions/` are checked against these by a test.

use clap::CommandFactory;

use crate::cli::Cli;

/// The completion script for `shell`.
pub fn script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "peta", &mut out);
    out
}

/// The file name the script is committed under in `completions/`.
pub fn file_name(shell: clap_complete::Shell) -> String {
    use clap_complete::Shell;
    match shell {
        Shell::Bash => "peta.bash".into(),
        Shell::Elvish => "peta.elv".into(),
        Shell::Fish => "peta.fish".into(),
        Shell::PowerShell => "_peta.ps1".into(),
        Shell::Zsh => "_peta".into(),
        _ => format!("peta.{shell}"),
    }
}

pub(crate) fn run(shell: clap_complete::Shell) -> Result<u8, crate::error::Error> {
    use std::io::Write;
    std::io::stdout()
        .write_all(&script(shell))
        .map_err(|e| crate::error::Error::io("cannot write the completion script", e))?;
    Ok(0)
}
