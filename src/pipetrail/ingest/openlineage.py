"""OpenLineage events mapped onto job runs, data events, metrics and insights.

A *run event* (``eventType`` START, RUNNING, COMPLETE, FAIL, ABORT or OTHER) updates the
job run ``ol_<runId>`` of the job named by ``job.name``:

* START and RUNNING make it RUNNING; COMPLETE, FAIL and ABORT end it as SUCCEEDED,
  FAILED and STOPPED (a final state is never undone by a late START); OTHER only adds
  facts. The earliest event time seen is the start, a final event's time the end.
* The datasets named as inputs and outputs are remembered with the run; when the run
  ends, each becomes one data event (``ReadDataset`` / ``WriteDataset`` of source
  ``data.pipetrail``) with the dataset's URI, rows and bytes (``inputStatistics`` /
  ``outputStatistics``), columns (``schema``) and, in ``additionalEventData``, the
  column lineage and data-quality facets. Row and byte totals become the job metrics
  ``glue.driver.aggregate.recordsRead`` / ``bytesRead`` / ``recordsWritten`` /
  ``bytesWritten``.
* An ``errorMessage`` run facet becomes the run's error message and an insight (a log
  event in ``/pipetrail/jobs/insights``); so does a failed data-quality assertion.

A *job event* creates the job; a *dataset event* is accepted and stores nothing (it
describes a dataset, not an access). Anything that is not an OpenLineage event raises
ValidationError naming the field.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from pipetrail.model.audit import AuditEvent
from pipetrail.model.batches import RecordBatch
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import Identity
from pipetrail.model.logs import INSIGHTS_GROUP, LogEvent, split_message
from pipetrail.model.metrics import JOBS_NAMESPACE, MetricDatum
from pipetrail.model.runs import Job, JobRun, RunState

RUN_EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
STATES = {"START": RunState.RUNNING, "RUNNING": RunState.RUNNING,
          "COMPLETE": RunState.SUCCEEDED, "FAIL": RunState.FAILED, "ABORT": RunState.STOPPED}
RUN_PREFIX = "ol_"
MAX_DATASETS = 1000
MAX_NAME = 1024
# Namespace of the ids of data events and batches made from OpenLineage events.
LINEAGE = uuid.UUID("8a0e6c52-0f0b-4d1e-b7c4-2f8b5d9e6a31")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}\Z")


@dataclass
class Caller:
    """Who delivered the event: recorded on the data events it makes."""

    identity: Identity
    source_ip: str = "127.0.0.1"
    user_agent: str = ""


@dataclass
class Dataset:
    namespace: str
    name: str
    direction: str  # "input" or "output"
    facets: dict[str, Any] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return dataset_uri(self.namespace, self.name)

    def to_details(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "name": self.name, "facets": self.facets}


@dataclass
class LineageRecords:
    """What one OpenLineage event means for Pipetrail."""

    kind: str  # "run", "job" or "dataset"
    batch: RecordBatch
    job_name: str | None = None
    run: JobRun | None = None
    event_type: str | None = None


def dataset_uri(namespace: str, name: str) -> str:
    """``postgres://db:5432`` + ``public.orders`` → ``postgres://db:5432/public.orders``;
    a namespace without ``://`` is joined with a colon: ``file:/tmp/x``, ``bigquery:p.d.t``."""
    if "://" in namespace:
        return f"{namespace.rstrip('/')}/{name.lstrip('/')}"
    return f"{namespace}:{name}"


def job_name_of(name: str) -> str:
    """A Pipetrail job name for an OpenLineage job name (``/`` becomes ``.``)."""
    clean = "".join(" " if c in "\t\r\n" else c for c in name).replace("/", ".")
    return clean[:255]


def run_id_of(ol_run_id: str) -> str:
    return RUN_PREFIX + ol_run_id.lower()


def batch_id_of(event: Mapping[str, Any]) -> str:
    """The same event delivered twice has the same batch id (and is stored once)."""
    try:
        canonical = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
    except TypeError as exc:  # integers beyond 64 bits, for one
        raise ValidationError(f"the event holds a value JSON cannot carry: {exc}") from None
    digest = hashlib.sha256(canonical).hexdigest()
    return str(uuid.uuid5(LINEAGE, digest))


def map_event(event: object, caller: Caller, stored: JobRun | None = None) -> LineageRecords:
    """Map one OpenLineage event; ``stored`` is the run as stored so far, if any."""
    body = _object(event, "the event")
    batch = RecordBatch(batch_id=batch_id_of(body))
    if "run" not in body and "job" not in body and "dataset" in body:
        _object(body["dataset"], "dataset")
        _text(_object(body["dataset"], "dataset"), "name", "dataset")
        return LineageRecords("dataset", batch)
    job = _object(body.get("job"), "job")
    namespace = _text(job, "namespace", "job")
    name = job_name_of(_text(job, "name", "job"))
    if not name.strip():
        raise ValidationError("job.name must not be blank")
    when = _time(body.get("eventTime"))
    if "run" not in body:
        batch.jobs.append(Job(name=name, created_on=when,
                              description=f"OpenLineage job {namespace}/{name}"))
        return LineageRecords("job", batch, job_name=name)
    return _run_event(body, batch, caller, stored, name, namespace, when)


