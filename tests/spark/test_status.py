"""Spark's AppStatusListener rules, one at a time, on small logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipetrail.spark import analyze
from pipetrail.spark.analysis import SparkReport
from pipetrail.spark.findings import Registry
from pipetrail.spark.taskstats import quantiles
from tests.spark.synth import T0, EventLog, Task


def run(tmp_path: Path, log: EventLog) -> SparkReport:
    return analyze(log.write(tmp_path / "app.log"), Registry())


def stage(report: SparkReport, stage_id: int, attempt: int = 0) -> dict[str, Any]:
    return next(s for s in report.stages if (s["stageId"], s["attemptId"]) == (stage_id, attempt))


def test_metrics_count_for_the_stage_only_when_the_task_start_was_seen(tmp_path: Path) -> None:
    log = EventLog()
    log.executor("1")
    log.job([[Task(100, input_bytes=1000), Task(100, input_bytes=10, started=False)]])
    log.end()
    report = run(tmp_path, log)
    s = stage(report, 0)
    assert s["inputBytes"] == 1000  # the task without TaskStart adds no metrics ...
    assert s["numCompleteTasks"] == 2  # ... but still counts as completed
    assert s["numActiveTasks"] == -1  # Spark's own arithmetic, kept on purpose
    (ex,) = report.executors
    assert ex["totalInputBytes"] == 1010  # executors take every TaskEnd
    assert ex["completedTasks"] == 2 and ex["totalTasks"] == 1


def test_failed_and_killed_tasks(tmp_path: Path) -> None:
    log = EventLog()
    log.executor("1")
    log.job([[Task(100, reason="ExceptionFailure", index=0), Task(100, index=0),
              Task(100, reason="TaskKilled", index=1), Task(100, index=1)]])
    log.end()
    report = run(tmp_path, log)
    s = stage(report, 0)
    assert (s["numCompleteTasks"], s["numFailedTasks"], s["numKilledTasks"]) == (2, 1, 1)
    assert s["numCompletedIndices"] == 2
    assert s["killedTasksSummary"] == {"another attempt succeeded": 1}
    assert s["taskErrors"] == {"byReason": {"ExceptionFailure": 1},
                               "first": "java.lang.ArithmeticException: / by zero"}
    job = report.jobs[0]
    assert (job["numCompletedTasks"], job["numFailedTasks"], job["numKilledTasks"]) == (2, 1, 1)
    assert job["numCompletedIndices"] == 2
    assert job["killedTasksSummary"] == {"another attempt succeeded": 1}
    (ex,) = report.executors
    assert (ex["completedTasks"], ex["failedTasks"]) == (2, 1)


def test_skipped_stages_of_a_job(tmp_path: Path) -> None:
    log = EventLog()
    log.executor("1")
    log.job([[Task(100)]], skipped=[7])
    log.end()
    report = run(tmp_path, log)
    job = report.jobs[0]
    assert job["numTasks"] == 8  # tasks of every stage not yet completed at submission
    assert (job["numSkippedStages"], job["numSkippedTasks"], job["numCompletedStages"]) == (
        1, 7, 1)
    assert job["numActiveStages"] == 0
    assert stage(report, 1)["status"] == "SKIPPED"
    assert "submissionTime" not in stage(report, 1)


def test_removed_executor_stops_counting(tmp_path: Path) -> None:
    log = EventLog()
    log.executor("1")
    log.executor("2")
    log.job([[Task(100, executor="2")]])
    log.remove_executor("2", "worker lost")
    log.job([[Task(100, executor="2")]])
    log.end()
    report = run(tmp_path, log)
    ex2 = next(e for e in report.executors if e["id"] == "2")
    assert ex2["isActive"] is False and ex2["removeReason"] == "worker lost"
    assert ex2["completedTasks"] == 1
    assert "removeTime" in ex2


def test_driver_duration_and_gc_time_as_the_rest_api_reports_them(tmp_path: Path) -> None:
    log = EventLog()
    log.executor("driver", 2)
    log.job([[Task(100, executor="driver", gc=7), Task(100, executor="driver", gc=30)]])
    log.idle(5000)
    log.end()
    report = run(tmp_path, log)
    (driver,) = report.executors
    assert driver["totalDuration"] == log.now - T0  # the application's run time
    assert driver["taskTime"] == 200
    assert driver["totalGCTime"] == 30  # peak TotalGCTime, not the 37 ms sum
    peaks = driver["peakMemoryMetrics"]
    assert (peaks["JVMHeapMemory"], peaks["TotalGCTime"], peaks["MajorGCCount"]) == (101, 30, 0)
    assert len(peaks) == 23  # every metric Spark 4.3 knows, 0 when a log lacks it
    assert driver["maxTasks"] == 2


def test_retried_stage_attempt(tmp_path: Path) -> None:
    log = EventLog()
    log.executor("1")
    log.job([[Task(100, reason="FetchFailed")], [Task(100)]], attempts={1: 1})
    log.end()
    report = run(tmp_path, log)
    assert stage(report, 1, 1)["numCompleteTasks"] == 1


def test_quantiles_follow_spark_positions() -> None:
    assert quantiles([400, 100, 300, 200], 4) == [100.0, 200.0, 300.0, 400.0, 400.0]
    assert quantiles([5], 1) == [5.0] * 5
    assert quantiles([], 0) == []
    # Failed tasks keep their duration in the sorted list, but only measured ones count.
    assert quantiles([10, 20, 30, 1000], 3) == [10.0, 10.0, 20.0, 30.0, 30.0]


def test_task_summary_of_a_stage(tmp_path: Path) -> None:
    log = EventLog()
    log.executor("1")
    log.job([[Task(d, input_bytes=d) for d in (100, 200, 300, 400)]])
    log.end()
    summary = stage(run(tmp_path, log), 0)["taskSummary"]
    assert summary["duration"] == [100.0, 200.0, 300.0, 400.0, 400.0]
    assert summary["skewRatio"] == round(400 / 300, 3)
    assert summary["bytesProcessed"] == [100.0, 200.0, 300.0, 400.0, 400.0]
    assert [t["duration"] for t in summary["slowestTasks"]] == [400, 300, 200, 100]


def test_application_in_progress_has_no_end(tmp_path: Path) -> None:
    log = EventLog()
    log.executor("1")
    log.job([[Task(100)]])
    report = run(tmp_path, log)
    app = report.application
    assert app["completed"] is False and app["endTime"] is None
    attempt = app["attempts"][0]
    assert attempt["endTime"] == "1969-12-31T23:59:59.999GMT" and attempt["endTimeEpoch"] == -1
    assert any("had not ended" in w for w in report.warnings)
