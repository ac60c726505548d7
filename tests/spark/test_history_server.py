"""Against a real Spark History Server: same logs, same REST answers (slow, needs PySpark).

Starts ``sbin/start-history-server.sh`` of the installed PySpark on 127.0.0.1 and a free
port, over copies of the corpus logs (named as the History Server wants them: a plain log
by its application id, a rolling folder ``eventlog_v2_<appId>``), of the codec fixtures and
of a synthetic log with failed, killed and skipped work, then compares its REST answers
with ``analyze``. One server serves the whole module (a History Server takes seconds to
start); the last test stops it and checks that its port is free again, and it is stopped
at the end of the module whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipetrail.spark import analyze
from pipetrail.spark.findings import Registry
from tests.corpus import require_corpus
from tests.spark.synth import EventLog, Task
from tests.spark.test_conformance import LOGS, compare_app

pytestmark = pytest.mark.slow

CODEC_FIXTURES = ["codec-zstd.zstd", "codec-lz4.lz4", "codec-snappy.snappy", "codec-lzf.lzf",
                  "plans.zstd"]
QUANTILES = "0.0,0.25,0.5,0.75,1.0"


def spark_home() -> Path:
    pyspark = pytest.importorskip("pyspark", reason="PySpark is not installed "
                                  "(pip install -e '.[spark]' to run this test)")
    home = Path(pyspark.__file__).parent
    if not (home / "sbin" / "start-history-server.sh").is_file():
        pytest.skip("this PySpark has no sbin/start-history-server.sh")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for the History Server")
    return home


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stress_log() -> EventLog:
    """Failures, a kill, a retried stage attempt, a skipped stage and a lost executor."""
    log = EventLog(app_id="app-20261101000000-0042", name="stress")
    log.executor("1", 2)
    log.executor("2", 2)
    log.job([[Task(300, executor="1", input_bytes=5000, gc=3),
              Task(900, executor="2", reason="ExceptionFailure", index=1),
              Task(400, executor="2", index=1, shuffle_write=700),
              Task(100, executor="1", reason="TaskKilled", index=2),
              Task(250, executor="1", index=2, started=False, input_bytes=99)]],
            skipped=[3])
    log.job([[Task(200, executor="2", reason="FetchFailed")],
             [Task(150, executor="1", shuffle_read=700, memory_spill=10, disk_spill=5)]],
            attempts={3: 1})
    log.remove_executor("2", "worker lost")
    log.job([[Task(120, executor="1"), Task(80, executor="1")]])
    log.end()
    return log


class HistoryServer:
    def __init__(self, home: Path, logs: Path, work: Path) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.env = dict(
            os.environ, SPARK_HOME=str(home), SPARK_LOCAL_IP="127.0.0.1",
            SPARK_LOG_DIR=str(work / "logs"), SPARK_PID_DIR=str(work / "pids"),
            SPARK_IDENT_STRING=f"pipetrail-test-{self.port}", SPARK_NO_DAEMONIZE="",
            SPARK_HISTORY_OPTS=" ".join([
                f"-Dspark.history.fs.logDirectory=file://{logs}",
                f"-Dspark.history.ui.port={self.port}",
                "-Dspark.history.fs.update.interval=1s",
                f"-Dspark.history.store.path={work / 'store'}",
                "-Dspark.history.store.hybridStore.enabled=false",
            ]))
        self.env.pop("SPARK_NO_DAEMONIZE")

    def start(self) -> None:
        subprocess.run([str(self.home / "sbin" / "start-history-server.sh")], env=self.env,
                       check=True, capture_output=True, timeout=120)

    def stop(self) -> None:
        subprocess.run([str(self.home / "sbin" / "stop-history-server.sh")], env=self.env,
                       check=False, capture_output=True, timeout=120)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read())

    def wait_for(self, app_ids: set[str], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        seen: set[str] = set()
        while time.monotonic() < deadline:
            try:
                seen = {a["id"] for a in self.get("/applications?status=completed")} | {
                    a["id"] for a in self.get("/applications?status=running")}
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                seen = set()
            if app_ids <= seen:
                return
            time.sleep(1)
        raise AssertionError(f"History Server listed {sorted(seen)}, not {sorted(app_ids)}")

    def answers(self, app_id: str) -> dict[str, Any]:
        base = f"/applications/{app_id}"
        return {
            "application": self.get(base),
            "jobs": self.get(f"{base}/jobs"),
            "stages": self.get(f"{base}/stages"),
            "executors": self.get(f"{base}/allexecutors"),
            "sql": self.get(f"{base}/sql?details=true&planDescription=false&length=1000"),
        }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[
        tuple[HistoryServer, dict[str, Path]]]:
    home = spark_home()
    root = require_corpus()
    work = tmp_path_factory.mktemp("history-server")
    logs = work / "event-logs"
    logs.mkdir()
    ours: dict[str, Path] = {}
    for app_id, name in LOGS.items():
        source = root / "spark-events" / name
        if source.is_dir():
            target = logs / f"eventlog_v2_{app_id}"
            target.mkdir()
            for part in source.iterdir():
                if not part.name.startswith("."):
                    shutil.copy(part, target / part.name)
        else:
            target = logs / app_id
            shutil.copy(source, target)
        ours[app_id] = target
    for name in CODEC_FIXTURES:
        app_id = str(analyze(data_dir / name, Registry()).application["id"])
        target = logs / f"{app_id}.{name.rsplit('.', 1)[1]}"
        shutil.copy(data_dir / name, target)
        ours[app_id] = target
    stress = stress_log()
    ours[stress.app_id] = stress.write(logs / stress.app_id)
    hs = HistoryServer(home, logs, work)
    hs.start()
    try:
        hs.wait_for(set(ours))
        yield hs, ours
    finally:
        hs.stop()


def test_rest_answers_equal_our_analysis(server: tuple[HistoryServer, dict[str, Path]]) -> None:
    hs, logs = server
    problems = {}
    for app_id, path in sorted(logs.items()):
        report = analyze(path, Registry()).to_dict()
        found = compare_app(hs.answers(app_id), report)
        if found:
            problems[app_id] = found
    assert problems == {}


def test_task_duration_quantiles_equal_task_summary(
        server: tuple[HistoryServer, dict[str, Path]]) -> None:
    hs, logs = server
    checked = 0
    for app_id, path in sorted(logs.items()):
        for stage in analyze(path, Registry()).stages:
            ours = stage["taskSummary"]
            if not ours or not ours["count"]:
                continue
            theirs = hs.get(f"/applications/{app_id}/stages/{stage['stageId']}/"
                            f"{stage['attemptId']}/taskSummary?quantiles={QUANTILES}")
            assert ours["duration"] == theirs["duration"], (app_id, stage["stageId"])
            checked += 1
    assert checked >= 20


def test_server_stops(server: tuple[HistoryServer, dict[str, Path]]) -> None:
    """The start/stop pair leaves no server behind (its port is free again). Last in the
    module: it stops the module's server."""
    hs, _ = server
    hs.get("/applications")  # it is up
    hs.stop()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", hs.port)) != 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"port {hs.port} still answers after stop-history-server.sh")
