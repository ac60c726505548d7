"""Starting a job process and capturing it, before the store is even open.

``pipetrail run`` spawns the job as early as it can (after cheap checks of the script
and the configuration) and opens the store while the job starts up, so the job is not
kept waiting for the runner's own start-up. Until the store is open, captured records
wait in :attr:`Launch.records`; the batch writer then takes them from the same queue.
This module therefore imports nothing heavy (no SQLAlchemy).
"""

from __future__ import annotations

import contextlib
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import orjson

from pipetrail.model.audit import AuditEvent
from pipetrail.model.clock import now_ms
from pipetrail.model.identity import Identity, local_identity
from pipetrail.model.logs import ERROR_GROUP, OUTPUT_GROUP, LogEvent
from pipetrail.model.metrics import JOBS_NAMESPACE, MetricDatum
from pipetrail.runner.capture import OutputPump
from pipetrail.runner.data_events import on_data
from pipetrail.runner.process import become_subreaper, die_with_parent
from pipetrail.sdk.channel import ENV_FD

if TYPE_CHECKING:
    from pipetrail.runner.sampler import Sample

LOGGER_STREAM_SUFFIX = "-logger"
# Lines of the job's stderr (and of crash reports) kept in memory for failure analysis,
# each cut to this many characters.
ERROR_TAIL_LINES = 500
ERROR_TAIL_CHARS = 16384
SPARK_SUBMIT_ENV = "PYSPARK_SUBMIT_ARGS"


@dataclass
class RunOptions:
    script: Path
    arguments: list[str] = field(default_factory=list)
    timeout: float | None = None
    sample_interval: float = 1.0
    echo: bool = True
    python: str = sys.executable
    # Where PySpark jobs write their event logs (None: event logging is not switched on).
    spark_events_dir: Path | None = None


