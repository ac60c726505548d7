"""``pipetrail trail``: the audit trail."""

from __future__ import annotations

import re
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

import click

from pipetrail.cli.app import App, pass_app
from pipetrail.cli.output import emit, emit_json, format_option
from pipetrail.model.clock import iso_from_ms, parse_time
from pipetrail.model.errors import ValidationError

if TYPE_CHECKING:
    from pipetrail.trail.validate import Report


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
    resources = list(dict.fromkeys(resources))  # a data event names its dataset twice
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


@trail.command("deliver")
@click.option("--follow", is_flag=True,
              help="Keep delivering every interval until interrupted (Ctrl-C or SIGTERM).")
@click.option("--interval", type=float, default=None,
              help="Seconds between deliveries with --follow (default: "
                   "PIPETRAIL_DELIVERY_INTERVAL, 60).")
@click.option("--quiet", "-q", is_flag=True, help="Do not print each delivery.")
@pass_app
def deliver(app: App, follow: bool, interval: float | None, quiet: bool) -> None:
    """Deliver the trail to the archive: the events stored since the last delivery as
    gzip CloudTrail log files, and a signed digest chained to the previous one (also
    when there was nothing new). The server does this every PIPETRAIL_DELIVERY_INTERVAL
    seconds, and a run on the embedded store when it ends."""
    from pipetrail.actions.trail import deliver_trail, deliverer
    from pipetrail.config import MAX_DELIVERY_INTERVAL, MIN_DELIVERY_INTERVAL

    ctx = app.context()
    every = interval if interval is not None else ctx.settings.delivery_interval
    if not MIN_DELIVERY_INTERVAL <= every <= MAX_DELIVERY_INTERVAL:
        raise ValidationError(f"--interval must be between {MIN_DELIVERY_INTERVAL:g} and "
                              f"{MAX_DELIVERY_INTERVAL:g} seconds")
    target = deliverer(ctx)
    stop = threading.Event()
    if follow:
        def on_signal(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    while True:
        started = time.monotonic()
        for done in deliver_trail(ctx, target):
            if not quiet:
                click.echo(f"{done.shard}\t{done.events} events\t{len(done.log_keys)} log "
                           f"files\t{target.archive.location}/{done.digest_key}"
                           + ("\t(redone)" if done.redone else ""))
        if not follow or stop.wait(max(0.0, every - (time.monotonic() - started))):
            return


@trail.command("validate")
@click.option("--start", metavar="TIME", help="Digests ending and events from this time.")
@click.option("--end", metavar="TIME", help="Digests ending and events before this time.")
@click.option("--deep", is_flag=True,
              help="Also re-read every log file's events: Merkle roots and chain hashes.")
@click.option("--public-key", "public_keys", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A trusted public key (PEM) besides those the store lists; repeatable.")
@format_option
@pass_app
def validate_cmd(app: App, start: str | None, end: str | None, deep: bool,
                 public_keys: tuple[Path, ...], fmt: str) -> None:
    """Check the trail: the digest chain and each digest's signature, every log file's
    hash, and the store's hash chain. Prints each problem, naming the file or the event.
    Exits 0 when everything is valid, 1 otherwise."""
    from pipetrail.actions.trail import validate_trail

    keys = {str(p): p.read_text(errors="replace") for p in public_keys}
    interactive = sys.stderr.isatty()

    def progress(shard: str, checked: int) -> None:
        if interactive:
            click.echo(f"\rvalidating shard {shard}: {checked:,} events", err=True, nl=False)

    report = validate_trail(app.context(), start=parse_time(start) if start else None,
                            end=parse_time(end) if end else None, deep=deep,
                            public_keys=keys, progress=progress)
    if interactive:
        click.echo("\r\033[K", err=True, nl=False)
    if fmt == "json":
        emit_json(report.to_record())
    else:
        _print_report(report)
    if not report.valid:
        raise SystemExit(1)


def _print_report(report: Report) -> None:
    for problem in report.problems:
        click.echo(f"{problem.kind}\t{problem.name}\t{problem.message}")
    requested = "the whole trail"
    if report.start is not None or report.end is not None:
        requested = " to ".join(iso_from_ms(t) if t is not None else "now"
                                for t in (report.start or 0, report.end))
    click.echo(f"\nResults requested for {requested}")
    click.echo(f"{report.digests - report.digests_invalid}/{report.digests} digest files valid"
               + (f", {report.digests_invalid}/{report.digests} digest files INVALID"
                  if report.digests_invalid else ""))
    click.echo(f"{report.log_files - report.log_files_invalid}/{report.log_files} log files "
               "valid" + (f", {report.log_files_invalid}/{report.log_files} log files INVALID"
                          if report.log_files_invalid else ""))
    click.echo(f"{report.events - report.events_invalid}/{report.events} events valid in the "
               "store's chain")
    click.echo("The trail is valid." if report.valid else
               f"The trail is INVALID: {len(report.problems)} problems.")


@trail.command("prove")
@click.argument("event_id")
@pass_app
def prove_cmd(app: App, event_id: str) -> None:
    """Print (JSON) the proof that a delivered event is in the signed trail: its bytes,
    its Merkle audit path and the signed digest. Check it with 'trail verify-proof'."""
    from pipetrail.actions.trail import prove_event

    emit_json(prove_event(app.context(), event_id))


@trail.command("verify-proof")
@click.argument("proof_file", metavar="PROOF", type=click.File("rb"))
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The trail's public key (PEM, from 'trail public-key'); without it, the "
                   "key inside the proof is used, which shows consistency, not origin.")
@format_option
def verify_proof_cmd(proof_file: IO[bytes], public_key: Path | None, fmt: str) -> None:
    """Check a proof offline (no store needed). Exits 0 when valid, 1 otherwise."""
    import orjson

    from pipetrail.trail.proof import MAX_PROOF_BYTES, verify_proof

    data = proof_file.read(MAX_PROOF_BYTES + 1)
    if len(data) > MAX_PROOF_BYTES:
        raise ValidationError(f"the proof is over {MAX_PROOF_BYTES // (1024 * 1024)} MiB")
    try:
        proof = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the proof is not JSON: {exc}") from None
    verdict = verify_proof(proof, public_key.read_text(errors="replace") if public_key else None)
    if fmt == "json":
        emit_json(verdict.to_record())
    else:
        for check in verdict.checks:
            click.echo(f"{'ok' if check['ok'] else 'FAILED':6}\t{check['check']}\t"
                       f"{check['detail']}")
        click.echo("The proof is valid." if verdict.valid else "The proof is INVALID.")
    if not verdict.valid:
        raise SystemExit(1)


@trail.command("public-key")
@click.option("--all", "every", is_flag=True,
              help="Every key that signed digests (JSON), not only the current one.")
@pass_app
def public_key_cmd(app: App, every: bool) -> None:
    """Print the public key (PEM) that verifies the trail's digests, to keep apart from
    the archive and give to whoever checks proofs and archives."""
    from pipetrail.actions.trail import deliverer, list_public_keys

    ctx = app.context()
    if every:
        emit_json(list_public_keys(ctx))
        return
    signer = deliverer(ctx).signer
    list_public_keys(ctx)  # recorded and authorised as ListPublicKeys
    click.echo(signer.public_pem, nl=False)


# -- query, export, retention and legal holds ------------------------------------------

TIME_HELP = "ISO 8601, epoch, or relative (15m, 2h, 7d)."


def _time(text: str | None) -> int | None:
    return parse_time(text) if text else None


@trail.command("query")
@click.argument("statement")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="A table for people, JSON or CSV for programs.")
@click.option("--max-rows", type=int, default=1000, show_default=True,
              help="Return at most this many rows (up to 100000).")
