"""The ingest pipeline: log events pass a list of small steps on their way to the store.

A step takes one log event and returns it (changed or not), or None to drop it, and may
emit metric datums derived from it (a metric filter does). Runs (the batch writer) and,
later, the server's ingest endpoints feed records through the same pipeline. Steps see
whole lines; a message longer than one log event can hold is split into several events
after the last step (so a secret is never cut in two before redaction sees it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pipetrail.model.logs import MAX_MESSAGE_BYTES, LogEvent, split_message
from pipetrail.model.metrics import MetricDatum

Emit = Callable[[MetricDatum], None]
LogStep = Callable[[LogEvent, Emit], LogEvent | None]
# A character takes at most 4 bytes in UTF-8: shorter messages never need splitting.
_SURELY_SMALL = MAX_MESSAGE_BYTES // 4


@dataclass
class IngestPipeline:
    log_steps: list[LogStep] = field(default_factory=list)

    def process_logs(self, events: Sequence[LogEvent]
                     ) -> tuple[list[LogEvent], list[MetricDatum]]:
        """The events to store, and the datums the steps derived from them."""
        derived: list[MetricDatum] = []
        kept: list[LogEvent] = []
        steps = self.log_steps
        for event in events:
            current: LogEvent | None = event
            for step in steps:
                current = step(current, derived.append) if current is not None else None
            if current is None:
                continue
            if len(current.message) <= _SURELY_SMALL:
                kept.append(current)
                continue
            kept.extend(dataclasses.replace(current, message=piece)
                        for piece in split_message(current.message))
        return kept, derived
