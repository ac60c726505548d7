"""Reading Spark event logs: one file or a rolling folder, any codec, line by line.

Spark writes an application's listener events as JSON lines, either to one file
(``<appId>[_<attemptId>][.<codec>][.inprogress]``) or, with rolling on (the default since
Spark 4), to a folder ``eventlog_v2_<appId>/`` holding parts ``events_<N>_<appId>[.<codec>]``
read in the order of ``N`` and a marker ``appstatus_<appId>[.inprogress]`` that tells
whether the application was still running. Compacted folders also hold an
``events_<N>_<appId>.compact`` part; reading starts at the newest one.

:func:`locate` works out the layout; :class:`EventLogReader` streams the events with
memory bounded by one line. A log that ends early or holds damaged lines is read as far as
it goes: the reader keeps warnings that name the first bad line and never raises for them.
Only input that is not a Spark event log at all (or a codec Pipetrail cannot read) raises
:class:`~pipetrail.model.errors.ValidationError`. With :class:`ReadLimits`, reading stops
after a time or a number of bytes; the stop is a warning, and the events read so far stand.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

import orjson

from pipetrail.model.errors import ValidationError
from pipetrail.spark.codecs import CODEC_NAMES, StreamState, decoder, sniff

INPROGRESS = ".inprogress"
#: Longest line read whole (Spark's largest events, plans and environments, are far below).
MAX_LINE = 128 << 20
ROLLING_PREFIX = "eventlog_v2_"
_PART = re.compile(r"^events_(\d+)_(.+?)(\.compact)?(?:\.([A-Za-z0-9]+))?$")
_EVENT_PREFIX = b'{"Event":"'


@dataclass(frozen=True)
class LogPart:
    """One file of an event log."""

    path: Path
    index: int = 0


@dataclass(frozen=True)
class EventLogLayout:
    """Where an application's events are: one file or the ordered parts of a folder."""

    path: Path
    kind: Literal["file", "rolling"]
    parts: tuple[LogPart, ...]
    in_progress: bool
    app_id: str | None = None


def locate(path: str | Path) -> EventLogLayout:
    """Find the parts of the event log at ``path`` (a file or a rolling folder)."""
    p = Path(path)
    if p.is_dir():
        return _locate_rolling(p)
    if p.is_file():
        name = p.name
        in_progress = name.endswith(INPROGRESS)
        stem = name[: -len(INPROGRESS)] if in_progress else name
        app_id = stem.split(".", 1)[0] or None
        return EventLogLayout(p, "file", (LogPart(p),), in_progress, app_id)
    raise ValidationError(f"{p}: no such event log file or folder")


def _locate_rolling(folder: Path) -> EventLogLayout:
    parts: list[tuple[int, bool, Path]] = []
    status: list[Path] = []
    app_ids: set[str] = set()
    for child in folder.iterdir():
        if child.name.startswith(".") or not child.is_file():
            continue
        if child.name.startswith("appstatus_"):
            status.append(child)
            continue
        match = _PART.match(child.name)
        if match:
            parts.append((int(match.group(1)), bool(match.group(3)), child))
            app_ids.add(match.group(2))
    if not parts:
        raise ValidationError(
            f"{folder}: not a Spark rolling event log folder (no events_<N>_<appId> files)")
    parts.sort(key=lambda item: (item[0], item[1]))
    compacts = [i for i, (_, compact, _) in enumerate(parts) if compact]
    if compacts:
        parts = parts[compacts[-1]:]
    app_id = (folder.name[len(ROLLING_PREFIX):] if folder.name.startswith(ROLLING_PREFIX)
              else (next(iter(app_ids)) if len(app_ids) == 1 else None))
    in_progress = not status or any(s.name.endswith(INPROGRESS) for s in status)
    layout = EventLogLayout(folder, "rolling", tuple(LogPart(p, n) for n, _, p in parts),
                            in_progress, app_id)
    return layout


@dataclass(frozen=True)
class ReadLimits:
    """Where reading stops early: after ``seconds`` of reading, or once ``max_bytes`` bytes
    of lines (decompressed) have been read. ``None`` sets no limit."""

    seconds: float | None = None
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.seconds is not None and self.seconds <= 0:
            raise ValueError("seconds must be positive (or None for no limit)")
        if self.max_bytes is not None and self.max_bytes <= 0:
            raise ValueError("max_bytes must be positive (or None for no limit)")


#: Limits are checked every this many lines (a time check per line would cost more).
_CHECK_EVERY = 1024


@dataclass
class ReadStats:
    """What the reader saw: counts and the problems it stepped over."""

    lines: int = 0
    bytes: int = 0
    events: int = 0
    skipped_lines: int = 0
    bad_lines: int = 0
    first_bad_line: str | None = None
    truncated: bool = False
    capped: str | None = None
    """Why reading stopped before the end (a :class:`ReadLimits` was reached), or None."""
    warnings: list[str] = field(default_factory=list)


