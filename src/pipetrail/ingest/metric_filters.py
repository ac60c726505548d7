"""Ingest step: the stored metric filters turn log events into metric datums as they arrive.

The filters of every log group are loaded from the store when the step is made (at the
start of a run) and reloaded every :data:`REFRESH_SECONDS`, so a filter put while a run
is going applies to its later lines. Each event an applicable filter matches (or, with a
default value, does not match) gives one datum, timestamped with the event and tagged
with the event's run; a filter whose regex times out on an event skips that event.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pipetrail.ingest.pipeline import Emit
from pipetrail.logs.metric_filter import CompiledMetricFilter, MetricFilter
from pipetrail.model.errors import PipetrailError
from pipetrail.model.logs import LogEvent
from pipetrail.store import Store

REFRESH_SECONDS = 10.0


class MetricFilterStep:
    def __init__(self, store: Store, refresh_seconds: float = REFRESH_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._filters: dict[str, list[CompiledMetricFilter]] = {}
        self._loaded_at = clock()
        self.refresh()

    @property
    def filter_count(self) -> int:
        return sum(len(filters) for filters in self._filters.values())

    def refresh(self) -> None:
        """Reload the filters; when the store cannot be read, keep the ones loaded."""
        self._loaded_at = self._clock()
        try:
            stored = self._store.describe_metric_filters()
        except PipetrailError:
            return
        by_group: dict[str, list[CompiledMetricFilter]] = {}
        for item in stored:
            try:
                compiled = MetricFilter.from_transformation(
                    item.name, item.pattern, item.transformation).compile()
            except (PipetrailError, ValueError, TypeError):
                continue  # checked when it was put; a newer version may read it differently
            by_group.setdefault(item.group, []).append(compiled)
        self._filters = by_group

    def __call__(self, event: LogEvent, emit: Emit) -> LogEvent | None:
        if self._clock() - self._loaded_at >= self._refresh_seconds:
            self.refresh()
        for metric_filter in self._filters.get(event.group, ()):
            try:
                datum = metric_filter.datum_for(event)
            except PipetrailError:
                continue
            if datum is not None:
                datum.run_id = event.run_id
                emit(datum)
        return event
