"""Trail actions: LookupEvents."""

from __future__ import annotations

from typing import Any

from pipetrail.actions.context import ActionContext
from pipetrail.model.arn import trail_arn
from pipetrail.model.audit import Resource
from pipetrail.model.errors import ValidationError
from pipetrail.store.store import AuditQuery

SOURCE = "trail"
MAX_RESULTS = 10_000


def lookup_events(ctx: ActionContext, query: AuditQuery) -> list[dict[str, Any]]:
    """LookupEvents: events matching every given attribute, newest first."""
    params = {
        "eventName": query.event_name, "username": query.user, "resourceName": query.resource,
        "eventSource": query.event_source, "eventCategory": query.category,
        "dataset": query.dataset, "jobRunId": query.run_id, "startTime": query.start,
        "endTime": query.end, "maxResults": query.limit,
    }
    resources = [Resource("Pipetrail::Trail::Trail", trail_arn(ctx.workspace))]
    with ctx.call(SOURCE, "LookupEvents", read_only=True, params=params, resources=resources):
        if not 1 <= query.limit <= MAX_RESULTS:
            raise ValidationError(f"limit must be between 1 and {MAX_RESULTS}")
        if query.start is not None and query.end is not None and query.start >= query.end:
            raise ValidationError("the start time must be before the end time")
        return ctx.store.lookup_audit_events(query)
