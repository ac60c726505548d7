"""Errors as HTTP answers: ``{"code": ..., "message": ..., "requestId": ...}``.

| error | status |
|---|---|
| ValidationError, a malformed request | 400 |
| AuthenticationError (no, malformed, unknown, expired or revoked token) | 401 |
| AccessDeniedError | 403 |
| NotFoundError, ArchiveNotFound, an unknown route | 404 |
| a method the route does not have | 405 |
| ConflictError | 409 |
| a body over the route's limit | 413 |
| ThrottlingError (too many live tails at once) | 429 |
| StoreError, ArchiveError (the trail's archive refused or is unreachable) | 503 |
| anything else | 500 (``InternalFailure``, no details) |
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from pipetrail.model.errors import (
    AccessDeniedError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PipetrailError,
    StoreError,
    ThrottlingError,
    ValidationError,
)
from pipetrail.trail.archive import ArchiveError, ArchiveNotFound

log = logging.getLogger("pipetrail.server")

STATUS: list[tuple[type[PipetrailError], int]] = [
    (ValidationError, 400), (AuthenticationError, 401), (AccessDeniedError, 403),
    (NotFoundError, 404), (ConflictError, 409), (PayloadTooLargeError, 413),
    (ThrottlingError, 429), (StoreError, 503), (ArchiveNotFound, 404), (ArchiveError, 503),
]
HTTP_CODES = {400: "ValidationException", 401: "UnrecognizedClientException",
              403: "AccessDenied", 404: "NotFound", 405: "MethodNotAllowed",
              409: "Conflict", 413: "RequestEntityTooLargeException",
              415: "UnsupportedMediaType", 422: "ValidationException",
              429: "ThrottlingException"}


def error_response(request: Request, status: int, code: str, message: str) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    headers = {"WWW-Authenticate": 'Bearer realm="pipetrail"'} if status == 401 else None
    return JSONResponse({"code": code, "message": message, "requestId": request_id},
                        status_code=status, headers=headers)


def status_of(error: PipetrailError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 500


async def _pipetrail_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PipetrailError)
    status = status_of(exc)
    if status >= 500:
        log.error("request %s failed: %s", request.url.path, exc)
    return error_response(request, status, exc.code, str(exc))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(request, 400, "ValidationException", describe(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "HttpError")
    message = str(exc.detail)
    if exc.status_code == 413:
        message = "the request body is larger than this route accepts"
    return error_response(request, exc.status_code, code, message)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("request %s failed unexpectedly", request.url.path)
    return error_response(request, 500, "InternalFailure",
                          "the server failed unexpectedly; see its log")


def describe(errors: Any) -> str:
    """``query.maxResults: Input should be a valid integer`` for each problem."""
    parts = []
    for error in list(errors)[:10]:
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is not valid"


def install(app: FastAPI) -> None:
    app.add_exception_handler(PipetrailError, _pipetrail_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
