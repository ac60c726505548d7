"""Polars: eager ``read_*``, ``DataFrame.write_*``, lazy ``scan_*`` + ``collect``, ``sink_*``.

Installed when the job imports Polars.

* Eager reads (``read_csv/parquet/json/ndjson/ipc/avro/database/database_uri``) record
  the result's rows and columns (``columns=`` narrows them); writes
  (``write_csv/parquet/json/ndjson/ipc/avro/database``) the frame's.
* A ``scan_*`` reads nothing by itself. When a ``LazyFrame`` is collected (or sunk), each
  scan in its optimised plan is recorded as a read with the columns the query actually
  reads after projection pushdown (``select("a")`` → ``["a"]``; a bare ``pl.len()`` →
  ``[]``), found through Polars' plan visitor. Rows read by a lazy scan are not known
  (null). Scans of a directory or glob are recorded against what the job passed.
* ``sink_*`` records the write (columns of the frame; rows null: a sink does not report
  them) and the reads of its scans.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from pipetrail.sdk import data
from pipetrail.sdk.capture.frames import FrameAccess
from pipetrail.sdk.capture.sql import query_uri, table_uri
from pipetrail.sdk.capture.wrapping import Access, argument, now_ms, patch
from pipetrail.sdk.datasets import dataset_uri, file_target, file_targets, local_path, size_of

LIBRARY = "polars"
FILE_READERS = {"read_csv": "csv", "read_parquet": "parquet", "read_json": "json",
                "read_ndjson": "ndjson", "read_ipc": "ipc", "read_avro": "avro"}
SCANS = {"scan_csv": "csv", "scan_parquet": "parquet", "scan_ndjson": "ndjson",
         "scan_ipc": "ipc"}
FILE_WRITERS = {"write_csv": "csv", "write_parquet": "parquet", "write_json": "json",
                "write_ndjson": "ndjson", "write_ipc": "ipc", "write_avro": "avro"}
SINKS = {"sink_csv": "csv", "sink_parquet": "parquet", "sink_ndjson": "ndjson",
         "sink_ipc": "ipc"}


def measure(frame: Any) -> tuple[int | None, list[str] | None]:
    if hasattr(frame, "height") and hasattr(frame, "columns"):
        return int(frame.height), [str(c) for c in frame.columns]
    return None, None


# -- lazy scans -----------------------------------------------------------------------

@dataclass
class _Sources:
    """What the job passed to ``scan_*``, to name a scan of many files after it."""

    uris: set[str] = field(default_factory=set)

    def name(self, uri: str) -> str:
        if uri in self.uris:
            return uri
        for source in self.uris:
            if uri.startswith(source.rstrip("/") + "/") or (
                    any(c in source for c in "*?[") and fnmatch.fnmatchcase(uri, source)):
                return source
        return uri


_sources = _Sources()


@dataclass(frozen=True)
class Scan:
    uri: str
    format: str | None
    columns: tuple[str, ...] | None
    files: int


def plan_scans(lazy_frame: Any) -> list[Scan]:
    """The scans of a LazyFrame's optimised plan, with the columns each one reads."""
    traverser = lazy_frame._ldf.visit()
    found: list[Scan] = []

    def walk() -> None:
        try:
            node = traverser.view_current_node()
        except NotImplementedError:  # an opaque node (map_batches): look below it
            node = None
        if type(node).__name__ == "Scan":
            paths = [str(p) for p in (node.paths or [])]
            names = list(dict.fromkeys(_sources.name(dataset_uri(p)) for p in paths))
            scan_type = node.scan_type
            fmt = str(scan_type[0]) if isinstance(scan_type, tuple) and scan_type else None
            columns = tuple(str(c) for c in traverser.get_schema())
            for name in names:
                found.append(Scan(name, fmt, columns, len(paths)))
        here = traverser.get_node()
        for child in traverser.get_inputs():
            traverser.set_node(child)
            walk()
        traverser.set_node(here)

    walk()
    return list(dict.fromkeys(found))  # a cached scan appears once per use


@dataclass
class LazyAccess:
    """A collect or sink: the reads of its scans, and the sink's write."""

    function: str
    scans: list[Scan]
    sink: str | None = None
    sink_format: str | None = None
    sink_columns: list[str] | None = None
    started: int = field(default_factory=now_ms)

    def succeeded(self, result: Any) -> None:
        self._send(None)

    def failed(self, error: Exception) -> None:
        self._send(error)

    def _send(self, error: Exception | None) -> None:
        duration = now_ms() - self.started
        for scan in self.scans:
            details: dict[str, Any] = {"durationMs": duration, "lazy": True}
            if scan.files > 1:
                details["files"] = scan.files
            data.send(scan.uri, "read", rows=None,
                      bytes=None if error else size_of(scan.uri),
                      columns=None if error else scan.columns, library=LIBRARY,
                      function=self.function, format=scan.format, error=error,
                      details=details, ts=self.started)
        if self.sink is not None:
            data.send(self.sink, "write", rows=None,
                      bytes=None if error else size_of(self.sink),
                      columns=None if error else self.sink_columns, library=LIBRARY,
                      function=self.function, format=self.sink_format, error=error,
                      details={"durationMs": duration, "rowsNote": "a sink does not "
                               "report the rows it writes"}, ts=self.started)


