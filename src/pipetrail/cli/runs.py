"""``pipetrail runs`` and ``pipetrail jobs``: job runs and jobs."""

from __future__ import annotations

from typing import Any

import click

from pipetrail.cli.app import App, pass_app
from pipetrail.cli.output import emit, emit_table, format_option, human_value
from pipetrail.model.runs import RunState

RUN_COLUMNS = ("runId", "jobName", "state", "startedOn", "executionTime", "exitCode")


def _short(run: dict[str, Any]) -> dict[str, Any]:
    return {**run, "runId": run["runId"][:12]}


@click.group("runs")
def runs() -> None:
    """Job runs: list, show, compare, stop."""


@runs.command("list")
@click.option("--job", "job_name", metavar="NAME", help="Only runs of this job.")
@click.option("--state", type=click.Choice(list(RunState.__members__)), help="Only this state.")
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many.")
@format_option
@pass_app
def list_runs(app: App, job_name: str | None, state: str | None, limit: int, fmt: str) -> None:
    """List runs, newest first (table run ids are shortened: any unique prefix works)."""
    from pipetrail.actions.jobs import get_job_runs

    found = [r.to_json() for r in get_job_runs(app.context(), job_name, state, limit)]
    emit(found, fmt, rows=[_short(r) for r in found], columns=RUN_COLUMNS)


@runs.command("show")
@click.argument("run_id")
@format_option
@pass_app
def show_run(app: App, run_id: str, fmt: str) -> None:
    """Show one run (RUN_ID or a unique prefix of it) with its metrics summary."""
    from pipetrail.actions.jobs import get_job_run
    from pipetrail.actions.metrics import run_metric_summary

    ctx = app.context()
    run = get_job_run(ctx, run_id)
    data = run.to_json()
    data["metrics"] = [m.to_json() for m in run_metric_summary(ctx.store, run.run_id)]
    if run.details.get("exception"):
        data["exception"] = run.details["exception"]
    for key in ("insights", "spark", "sparkEventLog", "sparkAnalysis", "sparkFindings",
                "environment"):
        if run.details.get(key) is not None:
            data[key] = run.details[key]
    if fmt == "json":
        emit(data, fmt)
        return
    fields = [{"field": k, "value": v} for k, v in data.items()
              if k not in {"metrics", "exception", "insights", "spark", "environment",
                           "sparkAnalysis", "sparkFindings"}]
    emit_table(fields, ("field", "value"), title=f"Job run {run.run_id[:12]}")
    if data["metrics"]:
        rows = [{**m, **{k: human_value(m[k], m["unit"])
                         for k in ("minimum", "average", "maximum", "last")}}
                for m in data["metrics"]]
        emit_table(rows, ("metricName", "sampleCount", "minimum", "average", "maximum",
                          "last"), title="Metrics")
    if data.get("sparkAnalysis"):
        _show_spark_analysis(data["sparkAnalysis"], data.get("sparkFindings") or [])
    if data.get("insights"):
        _show_insight(data["insights"])


def _show_spark_analysis(summary: dict[str, Any], findings: list[dict[str, Any]]) -> None:
    click.echo()
    if summary.get("error"):
        click.secho("Spark analysis", bold=True)
        click.echo(f"  the event log could not be analysed: {summary['error']}")
        return
    duration = summary.get("duration")
    took = f", {human_value(duration / 1000, 'Seconds')}" if duration is not None else ""
    click.secho(f"Spark analysis: {summary.get('applicationId')} "
                f"({summary.get('applicationName')}){took}", bold=True)
    failed = [f"{summary[k]} {label}" for k, label in (
        ("failedJobs", "failed job(s)"), ("failedStages", "failed stage(s)"),
        ("failedTasks", "failed task(s)")) if summary.get(k)]
    click.echo(f"  {summary.get('jobs')} job(s), {summary.get('stages')} stage(s), "
               f"{summary.get('tasks')} task(s), {summary.get('sqlExecutions')} SQL "
               f"execution(s)" + (f"; {', '.join(failed)}" if failed else ""))
    totals = summary.get("totals") or {}
    click.echo(
        f"  read {human_value(totals.get('inputBytes', 0), 'Bytes')} "
        f"({human_value(totals.get('inputRecords', 0), 'Count')} records), "
        f"wrote {human_value(totals.get('outputBytes', 0), 'Bytes')}, "
        f"shuffled {human_value(totals.get('shuffleWriteBytes', 0), 'Bytes')}, "
        f"spilled {human_value(totals.get('diskBytesSpilled', 0), 'Bytes')} to disk; "
        f"task time {human_value(totals.get('executorRunTime', 0), 'Milliseconds')}")
    if summary.get("dataEvents"):
        click.echo(f"  {summary['dataEvents']} data event(s) recorded from the event log")
    if summary.get("capped"):
        click.echo(f"  partial: {summary['capped']}")
    if not findings:
        click.echo("  no findings")
    for finding in findings:
        click.echo(f"  [{finding.get('severity')}] {finding.get('title')} "
                   f"({finding.get('heuristic')})")
        click.echo(f"      {finding.get('recommendation')}")


