"""SQL executions: plans, linked jobs, aggregated plan metrics, datasets read and written.

:class:`SqlTracker` follows Spark 4's ``SQLAppStatusListener``: jobs join an execution
through their ``spark.sql.execution.id`` property, a plan metric's value is the sum of the
latest update of each task index of the execution's stages (the current stage attempt
only) plus the driver-side updates, and the values are frozen when the execution ends.
Per stage it keeps one running total per metric and the updates of tasks that have not
succeeded yet, so memory does not grow with the number of tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter
from typing import Any, Literal

from pipetrail.spark.dates import rest_date
from pipetrail.spark.fields import arr, int_list, int_or, obj, opt_int, opt_str, req_int
from pipetrail.spark.indexset import IndexSet
from pipetrail.spark.plan import (
    DatasetRead,
    DatasetWrite,
    PlanGraph,
    PlanMetric,
    build_graph,
    joins_of,
    plan_metrics,
    reads_of,
    writes_of,
)

Json = dict[str, Any]
_UI = "org.apache.spark.sql.execution.ui."
SUM = "sum"
_ACC_ID = itemgetter("ID")
AVERAGE = "average"


class _MetricTotals:
    """One metric of one stage attempt: completed total plus pending per-index values."""

    __slots__ = ("done", "done_positive", "pending")

    def __init__(self) -> None:
        self.done = 0
        self.done_positive = 0
        self.pending: dict[int, int] = {}

    def total(self) -> int:
        return self.done + sum(self.pending.values())

    def positive(self) -> int:
        """How many task values are above zero (the ones an average metric counts)."""
        return self.done_positive + sum(1 for v in self.pending.values() if v > 0)


class _StageMetrics:
    __slots__ = ("attempt_id", "completed", "metric_types", "num_tasks", "pending", "totals")

    def __init__(self, attempt_id: int, num_tasks: int, metric_types: dict[int, str]) -> None:
        self.attempt_id = attempt_id
        self.num_tasks = num_tasks
        self.metric_types = metric_types  # shared with the execution, grows with AQE updates
        self.completed = IndexSet(num_tasks)
        self.pending: set[int] = set()  # indices with updates from unsuccessful attempts
        self.totals: dict[int, _MetricTotals] = {}

    def update(self, index: int, finished: bool, accumulables: list[Any]) -> None:
        """Record a task's plan-metric updates; ``finished``: the task succeeded."""
        if index in self.completed:
            return
        kind_of = self.metric_types.get
        # Keep the accumulables of plan metrics (most are internal task metrics), in C.
        with suppress(TypeError, KeyError):  # on a damaged entry the loop checks each one
            accumulables = list(compress(accumulables,
                                         map(kind_of, map(_ACC_ID, accumulables))))
        direct = finished and index not in self.pending  # the usual case: first attempt won
        totals_of = self.totals
        for acc in accumulables:
            try:
                acc_id = acc["ID"]
                kind = kind_of(acc_id)
                if kind is None:
                    continue
                value = int(acc["Update"])
            except (TypeError, KeyError, ValueError):
                continue
            if value < 0 and kind != SUM:
                value = 0  # unset size/timing metrics are -1 and do not count
            totals = totals_of.get(acc_id)
            if totals is None:
                totals = totals_of[acc_id] = _MetricTotals()
            if direct:
                totals.done += value
                totals.done_positive += value > 0
            else:
                totals.pending[index] = value
        if index < 0:
            return
        if finished:
            self.completed.add(index)
            if not direct:
                self.pending.discard(index)
                for totals in totals_of.values():
                    if index in totals.pending:
                        value = totals.pending.pop(index)
                        totals.done += value
                        totals.done_positive += value > 0
        else:
            self.pending.add(index)


@dataclass(frozen=True)
class DataAccess:
    """One dataset read or written by a SQL execution: what data events are made of."""

    execution_id: int
    operation: Literal["read", "write"]
    dataset: str
    format: str | None
    columns: tuple[str, ...]
    rows: int | None
    bytes: int | None
    files: int | None
    time: int | None

    def to_json(self) -> Json:
        return {"executionId": self.execution_id, "operation": self.operation,
                "dataset": self.dataset, "format": self.format, "columns": list(self.columns),
                "rows": self.rows, "bytes": self.bytes, "files": self.files,
                "time": rest_date(self.time) if self.time is not None else None}