class Launch:
    """A spawned job with its output pump and process sampler running.

    ``identity`` is the principal the run acts for: what the job does (its data events)
    is recorded as done by it. By default, the operating-system user.
    """

    def __init__(self, run_id: str, job_name: str, options: RunOptions,
                 identity: Identity | None = None) -> None:
        self.run_id = run_id
        self.job_name = job_name
        self.options = options
        self.identity = identity if identity is not None else local_identity()
        self.records: queue.SimpleQueue[LogEvent | MetricDatum | AuditEvent] = (
            queue.SimpleQueue())
        self.exception: dict[str, Any] | None = None
        # The latest side-channel record of each kind (env, spark, spark-action …).
        self.latest: dict[str, dict[str, Any]] = {}
        # What the job's data records named, from the first one on:
        # (operation, dataset, details.location or None).
        self.datasets: set[tuple[str, str, str | None]] = set()
        self.error_tail: deque[str] = deque(maxlen=ERROR_TAIL_LINES)
        self.fault_text: deque[str] = deque(maxlen=ERROR_TAIL_LINES)
        self._watchers: dict[str, list[Callable[[dict[str, Any]], None]]] = {}
        self._records_lock = threading.RLock()
        self.notes: list[str] = []
        self.started_on = now_ms()
        self.started_monotonic = time.monotonic()
        self._dims = {"JobName": job_name, "JobRunId": run_id}
        self._job_dims = {"JobName": job_name, "JobRunId": "ALL"}
        self.stop_signal: int | None = None
        self._previous_handlers: dict[int, Any] = {}
        become_subreaper()
        self._catch_signals()
        self.pump = OutputPump(self._on_line, self._on_record)
        self.proc = self._spawn()
        for note in self.notes:
            self.log(ERROR_GROUP, now_ms(), note)
        # Loaded after the spawn: the job does not wait for psutil's import.
        from pipetrail.runner.sampler import ProcessSampler

        self.sampler = ProcessSampler(self.proc.pid, options.sample_interval, self._on_sample)
        self.pump.start()
        self.sampler.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        chan_r, chan_w = os.pipe()
        env = dict(os.environ)
        env.update({
            ENV_FD: str(chan_w),
            "PIPETRAIL_RUN_ID": self.run_id,
            "PIPETRAIL_JOB_NAME": self.job_name,
            "PYSPARK_PYTHON": env.get("PYSPARK_PYTHON", self.options.python),
        })
        if self.options.spark_events_dir is not None:
            self._enable_spark_event_log(env, self.options.spark_events_dir)
        command = [self.options.python, "-m", "pipetrail.sdk.bootstrap",
                   str(self.options.script), *self.options.arguments]
        try:
            proc = subprocess.Popen(command, stdout=out_w, stderr=err_w, pass_fds=(chan_w,),
                                    env=env, preexec_fn=die_with_parent)
        except OSError:
            for fd in (out_r, err_r, chan_r):
                os.close(fd)
            raise
        finally:
            for fd in (out_w, err_w, chan_w):
                os.close(fd)
        echo = self.options.echo
        self.pump.add(out_r, "output", sys.stdout.fileno() if echo else None)
        self.pump.add(err_r, "error", sys.stderr.fileno() if echo else None)
        self.pump.add(chan_r, "channel")
        return proc

    def _enable_spark_event_log(self, env: dict[str, str], folder: Path) -> None:
        """Switch on a PySpark job's event log (and the JVM heap gauges of its driver)
        through ``PYSPARK_SUBMIT_ARGS``, before any settings of the user's own, which
        therefore win; the folder must exist before the SparkContext starts."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.notes.append(f"pipetrail: Spark event logging is off: cannot create "
                              f"{folder}: {exc.strerror or exc}")
            return
        ours = spark_submit_confs(folder)
        given = env.get(SPARK_SUBMIT_ENV, "").strip()
        env[SPARK_SUBMIT_ENV] = f"{ours} {given}" if given else f"{ours} pyspark-shell"

    def _catch_signals(self) -> None:
        """From before the spawn, SIGINT and SIGTERM ask for a stop (the runner acts on
        :attr:`stop_signal`); asked twice, the job is killed at once."""
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum: int, _frame: FrameType | None) -> None:
            if self.stop_signal is not None and hasattr(self, "proc"):
                terminate_tree(self.proc.pid, signal.SIGKILL)
            self.stop_signal = signum

        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous_handlers[signum] = signal.signal(signum, handler)

    def restore_signals(self) -> None:
        for signum, previous in self._previous_handlers.items():
            signal.signal(signum, previous)
        self._previous_handlers.clear()

    def abort(self) -> None:
        """Stop the job at once (the runner could not start recording it)."""
        terminate_tree(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            terminate_tree(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.sampler.stop()
        self.restore_signals()

    # -- captured records -------------------------------------------------------------

    def log(self, group: str, ts: int, message: str, stream: str | None = None,
            partial: bool = False) -> None:
        self.records.put(LogEvent(group=group, stream=stream or self.run_id, timestamp=ts,
                                  message=message, partial=partial, run_id=self.run_id))

    def metric(self, name: str, value: float, unit: str, ts: int,
               dimensions: dict[str, str] | None = None) -> None:
        """Queue a job metric: the run's own (dimensions JobName and JobRunId), or with
        other ``dimensions`` (then not counted among the run's metrics)."""
        own = dimensions is None
        self.records.put(MetricDatum(namespace=JOBS_NAMESPACE, name=name, timestamp=ts,
                                     value=float(value), unit=unit,
                                     dimensions=self._dims if own else dimensions or {},
                                     run_id=self.run_id if own else None))

    def _on_line(self, kind: str, ts: int, text: str, partial: bool) -> None:
        if kind == "output":
            self.log(OUTPUT_GROUP, ts, text, partial=partial)
        else:
            self.error_tail.append(text[:ERROR_TAIL_CHARS])
            self.log(ERROR_GROUP, ts, text, partial=partial)

    def _on_record(self, record: dict[str, Any]) -> None:
        kind = str(record.get("t"))
        handler = CHANNEL_HANDLERS.get(kind)
        with self._records_lock:  # with watch(): each watcher sees each record once
            if handler is not None:
                handler(self, record)
            watchers = list(self._watchers.get(kind, ()))
        for watcher in watchers:
            with contextlib.suppress(Exception):
                watcher(record)

    def watch(self, kind: str, watcher: Callable[[dict[str, Any]], None]) -> None:
        """Call ``watcher(record)`` for each side-channel record of ``kind`` from now on,
        starting with the latest one already received (for kinds kept in ``latest``)."""
        with self._records_lock:
            self._watchers.setdefault(kind, []).append(watcher)
            latest = self.latest.get(kind)
        if latest is not None:
            with contextlib.suppress(Exception):
                watcher(latest)

    def _on_sample(self, sample: Sample) -> None:
        ts = sample.timestamp
        if sample.cpu_percent is not None:
            self.metric("process.cpu.percent", sample.cpu_percent, "Percent", ts)
            load = sample.cpu_percent / (100.0 * self.sampler.cpu_count)
            self.metric("glue.driver.system.cpuSystemLoad", round(load, 4), "None", ts)
        self.metric("process.memory.rss", sample.rss, "Bytes", ts)
        # Also across the job's runs (JobRunId "ALL", as Glue), so alarms can name a job.
        self.metric("process.memory.rss", sample.rss, "Bytes", ts, self._job_dims)
        if sample.cpu_percent is not None:
            self.metric("process.cpu.percent", sample.cpu_percent, "Percent", ts, self._job_dims)
        self.metric("process.io.readBytes", sample.read_bytes, "Bytes", ts)
        self.metric("process.io.writeBytes", sample.write_bytes, "Bytes", ts)
        self.metric("process.threads", sample.threads, "Count", ts)
        self.metric("process.count", sample.processes, "Count", ts)


def _record_time(record: dict[str, Any]) -> int:
    ts = record.get("ts")
    return ts if isinstance(ts, int) else now_ms()


def _on_log(launch: Launch, record: dict[str, Any]) -> None:
    body = {k: record[k] for k in ("level", "logger", "message", "exception")
            if record.get(k) is not None}
    launch.log(ERROR_GROUP, _record_time(record), orjson.dumps(body).decode(),
               stream=launch.run_id + LOGGER_STREAM_SUFFIX)


def _on_exception(launch: Launch, record: dict[str, Any]) -> None:
    launch.exception = {k: v for k, v in record.items() if k not in {"t", "ts"}}


def _keep_latest(launch: Launch, record: dict[str, Any]) -> None:
    with launch._records_lock:
        launch.latest[str(record.get("t"))] = record


def _on_text(launch: Launch, record: dict[str, Any]) -> None:
    launch.fault_text.append(str(record.get("text", ""))[:ERROR_TAIL_CHARS])


ChannelHandler = Callable[[Launch, dict[str, Any]], None]
# What the runner does with each kind of side-channel record (see pipetrail.sdk.channel).
CHANNEL_HANDLERS: dict[str, ChannelHandler] = {
    "log": _on_log,
    "exception": _on_exception,
    "data": on_data,
    "env": _keep_latest,
    "spark": _keep_latest,
    "spark-action": _keep_latest,
    "spark-totals": _keep_latest,
    "text": _on_text,
}


def spark_submit_confs(folder: Path) -> str:
    """The ``--conf`` arguments that switch on a PySpark job's event log in ``folder``
    and the driver's JVM heap gauges (``jvm.heap.used``, ``jvm.heap.usage``)."""
    confs = {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": folder.resolve().as_uri(),
        "spark.metrics.conf.driver.source.jvm.class":
            "org.apache.spark.metrics.source.JvmSource",
    }
    return " ".join(f"--conf {shlex.quote(f'{k}={v}')}" for k, v in confs.items())


def terminate_tree(pid: int, signum: int) -> None:
    """Send ``signum`` to a process and all its descendants."""
    import psutil

    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return
    for proc in tree:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signum)
