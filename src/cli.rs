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
    /// Keep API keys in the OS keyring or the age vault instead of config files.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Create and share the age vault: one encrypted file of secrets a team can keep in git.
    #[command(subcommand)]
    Vault(VaultCommand),
    /// Answer the approval requests of running peta sessions, from any terminal.
    ///
    /// Without arguments, shows each waiting request and asks what to do; Deny is the default.
    /// Requests that stopped waiting in the last ten minutes (they timed out) are offered too:
    /// allowing one lets the model's identical retry through without asking again.
    ///
    /// Exits 0 when done. `peta approve ID --answer …` exits 1 when no running session has
    /// that request waiting or it was decided already.
    Approve(ApproveArgs),
    /// Put peta in front of every server in an MCP client's configuration.
    ///
    /// Finds the client's file (or takes --config-path), and for each server the client starts
    /// itself (stdio) that does not run through peta yet: the command becomes this peta with
    /// `run --server NAME -- <the original command>`, so the entry keeps its name; the PATH of
    /// this shell is captured for clients started from a desktop (Claude Desktop, Cursor, VS
    /// Code, Windsurf); env values that look like credentials move into the OS keyring (or, with
    /// --secrets, the age vault) and the entry refers to them. Codex entries also get the
    /// variables Codex does not pass on that peta reads (PETA_CONFIG, XDG_RUNTIME_DIR,
    /// XDG_STATE_HOME, XDG_CONFIG_HOME, as set here). HTTP/SSE servers are listed as skipped.
    ///
    /// Shows what changes (credentials redacted) and asks before writing; keeps a timestamped
    /// backup of the file in peta's state directory, replaces the file atomically and records
    /// what it did for `peta uninstall`. Running it again changes nothing.
    Install(InstallArgs),
    /// Undo `peta install`: put back each server entry peta wrote.
    ///
    /// An entry is restored byte for byte only while it is still exactly what peta wrote; one
    /// changed since is left alone, with the reason. Entries whose credentials were moved into
    /// the keyring (or the age vault) stay wrapped unless --restore-plaintext writes the values
    /// back into the file.
    ///
    /// Exits 1 when some entry was left as it is.
    Uninstall(UninstallArgs),
    /// Check the policy: what it decides about a call, and why.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// List or revoke the approvals remembered with "always allow".
    #[command(subcommand)]
    Grants(GrantsCommand),
    /// See the tool definitions each server is pinned to, review changes, approve them.
    #[command(subcommand)]
    Tools(ToolsCommand),
    /// Write a commented starter configuration (every key, with its default).
    Init {
        /// Where to write it [default: ~/.config/peta/peta.toml].
        #[arg(value_name = "FILE")]
        path: Option<PathBuf>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Check the configuration with the same code `peta run` uses.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// What works on this machine: config, audit log, keyring, vault, notifications,
    /// terminal, the approval console, and each configured server's command.
    ///
    /// Each line is ok, warn or fail, with the fix. Exits 1 when something fails.
    Doctor {
        /// Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Also show the environment this server gets: the names passed from peta's own,
        /// those declared for it, and those left out (names only, never values).
        #[arg(long, value_name = "NAME")]
        server: Option<String>,
    },
    /// Print a shell completion script to stdout.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// The demo MCP server on stdio (used by `peta demo` and the tests).
    #[command(hide = true)]
    DemoServer(DemoServerArgs),
    /// The first process inside a server's box: starts the server, passes signals on, and
    /// exits with the server's status (started by `peta run` through bubblewrap).
    #[command(hide = true)]
    SandboxInit(SandboxInitArgs),
}

#[derive(Debug, clap::Args)]
pub struct SandboxInitArgs {
    /// The descriptor on which to report whether the server started.
    #[arg(long, value_name = "FD")]
    pub ready_fd: i32,
    /// The server's command and arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// The clients `peta install` knows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Client {
    ClaudeDesktop,
    ClaudeCode,
    Cursor,
    Vscode,
    Windsurf,
    Codex,
    Gemini,
}

/// Whose servers: the person's (user), one project's shared file (project), or Claude Code's
/// private per-project entries in `~/.claude.json` (local).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    User,
    Project,
    Local,
}

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The client whose servers to wrap.
    #[arg(long, value_enum)]
    pub client: Client,
    /// Whose servers: the person's (user), this project's shared file (project: .mcp.json,
    /// .cursor/mcp.json, .vscode/mcp.json, .codex/config.toml, .gemini/settings.json), or Claude
    /// Code's entries for this directory in ~/.claude.json (local).
    #[arg(long, value_enum, default_value = "user")]
    pub scope: Scope,
    /// The client's file, where it is not in the usual place.
    #[arg(long, value_name = "FILE")]
    pub config_path: Option<PathBuf>,
    /// Where credentials found in entries go: the OS keyring, the age vault (`peta vault
    /// init` creates it), or nowhere (they stay in the file, with a warning each)
    /// [default: the keyring; where there is none, peta asks, or with --yes skips the entries
    /// that hold one].
    #[arg(long, value_enum, value_name = "WHERE")]
    pub secrets: Option<SecretsTo>,
    /// Show what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Where `peta install` puts the credentials it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretsTo {
    Keyring,
    Vault,
    Leave,
}

