#!/usr/bin/env python3
"""Relay benchmark for `peta run`: a raw JSON-RPC driver against an MCP stdio
server, run directly and through `peta run -- <server>`, alternating in one run.

Python 3.11+, standard library only.

Measurements (median over --rounds, direct vs. peta, ratio = peta/direct):
  startup     spawn -> initialize response            (target: peta <= direct + 5 ms)
  sequential  N sequential tools/call echo calls       (timed after initialize + warm-up)
  pipelined   N echo calls with up to D in flight      (optional, on by default)
  big         one echo call with a large ASCII message (target: <= 1.5x)
  peak RSS    peta's VmHWM just before closing the big session (target: 3 x payload + 16 MiB)
  idle RSS    peta's VmRSS after initialize, no traffic          (target: <= 10 MiB)

Only peta's own process counts for RSS (its child server is a separate process).

Examples:
  bench/relay.py                                   # server-everything, release peta
  bench/relay.py --direct-only --rounds 3
  bench/relay.py --label audit-on --peta-args "--config /tmp/p.toml" --extra-env PETA_LOG=warn
  bench/relay.py --server-cmd "python3 my_server.py" --echo-tool echo --echo-arg text
  bench/relay.py --everything-max-buffer-mib 64    # lets server-everything accept a 16 MiB line

Note: @modelcontextprotocol/sdk's StdioServerTransport refuses (and the server
then exits on) any incoming line larger than 10 MiB (ReadBuffer maxBufferSize).
With the plain `node index.js stdio` command a 16 MiB echo therefore cannot
work; the script detects this in a direct probe and falls back to
--big-fallback-mib (loudly), unless --everything-max-buffer-mib is given, which
starts server-everything through a tiny bootstrap that passes a bigger
maxBufferSize to the same transport and server code.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MiB = 1 << 20
PROTOCOL_VERSION = "2025-11-25"
ROOT = Path(__file__).resolve().parent.parent
# scripts/test.sh installs server-everything here.
EVERYTHING_CANDIDATES = [
    str(ROOT / ".e2e/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js"),
]
DEFAULT_PETA = str(ROOT / "target/release/peta")
CLOSE_GRACE_S = 5.0

perf = time.perf_counter


class BenchError(Exception):
    pass


# What `peta run` passes its server from its own environment by default (DEFAULT_ALLOW in
# src/secrets/env.rs, plus LC_*). A server started directly with the full environment is a
# different process: node, for one, loads NODE_EXTRA_CA_CERTS at start-up when it is set.
SERVER_ENV = {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TMPDIR", "TZ"}


def server_env(environ) -> dict[str, str]:
    """`environ` pared down to what peta gives the server it starts."""
    return {k: v for k, v in environ.items() if k in SERVER_ENV or k.startswith("LC_")}


# --------------------------------------------------------------------------- #
# Process / session handling
# --------------------------------------------------------------------------- #


def proc_status_kib(pid: int, field: str) -> int | None:
    """Read e.g. VmRSS / VmHWM (in KiB) from /proc/<pid>/status."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(field.encode() + b":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class Session:
    """One spawned process (the server itself, or peta wrapping it)."""

    def __init__(self, argv: list[str], env: dict[str, str], timeout: float, what: str):
        self.what = what
        self.argv = argv
        self.stderr = tempfile.TemporaryFile()
        self.next_id = 1
        self.skipped = 0  # notifications / unrelated lines
        self.server_requests = 0
        self.killed_by_watchdog = False
        self.t_spawn = perf()
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.stderr,
                env=env,
                bufsize=1 << 16,
                close_fds=True,
            )
        except OSError as e:
            raise BenchError(f"{what}: cannot spawn {argv[0]!r}: {e}") from e
        self.pid = self.proc.pid
        self._w = self.proc.stdin
        self._r = self.proc.stdout
        self._timer = threading.Timer(timeout, self._watchdog)
        self._timer.daemon = True
        self._timer.start()
        self.startup_s: float | None = None

    # -- plumbing ----------------------------------------------------------
    def _watchdog(self) -> None:
        self.killed_by_watchdog = True
        try:
            self.proc.kill()
        except OSError:
            pass

    def stderr_tail(self, n: int = 1500) -> str:
        try:
            self.stderr.seek(0, os.SEEK_END)
            size = self.stderr.tell()
            self.stderr.seek(max(0, size - n))
            return self.stderr.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def _died(self, why: str) -> BenchError:
        try:
            rc = self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            rc = None
        msg = f"{self.what}: {why} (exit code {rc})"
        if self.killed_by_watchdog:
            msg += " [killed by --timeout watchdog]"
        tail = self.stderr_tail()
        if tail:
            msg += "\n    stderr tail: " + tail.replace("\n", "\n    ")
        return BenchError(msg)

    def send(self, data: bytes) -> None:
        try:
            self._w.write(data)
            self._w.flush()
        except (BrokenPipeError, ValueError, OSError) as e:
            raise self._died(f"write failed ({e.__class__.__name__})") from None

    def read_line(self) -> tuple[float, bytes]:
        line = self._r.readline()
        t = perf()
        if not line:
            raise self._died("stdout closed")
        return t, line

    def _handle_other(self, obj) -> None:
        """A line that is not the response we wait for."""
        if isinstance(obj, dict) and "method" in obj and "id" in obj:
            # A server->client request: answer so the server does not hang.
            self.server_requests += 1
            reply = {"jsonrpc": "2.0", "id": obj["id"],
                     "error": {"code": -32601, "message": "not supported by bench driver"}}
            self.send(json.dumps(reply).encode() + b"\n")
        else:
            self.skipped += 1

    def wait_response(self, want_id: int) -> tuple[float, dict]:
        """Block until the response with id `want_id`; returns (t_received, msg)."""
        while True:
            t, line = self.read_line()
            try:
                obj = json.loads(line)
            except ValueError:
                raise BenchError(f"{self.what}: non-JSON line from server: {line[:200]!r}") from None
            if isinstance(obj, dict) and "method" not in obj and obj.get("id") == want_id:
                return t, obj
            self._handle_other(obj)

    def new_id(self) -> int:
        i = self.next_id
        self.next_id += 1
        return i

    # -- MCP ----------------------------------------------------------------
    def initialize(self) -> float:
        rid = self.new_id()
        req = {
            "jsonrpc": "2.0",
            "id": rid,
            "method": "initialize",
            "params": {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "peta-relay-bench", "version": "0.1.0"},
            },
        }
        self.send(json.dumps(req).encode() + b"\n")
        t, resp = self.wait_response(rid)
        if "result" not in resp:
            raise BenchError(f"{self.what}: initialize failed: {json.dumps(resp)[:300]}")
        self.startup_s = t - self.t_spawn
        self.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        return self.startup_s

    def close(self) -> int | None:
        """Close stdin, wait for exit (kill after 5 s). Returns the exit code, None if killed."""
        self._timer.cancel()
        try:
            self._w.close()
        except OSError:
            pass
        # Drain stdout so the process is never blocked writing to us.
        drainer = threading.Thread(target=self._drain, daemon=True)
        drainer.start()
        rc: int | None
        try:
            rc = self.proc.wait(timeout=CLOSE_GRACE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        drainer.join(timeout=1)
        for f in (self._r, self.stderr):
            try:
                f.close()
            except OSError:
                pass
        return rc

    def _drain(self) -> None:
        try:
            while self._r.read(1 << 16):
                pass
        except (OSError, ValueError):
            pass

    def abort(self) -> None:
        self._timer.cancel()
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for f in (self._w, self._r, self.stderr):
            try:
                f.close()
            except OSError:
                pass


# --------------------------------------------------------------------------- #
# Echo requests
# --------------------------------------------------------------------------- #


class Echo:
    def __init__(self, tool: str, arg: str, small_msg: str, strict_everything: bool):
        self.tool = tool
        self.arg = arg
        self.strict = strict_everything  # server-everything: text is "Echo: <msg>"
        self._pre = b'{"jsonrpc":"2.0","id":'
        self._post_small = (
            b',"method":"tools/call","params":{"name":' + json.dumps(tool).encode()
            + b',"arguments":{' + json.dumps(arg).encode() + b":" + json.dumps(small_msg).encode()
            + b"}}}\n"
        )

    def small(self, rid: int) -> bytes:
        return self._pre + str(rid).encode() + self._post_small

    def big(self, rid: int, payload: bytes) -> bytes:
        return b"".join((
            self._pre, str(rid).encode(),
            b',"method":"tools/call","params":{"name":', json.dumps(self.tool).encode(),
            b',"arguments":{', json.dumps(self.arg).encode(), b':"', payload, b'"}}}\n',
        ))

    @staticmethod
    def check(sess: Session, resp: dict, min_text: int | None = None) -> None:
        if "error" in resp or not isinstance(resp.get("result"), dict):
            raise BenchError(f"{sess.what}: echo call failed: {json.dumps(resp)[:300]}")
        res = resp["result"]
        if res.get("isError"):
            raise BenchError(f"{sess.what}: echo tool returned isError: {json.dumps(res)[:300]}")
        if min_text is not None:
            n = sum(len(c.get("text", "")) for c in res.get("content", []) if isinstance(c, dict))
            if n < min_text:
                raise BenchError(f"{sess.what}: echo result text has {n} chars, expected >= {min_text}")


def big_payload(n: int) -> bytes:
    pat = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
    return (pat * (n // len(pat) + 1))[:n]


# --------------------------------------------------------------------------- #
# Benchmark steps
# --------------------------------------------------------------------------- #


def run_sequential(sess: Session, echo: Echo, n: int) -> float:
    send, wait, mk = sess.send, sess.wait_response, echo.small
    first = sess.next_id
    t0 = perf()
    for rid in range(first, first + n):
        send(mk(rid))
        _, resp = wait(rid)
        if "result" not in resp:
            Echo.check(sess, resp)
    t1 = perf()
    sess.next_id = first + n
    return t1 - t0


def run_pipelined(sess: Session, echo: Echo, depth: int, total: int) -> float:
    mk = echo.small
    inflight: set[int] = set()
    sent = done = 0
    rid = sess.next_id
    t0 = perf()
    while sent < min(depth, total):
        sess.send(mk(rid)); inflight.add(rid); rid += 1; sent += 1
    while done < total:
        _, line = sess.read_line()
        obj = json.loads(line)
        oid = obj.get("id") if isinstance(obj, dict) else None
        if oid in inflight and "method" not in obj:
            if "result" not in obj:
                Echo.check(sess, obj)
            inflight.discard(oid)
            done += 1
            if sent < total:
                sess.send(mk(rid)); inflight.add(rid); rid += 1; sent += 1
        else:
            sess._handle_other(obj)
    t1 = perf()
    sess.next_id = rid
    return t1 - t0


def warmup(sess: Session, echo: Echo, n: int) -> None:
    if n > 0:
        run_sequential(sess, echo, n)
        # check one response properly
        rid = sess.new_id()
        sess.send(echo.small(rid))
        _, resp = sess.wait_response(rid)
        Echo.check(sess, resp)


def run_big(sess: Session, echo: Echo, req: bytes, rid: int, payload_len: int) -> float:
    t0 = perf()
    sess.send(req)
    t1, resp = sess.wait_response(rid)
    Echo.check(sess, resp, min_text=payload_len)
    return t1 - t0


# --------------------------------------------------------------------------- #
# Results
# --------------------------------------------------------------------------- #


class Results:
    def __init__(self):
        self.samples: dict[str, dict[str, list[float]]] = {}
        self.failures: list[str] = []

    def add(self, metric: str, mode: str, value: float | None) -> None:
        if value is None:
            return
        self.samples.setdefault(metric, {}).setdefault(mode, []).append(value)

    def med(self, metric: str, mode: str) -> float | None:
        v = self.samples.get(metric, {}).get(mode)
        return statistics.median(v) if v else None

    def get(self, metric: str, mode: str) -> list[float]:
        return self.samples.get(metric, {}).get(mode, [])


# --------------------------------------------------------------------------- #
# Main
# --------------------------------------------------------------------------- #


def find_everything(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    for c in EVERYTHING_CANDIDATES:
        if os.path.isfile(c):
            return c
    return None


def find_sdk_stdio(index_js: str) -> str | None:
    d = Path(index_js).resolve().parent
    for p in [d, *d.parents]:
        c = p / "node_modules/@modelcontextprotocol/sdk/dist/esm/server/stdio.js"
        if c.is_file():
            return str(c)
    return None


def everything_bootstrap_cmd(node: str, index_js: str, max_buf: int) -> list[str]:
    dist = str(Path(index_js).resolve().parent)
    sdk = find_sdk_stdio(index_js)
    if not sdk:
        raise BenchError("--everything-max-buffer-mib: cannot find @modelcontextprotocol/sdk "
                         "(dist/esm/server/stdio.js) above " + dist)
    js = (
        "import { pathToFileURL } from 'node:url';"
        f"const {{ StdioServerTransport }} = await import(pathToFileURL({json.dumps(sdk)}).href);"
        f"const {{ createServer }} = await import(pathToFileURL({json.dumps(dist + '/server/index.js')}).href);"
        f"const t = new StdioServerTransport(process.stdin, process.stdout, {{ maxBufferSize: {max_buf} }});"
        "const { server } = createServer();"
        "await server.connect(t);"
    )
    return [node, "--input-type=module", "-e", js]


def fmt_ms(s: float | None) -> str:
    return "-" if s is None else f"{s * 1000:.1f} ms"


def fmt_mib(kib: float | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.1f} MiB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Benchmark an MCP stdio server directly vs. through `peta run`.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Examples:", 1)[1] if "Examples:" in __doc__ else None,
    )
    ap.add_argument("--everything", metavar="INDEX_JS",
                    help="server-everything dist/index.js (default: first existing of "
                    + ", ".join(EVERYTHING_CANDIDATES) + ")")
    ap.add_argument("--node", default="node", help="node binary (default: node)")
    ap.add_argument("--everything-max-buffer-mib", type=float, metavar="MIB",
                    help="start server-everything via a bootstrap that raises the SDK's 10 MiB "
                    "stdio line limit to MIB (needed for a 16 MiB big test)")
    ap.add_argument("--server-cmd", help="generic mode: benchmark this stdio server command "
                    "(shell-like quoting, no shell) instead of server-everything")
    ap.add_argument("--echo-tool", default="echo", help="echo tool name (default: echo)")
    ap.add_argument("--echo-arg", default="message", help="echo tool string argument (default: message)")
    ap.add_argument("--peta", default=DEFAULT_PETA, help=f"peta binary (default: {DEFAULT_PETA})")
    allow_all = os.path.join(os.path.dirname(os.path.abspath(__file__)), "allow-all.toml")
    ap.add_argument("--peta-args", default=f"--config {shlex.quote(allow_all)}",
                    help="args inserted after `peta run` (before `--`); default: bench/allow-all.toml "
                         "(every call allowed, audit on), so no call waits for a person")
    ap.add_argument("--extra-env", action="append", default=[], metavar="K=V",
                    help="environment variable for the peta process (repeatable)")
    ap.add_argument("--label", default="", help="label printed in the output / JSON")
    ap.add_argument("--direct-only", action="store_true", help="only run the server directly")
    ap.add_argument("--rounds", type=int, default=5, help="measured rounds (default: 5)")
    ap.add_argument("--warmup-rounds", type=int, default=1,
                    help="unreported rounds run first (default: 1)")
    ap.add_argument("--calls", type=int, default=1000, help="sequential echo calls (default: 1000)")
    ap.add_argument("--warmup-calls", type=int, default=100,
                    help="untimed echo calls before the timed ones (default: 100)")
    ap.add_argument("--message", default="hello from the peta relay bench",
                    help="echo message for the small calls")
    ap.add_argument("--pipeline-depth", type=int, default=8, help="in-flight calls (default: 8)")
    ap.add_argument("--pipeline-per-client", type=int, default=125,
                    help="calls per in-flight slot (default: 125 -> 8 x 125 = 1000)")
    ap.add_argument("--no-pipelined", action="store_true", help="skip the pipelined test")
    ap.add_argument("--big-mib", type=float, default=16.0, help="big echo payload in MiB (default: 16)")
    ap.add_argument("--big-fallback-mib", type=float, default=9.0,
                    help="payload used if the direct server rejects --big-mib (default: 9)")
    ap.add_argument("--no-big-fallback", action="store_true",
                    help="fail instead of falling back to --big-fallback-mib")
    ap.add_argument("--no-big", action="store_true", help="skip the big-message test")
    ap.add_argument("--startup-extra", type=int, default=3,
                    help="extra spawn+initialize-only sessions per round and mode (default: 3); "
                    "every session contributes a startup sample")
    ap.add_argument("--idle-settle", type=float, default=0.5,
                    help="seconds to wait after initialize before reading idle RSS (default: 0.5)")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="per-session watchdog in seconds (default: 120)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every sample")
    a = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    # ---- commands -----------------------------------------------------------
    everything = None
    if a.server_cmd:
        server_cmd = shlex.split(a.server_cmd)
        server_desc = a.server_cmd
    else:
        everything = find_everything(a.everything)
        if not everything or not os.path.isfile(everything):
            ap.error("server-everything dist/index.js not found; pass --everything PATH "
                     "(tried: " + ", ".join([a.everything] if a.everything else EVERYTHING_CANDIDATES) + ")")
        if a.everything_max_buffer_mib:
            server_cmd = everything_bootstrap_cmd(a.node, everything,
                                                  int(a.everything_max_buffer_mib * MiB))
            server_desc = (f"server-everything {everything} via bootstrap "
                           f"(maxBufferSize {a.everything_max_buffer_mib:g} MiB)")
        else:
            server_cmd = [a.node, everything, "stdio"]
            server_desc = " ".join(server_cmd)
    strict = not a.server_cmd

    peta_env = dict(os.environ)
    for kv in a.extra_env:
        if "=" not in kv:
            ap.error(f"--extra-env expects K=V, got {kv!r}")
        k, v = kv.split("=", 1)
        peta_env[k] = v
    # The server started directly gets what peta would pass it, so start-up and the rest
    # compare the same server process (see server_env).
    direct_env = server_env(os.environ)
    peta_cmd = [a.peta, "run", *shlex.split(a.peta_args), "--", *server_cmd]
    modes = ["direct"] if a.direct_only else ["direct", "peta"]
    cmd_for = {"direct": (server_cmd, direct_env), "peta": (peta_cmd, peta_env)}

    if not a.direct_only and not (os.path.isfile(a.peta) and os.access(a.peta, os.X_OK)):
        ap.error(f"peta binary not found/executable: {a.peta} (use --peta PATH or --direct-only)")

    echo = Echo(a.echo_tool, a.echo_arg, a.message, strict)
    pipe_total = a.pipeline_depth * a.pipeline_per_client
    res = Results()
    extra_info: dict[str, int] = {"skipped_lines": 0, "server_requests": 0}

    # ---- header ---------------------------------------------------------------
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 0
    try:
        node_ver = subprocess.run([a.node, "--version"], capture_output=True, text=True,
                                  timeout=10).stdout.strip() if not a.server_cmd else ""
    except (OSError, subprocess.SubprocessError):
        node_ver = "?"
    now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    header = (f"# peta relay bench{' [' + a.label + ']' if a.label else ''}: "
              f"{platform.node()} nproc={nproc} python={platform.python_version()}"
              f"{' node=' + node_ver if node_ver else ''} {platform.machine()} date={now}")

    def session(mode: str) -> Session:
        cmd, env = cmd_for[mode]
        s = Session(cmd, env, a.timeout, mode)
        try:
            s.initialize()
        except BaseException:
            s.abort()
            raise
        return s

    def finish(s: Session) -> None:
        extra_info["skipped_lines"] += s.skipped
        extra_info["server_requests"] += s.server_requests
        s.close()

    # ---- pre-flight -------------------------------------------------------------
    for mode in modes:
        try:
            s = session(mode)
            warmup(s, echo, 1)
            finish(s)
        except BenchError as e:
            log(f"pre-flight {mode} failed: {e}")
            log("command: " + shlex.join(cmd_for[mode][0]))
            return 2

    big_req_mib = a.big_mib
    big_mib = a.big_mib
    big_note = ""
    big_req = b""
    big_len = 0
    BIG_ID = 1_000_000
    if not a.no_big:
        big_len = int(big_mib * MiB)
        big_req = echo.big(BIG_ID, big_payload(big_len))
        # probe directly with the requested size (also serves as a warm-up)
        s = None
        try:
            s = session("direct")
            warmup(s, echo, 5)
            run_big(s, echo, big_req, BIG_ID, big_len)
            finish(s)
        except BenchError as e:
            if s is not None:
                s.abort()
            first = str(e).splitlines()[0]
            if a.no_big_fallback or a.big_fallback_mib >= big_mib:
                log(f"big probe failed at {big_mib:g} MiB: {e}")
                return 2
            big_mib = a.big_fallback_mib
            big_len = int(big_mib * MiB)
            big_req = echo.big(BIG_ID, big_payload(big_len))
            big_note = (f"direct server failed a {big_req_mib:g} MiB echo ({first}); "
                        f"using {big_mib:g} MiB instead")
            log("NOTE: " + big_note)
            try:
                s = session("direct")
                warmup(s, echo, 5)
                run_big(s, echo, big_req, BIG_ID, big_len)
                finish(s)
            except BenchError as e2:
                log(f"big probe failed at fallback {big_mib:g} MiB too: {e2}")
                return 2

    # ---- rounds -----------------------------------------------------------------
    total_rounds = a.warmup_rounds + a.rounds
    t_begin = perf()
    for r in range(total_rounds):
        measured = r >= a.warmup_rounds
        order = modes if r % 2 == 0 else modes[::-1]
        tag = f"round {r - a.warmup_rounds + 1}/{a.rounds}" if measured else f"warm-up {r + 1}/{a.warmup_rounds}"
        log(f"{tag} (order: {', '.join(order)}) ...")

        def rec(metric: str, mode: str, v: float | None) -> None:
            if measured:
                res.add(metric, mode, v)

        def attempt(mode: str, what: str, fn) -> None:
            s = None
            try:
                s = session(mode)
                rec("startup", mode, s.startup_s)
                fn(s)
                finish(s)
            except BenchError as e:
                if s is not None:
                    s.abort()
                msg = f"{tag} {mode} {what}: {e}"
                log("  FAILED " + msg)
                if measured:
                    res.failures.append(msg)

        # main session: idle RSS, sequential, pipelined
        def main_session(s: Session, mode: str) -> None:
            time.sleep(a.idle_settle)  # both modes, to keep them symmetric
            if mode == "peta":
                rec("idle_rss_kib", mode, proc_status_kib(s.pid, "VmRSS"))
            warmup(s, echo, a.warmup_calls)
            rec("sequential", mode, run_sequential(s, echo, a.calls))
            if not a.no_pipelined:
                rec("pipelined", mode, run_pipelined(s, echo, a.pipeline_depth, pipe_total))

        for mode in order:
            attempt(mode, "main", lambda s, m=mode: main_session(s, m))

        if not a.no_big and measured:
            def big_session(s: Session, mode: str) -> None:
                warmup(s, echo, 5)
                rec("big", mode, run_big(s, echo, big_req, BIG_ID, big_len))
                if mode == "peta":
                    rec("big_hwm_kib", mode, proc_status_kib(s.pid, "VmHWM"))
            for mode in order:
                attempt(mode, "big", lambda s, m=mode: big_session(s, m))

        if measured:
            for _ in range(a.startup_extra):
                for mode in order:
                    attempt(mode, "startup", lambda s: None)
    elapsed = perf() - t_begin

    # ---- report -------------------------------------------------------------------
    rows = []
    summary: dict[str, dict] = {}

    def timing_row(metric: str, name: str, target_ratio: float | None = None,
                   target_diff_ms: float | None = None, per_call: int | None = None) -> None:
        d, p = res.med(metric, "direct"), res.med(metric, "peta")
        ratio = (p / d) if (d and p is not None) else None
        diff = (p - d) if (d is not None and p is not None) else None
        target, ok = "", None
        if target_ratio is not None:
            target = f"<= {target_ratio:g}x"
            ok = None if ratio is None else ratio <= target_ratio
        if target_diff_ms is not None:
            target = f"<= direct+{target_diff_ms:g} ms"
            ok = None if diff is None else diff * 1000 <= target_diff_ms
        diff_s = "-" if diff is None else f"{diff * 1000:+.1f} ms"
        if per_call and diff is not None:
            diff_s += f" ({diff / per_call * 1e6:+.1f} us/call)"
        rows.append((name, fmt_ms(d), fmt_ms(p), "-" if ratio is None else f"{ratio:.3f}x",
                     diff_s, target, "" if ok is None else ("ok" if ok else "MISS")))
        summary[metric] = {
            "unit": "s",
            "direct": {"median": d, "samples": res.get(metric, "direct")},
            "peta": {"median": p, "samples": res.get(metric, "peta")},
            "ratio": ratio, "diff": diff, "target": target or None, "pass": ok,
        }
        if per_call:
            summary[metric]["calls"] = per_call

    def mem_row(metric: str, name: str, limit_kib: float) -> None:
        p = res.med(metric, "peta")
        ok = None if p is None else p <= limit_kib
        rows.append((name, "", fmt_mib(p), "", "", f"<= {fmt_mib(limit_kib)}",
                     "" if ok is None else ("ok" if ok else "MISS")))
        vals = res.get(metric, "peta")
        summary[metric] = {"unit": "KiB", "peta": {"median": p, "max": max(vals) if vals else None,
                                                  "samples": vals},
                           "target": limit_kib, "pass": ok}

    timing_row("startup", "startup (spawn -> init response)", target_diff_ms=5)
    timing_row("sequential", f"sequential {a.calls} echo calls", per_call=a.calls)
    if not a.no_pipelined:
        timing_row("pipelined", f"pipelined {a.pipeline_depth}x{a.pipeline_per_client} echo calls",
                   per_call=pipe_total)
    if not a.no_big:
        timing_row("big", f"big echo {big_mib:g} MiB", target_ratio=1.5)
    if "peta" in modes:
        if not a.no_big:
            mem_row("big_hwm_kib", f"peta peak RSS (VmHWM, big {big_mib:g} MiB)",
                    (3 * big_len + 16 * MiB) / 1024)
        mem_row("idle_rss_kib", "peta idle RSS (VmRSS)", 10 * 1024)

    cols = ("metric", "direct", "peta", "peta/direct", "diff", "target", "")
    widths = [max(len(str(x[i])) for x in [cols, *rows]) for i in range(len(cols))]

    out = [header]
    out.append(f"# label: {a.label or '-'}   server: {server_desc}")
    if "peta" in modes:
        out.append(f"# peta: {shlex.join(peta_cmd[:len(peta_cmd) - len(server_cmd)])} <server>"
                   + (f"   extra env: {' '.join(a.extra_env)}" if a.extra_env else ""))
    out.append(f"# rounds: {a.rounds} (+{a.warmup_rounds} warm-up), medians; "
               f"startup samples/mode: {len(res.get('startup', 'direct'))}; elapsed {elapsed:.1f} s")
    if big_note:
        out.append("# NOTE: " + big_note)
    out.append("")
    for i, row in enumerate([cols, *rows]):
        out.append("  ".join(str(c).ljust(w) if j == 0 else str(c).rjust(w) if j < 5 else str(c).ljust(w)
                             for j, (c, w) in enumerate(zip(row, widths))).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths).rstrip())
    if extra_info["skipped_lines"] or extra_info["server_requests"]:
        out.append("")
        out.append(f"# skipped {extra_info['skipped_lines']} notification/unrelated lines, "
                   f"answered {extra_info['server_requests']} server->client requests")
    if res.failures:
        out.append("")
        out.append(f"# {len(res.failures)} FAILED session(s):")
        out.extend("#   " + f.splitlines()[0] for f in res.failures)
    if a.verbose:
        out.append("")
        for metric, by_mode in res.samples.items():
            for mode, vals in by_mode.items():
                unit_ms = not metric.endswith("_kib")
                shown = ", ".join(f"{v * 1000:.1f}" if unit_ms else f"{v / 1024:.1f}" for v in vals)
                out.append(f"# {metric:<13} {mode:<6} [{'ms' if unit_ms else 'MiB'}] {shown}")
    print("\n".join(out), flush=True)

    if a.json:
        doc = {
            "label": a.label,
            "date": now,
            "machine": {"host": platform.node(), "nproc": nproc, "python": platform.python_version(),
                        "arch": platform.machine(), "node": node_ver or None},
            "config": {
                "server_cmd": server_cmd, "peta_cmd": peta_cmd if "peta" in modes else None,
                "extra_env": a.extra_env, "rounds": a.rounds, "warmup_rounds": a.warmup_rounds,
                "calls": a.calls, "warmup_calls": a.warmup_calls,
                "pipeline": None if a.no_pipelined else {"depth": a.pipeline_depth, "total": pipe_total},
                "big_requested_bytes": None if a.no_big else int(big_req_mib * MiB),
                "big_bytes": None if a.no_big else big_len,
                "big_note": big_note or None, "startup_extra": a.startup_extra,
                "protocol_version": PROTOCOL_VERSION,
            },
            "results": summary,
            "failures": res.failures,
            "skipped_lines": extra_info["skipped_lines"],
            "server_requests": extra_info["server_requests"],
            "elapsed_s": elapsed,
        }
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    return 1 if res.failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
