#!/usr/bin/env bash
# The whole test suite, from a fresh checkout: installs the real peers the end-to-end tests
# drive into .e2e/ (the official MCP client SDKs: Python `mcp` from PyPI and TypeScript
# `@modelcontextprotocol/sdk` from npm; the reference servers server-everything,
# server-filesystem and server-memory from npm, mcp-server-time and mcp-server-git from
# PyPI), Claude Code and the MCP Inspector from npm (and, below, Codex and Gemini CLI),
# gnome-keyring, tmux, bubblewrap and rsyslog from Debian packages for the Secret Service,
# terminal, confinement and audit forwarding tests (every server the tests start runs in its
# box), and opentelemetry-proto (PyPI) for the forwarding tests, then runs every test.
# Safe to run again: installed peers are reused.
set -euo pipefail
cd "$(dirname "$0")/.."

MCP_PY_VERSION="2.3.0"
EVERYTHING_VERSION="2026.8.31"
FILESYSTEM_VERSION="2026.8.31"
MEMORY_VERSION="2026.8.31"
TS_SDK_VERSION="1.32.2"
TIME_VERSION="2026.10.19"
GIT_SERVER_VERSION="2026.10.19"
OTLP_PROTO_VERSION="1.45.2"
E2E="$PWD/.e2e"

log() { printf '==> %s\n' "$*" >&2; }

need() {
    command -v "$1" >/dev/null 2>&1 || { echo "error: $1 is required ($2)" >&2; exit 1; }
}
need cargo "the Rust toolchain"
need python3 "Python 3.10+ for the MCP Python SDK client"
need node "Node.js for @modelcontextprotocol/server-everything"
need npm "npm for @modelcontextprotocol/server-everything"
need bash "lifecycle tests"
need git "mcp-server-git and its interop test"

# A real Secret Service for the keyring tests: each test starts its own D-Bus session with
# an unlocked gnome-keyring.
if ! command -v gnome-keyring-daemon >/dev/null 2>&1 || ! command -v dbus-daemon >/dev/null 2>&1 ||
    ! command -v bwrap >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        log "installing gnome-keyring and bubblewrap (Debian packages)"
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            gnome-keyring dbus dbus-daemon dbus-bin bubblewrap >/dev/null
    else
        echo "error: gnome-keyring and bubblewrap are required for the keyring and confinement tests (install them with your package manager)" >&2
        exit 1
    fi
fi
# A real syslog server for the audit forwarding tests: each test starts its own rsyslogd on a
# loopback port with a private configuration (rsyslog-gnutls for its TLS listener).
if { ! command -v rsyslogd >/dev/null 2>&1 && [ ! -x /usr/sbin/rsyslogd ]; } ||
    ! ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        log "installing rsyslog (Debian packages)"
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            rsyslog rsyslog-gnutls >/dev/null
    else
        echo "error: rsyslog is required for the audit forwarding tests (install it with your package manager)" >&2
        exit 1
    fi
fi
RSYSLOGD="$(command -v rsyslogd || echo /usr/sbin/rsyslogd)"
need dbus-daemon "the keyring and desktop notification tests (package dbus-daemon)"
need dbus-send "the keyring tests (package dbus-bin)"
need bwrap "the confinement tests (package bubblewrap)"

if [ ! -x "$E2E/venv/bin/python" ] || ! "$E2E/venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '$MCP_PY_VERSION')" 2>/dev/null; then
    log "installing the MCP Python SDK (mcp==$MCP_PY_VERSION) into .e2e/venv"
    rm -rf "$E2E/venv"
    python3 -m venv "$E2E/venv"
    "$E2E/venv/bin/pip" install --quiet --disable-pip-version-check "mcp==$MCP_PY_VERSION"
fi