class Execution:
    """One SQL execution (a query, a write, a command)."""

    def __init__(self, execution_id: int) -> None:
        self.execution_id = execution_id
        self.root_execution_id = execution_id
        self.query_id: str | None = None
        self.description: str | None = None
        self.submission_time: int = -1
        self.completion_time: int | None = None
        self.error_message: str | None = None
        self.graph = PlanGraph()
        self.plan_versions = 0
        self.metric_types: dict[int, str] = {}
        self.jobs: dict[int, str] = {}
        self.stages: set[int] = set()
        self.driver_updates: dict[int, list[int]] = {}
        self.metric_values: dict[int, float] | None = None
        self.end_events = 0
        self.live = True
        self._reads: list[DatasetRead] | None = None
        self._writes: list[DatasetWrite] | None = None

    def add_metrics(self, metrics: list[PlanMetric]) -> None:
        for m in metrics:
            self.metric_types[m.accumulator_id] = m.metric_type

    @property
    def status(self) -> str:
        if self.error_message is not None:
            return "COMPLETED" if self.error_message == "" else "FAILED"
        if self.completion_time is None:
            return "RUNNING"
        return "FAILED" if "FAILED" in self.jobs.values() else "COMPLETED"

    def reads(self) -> list[DatasetRead]:
        """Datasets the final plan scans (computed once the metrics are frozen)."""
        if self._reads is None or self.live:
            self._reads = reads_of(self.graph, self.metric_values or {})
        return self._reads

    def writes(self) -> list[DatasetWrite]:
        """Datasets the final plan writes."""
        if self._writes is None or self.live:
            self._writes = writes_of(self.graph, self.metric_values or {})
        return self._writes

    def joins(self) -> list[Json]:
        return list(joins_of(self.graph))

    def data_accesses(self) -> list[DataAccess]:
        """The datasets this execution read and wrote, with columns, rows and bytes."""
        time = self.completion_time if self.completion_time is not None else (
            self.submission_time if self.submission_time >= 0 else None)
        out = [DataAccess(self.execution_id, "read", _dataset_of(r), r.format,
                          tuple(c.name for c in r.columns), r.rows, r.bytes, r.files, time)
               for r in self.reads()]
        out += [DataAccess(self.execution_id, "write", w.table or w.path or w.command,
                           w.format, tuple(w.columns), w.rows, w.bytes, w.files, time)
                for w in self.writes()]
        return out

    def to_json(self) -> Json:
        values = self.metric_values or {}
        nodes = []
        for node in sorted(self.graph.all_nodes(), key=lambda n: n.node_id, reverse=True):
            metrics = [{"name": m.name.strip(), "type": m.metric_type,
                        "value": values[m.accumulator_id]}
                       for m in node.metrics if m.accumulator_id in values]
            item: Json = {"nodeId": node.node_id, "nodeName": node.name.strip()}
            if node.codegen_id is not None:
                item["wholeStageCodegenId"] = node.codegen_id
            item["metrics"] = metrics
            item["desc"] = node.desc
            nodes.append(item)
        by_status: dict[str, list[int]] = {"RUNNING": [], "SUCCEEDED": [], "FAILED": []}
        for job_id, status in self.jobs.items():
            by_status.setdefault(status, []).append(job_id)
        reads = self.reads()
        writes = self.writes()
        return {
            "id": self.execution_id,
            "status": self.status,
            "description": self.description,
            "submissionTime": (rest_date(self.submission_time)
                               if self.submission_time >= 0 else None),
            "completionTime": (rest_date(self.completion_time)
                               if self.completion_time is not None else None),
            "duration": (self.completion_time - self.submission_time
                         if self.completion_time is not None and self.submission_time >= 0
                         else None),
            "runningJobIds": sorted(by_status["RUNNING"]),
            "successJobIds": sorted(by_status["SUCCEEDED"]),
            "failedJobIds": sorted(by_status["FAILED"]),
            "nodes": nodes,
            "edges": [{"fromId": a, "toId": b} for a, b in self.graph.edges],
            "queryId": self.query_id,
            "errorMessage": self.error_message,
            "rootExecutionId": self.root_execution_id,
            "reads": [r.to_json() for r in reads],
            "writes": [w.to_json() for w in writes],
            "joins": self.joins(),
            "columnsRead": _columns_read(reads),
        }


