
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
            cand completions 'Print a shell completion script to stdout'
            cand demo-server 'The demo MCP server on stdio (used by `peta demo` and the tests)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;run'= {
            cand --server 'Name of the server: selects `[servers.NAME]` in the config and labels logs'
            cand --config 'Configuration file [default: $PETA_CONFIG, then ~/.config/peta/peta.toml]'
            cand --grace 'Time the server gets to exit after its input closes, and again after SIGTERM (e.g. "2s", "500ms") [default: relay.shutdown_grace or 2s]'
            cand --max-line-bytes 'Longest message accepted in either direction, in bytes [default: relay.max_line_bytes or 64 MiB]'
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
            cand completions 'Print a shell completion script to stdout'
            cand demo-server 'The demo MCP server on stdio (used by `peta demo` and the tests)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peta;help;run'= {
        }
        &'peta;help;demo'= {
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
