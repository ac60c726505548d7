"""Records as the server's ``POST /api/v1/runs/{runId}/records`` expects them (JSON,
camelCase). The server validates them; this side only encodes."""

from __future__ import annotations

import base64
from typing import Any

from pipetrail.model.audit import AuditEvent
from pipetrail.model.logs import LogEvent
from pipetrail.model.metrics import MetricDatum
from pipetrail.model.runs import JobRun


def run_wire(run: JobRun) -> dict[str, Any]:
    return {"state": run.state.value, "startedOn": run.started_on,
            "completedOn": run.completed_on, "exitCode": run.exit_code,
            "errorMessage": run.error_message, "arguments": run.arguments,
            "attempt": run.attempt, "codeHash": run.code_hash, "script": run.script,
            "host": run.host, "pid": run.pid, "timeout": run.timeout, "details": run.details}


def start_wire(script: str, arguments: list[str], timeout: float | None, code_hash: str,
               content: bytes | None) -> dict[str, Any]:
    return {"scriptLocation": script, "arguments": arguments, "timeout": timeout,
            "codeHash": code_hash,
            "scriptContent": base64.b64encode(content).decode() if content is not None
            else None}


def log_wire(event: LogEvent) -> dict[str, Any]:
    return {"logGroupName": event.group, "logStreamName": event.stream,
            "timestamp": event.timestamp, "message": event.message}


def datum_wire(datum: MetricDatum) -> dict[str, Any]:
    return {"namespace": datum.namespace, "metricName": datum.name,
            "timestamp": datum.timestamp, "value": datum.value, "unit": datum.unit,
            "dimensions": datum.dimensions}


def event_wire(event: AuditEvent) -> dict[str, Any]:
    return {"eventId": event.event_id, "eventTime": event.event_time_ms,
            "eventSource": event.event_source, "eventName": event.event_name,
            "eventType": event.event_type, "readOnly": event.read_only,
            "requestParameters": event.request_parameters,
            "responseElements": event.response_elements, "errorCode": event.error_code,
            "errorMessage": event.error_message,
            "resources": [r.to_record() for r in event.resources],
            "dataset": event.dataset, "operation": event.operation, "rows": event.rows,
            "bytes": event.bytes, "columns": event.columns,
            "additionalEventData": event.additional}