# The Python reference servers get their own venv: their dependencies must not move the
# client SDK pinned above.
pyserver_at() {
    "$E2E/pyservers/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$1') != '$2')" 2>/dev/null
}
if ! pyserver_at mcp-server-time "$TIME_VERSION" || ! pyserver_at mcp-server-git "$GIT_SERVER_VERSION"; then
    log "installing mcp-server-time==$TIME_VERSION and mcp-server-git==$GIT_SERVER_VERSION into .e2e/pyservers"
    rm -rf "$E2E/pyservers"
    python3 -m venv "$E2E/pyservers"
    "$E2E/pyservers/bin/pip" install --quiet --disable-pip-version-check \
        "mcp-server-time==$TIME_VERSION" "mcp-server-git==$GIT_SERVER_VERSION"
fi

# The OTLP/HTTP receiver of the forwarding tests decodes with the official protobuf classes.
if [ ! -x "$E2E/otlp/bin/python" ] || ! "$E2E/otlp/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('opentelemetry-proto') != '$OTLP_PROTO_VERSION')" 2>/dev/null; then
    log "installing opentelemetry-proto==$OTLP_PROTO_VERSION into .e2e/otlp"
    rm -rf "$E2E/otlp"
    python3 -m venv "$E2E/otlp"
    "$E2E/otlp/bin/pip" install --quiet --disable-pip-version-check "opentelemetry-proto==$OTLP_PROTO_VERSION"
fi

NODE_MODULES="$E2E/node/node_modules/@modelcontextprotocol"
EVERYTHING="$NODE_MODULES/server-everything/dist/index.js"
FILESYSTEM="$NODE_MODULES/server-filesystem/dist/index.js"
MEMORY="$NODE_MODULES/server-memory/dist/index.js"
installed() { node -p "require('$NODE_MODULES/$1/package.json').version" 2>/dev/null; }
if [ "$(installed server-everything)" != "$EVERYTHING_VERSION" ] || [ "$(installed server-filesystem)" != "$FILESYSTEM_VERSION" ] ||
    [ "$(installed server-memory)" != "$MEMORY_VERSION" ] || [ "$(installed sdk)" != "$TS_SDK_VERSION" ]; then
    log "installing @modelcontextprotocol/sdk@$TS_SDK_VERSION, server-everything@$EVERYTHING_VERSION, server-filesystem@$FILESYSTEM_VERSION and server-memory@$MEMORY_VERSION into .e2e/node"
    rm -rf "$E2E/node"
    mkdir -p "$E2E/node"
    (cd "$E2E/node" && echo '{"private":true}' > package.json &&
        npm install --silent --no-audit --no-fund --save-exact \
            "@modelcontextprotocol/sdk@$TS_SDK_VERSION" \
            "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" \
            "@modelcontextprotocol/server-filesystem@$FILESYSTEM_VERSION" \
            "@modelcontextprotocol/server-memory@$MEMORY_VERSION")
fi

# Claude Code, a real MCP client, in a directory of its own; its tests drive it against a
# loopback stand-in for the Messages API (no model, no network), and its interactive screen
# in tmux.
CLAUDE_CODE_VERSION="2.1.328"
CLAUDE_DIR="$E2E/claude"
if ! command -v tmux >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    log "installing tmux (Debian package) for Claude Code's interactive screen"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tmux >/dev/null
fi
need tmux "the test of Claude Code's interactive screen"
if [ "$(node -p "require('$CLAUDE_DIR/node_modules/@anthropic-ai/claude-code/package.json').version" 2>/dev/null)" != "$CLAUDE_CODE_VERSION" ]; then
    log "installing @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION into .e2e/claude"
    rm -rf "$CLAUDE_DIR"
    mkdir -p "$CLAUDE_DIR"
    (cd "$CLAUDE_DIR" && echo '{"private":true}' > package.json &&
        npm install --silent --no-audit --no-fund --save-exact "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION")
fi
"$CLAUDE_DIR/node_modules/.bin/claude" --version >/dev/null ||
    { echo "error: Claude Code in $CLAUDE_DIR does not run" >&2; exit 1; }
