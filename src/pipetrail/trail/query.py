"""SQL over the trail (as CloudTrail Lake): one read-only DuckDB ``SELECT`` over a table
``events`` holding the archive's delivered log files and the store's events not read
from the archive, each event once.

How a query runs:

1. The statement must be one ``SELECT`` (DuckDB's parser says which kind it is);
   anything else (DDL, ``COPY``, ``ATTACH``, ``INSTALL``, ``PRAGMA``, ``SET`` …) is
   refused before anything is read.
2. The time window to read is the intersection of ``start``/``end`` (given by the
   caller) and of the window the statement itself sets, when it reads ``events`` once,
   in its outermost ``FROM``, and its ``WHERE`` holds ``AND``-ed comparisons of
   ``eventtime`` (``>``, ``>=``, ``<``, ``<=``, ``=``, ``BETWEEN``) with constant
   expressions (literals, casts, ``now()``, ``current_date``, intervals and
   arithmetic). Without a window every event is read.
3. The log files whose events may fall in the window are read through the archive
   interface (local folder or S3 alike), unpacked into a private temporary folder and
   loaded by DuckDB's ``read_json``; the events of the window the store holds outside
   those files (not delivered yet, or in files that are gone) are loaded from the
   store. An event already loaded from the archive is not loaded again (by eventID).
   Only the columns the statement names are loaded (all of them for a ``*``).
4. Then external access is switched off (``enable_external_access=false``), the
   configuration is locked, and the statement runs, with a time limit and a row cap.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipetrail.model.clock import iso_from_ms
from pipetrail.model.errors import ConfigError, ValidationError
from pipetrail.store import Store
from pipetrail.trail import files, sources
from pipetrail.trail.archive import Archive, ArchiveNotFound

MAX_STATEMENT_CHARS = 65_536
DEFAULT_MAX_ROWS = 1_000
MAX_ROWS = 100_000
DEFAULT_TIME_LIMIT = 60.0
MAX_TIME_LIMIT = 600.0
#: DuckDB's memory for one query; beyond it, it spills to the query's temporary folder.
MEMORY_LIMIT = "2GB"
#: At most this many uncompressed bytes of events are loaded for one query.
MAX_LOADED_BYTES = 8 * 1024**3
#: Unpacked log files are loaded (and deleted) in batches of about this size.
BATCH_BYTES = 256 * 1024**2

# The events table: (column, JSON key in the record, DuckDB type as read).
RECORD_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("eventid", "eventID", "VARCHAR"),
    ("eventtime", "eventTime", "TIMESTAMP"),
    ("eventversion", "eventVersion", "VARCHAR"),
    ("eventsource", "eventSource", "VARCHAR"),
    ("eventname", "eventName", "VARCHAR"),
    ("eventtype", "eventType", "VARCHAR"),
    ("eventcategory", "eventCategory", "VARCHAR"),
    ("managementevent", "managementEvent", "BOOLEAN"),
    ("readonly", "readOnly", "BOOLEAN"),
    ("awsregion", "awsRegion", "VARCHAR"),
    ("recipientaccountid", "recipientAccountId", "VARCHAR"),
    ("useridentity", "userIdentity", "JSON"),
    ("sourceipaddress", "sourceIPAddress", "VARCHAR"),
    ("useragent", "userAgent", "VARCHAR"),
    ("requestid", "requestID", "VARCHAR"),
    ("requestparameters", "requestParameters", "JSON"),
    ("responseelements", "responseElements", "JSON"),
    ("errorcode", "errorCode", "VARCHAR"),
    ("errormessage", "errorMessage", "VARCHAR"),
    ("resources", "resources", 'STRUCT(type VARCHAR, "ARN" VARCHAR)[]'),
    ("additionaleventdata", "additionalEventData", "JSON"),
    ("dataset", "dataset", "VARCHAR"),
    ("operation", "operation", "VARCHAR"),
    ("rows", "rows", "UBIGINT"),
    ("bytes", "bytes", "UBIGINT"),
    ("columns", "columns", "VARCHAR[]"),
    ("jobrunid", "jobRunId", "VARCHAR"),
)
# Columns derived from userIdentity.
IDENTITY_COLUMNS = (("username", "userName"), ("principalid", "principalId"),
                    ("identitytype", "type"), ("accesskeyid", "accessKeyId"))
COLUMNS = tuple(c for c, _, _ in RECORD_COLUMNS) + tuple(c for c, _ in IDENTITY_COLUMNS)

# Functions a time bound may use (deterministic within the query's transaction).
BOUND_FUNCTIONS = frozenset({
    "now", "current_timestamp", "get_current_timestamp", "transaction_timestamp",
    "today", "current_date", "to_years", "to_months", "to_weeks", "to_days", "to_hours",
    "to_minutes", "to_seconds", "to_milliseconds", "to_microseconds", "+", "-",
    "date_trunc", "make_timestamp", "to_timestamp", "epoch_ms", "strptime", "trunc",
})
LOWER = {"COMPARE_GREATERTHAN", "COMPARE_GREATERTHANOREQUALTO"}
UPPER = {"COMPARE_LESSTHAN", "COMPARE_LESSTHANOREQUALTO"}
FLIPPED = {"COMPARE_GREATERTHAN": "COMPARE_LESSTHAN",
           "COMPARE_GREATERTHANOREQUALTO": "COMPARE_LESSTHANOREQUALTO",
           "COMPARE_LESSTHAN": "COMPARE_GREATERTHAN",
           "COMPARE_LESSTHANOREQUALTO": "COMPARE_GREATERTHANOREQUALTO",
           "COMPARE_EQUAL": "COMPARE_EQUAL"}


class QueryError(ValidationError):
    """A statement that cannot run: not one SELECT, invalid, or refused by DuckDB."""

    code = "InvalidQueryStatementException"


class QueryLimitError(ValidationError):
    """A query that went over its time limit or would read too much."""

    code = "QueryLimitExceededException"


@dataclass
class QueryResult:
    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    statistics: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready objects (JSON columns parsed, times in ISO 8601)."""
        json_columns = {i for i, t in enumerate(self.types) if t == "JSON"}
        return [{c: plain(v, i in json_columns) for i, (c, v) in enumerate(
                    zip(self.columns, row, strict=True))} for row in self.rows]

    def to_record(self) -> dict[str, Any]:
        return {"columns": [{"name": c, "type": t} for c, t in
                            zip(self.columns, self.types, strict=True)],
                "rows": self.records(), "truncated": self.truncated,
                "statistics": self.statistics, "warnings": self.warnings}


