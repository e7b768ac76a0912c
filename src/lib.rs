//! peta: a local, per-server security proxy for MCP servers.
//!
//! An MCP client starts `peta run -- <server command>` instead of the server. peta starts
//! the server as its child and relays the newline-delimited JSON-RPC stream both ways:
//!
//! ```text
//! client stdin  ─▶ framing ─▶ envelope ─▶ admit ─▶ child stdin
//! client stdout ◀─ admit ◀─ envelope ◀─ framing ◀─ child stdout
//! peta stderr   ◀─ child stderr (line by line)
//! ```
//!
//! - [`wire::framing`] cuts the byte stream into lines under a size cap;
//! - [`wire::envelope`] parses each line strictly (one value, valid UTF-8, no duplicate keys
//!   at any depth, no look-alike protocol keys or methods) while keeping its bytes;
//! - [`proxy::relay`] admits messages (request ids in flight per direction) and forwards the
//!   very bytes read; malformed client requests get a JSON-RPC error, malformed server lines
//!   are dropped and logged;
//! - [`policy`] decides a gated request (allow, ask or deny, and why) from the `[[rules]]`
//!   compiled with the configuration; pure functions, no I/O;
//! - [`proxy::session`] owns the child's lifecycle: its own session and process group, the
//!   MCP stdio shutdown order (close stdin, wait, SIGTERM, wait, SIGKILL; a signal peta
//!   receives is passed on to the group at once), and a watchdog that ends the group even if
//!   peta is killed.
//!
//! stdout of `peta run` carries the protocol only; everything for people goes to stderr.

mod approval;
pub mod audit;
pub mod cli;
pub mod commands;
mod config;
mod display;
mod error;
pub mod exit_code;
mod files;
mod install;
mod pins;
mod policy;
mod proxy;
mod sandbox;
mod secrets;
mod tty;
mod wire;

use clap::Parser;

use crate::cli::{Cli, Command};

/// Parses the command line, runs the command, renders any error, and returns the exit code.
pub fn main() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit_code::USAGE
            } else {
                exit_code::OK
            };
        }
    };
    init_logging();
    let result = match cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Audit(command) => commands::audit::run(command),
        Command::Secret(command) => commands::secret::run(command),
        Command::Vault(command) => commands::vault::run(command),
        Command::Approve(args) => commands::approve::run(args),
        Command::Policy { command } => commands::policy::run(command),
        Command::Install(args) => commands::install::install(args),
        Command::Uninstall(args) => commands::install::uninstall(args),
        Command::Grants(command) => commands::grants::run(command),
        Command::Init { path, force } => commands::setup::init(path, force),
        Command::Config(command) => commands::setup::config(command),
        Command::Doctor { config, server } => {
            commands::setup::doctor(config.as_deref(), server.as_deref())
        }
        Command::Completions { shell } => commands::completions::run(shell),
        Command::Tools(command) => commands::tools::run(command),
        Command::DemoServer(args) => commands::demo_server::run(args),
        #[cfg(target_os = "linux")]
        Command::SandboxInit(args) => sandbox::init::run(args),
        #[cfg(not(target_os = "linux"))]
        Command::SandboxInit(_) => Err(error::Error::Usage(
            "sandbox-init runs only inside a Linux box".into(),
        )),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", e.render());
            e.exit_code()
        }
    }
}

/// Diagnostics go to stderr, filtered by `PETA_LOG` (default: warnings and errors).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PETA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

#[doc(hidden)]
pub mod fuzz;

/// Entry points for the benchmarks under `benches/`; not a stable API.
#[doc(hidden)]
pub mod bench {
    use std::time::{Duration, Instant};

    use crate::secrets::SecretValue;
    use crate::secrets::redact::Redactor;

    /// Builds a redactor for `secrets` and times `json_line` over `line`, `rounds` times.
    /// Returns the fastest round and the redacted line of the last one (if it changed).
    pub fn redact_json_line(
        secrets: &[(String, String)],
        line: &[u8],
        rounds: usize,
    ) -> (Duration, Option<Vec<u8>>) {
        let values: Vec<(String, SecretValue)> = secrets
            .iter()
            .map(|(k, v)| (k.clone(), SecretValue::new(v.clone())))
            .collect();
        let (redactor, _) = Redactor::new(values.iter().map(|(k, v)| (k.as_str(), v)));
        let mut best = Duration::MAX;
        let mut last = None;
        for _ in 0..rounds {
            let start = Instant::now();
            last = redactor.json_line(line);
            best = best.min(start.elapsed());
        }
        (best, last)
    }

    /// Pins a list of `tools` tool definitions for a new server in the database at `db`, then
    /// checks the same list again: the time of each.
    pub fn pin_tools(db: &std::path::Path, tools: usize) -> (Duration, Duration) {
        let list: Vec<serde_json::Value> = (0..tools)
            .map(|i| {
                serde_json::json!({
                    "name": format!("tool_{i:04}"),
                    "description": format!("Tool number {i}: does one thing well, and says so at some length to look like a real description."),
                    "inputSchema": {"type": "object", "properties": {
                        "path": {"type": "string", "description": "Where"},
                        "count": {"type": "integer", "minimum": 0}}, "required": ["path"]},
                    "annotations": {"readOnlyHint": i % 2 == 0},
                })
            })
            .collect();
        let pins = crate::pins::Pins::open(db).expect("pins");
        let time = |pins: &crate::pins::Pins| {
            let start = Instant::now();
            let defs = crate::pins::definitions(&list);
            let _ = crate::pins::hygiene(&defs);
            pins.observe("bench", &defs).expect("observe");
            start.elapsed()
        };
        (time(&pins), time(&pins))
    }
}
