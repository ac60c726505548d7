"""Job and job-run actions: StartJobRun (``pipetrail run``), GetJobRun, GetJobRuns,
StopJobRun, GetJobs."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable
from typing import Any

from pipetrail.actions.context import ActionContext
from pipetrail.actions.extensions import ingest_pipeline, run_hooks
from pipetrail.actions.trail import deliver_after_run
from pipetrail.model.arn import job_arn, run_arn
from pipetrail.model.audit import AuditEvent, Resource
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import NotFoundError, PipetrailError, ValidationError
from pipetrail.model.identity import Identity
from pipetrail.model.runs import Job, JobRun, RunState
from pipetrail.runner.hooks import CallbackHook
from pipetrail.runner.job import JobRunner
from pipetrail.runner.launch import Launch, RunOptions
from pipetrail.runner.prepare import PreparedRun, prepare_job_run, start_params
from pipetrail.runner.reaper import reap_orphans
from pipetrail.trail.recorder import record

SOURCE = "jobs"


def _run_resource(ctx: ActionContext, run: JobRun) -> Resource:
    return Resource("Pipetrail::Jobs::JobRun", run_arn(ctx.workspace, run.job_name, run.run_id))


def _job_resource(ctx: ActionContext, name: str) -> Resource:
    return Resource("Pipetrail::Jobs::Job", job_arn(ctx.workspace, name))


def run_resources(ctx: ActionContext, run_id: str) -> list[Resource]:
    """The resource of a stored run (looked up by id or unique prefix)."""
    return [_run_resource(ctx, ctx.store.get_run(run_id))]


def launch_job_run(prepared: PreparedRun, identity: Identity | None = None) -> Launch:
    """Spawn the job (recording starts once :func:`start_job_run` has the store); what
    the job does is recorded as done by ``identity`` (default: the local user)."""
    return Launch(prepared.run_id, prepared.job_name, prepared.options, identity)


def reject_job_run(ctx: ActionContext, options: RunOptions, job_name: str | None,
                   error: PipetrailError) -> None:
    """Record a StartJobRun that failed its checks, then raise its error."""
    with ctx.call(SOURCE, "StartJobRun", read_only=False,
                  params=start_params(options, job_name)):
        raise error


def start_job_run(ctx: ActionContext, prepared: PreparedRun, launch: Launch,
                  on_state: Callable[[JobRun], None] | None = None) -> JobRun:
    """StartJobRun: record the launched run, follow it to its end, record the outcome."""
    hooks = [*run_hooks(ctx), *([CallbackHook(on_state)] if on_state else [])]

    def notify(run: JobRun) -> None:
        for hook in hooks:
            hook.on_state(run)

    resources = [_job_resource(ctx, prepared.job_name),
                 Resource("Pipetrail::Jobs::JobRun",
                          run_arn(ctx.workspace, prepared.job_name, prepared.run_id))]
    with ctx.call(SOURCE, "StartJobRun", read_only=False, params=prepared.params,
                  resources=resources) as call:
        script = str(prepared.options.script.resolve())
        run = JobRun(
            run_id=prepared.run_id, job_name=prepared.job_name, state=RunState.STARTING,
            started_on=launch.started_on, arguments=list(prepared.options.arguments),
            principal=ctx.caller.identity.user_name, code_hash=prepared.code_hash,
            script=script, host=socket.gethostname(), timeout=prepared.options.timeout,
            details={"runnerPid": os.getpid()},
        )
        job = Job(name=prepared.job_name, created_on=now_ms(), script=script)
        created = ctx.store.begin_run(job, prepared.content, run)
        notify(run)
        call.response = {"jobRunId": run.run_id, "jobCreated": created}
        call.run_id = run.run_id
    run.state = RunState.RUNNING
    run.pid = launch.proc.pid
    ctx.store.update_run(run)
    notify(run)
    final = JobRunner(ctx.store, run, launch, hooks, ingest_pipeline(ctx)).execute()
    outcome: dict[str, Any] = {"state": final.state.value, "exitCode": final.exit_code,
               "executionTime": final.execution_time, "errorMessage": final.error_message}
    insight = final.details.get("insights")
    if isinstance(insight, dict):
        outcome["insights"] = {k: insight.get(k) for k in
                               ("category", "title", "summary", "recommendation")}
    record(ctx.store, AuditEvent(
        event_source=f"{SOURCE}.pipetrail", event_name="JobRunStateChange",
        identity=ctx.caller.identity, event_type="ServiceEvent", read_only=False,
        request_parameters={"jobRunId": final.run_id, "jobName": final.job_name},
        response_elements=outcome,
        resources=[_run_resource(ctx, final)], source_ip=ctx.caller.source_ip,
        user_agent=ctx.caller.user_agent, run_id=final.run_id,
    ))
    deliver_after_run(ctx)
    return final


def run_job(ctx: ActionContext, options: RunOptions, job_name: str | None = None,
            on_state: Callable[[JobRun], None] | None = None) -> JobRun:
    """Check, launch and follow a run in one call (for programs embedding Pipetrail)."""
    try:
        prepared = prepare_job_run(options, job_name)
    except PipetrailError as exc:
        reject_job_run(ctx, options, job_name, exc)
        raise
    return start_job_run(ctx, prepared, launch_job_run(prepared, ctx.caller.identity),
                         on_state)


def get_job_run(ctx: ActionContext, run_id: str) -> JobRun:
    """GetJobRun (accepts a unique prefix of at least 6 characters)."""
    with ctx.call(SOURCE, "GetJobRun", read_only=True, params={"jobRunId": run_id},
                  resources=lambda: run_resources(ctx, run_id)) as call:
        reap_orphans(ctx.store)
        run = ctx.store.get_run(run_id)
        call.run_id = run.run_id
        return run


def get_job_runs(ctx: ActionContext, job_name: str | None = None, state: str | None = None,
                 limit: int = 50) -> list[JobRun]:
    """GetJobRuns: newest first, optionally for one job and one state."""
    params = {"jobName": job_name, "state": state, "maxResults": limit}
    resources = [_job_resource(ctx, job_name)] if job_name is not None else []
    with ctx.call(SOURCE, "GetJobRuns", read_only=True, params=params, resources=resources):
        if state is not None and state not in RunState.__members__:
            raise ValidationError(
                f"unknown state {state!r}; one of {', '.join(RunState.__members__)}")
        if not 1 <= limit <= 10_000:
            raise ValidationError("limit must be between 1 and 10000")
        reap_orphans(ctx.store)
        return ctx.store.list_runs(job_name=job_name, state=state, limit=limit)


def get_jobs(ctx: ActionContext) -> list[Job]:
    with ctx.call(SOURCE, "GetJobs", read_only=True):
        return ctx.store.list_jobs()


def stop_job_run(ctx: ActionContext, run_id: str) -> JobRun:
    """StopJobRun: ask the run's runner (on this host) to stop the job (SIGTERM)."""
    with ctx.call(SOURCE, "StopJobRun", read_only=False, params={"jobRunId": run_id},
                  resources=lambda: run_resources(ctx, run_id)) as call:
        run = ctx.store.get_run(run_id)
        call.run_id = run.run_id
        if run.state.terminal:
            raise ValidationError(f"run {run.run_id} already ended ({run.state.value})")
        pid = run.details.get("runnerPid")
        if run.host != socket.gethostname() or not isinstance(pid, int):
            raise ValidationError(
                f"run {run.run_id} runs on {run.host}; stop it there")
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            reap_orphans(ctx.store)
            raise NotFoundError(f"the runner of {run.run_id} is no longer running") from None
        call.response = {"jobRunId": run.run_id, "state": "STOPPING"}
        return run