@click.option("--start", metavar="TIME", help=f"Read only events from this time. {TIME_HELP}")
@click.option("--end", metavar="TIME", help=f"Read only events before this time. {TIME_HELP}")
@click.option("--timeout", type=float, default=60.0, show_default=True,
              help="Seconds the query may run (up to 600).")
@pass_app
def query(app: App, statement: str, fmt: str, max_rows: int, start: str | None,
          end: str | None, timeout: float) -> None:
    """Run one SQL SELECT over the table ``events`` (the archive and the store).

    Columns are lowercase CloudTrail fields: eventid, eventtime (TIMESTAMP, UTC),
    eventsource, eventname, eventcategory, readonly, username, useridentity,
    sourceipaddress, errorcode, resources, dataset, operation, rows, bytes, columns,
    jobrunid … (see docs/trail.md). Example:

        pipetrail trail query "SELECT username, count(*) FROM events
        WHERE eventtime > now() - INTERVAL 7 DAY GROUP BY 1"
    """
    import csv
    import sys

    import orjson

    from pipetrail.actions.trail_archive import query_events
    from pipetrail.cli.output import emit_table

    result = query_events(app.context(), statement, max_rows=max_rows, start=_time(start),
                          end=_time(end), time_limit=timeout)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if fmt == "json":
        emit_json(result.to_record())
        return
    records = result.records()
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        for record in records:
            writer.writerow(["" if v is None else orjson.dumps(v).decode()
                             if isinstance(v, (dict, list)) else v for v in record.values()])
    elif records:
        emit_table(records, result.columns)
    else:
        click.echo("(no rows)")
    if result.truncated:
        click.echo(f"(only the first {max_rows} rows; raise --max-rows for more)", err=True)


@trail.command("export")
@click.option("--format", "fmt", type=click.Choice(["cloudtrail"]), default="cloudtrail",
              show_default=True, help="CloudTrail log files: gzip {\"Records\": [...]}.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The directory to write (new or empty, unless --force).")
