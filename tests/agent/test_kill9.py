"""The server is killed (SIGKILL) twice during a 100,000-event ingest from four remote
runs; after it restarts, every event is stored exactly once (counted)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipetrail.actions.context import ActionContext
from pipetrail.config import Settings
from pipetrail.model.logs import OUTPUT_GROUP
from pipetrail.store import Store
from pipetrail.store import schema as t
from pipetrail.store.store import AuditQuery
from tests.agent.conftest import RUNNER_POLICY
from tests.servers import ProcessServer, principal_with_token

AGENTS = 4
LINES = 25_000
JOB = f"""
import sys, time
agent = sys.argv[1]
for i in range({LINES}):
    print(agent, i)
    if i % 500 == 499:
        time.sleep(0.06)
"""


def stored_output(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.log_events)
                                .where(t.log_events.c.group_name == OUTPUT_GROUP)).scalar_one())


def wait_until(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


@pytest.mark.slow
def test_kill_9_during_ingest_loses_and_duplicates_nothing(
        settings: Settings, store: Store, ctx: ActionContext, tmp_path: Path) -> None:
    token = principal_with_token(ctx, "runner", RUNNER_POLICY, kind="ServiceAccount")
    log = tmp_path / "server.log"
    server = ProcessServer(settings, log=log).start()
    job = tmp_path / "job.py"
    job.write_text(JOB)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRAIL_")}
    env.update({"PIPETRAIL_HOME": str(tmp_path / "agents"), "PIPETRAIL_URL": server.url,
                "PIPETRAIL_TOKEN": token, "PIPETRAIL_AGENT_DRAIN_SECONDS": "180"})
    runners = [subprocess.Popen([sys.executable, "-m", "pipetrail.cli", "run", str(job),
                                 "--job", f"nightly-{n}", "--", f"agent-{n}"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for n in range(AGENTS)]
    kills = []
    try:
        for threshold in (20_000, 55_000):
            wait_until(lambda t=threshold: stored_output(store) >= t, 120,
                       f"{threshold} events are stored")
            server.kill()  # SIGKILL: no shutdown of any kind
            kills.append(stored_output(store))
            time.sleep(1.0)
            server.start()
        for runner in runners:
            _, err = runner.communicate(timeout=240)
            assert runner.returncode == 0, err.decode()
    finally:
        for runner in runners:
            if runner.poll() is None:
                runner.kill()
        server.stop()
    total = AGENTS * LINES
    print(f"stored when killed: {kills}")
    assert all(0 < k < total for k in kills), f"the kills missed the ingest: {kills}"
    assert stored_output(store) == total
    for n in range(AGENTS):
        [run] = store.list_runs(job_name=f"nightly-{n}")
        assert run.state.value == "SUCCEEDED"
        events = store.read_streams([(OUTPUT_GROUP, run.run_id)], limit=10_000)
        messages: Counter[str] = Counter()
        after = 0
        while events:
            messages.update(e.message for e in events)
            after = events[-1].event_id or after
            events = store.read_streams([(OUTPUT_GROUP, run.run_id)], after_id=after,
                                        limit=10_000)
        assert len(messages) == LINES, f"agent {n}: {LINES - len(messages)} lost"
        assert messages.most_common(1)[0][1] == 1, f"agent {n}: duplicated"
        assert set(messages) == {f"agent-{n} {i}" for i in range(LINES)}
        for name in ("StartJobRun", "JobRunStateChange"):
            found = store.lookup_audit_events(AuditQuery(event_name=name, run_id=run.run_id))
            assert len(found) == 1, (name, len(found))
    assert not any((tmp_path / "agents" / "spool").glob("jr_*"))
