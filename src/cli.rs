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
