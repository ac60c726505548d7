"""Live monitoring of a PySpark job's application through Spark's REST API.

When the job's SparkContext starts, the SDK reports its web UI address (a ``spark``
side-channel record); from then on :class:`SparkPoller` reads the application's REST API
(``/api/v1``) and metrics servlet (``/metrics/json``) every second and publishes
Glue-named metrics for the run:

- ``glue.driver.aggregate.`` ``numCompletedTasks``, ``numFailedTasks``, ``numKilledTasks``,
  ``numCompletedStages``, ``recordsRead`` (Count) and ``bytesRead``,
  ``shuffleBytesWritten``, ``shuffleLocalBytesRead`` (Bytes): deltas since the last report;
- ``glue.driver.jvm.heap.used`` (Bytes) and ``glue.driver.jvm.heap.usage`` (0-1): gauges;
- ``glue.ALL.system.cpuSystemLoad`` (0-1; local masters only: this machine's load);
- ``glue.driver.ExecutorAllocationManager.executors.numberAllExecutors`` (Count);
- ``glue.driver.skewness.stage`` (0-1, Glue's skew measure of the worst active stage).

Aggregate metrics are deltas, as Glue's are: their SUM over any period is what happened
in it. Just before the context stops the job reports its final totals, so the deltas add
up to the application's totals even for work done after the last poll.
:class:`SparkMonitorHook` (a run hook) starts and stops the poller and records the
application, its configuration, totals, skewed stages and event-log path in
``run.details["spark"]`` and ``run.details["sparkEventLog"]``.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pipetrail.model.clock import now_ms
from pipetrail.model.runs import JobRun
from pipetrail.runner.hooks import RunHook
from pipetrail.runner.launch import Launch
from pipetrail.sdk.spark_status import app_url, get_json, stage_skew, stage_totals

POLL_SECONDS = 1.0
REQUEST_TIMEOUT = 2.0
AGGREGATE_UNITS = {
    "numCompletedTasks": "Count",
    "numFailedTasks": "Count",
    "numKilledTasks": "Count",
    "numCompletedStages": "Count",
    "recordsRead": "Count",
    "bytesRead": "Bytes",
    "shuffleBytesWritten": "Bytes",
    "shuffleLocalBytesRead": "Bytes",
}
# Skewed stages kept in the run's details (the worst first).
MAX_SKEWED_STAGES = 5
EVENT_LOG_SUFFIXES = ("", ".inprogress", ".zstd", ".lz4", ".snappy", ".lzf",
                      ".zstd.inprogress", ".lz4.inprogress", ".snappy.inprogress",
                      ".lzf.inprogress")


class SparkPoller(threading.Thread):
    """Polls one Spark application every second into the launch's metrics."""

    def __init__(self, launch: Launch, app: dict[str, Any],
                 interval: float = POLL_SECONDS) -> None:
        super().__init__(name="pipetrail-spark", daemon=True)
        self.launch = launch
        self.app = app
        self.interval = interval
        self.base = app_url(str(app["uiWebUrl"]), str(app["appId"]))
        self.reported: dict[str, int] = dict.fromkeys(AGGREGATE_UNITS, 0)
        self.polls = 0
        self.skew: dict[tuple[int, int], dict[str, Any]] = {}
        self.peak_heap_usage = 0.0
        self._halt = threading.Event()
        self._local = str(app.get("master", "")).startswith("local")

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(REQUEST_TIMEOUT * 4)

    def run(self) -> None:
        import psutil

        psutil.cpu_percent(None)
        while not self._halt.wait(self.interval):
            with contextlib.suppress(Exception):
                self.poll()

    def poll(self) -> None:
        """One report: aggregate deltas and gauges (the application may be gone)."""
        try:
            stages = get_json(f"{self.base}/stages", REQUEST_TIMEOUT)
        except (OSError, ValueError):
            return
        if not isinstance(stages, list):
            return
        ts = now_ms()
        self.polls += 1
        self.report_totals(stage_totals(stages), ts)
        self._executors(ts)
        self._jvm(ts)
        if self._local:
            import psutil

            load = psutil.cpu_percent(None) / 100.0
            self.launch.metric("glue.ALL.system.cpuSystemLoad", round(load, 4), "None", ts)
        worst = 0.0
        for stage in stages:
            if stage.get("status") != "ACTIVE":
                continue
            skew = stage_skew(self.base, stage, REQUEST_TIMEOUT)
            if skew is not None:
                self.note_skew(skew)
                worst = max(worst, float(skew["skewness"]))
        self.launch.metric("glue.driver.skewness.stage", worst, "None", ts)

    def report_totals(self, totals: dict[str, int], ts: int) -> None:
        """Publish the change of each total since the last report."""
        for name, unit in AGGREGATE_UNITS.items():
            value = int(totals.get(name, 0))
            delta = value - self.reported[name]
            if delta < 0:  # a stage attempt vanished from the UI's retained list
                delta = 0
            self.reported[name] = max(value, self.reported[name])
            self.launch.metric(f"glue.driver.aggregate.{name}", delta, unit, ts)

    def note_skew(self, skew: dict[str, Any]) -> None:
        key = (int(skew["stageId"]), int(skew.get("attemptId", 0)))
        known = self.skew.get(key)
        if known is None or skew["durationRatio"] >= known["durationRatio"]:
            self.skew[key] = skew

    def _executors(self, ts: int) -> None:
        try:
            executors = get_json(f"{self.base}/executors", REQUEST_TIMEOUT)
        except (OSError, ValueError):
            return
        if not isinstance(executors, list):
            return
        running = [e for e in executors if e.get("isActive")
                   and (e.get("id") != "driver" or int(e.get("totalCores") or 0) > 0)]
        self.launch.metric("glue.driver.ExecutorAllocationManager.executors."
                           "numberAllExecutors", len(running), "Count", ts)

    def _jvm(self, ts: int) -> None:
        ui = str(self.app["uiWebUrl"]).rstrip("/")
        try:
            gauges = get_json(f"{ui}/metrics/json", REQUEST_TIMEOUT).get("gauges", {})
        except (OSError, ValueError, AttributeError):
            return
        for suffix, name, unit in ((".driver.jvm.heap.used", "glue.driver.jvm.heap.used",
                                    "Bytes"),
                                   (".driver.jvm.heap.usage", "glue.driver.jvm.heap.usage",
                                    "None")):
            value = next((g.get("value") for k, g in gauges.items()
                          if k.endswith(suffix) and isinstance(g, dict)), None)
            if isinstance(value, (int, float)):
                if name.endswith("usage"):
                    self.peak_heap_usage = max(self.peak_heap_usage, float(value))
                self.launch.metric(name, float(value), unit, ts)


