"""Request body limits, answered as JSON errors (413).

Bodies may hold at most ``default`` bytes (1 MiB), except on the paths route modules
list in their ``BODY_LIMITS`` (``[(path regex, bytes)]``; the ingest routes allow
8 MiB). A request whose ``Content-Length`` is over its limit is refused before its body
is read; a body sent without a length is counted as it arrives and refused when it
passes the limit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipetrail.model.errors import PayloadTooLargeError


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than this route accepts "
                              f"({limit} bytes)")


class BodyLimits:
    def __init__(self, app: ASGIApp, default: int,
                 special: Sequence[tuple[str, int]] = ()) -> None:
        self.app = app
        self.default = default
        self.special = [(re.compile(pattern), limit) for pattern, limit in special]

    def limit_for(self, path: str) -> int:
        for pattern, limit in self.special:
            if pattern.fullmatch(path):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        length = _content_length(scope)
        if length is not None and length > limit:
            await _refuse(scope, receive, send, length, limit)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, length: int,
                  limit: int) -> None:
    from fastapi import Request

    from pipetrail.server.errors import error_response

    error = PayloadTooLargeError(f"the request body has {length} bytes; this route "
                                 f"accepts at most {limit}")
    response = error_response(Request(scope), 413, error.code, str(error))
    await response(scope, receive, send)
