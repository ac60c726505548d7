"""Batches a run's records into the store from one background thread.

Records are queued by the pump and the sampler and written in batches, all of a kind in
one transaction, at most once per ``interval`` (20 ms by default): a record that arrives
after a quiet spell is written at once, while a steady stream is gathered into one
transaction per interval. So a lone line reaches the store within a few milliseconds and
a busy job still costs at most 50 batches a second. A store that fails is retried with
back-off; nothing queued is dropped while the run lasts, and ``close`` makes a last
attempt and reports what could not be written.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

from pipetrail.ingest.pipeline import IngestPipeline
from pipetrail.model.audit import AuditEvent
from pipetrail.model.errors import PipetrailError
from pipetrail.model.logs import LogEvent
from pipetrail.model.metrics import MetricDatum
from pipetrail.runner.sink import RecordSink

FLUSH_INTERVAL = 0.02
MAX_BATCH = 5000
RETRY_DELAYS = (0.1, 0.2, 0.5, 1.0, 2.0)
_WAKE = object()  # put on the queue by close() so the thread wakes at once


class _Barrier:
    """Queued by ``sync``: set once everything queued before it is stored."""

    def __init__(self) -> None:
        self.done = threading.Event()


class BatchWriter(threading.Thread):
    def __init__(self, store: RecordSink, records: queue.SimpleQueue[Any] | None = None,
                 interval: float = FLUSH_INTERVAL, pipeline: IngestPipeline | None = None
                 ) -> None:
        super().__init__(name="pipetrail-writer", daemon=True)
        self._store = store
        self._pipeline = pipeline or IngestPipeline()
        self._interval = interval
        self._queue: queue.SimpleQueue[Any] = (
            records if records is not None else queue.SimpleQueue())
        self._closing = threading.Event()
        self.failures: list[str] = []
        self.written = 0
        self._raw_logs: list[LogEvent] = []
        self._logs: list[LogEvent] = []
        self._metrics: list[MetricDatum] = []
        self._audit: list[AuditEvent] = []
        self._barriers: list[_Barrier] = []

    def put(self, record: LogEvent | MetricDatum | AuditEvent) -> None:
        self._queue.put(record)

    def run(self) -> None:
        last_flush = 0.0
        while not self._closing.is_set():
            try:
                first = self._queue.get(timeout=0.25)
            except queue.Empty:
                continue
            self._sort(first)
            # At most one flush per interval: a line waits at most ``interval``, and a
            # busy job's lines are written in batches.
            wait = last_flush + self._interval - time.monotonic()
            if wait > 0 and not self._closing.is_set() and not self._barriers:
                self._closing.wait(wait)
            self._drain()
            last_flush = time.monotonic()
            self._flush(retry_until=None)
            self._release()
        # Closing: write everything still queued, a batch at a time.
        deadline = time.monotonic() + 30
        while self._drain() or self._pending():
            self._flush(retry_until=deadline)
            if self.failures:
                lost = 0
                while self._drain():
                    lost += len(self._raw_logs) + len(self._metrics) + len(self._audit)
                    self._raw_logs, self._metrics, self._audit = [], [], []
                if lost:
                    self.failures.append(f"{lost} more queued records were not stored")
                break
            self._release()
        self._release()

    def sync(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued before this call is stored (False on timeout,
        e.g. while the store is failing)."""
        if not self.is_alive():
            return False
        barrier = _Barrier()
        self._queue.put(barrier)
        return barrier.done.wait(timeout)

    def _release(self) -> None:
        if self._logs or self._metrics or self._audit:
            return  # still retrying: not stored yet
        for barrier in self._barriers:
            barrier.done.set()
        self._barriers = []

    def close(self, timeout: float = 60) -> None:
        self._closing.set()
        self._queue.put(_WAKE)
        self.join(timeout)

    def _sort(self, record: Any) -> None:
        if record is _WAKE:
            return
        if isinstance(record, _Barrier):
            self._barriers.append(record)
            return
        if isinstance(record, LogEvent):
            self._raw_logs.append(record)
        elif isinstance(record, MetricDatum):
            self._metrics.append(record)
        else:
            self._audit.append(record)

    def _drain(self) -> int:
        """Take up to a batch's worth of queued records; how many were taken."""
        for taken in range(MAX_BATCH * 4):
            try:
                self._sort(self._queue.get_nowait())
            except queue.Empty:
                return taken
        return MAX_BATCH * 4

    def _pending(self) -> bool:
        return bool(self._raw_logs or self._logs or self._metrics or self._audit)

    def _flush(self, retry_until: float | None) -> None:
        if self._raw_logs:  # each event passes the pipeline once, even when writes retry
            kept, derived = self._pipeline.process_logs(self._raw_logs)
            self._raw_logs = []
            self._logs.extend(kept)
            self._metrics.extend(derived)
        attempt = 0
        while self._logs or self._metrics or self._audit:
            try:
                if self._logs:
                    self._store.append_log_events(self._logs)
                    self.written += len(self._logs)
                    self._logs = []
                if self._metrics:
                    self._store.put_metric_data(self._metrics)
                    self.written += len(self._metrics)
                    self._metrics = []
                if self._audit:
                    self._store.append_audit_events(self._audit)
                    self.written += len(self._audit)
                    self._audit = []
            except PipetrailError as exc:
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                attempt += 1
                if retry_until is None:
                    if self._closing.wait(delay):
                        return  # the final flush in run() retries once more
                    continue
                if time.monotonic() + delay > retry_until:
                    lost = len(self._logs) + len(self._metrics) + len(self._audit)
                    self.failures.append(f"{lost} records could not be stored: {exc}")
                    return
                time.sleep(delay)
