"""OpenLineage ingest: ``POST /api/v1/lineage`` (PutLineageEvent).

The endpoint OpenLineage's HTTP transport posts to by default, so Airflow, dbt and Spark
emitters (``transport: {type: http, url: <server>, auth: {type: api_key, apiKey:
<token>}}``) feed Pipetrail unchanged, gzip compression included. One event per
request, up to 8 MiB (32 MiB once decompressed).
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from pipetrail.actions.lineage import put_lineage_event
from pipetrail.model.errors import PayloadTooLargeError, ValidationError
from pipetrail.server.auth import Ctx
from pipetrail.server.responses import ERRORS
from pipetrail.server.routes import PREFIX

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_INFLATED_BYTES = 32 * 1024 * 1024
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
BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "example": EXAMPLE,
    "description": "An OpenLineage RunEvent, JobEvent or DatasetEvent "
                   "(Content-Encoding: gzip accepted)"}}}}


@router.post("/lineage", summary="PutLineageEvent: an OpenLineage run, job or dataset event",
             openapi_extra={"requestBody": BODY})
async def post_lineage(request: Request, ctx: Ctx) -> dict[str, Any]:
    body = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        body = inflate(body)
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the body is not JSON: {exc}") from None
    result: dict[str, Any] = await run_in_threadpool(put_lineage_event, ctx, event)
    return result


def inflate(body: bytes) -> bytes:
    """Decompress a gzip body, refusing one that inflates past MAX_INFLATED_BYTES."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise ValidationError(f"the body is not valid gzip: {exc}") from None
    if inflater.unconsumed_tail:
        raise PayloadTooLargeError(
            f"the body inflates to more than {MAX_INFLATED_BYTES} bytes")
    return data