def plain(value: Any, is_json: bool = False) -> Any:
    """A DuckDB value as JSON data."""
    if value is None:
        return None
    if is_json and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds") + "Z"
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def run_query(store: Store, archive: Archive, statement: str, *,
              max_rows: int = DEFAULT_MAX_ROWS, start: int | None = None,
              end: int | None = None, time_limit: float = DEFAULT_TIME_LIMIT,
              workdir: Path | None = None) -> QueryResult:
    """Run one SELECT over ``events`` (see the module's description)."""
    try:
        import duckdb
    except ImportError:
        raise ConfigError("trail query needs DuckDB: pip install 'pipetrail[query]'") from None

    if not statement.strip():
        raise QueryError("the query statement is empty")
    if len(statement) > MAX_STATEMENT_CHARS:
        raise QueryError(f"the query statement is {len(statement)} characters; the limit "
                         f"is {MAX_STATEMENT_CHARS}")
    if not 1 <= max_rows <= MAX_ROWS:
        raise ValidationError(f"max rows must be between 1 and {MAX_ROWS}")
    if not 0 < time_limit <= MAX_TIME_LIMIT:
        raise ValidationError(f"the time limit must be between 0 and {MAX_TIME_LIMIT:g} s")
    if start is not None and end is not None and start >= end:
        raise ValidationError("the start time must be before the end time")
    began = time.monotonic()
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = Path(tempfile.mkdtemp(prefix="pipetrail-query-", dir=workdir))
    con = duckdb.connect(":memory:", config={
        "memory_limit": MEMORY_LIMIT, "temp_directory": str(folder / "spill"),
        "autoinstall_known_extensions": "false", "autoload_known_extensions": "false",
        "preserve_insertion_order": "false"})
    try:
        with _deadline(con, began + time_limit):
            _check_statement(con, statement)
            con.execute("SET TimeZone = 'UTC'")
            con.execute("BEGIN TRANSACTION")  # now() is the same for bounds and the query
            tree = statement_tree(con, statement)
            bounds = statement_window(con, tree)
            window_start = _later(start, bounds[0])
            # eventtime is whole seconds: eventtime < E holds events up to E + 1 s (ms).
            window_end = _earlier(None if end is None else end + 1000, bounds[1])
            loader = _Loader(con, folder, began + time_limit)
            loader.create(start, end, statement_columns(tree))
            plan = sources.plan(store, window_start, window_end)
            loader.load(store, archive, plan)
            _lock_down(con)
            result = _execute(con, statement, max_rows)
    except duckdb.InterruptException:
        raise QueryLimitError(f"the query ran over its time limit of {time_limit:g} s: "
                              "narrow its time window") from None
    except duckdb.Error as exc:
        raise QueryError(_duckdb_message(exc)) from None
    finally:
        con.close()
        shutil.rmtree(folder, ignore_errors=True)
    result.warnings = loader.warnings
    result.statistics = {
        "resultsCount": len(result.rows),
        "eventsScanned": loader.events,
        "archiveFilesRead": loader.archive_files,
        "storeEventsRead": loader.store_events,
        "bytesScanned": loader.bytes,
        "startTime": None if window_start is None else iso_from_ms(window_start),
        "endTime": None if window_end is None else iso_from_ms(window_end),
        "executionTimeMs": round((time.monotonic() - began) * 1000),
    }
    return result


