"""Data events from the job: side-channel ``data`` records turned into audit events.

Each record (see :mod:`pipetrail.sdk.data`) becomes a ``ReadDataset``,
``WriteDataset`` or ``DeleteDataset`` event of source ``data.pipetrail``, type
``DataAccess`` (category ``Data``), by the run's principal, naming the dataset and the
job run as its resources. A record the runner cannot accept (it comes from the job's
process, so it is checked like any input) is not stored; the refusal is written to the
run's error log stream instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipetrail import __version__
from pipetrail.model.arn import run_arn
from pipetrail.model.audit import DATA_OPERATIONS, AuditEvent, Resource
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import Identity
from pipetrail.model.logs import ERROR_GROUP

if TYPE_CHECKING:
    from pipetrail.runner.launch import Launch

SOURCE = "data.pipetrail"
DATASET_TYPE = "Pipetrail::Data::Dataset"
RUN_TYPE = "Pipetrail::Jobs::JobRun"
EVENT_NAMES = {"read": "ReadDataset", "write": "WriteDataset", "delete": "DeleteDataset"}
MAX_DATASET_CHARS = 4096
MAX_TEXT_CHARS = 256
MAX_MESSAGE_CHARS = 1024
MAX_COLUMNS = 10_000


def _text(record: dict[str, Any], key: str, limit: int = MAX_TEXT_CHARS) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be a string")
    return value[:limit]


def _count(record: dict[str, Any], key: str) -> int | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{key} must be a non-negative integer or null")
    return value


def _columns(record: dict[str, Any]) -> list[str] | None:
    value = record.get("columns")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise ValidationError("columns must be a list of strings or null")
    if len(value) > MAX_COLUMNS:
        raise ValidationError(f"columns must hold at most {MAX_COLUMNS} names")
    return value


def data_event(record: dict[str, Any], identity: Identity, job_name: str,
               run_id: str) -> AuditEvent:
    """The audit event of one ``data`` record of run ``run_id`` of job ``job_name``,
    done by ``identity``; ValidationError if the record is malformed."""
    dataset = record.get("dataset")
    if not isinstance(dataset, str) or not dataset.strip():
        raise ValidationError("dataset must be a non-empty string")
    if len(dataset) > MAX_DATASET_CHARS:
        raise ValidationError(f"dataset must be at most {MAX_DATASET_CHARS} characters")
    operation = record.get("operation")
    if operation not in DATA_OPERATIONS:
        raise ValidationError(f"operation must be one of {', '.join(DATA_OPERATIONS)}")
    ts = record.get("ts")
    if isinstance(ts, bool) or not isinstance(ts, int) or ts <= 0:
        ts = now_ms()
    library, version = _text(record, "library"), _text(record, "libraryVersion")
    params = {k: v for k, v in {
        "dataset": dataset, "operation": operation, "library": library,
        "function": _text(record, "function"), "format": _text(record, "format"),
    }.items() if v is not None}
    details = record.get("details")
    if details is not None and not isinstance(details, dict):
        raise ValidationError("details must be an object")
    agent = f"pipetrail-sdk/{__version__}"
    if library:
        agent += f" {library}/{version}" if version else f" {library}"
    event = AuditEvent(
        event_source=SOURCE, event_name=EVENT_NAMES[operation], identity=identity,
        event_type="DataAccess", read_only=operation == "read",
        request_parameters=params, error_code=_text(record, "errorCode"),
        error_message=(_text(record, "errorMessage", MAX_MESSAGE_CHARS)
                       if record.get("errorCode") else None),
        resources=[Resource(DATASET_TYPE, dataset),
                   Resource(RUN_TYPE, run_arn(identity.workspace, job_name, run_id))],
        user_agent=agent, event_time_ms=ts, dataset=dataset, operation=operation,
        rows=_count(record, "rows"), bytes=_count(record, "bytes"),
        columns=_columns(record), run_id=run_id, additional=details or None,
    )
    event.validate()
    return event


def on_data(launch: Launch, record: dict[str, Any]) -> None:
    """Channel handler for ``data`` records: note what it names, and queue the event for
    the batch writer."""
    operation, dataset = record.get("operation"), record.get("dataset")
    if isinstance(operation, str) and isinstance(dataset, str):
        details = record.get("details")
        location = details.get("location") if isinstance(details, dict) else None
        launch.datasets.add((operation, dataset,
                             location if isinstance(location, str) and location else None))
    try:
        launch.records.put(data_event(record, launch.identity, launch.job_name,
                                      launch.run_id))
    except ValidationError as exc:
        launch.log(ERROR_GROUP, now_ms(), f"pipetrail: a data event from the job was "
                                          f"refused: {exc}")
    except Exception as exc:  # never let one record stop the capture of the others
        launch.log(ERROR_GROUP, now_ms(), f"pipetrail: a data event from the job could "
                                          f"not be recorded: {type(exc).__name__}: {exc}")
