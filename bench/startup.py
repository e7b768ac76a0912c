#!/usr/bin/env python3
"""peta's own start-up cost: spawn -> initialize response, against a minimal stdio server
(Python, answers initialize and nothing else), run directly and through `peta run`
(confined in its box, and unconfined), alternating, in one run. A heavy server such as
server-everything (bench/relay.py) mixes in its own start-up, which on a 2-core machine
competes with peta's for the CPU. Pin it to one core for steadier figures:

    taskset -c 0 python3 bench/startup.py [--peta target/release/peta] [--samples 25]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

SERVER = r"""
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("method") == "initialize":
        print(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": {
            "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
            "serverInfo": {"name": "minimal", "version": "1"}}}), flush=True)
"""

INIT = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {},
    "clientInfo": {"name": "bench", "version": "1"}}}).encode() + b"\n"


def once(cmd, env):
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    p.stdin.write(INIT)
    p.stdin.flush()
    if not p.stdout.readline():
        sys.exit(f"no initialize response from {cmd}")
    took = time.perf_counter() - start
    p.stdin.close()
    p.wait()
    return took * 1000


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(here, "..", "target"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peta", default=os.path.join(target, "release", "peta"))
    ap.add_argument("--samples", type=int, default=25)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as state:
        server = [sys.executable, "-c", SERVER]
        # The same environment for both: peta passes its allow-list on to the server.
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        env["XDG_STATE_HOME"] = state
        allow_all = os.path.join(here, "allow-all.toml")
        modes = {
            "direct": server,
            "peta, confined": [a.peta, "run", "--config", allow_all, "--sandbox", "required", "--", *server],
            "peta, unconfined": [a.peta, "run", "--config", allow_all, "--sandbox", "off", "--", *server],
            "peta, no audit": [a.peta, "run", "--config", os.path.join(here, "no-rules.toml"),
                               "--sandbox", "off", "--", *server],
        }
        times = {m: [] for m in modes}
        once(modes["peta, confined"], env)  # creates the audit database
        for i in range(a.samples):
            order = list(modes) if i % 2 == 0 else list(reversed(modes))
            for m in order:
                times[m].append(once(modes[m], env))
    direct = statistics.median(times["direct"])
    print(f"{'mode':<18} {'median':>9} {'added':>9}   ({a.samples} samples each, alternating)")
    for m, ts in times.items():
        med = statistics.median(ts)
        added = "" if m == "direct" else f"{med - direct:+.1f} ms"
        print(f"{m:<18} {med:7.1f} ms {added:>9}")
    confined = statistics.median(times["peta, confined"])
    unconfined = statistics.median(times["peta, unconfined"])
    print(f"\nthe box: confined {confined * 1000:.0f} us, unconfined {unconfined * 1000:.0f} us: "
          f"+{(confined - unconfined) * 1000:.0f} us, {confined / unconfined:.2f}x")


if __name__ == "__main__":
    main()
