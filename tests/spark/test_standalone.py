"""A PySpark job on a Spark standalone cluster, under the runner (slow, needs PySpark + Java).

Starts a master and one worker of the installed PySpark with ``sbin/spark-daemon.sh``
(the pip package ships no ``start-master.sh``/``start-worker.sh``; those scripts only call
``spark-daemon.sh`` with the same classes), bound to 127.0.0.1 on free ports, with their
logs, pid files and work folder in a temporary folder. Runs a small job against
``spark://127.0.0.1:PORT`` and checks the run is monitored as in local mode: live metrics
(executors included), event log and its analysis, data events. The master, the worker
and their executors are stopped at the end, whatever happens (the stop scripts, then a
kill of anything of theirs still running).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from pipetrail.config import Settings
from pipetrail.model.runs import RunState
from pipetrail.store import open_store
from pipetrail.store.audit import AuditQuery
from tests.conftest import Cli
from tests.sdk.trail_events import run_monitored
from tests.spark_jvm import FAST_START, driver_java_options, submit_args

pytestmark = pytest.mark.slow

MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"

JOB = """
import sys
from pyspark.sql import SparkSession, functions as F

out = sys.argv[1]
spark = (SparkSession.builder.appName("standalone")
         .config("spark.executor.memory", "512m").config("spark.cores.max", "1")
         .config("spark.sql.shuffle.partitions", "2").getOrCreate())