# The MCP Inspector's CLI: it swallows a `--` and starts servers with a reduced environment.
INSPECTOR_VERSION="2.12.0"
INSPECTOR_DIR="$E2E/inspector"
if [ "$(node -p "require('$INSPECTOR_DIR/node_modules/@modelcontextprotocol/inspector/package.json').version" 2>/dev/null)" != "$INSPECTOR_VERSION" ]; then
    log "installing @modelcontextprotocol/inspector@$INSPECTOR_VERSION into .e2e/inspector"
    rm -rf "$INSPECTOR_DIR"
    mkdir -p "$INSPECTOR_DIR"
    (cd "$INSPECTOR_DIR" && echo '{"private":true}' > package.json &&
        npm install --silent --no-audit --no-fund --save-exact "@modelcontextprotocol/inspector@$INSPECTOR_VERSION")
fi

export PETA_E2E_PYTHON="$E2E/venv/bin/python"
export PETA_E2E_EVERYTHING="$EVERYTHING"
export PETA_E2E_FILESYSTEM="$FILESYSTEM"
export PETA_E2E_MEMORY="$MEMORY"
export PETA_E2E_TS_SDK="$NODE_MODULES/sdk"
export PETA_E2E_TIME="$E2E/pyservers/bin/mcp-server-time"
export PETA_E2E_GIT="$E2E/pyservers/bin/mcp-server-git"
export PETA_E2E_KEYRING="$(command -v gnome-keyring-daemon)"
export PETA_E2E_CLAUDE="$CLAUDE_DIR/node_modules/.bin/claude"
export PETA_E2E_INSPECTOR="$INSPECTOR_DIR/node_modules/.bin/inspector"
export PETA_E2E_OTLP_PYTHON="$E2E/otlp/bin/python"
export PETA_E2E_RSYSLOG="$RSYSLOGD"
export PETA_E2E_REQUIRED=1
unset PETA_CONFIG PETA_LOG
# The sessions the tests start keep their approval sockets in a private runtime directory,
# not in this machine's /run/user/UID or /tmp/peta-UID, where `peta approve` (and so its
# tests) also look.
TEST_RUNTIME="$(mktemp -d)"
chmod 700 "$TEST_RUNTIME"
trap 'rm -rf "$TEST_RUNTIME"' EXIT
export XDG_RUNTIME_DIR="$TEST_RUNTIME"

# Real MCP clients, for their own health checks of the servers `peta install` wrapped
# (`claude mcp list`, `gemini mcp list`, Codex's app server; no model, no login): Codex and
# Gemini CLI from npm into .e2e/clients, one package.json, one package at a time so other
# clients can join the directory; Claude Code too unless it is installed above.
CODEX_VERSION="0.171.0"
GEMINI_CLI_VERSION="0.61.0"
CLIENTS="$E2E/clients"
npm_clients=("@openai/codex@$CODEX_VERSION" "@google/gemini-cli@$GEMINI_CLI_VERSION")
if [ -z "${PETA_E2E_CLAUDE:-}" ]; then
    npm_clients+=("@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION:-2.1.328}")
    export PETA_E2E_CLAUDE="$CLIENTS/node_modules/.bin/claude"
fi
npm_client_at() { node -p "require('$CLIENTS/node_modules/$1/package.json').version" 2>/dev/null; }
for pinned in "${npm_clients[@]}"; do
    if [ "$(npm_client_at "${pinned%@*}")" != "${pinned##*@}" ]; then
        log "installing $pinned into .e2e/clients"
        mkdir -p "$CLIENTS"
        [ -f "$CLIENTS/package.json" ] || echo '{"private":true}' > "$CLIENTS/package.json"
        (cd "$CLIENTS" && npm install --silent --no-audit --no-fund --save-exact "$pinned")
    fi
done
export PETA_E2E_CODEX="$CLIENTS/node_modules/.bin/codex"
export PETA_E2E_GEMINI="$CLIENTS/node_modules/.bin/gemini"

log "cargo test"
cargo test --locked "$@"
