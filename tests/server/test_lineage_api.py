"""OpenLineage events through POST /api/v1/lineage: the real openlineage-python client,
and the events of the OpenLineage repository's dbt and Spark integrations."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    error_message_run,
    input_statistics_input_dataset,
    output_statistics_output_dataset,
    schema_dataset,
)

from pipetrail.store.store import AuditQuery
from tests.corpus import require_corpus
from tests.server.conftest import Api
from tests.servers import principal_with_token

PRODUCER = "https://github.com/example/pipetrail-tests"
LINEAGE_POLICY = """{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "data:PutLineageEvent",
   "Resource": "arn:pipetrail:jobs:local:job/warehouse.*"}]}"""


def ol_client(url: str, token: str, gzip: bool = False) -> OpenLineageClient:
    transport: dict[str, Any] = {"type": "http", "url": url,
                                 "auth": {"type": "api_key", "apiKey": token}}
    if gzip:
        transport["compression"] = "gzip"
    return OpenLineageClient(config={"transport": transport})


def at(seconds: int) -> str:
    moment = datetime(2026, 11, 25, 10, tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.isoformat()


def test_the_openlineage_client_feeds_runs_data_events_and_insights(api: Api) -> None:
    token = principal_with_token(api.ctx, "airflow", LINEAGE_POLICY, kind="ServiceAccount")
    client = ol_client(api.url, token, gzip=True)
    job = Job(namespace="airflow", name="warehouse.load_orders")
    source = InputDataset(
        namespace="postgres://db:5432", name="shop.public.orders",
        inputFacets={"inputStatistics": input_statistics_input_dataset
                     .InputStatisticsInputDatasetFacet(rowCount=1500, size=120_000)})
    target = OutputDataset(
        namespace="s3://lake", name="orders/day=2026-11-25",
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(fields=[
                schema_dataset.SchemaDatasetFacetFields(name="id", type="int"),
                schema_dataset.SchemaDatasetFacetFields(name="total", type="double")]),
            "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet(fields={
                "total": column_lineage_dataset.Fields(inputFields=[
                    column_lineage_dataset.InputField(
                        namespace="postgres://db:5432", name="shop.public.orders",
                        field="amount")])})},
        outputFacets={"outputStatistics": output_statistics_output_dataset
                      .OutputStatisticsOutputDatasetFacet(rowCount=1200, size=88_000)})
    good = str(uuid.uuid4())
    client.emit(RunEvent(eventType=RunState.START, eventTime=at(0), run=Run(runId=good),
                         job=job, producer=PRODUCER, inputs=[source]))
    client.emit(RunEvent(eventType=RunState.RUNNING, eventTime=at(30), run=Run(runId=good),
                         job=job, producer=PRODUCER))
    complete = RunEvent(eventType=RunState.COMPLETE, eventTime=at(60), run=Run(runId=good),
                        job=job, producer=PRODUCER, outputs=[target])
    client.emit(complete)
    client.emit(complete)  # delivered twice: stored once
    bad = str(uuid.uuid4())
    client.emit(RunEvent(eventType=RunState.START, eventTime=at(100), run=Run(runId=bad),
                         job=job, producer=PRODUCER))
    failure = error_message_run.ErrorMessageRunFacet(
        message="relation \"orders\" does not exist", programmingLanguage="SQL")
    client.emit(RunEvent(eventType=RunState.FAIL, eventTime=at(110),
                         run=Run(runId=bad, facets={"errorMessage": failure}),
                         job=job, producer=PRODUCER))
    aborted = str(uuid.uuid4())
    client.emit(RunEvent(eventType=RunState.ABORT, eventTime=at(200),
                         run=Run(runId=aborted), job=job, producer=PRODUCER))

    store = api.ctx.store
    runs = {r.run_id: r for r in store.list_runs(job_name="warehouse.load_orders")}
    assert {r.state.value for r in runs.values()} == {"SUCCEEDED", "FAILED", "STOPPED"}
    done = runs[f"ol_{good}"]
    assert (done.started_on, done.completed_on) == (1795600800000, 1795600860000)
    assert done.principal == "airflow"
    data = store.lookup_audit_events(AuditQuery(run_id=done.run_id, category="Data"))
    assert sorted(e["eventName"] for e in data) == ["ReadDataset", "WriteDataset"]
    write = next(e for e in data if e["eventName"] == "WriteDataset")
    assert write["dataset"] == "s3://lake/orders/day=2026-11-25"
    assert (write["rows"], write["bytes"], write["columns"]) == (1200, 88000, ["id", "total"])
    assert write["additionalEventData"]["openlineage"]["columnLineage"]["fields"]["total"]
    assert write["userIdentity"]["userName"] == "airflow"
    read = next(e for e in data if e["eventName"] == "ReadDataset")
    assert (read["rows"], read["bytes"]) == (1500, 120000)
    metrics = {d.name: d.value for d in store.get_run_metrics(done.run_id)}
    assert metrics["glue.driver.aggregate.recordsWritten"] == 1200
    assert metrics["glue.driver.aggregate.elapsedTime"] == 60_000
    failed = runs[f"ol_{bad}"]
    assert failed.error_message == 'relation "orders" does not exist'
    insight = store.read_streams([("/pipetrail/jobs/insights", failed.run_id)])
    assert json.loads(insight[0].message)["programmingLanguage"] == "SQL"
    calls = store.lookup_audit_events(AuditQuery(event_name="PutLineageEvent", limit=100))
    assert len(calls) == 7
    assert [c["responseElements"]["stored"] for c in calls].count(False) == 1
    # A job the policy does not name is refused, and the client sees it.
    with pytest.raises(requests.HTTPError) as refused:
        client.emit(RunEvent(eventType=RunState.START, eventTime=at(0),
                             run=Run(runId=str(uuid.uuid4())),
                             job=Job(namespace="airflow", name="payroll.export"),
                             producer=PRODUCER))
    assert refused.value.response.status_code == 403


def dbt_events(*parts: str) -> list[dict[str, Any]]:
    """A recorded dbt run; its run ids are placeholders, so each job gets a fixed one."""
    events = json.loads(require_corpus("openlineage", "integration", "common", "tests",
                                       "dbt", *parts).read_text())
    namespace = uuid.UUID("5b8d1c2e-9a43-4f57-8e0c-1d2e3f405162")

    def fill(run: dict[str, Any], job: dict[str, Any]) -> None:
        if str(run.get("runId", "")).count("-") != 4:
            run["runId"] = str(uuid.uuid5(namespace, job["name"]))

    for event in events:
        fill(event["run"], event["job"])
        parent = event["run"].get("facets", {}).get("parent")
        if parent:
            fill(parent["run"], parent["job"])
    return list(events)


def test_a_failed_dbt_run(sqlite_api: Api) -> None:
    events = dbt_events("structured_logs", "postgres", "run", "results",
                        "failed_run_ol_events.json")
    with sqlite_api.client(sqlite_api.admin) as client:
        for event in events:
            answer = client.post("/api/v1/lineage", json=event)
            assert answer.status_code == 200, answer.text
    store = sqlite_api.ctx.store
    runs = {r.job_name: r for r in store.list_runs(limit=100)}
    assert len(runs) == len({e["job"]["name"] for e in events})
    parent = runs["dbt-run-jaffle_shop"]
    assert parent.state.value == "FAILED"
    orders = runs["model.jaffle_shop.orders"]
    assert orders.state.value == "FAILED"
    assert "syntax error at or near" in (orders.error_message or "")
    assert orders.details["parentRunId"] == parent.run_id
    assert runs["model.jaffle_shop.orders.sql.1"].state.value == "SUCCEEDED"
    data = store.lookup_audit_events(AuditQuery(run_id=orders.run_id, category="Data"))
    assert sorted(e["dataset"] for e in data) == [
        "postgres://postgres:5432/postgres.public.orders",
        "postgres://postgres:5432/postgres.public.stg_orders",
        "postgres://postgres:5432/postgres.public.stg_payments"]
    write = next(e for e in data if e["operation"] == "write")
    assert write["columns"][:3] == ["order_id", "customer_id", "order_date"]


def test_a_successful_dbt_run_and_its_tests(sqlite_api: Api) -> None:
    events = [*dbt_events("structured_logs", "postgres", "run", "results",
                          "successful_run_ol_events.json"),
              *dbt_events("structured_logs", "postgres", "test", "results",
                          "test_ol_events.json")]
    with sqlite_api.client(sqlite_api.admin) as client:
        for event in events:
            assert client.post("/api/v1/lineage", json=event).status_code == 200
    store = sqlite_api.ctx.store
    states = {r.job_name: r.state.value for r in store.list_runs(limit=1000)}
    assert len(states) == len({e["job"]["name"] for e in events})
    assert states["model.jaffle_shop.customers"] == "SUCCEEDED"
    failed_tests = [name for name, state in states.items()
                    if name.startswith("test.") and state == "FAILED"]
    assert failed_tests and all("accepted_values" in name for name in failed_tests)


@pytest.mark.parametrize("name", ["columnLineageJDBCComplete.json", "pysparkCTASEnd.json",
                                  "pysparkHiveStartEvent.json"])
def test_spark_templates_are_refused_as_incomplete(sqlite_api: Api, name: str) -> None:
    """These files are expected-event templates of the Spark integration's tests (partial
    events); the endpoint names what they lack."""
    template = json.loads(require_corpus("openlineage", "integration", "spark", "app",
                                         "integrations", "container", name).read_text())
    with sqlite_api.client(sqlite_api.admin) as client:
        answer = client.post("/api/v1/lineage", json=template)
    assert answer.status_code == 400
    assert answer.json()["code"] == "ValidationException"
    assert any(word in answer.json()["message"] for word in ("eventTime", "job.name", "run"))