#[derive(Debug, clap::Args)]
pub struct UninstallArgs {
    /// Only this client's files [default: every file peta installed into].
    #[arg(long, value_enum)]
    pub client: Option<Client>,
    /// Only this scope's files.
    #[arg(long, value_enum)]
    pub scope: Option<Scope>,
    /// Only this file.
    #[arg(long, value_name = "FILE")]
    pub config_path: Option<PathBuf>,
    /// Write the credentials peta moved into the keyring (or the age vault) back into the file
    /// as plain text.
    #[arg(long)]
    pub restore_plaintext: bool,
    /// Show what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Misbehaviour on request, for the tests of tool pinning (threat row G2, the rug pull).
#[derive(Debug, Default, clap::Args)]
pub struct DemoServerArgs {
    /// After N tool calls, give `echo` a description with a hidden instruction and send
    /// notifications/tools/list_changed.
    #[arg(long, value_name = "N", hide = true)]
    pub rug_pull_after: Option<u32>,
    /// After N tool calls, add a `sidenote` parameter to `add` and send
    /// notifications/tools/list_changed.
    #[arg(long, value_name = "N", hide = true)]
    pub add_parameter_after: Option<u32>,
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
    /// Give the server an environment variable: a plain value or a reference,
    /// GITHUB_TOKEN=keyring:github, DB_URL=age:db or HOME_DIR=env:HOME (repeatable;
    /// overrides the config's entries).
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env_entry)]
    pub env: Vec<(String, String)>,
    /// Confine the server: auto (where bubblewrap works, else run it unconfined with a
    /// warning), required (refuse to start it unconfined) or off [default: defaults.sandbox
    /// or auto].
    #[arg(long, value_enum, value_name = "MODE")]
    pub sandbox: Option<crate::sandbox::Mode>,
    /// Let the confined server write PATH, an existing file or directory (repeatable; adds
    /// to the config's `write`).
    #[arg(long = "sandbox-write", value_name = "PATH")]
    pub sandbox_write: Vec<PathBuf>,
    /// The server's command and arguments, after `--` or without it: from the first word
    /// that is not one of peta's options on, every word is the server's, flags included.
    /// Optional when the config names the command.
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Print each JSON-RPC message of the session as it passes.
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// Answer this request (an id from --list) without asking; needs --answer.
    #[arg(value_name = "ID", requires = "answer")]
    pub id: Option<String>,
    /// The answer for ID: deny, once, session, for:DURATION (for:10m, for:90s, for:2h) or
    /// always.
    #[arg(long, value_name = "ANSWER", requires = "id", value_parser = parse_answer)]
    pub answer: Option<String>,
    /// Print the waiting requests of every session and exit, without asking.
    #[arg(long, conflicts_with_all = ["id", "watch"])]
    pub list: bool,
    /// With --list: print them as JSON, for scripts.
    #[arg(long, requires = "list")]
    pub json: bool,
    /// Stay open and ask about new requests as they arrive, one at a time.
    #[arg(long, conflicts_with = "id")]
    pub watch: bool,
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
    /// Send the log to the collector of [audit.forward] (OTLP/HTTP or syslog), or show
    /// how far forwarding has got.
    ///
    /// `peta run` forwards by itself while it runs (one session at a time forwards every
    /// session's rows); this drains a backlog with no session running. Rows go in order, at
    /// least once: each carries its seq and hashes, so the receiver can drop repeats and
    /// verify the chain.
    ///
    /// Exits 0 once every row is acknowledged, 1 when another process is forwarding this log
    /// now, 125 when the collector cannot be reached (the rows stay in the local log).
    Forward(ForwardArgs),
    /// Show every field of one row.
    Show {
        #[command(flatten)]
        db: DbArgs,
        /// The row's sequence number (the SEQ column of `tail`).
        seq: i64,
    },
}

