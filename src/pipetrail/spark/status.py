"""Application, job, stage and executor figures, computed the way Spark computes them.

:class:`StatusTracker` replays listener events with the semantics of Spark 4's
``AppStatusListener`` (the code behind the Spark UI and the History Server's REST API), so
that its figures equal what ``/api/v1/applications/<id>/{jobs,stages,allexecutors}``
answers for the same log. The quirks are Spark's, kept on purpose:

- a task's metrics count towards its stage only when its ``TaskStart`` was seen;
- a stage's entry is replaced when a later job lists the same stage again;
- for the driver, ``totalDuration`` is the application's run time and ``totalGCTime``
  the driver's peak ``TotalGCTime`` metric (``AppStatusStore.executorList``).

Entities are kept "live" only while they can still change: a finished stage keeps
fixed-size figures, so memory grows with the number of stages, not of tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import add
from sys import intern
from typing import Any

from pipetrail.spark.dates import rest_date
from pipetrail.spark.fields import (
    arr,
    int_list,
    int_or,
    obj,
    opt_int,
    opt_str,
    req_int,
    req_str,
    str_map,
)
from pipetrail.spark.indexset import IndexSet
from pipetrail.spark.taskstats import TaskStats

Json = dict[str, Any]

#: Stage metric fields of the REST API, in the order :func:`task_metrics` returns them.
METRIC_FIELDS = (
    "executorDeserializeTime", "executorDeserializeCpuTime", "executorRunTime",
    "executorCpuTime", "resultSize", "jvmGcTime", "resultSerializationTime",
    "memoryBytesSpilled", "diskBytesSpilled", "peakExecutionMemory", "inputBytes",
    "inputRecords", "outputBytes", "outputRecords", "shuffleRemoteBlocksFetched",
    "shuffleLocalBlocksFetched", "shuffleFetchWaitTime", "shuffleRemoteBytesRead",
    "shuffleRemoteBytesReadToDisk", "shuffleLocalBytesRead", "shuffleReadRecords",
    "shuffleCorruptMergedBlockChunks", "shuffleMergedFetchFallbackCount",
    "shuffleMergedRemoteBlocksFetched", "shuffleMergedLocalBlocksFetched",
    "shuffleMergedRemoteChunksFetched", "shuffleMergedLocalChunksFetched",
    "shuffleMergedRemoteBytesRead", "shuffleMergedLocalBytesRead", "shuffleRemoteReqsDuration",
    "shuffleMergedRemoteReqsDuration", "shuffleWriteBytes", "shuffleWriteTime",
    "shuffleWriteRecords",
)
_I = {name: i for i, name in enumerate(METRIC_FIELDS)}
_GC, _RUN = _I["jvmGcTime"], _I["executorRunTime"]
_IN_BYTES, _SW_BYTES = _I["inputBytes"], _I["shuffleWriteBytes"]
_SR_REMOTE, _SR_LOCAL = _I["shuffleRemoteBytesRead"], _I["shuffleLocalBytesRead"]
_ZERO_METRICS = (0,) * len(METRIC_FIELDS)
_NO_PUSH: Json = {}


def task_metrics(tm: Json) -> list[int]:
    """The ``Task Metrics`` object of a ``TaskEnd`` event as a vector of :data:`METRIC_FIELDS`."""
    g = tm.get
    sr = g("Shuffle Read Metrics") or _NO_PUSH
    push = sr.get("Push Based Shuffle") or _NO_PUSH
    sw = g("Shuffle Write Metrics") or _NO_PUSH
    im = g("Input Metrics") or _NO_PUSH
    om = g("Output Metrics") or _NO_PUSH
    r = sr.get
    p = push.get
    return [
        g("Executor Deserialize Time", 0), g("Executor Deserialize CPU Time", 0),
        g("Executor Run Time", 0), g("Executor CPU Time", 0), g("Result Size", 0),
        g("JVM GC Time", 0), g("Result Serialization Time", 0), g("Memory Bytes Spilled", 0),
        g("Disk Bytes Spilled", 0), g("Peak Execution Memory", 0),
        im.get("Bytes Read", 0), im.get("Records Read", 0),
        om.get("Bytes Written", 0), om.get("Records Written", 0),
        r("Remote Blocks Fetched", 0), r("Local Blocks Fetched", 0), r("Fetch Wait Time", 0),
        r("Remote Bytes Read", 0), r("Remote Bytes Read To Disk", 0), r("Local Bytes Read", 0),
        r("Total Records Read", 0),
        p("Corrupt Merged Block Chunks", 0), p("Merged Fetch Fallback Count", 0),
        p("Merged Remote Blocks Fetched", 0), p("Merged Local Blocks Fetched", 0),
        p("Merged Remote Chunks Fetched", 0), p("Merged Local Chunks Fetched", 0),
        p("Merged Remote Bytes Read", 0), p("Merged Local Bytes Read", 0),
        r("Remote Requests Duration", 0), p("Merged Remote Requests Duration", 0),
        sw.get("Shuffle Bytes Written", 0), sw.get("Shuffle Write Time", 0),
        sw.get("Shuffle Records Written", 0),
    ]


#: Executor metric names of Spark 4.3 (``ExecutorMetricType``), in the REST API's order.
EXECUTOR_METRICS = (
    "JVMHeapMemory", "JVMOffHeapMemory", "OnHeapExecutionMemory", "OffHeapExecutionMemory",
    "OnHeapStorageMemory", "OffHeapStorageMemory", "OnHeapUnifiedMemory",
    "OffHeapUnifiedMemory", "DirectPoolMemory", "MappedPoolMemory", "ProcessTreeJVMVMemory",
    "ProcessTreeJVMRSSMemory", "ProcessTreePythonVMemory", "ProcessTreePythonRSSMemory",
    "ProcessTreeOtherVMemory", "ProcessTreeOtherRSSMemory", "MinorGCCount", "MinorGCTime",
    "MajorGCCount", "MajorGCTime", "TotalGCTime", "ConcurrentGCCount", "ConcurrentGCTime",
)
_GC_TOTAL = EXECUTOR_METRICS.index("TotalGCTime")
_UNSET = [-1] * len(EXECUTOR_METRICS)


_ZEROS = [0] * len(EXECUTOR_METRICS)


def executor_metrics(metrics: Any) -> list[int]:
    """An executor-metrics object as Spark reads it: every known metric, 0 when absent.

    Raises :class:`TypeError` unless it is an object of numbers (or missing).
    """
    if metrics is None:
        return _ZEROS
    if type(metrics) is not dict:
        raise TypeError("executor metrics must be an object")
    if tuple(metrics) == EXECUTOR_METRICS:
        values = list(metrics.values())
    else:
        values = [metrics.get(name, 0) for name in EXECUTOR_METRICS]
    sum(values)  # raises TypeError unless every value is a number
    return values


class Peaks:
    """Element-wise maxima of executor metrics (``ExecutorMetrics.compareAndUpdatePeakValues``)."""

    __slots__ = ("_last", "values")

    def __init__(self) -> None:
        self.values = _UNSET
        self._last: list[int] | None = None

    def update(self, metrics: list[int]) -> None:
        if metrics == self._last:  # same report as last time (common: all zeros in local mode)
            return
        self._last = metrics
        self.values = [a if a >= b else b for a, b in zip(self.values, metrics, strict=True)]

    @property
    def is_set(self) -> bool:
        """Spark's ``isSet``: the first metric (``JVMHeapMemory``) was ever reported."""
        return self.values[0] > -1

    @property
    def total_gc_time(self) -> int:
        return self.values[_GC_TOTAL]

    def to_json(self) -> Json:
        return dict(zip(EXECUTOR_METRICS, self.values, strict=True))


