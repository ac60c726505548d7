"""PySpark: reads and writes recorded from the queries Spark actually executes.

Installed when the job imports ``pyspark.sql``. A ``DataFrameReader`` call reads nothing
yet (Spark is lazy): which columns are read, and how many rows, is only known when an
action runs the query. So each classic ``SparkSession`` gets a
``QueryExecutionListener`` (through PySpark's py4j callback server), and every query it
reports (``collect``, ``count``, ``show``, ``toPandas``, writes, SQL statements) is
turned into data events from its executed plan (see
:mod:`pipetrail.sdk.capture.spark_plan`): ``spark.read.parquet(p).select("a").collect()``
records a read of ``p`` with columns ``["a"]``.

The ``DataFrameReader``/``DataFrameWriter`` methods are wrapped as well:

* a reader or writer call that fails (a missing path, a table that does not exist, an
  output that exists already) is recorded with its error code, from the call's own
  arguments;
* queries Spark runs *inside* a reader call (schema inference of CSV/JSON) are not
  recorded as reads of the data;
* listener events arrive asynchronously: they are waited for after each writer call,
  before ``SparkSession.stop()``/``SparkContext.stop()`` and at exit, so none is lost.

If the listener cannot be registered, reads are recorded at the reader call (columns and
rows unknown) and writes at the writer call (rows unknown), each with a note saying so.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import sys
import threading
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from pipetrail.sdk import data
from pipetrail.sdk.capture.spark_plan import PlanReader, table_uri
from pipetrail.sdk.capture.wrapping import Access, argument, now_ms, patch
from pipetrail.sdk.datasets import file_targets, jdbc_location, sql_uri

LIBRARY = "pyspark"
READERS = ("load", "csv", "json", "parquet", "orc", "text", "xml", "table", "jdbc")
WRITERS = ("save", "csv", "json", "parquet", "orc", "text", "xml", "saveAsTable",
           "insertInto", "jdbc")
FILE_FORMATS = ("csv", "json", "parquet", "orc", "text", "xml", "jdbc")
FLUSH_TIMEOUT_MS = 30_000
NO_LISTENER = "the Spark query listener is unavailable: columns and rows are not known"


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sessions: dict[str, Any] = field(default_factory=dict)  # session UUID → listener
    listening: bool = False
    reading: int = 0  # reader calls in progress: their queries are schema inference
    failures: int = 0  # failed queries the listener recorded
    # The table a saveAsTable/insertInto call in progress writes: its file write is
    # recorded against the table, not the table's folder.
    write_table: str | None = None
    seen_caches: set[int] = field(default_factory=set)
    exit_hook: bool = False


_state = _State()


# -- the listener ---------------------------------------------------------------------

class QueryListener:
    """Spark calls this (on its listener thread, through py4j) after each query."""

    def onSuccess(self, func_name: str, qe: Any, duration_ns: int) -> None:
        with contextlib.suppress(Exception):
            _record_query(func_name, qe, duration_ns, None)

    def onFailure(self, func_name: str, qe: Any, exception: Any) -> None:
        with contextlib.suppress(Exception):
            _record_query(func_name, qe, None, exception)

    class Java:
        implements = ["org.apache.spark.sql.util.QueryExecutionListener"]


def _record_query(func_name: str, qe: Any, duration_ns: int | None, exception: Any) -> None:
    if _state.reading:
        return
    error: tuple[str, str] | None = None
    if exception is not None:
        kind = str(exception.getClass().getName())
        if kind.endswith(("AnalysisException", "ParseException")):
            return  # nothing was read or written; the reader/writer call records it
        error = _java_error(exception)
    context = _spark_context()
    if context is None:
        return
    accesses = PlanReader(context._jvm, _state.seen_caches).read(qe.executedPlan())
    ended = now_ms()
    duration = duration_ns // 1_000_000 if duration_ns is not None else None
    table = _state.write_table
    writes = [a for a in accesses if a.operation == "write"]
    if table is not None and len(writes) == 1 and not writes[0].uri.startswith("sql:"):
        writes[0].details["location"] = writes[0].uri
        writes[0].uri = table
    for access in accesses:
        details = {"action": func_name, **access.details}
        if duration is not None:
            details["durationMs"] = duration
        data.send(access.uri, access.operation,
                  rows=None if error else access.rows,
                  bytes=None if error else access.bytes,
                  columns=access.columns, library=LIBRARY, function=func_name,
                  format=access.format, error=error, details=details,
                  ts=ended - duration if duration is not None else ended)
    if error is not None and accesses:
        with _state.lock:
            _state.failures += 1


def _java_error(exception: Any) -> tuple[str, str]:
    code = str(exception.getClass().getSimpleName())
    with contextlib.suppress(Exception):
        condition = exception.getCondition()
        if condition:
            code = f"{code}.{condition}"
    message = ""
    with contextlib.suppress(Exception):
        message = str(exception.getMessage() or "").strip().splitlines()[0]
    return code[:128], (message or code)[:data.MAX_ERROR_MESSAGE]


def _spark_context() -> Any:
    pyspark = sys.modules.get("pyspark")
    context = getattr(getattr(pyspark, "SparkContext", None), "_active_spark_context", None)
    return context if context is not None and getattr(context, "_jsc", None) else None


def flush() -> None:
    """Wait until Spark has delivered every pending query to the listener."""
    if not _state.listening:
        return
    context = _spark_context()
    if context is None:
        return
    with contextlib.suppress(Exception):
        context._jsc.sc().listenerBus().waitUntilEmpty(FLUSH_TIMEOUT_MS)


def _attach(session: Any) -> None:
    """Register the listener on a new classic SparkSession (once per session)."""
    jsession = getattr(session, "_jsparkSession", None)
    if jsession is None:
        return
    uuid = str(jsession.sessionUUID())
    if uuid in _state.sessions:
        return
    gateway: Any = importlib.import_module("pyspark.java_gateway")
    gateway.ensure_callback_server_started(session._sc._gateway)
    listener = QueryListener()
    jsession.listenerManager().register(listener)
    _state.sessions[uuid] = listener
    _state.listening = True
    if not _state.exit_hook:
        # Registered after PySpark's own exit hook, so it runs first (while the JVM is up).
        atexit.register(flush)
        _state.exit_hook = True


def _session_init(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
    return _AfterCall(lambda: _attach(args[0]))


def _before_stop(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
    flush()
    return None


@dataclass
class _AfterCall:
    action: Any

    def succeeded(self, result: Any) -> None:
        self.action()

    def failed(self, error: Exception) -> None:
        return None


# -- readers and writers --------------------------------------------------------------

def _current_table_uri(spark: Any, name: str) -> str:
    catalog, database = "spark_catalog", "default"
    with contextlib.suppress(Exception):
        catalog = str(spark.catalog.currentCatalog())
        database = str(spark.catalog.currentDatabase())
    return table_uri(name, catalog, database)


def _jdbc_table_uri(url: Any, table: Any) -> list[str]:
    if not isinstance(url, str) or not isinstance(table, str):
        return []
    dialect, location = jdbc_location(url)
    return [sql_uri(dialect, location, table)]


def _reader_targets(function: str, spark: Any, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> list[str]:
    if function == "table":
        name = argument(args, kwargs, 1, "tableName")
        return [_current_table_uri(spark, name)] if isinstance(name, str) else []
    if function == "jdbc":
        return _jdbc_table_uri(argument(args, kwargs, 1, "url"),
                               argument(args, kwargs, 2, "table"))
    if function == "load":
        return file_targets(argument(args, kwargs, 1, "path"))
    paths = list(args[1:]) if function == "parquet" else [argument(args, kwargs, 1, "path")]
    return [uri for p in paths for uri in file_targets(p)]


def _writer_targets(function: str, spark: Any, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> list[str]:
    if function in ("saveAsTable", "insertInto"):
        name = argument(args, kwargs, 1, "name" if function == "saveAsTable" else "tableName")
        return [_current_table_uri(spark, name)] if isinstance(name, str) else []
    if function == "jdbc":
        return _jdbc_table_uri(argument(args, kwargs, 1, "url"),
                               argument(args, kwargs, 2, "table"))
    return file_targets(argument(args, kwargs, 1, "path"))


@dataclass
class _SparkCall:
    """A reader or writer call."""

    function: str
    operation: str
    uris: list[str]
    columns: Any = None  # a callable giving the written frame's columns
    started: int = field(default_factory=now_ms)
    failures_before: int = 0

    def __post_init__(self) -> None:
        flush()  # earlier queries are delivered before this call's own
        self.failures_before = _state.failures
        if self.operation == "read":
            with _state.lock:
                _state.reading += 1
        elif self.function in ("saveAsTable", "insertInto") and len(self.uris) == 1:
            _state.write_table = self.uris[0]

    def _done(self) -> None:
        flush()
        if self.operation == "read":
            with _state.lock:
                _state.reading -= 1
        else:
            _state.write_table = None

    def succeeded(self, result: Any) -> None:
        self._done()
        if _state.listening:
            return
        columns = None
        if self.operation == "write" and self.columns is not None:
            with contextlib.suppress(Exception):
                columns = self.columns()
        for uri in self.uris:
            data.send(uri, self.operation, columns=columns, library=LIBRARY,
                      function=self.function, format=self.format,
                      details={"note": NO_LISTENER}, ts=self.started)

    def failed(self, error: Exception) -> None:
        self._done()
        if self.operation == "write" and _state.failures != self.failures_before:
            return  # the failed query was recorded by the listener
        for uri in self.uris:
            data.send(uri, self.operation, library=LIBRARY, function=self.function,
                      format=self.format, error=error,
                      details={"durationMs": now_ms() - self.started}, ts=self.started)

    @property
    def format(self) -> str | None:
        return self.function if self.function in FILE_FORMATS else None


def _reader(function: str) -> Any:
    def plan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
        spark = getattr(args[0], "_spark", None)
        return _SparkCall(function, "read", _reader_targets(function, spark, args, kwargs))
    return plan


def _writer(function: str) -> Any:
    def plan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
        writer = args[0]
        frame: Any = getattr(writer, "_df", None)
        spark = getattr(frame, "sparkSession", None)
        return _SparkCall(function, "write", _writer_targets(function, spark, args, kwargs),
                          columns=lambda: list(frame.columns))
    return plan


def install(sql: ModuleType) -> None:
    """Wrap the classic SparkSession, DataFrameReader and DataFrameWriter."""
    pyspark: Any = importlib.import_module("pyspark")
    session = sql.SparkSession
    patch(session, "__init__", _session_init)
    patch(session, "stop", _before_stop)
    patch(pyspark.SparkContext, "stop", _before_stop)
    for function in READERS:
        patch(sql.DataFrameReader, function, _reader(function))
    for function in WRITERS:
        patch(sql.DataFrameWriter, function, _writer(function))