def event_log_path(app: dict[str, Any]) -> str | None:
    """The event log the application wrote (a file, or a rolling folder), if local."""
    conf = app.get("conf") or {}
    if str(conf.get("spark.eventLog.enabled", "false")).lower() != "true":
        return None
    folder = str(conf.get("spark.eventLog.dir", "")).rstrip("/")
    app_id = str(app.get("appId", ""))
    if not folder or not app_id:
        return None
    parts = urlsplit(folder)
    if parts.scheme not in {"", "file"}:
        return f"{folder}/{app_id}"
    base = Path(unquote(parts.path))
    candidates = [base / f"eventlog_v2_{app_id}"]
    candidates += [base / f"{app_id}{suffix}" for suffix in EVENT_LOG_SUFFIXES]
    found = next((c for c in candidates if c.exists()), None)
    return str(found) if found is not None else None


class SparkMonitorHook(RunHook):
    """Polls a run's Spark application while it runs; records it when the run ends."""

    def __init__(self, interval: float = POLL_SECONDS) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._pollers: dict[str, SparkPoller] = {}
        self._launch: Launch | None = None

    def on_start(self, run: JobRun, launch: Launch) -> None:
        self._launch = launch
        launch.watch("spark", lambda record: self._start(launch, record))

    def _start(self, launch: Launch, record: dict[str, Any]) -> None:
        if not record.get("uiWebUrl") or not record.get("appId"):
            return
        with self._lock:
            if record["appId"] in self._pollers:
                return
            for poller in self._pollers.values():
                poller._halt.set()
            poller = SparkPoller(launch, record, self.interval)
            self._pollers[str(record["appId"])] = poller
        poller.start()

    def before_final(self, run: JobRun, launch: Launch) -> None:
        app = launch.latest.get("spark")
        with self._lock:
            pollers = dict(self._pollers)
        for running in pollers.values():
            running.stop()
        if app is None:
            return
        poller = pollers.get(str(app.get("appId")))
        final = launch.latest.get("spark-totals")
        if final is not None and final.get("appId") != app.get("appId"):
            final = None
        totals: dict[str, int] = dict(poller.reported) if poller is not None else {}
        skewed = list(poller.skew.values()) if poller is not None else []
        if final is not None and isinstance(final.get("totals"), dict):
            if poller is not None:
                poller.report_totals(final["totals"], now_ms())
            totals = {k: int(v) for k, v in final["totals"].items()}
            for skew in final.get("stages") or []:
                if poller is not None:
                    poller.note_skew(skew)
                else:
                    skewed.append(skew)
            if poller is not None:
                skewed = list(poller.skew.values())
        skewed.sort(key=lambda s: -float(s.get("durationRatio", 0)))
        details: dict[str, Any] = {
            "appId": app.get("appId"), "appName": app.get("appName"),
            "version": app.get("version"), "master": app.get("master"),
            "uiWebUrl": app.get("uiWebUrl"), "conf": app.get("conf") or {},
            "totals": totals, "polls": poller.polls if poller is not None else 0,
            "skewedStages": skewed[:MAX_SKEWED_STAGES],
        }
        if poller is not None and poller.peak_heap_usage:
            details["peakHeapUsage"] = round(poller.peak_heap_usage, 4)
        action = launch.latest.get("spark-action")
        if action is not None:
            details["lastAction"] = {k: v for k, v in action.items() if k not in {"t"}}
        run.details["spark"] = details
        run.details["sparkEventLog"] = event_log_path(app)
