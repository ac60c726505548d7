"""Ingest step: mask secrets before anything is stored (see :mod:`pipetrail.logs.redaction`)."""

from __future__ import annotations

import dataclasses

from pipetrail.ingest.pipeline import Emit
from pipetrail.logs.redaction import Redactor, StreamRedactor
from pipetrail.model.logs import LogEvent


class RedactStep:
    """Redacts each event with its stream's carried-over state; a piece of a long line
    may be held back (dropped here, its text carried into the next piece)."""

    def __init__(self, redactor: Redactor) -> None:
        self._streams = StreamRedactor(redactor)

    def __call__(self, event: LogEvent, emit: Emit) -> LogEvent | None:
        redacted = self._streams.redact((event.group, event.stream), event.message,
                                        event.partial)
        if redacted is None:
            return None
        if redacted == event.message:
            return event
        return dataclasses.replace(event, message=redacted)
