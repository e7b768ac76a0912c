#!/usr/bin/env python3
"""Peer proxy comparison: the relay workload of bench/relay.py run directly,
through `peta run`, and through each stdio MCP proxy published on PyPI that
wraps a server command the same way (mcp-firewall, mcp-watchdog,
greenlight-mcp, mcp-snoop). All of them wrap the same server, in one run,
with the mode order rotated every round.

Python 3.11+. The peers are installed into .e2e/peers/venv from
bench/peers-requirements.txt (exact pins) the first time the script runs.

Metrics (median over --rounds, each shown as a ratio to direct):
  startup     spawn -> initialize response (every session is a sample)
  sequential  --calls sequential tools/call echo calls
  pipelined   --pipeline-depth clients' worth of calls kept in flight
  big         one echo call with a --big-mib ASCII message (request and result)
  peak RSS    VmHWM of the process tree (proxy + server, or the server alone
              for direct) just before the big session closes; the proxy's own
              VmHWM is shown in brackets

A peer that cannot start, or fails a step, gets the reason in its cell; no
number is ever reported for a step that did not complete.

Examples:
  bench/peers.py                      # server-everything with a 64 MiB line limit
  bench/peers.py --rounds 3 --only peta,mcp-snoop
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import relay  # noqa: E402  (the workload: sessions, echo calls, timing steps)
from relay import MiB, BenchError, Echo, Session  # noqa: E402

PEERS_DIR = relay.ROOT / ".e2e/peers"
VENV = PEERS_DIR / "venv"
REQUIREMENTS = Path(__file__).resolve().parent / "peers-requirements.txt"

# mcp-firewall: every stage that can block, rewrite or slow a call is switched
# off (its defaults are "prompt" for unmatched calls, a 200 calls/min global
# rate limit that would deny most of the workload, injection and egress
# checks, secret redaction of results and a JSONL audit). Keys as read by
# mcp_firewall/config.py:load_config.
FIREWALL_YAML = """\
version: 1
defaultAction: allow
killSwitch: {enabled: false}
globalRateLimit: {enabled: false}
security:
  injectionDetection: {enabled: false}
  egressControl: {enabled: false}
responseScanning: {detectSecrets: false, detectPII: false}
rules: []
audit: {enabled: false}
"""

# peta's own permissive setting: every call allowed without asking (its default
# is to ask a person, which a benchmark driver cannot answer). The audit log
# stays on, as it is by default, so peta still writes one SQLite row per call.
PETA_TOML = """\
[defaults]
default_action = "allow"
"""


@dataclass
class Peer:
    name: str
    version: str
    how: str  # how it is configured, printed under the table

    def argv(self, server: list[str], scratch: Path) -> list[str]:
        bin_ = str(VENV / "bin" / self.name)
        if self.name == "mcp-firewall":
            cfg = scratch / "mcp-firewall.yaml"
            cfg.write_text(FIREWALL_YAML)
            return [bin_, "wrap", "--config", str(cfg), "--", *server]
        if self.name == "mcp-watchdog":
            return [bin_, "--quiet", "--", *server]
        if self.name == "greenlight-mcp":
            return [bin_, "run", "--log-dir", str(scratch / "greenlight"), "--", *server]
        if self.name == "mcp-snoop":
            return [bin_, "--no-color", "--", *server]
        raise ValueError(self.name)


PEERS = [
    Peer("mcp-firewall", "0.1.0",
         "`wrap --config F -- CMD`; F sets defaultAction allow and disables the kill switch, "
         "rate limit, injection/egress checks, secret/PII scanning and the audit log. Still "
         "parses every line, runs its (now empty) pipeline on tools/call and prints one "
         "status line per call to stderr (not switchable)."),
    Peer("mcp-watchdog", "0.1.9",
         "`--quiet -- CMD`; it has no switches for its detectors (they only alert, never "
         "block), --quiet silences the alerts. Re-serialises every message with json.dumps."),
    Peer("greenlight-mcp", "0.7.0",
         "`run --log-dir D -- CMD`; the default metadata-only JSONL session log (no "
         "--capture-payloads); the log cannot be switched off. Relays the raw lines."),
    Peer("mcp-snoop", "0.1.0",
         "`--no-color -- CMD`; prints a one-line summary per message to stderr (not "
         "switchable). Relays the raw lines."),
]


def ensure_venv(log) -> None:
    """Create .e2e/peers/venv and install the pinned peers unless already there."""
    want = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, ver = line.split("==")
            want[name.lower().replace("_", "-")] = ver
    py = VENV / "bin/python"
    if py.exists():
        out = subprocess.run([str(py), "-m", "pip", "freeze"], capture_output=True, text=True)
        have = {}
        for line in out.stdout.splitlines():
            if "==" in line:
                n, v = line.split("==", 1)
                have[n.lower().replace("_", "-")] = v
        if all(have.get(p.name) == p.version for p in PEERS):
            return
    log(f"installing peers into {VENV} from {REQUIREMENTS.name} ...")
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)


def tree_hwm_kib(pid: int) -> int | None:
    """VmHWM of `pid` plus every descendant (the server under a proxy)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        v = relay.proc_status_kib(p, "VmHWM")
        if v is None:
            return None
        total += v
        todo.extend(children.get(p, []))
    return total


