
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'peta' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'peta'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'peta' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run an MCP server behind peta (stdin/stdout carry the protocol)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Watch a complete session through the real relay, with peta''s demo server')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Read the audit log: verify it, export it, follow it, show a row')
            [CompletionResult]::new('secret', 'secret', [CompletionResultType]::ParameterValue, 'Keep API keys in the OS keyring or the age vault instead of config files')
            [CompletionResult]::new('vault', 'vault', [CompletionResultType]::ParameterValue, 'Create and share the age vault: one encrypted file of secrets a team can keep in git')
            [CompletionResult]::new('approve', 'approve', [CompletionResultType]::ParameterValue, 'Answer the approval requests of running peta sessions, from any terminal')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Put peta in front of every server in an MCP client''s configuration')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Undo `peta install`: put back each server entry peta wrote')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Check the policy: what it decides about a call, and why')
            [CompletionResult]::new('grants', 'grants', [CompletionResultType]::ParameterValue, 'List or revoke the approvals remembered with "always allow"')
            [CompletionResult]::new('tools', 'tools', [CompletionResultType]::ParameterValue, 'See the tool definitions each server is pinned to, review changes, approve them')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented starter configuration (every key, with its default)')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Check the configuration with the same code `peta run` uses')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'What works on this machine: config, audit log, keyring, vault, notifications, terminal, the approval console, and each configured server''s command')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('demo-server', 'demo-server', [CompletionResultType]::ParameterValue, 'The demo MCP server on stdio (used by `peta demo` and the tests)')
            [CompletionResult]::new('sandbox-init', 'sandbox-init', [CompletionResultType]::ParameterValue, 'The first process inside a server''s box: starts the server, passes signals on, and exits with the server''s status (started by `peta run` through bubblewrap)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;run' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Name of the server: selects `[servers.NAME]` in the config and labels logs')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'Time the server gets to exit after its input closes, and again after SIGTERM (e.g. "2s", "500ms") [default: relay.shutdown_grace or 2s]')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest message accepted in either direction, in bytes [default: relay.max_line_bytes or 64 MiB]')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Give the server an environment variable: a plain value or a reference, GITHUB_TOKEN=keyring:github, DB_URL=age:db or HOME_DIR=env:HOME (repeatable; overrides the config''s entries)')
            [CompletionResult]::new('--sandbox', '--sandbox', [CompletionResultType]::ParameterName, 'Confine the server: auto (where bubblewrap works, else run it unconfined with a warning), required (refuse to start it unconfined) or off [default: defaults.sandbox or auto]')
            [CompletionResult]::new('--sandbox-write', '--sandbox-write', [CompletionResultType]::ParameterName, 'Let the confined server write PATH, an existing file or directory (repeatable; adds to the config''s `write`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;demo' {
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each JSON-RPC message of the session as it passes')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;audit' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the whole hash chain and the anchor file; names the first bad row')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export rows for a reviewer (verifies the chain first and says so in the export)')
            [CompletionResult]::new('tail', 'tail', [CompletionResultType]::ParameterValue, 'Show the newest rows, aligned for a person; -f keeps following')
            [CompletionResult]::new('forward', 'forward', [CompletionResultType]::ParameterValue, 'Send the log to the collector of [audit.forward] (OTLP/HTTP or syslog), or show how far forwarding has got')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show every field of one row')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;audit;verify' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take audit.path from')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;audit;export' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take audit.path from')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only rows at or after this time (2026-11-01, 2026-11-01T12:00:00Z, or an age: 7d, 36h)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only rows before this time (same forms as --since)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Only rows of this server (its --server name)')
            [CompletionResult]::new('--tool', '--tool', [CompletionResultType]::ParameterName, 'Only rows of this tool')
            [CompletionResult]::new('--decision', '--decision', [CompletionResultType]::ParameterName, 'Only rows with this decision (allow, deny, refused, dropped, pass)')
            [CompletionResult]::new('--session', '--session', [CompletionResultType]::ParameterName, 'Only rows of this session')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to FILE (created 0600) instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to FILE (created 0600) instead of stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;audit;tail' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take audit.path from')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many rows to show')
            [CompletionResult]::new('--lines', '--lines', [CompletionResultType]::ParameterName, 'How many rows to show')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing new rows as they are written')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing new rows as they are written')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;audit;forward' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take audit.path from')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Keep forwarding new rows as they are written (until interrupted)')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Show the destination, the last acknowledged row, the lag and the last error, and send nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;audit;show' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take audit.path from')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;audit;help' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the whole hash chain and the anchor file; names the first bad row')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export rows for a reviewer (verifies the chain first and says so in the export)')
            [CompletionResult]::new('tail', 'tail', [CompletionResultType]::ParameterValue, 'Show the newest rows, aligned for a person; -f keeps following')
            [CompletionResult]::new('forward', 'forward', [CompletionResultType]::ParameterValue, 'Send the log to the collector of [audit.forward] (OTLP/HTTP or syslog), or show how far forwarding has got')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show every field of one row')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;audit;help;verify' {
            break
        }
        'peta;audit;help;export' {
            break
        }
        'peta;audit;help;tail' {
            break
        }
        'peta;audit;help;forward' {
            break
        }
        'peta;audit;help;show' {
            break
        }
        'peta;audit;help;help' {
            break
        }
        'peta;secret' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Store a secret. The value is read from the terminal without echo, or from stdin when it is piped (one trailing newline is dropped); never from the command line')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Say whether a secret is set; with --reveal, print its value to stdout')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List secret names, where they live and which servers use them; never values')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove a secret')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Store every entry of a dotenv file, or of the `env` blocks of an MCP client config (Claude Desktop, Cursor, VS Code …), under its variable name')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;secret;set' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take [vault] from')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the age vault instead of the OS keyring')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;secret;get' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take [vault] from')
            [CompletionResult]::new('--reveal', '--reveal', [CompletionResultType]::ParameterName, 'Print the value itself')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the age vault instead of the OS keyring')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;secret;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file whose servers'' references are shown')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;secret;rm' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take [vault] from')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the age vault instead of the OS keyring')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;secret;import' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Only the env block of this server of a client config')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take [vault] from')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace secrets that already exist')
            [CompletionResult]::new('--vault', '--vault', [CompletionResultType]::ParameterName, 'Use the age vault instead of the OS keyring')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;secret;help' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Store a secret. The value is read from the terminal without echo, or from stdin when it is piped (one trailing newline is dropped); never from the command line')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Say whether a secret is set; with --reveal, print its value to stdout')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List secret names, where they live and which servers use them; never values')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove a secret')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Store every entry of a dotenv file, or of the `env` blocks of an MCP client config (Claude Desktop, Cursor, VS Code …), under its variable name')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;secret;help;set' {
            break
        }
        'peta;secret;help;get' {
            break
        }
        'peta;secret;help;list' {
            break
        }
        'peta;secret;help;rm' {
            break
        }
        'peta;secret;help;import' {
            break
        }
        'peta;secret;help;help' {
            break
        }
        'peta;vault' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create your age identity if you have none, and the vault if there is none')
            [CompletionResult]::new('recipients', 'recipients', [CompletionResultType]::ParameterValue, 'Who the vault is encrypted to')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;vault;init' {
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'Where to keep the new identity: a 0600 file or the OS keyring')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take [vault] from')
            [CompletionResult]::new('--passphrase', '--passphrase', [CompletionResultType]::ParameterName, 'Protect the identity file with a passphrase typed at the terminal (asked each time the vault is opened; needs a terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;vault;recipients' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Encrypt the vault to one more age public key (age1…), re-encrypting it now')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show the public keys the vault is encrypted to')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Stop encrypting to a key, re-encrypting now. Rotate the secrets too: the key can still open older copies (git history, backups)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;vault;recipients;add' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;vault;recipients;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;vault;recipients;rm' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;vault;recipients;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Encrypt the vault to one more age public key (age1…), re-encrypting it now')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show the public keys the vault is encrypted to')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Stop encrypting to a key, re-encrypting now. Rotate the secrets too: the key can still open older copies (git history, backups)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;vault;recipients;help;add' {
            break
        }
        'peta;vault;recipients;help;list' {
            break
        }
        'peta;vault;recipients;help;rm' {
            break
        }
        'peta;vault;recipients;help;help' {
            break
        }
        'peta;vault;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create your age identity if you have none, and the vault if there is none')
            [CompletionResult]::new('recipients', 'recipients', [CompletionResultType]::ParameterValue, 'Who the vault is encrypted to')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;vault;help;init' {
            break
        }
        'peta;vault;help;recipients' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Encrypt the vault to one more age public key (age1…), re-encrypting it now')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show the public keys the vault is encrypted to')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Stop encrypting to a key, re-encrypting now. Rotate the secrets too: the key can still open older copies (git history, backups)')
            break
        }
        'peta;vault;help;recipients;add' {
            break
        }
        'peta;vault;help;recipients;list' {
            break
        }
        'peta;vault;help;recipients;rm' {
            break
        }
        'peta;vault;help;help' {
            break
        }
        'peta;approve' {
            [CompletionResult]::new('--answer', '--answer', [CompletionResultType]::ParameterName, 'The answer for ID: deny, once, session, for:DURATION (for:10m, for:90s, for:2h) or always')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'Print the waiting requests of every session and exit, without asking')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'With --list: print them as JSON, for scripts')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Stay open and ask about new requests as they arrive, one at a time')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;install' {
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'The client whose servers to wrap')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Whose servers: the person''s (user), this project''s shared file (project: .mcp.json, .cursor/mcp.json, .vscode/mcp.json, .codex/config.toml, .gemini/settings.json), or Claude Code''s entries for this directory in ~/.claude.json (local)')
            [CompletionResult]::new('--config-path', '--config-path', [CompletionResultType]::ParameterName, 'The client''s file, where it is not in the usual place')
            [CompletionResult]::new('--secrets', '--secrets', [CompletionResultType]::ParameterName, 'Where credentials found in entries go: the OS keyring, the age vault (`peta vault init` creates it), or nowhere (they stay in the file, with a warning each) [default: the keyring; where there is none, peta asks, or with --yes skips the entries that hold one]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change, and change nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Write without asking')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Write without asking')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;uninstall' {
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Only this client''s files [default: every file peta installed into]')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Only this scope''s files')
            [CompletionResult]::new('--config-path', '--config-path', [CompletionResultType]::ParameterName, 'Only this file')
            [CompletionResult]::new('--restore-plaintext', '--restore-plaintext', [CompletionResultType]::ParameterName, 'Write the credentials peta moved into the keyring (or the age vault) back into the file as plain text')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would change, and change nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Write without asking')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Write without asking')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;policy' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Decide a hypothetical call with the configured rules, and explain the decision')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Run the current policy over past calls in the audit log and list those whose decision would now be different')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;policy;test' {
            [CompletionResult]::new('--method', '--method', [CompletionResultType]::ParameterName, 'The request''s method')
            [CompletionResult]::new('--annotations', '--annotations', [CompletionResultType]::ParameterName, 'The tool''s annotations as the server would list them, e.g. ''{"readOnlyHint": true}'' (they count only for a server marked trust_annotations)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;policy;replay' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take audit.path from')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only calls at or after this time (2026-11-01, 2026-11-01T12:00:00Z, or an age: 7d)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;policy;help' {
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Decide a hypothetical call with the configured rules, and explain the decision')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Run the current policy over past calls in the audit log and list those whose decision would now be different')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;policy;help;test' {
            break
        }
        'peta;policy;help;replay' {
            break
        }
        'peta;policy;help;help' {
            break
        }
        'peta;grants' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show every remembered "always allow": its id, server, tool and what it is bound to')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Forget one remembered approval (by the id `list` shows), or all of them with --all')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;grants;list' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;grants;revoke' {
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Revoke every grant')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;grants;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show every remembered "always allow": its id, server, tool and what it is bound to')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Forget one remembered approval (by the id `list` shows), or all of them with --all')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;grants;help;list' {
            break
        }
        'peta;grants;help;revoke' {
            break
        }
        'peta;grants;help;help' {
            break
        }
        'peta;tools' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show each server''s pinned tools, their state, and warnings about their definitions')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show how a changed tool''s definition differs from the pinned one')
            [CompletionResult]::new('approve', 'approve', [CompletionResultType]::ParameterValue, 'Approve a tool''s definition as the server lists it now (or every tool of the server, and its instructions, with --all)')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Forget every pin of a server: its next tool list is trusted on first use again')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;tools;list' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take audit.path from')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Only this server''s tools')
            [CompletionResult]::new('--connect', '--connect', [CompletionResultType]::ParameterName, 'Start the configured server (with its environment and secrets), list its tools as an MCP client and check them against the pins first, before any agent uses them')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;tools;diff' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take audit.path from')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;tools;approve' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take audit.path from')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Approve every tool of the server')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;tools;reset' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The audit database [default: audit.path from the config, else ~/.local/state/peta/audit.db]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file to take audit.path from')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;tools;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show each server''s pinned tools, their state, and warnings about their definitions')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show how a changed tool''s definition differs from the pinned one')
            [CompletionResult]::new('approve', 'approve', [CompletionResultType]::ParameterValue, 'Approve a tool''s definition as the server lists it now (or every tool of the server, and its instructions, with --all)')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Forget every pin of a server: its next tool list is trusted on first use again')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;tools;help;list' {
            break
        }
        'peta;tools;help;diff' {
            break
        }
        'peta;tools;help;approve' {
            break
        }
        'peta;tools;help;reset' {
            break
        }
        'peta;tools;help;help' {
            break
        }
        'peta;init' {
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing file')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;config' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Parse and check the configuration (and a project''s peta.toml in this directory); say which file was used, or what is wrong, where, and how to fix it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;config;check' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;config;help' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Parse and check the configuration (and a project''s peta.toml in this directory); say which file was used, or what is wrong, where, and how to fix it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;config;help;check' {
            break
        }
        'peta;config;help;help' {
            break
        }
        'peta;doctor' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Also show the environment this server gets: the names passed from peta''s own, those declared for it, and those left out (names only, never values)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;demo-server' {
            [CompletionResult]::new('--rug-pull-after', '--rug-pull-after', [CompletionResultType]::ParameterName, 'After N tool calls, give `echo` a description with a hidden instruction and send notifications/tools/list_changed')
            [CompletionResult]::new('--add-parameter-after', '--add-parameter-after', [CompletionResultType]::ParameterName, 'After N tool calls, add a `sidenote` parameter to `add` and send notifications/tools/list_changed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;sandbox-init' {
            [CompletionResult]::new('--ready-fd', '--ready-fd', [CompletionResultType]::ParameterName, 'The descriptor on which to report whether the server started')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'peta;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run an MCP server behind peta (stdin/stdout carry the protocol)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Watch a complete session through the real relay, with peta''s demo server')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Read the audit log: verify it, export it, follow it, show a row')
            [CompletionResult]::new('secret', 'secret', [CompletionResultType]::ParameterValue, 'Keep API keys in the OS keyring or the age vault instead of config files')
            [CompletionResult]::new('vault', 'vault', [CompletionResultType]::ParameterValue, 'Create and share the age vault: one encrypted file of secrets a team can keep in git')
            [CompletionResult]::new('approve', 'approve', [CompletionResultType]::ParameterValue, 'Answer the approval requests of running peta sessions, from any terminal')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Put peta in front of every server in an MCP client''s configuration')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Undo `peta install`: put back each server entry peta wrote')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Check the policy: what it decides about a call, and why')
            [CompletionResult]::new('grants', 'grants', [CompletionResultType]::ParameterValue, 'List or revoke the approvals remembered with "always allow"')
            [CompletionResult]::new('tools', 'tools', [CompletionResultType]::ParameterValue, 'See the tool definitions each server is pinned to, review changes, approve them')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented starter configuration (every key, with its default)')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Check the configuration with the same code `peta run` uses')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'What works on this machine: config, audit log, keyring, vault, notifications, terminal, the approval console, and each configured server''s command')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('demo-server', 'demo-server', [CompletionResultType]::ParameterValue, 'The demo MCP server on stdio (used by `peta demo` and the tests)')
            [CompletionResult]::new('sandbox-init', 'sandbox-init', [CompletionResultType]::ParameterValue, 'The first process inside a server''s box: starts the server, passes signals on, and exits with the server''s status (started by `peta run` through bubblewrap)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;help;run' {
            break
        }
        'peta;help;demo' {
            break
        }
        'peta;help;audit' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check the whole hash chain and the anchor file; names the first bad row')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export rows for a reviewer (verifies the chain first and says so in the export)')
            [CompletionResult]::new('tail', 'tail', [CompletionResultType]::ParameterValue, 'Show the newest rows, aligned for a person; -f keeps following')
            [CompletionResult]::new('forward', 'forward', [CompletionResultType]::ParameterValue, 'Send the log to the collector of [audit.forward] (OTLP/HTTP or syslog), or show how far forwarding has got')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show every field of one row')
            break
        }
        'peta;help;audit;verify' {
            break
        }
        'peta;help;audit;export' {
            break
        }
        'peta;help;audit;tail' {
            break
        }
        'peta;help;audit;forward' {
            break
        }
        'peta;help;audit;show' {
            break
        }
        'peta;help;secret' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Store a secret. The value is read from the terminal without echo, or from stdin when it is piped (one trailing newline is dropped); never from the command line')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Say whether a secret is set; with --reveal, print its value to stdout')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List secret names, where they live and which servers use them; never values')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove a secret')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Store every entry of a dotenv file, or of the `env` blocks of an MCP client config (Claude Desktop, Cursor, VS Code …), under its variable name')
            break
        }
        'peta;help;secret;set' {
            break
        }
        'peta;help;secret;get' {
            break
        }
        'peta;help;secret;list' {
            break
        }
        'peta;help;secret;rm' {
            break
        }
        'peta;help;secret;import' {
            break
        }
        'peta;help;vault' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create your age identity if you have none, and the vault if there is none')
            [CompletionResult]::new('recipients', 'recipients', [CompletionResultType]::ParameterValue, 'Who the vault is encrypted to')
            break
        }
        'peta;help;vault;init' {
            break
        }
        'peta;help;vault;recipients' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Encrypt the vault to one more age public key (age1…), re-encrypting it now')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show the public keys the vault is encrypted to')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Stop encrypting to a key, re-encrypting now. Rotate the secrets too: the key can still open older copies (git history, backups)')
            break
        }
        'peta;help;vault;recipients;add' {
            break
        }
        'peta;help;vault;recipients;list' {
            break
        }
        'peta;help;vault;recipients;rm' {
            break
        }
        'peta;help;approve' {
            break
        }
        'peta;help;install' {
            break
        }
        'peta;help;uninstall' {
            break
        }
        'peta;help;policy' {
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Decide a hypothetical call with the configured rules, and explain the decision')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Run the current policy over past calls in the audit log and list those whose decision would now be different')
            break
        }
        'peta;help;policy;test' {
            break
        }
        'peta;help;policy;replay' {
            break
        }
        'peta;help;grants' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show every remembered "always allow": its id, server, tool and what it is bound to')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Forget one remembered approval (by the id `list` shows), or all of them with --all')
            break
        }
        'peta;help;grants;list' {
            break
        }
        'peta;help;grants;revoke' {
            break
        }
        'peta;help;tools' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show each server''s pinned tools, their state, and warnings about their definitions')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show how a changed tool''s definition differs from the pinned one')
            [CompletionResult]::new('approve', 'approve', [CompletionResultType]::ParameterValue, 'Approve a tool''s definition as the server lists it now (or every tool of the server, and its instructions, with --all)')
            [CompletionResult]::new('reset', 'reset', [CompletionResultType]::ParameterValue, 'Forget every pin of a server: its next tool list is trusted on first use again')
            break
        }
        'peta;help;tools;list' {
            break
        }
        'peta;help;tools;diff' {
            break
        }
        'peta;help;tools;approve' {
            break
        }
        'peta;help;tools;reset' {
            break
        }
        'peta;help;init' {
            break
        }
        'peta;help;config' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Parse and check the configuration (and a project''s peta.toml in this directory); say which file was used, or what is wrong, where, and how to fix it')
            break
        }
        'peta;help;config;check' {
            break
        }
        'peta;help;doctor' {
            break
        }
        'peta;help;completions' {
            break
        }
        'peta;help;demo-server' {
            break
        }
        'peta;help;sandbox-init' {
            break
        }
        'peta;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
