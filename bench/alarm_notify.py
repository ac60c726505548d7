"""Time from a breaching metric datum to the webhook request arriving (benchmark (a)).

Run: ``python bench/alarm_notify.py [TRIALS]`` (default 25). A real ``pipetrail run``
(a job that waits) evaluates, as every run does, the alarms on its job: here one with a
1-second period (Maximum of ``rows.rejected`` > 100, one datapoint, missing data not
breaching) whose ``AlarmActions`` name a webhook target served by this script on
127.0.0.1. Each trial waits for the alarm to be back to OK, waits a random fraction of a
second (so datums fall anywhere in their period), puts one breaching datum
(PutMetricData, as an agent would) and measures until the signed request arrives.

Figures: p50 / p99 / max of that latency (target: p99 ≤ 2 s), and each as a ratio to a
baseline measured in the same run — the part no implementation can avoid: the wait until
the datum's 1-second period is complete (CloudWatch semantics evaluate whole periods
only) plus one bare HTTP POST to the same receiver.
"""

from __future__ import annotations

import http.server
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from pipetrail.actions.alarms import put_metric_alarm
from pipetrail.actions.context import ActionContext
from pipetrail.actions.events import put_target
from pipetrail.actions.metrics import put_metric_data
from pipetrail.config import Settings
from pipetrail.model.clock import now_ms
from pipetrail.model.metrics import MetricDatum
from pipetrail.store import open_store

TARGET_P99 = 2.0


class Receiver:
    """Webhook receiver: remembers when each alarm event arrived."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        self.cond = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                arrived = time.time()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if self.path == "/alarm":
                    with receiver.cond:
                        receiver.arrivals.append((arrived, json.loads(body)))
                        receiver.cond.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_after(self, since: float, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for arrived, event in self.arrivals:
                    if arrived >= since and event["detail"]["state"]["value"] == "ALARM":
                        return arrived
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out waiting for {what}")
        time.sleep(0.02)


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 25
    home = Path(tempfile.mkdtemp(prefix="pipetrail-bench-"))
    settings = Settings(home=home)
    store = open_store(settings)
    ctx = ActionContext.local(store, settings, component="bench")
    receiver = Receiver()
    put_target(ctx, "oncall", "webhook", {"url": receiver.base + "/alarm"})
    put_metric_alarm(ctx, {
        "AlarmName": "rows-rejected", "Namespace": "Bench", "MetricName": "rows.rejected",
        "Dimensions": [{"Name": "JobName", "Value": "bench"}], "Statistic": "Maximum",
        "Period": 1, "EvaluationPeriods": 1, "Threshold": 100.0,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "AlarmActions": ["arn:pipetrail:events:local:target/oncall"]})
    release = home / "release"
    job = home / "job.py"
    job.write_text("import pathlib, time\n"
                   f"release = pathlib.Path({str(release)!r})\n"
                   "while not release.exists():\n    time.sleep(0.1)\n")
    env = {**os.environ, "PIPETRAIL_HOME": str(home)}
    env.pop("PIPETRAIL_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "pipetrail.cli", "run", str(job), "--job",
                             "bench", "-q"], env=env)
    rng = random.Random(5)
    latencies: list[float] = []
    baselines: list[float] = []
    try:
        wait_for(lambda: store.get_alarm("rows-rejected").state_value == "OK", 60,
                 "the run's first evaluation")
        with httpx.Client() as client:
            for _ in range(trials):
                wait_for(lambda: store.get_alarm("rows-rejected").state_value == "OK", 10,
                         "the alarm to return to OK")
                time.sleep(rng.random())
                sent = time.time()
                put_metric_data(ctx, [MetricDatum("Bench", "rows.rejected", now_ms(), 250.0,
                                                  "Count", {"JobName": "bench"})])
                arrived = receiver.wait_after(sent, 15)
                if arrived is None:
                    raise SystemExit("bench: no notification within 15 s")
                latencies.append(arrived - sent)
                # Baseline: the rest of the datum's period, plus one bare POST.
                period_rest = 1.0 - sent % 1.0
                began = time.perf_counter()
                client.post(receiver.base + "/baseline", content=b"{}")
                baselines.append(period_rest + time.perf_counter() - began)
    finally:
        release.touch()
        proc.wait(60)
        store.close()
    p50, p99, worst = (percentile(latencies, 50), percentile(latencies, 99), max(latencies))
    b50, b99 = percentile(baselines, 50), percentile(baselines, 99)
    print(f"alarm notification latency over {trials} trials (1-second period, "
          "evaluated by the job's own run, webhook target):")
    print(f"  p50 {p50:.3f} s   p99 {p99:.3f} s   max {worst:.3f} s   "
          f"mean {statistics.fmean(latencies):.3f} s")
    print(f"  baseline (rest of the period + bare POST): p50 {b50:.3f} s   p99 {b99:.3f} s")
    print(f"  ratio to baseline: p50 {p50 / b50:.2f}x   p99 {p99 / b99:.2f}x")
    print(f"  target p99 <= {TARGET_P99:.1f} s: {'met' if p99 <= TARGET_P99 else 'NOT met'}")


if __name__ == "__main__":
    main()