def _run_event(body: dict[str, Any], batch: RecordBatch, caller: Caller,
               stored: JobRun | None, name: str, namespace: str, when: int
               ) -> LineageRecords:
    run_body = _object(body["run"], "run")
    ol_run_id = _text(run_body, "runId", "run")
    if not _UUID.match(ol_run_id):
        raise ValidationError(f"run.runId must be a UUID, not {ol_run_id[:80]!r}")
    event_type = body.get("eventType", "OTHER")
    if event_type is None:
        event_type = "OTHER"
    if event_type not in RUN_EVENT_TYPES:
        raise ValidationError(f"eventType must be one of {', '.join(RUN_EVENT_TYPES)}, "
                              f"not {str(event_type)[:40]!r}")
    run_facets = _facets(run_body, "run")
    datasets = _datasets(body, "inputs", "input") + _datasets(body, "outputs", "output")
    run_id = run_id_of(ol_run_id)
    state = STATES.get(event_type, stored.state if stored else RunState.RUNNING)
    lineage = dict((stored.details.get("openlineage") if stored else None) or {})
    seen = _merge_datasets(lineage.get("datasets") or [], datasets)
    lineage.update({"namespace": namespace, "runId": ol_run_id,
                    "lastEventType": event_type, "datasets": seen})
    if isinstance(body.get("producer"), str):
        lineage["producer"] = body["producer"][:MAX_NAME]
    for key in ("parent", "nominalTime", "processing_engine", "processingEngine"):
        if key in run_facets:
            lineage[key] = _strip(run_facets[key])
    parent = run_facets.get("parent")
    details: dict[str, Any] = {"openlineage": lineage}
    if isinstance(parent, dict) and isinstance(parent.get("run"), dict):
        parent_id = parent["run"].get("runId")
        if isinstance(parent_id, str) and _UUID.match(parent_id):
            details["parentRunId"] = run_id_of(parent_id)
    run = JobRun(run_id=run_id, job_name=name, state=state, started_on=when,
                 principal=caller.identity.user_name, details=details)
    if state.terminal:
        run.completed_on = when
        if stored is not None and stored.started_on < when:
            run.started_on = stored.started_on
    batch.jobs.append(Job(name=name, created_on=when,
                          description=f"OpenLineage job {namespace}/{name}"))
    batch.runs.append(run)
    error = run_facets.get("errorMessage")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        run.error_message = error["message"][:4096]
        run.details["exception"] = {
            "type": "OpenLineageError", "message": error["message"][:65536],
            "programmingLanguage": error.get("programmingLanguage"),
            "stackTrace": error.get("stackTrace")}
        _insight(batch, run_id, when, {"source": "openlineage", "category": "error",
                                       "message": error["message"],
                                       "programmingLanguage": error.get("programmingLanguage"),
                                       "stackTrace": error.get("stackTrace")})
    for dataset in datasets:
        for failed in _failed_assertions(dataset):
            _insight(batch, run_id, when, {
                "source": "openlineage", "category": "dataQuality",
                "dataset": dataset.uri, "message": f"assertion {failed} failed"})
    if state.terminal:
        started = run.started_on
        _data_events(batch, caller, run_id, name, seen, when, event_type)
        _metrics(batch, run_id, name, seen, when, when - started)
    return LineageRecords("run", batch, job_name=name, run=run, event_type=event_type)


def _merge_datasets(previous: list[Any], current: list[Dataset]) -> list[dict[str, Any]]:
    """The datasets of the run so far; a later mention's facets win, key by key."""
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in previous:
        if isinstance(item, dict):
            key = (str(item.get("direction")), str(item.get("namespace")), str(item.get("name")))
            merged[key] = item
    for dataset in current:
        key = (dataset.direction, dataset.namespace, dataset.name)
        old = merged.get(key, {})
        facets = {**(old.get("facets") or {}), **dataset.facets}
        merged[key] = {"direction": dataset.direction, "namespace": dataset.namespace,
                       "name": dataset.name, "facets": facets}
    if len(merged) > MAX_DATASETS:
        raise ValidationError(f"a run may name at most {MAX_DATASETS} datasets")
    return list(merged.values())


