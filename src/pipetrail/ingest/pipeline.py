"""The ingest pipeline: log events pass a list of small steps on their way to the store.

A step takes one log event and returns it (changed or not), or None to drop it, and may
emit metric datums derived from it (a metric filter does). Runs (the batch writer) and,
later, the server's ingest endpoints feed records through the same pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pipetrail.model.logs import LogEvent
from pipetrail.model.metrics import MetricDatum

Emit = Callable[[MetricDatum], None]
LogStep = Callable[[LogEvent, Emit], LogEvent | None]


@dataclass
class IngestPipeline:
    log_steps: list[LogStep] = field(default_factory=list)

    def process_logs(self, events: Sequence[LogEvent]
                     ) -> tuple[list[LogEvent], list[MetricDatum]]:
        """The events to store, and the datums the steps derived from them."""
        if not self.log_steps:
            return list(events), []
        derived: list[MetricDatum] = []
        kept: list[LogEvent] = []
        for event in events:
            current: LogEvent | None = event
            for step in self.log_steps:
                current = step(current, derived.append) if current is not None else None
            if current is not None:
                kept.append(current)
        return kept, derived
