"""Metric actions: GetMetricData for a run, a run's metric summary, and the figures the
server exports to Prometheus (GetServerMetrics)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipetrail.actions.context import ActionContext
from pipetrail.metrics.prometheus import exposition
from pipetrail.metrics.statistics import (
    Datapoint,
    get_statistics,
    parse_statistics,
    validate_period,
    validate_range,
)
from pipetrail.model.arn import metric_arn
from pipetrail.model.audit import Resource
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import ValidationError
from pipetrail.model.metrics import JOBS_NAMESPACE, MetricDatum
from pipetrail.store import Store

SOURCE = "metrics"
MAX_PUT = 1000
PROMETHEUS_WINDOW = 300


@dataclass(frozen=True)
class MetricSummary:
    name: str
    unit: str
    count: int
    minimum: float
    maximum: float
    average: float
    last: float

    def to_json(self) -> dict[str, Any]:
        return {"metricName": self.name, "unit": self.unit, "sampleCount": self.count,
                "minimum": self.minimum, "maximum": self.maximum,
                "average": round(self.average, 4), "last": self.last}


def summarise(datums: list[MetricDatum]) -> list[MetricSummary]:
    by_name: dict[str, list[MetricDatum]] = {}
    for datum in datums:
        by_name.setdefault(datum.name, []).append(datum)
    summaries = []
    for name, series in sorted(by_name.items()):
        values = [d.value for d in series]
        summaries.append(MetricSummary(
            name=name, unit=series[-1].unit, count=len(values), minimum=min(values),
            maximum=max(values), average=sum(values) / len(values), last=values[-1]))
    return summaries


def run_metric_summary(store: Store, run_id: str) -> list[MetricSummary]:
    return summarise(store.get_run_metrics(run_id))


def put_metric_data(ctx: ActionContext, datums: Sequence[MetricDatum]) -> int:
    """PutMetricData: store datums (at most 1,000 per call, as CloudWatch)."""
    params: dict[str, Any] = {
        "namespace": sorted({d.namespace for d in datums}),
        "metricData": [d.to_json() for d in datums[:20]], "count": len(datums),
    }
    with ctx.call(SOURCE, "PutMetricData", read_only=False, params=params) as call:
        if not 1 <= len(datums) <= MAX_PUT:
            raise ValidationError(f"give 1 to {MAX_PUT} datums per call")
        for datum in datums:
            if datum.namespace.startswith("AWS/"):
                raise ValidationError("namespaces starting with 'AWS/' are reserved")
        ctx.store.put_metric_data(datums)
        call.resources = [Resource("Pipetrail::Metrics::Metric",
                                   metric_arn(ctx.workspace, d.namespace, d.name))
                          for d in {(d.namespace, d.name): d for d in datums}.values()]
        call.response = {"stored": len(datums)}
        return len(datums)


def get_metric_statistics(ctx: ActionContext, namespace: str, name: str,
                          dimensions: dict[str, str], start: int, end: int, period: int,
                          statistics: Sequence[str], unit: str | None = None
                          ) -> list[Datapoint]:
    """GetMetricStatistics: per-period statistics of one metric (exact dimensions)."""
    params = {"namespace": namespace, "metricName": name, "dimensions": dimensions,
              "startTime": start, "endTime": end, "period": period,
              "statistics": list(statistics), "unit": unit}
    with ctx.call(SOURCE, "GetMetricStatistics", read_only=True, params=params) as call:
        call.resources = [Resource("Pipetrail::Metrics::Metric",
                                   metric_arn(ctx.workspace, namespace, name))]
        validate_period(period)
        validate_range(start, end, period)
        parse_statistics(statistics)
        datums = ctx.store.get_metric_series(namespace, name, dimensions, start, end)
        return get_statistics(datums, start=start, end=end, period=period,
                              statistics=statistics, unit=unit)


def prometheus_text(ctx: ActionContext, window_seconds: int = PROMETHEUS_WINDOW) -> str:
    """GetMetricsExposition: the latest value of every series seen in the window, in
    Prometheus text format."""
    with ctx.call(SOURCE, "GetMetricsExposition", read_only=True,
                  params={"windowSeconds": window_seconds}):
        if not 1 <= window_seconds <= 86_400:
            raise ValidationError("the window must be 1 to 86400 seconds")
        latest = ctx.store.latest_metric_values(now_ms() - window_seconds * 1000)
        return exposition(latest)


def get_run_metric_data(ctx: ActionContext, run_id: str, name: str) -> list[MetricDatum]:
    """GetMetricData: the datapoints of one metric of a run."""
    params = {"jobRunId": run_id, "metricName": name}
    resources = [Resource("Pipetrail::Metrics::Metric",
                          metric_arn(ctx.workspace, JOBS_NAMESPACE, name))]
    with ctx.call(SOURCE, "GetMetricData", read_only=True, params=params,
                  resources=resources) as call:
        run = ctx.store.get_run(run_id)
        call.run_id = run.run_id
        return ctx.store.get_run_metrics(run.run_id, name)


def get_server_metrics(ctx: ActionContext) -> dict[str, int]:
    """GetServerMetrics: how many runs are in each state (for the Prometheus export)."""
    with ctx.call(SOURCE, "GetServerMetrics", read_only=True):
        return ctx.store.count_runs_by_state()
