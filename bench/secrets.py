#!/usr/bin/env python3
"""Secret resolution benchmark: how long `peta run` takes to start a server that needs 20
secrets from each backend, against the same start with none, alternating in one run.

It brings up its own private D-Bus session with an unlocked gnome-keyring (as the tests do)
and a throwaway vault, stores N secrets in each backend with `peta secret set`, then times
`peta run --env K_i=<ref_i>... -- true` (spawn to exit; the server does nothing).

    bench/secrets.py                # release peta, 20 secrets, 15 rounds
    bench/secrets.py --count 50 --rounds 30

Python 3.11+, standard library only. Needs dbus-daemon and gnome-keyring-daemon.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peta", default=str(ROOT / "target/release/peta"))
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = dict(os.environ)
        env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_STATE_HOME=str(home / "state"),
                   XDG_CONFIG_HOME=str(home / "config"))
        env.pop("PETA_CONFIG", None)
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().strip()
        keyring = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                                   stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        keyring.stdin.write(b"bench-keyring-password")
        keyring.stdin.close()
        try:
            time.sleep(0.5)
            run = lambda argv, data=b"": subprocess.run([args.peta, *argv], input=data, env=env,
                                                         capture_output=True, check=True)
            run(["vault", "init"])
            refs = {"none": [], "env": [], "keyring": [], "age": []}
            for i in range(args.count):
                value = f"bench-secret-{i:03d}-0123456789abcdef".encode()
                env[f"BENCH_SECRET_{i}"] = value.decode()
                run(["secret", "set", f"bench{i}"], value)
                run(["secret", "set", f"bench{i}", "--vault"], value)
                refs["env"] += ["--env", f"S{i}=env:BENCH_SECRET_{i}"]
                refs["keyring"] += ["--env", f"S{i}=keyring:bench{i}"]
                refs["age"] += ["--env", f"S{i}=age:bench{i}"]
            times: dict[str, list[float]] = {k: [] for k in refs}
            for _ in range(args.rounds + 1):  # the first round warms caches and is dropped
                for name, extra in refs.items():
                    start = time.perf_counter()
                    subprocess.run([args.peta, "run", *extra, "--", "true"], env=env, check=True,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    times[name].append(time.perf_counter() - start)
            base = statistics.median(times["none"][1:])
            print(f"peta run -- true, {args.count} secrets per backend, median of {args.rounds} rounds")
            print(f"{'backend':<10}{'start (ms)':>12}{'resolution (ms)':>18}{'ratio':>8}")
            for name, samples in times.items():
                m = statistics.median(samples[1:])
                print(f"{name:<10}{m * 1e3:>12.1f}{(m - base) * 1e3:>18.1f}{m / base:>8.2f}")
        finally:
            keyring.kill()
            bus.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
