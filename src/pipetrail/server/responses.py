"""The documented error answers every API route may give (for the OpenAPI spec)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    code: str
    message: str
    requestId: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "ValidationException: the request is not valid"},
    401: {"model": ErrorBody, "description": "no valid API token"},
    403: {"model": ErrorBody, "description": "AccessDenied: no policy allows the action"},
    404: {"model": ErrorBody, "description": "the entity does not exist"},
    413: {"model": ErrorBody, "description": "the body is larger than the route's limit"},
    503: {"model": ErrorBody, "description": "the store is unavailable"},
}