#[derive(Debug, clap::Args)]
pub struct ForwardArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Keep forwarding new rows as they are written (until interrupted).
    #[arg(long, conflicts_with = "status")]
    pub watch: bool,
    /// Show the destination, the last acknowledged row, the lag and the last error, and
    /// send nothing.
    #[arg(long)]
    pub status: bool,
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
pub enum ConfigCommand {
    /// Parse and check the configuration (and a project's peta.toml in this directory); say
    /// which file was used, or what is wrong, where, and how to fix it.
    Check {
        /// Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum GrantsCommand {
    /// Show every remembered "always allow": its id, server, tool and what it is bound to.
    List,
    /// Forget one remembered approval (by the id `list` shows), or all of them with --all.
    Revoke {
        /// The grant's id.
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        /// Revoke every grant.
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ToolsCommand {
    /// Show each server's pinned tools, their state, and warnings about their definitions.
    ///
    /// States: new (trusted on first use; nobody has approved it yet), pinned (approved),
    /// changed (the server now lists a different definition; the tool is held back until
    /// the change is approved).
    List {
        #[command(flatten)]
        db: DbArgs,
        /// Only this server's tools.
        #[arg(long, value_name = "NAME")]
        server: Option<String>,
        /// Start the configured server (with its environment and secrets), list its tools as an
        /// MCP client and check them against the pins first, before any agent uses them.
        #[arg(long, requires = "server")]
        connect: bool,
    },
    /// Show how a changed tool's definition differs from the pinned one.
    Diff {
        #[command(flatten)]
        db: DbArgs,
        /// The server's name (as `peta tools list` shows it).
        server: String,
        /// The tool's name.
        tool: String,
    },
    /// Approve a tool's definition as the server lists it now (or every tool of the server,
    /// and its instructions, with --all).
    ///
    /// Review the change with `peta tools diff` first. Exits 1 when there was nothing to
    /// approve.
    Approve {
        #[command(flatten)]
        db: DbArgs,
        /// The server's name.
        server: String,
        /// The tool's name.
        #[arg(required_unless_present = "all")]
        tool: Option<String>,
        /// Approve every tool of the server.
        #[arg(long, conflicts_with = "tool")]
        all: bool,
    },
    /// Forget every pin of a server: its next tool list is trusted on first use again.
    Reset {
        #[command(flatten)]
        db: DbArgs,
        /// The server's name.
        server: String,
    },
}

/// Where a secret lives.
#[derive(Debug, clap::Args)]
pub struct BackendArgs {
    /// Use the age vault instead of the OS keyring.
    #[arg(long)]
    pub vault: bool,
    /// Configuration file to take [vault] from.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
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
    /// Run the current policy over past calls in the audit log and list those whose decision
    /// would now be different.
    ///
    /// "ask" means the call would now wait for a person. Exits 0 when nothing would change,
    /// 1 when something would.
    Replay {
        #[command(flatten)]
        db: DbArgs,
        /// Only calls at or after this time (2026-11-01, 2026-11-01T12:00:00Z, or an age: 7d).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
    },
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

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret. The value is read from the terminal without echo, or from stdin
    /// when it is piped (one trailing newline is dropped); never from the command line.
    ///
    /// Example: peta secret set github   then in the config: GITHUB_TOKEN = "keyring:github"
    Set {
        /// The secret's name, used in references (keyring:NAME, age:NAME).
        name: String,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Say whether a secret is set; with --reveal, print its value to stdout.
    Get {
        name: String,
        /// Print the value itself.
        #[arg(long)]
        reveal: bool,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// List secret names, where they live and which servers use them; never values.
    List {
        /// Configuration file whose servers' references are shown.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Remove a secret.
    Rm {
        name: String,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Store every entry of a dotenv file, or of the `env` blocks of an MCP client config
    /// (Claude Desktop, Cursor, VS Code …), under its variable name.
    ///
    /// Existing secrets are kept unless --force. Prints the references to put in peta's config.
    Import {
        /// A dotenv file (NAME=value lines) or a client's JSON config.
        file: PathBuf,
        /// Only the env block of this server of a client config.
        #[arg(long, value_name = "NAME")]
        server: Option<String>,
        /// Replace secrets that already exist.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        backend: BackendArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Create your age identity if you have none, and the vault if there is none.
    ///
    /// Prints your public key: give it to a teammate who can open a shared vault, so they
    /// can add you with `peta vault recipients add`.
    Init {
        /// Where to keep the new identity: a 0600 file or the OS keyring.
        #[arg(long, value_enum, default_value = "file")]
        identity: IdentityStore,
        /// Protect the identity file with a passphrase typed at the terminal (asked each
        /// time the vault is opened; needs a terminal).
        #[arg(long)]
        passphrase: bool,
        /// Configuration file to take [vault] from.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Who the vault is encrypted to.
    #[command(subcommand)]
    Recipients(RecipientsCommand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IdentityStore {
    File,
    Keyring,
}

#[derive(Debug, Subcommand)]
pub enum RecipientsCommand {
    /// Encrypt the vault to one more age public key (age1…), re-encrypting it now.
    Add {
        key: String,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Show the public keys the vault is encrypted to.
    List {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Stop encrypting to a key, re-encrypting now. Rotate the secrets too: the key can
    /// still open older copies (git history, backups).
    Rm {
        key: String,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

fn parse_answer(text: &str) -> Result<String, String> {
    crate::approval::console::protocol::parse_answer(text).map(|_| text.to_owned())
}

fn parse_env_entry(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{text:?} is not NAME=VALUE"))
}