def _check_statement(con: Any, statement: str) -> None:
    import duckdb

    try:
        statements = con.extract_statements(statement)
    except duckdb.Error as exc:
        raise QueryError(_duckdb_message(exc)) from None
    if len(statements) != 1:
        raise QueryError(f"give exactly one SELECT statement, not {len(statements)}")
    if statements[0].type != duckdb.StatementType.SELECT:
        kind = statements[0].type.name
        if kind == "LOAD" and str(statements[0].query).lstrip().upper().startswith("INSTALL"):
            kind = "INSTALL"
        raise QueryError(f"only SELECT statements are allowed, not {kind}")


def _duckdb_message(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:1000] if text else type(exc).__name__


@contextlib.contextmanager
def _deadline(con: Any, deadline: float) -> Iterator[None]:
    """Interrupt DuckDB at ``deadline`` (loading also checks it between files)."""
    timer = threading.Timer(max(0.0, deadline - time.monotonic()), con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _lock_down(con: Any) -> None:
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _execute(con: Any, statement: str, max_rows: int) -> QueryResult:
    cursor = con.execute(statement)
    description = cursor.description or []
    rows = cursor.fetchmany(max_rows + 1)
    return QueryResult(columns=[d[0] for d in description],
                       types=[str(d[1]) for d in description],
                       rows=[tuple(r) for r in rows[:max_rows]],
                       truncated=len(rows) > max_rows)


# -- loading ---------------------------------------------------------------------------


def _read_options(keys: set[str] | None = None) -> str:
    columns = ", ".join(f"'{key}': '{kind}'" for _, key, kind in RECORD_COLUMNS
                        if keys is None or key in keys)
    return "columns = {" + columns + "}"


def _projection(columns: set[str] | None = None) -> str:
    parts = [f'"{key}" AS {column}' for column, key, _ in RECORD_COLUMNS
             if columns is None or column in columns]
    parts += [f"\"userIdentity\" ->> '{key}' AS {column}" for column, key in IDENTITY_COLUMNS
              if columns is None or column in columns]
    return ", ".join(parts)


def _ts(ms: int) -> str:
    return f"make_timestamp({int(ms) * 1000})"


@dataclass
class _Loader:
    con: Any
    folder: Path
    deadline: float
    warnings: list[str] = field(default_factory=list)
    events: int = 0
    archive_files: int = 0
    store_events: int = 0
    bytes: int = 0
    _filter: str = ""
    _columns: set[str] | None = None
    _keys: set[str] | None = None
    _batch: list[Path] = field(default_factory=list)
    _batch_bytes: int = 0
    _count: int = 0

    def create(self, start: int | None, end: int | None, columns: set[str] | None) -> None:
        """The table ``events`` with ``columns`` (None: all), loaded from events in
        ``[start, end)`` (either open)."""
        if columns is not None:
            columns = columns | {"eventid"}
            self._columns = columns
            self._keys = {key for column, key, _ in RECORD_COLUMNS if column in columns}
            self._keys |= {"eventID", "eventTime"}
            if any(column in columns for column, _ in IDENTITY_COLUMNS):
                self._keys.add("userIdentity")
        definition = ", ".join(
            [f"{column} {kind}" for column, _, kind in RECORD_COLUMNS
             if columns is None or column in columns]
            + [f"{column} VARCHAR" for column, _ in IDENTITY_COLUMNS
               if columns is None or column in columns])
        self.con.execute(f"CREATE TABLE events ({definition})")
        conditions = []
        if start is not None:
            conditions.append(f'"eventTime" >= {_ts(start)}')
        if end is not None:
            conditions.append(f'"eventTime" < {_ts(end)}')
        self._filter = " AND ".join(conditions)

    def load(self, store: Store, archive: Archive, plan: sources.Sources) -> None:
        for log_file in plan.files:
            self._check_time()
            try:
                data = sources.log_file_data(archive, log_file.log_key)
            except (ArchiveNotFound, files.FileFormatError) as exc:
                reason = ("is missing" if isinstance(exc, ArchiveNotFound)
                          else f"is unreadable ({exc})")
                self.warnings.append(f"log file {log_file.log_key} {reason}: its events were "
                                     "read from the store")
                plan.fall_back(log_file)
                continue
            # {"Records":[…]} → […]: DuckDB reads a top-level array fast.
            self._stage(memoryview(data)[len(files.OPEN) - 1:-1], "json")
            self.archive_files += 1
        self._flush("array", dedupe=False)
        for stretch in plan.stretches:
            self._check_time()
            lines = bytearray()
            for body in sources.store_bodies(store, stretch, plan.start, plan.end):
                lines += body
                lines += b"\n"
                self.store_events += 1
                if len(lines) >= BATCH_BYTES // 4:
                    self._stage(memoryview(lines), "ndjson")
                    lines = bytearray()
                    self._check_time()
            if lines:
                self._stage(memoryview(lines), "ndjson")
        self._flush("newline_delimited", dedupe=True)
        self.events = int(self.con.execute("SELECT count(*) FROM events").fetchone()[0])

    def _check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise QueryLimitError("the query ran over its time limit while reading events: "
                                  "narrow its time window")

    def _stage(self, data: memoryview, suffix: str) -> None:
        self.bytes += len(data)
        if self.bytes > MAX_LOADED_BYTES:
            raise QueryLimitError(
                f"the query would read more than {MAX_LOADED_BYTES // 1024**3} GiB of events: "
                "narrow its time window (a WHERE on eventtime, or a start and end time)")
        self._count += 1
        path = self.folder / f"part-{self._count:06d}.{suffix}"
        path.write_bytes(data)
        self._batch.append(path)
        self._batch_bytes += len(data)
        if self._batch_bytes >= BATCH_BYTES:
            self._flush("array" if suffix == "json" else "newline_delimited",
                        dedupe=suffix != "json")

    def _flush(self, form: str, dedupe: bool) -> None:
        if not self._batch:
            return
        names = ", ".join("'" + str(p).replace("'", "''") + "'" for p in self._batch)
        conditions = [self._filter] if self._filter else []
        if dedupe:
            conditions.append('NOT EXISTS (SELECT 1 FROM events e WHERE e.eventid = s."eventID")')
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        self.con.execute(
            f"INSERT INTO events SELECT {_projection(self._columns)} FROM read_json([{names}], "
            f"format = '{form}', {_read_options(self._keys)}) s{where}")
        for path in self._batch:
            path.unlink()
        self._batch, self._batch_bytes = [], 0


# -- the statement's own time window -----------------------------------------------------


def statement_tree(con: Any, statement: str) -> dict[str, Any] | None:
    """The statement's syntax tree (DuckDB's ``json_serialize_sql``), None if it has none."""
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [statement]).fetchone()[0])
    if not isinstance(tree, dict) or tree.get("error") or len(tree.get("statements", [])) != 1:
        return None
    return tree


