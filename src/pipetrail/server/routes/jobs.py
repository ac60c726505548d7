"""Jobs and job runs: GetJobs, GetJobRuns, GetJobRun, StopJobRun."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from pipetrail.actions.jobs import get_job_run, get_job_runs, get_jobs, stop_job_run
from pipetrail.actions.metrics import run_metric_summary
from pipetrail.server.auth import Ctx
from pipetrail.server.responses import ERRORS
from pipetrail.server.routes import PREFIX

router = APIRouter(prefix=PREFIX, tags=["jobs"], responses=ERRORS)

RunId = Annotated[str, Path(min_length=1, max_length=80,
                            description="A run id, or a unique prefix of at least 6 characters")]


@router.get("/jobs", summary="GetJobs: every job")
def list_jobs(ctx: Ctx) -> dict[str, Any]:
    return {"jobs": [job.to_json() for job in get_jobs(ctx)]}


@router.get("/runs", summary="GetJobRuns: runs, newest first")
def list_runs(
    ctx: Ctx,
    job_name: Annotated[str | None, Query(alias="jobName", max_length=255)] = None,
    state: Annotated[str | None, Query(max_length=16,
                                       description="STARTING, RUNNING, … FAILED")] = None,
    max_results: Annotated[int, Query(alias="maxResults", ge=1, le=10_000)] = 50,
) -> dict[str, Any]:
    runs = get_job_runs(ctx, job_name, state, max_results)
    return {"jobRuns": [run.to_json() for run in runs]}


@router.get("/runs/{runId}", summary="GetJobRun: one run with its metrics summary")
def show_run(ctx: Ctx, run_id: Annotated[RunId, Path(alias="runId")]) -> dict[str, Any]:
    run = get_job_run(ctx, run_id)
    data = run.to_json()
    data["metrics"] = [m.to_json() for m in run_metric_summary(ctx.store, run.run_id)]
    if run.details.get("exception"):
        data["exception"] = run.details["exception"]
    return {"jobRun": data}


@router.post("/runs/{runId}/stop", summary="StopJobRun: stop a running job")
def stop_run(ctx: Ctx, run_id: Annotated[RunId, Path(alias="runId")]) -> dict[str, Any]:
    run = stop_job_run(ctx, run_id)
    return {"jobRunId": run.run_id, "state": "STOPPING"}