def _data_events(batch: RecordBatch, caller: Caller, run_id: str, job_name: str,
                 datasets: list[dict[str, Any]], when: int, event_type: str) -> None:
    for item in datasets:
        direction = item["direction"]
        facets = item.get("facets") or {}
        stats = facets.get("inputStatistics" if direction == "input" else "outputStatistics")
        rows = _count(stats, "rowCount")
        size = _count(stats, "size")
        columns = _columns(facets.get("schema"))
        additional: dict[str, Any] = {"openlineage": {
            "namespace": item["namespace"], "name": item["name"], "outcome": event_type}}
        for key in ("columnLineage", "dataQualityMetrics", "dataQualityAssertions",
                    "symlinks", "dataSource"):
            if key in facets:
                additional["openlineage"][key] = _strip(facets[key])
        uri = dataset_uri(item["namespace"], item["name"])
        event = AuditEvent(
            event_source="data.pipetrail",
            event_name="ReadDataset" if direction == "input" else "WriteDataset",
            identity=caller.identity, event_type="DataAccess",
            read_only=direction == "input",
            request_parameters={"dataset": uri, "jobName": job_name},
            source_ip=caller.source_ip, user_agent=caller.user_agent,
            event_time_ms=when, dataset=uri,
            operation="read" if direction == "input" else "write",
            rows=rows, bytes=size, columns=columns, run_id=run_id, additional=additional,
            event_id=str(uuid.uuid5(LINEAGE, f"{run_id}/{direction}/{uri}")))
        try:
            event.validate()
        except ValidationError:
            event.additional = {"openlineage": {"namespace": item["namespace"],
                                                "name": item["name"], "outcome": event_type,
                                                "truncated": True}}
            event.columns = columns[:1000] if columns else columns
        batch.events.append(event)


def _metrics(batch: RecordBatch, run_id: str, job_name: str,
             datasets: list[dict[str, Any]], when: int, elapsed: int) -> None:
    totals = {"recordsRead": 0, "bytesRead": 0, "recordsWritten": 0, "bytesWritten": 0}
    known: set[str] = set()
    for item in datasets:
        facets = item.get("facets") or {}
        reading = item["direction"] == "input"
        stats = facets.get("inputStatistics" if reading else "outputStatistics")
        for field_name, metric in (("rowCount", "records"), ("size", "bytes")):
            value = _count(stats, field_name)
            if value is not None:
                key = metric + ("Read" if reading else "Written")
                totals[key] += value
                known.add(key)
    dims = {"JobName": job_name, "JobRunId": run_id}
    for key in sorted(known):
        unit = "Bytes" if key.startswith("bytes") else "Count"
        batch.metrics.append(MetricDatum(JOBS_NAMESPACE, f"glue.driver.aggregate.{key}", when,
                                         float(totals[key]), unit, dims, run_id))
    batch.metrics.append(MetricDatum(JOBS_NAMESPACE, "glue.driver.aggregate.elapsedTime",
                                     when, float(max(elapsed, 0)), "Milliseconds", dims,
                                     run_id))


def _insight(batch: RecordBatch, run_id: str, when: int, body: dict[str, Any]) -> None:
    text = orjson.dumps({k: v for k, v in body.items() if v is not None}).decode()
    for piece in split_message(text):
        batch.logs.append(LogEvent(group=INSIGHTS_GROUP, stream=run_id, timestamp=when,
                                   message=piece))


def _failed_assertions(dataset: Dataset) -> list[str]:
    facet = dataset.facets.get("dataQualityAssertions")
    if not isinstance(facet, dict) or not isinstance(facet.get("assertions"), list):
        return []
    failed = []
    for item in facet["assertions"]:
        if isinstance(item, dict) and item.get("success") is False:
            column = item.get("column")
            failed.append(f"{item.get('assertion')}" + (f" on {column}" if column else ""))
    return failed


def _datasets(body: dict[str, Any], key: str, direction: str) -> list[Dataset]:
    raw = body.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError(f"{key} must be a list of datasets")
    if len(raw) > MAX_DATASETS:
        raise ValidationError(f"{key}: at most {MAX_DATASETS} datasets")
    found = []
    for n, item in enumerate(raw):
        where = f"{key}[{n}]"
        data = _object(item, where)
        name = _text(data, "name", where)
        namespace = data.get("namespace", "")
        if not isinstance(namespace, str):
            raise ValidationError(f"{where}.namespace must be text")
        facets = {**_facets(data, where)}
        extra = "inputFacets" if direction == "input" else "outputFacets"
        if extra in data:
            facets.update(_object(data[extra], f"{where}.{extra}"))
        found.append(Dataset(namespace[:MAX_NAME], name[:MAX_NAME], direction, facets))
    return found


def _columns(schema: object) -> list[str] | None:
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        return None
    names = [f["name"] for f in schema["fields"] if isinstance(f, dict)
             and isinstance(f.get("name"), str)]
    return names[:10_000]


def _count(stats: object, key: str) -> int | None:
    if not isinstance(stats, dict):
        return None
    value = stats.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


def _strip(facet: object) -> object:
    """A facet without its ``_producer``/``_schemaURL`` bookkeeping."""
    if isinstance(facet, dict):
        return {k: v for k, v in facet.items() if k not in {"_producer", "_schemaURL"}}
    return facet


def _facets(data: dict[str, Any], where: str) -> dict[str, Any]:
    facets = data.get("facets")
    if facets is None:
        return {}
    return dict(_object(facets, f"{where}.facets"))


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(f"{where} must be a JSON object")
    return value


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{where}.{key} is required (text)")
    if len(value) > MAX_NAME:
        raise ValidationError(f"{where}.{key} is longer than {MAX_NAME} characters")
    return value


def _time(value: object) -> int:
    if not isinstance(value, str):
        raise ValidationError("eventTime is required (ISO 8601 text)")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"eventTime {value[:60]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)

