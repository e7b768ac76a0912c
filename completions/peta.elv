
use builtin;
use str;

set edit:completion:arg-completer[peta] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'peta'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'peta'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run an MCP server behind peta (stdin/stdout carry the protocol)'
            cand demo 'Watch a complete session through the real relay, with peta''s demo server'
            cand audit 'Read the audit log: verify it, export it, follow it, show a row'
            cand secret 'Keep API keys in the OS keyring or the age vault instead of config files'
            cand vault 'Create and share the age vault: one encrypted file of secrets a team can keep in git'
            cand approve 'Answer the approval requests of running peta sessions, from any terminal'
            cand install 'Put peta in front of every server in an MCP client''s configuration'
            cand uninstall 'Undo `peta install`: put back each server entry peta wrote'
            cand policy 'Check the policy: what it decides about a call, and why'
            cand grants 'List or revoke the approvals remembered with "always allow"'
            cand tools 'See the tool definitions each server is pinned to, review changes, approve them'
            cand init 'Write a commented starter configuration (every key, with its default)'
            cand config 'Check the configuration with the same code `peta run` uses'
            cand doctor 'What works on this machine: config, audit log, keyring, vault, notifications, terminal, the approval console, and each configured server''s command'
            cand completions 'Print a shell completion script to stdout'
            cand demo-server 'The demo MCP server on stdio (used by `peta demo` and the tests)'
            cand sandbox-init 'The first process inside a server''s box: starts the server, passes signals on, and exits with the server''s status (started by `peta run` through bubblewrap)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;run'= {
            cand --server 'Name of the server: selects `[servers.NAME]` in the config and labels logs'
            cand --config 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]'
            cand --grace 'Time the server gets to exit after its input closes, and again after SIGTERM (e.g. "2s", "500ms") [default: relay.shutdown_grace or 2s]'
            cand --max-line-bytes 'Longest message accepted in either direction, in bytes [default: relay.max_line_bytes or 64 MiB]'
            cand --env 'Give the server an environment variable: a plain value or a reference, GITHUB_TOKEN=keyring:github, DB_URL=age:db or HOME_DIR=env:HOME (repeatable; overrides the config''s entries)'
            cand --sandbox 'Confine the server: auto (where bubblewrap works, else run it unconfined with a warning), required (refuse to start it unconfined) or off [default: defaults.sandbox or auto]'
            cand --sandbox-write 'Let the confined server write PATH, an existing file or directory (repeatable; adds to the config''s `write`)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;demo'= {
            cand --verbose 'Print each JSON-RPC message of the session as it passes'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;audit'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand verify 'Check the whole hash chain and the anchor file; names the first bad row'
            cand export 'Export rows for a reviewer (verifies the chain first and says so in the export)'
            cand tail 'Show the newest rows, aligned for a person; -f keeps following'
            cand forward 'Send the log to the collector of [audit.forward] (OTLP/HTTP or syslog), or show how far forwarding has got'
            cand show 'Show every field of one row'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;audit;verify'= {
            cand --db 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]'
            cand --config 'Configuration file to take audit.path from'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;audit;export'= {
            cand --db 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]'
            cand --config 'Configuration file to take audit.path from'
            cand --format 'Output format'
            cand --since 'Only rows at or after this time (2026-11-01, 2026-11-01T12:00:00Z, or an age: 7d, 36h)'
            cand --until 'Only rows before this time (same forms as --since)'
            cand --server 'Only rows of this server (its --server name)'
            cand --tool 'Only rows of this tool'
            cand --decision 'Only rows with this decision (allow, deny, refused, dropped, pass)'
            cand --session 'Only rows of this session'
            cand -o 'Write to FILE (created 0600) instead of stdout'
            cand --output 'Write to FILE (created 0600) instead of stdout'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;audit;tail'= {
            cand --db 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]'
            cand --config 'Configuration file to take audit.path from'
            cand -n 'How many rows to show'
            cand --lines 'How many rows to show'
            cand -f 'Keep printing new rows as they are written'
            cand --follow 'Keep printing new rows as they are written'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;audit;forward'= {
            cand --db 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]'
            cand --config 'Configuration file to take audit.path from'
            cand --watch 'Keep forwarding new rows as they are written (until interrupted)'
            cand --status 'Show the destination, the last acknowledged row, the lag and the last error, and send nothing'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;audit;show'= {
            cand --db 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]'
            cand --config 'Configuration file to take audit.path from'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;audit;help'= {
            cand verify 'Check the whole hash chain and the anchor file; names the first bad row'
            cand export 'Export rows for a reviewer (verifies the chain first and says so in the export)'
            cand tail 'Show the newest rows, aligned for a person; -f keeps following'
            cand forward 'Send the log to the collector of [audit.forward] (OTLP/HTTP or syslog), or show how far forwarding has got'
            cand show 'Show every field of one row'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;audit;help;verify'= {
        }
        &'peta;audit;help;export'= {
        }
        &'peta;audit;help;tail'= {
        }
        &'peta;audit;help;forward'= {
        }
        &'peta;audit;help;show'= {
        }
        &'peta;audit;help;help'= {
        }
        &'peta;secret'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand set 'Store a secret. The value is read from the terminal without echo, or from stdin when it is piped (one trailing newline is dropped); never from the command line'
            cand get 'Say whether a secret is set; with --reveal, print its value to stdout'
            cand list 'List secret names, where they live and which servers use them; never values'
            cand rm 'Remove a secret'
            cand import 'Store every entry of a dotenv file, or of the `env` blocks of an MCP client config (Claude Desktop, Cursor, VS Code …), under its variable name'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;secret;set'= {
            cand --config 'Configuration file to take [vault] from'
            cand --vault 'Use the age vault instead of the OS keyring'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;secret;get'= {
            cand --config 'Configuration file to take [vault] from'
            cand --reveal 'Print the value itself'
            cand --vault 'Use the age vault instead of the OS keyring'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;secret;list'= {
            cand --config 'Configuration file whose servers'' references are shown'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;secret;rm'= {
            cand --config 'Configuration file to take [vault] from'
            cand --vault 'Use the age vault instead of the OS keyring'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;secret;import'= {
            cand --server 'Only the env block of this server of a client config'
            cand --config 'Configuration file to take [vault] from'
            cand --force 'Replace secrets that already exist'
            cand --vault 'Use the age vault instead of the OS keyring'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;secret;help'= {
            cand set 'Store a secret. The value is read from the terminal without echo, or from stdin when it is piped (one trailing newline is dropped); never from the command line'
            cand get 'Say whether a secret is set; with --reveal, print its value to stdout'
            cand list 'List secret names, where they live and which servers use them; never values'
            cand rm 'Remove a secret'
            cand import 'Store every entry of a dotenv file, or of the `env` blocks of an MCP client config (Claude Desktop, Cursor, VS Code …), under its variable name'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;secret;help;set'= {
        }
        &'peta;secret;help;get'= {
        }
        &'peta;secret;help;list'= {
        }
        &'peta;secret;help;rm'= {
        }
        &'peta;secret;help;import'= {
        }
        &'peta;secret;help;help'= {
        }
        &'peta;vault'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create your age identity if you have none, and the vault if there is none'
            cand recipients 'Who the vault is encrypted to'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;vault;init'= {
            cand --identity 'Where to keep the new identity: a 0600 file or the OS keyring'
            cand --config 'Configuration file to take [vault] from'
            cand --passphrase 'Protect the identity file with a passphrase typed at the terminal (asked each time the vault is opened; needs a terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;vault;recipients'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Encrypt the vault to one more age public key (age1…), re-encrypting it now'
            cand list 'Show the public keys the vault is encrypted to'
            cand rm 'Stop encrypting to a key, re-encrypting now. Rotate the secrets too: the key can still open older copies (git history, backups)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;vault;recipients;add'= {
            cand --config 'config'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;vault;recipients;list'= {
            cand --config 'config'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;vault;recipients;rm'= {
            cand --config 'config'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;vault;recipients;help'= {
            cand add 'Encrypt the vault to one more age public key (age1…), re-encrypting it now'
            cand list 'Show the public keys the vault is encrypted to'
            cand rm 'Stop encrypting to a key, re-encrypting now. Rotate the secrets too: the key can still open older copies (git history, backups)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;vault;recipients;help;add'= {
        }
        &'peta;vault;recipients;help;list'= {
        }
        &'peta;vault;recipients;help;rm'= {
        }
        &'peta;vault;recipients;help;help'= {
        }
        &'peta;vault;help'= {
            cand init 'Create your age identity if you have none, and the vault if there is none'
            cand recipients 'Who the vault is encrypted to'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;vault;help;init'= {
        }
        &'peta;vault;help;recipients'= {
            cand add 'Encrypt the vault to one more age public key (age1…), re-encrypting it now'
            cand list 'Show the public keys the vault is encrypted to'
            cand rm 'Stop encrypting to a key, re-encrypting now. Rotate the secrets too: the key can still open older copies (git history, backups)'
        }
        &'peta;vault;help;recipients;add'= {
        }
        &'peta;vault;help;recipients;list'= {
        }
        &'peta;vault;help;recipients;rm'= {
        }
        &'peta;vault;help;help'= {
        }
        &'peta;approve'= {
            cand --answer 'The answer for ID: deny, once, session, for:DURATION (for:10m, for:90s, for:2h) or always'
            cand --list 'Print the waiting requests of every session and exit, without asking'
            cand --json 'With --list: print them as JSON, for scripts'
            cand --watch 'Stay open and ask about new requests as they arrive, one at a time'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;install'= {
            cand --client 'The client whose servers to wrap'
            cand --scope 'Whose servers: the person''s (user), this project''s shared file (project: .mcp.json, .cursor/mcp.json, .vscode/mcp.json, .codex/config.toml, .gemini/settings.json), or Claude Code''s entries for this directory in ~/.claude.json (local)'
            cand --config-path 'The client''s file, where it is not in the usual place'
            cand --secrets 'Where credentials found in entries go: the OS keyring, the age vault (`peta vault init` creates it), or nowhere (they stay in the file, with a warning each) [default: the keyring; where there is none, peta asks, or with --yes skips the entries that hold one]'
            cand --dry-run 'Show what would change, and change nothing'
            cand -y 'Write without asking'
            cand --yes 'Write without asking'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;uninstall'= {
            cand --client 'Only this client''s files [default: every file peta installed into]'
            cand --scope 'Only this scope''s files'
            cand --config-path 'Only this file'
            cand --restore-plaintext 'Write the credentials peta moved into the keyring (or the age vault) back into the file as plain text'
            cand --dry-run 'Show what would change, and change nothing'
            cand -y 'Write without asking'
            cand --yes 'Write without asking'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;policy'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand test 'Decide a hypothetical call with the configured rules, and explain the decision'
            cand replay 'Run the current policy over past calls in the audit log and list those whose decision would now be different'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;policy;test'= {
            cand --method 'The request''s method'
            cand --annotations 'The tool''s annotations as the server would list them, e.g. ''{"readOnlyHint": true}'' (they count only for a server marked trust_annotations)'
            cand --config 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;policy;replay'= {
            cand --db 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]'
            cand --config 'Configuration file to take audit.path from'
            cand --since 'Only calls at or after this time (2026-11-01, 2026-11-01T12:00:00Z, or an age: 7d)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;policy;help'= {
            cand test 'Decide a hypothetical call with the configured rules, and explain the decision'
            cand replay 'Run the current policy over past calls in the audit log and list those whose decision would now be different'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;policy;help;test'= {
        }
        &'peta;policy;help;replay'= {
        }
        &'peta;policy;help;help'= {
        }
        &'peta;grants'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'Show every remembered "always allow": its id, server, tool and what it is bound to'
            cand revoke 'Forget one remembered approval (by the id `list` shows), or all of them with --all'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;grants;list'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;grants;revoke'= {
            cand --all 'Revoke every grant'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;grants;help'= {
            cand list 'Show every remembered "always allow": its id, server, tool and what it is bound to'
            cand revoke 'Forget one remembered approval (by the id `list` shows), or all of them with --all'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;grants;help;list'= {
        }
        &'peta;grants;help;revoke'= {
        }
        &'peta;grants;help;help'= {
        }
        &'peta;tools'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'Show each server''s pinned tools, their state, and warnings about their definitions'
            cand diff 'Show how a changed tool''s definition differs from the pinned one'
            cand approve 'Approve a tool''s definition as the server lists it now (or every tool of the server, and its instructions, with --all)'
            cand reset 'Forget every pin of a server: its next tool list is trusted on first use again'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;tools;list'= {
            cand --db 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]'
            cand --config 'Configuration file to take audit.path from'
            cand --server 'Only this server''s tools'
            cand --connect 'Start the configured server (with its environment and secrets), list its tools as an MCP client and check them against the pins first, before any agent uses them'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;tools;diff'= {
            cand --db 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]'
            cand --config 'Configuration file to take audit.path from'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;tools;approve'= {
            cand --db 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]'
            cand --config 'Configuration file to take audit.path from'
            cand --all 'Approve every tool of the server'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;tools;reset'= {
            cand --db 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]'
            cand --config 'Configuration file to take audit.path from'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;tools;help'= {
            cand list 'Show each server''s pinned tools, their state, and warnings about their definitions'
            cand diff 'Show how a changed tool''s definition differs from the pinned one'
            cand approve 'Approve a tool''s definition as the server lists it now (or every tool of the server, and its instructions, with --all)'
            cand reset 'Forget every pin of a server: its next tool list is trusted on first use again'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;tools;help;list'= {
        }
        &'peta;tools;help;diff'= {
        }
        &'peta;tools;help;approve'= {
        }
        &'peta;tools;help;reset'= {
        }
        &'peta;tools;help;help'= {
        }
        &'peta;init'= {
            cand --force 'Replace an existing file'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;config'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand check 'Parse and check the configuration (and a project''s peta.toml in this directory); say which file was used, or what is wrong, where, and how to fix it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;config;check'= {
            cand --config 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;config;help'= {
            cand check 'Parse and check the configuration (and a project''s peta.toml in this directory); say which file was used, or what is wrong, where, and how to fix it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;config;help;check'= {
        }
        &'peta;config;help;help'= {
        }
        &'peta;doctor'= {
            cand --config 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]'
            cand --server 'Also show the environment this server gets: the names passed from peta''s own, those declared for it, and those left out (names only, never values)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;demo-server'= {
            cand --rug-pull-after 'After N tool calls, give `echo` a description with a hidden instruction and send notifications/tools/list_changed'
            cand --add-parameter-after 'After N tool calls, add a `sidenote` parameter to `add` and send notifications/tools/list_changed'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;sandbox-init'= {
            cand --ready-fd 'The descriptor on which to report whether the server started'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;help'= {
            cand run 'Run an MCP server behind peta (stdin/stdout carry the protocol)'
            cand demo 'Watch a complete session through the real relay, with peta''s demo server'
            cand audit 'Read the audit log: verify it, export it, follow it, show a row'
            cand secret 'Keep API keys in the OS keyring or the age vault instead of config files'
            cand vault 'Create and share the age vault: one encrypted file of secrets a team can keep in git'
            cand approve 'Answer the approval requests of running peta sessions, from any terminal'
            cand install 'Put peta in front of every server in an MCP client''s configuration'
            cand uninstall 'Undo `peta install`: put back each server entry peta wrote'
            cand policy 'Check the policy: what it decides about a call, and why'
            cand grants 'List or revoke the approvals remembered with "always allow"'
            cand tools 'See the tool definitions each server is pinned to, review changes, approve them'
            cand init 'Write a commented starter configuration (every key, with its default)'
            cand config 'Check the configuration with the same code `peta run` uses'
            cand doctor 'What works on this machine: config, audit log, keyring, vault, notifications, terminal, the approval console, and each configured server''s command'
            cand completions 'Print a shell completion script to stdout'
            cand demo-server 'The demo MCP server on stdio (used by `peta demo` and the tests)'
            cand sandbox-init 'The first process inside a server''s box: starts the server, passes signals on, and exits with the server''s status (started by `peta run` through bubblewrap)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;help;run'= {
        }
        &'peta;help;demo'= {
        }
        &'peta;help;audit'= {
            cand verify 'Check the whole hash chain and the anchor file; names the first bad row'
            cand export 'Export rows for a reviewer (verifies the chain first and says so in the export)'
            cand tail 'Show the newest rows, aligned for a person; -f keeps following'
            cand forward 'Send the log to the collector of [audit.forward] (OTLP/HTTP or syslog), or show how far forwarding has got'
            cand show 'Show every field of one row'
        }
        &'peta;help;audit;verify'= {
        }
        &'peta;help;audit;export'= {
        }
        &'peta;help;audit;tail'= {
        }
        &'peta;help;audit;forward'= {
        }
        &'peta;help;audit;show'= {
        }
        &'peta;help;secret'= {
            cand set 'Store a secret. The value is read from the terminal without echo, or from stdin when it is piped (one trailing newline is dropped); never from the command line'
            cand get 'Say whether a secret is set; with --reveal, print its value to stdout'
            cand list 'List secret names, where they live and which servers use them; never values'
            cand rm 'Remove a secret'
            cand import 'Store every entry of a dotenv file, or of the `env` blocks of an MCP client config (Claude Desktop, Cursor, VS Code …), under its variable name'
        }
        &'peta;help;secret;set'= {
        }
        &'peta;help;secret;get'= {
        }
        &'peta;help;secret;list'= {
        }
        &'peta;help;secret;rm'= {
        }
        &'peta;help;secret;import'= {
        }
        &'peta;help;vault'= {
            cand init 'Create your age identity if you have none, and the vault if there is none'
            cand recipients 'Who the vault is encrypted to'
        }
        &'peta;help;vault;init'= {
        }
        &'peta;help;vault;recipients'= {
            cand add 'Encrypt the vault to one more age public key (age1…), re-encrypting it now'
            cand list 'Show the public keys the vault is encrypted to'
            cand rm 'Stop encrypting to a key, re-encrypting now. Rotate the secrets too: the key can still open older copies (git history, backups)'
        }
        &'peta;help;vault;recipients;add'= {
        }
        &'peta;help;vault;recipients;list'= {
        }
        &'peta;help;vault;recipients;rm'= {
        }
        &'peta;help;approve'= {
        }
        &'peta;help;install'= {
        }
        &'peta;help;uninstall'= {
        }
        &'peta;help;policy'= {
            cand test 'Decide a hypothetical call with the configured rules, and explain the decision'
            cand replay 'Run the current policy over past calls in the audit log and list those whose decision would now be different'
        }
        &'peta;help;policy;test'= {
        }
        &'peta;help;policy;replay'= {
        }
        &'peta;help;grants'= {
            cand list 'Show every remembered "always allow": its id, server, tool and what it is bound to'
            cand revoke 'Forget one remembered approval (by the id `list` shows), or all of them with --all'
        }
        &'peta;help;grants;list'= {
        }
        &'peta;help;grants;revoke'= {
        }
        &'peta;help;tools'= {
            cand list 'Show each server''s pinned tools, their state, and warnings about their definitions'
            cand diff 'Show how a changed tool''s definition differs from the pinned one'
            cand approve 'Approve a tool''s definition as the server lists it now (or every tool of the server, and its instructions, with --all)'
            cand reset 'Forget every pin of a server: its next tool list is trusted on first use again'
        }
        &'peta;help;tools;list'= {
        }
        &'peta;help;tools;diff'= {
        }
        &'peta;help;tools;approve'= {
        }
        &'peta;help;tools;reset'= {
        }
        &'peta;help;init'= {
        }
        &'peta;help;config'= {
            cand check 'Parse and check the configuration (and a project''s peta.toml in this directory); say which file was used, or what is wrong, where, and how to fix it'
        }
        &'peta;help;config;check'= {
        }
        &'peta;help;doctor'= {
        }
        &'peta;help;completions'= {
        }
        &'peta;help;demo-server'= {
        }
        &'peta;help;sandbox-init'= {
        }
        &'peta;help;help'= {
        }
    ]
    $completions[$command]
}
