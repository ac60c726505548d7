"""``pipetrail logs``: a run's log events."""

from __future__ import annotations

import sys

import click

from pipetrail.cli.app import App, pass_app
from pipetrail.cli.output import emit_json, format_option
from pipetrail.model.clock import iso_from_ms
from pipetrail.model.logs import LogEvent

STREAMS = ("console", "output", "error", "logger", "insights", "all")


def _line(event: LogEvent, label: bool) -> str:
    if not label:
        return event.message
    kind = event.group.rsplit("/", 1)[-1]
    if event.stream.endswith("-logger"):
        kind = "logger"
    return f"{iso_from_ms(event.timestamp)} [{kind}] {event.message}"


@click.group("logs")
def logs() -> None:
    """Log events of job runs."""


@logs.command("get")
@click.argument("run_id")
@click.option("--stream", type=click.Choice(STREAMS), default="console", show_default=True,
              help="Which stream: stdout and stderr merged as the terminal showed them "
                   "(console), stdout (output), stderr (error), Python logging records "
                   "(logger), insights, or all of them merged in write order.")
@click.option("--limit", type=int, default=1000, show_default=True,
              help="At most this many events, from the start.")
@click.option("--raw", is_flag=True, help="Print messages only, without time and stream.")
@format_option
@pass_app
def get_logs(app: App, run_id: str, stream: str, limit: int, raw: bool, fmt: str) -> None:
    """Print the log events of a run in the order they were written."""
    from pipetrail.actions.logs import get_log_events

    events = get_log_events(app.context(), run_id, stream, limit)
    if fmt == "json":
        emit_json([e.to_json() for e in events])
        return
    for event in events:
        click.echo(_line(event, not raw))


@logs.command("tail")
@click.argument("run_id")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the run ends.")
@click.option("--lines", "-n", type=int, default=10, show_default=True,
              help="How many of the last lines to print first.")
@click.option("--stream", type=click.Choice(STREAMS), default="console", show_default=True,
              help="As for 'logs get'.")
@click.option("--pattern", "-p", default=None, metavar="PATTERN",
              help="Only lines that match this filter pattern (CloudWatch Logs syntax), "
                   "for the first lines and the followed ones.")
@click.option("--raw", is_flag=True, help="Print messages only, without time and stream.")
@pass_app
def tail_logs(app: App, run_id: str, follow: bool, lines: int, stream: str,
              pattern: str | None, raw: bool) -> None:
    """Print the last lines of a run; with --follow, new lines as they are written."""
    from pipetrail.actions.logs import tail_batches

    out = sys.stdout
    for batch in tail_batches(app.context(), run_id, stream, lines, follow, pattern=pattern):
        out.write("".join(_line(event, not raw) + "\n" for event in batch))
        out.flush()


def _attach_languages() -> None:
    from pipetrail.cli import log_groups, logs_lang, metric_filters

    for module in (logs_lang, log_groups, metric_filters):
        for command in module.LOGS_SUBCOMMANDS:
            logs.add_command(command)


_attach_languages()

COMMANDS: list[click.Command] = [logs]
