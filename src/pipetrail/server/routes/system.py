"""Health, readiness and the Prometheus export.

``/healthz`` and ``/readyz`` answer without a token (load balancers and orchestrators
probe them; they tell nothing but whether the process is up and its store reachable)
and are not part of the OpenAPI description. ``/metrics`` needs a token whose policies
allow ``metrics:GetServerMetrics`` (Prometheus sends it with
``authorization: {credentials: …}``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from pipetrail.actions.metrics import get_server_metrics
from pipetrail.model.errors import PipetrailError
from pipetrail.server.auth import Ctx
from pipetrail.server.responses import ERRORS
from pipetrail.server.state import server_state
from pipetrail.server.telemetry import CONTENT_TYPE

router = APIRouter(tags=["server"])


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    state = server_state(request)
    return JSONResponse({"status": "ok", "instance": state.instance_id,
                         "leader": state.is_leader()})


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    state = server_state(request)
    try:
        state.store.ping()
    except PipetrailError as exc:
        return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", summary="GetServerMetrics: Prometheus text exposition",
            response_class=PlainTextResponse, responses=ERRORS)
def metrics(request: Request, ctx: Ctx) -> Response:
    counts = get_server_metrics(ctx)
    body = server_state(request).telemetry.exposition(counts)
    return Response(body, media_type=CONTENT_TYPE)
