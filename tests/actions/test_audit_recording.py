"""Every action, reads included, is recorded in the trail with who, what and the outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipetrail.actions import jobs, logs, metrics, trail
from pipetrail.actions.context import ActionContext
from pipetrail.model.errors import NotFoundError, ValidationError
from pipetrail.runner.launch import RunOptions
from pipetrail.store.store import AuditQuery


def newest(ctx: ActionContext) -> dict:
    return ctx.store.lookup_audit_events(AuditQuery(limit=1))[0]


def test_every_action_is_recorded(ctx: ActionContext, tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text("print('hi')\n")
    run = jobs.run_job(ctx, RunOptions(script=script, sample_interval=0.1, echo=False), "j")
    calls = [
        ("GetJobRun", lambda: jobs.get_job_run(ctx, run.run_id)),
        ("GetJobRuns", lambda: jobs.get_job_runs(ctx, "j")),
        ("GetJobs", lambda: jobs.get_jobs(ctx)),
        ("GetLogEvents", lambda: logs.get_log_events(ctx, run.run_id)),
        ("StartLiveTail", lambda: list(logs.tail(ctx, run.run_id))),
        ("GetMetricData", lambda: metrics.get_run_metric_data(ctx, run.run_id, "job.duration")),
        ("LookupEvents", lambda: trail.lookup_events(ctx, AuditQuery())),
    ]
    for name, call in calls:
        call()
        record = newest(ctx)
        assert record["eventName"] == name
        assert record["readOnly"] is True
        assert record["responseElements"] is None  # reads record no response, as CloudTrail
        assert record["userIdentity"]["userName"] == ctx.caller.identity.user_name
        assert record["userAgent"].startswith("pipetrail-cli/")
        assert record["sourceIPAddress"] == "127.0.0.1"
        assert "errorCode" not in record
    start = ctx.store.lookup_audit_events(AuditQuery(event_name="StartJobRun"))[0]
    assert start["readOnly"] is False
    assert start["responseElements"]["jobRunId"] == run.run_id
    assert {r["type"] for r in start["resources"]} == {"Pipetrail::Jobs::Job",
                                                      "Pipetrail::Jobs::JobRun"}


def test_failed_actions_record_their_error_code(ctx: ActionContext) -> None:
    with pytest.raises(NotFoundError):
        jobs.get_job_run(ctx, "jr_nosuchrun")
    record = newest(ctx)
    assert record["eventName"] == "GetJobRun"
    assert record["errorCode"] == "EntityNotFoundException"
    assert "jr_nosuchrun" in record["errorMessage"]
    with pytest.raises(ValidationError):
        jobs.get_job_runs(ctx, state="NOPE")
    assert newest(ctx)["errorCode"] == "ValidationException"
    assert newest(ctx)["requestParameters"]["state"] == "NOPE"


def test_stopping_an_ended_run_is_refused(ctx: ActionContext, tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text("pass\n")
    run = jobs.run_job(ctx, RunOptions(script=script, echo=False))
    with pytest.raises(ValidationError, match="already ended"):
        jobs.stop_job_run(ctx, run.run_id)
    assert newest(ctx)["eventName"] == "StopJobRun"
