"""Trail actions: LookupEvents, DeliverTrail, ValidateTrail, GetEventProof,
ListPublicKeys."""

from __future__ import annotations

import sys
from typing import Any

from pipetrail.actions.context import ActionContext
from pipetrail.model.arn import trail_arn
from pipetrail.model.audit import Resource
from pipetrail.model.errors import PipetrailError, ValidationError
from pipetrail.store.store import AuditQuery
from pipetrail.trail.archive import Archive, open_archive
from pipetrail.trail.delivery import Delivered, Deliverer
from pipetrail.trail.proof import prove
from pipetrail.trail.signing import Signer
from pipetrail.trail.validate import Progress, Report, validate

SOURCE = "trail"
MAX_RESULTS = 10_000
DELIVERY_WAIT = 10.0  # seconds a requested delivery waits for another one to finish


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


def _resources(ctx: ActionContext) -> list[Resource]:
    return [Resource("Pipetrail::Trail::Trail", trail_arn(ctx.workspace))]


def archive(ctx: ActionContext) -> Archive:
    """The archive the settings name (``PIPETRAIL_ARCHIVE``; default under the home)."""
    return open_archive(ctx.settings.archive, ctx.settings.home)


def deliverer(ctx: ActionContext) -> Deliverer:
    signer = Signer.load_or_create(ctx.settings.signing_key_path)
    return Deliverer(ctx.store, archive(ctx), signer, ctx.workspace)


def deliver_trail(ctx: ActionContext, target: Deliverer | None = None) -> list[Delivered]:
    """DeliverTrail: deliver what was stored since the last delivery, and a digest."""
    with ctx.call(SOURCE, "DeliverTrail", read_only=False, resources=_resources(ctx)) as call:
        delivered = (target or deliverer(ctx)).deliver(wait=DELIVERY_WAIT)
        call.response = {"digests": [d.digest_key for d in delivered],
                         "events": sum(d.events for d in delivered)}
        return delivered


def deliver_after_run(ctx: ActionContext) -> None:
    """Deliver at the end of a run on the embedded store (so a run's trail is signed
    and archived when it ends); a failure is reported, never raised. Like the server's
    scheduled deliveries, this is the trail's own work, not an audit event."""
    if not ctx.settings.deliver_on_run_end or ctx.settings.url:
        return
    try:
        deliverer(ctx).deliver()
    except (PipetrailError, OSError) as exc:
        print(f"pipetrail: the trail was not delivered: {exc}", file=sys.stderr)


def validate_trail(ctx: ActionContext, *, start: int | None = None, end: int | None = None,
                   deep: bool = False, public_keys: dict[str, str] | None = None,
                   progress: Progress | None = None) -> Report:
    """ValidateTrail: check the digest chain, signatures, log files and the store's chain."""
    params = {"startTime": start, "endTime": end, "deep": deep}
    with ctx.call(SOURCE, "ValidateTrail", read_only=True, params=params,
                  resources=_resources(ctx)):
        if start is not None and end is not None and start >= end:
            raise ValidationError("the start time must be before the end time")
        return validate(ctx.store, archive(ctx), ctx.workspace, start=start, end=end,
                        deep=deep, public_keys=public_keys, progress=progress)


def prove_event(ctx: ActionContext, event_id: str) -> dict[str, Any]:
    """GetEventProof: the inclusion proof of one delivered event."""
    with ctx.call(SOURCE, "GetEventProof", read_only=True, params={"eventID": event_id},
                  resources=_resources(ctx)):
        return prove(ctx.store, archive(ctx), event_id)


def list_public_keys(ctx: ActionContext) -> list[dict[str, str]]:
    """ListPublicKeys: the public halves of the keys that signed digests."""
    with ctx.call(SOURCE, "ListPublicKeys", read_only=True, resources=_resources(ctx)):
        return [{"fingerprint": fp, "publicKey": pem}
                for fp, pem in sorted(ctx.store.public_keys().items())]
