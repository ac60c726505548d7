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
from typing import Any

from pipetrail.spark.dates import rest_date
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


class Peaks:
    """Element-wise maxima of executor metrics (``ExecutorMetrics.compareAndUpdatePeakValues``)."""

    __slots__ = ("names", "values")

    def __init__(self) -> None:
        self.names: tuple[str, ...] = ()
        self.values: list[int] = []

    def update(self, metrics: Json) -> None:
        names = tuple(metrics)
        if names == self.names:
            self.values = list(map(max, self.values, metrics.values()))
            return
        merged = dict(zip(self.names, self.values, strict=True))
        for name, value in metrics.items():
            if isinstance(value, int) and value > merged.get(name, -1):
                merged[name] = value
            else:
                merged.setdefault(name, -1)
        self.names = tuple(merged)
        self.values = list(merged.values())

    @property
    def is_set(self) -> bool:
        """Spark's ``isSet``: the first metric (``JVMHeapMemory``) was ever reported."""
        return bool(self.values) and self.values[0] > -1

    def get(self, name: str) -> int | None:
        try:
            return self.values[self.names.index(name)]
        except ValueError:
            return None

    def to_json(self) -> Json:
        return dict(zip(self.names, self.values, strict=True))


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

    def __init__(self, info: Json) -> None:
        self.stage_id: int = info["Stage ID"]
        self.attempt_id: int = info.get("Stage Attempt ID", 0)
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

    def set_info(self, info: Json) -> None:
        self.name: str = info.get("Stage Name", "")
        self.num_tasks: int = info.get("Number of Tasks", 0)
        self.details: str = info.get("Details", "")
        self.rdd_ids = [rdd.get("RDD ID") for rdd in info.get("RDD Info") or ()]
        self.submission_time: int | None = info.get("Submission Time")
        self.completion_time: int | None = info.get("Completion Time")
        self.failure_reason: str | None = info.get("Failure Reason")
        self.accumulables = [
            {"id": a.get("ID"), "name": a.get("Name"), "value": str(a.get("Value"))}
            for a in info.get("Accumulables") or ()
            if not a.get("Internal") and a.get("Metadata") != "sql"
        ]
        self.resource_profile_id: int = info.get("Resource Profile Id", 0)
        self.push_enabled: bool = info.get("Shuffle Push Enabled", False)
        self.push_mergers: int = info.get("Shuffle Push Mergers Count", 0)

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
        "task_time",
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
        self.task_time = 0
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
                total_gc = self.peaks.get("TotalGCTime") or 0
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
            "taskTime": self.task_time,
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

    def _seen(self, time: Any) -> None:
        if isinstance(time, int) and time > 0 and (self.last_time is None or time > self.last_time):
            self.last_time = time

    def on_log_start(self, e: Json) -> None:
        self.spark_version = e.get("Spark Version")

    def on_application_start(self, e: Json) -> None:
        self.app_id = e.get("App ID")
        self.app_name = e.get("App Name")
        self.attempt_id = e.get("App Attempt ID")
        self.start_time = e["Timestamp"]
        self.spark_user = e.get("User")
        self._seen(self.start_time)
        driver = self.live_executors.get("driver")
        if driver is not None and e.get("Driver Logs"):
            driver.executor_logs = dict(e["Driver Logs"])
            driver.attributes = dict(e.get("Driver Attributes") or {})

    def on_application_end(self, e: Json) -> None:
        self.end_time = e["Timestamp"]
        self.exit_code = e.get("ExitCode")
        self._seen(self.end_time)

    def on_environment_update(self, e: Json) -> None:
        props = e.get("Spark Properties") or {}
        if isinstance(props, list):  # logs before Spark 3.? stored [key, value] pairs
            props = {k: v for k, v in props}
        self.spark_properties = {str(k): str(v) for k, v in props.items()}
        cpus = self.spark_properties.get("spark.task.cpus")
        if cpus is not None and cpus.strip().isdigit():
            self._default_cpus_per_task = int(cpus)

    def on_resource_profile_added(self, e: Json) -> None:
        cpus = ((e.get("Task Resource Requests") or {}).get("cpus") or {}).get("Amount")
        if isinstance(cpus, (int, float)) and int(cpus) > 0:
            self._profile_task_cpus[e.get("Resource Profile Id", 0)] = int(cpus)

    # -- executors ---------------------------------------------------------------------

    def _executor(self, executor_id: str, add_time: int) -> Executor:
        ex = self.live_executors.get(executor_id)
        if ex is None:
            ex = Executor(executor_id, add_time)
            self.live_executors[executor_id] = ex
            self.executors[executor_id] = ex
        return ex

    def on_executor_added(self, e: Json) -> None:
        info = e.get("Executor Info") or {}
        ex = self._executor(e["Executor ID"], e.get("Timestamp", 0))
        self._seen(e.get("Timestamp"))
        ex.host = info.get("Host")
        ex.is_active = True
        ex.total_cores = info.get("Total Cores", 0)
        rp_id = info.get("Resource Profile Id", 0)
        cpus = self._profile_task_cpus.get(rp_id, self._default_cpus_per_task)
        ex.max_tasks = ex.total_cores // cpus if cpus > 0 else ex.total_cores
        ex.executor_logs = dict(info.get("Log Urls") or {})
        ex.resources = dict(info.get("Resources") or {})
        ex.attributes = dict(info.get("Attributes") or {})
        ex.resource_profile_id = rp_id

    def on_executor_removed(self, e: Json) -> None:
        ex = self.live_executors.pop(e["Executor ID"], None)
        self._seen(e.get("Timestamp"))
        if ex is not None:
            ex.is_active = False
            ex.remove_time = e.get("Timestamp")
            ex.remove_reason = e.get("Removed Reason")

    def on_block_manager_added(self, e: Json) -> None:
        bm = e["Block Manager ID"]
        ex = self._executor(bm["Executor ID"], e.get("Timestamp", 0))
        ex.host_port = f"{bm.get('Host')}:{bm.get('Port')}"
        if e.get("Maximum Onheap Memory") is not None:
            ex.total_on_heap = e["Maximum Onheap Memory"]
            ex.total_off_heap = e.get("Maximum Offheap Memory") or 0
        ex.is_active = True
        ex.max_memory = e.get("Maximum Memory", 0)

    def _excluded(self, excluded: bool) -> Callable[[Json], None]:
        def handle(e: Json) -> None:
            ex = self.live_executors.get(str(e.get("executorId", e.get("Executor ID", ""))))
            if ex is not None:
                ex.is_excluded = excluded
        return handle

    def on_excluded_for_stage(self, e: Json) -> None:
        ex = self.live_executors.get(str(e.get("executorId", e.get("Executor ID", ""))))
        if ex is not None:
            ex.excluded_in_stages.add(int(e.get("stageId", e.get("Stage ID")) or 0))

    # -- jobs and stages ---------------------------------------------------------------

    def _stage(self, info: Json) -> Stage:
        key = (info["Stage ID"], info.get("Stage Attempt ID", 0))
        stage = self.live_stages.get(key)
        if stage is None:
            stage = Stage(info)
            self.live_stages[key] = stage
            self.stages[key] = stage  # a later job listing the stage again replaces it
        else:
            stage.set_info(info)
        return stage

    def on_job_start(self, e: Json) -> None:
        infos = e.get("Stage Infos") or []
        props = e.get("Properties") or {}
        num_tasks = sum(i.get("Number of Tasks", 0) for i in infos if "Completion Time" not in i)
        last = max(infos, key=lambda i: i["Stage ID"], default=None)
        job = Job(e["Job ID"], last.get("Stage Name", "") if last else "",
                  list(e.get("Stage IDs") or [i["Stage ID"] for i in infos]), num_tasks)
        time = e.get("Submission Time")
        job.submission_time = time if isinstance(time, int) and time > 0 else None
        self._seen(time)
        job.description = props.get("spark.job.description")
        job.job_group = props.get("spark.jobGroup.id")
        tags = props.get("spark.job.tags")
        job.job_tags = sorted({t for t in tags.split(",") if t}) if tags else []
        sql_id = props.get("spark.sql.execution.id")
        job.sql_execution_id = int(sql_id) if sql_id is not None else None
        self.live_jobs[job.job_id] = job
        self.jobs[job.job_id] = job
        for info in infos:
            stage = self._stage(info)
            stage.jobs.append(job)
            stage.job_ids.add(job.job_id)

    def on_job_end(self, e: Json) -> None:
        job = self.live_jobs.pop(e["Job ID"], None)
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
        result = (e.get("Job Result") or {}).get("Result")
        job.status = "SUCCEEDED" if result == "JobSucceeded" else "FAILED"
        time = e.get("Completion Time")
        job.completion_time = time if isinstance(time, int) and time > 0 else None
        self._seen(time)

    def on_stage_submitted(self, e: Json) -> None:
        info = e["Stage Info"]
        props = e.get("Properties") or {}
        stage = self._stage(info)
        stage.status = "ACTIVE"
        stage.scheduling_pool = props.get("spark.scheduler.pool") or "default"
        sid = stage.stage_id
        stage.jobs = [j for j in self.live_jobs.values() if sid in j.stage_ids]
        stage.job_ids = {j.job_id for j in stage.jobs}
        stage.description = props.get("spark.job.description")
        for job in stage.jobs:
            job.completed_stages.discard(sid)
            job.active_stages += 1
        self._seen(info.get("Submission Time"))

    def on_stage_completed(self, e: Json) -> None:
        info = e["Stage Info"]
        key = (info["Stage ID"], info.get("Stage Attempt ID", 0))
        stage = self.live_stages.get(key)
        self._seen(info.get("Completion Time"))
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
            del self.live_stages[key]
            stage.finish()

    def on_stage_executor_metrics(self, e: Json) -> None:
        metrics = e.get("Executor Metrics") or {}
        ex = self.executors.get(e.get("Executor ID", ""))
        if ex is not None:
            ex.peaks.update(metrics)
        stage = self.live_stages.get((e.get("Stage ID", -1), e.get("Stage Attempt ID", 0)))
        if stage is not None:
            stage.peaks.update(metrics)

    # -- tasks -------------------------------------------------------------------------

    def on_task_start(self, e: Json) -> None:
        info = e["Task Info"]
        self._live_tasks[info["Task ID"]] = True
        stage = self.live_stages.get((e["Stage ID"], e.get("Stage Attempt ID", 0)))
        if stage is not None:
            stage.active_tasks += 1
            launch = info.get("Launch Time", 0)
            if stage.first_launch_time is None or launch < stage.first_launch_time:
                stage.first_launch_time = launch
            for job in stage.jobs:
                job.active_tasks += 1
        ex = self.live_executors.get(info.get("Executor ID", ""))
        if ex is not None:
            ex.active_tasks += 1
            ex.total_tasks += 1

    def on_task_end(self, e: Json) -> None:
        info = e["Task Info"]
        task_id = info["Task ID"]
        reason = (e.get("Task End Reason") or {}).get("Reason", "Success")
        tm = e.get("Task Metrics")
        started = self._live_tasks.pop(task_id, None) is not None
        vec = task_metrics(tm) if tm else None
        finish = info.get("Finish Time", 0)
        duration = finish - info.get("Launch Time", 0) if finish else 0
        self._seen(finish)
        if reason == "Success":
            done, failed = 1, 0
        elif reason in ("TaskKilled", "TaskCommitDenied"):
            done, failed = 0, 0
        else:
            done, failed = 0, 1
        executor_id = info.get("Executor ID", "")
        task_em = e.get("Task Executor Metrics")

        stage = self.live_stages.get((e["Stage ID"], e.get("Stage Attempt ID", 0)))
        if stage is not None:
            if started and vec is not None:
                stage.metrics = [a + b for a, b in zip(stage.metrics, vec, strict=True)]
            stage.active_tasks -= 1
            index = info.get("Index", -1)
            if done:
                stage.completed_tasks += 1
                stage.completed_indices.add(index)
            elif failed:
                stage.failed_tasks += 1
                self._task_error(stage, reason, e.get("Task End Reason") or {})
            else:
                stage.killed_tasks += 1
                _count_killed(stage.killed_summary, reason, e.get("Task End Reason") or {})
            if task_em:
                stage.peaks.update(task_em)
            task_index = (stage.stage_id << 32) | index if index >= 0 else -1
            for job in stage.jobs:
                job.active_tasks -= 1
                if done:
                    job.completed_tasks += 1
                    bits = job.completed_indices.get(stage.stage_id)
                    if bits is None:
                        bits = job.completed_indices[stage.stage_id] = IndexSet(stage.num_tasks)
                    if task_index >= 0:
                        bits.add(index)
                elif failed:
                    job.failed_tasks += 1
                else:
                    job.killed_tasks += 1
                    _count_killed(job.killed_summary, reason, e.get("Task End Reason") or {})
            if started and stage.stats is not None:
                data = vec[_IN_BYTES] + vec[_SR_LOCAL] + vec[_SR_REMOTE] if vec else 0
                stage.stats.add(duration, bool(done), bool(done) and vec is not None,
                                task_id, index, executor_id, data)
            if stage.active_tasks == 0 and stage.status in ("COMPLETE", "FAILED"):
                del self.live_stages[(stage.stage_id, stage.attempt_id)]
                stage.finish()

        ex = self.live_executors.get(executor_id)
        if ex is not None:
            ex.active_tasks -= 1
            ex.completed_tasks += done
            ex.failed_tasks += failed
            if task_em:
                ex.peaks.update(task_em)
            if reason != "Resubmitted":
                ex.total_duration += duration
                ex.task_time += duration
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
            return (0 if eid == "driver" else 1, int(eid) if eid.isdigit() else 1 << 62, eid)

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
