"""Every route of the OpenAPI description refuses a request without a valid token (401)
and a caller whose policies do not allow its action (403), and the refusal is recorded
in the trail with errorCode AccessDenied."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from pipetrail.store.store import AuditQuery
from tests.server.conftest import Api
from tests.servers import DENY_ALL, principal_with_token

# Values for path parameters and required query parameters, by name.
PARAMETERS = {"runId": "jr_nosuchrun0000", "name": "nobody-here", "policyName": "no-policy",
              "tokenId": "0123456789abcdef", "metricName": "process.memory.rss",
              "alarmNames": "nobody-here", "target": "nobody-here",
              "eventId": "00000000-0000-0000-0000-000000000000"}

# A valid body for every operation that takes one (a new route with a body needs one).
BODIES: dict[tuple[str, str], Any] = {
    ("post", "/api/v1/access/principals"): {"principalName": "newcomer"},
    ("post", "/api/v1/access/principals/{name}/tokens"): {},
    ("put", "/api/v1/access/policies/{name}"): {
        "document": {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}},
    ("post", "/api/v1/access/roles/{name}/sessions"): {},
    ("post", "/api/v1/access/simulate"): {"principalName": "admin",
                                          "action": "jobs:GetJobRun"},
    ("post", "/api/v1/runs/{runId}/records"): {
        "jobName": "nightly",
        "batches": [{"batchId": "b1", "logEvents": [
            {"logGroupName": "/pipetrail/jobs/output", "logStreamName": "jr_nosuchrun0000",
             "timestamp": 1, "message": "hello"}]}]},
    ("post", "/api/v1/trail/query"): {"queryStatement": "SELECT count(*) FROM events"},
    ("put", "/api/v1/trail/retention"): {"retentionDays": 365},
    ("post", "/api/v1/trail/retention/apply"): {"dryRun": True},
    ("put", "/api/v1/trail/holds/{name}"): {"reason": "case 1"},
    ("post", "/api/v1/lineage"): {
        "eventType": "START", "eventTime": "2026-11-25T10:00:00Z",
        "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8"},
        "job": {"namespace": "airflow", "name": "nightly"}},
    ("put", "/api/v1/alarms"): {
        "AlarmName": "nobody-here", "Namespace": "App", "MetricName": "latency",
        "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1,
        "ComparisonOperator": "GreaterThanThreshold"},
    ("put", "/api/v1/alarms/composite"): {"AlarmName": "nobody-here",
                                          "AlarmRule": 'ALARM("somebody")'},
    ("post", "/api/v1/alarms/state"): {"AlarmName": "nobody-here", "StateValue": "ALARM",
                                       "StateReason": "testing"},
    ("put", "/api/v1/events/rules/{name}"): {"eventPattern": {"source": ["my.app"]}},
    ("post", "/api/v1/events/rules/{name}/targets"): {"targets": ["nobody-here"]},
    ("put", "/api/v1/events/targets/{name}"): {"type": "webhook",
                                               "url": "http://127.0.0.1:9/hook"},
    ("post", "/api/v1/events"): {"entries": [{"Source": "my.app", "DetailType": "Test"}]},
    ("post", "/api/v1/events/test-pattern"): {"eventPattern": {"source": ["my.app"]},
                                              "event": {"source": "my.app"},
                                              "envelopeCheck": False},
    ("post", "/api/v1/events/dead-letters/redrive"): {"all": True},
}


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in spec["paths"].items()
            for method, op in item.items()]


def request(client: httpx.Client, method: str, path: str, op: dict[str, Any],
            headers: dict[str, str] | None = None) -> httpx.Response:
    url = path
    query = {}
    for param in op.get("parameters", []):
        value = PARAMETERS.get(param["name"])
        if param["in"] == "path":
            assert value is not None, f"no test value for path parameter {param['name']}"
            url = url.replace("{" + param["name"] + "}", value)
        elif param["in"] == "query" and param.get("required"):
            assert value is not None, f"no test value for query parameter {param['name']}"
            query[param["name"]] = value
    body = BODIES.get((method, path))
    if "requestBody" in op:
        assert body is not None, f"add a test body for {method.upper()} {path}"
    return client.request(method.upper(), url, params=query, json=body, headers=headers)


@pytest.fixture
def spec(api: Api) -> dict[str, Any]:
    with api.client() as client:
        answer = client.get("/openapi.json")
    assert answer.status_code == 200
    return dict(answer.json())


def test_the_spec_lists_every_area(spec: dict[str, Any]) -> None:
    paths = set(spec["paths"])
    for expected in ("/api/v1/runs", "/api/v1/runs/{runId}/logs/tail", "/api/v1/trail/events",
                     "/api/v1/trail/query", "/api/v1/trail/retention", "/api/v1/trail/holds",
                     "/api/v1/access/principals", "/api/v1/lineage", "/metrics",
                     "/api/v1/runs/{runId}/records", "/api/v1/runs/{runId}/metrics",
                     "/api/v1/alarms", "/api/v1/alarms/history", "/api/v1/events",
                     "/api/v1/events/rules/{name}", "/api/v1/events/targets/{name}",
                     "/api/v1/events/test-pattern", "/api/v1/events/dead-letters"):
        assert expected in paths
    assert len(operations(spec)) >= 48


BAD_CREDENTIALS = [
    {}, {"Authorization": "Bearer"}, {"Authorization": "Basic YWRtaW46YWRtaW4="},
    {"Authorization": "Bearer pt_0123456789abcdef_" + "A" * 43},
    {"Authorization": "Bearer not-a-token"},
]


def test_every_route_refuses_a_request_without_a_valid_token(
        api: Api, spec: dict[str, Any]) -> None:
    admin_id = api.admin.split("_")[1]
    wrong_secret = f"Bearer pt_{admin_id}_" + "B" * 43
    with api.client() as client:
        for headers in [*BAD_CREDENTIALS, {"Authorization": wrong_secret}]:
            for method, path, op in operations(spec):
                answer = request(client, method, path, op, headers)
                assert answer.status_code == 401, (headers, method, path, answer.text)
                assert answer.json()["code"] == "UnrecognizedClientException"
                assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("policy", [None, DENY_ALL], ids=["no-policy", "explicit-deny"])
def test_every_route_refuses_a_caller_whose_policies_deny_it(
        api: Api, spec: dict[str, Any], policy: str | None) -> None:
    token = principal_with_token(api.ctx, "mallory", policy)
    reason = "explicit deny" if policy else "no identity-based policy allows"
    with api.client(token) as client:
        for method, path, op in operations(spec):
            answer = request(client, method, path, op)
            assert answer.status_code == 403, (method, path, answer.text)
            body = answer.json()
            assert body["code"] == "AccessDenied"
            assert reason in body["message"]
            action = re.match(r"\w+", op["summary"]).group(0)  # type: ignore[union-attr]
            recorded = api.ctx.store.lookup_audit_events(AuditQuery(user="mallory", limit=1))[0]
            assert recorded["errorCode"] == "AccessDenied", (method, path)
            assert recorded["eventName"] == action, (method, path)
            assert recorded["requestID"] == body["requestId"]
            assert recorded["userIdentity"]["accessKeyId"] == token.split("_")[1]
