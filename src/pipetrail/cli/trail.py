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


COMMANDS: list[click.Command] = [trail]
