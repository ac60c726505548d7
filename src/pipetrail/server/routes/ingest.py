"""Records of remote runs: ``POST /api/v1/runs/{runId}/records`` (PutJobRunRecords).

The body holds batches of one run, each with an id chosen by the agent; a batch stored
before is skipped. Bodies up to ``MAX_BODY_BYTES`` (8 MiB) and 10,000 records.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from pipetrail.actions.ingest import (
    MAX_BATCHES_PER_REQUEST,
    MAX_RECORDS_PER_REQUEST,
    AgentBatch,
    RunStart,
    put_job_run_records,
)
from pipetrail.model.audit import AuditEvent, Resource
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import Identity
from pipetrail.model.logs import MAX_MESSAGE_BYTES, LogEvent
from pipetrail.model.metrics import MetricDatum
from pipetrail.model.runs import JobRun, RunState
from pipetrail.server.auth import Ctx
from pipetrail.server.responses import ERRORS
from pipetrail.server.routes import PREFIX

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_TIME = 253_402_300_799_999
router = APIRouter(prefix=PREFIX, tags=["ingest"], responses=ERRORS)
BODY_LIMITS = [(rf"{PREFIX}/runs/[^/]+/records", MAX_BODY_BYTES)]

_UNKNOWN = Identity(type="Unknown", principal_id="-", user_name="-")
Millis = Annotated[int, Field(ge=0, le=MAX_TIME, description="epoch milliseconds")]
Short = Annotated[str, Field(min_length=1, max_length=512)]


class WireRun(BaseModel):
    state: RunState
    startedOn: Millis
    completedOn: Millis | None = None
    exitCode: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    errorMessage: str | None = Field(default=None, max_length=65_536)
    arguments: list[str] = Field(default_factory=list, max_length=10_000)
    attempt: int = Field(default=0, ge=0, le=10_000)
    codeHash: str | None = Field(default=None, max_length=64)
    script: str | None = Field(default=None, max_length=4096)
    host: str | None = Field(default=None, max_length=255)
    pid: int | None = Field(default=None, ge=0, le=2**31 - 1)
    timeout: float | None = Field(default=None, ge=0, le=10**9)
    details: dict[str, Any] = Field(default_factory=dict)


class WireStart(BaseModel):
    scriptLocation: str = Field(min_length=1, max_length=4096)
    arguments: list[str] = Field(default_factory=list, max_length=10_000)
    timeout: float | None = Field(default=None, ge=0, le=10**9)
    codeHash: str | None = Field(default=None, max_length=64)
    scriptContent: str | None = Field(default=None, description="base64")


class WireLog(BaseModel):
    logGroupName: Short
    logStreamName: Short
    timestamp: Millis
    message: str = Field(max_length=MAX_MESSAGE_BYTES)


class WireDatum(BaseModel):
    namespace: Short
    metricName: Short
    timestamp: Millis
    value: float
    unit: str = Field(default="None", max_length=32)
    dimensions: dict[str, str] = Field(default_factory=dict)


class WireResource(BaseModel):
    type: Short
    ARN: str = Field(min_length=1, max_length=2048)


class WireEvent(BaseModel):
    eventId: str = Field(min_length=1, max_length=64)
    eventTime: Millis
    eventSource: Short
    eventName: Short
    eventType: Literal["DataAccess", "Insight"]
    readOnly: bool = False
    requestParameters: dict[str, Any] | None = None
    responseElements: dict[str, Any] | None = None
    errorCode: str | None = Field(default=None, max_length=1024)
    errorMessage: str | None = Field(default=None, max_length=1024)
    resources: list[WireResource] = Field(default_factory=list, max_length=1000)
    dataset: str | None = Field(default=None, max_length=4096)
    operation: Literal["read", "write", "delete"] | None = None
    rows: int | None = Field(default=None, ge=0, le=2**63 - 1)
    bytes: int | None = Field(default=None, ge=0, le=2**63 - 1)
    columns: list[str] | None = Field(default=None, max_length=10_000)
    additionalEventData: dict[str, Any] | None = None


class WireBatch(BaseModel):
    batchId: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    run: WireRun | None = None
    start: WireStart | None = None
    logEvents: list[WireLog] = Field(default_factory=list, max_length=MAX_RECORDS_PER_REQUEST)
    metricData: list[WireDatum] = Field(default_factory=list,
                                        max_length=MAX_RECORDS_PER_REQUEST)
    auditEvents: list[WireEvent] = Field(default_factory=list,
                                         max_length=MAX_RECORDS_PER_REQUEST)


class RecordsRequest(BaseModel):
    jobName: str = Field(min_length=1, max_length=255)
    batches: list[WireBatch] = Field(min_length=1, max_length=MAX_BATCHES_PER_REQUEST)


@router.post("/runs/{runId}/records",
             summary="PutJobRunRecords: a remote run's batches, each stored once")
def put_records(
    ctx: Ctx, run_id: Annotated[str, Path(alias="runId", min_length=6, max_length=80)],
    body: RecordsRequest,
) -> dict[str, Any]:
    batches = [_batch(b, run_id, body.jobName, n) for n, b in enumerate(body.batches)]
    return put_job_run_records(ctx, body.jobName, run_id, batches)


def _batch(wire: WireBatch, run_id: str, job_name: str, n: int) -> AgentBatch:
    try:  # free-form parts must be JSON the store can keep (no integers beyond 64 bits)
        orjson.dumps([wire.run.details if wire.run else None,
                      [(e.requestParameters, e.responseElements, e.additionalEventData)
                       for e in wire.auditEvents]])
    except TypeError as exc:
        raise ValidationError(f"batches[{n}] holds a value that is not JSON: {exc}") from None
    batch = AgentBatch(batch_id=wire.batchId)
    if wire.run is not None:
        r = wire.run
        batch.run = JobRun(
            run_id=run_id, job_name=job_name, state=r.state, started_on=r.startedOn,
            attempt=r.attempt, arguments=list(r.arguments), completed_on=r.completedOn,
            exit_code=r.exitCode, error_message=r.errorMessage, code_hash=r.codeHash,
            script=r.script, host=r.host, pid=r.pid, timeout=r.timeout,
            details=dict(r.details))
    if wire.start is not None:
        s = wire.start
        content = None
        if s.scriptContent is not None:
            try:
                content = base64.b64decode(s.scriptContent, validate=True)
            except (binascii.Error, ValueError):
                raise ValidationError(f"batches[{n}].start.scriptContent is not base64"
                                      ) from None
        batch.start = RunStart(s.scriptLocation, list(s.arguments), s.timeout, s.codeHash,
                               content)
    batch.logs = [LogEvent(group=e.logGroupName, stream=e.logStreamName,
                           timestamp=e.timestamp, message=e.message.replace("\x00", "\ufffd"))
                  for e in wire.logEvents]
    batch.metrics = [MetricDatum(namespace=d.namespace, name=d.metricName,
                                 timestamp=d.timestamp, value=d.value, unit=d.unit,
                                 dimensions=dict(d.dimensions), run_id=run_id)
                     for d in wire.metricData]
    batch.events = [_event(e) for e in wire.auditEvents]
    return batch


def _event(e: WireEvent) -> AuditEvent:
    """The event as sent; the action replaces its identity with the caller's."""
    return AuditEvent(
        event_source=e.eventSource, event_name=e.eventName, identity=_UNKNOWN,
        event_type=e.eventType, read_only=e.readOnly,
        request_parameters=e.requestParameters, response_elements=e.responseElements,
        error_code=e.errorCode, error_message=e.errorMessage,
        resources=[Resource(r.type, r.ARN) for r in e.resources],
        event_time_ms=e.eventTime, event_id=e.eventId, dataset=e.dataset,
        operation=e.operation, rows=e.rows, bytes=e.bytes, columns=e.columns,
        additional=e.additionalEventData)