def _show_insight(insight: dict[str, Any]) -> None:
    click.echo()
    click.secho(f"Insight: {insight.get('title')} [{insight.get('category')}]", bold=True)
    click.echo(f"  {insight.get('summary')}")
    location = insight.get("location") or {}
    if location:
        click.echo(f"  at {location.get('file')}:{location.get('line')} "
                   f"in {location.get('function')}")
        for line in location.get("snippet") or []:
            mark = ">" if line.get("failing") else " "
            click.echo(f"   {mark}{line['line']:>5} | {line['code']}")
    action = insight.get("sparkAction")
    if action:
        click.echo(f"  last Spark action: {action.get('name')} at line {action.get('line')}"
                   + (" (failed)" if action.get("failed") else ""))
    cause = insight.get("rootCause") or {}
    if cause.get("exceptionClass"):
        click.echo(f"  root cause: {cause['exceptionClass']}: {cause.get('message') or ''}")
    click.echo(f"  recommendation: {insight.get('recommendation')}")
    changed = (insight.get("whatChanged") or {}).get("summary")
    if changed:
        click.echo(f"  changed since run {insight['whatChanged']['baselineRunId'][:12]}: "
                   + "; ".join(changed))


@runs.command("compare")
@click.argument("run_id")
@click.option("--with", "with_run_id", metavar="RUN_ID",
              help="The run to compare with (default: the job's last successful run "
                   "before RUN_ID).")
@format_option
@pass_app
def compare_run(app: App, run_id: str, with_run_id: str | None, fmt: str) -> None:
    """What changed from a baseline run to RUN_ID: script diff, arguments, input and
    output datasets with their sizes, duration, Python and package versions, and the
    Spark configuration."""
    from pipetrail.actions.insights import compare_job_runs

    result = compare_job_runs(app.context(), run_id, with_run_id)
    if fmt == "json":
        emit(result, fmt)
        return
    click.secho(f"Run {result['runId'][:12]} ({result['runState']}) compared with "
                f"{result['baselineRunId'][:12]} ({result['baselineState']})", bold=True)
    for line in result["summary"]:
        click.echo(f"  - {line}")
    rows = [{"item": "duration (s)", "baseline": result["duration"]["baseline"],
             "run": result["duration"]["run"]},
            {"item": "arguments", "baseline": result["arguments"]["baseline"],
             "run": result["arguments"]["run"]},
            {"item": "python", "baseline": result["python"]["baseline"],
             "run": result["python"]["run"]}]
    rows += [{"item": p["name"], "baseline": p["baseline"], "run": p["run"]}
             for p in result["packages"]]
    rows += [{"item": f"{kind} {d['dataset']}", "baseline": d["baseline"], "run": d["run"]}
             for kind in ("inputs", "outputs") for d in result[kind]]
    rows += [{"item": c["key"], "baseline": c["baseline"], "run": c["run"]}
             for c in result.get("sparkConf") or []]
    emit_table(rows, ("item", "baseline", "run"), title="Compared")
    diff = result["script"].get("diff")
    if diff:
        click.echo(diff, nl=False)


@runs.command("stop")
@click.argument("run_id")
@pass_app
def stop_run(app: App, run_id: str) -> None:
    """Stop a running job (it ends as STOPPED)."""
    from pipetrail.actions.jobs import stop_job_run

    run = stop_job_run(app.context(), run_id)
    click.echo(f"stopping {run.run_id}")


@click.group("jobs")
def jobs() -> None:
    """Jobs (created on their first run)."""


@jobs.command("list")
@format_option
@pass_app
def list_jobs(app: App, fmt: str) -> None:
    """List jobs."""
    from pipetrail.actions.jobs import get_jobs

    emit([j.to_json() for j in get_jobs(app.context())], fmt,
         columns=("name", "createdOn", "script"))


COMMANDS: list[click.Command] = [runs, jobs]
