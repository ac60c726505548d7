"""SQL executions: job links, metric aggregation and status, as SQLAppStatusListener does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipetrail.spark import analyze
from pipetrail.spark.findings import Registry
from tests.spark.synth import EventLog, Task

ROWS, FILES, SIZE, AVG = 10, 11, 12, 13


def plan() -> dict[str, Any]:
    def metric(name: str, acc: int, kind: str) -> dict[str, Any]:
        return {"name": name, "accumulatorId": acc, "metricType": kind}

    scan = {"nodeName": "Scan csv ", "simpleString": "FileScan csv [a#1]",
            "children": [], "metadata": {"Format": "CSV",
                                         "Location": "InMemoryFileIndex(1 paths)[file:/in]",
                                         "ReadSchema": "struct<a:int>"},
            "metrics": [metric("number of output rows", ROWS, "sum"),
                        metric("number of files read", FILES, "sum"),
                        metric("size of files read", SIZE, "size"),
                        metric("avg hash probes per key", AVG, "average")]}
    return {"nodeName": "HashAggregate", "simpleString": "HashAggregate(keys=[a#1])",
            "children": [scan], "metadata": {}, "metrics": []}


def metrics(tmp_path: Path, log: EventLog) -> dict[str, Any]:
    (execution,) = analyze(log.write(tmp_path / "app.log"), Registry()).sql()
    values = {m["name"]: m["value"] for n in execution["nodes"] for m in n["metrics"]}
    return {"execution": execution, **values}


def test_latest_update_per_task_index_plus_driver_updates(tmp_path: Path) -> None:
    log = EventLog()
    log.executor("1")
    log.sql_start(0, plan())
    log.job([[Task(10, accums=((ROWS, 100), (SIZE, 1000), (AVG, 20))),
              Task(10, accums=((ROWS, 7), (SIZE, -1)), reason="ExceptionFailure", index=1),
              Task(10, accums=((ROWS, 50), (SIZE, 500), (AVG, 40)), index=1)]],
            sql_execution=0)
    log.driver_accums(0, [(FILES, 2), (FILES, 1)])
    log.sql_end(0)
    log.driver_accums(0, [(FILES, 100)])  # after the end: the execution is closed
    log.end()
    out = metrics(tmp_path, log)
    assert out["number of output rows"] == 150  # the failed attempt's 7 was replaced
    assert out["size of files read"] == 1500
    assert out["number of files read"] == 3
    assert out["avg hash probes per key"] == 3.0  # mean of 20 and 40, stored x10
    ex = out["execution"]
    assert ex["status"] == "COMPLETED" and ex["successJobIds"] == [0]
    (read,) = ex["reads"]
    assert (read["rows"], read["files"], read["bytes"], read["paths"]) == (
        150, 3, 1500, ["file:/in"])
    assert ex["columnsRead"] == [{"dataset": "file:/in", "columns": ["a"]}]


def test_new_stage_attempt_resets_its_metrics(tmp_path: Path) -> None:
    log = EventLog()
    log.executor("1")
    log.sql_start(0, plan())
    log.job([[Task(10, accums=((ROWS, 100),))], [Task(10, accums=((ROWS, 5),))]],
            sql_execution=0, attempts={1: 0})
    log.sql_end(0)
    log.end()
    assert metrics(tmp_path, log)["number of output rows"] == 105

    log = EventLog()
    log.executor("1")
    log.sql_start(0, plan())
    # Stage 0 runs attempt 0, then (same stage id) attempt 1: only attempt 1 counts.
    log.job([[Task(10, accums=((ROWS, 100),))]], sql_execution=0)
    log.next_stage = 0
    log.job([[Task(10, accums=((ROWS, 30),))]], sql_execution=0, attempts={0: 1})
    log.sql_end(0)
    log.end()
    assert metrics(tmp_path, log)["number of output rows"] == 30


def test_failed_and_running_executions(tmp_path: Path) -> None:
    log = EventLog()
    log.executor("1")
    log.sql_start(0, plan(), "bad query")
    log.job([[Task(10, reason="ExceptionFailure")]], sql_execution=0, failed=True)
    log.sql_end(0, error="Job aborted due to stage failure")
    log.sql_start(1, plan(), "still running")
    log.job([[Task(10, accums=((ROWS, 4),))]], sql_execution=1)
    report = analyze(log.write(tmp_path / "app.log"), Registry())
    failed, running = report.sql()
    assert (failed["status"], failed["failedJobIds"], failed["errorMessage"]) == (
        "FAILED", [0], "Job aborted due to stage failure")
    assert running["status"] == "RUNNING" and running["duration"] is None
    assert running["reads"][0]["rows"] == 4  # metrics so far


def test_data_accesses_of_the_corpus_job(spark_corpus: Path) -> None:
    report = analyze(spark_corpus / "sql-etl-plain.json", Registry())
    accesses = [a.to_json() for a in report.data_accesses()]
    writes = [(a["executionId"], a["dataset"], a["format"], a["rows"], a["files"])
              for a in accesses if a["operation"] == "write"]
    assert writes == [(0, "file:/opt/etl/corpusjob/orders_csv", "CSV", 400000, 2),
                      (1, "file:/opt/etl/corpusjob/customers_parquet", "Parquet", 5000, 2),
                      (4, "file:/opt/etl/corpusjob/revenue_by_region", "Parquet", 6, 1)]
    joined = [a for a in accesses if a["executionId"] == 4 and a["operation"] == "read"]
    assert [(a["dataset"], a["columns"]) for a in joined] == [
        ("file:/opt/etl/corpusjob/orders_csv", ["customer_id", "amount", "channel"]),
        ("file:/opt/etl/corpusjob/customers_parquet", ["customer_id", "region"])]
    # A scan listing two part files of a folder (CSV header inference) names the folder.
    assert accesses[2]["dataset"] == "file:/opt/etl/corpusjob/orders_csv"
