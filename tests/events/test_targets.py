"""Targets against real receivers on 127.0.0.1: signed webhooks, Slack-shaped payloads,
local commands; retries with backoff, dead letters and redrive.

These exercise the targets, so they run on SQLite only; the queue itself is tested on
both backends in ``test_delivery_queue.py``, and delivery end to end in
``test_cli_events.py`` and ``test_restart.py``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pipetrail.actions.context import ActionContext
from pipetrail.actions.events import list_dead_letters, put_target, redrive_dead_letters
from pipetrail.config import Settings
from pipetrail.events.delivery import Attempt, Backoff, Deliverer
from pipetrail.events.envelope import EventEnvelope
from pipetrail.events.notifier import Notifier
from pipetrail.events.settings import DeliverySettings
from pipetrail.events.targets.slack import slack_payload
from pipetrail.events.targets.webhook import sign, verify
from pipetrail.store.audit import AuditQuery
from pipetrail.store.events import DEAD, PENDING
from tests.events.receivers import WebhookReceiver

FAST = Backoff(base_ms=50, cap_ms=200)
SETTINGS = DeliverySettings(notify_timeout=8)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def event(**detail: Any) -> EventEnvelope:
    return EventEnvelope(source="my.app", detail_type="Order Placed",
                         detail=detail or {"orderId": 7})


def send(ctx: ActionContext, target: str, evt: EventEnvelope | None = None,
         settings: DeliverySettings = SETTINGS) -> list[Attempt]:
    """Publish straight to ``target`` and deliver synchronously; the attempts made."""
    notifier = Notifier(ctx.store, ctx.workspace, settings=settings,
                        deliverer=Deliverer(ctx.store, settings, FAST))
    try:
        notifier.publish(evt or event(), {target: "arn:test"})
    finally:
        notifier.close()
    return notifier.attempts


def test_webhook_requests_are_signed_over_timestamp_and_body(
        ctx: ActionContext, receiver: WebhookReceiver) -> None:
    _, secret = put_target(ctx, "hook", "webhook", {"url": receiver.url,
                                                    "headers": {"X-Team": "data"}})
    assert secret is not None and len(secret) == 64
    evt = event(orderId=7)
    [attempt] = send(ctx, "hook", evt)
    assert attempt.outcome == "delivered"
    [request] = receiver.wait_for(1)
    assert request.json == evt.to_json()
    assert request.signature_valid(secret)
    assert not request.signature_valid(secret + "x")
    assert abs(int(request.headers["x-pipetrail-timestamp"]) - time.time()) < 30
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-pipetrail-event-id"] == evt.id
    assert request.headers["x-pipetrail-delivery-id"] == attempt.delivery_id
    assert request.headers["x-pipetrail-attempt"] == "1"
    assert request.headers["x-team"] == "data"
    shown, _ = put_target(ctx, "hook", "webhook", {"url": receiver.url,
                                                   "headers": {"Authorization": "Bearer tok"}})
    assert shown["headers"] == {"Authorization": "(hidden)"}
    assert "Bearer tok" not in json.dumps(ctx.store.lookup_audit_events(
        AuditQuery(event_name="PutTarget")))
    assert ctx.store.list_deliveries(PENDING) == []


def test_verify_refuses_tampering_and_replays() -> None:
    body, now = b'{"id": "1"}', 1_800_000_000
    signature = sign("k" * 16, str(now), body)
    assert verify("k" * 16, str(now), body, signature, now=now + 10)
    assert not verify("k" * 16, str(now), body + b" ", signature, now=now)
    assert not verify("k" * 16, str(now + 1), body, signature, now=now)  # new timestamp
    assert not verify("k" * 16, str(now), body, signature, now=now + 301)  # too old
    assert not verify("j" * 16, str(now), body, signature, now=now)


def test_a_kept_secret_and_a_given_secret(ctx: ActionContext, receiver: WebhookReceiver
                                          ) -> None:
    _, first = put_target(ctx, "hook", "webhook", {"url": receiver.url})
    _, again = put_target(ctx, "hook", "webhook", {"url": receiver.url + "/v2"})
    assert again is None  # the secret it had is kept
    send(ctx, "hook")
    assert first is not None and receiver.wait_for(1)[0].signature_valid(first)
    assert receiver.wait_for(1)[0].path == "/hook/v2"
    put_target(ctx, "hook", "webhook", {"url": receiver.url}, secret="mine-0123456789abcdef")
    send(ctx, "hook")
    assert receiver.wait_for(2)[1].signature_valid("mine-0123456789abcdef")


def test_server_errors_are_retried_with_backoff_until_delivered(
        ctx: ActionContext, receiver: WebhookReceiver) -> None:
    put_target(ctx, "hook", "webhook", {"url": receiver.url})
    receiver.statuses = [503, 500, 429]
    attempts = send(ctx, "hook")
    assert [a.outcome for a in attempts] == ["retry", "retry", "retry", "delivered"]
    assert [a.code for a in attempts[:3]] == ["HTTP_503", "HTTP_500", "HTTP_429"]
    requests = receiver.wait_for(4)
    assert len({r.headers["x-pipetrail-delivery-id"] for r in requests}) == 1
    assert [r.headers["x-pipetrail-attempt"] for r in requests] == ["1", "2", "3", "4"]
    assert ctx.store.list_deliveries(PENDING) == []


def test_a_refusal_goes_to_the_dead_letters_at_once_and_can_be_redriven(
        ctx: ActionContext, receiver: WebhookReceiver) -> None:
    put_target(ctx, "hook", "webhook", {"url": receiver.url})
    receiver.statuses = [404]
    [attempt] = send(ctx, "hook")
    assert (attempt.outcome, attempt.code) == ("dead", "HTTP_404")
    [letter] = list_dead_letters(ctx)
    assert (letter["target"], letter["errorCode"], letter["attempts"]) == ("hook", "HTTP_404", 1)
    assert letter["event"]["detail-type"] == "Order Placed"
    result = redrive_dead_letters(ctx, [letter["id"]])
    assert result["redriven"] == [letter["id"]]
    assert [d["outcome"] for d in result["deliveries"]] == ["delivered"]
    assert len(receiver.wait_for(2)) == 2
    assert list_dead_letters(ctx) == []
    assert ctx.store.list_deliveries(PENDING) == []


def test_retries_stop_at_the_maximum_retry_attempts(ctx: ActionContext,
                                                    receiver: WebhookReceiver) -> None:
    put_target(ctx, "hook", "webhook", {"url": receiver.url,
                                        "retryPolicy": {"MaximumRetryAttempts": 1}})
    receiver.statuses = [503, 502, 200]
    attempts = send(ctx, "hook")
    assert [a.outcome for a in attempts] == ["retry", "dead"]
    assert len(receiver.requests) == 2
    [dead] = ctx.store.list_deliveries(DEAD)
    assert dead.error_code == "HTTP_502"
    assert "MaximumRetryAttempts (1) reached after 2 attempt(s)" in (dead.error_message or "")


def test_a_slow_receiver_times_out_and_is_retried(ctx: ActionContext,
                                                  receiver: WebhookReceiver) -> None:
    put_target(ctx, "hook", "webhook", {"url": receiver.url, "timeoutSeconds": 0.5})
    receiver.delay = 1.5
    started = time.monotonic()
    attempts = send(ctx, "hook", settings=DeliverySettings(notify_timeout=1.2))
    assert attempts[0].code == "TIMEOUT" and attempts[0].outcome == "retry"
    assert time.monotonic() - started < 4  # the flush bound holds
    [pending] = ctx.store.list_deliveries(PENDING)  # left for the delivery loop
    assert pending.error_code == "TIMEOUT"


def test_an_unreachable_receiver_is_retried(ctx: ActionContext,
                                            receiver: WebhookReceiver) -> None:
    url = receiver.url
    receiver.close()
    put_target(ctx, "hook", "webhook", {"url": url})
    attempts = send(ctx, "hook", settings=DeliverySettings(notify_timeout=0.5))
    assert attempts and {a.code for a in attempts} == {"CONNECTION_ERROR"}
    assert all(a.outcome == "retry" for a in attempts)


def test_slack_gets_text_and_blocks(ctx: ActionContext, receiver: WebhookReceiver) -> None:
    put_target(ctx, "chat", "slack", {"url": receiver.url + "/T000/B000/XXXX"})
    run_event = EventEnvelope(
        source="pipetrail.jobs", detail_type="Job Run State Change",
        detail={"jobName": "nightly", "jobRunId": "jr_1", "state": "FAILED",
                "severity": "ERROR", "message": "ValueError: x < 0 & y > 1",
                "executionTime": 4.2, "exitCode": 1})
    [attempt] = send(ctx, "chat", run_event)
    assert attempt.outcome == "delivered"
    [request] = receiver.wait_for(1)
    body = request.json
    assert body == slack_payload(run_event.to_json())
    assert body["text"] == (":rotating_light: Job nightly FAILED: "
                            "ValueError: x &lt; 0 &amp; y &gt; 1")
    kinds = [b["type"] for b in body["blocks"]]
    assert kinds == ["header", "section", "section", "context"]
    assert body["blocks"][0]["text"] == {"type": "plain_text", "text": "Job nightly FAILED",
                                         "emoji": True}
    fields = {f["text"] for f in body["blocks"][2]["fields"]}
    assert {"*Run*\njr_1", "*Exit code*\n1"} <= fields
    assert "x-pipetrail-signature" not in request.headers


def test_the_slack_url_is_a_secret(ctx: ActionContext, receiver: WebhookReceiver) -> None:
    shown, _ = put_target(ctx, "chat", "slack", {"url": receiver.url + "/T1/B1/SECRETTOKEN"})
    assert "SECRETTOKEN" not in json.dumps(shown)
    trail = ctx.store.lookup_audit_events(AuditQuery(event_name="PutTarget"))
    assert trail and "SECRETTOKEN" not in json.dumps(trail)


def command_target(ctx: ActionContext, tmp_path: Path, body: str, **config: Any) -> None:
    script = tmp_path / "notify.py"
    script.write_text(body)
    put_target(ctx, "cmd", "command", {"command": [sys.executable, str(script),
                                                   str(tmp_path / "out.json")], **config})


def test_a_command_gets_the_event_on_stdin(ctx: ActionContext, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPETRAIL_SMTP_PASSWORD", "hunter2")
    command_target(ctx, tmp_path,
                   "import json, os, sys\n"
                   "json.dump({'event': json.load(sys.stdin), 'env': dict(os.environ)},"
                   " open(sys.argv[1], 'w'))\n")
    evt = event(orderId=9)
    [attempt] = send(ctx, "cmd", evt)
    assert attempt.outcome == "delivered"
    written = json.loads((tmp_path / "out.json").read_text())
    assert written["event"] == evt.to_json()
    assert written["env"]["PIPETRAIL_EVENT_ID"] == evt.id
    assert written["env"]["PIPETRAIL_DELIVERY_ID"] == attempt.delivery_id
    assert "PIPETRAIL_SMTP_PASSWORD" not in written["env"]


def test_a_failing_command_is_retried_then_delivered(ctx: ActionContext, tmp_path: Path
                                                     ) -> None:
    command_target(ctx, tmp_path,
                   "import os, sys\n"
                   "if os.environ['PIPETRAIL_ATTEMPT'] == '1':\n"
                   "    sys.exit('disk full')\n"
                   "open(sys.argv[1], 'w').write(sys.stdin.read())\n")
    attempts = send(ctx, "cmd")
    assert [a.outcome for a in attempts] == ["retry", "delivered"]
    assert attempts[0].code == "COMMAND_FAILED"
    assert attempts[0].message is not None and "status 1: disk full" in attempts[0].message
    assert json.loads((tmp_path / "out.json").read_text())["source"] == "my.app"


def test_a_command_is_killed_at_its_timeout(ctx: ActionContext, tmp_path: Path) -> None:
    command_target(ctx, tmp_path,
                   "import subprocess, sys, time\n"
                   "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
                   "time.sleep(30)\n", timeoutSeconds=0.5)
    started = time.monotonic()
    attempts = send(ctx, "cmd", settings=DeliverySettings(notify_timeout=0.6))
    assert time.monotonic() - started < 5  # the child holding the pipe was killed too
    assert attempts[0].code == "TIMEOUT"
    assert "ran longer than 0.5 s" in (attempts[0].message or "")


def test_a_missing_program_is_a_dead_letter(ctx: ActionContext, tmp_path: Path) -> None:
    put_target(ctx, "cmd", "command", {"command": str(tmp_path / "no-such-program")})
    [attempt] = send(ctx, "cmd")
    assert (attempt.outcome, attempt.code) == ("dead", "NO_RESOURCE")


def test_a_deleted_target_is_a_dead_letter(ctx: ActionContext, receiver: WebhookReceiver
                                           ) -> None:
    [attempt] = send(ctx, "gone")
    assert (attempt.outcome, attempt.code) == ("dead", "NO_RESOURCE")
    assert attempt.message == "no target named 'gone'"
