"""Validation speed: events verified per second by ``trail validate`` (digests, log files
and the store's chain, not ``--deep``) on the embedded store.

The baseline, measured in the same run, is the least any chain check must do: a bare
loop that reads each event's body and hash from SQLite with the ``sqlite3`` module and
computes SHA-256(previous ‖ body). The ratio compares validation with that one-process
floor: from 400,000 events a shard's chain is checked by two processes, so it can pass it.
``--deep`` also times a deep validation (every archived event re-read).

    python bench/trail_validate.py [--events 1000000] [--deep]
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from pipetrail.config import Settings
from pipetrail.store import open_store
from pipetrail.trail.archive import LocalArchive
from pipetrail.trail.delivery import Deliverer
from pipetrail.trail.signing import Signer
from pipetrail.trail.validate import validate

sys.path.insert(0, str(Path(__file__).parent))
from trail_ingest import make_events


def bare_loop(db: Path) -> float:
    conn = sqlite3.connect(db)
    started = time.perf_counter()
    previous = bytes(32)
    count = 0
    for body, event_hash in conn.execute(
            "SELECT body, event_hash FROM audit_events WHERE shard = 'main' ORDER BY shard_seq"):
        previous = hashlib.sha256(previous + body.encode()).digest()
        if previous.hex() != event_hash:
            raise SystemExit("the chain is broken")
        count += 1
    elapsed = time.perf_counter() - started
    conn.close()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--deep", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        store = open_store(Settings(home=home))
        started = time.perf_counter()
        for i in range(0, args.events, 10_000):
            store.append_audit_events(make_events(min(10_000, args.events - i)))
            print(f"\rstoring: {i + 10_000:,} events", end="", file=sys.stderr)
        archive = LocalArchive(home / "archive")
        deliverer = Deliverer(store, archive, Signer.load_or_create(home / "key.pem"), "local")
        while deliverer.deliver()[0].events:
            pass
        print(f"\rstored and delivered {args.events:,} events in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
        floor = bare_loop(home / "pipetrail.db")
        started = time.perf_counter()
        report = validate(store, archive, "local")
        elapsed = time.perf_counter() - started
        assert report.valid and report.events == args.events, report.problems[:3]
        rate = args.events / elapsed
        print(f"validate: {args.events:,} events in {elapsed:.2f} s = {rate:,.0f} events/s "
              f"({report.digests} digests, {report.log_files} log files); bare SHA-256 "
              f"loop over SQLite {floor:,.0f} events/s; ratio {rate / floor:.2f} "
              "(target >= 500,000 events/s)")
        if args.deep:
            started = time.perf_counter()
            report = validate(store, archive, "local", deep=True)
            elapsed = time.perf_counter() - started
            print(f"validate --deep: {args.events / elapsed:,.0f} events/s")
        store.close()


if __name__ == "__main__":
    main()
