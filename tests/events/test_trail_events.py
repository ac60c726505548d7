"""Audit events on the bus: only rules that opt in get them, read-only calls only in
state ENABLED_WITH_ALL_TRAIL_MANAGEMENT_EVENTS, from the rule's creation on, and each
once however many delivery loops run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.actions.events import list_rules, put_rule, put_target
from pipetrail.config import Settings
from pipetrail.events.loop import DeliveryLoop
from pipetrail.events.rules import Rule
from pipetrail.events.settings import DeliverySettings
from pipetrail.events.trail_events import TrailFollower, trail_event
from pipetrail.store.events import PENDING

OPT_IN = '{"source": ["pipetrail.trail"], "detail": {"eventSource": ["events.pipetrail"]}}'


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def queued_names(ctx: ActionContext, target: str) -> list[str]:
    return [json.loads(d.event)["detail"]["eventName"]
            for d in ctx.store.list_deliveries(PENDING) if d.target_name == target]


def test_only_opted_in_rules_get_trail_events(ctx: ActionContext) -> None:
    put_target(ctx, "audit", "command", {"command": ["true"]})
    put_target(ctx, "loose", "command", {"command": ["true"]})
    put_rule(ctx, "early", '{"source": ["my.app"]}')  # before any rule opted in
    put_rule(ctx, "watch", OPT_IN, targets=["audit"])
    put_rule(ctx, "greedy", '{"detail-type": [{"prefix": "Pipetrail"}]}', targets=["loose"])
    follower = TrailFollower(ctx.store, ctx.workspace)
    follower.poll()
    list_rules(ctx)  # read-only: not offered in state ENABLED
    put_rule(ctx, "later", '{"source": ["my.app"]}')
    follower.poll()
    assert queued_names(ctx, "audit") == ["PutRule", "PutRule", "PutRule"]  # watch, greedy, later
    assert queued_names(ctx, "loose") == []  # matches, but never asked for the trail
    [delivery] = [d for d in ctx.store.list_deliveries(PENDING)][:1]
    event = json.loads(delivery.event)
    assert (event["source"], event["detail-type"]) == ("pipetrail.trail",
                                                       "Pipetrail API Call via Trail")
    assert event["detail"]["recipientAccountId"] == "local"
    assert event["resources"] == [r["ARN"] for r in event["detail"]["resources"]]


def test_read_only_calls_need_the_trail_state(ctx: ActionContext) -> None:
    put_target(ctx, "audit", "command", {"command": ["true"]})
    put_rule(ctx, "watch", OPT_IN, targets=["audit"],
             state="ENABLED_WITH_ALL_TRAIL_MANAGEMENT_EVENTS")
    follower = TrailFollower(ctx.store, ctx.workspace)
    follower.poll()
    list_rules(ctx)
    follower.poll()
    assert queued_names(ctx, "audit") == ["PutRule", "ListRules"]


def test_each_audit_event_is_published_once_by_several_loops(ctx: ActionContext) -> None:
    put_target(ctx, "audit", "command", {"command": ["true"]})
    put_rule(ctx, "watch", OPT_IN, targets=["audit"])
    loops = [TrailFollower(ctx.store, ctx.workspace) for _ in range(3)]
    for _ in range(2):
        for loop in loops:
            loop.poll()
    assert queued_names(ctx, "audit") == ["PutRule"]


def test_without_opted_in_rules_the_trail_is_not_read(ctx: ActionContext) -> None:
    put_target(ctx, "audit", "command", {"command": ["true"]})
    put_rule(ctx, "watch", OPT_IN, targets=["audit"])
    put_rule(ctx, "watch", OPT_IN, state="DISABLED")
    follower = TrailFollower(ctx.store, ctx.workspace)
    follower.poll()
    assert ctx.store.get_cursor("trail") is None  # dropped: nobody asks
    put_rule(ctx, "watch", OPT_IN)  # asks again: from now on
    follower.poll()
    assert queued_names(ctx, "audit") == ["PutRule"]


def test_the_delivery_loop_delivers_trail_events(ctx: ActionContext, tmp_path: Path) -> None:
    out = tmp_path / "seen"
    put_target(ctx, "audit", "command", {"command": [
        "sh", "-c", f"cat >> {out}; echo >> {out}"]})
    put_rule(ctx, "watch", OPT_IN, targets=["audit"])
    loop = DeliveryLoop(ctx.store, ctx.workspace, settings=DeliverySettings())
    try:
        assert [a.outcome for a in loop.run_once()] == ["delivered"]  # published, then sent
        assert loop.run_once() == []
    finally:
        loop.close()
    [line] = out.read_text().splitlines()
    assert json.loads(line)["detail"]["eventName"] == "PutRule"


@pytest.mark.parametrize("pattern, state, expected", [
    (OPT_IN, "ENABLED", (True, False)),
    (OPT_IN, "ENABLED_WITH_ALL_TRAIL_MANAGEMENT_EVENTS", (True, True)),
    (OPT_IN, "DISABLED", (False, False)),
    ('{"source": [{"prefix": "pipetrail."}]}', "ENABLED", (False, False)),
    ('{"$or": [{"source": ["pipetrail.trail"]}, {"source": ["x"]}]}', "ENABLED",
     (False, False)),
    ('{"$or": [{"source": ["pipetrail.trail"], "a": ["1"]}, {"source": ["pipetrail.trail"]}]}',
     "ENABLED", (True, False)),
])
def test_what_counts_as_opting_in(pattern: str, state: str,
                                  expected: tuple[bool, bool]) -> None:
    rule = Rule("r", pattern, state)
    rule.validate()
    assert (rule.receives_trail, rule.receives_read_only_trail) == expected


def test_trail_event_ids_are_stable() -> None:
    record = {"eventID": "e1", "eventTime": "2026-11-25T10:00:00Z", "eventType": "DataAccess",
              "recipientAccountId": "team", "resources": [{"type": "t", "ARN": "arn:a"}]}
    first, second = trail_event(record, "local"), trail_event(record, "local")
    assert first.id == second.id  # republished after a crash: the same deliveries
    assert (first.detail_type, first.account, first.resources, first.time) == (
        "Pipetrail Data Access via Trail", "team", ("arn:a",), "2026-11-25T10:00:00Z")
