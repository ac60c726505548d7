"""The server's own figures for Prometheus, and the request id of every request.

Exported at ``GET /metrics`` (text exposition format) with the run counts by state:
``pipetrail_http_requests_total{method,route,status}``,
``pipetrail_http_request_duration_seconds{method,route}`` (histogram),
``pipetrail_server_leader`` (1 on the process running the evaluators),
``pipetrail_job_runs{state}``, and the process figures (``process_cpu_seconds_total``,
``process_resident_memory_bytes``, ``process_open_fds`` …).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REQUEST_ID_HEADER = b"x-request-id"


class Telemetry:
    def __init__(self, leader_check: Callable[[], bool] = lambda: False) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        self.leader_check = leader_check
        self.requests = Counter("pipetrail_http_requests", "HTTP requests answered.",
                                ["method", "route", "status"], registry=self.registry)
        self.durations = Histogram(
            "pipetrail_http_request_duration_seconds", "Time to answer HTTP requests.",
            ["method", "route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        leader = Gauge("pipetrail_server_leader",
                       "1 when this process runs the background evaluators.",
                       registry=self.registry)
        leader.set_function(lambda: 1.0 if self.leader_check() else 0.0)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def exposition(self, run_counts: dict[str, int]) -> bytes:
        runs = CollectorRegistry()
        runs.register(_RunCounts(run_counts))
        return generate_latest(self.registry) + generate_latest(runs)


class _RunCounts(Collector):
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def collect(self) -> Iterable[GaugeMetricFamily]:
        from pipetrail.model.runs import RunState

        family = GaugeMetricFamily("pipetrail_job_runs", "Job runs by state.",
                                   labels=["state"])
        for state in RunState:
            family.add_metric([state.value], float(self.counts.get(state.value, 0)))
        yield family


class RequestTelemetry:
    """ASGI middleware: a request id for every request (``X-Request-Id`` on the answer,
    ``requestID`` in the trail) and the request counters."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.telemetry.requests.labels(method, path, str(status)).inc()
            self.telemetry.durations.labels(method, path).observe(
                time.perf_counter() - started)