def statement_columns(tree: dict[str, Any] | None) -> set[str] | None:
    """The columns of ``events`` the statement can read, or None for all of them (a
    ``*``, ``COLUMNS(…)``, a whole row, a natural join, a pivot, or no syntax tree)."""
    if tree is None:
        return None
    tables: set[str] = {"events"}
    _aliases(tree, tables)
    found: set[str] = set()
    if not _columns(tree, tables, found):
        return None
    return found


def _aliases(node: Any, into: set[str]) -> None:
    if isinstance(node, dict):
        if node.get("alias") and node.get("type") in {"BASE_TABLE", "SUBQUERY", "JOIN",
                                                        "TABLE_FUNCTION"}:
            into.add(str(node["alias"]).lower())
        for value in node.values():
            _aliases(value, into)
    elif isinstance(node, list):
        for value in node:
            _aliases(value, into)


def _columns(node: Any, tables: set[str], into: set[str]) -> bool:
    """Add the known columns ``node`` names to ``into``; False if it may read all."""
    if isinstance(node, list):
        return all(_columns(value, tables, into) for value in node)
    if not isinstance(node, dict):
        return True
    kind = node.get("class")
    if kind == "STAR" or node.get("type") in {"PIVOT", "UNPIVOT"}:
        return False
    if node.get("type") == "JOIN" and str(node.get("ref_type", "")).upper() == "NATURAL":
        return False
    if kind == "COLUMN_REF":
        path = [str(p).lower() for p in node.get("column_names", [])]
        if len(path) == 1 and path[0] in tables:
            return False  # a whole row as a struct
        into.update(p for p in path[:2] if p in COLUMNS)
    for name in node.get("using_columns") or []:
        if str(name).lower() in COLUMNS:
            into.add(str(name).lower())
    return all(_columns(value, tables, into) for value in node.values())


