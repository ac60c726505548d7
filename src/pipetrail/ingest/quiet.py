"""Ingest step: drop known Spark/YARN/JVM noise (``PIPETRAIL_LOG_FILTER=standard``)."""

from __future__ import annotations

import dataclasses

from pipetrail.ingest.pipeline import Emit
from pipetrail.logs.noise import NoiseFilter
from pipetrail.model.logs import LogEvent


class QuietStep:
    """Drops noise lines (see :mod:`pipetrail.logs.noise`). Pieces of a long line, and
    the piece that ends one, always pass: they are never noise, and the next steps must
    see a long line whole."""

    def __init__(self, noise: NoiseFilter | None = None) -> None:
        self._noise = noise or NoiseFilter()
        self._open_lines: set[tuple[str, str]] = set()

    def __call__(self, event: LogEvent, emit: Emit) -> LogEvent | None:
        key = (event.group, event.stream)
        if event.partial:
            self._open_lines.add(key)
            return event
        if key in self._open_lines:
            self._open_lines.discard(key)
            return event
        cleaned = self._noise.clean(event.message)
        if cleaned is None:
            return None
        if cleaned == event.message:
            return event
        return dataclasses.replace(event, message=cleaned)
