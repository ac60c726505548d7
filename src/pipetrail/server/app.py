"""The FastAPI application of ``pipetrail server``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from pipetrail import __version__
from pipetrail.access.authorizer import PolicyCache
from pipetrail.config import Settings
from pipetrail.server import errors
from pipetrail.server.leader import DEFAULT_LEASE_SECONDS, LeaderElector
from pipetrail.server.limits import BodyLimits
from pipetrail.server.routes import body_limits, routers
from pipetrail.server.state import ServerState
from pipetrail.server.telemetry import RequestTelemetry, Telemetry
from pipetrail.store import Store, open_store
from pipetrail.store.leases import holder_name

#: Largest request body of most routes; the ingest routes allow 8 MiB.
MAX_BODY_BYTES = 1024 * 1024

DESCRIPTION = """Every route needs an API token (`Authorization: Bearer pt_…`) and is
authorised by the caller's IAM-style policies for the action named in its summary
(`jobs:GetJobRun` …, see docs/access.md); every call is recorded in the audit trail.
Errors are `{"code", "message", "requestId"}`."""


def create_app(settings: Settings, *, store: Store | None = None,
               lease_seconds: float = DEFAULT_LEASE_SECONDS,
               instance_id: str | None = None) -> FastAPI:
    """The API application; it opens the store (unless given) when it starts and runs
    the leader election for the background evaluators while it runs."""
    holder = instance_id or holder_name()
    elector: list[LeaderElector] = []
    telemetry = Telemetry(lambda: bool(elector) and elector[0].is_leader)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = store if store is not None else open_store(settings)
        app.state.pipetrail = ServerState(settings, opened, PolicyCache(opened), telemetry,
                                          holder)
        leader = LeaderElector(opened, settings, holder, lease_seconds)
        elector.append(leader)
        leader.start()
        try:
            yield
        finally:
            leader.close()
            if store is None:
                opened.close()

    app = FastAPI(title="Pipetrail API", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    errors.install(app)
    for router in routers():
        app.include_router(router)
    app.add_middleware(BodyLimits, default=MAX_BODY_BYTES, special=body_limits())
    app.add_middleware(RequestTelemetry, telemetry=telemetry)
    return app
