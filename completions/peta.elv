
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
            cand policy 'Check the policy: what it decides about a call, and why'
            cand completions 'Print a shell completion script to stdout'
            cand demo-server 'The demo MCP server on stdio (used by `peta demo` and the tests)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;run'= {
            cand --server 'Name of the server: selects `[servers.NAME]` in the config and labels logs'
            cand --config 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]'
            cand --grace 'Time the server gets to exit after its input closes, and again after SIGTERM (e.g. "2s", "500ms") [default: relay.shutdown_grace or 2s]'
            cand --max-line-bytes 'Longest message accepted in either direction, in bytes [default: relay.max_line_bytes or 64 MiB]'
            cand --env 'Give the server an environment variable: a plain value or a reference such as GITHUB_TOKEN=env:GITHUB_TOKEN (repeatable; overrides the config''s entries)'
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
            cand show 'Show every field of one row'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;audit;help;verify'= {
        }
        &'peta;audit;help;export'= {
        }
        &'peta;audit;help;tail'= {
        }
        &'peta;audit;help;show'= {
        }
        &'peta;audit;help;help'= {
        }
        &'peta;policy'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand test 'Decide a hypothetical call with the configured rules, and explain the decision'
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
        &'peta;policy;help'= {
            cand test 'Decide a hypothetical call with the configured rules, and explain the decision'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;policy;help;test'= {
        }
        &'peta;policy;help;help'= {
        }
        &'peta;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;demo-server'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'peta;help'= {
            cand run 'Run an MCP server behind peta (stdin/stdout carry the protocol)'
            cand demo 'Watch a complete session through the real relay, with peta''s demo server'
            cand audit 'Read the audit log: verify it, export it, follow it, show a row'
            cand policy 'Check the policy: what it decides about a call, and why'
            cand completions 'Print a shell completion script to stdout'
            cand demo-server 'The demo MCP server on stdio (used by `peta demo` and the tests)'
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
            cand show 'Show every field of one row'
        }
        &'peta;help;audit;verify'= {
        }
        &'peta;help;audit;export'= {
        }
        &'peta;help;audit;tail'= {
        }
        &'peta;help;audit;show'= {
        }
        &'peta;help;policy'= {
            cand test 'Decide a hypothetical call with the configured rules, and explain the decision'
        }
        &'peta;help;policy;test'= {
        }
        &'peta;help;completions'= {
        }
        &'peta;help;demo-server'= {
        }
        &'peta;help;help'= {
        }
    ]
    $completions[$command]
}
