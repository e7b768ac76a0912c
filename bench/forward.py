#!/usr/bin/env python3
"""Audit forwarding benchmark.

1. Throughput: a log with a backlog of --rows rows (default 100k, chained by this script
   with the canonical form of src/audit/row.rs) is drained by `peta audit forward` to
     - the OTLP/HTTP receiver of tests/fixtures/otlp_receiver.py (opentelemetry-proto,
       decoding every request, counting records), and
     - rsyslogd (Debian), unprivileged, TCP on a loopback port, writing every message;
   rows per second = rows / wall time of `peta audit forward`.
2. Relay cost: sequential echo calls through `peta run -- peta demo-server`, alternating
   in one run between forwarding off and forwarding on (to the OTLP receiver, 100 ms
   interval, so batches go while the calls run); medians and the on/off ratio.

The relay sessions run pinned to one core (`taskset -c 0`, --pin), peta and its server
together, so the forwarder thread competes with the relay for that core; the collectors
and this driver run elsewhere, as a team's collector would:
  python3 bench/forward.py --peta target/release/peta

Needs .e2e/otlp (scripts/test.sh installs it) and rsyslogd (package rsyslog).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import relay  # noqa: E402  (the Session driver of bench/relay.py)

FIELDS = ["seq", "ts", "session", "server", "direction", "kind", "method", "rpc_id", "tool",
          "args", "args_sha256", "bytes_sha256", "decision", "rule", "channel", "grant_scope",
          "latency_us", "size", "is_error", "error", "detail"]


def make_backlog(peta: str, db: Path, rows: int) -> None:
    """Creates the schema with peta, then appends `rows` chained rows like a busy session's."""
    cfg = db.parent / "schema.toml"
    cfg.write_text(f'[audit]\npath = "{db}"\n')
    os.chmod(cfg, 0o600)
    subprocess.run([peta, "run", "--config", str(cfg), "--", "true"], check=False,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    con = sqlite3.connect(db)
    seq, prev = con.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    prev = bytes.fromhex(prev)
    batch = []
    for i in range(rows):
        seq += 1
        request = i % 2 == 0
        args = json.dumps({"text": f"benchmark message {i} " + "x" * 60})
        row = {
            "seq": seq, "ts": f"2026-12-01T00:{(i // 60000) % 60:02d}:{(i // 1000) % 60:02d}.{i % 1000:06d}Z",
            "session": "bench" + "0" * 27, "server": "bench", "direction": "c2s" if request else "s2c",
            "kind": "request" if request else "response", "method": "tools/call",
            "rpc_id": json.dumps(f"call-{i // 2}"), "tool": "echo",
            "args": args if request else None,
            "args_sha256": hashlib.sha256(args.encode()).hexdigest() if request else None,
            "bytes_sha256": hashlib.sha256(str(i).encode()).hexdigest(),
            "decision": "allow" if request else None, "rule": "bench-allow" if request else None,
            "channel": None, "grant_scope": None,
            "latency_us": None if request else 850, "size": 120 if request else 160,
            "is_error": None if request else False, "error": None, "detail": None,
        }
        canonical = json.dumps([row[f] for f in FIELDS], separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(prev + canonical.encode()).digest()
        row["prev_hash"], row["hash"] = prev.hex(), digest.hex()
        prev = digest
        batch.append(tuple(row[f] for f in FIELDS) + (row["prev_hash"], row["hash"]))
    con.executemany(
        f"INSERT INTO events ({', '.join(FIELDS)}, prev_hash, hash) VALUES ({', '.join('?' * 23)})",
        batch)
    con.commit()
    con.close()


def start_otlp(python: str, work: Path, count_only: bool) -> tuple[subprocess.Popen, int]:
    port_file = work / "otlp.port"
    args = [python, str(ROOT / "tests/fixtures/otlp_receiver.py"), "--out", str(work / "otlp.jsonl"),
            "--port-file", str(port_file)]
    if count_only:
        args.append("--count-only")
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL)
    for _ in range(400):
        if port_file.exists():
            return proc, int(port_file.read_text())
        time.sleep(0.025)
    raise SystemExit("the OTLP receiver did not start")


def start_rsyslog(rsyslogd: str, work: Path) -> tuple[subprocess.Popen, int, Path]:
    d = work / "rsyslog"
    (d / "spool").mkdir(parents=True)
    out = d / "out.log"
    (d / "rsyslog.conf").write_text(
        f'global(workDirectory="{d}/spool" maxMessageSize="1m")\n'
        'module(load="imtcp")\n'
        f'input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{d}/port" name="peta")\n'
        'template(name="row" type="string" string="%msg%\\n")\n'
        f'if $inputname == "peta" then {{ action(type="omfile" file="{out}" template="row") }}\n')
    argv = [rsyslogd, "-n", "-f", str(d / "rsyslog.conf"), "-i", str(d / "pid")]
    if os.geteuid() == 0:
        os.chmod(work, 0o711)  # rsyslogd runs as nobody: it must reach its own directory
        for p in [d, d / "spool"]:
            os.chown(p, 65534, 65534)
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + argv
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(400):
        try:
            return proc, int((d / "port").read_text().strip()), out
        except (OSError, ValueError):
            time.sleep(0.025)
    raise SystemExit("rsyslogd did not start")


def write_config(path: Path, db: Path, forward: str) -> None:
    path.write_text(f'[defaults]\ndefault_action = "allow"\n[audit]\npath = "{db}"\n'
                    + (f"[audit.forward]\n{forward}" if forward else ""))
    os.chmod(path, 0o600)


def drain(peta: str, cfg: Path) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([peta, "audit", "forward", "--config", str(cfg)],
                         capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"peta audit forward failed: {out.stderr}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peta", default=str(ROOT / "target/release/peta"))
    ap.add_argument("--otlp-python", default=str(ROOT / ".e2e/otlp/bin/python"))
    ap.add_argument("--rsyslogd", default=shutil.which("rsyslogd") or "/usr/sbin/rsyslogd")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--calls", type=int, default=500, help="sequential calls per relay session")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--pin", default="0", help="CPU list for taskset in the relay part ('' for none)")
    a = ap.parse_args()
    peta = os.path.abspath(a.peta)
    work = Path(tempfile.mkdtemp(prefix="peta-forward-bench-"))
    procs = []
    try:
        db = work / "backlog.db"
        t0 = time.perf_counter()
        make_backlog(peta, db, a.rows)
        print(f"# backlog: {a.rows} rows built in {time.perf_counter() - t0:.1f} s ({work})")
        otlp, port = start_otlp(a.otlp_python, work, count_only=True)
        procs.append(otlp)
        cfg = work / "otlp.toml"
        write_config(cfg, db, f'protocol = "otlp"\nendpoint = "http://127.0.0.1:{port}/v1/logs"\n'
                              f"batch_size = {a.batch_size}\n")
        total = sqlite3.connect(db).execute("SELECT COUNT(*) FROM events").fetchone()[0]
        s = drain(peta, cfg)
        print(f"otlp    {total} rows in {s:.2f} s: {total / s:,.0f} rows/s (batch {a.batch_size})")
        rs, rport, out = start_rsyslog(a.rsyslogd, work)
        procs.append(rs)
        write_config(cfg, db, f'protocol = "syslog"\nendpoint = "tcp://127.0.0.1:{rport}"\n'
                              f"batch_size = {a.batch_size}\n")
        s = drain(peta, cfg)
        print(f"syslog  {total} rows in {s:.2f} s: {total / s:,.0f} rows/s (batch {a.batch_size})")

        # Relay: forwarding off vs on, alternating.
        off, on = work / "off.toml", work / "on.toml"
        write_config(off, work / "relay-off.db", "")
        write_config(on, work / "relay-on.db",
                     f'protocol = "otlp"\nendpoint = "http://127.0.0.1:{port}/v1/logs"\ninterval = "100ms"\n')
        echo = relay.Echo("echo", "text", "hello", False)
        times = {"off": [], "on": []}
        env = dict(os.environ)
        for r in range(a.rounds + 1):
            for mode, cfgp in (("off", off), ("on", on)) if r % 2 == 0 else (("on", on), ("off", off)):
                pin = ["taskset", "-c", a.pin] if a.pin else []
                sess = relay.Session(pin + [peta, "run", "--config", str(cfgp), "--", peta, "demo-server"],
                                     env, 120, mode)
                sess.initialize()
                relay.warmup(sess, echo, 20)
                t = relay.run_sequential(sess, echo, a.calls)
                sess.close()
                if r > 0:  # the first round warms caches
                    times[mode].append(t)
        m_off, m_on = statistics.median(times["off"]), statistics.median(times["on"])
        print(f"relay   {a.calls} sequential calls, median of {a.rounds}: off {m_off * 1000:.1f} ms, "
              f"on {m_on * 1000:.1f} ms, on/off {m_on / m_off:.3f}x "
              f"({(m_on - m_off) / a.calls * 1e6:+.1f} us/call)")
        print(f"#       off {[round(t * 1000, 1) for t in times['off']]}")
        print(f"#       on  {[round(t * 1000, 1) for t in times['on']]}")
        forwarded = sqlite3.connect(work / "relay-on.db").execute("SELECT COUNT(*) FROM events").fetchone()[0]
        print(f"#       rows written with forwarding on: {forwarded}")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
