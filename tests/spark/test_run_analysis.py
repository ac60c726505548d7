"""The post-run analysis of a run's Spark event log, under the real runner, without a JVM.

A small job stands in for a PySpark driver the way Spark's own hooks would report it: it
sends the ``spark`` side-channel record the SDK sends when a SparkContext starts (with
event logging on, no web UI) and records through the SDK what its own capture would
have recorded. The event log is a real Spark 4.3 log (``data/plans.zstd``) or one
written by ``synth.EventLog``. The same analysis of a real PySpark run is checked in
``tests/insights/test_spark_runs.py``.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.actions.jobs import run_job
from pipetrail.config import Settings
from pipetrail.insights.evidence import build_evidence
from pipetrail.insights.rules import classify
from pipetrail.model.runs import JobRun, RunState
from pipetrail.runner.launch import RunOptions
from pipetrail.spark import analyze
from pipetrail.spark.eventlog import ReadLimits
from pipetrail.spark.findings import Registry
from pipetrail.spark.run_analysis import (
    DEFAULT_MAX_BYTES,
    DEFAULT_SECONDS,
    analysis_limits,
    data_records,
)
from pipetrail.store import open_store
from pipetrail.store.audit import AuditQuery
from tests.conftest import Cli
from tests.spark.synth import EventLog, Task

PLANS_APP = "local-1795599840587"
PEOPLE = "file:///tmp/tmp4puo9u_0/data/people"  # what plans.zstd wrote, then read 3 times

DRIVER = """
import sys, time
from pipetrail.sdk import record_data_access
from pipetrail.sdk.channel import active

events, app_id, outcome = sys.argv[1], sys.argv[2], sys.argv[3]
active().send({"t": "spark", "ts": int(time.time() * 1000), "appId": app_id,
               "appName": "replay", "version": "4.3.0", "master": "local[2]",
               "uiWebUrl": None, "conf": {"spark.eventLog.enabled": "true",
                                          "spark.eventLog.dir": events}})
for dataset in sys.argv[4:]:
    record_data_access(dataset, "write", rows=2000)
if outcome == "hang":
    time.sleep(60)
if outcome == "fail":
    raise RuntimeError("the driver gave up")
"""


class Replay:
    def __init__(self, ctx: ActionContext, folder: Path) -> None:
        self.ctx = ctx
        self.folder = folder
        self.events = ctx.settings.spark_events_dir
        self.events.mkdir(parents=True, exist_ok=True)
        self.script = folder / "driver.py"
        self.script.write_text(textwrap.dedent(DRIVER).lstrip())

    def run(self, log: Path, app_id: str, outcome: str = "ok", *recorded: str,
            timeout: float | None = None, job: str = "replay") -> JobRun:
        """Run the driver under the runner with ``log`` as its application's event log."""
        target = self.events / f"{app_id}{''.join(log.suffixes)}"
        shutil.copy(log, target)
        options = RunOptions(script=self.script, echo=False, timeout=timeout,
                             arguments=[self.events.as_uri(), app_id, outcome, *recorded],
                             sample_interval=0.2, spark_events_dir=self.events)
        return run_job(self.ctx, options, job)

    def insight_events(self, run: JobRun) -> list[dict[str, Any]]:
        found = self.ctx.store.get_log_events("/pipetrail/jobs/insights", run.run_id)
        return [json.loads(e.message) for e in found]

    def data_events(self, run: JobRun) -> list[dict[str, Any]]:
        return self.ctx.store.lookup_audit_events(
            AuditQuery(run_id=run.run_id, category="Data", limit=1000))


