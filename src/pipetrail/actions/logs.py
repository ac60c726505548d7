"""Log actions on a run's streams: GetLogEvents and live tail (StartLiveTail).

A following tail does not poll the events table: it waits on the store's change signal
(a PostgreSQL notification, or SQLite's commit counter checked every few milliseconds;
see :mod:`pipetrail.store.log_watch`) and reads only what is new. An optional filter
pattern selects the lines shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from pipetrail.actions.context import ActionContext
from pipetrail.logs.filter_pattern import compile_pattern
from pipetrail.model.arn import log_stream_arn
from pipetrail.model.audit import Resource
from pipetrail.model.errors import ValidationError
from pipetrail.model.logs import ERROR_GROUP, INSIGHTS_GROUP, OUTPUT_GROUP, LogEvent
from pipetrail.runner.launch import LOGGER_STREAM_SUFFIX
from pipetrail.runner.reaper import reap_orphans
from pipetrail.store.log_watch import LogWatcher

SOURCE = "logs"
STREAM_CHOICES = ("console", "output", "error", "logger", "insights", "all")
# How often a tail on SQLite checks for new commits (PostgreSQL tails are notified).
TAIL_POLL_SECONDS = 0.005
# A following tail re-checks the run's state at least this often while nothing arrives.
STATE_CHECK_SECONDS = 0.25
REAP_SECONDS = 2.0
MAX_LIMIT = 10_000
# With a pattern, the last lines are looked for among at most this many events.
TAIL_PAGE = 5_000
MAX_TAIL_SCAN = 200_000


def run_streams(run_id: str, which: str) -> list[tuple[str, str]]:
    """The (group, stream) pairs of a run that ``which`` names."""
    pairs = {
        "output": (OUTPUT_GROUP, run_id),
        "error": (ERROR_GROUP, run_id),
        "logger": (ERROR_GROUP, run_id + LOGGER_STREAM_SUFFIX),
        "insights": (INSIGHTS_GROUP, run_id),
    }
    if which == "all":
        return list(pairs.values())
    if which == "console":  # what the terminal showed: stdout and stderr
        return [pairs["output"], pairs["error"]]
    if which not in pairs:
        raise ValidationError(f"stream must be one of {', '.join(STREAM_CHOICES)}")
    return [pairs[which]]


def _resources(ctx: ActionContext, pairs: list[tuple[str, str]]) -> list[Resource]:
    return [Resource("Pipetrail::Logs::LogStream", log_stream_arn(ctx.workspace, g, s))
            for g, s in pairs]


def stream_resources(ctx: ActionContext, run_id: str, which: str) -> list[Resource]:
    """The log streams of a stored run that ``which`` names (for authorisation)."""
    run = ctx.store.get_run(run_id)
    return _resources(ctx, run_streams(run.run_id, which))


def get_log_events(ctx: ActionContext, run_id: str, stream: str = "console", limit: int = 1000,
                   newest: bool = False) -> list[LogEvent]:
    """GetLogEvents: a run's log events in write order (``newest``: the last ``limit``)."""
    params = {"jobRunId": run_id, "stream": stream, "limit": limit}
    with ctx.call(SOURCE, "GetLogEvents", read_only=True, params=params,
                  resources=lambda: stream_resources(ctx, run_id, stream)) as call:
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}")
        run = ctx.store.get_run(run_id)
        pairs = run_streams(run.run_id, stream)
        call.resources = _resources(ctx, pairs)
        call.run_id = run.run_id
        return ctx.store.read_streams(pairs, limit=limit, newest=newest)


def tail(ctx: ActionContext, run_id: str, stream: str = "console", lines: int = 10,
         follow: bool = False, poll: float = TAIL_POLL_SECONDS,
         pattern: str | None = None,
         should_stop: Callable[[], bool] | None = None) -> Iterator[LogEvent]:
    """StartLiveTail: the last ``lines`` events (that match ``pattern``, a filter
    pattern), then (``follow``) new ones as they are stored, until the run ends (or
    ``should_stop`` returns True). The call is checked, authorised and recorded at
    once; the events come from the iterator returned."""
    batches = tail_batches(ctx, run_id, stream, lines, follow, poll, pattern, should_stop)
    return (event for batch in batches for event in batch)


