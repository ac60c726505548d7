"""``pipetrail logs`` verbs for log groups, streams and retention.

``LOGS_SUBCOMMANDS`` are attached to the ``logs`` group (see ``cli/main.py``).
"""

from __future__ import annotations

import click

from pipetrail.cli.app import App, pass_app
from pipetrail.cli.output import emit, format_option
from pipetrail.model.clock import iso_from_ms
from pipetrail.model.log_groups import RETENTION_DAYS

RETENTION_HELP = ", ".join(str(d) for d in RETENTION_DAYS)


def _time(ms: int | None) -> str | None:
    return iso_from_ms(ms) if ms is not None else None


@click.command("groups")
@click.option("--prefix", default=None, help="Only groups whose name starts with this.")
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many.")
@format_option
@pass_app
def groups(app: App, prefix: str | None, limit: int, fmt: str) -> None:
    """List log groups with their retention, stored events and metric filters."""
    from pipetrail.actions.log_groups import describe_log_groups, group_resource

    ctx = app.context()
    found = describe_log_groups(ctx, prefix, limit)
    data = [g.to_json(group_resource(ctx, g.name).arn) for g in found]
    rows = [{"group": g.name, "retention": f"{g.retention_days} days" if g.retention_days
             else "never expire", "events": g.stored_events, "bytes": g.stored_bytes,
             "metricFilters": g.metric_filter_count, "created": _time(g.created_on)}
            for g in found]
    emit(data, fmt, rows=rows,
         columns=("group", "retention", "events", "bytes", "metricFilters", "created"))


@click.command("streams")
@click.argument("group")
@click.option("--prefix", default=None, help="Only streams whose name starts with this.")
@click.option("--order-by", type=click.Choice(("name", "lastEvent")), default="name",
              show_default=True, help="Sort by stream name or by the time of the last event.")
@click.option("--descending", is_flag=True, help="Reverse the order.")
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many.")
@format_option
@pass_app
def streams(app: App, group: str, prefix: str | None, order_by: str, descending: bool,
            limit: int, fmt: str) -> None:
    """List the log streams of GROUP (one per run and kind of output)."""
    from pipetrail.actions.log_groups import describe_log_streams, stream_arn

    ctx = app.context()
    found = describe_log_streams(ctx, group, prefix, order_by, descending, limit)
    data = [s.to_json(stream_arn(ctx, s)) for s in found]
    rows = [{"stream": s.name, "events": s.stored_events, "bytes": s.stored_bytes,
             "firstEvent": _time(s.first_event), "lastEvent": _time(s.last_event)}
            for s in found]
    emit(data, fmt, rows=rows, columns=("stream", "events", "bytes", "firstEvent",
                                        "lastEvent"))


@click.command("create-group")
@click.argument("group")
@click.option("--retention-days", type=int, default=None, metavar="DAYS",
              help=f"Retention policy: one of {RETENTION_HELP}. Default: never expire.")
@pass_app
def create_group(app: App, group: str, retention_days: int | None) -> None:
    """Create log group GROUP (groups are also created by their first event)."""
    from pipetrail.actions.log_groups import create_log_group

    create_log_group(app.context(), group, retention_days)
    click.echo(f"created log group {group}")


@click.command("put-retention")
@click.argument("group")
@click.option("--days", type=int, required=True, metavar="DAYS",
              help=f"Keep events this many days: one of {RETENTION_HELP}.")
@pass_app
def put_retention(app: App, group: str, days: int) -> None:
    """Set the retention policy of GROUP: events older than DAYS expire.

    Expired events are deleted by `pipetrail logs expire` (and by the server)."""
    from pipetrail.actions.log_groups import put_retention_policy

    put_retention_policy(app.context(), group, days)
    click.echo(f"{group}: events expire after {days} days")


@click.command("delete-retention")
@click.argument("group")
@pass_app
def delete_retention(app: App, group: str) -> None:
    """Remove the retention policy of GROUP: its events never expire."""
    from pipetrail.actions.log_groups import delete_retention_policy

    delete_retention_policy(app.context(), group)
    click.echo(f"{group}: events never expire")


@click.command("expire")
@click.option("--group", default=None, help="Only this group (default: every group with a "
                                            "retention policy).")
@format_option
@pass_app
def expire(app: App, group: str | None, fmt: str) -> None:
    """Delete the events older than their group's retention policy.

    Run it from cron (or let the server do it); each pass is recorded in the trail
    (ExpireLogEvents) with the number of events it deleted."""
    from pipetrail.actions.log_groups import expire_log_events

    expired = expire_log_events(app.context(), group)
    rows = [{"group": e.group, "retention": f"{e.retention_days} days",
             "before": iso_from_ms(e.cutoff), "deletedEvents": e.deleted_events,
             "deletedStreams": e.deleted_streams} for e in expired]
    emit([e.to_json() for e in expired], fmt, rows=rows,
         columns=("group", "retention", "before", "deletedEvents", "deletedStreams"))


LOGS_SUBCOMMANDS: list[click.Command] = [groups, streams, create_group, put_retention,
                                         delete_retention, expire]
