"""The trail archive's routes: QueryEvents, retention and legal holds over HTTP."""

from __future__ import annotations

from tests.server.conftest import Api
from tests.trail.timeline import DAY, data_event


def test_query_retention_and_holds(api: Api) -> None:
    from pipetrail.model.clock import now_ms

    old = now_ms() - 100 * DAY
    api.ctx.store.append_audit_events([data_event(old + i) for i in range(3)])
    with api.client(api.admin) as client:
        answer = client.post("/api/v1/trail/query", json={
            "queryStatement": "SELECT username, count(*) AS n FROM events "
                              "WHERE eventcategory = 'Data' GROUP BY 1", "maxRows": 10})
        assert answer.status_code == 200, answer.text
        assert answer.json()["rows"] == [{"username": "alice", "n": 3}]
        refused = client.post("/api/v1/trail/query", json={"queryStatement": "DROP TABLE x"})
        assert refused.status_code == 400
        assert refused.json()["code"] == "InvalidQueryStatementException"

        assert client.put("/api/v1/trail/retention",
                          json={"retentionDays": 30}).json()["retentionDays"] == 30
        assert client.get("/api/v1/trail/retention").json()["retentionDays"] == 30
        assert client.put("/api/v1/trail/retention",
                          json={"retentionDays": 0}).status_code == 400
        put = client.put("/api/v1/trail/holds/case-1",
                         json={"resource": "s3://lake/patients", "reason": "audit"})
        assert put.status_code == 201 and put.json()["legalHold"]["createdBy"] == "admin"
        assert client.put("/api/v1/trail/holds/case-1", json={}).status_code == 409
        holds = client.get("/api/v1/trail/holds").json()["legalHolds"]
        assert [h["name"] for h in holds] == ["case-1"]
        applied = client.post("/api/v1/trail/retention/apply", json={"dryRun": True}).json()
        assert applied["dryRun"] is True and applied["logFilesDeleted"] == 0
        assert client.delete("/api/v1/trail/holds/case-1").json()["released"] is True
        assert client.delete("/api/v1/trail/holds/case-1").status_code == 404
        other = client.get("/api/v1/trail/retention", params={"trailName": "other"})
        assert other.status_code == 404