class Cells:
    """Samples and failures per (metric, mode)."""

    def __init__(self):
        self.samples: dict[tuple[str, str], list[float]] = {}
        self.fail: dict[tuple[str, str], list[str]] = {}

    def add(self, metric, mode, v):
        if v is not None:
            self.samples.setdefault((metric, mode), []).append(v)

    def failed(self, metric, mode, why):
        self.fail.setdefault((metric, mode), []).append(why)

    def med(self, metric, mode):
        v = self.samples.get((metric, mode))
        return statistics.median(v) if v else None


def first_line(e: BaseException) -> str:
    s = str(e).splitlines()[0]
    return s.split(": ", 1)[1] if ": " in s else s


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Examples:" + __doc__.split("Examples:", 1)[1])
    ap.add_argument("--everything", metavar="INDEX_JS", help="server-everything dist/index.js")
    ap.add_argument("--node", default="node")
    ap.add_argument("--everything-max-buffer-mib", type=float, default=64.0,
                    help="SDK stdio line limit for server-everything (default: 64, so 16 MiB fits)")
    ap.add_argument("--peta", default=relay.DEFAULT_PETA)
    ap.add_argument("--peta-args", default="",
                    help="args after `peta run` (default: --config with default_action allow, audit on)")
    ap.add_argument("--only", default="", help="comma-separated subset of proxies to run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--warmup-calls", type=int, default=100)
    ap.add_argument("--pipeline-depth", type=int, default=8)
    ap.add_argument("--pipeline-per-client", type=int, default=125)
    ap.add_argument("--big-mib", type=float, default=16.0)
    ap.add_argument("--startup-extra", type=int, default=2,
                    help="extra spawn+initialize-only sessions per round and mode (default: 2)")
    ap.add_argument("--timeout", type=float, default=180.0, help="per-session watchdog, seconds")
    ap.add_argument("--json", metavar="FILE")
    a = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    index_js = relay.find_everything(a.everything)
    if not index_js:
        ap.error("server-everything not found; run scripts/test.sh once or pass --everything")
    server = relay.everything_bootstrap_cmd(a.node, index_js, int(a.everything_max_buffer_mib * MiB))
    ensure_venv(log)

    peers = PEERS
    wanted = {"direct", "peta", *[p.name for p in PEERS]}
    if a.only:
        only = set(a.only.split(","))
        if only - wanted:
            ap.error(f"--only: unknown {sorted(only - wanted)}")
        peers = [p for p in PEERS if p.name in only]
    scratch = Path(tempfile.mkdtemp(prefix="peers-", dir=PEERS_DIR))
    cmds: dict[str, list[str]] = {"direct": server}
    if not a.only or "peta" in a.only.split(","):
        peta_args = shlex.split(a.peta_args)
        if not peta_args:
            (scratch / "peta.toml").write_text(PETA_TOML)
            peta_args = ["--config", str(scratch / "peta.toml")]
        cmds["peta"] = [a.peta, "run", *peta_args, "--", *server]
    for p in peers:
        cmds[p.name] = p.argv(server, scratch)
    modes = list(cmds)
    # peta starts its server with only part of its own environment (relay.server_env); every
    # other mode gets just that part, so each server starts in the same environment. (With the
    # full one, node loads NODE_EXTRA_CA_CERTS when started directly but not under peta, and
    # peta looked faster to start than the server alone.)
    env = relay.server_env(os.environ)
    peta_env = dict(os.environ)

    echo = Echo("echo", "message", "hello from the peta relay bench", True)
    pipe_total = a.pipeline_depth * a.pipeline_per_client
    big_len = int(a.big_mib * MiB)
    BIG_ID = 1_000_000
    big_req = echo.big(BIG_ID, relay.big_payload(big_len))
    cells = Cells()
    dead: dict[str, str] = {}  # modes that failed pre-flight

    def session(mode: str) -> Session:
        s = Session(cmds[mode], peta_env if mode == "peta" else env, a.timeout, mode)
        try:
            s.initialize()
        except BaseException:
            s.abort()
            raise
        return s

    # Pre-flight: one session, a few calls. A mode that fails here is out.
    for mode in modes:
        s = None
        try:
            s = session(mode)
            relay.warmup(s, echo, 5)
            s.close()
        except BenchError as e:
            if s is not None:
                s.abort()
            dead[mode] = "cannot serve the workload: " + first_line(e)
            log(f"pre-flight {mode} FAILED: {e}\n  command: {shlex.join(cmds[mode])}")
    if "direct" in dead:
        return 2
    live = [m for m in modes if m not in dead]

    t_begin = time.perf_counter()
    for r in range(a.rounds):
        k = r % len(live)
        order = live[k:] + live[:k]
        log(f"round {r + 1}/{a.rounds} (order: {', '.join(order)}) ...")
        for mode in order:
            # main session: sequential then pipelined
            s = None
            step = "initialize"
            try:
                s = session(mode)
                cells.add("startup", mode, s.startup_s)
                step = "warm-up"
                relay.warmup(s, echo, a.warmup_calls)
                step = "sequential"
                cells.add("sequential", mode, relay.run_sequential(s, echo, a.calls))
                step = "pipelined"
                cells.add("pipelined", mode,
                          relay.run_pipelined(s, echo, a.pipeline_depth, pipe_total))
                s.close()
            except BenchError as e:
                if s is not None:
                    s.abort()
                metrics = {"initialize": ["sequential", "pipelined"], "warm-up": ["sequential", "pipelined"],
                           "sequential": ["sequential", "pipelined"], "pipelined": ["pipelined"]}[step]
                for m in metrics:
                    cells.failed(m, mode, f"{step}: {first_line(e)}")
                log(f"  FAILED {mode} {step}: {e}")
            # big session: one 16 MiB echo, then the tree's peak RSS
            s = None
            try:
                s = session(mode)
                cells.add("startup", mode, s.startup_s)
                relay.warmup(s, echo, 5)
                cells.add("big", mode, relay.run_big(s, echo, big_req, BIG_ID, big_len))
                cells.add("rss", mode, tree_hwm_kib(s.pid))
                if mode != "direct":
                    cells.add("rss_own", mode, relay.proc_status_kib(s.pid, "VmHWM"))
                s.close()
            except BenchError as e:
                if s is not None:
                    s.abort()
                for m in ("big", "rss"):
                    cells.failed(m, mode, first_line(e))
                log(f"  FAILED {mode} big: {e}")
            for _ in range(a.startup_extra):
                s = None
                try:
                    s = session(mode)
                    cells.add("startup", mode, s.startup_s)
                    s.close()
                except BenchError as e:
                    if s is not None:
                        s.abort()
                    cells.failed("startup", mode, first_line(e))
    elapsed = time.perf_counter() - t_begin

    # ---- one table: direct in absolute units, every proxy as a ratio to it ----
    rows_def = [
        ("startup", "start-up (spawn -> initialize)"),
        ("sequential", f"{a.calls} sequential calls"),
        ("pipelined", f"pipelined, {a.pipeline_depth} in flight x {a.pipeline_per_client}"),
        ("big", f"{a.big_mib:g} MiB echo (request + result)"),
        ("rss", "peak RSS, proxy + server [proxy alone]"),
    ]
    notes: list[str] = []

    def note(text: str) -> int:
        if text not in notes:
            notes.append(text)
        return notes.index(text) + 1

    def cell(metric: str, mode: str) -> str:
        if mode in dead:
            return "n/a [%d]" % note(f"{mode}: {dead[mode]}")
        fails = cells.fail.get((metric, mode), [])
        if fails:
            return "FAIL [%d]" % note(f"{mode} {metric}: {len(fails)} failed session(s), first: {fails[0]}")
        v, d = cells.med(metric, mode), cells.med(metric, "direct")
        if v is None or not d:
            return "-"
        if metric == "rss":
            absolute = relay.fmt_mib(v)
            if mode == "direct":
                return absolute
            own = cells.med("rss_own", mode)
            return f"{v / d:.2f}x [{relay.fmt_mib(own)}]"
        if mode == "direct":
            return relay.fmt_ms(v)
        return f"{v / d:.2f}x"

    table = [["metric", *modes]]
    for metric, label in rows_def:
        table.append([label, *[cell(metric, m) for m in modes]])
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 0
    out = [f"# peta peer proxies bench: {platform.node()} nproc={nproc} "
           f"python={platform.python_version()} {platform.machine()} date={now}",
           f"# server: server-everything {index_js} (stdio line limit "
           f"{a.everything_max_buffer_mib:g} MiB); rounds: {a.rounds}, medians; elapsed {elapsed:.0f} s",
           "# direct column: absolute; others: ratio to direct (lower is better)", ""]
    for i, row in enumerate(table):
        out.append("  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                             for j, (c, w) in enumerate(zip(row, widths))).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append("")
    for i, n in enumerate(notes, 1):
        out.append(f"[{i}] {n}")
    out.append("# versions: " + ", ".join(f"{p.name}=={p.version}" for p in peers))
    for p in peers:
        out.append(f"# {p.name}: {p.how}")
    if "peta" in cmds:
        out.append(f"# peta: {shlex.join(cmds['peta'][:len(cmds['peta']) - len(server)])} CMD "
                   "(F: default_action allow, no rules, audit log on)")
    print("\n".join(out), flush=True)

    if a.json:
        doc = {"date": now, "rounds": a.rounds, "commands": cmds, "dead": dead,
               "samples": {f"{m}/{mode}": v for (m, mode), v in cells.samples.items()},
               "failures": {f"{m}/{mode}": v for (m, mode), v in cells.fail.items()}}
        Path(a.json).write_text(relay.json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
