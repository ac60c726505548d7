"""The live Spark poller against a loopback HTTP server that answers like a Spark driver's
REST API and metrics servlet (shapes as Spark 4.3 serves them), and the event-log path.

The real thing, a PySpark job under the runner, is in
``tests/insights/test_spark_runs.py``; these tests pin the arithmetic (deltas, gauges,
skew) on inputs chosen to exercise it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pipetrail.model.metrics import MetricDatum
from pipetrail.runner.launch import Launch, RunOptions, spark_submit_confs
from pipetrail.sdk.spark_status import skewness, stage_totals
from pipetrail.spark.live import SparkPoller, event_log_path

APP = "local-1795599960745"


def stage(stage_id: int, status: str, **fields: int) -> dict[str, Any]:
    base = {"stageId": stage_id, "attemptId": 0, "status": status, "name": f"s{stage_id}",
            "numTasks": 4, "numActiveTasks": 0, "numCompleteTasks": 0, "numFailedTasks": 0,
            "numKilledTasks": 0, "inputBytes": 0, "inputRecords": 0, "shuffleWriteBytes": 0,
            "shuffleLocalBytesRead": 0, "executorRunTime": 0}
    return {**base, **fields}


class FakeDriver:
    """Answers the few REST paths the poller reads, from ``self.routes``."""

    def __init__(self) -> None:
        self.routes: dict[str, Any] = {}
        driver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = driver.routes.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def api(self, path: str, body: Any) -> None:
        self.routes[f"/api/v1/applications/{APP}{path}"] = body


@pytest.fixture
def driver() -> Iterator[FakeDriver]:
    fake = FakeDriver()
    yield fake
    fake.server.shutdown()


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    script = tmp_path / "idle.py"
    script.write_text("pass\n")
    started = Launch("jr_test", "job", RunOptions(script=script, echo=False))
    yield started
    started.proc.wait()
    started.sampler.stop()
    started.restore_signals()


def datums(launch: Launch) -> list[MetricDatum]:
    found = []
    while not launch.records.empty():
        record = launch.records.get()
        if isinstance(record, MetricDatum) and record.name.startswith("glue."):
            found.append(record)
    return found


def by_name(found: list[MetricDatum]) -> dict[str, list[float]]:
    series: dict[str, list[float]] = {}
    for datum in found:
        series.setdefault(datum.name, []).append(datum.value)
    return series


def test_aggregate_metrics_are_deltas_and_gauges_are_read(driver: FakeDriver,
                                                          launch: Launch) -> None:
    app = {"appId": APP, "uiWebUrl": driver.url, "master": "local[2]"}
    poller = SparkPoller(launch, app)
    driver.api("/executors", [{"id": "driver", "isActive": True, "totalCores": 2}])
    driver.routes["/metrics/json"] = {"gauges": {
        f"{APP}.driver.jvm.heap.used": {"value": 125_000_000},
        f"{APP}.driver.jvm.heap.usage": {"value": 0.25}}}
    driver.api("/stages", [stage(0, "ACTIVE", numCompleteTasks=1, inputRecords=500,
                                 inputBytes=4000)])
    poller.poll()
    driver.api("/stages", [stage(0, "COMPLETE", numCompleteTasks=4, inputRecords=2000,
                                 inputBytes=16000, shuffleWriteBytes=300),
                           stage(1, "ACTIVE", numCompleteTasks=1, numFailedTasks=1,
                                 shuffleLocalBytesRead=300)])
    poller.poll()
    poller.poll()  # nothing new: deltas of 0
    series = by_name(datums(launch))
    assert series["glue.driver.aggregate.numCompletedTasks"] == [1, 4, 0]
    assert series["glue.driver.aggregate.recordsRead"] == [500, 1500, 0]
    assert series["glue.driver.aggregate.bytesRead"] == [4000, 12000, 0]
    assert series["glue.driver.aggregate.numCompletedStages"] == [0, 1, 0]
    assert series["glue.driver.aggregate.numFailedTasks"] == [0, 1, 0]
    assert series["glue.driver.aggregate.shuffleBytesWritten"] == [0, 300, 0]
    assert series["glue.driver.aggregate.shuffleLocalBytesRead"] == [0, 300, 0]
    assert series["glue.driver.jvm.heap.used"] == [125_000_000] * 3
    assert series["glue.driver.jvm.heap.usage"] == [0.25] * 3
    assert series["glue.driver.ExecutorAllocationManager.executors.numberAllExecutors"] == [1] * 3
    assert len(series["glue.ALL.system.cpuSystemLoad"]) == 3
    assert poller.polls == 3 and poller.peak_heap_usage == 0.25
    # The job's final report adds what happened after the last poll.
    poller.report_totals({"numCompletedTasks": 8, "recordsRead": 2000}, 0)
    final = by_name(datums(launch))
    assert final["glue.driver.aggregate.numCompletedTasks"] == [3]


def test_a_straggler_in_an_active_stage_is_reported_as_skew(driver: FakeDriver,
                                                            launch: Launch) -> None:
    import time

    poller = SparkPoller(launch, {"appId": APP, "uiWebUrl": driver.url, "master": "yarn"})
    driver.api("/executors", [])
    driver.api("/stages", [stage(3, "ACTIVE", numTasks=8, numCompleteTasks=7,
                                 numActiveTasks=1)])
    driver.api("/stages/3/0/taskSummary?quantiles=0.5,1.0",
               {"executorRunTime": [200.0, 300.0],
                "shuffleReadMetrics": {"readRecords": [10.0, 12.0]}})
    launched = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 30)) + ".000GMT"
    driver.api("/stages/3/0/taskList?status=RUNNING&length=1000",
               [{"taskId": 7, "launchTime": launched}])
    poller.poll()
    skew = poller.skew[(3, 0)]
    assert skew["medianTaskMs"] == 200 and 29_000 <= skew["maxTaskMs"] <= 32_000
    assert skew["durationRatio"] >= 140 and skew["skewness"] == 1.0
    series = by_name(datums(launch))
    assert series["glue.driver.skewness.stage"] == [1.0]
    assert "glue.ALL.system.cpuSystemLoad" not in series  # not a local master


def test_an_unreachable_driver_is_skipped_quietly(launch: Launch) -> None:
    poller = SparkPoller(launch, {"appId": APP, "uiWebUrl": "http://127.0.0.1:9",
                                  "master": "local"})
    poller.poll()
    assert poller.polls == 0 and datums(launch) == []


def test_stage_totals_and_glue_skewness() -> None:
    totals = stage_totals([stage(0, "COMPLETE", numCompleteTasks=4, inputRecords=10),
                           stage(1, "FAILED", numFailedTasks=2, numCompleteTasks=1),
                           stage(2, "SKIPPED")])
    assert totals["numCompletedTasks"] == 5 and totals["numFailedTasks"] == 2
    assert totals["numCompletedStages"] == 1 and totals["recordsRead"] == 10
    assert [skewness(r) for r in (1.0, 5.0, 7.5, 10.0, 50.0)] == [0.0, 0.0, 0.5, 1.0, 1.0]


@pytest.mark.parametrize("layout", ["eventlog_v2_{app}/events_1_{app}.zstd", "{app}",
                                    "{app}.inprogress", "{app}.zstd"])
def test_event_log_path_in_each_layout(tmp_path: Path, layout: str) -> None:
    target = tmp_path / layout.format(app=APP)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("{}\n")
    app = {"appId": APP, "conf": {"spark.eventLog.enabled": "true",
                                  "spark.eventLog.dir": tmp_path.as_uri()}}
    expected = tmp_path / layout.format(app=APP).split("/")[0]
    assert event_log_path(app) == str(expected)


def test_event_log_path_when_off_or_remote(tmp_path: Path) -> None:
    assert event_log_path({"appId": APP, "conf": {}}) is None
    remote = {"appId": APP, "conf": {"spark.eventLog.enabled": "true",
                                     "spark.eventLog.dir": "s3a://logs/spark/"}}
    assert event_log_path(remote) == f"s3a://logs/spark/{APP}"


def test_the_runner_switches_event_logging_on_before_the_users_own_arguments(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "env.py"
    script.write_text("import os\nprint(os.environ['PYSPARK_SUBMIT_ARGS'])\n")
    events = tmp_path / "home" / "spark-events"
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--conf spark.eventLog.compress=false pyspark-shell")
    launched = Launch("jr_env", "env", RunOptions(script=script, echo=False,
                                                  spark_events_dir=events))
    launched.proc.wait()
    launched.pump.join(5)
    launched.sampler.stop()
    launched.restore_signals()
    printed = ""
    while not launched.records.empty():
        record = launched.records.get()
        if getattr(record, "group", None) == "/pipetrail/jobs/output":
            printed = record.message
    assert events.is_dir()
    assert printed == (spark_submit_confs(events)
                       + " --conf spark.eventLog.compress=false pyspark-shell")
    assert f"spark.eventLog.dir={events.resolve().as_uri()}" in printed
