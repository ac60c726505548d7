"""Data events from inside a job: which dataset was read or written, with rows, bytes
and columns.

The automatic capture (:mod:`pipetrail.sdk.capture`) and the explicit call
:func:`record_data_access` both end in :func:`send`, which puts one
``{"t": "data", ...}`` record on the side channel; the runner turns it into a
``ReadDataset``/``WriteDataset``/``DeleteDataset`` audit event. Nothing here ever
raises into the job: outside ``pipetrail run`` (no channel) everything is a no-op.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from pipetrail.sdk import channel as side_channel
from pipetrail.sdk.datasets import dataset_uri

OPERATIONS = ("read", "write", "delete")
MAX_ERROR_MESSAGE = 1024

_local = threading.local()


def capturing() -> bool:
    """True while this thread is inside a captured call: calls a captured function
    makes on its own (``read_parquet`` calling ``scan_parquet``) are not recorded again."""
    return getattr(_local, "depth", 0) > 0


@contextlib.contextmanager
def captured_call() -> Iterator[None]:
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1


def error_fields(error: BaseException) -> dict[str, str]:
    """``errorCode`` (the exception's class, with Spark's error condition when it has one)
    and ``errorMessage`` of a failed access."""
    code = type(error).__name__
    condition = None
    for attribute in ("getCondition", "getErrorClass"):
        getter = getattr(error, attribute, None)
        if callable(getter):
            with contextlib.suppress(Exception):
                condition = getter()
            if condition:
                break
    if isinstance(condition, str) and condition:
        code = f"{code}.{condition}"
    message = str(error).strip().splitlines()[0] if str(error).strip() else code
    return {"errorCode": code[:128], "errorMessage": message[:MAX_ERROR_MESSAGE]}


def column_names(columns: Any) -> list[str] | None:
    if columns is None:
        return None
    try:
        return [str(c) for c in columns]
    except TypeError:
        return None


def send(dataset: str, operation: str, *, rows: int | None = None,
         bytes: int | None = None, columns: Sequence[Any] | None = None,
         library: str | None = None, function: str | None = None,
         format: str | None = None, error: BaseException | tuple[str, str] | None = None,
         details: dict[str, Any] | None = None, ts: int | None = None) -> None:
    """Send one data event to the runner; does nothing outside ``pipetrail run`` and
    never raises. ``error`` is the exception of a failed access, or its
    ``(errorCode, errorMessage)``."""
    channel = side_channel.active()
    if channel is None or channel.broken:
        return
    try:
        record: dict[str, Any] = {
            "t": "data", "ts": ts if ts is not None else time.time_ns() // 1_000_000,
            "dataset": dataset, "operation": operation,
            "rows": _count(rows), "bytes": _count(bytes), "columns": column_names(columns),
        }
        for key, value in (("library", library), ("function", function),
                           ("format", format)):
            if value:
                record[key] = value
        if library:
            version = _library_version(library)
            if version:
                record["libraryVersion"] = version
        if isinstance(error, tuple):
            record["errorCode"], record["errorMessage"] = error
        elif error is not None:
            record.update(error_fields(error))
        if details:
            record["details"] = details
        line = side_channel.Channel.encode(record)
        if len(line) > side_channel.MAX_LINE_CHARS:
            count = len(record["columns"] or ())
            record["columns"] = None
            record.setdefault("details", {})["columnsOmitted"] = count
            line = side_channel.Channel.encode(record)
        channel.write_line(line)
    except Exception:  # recording must never break the job
        return


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _library_version(library: str) -> str | None:
    import sys

    module = sys.modules.get(library)
    version = getattr(module, "__version__", None)
    return version if isinstance(version, str) else None


def record_data_access(dataset: str | os.PathLike[str], operation: str,
                       rows: int | None = None, bytes: int | None = None,
                       columns: Sequence[str] | None = None) -> None:
    """Record that the job read, wrote or deleted ``dataset``.

    For data the automatic capture does not see (a REST API, a library of its own, a
    file written by a subprocess). ``dataset`` is a path (recorded as its ``file://``
    URI) or a URI; ``operation`` is ``"read"``, ``"write"`` or ``"delete"``. Outside
    ``pipetrail run`` this does nothing. It never raises: arguments it cannot use give
    a :class:`RuntimeWarning` and nothing is recorded.
    """
    try:
        if operation not in OPERATIONS:
            raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}, "
                             f"not {operation!r}")
        if not isinstance(dataset, (str, os.PathLike)) or not os.fspath(dataset):
            raise ValueError(f"dataset must be a non-empty path or URI, not {dataset!r}")
        for name, value in (("rows", rows), ("bytes", bytes)):
            if value is not None and _count(value) is None:
                raise ValueError(f"{name} must be a non-negative integer or None, "
                                 f"not {value!r}")
        if isinstance(columns, str):
            raise ValueError("columns must be a list of column names, not one string")
        uri = dataset_uri(dataset)
    except Exception as exc:
        with contextlib.suppress(Exception):
            warnings.warn(f"pipetrail: data access not recorded: {exc}", RuntimeWarning,
                          stacklevel=2)
        return
    send(uri, operation, rows=rows, bytes=bytes, columns=columns, library=None,
         function="record_data_access")
