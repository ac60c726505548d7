"""A run's log events: GetLogEvents, and the live tail (StartLiveTail) as server-sent
events."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from pipetrail.actions.logs import MAX_LIMIT, STREAM_CHOICES, get_log_events, tail
from pipetrail.model.logs import LogEvent
from pipetrail.server.auth import Ctx
from pipetrail.server.responses import ERRORS
from pipetrail.server.routes import PREFIX
from pipetrail.server.streaming import Slot, SlotResponse, sse

router = APIRouter(prefix=PREFIX, tags=["logs"], responses=ERRORS)

RunId = Annotated[str, Path(alias="runId", min_length=1, max_length=80)]
Stream = Annotated[str, Query(max_length=16, description=", ".join(STREAM_CHOICES))]


@router.get("/runs/{runId}/logs", summary="GetLogEvents: a run's log events in write order")
def get_logs(
    ctx: Ctx, run_id: RunId, stream: Stream = "all",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
    newest: Annotated[bool, Query(description="the last `limit` events")] = False,
) -> dict[str, Any]:
    events = get_log_events(ctx, run_id, stream, limit, newest)
    return {"events": [event.to_json() for event in events]}


@router.get(
    "/runs/{runId}/logs/tail",
    summary="StartLiveTail: the last lines, then (follow) new lines until the run ends",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "server-sent events: `log` (data: a log event), "
                                    "`end`, `error`; comments as heartbeats"}},
)
def tail_logs(
    ctx: Ctx, run_id: RunId, stream: Stream = "all",
    lines: Annotated[int, Query(ge=0, le=MAX_LIMIT)] = 10,
    follow: bool = False,
) -> StreamingResponse:
    slot = Slot()
    stop = threading.Event()
    try:
        events = tail(ctx, run_id, stream, lines, follow, should_stop=stop.is_set)
    except BaseException:
        slot.release()
        raise
    return SlotResponse(sse(events, LogEvent.to_json, stop, slot), slot,
                        media_type="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
