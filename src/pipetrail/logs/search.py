"""Searching stored log events: filter patterns (FilterLogEvents) and queries (StartQuery).

The store is read page by page in write order, so neither call holds more than a page of
events besides what the pattern or query itself keeps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pipetrail.logs.filter_pattern import compile_pattern
from pipetrail.logs.query import QueryLimits, QueryResult, execute, parse_query
from pipetrail.logs.query.ast import Query
from pipetrail.model.errors import ValidationError
from pipetrail.model.logs import LogEvent
from pipetrail.store import Store

PAGE_SIZE = 5_000
MAX_FILTER_EVENTS = 10_000
DEFAULT_FILTER_EVENTS = 1_000
MAX_QUERY_GROUPS = 50


@dataclass
class FilteredEvents:
    events: list[LogEvent]
    scanned: int
    truncated: bool  # more events matched than the limit let through

    def to_json(self) -> dict[str, Any]:
        return {"events": [event.to_json() for event in self.events],
                "searchedEvents": self.scanned, "truncated": self.truncated}


def stored_events(store: Store, group: str, *, stream: str | None = None,
                  start: int | None = None, end: int | None = None,
                  page_size: int = PAGE_SIZE) -> Iterator[LogEvent]:
    """Every stored event of a group (and stream) in ``[start, end)``, in write order."""
    after: int | None = None
    while True:
        page = store.get_log_events(group, stream, after_id=after, start=start, end=end,
                                    limit=page_size)
        yield from page
        if len(page) < page_size:
            return
        after = page[-1].event_id


def filter_log_events(store: Store, group: str, pattern: str, *, stream: str | None = None,
                      start: int | None = None, end: int | None = None,
                      limit: int = DEFAULT_FILTER_EVENTS) -> FilteredEvents:
    """The events of a group that match a filter pattern, oldest first, at most ``limit``."""
    if not 1 <= limit <= MAX_FILTER_EVENTS:
        raise ValidationError(f"limit must be between 1 and {MAX_FILTER_EVENTS}, not {limit}")
    _check_range(start, end)
    compiled = compile_pattern(pattern)
    matched: list[LogEvent] = []
    scanned = 0
    for event in stored_events(store, group, stream=stream, start=start, end=end):
        scanned += 1
        if compiled.matches(event.message):
            if len(matched) == limit:
                return FilteredEvents(matched, scanned, truncated=True)
            matched.append(event)
    return FilteredEvents(matched, scanned, truncated=False)


def query_log_groups(store: Store, groups: Sequence[str], query: str | Query, *, start: int,
                     end: int, limits: QueryLimits | None = None) -> QueryResult:
    """Run a query over the events of ``groups`` with timestamps in ``[start, end)``."""
    if not groups:
        raise ValidationError("name at least one log group to query")
    if len(groups) > MAX_QUERY_GROUPS:
        raise ValidationError(f"a query reads at most {MAX_QUERY_GROUPS} log groups, "
                              f"not {len(groups)}")
    _check_range(start, end)
    parsed = parse_query(query) if isinstance(query, str) else query
    return execute(parsed, _records(store, list(dict.fromkeys(groups)), start, end), limits)


def _records(store: Store, groups: list[str], start: int, end: int
             ) -> Iterator[dict[str, Any]]:
    for group in groups:
        for event in stored_events(store, group, start=start, end=end):
            yield {"@timestamp": event.timestamp, "@message": event.message,
                   "@logStream": event.stream, "@log": event.group,
                   "@ingestionTime": event.ingestion_time}


def _check_range(start: int | None, end: int | None) -> None:
    if start is not None and end is not None and end <= start:
        raise ValidationError("the end time must be after the start time")
