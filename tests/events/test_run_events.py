"""The run hook: each state change of a run is published, insights included, and the
run's deliveries are flushed once it ends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.actions.events import put_rule, put_target
from pipetrail.config import Settings
from pipetrail.events.notifier import Notifier
from pipetrail.events.settings import DeliverySettings
from pipetrail.model.runs import JobRun, RunState
from pipetrail.runner.run_events import RunEvents
from pipetrail.store.events import PENDING

INSIGHTS = {"summary": "The job read a column that does not exist: 'amount'",
            "category": "SchemaMismatch", "line": 12}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def test_state_changes_are_published_and_flushed_at_the_end(ctx: ActionContext,
                                                            tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    seen.mkdir()
    put_target(ctx, "log", "command", {"command": [
        "sh", "-c", f'cat > "{seen}/$PIPETRAIL_EVENT_ID.json"']})
    put_rule(ctx, "runs", '{"source": ["pipetrail.jobs"], "detail": {"jobName": ["nightly"]}}',
             targets=["log"])
    notifier = Notifier(ctx.store, ctx.workspace, background=True,
                        settings=DeliverySettings(notify_timeout=10))
    hook = RunEvents(notifier, ctx.workspace)
    run = JobRun("jr_1", "nightly", RunState.RUNNING, started_on=1_795_600_000_000)
    hook.on_state(run)
    run.state, run.completed_on, run.exit_code = RunState.FAILED, 1_795_600_004_500, 1
    run.error_message = "KeyError: 'amount'"
    run.details["insights"] = INSIGHTS
    hook.on_state(run)  # publishes, then delivers what is left before returning
    events = {e["detail"]["state"]: e["detail"]
              for e in (json.loads(p.read_text()) for p in seen.iterdir())}
    assert sorted(events) == ["FAILED", "RUNNING"]
    failed = events["FAILED"]
    assert failed["insights"] == INSIGHTS
    assert (failed["message"], failed["executionTime"], failed["exitCode"]) == (
        "KeyError: 'amount'", 4.5, 1)
    assert "insights" not in events["RUNNING"]
    assert ctx.store.list_deliveries(PENDING) == []