def _scan(function: str) -> Any:
    def plan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
        uris = file_targets(argument(args, kwargs, 0, "source"))
        _sources.uris.update(uris)
        return _ScanCall(uris, function, SCANS[function])
    return plan


@dataclass
class _ScanCall:
    """A ``scan_*`` call: recorded only if it fails (a missing file); its reads are
    recorded when the frame is collected."""

    uris: list[str]
    function: str
    format: str

    def succeeded(self, result: Any) -> None:
        return None

    def failed(self, error: Exception) -> None:
        for uri in self.uris:
            data.send(uri, "read", library=LIBRARY, function=self.function,
                      format=self.format, error=error)


@dataclass
class _UnresolvedCollect:
    """A collect whose plan could not be resolved (a scanned file is missing): if the
    collect fails too, the scans the error is about are recorded as failed reads."""

    function: str

    def succeeded(self, result: Any) -> None:
        return None

    def failed(self, error: Exception) -> None:
        message = str(error)
        for uri in sorted(_sources.uris):
            path = local_path(uri)
            named = path is not None and (path in message or os.path.relpath(path) in message)
            missing = path is not None and not any(c in path for c in "*?[") and (
                not os.path.exists(path))
            if named or missing:
                data.send(uri, "read", library=LIBRARY, function=self.function,
                          format=None, error=error, details={"lazy": True})


def _lazy_scans(function: str, frame: Any) -> list[Scan] | Access:
    try:
        return plan_scans(frame)
    except Exception:
        return _UnresolvedCollect(function)


def _collect(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
    if not _sources.uris or kwargs.get("background"):
        return None
    scans = _lazy_scans("collect", args[0])
    if not isinstance(scans, list):
        return scans
    return LazyAccess("collect", scans) if scans else None


def _sink(function: str) -> Any:
    def plan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
        if kwargs.get("lazy"):
            return None
        uri = file_target(argument(args, kwargs, 1, "path"))
        if uri is None:
            return None
        frame = args[0]
        scans = _lazy_scans(function, frame) if _sources.uris else []
        if not isinstance(scans, list):
            return scans
        columns = [str(c) for c in frame.collect_schema().names()]
        return LazyAccess(function, scans, sink=uri, sink_format=SINKS[function],
                          sink_columns=columns)
    return plan


# -- eager reads and writes -----------------------------------------------------------

def _file_reader(function: str) -> Any:
    def plan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
        uris = file_targets(argument(args, kwargs, 0, "source"))
        if not uris:
            return None
        return FrameAccess(uris, "read", LIBRARY, function, FILE_READERS[function], measure)
    return plan


def _database_reader(function: str) -> Any:
    def plan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
        con = argument(args, kwargs, 1, "uri" if function == "read_database_uri"
                       else "connection")
        uri, query = query_uri(con, argument(args, kwargs, 0, "query"))
        access = FrameAccess([uri], "read", LIBRARY, function, "sql", measure)
        if query:
            access.details["query"] = query
        if kwargs.get("iter_batches"):
            access.details["chunked"] = True
        return access
    return plan


def _file_writer(function: str) -> Any:
    def plan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
        uri = file_target(argument(args, kwargs, 1, "file"))
        if uri is None:
            return None
        return FrameAccess([uri], "write", LIBRARY, function, FILE_WRITERS[function],
                           measure, frame=args[0])
    return plan


def _database_writer(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
    table = str(argument(args, kwargs, 1, "table_name"))
    uri = table_uri(argument(args, kwargs, 2, "connection"), table)
    access = FrameAccess([uri], "write", LIBRARY, "write_database", "sql", measure,
                         frame=args[0])
    access.details["mode"] = str(kwargs.get("if_table_exists", "fail"))
    return access


def install(polars: ModuleType) -> None:
    for function in FILE_READERS:
        patch(polars, function, _file_reader(function))
    for function in ("read_database", "read_database_uri"):
        patch(polars, function, _database_reader(function))
    for function in SCANS:
        patch(polars, function, _scan(function))
    for function in FILE_WRITERS:
        patch(polars.DataFrame, function, _file_writer(function))
    patch(polars.DataFrame, "write_database", _database_writer)
    patch(polars.LazyFrame, "collect", _collect)
    for function in SINKS:
        patch(polars.LazyFrame, function, _sink(function))
