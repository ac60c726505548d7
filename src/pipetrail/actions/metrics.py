"""Metric actions: GetMetricData for a run, a run's metric summary, and the figures the
server exports to Prometheus (GetServerMetrics)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipetrail.actions.context import ActionContext
from pipetrail.model.arn import metric_arn
from pipetrail.model.audit import Resource
from pipetrail.model.metrics import JOBS_NAMESPACE, MetricDatum
from pipetrail.store import Store

SOURCE = "metrics"


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
