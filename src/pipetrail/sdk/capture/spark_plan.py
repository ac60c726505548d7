"""What an executed Spark query read and wrote, from its physical plan (through py4j).

Given the ``QueryExecution`` Spark hands to a ``QueryExecutionListener``, the plan is
walked (through adaptive-execution stages, command results and subqueries) and gives:

* a read per file scan (``FileSourceScanExec``): its root path, or its catalog table;
  the columns the scan *actually reads* (its output after column pruning: what a
  ``select`` or an aggregate needs, not the file's whole schema); the rows it returned
  (``numOutputRows``) and the size of the files it selected (``filesSize``);
* a read per JDBC scan (``RowDataSourceScanExec`` over a JDBC relation);
* a write per file write (``InsertIntoHadoopFsRelationCommand``: ``save``, ``parquet``,
  ``saveAsTable``, ``insertInto``, SQL ``INSERT``) with the rows, bytes and files the
  command's metrics report, and per ``SaveIntoDataSourceCommand`` (JDBC and other V1
  sources; no row count is reported there);
* a delete per ``DROP TABLE`` (``DropTableExec``, or ``DropTableCommand``).

A cached relation (``cache()``/``persist()``) is followed the first time a query finds
it filled, so the scan that filled the cache is recorded once and later reads served
from memory are not recorded again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pipetrail.sdk.datasets import dataset_uri, jdbc_location, sql_uri

SEPARATOR = "\x1f"


@dataclass
class SparkAccess:
    uri: str
    operation: str
    columns: list[str] | None = None
    rows: int | None = None
    bytes: int | None = None
    format: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def table_uri(identifier: str, catalog: str = "spark_catalog",
              database: str = "default") -> str:
    """``sql://spark/<catalog>/<database>.<table>`` of a (possibly partial) table name."""
    parts = [p.strip("`") for p in identifier.split(".")]
    if len(parts) == 1:
        parts = [catalog, database, *parts]
    elif len(parts) == 2:
        parts = [catalog, *parts]
    return sql_uri("spark", parts[0], ".".join(parts[1:]))


def _class(node: Any) -> str:
    return str(node.getClass().getSimpleName())


def _seq(seq: Any) -> list[Any]:
    return [seq.apply(i) for i in range(seq.size())]


def _strings(seq: Any) -> list[str]:
    text = str(seq.mkString(SEPARATOR))
    return text.split(SEPARATOR) if text else []


def _schema_names(schema: Any) -> list[str]:
    return [str(f["name"]) for f in json.loads(str(schema.json())).get("fields", [])]


def _metric(holder: Any, name: str) -> int | None:
    metrics = holder.metrics()
    if not metrics.contains(name):
        return None
    value = metrics.apply(name).value()
    return int(value) if isinstance(value, int) and value >= 0 else None


def _option(value: Any) -> Any:
    return value.get() if value.isDefined() else None


