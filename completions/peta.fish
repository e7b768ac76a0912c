# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_peta_global_optspecs
    string join \n h/help V/version
end

function __fish_peta_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_peta_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_peta_using_subcommand
    set -l cmd (__fish_peta_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c peta -n "__fish_peta_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_needs_command" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_needs_command" -f -a "run" -d 'Run an MCP server behind peta (stdin/stdout carry the protocol)'
complete -c peta -n "__fish_peta_needs_command" -f -a "demo" -d 'Watch a complete session through the real relay, with peta\'s demo server'
complete -c peta -n "__fish_peta_needs_command" -f -a "audit" -d 'Read the audit log: verify it, export it, follow it, show a row'
complete -c peta -n "__fish_peta_needs_command" -f -a "secret" -d 'Keep API keys in the OS keyring or the age vault instead of config files'
complete -c peta -n "__fish_peta_needs_command" -f -a "vault" -d 'Create and share the age vault: one encrypted file of secrets a team can keep in git'
complete -c peta -n "__fish_peta_needs_command" -f -a "approve" -d 'Answer the approval requests of running peta sessions, from any terminal'
complete -c peta -n "__fish_peta_needs_command" -f -a "install" -d 'Put peta in front of every server in an MCP client\'s configuration'
complete -c peta -n "__fish_peta_needs_command" -f -a "uninstall" -d 'Undo `peta install`: put back each server entry peta wrote'
complete -c peta -n "__fish_peta_needs_command" -f -a "policy" -d 'Check the policy: what it decides about a call, and why'
complete -c peta -n "__fish_peta_needs_command" -f -a "grants" -d 'List or revoke the approvals remembered with "always allow"'
complete -c peta -n "__fish_peta_needs_command" -f -a "tools" -d 'See the tool definitions each server is pinned to, review changes, approve them'
complete -c peta -n "__fish_peta_needs_command" -f -a "init" -d 'Write a commented starter configuration (every key, with its default)'
complete -c peta -n "__fish_peta_needs_command" -f -a "config" -d 'Check the configuration with the same code `peta run` uses'
complete -c peta -n "__fish_peta_needs_command" -f -a "doctor" -d 'What works on this machine: config, audit log, keyring, vault, notifications, terminal, the approval console, and each configured server\'s command'
complete -c peta -n "__fish_peta_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c peta -n "__fish_peta_needs_command" -f -a "demo-server" -d 'The demo MCP server on stdio (used by `peta demo` and the tests)'
complete -c peta -n "__fish_peta_needs_command" -f -a "sandbox-init" -d 'The first process inside a server\'s box: starts the server, passes signals on, and exits with the server\'s status (started by `peta run` through bubblewrap)'
complete -c peta -n "__fish_peta_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand run" -l server -d 'Name of the server: selects `[servers.NAME]` in the config and labels logs' -r
complete -c peta -n "__fish_peta_using_subcommand run" -l config -d 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]' -r -F
complete -c peta -n "__fish_peta_using_subcommand run" -l grace -d 'Time the server gets to exit after its input closes, and again after SIGTERM (e.g. "2s", "500ms") [default: relay.shutdown_grace or 2s]' -r
complete -c peta -n "__fish_peta_using_subcommand run" -l max-line-bytes -d 'Longest message accepted in either direction, in bytes [default: relay.max_line_bytes or 64 MiB]' -r
complete -c peta -n "__fish_peta_using_subcommand run" -l env -d 'Give the server an environment variable: a plain value or a reference, GITHUB_TOKEN=keyring:github, DB_URL=age:db or HOME_DIR=env:HOME (repeatable; overrides the config\'s entries)' -r
complete -c peta -n "__fish_peta_using_subcommand run" -l sandbox -d 'Confine the server: auto (where bubblewrap works, else run it unconfined with a warning), required (refuse to start it unconfined) or off [default: defaults.sandbox or auto]' -r -f -a "auto\t'Confine where the platform allows it; otherwise run unconfined with one warning'
required\t'Refuse to start a server that cannot be confined'
off\t'Never confine'"
complete -c peta -n "__fish_peta_using_subcommand run" -l sandbox-write -d 'Let the confined server write PATH, an existing file or directory (repeatable; adds to the config\'s `write`)' -r -F
complete -c peta -n "__fish_peta_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand run" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand demo" -l verbose -d 'Print each JSON-RPC message of the session as it passes'
complete -c peta -n "__fish_peta_using_subcommand demo" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand demo" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand audit; and not __fish_seen_subcommand_from verify export tail forward show help" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand audit; and not __fish_seen_subcommand_from verify export tail forward show help" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand audit; and not __fish_seen_subcommand_from verify export tail forward show help" -f -a "verify" -d 'Check the whole hash chain and the anchor file; names the first bad row'
complete -c peta -n "__fish_peta_using_subcommand audit; and not __fish_seen_subcommand_from verify export tail forward show help" -f -a "export" -d 'Export rows for a reviewer (verifies the chain first and says so in the export)'
complete -c peta -n "__fish_peta_using_subcommand audit; and not __fish_seen_subcommand_from verify export tail forward show help" -f -a "tail" -d 'Show the newest rows, aligned for a person; -f keeps following'
complete -c peta -n "__fish_peta_using_subcommand audit; and not __fish_seen_subcommand_from verify export tail forward show help" -f -a "forward" -d 'Send the log to the collector of [audit.forward] (OTLP/HTTP or syslog), or show how far forwarding has got'
complete -c peta -n "__fish_peta_using_subcommand audit; and not __fish_seen_subcommand_from verify export tail forward show help" -f -a "show" -d 'Show every field of one row'
complete -c peta -n "__fish_peta_using_subcommand audit; and not __fish_seen_subcommand_from verify export tail forward show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from verify" -l db -d 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]' -r -F
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from verify" -l config -d 'Configuration file to take audit.path from' -r -F
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from export" -l db -d 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]' -r -F
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from export" -l config -d 'Configuration file to take audit.path from' -r -F
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from export" -l format -d 'Output format' -r -f -a "jsonl\t''
csv\t''
json\t''"
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from export" -l since -d 'Only rows at or after this time (2026-11-01, 2026-11-01T12:00:00Z, or an age: 7d, 36h)' -r
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from export" -l until -d 'Only rows before this time (same forms as --since)' -r
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from export" -l server -d 'Only rows of this server (its --server name)' -r
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from export" -l tool -d 'Only rows of this tool' -r
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from export" -l decision -d 'Only rows with this decision (allow, deny, refused, dropped, pass)' -r
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from export" -l session -d 'Only rows of this session' -r
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to FILE (created 0600) instead of stdout' -r -F
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from tail" -l db -d 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]' -r -F
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from tail" -l config -d 'Configuration file to take audit.path from' -r -F
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from tail" -s n -l lines -d 'How many rows to show' -r
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from tail" -s f -l follow -d 'Keep printing new rows as they are written'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from tail" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from tail" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from forward" -l db -d 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]' -r -F
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from forward" -l config -d 'Configuration file to take audit.path from' -r -F
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from forward" -l watch -d 'Keep forwarding new rows as they are written (until interrupted)'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from forward" -l status -d 'Show the destination, the last acknowledged row, the lag and the last error, and send nothing'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from forward" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from forward" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from show" -l db -d 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]' -r -F
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from show" -l config -d 'Configuration file to take audit.path from' -r -F
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check the whole hash chain and the anchor file; names the first bad row'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export rows for a reviewer (verifies the chain first and says so in the export)'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "tail" -d 'Show the newest rows, aligned for a person; -f keeps following'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "forward" -d 'Send the log to the collector of [audit.forward] (OTLP/HTTP or syslog), or show how far forwarding has got'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show every field of one row'
complete -c peta -n "__fish_peta_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand secret; and not __fish_seen_subcommand_from set get list rm import help" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand secret; and not __fish_seen_subcommand_from set get list rm import help" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand secret; and not __fish_seen_subcommand_from set get list rm import help" -f -a "set" -d 'Store a secret. The value is read from the terminal without echo, or from stdin when it is piped (one trailing newline is dropped); never from the command line'
complete -c peta -n "__fish_peta_using_subcommand secret; and not __fish_seen_subcommand_from set get list rm import help" -f -a "get" -d 'Say whether a secret is set; with --reveal, print its value to stdout'
complete -c peta -n "__fish_peta_using_subcommand secret; and not __fish_seen_subcommand_from set get list rm import help" -f -a "list" -d 'List secret names, where they live and which servers use them; never values'
complete -c peta -n "__fish_peta_using_subcommand secret; and not __fish_seen_subcommand_from set get list rm import help" -f -a "rm" -d 'Remove a secret'
complete -c peta -n "__fish_peta_using_subcommand secret; and not __fish_seen_subcommand_from set get list rm import help" -f -a "import" -d 'Store every entry of a dotenv file, or of the `env` blocks of an MCP client config (Claude Desktop, Cursor, VS Code …), under its variable name'
complete -c peta -n "__fish_peta_using_subcommand secret; and not __fish_seen_subcommand_from set get list rm import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from set" -l config -d 'Configuration file to take [vault] from' -r -F
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from set" -l vault -d 'Use the age vault instead of the OS keyring'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from get" -l config -d 'Configuration file to take [vault] from' -r -F
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from get" -l reveal -d 'Print the value itself'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from get" -l vault -d 'Use the age vault instead of the OS keyring'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from list" -l config -d 'Configuration file whose servers\' references are shown' -r -F
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from rm" -l config -d 'Configuration file to take [vault] from' -r -F
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from rm" -l vault -d 'Use the age vault instead of the OS keyring'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from import" -l server -d 'Only the env block of this server of a client config' -r
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from import" -l config -d 'Configuration file to take [vault] from' -r -F
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from import" -l force -d 'Replace secrets that already exist'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from import" -l vault -d 'Use the age vault instead of the OS keyring'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from help" -f -a "set" -d 'Store a secret. The value is read from the terminal without echo, or from stdin when it is piped (one trailing newline is dropped); never from the command line'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from help" -f -a "get" -d 'Say whether a secret is set; with --reveal, print its value to stdout'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from help" -f -a "list" -d 'List secret names, where they live and which servers use them; never values'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove a secret'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from help" -f -a "import" -d 'Store every entry of a dotenv file, or of the `env` blocks of an MCP client config (Claude Desktop, Cursor, VS Code …), under its variable name'
complete -c peta -n "__fish_peta_using_subcommand secret; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand vault; and not __fish_seen_subcommand_from init recipients help" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand vault; and not __fish_seen_subcommand_from init recipients help" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand vault; and not __fish_seen_subcommand_from init recipients help" -f -a "init" -d 'Create your age identity if you have none, and the vault if there is none'
complete -c peta -n "__fish_peta_using_subcommand vault; and not __fish_seen_subcommand_from init recipients help" -f -a "recipients" -d 'Who the vault is encrypted to'
complete -c peta -n "__fish_peta_using_subcommand vault; and not __fish_seen_subcommand_from init recipients help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from init" -l identity -d 'Where to keep the new identity: a 0600 file or the OS keyring' -r -f -a "file\t''
keyring\t''"
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from init" -l config -d 'Configuration file to take [vault] from' -r -F
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from init" -l passphrase -d 'Protect the identity file with a passphrase typed at the terminal (asked each time the vault is opened; needs a terminal)'
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from recipients" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from recipients" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from recipients" -f -a "add" -d 'Encrypt the vault to one more age public key (age1…), re-encrypting it now'
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from recipients" -f -a "list" -d 'Show the public keys the vault is encrypted to'
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from recipients" -f -a "rm" -d 'Stop encrypting to a key, re-encrypting now. Rotate the secrets too: the key can still open older copies (git history, backups)'
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from recipients" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "init" -d 'Create your age identity if you have none, and the vault if there is none'
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "recipients" -d 'Who the vault is encrypted to'
complete -c peta -n "__fish_peta_using_subcommand vault; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand approve" -l answer -d 'The answer for ID: deny, once, session, for:DURATION (for:10m, for:90s, for:2h) or always' -r
complete -c peta -n "__fish_peta_using_subcommand approve" -l list -d 'Print the waiting requests of every session and exit, without asking'
complete -c peta -n "__fish_peta_using_subcommand approve" -l json -d 'With --list: print them as JSON, for scripts'
complete -c peta -n "__fish_peta_using_subcommand approve" -l watch -d 'Stay open and ask about new requests as they arrive, one at a time'
complete -c peta -n "__fish_peta_using_subcommand approve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand approve" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand install" -l client -d 'The client whose servers to wrap' -r -f -a "claude-desktop\t''
claude-code\t''
cursor\t''
vscode\t''
windsurf\t''
codex\t''
gemini\t''"
complete -c peta -n "__fish_peta_using_subcommand install" -l scope -d 'Whose servers: the person\'s (user), this project\'s shared file (project: .mcp.json, .cursor/mcp.json, .vscode/mcp.json, .codex/config.toml, .gemini/settings.json), or Claude Code\'s entries for this directory in ~/.claude.json (local)' -r -f -a "user\t''
project\t''
local\t''"
complete -c peta -n "__fish_peta_using_subcommand install" -l config-path -d 'The client\'s file, where it is not in the usual place' -r -F
complete -c peta -n "__fish_peta_using_subcommand install" -l secrets -d 'Where credentials found in entries go: the OS keyring, the age vault (`peta vault init` creates it), or nowhere (they stay in the file, with a warning each) [default: the keyring; where there is none, peta asks, or with --yes skips the entries that hold one]' -r -f -a "keyring\t''
vault\t''
leave\t''"
complete -c peta -n "__fish_peta_using_subcommand install" -l dry-run -d 'Show what would change, and change nothing'
complete -c peta -n "__fish_peta_using_subcommand install" -s y -l yes -d 'Write without asking'
complete -c peta -n "__fish_peta_using_subcommand install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand install" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand uninstall" -l client -d 'Only this client\'s files [default: every file peta installed into]' -r -f -a "claude-desktop\t''
claude-code\t''
cursor\t''
vscode\t''
windsurf\t''
codex\t''
gemini\t''"
complete -c peta -n "__fish_peta_using_subcommand uninstall" -l scope -d 'Only this scope\'s files' -r -f -a "user\t''
project\t''
local\t''"
complete -c peta -n "__fish_peta_using_subcommand uninstall" -l config-path -d 'Only this file' -r -F
complete -c peta -n "__fish_peta_using_subcommand uninstall" -l restore-plaintext -d 'Write the credentials peta moved into the keyring (or the age vault) back into the file as plain text'
complete -c peta -n "__fish_peta_using_subcommand uninstall" -l dry-run -d 'Show what would change, and change nothing'
complete -c peta -n "__fish_peta_using_subcommand uninstall" -s y -l yes -d 'Write without asking'
complete -c peta -n "__fish_peta_using_subcommand uninstall" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand uninstall" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand policy; and not __fish_seen_subcommand_from test replay help" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand policy; and not __fish_seen_subcommand_from test replay help" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand policy; and not __fish_seen_subcommand_from test replay help" -f -a "test" -d 'Decide a hypothetical call with the configured rules, and explain the decision'
complete -c peta -n "__fish_peta_using_subcommand policy; and not __fish_seen_subcommand_from test replay help" -f -a "replay" -d 'Run the current policy over past calls in the audit log and list those whose decision would now be different'
complete -c peta -n "__fish_peta_using_subcommand policy; and not __fish_seen_subcommand_from test replay help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from test" -l method -d 'The request\'s method' -r -f -a "tools/call\t''
resources/read\t''
prompts/get\t''
sampling/createMessage\t''
elicitation/create\t''"
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from test" -l annotations -d 'The tool\'s annotations as the server would list them, e.g. \'{"readOnlyHint": true}\' (they count only for a server marked trust_annotations)' -r
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from test" -l config -d 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]' -r -F
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from test" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from replay" -l db -d 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]' -r -F
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from replay" -l config -d 'Configuration file to take audit.path from' -r -F
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from replay" -l since -d 'Only calls at or after this time (2026-11-01, 2026-11-01T12:00:00Z, or an age: 7d)' -r
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from replay" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "test" -d 'Decide a hypothetical call with the configured rules, and explain the decision'
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "replay" -d 'Run the current policy over past calls in the audit log and list those whose decision would now be different'
complete -c peta -n "__fish_peta_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand grants; and not __fish_seen_subcommand_from list revoke help" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand grants; and not __fish_seen_subcommand_from list revoke help" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand grants; and not __fish_seen_subcommand_from list revoke help" -f -a "list" -d 'Show every remembered "always allow": its id, server, tool and what it is bound to'
complete -c peta -n "__fish_peta_using_subcommand grants; and not __fish_seen_subcommand_from list revoke help" -f -a "revoke" -d 'Forget one remembered approval (by the id `list` shows), or all of them with --all'
complete -c peta -n "__fish_peta_using_subcommand grants; and not __fish_seen_subcommand_from list revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand grants; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand grants; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand grants; and __fish_seen_subcommand_from revoke" -l all -d 'Revoke every grant'
complete -c peta -n "__fish_peta_using_subcommand grants; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand grants; and __fish_seen_subcommand_from revoke" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand grants; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show every remembered "always allow": its id, server, tool and what it is bound to'
complete -c peta -n "__fish_peta_using_subcommand grants; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Forget one remembered approval (by the id `list` shows), or all of them with --all'
complete -c peta -n "__fish_peta_using_subcommand grants; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand tools; and not __fish_seen_subcommand_from list diff approve reset help" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand tools; and not __fish_seen_subcommand_from list diff approve reset help" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand tools; and not __fish_seen_subcommand_from list diff approve reset help" -f -a "list" -d 'Show each server\'s pinned tools, their state, and warnings about their definitions'
complete -c peta -n "__fish_peta_using_subcommand tools; and not __fish_seen_subcommand_from list diff approve reset help" -f -a "diff" -d 'Show how a changed tool\'s definition differs from the pinned one'
complete -c peta -n "__fish_peta_using_subcommand tools; and not __fish_seen_subcommand_from list diff approve reset help" -f -a "approve" -d 'Approve a tool\'s definition as the server lists it now (or every tool of the server, and its instructions, with --all)'
complete -c peta -n "__fish_peta_using_subcommand tools; and not __fish_seen_subcommand_from list diff approve reset help" -f -a "reset" -d 'Forget every pin of a server: its next tool list is trusted on first use again'
complete -c peta -n "__fish_peta_using_subcommand tools; and not __fish_seen_subcommand_from list diff approve reset help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from list" -l db -d 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]' -r -F
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from list" -l config -d 'Configuration file to take audit.path from' -r -F
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from list" -l server -d 'Only this server\'s tools' -r
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from list" -l connect -d 'Start the configured server (with its environment and secrets), list its tools as an MCP client and check them against the pins first, before any agent uses them'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from diff" -l db -d 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]' -r -F
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from diff" -l config -d 'Configuration file to take audit.path from' -r -F
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from diff" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from approve" -l db -d 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]' -r -F
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from approve" -l config -d 'Configuration file to take audit.path from' -r -F
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from approve" -l all -d 'Approve every tool of the server'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from approve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from approve" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from reset" -l db -d 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]' -r -F
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from reset" -l config -d 'Configuration file to take audit.path from' -r -F
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from reset" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from reset" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show each server\'s pinned tools, their state, and warnings about their definitions'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Show how a changed tool\'s definition differs from the pinned one'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from help" -f -a "approve" -d 'Approve a tool\'s definition as the server lists it now (or every tool of the server, and its instructions, with --all)'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from help" -f -a "reset" -d 'Forget every pin of a server: its next tool list is trusted on first use again'
complete -c peta -n "__fish_peta_using_subcommand tools; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand init" -l force -d 'Replace an existing file'
complete -c peta -n "__fish_peta_using_subcommand init" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand init" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand config; and not __fish_seen_subcommand_from check help" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand config; and not __fish_seen_subcommand_from check help" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand config; and not __fish_seen_subcommand_from check help" -f -a "check" -d 'Parse and check the configuration (and a project\'s peta.toml in this directory); say which file was used, or what is wrong, where, and how to fix it'
complete -c peta -n "__fish_peta_using_subcommand config; and not __fish_seen_subcommand_from check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]' -r -F
complete -c peta -n "__fish_peta_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand config; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Parse and check the configuration (and a project\'s peta.toml in this directory); say which file was used, or what is wrong, where, and how to fix it'
complete -c peta -n "__fish_peta_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand doctor" -l config -d 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]' -r -F
complete -c peta -n "__fish_peta_using_subcommand doctor" -l server -d 'Also show the environment this server gets: the names passed from peta\'s own, those declared for it, and those left out (names only, never values)' -r
complete -c peta -n "__fish_peta_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peta -n "__fish_peta_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand completions" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand completions" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand demo-server" -l rug-pull-after -d 'After N tool calls, give `echo` a description with a hidden instruction and send notifications/tools/list_changed' -r
complete -c peta -n "__fish_peta_using_subcommand demo-server" -l add-parameter-after -d 'After N tool calls, add a `sidenote` parameter to `add` and send notifications/tools/list_changed' -r
complete -c peta -n "__fish_peta_using_subcommand demo-server" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand demo-server" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand sandbox-init" -l ready-fd -d 'The descriptor on which to report whether the server started' -r
complete -c peta -n "__fish_peta_using_subcommand sandbox-init" -s h -l help -d 'Print help'
complete -c peta -n "__fish_peta_using_subcommand sandbox-init" -s V -l version -d 'Print version'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "run" -d 'Run an MCP server behind peta (stdin/stdout carry the protocol)'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "demo" -d 'Watch a complete session through the real relay, with peta\'s demo server'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "audit" -d 'Read the audit log: verify it, export it, follow it, show a row'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "secret" -d 'Keep API keys in the OS keyring or the age vault instead of config files'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "vault" -d 'Create and share the age vault: one encrypted file of secrets a team can keep in git'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "approve" -d 'Answer the approval requests of running peta sessions, from any terminal'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "install" -d 'Put peta in front of every server in an MCP client\'s configuration'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "uninstall" -d 'Undo `peta install`: put back each server entry peta wrote'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "policy" -d 'Check the policy: what it decides about a call, and why'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "grants" -d 'List or revoke the approvals remembered with "always allow"'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "tools" -d 'See the tool definitions each server is pinned to, review changes, approve them'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "init" -d 'Write a commented starter configuration (every key, with its default)'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "config" -d 'Check the configuration with the same code `peta run` uses'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "doctor" -d 'What works on this machine: config, audit log, keyring, vault, notifications, terminal, the approval console, and each configured server\'s command'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "demo-server" -d 'The demo MCP server on stdio (used by `peta demo` and the tests)'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "sandbox-init" -d 'The first process inside a server\'s box: starts the server, passes signals on, and exits with the server\'s status (started by `peta run` through bubblewrap)'
complete -c peta -n "__fish_peta_using_subcommand help; and not __fish_seen_subcommand_from run demo audit secret vault approve install uninstall policy grants tools init config doctor completions demo-server sandbox-init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "verify" -d 'Check the whole hash chain and the anchor file; names the first bad row'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "export" -d 'Export rows for a reviewer (verifies the chain first and says so in the export)'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "tail" -d 'Show the newest rows, aligned for a person; -f keeps following'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "forward" -d 'Send the log to the collector of [audit.forward] (OTLP/HTTP or syslog), or show how far forwarding has got'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "show" -d 'Show every field of one row'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from secret" -f -a "set" -d 'Store a secret. The value is read from the terminal without echo, or from stdin when it is piped (one trailing newline is dropped); never from the command line'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from secret" -f -a "get" -d 'Say whether a secret is set; with --reveal, print its value to stdout'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from secret" -f -a "list" -d 'List secret names, where they live and which servers use them; never values'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from secret" -f -a "rm" -d 'Remove a secret'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from secret" -f -a "import" -d 'Store every entry of a dotenv file, or of the `env` blocks of an MCP client config (Claude Desktop, Cursor, VS Code …), under its variable name'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "init" -d 'Create your age identity if you have none, and the vault if there is none'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from vault" -f -a "recipients" -d 'Who the vault is encrypted to'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "test" -d 'Decide a hypothetical call with the configured rules, and explain the decision'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "replay" -d 'Run the current policy over past calls in the audit log and list those whose decision would now be different'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from grants" -f -a "list" -d 'Show every remembered "always allow": its id, server, tool and what it is bound to'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from grants" -f -a "revoke" -d 'Forget one remembered approval (by the id `list` shows), or all of them with --all'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from tools" -f -a "list" -d 'Show each server\'s pinned tools, their state, and warnings about their definitions'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from tools" -f -a "diff" -d 'Show how a changed tool\'s definition differs from the pinned one'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from tools" -f -a "approve" -d 'Approve a tool\'s definition as the server lists it now (or every tool of the server, and its instructions, with --all)'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from tools" -f -a "reset" -d 'Forget every pin of a server: its next tool list is trusted on first use again'
complete -c peta -n "__fish_peta_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Parse and check the configuration (and a project\'s peta.toml in this directory); say which file was used, or what is wrong, where, and how to fix it'
