"""The API's routes: one module per area, each exporting ``router`` (a FastAPI
``APIRouter``). Adding an area is one module here and one name in ``ROUTE_MODULES``.

A module that needs bodies over 1 MiB lists ``BODY_LIMITS = [(path regex, bytes)]``.
Every route takes ``ctx: Ctx`` (the authenticated caller's action context, see
``server/auth.py``) and calls one action, which authorises and records the call.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from fastapi import APIRouter

PREFIX = "/api/v1"

ROUTE_MODULES = (
    "system",
    "jobs",
    "logs",
    "metrics",
    "trail",
    "trail_archive",
    "access",
    "ingest",
    "lineage",
    "alarms",
    "events",
)


def routers() -> list[APIRouter]:
    found = []
    for name in ROUTE_MODULES:
        router = _module(name).router
        assert isinstance(router, APIRouter)
        found.append(router)
    return found


def body_limits() -> list[tuple[str, int]]:
    """The paths (regexes) whose bodies may be larger than the default, with limits."""
    return [limit for name in ROUTE_MODULES
            for limit in getattr(_module(name), "BODY_LIMITS", [])]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"pipetrail.server.routes.{name}")
