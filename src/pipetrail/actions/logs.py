"""Log actions on a run's streams: GetLogEvents and live tail (StartLiveTail)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from pipetrail.actions.context import ActionContext
from pipetrail.model.arn import log_stream_arn
from pipetrail.model.audit import Resource
from pipetrail.model.errors import ValidationError
from pipetrail.model.logs import ERROR_GROUP, INSIGHTS_GROUP, OUTPUT_GROUP, LogEvent
from pipetrail.runner.launch import LOGGER_STREAM_SUFFIX
from pipetrail.runner.reaper import reap_orphans

SOURCE = "logs"
STREAM_CHOICES = ("console", "output", "error", "logger", "insights", "all")
TAIL_POLL_SECONDS = 0.02
MAX_LIMIT = 10_000


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


def stream_resources(ctx: ActionContext, run_id: str, which: str) -> list[Resource]:
    """The log streams of a stored run that ``which`` names."""
    run = ctx.store.get_run(run_id)
    return [Resource("Pipetrail::Logs::LogStream", log_stream_arn(ctx.workspace, g, s))
            for g, s in run_streams(run.run_id, which)]


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
        call.run_id = run.run_id
        return ctx.store.read_streams(pairs, limit=limit, newest=newest)


def tail(ctx: ActionContext, run_id: str, stream: str = "console", lines: int = 10,
         follow: bool = False, poll: float = TAIL_POLL_SECONDS,
         should_stop: Callable[[], bool] | None = None) -> Iterator[LogEvent]:
    """StartLiveTail: the last ``lines`` events, then (``follow``) new ones as they are
    stored, until the run ends (or ``should_stop`` returns True).

    The call is checked, authorised and recorded at once; the events come from the
    iterator returned.
    """
    params = {"jobRunId": run_id, "stream": stream, "lines": lines, "follow": follow}
    with ctx.call(SOURCE, "StartLiveTail", read_only=True, params=params,
                  resources=lambda: stream_resources(ctx, run_id, stream)) as call:
        if not 0 <= lines <= MAX_LIMIT:
            raise ValidationError(f"lines must be between 0 and {MAX_LIMIT}")
        run = ctx.store.get_run(run_id)
        pairs = run_streams(run.run_id, stream)
        call.run_id = run.run_id
    return _tail(ctx, run.run_id, pairs, lines, follow, poll, should_stop or (lambda: False))


def _tail(ctx: ActionContext, run_id: str, pairs: list[tuple[str, str]], lines: int,
          follow: bool, poll: float, should_stop: Callable[[], bool]) -> Iterator[LogEvent]:
    last_id = 0
    if lines:
        for event in ctx.store.read_streams(pairs, limit=lines, newest=True):
            last_id = event.event_id or last_id
            yield event
    else:
        newest = ctx.store.read_streams(pairs, limit=1, newest=True)
        last_id = (newest[0].event_id or 0) if newest else 0
    if not follow:
        return
    ended_polls = 0
    while not should_stop():
        batch = ctx.store.read_streams(pairs, after_id=last_id, limit=MAX_LIMIT)
        for event in batch:
            last_id = event.event_id or last_id
            yield event
        if batch:
            ended_polls = 0
            continue
        if ctx.store.get_run(run_id).state.terminal:
            ended_polls += 1
            if ended_polls > 2:  # the runner's last flush lands before its final state
                return
        elif ended_polls == 0 and reap_orphans(ctx.store):
            continue
        time.sleep(poll)
