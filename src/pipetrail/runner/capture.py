"""Reads a job's stdout, stderr and side channel, echoes the output, splits it into lines.

One thread multiplexes every pipe with ``selectors``. Output is echoed to the runner's
own stdout/stderr byte for byte as it arrives, so the job looks as it would without
Pipetrail. Text is decoded as UTF-8 (invalid bytes become U+FFFD; NUL becomes U+FFFD
because PostgreSQL text cannot hold it). Lines are passed on whole (the ingest pipeline
splits one too long for a log event after redaction has seen it); only text that runs
past :data:`PENDING_CHARS` without a newline is passed on in pieces marked ``partial``,
so memory stays bounded.
"""

from __future__ import annotations

import codecs
import os
import selectors
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipetrail.model.logs import MAX_MESSAGE_BYTES

READ_SIZE = 65536
# Pending output without a newline is passed on as a partial piece past this many
# characters (about four log events' worth).
PENDING_CHARS = 4 * MAX_MESSAGE_BYTES
# A side-channel record (one JSON line) longer than this is dropped, and said so.
CHANNEL_RECORD_CHARS = 16 * 1024 * 1024

LineSink = Callable[[str, int, str, bool], None]
RecordSink = Callable[[dict[str, Any]], None]


@dataclass
class _Source:
    kind: str  # "output", "error" or "channel"
    echo_fd: int | None
    decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace"))
    pending: str = ""
    skipping: bool = False  # a side-channel record too long to keep: skip to its end
    open_piece: bool = False  # a partial piece was passed on; the line is not ended yet


class OutputPump(threading.Thread):
    """Pumps the job's pipes until every one reaches end of file (or ``stop``)."""

    def __init__(self, on_line: LineSink, on_record: RecordSink) -> None:
        super().__init__(name="pipetrail-output", daemon=True)
        self._selector = selectors.DefaultSelector()
        self._sources: dict[int, _Source] = {}
        self._on_line = on_line
        self._on_record = on_record
        self._stop_at: float | None = None

    def add(self, fd: int, kind: str, echo_fd: int | None = None) -> None:
        os.set_blocking(fd, False)
        self._sources[fd] = _Source(kind, echo_fd)
        self._selector.register(fd, selectors.EVENT_READ)

    def stop_after(self, seconds: float) -> None:
        """Stop reading ``seconds`` from now even if a pipe is still open (a leftover
        grandchild may hold it)."""
        self._stop_at = time.monotonic() + seconds

    def run(self) -> None:
        while self._sources:
            if self._stop_at is not None and time.monotonic() >= self._stop_at:
                break
            for key, _ in self._selector.select(timeout=0.1):
                self._read(key.fd)
        for fd in list(self._sources):
            self._close(fd)

    def _read(self, fd: int) -> None:
        source = self._sources[fd]
        try:
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close(fd)
            return
        if source.echo_fd is not None:
            _write_all(source.echo_fd, data)
        self._feed(source, source.decoder.decode(data))

    def _feed(self, source: _Source, text: str) -> None:
        now = time.time_ns() // 1_000_000
        text = source.pending + text
        lines = text.split("\n")
        source.pending = lines.pop()
        for line in lines:
            if source.skipping:
                source.skipping = False
                continue
            self._emit(source, now, line)
            source.open_piece = False
        if source.kind == "channel":
            if len(source.pending) > CHANNEL_RECORD_CHARS:
                source.pending = ""
                if not source.skipping:
                    source.skipping = True
                    self._on_line("error", now, "pipetrail: a logging record longer than "
                                  f"{CHANNEL_RECORD_CHARS} characters was not recorded", False)
        elif len(source.pending) > PENDING_CHARS:
            piece, source.pending = source.pending, ""
            self._emit(source, now, piece, whole=False)
            source.open_piece = True

    def _emit(self, source: _Source, ts: int, line: str, whole: bool = True) -> None:
        if source.kind == "channel":
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                # Not a record: plain text the job wrote there (faulthandler's stacks).
                self._on_record({"t": "text", "ts": ts, "text": line})
                return
            if isinstance(record, dict):
                self._on_record(record)
            return
        if line.endswith("\r") and whole:
            line = line[:-1]
        if "\x00" in line:
            line = line.replace("\x00", "\ufffd")
        self._on_line(source.kind, ts, line, not whole)

    def _close(self, fd: int) -> None:
        source = self._sources.pop(fd)
        self._selector.unregister(fd)
        os.close(fd)
        tail = source.pending + source.decoder.decode(b"", final=True)
        if tail or source.open_piece:  # an empty tail still ends a line passed on in pieces
            self._emit(source, time.time_ns() // 1_000_000, tail)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            time.sleep(0.001)
            continue
        except OSError:
            return  # the terminal went away; keep recording
        view = view[written:]
