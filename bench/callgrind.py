#!/usr/bin/env python3
"""Instruction counts of `peta run` on the relay workload, under callgrind.

Wall-clock ratios on a shared machine move by several percent from run to run;
instruction counts do not. This runs peta (not the server) under
`valgrind --tool=callgrind` twice: once with only start-up and shutdown
(initialize, no calls) and once with the workload, so the difference is what
the calls cost. Prints instructions per call and per MiB of big message, and
leaves the callgrind files for `callgrind_annotate`.

Examples:
  bench/callgrind.py --peta target/release/peta
  bench/callgrind.py --calls 2000 --big-mib 4 --out /tmp/cg
  callgrind_annotate --inclusive=yes /tmp/cg/calls.out | head -60
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import relay  # noqa: E402
from relay import MiB, Echo, Session  # noqa: E402

# Every call allowed without asking; the audit log on, as by default.
PETA_TOML = '[defaults]\ndefault_action = "allow"\n'


def total_ir(path: Path) -> int:
    """The `summary:` (or `totals:`) line of a callgrind output file."""
    text = path.read_text(errors="replace")
    m = re.search(r"^(?:summary|totals):\s*(\d+)", text, re.M)
    if not m:
        raise SystemExit(f"no instruction total in {path}")
    return int(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Examples:" + __doc__.split("Examples:", 1)[1])
    ap.add_argument("--peta", default=relay.DEFAULT_PETA)
    ap.add_argument("--peta-args", default="", help="args after `peta run` (default: allow-all config)")
    ap.add_argument("--everything", metavar="INDEX_JS")
    ap.add_argument("--node", default="node")
    ap.add_argument("--calls", type=int, default=2000, help="sequential echo calls (default: 2000)")
    ap.add_argument("--pipelined", type=int, default=1000, help="calls kept 8 in flight (default: 1000)")
    ap.add_argument("--big-mib", type=float, default=4.0, help="one echo of this size (default: 4)")
    ap.add_argument("--out", help="directory for the callgrind files (default: a temporary one)")
    a = ap.parse_args()

    index_js = relay.find_everything(a.everything)
    if not index_js:
        ap.error("server-everything not found; pass --everything")
    server = relay.everything_bootstrap_cmd(a.node, index_js, 64 * MiB)
    out = Path(a.out or tempfile.mkdtemp(prefix="peta-callgrind-"))
    out.mkdir(parents=True, exist_ok=True)
    peta_args = a.peta_args.split()
    if not peta_args:
        (out / "peta.toml").write_text(PETA_TOML)
        peta_args = ["--config", str(out / "peta.toml")]
    echo = Echo("echo", "message", "hello from the peta relay bench", True)

    def run(name: str, work) -> int:
        cg = out / f"{name}.out"
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}",
                a.peta, "run", *peta_args, "--", *server]
        s = Session(argv, dict(os.environ), 900, name)
        try:
            s.initialize()
            work(s)
        except BaseException:
            s.abort()
            raise
        rc = s.close()
        if rc != 0:
            print(f"{name}: peta exited with {rc}: {s.stderr_tail()}", file=sys.stderr)
        return total_ir(cg)

    def workload(s: Session) -> None:
        relay.run_sequential(s, echo, a.calls)
        if a.pipelined:
            relay.run_pipelined(s, echo, 8, a.pipelined)
        if a.big_mib:
            n = int(a.big_mib * MiB)
            relay.run_big(s, echo, echo.big(1_000_000, relay.big_payload(n)), 1_000_000, n)

    def small_only(s: Session) -> None:
        relay.run_sequential(s, echo, a.calls)
        if a.pipelined:
            relay.run_pipelined(s, echo, 8, a.pipelined)

    base = run("base", lambda s: None)
    small = run("small", small_only)
    full = run("calls", workload)
    calls = a.calls + a.pipelined
    print(f"start-up + shutdown: {base:>14,} instructions")
    print(f"{calls} calls:          {small - base:>14,} instructions, "
          f"{(small - base) / calls:,.0f} per call")
    if a.big_mib:
        print(f"{a.big_mib:g} MiB echo:         {full - small:>14,} instructions, "
              f"{(full - small) / a.big_mib:,.0f} per MiB (request + result)")
    print(f"callgrind files: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
