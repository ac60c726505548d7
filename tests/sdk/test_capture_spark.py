"""PySpark reads and writes under ``pipetrail run`` (real Spark, local mode).

One job per backend starts one SparkSession and does everything the tests look at; the
same job runs once more without Pipetrail, at the same time as the first monitored run,
to compare its results.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.sdk.trail_events import (
    PlainRun,
    by_name,
    data_events,
    file_uri,
    lookup,
    run_monitored,
)
from tests.spark_jvm import submit_args

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("PySpark needs Java", allow_module_level=True)

JOB = r'''
import json, os, sys
from pyspark.sql import SparkSession

out = os.path.abspath(sys.argv[1])
os.makedirs(out, exist_ok=True)
os.chdir(out)
spark = (SparkSession.builder.master("local[1]").appName("capture")
         .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
         .config("spark.sql.warehouse.dir", os.path.join(out, "warehouse")).getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
with open("in.csv", "w") as f:
    f.write("a,b,c\n" + "".join(f"{i},{i * 2},x{i}\n" for i in range(10)))
df = spark.read.csv("in.csv", header=True, inferSchema=True)
picked = sorted(r.a for r in df.select("a").collect())
df.write.mode("overwrite").parquet("out.parquet")
big = spark.read.parquet("out.parquet").select("b").filter("b > 4").count()
df.write.saveAsTable("events")
letters = sorted(r.c for r in spark.read.table("events").select("c").collect())
spark.sql("DROP TABLE events")
derby = "jdbc:derby:" + os.path.join(out, "derby")
df.write.jdbc(derby + ";create=true", "ORDERS", mode="overwrite")
from_jdbc = sorted(r.B for r in spark.read.jdbc(derby, "ORDERS").select("B").collect())
errors = []
try:
    spark.read.parquet("missing.parquet")
except Exception as exc:
    errors.append(type(exc).__name__)
try:
    df.write.parquet("out.parquet")
except Exception as exc:
    errors.append(type(exc).__name__)
with open("bad.csv", "w") as f:
    f.write("1,2\nx,3\n")
try:  # fails while the action runs, not at the reader call
    spark.read.schema("a INT, b INT").option("mode", "FAILFAST").csv("bad.csv").collect()
except Exception as exc:
    errors.append(type(exc).__name__)
print(json.dumps({"picked": picked, "big": big, "letters": letters,
                  "from_jdbc": from_jdbc, "errors": errors}))
spark.stop()
'''


def fast_jvm() -> dict[str, str]:
    """A driver JVM that starts fast (see tests/spark_jvm.py): these jobs are tiny."""
    return {"PYSPARK_SUBMIT_ARGS": submit_args()}


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlainRun]:
    """The job without Pipetrail, started before the first monitored run and run with it."""
    base = tmp_path_factory.mktemp("plain-spark")
    job = base / "spark_job.py"
    job.write_text(JOB)
    started = PlainRun(job, str(base / "out"), cwd=base, env=fast_jvm())
    yield started
    started.close()


@pytest.fixture(scope="module")
def monitored(module_cli: Cli, plain: PlainRun) -> tuple[Path, str, str]:
    job = module_cli.cwd / "spark_job.py"
    job.write_text(JOB)
    out = module_cli.cwd / "monitored"
    stdout, run_id = run_monitored(module_cli, job, str(out), timeout=600, env=fast_jvm())
    return out, stdout, run_id


@pytest.fixture
def cli(module_cli: Cli) -> Cli:
    return module_cli


def only(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (event,) = by_name(events, name)
    return event


@pytest.mark.slow
def test_results_are_the_same_as_without_pipetrail(
    monitored: tuple[Path, str, str], plain: PlainRun,
) -> None:
    _, stdout, _ = monitored
    results = json.loads(stdout)
    assert results["picked"] == list(range(10)) and results["big"] == 7
    assert results["errors"] == ["AnalysisException", "AnalysisException", "Py4JJavaError"]
    assert plain.stdout(timeout=600) == stdout  # the same on each backend


@pytest.mark.slow
def test_a_select_records_only_the_columns_it_reads(
    cli: Cli, monitored: tuple[Path, str, str],
) -> None:
    out, _, run_id = monitored
    events = lookup(cli, file_uri(out / "in.csv"))
    actions = {e["additionalEventData"]["action"]: e for e in events}
    # the schema inference inside spark.read.csv is not a read of the data
    assert len(events) == 4, [e["additionalEventData"] for e in events]
    collect = actions["collectToPython"]
    assert collect["columns"] == ["a"] and collect["rows"] == 10
    assert collect["bytes"] == (out / "in.csv").stat().st_size
    assert collect["requestParameters"]["library"] == "pyspark"
    assert collect["requestParameters"]["format"] == "csv"
    assert collect["jobRunId"] == run_id and collect["readOnly"] is True
    # the write to parquet reads every column of the CSV file
    writes = [e for e in events if e["additionalEventData"]["action"] == "command"]
    assert ["a", "b", "c"] in [e["columns"] for e in writes]
    (parquet_read,) = by_name(lookup(cli, file_uri(out / "out.parquet")), "ReadDataset")
    assert parquet_read["columns"] == ["b"]
    assert parquet_read["additionalEventData"]["action"] == "count"


@pytest.mark.slow
def test_writes_record_the_rows_spark_wrote(cli: Cli, monitored: tuple[Path, str, str]) -> None:
    out, _, _ = monitored
    events = lookup(cli, file_uri(out / "out.parquet"))
    written = [e for e in by_name(events, "WriteDataset") if "errorCode" not in e]
    (write,) = written
    assert write["rows"] == 10 and write["columns"] == ["a", "b", "c"]
    assert write["bytes"] > 0 and write["additionalEventData"]["mode"] == "overwrite"
    assert write["requestParameters"]["format"] == "parquet"
    table = lookup(cli, "sql://spark/spark_catalog/default.events")
    saved = only(table, "WriteDataset")
    assert saved["rows"] == 10 and saved["columns"] == ["a", "b", "c"]
    assert saved["additionalEventData"]["location"].endswith("/warehouse/events")
    read = only(table, "ReadDataset")
    assert read["columns"] == ["c"] and read["rows"] == 10
    assert only(table, "DeleteDataset")["operation"] == "delete"


@pytest.mark.slow
def test_jdbc_tables(cli: Cli, monitored: tuple[Path, str, str]) -> None:
    out, _, _ = monitored
    events = lookup(cli, f"sql://derby/{str(out / 'derby').lstrip('/')}/ORDERS")
    write, read = only(events, "WriteDataset"), only(events, "ReadDataset")
    assert write["columns"] == ["a", "b", "c"] and write["rows"] is None
    assert "rowsNote" in write["additionalEventData"]
    assert [c.lower() for c in read["columns"]] == ["b"] and read["rows"] == 10


@pytest.mark.slow
def test_failed_reads_and_writes_have_error_codes(
    cli: Cli, monitored: tuple[Path, str, str],
) -> None:
    out, _, run_id = monitored
    (missing,) = lookup(cli, file_uri(out / "missing.parquet"))
    assert missing["eventName"] == "ReadDataset"
    assert missing["errorCode"] == "AnalysisException.PATH_NOT_FOUND"
    assert "missing.parquet" in missing["errorMessage"]
    failed = [e for e in lookup(cli, file_uri(out / "out.parquet")) if "errorCode" in e]
    assert [e["errorCode"] for e in failed] == ["AnalysisException.PATH_ALREADY_EXISTS"]
    assert failed[0]["eventName"] == "WriteDataset"
    (bad,) = lookup(cli, file_uri(out / "bad.csv"))
    assert bad["eventName"] == "ReadDataset" and bad["columns"] == ["a", "b"]
    assert bad["errorCode"].startswith("SparkException"), bad["errorCode"]
    assert bad["rows"] is None and bad["additionalEventData"]["action"] == "collectToPython"
    assert len(data_events(cli, run_id)) == 14
