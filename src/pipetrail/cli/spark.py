"""`pipetrail spark` verbs: analysis of Spark event logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pipetrail.cli.output import emit_json, emit_table, format_option


@click.group("spark")
def spark() -> None:
    """Spark applications: profiles and findings from their event logs."""


@spark.command("analyze")
@click.argument("eventlog", type=click.Path(path_type=Path))
@format_option
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="Stages listed in the table (the longest-running first).")
def analyze_cmd(eventlog: Path, fmt: str, top: int) -> None:
    """Analyse the Spark event log EVENTLOG (a file or a rolling eventlog_v2_* folder).

    Reads any codec Spark writes (zstd, lz4, snappy, lzf) or plain JSON lines; an
    in-progress, truncated or partly damaged log is analysed as far as it goes, with a
    warning naming the first bad line. Figures follow Spark's REST API; see docs/spark.md.
    """
    from pipetrail.spark import analyze

    report = analyze(eventlog)
    if fmt == "json":
        emit_json(report.to_dict())
        return
    _print_table(report.to_dict(), top)


def _print_table(data: dict[str, Any], top: int) -> None:
    app = data["application"]
    source = data["source"]
    state = "running/incomplete" if source["inProgress"] else "completed"
    click.echo(f"Application {app['id']} ({app['name']}), Spark {app['sparkVersion']}, "
               f"user {app['sparkUser']}, {state}")
    click.echo(f"  start {app['startTime']}  end {app['endTime'] or '-'}  "
               f"duration {_ms(app['duration'])}")
    click.echo(f"  log {source['path']} ({source['layout']}, "
               f"{', '.join(source['codecs']) or 'uncompressed'}, {source['events']} events)")
    for warning in source["warnings"]:
        click.echo(f"  warning: {warning}")
    click.echo(f"  {len(data['jobs'])} jobs, {len(data['stages'])} stages, "
               f"{len(data['executors'])} executors, {len(data['sql'])} SQL executions")
    click.echo()

    stages = sorted(data["stages"], key=lambda s: s.get("executorRunTime", 0), reverse=True)
    rows = []
    for s in stages[:top]:
        summary = s.get("taskSummary") or {}
        q = summary.get("duration") or []
        rows.append({
            "stage": f"{s['stageId']}.{s['attemptId']}", "status": s["status"],
            "tasks": f"{s['numCompleteTasks']}/{s['numTasks']}"
                     + (f" ({s['numFailedTasks']} failed)" if s["numFailedTasks"] else ""),
            "duration": _ms(s.get("duration")),
            "task median/max": f"{_ms(q[2])} / {_ms(q[4])}" if len(q) == 5 else None,
            "skew": summary.get("skewRatio"),
            "input": _bytes(s["inputBytes"]),
            "shuffle read/write": (
                f"{_bytes(s['shuffleReadBytes'])} / {_bytes(s['shuffleWriteBytes'])}"),
            "disk spill": _bytes(s["diskBytesSpilled"]),
        })
    if rows:
        emit_table(rows, list(rows[0]), title=f"Top {len(rows)} stages by task run time")
    executors = [{
        "id": e["id"], "host": e["hostPort"], "cores": e["totalCores"],
        "tasks": e["completedTasks"], "failed": e["failedTasks"],
        "task time": _ms(e["taskTime"]), "GC": _ms(e["totalGCTime"]),
        "input": _bytes(e["totalInputBytes"]),
        "shuffle read/write": (
            f"{_bytes(e['totalShuffleRead'])} / {_bytes(e['totalShuffleWrite'])}"),
    } for e in data["executors"]]
    if executors:
        emit_table(executors, list(executors[0]), title="Executors")
    queries = [{
        "id": q["id"], "status": q["status"], "duration": _ms(q["duration"]),
        "description": (q["description"] or "")[:40],
        "reads": "; ".join(_dataset(r) for r in q["reads"]) or None,
        "writes": "; ".join(_dataset(w) for w in q["writes"]) or None,
    } for q in data["sql"]]
    if queries:
        emit_table(queries, list(queries[0]), title="SQL executions")
    findings = [{
        "severity": f["severity"], "heuristic": f["heuristic"], "finding": f["title"],
        "where": _where(f["evidence"]), "recommendation": f["recommendation"],
    } for f in data["findings"]]
    if findings:
        emit_table(findings, list(findings[0]), title="Findings")
    else:
        click.echo("No findings.")


def _where(evidence: dict[str, Any]) -> str | None:
    """``stages 3, 5`` / ``SQL 1`` / ``jobs 0``: where a finding's evidence points."""
    parts = []
    for key, label in (("jobIds", "jobs"), ("stageIds", "stages"), ("executionIds", "SQL")):
        ids = evidence.get(key) or []
        if ids:
            shown = ", ".join(str(i) for i in ids[:8]) + (", …" if len(ids) > 8 else "")
            parts.append(f"{label} {shown}")
    return "; ".join(parts) or None


def _dataset(d: dict[str, Any]) -> str:
    paths = d.get("paths") or []
    where = d.get("table") or d.get("path") or (paths[0] if paths else "?")
    more = (d.get("pathCount") or len(paths)) - 1 if paths and not d.get("table") else 0
    if more > 0:
        where += f" (+{more} more)"
    fmt = d.get("format")
    return f"{fmt} {where}" if fmt else where


def _ms(value: float | None) -> str | None:
    if value is None:
        return None
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 120_000:
        return f"{value / 1000:.1f} s"
    return f"{value / 60_000:.1f} min"


def _bytes(value: float | None) -> str | None:
    if not value:
        return "0" if value == 0 else None
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


COMMANDS: list[click.Command] = [spark]
