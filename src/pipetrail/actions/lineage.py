"""OpenLineage ingest: PutLineageEvent (``POST /api/v1/lineage``).

Authorised on the job the event names (``arn:pipetrail:jobs:<workspace>:job/<name>``);
see :mod:`pipetrail.ingest.openlineage` for what an event becomes. An event delivered
twice is stored once (its batch id is derived from its content).
"""

from __future__ import annotations

from typing import Any

from pipetrail.actions.context import ActionContext
from pipetrail.actions.extensions import run_hooks
from pipetrail.ingest.openlineage import Caller, job_name_of, map_event, run_id_of
from pipetrail.model.arn import job_arn
from pipetrail.model.audit import Resource
from pipetrail.model.errors import NotFoundError, ValidationError
from pipetrail.model.runs import JobRun

SOURCE = "data"


def _job_resources(ctx: ActionContext, event: object) -> list[Resource]:
    job = event.get("job") if isinstance(event, dict) else None
    name = job.get("name") if isinstance(job, dict) else None
    if not isinstance(name, str) or not name:
        if isinstance(event, dict) and "dataset" in event and "job" not in event:
            return []
        raise ValidationError("job.name is required (text)")
    return [Resource("Pipetrail::Jobs::Job", job_arn(ctx.workspace, job_name_of(name)))]


def put_lineage_event(ctx: ActionContext, event: object) -> dict[str, Any]:
    """PutLineageEvent: one OpenLineage run, job or dataset event."""
    params = _params(event)
    with ctx.call(SOURCE, "PutLineageEvent", read_only=False, params=params,
                  resources=lambda: _job_resources(ctx, event)) as call:
        caller = Caller(ctx.caller.identity, ctx.caller.source_ip, ctx.caller.user_agent)
        stored = _stored_run(ctx, event)
        mapped = map_event(event, caller, stored)
        new = ctx.store.ingest_batches([mapped.batch])
        if mapped.run is not None:
            call.run_id = mapped.run.run_id
            if new:
                current = ctx.store.get_run(mapped.run.run_id)
                for hook in run_hooks(ctx):
                    hook.on_state(current)
        call.response = {"kind": mapped.kind, "jobName": mapped.job_name,
                         "jobRunId": mapped.run.run_id if mapped.run else None,
                         "stored": bool(new)}
        return call.response


def _stored_run(ctx: ActionContext, event: object) -> JobRun | None:
    run = event.get("run") if isinstance(event, dict) else None
    ol_id = run.get("runId") if isinstance(run, dict) else None
    if not isinstance(ol_id, str) or not ol_id:
        return None
    try:
        found = ctx.store.get_run(run_id_of(ol_id))
    except (NotFoundError, ValidationError):
        return None
    return found if found.run_id == run_id_of(ol_id) else None


def _params(event: object) -> dict[str, Any]:
    if not isinstance(event, dict):
        return {}
    found_job, found_run = event.get("job"), event.get("run")
    job: dict[str, Any] = found_job if isinstance(found_job, dict) else {}
    run: dict[str, Any] = found_run if isinstance(found_run, dict) else {}
    return {"eventType": _short(event.get("eventType")),
            "eventTime": _short(event.get("eventTime")),
            "jobNamespace": _short(job.get("namespace")), "jobName": _short(job.get("name")),
            "runId": _short(run.get("runId")),
            "inputs": len(event["inputs"]) if isinstance(event.get("inputs"), list) else None,
            "outputs": len(event["outputs"]) if isinstance(event.get("outputs"), list) else None}


def _short(value: object) -> str | None:
    return value[:256] if isinstance(value, str) else None
