"""``pipetrail logs`` verbs for the two log languages: filter patterns and queries.

``LOGS_SUBCOMMANDS`` are attached to the ``logs`` group (see ``cli/main.py``).
"""

from __future__ import annotations

import sys
from typing import Any, BinaryIO

import click
import orjson

from pipetrail.cli.app import App, pass_app
from pipetrail.cli.output import emit, format_option
from pipetrail.logs.filter_pattern import compile_pattern
from pipetrail.logs.query import parse_query
from pipetrail.model.arn import log_group_arn
from pipetrail.model.audit import Resource
from pipetrail.model.clock import iso_from_ms, parse_time

LOG_GROUP_TYPE = "Pipetrail::Logs::LogGroup"
# As in pipetrail.logs.search, which is imported only by the verbs that read the store.
DEFAULT_FILTER_EVENTS = 1_000
MAX_FILTER_EVENTS = 10_000
TIME_HELP = "ISO 8601, epoch seconds/milliseconds, 'now' or relative (15m, 2h, 7d)."


@click.command("test-filter")
@click.option("--pattern", "-p", required=True, metavar="PATTERN",
              help="Filter pattern to test (CloudWatch Logs syntax).")
@click.option("--format", "fmt", type=click.Choice(("lines", "json")), default="lines",
              show_default=True,
              help="lines: the matching lines as they are; json: matches with the values "
                   "extracted for metric filters.")
@click.argument("file", type=click.File("rb"), default="-", required=False)
def test_filter(pattern: str, fmt: str, file: BinaryIO) -> None:
    """Print the lines of FILE (or stdin) that PATTERN matches, in order.

    Like `aws logs test-metric-filter`: each line is one log event. An invalid pattern
    exits with status 2 and points at the problem.
    """
    compiled = compile_pattern(pattern)
    out = sys.stdout.buffer
    matches: list[dict[str, Any]] = []
    for number, raw in enumerate(file, start=1):
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if line.endswith(b"\r"):
            line = line[:-1]
        text = line.decode("utf-8", "surrogateescape")
        match = compiled.match(text)
        if match is None:
            continue
        if fmt == "lines":
            out.write(line + b"\n")
        else:
            matches.append({"eventNumber": number,
                            "eventMessage": line.decode("utf-8", "replace"),
                            "extractedValues": {name: _valid_utf8(value) for name, value
                                                in match.extracted.items()}})
    if fmt == "json":
        out.write(orjson.dumps({"matches": matches}, option=orjson.OPT_INDENT_2) + b"\n")
    out.flush()


def _valid_utf8(text: str) -> str:
    """Text read with surrogateescape, with undecodable bytes shown as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@click.command("filter")
@click.argument("group")
@click.option("--pattern", "-p", default="", show_default=False, metavar="PATTERN",
              help="Filter pattern (CloudWatch Logs syntax); empty matches every event.")
@click.option("--stream", default=None, help="Only this log stream.")
@click.option("--start", default=None, help=f"Earliest event time. {TIME_HELP}")
@click.option("--end", default=None, help=f"Events before this time. {TIME_HELP}")
@click.option("--limit", type=click.IntRange(1, MAX_FILTER_EVENTS),
              default=DEFAULT_FILTER_EVENTS, show_default=True,
              help="Most events to print.")
@format_option
@pass_app
def filter_events(app: App, group: str, pattern: str, stream: str | None, start: str | None,
                  end: str | None, limit: int, fmt: str) -> None:
    """Print the events of log group GROUP that match a filter pattern, oldest first."""
    from pipetrail.logs.search import filter_log_events

    compile_pattern(pattern)
    start_ms = parse_time(start) if start else None
    end_ms = parse_time(end) if end else None
    ctx = app.context()
    params = {"logGroupName": group, "filterPattern": pattern, "logStreamName": stream,
              "startTime": start_ms, "endTime": end_ms, "limit": limit}
    with ctx.call("logs", "FilterLogEvents", read_only=True, params=params) as call:
        call.resources = [Resource(LOG_GROUP_TYPE, log_group_arn(ctx.workspace, group))]
        found = filter_log_events(ctx.store, group, pattern, stream=stream, start=start_ms,
                                  end=end_ms, limit=limit)
    rows = [{"time": iso_from_ms(e.timestamp), "stream": e.stream, "message": e.message}
            for e in found.events]
    emit(found.to_json(), fmt, rows=rows, columns=("time", "stream", "message"))
    if found.truncated and fmt == "table":
        click.echo(f"(more events match; showing the first {limit}, raise --limit)", err=True)


@click.command("query")
@click.option("--group", "-g", "groups", multiple=True, required=True, metavar="GROUP",
              help="Log group to query (repeat for several, at most 50).")
@click.option("--start", required=True, help=f"Earliest event time. {TIME_HELP}")
@click.option("--end", required=True, help=f"Events before this time. {TIME_HELP}")
@click.argument("query_text", metavar="QUERY")
@format_option
@pass_app
def query_events(app: App, groups: tuple[str, ...], start: str, end: str, query_text: str,
                 fmt: str) -> None:
    """Run a Logs-Insights-style QUERY over log groups between --start and --end.

    Example: pipetrail logs query -g /pipetrail/jobs/error --start 1h --end now
    'filter @message like /ERROR/ | stats count(*) by bin(5m)'
    """
    from pipetrail.logs.search import query_log_groups

    parsed = parse_query(query_text)
    start_ms = parse_time(start)
    end_ms = parse_time(end)
    ctx = app.context()
    params = {"logGroupNames": list(groups), "queryString": query_text,
              "startTime": start_ms, "endTime": end_ms}
    with ctx.call("logs", "StartQuery", read_only=True, params=params) as call:
        call.resources = [Resource(LOG_GROUP_TYPE, log_group_arn(ctx.workspace, g))
                          for g in groups]
        result = query_log_groups(ctx.store, groups, parsed, start=start_ms, end=end_ms)
    emit(result.to_json(), fmt, rows=result.rows, columns=result.columns)


LOGS_SUBCOMMANDS: list[click.Command] = [test_filter, filter_events, query_events]
