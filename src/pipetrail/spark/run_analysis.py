"""Post-run analysis: when a PySpark run ends, its event log is analysed and kept with it.

:class:`SparkAnalysisHook` (a run hook, after :class:`~pipetrail.spark.live.SparkMonitorHook`
which records the log's path in ``run.details["sparkEventLog"]``, and before the insights
hook, so that a failed run's insight can use the findings) runs
:func:`~pipetrail.spark.analysis.analyze` on the run's event log and stores:

- ``run.details["sparkAnalysis"]``: a summary (application, duration, jobs, stages,
  tasks, totals, findings by severity, warnings, and whether reading was capped);
- ``run.details["sparkFindings"]``: the findings (heuristic, severity, title, evidence,
  recommendation), most severe first;
- one event per finding, after one summary event, in the log group
  ``/pipetrail/jobs/insights`` (stream = the run id);
- data events for the datasets the SQL plans of the log read and wrote that the job's
  own capture (:mod:`pipetrail.sdk.capture.spark`) did not record, marked
  ``additionalEventData.source = "eventLog"``.

The runner waits for the hook before it exits, so reading is bounded
(``PIPETRAIL_SPARK_ANALYSIS_SECONDS``, ``PIPETRAIL_SPARK_ANALYSIS_MAX_BYTES``): a larger
log is analysed up to the limit and the summary says where reading stopped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import orjson

from pipetrail.model.clock import now_ms
from pipetrail.model.errors import PipetrailError, ValidationError
from pipetrail.model.logs import ERROR_GROUP, INSIGHTS_GROUP
from pipetrail.model.runs import JobRun
from pipetrail.runner.data_events import data_event
from pipetrail.runner.hooks import RunHook
from pipetrail.runner.launch import Launch
from pipetrail.sdk.datasets import dataset_uri, is_uri

if TYPE_CHECKING:
    from pipetrail.spark.analysis import SparkReport
    from pipetrail.spark.eventlog import ReadLimits
    from pipetrail.spark.findings import Registry

SECONDS_ENV = "PIPETRAIL_SPARK_ANALYSIS_SECONDS"
MAX_BYTES_ENV = "PIPETRAIL_SPARK_ANALYSIS_MAX_BYTES"
DATA_CAPTURE_ENV = "PIPETRAIL_DATA_CAPTURE"
DATA_CAPTURE_OFF = ("0", "false", "off", "no")
#: Reading an event log stops after this long (the runner waits for it before exiting).
DEFAULT_SECONDS = 3.0
#: ... or after this many bytes of (decompressed) lines.
DEFAULT_MAX_BYTES = 512 << 20
#: Findings kept with the run, and the size of each one's JSON (evidence is cut beyond).
MAX_FINDINGS = 20
MAX_FINDING_BYTES = 8192
#: Warnings of the analysis kept in the summary.
MAX_WARNINGS = 5
#: Data events recorded from one event log.
MAX_DATA_EVENTS = 1000
EVENT_LOG_SOURCE = "eventLog"
TOTALS = ("executorRunTime", "jvmGcTime", "inputBytes", "inputRecords", "outputBytes",
          "outputRecords", "shuffleReadBytes", "shuffleWriteBytes", "memoryBytesSpilled",
          "diskBytesSpilled")


def analysis_limits(environ: Mapping[str, str] | None = None
                    ) -> tuple[ReadLimits | None, list[str]]:
    """The read limits from the environment (None: analysis off) and what was wrong
    with the variables (a bad value falls back to the default)."""
    from pipetrail.spark.eventlog import ReadLimits

    env = os.environ if environ is None else environ
    problems: list[str] = []
    seconds = DEFAULT_SECONDS
    text = env.get(SECONDS_ENV, "").strip()
    if text:
        try:
            seconds = float(text)
            if seconds < 0 or seconds != seconds:
                raise ValueError
        except ValueError:
            problems.append(f"{SECONDS_ENV} must be a number of seconds (0: off), not "
                            f"{text[:40]!r}; using {DEFAULT_SECONDS:g}")
            seconds = DEFAULT_SECONDS
    if seconds == 0:
        return None, problems
    max_bytes = DEFAULT_MAX_BYTES
    text = env.get(MAX_BYTES_ENV, "").strip()
    if text:
        try:
            max_bytes = int(text)
            if max_bytes <= 0:
                raise ValueError
        except ValueError:
            problems.append(f"{MAX_BYTES_ENV} must be a positive number of bytes, not "
                            f"{text[:40]!r}; using {DEFAULT_MAX_BYTES:,}")
            max_bytes = DEFAULT_MAX_BYTES
    return ReadLimits(seconds=seconds, max_bytes=max_bytes), problems


def local_event_log(path: object) -> Path | None:
    """The local path of a recorded event-log path (a plain path or ``file:`` URI)."""
    if not isinstance(path, str) or not path:
        return None
    if is_uri(path):
        parts = urlsplit(path)
        if parts.scheme != "file":
            return None
        path = unquote(parts.path)
    return Path(path)


class SparkAnalysisHook(RunHook):
    """Analyses a Spark run's event log when the run ends (see the module docstring)."""

    def __init__(self, registry: Registry | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.registry = registry
        self.environ = environ

    def before_final(self, run: JobRun, launch: Launch) -> None:
        recorded = run.details.get("sparkEventLog")
        path = local_event_log(recorded)
        if path is None:
            return
        limits, problems = analysis_limits(self.environ)
        for problem in problems:
            launch.log(ERROR_GROUP, now_ms(), f"pipetrail: {problem}")
        if limits is None:
            return
        from pipetrail.spark.analysis import analyze

        started = time.monotonic()
        try:
            report = analyze(path, self.registry, limits)
        except (PipetrailError, OSError) as exc:
            run.details["sparkAnalysis"] = {"eventLog": recorded, "error": str(exc)[:1000]}
            return
        added = 0
        if _capture_on(self.environ):
            # What the job's own capture recorded is not recorded twice (every data record
            # of the run has been read: the runner drains the job's output first).
            recorded_here = {(operation, dataset)
                             for operation, dataset, _ in launch.datasets}
            recorded_here |= {(operation, _uri(location))
                              for operation, _, location in launch.datasets if location}
            added = self._record_data_events(report, launch, recorded_here)
        summary = summarise(report, str(recorded), added)
        summary["analysisSeconds"] = round(time.monotonic() - started, 3)
        findings = [_bounded(f.to_json()) for f in report.findings[:MAX_FINDINGS]]
        run.details["sparkAnalysis"] = summary
        run.details["sparkFindings"] = findings
        ts = now_ms()
        launch.log(INSIGHTS_GROUP, ts, orjson.dumps({"kind": "SparkAnalysis",
                                                     **summary}).decode())
        for finding in findings:
            launch.log(INSIGHTS_GROUP, ts, orjson.dumps({
                "kind": "SparkFinding", "applicationId": summary["applicationId"],
                **finding}).decode())

    def _record_data_events(self, report: SparkReport, launch: Launch,
                            recorded: set[tuple[str, str]]) -> int:
        version = report.application.get("sparkVersion")
        added = 0
        for record in data_records(report):
            if (record["operation"], record["dataset"]) in recorded:
                continue
            if added >= MAX_DATA_EVENTS:
                launch.log(ERROR_GROUP, now_ms(),
                           f"pipetrail: only the first {MAX_DATA_EVENTS} data events of the "
                           f"Spark event log were recorded")
                break
            if version:
                record["libraryVersion"] = str(version)
            try:
                launch.records.put(data_event(record, launch.identity, launch.job_name,
                                              launch.run_id))
            except ValidationError as exc:
                launch.log(ERROR_GROUP, now_ms(), f"pipetrail: a data event from the Spark "
                                                  f"event log was refused: {exc}")
                continue
            added += 1
        return added


def data_records(report: SparkReport) -> Iterator[dict[str, Any]]:
    """``data`` records (as the SDK sends them) for every dataset the SQL executions of
    ``report`` read or wrote that can be named: a table, or a path. Scans and writes
    without one (JDBC relations, a create-table-as-select command) are left out."""
    from pipetrail.sdk.capture.spark_plan import table_uri

    for execution in report.executions:
        ts = execution.submission_time if execution.submission_time >= 0 else None
        failed = execution.status == "FAILED"
        base: dict[str, Any] = {"library": "pyspark", "ts": ts}
        if failed:
            base["errorCode"] = "SparkExecutionFailed"
            base["errorMessage"] = (execution.error_message or "the execution failed")[:1024]
        details = {"source": EVENT_LOG_SOURCE, "executionId": execution.execution_id}
        if execution.description:
            details["description"] = execution.description[:256]
        for read in execution.reads():
            dataset = (table_uri(read.table) if read.table
                       else _path_dataset(read.paths, read.path_count))
            if dataset is None:
                continue
            yield {**base, "dataset": dataset, "operation": "read",
                   "format": (read.format or "").lower() or None,
                   "columns": [c.name for c in read.columns], "rows": read.rows,
                   "bytes": read.bytes,
                   "details": {**details, **({"files": read.files} if read.files else {})}}
        for write in execution.writes():
            dataset = (table_uri(write.table) if write.table
                       else _path_dataset([write.path] if write.path else [], 1))
            if dataset is None:
                continue
            extra = {k: v for k, v in (("files", write.files),
                                       ("mode", write.mode.lower() if write.mode else None),
                                       ("command", write.command)) if v}
            yield {**base, "dataset": dataset, "operation": "write",
                   "format": (write.format or "").lower() or None,
                   "columns": list(write.columns), "rows": write.rows, "bytes": write.bytes,
                   "details": {**details, **extra}}


def summarise(report: SparkReport, event_log: str, data_events: int) -> dict[str, Any]:
    """What ``run.details["sparkAnalysis"]`` holds (JSON-ready, camelCase keys)."""
    app = report.application
    stages = report.stages
    jobs = report.jobs
    totals = {name: sum(int(s.get(name) or 0) for s in stages) for name in TOTALS}
    by_severity: dict[str, int] = {}
    for finding in report.findings:
        by_severity[finding.severity] = by_severity.get(finding.severity, 0) + 1
    return {
        "eventLog": event_log,
        "applicationId": app.get("id"),
        "applicationName": app.get("name"),
        "sparkVersion": app.get("sparkVersion"),
        "startTime": app.get("startTime"),
        "endTime": app.get("endTime"),
        "duration": app.get("duration"),
        "completed": bool(app.get("completed")),
        "jobs": len(jobs),
        "failedJobs": sum(1 for j in jobs if j.get("status") == "FAILED"),
        "stages": sum(1 for s in stages if s.get("status") != "SKIPPED"),
        "failedStages": sum(1 for s in stages if s.get("status") == "FAILED"),
        "skippedStages": sum(1 for s in stages if s.get("status") == "SKIPPED"),
        "tasks": sum(int(s.get("numCompleteTasks") or 0) for s in stages),
        "failedTasks": sum(int(s.get("numFailedTasks") or 0) for s in stages),
        "killedTasks": sum(int(s.get("numKilledTasks") or 0) for s in stages),
        "executors": sum(1 for e in report.executors if e.get("id") != "driver"),
        "sqlExecutions": len(report.executions),
        "totals": totals,
        "findings": by_severity,
        "dataEvents": data_events,
        "capped": report.source.get("capped"),
        "warnings": report.warnings[:MAX_WARNINGS],
    }


def _capture_on(environ: Mapping[str, str] | None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(DATA_CAPTURE_ENV, "1").strip().lower() not in DATA_CAPTURE_OFF


def _uri(target: str) -> str:
    try:
        return dataset_uri(target)
    except (ValueError, OSError):
        return target


def _path_dataset(paths: list[str], count: int | None) -> str | None:
    """A path listed by a plan (or the folder shared by several) as a dataset URI."""
    usable = [p for p in paths if is_uri(p) or p.startswith("/")]
    if not usable or len(usable) != len(paths):
        return None
    if len(usable) == 1 and (count or 1) == 1:
        return _uri(usable[0])
    folders = {p.rstrip("/").rsplit("/", 1)[0] for p in usable}
    return _uri(folders.pop()) if len(folders) == 1 else None


def _bounded(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding whose JSON fits :data:`MAX_FINDING_BYTES` (long evidence is cut)."""
    if len(orjson.dumps(finding)) <= MAX_FINDING_BYTES:
        return finding
    evidence = finding.get("evidence") or {}
    short: dict[str, Any] = {}
    for key, value in evidence.items():
        if isinstance(value, list):
            short[key] = value[:3]
        elif isinstance(value, str):
            short[key] = value[:500]
        else:
            short[key] = value
    cut = {**finding, "evidence": short, "evidenceCut": True}
    if len(orjson.dumps(cut)) <= MAX_FINDING_BYTES:
        return cut
    return {**finding, "evidence": {}, "evidenceCut": True}