class Job:
    __slots__ = (
        "active_stages", "active_tasks", "completed_indices", "completed_stages",
        "completed_tasks", "completion_time", "description", "failed_stages", "failed_tasks",
        "job_group", "job_id", "job_tags", "killed_summary", "killed_tasks", "name",
        "num_tasks", "skipped_stages", "skipped_tasks", "sql_execution_id", "stage_ids",
        "status", "submission_time",
    )

    def __init__(self, job_id: int, name: str, stage_ids: list[int], num_tasks: int) -> None:
        self.job_id = job_id
        self.name = name
        self.stage_ids = stage_ids
        self.num_tasks = num_tasks
        self.description: str | None = None
        self.submission_time: int | None = None
        self.completion_time: int | None = None
        self.job_group: str | None = None
        self.job_tags: list[str] = []
        self.sql_execution_id: int | None = None
        self.status = "RUNNING"
        self.active_tasks = self.completed_tasks = self.failed_tasks = self.killed_tasks = 0
        self.skipped_tasks = 0
        self.completed_indices: dict[int, IndexSet] = {}
        self.killed_summary: dict[str, int] = {}
        self.skipped_stages: set[int] = set()
        self.completed_stages: set[int] = set()
        self.active_stages = self.failed_stages = 0

    def to_json(self) -> Json:
        data: Json = {"jobId": self.job_id, "name": self.name}
        if self.description is not None:
            data["description"] = self.description
        if self.submission_time is not None:
            data["submissionTime"] = rest_date(self.submission_time)
        if self.completion_time is not None:
            data["completionTime"] = rest_date(self.completion_time)
        data["stageIds"] = list(self.stage_ids)
        if self.job_group is not None:
            data["jobGroup"] = self.job_group
        data["jobTags"] = list(self.job_tags)
        data.update({
            "status": self.status,
            "numTasks": self.num_tasks,
            "numActiveTasks": self.active_tasks,
            "numCompletedTasks": self.completed_tasks,
            "numSkippedTasks": self.skipped_tasks,
            "numFailedTasks": self.failed_tasks,
            "numKilledTasks": self.killed_tasks,
            "numCompletedIndices": sum(len(s) for s in self.completed_indices.values()),
            "numActiveStages": self.active_stages,
            "numCompletedStages": len(self.completed_stages),
            "numSkippedStages": len(self.skipped_stages),
            "numFailedStages": self.failed_stages,
            "killedTasksSummary": dict(self.killed_summary),
            "sqlExecutionId": self.sql_execution_id,
        })
        if self.submission_time is not None and self.completion_time is not None:
            data["duration"] = self.completion_time - self.submission_time
        return data


