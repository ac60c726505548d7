"""Each built-in heuristic on a log that triggers it, and on logs that must not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipetrail.spark import analyze, heuristics
from pipetrail.spark.analysis import SparkReport
from pipetrail.spark.findings import Finding, Registry, default_registry
from tests.spark.synth import EventLog, Task

S = 1000  # ms


def report_of(tmp_path: Path, log: EventLog, only: str | None = None) -> SparkReport:
    registry = default_registry()
    if only is not None:
        for name in registry.names():
            if name != only:
                registry.remove(name)
    return analyze(log.write(tmp_path / "app.log"), registry)


def single(report: SparkReport, name: str) -> Finding:
    found = [f for f in report.findings if f.heuristic == name]
    assert len(found) == 1, [f.heuristic for f in report.findings]
    return found[0]


def base_log(cores: int = 4) -> EventLog:
    log = EventLog()
    log.executor("1", cores)
    log.executor("2", cores)
    return log


def test_balanced_application_has_no_findings(tmp_path: Path) -> None:
    log = base_log()
    log.job([[Task(2 * S, input_bytes=64 << 20) for _ in range(8)],
             [Task(1 * S, shuffle_read=8 << 20) for _ in range(8)]])
    log.end()
    assert report_of(tmp_path, log).findings == []


def test_skewed_stage(tmp_path: Path) -> None:
    log = base_log()
    tasks = [Task(1 * S, shuffle_read=10 << 20) for _ in range(9)]
    tasks.append(Task(40 * S, shuffle_read=400 << 20))
    _, (stage_id,) = log.job([tasks])
    log.end()
    finding = single(report_of(tmp_path, log), "skewed-stage")
    assert finding.severity == "high"
    assert finding.evidence["stageIds"] == [stage_id]
    stage = finding.evidence["stages"][0]
    assert stage["maxTaskMs"] == 40 * S and stage["medianTaskMs"] == 1 * S
    assert stage["dataSkewRatio"] == 40.0


def test_skew_below_the_factor_is_quiet(tmp_path: Path) -> None:
    log = base_log()
    log.job([[Task(2 * S, shuffle_read=10 << 20) for _ in range(9)]
             + [Task(8 * S, shuffle_read=40 << 20)]])
    log.end()
    assert not report_of(tmp_path, log, "skewed-stage").findings


def test_straggler_tasks(tmp_path: Path) -> None:
    log = base_log()
    tasks = [Task(2 * S, executor="1", input_bytes=32 << 20) for _ in range(9)]
    tasks.append(Task(20 * S, executor="2", input_bytes=32 << 20))
    log.job([tasks])
    log.end()
    report = report_of(tmp_path, log)
    finding = single(report, "straggler-tasks")
    (stage,) = finding.evidence["stages"]
    assert [t["duration"] for t in stage["tasks"]] == [20 * S]
    assert finding.evidence["executors"] == [{"executorId": "2", "stragglers": 1}]
    # Same data as its peers: not data skew.
    assert not [f for f in report.findings if f.heuristic == "skewed-stage"]


def test_disk_spill(tmp_path: Path) -> None:
    log = base_log()
    _, (stage_id,) = log.job([[Task(3 * S, memory_spill=3 << 30, disk_spill=600 << 20)
                               for _ in range(2)]])
    log.end()
    finding = single(report_of(tmp_path, log), "disk-spill")
    assert finding.severity == "high"
    assert finding.evidence["diskBytesSpilled"] == 1200 << 20
    assert finding.evidence["stageIds"] == [stage_id]


def test_gc_pressure(tmp_path: Path) -> None:
    log = base_log()
    log.job([[Task(10 * S, run=10 * S, gc=3 * S) for _ in range(4)]])
    log.end()
    finding = single(report_of(tmp_path, log), "gc-pressure")
    assert finding.severity == "high"
    assert finding.evidence["stages"][0]["gcRatio"] == 0.3


def test_idle_executors(tmp_path: Path) -> None:
    log = base_log(cores=8)
    log.job([[Task(5 * S) for _ in range(4)]])
    log.idle(600 * S)
    log.job([[Task(5 * S) for _ in range(4)]])
    log.end()
    finding = single(report_of(tmp_path, log), "idle-executors")
    assert finding.evidence["utilisation"] < 0.01
    assert finding.evidence["coreSecondsIdle"] > 9000
    assert finding.severity == "high"


def test_busy_executors_are_not_idle(tmp_path: Path) -> None:
    log = base_log(cores=1)
    for _ in range(10):
        log.job([[Task(60 * S, executor="1"), Task(60 * S, executor="2")]])
    log.end()
    assert not report_of(tmp_path, log, "idle-executors").findings


def test_too_many_small_tasks(tmp_path: Path) -> None:
    log = base_log()
    _, (stage_id,) = log.job([[Task(20) for _ in range(200)]])
    log.end()
    finding = single(report_of(tmp_path, log), "too-many-small-tasks")
    assert finding.evidence["stages"] == [
        {"stageId": stage_id, "attemptId": 0, "name": f"stage {stage_id}", "tasks": 200,
         "medianTaskMs": 20.0}]


def test_shuffle_heavy_by_volume_and_by_wait(tmp_path: Path) -> None:
    log = base_log()
    _, (heavy,) = log.job([[Task(5 * S, shuffle_write=300 << 20, input_bytes=10 << 20)
                            for _ in range(4)]])
    _, (waiting,) = log.job([[Task(10 * S, run=10 * S, fetch_wait=4 * S, shuffle_read=1 << 20)
                              for _ in range(4)]])
    log.end()
    finding = single(report_of(tmp_path, log), "shuffle-heavy")
    assert sorted(finding.evidence["stageIds"]) == sorted([heavy, waiting])


def test_task_failures_retried_and_failed(tmp_path: Path) -> None:
    log = base_log()
    log.job([[Task(1 * S, reason="ExceptionFailure", index=0), Task(1 * S, index=0),
              Task(1 * S, index=1)]])
    log.end()
    finding = single(report_of(tmp_path, log), "task-failures")
    assert finding.severity == "low"
    assert finding.evidence["failuresByReason"] == {"ExceptionFailure": 1}
    assert finding.evidence["stages"][0]["firstTaskError"] == (
        "java.lang.ArithmeticException: / by zero")

    log = base_log()
    _, (stage_id,) = log.job([[Task(1 * S, reason="ExecutorLostFailure")] * 4], failed=True)
    log.fail_stage(stage_id)
    log.end()
    finding = single(report_of(tmp_path, log), "task-failures")
    assert finding.severity == "high"
    assert finding.evidence["failedJobIds"] == [0]
    assert "memoryOverhead" in finding.recommendation


def test_dominant_stage(tmp_path: Path) -> None:
    log = base_log()
    _, (slow, _fast) = log.job([[Task(60 * S)], [Task(2 * S)]])
    log.end()
    finding = single(report_of(tmp_path, log), "dominant-stage")
    (job,) = finding.evidence["jobs"]
    assert job["stageId"] == slow and job["share"] > 0.9


@pytest.fixture(scope="module")
def plans(data_dir: Path) -> SparkReport:
    """A real PySpark log (see data/make_fixtures.py)."""
    return analyze(data_dir / "plans.zstd")


def test_costly_join_from_a_real_plan(plans: SparkReport) -> None:
    finding = single(plans, "costly-join")
    assert finding.severity == "high"
    assert {j["strategy"] for j in finding.evidence["joins"]} == {
        "CartesianProduct", "BroadcastNestedLoopJoin"}


def test_filter_not_pushed_down_from_a_real_plan(plans: SparkReport) -> None:
    finding = single(plans, "filter-not-pushed-down")
    (scan,) = finding.evidence["scans"]
    assert scan["format"] == "Parquet"
    assert "(length(name#4) > 3)" in scan["dataFilters"]
    assert scan["pushedFilters"] == ["IsNotNull(name)"]


def test_small_files_written_and_read_from_a_real_plan(plans: SparkReport) -> None:
    finding = single(plans, "small-files")
    directions = {d["direction"] for d in finding.evidence["datasets"]}
    assert directions == {"read", "write"}
    assert all(d["files"] == 40 and d["averageFileBytes"] < 4096
               for d in finding.evidence["datasets"])


def test_corpus_etl_job_triggers_nothing(spark_corpus: Path) -> None:
    report = analyze(spark_corpus / "sql-etl-plain.json")
    assert report.findings == []


CHECKS: dict[str, Callable[..., object]] = {
    name: fn for name, fn in vars(heuristics).items()
    if callable(fn) and hasattr(fn, "heuristic_name")
}


def test_every_builtin_heuristic_is_covered_here() -> None:
    names = {fn.heuristic_name for fn in CHECKS.values()}  # type: ignore[attr-defined]
    source = Path(__file__).read_text()
    assert names == set(Registry().names()) | set(default_registry().names())
    missing = [n for n in names if f'"{n}"' not in source]
    assert missing == []
