"""Delivery survives a restart: a deliverer killed (SIGKILL) while its request is in
flight leaves the delivery queued, and the next deliverer sends it (at least once); with
nothing killed, two deliverers together send every event exactly once. Both backends."""

from __future__ import annotations

import json
import os
import signal
import time

from tests.conftest import Cli
from tests.events.receivers import WebhookReceiver


def ok(result: object) -> str:
    assert getattr(result, "returncode") == 0, getattr(result, "stderr")  # noqa: B009
    return str(getattr(result, "stdout"))  # noqa: B009


def setup_rule(cli: Cli, url: str) -> None:
    ok(cli("events", "put-target", "hook", "--type", "webhook", "--url", url,
           "--timeout", "30"))
    ok(cli("events", "put-rule", "--name", "all", "--pattern", '{"source": ["my.app"]}',
           "--target", "hook"))


def test_a_delivery_in_flight_when_its_deliverer_dies_is_delivered_after_a_restart(
        cli: Cli, receiver: WebhookReceiver) -> None:
    setup_rule(cli, receiver.url)
    ok(cli("events", "put-events", "--source", "my.app", "--detail-type", "A", "--no-deliver"))
    receiver.hold.set()  # the first request will hang until the deliverer is dead
    proc = cli.popen("events", "deliver", "--follow")
    try:
        receiver.wait_for(1, timeout=30)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    receiver.hold.clear()
    out = ok(cli("events", "deliver"))  # a new deliverer on this host frees the lease at once
    assert "delivered: hook (attempt 2)" in out
    first, second = receiver.wait_for(2)
    assert first.body == second.body
    assert first.headers["x-pipetrail-delivery-id"] == second.headers["x-pipetrail-delivery-id"]
    assert (first.headers["x-pipetrail-attempt"], second.headers["x-pipetrail-attempt"]) == (
        "1", "2")
    assert ok(cli("events", "deliver")) == ""
    assert "(none)" in ok(cli("events", "dead-letters"))


def test_two_deliverers_send_each_event_exactly_once(cli: Cli,
                                                     receiver: WebhookReceiver) -> None:
    setup_rule(cli, receiver.url)
    entries = [{"Source": "my.app", "DetailType": "A", "Detail": json.dumps({"n": n})}
               for n in range(10)]
    result = json.loads(ok(cli("events", "put-events", "--entries", json.dumps(entries),
                               "--no-deliver", "--format", "json")))
    ids = sorted(e["eventId"] for e in result["entries"])
    receiver.delay = 0.05
    procs = [cli.popen("events", "deliver", "--follow") for _ in range(2)]
    try:
        receiver.wait_for(10, timeout=60)
        time.sleep(1.5)  # room for a duplicate to show up
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        outputs = [proc.communicate(timeout=30)[0] for proc in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert sorted(r.json["id"] for r in receiver.requests) == ids
    assert sum(out.count("delivered: hook (attempt 1)") for out in outputs) == 10
