"""`pipetrail events` rule, target, publishing and dead-letter verbs, run as a user runs
them, against a real webhook receiver. Publishing and dead letters run on both store
backends; the rest does not depend on the backend (the actions behind these verbs are
tested on both in ``test_event_actions.py``)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Cli
from tests.events.receivers import WebhookReceiver

ORDERS = '{"source": ["my.app"], "detail": {"n": [{"numeric": [">", 5]}]}}'


def ok(result: object) -> str:
    assert getattr(result, "returncode") == 0, getattr(result, "stderr")  # noqa: B009
    return str(getattr(result, "stdout"))  # noqa: B009


def webhook(cli: Cli, name: str, url: str) -> str:
    """Create a webhook target; its generated secret."""
    shown = json.loads(ok(cli("events", "put-target", name, "--type", "webhook", "--url", url,
                              "--format", "json")))
    assert shown["arn"] == f"arn:pipetrail:events:local:target/{name}"
    return str(shown["generatedSecret"])


def test_rules_and_targets_round_trip(sqlite_cli: Cli) -> None:
    cli = sqlite_cli
    webhook(cli, "hook", "http://127.0.0.1:9/x")
    out = ok(cli("events", "put-rule", "--name", "orders", "--pattern", ORDERS,
                 "--target", "hook", "--description", "big orders"))
    assert "rule orders ENABLED -> hook: arn:pipetrail:events:local:rule/orders" in out
    [rule] = json.loads(ok(cli("events", "list-rules", "--format", "json")))
    assert (rule["name"], rule["eventPattern"], rule["targets"], rule["description"]) == (
        "orders", ORDERS, ["hook"], "big orders")
    refused = cli("events", "delete-target", "hook")
    assert refused.returncode == 2 and "used by rule(s) orders" in refused.stderr
    ok(cli("events", "delete-rule", "orders"))
    assert "orders" not in ok(cli("events", "list-rules"))


@pytest.mark.parametrize("args, message", [
    (("put-rule", "--name", "r", "--pattern", '{"source": "x"}'),
     "at source: must be an object or an array"),
    (("put-rule", "--name", "bad name", "--pattern", ORDERS), "has ' ' at position 3"),
    (("put-target", "h", "--type", "webhook", "--url", "http://x", "--secret", "short"),
     "at least 16 characters"),
    (("put-events", "--source", "pipetrail.jobs", "--detail-type", "x"), "reserved"),
])
def test_bad_input_is_refused_with_exit_2(sqlite_cli: Cli, args: tuple[str, ...],
                                          message: str) -> None:
    cli = sqlite_cli
    result = cli("events", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_unknown_targets_are_not_found(sqlite_cli: Cli) -> None:
    result = sqlite_cli("events", "put-rule", "--name", "r", "--pattern", ORDERS,
                        "--target", "nope")
    assert result.returncode == 4 and "no target named 'nope'" in result.stderr


def test_put_events_delivers_to_the_matching_rules_at_once(cli: Cli,
                                                           receiver: WebhookReceiver) -> None:
    secret = webhook(cli, "hook", receiver.url)
    ok(cli("events", "put-rule", "--name", "big", "--pattern", ORDERS, "--target", "hook"))
    entries = [{"Source": "my.app", "DetailType": "Order", "Detail": json.dumps({"n": n})}
               for n in (3, 9)]
    result = json.loads(ok(cli("events", "put-events", "--entries", json.dumps(entries),
                               "--format", "json")))
    assert result["failedEntryCount"] == 0 and len(result["entries"]) == 2
    assert [d["outcome"] for d in result["deliveries"]] == ["delivered"]
    assert len(receiver.requests) == 1  # delivered before the command returned
    [request] = receiver.requests
    assert request.json["detail"] == {"n": 9}
    assert request.json["id"] == result["entries"][1]["eventId"]
    assert request.signature_valid(secret)


def test_queued_events_are_delivered_by_the_delivery_loop(sqlite_cli: Cli,
                                                          receiver: WebhookReceiver) -> None:
    cli = sqlite_cli
    webhook(cli, "hook", receiver.url)
    ok(cli("events", "put-rule", "--name", "all", "--pattern", '{"source": ["my.app"]}',
           "--target", "hook"))
    ok(cli("events", "put-events", "--source", "my.app", "--detail-type", "A", "--no-deliver"))
    assert receiver.requests == []
    out = ok(cli("events", "deliver"))
    assert out.startswith("delivered: hook (attempt 1)")
    assert len(receiver.wait_for(1)) == 1
    assert ok(cli("events", "deliver")) == ""  # nothing left


def test_dead_letters_are_listed_and_redriven(cli: Cli, receiver: WebhookReceiver) -> None:
    webhook(cli, "hook", receiver.url)
    ok(cli("events", "put-rule", "--name", "all", "--pattern", '{"source": ["my.app"]}',
           "--target", "hook"))
    receiver.statuses = [410]
    out = ok(cli("events", "put-events", "--source", "my.app", "--detail-type", "A"))
    assert "dead: hook (attempt 1): HTTP_410: webhook http://127.0.0.1" in out
    [letter] = json.loads(ok(cli("events", "dead-letters", "--format", "json")))
    assert (letter["target"], letter["errorCode"], letter["detailType"]) == ("hook", "HTTP_410",
                                                                            "A")
    out = ok(cli("events", "dead-letters", "--redrive", letter["id"]))
    assert "redriven: 1" in out and "delivered: hook (attempt 1)" in out
    assert len(receiver.wait_for(2)) == 2
    assert "(none)" in ok(cli("events", "dead-letters"))
