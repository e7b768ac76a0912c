#!/usr/bin/env python3
"""Fault campaign for `peta run`: injects faults into live sessions and checks that nothing
was lost and nothing ran unaudited.

Python 3.10+, standard library only. Runs against a built peta binary and the recording
server fixture (tests/fixtures/record_server.py), which journals every line it receives, so
"what the server executed" is known independently of peta's own audit log.

Faults (each round is one live session unless said otherwise):
  kill9        SIGKILL peta at a random moment during a stream of tools/call requests
  child-kill   SIGKILL the server while requests are pending (the `hang` tool never answers):
               every pending id must get an error and peta must exit
  client-gone  the client closes stdin (or stdin and stdout) mid-request: peta must shut the
               server's whole process group down, orphans counted
  disk-full    the audit database on a tiny tmpfs that is then filled (root only: mount)
  fsize        RLIMIT_FSIZE on peta at the audit files' current size (no root needed)
  replaced     the audit database file swapped for a copy (new inode) mid-run

Not injected: a read-only audit directory. Permissions do not stop root, and Linux refuses to
remount a file system (or a bind mount) read-only while peta holds its files open for
writing, so the state cannot be reached from outside; the disk-full and file-size faults
exercise the same failing-write path.
  concurrent   16 sessions writing one audit file at once

The server runs under `sh -c 'sleep … & exec server'`, so every session has a grandchild
holding the server's stdout: a process left behind by peta shows up as an orphan. Every
process of a session carries a mark in its environment (a server's box included: its first
process and whatever the server starts inherit it), so orphans are counted wherever they
are. Servers run in their box (`--sandbox required`, writing only their journal) unless
`--sandbox off` is given.

After each round:
  * `peta audit verify` passes (after the fault is lifted, where it blocks the disk);
  * every tools/call the server journalled has its `allow` row (else: executed without an
    audit row);
  * every response the client got to a tools/call has its request row, and row numbers have
    no gaps (else: audit rows lost);
  * no process of the session is left (orphans).

Example:
  scripts/faults.py --seed 7 --rounds 50
  scripts/faults.py --peta target/debug/peta --only kill9,concurrent
  scripts/faults.py --sandbox off --only kill9

Exit status 0 when every injected fault was survived, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RECORD_SERVER = REPO / "tests" / "fixtures" / "record_server.py"
GRACE = "300ms"
NOT_RECORDED = "could not be recorded in the audit log"


def default_peta() -> str:
    target = os.environ.get("CARGO_TARGET_DIR") or str(REPO / "target")
    return str(Path(target) / "release" / "peta")


# --------------------------------------------------------------------------
# One peta session driven over pipes
# --------------------------------------------------------------------------


class Session:
    """A client's view of one `peta run` in front of the recording server."""

    def __init__(self, camp: "Campaign", name: str, db: Path, *, preexec=None, server_prefix: str = "") -> None:
        self.name = name
        self.dir = camp.work / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.mark = uuid.uuid4().hex
        config = self.dir / "peta.toml"
        config.write_text(
            f'[defaults]\ndefault_action = "allow"\n[audit]\npath = "{db}"\n', encoding="utf-8"
        )
        # The server's journals: the one place its box lets it write (never beside the
        # config, which a box keeps out of reach).
        journal = self.dir / "journal"
        journal.mkdir(exist_ok=True)
        self.received = journal / "received"
        # A grandchild that holds the server's stdout and is only gone if peta takes the
        # whole process group down.
        script = server_prefix + 'sleep 300 & exec "$@"'
        argv = [
            camp.peta, "run", "--server", name, "--config", str(config), "--grace", GRACE,
            "--env", f"PETA_FAULT_MARK={self.mark}",
            "--sandbox", camp.sandbox, "--sandbox-write", str(journal),
            "--", "/bin/sh", "-c", script, "sh",
            sys.executable, str(RECORD_SERVER), str(self.received), str(journal / "sent"),
        ]
        env = dict(camp.env)
        # peta itself and its watchdog carry the mark too, so leftovers of theirs are found.
        env["PETA_FAULT_PROXY_MARK"] = self.mark
        self.stderr = open(self.dir / "peta.stderr", "wb")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
            env=env, preexec_fn=preexec, start_new_session=True,
        )
        self.responses: dict[str, dict] = {}
        self.cond = threading.Condition()
        self.eof = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            for line in self.proc.stdout:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if isinstance(msg, dict) and "method" not in msg and "id" in msg:
                    with self.cond:
                        self.responses[json.dumps(msg["id"])] = msg
                        self.cond.notify_all()
        except (ValueError, OSError):
            pass  # the client-gone fault closed our end of the pipe under this reader
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def send(self, msg: dict) -> bool:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(msg).encode() + b"\n")
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, ValueError, OSError):
            return False

    def call(self, call_id: str, tool: str = "echo") -> bool:
        return self.send({"jsonrpc": "2.0", "id": call_id, "method": "tools/call",
                          "params": {"name": tool, "arguments": {"n": call_id}}})

    def wait_response(self, call_id: str, timeout: float = 20.0) -> dict | None:
        key = json.dumps(call_id)
        deadline = time.monotonic() + timeout
        with self.cond:
            while key not in self.responses and not self.eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return self.responses.get(key)

    def initialize(self) -> bool:
        self.send({"jsonrpc": "2.0", "id": "init", "method": "initialize",
                   "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                              "clientInfo": {"name": "peta-faults", "version": "1"}}})
        ok = self.wait_response("init") is not None
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return ok

    def journal_ids(self) -> set[str]:
        """JSON-encoded ids of every tools/call the server received."""
        ids = set()
        try:
            text = self.received.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ids
        for line in text.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if isinstance(msg, dict) and msg.get("method") == "tools/call" and "id" in msg:
                ids.add(json.dumps(msg["id"]))
        return ids

    def wait_journal(self, ids: set[str], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ids <= self.journal_ids():
                return True
            time.sleep(0.01)
        return False

    def answered_calls(self) -> set[str]:
        """Ids of tools/call answers that are not peta refusing a call it could not audit
        (such a refusal has no row to lose: the log could not be written)."""
        with self.cond:
            return {k for k, m in self.responses.items()
                    if k != json.dumps("init") and NOT_RECORDED not in json.dumps(m)}

    def close_stdin(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
        except OSError:
            pass

    def close_stdout(self) -> None:
        try:
            if self.proc.stdout:
                self.proc.stdout.close()
        except OSError:
            pass

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def finish(self) -> None:
        self.close_stdin()
        if self.wait_exit(10) is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


def alive_with_mark(mark: str, proxy: bool = True) -> list[int]:
    """Pids of live (non-zombie) processes whose environment carries `mark`: the server's
    process tree, and with `proxy` also peta and its watchdog."""
    found = []
    needles = [f"PETA_FAULT_MARK={mark}".encode()]
    if proxy:
        needles.append(f"PETA_FAULT_PROXY_MARK={mark}".encode())
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read()
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state != b"Z" and any(n in environ for n in needles):
            found.append(int(entry))
    return found


def orphans_after(mark: str, timeout: float) -> list[int]:
    """Processes of a session still running `timeout` seconds from now (then killed)."""
    deadline = time.monotonic() + timeout
    while True:
        left = alive_with_mark(mark)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return left


@dataclass
class Audit:
    verified: bool
    verify_output: str
    allowed: set[str] = field(default_factory=set)
    requests: set[str] = field(default_factory=set)
    seq_gaps: int = 0
    rows: int = 0


def read_audit(peta: str, env: dict, db: Path) -> Audit:
    verify = subprocess.run([peta, "audit", "verify", "--db", str(db)], env=env,
                            capture_output=True, text=True, timeout=60)
    audit = Audit(verified=verify.returncode == 0,
                  verify_output=(verify.stdout + verify.stderr).strip())
    export = subprocess.run([peta, "audit", "export", "--format", "jsonl", "--db", str(db)],
                            env=env, capture_output=True, text=True, timeout=60)
    seqs = []
    for line in export.stdout.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row.get("record") == "export":
            continue
        audit.rows += 1
        if isinstance(row.get("seq"), int):
            seqs.append(row["seq"])
        if row.get("direction") == "c2s" and row.get("method") == "tools/call" and row.get("rpc_id"):
            audit.requests.add(row["rpc_id"])
            if row.get("decision") == "allow":
                audit.allowed.add(row["rpc_id"])
    if seqs:
        seqs.sort()
        audit.seq_gaps = (seqs[-1] - seqs[0] + 1) - len(set(seqs))
    return audit


@dataclass
class Tally:
    injected: int = 0
    survived: int = 0
    lost: int = 0
    unaudited: int = 0
    orphans: int = 0
    notes: list[str] = field(default_factory=list)
    skipped: str = ""

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


# --------------------------------------------------------------------------
# The campaign
# --------------------------------------------------------------------------


class Campaign:
    def __init__(self, args: argparse.Namespace) -> None:
        self.peta = args.peta
        self.rng = random.Random(args.seed)
        self.rounds = args.rounds
        self.verbose = args.verbose
        self.sandbox = args.sandbox
        self.work = Path(tempfile.mkdtemp(prefix="peta-faults-"))
        self.env = {k: v for k, v in os.environ.items() if k not in ("PETA_CONFIG", "PETA_LOG")}
        self.env.update({"XDG_STATE_HOME": str(self.work / "state"),
                         "XDG_CONFIG_HOME": str(self.work / "config"),
                         "XDG_RUNTIME_DIR": str(self.work / "run"),
                         "PETA_LOG": "warn"})
        for d in ("state", "config", "run"):
            (self.work / d).mkdir(mode=0o700)
        self.tallies: dict[str, Tally] = {}
        self.root = os.geteuid() == 0

    def log(self, text: str) -> None:
        if self.verbose:
            print(text, file=sys.stderr, flush=True)

    def tally(self, fault: str) -> Tally:
        return self.tallies.setdefault(fault, Tally())

    def judge(self, fault: str, db: Path, sessions: list[Session], *, orphan_wait: float = 5.0,
              extra_ok: bool = True, extra_note: str = "") -> bool:
        """Checks one injected fault's aftermath and records it."""
        t = self.tally(fault)
        t.injected += 1
        audit = read_audit(self.peta, self.env, db)
        unaudited = set().union(*(s.journal_ids() for s in sessions)) - audit.allowed
        lost = set().union(*(s.answered_calls() for s in sessions)) - audit.requests
        orphans = [p for s in sessions for p in orphans_after(s.mark, orphan_wait)]
        t.unaudited += len(unaudited)
        t.lost += len(lost) + audit.seq_gaps
        t.orphans += len(orphans)
        ok = audit.verified and not unaudited and not lost and not audit.seq_gaps and not orphans and extra_ok
        if not audit.verified:
            t.note(f"verify failed: {audit.verify_output.splitlines()[-1] if audit.verify_output else '?'}")
        if unaudited:
            t.note(f"executed without audit row: {sorted(unaudited)[:3]}")
        if lost:
            t.note(f"answered but no row: {sorted(lost)[:3]}")
        if orphans:
            t.note(f"orphans: {len(orphans)}")
        if extra_note:
            t.note(extra_note)
        if ok:
            t.survived += 1
        self.log(f"  {fault}: {'ok' if ok else 'FAILED'} (rows {audit.rows})")
        return ok

    # ---- kill -9 of peta --------------------------------------------------

    def fault_kill9(self, rounds: int) -> None:
        db = self.work / "kill9" / "audit.db"
        db.parent.mkdir()
        for r in range(rounds):
            s = Session(self, f"kill9-{r}", db)
            s.initialize()
            n = self.rng.randint(20, 300)
            delay = self.rng.uniform(0.0, 0.25)
            jitter = self.rng.random()

            def stream(s: Session = s, n: int = n, r: int = r, jitter: float = jitter) -> None:
                for i in range(n):
                    if not s.call(f"k{r}-{i}"):
                        return
                    if i % 7 == 0:
                        time.sleep(jitter * 0.002)

            sender = threading.Thread(target=stream, daemon=True)
            sender.start()
            time.sleep(delay)
            os.kill(s.proc.pid, signal.SIGKILL)
            s.proc.wait()
            sender.join(5)
            s.finish()
            self.judge("kill -9 peta", db, [s])

    # ---- the server killed --------------------------------------------------

    def fault_child_kill(self, rounds: int) -> None:
        db = self.work / "child" / "audit.db"
        db.parent.mkdir()
        for r in range(rounds):
            s = Session(self, f"child-{r}", db)
            s.initialize()
            done = [f"c{r}-ok-{i}" for i in range(self.rng.randint(1, 10))]
            for cid in done:
                s.call(cid)
            pending = [f"c{r}-hang-{i}" for i in range(self.rng.randint(1, 8))]
            for cid in pending:
                s.call(cid, "hang")
            ok = s.wait_journal({json.dumps(c) for c in done + pending})
            # The server itself, not the box's first process (whose arguments name it too).
            server = [p for p in alive_with_mark(s.mark, proxy=False)
                      if b"record_server" in _cmdline(p) and b"sandbox-init" not in _cmdline(p)]
            if not ok or not server:
                self.tally("server killed").note("setup failed: requests never reached the server")
            for pid in server:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            errors = 0
            for cid in pending:
                reply = s.wait_response(cid, 10)
                if reply is not None and "error" in reply:
                    errors += 1
            code = s.wait_exit(10)
            s.finish()
            good = errors == len(pending) and code is not None
            note = "" if good else f"pending ids answered with an error: {errors}/{len(pending)}, exit {code}"
            self.judge("server killed", db, [s], extra_ok=good, extra_note=note)

    # ---- the client vanishing ----------------------------------------------

    def fault_client_gone(self, rounds: int) -> None:
        db = self.work / "client" / "audit.db"
        db.parent.mkdir()
        for r in range(rounds):
            s = Session(self, f"client-{r}", db)
            s.initialize()
            ids = [f"g{r}-{i}" for i in range(self.rng.randint(0, 20))]
            for cid in ids:
                s.call(cid)
            hung = [f"g{r}-hang-{i}" for i in range(self.rng.randint(1, 4))]
            for cid in hung:
                s.call(cid, "hang")
            s.wait_journal({json.dumps(c) for c in hung}, 5)
            both = self.rng.random() < 0.5
            s.close_stdin()
            if both:
                s.close_stdout()
            # Input closed: grace for the server, SIGTERM, grace again, SIGKILL.
            code = s.wait_exit(10)
            s.finish()
            note = "" if code is not None else "peta did not exit within 10 s"
            self.judge("client vanished", db, [s], orphan_wait=3.0, extra_ok=code is not None,
                       extra_note=note)

    # ---- full disk, file size limit, read-only file system ------------------

    def _mount_tmpfs(self, where: Path, size: str) -> bool:
        where.mkdir(parents=True)
        if not self.root or not shutil.which("mount"):
            return False
        return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                              capture_output=True).returncode == 0

    def _blocked_calls(self, s: Session, prefix: str, n: int) -> tuple[int, int]:
        """Sends n calls one at a time: (denied for the audit log, other failures)."""
        denied = other = 0
        for i in range(n):
            cid = f"{prefix}-{i}"
            s.call(cid)
            reply = s.wait_response(cid, 20)
            text = json.dumps(reply) if reply else ""
            if reply and (reply.get("result") or {}).get("isError") and NOT_RECORDED in text:
                denied += 1
            elif reply is None or "error" in reply:
                other += 1
        return denied, other

    def _recovers(self, s: Session, prefix: str) -> bool:
        s.call(f"{prefix}-after")
        reply = s.wait_response(f"{prefix}-after", 20)
        return bool(reply) and not (reply.get("result") or {}).get("isError")

    def fault_disk_full(self, rounds: int) -> None:
        t = self.tally("disk full (tmpfs)")
        for r in range(rounds):
            mount = self.work / f"tmpfs-{r}"
            if not self._mount_tmpfs(mount, "1m"):
                t.skipped = "needs root to mount a tmpfs"
                return
            try:
                db = mount / "audit.db"
                s = Session(self, f"full-{r}", db)
                s.initialize()
                for i in range(5):
                    s.call(f"f{r}-pre-{i}")
                    s.wait_response(f"f{r}-pre-{i}")
                subprocess.run(["dd", "if=/dev/zero", f"of={mount / 'filler'}", "bs=4k"],
                               capture_output=True)
                denied, other = self._blocked_calls(s, f"f{r}", self.rng.randint(20, 60))
                (mount / "filler").unlink()
                recovered = self._recovers(s, f"f{r}")
                s.finish()
                if denied == 0:
                    t.note("no call was denied (the disk never filled)")
                if not recovered:
                    t.note("calls still refused after space was freed")
                self.judge("disk full (tmpfs)", db, [s], extra_ok=denied > 0 and other == 0,
                           extra_note=f"{other} calls failed otherwise" if other else "")
            finally:
                subprocess.run(["umount", "-l", str(mount)], capture_output=True)

    def fault_fsize(self, rounds: int) -> None:
        for r in range(rounds):
            db = self.work / f"fsize-{r}" / "audit.db"
            db.parent.mkdir()
            # A first session creates the database; the second runs with its files capped.
            first = Session(self, f"fsize-{r}-a", db)
            first.initialize()
            first.call(f"z{r}-first")
            first.wait_response(f"z{r}-first")
            first.finish()
            sizes = [p.stat().st_size for p in db.parent.glob("audit.db*")]
            limit = max(sizes) + self.rng.randint(0, 8192)

            def cap(limit: int = limit) -> None:
                # Ignored, SIGXFSZ turns an oversized write into EFBIG instead of a kill.
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

            s = Session(self, f"fsize-{r}", db, preexec=cap,
                        server_prefix="ulimit -S -f unlimited; ")
            s.initialize()
            denied, other = self._blocked_calls(s, f"z{r}", self.rng.randint(50, 150))
            s.finish()
            t = self.tally("file size limit (RLIMIT_FSIZE)")
            if denied == 0:
                t.note("no call was denied within the calls sent")
            self.judge("file size limit (RLIMIT_FSIZE)", db, [first, s], extra_ok=other == 0,
                       extra_note=f"{other} calls failed otherwise" if other else "")

    def fault_replaced(self, rounds: int) -> None:
        for r in range(rounds):
            db = self.work / f"replaced-{r}" / "audit.db"
            db.parent.mkdir()
            s = Session(self, f"replaced-{r}", db)
            s.initialize()
            for i in range(self.rng.randint(1, 20)):
                s.call(f"p{r}-pre-{i}")
                s.wait_response(f"p{r}-pre-{i}")
            time.sleep(0.2)  # let the writer thread settle before copying
            # The same bytes under a new inode: a swapped file, not an edited one.
            for f in sorted(db.parent.glob("audit.db*")):
                if f.name.endswith(".anchors"):
                    continue
                copy = f.with_name(f.name + ".copy")
                shutil.copy2(f, copy)
                os.replace(copy, f)
            denied, other = self._blocked_calls(s, f"p{r}", self.rng.randint(3, 10))
            s.finish()
            self.judge("audit db replaced", db, [s], extra_ok=denied > 0 and other == 0,
                       extra_note="" if denied else "calls went on after the database was replaced")

    # ---- 16 sessions on one file -------------------------------------------

    def fault_concurrent(self, rounds: int) -> None:
        for r in range(rounds):
            db = self.work / f"concurrent-{r}" / "audit.db"
            db.parent.mkdir()
            n = self.rng.randint(20, 60)
            sessions = [Session(self, f"conc-{r}-{k}", db) for k in range(16)]
            for s in sessions:
                s.initialize()
            for k, s in enumerate(sessions):
                for i in range(n):
                    s.call(f"m{r}-{k}-{i}")
            missing = 0
            for k, s in enumerate(sessions):
                for i in range(n):
                    if s.wait_response(f"m{r}-{k}-{i}", 60) is None:
                        missing += 1
            for s in sessions:
                s.finish()
            audit_ids = read_audit(self.peta, self.env, db).allowed
            expected = {json.dumps(f"m{r}-{k}-{i}") for k in range(16) for i in range(n)}
            absent = len(expected - audit_ids)
            note = ""
            if missing or absent:
                note = f"{missing} calls unanswered, {absent} of {len(expected)} allow rows absent"
            self.judge("16 concurrent sessions", db, sessions, extra_ok=not missing and not absent,
                       extra_note=note)

    # ---- run and report ------------------------------------------------------

    def run(self, only: set[str]) -> bool:
        r = self.rounds
        plan = [
            ("kill9", self.fault_kill9, r),
            ("child-kill", self.fault_child_kill, max(1, r // 2)),
            ("client-gone", self.fault_client_gone, max(1, r // 2)),
            ("disk-full", self.fault_disk_full, max(1, r // 5)),
            ("fsize", self.fault_fsize, max(1, r // 5)),
            ("replaced", self.fault_replaced, max(1, r // 5)),
            ("concurrent", self.fault_concurrent, max(1, r // 10)),
        ]
        for key, fn, n in plan:
            if only and key not in only:
                continue
            self.log(f"{key}: {n} rounds")
            fn(n)
        return self.report()

    def report(self) -> bool:
        head = ("fault", "injected", "survived", "audit rows lost", "executed w/o audit row", "orphans")
        rows = []
        total = Tally()
        for name, t in self.tallies.items():
            if t.skipped and not t.injected:
                rows.append((name, "-", "-", "-", "-", "-"))
                continue
            rows.append((name, str(t.injected), str(t.survived), str(t.lost), str(t.unaudited), str(t.orphans)))
            for k in ("injected", "survived", "lost", "unaudited", "orphans"):
                setattr(total, k, getattr(total, k) + getattr(t, k))
        rows.append(("total", str(total.injected), str(total.survived), str(total.lost),
                     str(total.unaudited), str(total.orphans)))
        widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
        line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
        print(line(head))
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for row in rows:
            print(line(row))
        notes = [(n, t) for n, t in self.tallies.items() if t.notes or t.skipped]
        if notes:
            print()
            for name, t in notes:
                if t.skipped:
                    print(f"{name}: skipped ({t.skipped})")
                for note in t.notes:
                    print(f"{name}: {note}")
        ok = total.injected == total.survived and total.lost == 0 and total.unaudited == 0 and total.orphans == 0
        print(f"\nresult: {'PASS' if ok else 'FAIL'}")
        return ok


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--peta", default=default_peta(),
                        help="peta binary (default: release build under $CARGO_TARGET_DIR or ./target)")
    parser.add_argument("--seed", type=int, default=1, help="seed for every random choice (default 1)")
    parser.add_argument("--rounds", type=int, default=50,
                        help="kill -9 rounds; the other faults run a share of this (default 50)")
    parser.add_argument("--only", default="", help="comma-separated subset: kill9, child-kill, client-gone, "
                        "disk-full, fsize, replaced, concurrent")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--sandbox", default="required", choices=["required", "auto", "off"],
                        help="confine the servers (default required: a box that cannot be set up "
                        "fails the round)")
    parser.add_argument("-v", "--verbose", action="store_true", help="say what each round did")
    args = parser.parse_args()
    if not Path(args.peta).is_file():
        parser.error(f"no peta binary at {args.peta} (cargo build --release, or pass --peta)")
    if sys.platform != "linux":
        parser.error("the campaign reads /proc and needs Linux")
    camp = Campaign(args)
    print(f"peta fault campaign: peta={args.peta} seed={args.seed} rounds={args.rounds} "
          f"sandbox={args.sandbox}\n", flush=True)
    try:
        ok = camp.run({k.strip() for k in args.only.split(",") if k.strip()})
    finally:
        if not args.keep:
            shutil.rmtree(camp.work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