def statement_window(con: Any, tree: dict[str, Any] | None) -> tuple[int | None, int | None]:
    """``[start, end)`` (ms) that holds every ``events`` row the statement can see,
    from its ``WHERE`` on ``eventtime``; (None, None) when it cannot be told."""
    if tree is None:
        return None, None
    node = tree["statements"][0]["node"]
    if node.get("type") != "SELECT_NODE":
        return None, None
    source = node.get("from_table") or {}
    if (source.get("type") != "BASE_TABLE" or str(source.get("table_name")).lower() != "events"
            or source.get("schema_name") or source.get("catalog_name")
            or _count_tables(tree, "events") != 1):
        return None, None
    names = {"events", str(source.get("alias") or "").lower()} - {""}
    start: int | None = None
    end: int | None = None
    for condition in _conjuncts(node.get("where_clause")):
        for kind, expression in _bounds(condition, names):
            moment = _evaluate(con, expression)
            if moment is None:
                continue
            if kind in ("lower", "equal"):
                start = _later(start, moment)
            if kind in ("upper", "equal"):
                # eventtime is whole seconds: eventtime <= E holds events up to E + 1 s.
                end = _earlier(end, moment + 1000)
    return start, end


def _count_tables(tree: Any, name: str) -> int:
    if isinstance(tree, dict):
        own = int(tree.get("type") == "BASE_TABLE" and str(tree.get("table_name")).lower() == name)
        return own + sum(_count_tables(v, name) for v in tree.values())
    if isinstance(tree, list):
        return sum(_count_tables(v, name) for v in tree)
    return 0


def _conjuncts(node: Any) -> list[dict[str, Any]]:
    if not isinstance(node, dict):
        return []
    if node.get("type") == "CONJUNCTION_AND":
        return [c for child in node.get("children", []) for c in _conjuncts(child)]
    return [node]


def _is_eventtime(node: Any, names: set[str]) -> bool:
    if not isinstance(node, dict) or node.get("class") != "COLUMN_REF":
        return False
    path = [str(p).lower() for p in node.get("column_names", [])]
    return path == ["eventtime"] or (len(path) == 2 and path[0] in names
                                     and path[1] == "eventtime")


def _bounds(node: dict[str, Any], names: set[str]) -> list[tuple[str, dict[str, Any]]]:
    kind = node.get("type")
    if node.get("class") == "BETWEEN" and _is_eventtime(node.get("input"), names):
        return [("lower", node["lower"]), ("upper", node["upper"])]
    if node.get("class") != "COMPARISON" or kind not in FLIPPED:
        return []
    left, right = node.get("left"), node.get("right")
    if _is_eventtime(right, names):
        left, right, kind = right, left, FLIPPED[str(kind)]
    if not _is_eventtime(left, names) or not isinstance(right, dict):
        return []
    if kind in LOWER:
        return [("lower", right)]
    if kind in UPPER:
        return [("upper", right)]
    return [("equal", right)]


def _constant(node: Any) -> bool:
    """An expression of literals, casts and the allowed functions only."""
    if not isinstance(node, dict):
        return False
    kind = node.get("class")
    if kind == "CONSTANT":
        return True
    if kind == "CAST":
        return _constant(node.get("child"))
    if kind == "FUNCTION":
        return (str(node.get("function_name")).lower() in BOUND_FUNCTIONS
                and not node.get("filter") and not node.get("distinct")
                and all(_constant(a.get("expression")) for a in node.get("arguments", [])))
    return False


def _evaluate(con: Any, expression: dict[str, Any]) -> int | None:
    """The expression's value (ms), evaluated in the query's transaction."""
    import duckdb

    if not _constant(expression):
        return None
    template = json.loads(con.execute(
        "SELECT json_serialize_sql('SELECT CAST(NULL AS TIMESTAMP)')").fetchone()[0])
    cast = template["statements"][0]["node"]["select_list"][0]
    cast["child"] = expression
    try:
        sql = con.execute("SELECT json_deserialize_sql(?)", [json.dumps(template)]).fetchone()[0]
        value = con.execute(sql).fetchone()[0]
    except duckdb.Error:
        return None
    if not isinstance(value, dt.datetime):
        return None
    return int(value.replace(tzinfo=dt.UTC).timestamp() * 1000)


def _later(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _earlier(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)
