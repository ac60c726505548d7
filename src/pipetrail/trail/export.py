"""Exporting the trail as CloudTrail log files that CloudTrail tools can read.

The events of a time window (by ``eventTime``: ``start`` ≤ eventTime < ``end``) are
read once each, from the archive's delivered log files or from the store (see
:mod:`pipetrail.trail.sources`), shard by shard in chain order, and written as gzip
``{"Records": [...]}`` files of at most :data:`FILE_EVENTS` events, each record exactly
the bytes the trail holds. Files are laid out as CloudTrail lays them out in S3
(``PipetrailLogs/<workspace>/CloudTrail/local/YYYY/MM/DD/<workspace>_CloudTrail_local_
<YYYYMMDDTHHmmZ>_<unique>.json.gz``, dated by the file's oldest event), beside a
``manifest.json`` that lists every file with its event count, time span and SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from pipetrail.model.clock import iso_from_ms, now_ms
from pipetrail.model.errors import ValidationError
from pipetrail.store import Store
from pipetrail.trail import files, layout, sources
from pipetrail.trail.archive import Archive, ArchiveNotFound

FILE_EVENTS = 10_000
MANIFEST = "manifest.json"
MANIFEST_VERSION = "1"
FORMATS = ("cloudtrail",)


@dataclass
class ExportResult:
    out: Path
    export_id: str
    start: int | None
    end: int | None
    files: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0
    archive_files: int = 0
    store_events: int = 0
    warnings: list[str] = field(default_factory=list)

    def manifest(self, workspace: str, exported_at: int) -> dict[str, Any]:
        return {
            "manifestVersion": MANIFEST_VERSION,
            "format": "cloudtrail",
            "exportId": self.export_id,
            "exportTime": iso_from_ms(exported_at),
            "workspace": workspace,
            "startTime": None if self.start is None else iso_from_ms(self.start),
            "endTime": None if self.end is None else iso_from_ms(self.end),
            "eventCount": self.events,
            "sources": {"archiveLogFiles": self.archive_files, "storeEvents": self.store_events},
            "hashAlgorithm": files.HASH_ALGORITHM,
            "files": self.files,
            "warnings": self.warnings,
        }

    def summary(self) -> dict[str, Any]:
        return {"out": str(self.out), "exportId": self.export_id, "eventCount": self.events,
                "files": len(self.files), "manifest": str(self.out / MANIFEST),
                "warnings": self.warnings}


def check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ValidationError(f"{out} is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ValidationError(f"{out} is not empty: export into a new or empty directory, "
                              "or give --force to write into it")


def export_events(store: Store, archive: Archive, workspace: str, out: Path, *,
                  start: int | None = None, end: int | None = None, force: bool = False,
                  fmt: str = "cloudtrail") -> ExportResult:
    """Write the window's events under ``out`` (see the module's description)."""
    if fmt not in FORMATS:
        raise ValidationError(f"the export format must be one of {', '.join(FORMATS)}")
    if start is not None and end is not None and start >= end:
        raise ValidationError("the start time must be before the end time")
    check_out(out, force)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationError(f"cannot create {out}: {exc.strerror}") from None
    result = ExportResult(out, uuid.uuid4().hex, start, end)
    writer = _Writer(result, workspace)
    for body, event_time in _window_events(store, archive, result):
        if (start is None or event_time >= start) and (end is None or event_time < end):
            writer.add(body, event_time)
    writer.flush()
    manifest = orjson.dumps(result.manifest(workspace, now_ms()), option=orjson.OPT_INDENT_2)
    _write(out / MANIFEST, manifest + b"\n")
    return result


def _event_time(body: bytes) -> int:
    text = orjson.loads(body)["eventTime"]
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _window_events(store: Store, archive: Archive, result: ExportResult
                   ) -> Iterator[tuple[bytes, int]]:
    """(body, eventTime in ms) of every event that may be in the window, each once,
    shard by shard in chain order."""
    # eventTime is whole seconds: eventTime < end holds events up to end + 1 s (ms).
    plan = sources.plan(store, result.start, None if result.end is None else result.end + 1000)
    parts: list[tuple[str, int, Any]] = [(f.shard, f.first_seq, f) for f in plan.files]
    parts += [(s.shard, s.first, s) for s in plan.stretches]
    for _, _, part in sorted(parts, key=lambda p: (p[0], p[1])):
        if isinstance(part, sources.Stretch):
            yield from _from_store(store, plan, part, result)
            continue
        try:
            bodies = files.split_records(sources.log_file_data(archive, part.log_key))
        except (ArchiveNotFound, files.FileFormatError) as exc:
            reason = "is missing" if isinstance(exc, ArchiveNotFound) else f"is unreadable ({exc})"
            result.warnings.append(f"log file {part.log_key} {reason}: its events were "
                                   "read from the store")
            yield from _from_store(store, plan, sources.Stretch(
                part.shard, part.first_seq, part.last_seq), result)
            continue
        result.archive_files += 1
        for body in bodies:
            yield body, _event_time(body)


def _from_store(store: Store, plan: sources.Sources, stretch: sources.Stretch,
                result: ExportResult) -> Iterator[tuple[bytes, int]]:
    for body in sources.store_bodies(store, stretch, plan.start, plan.end):
        result.store_events += 1
        yield body, _event_time(body)


@dataclass
class _Writer:
    result: ExportResult
    workspace: str
    bodies: list[bytes] = field(default_factory=list)
    oldest: int | None = None
    newest: int | None = None

    def add(self, body: bytes, event_time: int) -> None:
        self.bodies.append(body)
        self.oldest = event_time if self.oldest is None else min(self.oldest, event_time)
        self.newest = event_time if self.newest is None else max(self.newest, event_time)
        if len(self.bodies) >= FILE_EVENTS:
            self.flush()

    def flush(self) -> None:
        if not self.bodies or self.oldest is None or self.newest is None:
            return
        number = len(self.result.files) + 1
        key = layout.log_file_key(self.workspace, f"export-{self.result.export_id}", number,
                                  self.oldest)
        data = files.log_file_bytes(self.bodies)
        packed = files.compress(data)
        _write(self.result.out / key, packed)
        self.result.files.append({
            "key": key, "eventCount": len(self.bodies),
            "oldestEventTime": iso_from_ms(self.oldest),
            "newestEventTime": iso_from_ms(self.newest),
            "hashValue": files.sha256_hex(data),
            "fileHashValue": hashlib.sha256(packed).hexdigest(),
        })
        self.result.events += len(self.bodies)
        self.bodies, self.oldest, self.newest = [], None, None


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        raise ValidationError(f"cannot write {path}: {exc.strerror}") from None
