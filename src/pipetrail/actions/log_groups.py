"""Log group actions: DescribeLogGroups, DescribeLogStreams, CreateLogGroup,
PutRetentionPolicy, DeleteRetentionPolicy, and ExpireLogEvents (retention enforced).

Retention is enforced by :func:`expire_log_events`: ``pipetrail logs expire`` runs it,
and so does the server's leader every ``PIPETRAIL_RETENTION_INTERVAL`` seconds
(:class:`pipetrail.actions.background.ApplyLogRetention`); each pass is recorded in the
trail with what it deleted.
"""

from __future__ import annotations

from pipetrail.actions.context import ActionContext
from pipetrail.model.arn import log_group_arn, log_stream_arn
from pipetrail.model.audit import Resource
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import ValidationError
from pipetrail.model.log_groups import (
    ExpiredEvents,
    LogGroup,
    LogStream,
    check_group_name,
    check_retention,
)

SOURCE = "logs"
GROUP_TYPE = "Pipetrail::Logs::LogGroup"
STREAM_TYPE = "Pipetrail::Logs::LogStream"
MAX_GROUPS = 10_000
MAX_STREAMS = 10_000
STREAM_ORDERS = {"name": "name", "lastEvent": "lastEvent"}


def group_resource(ctx: ActionContext, group: str) -> Resource:
    return Resource(GROUP_TYPE, log_group_arn(ctx.workspace, group))


def describe_log_groups(ctx: ActionContext, prefix: str | None = None,
                        limit: int = 50) -> list[LogGroup]:
    """DescribeLogGroups: groups by name, with retention, stored totals and filters."""
    params = {"logGroupNamePrefix": prefix, "limit": limit}
    with ctx.call(SOURCE, "DescribeLogGroups", read_only=True, params=params):
        if not 1 <= limit <= MAX_GROUPS:
            raise ValidationError(f"limit must be between 1 and {MAX_GROUPS}")
        return ctx.store.describe_log_groups(prefix=prefix, limit=limit)


def describe_log_streams(ctx: ActionContext, group: str, prefix: str | None = None,
                         order_by: str = "name", descending: bool = False,
                         limit: int = 50) -> list[LogStream]:
    """DescribeLogStreams: the streams of a group, by name or by last event time."""
    params = {"logGroupName": group, "logStreamNamePrefix": prefix, "orderBy": order_by,
              "descending": descending, "limit": limit}
    with ctx.call(SOURCE, "DescribeLogStreams", read_only=True, params=params) as call:
        call.resources = [group_resource(ctx, group)]
        if order_by not in STREAM_ORDERS:
            raise ValidationError(f"order must be one of {', '.join(STREAM_ORDERS)}")
        if order_by == "lastEvent" and prefix:
            raise ValidationError("a stream name prefix cannot be combined with ordering "
                                  "by last event time")
        if not 1 <= limit <= MAX_STREAMS:
            raise ValidationError(f"limit must be between 1 and {MAX_STREAMS}")
        return ctx.store.describe_log_streams(group, prefix=prefix, order_by=order_by,
                                              descending=descending, limit=limit)


def stream_arn(ctx: ActionContext, stream: LogStream) -> str:
    return log_stream_arn(ctx.workspace, stream.group, stream.name)


def create_log_group(ctx: ActionContext, group: str, retention_days: int | None = None
                     ) -> LogGroup:
    """CreateLogGroup (groups are also created by their first event)."""
    params = {"logGroupName": group, "retentionInDays": retention_days}
    with ctx.call(SOURCE, "CreateLogGroup", read_only=False, params=params) as call:
        call.resources = [group_resource(ctx, group)]
        check_group_name(group)
        if retention_days is not None:
            check_retention(retention_days)
        ctx.store.create_log_group(group, now_ms(), retention_days)
        created = ctx.store.get_log_group(group)
        call.response = {"logGroupName": group, "retentionInDays": retention_days}
        return created


def put_retention_policy(ctx: ActionContext, group: str, days: int) -> None:
    """PutRetentionPolicy: events older than ``days`` expire (see expire_log_events)."""
    params = {"logGroupName": group, "retentionInDays": days}
    with ctx.call(SOURCE, "PutRetentionPolicy", read_only=False, params=params) as call:
        call.resources = [group_resource(ctx, group)]
        check_retention(days)
        ctx.store.set_retention(group, days)
        call.response = {"logGroupName": group, "retentionInDays": days}


def delete_retention_policy(ctx: ActionContext, group: str) -> None:
    """DeleteRetentionPolicy: the group's events never expire."""
    with ctx.call(SOURCE, "DeleteRetentionPolicy", read_only=False,
                  params={"logGroupName": group}) as call:
        call.resources = [group_resource(ctx, group)]
        ctx.store.set_retention(group, None)
        call.response = {"logGroupName": group, "retentionInDays": None}


def expire_log_events(ctx: ActionContext, group: str | None = None,
                      now: int | None = None) -> list[ExpiredEvents]:
    """ExpireLogEvents: delete every event older than its group's retention policy (all
    groups with a policy, or ``group``); streams left empty go too. Recorded with the
    counts it deleted per group."""
    params = {"logGroupName": group}
    with ctx.call(SOURCE, "ExpireLogEvents", read_only=False, params=params) as call:
        if group is not None:
            retention = ctx.store.get_log_group(group).retention_days
            if retention is None:
                raise ValidationError(f"log group {group!r} has no retention policy; its "
                                      "events never expire")
        expired = ctx.store.expire_log_events(now if now is not None else now_ms(), group)
        call.resources = [group_resource(ctx, e.group) for e in expired]
        call.response = {"expired": [e.to_json() for e in expired],
                         "deletedEvents": sum(e.deleted_events for e in expired)}
        return expired
