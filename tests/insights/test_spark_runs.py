"""PySpark jobs under the runner, in real local mode: live monitoring, event log, and the
insights of real Spark failures (missing column, Python UDF error, task retries
exhausted, executor out of memory, severe skew), with what changed since the last good
run.

The runs share one store (SQLite) for the module, and the successful run is shared by
the tests that read it. The drivers start with the options of ``tests/spark_jvm.py``
(the C1 compiler only and a class-data archive), which roughly halve a short local
session's start-up; nothing else is tuned.
"""

from __future__ import annotations

import json
import shutil
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.actions.jobs import run_job
from pipetrail.config import Settings
from pipetrail.model.runs import JobRun, RunState
from pipetrail.runner.launch import RunOptions
from pipetrail.store import open_store
from pipetrail.store.audit import AuditQuery
from tests.conftest import Cli
from tests.spark_jvm import submit_args

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("PySpark needs a Java runtime (java on PATH)", allow_module_level=True)

HEADER = """
import sys, time
from pyspark.sql import SparkSession, functions as F

spark = (SparkSession.builder.master(MASTER).appName("tests")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.shuffle.partitions", sys.argv[1] if len(sys.argv) > 1 else "4")
         EXTRA.getOrCreate())
"""


@dataclass
class SparkBench:
    ctx: ActionContext
    folder: Path
    started_seconds: list[float]

    def run(self, name: str, body: str, *args: str, master: str = "local[2]",
            extra: str = "", timeout: float | None = None, job: str | None = None) -> JobRun:
        header = HEADER.replace("MASTER", repr(master)).replace("EXTRA", extra)
        path = self.folder / f"{name}.py"
        path.write_text(header.lstrip() + textwrap.dedent(body))
        options = RunOptions(script=path, arguments=list(args), timeout=timeout,
                             sample_interval=0.5, echo=False,
                             spark_events_dir=self.ctx.settings.spark_events_dir)
        started = time.monotonic()
        run = run_job(self.ctx, options, job or name)
        if run.state is RunState.SUCCEEDED:
            self.started_seconds.append(time.monotonic() - started)
        return run


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkBench]:
    folder = tmp_path_factory.mktemp("spark")
    settings = Settings(home=folder / "home", sample_interval=0.5)
    store = open_store(settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYSPARK_SUBMIT_ARGS", submit_args())
        yield SparkBench(ActionContext.local(store, settings), folder, [])
    store.close()


SALES = """
orders = spark.range(0, 200_000, numPartitions=4).withColumn("amount", F.col("id") % 97)
daily = orders.groupBy((F.col("id") % 7).alias("day")).agg(F.sum("amount").alias("revenue"))
print(daily.count())
time.sleep(2)  # a pause, so that the live poller reports mid-run
daily.write.mode("overwrite").parquet(sys.argv[2])
spark.stop()
"""


def metric_sum(ctx: ActionContext, run_id: str, name: str) -> float:
    return sum(d.value for d in ctx.store.get_run_metrics(run_id, name))


@pytest.fixture(scope="module")
def sales_run(bench: SparkBench) -> JobRun:
    return bench.run("sales", SALES, "4", str(bench.folder / "daily"))


def test_a_spark_run_gets_event_log_metrics_and_details(bench: SparkBench,
                                                        sales_run: JobRun) -> None:
    run = sales_run
    assert run.state is RunState.SUCCEEDED, run.error_message
    spark = run.details["spark"]
    assert spark["appId"].startswith("local-") and spark["master"] == "local[2]"
    assert spark["conf"]["spark.sql.shuffle.partitions"] == "4"
    assert spark["conf"]["spark.eventLog.enabled"] == "true"
    # The event log was switched on from outside the script, under PIPETRAIL_HOME.
    log = Path(run.details["sparkEventLog"])
    assert log.exists() and log.parent == bench.ctx.settings.spark_events_dir
    assert spark["appId"] in log.name
    # Live metrics: aggregate deltas add up to the application's totals.
    totals = spark["totals"]
    assert totals["numCompletedTasks"] > 0
    assert totals["recordsRead"] == 400_000  # both actions read the range
    ctx = bench.ctx
    for name in ("numCompletedTasks", "recordsRead", "numCompletedStages",
                 "shuffleBytesWritten"):
        assert metric_sum(ctx, run.run_id, f"glue.driver.aggregate.{name}") == totals[name]
    assert spark["polls"] >= 1
    heap = ctx.store.get_run_metrics(run.run_id, "glue.driver.jvm.heap.usage")
    assert heap and all(0 < d.value < 1 for d in heap)
    assert ctx.store.get_run_metrics(run.run_id, "glue.driver.jvm.heap.used")
    executors = ctx.store.get_run_metrics(
        run.run_id, "glue.driver.ExecutorAllocationManager.executors.numberAllExecutors")
    assert executors and {d.value for d in executors} == {1.0}
    assert ctx.store.get_run_metrics(run.run_id, "glue.ALL.system.cpuSystemLoad")
    # The last action and its line, captured inside the job.
    assert spark["lastAction"]["name"] == "write.parquet"
    assert spark["lastAction"]["line"] == 13
    assert run.details["environment"]["packages"]["pyspark"]


def test_the_event_log_is_analysed_when_the_run_ends(bench: SparkBench,
                                                     sales_run: JobRun) -> None:
    run = sales_run
    spark = run.details["spark"]
    summary = run.details["sparkAnalysis"]
    assert summary["eventLog"] == run.details["sparkEventLog"]
    assert summary["applicationId"] == spark["appId"]
    assert summary["applicationName"] == "tests" and summary["completed"] is True
    assert summary["capped"] is None and summary["warnings"] == []
    assert 0 < summary["duration"] < run.execution_time * 1000
    # The event log's figures agree with what the live REST polling saw.
    assert summary["tasks"] == spark["totals"]["numCompletedTasks"]
    assert summary["stages"] == spark["totals"]["numCompletedStages"]
    assert summary["totals"]["inputRecords"] == spark["totals"]["recordsRead"] == 400_000
    assert summary["totals"]["shuffleWriteBytes"] == spark["totals"]["shuffleBytesWritten"]
    assert summary["totals"]["outputRecords"] == 7  # the seven days written
    assert summary["jobs"] >= 2 and summary["failedJobs"] == 0
    assert summary["sqlExecutions"] >= 2
    assert run.details["sparkFindings"] == []
    # The job's own capture recorded the Parquet write: the log adds nothing to it.
    assert summary["dataEvents"] == 0
    events = bench.ctx.store.lookup_audit_events(
        AuditQuery(run_id=run.run_id, category="Data"))
    (write,) = events
    assert write["eventName"] == "WriteDataset" and write["rows"] == 7
    assert "source" not in write.get("additionalEventData", {})
    logged = bench.ctx.store.get_log_events("/pipetrail/jobs/insights", run.run_id)
    assert [json.loads(e.message)["kind"] for e in logged] == ["SparkAnalysis"]


def test_missing_column_with_what_changed(bench: SparkBench, sales_run: JobRun) -> None:
    broken = SALES.replace('F.col("id") % 97', 'F.col("amt") % 97')
    run = bench.run("sales", broken, "8", str(bench.folder / "daily"))
    assert run.state is RunState.FAILED
    insight = run.details["insights"]
    assert insight["category"] == "MISSING_COLUMN_OR_TABLE"
    assert "`amt`" in insight["summary"]
    assert insight["location"]["line"] == 9  # AnalysisException: at the transformation
    assert insight["rootCause"]["errorClass"].startswith("UNRESOLVED_COLUMN")
    changed = insight["whatChanged"]
    assert changed["baselineRunId"] == sales_run.run_id
    assert '-orders = spark.range(0, 200_000, numPartitions=4).withColumn("amount", ' \
           'F.col("id") % 97)' in changed["script"]["diff"]
    assert '+orders = spark.range(0, 200_000, numPartitions=4).withColumn("amount", ' \
           'F.col("amt") % 97)' in changed["script"]["diff"]
    assert changed["arguments"]["changed"]
    assert {"key": "spark.sql.shuffle.partitions", "baseline": "4", "run": "8"} in \
        changed["sparkConf"]
    assert changed["python"]["changed"] is False and changed["packages"] == []
    # The run's state-change event carries the insight.
    events = bench.ctx.store.lookup_audit_events(
        AuditQuery(run_id=run.run_id, event_name="JobRunStateChange"))
    assert events[0]["responseElements"]["insights"]["category"] == "MISSING_COLUMN_OR_TABLE"
    # ... and so do `runs show` and `runs compare`, as a user runs them.
    cli = Cli(bench.ctx.settings, bench.folder)
    shown = cli("runs", "show", run.run_id[:16], "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["insights"]["category"] == "MISSING_COLUMN_OR_TABLE"
    table = cli("runs", "show", run.run_id[:16])
    assert "Insight: Missing column [MISSING_COLUMN_OR_TABLE]" in table.stdout
    compared = cli("runs", "compare", run.run_id[:16], "--format", "json")
    assert compared.returncode == 0, compared.stderr
    body: dict[str, Any] = json.loads(compared.stdout)
    assert body["baselineRunId"] == sales_run.run_id and body["script"]["changed"]
    text = cli("runs", "compare", run.run_id[:16], "--with", sales_run.run_id[:16])
    assert "spark.sql.shuffle.partitions" in text.stdout and '+orders' in text.stdout


def test_python_udf_error_points_at_the_udf_and_the_action(bench: SparkBench) -> None:
    run = bench.run("parse_udf", """
        @F.udf("int")
        def parse_quantity(text):
            return int(text.strip())


        frame = spark.createDataFrame([(" 3",), ("four",)], "quantity string")
        print(frame.select(parse_quantity("quantity").alias("q")).collect())
    """)
    insight = run.details["insights"]
    assert insight["category"] == "PYTHON_UDF_ERROR"
    location = insight["location"]
    assert location["line"] == 11 and location["function"] == "parse_quantity"
    assert insight["sparkAction"] == {"name": "collect", "file": location["file"],
                                      "line": 15, "function": "<module>", "failed": True,
                                      "error": "PythonException"}
    assert insight["rootCause"]["pythonException"] == "ValueError"
    assert "'four'" in insight["summary"]


def test_task_failures_exceeding_retries(bench: SparkBench) -> None:
    # local[2,2]: a task may fail twice. The UDF's worker dies on every attempt.
    run = bench.run("enrich", """
        import os


        @F.udf("long")
        def enrich(key):
            os._exit(3)


        print(spark.range(4, numPartitions=1).select(enrich("id").alias("e")).collect())
    """, master="local[2,2]")
    insight = run.details["insights"]
    assert insight["category"] == "TASK_FAILURES_EXCEEDED"
    assert insight["rootCause"]["taskAttempts"] == 2
    assert "failed 2 times" in insight["summary"]
    assert "2, from the master local[2,2]" in insight["recommendation"]
    assert insight["sparkAction"]["line"] == 17
    # The event log's analysis ran before the insight, which names its findings.
    failures = next(f for f in run.details["sparkFindings"] if f["heuristic"] == "task-failures")
    assert failures["severity"] == "high" and failures["evidence"]["failedJobIds"]
    assert {"heuristic": "task-failures", "severity": "high",
            "title": failures["title"]} in insight["sparkFindings"]
    assert run.details["sparkAnalysis"]["failedTasks"] == 2


def test_executor_out_of_memory(bench: SparkBench) -> None:
    # The smallest heap Spark accepts; one task builds two 300 MB strings.
    run = bench.run("widen", """
        wide = spark.range(2, numPartitions=1).selectExpr(
            "repeat('x', cast(id + 300000000 as int)) as s")
        print(wide.selectExpr("length(concat(s, s)) as n").collect())
    """, extra='.config("spark.driver.memory", "512m")')
    insight = run.details["insights"]
    assert insight["category"] == "OUT_OF_MEMORY"
    assert insight["title"] == "Executor out of memory"
    assert insight["rootCause"]["exceptionClass"] == "java.lang.OutOfMemoryError"
    assert "spark.driver.memory (now 512m" in insight["recommendation"]
    assert insight["sparkAction"]["line"] == 11


def test_severe_skew_that_times_out(bench: SparkBench) -> None:
    # One customer owns 700 of 800 orders; scoring its partition never ends in time.
    started = max(bench.started_seconds or [30.0])
    run = bench.run("score", """
        orders = spark.range(0, 800, numPartitions=8).withColumn(
            "customer", F.when(F.col("id") < 700, F.lit(0)).otherwise(F.col("id") % 8))


        def score(rows):
            for row in rows:
                time.sleep(0.002 if row.customer else 0.5)
                yield (row.customer, 1)


        totals = orders.repartition(8, "customer").rdd.mapPartitions(score)
        print(totals.reduceByKey(lambda a, b: a + b).collect())
    """, timeout=started + 12)
    assert run.state is RunState.TIMEOUT
    insight = run.details["insights"]
    assert insight["category"] == "DATA_SKEW", insight["summary"]
    stage = run.details["spark"]["skewedStages"][0]
    assert stage["durationRatio"] >= 10 and stage["skewness"] == 1.0
    assert insight["location"]["line"] == 20
    assert "salt" in insight["recommendation"]
    skew_metric = bench.ctx.store.get_run_metrics(run.run_id, "glue.driver.skewness.stage")
    assert max(d.value for d in skew_metric) == 1.0