orders = spark.range(0, 100_000, numPartitions=2).withColumn("amount", F.col("id") % 97)
daily = orders.groupBy((F.col("id") % 7).alias("day")).agg(F.sum("amount").alias("revenue"))
daily.write.mode("overwrite").parquet(out)
print(len(spark.read.parquet(out).select("revenue").collect()))
spark.stop()
"""


def spark_home() -> Path:
    pyspark = pytest.importorskip("pyspark", reason="PySpark is not installed "
                                  "(pip install -e '.[spark]' to run this test)")
    home = Path(pyspark.__file__).parent
    if not (home / "sbin" / "spark-daemon.sh").is_file():
        pytest.skip("this PySpark has no sbin/spark-daemon.sh")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark")
    return home


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Cluster:
    home: Path
    work: Path
    master_port: int
    master_ui: int
    worker_port: int
    worker_ui: int

    @property
    def url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def env(self) -> dict[str, str]:
        return dict(os.environ, SPARK_HOME=str(self.home), SPARK_LOCAL_IP="127.0.0.1",
                    SPARK_LOG_DIR=str(self.work / "logs"), SPARK_PID_DIR=str(self.work / "pids"),
                    SPARK_IDENT_STRING=f"pipetrail-test-{self.master_port}",
                    SPARK_WORKER_DIR=str(self.work / "worker"),
                    SPARK_DAEMON_JAVA_OPTS=FAST_START)

    def daemon(self, action: str, cls: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.home / "sbin" / "spark-daemon.sh"), action, cls, "1",
                               *args], env=self.env, capture_output=True, text=True,
                              timeout=120, check=False)

    def start(self) -> None:
        for cls, args in ((MASTER, ("--host", "127.0.0.1", "--port", str(self.master_port),
                                    "--webui-port", str(self.master_ui))),
                          (WORKER, ("--host", "127.0.0.1", "--port", str(self.worker_port),
                                    "--webui-port", str(self.worker_ui), "--cores", "1",
                                    "--memory", "1g", self.url))):
            done = self.daemon("start", cls, *args)
            assert done.returncode == 0, done.stdout + done.stderr

    def state(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.master_ui}/json/"
        with urllib.request.urlopen(url, timeout=10) as response:
            state: dict[str, Any] = json.loads(response.read())
            return state

    def wait_for_worker(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError,
                                     ValueError):
                if self.state().get("aliveworkers") == 1:
                    return
            time.sleep(0.5)
        logs = "\n".join(p.read_text()[-2000:] for p in (self.work / "logs").glob("*.out"))
        raise AssertionError(f"no worker registered with {self.url} in {timeout:g} s:\n{logs}")

    def processes(self) -> list[psutil.Process]:
        """The daemons, and every process started in the cluster's folder (executors)."""
        found: dict[int, psutil.Process] = {}
        for pid_file in (self.work / "pids").glob("*.pid"):
            with contextlib.suppress(ValueError, OSError, psutil.Error):
                daemon = psutil.Process(int(pid_file.read_text().strip()))
                for proc in (daemon, *daemon.children(recursive=True)):
                    found[proc.pid] = proc
        marker = str(self.work)
        for proc in psutil.process_iter(["cmdline", "cwd"]):
            with contextlib.suppress(psutil.Error):
                info = proc.info
                if marker in " ".join(info.get("cmdline") or []) or \
                        str(info.get("cwd") or "").startswith(marker):
                    found[proc.pid] = proc
        found.pop(os.getpid(), None)
        return list(found.values())

    def stop(self) -> None:
        running = self.processes()
        self.daemon("stop", WORKER)
        self.daemon("stop", MASTER)
        _gone, alive = psutil.wait_procs(running, timeout=10)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(alive, timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    home = spark_home()
    work = tmp_path_factory.mktemp("standalone")
    started = Cluster(home, work, free_port(), free_port(), free_port(), free_port())
    try:
        started.start()
        started.wait_for_worker()
        yield started
    finally:
        started.stop()
        leftovers = [p for p in started.processes() if p.is_running()]
        assert leftovers == [], f"still running after the stop: {leftovers}"


def test_a_job_on_a_standalone_master_is_monitored(cluster: Cluster, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    script = tmp_path / "daily.py"
    script.write_text(textwrap.dedent(JOB).lstrip())
    out = tmp_path / "daily"
    # As a user runs it: `pipetrail run` in its own process (the runner stops what its job
    # leaves running, and a runner inside this test process would count the cluster's
    # daemons, reparented here, among them).
    cli = Cli(settings, tmp_path)
    env = {"MASTER": cluster.url,  # read by spark-submit when the script names no master
           "SPARK_LOCAL_IP": "127.0.0.1",  # the driver, for the executors to call back
           # A driver and an executor that start fast (tests/spark_jvm.py).
           "PYSPARK_SUBMIT_ARGS": submit_args("--conf", shlex.quote(
               f"spark.executor.extraJavaOptions={driver_java_options()}"))}
    stdout, run_id = run_monitored(cli, script, str(out), timeout=600, env=env)
    assert stdout.strip() == "7"
    store = open_store(settings)
    try:
        run = store.get_run(run_id)
        assert run.state is RunState.SUCCEEDED, run.error_message
        spark = run.details["spark"]
        assert spark["master"] == cluster.url
        assert spark["appId"].startswith("app-")  # an application id of the master
        # The master ran it on the worker's executor.
        (app,) = [a for a in cluster.state()["completedapps"] if a["id"] == spark["appId"]]
        assert app["name"] == "standalone" and app["state"] == "FINISHED"
        # Live metrics, as in local mode: the executor (not the driver) counted.
        executors = store.get_run_metrics(
            run.run_id, "glue.driver.ExecutorAllocationManager.executors.numberAllExecutors")
        assert executors and max(d.value for d in executors) == 1.0
        totals = spark["totals"]
        assert totals["recordsRead"] >= 100_000 and totals["numCompletedTasks"] > 0
        assert store.get_run_metrics(run.run_id, "glue.driver.jvm.heap.usage")
        assert not store.get_run_metrics(run.run_id, "glue.ALL.system.cpuSystemLoad")
        # The event log, switched on from outside, and its analysis.
        log = Path(run.details["sparkEventLog"])
        assert log.parent == settings.spark_events_dir and spark["appId"] in log.name
        summary = run.details["sparkAnalysis"]
        assert summary["applicationId"] == spark["appId"] and summary["completed"]
        assert summary["executors"] == 1
        assert summary["tasks"] == totals["numCompletedTasks"]
        assert summary["totals"]["outputRecords"] == 7
        # Data events, from the job's own capture.
        events = store.lookup_audit_events(AuditQuery(run_id=run.run_id, category="Data"))
        by_name = {e["eventName"]: e for e in events}
        assert sorted(by_name) == ["ReadDataset", "WriteDataset"] and len(events) == 2
        write = by_name["WriteDataset"]
        assert write["dataset"] == out.as_uri() and write["rows"] == 7
        assert write["columns"] == ["day", "revenue"]
        assert by_name["ReadDataset"]["columns"] == ["revenue"]
    finally:
        store.close()