class PlanReader:
    """Walks one executed plan; ``seen_caches`` persists across queries."""

    def __init__(self, jvm: Any, seen_caches: set[int]) -> None:
        self._jvm = jvm
        self._seen_caches = seen_caches
        self.found: list[SparkAccess] = []

    def read(self, plan: Any) -> list[SparkAccess]:
        stack = [plan]
        while stack:
            node = stack.pop()
            name = _class(node)
            handler = getattr(self, "_" + name, None)
            children = handler(node) if handler is not None else None
            if children is None:
                children = [*_seq(node.children()), *_seq(node.subqueries())]
            stack.extend(reversed(children))
        return self.found

    # -- plan structure --------------------------------------------------------------

    def _AdaptiveSparkPlanExec(self, node: Any) -> list[Any]:
        return [node.executedPlan()]

    def _CommandResultExec(self, node: Any) -> list[Any]:
        return [node.commandPhysicalPlan()]

    def _ResultQueryStageExec(self, node: Any) -> list[Any]:
        return [node.plan()]

    _ShuffleQueryStageExec = _BroadcastQueryStageExec = _ResultQueryStageExec

    def _TableCacheQueryStageExec(self, node: Any) -> list[Any]:
        return [node.plan()]

    def _ReusedExchangeExec(self, node: Any) -> list[Any]:
        return []  # the exchange it reuses is in the plan already

    _ReusedSubqueryExec = _ReusedExchangeExec

    def _InMemoryTableScanExec(self, node: Any) -> list[Any]:
        relation = node.relation()
        builder = relation.cacheBuilder()
        key = int(self._jvm.java.lang.System.identityHashCode(builder))
        if key in self._seen_caches or not builder.isCachedColumnBuffersLoaded():
            return []
        self._seen_caches.add(key)
        return [relation.cachedPlan()]

    # -- reads ------------------------------------------------------------------------

    def _FileSourceScanExec(self, node: Any) -> list[Any]:
        relation = node.relation()
        table = _option(node.tableIdentifier())
        if table is not None:
            uris = [table_uri(str(table.unquotedString()))]
        else:
            uris = [dataset_uri(p) for p in _strings(relation.location().rootPaths())]
        single = len(uris) == 1
        rows, size = _metric(node, "numOutputRows"), _metric(node, "filesSize")
        columns = _schema_names(node.schema())
        fmt = str(relation.fileFormat().toString()).lower()
        for uri in uris:
            access = SparkAccess(uri, "read", columns, rows if single else None,
                                 size if single else None, fmt)
            if not single:
                access.details["paths"] = len(uris)
            self.found.append(access)
        return []

    def _RowDataSourceScanExec(self, node: Any) -> list[Any]:
        relation = node.relation()
        if _class(relation) != "JDBCRelation":
            return []
        options = relation.jdbcOptions()
        self.found.append(SparkAccess(
            _jdbc_uri(str(options.url()), str(options.tableOrQuery())), "read",
            _schema_names(node.schema()), _metric(node, "numOutputRows"), None, "jdbc"))
        return []

    # -- writes -----------------------------------------------------------------------

    def _DataWritingCommandExec(self, node: Any) -> list[Any]:
        command = node.cmd()
        if _class(command) == "InsertIntoHadoopFsRelationCommand":
            table = _option(command.catalogTable())
            uri = (table_uri(str(table.identifier().unquotedString())) if table is not None
                   else dataset_uri(str(command.outputPath().toString())))
            access = SparkAccess(
                uri, "write", _strings(command.outputColumnNames()),
                _metric(command, "numOutputRows"), _metric(command, "numOutputBytes"),
                str(command.fileFormat().toString()).lower())
            access.details["mode"] = str(command.mode().toString()).lower()
            files = _metric(command, "numFiles")
            if files is not None:
                access.details["files"] = files
            self.found.append(access)
        return [node.child()]

    def _DropTableExec(self, node: Any) -> list[Any]:
        ident = node.ident()
        parts = [str(node.catalog().name()), *(str(n) for n in ident.namespace()),
                 str(ident.name())]
        self.found.append(SparkAccess(sql_uri("spark", parts[0], ".".join(parts[1:])),
                                      "delete"))
        return []

    def _ExecutedCommandExec(self, node: Any) -> list[Any]:
        command = node.cmd()
        kind = _class(command)
        if kind == "SaveIntoDataSourceCommand":
            self._save_into_data_source(command)
        elif kind == "DropTableCommand":
            self.found.append(SparkAccess(
                table_uri(str(command.tableName().unquotedString())), "delete"))
        return []

    def _save_into_data_source(self, command: Any) -> None:
        options = command.options()

        def option(key: str) -> str | None:
            return str(options.apply(key)) if options.contains(key) else None

        url, table, path = option("url"), option("dbtable"), option("path")
        if url is not None and table is not None:
            uri, fmt = _jdbc_uri(url, table), "jdbc"
        elif path is not None:
            uri, fmt = dataset_uri(path), None
        else:
            return
        access = SparkAccess(uri, "write", _schema_names(command.query().schema()),
                             None, None, fmt)
        access.details["mode"] = str(command.mode().toString()).lower()
        access.details["rowsNote"] = "this data source does not report rows written"
        self.found.append(access)


def _jdbc_uri(url: str, table: str) -> str:
    dialect, location = jdbc_location(url)
    if table.lstrip().startswith("("):  # the `query` option: not one table
        return sql_uri(dialect, location)
    return sql_uri(dialect, location, table)
