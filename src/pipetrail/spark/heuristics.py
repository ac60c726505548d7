"""Built-in heuristics of ``pipetrail spark analyze``.

Each is a small function over the report, marked with
:func:`~pipetrail.spark.findings.heuristic` like any user-supplied one. Thresholds are
module constants so that they are documented in one place (``docs/spark.md``) and can be
read by tests; where Spark or AWS Glue documents a threshold, it is reused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pipetrail.spark.findings import Finding, Severity, heuristic
from pipetrail.spark.plan import DatasetRead

if TYPE_CHECKING:
    from pipetrail.spark.analysis import SparkReport

Json = dict[str, Any]
MiB = 1 << 20
GiB = 1 << 30
MAX_LISTED = 10

#: Glue's skewness factor: a stage is skewed when its slowest task takes this many times
#: the median task (``glue.driver.skewness.stage`` is 0 below it, 1 at twice it).
SKEW_FACTOR = 5.0
#: ... and the slowest task takes at least this long (shorter stages are not worth it).
SKEW_MIN_MAX_TASK_MS = 5_000
#: Data is "also skewed" when the largest task read this many times the median task.
DATA_SKEW_FACTOR = 2.0
#: Straggler: Spark's speculation rule (``spark.speculation.multiplier``) ...
STRAGGLER_FACTOR = 1.5
#: ... with at least this much extra time, and no more than this share of extra data.
STRAGGLER_MIN_EXTRA_MS = 5_000
STRAGGLER_MAX_DATA_FACTOR = 1.5
#: Any disk spill is reported; these sizes raise the severity.
SPILL_MEDIUM_BYTES = 100 * MiB
SPILL_HIGH_BYTES = GiB
#: GC pressure: the Spark UI marks GC time red above 10 % of task time.
GC_RATIO = 0.10
GC_HIGH_RATIO = 0.25
GC_MIN_RUN_MS = 10_000
#: Idle cores: less than this share of executor core time ran tasks ...
IDLE_MAX_UTILISATION = 0.5
#: ... and at least this much core time was idle.
IDLE_MIN_CORE_SECONDS = 300.0
#: Too many small tasks: this many tasks with a median under this duration
#: (Spark's tuning guide: tasks should take at least ~100 ms).
SMALL_TASKS_MIN_COUNT = 100
SMALL_TASK_MEDIAN_MS = 100.0
#: Shuffle-heavy: this much shuffle (read + write) and more than its input ...
SHUFFLE_HEAVY_BYTES = GiB
SHUFFLE_INPUT_FACTOR = 2.0
#: ... or tasks waiting this share of their run time on shuffle fetches.
SHUFFLE_WAIT_RATIO = 0.2
SHUFFLE_WAIT_MIN_RUN_MS = 10_000
#: Small files: at least this many files averaging under this size.
SMALL_FILES_MIN_COUNT = 20
SMALL_FILE_BYTES = 16 * MiB
SMALL_FILES_MEDIUM_COUNT = 1_000
#: Dominant stage: one stage takes this share of a job's wall-clock time ...
DOMINANT_SHARE = 0.8
#: ... in a job of at least two run stages lasting at least this long.
DOMINANT_MIN_JOB_MS = 30_000
#: File formats whose readers accept pushed-down filters.
PUSHDOWN_FORMATS = {"Parquet", "ORC", "CSV", "JSON", "Avro"}


def _stage_ref(stage: Json) -> Json:
    return {"stageId": stage["stageId"], "attemptId": stage["attemptId"],
            "name": stage.get("name", "")}


def _run_stages(report: SparkReport) -> Iterator[Json]:
    for stage in report.stages:
        if stage.get("status") in ("COMPLETE", "FAILED", "ACTIVE"):
            yield stage


def _summary(stage: Json) -> Json:
    summary = stage.get("taskSummary")
    return summary if isinstance(summary, dict) else {}


@heuristic("skewed-stage", "A few tasks of a stage take far longer than the median task")
def skewed_stages(report: SparkReport) -> Iterator[Finding]:
    listed = []
    for stage in _run_stages(report):
        s = _summary(stage)
        ratio, q = s.get("skewRatio"), s.get("duration") or []
        if ratio is None or len(q) != 5 or s.get("count", 0) < 2:
            continue
        data_ratio = s.get("dataSkewRatio")
        if (ratio >= SKEW_FACTOR and q[4] >= SKEW_MIN_MAX_TASK_MS
                and (data_ratio is None or data_ratio >= DATA_SKEW_FACTOR)):
            listed.append({**_stage_ref(stage), "medianTaskMs": q[2], "maxTaskMs": q[4],
                           "skewRatio": ratio, "dataSkewRatio": data_ratio,
                           "tasks": s.get("count")})
    if not listed:
        return
    listed.sort(key=lambda x: x["maxTaskMs"] - x["medianTaskMs"], reverse=True)
    worst = max(x["skewRatio"] for x in listed)
    severity: Severity = "high" if worst >= 2 * SKEW_FACTOR else "medium"
    yield Finding(
        "skewed-stage", severity,
        f"{len(listed)} stage(s) with skewed tasks (slowest task up to {worst:g}x the median)",
        {"stageIds": [x["stageId"] for x in listed], "stages": listed[:MAX_LISTED],
         "skewFactor": SKEW_FACTOR},
        "The slowest tasks process much more data than the others: a hot key or uneven "
        "partitions. Enable adaptive skew handling (spark.sql.adaptive.enabled and "
        "spark.sql.adaptive.skewJoin.enabled), salt the hot join/aggregation key, or "
        "repartition on a column with more distinct values.")


@heuristic("straggler-tasks", "Tasks much slower than their peers without more data to process")
def stragglers(report: SparkReport) -> Iterator[Finding]:
    listed = []
    executors: dict[str, int] = {}
    for stage in _run_stages(report):
        s = _summary(stage)
        q, b = s.get("duration") or [], s.get("bytesProcessed") or []
        if len(q) != 5 or len(b) != 5 or s.get("count", 0) < 3 or q[2] <= 0:
            continue
        median, median_bytes = q[2], b[2]
        slow = [t for t in s.get("slowestTasks") or []
                if t["duration"] >= STRAGGLER_FACTOR * median
                and t["duration"] - median >= STRAGGLER_MIN_EXTRA_MS
                and t["bytesProcessed"] <= STRAGGLER_MAX_DATA_FACTOR * max(median_bytes, 1)]
        if slow:
            for t in slow:
                executors[t["executorId"]] = executors.get(t["executorId"], 0) + 1
            listed.append({**_stage_ref(stage), "medianTaskMs": median,
                           "medianTaskBytes": median_bytes, "tasks": slow})
    if not listed:
        return
    count = sum(len(x["tasks"]) for x in listed)
    hot = sorted(executors.items(), key=lambda kv: kv[1], reverse=True)
    yield Finding(
        "straggler-tasks", "medium" if count >= 3 else "low",
        f"{count} straggler task(s) in {len(listed)} stage(s)",
        {"stageIds": [x["stageId"] for x in listed], "stages": listed[:MAX_LISTED],
         "executors": [{"executorId": e, "stragglers": n} for e, n in hot[:MAX_LISTED]]},
        "These tasks ran much longer than the median with no more data, which points at "
        "the machine rather than the data: check the executors listed (GC, disk, noisy "
        "neighbours) and consider spark.speculation=true to re-launch slow tasks.")


@heuristic("disk-spill", "Stages that spilled data from memory to disk")
def spill(report: SparkReport) -> Iterator[Finding]:
    listed = [
        {**_stage_ref(s), "memoryBytesSpilled": s["memoryBytesSpilled"],
         "diskBytesSpilled": s["diskBytesSpilled"], "shuffleReadBytes": s["shuffleReadBytes"],
         "inputBytes": s["inputBytes"]}
        for s in _run_stages(report) if s.get("diskBytesSpilled", 0) > 0
    ]
    if not listed:
        return
    listed.sort(key=lambda x: x["diskBytesSpilled"], reverse=True)
    total = sum(x["diskBytesSpilled"] for x in listed)
    severity: Severity = ("high" if total >= SPILL_HIGH_BYTES
                          else "medium" if total >= SPILL_MEDIUM_BYTES else "low")
    yield Finding(
        "disk-spill", severity,
        f"{len(listed)} stage(s) spilled {_size(total)} to disk",
        {"stageIds": [x["stageId"] for x in listed], "stages": listed[:MAX_LISTED],
         "diskBytesSpilled": total,
         "memoryBytesSpilled": sum(x["memoryBytesSpilled"] for x in listed)},
        "Tasks did not fit their data in execution memory. Use more, smaller partitions "
        "(spark.sql.shuffle.partitions, or AQE with a smaller "
        "spark.sql.adaptive.advisoryPartitionSizeInBytes), give executors more memory, "
        "or run fewer cores per executor.")


@heuristic("gc-pressure", "Tasks spend a large share of their time in garbage collection")
def gc_pressure(report: SparkReport) -> Iterator[Finding]:
    listed = []
    for s in _run_stages(report):
        run = s.get("executorRunTime", 0)
        if run >= GC_MIN_RUN_MS and s.get("jvmGcTime", 0) >= GC_RATIO * run:
            listed.append({**_stage_ref(s), "jvmGcTime": s["jvmGcTime"], "executorRunTime": run,
                           "gcRatio": round(s["jvmGcTime"] / run, 3)})
    if not listed:
        return
    listed.sort(key=lambda x: x["gcRatio"], reverse=True)
    worst = listed[0]["gcRatio"]
    yield Finding(
        "gc-pressure", "high" if worst >= GC_HIGH_RATIO else "medium",
        f"{len(listed)} stage(s) spent over {GC_RATIO:.0%} of task time in GC "
        f"(up to {worst:.0%})",
        {"stageIds": [x["stageId"] for x in listed], "stages": listed[:MAX_LISTED],
         "threshold": GC_RATIO},
        "Executors are short of heap for what their tasks hold. Give executors more memory "
        "or fewer concurrent tasks (spark.executor.cores), avoid collecting large objects "
        "in UDFs, and prefer built-in functions and serialized caching.")


@heuristic("idle-executors", "Executor cores that sat idle for much of the application")
def idle_executors(report: SparkReport) -> Iterator[Finding]:
    end = _end_ms(report)
    if end is None:
        return
    available = used = 0.0
    per_executor = []
    for ex in report.executors:
        cores = ex.get("totalCores", 0)
        if cores <= 0:
            continue
        start = _ms(ex.get("addTime"))
        stop = _ms(ex.get("removeTime")) or end
        if start is None or stop <= start:
            continue
        core_ms = cores * (stop - start)
        task_ms = ex.get("taskTime", 0)
        available += core_ms
        used += task_ms
        per_executor.append({"executorId": ex["id"], "totalCores": cores,
                             "utilisation": round(task_ms / core_ms, 3)})
    if available <= 0:
        return
    utilisation = used / available
    idle_s = (available - used) / 1000
    if utilisation >= IDLE_MAX_UTILISATION or idle_s < IDLE_MIN_CORE_SECONDS:
        return
    per_executor.sort(key=lambda x: x["utilisation"])
    yield Finding(
        "idle-executors", "high" if utilisation < IDLE_MAX_UTILISATION / 2 else "medium",
        f"Executor cores ran tasks {utilisation:.0%} of the time ({idle_s:,.0f} core-seconds idle)",
        {"utilisation": round(utilisation, 3), "coreSecondsAvailable": round(available / 1000, 1),
         "coreSecondsUsed": round(used / 1000, 1), "coreSecondsIdle": round(idle_s, 1),
         "executors": per_executor[:MAX_LISTED]},
        "Cores were paid for but idle: between jobs (driver-side work), or because stages "
        "had fewer tasks than cores. Enable dynamic allocation "
        "(spark.dynamicAllocation.enabled), request fewer executors or cores, or raise the "
        "number of partitions of narrow stages.")


@heuristic("too-many-small-tasks", "Stages split into many tasks that each do very little")
def small_tasks(report: SparkReport) -> Iterator[Finding]:
    listed = []
    for stage in _run_stages(report):
        s = _summary(stage)
        q = s.get("duration") or []
        if (len(q) == 5 and s.get("count", 0) >= SMALL_TASKS_MIN_COUNT
                and q[2] < SMALL_TASK_MEDIAN_MS):
            listed.append({**_stage_ref(stage), "tasks": s["count"], "medianTaskMs": q[2]})
    if not listed:
        return
    listed.sort(key=lambda x: x["tasks"], reverse=True)
    yield Finding(
        "too-many-small-tasks", "medium" if listed[0]["tasks"] >= 10 * SMALL_TASKS_MIN_COUNT
        else "low",
        f"{len(listed)} stage(s) ran {SMALL_TASKS_MIN_COUNT}+ tasks with a median under "
        f"{SMALL_TASK_MEDIAN_MS:g} ms",
        {"stageIds": [x["stageId"] for x in listed], "stages": listed[:MAX_LISTED]},
        "Scheduling overhead dominates such tasks. Lower spark.sql.shuffle.partitions or let "
        "AQE coalesce partitions (spark.sql.adaptive.coalescePartitions.enabled), and raise "
        "spark.sql.files.maxPartitionBytes for scans of many small splits.")


@heuristic("shuffle-heavy", "Stages dominated by shuffle volume or shuffle wait")
def shuffle_heavy(report: SparkReport) -> Iterator[Finding]:
    listed = []
    for s in _run_stages(report):
        shuffled = s.get("shuffleReadBytes", 0) + s.get("shuffleWriteBytes", 0)
        run = s.get("executorRunTime", 0)
        wait = s.get("shuffleFetchWaitTime", 0)
        heavy = (shuffled >= SHUFFLE_HEAVY_BYTES
                 and shuffled >= SHUFFLE_INPUT_FACTOR * s.get("inputBytes", 0))
        waiting = run >= SHUFFLE_WAIT_MIN_RUN_MS and wait >= SHUFFLE_WAIT_RATIO * run
        if heavy or waiting:
            listed.append({**_stage_ref(s), "shuffleReadBytes": s.get("shuffleReadBytes", 0),
                           "shuffleWriteBytes": s.get("shuffleWriteBytes", 0),
                           "inputBytes": s.get("inputBytes", 0), "shuffleFetchWaitTime": wait,
                           "executorRunTime": run})
    if not listed:
        return
    listed.sort(key=lambda x: x["shuffleReadBytes"] + x["shuffleWriteBytes"], reverse=True)
    total = sum(x["shuffleReadBytes"] + x["shuffleWriteBytes"] for x in listed)
    yield Finding(
        "shuffle-heavy", "high" if total >= 10 * SHUFFLE_HEAVY_BYTES else "medium",
        f"{len(listed)} shuffle-heavy stage(s) ({_size(total)} shuffled)",
        {"stageIds": [x["stageId"] for x in listed], "stages": listed[:MAX_LISTED],
         "shuffleBytes": total},
        "Move less data across the network: filter and project before wide operations, "
        "broadcast the small side of joins (spark.sql.autoBroadcastJoinThreshold), "
        "pre-aggregate, and avoid needless repartition() calls; bucket tables joined "
        "repeatedly on the same key.")


@heuristic("task-failures", "Failed or retried tasks, stages and jobs")
def failures(report: SparkReport) -> Iterator[Finding]:
    stages = []
    reasons: dict[str, int] = {}
    for s in report.stages:
        failed = s.get("numFailedTasks", 0)
        if failed or s.get("attemptId", 0) > 0 or s.get("status") == "FAILED":
            errors = s.get("taskErrors") or {}
            for reason, n in (errors.get("byReason") or {}).items():
                reasons[reason] = reasons.get(reason, 0) + n
            stages.append({**_stage_ref(s), "status": s.get("status"), "failedTasks": failed,
                           "failureReason": s.get("failureReason"),
                           "firstTaskError": errors.get("first")})
    failed_jobs = [j["jobId"] for j in report.jobs if j.get("status") == "FAILED"]
    if not stages and not failed_jobs:
        return
    if failed_jobs or any(s["status"] == "FAILED" for s in stages):
        severity: Severity = "high"
    elif any(s["attemptId"] > 0 for s in stages):
        severity = "medium"
    else:
        severity = "low"
    failed_tasks = sum(s["failedTasks"] for s in stages)
    advice = ["Failed tasks are retried (spark.task.maxFailures), which costs time even "
              "when the job succeeds."]
    if "ExecutorLostFailure" in reasons:
        advice.append("Executors were lost: often a container killed for exceeding memory; "
                      "raise spark.executor.memoryOverhead or memory.")
    if "FetchFailed" in reasons:
        advice.append("Shuffle fetches failed: an executor holding shuffle files died; use "
                      "the external shuffle service or decommissioning, and check memory.")
    if "ExceptionFailure" in reasons:
        advice.append("Tasks threw exceptions: see firstTaskError for the error to fix in "
                      "the code or the data.")
    yield Finding(
        "task-failures", severity,
        f"{failed_tasks} failed task(s) in {len(stages)} stage(s)"
        + (f", {len(failed_jobs)} failed job(s)" if failed_jobs else ""),
        {"stageIds": sorted({s["stageId"] for s in stages}), "stages": stages[:MAX_LISTED],
         "failedJobIds": failed_jobs, "failuresByReason": reasons},
        " ".join(advice))


@heuristic("costly-join", "Cartesian products and broadcast nested loop joins in SQL plans")
def costly_joins(report: SparkReport) -> Iterator[Finding]:
    listed = []
    for ex in report.executions:
        for join in ex.joins():
            if join["strategy"] in ("CartesianProduct", "BroadcastNestedLoopJoin"):
                listed.append({"executionId": ex.execution_id, **join})
    if not listed:
        return
    cartesian = any(j["strategy"] == "CartesianProduct" for j in listed)
    yield Finding(
        "costly-join", "high" if cartesian else "medium",
        f"{len(listed)} nested-loop or cartesian join(s) in SQL plans",
        {"executionIds": sorted({j["executionId"] for j in listed}), "joins": listed[:MAX_LISTED]},
        "These joins compare every row of one side with every row of the other. Give the "
        "join an equality condition on a key so Spark can use a hash or sort-merge join; "
        "rewrite range conditions as a join on a bucketed key plus a filter; make sure the "
        "broadcast side of a nested loop join is really small.")


def _pushable(read: DatasetRead) -> tuple[list[str], list[str]]:
    data = [f for f in read.data_filters if not f.lower().startswith("isnotnull(")]
    pushed = [f for f in read.pushed_filters if not f.startswith("IsNotNull(")]
    return data, pushed


@heuristic("filter-not-pushed-down", "Filters evaluated after the scan instead of inside it")
def filters_not_pushed(report: SparkReport) -> Iterator[Finding]:
    listed = []
    for ex in report.executions:
        for read in ex.reads():
            if read.format not in PUSHDOWN_FORMATS:
                continue
            data, pushed = _pushable(read)
            if data and len(pushed) < len(data):
                listed.append({"executionId": ex.execution_id, "nodeId": read.node_id,
                               "format": read.format, "paths": read.paths, "table": read.table,
                               "dataFilters": read.data_filters,
                               "pushedFilters": read.pushed_filters})
    if not listed:
        return
    yield Finding(
        "filter-not-pushed-down", "medium",
        f"{len(listed)} scan(s) could not push their filters into the reader",
        {"executionIds": sorted({x["executionId"] for x in listed}), "scans": listed[:MAX_LISTED]},
        "The reader returns every row and Spark filters afterwards. Filter on the stored "
        "column itself (no function, cast or UDF around it), compare with a literal of the "
        "column's type, and for Parquet/ORC keep spark.sql.parquet.filterPushdown / "
        "spark.sql.orc.filterPushdown on.")


@heuristic("small-files", "Many small files read or written")
def small_files(report: SparkReport) -> Iterator[Finding]:
    listed: list[Json] = []
    for ex in report.executions:
        for read in ex.reads():
            if read.files and read.bytes is not None and read.files >= SMALL_FILES_MIN_COUNT \
                    and read.bytes / read.files < SMALL_FILE_BYTES:
                listed.append({"executionId": ex.execution_id, "nodeId": read.node_id,
                               "direction": "read", "paths": read.paths, "table": read.table,
                               "files": read.files, "bytes": read.bytes,
                               "averageFileBytes": read.bytes // read.files})
        for write in ex.writes():
            if write.files and write.bytes is not None and write.files >= SMALL_FILES_MIN_COUNT \
                    and write.bytes / write.files < SMALL_FILE_BYTES:
                listed.append({"executionId": ex.execution_id, "nodeId": write.node_id,
                               "direction": "write", "paths": [write.path] if write.path else [],
                               "table": write.table, "files": write.files, "bytes": write.bytes,
                               "averageFileBytes": write.bytes // write.files})
    if not listed:
        return
    most = max(int(x["files"]) for x in listed)
    yield Finding(
        "small-files", "medium" if most >= SMALL_FILES_MEDIUM_COUNT else "low",
        f"{len(listed)} read(s)/write(s) of many small files (up to {most:,} files)",
        {"executionIds": sorted({x["executionId"] for x in listed}),
         "datasets": listed[:MAX_LISTED], "smallFileBytes": SMALL_FILE_BYTES},
        "Each small file costs a task or a metadata call. Before writing, coalesce() or "
        "repartition() to files of 128 MiB-1 GiB (or set spark.sql.files.maxRecordsPerFile), "
        "compact existing small files, and for reads raise spark.sql.files.maxPartitionBytes "
        "and spark.sql.files.openCostInBytes so one task reads several files.")


@heuristic("dominant-stage", "One stage takes most of its job's time")
def dominant_stage(report: SparkReport) -> Iterator[Finding]:
    stages = {(s["stageId"], s["attemptId"]): s for s in report.stages}
    listed = []
    for job in report.jobs:
        job_ms = job.get("duration")
        if job_ms is None or job_ms < DOMINANT_MIN_JOB_MS:
            continue
        ran = [s for (sid, _), s in stages.items()
               if sid in job.get("stageIds", []) and s.get("duration") is not None
               and job["jobId"] in s.get("jobIds", [])]
        if len(ran) < 2:
            continue
        top = max(ran, key=lambda s: s["duration"])
        share = top["duration"] / job_ms
        if share >= DOMINANT_SHARE:
            listed.append({"jobId": job["jobId"], **_stage_ref(top), "stageMs": top["duration"],
                           "jobMs": job_ms, "share": round(share, 3)})
    if not listed:
        return
    yield Finding(
        "dominant-stage", "low",
        f"In {len(listed)} job(s) a single stage takes over {DOMINANT_SHARE:.0%} of the time",
        {"jobIds": [x["jobId"] for x in listed], "stageIds": [x["stageId"] for x in listed],
         "jobs": listed[:MAX_LISTED]},
        "Tune these stages first: they bound the job's run time. Look at their other "
        "findings (skew, spill, shuffle) and at their task count versus available cores.")


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"


def _ms(date: Any) -> int | None:
    """Epoch ms of a REST date string (``2026-11-24T22:24:44.782GMT``)."""
    if not isinstance(date, str) or not date.endswith("GMT"):
        return None
    from datetime import UTC, datetime
    try:
        moment = datetime.strptime(date[:-3], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


def _end_ms(report: SparkReport) -> int | None:
    app = report.application
    return _ms(app.get("endTime")) or _ms(app.get("lastEventTime"))
