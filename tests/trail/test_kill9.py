"""kill -9 of a process in the middle of ingest or of delivery: after restart,
everything acknowledged is stored, the trail validates, and delivery resumes without
gaps or duplicates."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipetrail.config import Settings
from pipetrail.store import Store
from tests.trail.builders import make_trail

WRITER = r"""
import sys
from pipetrail.config import Settings
from pipetrail.store import open_store
from tests.trail.builders import events, make_trail

from pipetrail.trail.delivery import Deliverer


class Announcing(Deliverer):
    def _carry_out(self, *args, **kwargs):
        sys.stdout.write("DELIVERING\n")  # the plan is recorded: files are written next
        sys.stdout.flush()
        return super()._carry_out(*args, **kwargs)


settings = Settings.from_env()
store = open_store(settings)
trail = make_trail(store, settings.home, file_events=50)
trail.deliverer.__class__ = Announcing
mode = sys.argv[1]
while True:
    batch = events(200 if mode == "ingest" else 2000)
    store.append_audit_events(batch)
    for event in batch:
        sys.stdout.write(event.event_id + "\n")
    sys.stdout.write("ACK\n")
    sys.stdout.flush()
    trail.deliverer.deliver()
"""


def run_and_kill(settings: Settings, mode: str, tmp_path: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRAIL_")}
    env["PIPETRAIL_HOME"] = str(settings.home)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2]),
                                         env.get("PYTHONPATH", "")])
    if settings.database_url:
        env["PIPETRAIL_DATABASE_URL"] = settings.database_url
    proc = subprocess.Popen([sys.executable, "-c", WRITER, mode], stdout=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    acknowledged: set[str] = set()
    pending: list[str] = []
    acks = 0
    deadline = time.monotonic() + 60
    try:
        for line in proc.stdout:
            line = line.strip()
            if line == "ACK":
                acknowledged.update(pending)
                pending.clear()
                acks += 1
            elif line == "DELIVERING":
                if mode == "deliver" and acks >= 3:
                    time.sleep(0.01)  # while it writes the delivery's files
                    break
            else:
                pending.append(line)
            if mode == "ingest" and acks >= 8:
                break
            assert time.monotonic() < deadline, "the writer made no progress"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    return acknowledged


@pytest.mark.parametrize("mode", ["ingest", "deliver"])
def test_kill_9_loses_and_duplicates_nothing(store: Store, settings: Settings, tmp_path: Path,
                                             mode: str) -> None:
    acknowledged = run_and_kill(settings, mode, tmp_path)
    assert acknowledged
    trail = make_trail(store, settings.home, file_events=50)
    if mode == "deliver":
        assert store.trail_delivery_state("main").pending is not None, "killed too late"
    # Restart: deliver what is left (redoing a cut-short delivery), then check.
    trail.deliverer.deliver()
    trail.deliverer.deliver()
    assert trail.validate() == []
    stored = {r.event_id for r in store.chain_rows("main")}
    assert acknowledged <= stored
    delivered = [json.loads(r)["eventID"] for key in trail.archive.list("PipetrailLogs/local/"
                                                                        "CloudTrail/")
                 for r in _records(trail.archive.get(key))]
    assert len(delivered) == len(set(delivered)), "an event was delivered twice"
    assert set(delivered) == stored, "an event was not delivered"


def _records(raw: bytes) -> list[str]:
    return [json.dumps(r) for r in json.loads(gzip.decompress(raw))["Records"]]
