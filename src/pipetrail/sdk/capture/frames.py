"""Accesses of eager data frame libraries (pandas, Polars): one event per dataset.

A read records what came back: its rows and its columns, which honour ``usecols`` /
``columns=`` since only the columns read are in the result. A write records the frame's
rows and columns. Bytes are the size of the local file or directory (after a write; for
an append, what the write added); None for remote stores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipetrail.sdk import data
from pipetrail.sdk.capture.wrapping import now_ms
from pipetrail.sdk.datasets import size_of

# What a result tells: (rows, columns), either of them None when unknown.
Measure = Callable[[Any], tuple[int | None, list[str] | None]]


@dataclass
class FrameAccess:
    """A read or write of one or more datasets by a frame library."""

    uris: list[str]
    operation: str
    library: str
    function: str
    format: str | None
    measure: Measure
    frame: Any = None  # the frame written, for writes
    append: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    started: int = field(default_factory=now_ms)
    sizes_before: dict[str, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.append:
            self.sizes_before = {uri: size_of(uri) for uri in self.uris}

    def succeeded(self, result: Any) -> None:
        rows, columns = self.measure(self.frame if self.operation == "write" else result)
        single = len(self.uris) == 1
        if not single:
            self.details["totalRows"] = rows
        for uri in self.uris:
            size = size_of(uri)
            before = self.sizes_before.get(uri)
            if size is not None and before is not None:
                size = max(size - before, 0)
            self._send(uri, rows=rows if single else None, columns=columns, size=size)

    def failed(self, error: Exception) -> None:
        for uri in self.uris:
            self._send(uri, rows=None, columns=None, size=None, error=error)

    def _send(self, uri: str, *, rows: int | None, columns: list[str] | None,
              size: int | None, error: Exception | None = None) -> None:
        details = dict(self.details)
        details["durationMs"] = now_ms() - self.started
        if len(self.uris) > 1:
            details["sources"] = len(self.uris)
        data.send(uri, self.operation, rows=rows, bytes=size, columns=columns,
                  library=self.library, function=self.function, format=self.format,
                  error=error, details=details, ts=self.started)
