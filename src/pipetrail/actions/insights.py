"""Insights actions: CompareJobRuns (``pipetrail runs compare``)."""

from __future__ import annotations

from typing import Any

from pipetrail.actions.context import ActionContext
from pipetrail.insights.compare import compare_runs, last_successful_run
from pipetrail.model.arn import run_arn
from pipetrail.model.audit import Resource
from pipetrail.model.errors import NotFoundError, ValidationError

SOURCE = "insights"


def compare_job_runs(ctx: ActionContext, run_id: str, with_run_id: str | None = None
                     ) -> dict[str, Any]:
    """CompareJobRuns: what changed from a baseline run (by default the job's last
    successful run before it) to ``run_id``. Both accept a unique id prefix."""
    params = {"jobRunId": run_id, "baselineRunId": with_run_id}
    with ctx.call(SOURCE, "CompareJobRuns", read_only=True, params=params) as call:
        run = ctx.store.get_run(run_id)
        call.run_id = run.run_id
        call.resources = [Resource("Pipetrail::Jobs::JobRun",
                                   run_arn(ctx.workspace, run.job_name, run.run_id))]
        if with_run_id is not None:
            baseline = ctx.store.get_run(with_run_id)
            if baseline.run_id == run.run_id:
                raise ValidationError("--with names the run itself; name another run")
        else:
            found = last_successful_run(ctx.store, run)
            if found is None:
                raise NotFoundError(
                    f"job {run.job_name!r} has no successful run before {run.run_id}; "
                    "name a run to compare with (--with RUN_ID)")
            baseline = found
        call.resources.append(Resource("Pipetrail::Jobs::JobRun", run_arn(
            ctx.workspace, baseline.job_name, baseline.run_id)))
        return compare_runs(ctx.store, run, baseline)
