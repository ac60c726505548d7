"""``analyze``: one pass over an event log into a :class:`SparkReport`.

The report holds the figures in the shapes and field names of Spark's REST API
(``application``, ``jobs``, ``stages``, ``executors``, ``sql``), the log's own health
(``source``: layout, codec, warnings) and the findings of the registered heuristics.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipetrail.spark.dates import rest_date
from pipetrail.spark.eventlog import EventLogReader, ReadLimits, locate
from pipetrail.spark.sql import DataAccess, Execution, SqlTracker
from pipetrail.spark.status import StatusTracker

if TYPE_CHECKING:
    from pipetrail.spark.findings import Finding, Registry

Json = dict[str, Any]
Handler = Callable[[Json], None]

#: Spark properties copied into the report (the ones heuristics and people ask about).
_KEPT_PROPERTIES = (
    "spark.master", "spark.submit.deployMode", "spark.executor.instances",
    "spark.executor.cores", "spark.executor.memory", "spark.executor.memoryOverhead",
    "spark.driver.memory", "spark.driver.cores", "spark.default.parallelism",
    "spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled",
    "spark.sql.adaptive.coalescePartitions.enabled", "spark.sql.adaptive.skewJoin.enabled",
    "spark.sql.autoBroadcastJoinThreshold", "spark.sql.files.maxPartitionBytes",
    "spark.dynamicAllocation.enabled", "spark.dynamicAllocation.maxExecutors",
    "spark.memory.fraction", "spark.serializer", "spark.task.cpus", "spark.speculation",
)


@dataclass
class SparkReport:
    """Everything ``pipetrail spark analyze`` says about one application."""

    source: Json
    application: Json
    jobs: list[Json]
    stages: list[Json]
    executors: list[Json]
    executions: list[Execution]
    environment: Json
    findings: list[Finding] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return list(self.source["warnings"])

    def sql(self) -> list[Json]:
        return [ex.to_json() for ex in self.executions]

    def data_accesses(self) -> list[DataAccess]:
        """Every dataset read or written by the application's SQL executions, in order."""
        return [access for ex in self.executions for access in ex.data_accesses()]

    def to_dict(self) -> Json:
        """JSON-ready form (camelCase keys)."""
        return {
            "source": self.source,
            "application": self.application,
            "environment": self.environment,
            "jobs": self.jobs,
            "stages": self.stages,
            "executors": self.executors,
            "sql": self.sql(),
            "findings": [f.to_json() for f in self.findings],
        }


def analyze(path: str | Path, registry: Registry | None = None,
            limits: ReadLimits | None = None) -> SparkReport:
    """Read the event log at ``path`` and analyse it; findings from ``registry``.

    ``registry`` defaults to the built-in heuristics plus any installed through the
    ``pipetrail.spark_heuristics`` entry-point group; pass an empty registry for none.
    With ``limits``, reading stops after that much time or data: the report then covers
    the log up to there, like a log still being written, and ``source["capped"]`` says
    where it stopped.
    """
    from pipetrail.spark.findings import default_registry

    layout = locate(path)
    reader = EventLogReader(layout, limits)
    status = StatusTracker()
    sql = SqlTracker()
    handlers = _combine(status.handlers, sql.handlers)
    for event in reader.events(handlers):
        handler = handlers.get(event["Event"])
        if handler is None:
            continue
        try:
            handler(event)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError,
                RecursionError) as exc:
            reader.reject_current(f"a {event['Event']} event with a missing or mistyped "
                                  f"field ({type(exc).__name__}: {exc})")
    status.finish()
    sql.finish()

    stats = reader.stats
    warnings = list(stats.warnings)
    # A capped read does not know how the application ended: the layout's marker tells.
    in_progress = layout.in_progress or (not status.completed and not stats.capped)
    if status.app_id is None:
        warnings.append("the log has no SparkListenerApplicationStart event")
    if in_progress and not status.completed:
        warnings.append("the application had not ended when the log was last written "
                        "(no SparkListenerApplicationEnd): figures cover what happened so far")
    source = {
        "path": str(layout.path),
        "layout": layout.kind,
        "parts": [str(p.path.name) for p in layout.parts],
        "codecs": sorted(set(reader.codecs)),
        "inProgress": in_progress,
        "lines": stats.lines,
        "events": stats.events,
        "badLines": stats.bad_lines,
        "firstBadLine": stats.first_bad_line,
        "truncated": stats.truncated,
        "capped": stats.capped,
        "warnings": warnings,
    }
    report = SparkReport(
        source=source,
        application=_application(status, layout.app_id, _mtime(p.path for p in layout.parts)),
        jobs=status.job_list(),
        stages=status.stage_list(),
        executors=status.executor_list(),
        executions=sql.execution_list(),
        environment={k: status.spark_properties[k] for k in _KEPT_PROPERTIES
                     if k in status.spark_properties},
    )
    report.findings = (registry if registry is not None else default_registry()).run(report)
    return report


def _combine(*tables: dict[str, Handler]) -> dict[str, Handler]:
    merged: dict[str, list[Handler]] = {}
    for table in tables:
        for name, handler in table.items():
            merged.setdefault(name, []).append(handler)
    out: dict[str, Handler] = {}
    for name, hs in merged.items():
        if len(hs) == 1:
            out[name] = hs[0]
        else:
            out[name] = _chain(hs)
    return out


def _chain(handlers: list[Handler]) -> Handler:
    def run(event: Json) -> None:
        for handler in handlers:
            handler(event)
    return run


def _mtime(paths: Iterable[Path]) -> int | None:
    times = []
    for p in paths:
        try:
            times.append(int(os.stat(p).st_mtime * 1000))
        except OSError:
            continue
    return max(times) if times else None


def _application(status: StatusTracker, app_id_hint: str | None, mtime: int | None) -> Json:
    """The application in the REST API's shape, plus top-level conveniences."""
    start = status.start_time
    end = status.end_time
    attempt: Json = {}
    if status.attempt_id is not None:
        attempt["attemptId"] = status.attempt_id
    if start is not None:
        attempt["startTime"] = rest_date(start)
    attempt["endTime"] = rest_date(end if end is not None else -1)
    if mtime is not None:
        attempt["lastUpdated"] = rest_date(mtime)
    attempt["duration"] = end - start if end is not None and start is not None else 0
    attempt["sparkUser"] = status.spark_user
    attempt["completed"] = end is not None
    attempt["appSparkVersion"] = status.spark_version
    if status.exit_code is not None:
        attempt["exitCode"] = status.exit_code
    attempt["startTimeEpoch"] = start if start is not None else -1
    attempt["endTimeEpoch"] = end if end is not None else -1
    if mtime is not None:
        attempt["lastUpdatedEpoch"] = mtime
    return {
        "id": status.app_id or app_id_hint,
        "name": status.app_name,
        "sparkVersion": status.spark_version,
        "sparkUser": status.spark_user,
        "startTime": rest_date(start) if start is not None else None,
        "endTime": rest_date(end) if end is not None else None,
        "duration": end - start if end is not None and start is not None else None,
        "lastEventTime": rest_date(status.last_time) if status.last_time else None,
        "completed": end is not None,
        "exitCode": status.exit_code,
        "attempts": [attempt],
    }
