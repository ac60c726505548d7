"""Notifications without any server: a failing ``pipetrail run`` delivers its matching
rules' notifications before it exits, and an alarm breaching during a run notifies a
webhook while the job still runs. Both backends, real webhook receivers."""

from __future__ import annotations

import json
import time
from pathlib import Path

from pipetrail.store import open_store
from pipetrail.store.events import PENDING
from tests.conftest import Cli, ScriptFactory
from tests.events.receivers import WebhookReceiver

FAST = {"PIPETRAIL_SAMPLE_INTERVAL": "0.2"}
FAILED = ('{"source": ["pipetrail.jobs"], "detail-type": ["Job Run State Change"], '
          '"detail": {"state": ["FAILED", "TIMEOUT"]}}')


def ok(result: object) -> str:
    assert getattr(result, "returncode") == 0, getattr(result, "stderr")  # noqa: B009
    return str(getattr(result, "stdout"))  # noqa: B009


def test_a_failing_run_notifies_before_it_exits(cli: Cli, script: ScriptFactory,
                                                receiver: WebhookReceiver) -> None:
    ok(cli("events", "put-target", "hook", "--type", "webhook", "--url", receiver.url,
           "--secret", "0123456789abcdef-secret"))
    ok(cli("events", "put-rule", "--name", "failures", "--pattern", FAILED, "--target", "hook"))
    fine = cli("run", str(script("print('fine')")), "--job", "nightly", env=FAST)
    assert fine.returncode == 0 and receiver.requests == []  # SUCCEEDED: no match
    failing = cli("run", str(script("raise ValueError('bad row 7')")), "--job", "nightly",
                  env=FAST)
    assert failing.returncode == 1
    assert len(receiver.requests) == 1  # arrived before `pipetrail run` returned
    [request] = receiver.requests
    assert request.signature_valid("0123456789abcdef-secret")
    event = request.json
    assert (event["source"], event["detail-type"]) == ("pipetrail.jobs", "Job Run State Change")
    detail = event["detail"]
    assert (detail["jobName"], detail["state"], detail["severity"]) == ("nightly", "FAILED",
                                                                        "ERROR")
    assert detail["message"] == "ValueError: bad row 7"
    assert detail["exitCode"] == 1 and detail["jobRunId"].startswith("jr_")
    assert event["resources"] == [
        f"arn:pipetrail:jobs:local:job/nightly/run/{detail['jobRunId']}"]
    assert "(none)" in ok(cli("events", "dead-letters"))


def test_an_unreachable_target_does_not_hold_the_run_beyond_the_bound(
        sqlite_cli: Cli, script: ScriptFactory, receiver: WebhookReceiver) -> None:
    cli = sqlite_cli
    url = receiver.url
    receiver.close()
    ok(cli("events", "put-target", "hook", "--type", "webhook", "--url", url))
    ok(cli("events", "put-rule", "--name", "failures", "--pattern", FAILED, "--target", "hook"))
    started = time.monotonic()
    failing = cli("run", str(script("raise SystemExit(3)")), "--job", "nightly",
                  env={**FAST, "PIPETRAIL_NOTIFY_TIMEOUT": "1"})
    assert failing.returncode == 3
    assert time.monotonic() - started < 20
    store = open_store(cli.settings)
    try:
        [queued] = store.list_deliveries(PENDING)  # left for the delivery loop
    finally:
        store.close()
    assert (queued.target_name, queued.error_code) == ("hook", "CONNECTION_ERROR")
    assert queued.attempts >= 1


def test_an_alarm_breaching_during_a_run_notifies_while_it_runs(
        cli: Cli, script: ScriptFactory, receiver: WebhookReceiver, tmp_path: Path) -> None:
    ok(cli("events", "put-target", "oncall", "--type", "webhook", "--url", receiver.url))
    ok(cli("alarms", "put", "--name", "rows-rejected", "--namespace", "Pipetrail/Jobs",
           "--metric-name", "rows.rejected", "--dimension", "JobName=watched",
           # 5-second periods: a datum stored late (a loaded machine) still falls within
           # the evaluated range (3 periods); bench/alarm_notify.py times 1-second ones.
           "--statistic", "Maximum", "--period", "5", "--evaluation-periods", "1",
           "--threshold", "100", "--comparison-operator", "GreaterThanThreshold",
           "--treat-missing-data", "notBreaching",
           "--alarm-action", "arn:pipetrail:events:local:target/oncall"))
    release = tmp_path / "release"
    job = script("import pathlib, time\n"
                 f"release = pathlib.Path({str(release)!r})\n"
                 "deadline = time.time() + 60\n"
                 "while not release.exists() and time.time() < deadline:\n"
                 "    time.sleep(0.05)\n")
    proc = cli.popen("run", str(job), "--job", "watched", env=FAST)
    store = open_store(cli.settings)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = store.list_runs(job_name="watched")
            if runs and runs[0].state.value == "RUNNING":
                break
            time.sleep(0.1)
        ok(cli("metrics", "put", "--namespace", "Pipetrail/Jobs", "--name", "rows.rejected",
               "--value", "250", "--unit", "Count", "--dimension", "JobName=watched"))
        [request] = receiver.wait_for(1, timeout=30)
        assert proc.poll() is None  # the job is still running
    finally:
        release.touch()
        proc.communicate(timeout=60)
        store.close()
    assert proc.returncode == 0
    event = request.json
    assert (event["source"], event["detail-type"]) == ("pipetrail.alarms", "Alarm State Change")
    assert event["resources"] == ["arn:pipetrail:alarms:local:alarm/rows-rejected"]
    detail = event["detail"]
    assert detail["alarmName"] == "rows-rejected"
    # notBreaching: OK from the run's first complete period, unless the datum came first.
    assert detail["previousState"]["value"] in {"OK", "INSUFFICIENT_DATA"}
    assert detail["state"]["value"] == "ALARM"
    assert detail["state"]["reason"].startswith("Threshold Crossed: 1 out of the last 1 "
                                                "datapoints [250.0")
    metric = detail["configuration"]["metrics"][0]["metricStat"]
    assert metric == {"metric": {"namespace": "Pipetrail/Jobs", "name": "rows.rejected",
                                 "dimensions": {"JobName": "watched"}},
                      "period": 5, "stat": "Maximum"}
    history = json.loads(ok(cli("alarms", "history", "--name", "rows-rejected", "--format",
                                 "json")))
    actions = [h for h in history if h["HistoryItemType"] == "Action"]
    assert actions and actions[0]["HistorySummary"] == (
        "Successfully queued action arn:pipetrail:events:local:target/oncall")
