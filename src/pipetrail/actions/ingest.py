"""Records of remote runs: PutJobRunRecords (and StartJobRun for a run's first batch).

A remote runner (``pipetrail run`` with ``PIPETRAIL_URL``) delivers its run's records
in batches, each with an id; a request holds several batches of one run and is stored
in one transaction. Batches stored before are skipped, so a request repeated after a
lost answer stores nothing twice. The first batch of a run carries the run's start (the
StartJobRun request), authorised and recorded as the embedded StartJobRun is; a final
state is recorded as a JobRunStateChange event. Both events have ids derived from the
run id, so a repeated delivery records them once.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipetrail.actions.context import ActionContext
from pipetrail.actions.extensions import ingest_pipeline, run_hooks
from pipetrail.model.arn import job_arn, run_arn
from pipetrail.model.audit import AuditEvent, Resource
from pipetrail.model.batches import RecordBatch, ScriptContent
from pipetrail.model.errors import NotFoundError, ValidationError
from pipetrail.model.logs import LogEvent
from pipetrail.model.metrics import MetricDatum
from pipetrail.model.runs import Job, JobRun
from pipetrail.runner.prepare import MAX_SCRIPT_BYTES, check_job_name

SOURCE = "jobs"
#: Most records (run updates, log events, datums, events) one request may carry.
MAX_RECORDS_PER_REQUEST = 10_000
MAX_BATCHES_PER_REQUEST = 1_000
#: Event types an agent may deliver; API calls are recorded by the server itself.
AGENT_EVENT_TYPES = ("DataAccess", "Insight")
# Namespace of the ids of the events recorded once per run.
RUN_EVENTS = uuid.UUID("5d2f8f64-3c1e-4a86-9a53-7f1f0c4b2e10")
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}\Z")
_RUN_ID = re.compile(r"[A-Za-z0-9_.:-]{6,80}\Z")


@dataclass
class RunStart:
    """The StartJobRun request of a remote run, sent with its first batch."""

    script_location: str
    arguments: list[str] = field(default_factory=list)
    timeout: float | None = None
    code_hash: str | None = None
    script_content: bytes | None = None


@dataclass
class AgentBatch:
    batch_id: str
    run: JobRun | None = None
    start: RunStart | None = None
    logs: list[LogEvent] = field(default_factory=list)
    metrics: list[MetricDatum] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)

    @property
    def size(self) -> int:
        return (1 if self.run else 0) + len(self.logs) + len(self.metrics) + len(self.events)


def run_event_id(run_id: str, name: str) -> str:
    """The fixed id of the ``name`` event of a run (StartJobRun, JobRunStateChange)."""
    return str(uuid.uuid5(RUN_EVENTS, f"{run_id}/{name}"))


def put_job_run_records(ctx: ActionContext, job_name: str, run_id: str,
                        batches: Sequence[AgentBatch]) -> dict[str, Any]:
    """PutJobRunRecords: store a remote run's batches not stored before."""
    records = sum(b.size for b in batches)
    params = {"jobName": job_name, "jobRunId": run_id, "batches": len(batches),
              "records": records}
    resource = Resource("Pipetrail::Jobs::JobRun", run_arn(ctx.workspace, job_name, run_id))
    with ctx.call(SOURCE, "PutJobRunRecords", read_only=False, params=params,
                  resources=[resource]) as call:
        _check_request(ctx, job_name, run_id, batches, records)
        call.run_id = run_id
        prepared = [_prepare(ctx, job_name, run_id, b) for b in batches]
        start = next((b.start for b in batches if b.start is not None), None)
        if start is None:
            new = ctx.store.ingest_batches(prepared)
        else:
            new = _start_run(ctx, job_name, run_id, start, prepared)
        stored = {b.batch_id for b in prepared} & set(new)
        for batch in prepared:
            if batch.batch_id in stored:
                for run in batch.runs:
                    for hook in run_hooks(ctx):
                        hook.on_state(run)
        call.response = {"jobRunId": run_id, "batchesStored": len(new),
                         "batchesSkipped": len(batches) - len(new)}
        return call.response