class EventLogReader:
    """Streams the events of one event log, in order, one parsed JSON object at a time."""

    def __init__(self, layout: EventLogLayout, limits: ReadLimits | None = None) -> None:
        self.layout = layout
        self.limits = limits
        self.stats = ReadStats()
        self.codecs: list[str] = []
        self._validated = False
        self._part: LogPart | None = None
        self._number = 0

    def events(self, wanted: Collection[str] | None = None) -> Iterator[dict[str, Any]]:
        """Yield each event as a dict; lines of events not in ``wanted`` are not parsed."""
        wanted_bytes = None if wanted is None else frozenset(w.encode() for w in wanted)
        skip = wanted_bytes if self._validated else None  # parse everything until validated
        stats = self.stats
        limits = self.limits
        limited = limits is not None and (limits.seconds is not None
                                          or limits.max_bytes is not None)
        started = time.monotonic()
        for part in self.layout.parts:
            if limited and self._validated and self._over_limits(started, part, 0):
                break
            state = StreamState()
            try:
                fh = part.path.open("rb")
            except OSError as exc:
                raise ValidationError(f"{part.path}: cannot be read: {exc.strerror}") from exc
            with fh:
                stream = self._open_part(part, fh, state)
                self._part = part
                number = 0
                loads = orjson.loads
                capped = False
                for number, line in enumerate(stream, 1):
                    if limited and not number % _CHECK_EVERY and self._validated and \
                            self._over_limits(started, part, number):
                        capped = True
                        number -= 1  # this line was not read
                        break
                    stats.bytes += len(line)
                    if skip is not None and line[:10] == _EVENT_PREFIX:
                        end = line.find(b'"', 10)
                        if end > 0 and line[10:end] not in skip:
                            stats.skipped_lines += 1
                            continue
                    try:
                        event = loads(line)
                    except orjson.JSONDecodeError as exc:
                        if line.strip():
                            self._bad_line(part, number, line, f"not JSON ({exc})")
                        continue
                    if type(event) is not dict or type(event.get("Event")) is not str:
                        self._bad_line(part, number, line, "not a Spark listener event")
                        continue
                    if not self._validated:
                        self._validated = True
                        skip = wanted_bytes
                    stats.events += 1
                    self._number = number
                    yield event
                stats.lines += number
            if capped:
                break
            if state.problem:
                stats.truncated = stats.truncated or state.truncated
                stats.warnings.append(
                    f"{part.path.name}: {state.problem}; read {number} line(s) before it")
        if not self._validated:
            raise ValidationError(f"{self.layout.path}: not a Spark event log (no events in it)")
        if stats.bad_lines:
            stats.warnings.append(f"skipped {stats.bad_lines} unreadable line(s); "
                                  f"the first is {stats.first_bad_line}")

    def _over_limits(self, started: float, part: LogPart, number: int) -> bool:
        """True, with the reason kept in ``stats.capped``, once a limit is reached."""
        limits = self.limits
        assert limits is not None
        stats = self.stats
        elapsed = time.monotonic() - started
        if limits.seconds is not None and elapsed >= limits.seconds:
            reason = f"{limits.seconds:g} s"
        elif limits.max_bytes is not None and stats.bytes >= limits.max_bytes:
            reason = f"{limits.max_bytes:,} bytes"
        else:
            return False
        where = f"line {number} of {part.path.name}" if number else f"{part.path.name}"
        stats.capped = (f"reading stopped at {where} after {stats.bytes:,} bytes in "
                        f"{elapsed:.1f} s (limit {reason})")
        stats.warnings.append(f"{stats.capped}: figures cover the log up to there")
        return True

    def reject_current(self, reason: str) -> None:
        """Count the event last yielded as a bad line (it could not be used)."""
        if self._part is not None:
            self._bad_line(self._part, self._number, b"\n", reason)

    def _lines(self, part: LogPart, stream: BinaryIO) -> Iterator[bytes]:
        """Lines of ``stream``; one longer than :data:`MAX_LINE` is read through in pieces,
        counted as a bad line and replaced by an empty line."""
        read = stream.readline
        number = 0
        while True:
            line = read(MAX_LINE)
            if not line:
                return
            number += 1
            if len(line) == MAX_LINE and not line.endswith(b"\n"):
                while (rest := read(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass
                self._bad_line(part, number, b"\n",
                               f"longer than {MAX_LINE:,} bytes (skipped)")
                line = b"\n"
            yield line

    def _open_part(self, part: LogPart, fh: BinaryIO, state: StreamState) -> Iterator[bytes]:
        head = fh.read(8)
        fh.seek(0)
        codec = sniff(head)
        if codec is None:
            stripped = head.lstrip(b" \t\r\n")
            if head and (not stripped or stripped[:1] != b"{"):
                suffix = _name_codec(part.path.name)
                if suffix is not None and suffix.lower() not in ("json", "log", "txt"):
                    raise ValidationError(
                        f"{part.path}: unknown compression codec {suffix!r}; Pipetrail reads "
                        f"{', '.join(CODEC_NAMES)} and uncompressed event logs")
                raise ValidationError(
                    f"{part.path}: not a Spark event log (it starts with {head!r}, which is "
                    f"neither a JSON event nor a known codec)")
            return self._lines(part, fh)
        self.codecs.append(codec)
        raw = _ChunkStream(decoder(codec)(fh, state))
        return self._lines(part, io.BufferedReader(raw, buffer_size=1 << 16))

    def _bad_line(self, part: LogPart, number: int, line: bytes, reason: str) -> None:
        if not self._validated:
            raise ValidationError(
                f"{part.path}: not a Spark event log: line {number} is {reason}")
        stats = self.stats
        stats.bad_lines += 1
        if stats.first_bad_line is None:
            where = f"line {number} of {part.path.name}"
            if not line.endswith(b"\n"):
                stats.truncated = True
                reason = "cut off before its end (the log was not closed cleanly)"
            stats.first_bad_line = f"{where}: {reason}"


def _name_codec(name: str) -> str | None:
    if name.endswith(INPROGRESS):
        name = name[: -len(INPROGRESS)]
    base, dot, suffix = name.rpartition(".")
    return suffix if dot and base and suffix.isalnum() else None


class _ChunkStream(io.RawIOBase):
    """A readable raw stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
