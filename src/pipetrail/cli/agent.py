"""``pipetrail agent``: the spool of remote runs (records waiting for the server)."""

from __future__ import annotations

from typing import Any

import click

from pipetrail.cli.app import App, pass_app
from pipetrail.cli.output import emit, format_option


@click.group("agent")
def agent() -> None:
    """Remote runs' spool: records waiting under PIPETRAIL_HOME/spool for the server."""


@agent.command("status")
@format_option
@pass_app
def status(app: App, fmt: str) -> None:
    """List the spools: runs whose records still wait, and batches set aside."""
    from pipetrail.agent.remote import spool_root
    from pipetrail.agent.spool import REJECTED, Spool, orphans

    root = spool_root(app.settings)
    rows: list[dict[str, Any]] = []
    for directory in orphans(root):
        spool = Spool.adopt(directory)
        if spool is None:
            rows.append({"runId": directory.name, "state": "running", "batches": None,
                         "records": None, "server": None})
            continue
        batches, records = spool.counts()
        rows.append({"runId": directory.name, "state": "waiting", "batches": batches,
                     "records": records, "server": spool.meta.get("url")})
        spool.close()
    rejected = root / REJECTED
    if rejected.is_dir():
        for directory in sorted(p for p in rejected.iterdir() if p.is_dir()):
            count = len([p for p in directory.glob("*.json") if p.stem.isdigit()])
            rows.append({"runId": directory.name, "state": "rejected", "batches": count,
                         "records": None, "server": None})
    emit(rows, fmt, columns=("runId", "state", "batches", "records", "server"))


@agent.command("flush")
@click.option("--timeout", type=float, default=60.0, show_default=True, metavar="SECONDS",
              help="Give up after this long; what is left stays in the spool.")
@pass_app
def flush(app: App, timeout: float) -> None:
    """Deliver the records of remote runs whose runner ended before the server had
    them (to PIPETRAIL_URL with PIPETRAIL_TOKEN). Exit 1 when some remain."""
    import time

    from pipetrail.agent.remote import check_remote, deliver_orphans, spool_root
    from pipetrail.agent.shipper import Progress

    url, token = check_remote(app.settings)
    progress = Progress()
    report = deliver_orphans(spool_root(app.settings), url, token, progress,
                             deadline=time.monotonic() + timeout)
    click.echo(f"delivered {progress.delivered_records} records "
               f"({progress.delivered_batches} batches) of {len(report.delivered)} runs")
    if report.busy:
        click.echo(f"{len(report.busy)} runs are still running; their runners deliver them",
                   err=True)
    if report.other_server:
        click.echo(f"{len(report.other_server)} runs were recorded through another "
                   "server; flush them with its PIPETRAIL_URL", err=True)
    if progress.rejected_batches:
        click.echo(f"the server refused {progress.rejected_batches} batches: set aside in "
                   f"{', '.join(sorted(set(progress.rejected_to)))}", err=True)
    if report.left:
        click.echo(f"{len(report.left)} runs still wait: {progress.last_error}", err=True)
        raise SystemExit(1)


COMMANDS: list[click.Command] = [agent]
