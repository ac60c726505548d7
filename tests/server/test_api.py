"""The API's routes against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from pipetrail.actions import jobs
from pipetrail.model.runs import JobRun
from pipetrail.runner.launch import RunOptions
from pipetrail.store.store import AuditQuery
from tests.conftest import ScriptFactory
from tests.server.conftest import Api
from tests.servers import server_env


def finished_run(api: Api, script: ScriptFactory, body: str, job: str = "etl") -> JobRun:
    path = script(body)
    return jobs.run_job(api.ctx, RunOptions(script=path, sample_interval=0.05, echo=False), job)


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in text.split("\n\n"):
        lines = [line for line in frame.splitlines() if not line.startswith(":")]
        kind = next((line[7:] for line in lines if line.startswith("event: ")), None)
        data = next((line[6:] for line in lines if line.startswith("data: ")), None)
        if kind and data is not None:
            events.append((kind, orjson.loads(data)))
    return events


def test_runs_logs_metrics_and_trail(api: Api, script: ScriptFactory) -> None:
    run = finished_run(api, script, "import logging\nprint('one')\nprint('two')\n"
                                    "logging.warning('careful')\n")
    with api.client(api.admin) as client:
        runs = client.get("/api/v1/runs", params={"jobName": "etl"}).json()["jobRuns"]
        assert [r["runId"] for r in runs] == [run.run_id]
        shown = client.get(f"/api/v1/runs/{run.run_id[:10]}").json()["jobRun"]
        assert shown["state"] == "SUCCEEDED"
        assert "job.duration" in {m["metricName"] for m in shown["metrics"]}
        assert client.get("/api/v1/jobs").json()["jobs"][0]["name"] == "etl"
        logs = client.get(f"/api/v1/runs/{run.run_id}/logs", params={"stream": "output"})
        assert [e["message"] for e in logs.json()["events"]] == ["one", "two"]
        logger = client.get(f"/api/v1/runs/{run.run_id}/logs", params={"stream": "logger"})
        assert "careful" in logger.json()["events"][0]["message"]
        metric = client.get(f"/api/v1/runs/{run.run_id}/metrics",
                            params={"metricName": "job.exitCode"}).json()
        assert [d["value"] for d in metric["datapoints"]] == [0.0]
        answer = client.get("/api/v1/trail/events",
                            params={"eventName": "GetJobRun", "maxResults": 5})
        record = answer.json()["events"][0]
        assert record["userIdentity"]["userName"] == "admin"
        assert record["userIdentity"]["type"] == "User"
        assert record["requestID"] != answer.headers["x-request-id"]  # that call was earlier
        assert record["sourceIPAddress"] == "127.0.0.1"
        assert record["userAgent"].startswith("python-httpx/")
        lookup = client.get("/api/v1/trail/events", params={"maxResults": 1}).json()
        assert lookup["events"][0]["eventName"] == "LookupEvents"


def test_errors_are_json_with_the_request_id(sqlite_api: Api) -> None:
    api = sqlite_api
    with api.client(api.admin) as client:
        missing = client.get("/api/v1/runs/jr_nosuchrun0000")
        assert missing.status_code == 404
        assert missing.json()["code"] == "EntityNotFoundException"
        assert missing.json()["requestId"] == missing.headers["x-request-id"]
        recorded = api.ctx.store.lookup_audit_events(AuditQuery(limit=1))[0]
        assert recorded["requestID"] == missing.headers["x-request-id"]
        assert recorded["errorCode"] == "EntityNotFoundException"
        bad = client.get("/api/v1/runs", params={"maxResults": "many"})
        assert bad.status_code == 400
        assert "maxResults" in bad.json()["message"]
        state = client.get("/api/v1/runs", params={"state": "NAPPING"})
        assert state.status_code == 400 and "unknown state" in state.json()["message"]
        assert client.get("/api/v1/nothing-here").json()["code"] == "NotFound"
        assert client.delete("/api/v1/runs").status_code == 405
        broken = client.post("/api/v1/access/simulate", content=b"{not json",
                             headers={"content-type": "application/json"})
        assert broken.status_code == 400 and broken.json()["code"] == "ValidationException"


def test_live_tail_streams_server_sent_events(api: Api, script: ScriptFactory) -> None:
    run = finished_run(api, script, "for i in range(5): print('line', i)\n")
    with api.client(api.admin) as client:
        answer = client.get(f"/api/v1/runs/{run.run_id}/logs/tail", params={"lines": 3})
        assert answer.headers["content-type"].startswith("text/event-stream")
        events = sse_events(answer.text)
        assert [d["message"] for k, d in events if k == "log"] == ["line 2", "line 3", "line 4"]
        assert events[-1][0] == "end"
        assert client.get("/api/v1/runs/jr_nosuchrun0000/logs/tail").status_code == 404


def test_live_tail_follows_a_running_job(sqlite_api: Api, script: ScriptFactory, tmp_path: Path
                                         ) -> None:
    api = sqlite_api
    gate = tmp_path / "go"
    path = script("import os, time\nprint('first', flush=True)\n"
                  f"while not os.path.exists({str(gate)!r}): time.sleep(0.02)\n"
                  "print('second', flush=True)\n")
    settings = api.ctx.settings
    runner = subprocess.Popen([sys.executable, "-m", "pipetrail.cli", "run", str(path), "-q",
                               "--job", "follow"], env=server_env(settings),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run_id = _wait_for_run(api, "follow")
        received: list[str] = []

        def follow() -> None:
            with api.client(api.admin) as client, client.stream(
                    "GET", f"/api/v1/runs/{run_id}/logs/tail",
                    params={"follow": "true", "lines": 10, "stream": "output"}) as answer:
                assert answer.status_code == 200
                for line in answer.iter_lines():
                    if line.startswith("data: "):
                        data = orjson.loads(line[6:])
                        received.append(data.get("message", "<end>"))

        reader = threading.Thread(target=follow)
        reader.start()
        deadline = time.monotonic() + 20
        while "first" not in received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert received == ["first"]
        gate.touch()
        reader.join(30)
        assert not reader.is_alive()
        assert received == ["first", "second", "<end>"]
    finally:
        gate.touch()
        runner.wait(30)


def _wait_for_run(api: Api, job: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        runs = api.ctx.store.list_runs(job_name=job)
        if runs and runs[0].state.value == "RUNNING":
            return runs[0].run_id
        time.sleep(0.05)
    raise AssertionError("the run did not start")


def test_a_running_job_is_stopped_through_the_api(sqlite_api: Api, script: ScriptFactory) -> None:
    api = sqlite_api
    path = script("import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    runner = subprocess.Popen([sys.executable, "-m", "pipetrail.cli", "run", str(path), "-q",
                               "--job", "sleepy"], env=server_env(api.ctx.settings),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run_id = _wait_for_run(api, "sleepy")
        with api.client(api.admin) as client:
            answer = client.post(f"/api/v1/runs/{run_id}/stop")
            assert answer.status_code == 200, answer.text
            assert answer.json()["state"] == "STOPPING"
        runner.wait(30)
        assert api.ctx.store.get_run(run_id).state.value == "STOPPED"
        with api.client(api.admin) as client:
            again = client.post(f"/api/v1/runs/{run_id}/stop")
            assert again.status_code == 400 and "already ended" in again.json()["message"]
    finally:
        if runner.poll() is None:
            runner.kill()


def test_prometheus_export_and_probes(sqlite_api: Api, script: ScriptFactory) -> None:
    api = sqlite_api
    finished_run(api, script, "print(1)\n")
    with api.client(api.admin) as client:
        text = client.get("/metrics")
        assert text.headers["content-type"].startswith("text/plain")
        body = text.text
        assert 'pipetrail_job_runs{state="SUCCEEDED"} 1.0' in body
        assert 'pipetrail_job_runs{state="FAILED"} 0.0' in body
        assert "process_resident_memory_bytes" in body
        assert "pipetrail_server_leader 1.0" in body
        second = client.get("/metrics").text
        assert 'route="/metrics",status="200"' in second
    with api.client() as anonymous:
        assert anonymous.get("/healthz").json()["status"] == "ok"
        assert anonymous.get("/readyz").json() == {"status": "ready"}
        assert anonymous.get("/metrics").status_code == 401


def test_bodies_over_the_limit_are_refused(sqlite_api: Api) -> None:
    api = sqlite_api
    big = b'{"principalName": "' + b"x" * (1024 * 1024) + b'"}'
    with api.client(api.admin) as client:
        answer = client.post("/api/v1/access/simulate", content=big,
                             headers={"content-type": "application/json"})
        assert answer.status_code == 413
        assert answer.json()["code"] == "RequestEntityTooLargeException"
        assert "at most 1048576" in answer.json()["message"]

        def chunks():  # no Content-Length: counted as it arrives
            for _ in range(20):
                yield b"x" * 100_000

        streamed = client.post("/api/v1/access/simulate", content=chunks(),
                               headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        assert streamed.json()["code"] == "RequestEntityTooLargeException"
        lineage = client.post("/api/v1/lineage", content=b"[" + b" " * 2_000_000 + b"]",
                              headers={"content-type": "application/json"})
        assert lineage.status_code == 400  # 8 MiB allowed there: refused as not an event


def test_tokens_expire_and_are_revoked(api: Api) -> None:
    with api.client(api.admin) as client:
        created = client.post("/api/v1/access/principals",
                              json={"principalName": "bot", "principalType": "ServiceAccount"})
        assert created.status_code == 201
        assert created.json()["principal"]["arn"] == \
            "arn:pipetrail:iam:local:service-account/bot"
        client.put("/api/v1/access/policies/read-only", json={"document": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["jobs:Get*", "access:Get*"],
                           "Resource": "*"}]}})
        client.put("/api/v1/access/principals/bot/policies/read-only")
        issued = client.post("/api/v1/access/principals/bot/tokens",
                             json={"expiresIn": 3600, "description": "ci"}).json()
        token = issued["token"]
        assert issued["status"] == "active"
        listed = client.get("/api/v1/access/principals/bot/tokens").json()["tokens"]
        assert [t["tokenId"] for t in listed] == [issued["tokenId"]]
        assert "token" not in listed[0]
        record = api.ctx.store.lookup_audit_events(AuditQuery(event_name="CreateToken"))[0]
        assert token not in orjson.dumps(record).decode()
    with api.client(token) as bot:
        assert bot.get("/api/v1/runs").status_code == 200
        who = bot.get("/api/v1/access/whoami").json()
        assert who["type"] == "ServiceAccount" and who["tokenId"] == issued["tokenId"]
        assert bot.post("/api/v1/access/principals",
                        json={"principalName": "x"}).status_code == 403
    with api.client(api.admin) as client:
        assert client.delete(f"/api/v1/access/tokens/{issued['tokenId']}").status_code == 200
    with api.client(token) as bot:
        refused = bot.get("/api/v1/runs")
        assert refused.status_code == 401 and "revoked" in refused.json()["message"]
    # An expired token (its record says so) is refused.
    from pipetrail.access.tokens import issue_token
    from pipetrail.model.clock import now_ms
    from pipetrail.model.principals import ApiToken

    old = issue_token()
    bot_id = api.ctx.store.get_principal("bot").principal_id
    api.ctx.store.create_token(ApiToken(old.token_id, bot_id, now_ms() - 7200_000,
                                        now_ms() - 3600_000), old.secret_hash)
    with api.client(old.text) as stale:
        answer = stale.get("/api/v1/runs")
        assert answer.status_code == 401 and "expired" in answer.json()["message"]


def test_policy_changes_apply_to_the_next_request(api: Api, script: ScriptFactory) -> None:
    own = finished_run(api, script, "print(1)\n", job="ana-etl")
    other = finished_run(api, script, "print(2)\n", job="payroll")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["jobs:GetJobRun", "logs:GetLogEvents"],
         "Resource": ["arn:pipetrail:jobs:local:job/${pipetrail:username}-*",
                      "arn:pipetrail:logs:local:log-group:/pipetrail/jobs/*"]}]}
    with api.client(api.admin) as client:
        client.post("/api/v1/access/principals",
                    json={"principalName": "ana", "tags": {"team": "data"}})
        assert client.put("/api/v1/access/policies/own-jobs",
                          json={"document": policy}).json()["created"] is True
        client.put("/api/v1/access/principals/ana/policies/own-jobs")
        token = client.post("/api/v1/access/principals/ana/tokens", json={}).json()["token"]
    with api.client(token) as ana:
        assert ana.get(f"/api/v1/runs/{own.run_id}").status_code == 200
        denied = ana.get(f"/api/v1/runs/{other.run_id}")
        assert denied.status_code == 403
        assert f"job/payroll/run/{other.run_id}" in denied.json()["message"]
        # A run that does not exist is decided for "*": ana may not learn that it is missing.
        assert ana.get("/api/v1/runs/jr_nosuchrun0000").status_code == 403
        assert ana.get(f"/api/v1/runs/{own.run_id}/logs").status_code == 200
    tightened = {"Version": "2012-10-17", "Statement": [
        *policy["Statement"],
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringNotEquals": {"pipetrail:PrincipalTag/team": "platform"}}}]}
    with api.client(api.admin) as client:
        assert client.put("/api/v1/access/policies/own-jobs",
                          json={"document": tightened}).json()["created"] is False
        simulated = client.post("/api/v1/access/simulate", json={
            "principalName": "ana", "action": "jobs:GetJobRun",
            "resource": f"arn:pipetrail:jobs:local:job/ana-etl/run/{own.run_id}",
            "context": {"pipetrail:PrincipalTag/team": "data"}}).json()
        assert simulated["decision"] == "explicitDeny"
    with api.client(token) as ana:
        assert ana.get(f"/api/v1/runs/{own.run_id}").status_code == 403
    with api.client(api.admin) as client:
        bad = client.put("/api/v1/access/policies/broken", json={"document": '{"Statement": 1}'})
        assert bad.status_code == 400 and "Statement" in bad.json()["message"]
        assert client.delete("/api/v1/access/policies/own-jobs").status_code == 409
        client.delete("/api/v1/access/principals/ana/policies/own-jobs")
        assert client.delete("/api/v1/access/policies/own-jobs").status_code == 200
        client.delete("/api/v1/access/principals/ana")
    with api.client(token) as ana:
        assert ana.get("/api/v1/runs").status_code == 401


def test_source_address_conditions(sqlite_api: Api) -> None:
    api = sqlite_api
    office_only = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"NotIpAddress": {"pipetrail:SourceIp": "10.0.0.0/8"}}}]}
    loopback = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "jobs:GetJobRuns", "Resource": "*",
         "Condition": {"IpAddress": {"pipetrail:SourceIp": "127.0.0.0/8"},
                       "Bool": {"pipetrail:SecureTransport": "false"}}}]}
    tokens = {}
    with api.client(api.admin) as client:
        for name, document in (("remote", office_only), ("local", loopback)):
            client.post("/api/v1/access/principals", json={"principalName": name})
            client.put(f"/api/v1/access/policies/{name}", json={"document": document})
            client.put(f"/api/v1/access/principals/{name}/policies/{name}")
            tokens[name] = client.post(f"/api/v1/access/principals/{name}/tokens",
                                       json={}).json()["token"]
    with api.client(tokens["remote"]) as remote:
        assert remote.get("/api/v1/runs").status_code == 403
    with api.client(tokens["local"]) as local:
        assert local.get("/api/v1/runs").status_code == 200
        assert local.get("/api/v1/jobs").status_code == 403


def test_roles_are_assumed_for_a_while(sqlite_api: Api) -> None:
    api = sqlite_api
    with api.client(api.admin) as client:
        client.post("/api/v1/access/principals",
                    json={"principalName": "auditor", "principalType": "Role"})
        client.put("/api/v1/access/policies/audit", json={"document": {
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["trail:LookupEvents", "access:GetCallerIdentity",
                                               "access:AssumeRole"], "Resource": "*"}]}})
        client.put("/api/v1/access/principals/auditor/policies/audit")
        refused = client.post("/api/v1/access/principals/auditor/tokens", json={})
        assert refused.status_code == 400 and "assume the role" in refused.json()["message"]
        session = client.post("/api/v1/access/roles/auditor/sessions",
                              json={"durationSeconds": 900})
        assert session.status_code == 201
        token = session.json()["token"]
    with api.client(token) as auditor:
        who = auditor.get("/api/v1/access/whoami").json()
        assert who["type"] == "AssumedRole"
        assert who["arn"] == "arn:pipetrail:iam:local:assumed-role/auditor/admin"
        assert auditor.get("/api/v1/trail/events").status_code == 200
        assert auditor.get("/api/v1/runs").status_code == 403
        again = auditor.post("/api/v1/access/roles/auditor/sessions", json={})
        assert again.status_code == 400
        record = api.ctx.store.lookup_audit_events(AuditQuery(limit=1))[0]
        issuer = record["userIdentity"]["sessionContext"]["sessionIssuer"]
        assert issuer["arn"] == "arn:pipetrail:iam:local:role/auditor"


def test_api_calls_use_one_connection_pool(api: Api) -> None:
    """Many requests in parallel are all answered (the store's pool is shared)."""
    def call(_: int) -> int:
        return httpx.get(f"{api.url}/api/v1/runs",
                         headers={"Authorization": f"Bearer {api.admin}"}, timeout=30).status_code

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(call, range(32))) == {200}