@pytest.fixture
def replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Replay]:
    for name in ("PIPETRAIL_SPARK_ANALYSIS_SECONDS", "PIPETRAIL_SPARK_ANALYSIS_MAX_BYTES",
                 "PIPETRAIL_DATA_CAPTURE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(home=tmp_path / "home", sample_interval=0.2)
    store = open_store(settings)
    yield Replay(ActionContext.local(store, settings), tmp_path)
    store.close()


def skewed_log(app_id: str) -> EventLog:
    """A stage whose one task ran 20x its median, on 20x its data."""
    log = EventLog(app_id=app_id, name="skewed")
    log.executor("1", 4)
    log.job([[Task(20_000, input_bytes=20_000_000),
              *(Task(1_000, input_bytes=1_000_000) for _ in range(9))]])
    log.end()
    return log


def test_a_spark_run_keeps_the_analysis_of_its_event_log(
        replay: Replay, data_dir: Path) -> None:
    run = replay.run(data_dir / "plans.zstd", PLANS_APP, "ok", PEOPLE)
    assert run.state is RunState.SUCCEEDED, run.error_message
    assert run.details["sparkEventLog"] == str(replay.events / f"{PLANS_APP}.zstd")
    summary = run.details["sparkAnalysis"]
    expected = analyze(data_dir / "plans.zstd")
    assert summary["applicationId"] == PLANS_APP
    assert summary["applicationName"] == "plans-fixture"
    assert summary["duration"] == expected.application["duration"] == 54_792
    assert summary["completed"] is True and summary["capped"] is None
    assert summary["jobs"] == len(expected.jobs) == 10
    assert summary["stages"] == 10 and summary["skippedStages"] == 4
    assert summary["tasks"] == sum(s["numCompleteTasks"] for s in expected.stages)
    assert summary["totals"]["outputRecords"] == 2000
    assert summary["totals"]["inputBytes"] == sum(s["inputBytes"] for s in expected.stages)
    assert summary["sqlExecutions"] == 4
    # Findings: as `pipetrail spark analyze` reports them, most severe first.
    findings = run.details["sparkFindings"]
    assert findings == [f.to_json() for f in expected.findings]
    assert [f["heuristic"] for f in findings] == ["costly-join", "filter-not-pushed-down",
                                                  "small-files"]
    assert summary["findings"] == {"high": 1, "medium": 1, "low": 1}
    # The insights stream: the summary, then one event per finding.
    logged = replay.insight_events(run)
    assert [e["kind"] for e in logged] == ["SparkAnalysis"] + ["SparkFinding"] * 3
    assert logged[0]["applicationId"] == PLANS_APP and logged[0]["tasks"] == summary["tasks"]
    assert [(e["heuristic"], e["severity"], e["recommendation"]) for e in logged[1:]] == [
        (f["heuristic"], f["severity"], f["recommendation"]) for f in findings]
    # The job recorded its write itself; the event log adds the three reads it did not.
    assert summary["dataEvents"] == 3
    events = replay.data_events(run)
    from_log = [e for e in events
                if (e.get("additionalEventData") or {}).get("source") == "eventLog"]
    assert len(events) == 4 and len(from_log) == 3
    assert {(e["eventName"], e["dataset"]) for e in from_log} == {("ReadDataset", PEOPLE)}
    assert sorted(tuple(e["columns"]) for e in from_log) == [(), ("name",), ("team",)]
    team = next(e for e in from_log if e["columns"] == ["team"])
    assert team["rows"] == 2000 and team["bytes"] == 61526 and team["jobRunId"] == run.run_id
    assert team["requestParameters"]["format"] == "parquet"
    assert team["additionalEventData"]["executionId"] == 2
    assert team["additionalEventData"]["files"] == 40
    assert team["userAgent"] == "pipetrail-sdk/0.1.0 pyspark/4.3.0"


def test_runs_show_has_the_analysis(replay: Replay, data_dir: Path) -> None:
    run = replay.run(data_dir / "plans.zstd", PLANS_APP, "ok")
    cli = Cli(replay.ctx.settings, replay.folder)
    shown = cli("runs", "show", run.run_id, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body["sparkAnalysis"] == run.details["sparkAnalysis"]
    assert [f["heuristic"] for f in body["sparkFindings"]] == [
        "costly-join", "filter-not-pushed-down", "small-files"]
    assert body["sparkAnalysis"]["dataEvents"] == 4  # the job recorded none itself
    table = cli("runs", "show", run.run_id)
    assert table.returncode == 0, table.stderr
    assert f"Spark analysis: {PLANS_APP} (plans-fixture), 54.792 s" in table.stdout
    assert "10 job(s), 10 stage(s), 56 task(s), 4 SQL execution(s)" in table.stdout
    assert "4 data event(s) recorded from the event log" in table.stdout
    assert "[high] " in table.stdout and "(costly-join)" in table.stdout


def test_a_large_log_is_analysed_up_to_the_limit(
        replay: Replay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app_id = "app-20261101000000-0007"
    log = EventLog(app_id=app_id, name="big")
    log.executor("1", 4)
    for _ in range(4):
        log.job([[Task(50) for _ in range(400)]])
    log.end()
    path = log.write(tmp_path / app_id)
    full = analyze(path, Registry())
    monkeypatch.setenv("PIPETRAIL_SPARK_ANALYSIS_MAX_BYTES", "200000")
    run = replay.run(path, app_id)
    summary = run.details["sparkAnalysis"]
    assert summary["capped"] is not None and "limit 200,000 bytes" in summary["capped"]
    assert any("figures cover the log up to there" in w for w in summary["warnings"])
    assert summary["applicationId"] == app_id and summary["completed"] is False
    assert 0 < summary["tasks"] < sum(s["numCompleteTasks"] for s in full.stages) == 1600
    table = Cli(replay.ctx.settings, replay.folder)("runs", "show", run.run_id)
    assert "partial: reading stopped at line" in table.stdout
    # Off: no analysis at all.
    monkeypatch.setenv("PIPETRAIL_SPARK_ANALYSIS_SECONDS", "0")
    off = replay.run(path, app_id)
    assert off.details["sparkEventLog"] and "sparkAnalysis" not in off.details


def test_a_failed_runs_insight_uses_the_event_log(replay: Replay, tmp_path: Path) -> None:
    app_id = "app-20261101000000-0008"
    path = skewed_log(app_id).write(tmp_path / app_id)
    run = replay.run(path, app_id, "hang", timeout=2)
    assert run.state is RunState.TIMEOUT
    # No live view of the stage (no web UI): the skew is known from the event log only.
    assert run.details["spark"]["skewedStages"] == []
    insight = run.details["insights"]
    assert insight["category"] == "DATA_SKEW", insight["summary"]
    assert "stage 0" in insight["summary"] and "20x its median" in insight["summary"]
    assert insight["sparkFindings"][0] == {
        "heuristic": "skewed-stage", "severity": "high",
        "title": "1 stage(s) with skewed tasks (slowest task up to 20x the median)"}
    failed = replay.run(path, app_id, "fail")
    assert failed.state is RunState.FAILED
    # Not a resource failure: the skew is named among the findings, not as the cause.
    assert failed.details["insights"]["category"] != "DATA_SKEW"
    assert failed.details["insights"]["sparkFindings"][0]["heuristic"] == "skewed-stage"


def test_capture_off_records_no_data_events(replay: Replay, data_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPETRAIL_DATA_CAPTURE", "0")
    run = replay.run(data_dir / "plans.zstd", PLANS_APP)
    assert run.details["sparkAnalysis"]["dataEvents"] == 0
    assert len(run.details["sparkFindings"]) == 3
    assert replay.data_events(run) == []


def test_an_unreadable_log_is_named_in_the_run(replay: Replay, tmp_path: Path) -> None:
    app_id = "app-20261101000000-0009"
    bad = tmp_path / f"{app_id}.inprogress"
    bad.write_text("this is not JSON\n")
    run = replay.run(bad, app_id)
    assert run.state is RunState.SUCCEEDED
    assert "not a Spark event log" in run.details["sparkAnalysis"]["error"]
    assert "sparkFindings" not in run.details


def test_limits_from_the_environment() -> None:
    assert analysis_limits({}) == (ReadLimits(DEFAULT_SECONDS, DEFAULT_MAX_BYTES), [])
    assert analysis_limits({"PIPETRAIL_SPARK_ANALYSIS_SECONDS": "0"}) == (None, [])
    limits, problems = analysis_limits({"PIPETRAIL_SPARK_ANALYSIS_SECONDS": "1.5",
                                        "PIPETRAIL_SPARK_ANALYSIS_MAX_BYTES": "1000"})
    assert limits == ReadLimits(1.5, 1000) and problems == []
    limits, problems = analysis_limits({"PIPETRAIL_SPARK_ANALYSIS_SECONDS": "soon",
                                        "PIPETRAIL_SPARK_ANALYSIS_MAX_BYTES": "-1"})
    assert limits == ReadLimits(DEFAULT_SECONDS, DEFAULT_MAX_BYTES)
    assert len(problems) == 2 and "'soon'" in problems[0] and "'-1'" in problems[1]


def test_reading_stops_at_the_time_limit(tmp_path: Path) -> None:
    log = EventLog(app_id="app-20261101000000-0010")
    log.executor("1", 4)
    log.job([[Task(50) for _ in range(1000)]])
    log.end()
    path = log.write(tmp_path / "app")
    report = analyze(path, Registry(), ReadLimits(seconds=1e-9))
    # Limits are checked every 1,024 lines, once the first event is read.
    assert report.source["lines"] == 1023
    assert report.source["capped"].startswith("reading stopped at line 1024 of app")
    assert "(limit 1e-09 s)" in report.source["capped"]
    whole = analyze(path, Registry(), ReadLimits(seconds=3600, max_bytes=1 << 40))
    assert whole.source["capped"] is None and whole.source["lines"] == len(log.events)


def test_datasets_without_a_name_are_left_out(data_dir: Path) -> None:
    """Every dataset the plans name becomes a data record; JDBC scans and commands
    without a table or path do not."""
    records = list(data_records(analyze(data_dir / "plans.zstd", Registry())))
    assert [(r["operation"], r["dataset"]) for r in records] == [
        ("write", PEOPLE), ("read", PEOPLE), ("read", PEOPLE), ("read", PEOPLE)]
    write = records[0]
    assert write["columns"] == ["id", "name", "team"] and write["rows"] == 2000
    assert write["details"]["mode"] == "overwrite"
    assert write["details"]["command"] == "InsertIntoHadoopFsRelationCommand"


def test_classify_uses_event_log_skew_only_without_a_live_view() -> None:
    run = JobRun("jr_x", "job", RunState.TIMEOUT, 0)
    finding = {"heuristic": "skewed-stage", "severity": "high", "title": "t",
               "evidence": {"stages": [{"stageId": 4, "name": "groupBy", "medianTaskMs": 900,
                                        "maxTaskMs": 30_000, "skewRatio": 33.3}]},
               "recommendation": "r"}
    evidence = build_evidence(run, None, [], [], {"skewedStages": []}, None, [finding])
    assert classify(evidence).category == "DATA_SKEW"
    live = {"skewedStages": [{"stageId": 7, "name": "join", "medianTaskMs": 100,
                              "maxTaskMs": 5_000, "durationRatio": 50}]}
    evidence = build_evidence(run, None, [], [], live, None, [finding])
    assert "stage 7" in classify(evidence).summary
