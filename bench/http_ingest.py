"""HTTP ingest through ``pipetrail server`` versus embedded ingest, on SQLite and PostgreSQL.

For each backend: the embedded rate (log events stored with ``Store.append_log_events``
in batches, as ``pipetrail run`` does without a server) is measured first; then one
``pipetrail server`` process is started and 1, 8 and 32 agents (threads of this process,
each with its own connection) post their run's records to ``/api/v1/runs/{id}/records``
as fast as the server answers, for a few seconds each. Prints events/s, the p50/p99
latency of a request, and the events/s as a ratio to the embedded rate of the same run.

    python bench/http_ingest.py [--seconds 4] [--events 1000] [--agents 1,8,32]

PostgreSQL is used when PIPETRAIL_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test) answers; each run uses a fresh schema.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson

from pipetrail.actions import access
from pipetrail.actions.context import ActionContext
from pipetrail.config import Settings
from pipetrail.model.logs import LogEvent
from pipetrail.store import Store, open_store

BATCH = 500  # events per batch, as the runner's batches are
POLICY = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
          '"Action": "jobs:PutJobRunRecords", "Resource": "*"}]}')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def backends() -> Iterator[tuple[str, Settings]]:
    with tempfile.TemporaryDirectory() as home:
        yield "SQLite", Settings(home=Path(home) / "sqlite")
    url = os.environ.get("PIPETRAIL_TEST_POSTGRES_URL",
                         "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            schema = "bench_" + secrets.token_hex(4)
            conn.execute(f"CREATE SCHEMA {schema}")
    except Exception as exc:
        print(f"(PostgreSQL skipped: {exc})")
        return
    try:
        with tempfile.TemporaryDirectory() as home:
            yield "PostgreSQL", Settings(home=Path(home),
                                         database_url=f"{url}?options=-csearch_path%3D{schema}")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def embedded_rate(store: Store, events: int, seconds: float) -> float:
    """Log events per second stored directly, in batches of BATCH."""
    stored = 0
    started = time.perf_counter()
    n = 0
    while time.perf_counter() - started < seconds:
        batch = [LogEvent("/pipetrail/jobs/output", "jr_embedded", 1_795_000_000_000 + i,
                          f"embedded line {n} {i} " + "x" * 60) for i in range(BATCH)]
        store.append_log_events(batch)
        stored += BATCH
        n += 1
    return stored / (time.perf_counter() - started)


class Agent(threading.Thread):
    def __init__(self, url: str, token: str, events: int, until: float) -> None:
        super().__init__(daemon=True)
        self.run_id = "jr_" + secrets.token_hex(32)
        self.client = httpx.Client(base_url=url, timeout=120, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        self.until = until
        lines = [orjson.dumps({"logGroupName": "/pipetrail/jobs/output",
                               "logStreamName": self.run_id, "timestamp": 1_795_000_000_000 + i,
                               "message": f"agent line {i} " + "x" * 60})
                 for i in range(BATCH)]
        self.batch_body = b'"logEvents":[' + b",".join(lines) + b"]}"
        self.per_request = max(1, events // BATCH)
        self.latencies: list[float] = []
        self.sent = 0
        self.errors = 0

    def body(self) -> bytes:
        batches = [b'{"batchId":"' + uuid.uuid4().hex.encode() + b'",' + self.batch_body
                   for _ in range(self.per_request)]
        return b'{"jobName":"bench","batches":[' + b",".join(batches) + b"]}"

    def run(self) -> None:
        while time.perf_counter() < self.until:
            body = self.body()
            started = time.perf_counter()
            answer = self.client.post(f"/api/v1/runs/{self.run_id}/records", content=body)
            self.latencies.append(time.perf_counter() - started)
            if answer.status_code == 200:
                self.sent += self.per_request * BATCH
            else:
                self.errors += 1
        self.client.close()


def http_rate(url: str, token: str, agents: int, events: int, seconds: float
              ) -> tuple[float, float, float, int]:
    until = time.perf_counter() + seconds
    started = time.perf_counter()
    crew = [Agent(url, token, events, until) for _ in range(agents)]
    for agent in crew:
        agent.start()
    for agent in crew:
        agent.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for a in crew for x in a.latencies)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return sum(a.sent for a in crew) / elapsed, p50, p99, sum(a.errors for a in crew)


def start_server(settings: Settings) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRAIL_")}
    env["PIPETRAIL_HOME"] = str(settings.home)
    if settings.database_url:
        env["PIPETRAIL_DATABASE_URL"] = settings.database_url
    proc = subprocess.Popen([sys.executable, "-m", "pipetrail.cli", "server", "--port",
                             str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return proc, url
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--events", type=int, default=1000, help="log events per request")
    parser.add_argument("--agents", default="1,8,32")
    args = parser.parse_args()
    crews = [int(n) for n in args.agents.split(",")]
    print(f"HTTP ingest: {args.events} log events per request ({BATCH} per batch), "
          f"{args.seconds:g} s per setting, one server process; machine: "
          f"{os.cpu_count()} cores")
    print(f"{'backend':<11} {'agents':>6} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'vs embedded':>11}")
    for name, settings in backends():
        store = open_store(settings)
        ctx = ActionContext.local(store, settings)
        access.create_principal(ctx, "bench", "ServiceAccount")
        access.put_policy(ctx, "bench", POLICY)
        access.attach_policy(ctx, "bench", "bench")
        token = access.create_token(ctx, "bench").text
        baseline = embedded_rate(store, args.events, args.seconds)
        print(f"{name:<11} {'-':>6} {baseline:>10,.0f} {'':>8} {'':>8} {'1.00':>11}"
              "  (embedded, no HTTP)")
        proc, url = start_server(settings)
        try:
            http_rate(url, token, 1, args.events, 1.0)  # warm-up
            for agents in crews:
                rate, p50, p99, errors = http_rate(url, token, agents, args.events,
                                                   args.seconds)
                note = f"  ({errors} failed requests)" if errors else ""
                print(f"{name:<11} {agents:>6} {rate:>10,.0f} {p50 * 1000:>8.1f} "
                      f"{p99 * 1000:>8.1f} {rate / baseline:>11.2f}{note}")
        finally:
            proc.terminate()
            proc.wait(30)
            store.close()


if __name__ == "__main__":
    main()
