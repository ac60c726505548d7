"""The EventBridge envelope of Pipetrail's events."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from pipetrail.events import compile_pattern
from pipetrail.events.envelope import (
    JOB_RUN_STATE_CHANGE,
    JOBS_SOURCE,
    EventEnvelope,
    check_envelope,
    job_run_state_change,
)
from pipetrail.model.errors import ValidationError
from pipetrail.model.runs import JobRun, RunState

T0 = 1_795_600_000_123  # 2026-11-25T09:46:40.123Z


def test_to_json_has_the_eventbridge_fields() -> None:
    event = EventEnvelope(source="pipetrail.test", detail_type="Thing Happened",
                          detail={"n": 1}, resources=("arn:pipetrail:x",), time_ms=T0)
    body = event.to_json()
    assert list(body) == ["version", "id", "detail-type", "source", "account", "time",
                          "region", "resources", "detail"]
    assert body["version"] == "0"
    assert uuid.UUID(body["id"]).version == 4
    assert body["detail-type"] == "Thing Happened"
    assert body["source"] == "pipetrail.test"
    assert body["account"] == "local"
    assert body["region"] == "local"
    assert body["time"] == "2026-11-25T09:46:40Z"
    assert body["resources"] == ["arn:pipetrail:x"]
    assert body["detail"] == {"n": 1}
    check_envelope(body)


def test_ids_differ() -> None:
    first = EventEnvelope(source="pipetrail.test", detail_type="X")
    second = EventEnvelope(source="pipetrail.test", detail_type="X")
    assert first.id != second.id


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"source": "", "detail_type": "X"}, "non-empty source"),
    ({"source": "aws.glue", "detail_type": "X"}, "reserved"),
    ({"source": "pipetrail.x", "detail_type": ""}, "non-empty detail-type"),
    ({"source": "pipetrail.x", "detail_type": "X", "detail": [1]}, "detail must be an object"),
    ({"source": "pipetrail.x", "detail_type": "X", "resources": "arn"}, "list of strings"),
    ({"source": "pipetrail.x", "detail_type": "X", "resources": (1,)}, "list of strings"),
])
def test_invalid_envelopes(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EventEnvelope(**kwargs)


def _full() -> dict[str, Any]:
    return EventEnvelope(source="pipetrail.test", detail_type="X").to_json()


@pytest.mark.parametrize(("change", "message"), [
    (lambda e: e.pop("id"), "lacks the envelope field id"),
    (lambda e: (e.pop("time"), e.pop("region")), "lacks the envelope fields time, region"),
    (lambda e: e.update(account=123), "account must be a string"),
    (lambda e: e.update(resources="arn"), "resources must be an array of strings"),
    (lambda e: e.update(detail="x"), "detail must be an object"),
])
def test_check_envelope(change: Any, message: str) -> None:
    event = _full()
    change(event)
    with pytest.raises(ValidationError, match=message):
        check_envelope(event)


def test_job_run_state_change() -> None:
    run = JobRun(run_id="jr_" + "a" * 64, job_name="nightly", state=RunState.FAILED,
                 started_on=T0 - 5000, completed_on=T0, exit_code=1,
                 error_message="ZeroDivisionError: division by zero")
    event = job_run_state_change(run, workspace="team")
    body = event.to_json()
    assert body["source"] == JOBS_SOURCE == "pipetrail.jobs"
    assert body["detail-type"] == JOB_RUN_STATE_CHANGE == "Job Run State Change"
    assert body["account"] == "team"
    assert body["resources"] == [f"arn:pipetrail:jobs:team:job/nightly/run/{run.run_id}"]
    assert body["time"] == "2026-11-25T09:46:40Z"
    assert body["detail"] == {
        "jobName": "nightly", "jobRunId": run.run_id, "state": "FAILED", "severity": "ERROR",
        "message": "ZeroDivisionError: division by zero", "attempt": 0,
        "executionTime": 5.0, "exitCode": 1,
    }
    failed_runs = compile_pattern({"source": ["pipetrail.jobs"],
                                   "detail-type": ["Job Run State Change"],
                                   "detail": {"state": ["FAILED", "TIMEOUT"]}})
    assert failed_runs.matches(body)


@pytest.mark.parametrize(("state", "severity", "message"), [
    (RunState.SUCCEEDED, "INFO", "Job run succeeded"),
    (RunState.TIMEOUT, "WARN", "Job run timeout"),
    (RunState.RUNNING, "INFO", "Job run running"),
])
def test_job_run_severity(state: RunState, severity: str, message: str) -> None:
    run = JobRun(run_id="jr_1", job_name="j", state=state, started_on=T0)
    detail = job_run_state_change(run).to_json()["detail"]
    assert detail["severity"] == severity
    assert detail["message"] == message
    assert "exitCode" not in detail and "executionTime" not in detail