class StageInfo:
    """The ``Stage Info`` object of an event, checked field by field."""

    __slots__ = (
        "accumulables", "attempt_id", "completion_time", "details", "failure_reason", "name",
        "num_tasks", "push_enabled", "push_mergers", "rdd_ids", "resource_profile_id",
        "stage_id", "submission_time",
    )

    def __init__(self, info: Any) -> None:
        if not isinstance(info, dict):
            raise TypeError("'Stage Info' must be an object")
        self.stage_id = req_int(info, "Stage ID")
        self.attempt_id = int_or(info, "Stage Attempt ID", 0)
        # Interned: stages of a loop repeat the same name and call site many times.
        self.name = intern(opt_str(info, "Stage Name") or "")
        self.num_tasks = int_or(info, "Number of Tasks", 0)
        self.details = intern(opt_str(info, "Details") or "")
        self.rdd_ids = [req_int(rdd, "RDD ID") for rdd in arr(info, "RDD Info")]
        self.submission_time = opt_int(info, "Submission Time")
        self.completion_time = opt_int(info, "Completion Time")
        self.failure_reason = opt_str(info, "Failure Reason")
        self.accumulables = [
            {"id": a.get("ID"), "name": a.get("Name"), "value": str(a.get("Value"))}
            for a in arr(info, "Accumulables")
            if not a.get("Internal") and a.get("Metadata") != "sql"
        ]
        self.resource_profile_id = int_or(info, "Resource Profile Id", 0)
        self.push_enabled = bool(info.get("Shuffle Push Enabled", False))
        self.push_mergers = int_or(info, "Shuffle Push Mergers Count", 0)

    @property
    def key(self) -> tuple[int, int]:
        return self.stage_id, self.attempt_id


class Stage:
    __slots__ = (
        "accumulables",
        "active_tasks",
        "attempt_id",
        "completed_indices",
        "completed_tasks",
        "completion_time",
        "description",
        "details",
        "error_kinds",
        "failed_tasks",
        "failure_reason",
        "first_error",
        "first_launch_time",
        "job_ids",
        "jobs",
        "killed_summary",
        "killed_tasks",
        "metrics",
        "name",
        "num_tasks",
        "peaks",
        "push_enabled",
        "push_mergers",
        "rdd_ids",
        "resource_profile_id",
        "scheduling_pool",
        "stage_id",
        "stats",
        "status",
        "submission_time",
        "summary",
    )

    def __init__(self, info: StageInfo) -> None:
        self.stage_id = info.stage_id
        self.attempt_id = info.attempt_id
        self.set_info(info)
        self.status = "PENDING"
        self.description: str | None = None
        self.scheduling_pool = "default"
        self.jobs: list[Job] = []
        self.job_ids: set[int] = set()
        self.active_tasks = self.completed_tasks = self.failed_tasks = self.killed_tasks = 0
        self.completed_indices = IndexSet(self.num_tasks)
        self.killed_summary: dict[str, int] = {}
        self.first_launch_time: int | None = None
        self.metrics: list[int] = list(_ZERO_METRICS)
        self.peaks = Peaks()
        self.stats: TaskStats | None = TaskStats()
        self.summary: Json | None = None
        self.error_kinds: dict[str, int] = {}
        self.first_error: str | None = None

    def set_info(self, info: StageInfo) -> None:
        self.name = info.name
        self.num_tasks = info.num_tasks
        self.details = info.details
        self.rdd_ids = info.rdd_ids
        self.submission_time = info.submission_time
        self.completion_time = info.completion_time
        self.failure_reason = info.failure_reason
        self.accumulables = info.accumulables
        self.resource_profile_id = info.resource_profile_id
        self.push_enabled = info.push_enabled
        self.push_mergers = info.push_mergers

    def finish(self) -> None:
        """Freeze the task statistics into fixed-size figures and drop the per-task arrays."""
        if self.stats is not None:
            self.summary = self.stats.summary()
            self.stats = None

    def to_json(self) -> Json:
        m = self.metrics
        data: Json = {
            "status": self.status,
            "stageId": self.stage_id,
            "attemptId": self.attempt_id,
            "numTasks": self.num_tasks,
            "numActiveTasks": self.active_tasks,
            "numCompleteTasks": self.completed_tasks,
            "numFailedTasks": self.failed_tasks,
            "numKilledTasks": self.killed_tasks,
            "numCompletedIndices": len(self.completed_indices),
        }
        if self.submission_time is not None:
            data["submissionTime"] = rest_date(self.submission_time)
        if self.first_launch_time is not None:
            data["firstTaskLaunchedTime"] = rest_date(self.first_launch_time)
        if self.completion_time is not None:
            data["completionTime"] = rest_date(self.completion_time)
        if self.failure_reason is not None:
            data["failureReason"] = self.failure_reason
        for i, name in enumerate(METRIC_FIELDS):
            data[name] = m[i]
            if name == "shuffleLocalBytesRead":
                data["shuffleReadBytes"] = m[_SR_LOCAL] + m[_SR_REMOTE]
        data["name"] = self.name
        if self.description is not None:
            data["description"] = self.description
        data.update({
            "details": self.details,
            "schedulingPool": self.scheduling_pool,
            "rddIds": self.rdd_ids,
            "accumulatorUpdates": self.accumulables,
            "killedTasksSummary": dict(self.killed_summary),
            "resourceProfileId": self.resource_profile_id,
        })
        if self.peaks.is_set:
            data["peakExecutorMetrics"] = self.peaks.to_json()
        data["isShufflePushEnabled"] = self.push_enabled
        data["shuffleMergersCount"] = self.push_mergers
        data["jobIds"] = sorted(self.job_ids)
        if self.submission_time is not None and self.completion_time is not None:
            data["duration"] = self.completion_time - self.submission_time
        summary = self.summary if self.summary is not None else (
            self.stats.summary() if self.stats is not None else None)
        data["taskSummary"] = summary
        data["taskErrors"] = {"byReason": dict(self.error_kinds), "first": self.first_error}
        return data


