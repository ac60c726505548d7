"""``pipetrail trail``: the audit trail."""

from __future__ import annotations

import re
from typing import Any

import click

from pipetrail.cli.app import App, pass_app
from pipetrail.cli.output import emit, format_option
from pipetrail.model.clock import parse_time


@click.group("trail")
def trail() -> None:
    """The audit trail: who did what, when, to which resource."""


RUN_ID = re.compile(r"(jr_[0-9a-f]{9})[0-9a-f]{55}")


def short_resource(arn: str) -> str:
    """``arn:pipetrail:jobs:local:job/x/run/jr_…`` → ``job/x/run/jr_3f2a9c8d1`` (table only)."""
    tail = arn.split(":", 5)[-1] if arn.startswith("arn:") else arn
    return RUN_ID.sub(r"\1…", tail)


def _row(record: dict[str, Any]) -> dict[str, Any]:
    resources = [short_resource(r.get("ARN", "")) for r in record.get("resources") or []]
    if record.get("dataset"):
        resources.insert(0, str(record["dataset"]))
    shown = ", ".join(resources[:2]) + (f" (+{len(resources) - 2})" if len(resources) > 2 else "")
    return {
        "eventTime": record.get("eventTime"),
        "eventName": record.get("eventName"),
        "user": (record.get("userIdentity") or {}).get("userName"),
        "eventSource": record.get("eventSource"),
        "errorCode": record.get("errorCode"),
        "resources": shown or None,
    }


@trail.command("lookup")
@click.option("--event-name", metavar="NAME", help="e.g. StartJobRun, GetLogEvents.")
@click.option("--user", metavar="NAME", help="The caller's user name.")
@click.option("--resource", metavar="ARN_OR_URI", help="A resource ARN or dataset URI.")
@click.option("--source", "event_source", metavar="SOURCE", help="e.g. jobs.pipetrail.")
@click.option("--category", type=click.Choice(["Management", "Data", "Insight"]))
@click.option("--run", "run_id", metavar="RUN_ID", help="Events of one job run.")
@click.option("--start", metavar="TIME", help="ISO 8601, epoch, or relative (15m, 2h, 7d).")
@click.option("--end", metavar="TIME", help="ISO 8601, epoch, or relative (15m, 2h, 7d).")
@click.option("--limit", type=int, default=50, show_default=True)
@format_option
@pass_app
def lookup(app: App, event_name: str | None, user: str | None, resource: str | None,
           event_source: str | None, category: str | None, run_id: str | None,
           start: str | None, end: str | None, limit: int, fmt: str) -> None:
    """Find audit events; every given attribute must match. Newest first."""
    from pipetrail.actions.trail import lookup_events
    from pipetrail.store.store import AuditQuery

    query = AuditQuery(
        event_name=event_name, user=user, resource=resource, event_source=event_source,
        category=category, run_id=run_id, limit=limit,
        start=parse_time(start) if start else None, end=parse_time(end) if end else None,
    )
    records = lookup_events(app.context(), query)
    emit(records, fmt, rows=[_row(r) for r in records],
         columns=("eventTime", "eventName", "user", "eventSource", "errorCode", "resources"))


COMMANDS: list[click.Command] = [trail]
