"""The runner's sink for a remote run: every record goes to the spool, in order."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pipetrail.agent.spool import Spool
from pipetrail.agent.wire import datum_wire, event_wire, log_wire, run_wire, start_wire
from pipetrail.model.audit import AuditEvent
from pipetrail.model.logs import LogEvent
from pipetrail.model.metrics import MetricDatum
from pipetrail.model.runs import JobRun

#: A batch holds at most this many records and (about) this many bytes of messages.
BATCH_RECORDS = 2_000
BATCH_BYTES = 1024 * 1024  # characters: JSON of it stays well under the 8 MiB body limit
#: Scripts up to this size travel with the run's start (larger ones: hash only).
MAX_SHIPPED_SCRIPT = 1024 * 1024


class SpoolSink:
    """Implements the runner's record sink by appending batches to a spool."""

    def __init__(self, spool: Spool, notify: Callable[[], None] = lambda: None) -> None:
        self.spool = spool
        self.notify = notify
        self.records = 0

    def begin_run(self, run: JobRun, content: bytes, arguments: list[str]) -> None:
        """The run's first batch: its start (StartJobRun) and its first state."""
        shipped = content if len(content) <= MAX_SHIPPED_SCRIPT else None
        start = start_wire(run.script or "", arguments, run.timeout, run.code_hash or "",
                           shipped)
        self._append({"start": start, "run": run_wire(run)})

    def update_run(self, run: JobRun) -> None:
        self._append({"run": run_wire(run)})

    def append_log_events(self, events: Sequence[LogEvent]) -> None:
        for chunk in _chunks(events, lambda e: len(e.message) + 96):
            self._append({"logEvents": [log_wire(e) for e in chunk]})

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        for datum in datums:
            datum.validate()
        for chunk in _chunks(datums, lambda d: 160):
            self._append({"metricData": [datum_wire(d) for d in chunk]})

    def append_audit_events(self, events: Sequence[AuditEvent]) -> int:
        for event in events:
            event.validate()
        for chunk in _chunks(events, lambda e: 2048):
            self._append({"auditEvents": [event_wire(e) for e in chunk]})
        return len(events)

    def _append(self, batch: dict[str, Any]) -> None:
        segment = self.spool.append(batch)
        self.records += segment.records
        self.notify()


def _chunks(items: Sequence[Any], size: Callable[[Any], int]) -> Iterator[Sequence[Any]]:
    start = 0
    while start < len(items):
        end = start
        total = 0
        while end < len(items) and end - start < BATCH_RECORDS:
            total += size(items[end])
            if total > BATCH_BYTES and end > start:
                break
            end += 1
        yield items[start:end]
        start = end
