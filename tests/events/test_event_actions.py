"""The audited event-bus actions on both backends: rules, targets, their links, PutEvents
entries, and what the trail records of them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.actions.events import (
    delete_rule,
    delete_target,
    describe_rule,
    describe_target,
    list_rules,
    list_targets,
    list_targets_by_rule,
    put_events,
    put_rule,
    put_target,
    put_targets,
    remove_targets,
)
from pipetrail.model.errors import NotFoundError, ValidationError
from pipetrail.store.audit import AuditQuery
from pipetrail.store.events import PENDING

FAILED = '{"source": ["pipetrail.jobs"], "detail": {"state": ["FAILED"]}}'


def trail(ctx: ActionContext, name: str) -> list[dict[str, Any]]:
    return ctx.store.lookup_audit_events(AuditQuery(event_name=name, limit=100))


def test_rules_targets_and_links(ctx: ActionContext) -> None:
    put_target(ctx, "hook", "webhook", {"url": "http://127.0.0.1:9/x"}, "0123456789abcdef!")
    put_target(ctx, "mail", "email", {"to": ["ops@example.test"], "timeoutSeconds": 3})
    put_target(ctx, "cmd", "command", {"command": "notify-send 'job failed'"})
    rule = put_rule(ctx, "failed", FAILED, targets=["hook"], description="failures")
    assert (rule["arn"], rule["targets"], rule["state"]) == (
        "arn:pipetrail:events:local:rule/failed", ["hook"], "ENABLED")
    assert rule["eventPattern"] == FAILED  # the text as given
    put_targets(ctx, "failed", ["mail", "cmd", "mail"])
    assert describe_rule(ctx, "failed")["targets"] == ["cmd", "hook", "mail"]
    with pytest.raises(ValidationError, match="at most 5 targets"):
        put_targets(ctx, "failed", ["a", "b", "c"])
    listed = {t["name"]: t for t in list_targets_by_rule(ctx, "failed")}
    assert listed["cmd"]["command"] == ["notify-send", "job failed"]
    assert listed["mail"]["timeoutSeconds"] == 3
    assert listed["hook"]["secret"] == "(signing secret set)"
    assert "0123456789abcdef!" not in json.dumps(list_targets(ctx))
    assert describe_target(ctx, "hook")["rules"] == ["failed"]
    with pytest.raises(ValidationError, match="used by rule"):
        delete_target(ctx, "hook")
    remove_targets(ctx, "failed", ["hook"])
    delete_target(ctx, "hook")
    with pytest.raises(NotFoundError):
        describe_target(ctx, "hook")
    put_rule(ctx, "failed", FAILED, state="DISABLED")  # targets kept when not given
    assert describe_rule(ctx, "failed")["targets"] == ["cmd", "mail"]
    put_rule(ctx, "failed", FAILED, targets=[])  # given: exactly those
    assert describe_rule(ctx, "failed")["targets"] == []
    assert [r["name"] for r in list_rules(ctx, prefix="fa")] == ["failed"]
    assert list_rules(ctx, prefix="x") == []
    delete_rule(ctx, "failed")
    with pytest.raises(NotFoundError):
        delete_rule(ctx, "failed")
    assert len(trail(ctx, "DeleteRule")) == 2
    [refused] = [e for e in trail(ctx, "PutTargets") if e.get("errorCode")]
    assert refused["errorCode"] == "ValidationException"
    [put] = [e for e in trail(ctx, "PutTarget")
             if e["requestParameters"]["name"] == "hook"]
    assert "0123456789abcdef!" not in json.dumps(put)
    assert put["requestParameters"]["secretGiven"] is True
    assert {"ListRules", "DescribeRule", "ListTargetsByRule", "DescribeTarget",
            "ListTargets", "RemoveTargets", "DeleteTarget"} <= {
        e["eventName"] for e in ctx.store.lookup_audit_events(
            AuditQuery(event_source="events.pipetrail", limit=200))}


def test_put_events_accepts_and_refuses_each_entry(ctx: ActionContext) -> None:
    put_target(ctx, "cmd", "command", {"command": ["true"]})
    put_rule(ctx, "mine", '{"source": ["my.app"]}', targets=["cmd"])
    result = put_events(ctx, [
        {"Source": "my.app", "DetailType": "A", "Detail": '{"n": 1}',
         "Resources": ["arn:x"], "Time": "2026-11-25T10:00:00Z"},
        {"Source": "aws.s3", "DetailType": "B"},
        {"Source": "my.app", "DetailType": "C", "Detail": "{nope"},
        {"Source": "other.app", "DetailType": "D"},
    ], deliver=False)
    assert result["failedEntryCount"] == 2
    assert [sorted(e) for e in result["entries"]] == [
        ["eventId"], ["errorCode", "errorMessage"], ["errorCode", "errorMessage"], ["eventId"]]
    assert "reserved" in result["entries"][1]["errorMessage"]
    [queued] = ctx.store.list_deliveries(PENDING)  # only my.app matched the rule
    event = json.loads(queued.event)
    assert (event["id"], event["time"], event["resources"], event["detail"]) == (
        result["entries"][0]["eventId"], "2026-11-25T10:00:00Z", ["arn:x"], {"n": 1})
    assert (queued.target_name, queued.origin) == ("cmd", "arn:pipetrail:events:local:rule/mine")
    [call] = trail(ctx, "PutEvents")
    assert call["responseElements"]["failedEntryCount"] == 2
    with pytest.raises(ValidationError, match="1 to 10 entries"):
        put_events(ctx, [{"Source": "a", "DetailType": "b"}] * 11)


def test_disabled_rules_and_targets_reached_twice(ctx: ActionContext) -> None:
    put_target(ctx, "cmd", "command", {"command": ["true"]})
    put_rule(ctx, "one", '{"source": ["my.app"]}', targets=["cmd"])
    put_rule(ctx, "two", '{"detail-type": ["A"]}', targets=["cmd"])
    put_rule(ctx, "off", '{"source": ["my.app"]}', state="DISABLED", targets=["cmd"])
    put_events(ctx, [{"Source": "my.app", "DetailType": "A"}], deliver=False)
    [queued] = ctx.store.list_deliveries(PENDING)  # one delivery per target and event
    assert queued.origin == "arn:pipetrail:events:local:rule/one"
