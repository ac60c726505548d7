"""OpenLineage events mapped onto runs, data events, metrics and insights (no store)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipetrail.ingest.openlineage import (
    Caller,
    batch_id_of,
    dataset_uri,
    job_name_of,
    map_event,
)
from pipetrail.model.errors import ValidationError
from pipetrail.model.identity import Identity
from pipetrail.model.runs import RunState
from tests.corpus import require_corpus

CALLER = Caller(Identity(type="ServiceAccount", principal_id="PTS1", user_name="airflow"),
                "10.0.0.5", "openlineage-python/1.54")
RUN_ID = "3f5e83fa-3480-44ff-99c5-ff943904e5e8"


def event(kind: str = "START", when: str = "2026-11-25T10:00:00Z", **extra: Any
          ) -> dict[str, Any]:
    body: dict[str, Any] = {"eventType": kind, "eventTime": when, "run": {"runId": RUN_ID},
                            "job": {"namespace": "airflow", "name": "nightly.load"},
                            "producer": "https://example.com/p", "schemaURL": "https://x"}
    body.update(extra)
    return body


OUTPUT = {"namespace": "s3://lake", "name": "orders/day=1",
          "facets": {"schema": {"fields": [{"name": "id", "type": "int"},
                                           {"name": "total", "type": "double"}]},
                     "columnLineage": {"fields": {"total": {"inputFields": [
                         {"namespace": "postgres://db:5432", "name": "shop.public.orders",
                          "field": "amount"}]}}}},
          "outputFacets": {"outputStatistics": {"rowCount": 1200, "size": 88000}}}
INPUT = {"namespace": "postgres://db:5432", "name": "shop.public.orders",
         "inputFacets": {"inputStatistics": {"rowCount": 1500, "size": 120000}}}


def test_start_makes_a_running_run_of_the_job() -> None:
    mapped = map_event(event("START", inputs=[INPUT]), CALLER)
    assert mapped.kind == "run" and mapped.job_name == "nightly.load"
    run = mapped.run
    assert run is not None
    assert run.run_id == f"ol_{RUN_ID}" and run.state is RunState.RUNNING
    assert run.started_on == 1795600800000 and run.principal == "airflow"
    assert run.details["openlineage"]["namespace"] == "airflow"
    assert mapped.batch.jobs[0].name == "nightly.load"
    assert mapped.batch.events == []  # data events come when the run ends


def test_complete_gives_data_events_and_metrics_for_every_dataset_seen() -> None:
    started = map_event(event("START", inputs=[INPUT]), CALLER).run
    assert started is not None
    done = map_event(event("COMPLETE", "2026-11-25T10:05:00Z", outputs=[OUTPUT]), CALLER,
                     stored=started)
    run = done.run
    assert run is not None
    assert run.state is RunState.SUCCEEDED
    assert run.started_on == 1795600800000 and run.completed_on == 1795601100000
    by_name = {e.event_name: e for e in done.batch.events}
    read, write = by_name["ReadDataset"], by_name["WriteDataset"]
    assert read.dataset == "postgres://db:5432/shop.public.orders"
    assert (read.operation, read.rows, read.bytes, read.read_only) == ("read", 1500, 120000, True)
    assert write.dataset == "s3://lake/orders/day=1"
    assert (write.rows, write.bytes, write.columns) == (1200, 88000, ["id", "total"])
    lineage = write.additional["openlineage"]["columnLineage"]  # type: ignore[index]
    assert lineage["fields"]["total"]["inputFields"][0]["field"] == "amount"
    assert write.identity.user_name == "airflow" and write.source_ip == "10.0.0.5"
    assert write.run_id == run.run_id and write.event_type == "DataAccess"
    assert write.event_source == "data.pipetrail"
    metrics = {m.name: m.value for m in done.batch.metrics}
    assert metrics["glue.driver.aggregate.recordsRead"] == 1500
    assert metrics["glue.driver.aggregate.bytesWritten"] == 88000
    assert metrics["glue.driver.aggregate.elapsedTime"] == 300_000
    for item in done.batch.events:
        item.validate()


def test_fail_gives_the_error_and_an_insight() -> None:
    error = {"message": "Table or view not found: wrong_table", "programmingLanguage": "JAVA",
             "stackTrace": "org.apache.spark.sql.AnalysisException: ..."}
    mapped = map_event(event("FAIL", run={"runId": RUN_ID, "facets": {"errorMessage": error}}),
                       CALLER)
    run = mapped.run
    assert run is not None and run.state is RunState.FAILED
    assert run.error_message == "Table or view not found: wrong_table"
    assert run.details["exception"]["programmingLanguage"] == "JAVA"
    [insight] = mapped.batch.logs
    assert insight.group == "/pipetrail/jobs/insights" and insight.stream == run.run_id
    assert json.loads(insight.message)["category"] == "error"


def test_abort_stops_and_late_events_never_undo_the_end() -> None:
    ended = map_event(event("ABORT", "2026-11-25T10:03:00Z"), CALLER).run
    assert ended is not None and ended.state is RunState.STOPPED
    late = map_event(event("RUNNING", "2026-11-25T10:01:00Z"), CALLER, stored=ended).run
    assert late is not None
    from pipetrail.model.runs import merge_runs

    merged = merge_runs(ended, late)
    assert merged.state is RunState.STOPPED and merged.completed_on == ended.completed_on
    assert merged.started_on == 1795600860000


def test_failed_assertions_are_insights() -> None:
    checked = {**INPUT, "inputFacets": {"dataQualityAssertions": {"assertions": [
        {"assertion": "not_null", "success": False, "column": "id"},
        {"assertion": "unique", "success": True}]}}}
    mapped = map_event(event("COMPLETE", inputs=[checked]), CALLER)
    [insight] = mapped.batch.logs
    assert "not_null on id" in insight.message


def test_job_and_dataset_events() -> None:
    job = map_event({"eventTime": "2026-11-25T10:00:00Z",
                     "job": {"namespace": "dbt", "name": "model/orders"}}, CALLER)
    assert job.kind == "job" and job.batch.jobs[0].name == "model.orders"
    dataset = map_event({"eventTime": "2026-11-25T10:00:00Z",
                         "dataset": {"namespace": "s3://b", "name": "x"}}, CALLER)
    assert dataset.kind == "dataset" and dataset.batch.size == 0


def test_names_and_ids() -> None:
    assert dataset_uri("file", "/tmp/x") == "file:/tmp/x"
    assert dataset_uri("s3://bucket/", "/path/y") == "s3://bucket/path/y"
    assert dataset_uri("bigquery", "p.d.t") == "bigquery:p.d.t"
    assert job_name_of("a/b\tc") == "a.b c"
    first = event("START")
    assert batch_id_of(first) == batch_id_of(copy.deepcopy(first))
    assert batch_id_of(first) != batch_id_of(event("COMPLETE"))


@pytest.mark.parametrize("body, message", [
    ([], "the event must be a JSON object"),
    ({"eventTime": "2026-11-25T10:00:00Z"}, "job must be a JSON object"),
    (event(run={"runId": "{{ any(result) }}"}), "run.runId must be a UUID"),
    (event(eventType="DONE"), "eventType must be one of"),
    (event(when="yesterday"), "eventTime 'yesterday' is not an ISO 8601 time"),
    (event(job={"namespace": "a"}), "job.name is required"),
    (event(inputs={"name": "x"}), "inputs must be a list"),
    (event(outputs=[{"namespace": "a"}]), "outputs[0].name is required"),
])
def test_what_is_not_an_event_is_refused_clearly(body: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("(", r"\(")):
        map_event(body, CALLER)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=25)
KEYS = st.sampled_from(["eventType", "eventTime", "run", "job", "inputs", "outputs",
                        "facets", "runId", "namespace", "name", "dataset", "errorMessage",
                        "outputStatistics", "schema", "fields", "inputFacets", "outputFacets"])
EVENTISH = st.recursive(JSON, lambda inner: st.dictionaries(KEYS, inner, max_size=6),
                        max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(EVENTISH)
def test_any_json_is_mapped_or_refused_with_a_validation_error(body: Any) -> None:
    try:
        mapped = map_event(body, CALLER)
    except ValidationError:
        return
    for item in mapped.batch.events:
        item.validate()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=6), st.sampled_from(
    ["START", "COMPLETE", "FAIL", "ABORT", "RUNNING", "OTHER"]))
def test_mutated_real_events_never_crash(extra: dict[str, Any], kind: str) -> None:
    body = event(kind, inputs=[INPUT], outputs=[OUTPUT])
    body["run"] = {"runId": RUN_ID, "facets": extra}
    body["outputs"][0]["facets"] = {**OUTPUT["facets"], **extra}
    try:
        mapped = map_event(body, CALLER)
    except ValidationError:
        return
    for item in mapped.batch.events:
        item.validate()


def test_the_spec_examples_map() -> None:
    full = json.loads(require_corpus("openlineage", "client", "python", "tests",
                                     "example_full_event.json").read_text())
    mapped = map_event(full, CALLER)
    assert mapped.run is not None and mapped.run.state is RunState.SUCCEEDED
    assert mapped.run.details["parentRunId"] == "ol_3f5e83fa-3480-44ff-99c5-ff943904e5e8"
    write = next(e for e in mapped.batch.events if e.event_name == "WriteDataset")
    assert (write.rows, write.bytes) == (2000, 2097152)
    assert write.columns == ["column1"]
    spec = json.loads(require_corpus("openlineage", "spec", "tests",
                                     "example_full_event.json").read_text())
    assert map_event(spec, CALLER).kind == "run"