class Executor:
    __slots__ = (
        "active_tasks",
        "add_time",
        "attributes",
        "completed_tasks",
        "excluded_in_stages",
        "executor_id",
        "executor_logs",
        "failed_tasks",
        "host",
        "host_port",
        "is_active",
        "is_excluded",
        "max_memory",
        "max_tasks",
        "peaks",
        "remove_reason",
        "remove_time",
        "resource_profile_id",
        "resources",
        "total_cores",
        "total_duration",
        "total_gc_time",
        "total_input_bytes",
        "total_off_heap",
        "total_on_heap",
        "total_shuffle_read",
        "total_shuffle_write",
        "total_tasks",
    )

    def __init__(self, executor_id: str, add_time: int) -> None:
        self.executor_id = executor_id
        self.add_time = add_time
        self.host_port: str | None = None
        self.host: str | None = None
        self.is_active = True
        self.total_cores = 0
        self.remove_time: int | None = None
        self.remove_reason: str | None = None
        self.max_tasks = 0
        self.max_memory = 0
        self.total_tasks = self.active_tasks = self.completed_tasks = self.failed_tasks = 0
        self.total_duration = self.total_gc_time = self.total_input_bytes = 0
        self.total_shuffle_read = self.total_shuffle_write = 0
        self.is_excluded = False
        self.excluded_in_stages: set[int] = set()
        self.executor_logs: Json = {}
        self.attributes: Json = {}
        self.resources: Json = {}
        self.total_on_heap = -1
        self.total_off_heap = 0
        self.resource_profile_id = 0
        self.peaks = Peaks()

    def to_json(self, app_time: int | None) -> Json:
        total_duration, total_gc = self.total_duration, self.total_gc_time
        if self.executor_id == "driver":
            # AppStatusStore.executorList: the driver's run time is the application's, and
            # its GC time is the peak TotalGCTime metric when metrics were reported.
            if app_time is not None:
                total_duration = app_time
            if self.peaks.is_set:
                total_gc = self.peaks.total_gc_time
        data: Json = {
            "id": self.executor_id,
            "hostPort": self.host_port if self.host_port is not None else self.host,
            "isActive": self.is_active,
            "rddBlocks": 0,
            "memoryUsed": 0,
            "diskUsed": 0,
            "totalCores": self.total_cores,
            "maxTasks": self.max_tasks,
            "activeTasks": self.active_tasks,
            "failedTasks": self.failed_tasks,
            "completedTasks": self.completed_tasks,
            "totalTasks": self.total_tasks,
            "totalDuration": total_duration,
            "totalGCTime": total_gc,
            "totalInputBytes": self.total_input_bytes,
            "totalShuffleRead": self.total_shuffle_read,
            "totalShuffleWrite": self.total_shuffle_write,
            "isBlacklisted": self.is_excluded,
            "maxMemory": self.max_memory,
            "addTime": rest_date(self.add_time),
        }
        if self.remove_time is not None:
            data["removeTime"] = rest_date(self.remove_time)
        if self.remove_reason is not None:
            data["removeReason"] = self.remove_reason
        data["executorLogs"] = self.executor_logs
        if self.total_on_heap >= 0:
            data["memoryMetrics"] = {
                "usedOnHeapStorageMemory": 0, "usedOffHeapStorageMemory": 0,
                "totalOnHeapStorageMemory": self.total_on_heap,
                "totalOffHeapStorageMemory": self.total_off_heap,
            }
        data["blacklistedInStages"] = sorted(self.excluded_in_stages)
        if self.peaks.is_set:
            data["peakMemoryMetrics"] = self.peaks.to_json()
        data.update({
            "attributes": self.attributes,
            "resources": self.resources,
            "resourceProfileId": self.resource_profile_id,
            "isExcluded": self.is_excluded,
            "excludedInStages": sorted(self.excluded_in_stages),
            "taskTime": self.total_duration,
        })
        return data


