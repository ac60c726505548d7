"""The trail's archive: QueryEvents (SQL), retention and legal holds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from pipetrail.actions import trail_archive
from pipetrail.model.clock import parse_time
from pipetrail.server.auth import Ctx
from pipetrail.server.responses import ERRORS
from pipetrail.server.routes import PREFIX
from pipetrail.trail import query, retention

router = APIRouter(prefix=f"{PREFIX}/trail", tags=["trail"], responses=ERRORS)

TIME = "ISO 8601, epoch seconds or ms, 'now', or relative: 15m, 2h, 7d"
HoldName = Annotated[str, Path(min_length=1, max_length=128)]
TrailName = Annotated[str, Query(alias="trailName", min_length=1, max_length=64)]


def _time(text: str | None) -> int | None:
    return parse_time(text) if text else None


class QueryBody(BaseModel):
    queryStatement: str = Field(min_length=1, max_length=query.MAX_STATEMENT_CHARS,
                                examples=["SELECT eventname, count(*) FROM events GROUP BY 1"])
    maxRows: int = Field(default=query.DEFAULT_MAX_ROWS, ge=1, le=query.MAX_ROWS)
    startTime: str | None = Field(default=None, max_length=64, description=TIME)
    endTime: str | None = Field(default=None, max_length=64, description=TIME)
    timeLimit: float = Field(default=query.DEFAULT_TIME_LIMIT, gt=0,
                             le=query.MAX_TIME_LIMIT, description="seconds")


class RetentionBody(BaseModel):
    retentionDays: int | None = Field(ge=retention.MIN_DAYS, le=retention.MAX_DAYS,
                                      description="null: events never expire")


class ApplyBody(BaseModel):
    dryRun: bool = False


class HoldBody(BaseModel):
    startTime: str | None = Field(default=None, max_length=64, description=TIME)
    endTime: str | None = Field(default=None, max_length=64, description=TIME)
    resource: str | None = Field(default=None, min_length=1, max_length=retention.MAX_RESOURCE,
                                 description="a resource ARN or dataset URI")
    reason: str = Field(default="", max_length=retention.MAX_REASON)


@router.post("/query", summary="QueryEvents: one SQL SELECT over the table events")
def query_events(ctx: Ctx, body: QueryBody) -> dict[str, Any]:
    result = trail_archive.query_events(
        ctx, body.queryStatement, max_rows=body.maxRows, start=_time(body.startTime),
        end=_time(body.endTime), time_limit=body.timeLimit)
    return result.to_record()


@router.get("/retention", summary="GetRetention: the trail's retention period")
def get_retention(ctx: Ctx, trail: TrailName = retention.DEFAULT_TRAIL) -> dict[str, Any]:
    return trail_archive.get_retention(ctx, trail)


@router.put("/retention", summary="PutRetention: set the trail's retention period")
def put_retention(ctx: Ctx, body: RetentionBody,
                  trail: TrailName = retention.DEFAULT_TRAIL) -> dict[str, Any]:
    return trail_archive.put_retention(ctx, body.retentionDays, trail)


@router.post("/retention/apply",
             summary="ApplyRetention: delete what is older than the retention period")
def apply_retention(ctx: Ctx, body: ApplyBody,
                    trail: TrailName = retention.DEFAULT_TRAIL) -> dict[str, Any]:
    outcome = trail_archive.apply_trail_retention(ctx, dry_run=body.dryRun, trail=trail)
    return outcome.to_record(keys=True)


@router.get("/holds", summary="ListLegalHolds: the trail's legal holds")
def list_holds(ctx: Ctx, trail: TrailName = retention.DEFAULT_TRAIL) -> dict[str, Any]:
    return {"legalHolds": trail_archive.list_legal_holds(ctx, trail)}


@router.put("/holds/{name}", status_code=201,
            summary="PutLegalHold: hold a time window and/or a resource")
def put_hold(ctx: Ctx, name: HoldName, body: HoldBody,
             trail: TrailName = retention.DEFAULT_TRAIL) -> dict[str, Any]:
    return {"legalHold": trail_archive.put_legal_hold(
        ctx, name, start=_time(body.startTime), end=_time(body.endTime),
        resource=body.resource, reason=body.reason, trail=trail)}


@router.delete("/holds/{name}", summary="ReleaseLegalHold: release a legal hold")
def release_hold(ctx: Ctx, name: HoldName,
                 trail: TrailName = retention.DEFAULT_TRAIL) -> dict[str, Any]:
    return trail_archive.release_legal_hold(ctx, name, trail)
