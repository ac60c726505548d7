"""Trail actions over the archive: QueryEvents, ExportEvents, PutRetention,
GetRetention, ApplyRetention, PutLegalHold, ListLegalHolds and ReleaseLegalHold; and
the server's daily retention evaluator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipetrail.actions.context import ActionContext
from pipetrail.actions.trail import archive as trail_archive
from pipetrail.model.arn import trail_arn
from pipetrail.model.audit import Resource
from pipetrail.model.clock import iso_from_ms, now_ms
from pipetrail.model.errors import NotFoundError
from pipetrail.store.trail_retention import LegalHold
from pipetrail.trail import retention
from pipetrail.trail.archive import Archive
from pipetrail.trail.export import ExportResult, export_events
from pipetrail.trail.query import DEFAULT_MAX_ROWS, DEFAULT_TIME_LIMIT, QueryResult, run_query
from pipetrail.trail.retention import DEFAULT_TRAIL, RetentionOutcome

SOURCE = "trail"
DAY_SECONDS = 86_400.0


def trail_resources(ctx: ActionContext, trail: str = DEFAULT_TRAIL) -> list[Resource]:
    return [Resource("Pipetrail::Trail::Trail", trail_arn(ctx.workspace, trail))]


def _iso(ms: int | None) -> str | None:
    return None if ms is None else iso_from_ms(ms)


def query_events(ctx: ActionContext, statement: str, *, max_rows: int = DEFAULT_MAX_ROWS,
                 start: int | None = None, end: int | None = None,
                 time_limit: float = DEFAULT_TIME_LIMIT,
                 archive: Archive | None = None) -> QueryResult:
    """QueryEvents: one SQL SELECT over ``events`` (the archive and the store)."""
    params = {"queryStatement": statement, "maxRows": max_rows, "startTime": _iso(start),
              "endTime": _iso(end), "timeLimit": time_limit}
    with ctx.call(SOURCE, "QueryEvents", read_only=True, params=params,
                  resources=trail_resources(ctx)):
        return run_query(ctx.store, archive or trail_archive(ctx), statement,
                         max_rows=max_rows, start=start, end=end, time_limit=time_limit,
                         workdir=ctx.settings.home / "tmp")


def export_trail_events(ctx: ActionContext, out: Path, *, start: int | None = None,
                        end: int | None = None, force: bool = False, fmt: str = "cloudtrail",
                        archive: Archive | None = None) -> ExportResult:
    """ExportEvents: the window's events as CloudTrail log files under ``out``."""
    params = {"format": fmt, "outputDirectory": str(out), "startTime": _iso(start),
              "endTime": _iso(end), "force": force}
    with ctx.call(SOURCE, "ExportEvents", read_only=True, params=params,
                  resources=trail_resources(ctx)):
        return export_events(ctx.store, archive or trail_archive(ctx), ctx.workspace, out,
                             start=start, end=end, force=force, fmt=fmt)


def put_retention(ctx: ActionContext, days: int | None, trail: str = DEFAULT_TRAIL
                  ) -> dict[str, Any]:
    """PutRetention: events older than ``days`` expire (None: never)."""
    params = {"trailName": trail, "retentionDays": days}
    with ctx.call(SOURCE, "PutRetention", read_only=False, params=params,
                  resources=trail_resources(ctx, trail)) as call:
        retention.check_trail(trail)
        retention.check_days(days)
        ctx.store.put_trail_retention(trail, days, now_ms())
        call.response = {"trailName": trail, "retentionDays": days}
        return call.response


def get_retention(ctx: ActionContext, trail: str = DEFAULT_TRAIL) -> dict[str, Any]:
    """GetRetention: the trail's retention period (None: events never expire)."""
    with ctx.call(SOURCE, "GetRetention", read_only=True, params={"trailName": trail},
                  resources=trail_resources(ctx, trail)):
        retention.check_trail(trail)
        policy = ctx.store.trail_retention(trail)
        return {"trailName": trail, "retentionDays": policy.days if policy else None,
                "updatedOn": _iso(policy.updated_on) if policy else None,
                "legalHolds": len(ctx.store.legal_holds(trail))}


def apply_trail_retention(ctx: ActionContext, *, dry_run: bool = False,
                          trail: str = DEFAULT_TRAIL, now: int | None = None,
                          archive: Archive | None = None) -> RetentionOutcome:
    """ApplyRetention: delete the delivered log files (and their events in the store)
    older than the retention period and under no legal hold. Recorded with what it
    deleted: counts, event time range and event numbers per shard."""
    params = {"trailName": trail, "dryRun": dry_run}
    with ctx.call(SOURCE, "ApplyRetention", read_only=False, params=params,
                  resources=trail_resources(ctx, trail)) as call:
        retention.check_trail(trail)
        policy = ctx.store.trail_retention(trail)
        moment = now_ms() if now is None else now
        plan = retention.plan_retention(ctx.store, policy.days if policy else None,
                                        ctx.store.legal_holds(trail), moment)
        if dry_run:
            outcome = retention.dry_run(plan)
        else:
            outcome = retention.apply_retention(ctx.store, archive or trail_archive(ctx), plan,
                                                moment)
        call.response = outcome.to_record()
        return outcome


def put_legal_hold(ctx: ActionContext, name: str, *, start: int | None = None,
                   end: int | None = None, resource: str | None = None, reason: str = "",
                   trail: str = DEFAULT_TRAIL) -> dict[str, Any]:
    """PutLegalHold: nothing the hold covers is deleted until it is released."""
    params = {"trailName": trail, "name": name, "startTime": _iso(start), "endTime": _iso(end),
              "resource": resource, "reason": reason}
    with ctx.call(SOURCE, "PutLegalHold", read_only=False, params=params,
                  resources=trail_resources(ctx, trail)) as call:
        retention.check_trail(trail)
        retention.check_hold(name, start, end, resource, reason)
        hold = LegalHold(trail, name, start, end, resource, reason, now_ms(),
                         ctx.caller.identity.user_name)
        ctx.store.put_legal_hold(hold)
        call.response = retention.hold_record(hold)
        return call.response


def list_legal_holds(ctx: ActionContext, trail: str = DEFAULT_TRAIL) -> list[dict[str, Any]]:
    """ListLegalHolds: the trail's holds, by name."""
    with ctx.call(SOURCE, "ListLegalHolds", read_only=True, params={"trailName": trail},
                  resources=trail_resources(ctx, trail)):
        retention.check_trail(trail)
        return [retention.hold_record(h) for h in ctx.store.legal_holds(trail)]


def release_legal_hold(ctx: ActionContext, name: str, trail: str = DEFAULT_TRAIL
                       ) -> dict[str, Any]:
    """ReleaseLegalHold: what the hold covered may expire again."""
    params = {"trailName": trail, "name": name}
    with ctx.call(SOURCE, "ReleaseLegalHold", read_only=False, params=params,
                  resources=trail_resources(ctx, trail)) as call:
        retention.check_trail(trail)
        if not ctx.store.release_legal_hold(trail, name):
            raise NotFoundError(f"no legal hold {name!r} on trail {trail!r}")
        call.response = {"trailName": trail, "name": name, "released": True}
        return call.response


@dataclass
class ApplyTrailRetention:
    """Apply the default trail's retention once a day (when it has a period)."""

    name: str = "apply-trail-retention"
    interval: float = DAY_SECONDS

    def evaluate(self, ctx: ActionContext) -> None:
        policy = ctx.store.trail_retention(DEFAULT_TRAIL)
        if policy is not None and policy.days is not None:
            apply_trail_retention(ctx)
