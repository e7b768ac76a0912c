
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
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Check the policy: what it decides about a call, and why')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('demo-server', 'demo-server', [CompletionResultType]::ParameterValue, 'The demo MCP server on stdio (used by `peta demo` and the tests)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;run' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Name of the server: selects `[servers.NAME]` in the config and labels logs')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'Time the server gets to exit after its input closes, and again after SIGTERM (e.g. "2s", "500ms") [default: relay.shutdown_grace or 2s]')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest message accepted in either direction, in bytes [default: relay.max_line_bytes or 64 MiB]')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Give the server an environment variable: a plain value or a reference such as GITHUB_TOKEN=env:GITHUB_TOKEN (repeatable; overrides the config''s entries)')
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
        'peta;audit;help;show' {
            break
        }
        'peta;audit;help;help' {
            break
        }
        'peta;policy' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Decide a hypothetical call with the configured rules, and explain the decision')
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
        'peta;policy;help' {
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Decide a hypothetical call with the configured rules, and explain the decision')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peta;policy;help;test' {
            break
        }
        'peta;policy;help;help' {
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
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Check the policy: what it decides about a call, and why')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('demo-server', 'demo-server', [CompletionResultType]::ParameterValue, 'The demo MCP server on stdio (used by `peta demo` and the tests)')
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
        'peta;help;audit;show' {
            break
        }
        'peta;help;policy' {
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Decide a hypothetical call with the configured rules, and explain the decision')
            break
        }
        'peta;help;policy;test' {
            break
        }
        'peta;help;completions' {
            break
        }
        'peta;help;demo-server' {
            break
        }
        'peta;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
