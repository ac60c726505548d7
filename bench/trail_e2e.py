"""End to end: an event recorded → found by ``trail lookup`` → in a delivered, signed
archive file.

A writer process records one audit event at a time (each committed before the call
returns); this process polls ``LookupEvents`` for it, and ``pipetrail trail deliver
--follow --interval S`` runs beside them. For each event we report the time from the
start of the recording call until (a) a lookup returns it and (b) the store records a
digest whose log file holds it (the digest is signed and written before that). The
baseline for (a) is the cost of the lookup query itself, timed in the same run; the
target for (b) is the delivery interval.

    python bench/trail_e2e.py [--events 20] [--interval 1]
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

from pipetrail.config import Settings
from pipetrail.model.audit import AuditEvent
from pipetrail.model.identity import Identity
from pipetrail.store import open_store
from pipetrail.store.audit import AuditQuery

WHO = Identity(type="User", principal_id="u-1", user_name="alice", workspace="local")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        settings = Settings(home=home)
        writer, reader = open_store(settings), open_store(settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRAIL_")}
        env["PIPETRAIL_HOME"] = str(home)
        follower = subprocess.Popen(
            [sys.executable, "-m", "pipetrail.cli", "trail", "deliver", "--follow", "-q",
             "--interval", str(args.interval)], env=env)
        found, delivered, query_cost = [], [], []
        try:
            time.sleep(1.0)
            for i in range(args.events):
                event = AuditEvent("bench.pipetrail", "Probe", WHO, dataset=f"s3://b/{i}",
                                   operation="read", event_type="DataAccess")
                started = time.perf_counter()
                writer.append_audit_events([event])
                query = AuditQuery(resource=f"s3://b/{i}", user="alice", limit=1)
                while not reader.lookup_audit_events(query):
                    time.sleep(0.001)
                found.append(time.perf_counter() - started)
                cost = time.perf_counter()
                reader.lookup_audit_events(query)
                query_cost.append(time.perf_counter() - cost)
                position = reader.event_position(event.event_id)
                assert position is not None
                while reader.trail_log_file_for(*position) is None:
                    time.sleep(0.01)
                    if time.perf_counter() - started > 10 * args.interval + 10:
                        raise SystemExit("the event was not delivered")
                delivered.append(time.perf_counter() - started)
                time.sleep((i % 7) * args.interval / 7)  # land anywhere in the interval
        finally:
            follower.terminate()
            follower.wait(30)
            writer.close()
            reader.close()
    ms = 1000
    print(f"recorded -> lookup: median {statistics.median(found) * ms:.1f} ms, max "
          f"{max(found) * ms:.1f} ms (the lookup query alone: median "
          f"{statistics.median(query_cost) * ms:.1f} ms; target <= 1000 ms)")
    print(f"recorded -> in a signed archive file: median {statistics.median(delivered):.2f} s,"
          f" max {max(delivered):.2f} s at a {args.interval:g} s delivery interval "
          f"(ratio of max to interval {max(delivered) / args.interval:.2f}; target <= 1 "
          "plus the delivery's own time)")


if __name__ == "__main__":
    main()
