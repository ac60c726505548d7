"""OpenLineage ingest: ``POST /api/v1/lineage`` (PutLineageEvent).

The endpoint OpenLineage's HTTP transport posts to by default, so Airflow, dbt and Spark
emitters (``transport.type: http``, ``url: <server>``, ``auth: {type: api_key,
apiKey: <token>}``) feed Pipetrail unchanged. One event per request, up to 8 MiB.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from pipetrail.actions.lineage import put_lineage_event
from pipetrail.server.auth import Ctx
from pipetrail.server.responses import ERRORS
from pipetrail.server.routes import PREFIX

MAX_BODY_BYTES = 8 * 1024 * 1024
router = APIRouter(prefix=PREFIX, tags=["lineage"], responses=ERRORS)
BODY_LIMITS = [(f"{PREFIX}/lineage", MAX_BODY_BYTES)]

EXAMPLE = {
    "eventType": "COMPLETE", "eventTime": "2026-11-25T10:00:00Z",
    "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8"},
    "job": {"namespace": "airflow", "name": "nightly.load_orders"},
    "inputs": [{"namespace": "postgres://db:5432", "name": "shop.public.orders"}],
    "outputs": [{"namespace": "s3://lake", "name": "orders/2026-11-25",
                 "outputFacets": {"outputStatistics": {"rowCount": 1200, "size": 88000}}}],
    "producer": "https://example.com/producer",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
}


@router.post("/lineage", summary="PutLineageEvent: an OpenLineage run, job or dataset event")
def post_lineage(
    ctx: Ctx,
    event: dict[str, Any] = Body(examples=[EXAMPLE],  # noqa: B008
                                 description="An OpenLineage RunEvent, JobEvent or "
                                             "DatasetEvent"),
) -> dict[str, Any]:
    return put_lineage_event(ctx, event)
