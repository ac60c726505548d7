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
    """Job runs: list, show, stop."""


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
    if fmt == "json":
        emit(data, fmt)
        return
    fields = [{"field": k, "value": v} for k, v in data.items()
              if k not in {"metrics", "exception"}]
    emit_table(fields, ("field", "value"), title=f"Job run {run.run_id[:12]}")
    if data["metrics"]:
        rows = [{**m, **{k: human_value(m[k], m["unit"])
                         for k in ("minimum", "average", "maximum", "last")}}
                for m in data["metrics"]]
        emit_table(rows, ("metricName", "sampleCount", "minimum", "average", "maximum",
                          "last"), title="Metrics")


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
