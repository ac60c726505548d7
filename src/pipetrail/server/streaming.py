"""Server-sent events from a blocking iterator (the live tail of a run's logs).

The iterator runs in a thread of its own, which hands each item to the event loop; the
response sends it as an SSE event, and sends a comment every ``heartbeat`` seconds while
nothing happens, so that proxies keep the connection open. When the client goes away
the thread is told to stop (the live tail checks between polls); at most ``MAX_STREAMS``
streams run at once per server process.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import orjson
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from pipetrail.model.errors import PipetrailError, ThrottlingError

MAX_STREAMS = 256
HEARTBEAT_SECONDS = 15.0
_BUFFER = 512
_END = object()
_streams = threading.BoundedSemaphore(MAX_STREAMS)


class Slot:
    """One of the process's stream slots, released once however often it is released."""

    def __init__(self) -> None:
        if not _streams.acquire(blocking=False):
            raise ThrottlingError(f"this server already streams {MAX_STREAMS} live tails; "
                                  "try again later")
        self._lock = threading.Lock()
        self._held = True

    def release(self) -> None:
        with self._lock:
            if self._held:
                self._held = False
                _streams.release()


class SlotResponse(StreamingResponse):
    """A streaming answer that gives its slot back even if it never starts streaming
    (the client left before the first byte)."""

    def __init__(self, content: AsyncIterator[bytes], slot: Slot, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


async def sse(items: Iterator[Any], render: Callable[[Any], dict[str, Any]],
              stop: threading.Event, slot: Slot, heartbeat: float = HEARTBEAT_SECONDS
              ) -> AsyncIterator[bytes]:
    """SSE frames for ``items``; the stream's slot is released at the end."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    slots = threading.Semaphore(_BUFFER)

    def hand_over(item: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody listens
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def produce() -> None:
        try:
            for item in items:
                while not slots.acquire(timeout=0.5):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                hand_over(item)
            hand_over(_END)
        except PipetrailError as exc:
            hand_over(exc)
        except Exception as exc:  # reported to the client as an error event
            hand_over(exc)

    threading.Thread(target=produce, name="pipetrail-tail", daemon=True).start()
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), heartbeat)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if item is _END:
                yield b"event: end\ndata: {}\n\n"
                return
            if isinstance(item, Exception):
                code = item.code if isinstance(item, PipetrailError) else "InternalFailure"
                body = orjson.dumps({"code": code, "message": str(item)})
                yield b"event: error\ndata: " + body + b"\n\n"
                return
            slots.release()
            data = render(item)
            event_id = data.get("eventId")
            head = f"id: {event_id}\n".encode() if event_id is not None else b""
            yield head + b"event: log\ndata: " + orjson.dumps(data) + b"\n\n"
    finally:
        stop.set()
        slot.release()