def _dataset_of(read: DatasetRead) -> str:
    """A table, a path, or the folder shared by the files a scan lists."""
    if read.table:
        return read.table
    paths = read.paths
    if not paths:
        return read.node_name
    if len(paths) == 1 and (read.path_count or 1) == 1:
        return paths[0]
    folders = {p.rsplit("/", 1)[0] for p in paths}
    return folders.pop() if len(folders) == 1 else ", ".join(paths)


def _columns_read(reads: list[DatasetRead]) -> list[Json]:
    """Per dataset (paths or table), the union of the columns the execution read."""
    merged: dict[str, list[str]] = {}
    for read in reads:
        target = _dataset_of(read)
        names = merged.setdefault(target, [])
        for column in read.columns:
            if column.name not in names:
                names.append(column.name)
    return [{"dataset": k, "columns": v} for k, v in merged.items()]


class SqlTracker:
    """Replays SQL listener events into :class:`Execution` records."""

    def __init__(self) -> None:
        self.executions: dict[int, Execution] = {}
        self._live: dict[int, Execution] = {}
        self._stage_metrics: dict[int, _StageMetrics] = {}
        self.handlers: dict[str, Callable[[Json], None]] = {
            _UI + "SparkListenerSQLExecutionStart": self.on_execution_start,
            _UI + "SparkListenerSQLAdaptiveExecutionUpdate": self.on_adaptive_update,
            _UI + "SparkListenerSQLAdaptiveSQLMetricUpdates": self.on_adaptive_metrics,
            _UI + "SparkListenerSQLExecutionEnd": self.on_execution_end,
            _UI + "SparkListenerDriverAccumUpdates": self.on_driver_accum_updates,
            "SparkListenerJobStart": self.on_job_start,
            "SparkListenerJobEnd": self.on_job_end,
            "SparkListenerStageSubmitted": self.on_stage_submitted,
            "SparkListenerTaskEnd": self.on_task_end,
        }

    def _execution(self, execution_id: int) -> Execution:
        ex = self._live.get(execution_id)
        if ex is None:
            ex = Execution(execution_id)
            self._live[execution_id] = ex
            self.executions[execution_id] = ex
        return ex

    def on_execution_start(self, e: Json) -> None:
        execution_id, time = req_int(e, "executionId"), int_or(e, "time", -1)
        root = opt_int(e, "rootExecutionId", execution_id)
        query_id, description = opt_str(e, "queryId"), opt_str(e, "description")
        graph = build_graph(obj(e, "sparkPlanInfo"))
        ex = self._execution(execution_id)
        ex.root_execution_id = root if root is not None else execution_id
        ex.query_id, ex.description, ex.submission_time = query_id, description, time
        self._set_plan(ex, graph)

    def on_adaptive_update(self, e: Json) -> None:
        execution_id = req_int(e, "executionId")
        graph = build_graph(obj(e, "sparkPlanInfo"))
        self._set_plan(self._execution(execution_id), graph)

    @staticmethod
    def _set_plan(ex: Execution, graph: PlanGraph) -> None:
        ex.graph = graph
        ex.plan_versions += 1
        for node in graph.all_nodes():
            ex.add_metrics(node.metrics)

    def on_adaptive_metrics(self, e: Json) -> None:
        execution_id = req_int(e, "executionId")
        metrics = plan_metrics({"metrics": arr(e, "sqlPlanMetrics")})
        self._execution(execution_id).add_metrics(metrics)

    def on_execution_end(self, e: Json) -> None:
        execution_id, time = req_int(e, "executionId"), opt_int(e, "time")
        message = opt_str(e, "errorMessage")
        ex = self._live.get(execution_id)
        if ex is None:
            return
        ex.completion_time = time
        ex.error_message = message
        if ex.metric_values is None:
            ex.metric_values = self._aggregate(ex)
        self._drop_stale_stages(ex)
        ex.end_events += 1
        self._maybe_retire(ex)

    def on_driver_accum_updates(self, e: Json) -> None:
        execution_id = req_int(e, "executionId")
        pairs = arr(e, "accumUpdates")
        if any(not isinstance(p, list) or len(p) != 2 or any(type(v) is not int for v in p)
               for p in pairs):
            raise TypeError("'accumUpdates' must hold [id, value] integer pairs")
        ex = self._live.get(execution_id)
        if ex is None:
            return
        for acc_id, value in pairs:
            ex.driver_updates.setdefault(acc_id, []).append(value)

    def on_job_start(self, e: Json) -> None:
        raw_id = opt_str(obj(e, "Properties"), "spark.sql.execution.id")
        if raw_id is None:
            return
        execution_id = int(raw_id)
        job_id = req_int(e, "Job ID")
        stage_ids = int_list(e, "Stage IDs")
        infos = [(req_int(i, "Stage ID"), int_or(i, "Number of Tasks", 0))
                 for i in arr(e, "Stage Infos")]
        ex = self._live.get(execution_id)
        if ex is None:
            ex = self.executions.get(execution_id)
            if ex is not None:  # a later job of an execution already stored
                ex.live = True
                ex.end_events = len(ex.jobs) + 1
                self._live[execution_id] = ex
            else:
                ex = self._execution(execution_id)
        if ex.metric_types:
            for stage_id, num_tasks in infos:
                self._stage_metrics[stage_id] = _StageMetrics(0, num_tasks, ex.metric_types)
        ex.jobs[job_id] = "RUNNING"
        ex.stages.update(stage_ids)
        self._maybe_retire(ex)

    def on_job_end(self, e: Json) -> None:
        job_id = req_int(e, "Job ID")
        result = obj(e, "Job Result").get("Result")
        for ex in list(self._live.values()):
            if job_id in ex.jobs:
                ex.jobs[job_id] = "SUCCEEDED" if result == "JobSucceeded" else "FAILED"
                ex.end_events += 1
                self._maybe_retire(ex)

    def on_stage_submitted(self, e: Json) -> None:
        info = obj(e, "Stage Info")
        stage_id, attempt = req_int(info, "Stage ID"), int_or(info, "Stage Attempt ID", 0)
        current = self._stage_metrics.get(stage_id)
        if current is not None and current.attempt_id != attempt:
            self._stage_metrics[stage_id] = _StageMetrics(
                attempt, current.num_tasks, current.metric_types)

    def on_task_end(self, e: Json) -> None:
        stage_id, attempt = req_int(e, "Stage ID"), int_or(e, "Stage Attempt ID", 0)
        metrics = self._stage_metrics.get(stage_id)
        if metrics is None or metrics.attempt_id != attempt:
            return
        info = obj(e, "Task Info")
        index = int_or(info, "Index", -1)
        reason = obj(e, "Task End Reason").get("Reason", "Success")
        metrics.update(index, reason == "Success", arr(info, "Accumulables"))

    def _aggregate(self, ex: Execution) -> dict[int, float]:
        """Metric totals; an ``average`` metric (stored x10 by Spark) gets its mean."""
        types = ex.metric_types
        totals: dict[int, int] = {}
        positives: dict[int, int] = {}
        for stage_id in ex.stages:
            stage = self._stage_metrics.get(stage_id)
            if stage is None:
                continue
            for acc_id, values in stage.totals.items():
                if acc_id in types:
                    totals[acc_id] = totals.get(acc_id, 0) + values.total()
                    positives[acc_id] = positives.get(acc_id, 0) + values.positive()
        for acc_id, updates in ex.driver_updates.items():
            if acc_id in types:
                counted = updates if types[acc_id] == SUM else [v for v in updates if v >= 0]
                totals[acc_id] = totals.get(acc_id, 0) + sum(counted)
                positives[acc_id] = positives.get(acc_id, 0) + sum(1 for v in counted if v > 0)
        out: dict[int, float] = {}
        for acc_id, total in totals.items():
            if types[acc_id] == AVERAGE:
                count = positives.get(acc_id, 0)
                out[acc_id] = round(total / count / 10, 1) if count else 0.0
            else:
                out[acc_id] = total
        return out

    def _drop_stale_stages(self, ex: Execution) -> None:
        still_used: set[int] = set()
        for other in self._live.values():
            if other is not ex:
                still_used |= other.stages
        for stage_id in [s for s in self._stage_metrics if s not in still_used]:
            del self._stage_metrics[stage_id]

    def _maybe_retire(self, ex: Execution) -> None:
        if ex.end_events >= len(ex.jobs) + 1:
            self._drop_stale_stages(ex)
            self._live.pop(ex.execution_id, None)
            ex.live = False

    def finish(self) -> None:
        """End of the log: executions still running get their metrics so far."""
        for ex in self._live.values():
            if ex.metric_values is None:
                ex.metric_values = self._aggregate(ex)

    def execution_list(self) -> list[Execution]:
        return [self.executions[k] for k in sorted(self.executions)]
