"""Where a run's records go: the store (embedded) or an agent's spool (remote runs).

The runner only needs these four methods; :class:`pipetrail.store.Store` has them, and
so has the remote agent's sink, which writes to an on-disk spool that a background
thread delivers to the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pipetrail.model.audit import AuditEvent
from pipetrail.model.logs import LogEvent
from pipetrail.model.metrics import MetricDatum
from pipetrail.model.runs import JobRun


class RecordSink(Protocol):
    def update_run(self, run: JobRun) -> None: ...

    def append_log_events(self, events: Sequence[LogEvent]) -> None: ...

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None: ...

    def append_audit_events(self, events: Sequence[AuditEvent]) -> int: ...
