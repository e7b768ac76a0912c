#!/usr/bin/env python3
"""Benchmark `peta audit export` and `peta audit verify` on a large log.

Usage: python3 bench/export.py [--rows 1000000] [--peta target/release/peta]

Builds an audit database with ROWS chained rows (schema made by peta itself, rows hashed
with the documented canonical form), then times verify and an export in each format and
reports each run's peak RSS. Prints an aligned table.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ["seq", "ts", "session", "server", "direction", "kind", "method", "rpc_id", "tool", "args",
          "args_sha256", "bytes_sha256", "decision", "rule", "channel", "grant_scope", "latency_us",
          "size", "is_error", "error", "detail"]


def build(db: Path, peta: str, rows: int) -> None:
    cfg = db.parent / "peta.toml"
    cfg.write_text(f'[audit]\npath = "{db}"\n')
    os.chmod(cfg, 0o600)
    # peta creates the schema (and two rows of its own).
    subprocess.run([peta, "run", "--config", str(cfg), "--", "true"], check=True, stderr=subprocess.DEVNULL)
    conn = sqlite3.connect(db)
    seq, prev = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    prev = bytes.fromhex(prev)
    batch = []
    for i in range(rows):
        seq += 1
        req = i % 2 == 0
        row = {
            "seq": seq, "ts": "2026-11-26T00:00:00.%06dZ" % (i % 1000000), "session": "bench%04d" % (i // 10000),
            "server": "bench", "direction": "c2s" if req else "s2c", "kind": "request" if req else "response",
            "method": "tools/call", "rpc_id": str(i // 2), "tool": "echo",
            "args": '{"message":"hello %d"}' % i if req else None,
            "args_sha256": hashlib.sha256(b"x").hexdigest() if req else None,
            "bytes_sha256": hashlib.sha256(b"y").hexdigest() if req else None,
            "decision": "allow" if req else "pass", "rule": "default" if req else None, "channel": None,
            "grant_scope": None, "latency_us": None if req else 250, "size": 120, "is_error": None if req else False,
            "error": None, "detail": None,
        }
        canonical = json.dumps([row[k] for k in FIELDS], separators=(",", ":"), ensure_ascii=False).encode()
        h = hashlib.sha256(prev + canonical).digest()
        batch.append(tuple(row[k] for k in FIELDS) + (prev.hex(), h.hex()))
        prev = h
        if len(batch) == 50000:
            conn.executemany(f"INSERT INTO events ({','.join(FIELDS)}, prev_hash, hash) VALUES ({','.join('?' * 23)})", batch)
            conn.commit()
            batch.clear()
    if batch:
        conn.executemany(f"INSERT INTO events ({','.join(FIELDS)}, prev_hash, hash) VALUES ({','.join('?' * 23)})", batch)
        conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def timed(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MiB of the command (GNU time's %M), exit code."""
    # Not wait4 from here: a child forked from this Python process reports Python's own
    # RSS at the fork as its peak.
    with tempfile.NamedTemporaryFile("r") as out:
        start = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-o", out.name, "-f", "%M", *cmd],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        peak_kib = int(out.read().strip().splitlines()[-1])
    return wall, peak_kib / 1024, p.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--peta", default=str(ROOT / "target/release/peta"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "audit.db"
        t = time.perf_counter()
        build(db, args.peta, args.rows)
        print(f"# built {args.rows} rows in {time.perf_counter() - t:.1f} s; database {db.stat().st_size / 2**20:.0f} MiB; nproc={os.cpu_count()}")
        print(f"{'command':<28} {'wall':>9} {'peak RSS':>10} {'rows/s':>12}")
        for name, extra in [("verify", ["audit", "verify"]),
                            ("export jsonl", ["audit", "export", "--format", "jsonl", "-o", os.devnull]),
                            ("export csv", ["audit", "export", "--format", "csv", "-o", os.devnull]),
                            ("export json", ["audit", "export", "--format", "json", "-o", os.devnull])]:
            wall, rss, code = timed([args.peta, *extra, "--db", str(db)])
            status = "" if code == 0 else f"  (exit {code})"
            print(f"{name:<28} {wall:>8.2f}s {rss:>8.1f} MiB {args.rows / wall:>12,.0f}{status}")


if __name__ == "__main__":
    sys.exit(main())
