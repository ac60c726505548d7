"""Metric datapoints of a run: GetMetricData."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from pipetrail.actions.metrics import get_run_metric_data
from pipetrail.server.auth import Ctx
from pipetrail.server.responses import ERRORS
from pipetrail.server.routes import PREFIX

router = APIRouter(prefix=PREFIX, tags=["metrics"], responses=ERRORS)


@router.get("/runs/{runId}/metrics", summary="GetMetricData: the datapoints of one metric")
def get_metric(
    ctx: Ctx,
    run_id: Annotated[str, Path(alias="runId", min_length=1, max_length=80)],
    metric_name: Annotated[str, Query(alias="metricName", min_length=1, max_length=255,
                                      description="e.g. process.memory.rss")],
) -> dict[str, Any]:
    datums = get_run_metric_data(ctx, run_id, metric_name)
    return {"datapoints": [datum.to_json() for datum in datums]}
