//! The command line. The doc comments here are the `--help` text.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// peta: a local security proxy for MCP servers.
///
/// Put `peta run --` in front of an MCP server's command in your client's config. peta
/// starts the server, relays its JSON-RPC stream byte for byte, refuses malformed or
/// ambiguous messages, and cleans up every process it started.
#[derive(Debug, Parser)]
#[command(name = "peta", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an MCP server behind peta (stdin/stdout carry the protocol).
    ///
    /// Example: peta run -- npx -y @modelcontextprotocol/server-everything
    Run(RunArgs),
    /// Watch a complete session through the real relay, with peta's demo server.
    Demo(DemoArgs),
    /// Read the audit log: verify it, export it, follow it, show a row.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check the policy: what it decides about a call, and why.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Print a shell completion script to stdout.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// The demo MCP server on stdio (used by `peta demo` and the tests).
    #[command(hide = true)]
    DemoServer,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Name of the server: selects `[servers.NAME]` in the config and labels logs.
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
    /// Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Time the server gets to exit after its input closes, and again after SIGTERM
    /// (e.g. "2s", "500ms") [default: relay.shutdown_grace or 2s].
    #[arg(long, value_name = "DURATION")]
    pub grace: Option<String>,
    /// Longest message accepted in either direction, in bytes
    /// [default: relay.max_line_bytes or 64 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_line_bytes: Option<usize>,
    /// Give the server an environment variable: a plain value or a reference such as
    /// GITHUB_TOKEN=env:GITHUB_TOKEN (repeatable; overrides the config's entries).
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env_entry)]
    pub env: Vec<(String, String)>,
    /// The server's command and arguments; optional when the config names the command.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Print each JSON-RPC message of the session as it passes.
    #[arg(long)]
    pub verbose: bool,
}

/// Which audit database to read.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// The audit database [default: audit.path from the config, else
    /// ~/.local/state/peta/audit.db].
    #[arg(long, value_name = "FILE", global = true)]
    pub db: Option<PathBuf>,
    /// Configuration file to take audit.path from.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain and the anchor file; names the first bad row.
    ///
    /// Exits 0 when the log verifies and 1 when it does not.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Export rows for a reviewer (verifies the chain first and says so in the export).
    Export(ExportArgs),
    /// Show the newest rows, aligned for a person; -f keeps following.
    Tail {
        #[command(flatten)]
        db: DbArgs,
        /// How many rows to show.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: u32,
        /// Keep printing new rows as they are written.
        #[arg(short, long)]
        follow: bool,
    },
    /// Show every field of one row.
    Show {
        #[command(flatten)]
        db: DbArgs,
        /// The row's sequence number (the SEQ column of `tail`).
        seq: i64,
    },
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: crate::audit::export::Format,
    /// Only rows at or after this time (2026-11-01, 2026-11-01T12:00:00Z, or an age: 7d, 36h).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only rows before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only rows of this server (its --server name).
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
    /// Only rows of this tool.
    #[arg(long, value_name = "TOOL")]
    pub tool: Option<String>,
    /// Only rows with this decision (allow, deny, refused, dropped, pass).
    #[arg(long, value_name = "DECISION")]
    pub decision: Option<String>,
    /// Only rows of this session.
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// Write to FILE (created 0600) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Decide a hypothetical call with the configured rules, and explain the decision.
    ///
    /// Prints the decision (allow, ask or deny) alone on the first line, then what decided it
    /// and why, then how each rule fared: what it matched on, or the part that did not match.
    /// Exits 0 when the call would be allowed, 1 when it would be asked about or denied.
    ///
    /// Example: peta policy test filesystem write_file '{"path": "/etc/hosts"}'
    Test(PolicyTestArgs),
}

#[derive(Debug, clap::Args)]
pub struct PolicyTestArgs {
    /// The server's name, as given to `peta run --server`.
    pub server: String,
    /// The tool's name; with --method, the resource's URI or the prompt's name (ignored for
    /// sampling/createMessage and elicitation/create, whose name is the method).
    pub tool: String,
    /// The call's arguments: one JSON object, e.g. '{"path": "/etc/hosts"}'.
    #[arg(value_name = "ARGS-JSON")]
    pub args: Option<String>,
    /// The request's method.
    #[arg(
        long,
        value_name = "METHOD",
        default_value = "tools/call",
        value_parser = clap::builder::PossibleValuesParser::new(
            crate::policy::Method::ALL.map(crate::policy::Method::as_str)
        )
    )]
    pub method: String,
    /// The tool's annotations as the server would list them, e.g. '{"readOnlyHint": true}'
    /// (they count only for a server marked trust_annotations).
    #[arg(long, value_name = "JSON")]
    pub annotations: Option<String>,
    /// Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

fn parse_env_entry(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{text:?} is not NAME=VALUE"))
}
