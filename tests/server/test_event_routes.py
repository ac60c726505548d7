"""The event-bus routes against a real server, on SQLite and PostgreSQL: rules, targets,
PutEvents delivered by the leader or within the request, TestEventPattern, dead letters,
and policies scoped to single rules and targets."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from pipetrail.store.store import AuditQuery
from tests.events.receivers import WebhookReceiver
from tests.server.conftest import Api
from tests.servers import principal_with_token

FAILED = {"source": ["my.app"], "detail": {"state": ["FAILED"]}}
EVENT = {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "account": "local",
         "source": "my.app", "time": "2026-11-25T10:00:00Z", "region": "local",
         "resources": [], "detail-type": "Job", "detail": {"state": "FAILED"}}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.close()


def test_rules_and_targets(api: Api, receiver: WebhookReceiver) -> None:
    with api.client(api.admin) as client:
        made = client.put("/api/v1/events/targets/hook",
                          json={"type": "webhook", "url": receiver.url,
                                "headers": {"X-Team": "data"}, "timeoutSeconds": 2,
                                "retryPolicy": {"MaximumRetryAttempts": 3}})
        assert made.status_code == 200, made.text
        secret = made.json()["generatedSecret"]
        assert len(secret) >= 16
        assert made.json()["target"]["arn"] == "arn:pipetrail:events:local:target/hook"
        mail = client.put("/api/v1/events/targets/mail",
                          json={"type": "email", "to": ["ops@example.test"]})
        assert "generatedSecret" not in mail.json()
        bad = client.put("/api/v1/events/targets/odd", json={"type": "email",
                                                             "url": receiver.url})
        assert bad.status_code == 400 and "url" in bad.json()["message"]
        shown = client.get("/api/v1/events/targets/hook").json()["target"]
        assert shown["secret"] == "(signing secret set)"
        assert shown["retryPolicy"]["MaximumRetryAttempts"] == 3
        assert secret not in client.get("/api/v1/events/targets").text

        rule = client.put("/api/v1/events/rules/failures",
                          json={"eventPattern": FAILED, "targets": ["hook"],
                                "description": "failed jobs"})
        assert rule.status_code == 200, rule.text
        assert rule.json()["rule"]["arn"] == "arn:pipetrail:events:local:rule/failures"
        text = client.put("/api/v1/events/rules/other",
                          json={"eventPattern": '{"source": ["b"]}', "state": "DISABLED"})
        assert text.json()["rule"]["eventPattern"] == '{"source": ["b"]}'
        wrong = client.put("/api/v1/events/rules/odd",
                           json={"eventPattern": {"source": "not-a-list"}})
        assert wrong.status_code == 400 and "source" in wrong.json()["message"]
        assert client.put("/api/v1/events/rules/bad name!",
                          json={"eventPattern": FAILED}).status_code == 400

        listed = client.get("/api/v1/events/rules", params={"namePrefix": "fail"}).json()
        assert [r["name"] for r in listed["rules"]] == ["failures"]
        by_target = client.get("/api/v1/events/rules", params={"targetName": "hook"}).json()
        assert [r["name"] for r in by_target["rules"]] == ["failures"]
        added = client.post("/api/v1/events/rules/failures/targets",
                            json={"targets": ["mail"]})
        assert added.json()["rule"]["targets"] == ["hook", "mail"]
        targets = client.get("/api/v1/events/rules/failures/targets").json()["targets"]
        assert [t["name"] for t in targets] == ["hook", "mail"]
        assert client.get("/api/v1/events/targets/hook").json()["target"]["rules"] == \
            ["failures"]
        used = client.delete("/api/v1/events/targets/mail")
        assert used.status_code == 400 and "failures" in used.json()["message"]
        removed = client.delete("/api/v1/events/rules/failures/targets",
                                params={"target": "mail"})
        assert removed.json()["rule"]["targets"] == ["hook"]
        assert client.delete("/api/v1/events/targets/mail").json()["deleted"] is True
        assert client.get("/api/v1/events/targets/mail").status_code == 404

        assert client.delete("/api/v1/events/rules/other").json()["deleted"] is True
        assert client.get("/api/v1/events/rules/other").status_code == 404
        assert [r["name"] for r in client.get("/api/v1/events/rules").json()["rules"]] == \
            ["failures"]
    # The trail has the calls, never the secret.
    calls = api.ctx.store.lookup_audit_events(AuditQuery(event_source="events.pipetrail",
                                                         limit=100))
    assert {"PutTarget", "PutRule", "PutTargets", "RemoveTargets", "DeleteTarget",
            "DeleteRule", "ListRules", "DescribeRule"} <= {c["eventName"] for c in calls}
    assert secret not in json.dumps(calls)


def test_put_events_are_delivered_by_the_leader_or_at_once(
        api: Api, receiver: WebhookReceiver) -> None:
    with api.client(api.admin) as client:
        secret = "0123456789abcdef-secret"
        client.put("/api/v1/events/targets/hook",
                   json={"type": "webhook", "url": receiver.url, "secret": secret})
        client.put("/api/v1/events/rules/failures",
                   json={"eventPattern": FAILED, "targets": ["hook"]})
        answer = client.post("/api/v1/events", json={"entries": [
            {"Source": "my.app", "DetailType": "Job", "Detail": {"state": "FAILED", "n": 1}},
            {"Source": "pipetrail.jobs", "DetailType": "Job"},
            {"Source": "my.app", "DetailType": "Job", "Detail": '{"state": "OK"}'},
        ]}).json()
        assert answer["failedEntryCount"] == 1
        assert "reserved" in answer["entries"][1]["errorMessage"]
        assert answer["deliveries"] == []  # queued: the leader delivers
        [first] = receiver.wait_for(1)
        assert first.json["detail"] == {"state": "FAILED", "n": 1}
        assert first.json["id"] == answer["entries"][0]["eventId"]
        assert first.signature_valid(secret)

        now = client.post("/api/v1/events", json={"deliver": True, "entries": [
            {"Source": "my.app", "DetailType": "Job", "Detail": {"state": "FAILED"},
             "Resources": ["arn:x"], "Time": "2026-11-25T10:00:00Z"}]}).json()
        assert [d["outcome"] for d in now["deliveries"]] == ["delivered"]
        assert receiver.wait_for(2)[1].json["time"] == "2026-11-25T10:00:00Z"
        assert client.post("/api/v1/events", json={"entries": []}).status_code == 400
        eleven = [{"Source": "my.app", "DetailType": "Job"}] * 11
        assert client.post("/api/v1/events", json={"entries": eleven}).status_code == 400
    [call] = api.ctx.store.lookup_audit_events(AuditQuery(event_name="PutEvents", limit=1))
    assert call["resources"][0]["ARN"] == "arn:pipetrail:events:local:event-bus/default"


def test_test_event_pattern(api: Api) -> None:
    with api.client(api.admin) as client:
        def test(pattern: object, event: object, **extra: object) -> dict[str, object]:
            answer = client.post("/api/v1/events/test-pattern",
                                 json={"eventPattern": pattern, "event": event, **extra})
            return {"status": answer.status_code, **answer.json()}

        assert test(FAILED, EVENT) == {"status": 200, "result": True}
        assert test(json.dumps(FAILED), json.dumps(EVENT))["result"] is True
        assert test({"detail": {"state": [{"prefix": "OK"}]}}, EVENT)["result"] is False
        bare = test(FAILED, {"source": "my.app", "detail": {"state": "FAILED"}})
        assert bare["status"] == 400 and "envelope" in str(bare["message"])
        assert test(FAILED, {"source": "my.app", "detail": {"state": "FAILED"}},
                    envelopeCheck=False)["result"] is True
        broken = test({"source": [{"nope": 1}]}, EVENT)
        assert broken["status"] == 400 and "nope" in str(broken["message"])
        assert test("{not json", EVENT)["status"] == 400
    [call] = api.ctx.store.lookup_audit_events(AuditQuery(event_name="TestEventPattern",
                                                          limit=1))
    assert call["requestParameters"]["eventPattern"] == "{not json"
    assert "event" not in call["requestParameters"]  # only its size


def test_dead_letters_are_listed_and_redriven(api: Api, receiver: WebhookReceiver) -> None:
    receiver.statuses = [404]  # not retried: a dead letter at once
    with api.client(api.admin) as client:
        client.put("/api/v1/events/targets/hook",
                   json={"type": "webhook", "url": receiver.url})
        client.put("/api/v1/events/rules/all-mine",
                   json={"eventPattern": {"source": ["my.app"]}, "targets": ["hook"]})
        sent = client.post("/api/v1/events", json={"deliver": True, "entries": [
            {"Source": "my.app", "DetailType": "Job"}]}).json()
        assert [d["outcome"] for d in sent["deliveries"]] == ["dead"]
        [dead] = client.get("/api/v1/events/dead-letters").json()["deadLetters"]
        assert (dead["target"], dead["errorCode"]) == ("hook", "HTTP_404")
        assert dead["eventId"] == sent["entries"][0]["eventId"]
        both = client.post("/api/v1/events/dead-letters/redrive",
                           json={"ids": [dead["id"]], "all": True})
        assert both.status_code == 400
        assert client.post("/api/v1/events/dead-letters/redrive", json={}).status_code == 400
        unknown = client.post("/api/v1/events/dead-letters/redrive", json={"ids": ["nope"]})
        assert unknown.status_code == 400 and "nope" in unknown.json()["message"]
        redriven = client.post("/api/v1/events/dead-letters/redrive",
                               json={"ids": [dead["id"]], "deliver": True}).json()
        assert len(redriven["redriven"]) == 1
        assert [d["outcome"] for d in redriven["deliveries"]] == ["delivered"]
        assert client.get("/api/v1/events/dead-letters").json()["deadLetters"] == []
    assert len(receiver.wait_for(2)) == 2
    [call] = api.ctx.store.lookup_audit_events(AuditQuery(event_name="RedriveDeadLetters",
                                                          limit=1))
    assert call["resources"] == [{"type": "Pipetrail::Events::Target",
                                  "ARN": "arn:pipetrail:events:local:target/hook"}]


SCOPED = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "events:*",
     "Resource": ["arn:pipetrail:events:local:rule/team-*",
                  "arn:pipetrail:events:local:target/team-*"]},
    {"Effect": "Deny", "Action": "events:PutTarget", "Resource": "*",
     "Condition": {"StringEquals": {"events:TargetType": "command"}}}]})


def test_a_policy_scoped_to_some_rules_and_targets(api: Api, receiver: WebhookReceiver
                                                   ) -> None:
    token = principal_with_token(api.ctx, "teamlead", SCOPED)
    with api.client(api.admin) as admin:
        admin.put("/api/v1/events/targets/other", json={"type": "webhook", "url": receiver.url})
        admin.put("/api/v1/events/rules/other", json={"eventPattern": FAILED})
    hook = {"type": "webhook", "url": receiver.url}
    with api.client(token) as client:
        assert client.put("/api/v1/events/targets/team-hook", json=hook).status_code == 200
        denied = client.put("/api/v1/events/targets/other", json=hook)
        assert denied.status_code == 403 and "target/other" in denied.json()["message"]
        command = client.put("/api/v1/events/targets/team-cmd",
                             json={"type": "command", "command": ["true"]})
        assert command.status_code == 403 and "explicit deny" in command.json()["message"]
        rule = {"eventPattern": FAILED, "targets": ["team-hook"]}
        assert client.put("/api/v1/events/rules/team-rule", json=rule).status_code == 200
        assert client.put("/api/v1/events/rules/other", json=rule).status_code == 403
        assert client.get("/api/v1/events/rules/team-rule").status_code == 200
        assert client.get("/api/v1/events/rules/other").status_code == 403
        assert client.delete("/api/v1/events/rules/other").status_code == 403
        # PutTargets needs the rule and every target.
        assert client.post("/api/v1/events/rules/team-rule/targets",
                           json={"targets": ["other"]}).status_code == 403
        assert client.get("/api/v1/events/rules").status_code == 403  # '*'
        assert client.post("/api/v1/events", json={"entries": [
            {"Source": "my.app", "DetailType": "Job"}]}).status_code == 403
    record = api.ctx.store.lookup_audit_events(AuditQuery(user="teamlead", limit=1))[0]
    assert (record["eventName"], record["errorCode"]) == ("PutEvents", "AccessDenied")
    assert api.ctx.store.get_rule("other").targets == []
    assert [t.name for t in api.ctx.store.list_targets()] == ["other", "team-hook"]


def test_put_events_records_every_entry_safely_whatever_it_holds(
        sqlite_api: Api, receiver: WebhookReceiver) -> None:
    api = sqlite_api
    big = {"Source": "my.app", "DetailType": "Job", "Detail": {"blob": "x" * 200_000}}
    with api.client(api.admin) as client:
        client.put("/api/v1/events/targets/hook",
                   json={"type": "webhook", "url": receiver.url})
        client.put("/api/v1/events/rules/mine",
                   json={"eventPattern": {"source": ["my.app"]}, "targets": ["hook"]})
        answer = client.post("/api/v1/events", json={"entries": [
            big, big, {"Source": "my.app", "DetailType": "Job", "Detail": {"n": 10 ** 30}},
            {"Source": "my.app", "DetailType": "Job", "Time": 10 ** 30}]})
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["failedEntryCount"] == 2
        assert "not JSON" in result["entries"][2]["errorMessage"]
        assert "9999" in result["entries"][3]["errorMessage"]
    # The two good entries were published and delivered; the call is in the trail, with
    # the size of each detail rather than the detail.
    assert len(receiver.wait_for(2)) == 2
    [call] = api.ctx.store.lookup_audit_events(AuditQuery(event_name="PutEvents", limit=1))
    assert call.get("errorCode") is None
    entries = call["requestParameters"]["entries"]
    assert [e.get("detailBytes", 0) > 200_000 for e in entries] == [True, True, False, False]
    assert "Detail" not in entries[0]
    assert entries[3]["Time"] == str(10 ** 30)


def test_command_targets_need_the_operators_consent(api: Api,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    target = {"type": "command", "command": ["true"]}
    with api.client(api.admin) as client:
        refused = client.put("/api/v1/events/targets/run-it", json=target)
        assert refused.status_code == 403
        assert "PIPETRAIL_SERVER_COMMAND_TARGETS=1" in refused.json()["message"]
        monkeypatch.setenv("PIPETRAIL_SERVER_COMMAND_TARGETS", "1")
        assert client.put("/api/v1/events/targets/run-it", json=target).status_code == 200
    calls = api.ctx.store.lookup_audit_events(AuditQuery(event_name="PutTarget", limit=5))
    assert [c.get("errorCode") for c in calls] == [None, "AccessDenied"]
