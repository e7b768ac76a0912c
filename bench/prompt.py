#!/usr/bin/env python3
"""Time from a tools/call reaching `peta run` to its approval question being visible on the
terminal: peta runs with a pseudo-terminal as its controlling terminal (as when a person
starts a terminal client) while the protocol flows over pipes, as it does under any client.

    bench/prompt.py                 # release peta, 30 questions
    bench/prompt.py --rounds 100

Each round writes one tools/call (the demo server's echo; the default policy asks), waits
until the terminal shows the question, answers "d" (deny) and reads the denial. Prints the
median and the 90th percentile. Python 3.11+, standard library only; Linux or macOS.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peta", default=str(ROOT / "target/release/peta"))
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()

    master, slave = os.openpty()
    slave_name = os.ttyname(slave)

    def own_terminal() -> None:
        os.setsid()
        fd = os.open(slave_name, os.O_RDWR)
        fcntl.ioctl(fd, termios.TIOCSCTTY, 0)

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "peta.toml"
        config.write_text(f'[audit]\npath = "{tmp}/audit.db"\n')
        env = dict(os.environ, XDG_STATE_HOME=tmp, XDG_RUNTIME_DIR=tmp, PETA_LOG="warn")
        env.pop("PETA_CONFIG", None)
        peta = subprocess.Popen(
            [args.peta, "run", "--server", "demo", "--config", str(config), "--", args.peta, "demo-server"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            preexec_fn=own_terminal, env=env, close_fds=True,
        )
        # Kept open here: with no process holding the terminal, reading it fails (EIO).

        def send(message: dict) -> None:
            peta.stdin.write((json.dumps(message) + "\n").encode())
            peta.stdin.flush()

        def response(wanted: int) -> dict:
            while True:
                message = json.loads(peta.stdout.readline())
                if message.get("id") == wanted:
                    return message

        send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
        response(0)
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        samples = []
        for i in range(1, args.rounds + 2):
            shown = b""
            start = time.perf_counter()
            send({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                  "params": {"name": "echo", "arguments": {"text": f"question {i}"}}})
            while b"answer within" not in shown:
                ready, _, _ = select.select([master], [], [], 10)
                if not ready:
                    print("the question never appeared", file=sys.stderr)
                    return 1
                shown += os.read(master, 65536)
            elapsed = time.perf_counter() - start
            os.write(master, b"d")
            reply = response(i)
            assert reply["result"]["isError"], reply
            if i > 1:  # the first round warms up
                samples.append(elapsed)
        peta.stdin.close()
        peta.wait(10)
    samples.sort()
    p90 = samples[int(len(samples) * 0.9) - 1]
    print(f"tools/call written -> question visible on the terminal, {len(samples)} rounds:")
    print(f"  median {statistics.median(samples) * 1e3:.2f} ms   p90 {p90 * 1e3:.2f} ms   max {samples[-1] * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