def test_live_tails_give_their_slot_back(sqlite_api: Api, script: ScriptFactory) -> None:
    from pipetrail.server import streaming

    api = sqlite_api
    run = finished_run(api, script, "print('x')\n")
    free = streaming._streams._value  # type: ignore[attr-defined]
    with api.client(api.admin) as client:
        for _ in range(5):
            assert client.get(f"/api/v1/runs/{run.run_id}/logs/tail").status_code == 200
        assert client.get("/api/v1/runs/jr_nosuchrun0000/logs/tail").status_code == 404
        with client.stream("GET", f"/api/v1/runs/{run.run_id}/logs/tail",
                           params={"follow": "true", "lines": 0}) as answer:
            assert answer.status_code == 200
    deadline = time.monotonic() + 5
    while streaming._streams._value != free and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.05)
    assert streaming._streams._value == free  # type: ignore[attr-defined]


def test_a_remote_start_needs_start_job_run(sqlite_api: Api) -> None:
    api = sqlite_api
    policy = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
              '"Action": "jobs:PutJobRunRecords", "Resource": "*"}]}')
    from tests.servers import principal_with_token

    token = principal_with_token(api.ctx, "shipper", policy, kind="ServiceAccount")
    run_id = "jr_remote00001"
    first = {"jobName": "nightly", "batches": [{
        "batchId": "b-1", "start": {"scriptLocation": "/srv/job.py"},
        "run": {"state": "RUNNING", "startedOn": 1795600800000}}]}
    later = {"jobName": "nightly", "batches": [{
        "batchId": "b-2", "logEvents": [{"logGroupName": "/pipetrail/jobs/output",
                                         "logStreamName": run_id, "timestamp": 1,
                                         "message": "hello"}]}]}
    with api.client(token) as client:
        denied = client.post(f"/api/v1/runs/{run_id}/records", json=first)
        assert denied.status_code == 403 and "jobs:StartJobRun" in denied.json()["message"]
        start = api.ctx.store.lookup_audit_events(AuditQuery(event_name="StartJobRun"))[0]
        assert start["errorCode"] == "AccessDenied"
        assert client.post(f"/api/v1/runs/{run_id}/records", json=later).status_code == 200
        foreign = {"jobName": "nightly", "batches": [{"batchId": "b-3", "logEvents": [
            {"logGroupName": "/pipetrail/jobs/output", "logStreamName": "jr_someoneelse",
             "timestamp": 1, "message": "x"}]}]}
        refused = client.post(f"/api/v1/runs/{run_id}/records", json=foreign)
        assert refused.status_code == 400 and "is not one of run" in refused.json()["message"]
        forged = {"jobName": "nightly", "batches": [{"batchId": "b-4", "auditEvents": [
            {"eventId": "e1", "eventTime": 1, "eventSource": "jobs.pipetrail",
             "eventName": "StartJobRun", "eventType": "ApiCall"}]}]}
        assert client.post(f"/api/v1/runs/{run_id}/records", json=forged).status_code == 400
    assert api.ctx.store.count_log_events("/pipetrail/jobs/output", run_id) == 1
