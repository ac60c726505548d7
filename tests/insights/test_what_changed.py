"""What changed between runs: CompareJobRuns on both store backends, and the insight of a
failed run carrying the comparison with the job's last good run."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.actions.insights import compare_job_runs
from pipetrail.actions.jobs import run_job
from pipetrail.model.audit import AuditEvent
from pipetrail.model.errors import NotFoundError, ValidationError
from pipetrail.model.runs import JobRun, RunState
from pipetrail.runner.launch import RunOptions
from pipetrail.store.audit import AuditQuery
from tests.conftest import Cli

JOB = """
import sys
rows = int(sys.argv[1])
total = 100 / rows
print(total)
"""


def run(ctx: ActionContext, path: Path, body: str, *args: str) -> JobRun:
    path.write_text(textwrap.dedent(body).lstrip())
    return run_job(ctx, RunOptions(script=path, arguments=list(args), echo=False,
                                   sample_interval=0.2), "daily")


def read_event(ctx: ActionContext, run_id: str, dataset: str, rows: int, size: int) -> None:
    ctx.store.append_audit_events([AuditEvent(
        event_source="data.pipetrail", event_name="ReadDataset",
        identity=ctx.caller.identity, event_type="DataAccess", read_only=True,
        dataset=dataset, operation="read", rows=rows, bytes=size, run_id=run_id)])


def test_a_failed_run_is_compared_with_the_last_good_one(ctx: ActionContext,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "daily.py"
    older = run(ctx, path, JOB, "4")
    good = run(ctx, path, JOB, "5")
    read_event(ctx, good.run_id, "file:///data/orders.csv", 1200, 48_000)
    bad = run(ctx, path, JOB.replace("print(total)", "print(round(total, 2))"), "0")
    assert (older.state, good.state, bad.state) == (RunState.SUCCEEDED,) * 2 + (RunState.FAILED,)
    insight = bad.details["insights"]
    assert insight["category"] == "DIVISION_BY_ZERO"
    changed = insight["whatChanged"]
    assert changed["baselineRunId"] == good.run_id  # the newest good run, not the older
    assert changed["arguments"] == {"changed": True, "baseline": ["5"], "run": ["0"]}
    assert changed["script"]["linesAdded"] == 1 and changed["script"]["linesRemoved"] == 1
    assert "-print(total)\n+print(round(total, 2))\n" in changed["script"]["diff"]
    assert changed["inputs"] == [{"dataset": "file:///data/orders.csv",
                                  "baseline": {"rows": 1200, "bytes": 48_000},
                                  "run": None, "changed": True}]
    assert "input file:///data/orders.csv: 1,200 rows, 48,000 bytes -> not read" in \
        changed["summary"]
    assert changed["python"]["changed"] is False
    assert changed["duration"]["baseline"] == good.execution_time

    # The audited action compares any two runs, and says so in the trail.
    read_event(ctx, bad.run_id, "file:///data/orders.csv", 0, 0)
    compared = compare_job_runs(ctx, bad.run_id[:10], older.run_id)
    assert compared["baselineRunId"] == older.run_id
    assert compared["arguments"]["baseline"] == ["4"]
    assert compared["inputs"][0]["run"] == {"rows": 0, "bytes": 0}
    events = ctx.store.lookup_audit_events(AuditQuery(event_name="CompareJobRuns"))
    assert events[0]["eventSource"] == "insights.pipetrail"
    assert events[0]["requestParameters"] == {"jobRunId": bad.run_id[:10],
                                              "baselineRunId": older.run_id}
    assert len(events[0]["resources"]) == 2


def test_compare_errors(ctx: ActionContext, tmp_path: Path) -> None:
    first = run(ctx, tmp_path / "daily.py", JOB, "0")
    with pytest.raises(NotFoundError, match="no successful run before"):
        compare_job_runs(ctx, first.run_id)
    with pytest.raises(ValidationError, match="names the run itself"):
        compare_job_runs(ctx, first.run_id, first.run_id)
    events = ctx.store.lookup_audit_events(AuditQuery(event_name="CompareJobRuns"))
    assert [e["errorCode"] for e in events] == ["ValidationException",
                                                "EntityNotFoundException"]


def test_cli_compare(cli: Cli, script: object, tmp_path: Path) -> None:
    path = tmp_path / "job.py"
    path.write_text(JOB)
    assert cli("run", "-q", str(path), "--job", "daily", "--", "2").returncode == 0
    path.write_text(JOB.replace("100", "1000"))
    assert cli("run", "-q", str(path), "--job", "daily", "--", "0").returncode == 1
    runs = json.loads(cli("runs", "list", "--format", "json").stdout)
    failed = runs[0]["runId"]
    shown = json.loads(cli("runs", "show", failed, "--format", "json").stdout)
    assert shown["insights"]["category"] == "DIVISION_BY_ZERO"
    assert shown["insights"]["whatChanged"]["baselineRunId"] == runs[1]["runId"]
    table = cli("runs", "compare", failed)
    assert table.returncode == 0, table.stderr
    assert "script changed (+1 -1 lines)" in table.stdout
    assert "+total = 1000 / rows" in table.stdout
    missing = cli("runs", "compare", runs[1]["runId"])
    assert missing.returncode == 4 and "--with RUN_ID" in missing.stderr
    same = cli("runs", "compare", failed, "--with", failed)
    assert same.returncode == 2
    assert "--with" in cli("runs", "compare", "--help").stdout