class StatusTracker:
    """Replays listener events into application/job/stage/executor figures."""

    def __init__(self) -> None:
        self.app_id: str | None = None
        self.app_name: str | None = None
        self.attempt_id: str | None = None
        self.spark_user: str | None = None
        self.spark_version: str | None = None
        self.start_time: int | None = None
        self.end_time: int | None = None
        self.exit_code: int | None = None
        self.last_time: int | None = None
        self.spark_properties: dict[str, str] = {}
        self._default_cpus_per_task = 1
        self._profile_task_cpus: dict[int, int] = {}
        self.live_jobs: dict[int, Job] = {}
        self.jobs: dict[int, Job] = {}
        self.live_stages: dict[tuple[int, int], Stage] = {}
        self.stages: dict[tuple[int, int], Stage] = {}
        self.live_executors: dict[str, Executor] = {}
        self.executors: dict[str, Executor] = {}
        self._live_tasks: dict[int, bool] = {}
        self.handlers: dict[str, Callable[[Json], None]] = {
            "SparkListenerLogStart": self.on_log_start,
            "SparkListenerApplicationStart": self.on_application_start,
            "SparkListenerApplicationEnd": self.on_application_end,
            "SparkListenerEnvironmentUpdate": self.on_environment_update,
            "SparkListenerResourceProfileAdded": self.on_resource_profile_added,
            "SparkListenerExecutorAdded": self.on_executor_added,
            "SparkListenerExecutorRemoved": self.on_executor_removed,
            "SparkListenerBlockManagerAdded": self.on_block_manager_added,
            "SparkListenerJobStart": self.on_job_start,
            "SparkListenerJobEnd": self.on_job_end,
            "SparkListenerStageSubmitted": self.on_stage_submitted,
            "SparkListenerStageCompleted": self.on_stage_completed,
            "SparkListenerTaskStart": self.on_task_start,
            "SparkListenerTaskEnd": self.on_task_end,
            "SparkListenerStageExecutorMetrics": self.on_stage_executor_metrics,
            "SparkListenerExecutorExcluded": self._excluded(True),
            "SparkListenerExecutorBlacklisted": self._excluded(True),
            "SparkListenerExecutorUnexcluded": self._excluded(False),
            "SparkListenerExecutorUnblacklisted": self._excluded(False),
            "SparkListenerExecutorExcludedForStage": self.on_excluded_for_stage,
            "SparkListenerExecutorBlacklistedForStage": self.on_excluded_for_stage,
        }

    # -- application -------------------------------------------------------------------

    def _seen(self, time: int | None) -> None:
        if time is not None and time > 0 and (self.last_time is None or time > self.last_time):
            self.last_time = time

    def on_log_start(self, e: Json) -> None:
        self.spark_version = opt_str(e, "Spark Version")

    def on_application_start(self, e: Json) -> None:
        app_id, name = opt_str(e, "App ID"), opt_str(e, "App Name")
        attempt, user = opt_str(e, "App Attempt ID"), opt_str(e, "User")
        start = req_int(e, "Timestamp")
        logs, attributes = str_map(e, "Driver Logs"), str_map(e, "Driver Attributes")
        self.app_id, self.app_name, self.attempt_id, self.spark_user = app_id, name, attempt, user
        self.start_time = start
        self._seen(start)
        driver = self.live_executors.get("driver")
        if driver is not None and logs:
            driver.executor_logs = logs
            driver.attributes = attributes

    def on_application_end(self, e: Json) -> None:
        end, code = req_int(e, "Timestamp"), opt_int(e, "ExitCode")
        self.end_time, self.exit_code = end, code
        self._seen(end)

    def on_environment_update(self, e: Json) -> None:
        raw = e.get("Spark Properties")
        if isinstance(raw, list):  # old logs wrote [key, value] pairs
            props = {str(pair[0]): str(pair[1]) for pair in raw}
        else:
            props = str_map(e, "Spark Properties")
        self.spark_properties = props
        cpus = props.get("spark.task.cpus", "").strip()
        if cpus.isascii() and cpus.isdigit() and int(cpus) > 0:
            self._default_cpus_per_task = int(cpus)

    def on_resource_profile_added(self, e: Json) -> None:
        profile = int_or(e, "Resource Profile Id", 0)
        cpus = obj(obj(e, "Task Resource Requests"), "cpus").get("Amount")
        if isinstance(cpus, (int, float)) and int(cpus) > 0:
            self._profile_task_cpus[profile] = int(cpus)

    # -- executors ---------------------------------------------------------------------

    def _executor(self, executor_id: str, add_time: int) -> Executor:
        ex = self.live_executors.get(executor_id)
        if ex is None:
            ex = Executor(executor_id, add_time)
            self.live_executors[executor_id] = ex
            self.executors[executor_id] = ex
        return ex

    def on_executor_added(self, e: Json) -> None:
        executor_id, time = req_str(e, "Executor ID"), int_or(e, "Timestamp", 0)
        info = obj(e, "Executor Info")
        host, cores = opt_str(info, "Host"), int_or(info, "Total Cores", 0)
        profile = int_or(info, "Resource Profile Id", 0)
        logs, attributes = str_map(info, "Log Urls"), str_map(info, "Attributes")
        resources = obj(info, "Resources")
        ex = self._executor(executor_id, time)
        self._seen(time)
        ex.host = host
        ex.is_active = True
        ex.total_cores = cores
        cpus = self._profile_task_cpus.get(profile, self._default_cpus_per_task)
        ex.max_tasks = cores // cpus
        ex.executor_logs, ex.attributes, ex.resources = logs, attributes, resources
        ex.resource_profile_id = profile

    def on_executor_removed(self, e: Json) -> None:
        executor_id, time = req_str(e, "Executor ID"), opt_int(e, "Timestamp")
        reason = opt_str(e, "Removed Reason")
        ex = self.live_executors.pop(executor_id, None)
        self._seen(time)
        if ex is not None:
            ex.is_active = False
            ex.remove_time = time
            ex.remove_reason = reason

    def on_block_manager_added(self, e: Json) -> None:
        bm = obj(e, "Block Manager ID")
        executor_id, time = req_str(bm, "Executor ID"), int_or(e, "Timestamp", 0)
        host_port = f"{bm.get('Host')}:{bm.get('Port')}"
        on_heap = opt_int(e, "Maximum Onheap Memory")
        off_heap = opt_int(e, "Maximum Offheap Memory")
        max_memory = int_or(e, "Maximum Memory", 0)
        ex = self._executor(executor_id, time)
        ex.host_port = host_port
        if on_heap is not None:
            ex.total_on_heap = on_heap
            ex.total_off_heap = off_heap or 0
        ex.is_active = True
        ex.max_memory = max_memory

    def _excluded(self, excluded: bool) -> Callable[[Json], None]:
        def handle(e: Json) -> None:
            ex = self.live_executors.get(str(e.get("executorId", e.get("Executor ID", ""))))
            if ex is not None:
                ex.is_excluded = excluded
        return handle

    def on_excluded_for_stage(self, e: Json) -> None:
        stage_id = e.get("stageId", e.get("Stage ID"))
        if type(stage_id) is not int:
            raise TypeError("the stage id must be an integer")
        ex = self.live_executors.get(str(e.get("executorId", e.get("Executor ID", ""))))
        if ex is not None:
            ex.excluded_in_stages.add(stage_id)

    # -- jobs and stages ---------------------------------------------------------------

    def _stage(self, info: StageInfo) -> Stage:
        stage = self.live_stages.get(info.key)
        if stage is None:
            stage = Stage(info)
            self.live_stages[info.key] = stage
            self.stages[info.key] = stage  # a later job listing the stage again replaces it
        else:
            stage.set_info(info)
        return stage

    def on_job_start(self, e: Json) -> None:
        job_id = req_int(e, "Job ID")
        infos = [StageInfo(i) for i in arr(e, "Stage Infos")]
        stage_ids = int_list(e, "Stage IDs") or [i.stage_id for i in infos]
        props = obj(e, "Properties")
        time = opt_int(e, "Submission Time")
        description, group = opt_str(props, "spark.job.description"), opt_str(props,
                                                                               "spark.jobGroup.id")
        tags = opt_str(props, "spark.job.tags")
        raw_sql_id = opt_str(props, "spark.sql.execution.id")
        sql_id = int(raw_sql_id) if raw_sql_id is not None else None
        num_tasks = sum(i.num_tasks for i in infos if i.completion_time is None)
        last = max(infos, key=lambda i: i.stage_id, default=None)
        job = Job(job_id, last.name if last else "", stage_ids, num_tasks)
        job.submission_time = time if time is not None and time > 0 else None
        job.description, job.job_group = description, group
        job.job_tags = sorted({t for t in tags.split(",") if t}) if tags else []
        job.sql_execution_id = sql_id
        self._seen(time)
        self.live_jobs[job_id] = job
        self.jobs[job_id] = job
        for info in infos:
            stage = self._stage(info)
            stage.jobs.append(job)
            stage.job_ids.add(job_id)

    def on_job_end(self, e: Json) -> None:
        job_id, time = req_int(e, "Job ID"), opt_int(e, "Completion Time")
        result = obj(e, "Job Result").get("Result")
        job = self.live_jobs.pop(job_id, None)
        self._seen(time)
        if job is None:
            return
        stage_ids = set(job.stage_ids)
        for key, stage in list(self.live_stages.items()):
            if key[0] in stage_ids and stage.status == "PENDING":
                stage.status = "SKIPPED"
                job.skipped_stages.add(key[0])
                job.skipped_tasks += stage.num_tasks
                del self.live_stages[key]
                stage.finish()
        job.status = "SUCCEEDED" if result == "JobSucceeded" else "FAILED"
        job.completion_time = time if time is not None and time > 0 else None

    def on_stage_submitted(self, e: Json) -> None:
        info = StageInfo(e.get("Stage Info"))
        props = obj(e, "Properties")
        pool, description = opt_str(props, "spark.scheduler.pool"), opt_str(
            props, "spark.job.description")
        stage = self._stage(info)
        stage.status = "ACTIVE"
        stage.scheduling_pool = pool or "default"
        sid = stage.stage_id
        stage.jobs = [j for j in self.live_jobs.values() if sid in j.stage_ids]
        stage.job_ids = {j.job_id for j in stage.jobs}
        stage.description = description
        for job in stage.jobs:
            job.completed_stages.discard(sid)
            job.active_stages += 1
        self._seen(info.submission_time)

    def on_stage_completed(self, e: Json) -> None:
        info = StageInfo(e.get("Stage Info"))
        stage = self.live_stages.get(info.key)
        self._seen(info.completion_time)
        if stage is None:
            return
        stage.set_info(info)
        if stage.failure_reason is not None:
            stage.status = "FAILED"
        elif stage.submission_time is not None:
            stage.status = "COMPLETE"
        else:
            stage.status = "SKIPPED"
        for job in stage.jobs:
            if stage.status == "COMPLETE":
                job.completed_stages.add(stage.stage_id)
            elif stage.status == "SKIPPED":
                job.skipped_stages.add(stage.stage_id)
                job.skipped_tasks += stage.num_tasks
            else:
                job.failed_stages += 1
            job.active_stages -= 1
        if stage.active_tasks == 0:
            del self.live_stages[info.key]
            stage.finish()

    def on_stage_executor_metrics(self, e: Json) -> None:
        metrics = executor_metrics(e.get("Executor Metrics"))
        key = (req_int(e, "Stage ID"), int_or(e, "Stage Attempt ID", 0))
        ex = self.executors.get(opt_str(e, "Executor ID") or "")
        if ex is not None:
            ex.peaks.update(metrics)
        stage = self.live_stages.get(key)
        if stage is not None:
            stage.peaks.update(metrics)

    # -- tasks -------------------------------------------------------------------------

    def on_task_start(self, e: Json) -> None:
        key = (req_int(e, "Stage ID"), int_or(e, "Stage Attempt ID", 0))
        info = obj(e, "Task Info")
        task_id, launch = req_int(info, "Task ID"), int_or(info, "Launch Time", 0)
        executor_id = opt_str(info, "Executor ID") or ""
        self._live_tasks[task_id] = True
        stage = self.live_stages.get(key)
        if stage is not None:
            stage.active_tasks += 1
            if stage.first_launch_time is None or launch < stage.first_launch_time:
                stage.first_launch_time = launch
            for job in stage.jobs:
                job.active_tasks += 1
        ex = self.live_executors.get(executor_id)
        if ex is not None:
            ex.active_tasks += 1
            ex.total_tasks += 1

    def on_task_end(self, e: Json) -> None:
        # Read and check everything first: a bad field must not leave half an update.
        # (Inline checks: this runs once per task, the hottest path of the analysis.)
        key = (e["Stage ID"], e.get("Stage Attempt ID", 0))
        info = e["Task Info"]
        task_id, index = info["Task ID"], info.get("Index", -1)
        finish, launch = info.get("Finish Time", 0), info.get("Launch Time", 0)
        if (type(key[0]) is not int or type(key[1]) is not int or type(task_id) is not int
                or type(index) is not int or type(finish) is not int
                or type(launch) is not int):
            raise TypeError("ids and times of a TaskEnd event must be integers")
        executor_id = info.get("Executor ID", "")
        end = e.get("Task End Reason") or {}
        reason = end.get("Reason", "Success")
        if type(executor_id) is not str or type(reason) is not str:
            raise TypeError("executor id and end reason of a TaskEnd event must be strings")
        tm = e.get("Task Metrics")
        vec = task_metrics(tm) if tm else None
        if vec is not None:
            sum(vec)  # every figure must be a number
        task_em = executor_metrics(e.get("Task Executor Metrics"))
        duration = finish - launch if finish else 0
        if reason == "Success":
            done, failed = 1, 0
        elif reason in ("TaskKilled", "TaskCommitDenied"):
            done, failed = 0, 0
        else:
            done, failed = 0, 1

        started = self._live_tasks.pop(task_id, None) is not None
        self._seen(finish)
        stage = self.live_stages.get(key)
        if stage is not None:
            if started and vec is not None:
                stage.metrics = list(map(add, stage.metrics, vec))
            stage.active_tasks -= 1
            if done:
                stage.completed_tasks += 1
                stage.completed_indices.add(index)
            elif failed:
                stage.failed_tasks += 1
                self._task_error(stage, reason, end)
            else:
                stage.killed_tasks += 1
                _count_killed(stage.killed_summary, reason, end)
            stage.peaks.update(task_em)
            for job in stage.jobs:
                job.active_tasks -= 1
                if done:
                    job.completed_tasks += 1
                    bits = job.completed_indices.get(stage.stage_id)
                    if bits is None:
                        bits = job.completed_indices[stage.stage_id] = IndexSet(stage.num_tasks)
                    bits.add(index)
                elif failed:
                    job.failed_tasks += 1
                else:
                    job.killed_tasks += 1
                    _count_killed(job.killed_summary, reason, end)
            if started and stage.stats is not None:
                data = vec[_IN_BYTES] + vec[_SR_LOCAL] + vec[_SR_REMOTE] if vec else 0
                stage.stats.add(duration, bool(done), bool(done) and vec is not None,
                                task_id, index, executor_id, data)
            if stage.active_tasks == 0 and stage.status in ("COMPLETE", "FAILED"):
                del self.live_stages[key]
                stage.finish()

        ex = self.live_executors.get(executor_id)
        if ex is not None:
            ex.active_tasks -= 1
            ex.completed_tasks += done
            ex.failed_tasks += failed
            ex.peaks.update(task_em)
            if reason != "Resubmitted":
                ex.total_duration += duration
                if vec is not None:
                    ex.total_gc_time += vec[_GC]
                    ex.total_input_bytes += vec[_IN_BYTES]
                    ex.total_shuffle_read += vec[_SR_LOCAL] + vec[_SR_REMOTE]
                    ex.total_shuffle_write += vec[_SW_BYTES]

    @staticmethod
    def _task_error(stage: Stage, reason: str, end: Json) -> None:
        stage.error_kinds[reason] = stage.error_kinds.get(reason, 0) + 1
        if stage.first_error is None:
            if reason == "ExceptionFailure":
                text = f"{end.get('Class Name', '')}: {end.get('Description', '')}"
            elif reason == "FetchFailed":
                text = f"FetchFailed: {end.get('Message', '')}"
            elif reason == "ExecutorLostFailure":
                text = f"ExecutorLostFailure: {end.get('Loss Reason', '')}"
            else:
                text = reason
            stage.first_error = text[:2000]

    # -- results -----------------------------------------------------------------------

    def finish(self) -> None:
        """Freeze every stage still live (end of the log)."""
        for stage in self.live_stages.values():
            stage.finish()

    @property
    def completed(self) -> bool:
        return self.end_time is not None

    def app_time(self) -> int | None:
        """Run time as the REST API uses it for the driver (to the last event when running)."""
        if self.start_time is None:
            return None
        end = self.end_time if self.end_time is not None else self.last_time
        return None if end is None else end - self.start_time

    def stage_list(self) -> list[Json]:
        return [self.stages[k].to_json() for k in sorted(self.stages)]

    def job_list(self) -> list[Json]:
        return [self.jobs[k].to_json() for k in sorted(self.jobs)]

    def executor_list(self) -> list[Json]:
        app_time = self.app_time()

        def order(ex: Executor) -> tuple[int, int, str]:
            eid = ex.executor_id
            number = int(eid) if eid.isascii() and eid.isdigit() else 1 << 62
            return (0 if eid == "driver" else 1, number, eid)

        return [ex.to_json(app_time) for ex in sorted(self.executors.values(), key=order)]


def _count_killed(summary: dict[str, int], reason: str, end: Json) -> None:
    if reason == "TaskKilled":
        key = str(end.get("Kill Reason", "unknown reason"))
    elif reason == "TaskCommitDenied":
        key = (f"TaskCommitDenied (Driver denied task commit) for job: {end.get('Job ID')}, "
               f"partition: {end.get('Partition ID')}, "
               f"attemptNumber: {end.get('Attempt Number')}")
    else:
        return
    summary[key] = summary.get(key, 0) + 1
