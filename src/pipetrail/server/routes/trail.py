"""The audit trail: LookupEvents, DeliverTrail, ValidateTrail, GetEventProof,
ListPublicKeys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from pipetrail.actions.trail import (
    MAX_RESULTS,
    deliver_trail,
    list_public_keys,
    lookup_events,
    prove_event,
    validate_trail,
)
from pipetrail.model.clock import parse_time
from pipetrail.server.auth import Ctx
from pipetrail.server.responses import ERRORS
from pipetrail.server.routes import PREFIX
from pipetrail.store.store import AuditQuery

router = APIRouter(prefix=PREFIX, tags=["trail"], responses=ERRORS)

Text = Annotated[str | None, Query(max_length=2048)]
Time = Annotated[str | None, Query(max_length=64,
                                   description="ISO 8601, epoch seconds or ms, 'now', or "
                                               "relative: 15m, 2h, 7d")]


@router.get("/trail/events", summary="LookupEvents: events matching every given attribute")
def lookup(
    ctx: Ctx,
    event_name: Annotated[str | None, Query(alias="eventName", max_length=128)] = None,
    username: Annotated[str | None, Query(max_length=255)] = None,
    resource_name: Annotated[Text, Query(alias="resourceName")] = None,
    event_source: Annotated[str | None, Query(alias="eventSource", max_length=128)] = None,
    event_category: Annotated[str | None, Query(alias="eventCategory", max_length=16)] = None,
    dataset: Text = None,
    job_run_id: Annotated[str | None, Query(alias="jobRunId", max_length=80)] = None,
    start_time: Annotated[Time, Query(alias="startTime")] = None,
    end_time: Annotated[Time, Query(alias="endTime")] = None,
    max_results: Annotated[int, Query(alias="maxResults", ge=1, le=MAX_RESULTS)] = 50,
) -> dict[str, Any]:
    query = AuditQuery(
        event_name=event_name, user=username, resource=resource_name,
        event_source=event_source, category=event_category, dataset=dataset,
        run_id=job_run_id, limit=max_results,
        start=parse_time(start_time) if start_time else None,
        end=parse_time(end_time) if end_time else None,
    )
    return {"events": lookup_events(ctx, query)}


@router.post("/trail/deliveries",
             summary="DeliverTrail: deliver what was stored since the last delivery")
def deliver(ctx: Ctx) -> dict[str, Any]:
    delivered = deliver_trail(ctx)
    return {"deliveries": [{"shard": d.shard, "digest": d.digest_key, "logFiles": d.log_keys,
                            "events": d.events} for d in delivered]}


@router.get("/trail/validation",
            summary="ValidateTrail: digests, signatures, log files and the store's chain")
def validation(
    ctx: Ctx,
    start_time: Annotated[Time, Query(alias="startTime")] = None,
    end_time: Annotated[Time, Query(alias="endTime")] = None,
    deep: bool = False,
) -> dict[str, Any]:
    report = validate_trail(ctx, start=parse_time(start_time) if start_time else None,
                            end=parse_time(end_time) if end_time else None, deep=deep)
    return report.to_record()


@router.get("/trail/events/{eventId}/proof",
            summary="GetEventProof: the inclusion proof of a delivered event")
def proof(ctx: Ctx, event_id: Annotated[str, Path(alias="eventId", max_length=64)]
          ) -> dict[str, Any]:
    return prove_event(ctx, event_id)


@router.get("/trail/public-keys",
            summary="ListPublicKeys: the keys that verify the trail's digests")
def public_keys(ctx: Ctx) -> dict[str, Any]:
    return {"publicKeys": list_public_keys(ctx)}