@click.option("--start", metavar="TIME", help=f"Events from this time. {TIME_HELP}")
@click.option("--end", metavar="TIME", help=f"Events before this time. {TIME_HELP}")
@click.option("--force", is_flag=True, help="Write into a directory that is not empty.")
@pass_app
def export(app: App, fmt: str, out: Path, start: str | None, end: str | None,
           force: bool) -> None:
    """Export the trail's events as CloudTrail log files, with a manifest."""
    from pipetrail.actions.trail_archive import export_trail_events

    result = export_trail_events(app.context(), out, start=_time(start), end=_time(end),
                                 force=force, fmt=fmt)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"exported {result.events} events in {len(result.files)} files to {out} "
               f"(manifest: {result.summary()['manifest']})")


@trail.group("retention")
def retention_group() -> None:
    """How long the trail keeps events, and applying it."""


TRAIL_OPTION = click.option("--trail", "trail_name", default="default", show_default=True,
                            help="The trail.")


@retention_group.command("set")
@click.option("--days", type=int, help="Keep events this many days (1 to 36500).")
@click.option("--never", is_flag=True, help="Keep events for ever (no retention).")
@TRAIL_OPTION
@pass_app
def retention_set(app: App, days: int | None, never: bool, trail_name: str) -> None:
    """Set the trail's retention period."""
    from pipetrail.actions.trail_archive import put_retention

    if (days is None) == (not never):
        raise click.UsageError("give either --days N or --never")
    put_retention(app.context(), None if never else days, trail_name)
    click.echo(f"trail {trail_name}: events are kept for ever" if never else
               f"trail {trail_name}: events expire after {days} days")


@retention_group.command("show")
@TRAIL_OPTION
@format_option
@pass_app
def retention_show(app: App, trail_name: str, fmt: str) -> None:
    """Show the trail's retention period."""
    from pipetrail.actions.trail_archive import get_retention

    policy = get_retention(app.context(), trail_name)
    emit(policy, fmt, rows=[policy],
         columns=("trailName", "retentionDays", "updatedOn", "legalHolds"))


@retention_group.command("apply")
@click.option("--dry-run", is_flag=True, help="Show what would be deleted; delete nothing.")
@TRAIL_OPTION
@format_option
@pass_app
def retention_apply(app: App, dry_run: bool, trail_name: str, fmt: str) -> None:
    """Delete delivered log files (and their events in the store) older than the
    retention period, except what a legal hold covers."""
    from pipetrail.actions.trail_archive import apply_trail_retention

    outcome = apply_trail_retention(app.context(), dry_run=dry_run, trail=trail_name)
    record = outcome.to_record(keys=True)
    if fmt == "json":
        emit_json(record)
        return
    if outcome.plan.days is None:
        click.echo(f"trail {trail_name} has no retention period: nothing expires")
        return
    verb = "would delete" if dry_run else "deleted"
    span = (f" (events from {record['oldestEventTime']} to {record['newestEventTime']})"
            if outcome.files else "")
    click.echo(f"{verb} {record['logFilesDeleted']} log files and {record['eventsDeleted']} "
               f"events older than {record['cutoffTime']}{span}; "
               f"{record['logFilesHeld']} log files kept under legal hold")


@trail.group("hold")
def hold_group() -> None:
    """Legal holds: what they cover is never deleted by retention."""


@hold_group.command("add")
@click.argument("name")
@click.option("--start", metavar="TIME", help=f"Hold events from this time. {TIME_HELP}")
@click.option("--end", metavar="TIME", help=f"Hold events before this time. {TIME_HELP}")
@click.option("--resource", metavar="ARN_OR_URI",
              help="Hold the events naming this resource ARN or dataset URI.")
@click.option("--reason", default="", help="Why (a case number …).")
@TRAIL_OPTION
@pass_app
def hold_add(app: App, name: str, start: str | None, end: str | None, resource: str | None,
             reason: str, trail_name: str) -> None:
    """Put a legal hold on a time window and/or a resource."""
    from pipetrail.actions.trail_archive import put_legal_hold

    put_legal_hold(app.context(), name, start=_time(start), end=_time(end), resource=resource,
                   reason=reason, trail=trail_name)
    click.echo(f"legal hold {name} added to trail {trail_name}")


@hold_group.command("list")
@TRAIL_OPTION
@format_option
@pass_app
def hold_list(app: App, trail_name: str, fmt: str) -> None:
    """List the trail's legal holds."""
    from pipetrail.actions.trail_archive import list_legal_holds

    holds = list_legal_holds(app.context(), trail_name)
    emit(holds, fmt, columns=("name", "startTime", "endTime", "resource", "reason",
                              "createdOn", "createdBy"))


@hold_group.command("release")
@click.argument("name")
@TRAIL_OPTION
@pass_app
def hold_release(app: App, name: str, trail_name: str) -> None:
    """Release a legal hold."""
    from pipetrail.actions.trail_archive import release_legal_hold

    release_legal_hold(app.context(), name, trail_name)
    click.echo(f"legal hold {name} released")

COMMANDS: list[click.Command] = [trail]