def tail_batches(ctx: ActionContext, run_id: str, stream: str = "console", lines: int = 10,
                 follow: bool = False, poll: float = TAIL_POLL_SECONDS,
                 pattern: str | None = None,
                 should_stop: Callable[[], bool] | None = None
                 ) -> Iterator[list[LogEvent]]:
    """:func:`tail`, a batch of events at a time (each batch is what one read found), so
    a caller can write a batch out before it waits for the next. Checked, authorised
    and recorded at once."""
    params = {"jobRunId": run_id, "stream": stream, "lines": lines, "follow": follow,
              "logEventFilterPattern": pattern}
    with ctx.call(SOURCE, "StartLiveTail", read_only=True, params=params,
                  resources=lambda: stream_resources(ctx, run_id, stream)) as call:
        if not 0 <= lines <= MAX_LIMIT:
            raise ValidationError(f"lines must be between 0 and {MAX_LIMIT}")
        matches = compile_pattern(pattern).matches if pattern else None
        run = ctx.store.get_run(run_id)
        pairs = run_streams(run.run_id, stream)
        call.resources = _resources(ctx, pairs)
        call.run_id = run.run_id
    return _batches(ctx, run.run_id, pairs, lines, follow, poll, matches,
                    should_stop or (lambda: False))


def _batches(ctx: ActionContext, run_id: str, pairs: list[tuple[str, str]], lines: int,
             follow: bool, poll: float, matches: Callable[[str], bool] | None,
             should_stop: Callable[[], bool]) -> Iterator[list[LogEvent]]:
    first, last_id = _last_lines(ctx, pairs, lines, matches)
    if first:
        yield first
    if not follow:
        return
    with ctx.store.watch_log_events(poll) as watcher:
        yield from _follow(ctx, run_id, pairs, last_id, matches, watcher, should_stop)


def _last_lines(ctx: ActionContext, pairs: list[tuple[str, str]], lines: int,
                matches: Callable[[str], bool] | None) -> tuple[list[LogEvent], int]:
    """The last ``lines`` (matching) events, and the id to follow from."""
    newest = ctx.store.read_streams(pairs, limit=1, newest=True)
    last_id = (newest[0].event_id or 0) if newest else 0
    if not lines or not newest:
        return [], last_id
    if matches is None:
        return ctx.store.read_streams(pairs, limit=lines, newest=True), last_id
    found: list[LogEvent] = []
    before = last_id + 1
    scanned = 0
    while len(found) < lines and scanned < MAX_TAIL_SCAN:
        page = ctx.store.read_streams(pairs, before_id=before, limit=TAIL_PAGE, newest=True)
        if not page:
            break
        scanned += len(page)
        found[:0] = [event for event in page if matches(event.message)]
        before = page[0].event_id or 0
    return found[-lines:], last_id


def _follow(ctx: ActionContext, run_id: str, pairs: list[tuple[str, str]], last_id: int,
            matches: Callable[[str], bool] | None, watcher: LogWatcher,
            should_stop: Callable[[], bool]) -> Iterator[list[LogEvent]]:
    """New events after ``last_id`` as they are stored, until the run has ended and its
    last events are read."""
    next_state_check = 0.0
    next_reap = time.monotonic() + REAP_SECONDS
    ended = False
    while not should_stop():
        batch = ctx.store.read_streams(pairs, after_id=last_id, limit=MAX_LIMIT)
        if batch:
            last_id = batch[-1].event_id or last_id
            shown = batch if matches is None else [e for e in batch if matches(e.message)]
            if shown:
                yield shown
            if len(batch) == MAX_LIMIT:
                continue
        if ended:
            return  # the final state is stored after the runner's last events
        now = time.monotonic()
        if now >= next_state_check:
            next_state_check = now + STATE_CHECK_SECONDS
            ended = ctx.store.get_run(run_id).state.terminal
            if not ended and now >= next_reap:
                next_reap = now + REAP_SECONDS
                ended = any(r.run_id == run_id for r in reap_orphans(ctx.store))
            if ended:
                continue
        watcher.wait(STATE_CHECK_SECONDS)