def _check_request(ctx: ActionContext, job_name: str, run_id: str,
                   batches: Sequence[AgentBatch], records: int) -> None:
    check_job_name(job_name)
    if not _RUN_ID.match(run_id):
        raise ValidationError(f"run id {run_id!r} must be 6-80 letters, digits or _.:-")
    if not batches:
        raise ValidationError("a request needs at least one batch")
    if len(batches) > MAX_BATCHES_PER_REQUEST:
        raise ValidationError(f"at most {MAX_BATCHES_PER_REQUEST} batches per request, "
                              f"not {len(batches)}")
    if records > MAX_RECORDS_PER_REQUEST:
        raise ValidationError(f"at most {MAX_RECORDS_PER_REQUEST} records per request, "
                              f"not {records}")
    seen: set[str] = set()
    for n, batch in enumerate(batches):
        if not _ID.match(batch.batch_id):
            raise ValidationError(f"batches[{n}].batchId must be 1-64 letters, digits "
                                  "or _.:-")
        if batch.batch_id in seen:
            raise ValidationError(f"batches[{n}].batchId {batch.batch_id!r} appears twice")
        seen.add(batch.batch_id)
    try:
        stored = ctx.store.get_run(run_id)
    except NotFoundError:
        return
    if stored.run_id == run_id and stored.job_name != job_name:
        raise ValidationError(f"run {run_id} belongs to job {stored.job_name!r}, "
                              f"not {job_name!r}")


def _prepare(ctx: ActionContext, job_name: str, run_id: str, batch: AgentBatch
             ) -> RecordBatch:
    where = f"batch {batch.batch_id}"
    out = RecordBatch(batch_id=batch.batch_id)
    identity = ctx.caller.identity
    for n, log in enumerate(batch.logs):
        if not log.stream.startswith(run_id):
            raise ValidationError(f"{where}: logEvents[{n}]: the stream "
                                  f"{log.stream!r} is not one of run {run_id}")
    kept, derived = ingest_pipeline(ctx).process_logs(batch.logs)
    out.logs = kept
    for datum in [*batch.metrics, *derived]:
        datum.run_id = run_id
        out.metrics.append(datum)
    for n, event in enumerate(batch.events):
        if event.event_type not in AGENT_EVENT_TYPES:
            raise ValidationError(f"{where}: auditEvents[{n}]: an agent may deliver "
                                  f"{' and '.join(AGENT_EVENT_TYPES)} events, not "
                                  f"{event.event_type}")
        event.identity = identity
        event.run_id = run_id
        event.source_ip = ctx.caller.source_ip
        out.events.append(event)
    if batch.run is not None:
        run = batch.run
        run.run_id, run.job_name = run_id, job_name
        run.principal = identity.user_name
        out.runs.append(run)
        if run.state.terminal:
            out.events.append(_state_change(ctx, run))
    if batch.start is not None:
        if batch.run is None:
            raise ValidationError(f"{where}: a run's start needs the run")
        out.jobs.append(Job(name=job_name, created_on=batch.run.started_on,
                            script=batch.start.script_location))
        content = batch.start.script_content
        if content is not None:
            if len(content) > MAX_SCRIPT_BYTES:
                raise ValidationError(f"{where}: the script is larger than "
                                      f"{MAX_SCRIPT_BYTES} bytes")
            digest = hashlib.sha256(content).hexdigest()
            if batch.start.code_hash not in (None, digest):
                raise ValidationError(f"{where}: the script does not match its codeHash")
            out.scripts.append(ScriptContent(digest, content))
    return out


def _start_run(ctx: ActionContext, job_name: str, run_id: str, start: RunStart,
               prepared: list[RecordBatch]) -> list[str]:
    params = {"jobName": job_name, "scriptLocation": start.script_location,
              "arguments": start.arguments, "timeout": start.timeout}
    resources = [Resource("Pipetrail::Jobs::Job", job_arn(ctx.workspace, job_name)),
                 Resource("Pipetrail::Jobs::JobRun", run_arn(ctx.workspace, job_name, run_id))]
    with ctx.call(SOURCE, "StartJobRun", read_only=False, params=params, resources=resources,
                  event_id=run_event_id(run_id, "StartJobRun")) as call:
        call.run_id = run_id
        new = ctx.store.ingest_batches(prepared)
        call.response = {"jobRunId": run_id}
        return new


def _state_change(ctx: ActionContext, run: JobRun) -> AuditEvent:
    return AuditEvent(
        event_source=f"{SOURCE}.pipetrail", event_name="JobRunStateChange",
        identity=ctx.caller.identity, event_type="ServiceEvent", read_only=False,
        request_parameters={"jobRunId": run.run_id, "jobName": run.job_name},
        response_elements={"state": run.state.value, "exitCode": run.exit_code,
                           "executionTime": run.execution_time,
                           "errorMessage": run.error_message},
        resources=[Resource("Pipetrail::Jobs::JobRun",
                            run_arn(ctx.workspace, run.job_name, run.run_id))],
        source_ip=ctx.caller.source_ip, user_agent=ctx.caller.user_agent, run_id=run.run_id,
        event_id=run_event_id(run.run_id, "JobRunStateChange"),
        event_time_ms=run.completed_on or run.started_on,
    )
